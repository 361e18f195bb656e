/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zblk.h - the device core's interface (zblkdev/), used by sysfs/.
 *
 * One struct zblk per /dev/zblkN. docs/design.md describes the table, the
 * unit sizes, partial writes and compaction; zblkdev/main.c the life cycle.
 *
 * Lock order (outermost first):
 *   zblk_index_mutex (device list)
 *   -> disk->open_mutex (resetting, removing) ... released before the next
 *      one is taken
 *   zblk->init_lock (rw_semaphore: device configuration)
 *   -> table entry bit lock (sleepable; try-locked in atomic context and by
 *      compaction)
 *   -> compression stream (per-CPU mutex, zblk_strm_get()); taken only to
 *      (de)compress, with or without an entry lock; a task holding a stream
 *      never waits for an entry lock (zblkdev/io.c)
 *   -> the allocator's internal spinlocks
 */
#ifndef ZBLK_H
#define ZBLK_H

#include <linux/types.h>
#include <linux/atomic.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include "zblkdev/zblk_compat.h"

struct zba_pool;
struct zba_type_stats;
struct zblk_comp;
struct zblk_backend;
struct gendisk;
struct dentry;

/* Block size the block layer sees, in every unit-size mode. */
#define ZBLK_BLOCK_SHIFT	12
#define ZBLK_BLOCK_SIZE		(1U << ZBLK_BLOCK_SHIFT)
#define ZBLK_SECTORS_PER_BLOCK	(ZBLK_BLOCK_SIZE >> SECTOR_SHIFT)

/* Unit sizes a device can use. */
#define ZBLK_UNIT_SIZE_DEFAULT	4096U
#define ZBLK_UNIT_SIZE_MAX	16384U

/* Devices: at most this many at a time (num_devices and hot_add). */
#define ZBLK_MAX_DEVICES	64

/* Longest algorithm name comp_algorithm accepts. */
#define ZBLK_ALGO_NAME_MAX	32

struct zblk_entry;

/**
 * struct zblk_stats - counters, all atomic; zeroed by reset.
 * @compr_data_size:	bytes of stored objects (raw units count unit_size)
 * @blocks_stored:	4K blocks holding data: a stored unit's blocks, its
 *			absent ones left out (same-filled units included)
 * @same_units:		units stored as a fill value
 * @huge_units:		units stored raw
 * @huge_units_since:	units ever stored raw since init
 * @pages_compacted:	pages compaction's own moves freed (sysfs and shrinker)
 * @failed_reads:	reads that failed (decompression error)
 * @failed_writes:	writes that failed (allocation, mem_limit)
 * @invalid_io:		bios beyond the device or not block aligned
 * @notify_free:	swap_slot_free_notify calls
 * @miss_free:		swap_slot_free_notify calls that found the entry locked
 *			(their blocks go to @free_pending)
 * @retried_free:	blocks of those misses freed later by @free_work
 * @partial_writes:	writes that covered part of a 16K unit (their blocks
 *			are stored apart: zblkdev/split.c)
 * @split_blocks:	4K blocks those writes stored as objects of their own
 * @split_units:	units now split (a gauge)
 * @split_bytes:	bytes of the split units' records (metadata, counted in
 *			mem_used_total)
 * @lazy_bytes:	bytes of LAZY blocks, stored raw for the packer to
 *			compress (a gauge; bounded by zblk_split_defer())
 * @bg_compact_objects:	objects the packer's compaction offered for moving
 *			(zblk_compact_background())
 * @packed_units:	split units the packer stored as one object again
 * @repacked_units:	units with one object the packer compressed again to
 *			drop blocks freed since (DEAD blocks)
 * @pack_skipped:	packs dropped because the unit changed meanwhile
 * @pack_failed:	packs that failed (no memory, mem_limit); the unit
 *			stays as it was
 * @read_cache_hits:	reads served from a stream's copy of the last unit it
 *			decompressed (zblkdev/io.c, zblk_read_cached())
 * @partial_discards:	discards/frees that covered only part of a unit
 * @max_used_pages:	highest pool size seen, in pages
 * @shrink_calls:	shrinker scan calls
 * @shrink_objects:	objects those calls offered to zblk_move() (moved or
 *			skipped): the shrinker's work
 * @shrink_max_objects:	most objects one scan call offered
 * @shrink_max_to_scan:	largest nr_to_scan the kernel passed
 * @shrink_over:	scan calls that offered more objects than nr_to_scan
 * @shrink_ns:		time spent in scan calls, ns
 * @shrink_max_ns:	longest scan call, ns
 */
struct zblk_stats {
	atomic64_t compr_data_size;
	atomic64_t blocks_stored;
	atomic64_t same_units;
	atomic64_t huge_units;
	atomic64_t huge_units_since;
	atomic64_t pages_compacted;
	atomic64_t failed_reads;
	atomic64_t failed_writes;
	atomic64_t invalid_io;
	atomic64_t notify_free;
	atomic64_t miss_free;
	atomic64_t retried_free;
	atomic64_t partial_writes;
	atomic64_t split_blocks;
	atomic64_t split_units;
	atomic64_t split_bytes;
	atomic64_t lazy_bytes;
	atomic64_t bg_compact_objects;
	atomic64_t packed_units;
	atomic64_t repacked_units;
	atomic64_t pack_skipped;
	atomic64_t pack_failed;
	atomic64_t read_cache_hits;
	atomic64_t partial_discards;
	atomic_long_t max_used_pages;
	atomic64_t shrink_calls;
	atomic64_t shrink_objects;
	atomic64_t shrink_max_objects;
	atomic64_t shrink_max_to_scan;
	atomic64_t shrink_over;
	atomic64_t shrink_ns;
	atomic64_t shrink_max_ns;
};

/**
 * struct zblk - one compressed RAM block device.
 * @disk:	the gendisk; private_data points back here
 * @id:		N in zblkN
 * @resetting:	a reset is running; open, another reset and the removal's
 *		frees wait for it or fail. Protected by disk->open_mutex.
 * @removing:	removal has begun (never cleared: the device is going away);
 *		open and reset fail. Protected by disk->open_mutex.
 * @init_lock:	protects the configuration below and init/reset. I/O does
 *		not take it: bios only arrive while the device has capacity,
 *		and reset/removal first make sure nobody has it open.
 * @disksize:	size in bytes, 0 while not initialised. Protected by init_lock.
 * @unit_size:	bytes per table entry (4096 or 16384). Protected by init_lock;
 *		constant while initialised.
 * @unit_shift:	log2(unit_size)
 * @backend:	compression backend chosen. Protected by init_lock.
 * @level:	level chosen or ZBLK_LEVEL_DEFAULT. Protected by init_lock.
 * @limit_pages: mem_limit in pages, 0 for none. Written under init_lock,
 *		read locklessly by writers.
 * @limit_full: mem_limit refused an allocation, and no allocation since
 *		has left the pool a 64th of the limit below it; writes are
 *		refused meanwhile, and the packer does not compact. Read and
 *		written locklessly by writers (zblk_over_limit()).
 * @table:	one entry per unit. Set at init, freed at reset (init_lock
 *		held for writing, no I/O possible).
 * @nr_units:	entries in @table
 * @pool:	allocator pool; same life time as @table
 * @comp:	compressor with per-CPU streams; same life time as @table
 * @shrinker:	compacts under memory pressure; registered while initialised
 * @free_pending: one bit per 4K block that swap freed while its unit was
 *		locked (swap_slot_free_notify runs in atomic context and only
 *		try-locks). Set by the notify, cleared by @free_work (under the
 *		entry lock, freeing the block) or by a write of the block
 *		(which supersedes the free). Same life time as @table.
 * @free_work:	frees the blocks of @free_pending in process context;
 *		cancelled by reset before anything is freed
 * @pack_pending: one bit per unit the packer should look at (a split
 *		write, a partial discard). Set with test_and_set_bit() before
 *		@pack_work is queued, cleared by it before it looks. Same life
 *		time as @table.
 * @pack_work:	the packer (zblkdev/split.c); cancelled by reset after
 *		@free_work, before anything is freed
 * @stats:	counters
 * @debugfs_dir: /sys/kernel/debug/zblk/zblkN
 */
struct zblk {
	struct gendisk *disk;
	int id;
	bool resetting;
	bool removing;

	struct rw_semaphore init_lock;
	u64 disksize;
	unsigned int unit_size;
	unsigned int unit_shift;
	const struct zblk_backend *backend;
	int level;
	unsigned long limit_pages;
	bool limit_full;

	struct zblk_entry *table;
	unsigned long nr_units;
	struct zba_pool *pool;
	struct zblk_comp *comp;
	struct zblk_compat_shrinker shrinker;
	unsigned long *free_pending;
	struct work_struct free_work;
	unsigned long *pack_pending;
	struct delayed_work pack_work;

	struct zblk_stats stats;
	struct dentry *debugfs_dir;
};

/**
 * struct zblk_config - a snapshot of a device's configuration, for sysfs.
 * @disksize:		bytes, 0 until initialised
 * @unit_size:		bytes per unit (4096 or 16384)
 * @initialised:	disksize is set (until reset)
 * @backend:		the compression algorithm (a const ops table that lives
 *			as long as the module, so it may be used after the
 *			snapshot is taken)
 * @level:		the level in use (the backend's default unless set)
 */
struct zblk_config {
	u64 disksize;
	unsigned int unit_size;
	bool initialised;
	const struct zblk_backend *backend;
	int level;
};

/**
 * struct zblk_mm_stat - a snapshot for mm_stat.
 * @orig_data_size:	bytes of the 4K blocks holding data (a unit's
 *			absent blocks are not counted)
 * @compr_data_size:	bytes of stored objects
 * @mem_used_total:	bytes the data costs: pool pages plus
 *			@metadata_bytes rounded up to pages (zblk_mem_pages())
 * @mem_limit:		bytes, 0 for none
 * @mem_used_max:	bytes, highest @mem_used_total seen at a write
 * @same_pages:		same-filled units
 * @pages_compacted:	pages freed by compaction
 * @huge_pages:		units stored raw
 * @huge_pages_since:	units ever stored raw
 * @metadata_bytes:	bytes of the allocator's block descriptors and of
 *			split units' records (in @mem_used_total; zram's
 *			mm_stat counts no metadata)
 */
struct zblk_mm_stat {
	u64 orig_data_size;
	u64 compr_data_size;
	u64 mem_used_total;
	u64 mem_limit;
	u64 mem_used_max;
	u64 same_pages;
	u64 pages_compacted;
	u64 huge_pages;
	u64 huge_pages_since;
	u64 metadata_bytes;
};

/**
 * struct zblk_io_stat - a snapshot for io_stat.
 * @failed_reads:	reads that failed
 * @failed_writes:	writes that failed
 * @invalid_io:		bios beyond the device or not block aligned
 * @notify_free:	swap_slot_free_notify calls
 */
struct zblk_io_stat {
	u64 failed_reads;
	u64 failed_writes;
	u64 invalid_io;
	u64 notify_free;
};

/**
 * struct zblk_debug_stat - a snapshot for debug_stat.
 * @miss_free:		swap frees that found their unit locked
 * @partial_writes:	writes that covered part of a 16K unit (their blocks
 *			are stored apart: zblkdev/split.c)
 * @split_blocks:	4K blocks those writes stored as objects of their own
 * @split_units:	units now split (a gauge)
 * @packed_units:	split units the packer stored as one object again
 * @repacked_units:	units with one object the packer compressed again to
 *			drop blocks freed since (DEAD blocks)
 * @pack_skipped:	packs dropped because the unit changed meanwhile
 * @pack_failed:	packs that failed (no memory, mem_limit); the unit
 *			stays as it was
 * @read_cache_hits:	reads served from a stream's copy of the last unit it
 *			decompressed (zblkdev/io.c, zblk_read_cached())
 * @partial_discards:	discards/frees that covered only part of a unit
 * @retried_free:	blocks of missed swap frees freed later
 * @shrink_calls:	shrinker scan calls
 * @shrink_objects:	objects they offered for moving
 * @shrink_max_objects:	most objects one scan call offered
 * @shrink_max_to_scan:	largest nr_to_scan the kernel asked for
 * @shrink_over:	scan calls that offered more objects than nr_to_scan
 * @shrink_ns:		time in scan calls, ns
 * @shrink_max_ns:	longest scan call, ns
 * @pack_pending:	units waiting for the packer now (a gauge)
 * @lazy_bytes:		bytes of 4K blocks stored raw for the packer now (a
 *			gauge)
 * @bg_compact_objects:	objects the packer's compaction offered for moving
 */
struct zblk_debug_stat {
	u64 miss_free;
	u64 partial_writes;
	u64 partial_discards;
	u64 retried_free;
	u64 shrink_calls;
	u64 shrink_objects;
	u64 shrink_max_objects;
	u64 shrink_max_to_scan;
	u64 shrink_over;
	u64 shrink_ns;
	u64 shrink_max_ns;
	u64 split_blocks;
	u64 split_units;
	u64 packed_units;
	u64 repacked_units;
	u64 pack_skipped;
	u64 pack_failed;
	u64 pack_pending;
	u64 read_cache_hits;
	u64 lazy_bytes;
	u64 bg_compact_objects;
};

/**
 * enum zblk_census_kind - how a unit is stored, for zblk_get_census().
 * @ZBLK_CENSUS_SAME:	a fill value
 * @ZBLK_CENSUS_ONE:	one object holding just its present blocks
 * @ZBLK_CENSUS_DEAD:	one object that still holds freed blocks (DEAD: the
 *			packer's to drop)
 * @ZBLK_CENSUS_SPLIT:	blocks stored apart (zblkdev/split.c)
 * @ZBLK_CENSUS_KINDS:	their number
 */
enum zblk_census_kind {
	ZBLK_CENSUS_SAME,
	ZBLK_CENSUS_ONE,
	ZBLK_CENSUS_DEAD,
	ZBLK_CENSUS_SPLIT,
	ZBLK_CENSUS_KINDS,
};

/**
 * enum zblk_census_blk - where a block of a split unit is.
 * @ZBLK_CENSUS_BLK_OLD:	in the unit's old object
 * @ZBLK_CENSUS_BLK_OBJ:	in an object of its own, compressed
 * @ZBLK_CENSUS_BLK_RAW:	in an object of its own, raw (did not compress)
 * @ZBLK_CENSUS_BLK_LAZY:	in an object of its own, raw, for the packer
 * @ZBLK_CENSUS_BLK_SAME:	a fill value
 * @ZBLK_CENSUS_BLKS:		their number
 */
enum zblk_census_blk {
	ZBLK_CENSUS_BLK_OLD,
	ZBLK_CENSUS_BLK_OBJ,
	ZBLK_CENSUS_BLK_RAW,
	ZBLK_CENSUS_BLK_LAZY,
	ZBLK_CENSUS_BLK_SAME,
	ZBLK_CENSUS_BLKS,
};

/* Most 4K blocks in a unit, and a census row per count of present ones. */
#define ZBLK_CENSUS_ROWS	(ZBLK_UNIT_SIZE_MAX / ZBLK_BLOCK_SIZE + 1)

/**
 * struct zblk_census - the device's units by how they are stored and how
 *	many 4K blocks they hold (debugfs zblkN/units).
 * @unit_blocks:	4K blocks per unit
 * @units:		units, by kind and by present blocks
 * @bytes:		bytes of the objects those units hold (a split unit's
 *			old object and its blocks' own objects)
 * @blk_count:		blocks of split units, by where they are
 * @blk_bytes:		bytes of their objects (@ZBLK_CENSUS_BLK_OLD: the old
 *			objects, once per unit)
 */
struct zblk_census {
	unsigned int unit_blocks;
	u64 units[ZBLK_CENSUS_KINDS][ZBLK_CENSUS_ROWS];
	u64 bytes[ZBLK_CENSUS_KINDS][ZBLK_CENSUS_ROWS];
	u64 blk_count[ZBLK_CENSUS_BLKS];
	u64 blk_bytes[ZBLK_CENSUS_BLKS];
};

/* zblkdev/main.c: life cycle and configuration (called by sysfs/). */
void zblk_get_config(struct zblk *z, struct zblk_config *cfg);
int zblk_set_disksize(struct zblk *z, u64 size);
int zblk_reset(struct zblk *z);
int zblk_set_unit_size(struct zblk *z, unsigned int unit_size);
int zblk_set_algorithm(struct zblk *z, const char *name);
int zblk_set_level(struct zblk *z, const char *algo, int level);
int zblk_set_mem_limit(struct zblk *z, u64 bytes);
u64 zblk_get_mem_limit(struct zblk *z);
int zblk_reset_mem_used_max(struct zblk *z);
void zblk_get_mm_stat(struct zblk *z, struct zblk_mm_stat *st);
void zblk_get_io_stat(struct zblk *z, struct zblk_io_stat *st);
int zblk_get_streams(struct zblk *z, unsigned int *nr, size_t *bytes);
void zblk_get_debug_stat(struct zblk *z, struct zblk_debug_stat *st);
typedef void (*zblk_class_fn)(void *ctx, unsigned int type,
			      const struct zba_type_stats *st);
int zblk_for_each_class(struct zblk *z, zblk_class_fn fn, void *ctx);
int zblk_get_census(struct zblk *z, struct zblk_census *c);
int zblk_add(void);
int zblk_remove_id(int id);

/* zblkdev/compact.c */
long zblk_compact(struct zblk *z);
bool zblk_compact_background(struct zblk *z);
int zblk_shrinker_register(struct zblk *z);
void zblk_shrinker_unregister(struct zblk *z);

#endif /* ZBLK_H */
