// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs.c - /sys/kernel/debug/zblk/zblkN/classes: one row per allocator
 * type, in the spirit of zsmalloc's "classes" file, plus a total row; and
 * zblkN/streams: the compression streams set up and their memory; and
 * zblkN/units: a census of the device's units.
 *
 * Locks: none of its own; zblk_for_each_class() and zblk_get_census()
 * (zblkdev/main.c) take the device's init_lock for reading (the pool exists
 * only while initialised), then each type's lock or each entry's lock in
 * turn. debugfs removal waits for readers, so the device outlives every show.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/blkdev.h>
#include <linux/math64.h>
#include <linux/slab.h>

#include "zblkdev/zblk.h"
#include "alloc/zblk_alloc.h"
#include "sysfs/zblk_sysfs.h"

static struct dentry *zblk_debugfs_root;

static void zblk_classes_add(struct zba_type_stats *sum,
			     const struct zba_type_stats *st)
{
	unsigned int i;

	sum->blocks += st->blocks;
	sum->objs_allocated += st->objs_allocated;
	sum->objs_used += st->objs_used;
	sum->pages += st->pages;
	sum->pages_freeable += st->pages_freeable;
	sum->meta_bytes += st->meta_bytes;
	for (i = 0; i < ARRAY_SIZE(st->occupancy); i++)
		sum->occupancy[i] += st->occupancy[i];
}

static void zblk_classes_row(struct seq_file *m, const char *label,
			     const struct zba_type_stats *st)
{
	seq_printf(m, "%5s %6u %5u %5u %8lu %10lu %10lu %8lu %8lu %7lu %7lu %7lu %7lu %7lu %10lu\n",
		   label, st->slot_size, st->slots_per_block,
		   st->pages_per_block, st->blocks, st->objs_allocated,
		   st->objs_used, st->pages, st->pages_freeable,
		   st->occupancy[0], st->occupancy[1], st->occupancy[2],
		   st->occupancy[3], st->occupancy[4], st->meta_bytes);
}

struct zblk_classes_ctx {
	struct seq_file *m;
	struct zba_type_stats sum;
};

static void zblk_classes_one(void *ctx, unsigned int type,
			     const struct zba_type_stats *st)
{
	struct zblk_classes_ctx *c = ctx;
	char label[12];

	snprintf(label, sizeof(label), "%u", type);
	zblk_classes_row(c->m, label, st);
	zblk_classes_add(&c->sum, st);
}

static int zblk_classes_show(struct seq_file *m, void *unused)
{
	struct zblk_classes_ctx c = { .m = m };

	seq_printf(m, "%5s %6s %5s %5s %8s %10s %10s %8s %8s %7s %7s %7s %7s %7s %10s\n",
		   "type", "size", "slots", "pages", "blocks", "objs_alloc",
		   "objs_used", "pages", "freeable", "<25%", "25-50%",
		   "50-75%", "75-99%", "full", "meta_bytes");
	if (!zblk_for_each_class(m->private, zblk_classes_one, &c))
		zblk_classes_row(m, "total", &c.sum);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zblk_classes);

/*
 * "streams": the compression streams set up now (one per online CPU) and the
 * memory they hold; nothing before disksize is set.
 */
static int zblk_streams_show(struct seq_file *m, void *unused)
{
	unsigned int nr;
	size_t bytes;

	if (!zblk_get_streams(m->private, &nr, &bytes))
		seq_printf(m, "streams: %u\nbytes: %zu\n", nr, bytes);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zblk_streams);

static const char * const zblk_census_kinds[ZBLK_CENSUS_KINDS] = {
	[ZBLK_CENSUS_SAME] = "same",
	[ZBLK_CENSUS_ONE] = "one",
	[ZBLK_CENSUS_DEAD] = "dead",
	[ZBLK_CENSUS_SPLIT] = "split",
};

static const char * const zblk_census_blks[ZBLK_CENSUS_BLKS] = {
	[ZBLK_CENSUS_BLK_OLD] = "old",
	[ZBLK_CENSUS_BLK_OBJ] = "obj",
	[ZBLK_CENSUS_BLK_RAW] = "raw",
	[ZBLK_CENSUS_BLK_LAZY] = "lazy",
	[ZBLK_CENSUS_BLK_SAME] = "same",
};

static void zblk_units_table(struct seq_file *m, const struct zblk_census *c)
{
	unsigned int k, p;
	u64 units, bytes, blocks;

	seq_printf(m, "%-6s %7s %10s %12s %9s\n", "kind", "present", "units",
		   "bytes", "per_block");
	for (k = 0; k < ZBLK_CENSUS_KINDS; k++) {
		for (p = 1; p <= c->unit_blocks; p++) {
			units = c->units[k][p];
			bytes = c->bytes[k][p];
			blocks = units * p;
			seq_printf(m, "%-6s %7u %10llu %12llu %9llu\n",
				   zblk_census_kinds[k], p, units, bytes,
				   blocks ? div64_u64(bytes, blocks) : 0);
		}
	}
}

/*
 * "units": the device's units by how they are stored (a fill value, one
 * object, one object still holding freed blocks, split) and how many 4K
 * blocks they hold, with the bytes of their objects; then where the blocks
 * of split units are. Nothing before disksize is set. Walking the table
 * locks every entry in turn: a debugging aid, not for frequent polling.
 */
static int zblk_units_show(struct seq_file *m, void *unused)
{
	struct zblk_census *c = kmalloc(sizeof(*c), GFP_KERNEL);
	unsigned int b;

	if (!c)
		return -ENOMEM;
	if (!zblk_get_census(m->private, c)) {
		zblk_units_table(m, c);
		seq_printf(m, "\n%-6s %10s %12s\n", "block", "count", "bytes");
		for (b = 0; b < ZBLK_CENSUS_BLKS; b++)
			seq_printf(m, "%-6s %10llu %12llu\n", zblk_census_blks[b],
				   c->blk_count[b], c->blk_bytes[b]);
	}
	kfree(c);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(zblk_units);

/**
 * zblk_debugfs_init() - create /sys/kernel/debug/zblk.
 *
 * Context: module init.
 */
void zblk_debugfs_init(void)
{
	zblk_debugfs_root = debugfs_create_dir("zblk", NULL);
}

/**
 * zblk_debugfs_exit() - remove it (devices are gone by now).
 *
 * Context: module exit.
 */
void zblk_debugfs_exit(void)
{
	debugfs_remove_recursive(zblk_debugfs_root);
	zblk_debugfs_root = NULL;
}

/**
 * zblk_debugfs_add() - create NAME/classes, NAME/streams and NAME/units for a
 *	new device.
 * @z: the device (the files' data; they read it through zblkdev's functions)
 * @name: the disk's name
 *
 * Context: process context.
 * Return: the directory, for zblk_debugfs_remove() (an error pointer when
 * debugfs is absent, which zblk_debugfs_remove() accepts).
 */
struct dentry *zblk_debugfs_add(struct zblk *z, const char *name)
{
	struct dentry *dir = debugfs_create_dir(name, zblk_debugfs_root);

	debugfs_create_file("classes", 0444, dir, z, &zblk_classes_fops);
	debugfs_create_file("streams", 0444, dir, z, &zblk_streams_fops);
	debugfs_create_file("units", 0400, dir, z, &zblk_units_fops);
	return dir;
}

/**
 * zblk_debugfs_remove() - remove a device's directory; waits for readers.
 * @dir: what zblk_debugfs_add() returned
 *
 * Context: process context.
 */
void zblk_debugfs_remove(struct dentry *dir)
{
	debugfs_remove_recursive(dir);
}
