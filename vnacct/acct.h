/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct accounting: the packet-path entry points the hooks call, and the
 * per-flow records they fill (acct.c, flows.c).
 */
#ifndef _VNACCT_ACCT_H
#define _VNACCT_ACCT_H

#include <linux/atomic.h>
#include <linux/types.h>
#include <uapi/linux/vnacct.h>

#include "flowkey.h"
#include "hist.h"
#include "rtt.h"

struct sk_buff;
struct net_device;

/**
 * struct vnacct_flow - everything vnacct knows about one flow
 * @key: the flow's key; @key.dir and @key.ifindex name the guest-facing
 *	device and direction
 * @hash: vnacct_flow_hash() of @key
 * @live: slot holds a flow that lookups may return
 * @first_ns: time the flow's first packet entered the host
 * @last_ns: time the flow's last packet left the host (idle expiry)
 * @packets: packets that left the host (exit) or were dropped
 * @bytes: IP bytes (header and payload) of those packets
 * @drops: packets dropped inside the host (kfree_skb)
 * @drop_reason: reason of the last drop (enum skb_drop_reason)
 * @gso_packets: GSO super-packets among @packets
 * @gso_segs: segments those super-packets stood for
 * @copy_bytes: bytes copied, per &enum vnacct_copy
 * @copy_ns: ns spent copying, per &enum vnacct_copy
 * @stage_bytes: IP bytes through each stage, per &enum vnacct_stage
 * @total: host residency (exit - entry), ns
 * @stage: residency per stage, ns
 * @drtt: delta-RTT samples of exchanges this flow requested, ns
 * @rtt: outstanding exchanges (kept in the FROM_GUEST flow of a pair)
 * @upd_begin: updates started (a packet's exit, a late copy)
 * @upd_end: updates finished
 *
 * Updated lock-free from any CPU with atomics: one packet's exit updates
 * many counters.  A reader that wants them all from the same moment (one
 * debugfs line, one netlink message) reads @upd_end before and
 * @upd_begin after: equal, no update ran meanwhile; else it reads again
 * (vnacct_flow_read_begin(), vnacct_flow_read_retry()).  Two counters, not
 * a seqcount, because several CPUs update one flow at once.
 */
struct vnacct_flow {
	struct vnacct_flow_key key;
	u32 hash;
	bool live;
	u64 first_ns;
	u64 last_ns;
	atomic64_t packets;
	atomic64_t bytes;
	atomic64_t drops;
	atomic_t drop_reason;
	atomic64_t gso_packets;
	atomic64_t gso_segs;
	atomic64_t copy_bytes[VNACCT_COPY_COUNT];
	atomic64_t copy_ns[VNACCT_COPY_COUNT];
	atomic64_t stage_bytes[VNACCT_STAGE_COUNT];
	atomic_t upd_begin;
	atomic_t upd_end;
	struct vnacct_hist total;
	struct vnacct_hist stage[VNACCT_STAGE_COUNT];
	struct vnacct_hist drtt;
	struct vnacct_rtt_table rtt;
};

static inline void vnacct_flow_update_begin(struct vnacct_flow *f)
{
	atomic_inc(&f->upd_begin);
	/* the count before the updates it announces */
	smp_mb__after_atomic();
}

static inline void vnacct_flow_update_end(struct vnacct_flow *f)
{
	/* the updates before the count that closes them */
	smp_mb__before_atomic();
	atomic_inc(&f->upd_end);
}

/* Tries for a consistent read before a reader takes the record as read. */
#define VNACCT_FLOW_READ_TRIES	64

/**
 * vnacct_flow_read_begin() - start a consistent read of a flow
 * @f: flow
 *
 * Return: a token for vnacct_flow_read_retry().
 */
static inline unsigned int vnacct_flow_read_begin(const struct vnacct_flow *f)
{
	unsigned int n = atomic_read(&f->upd_end);

	smp_rmb();	/* the token before the counters */
	return n;
}

/**
 * vnacct_flow_read_retry() - whether an update ran during the read
 * @f: flow
 * @token: from vnacct_flow_read_begin()
 *
 * Every update started before this call and finished before the token was
 * taken is complete in what was read; any other changes @upd_begin.
 *
 * Return: true when the read must be done again.
 */
static inline bool vnacct_flow_read_retry(const struct vnacct_flow *f,
					  unsigned int token)
{
	smp_rmb();	/* the counters before the check */
	return atomic_read(&f->upd_begin) != token;
}

/**
 * struct vnacct_counters - the module's own accounting counters
 * @tracked: packets vnacct started to follow
 * @exited: packets it followed to their exit
 * @untracked: packets it could not follow (tracker full)
 * @midpath: skbs first seen mid-path and not followed (e.g. a clone or
 *	a GSO segment whose parent is unknown)
 * @flows_full: exits not attributed to a flow because the table was full
 * @flows_evicted: idle flows removed
 * @sampled_out: packets skipped by 1/N sampling
 * @clones: clones followed from the frame they were cloned from
 */
struct vnacct_counters {
	atomic64_t tracked;
	atomic64_t exited;
	atomic64_t untracked;
	atomic64_t midpath;
	atomic64_t flows_full;
	atomic64_t flows_evicted;
	atomic64_t sampled_out;
	atomic64_t clones;
};

extern struct vnacct_counters vnacct_ctr;

/**
 * struct vnacct_config - run-time configuration (debugfs control, netlink)
 * @enabled: follow new packets (packets already followed finish either way)
 * @sample: follow one packet in @sample (1: every packet)
 * @flow_timeout: idle seconds after which a flow is removed
 * @filter_ifindex: only record flows of this guest-facing device (0: all)
 * @filter_netns: network namespace (inode) of @filter_ifindex
 *
 * Written by process context one field at a time, read with READ_ONCE()
 * in the packet path: a packet may see an old and a new field together
 * during a change, which at worst follows or skips one more packet.
 */
struct vnacct_config {
	bool enabled;
	u32 sample;
	u32 flow_timeout;
	u32 filter_ifindex;
	u32 filter_netns;
};

extern struct vnacct_config vnacct_cfg;

/**
 * struct vnacct_inflight - snapshot of a followed packet that has not left
 *	the host yet (debugfs ``inflight``)
 * @key: flow key parsed when it entered (@key.dir, @key.ifindex and
 *	@key.netns are only set when it leaves: not used here)
 * @age_ns: time since it entered the host, ns
 * @idle_ns: time since its last hook, ns
 * @netns: network namespace (inode number) it entered in
 * @ifindex: device it entered on
 * @guest_ifindex: tap it is queued to toward a guest, 0 if none
 * @len: IP length at entry, bytes
 * @stage: &enum vnacct_stage it is in now
 * @origin: where it entered: "guest", "wire" or "local"
 */
struct vnacct_inflight {
	struct vnacct_flow_key key;
	u64 age_ns;
	u64 idle_ns;
	u32 netns;
	u32 ifindex;
	u32 guest_ifindex;
	u32 len;
	unsigned int stage;
	const char *origin;
};

int vnacct_acct_init(unsigned int max_packets);
void vnacct_acct_exit(void);
unsigned int vnacct_acct_in_flight(void);
bool vnacct_acct_inflight(unsigned int *slot, u64 now,
			  struct vnacct_inflight *out);
void vnacct_acct_lost(u64 *stale, u64 *reused);
size_t vnacct_acct_memory(void);

void vnacct_acct_tun_enter(void);
void vnacct_acct_tun_leave(void);
void vnacct_acct_rx(const struct sk_buff *skb, bool backlog);
void vnacct_acct_gro(const struct sk_buff *skb);
void vnacct_acct_bridge(struct sk_buff *skb);
void vnacct_acct_bridge_out(struct sk_buff *skb);
void vnacct_acct_queue(struct sk_buff *skb);
void vnacct_acct_start_xmit(const struct sk_buff *skb,
			    const struct net_device *dev);
void vnacct_acct_copy(const struct sk_buff *skb, u32 bytes, u64 t0, u64 t1);
void vnacct_acct_kcopy(const struct sk_buff *skb, unsigned int kind,
		       u32 bytes, u64 ns);
bool vnacct_acct_followed(const struct sk_buff *skb);
void vnacct_acct_skb_copied(const struct sk_buff *skb,
			    const struct sk_buff *nskb, u32 bytes, u64 ns);
void vnacct_acct_udp_consumed(const struct sk_buff *skb, int bytes);
void vnacct_acct_free(const struct sk_buff *skb, bool dropped, u32 reason);

int vnacct_flows_init(unsigned int max_flows);
void vnacct_flows_exit(void);
struct vnacct_flow *vnacct_flow_get(const struct vnacct_flow_key *key,
				    u64 now);
struct vnacct_flow *vnacct_flow_lookup(const struct vnacct_flow_key *key);
unsigned int vnacct_flows_count(void);
size_t vnacct_flows_memory(void);
struct vnacct_flow *vnacct_flow_at(unsigned int idx);
unsigned int vnacct_flow_index(const struct vnacct_flow *f);
void vnacct_flow_add_copy(unsigned int idx, unsigned int kind, u32 bytes,
			  u64 ns);
unsigned int vnacct_flows_capacity(void);
void vnacct_flows_expire(u64 now, u64 idle_ns);
void vnacct_flows_reset(void);

#endif /* _VNACCT_ACCT_H */
