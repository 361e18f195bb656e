// SPDX-License-Identifier: GPL-2.0
/*
 * backend_lz4hc.c - lz4hc through the kernel's lz4hc library (LZ4_compress_HC).
 *
 * Same format as lz4, so it shares lz4's safe decoder (backend_lz4.c).
 * Levels LZ4HC_MIN_CLEVEL to LZ4HC_MAX_CLEVEL, default LZ4HC_DEFAULT_CLEVEL.
 * The working memory (LZ4HC_MEM_COMPRESS, 256 KiB and a few bytes) is fixed
 * by the library: its hash and chain tables do not shrink with the input,
 * and are cleared on every call.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lz4.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "backend.h"

/**
 * lz4hc_ctx_size() - working memory of one lz4hc stream.
 * @level: unused
 * @unit_size: unused: the tables have a fixed size
 *
 * Context: any context.
 * Return: LZ4HC_MEM_COMPRESS.
 */
static size_t lz4hc_ctx_size(int level, unsigned int unit_size)
{
	return LZ4HC_MEM_COMPRESS;
}

/**
 * lz4hc_create_ctx() - allocate the tables LZ4_compress_HC() works in.
 * @level: unused
 * @unit_size: unused
 *
 * Context: process context, may sleep.
 * Return: the working memory, or NULL.
 */
static void *lz4hc_create_ctx(int level, unsigned int unit_size)
{
	return zblk_backend_alloc(LZ4HC_MEM_COMPRESS);
}

/**
 * lz4hc_destroy_ctx() - free what lz4hc_create_ctx() allocated.
 * @ctx: the working memory
 *
 * Context: process context.
 */
static void lz4hc_destroy_ctx(void *ctx)
{
	zblk_backend_free(ctx, LZ4HC_MEM_COMPRESS);
}

/**
 * lz4hc_compress() - compress with LZ4_compress_HC() at @level.
 * @ctx: working memory
 * @level: LZ4HC_MIN_CLEVEL..LZ4HC_MAX_CLEVEL
 * @src: input
 * @src_len: input length
 * @dst: output
 * @dst_len: output capacity in, compressed length out
 *
 * Context: any context; does not sleep.
 * Return: 0, -E2BIG when the output does not fit, -EINVAL on a bad length.
 */
static int lz4hc_compress(void *ctx, int level, const void *src,
			  size_t src_len, void *dst, size_t *dst_len)
{
	int cap = min_t(size_t, *dst_len, INT_MAX);
	int ret;

	if (src_len > LZ4_MAX_INPUT_SIZE)
		return -EINVAL;
	ret = LZ4_compress_HC(src, dst, src_len, cap, level, ctx);
	if (ret <= 0)
		return -E2BIG;
	*dst_len = ret;
	return 0;
}

const struct zblk_backend zblk_backend_lz4hc = {
	.name		= "lz4hc",
	.has_level	= true,
	.min_level	= LZ4HC_MIN_CLEVEL,
	.max_level	= LZ4HC_MAX_CLEVEL,
	.default_level	= LZ4HC_DEFAULT_CLEVEL,
	.ctx_size	= lz4hc_ctx_size,
	.create_ctx	= lz4hc_create_ctx,
	.destroy_ctx	= lz4hc_destroy_ctx,
	.compress	= lz4hc_compress,
	.decompress	= zblk_lz4_decompress,
	.decompress_head = zblk_lz4_decompress_head,
};
