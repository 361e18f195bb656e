// SPDX-License-Identifier: GPL-2.0
/*
 * zblk_alloc.c - zblk's slot-per-block allocator for compressed units.
 *
 * Memory is taken in blocks. A block of type T is a run of T.pages order-0
 * pages that is split into T.slots equal slots of T.slot_size bytes; an
 * object of n bytes goes into a slot of the smallest type whose slot holds n.
 * docs/allocator.md has the measurements behind the choices below.
 *
 * Pages, not high-order allocations. A block's pages are separate order-0
 * pages (no vmap, no compound page), so allocation never depends on free
 * high-order memory, which is scarce exactly when a swap device is needed. An
 * object may straddle a page boundary inside its block: zba_write() copies
 * it in pieces (one kmap_local_page() per page) and zba_read_begin() returns
 * a pointer into the page when the slot lies in one page and copies the
 * object into the caller's buffer otherwise, as zsmalloc does. Copying costs
 * one memcpy of the object: in the userspace replay (docs/allocator.md) a
 * read plus lz4 decompression costs 3-18% more than from a flat buffer, the
 * zstd difference is lost in noise, and vm_map_ram() per read or high-order
 * blocks would cost more (a page-table update and TLB flush, or reclaim and
 * compaction of the page allocator) or fail under memory pressure.
 *
 * Pages on demand. A block's pages are allocated when the first slot that
 * touches them is taken and freed as soon as no used slot touches them, and
 * a block takes its lowest free slot first. So the unused end of a type's
 * last, partly filled block costs at most one partly used page rather than
 * half a block: blocks can be large (up to 128 KiB) and slot sizes finely
 * spaced without paying for it at rest, and scattered frees give back every
 * page none of whose slots is in use, even without compaction. A block with
 * no used slot is freed with its metadata at once.
 *
 * The type table is derived when a pool is created, for its unit size and
 * PAGE_SIZE, by zba_build_table(): candidate slot sizes are s = p*PAGE_SIZE/n
 * rounded down to 8 bytes (for p pages and n slots, so nearly nothing is lost
 * at a block's end), and a dynamic programme picks the subset that minimises
 * the expected waste for a model of stored data: internal waste (slot minus
 * object), block-end waste, the block's descriptor as kmalloc() rounds it,
 * and half a page and half a descriptor per type in use (its partly used
 * block). The model stores ZBA_MODEL_BYTES (16 MiB) of compressed data, 80%
 * of the bytes spread evenly over log(size) from unit/16 to unit and 20% over
 * log(size) from 32 bytes to unit. More data than that only makes the
 * per-type term smaller. For 4 KiB pages this gives about 120 types for 4 KiB
 * units and 130 for 16 KiB units, 1-3% apart where the bytes are.
 *
 * Compaction (zba_compact()) isolates the sparsest block of a type: it goes
 * off the lists, so no allocation lands in it, and only compaction frees it
 * (zba_free() of its objects still works). Its objects, last slot first, go
 * to the caller's callback with no allocator lock held; the callback
 * try-locks the owner and calls zba_move(), which copies the object into the
 * lowest free slot of the fullest other block, or, when the isolated block is
 * the type's only non-full one, into a lower free slot of the same block.
 * zba_move() never creates a block; it may add a page to the receiving block
 * with GFP_NOWAIT. A call's work is bounded by its caller: at most
 * ctl->max_objects objects are offered to the callback (a shrinker passes
 * nr_to_scan), and it stops at ctl->max_pages pages freed; a call cut short
 * leaves its block partly drained, and the next one starts at the same type.
 * Pages are counted as freed net of such additions, and
 * only pages zba_move() itself released count: pages an owner's zba_free()
 * releases from an isolated block meanwhile are not compaction's.
 *
 * Handles: (block id << ZBA_ID_SHIFT) | (type << ZBA_SLOT_BITS) | slot. The
 * block id comes from the pool's xarray (ids start at 1, so 0 is never a
 * handle) and maps to the block's descriptor; the type and slot need no
 * lookup. 64-bit only.
 *
 * Metadata. Each object has an owner (u32, the caller's cookie that
 * compaction hands back) and a bit in its block's used-slot bitmap. The
 * owner is kept in the last 4 bytes of the object's slot, so objects of a
 * type hold at most slot_size - 4 bytes; only the unit type, whose slot is
 * exactly a unit, keeps its owners in the block descriptor. The descriptor
 * (kmalloc'd, one per block) is then a 32-byte header, 8 bytes per page of
 * the block and the bitmap: at most 512 bytes and, on the corpus, 0.3% of
 * the pool's pages (docs/allocator.md). Descriptors are counted in
 * pool->meta_bytes at the size of their kmalloc bucket, and reported by
 * zba_meta_bytes() and in zba_mem_pages(), which the device charges against
 * mem_limit. Owners in the descriptor cost 4 bytes per slot whether it is
 * used or not and made small-slot descriptors 1-2.3 KiB (kmalloc-2k/-4k per
 * block); in the slot they cost 4 bytes per stored object, in pages.
 *
 * Page migration (section "page migration"; kernels with CONFIG_COMPACTION,
 * i.e. Debian's 6.1 and 6.12): pool pages are allocated with __GFP_MOVABLE
 * and registered with __SetPageMovable(), like zsmalloc's, so the kernel's
 * compaction (and CMA, memory offlining) can move them: ->isolate_page()
 * accepts a page that still belongs to a block, ->migrate_page() copies it
 * to the new page and replaces one entry of the block's page array. Handles
 * name (block, type, slot), not pages, so nothing else changes and no owner
 * is involved. page->private names the page's type, page->index its block
 * id and page index. A page leaves the pool (zba_free(), zba_move(), pool
 * destruction) only after __ClearPageMovable() under its page lock, so that
 * no callback runs on it afterwards; the page lock is only try-locked there
 * (zba_free() runs in atomic context), and a page whose lock is busy (the
 * kernel isolating or migrating it) goes on its type's deferred list, marked
 * gone, for a work item that sleeps on the lock and frees it.
 *
 * Locking. Each type has one spinlock, type->lock, guarding its block lists,
 * counters, every block descriptor's mutable fields (used bitmap, owners,
 * page array, counters, list position), its deferred list, the page->index
 * of its pages, and the owners kept in slots (written by zba_take(), read by
 * compaction, both under the lock; page migration copies a page under it
 * too). Blocks are kept on lists by fullness (16 fill levels and full);
 * allocation takes the fullest non-full block so that sparse blocks drain,
 * compaction isolates the sparsest. Pages, descriptors and block ids are
 * allocated with the caller's gfp with no lock held, then the lock is
 * retaken and the choice redone. Nothing sleeps under the lock and nothing
 * is freed to the page allocator under it. The object's bytes are guarded by
 * the caller (its owner lock), not by type->lock.
 * pool->compact_lock (a mutex, only ever try-locked) lets one compaction run
 * per pool; it is held while the caller's move callback runs, which takes the
 * owner's lock (try-lock) and then type->lock in zba_move().
 *
 * Page migration adds two locks. The kernel calls the migration callbacks
 * with the page lock held; they take type->lock (the page's block and slot
 * state) and ->migrate_page() then takes type->migrate_lock (a rwlock) for
 * writing while it copies the page and swaps the page array entry. Readers
 * and writers of object bytes (zba_read_begin() to zba_read_end(),
 * zba_write(), zba_move()'s copy) hold type->migrate_lock for reading and
 * take no other allocator lock meanwhile, so a page's bytes never change
 * under them and the page they map is never the one being replaced.
 * type->lock only try-locks page locks (making pages movable in zba_take(),
 * unmovable in zba_pages_disown()): the kernel holds a page lock while it
 * waits for type->lock in a callback. Everything stays usable from atomic
 * context as before; only the deferred-free work and pool destruction sleep
 * on page locks, holding no allocator lock.
 *
 * Lock order (the one place it is written down):
 *   pool->compact_lock -> (caller's owner lock) -> page lock (kernel) ->
 *   type->lock -> type->migrate_lock -> xarray lock
 * The xarray lock is taken inside xa_* calls, never under type->lock here
 * (xa_load() under type->lock takes only RCU). The owner lock and the page
 * lock are never held together by the allocator: migration needs no owner.
 * A page lock is taken under type->lock only by trylock_page().
 */
#define pr_fmt(fmt) "zblk_alloc: " fmt

#include <linux/atomic.h>
#include <linux/bitmap.h>
#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/cache.h>
#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/types.h>
#include <linux/xarray.h>
#include <linux/version.h>
#include <linux/workqueue.h>

#include "zblk_alloc.h"

/* ---- kernel compatibility (6.1 / 6.12) -------------------------------------
 *
 * alloc/ is also built in userspace against tests/alloc/shim/, so it cannot
 * use zblkdev/zblk_compat.h; what differs between the kernels it supports for
 * page migration is here. Both 6.1 and 6.12 export __SetPageMovable() and
 * __ClearPageMovable() to modules (EXPORT_SYMBOL, Module.symvers) and have the
 * same struct movable_operations (isolate_page, migrate_page, putback_page)
 * in <linux/migrate.h>; they are defined in mm/compaction.c, so migration is
 * built only with CONFIG_COMPACTION (Debian's 6.1 and 6.12, amd64 and arm64,
 * have it). Without it pool pages are allocated without __GFP_MOVABLE.
 * 6.1 also has MIGRATE_SYNC_NO_COPY (the driver would have to leave the copy
 * to the caller, which it cannot do safely: the bytes must be copied under
 * our locks), which zba_page_migrate() refuses as zsmalloc does; 6.12 no
 * longer has that mode.
 */
#ifdef CONFIG_COMPACTION
#define ZBA_MIGRATION		1
#include <linux/migrate.h>
#include <linux/pagemap.h>
#else
#define ZBA_MIGRATION		0
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define zba_migrate_mode_ok(mode)	((mode) != MIGRATE_SYNC_NO_COPY)
#else
#define zba_migrate_mode_ok(mode)	true
#endif

/* Pool pages are movable where they can migrate, else kept out of the way. */
static inline gfp_t zba_page_gfp(gfp_t gfp)
{
	return ZBA_MIGRATION ? gfp | __GFP_MOVABLE : gfp & ~__GFP_MOVABLE;
}

#if BITS_PER_LONG != 64
#error "zblk_alloc needs 64-bit handles (BITS_PER_LONG == 64)"
#endif

#define ZBA_SLOT_BITS		9
#define ZBA_MAX_SLOTS		(1U << ZBA_SLOT_BITS)
#define ZBA_TYPE_BITS		8
#define ZBA_ID_SHIFT		(ZBA_SLOT_BITS + ZBA_TYPE_BITS)
#define ZBA_SLOT_MASK		(ZBA_MAX_SLOTS - 1)
#define ZBA_TYPE_MASK		((1U << ZBA_TYPE_BITS) - 1)

#define ZBA_MIN_SLOT		32
#define ZBA_ALIGN		8
#define ZBA_MIN_UNIT		1024
#define ZBA_MAX_UNIT		65536
/* A block is at most this many bytes, or 4 units if that is more. */
#define ZBA_BLOCK_BYTES		(128 * 1024)
/* Most pages one slot can touch. */
#define ZBA_MAX_SPAN		(ZBA_MAX_UNIT / PAGE_SIZE + 2)
/* An object's owner, kept in the last bytes of its slot (see the top comment). */
#define ZBA_OWNER_SIZE		sizeof(u32)

/* Fill levels: 0..15 for blocks with a free slot, ZBA_FULL for full ones. */
#define ZBA_LEVELS		16
#define ZBA_FULL		ZBA_LEVELS
#define ZBA_NR_LISTS		(ZBA_LEVELS + 1)

/* The data model the type table is optimised for (see the top comment). */
#define ZBA_MODEL_BYTES		(16UL << 20)
#define ZBA_MODEL_SHIFT		32
#define ZBA_MAX_OPTS		4

static_assert(ZBA_MAX_TYPES <= (1U << ZBA_TYPE_BITS));

/**
 * struct zba_block - descriptor of one block (allocated with the caller's gfp).
 * @list: position in its type's @lists by fill level; empty while isolated
 *	(protected by type->lock)
 * @id: index in pool->blocks, constant
 * @nr_used: slots in use (protected by type->lock)
 * @nr_pages: pages present in @pages (protected by type->lock)
 * @level: fill level, ZBA_FULL when full (protected by type->lock)
 * @isolated: taken off the lists by compaction; no slot is allocated in it
 *	and compaction, not zba_free(), frees it (protected by type->lock)
 * @type: index of the block's type, constant
 * @pages: the block's pages, NULL where no used slot touches a page
 *	(protected by type->lock; an entry touched by a used slot changes only
 *	when page migration replaces the page, under type->lock and
 *	type->migrate_lock held for writing, so readers of object bytes hold
 *	type->migrate_lock for reading)
 *
 * After @pages[type->pages] comes the used-slot bitmap, and for the unit
 * type only (whose slot has no room for it) the owners, u32 per slot,
 * meaningful for used slots; both protected by type->lock. Every other type
 * keeps an object's owner in the last ZBA_OWNER_SIZE bytes of its slot.
 */
struct zba_block {
	struct list_head list;
	u32 id;
	u16 nr_used;
	u16 nr_pages;
	u8 level;
	bool isolated;
	u8 type;
	struct page *pages[];
};

/**
 * struct zba_type - one slot size.
 * @lock: guards everything below marked so, and the type's block descriptors
 * @lists: blocks by fill level, [ZBA_FULL] full ones (protected by @lock)
 * @nr_level: blocks per fill level, isolated ones included (protected by @lock)
 * @nr_blocks: blocks of this type (protected by @lock)
 * @nr_used: objects stored (protected by @lock, read locklessly)
 * @nr_pages: pages present (protected by @lock, read locklessly)
 * @slot_size: bytes per slot
 * @slots: slots per block
 * @pages: pages per block
 * @index: the type's index in the pool's table
 * @obj_max: largest object: @slot_size, less ZBA_OWNER_SIZE if the owner is
 *	kept in the slot (every type but the unit type)
 * @meta_size: bytes of one block descriptor
 * @meta_alloc: bytes kmalloc() takes for it (@meta_size rounded up to its
 *	bucket), the figure counted in pool->meta_bytes
 * @pool: the pool the type belongs to, constant (page migration starts from a
 *	page and finds the type in page->private, the pool here)
 * @deferred: pool pages released while someone else held their page lock,
 *	still movable, linked through page->index, waiting for
 *	zba_deferred_work() (protected by @lock)
 * @migrate_lock: readers and writers of objects (zba_read_begin() to
 *	zba_read_end(), zba_write(), zba_move()'s copy) hold it for reading;
 *	page migration holds it for writing while it copies a page of this type
 *	and replaces it in its block's page array. Own cache line: readers would
 *	otherwise bounce the line that allocation's @lock lives in.
 */
struct zba_type {
	spinlock_t lock;
	struct list_head lists[ZBA_NR_LISTS];
	unsigned long nr_level[ZBA_NR_LISTS];
	unsigned long nr_blocks;
	unsigned long nr_used;
	unsigned long nr_pages;
	unsigned int slot_size;
	unsigned int slots;
	unsigned int pages;
	unsigned int index;
	unsigned int obj_max;
	size_t meta_size;
	size_t meta_alloc;
	struct zba_pool *pool;
	struct page *deferred;
	rwlock_t migrate_lock ____cacheline_aligned_in_smp;
} ____cacheline_aligned_in_smp;

/**
 * struct zba_pool - a pool.
 * @name: for messages
 * @unit_size: largest object
 * @nr_types: entries in @types
 * @huge_size: see zba_huge_size()
 * @blocks: block id -> struct zba_block (its own lock)
 * @total_pages: pages held by all types
 * @meta_bytes: kmalloc() bytes held by block descriptors (each counted as
 *	its type's @meta_alloc)
 * @compact_lock: one compaction at a time (only try-locked)
 * @compact_next: type where the next compaction starts (protected by
 *	@compact_lock)
 * @move_pages: pages zba_move() allocated (for compaction's count)
 * @moved_pages: pages zba_move() released from isolated blocks (for
 *	compaction's count; not pages zba_free() released from them)
 * @pages_migrated: pages the kernel migrated (zba_page_migrate() succeeded)
 * @pages_deferred: pages now on the types' @deferred lists
 * @free_work: frees the types' @deferred pages (zba_deferred_work())
 * @size_to_type: type index for an object that needs 8*k-7..8*k bytes with
 *	its owner (size + ZBA_OWNER_SIZE), k = 1..unit/8+1
 * @types: the type table, by increasing slot size
 */
struct zba_pool {
	char name[32];
	unsigned int unit_size;
	unsigned int nr_types;
	unsigned int huge_size;
	struct xarray blocks;
	atomic_long_t total_pages;
	atomic_long_t meta_bytes;
	struct mutex compact_lock;
	unsigned int compact_next;
	atomic_long_t move_pages;
	atomic_long_t moved_pages;
	atomic_long_t pages_migrated;
	atomic_long_t pages_deferred;
	struct work_struct free_work;
	u8 *size_to_type;
	struct zba_type types[];
};

/* ---- type table ---------------------------------------------------------- */

/**
 * struct zba_desc - one row of a type table.
 * @slot_size: bytes per slot (a multiple of ZBA_ALIGN)
 * @slots: slots per block
 * @pages: pages per block
 */
struct zba_desc {
	unsigned int slot_size;
	unsigned int slots;
	unsigned int pages;
};

/* One (pages, slots) way of making a slot size, kept if it wastes less. */
struct zba_opt {
	u16 slots;
	u8 pages;
};

struct zba_dp {
	unsigned int k_max;		/* unit / 8 */
	u64 *cnt;			/* prefix sums of model object counts */
	u64 *bytes;			/* prefix sums of model bytes */
	u64 *cost;			/* best cost of a table ending at 8k */
	u16 *prev;			/* previous slot size / 8 in that table */
	u8 *choice;			/* index into opts[k] */
	u8 *nr_opts;
	struct zba_opt (*opts)[ZBA_MAX_OPTS];
};

static unsigned int zba_max_block_pages(unsigned int unit)
{
	return max_t(unsigned int, 1,
		     max_t(unsigned int, ZBA_BLOCK_BYTES, 4 * unit) / PAGE_SIZE);
}

/*
 * Bytes of the descriptor of a block of @pages pages and @slots slots, with
 * the owners in it if @owners (the unit type).
 */
static size_t zba_meta_size(unsigned int pages, unsigned int slots,
			    bool owners)
{
	return sizeof(struct zba_block) + pages * sizeof(struct page *) +
	       BITS_TO_LONGS(slots) * sizeof(long) +
	       (owners ? slots * sizeof(u32) : 0);
}

/*
 * What a block of @p pages and @n slots of 8 * @k bytes costs besides its
 * slots: the unused bytes at its end and its descriptor as kmalloc() holds
 * it. Only the unit type (@k == k_max) keeps its owners in the descriptor.
 */
static u64 zba_block_waste(const struct zba_dp *dp, unsigned int k,
			   unsigned int p, unsigned int n)
{
	return (u64)p * PAGE_SIZE - (u64)n * 8 * k +
	       kmalloc_size_roundup(zba_meta_size(p, n, k == dp->k_max));
}

/* Record (@p, @n) for slot size 8 * @k if it loses less per page. */
static void zba_add_opt(struct zba_dp *dp, unsigned int k, unsigned int p,
			unsigned int n)
{
	unsigned int nr = dp->nr_opts[k];
	struct zba_opt *o = dp->opts[k];
	u64 waste = zba_block_waste(dp, k, p, n);
	struct zba_opt *last = nr ? &o[nr - 1] : NULL;

	if (last) {
		u64 lwaste = zba_block_waste(dp, k, last->pages, last->slots);

		/* Keep it only if waste/p improves: waste * lp < lwaste * p. */
		if (waste * last->pages >= lwaste * p)
			return;
		if (last->pages == p || nr == ZBA_MAX_OPTS) {
			last->pages = p;
			last->slots = n;
			return;
		}
	}
	o[nr].pages = p;
	o[nr].slots = n;
	dp->nr_opts[k] = nr + 1;
}

static void zba_gen_candidates(struct zba_dp *dp, unsigned int unit)
{
	unsigned int pmax = zba_max_block_pages(unit);
	unsigned int p, n;

	for (p = 1; p <= pmax; p++) {
		u64 bytes = (u64)p * PAGE_SIZE;

		for (n = 1; n <= ZBA_MAX_SLOTS; n++) {
			u64 s = div_u64(bytes, n) & ~(u64)(ZBA_ALIGN - 1);

			if (s > unit)
				continue;
			if (s < ZBA_MIN_SLOT)
				break;
			zba_add_opt(dp, s / 8, p, n);
		}
		/* The unit itself, even if no p * PAGE_SIZE / n hits it. */
		if (bytes >= unit && bytes / unit <= ZBA_MAX_SLOTS)
			zba_add_opt(dp, unit / 8, p, bytes / unit);
	}
}

/*
 * Model object counts per 8-byte size step k (objects of 8k-7..8k bytes):
 * bytes per unit of log(size) are 4 everywhere plus 4*L from unit/16 up (L =
 * log2(unit/32)), i.e. 20% / 80% of the bytes; objects per step are that
 * density / k^2.
 */
static void zba_model(struct zba_dp *dp, unsigned int unit)
{
	unsigned int l = ilog2(unit / ZBA_MIN_SLOT);
	unsigned int k;

	dp->cnt[0] = 0;
	dp->bytes[0] = 0;
	for (k = 1; k <= dp->k_max; k++) {
		u64 d = 4 + (8 * k >= unit / 16 ? 4 * l : 0);
		u64 c = div_u64(d << ZBA_MODEL_SHIFT, k * k);

		dp->cnt[k] = dp->cnt[k - 1] + c;
		dp->bytes[k] = dp->bytes[k - 1] + c * (8 * k - 4);
	}
}

/*
 * Expected waste (model units) of types at 8*k0 (or none) and 8*k: internal
 * waste, each object's share of its block's end and descriptor, and per type
 * (@scale: model units per byte) half a page and half a descriptor, its
 * partly used block at rest.
 */
static u64 zba_step_cost(struct zba_dp *dp, unsigned int k0, unsigned int k,
			 const struct zba_opt *o, u64 scale)
{
	u64 s = 8 * k;
	u64 n = dp->cnt[k] - dp->cnt[k0];
	u64 internal = s * n - (dp->bytes[k] - dp->bytes[k0]);
	u64 waste = zba_block_waste(dp, k, o->pages, o->slots);
	u64 meta = kmalloc_size_roundup(zba_meta_size(o->pages, o->slots,
						      k == dp->k_max));

	return internal + div_u64(n * waste, o->slots) +
	       (PAGE_SIZE + meta) / 2 * scale;
}

static void zba_dp_run(struct zba_dp *dp)
{
	/* Model units per byte of ZBA_MODEL_BYTES. */
	u64 scale = div_u64(dp->bytes[dp->k_max], ZBA_MODEL_BYTES);
	unsigned int k, i;
	int k0, lo;

	dp->cost[0] = 0;
	for (k = 1; k <= dp->k_max; k++) {
		dp->cost[k] = U64_MAX;
		if (!dp->nr_opts[k])
			continue;
		/*
		 * The next smaller slot is at least half this one; only slots
		 * of up to 2 * ZBA_MIN_SLOT may be the smallest type.
		 */
		lo = 8 * k <= 2 * ZBA_MIN_SLOT ? 0 : DIV_ROUND_UP(k, 2);
		for (k0 = k - 1; k0 >= lo; k0--) {
			if (dp->cost[k0] == U64_MAX)
				continue;
			for (i = 0; i < dp->nr_opts[k]; i++) {
				u64 c = dp->cost[k0] +
					zba_step_cost(dp, k0, k, &dp->opts[k][i],
						      scale);

				if (c < dp->cost[k]) {
					dp->cost[k] = c;
					dp->prev[k] = k0;
					dp->choice[k] = i;
				}
			}
		}
	}
}

/**
 * zba_build_table() - derive the type table for @unit and PAGE_SIZE.
 * @unit: unit size (the largest object); a multiple of 1024 up to 65536
 * @out: room for ZBA_MAX_TYPES rows, filled by increasing slot size
 *
 * Context: process context, may sleep.
 * Return: number of rows, -ENOMEM, or -E2BIG if the table would not fit.
 */
static int zba_build_table(unsigned int unit, struct zba_desc *out)
{
	struct zba_dp dp = { .k_max = unit / 8 };
	unsigned int n = dp.k_max + 1, k, nr = 0;
	int ret = -ENOMEM;
	void *mem;
	size_t sz;

	sz = n * (3 * sizeof(u64) + sizeof(u16) + 2 * sizeof(u8) +
		  sizeof(*dp.opts));
	mem = kvzalloc(sz, GFP_KERNEL);
	if (!mem)
		return -ENOMEM;
	dp.cnt = mem;
	dp.bytes = dp.cnt + n;
	dp.cost = dp.bytes + n;
	dp.opts = (void *)(dp.cost + n);
	dp.prev = (void *)(dp.opts + n);
	dp.choice = (void *)(dp.prev + n);
	dp.nr_opts = dp.choice + n;

	zba_gen_candidates(&dp, unit);
	if (!dp.nr_opts[dp.k_max])
		goto out;	/* cannot happen: p = pmax holds a unit */
	zba_model(&dp, unit);
	zba_dp_run(&dp);
	if (dp.cost[dp.k_max] == U64_MAX)
		goto out;
	ret = -E2BIG;
	for (k = dp.k_max; k; k = dp.prev[k]) {
		if (nr == ZBA_MAX_TYPES)
			goto out;
		out[nr].slot_size = 8 * k;
		out[nr].slots = dp.opts[k][dp.choice[k]].slots;
		out[nr].pages = dp.opts[k][dp.choice[k]].pages;
		nr++;
	}
	/* Reverse into increasing slot size. */
	for (k = 0; k < nr / 2; k++)
		swap(out[k], out[nr - 1 - k]);
	ret = nr;
out:
	kvfree(mem);
	return ret;
}

/* Page migration: the section "page migration" near the end. */
struct zba_stash;
static void zba_page_adopt(struct zba_type *t, struct zba_block *b,
			   unsigned int pg);
static bool zba_pages_disown(struct zba_pool *pool, struct zba_type *t,
			     struct zba_stash *st);
static void zba_kick_deferred(struct zba_pool *pool, bool deferred);
static void zba_read_lock(struct zba_type *t) __acquires(&t->migrate_lock);
static void zba_read_unlock(struct zba_type *t) __releases(&t->migrate_lock);

/* ---- blocks and slots ---------------------------------------------------- */

static unsigned long *zba_used(struct zba_type *t, struct zba_block *b)
{
	return (unsigned long *)&b->pages[t->pages];
}

/* Is the owner kept in the slot (every type but the unit type)? */
static bool zba_owner_in_slot(struct zba_type *t)
{
	return t->obj_max < t->slot_size;
}

/* The unit type's owners, after the bitmap. */
static u32 *zba_owners(struct zba_type *t, struct zba_block *b)
{
	return (u32 *)(zba_used(t, b) + BITS_TO_LONGS(t->slots));
}

/*
 * Where slot @slot keeps its owner: the last ZBA_OWNER_SIZE bytes of the
 * slot, which never cross a page (slots are multiples of 8 bytes).
 */
static void *zba_owner_map(struct zba_type *t, struct zba_block *b,
			   unsigned int slot)
{
	size_t off = (size_t)slot * t->slot_size + t->obj_max;

	return kmap_local_page(b->pages[off >> PAGE_SHIFT]) +
	       offset_in_page(off);
}

/* The owner of used slot @slot. Caller holds t->lock. */
static u32 zba_get_owner(struct zba_type *t, struct zba_block *b,
			 unsigned int slot)
{
	void *p;
	u32 owner;

	if (!zba_owner_in_slot(t))
		return zba_owners(t, b)[slot];
	p = zba_owner_map(t, b, slot);
	memcpy(&owner, p, sizeof(owner));
	kunmap_local(p);
	return owner;
}

/* Record @owner for slot @slot, whose pages are present. Caller holds t->lock. */
static void zba_set_owner(struct zba_type *t, struct zba_block *b,
			  unsigned int slot, u32 owner)
{
	void *p;

	if (!zba_owner_in_slot(t)) {
		zba_owners(t, b)[slot] = owner;
		return;
	}
	p = zba_owner_map(t, b, slot);
	memcpy(p, &owner, sizeof(owner));
	kunmap_local(p);
}

static unsigned long zba_mkhandle(struct zba_type *t, struct zba_block *b,
				  unsigned int slot)
{
	return ((unsigned long)b->id << ZBA_ID_SHIFT) |
	       (t->index << ZBA_SLOT_BITS) | slot;
}

static struct zba_type *zba_htype(struct zba_pool *pool, unsigned long handle)
{
	unsigned int i = (handle >> ZBA_SLOT_BITS) & ZBA_TYPE_MASK;

	if (WARN_ON_ONCE(i >= pool->nr_types))
		return NULL;
	return &pool->types[i];
}

static unsigned int zba_hslot(unsigned long handle)
{
	return handle & ZBA_SLOT_MASK;
}

static struct zba_block *zba_hblock(struct zba_pool *pool, unsigned long handle)
{
	return xa_load(&pool->blocks, handle >> ZBA_ID_SHIFT);
}

/* First and last page index that slot @slot of @t touches. */
static void zba_slot_pages(struct zba_type *t, unsigned int slot,
			   unsigned int *first, unsigned int *last)
{
	size_t off = (size_t)slot * t->slot_size;

	*first = off >> PAGE_SHIFT;
	*last = (off + t->slot_size - 1) >> PAGE_SHIFT;
}

/* Does any used slot of @b touch page @pg? */
static bool zba_page_in_use(struct zba_type *t, struct zba_block *b,
			    unsigned int pg)
{
	unsigned int lo = ((size_t)pg << PAGE_SHIFT) / t->slot_size;
	unsigned int hi = (((size_t)(pg + 1) << PAGE_SHIFT) - 1) / t->slot_size;

	hi = min(hi, t->slots - 1);
	return find_next_bit(zba_used(t, b), hi + 1, lo) <= hi;
}

static unsigned int zba_level(struct zba_type *t, unsigned int used)
{
	return used == t->slots ? ZBA_FULL : used * ZBA_LEVELS / t->slots;
}

/* Move @b to the list for its fill level. Caller holds t->lock. */
static void zba_relevel(struct zba_type *t, struct zba_block *b)
{
	unsigned int level = zba_level(t, b->nr_used);

	if (level != b->level) {
		t->nr_level[b->level]--;
		t->nr_level[level]++;
		b->level = level;
		if (!b->isolated)
			list_move(&b->list, &t->lists[level]);
	}
}

/* The fullest block with a free slot, or NULL. Caller holds t->lock. */
static struct zba_block *zba_fullest(struct zba_type *t)
{
	int level;

	for (level = ZBA_LEVELS - 1; level >= 0; level--) {
		if (!list_empty(&t->lists[level]))
			return list_first_entry(&t->lists[level],
						struct zba_block, list);
	}
	return NULL;
}

/* The sparsest block, or NULL. Caller holds t->lock. */
static struct zba_block *zba_sparsest(struct zba_type *t)
{
	int level;

	for (level = 0; level < ZBA_LEVELS; level++) {
		if (!list_empty(&t->lists[level]))
			return list_last_entry(&t->lists[level],
					       struct zba_block, list);
	}
	return NULL;
}

/* Pages @b lacks for slot @slot. Caller holds t->lock. */
static unsigned int zba_missing(struct zba_type *t, struct zba_block *b,
				unsigned int slot)
{
	unsigned int first, last, pg, nr = 0;

	zba_slot_pages(t, slot, &first, &last);
	for (pg = first; pg <= last; pg++)
		nr += !b->pages[pg];
	return nr;
}

/* A stash of pages allocated with no lock held, used under the lock. */
struct zba_stash {
	unsigned int nr;
	struct page *pages[ZBA_MAX_SPAN];
};

/*
 * Take slot @slot of @b for @owner, filling missing pages from @st (which
 * holds enough). Caller holds t->lock.
 */
static void zba_take(struct zba_pool *pool, struct zba_type *t,
		     struct zba_block *b, unsigned int slot, u32 owner,
		     struct zba_stash *st)
{
	unsigned int first, last, pg;

	zba_slot_pages(t, slot, &first, &last);
	for (pg = first; pg <= last; pg++) {
		if (b->pages[pg])
			continue;
		b->pages[pg] = st->pages[--st->nr];
		zba_page_adopt(t, b, pg);
		b->nr_pages++;
		WRITE_ONCE(t->nr_pages, t->nr_pages + 1);
		atomic_long_inc(&pool->total_pages);
	}
	__set_bit(slot, zba_used(t, b));
	zba_set_owner(t, b, slot, owner);
	b->nr_used++;
	WRITE_ONCE(t->nr_used, t->nr_used + 1);
	zba_relevel(t, b);
}

/*
 * Release slot @slot of @b: pages no used slot touches any more go to @st.
 * Caller holds t->lock.
 * Return: true if @b is now empty and not isolated: the caller must free it
 *	with zba_block_free() after zba_unlink() and unlocking.
 */
static bool zba_release(struct zba_pool *pool, struct zba_type *t,
			struct zba_block *b, unsigned int slot,
			struct zba_stash *st)
{
	unsigned int first, last, pg;

	__clear_bit(slot, zba_used(t, b));
	b->nr_used--;
	WRITE_ONCE(t->nr_used, t->nr_used - 1);
	zba_slot_pages(t, slot, &first, &last);
	for (pg = first; pg <= last; pg++) {
		if (!b->pages[pg] || zba_page_in_use(t, b, pg))
			continue;
		st->pages[st->nr++] = b->pages[pg];
		b->pages[pg] = NULL;
		b->nr_pages--;
		WRITE_ONCE(t->nr_pages, t->nr_pages - 1);
		atomic_long_dec(&pool->total_pages);
	}
	zba_relevel(t, b);
	return !b->nr_used && !b->isolated;
}

/* Take an empty block off its type's books. Caller holds t->lock. */
static void zba_unlink(struct zba_type *t, struct zba_block *b)
{
	list_del_init(&b->list);
	t->nr_level[b->level]--;
	t->nr_blocks--;
}

static void zba_stash_free(struct zba_stash *st)
{
	while (st->nr)
		__free_page(st->pages[--st->nr]);
}

static gfp_t zba_meta_gfp(gfp_t gfp)
{
	return gfp & ~(__GFP_HIGHMEM | __GFP_MOVABLE);
}

/* Fill @st up to @want pages. No lock held. Return: 0 or -ENOMEM. */
static int zba_stash_fill(struct zba_stash *st, unsigned int want, gfp_t gfp)
{
	gfp = zba_page_gfp(gfp);
	while (st->nr < want) {
		struct page *page = alloc_page(gfp);

		if (!page)
			return -ENOMEM;
		st->pages[st->nr++] = page;
	}
	return 0;
}

/* A new block without pages, with an id. No lock held. */
static struct zba_block *zba_block_new(struct zba_pool *pool,
				       struct zba_type *t, gfp_t gfp)
{
	struct zba_block *b;
	u32 id;

	b = kzalloc(t->meta_size, zba_meta_gfp(gfp));
	if (!b)
		return NULL;
	INIT_LIST_HEAD(&b->list);
	b->type = t->index;
	if (xa_alloc(&pool->blocks, &id, b, xa_limit_32b, zba_meta_gfp(gfp))) {
		kfree(b);
		return NULL;
	}
	b->id = id;
	atomic_long_add(t->meta_alloc, &pool->meta_bytes);
	return b;
}

/* Free an empty block's id and descriptor (its pages are gone). */
static void zba_block_free(struct zba_pool *pool, struct zba_block *b)
{
	atomic_long_sub(pool->types[b->type].meta_alloc, &pool->meta_bytes);
	xa_erase(&pool->blocks, b->id);
	kfree(b);
}

/* Put a new block on its type's books. Caller holds t->lock. */
static void zba_link(struct zba_type *t, struct zba_block *b)
{
	b->level = 0;
	t->nr_level[0]++;
	t->nr_blocks++;
	list_add(&b->list, &t->lists[0]);
}

/* ---- the interface --------------------------------------------------------- */

int zba_alloc(struct zba_pool *pool, size_t size, u32 owner, gfp_t gfp,
	      unsigned long *handle)
{
	struct zba_stash st = { .nr = 0 };
	struct zba_block *nb = NULL, *b, *cand;
	struct zba_type *t;
	unsigned int slot, need;
	int ret = 0;

	if (!size || size > pool->unit_size)
		return -EINVAL;
	t = &pool->types[pool->size_to_type[DIV_ROUND_UP(size + ZBA_OWNER_SIZE,
							 8)]];

	for (;;) {
		spin_lock(&t->lock);
		b = zba_fullest(t);
		/* A block made while the lock was dropped is used only if needed. */
		cand = b ? b : nb;
		if (cand) {
			slot = find_first_zero_bit(zba_used(t, cand), t->slots);
			need = zba_missing(t, cand, slot);
			if (need <= st.nr) {
				if (!b) {
					zba_link(t, nb);
					nb = NULL;
				}
				zba_take(pool, t, cand, slot, owner, &st);
				*handle = zba_mkhandle(t, cand, slot);
				spin_unlock(&t->lock);
				break;
			}
		}
		spin_unlock(&t->lock);

		if (!cand) {
			nb = zba_block_new(pool, t, gfp);
			if (!nb) {
				ret = -ENOMEM;
				break;
			}
		} else if (zba_stash_fill(&st, need, gfp)) {
			ret = -ENOMEM;
			break;
		}
	}
	zba_stash_free(&st);
	if (nb)
		zba_block_free(pool, nb);
	return ret;
}

void zba_free(struct zba_pool *pool, unsigned long handle)
{
	struct zba_stash st = { .nr = 0 };
	struct zba_type *t = zba_htype(pool, handle);
	unsigned int slot = zba_hslot(handle);
	struct zba_block *b;
	bool empty, deferred;

	if (!t)
		return;
	b = zba_hblock(pool, handle);
	if (WARN_ON_ONCE(!b || slot >= t->slots))
		return;
	spin_lock(&t->lock);
	if (WARN_ON_ONCE(!test_bit(slot, zba_used(t, b)))) {
		spin_unlock(&t->lock);
		return;
	}
	empty = zba_release(pool, t, b, slot, &st);
	if (empty)
		zba_unlink(t, b);
	deferred = zba_pages_disown(pool, t, &st);
	spin_unlock(&t->lock);
	zba_kick_deferred(pool, deferred);
	zba_stash_free(&st);
	if (empty)
		zba_block_free(pool, b);
}

/* Does slot @slot of @t lie in one page? Then reads map it in place. */
static bool zba_slot_in_page(struct zba_type *t, unsigned int slot)
{
	unsigned int first, last;

	zba_slot_pages(t, slot, &first, &last);
	return first == last;
}

void zba_write(struct zba_pool *pool, unsigned long handle,
	       const void *src, size_t len)
{
	struct zba_type *t = zba_htype(pool, handle);
	struct zba_block *b = zba_hblock(pool, handle);
	size_t off;

	if (!t || WARN_ON_ONCE(!b))
		return;
	if (WARN_ON_ONCE(len > t->obj_max))
		len = t->obj_max;
	off = (size_t)zba_hslot(handle) * t->slot_size;
	zba_read_lock(t);	/* no page of the slot migrates meanwhile */
	while (len) {
		size_t in = offset_in_page(off);
		size_t chunk = min_t(size_t, len, PAGE_SIZE - in);
		void *dst = kmap_local_page(b->pages[off >> PAGE_SHIFT]);

		memcpy(dst + in, src, chunk);
		kunmap_local(dst);
		src += chunk;
		off += chunk;
		len -= chunk;
	}
	zba_read_unlock(t);
}

const void *zba_read_begin(struct zba_pool *pool, unsigned long handle,
			   size_t len, void *local_copy)
	__acquires(zba_read)
{
	struct zba_type *t = zba_htype(pool, handle);
	struct zba_block *b = zba_hblock(pool, handle);
	unsigned int slot = zba_hslot(handle);
	size_t off, left;
	void *dst = local_copy;

	if (!t) {
		__acquire(zba_read);	/* zba_read_end() releases nothing */
		return local_copy;
	}
	/* Held until zba_read_end(): no page of the slot migrates meanwhile. */
	zba_read_lock(t);
	if (WARN_ON_ONCE(!b))
		return local_copy;
	if (WARN_ON_ONCE(len > t->obj_max))
		len = t->obj_max;
	off = (size_t)slot * t->slot_size;
	if (zba_slot_in_page(t, slot))
		return kmap_local_page(b->pages[off >> PAGE_SHIFT]) +
		       offset_in_page(off);
	for (left = len; left; ) {
		size_t in = offset_in_page(off);
		size_t chunk = min_t(size_t, left, PAGE_SIZE - in);
		void *src = kmap_local_page(b->pages[off >> PAGE_SHIFT]);

		memcpy(dst, src + in, chunk);
		kunmap_local(src);
		dst += chunk;
		off += chunk;
		left -= chunk;
	}
	return local_copy;
}

void zba_read_end(struct zba_pool *pool, unsigned long handle,
		  const void *addr)
	__releases(zba_read)
{
	struct zba_type *t = zba_htype(pool, handle);

	if (!t) {
		__release(zba_read);
		return;
	}
	if (zba_slot_in_page(t, zba_hslot(handle)))
		kunmap_local(addr);
	zba_read_unlock(t);
}

unsigned int zba_slot_size(struct zba_pool *pool, unsigned long handle)
{
	struct zba_type *t = zba_htype(pool, handle);

	return t ? t->obj_max : 0;
}

unsigned int zba_huge_size(struct zba_pool *pool)
{
	return pool->huge_size;
}

unsigned long zba_total_pages(struct zba_pool *pool)
{
	return atomic_long_read(&pool->total_pages);
}

unsigned long zba_meta_bytes(struct zba_pool *pool)
{
	return atomic_long_read(&pool->meta_bytes);
}

unsigned long zba_mem_pages(struct zba_pool *pool)
{
	return zba_total_pages(pool) +
	       DIV_ROUND_UP(zba_meta_bytes(pool), PAGE_SIZE);
}

unsigned int zba_nr_types(struct zba_pool *pool)
{
	return pool->nr_types;
}

/* Pages @used objects of @t need when packed as tightly as blocks allow. */
static unsigned long zba_min_pages(struct zba_type *t, unsigned long used)
{
	unsigned long rest = used % t->slots;

	return used / t->slots * t->pages +
	       DIV_ROUND_UP(rest * t->slot_size, PAGE_SIZE);
}

static unsigned long zba_type_freeable(struct zba_type *t, unsigned long used,
				       unsigned long pages)
{
	unsigned long min = zba_min_pages(t, used);

	return pages > min ? pages - min : 0;
}

void zba_type_stats(struct zba_pool *pool, unsigned int type,
		    struct zba_type_stats *st)
{
	struct zba_type *t;
	unsigned int i;

	memset(st, 0, sizeof(*st));
	if (WARN_ON_ONCE(type >= pool->nr_types))
		return;
	t = &pool->types[type];
	st->slot_size = t->slot_size;
	st->obj_max = t->obj_max;
	st->slots_per_block = t->slots;
	st->pages_per_block = t->pages;
	spin_lock(&t->lock);
	st->blocks = t->nr_blocks;
	st->objs_used = t->nr_used;
	st->pages = t->nr_pages;
	for (i = 0; i < ZBA_LEVELS; i++)
		st->occupancy[i * 4 / ZBA_LEVELS] += t->nr_level[i];
	st->occupancy[4] = t->nr_level[ZBA_FULL];
	spin_unlock(&t->lock);
	st->objs_allocated = st->blocks * t->slots;
	st->meta_bytes = st->blocks * t->meta_alloc;
	st->pages_freeable = zba_type_freeable(t, st->objs_used, st->pages);
}

unsigned long zba_pages_freeable(struct zba_pool *pool)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < pool->nr_types; i++) {
		struct zba_type *t = &pool->types[i];

		sum += zba_type_freeable(t, READ_ONCE(t->nr_used),
					 READ_ONCE(t->nr_pages));
	}
	return sum;
}

/* ---- moving objects -------------------------------------------------------- */

/* Copy one slot's bytes between blocks, page piece by page piece. */
static void zba_copy_slot(struct zba_type *t, struct zba_block *to,
			  unsigned int tslot, struct zba_block *from,
			  unsigned int fslot)
{
	size_t toff = (size_t)tslot * t->slot_size;
	size_t foff = (size_t)fslot * t->slot_size;
	size_t len = t->slot_size;

	while (len) {
		size_t tin = offset_in_page(toff), fin = offset_in_page(foff);
		size_t chunk = min3(len, PAGE_SIZE - tin, PAGE_SIZE - fin);
		void *dst = kmap_local_page(to->pages[toff >> PAGE_SHIFT]);
		void *src = kmap_local_page(from->pages[foff >> PAGE_SHIFT]);

		memcpy(dst + tin, src + fin, chunk);
		kunmap_local(src);
		kunmap_local(dst);
		toff += chunk;
		foff += chunk;
		len -= chunk;
	}
}

unsigned long zba_move(struct zba_pool *pool, unsigned long handle)
{
	/* Never sleep, never dip into reserves: compaction may run in reclaim. */
	const gfp_t gfp = GFP_NOWAIT | __GFP_NOWARN | __GFP_NOMEMALLOC;
	struct zba_stash st = { .nr = 0 };
	struct zba_type *t = zba_htype(pool, handle);
	unsigned int slot = zba_hslot(handle), dslot, need;
	struct zba_block *b, *d = NULL;
	unsigned long nh = 0;
	unsigned int filled = 0, kept, released;
	bool deferred;

	if (!t)
		return 0;
	b = zba_hblock(pool, handle);
	if (WARN_ON_ONCE(!b || slot >= t->slots))
		return 0;
	for (;;) {
		spin_lock(&t->lock);
		/* Only out of isolated blocks, which are on no list. */
		if (!b->isolated || !test_bit(slot, zba_used(t, b)))
			break;
		d = zba_fullest(t);
		if (d) {
			dslot = find_first_zero_bit(zba_used(t, d), t->slots);
		} else {
			/* The only non-full block: move down inside it. */
			dslot = find_first_zero_bit(zba_used(t, b), t->slots);
			if (dslot > slot)
				break;
			d = b;
		}
		need = zba_missing(t, d, dslot);
		if (need <= st.nr) {
			filled += st.nr;
			zba_take(pool, t, d, dslot, zba_get_owner(t, b, slot),
				 &st);
			filled -= st.nr;
			nh = zba_mkhandle(t, d, dslot);
			break;
		}
		spin_unlock(&t->lock);
		if (zba_stash_fill(&st, need, gfp)) {
			zba_stash_free(&st);
			return 0;
		}
	}
	spin_unlock(&t->lock);
	if (!nh) {
		zba_stash_free(&st);
		return 0;
	}
	atomic_long_add(filled, &pool->move_pages);
	/*
	 * The new slot is ours and the old one the caller's: no type->lock
	 * needed, only the migrate lock against page migration.
	 */
	zba_read_lock(t);
	zba_copy_slot(t, d, dslot, b, slot);
	zba_read_unlock(t);
	spin_lock(&t->lock);
	kept = st.nr;
	zba_release(pool, t, b, slot, &st);	/* isolated: never freed here */
	released = st.nr - kept;
	deferred = zba_pages_disown(pool, t, &st);
	spin_unlock(&t->lock);
	zba_kick_deferred(pool, deferred);
	/*
	 * Only pages this move released count for compaction: an owner's
	 * zba_free() of another object of @b releases pages too, and those
	 * are the owner's, not compaction's.
	 */
	atomic_long_add(released, &pool->moved_pages);
	zba_stash_free(&st);
	return nh;
}

/* Is compacting @t worth it: a non-full block and pages to gain? */
static bool zba_worth(struct zba_type *t)
{
	return t->nr_blocks > t->nr_level[ZBA_FULL] &&
	       zba_type_freeable(t, t->nr_used, t->nr_pages) > 0;
}

/* Has @ctl's object budget run out? */
static bool zba_budget_out(const struct zba_compact_ctl *ctl)
{
	return ctl->objects >= ctl->max_objects;
}

/*
 * Isolate the sparsest block of @t, offer its objects to @fn until the
 * object budget of @ctl runs out, and free the block if that emptied it.
 * Return: false if @t was not worth compacting; else *@emptied tells whether
 *	the block was freed.
 */
static bool zba_compact_block(struct zba_pool *pool, struct zba_type *t,
			      zba_move_fn fn, void *ctx,
			      struct zba_compact_ctl *ctl, bool *emptied)
{
	struct zba_block *b;
	unsigned int slot, limit;
	u32 owner;

	spin_lock(&t->lock);
	b = zba_worth(t) ? zba_sparsest(t) : NULL;
	if (!b) {
		spin_unlock(&t->lock);
		return false;
	}
	list_del_init(&b->list);
	b->isolated = true;
	spin_unlock(&t->lock);

	/*
	 * From the last object down: into other blocks, or, when @b is the
	 * type's only non-full block, into its own lowest free slots until
	 * none is left below the object.
	 */
	for (limit = t->slots; !zba_budget_out(ctl); limit = slot) {
		spin_lock(&t->lock);
		slot = find_last_bit(zba_used(t, b), limit);
		if (slot >= limit || (!zba_fullest(t) &&
		    find_first_zero_bit(zba_used(t, b), t->slots) > slot)) {
			spin_unlock(&t->lock);
			break;
		}
		owner = zba_get_owner(t, b, slot);
		spin_unlock(&t->lock);
		ctl->objects++;
		ctl->moved += fn(ctx, owner, zba_mkhandle(t, b, slot));
	}

	spin_lock(&t->lock);
	b->isolated = false;
	*emptied = !b->nr_used;
	if (*emptied)
		zba_unlink(t, b);
	else
		list_add_tail(&b->list, &t->lists[b->level]);
	spin_unlock(&t->lock);
	if (*emptied)
		zba_block_free(pool, b);	/* its pages went with its last slot */
	return true;
}

/*
 * Compact @t until nothing is gained, @budget pages were freed or @ctl's
 * object budget ran out.
 */
static unsigned long zba_compact_type(struct zba_pool *pool, struct zba_type *t,
				      zba_move_fn fn, void *ctx,
				      struct zba_compact_ctl *ctl,
				      unsigned long budget)
{
	long freed = 0, rel0, mov0;
	unsigned long rounds;
	unsigned int stuck = 0;
	bool emptied;

	/* Bound the work: each round empties a block or counts as stuck. */
	spin_lock(&t->lock);
	rounds = t->nr_blocks;
	spin_unlock(&t->lock);
	while ((freed <= 0 || (unsigned long)freed < budget) && stuck < 2 &&
	       !zba_budget_out(ctl) && rounds--) {
		rel0 = atomic_long_read(&pool->moved_pages);
		mov0 = atomic_long_read(&pool->move_pages);
		if (!zba_compact_block(pool, t, fn, ctx, ctl, &emptied))
			break;
		/* Pages moves gave back from the block less pages they took. */
		freed += atomic_long_read(&pool->moved_pages) - rel0 -
			 (atomic_long_read(&pool->move_pages) - mov0);
		stuck += !emptied;
		cond_resched();
	}
	return freed > 0 ? freed : 0;
}

unsigned long zba_compact(struct zba_pool *pool, zba_move_fn fn, void *ctx,
			  struct zba_compact_ctl *ctl)
{
	unsigned long freed = 0;
	unsigned int i, ti;
	struct zba_type *t;

	ctl->objects = 0;
	ctl->moved = 0;
	if (!mutex_trylock(&pool->compact_lock))
		return 0;
	for (i = 0; i < pool->nr_types && freed < ctl->max_pages &&
		    !zba_budget_out(ctl); i++) {
		ti = (pool->compact_next + i) % pool->nr_types;
		t = &pool->types[ti];
		/* A lockless look first: most types have nothing to give. */
		if (!zba_type_freeable(t, READ_ONCE(t->nr_used),
				       READ_ONCE(t->nr_pages)))
			continue;
		freed += zba_compact_type(pool, t, fn, ctx, ctl,
					  ctl->max_pages - freed);
		/* Start there next time if a budget ran out here. */
		if (freed >= ctl->max_pages || zba_budget_out(ctl))
			pool->compact_next = ti;
	}
	mutex_unlock(&pool->compact_lock);
	return freed;
}

/* ---- page migration -------------------------------------------------------- */

/*
 * How a pool page tells the migration callbacks what it is:
 *
 * page->private: the page's struct zba_type while the page is movable, set
 *	before __SetPageMovable() and cleared after __ClearPageMovable(), both
 *	under the page lock; 0 for a page that is not (or no longer) movable.
 * page->index (protected by type->lock): ZBA_PG_INFO(block id, page index)
 *	while the page belongs to a block, or the next page of type->deferred
 *	with ZBA_PG_GONE set once it was released but is still movable.
 *
 * The callbacks are called by the kernel with the page locked and a reference
 * held (mm/migrate.c). A page that was released from its block is no longer
 * looked at: its block may be gone.
 */
#define ZBA_PG_GONE		1UL
#define ZBA_PG_PGBITS		8
#define ZBA_PG_INFO(id, pg)	(((unsigned long)(id) << (ZBA_PG_PGBITS + 1)) | \
				 ((unsigned long)(pg) << 1))
#define ZBA_PG_ID(info)		((info) >> (ZBA_PG_PGBITS + 1))
#define ZBA_PG_PG(info)		(((info) >> 1) & ((1UL << ZBA_PG_PGBITS) - 1))

static_assert(ZBA_MAX_UNIT * 4 / PAGE_SIZE <= (1UL << ZBA_PG_PGBITS));
static_assert(ZBA_BLOCK_BYTES / PAGE_SIZE <= (1UL << ZBA_PG_PGBITS));

unsigned long zba_pages_migrated(struct zba_pool *pool)
{
	return atomic_long_read(&pool->pages_migrated);
}

#if ZBA_MIGRATION

static const struct movable_operations zba_mops;

static void zba_read_lock(struct zba_type *t)
	__acquires(&t->migrate_lock)
{
	read_lock(&t->migrate_lock);
}

static void zba_read_unlock(struct zba_type *t)
	__releases(&t->migrate_lock)
{
	read_unlock(&t->migrate_lock);
}

/*
 * Page @pg of @b was just put there: make it movable. Caller holds t->lock.
 * Nobody locks a fresh page that is neither movable nor on an LRU list; if
 * someone did, the page stays unmovable (page->private 0) for its life in
 * the pool, as zsmalloc's would (it warns).
 */
static void zba_page_adopt(struct zba_type *t, struct zba_block *b,
			   unsigned int pg)
{
	struct page *page = b->pages[pg];

	if (!trylock_page(page))
		return;
	set_page_private(page, (unsigned long)t);
	page->index = ZBA_PG_INFO(b->id, pg);
	__SetPageMovable(page, &zba_mops);
	unlock_page(page);
}

/* The page leaves the pool. Caller holds the page lock. */
static void zba_page_unmovable(struct page *page)
{
	__ClearPageMovable(page);
	set_page_private(page, 0);
	page->index = 0;
}

/*
 * Pages in @st were just released from blocks of @t (the caller holds
 * t->lock): make the movable ones unmovable before they go back to the page
 * allocator. That must happen under the page lock, which the kernel holds
 * around every callback, so that no callback runs on the page afterwards; it
 * is only try-locked here (atomic context, and compaction may hold the page
 * lock while it waits for t->lock in a callback). A page whose lock is busy
 * leaves @st for t->deferred, still movable, marked gone;
 * zba_deferred_work() locks it (sleeping) and frees it.
 * Return: true if a page was deferred (the caller calls zba_kick_deferred()
 *	after dropping t->lock).
 */
static bool zba_pages_disown(struct zba_pool *pool, struct zba_type *t,
			     struct zba_stash *st)
{
	unsigned int i, n = 0;
	bool deferred = false;

	for (i = 0; i < st->nr; i++) {
		struct page *page = st->pages[i];

		if (!page_private(page)) {
			st->pages[n++] = page;		/* never movable */
		} else if (trylock_page(page)) {
			zba_page_unmovable(page);
			unlock_page(page);
			st->pages[n++] = page;
		} else {
			page->index = (unsigned long)t->deferred | ZBA_PG_GONE;
			t->deferred = page;
			atomic_long_inc(&pool->pages_deferred);
			deferred = true;
		}
	}
	st->nr = n;
	return deferred;
}

static void zba_kick_deferred(struct zba_pool *pool, bool deferred)
{
	if (deferred)
		schedule_work(&pool->free_work);
}

/*
 * Free every deferred page: wait for its page lock, make it unmovable, give
 * it back. Context: process context, sleeps.
 */
static void zba_free_deferred(struct zba_pool *pool)
{
	struct page *page, *next;
	unsigned int i;

	for (i = 0; i < pool->nr_types &&
		    atomic_long_read(&pool->pages_deferred); i++) {
		struct zba_type *t = &pool->types[i];

		spin_lock(&t->lock);
		page = t->deferred;
		t->deferred = NULL;
		spin_unlock(&t->lock);
		for (; page; page = next) {
			next = (struct page *)(page->index & ~ZBA_PG_GONE);
			lock_page(page);
			zba_page_unmovable(page);
			unlock_page(page);
			__free_page(page);
			atomic_long_dec(&pool->pages_deferred);
		}
	}
}

static void zba_deferred_work(struct work_struct *work)
{
	zba_free_deferred(container_of(work, struct zba_pool, free_work));
}

/*
 * ->isolate_page(): the page may be isolated while it belongs to a block.
 * Isolation changes nothing of ours: the page stays in its block, readable
 * and writable, until ->migrate_page() replaces it.
 */
static bool zba_page_isolate(struct page *page, isolate_mode_t mode)
{
	struct zba_type *t = (struct zba_type *)page_private(page);
	bool ours;

	if (WARN_ON_ONCE(!t))
		return false;
	spin_lock(&t->lock);
	ours = !(page->index & ZBA_PG_GONE);
	spin_unlock(&t->lock);
	return ours;
}

/*
 * ->migrate_page(): copy @page into @newpage and put @newpage in its place in
 * the block's page array. Handles name (block, type, slot), not pages, so
 * nothing else changes. t->lock keeps the block and its page array stable;
 * the migrate lock, held for writing, waits for the readers and writers of
 * the type's objects to leave and keeps them out while the page is copied.
 */
static int zba_page_migrate(struct page *newpage, struct page *page,
			    enum migrate_mode mode)
{
	struct zba_type *t = (struct zba_type *)page_private(page);
	struct zba_block *b;
	unsigned long info;
	unsigned int pg;

	if (!zba_migrate_mode_ok(mode))
		return -EINVAL;
	if (WARN_ON_ONCE(!t))
		return -EAGAIN;
	spin_lock(&t->lock);
	info = page->index;
	if (info & ZBA_PG_GONE) {
		/* Released meanwhile: zba_deferred_work() frees it. */
		spin_unlock(&t->lock);
		return -EAGAIN;
	}
	b = xa_load(&t->pool->blocks, ZBA_PG_ID(info));
	pg = ZBA_PG_PG(info);
	if (WARN_ON_ONCE(!b || pg >= t->pages || b->pages[pg] != page)) {
		spin_unlock(&t->lock);
		return -EAGAIN;
	}
	write_lock(&t->migrate_lock);
	copy_highpage(newpage, page);
	b->pages[pg] = newpage;
	write_unlock(&t->migrate_lock);

	/* @newpage is locked by the kernel, as __SetPageMovable() wants. */
	get_page(newpage);
	set_page_private(newpage, (unsigned long)t);
	newpage->index = info;
	__SetPageMovable(newpage, &zba_mops);
	zba_page_unmovable(page);
	spin_unlock(&t->lock);
	atomic_long_inc(&t->pool->pages_migrated);
	put_page(page);		/* ours; the kernel holds its own */
	return MIGRATEPAGE_SUCCESS;
}

/* ->putback_page(): migration gave up; isolation took nothing to give back. */
static void zba_page_putback(struct page *page)
{
}

static const struct movable_operations zba_mops = {
	.isolate_page	= zba_page_isolate,
	.migrate_page	= zba_page_migrate,
	.putback_page	= zba_page_putback,
};

static void zba_migration_init(struct zba_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->nr_types; i++) {
		pool->types[i].pool = pool;
		rwlock_init(&pool->types[i].migrate_lock);
	}
	INIT_WORK(&pool->free_work, zba_deferred_work);
}

/*
 * Pool destruction: the kernel may still be isolating or migrating pool pages,
 * so every page leaves its block under t->lock the way zba_free() releases
 * pages; then the deferred ones are waited for. When this returns no pool
 * page is movable, so no callback can run on one any more (the module may
 * go). Context: process context, sleeps.
 */
static void zba_block_drop_pages(struct zba_pool *pool, struct zba_block *b)
{
	struct zba_type *t = &pool->types[b->type];
	unsigned int i;

	for (i = 0; i < t->pages; i++) {
		struct zba_stash st = { .nr = 0 };

		spin_lock(&t->lock);
		if (b->pages[i]) {
			st.pages[st.nr++] = b->pages[i];
			b->pages[i] = NULL;
			zba_pages_disown(pool, t, &st);
		}
		spin_unlock(&t->lock);
		zba_stash_free(&st);
	}
}

static void zba_migration_exit(struct zba_pool *pool)
{
	cancel_work_sync(&pool->free_work);
	zba_free_deferred(pool);
	WARN_ON_ONCE(atomic_long_read(&pool->pages_deferred));
}

#else /* !ZBA_MIGRATION */

static void zba_read_lock(struct zba_type *t)
	__acquires(&t->migrate_lock)
{
	__acquire(&t->migrate_lock);
}

static void zba_read_unlock(struct zba_type *t)
	__releases(&t->migrate_lock)
{
	__release(&t->migrate_lock);
}

static void zba_page_adopt(struct zba_type *t, struct zba_block *b,
			   unsigned int pg) { }
static bool zba_pages_disown(struct zba_pool *pool, struct zba_type *t,
			     struct zba_stash *st)
{
	return false;
}
static void zba_kick_deferred(struct zba_pool *pool, bool deferred) { }

static void zba_migration_init(struct zba_pool *pool)
{
	unsigned int i;

	for (i = 0; i < pool->nr_types; i++)
		pool->types[i].pool = pool;
}

static void zba_block_drop_pages(struct zba_pool *pool, struct zba_block *b)
{
	struct zba_type *t = &pool->types[b->type];
	unsigned int i;

	for (i = 0; i < t->pages; i++)
		if (b->pages[i])
			__free_page(b->pages[i]);
}

static void zba_migration_exit(struct zba_pool *pool) { }

#endif /* ZBA_MIGRATION */

/* ---- pools ----------------------------------------------------------------- */

static void zba_type_init(struct zba_type *t, unsigned int index,
			  const struct zba_desc *d, bool unit)
{
	unsigned int i;

	spin_lock_init(&t->lock);
	for (i = 0; i < ZBA_NR_LISTS; i++)
		INIT_LIST_HEAD(&t->lists[i]);
	t->slot_size = d->slot_size;
	t->slots = d->slots;
	t->pages = d->pages;
	t->index = index;
	t->obj_max = unit ? d->slot_size : d->slot_size - ZBA_OWNER_SIZE;
	t->meta_size = zba_meta_size(d->pages, d->slots, unit);
	t->meta_alloc = kmalloc_size_roundup(t->meta_size);
}

struct zba_pool *zba_pool_create(const char *name, unsigned int unit_size)
{
	struct zba_pool *pool = NULL;
	struct zba_desc *desc;
	unsigned int i, k;
	int nr;

	if (unit_size < ZBA_MIN_UNIT || unit_size > ZBA_MAX_UNIT ||
	    unit_size % ZBA_MIN_UNIT)
		return NULL;
	desc = kvcalloc(ZBA_MAX_TYPES, sizeof(*desc), GFP_KERNEL);
	if (!desc)
		return NULL;
	nr = zba_build_table(unit_size, desc);
	if (nr <= 0) {
		if (nr != -ENOMEM)
			pr_err("%s: no type table for unit %u (%d)\n", name,
			       unit_size, nr);
		goto out;
	}
	pool = kvzalloc(struct_size(pool, types, nr), GFP_KERNEL);
	if (!pool)
		goto out;
	pool->size_to_type = kvmalloc(unit_size / 8 + 2, GFP_KERNEL);
	if (!pool->size_to_type) {
		kvfree(pool);
		pool = NULL;
		goto out;
	}
	strscpy(pool->name, name, sizeof(pool->name));
	pool->unit_size = unit_size;
	pool->nr_types = nr;
	xa_init_flags(&pool->blocks, XA_FLAGS_ALLOC1);
	atomic_long_set(&pool->total_pages, 0);
	atomic_long_set(&pool->meta_bytes, 0);
	atomic_long_set(&pool->move_pages, 0);
	atomic_long_set(&pool->moved_pages, 0);
	mutex_init(&pool->compact_lock);
	for (i = 0, k = 0; i < (unsigned int)nr; i++) {
		zba_type_init(&pool->types[i], i, &desc[i],
			      i == (unsigned int)nr - 1);
		for (; k <= desc[i].slot_size / 8; k++)
			pool->size_to_type[k] = i;
	}
	/* A unit-sized object (no owner in its slot) rounds up to k_max + 1. */
	pool->size_to_type[k] = nr - 1;
	pool->huge_size = nr > 1 ? pool->types[nr - 2].obj_max + 1 : unit_size;
	atomic_long_set(&pool->pages_migrated, 0);
	atomic_long_set(&pool->pages_deferred, 0);
	zba_migration_init(pool);
out:
	kvfree(desc);
	return pool;
}

void zba_pool_destroy(struct zba_pool *pool)
{
	struct zba_block *b;
	unsigned long id;

	if (!pool)
		return;
	xa_for_each(&pool->blocks, id, b) {
		zba_block_drop_pages(pool, b);
		xa_erase(&pool->blocks, id);
		atomic_long_sub(pool->types[b->type].meta_alloc, &pool->meta_bytes);
		kfree(b);
	}
	zba_migration_exit(pool);
	xa_destroy(&pool->blocks);
	mutex_destroy(&pool->compact_lock);
	kvfree(pool->size_to_type);
	kvfree(pool);
}
