// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - userspace implementation of the kernel API in shim.h.
 */
#include <sched.h>
#include <unistd.h>
#include "shim.h"

long shim_live_pages, shim_live_kmalloc, shim_live_kmalloc_bytes, shim_warnings, shim_failed;
long shim_live_kmalloc_rounded;
long shim_fail_nth = -1;
unsigned int shim_fail_permille;
__thread int shim_spin_depth, shim_kmap_depth;
static __thread unsigned int shim_seed;

#define ADD(v, n) __atomic_add_fetch(&(v), (n), __ATOMIC_RELAXED)

bool shim_should_fail(void)
{
	long nth = __atomic_load_n(&shim_fail_nth, __ATOMIC_RELAXED);
	unsigned int pm = __atomic_load_n(&shim_fail_permille, __ATOMIC_RELAXED);

	if (nth >= 0 && __atomic_sub_fetch(&shim_fail_nth, 1, __ATOMIC_RELAXED) == -1) {
		ADD(shim_failed, 1);
		return true;
	}
	if (pm) {
		if (!shim_seed)
			shim_seed = (unsigned int)(uintptr_t)&shim_seed | 1;
		if ((unsigned int)rand_r(&shim_seed) % 1000 < pm) {
			ADD(shim_failed, 1);
			return true;
		}
	}
	return false;
}

void shim_might_sleep(const char *what)
{
	if (shim_spin_depth || shim_kmap_depth) {
		fprintf(stderr, "BUG: %s may sleep with %d spinlock(s), %d kmap(s) held\n",
			what, shim_spin_depth, shim_kmap_depth);
		abort();
	}
}

static void shim_check_gfp(gfp_t gfp, const char *what)
{
	if (gfpflags_allow_blocking(gfp))
		shim_might_sleep(what);
}

/* Freed pages kept for reuse when shim_page_cache is set (benchmarks). */
bool shim_page_cache;
static struct page *page_cache;
static pthread_mutex_t page_cache_lock = PTHREAD_MUTEX_INITIALIZER;

struct page *alloc_page(gfp_t gfp)
{
	struct page *p;

	shim_check_gfp(gfp, "alloc_page");
	if (shim_should_fail())
		return NULL;
	if (shim_page_cache) {
		pthread_mutex_lock(&page_cache_lock);
		p = page_cache;
		if (p)
			page_cache = *(struct page **)p->virt;
		pthread_mutex_unlock(&page_cache_lock);
		if (p) {
			ADD(shim_live_pages, 1);
			return p;
		}
	}
	p = malloc(sizeof(*p));
	if (!p)
		return NULL;
	p->virt = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p->virt) {
		free(p);
		return NULL;
	}
	memset(p->virt, 0x5a, PAGE_SIZE);	/* never zeroed, as in the kernel */
	ADD(shim_live_pages, 1);
	return p;
}

void __free_page(struct page *page)
{
	ADD(shim_live_pages, -1);
	if (shim_page_cache) {
		pthread_mutex_lock(&page_cache_lock);
		*(struct page **)page->virt = page_cache;
		page_cache = page;
		pthread_mutex_unlock(&page_cache_lock);
		return;
	}
	free(page->virt);
	free(page);
}

void *kmap_local_page(struct page *page)
{
	shim_kmap_depth++;
	return page->virt;
}

void shim_kunmap_local(const void *addr)
{
	(void)addr;
	if (shim_kmap_depth <= 0) {
		fprintf(stderr, "BUG: kunmap_local without kmap_local_page\n");
		abort();
	}
	shim_kmap_depth--;
}

/*
 * The bucket SLUB's kmalloc() takes @size from (x86-64 and arm64 with 4K or
 * 16K pages: 8..256 in powers of two plus 96 and 192, then powers of two up
 * to 2 pages; above that, whole pages of the page allocator).
 */
size_t kmalloc_size_roundup(size_t size)
{
	size_t b;

	if (size <= 8)
		return 8;
	if (size > 2 * PAGE_SIZE) {
		for (b = PAGE_SIZE; b < size; b *= 2)
			;
		return b;
	}
	if (size > 64 && size <= 96)
		return 96;
	if (size > 128 && size <= 192)
		return 192;
	for (b = 8; b < size; b *= 2)
		;
	return b;
}

/* kmalloc objects carry a 64-byte header so that kfree can count them. */
void *kmalloc(size_t size, gfp_t gfp)
{
	char *p;

	shim_check_gfp(gfp, "kmalloc");
	if (shim_should_fail())
		return NULL;
	p = aligned_alloc(64, (size + 64 + 63) & ~(size_t)63);
	if (!p)
		return NULL;
	if (gfp & __GFP_ZERO)
		memset(p + 64, 0, size);
	else
		memset(p + 64, 0x6b, size);
	ADD(shim_live_kmalloc, 1);
	ADD(shim_live_kmalloc_bytes, (long)size);
	ADD(shim_live_kmalloc_rounded, (long)kmalloc_size_roundup(size));
	memcpy(p, &size, sizeof(size));
	return p + 64;
}

void kfree(const void *p)
{
	size_t size;

	if (!p)
		return;

	memcpy(&size, (const char *)p - 64, sizeof(size));
	ADD(shim_live_kmalloc, -1);
	ADD(shim_live_kmalloc_bytes, -(long)size);
	ADD(shim_live_kmalloc_rounded, -(long)kmalloc_size_roundup(size));
	free((char *)p - 64);
}

void spin_lock_init(spinlock_t *l)
{
	pthread_mutex_init(&l->m, NULL);
	l->held = 0;
}

void spin_lock(spinlock_t *l)
{
	pthread_mutex_lock(&l->m);
	l->owner = pthread_self();
	l->held = 1;
	shim_spin_depth++;
}

void spin_unlock(spinlock_t *l)
{
	if (!l->held || !pthread_equal(l->owner, pthread_self())) {
		fprintf(stderr, "BUG: spin_unlock of a lock this thread does not hold\n");
		abort();
	}
	l->held = 0;
	shim_spin_depth--;
	pthread_mutex_unlock(&l->m);
}

void mutex_init(struct mutex *m) { pthread_mutex_init(&m->m, NULL); }
void mutex_lock(struct mutex *m) { might_sleep(); pthread_mutex_lock(&m->m); }
int mutex_trylock(struct mutex *m) { return pthread_mutex_trylock(&m->m) == 0; }
void mutex_unlock(struct mutex *m) { pthread_mutex_unlock(&m->m); }
void mutex_destroy(struct mutex *m) { pthread_mutex_destroy(&m->m); }

void cond_resched(void)
{
	might_sleep();
}

static unsigned long find_bit(const unsigned long *a, unsigned long size,
			      unsigned long off, unsigned long invert)
{
	while (off < size) {
		unsigned long w = (a[off / 64] ^ invert) >> (off % 64);

		if (w) {
			off += __builtin_ctzl(w);
			return off < size ? off : size;
		}
		off = (off / 64 + 1) * 64;
	}
	return size;
}

unsigned long find_next_bit(const unsigned long *a, unsigned long size,
			    unsigned long off)
{
	return find_bit(a, size, off, 0);
}

unsigned long find_next_zero_bit(const unsigned long *a, unsigned long size,
				 unsigned long off)
{
	return find_bit(a, size, off, ~0UL);
}

unsigned long find_last_bit(const unsigned long *a, unsigned long size)
{
	unsigned long w = size / 64;

	if (size % 64) {
		unsigned long x = a[w] & ((1UL << (size % 64)) - 1);

		if (x)
			return w * 64 + 63 - __builtin_clzl(x);
	}
	while (w--)
		if (a[w])
			return w * 64 + 63 - __builtin_clzl(a[w]);
	return size;
}

/* ---- xarray ---- */
#define XA_MAX	((unsigned long)SHIM_XA_CHUNK * SHIM_XA_CHUNKS)

void xa_init_flags(struct xarray *xa, unsigned int flags)
{
	assert(flags == XA_FLAGS_ALLOC1);
	memset(xa, 0, sizeof(*xa));
	pthread_mutex_init(&xa->lock, NULL);
	xa->used = calloc(XA_MAX / 64, sizeof(long));
	assert(xa->used);
	xa->used[0] = 1;	/* id 0 is never handed out */
	xa->hint = 1;
}

int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit lim,
	     gfp_t gfp)
{
	unsigned long i;
	void **c;

	shim_check_gfp(gfp, "xa_alloc");
	if (shim_should_fail())
		return -ENOMEM;
	pthread_mutex_lock(&xa->lock);
	i = find_next_zero_bit(xa->used, XA_MAX, xa->hint > lim.min ? xa->hint : lim.min);
	if (i >= XA_MAX || i > lim.max) {
		pthread_mutex_unlock(&xa->lock);
		return -EBUSY;
	}
	c = __atomic_load_n(&xa->chunk[i / SHIM_XA_CHUNK], __ATOMIC_ACQUIRE);
	if (!c) {
		c = calloc(SHIM_XA_CHUNK, sizeof(void *));
		assert(c);
		__atomic_store_n(&xa->chunk[i / SHIM_XA_CHUNK], c, __ATOMIC_RELEASE);
	}
	__set_bit(i, xa->used);
	xa->hint = i + 1;
	if (i + 1 > xa->top)
		xa->top = i + 1;
	__atomic_store_n(&c[i % SHIM_XA_CHUNK], entry, __ATOMIC_RELEASE);
	*id = i;
	pthread_mutex_unlock(&xa->lock);
	return 0;
}

void *xa_load(struct xarray *xa, unsigned long index)
{
	void **c;

	if (index >= XA_MAX)
		return NULL;
	c = __atomic_load_n(&xa->chunk[index / SHIM_XA_CHUNK], __ATOMIC_ACQUIRE);
	return c ? __atomic_load_n(&c[index % SHIM_XA_CHUNK], __ATOMIC_ACQUIRE) : NULL;
}

void *xa_erase(struct xarray *xa, unsigned long index)
{
	void *old = NULL;
	void **c;

	pthread_mutex_lock(&xa->lock);
	c = index < XA_MAX ? xa->chunk[index / SHIM_XA_CHUNK] : NULL;
	if (c && test_bit(index, xa->used)) {
		old = c[index % SHIM_XA_CHUNK];
		__atomic_store_n(&c[index % SHIM_XA_CHUNK], NULL, __ATOMIC_RELEASE);
		__clear_bit(index, xa->used);
		if (index < xa->hint)
			xa->hint = index;
	}
	pthread_mutex_unlock(&xa->lock);
	return old;
}

void *shim_xa_find(struct xarray *xa, unsigned long *index)
{
	unsigned long i;

	for (i = *index; i < xa->top; i++) {
		void *e = xa_load(xa, i);

		if (e) {
			*index = i;
			return e;
		}
	}
	return NULL;
}

void xa_destroy(struct xarray *xa)
{
	unsigned long i;

	for (i = 0; i < SHIM_XA_CHUNKS; i++)
		free(xa->chunk[i]);
	free(xa->used);
	pthread_mutex_destroy(&xa->lock);
}
