// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct-nl - netlink plumbing and reply parsers shared by the vnacct CLI
 * and vnacctd (see vnacct-nl.h).  Every message is built and parsed with
 * libmnl's helpers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include "vnacct-nl.h"

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

const char *const stage_names[VNACCT_STAGE_COUNT] = {
	"guest_tx", "backlog", "receive", "bridge", "qdisc", "driver",
	"guest_queue", "guest_rx", "socket",
};
const char *const dir_names[3] = { "local", "to_guest", "from_guest" };
const char *const copy_names[VNACCT_COPY_COUNT] = {
	"from_guest", "to_guest", "to_socket", "linearize", "cow", "segment",
};

/* 250 ns .. 10 s in 1-2.5-5 steps */
const uint64_t vnl_le_ns[VNL_LE_N] = {
	250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
	500000, 1000000, 2500000, 5000000, 10000000, 25000000, 50000000,
	100000000, 250000000, 500000000, 1000000000, 2500000000ULL,
	5000000000ULL, 10000000000ULL,
};

/* ---- requests ---- */
static int ctl_error(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	struct nl *nl = data;
	const struct nlattr *a;
	size_t off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!e->error)
		return MNL_CB_STOP;
	nl->extack[0] = 0;
	if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
		off = sizeof(*e);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		mnl_attr_for_each(a, nlh, off)
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				snprintf(nl->extack, sizeof(nl->extack), "%s",
					 mnl_attr_get_str(a));
	}
	errno = -e->error;
	return MNL_CB_ERROR;
}

static int ctl_done(const struct nlmsghdr *nlh, void *data)
{
	struct nl *nl = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		nl->intr = true;
	return MNL_CB_STOP;
}

static int ctl_noop(const struct nlmsghdr *nlh, void *data)
{
	(void)nlh;
	(void)data;
	return MNL_CB_OK;
}

static mnl_cb_t ctl_cbs[NLMSG_MIN_TYPE] = {
	[NLMSG_NOOP] = ctl_noop,
	[NLMSG_ERROR] = ctl_error,
	[NLMSG_DONE] = ctl_done,
	[NLMSG_OVERRUN] = ctl_noop,
};

struct req_ctx {
	struct nl *nl;
	mnl_cb_t cb;
	void *data;
};

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct req_ctx *r = data;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		r->nl->intr = true;
	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

static int ctl_wrap(const struct nlmsghdr *nlh, void *data)
{
	struct req_ctx *r = data;

	return ctl_cbs[nlh->nlmsg_type](nlh, r->nl);
}

static mnl_cb_t ctl_wrapped[NLMSG_MIN_TYPE] = {
	ctl_wrap, ctl_wrap, ctl_wrap, ctl_wrap,
};

struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint8_t cmd,
			uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = type == GENL_ID_CTRL ? 1 : VNACCT_GENL_VERSION;
	return nlh;
}

/* Sends @nlh and runs @cb on each reply; -1 with errno on error. */
/* Whether @buf holds the end of a dump (NLMSG_DONE) or an error reply. */
static bool nl_reply_ends(const void *buf, size_t len)
{
	const struct nlmsghdr *h = buf;
	int left = (int)len;

	for (; mnl_nlmsg_ok(h, left); h = mnl_nlmsg_next(h, &left))
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR)
			return true;
	return false;
}

int nl_run(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	struct req_ctx r = { nl, cb, data };
	uint32_t seq = nlh->nlmsg_seq;
	ssize_t n;
	int ret;

	nl->intr = false;
	nl->extack[0] = 0;
	if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
		return -1;
	do {
		n = mnl_socket_recvfrom(nl->sk, nl->buf, nl->buflen);
		/*
		 * An empty read parses as "no message yet": without this
		 * check it would be read again and again.
		 */
		if (n <= 0) {
			if (!n)
				errno = ENODATA;
			return -1;
		}
		ret = mnl_cb_run2(nl->buf, n, seq, nl->portid, data_cb, &r,
				  ctl_wrapped, NLMSG_MIN_TYPE);
		if (ret == MNL_CB_ERROR && errno == EINTR) {
			/*
			 * NLM_F_DUMP_INTR: the flows changed under the dump.
			 * libmnl stops at the first flagged message; read the
			 * rest of the dump off the socket and let the caller
			 * dump again.
			 */
			nl->intr = true;
			ret = nl_reply_ends(nl->buf, n) ? MNL_CB_STOP :
							   MNL_CB_OK;
		}
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -1 : 0;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
		    mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
			*(uint16_t *)data = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

int nl_open(struct nl *nl)
{
	/*
	 * Every request is answered while this process sends it or reads
	 * (the kernel builds dump parts inside recvmsg()): a reply still
	 * missing after this long will not come, and a daemon must not wait
	 * for it forever.
	 */
	struct timeval tmo = { .tv_sec = 30 };
	struct nlmsghdr *nlh;
	int one = 1;

	memset(nl, 0, sizeof(*nl));
	nl->buflen = 1 << 16;
	nl->buf = malloc(nl->buflen);
	if (!nl->buf)
		return -1;
	nl->sk = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sk || mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0)
		goto fail;
	mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVTIMEO, &tmo,
		   sizeof(tmo));
	nl->portid = mnl_socket_get_portid(nl->sk);
	nl->seq = time(NULL);
	nlh = nl_msg(nl, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VNACCT_GENL_NAME);
	if (nl_run(nl, nlh, family_cb, &nl->family) < 0 || !nl->family) {
		errno = ENOENT;
		goto fail;
	}
	return 0;
fail:
	nl_close(nl);
	return -1;
}

void nl_close(struct nl *nl)
{
	int err = errno;

	if (nl->sk)
		mnl_socket_close(nl->sk);
	free(nl->buf);
	nl->sk = NULL;
	nl->buf = NULL;
	nl->family = 0;
	errno = err;
}




int tb_cb(const struct nlattr *a, void *data)
{
	struct tb *t = data;
	unsigned int type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->a[type] = a;
	return MNL_CB_OK;
}

uint64_t get_u64(const struct nlattr *a)
{
	if (!a)
		return 0;
	switch (mnl_attr_get_payload_len(a)) {
	case 1: return mnl_attr_get_u8(a);
	case 2: return mnl_attr_get_u16(a);
	case 4: return mnl_attr_get_u32(a);
	case 8: return mnl_attr_get_u64(a);
	}
	return 0;
}

int parse_hook(const struct nlattr *a, struct vnl_hook *h)
{
	const struct nlattr *n[VNACCT_A_HOOK_MAX + 1] = { 0 };
	struct tb t = { n, VNACCT_A_HOOK_MAX };

	if (mnl_attr_get_type(a) != VNACCT_A_STATS_HOOK)
		return 0;
	if (mnl_attr_parse_nested(a, tb_cb, &t) < 0 ||
	    !n[VNACCT_A_HOOK_NAME] || !n[VNACCT_A_HOOK_KIND] ||
	    mnl_attr_validate(n[VNACCT_A_HOOK_NAME], MNL_TYPE_NUL_STRING) < 0 ||
	    mnl_attr_validate(n[VNACCT_A_HOOK_KIND], MNL_TYPE_NUL_STRING) < 0)
		return -1;
	h->name = mnl_attr_get_str(n[VNACCT_A_HOOK_NAME]);
	h->kind = mnl_attr_get_str(n[VNACCT_A_HOOK_KIND]);
	h->hits = get_u64(n[VNACCT_A_HOOK_HITS]);
	h->ns = get_u64(n[VNACCT_A_HOOK_NS]);
	return 1;
}

/* Folds one kernel bucket into the first vnl_le_ns bound >= its upper. */
static int bucket_cb(const struct nlattr *a, void *data)
{
	const struct nlattr *n[VNACCT_A_BUCKET_MAX + 1] = { 0 };
	struct tb t = { n, VNACCT_A_BUCKET_MAX };
	struct hsum *h = data;
	uint64_t upper;
	int i;

	if (mnl_attr_get_type(a) != VNACCT_A_HIST_BUCKET)
		return MNL_CB_OK;
	if (mnl_attr_parse_nested(a, tb_cb, &t) < 0)
		return MNL_CB_ERROR;
	h->buckets = true;
	upper = get_u64(n[VNACCT_A_BUCKET_UPPER]);
	for (i = 0; i < VNL_LE_N && vnl_le_ns[i] < upper; i++)
		;
	if (i < VNL_LE_N)
		h->le[i] += get_u64(n[VNACCT_A_BUCKET_COUNT]);
	return MNL_CB_OK;
}

static void parse_hist(const struct nlattr *nest, struct hsum *h)
{
	const struct nlattr *a[VNACCT_A_HIST_MAX_ATTR + 1] = { 0 };
	struct tb t = { a, VNACCT_A_HIST_MAX_ATTR };

	memset(h, 0, sizeof(*h));
	if (!nest || mnl_attr_parse_nested(nest, tb_cb, &t) < 0)
		return;
	h->count = get_u64(a[VNACCT_A_HIST_COUNT]);
	h->sum = get_u64(a[VNACCT_A_HIST_SUM]);
	h->min = get_u64(a[VNACCT_A_HIST_MIN]);
	h->max = get_u64(a[VNACCT_A_HIST_MAX]);
	h->p50 = get_u64(a[VNACCT_A_HIST_P50]);
	h->p90 = get_u64(a[VNACCT_A_HIST_P90]);
	h->p99 = get_u64(a[VNACCT_A_HIST_P99]);
	h->p999 = get_u64(a[VNACCT_A_HIST_P999]);
	if (mnl_attr_parse_nested(nest, bucket_cb, h) < 0)
		memset(h->le, 0, sizeof(h->le));
}

static int flow_attr_cb(const struct nlattr *a, void *data)
{
	struct flow *f = data;
	const struct nlattr *n[VNACCT_A_STAGE_MAX + 1] = { 0 };
	struct tb t = { n, VNACCT_A_STAGE_MAX };
	uint64_t i;

	switch (mnl_attr_get_type(a)) {
	case VNACCT_A_FLOW_COPY:
		t.max = VNACCT_A_COPY_MAX;
		if (mnl_attr_parse_nested(a, tb_cb, &t) < 0)
			return MNL_CB_ERROR;
		i = get_u64(n[VNACCT_A_COPY_KIND]);
		if (i < VNACCT_COPY_COUNT) {
			f->copy_bytes[i] = get_u64(n[VNACCT_A_COPY_BYTES]);
			f->copy_ns[i] = get_u64(n[VNACCT_A_COPY_NS]);
		}
		break;
	case VNACCT_A_FLOW_STAGE:
		if (mnl_attr_parse_nested(a, tb_cb, &t) < 0)
			return MNL_CB_ERROR;
		i = get_u64(n[VNACCT_A_STAGE_ID]);
		if (i < VNACCT_STAGE_COUNT) {
			f->stages |= 1u << i;
			f->stage_packets[i] = get_u64(n[VNACCT_A_STAGE_PACKETS]);
			f->stage_bytes[i] = get_u64(n[VNACCT_A_STAGE_BYTES]);
			parse_hist(n[VNACCT_A_STAGE_RESIDENCY], &f->stage[i]);
		}
		break;
	case VNACCT_A_FLOW_SADDR:
	case VNACCT_A_FLOW_DADDR:
		if (mnl_attr_get_payload_len(a) <= 16)
			memcpy(mnl_attr_get_type(a) == VNACCT_A_FLOW_SADDR ?
			       f->saddr : f->daddr, mnl_attr_get_payload(a),
			       mnl_attr_get_payload_len(a));
		break;
	case VNACCT_A_FLOW_RESIDENCY:
		parse_hist(a, &f->res);
		break;
	case VNACCT_A_FLOW_DRTT:
		parse_hist(a, &f->drtt);
		break;
	}
	return MNL_CB_OK;
}

int flow_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *a[VNACCT_A_FLOW_MAX + 1] = { 0 };
	struct tb t = { a, VNACCT_A_FLOW_MAX };
	struct flows *fl = data;
	struct flow *f;

	if (fl->n == fl->cap) {
		size_t cap = fl->cap ? fl->cap * 2 : 64;
		struct flow *v = realloc(fl->v, cap * sizeof(*v));

		if (!v)
			return MNL_CB_ERROR;
		fl->v = v;
		fl->cap = cap;
	}
	f = &fl->v[fl->n];
	memset(f, 0, sizeof(*f));
	if (mnl_attr_parse(nlh, sizeof(struct genlmsghdr), tb_cb, &t) < 0 ||
	    mnl_attr_parse(nlh, sizeof(struct genlmsghdr), flow_attr_cb, f) < 0)
		return MNL_CB_ERROR;
	f->id = get_u64(a[VNACCT_A_FLOW_ID]);
	f->netns = get_u64(a[VNACCT_A_FLOW_NETNS]);
	f->ifindex = get_u64(a[VNACCT_A_FLOW_IFINDEX]);
	f->dir = get_u64(a[VNACCT_A_FLOW_DIR]);
	f->family = get_u64(a[VNACCT_A_FLOW_FAMILY]);
	f->proto = get_u64(a[VNACCT_A_FLOW_PROTO]);
	f->ethertype = ntohs(get_u64(a[VNACCT_A_FLOW_ETHERTYPE]));
	f->sport = ntohs(get_u64(a[VNACCT_A_FLOW_SPORT]));
	f->dport = ntohs(get_u64(a[VNACCT_A_FLOW_DPORT]));
	f->first_ns = get_u64(a[VNACCT_A_FLOW_FIRST_NS]);
	f->last_ns = get_u64(a[VNACCT_A_FLOW_LAST_NS]);
	f->packets = get_u64(a[VNACCT_A_FLOW_PACKETS]);
	f->bytes = get_u64(a[VNACCT_A_FLOW_BYTES]);
	f->drops = get_u64(a[VNACCT_A_FLOW_DROPS]);
	f->drop_reason = get_u64(a[VNACCT_A_FLOW_DROP_REASON]);
	f->gso_packets = get_u64(a[VNACCT_A_FLOW_GSO_PACKETS]);
	f->gso_segs = get_u64(a[VNACCT_A_FLOW_GSO_SEGS]);
	fl->n++;
	return MNL_CB_OK;
}

/* A consistent dump: retried while the kernel flags it interrupted. */
int dump_flows(struct nl *nl, struct flows *fl, unsigned int ifindex)
{
	struct nlmsghdr *nlh;
	int tries;

	for (tries = 0; tries < 5; tries++) {
		fl->n = 0;
		nlh = nl_msg(nl, nl->family, VNACCT_CMD_DUMP_FLOWS, NLM_F_DUMP);
		if (ifindex)
			mnl_attr_put_u32(nlh, VNACCT_A_FLOW_IFINDEX, ifindex);
		if (nl_run(nl, nlh, flow_cb, fl) < 0)
			return -1;
		if (!nl->intr)
			break;
		/*
		 * A dump holds a reference on the module: back off a little
		 * so that back-to-back retries leave rmmod a window.
		 */
		nanosleep(&(struct timespec){ .tv_nsec = 2000000L * (tries + 1) },
			  NULL);
	}
	fl->intr = nl->intr;
	return 0;
}
