/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct delta-RTT matching: a small fixed per-flow-pair table of outstanding
 * request/response exchanges (ICMP echo id+seq, TCP end sequence -> ack,
 * TCP TSval -> TSecr), each request carrying its guest-edge and wire-edge
 * times, and the matching of responses into RTT samples:
 *
 *   rtt_guest = guest-edge response time - guest-edge request time
 *   rtt_wire  = wire-edge response time  - wire-edge request time
 *   delta     = host residency of the request + of the response
 *             = rtt_guest - rtt_wire   (guest is the requester)
 *             = rtt_wire - rtt_guest   (the wire-side host is the requester)
 *
 * Pure logic on caller-supplied memory: no allocation, no lock, bounded.
 */
#ifndef _VNACCT_RTT_H
#define _VNACCT_RTT_H

#include <linux/atomic.h>
#include <linux/time64.h>
#include <linux/types.h>

#include "flowkey.h"

/* outstanding exchanges per flow pair (power of two, at most 32) */
#define VNACCT_RTT_SLOTS	8
/* requests older than this when their response comes give no sample */
#define VNACCT_RTT_MAX_AGE_NS	(10ULL * NSEC_PER_SEC)

/**
 * enum vnacct_rtt_kind - how a request is matched to its response
 * @VNACCT_RTT_NONE: unused slot
 * @VNACCT_RTT_ICMP_ECHO: value = echo id << 16 | echo seq; an echo reply
 *	with the same id and seq answers it
 * @VNACCT_RTT_TCP_SEQ: value = end sequence number of a segment (seq +
 *	payload + SYN + FIN); a segment in the other direction with ACK set
 *	and ack >= value (modulo 2^32) answers it and every other
 *	outstanding segment it covers
 * @VNACCT_RTT_TCP_TS: value = TSval; a segment in the other direction with
 *	TSecr == value answers it
 */
enum vnacct_rtt_kind {
	VNACCT_RTT_NONE = 0,
	VNACCT_RTT_ICMP_ECHO = 1,
	VNACCT_RTT_TCP_SEQ = 2,
	VNACCT_RTT_TCP_TS = 3,
};

/**
 * enum vnacct_rtt_side - which end of the host sent a packet
 * @VNACCT_RTT_GUEST: the guest (the packet went guest edge -> wire edge)
 * @VNACCT_RTT_WIRE: the host on the wire side (wire edge -> guest edge)
 */
enum vnacct_rtt_side {
	VNACCT_RTT_GUEST = 0,
	VNACCT_RTT_WIRE = 1,
};

/**
 * struct vnacct_rtt_table - outstanding exchanges of one flow pair
 * @state: per slot, 0 when free, else the request's key (value in bits
 *	0-31, kind in 32-33, sending side in bit 34), bit 35 when the
 *	request was seen twice (ambiguous, Karn's rule: no sample), bit 36
 *	while a CPU owns the slot (writing or consuming it)
 * @t_guest: per slot, request time at the guest edge, ns
 * @t_wire: per slot, request time at the wire edge, ns
 * @overwritten: requests evicted unanswered to make room (oldest first)
 * @expired: requests found older than VNACCT_RTT_MAX_AGE_NS
 * @discarded: matches that gave no sample: ambiguous (retransmitted or
 *	repeated request) or timestamps out of order
 * @busy: requests dropped because every slot was owned by another CPU
 *
 * Size: 3 * 8 * 8 + 4 * 4 = 208 bytes. Embed it in the flow-pair record
 * and initialise it with vnacct_rtt_init().
 *
 * Concurrency: lock-free. A slot changes owner only by a
 * compare-and-exchange on its @state word: a writer takes a free (or the
 * oldest) slot by swapping its state for the owned bit, stores the times
 * and publishes the key with a release store; a matcher takes a slot by
 * swapping the exact key it read for the owned bit (fully ordered, so it
 * then reads the times that were published with that key), reads the
 * times and frees the slot with a release store. Owned slots are skipped
 * by everyone, so the times are never read while written. Each call looks
 * at each slot at most twice. Requests and responses of one flow pair may
 * be processed on any CPUs at once, on PREEMPT_RT too.
 */
struct vnacct_rtt_table {
	atomic64_t state[VNACCT_RTT_SLOTS];
	u64 t_guest[VNACCT_RTT_SLOTS];
	u64 t_wire[VNACCT_RTT_SLOTS];
	atomic_t overwritten;
	atomic_t expired;
	atomic_t discarded;
	atomic_t busy;
};

/**
 * struct vnacct_rtt_sample - one matched exchange
 * @rtt_guest: response time - request time at the guest edge, ns
 * @rtt_wire: response time - request time at the wire edge, ns
 * @delta: host share of the round trip: residency of the request plus
 *	residency of the response, ns (= |@rtt_guest - @rtt_wire|)
 * @kind: &enum vnacct_rtt_kind
 * @requester: &enum vnacct_rtt_side that sent the request
 *
 * Size: 32 bytes.
 */
struct vnacct_rtt_sample {
	u64 rtt_guest;
	u64 rtt_wire;
	u64 delta;
	u8 kind;
	u8 requester;
};

/**
 * vnacct_rtt_init() - empty a table
 * @t: table
 *
 * Context: any; not atomic with respect to concurrent use of @t.
 */
void vnacct_rtt_init(struct vnacct_rtt_table *t);

/**
 * vnacct_rtt_request() - record an outstanding request
 * @t: table of the flow pair
 * @kind: &enum vnacct_rtt_kind (not VNACCT_RTT_NONE)
 * @sender: &enum vnacct_rtt_side that sent the request
 * @value: key of the request, see &enum vnacct_rtt_kind
 * @t_guest: time the request was at the guest edge, ns
 * @t_wire: time the request was at the wire edge, ns
 *
 * Call it when the request leaves the host, when both times are known.
 * It takes a free slot, else one holding a request older than
 * VNACCT_RTT_MAX_AGE_NS (counted in @expired), else the oldest request
 * (counted in @overwritten). A request already outstanding with the same
 * key is not recorded again: for VNACCT_RTT_TCP_TS the first one stays
 * (every segment sent within one timestamp tick has the same TSval and
 * the peer echoes the first); for the other kinds the outstanding one is
 * marked ambiguous (a retransmission: Karn's rule, its response will give
 * no sample).
 *
 * Context: any; lock-free, bounded.
 *
 * Return: 0 when recorded, -EEXIST for a duplicate, -EBUSY when every
 * candidate slot was taken by another CPU meanwhile (counted in @busy),
 * -EINVAL for a bad @kind or @sender.
 */
int vnacct_rtt_request(struct vnacct_rtt_table *t, unsigned int kind,
		       unsigned int sender, u32 value, u64 t_guest, u64 t_wire);

/**
 * vnacct_rtt_response() - match a response against outstanding requests
 * @t: table of the flow pair
 * @kind: &enum vnacct_rtt_kind of the requests it may answer
 * @sender: &enum vnacct_rtt_side that sent the response (requests sent by
 *	the other side are matched)
 * @value: echo id << 16 | seq, the TCP ack number, or the TSecr
 * @t_guest: time the response was at the guest edge, ns
 * @t_wire: time the response was at the wire edge, ns
 * @s: sample, written only when the function returns true
 *
 * Matched requests are removed. For VNACCT_RTT_TCP_SEQ every outstanding
 * segment with end <= @value is removed and the sample is taken from the
 * one with the highest end sequence (the one that elicited the ack; older
 * ones may include a delayed-ack wait); entries older than
 * VNACCT_RTT_MAX_AGE_NS are removed without a sample. A match gives no
 * sample when the request was ambiguous, when its times and the
 * response's are out of order (either RTT or @delta would be negative),
 * or when it is too old.
 *
 * Context: any; lock-free, bounded (VNACCT_RTT_SLOTS compare-and-exchange
 * at most).
 *
 * Return: true when @s was filled.
 */
bool vnacct_rtt_response(struct vnacct_rtt_table *t, unsigned int kind,
			 unsigned int sender, u32 value, u64 t_guest,
			 u64 t_wire, struct vnacct_rtt_sample *s);

/**
 * vnacct_rtt_observe() - feed one packet of the flow pair
 * @t: table of the flow pair
 * @proto: L4 protocol (&vnacct_flow_key.proto)
 * @info: the packet's L4 fields from the flow-key parser
 * @sender: &enum vnacct_rtt_side that sent the packet
 * @t_guest: time the packet was at the guest edge, ns
 * @t_wire: time the packet was at the wire edge, ns
 * @s: sample, written only when the function returns true
 *
 * Applies the matching rules to a parsed packet: ICMP/ICMPv6 echo
 * requests are recorded and echo replies matched. A TCP segment that
 * carries the timestamp option uses TSval/TSecr only: its TSecr (when ACK
 * is set and TSecr is not 0) is matched, then its TSval recorded. Without
 * the option, its ack (when ACK is set) is matched, then, if it occupies
 * sequence space (payload, SYN or FIN), its end sequence recorded. RST
 * segments, other protocols and non-echo ICMP are ignored. Timestamp use
 * is negotiated per connection, so a connection uses one rule throughout.
 *
 * Context: any; lock-free, bounded.
 *
 * Return: true when @s was filled.
 */
bool vnacct_rtt_observe(struct vnacct_rtt_table *t, u8 proto,
			const struct vnacct_l4_info *info, unsigned int sender,
			u64 t_guest, u64 t_wire, struct vnacct_rtt_sample *s);

/**
 * vnacct_rtt_can_match() - whether vnacct_rtt_observe() may use a packet
 * @proto: L4 protocol of the packet's flow key
 * @info: the packet's L4 fields from the flow-key parser
 *
 * Context: any.
 * Return: true for a parsed TCP segment other than RST and for an
 * ICMP/ICMPv6 echo request or reply.
 */
bool vnacct_rtt_can_match(u8 proto, const struct vnacct_l4_info *info);

#endif /* _VNACCT_RTT_H */
