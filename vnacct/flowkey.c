// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct flow keys: IPv4/IPv6/TCP/UDP/ICMP header parsing into a flow key
 * plus the per-packet L4 fields, from a linear buffer or an skb; key hash
 * and reverse key. Nothing here allocates, sleeps or loops unboundedly.
 */
#include <linux/build_bug.h>
#include <linux/errno.h>
#include <linux/icmp.h>
#include <linux/icmpv6.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_vlan.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/jhash.h>
#include <linux/minmax.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/socket.h>
#include <linux/string.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/net_namespace.h>

#include "flowkey.h"

/* TCP option kinds and the timestamp option's length (RFC 9293, 7323) */
#define VNACCT_TCPOPT_EOL	0
#define VNACCT_TCPOPT_NOP	1
#define VNACCT_TCPOPT_TS	8
#define VNACCT_TCPOLEN_TS	10
/* NOP, NOP, TS: the layout Linux and most stacks send */
#define VNACCT_TCPOPT_NNTS	((VNACCT_TCPOPT_NOP << 24) |		\
				 (VNACCT_TCPOPT_NOP << 16) |		\
				 (VNACCT_TCPOPT_TS << 8) | VNACCT_TCPOLEN_TS)
/* the TCP header without options */
#define VNACCT_TCP_MIN		20
/* the longest TCP header */
#define VNACCT_TCP_MAX		60

static_assert(sizeof(struct vnacct_flow_key) == 52);
static_assert(sizeof(struct vnacct_l4_info) == 36);

static u32 vnacct_be32(const u8 *p)
{
	return ((u32)p[0] << 24) | ((u32)p[1] << 16) | ((u32)p[2] << 8) | p[3];
}

static u16 vnacct_be16(const u8 *p)
{
	return ((u16)p[0] << 8) | p[1];
}

/*
 * Parse TCP options: @opt holds @len option bytes (at most 40), @cut tells
 * whether the TCP header continues past them (the copy ended first): an
 * option running past the end is then not an error.
 * Each iteration consumes at least one byte: at most 40 iterations.
 */
static void vnacct_tcp_options(const u8 *opt, unsigned int len, bool cut,
			       struct vnacct_l4_info *info)
{
	unsigned int i = 0, olen;

	if (len >= 12 && vnacct_be32(opt) == VNACCT_TCPOPT_NNTS) {
		info->tsval = vnacct_be32(opt + 4);
		info->tsecr = vnacct_be32(opt + 8);
		info->flags |= VNACCT_L4_TCP_TS;
		return;
	}
	while (i < len) {
		if (opt[i] == VNACCT_TCPOPT_EOL)
			return;
		if (opt[i] == VNACCT_TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 2 > len)
			goto past_end;
		olen = opt[i + 1];
		if (olen < 2) {
			info->flags |= VNACCT_L4_BAD_OPT;
			return;
		}
		if (i + olen > len)
			goto past_end;
		if (opt[i] == VNACCT_TCPOPT_TS && olen == VNACCT_TCPOLEN_TS) {
			info->tsval = vnacct_be32(opt + i + 2);
			info->tsecr = vnacct_be32(opt + i + 6);
			info->flags |= VNACCT_L4_TCP_TS;
		}
		i += olen;
	}
	return;
past_end:
	if (!cut)
		info->flags |= VNACCT_L4_BAD_OPT;
}

/*
 * Parse the L4 header at @p: @avail bytes are in the buffer, @l4len is the
 * L4 length according to the IP header. @off is the offset from the L3
 * header, for @info->l4_off.
 */
static int vnacct_parse_l4(const u8 *p, unsigned int avail,
			   unsigned int l4len, unsigned int off, u8 proto,
			   struct vnacct_flow_key *key,
			   struct vnacct_l4_info *info)
{
	unsigned int have = min(avail, l4len), need, doff;
	bool echo;

	key->proto = proto;
	switch (proto) {
	case IPPROTO_TCP:
		need = VNACCT_TCP_MIN;
		break;
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
		need = sizeof(struct udphdr);
		break;
	case IPPROTO_ICMP:
		need = key->family == AF_INET ? 8 : 0;
		break;
	case IPPROTO_ICMPV6:
		need = key->family == AF_INET6 ? 8 : 0;
		break;
	case IPPROTO_SCTP:
	case IPPROTO_DCCP:
		need = 4;
		break;
	default:
		need = 0;
		break;
	}
	if (!need) {
		info->payload_len = l4len;
		return 0;
	}
	if (have < need) {
		info->flags |= VNACCT_L4_TRUNC;
		return 0;
	}

	info->l4_off = off;
	switch (proto) {
	case IPPROTO_TCP:
		doff = (p[12] >> 4) * 4;
		if (doff < VNACCT_TCP_MIN || doff > l4len)
			return -EINVAL;
		key->sport = htons(vnacct_be16(p));
		key->dport = htons(vnacct_be16(p + 2));
		info->seq = vnacct_be32(p + 4);
		info->ack = vnacct_be32(p + 8);
		info->tcp_flags = p[13];
		info->tcp_hlen = doff;
		info->payload_len = l4len - doff;
		info->flags |= VNACCT_L4_TCP;
		if (avail < doff)
			info->flags |= VNACCT_L4_OPT_TRUNC;
		if (doff > VNACCT_TCP_MIN)
			vnacct_tcp_options(p + VNACCT_TCP_MIN,
					   min(doff, avail) - VNACCT_TCP_MIN,
					   avail < doff, info);
		return 0;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		info->icmp_type = p[0];
		info->icmp_code = p[1];
		info->payload_len = l4len - 8;
		if (proto == IPPROTO_ICMP)
			echo = p[0] == ICMP_ECHO || p[0] == ICMP_ECHOREPLY;
		else
			echo = p[0] == ICMPV6_ECHO_REQUEST ||
			       p[0] == ICMPV6_ECHO_REPLY;
		if (echo) {
			info->echo_id = vnacct_be16(p + 4);
			info->echo_seq = vnacct_be16(p + 6);
			info->flags |= VNACCT_L4_ECHO;
			key->sport = htons(info->echo_id);
		}
		return 0;
	default:
		/* UDP, UDP-Lite, SCTP, DCCP: the ports come first */
		key->sport = htons(vnacct_be16(p));
		key->dport = htons(vnacct_be16(p + 2));
		info->payload_len = l4len;
		if (proto == IPPROTO_UDP || proto == IPPROTO_UDPLITE)
			info->payload_len -= need;
		return 0;
	}
}

static int vnacct_parse_ipv4(const u8 *p, unsigned int len,
			     unsigned int pkt_len,
			     struct vnacct_flow_key *key,
			     struct vnacct_l4_info *info)
{
	const struct iphdr *iph = (const struct iphdr *)p;
	unsigned int hl, tot;
	u16 frag;

	if (len < sizeof(*iph) || iph->version != 4 || iph->ihl < 5)
		return -EINVAL;
	hl = iph->ihl * 4;
	if (hl > len)
		return -EINVAL;
	tot = ntohs(iph->tot_len);
	if (!tot && pkt_len > U16_MAX)
		tot = pkt_len;		/* BIG TCP super-packet */
	if (tot < hl)
		return -EINVAL;

	key->family = AF_INET;
	key->proto = iph->protocol;
	key->saddr.ip4 = iph->saddr;
	key->daddr.ip4 = iph->daddr;

	frag = ntohs(iph->frag_off);
	if (frag & (IP_MF | IP_OFFSET)) {
		info->flags |= VNACCT_L4_FRAG;
		if (frag & IP_OFFSET) {
			info->flags |= VNACCT_L4_LATER_FRAG;
			return 0;
		}
	}
	return vnacct_parse_l4(p + hl, len - hl, tot - hl, hl, iph->protocol,
			       key, info);
}

static int vnacct_parse_ipv6(const u8 *p, unsigned int len,
			     unsigned int pkt_len,
			     struct vnacct_flow_key *key,
			     struct vnacct_l4_info *info)
{
	const struct ipv6hdr *ip6 = (const struct ipv6hdr *)p;
	unsigned int off = sizeof(*ip6), end, hlen, i;
	u8 nexthdr;

	if (len < sizeof(*ip6) || ip6->version != 6)
		return -EINVAL;
	end = ntohs(ip6->payload_len);
	if (!end && pkt_len > sizeof(*ip6))
		end = pkt_len - sizeof(*ip6);	/* jumbogram / BIG TCP */
	end += sizeof(*ip6);

	key->family = AF_INET6;
	key->saddr.ip6 = ip6->saddr;
	key->daddr.ip6 = ip6->daddr;
	nexthdr = ip6->nexthdr;

	/* one more round than headers skipped: it reaches the L4 header */
	for (i = 0; i <= VNACCT_IPV6_MAX_EXT; i++) {
		switch (nexthdr) {
		case NEXTHDR_HOP:
		case NEXTHDR_ROUTING:
		case NEXTHDR_DEST:
		case NEXTHDR_AUTH:
		case NEXTHDR_FRAGMENT:
			break;
		default:
			return vnacct_parse_l4(p + off, len - off, end - off,
					       off, nexthdr, key, info);
		}
		key->proto = nexthdr;
		if (i == VNACCT_IPV6_MAX_EXT)
			break;
		/* every extension header has at least 8 bytes */
		if (off + 8 > end)
			return -EINVAL;
		if (off + 8 > len) {
			info->flags |= VNACCT_L4_TRUNC;
			return 0;
		}
		if (nexthdr == NEXTHDR_FRAGMENT) {
			const struct frag_hdr *fh = (const void *)(p + off);

			hlen = sizeof(*fh);
			info->flags |= VNACCT_L4_FRAG;
			if (fh->frag_off & htons(IP6_OFFSET)) {
				info->flags |= VNACCT_L4_LATER_FRAG;
				key->proto = fh->nexthdr;
				return 0;
			}
		} else if (nexthdr == NEXTHDR_AUTH) {
			hlen = (p[off + 1] + 2) * 4;
		} else {
			hlen = (p[off + 1] + 1) * 8;
		}
		if (off + hlen > end)
			return -EINVAL;
		if (off + hlen > len) {
			info->flags |= VNACCT_L4_TRUNC;
			return 0;
		}
		nexthdr = p[off];
		off += hlen;
	}
	info->flags |= VNACCT_L4_EXT_LIMIT;
	return 0;
}

/* @pkt_len: the real L3 length when known (skb), else @len */
static int vnacct_parse(const u8 *p, unsigned int len, unsigned int pkt_len,
			__be16 proto, struct vnacct_flow_key *key,
			struct vnacct_l4_info *info)
{
	int ret;

	memset(key, 0, sizeof(*key));
	memset(info, 0, sizeof(*info));
	key->ethertype = proto;
	if (proto == htons(ETH_P_IP))
		ret = vnacct_parse_ipv4(p, len, pkt_len, key, info);
	else if (proto == htons(ETH_P_IPV6))
		ret = vnacct_parse_ipv6(p, len, pkt_len, key, info);
	else
		return 0;
	if (ret) {
		memset(key, 0, sizeof(*key));
		memset(info, 0, sizeof(*info));
		key->ethertype = proto;
	}
	return ret;
}

int vnacct_flow_parse_l3(const void *l3, unsigned int len, __be16 proto,
			 struct vnacct_flow_key *key,
			 struct vnacct_l4_info *info)
{
	return vnacct_parse(l3, len, len, proto, key, info);
}

static bool vnacct_dev_eth_framed(const struct net_device *dev)
{
	return dev && (dev->type == ARPHRD_ETHER ||
		       dev->type == ARPHRD_LOOPBACK);
}

int vnacct_flow_key_from_skb(const struct sk_buff *skb,
			     struct vnacct_flow_key *key,
			     struct vnacct_l4_info *info, int *l3_off)
{
	const struct net_device *dev = skb->dev;
	bool eth = vnacct_dev_eth_framed(dev);
	__be16 proto = skb->protocol;
	u8 buf[VNACCT_HDR_COPY] __aligned(8);
	bool vlan = false;
	u16 tci = 0;
	const void *p;
	int off, ret;
	unsigned int len;

	if (skb_vlan_tag_present(skb)) {
		vlan = true;
		tci = skb_vlan_tag_get(skb);
	}

	if (eth && (eth_type_vlan(proto) || !proto || !skb->network_header ||
		    (skb_mac_header_was_set(skb) &&
		     skb->network_header <= skb->mac_header))) {
		/* read the Ethernet header, skipping one VLAN tag */
		struct vlan_ethhdr veh_buf;
		const struct vlan_ethhdr *veh;

		off = skb_mac_header_was_set(skb) ? skb_mac_offset(skb) : 0;
		if (off + ETH_HLEN > (int)skb->len)
			goto bad;
		veh = skb_header_pointer(skb, off, ETH_HLEN, &veh_buf);
		if (!veh)
			goto bad;
		proto = veh->h_vlan_proto;
		off += ETH_HLEN;
		if (eth_type_vlan(proto)) {
			if (off + VLAN_HLEN > (int)skb->len)
				goto bad;
			veh = skb_header_pointer(skb, off - ETH_HLEN,
						 VLAN_ETH_HLEN, &veh_buf);
			if (!veh)
				goto bad;
			vlan = true;
			tci = ntohs(veh->h_vlan_TCI);
			proto = veh->h_vlan_encapsulated_proto;
			off += VLAN_HLEN;
		}
	} else if (skb->network_header) {
		off = skb_network_offset(skb);
	} else {
		off = 0;
	}

	if (off >= (int)skb->len)
		goto bad;
	len = min_t(unsigned int, skb->len - off, sizeof(buf));
	p = skb_header_pointer(skb, off, len, buf);
	if (!p)
		goto bad;
	ret = vnacct_parse(p, len, skb->len - off, proto, key, info);
	if (l3_off)
		*l3_off = off;
	goto out;
bad:
	memset(key, 0, sizeof(*key));
	memset(info, 0, sizeof(*info));
	key->ethertype = proto;
	if (l3_off)
		*l3_off = 0;
	ret = -EINVAL;
out:
	if (dev) {
		key->ifindex = dev->ifindex;
		key->netns = dev_net(dev)->ns.inum;
	}
	if (vlan) {
		info->flags |= VNACCT_L4_VLAN;
		info->vlan_tci = tci;
	}
	return ret;
}

u32 vnacct_flow_hash(const struct vnacct_flow_key *key, u32 seed)
{
	/* jhash2() needs whole, hole-free words */
	BUILD_BUG_ON(sizeof(*key) % sizeof(u32));
	BUILD_BUG_ON(offsetof(struct vnacct_flow_key, pad) + 3 != sizeof(*key));
	BUILD_BUG_ON(offsetof(struct vnacct_flow_key, ifindex) != 32);
	BUILD_BUG_ON(offsetof(struct vnacct_flow_key, sport) != 40);
	BUILD_BUG_ON(offsetof(struct vnacct_flow_key, family) != 46);
	return jhash2((const u32 *)key, sizeof(*key) / sizeof(u32), seed);
}

void vnacct_flow_key_reverse(const struct vnacct_flow_key *key,
			     struct vnacct_flow_key *rev)
{
	union vnacct_addr a = key->saddr;
	__be16 port = key->sport;

	if (rev != key)
		*rev = *key;
	rev->saddr = rev->daddr;
	rev->daddr = a;
	if (key->proto != IPPROTO_ICMP && key->proto != IPPROTO_ICMPV6) {
		rev->sport = rev->dport;
		rev->dport = port;
	}
	if (key->dir == VNACCT_DIR_TO_GUEST)
		rev->dir = VNACCT_DIR_FROM_GUEST;
	else if (key->dir == VNACCT_DIR_FROM_GUEST)
		rev->dir = VNACCT_DIR_TO_GUEST;
}
