// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the vnacct log-linear histogram (vnacct/hist.c): bucket
 * layout, every power-of-two boundary, relative error over the range,
 * statistics, percentiles against a sorted reference, a bucket past 2^32
 * values, reset, merge and concurrent adds. Also carries the module information of vnacct_kunit.ko.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sort.h>

#include "../vnacct/hist.c"

/* deterministic xorshift64* so failures reproduce */
static u64 hist_rand(u64 *state)
{
	u64 x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* log-uniform value in [64, 2^35) */
static u64 hist_rand_ns(u64 *state)
{
	unsigned int shift = VNACCT_HIST_MIN_SHIFT +
		hist_rand(state) % (VNACCT_HIST_MAX_SHIFT + 1 -
				    VNACCT_HIST_MIN_SHIFT);
	u64 v = hist_rand(state) & (BIT_ULL(shift + 1) - 1);

	return v | BIT_ULL(shift);
}

static void hist_test_layout(struct kunit *test)
{
	unsigned int b;

	KUNIT_EXPECT_EQ(test, VNACCT_HIST_BUCKETS, 234);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_lower(0), 0ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_upper(0), 63ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_lower(1), 64ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_upper(1), 71ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_lower(VNACCT_HIST_OVERFLOW),
			BIT_ULL(35));
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_upper(VNACCT_HIST_OVERFLOW),
			U64_MAX);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_upper(VNACCT_HIST_BUCKETS),
			U64_MAX);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket_lower(VNACCT_HIST_BUCKETS),
			0ULL);
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_hist), (size_t)1904);
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_hist_snap), (size_t)1904);

	for (b = 0; b < VNACCT_HIST_BUCKETS; b++) {
		u64 lo = vnacct_hist_bucket_lower(b);
		u64 hi = vnacct_hist_bucket_upper(b);

		KUNIT_EXPECT_LE_MSG(test, lo, hi, "bucket %u", b);
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(lo), b,
				    "lower of %u", b);
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(hi), b,
				    "upper of %u", b);
		if (b + 1 < VNACCT_HIST_BUCKETS)
			KUNIT_EXPECT_EQ_MSG(test, hi + 1,
					    vnacct_hist_bucket_lower(b + 1),
					    "gap after %u", b);
		/* every log-linear bucket is at most 1/8 of its lower bound */
		if (b >= 1 && b < VNACCT_HIST_OVERFLOW)
			KUNIT_EXPECT_LE_MSG(test, (hi - lo + 1) * 8, lo,
					    "width of %u", b);
	}
}

static void hist_test_pow2_boundaries(struct kunit *test)
{
	unsigned int shift, b;

	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(0), 0U);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(63), 0U);
	KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(U64_MAX),
			(unsigned int)VNACCT_HIST_OVERFLOW);

	for (shift = 0; shift < 64; shift++) {
		u64 v = BIT_ULL(shift);

		if (shift < VNACCT_HIST_MIN_SHIFT) {
			KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v), 0U);
			KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v - 1), 0U);
			KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v + 1), 0U);
			continue;
		}
		if (shift > VNACCT_HIST_MAX_SHIFT) {
			KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(v),
					    (unsigned int)VNACCT_HIST_OVERFLOW,
					    "2^%u", shift);
			KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v + 1),
					(unsigned int)VNACCT_HIST_OVERFLOW);
			if (shift == VNACCT_HIST_MAX_SHIFT + 1)
				KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v - 1),
						(unsigned int)VNACCT_HIST_OVERFLOW - 1);
			continue;
		}
		/* a power of two starts the first sub-bucket of its octave */
		b = 1 + (shift - VNACCT_HIST_MIN_SHIFT) * VNACCT_HIST_SUB;
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(v), b, "2^%u",
				    shift);
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket_lower(b), v,
				    "2^%u", shift);
		/* the value before it closes the previous bucket */
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(v - 1), b - 1,
				    "2^%u - 1", shift);
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket_upper(b - 1),
				    v - 1, "2^%u - 1", shift);
		/* the last sub-bucket of the octave ends at 2^(shift+1) - 1 */
		KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(2 * v - 1),
				    b + VNACCT_HIST_SUB - 1, "2^%u", shift + 1);
		/* sub-bucket boundaries inside the octave */
		KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v + v / 8), b + 1);
		KUNIT_EXPECT_EQ(test, vnacct_hist_bucket(v + v / 8 - 1), b);
	}
}

static void hist_test_relative_error(struct kunit *test)
{
	u64 seed = 0x9e3779b97f4a7c15ULL;
	unsigned int i, b;

	for (i = 0; i < 200000; i++) {
		u64 v = hist_rand_ns(&seed), lo, hi, mid, err;

		b = vnacct_hist_bucket(v);
		lo = vnacct_hist_bucket_lower(b);
		hi = vnacct_hist_bucket_upper(b);
		if (lo > v || hi < v || (hi - lo + 1) * 8 > v) {
			KUNIT_FAIL(test, "v=%llu b=%u [%llu, %llu]", v, b, lo,
				   hi);
			return;
		}
		/* the reported midpoint is within 1/16 of the value */
		mid = lo + (hi - lo + 1) / 2;
		err = mid > v ? mid - v : v - mid;
		if (err * 16 > v) {
			KUNIT_FAIL(test, "v=%llu mid=%llu", v, mid);
			return;
		}
	}
}

static void hist_test_stats(struct kunit *test)
{
	struct vnacct_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct vnacct_hist_snap *s = kunit_kzalloc(test, sizeof(*s),
						   GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, s);
	vnacct_hist_init(h);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->count, 0ULL);
	KUNIT_EXPECT_EQ(test, s->min, 0ULL);
	KUNIT_EXPECT_EQ(test, s->max, 0ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 5000), 0ULL);

	vnacct_hist_add(h, 1000);
	vnacct_hist_add(h, 10);
	vnacct_hist_add(h, 1000000);
	vnacct_hist_add(h, 1000);
	vnacct_hist_add(h, BIT_ULL(40));
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->count, 5ULL);
	KUNIT_EXPECT_EQ(test, s->sum, 1002010ULL + BIT_ULL(40));
	KUNIT_EXPECT_EQ(test, s->min, 10ULL);
	KUNIT_EXPECT_EQ(test, s->max, BIT_ULL(40));
	KUNIT_EXPECT_EQ(test, s->buckets[0], 1ULL);
	KUNIT_EXPECT_EQ(test, s->buckets[vnacct_hist_bucket(1000)], 2ULL);
	KUNIT_EXPECT_EQ(test, s->buckets[vnacct_hist_bucket(1000000)], 1ULL);
	KUNIT_EXPECT_EQ(test, s->buckets[VNACCT_HIST_OVERFLOW], 1ULL);

	/* p100 in the overflow bucket is the maximum; p0 is the minimum */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 10000), BIT_ULL(40));
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 20000), BIT_ULL(40));
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 0), 10ULL);
	/* p50 = 3rd of 5 = 1000: bucket [960, 1023], midpoint 992 */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 5000), 992ULL);
	/* p40 = 2nd of 5 = 1000 as well */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 4000), 992ULL);
	/* p70 = 4th of 5 = 10^6: bucket [983040, 1048575] */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 7000), 1015808ULL);

	vnacct_hist_reset(h);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->count, 0ULL);
	KUNIT_EXPECT_EQ(test, s->sum, 0ULL);
	KUNIT_EXPECT_EQ(test, s->max, 0ULL);
	KUNIT_EXPECT_EQ(test, s->buckets[0], 0ULL);
	KUNIT_EXPECT_EQ(test, s->buckets[VNACCT_HIST_OVERFLOW], 0ULL);
	vnacct_hist_add(h, 500);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->min, 500ULL);
	KUNIT_EXPECT_EQ(test, s->max, 500ULL);
	/* one value: clamping makes every percentile exact */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 9990), 500ULL);
}

/*
 * A bucket that has counted 2^32 values (71 minutes at 1 Mpps) counts on:
 * it must neither wrap to a small count, which Prometheus would read as a
 * counter going backwards, nor lose its weight in the percentiles.
 */
static void hist_test_bucket_past_u32(struct kunit *test)
{
	struct vnacct_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct vnacct_hist_snap *s = kunit_kzalloc(test, sizeof(*s),
						   GFP_KERNEL);
	unsigned int b = vnacct_hist_bucket(1000), i;
	u64 prev;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, s);
	vnacct_hist_init(h);
	/* 2^32 - 2 values of 1000 ns, without adding each */
	atomic64_set(&h->buckets[b], U32_MAX - 1);
	atomic64_set(&h->count, U32_MAX - 1);
	atomic64_set(&h->sum, (U32_MAX - 1ULL) * 1000);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->buckets[b], (u64)U32_MAX - 1);
	prev = s->buckets[b];
	for (i = 0; i < 4; i++) {
		vnacct_hist_add(h, 1000);
		vnacct_hist_snapshot(h, s);
		KUNIT_EXPECT_EQ_MSG(test, s->buckets[b], prev + 1, "add %u", i);
		prev = s->buckets[b];
	}
	KUNIT_EXPECT_EQ(test, s->buckets[b], (u64)U32_MAX + 3);
	KUNIT_EXPECT_EQ(test, s->count, (u64)U32_MAX + 3);

	/* one value elsewhere: p99 is still in the full bucket */
	vnacct_hist_add(h, 100000);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->buckets[b], (u64)U32_MAX + 3);
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 9900), 1000ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 10000), 100000ULL);

	vnacct_hist_reset(h);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, s->buckets[b], 0ULL);
}

static void hist_test_small_values(struct kunit *test)
{
	struct vnacct_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct vnacct_hist_snap *s = kunit_kzalloc(test, sizeof(*s),
						   GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, s);
	vnacct_hist_init(h);
	for (i = 0; i < 10; i++)
		vnacct_hist_add(h, 0);
	vnacct_hist_snapshot(h, s);
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 5000), 0ULL);
	for (i = 0; i < 10; i++)
		vnacct_hist_add(h, 60);
	vnacct_hist_snapshot(h, s);
	/* underflow bucket: midpoint 32, within 32 ns of anything in it */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 5000), 32ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 9000), 32ULL);
	/* the extremes are exact */
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 10000), 60ULL);
	KUNIT_EXPECT_EQ(test, vnacct_hist_percentile(s, 0), 0ULL);
}

static int hist_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static void hist_test_percentiles(struct kunit *test)
{
	static const unsigned int pct[] = {
		0, 1, 100, 1000, 2500, 5000, 7500, 9000, 9900, 9990, 9999,
		10000,
	};
	const unsigned int n = 10007;
	struct vnacct_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct vnacct_hist_snap *s = kunit_kzalloc(test, sizeof(*s),
						   GFP_KERNEL);
	u64 *v = kunit_kcalloc(test, n, sizeof(*v), GFP_KERNEL);
	u64 seed = 12345;
	unsigned int i, round;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, s);
	KUNIT_ASSERT_NOT_NULL(test, v);

	/* round 0: log-uniform over the range; round 1: clustered */
	for (round = 0; round < 2; round++) {
		vnacct_hist_init(h);
		for (i = 0; i < n; i++) {
			v[i] = round ? 20000 + hist_rand(&seed) % 3000 :
				       hist_rand_ns(&seed);
			vnacct_hist_add(h, v[i]);
		}
		sort(v, n, sizeof(*v), hist_cmp_u64, NULL);
		vnacct_hist_snapshot(h, s);
		KUNIT_EXPECT_EQ(test, s->min, v[0]);
		KUNIT_EXPECT_EQ(test, s->max, v[n - 1]);

		for (i = 0; i < ARRAY_SIZE(pct); i++) {
			/* nearest rank, 1-based */
			u64 rank = DIV_ROUND_UP((u64)n * pct[i], 10000);
			u64 ref = v[rank ? rank - 1 : 0];
			u64 est = vnacct_hist_percentile(s, pct[i]);
			u64 err = est > ref ? est - ref : ref - est;

			KUNIT_EXPECT_TRUE_MSG(test, err * 16 <= ref,
					      "round %u p%u: est %llu ref %llu",
					      round, pct[i], est, ref);
			/* and in the same bucket as the reference */
			KUNIT_EXPECT_EQ_MSG(test, vnacct_hist_bucket(est),
					    vnacct_hist_bucket(ref),
					    "round %u p%u", round, pct[i]);
		}
	}
}

static void hist_test_merge(struct kunit *test)
{
	struct vnacct_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct vnacct_hist_snap *a = kunit_kzalloc(test, sizeof(*a),
						   GFP_KERNEL);
	struct vnacct_hist_snap *b = kunit_kzalloc(test, sizeof(*b),
						   GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, a);
	KUNIT_ASSERT_NOT_NULL(test, b);
	vnacct_hist_init(h);
	vnacct_hist_snapshot(h, a);	/* empty */
	vnacct_hist_add(h, 100);
	vnacct_hist_add(h, 5000);
	vnacct_hist_snapshot(h, b);
	vnacct_hist_snap_merge(a, b);
	KUNIT_EXPECT_EQ(test, a->count, 2ULL);
	KUNIT_EXPECT_EQ(test, a->min, 100ULL);
	KUNIT_EXPECT_EQ(test, a->max, 5000ULL);

	vnacct_hist_reset(h);
	vnacct_hist_add(h, 70);
	vnacct_hist_add(h, 9000);
	vnacct_hist_snapshot(h, b);
	vnacct_hist_snap_merge(a, b);
	KUNIT_EXPECT_EQ(test, a->count, 4ULL);
	KUNIT_EXPECT_EQ(test, a->sum, 14170ULL);
	KUNIT_EXPECT_EQ(test, a->min, 70ULL);
	KUNIT_EXPECT_EQ(test, a->max, 9000ULL);
	KUNIT_EXPECT_EQ(test, a->buckets[vnacct_hist_bucket(70)], 1ULL);
	KUNIT_EXPECT_EQ(test, a->buckets[vnacct_hist_bucket(100)], 1ULL);

	/* merging an empty snapshot changes nothing */
	vnacct_hist_reset(h);
	vnacct_hist_snapshot(h, b);
	vnacct_hist_snap_merge(a, b);
	KUNIT_EXPECT_EQ(test, a->count, 4ULL);
	KUNIT_EXPECT_EQ(test, a->min, 70ULL);
}

#define HIST_THREAD_ADDS	200000

struct hist_thread {
	struct vnacct_hist *h;
	struct completion done;
	u64 seed;
	u64 sum;
};

static int hist_thread_fn(void *arg)
{
	struct hist_thread *ht = arg;
	unsigned int i;

	for (i = 0; i < HIST_THREAD_ADDS; i++) {
		u64 v = hist_rand_ns(&ht->seed);

		ht->sum += v;
		vnacct_hist_add(ht->h, v);
		if (!(i & 1023))
			cond_resched();
	}
	complete(&ht->done);
	return 0;
}

static void hist_test_concurrent(struct kunit *test)
{
	struct vnacct_hist *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	struct vnacct_hist_snap *s = kunit_kzalloc(test, sizeof(*s),
						   GFP_KERNEL);
	struct hist_thread th[4];
	struct task_struct *task;
	u64 sum = 0, n = 0;
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, h);
	KUNIT_ASSERT_NOT_NULL(test, s);
	vnacct_hist_init(h);
	for (i = 0; i < ARRAY_SIZE(th); i++) {
		th[i].h = h;
		th[i].seed = 1000 + i;
		th[i].sum = 0;
		init_completion(&th[i].done);
		task = kthread_run(hist_thread_fn, &th[i], "vnacct_hist%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < ARRAY_SIZE(th); i++) {
		wait_for_completion(&th[i].done);
		sum += th[i].sum;
	}
	vnacct_hist_snapshot(h, s);
	for (i = 0; i < VNACCT_HIST_BUCKETS; i++)
		n += s->buckets[i];
	KUNIT_EXPECT_EQ(test, s->count, (u64)ARRAY_SIZE(th) * HIST_THREAD_ADDS);
	KUNIT_EXPECT_EQ(test, n, s->count);
	KUNIT_EXPECT_EQ(test, s->sum, sum);
	KUNIT_EXPECT_GE(test, s->min, VNACCT_HIST_MIN_NS);
	KUNIT_EXPECT_LT(test, s->max, VNACCT_HIST_OVERFLOW_NS);
}

static struct kunit_case vnacct_hist_cases[] = {
	KUNIT_CASE(hist_test_layout),
	KUNIT_CASE(hist_test_pow2_boundaries),
	KUNIT_CASE(hist_test_relative_error),
	KUNIT_CASE(hist_test_stats),
	KUNIT_CASE(hist_test_bucket_past_u32),
	KUNIT_CASE(hist_test_small_values),
	KUNIT_CASE(hist_test_percentiles),
	KUNIT_CASE(hist_test_merge),
	KUNIT_CASE(hist_test_concurrent),
	{}
};

static struct kunit_suite vnacct_hist_suite = {
	.name = "vnacct_hist",
	.test_cases = vnacct_hist_cases,
};

kunit_test_suite(vnacct_hist_suite);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("KUnit tests of vnacct's histogram, flow keys, RTT matching and packet tracker");
