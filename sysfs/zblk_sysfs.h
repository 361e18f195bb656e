/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zblk_sysfs.h - sysfs and debugfs attributes (sysfs/).
 *
 * /sys/block/zblkN/: per-device attributes, passed to device_add_disk().
 * /sys/class/zblk-control/{hot_add,hot_remove}: device creation.
 * /sys/kernel/debug/zblk/zblkN/classes: allocator statistics per type.
 * docs/sysfs-abi.md documents every attribute.
 */
#ifndef ZBLK_SYSFS_H
#define ZBLK_SYSFS_H

struct attribute_group;
struct dentry;
struct zblk;

/* NULL-terminated; for device_add_disk(). */
extern const struct attribute_group *zblk_disk_groups[];

/* The zblk-control class. Context: module init/exit. */
int zblk_sysfs_init(void);
void zblk_sysfs_exit(void);

/* debugfs; failures are not fatal (debugfs may be absent). */
void zblk_debugfs_init(void);
void zblk_debugfs_exit(void);
struct dentry *zblk_debugfs_add(struct zblk *z, const char *name);
void zblk_debugfs_remove(struct dentry *dir);

#endif /* ZBLK_SYSFS_H */
