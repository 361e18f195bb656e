// SPDX-License-Identifier: GPL-2.0
/*
 * io.c - zblk's data path: bios, ->rw_page (6.1), swap_slot_free_notify.
 *
 * A bio is cut at unit boundaries; each piece is one unit operation:
 *   - read:  lock the entry; a unit with no object (empty, same-filled) is
 *            unlocked and its fill written into the bio; else the blocks the
 *            piece covers are loaded (an lz4 object decoded only up to the
 *            last of them) straight into the bio's page (a 4K unit read into
 *            a whole page) or into the stream's unit_buf, and the requested
 *            bytes copied out after the entry is unlocked;
 *   - write: a piece that covers the whole unit is compressed and stored
 *            without looking at the old content, then installed under the
 *            entry lock; a piece that covers part of a unit (16K units)
 *            stores each 4K block as an object of its own and the unit
 *            becomes split (zblkdev/split.c, which also packs it again);
 *   - discard / write-zeroes: a whole unit is freed; part of a unit marks its
 *            4K blocks absent (they read as zeroes; the unit is freed once
 *            every block is absent; a split unit's blocks are freed now).
 * A failed write fails its bio and leaves the unit as it was: the new object
 * is allocated before the old one is freed.
 *
 * Locking (the order is in zblk.h): entry lock -> stream -> allocator. The
 * per-CPU stream is taken only to compress or decompress, inside the entry
 * lock or with no entry lock held, and a task that holds a stream never
 * waits for an entry lock: a busy unit delays the I/O to that unit, not every
 * I/O that maps to the waiter's stream. Empty and same-filled units take no
 * stream at all (their fill is checked and written without a buffer).
 * swap_slot_free_notify runs in atomic context and only try-locks; what it
 * cannot lock, zblk_free_work() frees later and takes the entry lock alone.
 *
 * Every write into a bio's page on the read path is followed by
 * flush_dcache_page() (memcpy_to_page() does it itself), as zram and brd do:
 * on architectures with aliasing data caches the page may be mapped at
 * another virtual address by whoever reads it. tests/host/30-dcache-flush.sh
 * checks this file for it.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <linux/bitops.h>
#include <linux/workqueue.h>

#include "zblkdev/zblk.h"
#include "zblkdev/table.h"
#include "zblkdev/unit.h"
#include "alloc/zblk_alloc.h"
#include "crypto/zblk_comp.h"

/**
 * struct zblk_fill - what a unit with no object reads as.
 * @value:  the machine word every present block repeats (0 for an empty unit)
 * @absent: blocks that read as zeroes whatever @value is
 */
struct zblk_fill {
	unsigned long value;
	unsigned long absent;
};

/* Is every machine word of @len bytes at @p equal to @v? */
static bool zblk_words_equal(const unsigned long *p, unsigned int len,
			     unsigned long v)
{
	unsigned int i, n = len / sizeof(*p);

	if (p[0] != v || p[n - 1] != v)
		return false;
	for (i = 1; i < n - 1; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * Is every machine word of the unit's present blocks equal? Absent blocks
 * (bits of @absent) read as zeroes whatever is stored, so they do not count.
 */
static bool zblk_same_filled(const void *src, unsigned int size,
			     unsigned long absent, unsigned long *value)
{
	unsigned int blk, nr_blocks = size / ZBLK_BLOCK_SIZE;
	const unsigned long *w;
	bool first = true;
	unsigned long v = 0;

	for (blk = 0; blk < nr_blocks; blk++) {
		if (absent & BIT(blk))
			continue;
		w = src + blk * ZBLK_BLOCK_SIZE;
		if (first) {
			v = w[0];
			first = false;
		}
		if (!zblk_words_equal(w, ZBLK_BLOCK_SIZE, v))
			return false;
	}
	*value = v;
	return true;
}

/**
 * zblk_bio_same() - is a range of a bio one machine word repeated?
 * @bio: the bio
 * @iter: start of the range (a copy: not advanced)
 * @len: bytes
 * @any: any word will do (else the range must repeat *@value)
 * @value: the word (in if !@any, out on success)
 *
 * A range whose segments are not word-aligned counts as not same-filled (it
 * is then compressed: correct, only not stored as a fill value).
 * Context: any (maps the pages with kmap_local_page()).
 * Return: true if every word of the range is *@value (or, with @any, the
 *	first word).
 */
static bool zblk_bio_same(struct bio *bio, struct bvec_iter iter,
			  unsigned int len, bool any, unsigned long *value)
{
	unsigned long v = any ? 0 : *value;
	bool same = true;

	while (len && same) {
		struct bio_vec bv = bio_iter_iovec(bio, iter);
		unsigned int n = min(len, bv.bv_len);
		const unsigned long *src;

		if ((bv.bv_offset | n) & (sizeof(long) - 1))
			return false;
		src = kmap_local_page(bv.bv_page) + bv.bv_offset;
		if (any) {
			v = src[0];
			any = false;
		}
		same = zblk_words_equal(src, n, v);
		kunmap_local(src);
		bio_advance_iter_single(bio, &iter, n);
		len -= n;
	}
	if (same)
		*value = v;
	return same;
}

/*
 * Write bytes [@pos, +@len) of a unit that reads as @f to @dst: zeroes in
 * absent blocks, else @f->value laid out as memset_l() lays it out.
 */
static void zblk_fill_bytes(void *dst, unsigned int pos, unsigned int len,
			    const struct zblk_fill *f)
{
	while (len) {
		unsigned int n = min(len, ZBLK_BLOCK_SIZE -
					  (pos & (ZBLK_BLOCK_SIZE - 1)));
		unsigned long v = f->absent & BIT(pos >> ZBLK_BLOCK_SHIFT) ?
				  0 : f->value;
		unsigned int i;

		if (!((pos | n | (unsigned long)dst) & (sizeof(long) - 1))) {
			memset_l(dst, v, n / sizeof(long));
		} else {
			const u8 *b = (const u8 *)&v;

			for (i = 0; i < n; i++)
				((u8 *)dst)[i] = b[(pos + i) % sizeof(long)];
		}
		dst += n;
		pos += n;
		len -= n;
	}
}

/* Context: entry locked, no object. What the unit reads as. */
static void zblk_fill_of(struct zblk_entry *e, struct zblk_fill *f)
{
	f->value = zblk_entry_same(e) ? e->handle : 0;
	f->absent = zblk_entry_discarded(e);
}

/*
 * Write bytes [@pos, +@len) of a unit that reads as @f into @bio at @iter,
 * advancing @iter.
 */
static void zblk_fill_bio(struct bio *bio, struct bvec_iter *iter,
			  unsigned int pos, unsigned int len,
			  const struct zblk_fill *f)
{
	while (len) {
		struct bio_vec bv = bio_iter_iovec(bio, *iter);
		unsigned int n = min(len, bv.bv_len);
		void *dst = kmap_local_page(bv.bv_page);

		zblk_fill_bytes(dst + bv.bv_offset, pos, n, f);
		flush_dcache_page(bv.bv_page);
		kunmap_local(dst);
		bio_advance_iter_single(bio, iter, n);
		pos += n;
		len -= n;
	}
}

/**
 * zblk_entry_update() - set a locked entry's handle and flags, and count
 *	the blocks it holds data for (orig_data_size).
 * @z: the device
 * @e: the entry, locked
 * @handle: see zblk_entry_set()
 * @flags: see zblk_entry_set()
 *
 * Every change of what a unit stores, or of which of its blocks are absent,
 * goes through here, so blocks_stored never misses one.
 * Context: entry locked; never sleeps.
 */
void zblk_entry_update(struct zblk *z, struct zblk_entry *e,
		       unsigned long handle, unsigned long flags)
{
	long before = zblk_entry_blocks(z, e);

	zblk_entry_set(e, handle, flags);
	atomic64_add((long)zblk_entry_blocks(z, e) - before,
		     &z->stats.blocks_stored);
}

/*
 * Context: entry locked. Frees the unit's object (or a split unit's
 * objects and record); the entry becomes empty.
 */
void zblk_free_locked(struct zblk *z, struct zblk_entry *e)
{
	if (zblk_entry_split(e)) {
		zblk_split_free(z, zblk_entry_split_rec(e));
	} else if (zblk_entry_same(e)) {
		atomic64_dec(&z->stats.same_units);
	} else if (e->handle) {
		zba_free(z->pool, e->handle);
		atomic64_sub(zblk_entry_size(e), &z->stats.compr_data_size);
		if (zblk_entry_huge(e))
			atomic64_dec(&z->stats.huge_units);
	}
	zblk_entry_update(z, e, 0, 0);
}

/* Context: entry locked. Replaces the unit's content by @obj. */
void zblk_install_locked(struct zblk *z, struct zblk_entry *e,
				const struct zblk_obj *obj)
{
	zblk_free_locked(z, e);
	zblk_entry_update(z, e, obj->handle, obj->flags);
	if (obj->flags & ZBLK_SAME) {
		atomic64_inc(&z->stats.same_units);
		return;
	}
	atomic64_add(obj->flags & ZBLK_SIZE_MASK, &z->stats.compr_data_size);
	if (obj->flags & ZBLK_HUGE) {
		atomic64_inc(&z->stats.huge_units);
		atomic64_inc(&z->stats.huge_units_since);
	}
}

/* Free an object that was made but not installed. Context: any. */
void zblk_drop_obj(struct zblk *z, const struct zblk_obj *obj)
{
	if (!(obj->flags & ZBLK_SAME))
		zba_free(z->pool, obj->handle);
}

/* A same-filled unit: a fill value, no object. */
static void zblk_same_obj(unsigned long value, unsigned long absent,
			  struct zblk_obj *obj)
{
	obj->handle = value;
	obj->flags = ZBLK_SAME | absent << ZBLK_DISC_SHIFT;
}

/* A full device takes writes again once a 64th of its mem_limit is free. */
#define ZBLK_LIMIT_ROOM_SHIFT	6

/*
 * After an allocation: refuse it if the pool is above mem_limit, or if the
 * device is full (@limit_full: the limit refused an allocation) and the
 * pool is not yet a 64th of the limit below it (ZBLK_LIMIT_ROOM_SHIFT);
 * else remember the highest pool size. Return: true if refused.
 *
 * A full device stays full until that much is free, and its writes fail
 * before they compress or allocate (zblk_full()). Lockless: two writers
 * may race on @limit_full, which only moves where the device refuses
 * writes between the limit and the room below it.
 */
static bool zblk_over_limit(struct zblk *z)
{
	unsigned long total = zblk_mem_pages(z);
	unsigned long limit = READ_ONCE(z->limit_pages);
	long cur;

	if (limit) {
		bool full = READ_ONCE(z->limit_full);
		unsigned long room = full ? limit >> ZBLK_LIMIT_ROOM_SHIFT : 0;

		if (total + room > limit) {
			if (!full)
				WRITE_ONCE(z->limit_full, true);
			return true;
		}
		if (full)
			WRITE_ONCE(z->limit_full, false);
	}
	cur = atomic_long_read(&z->stats.max_used_pages);
	while ((long)total > cur &&
	       !atomic_long_try_cmpxchg(&z->stats.max_used_pages, &cur, total))
		;
	return false;
}

/*
 * The device is full (zblk_over_limit()) and has not yet the room to leave
 * that: a write that needs memory fails at once, before it compresses or
 * allocates anything. Reclaim retries failed swap writes page by page, a
 * whole LRU list a pass, even for a killed task: with 16K units each
 * failure cost a raw 4K allocation and a compression, and a killed load
 * stalled at the limit took 31-79 s to leave reclaim (once over 240 s);
 * failing early, the memory cgroup's OOM killer ends such a load instead
 * (tests/guest/67-mem-limit-swap.sh). Context: any.
 */
static bool zblk_full(struct zblk *z)
{
	unsigned long limit = READ_ONCE(z->limit_pages);

	return limit && READ_ONCE(z->limit_full) &&
	       zblk_mem_pages(z) + (limit >> ZBLK_LIMIT_ROOM_SHIFT) > limit;
}

/**
 * zblk_mem_pages() - what the device's data costs the system, in pages.
 * @z: an initialised device
 *
 * The pool's pages and block descriptors, and the records of split units.
 * Context: any.
 * Return: pages.
 */
unsigned long zblk_mem_pages(struct zblk *z)
{
	return zba_mem_pages(z->pool) +
	       DIV_ROUND_UP(atomic64_read(&z->stats.split_bytes), PAGE_SIZE);
}

/* The bytes to compress, mapped read-only (a pointer to const). */
static const void *zblk_src_map(const struct zblk_src *src)
{
	const void *p;

	if (!src->page)
		return src->buf;
	p = kmap_local_page(src->page);
	return p + src->offset;
}

static void zblk_src_unmap(const struct zblk_src *src, const void *p)
{
	if (src->page)
		kunmap_local(p);
}

/*
 * A new object of @size bytes for unit @index, within mem_limit.
 * Context: process context, may sleep (GFP_NOIO).
 * Return: 0, -ENOMEM (no memory or mem_limit reached) or -EIO.
 */
static int zblk_obj_alloc(struct zblk *z, unsigned int size, u32 index,
			  unsigned long *handle)
{
	int ret = zba_alloc(z->pool, size, index, ZBLK_GFP_IO, handle);

	if (ret)
		return ret == -ENOMEM ? -ENOMEM : -EIO;
	if (zblk_over_limit(z)) {
		zba_free(z->pool, *handle);
		return -ENOMEM;
	}
	return 0;
}

/**
 * zblk_make_obj() - compress a unit or one 4K block into a new object.
 * @z: the device
 * @strm: a stream the caller holds
 * @index: the unit (recorded as the object's owner)
 * @src: the bytes: a whole unit (absent blocks zeroed) or one block
 * @absent: blocks of the unit that hold no data (0 for a block)
 * @obj: on success, what to install (absent blocks included)
 *
 * Same-filled bytes need no object; bytes that do not compress below
 * zba_huge_size() (a unit) or below their own size (a block) are stored raw.
 * Context: process context, may sleep (allocates with GFP_NOIO). The entry
 *	may or may not be locked by the caller.
 * Return: 0, -ENOMEM (no memory or mem_limit reached) or -EIO.
 */
int zblk_make_obj(struct zblk *z, struct zblk_strm *strm, u32 index,
		  const struct zblk_src *src, unsigned long absent,
		  struct zblk_obj *obj)
{
	unsigned int raw = src->len == z->unit_size ? zba_huge_size(z->pool) :
						       src->len;
	unsigned long handle, value, disc = absent << ZBLK_DISC_SHIFT;
	const void *p = zblk_src_map(src);
	unsigned int clen = 0, size;
	int ret;

	if (zblk_same_filled(p, src->len, absent, &value)) {
		zblk_src_unmap(src, p);
		zblk_same_obj(value, absent, obj);
		return 0;
	}
	if (zblk_full(z)) {
		zblk_src_unmap(src, p);
		return -ENOMEM;
	}
	ret = zblk_compress(z->comp, strm, p, src->len, &clen);
	zblk_src_unmap(src, p);
	size = clen;
	if (ret || clen >= raw)
		size = src->len;

	ret = zblk_obj_alloc(z, size, index, &handle);
	if (ret)
		return ret;

	if (size == src->len) {
		p = zblk_src_map(src);
		zba_write(z->pool, handle, p, size);
		zblk_src_unmap(src, p);
		obj->flags = size | ZBLK_HUGE | disc;
	} else {
		zba_write(z->pool, handle, strm->buffer, size);
		obj->flags = size | disc;
	}
	obj->handle = handle;
	return 0;
}

/**
 * zblk_load_object() - the first @len bytes of what an object holds.
 * @z: the device
 * @strm: a stream the caller holds
 * @handle: the object
 * @size: its size
 * @raw: it holds its bytes uncompressed
 * @whole: bytes it holds: unit_size (a unit's object) or ZBLK_BLOCK_SIZE
 * @dst: where to put them: @whole bytes (a backend that cannot stop early
 *	writes all of them)
 * @len: bytes wanted, a multiple of ZBLK_BLOCK_SIZE up to @whole; lz4
 *	decodes no more than that
 *
 * Context: the owning entry locked (so compaction cannot move the object),
 *	@strm held; does not sleep.
 * Return: 0 or -EIO (the object does not decompress).
 */
int zblk_load_object(struct zblk *z, struct zblk_strm *strm,
		     unsigned long handle, unsigned int size, bool raw,
		     unsigned int whole, void *dst, unsigned int len)
{
	const void *src;
	int ret = 0;

	src = zba_read_begin(z->pool, handle, size, strm->local_copy);
	if (raw)
		memcpy(dst, src, len);
	else if (len == whole)
		ret = zblk_decompress(z->comp, strm, src, size, dst, whole);
	else
		ret = zblk_decompress_head(z->comp, strm, src, size, dst, len);
	zba_read_end(z->pool, handle, src);
	return ret;
}

/**
 * zblk_load_unit() - blocks [@b0, @b1) of a locked unit that holds objects.
 * @z: the device
 * @strm: a stream the caller holds
 * @e: the entry, locked by the caller; it holds an object (or is split)
 * @dst: unit_size bytes, mapped; blocks [@b0, @b1) are filled in (absent
 *	ones with zeroes); the other blocks may be overwritten
 * @b0: first block wanted
 * @b1: block after the last one wanted
 *
 * An lz4 object is decoded only up to block @b1.
 * Context: entry locked, @strm held; does not sleep.
 * Return: 0 or -EIO (an object does not decompress).
 */
int zblk_load_unit(struct zblk *z, struct zblk_strm *strm,
		   struct zblk_entry *e, void *dst, unsigned int b0,
		   unsigned int b1)
{
	unsigned long disc = zblk_entry_discarded(e);
	unsigned int bit;
	int ret;

	if (zblk_entry_split(e))
		return zblk_split_load(z, strm, zblk_entry_split_rec(e), dst,
				       b0, b1);
	ret = zblk_load_object(z, strm, e->handle, zblk_entry_size(e),
			       zblk_entry_huge(e), z->unit_size, dst,
			       b1 << ZBLK_BLOCK_SHIFT);
	for_each_set_bit(bit, &disc, b1)
		memset(dst + bit * ZBLK_BLOCK_SIZE, 0, ZBLK_BLOCK_SIZE);
	return ret;
}

/* Copy @len bytes between @buf and the bio at @iter, advancing @iter. */
static void zblk_copy_from_bio(void *buf, struct bio *bio,
			       struct bvec_iter *iter, unsigned int len)
{
	while (len) {
		struct bio_vec bv = bio_iter_iovec(bio, *iter);
		unsigned int n = min(len, bv.bv_len);

		memcpy_from_page(buf, bv.bv_page, bv.bv_offset, n);
		bio_advance_iter_single(bio, iter, n);
		buf += n;
		len -= n;
	}
}

/* memcpy_to_page() flushes the page's data cache after the copy. */
static void zblk_copy_to_bio(struct bio *bio, struct bvec_iter *iter,
			     const void *buf, unsigned int len)
{
	while (len) {
		struct bio_vec bv = bio_iter_iovec(bio, *iter);
		unsigned int n = min(len, bv.bv_len);

		memcpy_to_page(bv.bv_page, bv.bv_offset, buf, n);
		bio_advance_iter_single(bio, iter, n);
		buf += n;
		len -= n;
	}
}

/* 4K blocks of a unit covered by [@off, +@len), as a mask. */
static unsigned long zblk_block_mask(unsigned int off, unsigned int len)
{
	return GENMASK((off + len) / ZBLK_BLOCK_SIZE - 1, off / ZBLK_BLOCK_SIZE);
}

/* A 4K unit covered by one whole, page-aligned segment: no bounce buffer. */
static struct page *zblk_whole_page(struct zblk *z, struct bio *bio,
				    struct bvec_iter *iter, unsigned int off,
				    unsigned int len)
{
	struct bio_vec bv;

	if (z->unit_size != PAGE_SIZE || off || len != PAGE_SIZE)
		return NULL;
	bv = bio_iter_iovec(bio, *iter);
	if (bv.bv_offset || bv.bv_len != PAGE_SIZE)
		return NULL;
	return bv.bv_page;
}

/**
 * zblk_read_cached() - blocks [0, @b1) of a locked one-object unit, in the
 *	stream's cache_buf.
 * @z: the device
 * @strm: a stream the caller holds (its cache_buf is this CPU's last unit)
 * @e: the entry, locked; it holds one object (not split)
 * @index: its unit
 * @b1: block after the last one wanted
 *
 * The cache is keyed by the unit and its generation, which moves on with
 * every change of the unit's content, so a stale copy is never used and
 * nothing needs invalidating. A miss decodes up to block @b1 (lz4), a unit
 * read again while still cached is decoded whole: swap-in and sequential
 * reads then decode each unit once, random reads no more than they need.
 * Context: entry locked, @strm held; does not sleep.
 * Return: 0 or -EIO (the object does not decompress).
 */
static int zblk_read_cached(struct zblk *z, struct zblk_strm *strm,
			    struct zblk_entry *e, u32 index, unsigned int b1)
{
	u64 key = (u64)zblk_entry_gen(e) << 32 | index;
	unsigned int len = b1 << ZBLK_BLOCK_SHIFT;
	int ret;

	if (strm->cache_len && strm->cache_key == key) {
		if (strm->cache_len >= len) {
			atomic64_inc(&z->stats.read_cache_hits);
			return 0;
		}
		len = z->unit_size;
	}
	if (!zblk_comp_stops_early(z->comp))
		len = z->unit_size;
	strm->cache_len = 0;
	ret = zblk_load_unit(z, strm, e, strm->cache_buf, 0,
			     len >> ZBLK_BLOCK_SHIFT);
	if (ret)
		return ret;
	strm->cache_key = key;
	strm->cache_len = len;
	return 0;
}

/**
 * zblk_read_piece() - read [@off, +@len) of unit @index into @bio.
 * @z: the device
 * @bio: the bio
 * @iter: position in @bio; advanced by @len on success
 * @index: the unit
 * @off: offset of the piece in the unit
 * @len: length of the piece
 *
 * A unit with no object is unlocked before its fill is written to the bio,
 * and takes no stream. Else the stream is taken under the entry lock, the
 * blocks the piece covers are loaded into the bio's page (a whole 4K unit
 * in one page-aligned segment), or found in or loaded into the stream's
 * cache of its last unit (zblk_read_cached()), or for a split unit loaded
 * into its unit_buf; the entry is unlocked and the bytes asked for copied
 * out.
 * Context: process context, may sleep.
 * Return: 0 or -EIO (the object does not decompress).
 */
static int zblk_read_piece(struct zblk *z, struct bio *bio,
			   struct bvec_iter *iter, u32 index,
			   unsigned int off, unsigned int len)
{
	struct page *page = zblk_whole_page(z, bio, iter, off, len);
	unsigned int b0 = off >> ZBLK_BLOCK_SHIFT;
	unsigned int b1 = (off + len) >> ZBLK_BLOCK_SHIFT;
	struct zblk_entry *e = &z->table[index];
	struct zblk_strm *strm;
	struct zblk_fill f;
	void *dst, *buf;
	int ret;

	zblk_entry_lock(e);
	if (!zblk_entry_allocated(e)) {
		zblk_fill_of(e, &f);
		zblk_entry_unlock(e);
		zblk_fill_bio(bio, iter, off, len, &f);
		return 0;
	}
	strm = zblk_strm_get(z->comp);
	buf = strm->unit_buf;
	if (page) {
		dst = kmap_local_page(page);
		ret = zblk_load_unit(z, strm, e, dst, b0, b1);
		flush_dcache_page(page);
		kunmap_local(dst);
	} else if (!zblk_entry_split(e)) {
		ret = zblk_read_cached(z, strm, e, index, b1);
		buf = strm->cache_buf;
	} else {
		ret = zblk_load_unit(z, strm, e, buf, b0, b1);
	}
	zblk_entry_unlock(e);
	if (!ret && page)
		bio_advance_iter_single(bio, iter, len);
	else if (!ret)
		zblk_copy_to_bio(bio, iter, buf + off, len);
	zblk_strm_put(z->comp, strm);
	if (ret)
		pr_err_ratelimited("%s: unit %u does not decompress\n",
				   z->disk->disk_name, index);
	return ret;
}

/**
 * zblk_write_whole() - replace a whole unit.
 * @z: the device
 * @bio: the bio
 * @iter: position in @bio; advanced by unit_size on success
 * @index: the unit
 * @page: the unit's page (a 4K unit in one page-aligned segment), or NULL
 *
 * A same-filled unit is checked in the bio and takes no stream. Else the
 * unit is compressed (gathered first into the stream's unit_buf unless it is
 * @page) and stored in a new object, the stream given back, and only then the
 * entry locked to swap the objects, so readers of the unit wait only for that.
 * Context: process context, may sleep.
 * Return: 0, or a negative errno with the unit unchanged.
 */
static int zblk_write_whole(struct zblk *z, struct bio *bio,
			    struct bvec_iter *iter, u32 index,
			    struct page *page)
{
	struct zblk_src src = { .page = page, .len = z->unit_size };
	struct zblk_entry *e = &z->table[index];
	struct zblk_strm *strm;
	struct zblk_obj obj;
	struct bvec_iter it;
	unsigned long value;
	int ret = 0;

	if (zblk_bio_same(bio, *iter, z->unit_size, true, &value)) {
		zblk_same_obj(value, 0, &obj);
	} else {
		strm = zblk_strm_get(z->comp);
		if (!page) {
			it = *iter;
			zblk_copy_from_bio(strm->unit_buf, bio, &it,
					   z->unit_size);
			src.buf = strm->unit_buf;
		}
		ret = zblk_make_obj(z, strm, index, &src, 0, &obj);
		zblk_strm_put(z->comp, strm);
		if (ret)
			return ret;
	}
	zblk_entry_lock(e);
	zblk_install_locked(z, e, &obj);
	zblk_entry_unlock(e);
	bio_advance_iter(bio, iter, z->unit_size);
	return 0;
}

/**
 * zblk_block_obj() - compress the 4K block at @iter into a new object.
 * @z: the device
 * @bio: the bio
 * @iter: position of the block in @bio (not advanced)
 * @index: the block's unit
 * @obj: on success, the block's object or fill value
 *
 * A block in one page is compressed in place; one that spans segments is
 * gathered into the stream's unit_buf first. A same-filled block takes no
 * stream.
 * Context: process context, may sleep; no entry lock held.
 * Return: 0, -ENOMEM or -EIO.
 */
static int zblk_block_obj(struct zblk *z, struct bio *bio,
			  struct bvec_iter iter, u32 index,
			  struct zblk_obj *obj)
{
	struct bio_vec bv = bio_iter_iovec(bio, iter);
	struct zblk_src src = { .len = ZBLK_BLOCK_SIZE };
	struct zblk_strm *strm;
	unsigned long value;
	int ret;

	if (zblk_bio_same(bio, iter, ZBLK_BLOCK_SIZE, true, &value)) {
		zblk_same_obj(value, 0, obj);
		return 0;
	}
	strm = zblk_strm_get(z->comp);
	if (bv.bv_len >= ZBLK_BLOCK_SIZE) {
		src.page = bv.bv_page;
		src.offset = bv.bv_offset;
	} else {
		zblk_copy_from_bio(strm->unit_buf, bio, &iter, ZBLK_BLOCK_SIZE);
		src.buf = strm->unit_buf;
	}
	ret = zblk_make_obj(z, strm, index, &src, 0, obj);
	zblk_strm_put(z->comp, strm);
	return ret;
}

/**
 * zblk_block_raw() - store the 4K block at @iter as it is, uncompressed.
 * @z: the device
 * @bio: the bio
 * @iter: position of the block in @bio (not advanced)
 * @index: the block's unit
 * @obj: on success, the block's raw object or fill value
 *
 * For a block the packer will compress with the rest of its unit
 * (zblk_split_defer()): the write costs a copy, not a compression. A block
 * that spans segments is compressed as usual instead (it would need a
 * stream's buffer to be gathered anyway), and so is one that finds no room
 * raw (no memory, or mem_limit reached): compressed, it may still fit.
 * Context: process context, may sleep; no entry lock held.
 * Return: 0, -ENOMEM or -EIO.
 */
static int zblk_block_raw(struct zblk *z, struct bio *bio,
			  struct bvec_iter iter, u32 index,
			  struct zblk_obj *obj)
{
	struct bio_vec bv = bio_iter_iovec(bio, iter);
	unsigned long value;
	const void *p;
	int ret;

	if (bv.bv_len < ZBLK_BLOCK_SIZE)
		return zblk_block_obj(z, bio, iter, index, obj);
	if (zblk_bio_same(bio, iter, ZBLK_BLOCK_SIZE, true, &value)) {
		zblk_same_obj(value, 0, obj);
		return 0;
	}
	if (zblk_full(z))
		return -ENOMEM;
	ret = zblk_obj_alloc(z, ZBLK_BLOCK_SIZE, index, &obj->handle);
	if (ret == -ENOMEM)
		return zblk_block_obj(z, bio, iter, index, obj);
	if (ret)
		return ret;
	p = kmap_local_page(bv.bv_page);
	zba_write(z->pool, obj->handle, p + bv.bv_offset, ZBLK_BLOCK_SIZE);
	kunmap_local(p);
	obj->flags = ZBLK_BLOCK_SIZE | ZBLK_HUGE;
	return 0;
}

/**
 * zblk_write_blocks() - write part of a 16K unit, block by block.
 * @z: the device
 * @bio: the bio
 * @iter: position in @bio; advanced by @len on success
 * @index: the unit
 * @off: offset of the written range in the unit
 * @len: length of the written range (less than unit_size)
 *
 * Each 4K block is compressed into an object of its own with no entry lock
 * held, then all of them are put into the unit at once under the entry
 * lock (zblk_split_store()): no read-modify-write, whatever the unit held.
 * The packer stores the unit as one object again later (zblkdev/split.c).
 * Context: process context, may sleep.
 * Return: 0, or a negative errno with the unit unchanged.
 */
static int zblk_write_blocks(struct zblk *z, struct bio *bio,
			     struct bvec_iter *iter, u32 index,
			     unsigned int off, unsigned int len)
{
	struct zblk_obj objs[ZBLK_UNIT_BLOCKS_MAX];
	unsigned int i, n = len >> ZBLK_BLOCK_SHIFT;
	bool defer = zblk_split_defer(z, index);
	struct bvec_iter it = *iter;
	int ret = 0;

	atomic64_inc(&z->stats.partial_writes);
	for (i = 0; i < n; i++) {
		if (defer)
			ret = zblk_block_raw(z, bio, it, index, &objs[i]);
		else
			ret = zblk_block_obj(z, bio, it, index, &objs[i]);
		if (ret)
			goto drop;
		bio_advance_iter(bio, &it, ZBLK_BLOCK_SIZE);
	}
	ret = zblk_split_store(z, index, off >> ZBLK_BLOCK_SHIFT, n, objs,
			       defer);
	if (ret)
		goto drop;
	atomic64_add(n, &z->stats.split_blocks);
	*iter = it;
	return 0;
drop:
	while (i--)
		zblk_drop_obj(z, &objs[i]);
	return ret;
}

/*
 * Forget the missed swap frees of the 4K blocks in [@pos, +@len): they are
 * being rewritten. Called before the new data is installed, so @free_work,
 * which tests the bit under the entry lock, never frees the new data.
 * Context: any.
 */
static void zblk_pending_clear(struct zblk *z, u64 pos, unsigned int len)
{
	unsigned long b = pos >> ZBLK_BLOCK_SHIFT;
	unsigned long end = b + (len >> ZBLK_BLOCK_SHIFT);

	for (; b < end; b++)
		if (test_bit(b, z->free_pending))
			clear_bit(b, z->free_pending);
}

/**
 * zblk_piece() - read or write the part of a bio that falls in one unit.
 * @z: the device
 * @bio: the bio
 * @iter: position in @bio; advanced by @len
 * @index: the unit
 * @off: offset of the piece in the unit
 * @len: length of the piece
 * @write: write the piece (else read it)
 *
 * Context: process context, may sleep.
 * Return: 0, or a negative errno (a failed write leaves the unit unchanged).
 */
static int zblk_piece(struct zblk *z, struct bio *bio, struct bvec_iter *iter,
		      u32 index, unsigned int off, unsigned int len, bool write)
{
	if (!write)
		return zblk_read_piece(z, bio, iter, index, off, len);
	/* A write supersedes a swap free of these blocks not done yet. */
	zblk_pending_clear(z, ((u64)index << z->unit_shift) + off, len);
	if (len == z->unit_size)
		return zblk_write_whole(z, bio, iter, index,
					zblk_whole_page(z, bio, iter, off,
							len));
	return zblk_write_blocks(z, bio, iter, index, off, len);
}

/* Is [@sector, +@size) inside the device and 4K aligned? */
static bool zblk_valid_io(struct zblk *z, sector_t sector, unsigned int size)
{
	u64 start = (u64)sector << SECTOR_SHIFT;

	if (!READ_ONCE(z->table))
		return false;
	if ((start | size) & (ZBLK_BLOCK_SIZE - 1))
		return false;
	return start <= z->disksize && size <= z->disksize - start;
}

/**
 * zblk_rw() - read or write the data of @bio.
 * @z: the device
 * @bio: a read or write bio, already checked with zblk_valid_io()
 * @count: count failures in io_stat (false when the caller will retry)
 *
 * Stops at the first unit that fails; earlier units stay written.
 * Context: process context, may sleep.
 * Return: BLK_STS_OK, BLK_STS_IOERR or BLK_STS_RESOURCE-like errors mapped
 *	to BLK_STS_IOERR.
 */
static blk_status_t zblk_rw(struct zblk *z, struct bio *bio, bool count)
{
	bool write = op_is_write(bio_op(bio));
	struct bvec_iter iter = bio->bi_iter;
	u64 pos = (u64)iter.bi_sector << SECTOR_SHIFT;
	unsigned int left = iter.bi_size;
	int ret = 0;

	while (left) {
		u32 index = pos >> z->unit_shift;
		unsigned int off = pos & (z->unit_size - 1);
		unsigned int len = min(left, z->unit_size - off);

		ret = zblk_piece(z, bio, &iter, index, off, len, write);
		if (ret)
			break;
		pos += len;
		left -= len;
	}
	if (!ret)
		return BLK_STS_OK;
	if (count)
		atomic64_inc(write ? &z->stats.failed_writes :
				     &z->stats.failed_reads);
	return BLK_STS_IOERR;
}

/**
 * zblk_discard_locked() - discard [@off, +@len) of a locked unit.
 * @z: the device
 * @e: the entry, locked
 * @index: its unit
 * @off: offset in the unit, 4K aligned
 * @len: length, 4K aligned
 *
 * A unit left with blocks nobody reads is handed to the packer.
 * Context: any (never sleeps).
 */
static void zblk_discard_locked(struct zblk *z, struct zblk_entry *e,
				u32 index, unsigned int off, unsigned int len)
{
	unsigned long mask;
	long before;

	if (!zblk_entry_stored(e))
		return;
	if (len == z->unit_size) {
		zblk_free_locked(z, e);
		return;
	}
	atomic64_inc(&z->stats.partial_discards);
	mask = zblk_block_mask(off, len);
	if (zblk_entry_split(e)) {
		zblk_split_discard(z, e, mask);
	} else {
		mask |= zblk_entry_discarded(e);
		if (mask == zblk_all_blocks(z)) {
			zblk_free_locked(z, e);
			return;
		}
		before = zblk_entry_blocks(z, e);
		zblk_entry_set_discarded(e, mask);
		atomic64_add((long)zblk_entry_blocks(z, e) - before,
			     &z->stats.blocks_stored);
	}
	/* The unit may now be worth compressing again (split.c). */
	if (zblk_entry_stored(e))
		zblk_pack_queue(z, index);
}

/*
 * Discard and write-zeroes: both leave the range reading as zeroes.
 * Context: process context, may sleep.
 */
static blk_status_t zblk_discard(struct zblk *z, struct bio *bio)
{
	u64 pos = (u64)bio->bi_iter.bi_sector << SECTOR_SHIFT;
	unsigned int left = bio->bi_iter.bi_size;

	while (left) {
		u32 index = pos >> z->unit_shift;
		unsigned int off = pos & (z->unit_size - 1);
		unsigned int len = min(left, z->unit_size - off);
		struct zblk_entry *e = &z->table[index];

		zblk_entry_lock(e);
		zblk_discard_locked(z, e, index, off, len);
		zblk_entry_unlock(e);
		pos += len;
		left -= len;
		cond_resched();
	}
	return BLK_STS_OK;
}

/**
 * zblk_submit_bio() - the block layer's entry point for every bio.
 * @bio: the bio; completed before return
 *
 * Context: process context (the submitter's), may sleep.
 */
void zblk_submit_bio(struct bio *bio)
{
	struct zblk *z = bio->bi_bdev->bd_disk->private_data;
	blk_status_t status = BLK_STS_OK;
	unsigned long start;

	switch (bio_op(bio)) {
	case REQ_OP_READ:
	case REQ_OP_WRITE:
	case REQ_OP_DISCARD:
	case REQ_OP_WRITE_ZEROES:
		if (!zblk_valid_io(z, bio->bi_iter.bi_sector,
				   bio->bi_iter.bi_size)) {
			atomic64_inc(&z->stats.invalid_io);
			status = BLK_STS_IOERR;
			break;
		}
		/* /proc/diskstats and iostat see every bio, as with zram. */
		start = bio_start_io_acct(bio);
		if (bio_op(bio) == REQ_OP_DISCARD ||
		    bio_op(bio) == REQ_OP_WRITE_ZEROES)
			status = zblk_discard(z, bio);
		else
			status = zblk_rw(z, bio, true);
		bio_end_io_acct(bio, start);
		break;
	case REQ_OP_FLUSH:
		break;
	default:
		status = BLK_STS_NOTSUPP;
		break;
	}
	bio->bi_status = status;
	bio_endio(bio);
}

/**
 * zblk_rw_page() - read or write one page without a bio (6.1 ->rw_page).
 * @z: the device
 * @sector: first sector
 * @page: the page
 * @is_write: direction
 *
 * Failures are not counted: the caller retries the page with a bio, which
 * counts them.
 * Context: process context, may sleep.
 * Return: 0 or a negative errno.
 */
int zblk_rw_page(struct zblk *z, sector_t sector, struct page *page,
		 bool is_write)
{
	struct bio_vec bvec;
	struct bio bio;
	blk_status_t status;

	if (!zblk_valid_io(z, sector, PAGE_SIZE))
		return -EINVAL;
	bio_init(&bio, NULL, &bvec, 1, is_write ? REQ_OP_WRITE : REQ_OP_READ);
	bio.bi_iter.bi_sector = sector;
	__bio_add_page(&bio, page, PAGE_SIZE, 0);
	status = zblk_rw(z, &bio, false);
	bio_uninit(&bio);
	return blk_status_to_errno(status);
}

/*
 * Record a swap free that found its unit locked: mark its 4K blocks in
 * free_pending and let free_work free them. Context: atomic.
 */
static void zblk_defer_free(struct zblk *z, u64 pos, unsigned int len)
{
	unsigned long b = pos >> ZBLK_BLOCK_SHIFT;
	unsigned long end = b + (len >> ZBLK_BLOCK_SHIFT);

	for (; b < end; b++)
		set_bit(b, z->free_pending);
	atomic64_inc(&z->stats.miss_free);
	/* Orders the bits before the work runs (queue_work() is a barrier). */
	queue_work(system_unbound_wq, &z->free_work);
}

/**
 * zblk_slot_free_notify() - swap no longer needs the page at @index.
 * @bdev: the block device
 * @index: swap slot, in pages from the start of the device
 *
 * Frees every unit the page covers entirely (a page holds several 4K units
 * on kernels with 16K pages) and marks the page's blocks absent in a larger
 * unit (16K units on 4K pages; the unit is freed once all of it is absent).
 * The caller holds the swap lock, so entries are only try-locked; a miss
 * (counted in debug_stat miss_free) records the blocks in free_pending and
 * zblk_free_work() frees them soon after (counted in retried_free), unless
 * the slot is rewritten first.
 * Context: atomic.
 */
void zblk_slot_free_notify(struct block_device *bdev, unsigned long index)
{
	struct zblk *z = bdev->bd_disk->private_data;
	u64 pos = (u64)index << PAGE_SHIFT;
	u64 end = pos + PAGE_SIZE;

	atomic64_inc(&z->stats.notify_free);
	if (!READ_ONCE(z->table) || end > z->disksize)
		return;
	while (pos < end) {
		u32 index = pos >> z->unit_shift;
		struct zblk_entry *e = &z->table[index];
		unsigned int off = pos & (z->unit_size - 1);
		unsigned int len = min_t(u64, end - pos, z->unit_size - off);

		if (zblk_entry_trylock(e)) {
			zblk_discard_locked(z, e, index, off, len);
			zblk_entry_unlock(e);
		} else {
			zblk_defer_free(z, pos, len);
		}
		pos += len;
	}
}

/**
 * zblk_free_work() - free the blocks whose swap free found them locked.
 * @work: the device's free_work
 *
 * Takes each pending block's entry lock (sleeping if need be), and frees
 * the block if it is still pending: a write of the block since cleared its
 * bit, and the write's data stays.
 * Context: process context (workqueue), may sleep. Runs only while the
 * device is initialised: reset cancels it before freeing the table.
 */
void zblk_free_work(struct work_struct *work)
{
	struct zblk *z = container_of(work, struct zblk, free_work);
	unsigned long nbits = z->disksize >> ZBLK_BLOCK_SHIFT, b;

	for_each_set_bit(b, z->free_pending, nbits) {
		u64 pos = (u64)b << ZBLK_BLOCK_SHIFT;
		u32 index = pos >> z->unit_shift;
		struct zblk_entry *e = &z->table[index];

		/* The entry lock orders this with writes of the block. */
		zblk_entry_lock(e);
		if (test_and_clear_bit(b, z->free_pending)) {
			zblk_discard_locked(z, e, index,
					    pos & (z->unit_size - 1),
					    ZBLK_BLOCK_SIZE);
			atomic64_inc(&z->stats.retried_free);
		}
		zblk_entry_unlock(e);
		cond_resched();
	}
}
