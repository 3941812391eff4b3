// SPDX-License-Identifier: GPL-2.0
/*
 * vnacct_splat: commits one deliberate kernel bug when loaded, chosen by the
 * "bug" parameter, so that selftests/sanitizers.sh can prove on every
 * make check that the debug kernel's KASAN, lockdep, atomic-sleep check and
 * kmemleak are live, and that the VM runner fails a run on what they print.
 * A sanitizer that silently stopped working would otherwise let every other
 * debug-kernel test pass without checking anything.
 *
 * Each bug is a function of its own, never inlined, so that the reports
 * name it.  Built for the debug kernel only; never load it on a kernel
 * anyone uses.
 */
#include <linux/compiler.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/slab.h>
#include <linux/string.h>

static char *bug = "";
module_param(bug, charp, 0444);
MODULE_PARM_DESC(bug, "the bug to commit: kasan, lockdep, sleep or leak");

/* Objects kmemleak must report: allocated, then every reference dropped. */
#define SPLAT_LEAKS 8

static DEFINE_MUTEX(splat_lock_a);
static DEFINE_MUTEX(splat_lock_b);

/* KASAN: read one byte past the end of a 16-byte slab object. */
static noinline int splat_kasan(void)
{
	char *p = kmalloc(16, GFP_KERNEL);
	char c;

	if (!p)
		return -ENOMEM;
	/* Hide the size from the compiler, which would refuse the read. */
	OPTIMIZER_HIDE_VAR(p);
	c = READ_ONCE(p[16]);
	kfree(p);
	pr_info("vnacct_splat: read %d past the object\n", c);
	return 0;
}

/*
 * lockdep: take a then b, later b then a.  One thread does both in turn, so
 * nothing deadlocks; lockdep reports the inverted order all the same.
 */
static noinline int splat_lockdep(void)
{
	mutex_lock(&splat_lock_a);
	mutex_lock(&splat_lock_b);
	mutex_unlock(&splat_lock_b);
	mutex_unlock(&splat_lock_a);

	mutex_lock(&splat_lock_b);
	mutex_lock(&splat_lock_a);
	mutex_unlock(&splat_lock_a);
	mutex_unlock(&splat_lock_b);
	return 0;
}

/* DEBUG_ATOMIC_SLEEP: a call that may sleep with preemption disabled. */
static noinline int splat_sleep(void)
{
	preempt_disable();
	might_sleep();
	preempt_enable();
	return 0;
}

/*
 * kmemleak: allocations whose only reference is dropped.  Several, because
 * the last pointer may linger in a register or stack slot kmemleak scans.
 */
static noinline int splat_leak(void)
{
	void *p;
	int i;

	for (i = 0; i < SPLAT_LEAKS; i++) {
		p = kmalloc(64, GFP_KERNEL);
		if (!p)
			return -ENOMEM;
		memset(p, 0x5a, 64);
		OPTIMIZER_HIDE_VAR(p);
	}
	return 0;
}

static int __init splat_init(void)
{
	if (!strcmp(bug, "kasan"))
		return splat_kasan();
	if (!strcmp(bug, "lockdep"))
		return splat_lockdep();
	if (!strcmp(bug, "sleep"))
		return splat_sleep();
	if (!strcmp(bug, "leak"))
		return splat_leak();
	pr_err("vnacct_splat: bug=%s: expected kasan, lockdep, sleep or leak\n",
	       bug);
	return -EINVAL;
}

static void __exit splat_exit(void)
{
}

module_init(splat_init);
module_exit(splat_exit);
MODULE_DESCRIPTION("vnacct test: commits one deliberate bug for the sanitizers to catch");
MODULE_LICENSE("GPL");
