// SPDX-License-Identifier: GPL-2.0
/*
 * compact.c - give memory back after scattered frees.
 *
 * The allocator isolates sparse blocks and asks us, object by object, to
 * move them (zba_compact() -> zblk_move()). We own the handle-to-unit map,
 * so the move happens under the unit's entry lock: readers hold that lock
 * from zba_read_begin() to zba_read_end(), so nobody can read through a
 * handle while it changes.
 *
 * Compaction runs from sysfs (compact), from a per-device shrinker, and
 * from the packer (zblk_compact_background()) once the objects it freed
 * left more than a 32nd of the pool's pages to gain. A shrinker call runs
 * inside another task's reclaim, so its work is bounded
 * by what the kernel asked for: at most nr_to_scan objects are offered for
 * moving (zba_compact()'s object budget), whatever their size and however
 * many types have pages to give. The shrinker can be called from reclaim
 * inside our own write path (a writer
 * allocating with GFP_NOIO holds a stream and possibly an entry lock), so
 * compaction never blocks on zblk's locks: entries are only try-locked and
 * a busy unit is skipped.
 *
 * Lock order: init_lock (read, sysfs compact only) -> entry bit lock
 * (try-lock only) -> allocator spinlocks. The shrinker takes no init_lock:
 * it is registered after init and unregistered (which waits for running
 * calls) before reset frees anything.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/types.h>
#include <linux/list.h>
#include <linux/atomic.h>
#include <linux/gfp.h>
#include <linux/shrinker.h>
#include <linux/blkdev.h>
#include <linux/ktime.h>

#include "zblkdev/zblk.h"
#include "zblkdev/table.h"
#include "zblkdev/unit.h"
#include "alloc/zblk_alloc.h"

/*
 * Most objects one shrinker call offers for moving (and pages it frees),
 * whatever nr_to_scan says: the kernel's own batch (SHRINK_BATCH).
 */
#define ZBLK_SHRINK_BATCH	128UL

/*
 * The packer's compaction: pages compaction could free that are tolerated
 * (a 32nd of the pool, at least ZBLK_BG_COMPACT_MIN), and the most objects
 * one call offers for moving. Swap frees and reads a 16K-unit device's pages
 * in random order: each frees part of a unit and the packer compresses the
 * rest again, so objects of every size come and go and the pool's blocks
 * thin out. No shrinker runs when a memory cgroup, not the system, is short
 * of memory, so without this the pool held 10-16% more pages than its bytes
 * needed after one random pass over swap (docs/benchmarks.md).
 */
#define ZBLK_BG_COMPACT_SHIFT	5
#define ZBLK_BG_COMPACT_MIN	64UL
#define ZBLK_BG_COMPACT_OBJECTS	256UL

/**
 * struct zblk_compact_ctx - one compaction's context for zblk_move().
 * @z: the device
 * @objects: objects offered to zblk_move() so far (moved or skipped)
 */
struct zblk_compact_ctx {
	struct zblk *z;
	unsigned long objects;
};

/* Raise @v to @n if it is lower. */
static void zblk_stat_max(atomic64_t *v, u64 n)
{
	s64 cur = atomic64_read(v);

	while ((u64)cur < n && !atomic64_try_cmpxchg(v, &cur, n))
		;
}

/**
 * zblk_move() - zba_move_fn for zblk: move one object of unit @owner.
 * @ctx: a struct zblk_compact_ctx
 * @owner: unit index recorded with the object
 * @handle: the object's current handle
 *
 * Skips the object when the unit is locked (in use) or no longer refers to
 * @handle (rewritten or freed since the allocator looked at it, or not yet
 * installed by a writer).
 * Context: any; never sleeps.
 * Return: true if the object moved.
 */
static bool zblk_move(void *ctx, u32 owner, unsigned long handle)
{
	struct zblk_compact_ctx *c = ctx;
	struct zblk *z = c->z;
	struct zblk_entry *e;
	unsigned long new;
	bool moved = false;

	c->objects++;
	if (owner >= z->nr_units)
		return false;
	e = &z->table[owner];
	if (!zblk_entry_trylock(e))
		return false;
	if (zblk_entry_split(e)) {
		moved = zblk_split_move(z, zblk_entry_split_rec(e), handle);
	} else if (zblk_entry_allocated(e) && e->handle == handle) {
		new = zba_move(z->pool, handle);
		if (new) {
			e->handle = new;
			moved = true;
		}
	}
	zblk_entry_unlock(e);
	return moved;
}

/*
 * Compact with at most @max_pages freed and @max_objects offered to
 * zblk_move(); *@objects is set to the objects offered.
 */
static unsigned long zblk_do_compact(struct zblk *z, unsigned long max_pages,
				     unsigned long max_objects,
				     unsigned long *objects)
{
	struct zblk_compact_ctx c = { .z = z };
	struct zba_compact_ctl ctl = {
		.max_pages = max_pages,
		.max_objects = max_objects,
	};
	unsigned long freed = zba_compact(z->pool, zblk_move, &c, &ctl);

	atomic64_add(freed, &z->stats.pages_compacted);
	/* zblk_move()'s own count, which must agree with the allocator's. */
	WARN_ON_ONCE(c.objects != ctl.objects);
	*objects = c.objects;
	return freed;
}

/**
 * zblk_compact() - compact the device's pool now (sysfs compact).
 * @z: the device
 *
 * Context: process context, may sleep; takes init_lock for reading.
 * Return: pages freed, or -EINVAL if the device is not initialised.
 */
long zblk_compact(struct zblk *z)
{
	unsigned long objects;
	long ret = -EINVAL;

	down_read(&z->init_lock);
	if (z->disksize)
		ret = zblk_do_compact(z, ULONG_MAX, ULONG_MAX, &objects);
	up_read(&z->init_lock);
	return ret;
}

/**
 * zblk_compact_background() - compact if the pool has many pages to gain.
 * @z: the device
 *
 * Called by the packer after each run. Compacts, at most
 * ZBLK_BG_COMPACT_OBJECTS objects a call, when compaction could free more
 * than a 32nd of the pool's pages, down to half that; does nothing while
 * another compaction runs. The pages freed count in pages_compacted.
 *
 * It also does nothing while the device is full (mem_limit refuses
 * writes, zblk_over_limit()): what it freed would only let writes through
 * one by one. The sysfs compact and the shrinker still compact such a pool.
 * Context: process context (the packer), no zblk lock held; may sleep.
 * Return: true if the call stopped at its object bound having freed pages:
 *	the packer runs again soon to go on.
 */
bool zblk_compact_background(struct zblk *z)
{
	unsigned long slack = max(zba_total_pages(z->pool) >> ZBLK_BG_COMPACT_SHIFT,
				  ZBLK_BG_COMPACT_MIN);
	unsigned long freeable = zba_pages_freeable(z->pool);
	unsigned long objects, freed;

	if (READ_ONCE(z->limit_full) || freeable <= slack)
		return false;
	freed = zblk_do_compact(z, freeable - slack / 2,
				ZBLK_BG_COMPACT_OBJECTS, &objects);
	atomic64_add(objects, &z->stats.bg_compact_objects);
	return freed && objects >= ZBLK_BG_COMPACT_OBJECTS;
}

static unsigned long zblk_shrink_count(struct shrinker *s,
				       struct shrink_control *sc)
{
	struct zblk *z = zblk_compat_shrinker_priv(s);
	unsigned long n = zba_pages_freeable(z->pool);

	return n ? n : SHRINK_EMPTY;
}

/*
 * The kernel counts our freeable pages as the shrinker's objects and asks us
 * to scan nr_to_scan of them. Moving one object frees at most about a page,
 * so offering at most nr_to_scan objects (and stopping at nr_to_scan pages
 * freed) keeps the call's work within what was asked; a call cut short
 * leaves a block partly drained and the next one goes on from there.
 * Return: pages freed (0 if objects moved but no page emptied yet), or
 *	SHRINK_STOP when nothing could be done: no object offered (no pages
 *	to gain, or another compaction is running).
 */
static unsigned long zblk_shrink_scan(struct shrinker *s,
				      struct shrink_control *sc)
{
	struct zblk *z = zblk_compat_shrinker_priv(s);
	unsigned long max = clamp(sc->nr_to_scan, 1UL, ZBLK_SHRINK_BATCH);
	unsigned long freed, objects;
	u64 t0 = ktime_get_ns(), ns;

	freed = zblk_do_compact(z, max, max, &objects);
	ns = ktime_get_ns() - t0;
	atomic64_inc(&z->stats.shrink_calls);
	atomic64_add(objects, &z->stats.shrink_objects);
	atomic64_add(ns, &z->stats.shrink_ns);
	zblk_stat_max(&z->stats.shrink_max_objects, objects);
	zblk_stat_max(&z->stats.shrink_max_to_scan, sc->nr_to_scan);
	if (objects > sc->nr_to_scan)
		atomic64_inc(&z->stats.shrink_over);
	zblk_stat_max(&z->stats.shrink_max_ns, ns);
	if (!objects)
		return SHRINK_STOP;
	return freed;
}

/**
 * zblk_shrinker_register() - start compacting under memory pressure.
 * @z: an initialised device
 *
 * Context: process context, init_lock held for writing.
 * Return: 0 or a negative errno.
 */
int zblk_shrinker_register(struct zblk *z)
{
	return zblk_compat_shrinker_register(&z->shrinker, zblk_shrink_count,
					     zblk_shrink_scan, z,
					     z->disk->disk_name);
}

/**
 * zblk_shrinker_unregister() - stop; waits for shrinker calls in progress.
 * @z: the device
 *
 * Context: process context, init_lock held for writing.
 */
void zblk_shrinker_unregister(struct zblk *z)
{
	zblk_compat_shrinker_unregister(&z->shrinker);
}
