// SPDX-License-Identifier: GPL-2.0
/*
 * test_alloc.c - unit tests for alloc/zblk_alloc.c, built unchanged against
 * tests/alloc/shim/ (see Makefile). Every test checks what a user of the
 * allocator sees: the bytes written through a handle come back, owners are
 * reported right, counters add up, pages are given back, nothing leaks.
 *
 * Usage: test_alloc [--corpus FILE] [--ops N] [--seed N] [TEST...]
 * Tests: types model failinj compact leak migrate conc (default: all but
 * conc).
 * The corpus (default $ZBLK_CORPUS, else ../shared/corpus/anon-a.bin.zst)
 * supplies real compressed sizes; without it the tests that need it fail.
 */
#include <pthread.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>
#include "shim.h"
#include "alloc/zblk_alloc.h"
#include "tools/src/corpus.h"

static int failures;
static const char *corpus_path;
static unsigned long nr_ops = 1000000;
static unsigned long seed0 = 1;

#define CHECK(c, ...) do { if (!(c)) { failures++; \
	fprintf(stderr, "FAIL %s:%d: %s: ", __func__, __LINE__, #c); \
	fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define REQUIRE(c, ...) do { if (!(c)) { CHECK(c, __VA_ARGS__); return; } } while (0)

static u64 rnd_state = 88172645463325252ULL;
static u64 rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

/* Deterministic object contents from a seed. */
static void fill(void *buf, size_t len, u64 seed)
{
	u64 x = seed * 0x9e3779b97f4a7c15ULL | 1;
	unsigned char *p = buf;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		memcpy(p + i, &x, 8);
	}
	for (; i < len; i++)
		p[i] = (unsigned char)(seed + i);
}

static unsigned char *scratch, *expect;

/* Do the @len bytes at @h match seed @seed? */
static bool verify(struct zba_pool *pool, unsigned long h, size_t len, u64 seed)
{
	const void *p;
	bool ok;

	fill(expect, len, seed);
	p = zba_read_begin(pool, h, len, scratch);
	ok = !memcmp(p, expect, len);
	zba_read_end(pool, h, p);
	return ok;
}

static void store(struct zba_pool *pool, unsigned long h, size_t len, u64 seed)
{
	fill(expect, len, seed);
	zba_write(pool, h, expect, len);
}

/*
 * kmalloc bytes (bucket sizes) the pool held with no block: its own tables.
 * Set by tests that check descriptor bytes against the shim's count; 0 when
 * not known.
 */
static long pool_kmalloc_rounded;

/* Counters add up: objects, pages, blocks, kmalloc objects and bytes. */
static void check_books(struct zba_pool *pool, long live, const char *when)
{
	unsigned long objs = 0, pages = 0, blocks = 0, freeable = 0, meta = 0;
	unsigned int i, j;

	shim_run_work();	/* pages whose release waited for a page lock */
	for (i = 0; i < zba_nr_types(pool); i++) {
		struct zba_type_stats st;
		unsigned long occ = 0;

		zba_type_stats(pool, i, &st);
		for (j = 0; j < 5; j++)
			occ += st.occupancy[j];
		CHECK(occ == st.blocks, "%s: type %u occupancy %lu != blocks %lu", when, i, occ, st.blocks);
		CHECK(st.pages <= st.blocks * st.pages_per_block, "%s: type %u pages", when, i);
		CHECK(st.objs_used <= st.objs_allocated, "%s: type %u objs", when, i);
		CHECK(st.blocks == 0 || st.pages > 0, "%s: type %u block without pages", when, i);
		CHECK(st.occupancy[4] * st.slots_per_block <= st.objs_used, "%s: type %u full", when, i);
		CHECK(st.meta_bytes % (st.blocks ? st.blocks : 1) == 0 &&
		      (!st.blocks || st.meta_bytes / st.blocks >= 32),
		      "%s: type %u: %lu descriptor bytes for %lu blocks", when, i, st.meta_bytes, st.blocks);
		objs += st.objs_used;
		meta += st.meta_bytes;
		pages += st.pages;
		blocks += st.blocks;
		freeable += st.pages_freeable;
	}
	CHECK((long)objs == live, "%s: objects %lu, expected %ld", when, objs, live);
	CHECK(pages == zba_total_pages(pool), "%s: type pages %lu != total %lu", when, pages, zba_total_pages(pool));
	CHECK((long)pages == shim_live_pages, "%s: pages %lu, page allocator has %ld", when, pages, shim_live_pages);
	/* One descriptor per block plus the pool and its size table. */
	CHECK((long)blocks + 2 == shim_live_kmalloc, "%s: blocks %lu, kmalloc objects %ld", when, blocks, shim_live_kmalloc);
	CHECK(meta == zba_meta_bytes(pool), "%s: type descriptor bytes %lu != pool's %lu", when, meta,
	      zba_meta_bytes(pool));
	/* Descriptor bytes are what kmalloc holds for them, bucket-rounded. */
	if (pool_kmalloc_rounded)
		CHECK((long)meta == shim_live_kmalloc_rounded - pool_kmalloc_rounded,
		      "%s: descriptor bytes %lu, kmalloc holds %ld beyond the pool's %ld", when, meta,
		      shim_live_kmalloc_rounded - pool_kmalloc_rounded, pool_kmalloc_rounded);
	CHECK(zba_mem_pages(pool) == pages + DIV_ROUND_UP(meta, PAGE_SIZE),
	      "%s: mem pages %lu != %lu pages + %lu descriptor bytes", when, zba_mem_pages(pool),
	      pages, meta);
	CHECK(freeable == zba_pages_freeable(pool), "%s: freeable", when);
	CHECK(shim_warnings == 0, "%s: %ld kernel warnings", when, shim_warnings);
}

static void check_no_leak(const char *when)
{
	CHECK(shim_live_pages == 0, "%s: %ld pages leaked", when, shim_live_pages);
	CHECK(shim_live_kmalloc == 0, "%s: %ld kmalloc objects leaked", when, shim_live_kmalloc);
}

/* ---- size sources ---- */
static unsigned int *corpus_lz4[2], *corpus_zstd[2];
static long corpus_n[2];

static int load_corpus(void)
{
	static const unsigned int units[2] = { 4096, 16384 };
	long n;
	int i;

	if (corpus_n[0])
		return 0;
	for (i = 0; i < 2; i++) {
		n = corpus_sizes(corpus_path, units[i], ALGO_LZ4, 1, &corpus_lz4[i]);
		if (n <= 0)
			goto fail;
		corpus_n[i] = n;
		n = corpus_sizes(corpus_path, units[i], ALGO_ZSTD, 3, &corpus_zstd[i]);
		if (n != corpus_n[i])
			goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "FAIL: cannot read the corpus '%s' (set ZBLK_CORPUS)\n", corpus_path);
	failures++;
	return -1;
}

enum dist { DIST_UNIFORM, DIST_CORPUS };

static size_t draw_size(unsigned int unit, enum dist d)
{
	int u = unit == 16384;

	if (d == DIST_CORPUS) {
		long i = rnd() % (2 * corpus_n[u]);

		return i < corpus_n[u] ? corpus_lz4[u][i] : corpus_zstd[u][i - corpus_n[u]];
	}
	return 1 + rnd() % unit;
}

/* zba_compact() bounded by pages only. */
static unsigned long compact_pages(struct zba_pool *pool, zba_move_fn fn, void *ctx,
				   unsigned long max_pages)
{
	struct zba_compact_ctl ctl = { .max_pages = max_pages, .max_objects = ULONG_MAX };

	return zba_compact(pool, fn, ctx, &ctl);
}

/* ---- types: every type and both unit sizes ---- */

/* Compaction callback of the types test: the owner is the index in h[]. */
struct owner_check {
	struct zba_pool *pool;
	unsigned long *h;
	unsigned int n;
	long calls, bad;
};

static bool owner_check_cb(void *ctx, u32 owner, unsigned long handle)
{
	struct owner_check *oc = ctx;
	unsigned long nh;

	oc->calls++;
	if (owner >= oc->n || oc->h[owner] != handle) {
		oc->bad++;
		return false;
	}
	nh = zba_move(oc->pool, handle);
	if (!nh)
		return false;
	oc->h[owner] = nh;
	return true;
}

static void test_types_unit(unsigned int unit)
{
	struct zba_pool *pool = zba_pool_create("types", unit);
	unsigned int t, prev = 0, i;
	unsigned long *h;

	REQUIRE(pool, "pool for unit %u", unit);
	pool_kmalloc_rounded = shim_live_kmalloc_rounded;
	h = calloc(600, sizeof(*h));
	CHECK(zba_huge_size(pool) > unit / 2 && zba_huge_size(pool) <= unit, "huge %u", zba_huge_size(pool));
	for (t = 0; t < zba_nr_types(pool); t++) {
		struct zba_type_stats st;
		unsigned int n, sizes[2];

		zba_type_stats(pool, t, &st);
		CHECK(st.slot_size > prev && st.slot_size % 8 == 0, "type %u slot %u", t, st.slot_size);
		/* The owner lives in the slot's last 4 bytes, but for the unit type. */
		CHECK(st.obj_max == (t + 1 == zba_nr_types(pool) ? unit : st.slot_size - 4),
		      "type %u slot %u holds objects of up to %u", t, st.slot_size, st.obj_max);
		CHECK(st.slots_per_block * st.slot_size <= st.pages_per_block * PAGE_SIZE &&
		      st.slots_per_block >= 1 && st.slots_per_block <= 512, "type %u geometry", t);
		CHECK((t + 1 == zba_nr_types(pool)) == (st.slot_size == unit), "last type is the unit");
		sizes[0] = prev + 1;
		sizes[1] = st.obj_max;
		/* More than one block's worth, so that a second block is made. */
		n = st.slots_per_block + 1 < 600 ? st.slots_per_block + 1 : 600;
		for (i = 0; i < n; i++) {
			size_t len = sizes[i & 1];
			int r = zba_alloc(pool, len, i, GFP_NOIO, &h[i]);

			CHECK(r == 0 && h[i], "alloc %zu: %d", len, r);
			if (r)
				break;
			CHECK(zba_slot_size(pool, h[i]) == st.obj_max, "size %zu got slot %u want %u",
			      len, zba_slot_size(pool, h[i]), st.obj_max);
			store(pool, h[i], len, i * 7919 + t);
		}
		for (i = 0; i < n && h[i]; i++)
			CHECK(verify(pool, h[i], sizes[i & 1], i * 7919 + t), "type %u obj %u", t, i);
		check_books(pool, n, "types");
		/*
		 * Objects of the largest size end where the slot's owner
		 * begins: free the small ones and compact; every owner must
		 * come back right and every object intact.
		 */
		if (n > 2) {
			struct owner_check oc = { .pool = pool, .h = h, .n = n };

			for (i = 0; i < n; i += 2) {
				zba_free(pool, h[i]);
				h[i] = 0;
			}
			compact_pages(pool, owner_check_cb, &oc, ULONG_MAX);
			CHECK(oc.bad == 0, "type %u: %ld of %ld owners wrong after writing %u-byte objects",
			      t, oc.bad, oc.calls, sizes[1]);
			for (i = 1; i < n; i += 2)
				CHECK(verify(pool, h[i], sizes[1], i * 7919 + t), "type %u obj %u after compaction",
				      t, i);
			check_books(pool, n / 2, "types after compaction");
		}
		for (i = 0; i < n; i++)
			if (h[i])
				zba_free(pool, h[i]);
		memset(h, 0, 600 * sizeof(*h));
		CHECK(zba_total_pages(pool) == 0, "pages left after freeing type %u", t);
		prev = st.obj_max;
	}
	/* Bad sizes are refused without a warning. */
	CHECK(zba_alloc(pool, 0, 0, GFP_NOIO, &h[0]) == -EINVAL, "size 0");
	CHECK(zba_alloc(pool, unit + 1, 0, GFP_NOIO, &h[0]) == -EINVAL, "size unit+1");
	CHECK(shim_warnings == 0, "warnings");
	zba_pool_destroy(pool);
	pool_kmalloc_rounded = 0;
	free(h);
	check_no_leak("types");
}

static void test_types(void)
{
	unsigned int u;

	test_types_unit(4096);
	test_types_unit(16384);
	/* Every accepted unit size gets a table; bad ones are refused. */
	for (u = 1024; u <= 65536; u += 1024) {
		struct zba_pool *p = zba_pool_create("u", u);

		CHECK(p && zba_nr_types(p) <= ZBA_MAX_TYPES, "unit %u", u);
		zba_pool_destroy(p);
	}
	CHECK(!zba_pool_create("bad", 4000), "unit 4000 accepted");
	CHECK(!zba_pool_create("bad", 131072), "unit 128K accepted");
	CHECK(!zba_pool_create("bad", 0), "unit 0 accepted");
	check_no_leak("units");
}

/* ---- model test against a reference ---- */
struct ref {
	unsigned long h;
	u32 len;
	u64 seed;
	pthread_mutex_t lock;	/* conc test only */
};

/* Migrate the page at a random pfn, as compaction's scanner would. */
static int migrate_random(void)
{
	unsigned long max = shim_max_pfn();

	if (!max)
		return SHIM_MIG_NOT_MOVABLE;
	return shim_migrate_page(shim_pfn_to_page(rnd() % max),
				 rnd() % 2 ? MIGRATE_SYNC : MIGRATE_ASYNC, NULL, NULL);
}

static void model_run(unsigned int unit, enum dist d, unsigned long ops,
		      unsigned int nr, unsigned int fail_permille)
{
	struct zba_pool *pool = zba_pool_create("model", unit);
	struct ref *ref = calloc(nr, sizeof(*ref));
	long live = 0, enomem = 0, migrated = 0;
	int failures0 = failures;
	unsigned long op;
	unsigned int i;

	REQUIRE(pool && ref, "setup");
	for (op = 0; op < ops; op++) {
		struct ref *r = &ref[rnd() % nr];
		unsigned int what = rnd() % 8;

		if (!r->h) {
			size_t len = draw_size(unit, d);
			int ret;

			shim_fail_permille = fail_permille;
			ret = zba_alloc(pool, len, r - ref, GFP_NOIO, &r->h);
			shim_fail_permille = 0;
			if (ret) {
				CHECK(ret == -ENOMEM && fail_permille, "alloc %zu: %d", len, ret);
				r->h = 0;
				enomem++;
				continue;
			}
			r->len = len;
			r->seed = rnd();
			store(pool, r->h, len, r->seed);
			live++;
		} else if (what < 3) {
			zba_free(pool, r->h);
			r->h = 0;
			live--;
		} else if (!verify(pool, r->h, r->len, r->seed)) {
			CHECK(0, "op %lu: object of %u bytes damaged", op, r->len);
			break;
		}
		/* Now and then the kernel migrates a page of the pool. */
		if (rnd() % 16 == 0 && migrate_random() == SHIM_MIG_OK)
			migrated++;
		if (op % 100000 == 0)
			check_books(pool, live, "model");
		if (failures != failures0)
			break;
	}
	CHECK(migrated > 0 && (long)zba_pages_migrated(pool) == migrated,
	      "%ld pages migrated, the pool counted %lu", migrated, zba_pages_migrated(pool));
	for (i = 0; i < nr; i++)
		if (ref[i].h)
			CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "final %u", i);
	check_books(pool, live, "model end");
	if (fail_permille)
		CHECK(enomem > 0, "failure injection never hit");
	for (i = 0; i < nr; i++)
		if (ref[i].h)
			zba_free(pool, ref[i].h);
	CHECK(zba_total_pages(pool) == 0 && shim_live_pages == 0, "pages after freeing all");
	zba_pool_destroy(pool);
	free(ref);
	check_no_leak("model");
	printf("  model unit %u %s: %lu ops, %ld -ENOMEM, %ld pages migrated\n", unit,
	       d == DIST_CORPUS ? "corpus sizes" : "uniform sizes", op, enomem, migrated);
}

static void test_model(void)
{
	if (load_corpus())
		return;
	model_run(4096, DIST_CORPUS, nr_ops / 2, 20000, 0);
	model_run(4096, DIST_UNIFORM, nr_ops / 4, 20000, 0);
	model_run(16384, DIST_CORPUS, nr_ops / 8, 6000, 0);
	model_run(16384, DIST_UNIFORM, nr_ops / 8, 6000, 0);
}

/* ---- failure injection ---- */
static void failinj_run(unsigned int unit)
{
	struct zba_pool *pool;
	struct ref *ref;
	unsigned int nr = 3000, i, k;
	long live = 0, hit = 0;

	/* Pool creation fails cleanly at every allocation it makes. */
	for (k = 0; k < 4; k++) {
		shim_fail_nth = k;
		pool = zba_pool_create("f", unit);
		shim_fail_nth = -1;
		CHECK(!pool, "create survived failure %u", k);
		zba_pool_destroy(pool);
		check_no_leak("create");
	}
	pool = zba_pool_create("f", unit);
	ref = calloc(nr * 2, sizeof(*ref));
	REQUIRE(pool && ref, "setup");
	for (i = 0; i < nr; i++) {
		ref[i].len = draw_size(unit, DIST_CORPUS);
		ref[i].seed = rnd();
		REQUIRE(!zba_alloc(pool, ref[i].len, i, GFP_NOIO, &ref[i].h), "alloc");
		store(pool, ref[i].h, ref[i].len, ref[i].seed);
		live++;
	}
	/* Fail the k-th page/descriptor/id allocation from now, for many k. */
	for (k = 0; k < 60; k++) {
		shim_fail_nth = k % 6;
		for (i = nr; i < 2 * nr; i++) {
			struct ref *r = &ref[i];
			unsigned long h = 0xdead;
			size_t len = draw_size(unit, k & 1 ? DIST_UNIFORM : DIST_CORPUS);
			int ret;

			if (r->h)
				continue;
			ret = zba_alloc(pool, len, i, k & 2 ? GFP_NOWAIT : GFP_NOIO, &h);
			if (ret) {
				CHECK(ret == -ENOMEM && h == 0xdead, "failed alloc: %d", ret);
				hit++;
				break;
			}
			r->h = h;
			r->len = len;
			r->seed = rnd();
			store(pool, h, len, r->seed);
			live++;
		}
		shim_fail_nth = -1;
		/* Free a random part so that new blocks and pages are needed. */
		for (i = nr; i < 2 * nr; i++) {
			if (ref[i].h && rnd() % 3 == 0) {
				CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "obj %u", i);
				zba_free(pool, ref[i].h);
				ref[i].h = 0;
				live--;
			}
		}
		check_books(pool, live, "failinj");
	}
	CHECK(hit > 30, "only %ld injected failures were seen", hit);
	for (i = 0; i < 2 * nr; i++)
		if (ref[i].h) {
			CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "stored object %u damaged", i);
			zba_free(pool, ref[i].h);
		}
	zba_pool_destroy(pool);
	free(ref);
	check_no_leak("failinj");
	printf("  failinj unit %u: %ld allocations failed cleanly\n", unit, hit);
}

static void test_failinj(void)
{
	if (load_corpus())
		return;
	failinj_run(4096);
	failinj_run(16384);
	/* Random failures during model runs. */
	model_run(4096, DIST_CORPUS, nr_ops / 10, 5000, 20);
	model_run(16384, DIST_UNIFORM, nr_ops / 20, 2000, 20);
}

/* ---- relocation / compaction ---- */
struct cctx {
	struct zba_pool *pool;
	struct ref *ref;
	unsigned int nr;
	unsigned int free_permille;	/* free instead of moving, like a racing discard */
	bool refuse;
	long calls, moved, nospace, raced_frees, bad_owner;
	/* Pages the racing frees gave back: not compaction's to count. */
	long raced_pages;
	long *live;
};

static bool move_cb(void *ctx, u32 owner, unsigned long handle)
{
	struct cctx *c = ctx;
	struct ref *r;
	unsigned long nh;

	c->calls++;
	if (owner >= c->nr || c->ref[owner].h != handle) {
		c->bad_owner++;
		return false;
	}
	r = &c->ref[owner];
	if (c->refuse)
		return false;
	if (c->free_permille && rnd() % 1000 < c->free_permille) {
		unsigned long before = zba_total_pages(c->pool);

		zba_free(c->pool, handle);
		c->raced_pages += before - zba_total_pages(c->pool);
		r->h = 0;
		(*c->live)--;
		c->raced_frees++;
		return false;
	}
	nh = zba_move(c->pool, handle);
	if (!nh) {
		c->nospace++;
		return false;
	}
	CHECK(nh != handle, "move returned the same handle");
	r->h = nh;
	c->moved++;
	return true;
}

static void compact_run(unsigned int unit, unsigned int nr, unsigned int keep_pct)
{
	struct zba_pool *pool = zba_pool_create("c", unit);
	struct ref *ref = calloc(nr, sizeof(*ref));
	struct cctx c = { .pool = pool, .ref = ref, .nr = nr };
	unsigned long t0, t1, f0, f1, got, sparse = 0, types_used = 0;
	long live = 0;
	unsigned int i;

	REQUIRE(pool && ref, "setup");
	c.live = &live;
	for (i = 0; i < nr; i++) {
		ref[i].len = draw_size(unit, DIST_CORPUS);
		ref[i].seed = rnd();
		REQUIRE(!zba_alloc(pool, ref[i].len, i, GFP_NOIO, &ref[i].h), "alloc");
		store(pool, ref[i].h, ref[i].len, ref[i].seed);
		live++;
	}
	for (i = 0; i < nr; i++)
		if (rnd() % 100 >= keep_pct) {
			zba_free(pool, ref[i].h);
			ref[i].h = 0;
			live--;
		}
	check_books(pool, live, "before compaction");
	t0 = zba_total_pages(pool);
	f0 = zba_pages_freeable(pool);
	CHECK(f0 > t0 / 10, "scattered frees left only %lu of %lu pages freeable", f0, t0);

	/* A callback that refuses everything changes nothing. */
	c.refuse = true;
	got = compact_pages(pool, move_cb, &c, ULONG_MAX);
	CHECK(got == 0 && zba_total_pages(pool) == t0, "refusing callback freed %lu", got);
	CHECK(c.calls > 0 && c.bad_owner == 0, "calls %ld bad owners %ld", c.calls, c.bad_owner);
	check_books(pool, live, "after refused compaction");
	c.refuse = false;

	/* A small budget stops early; then a racing free now and then. */
	/*
	 * The count is compaction's own: pages the racing frees gave back
	 * (raced_pages) are not in it.
	 */
	c.free_permille = 20;
	got = compact_pages(pool, move_cb, &c, 8);
	CHECK(got >= 8 && got < t0 / 2, "budget 8 freed %lu", got);
	CHECK(t0 - zba_total_pages(pool) == got + c.raced_pages,
	      "returned %lu, total fell by %lu, racing frees gave back %ld",
	      got, t0 - zba_total_pages(pool), c.raced_pages);
	t0 = zba_total_pages(pool);
	c.raced_pages = 0;
	got = compact_pages(pool, move_cb, &c, ULONG_MAX);
	t1 = zba_total_pages(pool);
	f1 = zba_pages_freeable(pool);
	CHECK(t0 - t1 == got + c.raced_pages,
	      "returned %lu, total fell by %lu, racing frees gave back %ld",
	      got, t0 - t1, c.raced_pages);
	CHECK(c.raced_pages > 0, "no racing free gave a page back: the check above proved nothing");
	CHECK(c.bad_owner == 0, "%ld callbacks with a wrong owner", c.bad_owner);
	CHECK(c.moved > 0 && c.raced_frees > 0, "moved %ld raced %ld", c.moved, c.raced_frees);
	for (i = 0; i < zba_nr_types(pool); i++) {
		struct zba_type_stats st;

		zba_type_stats(pool, i, &st);
		sparse += st.occupancy[0] + st.occupancy[1];
		types_used += st.blocks > 0;
	}
	/* At most one block per type is left under half full. */
	CHECK(sparse <= types_used, "%lu blocks under half full in %lu types", sparse, types_used);
	CHECK(f1 <= f0 / 10 + types_used, "pages_freeable %lu -> %lu", f0, f1);
	for (i = 0; i < nr; i++)
		if (ref[i].h)
			CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "object %u damaged by compaction", i);
	check_books(pool, live, "after compaction");
	printf("  compact unit %u: pages %lu -> %lu, freeable %lu -> %lu, %ld moved, %ld no room, %ld raced frees (%ld pages)\n",
	       unit, t0 + 0, t1, f0, f1, c.moved, c.nospace, c.raced_frees, c.raced_pages);
	/*
	 * Free half of what is left and compact again: the objects moved
	 * before must come back with their owners.
	 */
	for (i = 0; i < nr; i++)
		if (ref[i].h && rnd() % 2) {
			zba_free(pool, ref[i].h);
			ref[i].h = 0;
			live--;
		}
	c.free_permille = 0;
	c.moved = 0;
	t0 = zba_total_pages(pool);
	got = compact_pages(pool, move_cb, &c, ULONG_MAX);
	CHECK(c.bad_owner == 0 && c.moved > 0, "second compaction: %ld wrong owners, %ld moved",
	      c.bad_owner, c.moved);
	CHECK(t0 - zba_total_pages(pool) == got, "second compaction count");
	for (i = 0; i < nr; i++)
		if (ref[i].h)
			CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "object %u damaged", i);
	check_books(pool, live, "after second compaction");
	/* Objects not in an isolated block are not moved. */
	for (i = 0; i < nr; i++)
		if (ref[i].h) {
			CHECK(zba_move(pool, ref[i].h) == 0, "moved a non-isolated object");
			break;
		}
	/* The pool still works: allocate into it again. */
	for (i = 0; i < nr; i++)
		if (!ref[i].h) {
			ref[i].len = draw_size(unit, DIST_CORPUS);
			ref[i].seed = rnd();
			REQUIRE(!zba_alloc(pool, ref[i].len, i, GFP_NOIO, &ref[i].h), "realloc");
			store(pool, ref[i].h, ref[i].len, ref[i].seed);
			live++;
		}
	for (i = 0; i < nr; i++) {
		CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "object %u", i);
		zba_free(pool, ref[i].h);
	}
	CHECK(zba_total_pages(pool) == 0, "pages left");
	zba_pool_destroy(pool);
	free(ref);
	check_no_leak("compact");
}

/*
 * The work bound, as the shrinker uses it: a call with max_objects = N (and
 * max_pages = N) offers at most N objects to the callback, whatever the
 * objects' size; the pages it returns are what the total fell by; calls in
 * a row finish the job that one unbounded call would do; a call with nothing
 * to do offers nothing. Small objects (17-40 a page) and half of them freed,
 * so that freeing N pages takes many more than N moves: a bound on pages
 * alone (the old budget) must overrun N here, or the test proves nothing.
 */
static void compact_budget_run(unsigned int unit, unsigned int nr, unsigned int lo,
			       unsigned int hi)
{
	static const unsigned long budgets[] = { 1, 7, 32, 128 };
	struct zba_pool *pool = zba_pool_create("b", unit);
	struct ref *ref = calloc(nr, sizeof(*ref));
	struct cctx c = { .pool = pool, .ref = ref, .nr = nr };
	struct zba_compact_ctl ctl;
	unsigned long t0, got, calls, objs, freeable, pages_only_objs, k, types_used = 0;
	long live = 0;
	unsigned int i;

	REQUIRE(pool && ref, "setup");
	c.live = &live;
	for (i = 0; i < nr; i++) {
		ref[i].len = lo + rnd() % (hi - lo + 1);
		ref[i].seed = rnd();
		REQUIRE(!zba_alloc(pool, ref[i].len, i, GFP_NOIO, &ref[i].h), "alloc");
		store(pool, ref[i].h, ref[i].len, ref[i].seed);
		live++;
	}
	for (i = 0; i < nr; i++)
		if (rnd() % 2) {
			zba_free(pool, ref[i].h);
			ref[i].h = 0;
			live--;
		}
	freeable = zba_pages_freeable(pool);

	/* The old budget: pages only. How many objects would it take? */
	t0 = zba_total_pages(pool);
	ctl = (struct zba_compact_ctl){ .max_pages = 128, .max_objects = ULONG_MAX };
	c.calls = 0;
	got = zba_compact(pool, move_cb, &c, &ctl);
	pages_only_objs = ctl.objects;
	CHECK(ctl.objects == (unsigned long)c.calls && ctl.moved == (unsigned long)c.moved,
	      "ctl says %lu objects %lu moved, callback saw %ld and %ld", ctl.objects, ctl.moved,
	      c.calls, c.moved);
	CHECK(pages_only_objs > 4 * 128, "a 128-page budget took only %lu objects: no overrun to bound",
	      pages_only_objs);
	CHECK(t0 - zba_total_pages(pool) == got, "pages-only call: returned %lu, total fell by %lu",
	      got, t0 - zba_total_pages(pool));

	/* Each bounded call stays within its budget and counts honestly. */
	for (k = 0; k < sizeof(budgets) / sizeof(budgets[0]); k++) {
		for (i = 0; i < 20; i++) {
			t0 = zba_total_pages(pool);
			c.calls = 0;
			c.moved = 0;
			ctl = (struct zba_compact_ctl){ .max_pages = budgets[k], .max_objects = budgets[k] };
			got = zba_compact(pool, move_cb, &c, &ctl);
			CHECK(ctl.objects <= budgets[k], "budget %lu: %lu objects offered", budgets[k],
			      ctl.objects);
			CHECK((unsigned long)c.calls == ctl.objects && (unsigned long)c.moved == ctl.moved,
			      "budget %lu: ctl %lu/%lu, callback %ld/%ld", budgets[k], ctl.objects,
			      ctl.moved, c.calls, c.moved);
			CHECK(t0 - zba_total_pages(pool) == got, "budget %lu: returned %lu, total fell by %lu",
			      budgets[k], got, t0 - zba_total_pages(pool));
			CHECK(ctl.objects > 0, "budget %lu: a call with pages to gain did nothing", budgets[k]);
		}
		check_books(pool, live, "bounded compaction");
	}

	/* Bounded calls in a row finish the job. */
	for (calls = 0, objs = 0; calls < 100000; calls++) {
		ctl = (struct zba_compact_ctl){ .max_pages = 32, .max_objects = 32 };
		zba_compact(pool, move_cb, &c, &ctl);
		CHECK(ctl.objects <= 32, "%lu objects in a 32-object call", ctl.objects);
		objs += ctl.objects;
		if (!ctl.objects)
			break;
	}
	for (i = 0; i < zba_nr_types(pool); i++) {
		struct zba_type_stats st;

		zba_type_stats(pool, i, &st);
		types_used += st.blocks > 0;
	}
	CHECK(!ctl.objects, "still offering objects after %lu calls", calls);
	CHECK(zba_pages_freeable(pool) <= types_used, "after %lu bounded calls %lu pages freeable",
	      calls, zba_pages_freeable(pool));
	/* Nothing to do: no object offered, nothing freed. */
	ctl = (struct zba_compact_ctl){ .max_pages = 128, .max_objects = 128 };
	CHECK(zba_compact(pool, move_cb, &c, &ctl) == 0 && ctl.objects == 0, "idle call: %lu objects",
	      ctl.objects);
	for (i = 0; i < nr; i++)
		if (ref[i].h)
			CHECK(verify(pool, ref[i].h, ref[i].len, ref[i].seed), "object %u damaged", i);
	check_books(pool, live, "after bounded compaction");
	printf("  compact budget unit %u, objects %u-%u bytes: freeable %lu pages; a 128-page budget "
	       "took %lu objects; then %lu calls of <= 32 objects (%lu objects) left %lu freeable\n",
	       unit, lo, hi, freeable, pages_only_objs, calls, objs, zba_pages_freeable(pool));
	for (i = 0; i < nr; i++)
		if (ref[i].h)
			zba_free(pool, ref[i].h);
	zba_pool_destroy(pool);
	free(ref);
	check_no_leak("compact budget");
}

static void test_compact(void)
{
	if (load_corpus())
		return;
	compact_run(4096, 40000, 25);
	compact_run(16384, 10000, 25);
	compact_run(4096, 20000, 60);
	compact_budget_run(4096, 60000, 96, 236);
	compact_budget_run(16384, 60000, 96, 236);
}

/* ---- metadata: small, counted, bucket-exact ---- */

/*
 * Store every corpus object (as zblk does: raw from the huge size on) and
 * check: descriptors (kmalloc buckets, exactly what the shim's kmalloc holds
 * beyond the pool) are at most 1% of the pages overall and in every type
 * holding 8 pages or more, no descriptor takes more than a kmalloc-512
 * (formerly kmalloc-2k/-4k, whose slabs are high-order), pages stay within 1.03 x the
 * compressed bytes (the density bound, 4K pages), and zba_mem_pages() is
 * pages plus descriptors rounded up.
 */
static void meta_run(unsigned int unit, bool zstd)
{
	int u = unit == 16384;
	unsigned int *sizes = zstd ? corpus_zstd[u] : corpus_lz4[u];
	long n = corpus_n[u], i;
	struct zba_pool *pool = zba_pool_create("meta", unit);
	unsigned long *h = calloc(n, sizeof(*h)), pages, meta, type_meta_max = 0;
	double compressed = 0, worst = 0;
	unsigned int t, worst_t = 0;

	REQUIRE(pool && h, "setup");
	pool_kmalloc_rounded = shim_live_kmalloc_rounded;
	for (i = 0; i < n; i++) {
		size_t len = sizes[i] >= zba_huge_size(pool) ? unit : sizes[i];

		REQUIRE(!zba_alloc(pool, len, i, GFP_NOIO, &h[i]), "alloc %zu", len);
		compressed += sizes[i];
	}
	check_books(pool, n, "meta");
	pages = zba_total_pages(pool);
	meta = zba_meta_bytes(pool);
	for (t = 0; t < zba_nr_types(pool); t++) {
		struct zba_type_stats st;

		zba_type_stats(pool, t, &st);
		if (st.blocks && st.meta_bytes / st.blocks > type_meta_max)
			type_meta_max = st.meta_bytes / st.blocks;
		if (st.pages >= 8 && st.meta_bytes > worst * st.pages * PAGE_SIZE) {
			worst = (double)st.meta_bytes / (st.pages * PAGE_SIZE);
			worst_t = t;
		}
	}
	printf("  meta unit %u %s: %lu pages (%.4f x compressed), descriptors %lu bytes = %.3f%%, "
	       "worst type with >= 8 pages %u: %.3f%%, largest descriptor %lu bytes\n",
	       unit, zstd ? "zstd" : "lz4", pages, pages * PAGE_SIZE / compressed, meta,
	       100.0 * meta / (pages * PAGE_SIZE), worst_t, 100 * worst, type_meta_max);
	CHECK(meta * 100 <= pages * PAGE_SIZE, "descriptors %lu bytes > 1%% of %lu pages", meta, pages);
	CHECK(worst <= 0.01, "type %u: descriptors %.3f%% of its pages", worst_t, 100 * worst);
	CHECK(type_meta_max <= 512, "a descriptor takes a %lu-byte kmalloc bucket", type_meta_max);
	/*
	 * The density bound is for 4K pages; with 16K pages each type's partly
	 * used page costs 4x more on this 80 MiB corpus (docs/arm64-16k.md).
	 */
	if (PAGE_SIZE == 4096)
		CHECK(pages * PAGE_SIZE <= 1.03 * compressed, "density %.4f > 1.03",
		      pages * PAGE_SIZE / compressed);
	for (i = 0; i < n; i++)
		zba_free(pool, h[i]);
	CHECK(zba_meta_bytes(pool) == 0 && zba_mem_pages(pool) == 0, "descriptors left: %lu bytes",
	      zba_meta_bytes(pool));
	zba_pool_destroy(pool);
	pool_kmalloc_rounded = 0;
	free(h);
	check_no_leak("meta");
}

static void test_meta(void)
{
	if (load_corpus())
		return;
	meta_run(4096, false);
	meta_run(4096, true);
	meta_run(16384, false);
	meta_run(16384, true);
}

/* ---- destroy with objects still stored ---- */
static void test_leak(void)
{
	unsigned int units[2] = { 4096, 16384 }, u, i;

	for (u = 0; u < 2; u++) {
		struct zba_pool *pool = zba_pool_create("leak", units[u]);
		unsigned long h;

		REQUIRE(pool, "pool");
		for (i = 0; i < 5000; i++)
			REQUIRE(!zba_alloc(pool, 1 + rnd() % units[u], i, GFP_KERNEL, &h), "alloc");
		CHECK(shim_live_pages > 0, "no pages");
		zba_pool_destroy(pool);
		check_no_leak("destroy with objects");
	}
}

/* ---- migrate: the kernel moves pool pages (mm/migrate.c in the shim) ---- */

/* The pool's movable pages now, by increasing pfn. */
static unsigned long movable_pages(struct page ***out)
{
	unsigned long pfn, max = shim_max_pfn(), n = 0;
	struct page **v = calloc(max + 1, sizeof(*v));

	for (pfn = 0; pfn < max; pfn++) {
		struct page *p = shim_pfn_to_page(pfn);

		if (page_count(p) > 0 && __PageMovable(p) && p->mapping != PAGE_MAPPING_MOVABLE)
			v[n++] = p;
	}
	*out = v;
	return n;
}

struct mig_fill {
	struct zba_pool *pool;
	struct ref *ref;
	unsigned int nr, unit;
	long live;
};

static void mig_fill(struct mig_fill *f)
{
	unsigned int i;

	for (i = 0; i < f->nr; i++) {
		struct ref *r = &f->ref[i];

		r->len = draw_size(f->unit, DIST_CORPUS);
		r->seed = rnd();
		REQUIRE(!zba_alloc(f->pool, r->len, i, GFP_NOIO, &r->h), "alloc");
		store(f->pool, r->h, r->len, r->seed);
	}
	f->live = f->nr;
}

static void mig_verify(struct mig_fill *f, const char *when)
{
	unsigned int i, bad = 0;

	for (i = 0; i < f->nr; i++)
		if (f->ref[i].h && !verify(f->pool, f->ref[i].h, f->ref[i].len, f->ref[i].seed))
			bad++;
	CHECK(bad == 0, "%s: %u objects damaged", when, bad);
}

static void mig_free_all(struct mig_fill *f)
{
	unsigned int i;

	for (i = 0; i < f->nr; i++)
		if (f->ref[i].h) {
			zba_free(f->pool, f->ref[i].h);
			f->ref[i].h = 0;
		}
	f->live = 0;
}

/* Hooks run while the page is isolated (between isolation and migration). */
static void hook_free_all(struct page *page, void *arg)
{
	mig_free_all(arg);
}

static void hook_lock_free_all(struct page *page, void *arg)
{
	struct mig_fill *f = arg;

	/* As if compaction held the page lock (migrating it) meanwhile. */
	REQUIRE(trylock_page(page), "page locked");
	mig_free_all(f);
	/* The page could not be made unmovable: it waits, still counted live. */
	CHECK(shim_live_pages == 1 && zba_total_pages(f->pool) == 0,
	      "live pages %ld, pool pages %lu", shim_live_pages, zba_total_pages(f->pool));
	unlock_page(page);
}

static void hook_destroy(struct page *page, void *arg)
{
	struct mig_fill *f = arg;

	zba_pool_destroy(f->pool);
	f->pool = NULL;
}

struct locker {
	struct page *page;
	int locked, stop;
};

/* Holds a page lock for a while, as a migration in progress would. */
static void *locker_thread(void *arg)
{
	struct locker *l = arg;

	if (!get_page_unless_zero(l->page) || !trylock_page(l->page)) {
		__atomic_store_n(&l->locked, -1, __ATOMIC_RELEASE);
		return NULL;
	}
	__atomic_store_n(&l->locked, 1, __ATOMIC_RELEASE);
	usleep(100 * 1000);
	unlock_page(l->page);
	put_page(l->page);
	return NULL;
}

static void migrate_run(unsigned int unit, unsigned int nr)
{
	struct mig_fill f = { .unit = unit, .nr = nr };
	struct page **pages;
	unsigned long n, i, t0, ok = 0, res[SHIM_MIG_NOMEM + 1] = { 0 };
	long kmalloc0;
	struct locker lk;
	pthread_t th;

	f.pool = zba_pool_create("mig", unit);
	f.ref = calloc(nr, sizeof(*f.ref));
	REQUIRE(f.pool && f.ref, "setup");

	/* 1. Every pool page is movable; migrating each once keeps every object. */
	mig_fill(&f);
	check_books(f.pool, f.live, "filled");
	t0 = zba_total_pages(f.pool);
	kmalloc0 = shim_live_kmalloc;
	n = movable_pages(&pages);
	CHECK(n == t0, "%lu movable pages, the pool holds %lu", n, t0);
	for (i = 0; i < n; i++)
		res[shim_migrate_page(pages[i], i % 2 ? MIGRATE_SYNC : MIGRATE_ASYNC, NULL, NULL)]++;
	free(pages);
	ok = res[SHIM_MIG_OK];
	CHECK(ok == t0, "%lu of %lu pages migrated (busy %lu, failed %lu)", ok, t0,
	      res[SHIM_MIG_BUSY], res[SHIM_MIG_FAILED]);
	CHECK(zba_pages_migrated(f.pool) == ok, "pool counted %lu", zba_pages_migrated(f.pool));
	CHECK(zba_total_pages(f.pool) == t0 && shim_live_kmalloc == kmalloc0,
	      "pages %lu -> %lu, kmalloc %ld -> %ld", t0, zba_total_pages(f.pool),
	      kmalloc0, shim_live_kmalloc);
	mig_verify(&f, "after migrating every page");
	check_books(f.pool, f.live, "after migrating every page");
	n = movable_pages(&pages);
	CHECK(n == t0, "%lu movable pages after migration, the pool holds %lu", n, t0);
	free(pages);

	/* 2. Objects are written and read after migration, and compaction works. */
	for (i = 0; i < nr; i += 2) {
		zba_free(f.pool, f.ref[i].h);
		f.ref[i].h = 0;
		f.live--;
	}
	for (i = 1; i < nr; i += 4) {
		f.ref[i].seed = rnd();
		store(f.pool, f.ref[i].h, f.ref[i].len, f.ref[i].seed);
	}
	n = movable_pages(&pages);
	for (i = 0; i < n; i++)
		shim_migrate_page(pages[i], MIGRATE_SYNC, NULL, NULL);
	free(pages);
	mig_verify(&f, "after rewriting, freeing and migrating");
	check_books(f.pool, f.live, "after rewriting, freeing and migrating");

#ifdef SHIM_LINUX_6_1
	/* 3. 6.1's MIGRATE_SYNC_NO_COPY is refused; the page is put back. */
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	CHECK(shim_migrate_page(pages[0], MIGRATE_SYNC_NO_COPY, NULL, NULL) == SHIM_MIG_FAILED,
	      "MIGRATE_SYNC_NO_COPY not refused");
	CHECK(shim_migrate_page(pages[0], MIGRATE_SYNC, NULL, NULL) == SHIM_MIG_OK,
	      "page not movable after a refused migration");
	free(pages);
	mig_verify(&f, "after a refused migration");
#endif

	/* 4. The migration target cannot be allocated: the page is put back. */
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	shim_fail_nth = 0;
	CHECK(shim_migrate_page(pages[0], MIGRATE_SYNC, NULL, NULL) == SHIM_MIG_NOMEM, "no ENOMEM");
	shim_fail_nth = -1;
	CHECK(shim_migrate_page(pages[0], MIGRATE_SYNC, NULL, NULL) == SHIM_MIG_OK,
	      "page not movable after ENOMEM");
	free(pages);
	mig_verify(&f, "after ENOMEM");
	check_books(f.pool, f.live, "after ENOMEM");

	/* 5. All objects freed while a page is isolated: the page is released. */
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	CHECK(shim_migrate_page(pages[n / 2], MIGRATE_SYNC, hook_free_all, &f) == SHIM_MIG_RELEASED,
	      "a page freed while isolated was not released");
	free(pages);
	check_books(f.pool, 0, "freed while isolated");
	CHECK(shim_live_pages == 0, "%ld pages left", shim_live_pages);

	/*
	 * 6. Freed while the page lock is held (migration in progress): the
	 * page waits on the deferred list, still movable but refused by
	 * ->migrate_page() and ->isolate_page(); the work frees it.
	 */
	mig_fill(&f);
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	CHECK(shim_migrate_page(pages[n / 3], MIGRATE_SYNC, hook_lock_free_all, &f) == SHIM_MIG_FAILED,
	      "a page released under its page lock was migrated");
	CHECK(shim_migrate_page(pages[n / 3], MIGRATE_SYNC, NULL, NULL) == SHIM_MIG_BUSY,
	      "a released page was isolated again");
	CHECK(shim_run_work() == 1 && shim_live_pages == 0,
	      "deferred work did not free the page: %ld pages", shim_live_pages);
	free(pages);
	check_books(f.pool, 0, "released under the page lock");

	/* 7. Freed while another holder has the page lock (not isolated). */
	mig_fill(&f);
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	REQUIRE(trylock_page(pages[0]), "lock");
	mig_free_all(&f);
	CHECK(shim_live_pages == 1, "%ld pages while one was locked", shim_live_pages);
	unlock_page(pages[0]);
	CHECK(shim_run_work() == 1 && shim_live_pages == 0, "%ld pages after the work",
	      shim_live_pages);
	free(pages);

	/* 8. Pool destroyed while a page is isolated: released, nothing leaks. */
	mig_fill(&f);
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	CHECK(shim_migrate_page(pages[n - 1], MIGRATE_SYNC, hook_destroy, &f) == SHIM_MIG_RELEASED,
	      "destroy while isolated");
	free(pages);
	check_no_leak("destroy while isolated");

	/* 9. Pool destroyed while someone holds a page lock: destroy waits. */
	f.pool = zba_pool_create("mig", unit);
	REQUIRE(f.pool, "pool");
	mig_fill(&f);
	n = movable_pages(&pages);
	REQUIRE(n > 0, "no pages");
	lk = (struct locker){ .page = pages[n / 2] };
	pthread_create(&th, NULL, locker_thread, &lk);
	while (!__atomic_load_n(&lk.locked, __ATOMIC_ACQUIRE))
		usleep(1000);
	CHECK(lk.locked == 1, "locker could not lock");
	zba_pool_destroy(f.pool);
	pthread_join(th, NULL);
	free(pages);
	check_no_leak("destroy while a page is locked");

	printf("  migrate unit %u: %lu pages, all migrated once, objects intact; "
	       "release while isolated, under the page lock, and destroy are clean\n", unit, t0);
	free(f.ref);
}

static void test_migrate(void)
{
	if (load_corpus())
		return;
	migrate_run(4096, 20000);
	migrate_run(16384, 6000);
}

/* ---- concurrency: allocating, freeing, reading threads and a compactor ---- */
struct conc {
	struct zba_pool *pool;
	struct ref *ref;
	unsigned int nr, unit;
	int stop;
	long moved, compactions, errors;
	long migrated, mig_busy, mig_released, mig_failed, locked, works;
};

static bool conc_cb(void *ctx, u32 owner, unsigned long handle)
{
	struct conc *c = ctx;
	struct ref *r = &c->ref[owner];
	unsigned long nh = 0;

	if (owner >= c->nr || pthread_mutex_trylock(&r->lock))
		return false;
	if (r->h == handle) {
		nh = zba_move(c->pool, handle);
		if (nh) {
			r->h = nh;
			c->moved++;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return nh != 0;
}

struct worker {
	struct conc *c;
	unsigned int first, count;
	u64 rs;
	unsigned long ops;
	long errors;
	unsigned char *buf, *exp;
};

static u64 wrnd(struct worker *w)
{
	w->rs ^= w->rs << 13;
	w->rs ^= w->rs >> 7;
	w->rs ^= w->rs << 17;
	return w->rs;
}

static void *conc_worker(void *arg)
{
	struct worker *w = arg;
	struct conc *c = w->c;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		struct ref *r = &c->ref[w->first + wrnd(w) % w->count];
		unsigned int what = wrnd(w) % 8;

		pthread_mutex_lock(&r->lock);
		if (!r->h) {
			size_t len = 1 + wrnd(w) % c->unit;

			if (!zba_alloc(c->pool, len, r - c->ref, GFP_NOIO, &r->h)) {
				r->len = len;
				r->seed = wrnd(w);
				fill(w->exp, len, r->seed);
				zba_write(c->pool, r->h, w->exp, len);
			} else {
				r->h = 0;
				w->errors++;
			}
		} else if (what < 4) {
			zba_free(c->pool, r->h);
			r->h = 0;
		} else {
			const void *p;

			fill(w->exp, r->len, r->seed);
			p = zba_read_begin(c->pool, r->h, r->len, w->buf);
			if (memcmp(p, w->exp, r->len))
				w->errors++;
			zba_read_end(c->pool, r->h, p);
		}
		pthread_mutex_unlock(&r->lock);
		w->ops++;
	}
	return NULL;
}

static void *conc_compactor(void *arg)
{
	struct conc *c = arg;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		struct zba_type_stats st;

		/* Small object budgets now and then: calls cut short mid-block. */
		struct zba_compact_ctl ctl = {
			.max_pages = ULONG_MAX,
			.max_objects = c->compactions % 3 ? ULONG_MAX : 1 + c->compactions % 17,
		};

		zba_compact(c->pool, conc_cb, c, &ctl);
		zba_type_stats(c->pool, c->compactions % zba_nr_types(c->pool), &st);
		(void)zba_pages_freeable(c->pool);
		c->compactions++;
	}
	return NULL;
}

static void hook_linger(struct page *page, void *arg)
{
	usleep(50);	/* isolated a little longer: frees and reads race with it */
}

/*
 * The kernel's side: compaction migrating pool pages at random pfns (some
 * lingering while isolated), another holder of page locks (so that frees
 * must defer pages), and the workqueue running the deferred frees.
 */
static void *conc_migrator(void *arg)
{
	struct conc *c = arg;
	u64 rs = 0x9e3779b97f4a7c15ULL ^ seed0;
	unsigned long n = 0;

	while (!__atomic_load_n(&c->stop, __ATOMIC_RELAXED)) {
		unsigned long max = shim_max_pfn();
		struct page *page;

		rs ^= rs << 13; rs ^= rs >> 7; rs ^= rs << 17;
		if (!max)
			continue;
		page = shim_pfn_to_page(rs % max);
		if (rs % 8 == 0) {
			/* Hold a page lock a moment, as some pfn walker would. */
			if (get_page_unless_zero(page)) {
				if (trylock_page(page)) {
					c->locked++;
					usleep(20);
					unlock_page(page);
				}
				put_page(page);
			}
		} else {
			switch (shim_migrate_page(page, rs % 3 ? MIGRATE_ASYNC : MIGRATE_SYNC_LIGHT,
						  rs % 16 == 1 ? hook_linger : NULL, NULL)) {
			case SHIM_MIG_OK: c->migrated++; break;
			case SHIM_MIG_BUSY: c->mig_busy++; break;
			case SHIM_MIG_RELEASED: c->mig_released++; break;
			case SHIM_MIG_FAILED: c->mig_failed++; break;
			}
		}
		if (++n % 64 == 0)
			c->works += shim_run_work();
	}
	return NULL;
}

static void conc_run(unsigned int unit, unsigned int seconds)
{
	enum { NW = 2 };
	struct conc c = { .unit = unit, .nr = 4000 };
	struct worker w[NW];
	pthread_t tw[NW], tc, tm;
	unsigned long ops = 0;
	long live = 0;
	unsigned int i;

	c.pool = zba_pool_create("conc", unit);
	c.ref = calloc(c.nr, sizeof(*c.ref));
	REQUIRE(c.pool && c.ref, "setup");
	for (i = 0; i < c.nr; i++)
		pthread_mutex_init(&c.ref[i].lock, NULL);
	for (i = 0; i < NW; i++) {
		w[i] = (struct worker){ .c = &c, .first = i * c.nr / NW, .count = c.nr / NW,
					.rs = 0x1234567ULL * (i + 1) + seed0,
					.buf = malloc(unit), .exp = malloc(unit) };
		pthread_create(&tw[i], NULL, conc_worker, &w[i]);
	}
	pthread_create(&tc, NULL, conc_compactor, &c);
	pthread_create(&tm, NULL, conc_migrator, &c);
	sleep(seconds);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NW; i++) {
		pthread_join(tw[i], NULL);
		CHECK(w[i].errors == 0, "worker %u: %ld errors", i, w[i].errors);
		ops += w[i].ops;
		free(w[i].buf);
		free(w[i].exp);
	}
	pthread_join(tc, NULL);
	pthread_join(tm, NULL);
	c.works += shim_run_work();
	for (i = 0; i < c.nr; i++)
		if (c.ref[i].h) {
			live++;
			CHECK(verify(c.pool, c.ref[i].h, c.ref[i].len, c.ref[i].seed), "object %u", i);
		}
	check_books(c.pool, live, "conc");
	CHECK(c.moved > 0, "the compactor never moved an object");
	CHECK(c.migrated > 0 && (long)zba_pages_migrated(c.pool) == c.migrated,
	      "%ld pages migrated, the pool counted %lu", c.migrated, zba_pages_migrated(c.pool));
	printf("  conc unit %u: %lu ops, %ld compactions, %ld objects moved; %ld pages migrated"
	       " (%ld busy, %ld released while isolated, %ld put back), %ld page locks held,"
	       " %ld deferred-free runs\n",
	       unit, ops, c.compactions, c.moved, c.migrated, c.mig_busy, c.mig_released,
	       c.mig_failed, c.locked, c.works);
	for (i = 0; i < c.nr; i++)
		if (c.ref[i].h)
			zba_free(c.pool, c.ref[i].h);
	zba_pool_destroy(c.pool);
	free(c.ref);
	check_no_leak("conc");
}

static void test_conc(void)
{
	conc_run(4096, 3);
	conc_run(16384, 2);
}

static const struct {
	const char *name;
	void (*fn)(void);
	bool by_default;
} tests[] = {
	{ "types", test_types, true },
	{ "model", test_model, true },
	{ "failinj", test_failinj, true },
	{ "compact", test_compact, true },
	{ "meta", test_meta, true },
	{ "leak", test_leak, true },
	{ "migrate", test_migrate, true },
	{ "conc", test_conc, false },
};

static void run(unsigned int i)
{
	time_t t = time(NULL);
	int before = failures;

	printf("%s (PAGE_SIZE %lu):\n", tests[i].name, PAGE_SIZE);
	fflush(stdout);
	tests[i].fn();
	printf("%s: %s (%lds)\n", tests[i].name, failures == before ? "ok" : "FAILED",
	       (long)(time(NULL) - t));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	unsigned int i;
	bool any = false;
	int a;

	corpus_path = getenv("ZBLK_CORPUS");
	if (!corpus_path || !*corpus_path)
		corpus_path = "../shared/corpus/anon-a.bin.zst";
	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--corpus") && a + 1 < argc) {
			corpus_path = argv[++a];
		} else if (!strcmp(argv[a], "--ops") && a + 1 < argc) {
			nr_ops = strtoul(argv[++a], NULL, 0);
		} else if (!strcmp(argv[a], "--seed") && a + 1 < argc) {
			seed0 = strtoul(argv[++a], NULL, 0);
		} else if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			printf("usage: %s [--corpus FILE] [--ops N] [--seed N] [TEST...]\ntests:", argv[0]);
			for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
				printf(" %s", tests[i].name);
			printf("\n");
			return 0;
		} else {
			break;
		}
	}
	rnd_state ^= seed0 * 0x9e3779b97f4a7c15ULL;
	scratch = malloc(65536);
	expect = malloc(65536);
	for (; a < argc; a++) {
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
			if (!strcmp(argv[a], tests[i].name))
				break;
		if (i == sizeof(tests) / sizeof(tests[0])) {
			fprintf(stderr, "unknown test '%s' (see --help)\n", argv[a]);
			return 2;
		}
		run(i);
		any = true;
	}
	if (!any)
		for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
			if (tests[i].by_default)
				run(i);
	free(scratch);
	free(expect);
	for (i = 0; i < 2; i++) {
		free(corpus_lz4[i]);
		free(corpus_zstd[i]);
	}
	printf("%s\n", failures ? "FAILED" : "all passed");
	return failures ? 1 : 0;
}
