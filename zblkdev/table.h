/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - zblk's table entries (private to zblkdev/).
 *
 * One 16-byte entry per unit:
 *   handle: the allocator handle of the unit's object, or the fill value of
 *           a same-filled unit, or the unit's struct zblk_split (SPLIT), or
 *           0 for an empty unit;
 *   flags:  bits  0..16  object size in bytes (unit_size for raw units)
 *           bits 17..20  "absent" 4K blocks of a 16K unit: discarded, or
 *                        never written since the unit was created; they
 *                        read as zeroes; the unit is freed when all are
 *           bit  24      LOCK: the entry's lock
 *           bit  25      SAME: handle holds a fill value
 *           bit  26      HUGE: the object is the unit stored raw
 *           bit  27      SPLIT: the unit's blocks are stored apart
 *                        (zblkdev/split.c); bits 17..20 still tell the
 *                        absent blocks, the size bits are 0
 *           bits 28..31  DEAD: absent blocks of a unit with one object
 *                        whose bytes that object still holds (discarded
 *                        after it was compressed): memory the packer can
 *                        give back by compressing the unit again
 *           bits 32..63  GEN: changes with every change of the unit's
 *                        content (install, free, blocks marked absent), not
 *                        when compaction moves its object; a writer that
 *                        unlocked the entry while it compressed compares it
 *                        to know whether the unit changed meanwhile
 *
 * The lock is a sleepable bit lock (wait_on_bit_lock()): it is held while the
 * stream is taken (a mutex) to decompress; nothing is compressed or
 * allocated under it (zblkdev/io.c, zblkdev/split.c). Contexts that must not sleep
 * (swap_slot_free_notify, compaction, which can run from reclaim inside our
 * own write path) only try-lock. Every field other than the lock bit is read
 * and written only with the lock held; writers keep the lock bit set in what
 * they store, so a concurrent test_and_set_bit_lock() by a waiter cannot lose
 * an update.
 *
 * Lockdep sees the bit lock through a lockdep map in each entry (only with
 * CONFIG_DEBUG_LOCK_ALLOC; all entries share one class), acquired as a mutex
 * would be: blocking locks and successful try-locks are both recorded, so the
 * order (zblk.h: entry lock -> stream -> allocator locks) is checked on every
 * path.
 */
#ifndef ZBLK_TABLE_H
#define ZBLK_TABLE_H

#include <linux/bitops.h>
#include <linux/lockdep.h>
#include <linux/wait_bit.h>
#include <linux/sched.h>
#include "zblkdev/zblk.h"

#define ZBLK_SIZE_BITS		17
#define ZBLK_SIZE_MASK		((1UL << ZBLK_SIZE_BITS) - 1)
#define ZBLK_DISC_SHIFT		17
#define ZBLK_DISC_BITS		4
#define ZBLK_DISC_MASK		(((1UL << ZBLK_DISC_BITS) - 1) << ZBLK_DISC_SHIFT)
#define ZBLK_LOCK_BIT		24
#define ZBLK_SAME		BIT(25)
#define ZBLK_HUGE		BIT(26)
#define ZBLK_SPLIT		BIT(27)
#define ZBLK_DEAD_SHIFT		28
#define ZBLK_DEAD_MASK		(((1UL << ZBLK_DISC_BITS) - 1) << ZBLK_DEAD_SHIFT)
#define ZBLK_LOCKED		BIT(ZBLK_LOCK_BIT)
#define ZBLK_GEN_SHIFT		32
#define ZBLK_GEN_ONE		(1UL << ZBLK_GEN_SHIFT)
#define ZBLK_GEN_MASK		(~0UL << ZBLK_GEN_SHIFT)

/* The generation needs the upper half of a 64-bit flags word. */
static_assert(BITS_PER_LONG == 64);

/* Units are at most ZBLK_DISC_BITS blocks of 4K. */
static_assert(ZBLK_UNIT_SIZE_MAX / ZBLK_BLOCK_SIZE <= ZBLK_DISC_BITS);
static_assert(ZBLK_UNIT_SIZE_MAX <= ZBLK_SIZE_MASK);

/**
 * struct zblk_entry - one unit.
 * @handle: allocator handle, fill value (SAME) or 0. Protected by the lock.
 * @flags:  lock bit, SAME/HUGE, discarded blocks, object size. The lock bit
 *	    is atomic; the rest is protected by the lock.
 * @dep_map: lockdep's view of the lock bit (debug kernels only)
 */
struct zblk_entry {
	unsigned long handle;
	unsigned long flags;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	struct lockdep_map dep_map;
#endif
};

#ifndef CONFIG_DEBUG_LOCK_ALLOC
static_assert(sizeof(struct zblk_entry) == 2 * sizeof(unsigned long));
#endif

/**
 * zblk_table_lockdep_init() - give lockdep a map for each entry's lock.
 * @table: the table
 * @n: its number of entries
 *
 * A no-op unless CONFIG_DEBUG_LOCK_ALLOC.
 * Context: process context, before the table is used.
 */
static inline void zblk_table_lockdep_init(struct zblk_entry *table,
					   unsigned long n)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	static struct lock_class_key key;
	unsigned long i;

	for (i = 0; i < n; i++) {
		lockdep_init_map(&table[i].dep_map, "zblk->entry_lock", &key, 0);
		if (!(i & 1023))
			cond_resched();
	}
#endif
}

static inline void zblk_entry_lock(struct zblk_entry *e)
{
	might_sleep();
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	mutex_acquire(&e->dep_map, 0, 0, _RET_IP_);
#endif
	wait_on_bit_lock(&e->flags, ZBLK_LOCK_BIT, TASK_UNINTERRUPTIBLE);
}

static inline bool zblk_entry_trylock(struct zblk_entry *e)
{
	if (test_and_set_bit_lock(ZBLK_LOCK_BIT, &e->flags))
		return false;
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	mutex_acquire(&e->dep_map, 0, 1, _RET_IP_);
#endif
	return true;
}

static inline void zblk_entry_unlock(struct zblk_entry *e)
{
#ifdef CONFIG_DEBUG_LOCK_ALLOC
	mutex_release(&e->dep_map, _RET_IP_);
#endif
	clear_and_wake_up_bit(ZBLK_LOCK_BIT, &e->flags);
}

/* The next generation, for a change of the locked unit's content. */
static inline unsigned long zblk_entry_next_gen(const struct zblk_entry *e)
{
	return (READ_ONCE(e->flags) & ZBLK_GEN_MASK) + ZBLK_GEN_ONE;
}

/*
 * Replace everything but the lock bit (which the caller holds); the
 * generation moves on.
 */
static inline void zblk_entry_set(struct zblk_entry *e, unsigned long handle,
				  unsigned long flags)
{
	unsigned long gen = zblk_entry_next_gen(e);

	e->handle = handle;
	WRITE_ONCE(e->flags, (flags & ~ZBLK_GEN_MASK) | gen | ZBLK_LOCKED);
}

/* The unit's generation (see GEN above). Context: entry locked. */
static inline unsigned long zblk_entry_gen(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) >> ZBLK_GEN_SHIFT;
}

static inline bool zblk_entry_same(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) & ZBLK_SAME;
}

static inline bool zblk_entry_huge(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) & ZBLK_HUGE;
}

static inline bool zblk_entry_split(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) & ZBLK_SPLIT;
}

/* Absent blocks whose bytes the unit's one object still holds. */
static inline unsigned long zblk_entry_dead(const struct zblk_entry *e)
{
	return (READ_ONCE(e->flags) & ZBLK_DEAD_MASK) >> ZBLK_DEAD_SHIFT;
}

/* The entry refers to an object in the pool. */
static inline bool zblk_entry_allocated(const struct zblk_entry *e)
{
	return !zblk_entry_same(e) && READ_ONCE(e->handle);
}

/* The unit holds data (an object or a fill value). */
static inline bool zblk_entry_stored(const struct zblk_entry *e)
{
	return zblk_entry_same(e) || READ_ONCE(e->handle);
}

static inline unsigned int zblk_entry_size(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) & ZBLK_SIZE_MASK;
}

static inline unsigned long zblk_entry_discarded(const struct zblk_entry *e)
{
	return (READ_ONCE(e->flags) & ZBLK_DISC_MASK) >> ZBLK_DISC_SHIFT;
}

/*
 * Mark @mask absent in a unit with one object or a fill value (not SPLIT);
 * blocks newly absent in an object become DEAD.
 */
static inline void zblk_entry_set_discarded(struct zblk_entry *e,
					    unsigned long mask)
{
	unsigned long gen = zblk_entry_next_gen(e);
	unsigned long old = zblk_entry_discarded(e);
	unsigned long dead = zblk_entry_dead(e);
	unsigned long flags = READ_ONCE(e->flags) &
			      ~(ZBLK_DISC_MASK | ZBLK_DEAD_MASK | ZBLK_GEN_MASK);

	if (!zblk_entry_same(e))
		dead |= mask & ~old;
	WRITE_ONCE(e->flags, flags | gen |
		   ((mask << ZBLK_DISC_SHIFT) & ZBLK_DISC_MASK) |
		   ((dead << ZBLK_DEAD_SHIFT) & ZBLK_DEAD_MASK));
}

/* zblkdev/io.c */
struct bio;
struct block_device;
struct work_struct;
void zblk_submit_bio(struct bio *bio);
void zblk_slot_free_notify(struct block_device *bdev, unsigned long index);
void zblk_free_work(struct work_struct *work);
unsigned long zblk_mem_pages(struct zblk *z);

/* zblkdev/split.c */
void zblk_pack_work(struct work_struct *work);
void zblk_split_free_all(struct zblk *z);

#endif /* ZBLK_TABLE_H */
