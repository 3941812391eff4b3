// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct debugfs front end: /sys/kernel/debug/vnacct/ with the flows,
 * stages, histograms and stats files and the control file.  Every column
 * is defined in Documentation/vnacct.rst; the files are root-only because
 * flows name hosts and guests.
 */
#include <linux/ctype.h>
#include <linux/debugfs.h>
#include <linux/kstrtox.h>
#include <linux/netdevice.h>
#include <linux/nsproxy.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/net_namespace.h>

#include "acct.h"
#include "tracker.h"
#include "vnacct.h"

static struct dentry *vnacct_dir;

static const char *const vnacct_stage_names[VNACCT_STAGE_COUNT] = {
	[VNACCT_STAGE_GUEST_TX] = "guest_tx",
	[VNACCT_STAGE_BACKLOG] = "backlog",
	[VNACCT_STAGE_RECEIVE] = "receive",
	[VNACCT_STAGE_BRIDGE] = "bridge",
	[VNACCT_STAGE_QDISC] = "qdisc",
	[VNACCT_STAGE_DRIVER] = "driver",
	[VNACCT_STAGE_GUEST_QUEUE] = "guest_queue",
	[VNACCT_STAGE_GUEST_RX] = "guest_rx",
	[VNACCT_STAGE_SOCKET] = "socket",
};

static const char *const vnacct_dir_names[VNACCT_DIR_MAX] = {
	[VNACCT_DIR_LOCAL] = "local",
	[VNACCT_DIR_TO_GUEST] = "to_guest",
	[VNACCT_DIR_FROM_GUEST] = "from_guest",
};

static const char *vnacct_proto_name(const struct vnacct_flow_key *k)
{
	if (!k->family)
		return "non-ip";
	switch (k->proto) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	default:
		return "other";
	}
}

static void vnacct_seq_addr(struct seq_file *m, const struct vnacct_flow_key *k,
			    const union vnacct_addr *a)
{
	if (k->family == AF_INET)
		seq_printf(m, " %-39pI4", &a->ip4);
	else if (k->family == AF_INET6)
		seq_printf(m, " %-39pI6c", &a->ip6);
	else
		seq_printf(m, " %-39s", "-");
}

/* Iterates live flows: *pos is the slot index + 1, 0 the header line. */
static void *vnacct_flows_start(struct seq_file *m, loff_t *pos)
	__acquires(RCU)
{
	unsigned int i;

	rcu_read_lock();
	if (!*pos)
		return SEQ_START_TOKEN;
	for (i = *pos - 1; i < vnacct_flows_capacity(); i++) {
		struct vnacct_flow *f = vnacct_flow_at(i);

		if (f) {
			*pos = i + 1;
			return f;
		}
	}
	return NULL;
}

static void *vnacct_flows_next(struct seq_file *m, void *v, loff_t *pos)
{
	(*pos)++;
	rcu_read_unlock();
	return vnacct_flows_start(m, pos);
}

static void vnacct_flows_stop(struct seq_file *m, void *v)
	__releases(RCU)
{
	rcu_read_unlock();
}

/* Per-open scratch: a histogram snapshot is too big for the stack. */
struct vnacct_seq_priv {
	struct vnacct_hist_snap snap;
	struct vnacct_inflight pkt;
	u64 now;
};

static void vnacct_seq_flow_key(struct seq_file *m, const struct vnacct_flow *f)
{
	const struct vnacct_flow_key *k = &f->key;

	seq_printf(m, "%-6u %-10u %-7u %-10s %-6s", vnacct_flow_index(f),
		   k->netns, k->ifindex, vnacct_dir_names[k->dir],
		   vnacct_proto_name(k));
	vnacct_seq_addr(m, k, &k->saddr);
	seq_printf(m, " %-5u", ntohs(k->sport));
	vnacct_seq_addr(m, k, &k->daddr);
	seq_printf(m, " %-5u", ntohs(k->dport));
}

static void vnacct_seq_pcts(struct seq_file *m, const struct vnacct_hist_snap *s)
{
	seq_printf(m, " %12llu %12llu %12llu %12llu",
		   vnacct_hist_percentile(s, 5000), vnacct_hist_percentile(s, 9000),
		   vnacct_hist_percentile(s, 9900), vnacct_hist_percentile(s, 9990));
}

/*
 * A flow's line(s) were printed from @start while its counters may have
 * moved: when they did, drop the text and print again (a bounded number
 * of times), so that one line is one moment of the flow.
 */
static bool vnacct_seq_read_retry(struct seq_file *m,
				  const struct vnacct_flow *f,
				  unsigned int token, size_t start,
				  unsigned int *tries)
{
	if (!vnacct_flow_read_retry(f, token) ||
	    ++*tries >= VNACCT_FLOW_READ_TRIES)
		return false;
	m->count = start;
	return true;
}

static int vnacct_flows_show(struct seq_file *m, void *v)
{
	struct vnacct_seq_priv *p = m->private;
	unsigned int c, token, tries = 0;
	const struct vnacct_flow *f = v;
	s64 copy_ns = 0;
	size_t start;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "%-6s %-10s %-7s %-10s %-6s %-39s %-5s %-39s %-5s",
			   "id", "netns", "ifindex", "dir", "proto", "src",
			   "sport", "dst", "dport");
		seq_printf(m, " %12s %14s %8s %6s %8s %8s %14s %14s %14s",
			   "packets", "bytes", "drops", "reason", "gso_pkts",
			   "gso_segs", "copy_in_B", "copy_out_B", "copy_sock_B");
		seq_printf(m, " %12s %12s %12s %14s", "copy_lin_B",
			   "copy_cow_B", "copy_seg_B", "copy_ns");
		seq_printf(m, " %12s %12s %12s %12s %12s %8s %12s %12s\n",
			   "res_p50_ns", "res_p90_ns", "res_p99_ns",
			   "res_p999_ns", "res_max_ns", "drtt_n", "drtt_p50_ns",
			   "drtt_p99_ns");
		return 0;
	}
	start = m->count;
retry:
	token = vnacct_flow_read_begin(f);
	vnacct_seq_flow_key(m, f);
	seq_printf(m, " %12lld %14lld %8lld %6d %8lld %8lld",
		   atomic64_read(&f->packets), atomic64_read(&f->bytes),
		   atomic64_read(&f->drops), atomic_read(&f->drop_reason),
		   atomic64_read(&f->gso_packets), atomic64_read(&f->gso_segs));
	for (c = 0; c < VNACCT_COPY_COUNT; c++) {
		seq_printf(m, c < VNACCT_COPY_LINEARIZE ? " %14lld" : " %12lld",
			   atomic64_read(&f->copy_bytes[c]));
		copy_ns += atomic64_read(&f->copy_ns[c]);
	}
	seq_printf(m, " %14lld", copy_ns);
	vnacct_hist_snapshot(&f->total, &p->snap);
	vnacct_seq_pcts(m, &p->snap);
	seq_printf(m, " %12llu", p->snap.count ? p->snap.max : 0);
	vnacct_hist_snapshot(&f->drtt, &p->snap);
	seq_printf(m, " %8llu %12llu %12llu\n", p->snap.count,
		   vnacct_hist_percentile(&p->snap, 5000),
		   vnacct_hist_percentile(&p->snap, 9900));
	if (vnacct_seq_read_retry(m, f, token, start, &tries)) {
		copy_ns = 0;
		goto retry;
	}
	return 0;
}

static const struct seq_operations vnacct_flows_sops = {
	.start = vnacct_flows_start,
	.next = vnacct_flows_next,
	.stop = vnacct_flows_stop,
	.show = vnacct_flows_show,
};

/* histograms: per flow, one line for the total, each stage and delta-RTT */
static void vnacct_seq_hist(struct seq_file *m, const struct vnacct_flow *f,
			    const char *what, const struct vnacct_hist *h,
			    struct vnacct_hist_snap *s)
{
	unsigned int b;

	vnacct_hist_snapshot(h, s);
	if (!s->count)
		return;
	seq_printf(m, "%-6u %-11s %10llu %14llu %12llu %12llu",
		   vnacct_flow_index(f), what, s->count, s->sum, s->min, s->max);
	vnacct_seq_pcts(m, s);
	for (b = 0; b < VNACCT_HIST_BUCKETS; b++)
		if (s->buckets[b])
			seq_printf(m, " %llu-%llu:%llu",
				   vnacct_hist_bucket_lower(b),
				   vnacct_hist_bucket_upper(b), s->buckets[b]);
	seq_putc(m, '\n');
}

static int vnacct_hists_show(struct seq_file *m, void *v)
{
	struct vnacct_seq_priv *p = m->private;
	unsigned int i, token, tries = 0;
	const struct vnacct_flow *f = v;
	size_t start;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "%-6s %-11s %10s %14s %12s %12s %12s %12s %12s %12s %s\n",
			   "id", "what", "count", "sum_ns", "min_ns", "max_ns",
			   "p50_ns", "p90_ns", "p99_ns", "p999_ns",
			   "buckets(lo_ns-hi_ns:count)");
		return 0;
	}
	start = m->count;
	do {
		token = vnacct_flow_read_begin(f);
		vnacct_seq_hist(m, f, "total", &f->total, &p->snap);
		for (i = 0; i < VNACCT_STAGE_COUNT; i++)
			vnacct_seq_hist(m, f, vnacct_stage_names[i],
					&f->stage[i], &p->snap);
		vnacct_seq_hist(m, f, "drtt", &f->drtt, &p->snap);
	} while (vnacct_seq_read_retry(m, f, token, start, &tries));
	return 0;
}

static const struct seq_operations vnacct_hists_sops = {
	.start = vnacct_flows_start,
	.next = vnacct_flows_next,
	.stop = vnacct_flows_stop,
	.show = vnacct_hists_show,
};

/* stages: per flow and stage, packets, bytes and residency summary */
static int vnacct_stages_show(struct seq_file *m, void *v)
{
	struct vnacct_seq_priv *p = m->private;
	unsigned int i, token, tries = 0;
	const struct vnacct_flow *f = v;
	size_t start;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "%-6s %-10s %-7s %-10s %-11s %12s %14s %14s %12s %12s",
			   "id", "netns", "ifindex", "dir", "stage", "packets",
			   "bytes", "res_sum_ns", "res_min_ns", "res_max_ns");
		seq_printf(m, " %12s %12s %12s %12s\n", "res_p50_ns",
			   "res_p90_ns", "res_p99_ns", "res_p999_ns");
		return 0;
	}
	start = m->count;
retry:
	token = vnacct_flow_read_begin(f);
	for (i = 0; i < VNACCT_STAGE_COUNT; i++) {
		vnacct_hist_snapshot(&f->stage[i], &p->snap);
		if (!p->snap.count)
			continue;
		seq_printf(m, "%-6u %-10u %-7u %-10s %-11s %12llu %14lld %14llu %12llu %12llu",
			   vnacct_flow_index(f), f->key.netns, f->key.ifindex,
			   vnacct_dir_names[f->key.dir], vnacct_stage_names[i],
			   p->snap.count, atomic64_read(&f->stage_bytes[i]),
			   p->snap.sum, p->snap.min, p->snap.max);
		vnacct_seq_pcts(m, &p->snap);
		seq_putc(m, '\n');
	}
	if (vnacct_seq_read_retry(m, f, token, start, &tries))
		goto retry;
	return 0;
}

static const struct seq_operations vnacct_stages_sops = {
	.start = vnacct_flows_start,
	.next = vnacct_flows_next,
	.stop = vnacct_flows_stop,
	.show = vnacct_stages_show,
};

#define VNACCT_SEQ_FILE(name)						\
static int vnacct_##name##_open(struct inode *inode, struct file *file) \
{									\
	return seq_open_private(file, &vnacct_##name##_sops,		\
				sizeof(struct vnacct_seq_priv));	\
}									\
static const struct file_operations vnacct_##name##_fops = {		\
	.owner = THIS_MODULE,						\
	.open = vnacct_##name##_open,					\
	.read = seq_read,						\
	.llseek = seq_lseek,						\
	.release = seq_release_private,					\
}

/*
 * inflight: followed packets that have not left.  *pos is the tracker slot
 * of the line shown + 1, 0 the header line; the scan resumes after it.
 */
static void *vnacct_inflight_find(struct seq_file *m, loff_t *pos,
				  unsigned int from)
{
	struct vnacct_seq_priv *p = m->private;
	unsigned int slot = from;
	bool found = vnacct_acct_inflight(&slot, p->now, &p->pkt);

	*pos = (loff_t)slot + 1;
	return found ? &p->pkt : NULL;
}

static void *vnacct_inflight_start(struct seq_file *m, loff_t *pos)
{
	struct vnacct_seq_priv *p = m->private;

	p->now = ktime_get_ns();
	if (!*pos)
		return SEQ_START_TOKEN;
	if (*pos > U32_MAX)
		return NULL;
	return vnacct_inflight_find(m, pos, *pos - 1);
}

static void *vnacct_inflight_next(struct seq_file *m, void *v, loff_t *pos)
{
	/* *pos came from vnacct_inflight_find(): at most the capacity + 1 */
	return vnacct_inflight_find(m, pos, v == SEQ_START_TOKEN ? 0 : *pos);
}

static void vnacct_inflight_stop(struct seq_file *m, void *v)
{
}

static int vnacct_inflight_show(struct seq_file *m, void *v)
{
	const struct vnacct_inflight *p = v;
	const struct vnacct_flow_key *k;

	if (v == SEQ_START_TOKEN) {
		seq_printf(m, "%-8s %14s %14s %-11s %-6s %-10s %-7s %-7s %-6s %-39s %-5s %-39s %-5s %s\n",
			   "slot", "age_ns", "idle_ns", "stage", "origin",
			   "netns", "ifindex", "to_tap", "proto", "src",
			   "sport", "dst", "dport", "len_B");
		return 0;
	}
	k = &p->key;
	seq_printf(m, "%-8llu %14llu %14llu %-11s %-6s %-10u %-7u %-7u %-6s",
		   (unsigned long long)(m->index - 1), p->age_ns, p->idle_ns,
		   vnacct_stage_names[p->stage], p->origin, p->netns,
		   p->ifindex, p->guest_ifindex, vnacct_proto_name(k));
	vnacct_seq_addr(m, k, &k->saddr);
	seq_printf(m, " %-5u", ntohs(k->sport));
	vnacct_seq_addr(m, k, &k->daddr);
	seq_printf(m, " %-5u %u\n", ntohs(k->dport), p->len);
	return 0;
}

static const struct seq_operations vnacct_inflight_sops = {
	.start = vnacct_inflight_start,
	.next = vnacct_inflight_next,
	.stop = vnacct_inflight_stop,
	.show = vnacct_inflight_show,
};

VNACCT_SEQ_FILE(flows);
VNACCT_SEQ_FILE(hists);
VNACCT_SEQ_FILE(stages);
VNACCT_SEQ_FILE(inflight);

static int vnacct_stats_show(struct seq_file *m, void *v)
{
	struct vnacct_hook_stats st;
	u64 stale, reused;
	unsigned int id;

	seq_printf(m, "%-24s %-10s %20s %20s\n", "hook", "kind", "hits", "ns");
	for (id = 0; id < VNACCT_HOOK_COUNT; id++) {
		vnacct_hook_stats(id, &st);
		seq_printf(m, "%-24s %-10s %20llu %20llu\n", st.name, st.kind,
			   st.hits, st.ns);
	}
	seq_printf(m, "%-35s %20lld\n", "packets_tracked",
		   atomic64_read(&vnacct_ctr.tracked));
	seq_printf(m, "%-35s %20lld\n", "packets_exited",
		   atomic64_read(&vnacct_ctr.exited));
	seq_printf(m, "%-35s %20lld\n", "packets_untracked",
		   atomic64_read(&vnacct_ctr.untracked));
	seq_printf(m, "%-35s %20lld\n", "packets_midpath",
		   atomic64_read(&vnacct_ctr.midpath));
	seq_printf(m, "%-35s %20lld\n", "packets_sampled_out",
		   atomic64_read(&vnacct_ctr.sampled_out));
	vnacct_acct_lost(&stale, &reused);
	seq_printf(m, "%-35s %20llu\n", "packets_lost_stale", stale);
	seq_printf(m, "%-35s %20llu\n", "packets_lost_reused", reused);
	seq_printf(m, "%-35s %20lld\n", "packets_cloned",
		   atomic64_read(&vnacct_ctr.clones));
	seq_printf(m, "%-35s %20llu\n", "kprobes_missed",
		   vnacct_hooks_missed());
	seq_printf(m, "%-35s %20u\n", "packets_in_flight",
		   vnacct_acct_in_flight());
	seq_printf(m, "%-35s %20u\n", "flows", vnacct_flows_count());
	seq_printf(m, "%-35s %20u\n", "flows_max", vnacct_flows_capacity());
	seq_printf(m, "%-35s %20lld\n", "flows_full",
		   atomic64_read(&vnacct_ctr.flows_full));
	seq_printf(m, "%-35s %20lld\n", "flows_evicted",
		   atomic64_read(&vnacct_ctr.flows_evicted));
	seq_printf(m, "%-35s %20zu\n", "memory_bytes",
		   vnacct_flows_memory() + vnacct_acct_memory());
	seq_printf(m, "%-35s %20u\n", "enabled", READ_ONCE(vnacct_cfg.enabled));
	seq_printf(m, "%-35s %20u\n", "sample", READ_ONCE(vnacct_cfg.sample));
	seq_printf(m, "%-35s %20u\n", "flow_timeout_s",
		   READ_ONCE(vnacct_cfg.flow_timeout));
	seq_printf(m, "%-35s %20u\n", "filter_ifindex",
		   READ_ONCE(vnacct_cfg.filter_ifindex));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vnacct_stats);

/*
 * control: one command per write.
 *   reset | enable | disable | sample N | timeout SECONDS |
 *   filter IFNAME | filter none
 * IFNAME is looked up in the writer's network namespace.  Anything else is
 * -EINVAL and changes nothing.
 */
static int vnacct_control_filter(const char *arg)
{
	struct net *net = current->nsproxy->net_ns;
	struct net_device *dev;

	if (!strcmp(arg, "none")) {
		WRITE_ONCE(vnacct_cfg.filter_ifindex, 0);
		return 0;
	}
	dev = dev_get_by_name(net, arg);
	if (!dev)
		return -EINVAL;
	WRITE_ONCE(vnacct_cfg.filter_netns, net->ns.inum);
	WRITE_ONCE(vnacct_cfg.filter_ifindex, dev->ifindex);
	dev_put(dev);
	return 0;
}

static int vnacct_control_cmd(char *cmd)
{
	char *arg = strchr(cmd, ' ');
	u32 val;

	if (arg) {
		*arg++ = '\0';
		if (!*arg || strchr(arg, ' '))
			return -EINVAL;
	}
	if (!strcmp(cmd, "reset") && !arg) {
		vnacct_flows_reset();
		return 0;
	}
	if (!strcmp(cmd, "enable") && !arg) {
		WRITE_ONCE(vnacct_cfg.enabled, true);
		return 0;
	}
	if (!strcmp(cmd, "disable") && !arg) {
		WRITE_ONCE(vnacct_cfg.enabled, false);
		return 0;
	}
	if (!strcmp(cmd, "filter") && arg)
		return vnacct_control_filter(arg);
	if (!arg || kstrtou32(arg, 10, &val))
		return -EINVAL;
	if (!strcmp(cmd, "sample") && val >= 1 && val <= 65536) {
		WRITE_ONCE(vnacct_cfg.sample, val);
		return 0;
	}
	if (!strcmp(cmd, "timeout") && val >= 1 && val <= 86400) {
		WRITE_ONCE(vnacct_cfg.flow_timeout, val);
		return 0;
	}
	return -EINVAL;
}

static ssize_t vnacct_control_write(struct file *file, const char __user *ubuf,
				    size_t len, loff_t *ppos)
{
	char buf[64];
	int err;

	if (!len || len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = '\0';
	if (strlen(buf) != len)	/* an embedded NUL: "reset\0junk" */
		return -EINVAL;
	if (buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	err = vnacct_control_cmd(buf);
	return err ? err : len;
}

static const struct file_operations vnacct_control_fops = {
	.owner = THIS_MODULE,
	.write = vnacct_control_write,
	.llseek = noop_llseek,
};

int vnacct_debugfs_init(void)
{
	vnacct_dir = debugfs_create_dir("vnacct", NULL);
	if (IS_ERR(vnacct_dir))
		return PTR_ERR(vnacct_dir);
	debugfs_create_file("stats", 0400, vnacct_dir, NULL, &vnacct_stats_fops);
	debugfs_create_file("flows", 0400, vnacct_dir, NULL, &vnacct_flows_fops);
	debugfs_create_file("stages", 0400, vnacct_dir, NULL,
			    &vnacct_stages_fops);
	debugfs_create_file("histograms", 0400, vnacct_dir, NULL,
			    &vnacct_hists_fops);
	debugfs_create_file("inflight", 0400, vnacct_dir, NULL,
			    &vnacct_inflight_fops);
	debugfs_create_file("control", 0200, vnacct_dir, NULL,
			    &vnacct_control_fops);
	return 0;
}

void vnacct_debugfs_exit(void)
{
	/* Waits for readers still inside a show function. */
	debugfs_remove_recursive(vnacct_dir);
}
