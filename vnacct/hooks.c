// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct hooks: finds the tracepoints and kernel functions vnacct observes,
 * attaches a probe to each, and counts every probe's hits and cost.
 *
 * Tracepoints are looked up by name (only kfree_skb and napi_poll are
 * exported to modules); the probe prototypes are checked at compile time
 * against the running kernel's trace/events headers.  tun/tap, vhost-net and
 * the bridge have no per-packet tracepoints, so their functions get kprobes.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kmod.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/notifier.h>
#include <linux/sched/clock.h>
#include <linux/string.h>
#include <linux/tracepoint.h>
#include <trace/events/net.h>
#include <trace/events/skb.h>

#include "acct.h"
#include "vnacct.h"

/*
 * Written only by the CPU that runs the probe, with preemption disabled
 * (tracepoint and kprobe handlers both run so), hence no lock and no atomic.
 */
static DEFINE_PER_CPU(struct vnacct_hook_cost, vnacct_cost[VNACCT_HOOK_COUNT]);

/*
 * A probe is timed on its first hit on each CPU and on every
 * VNACCT_COST_SAMPLE-th after that, and the time is scaled up: timing every
 * hit would take two clock reads, more than most probes' own work.
 */
#define VNACCT_COST_SAMPLE	16

/* Returns the start time of a timed hit, 0 for the others. */
static __always_inline u64 vnacct_probe_begin(enum vnacct_hook_id id)
{
	u64 hit = this_cpu_inc_return(vnacct_cost[id].hits);

	return (hit - 1) % VNACCT_COST_SAMPLE ? 0 : local_clock();
}

static __always_inline void vnacct_probe_end(enum vnacct_hook_id id, u64 t0)
{
	if (t0)
		this_cpu_add(vnacct_cost[id].ns,
			     (local_clock() - t0) * VNACCT_COST_SAMPLE);
}

/* Tracepoint probes. */

static void vnacct_tp_net_dev_queue(void *data, struct sk_buff *skb)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_NET_DEV_QUEUE);

	vnacct_acct_queue(skb);
	vnacct_probe_end(VNACCT_HOOK_NET_DEV_QUEUE, t0);
}

static void vnacct_tp_net_dev_start_xmit(void *data, const struct sk_buff *skb,
					 const struct net_device *dev)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_NET_DEV_START_XMIT);

	vnacct_acct_start_xmit(skb, dev);
	vnacct_probe_end(VNACCT_HOOK_NET_DEV_START_XMIT, t0);
}

static void vnacct_tp_net_dev_xmit(void *data, struct sk_buff *skb, int rc,
				   struct net_device *dev, unsigned int skb_len)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_NET_DEV_XMIT);

	vnacct_probe_end(VNACCT_HOOK_NET_DEV_XMIT, t0);
}

static void vnacct_tp_netif_rx(void *data, struct sk_buff *skb)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_NETIF_RX);

	vnacct_acct_rx(skb, true);
	vnacct_probe_end(VNACCT_HOOK_NETIF_RX, t0);
}

/*
 * A NIC's NAPI receive, veth with NAPI (GRO or XDP on the peer) and tun in
 * NAPI mode hand skbs to GRO, which may merge them before
 * netif_receive_skb (vnacct_acct_gro() says what is followed from where).
 */
static void vnacct_tp_napi_gro_receive_entry(void *data,
					     const struct sk_buff *skb)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_NAPI_GRO_RECEIVE_ENTRY);

	vnacct_acct_gro(skb);
	vnacct_probe_end(VNACCT_HOOK_NAPI_GRO_RECEIVE_ENTRY, t0);
}

static void vnacct_tp_netif_receive_skb(void *data, struct sk_buff *skb)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_NETIF_RECEIVE_SKB);

	vnacct_acct_rx(skb, false);
	vnacct_probe_end(VNACCT_HOOK_NETIF_RECEIVE_SKB, t0);
}

/*
 * consume_skb gained its call site in 6.3, kfree_skb its rx_sk in 6.11;
 * Kbuild reads the kernel's own header to tell which this one has.
 */
#ifdef VNACCT_HAVE_CONSUME_SKB_LOCATION
static void vnacct_tp_consume_skb(void *data, struct sk_buff *skb,
				  void *location)
#else
static void vnacct_tp_consume_skb(void *data, struct sk_buff *skb)
#endif
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_CONSUME_SKB);

	vnacct_acct_free(skb, false, 0);
	vnacct_probe_end(VNACCT_HOOK_CONSUME_SKB, t0);
}

#ifdef VNACCT_HAVE_KFREE_SKB_RX_SK
static void vnacct_tp_kfree_skb(void *data, struct sk_buff *skb,
				void *location, enum skb_drop_reason reason,
				struct sock *rx_sk)
#else
static void vnacct_tp_kfree_skb(void *data, struct sk_buff *skb,
				void *location, enum skb_drop_reason reason)
#endif
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_KFREE_SKB);

	vnacct_acct_free(skb, true, reason);
	vnacct_probe_end(VNACCT_HOOK_KFREE_SKB, t0);
}

static void vnacct_tp_skb_copy_datagram_iovec(void *data,
					      const struct sk_buff *skb,
					      int len)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_SKB_COPY_DATAGRAM_IOVEC);

	vnacct_probe_end(VNACCT_HOOK_SKB_COPY_DATAGRAM_IOVEC, t0);
}

/*
 * A probe whose prototype does not match the tracepoint's would be called
 * with the wrong arguments; make that a build failure on every kernel the
 * module is compiled for.  register_trace_<tp>() is only named inside
 * typeof, so the unexported tracepoint symbol is never referenced.
 */
#define VNACCT_CHECK_PROBE(tp, probe)					\
	static_assert(__same_type(register_trace_##tp,			\
				  int (typeof(probe) *, void *)),	\
		      "probe " #probe " does not match tracepoint " #tp)

VNACCT_CHECK_PROBE(net_dev_queue, vnacct_tp_net_dev_queue);
VNACCT_CHECK_PROBE(net_dev_start_xmit, vnacct_tp_net_dev_start_xmit);
VNACCT_CHECK_PROBE(net_dev_xmit, vnacct_tp_net_dev_xmit);
VNACCT_CHECK_PROBE(netif_rx, vnacct_tp_netif_rx);
VNACCT_CHECK_PROBE(netif_receive_skb, vnacct_tp_netif_receive_skb);
VNACCT_CHECK_PROBE(napi_gro_receive_entry, vnacct_tp_napi_gro_receive_entry);
VNACCT_CHECK_PROBE(consume_skb, vnacct_tp_consume_skb);
VNACCT_CHECK_PROBE(kfree_skb, vnacct_tp_kfree_skb);
VNACCT_CHECK_PROBE(skb_copy_datagram_iovec, vnacct_tp_skb_copy_datagram_iovec);

/**
 * struct vnacct_tp_hook - a tracepoint vnacct attaches to
 * @id: hook id (index into the cost counters)
 * @name: tracepoint name
 * @probe: probe function, checked by VNACCT_CHECK_PROBE
 * @tp: the kernel's tracepoint, found by name at load
 * @attached: probe registered and must be unregistered at unload
 */
struct vnacct_tp_hook {
	enum vnacct_hook_id id;
	const char *name;
	void *probe;
	struct tracepoint *tp;
	bool attached;
};

#define VNACCT_TP(hook, tpname) {					\
	.id = VNACCT_HOOK_##hook,					\
	.name = #tpname,						\
	.probe = vnacct_tp_##tpname,					\
}

static struct vnacct_tp_hook vnacct_tps[] = {
	VNACCT_TP(NET_DEV_QUEUE, net_dev_queue),
	VNACCT_TP(NET_DEV_START_XMIT, net_dev_start_xmit),
	VNACCT_TP(NET_DEV_XMIT, net_dev_xmit),
	VNACCT_TP(NETIF_RX, netif_rx),
	VNACCT_TP(NETIF_RECEIVE_SKB, netif_receive_skb),
	VNACCT_TP(NAPI_GRO_RECEIVE_ENTRY, napi_gro_receive_entry),
	VNACCT_TP(CONSUME_SKB, consume_skb),
	VNACCT_TP(KFREE_SKB, kfree_skb),
	VNACCT_TP(SKB_COPY_DATAGRAM_IOVEC, skb_copy_datagram_iovec),
};

/* Kprobes and kretprobes. */

/**
 * struct vnacct_copy_call - a skb_copy_datagram_iter() call in progress
 *	(kretprobe instance data)
 * @skb: skb copied from
 * @len: bytes asked for
 * @t0: start of the call, ns
 */
struct vnacct_copy_call {
	const struct sk_buff *skb;
	u32 len;
	u64 t0;
};

/**
 * struct vnacct_kp_hook - a kernel function vnacct probes
 * @id: hook id (index into the cost counters)
 * @module: module that owns the function (loaded on demand), or NULL
 * @func: the probed function
 * @pre: kprobe handler at function entry, or NULL for a kretprobe
 * @entry: kretprobe entry handler
 * @ret: kretprobe return handler
 * @data_size: kretprobe per-call data
 * @kp: the kprobe (when @pre), set up afresh before every registration
 * @krp: the kretprobe (when @ret)
 * @attached: registered and must be unregistered at unload
 */
struct vnacct_kp_hook {
	enum vnacct_hook_id id;
	const char *module;
	const char *func;
	kprobe_pre_handler_t pre;
	kretprobe_handler_t entry;
	kretprobe_handler_t ret;
	size_t data_size;
	union {
		struct kprobe kp;
		struct kretprobe krp;
	};
	bool attached;
};

static int vnacct_kp_count(struct kprobe *kp, struct pt_regs *regs);
static int vnacct_kp_bridge_out(struct kprobe *kp, struct pt_regs *regs);
static int vnacct_kp_free(struct kprobe *kp, struct pt_regs *regs);
static int vnacct_kp_udp_consumed(struct kprobe *kp, struct pt_regs *regs);
static int vnacct_krp_bridge_enter(struct kretprobe_instance *ri,
				   struct pt_regs *regs);
static int vnacct_krp_bridge_leave(struct kretprobe_instance *ri,
				   struct pt_regs *regs);
static int vnacct_krp_tun_enter(struct kretprobe_instance *ri,
				struct pt_regs *regs);
static int vnacct_krp_tun_leave(struct kretprobe_instance *ri,
				struct pt_regs *regs);
static int vnacct_krp_copy_enter(struct kretprobe_instance *ri,
				 struct pt_regs *regs);
static int vnacct_krp_copy_done(struct kretprobe_instance *ri,
				struct pt_regs *regs);
static int vnacct_krp_kcopy_enter(struct kretprobe_instance *ri,
				  struct pt_regs *regs);
static int vnacct_krp_kcopy_done(struct kretprobe_instance *ri,
				 struct pt_regs *regs);
static int vnacct_krp_skb_copy_enter(struct kretprobe_instance *ri,
				     struct pt_regs *regs);
static int vnacct_krp_skb_copy_done(struct kretprobe_instance *ri,
				    struct pt_regs *regs);

#define VNACCT_KP(hook, mod, fn, handler) {				\
	.id = VNACCT_HOOK_##hook,					\
	.module = mod,							\
	.func = #fn,							\
	.pre = handler,							\
}

#define VNACCT_KRP(hook, mod, fn, on_entry, on_return, data) {		\
	.id = VNACCT_HOOK_##hook,					\
	.module = mod,							\
	.func = #fn,							\
	.entry = on_entry,						\
	.ret = on_return,						\
	.data_size = data,						\
}

static struct vnacct_kp_hook vnacct_kps[] = {
	VNACCT_KRP(TUN_GET_USER, "tun", tun_get_user, vnacct_krp_tun_enter,
		   vnacct_krp_tun_leave, 0),
	VNACCT_KRP(TUN_SENDMSG, "tun", tun_sendmsg, vnacct_krp_tun_enter,
		   vnacct_krp_tun_leave, 0),
	VNACCT_KP(TUN_RECVMSG, "tun", tun_recvmsg, vnacct_kp_count),
	VNACCT_KP(TUN_DO_READ, "tun", tun_do_read, vnacct_kp_count),
	VNACCT_KP(TUN_NET_XMIT, "tun", tun_net_xmit, vnacct_kp_count),
	VNACCT_KP(VHOST_HANDLE_TX, "vhost_net", handle_tx, vnacct_kp_count),
	VNACCT_KP(VHOST_HANDLE_RX, "vhost_net", handle_rx, vnacct_kp_count),
	VNACCT_KRP(BR_HANDLE_FRAME, "bridge", br_handle_frame,
		   vnacct_krp_bridge_enter, vnacct_krp_bridge_leave, 0),
	VNACCT_KP(BR_FORWARD, "bridge", __br_forward, vnacct_kp_bridge_out),
	VNACCT_KP(BR_DEV_QUEUE_PUSH_XMIT, "bridge", br_dev_queue_push_xmit,
		  vnacct_kp_count),
	VNACCT_KP(BR_PASS_FRAME_UP, "bridge", br_pass_frame_up,
		  vnacct_kp_bridge_out),
	VNACCT_KP(KFREE_SKB_PARTIAL, NULL, kfree_skb_partial, vnacct_kp_free),
	VNACCT_KP(KFREE_SKB_DIRECT, NULL, __kfree_skb, vnacct_kp_free),
	VNACCT_KP(SKB_CONSUME_UDP, NULL, skb_consume_udp,
		  vnacct_kp_udp_consumed),
	VNACCT_KRP(SKB_COPY_DATAGRAM_ITER, NULL, skb_copy_datagram_iter,
		   vnacct_krp_copy_enter, vnacct_krp_copy_done,
		   sizeof(struct vnacct_copy_call)),
	VNACCT_KRP(PSKB_PULL_TAIL, NULL, __pskb_pull_tail,
		   vnacct_krp_kcopy_enter, vnacct_krp_kcopy_done,
		   sizeof(struct vnacct_copy_call)),
	VNACCT_KRP(PSKB_EXPAND_HEAD, NULL, pskb_expand_head,
		   vnacct_krp_kcopy_enter, vnacct_krp_kcopy_done,
		   sizeof(struct vnacct_copy_call)),
	VNACCT_KRP(SKB_SEGMENT, NULL, skb_segment,
		   vnacct_krp_kcopy_enter, vnacct_krp_kcopy_done,
		   sizeof(struct vnacct_copy_call)),
	VNACCT_KRP(SKB_COPY, NULL, skb_copy,
		   vnacct_krp_skb_copy_enter, vnacct_krp_skb_copy_done,
		   sizeof(struct vnacct_copy_call)),
	VNACCT_KRP(PSKB_COPY, NULL, __pskb_copy_fclone,
		   vnacct_krp_skb_copy_enter, vnacct_krp_skb_copy_done,
		   sizeof(struct vnacct_copy_call)),
	VNACCT_KRP(SKB_COPY_EXPAND, NULL, skb_copy_expand,
		   vnacct_krp_skb_copy_enter, vnacct_krp_skb_copy_done,
		   sizeof(struct vnacct_copy_call)),
};

static int vnacct_kp_count(struct kprobe *kp, struct pt_regs *regs)
{
	struct vnacct_kp_hook *h = container_of(kp, struct vnacct_kp_hook, kp);
	u64 t0 = vnacct_probe_begin(h->id);

	vnacct_probe_end(h->id, t0);
	return 0;
}

/* br_handle_frame(struct sk_buff **pskb): the bridge's rx_handler. */
static int vnacct_krp_bridge_enter(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	struct sk_buff **pskb = (void *)regs_get_kernel_argument(regs, 0);
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_BR_HANDLE_FRAME);

	vnacct_acct_bridge(*pskb);
	vnacct_probe_end(VNACCT_HOOK_BR_HANDLE_FRAME, t0);
	return 0;
}

static int vnacct_krp_bridge_leave(struct kretprobe_instance *ri,
				   struct pt_regs *regs)
{
	vnacct_acct_bridge(NULL);
	return 0;
}

/*
 * __br_forward(to, skb, local_orig) and br_pass_frame_up(skb, ...): the
 * skb may be a clone made for flooding or local delivery.
 */
static int vnacct_kp_bridge_out(struct kprobe *kp, struct pt_regs *regs)
{
	struct vnacct_kp_hook *h = container_of(kp, struct vnacct_kp_hook, kp);
	unsigned int arg = h->id == VNACCT_HOOK_BR_FORWARD ? 1 : 0;
	u64 t0 = vnacct_probe_begin(h->id);

	vnacct_acct_bridge_out((void *)regs_get_kernel_argument(regs, arg));
	vnacct_probe_end(h->id, t0);
	return 0;
}

/*
 * kfree_skb_partial(skb, head_stolen): the skb's data now belongs to
 * another skb (TCP receive-queue coalescing, GRO).  __kfree_skb(skb): frees
 * without a tracepoint (TCP's pure ACKs in the fast path, data a reader
 * has taken, collapsed data); unseen, such an skb's entry would outlive it
 * and a new skb at the same address would inherit its state.  Either way
 * the packet ends here, delivered.  consume_skb() and kfree_skb_partial()
 * call __kfree_skb() too: the entry is gone by then, the lookup finds
 * nothing.
 */
static int vnacct_kp_free(struct kprobe *kp, struct pt_regs *regs)
{
	struct vnacct_kp_hook *h = container_of(kp, struct vnacct_kp_hook, kp);
	u64 t0 = vnacct_probe_begin(h->id);

	vnacct_acct_free((void *)regs_get_kernel_argument(regs, 0), false, 0);
	vnacct_probe_end(h->id, t0);
	return 0;
}

/* skb_consume_udp(sk, skb, len): a UDP or UDPv6 reader is done with skb. */
static int vnacct_kp_udp_consumed(struct kprobe *kp, struct pt_regs *regs)
{
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_SKB_CONSUME_UDP);

	vnacct_acct_udp_consumed((void *)regs_get_kernel_argument(regs, 1),
				 (int)regs_get_kernel_argument(regs, 2));
	vnacct_probe_end(VNACCT_HOOK_SKB_CONSUME_UDP, t0);
	return 0;
}

static enum vnacct_hook_id vnacct_krp_id(struct kretprobe_instance *ri)
{
	return container_of(get_kretprobe(ri), struct vnacct_kp_hook, krp)->id;
}

static int vnacct_krp_tun_enter(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	u64 t0 = vnacct_probe_begin(vnacct_krp_id(ri));

	vnacct_acct_tun_enter();
	vnacct_probe_end(vnacct_krp_id(ri), t0);
	return 0;
}

static int vnacct_krp_tun_leave(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	vnacct_acct_tun_leave();
	return 0;
}

/* skb_copy_datagram_iter(skb, offset, to, len) */
static int vnacct_krp_copy_enter(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct vnacct_copy_call *call = (void *)ri->data;
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_SKB_COPY_DATAGRAM_ITER);

	call->skb = (const void *)regs_get_kernel_argument(regs, 0);
	call->len = regs_get_kernel_argument(regs, 3);
	call->t0 = ktime_get_ns();
	vnacct_probe_end(VNACCT_HOOK_SKB_COPY_DATAGRAM_ITER, t0);
	return 0;
}

static int vnacct_krp_copy_done(struct kretprobe_instance *ri,
				struct pt_regs *regs)
{
	struct vnacct_copy_call *call = (void *)ri->data;
	u64 t0 = vnacct_probe_begin(VNACCT_HOOK_SKB_COPY_DATAGRAM_ITER);

	/* A failed copy (-EFAULT) copied an unknown part: not counted. */
	if (!regs_return_value(regs))
		vnacct_acct_copy(call->skb, call->len, call->t0,
				 ktime_get_ns());
	vnacct_probe_end(VNACCT_HOOK_SKB_COPY_DATAGRAM_ITER, t0);
	return 0;
}

/*
 * The host's own copies: __pskb_pull_tail(skb, delta) copies delta bytes
 * of paged data into the linear area; pskb_expand_head(skb, nhead, ntail,
 * gfp) copies headroom and linear data to a new head; skb_segment(skb,
 * features) copies each segment's linear part (headers at least), known
 * from the segment list it returns.  A non-zero return from an entry
 * handler skips the return probe.
 */
static int vnacct_krp_kcopy_enter(struct kretprobe_instance *ri,
				  struct pt_regs *regs)
{
	struct vnacct_copy_call *call = (void *)ri->data;
	enum vnacct_hook_id id = vnacct_krp_id(ri);
	const struct sk_buff *skb;
	u64 t0 = vnacct_probe_begin(id);

	skb = (const void *)regs_get_kernel_argument(regs, 0);
	call->skb = skb;
	if (id == VNACCT_HOOK_PSKB_PULL_TAIL)
		call->len = max_t(int, regs_get_kernel_argument(regs, 1), 0);
	else if (id == VNACCT_HOOK_PSKB_EXPAND_HEAD)
		call->len = skb_tail_pointer(skb) - skb->head;
	else
		call->len = 0;
	call->t0 = ktime_get_ns();
	vnacct_probe_end(id, t0);
	/* Not followed: no return probe (most of these calls). */
	return !vnacct_acct_followed(skb);
}

/* Bound on the segment list walk: a GSO packet has at most 64K segments. */
#define VNACCT_MAX_SEGS	U16_MAX

static int vnacct_krp_kcopy_done(struct kretprobe_instance *ri,
				 struct pt_regs *regs)
{
	struct vnacct_copy_call *call = (void *)ri->data;
	enum vnacct_hook_id id = vnacct_krp_id(ri);
	unsigned long ret = regs_return_value(regs);
	u64 t0 = vnacct_probe_begin(id), bytes = call->len;
	unsigned int kind = VNACCT_COPY_LINEARIZE;

	if (id == VNACCT_HOOK_PSKB_PULL_TAIL) {
		if (!ret)
			goto out;
	} else if (id == VNACCT_HOOK_PSKB_EXPAND_HEAD) {
		if (ret)
			goto out;
		kind = VNACCT_COPY_COW;
	} else {
		const struct sk_buff *seg = (const void *)ret;
		unsigned int n = 0;

		if (IS_ERR_OR_NULL(seg))
			goto out;
		/* Fresh segments, seen by no one else yet. */
		for (; seg && n < VNACCT_MAX_SEGS; seg = seg->next, n++)
			bytes += skb_headlen(seg);
		kind = VNACCT_COPY_SEGMENT;
	}
	vnacct_acct_kcopy(call->skb, kind, min_t(u64, bytes, U32_MAX),
			  ktime_get_ns() - call->t0);
out:
	vnacct_probe_end(id, t0);
	return 0;
}

/*
 * skb_copy(skb, gfp), __pskb_copy_fclone(skb, headroom, gfp, fclone) and
 * skb_copy_expand(skb, headroom, tailroom, gfp) return a private copy of
 * skb: the packet goes on in it.  Most copies are of skbs vnacct does not
 * follow (TCP's retransmissions): the entry handler skips the return probe
 * for those.
 */
static int vnacct_krp_skb_copy_enter(struct kretprobe_instance *ri,
				     struct pt_regs *regs)
{
	struct vnacct_copy_call *call = (void *)ri->data;
	enum vnacct_hook_id id = vnacct_krp_id(ri);
	u64 t0 = vnacct_probe_begin(id);

	call->skb = (const void *)regs_get_kernel_argument(regs, 0);
	call->t0 = ktime_get_ns();
	vnacct_probe_end(id, t0);
	return !vnacct_acct_followed(call->skb);
}

static int vnacct_krp_skb_copy_done(struct kretprobe_instance *ri,
				    struct pt_regs *regs)
{
	struct vnacct_copy_call *call = (void *)ri->data;
	enum vnacct_hook_id id = vnacct_krp_id(ri);
	const struct sk_buff *nskb = (const void *)regs_return_value(regs);
	u64 t0 = vnacct_probe_begin(id);

	/* pskb_copy() copies the linear part only; the others all of it. */
	if (nskb)
		vnacct_acct_skb_copied(call->skb, nskb,
				       id == VNACCT_HOOK_PSKB_COPY ?
				       skb_headlen(nskb) : nskb->len,
				       ktime_get_ns() - call->t0);
	vnacct_probe_end(id, t0);
	return 0;
}

static int vnacct_register_kp(struct vnacct_kp_hook *h)
{
	if (h->ret) {
		memset(&h->krp, 0, sizeof(h->krp));
		h->krp.kp.symbol_name = h->func;
		h->krp.entry_handler = h->entry;
		h->krp.handler = h->ret;
		h->krp.data_size = h->data_size;
		/* Calls in flight at once; more are counted as nmissed. */
		h->krp.maxactive = 4 * num_possible_cpus() + 64;
		return register_kretprobe(&h->krp);
	}
	memset(&h->kp, 0, sizeof(h->kp));
	h->kp.symbol_name = h->func;
	h->kp.pre_handler = h->pre;
	return register_kprobe(&h->kp);
}

static int vnacct_attach_kp(struct vnacct_kp_hook *h)
{
	int err = vnacct_register_kp(h);

	/*
	 * The function lives in a module that is not loaded yet.  Once: the
	 * module may load without it (a renamed clone, a built-in driver),
	 * and retrying then recursed until the stack overflowed.
	 */
	if (err == -ENOENT && h->module && !request_module("%s", h->module))
		err = vnacct_register_kp(h);
	return err;
}

static void vnacct_find_tp(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(vnacct_tps); i++)
		if (!strcmp(tp->name, vnacct_tps[i].name))
			vnacct_tps[i].tp = tp;
}

/* Appends ", name" to the list of hooks that could not be attached. */
static void vnacct_note_missing(char *buf, size_t size, const char *what,
				const char *name, int err)
{
	size_t len = strlen(buf);

	snprintf(buf + len, size - len, "%s%s %s (%d)", len ? ", " : "",
		 what, name, err);
}

/*
 * Serialises the module notifier against load and unload: all three
 * register and unregister kprobes and change &vnacct_kp_hook.attached.
 */
static DEFINE_MUTEX(vnacct_kp_lock);

/*
 * tun, vhost_net or bridge unloaded and loaded again: the kprobes on the
 * old module's text were marked gone by the kprobes core when it went;
 * drop them then, and attach afresh to the new module's functions (its
 * text is set up and ftrace-enabled by the time COMING is announced).
 */
static int vnacct_module_event(struct notifier_block *nb, unsigned long state,
			       void *data)
{
	const struct module *mod = data;
	unsigned int i;

	if (state != MODULE_STATE_COMING && state != MODULE_STATE_GOING)
		return NOTIFY_DONE;
	mutex_lock(&vnacct_kp_lock);
	for (i = 0; i < ARRAY_SIZE(vnacct_kps); i++) {
		struct vnacct_kp_hook *h = &vnacct_kps[i];

		if (!h->module || strcmp(h->module, mod->name))
			continue;
		if (state == MODULE_STATE_GOING && h->attached) {
			if (h->ret)
				unregister_kretprobe(&h->krp);
			else
				unregister_kprobe(&h->kp);
			h->attached = false;
		} else if (state == MODULE_STATE_COMING && !h->attached) {
			int err = vnacct_register_kp(h);

			if (err)
				pr_warn("cannot attach to %s in %s (%d)\n",
					h->func, mod->name, err);
			h->attached = !err;
		}
	}
	mutex_unlock(&vnacct_kp_lock);
	return NOTIFY_DONE;
}

static struct notifier_block vnacct_module_nb = {
	.notifier_call = vnacct_module_event,
};

static bool vnacct_module_nb_registered;

void vnacct_hooks_exit(void)
{
	struct kretprobe *krps[ARRAY_SIZE(vnacct_kps)];
	struct kprobe *kps[ARRAY_SIZE(vnacct_kps)];
	unsigned int i, nkp = 0, nkrp = 0;

	/*
	 * In two batches: each waits for one RCU grace period (until no CPU
	 * is inside a handler) instead of one per probe, which under load
	 * made unloading take minutes.
	 */
	if (vnacct_module_nb_registered) {
		/* returns once no notifier call is running */
		unregister_module_notifier(&vnacct_module_nb);
		vnacct_module_nb_registered = false;
	}
	mutex_lock(&vnacct_kp_lock);
	for (i = 0; i < ARRAY_SIZE(vnacct_kps); i++) {
		struct vnacct_kp_hook *h = &vnacct_kps[i];

		if (!h->attached)
			continue;
		if (h->ret)
			krps[nkrp++] = &h->krp;
		else
			kps[nkp++] = &h->kp;
		h->attached = false;
	}
	unregister_kprobes(kps, nkp);
	unregister_kretprobes(krps, nkrp);
	mutex_unlock(&vnacct_kp_lock);
	for (i = 0; i < ARRAY_SIZE(vnacct_tps); i++) {
		if (!vnacct_tps[i].attached)
			continue;
		tracepoint_probe_unregister(vnacct_tps[i].tp,
					    vnacct_tps[i].probe, NULL);
		vnacct_tps[i].attached = false;
	}
	/* No tracepoint probe may still run once the module text is gone. */
	tracepoint_synchronize_unregister();
}

int vnacct_hooks_init(void)
{
	static char missing[512];
	unsigned int i;
	int err, first_err = 0;

	missing[0] = '\0';
	for_each_kernel_tracepoint(vnacct_find_tp, NULL);
	for (i = 0; i < ARRAY_SIZE(vnacct_tps); i++) {
		struct vnacct_tp_hook *h = &vnacct_tps[i];

		err = h->tp ? tracepoint_probe_register(h->tp, h->probe, NULL)
			    : -ENOENT;
		if (err) {
			vnacct_note_missing(missing, sizeof(missing),
					    "tracepoint", h->name, err);
			first_err = first_err ?: err;
			continue;
		}
		h->attached = true;
	}
	mutex_lock(&vnacct_kp_lock);
	for (i = 0; i < ARRAY_SIZE(vnacct_kps); i++) {
		struct vnacct_kp_hook *h = &vnacct_kps[i];

		err = vnacct_attach_kp(h);
		if (err) {
			vnacct_note_missing(missing, sizeof(missing),
					    "function", h->func, err);
			first_err = first_err ?: err;
			continue;
		}
		h->attached = true;
	}
	mutex_unlock(&vnacct_kp_lock);
	if (!first_err) {
		first_err = register_module_notifier(&vnacct_module_nb);
		vnacct_module_nb_registered = !first_err;
	}
	if (first_err) {
		pr_err("cannot attach to %s; not loading\n", missing);
		vnacct_hooks_exit();
		/*
		 * insmod reads -ENOENT as "Unknown symbol in module": the
		 * message above names what is really missing.
		 */
		if (first_err == -ENOENT)
			first_err = -ENODEV;
	}
	return first_err;
}

/**
 * vnacct_hooks_missed() - kprobe and kretprobe hits the kprobes core skipped
 *
 * A kprobe that fires while another runs on the same CPU (an interrupt
 * during a handler) is not called, only counted; a kretprobe also misses
 * returns when all its instances are in use.  A missed free or copy hook
 * can leave one packet unfollowed or misattributed.
 *
 * Return: the sum over vnacct's probes.
 */
u64 vnacct_hooks_missed(void)
{
	unsigned int i;
	u64 n = 0;

	/* nmissed only grows; a probe being re-attached reads as before */
	for (i = 0; i < ARRAY_SIZE(vnacct_kps); i++) {
		const struct vnacct_kp_hook *h = &vnacct_kps[i];

		if (h->ret)
			n += READ_ONCE(h->krp.kp.nmissed) +
			     READ_ONCE(h->krp.nmissed);
		else
			n += READ_ONCE(h->kp.nmissed);
	}
	return n;
}

void vnacct_hook_stats(enum vnacct_hook_id id, struct vnacct_hook_stats *st)
{
	unsigned int i;
	int cpu;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < ARRAY_SIZE(vnacct_tps); i++)
		if (vnacct_tps[i].id == id) {
			st->name = vnacct_tps[i].name;
			st->kind = "tracepoint";
		}
	for (i = 0; i < ARRAY_SIZE(vnacct_kps); i++)
		if (vnacct_kps[i].id == id) {
			st->name = vnacct_kps[i].func;
			st->kind = vnacct_kps[i].ret ? "kretprobe" : "kprobe";
		}
	/*
	 * Unlocked reads of per-CPU u64s: a 64-bit kernel reads each one in a
	 * single load, so a reader sees a recent value, never a torn one.
	 */
	for_each_possible_cpu(cpu) {
		const struct vnacct_hook_cost *c = per_cpu_ptr(&vnacct_cost[id], cpu);

		st->hits += READ_ONCE(c->hits);
		st->ns += READ_ONCE(c->ns);
	}
}
