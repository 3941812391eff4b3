// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct packet path: follows each packet from the moment the host kernel
 * gets it to the moment it leaves, closing one stage at every hook it
 * passes, and commits the result to its flow when it leaves.
 *
 * Entry: a guest frame handed to the stack by tun (from the tun call's
 * start), an skb first seen on receive (from a wire device or another
 * network namespace), or a locally sent skb at dev_queue_xmit().
 * Exit: the copy into a guest or a local socket, transmit on a hardware
 * device, crossing into another network namespace (veth to an "external
 * host"), or the skb being freed.  A drop (kfree_skb) ends it as dropped.
 *
 * Nothing here allocates, sleeps or loops without bound; the only state
 * is the tracker (fixed array), a parallel array of per-packet details and
 * the flow table.
 */
#include <linux/etherdevice.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/sched.h>
#include <net/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/udp.h>
#include <net/net_namespace.h>

#include "acct.h"
#include "tracker.h"
#include "vnacct.h"

/* the host's own copies, the last kinds of &enum vnacct_copy */
#define VNACCT_KCOPY_KINDS	(VNACCT_COPY_COUNT - VNACCT_COPY_LINEARIZE)

/* &vnacct_pkt.stage of a packet that has left but whose skb lives on */
#define VNACCT_STAGE_EXITED	(VNACCT_STAGE_COUNT + 1)

/**
 * enum vnacct_origin - where a followed packet entered the host
 * @VNACCT_ORIGIN_GUEST: from a guest through a tap
 * @VNACCT_ORIGIN_WIRE: from a wire device or another network namespace
 * @VNACCT_ORIGIN_LOCAL: sent by the host itself
 */
enum vnacct_origin {
	VNACCT_ORIGIN_GUEST,
	VNACCT_ORIGIN_WIRE,
	VNACCT_ORIGIN_LOCAL,
};

/**
 * struct vnacct_pkt_info - what vnacct keeps about a followed packet
 *	besides its tracker entry (same index in a parallel array)
 * @key: flow key parsed at entry (ifindex/dir filled at exit)
 * @l4: L4 fields for delta-RTT matching
 * @stage_ns: residency per stage so far, ns (64-bit like the total: a
 *	frame can wait seconds in a tap's ring while its guest boots)
 * @last_ns: time its current stage started, ns
 * @stages: bit mask of the stages the packet went through
 * @len: IP length at entry, bytes
 * @gso_segs: GSO segments it stands for (0: not GSO)
 * @netns: network namespace (inode number) it entered in
 * @ifindex: device it entered on
 * @guest_netns: network namespace of the tap it was queued to, if any
 * @guest_ifindex: tap it was queued to toward a guest, 0 if none
 * @origin: &enum vnacct_origin
 * @copy_kind: &enum vnacct_copy of the tracker entry's copy counters
 * @gso_seg: a segment of a GSO packet vnacct followed (1: the first)
 * @copied: a private copy of this skb carries the packet on (skb_copy(),
 *	pskb_copy()): a free of this one is neither its exit nor a drop
 * @kcopy_bytes: bytes of the host's own copies (linearize, COW, segment),
 *	indexed from %VNACCT_COPY_LINEARIZE (saturating)
 * @kcopy_ns: time those copies took, ns (saturating)
 *
 * Owned, like the tracker entry, by the one CPU processing the skb.
 */
struct vnacct_pkt_info {
	struct vnacct_flow_key key;
	struct vnacct_l4_info l4;
	u64 stage_ns[VNACCT_STAGE_COUNT];
	u64 last_ns;
	u16 stages;
	u16 gso_segs;
	u32 len;
	u32 netns;
	u32 ifindex;
	u32 guest_netns;
	u32 guest_ifindex;
	u8 origin;
	u8 copy_kind;
	u8 gso_seg;
	u8 copied;
	u32 kcopy_bytes[VNACCT_KCOPY_KINDS];
	u32 kcopy_ns[VNACCT_KCOPY_KINDS];
};

/**
 * struct vnacct_gso - a GSO packet just segmented on this CPU, whose
 *	segments are about to be transmitted
 * @info: its details, handed to each segment
 * @pkt: its tracker entry (key unused)
 * @dev: device it is being transmitted on
 * @left: segments that may still come; the parked state stays valid until
 *	the next dev_queue_xmit() on this CPU (its segments all reach the
 *	driver before that), bounded by the segment count as a sanity limit
 */
struct vnacct_gso {
	struct vnacct_pkt_info info;
	struct vnacct_pkt pkt;
	const struct net_device *dev;
	unsigned int left;
};

/**
 * struct vnacct_cpu - per-CPU context of calls running on that CPU
 * @task: task that made the tun call (only its own hand-over is matched)
 * @tun_depth: nesting of tun_sendmsg()/tun_get_user() calls
 * @tun_entry_ns: when the outermost tun call started
 * @br_skb: skb inside br_handle_frame() on this CPU (softirq, so nothing
 *	else runs here until it returns): an unknown skb the bridge transmits
 *	or passes up meanwhile is a clone of it
 * @gso: the GSO packet being segmented
 */
struct vnacct_cpu {
	const struct task_struct *task;
	unsigned int tun_depth;
	u64 tun_entry_ns;
	const struct sk_buff *br_skb;
	struct vnacct_gso gso;
};

struct vnacct_counters vnacct_ctr;

static struct vnacct_tracker vnacct_trk;
static struct vnacct_pkt_info *vnacct_info;
/* tun handlers run in process context with preemption possible: see below */
static DEFINE_PER_CPU(struct vnacct_cpu, vnacct_cpu);
/* 1/N sampling sequence; per CPU so the packet path shares no line */
static DEFINE_PER_CPU(u32, vnacct_sample_seq);

static inline struct vnacct_pkt_info *vnacct_info_of(struct vnacct_pkt *pkt)
{
	return &vnacct_info[pkt - vnacct_trk.slots];
}

static bool vnacct_dev_is_tun(const struct net_device *dev)
{
	const struct rtnl_link_ops *ops = dev ? dev->rtnl_link_ops : NULL;

	return ops && ops->kind && !strcmp(ops->kind, "tun");
}

static u32 vnacct_dev_netns(const struct net_device *dev)
{
	return dev_net(dev)->ns.inum;
}

/*
 * The tun calls that hand guest frames to the stack: while one runs, a new
 * skb its task receives on a tap came from the guest, and entered the host
 * when the call started.  Called from kretprobe entry and return handlers
 * (preemption disabled).  The tun call itself may sleep and come back on
 * another CPU: the context is then left behind, matched by no other task,
 * and replaced by the next call on that CPU; the frames such a call hands
 * over count as mid-path.
 */
void vnacct_acct_tun_enter(void)
{
	struct vnacct_cpu *c = this_cpu_ptr(&vnacct_cpu);

	if (c->task == current && c->tun_depth) {
		c->tun_depth++;
		return;
	}
	c->task = current;
	c->tun_depth = 1;
	c->tun_entry_ns = ktime_get_ns();
}

void vnacct_acct_tun_leave(void)
{
	struct vnacct_cpu *c = this_cpu_ptr(&vnacct_cpu);

	if (c->task == current && c->tun_depth)
		c->tun_depth--;
}

static const struct vnacct_cpu *vnacct_tun_call(void)
{
	const struct vnacct_cpu *c = this_cpu_ptr(&vnacct_cpu);

	return c->task == current && c->tun_depth ? c : NULL;
}

/*
 * Closes the packet's current stage at @now and starts @next.  Timed from
 * @last_ns, not from the tracker's last_off, which saturates 4.29 s after
 * entry (enough for picking stale entries): past that, every later stage
 * was timed from the saturated point again, and a frame that waited in a
 * tap's ring while its guest booted had stages longer than its total.
 */
static void vnacct_pkt_stage(struct vnacct_pkt *pkt, unsigned int next,
			     u64 now)
{
	struct vnacct_pkt_info *pi = vnacct_info_of(pkt);
	unsigned int cur = pkt->stage;
	u64 ns;

	if (now < pi->last_ns)
		now = pi->last_ns;
	ns = now - pi->last_ns;
	pi->last_ns = now;
	vnacct_pkt_advance(pkt, next, now);
	if (cur < VNACCT_STAGE_COUNT) {
		pi->stage_ns[cur] += ns;
		pi->stages |= BIT(cur);
	}
}

/*
 * The segments a GSO packet stands for.  A guest's TSO packet comes from
 * virtio_net_hdr_to_skb() with gso_segs 0, left for segmentation to fill
 * in: derive it from gso_size and the payload after the headers.
 */
static u16 vnacct_gso_segs(const struct sk_buff *skb,
			   const struct vnacct_pkt_info *pi, int l3_off)
{
	const struct skb_shared_info *sh = skb_shinfo(skb);
	int hdr = l3_off, payload;

	if (sh->gso_segs || !sh->gso_size)
		return sh->gso_segs;
	if (pi->l4.l4_off) {
		hdr += pi->l4.l4_off;
		if (pi->key.proto == IPPROTO_TCP)
			hdr += pi->l4.tcp_hlen;
		else if (pi->key.proto == IPPROTO_UDP)
			hdr += sizeof(struct udphdr);
	}
	payload = (int)skb->len - hdr;
	if (payload <= 0)
		return 1;
	return min_t(u32, DIV_ROUND_UP(payload, sh->gso_size), U16_MAX);
}

static struct vnacct_pkt *vnacct_pkt_start(const struct sk_buff *skb,
					   const struct net_device *dev,
					   enum vnacct_origin origin,
					   unsigned int stage, u64 entry)
{
	struct vnacct_pkt_info *pi;
	struct vnacct_pkt *pkt;
	int l3_off;
	u32 n;

	if (!READ_ONCE(vnacct_cfg.enabled))
		return NULL;
	n = READ_ONCE(vnacct_cfg.sample);
	if (n > 1 && this_cpu_inc_return(vnacct_sample_seq) % n) {
		atomic64_inc(&vnacct_ctr.sampled_out);
		return NULL;
	}
	pkt = vnacct_tracker_insert(&vnacct_trk, (unsigned long)skb, entry);
	if (!pkt) {
		atomic64_inc(&vnacct_ctr.untracked);
		return NULL;
	}
	pi = vnacct_info_of(pkt);
	memset(pi, 0, sizeof(*pi));
	pi->last_ns = entry;
	/*
	 * A header we cannot parse still counts, as an L3-only flow.  The
	 * length is taken from where the parser found the L3 header: a NIC's
	 * receive hooks run before the network header is set.
	 */
	vnacct_flow_key_from_skb(skb, &pi->key, &pi->l4, &l3_off);
	pi->len = skb->len - l3_off;
	if (skb_is_gso(skb))
		pi->gso_segs = vnacct_gso_segs(skb, pi, l3_off);
	pi->netns = vnacct_dev_netns(dev);
	pi->ifindex = dev->ifindex;
	pi->origin = origin;
	pkt->stage = stage;
	atomic64_inc(&vnacct_ctr.tracked);
	return pkt;
}

static struct vnacct_flow *vnacct_flow_commit(struct vnacct_pkt *pkt,
					      struct vnacct_pkt_info *pi,
					      u64 t_exit, bool dropped,
					      u32 reason)
{
	struct vnacct_flow_key key = pi->key;
	struct vnacct_flow *f, *pair;
	struct vnacct_rtt_sample s;
	unsigned int i, side;
	u32 filter;
	u64 total;

	if (pi->origin == VNACCT_ORIGIN_GUEST) {
		key.dir = VNACCT_DIR_FROM_GUEST;
		key.ifindex = pi->ifindex;
		key.netns = pi->netns;
	} else if (pi->guest_ifindex) {
		key.dir = VNACCT_DIR_TO_GUEST;
		key.ifindex = pi->guest_ifindex;
		key.netns = pi->guest_netns;
	} else {
		key.dir = VNACCT_DIR_LOCAL;
		key.ifindex = pi->ifindex;
		key.netns = pi->netns;
	}
	filter = READ_ONCE(vnacct_cfg.filter_ifindex);
	if (filter && (key.ifindex != filter ||
		       key.netns != READ_ONCE(vnacct_cfg.filter_netns)))
		return NULL;
	f = vnacct_flow_get(&key, t_exit);
	if (!f)
		return NULL;

	total = t_exit - pkt->t_entry;
	vnacct_flow_update_begin(f);
	atomic64_inc(&f->packets);
	atomic64_add(pi->len, &f->bytes);
	if (pi->gso_segs) {
		atomic64_inc(&f->gso_packets);
		atomic64_add(pi->gso_segs, &f->gso_segs);
	} else if (pi->gso_seg) {
		/* Followed segment by segment: each counts as a packet. */
		if (pi->gso_seg == 1)
			atomic64_inc(&f->gso_packets);
		atomic64_inc(&f->gso_segs);
	}
	if (dropped) {
		atomic64_inc(&f->drops);
		atomic_set(&f->drop_reason, reason);
	}
	if (pkt->copy_bytes) {
		atomic64_add(pkt->copy_bytes, &f->copy_bytes[pi->copy_kind]);
		atomic64_add(pkt->copy_ns, &f->copy_ns[pi->copy_kind]);
	}
	for (i = 0; i < VNACCT_KCOPY_KINDS; i++) {
		if (!pi->kcopy_bytes[i])
			continue;
		atomic64_add(pi->kcopy_bytes[i],
			     &f->copy_bytes[VNACCT_COPY_LINEARIZE + i]);
		atomic64_add(pi->kcopy_ns[i],
			     &f->copy_ns[VNACCT_COPY_LINEARIZE + i]);
	}
	vnacct_hist_add(&f->total, total);
	vnacct_nl_residency(f, total);
	for (i = 0; i < VNACCT_STAGE_COUNT; i++) {
		if (!(pi->stages & BIT(i)))
			continue;
		vnacct_hist_add(&f->stage[i], pi->stage_ns[i]);
		atomic64_add(pi->len, &f->stage_bytes[i]);
	}
	WRITE_ONCE(f->last_ns, t_exit);
	vnacct_flow_update_end(f);

	if (dropped || key.dir == VNACCT_DIR_LOCAL)
		return f;
	/* Exchanges of a flow pair live in its FROM_GUEST flow. */
	if (key.dir == VNACCT_DIR_FROM_GUEST) {
		pair = f;
		side = VNACCT_RTT_GUEST;
	} else {
		struct vnacct_flow_key rev;

		/*
		 * Only TCP and echo can match an exchange, and only in a pair
		 * the guest has already used: creating the reverse flow here
		 * made an empty from_guest flow for every to_guest one.
		 */
		if (!vnacct_rtt_can_match(key.proto, &pi->l4))
			return f;
		vnacct_flow_key_reverse(&key, &rev);
		pair = vnacct_flow_lookup(&rev);
		side = VNACCT_RTT_WIRE;
		if (!pair)
			return f;
	}
	if (vnacct_rtt_observe(&pair->rtt, key.proto, &pi->l4, side,
			       side == VNACCT_RTT_GUEST ? pkt->t_entry : t_exit,
			       side == VNACCT_RTT_GUEST ? t_exit : pkt->t_entry,
			       &s)) {
		vnacct_flow_update_begin(pair);
		vnacct_hist_add(&pair->drtt, s.delta);
		vnacct_flow_update_end(pair);
	}
	return f;
}

/*
 * The packet leaves the host at @t_exit (its last stage closes then).  With
 * @keep the entry stays, marked exited, so that later copies of the same
 * skb (a socket read in several parts) still reach the flow.
 */
static void vnacct_pkt_exit(struct vnacct_pkt *pkt, const struct sk_buff *skb,
			    u64 t_exit, bool keep, bool dropped, u32 reason)
{
	struct vnacct_pkt_info *pi = vnacct_info_of(pkt);
	struct vnacct_flow *f;

	vnacct_pkt_stage(pkt, VNACCT_STAGE_EXITED, t_exit);
	/* Not t_entry + last_off: that saturates 4.29 s after entry. */
	f = vnacct_flow_commit(pkt, pi, pi->last_ns, dropped, reason);
	atomic64_inc(&vnacct_ctr.exited);
	if (keep && f)
		pkt->flow = vnacct_flow_index(f);
	else
		vnacct_tracker_remove(&vnacct_trk, pkt, (unsigned long)skb);
}

/*
 * A followed packet seen on a device of another network namespace has left
 * the host it entered (veth to an "external host" namespace): it exits at
 * its last hook, and may enter anew here.
 */
static struct vnacct_pkt *vnacct_pkt_netns_check(struct vnacct_pkt *pkt,
						 const struct sk_buff *skb,
						 const struct net_device *dev)
{
	if (pkt && pkt->stage == VNACCT_STAGE_EXITED) {
		/* Left already; the skb lives on (e.g. looped back). */
		vnacct_tracker_remove(&vnacct_trk, pkt, (unsigned long)skb);
		return NULL;
	}
	if (pkt && vnacct_info_of(pkt)->netns != vnacct_dev_netns(dev)) {
		vnacct_pkt_exit(pkt, skb, vnacct_info_of(pkt)->last_ns, false,
				false, 0);
		return NULL;
	}
	return pkt;
}

/*
 * GRO entry (a NIC's NAPI receive, a veth or tun in NAPI mode).  GRO may
 * merge the skb into another and free it where no hook sees it
 * (napi_skb_free_stolen_head(), __napi_kfree_skb()), and the per-CPU NAPI
 * cache hands its address to the next packet at once.  A packet that
 * enters the host here therefore starts at netif_receive_skb(), after GRO:
 * one packet standing for the segments merged into it (gso_segs).  One
 * followed from earlier (sent through a veth) goes on here.
 */
void vnacct_acct_gro(const struct sk_buff *skb)
{
	struct vnacct_pkt *pkt;

	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	pkt = vnacct_pkt_netns_check(pkt, skb, skb->dev);
	if (pkt)
		vnacct_pkt_stage(pkt, VNACCT_STAGE_RECEIVE, ktime_get_ns());
}

/* netif_rx (@backlog) or netif_receive_skb. */
void vnacct_acct_rx(const struct sk_buff *skb, bool backlog)
{
	unsigned int stage = backlog ? VNACCT_STAGE_BACKLOG :
				       VNACCT_STAGE_RECEIVE;
	const struct net_device *dev = skb->dev;
	struct vnacct_pkt *pkt;
	u64 now = ktime_get_ns();

	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	pkt = vnacct_pkt_netns_check(pkt, skb, dev);
	if (pkt) {
		vnacct_pkt_stage(pkt, stage, now);
		return;
	}
	if (vnacct_dev_is_tun(dev)) {
		const struct vnacct_cpu *c = vnacct_tun_call();
		struct vnacct_pkt_info *pi;

		if (!c) {
			atomic64_inc(&vnacct_ctr.midpath);
			return;
		}
		pkt = vnacct_pkt_start(skb, dev, VNACCT_ORIGIN_GUEST,
				       VNACCT_STAGE_GUEST_TX, c->tun_entry_ns);
		if (!pkt)
			return;
		/* The whole frame came out of guest memory. */
		pi = vnacct_info_of(pkt);
		pi->copy_kind = VNACCT_COPY_FROM_GUEST;
		vnacct_pkt_add_copy(pkt, skb->len + skb_mac_header_len(skb),
				    now - c->tun_entry_ns);
		vnacct_pkt_stage(pkt, stage, now);
		return;
	}
	vnacct_pkt_start(skb, dev, VNACCT_ORIGIN_WIRE, stage, now);
}

/* br_handle_frame() starts (@skb) or returns (NULL). */
void vnacct_acct_bridge(struct sk_buff *skb)
{
	struct vnacct_pkt *pkt;

	this_cpu_write(vnacct_cpu.br_skb, skb);
	if (!skb)
		return;
	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (pkt && pkt->stage != VNACCT_STAGE_EXITED)
		vnacct_pkt_stage(pkt, VNACCT_STAGE_BRIDGE, ktime_get_ns());
}

/*
 * The bridge transmits @skb on a port or passes it up: when it is a clone
 * made while flooding (or for local delivery), it inherits the state of
 * the frame it was cloned from.
 */
void vnacct_acct_bridge_out(struct sk_buff *skb)
{
	const struct sk_buff *parent_skb = this_cpu_read(vnacct_cpu.br_skb);
	struct vnacct_pkt *pkt, *parent;
	struct vnacct_pkt_info *pi;

	if (!parent_skb || parent_skb == skb)
		return;
	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (pkt && pkt->stage != VNACCT_STAGE_EXITED)
		return;
	parent = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)parent_skb);
	if (!parent || parent->stage == VNACCT_STAGE_EXITED)
		return;
	pkt = vnacct_tracker_dup(&vnacct_trk, parent, (unsigned long)skb);
	if (!pkt) {
		atomic64_inc(&vnacct_ctr.untracked);
		return;
	}
	pi = vnacct_info_of(pkt);
	*pi = *vnacct_info_of(parent);
	/*
	 * The copies so far, the host's and the one out of the guest, are
	 * the original's, counted with it: a flooded frame left the guest
	 * once.
	 */
	memset(pi->kcopy_bytes, 0, sizeof(pi->kcopy_bytes));
	memset(pi->kcopy_ns, 0, sizeof(pi->kcopy_ns));
	pkt->copy_bytes = 0;
	pkt->copy_ns = 0;
	atomic64_inc(&vnacct_ctr.clones);
}

void vnacct_acct_queue(struct sk_buff *skb)
{
	struct vnacct_pkt *pkt;
	u64 now = ktime_get_ns();

	/* A new transmit: segments of an earlier GSO packet are all out. */
	this_cpu_write(vnacct_cpu.gso.left, 0);
	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	pkt = vnacct_pkt_netns_check(pkt, skb, skb->dev);
	if (pkt)
		vnacct_pkt_stage(pkt, VNACCT_STAGE_QDISC, now);
	else
		vnacct_pkt_start(skb, skb->dev, VNACCT_ORIGIN_LOCAL,
				 VNACCT_STAGE_QDISC, now);
}

/*
 * validate_xmit_skb() segments a GSO packet the device cannot take whole
 * and frees it (consume_skb) before the segments reach the driver on the
 * same CPU: the packet's state is parked then and handed to each segment.
 */
static bool vnacct_gso_park(struct vnacct_pkt *pkt, const struct sk_buff *skb)
{
	struct vnacct_gso *g = this_cpu_ptr(&vnacct_cpu.gso);

	if (!skb_is_gso(skb) || pkt->stage != VNACCT_STAGE_QDISC)
		return false;
	g->info = *vnacct_info_of(pkt);
	g->pkt = *pkt;
	g->dev = skb->dev;
	/*
	 * The count taken at entry (a guest's TSO packet has no gso_segs of
	 * its own until now); segmentation may differ slightly.
	 */
	g->left = 2 * max_t(u32, g->info.gso_segs,
			    skb_shinfo(skb)->gso_segs) + 8;
	g->info.gso_segs = 0;
	vnacct_tracker_remove(&vnacct_trk, pkt, (unsigned long)skb);
	return true;
}

static struct vnacct_pkt *vnacct_gso_segment(const struct sk_buff *skb,
					     const struct net_device *dev)
{
	struct vnacct_gso *g = this_cpu_ptr(&vnacct_cpu.gso);
	struct vnacct_pkt_info *pi;
	struct vnacct_pkt *pkt;

	if (!g->left || g->dev != dev)
		return NULL;
	pkt = vnacct_tracker_insert(&vnacct_trk, (unsigned long)skb,
				    g->pkt.t_entry);
	if (!pkt) {
		g->left--;
		atomic64_inc(&vnacct_ctr.untracked);
		return NULL;
	}
	pkt->last_off = g->pkt.last_off;
	pkt->stage = g->pkt.stage;
	pi = vnacct_info_of(pkt);
	*pi = g->info;
	pi->len = skb->len - skb_network_offset(skb);
	/* Segment number, counted in the parked copy (saturates at 255). */
	g->info.gso_segs++;
	pi->gso_segs = 0;
	pi->gso_seg = min_t(u16, g->info.gso_segs, U8_MAX);
	/*
	 * The copy that brought the packet in, and the host's copies
	 * (segmentation included), are its first segment's.
	 */
	if (pi->gso_seg == 1) {
		pkt->copy_bytes = g->pkt.copy_bytes;
		pkt->copy_ns = g->pkt.copy_ns;
	} else {
		memset(pi->kcopy_bytes, 0, sizeof(pi->kcopy_bytes));
		memset(pi->kcopy_ns, 0, sizeof(pi->kcopy_ns));
	}
	g->left--;
	atomic64_inc(&vnacct_ctr.tracked);
	return pkt;
}

void vnacct_acct_start_xmit(const struct sk_buff *skb,
			    const struct net_device *dev)
{
	struct vnacct_pkt *pkt;
	u64 now = ktime_get_ns();

	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (pkt && pkt->stage == VNACCT_STAGE_EXITED) {
		/* A new skb at the address of one that left earlier. */
		vnacct_tracker_remove(&vnacct_trk, pkt, (unsigned long)skb);
		pkt = NULL;
	}
	if (!pkt)
		pkt = vnacct_gso_segment(skb, dev);
	if (!pkt)
		return;
	if (vnacct_dev_is_tun(dev)) {
		struct vnacct_pkt_info *pi = vnacct_info_of(pkt);

		pi->guest_ifindex = dev->ifindex;
		pi->guest_netns = vnacct_dev_netns(dev);
		vnacct_pkt_stage(pkt, VNACCT_STAGE_GUEST_QUEUE, now);
		return;
	}
	vnacct_pkt_stage(pkt, VNACCT_STAGE_DRIVER, now);
	/* A device with a bus parent is hardware: the packet is on the wire. */
	if (dev->dev.parent)
		vnacct_pkt_exit(pkt, skb, now, false, false, 0);
}

/* skb_copy_datagram_iter() copied @bytes of @skb between @t0 and @t1. */
void vnacct_acct_copy(const struct sk_buff *skb, u32 bytes, u64 t0, u64 t1)
{
	struct vnacct_pkt_info *pi;
	struct vnacct_pkt *pkt;
	unsigned int kind;
	bool to_guest;

	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (!pkt)
		return;
	pi = vnacct_info_of(pkt);
	/*
	 * Not skb->dev: in a socket's receive queue that field holds other
	 * data (UDP keeps its dev_scratch there).  A packet queued on a tap
	 * is read by the guest side, anything else by a socket.
	 */
	to_guest = pi->guest_ifindex;
	kind = to_guest ? VNACCT_COPY_TO_GUEST : VNACCT_COPY_TO_SOCKET;
	if (pkt->stage == VNACCT_STAGE_EXITED) {
		/* A later part of a read: straight to the flow. */
		vnacct_flow_add_copy(pkt->flow, kind, bytes, t1 - t0);
		return;
	}
	vnacct_pkt_stage(pkt, to_guest ? VNACCT_STAGE_GUEST_RX :
			 VNACCT_STAGE_SOCKET, t0);
	if (pi->copy_kind == VNACCT_COPY_FROM_GUEST && pkt->copy_bytes) {
		/* A guest-to-guest frame: both copies are the flow's. */
		vnacct_pkt_exit(pkt, skb, t1, true, false, 0);
		vnacct_flow_add_copy(pkt->flow, kind, bytes, t1 - t0);
		return;
	}
	pi->copy_kind = kind;
	vnacct_pkt_add_copy(pkt, bytes, t1 - t0);
	vnacct_pkt_exit(pkt, skb, t1, true, false, 0);
}

/* Adds a host copy (@kind: linearize, COW, segment) to a packet in flight. */
static void vnacct_pkt_add_kcopy(struct vnacct_pkt_info *pi,
				 unsigned int kind, u32 bytes, u64 ns)
{
	unsigned int k = kind - VNACCT_COPY_LINEARIZE;
	u64 b = (u64)pi->kcopy_bytes[k] + bytes;
	u64 n = (u64)pi->kcopy_ns[k] + ns;

	pi->kcopy_bytes[k] = min_t(u64, b, U32_MAX);
	pi->kcopy_ns[k] = min_t(u64, n, U32_MAX);
}

/*
 * The host copied @bytes of @skb's data in @ns for its own needs (@kind:
 * linearize, COW or segmentation): part of the packet's cost, counted
 * with it when it exits, or straight to its flow when it has left.
 */
void vnacct_acct_kcopy(const struct sk_buff *skb, unsigned int kind,
		       u32 bytes, u64 ns)
{
	struct vnacct_pkt *pkt;

	if (kind < VNACCT_COPY_LINEARIZE || kind >= VNACCT_COPY_COUNT)
		return;
	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (!pkt)
		return;
	if (pkt->stage == VNACCT_STAGE_EXITED) {
		vnacct_flow_add_copy(pkt->flow, kind, bytes, ns);
		return;
	}
	vnacct_pkt_add_kcopy(vnacct_info_of(pkt), kind, bytes, ns);
}

/**
 * vnacct_acct_followed() - whether @skb has a tracker entry
 * @skb: any skb
 *
 * Context: packet path; lets a probe skip the rest of its work (a
 * kretprobe's return handler) for the many skbs vnacct does not follow.
 * Return: true if followed (in flight or exited and kept).
 */
bool vnacct_acct_followed(const struct sk_buff *skb)
{
	return vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
}

/**
 * vnacct_acct_skb_copied() - follow a followed packet into its private copy
 * @skb: the followed skb
 * @nskb: the copy just made (skb_copy(), pskb_copy(), skb_copy_expand()),
 *	seen by no one else yet
 * @bytes: bytes copied
 * @ns: time the copy took
 *
 * The copy carries the packet on, with its state and costs so far and this
 * copy as a COW copy.  The original is usually freed right after
 * (skb_unshare(), or the bridge's multicast-to-unicast delivery): that
 * free is neither an exit nor a drop.  If the original goes on to an exit
 * of its own (a duplicate), each counts as a packet, as clones do.
 *
 * Context: packet path, the CPU that owns @skb.
 */
void vnacct_acct_skb_copied(const struct sk_buff *skb,
			    const struct sk_buff *nskb, u32 bytes, u64 ns)
{
	struct vnacct_pkt_info *pi, *ppi;
	struct vnacct_pkt *pkt, *parent;

	parent = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (!parent || parent->stage == VNACCT_STAGE_EXITED)
		return;
	/* An entry @nskb's address still has is stale: the insert reuses it. */
	pkt = vnacct_tracker_dup(&vnacct_trk, parent, (unsigned long)nskb);
	if (!pkt || pkt == parent) {
		atomic64_inc(&vnacct_ctr.untracked);
		return;
	}
	ppi = vnacct_info_of(parent);
	pi = vnacct_info_of(pkt);
	*pi = *ppi;
	pi->copied = 0;
	vnacct_pkt_add_kcopy(pi, VNACCT_COPY_COW, bytes, ns);
	/* The host's copies so far go on with the copy, counted once. */
	memset(ppi->kcopy_bytes, 0, sizeof(ppi->kcopy_bytes));
	memset(ppi->kcopy_ns, 0, sizeof(ppi->kcopy_ns));
	ppi->copied = 1;
	atomic64_inc(&vnacct_ctr.clones);
}

/*
 * skb_consume_udp(): a UDP reader took @bytes of @skb.  A linear datagram
 * was copied with copy_to_iter(), which has no hook: its bytes count, its
 * time cannot be told (0 ns).  The skb is freed right after, unseen.
 */
void vnacct_acct_udp_consumed(const struct sk_buff *skb, int bytes)
{
	struct vnacct_pkt *pkt;
	u64 now;

	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (!pkt)
		return;
	if (pkt->stage == VNACCT_STAGE_EXITED || bytes < 0) {
		/* Copied by skb_copy_datagram_iter(), or only peeked at. */
		if (pkt->stage == VNACCT_STAGE_EXITED)
			vnacct_tracker_remove(&vnacct_trk, pkt,
					      (unsigned long)skb);
		return;
	}
	now = ktime_get_ns();
	vnacct_pkt_stage(pkt, VNACCT_STAGE_SOCKET, now);
	vnacct_info_of(pkt)->copy_kind = VNACCT_COPY_TO_SOCKET;
	vnacct_pkt_add_copy(pkt, bytes, 0);
	vnacct_pkt_exit(pkt, skb, now, false, false, 0);
}

void vnacct_acct_free(const struct sk_buff *skb, bool dropped, u32 reason)
{
	struct vnacct_pkt *pkt;

	pkt = vnacct_tracker_lookup(&vnacct_trk, (unsigned long)skb);
	if (!pkt)
		return;
	if (pkt->stage == VNACCT_STAGE_EXITED || vnacct_info_of(pkt)->copied)
		/*
		 * Gone after its exit, or after a copy took the packet on
		 * (whether freed or dropped: the bridge kfree_skb()s what
		 * it delivered as copies only).
		 */
		vnacct_tracker_remove(&vnacct_trk, pkt, (unsigned long)skb);
	else if (dropped || !vnacct_gso_park(pkt, skb))
		vnacct_pkt_exit(pkt, skb, ktime_get_ns(), false, dropped,
				reason);
}

int vnacct_acct_init(unsigned int max_packets)
{
	int err = vnacct_tracker_init(&vnacct_trk, max_packets);

	if (err)
		return err;
	vnacct_tracker_set_done_stage(&vnacct_trk, VNACCT_STAGE_EXITED);
	vnacct_info = kvcalloc(vnacct_tracker_capacity(&vnacct_trk),
			       sizeof(*vnacct_info), GFP_KERNEL);
	if (!vnacct_info) {
		vnacct_tracker_destroy(&vnacct_trk);
		return -ENOMEM;
	}
	return 0;
}

void vnacct_acct_exit(void)
{
	kvfree(vnacct_info);
	vnacct_tracker_destroy(&vnacct_trk);
}

static const char *const vnacct_origin_names[] = {
	[VNACCT_ORIGIN_GUEST] = "guest",
	[VNACCT_ORIGIN_WIRE] = "wire",
	[VNACCT_ORIGIN_LOCAL] = "local",
};

/**
 * vnacct_acct_inflight() - the next followed packet that has not left yet
 * @slot: tracker slot to look from; set to the slot of the packet returned
 * @now: the reader's current time, ns (ktime_get_ns())
 * @out: filled with a snapshot of the packet
 *
 * For an operator's view of what sits where (a guest that stopped reading
 * its tap shows as packets in guest_queue), and for finding packets whose
 * exit vnacct missed (they only age).  Exited entries kept for a later
 * part of a read are skipped.
 *
 * Context: process context, may sleep.  Reads entries owned by the CPUs
 * processing their skbs without synchronising with them: a packet that
 * moves or leaves meanwhile may show a mix of old and new values.  Memory
 * safe all the same: the arrays live until the module unloads, after its
 * readers are gone.
 * Return: true if @out was filled, false at the end of the table.
 */
bool vnacct_acct_inflight(unsigned int *slot, u64 now,
			  struct vnacct_inflight *out)
{
	unsigned int i, n = vnacct_tracker_capacity(&vnacct_trk);
	struct vnacct_pkt_info *pi;
	struct vnacct_pkt *pkt;
	u64 t;

	for (i = *slot; i < n; i++) {
		if (!(i % 65536))
			cond_resched();
		pkt = &vnacct_trk.slots[i];
		if (!READ_ONCE(pkt->key))
			continue;
		/* racy, and a bit field (no READ_ONCE()): see above */
		out->stage = pkt->stage;
		if (out->stage >= VNACCT_STAGE_COUNT)
			continue;
		pi = vnacct_info_of(pkt);
		out->key = pi->key;
		t = READ_ONCE(pkt->t_entry);
		out->age_ns = now > t ? now - t : 0;
		t = vnacct_pkt_last_ns(pkt);
		out->idle_ns = now > t ? now - t : 0;
		out->netns = READ_ONCE(pi->netns);
		out->ifindex = READ_ONCE(pi->ifindex);
		out->guest_ifindex = READ_ONCE(pi->guest_ifindex);
		out->len = READ_ONCE(pi->len);
		t = READ_ONCE(pi->origin);
		out->origin = t < ARRAY_SIZE(vnacct_origin_names) ?
			      vnacct_origin_names[t] : "?";
		*slot = i;
		return true;
	}
	*slot = n;
	return false;
}

/**
 * vnacct_acct_lost() - tracker entries lost without an exit
 * @stale: entries reclaimed because their skb was freed unseen
 * @reused: entries reset because a new skb got the same address
 */
void vnacct_acct_lost(u64 *stale, u64 *reused)
{
	*stale = atomic64_read(&vnacct_trk.stale);
	*reused = atomic64_read(&vnacct_trk.reused);
}

unsigned int vnacct_acct_in_flight(void)
{
	return vnacct_tracker_in_use(&vnacct_trk);
}

size_t vnacct_acct_memory(void)
{
	return (size_t)vnacct_tracker_capacity(&vnacct_trk) *
	       (sizeof(struct vnacct_pkt) + sizeof(struct vnacct_pkt_info));
}
