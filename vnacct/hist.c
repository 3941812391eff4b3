// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct histogram: bucketing, lock-free updates, snapshots and
 * percentiles of the log-linear nanosecond histogram (see hist.h).
 */
#include <linux/bitops.h>
#include <linux/build_bug.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>

#include "hist.h"

static_assert(VNACCT_HIST_BUCKETS == 234);
static_assert(sizeof(struct vnacct_hist) == 1904);

unsigned int vnacct_hist_bucket(u64 ns)
{
	unsigned int msb;

	if (ns < VNACCT_HIST_MIN_NS)
		return 0;
	msb = fls64(ns) - 1;
	if (msb > VNACCT_HIST_MAX_SHIFT)
		return VNACCT_HIST_OVERFLOW;
	return 1 + ((msb - VNACCT_HIST_MIN_SHIFT) << VNACCT_HIST_SUB_BITS) +
	       ((ns >> (msb - VNACCT_HIST_SUB_BITS)) & (VNACCT_HIST_SUB - 1));
}

u64 vnacct_hist_bucket_lower(unsigned int b)
{
	unsigned int msb, sub;

	if (b == 0 || b >= VNACCT_HIST_BUCKETS)
		return 0;
	if (b == VNACCT_HIST_OVERFLOW)
		return VNACCT_HIST_OVERFLOW_NS;
	msb = VNACCT_HIST_MIN_SHIFT + ((b - 1) >> VNACCT_HIST_SUB_BITS);
	sub = (b - 1) & (VNACCT_HIST_SUB - 1);
	return (u64)(VNACCT_HIST_SUB + sub) << (msb - VNACCT_HIST_SUB_BITS);
}

u64 vnacct_hist_bucket_upper(unsigned int b)
{
	if (b >= VNACCT_HIST_OVERFLOW)
		return U64_MAX;
	return vnacct_hist_bucket_lower(b + 1) - 1;
}

void vnacct_hist_reset(struct vnacct_hist *h)
{
	unsigned int i;

	atomic64_set(&h->count, 0);
	atomic64_set(&h->sum, 0);
	atomic64_set(&h->min, (s64)U64_MAX);
	atomic64_set(&h->max, 0);
	for (i = 0; i < VNACCT_HIST_BUCKETS; i++)
		atomic64_set(&h->buckets[i], 0);
}

void vnacct_hist_init(struct vnacct_hist *h)
{
	vnacct_hist_reset(h);
}

void vnacct_hist_init_zeroed(struct vnacct_hist *h)
{
	atomic64_set(&h->min, (s64)U64_MAX);
}

void vnacct_hist_add(struct vnacct_hist *h, u64 ns)
{
	s64 cur;

	atomic64_inc(&h->count);
	atomic64_add((s64)ns, &h->sum);
	atomic64_inc(&h->buckets[vnacct_hist_bucket(ns)]);

	/*
	 * min/max: read first, write only on a new extreme. A failed
	 * try_cmpxchg means another CPU moved the bound in the same
	 * direction (it only decreases / increases until a reset), so the
	 * loop ends as soon as the bound passes @ns: lock-free, and in
	 * practice one iteration.
	 */
	cur = atomic64_read(&h->min);
	while (ns < (u64)cur && !atomic64_try_cmpxchg(&h->min, &cur, (s64)ns))
		;
	cur = atomic64_read(&h->max);
	while (ns > (u64)cur && !atomic64_try_cmpxchg(&h->max, &cur, (s64)ns))
		;
}

void vnacct_hist_snapshot(const struct vnacct_hist *h,
			  struct vnacct_hist_snap *s)
{
	unsigned int i;

	s->count = (u64)atomic64_read(&h->count);
	s->sum = (u64)atomic64_read(&h->sum);
	s->min = (u64)atomic64_read(&h->min);
	s->max = (u64)atomic64_read(&h->max);
	for (i = 0; i < VNACCT_HIST_BUCKETS; i++)
		s->buckets[i] = (u64)atomic64_read(&h->buckets[i]);
	if (!s->count)
		s->min = 0;
}

void vnacct_hist_snap_merge(struct vnacct_hist_snap *dst,
			    const struct vnacct_hist_snap *src)
{
	unsigned int i;
	u64 n = 0;

	for (i = 0; i < VNACCT_HIST_BUCKETS; i++) {
		dst->buckets[i] += src->buckets[i];
		n += src->buckets[i];
	}
	if (!src->count && !n)
		return;
	dst->min = dst->count ? min(dst->min, src->min) : src->min;
	dst->max = max(dst->max, src->max);
	dst->count += src->count;
	dst->sum += src->sum;
}

u64 vnacct_hist_percentile(const struct vnacct_hist_snap *s,
			   unsigned int permille_x10)
{
	u64 n = 0, rank, seen = 0, lo, hi, v;
	unsigned int b;

	for (b = 0; b < VNACCT_HIST_BUCKETS; b++)
		n += s->buckets[b];
	if (!n)
		return 0;
	permille_x10 = min(permille_x10, 10000U);
	/* nearest rank: ceil(n * p / 10000) = n - floor(n * (10000 - p) / 10000) */
	rank = n - mul_u64_u32_div(n, 10000U - permille_x10, 10000U);
	rank = max_t(u64, rank, 1);
	/* the extremes are known exactly */
	if (s->min <= s->max && (rank == 1 || rank == n))
		return rank == 1 ? s->min : s->max;

	for (b = 0; b < VNACCT_HIST_OVERFLOW; b++) {
		seen += s->buckets[b];
		if (seen >= rank)
			break;
	}
	if (b == VNACCT_HIST_OVERFLOW)
		return max(s->max, VNACCT_HIST_OVERFLOW_NS);

	lo = vnacct_hist_bucket_lower(b);
	hi = vnacct_hist_bucket_upper(b);
	v = lo + (hi - lo + 1) / 2;
	/* clamping stays inside the bucket when min/max are consistent */
	if (s->min <= s->max)
		v = clamp(v, s->min, s->max);
	return v;
}
