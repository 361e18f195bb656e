// SPDX-License-Identifier: GPL-2.0
/*
 * backend_lz4.c - lz4 through the kernel's lz4 library (LZ4_compress_fast).
 *
 * lz4 takes no level here: its only knob, "acceleration", trades ratio for
 * speed on an algorithm that is already the fastest one offered; lz4hc is the
 * lz4-format backend with levels. Output is decoded by LZ4_decompress_safe(),
 * which never reads or writes out of bounds on corrupted input.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/lz4.h>
#include <linux/mm.h>
#include <linux/slab.h>

#include "backend.h"

/**
 * lz4_ctx_size() - working memory of one lz4 stream.
 * @level: unused
 * @unit_size: unused: the hash table has a fixed size
 *
 * Context: any context.
 * Return: LZ4_MEM_COMPRESS.
 */
static size_t lz4_ctx_size(int level, unsigned int unit_size)
{
	return LZ4_MEM_COMPRESS;
}

/**
 * lz4_create_ctx() - allocate the hash table LZ4_compress_fast() works in.
 * @level: unused
 * @unit_size: unused
 *
 * Context: process context, may sleep.
 * Return: the working memory, or NULL.
 */
static void *lz4_create_ctx(int level, unsigned int unit_size)
{
	return zblk_backend_alloc(LZ4_MEM_COMPRESS);
}

/**
 * lz4_destroy_ctx() - free what lz4_create_ctx() allocated.
 * @ctx: the working memory
 *
 * Context: process context.
 */
static void lz4_destroy_ctx(void *ctx)
{
	zblk_backend_free(ctx, LZ4_MEM_COMPRESS);
}

/**
 * lz4_compress() - compress with LZ4_compress_fast().
 * @ctx: working memory
 * @level: unused
 * @src: input
 * @src_len: input length
 * @dst: output
 * @dst_len: output capacity in, compressed length out
 *
 * Context: any context; does not sleep.
 * Return: 0, -E2BIG when the output does not fit, -EINVAL on a bad length.
 */
static int lz4_compress(void *ctx, int level, const void *src, size_t src_len,
			void *dst, size_t *dst_len)
{
	int cap = min_t(size_t, *dst_len, INT_MAX);
	int ret;

	if (src_len > LZ4_MAX_INPUT_SIZE)
		return -EINVAL;
	ret = LZ4_compress_fast(src, dst, src_len, cap,
				LZ4_ACCELERATION_DEFAULT, ctx);
	if (ret <= 0)
		return -E2BIG;
	*dst_len = ret;
	return 0;
}

/**
 * zblk_lz4_decompress() - decompress lz4 or lz4hc output with
 *	LZ4_decompress_safe() (one format, one decoder).
 * @ctx: unused
 * @src: compressed data
 * @src_len: its length
 * @dst: output
 * @dst_len: the exact decompressed length expected
 *
 * Context: any context; does not sleep.
 * Return: 0, or -EIO if the data is corrupted or of another length.
 */
int zblk_lz4_decompress(void *ctx, const void *src, size_t src_len,
			void *dst, size_t dst_len)
{
	int ret;

	if (src_len > INT_MAX || dst_len > INT_MAX)
		return -EIO;
	ret = LZ4_decompress_safe(src, dst, src_len, dst_len);
	return ret == (int)dst_len ? 0 : -EIO;
}

/**
 * zblk_lz4_decompress_head() - decode only the first @head bytes, with
 *	LZ4_decompress_safe_partial() (lz4 and lz4hc).
 * @ctx: unused
 * @src: compressed data
 * @src_len: its length
 * @dst: output, @head bytes
 * @head: bytes wanted
 *
 * Context: any context; does not sleep.
 * Return: 0, or -EIO if the data is corrupted or shorter than @head.
 */
int zblk_lz4_decompress_head(void *ctx, const void *src, size_t src_len,
			     void *dst, size_t head)
{
	int ret;

	if (src_len > INT_MAX || head > INT_MAX)
		return -EIO;
	ret = LZ4_decompress_safe_partial(src, dst, src_len, head, head);
	return ret == (int)head ? 0 : -EIO;
}

const struct zblk_backend zblk_backend_lz4 = {
	.name		= "lz4",
	.has_level	= false,
	.min_level	= LZ4_ACCELERATION_DEFAULT,
	.max_level	= LZ4_ACCELERATION_DEFAULT,
	.default_level	= LZ4_ACCELERATION_DEFAULT,
	.ctx_size	= lz4_ctx_size,
	.create_ctx	= lz4_create_ctx,
	.destroy_ctx	= lz4_destroy_ctx,
	.compress	= lz4_compress,
	.decompress	= zblk_lz4_decompress,
	.decompress_head = zblk_lz4_decompress_head,
};
