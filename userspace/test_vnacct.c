// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests (TAP) of the vnacct CLI's argument parsing and output
 * formatting, and of the flow reply parser shared with vnacctd (a message
 * built with libmnl, no socket); the CLI's main is left out
 * (VNACCT_NO_MAIN).
 */
#define VNACCT_NO_MAIN
#include "vnacct.c"

static int n, failed;

static void ok(int cond, const char *what)
{
	n++;
	if (!cond)
		failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", n, what);
}

static int args(struct opts *o, const char *line)
{
	char buf[512], *argv[32];
	int argc = 0;
	char *t;
	FILE *saved = stderr;
	int r;

	snprintf(buf, sizeof(buf), "vnacct %s", line);
	for (t = strtok(buf, " "); t && argc < 31; t = strtok(NULL, " "))
		argv[argc++] = t;
	argv[argc] = NULL;
	stderr = fopen("/dev/null", "w");
	r = parse_args(argc, argv, o);
	fclose(stderr);
	stderr = saved;
	return r;
}

static char *capture(void (*fn)(FILE *f, void *arg), void *arg)
{
	static char buf[1 << 14];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	memset(buf, 0, sizeof(buf));
	fn(f, arg);
	fclose(f);
	return buf;
}

static void do_flows(FILE *f, void *arg)
{
	print_flows(f, arg, FMT_TABLE);
}

static void do_csv(FILE *f, void *arg)
{
	print_flows(f, arg, FMT_CSV);
}

static void do_json(FILE *f, void *arg)
{
	print_flows(f, arg, FMT_JSON);
}

static void do_usage(FILE *f, void *arg)
{
	(void)arg;
	usage(f);
}

static int count_char(const char *s, char c, const char *end)
{
	int k = 0;

	for (; *s && s != end; s++)
		k += *s == c;
	return k;
}

static int words(const char *s)
{
	int k = 0, in = 0;

	for (; *s && *s != '\n'; s++) {
		if (*s != ' ' && !in)
			k++;
		in = *s != ' ';
	}
	return k;
}

static void put_bucket(struct nlmsghdr *nlh, uint64_t lo, uint64_t hi,
		       uint64_t count)
{
	struct nlattr *b = mnl_attr_nest_start(nlh, VNACCT_A_HIST_BUCKET);

	mnl_attr_put_u64(nlh, VNACCT_A_BUCKET_LOWER, lo);
	mnl_attr_put_u64(nlh, VNACCT_A_BUCKET_UPPER, hi);
	mnl_attr_put_u64(nlh, VNACCT_A_BUCKET_COUNT, count);
	mnl_attr_nest_end(nlh, b);
}

/* A dump message as the module builds it: one flow, one stage. */
static void parse_checks(void)
{
	static char buf[4096];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlattr *st, *h;
	struct flows fl = { 0 };
	const struct hsum *r;

	mnl_nlmsg_put_extra_header(nlh, sizeof(struct genlmsghdr));
	mnl_attr_put_u32(nlh, VNACCT_A_FLOW_ID, 42);
	mnl_attr_put_u8(nlh, VNACCT_A_FLOW_FAMILY, AF_INET);
	mnl_attr_put_u8(nlh, VNACCT_A_FLOW_PROTO, 17);
	mnl_attr_put_u16(nlh, VNACCT_A_FLOW_SPORT, htons(5001));
	mnl_attr_put_u64(nlh, VNACCT_A_FLOW_PACKETS, 9);
	st = mnl_attr_nest_start(nlh, VNACCT_A_FLOW_STAGE);
	mnl_attr_put_u32(nlh, VNACCT_A_STAGE_ID, VNACCT_STAGE_QDISC);
	mnl_attr_put_u64(nlh, VNACCT_A_STAGE_PACKETS, 9);
	h = mnl_attr_nest_start(nlh, VNACCT_A_STAGE_RESIDENCY);
	mnl_attr_put_u64(nlh, VNACCT_A_HIST_COUNT, 9);
	mnl_attr_put_u64(nlh, VNACCT_A_HIST_SUM, 123456);
	/* 1000 ns is inside [960, 1023]: that bucket counts under 2.5 us */
	put_bucket(nlh, 0, 63, 1);
	put_bucket(nlh, 896, 959, 2);
	put_bucket(nlh, 960, 1023, 3);
	put_bucket(nlh, 1 << 20, (1 << 20) + 131071, 2);
	put_bucket(nlh, 1ULL << 35, UINT64_MAX, 1);
	mnl_attr_nest_end(nlh, h);
	mnl_attr_nest_end(nlh, st);
	ok(flow_cb(nlh, &fl) == MNL_CB_OK && fl.n == 1 && fl.v[0].id == 42 &&
	   fl.v[0].sport == 5001 && fl.v[0].packets == 9 &&
	   fl.v[0].stages == 1u << VNACCT_STAGE_QDISC,
	   "flow_cb parses a flow with a stage nest");
	r = &fl.v[0].stage[VNACCT_STAGE_QDISC];
	ok(r->count == 9 && r->sum == 123456 && r->buckets,
	   "stage histogram count, sum and buckets");
	ok(vnl_le_ns[0] == 250 && vnl_le_ns[2] == 1000 &&
	   vnl_le_ns[VNL_LE_N - 1] == 10000000000ULL, "le bounds 250 ns .. 10 s");
	ok(r->le[0] == 1 && r->le[2] == 2 && r->le[3] == 3 &&
	   r->le[12] == 2 && r->le[1] == 0,
	   "buckets fold under the first le >= their upper bound "
	   "(straddling bucket to the next le, overflow only in +Inf)");
	ok(r->le[0] + r->le[1] + r->le[2] + r->le[3] + r->le[12] == 8 &&
	   !fl.v[0].res.buckets, "8 of 9 values in finite buckets; no "
	   "residency nest, no buckets");
	free(fl.v);
}

int main(void)
{
	struct flow v[3] = { 0 };
	struct flows fl = { v, 3, 3, false };
	struct opts o;
	char *out, *nl;

	ok(args(&o, "flows") == 0 && !strcmp(o.cmd, "flows") &&
	   o.fmt == FMT_TABLE, "flows parses");
	ok(args(&o, "--json flows") == 0 && o.fmt == FMT_JSON, "--json before");
	ok(args(&o, "stats --csv") == 0 && o.fmt == FMT_CSV, "--csv after");
	ok(args(&o, "--help") == 1 && args(&o, "flows -h") == 1, "--help");
	ok(args(&o, "") == -EXIT_USAGE, "missing command is exit 2");
	ok(args(&o, "frobnicate") == -EXIT_USAGE, "unknown command is exit 2");
	ok(args(&o, "--bogus flows") == -EXIT_USAGE, "unknown option");
	ok(args(&o, "flows proto tcp dir from_guest src 10.0.0.1 dst fd00::2 sort res-p99 -n 5") == 0 &&
	   o.proto == 6 && o.dir == VNACCT_FLOW_DIR_FROM_GUEST &&
	   o.src_family == AF_INET && o.dst_family == AF_INET6 &&
	   !strcmp(sort_names[o.sort], "res-p99") && o.limit == 5,
	   "flows filters and sort");
	ok(args(&o, "flows proto icmpv6") == 0 && o.proto == 58, "proto icmpv6");
	ok(args(&o, "flows proto 132") == 0 && o.proto == 132, "numeric proto");
	ok(args(&o, "flows proto xyz") == -EXIT_USAGE, "bad proto");
	ok(args(&o, "flows dir sideways") == -EXIT_USAGE, "bad dir");
	ok(args(&o, "flows src 10.0.0.300") == -EXIT_USAGE, "bad address");
	ok(args(&o, "flows sort fastest") == -EXIT_USAGE, "bad sort key");
	ok(args(&o, "flows -n 0") == -EXIT_USAGE && args(&o, "flows -n x") == -EXIT_USAGE,
	   "bad -n");
	ok(args(&o, "flows dev") == -EXIT_USAGE, "missing value");
	ok(args(&o, "flows -d 1") == -EXIT_USAGE, "-d only for top");
	ok(args(&o, "top -d 0.5 -c 3") == 0 && o.delay == 0.5 && o.count == 3,
	   "top -d -c");
	ok(args(&o, "top -d 0") == -EXIT_USAGE, "top -d 0 rejected");
	ok(args(&o, "config sample 4 timeout 30 filter tap0 disable threshold 1000000") == 0 &&
	   o.sample == 4 && o.timeout == 30 && !strcmp(o.filter, "tap0") &&
	   o.enabled == 0 && o.threshold == 1000000, "config set parses");
	ok(args(&o, "config") == 0 && o.sample < 0 && o.enabled < 0 &&
	   !o.filter, "config without arguments shows");
	ok(args(&o, "config sample 0") == -EXIT_USAGE &&
	   args(&o, "config sample 65537") == -EXIT_USAGE &&
	   args(&o, "config sample -1") == -EXIT_USAGE, "sample range");
	ok(args(&o, "config timeout 86401") == -EXIT_USAGE, "timeout range");
	ok(args(&o, "config threshold 3600000000001") == -EXIT_USAGE,
	   "threshold range");
	ok(args(&o, "config filter abcdefghijklmnopq") == -EXIT_USAGE,
	   "filter name too long");
	ok(args(&o, "reset now") == -EXIT_USAGE, "reset takes no argument");
	ok(args(&o, "stats proto tcp") == -EXIT_USAGE, "stats takes no filter");

	v[0].id = 7; v[0].family = AF_INET; v[0].proto = 17;
	v[0].dir = VNACCT_FLOW_DIR_FROM_GUEST; v[0].packets = 100;
	v[0].bytes = 22800; v[0].sport = 5001; v[0].dport = 5001;
	inet_pton(AF_INET, "10.0.0.1", v[0].saddr);
	inet_pton(AF_INET, "10.0.0.2", v[0].daddr);
	v[0].copy_bytes[0] = 24200; v[0].res.p99 = 5000; v[0].res.max = 9000;
	v[0].stages = 1; v[0].stage_packets[0] = 100;
	v[1].id = 3; v[1].family = AF_INET6; v[1].proto = 58;
	v[1].packets = 10; v[1].drtt.count = 10; v[1].drtt.p99 = 70000;
	inet_pton(AF_INET6, "fd00::1", v[1].saddr);
	inet_pton(AF_INET6, "fd00::2", v[1].daddr);
	v[2].id = 1; v[2].packets = 4;

	out = capture(do_flows, &fl);
	nl = strchr(out, '\n');
	ok(!strncmp(out, "id ", 3) && words(out) == 30,
	   "table header has the 30 debugfs flows columns");
	ok(nl && words(nl + 1) == 30, "a table row has 30 columns");
	ok(strstr(out, "10.0.0.1") && strstr(out, "fd00::2") &&
	   strstr(out, "from_guest") && strstr(out, "non-ip"),
	   "addresses, direction and protocol are printed");
	out = capture(do_csv, &fl);
	nl = strchr(out, '\n');
	ok(count_char(out, ',', nl) == 29 && nl &&
	   count_char(nl + 1, ',', strchr(nl + 1, '\n')) == 29,
	   "CSV header and rows have 30 fields");
	out = capture(do_json, &fl);
	ok(out[0] == '[' && count_char(out, '{', NULL) == count_char(out, '}', NULL) &&
	   strstr(out, "\"packets\":100") && strstr(out, "\"stage\":\"guest_tx\""),
	   "JSON is balanced and carries counters and stages");

	args(&o, "flows sort packets");
	flows_select(&fl, &o, 0);
	ok(fl.n == 3 && v[0].id == 7 && v[1].id == 3 && v[2].id == 1,
	   "sort packets: largest first");
	args(&o, "flows");
	flows_select(&fl, &o, 0);
	ok(v[0].id == 1 && v[1].id == 3 && v[2].id == 7, "default: by id");
	args(&o, "top");
	flows_select(&fl, &o, 10);
	ok(v[0].id == 3 && v[1].id == 7, "top: delta-RTT, then residency first");
	args(&o, "flows proto udp src 10.0.0.1");
	flows_select(&fl, &o, 0);
	ok(fl.n == 1 && v[0].id == 7, "filter proto + src");
	fl.n = 3;
	args(&o, "flows proto non-ip -n 1");
	flows_select(&fl, &o, 0);
	ok(fl.n == 1 && !v[0].family, "filter non-ip and -n");
	out = capture(do_usage, NULL);
	ok(strstr(out, "flows") && strstr(out, "stats") && strstr(out, "top") &&
	   strstr(out, "reset") && strstr(out, "config") &&
	   strstr(out, "--json") && strstr(out, "--csv"),
	   "--help names every command and format");
	parse_checks();
	printf("1..%d\n", n);
	return failed != 0;
}
