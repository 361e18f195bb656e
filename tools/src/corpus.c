// SPDX-License-Identifier: GPL-2.0
/*
 * corpus.c - see corpus.h.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lz4.h>
#include <zstd.h>
#include "corpus.h"

struct corpus {
	FILE *f;
	const char *path;
	unsigned int unit;
	ZSTD_DCtx *dctx;	/* NULL: plain file */
	void *in;
	size_t in_cap;
	ZSTD_inBuffer ib;
	bool eof;
};

struct corpus *corpus_open(const char *path, unsigned int unit)
{
	struct corpus *c = calloc(1, sizeof(*c));
	unsigned char magic[4];
	size_t n;

	if (!c)
		return NULL;
	c->path = path;
	c->unit = unit;
	c->f = fopen(path, "rb");
	if (!c->f) {
		free(c);
		return NULL;
	}
	n = fread(magic, 1, 4, c->f);
	rewind(c->f);
	if (n == 4 && magic[0] == 0x28 && magic[1] == 0xb5 && magic[2] == 0x2f &&
	    magic[3] == 0xfd) {
		c->dctx = ZSTD_createDCtx();
		c->in_cap = ZSTD_DStreamInSize();
		c->in = malloc(c->in_cap);
		if (!c->dctx || !c->in) {
			corpus_close(c);
			errno = ENOMEM;
			return NULL;
		}
		c->ib.src = c->in;
	}
	return c;
}

int corpus_next(struct corpus *c, void *buf)
{
	size_t have = 0;

	if (!c->dctx) {
		have = fread(buf, 1, c->unit, c->f);
		if (have == c->unit)
			return 1;
		if (ferror(c->f)) {
			fprintf(stderr, "%s: read error: %s\n", c->path, strerror(errno));
			return -1;
		}
		return 0;	/* a partial last unit is ignored */
	}
	while (have < c->unit) {
		ZSTD_outBuffer ob = { buf, c->unit, have };
		size_t r;

		if (c->ib.pos == c->ib.size) {
			if (c->eof)
				return 0;
			c->ib.size = fread(c->in, 1, c->in_cap, c->f);
			c->ib.pos = 0;
			if (!c->ib.size) {
				if (ferror(c->f)) {
					fprintf(stderr, "%s: read error: %s\n", c->path,
						strerror(errno));
					return -1;
				}
				c->eof = true;
				continue;
			}
		}
		r = ZSTD_decompressStream(c->dctx, &ob, &c->ib);
		if (ZSTD_isError(r)) {
			fprintf(stderr, "%s: zstd: %s\n", c->path, ZSTD_getErrorName(r));
			return -1;
		}
		have = ob.pos;
	}
	return 1;
}

void corpus_close(struct corpus *c)
{
	if (!c)
		return;
	if (c->f)
		fclose(c->f);
	ZSTD_freeDCtx(c->dctx);
	free(c->in);
	free(c);
}

bool unit_same_filled(const void *buf, unsigned int unit)
{
	const unsigned long *w = buf;
	unsigned int i;

	for (i = 1; i < unit / sizeof(*w); i++)
		if (w[i] != w[0])
			return false;
	return true;
}

int algo_default_level(enum corpus_algo algo)
{
	return algo == ALGO_ZSTD ? 3 : 1;
}

static __thread char *dst;

const void *compress_output(void)
{
	return dst;
}

int decompress_unit(enum corpus_algo algo, const void *src, size_t len,
		    void *out, unsigned int unit)
{
	static __thread ZSTD_DCtx *dctx;
	size_t r;

	if (algo == ALGO_LZ4)
		return LZ4_decompress_safe(src, out, len, unit) == (int)unit ? 0 : -1;
	if (!dctx)
		dctx = ZSTD_createDCtx();
	if (!dctx)
		return -1;
	r = ZSTD_decompressDCtx(dctx, out, unit, src, len);
	return !ZSTD_isError(r) && r == unit ? 0 : -1;
}

size_t compress_unit(enum corpus_algo algo, int level, const void *src,
		     unsigned int unit)
{
	static __thread ZSTD_CCtx *cctx;
	static __thread size_t cap;
	size_t need = 2 * (size_t)unit + 1024;

	if (cap < need) {
		free(dst);
		dst = malloc(need);
		if (!dst)
			return 0;
		cap = need;
	}
	if (algo == ALGO_LZ4) {
		int r = LZ4_compress_fast(src, dst, unit, cap, level);

		return r > 0 ? (size_t)r : 0;
	}
	if (!cctx)
		cctx = ZSTD_createCCtx();
	if (!cctx)
		return 0;
	need = ZSTD_compressCCtx(cctx, dst, cap, src, unit, level);
	return ZSTD_isError(need) ? 0 : need;
}

long corpus_sizes(const char *path, unsigned int unit, enum corpus_algo algo,
		  int level, unsigned int **sizes)
{
	struct corpus *c = corpus_open(path, unit);
	unsigned int *v = NULL;
	long n = 0, cap = 0;
	void *buf;
	int r;

	if (!c) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(unit);
	while (buf && (r = corpus_next(c, buf)) == 1) {
		size_t len;

		if (unit_same_filled(buf, unit))
			continue;
		len = compress_unit(algo, level, buf, unit);
		if (!len) {
			r = -1;
			break;
		}
		if (n == cap) {
			unsigned int *nv;

			cap = cap ? 2 * cap : 4096;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				r = -1;
				break;
			}
			v = nv;
		}
		v[n++] = len > unit ? unit : len;
	}
	free(buf);
	corpus_close(c);
	if (!buf || r < 0) {
		free(v);
		return -1;
	}
	*sizes = v;
	return n;
}
