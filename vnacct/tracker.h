/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct in-flight packet tracker: a fixed-capacity, lock-free,
 * open-addressing table keyed by skb address, holding per packet its entry
 * time, last stage and time, flow slot and copy cost, with bounded
 * probing, stale-entry reclaim and re-keying for skb copies.
 */
#ifndef _VNACCT_TRACKER_H
#define _VNACCT_TRACKER_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/compiler.h>
#include <linux/limits.h>
#include <linux/time64.h>
#include <linux/types.h>

/* slots probed per key: a key lives in one of 8 consecutive slots */
#define VNACCT_TRACKER_PROBES	8
/* smallest and largest table (entries, after rounding to a power of 2) */
#define VNACCT_TRACKER_MIN	64
#define VNACCT_TRACKER_MAX	BIT(24)
/* default age after which an entry may be reclaimed by insert */
#define VNACCT_TRACKER_MAX_AGE_NS	(2ULL * NSEC_PER_SEC)
/* &vnacct_pkt.flow before the caller sets one */
#define VNACCT_PKT_NO_FLOW	U32_MAX
/* &vnacct_pkt.copy_bytes saturates here */
#define VNACCT_PKT_COPY_MAX	((1U << 24) - 1)

/**
 * struct vnacct_pkt - one in-flight packet
 * @key: skb address; 0 when the slot is free
 * @t_entry: time the packet entered the host, ns
 * @last_off: time of the last stage, as ns after @t_entry (saturates at
 *	U32_MAX, 4.29 s)
 * @flow: flow slot index, VNACCT_PKT_NO_FLOW until set
 * @copy_ns: ns spent copying the packet's data so far (saturating)
 * @copy_bytes: bytes copied so far (saturates at VNACCT_PKT_COPY_MAX, 16 MiB)
 * @stage: id of the last stage the packet was seen at (caller-defined)
 *
 * Size: 32 bytes on 64-bit (two per cache line, never straddling one).
 * Only @key is shared: every other field belongs to the CPU currently
 * processing the skb (see &struct vnacct_tracker).
 */
struct vnacct_pkt {
	unsigned long key;
	u64 t_entry;
	u32 last_off;
	u32 flow;
	u32 copy_ns;
	u32 copy_bytes:24;
	u32 stage:8;
};

/**
 * struct vnacct_tracker - table of in-flight packets
 * @slots: the entries, allocated once by vnacct_tracker_init()
 * @mask: number of slots - 1 (a power of two minus one)
 * @bits: log2 of the number of slots
 * @max_age_ns: entries whose last stage is older than this may be
 *	reclaimed by an insert that finds no free slot; set with
 *	vnacct_tracker_set_max_age()
 * @done_stage: &vnacct_pkt.stage of an entry whose packet has already been
 *	accounted (kept only for a later part of a read): reclaiming or
 *	reusing it loses nothing, and counts in neither @stale nor @reused;
 *	set with vnacct_tracker_set_done_stage(), 0 (none) by default
 * @full: inserts that found no free or stale slot (packet not tracked)
 * @stale: stale entries reclaimed (skb freed without a hook seeing it)
 *	before their packet was accounted
 * @reused: inserts that found their own key (skb address reused after a
 *	free that no hook saw) before its packet was accounted: the entry was
 *	reset
 *
 * Memory: 32 bytes per slot plus this 56-byte header.
 *
 * Concurrency: lock-free, no lock at all. A slot is claimed by a
 * compare-and-exchange of @key from 0 (or from a stale key) to the skb
 * address, so two CPUs inserting different skbs never get the same slot.
 * One skb is processed by one CPU at a time (it is handed over between
 * CPUs through queues whose locks/barriers order our writes too), so only
 * that CPU reads or writes the entry's other fields: lookups need no
 * barrier. vnacct_tracker_remove() frees a slot with a compare-and-exchange
 * of @key to 0, so the owner's last writes are ordered before the slot can
 * be claimed (by a fully ordered cmpxchg) and re-initialised by another
 * CPU. The only race is reclaiming an entry as stale while its skb is in
 * fact still being processed (the caller's age is shorter than a real
 * residency): both packets' numbers may then be wrong, but the owner's
 * remove leaves the slot to the packet that reclaimed it, and memory stays
 * safe, since slots live in one array that is freed only by
 * vnacct_tracker_destroy().
 * Probing is bounded to VNACCT_TRACKER_PROBES slots.
 */
struct vnacct_tracker {
	struct vnacct_pkt *slots;
	unsigned int mask;
	unsigned int bits;
	u64 max_age_ns;
	u8 done_stage;
	atomic64_t full;
	atomic64_t stale;
	atomic64_t reused;
};

/**
 * vnacct_tracker_init() - allocate a tracker
 * @t: tracker
 * @capacity: number of entries, rounded up to a power of two, at least
 *	VNACCT_TRACKER_MIN, at most VNACCT_TRACKER_MAX
 *
 * Context: process context, may sleep (kvcalloc()).
 *
 * Return: 0, -EINVAL for a bad @capacity, -ENOMEM.
 */
int vnacct_tracker_init(struct vnacct_tracker *t, unsigned int capacity);

/**
 * vnacct_tracker_destroy() - free a tracker
 * @t: tracker; no CPU may use it any more (e.g. after the probes are
 *	unregistered and tracepoint_synchronize_unregister())
 *
 * Context: process context.
 */
void vnacct_tracker_destroy(struct vnacct_tracker *t);

/**
 * vnacct_tracker_set_max_age() - set the stale-entry age
 * @t: tracker
 * @ns: entries whose last stage is older than @ns may be reclaimed
 *
 * Context: any.
 */
void vnacct_tracker_set_max_age(struct vnacct_tracker *t, u64 ns);

/**
 * vnacct_tracker_set_done_stage() - name the stage of accounted entries
 * @t: tracker
 * @stage: &vnacct_pkt.stage value the caller gives a packet it has
 *	accounted but keeps (not 0)
 *
 * Context: before the tracker is used.
 */
void vnacct_tracker_set_done_stage(struct vnacct_tracker *t, u8 stage);

/**
 * vnacct_tracker_capacity() - number of slots
 * @t: tracker
 *
 * Return: the capacity after rounding.
 */
unsigned int vnacct_tracker_capacity(const struct vnacct_tracker *t);

/**
 * vnacct_tracker_insert() - start tracking a packet
 * @t: tracker
 * @key: skb address (not 0)
 * @now_ns: entry time
 *
 * When @key is already present (the address was reused after a free no
 * hook saw) that entry is reset and @reused counted. Otherwise the first
 * free slot among the key's VNACCT_TRACKER_PROBES is claimed, else the one
 * whose last stage is oldest and older than @max_age_ns (@stale counted).
 * The entry is initialised: @t_entry = @now_ns, @last_off 0, @flow
 * VNACCT_PKT_NO_FLOW, copy counters 0, @stage 0.
 *
 * Context: any; no allocation, bounded (two passes over 8 slots).
 *
 * Return: the entry, or NULL when the probe window is full (@full counted;
 * the caller counts the packet as untracked).
 */
struct vnacct_pkt *vnacct_tracker_insert(struct vnacct_tracker *t,
					 unsigned long key, u64 now_ns);

/**
 * vnacct_tracker_lookup() - find the entry of a packet
 * @t: tracker
 * @key: skb address
 *
 * Context: any; reads at most VNACCT_TRACKER_PROBES keys.
 *
 * Return: the entry or NULL.
 */
struct vnacct_pkt *vnacct_tracker_lookup(struct vnacct_tracker *t,
					 unsigned long key);

/**
 * vnacct_tracker_remove() - stop tracking a packet
 * @t: tracker
 * @pkt: entry from insert or lookup; not to be used afterwards
 * @key: the key @pkt was inserted or looked up with
 *
 * Frees the slot only while it still holds @key: when an insert has
 * reclaimed it as stale meanwhile, it belongs to that packet and stays.
 *
 * Context: any.
 *
 * Return: true if the slot was freed, false if it held another key.
 */
bool vnacct_tracker_remove(struct vnacct_tracker *t, struct vnacct_pkt *pkt,
			   unsigned long key);

/**
 * vnacct_tracker_dup() - track a copy or clone of a packet
 * @t: tracker
 * @pkt: entry of the original
 * @new_key: address of the new skb
 *
 * Inserts @new_key as vnacct_tracker_insert() does and copies every field
 * of @pkt but the key into it; @pkt stays. For clones, which live on
 * alongside the original.
 *
 * Context: any; bounded.
 *
 * Return: the new entry, @pkt itself if @new_key is its key, or NULL when
 * full.
 */
struct vnacct_pkt *vnacct_tracker_dup(struct vnacct_tracker *t,
				      struct vnacct_pkt *pkt,
				      unsigned long new_key);

/**
 * vnacct_tracker_rekey() - move a packet's entry to a new skb address
 * @t: tracker
 * @pkt: entry of the original
 * @new_key: address of the new skb
 *
 * For skb copies that replace the original (skb_copy(), pskb_copy(),
 * skb_unshare()): vnacct_tracker_dup() then vnacct_tracker_remove() of
 * @pkt. When the table is full, @pkt is left as it was.
 *
 * Context: any; bounded.
 *
 * Return: the new entry (@pkt when @new_key is its key), or NULL.
 */
struct vnacct_pkt *vnacct_tracker_rekey(struct vnacct_tracker *t,
					struct vnacct_pkt *pkt,
					unsigned long new_key);

/**
 * vnacct_tracker_in_use() - count the occupied slots
 * @t: tracker
 *
 * Context: any, but O(capacity): for statistics readers only.
 *
 * Return: the number of entries in use (a racy snapshot).
 */
unsigned int vnacct_tracker_in_use(const struct vnacct_tracker *t);

/**
 * vnacct_pkt_last_ns() - time of a packet's last stage
 * @pkt: entry
 *
 * Return: @t_entry + @last_off, ns.
 */
static inline u64 vnacct_pkt_last_ns(const struct vnacct_pkt *pkt)
{
	return READ_ONCE(pkt->t_entry) + READ_ONCE(pkt->last_off);
}

/**
 * vnacct_pkt_advance() - move a packet to its next stage
 * @pkt: entry
 * @stage: the stage reached
 * @now_ns: current time
 *
 * Return: ns spent since the previous stage (or since entry), 0 if the
 * clock went backwards.
 */
static inline u64 vnacct_pkt_advance(struct vnacct_pkt *pkt, u8 stage,
				     u64 now_ns)
{
	u64 last = vnacct_pkt_last_ns(pkt), off;

	if (now_ns < last)
		now_ns = last;
	off = now_ns - pkt->t_entry;
	WRITE_ONCE(pkt->last_off, off > U32_MAX ? U32_MAX : (u32)off);
	pkt->stage = stage;
	return now_ns - last;
}

/**
 * vnacct_pkt_residency() - time since the packet entered the host
 * @pkt: entry
 * @now_ns: current time
 *
 * Return: ns since @t_entry, 0 if the clock went backwards.
 */
static inline u64 vnacct_pkt_residency(const struct vnacct_pkt *pkt,
				       u64 now_ns)
{
	return now_ns > pkt->t_entry ? now_ns - pkt->t_entry : 0;
}

/**
 * vnacct_pkt_add_copy() - account a data copy of the packet
 * @pkt: entry
 * @bytes: bytes copied
 * @ns: time the copy took
 *
 * Both counters saturate instead of wrapping.
 */
static inline void vnacct_pkt_add_copy(struct vnacct_pkt *pkt, u32 bytes,
				       u64 ns)
{
	u64 b = (u64)pkt->copy_bytes + bytes, n = (u64)pkt->copy_ns + ns;

	pkt->copy_bytes = b > VNACCT_PKT_COPY_MAX ? VNACCT_PKT_COPY_MAX : b;
	pkt->copy_ns = n > U32_MAX ? U32_MAX : (u32)n;
}

#endif /* _VNACCT_TRACKER_H */
