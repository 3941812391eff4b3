// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct-tracecheck: an independent reference for vnacct's stage
 * residencies.  Reads a trace.dat recorded by trace-cmd on the tracepoints
 * vnacct uses, follows each skb by its address in timestamp order, and
 * prints per device, for the two stages whose boundaries are plain
 * tracepoints that both see,
 *
 *   qdisc    net:net_dev_queue  .. net:net_dev_start_xmit (same skb)
 *   backlog  net:netif_rx       .. net:netif_receive_skb  (same skb)
 *
 * and skb length at the stage's start (skb->len as the tracepoint shows it:
 * with the link-layer header at net_dev_queue, without it at netif_rx, so
 * a workload with a distinctive packet size picks its own packets out),
 * the packet count and the residency (sum, min, max, mean and exact
 * nearest-rank p50/p90/p99) as one JSON object.  An skb's pending state
 * ends at skb:consume_skb / skb:kfree_skb, so a reused address never
 * starts a stage of an old packet.  Also counts every event by name, and
 * the lost events trace-cmd reports (a cross-check is only valid when that
 * is 0).
 *
 * usage: vnacct-tracecheck [--dev NAME]... trace.dat
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <trace-cmd/trace-cmd.h>
#include <event-parse.h>

enum { ST_QDISC, ST_BACKLOG, ST_N };
static const char *const st_name[ST_N] = { "qdisc", "backlog" };

struct samples {
	char dev[32];
	int stage;
	unsigned int len;
	unsigned long long *v;
	size_t n, cap;
};

static struct samples *sets;
static size_t nsets;

/* pending stage starts, open addressing by skb address */
struct pend {
	unsigned long long skb;	/* 0: empty */
	unsigned long long ts[ST_N];
	unsigned int len[ST_N];
	char dev[ST_N][32];
	unsigned char have[ST_N];
};

#define PEND_BITS 16
#define PEND_N (1u << PEND_BITS)
static struct pend pend[PEND_N];
static unsigned long npend_full;

static const char *devs[64];
static int ndevs;

static struct {
	unsigned long long net_dev_queue, net_dev_start_xmit, netif_rx,
		netif_receive_skb, consume_skb, kfree_skb, copy, other, missed;
} cnt;

static struct pend *pend_get(unsigned long long skb, int create)
{
	unsigned int h = (unsigned int)((skb >> 6) * 0x9E3779B97F4A7C15ull >> 48)
			 & (PEND_N - 1);
	struct pend *tomb = NULL;

	for (unsigned int i = 0; i < PEND_N; i++) {
		struct pend *p = &pend[(h + i) & (PEND_N - 1)];

		if (p->skb == skb)
			return p;
		if (p->skb == 0) {
			if (!create)
				return NULL;
			p = tomb ? tomb : p;
			memset(p, 0, sizeof(*p));
			p->skb = skb;
			return p;
		}
		if (p->skb == 1 && !tomb)
			tomb = p;
	}
	if (create && tomb) {
		memset(tomb, 0, sizeof(*tomb));
		tomb->skb = skb;
		return tomb;
	}
	if (create)
		npend_full++;
	return NULL;
}

static void pend_del(unsigned long long skb)
{
	struct pend *p = pend_get(skb, 0);

	if (p) {
		memset(p, 0, sizeof(*p));
		p->skb = 1;	/* tombstone */
	}
}

static int dev_wanted(const char *dev)
{
	if (!ndevs)
		return 1;
	for (int i = 0; i < ndevs; i++)
		if (!strcmp(devs[i], dev))
			return 1;
	return 0;
}

static void add_sample(int stage, const char *dev, unsigned int len,
		       unsigned long long v)
{
	struct samples *s = NULL;

	if (!dev_wanted(dev))
		return;
	for (size_t i = 0; i < nsets; i++)
		if (sets[i].stage == stage && sets[i].len == len &&
		    !strcmp(sets[i].dev, dev))
			s = &sets[i];
	if (!s) {
		sets = realloc(sets, (nsets + 1) * sizeof(*sets));
		if (!sets) {
			perror("realloc");
			exit(1);
		}
		s = &sets[nsets++];
		memset(s, 0, sizeof(*s));
		snprintf(s->dev, sizeof(s->dev), "%s", dev);
		s->stage = stage;
		s->len = len;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v) {
			perror("realloc");
			exit(1);
		}
	}
	s->v[s->n++] = v;
}

static void get_dev(struct tep_event *ev, struct tep_record *rec, char *buf,
		    size_t len)
{
	int l = 0;
	char *p = tep_get_field_raw(NULL, ev, "name", rec, &l, 0);

	if (!p || l <= 0) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%.*s", l, p);
}

static int on_record(struct tracecmd_input *h, struct tep_record *rec,
		     int cpu, void *data)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	struct tep_event *ev = tep_find_event_by_record(tep, rec);
	unsigned long long skb = 0, len = 0;
	char dev[32];
	struct pend *p;
	int st;

	(void)cpu;
	(void)data;
	if (rec->missed_events)
		cnt.missed += rec->missed_events > 0 ? rec->missed_events : 1;
	if (!ev)
		return 0;
	if (tep_get_field_val(NULL, ev, "skbaddr", rec, &skb, 0) || !skb) {
		cnt.other++;
		return 0;
	}
	if (!strcmp(ev->name, "net_dev_queue") ||
	    !strcmp(ev->name, "netif_rx")) {
		st = !strcmp(ev->name, "net_dev_queue") ? ST_QDISC
							: ST_BACKLOG;
		if (st == ST_QDISC)
			cnt.net_dev_queue++;
		else
			cnt.netif_rx++;
		p = pend_get(skb, 1);
		if (!p)
			return 0;
		get_dev(ev, rec, p->dev[st], sizeof(p->dev[st]));
		p->ts[st] = rec->ts;
		tep_get_field_val(NULL, ev, "len", rec, &len, 0);
		p->len[st] = (unsigned int)len;
		p->have[st] = 1;
	} else if (!strcmp(ev->name, "net_dev_start_xmit") ||
		   !strcmp(ev->name, "netif_receive_skb")) {
		st = !strcmp(ev->name, "net_dev_start_xmit") ? ST_QDISC
							     : ST_BACKLOG;
		if (st == ST_QDISC)
			cnt.net_dev_start_xmit++;
		else
			cnt.netif_receive_skb++;
		p = pend_get(skb, 0);
		if (!p || !p->have[st])
			return 0;
		get_dev(ev, rec, dev, sizeof(dev));
		/* the same device at both ends, or it is not one stage */
		if (!strcmp(dev, p->dev[st]) && rec->ts >= p->ts[st])
			add_sample(st, dev, p->len[st], rec->ts - p->ts[st]);
		p->have[st] = 0;
	} else if (!strcmp(ev->name, "consume_skb") ||
		   !strcmp(ev->name, "kfree_skb")) {
		if (ev->name[0] == 'c')
			cnt.consume_skb++;
		else
			cnt.kfree_skb++;
		pend_del(skb);
	} else if (!strcmp(ev->name, "skb_copy_datagram_iovec")) {
		cnt.copy++;
	} else {
		cnt.other++;
	}
	return 0;
}

static int cmp_ull(const void *a, const void *b)
{
	unsigned long long x = *(const unsigned long long *)a,
			   y = *(const unsigned long long *)b;

	return x < y ? -1 : x > y;
}

/* nearest rank: the smallest value with at least q of the samples <= it */
static unsigned long long pct(const struct samples *s, double q)
{
	size_t k = (size_t)(q * s->n + 0.999999);

	if (k < 1)
		k = 1;
	if (k > s->n)
		k = s->n;
	return s->v[k - 1];
}

int main(int argc, char **argv)
{
	struct tracecmd_input *h;
	const char *file = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dev") && i + 1 < argc && ndevs < 64) {
			devs[ndevs++] = argv[++i];
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s [--dev NAME]... trace.dat\n"
			       "Per device, the qdisc (net_dev_queue..net_dev_start_xmit)\n"
			       "and backlog (netif_rx..netif_receive_skb) residency of\n"
			       "each skb in trace.dat, as JSON (ns).\n", argv[0]);
			return 0;
		} else if (argv[i][0] == '-' || file) {
			fprintf(stderr, "usage: %s [--dev NAME]... trace.dat\n",
				argv[0]);
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		fprintf(stderr, "usage: %s [--dev NAME]... trace.dat\n", argv[0]);
		return 2;
	}
	tracecmd_set_loglevel(TEP_LOG_CRITICAL);
	h = tracecmd_open(file, 0);
	if (!h) {
		fprintf(stderr, "%s: cannot open %s\n", argv[0], file);
		return 1;
	}
	if (tracecmd_iterate_events(h, NULL, 0, on_record, NULL) < 0) {
		fprintf(stderr, "%s: cannot read events of %s\n", argv[0], file);
		return 1;
	}
	printf("{\"events\": {\"net_dev_queue\": %llu, \"net_dev_start_xmit\": %llu, "
	       "\"netif_rx\": %llu, \"netif_receive_skb\": %llu, "
	       "\"consume_skb\": %llu, \"kfree_skb\": %llu, "
	       "\"skb_copy_datagram_iovec\": %llu, \"other\": %llu},\n"
	       " \"missed_events\": %llu, \"pending_table_full\": %lu,\n"
	       " \"stages\": [",
	       cnt.net_dev_queue, cnt.net_dev_start_xmit, cnt.netif_rx,
	       cnt.netif_receive_skb, cnt.consume_skb, cnt.kfree_skb, cnt.copy,
	       cnt.other, cnt.missed, npend_full);
	for (size_t i = 0; i < nsets; i++) {
		struct samples *s = &sets[i];
		unsigned long long sum = 0;

		qsort(s->v, s->n, sizeof(*s->v), cmp_ull);
		for (size_t j = 0; j < s->n; j++)
			sum += s->v[j];
		printf("%s\n  {\"stage\": \"%s\", \"dev\": \"%s\", \"len\": %u, \"count\": %zu, "
		       "\"sum_ns\": %llu, \"min_ns\": %llu, \"max_ns\": %llu, "
		       "\"mean_ns\": %.1f, \"p50_ns\": %llu, \"p90_ns\": %llu, "
		       "\"p99_ns\": %llu}",
		       i ? "," : "", st_name[s->stage], s->dev, s->len, s->n, sum,
		       s->v[0], s->v[s->n - 1], (double)sum / s->n,
		       pct(s, 0.5), pct(s, 0.9), pct(s, 0.99));
		free(s->v);
	}
	printf("\n ]}\n");
	free(sets);
	tracecmd_close(h);
	return 0;
}
