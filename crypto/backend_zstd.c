// SPDX-License-Identifier: GPL-2.0
/*
 * backend_zstd.c - zstd through the kernel's zstd library.
 *
 * Parameters come from zstd_get_params(level, unit_size): with the unit size
 * as the source size hint, zstd shrinks its window and tables to the unit, so
 * the compression workspace is a few hundred KiB at most instead of megabytes.
 * The same parameters are used for every unit the stream compresses. Each
 * stream also has a decompression context; zstd_decompress_dctx() bounds
 * every read and write, and the result must be exactly one unit.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/zstd.h>

#include "backend.h"

/*
 * Levels 1..22 exist in the kernel's zstd 1.5.x of both 6.1 and 6.12
 * (zstd_max_clevel() is checked at stream creation). Negative ("fast")
 * levels are not offered: on 4K and 16K units they lose ratio quickly
 * yet stay slower than lz4, which is there for speed (docs/compression.md).
 * Level 0 (zstd's alias of its default) is refused so that a level always
 * means one thing.
 */
#define ZBLK_ZSTD_MIN_LEVEL	1
#define ZBLK_ZSTD_MAX_LEVEL	22
/*
 * zstd's own default, as zram's: level 1 compresses faster but is a few %
 * less dense on 4K and 16K units (docs/compression.md); users who want
 * speed set level=1 or pick lz4.
 */
#define ZBLK_ZSTD_DEFAULT_LEVEL	3

/**
 * struct zblk_zstd - one stream's zstd state.
 * @params: parameters every unit of the stream is compressed with
 * @cctx: compression context living in @cwksp
 * @dctx: decompression context living in @dwksp
 * @cwksp: compression workspace
 * @dwksp: decompression workspace
 * @csize: bytes of @cwksp
 * @dsize: bytes of @dwksp
 */
struct zblk_zstd {
	zstd_parameters params;
	zstd_cctx *cctx;
	zstd_dctx *dctx;
	void *cwksp;
	void *dwksp;
	size_t csize;
	size_t dsize;
};

/**
 * zstd_ctx_size() - working memory of one zstd stream.
 * @level: the compression level
 * @unit_size: bytes per unit (the source size hint)
 *
 * Context: any context.
 * Return: bytes zstd_create_ctx() allocates.
 */
static size_t zstd_ctx_size(int level, unsigned int unit_size)
{
	zstd_parameters params = zstd_get_params(level, unit_size);

	return sizeof(struct zblk_zstd) +
	       zstd_cctx_workspace_bound(&params.cParams) +
	       zstd_dctx_workspace_bound();
}

/**
 * zstd_destroy_ctx() - free what zstd_create_ctx() allocated.
 * @ctx: the stream state (may be partly set up)
 *
 * Context: process context.
 */
static void zstd_destroy_ctx(void *ctx)
{
	struct zblk_zstd *z = ctx;

	if (!z)
		return;
	zblk_backend_free(z->cwksp, z->csize);
	zblk_backend_free(z->dwksp, z->dsize);
	kfree(z);
}

/**
 * zstd_create_ctx() - allocate compression and decompression contexts.
 * @level: the compression level
 * @unit_size: bytes per unit (the source size hint)
 *
 * Context: process context, may sleep.
 * Return: the stream state, or NULL.
 */
static void *zstd_create_ctx(int level, unsigned int unit_size)
{
	struct zblk_zstd *z;

	if (level < zstd_min_clevel() || level > zstd_max_clevel())
		return NULL;
	z = kzalloc(sizeof(*z), GFP_KERNEL);
	if (!z)
		return NULL;
	z->params = zstd_get_params(level, unit_size);
	z->csize = zstd_cctx_workspace_bound(&z->params.cParams);
	z->dsize = zstd_dctx_workspace_bound();
	z->cwksp = zblk_backend_alloc(z->csize);
	z->dwksp = zblk_backend_alloc(z->dsize);
	if (!z->cwksp || !z->dwksp)
		goto fail;
	z->cctx = zstd_init_cctx(z->cwksp, z->csize);
	z->dctx = zstd_init_dctx(z->dwksp, z->dsize);
	if (!z->cctx || !z->dctx)
		goto fail;
	return z;
fail:
	zstd_destroy_ctx(z);
	return NULL;
}

/**
 * zstd_compress() - compress one frame with the stream's parameters.
 * @ctx: the stream state
 * @level: unused: the level is fixed in the parameters at creation
 * @src: input
 * @src_len: input length
 * @dst: output
 * @dst_len: output capacity in, compressed length out
 *
 * Context: any context; does not sleep.
 * Return: 0, -E2BIG when the output does not fit, -EINVAL on other errors.
 */
static int zstd_compress(void *ctx, int level, const void *src, size_t src_len,
			 void *dst, size_t *dst_len)
{
	struct zblk_zstd *z = ctx;
	size_t ret;

	ret = zstd_compress_cctx(z->cctx, dst, *dst_len, src, src_len,
				 &z->params);
	if (zstd_is_error(ret)) {
		if (zstd_get_error_code(ret) == ZSTD_error_dstSize_tooSmall)
			return -E2BIG;
		return -EINVAL;
	}
	*dst_len = ret;
	return 0;
}

/**
 * zstd_decompress() - decompress one unit with zstd_decompress_dctx().
 * @ctx: the stream state
 * @src: compressed data
 * @src_len: its length
 * @dst: output
 * @dst_len: the exact decompressed length expected
 *
 * Context: any context; does not sleep.
 * Return: 0, or -EIO if the data is corrupted or of another length.
 */
static int zstd_decompress(void *ctx, const void *src, size_t src_len,
			   void *dst, size_t dst_len)
{
	struct zblk_zstd *z = ctx;
	size_t ret;

	ret = zstd_decompress_dctx(z->dctx, dst, dst_len, src, src_len);
	if (zstd_is_error(ret) || ret != dst_len)
		return -EIO;
	return 0;
}

const struct zblk_backend zblk_backend_zstd = {
	.name		= "zstd",
	.has_level	= true,
	.min_level	= ZBLK_ZSTD_MIN_LEVEL,
	.max_level	= ZBLK_ZSTD_MAX_LEVEL,
	.default_level	= ZBLK_ZSTD_DEFAULT_LEVEL,
	.ctx_size	= zstd_ctx_size,
	.create_ctx	= zstd_create_ctx,
	.destroy_ctx	= zstd_destroy_ctx,
	.compress	= zstd_compress,
	.decompress	= zstd_decompress,
};
