// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct: per-packet, per-stage accounting of a KVM host's virtual network
 * path.  This file owns the module parameters, the run-time configuration,
 * idle-flow expiry, and load/unload order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/timekeeping.h>
#include <linux/workqueue.h>

#include "acct.h"
#include "vnacct.h"

static unsigned int max_flows = 4096;
module_param(max_flows, uint, 0444);
MODULE_PARM_DESC(max_flows, "flow records, allocated at load (16..1048576, default 4096)");

static unsigned int max_packets = 16384;
module_param(max_packets, uint, 0444);
MODULE_PARM_DESC(max_packets, "in-flight packets followed at once (64..16777216, default 16384)");

static unsigned int flow_timeout = 60;
module_param(flow_timeout, uint, 0444);
MODULE_PARM_DESC(flow_timeout, "initial idle seconds after which a flow is removed (1..86400, default 60)");

static unsigned int sample = 1;
module_param(sample, uint, 0444);
MODULE_PARM_DESC(sample, "initial sampling: follow 1 packet in N (1..65536, default 1)");

struct vnacct_config vnacct_cfg;

static void vnacct_expire_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(vnacct_expire_work, vnacct_expire_fn);

static void vnacct_expire_fn(struct work_struct *work)
{
	u64 idle = (u64)READ_ONCE(vnacct_cfg.flow_timeout) * NSEC_PER_SEC;
	unsigned int cap = vnacct_flows_capacity();

	/*
	 * A table nearly full (15/16) makes room early: flows idle for more
	 * than a second go, idlest first in effect, before new flows are
	 * refused (flows_full).
	 */
	if (vnacct_flows_count() >= cap - cap / 16)
		idle = min_t(u64, idle, NSEC_PER_SEC);
	vnacct_flows_expire(ktime_get_ns(), idle);
	schedule_delayed_work(&vnacct_expire_work, HZ);
}

static int vnacct_check_params(void)
{
	if (max_flows < 16 || max_flows > (1U << 20)) {
		pr_err("max_flows=%u out of range 16..1048576\n", max_flows);
		return -EINVAL;
	}
	if (max_packets < 64 || max_packets > (1U << 24)) {
		pr_err("max_packets=%u out of range 64..16777216\n", max_packets);
		return -EINVAL;
	}
	if (!flow_timeout || flow_timeout > 86400) {
		pr_err("flow_timeout=%u out of range 1..86400\n", flow_timeout);
		return -EINVAL;
	}
	if (!sample || sample > 65536) {
		pr_err("sample=%u out of range 1..65536\n", sample);
		return -EINVAL;
	}
	return 0;
}

static int __init vnacct_init(void)
{
	int err;

	err = vnacct_check_params();
	if (err)
		return err;
	vnacct_cfg.enabled = true;
	vnacct_cfg.sample = sample;
	vnacct_cfg.flow_timeout = flow_timeout;

	err = vnacct_flows_init(max_flows);
	if (err)
		return err;
	err = vnacct_acct_init(max_packets);
	if (err)
		goto err_flows;
	err = vnacct_debugfs_init();
	if (err)
		goto err_acct;
	err = vnacct_netlink_init();
	if (err)
		goto err_debugfs;
	err = vnacct_hooks_init();
	if (err)
		goto err_netlink;
	schedule_delayed_work(&vnacct_expire_work, HZ);
	pr_info("loaded: %u flows, %u in-flight packets, %zu KiB\n",
		max_flows, max_packets,
		(vnacct_flows_memory() + vnacct_acct_memory()) >> 10);
	return 0;

err_netlink:
	vnacct_netlink_exit();
err_debugfs:
	vnacct_debugfs_exit();
err_acct:
	vnacct_acct_exit();
err_flows:
	vnacct_flows_exit();
	return err;
}

static void __exit vnacct_exit(void)
{
	/* Probes first: nothing may update state the readers then free. */
	vnacct_hooks_exit();
	cancel_delayed_work_sync(&vnacct_expire_work);
	vnacct_netlink_exit();
	vnacct_debugfs_exit();
	vnacct_acct_exit();
	vnacct_flows_exit();
	pr_info("unloaded\n");
}

module_init(vnacct_init);
module_exit(vnacct_exit);

MODULE_DESCRIPTION("Per-packet, per-stage accounting of KVM virtual networking");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: tun vhost_net bridge veth");
