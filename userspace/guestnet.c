// SPDX-License-Identifier: GPL-2.0
/*
 * guestnet.c - protocol engine of the vnacct test guests: frame builders and
 * parsers, exact accounting, ARP/ND/echo responder, ping/ping6/UDP/TCP
 * generators, option parsing, tap creation and the report.  The transports
 * (plain tap fd, vhost-net) live in tapguest.c and vhostguest.c.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "guestnet.h"

const char *const gn_class_name[GN_C_MAX] = {
	[GN_C_ARP] = "arp",
	[GN_C_NDISC] = "ndisc",
	[GN_C_ICMP] = "icmp",
	[GN_C_ICMP6] = "icmp6",
	[GN_C_UDP] = "udp",
	[GN_C_TCP] = "tcp",
	[GN_C_OTHER] = "other",
};

static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero_mac[6];
static const uint8_t zero_ip6[16];

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ---- checksums ---------------------------------------------------------- */

/*
 * Adds 16-bit big-endian words of data to sum; an odd trailing byte is
 * padded with zero, so only the last chunk of a sum may be odd-sized.
 */
uint32_t gn_csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t s = sum;

	while (len > 1) {
		s += get16(p);
		p += 2;
		len -= 2;
	}
	if (len)
		s += (uint32_t)p[0] << 8;
	while (s >> 32)
		s = (s & 0xffffffff) + (s >> 32);
	return (uint32_t)s;
}

uint16_t gn_csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t gn_l4_csum(int family, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, const void *l4, size_t l4len)
{
	uint8_t ph[8];
	uint32_t s = 0;

	if (family == 4) {
		s = gn_csum_add(s, src, 4);
		s = gn_csum_add(s, dst, 4);
		ph[0] = 0;
		ph[1] = proto;
		put16(ph + 2, (uint16_t)l4len);
		s = gn_csum_add(s, ph, 4);
	} else {
		s = gn_csum_add(s, src, 16);
		s = gn_csum_add(s, dst, 16);
		put32(ph, (uint32_t)l4len);
		ph[4] = ph[5] = ph[6] = 0;
		ph[7] = proto;
		s = gn_csum_add(s, ph, 8);
	}
	s = gn_csum_add(s, l4, l4len);
	return gn_csum_fold(s);
}

/* ---- builders ----------------------------------------------------------- */

static size_t eth_hdr(uint8_t *b, const uint8_t *dmac, const uint8_t *smac,
		      uint16_t type)
{
	memcpy(b, dmac, 6);
	memcpy(b + 6, smac, 6);
	put16(b + 12, type);
	return GN_ETH_HLEN;
}

static size_t ip_hlen(int family)
{
	return family == 4 ? 20 : 40;
}

/*
 * Writes the Ethernet and IP headers in front of an L4 segment of l4len
 * bytes already at buf + 14 + ip_hlen(), and fills the L4 checksum at
 * csum_off (for ICMPv4 without pseudo header).  Returns the frame length.
 */
static size_t finish_ip(uint8_t *buf, const struct gn_route *r,
			uint8_t proto, size_t l4len, size_t csum_off)
{
	uint8_t *ip = buf + GN_ETH_HLEN;
	uint8_t *l4 = ip + ip_hlen(r->family);
	uint8_t ttl = r->ttl ? r->ttl : 64;
	uint16_t cs;

	if (r->family == 4) {
		eth_hdr(buf, r->dmac, r->smac, GN_ETH_P_IP);
		ip[0] = 0x45;
		ip[1] = 0;
		put16(ip + 2, (uint16_t)(20 + l4len));
		put16(ip + 4, r->ipid);
		put16(ip + 6, 0x4000);		/* DF */
		ip[8] = ttl;
		ip[9] = proto;
		put16(ip + 10, 0);
		memcpy(ip + 12, r->sip, 4);
		memcpy(ip + 16, r->dip, 4);
		put16(ip + 10, gn_csum_fold(gn_csum_add(0, ip, 20)));
	} else {
		eth_hdr(buf, r->dmac, r->smac, GN_ETH_P_IPV6);
		put32(ip, 0x60000000);
		put16(ip + 4, (uint16_t)l4len);
		ip[6] = proto;
		ip[7] = ttl;
		memcpy(ip + 8, r->sip, 16);
		memcpy(ip + 24, r->dip, 16);
	}
	put16(l4 + csum_off, 0);
	if (r->family == 4 && proto == GN_IPPROTO_ICMP)
		cs = gn_csum_fold(gn_csum_add(0, l4, l4len));
	else
		cs = gn_l4_csum(r->family, r->sip, r->dip, proto, l4, l4len);
	if (proto == GN_IPPROTO_UDP && cs == 0)
		cs = 0xffff;
	put16(l4 + csum_off, cs);
	return GN_ETH_HLEN + ip_hlen(r->family) + l4len;
}

size_t gn_build_arp(uint8_t *buf, size_t cap, uint16_t op,
		    const uint8_t *smac, const uint8_t *dmac,
		    const uint8_t *sha, const uint8_t *spa,
		    const uint8_t *tha, const uint8_t *tpa)
{
	uint8_t *a = buf + GN_ETH_HLEN;

	if (cap < GN_ETH_HLEN + 28)
		return 0;
	eth_hdr(buf, dmac, smac, GN_ETH_P_ARP);
	put16(a, 1);			/* Ethernet */
	put16(a + 2, GN_ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, sha, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 18, tha, 6);
	memcpy(a + 24, tpa, 4);
	return GN_ETH_HLEN + 28;
}

size_t gn_build_echo(uint8_t *buf, size_t cap, const struct gn_route *r,
		     bool reply, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t dlen)
{
	uint8_t *l4 = buf + GN_ETH_HLEN + ip_hlen(r->family);
	uint8_t proto;

	if (GN_ETH_HLEN + ip_hlen(r->family) + 8 + dlen > cap ||
	    8 + dlen > 65535 - 20)
		return 0;
	if (r->family == 4) {
		l4[0] = reply ? 0 : 8;
		proto = GN_IPPROTO_ICMP;
	} else {
		l4[0] = reply ? 129 : 128;
		proto = GN_IPPROTO_ICMPV6;
	}
	l4[1] = 0;
	put16(l4 + 4, id);
	put16(l4 + 6, seq);
	if (dlen)
		memmove(l4 + 8, data, dlen);
	return finish_ip(buf, r, proto, 8 + dlen, 2);
}

void gn_solicited_node(const uint8_t *target, uint8_t *ip6, uint8_t *mac)
{
	static const uint8_t pfx[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0,
					 0, 0, 0, 0x01, 0xff };

	if (ip6) {
		memcpy(ip6, pfx, 13);
		memcpy(ip6 + 13, target + 13, 3);
	}
	if (mac) {
		mac[0] = 0x33;
		mac[1] = 0x33;
		mac[2] = 0xff;
		memcpy(mac + 3, target + 13, 3);
	}
}

size_t gn_build_ns(uint8_t *buf, size_t cap, const uint8_t *smac,
		   const uint8_t *sip6, const uint8_t *target)
{
	uint8_t dip[16], dmac[6];
	uint8_t *l4 = buf + GN_ETH_HLEN + 40;
	struct gn_route r = {
		.smac = smac, .dmac = dmac, .family = 6,
		.sip = sip6, .dip = dip, .ttl = 255,
	};

	if (cap < GN_ETH_HLEN + 40 + 32)
		return 0;
	gn_solicited_node(target, dip, dmac);
	l4[0] = 135;
	l4[1] = 0;
	put32(l4 + 4, 0);
	memcpy(l4 + 8, target, 16);
	l4[24] = 1;			/* source link-layer address */
	l4[25] = 1;
	memcpy(l4 + 26, smac, 6);
	return finish_ip(buf, &r, GN_IPPROTO_ICMPV6, 32, 2);
}

size_t gn_build_na(uint8_t *buf, size_t cap, const uint8_t *smac,
		   const uint8_t *dmac, const uint8_t *target,
		   const uint8_t *dip6, bool solicited)
{
	uint8_t *l4 = buf + GN_ETH_HLEN + 40;
	struct gn_route r = {
		.smac = smac, .dmac = dmac, .family = 6,
		.sip = target, .dip = dip6, .ttl = 255,
	};

	if (cap < GN_ETH_HLEN + 40 + 32)
		return 0;
	l4[0] = 136;
	l4[1] = 0;
	put32(l4 + 4, (solicited ? 0x40000000 : 0) | 0x20000000);  /* S, O */
	memcpy(l4 + 8, target, 16);
	l4[24] = 2;			/* target link-layer address */
	l4[25] = 1;
	memcpy(l4 + 26, smac, 6);
	return finish_ip(buf, &r, GN_IPPROTO_ICMPV6, 32, 2);
}

size_t gn_build_udp(uint8_t *buf, size_t cap, const struct gn_route *r,
		    uint16_t sport, uint16_t dport,
		    const uint8_t *payload, size_t plen)
{
	uint8_t *l4 = buf + GN_ETH_HLEN + ip_hlen(r->family);

	if (GN_ETH_HLEN + ip_hlen(r->family) + 8 + plen > cap ||
	    8 + plen > 65535 - 20)
		return 0;
	put16(l4, sport);
	put16(l4 + 2, dport);
	put16(l4 + 4, (uint16_t)(8 + plen));
	if (plen)
		memmove(l4 + 8, payload, plen);
	return finish_ip(buf, r, GN_IPPROTO_UDP, 8 + plen, 6);
}

size_t gn_build_tcp(uint8_t *buf, size_t cap, const struct gn_route *r,
		    const struct gn_tcp_seg *s)
{
	uint8_t *l4 = buf + GN_ETH_HLEN + ip_hlen(r->family);
	size_t hl = 20 + s->optlen;

	if (s->optlen > 40 || (s->optlen & 3) ||
	    GN_ETH_HLEN + ip_hlen(r->family) + hl + s->plen > cap ||
	    hl + s->plen > 65535 - 20)
		return 0;
	put16(l4, s->sport);
	put16(l4 + 2, s->dport);
	put32(l4 + 4, s->seq);
	put32(l4 + 8, s->ack);
	l4[12] = (uint8_t)((hl / 4) << 4);
	l4[13] = s->flags;
	put16(l4 + 14, s->win);
	put16(l4 + 18, 0);		/* urgent pointer */
	if (s->optlen)
		memcpy(l4 + 20, s->opts, s->optlen);
	if (s->plen)
		memmove(l4 + hl, s->payload, s->plen);
	return finish_ip(buf, r, GN_IPPROTO_TCP, hl + s->plen, 16);
}

/* ---- parser ------------------------------------------------------------- */

static void parse_l4(struct gn_pkt *p)
{
	const uint8_t *l4 = p->l4;
	size_t n = p->l4len;
	bool icmp4 = p->proto == GN_IPPROTO_ICMP && p->family == 4;
	uint16_t cs;

	switch (p->proto) {
	case GN_IPPROTO_ICMP:
	case GN_IPPROTO_ICMPV6:
		if ((p->proto == GN_IPPROTO_ICMP) != (p->family == 4))
			return;
		if (n < 8)
			return;
		p->icmp_type = l4[0];
		p->icmp_code = l4[1];
		p->icmp_id = get16(l4 + 4);
		p->icmp_seq = get16(l4 + 6);
		p->icmp_data = l4 + 8;
		p->icmp_dlen = n - 8;
		if (icmp4)
			cs = gn_csum_fold(gn_csum_add(0, l4, n));
		else
			cs = gn_l4_csum(6, p->src, p->dst, p->proto, l4, n);
		if (cs != 0)
			p->csum_ok = false;
		if (!icmp4 && (p->icmp_type == 135 || p->icmp_type == 136) &&
		    n >= 24) {
			size_t off = 24;

			p->nd_target = l4 + 8;
			p->nd_flags = l4[4];
			while (off + 8 <= n && l4[off + 1]) {
				size_t olen = (size_t)l4[off + 1] * 8;

				if (off + olen > n)
					break;
				if ((p->icmp_type == 135 && l4[off] == 1) ||
				    (p->icmp_type == 136 && l4[off] == 2))
					p->nd_lladdr = l4 + off + 2;
				off += olen;
			}
		}
		p->l4_ok = true;
		return;
	case GN_IPPROTO_UDP:
		if (n < 8)
			return;
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		if (get16(l4 + 4) < 8 || get16(l4 + 4) > n)
			return;
		n = get16(l4 + 4);
		p->payload = l4 + 8;
		p->plen = n - 8;
		if (get16(l4 + 6) || p->family == 6) {
			cs = gn_l4_csum(p->family, p->src, p->dst, p->proto,
					l4, n);
			if (cs != 0)
				p->csum_ok = false;
		}
		p->l4_ok = true;
		return;
	case GN_IPPROTO_TCP: {
		size_t hl;

		if (n < 20)
			return;
		hl = (size_t)(l4[12] >> 4) * 4;
		if (hl < 20 || hl > n)
			return;
		p->sport = get16(l4);
		p->dport = get16(l4 + 2);
		p->tcp_seq = get32(l4 + 4);
		p->tcp_ack = get32(l4 + 8);
		p->tcp_flags = l4[13];
		p->tcp_win = get16(l4 + 14);
		p->tcp_opts = l4 + 20;
		p->tcp_optlen = hl - 20;
		p->payload = l4 + hl;
		p->plen = n - hl;
		cs = gn_l4_csum(p->family, p->src, p->dst, p->proto, l4, n);
		if (cs != 0)
			p->csum_ok = false;
		p->l4_ok = true;
		return;
	}
	}
}

static enum gn_class proto_class(const struct gn_pkt *p)
{
	switch (p->proto) {
	case GN_IPPROTO_ICMP:
		return p->family == 4 ? GN_C_ICMP : GN_C_OTHER;
	case GN_IPPROTO_ICMPV6:
		if (p->family != 6)
			return GN_C_OTHER;
		if (p->l4len >= 1 && p->l4[0] >= 133 && p->l4[0] <= 137)
			return GN_C_NDISC;
		return GN_C_ICMP6;
	case GN_IPPROTO_UDP:
		return GN_C_UDP;
	case GN_IPPROTO_TCP:
		return GN_C_TCP;
	}
	return GN_C_OTHER;
}

static void parse_ipv4(struct gn_pkt *p)
{
	const uint8_t *ip = p->f + GN_ETH_HLEN;
	size_t avail = p->len - GN_ETH_HLEN;
	size_t ihl, tot;

	p->family = 4;
	p->l3 = ip;
	p->l3len = avail;
	if (avail < 20 || (ip[0] >> 4) != 4)
		return;
	ihl = (size_t)(ip[0] & 15) * 4;
	tot = get16(ip + 2);
	if (ihl < 20 || ihl > avail)
		return;
	if (tot >= ihl && tot <= avail)
		p->l3len = tot;
	p->src = ip + 12;
	p->dst = ip + 16;
	p->ttl = ip[8];
	p->proto = ip[9];
	p->ip_ok = true;
	if (gn_csum_fold(gn_csum_add(0, ip, ihl)) != 0)
		p->csum_ok = false;
	p->l4 = ip + ihl;
	p->l4len = p->l3len - ihl;
	if (tot < ihl || tot > avail)
		return;		/* bad total length: class only */
	if (get16(ip + 6) & 0x3fff)
		return;		/* fragment: class only */
	parse_l4(p);
}

static void parse_ipv6(struct gn_pkt *p)
{
	const uint8_t *ip = p->f + GN_ETH_HLEN;
	size_t avail = p->len - GN_ETH_HLEN;
	size_t off = 40, plen;
	uint8_t nh;

	p->family = 6;
	p->l3 = ip;
	p->l3len = avail;
	if (avail < 40 || (ip[0] >> 4) != 6)
		return;
	plen = get16(ip + 4);
	if (40 + plen <= avail)
		p->l3len = 40 + plen;
	p->src = ip + 8;
	p->dst = ip + 24;
	p->ttl = ip[7];
	nh = ip[6];
	/* skip hop-by-hop, routing and destination options headers */
	while (nh == 0 || nh == 43 || nh == 60) {
		if (off + 8 > p->l3len)
			return;
		nh = ip[off];
		off += ((size_t)ip[off + 1] + 1) * 8;
	}
	if (off > p->l3len)
		return;
	p->proto = nh;
	p->ip_ok = true;
	p->l4 = ip + off;
	p->l4len = p->l3len - off;
	if (nh == 44 || 40 + plen > avail)
		return;		/* fragment or truncated: class only */
	parse_l4(p);
}

enum gn_class gn_parse(const uint8_t *f, size_t len, struct gn_pkt *p)
{
	memset(p, 0, sizeof(*p));
	p->f = f;
	p->len = len;
	p->cls = GN_C_OTHER;
	p->csum_ok = true;
	if (len < GN_ETH_HLEN)
		return p->cls;
	p->dmac = f;
	p->smac = f + 6;
	p->ethertype = get16(f + 12);
	switch (p->ethertype) {
	case GN_ETH_P_ARP: {
		const uint8_t *a = f + GN_ETH_HLEN;

		p->cls = GN_C_ARP;
		if (len >= GN_ETH_HLEN + 28 && get16(a) == 1 &&
		    get16(a + 2) == GN_ETH_P_IP && a[4] == 6 && a[5] == 4) {
			p->arp_op = get16(a + 6);
			p->arp_sha = a + 8;
			p->arp_spa = a + 14;
			p->arp_tha = a + 18;
			p->arp_tpa = a + 24;
		}
		return p->cls;
	}
	case GN_ETH_P_IP:
		parse_ipv4(p);
		break;
	case GN_ETH_P_IPV6:
		parse_ipv6(p);
		break;
	default:
		return p->cls;
	}
	if (p->ip_ok)
		p->cls = proto_class(p);
	return p->cls;
}

void gn_tcp_parse_opts(const uint8_t *o, size_t len, struct gn_tcp_opts *to)
{
	size_t i = 0;

	memset(to, 0, sizeof(*to));
	to->wscale = -1;
	while (i < len) {
		uint8_t kind = o[i], olen;

		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			break;
		olen = o[i + 1];
		if (olen < 2 || i + olen > len)
			break;
		if (kind == 2 && olen == 4)
			to->mss = get16(o + i + 2);
		else if (kind == 3 && olen == 3)
			to->wscale = o[i + 2];
		else if (kind == 4 && olen == 2)
			to->sack_perm = true;
		else if (kind == 8 && olen == 10) {
			to->ts = true;
			to->tsval = get32(o + i + 2);
			to->tsecr = get32(o + i + 6);
		}
		i += olen;
	}
}

/* ---- accounting --------------------------------------------------------- */

void gn_account(struct gn_dir_stats *s, const struct gn_pkt *p)
{
	s->frames++;
	s->bytes += p->len;
	s->cls_frames[p->cls]++;
	s->cls_bytes[p->cls] += p->len;
	if (p->family) {
		s->cls_l3_bytes[p->cls] += p->l3len;
		s->l3_bytes += p->l3len;
		if (p->family == 4) {
			s->ipv4++;
			s->ipv4_l3_bytes += p->l3len;
		} else {
			s->ipv6++;
			s->ipv6_l3_bytes += p->l3len;
		}
		if (!p->csum_ok)
			s->csum_errors++;
	}
}

/* ---- engine: time, errors, tap ------------------------------------------ */

static volatile sig_atomic_t gn_stop;

static void on_signal(int sig)
{
	(void)sig;
	gn_stop = 1;
}

int64_t gn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void gn_set_err(struct gn_ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0])
		return;		/* keep the first error */
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

int gn_tap_open(struct gn_ctx *c, unsigned int flags)
{
	struct ifreq ifr;
	int fd;

	c->tap_existed = if_nametoindex(c->cfg.ifname) != 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		gn_set_err(c, "open /dev/net/tun: %s", strerror(errno));
		return -1;
	}
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = (short)(IFF_TAP | IFF_NO_PI | flags);
	strncpy(ifr.ifr_name, c->cfg.ifname, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		if (e == EBUSY)
			gn_set_err(c, "TUNSETIFF %s: %s (device in use by another process?)",
				   c->cfg.ifname, strerror(e));
		else if (e == EINVAL && c->tap_existed)
			gn_set_err(c, "TUNSETIFF %s: %s (an interface of that name exists and is not a tap)",
				   c->cfg.ifname, strerror(e));
		else
			gn_set_err(c, "TUNSETIFF %s: %s", c->cfg.ifname,
				   strerror(e));
		close(fd);
		return -1;
	}
	if (strncmp(ifr.ifr_name, c->cfg.ifname, IFNAMSIZ)) {
		gn_set_err(c, "kernel named the tap %s, not %s",
			   ifr.ifr_name, c->cfg.ifname);
		close(fd);
		return -1;
	}
	return fd;
}

/* STP state of ifname as a bridge port (sysfs), or -1 if not a port */
static int brport_state(const char *ifname)
{
	char path[96];
	int st = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/brport/state", ifname);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &st) != 1)
		st = -1;
	fclose(f);
	return st;
}

/*
 * Waits until the tap is up and running (SIOCGIFFLAGS) and, when it is a
 * bridge port, forwarding.
 */
static int wait_link_up(struct gn_ctx *c)
{
	int64_t deadline = gn_now_ns() + (int64_t)c->cfg.timeout_ms * 1000000;
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (s < 0) {
		gn_set_err(c, "socket: %s", strerror(errno));
		return -1;
	}
	for (;;) {
		memset(&ifr, 0, sizeof(ifr));
		strncpy(ifr.ifr_name, c->cfg.ifname, IFNAMSIZ - 1);
		if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
			gn_set_err(c, "SIOCGIFFLAGS %s: %s", c->cfg.ifname,
				   strerror(errno));
			break;
		}
		if ((ifr.ifr_flags & (IFF_UP | IFF_RUNNING)) ==
		    (IFF_UP | IFF_RUNNING)) {
			/*
			 * IFF_RUNNING follows the operstate, which linkwatch
			 * updates just before it tells the bridge about the
			 * carrier: a bridge port may still be disabled.
			 */
			int st = brport_state(c->cfg.ifname);

			if (st < 0 || st == 3 /* BR_STATE_FORWARDING */) {
				close(s);
				return 0;
			}
			if (gn_now_ns() >= deadline) {
				gn_set_err(c, "bridge port %s not forwarding (state %d) within %u ms",
					   c->cfg.ifname, st,
					   c->cfg.timeout_ms);
				break;
			}
			usleep(2000);
			continue;
		}
		if (gn_stop) {
			c->interrupted = true;
			gn_set_err(c, "interrupted");
			break;
		}
		if (gn_now_ns() >= deadline) {
			gn_set_err(c, "%s not up and running within %u ms",
				   c->cfg.ifname, c->cfg.timeout_ms);
			break;
		}
		usleep(5000);
	}
	close(s);
	return -1;
}

/* ---- engine: frame I/O -------------------------------------------------- */

static void process_frame(struct gn_ctx *c, const uint8_t *f, size_t len,
			  int64_t t);

/*
 * --pcap: every frame counted, as sent or received, in a nanosecond pcap
 * (LINKTYPE_ETHERNET); timestamps are the CLOCK_MONOTONIC times the report
 * uses (just before send, just after receive), not wall-clock time.
 */
static void pcap_header(FILE *f)
{
	uint32_t h[6] = { 0xa1b23c4d, 0x00040002, 0, 0, GN_RXBUF_MAX, 1 };

	fwrite(h, sizeof(h), 1, f);
}

static void pcap_frame(struct gn_ctx *c, const uint8_t *f, size_t len,
		       int64_t t)
{
	uint32_t h[4];

	if (!c->pcap)
		return;
	h[0] = (uint32_t)(t / 1000000000);
	h[1] = (uint32_t)(t % 1000000000);
	h[2] = (uint32_t)len;
	h[3] = (uint32_t)len;
	fwrite(h, sizeof(h), 1, c->pcap);
	fwrite(f, len, 1, c->pcap);
}

static int gn_tx(struct gn_ctx *c, size_t len, int64_t *t)
{
	struct gn_pkt p;
	int64_t tt;

	if (!len) {
		gn_set_err(c, "internal: frame does not fit");
		return -1;
	}
	if (c->io->send(c, c->txbuf, len, &tt) < 0) {
		gn_set_err(c, "send: %s", strerror(errno));
		return -1;
	}
	gn_parse(c->txbuf, len, &p);
	gn_account(&c->tx, &p);
	pcap_frame(c, c->txbuf, len, tt);
	if (t)
		*t = tt;
	return 0;
}

/*
 * Reads and processes frames until done(c) is true (returns 1), the
 * deadline passes (returns 0) or an error / signal (returns -1).  With
 * done == NULL waits for the deadline.  A deadline in the past still
 * processes every frame already available.
 */
static int gn_wait(struct gn_ctx *c, int64_t deadline,
		   bool (*done)(struct gn_ctx *c))
{
	for (;;) {
		int64_t t;
		ssize_t n;

		if (done && done(c))
			return 1;
		if (c->err[0])
			return -1;
		if (gn_stop) {
			c->interrupted = true;
			return -1;
		}
		n = c->io->recv(c, c->rxbuf, sizeof(c->rxbuf), deadline, &t);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			gn_set_err(c, "receive: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (done && done(c))
				return 1;
			return 0;
		}
		process_frame(c, c->rxbuf, (size_t)n, t);
	}
}

static int64_t ms_from_now(unsigned int ms)
{
	return gn_now_ns() + (int64_t)ms * 1000000;
}

static struct gn_route route4(struct gn_ctx *c)
{
	struct gn_route r = {
		.smac = c->cfg.mac, .dmac = c->peer4_mac, .family = 4,
		.sip = c->cfg.ip4, .dip = c->cfg.peer4, .ipid = c->ipid++,
	};
	return r;
}

static struct gn_route route6(struct gn_ctx *c)
{
	struct gn_route r = {
		.smac = c->cfg.mac, .dmac = c->peer6_mac, .family = 6,
		.sip = c->cfg.ip6, .dip = c->cfg.peer6,
	};
	return r;
}

static struct gn_route route_fam(struct gn_ctx *c, int family)
{
	return family == 4 ? route4(c) : route6(c);
}

/* ---- engine: responder and dispatch ------------------------------------- */

static bool mac_is_ours(struct gn_ctx *c, const uint8_t *mac)
{
	return !memcmp(mac, c->cfg.mac, 6) || (mac[0] & 1);
}

static void handle_arp(struct gn_ctx *c, const struct gn_pkt *p)
{
	size_t n;

	if (!p->arp_op || !c->cfg.have_ip4)
		return;
	if (c->cfg.have_peer4 && !memcmp(p->arp_spa, c->cfg.peer4, 4) &&
	    memcmp(p->arp_sha, zero_mac, 6)) {
		memcpy(c->peer4_mac, p->arp_sha, 6);
		c->have_peer4_mac = true;
	}
	if (p->arp_op == 1 && !memcmp(p->arp_tpa, c->cfg.ip4, 4)) {
		n = gn_build_arp(c->txbuf, sizeof(c->txbuf), 2, c->cfg.mac,
				 p->arp_sha, c->cfg.mac, c->cfg.ip4,
				 p->arp_sha, p->arp_spa);
		if (gn_tx(c, n, NULL) == 0)
			c->arp_replies++;
	}
}

static void handle_ndisc(struct gn_ctx *c, const struct gn_pkt *p)
{
	size_t n;

	if (!p->l4_ok || !p->nd_target || p->ttl != 255 || !c->cfg.have_ip6)
		return;
	if (p->icmp_type == 135 && !memcmp(p->nd_target, c->cfg.ip6, 16)) {
		bool dad = !memcmp(p->src, zero_ip6, 16);
		static const uint8_t all_nodes[16] = { 0xff, 0x02, [15] = 1 };
		static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0, 0,
							   0, 1 };
		const uint8_t *dmac;

		if (dad)
			dmac = all_nodes_mac;
		else
			dmac = p->nd_lladdr ? p->nd_lladdr : p->smac;
		n = gn_build_na(c->txbuf, sizeof(c->txbuf), c->cfg.mac, dmac,
				c->cfg.ip6, dad ? all_nodes : p->src, !dad);
		if (gn_tx(c, n, NULL) == 0)
			c->na_sent++;
	}
	if (c->cfg.have_peer6) {
		const uint8_t *mac = NULL;

		if (p->icmp_type == 136 &&
		    !memcmp(p->nd_target, c->cfg.peer6, 16))
			mac = p->nd_lladdr ? p->nd_lladdr : p->smac;
		else if (p->icmp_type == 135 &&
			 !memcmp(p->src, c->cfg.peer6, 16) && p->nd_lladdr)
			mac = p->nd_lladdr;
		if (mac) {
			memcpy(c->peer6_mac, mac, 6);
			c->have_peer6_mac = true;
		}
	}
}

static void handle_echo_request(struct gn_ctx *c, const struct gn_pkt *p)
{
	struct gn_route r = {
		.smac = c->cfg.mac, .dmac = p->smac, .family = p->family,
		.sip = p->dst, .dip = p->src,
	};
	uint8_t dst[16], src[16];
	size_t n;

	/* the request lives in rxbuf; addresses must not alias the output */
	memcpy(dst, p->dst, p->family == 4 ? 4 : 16);
	memcpy(src, p->src, p->family == 4 ? 4 : 16);
	r.sip = dst;
	r.dip = src;
	if (p->family == 4)
		r.ipid = c->ipid++;
	n = gn_build_echo(c->txbuf, sizeof(c->txbuf), &r, true, p->icmp_id,
			  p->icmp_seq, p->icmp_data, p->icmp_dlen);
	if (gn_tx(c, n, NULL) == 0) {
		if (p->family == 4)
			c->echo_replies++;
		else
			c->echo6_replies++;
	}
}

static void handle_echo_reply(struct gn_ctx *c, const struct gn_pkt *p,
			      int64_t t)
{
	struct gn_ping *pg = p->family == 4 ? &c->ping4 : &c->ping6;
	const uint8_t *peer = p->family == 4 ? c->cfg.peer4 : c->cfg.peer6;
	unsigned int seq = p->icmp_seq;

	if (!pg->enabled || p->icmp_id != pg->id ||
	    memcmp(p->src, peer, p->family == 4 ? 4 : 16))
		return;
	if (seq < 1 || seq > pg->sent)
		return;
	if (pg->rtt[seq - 1] >= 0) {
		pg->dup++;
	} else if (pg->waiting && seq == pg->cur_seq) {
		pg->rtt[seq - 1] = t - pg->t_sent;
		pg->received++;
		pg->waiting = false;
	} else {
		pg->late++;
	}
}

static void tcp_input(struct gn_ctx *c, struct gn_tcp *t,
		      const struct gn_pkt *p, int64_t now);

static void process_frame(struct gn_ctx *c, const uint8_t *f, size_t len,
			  int64_t t)
{
	struct gn_pkt p;
	bool for_us;

	gn_parse(f, len, &p);
	gn_account(&c->rx, &p);
	pcap_frame(c, f, len, t);
	if (len < GN_ETH_HLEN || c->draining)
		return;
	for_us = mac_is_ours(c, p.dmac);
	if (for_us && p.ip_ok) {
		if (p.family == 4)
			for_us = c->cfg.have_ip4 &&
				 !memcmp(p.dst, c->cfg.ip4, 4);
		else
			for_us = c->cfg.have_ip6 &&
				 (!memcmp(p.dst, c->cfg.ip6, 16) ||
				  p.dst[0] == 0xff);
	}
	if (!for_us) {
		c->rx.not_for_us++;
		return;
	}
	if (p.cls == GN_C_ARP) {
		handle_arp(c, &p);
		return;
	}
	if (!p.l4_ok || !p.csum_ok)
		return;
	switch (p.cls) {
	case GN_C_NDISC:
		handle_ndisc(c, &p);
		break;
	case GN_C_ICMP:
	case GN_C_ICMP6:
		if (p.dst[0] == 0xff && p.family == 6)
			break;
		if (p.icmp_type == (p.family == 4 ? 8 : 128) &&
		    p.icmp_code == 0)
			handle_echo_request(c, &p);
		else if (p.icmp_type == (p.family == 4 ? 0 : 129))
			handle_echo_reply(c, &p, t);
		break;
	case GN_C_TCP:
		if (c->tcp_active && c->tcp_active->family == p.family)
			tcp_input(c, c->tcp_active, &p, t);
		break;
	default:
		break;
	}
}

/* ---- engine: resolution ------------------------------------------------- */

static bool peer4_known(struct gn_ctx *c)
{
	return c->have_peer4_mac;
}

static bool peer6_known(struct gn_ctx *c)
{
	return c->have_peer6_mac;
}

#define GN_RESOLVE_RETRY_MS	500

static int resolve(struct gn_ctx *c, int family)
{
	int64_t deadline = ms_from_now(c->cfg.timeout_ms);
	bool (*known)(struct gn_ctx *) = family == 4 ? peer4_known :
						       peer6_known;

	while (!known(c)) {
		int64_t next;
		size_t n;
		int r;

		if (family == 4) {
			n = gn_build_arp(c->txbuf, sizeof(c->txbuf), 1,
					 c->cfg.mac, bcast_mac, c->cfg.mac,
					 c->cfg.ip4, zero_mac, c->cfg.peer4);
		} else {
			n = gn_build_ns(c->txbuf, sizeof(c->txbuf),
					c->cfg.mac, c->cfg.ip6,
					c->cfg.peer6);
		}
		if (gn_tx(c, n, NULL) < 0)
			return -1;
		if (family == 4)
			c->arp_requests++;
		else
			c->ns_sent++;
		next = ms_from_now(GN_RESOLVE_RETRY_MS);
		if (next > deadline)
			next = deadline;
		r = gn_wait(c, next, known);
		if (r < 0)
			return -1;
		if (r == 0 && gn_now_ns() >= deadline) {
			char a[INET6_ADDRSTRLEN];

			inet_ntop(family == 4 ? AF_INET : AF_INET6,
				  family == 4 ? (void *)c->cfg.peer4 :
						(void *)c->cfg.peer6,
				  a, sizeof(a));
			gn_set_err(c, "no %s reply from %s within %u ms",
				   family == 4 ? "ARP" : "neighbour advertisement",
				   a, c->cfg.timeout_ms);
			return -1;
		}
	}
	return 0;
}

/* ---- engine: ping ------------------------------------------------------- */

static struct gn_ping *cur_ping;

static bool ping_answered(struct gn_ctx *c)
{
	(void)c;
	return !cur_ping->waiting;
}

static int run_ping(struct gn_ctx *c, struct gn_ping *pg, int family)
{
	uint8_t data[GN_ETH_MTU];
	unsigned int i;

	for (i = 0; i < pg->size; i++)
		data[i] = (uint8_t)i;
	cur_ping = pg;
	for (i = 1; i <= pg->count; i++) {
		struct gn_route r = route_fam(c, family);
		int64_t t0;
		size_t n;

		n = gn_build_echo(c->txbuf, sizeof(c->txbuf), &r, false,
				  pg->id, (uint16_t)i, data, pg->size);
		pg->cur_seq = (uint16_t)i;
		pg->waiting = true;
		pg->sent = i;
		if (gn_tx(c, n, &t0) < 0)
			return -1;
		pg->t_sent = t0;
		if (gn_wait(c, t0 + (int64_t)c->cfg.timeout_ms * 1000000,
			    ping_answered) < 0)
			return -1;
		pg->waiting = false;
		if (i < pg->count &&
		    gn_wait(c, t0 + (int64_t)c->cfg.interval_ms * 1000000,
			    NULL) < 0)
			return -1;
	}
	return 0;
}

/* ---- engine: UDP -------------------------------------------------------- */

static int run_udp(struct gn_ctx *c, struct gn_udp *u, int family)
{
	uint8_t data[GN_ETH_MTU];
	unsigned int i;

	for (i = 0; i < c->cfg.udp_size; i++)
		data[i] = (uint8_t)('A' + i % 26);
	for (i = 1; i <= u->count; i++) {
		struct gn_route r = route_fam(c, family);
		int64_t t0;
		size_t n;

		if (c->cfg.udp_size >= 4)
			put32(data, i);
		n = gn_build_udp(c->txbuf, sizeof(c->txbuf), &r, c->cfg.sport,
				 c->cfg.udp_port, data, c->cfg.udp_size);
		if (gn_tx(c, n, &t0) < 0)
			return -1;
		u->sent++;
		u->payload_bytes += c->cfg.udp_size;
		/* answer whatever arrived meanwhile, then pace */
		if (gn_wait(c, t0 + (int64_t)c->cfg.udp_interval_us * 1000,
			    NULL) < 0)
			return -1;
	}
	return 0;
}

/* ---- engine: TCP client ------------------------------------------------- */

enum { GN_TCP_CLOSED, GN_TCP_SYN_SENT, GN_TCP_ESTABLISHED };

#define GN_TCP_MAX_FLIGHT	8	/* segments in flight at most */
#define GN_TCP_RTO_INIT_NS	1000000000LL	/* before any RTT sample */
#define GN_TCP_RTO_VAR_MIN_NS	200000000LL	/* as Linux: >= srtt + 200 ms */
#define GN_TCP_RTO_MAX_NS	10000000000LL
#define GN_TCP_WIN		65535	/* we offer no window scaling */
#define GN_TCP_TS_HIST		1024

static bool tcp_event(struct gn_ctx *c)
{
	return c->tcp_active->event;
}

static uint32_t tcp_next_tsval(struct gn_tcp *t)
{
	uint32_t v = (uint32_t)(gn_now_ns() / 1000);

	if (t->ts_hist_n && (int32_t)(v - t->ts_last) <= 0)
		v = t->ts_last + 1;
	return v;
}

static void tcp_ts_record(struct gn_tcp *t, uint32_t v, int64_t when)
{
	unsigned int i = t->ts_hist_n % GN_TCP_TS_HIST;

	t->ts_hist_val[i] = v;
	t->ts_hist_t[i] = when;
	t->ts_hist_n++;
	t->ts_last = v;
}

/* RFC 6298 smoothed RTT (alpha 1/8, beta 1/4) */
static void tcp_rtt_update(struct gn_tcp *t, int64_t r)
{
	if (!t->have_rtt) {
		t->srtt = r;
		t->rttvar = r / 2;
		t->have_rtt = true;
		return;
	}
	t->rttvar += ((r > t->srtt ? r - t->srtt : t->srtt - r) -
		      t->rttvar) / 4;
	t->srtt += (r - t->srtt) / 8;
}

/*
 * Retransmission timeout: 1 s before any sample, then srtt + max(4 rttvar,
 * 200 ms) like Linux (a bare 200 ms races the peer's delayed ACK and slow
 * emulated machines into spurious retransmissions).
 */
static int64_t tcp_rto(const struct gn_tcp *t)
{
	int64_t var;

	if (!t->have_rtt)
		return GN_TCP_RTO_INIT_NS;
	var = 4 * t->rttvar;
	if (var < GN_TCP_RTO_VAR_MIN_NS)
		var = GN_TCP_RTO_VAR_MIN_NS;
	return t->srtt + var < GN_TCP_RTO_MAX_NS ? t->srtt + var :
						   GN_TCP_RTO_MAX_NS;
}

static void tcp_ts_sample(struct gn_tcp *t, uint32_t tsecr, int64_t now)
{
	unsigned int k, n;

	if (t->have_sampled && (int32_t)(tsecr - t->last_sampled) <= 0)
		return;
	n = t->ts_hist_n < GN_TCP_TS_HIST ? t->ts_hist_n : GN_TCP_TS_HIST;
	for (k = 1; k <= n; k++) {
		unsigned int i = (t->ts_hist_n - k) % GN_TCP_TS_HIST;

		if (t->ts_hist_val[i] != tsecr)
			continue;
		if (t->nsamples == t->samples_cap) {
			size_t cap = t->samples_cap ? t->samples_cap * 2 : 256;
			struct gn_tcp_sample *s;

			s = realloc(t->samples, cap * sizeof(*s));
			if (!s)
				return;
			t->samples = s;
			t->samples_cap = cap;
		}
		t->samples[t->nsamples].tsval = tsecr;
		t->samples[t->nsamples].rtt_ns = now - t->ts_hist_t[i];
		t->nsamples++;
		tcp_rtt_update(t, now - t->ts_hist_t[i]);
		t->have_sampled = true;
		t->last_sampled = tsecr;
		return;
	}
}

/* Sends one segment.  off/len: payload offset and length (len 0: none). */
static int tcp_send(struct gn_ctx *c, struct gn_tcp *t, uint8_t flags,
		    uint64_t off, size_t len, int64_t *t0)
{
	uint8_t opts[20], data[GN_ETH_MTU];
	struct gn_route r = route_fam(c, t->family);
	struct gn_tcp_seg s = {
		.sport = c->cfg.sport, .dport = c->cfg.tcp_port,
		.flags = flags, .win = GN_TCP_WIN, .opts = opts,
		.payload = data, .plen = len,
	};
	uint32_t tsval = 0;
	bool ts = false;
	int64_t when;
	size_t i, n;

	if (flags & GN_TCP_SYN) {
		s.seq = t->iss;
		opts[0] = 2;
		opts[1] = 4;
		put16(opts + 2, t->family == 4 ? 1460 : 1440);
		s.optlen = 4;
		ts = true;
	} else {
		if (flags & GN_TCP_FIN)
			s.seq = t->iss + 1 + (uint32_t)t->total;
		else if (t->fin_sent && !len)
			s.seq = t->iss + 2 + (uint32_t)t->total;
		else
			s.seq = t->iss + 1 + (uint32_t)(len ? off : t->snd_nxt);
		s.ack = t->rcv_nxt;
		ts = t->ts_ok;
	}
	if (ts) {
		tsval = tcp_next_tsval(t);
		opts[s.optlen] = 1;
		opts[s.optlen + 1] = 1;
		opts[s.optlen + 2] = 8;
		opts[s.optlen + 3] = 10;
		put32(opts + s.optlen + 4, tsval);
		put32(opts + s.optlen + 8,
		      (flags & GN_TCP_SYN) ? 0 : t->ts_recent);
		s.optlen += 12;
	}
	for (i = 0; i < len; i++)
		data[i] = (uint8_t)('a' + (off + i) % 26);
	n = gn_build_tcp(c->txbuf, sizeof(c->txbuf), &r, &s);
	if (gn_tx(c, n, &when) < 0)
		return -1;
	if (ts)
		tcp_ts_record(t, tsval, when);
	t->segs_sent++;
	if (len) {
		t->data_segs++;
		t->bytes_sent += len;
	}
	if (t0)
		*t0 = when;
	return 0;
}

static int tcp_send_ack(struct gn_ctx *c, struct gn_tcp *t)
{
	return tcp_send(c, t, GN_TCP_ACK, 0, 0, NULL);
}

static void tcp_input(struct gn_ctx *c, struct gn_tcp *t,
		      const struct gn_pkt *p, int64_t now)
{
	const uint8_t *peer = t->family == 4 ? c->cfg.peer4 : c->cfg.peer6;
	uint8_t fl = p->tcp_flags;
	struct gn_tcp_opts o;
	bool need_ack = false;

	if (memcmp(p->src, peer, t->family == 4 ? 4 : 16) ||
	    p->sport != c->cfg.tcp_port || p->dport != c->cfg.sport ||
	    t->state == GN_TCP_CLOSED)
		return;
	t->segs_rcvd++;
	t->event = true;
	gn_tcp_parse_opts(p->tcp_opts, p->tcp_optlen, &o);

	if (fl & GN_TCP_RST) {
		if (t->state == GN_TCP_SYN_SENT ?
		    ((fl & GN_TCP_ACK) && p->tcp_ack == t->iss + 1) :
		    p->tcp_seq == t->rcv_nxt)
			t->rst = true;
		return;
	}
	if (t->state == GN_TCP_SYN_SENT) {
		uint16_t our_mss = t->family == 4 ? 1460 : 1440;

		if ((fl & (GN_TCP_SYN | GN_TCP_ACK)) !=
		    (GN_TCP_SYN | GN_TCP_ACK) || p->tcp_ack != t->iss + 1)
			return;
		t->irs = p->tcp_seq;
		t->rcv_nxt = p->tcp_seq + 1;
		t->peer_mss = o.mss ? o.mss : 536;
		t->ts_ok = o.ts;
		if (o.ts) {
			t->ts_recent = o.tsval;
			tcp_ts_sample(t, o.tsecr, now);
		}
		t->snd_wnd = p->tcp_win;
		t->mss = (t->peer_mss < our_mss ? t->peer_mss : our_mss) -
			 (t->ts_ok ? 12 : 0);
		if (t->mss < 64)
			t->mss = 64;
		t->handshake_rtt = t->syn_rexmit ? -1 : now - t->syn_t;
		t->state = GN_TCP_ESTABLISHED;
		tcp_send_ack(c, t);
		return;
	}
	if (fl & GN_TCP_SYN) {
		if (p->tcp_seq == t->irs)	/* our ACK was lost */
			tcp_send_ack(c, t);
		return;
	}
	if (!(fl & GN_TCP_ACK))
		return;
	if (t->ts_ok && o.ts) {
		if ((int32_t)(p->tcp_seq - t->rcv_nxt) <= 0 &&
		    (int32_t)(o.tsval - t->ts_recent) >= 0)
			t->ts_recent = o.tsval;
		tcp_ts_sample(t, o.tsecr, now);
	}
	{
		uint32_t ack_off = p->tcp_ack - (t->iss + 1);
		uint64_t max_ack = t->snd_max + (t->fin_sent ? 1 : 0);

		if (ack_off <= max_ack) {
			if (ack_off > t->snd_una ||
			    (t->fin_sent && ack_off == t->total + 1)) {
				t->snd_una = ack_off < t->snd_max ? ack_off :
								    t->snd_max;
				if (t->fin_sent && ack_off == t->total + 1)
					t->fin_acked = true;
				if (t->snd_nxt < t->snd_una)
					t->snd_nxt = t->snd_una;
				t->dupacks = 0;
			} else if (ack_off == t->snd_una && !p->plen &&
				   !(fl & GN_TCP_FIN) &&
				   p->tcp_win == t->snd_wnd &&
				   t->snd_max > t->snd_una) {
				t->dupacks++;
			}
			if (ack_off >= t->snd_una)
				t->snd_wnd = p->tcp_win;
		}
	}
	if (p->plen) {
		if (p->tcp_seq == t->rcv_nxt)
			t->rcv_nxt += (uint32_t)p->plen;
		need_ack = true;
	}
	if (fl & GN_TCP_FIN) {
		uint32_t fin_seq = p->tcp_seq + (uint32_t)p->plen;

		if (fin_seq == t->rcv_nxt && !t->peer_fin) {
			t->rcv_nxt++;
			t->peer_fin = true;
		}
		need_ack = true;
	}
	if (need_ack)
		tcp_send_ack(c, t);
}

static int tcp_output(struct gn_ctx *c, struct gn_tcp *t, int64_t *timer,
		      int64_t rto)
{
	while (t->snd_nxt < t->total) {
		uint64_t flight = (uint64_t)GN_TCP_MAX_FLIGHT * t->mss;
		uint64_t wnd = t->snd_wnd < flight ? t->snd_wnd : flight;
		uint64_t limit = t->snd_una + wnd;
		uint64_t len;
		bool last;

		if (t->snd_nxt >= limit)
			break;
		len = t->total - t->snd_nxt;
		if (len > t->mss)
			len = t->mss;
		if (len > limit - t->snd_nxt)
			len = limit - t->snd_nxt;
		last = t->snd_nxt + len == t->total;
		if (len < t->mss && !last && t->snd_nxt > t->snd_una)
			break;		/* avoid silly windows */
		if (t->snd_nxt < t->snd_max)
			t->rexmits++;
		if (tcp_send(c, t, GN_TCP_ACK | (last ? GN_TCP_PSH : 0),
			     t->snd_nxt, (size_t)len, NULL) < 0)
			return -1;
		t->snd_nxt += len;
		if (t->snd_nxt > t->snd_max)
			t->snd_max = t->snd_nxt;
		if (!*timer)
			*timer = gn_now_ns() + rto;
	}
	if (t->snd_una == t->total && !t->fin_sent) {
		if (tcp_send(c, t, GN_TCP_FIN | GN_TCP_ACK, 0, 0, NULL) < 0)
			return -1;
		t->fin_sent = true;
		*timer = gn_now_ns() + rto;
	}
	/* zero window: arm the persist timer */
	if (!*timer && t->snd_nxt < t->total && t->snd_una == t->snd_max)
		*timer = gn_now_ns() + rto;
	return 0;
}

static int run_tcp(struct gn_ctx *c, struct gn_tcp *t, int family)
{
	int64_t timeout = (int64_t)c->cfg.timeout_ms * 1000000;
	int64_t rto = GN_TCP_RTO_INIT_NS, timer, last_progress, now;
	uint64_t una_seen = 0;
	bool fin_acked_seen = false, est_seen = false;

	t->family = family;
	t->iss = (uint32_t)(gn_now_ns() ^ ((uint64_t)getpid() << 16));
	t->state = GN_TCP_SYN_SENT;
	t->handshake_rtt = -1;
	c->tcp_active = t;
	if (tcp_send(c, t, GN_TCP_SYN, 0, 0, &t->syn_t) < 0)
		return -1;
	timer = t->syn_t + rto;
	last_progress = t->syn_t;

	for (;;) {
		int64_t wake;

		t->event = false;
		now = gn_now_ns();
		if (t->rst) {
			gn_set_err(c, "TCP: %s by peer",
				   est_seen ? "connection reset" :
					      "connection refused");
			return -1;
		}
		if (t->state == GN_TCP_SYN_SENT) {
			if (now >= timer) {
				if (tcp_send(c, t, GN_TCP_SYN, 0, 0, NULL) < 0)
					return -1;
				t->syn_rexmit = true;
				t->rexmits++;
				rto = rto * 2 > GN_TCP_RTO_MAX_NS ?
				      GN_TCP_RTO_MAX_NS : rto * 2;
				timer = now + rto;
			}
		} else {
			if (!est_seen) {
				est_seen = true;
				rto = tcp_rto(t);
				timer = 0;
				last_progress = now;
			}
			if (t->snd_una > una_seen ||
			    t->fin_acked != fin_acked_seen) {
				una_seen = t->snd_una;
				fin_acked_seen = t->fin_acked;
				last_progress = now;
				rto = tcp_rto(t);
				timer = (t->snd_una < t->snd_max ||
					 (t->fin_sent && !t->fin_acked)) ?
					now + rto : 0;
			}
			if (t->dupacks >= 3) {
				/* fast retransmit, once per snd_una */
				if (!t->fr_done || t->fr_una != t->snd_una)
					t->snd_nxt = t->snd_una;
				t->fr_done = true;
				t->fr_una = t->snd_una;
				t->dupacks = 0;
			}
			if (timer && now >= timer) {
				if (t->fin_sent && !t->fin_acked &&
				    t->snd_una == t->total) {
					if (tcp_send(c, t, GN_TCP_FIN |
						     GN_TCP_ACK, 0, 0,
						     NULL) < 0)
						return -1;
					t->rexmits++;
				} else if (t->snd_una < t->snd_max) {
					t->snd_nxt = t->snd_una; /* go back N */
				} else if (t->snd_nxt < t->total) {
					/* window probe */
					if (tcp_send(c, t, GN_TCP_ACK,
						     t->snd_nxt, 1, NULL) < 0)
						return -1;
					t->snd_nxt++;
					if (t->snd_nxt > t->snd_max)
						t->snd_max = t->snd_nxt;
				}
				rto = rto * 2 > GN_TCP_RTO_MAX_NS ?
				      GN_TCP_RTO_MAX_NS : rto * 2;
				timer = now + rto;
			}
			if (tcp_output(c, t, &timer, rto) < 0)
				return -1;
			if (t->fin_acked && t->peer_fin)
				return 0;
		}
		if (now - last_progress > timeout) {
			gn_set_err(c, "TCP: no progress for %u ms (%s)",
				   c->cfg.timeout_ms,
				   t->state == GN_TCP_SYN_SENT ? "no SYN-ACK" :
				   !t->fin_acked ? "data/FIN not acknowledged" :
				   "no FIN from peer");
			return -1;
		}
		wake = last_progress + timeout + 1;
		if (timer && timer < wake)
			wake = timer;
		if (gn_wait(c, wake, tcp_event) < 0)
			return -1;
	}
}

/* ---- options ------------------------------------------------------------ */

static const char *prog = "vnacct-guest";

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s --ifname TAP --mac MAC --ip A.B.C.D[/LEN] [--ip6 ADDR[/LEN]]\n"
"         [--peer A.B.C.D] [--peer6 ADDR] [--ping N] [--ping6 N]\n"
"         [--ping-size BYTES] [--interval-ms MS]\n"
"         [--udp N] [--udp6 N] [--udp-size BYTES] [--udp-port P]\n"
"         [--udp-interval-us US] [--tcp BYTES] [--tcp6 BYTES] [--tcp-port P]\n"
"         [--sport P] [--arp-only] [--serve SECONDS] [--linger-ms MS]\n"
"         [--timeout-ms MS] [--no-wait-up] [--json] [--pcap FILE]\n"
"       %s --ifname TAP --create-only\n"
"\n"
"Plays a guest on tap device TAP (created, or attached if it exists and is\n"
"persistent): waits until TAP is up and running, answers ARP, neighbour\n"
"solicitations and echo requests for its addresses, resolves the peer, then\n"
"runs in order: ping, ping6, udp, udp6, tcp, tcp6, serve, linger.\n"
"\n"
"  --ifname TAP         tap device name\n"
"  --mac MAC            our MAC address (unicast)\n"
"  --ip A/LEN, --ip6 A/LEN   our addresses (prefix length informative)\n"
"  --peer, --peer6      the on-link peer for ping/udp/tcp (resp. the 6 forms)\n"
"  --ping N, --ping6 N  N echo requests, seq 1..N, one at a time\n"
"  --ping-size BYTES    echo payload bytes (default 56)\n"
"  --interval-ms MS     time between echo requests (default 10)\n"
"  --udp N, --udp6 N    N datagrams to peer:udp-port\n"
"  --udp-size BYTES     UDP payload bytes (default 64)\n"
"  --udp-port P         UDP destination port (default 5001)\n"
"  --udp-interval-us US time between datagrams (default 0)\n"
"  --tcp BYTES, --tcp6 BYTES  connect to peer:tcp-port, send BYTES, close\n"
"  --tcp-port P         TCP destination port (default 5001)\n"
"  --sport P            UDP and TCP source port (default 40000 + pid %% 20000)\n"
"  --arp-only           only resolve peer (ARP) and peer6 (ND), then exit\n"
"  --serve SECONDS      afterwards keep answering for SECONDS\n"
"  --linger-ms MS       afterwards keep answering and counting for MS\n"
"  --timeout-ms MS      bound on every wait: link up, ARP/ND, each echo\n"
"                       reply, TCP progress (default 5000)\n"
"  --no-wait-up         do not wait for TAP to be up and running\n"
"  --create-only        create TAP persistent (TUNSETPERSIST) and exit\n"
"  --json               print the report as one JSON object\n"
"  --pcap FILE          write every frame counted to FILE (nanosecond pcap,\n"
"                       CLOCK_MONOTONIC timestamps)\n"
"\n"
"Exit status: 0 ok, 1 runtime failure, 2 bad arguments.\n",
		prog, prog);
}

static int bad_arg(const char *opt, const char *val, const char *why)
{
	if (val)
		fprintf(stderr, "%s: %s '%s': %s\n", prog, opt, val, why);
	else
		fprintf(stderr, "%s: %s: %s\n", prog, opt, why);
	fprintf(stderr, "Try '%s --help'.\n", prog);
	return -1;
}

static int parse_u64(const char *opt, const char *s, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return bad_arg(opt, s, "not a non-negative integer");
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return bad_arg(opt, s, "not a non-negative integer");
	if (v < min || v > max) {
		char why[96];

		snprintf(why, sizeof(why), "out of range %" PRIu64 "..%" PRIu64,
			 min, max);
		return bad_arg(opt, s, why);
	}
	*out = v;
	return 0;
}

static int parse_uint(const char *opt, const char *s, unsigned int min,
		      unsigned int max, unsigned int *out)
{
	uint64_t v;

	if (parse_u64(opt, s, min, max, &v))
		return -1;
	*out = (unsigned int)v;
	return 0;
}

static int parse_port(const char *opt, const char *s, uint16_t *out)
{
	unsigned int v;

	if (parse_uint(opt, s, 1, 65535, &v))
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int parse_mac(const char *opt, const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 ||
	    sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return bad_arg(opt, s, "not a MAC address xx:xx:xx:xx:xx:xx");
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if (mac[0] & 1)
		return bad_arg(opt, s, "multicast MAC addresses not allowed");
	if (!memcmp(mac, zero_mac, 6))
		return bad_arg(opt, s, "all-zero MAC address not allowed");
	return 0;
}

static int parse_addr(const char *opt, const char *s, int family,
		      bool allow_prefix, uint8_t *addr, int *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	char *slash;
	int max = family == 4 ? 32 : 128;
	unsigned int v;

	if (strlen(s) >= sizeof(buf))
		return bad_arg(opt, s, "address too long");
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash) {
		if (!allow_prefix)
			return bad_arg(opt, s, "no prefix length expected");
		char *end;

		*slash++ = 0;
		errno = 0;
		v = (unsigned int)strtoul(slash, &end, 10);
		if (!*slash || *end || errno || *slash == '-' ||
		    v > (unsigned int)max)
			return bad_arg(opt, s, family == 4 ?
				       "prefix length not in 0..32" :
				       "prefix length not in 0..128");
		if (plen)
			*plen = (int)v;
	} else if (plen) {
		*plen = max;
	}
	if (inet_pton(family == 4 ? AF_INET : AF_INET6, buf, addr) != 1)
		return bad_arg(opt, s, family == 4 ? "not an IPv4 address" :
						      "not an IPv6 address");
	if (family == 4 && (addr[0] == 0 || addr[0] >= 224 ||
			    addr[0] == 127))
		return bad_arg(opt, s, "not a unicast IPv4 address");
	if (family == 6 && (addr[0] == 0xff || !memcmp(addr, zero_ip6, 16)))
		return bad_arg(opt, s, "not a unicast IPv6 address");
	return 0;
}

enum {
	O_IFNAME = 256, O_MAC, O_IP, O_IP6, O_PEER, O_PEER6, O_PING, O_PING6,
	O_PING_SIZE, O_INTERVAL, O_UDP, O_UDP6, O_UDP_SIZE, O_UDP_PORT,
	O_UDP_INTERVAL, O_TCP, O_TCP6, O_TCP_PORT, O_SPORT, O_ARP_ONLY,
	O_SERVE, O_LINGER, O_TIMEOUT, O_WAIT_UP, O_NO_WAIT_UP, O_CREATE_ONLY,
	O_JSON, O_PCAP, O_HELP,
};

static const struct option long_opts[] = {
	{ "ifname", required_argument, NULL, O_IFNAME },
	{ "mac", required_argument, NULL, O_MAC },
	{ "ip", required_argument, NULL, O_IP },
	{ "ip6", required_argument, NULL, O_IP6 },
	{ "peer", required_argument, NULL, O_PEER },
	{ "peer6", required_argument, NULL, O_PEER6 },
	{ "ping", required_argument, NULL, O_PING },
	{ "ping6", required_argument, NULL, O_PING6 },
	{ "ping-size", required_argument, NULL, O_PING_SIZE },
	{ "interval-ms", required_argument, NULL, O_INTERVAL },
	{ "udp", required_argument, NULL, O_UDP },
	{ "udp6", required_argument, NULL, O_UDP6 },
	{ "udp-size", required_argument, NULL, O_UDP_SIZE },
	{ "udp-port", required_argument, NULL, O_UDP_PORT },
	{ "udp-interval-us", required_argument, NULL, O_UDP_INTERVAL },
	{ "tcp", required_argument, NULL, O_TCP },
	{ "tcp6", required_argument, NULL, O_TCP6 },
	{ "tcp-port", required_argument, NULL, O_TCP_PORT },
	{ "sport", required_argument, NULL, O_SPORT },
	{ "arp-only", no_argument, NULL, O_ARP_ONLY },
	{ "serve", required_argument, NULL, O_SERVE },
	{ "linger-ms", required_argument, NULL, O_LINGER },
	{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
	{ "wait-up", no_argument, NULL, O_WAIT_UP },
	{ "no-wait-up", no_argument, NULL, O_NO_WAIT_UP },
	{ "create-only", no_argument, NULL, O_CREATE_ONLY },
	{ "json", no_argument, NULL, O_JSON },
	{ "pcap", required_argument, NULL, O_PCAP },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

#define GN_MAX_PAYLOAD4	(GN_ETH_MTU - 20 - 8)
#define GN_MAX_PAYLOAD6	(GN_ETH_MTU - 40 - 8)

/* Returns 0, -1 (bad argument, message printed) or 1 (--help printed). */
static int parse_args(struct gn_ctx *c, int argc, char **argv)
{
	struct gn_cfg *g = &c->cfg;
	bool traffic4, traffic6, traffic;
	bool have_sport = false;
	int o;

	g->ping_size = 56;
	g->interval_ms = 10;
	g->udp_size = 64;
	g->udp_port = 5001;
	g->tcp_port = 5001;
	g->timeout_ms = 5000;
	g->wait_up = true;
	opterr = 0;
	while ((o = getopt_long(argc, argv, ":h", long_opts, NULL)) != -1) {
		switch (o) {
		case O_IFNAME:
			if (!*optarg || strlen(optarg) >= IFNAMSIZ ||
			    strpbrk(optarg, "/ \t\n:%"))
				return bad_arg("--ifname", optarg,
					       "not a valid interface name (1-15 characters, no '/', ':', '%' or spaces)");
			g->ifname = optarg;
			break;
		case O_MAC:
			if (parse_mac("--mac", optarg, g->mac))
				return -1;
			g->have_mac = true;
			break;
		case O_IP:
			if (parse_addr("--ip", optarg, 4, true, g->ip4,
				       &g->plen4))
				return -1;
			g->have_ip4 = true;
			break;
		case O_IP6:
			if (parse_addr("--ip6", optarg, 6, true, g->ip6,
				       &g->plen6))
				return -1;
			g->have_ip6 = true;
			break;
		case O_PEER:
			if (parse_addr("--peer", optarg, 4, false, g->peer4,
				       NULL))
				return -1;
			g->have_peer4 = true;
			break;
		case O_PEER6:
			if (parse_addr("--peer6", optarg, 6, false, g->peer6,
				       NULL))
				return -1;
			g->have_peer6 = true;
			break;
		case O_PING:
			if (parse_uint("--ping", optarg, 0, 65535, &g->ping))
				return -1;
			break;
		case O_PING6:
			if (parse_uint("--ping6", optarg, 0, 65535, &g->ping6))
				return -1;
			break;
		case O_PING_SIZE:
			if (parse_uint("--ping-size", optarg, 0,
				       GN_MAX_PAYLOAD4, &g->ping_size))
				return -1;
			break;
		case O_INTERVAL:
			if (parse_uint("--interval-ms", optarg, 0, 3600000,
				       &g->interval_ms))
				return -1;
			break;
		case O_UDP:
			if (parse_uint("--udp", optarg, 0, 100000000, &g->udp))
				return -1;
			break;
		case O_UDP6:
			if (parse_uint("--udp6", optarg, 0, 100000000,
				       &g->udp6))
				return -1;
			break;
		case O_UDP_SIZE:
			if (parse_uint("--udp-size", optarg, 0,
				       GN_MAX_PAYLOAD4, &g->udp_size))
				return -1;
			break;
		case O_UDP_PORT:
			if (parse_port("--udp-port", optarg, &g->udp_port))
				return -1;
			break;
		case O_UDP_INTERVAL:
			if (parse_uint("--udp-interval-us", optarg, 0,
				       60000000, &g->udp_interval_us))
				return -1;
			break;
		case O_TCP:
			if (parse_u64("--tcp", optarg, 0, 0x7fffffff,
				      &g->tcp_bytes))
				return -1;
			g->tcp_set = true;
			break;
		case O_TCP6:
			if (parse_u64("--tcp6", optarg, 0, 0x7fffffff,
				      &g->tcp6_bytes))
				return -1;
			g->tcp6_set = true;
			break;
		case O_TCP_PORT:
			if (parse_port("--tcp-port", optarg, &g->tcp_port))
				return -1;
			break;
		case O_SPORT:
			if (parse_port("--sport", optarg, &g->sport))
				return -1;
			have_sport = true;
			break;
		case O_ARP_ONLY:
			g->arp_only = true;
			break;
		case O_SERVE:
			if (parse_uint("--serve", optarg, 0, 31536000,
				       &g->serve_s))
				return -1;
			break;
		case O_LINGER:
			if (parse_uint("--linger-ms", optarg, 0, 3600000,
				       &g->linger_ms))
				return -1;
			break;
		case O_TIMEOUT:
			if (parse_uint("--timeout-ms", optarg, 1, 3600000,
				       &g->timeout_ms))
				return -1;
			break;
		case O_WAIT_UP:
			g->wait_up = true;
			break;
		case O_NO_WAIT_UP:
			g->wait_up = false;
			break;
		case O_CREATE_ONLY:
			g->create_only = true;
			break;
		case O_JSON:
			g->json = true;
			break;
		case O_PCAP:
			if (!*optarg)
				return bad_arg("--pcap", optarg,
					       "empty file name");
			g->pcap = optarg;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			return 1;
		case ':':
			return bad_arg(argv[optind - 1], NULL,
				       "missing argument");
		default:
			if (optopt && optopt < 256) {
				char so[3] = { '-', (char)optopt, 0 };

				return bad_arg(so, NULL, "unknown option");
			}
			return bad_arg(argv[optind - 1], NULL,
				       "unknown option");
		}
	}
	if (optind < argc)
		return bad_arg(argv[optind], NULL, "unexpected argument");
	if (!g->ifname)
		return bad_arg("--ifname", NULL, "required");

	traffic4 = g->ping || g->udp || g->tcp_set;
	traffic6 = g->ping6 || g->udp6 || g->tcp6_set;
	traffic = traffic4 || traffic6;
	if (g->create_only) {
		if (traffic || g->arp_only || g->serve_s || g->have_ip4 ||
		    g->have_ip6 || g->have_peer4 || g->have_peer6 || g->pcap)
			return bad_arg("--create-only", NULL,
				       "takes only --ifname (and --json)");
		return 0;
	}
	if (!g->have_mac)
		return bad_arg("--mac", NULL, "required");
	if (!g->have_ip4 && !g->have_ip6)
		return bad_arg("--ip", NULL, "required (or --ip6)");
	if (g->have_peer4 && !g->have_ip4)
		return bad_arg("--peer", NULL, "needs --ip");
	if (g->have_peer6 && !g->have_ip6)
		return bad_arg("--peer6", NULL, "needs --ip6");
	if (traffic4 && !g->have_peer4)
		return bad_arg(g->ping ? "--ping" : g->udp ? "--udp" : "--tcp",
			       NULL, "needs --peer");
	if (traffic6 && !g->have_peer6)
		return bad_arg(g->ping6 ? "--ping6" : g->udp6 ? "--udp6" :
			       "--tcp6", NULL, "needs --peer6");
	if (g->have_peer4 && !memcmp(g->peer4, g->ip4, 4))
		return bad_arg("--peer", NULL, "equals --ip");
	if (g->have_peer6 && !memcmp(g->peer6, g->ip6, 16))
		return bad_arg("--peer6", NULL, "equals --ip6");
	if (g->arp_only && !g->have_peer4 && !g->have_peer6)
		return bad_arg("--arp-only", NULL, "needs --peer or --peer6");
	if (g->arp_only && traffic)
		return bad_arg("--arp-only", NULL,
			       "cannot be combined with --ping/--udp/--tcp");
	if (g->ping6 && g->ping_size > GN_MAX_PAYLOAD6) {
		char why[64];

		snprintf(why, sizeof(why), "at most %d with --ping6",
			 GN_MAX_PAYLOAD6);
		return bad_arg("--ping-size", NULL, why);
	}
	if (g->udp6 && g->udp_size > GN_MAX_PAYLOAD6) {
		char why[64];

		snprintf(why, sizeof(why), "at most %d with --udp6",
			 GN_MAX_PAYLOAD6);
		return bad_arg("--udp-size", NULL, why);
	}
	if (!have_sport)
		g->sport = (uint16_t)(40000 + getpid() % 20000);
	return 0;
}

/* ---- report ------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static const char *fmt_mac(const uint8_t *m, bool have, char *buf)
{
	if (!have) {
		buf[0] = 0;
		return buf;
	}
	sprintf(buf, "%02x:%02x:%02x:%02x:%02x:%02x",
		m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

static const char *fmt_ip(int family, const uint8_t *a, bool have, char *buf)
{
	buf[0] = 0;
	if (have)
		inet_ntop(family == 4 ? AF_INET : AF_INET6, a, buf,
			  INET6_ADDRSTRLEN);
	return buf;
}

static void json_dir(FILE *f, const char *name, const struct gn_dir_stats *s,
		     bool rx)
{
	int i;

	fprintf(f, "\"%s\":{\"frames\":%" PRIu64 ",\"bytes\":%" PRIu64,
		name, s->frames, s->bytes);
	for (i = 0; i < GN_C_MAX; i++)
		fprintf(f, ",\"%s\":%" PRIu64, gn_class_name[i],
			s->cls_frames[i]);
	fprintf(f, ",\"ipv4\":%" PRIu64 ",\"ipv6\":%" PRIu64, s->ipv4,
		s->ipv6);
	fprintf(f, ",\"class_bytes\":{");
	for (i = 0; i < GN_C_MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i ? "," : "",
			gn_class_name[i], s->cls_bytes[i]);
	fprintf(f, "},\"l3_bytes\":{");
	for (i = GN_C_NDISC; i < GN_C_MAX; i++)
		fprintf(f, "%s\"%s\":%" PRIu64, i > GN_C_NDISC ? "," : "",
			gn_class_name[i], s->cls_l3_bytes[i]);
	fprintf(f, ",\"ipv4\":%" PRIu64 ",\"ipv6\":%" PRIu64
		",\"total\":%" PRIu64 "}",
		s->ipv4_l3_bytes, s->ipv6_l3_bytes, s->l3_bytes);
	if (rx)
		fprintf(f, ",\"csum_errors\":%" PRIu64 ",\"not_for_us\":%"
			PRIu64, s->csum_errors, s->not_for_us);
	fprintf(f, "}");
}

static void json_ping(FILE *f, const char *name, const struct gn_ping *p)
{
	unsigned int i;

	fprintf(f, ",\"%s\":{\"id\":%u,\"size\":%u,\"sent\":%u,"
		"\"received\":%u,\"late\":%u,\"dup\":%u,\"rtt_ns\":[",
		name, p->id, p->size, p->sent, p->received, p->late, p->dup);
	for (i = 0; i < p->sent; i++)
		fprintf(f, "%s%" PRId64, i ? "," : "", p->rtt[i]);
	fprintf(f, "]}");
}

static void json_udp(FILE *f, const char *name, const struct gn_ctx *c,
		     const struct gn_udp *u)
{
	fprintf(f, ",\"%s\":{\"sent\":%u,\"payload_bytes\":%" PRIu64
		",\"size\":%u,\"sport\":%u,\"dport\":%u}",
		name, u->sent, u->payload_bytes, c->cfg.udp_size,
		c->cfg.sport, c->cfg.udp_port);
}

static void json_tcp(FILE *f, const char *name, const struct gn_ctx *c,
		     const struct gn_tcp *t)
{
	size_t i;

	fprintf(f, ",\"%s\":{\"sport\":%u,\"dport\":%u,\"connected\":%s,"
		"\"closed\":%s,\"payload_bytes\":%" PRIu64
		",\"payload_bytes_sent\":%" PRIu64
		",\"payload_bytes_acked\":%" PRIu64
		",\"segments_sent\":%" PRIu64 ",\"data_segments\":%" PRIu64
		",\"retransmits\":%" PRIu64 ",\"segments_received\":%" PRIu64
		",\"peer_mss\":%u,\"mss\":%u,\"timestamps\":%s"
		",\"handshake_rtt_ns\":%" PRId64 ",\"rtt_samples\":[",
		name, c->cfg.sport, c->cfg.tcp_port,
		t->state == GN_TCP_ESTABLISHED ? "true" : "false",
		t->fin_acked && t->peer_fin ? "true" : "false",
		t->total, t->bytes_sent, t->snd_una, t->segs_sent,
		t->data_segs, t->rexmits, t->segs_rcvd, t->peer_mss, t->mss,
		t->ts_ok ? "true" : "false", t->handshake_rtt);
	for (i = 0; i < t->nsamples; i++)
		fprintf(f, "%s{\"tsval\":%u,\"rtt_ns\":%" PRId64 "}",
			i ? "," : "", t->samples[i].tsval,
			t->samples[i].rtt_ns);
	fprintf(f, "]}");
}

static void report_json(struct gn_ctx *c, FILE *f)
{
	char b1[INET6_ADDRSTRLEN], mb[20];
	const struct gn_cfg *g = &c->cfg;

	fprintf(f, "{\"program\":");
	json_str(f, prog);
	fprintf(f, ",\"ifname\":");
	json_str(f, g->ifname);
	fprintf(f, ",\"mac\":\"%s\"", fmt_mac(g->mac, true, mb));
	fprintf(f, ",\"ip\":\"%s\"", fmt_ip(4, g->ip4, g->have_ip4, b1));
	fprintf(f, ",\"ip6\":\"%s\"", fmt_ip(6, g->ip6, g->have_ip6, b1));
	fprintf(f, ",\"peer\":\"%s\"", fmt_ip(4, g->peer4, g->have_peer4, b1));
	fprintf(f, ",\"peer6\":\"%s\"",
		fmt_ip(6, g->peer6, g->have_peer6, b1));
	fprintf(f, ",\"peer_mac\":\"%s\"",
		fmt_mac(c->peer4_mac, c->have_peer4_mac, mb));
	fprintf(f, ",\"peer6_mac\":\"%s\"",
		fmt_mac(c->peer6_mac, c->have_peer6_mac, mb));
	fprintf(f, ",\"tap_existed\":%s", c->tap_existed ? "true" : "false");
	fprintf(f, ",\"ok\":%s,\"error\":", c->ok ? "true" : "false");
	json_str(f, c->err);
	fprintf(f, ",\"interrupted\":%s", c->interrupted ? "true" : "false");
	fprintf(f, ",\"duration_ns\":%" PRId64 ",",
		c->t_start ? c->t_end - c->t_start : 0);
	json_dir(f, "tx", &c->tx, false);
	fprintf(f, ",");
	json_dir(f, "rx", &c->rx, true);
	fprintf(f, ",\"tx_l3_bytes\":%" PRIu64 ",\"rx_l3_bytes\":%" PRIu64,
		c->tx.l3_bytes, c->rx.l3_bytes);
	fprintf(f, ",\"udp_payload_bytes\":%" PRIu64,
		c->udp4.payload_bytes + c->udp6.payload_bytes);
	fprintf(f, ",\"tcp_payload_bytes_acked\":%" PRIu64,
		c->tcp4.snd_una + c->tcp6.snd_una);
	if (c->ping4.enabled)
		json_ping(f, "ping", &c->ping4);
	if (c->ping6.enabled)
		json_ping(f, "ping6", &c->ping6);
	if (c->udp4.enabled)
		json_udp(f, "udp", c, &c->udp4);
	if (c->udp6.enabled)
		json_udp(f, "udp6", c, &c->udp6);
	if (c->tcp4.enabled)
		json_tcp(f, "tcp", c, &c->tcp4);
	if (c->tcp6.enabled)
		json_tcp(f, "tcp6", c, &c->tcp6);
	fprintf(f, ",\"control\":{\"arp_requests\":%" PRIu64
		",\"arp_replies\":%" PRIu64 ",\"ns_sent\":%" PRIu64
		",\"na_sent\":%" PRIu64 ",\"echo_replies\":%" PRIu64
		",\"echo6_replies\":%" PRIu64 "}}\n",
		c->arp_requests, c->arp_replies, c->ns_sent, c->na_sent,
		c->echo_replies, c->echo6_replies);
}

static void rtt_summary(FILE *f, const char *name, const struct gn_ping *p)
{
	int64_t min = 0, max = 0, sum = 0;
	unsigned int i, n = 0;

	for (i = 0; i < p->sent; i++) {
		int64_t r = p->rtt[i];

		if (r < 0)
			continue;
		if (!n || r < min)
			min = r;
		if (!n || r > max)
			max = r;
		sum += r;
		n++;
	}
	fprintf(f, "%s: %u sent, %u received, %u late, %u dup", name,
		p->sent, p->received, p->late, p->dup);
	if (n)
		fprintf(f, ", rtt min/avg/max %.3f/%.3f/%.3f ms",
			min / 1e6, (double)sum / n / 1e6, max / 1e6);
	fprintf(f, "\n");
}

static void report_text(struct gn_ctx *c, FILE *f)
{
	const struct gn_dir_stats *d[2] = { &c->tx, &c->rx };
	int k, i;

	fprintf(f, "%s on %s: %s%s%s\n", prog, c->cfg.ifname,
		c->ok ? "ok" : "FAILED", c->err[0] ? ": " : "", c->err);
	for (k = 0; k < 2; k++) {
		fprintf(f, "%s: %" PRIu64 " frames %" PRIu64 " bytes (L3 %"
			PRIu64 ") ", k ? "rx" : "tx", d[k]->frames,
			d[k]->bytes, d[k]->l3_bytes);
		for (i = 0; i < GN_C_MAX; i++)
			fprintf(f, " %s %" PRIu64, gn_class_name[i],
				d[k]->cls_frames[i]);
		if (k)
			fprintf(f, " csum_errors %" PRIu64 " not_for_us %"
				PRIu64, d[k]->csum_errors, d[k]->not_for_us);
		fprintf(f, "\n");
	}
	if (c->ping4.enabled)
		rtt_summary(f, "ping", &c->ping4);
	if (c->ping6.enabled)
		rtt_summary(f, "ping6", &c->ping6);
	if (c->udp4.enabled)
		fprintf(f, "udp: %u datagrams, %" PRIu64 " payload bytes\n",
			c->udp4.sent, c->udp4.payload_bytes);
	if (c->udp6.enabled)
		fprintf(f, "udp6: %u datagrams, %" PRIu64 " payload bytes\n",
			c->udp6.sent, c->udp6.payload_bytes);
	for (k = 0; k < 2; k++) {
		const struct gn_tcp *t = k ? &c->tcp6 : &c->tcp4;

		if (!t->enabled)
			continue;
		fprintf(f, "%s: %" PRIu64 "/%" PRIu64 " payload bytes acked, %"
			PRIu64 " segments sent, %" PRIu64 " retransmits, %s\n",
			k ? "tcp6" : "tcp", t->snd_una, t->total, t->segs_sent,
			t->rexmits, t->fin_acked && t->peer_fin ? "closed" :
			"not closed");
	}
}

/* ---- main --------------------------------------------------------------- */

static int run(struct gn_ctx *c)
{
	struct gn_cfg *g = &c->cfg;

	if ((g->ping || g->udp || g->tcp_set || g->arp_only) &&
	    g->have_peer4 && resolve(c, 4) < 0)
		return -1;
	if ((g->ping6 || g->udp6 || g->tcp6_set || g->arp_only) &&
	    g->have_peer6 && resolve(c, 6) < 0)
		return -1;
	if (g->ping && run_ping(c, &c->ping4, 4) < 0)
		return -1;
	if (g->ping6 && run_ping(c, &c->ping6, 6) < 0)
		return -1;
	if (g->udp && run_udp(c, &c->udp4, 4) < 0)
		return -1;
	if (g->udp6 && run_udp(c, &c->udp6, 6) < 0)
		return -1;
	if (g->tcp_set && run_tcp(c, &c->tcp4, 4) < 0)
		return -1;
	if (g->tcp6_set && run_tcp(c, &c->tcp6, 6) < 0)
		return -1;
	if (g->serve_s &&
	    gn_wait(c, ms_from_now(g->serve_s * 1000u), NULL) < 0) {
		if (c->interrupted && !c->err[0])
			return 0;	/* stopping a server is normal */
		return -1;
	}
	if (g->linger_ms && gn_wait(c, ms_from_now(g->linger_ms), NULL) < 0)
		return -1;
	return 0;
}

static int create_only(struct gn_ctx *c)
{
	int fd = gn_tap_open(c, c->io->tap_flags);

	if (fd < 0)
		goto fail;
	if (ioctl(fd, TUNSETPERSIST, 1) < 0) {
		gn_set_err(c, "TUNSETPERSIST %s: %s", c->cfg.ifname,
			   strerror(errno));
		close(fd);
		goto fail;
	}
	close(fd);
	if (c->cfg.json) {
		printf("{\"program\":");
		json_str(stdout, prog);
		printf(",\"ifname\":");
		json_str(stdout, c->cfg.ifname);
		printf(",\"created\":%s,\"persistent\":true,\"ok\":true}\n",
		       c->tap_existed ? "false" : "true");
	} else {
		printf("%s: tap %s %s, persistent\n", prog, c->cfg.ifname,
		       c->tap_existed ? "exists" : "created");
	}
	return 0;
fail:
	fprintf(stderr, "%s: %s\n", prog, c->err);
	return 1;
}

int gn_main(int argc, char **argv, const struct gn_io *io)
{
	struct sigaction sa;
	struct gn_ctx *c;
	bool setup_ok;
	int r, status;

	prog = io->prog;
	c = calloc(1, sizeof(*c));
	if (!c) {
		perror("calloc");
		return 1;
	}
	c->io = io;
	c->tapfd = -1;
	r = parse_args(c, argc, argv);
	if (r) {
		free(c);
		return r > 0 ? 0 : 2;
	}
	if (c->cfg.create_only) {
		status = create_only(c);
		free(c);
		return status;
	}
	c->ipid = (uint16_t)getpid();
	c->ping4.enabled = c->cfg.ping > 0;
	c->ping6.enabled = c->cfg.ping6 > 0;
	c->ping4.count = c->cfg.ping;
	c->ping6.count = c->cfg.ping6;
	c->ping4.id = c->ping6.id = (uint16_t)getpid();
	c->ping4.size = c->ping6.size = c->cfg.ping_size;
	c->ping4.rtt = malloc((c->cfg.ping + 1) * sizeof(int64_t));
	c->ping6.rtt = malloc((c->cfg.ping6 + 1) * sizeof(int64_t));
	if (!c->ping4.rtt || !c->ping6.rtt) {
		perror("malloc");
		return 1;
	}
	for (unsigned int i = 0; i <= c->cfg.ping; i++)
		c->ping4.rtt[i] = -1;
	for (unsigned int i = 0; i <= c->cfg.ping6; i++)
		c->ping6.rtt[i] = -1;
	c->udp4.enabled = c->cfg.udp > 0;
	c->udp6.enabled = c->cfg.udp6 > 0;
	c->udp4.count = c->cfg.udp;
	c->udp6.count = c->cfg.udp6;
	c->tcp4.enabled = c->cfg.tcp_set;
	c->tcp6.enabled = c->cfg.tcp6_set;
	c->tcp4.total = c->cfg.tcp_bytes;
	c->tcp6.total = c->cfg.tcp6_bytes;
	c->tcp4.handshake_rtt = c->tcp6.handshake_rtt = -1;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (c->cfg.pcap) {
		c->pcap = fopen(c->cfg.pcap, "we");
		if (!c->pcap) {
			fprintf(stderr, "%s: --pcap %s: %s\n", prog, c->cfg.pcap,
				strerror(errno));
			free(c);
			return 1;
		}
		pcap_header(c->pcap);
	}
	c->tapfd = gn_tap_open(c, io->tap_flags);
	if (c->tapfd < 0) {
		fprintf(stderr, "%s: %s\n", prog, c->err);
		free(c);
		return 1;
	}
	r = io->setup(c);
	setup_ok = r == 0;
	if (r == 0 && c->cfg.wait_up)
		r = wait_link_up(c);
	if (r == 0) {
		c->t_start = gn_now_ns();
		r = run(c);
		if (r < 0 && !c->err[0])
			gn_set_err(c, "%s", c->interrupted ? "interrupted" :
							     "failed");
	}
	/* read, without answering, what the kernel already delivered */
	if (setup_ok) {
		int64_t t;
		ssize_t n;

		if (io->quiesce)
			io->quiesce(c);
		c->draining = true;
		while ((n = io->recv(c, c->rxbuf, sizeof(c->rxbuf), 0,
				     &t)) > 0)
			process_frame(c, c->rxbuf, (size_t)n, t);
	}
	c->t_end = gn_now_ns();
	if (c->pcap && fclose(c->pcap) != 0)
		gn_set_err(c, "--pcap %s: %s", c->cfg.pcap, strerror(errno));
	c->ok = r == 0 && !c->err[0];
	if (!c->ok)
		fprintf(stderr, "%s: %s\n", prog, c->err);
	if (c->cfg.json)
		report_json(c, stdout);
	else
		report_text(c, stdout);
	fflush(stdout);
	io->teardown(c);
	status = c->ok ? 0 : 1;
	free(c->tcp4.samples);
	free(c->tcp6.samples);
	free(c->ping4.rtt);
	free(c->ping6.rtt);
	free(c);
	return status;
}
