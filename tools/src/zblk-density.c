// SPDX-License-Identifier: GPL-2.0
/*
 * zblk-density - replay a memory image through zblk's allocator (the kernel
 * source alloc/zblk_alloc.c, built unchanged against tests/alloc/shim/) and
 * through a model of zsmalloc, and print how much memory each needs.
 *
 * Each unit of FILE is compressed with userspace lz4 or zstd; same-filled
 * units are skipped (zblk stores them as one word); a unit whose compressed
 * size reaches the allocator's huge size is stored raw (unit bytes), as zblk
 * does. compressed_bytes counts min(compressed size, unit) over stored units
 * and is the denominator of both overheads.
 *
 * The zsmalloc model follows mm/zsmalloc.c with the unit as page size:
 * classes from 32 bytes, unit/256 apart, chains of 1..8 pages choosing the
 * length with the least waste (1 for powers of two), classes with equal
 * pages-per-zspage and objects-per-zspage merged into the larger, the
 * 8-byte handle stored in each object (zs_malloc adds ZS_HANDLE_SIZE before
 * choosing the class), and zram's rule: sizes >= huge_class_size stored raw
 * (one object per page). Zspages are filled in order; after freeing, a
 * zspage is given back only when empty (no compaction); "after compaction"
 * packs each class into as few zspages as possible.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"
#include "alloc/zblk_alloc.h"
#include "corpus.h"

static void usage(FILE *f)
{
	fprintf(f,
"usage: zblk-density [--unit 4096|16384] [--algo lz4|zstd] [--level N]\n"
"                    [--free-fraction F] [--json] [--seed N] FILE\n"
"       zblk-density --print-table [--unit N]\n"
"       zblk-density --types [--unit N] [--algo A] [--level N] FILE\n"
"       zblk-density --bench [--unit N] [--algo A] [--level N] FILE\n"
"\n"
"Compress FILE (a memory image, plain or .zst) unit by unit, store every\n"
"unit that is not same-filled through zblk's allocator and through a model\n"
"of zsmalloc, and print the memory each needs:\n"
"  orig_bytes         bytes read (whole units)\n"
"  compressed_bytes   sum of min(compressed size, unit) over stored units\n"
"  allocated_bytes    pages zblk's allocator holds, in bytes\n"
"  overhead           allocated_bytes / compressed_bytes\n"
"  zsmalloc_bytes     pages zsmalloc would hold (unit as page size)\n"
"  zsmalloc_overhead  zsmalloc_bytes / compressed_bytes\n"
"  metadata_bytes     zblk's block descriptors (kmalloc buckets), not in\n"
"                     allocated_bytes; metadata_pct: %% of allocated_bytes\n"
"With --free-fraction F, a random fraction F of the objects is then freed\n"
"and the figures are printed again (free_*), for zsmalloc without\n"
"compaction, then after compaction of both (compact_*).\n"
"\n"
"  --unit N           unit size: 4096 (default) or 16384\n"
"  --algo A           lz4 (default) or zstd\n"
"  --level N          zstd level (default 3) or lz4 acceleration (default 1)\n"
"  --free-fraction F  free this fraction (0..1) of the stored objects\n"
"  --seed N           seed for choosing the objects to free (default 1)\n"
"  --json             one JSON object instead of text\n"
"  --print-table      print the allocator's type table for --unit and exit\n"
"  --types            after storing FILE, one row per type: pages, objects,\n"
"                     descriptor bytes and their %% of the type's pages\n"
"  --bench            time alloc, write, read and free through the allocator\n"
"  -h, --help         this text\n");
}

/* ---- zsmalloc model -------------------------------------------------------- */

#define ZS_MIN		32
#define ZS_CHAIN	8
#define ZS_HANDLE	8
#define ZS_ZSPAGE_META	48	/* approximate sizeof(struct zspage) */

struct zs_class {
	unsigned int size, ppz, opz;
	unsigned long objs, *inuse;	/* objects per zspage, in fill order */
	unsigned long nr_zspages, cap;
};

struct zs_model {
	unsigned int page, delta, nr, huge;
	struct zs_class *cls;		/* distinct classes */
	unsigned int *index;		/* class index -> distinct class */
};

static unsigned int zs_chain(unsigned int size, unsigned int page)
{
	unsigned int i, best = 1, waste, min = UINT_MAX;

	if (!(size & (size - 1)))
		return 1;
	for (i = 1; i <= ZS_CHAIN; i++) {
		waste = (i * page) % size;
		if (waste < min) {
			min = waste;
			best = i;
		}
	}
	return best;
}

static void zs_init(struct zs_model *m, unsigned int page)
{
	unsigned int nr, i, ndist = 0;
	int j;

	m->page = page;
	m->delta = page >> 8;
	nr = DIV_ROUND_UP(page - ZS_MIN, m->delta) + 1;
	m->nr = nr;
	m->cls = calloc(nr, sizeof(*m->cls));
	m->index = calloc(nr, sizeof(*m->index));
	m->huge = 0;
	for (j = nr - 1; j >= 0; j--) {
		unsigned int size = ZS_MIN + j * m->delta, ppz, opz;

		if (size > page)
			size = page;
		ppz = zs_chain(size, page);
		opz = ppz * page / size;
		if (ppz != 1 && opz != 1 && !m->huge)
			m->huge = size - (ZS_HANDLE - 1);
		if (ndist && m->cls[ndist - 1].ppz == ppz && m->cls[ndist - 1].opz == opz) {
			m->index[j] = ndist - 1;
			continue;
		}
		m->cls[ndist] = (struct zs_class){ .size = size, .ppz = ppz, .opz = opz };
		m->index[j] = ndist++;
	}
	(void)i;
}

/* Store an object of @len bytes (zram's view); return its (class, zspage slot). */
static unsigned long zs_store(struct zs_model *m, unsigned int len,
			      unsigned int *cls_out)
{
	unsigned int size = len >= m->huge ? m->page : len, idx;
	struct zs_class *c;
	unsigned long obj;

	size += ZS_HANDLE;
	idx = size <= ZS_MIN ? 0 : DIV_ROUND_UP(size - ZS_MIN, m->delta);
	if (idx >= m->nr)
		idx = m->nr - 1;
	*cls_out = m->index[idx];
	c = &m->cls[m->index[idx]];
	obj = c->objs++;
	if (obj / c->opz >= c->nr_zspages) {
		if (c->nr_zspages == c->cap) {
			c->cap = c->cap ? 2 * c->cap : 64;
			c->inuse = realloc(c->inuse, c->cap * sizeof(*c->inuse));
		}
		c->inuse[c->nr_zspages++] = 0;
	}
	c->inuse[obj / c->opz]++;
	return obj;
}

static void zs_free(struct zs_model *m, unsigned int cls, unsigned long obj)
{
	m->cls[cls].inuse[obj / m->cls[cls].opz]--;
}

struct zs_figures {
	unsigned long bytes, meta, objs;
};

/* Pages held: zspages with an object (compacted: as few as possible). */
static struct zs_figures zs_count(struct zs_model *m, bool compacted)
{
	struct zs_figures f = { 0, 0, 0 };
	unsigned int i;
	unsigned long z, live, zspages;

	for (i = 0; i < m->nr; i++) {
		struct zs_class *c = &m->cls[i];

		if (!c->opz)
			continue;
		live = 0;
		zspages = 0;
		for (z = 0; z < c->nr_zspages; z++) {
			live += c->inuse[z];
			zspages += c->inuse[z] > 0;
		}
		if (compacted)
			zspages = DIV_ROUND_UP(live, c->opz);
		f.bytes += zspages * c->ppz * (unsigned long)m->page;
		f.meta += zspages * ZS_ZSPAGE_META + live * ZS_HANDLE;
		f.objs += live;
	}
	return f;
}

static void zs_destroy(struct zs_model *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		free(m->cls[i].inuse);
	free(m->cls);
	free(m->index);
}

/* ---- replay ---------------------------------------------------------------- */

struct obj {
	unsigned long handle;
	unsigned long zs_obj;
	unsigned int len;	/* min(compressed, unit) */
	unsigned int zs_cls;
	bool raw;		/* stored uncompressed (huge) */
};

struct replay {
	struct zba_pool *pool;
	struct obj *objs;
	unsigned long nr, cap;
	unsigned long units, same;
	unsigned long huge;
	double compressed;
};

static bool move_cb(void *ctx, u32 owner, unsigned long handle)
{
	struct replay *r = ctx;
	unsigned long nh;

	if (owner >= r->nr || r->objs[owner].handle != handle)
		return false;
	nh = zba_move(r->pool, handle);
	if (!nh)
		return false;
	r->objs[owner].handle = nh;
	return true;
}

static int replay_file(struct replay *r, struct zs_model *zs, const char *path,
		       unsigned int unit, enum corpus_algo algo, int level)
{
	struct corpus *c = corpus_open(path, unit);
	bool progress = isatty(2);
	unsigned char *buf;
	int ret;

	if (!c) {
		fprintf(stderr, "zblk-density: %s: %s\n", path, strerror(errno));
		return -1;
	}
	buf = malloc(unit);
	while ((ret = corpus_next(c, buf)) == 1) {
		unsigned int huge = zba_huge_size(r->pool);
		size_t len;
		struct obj *o;

		r->units++;
		if (progress && r->units % (16384 * 4096 / unit) == 0)
			fprintf(stderr, "\rzblk-density: %lu MiB", r->units * unit >> 20);
		if (unit_same_filled(buf, unit)) {
			r->same++;
			continue;
		}
		len = compress_unit(algo, level, buf, unit);
		if (!len) {
			fprintf(stderr, "zblk-density: compression failed\n");
			ret = -1;
			break;
		}
		if (len > unit)
			len = unit;
		if (r->nr == r->cap) {
			r->cap = r->cap ? 2 * r->cap : 65536;
			r->objs = realloc(r->objs, r->cap * sizeof(*r->objs));
			if (!r->objs) {
				ret = -1;
				break;
			}
		}
		o = &r->objs[r->nr];
		o->len = len;
		if (zba_alloc(r->pool, len >= huge ? unit : len, r->nr, GFP_NOIO,
			      &o->handle)) {
			fprintf(stderr, "zblk-density: allocation failed\n");
			ret = -1;
			break;
		}
		r->huge += len >= huge;
		o->raw = len >= huge;
		if (o->raw)
			zba_write(r->pool, o->handle, buf, unit);
		else
			zba_write(r->pool, o->handle, compress_output(), len);
		o->zs_obj = zs_store(zs, len, &o->zs_cls);
		r->compressed += len;
		r->nr++;
	}
	if (progress)
		fprintf(stderr, "\r                              \r");
	free(buf);
	corpus_close(c);
	return ret < 0 ? -1 : 0;
}

/* ---- output ---------------------------------------------------------------- */

struct out {
	bool json;
	bool first;
};

static void put(struct out *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void put(struct out *o, const char *key, const char *fmt, ...)
{
	va_list ap;

	if (o->json)
		printf("%s\n  \"%s\": ", o->first ? "{" : ",", key);
	else
		printf("%-28s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!o->json)
		printf("\n");
	o->first = false;
}

/* Everything kmalloc holds for zblk: descriptors, the pool, its size table. */
static unsigned long kmalloc_bytes(void)
{
	return shim_live_kmalloc_rounded;
}

/* Per type: pages, objects, descriptor bytes and their share of the pages. */
static void print_types(struct zba_pool *pool)
{
	unsigned long pages = 0, meta = 0;
	unsigned int i;

	printf("# type slot obj_max pages/blk slots/blk blocks pages objs meta_bytes meta_%%\n");
	for (i = 0; i < zba_nr_types(pool); i++) {
		struct zba_type_stats st;

		zba_type_stats(pool, i, &st);
		pages += st.pages;
		meta += st.meta_bytes;
		if (!st.blocks)
			continue;
		printf("%4u %5u %5u %3u %4u %6lu %7lu %7lu %8lu %6.2f\n", i, st.slot_size,
		       st.obj_max, st.pages_per_block, st.slots_per_block, st.blocks, st.pages,
		       st.objs_used, st.meta_bytes, 100.0 * st.meta_bytes / (st.pages * PAGE_SIZE));
	}
	printf("# total: pages %lu, descriptors %lu bytes = %.3f%% of the pages\n", pages, meta,
	       pages ? 100.0 * meta / (pages * PAGE_SIZE) : 0);
}

static int print_table(unsigned int unit)
{
	struct zba_pool *pool = zba_pool_create("table", unit);
	unsigned int i;

	if (!pool) {
		fprintf(stderr, "zblk-density: no pool for unit %u\n", unit);
		return 1;
	}
	printf("# unit %u, PAGE_SIZE %lu: %u types, huge size %u\n", unit, PAGE_SIZE,
	       zba_nr_types(pool), zba_huge_size(pool));
	printf("# type slot_size obj_max pages_per_block slots_per_block tail_bytes spacing_%% descriptor_bytes\n");
	for (i = 0; i < zba_nr_types(pool); i++) {
		struct zba_type_stats st, prev;
		unsigned long h;

		zba_type_stats(pool, i, &st);
		if (i)
			zba_type_stats(pool, i - 1, &prev);
		/* One object makes one block: its descriptor's bucket. */
		if (zba_alloc(pool, st.obj_max, 0, GFP_KERNEL, &h))
			return 1;
		zba_type_stats(pool, i, &st);
		zba_free(pool, h);
		printf("%4u %6u %6u %3u %4u %6lu %6.2f %5lu\n", i, st.slot_size, st.obj_max,
		       st.pages_per_block, st.slots_per_block,
		       st.pages_per_block * PAGE_SIZE - (unsigned long)st.slots_per_block * st.slot_size,
		       i ? 100.0 * (st.slot_size - prev.slot_size) / st.slot_size : 0.0,
		       st.meta_bytes);
	}
	zba_pool_destroy(pool);
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Read object @i through the allocator (and decompress it into @out). */
static bool read_obj(struct replay *r, enum corpus_algo algo, unsigned int unit,
		     unsigned long i, void *copy, void *out)
{
	struct obj *o = &r->objs[i];
	unsigned int len = o->raw ? unit : o->len;
	const void *p = zba_read_begin(r->pool, o->handle, len, copy);
	bool copied = p == copy;

	if (o->raw)
		memcpy(out, p, unit);
	else if (decompress_unit(algo, p, len, out, unit))
		exit(1);
	zba_read_end(r->pool, o->handle, p);
	return copied;
}

/*
 * Time the allocator on the objects of @r (already stored): reads with
 * decompression, against decompressing from one flat buffer (what a
 * virtually contiguous or high-order block would allow); then free and
 * allocate+write everything again. CPU time of this thread.
 */
static void bench(struct replay *r, unsigned int unit, enum corpus_algo algo)
{
	unsigned char *copy = malloc(unit), *out = malloc(unit), *arena;
	unsigned long i, n = r->nr, k, rounds = 3, nspan = 0, total = 0, *off;
	double t, t_in = 0, t_span = 0, f_in = 0, f_span = 0, t_alloc = 0, t_free = 0;
	bool *span = calloc(n, sizeof(*span));

	shim_page_cache = true;
	off = calloc(n + 1, sizeof(*off));
	for (i = 0; i < n; i++) {
		off[i] = total;
		total += r->objs[i].raw ? unit : r->objs[i].len;
	}
	arena = malloc(total);
	for (i = 0; i < n; i++) {
		struct obj *o = &r->objs[i];
		unsigned int len = o->raw ? unit : o->len;
		const void *p = zba_read_begin(r->pool, o->handle, len, copy);

		span[i] = p == copy;
		nspan += span[i];
		memcpy(arena + off[i], p, len);
		zba_read_end(r->pool, o->handle, p);
	}
	for (k = 0; k < rounds; k++) {
		int pass;

		for (pass = 0; pass < 2; pass++) {
			t = now();
			for (i = 0; i < n; i++)
				if (span[i] == pass)
					read_obj(r, algo, unit, i, copy, out);
			*(pass ? &t_span : &t_in) += now() - t;
			t = now();
			for (i = 0; i < n; i++) {
				struct obj *o = &r->objs[i];

				if (span[i] != pass)
					continue;
				if (o->raw)
					memcpy(out, arena + off[i], unit);
				else if (decompress_unit(algo, arena + off[i], o->len, out, unit))
					exit(1);
			}
			*(pass ? &f_span : &f_in) += now() - t;
		}
		t = now();
		for (i = 0; i < n; i++)
			zba_free(r->pool, r->objs[i].handle);
		t_free += now() - t;
		t = now();
		for (i = 0; i < n; i++) {
			struct obj *o = &r->objs[i];
			unsigned int len = o->raw ? unit : o->len;

			if (zba_alloc(r->pool, len, i, GFP_NOIO, &o->handle))
				exit(1);
			zba_write(r->pool, o->handle, arena + off[i], len);
		}
		t_alloc += now() - t;
	}
	printf("bench: %lu objects x %lu rounds, unit %u, %s, PAGE_SIZE %lu, userspace shim, CPU time\n",
	       n, rounds, unit, algo == ALGO_LZ4 ? "lz4" : "zstd", PAGE_SIZE);
	printf("  objects whose slot spans pages (read by copy): %.1f%%\n", 100.0 * nspan / n);
	printf("  read+decompress, slot in one page:   %7.0f ns (flat buffer %7.0f ns)\n",
	       n - nspan ? 1e9 * t_in / ((n - nspan) * rounds) : 0,
	       n - nspan ? 1e9 * f_in / ((n - nspan) * rounds) : 0);
	printf("  read+decompress, slot spans pages:   %7.0f ns (flat buffer %7.0f ns)\n",
	       nspan ? 1e9 * t_span / (nspan * rounds) : 0,
	       nspan ? 1e9 * f_span / (nspan * rounds) : 0);
	printf("  read+decompress, all objects:        %7.0f ns (flat buffer %7.0f ns)\n",
	       1e9 * (t_in + t_span) / (n * rounds), 1e9 * (f_in + f_span) / (n * rounds));
	printf("  zba_alloc+zba_write:                 %7.0f ns/object\n", 1e9 * t_alloc / (n * rounds));
	printf("  zba_free:                            %7.0f ns/object\n", 1e9 * t_free / (n * rounds));
	free(copy);
	free(out);
	free(arena);
	free(off);
	free(span);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unit", required_argument, NULL, 'u' },
		{ "algo", required_argument, NULL, 'a' },
		{ "level", required_argument, NULL, 'l' },
		{ "free-fraction", required_argument, NULL, 'f' },
		{ "seed", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "print-table", no_argument, NULL, 't' },
		{ "bench", no_argument, NULL, 'b' },
		{ "types", no_argument, NULL, 'T' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	unsigned int unit = 4096;
	enum corpus_algo algo = ALGO_LZ4;
	bool have_level = false, table = false, do_bench = false, json = false, types = false;
	double fraction = -1;
	unsigned long seed = 1;
	struct replay r = { 0 };
	struct zs_model zs;
	struct zs_figures zf;
	struct out o = { .first = true };
	int level = 0, c;
	char *end;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			unit = strtoul(optarg, &end, 0);
			if (*end || (unit != 4096 && unit != 16384)) {
				fprintf(stderr, "zblk-density: --unit must be 4096 or 16384\n");
				return 2;
			}
			break;
		case 'a':
			if (!strcmp(optarg, "lz4")) {
				algo = ALGO_LZ4;
			} else if (!strcmp(optarg, "zstd")) {
				algo = ALGO_ZSTD;
			} else {
				fprintf(stderr, "zblk-density: --algo must be lz4 or zstd\n");
				return 2;
			}
			break;
		case 'l':
			level = strtol(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "zblk-density: bad --level '%s'\n", optarg);
				return 2;
			}
			have_level = true;
			break;
		case 'f':
			fraction = strtod(optarg, &end);
			if (*end || !*optarg || !(fraction >= 0 && fraction <= 1)) {
				fprintf(stderr, "zblk-density: --free-fraction must be in 0..1\n");
				return 2;
			}
			break;
		case 's':
			seed = strtoul(optarg, &end, 0);
			if (*end || !*optarg) {
				fprintf(stderr, "zblk-density: bad --seed '%s'\n", optarg);
				return 2;
			}
			break;
		case 'j':
			json = true;
			break;
		case 't':
			table = true;
			break;
		case 'b':
			do_bench = true;
			break;
		case 'T':
			types = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (table)
		return print_table(unit);
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if (!have_level)
		level = algo_default_level(algo);
	if (algo == ALGO_LZ4 && level < 1) {
		fprintf(stderr, "zblk-density: lz4 acceleration must be >= 1\n");
		return 2;
	}
	if (algo == ALGO_ZSTD && (level < -7 || level > 22)) {
		fprintf(stderr, "zblk-density: zstd level must be in -7..22\n");
		return 2;
	}

	r.pool = zba_pool_create("density", unit);
	if (!r.pool) {
		fprintf(stderr, "zblk-density: cannot create a pool\n");
		return 1;
	}
	zs_init(&zs, unit);
	if (replay_file(&r, &zs, argv[optind], unit, algo, level))
		return 1;
	if (!r.nr) {
		fprintf(stderr, "zblk-density: %s: no unit to store\n", argv[optind]);
		return 1;
	}
	if (do_bench) {
		bench(&r, unit, algo);
		return 0;
	}
	if (types) {
		print_types(r.pool);
		return 0;
	}

	o.json = json;
	zf = zs_count(&zs, false);
	put(&o, "orig_bytes", "%lu", r.units * unit);
	put(&o, "compressed_bytes", "%.0f", r.compressed);
	put(&o, "allocated_bytes", "%lu", zba_total_pages(r.pool) * PAGE_SIZE);
	put(&o, "overhead", "%.4f", zba_total_pages(r.pool) * PAGE_SIZE / r.compressed);
	put(&o, "zsmalloc_bytes", "%lu", zf.bytes);
	put(&o, "zsmalloc_overhead", "%.4f", zf.bytes / r.compressed);
	put(&o, "unit", "%u", unit);
	put(&o, "algo", json ? "\"%s\"" : "%s", algo == ALGO_LZ4 ? "lz4" : "zstd");
	put(&o, "level", "%d", level);
	put(&o, "page_size", "%lu", PAGE_SIZE);
	put(&o, "units", "%lu", r.units);
	put(&o, "same_filled_units", "%lu", r.same);
	put(&o, "stored_objects", "%lu", r.nr);
	put(&o, "compression_ratio", "%.3f", (double)(r.units - r.same) * unit / r.compressed);
	put(&o, "types", "%u", zba_nr_types(r.pool));
	put(&o, "huge_size", "%u", zba_huge_size(r.pool));
	put(&o, "huge_objects", "%lu", r.huge);
	put(&o, "metadata_bytes", "%lu", zba_meta_bytes(r.pool));
	put(&o, "metadata_pct", "%.3f", 100.0 * zba_meta_bytes(r.pool) /
	    (zba_total_pages(r.pool) * PAGE_SIZE));
	put(&o, "kmalloc_bytes", "%lu", kmalloc_bytes());
	put(&o, "zsmalloc_huge_size", "%u", zs.huge);
	put(&o, "zsmalloc_metadata_bytes", "%lu", zf.meta);

	if (fraction >= 0) {
		unsigned long i, nfree = 0, got;
		double left = r.compressed;
		struct zs_figures zc;
		u64 x = seed * 0x9e3779b97f4a7c15ULL | 1;
		unsigned long before;
		struct zba_compact_ctl ctl = { .max_pages = ULONG_MAX, .max_objects = ULONG_MAX };

		for (i = 0; i < r.nr; i++) {
			x ^= x << 13; x ^= x >> 7; x ^= x << 17;
			if ((double)(x >> 11) / (double)(1ULL << 53) >= fraction)
				continue;
			zba_free(r.pool, r.objs[i].handle);
			r.objs[i].handle = 0;
			zs_free(&zs, r.objs[i].zs_cls, r.objs[i].zs_obj);
			left -= r.objs[i].len;
			nfree++;
		}
		zf = zs_count(&zs, false);
		zc = zs_count(&zs, true);
		put(&o, "free_fraction", "%.4f", fraction);
		put(&o, "free_objects_freed", "%lu", nfree);
		put(&o, "free_compressed_bytes", "%.0f", left);
		put(&o, "free_allocated_bytes", "%lu", zba_total_pages(r.pool) * PAGE_SIZE);
		put(&o, "free_overhead", "%.4f", left ? zba_total_pages(r.pool) * PAGE_SIZE / left : 0);
		put(&o, "free_metadata_bytes", "%lu", zba_meta_bytes(r.pool));
		put(&o, "free_pages_freeable", "%lu", zba_pages_freeable(r.pool));
		put(&o, "free_zsmalloc_bytes", "%lu", zf.bytes);
		put(&o, "free_zsmalloc_overhead", "%.4f", left ? zf.bytes / left : 0);
		before = zba_total_pages(r.pool);
		got = zba_compact(r.pool, move_cb, &r, &ctl);
		put(&o, "compact_pages_freed", "%lu", got);
		put(&o, "compact_allocated_bytes", "%lu", zba_total_pages(r.pool) * PAGE_SIZE);
		put(&o, "compact_overhead", "%.4f", left ? zba_total_pages(r.pool) * PAGE_SIZE / left : 0);
		put(&o, "compact_metadata_bytes", "%lu", zba_meta_bytes(r.pool));
		put(&o, "compact_pages_freeable", "%lu", zba_pages_freeable(r.pool));
		put(&o, "compact_zsmalloc_bytes", "%lu", zc.bytes);
		put(&o, "compact_zsmalloc_overhead", "%.4f", left ? zc.bytes / left : 0);
		if (before - zba_total_pages(r.pool) != got)
			fprintf(stderr, "zblk-density: compaction reported %lu pages, total fell by %lu\n",
				got, before - zba_total_pages(r.pool));
	}
	if (json)
		printf("\n}\n");
	zba_pool_destroy(r.pool);
	zs_destroy(&zs);
	free(r.objs);
	return 0;
}
