/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zblk_compat.h - the one place where zblk meets kernel API differences.
 *
 * zblk is built and tested for Debian's 6.1 and 6.12 kernels. Every API that
 * differs between them is wrapped here as a static inline or a macro keyed on
 * LINUX_VERSION_CODE, so that the .c files carry no version conditionals:
 *
 *   - disk allocation and queue limits: 6.1 blk_alloc_disk(node) followed by
 *     blk_queue_*() calls and QUEUE_FLAG_* bits; 6.12 blk_alloc_disk(&lim,
 *     node) with struct queue_limits and BLK_FEAT_* feature bits;
 *   - "synchronous" I/O for swap: 6.1 decides it from ->rw_page being set
 *     (swap then calls bdev_read_page()/bdev_write_page()); 6.12 from
 *     BLK_FEAT_SYNCHRONOUS (->rw_page no longer exists);
 *   - ->open(): 6.1 (struct block_device *, fmode_t); 6.12 (struct gendisk *,
 *     blk_mode_t);
 *   - shrinkers: 6.1 an embedded struct shrinker and register_shrinker();
 *     6.12 shrinker_alloc()/shrinker_register()/shrinker_free();
 *   - class attributes: 6.12 passes const struct class pointers.
 *
 * Kernels between the two are not supported (several of these APIs changed
 * at different releases in between); the build refuses them.
 *
 * Locking: none of these helpers takes a lock of zblk's own.
 */
#ifndef ZBLK_COMPAT_H
#define ZBLK_COMPAT_H

#include <linux/version.h>
#include <linux/blkdev.h>
#include <linux/bio.h>
#include <linux/err.h>
#include <linux/shrinker.h>
#include <linux/device.h>
#include <linux/pagemap.h>

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0) && \
	LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#error "zblk supports Linux 6.1.y and 6.12 or later"
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
#define ZBLK_KERNEL_6_12	1
#else
#define ZBLK_KERNEL_6_12	0
#endif

struct zblk;

/*
 * Entry points of the device core that the wrappers below call. They are
 * defined in zblkdev/ and declared here so that the wrappers stay static
 * inlines with the right signature for each kernel.
 */
int zblk_open_disk(struct gendisk *disk);
int zblk_rw_page(struct zblk *z, sector_t sector, struct page *page,
		 bool is_write);

/**
 * zblk_compat_alloc_disk() - allocate a bio-based gendisk with zblk's limits.
 * @block_size: logical and physical block size, minimum I/O size and discard
 *	granularity in bytes
 * @io_opt: optimal I/O size in bytes (the device's unit size)
 *
 * The disk is non-rotational, does not feed the entropy pool, has stable
 * writes, is synchronous for swap, and supports discard and write-zeroes of
 * any length.
 * Context: process context, may sleep.
 * Return: the disk, or an ERR_PTR().
 */
#if ZBLK_KERNEL_6_12
static inline struct gendisk *zblk_compat_alloc_disk(unsigned int block_size,
						     unsigned int io_opt)
{
	struct queue_limits lim = {
		.logical_block_size	= block_size,
		.physical_block_size	= block_size,
		.io_min			= block_size,
		.io_opt			= io_opt,
		.max_hw_discard_sectors	= UINT_MAX,
		.discard_granularity	= block_size,
		.max_write_zeroes_sectors = UINT_MAX,
		.features		= BLK_FEAT_STABLE_WRITES |
					  BLK_FEAT_SYNCHRONOUS,
	};

	return blk_alloc_disk(&lim, NUMA_NO_NODE);
}
#else
static inline struct gendisk *zblk_compat_alloc_disk(unsigned int block_size,
						     unsigned int io_opt)
{
	struct gendisk *disk = blk_alloc_disk(NUMA_NO_NODE);
	struct request_queue *q;

	if (!disk)
		return ERR_PTR(-ENOMEM);
	q = disk->queue;
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, q);
	blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, q);
	blk_queue_logical_block_size(q, block_size);
	blk_queue_physical_block_size(q, block_size);
	blk_queue_io_min(q, block_size);
	blk_queue_io_opt(q, io_opt);
	q->limits.discard_granularity = block_size;
	blk_queue_max_discard_sectors(q, UINT_MAX);
	blk_queue_max_write_zeroes_sectors(q, UINT_MAX);
	return disk;
}
#endif

/**
 * zblk_compat_set_io_opt() - change the optimal I/O size of an added disk.
 * @disk: the disk
 * @io_opt: new optimal I/O size in bytes
 *
 * Context: process context; no I/O is outstanding (the disk has no capacity).
 * Return: 0 or a negative errno.
 */
#if ZBLK_KERNEL_6_12
static inline int zblk_compat_set_io_opt(struct gendisk *disk,
					 unsigned int io_opt)
{
	struct queue_limits lim = queue_limits_start_update(disk->queue);

	lim.io_opt = io_opt;
	return queue_limits_commit_update(disk->queue, &lim);
}
#else
static inline int zblk_compat_set_io_opt(struct gendisk *disk,
					 unsigned int io_opt)
{
	blk_queue_io_opt(disk->queue, io_opt);
	return 0;
}
#endif

/*
 * block_device_operations members whose signatures differ.
 * ZBLK_COMPAT_FOPS expands to the designated initialisers for ->open and,
 * on 6.1, ->rw_page.
 */
#if ZBLK_KERNEL_6_12
static inline int zblk_compat_open(struct gendisk *disk, blk_mode_t mode)
{
	return zblk_open_disk(disk);
}

#define ZBLK_COMPAT_FOPS	.open = zblk_compat_open
#else
static inline int zblk_compat_open(struct block_device *bdev, fmode_t mode)
{
	return zblk_open_disk(bdev->bd_disk);
}

/*
 * 6.1 swap uses ->rw_page for one page at a time and marks the swap device
 * SWP_SYNCHRONOUS_IO only when ->rw_page exists. On failure nothing is
 * completed here: the caller retries the page with a bio, whose completion
 * handles the error (a failed swap write keeps the page dirty in memory).
 */
static inline int zblk_compat_rw_page(struct block_device *bdev,
				      sector_t sector, struct page *page,
				      enum req_op op)
{
	unsigned long start = jiffies;
	int ret;

	if (PageTransHuge(page))
		return -EOPNOTSUPP;
	ret = zblk_rw_page(bdev->bd_disk->private_data, sector, page,
			   op_is_write(op));
	if (!ret) {
		/*
		 * Accounted once it succeeded (from when it started): a
		 * failed page is retried with a bio, which is accounted.
		 */
		bdev_end_io_acct(bdev, op,
				 bdev_start_io_acct(bdev, PAGE_SECTORS, op, start));
		page_endio(page, op_is_write(op), 0);
	}
	return ret;
}

#define ZBLK_COMPAT_FOPS	.open = zblk_compat_open, \
				.rw_page = zblk_compat_rw_page
#endif

/* A shrinker owned by one device. */
#if ZBLK_KERNEL_6_12
struct zblk_compat_shrinker {
	struct shrinker *s;
};

/**
 * zblk_compat_shrinker_register() - create and register a shrinker.
 * @cs: the device's shrinker slot
 * @count: count_objects callback
 * @scan: scan_objects callback
 * @priv: returned by zblk_compat_shrinker_priv() in the callbacks
 * @name: shrinker name (shown in debugfs where the kernel has it)
 *
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM.
 */
static inline int zblk_compat_shrinker_register(struct zblk_compat_shrinker *cs,
	unsigned long (*count)(struct shrinker *, struct shrink_control *),
	unsigned long (*scan)(struct shrinker *, struct shrink_control *),
	void *priv, const char *name)
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return -ENOMEM;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	s->private_data = priv;
	shrinker_register(s);
	cs->s = s;
	return 0;
}

/**
 * zblk_compat_shrinker_unregister() - unregister; waits for running calls.
 * @cs: the device's shrinker slot (may be unregistered already)
 *
 * Context: process context, may sleep.
 */
static inline void zblk_compat_shrinker_unregister(struct zblk_compat_shrinker *cs)
{
	if (cs->s)
		shrinker_free(cs->s);
	cs->s = NULL;
}

static inline void *zblk_compat_shrinker_priv(struct shrinker *s)
{
	return s->private_data;
}
#else
struct zblk_compat_shrinker {
	struct shrinker s;
	void *priv;
	bool registered;
};

static inline int zblk_compat_shrinker_register(struct zblk_compat_shrinker *cs,
	unsigned long (*count)(struct shrinker *, struct shrink_control *),
	unsigned long (*scan)(struct shrinker *, struct shrink_control *),
	void *priv, const char *name)
{
	int ret;

	memset(&cs->s, 0, sizeof(cs->s));
	cs->s.count_objects = count;
	cs->s.scan_objects = scan;
	cs->s.seeks = DEFAULT_SEEKS;
	cs->priv = priv;
	ret = register_shrinker(&cs->s, "%s", name);
	cs->registered = !ret;
	return ret;
}

static inline void zblk_compat_shrinker_unregister(struct zblk_compat_shrinker *cs)
{
	if (cs->registered)
		unregister_shrinker(&cs->s);
	cs->registered = false;
}

static inline void *zblk_compat_shrinker_priv(struct shrinker *s)
{
	return container_of(s, struct zblk_compat_shrinker, s)->priv;
}
#endif

/* Class attribute callbacks take const pointers on 6.12. */
#if ZBLK_KERNEL_6_12
#define zblk_class_const	const
#define ZBLK_COMPAT_CLASS_OWNER
#else
#define zblk_class_const
#define ZBLK_COMPAT_CLASS_OWNER	.owner = THIS_MODULE,
#endif

#endif /* ZBLK_COMPAT_H */
