/* SPDX-License-Identifier: GPL-2.0 */
/*
 * guestnet.h - the tiny protocol engine shared by the vnacct test guests
 * (vnacct-tapguest, vnacct-vhostguest): Ethernet/ARP/IPv4/IPv6/ICMP/ICMPv6/
 * ND/UDP/TCP frame builders and parsers, exact per-frame accounting, the
 * responder (ARP, neighbour solicitation, echo), the traffic generators
 * (ping, ping6, UDP, TCP client), option parsing and the final report.
 * The two programs only supply the transport (struct gn_io).
 *
 * Report (--json): one JSON object on stdout.  Field meanings:
 *
 *   program, ifname, mac, ip, ip6, peer, peer6   the configuration (strings;
 *                       "" when not given).
 *   peer_mac, peer6_mac MAC learnt for peer / peer6 by ARP / ND ("" if not).
 *   tap_existed         true if the tap device existed before we attached.
 *   ok                  true if every requested activity completed (lost
 *                       pings do not make it false; see ping.received).
 *   error               "" or the runtime error that ended the run.
 *   interrupted         true if SIGINT/SIGTERM ended the run.
 *   duration_ns         wall time (CLOCK_MONOTONIC) from link up to the end.
 *
 *   tx, rx              every frame the program handed to the kernel (tx)
 *                       or read from it (rx), counted exactly once:
 *     frames, bytes     number of Ethernet frames and their bytes: from the
 *                       destination MAC to the end of the L2 payload as
 *                       written to / read from the tap (no FCS, no vnet
 *                       header, no padding is added by the programs).
 *     arp, ndisc, icmp, icmp6, udp, tcp, other
 *                       frames per class; the classes partition "frames":
 *                         arp    ethertype 0x0806
 *                         ndisc  ICMPv6 types 133-137 (RS, RA, NS, NA,
 *                                redirect)
 *                         icmp   IPv4 protocol 1
 *                         icmp6  any other ICMPv6 (echo, MLD, errors)
 *                         udp    IPv4/IPv6 protocol 17
 *                         tcp    IPv4/IPv6 protocol 6
 *                         other  everything else (other ethertypes, VLAN
 *                                tags, other IP protocols, IPv6 fragments,
 *                                unparsable IP headers)
 *                       The IPv6 protocol is the one after any hop-by-hop,
 *                       routing and destination-options headers.
 *     ipv4, ipv6        frames with ethertype 0x0800 / 0x86dd.
 *     class_bytes       {arp,ndisc,icmp,icmp6,udp,tcp,other}: frame bytes
 *                       per class (sums to "bytes").
 *     l3_bytes          {ndisc,icmp,icmp6,udp,tcp,other,ipv4,ipv6,total}:
 *                       IP packet bytes (IPv4 total length, IPv6 40 +
 *                       payload length; clamped to what the frame holds)
 *                       per class, per IP version, and in total.  ARP and
 *                       non-IP frames contribute nothing.
 *     csum_errors       (rx only) IP frames whose IPv4 header or
 *                       ICMP/ICMPv6/UDP/TCP checksum is wrong.
 *     not_for_us        (rx only) frames neither to our MAC nor broadcast/
 *                       multicast, or IP packets not to our address
 *                       (counted, not answered).
 *   tx_l3_bytes, rx_l3_bytes   = tx.l3_bytes.total, rx.l3_bytes.total.
 *   udp_payload_bytes   UDP payload bytes sent (udp + udp6).
 *   tcp_payload_bytes_acked    TCP payload bytes acknowledged by the peer
 *                       (tcp + tcp6; SYN and FIN not included).
 *
 *   ping, ping6         (present when requested)
 *     id                ICMP identifier (pid & 0xffff).
 *     size              echo payload bytes (after the 8-byte ICMP header).
 *     sent              echo requests sent (seq 1..sent).
 *     received          replies matched to the outstanding request.
 *     late              replies for an earlier seq that had timed out.
 *     dup               further replies for an already answered seq.
 *     rtt_ns            per seq (index = seq - 1): ns from just before the
 *                       request was handed to the kernel (write(2) / avail
 *                       index update) to just after the reply was read
 *                       (read(2) return / used ring entry seen), or -1.
 *   udp, udp6           sent (datagrams), payload_bytes, size, sport, dport.
 *                       Each payload begins with the 32-bit big-endian
 *                       datagram number (1..N) when size >= 4.
 *   tcp, tcp6           sport, dport, connected (handshake done), closed
 *                       (our FIN acked and peer's FIN received and acked),
 *                       payload_bytes (requested), payload_bytes_sent
 *                       (including retransmissions), payload_bytes_acked,
 *                       segments_sent (all TCP segments, incl. SYN/ACK/FIN),
 *                       data_segments (segments carrying payload, incl.
 *                       retransmissions), retransmits (retransmitted
 *                       segments: SYN, data or FIN), segments_received,
 *                       peer_mss, mss (payload bytes per full segment),
 *                       timestamps (TS option negotiated), handshake_rtt_ns
 *                       (SYN handed to kernel -> SYN-ACK read; -1 if the SYN
 *                       was retransmitted), rtt_samples: [{"tsval":V,
 *                       "rtt_ns":R}] one per distinct TSecr echoed by the
 *                       peer: V is the TSval we sent (microseconds of
 *                       CLOCK_MONOTONIC, strictly increasing per segment, so
 *                       unique), R the ns from handing that segment to the
 *                       kernel to reading the first segment echoing it.
 *   control             arp_requests, arp_replies, ns_sent, na_sent,
 *                       echo_replies, echo6_replies: frames the program sent
 *                       to resolve the peer or to answer requests.
 *
 * Exit status: 0 success, 1 runtime failure (report still printed),
 * 2 bad arguments.
 */
#ifndef VNACCT_GUESTNET_H
#define VNACCT_GUESTNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define GN_ETH_HLEN	14
#define GN_ETH_MTU	1500
#define GN_FRAME_MAX	(GN_ETH_HLEN + GN_ETH_MTU)
#define GN_RXBUF_MAX	65536

#define GN_ETH_P_IP	0x0800
#define GN_ETH_P_ARP	0x0806
#define GN_ETH_P_IPV6	0x86dd

#define GN_IPPROTO_ICMP		1
#define GN_IPPROTO_TCP		6
#define GN_IPPROTO_UDP		17
#define GN_IPPROTO_ICMPV6	58

#define GN_TCP_FIN	0x01
#define GN_TCP_SYN	0x02
#define GN_TCP_RST	0x04
#define GN_TCP_PSH	0x08
#define GN_TCP_ACK	0x10

enum gn_class {
	GN_C_ARP,
	GN_C_NDISC,
	GN_C_ICMP,
	GN_C_ICMP6,
	GN_C_UDP,
	GN_C_TCP,
	GN_C_OTHER,
	GN_C_MAX
};

extern const char *const gn_class_name[GN_C_MAX];

/* ---- checksums ---------------------------------------------------------- */

uint32_t gn_csum_add(uint32_t sum, const void *data, size_t len);
uint16_t gn_csum_fold(uint32_t sum);	/* ones' complement of folded sum */
/* L4 checksum incl. the pseudo header (family 4 or 6) */
uint16_t gn_l4_csum(int family, const uint8_t *src, const uint8_t *dst,
		    uint8_t proto, const void *l4, size_t l4len);

/* ---- builders ----------------------------------------------------------- */

/*
 * Addressing of one frame.  family is 4 or 6; addresses are in network
 * order (4 or 16 bytes).
 */
struct gn_route {
	const uint8_t *smac, *dmac;
	int family;
	const uint8_t *sip, *dip;
	uint16_t ipid;		/* IPv4 identification */
	uint8_t ttl;		/* TTL / hop limit; 0 means 64 */
};

struct gn_tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opts;	/* multiple of 4 bytes, <= 40 */
	size_t optlen;
	const uint8_t *payload;
	size_t plen;
};

/* Each returns the frame length, or 0 if it does not fit in cap. */
size_t gn_build_arp(uint8_t *buf, size_t cap, uint16_t op,
		    const uint8_t *smac, const uint8_t *dmac,
		    const uint8_t *sha, const uint8_t *spa,
		    const uint8_t *tha, const uint8_t *tpa);
size_t gn_build_echo(uint8_t *buf, size_t cap, const struct gn_route *r,
		     bool reply, uint16_t id, uint16_t seq,
		     const uint8_t *data, size_t dlen);
size_t gn_build_ns(uint8_t *buf, size_t cap, const uint8_t *smac,
		   const uint8_t *sip6, const uint8_t *target);
size_t gn_build_na(uint8_t *buf, size_t cap, const uint8_t *smac,
		   const uint8_t *dmac, const uint8_t *target,
		   const uint8_t *dip6, bool solicited);
size_t gn_build_udp(uint8_t *buf, size_t cap, const struct gn_route *r,
		    uint16_t sport, uint16_t dport,
		    const uint8_t *payload, size_t plen);
size_t gn_build_tcp(uint8_t *buf, size_t cap, const struct gn_route *r,
		    const struct gn_tcp_seg *seg);
/* Solicited-node multicast address and MAC for an IPv6 target. */
void gn_solicited_node(const uint8_t *target, uint8_t *ip6, uint8_t *mac);

/* ---- parser ------------------------------------------------------------- */

struct gn_pkt {
	const uint8_t *f;
	size_t len;
	const uint8_t *dmac, *smac;
	uint16_t ethertype;
	enum gn_class cls;
	int family;		/* 0 (not IP), 4 or 6 */
	bool ip_ok;		/* IP header parsed */
	bool l4_ok;		/* L4 header parsed (and not a fragment) */
	bool csum_ok;		/* every checksum present is right */
	const uint8_t *l3;
	size_t l3len;		/* IP packet length (clamped to the frame) */
	const uint8_t *src, *dst;
	uint8_t proto, ttl;
	const uint8_t *l4;
	size_t l4len;
	/* ARP */
	uint16_t arp_op;
	const uint8_t *arp_sha, *arp_spa, *arp_tha, *arp_tpa;
	/* ICMP / ICMPv6 */
	uint8_t icmp_type, icmp_code;
	uint16_t icmp_id, icmp_seq;
	const uint8_t *icmp_data;
	size_t icmp_dlen;
	const uint8_t *nd_target;	/* NS / NA */
	const uint8_t *nd_lladdr;	/* SLLA (NS) / TLLA (NA) option */
	uint8_t nd_flags;		/* NA R/S/O bits */
	/* UDP / TCP */
	uint16_t sport, dport;
	uint32_t tcp_seq, tcp_ack;
	uint8_t tcp_flags;
	uint16_t tcp_win;
	const uint8_t *tcp_opts;
	size_t tcp_optlen;
	const uint8_t *payload;
	size_t plen;
};

/* Parses and classifies a frame; never fails (unknown -> GN_C_OTHER). */
enum gn_class gn_parse(const uint8_t *f, size_t len, struct gn_pkt *p);

struct gn_tcp_opts {
	uint16_t mss;		/* 0 if absent */
	bool ts;
	uint32_t tsval, tsecr;
	int wscale;		/* -1 if absent */
	bool sack_perm;
};
void gn_tcp_parse_opts(const uint8_t *o, size_t len, struct gn_tcp_opts *to);

/* ---- accounting --------------------------------------------------------- */

struct gn_dir_stats {
	uint64_t frames, bytes;
	uint64_t cls_frames[GN_C_MAX];
	uint64_t cls_bytes[GN_C_MAX];
	uint64_t cls_l3_bytes[GN_C_MAX];
	uint64_t ipv4, ipv6;
	uint64_t ipv4_l3_bytes, ipv6_l3_bytes;
	uint64_t l3_bytes;
	uint64_t csum_errors, not_for_us;
};

void gn_account(struct gn_dir_stats *s, const struct gn_pkt *p);

/* ---- engine ------------------------------------------------------------- */

struct gn_cfg {
	const char *ifname;
	uint8_t mac[6];
	bool have_mac, have_ip4, have_ip6, have_peer4, have_peer6;
	uint8_t ip4[4], ip6[16], peer4[4], peer6[16];
	int plen4, plen6;
	unsigned int ping, ping6, ping_size, interval_ms;
	unsigned int udp, udp6, udp_size, udp_interval_us;
	uint16_t udp_port, tcp_port, sport;
	bool tcp_set, tcp6_set;
	uint64_t tcp_bytes, tcp6_bytes;
	bool arp_only, create_only, wait_up, json;
	unsigned int serve_s, timeout_ms, linger_ms;
	const char *pcap;		/* --pcap FILE */
};

struct gn_ping {
	bool enabled;
	uint16_t id;
	unsigned int count, size, sent, received, late, dup;
	uint16_t cur_seq;
	bool waiting;
	int64_t t_sent;
	int64_t *rtt;
};

struct gn_udp {
	bool enabled;
	unsigned int count, sent;
	uint64_t payload_bytes;
};

struct gn_tcp_sample {
	uint32_t tsval;
	int64_t rtt_ns;
};

struct gn_tcp {
	bool enabled;
	int family;
	uint64_t total;			/* payload bytes to send */
	/* state */
	int state;			/* GN_TCP_* below */
	bool event, rst, fin_sent, fin_acked, peer_fin, ts_ok;
	uint32_t iss, irs, rcv_nxt, ts_recent;
	uint64_t snd_una, snd_nxt, snd_max;	/* payload offsets */
	uint32_t snd_wnd;
	unsigned int dupacks;
	bool fr_done;			/* fast retransmit done for fr_una */
	uint64_t fr_una;
	uint16_t peer_mss, mss;
	int64_t syn_t;
	bool syn_rexmit;
	/* RFC 6298 estimator, fed by the timestamp RTT samples */
	bool have_rtt;
	int64_t srtt, rttvar;
	/* results */
	int64_t handshake_rtt;
	uint64_t bytes_sent, segs_sent, data_segs, rexmits, segs_rcvd;
	/* TSval -> send time ring, and samples */
	uint32_t ts_last;
	uint32_t ts_hist_val[1024];
	int64_t ts_hist_t[1024];
	unsigned int ts_hist_n;
	uint32_t last_sampled;
	bool have_sampled;
	struct gn_tcp_sample *samples;
	size_t nsamples, samples_cap;
};

struct gn_ctx;

/* Transport: how frames reach the kernel. */
struct gn_io {
	const char *prog;
	unsigned int tap_flags;		/* extra TUNSETIFF flags */
	/* after the tap is open (c->tapfd): set up the datapath */
	int (*setup)(struct gn_ctx *c);
	/* hand one frame to the kernel; *t_ns = time just before */
	int (*send)(struct gn_ctx *c, const void *f, size_t len, int64_t *t_ns);
	/*
	 * read one frame; wait until deadline (CLOCK_MONOTONIC ns; <= now
	 * means do not wait).  Returns length, 0 on timeout, -1 on error;
	 * *t_ns = time just after the frame was read.
	 */
	ssize_t (*recv)(struct gn_ctx *c, void *buf, size_t cap,
			int64_t deadline, int64_t *t_ns);
	/* stop the kernel from delivering more frames (may be NULL) */
	void (*quiesce)(struct gn_ctx *c);
	void (*teardown)(struct gn_ctx *c);
};

struct gn_ctx {
	struct gn_cfg cfg;
	const struct gn_io *io;
	void *priv;
	int tapfd;
	bool tap_existed;
	struct gn_dir_stats tx, rx;
	bool have_peer4_mac, have_peer6_mac;
	uint8_t peer4_mac[6], peer6_mac[6];
	uint16_t ipid;
	struct gn_ping ping4, ping6;
	struct gn_udp udp4, udp6;
	struct gn_tcp tcp4, tcp6;
	struct gn_tcp *tcp_active;
	uint64_t arp_requests, arp_replies, ns_sent, na_sent;
	uint64_t echo_replies, echo6_replies;
	int64_t t_start, t_end;
	bool ok, interrupted;
	bool draining;		/* final drain: count frames, answer nothing */
	void *pcap;		/* FILE * of --pcap */
	char err[256];
	uint8_t rxbuf[GN_RXBUF_MAX];
	uint8_t txbuf[GN_FRAME_MAX];
};

int64_t gn_now_ns(void);
void gn_set_err(struct gn_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Open /dev/net/tun and attach/create ifname; returns fd or -1 (c->err). */
int gn_tap_open(struct gn_ctx *c, unsigned int flags);
/* The whole program: parse options, run, report.  Returns exit status. */
int gn_main(int argc, char **argv, const struct gn_io *io);

#endif /* VNACCT_GUESTNET_H */
