// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct in-flight packet tracker: allocation, lock-free insert / lookup /
 * remove / re-key by skb address with bounded linear probing, and stale
 * entry reclaim (see tracker.h for the concurrency argument).
 */
#include <linux/atomic.h>
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/string.h>

#include "tracker.h"

#ifdef CONFIG_64BIT
static_assert(sizeof(struct vnacct_pkt) == 32);
static_assert(sizeof(struct vnacct_tracker) == 56);
#endif
static_assert((VNACCT_TRACKER_PROBES & (VNACCT_TRACKER_PROBES - 1)) == 0);
static_assert(VNACCT_TRACKER_MIN >= VNACCT_TRACKER_PROBES);

int vnacct_tracker_init(struct vnacct_tracker *t, unsigned int capacity)
{
	unsigned int n;

	memset(t, 0, sizeof(*t));
	if (!capacity || capacity > VNACCT_TRACKER_MAX)
		return -EINVAL;
	n = roundup_pow_of_two(max_t(unsigned int, capacity,
				     VNACCT_TRACKER_MIN));
	t->slots = kvcalloc(n, sizeof(*t->slots), GFP_KERNEL);
	if (!t->slots)
		return -ENOMEM;
	t->mask = n - 1;
	t->bits = ilog2(n);
	t->max_age_ns = VNACCT_TRACKER_MAX_AGE_NS;
	atomic64_set(&t->full, 0);
	atomic64_set(&t->stale, 0);
	atomic64_set(&t->reused, 0);
	return 0;
}

void vnacct_tracker_destroy(struct vnacct_tracker *t)
{
	kvfree(t->slots);
	t->slots = NULL;
	t->mask = 0;
	t->bits = 0;
}

void vnacct_tracker_set_max_age(struct vnacct_tracker *t, u64 ns)
{
	WRITE_ONCE(t->max_age_ns, ns);
}

void vnacct_tracker_set_done_stage(struct vnacct_tracker *t, u8 stage)
{
	t->done_stage = stage;
}

/* An entry whose packet was never accounted: losing it loses a packet. */
static bool vnacct_pkt_pending(const struct vnacct_tracker *t,
			       const struct vnacct_pkt *p)
{
	return !t->done_stage || p->stage != t->done_stage;
}

unsigned int vnacct_tracker_capacity(const struct vnacct_tracker *t)
{
	return t->slots ? t->mask + 1 : 0;
}

static struct vnacct_pkt *vnacct_slot(struct vnacct_tracker *t,
				      unsigned int h, unsigned int i)
{
	return &t->slots[(h + i) & t->mask];
}

static unsigned int vnacct_key_hash(const struct vnacct_tracker *t,
				    unsigned long key)
{
	return hash_long(key, t->bits);
}

/* called by the CPU that just claimed @p for @key */
static void vnacct_pkt_reset(struct vnacct_pkt *p, u64 now)
{
	WRITE_ONCE(p->t_entry, now);
	WRITE_ONCE(p->last_off, 0);
	p->flow = VNACCT_PKT_NO_FLOW;
	p->copy_ns = 0;
	p->copy_bytes = 0;
	p->stage = 0;
}

struct vnacct_pkt *vnacct_tracker_insert(struct vnacct_tracker *t,
					 unsigned long key, u64 now_ns)
{
	unsigned int h = vnacct_key_hash(t, key), i;
	u64 max_age = READ_ONCE(t->max_age_ns), old_last = U64_MAX;
	struct vnacct_pkt *p, *old = NULL;
	unsigned long k, old_key = 0;
	bool have_free = false;
	u64 last;

	if (!key || !t->slots)
		return NULL;

	/* pass 1: the key itself (address reuse), free slots, stale ones */
	for (i = 0; i < VNACCT_TRACKER_PROBES; i++) {
		p = vnacct_slot(t, h, i);
		k = READ_ONCE(p->key);
		if (k == key) {
			if (vnacct_pkt_pending(t, p))
				atomic64_inc(&t->reused);
			goto claimed;
		}
		if (!k) {
			have_free = true;
			continue;
		}
		/* racy read: only to pick a reclaim candidate */
		last = vnacct_pkt_last_ns(p);
		if (now_ns > last && now_ns - last > max_age && last < old_last) {
			old = p;
			old_key = k;
			old_last = last;
		}
	}

	/* pass 2: claim a free slot; a lost cmpxchg moves to the next */
	if (have_free) {
		for (i = 0; i < VNACCT_TRACKER_PROBES; i++) {
			p = vnacct_slot(t, h, i);
			if (!READ_ONCE(p->key) && !cmpxchg(&p->key, 0UL, key))
				goto claimed;
		}
	}
	if (old && cmpxchg(&old->key, old_key, key) == old_key) {
		if (vnacct_pkt_pending(t, old))
			atomic64_inc(&t->stale);
		p = old;
		goto claimed;
	}
	atomic64_inc(&t->full);
	return NULL;

claimed:
	vnacct_pkt_reset(p, now_ns);
	return p;
}

struct vnacct_pkt *vnacct_tracker_lookup(struct vnacct_tracker *t,
					 unsigned long key)
{
	unsigned int h, i;
	struct vnacct_pkt *p;

	if (!key || !t->slots)
		return NULL;
	h = vnacct_key_hash(t, key);
	/* no early stop at a free slot: removal leaves holes */
	for (i = 0; i < VNACCT_TRACKER_PROBES; i++) {
		p = vnacct_slot(t, h, i);
		if (READ_ONCE(p->key) == key)
			return p;
	}
	return NULL;
}

bool vnacct_tracker_remove(struct vnacct_tracker *t, struct vnacct_pkt *pkt,
			   unsigned long key)
{
	/*
	 * Not a plain store: an insert elsewhere may have reclaimed the slot
	 * as stale since our lookup, and the entry is then another packet's.
	 * A successful cmpxchg is fully ordered, so the owner's writes still
	 * come before a new claim of the slot.
	 */
	return cmpxchg(&pkt->key, key, 0UL) == key;
}

struct vnacct_pkt *vnacct_tracker_dup(struct vnacct_tracker *t,
				      struct vnacct_pkt *pkt,
				      unsigned long new_key)
{
	struct vnacct_pkt *np;

	if (new_key == READ_ONCE(pkt->key))
		return pkt;
	np = vnacct_tracker_insert(t, new_key, pkt->t_entry);
	if (!np)
		return NULL;
	WRITE_ONCE(np->last_off, pkt->last_off);
	np->flow = pkt->flow;
	np->copy_ns = pkt->copy_ns;
	np->copy_bytes = pkt->copy_bytes;
	np->stage = pkt->stage;
	return np;
}

struct vnacct_pkt *vnacct_tracker_rekey(struct vnacct_tracker *t,
					struct vnacct_pkt *pkt,
					unsigned long new_key)
{
	unsigned long key = READ_ONCE(pkt->key);
	struct vnacct_pkt *np = vnacct_tracker_dup(t, pkt, new_key);

	if (np && np != pkt)
		vnacct_tracker_remove(t, pkt, key);
	return np;
}

unsigned int vnacct_tracker_in_use(const struct vnacct_tracker *t)
{
	unsigned int i, n = 0;

	if (!t->slots)
		return 0;
	for (i = 0; i <= t->mask; i++)
		n += !!READ_ONCE(t->slots[i].key);
	return n;
}
