// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct delta-RTT matching: lock-free recording of outstanding requests
 * and matching of responses in a fixed per-flow-pair table (see rtt.h).
 */
#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/in.h>
#include <linux/limits.h>
#include <linux/minmax.h>

#include "rtt.h"

#define VNACCT_RTT_KIND_SHIFT	32
#define VNACCT_RTT_SIDE		BIT_ULL(34)
#define VNACCT_RTT_AMBIG	BIT_ULL(35)
#define VNACCT_RTT_OWNED	BIT_ULL(36)
/* the bits that identify a request */
#define VNACCT_RTT_KEY_MASK	(BIT_ULL(35) - 1)

/* TCP flag bits in the flags byte */
#define VNACCT_TCP_FIN		0x01
#define VNACCT_TCP_SYN		0x02
#define VNACCT_TCP_RST		0x04
#define VNACCT_TCP_ACK		0x10

static_assert(sizeof(struct vnacct_rtt_table) == 208);
static_assert(sizeof(struct vnacct_rtt_sample) == 32);
static_assert(VNACCT_RTT_SLOTS <= 32);

static u64 vnacct_rtt_key(unsigned int kind, unsigned int side, u32 value)
{
	return ((u64)kind << VNACCT_RTT_KIND_SHIFT) |
	       (side ? VNACCT_RTT_SIDE : 0) | value;
}

/* when the request or response left the host: the later of its times */
static u64 vnacct_rtt_exit(u64 t_guest, u64 t_wire)
{
	return max(t_guest, t_wire);
}

static bool vnacct_rtt_too_old(u64 then, u64 now)
{
	return now > then && now - then > VNACCT_RTT_MAX_AGE_NS;
}

void vnacct_rtt_init(struct vnacct_rtt_table *t)
{
	unsigned int i;

	for (i = 0; i < VNACCT_RTT_SLOTS; i++) {
		atomic64_set(&t->state[i], 0);
		t->t_guest[i] = 0;
		t->t_wire[i] = 0;
	}
	atomic_set(&t->overwritten, 0);
	atomic_set(&t->expired, 0);
	atomic_set(&t->discarded, 0);
	atomic_set(&t->busy, 0);
}

int vnacct_rtt_request(struct vnacct_rtt_table *t, unsigned int kind,
		       unsigned int sender, u32 value, u64 t_guest, u64 t_wire)
{
	u64 key = vnacct_rtt_key(kind, sender, value);
	u64 now = vnacct_rtt_exit(t_guest, t_wire);
	unsigned int attempt, i;

	if (kind == VNACCT_RTT_NONE || kind > VNACCT_RTT_TCP_TS || sender > 1)
		return -EINVAL;

	/* two passes at most: the second only if a chosen slot was stolen */
	for (attempt = 0; attempt < 2; attempt++) {
		int victim = -1;
		u64 victim_t = U64_MAX, vs = 0, st;
		bool stale = false;

		for (i = 0; i < VNACCT_RTT_SLOTS; i++) {
			u64 s = (u64)atomic64_read(&t->state[i]);

			if (!s) {
				/* keep scanning for a duplicate */
				if (victim < 0 || vs) {
					victim = i;
					vs = 0;
					victim_t = 0;
				}
				continue;
			}
			if (s & VNACCT_RTT_OWNED)
				continue;
			if ((s & VNACCT_RTT_KEY_MASK) == key) {
				if (kind == VNACCT_RTT_TCP_TS ||
				    (s & VNACCT_RTT_AMBIG))
					return -EEXIST;
				/* lost to a concurrent owner: nothing to mark */
				atomic64_cmpxchg(&t->state[i], (s64)s,
						 (s64)(s | VNACCT_RTT_AMBIG));
				return -EEXIST;
			}
			/* racy read: only to pick the oldest as victim */
			st = vnacct_rtt_exit(READ_ONCE(t->t_guest[i]),
					     READ_ONCE(t->t_wire[i]));
			if ((victim < 0 || vs) && st < victim_t) {
				victim = i;
				victim_t = st;
				vs = s;
			}
		}
		if (victim < 0)
			break;
		if (!atomic64_try_cmpxchg(&t->state[victim], (s64 *)&vs,
					  (s64)VNACCT_RTT_OWNED))
			continue;
		if (vs) {
			stale = vnacct_rtt_too_old(victim_t, now);
			atomic_inc(stale ? &t->expired : &t->overwritten);
		}
		WRITE_ONCE(t->t_guest[victim], t_guest);
		WRITE_ONCE(t->t_wire[victim], t_wire);
		atomic64_set_release(&t->state[victim], (s64)key);
		return 0;
	}
	atomic_inc(&t->busy);
	return -EBUSY;
}

/*
 * Build a sample from a request (@rq_g, @rq_w, sent by @requester) and its
 * response (@rs_g, @rs_w). False when the times are out of order.
 */
static bool vnacct_rtt_sample(unsigned int kind, unsigned int requester,
			      u64 rq_g, u64 rq_w, u64 rs_g, u64 rs_w,
			      struct vnacct_rtt_sample *s)
{
	s64 rtt_g = (s64)(rs_g - rq_g), rtt_w = (s64)(rs_w - rq_w), delta;

	delta = requester == VNACCT_RTT_GUEST ? rtt_g - rtt_w : rtt_w - rtt_g;
	if (rtt_g < 0 || rtt_w < 0 || delta < 0)
		return false;
	s->rtt_guest = rtt_g;
	s->rtt_wire = rtt_w;
	s->delta = delta;
	s->kind = kind;
	s->requester = requester;
	return true;
}

bool vnacct_rtt_response(struct vnacct_rtt_table *t, unsigned int kind,
			 unsigned int sender, u32 value, u64 t_guest,
			 u64 t_wire, struct vnacct_rtt_sample *s)
{
	unsigned int requester = !sender, i;
	u64 key = vnacct_rtt_key(kind, requester, value);
	u64 now = vnacct_rtt_exit(t_guest, t_wire);
	u64 rq_g = 0, rq_w = 0, want;
	bool found = false, ambig = false;
	s32 best_d = S32_MAX;

	if (kind == VNACCT_RTT_NONE || kind > VNACCT_RTT_TCP_TS || sender > 1)
		return false;
	/* everything but the value must match for TCP_SEQ */
	want = kind == VNACCT_RTT_TCP_SEQ ? key & ~(u64)U32_MAX : key;

	for (i = 0; i < VNACCT_RTT_SLOTS; i++) {
		s64 s = atomic64_read(&t->state[i]);
		u64 g, w;
		s32 d = 0;

		if (s & VNACCT_RTT_OWNED)
			continue;
		if (kind == VNACCT_RTT_TCP_SEQ) {
			if ((s & VNACCT_RTT_KEY_MASK & ~(u64)U32_MAX) != want)
				continue;
			/* covered: end <= ack, modulo 2^32 */
			d = (s32)(value - (u32)s);
			if (d < 0)
				continue;
		} else if ((s & VNACCT_RTT_KEY_MASK) != want) {
			continue;
		}
		/* fully ordered: pairs with the writer's release */
		if (!atomic64_try_cmpxchg(&t->state[i], &s,
					  (s64)VNACCT_RTT_OWNED))
			continue;
		g = READ_ONCE(t->t_guest[i]);
		w = READ_ONCE(t->t_wire[i]);
		atomic64_set_release(&t->state[i], 0);

		if (vnacct_rtt_too_old(vnacct_rtt_exit(g, w), now)) {
			atomic_inc(&t->expired);
			continue;
		}
		if (found && d >= best_d)
			continue;
		found = true;
		best_d = d;
		ambig = s & VNACCT_RTT_AMBIG;
		rq_g = g;
		rq_w = w;
		if (kind != VNACCT_RTT_TCP_SEQ)
			break;
	}
	if (!found)
		return false;
	if (ambig || !vnacct_rtt_sample(kind, requester, rq_g, rq_w, t_guest,
					t_wire, s)) {
		atomic_inc(&t->discarded);
		return false;
	}
	return true;
}

bool vnacct_rtt_can_match(u8 proto, const struct vnacct_l4_info *info)
{
	switch (proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return info->flags & VNACCT_L4_ECHO;
	case IPPROTO_TCP:
		return (info->flags & VNACCT_L4_TCP) &&
		       !(info->tcp_flags & VNACCT_TCP_RST);
	}
	return false;
}

bool vnacct_rtt_observe(struct vnacct_rtt_table *t, u8 proto,
			const struct vnacct_l4_info *info, unsigned int sender,
			u64 t_guest, u64 t_wire, struct vnacct_rtt_sample *s)
{
	u32 echo = (u32)info->echo_id << 16 | info->echo_seq;
	u8 fl = info->tcp_flags;
	bool got = false;
	u32 len;

	if (!vnacct_rtt_can_match(proto, info))
		return false;
	switch (proto) {
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (info->icmp_type == ICMP_ECHO ||
		    info->icmp_type == ICMPV6_ECHO_REQUEST) {
			vnacct_rtt_request(t, VNACCT_RTT_ICMP_ECHO, sender, echo,
					   t_guest, t_wire);
			return false;
		}
		return vnacct_rtt_response(t, VNACCT_RTT_ICMP_ECHO, sender,
					   echo, t_guest, t_wire, s);
	case IPPROTO_TCP:
		if (info->flags & VNACCT_L4_TCP_TS) {
			if ((fl & VNACCT_TCP_ACK) && info->tsecr)
				got = vnacct_rtt_response(t, VNACCT_RTT_TCP_TS,
							  sender, info->tsecr,
							  t_guest, t_wire, s);
			vnacct_rtt_request(t, VNACCT_RTT_TCP_TS, sender,
					   info->tsval, t_guest, t_wire);
			return got;
		}
		if (fl & VNACCT_TCP_ACK)
			got = vnacct_rtt_response(t, VNACCT_RTT_TCP_SEQ, sender,
						  info->ack, t_guest, t_wire, s);
		len = info->payload_len + !!(fl & VNACCT_TCP_SYN) +
		      !!(fl & VNACCT_TCP_FIN);
		if (len)
			vnacct_rtt_request(t, VNACCT_RTT_TCP_SEQ, sender,
					   info->seq + len, t_guest, t_wire);
		return got;
	default:
		return false;
	}
}
