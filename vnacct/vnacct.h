/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct internal interfaces shared between the module's files: the hook
 * table (hooks.c), the module's own cost counters, and the debugfs front end
 * (debugfs.c).
 */
#ifndef _VNACCT_H
#define _VNACCT_H

#include <linux/compiler.h>
#include <linux/percpu.h>
#include <linux/types.h>

/**
 * enum vnacct_hook_id - every point where vnacct observes packets
 * @VNACCT_HOOK_NET_DEV_QUEUE: tracepoint net:net_dev_queue (dev_queue_xmit)
 * @VNACCT_HOOK_NET_DEV_START_XMIT: tracepoint net:net_dev_start_xmit (driver
 *	transmit: tun_net_xmit, veth_xmit, loopback_xmit, bridge device)
 * @VNACCT_HOOK_NET_DEV_XMIT: tracepoint net:net_dev_xmit (driver returned)
 * @VNACCT_HOOK_NETIF_RX: tracepoint net:netif_rx (backlog enqueue)
 * @VNACCT_HOOK_NETIF_RECEIVE_SKB: tracepoint net:netif_receive_skb
 * @VNACCT_HOOK_NAPI_GRO_RECEIVE_ENTRY: tracepoint net:napi_gro_receive_entry
 *	(an skb handed to GRO: veth or tun with NAPI)
 * @VNACCT_HOOK_CONSUME_SKB: tracepoint skb:consume_skb (normal free)
 * @VNACCT_HOOK_KFREE_SKB: tracepoint skb:kfree_skb (drop, with reason)
 * @VNACCT_HOOK_SKB_COPY_DATAGRAM_IOVEC: tracepoint skb:skb_copy_datagram_iovec
 *	(skb payload copied to a user/guest iovec)
 * @VNACCT_HOOK_TUN_GET_USER: kretprobe tun_get_user (guest frame -> skb)
 * @VNACCT_HOOK_TUN_SENDMSG: kretprobe tun_sendmsg (vhost-net tx into tap)
 * @VNACCT_HOOK_TUN_RECVMSG: kprobe tun_recvmsg (vhost-net rx from the tap)
 * @VNACCT_HOOK_TUN_DO_READ: kprobe tun_do_read (tap fd read, QEMU w/o vhost)
 * @VNACCT_HOOK_TUN_NET_XMIT: kprobe tun_net_xmit (skb queued toward a guest)
 * @VNACCT_HOOK_VHOST_HANDLE_TX: kprobe handle_tx (vhost worker, guest tx)
 * @VNACCT_HOOK_VHOST_HANDLE_RX: kprobe handle_rx (vhost worker, guest rx)
 * @VNACCT_HOOK_BR_HANDLE_FRAME: kretprobe br_handle_frame (bridge port rx)
 * @VNACCT_HOOK_BR_FORWARD: kprobe __br_forward (bridge sends a frame, or a
 *	clone of it, to one port)
 * @VNACCT_HOOK_BR_DEV_QUEUE_PUSH_XMIT: kprobe br_dev_queue_push_xmit
 *	(bridge hands the frame to a port's dev_queue_xmit)
 * @VNACCT_HOOK_BR_PASS_FRAME_UP: kprobe br_pass_frame_up (to the host stack)
 * @VNACCT_HOOK_KFREE_SKB_PARTIAL: kprobe kfree_skb_partial (an skb merged
 *	into another: TCP coalescing, GRO)
 * @VNACCT_HOOK_KFREE_SKB_DIRECT: kprobe __kfree_skb (a free with no
 *	tracepoint: TCP's pure ACKs, read and collapsed data)
 * @VNACCT_HOOK_SKB_CONSUME_UDP: kprobe skb_consume_udp (a UDP reader took a
 *	datagram; linear ones are copied without skb_copy_datagram_iter)
 * @VNACCT_HOOK_SKB_COPY_DATAGRAM_ITER: kretprobe skb_copy_datagram_iter (the
 *	copy into a guest or socket reader, timed)
 * @VNACCT_HOOK_PSKB_PULL_TAIL: kretprobe __pskb_pull_tail (paged data pulled
 *	into the linear area, timed)
 * @VNACCT_HOOK_PSKB_EXPAND_HEAD: kretprobe pskb_expand_head (head copied to
 *	a new buffer, timed)
 * @VNACCT_HOOK_SKB_SEGMENT: kretprobe skb_segment (software segmentation,
 *	timed)
 * @VNACCT_HOOK_SKB_COPY: kretprobe skb_copy (a private copy of a shared
 *	skb, e.g. skb_unshare(): followed into the copy, timed)
 * @VNACCT_HOOK_PSKB_COPY: kretprobe __pskb_copy_fclone (pskb_copy(): the
 *	head copied, the pages shared; followed, timed)
 * @VNACCT_HOOK_SKB_COPY_EXPAND: kretprobe skb_copy_expand (a copy with
 *	more head or tail room; followed, timed)
 * @VNACCT_HOOK_COUNT: number of hooks
 */
enum vnacct_hook_id {
	VNACCT_HOOK_NET_DEV_QUEUE,
	VNACCT_HOOK_NET_DEV_START_XMIT,
	VNACCT_HOOK_NET_DEV_XMIT,
	VNACCT_HOOK_NETIF_RX,
	VNACCT_HOOK_NETIF_RECEIVE_SKB,
	VNACCT_HOOK_NAPI_GRO_RECEIVE_ENTRY,
	VNACCT_HOOK_CONSUME_SKB,
	VNACCT_HOOK_KFREE_SKB,
	VNACCT_HOOK_SKB_COPY_DATAGRAM_IOVEC,
	VNACCT_HOOK_TUN_GET_USER,
	VNACCT_HOOK_TUN_SENDMSG,
	VNACCT_HOOK_TUN_RECVMSG,
	VNACCT_HOOK_TUN_DO_READ,
	VNACCT_HOOK_TUN_NET_XMIT,
	VNACCT_HOOK_VHOST_HANDLE_TX,
	VNACCT_HOOK_VHOST_HANDLE_RX,
	VNACCT_HOOK_BR_HANDLE_FRAME,
	VNACCT_HOOK_BR_FORWARD,
	VNACCT_HOOK_BR_DEV_QUEUE_PUSH_XMIT,
	VNACCT_HOOK_BR_PASS_FRAME_UP,
	VNACCT_HOOK_KFREE_SKB_PARTIAL,
	VNACCT_HOOK_KFREE_SKB_DIRECT,
	VNACCT_HOOK_SKB_CONSUME_UDP,
	VNACCT_HOOK_SKB_COPY_DATAGRAM_ITER,
	VNACCT_HOOK_PSKB_PULL_TAIL,
	VNACCT_HOOK_PSKB_EXPAND_HEAD,
	VNACCT_HOOK_SKB_SEGMENT,
	VNACCT_HOOK_SKB_COPY,
	VNACCT_HOOK_PSKB_COPY,
	VNACCT_HOOK_SKB_COPY_EXPAND,
	VNACCT_HOOK_COUNT,
};

/**
 * struct vnacct_hook_cost - one hook's cost on one CPU
 * @hits: times the probe ran
 * @ns: nanoseconds spent inside the probe (local_clock()), estimated from
 *	one timed hit in VNACCT_COST_SAMPLE (hooks.c)
 *
 * Per-CPU so the packet path never shares a cache line; summed on read.
 */
struct vnacct_hook_cost {
	u64 hits;
	u64 ns;
};

/**
 * struct vnacct_hook_stats - snapshot of one hook's counters, all CPUs
 * @name: probed tracepoint or function name
 * @kind: "tracepoint", "kprobe" or "kretprobe"
 * @hits: times the probe ran since load
 * @ns: nanoseconds spent in the probe since load
 */
struct vnacct_hook_stats {
	const char *name;
	const char *kind;
	u64 hits;
	u64 ns;
};

int vnacct_hooks_init(void);
void vnacct_hooks_exit(void);
u64 vnacct_hooks_missed(void);
void vnacct_hook_stats(enum vnacct_hook_id id, struct vnacct_hook_stats *st);

int vnacct_debugfs_init(void);
void vnacct_debugfs_exit(void);

struct vnacct_flow;

extern u64 vnacct_nl_threshold_ns;
void vnacct_nl_alert(const struct vnacct_flow *f, u64 ns);
void vnacct_nl_flows_changed(void);
int vnacct_netlink_init(void);
void vnacct_netlink_exit(void);

/**
 * vnacct_nl_residency() - threshold check for one packet's host residency
 * @f: the packet's flow
 * @ns: its host residency (exit - entry), ns
 *
 * For the packet path, once per packet committed to a flow: one load and
 * a compare when alerts are off or the packet is under the threshold;
 * above it, vnacct_nl_alert() queues a notification without allocating.
 * Context: any, including hard interrupts.
 */
static inline void vnacct_nl_residency(const struct vnacct_flow *f, u64 ns)
{
	u64 threshold = READ_ONCE(vnacct_nl_threshold_ns);

	if (unlikely(threshold && ns > threshold))
		vnacct_nl_alert(f, ns);
}

#endif /* _VNACCT_H */
