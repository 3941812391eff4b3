/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct flow keys: the fixed-layout key identifying a flow (device,
 * namespace, direction, L3/L4 addresses), the per-packet L4 fields the
 * module needs for RTT matching, the header parser that fills both from a
 * linear buffer or an skb, and the key hash / reverse-key helpers.
 */
#ifndef _VNACCT_FLOWKEY_H
#define _VNACCT_FLOWKEY_H

#include <linux/bits.h>
#include <linux/in6.h>
#include <linux/types.h>

struct sk_buff;

/* bytes of headers copied from an skb for parsing (on the stack) */
#define VNACCT_HDR_COPY		128
/* IPv6 extension headers skipped at most before giving up */
#define VNACCT_IPV6_MAX_EXT	8

/**
 * enum vnacct_dir - direction of a flow relative to the guest
 * @VNACCT_DIR_LOCAL: host-local traffic, or direction not (yet) known; the
 *	parser leaves this value, callers set the real direction
 * @VNACCT_DIR_TO_GUEST: traffic delivered toward a guest
 * @VNACCT_DIR_FROM_GUEST: traffic sent by a guest
 * @VNACCT_DIR_MAX: number of directions
 */
enum vnacct_dir {
	VNACCT_DIR_LOCAL = 0,
	VNACCT_DIR_TO_GUEST = 1,
	VNACCT_DIR_FROM_GUEST = 2,
	VNACCT_DIR_MAX,
};

/**
 * union vnacct_addr - an IPv4 or IPv6 address
 * @ip4: IPv4 address (network order) in the first 4 bytes, rest zero
 * @ip6: IPv6 address
 */
union vnacct_addr {
	__be32 ip4;
	struct in6_addr ip6;
};

/**
 * struct vnacct_flow_key - identity of a flow
 * @saddr: source address (zero for non-IP)
 * @daddr: destination address (zero for non-IP)
 * @ifindex: interface index of the device the packet was seen on (the
 *	caller overwrites it with the guest-facing device when it knows it)
 * @netns: inode number of that device's network namespace (as shown by
 *	``ls -l /proc/<pid>/ns/net``), 0 when unknown
 * @sport: source port (network order); the echo identifier (as on the
 *	wire) for ICMP/ICMPv6 echo request and reply; 0 for other ICMP, for
 *	non-first fragments, for L4 headers that were not present and for
 *	protocols without ports
 * @dport: destination port (network order), 0 for ICMP and as for @sport
 * @ethertype: L3 protocol (network order, e.g. htons(ETH_P_IP)), also for
 *	non-IP frames, for which it is the only L2/L3 field set
 * @family: AF_INET, AF_INET6, or 0 for non-IP
 * @proto: L4 protocol (IPPROTO_*); for IPv6 the upper-layer protocol after
 *	the extension headers (or the header where parsing stopped)
 * @dir: &enum vnacct_dir
 * @pad: zero
 *
 * Fixed layout with no holes and every byte defined (the parser zeroes the
 * key first), so keys can be compared with memcmp() and hashed with
 * jhash2(). Size: 52 bytes, 4-byte aligned.
 */
struct vnacct_flow_key {
	union vnacct_addr saddr;
	union vnacct_addr daddr;
	u32 ifindex;
	u32 netns;
	__be16 sport;
	__be16 dport;
	__be16 ethertype;
	u8 family;
	u8 proto;
	u8 dir;
	u8 pad[3];
};

/* the L4 header (TCP 20, UDP 8, ICMP 8, ports 4) was not in the data */
#define VNACCT_L4_TRUNC		BIT(0)
/* IP fragment (first or later) */
#define VNACCT_L4_FRAG		BIT(1)
/* non-first fragment: there is no L4 header, ports are 0 */
#define VNACCT_L4_LATER_FRAG	BIT(2)
/* more IPv6 extension headers than VNACCT_IPV6_MAX_EXT */
#define VNACCT_L4_EXT_LIMIT	BIT(3)
/* ICMP/ICMPv6 echo request or reply: echo_id/echo_seq valid */
#define VNACCT_L4_ECHO		BIT(4)
/* TCP header parsed: seq, ack, tcp_flags valid */
#define VNACCT_L4_TCP		BIT(5)
/* TCP timestamp option found: tsval/tsecr valid */
#define VNACCT_L4_TCP_TS	BIT(6)
/* TCP option with a bad length: option parsing stopped there */
#define VNACCT_L4_BAD_OPT	BIT(7)
/* the TCP header (options) runs past the copied bytes: options not all seen */
#define VNACCT_L4_OPT_TRUNC	BIT(8)
/* VLAN tag seen (hw-accelerated or in the frame): vlan_tci valid */
#define VNACCT_L4_VLAN		BIT(9)

/**
 * struct vnacct_l4_info - per-packet L4 fields, host byte order
 * @seq: TCP sequence number
 * @ack: TCP acknowledgment number
 * @tsval: TCP timestamp option TSval (if VNACCT_L4_TCP_TS)
 * @tsecr: TCP timestamp option TSecr (if VNACCT_L4_TCP_TS)
 * @payload_len: L4 payload bytes according to the IP length fields: after
 *	the TCP header and options, the 8-byte UDP header or the 8-byte ICMP
 *	header; the whole L4 length for other protocols (and 0 when the L4
 *	header was not parsed)
 * @flags: VNACCT_L4_* flags
 * @echo_id: ICMP/ICMPv6 echo identifier (if VNACCT_L4_ECHO)
 * @echo_seq: ICMP/ICMPv6 echo sequence number (if VNACCT_L4_ECHO)
 * @vlan_tci: VLAN TCI (if VNACCT_L4_VLAN)
 * @l4_off: offset of the L4 header from the start of the L3 header, 0 when
 *	the L4 header is absent
 * @icmp_type: ICMP/ICMPv6 type
 * @icmp_code: ICMP/ICMPv6 code
 * @tcp_flags: TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08,
 *	ACK 0x10, ...)
 * @tcp_hlen: TCP header length including options, bytes
 *
 * Size: 36 bytes.
 */
struct vnacct_l4_info {
	u32 seq;
	u32 ack;
	u32 tsval;
	u32 tsecr;
	u32 payload_len;
	u16 flags;
	u16 echo_id;
	u16 echo_seq;
	u16 vlan_tci;
	u16 l4_off;
	u8 icmp_type;
	u8 icmp_code;
	u8 tcp_flags;
	u8 tcp_hlen;
};

/**
 * vnacct_flow_parse_l3() - parse IP headers from a linear buffer
 * @l3: buffer starting at the IPv4 or IPv6 header
 * @len: bytes available in @l3 (may be fewer than the packet: a copy of
 *	the headers); IP length fields larger than @len are accepted
 * @proto: L3 protocol, network order (htons(ETH_P_IP), htons(ETH_P_IPV6);
 *	anything else gives a non-IP key)
 * @key: filled completely; @ifindex, @netns and @dir are set to 0
 * @info: filled completely
 *
 * Policy:
 *
 * * Non-IP @proto: returns 0 with a key holding only @ethertype.
 * * -EINVAL, malformed: fewer bytes than the fixed IPv4/IPv6 header or the
 *   IPv4 options, wrong version, IHL < 5, IPv4 total length < header
 *   length (a total length of 0 is accepted only for a packet longer than
 *   65535 bytes, i.e. BIG TCP, and only from vnacct_flow_key_from_skb()),
 *   an IPv6 extension header or TCP data offset running past the end of
 *   the packet given by the IP length field, TCP data offset < 5. The key
 *   is then reset to the non-IP form (only @ethertype set) and @info
 *   zeroed, so the caller can still count the packet per device.
 * * 0 with VNACCT_L4_TRUNC: the L3 header is valid but the L4 header (20
 *   bytes TCP, 8 UDP/UDP-Lite/ICMP/ICMPv6, 4 for the ports of SCTP/DCCP) is
 *   not entirely inside @len, or the IP length says the packet ends
 *   before it, or an IPv6 extension header is cut by @len: the key is
 *   L3-only (family, addresses, @proto = last header type reached; ports
 *   0) and @info holds no L4 field.
 * * 0 with VNACCT_L4_LATER_FRAG: non-first IPv4/IPv6 fragment; L3-only key
 *   with the fragment's upper-layer protocol.
 * * 0 with VNACCT_L4_EXT_LIMIT: more than VNACCT_IPV6_MAX_EXT extension
 *   headers; L3-only key, @proto = the header type where parsing stopped.
 * * TCP options are parsed up to the data offset, at most 40 bytes, like
 *   the kernel's tcp_parse_options(): an option with a length < 2 or
 *   running past the TCP header ends parsing with VNACCT_L4_BAD_OPT (the
 *   segment is still valid, the kernel ignores such options too). When
 *   the TCP header runs past @len, VNACCT_L4_OPT_TRUNC is set and only the
 *   options inside @len are parsed. The timestamp is reported only if
 *   found before any of that.
 *
 * Context: any; no allocation, bounded (at most 8 extension headers and
 * 40 option bytes).
 *
 * Return: 0 or -EINVAL.
 */
int vnacct_flow_parse_l3(const void *l3, unsigned int len, __be16 proto,
			 struct vnacct_flow_key *key,
			 struct vnacct_l4_info *info);

/**
 * vnacct_flow_key_from_skb() - build the flow key of an skb
 * @skb: packet, not modified
 * @key: filled completely (@dir = VNACCT_DIR_LOCAL, the caller sets it)
 * @info: filled completely
 * @l3_off: if not NULL, set to the offset from skb->data of the L3 header
 *	(for a non-IP frame, of what follows its Ethernet header) as found
 *	below, so that skb->len - *@l3_off is the packet's IP length; 0
 *	when the headers lie outside the skb
 *
 * Finds the L3 header at skb_network_offset() with skb->protocol when the
 * network header is set. It is taken as not set when skb->network_header
 * is 0, or when, on an Ethernet-framed device (ARPHRD_ETHER, or the
 * loopback with its Ethernet header), it does not lie after the MAC
 * header or skb->protocol is 0. Then, on an Ethernet-framed device, the
 * Ethernet header is read at the MAC header (or skb->data when that is not
 * set) and one 802.1Q/802.1ad tag is skipped; on other devices the L3
 * header is taken at skb->data. Frames whose skb->protocol is a VLAN type
 * are always read from the Ethernet header. A hardware-accelerated tag is
 * reported in @info->vlan_tci. At most VNACCT_HDR_COPY bytes are copied
 * with skb_header_pointer() to the stack and parsed with
 * vnacct_flow_parse_l3(), using the skb length for the packet length.
 * @key->ifindex and @key->netns are those of skb->dev (0 without a device).
 *
 * Context: any; no allocation, 128 + 18 bytes of stack for the copies.
 *
 * Return: as vnacct_flow_parse_l3(); -EINVAL also when the headers lie
 * outside the skb.
 */
int vnacct_flow_key_from_skb(const struct sk_buff *skb,
			     struct vnacct_flow_key *key,
			     struct vnacct_l4_info *info, int *l3_off);

/**
 * vnacct_flow_hash() - hash a flow key
 * @key: key
 * @seed: random seed
 *
 * jhash2() over the 13 words of the key.
 *
 * Return: the hash.
 */
u32 vnacct_flow_hash(const struct vnacct_flow_key *key, u32 seed);

/**
 * vnacct_flow_key_reverse() - key of the opposite direction of a flow
 * @key: key
 * @rev: output, may be @key
 *
 * Swaps addresses and ports and flips @dir (TO_GUEST <-> FROM_GUEST; LOCAL
 * stays LOCAL). For ICMP and ICMPv6 the ports are not swapped: the echo
 * identifier is in @sport for the request and for the reply, so the key of
 * an echo request reversed equals the key of its reply.
 */
void vnacct_flow_key_reverse(const struct vnacct_flow_key *key,
			     struct vnacct_flow_key *rev);

#endif /* _VNACCT_FLOWKEY_H */
