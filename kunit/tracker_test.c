// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the vnacct in-flight packet tracker (vnacct/tracker.c):
 * sizing, insert / lookup / remove, skb address reuse, a full probe
 * window, stale reclaim (and a remove racing with it), re-keying and
 * duplication, the entry helpers and concurrent use from several threads.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>

#include "../vnacct/tracker.c"

/* fake skb addresses: slab-like, 256-byte aligned */
#define TR_BASE		0xffff888012340000UL
#define TR_KEY(i)	(TR_BASE + (unsigned long)(i) * 256)

static struct vnacct_tracker *tr_new(struct kunit *test, unsigned int cap)
{
	struct vnacct_tracker *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	KUNIT_ASSERT_EQ(test, vnacct_tracker_init(t, cap), 0);
	return t;
}

/* @n keys from TR_KEY(@from) on that all hash to the same home slot */
static void tr_same_hash(const struct vnacct_tracker *t, unsigned long from,
			 unsigned long *keys, unsigned int n)
{
	unsigned int found = 0, h = vnacct_key_hash(t, TR_KEY(from));
	unsigned long i;

	for (i = from; found < n; i++)
		if (vnacct_key_hash(t, TR_KEY(i)) == h)
			keys[found++] = TR_KEY(i);
}

static void tr_test_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_pkt), (size_t)32);
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_tracker), (size_t)56);
}

static void tr_test_init(struct kunit *test)
{
	struct vnacct_tracker t;

	KUNIT_EXPECT_EQ(test, vnacct_tracker_init(&t, 100), 0);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_capacity(&t), 128U);
	KUNIT_EXPECT_EQ(test, t.bits, 7U);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(&t), 0U);
	vnacct_tracker_destroy(&t);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_capacity(&t), 0U);
	/* destroyed: everything fails softly */
	KUNIT_EXPECT_NULL(test, vnacct_tracker_insert(&t, TR_KEY(1), 0));
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(&t, TR_KEY(1)));
	vnacct_tracker_destroy(&t);

	KUNIT_EXPECT_EQ(test, vnacct_tracker_init(&t, 1), 0);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_capacity(&t), 64U);
	vnacct_tracker_destroy(&t);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_init(&t, 4096), 0);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_capacity(&t), 4096U);
	vnacct_tracker_destroy(&t);

	KUNIT_EXPECT_EQ(test, vnacct_tracker_init(&t, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_init(&t, VNACCT_TRACKER_MAX + 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_capacity(&t), 0U);
}

static void tr_test_basic(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 256);
	struct vnacct_pkt *p, *q;

	KUNIT_EXPECT_NULL(test, vnacct_tracker_insert(t, 0, 5));
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, 0));

	p = vnacct_tracker_insert(t, TR_KEY(1), 1000);
	KUNIT_ASSERT_NOT_NULL(test, p);
	KUNIT_EXPECT_EQ(test, p->key, TR_KEY(1));
	KUNIT_EXPECT_EQ(test, p->t_entry, 1000ULL);
	KUNIT_EXPECT_EQ(test, p->last_off, 0U);
	KUNIT_EXPECT_EQ(test, p->flow, VNACCT_PKT_NO_FLOW);
	KUNIT_EXPECT_EQ(test, (u32)p->stage, 0U);
	KUNIT_EXPECT_EQ(test, (u32)p->copy_bytes, 0U);
	KUNIT_EXPECT_EQ(test, p->copy_ns, 0U);
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, TR_KEY(1)), p);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, TR_KEY(2)));

	q = vnacct_tracker_insert(t, TR_KEY(2), 1100);
	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_PTR_NE(test, p, q);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 2U);

	p->flow = 17;
	KUNIT_EXPECT_EQ(test, vnacct_pkt_advance(p, 3, 1250), 250ULL);
	KUNIT_EXPECT_EQ(test, (u32)vnacct_tracker_lookup(t, TR_KEY(1))->stage, 3U);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_lookup(t, TR_KEY(1))->flow, 17U);

	KUNIT_EXPECT_TRUE(test, vnacct_tracker_remove(t, p, TR_KEY(1)));
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, TR_KEY(1)));
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, TR_KEY(2)), q);
	KUNIT_EXPECT_TRUE(test, vnacct_tracker_remove(t, q, TR_KEY(2)));
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->full), 0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->reused), 0LL);
	vnacct_tracker_destroy(t);
}

static void tr_test_pointer_reuse(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 64);
	struct vnacct_pkt *p, *q;

	p = vnacct_tracker_insert(t, TR_KEY(5), 100);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->flow = 3;
	vnacct_pkt_advance(p, 4, 300);
	vnacct_pkt_add_copy(p, 1500, 200);
	/* the skb was freed unseen and the address handed out again */
	q = vnacct_tracker_insert(t, TR_KEY(5), 5000);
	KUNIT_EXPECT_PTR_EQ(test, p, q);
	KUNIT_EXPECT_EQ(test, q->t_entry, 5000ULL);
	KUNIT_EXPECT_EQ(test, q->last_off, 0U);
	KUNIT_EXPECT_EQ(test, q->flow, VNACCT_PKT_NO_FLOW);
	KUNIT_EXPECT_EQ(test, (u32)q->stage, 0U);
	KUNIT_EXPECT_EQ(test, (u32)q->copy_bytes, 0U);
	KUNIT_EXPECT_EQ(test, q->copy_ns, 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->reused), 1LL);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 1U);
	vnacct_tracker_destroy(t);
}

static void tr_test_full(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 64);
	unsigned long keys[VNACCT_TRACKER_PROBES + 2];
	struct vnacct_pkt *p[VNACCT_TRACKER_PROBES];
	unsigned int i, j;

	tr_same_hash(t, 1, keys, ARRAY_SIZE(keys));
	for (i = 0; i < VNACCT_TRACKER_PROBES; i++) {
		p[i] = vnacct_tracker_insert(t, keys[i], i);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
		for (j = 0; j < i; j++)
			KUNIT_EXPECT_PTR_NE(test, p[i], p[j]);
	}
	/* the probe window is full (nothing stale: default age 2 s) */
	KUNIT_EXPECT_NULL(test, vnacct_tracker_insert(t, keys[8], 100));
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->full), 1LL);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, keys[8]));
	for (i = 0; i < VNACCT_TRACKER_PROBES; i++)
		KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, keys[i]),
				    p[i]);

	/* a hole in the middle: the next insert takes it, later keys stay
	 * reachable past it
	 */
	vnacct_tracker_remove(t, p[3], keys[3]);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, keys[3]));
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, keys[7]), p[7]);
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_insert(t, keys[8], 200),
			    p[3]);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_insert(t, keys[9], 200));
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->full), 2LL);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 8U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->stale), 0LL);
	vnacct_tracker_destroy(t);
}

/*
 * Fills the probe window of one home slot: @keys (at least one more than
 * the window) all hash there, the first VNACCT_TRACKER_PROBES are inserted
 * as @p at times 10, 11, ...; entries idle for 1000 ns are stale.
 */
static void tr_fill_window(struct kunit *test, struct vnacct_tracker *t,
			   unsigned long *keys, unsigned int nkeys,
			   struct vnacct_pkt **p)
{
	unsigned int i;

	vnacct_tracker_set_max_age(t, 1000);
	tr_same_hash(t, 1, keys, nkeys);
	for (i = 0; i < VNACCT_TRACKER_PROBES; i++) {
		p[i] = vnacct_tracker_insert(t, keys[i], 10 + i);
		KUNIT_ASSERT_NOT_NULL(test, p[i]);
	}
}

static void tr_test_stale_reclaim(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 64);
	unsigned long keys[VNACCT_TRACKER_PROBES + 1];
	struct vnacct_pkt *p[VNACCT_TRACKER_PROBES], *n;

	tr_fill_window(test, t, keys, ARRAY_SIZE(keys), p);
	/* key 0 was seen at a later stage: key 1 has the oldest activity */
	vnacct_pkt_advance(p[0], 2, 400);
	/* nothing stale at 1005: the oldest activity (key 1, at 11) is
	 * 994 ns old
	 */
	KUNIT_EXPECT_NULL(test, vnacct_tracker_insert(t, keys[8], 1005));
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->full), 1LL);
	/* stale at 5000: the oldest one is reclaimed */
	n = vnacct_tracker_insert(t, keys[8], 5000);
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_PTR_EQ(test, n, p[1]);
	KUNIT_EXPECT_EQ(test, n->t_entry, 5000ULL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->stale), 1LL);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, keys[1]));
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, keys[8]), n);
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, keys[0]), p[0]);
	/* the reclaimed key comes back: it takes the next-oldest slot */
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_insert(t, keys[1], 5001),
			    p[2]);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->stale), 2LL);
	vnacct_tracker_destroy(t);
}

/*
 * The owner of an entry removes it after another CPU reclaimed its slot as
 * stale for a new packet (the owner was slower than the stale age): the
 * slot is the new packet's, and must stay so.  Played in the order two
 * CPUs can produce it: A looked up, B's insert reclaims A's slot, A's
 * owner removes A.
 */
static void tr_test_remove_reclaimed(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 64);
	unsigned long keys[VNACCT_TRACKER_PROBES + 1];
	struct vnacct_pkt *p[VNACCT_TRACKER_PROBES], *a, *b;

	tr_fill_window(test, t, keys, ARRAY_SIZE(keys), p);
	a = vnacct_tracker_lookup(t, keys[0]);
	KUNIT_ASSERT_PTR_EQ(test, a, p[0]);
	b = vnacct_tracker_insert(t, keys[8], 5000);
	KUNIT_ASSERT_PTR_EQ(test, b, a);
	b->flow = 42;

	KUNIT_EXPECT_FALSE(test, vnacct_tracker_remove(t, a, keys[0]));
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, keys[8]), b);
	KUNIT_EXPECT_EQ(test, b->key, keys[8]);
	KUNIT_EXPECT_EQ(test, b->flow, 42U);
	KUNIT_EXPECT_EQ(test, b->t_entry, 5000ULL);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, keys[0]));
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 8U);
	/* B's own remove still frees the slot */
	KUNIT_EXPECT_TRUE(test, vnacct_tracker_remove(t, b, keys[8]));
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, keys[8]));
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 7U);
	vnacct_tracker_destroy(t);
}

/*
 * An entry whose packet was accounted already (the caller's done stage) is
 * only kept for a later part of a read: reclaiming or reusing it loses no
 * packet, and neither counts.
 */
static void tr_test_done_stage(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 64);
	unsigned long keys[VNACCT_TRACKER_PROBES + 2];
	struct vnacct_pkt *p[VNACCT_TRACKER_PROBES], *n;
	unsigned int i;

	vnacct_tracker_set_done_stage(t, 9);
	tr_fill_window(test, t, keys, ARRAY_SIZE(keys), p);
	/* keys 0 and 1 done, the rest still in flight, 3 to 7 seen later */
	vnacct_pkt_advance(p[0], 9, 20);
	vnacct_pkt_advance(p[1], 9, 21);
	for (i = 3; i < VNACCT_TRACKER_PROBES; i++)
		vnacct_pkt_advance(p[i], 2, 50 + i);
	/* key 0's address comes back: a done entry, reset without a count */
	n = vnacct_tracker_insert(t, keys[0], 30);
	KUNIT_EXPECT_PTR_EQ(test, n, p[0]);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->reused), 0LL);
	/* an in-flight one coming back is a lost packet */
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_insert(t, keys[2], 31), p[2]);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->reused), 1LL);
	/* window full; at 5000 the oldest (key 1, done at 21) is reclaimed
	 * without a count, then the next oldest (key 0 again, in flight
	 * since 30) with one
	 */
	n = vnacct_tracker_insert(t, keys[8], 5000);
	KUNIT_EXPECT_PTR_EQ(test, n, p[1]);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->stale), 0LL);
	n = vnacct_tracker_insert(t, keys[9], 5000);
	KUNIT_EXPECT_PTR_EQ(test, n, p[0]);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->stale), 1LL);
	vnacct_tracker_destroy(t);
}

static void tr_test_rekey_dup(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 64);
	unsigned long keys[VNACCT_TRACKER_PROBES + 1];
	struct vnacct_pkt *p, *n, *d;
	unsigned int i;

	p = vnacct_tracker_insert(t, TR_KEY(1000), 100);
	KUNIT_ASSERT_NOT_NULL(test, p);
	p->flow = 9;
	vnacct_pkt_advance(p, 2, 150);
	vnacct_pkt_add_copy(p, 1448, 321);

	/* re-key to itself: nothing happens */
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_rekey(t, p, TR_KEY(1000)), p);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 1U);

	n = vnacct_tracker_rekey(t, p, TR_KEY(2000));
	KUNIT_ASSERT_NOT_NULL(test, n);
	KUNIT_EXPECT_NULL(test, vnacct_tracker_lookup(t, TR_KEY(1000)));
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, TR_KEY(2000)), n);
	KUNIT_EXPECT_EQ(test, n->key, TR_KEY(2000));
	KUNIT_EXPECT_EQ(test, n->t_entry, 100ULL);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_last_ns(n), 150ULL);
	KUNIT_EXPECT_EQ(test, n->flow, 9U);
	KUNIT_EXPECT_EQ(test, (u32)n->stage, 2U);
	KUNIT_EXPECT_EQ(test, (u32)n->copy_bytes, 1448U);
	KUNIT_EXPECT_EQ(test, n->copy_ns, 321U);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 1U);

	/* a clone: both stay */
	d = vnacct_tracker_dup(t, n, TR_KEY(3000));
	KUNIT_ASSERT_NOT_NULL(test, d);
	KUNIT_EXPECT_PTR_NE(test, d, n);
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, TR_KEY(2000)), n);
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, TR_KEY(3000)), d);
	KUNIT_EXPECT_EQ(test, d->flow, 9U);
	KUNIT_EXPECT_EQ(test, (u32)d->copy_bytes, 1448U);
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 2U);

	/* re-key into a full window: fails, the original stays */
	tr_same_hash(t, 10000, keys, ARRAY_SIZE(keys));
	for (i = 0; i < VNACCT_TRACKER_PROBES; i++)
		vnacct_tracker_insert(t, keys[i], 100);
	/* 8 inserts into keys[8]'s window (some may have found it full
	 * already, if TR_KEY(2000)/(3000) live there): it is full now
	 */
	KUNIT_EXPECT_NULL(test, vnacct_tracker_rekey(t, n, keys[8]));
	KUNIT_EXPECT_PTR_EQ(test, vnacct_tracker_lookup(t, TR_KEY(2000)), n);
	KUNIT_EXPECT_EQ(test, n->flow, 9U);
	vnacct_tracker_destroy(t);
}

static void tr_test_pkt_helpers(struct kunit *test)
{
	struct vnacct_pkt p = { .key = 1, .t_entry = 1000 };

	KUNIT_EXPECT_EQ(test, vnacct_pkt_last_ns(&p), 1000ULL);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_advance(&p, 1, 1300), 300ULL);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_advance(&p, 2, 1350), 50ULL);
	KUNIT_EXPECT_EQ(test, (u32)p.stage, 2U);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_last_ns(&p), 1350ULL);
	/* clock going backwards: 0, the last time stays */
	KUNIT_EXPECT_EQ(test, vnacct_pkt_advance(&p, 3, 1200), 0ULL);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_last_ns(&p), 1350ULL);
	KUNIT_EXPECT_EQ(test, (u32)p.stage, 3U);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_residency(&p, 2000), 1000ULL);
	KUNIT_EXPECT_EQ(test, vnacct_pkt_residency(&p, 10), 0ULL);
	/* the offset saturates after 4.29 s */
	KUNIT_EXPECT_EQ(test, vnacct_pkt_advance(&p, 4, 1000 + 5 * NSEC_PER_SEC),
			5 * NSEC_PER_SEC - 350);
	KUNIT_EXPECT_EQ(test, p.last_off, U32_MAX);
	KUNIT_EXPECT_EQ(test, (u32)p.stage, 4U);

	vnacct_pkt_add_copy(&p, 1000, 50);
	vnacct_pkt_add_copy(&p, 500, 25);
	KUNIT_EXPECT_EQ(test, (u32)p.copy_bytes, 1500U);
	KUNIT_EXPECT_EQ(test, p.copy_ns, 75U);
	vnacct_pkt_add_copy(&p, U32_MAX, 5ULL * NSEC_PER_SEC);
	KUNIT_EXPECT_EQ(test, (u32)p.copy_bytes, VNACCT_PKT_COPY_MAX);
	KUNIT_EXPECT_EQ(test, p.copy_ns, U32_MAX);
	KUNIT_EXPECT_EQ(test, (u32)p.stage, 4U);
	vnacct_pkt_add_copy(&p, 1, 1);
	KUNIT_EXPECT_EQ(test, (u32)p.copy_bytes, VNACCT_PKT_COPY_MAX);
}

#define TR_THREAD_ROUNDS	100000
#define TR_THREAD_LIVE		16

struct tr_thread {
	struct vnacct_tracker *t;
	struct completion done;
	unsigned long base;
	unsigned int errors;
};

/*
 * Insert a new packet each round, check and remove the one inserted
 * TR_THREAD_LIVE rounds before: up to 16 live entries per thread.
 */
static int tr_thread_fn(void *arg)
{
	struct tr_thread *tt = arg;
	struct vnacct_pkt *p;
	unsigned int i;

	for (i = 0; i < TR_THREAD_ROUNDS + TR_THREAD_LIVE; i++) {
		if (i < TR_THREAD_ROUNDS) {
			p = vnacct_tracker_insert(tt->t, tt->base + i * 256UL,
						  i);
			if (!p)
				tt->errors++;
			else
				p->flow = i;
		}
		if (i >= TR_THREAD_LIVE) {
			unsigned int j = i - TR_THREAD_LIVE;
			unsigned long key = tt->base + j * 256UL;

			p = vnacct_tracker_lookup(tt->t, key);
			if (!p || p->flow != j || p->t_entry != j)
				tt->errors++;
			if (p && !vnacct_tracker_remove(tt->t, p, key))
				tt->errors++;
		}
		if (!(i & 1023))
			cond_resched();
	}
	complete(&tt->done);
	return 0;
}

static void tr_test_concurrent(struct kunit *test)
{
	struct vnacct_tracker *t = tr_new(test, 1024);
	struct tr_thread th[4];
	struct task_struct *task;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(th); i++) {
		th[i].t = t;
		th[i].base = TR_BASE + (unsigned long)i * 0x10000000UL;
		th[i].errors = 0;
		init_completion(&th[i].done);
		task = kthread_run(tr_thread_fn, &th[i], "vnacct_tr%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < ARRAY_SIZE(th); i++) {
		wait_for_completion(&th[i].done);
		KUNIT_EXPECT_EQ(test, th[i].errors, 0U);
	}
	KUNIT_EXPECT_EQ(test, vnacct_tracker_in_use(t), 0U);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->full), 0LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->stale), 0LL);
	vnacct_tracker_destroy(t);
}

static struct kunit_case vnacct_tracker_cases[] = {
	KUNIT_CASE(tr_test_layout),
	KUNIT_CASE(tr_test_init),
	KUNIT_CASE(tr_test_basic),
	KUNIT_CASE(tr_test_pointer_reuse),
	KUNIT_CASE(tr_test_full),
	KUNIT_CASE(tr_test_stale_reclaim),
	KUNIT_CASE(tr_test_remove_reclaimed),
	KUNIT_CASE(tr_test_done_stage),
	KUNIT_CASE(tr_test_rekey_dup),
	KUNIT_CASE(tr_test_pkt_helpers),
	KUNIT_CASE(tr_test_concurrent),
	{}
};

static struct kunit_suite vnacct_tracker_suite = {
	.name = "vnacct_tracker",
	.test_cases = vnacct_tracker_cases,
};

kunit_test_suite(vnacct_tracker_suite);
