// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct - command-line client of the vnacct generic netlink family
 * (include/uapi/linux/vnacct.h): flows, stats, top, reset, config.
 * Built on libmnl; the netlink requests and reply parsers are shared with
 * vnacctd in vnacct-nl.c.
 *
 * Exit codes: 0 success, 1 error, 2 bad argument, 3 module not loaded,
 * 4 permission denied.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "vnacct-nl.h"

#define EXIT_ERR	1
#define EXIT_USAGE	2
#define EXIT_NOMOD	3
#define EXIT_PERM	4

enum fmt { FMT_TABLE, FMT_JSON, FMT_CSV };

/* sort keys of flows and top; all but "id" sort largest first */
static const char *const sort_names[] = {
	"id", "packets", "bytes", "drops", "res-p50", "res-p90", "res-p99",
	"res-p999", "res-max", "drtt-p50", "drtt-p99", "drtt-n", NULL,
};

struct opts {
	const char *cmd;
	enum fmt fmt;
	/* flows / top */
	unsigned int ifindex;
	const char *dev;
	int proto;		/* -1: any */
	int dir;		/* -1: any */
	int src_family, dst_family;
	unsigned char src[16], dst[16];
	int sort;		/* index in sort_names, -1: default */
	unsigned long limit;	/* 0: all */
	double delay;
	unsigned long count;	/* top refreshes, 0: until q */
	/* config */
	int enabled;		/* -1: unchanged */
	long long sample, timeout, threshold;	/* -1: unchanged */
	const char *filter;	/* NULL: unchanged, "none": clear */
};

static const char *prog = "vnacct";

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vnacct [--json|--csv] COMMAND [ARGS]\n"
		"  flows [dev IFNAME] [proto P] [dir D] [src ADDR] [dst ADDR]\n"
		"        [sort KEY] [-n N]   per-flow counters (KEY: id packets bytes\n"
		"                            drops res-p50 res-p90 res-p99 res-p999\n"
		"                            res-max drtt-p50 drtt-p99 drtt-n)\n"
		"  stats                     the module's own counters and hooks\n"
		"  top [-d SECS] [-c COUNT] [-n N] [sort KEY] [filters as flows]\n"
		"                            live view, highest delta-RTT or residency\n"
		"                            first; q quits\n"
		"  reset                     remove every flow (CAP_NET_ADMIN)\n"
		"  config [sample N] [timeout SECS] [filter IFNAME|none]\n"
		"         [enable|disable] [threshold NS]\n"
		"                            show, or change (CAP_NET_ADMIN)\n"
		"  --json, --csv             machine-readable output (read commands)\n"
		"  -h, --help                this text\n"
		"exit: 0 ok, 1 error, 2 bad argument, 3 module not loaded,\n"
		"      4 permission denied\n");
}

static int bad_arg(const char *what, const char *val)
{
	if (val)
		fprintf(stderr, "%s: bad argument: %s '%s'\n", prog, what, val);
	else
		fprintf(stderr, "%s: bad argument: %s\n", prog, what);
	return -EXIT_USAGE;
}

static int parse_u64(const char *s, unsigned long long max,
		     unsigned long long *v)
{
	char *end;

	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno || *end || *v > max)
		return -1;
	return 0;
}

static int parse_proto(const char *s)
{
	static const struct { const char *n; int p; } t[] = {
		{ "tcp", 6 }, { "udp", 17 }, { "icmp", 1 }, { "icmpv6", 58 },
		{ "non-ip", 256 },
	};
	unsigned long long v;
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(s, t[i].n))
			return t[i].p;
	if (!parse_u64(s, 255, &v))
		return (int)v;
	return -1;
}

static int parse_dir(const char *s)
{
	if (!strcmp(s, "local"))
		return VNACCT_FLOW_DIR_LOCAL;
	if (!strcmp(s, "to_guest") || !strcmp(s, "to-guest"))
		return VNACCT_FLOW_DIR_TO_GUEST;
	if (!strcmp(s, "from_guest") || !strcmp(s, "from-guest"))
		return VNACCT_FLOW_DIR_FROM_GUEST;
	return -1;
}

static int parse_addr(const char *s, int *family, unsigned char *a)
{
	if (inet_pton(AF_INET, s, a) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, a) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

/*
 * Parses the command line into @o.  Returns 0, 1 for --help, or
 * -EXIT_USAGE after printing which argument is wrong.
 */
static int parse_args(int argc, char **argv, struct opts *o)
{
	unsigned long long v;
	int i, j;

	memset(o, 0, sizeof(*o));
	o->proto = o->dir = o->sort = o->enabled = -1;
	o->sample = o->timeout = o->threshold = -1;
	o->delay = 2;
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			o->fmt = FMT_JSON;
		else if (!strcmp(argv[i], "--csv"))
			o->fmt = FMT_CSV;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
		else
			return bad_arg("unknown option", argv[i]);
	}
	if (i >= argc)
		return bad_arg("missing command (flows, stats, top, reset, config)",
			       NULL);
	o->cmd = argv[i++];
	if (strcmp(o->cmd, "flows") && strcmp(o->cmd, "stats") &&
	    strcmp(o->cmd, "top") && strcmp(o->cmd, "reset") &&
	    strcmp(o->cmd, "config"))
		return bad_arg("unknown command", o->cmd);
	for (; i < argc; i++) {
		const char *k = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		bool flows = !strcmp(o->cmd, "flows") || !strcmp(o->cmd, "top");
		bool config = !strcmp(o->cmd, "config");

		if (!strcmp(k, "--json")) {
			o->fmt = FMT_JSON;
			continue;
		}
		if (!strcmp(k, "--csv")) {
			o->fmt = FMT_CSV;
			continue;
		}
		if (!strcmp(k, "-h") || !strcmp(k, "--help"))
			return 1;
		if (config && !strcmp(k, "enable")) {
			o->enabled = 1;
			continue;
		}
		if (config && !strcmp(k, "disable")) {
			o->enabled = 0;
			continue;
		}
		if (!(flows || config) ||
		    !(flows ? (!strcmp(k, "dev") || !strcmp(k, "proto") ||
			       !strcmp(k, "dir") || !strcmp(k, "src") ||
			       !strcmp(k, "dst") || !strcmp(k, "sort") ||
			       !strcmp(k, "-n") ||
			       (!strcmp(o->cmd, "top") &&
				(!strcmp(k, "-d") || !strcmp(k, "-c")))) :
		      (!strcmp(k, "sample") || !strcmp(k, "timeout") ||
		       !strcmp(k, "filter") || !strcmp(k, "threshold"))))
			return bad_arg("unknown argument", k);
		if (!val)
			return bad_arg("missing value after", k);
		i++;
		if (!strcmp(k, "dev")) {
			o->dev = val;
			if (strlen(val) >= IF_NAMESIZE)
				return bad_arg("dev", val);
		} else if (!strcmp(k, "proto")) {
			o->proto = parse_proto(val);
			if (o->proto < 0)
				return bad_arg("proto", val);
		} else if (!strcmp(k, "dir")) {
			o->dir = parse_dir(val);
			if (o->dir < 0)
				return bad_arg("dir", val);
		} else if (!strcmp(k, "src")) {
			if (parse_addr(val, &o->src_family, o->src))
				return bad_arg("src", val);
		} else if (!strcmp(k, "dst")) {
			if (parse_addr(val, &o->dst_family, o->dst))
				return bad_arg("dst", val);
		} else if (!strcmp(k, "sort")) {
			for (j = 0; sort_names[j] && strcmp(sort_names[j], val); j++)
				;
			if (!sort_names[j])
				return bad_arg("sort", val);
			o->sort = j;
		} else if (!strcmp(k, "-n")) {
			if (parse_u64(val, 1000000000, &v) || !v)
				return bad_arg("-n", val);
			o->limit = v;
		} else if (!strcmp(k, "-c")) {
			if (parse_u64(val, 1000000000, &v) || !v)
				return bad_arg("-c", val);
			o->count = v;
		} else if (!strcmp(k, "-d")) {
			char *end;

			o->delay = strtod(val, &end);
			if (*end || !(o->delay >= 0.1 && o->delay <= 3600))
				return bad_arg("-d", val);
		} else if (!strcmp(k, "sample")) {
			if (parse_u64(val, 65536, &v) || !v)
				return bad_arg("sample (1..65536)", val);
			o->sample = v;
		} else if (!strcmp(k, "timeout")) {
			if (parse_u64(val, 86400, &v) || !v)
				return bad_arg("timeout (1..86400 s)", val);
			o->timeout = v;
		} else if (!strcmp(k, "threshold")) {
			if (parse_u64(val, 3600000000000ULL, &v))
				return bad_arg("threshold (0..3600000000000 ns)",
					       val);
			o->threshold = v;
		} else if (!strcmp(k, "filter")) {
			if (!*val || strlen(val) >= IF_NAMESIZE)
				return bad_arg("filter", val);
			o->filter = val;
		}
	}
	return 0;
}

/* ---- formatting ---- */

static const char *proto_name(const struct flow *f)
{
	static char buf[8];

	if (!f->family)
		return "non-ip";
	switch (f->proto) {
	case 6: return "tcp";
	case 17: return "udp";
	case 1: return "icmp";
	case 58: return "icmpv6";
	}
	snprintf(buf, sizeof(buf), "other");
	return buf;
}

static void addr_str(const struct flow *f, const unsigned char *a, char *buf,
		     size_t len)
{
	if (!f->family || !inet_ntop(f->family, a, buf, len))
		snprintf(buf, len, "-");
}

/* the columns of debugfs "flows", in its order, with their table widths
 * (negative: left-aligned); dir, proto, src and dst are strings
 */
#define FLOW_NCOLS 30
static const struct {
	const char *name;
	int width;
} flow_cols[FLOW_NCOLS] = {
	{ "id", -6 }, { "netns", -10 }, { "ifindex", -7 }, { "dir", -10 },
	{ "proto", -6 }, { "src", -39 }, { "sport", -5 }, { "dst", -39 },
	{ "dport", -5 }, { "packets", 12 }, { "bytes", 14 }, { "drops", 8 },
	{ "reason", 6 }, { "gso_pkts", 8 }, { "gso_segs", 8 },
	{ "copy_in_B", 14 }, { "copy_out_B", 14 }, { "copy_sock_B", 14 },
	{ "copy_lin_B", 12 }, { "copy_cow_B", 12 }, { "copy_seg_B", 12 },
	{ "copy_ns", 14 }, { "res_p50_ns", 12 }, { "res_p90_ns", 12 },
	{ "res_p99_ns", 12 }, { "res_p999_ns", 12 }, { "res_max_ns", 12 },
	{ "drtt_n", 8 }, { "drtt_p50_ns", 12 }, { "drtt_p99_ns", 12 },
};

static bool flow_col_is_str(int i)
{
	return i == 3 || i == 4 || i == 5 || i == 7;
}

static uint64_t flow_copy_ns(const struct flow *f)
{
	uint64_t s = 0;
	int i;

	for (i = 0; i < VNACCT_COPY_COUNT; i++)
		s += f->copy_ns[i];
	return s;
}

/* One flow's columns as text, in flow_cols order. */
static void flow_values(const struct flow *f, char v[FLOW_NCOLS][48])
{
	const uint64_t n[FLOW_NCOLS] = {
		f->id, f->netns, f->ifindex, 0, 0, 0, f->sport, 0, f->dport,
		f->packets, f->bytes, f->drops, f->drop_reason, f->gso_packets,
		f->gso_segs, f->copy_bytes[0], f->copy_bytes[1],
		f->copy_bytes[2], f->copy_bytes[3], f->copy_bytes[4],
		f->copy_bytes[5], flow_copy_ns(f), f->res.p50, f->res.p90,
		f->res.p99, f->res.p999, f->res.max, f->drtt.count,
		f->drtt.p50, f->drtt.p99,
	};
	int i;

	for (i = 0; i < FLOW_NCOLS; i++)
		snprintf(v[i], sizeof(v[i]), "%" PRIu64, n[i]);
	snprintf(v[3], sizeof(v[3]), "%s", dir_names[f->dir % 3]);
	snprintf(v[4], sizeof(v[4]), "%s", proto_name(f));
	addr_str(f, f->saddr, v[5], sizeof(v[5]));
	addr_str(f, f->daddr, v[7], sizeof(v[7]));
}

/* A row of @v (or the header when NULL); @sep ' ' (table) or ',' (CSV). */
static void print_cols(FILE *out, char v[FLOW_NCOLS][48], char sep)
{
	int i;

	for (i = 0; i < FLOW_NCOLS; i++) {
		const char *x = v ? v[i] : flow_cols[i].name;

		if (i)
			fputc(sep, out);
		if (sep == ' ')
			fprintf(out, "%*s", flow_cols[i].width, x);
		else
			fputs(x, out);
	}
	fputc('\n', out);
}

/* One flow as a row; @sep is ' ' (table, aligned) or ',' (CSV). */
static void print_flow_row(FILE *out, const struct flow *f, char sep)
{
	char v[FLOW_NCOLS][48];

	flow_values(f, v);
	print_cols(out, v, sep);
}

static void print_flow_header(FILE *out, char sep)
{
	print_cols(out, NULL, sep);
}

static void json_hist(FILE *out, const char *name, const struct hsum *h)
{
	fprintf(out, "\"%s\":{\"count\":%" PRIu64 ",\"sum_ns\":%" PRIu64
		",\"min_ns\":%" PRIu64 ",\"max_ns\":%" PRIu64 ",\"p50_ns\":%"
		PRIu64 ",\"p90_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64
		",\"p999_ns\":%" PRIu64 "}", name, h->count, h->sum, h->min,
		h->max, h->p50, h->p90, h->p99, h->p999);
}

static void print_flow_json(FILE *out, const struct flow *f)
{
	char v[FLOW_NCOLS][48];
	bool first = true;
	int i;

	flow_values(f, v);
	fputc('{', out);
	for (i = 0; i < FLOW_NCOLS; i++)
		fprintf(out, flow_col_is_str(i) ? "\"%s\":\"%s\"," :
			"\"%s\":%s,", flow_cols[i].name, v[i]);
	fprintf(out, "\"copies\":{");
	for (i = 0; i < VNACCT_COPY_COUNT; i++)
		fprintf(out, "%s\"%s\":{\"bytes\":%" PRIu64 ",\"ns\":%" PRIu64
			"}", i ? "," : "", copy_names[i], f->copy_bytes[i],
			f->copy_ns[i]);
	fprintf(out, "},");
	json_hist(out, "residency", &f->res);
	fputc(',', out);
	json_hist(out, "drtt", &f->drtt);
	fprintf(out, ",\"stages\":[");
	for (i = 0; i < VNACCT_STAGE_COUNT; i++) {
		if (!(f->stages & (1u << i)))
			continue;
		fprintf(out, "%s{\"stage\":\"%s\",\"packets\":%" PRIu64
			",\"bytes\":%" PRIu64 ",", first ? "" : ",",
			stage_names[i], f->stage_packets[i], f->stage_bytes[i]);
		json_hist(out, "residency", &f->stage[i]);
		fputc('}', out);
		first = false;
	}
	fprintf(out, "]}");
}

static uint64_t sort_key(const struct flow *f, int key)
{
	switch (key) {
	case 1: return f->packets;
	case 2: return f->bytes;
	case 3: return f->drops;
	case 4: return f->res.p50;
	case 5: return f->res.p90;
	case 6: return f->res.p99;
	case 7: return f->res.p999;
	case 8: return f->res.max;
	case 9: return f->drtt.p50;
	case 10: return f->drtt.p99;
	case 11: return f->drtt.count;
	}
	return f->id;
}

static int sort_by;

static int flow_cmp(const void *a, const void *b)
{
	const struct flow *x = a, *y = b;
	uint64_t kx, ky;

	if (sort_by <= 0)
		return x->id < y->id ? -1 : x->id > y->id;
	kx = sort_key(x, sort_by);
	ky = sort_key(y, sort_by);
	if (kx != ky)
		return kx > ky ? -1 : 1;
	/* top: delta-RTT first, then residency */
	if (sort_by == 10 && x->res.p99 != y->res.p99)
		return x->res.p99 > y->res.p99 ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static bool flow_match(const struct flow *f, const struct opts *o)
{
	int alen = f->family == AF_INET ? 4 : 16;

	if (o->ifindex && f->ifindex != o->ifindex)
		return false;
	if (o->proto >= 0 && (o->proto == 256 ? f->family != 0 :
			      (!f->family || f->proto != o->proto)))
		return false;
	if (o->dir >= 0 && f->dir != o->dir)
		return false;
	if (o->src_family && (f->family != o->src_family ||
			      memcmp(f->saddr, o->src, alen)))
		return false;
	if (o->dst_family && (f->family != o->dst_family ||
			      memcmp(f->daddr, o->dst, alen)))
		return false;
	return true;
}

/* Filters, sorts and limits @fl in place. */
static void flows_select(struct flows *fl, const struct opts *o, int def_sort)
{
	size_t i, n = 0;

	for (i = 0; i < fl->n; i++)
		if (flow_match(&fl->v[i], o))
			fl->v[n++] = fl->v[i];
	fl->n = n;
	sort_by = o->sort >= 0 ? o->sort : def_sort;
	qsort(fl->v, fl->n, sizeof(*fl->v), flow_cmp);
	if (o->limit && fl->n > o->limit)
		fl->n = o->limit;
}

static void print_flows(FILE *out, const struct flows *fl, enum fmt fmt)
{
	size_t i;

	if (fmt == FMT_JSON) {
		fputc('[', out);
		for (i = 0; i < fl->n; i++) {
			if (i)
				fputc(',', out);
			print_flow_json(out, &fl->v[i]);
		}
		fprintf(out, "]\n");
		return;
	}
	print_flow_header(out, fmt == FMT_CSV ? ',' : ' ');
	for (i = 0; i < fl->n; i++)
		print_flow_row(out, &fl->v[i], fmt == FMT_CSV ? ',' : ' ');
}

#ifndef VNACCT_NO_MAIN
/* ---- netlink ---- */

/*
 * Did a request fail because the module went away?  A dump that starts
 * while the module is being unloaded fails with EPROTONOSUPPORT (netlink
 * cannot take a module reference); a request to a family id that is no
 * longer registered fails with ENOENT, also when the module was loaded
 * again under a new id.
 */
static bool family_gone(const struct nl *nl)
{
	int err = errno;
	struct nl now;
	bool gone;

	if (err == EPROTONOSUPPORT)
		return true;
	if (err != ENOENT)
		return false;
	if (nl_open(&now))
		gone = errno == ENOENT;
	else
		gone = now.family != nl->family;
	nl_close(&now);
	errno = err;
	return gone;
}

static int nl_fail(struct nl *nl, const char *what)
{
	if (family_gone(nl)) {
		fprintf(stderr, "%s: %s: module unloaded during the request\n",
			prog, what);
		return -EXIT_NOMOD;
	}
	if (errno == EPERM) {
		fprintf(stderr, "%s: %s: permission denied (need CAP_NET_ADMIN)\n",
			prog, what);
		return -EXIT_PERM;
	}
	if (errno == ENOENT && !strcmp(what, "resolve")) {
		fprintf(stderr, "%s: module not loaded\n", prog);
		return -EXIT_NOMOD;
	}
	fprintf(stderr, "%s: %s: %s%s%s\n", prog, what, strerror(errno),
		nl->extack[0] ? ": " : "", nl->extack);
	return -EXIT_ERR;
}

static int cli_open(struct nl *nl)
{
	if (!nl_open(nl))
		return 0;
	if (errno == ENOENT) {
		fprintf(stderr, "%s: module not loaded (genl family %s not found)\n",
			prog, VNACCT_GENL_NAME);
		return -EXIT_NOMOD;
	}
	fprintf(stderr, "%s: netlink socket: %s\n", prog, strerror(errno));
	return -EXIT_ERR;
}

static int cli_dump(struct nl *nl, struct flows *fl, unsigned int ifindex)
{
	if (dump_flows(nl, fl, ifindex) < 0)
		return nl_fail(nl, "dump-flows");
	return 0;
}

static int resolve_dev(struct opts *o)
{
	if (!o->dev)
		return 0;
	o->ifindex = if_nametoindex(o->dev);
	if (!o->ifindex) {
		fprintf(stderr, "%s: bad argument: dev '%s': no such device\n",
			prog, o->dev);
		return -EXIT_USAGE;
	}
	return 0;
}

static int cmd_flows(struct nl *nl, struct opts *o)
{
	struct flows fl = { 0 };
	int err;

	err = cli_dump(nl, &fl, o->ifindex);
	if (err)
		return err;
	flows_select(&fl, o, 0);
	print_flows(stdout, &fl, o->fmt);
	if (fl.intr)
		fprintf(stderr, "%s: flows changed during every dump try\n",
			prog);
	free(fl.v);
	return 0;
}

static const char *const stats_names[VNACCT_A_STATS_MAX + 1] = {
	[VNACCT_A_STATS_PACKETS_TRACKED] = "packets_tracked",
	[VNACCT_A_STATS_PACKETS_EXITED] = "packets_exited",
	[VNACCT_A_STATS_PACKETS_UNTRACKED] = "packets_untracked",
	[VNACCT_A_STATS_PACKETS_MIDPATH] = "packets_midpath",
	[VNACCT_A_STATS_PACKETS_SAMPLED_OUT] = "packets_sampled_out",
	[VNACCT_A_STATS_PACKETS_IN_FLIGHT] = "packets_in_flight",
	[VNACCT_A_STATS_FLOWS] = "flows",
	[VNACCT_A_STATS_FLOWS_MAX] = "flows_max",
	[VNACCT_A_STATS_FLOWS_FULL] = "flows_full",
	[VNACCT_A_STATS_FLOWS_EVICTED] = "flows_evicted",
	[VNACCT_A_STATS_MEMORY_BYTES] = "memory_bytes",
	[VNACCT_A_STATS_ALERTS_SENT] = "alerts_sent",
	[VNACCT_A_STATS_ALERTS_DROPPED] = "alerts_dropped",
	[VNACCT_A_STATS_PACKETS_LOST_STALE] = "packets_lost_stale",
	[VNACCT_A_STATS_PACKETS_LOST_REUSED] = "packets_lost_reused",
	[VNACCT_A_STATS_PACKETS_CLONED] = "packets_cloned",
	[VNACCT_A_STATS_KPROBES_MISSED] = "kprobes_missed",
};

/* the order of debugfs "stats", then the netlink-only counters */
static const int stats_order[] = {
	VNACCT_A_STATS_PACKETS_TRACKED, VNACCT_A_STATS_PACKETS_EXITED,
	VNACCT_A_STATS_PACKETS_UNTRACKED, VNACCT_A_STATS_PACKETS_MIDPATH,
	VNACCT_A_STATS_PACKETS_SAMPLED_OUT, VNACCT_A_STATS_PACKETS_LOST_STALE,
	VNACCT_A_STATS_PACKETS_LOST_REUSED, VNACCT_A_STATS_PACKETS_CLONED,
	VNACCT_A_STATS_KPROBES_MISSED, VNACCT_A_STATS_PACKETS_IN_FLIGHT,
	VNACCT_A_STATS_FLOWS, VNACCT_A_STATS_FLOWS_MAX, VNACCT_A_STATS_FLOWS_FULL,
	VNACCT_A_STATS_FLOWS_EVICTED, VNACCT_A_STATS_MEMORY_BYTES,
	VNACCT_A_STATS_ALERTS_SENT, VNACCT_A_STATS_ALERTS_DROPPED,
};

struct stats_out {
	enum fmt fmt;
	int hooks;
};

static int stats_hook_cb(const struct nlattr *a, void *data)
{
	struct stats_out *so = data;
	struct vnl_hook h;
	int r = parse_hook(a, &h);

	if (r <= 0)
		return r < 0 ? MNL_CB_ERROR : MNL_CB_OK;
	if (so->fmt == FMT_JSON)
		printf("%s{\"name\":\"%s\",\"kind\":\"%s\",\"hits\":%" PRIu64
		       ",\"ns\":%" PRIu64 "}", so->hooks ? "," : "", h.name,
		       h.kind, h.hits, h.ns);
	else if (so->fmt == FMT_CSV)
		printf("hook:%s,%" PRIu64 "\nhook_ns:%s,%" PRIu64 "\n", h.name,
		       h.hits, h.name, h.ns);
	else
		printf("%-24s %-10s %20" PRIu64 " %20" PRIu64 "\n", h.name,
		       h.kind, h.hits, h.ns);
	so->hooks++;
	return MNL_CB_OK;
}

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a[VNACCT_A_STATS_MAX + 1] = { 0 };
	struct tb t = { a, VNACCT_A_STATS_MAX };
	struct stats_out *so = data;
	size_t j;
	int i;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tb_cb, &t) < 0)
		return MNL_CB_ERROR;
	if (so->fmt == FMT_JSON)
		printf("{");
	else if (so->fmt == FMT_CSV)
		printf("name,value\n");
	else
		printf("%-24s %-10s %20s %20s\n", "hook", "kind", "hits", "ns");
	if (so->fmt == FMT_JSON)
		printf("\"hooks\":[");
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), stats_hook_cb, so) < 0)
		return MNL_CB_ERROR;
	if (so->fmt == FMT_JSON)
		printf("]");
	for (j = 0; j < sizeof(stats_order) / sizeof(stats_order[0]); j++) {
		i = stats_order[j];
		if (!a[i])
			continue;
		if (so->fmt == FMT_JSON)
			printf(",\"%s\":%" PRIu64, stats_names[i], get_u64(a[i]));
		else if (so->fmt == FMT_CSV)
			printf("%s,%" PRIu64 "\n", stats_names[i], get_u64(a[i]));
		else
			printf("%-35s %20" PRIu64 "\n", stats_names[i],
			       get_u64(a[i]));
	}
	if (so->fmt == FMT_JSON)
		printf("}\n");
	return MNL_CB_OK;
}

static int cmd_stats(struct nl *nl, struct opts *o)
{
	struct stats_out so = { o->fmt, 0 };

	if (nl_run(nl, nl_msg(nl, nl->family, VNACCT_CMD_GET_STATS, 0),
		   stats_cb, &so) < 0)
		return nl_fail(nl, "get-stats");
	return 0;
}

static int config_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a[VNACCT_A_CONFIG_MAX + 1] = { 0 };
	struct tb t = { a, VNACCT_A_CONFIG_MAX };
	const struct opts *o = data;
	char name[IF_NAMESIZE] = "none";
	unsigned int ifx;

	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tb_cb, &t) < 0)
		return MNL_CB_ERROR;
	ifx = get_u64(a[VNACCT_A_CONFIG_FILTER_IFINDEX]);
	if (ifx && !if_indextoname(ifx, name))
		snprintf(name, sizeof(name), "#%u", ifx);
	if (o->fmt == FMT_JSON)
		printf("{\"enabled\":%s,\"sample\":%" PRIu64 ",\"timeout_s\":%"
		       PRIu64 ",\"filter_ifindex\":%u,\"filter_netns\":%" PRIu64
		       ",\"filter\":\"%s\",\"threshold_ns\":%" PRIu64 "}\n",
		       get_u64(a[VNACCT_A_CONFIG_ENABLED]) ? "true" : "false",
		       get_u64(a[VNACCT_A_CONFIG_SAMPLE]),
		       get_u64(a[VNACCT_A_CONFIG_FLOW_TIMEOUT]), ifx,
		       get_u64(a[VNACCT_A_CONFIG_FILTER_NETNS]), name,
		       get_u64(a[VNACCT_A_CONFIG_THRESHOLD_NS]));
	else
		printf(o->fmt == FMT_CSV ?
		       "name,value\nenabled,%" PRIu64 "\nsample,%" PRIu64
		       "\ntimeout_s,%" PRIu64 "\nfilter_ifindex,%u\nfilter,%s\n"
		       "threshold_ns,%" PRIu64 "\n" :
		       "enabled      %" PRIu64 "\nsample       %" PRIu64
		       "\ntimeout_s    %" PRIu64 "\nfilter_ifindex %u\nfilter       %s\n"
		       "threshold_ns %" PRIu64 "\n",
		       get_u64(a[VNACCT_A_CONFIG_ENABLED]),
		       get_u64(a[VNACCT_A_CONFIG_SAMPLE]),
		       get_u64(a[VNACCT_A_CONFIG_FLOW_TIMEOUT]), ifx, name,
		       get_u64(a[VNACCT_A_CONFIG_THRESHOLD_NS]));
	return MNL_CB_OK;
}

static int cmd_config(struct nl *nl, struct opts *o)
{
	struct nlmsghdr *nlh;

	if (o->enabled < 0 && o->sample < 0 && o->timeout < 0 &&
	    o->threshold < 0 && !o->filter) {
		if (nl_run(nl, nl_msg(nl, nl->family, VNACCT_CMD_GET_CONFIG, 0),
			   config_cb, o) < 0)
			return nl_fail(nl, "get-config");
		return 0;
	}
	nlh = nl_msg(nl, nl->family, VNACCT_CMD_SET_CONFIG, 0);
	if (o->enabled >= 0)
		mnl_attr_put_u8(nlh, VNACCT_A_CONFIG_ENABLED, o->enabled);
	if (o->sample >= 0)
		mnl_attr_put_u32(nlh, VNACCT_A_CONFIG_SAMPLE, o->sample);
	if (o->timeout >= 0)
		mnl_attr_put_u32(nlh, VNACCT_A_CONFIG_FLOW_TIMEOUT, o->timeout);
	if (o->threshold >= 0)
		mnl_attr_put_u64(nlh, VNACCT_A_CONFIG_THRESHOLD_NS, o->threshold);
	if (o->filter && !strcmp(o->filter, "none"))
		mnl_attr_put_u32(nlh, VNACCT_A_CONFIG_FILTER_IFINDEX, 0);
	else if (o->filter)
		mnl_attr_put_strz(nlh, VNACCT_A_CONFIG_FILTER_IFNAME, o->filter);
	if (nl_run(nl, nlh, NULL, NULL) < 0)
		return nl_fail(nl, "set-config");
	return 0;
}

static int cmd_reset(struct nl *nl)
{
	if (nl_run(nl, nl_msg(nl, nl->family, VNACCT_CMD_RESET, 0), NULL,
		   NULL) < 0)
		return nl_fail(nl, "reset");
	return 0;
}

static int cmd_top(struct nl *nl, struct opts *o)
{
	bool tty = isatty(0) && isatty(1) && o->fmt == FMT_TABLE;
	struct termios old, raw;
	unsigned long n = 0;
	struct flows fl = { 0 };
	int err = 0;

	if (tty && !tcgetattr(0, &old)) {
		raw = old;
		raw.c_lflag &= ~(ICANON | ECHO);
		tcsetattr(0, TCSANOW, &raw);
	} else {
		tty = false;
	}
	if (!o->limit)
		o->limit = 20;
	for (;;) {
		struct pollfd p = { .fd = 0, .events = POLLIN };
		char c;

		/*
		 * A live view outlasts a module reload: while the family is
		 * gone, say so and look it up again every refresh.
		 */
		if (!nl->sk && nl_open(nl)) {
			if (errno != ENOENT) {
				err = nl_fail(nl, "netlink socket");
				break;
			}
			err = -EXIT_NOMOD;
		} else if (dump_flows(nl, &fl, o->ifindex) < 0) {
			err = family_gone(nl) ? -EXIT_NOMOD :
						nl_fail(nl, "dump-flows");
		} else {
			err = 0;
		}
		if (err == -EXIT_NOMOD) {
			nl_close(nl);
			fl.n = 0;
		} else if (err) {
			break;
		}
		/* highest delta-RTT first, then residency */
		flows_select(&fl, o, 10);
		if (tty)
			printf("\033[H\033[2J");
		if (o->fmt == FMT_TABLE && !nl->sk)
			printf("vnacct top: module not loaded, waiting for it%s\n",
			       tty ? " (q quits)" : "");
		else if (o->fmt == FMT_TABLE)
			printf("vnacct top: %zu flows, every %.1f s, sorted by %s%s\n",
			       fl.n, o->delay, sort_names[sort_by],
			       tty ? " (q quits)" : "");
		print_flows(stdout, &fl, o->fmt);
		fflush(stdout);
		if (o->count && ++n >= o->count)
			break;
		if (poll(&p, 1, (int)(o->delay * 1000)) > 0 &&
		    read(0, &c, 1) == 1 && (c == 'q' || c == 'Q'))
			break;
	}
	if (tty)
		tcsetattr(0, TCSANOW, &old);
	free(fl.v);
	return err == -EXIT_NOMOD ? 0 : err;
}

int main(int argc, char **argv)
{
	struct opts o;
	struct nl nl;
	int err;

	err = parse_args(argc, argv, &o);
	if (err == 1) {
		usage(stdout);
		return 0;
	}
	if (err) {
		fprintf(stderr, "try 'vnacct --help'\n");
		return -err;
	}
	err = resolve_dev(&o);
	if (!err)
		err = cli_open(&nl);
	if (err)
		return -err;
	if (!strcmp(o.cmd, "flows"))
		err = cmd_flows(&nl, &o);
	else if (!strcmp(o.cmd, "stats"))
		err = cmd_stats(&nl, &o);
	else if (!strcmp(o.cmd, "top"))
		err = cmd_top(&nl, &o);
	else if (!strcmp(o.cmd, "reset"))
		err = cmd_reset(&nl);
	else
		err = cmd_config(&nl, &o);
	nl_close(&nl);
	return -err;
}
#endif /* VNACCT_NO_MAIN */
