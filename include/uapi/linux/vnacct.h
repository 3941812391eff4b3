/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * vnacct user API: the stages and copy kinds vnacct accounts, shared by the
 * module, its debugfs files and the userspace tools.
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
 * @VNACCT_COPY_COUNT: number of copy kinds
 */
enum vnacct_copy {
	VNACCT_COPY_FROM_GUEST,
	VNACCT_COPY_TO_GUEST,
	VNACCT_COPY_TO_SOCKET,
	VNACCT_COPY_COUNT,
};

#endif /* _UAPI_LINUX_VNACCT_H */
