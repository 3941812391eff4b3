// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct generic netlink family "vnacct" (include/uapi/linux/vnacct.h,
 * Documentation/netlink/specs/vnacct.yaml).  This file owns the family and
 * its policies, the flow dump (with its consistency sequence), the stats
 * and config commands, and the threshold alerts: the bounded per-CPU queue
 * the packet path fills and the work item that turns it into multicast
 * notifications.
 *
 * Visibility: a caller sees the flows whose network namespace is its own;
 * a caller in the initial namespace with CAP_NET_ADMIN sees every flow.
 * Alerts go to the "alerts" group of the flow's namespace and, for flows
 * of other namespaces, of the initial namespace too; subscribing needs
 * CAP_NET_ADMIN (GENL_MCAST_CAP_NET_ADMIN).
 */
#include <linux/capability.h>
#include <linux/netdevice.h>
#include <linux/percpu.h>
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>
#include <net/genetlink.h>
#include <net/net_namespace.h>
#include <net/netlink.h>
#include <net/sock.h>

#include "acct.h"
#include "vnacct.h"

/* threshold alerts queued per CPU before further ones are dropped */
#define VNACCT_NL_RING		64
/* alerts sent per run of the alert work at most */
#define VNACCT_NL_BUDGET	64
/* delay before the next run when a run used its whole budget */
#define VNACCT_NL_BACKOFF	(HZ / 10)
/* largest threshold: one hour, in ns */
#define VNACCT_NL_MAX_THRESHOLD	(3600ULL * NSEC_PER_SEC)

/* read by the packet path (vnacct_nl_residency()), 0: alerts off */
u64 vnacct_nl_threshold_ns;

/*
 * Serialises SET_CONFIG and RESET with each other: the family runs with
 * parallel_ops, so genl_mutex does not.  SET_CONFIG validates every
 * attribute before it changes anything; the mutex makes the whole change
 * one step for other netlink writers (debugfs control writes one field at
 * a time, as documented for struct vnacct_config).
 */
static DEFINE_MUTEX(vnacct_nl_lock);

/* bumped by vnacct_nl_flows_changed() when flows are created or removed */
static atomic_t vnacct_nl_gen = ATOMIC_INIT(0);
static atomic64_t vnacct_nl_alerts_sent = ATOMIC64_INIT(0);
static atomic64_t vnacct_nl_alerts_dropped = ATOMIC64_INIT(0);

/* one threshold crossing, copied out of the packet path */
struct vnacct_nl_alert {
	struct vnacct_flow_key key;
	u32 id;
	u64 residency;
	u64 time;
};

/*
 * One CPU's alert queue.  @lock (raw: taken in the packet path, which may
 * be a hard interrupt and must not sleep on PREEMPT_RT) guards @head, @len
 * and @e against the alert work draining the queue from another CPU.  It
 * is held for one struct copy.
 */
struct vnacct_nl_ring {
	raw_spinlock_t lock;
	unsigned int head;
	unsigned int len;
	struct vnacct_nl_alert e[VNACCT_NL_RING];
};

static DEFINE_PER_CPU(struct vnacct_nl_ring, vnacct_nl_rings);
static bool vnacct_nl_live;

static void vnacct_nl_alert_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(vnacct_nl_alert_work, vnacct_nl_alert_fn);

static struct genl_family vnacct_nl_family;

/**
 * vnacct_nl_flows_changed() - note that a flow was created or removed
 *
 * Makes a flow dump running at the same time report NLM_F_DUMP_INTR.
 * Context: any, no lock needed (one atomic increment).
 */
void vnacct_nl_flows_changed(void)
{
	atomic_inc(&vnacct_nl_gen);
}

/*
 * The dump sequence.  Until flows.c calls vnacct_nl_flows_changed(), the
 * number of flows and of evictions stand in for it: a creation or removal
 * changes one of them (a creation exactly cancelled by a removal between
 * two parts of a dump is only caught with the explicit counter).  Never 0:
 * 0 disables the check.
 */
static unsigned int vnacct_nl_flows_seq(void)
{
	unsigned int seq = atomic_read(&vnacct_nl_gen);

	seq += vnacct_flows_count() * 0x10001U;
	seq += (unsigned int)atomic64_read(&vnacct_ctr.flows_evicted) << 8;
	return seq << 1 | 1;
}

/* May the caller (in @net, sending @skb) see flows of namespace @inum? */
static bool vnacct_nl_may_see(const struct sk_buff *skb, struct net *net,
			      u32 inum)
{
	if (net->ns.inum == inum)
		return true;
	return net_eq(net, &init_net) && netlink_capable(skb, CAP_NET_ADMIN);
}

static int vnacct_nl_put_u64(struct sk_buff *skb, int type, u64 v, int pad)
{
	return nla_put_u64_64bit(skb, type, v, pad);
}

static int vnacct_nl_put_hist(struct sk_buff *skb, int type,
			      const struct vnacct_hist *h,
			      struct vnacct_hist_snap *s, bool buckets)
{
	static const int pct[][2] = {
		{ VNACCT_A_HIST_P50, 5000 }, { VNACCT_A_HIST_P90, 9000 },
		{ VNACCT_A_HIST_P99, 9900 }, { VNACCT_A_HIST_P999, 9990 },
	};
	struct nlattr *nest, *b;
	unsigned int i;

	vnacct_hist_snapshot(h, s);
	nest = nla_nest_start(skb, type);
	if (!nest)
		return -EMSGSIZE;
	if (vnacct_nl_put_u64(skb, VNACCT_A_HIST_COUNT, s->count,
			      VNACCT_A_HIST_PAD) ||
	    vnacct_nl_put_u64(skb, VNACCT_A_HIST_SUM, s->sum,
			      VNACCT_A_HIST_PAD) ||
	    vnacct_nl_put_u64(skb, VNACCT_A_HIST_MIN, s->count ? s->min : 0,
			      VNACCT_A_HIST_PAD) ||
	    vnacct_nl_put_u64(skb, VNACCT_A_HIST_MAX, s->count ? s->max : 0,
			      VNACCT_A_HIST_PAD))
		goto cancel;
	for (i = 0; i < ARRAY_SIZE(pct); i++)
		if (vnacct_nl_put_u64(skb, pct[i][0],
				      vnacct_hist_percentile(s, pct[i][1]),
				      VNACCT_A_HIST_PAD))
			goto cancel;
	for (i = 0; buckets && i < VNACCT_HIST_BUCKETS; i++) {
		if (!s->buckets[i])
			continue;
		b = nla_nest_start(skb, VNACCT_A_HIST_BUCKET);
		if (!b ||
		    vnacct_nl_put_u64(skb, VNACCT_A_BUCKET_LOWER,
				      vnacct_hist_bucket_lower(i),
				      VNACCT_A_BUCKET_PAD) ||
		    vnacct_nl_put_u64(skb, VNACCT_A_BUCKET_UPPER,
				      vnacct_hist_bucket_upper(i),
				      VNACCT_A_BUCKET_PAD) ||
		    vnacct_nl_put_u64(skb, VNACCT_A_BUCKET_COUNT, s->buckets[i],
				      VNACCT_A_BUCKET_PAD))
			goto cancel;
		nla_nest_end(skb, b);
	}
	nla_nest_end(skb, nest);
	return 0;
cancel:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* The key fields of a flow (also the body of a threshold alert). */
static int vnacct_nl_put_key(struct sk_buff *skb, u32 id,
			     const struct vnacct_flow_key *k)
{
	int alen = k->family == AF_INET ? 4 : 16;

	if (nla_put_u32(skb, VNACCT_A_FLOW_ID, id) ||
	    nla_put_u32(skb, VNACCT_A_FLOW_NETNS, k->netns) ||
	    nla_put_u32(skb, VNACCT_A_FLOW_IFINDEX, k->ifindex) ||
	    nla_put_u8(skb, VNACCT_A_FLOW_DIR, k->dir) ||
	    nla_put_u8(skb, VNACCT_A_FLOW_FAMILY, k->family) ||
	    nla_put_u8(skb, VNACCT_A_FLOW_PROTO, k->proto) ||
	    nla_put_be16(skb, VNACCT_A_FLOW_ETHERTYPE, k->ethertype) ||
	    nla_put_be16(skb, VNACCT_A_FLOW_SPORT, k->sport) ||
	    nla_put_be16(skb, VNACCT_A_FLOW_DPORT, k->dport))
		return -EMSGSIZE;
	if (k->family != AF_INET && k->family != AF_INET6)
		return 0;
	if (nla_put(skb, VNACCT_A_FLOW_SADDR, alen, &k->saddr) ||
	    nla_put(skb, VNACCT_A_FLOW_DADDR, alen, &k->daddr))
		return -EMSGSIZE;
	return 0;
}

static int vnacct_nl_put_counters(struct sk_buff *skb,
				  const struct vnacct_flow *f)
{
	static const struct {
		int type;
		size_t off;
	} c[] = {
		{ VNACCT_A_FLOW_PACKETS, offsetof(struct vnacct_flow, packets) },
		{ VNACCT_A_FLOW_BYTES, offsetof(struct vnacct_flow, bytes) },
		{ VNACCT_A_FLOW_DROPS, offsetof(struct vnacct_flow, drops) },
		{ VNACCT_A_FLOW_GSO_PACKETS,
		  offsetof(struct vnacct_flow, gso_packets) },
		{ VNACCT_A_FLOW_GSO_SEGS, offsetof(struct vnacct_flow, gso_segs) },
	};
	struct nlattr *nest;
	unsigned int i;

	if (vnacct_nl_put_u64(skb, VNACCT_A_FLOW_FIRST_NS,
			      READ_ONCE(f->first_ns), VNACCT_A_FLOW_PAD) ||
	    vnacct_nl_put_u64(skb, VNACCT_A_FLOW_LAST_NS,
			      READ_ONCE(f->last_ns), VNACCT_A_FLOW_PAD) ||
	    nla_put_u32(skb, VNACCT_A_FLOW_DROP_REASON,
			atomic_read(&f->drop_reason)))
		return -EMSGSIZE;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		const atomic64_t *v = (const void *)f + c[i].off;

		if (vnacct_nl_put_u64(skb, c[i].type, atomic64_read(v),
				      VNACCT_A_FLOW_PAD))
			return -EMSGSIZE;
	}
	for (i = 0; i < VNACCT_COPY_COUNT; i++) {
		nest = nla_nest_start(skb, VNACCT_A_FLOW_COPY);
		if (!nest ||
		    nla_put_u32(skb, VNACCT_A_COPY_KIND, i) ||
		    vnacct_nl_put_u64(skb, VNACCT_A_COPY_BYTES,
				      atomic64_read(&f->copy_bytes[i]),
				      VNACCT_A_COPY_PAD) ||
		    vnacct_nl_put_u64(skb, VNACCT_A_COPY_NS,
				      atomic64_read(&f->copy_ns[i]),
				      VNACCT_A_COPY_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

static int vnacct_nl_put_stages(struct sk_buff *skb,
				const struct vnacct_flow *f,
				struct vnacct_hist_snap *s, bool buckets)
{
	struct nlattr *nest;
	unsigned int i;

	for (i = 0; i < VNACCT_STAGE_COUNT; i++) {
		/* Stages the flow never went through are left out. */
		if (!atomic64_read(&f->stage[i].count))
			continue;
		nest = nla_nest_start(skb, VNACCT_A_FLOW_STAGE);
		if (!nest ||
		    nla_put_u32(skb, VNACCT_A_STAGE_ID, i) ||
		    vnacct_nl_put_u64(skb, VNACCT_A_STAGE_BYTES,
				      atomic64_read(&f->stage_bytes[i]),
				      VNACCT_A_STAGE_PAD) ||
		    vnacct_nl_put_hist(skb, VNACCT_A_STAGE_RESIDENCY,
				       &f->stage[i], s, buckets) ||
		    /* the count of the snapshot just sent */
		    vnacct_nl_put_u64(skb, VNACCT_A_STAGE_PACKETS, s->count,
				      VNACCT_A_STAGE_PAD))
			return -EMSGSIZE;
		nla_nest_end(skb, nest);
	}
	return 0;
}

/*
 * One flow message.  Caller holds rcu_read_lock(), which keeps @f from
 * being cleared and reused (flows.c waits for a grace period).
 */
static int vnacct_nl_fill_flow(struct sk_buff *skb, const struct vnacct_flow *f,
			       u32 portid, u32 seq, int flags, u8 cmd,
			       struct vnacct_hist_snap *s, bool buckets,
			       struct netlink_callback *cb)
{
	unsigned int token, tries = 0;
	void *hdr;

retry:
	hdr = genlmsg_put(skb, portid, seq, &vnacct_nl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);
	token = vnacct_flow_read_begin(f);
	if (vnacct_nl_put_key(skb, vnacct_flow_index(f), &f->key) ||
	    vnacct_nl_put_counters(skb, f) ||
	    vnacct_nl_put_hist(skb, VNACCT_A_FLOW_RESIDENCY, &f->total, s,
			       buckets) ||
	    vnacct_nl_put_stages(skb, f, s, buckets) ||
	    vnacct_nl_put_hist(skb, VNACCT_A_FLOW_DRTT, &f->drtt, s, buckets) ||
	    (!buckets && nla_put_flag(skb, VNACCT_A_FLOW_BUCKETS_OMITTED))) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	/* One message, one moment of the flow: again if it moved meanwhile. */
	if (vnacct_flow_read_retry(f, token) &&
	    ++tries < VNACCT_FLOW_READ_TRIES) {
		genlmsg_cancel(skb, hdr);
		goto retry;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

static const struct nla_policy vnacct_nl_flow_policy[VNACCT_A_FLOW_MAX + 1] = {
	[VNACCT_A_FLOW_ID] = { .type = NLA_U32 },
	[VNACCT_A_FLOW_IFINDEX] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* Commands without request attributes: every attribute is rejected. */
static const struct nla_policy vnacct_nl_none_policy[VNACCT_A_STATS_MAX + 1];

/* not const: 6.1 policies point at non-const ranges */
static struct netlink_range_validation vnacct_nl_sample_range = {
	.min = 1, .max = 65536,
};

static struct netlink_range_validation vnacct_nl_timeout_range = {
	.min = 1, .max = 86400,
};

static struct netlink_range_validation vnacct_nl_threshold_range = {
	.min = 0, .max = VNACCT_NL_MAX_THRESHOLD,
};

static const struct nla_policy
vnacct_nl_config_policy[VNACCT_A_CONFIG_MAX + 1] = {
	[VNACCT_A_CONFIG_ENABLED] = NLA_POLICY_MAX(NLA_U8, 1),
	[VNACCT_A_CONFIG_SAMPLE] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vnacct_nl_sample_range),
	[VNACCT_A_CONFIG_FLOW_TIMEOUT] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &vnacct_nl_timeout_range),
	[VNACCT_A_CONFIG_FILTER_IFINDEX] = { .type = NLA_U32 },
	[VNACCT_A_CONFIG_FILTER_NETNS] = { .type = NLA_REJECT },
	[VNACCT_A_CONFIG_FILTER_IFNAME] = { .type = NLA_NUL_STRING,
					    .len = IFNAMSIZ - 1 },
	[VNACCT_A_CONFIG_THRESHOLD_NS] =
		NLA_POLICY_FULL_RANGE(NLA_U64, &vnacct_nl_threshold_range),
};

/*
 * Every vnacct attribute is in host byte order.  The policy parser ignores
 * NLA_F_NET_BYTEORDER, so a sender that sets it would have its value read
 * byte-swapped from what it meant: refuse it instead.
 */
static int vnacct_nl_host_order(struct nlattr **a, unsigned int maxattr,
				struct netlink_ext_ack *extack)
{
	unsigned int i;

	for (i = 1; i <= maxattr; i++) {
		if (a[i] && (a[i]->nla_type & NLA_F_NET_BYTEORDER)) {
			NL_SET_ERR_MSG_ATTR(extack, a[i],
					    "attributes are in host byte order: NLA_F_NET_BYTEORDER not accepted");
			return -EINVAL;
		}
	}
	return 0;
}

/* the dump request's attributes (Kbuild detects the API) */
static struct nlattr **vnacct_nl_dump_attrs(struct netlink_callback *cb)
{
#ifdef VNACCT_HAVE_GENL_INFO_DUMP
	return genl_info_dump(cb)->attrs;
#else
	return genl_dumpit_info(cb)->attrs;
#endif
}

/* Flow snapshot scratch: too big for the stack (struct vnacct_hist_snap). */
static int vnacct_nl_dump_start(struct netlink_callback *cb)
{
	struct vnacct_hist_snap *s = kmalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return -ENOMEM;
	cb->args[0] = 0;
	cb->args[1] = (long)s;
	return 0;
}

static int vnacct_nl_dump_done(struct netlink_callback *cb)
{
	kfree((void *)cb->args[1]);
	return 0;
}

static int vnacct_nl_dump_flows(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	struct vnacct_hist_snap *s = (void *)cb->args[1];
	struct net *net = sock_net(skb->sk);
	struct nlattr **attrs = vnacct_nl_dump_attrs(cb);
	unsigned int i, cap = vnacct_flows_capacity();
	u32 ifindex = 0;
	int err = 0;

	/*
	 * Checked here, not in ->start: 6.1 gives ->start no extack, while a
	 * dump callback's error and message reach the caller in NLMSG_DONE.
	 */
	if (attrs && vnacct_nl_host_order(attrs, VNACCT_A_FLOW_IFINDEX,
					  cb->extack))
		return -EINVAL;
	if (attrs && attrs[VNACCT_A_FLOW_IFINDEX])
		ifindex = nla_get_u32(attrs[VNACCT_A_FLOW_IFINDEX]);
	cb->seq = vnacct_nl_flows_seq();
	/* Keeps each record from being cleared while it is copied out. */
	rcu_read_lock();
	for (i = cb->args[0]; i < cap; i++) {
		const struct vnacct_flow *f = vnacct_flow_at(i);

		if (!f || !vnacct_nl_may_see(cb->skb, net, f->key.netns) ||
		    (ifindex && f->key.ifindex != ifindex))
			continue;
		err = vnacct_nl_fill_flow(skb, f, NETLINK_CB(cb->skb).portid,
					  cb->nlh->nlmsg_seq, NLM_F_MULTI,
					  VNACCT_CMD_DUMP_FLOWS, s, true, cb);
		/* A flow too big for a message on its own: no buckets. */
		if (err && !skb->len)
			err = vnacct_nl_fill_flow(skb, f,
						  NETLINK_CB(cb->skb).portid,
						  cb->nlh->nlmsg_seq,
						  NLM_F_MULTI,
						  VNACCT_CMD_DUMP_FLOWS, s,
						  false, cb);
		if (err)
			break;
	}
	rcu_read_unlock();
	cb->args[0] = i;
	if (err && skb->len)
		return skb->len;
	return err;
}

static int vnacct_nl_get_flow(struct sk_buff *skb, struct genl_info *info)
{
	static const size_t sizes[] = { NLMSG_GOODSIZE, 16 * NLMSG_GOODSIZE };
	struct net *net = genl_info_net(info);
	struct vnacct_hist_snap *s;
	struct sk_buff *msg = NULL;
	struct vnacct_flow *f;
	unsigned int i;
	int err = -ENOENT;
	u32 id;

	if (GENL_REQ_ATTR_CHECK(info, VNACCT_A_FLOW_ID)) {
		GENL_SET_ERR_MSG(info, "flow id attribute is required");
		return -EINVAL;
	}
	if (vnacct_nl_host_order(info->attrs, VNACCT_A_FLOW_ID, info->extack))
		return -EINVAL;
	id = nla_get_u32(info->attrs[VNACCT_A_FLOW_ID]);
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	/* The last try drops the buckets, which always fits. */
	for (i = 0; i <= ARRAY_SIZE(sizes); i++) {
		msg = genlmsg_new(sizes[min_t(unsigned int, i,
					      ARRAY_SIZE(sizes) - 1)],
				  GFP_KERNEL);
		if (!msg) {
			err = -ENOMEM;
			break;
		}
		/* Keeps the record from being cleared while it is read. */
		rcu_read_lock();
		f = id < vnacct_flows_capacity() ? vnacct_flow_at(id) : NULL;
		if (f && vnacct_nl_may_see(skb, net, f->key.netns))
			err = vnacct_nl_fill_flow(msg, f, info->snd_portid,
						  info->snd_seq, 0,
						  VNACCT_CMD_GET_FLOW, s,
						  i < ARRAY_SIZE(sizes), NULL);
		else
			err = -ENOENT;
		rcu_read_unlock();
		if (err != -EMSGSIZE)
			break;
		nlmsg_free(msg);
		msg = NULL;
	}
	kfree(s);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[VNACCT_A_FLOW_ID],
				    "no such flow in this network namespace");
	if (err) {
		nlmsg_free(msg);
		return err;
	}
	return genlmsg_reply(msg, info);
}

static int vnacct_nl_put_stats(struct sk_buff *msg)
{
	static const struct {
		int type;
		atomic64_t *v;
	} c[] = {
		{ VNACCT_A_STATS_PACKETS_TRACKED, &vnacct_ctr.tracked },
		{ VNACCT_A_STATS_PACKETS_EXITED, &vnacct_ctr.exited },
		{ VNACCT_A_STATS_PACKETS_UNTRACKED, &vnacct_ctr.untracked },
		{ VNACCT_A_STATS_PACKETS_MIDPATH, &vnacct_ctr.midpath },
		{ VNACCT_A_STATS_PACKETS_SAMPLED_OUT, &vnacct_ctr.sampled_out },
		{ VNACCT_A_STATS_FLOWS_FULL, &vnacct_ctr.flows_full },
		{ VNACCT_A_STATS_FLOWS_EVICTED, &vnacct_ctr.flows_evicted },
		{ VNACCT_A_STATS_ALERTS_SENT, &vnacct_nl_alerts_sent },
		{ VNACCT_A_STATS_ALERTS_DROPPED, &vnacct_nl_alerts_dropped },
		{ VNACCT_A_STATS_PACKETS_CLONED, &vnacct_ctr.clones },
	};
	struct vnacct_hook_stats st;
	struct nlattr *nest;
	u64 stale, reused;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		if (vnacct_nl_put_u64(msg, c[i].type, atomic64_read(c[i].v),
				      VNACCT_A_STATS_PAD))
			return -EMSGSIZE;
	vnacct_acct_lost(&stale, &reused);
	if (vnacct_nl_put_u64(msg, VNACCT_A_STATS_PACKETS_LOST_STALE, stale,
			      VNACCT_A_STATS_PAD) ||
	    vnacct_nl_put_u64(msg, VNACCT_A_STATS_PACKETS_LOST_REUSED, reused,
			      VNACCT_A_STATS_PAD) ||
	    vnacct_nl_put_u64(msg, VNACCT_A_STATS_KPROBES_MISSED,
			      vnacct_hooks_missed(), VNACCT_A_STATS_PAD))
		return -EMSGSIZE;
	if (nla_put_u32(msg, VNACCT_A_STATS_PACKETS_IN_FLIGHT,
			vnacct_acct_in_flight()) ||
	    nla_put_u32(msg, VNACCT_A_STATS_FLOWS, vnacct_flows_count()) ||
	    nla_put_u32(msg, VNACCT_A_STATS_FLOWS_MAX,
			vnacct_flows_capacity()) ||
	    vnacct_nl_put_u64(msg, VNACCT_A_STATS_MEMORY_BYTES,
			      vnacct_flows_memory() + vnacct_acct_memory(),
			      VNACCT_A_STATS_PAD))
		return -EMSGSIZE;
	for (i = 0; i < VNACCT_HOOK_COUNT; i++) {
		vnacct_hook_stats(i, &st);
		nest = nla_nest_start(msg, VNACCT_A_STATS_HOOK);
		if (!nest ||
		    nla_put_string(msg, VNACCT_A_HOOK_NAME, st.name) ||
		    nla_put_string(msg, VNACCT_A_HOOK_KIND, st.kind) ||
		    vnacct_nl_put_u64(msg, VNACCT_A_HOOK_HITS, st.hits,
				      VNACCT_A_HOOK_PAD) ||
		    vnacct_nl_put_u64(msg, VNACCT_A_HOOK_NS, st.ns,
				      VNACCT_A_HOOK_PAD))
			return -EMSGSIZE;
		nla_nest_end(msg, nest);
	}
	return 0;
}

static int vnacct_nl_put_config(struct sk_buff *msg)
{
	if (nla_put_u8(msg, VNACCT_A_CONFIG_ENABLED,
		       READ_ONCE(vnacct_cfg.enabled)) ||
	    nla_put_u32(msg, VNACCT_A_CONFIG_SAMPLE,
			READ_ONCE(vnacct_cfg.sample)) ||
	    nla_put_u32(msg, VNACCT_A_CONFIG_FLOW_TIMEOUT,
			READ_ONCE(vnacct_cfg.flow_timeout)) ||
	    nla_put_u32(msg, VNACCT_A_CONFIG_FILTER_IFINDEX,
			READ_ONCE(vnacct_cfg.filter_ifindex)) ||
	    nla_put_u32(msg, VNACCT_A_CONFIG_FILTER_NETNS,
			READ_ONCE(vnacct_cfg.filter_ifindex) ?
			READ_ONCE(vnacct_cfg.filter_netns) : 0) ||
	    vnacct_nl_put_u64(msg, VNACCT_A_CONFIG_THRESHOLD_NS,
			      READ_ONCE(vnacct_nl_threshold_ns),
			      VNACCT_A_CONFIG_PAD))
		return -EMSGSIZE;
	return 0;
}

/* GET_STATS and GET_CONFIG: one reply built by @put. */
static int vnacct_nl_reply(struct genl_info *info,
			   int (*put)(struct sk_buff *msg))
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &vnacct_nl_family, 0,
				info->genlhdr->cmd);
	if (!hdr || put(msg)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static int vnacct_nl_get_stats(struct sk_buff *skb, struct genl_info *info)
{
	return vnacct_nl_reply(info, vnacct_nl_put_stats);
}

static int vnacct_nl_get_config(struct sk_buff *skb, struct genl_info *info)
{
	return vnacct_nl_reply(info, vnacct_nl_put_config);
}

static int vnacct_nl_set_config(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **a = info->attrs;
	struct net *net = genl_info_net(info);
	struct net_device *dev = NULL;
	bool filter = false;
	u32 ifindex = 0;
	unsigned int i;

	for (i = 1; i <= VNACCT_A_CONFIG_MAX && !a[i]; i++)
		;
	if (i > VNACCT_A_CONFIG_MAX) {
		GENL_SET_ERR_MSG(info, "no configuration attribute given");
		return -EINVAL;
	}
	if (vnacct_nl_host_order(a, VNACCT_A_CONFIG_MAX, info->extack))
		return -EINVAL;
	/*
	 * The policy (NLA_NUL_STRING) only asks for a NUL somewhere: "lo\0junk"
	 * would silently mean "lo".
	 */
	if (a[VNACCT_A_CONFIG_FILTER_IFNAME] &&
	    strnlen(nla_data(a[VNACCT_A_CONFIG_FILTER_IFNAME]),
		    nla_len(a[VNACCT_A_CONFIG_FILTER_IFNAME])) + 1 !=
	    nla_len(a[VNACCT_A_CONFIG_FILTER_IFNAME])) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    a[VNACCT_A_CONFIG_FILTER_IFNAME],
				    "filter-ifname must end at its only NUL");
		return -EINVAL;
	}
	if (a[VNACCT_A_CONFIG_FILTER_IFINDEX] &&
	    a[VNACCT_A_CONFIG_FILTER_IFNAME]) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    a[VNACCT_A_CONFIG_FILTER_IFNAME],
				    "give filter-ifindex or filter-ifname, not both");
		return -EINVAL;
	}
	/* Validate everything before changing anything. */
	if (a[VNACCT_A_CONFIG_FILTER_IFNAME]) {
		filter = true;
		dev = dev_get_by_name(net,
				      nla_data(a[VNACCT_A_CONFIG_FILTER_IFNAME]));
		if (!dev) {
			NL_SET_ERR_MSG_ATTR(info->extack,
					    a[VNACCT_A_CONFIG_FILTER_IFNAME],
					    "no such device in this network namespace");
			return -ENODEV;
		}
	} else if (a[VNACCT_A_CONFIG_FILTER_IFINDEX]) {
		filter = true;
		ifindex = nla_get_u32(a[VNACCT_A_CONFIG_FILTER_IFINDEX]);
		if (ifindex) {
			dev = dev_get_by_index(net, ifindex);
			if (!dev) {
				NL_SET_ERR_MSG_ATTR(info->extack,
						    a[VNACCT_A_CONFIG_FILTER_IFINDEX],
						    "no such device in this network namespace");
				return -ENODEV;
			}
		}
	}
	if (dev) {
		ifindex = dev->ifindex;
		dev_put(dev);
	}

	mutex_lock(&vnacct_nl_lock);
	if (a[VNACCT_A_CONFIG_ENABLED])
		WRITE_ONCE(vnacct_cfg.enabled,
			   !!nla_get_u8(a[VNACCT_A_CONFIG_ENABLED]));
	if (a[VNACCT_A_CONFIG_SAMPLE])
		WRITE_ONCE(vnacct_cfg.sample,
			   nla_get_u32(a[VNACCT_A_CONFIG_SAMPLE]));
	if (a[VNACCT_A_CONFIG_FLOW_TIMEOUT])
		WRITE_ONCE(vnacct_cfg.flow_timeout,
			   nla_get_u32(a[VNACCT_A_CONFIG_FLOW_TIMEOUT]));
	if (filter) {
		/* netns first: the packet path checks ifindex, then netns */
		WRITE_ONCE(vnacct_cfg.filter_netns, net->ns.inum);
		WRITE_ONCE(vnacct_cfg.filter_ifindex, ifindex);
	}
	if (a[VNACCT_A_CONFIG_THRESHOLD_NS])
		WRITE_ONCE(vnacct_nl_threshold_ns,
			   nla_get_u64(a[VNACCT_A_CONFIG_THRESHOLD_NS]));
	mutex_unlock(&vnacct_nl_lock);
	return 0;
}

static int vnacct_nl_reset(struct sk_buff *skb, struct genl_info *info)
{
	/* Sleeps in synchronize_rcu(); one reset at a time. */
	mutex_lock(&vnacct_nl_lock);
	vnacct_flows_reset();
	vnacct_nl_flows_changed();
	mutex_unlock(&vnacct_nl_lock);
	return 0;
}

static const struct genl_ops vnacct_nl_ops[] = {
	{
		.cmd = VNACCT_CMD_GET_STATS,
		.doit = vnacct_nl_get_stats,
		.policy = vnacct_nl_none_policy,
		.maxattr = ARRAY_SIZE(vnacct_nl_none_policy) - 1,
	},
	{
		.cmd = VNACCT_CMD_GET_FLOW,
		.doit = vnacct_nl_get_flow,
		.policy = vnacct_nl_flow_policy,
		.maxattr = VNACCT_A_FLOW_ID,
	},
	{
		.cmd = VNACCT_CMD_DUMP_FLOWS,
		.start = vnacct_nl_dump_start,
		.dumpit = vnacct_nl_dump_flows,
		.done = vnacct_nl_dump_done,
		.policy = vnacct_nl_flow_policy,
		.maxattr = VNACCT_A_FLOW_IFINDEX,
	},
	{
		.cmd = VNACCT_CMD_GET_CONFIG,
		.doit = vnacct_nl_get_config,
		.policy = vnacct_nl_none_policy,
		.maxattr = ARRAY_SIZE(vnacct_nl_none_policy) - 1,
	},
	{
		.cmd = VNACCT_CMD_SET_CONFIG,
		.doit = vnacct_nl_set_config,
		.policy = vnacct_nl_config_policy,
		.maxattr = VNACCT_A_CONFIG_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = VNACCT_CMD_RESET,
		.doit = vnacct_nl_reset,
		.policy = vnacct_nl_none_policy,
		.maxattr = ARRAY_SIZE(vnacct_nl_none_policy) - 1,
		.flags = GENL_ADMIN_PERM,
	},
};

static const struct genl_multicast_group vnacct_nl_mcgrps[] = {
	{ .name = VNACCT_MCGRP_ALERTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

/*
 * parallel_ops: without it every command runs under genl_mutex, which all
 * generic netlink families share; a RESET waiting for an RCU grace period
 * or a long flow dump would stall nl80211, devlink and the rest.  The
 * read commands need no lock (they read atomics, and flow records under
 * RCU); the two writers take vnacct_nl_lock.
 */
static struct genl_family vnacct_nl_family __ro_after_init = {
	.name = VNACCT_GENL_NAME,
	.version = VNACCT_GENL_VERSION,
	.netnsok = true,
	.parallel_ops = true,
	.module = THIS_MODULE,
	.ops = vnacct_nl_ops,
	.n_ops = ARRAY_SIZE(vnacct_nl_ops),
	/* strict validation for every command */
	.resv_start_op = VNACCT_CMD_GET_STATS,
	.mcgrps = vnacct_nl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(vnacct_nl_mcgrps),
};

/**
 * vnacct_nl_alert() - queue a threshold alert for a packet of @f
 * @f: the packet's flow
 * @ns: the packet's host residency, above vnacct_nl_threshold_ns
 *
 * Context: packet path, any context including hard interrupts; no
 * allocation, no sleeping: copies the key into this CPU's bounded queue
 * (dropping and counting when it is full) and kicks the alert work when
 * the queue was empty.
 */
void vnacct_nl_alert(const struct vnacct_flow *f, u64 ns)
{
	struct vnacct_nl_ring *r;
	struct vnacct_nl_alert *e;
	unsigned long flags;
	bool kick = false;

	if (!READ_ONCE(vnacct_nl_live))
		return;
	local_irq_save(flags);
	r = this_cpu_ptr(&vnacct_nl_rings);
	/* Against the alert work draining this CPU's queue (see struct). */
	raw_spin_lock(&r->lock);
	if (r->len < VNACCT_NL_RING) {
		e = &r->e[(r->head + r->len) % VNACCT_NL_RING];
		e->key = f->key;
		e->id = vnacct_flow_index(f);
		e->residency = ns;
		e->time = ktime_get_ns();
		kick = !r->len++;
	} else {
		atomic64_inc(&vnacct_nl_alerts_dropped);
	}
	raw_spin_unlock(&r->lock);
	local_irq_restore(flags);
	if (kick)
		queue_delayed_work(system_wq, &vnacct_nl_alert_work, 0);
}

static struct sk_buff *vnacct_nl_alert_msg(const struct vnacct_nl_alert *a)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return NULL;
	hdr = genlmsg_put(msg, 0, 0, &vnacct_nl_family, 0,
			  VNACCT_CMD_THRESHOLD);
	if (!hdr || vnacct_nl_put_key(msg, a->id, &a->key) ||
	    vnacct_nl_put_u64(msg, VNACCT_A_FLOW_RESIDENCY_NS, a->residency,
			      VNACCT_A_FLOW_PAD) ||
	    vnacct_nl_put_u64(msg, VNACCT_A_FLOW_TIME_NS, a->time,
			      VNACCT_A_FLOW_PAD)) {
		nlmsg_free(msg);
		return NULL;
	}
	genlmsg_end(msg, hdr);
	return msg;
}

/* Sends @msg to the alerts group of @net if anyone listens there. */
static bool vnacct_nl_mcast(struct sk_buff *msg, struct net *net)
{
	struct sk_buff *c;

	if (!genl_has_listeners(&vnacct_nl_family, net, 0))
		return false;
	c = skb_clone(msg, GFP_KERNEL);
	if (!c)
		return false;
	genlmsg_multicast_netns(&vnacct_nl_family, net, c, 0, 0, GFP_KERNEL);
	return true;
}

static void vnacct_nl_send_alert(const struct vnacct_nl_alert *a)
{
	struct sk_buff *msg = vnacct_nl_alert_msg(a);
	struct net *net, *found = NULL;
	bool sent;

	if (!msg) {
		atomic64_inc(&vnacct_nl_alerts_dropped);
		return;
	}
	sent = vnacct_nl_mcast(msg, &init_net);
	if (a->key.netns && a->key.netns != init_net.ns.inum) {
		/* The namespace list is walked under RCU; a ref keeps it. */
		rcu_read_lock();
		for_each_net_rcu(net) {
			if (net->ns.inum == a->key.netns) {
				found = maybe_get_net(net);
				break;
			}
		}
		rcu_read_unlock();
		if (found) {
			sent |= vnacct_nl_mcast(msg, found);
			put_net(found);
		}
	}
	nlmsg_free(msg);
	if (sent)
		atomic64_inc(&vnacct_nl_alerts_sent);
}

/* Pops the oldest alert of @cpu's queue into @a; false when empty. */
static bool vnacct_nl_pop(int cpu, struct vnacct_nl_alert *a)
{
	struct vnacct_nl_ring *r = per_cpu_ptr(&vnacct_nl_rings, cpu);
	unsigned long flags;
	bool got = false;

	/* Against that CPU's packet path (see struct vnacct_nl_ring). */
	raw_spin_lock_irqsave(&r->lock, flags);
	if (r->len) {
		*a = r->e[r->head];
		r->head = (r->head + 1) % VNACCT_NL_RING;
		r->len--;
		got = true;
	}
	raw_spin_unlock_irqrestore(&r->lock, flags);
	return got;
}

/*
 * Drains the queues round-robin, at most VNACCT_NL_BUDGET alerts per run;
 * when alerts remain it runs again after VNACCT_NL_BACKOFF, which bounds
 * the notification rate (640/s); what does not fit the queues meanwhile is
 * dropped and counted.
 */
static void vnacct_nl_alert_fn(struct work_struct *work)
{
	struct vnacct_nl_alert a;
	unsigned int budget = VNACCT_NL_BUDGET;
	bool more = true;
	int cpu;

	while (budget && more) {
		more = false;
		for_each_possible_cpu(cpu) {
			if (!budget)
				break;
			if (!vnacct_nl_pop(cpu, &a))
				continue;
			vnacct_nl_send_alert(&a);
			budget--;
			more = true;
		}
	}
	if (!budget)
		queue_delayed_work(system_wq, &vnacct_nl_alert_work,
				   VNACCT_NL_BACKOFF);
}

int vnacct_netlink_init(void)
{
	int cpu, err;

	BUILD_BUG_ON((int)VNACCT_FLOW_DIR_LOCAL != (int)VNACCT_DIR_LOCAL);
	BUILD_BUG_ON((int)VNACCT_FLOW_DIR_TO_GUEST != (int)VNACCT_DIR_TO_GUEST);
	BUILD_BUG_ON((int)VNACCT_FLOW_DIR_FROM_GUEST != (int)VNACCT_DIR_FROM_GUEST);
	for_each_possible_cpu(cpu)
		raw_spin_lock_init(&per_cpu_ptr(&vnacct_nl_rings, cpu)->lock);
	err = genl_register_family(&vnacct_nl_family);
	if (err)
		return err;
	WRITE_ONCE(vnacct_nl_live, true);
	return 0;
}

/* After the hooks are gone: nothing queues alerts any more. */
void vnacct_netlink_exit(void)
{
	WRITE_ONCE(vnacct_nl_live, false);
	cancel_delayed_work_sync(&vnacct_nl_alert_work);
	genl_unregister_family(&vnacct_nl_family);
}
