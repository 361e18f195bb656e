/* SPDX-License-Identifier: GPL-2.0 */
/*
 * table.h - zblk's table entries (private to zblkdev/).
 *
 * One 16-byte entry per unit:
 *   handle: the allocator handle of the unit's object, or the fill value of
 *           a same-filled unit, or 0 for an empty unit;
 *   flags:  bits  0..16  object size in bytes (unit_size for raw units)
 *           bits 17..20  "absent" 4K blocks of a 16K unit: discarded, or
 *                        never written since the unit was created; they
 *                        read as zeroes; the unit is freed when all are
 *           bit  24      LOCK: the entry's lock
 *           bit  25      SAME: handle holds a fill value
 *           bit  26      HUGE: the object is the unit stored raw
 *
 * The lock is a sleepable bit lock (wait_on_bit_lock()), because a partial
 * write to a 16K unit is a read-modify-write that allocates with GFP_NOIO
 * while holding it. Contexts that must not sleep (swap_slot_free_notify,
 * compaction, which can run from reclaim inside our own write path) only
 * try-lock. Every field other than the lock bit is read and written only
 * with the lock held; writers keep the lock bit set in what they store, so
 * a concurrent test_and_set_bit_lock() by a waiter cannot lose an update.
 *
 * Lock order: see zblk.h (stream -> entry lock -> allocator locks).
 */
#ifndef ZBLK_TABLE_H
#define ZBLK_TABLE_H

#include <linux/bitops.h>
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
#define ZBLK_LOCKED		BIT(ZBLK_LOCK_BIT)

/* Units are at most ZBLK_DISC_BITS blocks of 4K. */
static_assert(ZBLK_UNIT_SIZE_MAX / ZBLK_BLOCK_SIZE <= ZBLK_DISC_BITS);
static_assert(ZBLK_UNIT_SIZE_MAX <= ZBLK_SIZE_MASK);

/**
 * struct zblk_entry - one unit.
 * @handle: allocator handle, fill value (SAME) or 0. Protected by the lock.
 * @flags:  lock bit, SAME/HUGE, discarded blocks, object size. The lock bit
 *	    is atomic; the rest is protected by the lock.
 */
struct zblk_entry {
	unsigned long handle;
	unsigned long flags;
};

static_assert(sizeof(struct zblk_entry) == 2 * sizeof(unsigned long));

static inline void zblk_entry_lock(struct zblk_entry *e)
{
	might_sleep();
	wait_on_bit_lock(&e->flags, ZBLK_LOCK_BIT, TASK_UNINTERRUPTIBLE);
}

static inline bool zblk_entry_trylock(struct zblk_entry *e)
{
	return !test_and_set_bit_lock(ZBLK_LOCK_BIT, &e->flags);
}

static inline void zblk_entry_unlock(struct zblk_entry *e)
{
	clear_and_wake_up_bit(ZBLK_LOCK_BIT, &e->flags);
}

/* Replace everything but the lock bit (which the caller holds). */
static inline void zblk_entry_set(struct zblk_entry *e, unsigned long handle,
				  unsigned long flags)
{
	e->handle = handle;
	WRITE_ONCE(e->flags, flags | ZBLK_LOCKED);
}

static inline bool zblk_entry_same(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) & ZBLK_SAME;
}

static inline bool zblk_entry_huge(const struct zblk_entry *e)
{
	return READ_ONCE(e->flags) & ZBLK_HUGE;
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

static inline void zblk_entry_set_discarded(struct zblk_entry *e,
					    unsigned long mask)
{
	unsigned long flags = READ_ONCE(e->flags) & ~ZBLK_DISC_MASK;

	WRITE_ONCE(e->flags, flags | ((mask << ZBLK_DISC_SHIFT) & ZBLK_DISC_MASK));
}

/* zblkdev/io.c */
struct bio;
struct block_device;
struct work_struct;
void zblk_submit_bio(struct bio *bio);
void zblk_slot_free_notify(struct block_device *bdev, unsigned long index);
void zblk_free_work(struct work_struct *work);

#endif /* ZBLK_TABLE_H */
