/* SPDX-License-Identifier: GPL-2.0 */
/*
 * backend.h - the backends zblk_comp.c registers (crypto/ internal).
 */
#ifndef ZBLK_BACKEND_H
#define ZBLK_BACKEND_H

#include "zblk_comp.h"

extern const struct zblk_backend zblk_backend_lz4;
extern const struct zblk_backend zblk_backend_lz4hc;
extern const struct zblk_backend zblk_backend_zstd;

/* zblk_comp.c: backends' working memory, allocated at its exact size. */
void *zblk_backend_alloc(size_t size);
void zblk_backend_free(void *p, size_t size);

/* backend_lz4.c: shared by lz4 and lz4hc (one format). */
int zblk_lz4_decompress(void *ctx, const void *src, size_t src_len,
			void *dst, size_t dst_len);
int zblk_lz4_decompress_head(void *ctx, const void *src, size_t src_len,
			     void *dst, size_t head);

#endif /* ZBLK_BACKEND_H */
