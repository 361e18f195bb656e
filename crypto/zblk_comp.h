/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zblk_comp.h - compression backends and per-CPU streams (crypto/).
 *
 * Each algorithm is a const struct zblk_backend in its own backend_<alg>.c
 * calling the kernel's library directly (lz4, lz4hc, zstd). A zblk_comp is
 * one device's compressor: the chosen backend, its level, and one stream per
 * online CPU (CPU hotplug sets them up and frees them). A stream holds the
 * backend's working memory, a buffer of 2 * unit_size bytes for
 * compressed output and three unit_size buffers (local_copy, unit_buf,
 * cache_buf); its mutex makes it exclusive, so
 * a caller may sleep while it holds a stream. Memory allocated while holding a
 * stream must not recurse into block I/O (GFP_NOIO): reclaim writing swap back
 * to a zblk device would otherwise wait for the stream held by its own task.
 *
 * Locking: a stream's mutex is the only lock here; it is never nested with
 * another stream's, so all stream mutexes share one lockdep class.
 */
#ifndef ZBLK_COMP_H
#define ZBLK_COMP_H

#include <linux/limits.h>
#include <linux/types.h>
#include <linux/mutex.h>

/* Level value meaning "the backend's default". */
#define ZBLK_LEVEL_DEFAULT	INT_MIN

/**
 * struct zblk_strm - one CPU's compression stream.
 * @lock: makes the stream exclusive; taken by zblk_strm_get()
 * @ctx: backend working memory (protected by @lock)
 * @buffer: compressed output, 2 * unit_size bytes (protected by @lock)
 * @local_copy: unit_size bytes for zba_read_begin() (protected by @lock)
 * @unit_buf: unit_size bytes where the device gathers a unit that a bio
 *	covers in part or across pages (protected by @lock)
 * @cache_buf: unit_size bytes where the device keeps the last unit it
 *	decompressed for a read, for the neighbouring reads that swap-in and
 *	sequential I/O make (protected by @lock)
 * @cache_key: which unit @cache_buf holds, in the device's own terms
 *	(protected by @lock)
 * @cache_len: bytes of @cache_buf that hold the unit from its start; 0
 *	when it holds nothing (when the stream is set up). Protected by @lock.
 */
struct zblk_strm {
	struct mutex lock;
	void *ctx;
	void *buffer;
	void *local_copy;
	void *unit_buf;
	void *cache_buf;
	u64 cache_key;
	unsigned int cache_len;
};

/**
 * struct zblk_backend - one compression algorithm (const ops table).
 * @name: algorithm name as comp_algorithm shows it
 * @has_level: the algorithm takes a level (algorithm_params level=N)
 * @min_level: lowest level accepted (when @has_level)
 * @max_level: highest level accepted (when @has_level)
 * @default_level: level used for ZBLK_LEVEL_DEFAULT; for a backend without a
 *	level, the value its library uses internally (informational only)
 * @ctx_size: bytes of working memory create_ctx() allocates for @level and
 *	@unit_size (@level already resolved from ZBLK_LEVEL_DEFAULT)
 * @create_ctx: allocate per-stream working memory for units of @unit_size
 *	bytes at @level; process context, may sleep; NULL on failure
 * @destroy_ctx: free what create_ctx() returned
 * @compress: compress @src_len bytes into @dst (capacity *@dst_len); on
 *	success *@dst_len is the compressed length. Return 0, or -E2BIG if the
 *	output does not fit, or another negative errno. Called with the stream
 *	mutex held; does not sleep.
 * @decompress: decompress into exactly @dst_len bytes at @dst, never writing
 *	past it nor reading past @src + @src_len; any other result is -EIO.
 * @decompress_head: optional; decompress only the first @head bytes of data
 *	that decompresses to more, into @dst (@head bytes), with the same
 *	bounds as @decompress; -EIO if fewer than @head bytes come out. NULL
 *	when the format cannot stop early (zstd decodes whole blocks).
 */
struct zblk_backend {
	const char *name;
	bool has_level;
	int min_level, max_level, default_level;
	size_t (*ctx_size)(int level, unsigned int unit_size);
	void *(*create_ctx)(int level, unsigned int unit_size);
	void (*destroy_ctx)(void *ctx);
	int (*compress)(void *ctx, int level, const void *src, size_t src_len,
			void *dst, size_t *dst_len);
	int (*decompress)(void *ctx, const void *src, size_t src_len,
			  void *dst, size_t dst_len);
	int (*decompress_head)(void *ctx, const void *src, size_t src_len,
			       void *dst, size_t head);
};

struct zblk_comp;

/**
 * zblk_comp_find() - look up a backend by name ("lz4", "lz4hc", "zstd").
 * @name: the name; one trailing newline is ignored (as sysfs_streq() does)
 *
 * Context: any context.
 * Return: the backend, or NULL.
 */
const struct zblk_backend *zblk_comp_find(const char *name);

/**
 * zblk_comp_show() - list every backend, the selected one in brackets,
 * as comp_algorithm shows it ("lz4 lz4hc [zstd]\n").
 * @selected: name of the selected backend (may be NULL: no brackets)
 * @buf: the sysfs show() page buffer
 *
 * Context: process context.
 * Return: bytes written to @buf (at most PAGE_SIZE).
 */
ssize_t zblk_comp_show(const char *selected, char *buf);

/**
 * zblk_comp_check_level() - is @level valid for @be?
 * @be: the backend
 * @level: a level, or ZBLK_LEVEL_DEFAULT (always valid)
 *
 * Context: any context.
 * Return: 0, or -EINVAL (out of range, or the backend takes no level).
 */
int zblk_comp_check_level(const struct zblk_backend *be, int level);

/**
 * zblk_comp_init() - register the CPU hotplug state streams follow.
 *
 * Context: module init, process context.
 * Return: 0 or a negative errno.
 */
int zblk_comp_init(void);

/**
 * zblk_comp_exit() - unregister it; every compressor must be destroyed.
 *
 * Context: module exit, process context.
 */
void zblk_comp_exit(void);

/**
 * zblk_comp_create() - create a compressor with one stream per online CPU.
 * @be: the backend
 * @level: ZBLK_LEVEL_DEFAULT or a level zblk_comp_check_level() accepted
 * @unit_size: bytes per unit, a power of two from 4096 to 65536
 *
 * Streams are set up for the CPUs online now, and then for each CPU that
 * comes online (freed when it goes offline); zblk_comp_mem() tells what they
 * cost. Needs zblk_comp_init().
 *
 * Context: process context, may sleep.
 * Return: the compressor or an ERR_PTR() (-EINVAL, -ENOMEM).
 */
struct zblk_comp *zblk_comp_create(const struct zblk_backend *be, int level,
				   unsigned int unit_size);

/**
 * zblk_comp_destroy() - free a compressor and all its streams.
 * @comp: the compressor (NULL or an ERR_PTR() is ignored); no stream may be
 *	held
 *
 * Context: process context, may sleep.
 */
void zblk_comp_destroy(struct zblk_comp *comp);

/**
 * zblk_strm_get() - take this CPU's stream (sleeps if it is busy).
 * @comp: the compressor
 *
 * The task may migrate to another CPU while it holds the stream; the mutex,
 * not the CPU, makes the stream exclusive.
 *
 * Context: process context, may sleep.
 * Return: the stream, locked; give it back with zblk_strm_put().
 */
struct zblk_strm *zblk_strm_get(struct zblk_comp *comp);

/**
 * zblk_strm_put() - give back a stream taken with zblk_strm_get().
 * @comp: the compressor
 * @strm: the stream
 *
 * Context: process context, by the task that took @strm.
 */
void zblk_strm_put(struct zblk_comp *comp, struct zblk_strm *strm);

/**
 * zblk_compress() - compress @len bytes into @strm->buffer.
 * @comp: the compressor
 * @strm: a stream held by the caller
 * @src: the bytes: a whole unit, or one 4K block of it
 * @len: their length, at most unit_size
 * @comp_len: on success, the compressed length (may exceed @len for
 *	incompressible data; the device core then stores the bytes raw)
 *
 * Context: process context, @strm held; does not sleep.
 * Return: 0, or a negative errno (-E2BIG: larger than 2 * unit_size).
 */
int zblk_compress(struct zblk_comp *comp, struct zblk_strm *strm,
		  const void *src, unsigned int len, unsigned int *comp_len);

/**
 * zblk_decompress() - decompress @src_len bytes into exactly @dst_len.
 * @comp: the compressor
 * @strm: a stream held by the caller
 * @src: compressed data as zblk_compress() produced it
 * @src_len: its length
 * @dst: @dst_len bytes
 * @dst_len: the length zblk_compress() was given, at most unit_size
 *
 * Never reads past @src + @src_len nor writes past @dst + @dst_len, even
 * when @src is corrupted.
 *
 * Context: process context, @strm held; does not sleep.
 * Return: 0, or -EIO when the data does not decompress to exactly @dst_len.
 */
int zblk_decompress(struct zblk_comp *comp, struct zblk_strm *strm,
		    const void *src, unsigned int src_len, void *dst,
		    unsigned int dst_len);

/**
 * zblk_decompress_head() - the first @head bytes of a compressed unit.
 * @comp: the compressor
 * @strm: a stream held by the caller
 * @src: a whole unit compressed by zblk_compress()
 * @src_len: its length
 * @dst: unit_size bytes; at least the first @head are written
 * @head: bytes wanted from the start of the unit, at most unit_size
 *
 * Backends that can stop early (lz4) decode only @head bytes: a read of
 * the first 4K block of a 16K unit decodes a quarter of it. Others decode
 * the whole unit. Same bounds as zblk_decompress().
 *
 * Context: process context, @strm held; does not sleep.
 * Return: 0, or -EIO when the data does not decompress.
 */
int zblk_decompress_head(struct zblk_comp *comp, struct zblk_strm *strm,
			 const void *src, unsigned int src_len, void *dst,
			 unsigned int head);

/**
 * zblk_comp_stops_early() - can zblk_decompress_head() stop early?
 * @comp: the compressor
 *
 * Context: any context.
 * Return: true if the backend decodes only the bytes asked for (lz4), false
 *	if it always decodes the whole unit (zstd).
 */
bool zblk_comp_stops_early(struct zblk_comp *comp);

/**
 * zblk_comp_name() - the backend's name.
 * @comp: the compressor
 *
 * Context: any context.
 * Return: the name ("lz4", ...).
 */
const char *zblk_comp_name(struct zblk_comp *comp);

/**
 * zblk_comp_level() - the level in use (the backend's default if none set).
 * @comp: the compressor
 *
 * Context: any context.
 * Return: the level; meaningless for a backend without has_level.
 */
int zblk_comp_level(struct zblk_comp *comp);

/**
 * zblk_comp_mem() - memory held by the compressor's streams now.
 * @comp: the compressor
 *
 * Context: any context.
 * Return: bytes allocated for the streams that are set up (working memory
 * and buffers).
 */
size_t zblk_comp_mem(struct zblk_comp *comp);

/**
 * zblk_comp_nr_streams() - how many streams are set up (online CPUs).
 * @comp: the compressor
 *
 * Context: any context.
 * Return: the number of streams.
 */
unsigned int zblk_comp_nr_streams(struct zblk_comp *comp);

#endif /* ZBLK_COMP_H */
