/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vnacct-nl - the netlink half shared by the vnacct CLI and the vnacctd
 * daemon: a libmnl socket on the generic netlink family "vnacct", requests
 * with extack and dump-interruption handling, and the parsers of flow
 * replies (include/uapi/linux/vnacct.h) into struct flow.
 */
#ifndef VNACCT_NL_H
#define VNACCT_NL_H

#include <libmnl/libmnl.h>
#include <linux/vnacct.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

extern const char *const stage_names[VNACCT_STAGE_COUNT];
extern const char *const dir_names[3];
extern const char *const copy_names[VNACCT_COPY_COUNT];

/*
 * Upper bounds (ns) of the bounded bucket set vnacctd exports as the "le"
 * labels of its Prometheus histograms; +Inf is the histogram's count.
 */
#define VNL_LE_N 24
extern const uint64_t vnl_le_ns[VNL_LE_N];

/* a histogram: summary, and its kernel buckets folded into vnl_le_ns */
struct hsum {
	uint64_t count, sum, min, max, p50, p90, p99, p999;
	/* le[i]: values whose kernel bucket's upper bound is in
	 * (vnl_le_ns[i - 1], vnl_le_ns[i]] (not cumulative)
	 */
	uint64_t le[VNL_LE_N];
	bool buckets;		/* the reply carried buckets */
};

struct flow {
	uint32_t id, netns, ifindex, drop_reason;
	uint8_t dir, family, proto;
	uint16_t ethertype, sport, dport;
	unsigned char saddr[16], daddr[16];
	uint64_t first_ns, last_ns, packets, bytes, drops, gso_packets, gso_segs;
	uint64_t copy_bytes[VNACCT_COPY_COUNT], copy_ns[VNACCT_COPY_COUNT];
	struct hsum res, drtt, stage[VNACCT_STAGE_COUNT];
	uint64_t stage_packets[VNACCT_STAGE_COUNT];
	uint64_t stage_bytes[VNACCT_STAGE_COUNT];
	unsigned int stages;	/* bit per stage present */
};

struct flows {
	struct flow *v;
	size_t n, cap;
	bool intr;
};

struct nl {
	struct mnl_socket *sk;
	uint16_t family;
	uint32_t portid, seq;
	char extack[256];
	bool intr;
	char *buf;
	size_t buflen;
};

/* attribute table filled by tb_cb(): a[type] for type <= max */
struct tb {
	const struct nlattr **a;
	unsigned int max;
};

int tb_cb(const struct nlattr *a, void *data);
/* any unsigned attribute of 1, 2, 4 or 8 bytes, 0 when absent */
uint64_t get_u64(const struct nlattr *a);

/* one %VNACCT_A_STATS_HOOK nest; the strings point into the message */
struct vnl_hook {
	const char *name, *kind;
	uint64_t hits, ns;
};

/* Parses @a if it is a hook nest: 1 if it is, 0 if not, -1 if malformed. */
int parse_hook(const struct nlattr *a, struct vnl_hook *h);

/*
 * Opens the socket and resolves the family.  Returns 0, or -1 with errno
 * set (ENOENT: the family is not registered, the module is not loaded).
 */
int nl_open(struct nl *nl);
void nl_close(struct nl *nl);
/* a request of @cmd to @type (family id) in nl->buf, with NLM_F_ACK */
struct nlmsghdr *nl_msg(struct nl *nl, uint16_t type, uint8_t cmd,
			uint16_t flags);
/* Sends @nlh and runs @cb on each reply; -1 with errno (and nl->extack). */
int nl_run(struct nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* mnl_cb_t: appends the flow in @nlh to the struct flows @data */
int flow_cb(const struct nlmsghdr *nlh, void *data);
/* A dump of every flow (of @ifindex, 0: all) into @fl, retried while the
 * kernel flags it interrupted; -1 with errno on error.
 */
int dump_flows(struct nl *nl, struct flows *fl, unsigned int ifindex);

#endif /* VNACCT_NL_H */
