/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct histogram: log-linear histogram of nanosecond values with bounded
 * relative error, updated lock-free from any CPU, and the read side
 * (snapshot, bucket bounds, percentiles). Owns nothing else.
 *
 * Bucket layout (VNACCT_HIST_BUCKETS = 234):
 *   bucket 0                 [0, 64) ns                  (underflow)
 *   buckets 1 .. 232         [64, 2^35) ns: 8 equal sub-buckets per power
 *                            of two, so a bucket [lo, hi] has
 *                            hi - lo + 1 <= lo / 8 (<= 12.5 % wide)
 *   bucket 233               [2^35, U64_MAX] ns          (overflow, > 34 s)
 */
#ifndef _VNACCT_HIST_H
#define _VNACCT_HIST_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/types.h>

/* log2 of the number of sub-buckets per power of two */
#define VNACCT_HIST_SUB_BITS	3
/* sub-buckets per power of two */
#define VNACCT_HIST_SUB		BIT(VNACCT_HIST_SUB_BITS)
/* log2 of the smallest value with its own log-linear bucket (64 ns) */
#define VNACCT_HIST_MIN_SHIFT	6
/* log2 of the largest power of two that is still bucketed exactly */
#define VNACCT_HIST_MAX_SHIFT	34
/* values below this land in the underflow bucket 0 */
#define VNACCT_HIST_MIN_NS	BIT_ULL(VNACCT_HIST_MIN_SHIFT)
/* values at or above this land in the overflow bucket */
#define VNACCT_HIST_OVERFLOW_NS	BIT_ULL(VNACCT_HIST_MAX_SHIFT + 1)
/* number of buckets: underflow + 29 powers of two x 8 + overflow = 234 */
#define VNACCT_HIST_BUCKETS						\
	(2 + (VNACCT_HIST_MAX_SHIFT - VNACCT_HIST_MIN_SHIFT + 1) *	\
	 VNACCT_HIST_SUB)
/* index of the overflow bucket */
#define VNACCT_HIST_OVERFLOW	(VNACCT_HIST_BUCKETS - 1)

/**
 * struct vnacct_hist - live histogram of nanosecond values
 * @count: number of values added (64-bit, never wraps in practice)
 * @sum: sum of the values added, in ns (wraps after 584 years of ns)
 * @min: smallest value added, U64_MAX when empty
 * @max: largest value added, 0 when empty
 * @buckets: per-bucket counts, see vnacct_hist_bucket()
 *
 * Size: 4 * 8 + 234 * 8 = 1904 bytes.
 *
 * Every field is an atomic updated with relaxed, lock-free RMW operations,
 * so vnacct_hist_add() can run concurrently on any CPU, in any context
 * (hard/soft IRQ, process, NMI-free), on PREEMPT_RT too, with no lock.
 * Shared atomics rather than per-CPU counters: the histogram sits inside
 * every per-flow record, and per-CPU copies would multiply that by the
 * number of CPUs. The bucket counters are 64-bit, like @count, although
 * that doubles the structure: 32-bit ones wrapped after 2^32 values in one
 * bucket (71 minutes at 1 Mpps), and every reader (percentiles here,
 * vnacctd's Prometheus counters, which must never decrease) saw the count
 * fall back.
 */
struct vnacct_hist {
	atomic64_t count;
	atomic64_t sum;
	atomic64_t min;
	atomic64_t max;
	atomic64_t buckets[VNACCT_HIST_BUCKETS];
};

/**
 * struct vnacct_hist_snap - plain copy of a histogram, for readers
 * @count: values added (from &vnacct_hist.count)
 * @sum: sum of the values, ns
 * @min: smallest value, 0 when empty
 * @max: largest value, 0 when empty
 * @buckets: bucket counts
 *
 * Size: 4 * 8 + 234 * 8 = 1904 bytes: too large for the stack of most
 * callers, allocate it (or keep one per reader).
 *
 * A snapshot taken while values are being added is not atomic as a whole:
 * each field is a consistent value, but @count may differ from the sum of
 * @buckets by the number of concurrent adds. vnacct_hist_percentile() only
 * uses @buckets (and @min/@max to clamp).
 */
struct vnacct_hist_snap {
	u64 count;
	u64 sum;
	u64 min;
	u64 max;
	u64 buckets[VNACCT_HIST_BUCKETS];
};

/**
 * vnacct_hist_init() - initialise an empty histogram
 * @h: histogram
 *
 * Context: any. Not atomic with respect to concurrent vnacct_hist_add().
 */
void vnacct_hist_init(struct vnacct_hist *h);

/**
 * vnacct_hist_init_zeroed() - initialise an empty histogram in memory that
 *	is all zero already
 * @h: histogram
 *
 * Context: any. Sets only what is not zero in an empty histogram: at load,
 * thousands of records from vzalloc() need no pass over every bucket.
 */
void vnacct_hist_init_zeroed(struct vnacct_hist *h);

/**
 * vnacct_hist_reset() - empty a live histogram
 * @h: histogram
 *
 * Context: any. Lock-free; an add running concurrently on another CPU may
 * be counted partly (e.g. in @count but not in its bucket).
 */
void vnacct_hist_reset(struct vnacct_hist *h);

/**
 * vnacct_hist_bucket() - bucket index of a value
 * @ns: value in nanoseconds
 *
 * Return: 0 for @ns < 64, VNACCT_HIST_OVERFLOW for @ns >= 2^35, else
 * 1 + 8 * (fls64(@ns) - 7) + the three bits below the most significant one.
 * Constant time, no loop.
 */
unsigned int vnacct_hist_bucket(u64 ns);

/**
 * vnacct_hist_bucket_lower() - smallest value of a bucket
 * @b: bucket index, < VNACCT_HIST_BUCKETS
 *
 * Return: the inclusive lower bound of bucket @b, in ns; 0 for an index out
 * of range.
 */
u64 vnacct_hist_bucket_lower(unsigned int b);

/**
 * vnacct_hist_bucket_upper() - largest value of a bucket
 * @b: bucket index, < VNACCT_HIST_BUCKETS
 *
 * Return: the inclusive upper bound of bucket @b, in ns (a value v lands in
 * bucket b iff lower(b) <= v <= upper(b)), U64_MAX for the overflow bucket
 * and for an index out of range. This is the Prometheus "le" bound.
 */
u64 vnacct_hist_bucket_upper(unsigned int b);

/**
 * vnacct_hist_add() - add one value
 * @h: histogram
 * @ns: value in nanoseconds
 *
 * Context: any, including hard IRQ. Lock-free: three atomic RMW operations
 * (count, sum, bucket) plus, only when the value is a new minimum or
 * maximum, a compare-and-exchange that is retried only while another CPU
 * keeps moving the same bound in the same direction.
 */
void vnacct_hist_add(struct vnacct_hist *h, u64 ns);

/**
 * vnacct_hist_snapshot() - copy a live histogram into plain integers
 * @h: histogram
 * @s: destination
 *
 * Context: any; reads only (234 + 4 atomic reads).
 */
void vnacct_hist_snapshot(const struct vnacct_hist *h,
			  struct vnacct_hist_snap *s);

/**
 * vnacct_hist_snap_merge() - add one snapshot into another
 * @dst: accumulated snapshot
 * @src: snapshot to add
 *
 * For aggregating flows or stages. Counts and sums are added, min/max
 * combined (an empty @src, count 0 and all buckets 0, changes nothing).
 */
void vnacct_hist_snap_merge(struct vnacct_hist_snap *dst,
			    const struct vnacct_hist_snap *src);

/**
 * vnacct_hist_percentile() - estimate a percentile from a snapshot
 * @s: snapshot
 * @permille_x10: percentile in units of 0.01 %: 5000 = p50, 9000 = p90,
 *	9900 = p99, 9990 = p99.9, 10000 = p100; larger values mean 10000
 *
 * Uses the nearest-rank definition: with n = sum of @s->buckets, the
 * result estimates the value of rank ceil(n * @permille_x10 / 10000)
 * (at least 1) in the sorted list of values. It returns @s->min for rank
 * 1, @s->max for rank n, else the midpoint of the bucket holding that
 * rank, clamped to [@s->min, @s->max].
 *
 * Error bound: for a true value v >= 64 ns below 2^35 ns the result is
 * within v / 16 (6.25 %) of v; below 64 ns it is within 32 ns; in the
 * overflow bucket the result is @s->max.
 *
 * Return: the estimate in ns, 0 for an empty snapshot. At most
 * VNACCT_HIST_BUCKETS iterations.
 */
u64 vnacct_hist_percentile(const struct vnacct_hist_snap *s,
			   unsigned int permille_x10);

#endif /* _VNACCT_HIST_H */
