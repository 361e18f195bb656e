// SPDX-License-Identifier: GPL-2.0
/*
 * io.c - zblk's data path: bios, ->rw_page (6.1), swap_slot_free_notify.
 *
 * A bio is cut at unit boundaries; each piece is one unit operation:
 *   - read:  load the unit (decompress, copy a raw unit, or fill), then copy
 *            the requested bytes out; a 4K unit read into a whole page is
 *            decompressed straight into the page;
 *   - write: a piece that covers the whole unit is compressed and stored
 *            without looking at the old content; a piece that covers part of
 *            a unit (16K units) is a read-modify-write under the entry lock,
 *            and the unit's blocks never written stay marked absent;
 *   - discard / write-zeroes: a whole unit is freed; part of a unit marks its
 *            4K blocks absent (they read as zeroes; the unit is freed once
 *            every block is absent).
 * A failed write leaves the unit as it was.
 *
 * Lock order (outermost first): compression stream (per-CPU mutex) ->
 * table entry bit lock -> allocator spinlocks. Every piece of a read or a
 * write takes the stream first: it holds the unit-sized buffer that partial
 * and 16K units are gathered in, so no buffer is allocated per I/O.
 * swap_slot_free_notify runs in atomic context and only try-locks; what it
 * cannot lock, zblk_free_work() frees later and takes the entry lock alone.
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
#include "alloc/zblk_alloc.h"
#include "crypto/zblk_comp.h"

/* GFP for objects on the I/O path: may reclaim, never starts I/O. */
#define ZBLK_GFP_IO	(GFP_NOIO | __GFP_NOWARN)

/**
 * struct zblk_obj - a unit's new content, ready to be put into an entry.
 * @handle: allocator handle or fill value
 * @flags:  entry flags (size, SAME or HUGE)
 */
struct zblk_obj {
	unsigned long handle;
	unsigned long flags;
};

/*
 * Is every machine word of the unit's present blocks equal? Absent blocks
 * (bits of @absent) read as zeroes whatever is stored, so they do not count.
 */
static bool zblk_same_filled(const void *src, unsigned int size,
			     unsigned long absent, unsigned long *value)
{
	const unsigned int words = ZBLK_BLOCK_SIZE / sizeof(unsigned long);
	unsigned int blk, i, nr_blocks = size / ZBLK_BLOCK_SIZE;
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
		if (w[0] != v || w[words - 1] != v)
			return false;
		for (i = 1; i < words - 1; i++)
			if (w[i] != v)
				return false;
	}
	*value = v;
	return true;
}

/* Context: entry locked. Frees the unit's object; the entry becomes empty. */
static void zblk_free_locked(struct zblk *z, struct zblk_entry *e)
{
	if (zblk_entry_same(e)) {
		atomic64_dec(&z->stats.same_units);
		atomic64_dec(&z->stats.units_stored);
	} else if (e->handle) {
		zba_free(z->pool, e->handle);
		atomic64_sub(zblk_entry_size(e), &z->stats.compr_data_size);
		if (zblk_entry_huge(e))
			atomic64_dec(&z->stats.huge_units);
		atomic64_dec(&z->stats.units_stored);
	}
	zblk_entry_set(e, 0, 0);
}

/* Context: entry locked. Replaces the unit's content by @obj. */
static void zblk_install_locked(struct zblk *z, struct zblk_entry *e,
				const struct zblk_obj *obj)
{
	zblk_free_locked(z, e);
	zblk_entry_set(e, obj->handle, obj->flags);
	atomic64_inc(&z->stats.units_stored);
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

/*
 * After an allocation: refuse it if the pool is above mem_limit, else
 * remember the highest pool size. Return: true if over the limit.
 */
static bool zblk_over_limit(struct zblk *z)
{
	unsigned long total = zba_mem_pages(z->pool);
	unsigned long limit = READ_ONCE(z->limit_pages);
	long cur;

	if (limit && total > limit)
		return true;
	cur = atomic_long_read(&z->stats.max_used_pages);
	while ((long)total > cur &&
	       !atomic_long_try_cmpxchg(&z->stats.max_used_pages, &cur, total))
		;
	return false;
}

/**
 * zblk_make_obj() - compress one unit and store it in a new object.
 * @z: the device
 * @strm: a stream the caller holds
 * @index: the unit (recorded as the object's owner)
 * @page: the unit's page (4K units), or NULL
 * @buf: the unit's bytes if @page is NULL (absent blocks zeroed)
 * @absent: blocks of the unit that hold no data
 * @obj: on success, what to install in the entry (absent blocks included)
 *
 * Same-filled units need no object; units that do not compress below
 * zba_huge_size() are stored raw.
 * Context: process context, may sleep (allocates with GFP_NOIO). The entry
 *	may or may not be locked by the caller.
 * Return: 0, -ENOMEM (no memory or mem_limit reached) or -EIO.
 */
static int zblk_make_obj(struct zblk *z, struct zblk_strm *strm, u32 index,
			 struct page *page, const void *buf,
			 unsigned long absent, struct zblk_obj *obj)
{
	const void *src = page ? kmap_local_page(page) : buf;
	unsigned long handle, value, disc = absent << ZBLK_DISC_SHIFT;
	unsigned int clen = 0, size;
	int ret;

	if (zblk_same_filled(src, z->unit_size, absent, &value)) {
		if (page)
			kunmap_local(src);
		obj->handle = value;
		obj->flags = ZBLK_SAME | disc;
		return 0;
	}
	ret = zblk_compress(z->comp, strm, src, &clen);
	if (page)
		kunmap_local(src);
	size = clen;
	if (ret || clen >= zba_huge_size(z->pool))
		size = z->unit_size;

	ret = zba_alloc(z->pool, size, index, ZBLK_GFP_IO, &handle);
	if (ret)
		return ret == -ENOMEM ? -ENOMEM : -EIO;
	if (zblk_over_limit(z)) {
		zba_free(z->pool, handle);
		return -ENOMEM;
	}

	if (size == z->unit_size) {
		src = page ? kmap_local_page(page) : buf;
		zba_write(z->pool, handle, src, size);
		if (page)
			kunmap_local(src);
		obj->flags = size | ZBLK_HUGE | disc;
	} else {
		zba_write(z->pool, handle, strm->buffer, size);
		obj->flags = size | disc;
	}
	obj->handle = handle;
	return 0;
}

/**
 * zblk_load_locked() - produce a whole unit's bytes.
 * @z: the device
 * @strm: a stream the caller holds (used only when the entry holds an object)
 * @e: the entry, locked by the caller
 * @dst: unit_size bytes, mapped
 *
 * Context: entry locked; does not sleep.
 * Return: 0 or -EIO (the object does not decompress).
 */
static int zblk_load_locked(struct zblk *z, struct zblk_strm *strm,
			    struct zblk_entry *e, void *dst)
{
	unsigned long disc = zblk_entry_discarded(e);
	unsigned int bit;
	int ret = 0;

	if (zblk_entry_same(e)) {
		memset_l(dst, e->handle, z->unit_size / sizeof(unsigned long));
	} else if (!e->handle) {
		memset(dst, 0, z->unit_size);
	} else {
		unsigned int size = zblk_entry_size(e);
		const void *src = zba_read_begin(z->pool, e->handle, size,
						 strm->local_copy);

		if (zblk_entry_huge(e))
			memcpy(dst, src, z->unit_size);
		else
			ret = zblk_decompress(z->comp, strm, src, size, dst);
		zba_read_end(z->pool, e->handle, src);
	}
	for_each_set_bit(bit, &disc, ZBLK_DISC_BITS)
		memset(dst + bit * ZBLK_BLOCK_SIZE, 0, ZBLK_BLOCK_SIZE);
	return ret;
}

/**
 * zblk_load() - read a whole unit into a page or a buffer.
 * @z: the device
 * @strm: a stream the caller holds
 * @index: the unit
 * @page: destination page (4K units), or NULL
 * @buf: destination buffer (unit_size bytes) if @page is NULL
 *
 * Context: process context, may sleep.
 * Return: 0 or -EIO.
 */
static int zblk_load(struct zblk *z, struct zblk_strm *strm, u32 index,
		     struct page *page, void *buf)
{
	struct zblk_entry *e = &z->table[index];
	void *dst;
	int ret;

	zblk_entry_lock(e);
	dst = page ? kmap_local_page(page) : buf;
	ret = zblk_load_locked(z, strm, e, dst);
	if (page)
		kunmap_local(dst);
	zblk_entry_unlock(e);
	if (ret)
		pr_err_ratelimited("%s: unit %u does not decompress\n",
				   z->disk->disk_name, index);
	return ret;
}

/**
 * zblk_store() - replace a whole unit.
 * @z: the device
 * @strm: a stream the caller holds
 * @index: the unit
 * @page: source page (4K units), or NULL
 * @buf: source buffer (unit_size bytes) if @page is NULL
 *
 * Compresses and allocates before taking the entry lock, so readers of the
 * unit wait only for the swap of handles.
 * Context: process context, may sleep.
 * Return: 0, or a negative errno with the unit unchanged.
 */
static int zblk_store(struct zblk *z, struct zblk_strm *strm, u32 index,
		      struct page *page, const void *buf)
{
	struct zblk_entry *e = &z->table[index];
	struct zblk_obj obj;
	int ret;

	ret = zblk_make_obj(z, strm, index, page, buf, 0, &obj);
	if (!ret) {
		zblk_entry_lock(e);
		zblk_install_locked(z, e, &obj);
		zblk_entry_unlock(e);
	}
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

/*
 * Blocks of a locked unit that hold no data once [@off, +@len) is written:
 * those discarded before, or never written (every block of an empty unit).
 * Marking never-written blocks lets the unit be freed as soon as the
 * blocks that were written are discarded again (swap frees slot by slot).
 */
static unsigned long zblk_absent_after_write(struct zblk *z,
					     struct zblk_entry *e,
					     unsigned int off, unsigned int len)
{
	unsigned long absent = zblk_entry_discarded(e);

	if (!zblk_entry_stored(e))
		absent = BIT(z->unit_size >> ZBLK_BLOCK_SHIFT) - 1;
	return absent & ~zblk_block_mask(off, len);
}

/**
 * zblk_store_partial() - write part of a unit (read-modify-write).
 * @z: the device
 * @strm: a stream the caller holds
 * @index: the unit
 * @bio: the bio
 * @iter: position in @bio; advanced by @len
 * @off: offset of the written range in the unit
 * @len: length of the written range
 * @buf: a unit-sized buffer (the stream's unit_buf)
 *
 * The entry stays locked from the read of the old content to the install
 * of the new object, so concurrent partial writes to one unit cannot lose
 * each other's data. An empty or same-filled unit needs no decompression.
 * Context: process context, may sleep (allocates under the entry lock).
 * Return: 0, or a negative errno with the unit unchanged.
 */
static int zblk_store_partial(struct zblk *z, struct zblk_strm *strm,
			      u32 index, struct bio *bio,
			      struct bvec_iter *iter, unsigned int off,
			      unsigned int len, void *buf)
{
	struct zblk_entry *e = &z->table[index];
	struct zblk_obj obj;
	int ret;

	zblk_entry_lock(e);
	ret = zblk_load_locked(z, strm, e, buf);
	if (ret) {
		pr_err_ratelimited("%s: unit %u does not decompress\n",
				   z->disk->disk_name, index);
		goto out;
	}
	zblk_copy_from_bio(buf + off, bio, iter, len);
	ret = zblk_make_obj(z, strm, index, NULL, buf,
			    zblk_absent_after_write(z, e, off, len), &obj);
	if (!ret)
		zblk_install_locked(z, e, &obj);
	atomic64_inc(&z->stats.partial_writes);
out:
	zblk_entry_unlock(e);
	return ret;
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
 * A whole 4K unit in one page-aligned segment goes straight between the
 * bio's page and the unit; anything else is gathered in the stream's
 * unit_buf.
 * Context: process context, may sleep.
 * Return: 0, or a negative errno (a failed write leaves the unit unchanged).
 */
static int zblk_piece(struct zblk *z, struct bio *bio, struct bvec_iter *iter,
		      u32 index, unsigned int off, unsigned int len, bool write)
{
	struct page *page = zblk_whole_page(z, bio, iter, off, len);
	struct zblk_strm *strm;
	void *buf;
	int ret;

	/* A write supersedes a swap free of these blocks not done yet. */
	if (write)
		zblk_pending_clear(z, ((u64)index << z->unit_shift) + off, len);
	strm = zblk_strm_get(z->comp);
	buf = strm->unit_buf;
	if (page) {
		ret = write ? zblk_store(z, strm, index, page, NULL) :
			      zblk_load(z, strm, index, page, NULL);
		bio_advance_iter_single(bio, iter, len);
	} else if (!write) {
		ret = zblk_load(z, strm, index, NULL, buf);
		if (!ret)
			zblk_copy_to_bio(bio, iter, buf + off, len);
	} else if (len == z->unit_size) {
		zblk_copy_from_bio(buf, bio, iter, len);
		ret = zblk_store(z, strm, index, NULL, buf);
	} else {
		ret = zblk_store_partial(z, strm, index, bio, iter, off, len,
					 buf);
	}
	zblk_strm_put(z->comp, strm);
	return ret;
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
 * @off: offset in the unit, 4K aligned
 * @len: length, 4K aligned
 *
 * Context: any (never sleeps).
 */
static void zblk_discard_locked(struct zblk *z, struct zblk_entry *e,
				unsigned int off, unsigned int len)
{
	unsigned long all, mask;

	if (!zblk_entry_stored(e))
		return;
	if (len == z->unit_size) {
		zblk_free_locked(z, e);
		return;
	}
	atomic64_inc(&z->stats.partial_discards);
	all = BIT(z->unit_size >> ZBLK_BLOCK_SHIFT) - 1;
	mask = zblk_entry_discarded(e) | zblk_block_mask(off, len);
	if (mask == all)
		zblk_free_locked(z, e);
	else
		zblk_entry_set_discarded(e, mask);
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
		zblk_discard_locked(z, e, off, len);
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
		struct zblk_entry *e = &z->table[pos >> z->unit_shift];
		unsigned int off = pos & (z->unit_size - 1);
		unsigned int len = min_t(u64, end - pos, z->unit_size - off);

		if (zblk_entry_trylock(e)) {
			zblk_discard_locked(z, e, off, len);
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
		struct zblk_entry *e = &z->table[pos >> z->unit_shift];

		/* The entry lock orders this with writes of the block. */
		zblk_entry_lock(e);
		if (test_and_clear_bit(b, z->free_pending)) {
			zblk_discard_locked(z, e, pos & (z->unit_size - 1),
					    ZBLK_BLOCK_SIZE);
			atomic64_inc(&z->stats.retried_free);
		}
		zblk_entry_unlock(e);
		cond_resched();
	}
}
