/* SPDX-License-Identifier: GPL-2.0 */
/*
 * zblk_comp.h - compression backends and per-CPU streams (crypto/).
 *
 * Each algorithm is a const struct zblk_backend in its own backend_<alg>.c
 * calling the kernel's library directly (lz4, lz4hc, zstd). A zblk_comp is
 * one device's compressor: the chosen backend, its level, and one stream per
 * possible CPU. A stream holds the backend's working memory and a buffer of
 * 2 * unit_size bytes for compressed output; its mutex makes it exclusive, so
 * a caller may sleep (e.g. allocate with GFP_NOIO) while it holds a stream.
 */
#ifndef ZBLK_COMP_H
#define ZBLK_COMP_H

#include <linux/types.h>
#include <linux/mutex.h>

/* Level value meaning "the backend's default". */
#define ZBLK_LEVEL_DEFAULT	INT_MIN

struct zblk_strm {
	struct mutex lock;		/* makes the stream exclusive */
	void *ctx;			/* backend working memory */
	void *buffer;			/* compressed output, 2 * unit_size */
	void *local_copy;		/* unit_size bytes for zba_read_begin() */
};

struct zblk_backend {
	const char *name;
	bool has_level;
	int min_level, max_level, default_level;
	/* Allocate per-stream working memory for units of @unit_size bytes. */
	void *(*create_ctx)(int level, unsigned int unit_size);
	void (*destroy_ctx)(void *ctx);
	/*
	 * Compress @src_len bytes into @dst (capacity *@dst_len); on success
	 * *@dst_len is the compressed length. Return 0, or -E2BIG if the
	 * output does not fit, or another negative errno.
	 */
	int (*compress)(void *ctx, int level, const void *src, size_t src_len,
			void *dst, size_t *dst_len);
	/* Decompress exactly @dst_len bytes; any other result is -EIO. */
	int (*decompress)(void *ctx, const void *src, size_t src_len,
			  void *dst, size_t dst_len);
};

struct zblk_comp;

/**
 * zblk_comp_find() - look up a backend by name ("lz4", "lz4hc", "zstd").
 * Return: the backend, or NULL.
 */
const struct zblk_backend *zblk_comp_find(const char *name);

/**
 * zblk_comp_show() - list every backend, the selected one in brackets,
 * as comp_algorithm shows it ("lz4 lz4hc [zstd]\n").
 * Return: bytes written to @buf (at most PAGE_SIZE).
 */
ssize_t zblk_comp_show(const char *selected, char *buf);

/**
 * zblk_comp_check_level() - is @level valid for @be?
 * Return: 0, or -EINVAL (out of range, or the backend takes no level).
 */
int zblk_comp_check_level(const struct zblk_backend *be, int level);

/**
 * zblk_comp_create() - create a compressor with one stream per possible CPU.
 * @level: ZBLK_LEVEL_DEFAULT or a level zblk_comp_check_level() accepted
 * Context: process context, may sleep.
 * Return: the compressor or an ERR_PTR().
 */
struct zblk_comp *zblk_comp_create(const struct zblk_backend *be, int level,
				   unsigned int unit_size);
void zblk_comp_destroy(struct zblk_comp *comp);

/**
 * zblk_strm_get() - take this CPU's stream (sleeps if it is busy).
 * Context: process context, may sleep.
 */
struct zblk_strm *zblk_strm_get(struct zblk_comp *comp);
void zblk_strm_put(struct zblk_comp *comp, struct zblk_strm *strm);

/**
 * zblk_compress() - compress one unit into @strm->buffer.
 * @comp_len: on success, the compressed length
 * Return: 0, or a negative errno (-E2BIG: larger than 2 * unit_size).
 */
int zblk_compress(struct zblk_comp *comp, struct zblk_strm *strm,
		  const void *src, unsigned int *comp_len);

/**
 * zblk_decompress() - decompress @src_len bytes into one whole unit at @dst.
 * Return: 0, or -EIO when the data does not decompress to exactly one unit.
 */
int zblk_decompress(struct zblk_comp *comp, struct zblk_strm *strm,
		    const void *src, unsigned int src_len, void *dst);

/** zblk_comp_name() - the backend's name. */
const char *zblk_comp_name(struct zblk_comp *comp);
/** zblk_comp_level() - the level in use (the backend's default if none set). */
int zblk_comp_level(struct zblk_comp *comp);

#endif /* ZBLK_COMP_H */
