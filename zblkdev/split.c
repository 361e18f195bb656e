// SPDX-License-Identifier: GPL-2.0
/*
 * split.c - 16K units written 4K at a time: write small, pack later.
 *
 * Compressing 16 KiB at once stores real memory in less space than 4 KiB
 * at a time, but swap and random I/O write, read and free single 4K
 * blocks. Rewriting one block of a unit stored as one object would mean
 * decompressing and compressing the whole unit under its lock. Instead a
 * write that covers part of a unit stores each of its blocks as an object
 * of its own (a 4K compression, as in a 4K unit) and the unit becomes
 * *split*: its entry points to a struct zblk_split that says, block by
 * block, where the data is:
 *   ABSENT  nothing: reads as zeroes (discarded, freed by swap, or never
 *           written since the unit was created)
 *   PACKED  in the unit's old object (@packed), which stays until no block
 *           reads from it
 *   OBJ     in an object of its own, compressed; RAW: stored raw, as it
 *           did not compress
 *   LAZY    in an object of its own, stored raw without trying: the
 *           packer compresses it with the rest of the unit
 *   SAME    a fill value (no object)
 *
 * Life cycle of a unit (docs/design.md has the picture):
 *   empty --16K write--> one object ("packed") --4K write--> split
 *   empty --4K write--> split (LAZY blocks) --packer--> one object
 *   one object --partial discard--> one object with DEAD blocks
 *             --packer--> one smaller object
 *   anything --16K write / whole discard--> one object / empty
 * A swap free of a split unit's block frees that block's object at once,
 * and the unit's old object as soon as no block reads from it.
 *
 * Write small: a block written into an empty unit, or into a split unit
 * with no old object, is copied as it is (LAZY) instead of compressed on
 * its own, since the packer compresses the unit anyway: a swap-out that
 * writes four pages one after another into a unit costs four copies and
 * one 16K compression, not four 4K compressions and then that one. A
 * block written into a unit that has an old object is compressed (OBJ):
 * such a unit is packed again only when enough of it changed (below).
 *
 * The packer (zblk_pack_work(), a delayed work item per device) looks at
 * the units whose bit is set in pack_pending: a split unit with a LAZY
 * block (all of them: raw bytes are held only until the packer's next run,
 * whether the unit filled up or not); a split unit whose old object holds a
 * block that was freed since, or two or more that were overwritten; a split
 * unit whose blocks are all present again but not all in its old object;
 * and a one-object unit with a DEAD block. Those are loaded, compressed as one
 * unit and installed if the unit did not change meanwhile (its generation;
 * else the work is dropped and counted as pack_skipped). A unit packed
 * with blocks still absent is one object with those blocks absent; blocks
 * written there later are compressed one by one, and the unit is packed
 * again once they have all come. Freed bytes go at once (swap reads back,
 * frees and writes pages elsewhere: memory held by freed pages would grow
 * with every pass); one overwritten block is tolerated until a second, so a
 * steady stream of random 4K overwrites repacks a unit every other write.
 * After each run the packer compacts the pool if its repacking left it
 * sparse (zblk_compact_background(), zblkdev/compact.c).
 *
 * Locking: as io.c (order in zblk.h). Records are read and changed under
 * the entry lock only; they are kmalloc'd (counted as metadata in
 * mm_stat and against mem_limit) before the lock is taken where possible.
 * The packer takes the entry lock, then a stream to load; it gives the
 * entry back before compressing and the stream back before it locks the
 * entry again to install, so it never waits for an entry holding a stream.
 * Reset cancels the packer (after free_work, which can queue it) before
 * the pool goes, and frees the records with zblk_split_free_all().
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/bitops.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "zblkdev/zblk.h"
#include "zblkdev/table.h"
#include "zblkdev/unit.h"
#include "alloc/zblk_alloc.h"
#include "crypto/zblk_comp.h"

/*
 * Raw bytes LAZY blocks may hold, device-wide, before writes compress their
 * blocks themselves again: a 32nd of the compressed data stored (what the
 * packer's backlog may add to the device's memory, as when zstd packs
 * slower than swap writes), and never less than a few units' worth, so
 * that a write into an empty device is deferred too.
 */
#define ZBLK_LAZY_SHARE_SHIFT	5
#define ZBLK_LAZY_MIN_BYTES	(64 * ZBLK_BLOCK_SIZE)

/* How long the packer waits after the first unit is queued: the blocks a
 * swap-out writes one after another then usually fill the unit first. */
#define ZBLK_PACK_DELAY		msecs_to_jiffies(10)

/*
 * Overwritten blocks (split units with an old object) that make a unit worth
 * compressing again. A block freed (discarded, swap free) is enough on its
 * own: its bytes would stay in memory for nothing, while an overwritten
 * unit is likely to be written again soon.
 */
#define ZBLK_PACK_UNREAD_MIN	2

enum zblk_blk_kind {
	ZBLK_BLK_ABSENT = 0,
	ZBLK_BLK_PACKED,
	ZBLK_BLK_OBJ,
	ZBLK_BLK_RAW,
	ZBLK_BLK_LAZY,
	ZBLK_BLK_SAME,
};

/**
 * struct zblk_split - where each block of a split unit is.
 * @packed: handle of the unit's old object, or 0 once no block reads it
 * @packed_size: its size
 * @packed_raw: it is the unit stored raw (counted in huge_units)
 * @packed_mask: blocks whose data the old object holds (those present when
 *	the unit was split); those of them no longer PACKED are bytes that
 *	nobody reads
 * @kind: each block's enum zblk_blk_kind
 * @size: OBJ, RAW, LAZY: the block's object size
 * @val: OBJ, RAW, LAZY: the block's object handle; SAME: its fill value
 *
 * Protected by the owning entry's lock.
 */
struct zblk_split {
	unsigned long packed;
	unsigned int packed_size;
	bool packed_raw;
	u8 packed_mask;
	u8 kind[ZBLK_UNIT_BLOCKS_MAX];
	u16 size[ZBLK_UNIT_BLOCKS_MAX];
	unsigned long val[ZBLK_UNIT_BLOCKS_MAX];
};

/* What a record costs (a kmalloc bucket holds it exactly). */
#define ZBLK_SPLIT_BYTES	64
static_assert(sizeof(struct zblk_split) <= ZBLK_SPLIT_BYTES);

static bool zblk_blk_has_obj(const struct zblk_split *s, unsigned int b)
{
	return s->kind[b] == ZBLK_BLK_OBJ || s->kind[b] == ZBLK_BLK_RAW ||
	       s->kind[b] == ZBLK_BLK_LAZY;
}

/* Blocks of @s of @kind, as a mask. */
static unsigned long zblk_split_mask(struct zblk *z,
				     const struct zblk_split *s, u8 kind)
{
	unsigned long mask = 0;
	unsigned int b;

	for (b = 0; b < zblk_unit_blocks(z); b++)
		if (s->kind[b] == kind)
			mask |= BIT(b);
	return mask;
}

/* Free block @b's own object, if any; the block becomes absent. */
static void zblk_split_clear_block(struct zblk *z, struct zblk_split *s,
				   unsigned int b)
{
	if (zblk_blk_has_obj(s, b)) {
		zba_free(z->pool, s->val[b]);
		atomic64_sub(s->size[b], &z->stats.compr_data_size);
	}
	if (s->kind[b] == ZBLK_BLK_LAZY)
		atomic64_sub(s->size[b], &z->stats.lazy_bytes);
	s->kind[b] = ZBLK_BLK_ABSENT;
	s->val[b] = 0;
	s->size[b] = 0;
}

/* Free the old object (no block may read from it any more). */
static void zblk_split_drop_packed(struct zblk *z, struct zblk_split *s)
{
	if (!s->packed)
		return;
	zba_free(z->pool, s->packed);
	atomic64_sub(s->packed_size, &z->stats.compr_data_size);
	if (s->packed_raw)
		atomic64_dec(&z->stats.huge_units);
	s->packed = 0;
	s->packed_size = 0;
	s->packed_raw = false;
	s->packed_mask = 0;
}

/**
 * zblk_split_free() - free a split unit's objects and its record.
 * @z: the device
 * @s: the record, taken out of its entry by the caller
 *
 * The entry and blocks_stored are the caller's (zblk_free_locked()).
 * Context: entry locked; any context (never sleeps).
 */
void zblk_split_free(struct zblk *z, struct zblk_split *s)
{
	unsigned int b;

	for (b = 0; b < zblk_unit_blocks(z); b++)
		zblk_split_clear_block(z, s, b);
	zblk_split_drop_packed(z, s);
	kfree(s);
	atomic64_dec(&z->stats.split_units);
	atomic64_sub(ZBLK_SPLIT_BYTES, &z->stats.split_bytes);
}

/*
 * Record the state of @s in its entry: the old object goes once no block
 * reads from it; a unit with every block absent is freed. The generation
 * moves on. Context: entry locked.
 */
static void zblk_split_settle(struct zblk *z, struct zblk_entry *e,
			      struct zblk_split *s)
{
	unsigned long absent = zblk_split_mask(z, s, ZBLK_BLK_ABSENT);

	if (!zblk_split_mask(z, s, ZBLK_BLK_PACKED))
		zblk_split_drop_packed(z, s);
	if (absent == zblk_all_blocks(z)) {
		zblk_free_locked(z, e);
		return;
	}
	zblk_entry_update(z, e, (unsigned long)s,
			  ZBLK_SPLIT | absent << ZBLK_DISC_SHIFT);
}

/*
 * Turn a locked unit that is not split into a split one, with the record
 * @s: its one object becomes the old object its present blocks read from,
 * a fill value becomes SAME blocks. Context: entry locked.
 */
static void zblk_split_convert(struct zblk *z, struct zblk_entry *e,
			       struct zblk_split *s)
{
	unsigned long absent = zblk_entry_discarded(e);
	unsigned int b;
	u8 kind = ZBLK_BLK_PACKED;

	memset(s, 0, sizeof(*s));
	if (!zblk_entry_stored(e)) {
		absent = zblk_all_blocks(z);
	} else if (zblk_entry_same(e)) {
		kind = ZBLK_BLK_SAME;
		atomic64_dec(&z->stats.same_units);
	} else {
		s->packed = e->handle;
		s->packed_size = zblk_entry_size(e);
		s->packed_raw = zblk_entry_huge(e);
		/* Present blocks, and absent ones it still holds (DEAD). */
		s->packed_mask = zblk_all_blocks(z) &
				 ~(absent & ~zblk_entry_dead(e));
	}
	for (b = 0; b < zblk_unit_blocks(z); b++) {
		if (absent & BIT(b))
			continue;
		s->kind[b] = kind;
		if (kind == ZBLK_BLK_SAME)
			s->val[b] = e->handle;
	}
	atomic64_inc(&z->stats.split_units);
	atomic64_add(ZBLK_SPLIT_BYTES, &z->stats.split_bytes);
	zblk_entry_update(z, e, (unsigned long)s,
			  ZBLK_SPLIT | absent << ZBLK_DISC_SHIFT);
}

/*
 * Put a new block object (from zblk_make_obj(), or stored raw without
 * trying if @lazy) at block @b of @s.
 */
static void zblk_split_put_block(struct zblk *z, struct zblk_split *s,
				 unsigned int b, const struct zblk_obj *obj,
				 bool lazy)
{
	zblk_split_clear_block(z, s, b);
	s->val[b] = obj->handle;
	if (obj->flags & ZBLK_SAME) {
		s->kind[b] = ZBLK_BLK_SAME;
		return;
	}
	if (!(obj->flags & ZBLK_HUGE))
		s->kind[b] = ZBLK_BLK_OBJ;
	else
		s->kind[b] = lazy ? ZBLK_BLK_LAZY : ZBLK_BLK_RAW;
	s->size[b] = obj->flags & ZBLK_SIZE_MASK;
	atomic64_add(s->size[b], &z->stats.compr_data_size);
	if (s->kind[b] == ZBLK_BLK_LAZY)
		atomic64_add(s->size[b], &z->stats.lazy_bytes);
}

/**
 * zblk_split_store() - install new blocks into unit @index.
 * @z: the device
 * @index: the unit
 * @b0: first block written
 * @n: blocks written (fewer than the unit has)
 * @objs: their objects, from zblk_make_obj(); owned by the unit on success
 * @lazy: raw objects among @objs were stored without trying to compress
 *	them (zblk_split_defer()); the packer compresses them
 *
 * The unit becomes (or stays) split; the blocks' old objects are freed,
 * and the unit's old object once no block reads from it. The packer is
 * told.
 * Context: process context, may sleep (allocates the record with GFP_NOIO,
 *	never while holding the entry lock); no lock held.
 * Return: 0, or -ENOMEM with the unit unchanged (@objs are the caller's).
 */
int zblk_split_store(struct zblk *z, u32 index, unsigned int b0,
		     unsigned int n, const struct zblk_obj *objs, bool lazy)
{
	struct zblk_entry *e = &z->table[index];
	struct zblk_split *spare = NULL, *s;
	unsigned int i;

	for (;;) {
		/* A racy peek, to allocate before locking in the usual case. */
		if (!spare && !zblk_entry_split(e)) {
			spare = kmalloc(sizeof(*spare), ZBLK_GFP_IO);
			if (!spare)
				return -ENOMEM;
		}
		zblk_entry_lock(e);
		if (zblk_entry_split(e) || spare)
			break;
		zblk_entry_unlock(e);
	}
	if (!zblk_entry_split(e)) {
		zblk_split_convert(z, e, spare);
		spare = NULL;
	}
	s = zblk_entry_split_rec(e);
	for (i = 0; i < n; i++)
		zblk_split_put_block(z, s, b0 + i, &objs[i], lazy);
	zblk_split_settle(z, e, s);
	zblk_entry_unlock(e);
	kfree(spare);
	zblk_pack_queue(z, index);
	return 0;
}

/**
 * zblk_split_discard() - blocks @mask of a locked split unit read as zeroes.
 * @z: the device
 * @e: the entry, locked, split
 * @mask: blocks discarded
 *
 * Their objects are freed now, the unit's old object once no block reads
 * from it, the unit once every block is absent.
 * Context: entry locked; any context (never sleeps).
 */
void zblk_split_discard(struct zblk *z, struct zblk_entry *e,
			unsigned long mask)
{
	struct zblk_split *s = zblk_entry_split_rec(e);
	unsigned int b;

	for_each_set_bit(b, &mask, zblk_unit_blocks(z))
		zblk_split_clear_block(z, s, b);
	zblk_split_settle(z, e, s);
}

/**
 * zblk_split_load() - blocks [@b0, @b1) of a split unit.
 * @z: the device
 * @strm: a stream the caller holds
 * @s: the unit's record (entry locked)
 * @dst: unit_size bytes; blocks [@b0, @b1) are filled in, others may be
 *	overwritten
 * @b0: first block wanted
 * @b1: block after the last one wanted
 *
 * Context: entry locked, @strm held; does not sleep.
 * Return: 0 or -EIO (an object does not decompress).
 */
int zblk_split_load(struct zblk *z, struct zblk_strm *strm,
		    struct zblk_split *s, void *dst, unsigned int b0,
		    unsigned int b1)
{
	unsigned int b, top = 0;
	int ret = 0;

	/* Blocks read from the old object: decode it up to the last one. */
	for (b = b0; b < b1; b++)
		if (s->kind[b] == ZBLK_BLK_PACKED)
			top = b + 1;
	if (top)
		ret = zblk_load_object(z, strm, s->packed, s->packed_size,
				       s->packed_raw, z->unit_size, dst,
				       top << ZBLK_BLOCK_SHIFT);
	for (b = b0; b < b1 && !ret; b++) {
		void *p = dst + (b << ZBLK_BLOCK_SHIFT);

		switch (s->kind[b]) {
		case ZBLK_BLK_ABSENT:
			memset(p, 0, ZBLK_BLOCK_SIZE);
			break;
		case ZBLK_BLK_SAME:
			memset_l(p, s->val[b], ZBLK_BLOCK_SIZE / sizeof(long));
			break;
		case ZBLK_BLK_OBJ:
		case ZBLK_BLK_RAW:
		case ZBLK_BLK_LAZY:
			ret = zblk_load_object(z, strm, s->val[b], s->size[b],
					       s->kind[b] != ZBLK_BLK_OBJ,
					       ZBLK_BLOCK_SIZE, p,
					       ZBLK_BLOCK_SIZE);
			break;
		}
	}
	return ret;
}

/**
 * zblk_split_census() - count a split unit's blocks and bytes in a census.
 * @z: the device
 * @s: the unit's record
 * @c: the census (its per-block figures)
 *
 * Context: entry locked; never sleeps.
 * Return: the bytes of the unit's objects (old object and blocks' own).
 */
u64 zblk_split_census(struct zblk *z, const struct zblk_split *s,
		      struct zblk_census *c)
{
	static const u8 where[] = {
		[ZBLK_BLK_PACKED] = ZBLK_CENSUS_BLK_OLD,
		[ZBLK_BLK_OBJ] = ZBLK_CENSUS_BLK_OBJ,
		[ZBLK_BLK_RAW] = ZBLK_CENSUS_BLK_RAW,
		[ZBLK_BLK_LAZY] = ZBLK_CENSUS_BLK_LAZY,
		[ZBLK_BLK_SAME] = ZBLK_CENSUS_BLK_SAME,
	};
	u64 bytes = s->packed_size;
	unsigned int b, w;

	c->blk_bytes[ZBLK_CENSUS_BLK_OLD] += s->packed_size;
	for (b = 0; b < zblk_unit_blocks(z); b++) {
		if (s->kind[b] == ZBLK_BLK_ABSENT)
			continue;
		w = where[s->kind[b]];
		c->blk_count[w]++;
		if (zblk_blk_has_obj(s, b)) {
			c->blk_bytes[w] += s->size[b];
			bytes += s->size[b];
		}
	}
	return bytes;
}

/**
 * zblk_split_move() - compaction: move @handle if split unit @s holds it.
 * @z: the device
 * @s: the unit's record (entry locked)
 * @handle: an object the allocator wants to move
 *
 * Context: entry locked; never sleeps.
 * Return: true if the object moved.
 */
bool zblk_split_move(struct zblk *z, struct zblk_split *s,
		     unsigned long handle)
{
	unsigned long *ref = NULL, new;
	unsigned int b;

	if (s->packed == handle) {
		ref = &s->packed;
	} else {
		for (b = 0; b < zblk_unit_blocks(z); b++)
			if (zblk_blk_has_obj(s, b) && s->val[b] == handle)
				ref = &s->val[b];
	}
	if (!ref)
		return false;
	new = zba_move(z->pool, handle);
	if (!new)
		return false;
	*ref = new;
	return true;
}

/**
 * zblk_split_defer() - should a write into part of unit @index store its
 *	blocks raw and leave their compression to the packer?
 * @z: the device
 * @index: the unit
 *
 * Yes if the unit is empty, or split with no old object: the packer will
 * compress it as one unit anyway. No if the unit has an object of which
 * the write replaces part: the unit may stay split for long, and its new
 * blocks are compressed now. Nor while the LAZY blocks not yet
 * packed hold more than their bound (ZBLK_LAZY_SHARE_SHIFT): the packer
 * is behind, and memory would grow with its backlog. The answer may be
 * stale by the time the blocks are stored; either way the data is right
 * and the packer sees it.
 * Context: process context, may sleep; no entry lock held.
 * Return: true to store raw.
 */
bool zblk_split_defer(struct zblk *z, u32 index)
{
	struct zblk_entry *e = &z->table[index];
	s64 limit = atomic64_read(&z->stats.compr_data_size) >>
		    ZBLK_LAZY_SHARE_SHIFT;
	bool defer;

	if (atomic64_read(&z->stats.lazy_bytes) >=
	    max_t(s64, limit, ZBLK_LAZY_MIN_BYTES))
		return false;
	zblk_entry_lock(e);
	defer = !zblk_entry_stored(e) ||
		(zblk_entry_split(e) && !zblk_entry_split_rec(e)->packed);
	zblk_entry_unlock(e);
	return defer;
}

/**
 * zblk_pack_queue() - ask the packer to look at unit @index.
 * @z: the device
 * @index: the unit
 *
 * Context: any (swap frees call it in atomic context).
 */
void zblk_pack_queue(struct zblk *z, u32 index)
{
	if (!test_and_set_bit(index, z->pack_pending))
		queue_delayed_work(system_unbound_wq, &z->pack_work,
				   ZBLK_PACK_DELAY);
}

/* Is the locked unit worth compressing as one object now? */
static bool zblk_pack_wanted(struct zblk *z, struct zblk_entry *e)
{
	struct zblk_split *s;
	unsigned long unread, absent;

	if (!zblk_entry_allocated(e))
		return false;
	if (!zblk_entry_split(e))
		return zblk_entry_dead(e);
	s = zblk_entry_split_rec(e);
	absent = zblk_split_mask(z, s, ZBLK_BLK_ABSENT);
	if (zblk_split_mask(z, s, ZBLK_BLK_LAZY))
		return true;
	if (!s->packed)
		return !absent;
	/* Blocks whose bytes in the old object nobody reads. */
	unread = s->packed_mask & ~zblk_split_mask(z, s, ZBLK_BLK_PACKED);
	return (unread & absent) ||
	       hweight_long(unread) >= ZBLK_PACK_UNREAD_MIN ||
	       (!absent && s->packed_mask != zblk_all_blocks(z));
}

/**
 * zblk_pack_unit() - store unit @index as one object if that is worth it.
 * @z: the device
 * @index: the unit
 *
 * Loaded under the entry lock, compressed without it, installed under it
 * if the unit's generation did not move meanwhile.
 * Context: process context (the packer), may sleep.
 */
static void zblk_pack_unit(struct zblk *z, u32 index)
{
	struct zblk_entry *e = &z->table[index];
	struct zblk_src src = { .len = z->unit_size };
	unsigned long absent, gen;
	struct zblk_strm *strm;
	struct zblk_obj obj;
	bool was_split;
	int ret;

	zblk_entry_lock(e);
	if (!zblk_pack_wanted(z, e)) {
		zblk_entry_unlock(e);
		return;
	}
	gen = zblk_entry_gen(e);
	absent = zblk_entry_discarded(e);
	was_split = zblk_entry_split(e);
	strm = zblk_strm_get(z->comp);
	ret = zblk_load_unit(z, strm, e, strm->unit_buf, 0,
			     zblk_unit_blocks(z));
	zblk_entry_unlock(e);
	if (!ret) {
		src.buf = strm->unit_buf;
		ret = zblk_make_obj(z, strm, index, &src, absent, &obj);
	}
	zblk_strm_put(z->comp, strm);
	if (ret) {
		atomic64_inc(&z->stats.pack_failed);
		return;
	}
	zblk_entry_lock(e);
	if (zblk_entry_gen(e) != gen) {
		zblk_entry_unlock(e);
		zblk_drop_obj(z, &obj);
		atomic64_inc(&z->stats.pack_skipped);
		return;
	}
	zblk_install_locked(z, e, &obj);
	zblk_entry_unlock(e);
	atomic64_inc(was_split ? &z->stats.packed_units :
				 &z->stats.repacked_units);
}

/**
 * zblk_pack_work() - the packer: look at every unit of pack_pending.
 * @work: the device's pack_work
 *
 * Each unit's bit is cleared before it is looked at, so a write or free
 * meanwhile sets it again and queues another run.
 * Context: process context (workqueue), may sleep. Runs only while the
 * device is initialised: reset cancels it before freeing anything.
 */
void zblk_pack_work(struct work_struct *work)
{
	struct zblk *z = container_of(to_delayed_work(work), struct zblk,
				      pack_work);
	unsigned long i;

	for_each_set_bit(i, z->pack_pending, z->nr_units) {
		if (test_and_clear_bit(i, z->pack_pending))
			zblk_pack_unit(z, i);
		cond_resched();
	}
	/* what the objects it freed left sparse (zblkdev/compact.c) */
	if (zblk_compact_background(z))
		queue_delayed_work(system_unbound_wq, &z->pack_work,
				   ZBLK_PACK_DELAY);
}

/**
 * zblk_split_free_all() - free every split unit's record, at reset.
 * @z: the device
 *
 * The objects go with the pool; only the records are kmalloc'd apart.
 * Context: process context, init_lock held for writing, no I/O, the
 *	packer cancelled.
 */
void zblk_split_free_all(struct zblk *z)
{
	unsigned long i;

	for (i = 0; i < z->nr_units; i++) {
		struct zblk_entry *e = &z->table[i];

		if (zblk_entry_split(e)) {
			kfree(zblk_entry_split_rec(e));
			e->handle = 0;
		}
		if (!(i & 4095))
			cond_resched();
	}
}
