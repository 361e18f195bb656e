/* SPDX-License-Identifier: GPL-2.0 */
/*
 * corpus.h - read a memory image (plain or .zst) unit by unit and compress
 * units with userspace lz4/zstd. Shared by tools/zblk-density and the
 * allocator's unit tests.
 */
#ifndef ZBLK_CORPUS_H
#define ZBLK_CORPUS_H

#include <stdbool.h>
#include <stddef.h>

enum corpus_algo { ALGO_LZ4, ALGO_ZSTD };

struct corpus;

/* Open @path (zstd-compressed if it starts with the zstd magic). NULL+errno. */
struct corpus *corpus_open(const char *path, unsigned int unit);
/* Read the next whole unit into @buf: 1, 0 at the end, -1 on error (message printed). */
int corpus_next(struct corpus *c, void *buf);
void corpus_close(struct corpus *c);

/* Is every machine word of the unit equal (zblk stores such units as a word)? */
bool unit_same_filled(const void *buf, unsigned int unit);

/* Default level: zstd 3, lz4 acceleration 1. */
int algo_default_level(enum corpus_algo algo);
/*
 * Compress @unit bytes with @algo at @level into a scratch buffer and return
 * the compressed length (may exceed @unit), or 0 on failure.
 */
size_t compress_unit(enum corpus_algo algo, int level, const void *src,
		     unsigned int unit);
/* The output of this thread's last compress_unit(). */
const void *compress_output(void);
/* Decompress @len bytes into exactly @unit bytes at @dst: 0 or -1. */
int decompress_unit(enum corpus_algo algo, const void *src, size_t len,
		    void *dst, unsigned int unit);

/*
 * Compressed sizes of every unit of @path that is not same-filled.
 * Return: number of sizes (*@sizes malloc'd, capped at @unit each), or -1.
 */
long corpus_sizes(const char *path, unsigned int unit, enum corpus_algo algo,
		  int level, unsigned int **sizes);

#endif
