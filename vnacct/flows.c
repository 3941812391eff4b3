// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct flow table: a fixed array of flow records allocated at load, found
 * through an open-addressing index.  Lookups are lock-free; creating and
 * removing flows takes one raw spinlock.  Removed records are reused only
 * after an RCU grace period, so a packet-path probe or a reader never sees
 * a record change identity under it.
 */
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>

#include "acct.h"
#include "vnacct.h"

/* A key is found within this many index slots of its hash, or not at all. */
#define VNACCT_FLOW_PROBES	32

static struct vnacct_flow *vnacct_flows;
static unsigned int vnacct_max_flows;
/* index slot -> flow number + 1; 0 is empty */
static u32 *vnacct_index;
static unsigned int vnacct_index_mask;
static u32 vnacct_hash_seed;
/* flow numbers not in use, a stack */
static u32 *vnacct_free;
static unsigned int vnacct_nr_free;
/*
 * Serialises creation and removal (index and free stack).  Raw: taken from
 * tracepoint and kprobe handlers, which must not sleep even on PREEMPT_RT;
 * irqsave: netif_rx() may run in hard interrupt context.  Held for at most
 * VNACCT_FLOW_PROBES index steps.
 */
static DEFINE_RAW_SPINLOCK(vnacct_flows_lock);
/*
 * Serialises removals (the expiry work, resets from debugfs and netlink):
 * a removal frees its records only after an RCU grace period, and a reset
 * must not return while an expiry still holds records it took out of the
 * index (the table would look full to the packets that follow).
 */
static DEFINE_MUTEX(vnacct_flows_remove_lock);

static void vnacct_flow_clear(struct vnacct_flow *f)
{
	unsigned int i;

	memset(f, 0, offsetof(struct vnacct_flow, total));
	vnacct_hist_init(&f->total);
	for (i = 0; i < VNACCT_STAGE_COUNT; i++)
		vnacct_hist_init(&f->stage[i]);
	vnacct_hist_init(&f->drtt);
	vnacct_rtt_init(&f->rtt);
}

/* A record in memory from vzalloc(): an empty flow but for the minima. */
static void vnacct_flow_init_zeroed(struct vnacct_flow *f)
{
	unsigned int i;

	vnacct_hist_init_zeroed(&f->total);
	for (i = 0; i < VNACCT_STAGE_COUNT; i++)
		vnacct_hist_init_zeroed(&f->stage[i]);
	vnacct_hist_init_zeroed(&f->drtt);
}

int vnacct_flows_init(unsigned int max_flows)
{
	unsigned int i, index_size;

	if (max_flows < 16 || max_flows > (1U << 20))
		return -EINVAL;
	index_size = roundup_pow_of_two(max_flows * 2);
	vnacct_flows = vzalloc(array_size(max_flows, sizeof(*vnacct_flows)));
	vnacct_index = kvcalloc(index_size, sizeof(*vnacct_index), GFP_KERNEL);
	vnacct_free = kvcalloc(max_flows, sizeof(*vnacct_free), GFP_KERNEL);
	if (!vnacct_flows || !vnacct_index || !vnacct_free) {
		vnacct_flows_exit();
		return -ENOMEM;
	}
	vnacct_max_flows = max_flows;
	vnacct_index_mask = index_size - 1;
	vnacct_hash_seed = get_random_u32();
	for (i = 0; i < max_flows; i++) {
		vnacct_flow_init_zeroed(&vnacct_flows[i]);
		vnacct_free[i] = max_flows - 1 - i;
	}
	vnacct_nr_free = max_flows;
	return 0;
}

void vnacct_flows_exit(void)
{
	vfree(vnacct_flows);
	kvfree(vnacct_index);
	kvfree(vnacct_free);
	vnacct_flows = NULL;
	vnacct_index = NULL;
	vnacct_free = NULL;
}

static struct vnacct_flow *vnacct_flow_find(const struct vnacct_flow_key *key,
					    u32 hash)
{
	unsigned int i;

	for (i = 0; i < VNACCT_FLOW_PROBES; i++) {
		/* Pairs with the release in vnacct_flow_get(): key first. */
		u32 v = smp_load_acquire(&vnacct_index[(hash + i) &
						 vnacct_index_mask]);
		struct vnacct_flow *f;

		if (!v)
			return NULL;
		f = &vnacct_flows[v - 1];
		if (f->hash == hash && !memcmp(&f->key, key, sizeof(*key)))
			return f;
	}
	return NULL;
}

/**
 * vnacct_flow_lookup() - the flow record of a key, if it exists
 * @key: flow key
 *
 * Context: any, including hard interrupts; lock-free.
 * Return: the record, or NULL.
 */
struct vnacct_flow *vnacct_flow_lookup(const struct vnacct_flow_key *key)
{
	return vnacct_flow_find(key, vnacct_flow_hash(key, vnacct_hash_seed));
}

/**
 * vnacct_flow_get() - the flow record of a key, created when new
 * @key: flow key
 * @now: time of the packet, ns
 *
 * Context: any, including hard interrupts; no allocation.
 * Return: the record, or NULL when the table is full (counted).
 */
struct vnacct_flow *vnacct_flow_get(const struct vnacct_flow_key *key, u64 now)
{
	u32 hash = vnacct_flow_hash(key, vnacct_hash_seed);
	struct vnacct_flow *f;
	unsigned long flags;
	unsigned int i;

	f = vnacct_flow_find(key, hash);
	if (f)
		return f;

	raw_spin_lock_irqsave(&vnacct_flows_lock, flags);
	/* Another CPU may have created it, or a removal moved it. */
	f = vnacct_flow_find(key, hash);
	if (f || !vnacct_nr_free)
		goto out;
	for (i = 0; i < VNACCT_FLOW_PROBES; i++) {
		u32 *slot = &vnacct_index[(hash + i) & vnacct_index_mask];
		u32 n;

		if (*slot)
			continue;
		n = vnacct_free[--vnacct_nr_free];
		f = &vnacct_flows[n];
		f->key = *key;
		f->hash = hash;
		f->first_ns = now;
		f->last_ns = now;
		/* Key and hash visible before the index points at them. */
		smp_store_release(slot, n + 1);
		WRITE_ONCE(f->live, true);
		/* Netlink dumps in progress see the table changed. */
		vnacct_nl_flows_changed();
		break;
	}
out:
	raw_spin_unlock_irqrestore(&vnacct_flows_lock, flags);
	if (!f)
		atomic64_inc(&vnacct_ctr.flows_full);
	return f;
}

/* Removes index slot @pos, shifting later entries of its run back. */
static void vnacct_index_delete(unsigned int pos)
{
	unsigned int next = pos, home;
	u32 v;

	lockdep_assert_held(&vnacct_flows_lock);
	for (;;) {
		WRITE_ONCE(vnacct_index[pos], 0);
		for (;;) {
			next = (next + 1) & vnacct_index_mask;
			v = vnacct_index[next];
			if (!v)
				return;
			home = vnacct_flows[v - 1].hash & vnacct_index_mask;
			/* Can the entry at next move back to pos? */
			if (((next - home) & vnacct_index_mask) >=
			    ((next - pos) & vnacct_index_mask))
				break;
		}
		WRITE_ONCE(vnacct_index[pos], v);
		pos = next;
	}
}

/*
 * Removes the flows @pick selects from the index, waits until no probe or
 * reader can still hold them, then clears and frees them.
 */
static unsigned int vnacct_flows_remove(bool (*pick)(struct vnacct_flow *f,
						     u64 now, u64 idle),
					u64 now, u64 idle)
{
	unsigned int pos, n = 0, i;
	unsigned long flags;
	u32 *gone;

	gone = kvcalloc(vnacct_max_flows, sizeof(*gone), GFP_KERNEL);
	if (!gone)
		return 0;
	raw_spin_lock_irqsave(&vnacct_flows_lock, flags);
	pos = 0;
	while (pos <= vnacct_index_mask) {
		u32 v = vnacct_index[pos];

		if (v && pick(&vnacct_flows[v - 1], now, idle)) {
			WRITE_ONCE(vnacct_flows[v - 1].live, false);
			gone[n++] = v - 1;
			/* The slot now holds a shifted entry: look again. */
			vnacct_index_delete(pos);
			continue;
		}
		pos++;
	}
	raw_spin_unlock_irqrestore(&vnacct_flows_lock, flags);
	if (!n)
		goto out;
	vnacct_nl_flows_changed();

	/* Probes run with preemption off; readers under rcu_read_lock(). */
	synchronize_rcu();
	for (i = 0; i < n; i++)
		vnacct_flow_clear(&vnacct_flows[gone[i]]);

	raw_spin_lock_irqsave(&vnacct_flows_lock, flags);
	for (i = 0; i < n; i++)
		vnacct_free[vnacct_nr_free++] = gone[i];
	raw_spin_unlock_irqrestore(&vnacct_flows_lock, flags);
out:
	kvfree(gone);
	return n;
}

static bool vnacct_flow_idle(struct vnacct_flow *f, u64 now, u64 idle)
{
	u64 last = READ_ONCE(f->last_ns);

	return now > last && now - last > idle;
}

static bool vnacct_flow_any(struct vnacct_flow *f, u64 now, u64 idle)
{
	return true;
}

/**
 * vnacct_flows_expire() - remove flows idle for longer than @idle_ns
 * @now: current time, ns
 * @idle_ns: idle time after which a flow goes
 *
 * Context: process context, sleeps (RCU grace period).
 */
void vnacct_flows_expire(u64 now, u64 idle_ns)
{
	mutex_lock(&vnacct_flows_remove_lock);
	atomic64_add(vnacct_flows_remove(vnacct_flow_idle, now, idle_ns),
		     &vnacct_ctr.flows_evicted);
	mutex_unlock(&vnacct_flows_remove_lock);
}

/**
 * vnacct_flows_reset() - remove every flow
 *
 * Context: process context, sleeps (RCU grace period).
 */
void vnacct_flows_reset(void)
{
	mutex_lock(&vnacct_flows_remove_lock);
	vnacct_flows_remove(vnacct_flow_any, 0, 0);
	mutex_unlock(&vnacct_flows_remove_lock);
}

unsigned int vnacct_flows_count(void)
{
	return vnacct_max_flows - READ_ONCE(vnacct_nr_free);
}

unsigned int vnacct_flows_capacity(void)
{
	return vnacct_max_flows;
}

/**
 * vnacct_flow_at() - the flow record in slot @idx, if live
 * @idx: 0 .. vnacct_flows_capacity() - 1
 *
 * Context: under rcu_read_lock(), which keeps the record from being
 * cleared for reuse while the caller reads it.
 * Return: the record or NULL.
 */
struct vnacct_flow *vnacct_flow_at(unsigned int idx)
{
	struct vnacct_flow *f = &vnacct_flows[idx];

	return READ_ONCE(f->live) ? f : NULL;
}

unsigned int vnacct_flow_index(const struct vnacct_flow *f)
{
	return f - vnacct_flows;
}

/**
 * vnacct_flow_add_copy() - add a copy to the flow in slot @idx
 * @idx: flow slot from vnacct_flow_index()
 * @kind: &enum vnacct_copy
 * @bytes: bytes copied
 * @ns: time the copy took
 *
 * For copies made after the packet was committed to its flow.  The slot
 * may have been reused by then: the copy then lands in that flow, an error
 * bounded by the tracker's stale age (flows live longer).
 */
void vnacct_flow_add_copy(unsigned int idx, unsigned int kind, u32 bytes,
			  u64 ns)
{
	struct vnacct_flow *f;

	if (idx >= vnacct_max_flows || kind >= VNACCT_COPY_COUNT)
		return;
	f = &vnacct_flows[idx];
	vnacct_flow_update_begin(f);
	atomic64_add(bytes, &f->copy_bytes[kind]);
	atomic64_add(ns, &f->copy_ns[kind]);
	vnacct_flow_update_end(f);
}

size_t vnacct_flows_memory(void)
{
	return (size_t)vnacct_max_flows * (sizeof(*vnacct_flows) +
					   sizeof(*vnacct_free)) +
	       (size_t)(vnacct_index_mask + 1) * sizeof(*vnacct_index);
}
