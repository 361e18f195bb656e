/* SPDX-License-Identifier: GPL-2.0 */
/*
 * unit.h - what io.c and split.c share about a unit's content (private to
 * zblkdev/): objects made ready outside the entry lock, installed, freed
 * and loaded under it. The lock order is in zblk.h.
 */
#ifndef ZBLK_UNIT_H
#define ZBLK_UNIT_H

#include <linux/gfp.h>
#include "zblkdev/zblk.h"
#include "zblkdev/table.h"

struct zblk_strm;
struct page;

/* GFP for objects on the I/O path: may reclaim, never starts I/O. */
#define ZBLK_GFP_IO	(GFP_NOIO | __GFP_NOWARN)

/* Most 4K blocks in a unit. */
#define ZBLK_UNIT_BLOCKS_MAX	(ZBLK_UNIT_SIZE_MAX / ZBLK_BLOCK_SIZE)

/**
 * struct zblk_obj - new content (a unit's or a 4K block's), ready to be
 *	installed under the entry lock.
 * @handle: allocator handle or fill value
 * @flags:  entry flags: size, SAME or HUGE, absent blocks (for a unit)
 */
struct zblk_obj {
	unsigned long handle;
	unsigned long flags;
};

/**
 * struct zblk_src - bytes to compress: @len bytes at @buf, or at @offset
 *	in @page (mapped only while they are read).
 * @page: the page, or NULL
 * @offset: offset of the bytes in @page
 * @buf: the bytes if @page is NULL
 * @len: their length: unit_size, or ZBLK_BLOCK_SIZE for one block
 */
struct zblk_src {
	struct page *page;
	unsigned int offset;
	const void *buf;
	unsigned int len;
};

/* Blocks in one of @z's units. */
static inline unsigned int zblk_unit_blocks(const struct zblk *z)
{
	return z->unit_size >> ZBLK_BLOCK_SHIFT;
}

/* Every 4K block of a unit, as a mask. */
static inline unsigned long zblk_all_blocks(const struct zblk *z)
{
	return BIT(zblk_unit_blocks(z)) - 1;
}

/* 4K blocks entry @e holds data for: none if it is empty, else the unit's less its absent ones. */
static inline unsigned int zblk_entry_blocks(const struct zblk *z,
					     const struct zblk_entry *e)
{
	if (!zblk_entry_stored(e))
		return 0;
	return zblk_unit_blocks(z) - hweight_long(zblk_entry_discarded(e));
}

/* io.c */
void zblk_entry_update(struct zblk *z, struct zblk_entry *e,
		       unsigned long handle, unsigned long flags);
int zblk_make_obj(struct zblk *z, struct zblk_strm *strm, u32 index,
		  const struct zblk_src *src, unsigned long absent,
		  struct zblk_obj *obj);
void zblk_drop_obj(struct zblk *z, const struct zblk_obj *obj);
void zblk_free_locked(struct zblk *z, struct zblk_entry *e);
void zblk_install_locked(struct zblk *z, struct zblk_entry *e,
			 const struct zblk_obj *obj);
int zblk_load_object(struct zblk *z, struct zblk_strm *strm,
		     unsigned long handle, unsigned int size, bool raw,
		     unsigned int whole, void *dst, unsigned int len);
int zblk_load_unit(struct zblk *z, struct zblk_strm *strm,
		   struct zblk_entry *e, void *dst, unsigned int b0,
		   unsigned int b1);

/* split.c */
struct zblk_split;

static inline struct zblk_split *zblk_entry_split_rec(const struct zblk_entry *e)
{
	return (struct zblk_split *)e->handle;
}

void zblk_split_free(struct zblk *z, struct zblk_split *s);
int zblk_split_load(struct zblk *z, struct zblk_strm *strm,
		    struct zblk_split *s, void *dst, unsigned int b0,
		    unsigned int b1);
int zblk_split_store(struct zblk *z, u32 index, unsigned int b0,
		     unsigned int n, const struct zblk_obj *objs, bool lazy);
bool zblk_split_defer(struct zblk *z, u32 index);
void zblk_split_discard(struct zblk *z, struct zblk_entry *e,
			unsigned long mask);
bool zblk_split_move(struct zblk *z, struct zblk_split *s,
		     unsigned long handle);
u64 zblk_split_census(struct zblk *z, const struct zblk_split *s,
		      struct zblk_census *c);
void zblk_pack_queue(struct zblk *z, u32 index);

#endif /* ZBLK_UNIT_H */
