/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vnacct user API: the stages and copy kinds vnacct accounts, shared by the
 * module, its debugfs files and the userspace tools, and the generic netlink
 * family "vnacct" (commands, attributes, multicast group).  Kept in sync
 * with Documentation/netlink/specs/vnacct.yaml by scripts/ynl-check.sh.
 */
#ifndef _UAPI_LINUX_VNACCT_H
#define _UAPI_LINUX_VNACCT_H

/**
 * enum vnacct_stage - a section of a packet's path through the host
 *
 * A stage starts at one hook and lasts until the packet reaches the next
 * hook on its path; its residency is that time, in nanoseconds.
 *
 * @VNACCT_STAGE_GUEST_TX: guest frame to skb: from tun_get_user() or
 *	tun_sendmsg() (vhost-net) entry until the skb is handed to the stack;
 *	includes the copy out of guest memory
 * @VNACCT_STAGE_BACKLOG: netif_rx() until netif_receive_skb(): waiting in a
 *	CPU's backlog queue (veth, loopback, tun without NAPI)
 * @VNACCT_STAGE_RECEIVE: netif_receive_skb() until the next hook: protocol
 *	demultiplexing, IP input and forwarding, socket lookup
 * @VNACCT_STAGE_BRIDGE: br_handle_frame() until the bridge transmits on a
 *	port or passes the frame up to the host
 * @VNACCT_STAGE_QDISC: dev_queue_xmit() (net_dev_queue) until the driver's
 *	transmit starts (net_dev_start_xmit): queueing discipline
 * @VNACCT_STAGE_DRIVER: driver transmit until the next hook: veth and
 *	loopback hand-over to the peer, or leaving at a wire device
 * @VNACCT_STAGE_GUEST_QUEUE: queued in a tap's ring until the guest side
 *	(vhost-net or a tap fd reader) starts copying it
 * @VNACCT_STAGE_GUEST_RX: skb to guest: the copy into guest memory until
 *	the skb is freed
 * @VNACCT_STAGE_SOCKET: receive path until the payload is copied to a
 *	local socket's reader
 * @VNACCT_STAGE_COUNT: number of stages
 */
enum vnacct_stage {
	VNACCT_STAGE_GUEST_TX,
	VNACCT_STAGE_BACKLOG,
	VNACCT_STAGE_RECEIVE,
	VNACCT_STAGE_BRIDGE,
	VNACCT_STAGE_QDISC,
	VNACCT_STAGE_DRIVER,
	VNACCT_STAGE_GUEST_QUEUE,
	VNACCT_STAGE_GUEST_RX,
	VNACCT_STAGE_SOCKET,
	VNACCT_STAGE_COUNT,
};

/**
 * enum vnacct_copy - places where the host copies packet data
 * @VNACCT_COPY_FROM_GUEST: guest memory to skb (tun_get_user(), vhost-net
 *	transmit)
 * @VNACCT_COPY_TO_GUEST: skb to guest memory (tun_put_user())
 * @VNACCT_COPY_TO_SOCKET: skb to a local socket reader
 *	(skb_copy_datagram_iter())
 * @VNACCT_COPY_LINEARIZE: paged data pulled into the skb's linear area
 *	(__pskb_pull_tail(): skb_linearize(), pskb_may_pull())
 * @VNACCT_COPY_COW: the skb's head copied into a new buffer
 *	(pskb_expand_head(): skb_cow(), unclone, headroom for a header)
 * @VNACCT_COPY_SEGMENT: GSO packet segmented in software (skb_segment():
 *	the segments' linear parts, headers at least)
 * @VNACCT_COPY_COUNT: number of copy kinds
 */
enum vnacct_copy {
	VNACCT_COPY_FROM_GUEST,
	VNACCT_COPY_TO_GUEST,
	VNACCT_COPY_TO_SOCKET,
	VNACCT_COPY_LINEARIZE,
	VNACCT_COPY_COW,
	VNACCT_COPY_SEGMENT,
	VNACCT_COPY_COUNT,
};

/* generic netlink family name */
#define VNACCT_GENL_NAME	"vnacct"
/* generic netlink family version */
#define VNACCT_GENL_VERSION	1
/* multicast group of &VNACCT_CMD_THRESHOLD notifications */
#define VNACCT_MCGRP_ALERTS	"alerts"

/**
 * enum vnacct_flow_dir - direction of a flow relative to the guest
 * @VNACCT_FLOW_DIR_LOCAL: host-local traffic (loopback, host sockets)
 * @VNACCT_FLOW_DIR_TO_GUEST: traffic delivered toward a guest
 * @VNACCT_FLOW_DIR_FROM_GUEST: traffic sent by a guest
 */
enum vnacct_flow_dir {
	VNACCT_FLOW_DIR_LOCAL,
	VNACCT_FLOW_DIR_TO_GUEST,
	VNACCT_FLOW_DIR_FROM_GUEST,
};

/**
 * enum vnacct_cmd - generic netlink commands of the "vnacct" family
 * @VNACCT_CMD_UNSPEC: unused
 * @VNACCT_CMD_GET_STATS: do: the module's own counters, reply in
 *	&enum vnacct_attr_stats
 * @VNACCT_CMD_GET_FLOW: do: one flow by %VNACCT_A_FLOW_ID, reply in
 *	&enum vnacct_attr_flow
 * @VNACCT_CMD_DUMP_FLOWS: dump: every flow the caller may see, one message
 *	per flow in &enum vnacct_attr_flow; optional filter
 *	%VNACCT_A_FLOW_IFINDEX.  A dump during which flows were created or
 *	removed carries NLM_F_DUMP_INTR
 * @VNACCT_CMD_GET_CONFIG: do: run-time configuration, reply in
 *	&enum vnacct_attr_config
 * @VNACCT_CMD_SET_CONFIG: do, needs CAP_NET_ADMIN: change the attributes of
 *	&enum vnacct_attr_config present in the request; all or nothing
 * @VNACCT_CMD_RESET: do, needs CAP_NET_ADMIN: remove every flow
 * @VNACCT_CMD_THRESHOLD: notification on %VNACCT_MCGRP_ALERTS: a packet
 *	whose host residency exceeded %VNACCT_A_CONFIG_THRESHOLD_NS; flow key,
 *	%VNACCT_A_FLOW_RESIDENCY_NS and %VNACCT_A_FLOW_TIME_NS in
 *	&enum vnacct_attr_flow
 * @__VNACCT_CMD_MAX: number of commands
 * @VNACCT_CMD_MAX: highest command
 */
enum vnacct_cmd {
	VNACCT_CMD_UNSPEC,
	VNACCT_CMD_GET_STATS,
	VNACCT_CMD_GET_FLOW,
	VNACCT_CMD_DUMP_FLOWS,
	VNACCT_CMD_GET_CONFIG,
	VNACCT_CMD_SET_CONFIG,
	VNACCT_CMD_RESET,
	VNACCT_CMD_THRESHOLD,

	__VNACCT_CMD_MAX,
	VNACCT_CMD_MAX = __VNACCT_CMD_MAX - 1
};

/**
 * enum vnacct_attr_bucket - one histogram bucket (nested in
 *	%VNACCT_A_HIST_BUCKET); only buckets with a non-zero count are sent
 * @VNACCT_A_BUCKET_UNSPEC: unused
 * @VNACCT_A_BUCKET_PAD: padding for 64-bit attributes
 * @VNACCT_A_BUCKET_LOWER: u64, smallest value of the bucket, ns (inclusive)
 * @VNACCT_A_BUCKET_UPPER: u64, largest value of the bucket, ns (inclusive;
 *	U64_MAX for the overflow bucket)
 * @VNACCT_A_BUCKET_COUNT: u64, values in the bucket
 * @__VNACCT_A_BUCKET_MAX: number of attributes
 * @VNACCT_A_BUCKET_MAX: highest attribute
 */
enum vnacct_attr_bucket {
	VNACCT_A_BUCKET_UNSPEC,
	VNACCT_A_BUCKET_PAD,
	VNACCT_A_BUCKET_LOWER,
	VNACCT_A_BUCKET_UPPER,
	VNACCT_A_BUCKET_COUNT,

	__VNACCT_A_BUCKET_MAX,
	VNACCT_A_BUCKET_MAX = __VNACCT_A_BUCKET_MAX - 1
};

/**
 * enum vnacct_attr_hist - a histogram of nanosecond values (residency or
 *	delta-RTT); percentiles are computed by the module exactly as in debugfs
 * @VNACCT_A_HIST_UNSPEC: unused
 * @VNACCT_A_HIST_PAD: padding for 64-bit attributes
 * @VNACCT_A_HIST_COUNT: u64, values added
 * @VNACCT_A_HIST_SUM: u64, sum of the values, ns
 * @VNACCT_A_HIST_MIN: u64, smallest value, ns (0 when empty)
 * @VNACCT_A_HIST_MAX: u64, largest value, ns (0 when empty)
 * @VNACCT_A_HIST_P50: u64, 50th percentile, ns
 * @VNACCT_A_HIST_P90: u64, 90th percentile, ns
 * @VNACCT_A_HIST_P99: u64, 99th percentile, ns
 * @VNACCT_A_HIST_P999: u64, 99.9th percentile, ns
 * @VNACCT_A_HIST_BUCKET: nest, &enum vnacct_attr_bucket, repeated once per
 *	non-empty bucket in increasing order
 * @__VNACCT_A_HIST_MAX: number of attributes
 * @VNACCT_A_HIST_MAX_ATTR: highest attribute (named so because
 *	%VNACCT_A_HIST_MAX is the maximum value)
 */
enum vnacct_attr_hist {
	VNACCT_A_HIST_UNSPEC,
	VNACCT_A_HIST_PAD,
	VNACCT_A_HIST_COUNT,
	VNACCT_A_HIST_SUM,
	VNACCT_A_HIST_MIN,
	VNACCT_A_HIST_MAX,
	VNACCT_A_HIST_P50,
	VNACCT_A_HIST_P90,
	VNACCT_A_HIST_P99,
	VNACCT_A_HIST_P999,
	VNACCT_A_HIST_BUCKET,

	__VNACCT_A_HIST_MAX,
	VNACCT_A_HIST_MAX_ATTR = __VNACCT_A_HIST_MAX - 1
};

/**
 * enum vnacct_attr_stage - one stage of a flow (nested in
 *	%VNACCT_A_FLOW_STAGE); only stages the flow's packets went through
 * @VNACCT_A_STAGE_UNSPEC: unused
 * @VNACCT_A_STAGE_PAD: padding for 64-bit attributes
 * @VNACCT_A_STAGE_ID: u32, &enum vnacct_stage
 * @VNACCT_A_STAGE_PACKETS: u64, packets through the stage (the residency
 *	histogram's count)
 * @VNACCT_A_STAGE_BYTES: u64, IP bytes through the stage
 * @VNACCT_A_STAGE_RESIDENCY: nest, &enum vnacct_attr_hist, residency in
 *	the stage, ns
 * @__VNACCT_A_STAGE_MAX: number of attributes
 * @VNACCT_A_STAGE_MAX: highest attribute
 */
enum vnacct_attr_stage {
	VNACCT_A_STAGE_UNSPEC,
	VNACCT_A_STAGE_PAD,
	VNACCT_A_STAGE_ID,
	VNACCT_A_STAGE_PACKETS,
	VNACCT_A_STAGE_BYTES,
	VNACCT_A_STAGE_RESIDENCY,

	__VNACCT_A_STAGE_MAX,
	VNACCT_A_STAGE_MAX = __VNACCT_A_STAGE_MAX - 1
};

/**
 * enum vnacct_attr_copy - copies of one kind made for a flow (nested in
 *	%VNACCT_A_FLOW_COPY, one per &enum vnacct_copy)
 * @VNACCT_A_COPY_UNSPEC: unused
 * @VNACCT_A_COPY_PAD: padding for 64-bit attributes
 * @VNACCT_A_COPY_KIND: u32, &enum vnacct_copy
 * @VNACCT_A_COPY_BYTES: u64, bytes copied
 * @VNACCT_A_COPY_NS: u64, time spent copying, ns
 * @__VNACCT_A_COPY_MAX: number of attributes
 * @VNACCT_A_COPY_MAX: highest attribute
 */
enum vnacct_attr_copy {
	VNACCT_A_COPY_UNSPEC,
	VNACCT_A_COPY_PAD,
	VNACCT_A_COPY_KIND,
	VNACCT_A_COPY_BYTES,
	VNACCT_A_COPY_NS,

	__VNACCT_A_COPY_MAX,
	VNACCT_A_COPY_MAX = __VNACCT_A_COPY_MAX - 1
};

/**
 * enum vnacct_attr_flow - one flow (replies of %VNACCT_CMD_GET_FLOW and
 *	%VNACCT_CMD_DUMP_FLOWS, %VNACCT_CMD_THRESHOLD notifications)
 * @VNACCT_A_FLOW_UNSPEC: unused
 * @VNACCT_A_FLOW_PAD: padding for 64-bit attributes
 * @VNACCT_A_FLOW_ID: u32, the flow's slot (the ``id`` column of debugfs);
 *	request attribute of %VNACCT_CMD_GET_FLOW.  A slot is reused for a
 *	new flow after its flow expired or was reset
 * @VNACCT_A_FLOW_NETNS: u32, inode number of the guest-facing device's
 *	network namespace
 * @VNACCT_A_FLOW_IFINDEX: u32, guest-facing device (or the local device);
 *	in a %VNACCT_CMD_DUMP_FLOWS request: only flows of this device
 * @VNACCT_A_FLOW_DIR: u8, &enum vnacct_flow_dir
 * @VNACCT_A_FLOW_FAMILY: u8, AF_INET, AF_INET6, or 0 for non-IP
 * @VNACCT_A_FLOW_PROTO: u8, L4 protocol (IPPROTO_*), 0 for non-IP
 * @VNACCT_A_FLOW_ETHERTYPE: u16, network order, L3 protocol
 * @VNACCT_A_FLOW_SADDR: binary, source address, 4 (IPv4) or 16 (IPv6)
 *	bytes, network order; absent for non-IP
 * @VNACCT_A_FLOW_DADDR: binary, destination address, as @VNACCT_A_FLOW_SADDR
 * @VNACCT_A_FLOW_SPORT: u16, network order, source port or ICMP echo id
 * @VNACCT_A_FLOW_DPORT: u16, network order, destination port
 * @VNACCT_A_FLOW_FIRST_NS: u64, CLOCK_MONOTONIC time of the first packet
 * @VNACCT_A_FLOW_LAST_NS: u64, CLOCK_MONOTONIC time of the last packet
 * @VNACCT_A_FLOW_PACKETS: u64, packets that left the host or were dropped
 * @VNACCT_A_FLOW_BYTES: u64, IP bytes of those packets
 * @VNACCT_A_FLOW_DROPS: u64, packets dropped inside the host
 * @VNACCT_A_FLOW_DROP_REASON: u32, reason of the last drop (the kernel's
 *	enum skb_drop_reason)
 * @VNACCT_A_FLOW_GSO_PACKETS: u64, GSO super-packets among the packets
 * @VNACCT_A_FLOW_GSO_SEGS: u64, segments those super-packets stood for
 * @VNACCT_A_FLOW_COPY: nest, &enum vnacct_attr_copy, one per copy kind
 * @VNACCT_A_FLOW_RESIDENCY: nest, &enum vnacct_attr_hist, host residency
 *	(exit - entry), ns
 * @VNACCT_A_FLOW_STAGE: nest, &enum vnacct_attr_stage, repeated per stage
 * @VNACCT_A_FLOW_DRTT: nest, &enum vnacct_attr_hist, delta-RTT of the
 *	exchanges this flow requested, ns
 * @VNACCT_A_FLOW_BUCKETS_OMITTED: flag: the flow did not fit in one
 *	message with its buckets; the histograms carry summaries only
 * @VNACCT_A_FLOW_RESIDENCY_NS: u64, %VNACCT_CMD_THRESHOLD only: the host
 *	residency of the packet that crossed the threshold, ns
 * @VNACCT_A_FLOW_TIME_NS: u64, %VNACCT_CMD_THRESHOLD only: CLOCK_MONOTONIC
 *	time the crossing was seen
 * @__VNACCT_A_FLOW_MAX: number of attributes
 * @VNACCT_A_FLOW_MAX: highest attribute
 */
enum vnacct_attr_flow {
	VNACCT_A_FLOW_UNSPEC,
	VNACCT_A_FLOW_PAD,
	VNACCT_A_FLOW_ID,
	VNACCT_A_FLOW_NETNS,
	VNACCT_A_FLOW_IFINDEX,
	VNACCT_A_FLOW_DIR,
	VNACCT_A_FLOW_FAMILY,
	VNACCT_A_FLOW_PROTO,
	VNACCT_A_FLOW_ETHERTYPE,
	VNACCT_A_FLOW_SADDR,
	VNACCT_A_FLOW_DADDR,
	VNACCT_A_FLOW_SPORT,
	VNACCT_A_FLOW_DPORT,
	VNACCT_A_FLOW_FIRST_NS,
	VNACCT_A_FLOW_LAST_NS,
	VNACCT_A_FLOW_PACKETS,
	VNACCT_A_FLOW_BYTES,
	VNACCT_A_FLOW_DROPS,
	VNACCT_A_FLOW_DROP_REASON,
	VNACCT_A_FLOW_GSO_PACKETS,
	VNACCT_A_FLOW_GSO_SEGS,
	VNACCT_A_FLOW_COPY,
	VNACCT_A_FLOW_RESIDENCY,
	VNACCT_A_FLOW_STAGE,
	VNACCT_A_FLOW_DRTT,
	VNACCT_A_FLOW_BUCKETS_OMITTED,
	VNACCT_A_FLOW_RESIDENCY_NS,
	VNACCT_A_FLOW_TIME_NS,

	__VNACCT_A_FLOW_MAX,
	VNACCT_A_FLOW_MAX = __VNACCT_A_FLOW_MAX - 1
};

/**
 * enum vnacct_attr_hook - one hook's cost (nested in %VNACCT_A_STATS_HOOK)
 * @VNACCT_A_HOOK_UNSPEC: unused
 * @VNACCT_A_HOOK_PAD: padding for 64-bit attributes
 * @VNACCT_A_HOOK_NAME: string, probed tracepoint or function
 * @VNACCT_A_HOOK_KIND: string, "tracepoint", "kprobe" or "kretprobe"
 * @VNACCT_A_HOOK_HITS: u64, times the probe ran since load
 * @VNACCT_A_HOOK_NS: u64, ns spent in the probe since load
 * @__VNACCT_A_HOOK_MAX: number of attributes
 * @VNACCT_A_HOOK_MAX: highest attribute
 */
enum vnacct_attr_hook {
	VNACCT_A_HOOK_UNSPEC,
	VNACCT_A_HOOK_PAD,
	VNACCT_A_HOOK_NAME,
	VNACCT_A_HOOK_KIND,
	VNACCT_A_HOOK_HITS,
	VNACCT_A_HOOK_NS,

	__VNACCT_A_HOOK_MAX,
	VNACCT_A_HOOK_MAX = __VNACCT_A_HOOK_MAX - 1
};

/**
 * enum vnacct_attr_stats - the module's own counters (%VNACCT_CMD_GET_STATS),
 *	the same as debugfs ``stats``; module-wide, not per namespace
 * @VNACCT_A_STATS_UNSPEC: unused
 * @VNACCT_A_STATS_PAD: padding for 64-bit attributes
 * @VNACCT_A_STATS_PACKETS_TRACKED: u64, packets vnacct started to follow
 * @VNACCT_A_STATS_PACKETS_EXITED: u64, packets followed to their exit
 * @VNACCT_A_STATS_PACKETS_UNTRACKED: u64, packets not followed (tracker full)
 * @VNACCT_A_STATS_PACKETS_MIDPATH: u64, skbs first seen mid-path
 * @VNACCT_A_STATS_PACKETS_SAMPLED_OUT: u64, packets skipped by sampling
 * @VNACCT_A_STATS_PACKETS_IN_FLIGHT: u32, packets being followed now
 * @VNACCT_A_STATS_FLOWS: u32, flows in the table
 * @VNACCT_A_STATS_FLOWS_MAX: u32, capacity of the flow table
 * @VNACCT_A_STATS_FLOWS_FULL: u64, exits lost because the table was full
 * @VNACCT_A_STATS_FLOWS_EVICTED: u64, idle flows removed
 * @VNACCT_A_STATS_MEMORY_BYTES: u64, memory allocated at load
 * @VNACCT_A_STATS_ALERTS_SENT: u64, %VNACCT_CMD_THRESHOLD notifications sent
 * @VNACCT_A_STATS_ALERTS_DROPPED: u64, threshold crossings not notified
 *	(alert queue full: rate limit)
 * @VNACCT_A_STATS_HOOK: nest, &enum vnacct_attr_hook, repeated per hook
 * @VNACCT_A_STATS_PACKETS_LOST_STALE: u64, followed packets lost: tracker
 *	entries reclaimed because their skb was freed unseen
 * @VNACCT_A_STATS_PACKETS_LOST_REUSED: u64, followed packets lost: tracker
 *	entries reset because a new skb got the same address
 * @VNACCT_A_STATS_PACKETS_CLONED: u64, clones (and private copies)
 *	followed from the frame they were made from
 * @VNACCT_A_STATS_KPROBES_MISSED: u64, hits of the module's kprobes and
 *	kretprobes that the kprobes core skipped (re-entered probe, or every
 *	kretprobe instance in use): packets those hooks did not see
 * @__VNACCT_A_STATS_MAX: number of attributes
 * @VNACCT_A_STATS_MAX: highest attribute
 */
enum vnacct_attr_stats {
	VNACCT_A_STATS_UNSPEC,
	VNACCT_A_STATS_PAD,
	VNACCT_A_STATS_PACKETS_TRACKED,
	VNACCT_A_STATS_PACKETS_EXITED,
	VNACCT_A_STATS_PACKETS_UNTRACKED,
	VNACCT_A_STATS_PACKETS_MIDPATH,
	VNACCT_A_STATS_PACKETS_SAMPLED_OUT,
	VNACCT_A_STATS_PACKETS_IN_FLIGHT,
	VNACCT_A_STATS_FLOWS,
	VNACCT_A_STATS_FLOWS_MAX,
	VNACCT_A_STATS_FLOWS_FULL,
	VNACCT_A_STATS_FLOWS_EVICTED,
	VNACCT_A_STATS_MEMORY_BYTES,
	VNACCT_A_STATS_ALERTS_SENT,
	VNACCT_A_STATS_ALERTS_DROPPED,
	VNACCT_A_STATS_HOOK,
	VNACCT_A_STATS_PACKETS_LOST_STALE,
	VNACCT_A_STATS_PACKETS_LOST_REUSED,
	VNACCT_A_STATS_PACKETS_CLONED,
	VNACCT_A_STATS_KPROBES_MISSED,

	__VNACCT_A_STATS_MAX,
	VNACCT_A_STATS_MAX = __VNACCT_A_STATS_MAX - 1
};

/**
 * enum vnacct_attr_config - run-time configuration (%VNACCT_CMD_GET_CONFIG
 *	reply, %VNACCT_CMD_SET_CONFIG request)
 * @VNACCT_A_CONFIG_UNSPEC: unused
 * @VNACCT_A_CONFIG_PAD: padding for 64-bit attributes
 * @VNACCT_A_CONFIG_ENABLED: u8, 0 or 1: follow new packets
 * @VNACCT_A_CONFIG_SAMPLE: u32, 1 .. 65536: follow one packet in N
 * @VNACCT_A_CONFIG_FLOW_TIMEOUT: u32, 1 .. 86400: idle seconds after which a
 *	flow is removed
 * @VNACCT_A_CONFIG_FILTER_IFINDEX: u32, only record flows of this device
 *	(0: all devices); on set, looked up in the caller's namespace
 * @VNACCT_A_CONFIG_FILTER_NETNS: u32, reply only: namespace (inode) of the
 *	filter device
 * @VNACCT_A_CONFIG_FILTER_IFNAME: string, set only: filter on the device of
 *	this name in the caller's namespace (exclusive with
 *	@VNACCT_A_CONFIG_FILTER_IFINDEX)
 * @VNACCT_A_CONFIG_THRESHOLD_NS: u64, 0 .. 3600 s in ns: send a
 *	%VNACCT_CMD_THRESHOLD notification for each packet whose host
 *	residency is larger (0: off)
 * @__VNACCT_A_CONFIG_MAX: number of attributes
 * @VNACCT_A_CONFIG_MAX: highest attribute
 */
enum vnacct_attr_config {
	VNACCT_A_CONFIG_UNSPEC,
	VNACCT_A_CONFIG_PAD,
	VNACCT_A_CONFIG_ENABLED,
	VNACCT_A_CONFIG_SAMPLE,
	VNACCT_A_CONFIG_FLOW_TIMEOUT,
	VNACCT_A_CONFIG_FILTER_IFINDEX,
	VNACCT_A_CONFIG_FILTER_NETNS,
	VNACCT_A_CONFIG_FILTER_IFNAME,
	VNACCT_A_CONFIG_THRESHOLD_NS,

	__VNACCT_A_CONFIG_MAX,
	VNACCT_A_CONFIG_MAX = __VNACCT_A_CONFIG_MAX - 1
};

#endif /* _UAPI_LINUX_VNACCT_H */
