// SPDX-License-Identifier: GPL-2.0
/*
 * Rig self-test (tests/rig/warn.sh): a real kernel WARNING at load, which
 * tools/guest-run's kernel log scan must turn into a failed run.
 */
#define pr_fmt(fmt) "zblk-rig-warn: " fmt

#include <linux/bug.h>
#include <linux/module.h>

static int __init rig_warn_init(void)
{
	pr_info("about to warn\n");
	WARN_ON_ONCE(1);
	return 0;
}

static void __exit rig_warn_exit(void)
{
}

module_init(rig_warn_init);
module_exit(rig_warn_exit);
MODULE_DESCRIPTION("zblk rig self-test: WARN_ON_ONCE at load");
MODULE_LICENSE("GPL");
