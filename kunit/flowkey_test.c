// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of vnacct flow-key extraction (vnacct/flowkey.c): crafted
 * IPv4/IPv6 x TCP/UDP/ICMP/ICMPv6 packets as buffers and as skbs, IPv6
 * extension headers, fragments, VLAN, missing network header, truncated
 * and malformed headers, TCP options, reverse keys and the key hash.
 */
#include <kunit/test.h>
#include <linux/etherdevice.h>
#include <linux/if_arp.h>
#include <linux/if_vlan.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <net/net_namespace.h>

#include "../vnacct/flowkey.c"

#define FK_SADDR4	0x0a000001	/* 10.0.0.1 */
#define FK_DADDR4	0xc0a80102	/* 192.168.1.2 */
#define FK_PAYLOAD	100
#define FK_IFINDEX	7
#define FK_NDISC_NS	135	/* ICMPv6 neighbour solicitation */

static const u8 fk_saddr6[16] = {
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
};

static const u8 fk_daddr6[16] = {
	0xfd, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x12, 0x34,
};

/* NOP NOP TS(0x11223344, 0x55667788) */
static const u8 fk_opt_nnts[12] = {
	1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
};

/* SYN layout: MSS 1460, SACK_PERM, TS(7, 0), NOP, WS 7 */
static const u8 fk_opt_syn[20] = {
	2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 7, 0, 0, 0, 0, 1, 3, 3, 7,
};

struct fk_priv {
	struct net_device *dev;
};

/* --- packet builders; @p must have room, return the bytes written --- */

static unsigned int fk_ipv4(u8 *p, u8 proto, unsigned int l4len, u16 frag,
			    unsigned int ihl)
{
	struct iphdr *iph = (struct iphdr *)p;

	memset(p, 0, ihl * 4);
	iph->version = 4;
	iph->ihl = ihl;
	iph->tot_len = htons(ihl * 4 + l4len);
	iph->frag_off = htons(frag);
	iph->ttl = 64;
	iph->protocol = proto;
	iph->saddr = htonl(FK_SADDR4);
	iph->daddr = htonl(FK_DADDR4);
	return ihl * 4;
}

static unsigned int fk_ipv6(u8 *p, u8 nexthdr, unsigned int plen)
{
	struct ipv6hdr *ip6 = (struct ipv6hdr *)p;

	memset(p, 0, sizeof(*ip6));
	ip6->version = 6;
	ip6->payload_len = htons(plen);
	ip6->nexthdr = nexthdr;
	ip6->hop_limit = 64;
	memcpy(&ip6->saddr, fk_saddr6, 16);
	memcpy(&ip6->daddr, fk_daddr6, 16);
	return sizeof(*ip6);
}

static unsigned int fk_tcp(u8 *p, u16 sport, u16 dport, u32 seq, u32 ack,
			   u8 flags, const u8 *opt, unsigned int optlen)
{
	struct tcphdr *th = (struct tcphdr *)p;

	memset(p, 0, sizeof(*th));
	th->source = htons(sport);
	th->dest = htons(dport);
	th->seq = htonl(seq);
	th->ack_seq = htonl(ack);
	th->doff = (sizeof(*th) + optlen) / 4;
	p[13] = flags;
	th->window = htons(65535);
	if (optlen)
		memcpy(p + sizeof(*th), opt, optlen);
	return sizeof(*th) + optlen;
}

static unsigned int fk_udp(u8 *p, u16 sport, u16 dport, unsigned int plen)
{
	struct udphdr *uh = (struct udphdr *)p;

	uh->source = htons(sport);
	uh->dest = htons(dport);
	uh->len = htons(sizeof(*uh) + plen);
	uh->check = 0;
	return sizeof(*uh);
}

static unsigned int fk_icmp(u8 *p, u8 type, u8 code, u16 id, u16 seq)
{
	p[0] = type;
	p[1] = code;
	p[2] = 0;
	p[3] = 0;
	p[4] = id >> 8;
	p[5] = id & 0xff;
	p[6] = seq >> 8;
	p[7] = seq & 0xff;
	return 8;
}

/* IPv4 + TCP with the NOP NOP TS options + FK_PAYLOAD bytes */
static unsigned int fk_v4_tcp(u8 *p)
{
	unsigned int l4 = 20 + sizeof(fk_opt_nnts) + FK_PAYLOAD;
	unsigned int n = fk_ipv4(p, IPPROTO_TCP, l4, 0, 5);

	n += fk_tcp(p + n, 40000, 80, 1000, 2000, 0x18, fk_opt_nnts,
		    sizeof(fk_opt_nnts));
	memset(p + n, 0xab, FK_PAYLOAD);
	return n + FK_PAYLOAD;
}

static struct sk_buff *fk_skb(struct kunit *test, const void *data,
			      unsigned int len)
{
	struct sk_buff *skb = alloc_skb(len + 64, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	skb_put_data(skb, data, len);
	return skb;
}

static void fk_expect_v4(struct kunit *test, const struct vnacct_flow_key *k)
{
	KUNIT_EXPECT_EQ(test, k->family, AF_INET);
	KUNIT_EXPECT_EQ(test, ntohs(k->ethertype), ETH_P_IP);
	KUNIT_EXPECT_EQ(test, ntohl(k->saddr.ip4), FK_SADDR4);
	KUNIT_EXPECT_EQ(test, ntohl(k->daddr.ip4), FK_DADDR4);
	KUNIT_EXPECT_EQ(test, ntohl(k->saddr.ip6.s6_addr32[1]), 0U);
	KUNIT_EXPECT_EQ(test, ntohl(k->daddr.ip6.s6_addr32[3]), 0U);
}

static void fk_expect_v6(struct kunit *test, const struct vnacct_flow_key *k)
{
	KUNIT_EXPECT_EQ(test, k->family, AF_INET6);
	KUNIT_EXPECT_EQ(test, ntohs(k->ethertype), ETH_P_IPV6);
	KUNIT_EXPECT_EQ(test, memcmp(&k->saddr, fk_saddr6, 16), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&k->daddr, fk_daddr6, 16), 0);
}

/* the key of a malformed packet: only the ethertype (and the device) */
static void fk_expect_nonip(struct kunit *test,
			    const struct vnacct_flow_key *k, __be16 proto)
{
	struct vnacct_flow_key z = { .ethertype = proto };

	KUNIT_EXPECT_EQ(test, memcmp(&k->saddr, &z.saddr, 32), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k->sport), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k->dport), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k->ethertype), ntohs(proto));
	KUNIT_EXPECT_EQ(test, k->family, 0);
	KUNIT_EXPECT_EQ(test, k->proto, 0);
}

static int fk_parse4(const u8 *p, unsigned int len,
		     struct vnacct_flow_key *k, struct vnacct_l4_info *i)
{
	return vnacct_flow_parse_l3(p, len, htons(ETH_P_IP), k, i);
}

static int fk_parse6(const u8 *p, unsigned int len,
		     struct vnacct_flow_key *k, struct vnacct_l4_info *i)
{
	return vnacct_flow_parse_l3(p, len, htons(ETH_P_IPV6), k, i);
}

/* --- tests --- */

static void fk_test_layout(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_flow_key), (size_t)52);
	KUNIT_EXPECT_EQ(test, sizeof(struct vnacct_l4_info), (size_t)36);
	KUNIT_EXPECT_EQ(test, offsetof(struct vnacct_flow_key, daddr),
			(size_t)16);
	KUNIT_EXPECT_EQ(test, offsetof(struct vnacct_flow_key, netns),
			(size_t)36);
	KUNIT_EXPECT_EQ(test, offsetof(struct vnacct_flow_key, ethertype),
			(size_t)44);
	KUNIT_EXPECT_EQ(test, offsetof(struct vnacct_flow_key, dir),
			(size_t)48);
	KUNIT_EXPECT_EQ(test, __alignof__(struct vnacct_flow_key), (size_t)4);
}

static void fk_test_v4_tcp(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n = fk_v4_tcp(p);

	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 80);
	KUNIT_EXPECT_EQ(test, k.ifindex, 0U);
	KUNIT_EXPECT_EQ(test, k.dir, VNACCT_DIR_LOCAL);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_TCP_TS);
	KUNIT_EXPECT_EQ(test, i.seq, 1000U);
	KUNIT_EXPECT_EQ(test, i.ack, 2000U);
	KUNIT_EXPECT_EQ(test, i.tcp_flags, 0x18);
	KUNIT_EXPECT_EQ(test, i.tcp_hlen, 32);
	KUNIT_EXPECT_EQ(test, i.l4_off, 20);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
	KUNIT_EXPECT_EQ(test, i.tsval, 0x11223344U);
	KUNIT_EXPECT_EQ(test, i.tsecr, 0x55667788U);

	/* a header-only copy (the IP length is larger) parses the same */
	KUNIT_ASSERT_EQ(test, fk_parse4(p, 52, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
	KUNIT_EXPECT_EQ(test, i.tsval, 0x11223344U);

	/* trailing bytes past the IP total length (Ethernet padding) */
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n + 6, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
}

static void fk_test_v4_tcp_syn_options(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[128];
	unsigned int n = fk_ipv4(p, IPPROTO_TCP, 40, 0, 5);

	n += fk_tcp(p + n, 1234, 22, 0xfffffff0, 0, 0x02, fk_opt_syn,
		    sizeof(fk_opt_syn));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_TCP_TS);
	KUNIT_EXPECT_EQ(test, i.tsval, 7U);
	KUNIT_EXPECT_EQ(test, i.tsecr, 0U);
	KUNIT_EXPECT_EQ(test, i.seq, 0xfffffff0U);
	KUNIT_EXPECT_EQ(test, i.payload_len, 0U);
	KUNIT_EXPECT_EQ(test, i.tcp_hlen, 40);

	/* no options at all */
	n = fk_ipv4(p, IPPROTO_TCP, 20, 0, 5);
	n += fk_tcp(p + n, 1234, 22, 5, 6, 0x10, NULL, 0);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP);
	KUNIT_EXPECT_EQ(test, i.tcp_hlen, 20);
}

static void fk_test_v4_udp(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n = fk_ipv4(p, IPPROTO_UDP, 8 + FK_PAYLOAD, 0, 5);

	n += fk_udp(p + n, 5353, 53, FK_PAYLOAD);
	memset(p + n, 0, FK_PAYLOAD);
	n += FK_PAYLOAD;
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 5353);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 53);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
	KUNIT_EXPECT_EQ(test, i.l4_off, 20);
}

static void fk_test_v4_icmp(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[128];
	unsigned int n = fk_ipv4(p, IPPROTO_ICMP, 8 + 56, 0, 5);

	n += fk_icmp(p + n, ICMP_ECHO, 0, 0x1234, 7);
	memset(p + n, 0, 56);
	n += 56;
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_ICMP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0x1234);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_ECHO);
	KUNIT_EXPECT_EQ(test, i.icmp_type, ICMP_ECHO);
	KUNIT_EXPECT_EQ(test, i.echo_id, 0x1234);
	KUNIT_EXPECT_EQ(test, i.echo_seq, 7);
	KUNIT_EXPECT_EQ(test, i.payload_len, 56U);

	fk_icmp(p + 20, ICMP_ECHOREPLY, 0, 0x1234, 8);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.icmp_type, ICMP_ECHOREPLY);
	KUNIT_EXPECT_EQ(test, i.echo_seq, 8);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0x1234);

	/* not an echo: no id in the key */
	fk_icmp(p + 20, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0x1234, 8);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, i.icmp_type, ICMP_DEST_UNREACH);
	KUNIT_EXPECT_EQ(test, i.icmp_code, ICMP_PORT_UNREACH);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_ICMP);

	/* an ICMPv6 echo type inside IPv4 is not an echo */
	fk_ipv4(p, IPPROTO_ICMPV6, 64, 0, 5);
	fk_icmp(p + 20, ICMPV6_ECHO_REQUEST, 0, 1, 1);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
}

static void fk_test_v4_options_and_frags(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[128];
	unsigned int n;

	/* IHL 6: one option word before UDP */
	n = fk_ipv4(p, IPPROTO_UDP, 8 + 10, 0, 6);
	n += fk_udp(p + n, 1, 2, 10);
	memset(p + n, 0, 10);
	n += 10;
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.l4_off, 24);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 1);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 2);

	/* first fragment (MF, offset 0): ports are there */
	n = fk_ipv4(p, IPPROTO_UDP, 8 + 40, IP_MF, 5);
	n += fk_udp(p + n, 3, 4, 1000);
	memset(p + n, 0, 40);
	n += 40;
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_FRAG);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 3);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);

	/* later fragment: no L4 header, ports 0, proto kept */
	fk_ipv4(p, IPPROTO_UDP, 48, IP_MF | 6, 5);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_FRAG | VNACCT_L4_LATER_FRAG);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 0);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);
	fk_expect_v4(test, &k);

	/* last fragment (offset, no MF) */
	fk_ipv4(p, IPPROTO_TCP, 48, 100, 5);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_FRAG | VNACCT_L4_LATER_FRAG);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_TCP);

	/* DF alone is not a fragment */
	n = fk_ipv4(p, IPPROTO_UDP, 8, IP_DF, 5);
	n += fk_udp(p + n, 3, 4, 0);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, i.payload_len, 0U);
}

static void fk_test_v6_tcp_udp_icmp(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n;

	n = fk_ipv6(p, IPPROTO_TCP, 32 + FK_PAYLOAD);
	n += fk_tcp(p + n, 443, 50000, 7, 9, 0x10, fk_opt_nnts,
		    sizeof(fk_opt_nnts));
	memset(p + n, 0, FK_PAYLOAD);
	n += FK_PAYLOAD;
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	fk_expect_v6(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 443);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 50000);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_TCP_TS);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
	KUNIT_EXPECT_EQ(test, i.l4_off, 40);
	KUNIT_EXPECT_EQ(test, i.tsecr, 0x55667788U);

	n = fk_ipv6(p, IPPROTO_UDP, 8 + 20);
	n += fk_udp(p + n, 546, 547, 20);
	memset(p + n, 0, 20);
	n += 20;
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 546);
	KUNIT_EXPECT_EQ(test, i.payload_len, 20U);

	n = fk_ipv6(p, IPPROTO_ICMPV6, 8 + 16);
	n += fk_icmp(p + n, ICMPV6_ECHO_REQUEST, 0, 0xbeef, 300);
	memset(p + n, 0, 16);
	n += 16;
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_ICMPV6);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_ECHO);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0xbeef);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 0);
	KUNIT_EXPECT_EQ(test, i.echo_seq, 300);
	KUNIT_EXPECT_EQ(test, i.payload_len, 16U);

	fk_icmp(p + 40, ICMPV6_ECHO_REPLY, 0, 0xbeef, 300);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_ECHO);
	KUNIT_EXPECT_EQ(test, i.icmp_type, ICMPV6_ECHO_REPLY);

	/* neighbour solicitation: not an echo */
	fk_icmp(p + 40, FK_NDISC_NS, 0, 1, 2);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
	KUNIT_EXPECT_EQ(test, i.icmp_type, FK_NDISC_NS);

	/* ICMP (v4) echo inside IPv6 is not an echo */
	p[6] = IPPROTO_ICMP;
	fk_icmp(p + 40, ICMP_ECHO, 0, 1, 2);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_ICMP);
}

static void fk_test_v6_ext_headers(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n, off;

	/* HBH (8) -> DEST (16) -> ROUTING (24) -> FRAG first (8) -> AH
	 * (16) -> UDP: 72 bytes of extension headers
	 */
	n = fk_ipv6(p, NEXTHDR_HOP, 72 + 8 + 4);
	off = n;
	memset(p + off, 0, 72);
	p[off] = NEXTHDR_DEST;		/* HBH, 8 bytes */
	p[off + 1] = 0;
	off += 8;
	p[off] = NEXTHDR_ROUTING;	/* DEST, 16 bytes */
	p[off + 1] = 1;
	off += 16;
	p[off] = NEXTHDR_FRAGMENT;	/* ROUTING, 24 bytes */
	p[off + 1] = 2;
	off += 24;
	p[off] = NEXTHDR_AUTH;		/* FRAG: offset 0, M set */
	p[off + 3] = 1;
	off += 8;
	p[off] = IPPROTO_UDP;		/* AH: (2 + 2) * 4 = 16 bytes */
	p[off + 1] = 2;
	off += 16;
	KUNIT_ASSERT_EQ(test, off, 40U + 72);
	n = off + fk_udp(p + off, 1111, 2222, 4);
	memset(p + n, 0, 4);
	n += 4;
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	fk_expect_v6(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 1111);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 2222);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_FRAG);
	KUNIT_EXPECT_EQ(test, i.l4_off, 112);
	KUNIT_EXPECT_EQ(test, i.payload_len, 4U);

	/* the same chain cut by the buffer inside the routing header */
	KUNIT_ASSERT_EQ(test, fk_parse6(p, 40 + 8 + 16 + 10, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TRUNC);
	KUNIT_EXPECT_EQ(test, k.proto, NEXTHDR_ROUTING);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
	fk_expect_v6(test, &k);

	/* cut inside the UDP header: L3-only key with the UDP proto */
	KUNIT_ASSERT_EQ(test, fk_parse6(p, 40 + 72 + 6, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TRUNC | VNACCT_L4_FRAG);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);

	/* payload length ending inside the routing header: malformed */
	p[4] = 0;
	p[5] = 8 + 16 + 8;
	KUNIT_EXPECT_EQ(test, fk_parse6(p, n, &k, &i), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IPV6));
	KUNIT_EXPECT_EQ(test, i.flags, 0);

	/* later fragment: stop there, upper-layer proto from the header */
	n = fk_ipv6(p, NEXTHDR_FRAGMENT, 8 + 16);
	memset(p + n, 0, 24);
	p[n] = IPPROTO_TCP;
	p[n + 2] = 0x05;		/* offset 0x5a << 3 */
	p[n + 3] = 0xa0;
	n += 24;
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_FRAG | VNACCT_L4_LATER_FRAG);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);

	/* no next header */
	n = fk_ipv6(p, NEXTHDR_NONE, 0);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, k.proto, NEXTHDR_NONE);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
}

static void fk_test_v6_ext_limit(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n, j;

	/* 8 destination option headers then UDP: still parsed */
	n = fk_ipv6(p, NEXTHDR_DEST, 8 * 8 + 8);
	for (j = 0; j < 8; j++) {
		memset(p + n, 0, 8);
		p[n] = j == 7 ? IPPROTO_UDP : NEXTHDR_DEST;
		n += 8;
	}
	n += fk_udp(p + n, 9, 10, 0);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 9);

	/* 9: over the limit, L3-only key */
	n = fk_ipv6(p, NEXTHDR_DEST, 9 * 8 + 8);
	for (j = 0; j < 9; j++) {
		memset(p + n, 0, 8);
		p[n] = j == 8 ? IPPROTO_UDP : NEXTHDR_DEST;
		n += 8;
	}
	n += fk_udp(p + n, 9, 10, 0);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_EXT_LIMIT);
	KUNIT_EXPECT_EQ(test, k.proto, NEXTHDR_DEST);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
}

static void fk_test_malformed_l3(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n = fk_v4_tcp(p);

	/* bad version under ETH_P_IP */
	p[0] = 0x65;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IP));
	/* IHL 4 */
	p[0] = 0x44;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	/* IHL 15 but only 40 bytes */
	p[0] = 0x4f;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, 40, &k, &i), -EINVAL);
	p[0] = 0x45;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	/* shorter than an IPv4 header */
	KUNIT_EXPECT_EQ(test, fk_parse4(p, 19, &k, &i), -EINVAL);
	KUNIT_EXPECT_EQ(test, fk_parse4(p, 0, &k, &i), -EINVAL);
	/* total length below the header length, and 0 (no BIG TCP here) */
	p[2] = 0;
	p[3] = 16;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	p[3] = 0;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IP));
	KUNIT_EXPECT_EQ(test, i.flags, 0);

	/* IPv6: bad version, short */
	n = fk_ipv6(p, IPPROTO_UDP, 8);
	n += fk_udp(p + n, 1, 2, 0);
	KUNIT_EXPECT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, fk_parse6(p, 39, &k, &i), -EINVAL);
	p[0] = 0x40;
	KUNIT_EXPECT_EQ(test, fk_parse6(p, n, &k, &i), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IPV6));
	/* an IPv4 header declared as IPv6 and the reverse */
	n = fk_v4_tcp(p);
	KUNIT_EXPECT_EQ(test, fk_parse6(p, n, &k, &i), -EINVAL);
	n = fk_ipv6(p, IPPROTO_UDP, 8);
	n += fk_udp(p + n, 1, 2, 0);
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
}

static void fk_test_nonip(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[64] = { 0x00, 0x01, 0x08, 0x00 };

	KUNIT_EXPECT_EQ(test, vnacct_flow_parse_l3(p, 28, htons(ETH_P_ARP),
						   &k, &i), 0);
	fk_expect_nonip(test, &k, htons(ETH_P_ARP));
	KUNIT_EXPECT_EQ(test, i.flags, 0);
	KUNIT_EXPECT_EQ(test, vnacct_flow_parse_l3(p, 0, htons(ETH_P_LLDP),
						   &k, &i), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.ethertype), ETH_P_LLDP);
}

static void fk_test_truncated_l4(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n = fk_v4_tcp(p);

	/* buffer ends inside the fixed TCP header */
	KUNIT_ASSERT_EQ(test, fk_parse4(p, 20 + 19, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TRUNC);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_TCP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 0);
	KUNIT_EXPECT_EQ(test, i.seq, 0U);
	KUNIT_EXPECT_EQ(test, i.l4_off, 0);
	/* IP header alone */
	KUNIT_ASSERT_EQ(test, fk_parse4(p, 20, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TRUNC);

	/* the IP length ends inside the UDP header */
	n = fk_ipv4(p, IPPROTO_UDP, 4, 0, 5);
	n += fk_udp(p + n, 1, 2, 0);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TRUNC);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_UDP);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);

	/* ICMP echo cut after the type/code */
	n = fk_ipv4(p, IPPROTO_ICMP, 8, 0, 5);
	n += fk_icmp(p + n, ICMP_ECHO, 0, 1, 1);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n - 4, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TRUNC);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 0);
}

static void fk_test_tcp_malformed(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	u8 p[256], opt[12];
	unsigned int n = fk_v4_tcp(p);

	/* data offset 4 (< 5) */
	p[20 + 12] = 4 << 4;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IP));
	/* data offset 0 */
	p[20 + 12] = 0;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	/* data offset 15 (60 bytes) past a 40-byte TCP packet */
	n = fk_ipv4(p, IPPROTO_TCP, 40, 0, 5);
	n += fk_tcp(p + n, 1, 2, 3, 4, 0x10, fk_opt_syn, 20);
	p[20 + 12] = 15 << 4;
	KUNIT_EXPECT_EQ(test, fk_parse4(p, n, &k, &i), -EINVAL);
	/* IPv6 too */
	n = fk_ipv6(p, IPPROTO_TCP, 20);
	n += fk_tcp(p + n, 1, 2, 3, 4, 0x10, NULL, 0);
	KUNIT_EXPECT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	p[40 + 12] = 6 << 4;
	KUNIT_EXPECT_EQ(test, fk_parse6(p, n, &k, &i), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IPV6));

	/* an option running past the TCP header: options ignored */
	memcpy(opt, fk_opt_nnts, sizeof(opt));
	opt[0] = 2;		/* MSS, length 20: past the 32-byte header */
	opt[1] = 20;
	n = fk_ipv4(p, IPPROTO_TCP, 32, 0, 5);
	n += fk_tcp(p + n, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_BAD_OPT);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 1);
	KUNIT_EXPECT_EQ(test, i.tsval, 0U);

	/* option length 0 and 1 */
	opt[1] = 0;
	fk_tcp(p + 20, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_BAD_OPT);
	opt[1] = 1;
	fk_tcp(p + 20, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_BAD_OPT);

	/* kind without a length byte at the very end */
	memset(opt, 1, sizeof(opt));
	opt[11] = 8;
	fk_tcp(p + 20, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_BAD_OPT);

	/* timestamp before a bad option is kept */
	opt[0] = 8;
	opt[1] = 10;
	opt[2] = 0;
	opt[3] = 0;
	opt[4] = 0;
	opt[5] = 42;
	opt[10] = 30;		/* kind 30, length 9: past the end */
	opt[11] = 9;
	fk_tcp(p + 20, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags,
			VNACCT_L4_TCP | VNACCT_L4_TCP_TS | VNACCT_L4_BAD_OPT);
	KUNIT_EXPECT_EQ(test, i.tsval, 42U);

	/* EOL ends parsing: a timestamp after it is not read */
	memcpy(opt, fk_opt_nnts, sizeof(opt));
	opt[0] = 0;
	fk_tcp(p + 20, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP);

	/* a timestamp option with a wrong length is skipped */
	memcpy(opt, fk_opt_nnts, sizeof(opt));
	opt[3] = 6;
	memset(opt + 8, 1, 4);
	fk_tcp(p + 20, 1, 2, 3, 4, 0x10, opt, sizeof(opt));
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP);

	/* options cut by the copy (header longer than the buffer) */
	n = fk_ipv4(p, IPPROTO_TCP, 40 + 100, 0, 5);
	n += fk_tcp(p + n, 1, 2, 3, 4, 0x12, fk_opt_syn, 20);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, 20 + 20 + 7, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_OPT_TRUNC);
	KUNIT_EXPECT_EQ(test, i.payload_len, 100U);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 1);
	/* cut after the timestamp: it is reported */
	KUNIT_ASSERT_EQ(test, fk_parse4(p, 20 + 20 + 17, &k, &i), 0);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_TCP | VNACCT_L4_TCP_TS |
			VNACCT_L4_OPT_TRUNC);
	KUNIT_EXPECT_EQ(test, i.tsval, 7U);
}

static void fk_test_reverse(struct kunit *test)
{
	struct vnacct_flow_key k, r, rr, reply;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n = fk_v4_tcp(p);

	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	k.dir = VNACCT_DIR_FROM_GUEST;
	k.ifindex = 3;
	vnacct_flow_key_reverse(&k, &r);
	KUNIT_EXPECT_EQ(test, ntohl(r.saddr.ip4), FK_DADDR4);
	KUNIT_EXPECT_EQ(test, ntohl(r.daddr.ip4), FK_SADDR4);
	KUNIT_EXPECT_EQ(test, ntohs(r.sport), 80);
	KUNIT_EXPECT_EQ(test, ntohs(r.dport), 40000);
	KUNIT_EXPECT_EQ(test, r.dir, VNACCT_DIR_TO_GUEST);
	KUNIT_EXPECT_EQ(test, r.ifindex, 3U);
	KUNIT_EXPECT_EQ(test, r.proto, IPPROTO_TCP);
	vnacct_flow_key_reverse(&r, &rr);
	KUNIT_EXPECT_EQ(test, memcmp(&k, &rr, sizeof(k)), 0);
	/* in place */
	rr = k;
	vnacct_flow_key_reverse(&rr, &rr);
	KUNIT_EXPECT_EQ(test, memcmp(&r, &rr, sizeof(r)), 0);
	/* LOCAL stays LOCAL */
	k.dir = VNACCT_DIR_LOCAL;
	vnacct_flow_key_reverse(&k, &r);
	KUNIT_EXPECT_EQ(test, r.dir, VNACCT_DIR_LOCAL);

	/* IPv6 */
	n = fk_ipv6(p, IPPROTO_UDP, 8);
	n += fk_udp(p + n, 1, 2, 0);
	KUNIT_ASSERT_EQ(test, fk_parse6(p, n, &k, &i), 0);
	vnacct_flow_key_reverse(&k, &r);
	KUNIT_EXPECT_EQ(test, memcmp(&r.saddr, fk_daddr6, 16), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&r.daddr, fk_saddr6, 16), 0);
	KUNIT_EXPECT_EQ(test, ntohs(r.sport), 2);

	/* the reverse of an echo request's key is its reply's key */
	n = fk_ipv4(p, IPPROTO_ICMP, 8, 0, 5);
	n += fk_icmp(p + n, ICMP_ECHO, 0, 77, 1);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	k.dir = VNACCT_DIR_TO_GUEST;
	((struct iphdr *)p)->saddr = htonl(FK_DADDR4);
	((struct iphdr *)p)->daddr = htonl(FK_SADDR4);
	fk_icmp(p + 20, ICMP_ECHOREPLY, 0, 77, 1);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &reply, &i), 0);
	reply.dir = VNACCT_DIR_FROM_GUEST;
	vnacct_flow_key_reverse(&k, &r);
	KUNIT_EXPECT_EQ(test, memcmp(&r, &reply, sizeof(r)), 0);
	KUNIT_EXPECT_EQ(test, ntohs(r.sport), 77);
}

static void fk_test_hash(struct kunit *test)
{
	struct vnacct_flow_key k, k2, r;
	struct vnacct_l4_info i;
	u8 p[256];
	unsigned int n = fk_v4_tcp(p);

	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k, &i), 0);
	KUNIT_ASSERT_EQ(test, fk_parse4(p, n, &k2, &i), 0);
	KUNIT_EXPECT_EQ(test, memcmp(&k, &k2, sizeof(k)), 0);
	KUNIT_EXPECT_EQ(test, vnacct_flow_hash(&k, 1), vnacct_flow_hash(&k2, 1));
	KUNIT_EXPECT_NE(test, vnacct_flow_hash(&k, 1), vnacct_flow_hash(&k, 2));
	vnacct_flow_key_reverse(&k, &r);
	KUNIT_EXPECT_NE(test, vnacct_flow_hash(&k, 1), vnacct_flow_hash(&r, 1));
	k2.dir = VNACCT_DIR_TO_GUEST;
	KUNIT_EXPECT_NE(test, vnacct_flow_hash(&k, 1),
			vnacct_flow_hash(&k2, 1));
	k2 = k;
	k2.ifindex = 9;
	KUNIT_EXPECT_NE(test, vnacct_flow_hash(&k, 1),
			vnacct_flow_hash(&k2, 1));
}

/* --- skb-based tests --- */

static void fk_test_skb_v4(struct kunit *test)
{
	struct fk_priv *priv = test->priv;
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	struct sk_buff *skb;
	u8 p[256];
	unsigned int n = fk_v4_tcp(p);

	/* network header set at data, no MAC header, no device */
	skb = fk_skb(test, p, n);
	skb->protocol = htons(ETH_P_IP);
	skb_reset_network_header(skb);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	KUNIT_EXPECT_EQ(test, k.ifindex, 0U);
	KUNIT_EXPECT_EQ(test, k.netns, 0U);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
	KUNIT_EXPECT_EQ(test, i.tsval, 0x11223344U);

	/* with the device: ifindex and namespace */
	skb->dev = priv->dev;
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	KUNIT_EXPECT_EQ(test, k.ifindex, (u32)FK_IFINDEX);
	KUNIT_EXPECT_EQ(test, k.netns, init_net.ns.inum);
	KUNIT_EXPECT_EQ(test, k.dir, VNACCT_DIR_LOCAL);

	/* data pulled past the headers (socket delivery): negative offset */
	skb_pull(skb, 52);
	KUNIT_EXPECT_LT(test, skb_network_offset(skb), 0);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);
	KUNIT_EXPECT_EQ(test, i.tsecr, 0x55667788U);
	kfree_skb(skb);

	/* runt */
	skb = fk_skb(test, p, 10);
	skb->protocol = htons(ETH_P_IP);
	skb->dev = priv->dev;
	skb_reset_network_header(skb);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), -EINVAL);
	fk_expect_nonip(test, &k, htons(ETH_P_IP));
	KUNIT_EXPECT_EQ(test, k.ifindex, (u32)FK_IFINDEX);
	kfree_skb(skb);
}

static void fk_test_skb_v6(struct kunit *test)
{
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	struct sk_buff *skb;
	u8 p[256];
	unsigned int n;

	n = fk_ipv6(p, IPPROTO_ICMPV6, 8);
	n += fk_icmp(p + n, ICMPV6_ECHO_REQUEST, 0, 5, 6);
	skb = fk_skb(test, p, n);
	skb->protocol = htons(ETH_P_IPV6);
	skb_reset_network_header(skb);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v6(test, &k);
	KUNIT_EXPECT_EQ(test, k.proto, IPPROTO_ICMPV6);
	KUNIT_EXPECT_EQ(test, i.echo_id, 5);
	KUNIT_EXPECT_EQ(test, i.echo_seq, 6);
	kfree_skb(skb);
}

static void fk_test_skb_ethernet(struct kunit *test)
{
	struct fk_priv *priv = test->priv;
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	struct sk_buff *skb;
	struct ethhdr *eh;
	u8 p[256];
	unsigned int n;
	int off;

	eh = (struct ethhdr *)p;
	eth_broadcast_addr(eh->h_dest);
	eth_zero_addr(eh->h_source);
	eh->h_proto = htons(ETH_P_IP);
	n = ETH_HLEN + fk_v4_tcp(p + ETH_HLEN);

	/* MAC and network headers set (tx path): the network header wins */
	skb = fk_skb(test, p, n);
	skb->dev = priv->dev;
	skb->protocol = htons(ETH_P_IP);
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, ETH_HLEN);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	kfree_skb(skb);

	/* no network header, no MAC header, no protocol: frame at data */
	skb = fk_skb(test, p, n);
	skb->dev = priv->dev;
	KUNIT_EXPECT_EQ(test, skb->network_header, 0);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.dport), 80);
	KUNIT_EXPECT_EQ(test, i.payload_len, (u32)FK_PAYLOAD);

	/* no network header, MAC header set, data past it (after
	 * eth_type_trans()): read from the MAC header
	 */
	skb_reset_mac_header(skb);
	skb_pull(skb, ETH_HLEN);
	skb->protocol = htons(ETH_P_IP);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, &off), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	/*
	 * A NIC's receive (napi_gro_receive()) is in this state: the IP
	 * length is what follows the Ethernet header, where
	 * skb->len - skb_network_offset() counted the headroom too.
	 */
	KUNIT_EXPECT_EQ(test, (int)skb->len - off, (int)(n - ETH_HLEN));
	KUNIT_EXPECT_NE(test, (int)skb->len - skb_network_offset(skb),
			(int)(n - ETH_HLEN));

	/* stale network header at or before the MAC header: ignored */
	skb_push(skb, ETH_HLEN);
	skb_reset_network_header(skb);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, &off), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	KUNIT_EXPECT_EQ(test, (int)skb->len - off, (int)(n - ETH_HLEN));
	kfree_skb(skb);

	/* on a device without link-layer header (tun), data is L3 */
	priv->dev->type = ARPHRD_NONE;
	skb = fk_skb(test, p + ETH_HLEN, n - ETH_HLEN);
	skb->dev = priv->dev;
	skb->protocol = htons(ETH_P_IP);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v4(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 40000);
	kfree_skb(skb);
	priv->dev->type = ARPHRD_ETHER;

	/* ARP: a non-IP key */
	eh->h_proto = htons(ETH_P_ARP);
	skb = fk_skb(test, p, ETH_HLEN + 28);
	skb->dev = priv->dev;
	skb->protocol = htons(ETH_P_ARP);
	skb_reset_mac_header(skb);
	skb_set_network_header(skb, ETH_HLEN);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	KUNIT_EXPECT_EQ(test, k.family, 0);
	KUNIT_EXPECT_EQ(test, ntohs(k.ethertype), ETH_P_ARP);
	KUNIT_EXPECT_EQ(test, k.ifindex, (u32)FK_IFINDEX);
	kfree_skb(skb);
}

static void fk_test_skb_vlan(struct kunit *test)
{
	struct fk_priv *priv = test->priv;
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	struct vlan_ethhdr *veh;
	struct sk_buff *skb;
	u8 p[256];
	unsigned int n;

	veh = (struct vlan_ethhdr *)p;
	memset(p, 0, VLAN_ETH_HLEN);
	veh->h_vlan_proto = htons(ETH_P_8021Q);
	veh->h_vlan_TCI = htons(0x2064);
	veh->h_vlan_encapsulated_proto = htons(ETH_P_IPV6);
	n = VLAN_ETH_HLEN + fk_ipv6(p + VLAN_ETH_HLEN, IPPROTO_UDP, 8);
	n += fk_udp(p + n, 4789, 4790, 0);

	/* rx before untagging: protocol 802.1Q, data at the tag */
	skb = fk_skb(test, p, n);
	skb->dev = priv->dev;
	skb_reset_mac_header(skb);
	skb_pull(skb, ETH_HLEN);
	skb->protocol = htons(ETH_P_8021Q);
	skb_reset_network_header(skb);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v6(test, &k);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 4789);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_VLAN);
	KUNIT_EXPECT_EQ(test, i.vlan_tci, 0x2064);
	kfree_skb(skb);

	/* 802.1ad, no MAC header set: read at data */
	veh->h_vlan_proto = htons(ETH_P_8021AD);
	skb = fk_skb(test, p, n);
	skb->dev = priv->dev;
	skb->protocol = htons(ETH_P_8021AD);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v6(test, &k);
	KUNIT_EXPECT_EQ(test, i.vlan_tci, 0x2064);
	kfree_skb(skb);

	/* tag cut off */
	skb = fk_skb(test, p, ETH_HLEN + 2);
	skb->dev = priv->dev;
	skb->protocol = htons(ETH_P_8021Q);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, k.family, 0);
	kfree_skb(skb);

	/* hardware-accelerated tag */
	skb = fk_skb(test, p + VLAN_ETH_HLEN, n - VLAN_ETH_HLEN);
	skb->dev = priv->dev;
	skb->protocol = htons(ETH_P_IPV6);
	skb_reset_network_header(skb);
	__vlan_hwaccel_put_tag(skb, htons(ETH_P_8021Q), 42);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	fk_expect_v6(test, &k);
	KUNIT_EXPECT_EQ(test, i.flags, VNACCT_L4_VLAN);
	KUNIT_EXPECT_EQ(test, i.vlan_tci, 42);
	kfree_skb(skb);
}

static void fk_test_skb_big_tcp(struct kunit *test)
{
	const unsigned int len = 70000;
	struct vnacct_flow_key k;
	struct vnacct_l4_info i;
	struct sk_buff *skb;
	u8 *p;

	skb = alloc_skb(len + 64, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, skb);
	skb_reserve(skb, 64);
	p = skb_put_zero(skb, len);
	fk_ipv4(p, IPPROTO_TCP, 0, 0, 5);
	p[2] = 0;		/* total length 0: BIG TCP */
	p[3] = 0;
	fk_tcp(p + 20, 1, 2, 100, 0, 0x10, NULL, 0);
	skb->protocol = htons(ETH_P_IP);
	skb_reset_network_header(skb);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	KUNIT_EXPECT_EQ(test, i.payload_len, len - 40);
	KUNIT_EXPECT_EQ(test, ntohs(k.sport), 1);
	/* as a plain buffer, total length 0 is malformed */
	KUNIT_EXPECT_EQ(test, fk_parse4(p, 128, &k, &i), -EINVAL);

	/* IPv6 payload length 0 */
	fk_ipv6(p, IPPROTO_TCP, 0);
	fk_tcp(p + 40, 1, 2, 100, 0, 0x10, NULL, 0);
	skb->protocol = htons(ETH_P_IPV6);
	KUNIT_EXPECT_EQ(test, vnacct_flow_key_from_skb(skb, &k, &i, NULL), 0);
	KUNIT_EXPECT_EQ(test, i.payload_len, len - 60);
	kfree_skb(skb);
}

static int fk_init(struct kunit *test)
{
	struct fk_priv *priv = kunit_kzalloc(test, sizeof(*priv), GFP_KERNEL);

	if (!priv)
		return -ENOMEM;
	priv->dev = alloc_etherdev(0);
	if (!priv->dev)
		return -ENOMEM;
	priv->dev->ifindex = FK_IFINDEX;
	test->priv = priv;
	return 0;
}

static void fk_exit(struct kunit *test)
{
	struct fk_priv *priv = test->priv;

	if (priv && priv->dev)
		free_netdev(priv->dev);
}

static struct kunit_case vnacct_flowkey_cases[] = {
	KUNIT_CASE(fk_test_layout),
	KUNIT_CASE(fk_test_v4_tcp),
	KUNIT_CASE(fk_test_v4_tcp_syn_options),
	KUNIT_CASE(fk_test_v4_udp),
	KUNIT_CASE(fk_test_v4_icmp),
	KUNIT_CASE(fk_test_v4_options_and_frags),
	KUNIT_CASE(fk_test_v6_tcp_udp_icmp),
	KUNIT_CASE(fk_test_v6_ext_headers),
	KUNIT_CASE(fk_test_v6_ext_limit),
	KUNIT_CASE(fk_test_malformed_l3),
	KUNIT_CASE(fk_test_nonip),
	KUNIT_CASE(fk_test_truncated_l4),
	KUNIT_CASE(fk_test_tcp_malformed),
	KUNIT_CASE(fk_test_reverse),
	KUNIT_CASE(fk_test_hash),
	KUNIT_CASE(fk_test_skb_v4),
	KUNIT_CASE(fk_test_skb_v6),
	KUNIT_CASE(fk_test_skb_ethernet),
	KUNIT_CASE(fk_test_skb_vlan),
	KUNIT_CASE(fk_test_skb_big_tcp),
	{}
};

static struct kunit_suite vnacct_flowkey_suite = {
	.name = "vnacct_flowkey",
	.init = fk_init,
	.exit = fk_exit,
	.test_cases = vnacct_flowkey_cases,
};

kunit_test_suite(vnacct_flowkey_suite);
