// SPDX-License-Identifier: GPL-2.0
/*
 * Stand-in zblk.ko for the rig self-test (tests/rig/ok.sh): proves that
 * tools/guest-run installs a module so that "modprobe zblk num_devices=N"
 * loads it, passes the parameter and unloads it. Not the device.
 */
#define pr_fmt(fmt) "zblk-rig: " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>

static unsigned int num_devices = 1;
module_param(num_devices, uint, 0444);
MODULE_PARM_DESC(num_devices, "reported at load");

static int __init rig_standin_init(void)
{
	pr_info("stand-in loaded, num_devices=%u\n", num_devices);
	return 0;
}

static void __exit rig_standin_exit(void)
{
	pr_info("stand-in unloaded\n");
}

module_init(rig_standin_init);
module_exit(rig_standin_exit);
MODULE_DESCRIPTION("zblk rig self-test stand-in");
MODULE_LICENSE("GPL");
