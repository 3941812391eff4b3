// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct debugfs front end: /sys/kernel/debug/vnacct/ and its read-only
 * files.  Every column is defined in Documentation/vnacct.rst.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "vnacct.h"

static struct dentry *vnacct_dir;

static int vnacct_stats_show(struct seq_file *m, void *v)
{
	struct vnacct_hook_stats st;
	unsigned int id;

	seq_printf(m, "%-24s %-10s %20s %20s\n", "hook", "kind", "hits", "ns");
	for (id = 0; id < VNACCT_HOOK_COUNT; id++) {
		vnacct_hook_stats(id, &st);
		seq_printf(m, "%-24s %-10s %20llu %20llu\n", st.name, st.kind,
			   st.hits, st.ns);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vnacct_stats);

int vnacct_debugfs_init(void)
{
	vnacct_dir = debugfs_create_dir("vnacct", NULL);
	if (IS_ERR(vnacct_dir))
		return PTR_ERR(vnacct_dir);
	/* Root only: flows name hosts and guests. */
	debugfs_create_file("stats", 0400, vnacct_dir, NULL, &vnacct_stats_fops);
	return 0;
}

void vnacct_debugfs_exit(void)
{
	/* Waits for readers still inside a show function. */
	debugfs_remove_recursive(vnacct_dir);
}
