/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zblk_alloc.h - the slot-per-block allocator's interface (alloc/).
 *
 * This is the only header through which other folders reach the allocator.
 * alloc/zblk_alloc.c explains the design (type table derivation, handle
 * encoding, locking, why no high-order pages are needed). The same .c file is
 * compiled unchanged in userspace against tests/alloc/shim/ for unit tests and
 * for tools/zblk-density.
 *
 * Handles: an opaque non-zero unsigned long encoding block, type and slot.
 * 0 is never a valid handle. A handle stays valid until zba_free() or until
 * zba_move() returns a new one for it.
 *
 * Owners: every allocated slot records a u32 owner cookie (zblk uses the
 * table index of the unit that holds the object). Compaction hands the owner
 * back to the caller so that the caller can take the owner's lock before the
 * object is moved. The owner is kept in the last 4 bytes of the slot (in the
 * block's descriptor for unit-sized slots), so an object may use only
 * zba_slot_size() bytes of it.
 *
 * Memory: zba_total_pages() counts the pool's pages, zba_meta_bytes() the
 * block descriptors (kmalloc'd), zba_mem_pages() both, in pages: what the
 * pool costs the system, for mm_stat and mem_limit.
 */
#ifndef ZBLK_ALLOC_H
#define ZBLK_ALLOC_H

#include <linux/types.h>
#include <linux/gfp.h>

struct zba_pool;

/* Largest number of types (slot sizes) in one pool's table. */
#define ZBA_MAX_TYPES		256

/**
 * struct zba_type_stats - one type's figures, for debugfs "classes".
 * @slot_size:		bytes per slot
 * @obj_max:		largest object the slot holds (@slot_size less the
 *			owner kept in it; @slot_size for the unit type)
 * @slots_per_block:	slots in one block
 * @pages_per_block:	order-0 pages in one block
 * @blocks:		blocks of this type now
 * @objs_allocated:	slots in those blocks (blocks * slots_per_block)
 * @objs_used:		slots holding an object
 * @pages:		pages held by this type now; a block's pages exist only
 *			while a used slot touches them, so this is at most
 *			blocks * pages_per_block
 * @pages_freeable:	pages compaction could free if it packed every object
 *			of this type into as few blocks (and pages) as possible
 * @occupancy:		blocks by fullness: [0] <25%, [1] 25-50%, [2] 50-75%,
 *			[3] 75-<100%, [4] full
 * @meta_bytes:		bytes of this type's block descriptors, each counted
 *			as the kmalloc() bucket that holds it
 */
struct zba_type_stats {
	unsigned int slot_size;
	unsigned int obj_max;
	unsigned int slots_per_block;
	unsigned int pages_per_block;
	unsigned long blocks;
	unsigned long objs_allocated;
	unsigned long objs_used;
	unsigned long pages;
	unsigned long pages_freeable;
	unsigned long occupancy[5];
	unsigned long meta_bytes;
};

/**
 * zba_pool_create() - create a pool for objects of 1..@unit_size bytes.
 * @name: name for messages (e.g. "zblk0")
 * @unit_size: largest object size; 4096 or 16384 (any multiple of 1024 up to
 *	65536 is accepted)
 *
 * Derives the type table for @unit_size and PAGE_SIZE.
 * Context: process context, may sleep.
 * Return: the pool, or NULL on bad @unit_size or allocation failure.
 */
struct zba_pool *zba_pool_create(const char *name, unsigned int unit_size);

/**
 * zba_pool_destroy() - free a pool and every block it still holds.
 * @pool: the pool
 *
 * Context: process context; no other call on @pool may run concurrently.
 */
void zba_pool_destroy(struct zba_pool *pool);

/**
 * zba_alloc() - allocate a slot for an object of @size bytes.
 * @pool: the pool
 * @size: 1..unit_size
 * @owner: cookie recorded in the slot, returned by compaction
 * @gfp: flags for page and metadata allocation (GFP_NOIO on the I/O path);
 *	the call sleeps only if @gfp allows it
 * @handle: on success, the new handle
 *
 * Context: process context or atomic context (spinlocks held, preemption
 *	off) if @gfp fits it; not from hard or soft interrupts. Takes the
 *	type's spinlock; page, descriptor and id allocations happen with no
 *	allocator lock held.
 * Return: 0, -EINVAL for size 0 or above unit_size, -ENOMEM when pages or
 *	metadata could not be allocated.
 */
int zba_alloc(struct zba_pool *pool, size_t size, u32 owner, gfp_t gfp,
	      unsigned long *handle);

/**
 * zba_free() - free a slot.
 * @pool: the pool
 * @handle: the slot's handle (from zba_alloc() or zba_move())
 *
 * Pages no used slot touches any more, and blocks left empty, go back to the
 * page allocator at once (a page the kernel is migrating just then goes back
 * shortly after, from a work item).
 * Context: process or atomic context (e.g. swap_slot_free_notify), not
 *	interrupts; never sleeps.
 */
void zba_free(struct zba_pool *pool, unsigned long handle);

/**
 * zba_write() - copy @len bytes from @src into the object at @handle.
 * @pool: the pool
 * @handle: the object
 * @src: the bytes
 * @len: how many; no more than the size the slot was allocated for
 *
 * Context: process or atomic context, not interrupts; never sleeps. The
 *	caller serialises access to the handle. Holds the type's migrate lock
 *	for reading while it copies (page migration waits).
 */
void zba_write(struct zba_pool *pool, unsigned long handle,
	       const void *src, size_t len);

/**
 * zba_read_begin() - get a pointer to the first @len bytes of an object.
 * @pool: the pool
 * @handle: the object
 * @len: bytes the caller reads (no more than the object's size)
 * @local_copy: a buffer of at least @len bytes, used when the object's slot
 *	spans two or more pages of its block (it is then copied there once)
 *
 * Must be paired with zba_read_end(). Between the two the caller may not
 * sleep (the page may be mapped with kmap_local_page()) nor call another
 * zba_*() function of the pool: the type's migrate lock is held for reading,
 * so that page migration cannot move the page meanwhile.
 * Context: process or atomic context, not interrupts. The caller holds the
 *	owner's lock so the handle is stable.
 * Return: pointer to the object's bytes (into the block or @local_copy).
 */
const void *zba_read_begin(struct zba_pool *pool, unsigned long handle,
			   size_t len, void *local_copy) __acquires(zba_read);
void zba_read_end(struct zba_pool *pool, unsigned long handle,
		  const void *addr) __releases(zba_read);

/**
 * zba_slot_size() - bytes the object at @handle may use.
 * @pool: the pool
 * @handle: the object
 *
 * Context: any; the caller keeps @handle valid.
 * Return: the size of its slot less the owner kept in it.
 */
unsigned int zba_slot_size(struct zba_pool *pool, unsigned long handle);

/**
 * zba_huge_size() - the smallest object size not worth compressing.
 * @pool: the pool
 *
 * Callers store objects of this size or larger uncompressed.
 * Context: any.
 * Return: the size from which storing the unit raw (unit_size bytes) costs
 *	no more than storing it compressed.
 */
unsigned int zba_huge_size(struct zba_pool *pool);

/**
 * zba_total_pages() - pages the pool holds now for objects.
 * @pool: the pool
 *
 * Context: any; lockless read.
 * Return: those pages, its metadata not counted.
 */
unsigned long zba_total_pages(struct zba_pool *pool);

/**
 * zba_meta_bytes() - bytes of block descriptors the pool holds now.
 * @pool: the pool
 *
 * Context: any; lockless read.
 * Return: those bytes, each descriptor counted as the kmalloc() bucket it
 *	takes (block ids' xarray nodes and the pool's fixed tables are not
 *	counted).
 */
unsigned long zba_meta_bytes(struct zba_pool *pool);

/**
 * zba_mem_pages() - the pool's memory, in pages.
 * @pool: the pool
 *
 * Context: any; lockless read.
 * Return: zba_total_pages() plus zba_meta_bytes() rounded up to pages: what
 *	mm_stat's mem_used_total, mem_used_max and mem_limit count.
 */
unsigned long zba_mem_pages(struct zba_pool *pool);

/**
 * zba_pages_migrated() - how many pool pages the kernel has migrated.
 * @pool: the pool
 *
 * Pool pages are movable on kernels built with CONFIG_COMPACTION.
 * Context: any; lockless read.
 * Return: pages moved to other physical pages (e.g. by compaction) since
 *	the pool was created.
 */
unsigned long zba_pages_migrated(struct zba_pool *pool);

/**
 * zba_nr_types() - number of types in the pool's table.
 * @pool: the pool
 *
 * Context: any.
 * Return: that number (fixed for the pool's life).
 */
unsigned int zba_nr_types(struct zba_pool *pool);

/**
 * zba_type_stats() - fill @st for type @type.
 * @pool: the pool
 * @type: 0..zba_nr_types()-1
 * @st: filled in
 *
 * Context: process context; takes the type's lock briefly.
 */
void zba_type_stats(struct zba_pool *pool, unsigned int type,
		    struct zba_type_stats *st);

/**
 * typedef zba_move_fn - caller's callback, used by zba_compact().
 * @ctx: the caller's context given to zba_compact()
 * @owner: owner cookie recorded with the object
 * @handle: the object's current handle
 *
 * Called with no allocator lock held. The callback must try-lock the owner
 * (never block on it: compaction can run from reclaim), check that the owner
 * still refers to @handle, call zba_move(), store the returned handle in the
 * owner, and unlock.
 * Return: true if the object was moved, false if it was skipped.
 */
typedef bool (*zba_move_fn)(void *ctx, u32 owner, unsigned long handle);

/**
 * zba_move() - move one object out of a block that compaction isolated.
 * @pool: the pool
 * @handle: the object (in a block zba_compact() isolated)
 *
 * Copies the object into a slot of the same type in the fullest other block
 * and frees the old slot. Never allocates new blocks; may add a page to the
 * receiving block with GFP_NOWAIT (no reclaim, no reserves).
 * Context: process or atomic context; never sleeps. The caller holds the
 *	owner's lock. Only objects of a block isolated by zba_compact() move.
 * Return: the new handle, or 0 if no other block of the type has room (the
 *	object stays where it is and @handle remains valid).
 */
unsigned long zba_move(struct zba_pool *pool, unsigned long handle);

/**
 * struct zba_compact_ctl - bounds and results of one zba_compact() call.
 * @max_pages:		in: stop once this many pages were freed (ULONG_MAX:
 *			no bound)
 * @max_objects:	in: the work bound: offer at most this many objects to
 *			the callback (ULONG_MAX: no bound). Besides those
 *			calls and their copies, a call reads each type's
 *			counters once and, per type with pages to gain, takes
 *			its lock a few times and isolates at most two blocks
 *			without offering an object.
 * @objects:		out: objects offered to the callback
 * @moved:		out: of those, objects the callback moved
 */
struct zba_compact_ctl {
	unsigned long max_pages;
	unsigned long max_objects;
	unsigned long objects;
	unsigned long moved;
};

/**
 * zba_compact() - move objects out of sparse blocks and free emptied blocks.
 * @pool: the pool
 * @fn: callback that locks the owner and calls zba_move()
 * @ctx: passed to @fn
 * @ctl: bounds (in) and work done (out)
 *
 * Stops when either bound of @ctl is reached or nothing more is gained. A
 * call cut short by @ctl->max_objects leaves the block it was emptying
 * partly drained (pages its moves emptied are freed and counted); the next
 * call starts with the same type. Only one compaction runs per pool at a
 * time; a concurrent call returns 0 with @ctl->objects 0.
 * Context: process context; may call cond_resched() between blocks.
 * Return: pages freed, net of pages the moves added to other blocks.
 */
unsigned long zba_compact(struct zba_pool *pool, zba_move_fn fn, void *ctx,
			  struct zba_compact_ctl *ctl);

/**
 * zba_pages_freeable() - pages compaction could free now.
 * @pool: the pool
 *
 * Context: any; approximate, lockless.
 * Return: the sum of pages_freeable over all types.
 */
unsigned long zba_pages_freeable(struct zba_pool *pool);

#endif /* ZBLK_ALLOC_H */
