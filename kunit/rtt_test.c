// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of vnacct delta-RTT matching (vnacct/rtt.c): ICMP echo in
 * and out of order, either side as requester, unmatched responses, table
 * wraparound, TCP cumulative acks, sequence wraparound, timestamps,
 * Karn's rule, expiry, the packet-level observe() rules and concurrent use.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/kthread.h>

#include "../vnacct/rtt.c"

#define RT_US	1000ULL		/* ns */
#define RT_MS	1000000ULL	/* ns */

static struct vnacct_rtt_table *rt_table(struct kunit *test)
{
	struct vnacct_rtt_table *t = kunit_kzalloc(test, sizeof(*t),
						   GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	vnacct_rtt_init(t);
	return t;
}

static u32 rt_echo(u16 id, u16 seq)
{
	return (u32)id << 16 | seq;
}

static unsigned int rt_outstanding(struct vnacct_rtt_table *t)
{
	unsigned int i, n = 0;

	for (i = 0; i < VNACCT_RTT_SLOTS; i++)
		n += atomic64_read(&t->state[i]) != 0;
	return n;
}

static void rt_test_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_rtt_table), (size_t)208);
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_rtt_sample), (size_t)32);
}

/*
 * Guest pings: request at the guest edge at g, on the wire 10 us later;
 * reply on the wire at g + 1 ms, at the guest edge 15 us later.
 */
static void rt_test_icmp_in_order(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;
	u64 g = 5 * RT_MS;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		u64 base = g + i * 2 * RT_MS;

		KUNIT_EXPECT_EQ(test,
				vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO,
						   VNACCT_RTT_GUEST,
						   rt_echo(9, i), base,
						   base + 10 * RT_US), 0);
		KUNIT_ASSERT_TRUE(test,
				  vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						      VNACCT_RTT_WIRE,
						      rt_echo(9, i),
						      base + RT_MS + 15 * RT_US,
						      base + RT_MS, &s));
		KUNIT_EXPECT_EQ(test, s.rtt_guest, RT_MS + 15 * RT_US);
		KUNIT_EXPECT_EQ(test, s.rtt_wire, RT_MS - 10 * RT_US);
		KUNIT_EXPECT_EQ(test, s.delta, 25 * RT_US);
		KUNIT_EXPECT_EQ(test, s.kind, VNACCT_RTT_ICMP_ECHO);
		KUNIT_EXPECT_EQ(test, s.requester, VNACCT_RTT_GUEST);
	}
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->overwritten), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->discarded), 0);
}

/* the external host pings the guest: delta = rtt_wire - rtt_guest */
static void rt_test_icmp_wire_requester(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;
	u64 w = 100 * RT_MS;

	/* request: wire at w, guest edge at w + 20 us */
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO,
						 VNACCT_RTT_WIRE,
						 rt_echo(1, 1), w + 20 * RT_US,
						 w), 0);
	/* the guest answers 50 us later; on the wire 30 us after that */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						    VNACCT_RTT_GUEST,
						    rt_echo(1, 1),
						    w + 70 * RT_US,
						    w + 100 * RT_US, &s));
	KUNIT_EXPECT_EQ(test, s.rtt_guest, 50 * RT_US);
	KUNIT_EXPECT_EQ(test, s.rtt_wire, 100 * RT_US);
	KUNIT_EXPECT_EQ(test, s.delta, 50 * RT_US);
	KUNIT_EXPECT_EQ(test, s.requester, VNACCT_RTT_WIRE);
}

static void rt_test_icmp_out_of_order(struct kunit *test)
{
	static const u16 order[] = { 3, 0, 5, 1, 4, 2 };
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;
	unsigned int i;

	for (i = 0; i < 6; i++)
		KUNIT_EXPECT_EQ(test,
				vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO,
						   VNACCT_RTT_GUEST,
						   rt_echo(2, i), i * RT_MS,
						   i * RT_MS + i * RT_US), 0);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 6U);
	for (i = 0; i < ARRAY_SIZE(order); i++) {
		u16 q = order[i];
		u64 wr = 50 * RT_MS + q * RT_MS;

		KUNIT_ASSERT_TRUE(test,
				  vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						      VNACCT_RTT_WIRE,
						      rt_echo(2, q), wr + RT_US,
						      wr, &s));
		/* request residency q us, reply residency 1 us */
		KUNIT_EXPECT_EQ(test, s.delta, q * RT_US + RT_US);
	}
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static void rt_test_unmatched(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s = { .delta = 12345 };

	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO,
						 VNACCT_RTT_GUEST,
						 rt_echo(1, 1), 0, 10), 0);
	/* unknown seq, unknown id */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE,
						     rt_echo(1, 2), 100, 90,
						     &s));
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE,
						     rt_echo(2, 1), 100, 90,
						     &s));
	/* a "reply" from the requester's own side */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_GUEST,
						     rt_echo(1, 1), 100, 90,
						     &s));
	/* another kind with the same value */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_TS,
						     VNACCT_RTT_WIRE,
						     rt_echo(1, 1), 100, 90,
						     &s));
	KUNIT_EXPECT_EQ(test, s.delta, 12345ULL);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	KUNIT_EXPECT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						    VNACCT_RTT_WIRE,
						    rt_echo(1, 1), 100, 90,
						    &s));
	KUNIT_EXPECT_EQ(test, s.delta, 20ULL);
	/* a duplicate reply finds nothing */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE,
						     rt_echo(1, 1), 110, 100,
						     &s));
	/* bad arguments */
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_NONE, 0, 1, 0,
						 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, 4, 0, 1, 0, 0), -EINVAL);
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ, 2, 1,
						 0, 0), -EINVAL);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_NONE, 0, 0,
						     0, 0, &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static void rt_test_wraparound(struct kunit *test)
{
	const unsigned int extra = 3, n = VNACCT_RTT_SLOTS + extra;
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;
	unsigned int i;

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test,
				vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO,
						   VNACCT_RTT_GUEST,
						   rt_echo(7, i), i * RT_US,
						   i * RT_US + 100), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->overwritten), (int)extra);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), VNACCT_RTT_SLOTS);
	/* the oldest were evicted */
	for (i = 0; i < extra; i++)
		KUNIT_EXPECT_FALSE(test,
				   vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						       VNACCT_RTT_WIRE,
						       rt_echo(7, i), RT_MS,
						       RT_MS - 50, &s));
	for (i = extra; i < n; i++) {
		KUNIT_EXPECT_TRUE(test,
				  vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						      VNACCT_RTT_WIRE,
						      rt_echo(7, i), RT_MS,
						      RT_MS - 50, &s));
		KUNIT_EXPECT_EQ(test, s.delta, 150ULL);
	}
	/* freed slots are used before any live one is evicted */
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST,
			   rt_echo(8, 0), 2 * RT_MS, 2 * RT_MS);
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST,
			   rt_echo(8, 1), 2 * RT_MS, 2 * RT_MS);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->overwritten), (int)extra);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 2U);
}

static void rt_test_tcp_cumulative_ack(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;
	unsigned int i;

	/* guest sends segments ending at 1000, 2000, 3000, 4000 */
	for (i = 1; i <= 4; i++)
		KUNIT_EXPECT_EQ(test,
				vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ,
						   VNACCT_RTT_GUEST, i * 1000,
						   i * RT_US,
						   i * RT_US + i * 100), 0);
	/* an ack below every end matches nothing */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						     VNACCT_RTT_WIRE, 999,
						     RT_MS + 7, RT_MS, &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 4U);
	/* ack 1500 covers the first only */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						    VNACCT_RTT_WIRE, 1500,
						    RT_MS + 7, RT_MS, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 107ULL);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 3U);
	/* ack 3000 covers 2000 and 3000; the sample is from 3000 */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						    VNACCT_RTT_WIRE, 3000,
						    2 * RT_MS + 5, 2 * RT_MS,
						    &s));
	KUNIT_EXPECT_EQ(test, s.delta, 305ULL);
	KUNIT_EXPECT_EQ(test, s.rtt_guest, 2 * RT_MS + 5 - 3 * RT_US);
	KUNIT_EXPECT_EQ(test, s.rtt_wire, 2 * RT_MS - 3 * RT_US - 300);
	KUNIT_EXPECT_EQ(test, s.kind, VNACCT_RTT_TCP_SEQ);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	/* duplicate ack: nothing left below it */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						     VNACCT_RTT_WIRE, 3000,
						     3 * RT_MS, 3 * RT_MS, &s));
	/* an ack from the guest's side does not ack the guest's data */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						     VNACCT_RTT_GUEST, 9000,
						     3 * RT_MS, 3 * RT_MS, &s));
	KUNIT_EXPECT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						    VNACCT_RTT_WIRE, 9000,
						    3 * RT_MS + 1, 3 * RT_MS,
						    &s));
	KUNIT_EXPECT_EQ(test, s.delta, 401ULL);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static void rt_test_tcp_seq_wrap(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;

	vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ, VNACCT_RTT_WIRE,
			   0xffffff00U, 20, 10);
	vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ, VNACCT_RTT_WIRE, 0x100,
			   40, 30);
	/* ack 0xfffffff0 covers only the first (0x100 is after it) */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						    VNACCT_RTT_GUEST,
						    0xfffffff0U, 100, 110,
						    &s));
	KUNIT_EXPECT_EQ(test, s.delta, 20ULL);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	/* ack 0x200, past the wrap, covers the second */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						    VNACCT_RTT_GUEST, 0x200,
						    100, 115, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 25ULL);
	KUNIT_EXPECT_EQ(test, s.requester, VNACCT_RTT_WIRE);
}

static void rt_test_tcp_ts(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;

	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_TS,
						 VNACCT_RTT_GUEST, 5000, 100,
						 110), 0);
	/* same TSval again (same ms tick): the first stays */
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_TS,
						 VNACCT_RTT_GUEST, 5000, 200,
						 290), -EEXIST);
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_TS,
						 VNACCT_RTT_GUEST, 5001, 300,
						 330), 0);
	/* TSecr must be equal, not covering */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_TS,
						     VNACCT_RTT_WIRE, 5002,
						     1000, 990, &s));
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_TS,
						    VNACCT_RTT_WIRE, 5000,
						    1000, 990, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 20ULL);
	KUNIT_EXPECT_EQ(test, s.rtt_guest, 900ULL);
	KUNIT_EXPECT_EQ(test, s.kind, VNACCT_RTT_TCP_TS);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_TS,
						     VNACCT_RTT_WIRE, 5000,
						     1000, 990, &s));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->discarded), 0);
}

static void rt_test_karn_and_bad_times(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;

	/* retransmitted segment: the ack gives no sample */
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ,
						 VNACCT_RTT_GUEST, 1000, 10,
						 20), 0);
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ,
						 VNACCT_RTT_GUEST, 1000, 500,
						 510), -EEXIST);
	KUNIT_EXPECT_EQ(test, vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ,
						 VNACCT_RTT_GUEST, 1000, 900,
						 910), -EEXIST);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						     VNACCT_RTT_WIRE, 1000,
						     1000, 990, &s));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->discarded), 1);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);

	/* repeated echo request */
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST, 1, 0, 1);
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST, 1, 5, 6);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE, 1, 100,
						     90, &s));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->discarded), 2);

	/* reply before the request at the guest edge: discarded */
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST, 2, 100,
			   110);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE, 2, 50,
						     120, &s));
	/* negative host share (the reply was at the guest edge before it
	 * was on the wire): discarded
	 */
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST, 3, 100,
			   110);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE, 3, 200,
						     215, &s));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->discarded), 4);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static void rt_test_expiry(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_rtt_sample s;
	u64 late = VNACCT_RTT_MAX_AGE_NS + 1000;
	unsigned int i;

	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_GUEST, 1, 0, 10);
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO,
						     VNACCT_RTT_WIRE, 1,
						     late + 20, late + 11,
						     &s));
	KUNIT_EXPECT_EQ(test, atomic_read(&t->expired), 1);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);

	/* a stale TCP entry does not hide a fresh one */
	vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ, VNACCT_RTT_GUEST, 5000, 0,
			   10);
	vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ, VNACCT_RTT_GUEST, 4000,
			   late, late + 10);
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ,
						    VNACCT_RTT_WIRE, 5000,
						    late + 100, late + 50,
						    &s));
	KUNIT_EXPECT_EQ(test, s.delta, 60ULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->expired), 2);

	/* a full table of stale requests: new ones replace them as expired */
	for (i = 0; i < VNACCT_RTT_SLOTS; i++)
		vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_WIRE,
				   100 + i, i, i);
	vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, VNACCT_RTT_WIRE, 999,
			   late + 100, late + 100);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->expired), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->overwritten), 0);
}

static void rt_test_observe_icmp(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_l4_info req = {
		.flags = VNACCT_L4_ECHO, .icmp_type = ICMP_ECHO,
		.echo_id = 0x42, .echo_seq = 1,
	};
	struct vnacct_l4_info rep = req;
	struct vnacct_rtt_sample s;

	rep.icmp_type = ICMP_ECHOREPLY;
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_ICMP, &req,
						    VNACCT_RTT_GUEST, 1000,
						    1010, &s));
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_observe(t, IPPROTO_ICMP, &rep,
						   VNACCT_RTT_WIRE, 3020,
						   3000, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 30ULL);

	/* ICMPv6 */
	req.icmp_type = ICMPV6_ECHO_REQUEST;
	rep.icmp_type = ICMPV6_ECHO_REPLY;
	vnacct_rtt_observe(t, IPPROTO_ICMPV6, &req, VNACCT_RTT_WIRE, 5010, 5000,
			   &s);
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_observe(t, IPPROTO_ICMPV6, &rep,
						   VNACCT_RTT_GUEST, 6000,
						   6004, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 14ULL);

	/* non-echo ICMP and other protocols are ignored */
	req.flags = 0;
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_ICMP, &req,
						    VNACCT_RTT_GUEST, 1, 2,
						    &s));
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_UDP, &req,
						    VNACCT_RTT_GUEST, 1, 2,
						    &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static void rt_test_observe_tcp(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_l4_info syn = {
		.flags = VNACCT_L4_TCP, .seq = 100, .tcp_flags = 0x02,
	};
	struct vnacct_l4_info synack = {
		.flags = VNACCT_L4_TCP, .seq = 7000, .ack = 101,
		.tcp_flags = 0x12,
	};
	struct vnacct_l4_info ack = {
		.flags = VNACCT_L4_TCP, .seq = 101, .ack = 7001,
		.tcp_flags = 0x10,
	};
	struct vnacct_l4_info data = {
		.flags = VNACCT_L4_TCP, .seq = 101, .ack = 7001,
		.tcp_flags = 0x18, .payload_len = 1448,
	};
	struct vnacct_l4_info rst = {
		.flags = VNACCT_L4_TCP, .seq = 101, .ack = 7001,
		.tcp_flags = 0x14, .payload_len = 10,
	};
	struct vnacct_rtt_sample s;

	/* guest connects out */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &syn,
						    VNACCT_RTT_GUEST, 0, 10,
						    &s));
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &synack,
						   VNACCT_RTT_WIRE, 1015,
						   1000, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 25ULL);
	/* the handshake ack answers the SYN-ACK; it carries no data */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &ack,
						   VNACCT_RTT_GUEST, 1100,
						   1105, &s));
	KUNIT_EXPECT_EQ(test, s.requester, VNACCT_RTT_WIRE);
	KUNIT_EXPECT_EQ(test, s.delta, 20ULL);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
	/* data, then the peer's ack of it */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &data,
						    VNACCT_RTT_GUEST, 2000,
						    2008, &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	ack.seq = 7001;
	ack.ack = 101 + 1448;
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &ack,
						   VNACCT_RTT_WIRE, 3012,
						   3000, &s));
	KUNIT_EXPECT_EQ(test, s.delta, 20ULL);
	/* RST is ignored */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &rst,
						    VNACCT_RTT_GUEST, 4000,
						    4010, &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
	/* unparsed TCP header is ignored */
	data.flags = 0;
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &data,
						    VNACCT_RTT_GUEST, 4000,
						    4010, &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static void rt_test_observe_tcp_ts(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct vnacct_l4_info a = {
		.flags = VNACCT_L4_TCP | VNACCT_L4_TCP_TS, .seq = 1,
		.ack = 1, .tcp_flags = 0x18, .payload_len = 1000,
		.tsval = 77, .tsecr = 500,
	};
	struct vnacct_l4_info b = {
		.flags = VNACCT_L4_TCP | VNACCT_L4_TCP_TS, .seq = 1,
		.ack = 1001, .tcp_flags = 0x10, .tsval = 501, .tsecr = 77,
	};
	struct vnacct_rtt_sample s;

	/* two segments in the same tick from the external host */
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &a,
						    VNACCT_RTT_WIRE, 110, 100,
						    &s));
	a.seq = 1001;
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &a,
						    VNACCT_RTT_WIRE, 160, 150,
						    &s));
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	/* the guest's ack echoes 77: matched to the first; the sequence
	 * numbers are not used when timestamps are present
	 */
	KUNIT_ASSERT_TRUE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &b,
						   VNACCT_RTT_GUEST, 300, 305,
						   &s));
	KUNIT_EXPECT_EQ(test, s.kind, VNACCT_RTT_TCP_TS);
	KUNIT_EXPECT_EQ(test, s.delta, 15ULL);
	KUNIT_EXPECT_EQ(test, s.rtt_wire, 205ULL);
	/* the guest's TSval 501 is now outstanding */
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 1U);
	/* TSecr 0 (e.g. SYN) is never matched */
	b.tsecr = 0;
	b.tsval = 0;
	KUNIT_EXPECT_FALSE(test, vnacct_rtt_observe(t, IPPROTO_TCP, &b,
						    VNACCT_RTT_WIRE, 400, 390,
						    &s));
}

#define RT_THREAD_ROUNDS	50000

struct rt_thread {
	struct vnacct_rtt_table *t;
	struct completion done;
	unsigned int side;
	unsigned int matched;
};

/* each thread keeps one exchange of its own in flight at a time */
static int rt_thread_fn(void *arg)
{
	struct rt_thread *rt = arg;
	struct vnacct_rtt_sample s;
	unsigned int i;
	bool g;
	u64 now;

	/* 1 ns residency each way: guest side first for a guest request */
	for (i = 0; i < RT_THREAD_ROUNDS; i++) {
		now = 1000 + i * 100ULL;
		g = rt->side == VNACCT_RTT_GUEST;
		vnacct_rtt_request(rt->t, VNACCT_RTT_ICMP_ECHO, rt->side,
				   rt_echo(rt->side, i), now + !g, now + g);
		if (vnacct_rtt_response(rt->t, VNACCT_RTT_ICMP_ECHO, !rt->side,
					rt_echo(rt->side, i), now + 51 + g,
					now + 51 + !g, &s) && s.delta == 2)
			rt->matched++;
		if (!(i & 1023))
			cond_resched();
	}
	complete(&rt->done);
	return 0;
}

static void rt_test_concurrent(struct kunit *test)
{
	struct vnacct_rtt_table *t = rt_table(test);
	struct rt_thread th[2];
	struct task_struct *task;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(th); i++) {
		th[i].t = t;
		th[i].side = i;
		th[i].matched = 0;
		init_completion(&th[i].done);
		task = kthread_run(rt_thread_fn, &th[i], "vnacct_rtt%u", i);
		KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < ARRAY_SIZE(th); i++)
		wait_for_completion(&th[i].done);
	/* with 2 of 8 slots ever in use, nothing is lost or mixed up */
	for (i = 0; i < ARRAY_SIZE(th); i++)
		KUNIT_EXPECT_EQ(test, th[i].matched, RT_THREAD_ROUNDS);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->overwritten), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->busy), 0);
	KUNIT_EXPECT_EQ(test, rt_outstanding(t), 0U);
}

static struct kunit_case vnacct_rtt_cases[] = {
	KUNIT_CASE(rt_test_layout),
	KUNIT_CASE(rt_test_icmp_in_order),
	KUNIT_CASE(rt_test_icmp_wire_requester),
	KUNIT_CASE(rt_test_icmp_out_of_order),
	KUNIT_CASE(rt_test_unmatched),
	KUNIT_CASE(rt_test_wraparound),
	KUNIT_CASE(rt_test_tcp_cumulative_ack),
	KUNIT_CASE(rt_test_tcp_seq_wrap),
	KUNIT_CASE(rt_test_tcp_ts),
	KUNIT_CASE(rt_test_karn_and_bad_times),
	KUNIT_CASE(rt_test_expiry),
	KUNIT_CASE(rt_test_observe_icmp),
	KUNIT_CASE(rt_test_observe_tcp),
	KUNIT_CASE(rt_test_observe_tcp_ts),
	KUNIT_CASE(rt_test_concurrent),
	{}
};

static struct kunit_suite vnacct_rtt_suite = {
	.name = "vnacct_rtt",
	.test_cases = vnacct_rtt_cases,
};

kunit_test_suite(vnacct_rtt_suite);
