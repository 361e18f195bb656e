// SPDX-License-Identifier: GPL-2.0
/*
 * main.c - zblk module: devices, their life cycle and configuration.
 *
 * A device is created (num_devices at load, or hot_add) uninitialised, with
 * no capacity. Writing disksize initialises it: table, allocator pool,
 * compressor, bounce buffers, shrinker, then capacity. reset undoes all of
 * it when nobody has the device open; hot_remove and module unload also
 * delete the disk.
 *
 * Lock order (outermost first):
 *   zblk_index_mutex (the device IDR; add/remove)
 *   disk->open_mutex (taken alone: openers, resetting, removing)
 *   z->init_lock (configuration; init and reset take it for writing)
 * I/O never takes init_lock (see struct zblk); zblkdev/io.c documents the
 * data path's locks.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/blkdev.h>
#include <linux/idr.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>
#include <linux/string.h>
#include <linux/wait_bit.h>

#include "zblkdev/zblk.h"
#include "zblkdev/table.h"
#include "zblkdev/unit.h"
#include "alloc/zblk_alloc.h"
#include "crypto/zblk_comp.h"
#include "sysfs/zblk_sysfs.h"

#define ZBLK_DEFAULT_ALGO	"lz4"

static int zblk_major;
static DEFINE_IDR(zblk_index_idr);
/* Protects zblk_index_idr and device creation/removal. */
static DEFINE_MUTEX(zblk_index_mutex);

static unsigned int num_devices = 1;

static int zblk_num_devices_set(const char *val, const struct kernel_param *kp)
{
	unsigned int n;

	if (!val || kstrtouint(val, 10, &n) || n > ZBLK_MAX_DEVICES) {
		pr_err("num_devices=%s is invalid: expected a number from 0 to %d\n",
		       val ? val : "", ZBLK_MAX_DEVICES);
		return -EINVAL;
	}
	*(unsigned int *)kp->arg = n;
	return 0;
}

static const struct kernel_param_ops zblk_num_devices_ops = {
	.set = zblk_num_devices_set,
	.get = param_get_uint,
};
module_param_cb(num_devices, &zblk_num_devices_ops, &num_devices, 0444);
MODULE_PARM_DESC(num_devices, "Number of zblk devices to create at load (0-64, default 1)");

/**
 * zblk_init_done() - has disksize been set?
 * @z: the device
 *
 * Context: caller holds init_lock (either mode) for a stable answer.
 * Return: true once initialised, until reset.
 */
static bool zblk_init_done(struct zblk *z)
{
	return z->disksize != 0;
}

/**
 * zblk_get_config() - a consistent snapshot of the device's configuration.
 * @z: the device
 * @cfg: filled in
 *
 * Context: process context; takes init_lock for reading.
 */
void zblk_get_config(struct zblk *z, struct zblk_config *cfg)
{
	down_read(&z->init_lock);
	cfg->disksize = z->disksize;
	cfg->unit_size = z->unit_size;
	cfg->initialised = zblk_init_done(z);
	cfg->backend = z->backend;
	cfg->level = z->level == ZBLK_LEVEL_DEFAULT ? z->backend->default_level : z->level;
	up_read(&z->init_lock);
}

/**
 * zblk_open_disk() - block device open: refused while reset/removal runs.
 * @disk: the disk
 *
 * Context: the block layer holds disk->open_mutex, which also protects
 * @resetting and @removing.
 * Return: 0 or -EBUSY.
 */
int zblk_open_disk(struct gendisk *disk)
{
	struct zblk *z = disk->private_data;

	return z->resetting || z->removing ? -EBUSY : 0;
}

static const struct block_device_operations zblk_fops = {
	.owner			= THIS_MODULE,
	.submit_bio		= zblk_submit_bio,
	.swap_slot_free_notify	= zblk_slot_free_notify,
	ZBLK_COMPAT_FOPS,
};

/* Free everything disksize allocated. Context: init_lock held for writing. */
static void zblk_free_config(struct zblk *z)
{
	/* No notify can queue it again: nobody has the device open. */
	cancel_work_sync(&z->free_work);
	/* Only I/O and free_work queue the packer. */
	cancel_delayed_work_sync(&z->pack_work);
	zblk_shrinker_unregister(z);
	if (z->table)
		zblk_split_free_all(z);
	if (!IS_ERR_OR_NULL(z->comp))
		zblk_comp_destroy(z->comp);
	if (z->pool)
		zba_pool_destroy(z->pool);
	vfree(z->pack_pending);
	vfree(z->free_pending);
	vfree(z->table);
	z->pack_pending = NULL;
	z->free_pending = NULL;
	z->comp = NULL;
	z->pool = NULL;
	z->table = NULL;
	z->nr_units = 0;
}

/* Reset counters; mem_used_max starts again. */
static void zblk_clear_stats(struct zblk *z)
{
	memset(&z->stats, 0, sizeof(z->stats));
}

/**
 * zblk_set_disksize() - initialise the device with @size bytes.
 * @z: the device
 * @size: requested size; rounded up to a whole number of units
 *
 * Context: process context, may sleep; takes init_lock for writing.
 * Return: 0; -EINVAL for 0 or a size whose units do not fit the table's
 *	index; -EBUSY if already initialised; -ENOMEM.
 */
int zblk_set_disksize(struct zblk *z, u64 size)
{
	u64 units;
	int ret;

	if (!size || size > U64_MAX - ZBLK_UNIT_SIZE_MAX)
		return -EINVAL;
	down_write(&z->init_lock);
	ret = -EBUSY;
	if (zblk_init_done(z))
		goto out;
	units = DIV_ROUND_UP_ULL(size, z->unit_size);
	ret = -EINVAL;
	if (units > U32_MAX)
		goto out;
	size = units << z->unit_shift;

	ret = -ENOMEM;
	/* Quietly refuse a table the machine cannot hold. */
	z->table = __vmalloc(array_size(units, sizeof(struct zblk_entry)),
			     GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	if (!z->table)
		goto fail;
	zblk_table_lockdep_init(z->table, units);
	z->nr_units = units;
	z->free_pending = __vmalloc(array_size(BITS_TO_LONGS(size >> ZBLK_BLOCK_SHIFT),
					       sizeof(unsigned long)),
				    GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	if (!z->free_pending)
		goto fail;
	z->pack_pending = __vmalloc(array_size(BITS_TO_LONGS(units),
					       sizeof(unsigned long)),
				    GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN);
	if (!z->pack_pending)
		goto fail;
	z->pool = zba_pool_create(z->disk->disk_name, z->unit_size);
	if (!z->pool)
		goto fail;
	z->comp = zblk_comp_create(z->backend, z->level, z->unit_size);
	if (IS_ERR(z->comp)) {
		ret = PTR_ERR(z->comp);
		goto fail;
	}
	ret = zblk_shrinker_register(z);
	if (ret)
		goto fail;
	ret = zblk_compat_set_io_opt(z->disk, z->unit_size);
	if (ret)
		goto fail;
	zblk_clear_stats(z);
	z->disksize = size;
	set_capacity_and_notify(z->disk, size >> SECTOR_SHIFT);
	up_write(&z->init_lock);
	pr_info("%s: %llu bytes, %u-byte units, %s\n", z->disk->disk_name,
		size, z->unit_size, zblk_comp_name(z->comp));
	return 0;
fail:
	zblk_free_config(z);
out:
	up_write(&z->init_lock);
	return ret;
}

/*
 * Drop all data and configuration made by disksize. Settings chosen
 * before init (unit_size, comp_algorithm, level) are kept; mem_limit goes
 * back to none, as zram does. Context: no I/O in flight (no openers).
 */
static void zblk_reset_device(struct zblk *z)
{
	down_write(&z->init_lock);
	z->limit_pages = 0;
	z->limit_full = false;
	if (zblk_init_done(z)) {
		set_capacity_and_notify(z->disk, 0);
		z->disksize = 0;
		zblk_free_config(z);
	}
	zblk_clear_stats(z);
	up_write(&z->init_lock);
}

/**
 * zblk_reset() - free all data and return to the uninitialised state.
 * @z: the device
 *
 * Refused while the device is open, while another reset runs and once its
 * removal has begun: removal and reset exclude each other (see
 * zblk_remove()), and while @resetting is set the device cannot be opened.
 * Context: process context, may sleep; takes disk->open_mutex, then
 *	init_lock for writing.
 * Return: 0, or -EBUSY if the device is open or being reset/removed.
 */
int zblk_reset(struct zblk *z)
{
	int ret = 0;

	/* open_mutex: openers, @resetting and @removing, against ->open. */
	mutex_lock(&z->disk->open_mutex);
	if (disk_openers(z->disk) || z->resetting || z->removing)
		ret = -EBUSY;
	else
		z->resetting = true;
	mutex_unlock(&z->disk->open_mutex);
	if (ret)
		return ret;

	/* Write back whatever the page cache still holds for the disk. */
	sync_blockdev(z->disk->part0);
	zblk_reset_device(z);

	mutex_lock(&z->disk->open_mutex);
	WRITE_ONCE(z->resetting, false);
	mutex_unlock(&z->disk->open_mutex);
	/* A removal may wait for this reset to end: order the store first. */
	smp_mb();
	wake_up_var(&z->resetting);
	return 0;
}

/**
 * zblk_set_unit_size() - choose 4096 or 16384-byte units.
 * @z: the device
 * @unit_size: the size
 *
 * Context: process context; takes init_lock for writing.
 * Return: 0, -EINVAL for another size, -EBUSY once initialised.
 */
int zblk_set_unit_size(struct zblk *z, unsigned int unit_size)
{
	int ret = 0;

	if (unit_size != 4096 && unit_size != 16384)
		return -EINVAL;
	down_write(&z->init_lock);
	if (zblk_init_done(z)) {
		ret = -EBUSY;
	} else {
		z->unit_size = unit_size;
		z->unit_shift = ilog2(unit_size);
	}
	up_write(&z->init_lock);
	return ret;
}

/**
 * zblk_set_algorithm() - choose the compression backend.
 * @z: the device
 * @name: backend name, without newline
 *
 * Choosing another backend drops a level set for the previous one.
 * Context: process context; takes init_lock for writing.
 * Return: 0, -EINVAL for an unknown name, -EBUSY once initialised.
 */
int zblk_set_algorithm(struct zblk *z, const char *name)
{
	const struct zblk_backend *be = zblk_comp_find(name);
	int ret = 0;

	if (!be)
		return -EINVAL;
	down_write(&z->init_lock);
	if (zblk_init_done(z)) {
		ret = -EBUSY;
	} else if (be != z->backend) {
		z->backend = be;
		z->level = ZBLK_LEVEL_DEFAULT;
	}
	up_write(&z->init_lock);
	return ret;
}

/**
 * zblk_set_level() - set the compression level of the chosen backend.
 * @z: the device
 * @algo: backend the level is meant for, or NULL for the chosen one
 * @level: the level, or ZBLK_LEVEL_DEFAULT
 *
 * Context: process context; takes init_lock for writing.
 * Return: 0; -EINVAL if @algo is not the chosen backend, the backend takes
 *	no level or @level is out of its range; -EBUSY once initialised.
 */
int zblk_set_level(struct zblk *z, const char *algo, int level)
{
	int ret = 0;

	down_write(&z->init_lock);
	if (zblk_init_done(z))
		ret = -EBUSY;
	else if (algo && zblk_comp_find(algo) != z->backend)
		ret = -EINVAL;
	else if (level != ZBLK_LEVEL_DEFAULT)
		ret = zblk_comp_check_level(z->backend, level);
	if (!ret)
		z->level = level;
	up_write(&z->init_lock);
	return ret;
}

/**
 * zblk_set_mem_limit() - limit the pool to @bytes (0: no limit).
 * @z: the device
 * @bytes: the limit, rounded up to pages
 *
 * Applies to later writes; stored data stays, and a device that was full
 * under the old limit is not full under the new one until it refuses a
 * write. The limit is kept in pages and read back as pages << PAGE_SHIFT,
 * so a limit whose page count would not read back (above the last whole
 * page below 2^64) is refused rather than wrapped to 0, which would mean no
 * limit at all.
 * Context: process context; takes init_lock for writing.
 * Return: 0, or -EINVAL if @bytes rounded up to pages does not fit (nothing
 *	changed).
 */
int zblk_set_mem_limit(struct zblk *z, u64 bytes)
{
	u64 pages;

	if (bytes > (U64_MAX >> PAGE_SHIFT) << PAGE_SHIFT)
		return -EINVAL;
	pages = bytes >> PAGE_SHIFT;
	if (bytes & ~PAGE_MASK)
		pages++;
	if (pages != (unsigned long)pages)
		return -EINVAL;
	/* init_lock orders the limit with init and reset, which clear it. */
	down_write(&z->init_lock);
	WRITE_ONCE(z->limit_pages, pages);
	/* a new limit: full only once it refuses a write (io.c) */
	WRITE_ONCE(z->limit_full, false);
	up_write(&z->init_lock);
	return 0;
}

/**
 * zblk_get_mem_limit() - the limit the device enforces, for mem_limit.
 * @z: the device
 *
 * Context: any; lockless (the limit is one word).
 * Return: the limit in bytes (a whole number of pages), 0 for none.
 */
u64 zblk_get_mem_limit(struct zblk *z)
{
	return (u64)READ_ONCE(z->limit_pages) << PAGE_SHIFT;
}

/**
 * zblk_reset_mem_used_max() - restart mem_used_max from the current size.
 * @z: the device
 *
 * Context: process context; takes init_lock for reading.
 * Return: 0.
 */
int zblk_reset_mem_used_max(struct zblk *z)
{
	down_read(&z->init_lock);
	atomic_long_set(&z->stats.max_used_pages,
			zblk_init_done(z) ? zblk_mem_pages(z) : 0);
	up_read(&z->init_lock);
	return 0;
}

/**
 * zblk_get_mm_stat() - snapshot for mm_stat.
 * @z: the device
 * @st: filled in
 *
 * Context: process context; takes init_lock for reading.
 */
void zblk_get_mm_stat(struct zblk *z, struct zblk_mm_stat *st)
{
	struct zblk_stats *s = &z->stats;
	u64 used = 0, meta = 0;

	down_read(&z->init_lock);
	if (zblk_init_done(z)) {
		/*
		 * Pages, block descriptors and split units' records: what the
		 * data costs the system.
		 */
		used = zblk_mem_pages(z);
		meta = zba_meta_bytes(z->pool) +
		       atomic64_read(&s->split_bytes);
	}
	st->orig_data_size = atomic64_read(&s->blocks_stored) << ZBLK_BLOCK_SHIFT;
	st->compr_data_size = atomic64_read(&s->compr_data_size);
	st->mem_used_total = used << PAGE_SHIFT;
	st->mem_limit = zblk_get_mem_limit(z);
	st->mem_used_max = (u64)atomic_long_read(&s->max_used_pages) << PAGE_SHIFT;
	st->same_pages = atomic64_read(&s->same_units);
	st->pages_compacted = atomic64_read(&s->pages_compacted);
	st->huge_pages = atomic64_read(&s->huge_units);
	st->huge_pages_since = atomic64_read(&s->huge_units_since);
	st->metadata_bytes = meta;
	up_read(&z->init_lock);
}

/**
 * zblk_get_io_stat() - snapshot for io_stat.
 * @z: the device
 * @st: filled in
 *
 * Context: any; the counters are atomics, read without a lock.
 */
void zblk_get_io_stat(struct zblk *z, struct zblk_io_stat *st)
{
	struct zblk_stats *s = &z->stats;

	st->failed_reads = atomic64_read(&s->failed_reads);
	st->failed_writes = atomic64_read(&s->failed_writes);
	st->invalid_io = atomic64_read(&s->invalid_io);
	st->notify_free = atomic64_read(&s->notify_free);
}

/**
 * zblk_get_streams() - the device's compression streams now.
 * @z: the device
 * @nr: set to the number of streams (one per online CPU)
 * @bytes: set to the memory they hold
 *
 * Context: process context; takes init_lock for reading.
 * Return: 0, or -ENODEV when the device has no disksize (no streams).
 */
int zblk_get_streams(struct zblk *z, unsigned int *nr, size_t *bytes)
{
	int ret = -ENODEV;

	down_read(&z->init_lock);
	if (zblk_init_done(z)) {
		*nr = zblk_comp_nr_streams(z->comp);
		*bytes = zblk_comp_mem(z->comp);
		ret = 0;
	}
	up_read(&z->init_lock);
	return ret;
}

/**
 * zblk_for_each_class() - call @fn with each allocator type's figures.
 * @z: the device
 * @fn: called for type 0, 1, ... in order
 * @ctx: passed to @fn
 *
 * Context: process context; takes init_lock for reading (held across the
 *	calls, so @fn may not call back into the device's configuration).
 * Return: 0, or -ENODEV when the device has no disksize (no pool).
 */
int zblk_for_each_class(struct zblk *z, zblk_class_fn fn, void *ctx)
{
	struct zba_type_stats st;
	unsigned int type, n;
	int ret = -ENODEV;

	down_read(&z->init_lock);
	if (zblk_init_done(z)) {
		n = zba_nr_types(z->pool);
		for (type = 0; type < n; type++) {
			zba_type_stats(z->pool, type, &st);
			fn(ctx, type, &st);
		}
		ret = 0;
	}
	up_read(&z->init_lock);
	return ret;
}

/* Count locked entry @e in census @c. */
static void zblk_census_entry(struct zblk *z, struct zblk_entry *e,
			      struct zblk_census *c)
{
	unsigned int present = zblk_entry_blocks(z, e);
	enum zblk_census_kind kind;
	u64 bytes = 0;

	if (!present)
		return;
	if (zblk_entry_split(e)) {
		kind = ZBLK_CENSUS_SPLIT;
		bytes = zblk_split_census(z, zblk_entry_split_rec(e), c);
	} else if (zblk_entry_same(e)) {
		kind = ZBLK_CENSUS_SAME;
	} else {
		kind = zblk_entry_dead(e) ? ZBLK_CENSUS_DEAD : ZBLK_CENSUS_ONE;
		bytes = zblk_entry_size(e);
	}
	c->units[kind][present]++;
	c->bytes[kind][present] += bytes;
}

/**
 * zblk_get_census() - count the device's units by how they are stored.
 * @z: the device
 * @c: filled in
 *
 * Each entry is locked while it is read, so the figures of a unit are
 * consistent, not those of the whole device (units change meanwhile).
 * Context: process context; takes init_lock for reading, then each entry's
 *	lock in turn (the order in zblk.h); may sleep.
 * Return: 0, or -ENODEV when the device has no disksize (no table).
 */
int zblk_get_census(struct zblk *z, struct zblk_census *c)
{
	unsigned long i;
	int ret = -ENODEV;

	memset(c, 0, sizeof(*c));
	down_read(&z->init_lock);
	if (zblk_init_done(z)) {
		c->unit_blocks = zblk_unit_blocks(z);
		for (i = 0; i < z->nr_units; i++) {
			zblk_entry_lock(&z->table[i]);
			zblk_census_entry(z, &z->table[i], c);
			zblk_entry_unlock(&z->table[i]);
			if (!(i & 1023))
				cond_resched();
		}
		ret = 0;
	}
	up_read(&z->init_lock);
	return ret;
}

/**
 * zblk_get_debug_stat() - snapshot for debug_stat.
 * @z: the device
 * @st: filled in
 *
 * Context: process context; the counters are atomics, read without a lock;
 *	init_lock is taken for reading to count the packer's pending units.
 */
void zblk_get_debug_stat(struct zblk *z, struct zblk_debug_stat *st)
{
	struct zblk_stats *s = &z->stats;

	st->miss_free = atomic64_read(&s->miss_free);
	st->partial_writes = atomic64_read(&s->partial_writes);
	st->partial_discards = atomic64_read(&s->partial_discards);
	st->retried_free = atomic64_read(&s->retried_free);
	st->shrink_calls = atomic64_read(&s->shrink_calls);
	st->shrink_objects = atomic64_read(&s->shrink_objects);
	st->shrink_max_objects = atomic64_read(&s->shrink_max_objects);
	st->shrink_max_to_scan = atomic64_read(&s->shrink_max_to_scan);
	st->shrink_over = atomic64_read(&s->shrink_over);
	st->shrink_ns = atomic64_read(&s->shrink_ns);
	st->shrink_max_ns = atomic64_read(&s->shrink_max_ns);
	st->split_blocks = atomic64_read(&s->split_blocks);
	st->split_units = atomic64_read(&s->split_units);
	st->packed_units = atomic64_read(&s->packed_units);
	st->repacked_units = atomic64_read(&s->repacked_units);
	st->pack_skipped = atomic64_read(&s->pack_skipped);
	st->pack_failed = atomic64_read(&s->pack_failed);
	st->read_cache_hits = atomic64_read(&s->read_cache_hits);
	st->lazy_bytes = atomic64_read(&s->lazy_bytes);
	st->bg_compact_objects = atomic64_read(&s->bg_compact_objects);
	st->pack_pending = 0;
	down_read(&z->init_lock);
	if (zblk_init_done(z))
		st->pack_pending = bitmap_weight(z->pack_pending, z->nr_units);
	up_read(&z->init_lock);
}

/**
 * zblk_add() - create one uninitialised device.
 *
 * Context: process context, may sleep; takes zblk_index_mutex.
 * Return: the new device's id, or a negative errno (-ENOSPC when
 *	ZBLK_MAX_DEVICES exist).
 */
int zblk_add(void)
{
	struct gendisk *disk;
	struct zblk *z;
	int ret;

	z = kzalloc(sizeof(*z), GFP_KERNEL);
	if (!z)
		return -ENOMEM;
	init_rwsem(&z->init_lock);
	INIT_WORK(&z->free_work, zblk_free_work);
	INIT_DELAYED_WORK(&z->pack_work, zblk_pack_work);
	z->unit_size = ZBLK_UNIT_SIZE_DEFAULT;
	z->unit_shift = ilog2(ZBLK_UNIT_SIZE_DEFAULT);
	z->backend = zblk_comp_find(ZBLK_DEFAULT_ALGO);
	z->level = ZBLK_LEVEL_DEFAULT;
	if (!z->backend) {
		ret = -EINVAL;
		goto free_z;
	}

	mutex_lock(&zblk_index_mutex);
	ret = idr_alloc(&zblk_index_idr, z, 0, ZBLK_MAX_DEVICES, GFP_KERNEL);
	if (ret < 0)
		goto unlock;
	z->id = ret;

	disk = zblk_compat_alloc_disk(ZBLK_BLOCK_SIZE, z->unit_size);
	if (IS_ERR(disk)) {
		ret = PTR_ERR(disk);
		goto remove_id;
	}
	z->disk = disk;
	disk->major = zblk_major;
	disk->first_minor = z->id;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = &zblk_fops;
	disk->private_data = z;
	snprintf(disk->disk_name, sizeof(disk->disk_name), "zblk%d", z->id);
	set_capacity(disk, 0);

	ret = device_add_disk(NULL, disk, zblk_disk_groups);
	if (ret)
		goto put_disk;
	z->debugfs_dir = zblk_debugfs_add(z, disk->disk_name);
	mutex_unlock(&zblk_index_mutex);
	pr_info("added device %s\n", disk->disk_name);
	return z->id;

put_disk:
	put_disk(disk);
remove_id:
	idr_remove(&zblk_index_idr, z->id);
unlock:
	mutex_unlock(&zblk_index_mutex);
free_z:
	kfree(z);
	return ret;
}

/**
 * zblk_remove() - delete one device and free it.
 * @z: the device
 *
 * Refused while the device is open. Once @removing is set it is never
 * cleared: from then on the device cannot be opened and reset is refused,
 * so nothing can open it again between the check and del_gendisk(). A
 * reset that was already running is waited for before anything is freed.
 * Context: process context, may sleep; zblk_index_mutex held. Takes
 *	disk->open_mutex, then init_lock for writing.
 * Return: 0, or -EBUSY if the device is open (nothing changed).
 */
static int zblk_remove(struct zblk *z)
{
	/* open_mutex: openers and @removing, against ->open and reset. */
	mutex_lock(&z->disk->open_mutex);
	if (disk_openers(z->disk)) {
		mutex_unlock(&z->disk->open_mutex);
		return -EBUSY;
	}
	z->removing = true;
	mutex_unlock(&z->disk->open_mutex);

	/*
	 * No reset can start now; wait for one that is running (it clears
	 * @resetting under open_mutex, then wakes us).
	 */
	wait_var_event(&z->resetting, !READ_ONCE(z->resetting));

	zblk_debugfs_remove(z->debugfs_dir);
	z->debugfs_dir = NULL;
	sync_blockdev(z->disk->part0);
	zblk_reset_device(z);
	/* Removes the sysfs attributes; waits for stores running. */
	del_gendisk(z->disk);
	/* A disksize store may have slipped in before del_gendisk(). */
	zblk_reset_device(z);
	pr_info("removed device %s\n", z->disk->disk_name);
	put_disk(z->disk);
	kfree(z);
	return 0;
}

/**
 * zblk_remove_id() - hot_remove: delete device @id.
 * @id: the device id
 *
 * Context: process context, may sleep; takes zblk_index_mutex.
 * Return: 0, -ENODEV if there is no such device, -EBUSY if it is open.
 */
int zblk_remove_id(int id)
{
	struct zblk *z;
	int ret = -ENODEV;

	mutex_lock(&zblk_index_mutex);
	z = idr_find(&zblk_index_idr, id);
	if (z) {
		ret = zblk_remove(z);
		if (!ret)
			idr_remove(&zblk_index_idr, id);
	}
	mutex_unlock(&zblk_index_mutex);
	return ret;
}

static int zblk_remove_cb(int id, void *ptr, void *data)
{
	if (zblk_remove(ptr))
		pr_err("zblk%d is busy at unload\n", id);
	return 0;
}

static void zblk_destroy_devices(void)
{
	mutex_lock(&zblk_index_mutex);
	idr_for_each(&zblk_index_idr, zblk_remove_cb, NULL);
	idr_destroy(&zblk_index_idr);
	mutex_unlock(&zblk_index_mutex);
}

static int __init zblk_init(void)
{
	unsigned int i;
	int ret;

	zblk_major = register_blkdev(0, "zblk");
	if (zblk_major <= 0) {
		pr_err("cannot register a block major\n");
		return -EBUSY;
	}
	ret = zblk_comp_init();
	if (ret) {
		pr_err("cannot register the CPU hotplug state for streams: %d\n", ret);
		goto out_blkdev;
	}
	zblk_debugfs_init();
	ret = zblk_sysfs_init();
	if (ret) {
		pr_err("cannot register the zblk-control class: %d\n", ret);
		goto out_debugfs;
	}
	for (i = 0; i < num_devices; i++) {
		ret = zblk_add();
		if (ret < 0) {
			pr_err("cannot add device %u: %d\n", i, ret);
			goto out_devices;
		}
	}
	return 0;

out_devices:
	zblk_sysfs_exit();
	zblk_destroy_devices();
out_debugfs:
	zblk_debugfs_exit();
	zblk_comp_exit();
out_blkdev:
	unregister_blkdev(zblk_major, "zblk");
	return ret;
}

static void __exit zblk_exit(void)
{
	/* No more hot_add/hot_remove, then remove every device. */
	zblk_sysfs_exit();
	zblk_destroy_devices();
	zblk_debugfs_exit();
	zblk_comp_exit();
	unregister_blkdev(zblk_major, "zblk");
}

module_init(zblk_init);
module_exit(zblk_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Compressed RAM block device with a slot-per-block allocator");
MODULE_VERSION(ZBLK_VERSION);
