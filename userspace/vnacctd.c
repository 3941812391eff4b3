// SPDX-License-Identifier: GPL-2.0
/*
 * vnacctd - Prometheus exporter of vnacct: polls the generic netlink family
 * "vnacct" every --interval seconds (libmnl, vnacct-nl.c) and serves the
 * last poll as Prometheus text exposition on /metrics (libmicrohttpd).
 *
 * Label cardinality is bounded: the --top N flows by bytes get a flow
 * label of their own, every other flow is summed into flow="other" per
 * namespace, device and direction.  When the module is not loaded vnacctd
 * keeps serving vnacct_up 0 and its own metrics, and re-resolves the family
 * on every poll until the module is back.  SIGTERM/SIGINT: clean exit 0.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/genetlink.h>
#include <microhttpd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <time.h>

#include "vnacct-nl.h"

#define DEFAULT_LISTEN	"127.0.0.1:9469"
#define MAX_REASONS	4
#define MAX_HOOKS	64

static const char *prog = "vnacctd";

/* one exported series set: a top-N flow, or the "other" aggregate */
struct agg {
	uint32_t netns, ifindex;
	uint8_t dir;
	char flow[128];
	uint64_t packets, bytes, gso_packets, gso_segs;
	uint64_t copy_bytes[VNACCT_COPY_COUNT], copy_ns[VNACCT_COPY_COUNT];
	uint64_t drops[MAX_REASONS + 1];	/* last slot: other reasons */
	uint32_t reason[MAX_REASONS];
	unsigned int nreasons;
	struct hsum res, drtt, stage[VNACCT_STAGE_COUNT];
	uint64_t stage_packets[VNACCT_STAGE_COUNT];
	uint64_t stage_bytes[VNACCT_STAGE_COUNT];
	unsigned int stages;
};

struct hook {
	char name[64], kind[16];
	uint64_t hits, ns;
};

struct stats {
	uint64_t v[VNACCT_A_STATS_MAX + 1];
	bool have[VNACCT_A_STATS_MAX + 1];
	struct hook hooks[MAX_HOOKS];
	unsigned int nhooks;
};

static struct {
	unsigned long top;
	double interval;
	struct sockaddr_storage addr;
	char listen[80];
} cfg = { .top = 10, .interval = 5 };

/* the daemon's own counters */
static uint64_t polls, poll_errors, reconnects, dumps_intr;
static double last_poll;
static uint32_t own_netns;

/* the page served: replaced after each poll, under page_lock */
static pthread_mutex_t page_lock = PTHREAD_MUTEX_INITIALIZER;
static char *page;
static size_t page_len;
static uint64_t scrapes;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vnacctd [--listen ADDR:PORT] [--interval SECS] [--top N]\n"
		"  --listen ADDR:PORT   HTTP address of /metrics (default %s;\n"
		"                       [::]:9469 or 0.0.0.0:9469 for remote\n"
		"                       scrapers)\n"
		"  --interval SECS      netlink poll period, 0.1 .. 3600 (default 5)\n"
		"  --top N              flows by bytes with their own flow label,\n"
		"                       0 .. 1000, the rest sum into flow=\"other\"\n"
		"                       (default 10)\n"
		"  -h, --help           this text\n", DEFAULT_LISTEN);
}

static int parse_listen(const char *s)
{
	struct sockaddr_in *a4 = (struct sockaddr_in *)&cfg.addr;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&cfg.addr;
	char host[64], *colon, *end;
	const char *h;
	unsigned long port;

	if (strlen(s) >= sizeof(host))
		return -1;
	strcpy(host, s);
	colon = strrchr(host, ':');
	if (!colon)
		return -1;
	*colon = 0;
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || !colon[1] || port > 65535)
		return -1;
	h = host;
	memset(&cfg.addr, 0, sizeof(cfg.addr));
	if (h[0] == '[' && colon > host && colon[-1] == ']') {
		colon[-1] = 0;
		h++;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons(port);
		if (inet_pton(AF_INET6, h, &a6->sin6_addr) != 1)
			return -1;
	} else {
		a4->sin_family = AF_INET;
		a4->sin_port = htons(port);
		if (inet_pton(AF_INET, h, &a4->sin_addr) != 1)
			return -1;
	}
	snprintf(cfg.listen, sizeof(cfg.listen), "%s", s);
	return 0;
}

/* 0, 1 for --help, or 2 (bad argument) */
static int parse_args(int argc, char **argv)
{
	int i;

	if (parse_listen(DEFAULT_LISTEN))
		return 2;
	for (i = 1; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;

		if (!strcmp(k, "-h") || !strcmp(k, "--help"))
			return 1;
		if (strcmp(k, "--listen") && strcmp(k, "--interval") &&
		    strcmp(k, "--top")) {
			fprintf(stderr, "%s: bad argument: unknown option '%s'\n",
				prog, k);
			return 2;
		}
		if (!v) {
			fprintf(stderr, "%s: bad argument: missing value after %s\n",
				prog, k);
			return 2;
		}
		i++;
		errno = 0;
		if (!strcmp(k, "--listen") && parse_listen(v))
			goto bad;
		if (!strcmp(k, "--interval")) {
			cfg.interval = strtod(v, &end);
			if (errno || *end || !(cfg.interval >= 0.1 &&
					       cfg.interval <= 3600))
				goto bad;
		}
		if (!strcmp(k, "--top")) {
			cfg.top = strtoul(v, &end, 10);
			if (errno || *end || !*v || *v == '-' || cfg.top > 1000)
				goto bad;
		}
		continue;
bad:
		fprintf(stderr, "%s: bad argument: %s '%s'\n", prog, k, v);
		return 2;
	}
	return 0;
}

/* ---- polling ---- */

static int stats_hook(const struct nlattr *a, void *data)
{
	struct stats *st = data;
	struct vnl_hook h;
	int r = parse_hook(a, &h);

	if (r <= 0 || st->nhooks >= MAX_HOOKS)
		return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	snprintf(st->hooks[st->nhooks].name, sizeof(st->hooks[0].name), "%s",
		 h.name);
	snprintf(st->hooks[st->nhooks].kind, sizeof(st->hooks[0].kind), "%s",
		 h.kind);
	st->hooks[st->nhooks].hits = h.hits;
	st->hooks[st->nhooks++].ns = h.ns;
	return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a[VNACCT_A_STATS_MAX + 1] = { 0 };
	struct tb t = { a, VNACCT_A_STATS_MAX };
	struct stats *st = data;
	int i;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tb_cb, &t) < 0)
		return MNL_CB_ERROR;
	for (i = 0; i <= VNACCT_A_STATS_MAX; i++) {
		st->have[i] = a[i] && i != VNACCT_A_STATS_HOOK;
		st->v[i] = get_u64(a[i]);
	}
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), stats_hook, st);
}

/*
 * One poll: stats and flows.  Returns 0, or -1 after closing the socket
 * (module unloaded, or any other error: the next poll re-resolves).
 */
static int poll_module(struct nl *nl, struct stats *st, struct flows *fl)
{
	if (!nl->sk) {
		if (nl_open(nl) < 0)
			return -1;
		reconnects++;
		fprintf(stderr, "%s: connected to genl family %s (id %u)\n",
			prog, VNACCT_GENL_NAME, nl->family);
	}
	memset(st, 0, sizeof(*st));
	if (nl_run(nl, nl_msg(nl, nl->family, VNACCT_CMD_GET_STATS, 0),
		   stats_cb, st) < 0 || dump_flows(nl, fl, 0) < 0) {
		fprintf(stderr, "%s: poll: %s%s%s; reconnecting\n", prog,
			strerror(errno), nl->extack[0] ? ": " : "", nl->extack);
		nl_close(nl);
		return -1;
	}
	if (fl->intr)
		dumps_intr++;
	return 0;
}

/* ---- aggregation ---- */

static void flow_label(const struct flow *f, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	const char *p;

	if (!f->family || !inet_ntop(f->family, f->saddr, s, sizeof(s)) ||
	    !inet_ntop(f->family, f->daddr, d, sizeof(d))) {
		snprintf(buf, len, "non-ip ethertype 0x%04x", f->ethertype);
		return;
	}
	switch (f->proto) {
	case 6: p = "tcp"; break;
	case 17: p = "udp"; break;
	case 1: p = "icmp"; break;
	case 58: p = "icmpv6"; break;
	default: p = NULL;
	}
	if (f->family == AF_INET6) {
		if (p)
			snprintf(buf, len, "%s [%s]:%u > [%s]:%u", p, s, f->sport,
				 d, f->dport);
		else
			snprintf(buf, len, "proto%u [%s]:%u > [%s]:%u", f->proto,
				 s, f->sport, d, f->dport);
	} else if (p) {
		snprintf(buf, len, "%s %s:%u > %s:%u", p, s, f->sport, d,
			 f->dport);
	} else {
		snprintf(buf, len, "proto%u %s:%u > %s:%u", f->proto, s,
			 f->sport, d, f->dport);
	}
}

static void hsum_add(struct hsum *a, const struct hsum *h, bool first)
{
	int i;

	a->count += h->count;
	a->sum += h->sum;
	for (i = 0; i < VNL_LE_N; i++)
		a->le[i] += h->le[i];
	/* buckets only if every histogram summed in had them */
	a->buckets = (first || a->buckets) && (h->buckets || !h->count);
}

static void agg_add(struct agg *a, const struct flow *f, bool first)
{
	unsigned int i;

	a->packets += f->packets;
	a->bytes += f->bytes;
	a->gso_packets += f->gso_packets;
	a->gso_segs += f->gso_segs;
	for (i = 0; i < VNACCT_COPY_COUNT; i++) {
		a->copy_bytes[i] += f->copy_bytes[i];
		a->copy_ns[i] += f->copy_ns[i];
	}
	if (f->drops) {
		for (i = 0; i < a->nreasons && a->reason[i] != f->drop_reason;
		     i++)
			;
		if (i == a->nreasons && i < MAX_REASONS)
			a->reason[a->nreasons++] = f->drop_reason;
		a->drops[i] += f->drops;
	}
	hsum_add(&a->res, &f->res, first);
	hsum_add(&a->drtt, &f->drtt, first);
	for (i = 0; i < VNACCT_STAGE_COUNT; i++) {
		if (!(f->stages & (1u << i)))
			continue;
		hsum_add(&a->stage[i], &f->stage[i], !(a->stages & (1u << i)));
		a->stage_packets[i] += f->stage_packets[i];
		a->stage_bytes[i] += f->stage_bytes[i];
		a->stages |= 1u << i;
	}
}

static const struct flow *cmp_base;

static int by_bytes(const void *x, const void *y)
{
	const struct flow *a = &cmp_base[*(const size_t *)x];
	const struct flow *b = &cmp_base[*(const size_t *)y];

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->id < b->id ? -1 : a->id > b->id;
}

/*
 * The top cfg.top flows by bytes, each its own agg, then one "other" agg
 * per namespace, device and direction.  Returns the number of aggs.
 */
static size_t aggregate(const struct flows *fl, struct agg **out)
{
	size_t ntop = fl->n < cfg.top ? fl->n : cfg.top, cap = ntop + 8;
	size_t *idx = calloc(fl->n + 1, sizeof(*idx));
	struct agg *v = calloc(cap, sizeof(*v));
	size_t i, j, n = 0;

	if (!idx || !v) {
		free(idx);
		free(v);
		*out = NULL;
		return 0;
	}
	for (i = 0; i < fl->n; i++)
		idx[i] = i;
	cmp_base = fl->v;
	qsort(idx, fl->n, sizeof(*idx), by_bytes);
	for (i = 0; i < fl->n; i++) {
		const struct flow *f = &fl->v[idx[i]];
		struct agg *a = NULL;

		if (i >= ntop)
			for (j = ntop; j < n; j++)
				if (v[j].netns == f->netns &&
				    v[j].ifindex == f->ifindex &&
				    v[j].dir == f->dir) {
					a = &v[j];
					break;
				}
		if (!a && n == cap) {
			/* one "other" per namespace, device, direction */
			struct agg *w = realloc(v, 2 * cap * sizeof(*v));

			if (!w)
				break;
			memset(w + cap, 0, cap * sizeof(*v));
			v = w;
			cap *= 2;
		}
		if (!a) {
			a = &v[n++];
			a->netns = f->netns;
			a->ifindex = f->ifindex;
			a->dir = f->dir % 3;
			if (i < ntop)
				flow_label(f, a->flow, sizeof(a->flow));
			else
				strcpy(a->flow, "other");
			agg_add(a, f, true);
		} else {
			agg_add(a, f, false);
		}
	}
	free(idx);
	*out = v;
	return n;
}

/* ---- exposition ---- */

/* a label value, escaped as the text format wants */
static void esc(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', o);
		if (*s == '\n')
			fputs("\\n", o);
		else
			fputc(*s, o);
	}
}

static void help(FILE *o, const char *name, const char *type,
		 const char *text)
{
	fprintf(o, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void labels(FILE *o, const struct agg *a)
{
	char dev[IF_NAMESIZE];

	if (a->netns != own_netns || !if_indextoname(a->ifindex, dev))
		snprintf(dev, sizeof(dev), "if%u", a->ifindex);
	fprintf(o, "netns=\"%u\",device=\"", a->netns);
	esc(o, dev);
	fprintf(o, "\",direction=\"%s\",flow=\"", dir_names[a->dir % 3]);
	esc(o, a->flow);
	fputc('"', o);
}

static void seconds(FILE *o, uint64_t ns)
{
	fprintf(o, "%" PRIu64 ".%09" PRIu64, ns / 1000000000, ns % 1000000000);
}

/* one histogram's samples; @extra: more labels ("stage=\"x\"") or "" */
static void hist(FILE *o, const char *name, const struct agg *a,
		 const char *extra, const struct hsum *h)
{
	uint64_t cum = 0;
	int i;

	for (i = 0; h->buckets && i < VNL_LE_N; i++) {
		cum += h->le[i];
		fprintf(o, "%s_bucket{", name);
		labels(o, a);
		fprintf(o, "%s%s,le=\"%g\"} %" PRIu64 "\n", *extra ? "," : "",
			extra, vnl_le_ns[i] / 1e9, cum < h->count ? cum :
			h->count);
	}
	fprintf(o, "%s_bucket{", name);
	labels(o, a);
	fprintf(o, "%s%s,le=\"+Inf\"} %" PRIu64 "\n%s_sum{", *extra ? "," : "",
		extra, h->count, name);
	labels(o, a);
	fprintf(o, "%s%s} ", *extra ? "," : "", extra);
	seconds(o, h->sum);
	fprintf(o, "\n%s_count{", name);
	labels(o, a);
	fprintf(o, "%s%s} %" PRIu64 "\n", *extra ? "," : "", extra, h->count);
}

enum fld { F_PACKETS, F_BYTES, F_GSO_PACKETS, F_GSO_SEGS };

static void per_flow(FILE *o, const struct agg *v, size_t n, const char *name,
		     const char *text, enum fld fld)
{
	size_t i;

	help(o, name, "counter", text);
	for (i = 0; i < n; i++) {
		const uint64_t x[] = { v[i].packets, v[i].bytes,
				       v[i].gso_packets, v[i].gso_segs };

		fprintf(o, "%s{", name);
		labels(o, &v[i]);
		fprintf(o, "} %" PRIu64 "\n", x[fld]);
	}
}

enum kind { K_COPY_BYTES, K_COPY_SECONDS, K_STAGE_PACKETS, K_STAGE_BYTES };

/* a counter per flow and copy kind (label kind) or stage (label stage) */
static void per_kind(FILE *o, const struct agg *v, size_t n, const char *name,
		     const char *text, enum kind what)
{
	bool copy = what == K_COPY_BYTES || what == K_COPY_SECONDS;
	int k, nk = copy ? VNACCT_COPY_COUNT : VNACCT_STAGE_COUNT;
	uint64_t x;
	size_t i;

	help(o, name, "counter", text);
	for (i = 0; i < n; i++)
		for (k = 0; k < nk; k++) {
			if (!copy && !(v[i].stages & (1u << k)))
				continue;
			x = what == K_COPY_BYTES ? v[i].copy_bytes[k] :
			    what == K_COPY_SECONDS ? v[i].copy_ns[k] :
			    what == K_STAGE_PACKETS ? v[i].stage_packets[k] :
			    v[i].stage_bytes[k];
			fprintf(o, "%s{", name);
			labels(o, &v[i]);
			fprintf(o, ",%s=\"%s\"} ", copy ? "kind" : "stage",
				copy ? copy_names[k] : stage_names[k]);
			if (what == K_COPY_SECONDS)
				seconds(o, x);
			else
				fprintf(o, "%" PRIu64, x);
			fputc('\n', o);
		}
}

static void flow_metrics(FILE *o, const struct agg *v, size_t n)
{
	char extra[48];
	size_t i;
	int k;

	per_flow(o, v, n, "vnacct_packets_total",
		 "Packets of the flow that left the host or were dropped.",
		 F_PACKETS);
	per_flow(o, v, n, "vnacct_bytes_total",
		 "IP bytes of those packets.", F_BYTES);
	per_flow(o, v, n, "vnacct_gso_packets_total",
		 "GSO super-packets among the packets.", F_GSO_PACKETS);
	per_flow(o, v, n, "vnacct_gso_segments_total",
		 "Segments the GSO super-packets stood for.", F_GSO_SEGS);
	help(o, "vnacct_drops_total", "counter",
	     "Packets dropped inside the host, by the kernel's skb_drop_reason "
	     "(number) of each flow's last drop.");
	for (i = 0; i < n; i++)
		for (k = 0; k <= MAX_REASONS; k++) {
			if (!v[i].drops[k])
				continue;
			fprintf(o, "vnacct_drops_total{");
			labels(o, &v[i]);
			if (k < MAX_REASONS)
				fprintf(o, ",reason=\"%u\"} %" PRIu64 "\n",
					v[i].reason[k], v[i].drops[k]);
			else
				fprintf(o, ",reason=\"other\"} %" PRIu64 "\n",
					v[i].drops[k]);
		}
	per_kind(o, v, n, "vnacct_copied_bytes_total",
		 "Bytes of packet data the host copied, by kind of copy.",
		 K_COPY_BYTES);
	per_kind(o, v, n, "vnacct_copy_seconds_total",
		 "Time the host spent copying packet data, by kind of copy.",
		 K_COPY_SECONDS);
	per_kind(o, v, n, "vnacct_stage_packets_total",
		 "Packets through a stage of the host path.", K_STAGE_PACKETS);
	per_kind(o, v, n, "vnacct_stage_bytes_total",
		 "IP bytes through a stage of the host path.", K_STAGE_BYTES);
	help(o, "vnacct_stage_residency_seconds", "histogram",
	     "Time packets spent in a stage of the host path.");
	for (i = 0; i < n; i++)
		for (k = 0; k < VNACCT_STAGE_COUNT; k++) {
			if (!(v[i].stages & (1u << k)))
				continue;
			snprintf(extra, sizeof(extra), "stage=\"%s\"",
				 stage_names[k]);
			hist(o, "vnacct_stage_residency_seconds", &v[i], extra,
			     &v[i].stage[k]);
		}
	help(o, "vnacct_residency_seconds", "histogram",
	     "Host residency of packets, entry to exit.");
	for (i = 0; i < n; i++)
		hist(o, "vnacct_residency_seconds", &v[i], "", &v[i].res);
	help(o, "vnacct_delta_rtt_seconds", "histogram",
	     "Delta-RTT: host time of the request-response exchanges the flow "
	     "requested.");
	for (i = 0; i < n; i++)
		if (v[i].drtt.count)
			hist(o, "vnacct_delta_rtt_seconds", &v[i], "",
			     &v[i].drtt);
}

static const struct {
	int attr;
	const char *name, *type, *help;
} mstats[] = {
	{ VNACCT_A_STATS_PACKETS_TRACKED, "vnacct_packets_tracked_total",
	  "counter", "Packets vnacct started to follow." },
	{ VNACCT_A_STATS_PACKETS_EXITED, "vnacct_packets_exited_total",
	  "counter", "Packets followed to their exit." },
	{ VNACCT_A_STATS_PACKETS_UNTRACKED, "vnacct_packets_untracked_total",
	  "counter", "Packets not followed because the tracker was full." },
	{ VNACCT_A_STATS_PACKETS_MIDPATH, "vnacct_packets_midpath_total",
	  "counter", "Packets first seen mid-path." },
	{ VNACCT_A_STATS_PACKETS_SAMPLED_OUT,
	  "vnacct_packets_sampled_out_total", "counter",
	  "Packets skipped by sampling." },
	{ VNACCT_A_STATS_PACKETS_LOST_STALE, "vnacct_packets_lost_stale_total",
	  "counter", "Followed packets whose skb was freed unseen." },
	{ VNACCT_A_STATS_PACKETS_LOST_REUSED,
	  "vnacct_packets_lost_reused_total", "counter",
	  "Followed packets whose skb address was reused by a new skb." },
	{ VNACCT_A_STATS_PACKETS_CLONED, "vnacct_packets_cloned_total",
	  "counter", "Clones and copies followed from the frame they were "
	  "made from." },
	{ VNACCT_A_STATS_KPROBES_MISSED, "vnacct_kprobes_missed_total",
	  "counter", "Probe hits the kprobes core skipped (packets unseen)." },
	{ VNACCT_A_STATS_PACKETS_IN_FLIGHT, "vnacct_packets_in_flight",
	  "gauge", "Packets being followed now." },
	{ VNACCT_A_STATS_FLOWS, "vnacct_flows", "gauge",
	  "Flows in the module's table (all namespaces)." },
	{ VNACCT_A_STATS_FLOWS_MAX, "vnacct_flows_max", "gauge",
	  "Capacity of the flow table." },
	{ VNACCT_A_STATS_FLOWS_FULL, "vnacct_flows_full_total", "counter",
	  "Packet exits not recorded because the flow table was full." },
	{ VNACCT_A_STATS_FLOWS_EVICTED, "vnacct_flows_evicted_total",
	  "counter", "Idle flows removed." },
	{ VNACCT_A_STATS_MEMORY_BYTES, "vnacct_memory_bytes", "gauge",
	  "Memory the module allocated at load." },
	{ VNACCT_A_STATS_ALERTS_SENT, "vnacct_alerts_sent_total", "counter",
	  "Residency threshold notifications sent." },
	{ VNACCT_A_STATS_ALERTS_DROPPED, "vnacct_alerts_dropped_total",
	  "counter", "Residency threshold crossings not notified (rate limit)." },
};

static void module_metrics(FILE *o, const struct stats *st)
{
	unsigned int i;

	for (i = 0; i < sizeof(mstats) / sizeof(mstats[0]); i++) {
		if (!st->have[mstats[i].attr])
			continue;
		help(o, mstats[i].name, mstats[i].type, mstats[i].help);
		fprintf(o, "%s %" PRIu64 "\n", mstats[i].name,
			st->v[mstats[i].attr]);
	}
	help(o, "vnacct_probe_hits_total", "counter",
	     "Times each of the module's probes ran.");
	for (i = 0; i < st->nhooks; i++) {
		fprintf(o, "vnacct_probe_hits_total{hook=\"");
		esc(o, st->hooks[i].name);
		fprintf(o, "\",kind=\"");
		esc(o, st->hooks[i].kind);
		fprintf(o, "\"} %" PRIu64 "\n", st->hooks[i].hits);
	}
	help(o, "vnacct_probe_seconds_total", "counter",
	     "Time spent in each of the module's probes.");
	for (i = 0; i < st->nhooks; i++) {
		fprintf(o, "vnacct_probe_seconds_total{hook=\"");
		esc(o, st->hooks[i].name);
		fprintf(o, "\",kind=\"");
		esc(o, st->hooks[i].kind);
		fprintf(o, "\"} ");
		seconds(o, st->hooks[i].ns);
		fputc('\n', o);
	}
}

static void own_metrics(FILE *o, bool up, size_t nflows, size_t naggs)
{
	help(o, "vnacct_up", "gauge",
	     "1 if the last poll of the vnacct module succeeded, 0 if the "
	     "module is not loaded or the poll failed.");
	fprintf(o, "vnacct_up %d\n", up);
	help(o, "vnacctd_polls_total", "counter", "Polls of the module.");
	fprintf(o, "vnacctd_polls_total %" PRIu64 "\n", polls);
	help(o, "vnacctd_poll_errors_total", "counter",
	     "Polls that failed (module absent or netlink error).");
	fprintf(o, "vnacctd_poll_errors_total %" PRIu64 "\n", poll_errors);
	help(o, "vnacctd_connects_total", "counter",
	     "Times the generic netlink family was resolved.");
	fprintf(o, "vnacctd_connects_total %" PRIu64 "\n", reconnects);
	help(o, "vnacctd_dumps_interrupted_total", "counter",
	     "Flow dumps still interrupted after every retry.");
	fprintf(o, "vnacctd_dumps_interrupted_total %" PRIu64 "\n", dumps_intr);
	help(o, "vnacctd_last_poll_timestamp_seconds", "gauge",
	     "Unix time of the last poll.");
	fprintf(o, "vnacctd_last_poll_timestamp_seconds %.3f\n", last_poll);
	help(o, "vnacctd_flows_polled", "gauge",
	     "Flows the last poll returned (visible to vnacctd).");
	fprintf(o, "vnacctd_flows_polled %zu\n", nflows);
	help(o, "vnacctd_series_flows", "gauge",
	     "Flow label values exported: top-N flows plus \"other\" "
	     "aggregates.");
	fprintf(o, "vnacctd_series_flows %zu\n", naggs);
	help(o, "vnacctd_scrapes_total", "counter", "HTTP requests of /metrics.");
	pthread_mutex_lock(&page_lock);
	fprintf(o, "vnacctd_scrapes_total %" PRIu64 "\n", scrapes);
	pthread_mutex_unlock(&page_lock);
}

static void render(bool up, const struct stats *st, const struct flows *fl)
{
	struct agg *v = NULL;
	size_t n = 0, len = 0;
	char *buf = NULL;
	FILE *o = open_memstream(&buf, &len);

	if (!o)
		return;
	if (up)
		n = aggregate(fl, &v);
	own_metrics(o, up, up ? fl->n : 0, n);
	if (up) {
		module_metrics(o, st);
		flow_metrics(o, v, n);
	}
	free(v);
	if (fclose(o)) {
		free(buf);
		return;
	}
	pthread_mutex_lock(&page_lock);
	free(page);
	page = buf;
	page_len = len;
	pthread_mutex_unlock(&page_lock);
}

/* ---- HTTP ---- */

static enum MHD_Result answer(void *cls, struct MHD_Connection *c,
			      const char *url, const char *method,
			      const char *version, const char *upload,
			      size_t *upload_size, void **ctx)
{
	static const char index_page[] =
		"<html><head><title>vnacctd</title></head><body>"
		"<h1>vnacctd</h1><p><a href=\"/metrics\">/metrics</a></p>"
		"</body></html>\n";
	static const char not_found[] = "not found\n";
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned int code = MHD_HTTP_OK;
	const char *type = "text/plain; version=0.0.4; charset=utf-8";

	(void)cls;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)ctx;
	if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
		r = MHD_create_response_from_buffer(0, NULL,
						    MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_METHOD_NOT_ALLOWED;
		if (r)
			MHD_add_response_header(r, "Allow", "GET, HEAD");
	} else if (!strcmp(url, "/metrics")) {
		pthread_mutex_lock(&page_lock);
		scrapes++;
		r = MHD_create_response_from_buffer(page_len, page,
						    MHD_RESPMEM_MUST_COPY);
		pthread_mutex_unlock(&page_lock);
	} else if (!strcmp(url, "/")) {
		r = MHD_create_response_from_buffer(sizeof(index_page) - 1,
						    (void *)index_page,
						    MHD_RESPMEM_PERSISTENT);
		type = "text/html; charset=utf-8";
	} else {
		r = MHD_create_response_from_buffer(sizeof(not_found) - 1,
						    (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
		code = MHD_HTTP_NOT_FOUND;
	}
	if (!r)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(c, code, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	struct flows fl = { 0 };
	struct MHD_Daemon *d;
	struct stats st;
	struct timespec ts;
	struct stat ns;
	struct nl nl;
	sigset_t set;
	int sig, err;
	bool up;

	err = parse_args(argc, argv);
	if (err == 1) {
		usage(stdout);
		return 0;
	}
	if (err) {
		fprintf(stderr, "try 'vnacctd --help'\n");
		return 2;
	}
	if (!stat("/proc/self/ns/net", &ns))
		own_netns = ns.st_ino;
	memset(&nl, 0, sizeof(nl));
	/* the HTTP thread inherits the mask: signals come to sigtimedwait */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	render(false, NULL, NULL);
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD |
			     MHD_USE_ERROR_LOG |
			     (cfg.addr.ss_family == AF_INET6 ?
			      MHD_USE_IPv6 : 0),
			     0, NULL, NULL, answer, NULL,
			     MHD_OPTION_SOCK_ADDR, &cfg.addr,
			     MHD_OPTION_CONNECTION_LIMIT, 64,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30,
			     MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "%s: cannot listen on %s: %s\n", prog,
			cfg.listen, strerror(errno));
		return 1;
	}
	fprintf(stderr, "%s: serving http://%s/metrics, polling every %g s, "
		"top %lu flows\n", prog, cfg.listen, cfg.interval, cfg.top);
	for (;;) {
		struct timespec now;

		polls++;
		up = !poll_module(&nl, &st, &fl);
		if (!up)
			poll_errors++;
		clock_gettime(CLOCK_REALTIME, &now);
		last_poll = now.tv_sec + now.tv_nsec / 1e9;
		render(up, &st, &fl);
		ts.tv_sec = (time_t)cfg.interval;
		ts.tv_nsec = (long)((cfg.interval - ts.tv_sec) * 1e9);
		do {
			sig = sigtimedwait(&set, NULL, &ts);
		} while (sig < 0 && errno == EINTR);
		if (sig == SIGTERM || sig == SIGINT)
			break;
	}
	fprintf(stderr, "%s: %s, exiting\n", prog, strsignal(sig));
	MHD_stop_daemon(d);
	if (nl.sk)
		nl_close(&nl);
	free(fl.v);
	free(page);
	return 0;
}
