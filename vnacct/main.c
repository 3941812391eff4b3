// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct: per-packet, per-stage accounting of a KVM host's virtual network
 * path.  This file owns module load and unload order.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

#include "vnacct.h"

static int __init vnacct_init(void)
{
	int err;

	err = vnacct_debugfs_init();
	if (err)
		return err;
	err = vnacct_hooks_init();
	if (err) {
		vnacct_debugfs_exit();
		return err;
	}
	pr_info("loaded\n");
	return 0;
}

static void __exit vnacct_exit(void)
{
	/* Probes first: nothing may update state the readers then free. */
	vnacct_hooks_exit();
	vnacct_debugfs_exit();
	pr_info("unloaded\n");
}

module_init(vnacct_init);
module_exit(vnacct_exit);

MODULE_DESCRIPTION("Per-packet, per-stage accounting of KVM virtual networking");
MODULE_LICENSE("GPL");
MODULE_SOFTDEP("pre: tun vhost_net bridge veth");
