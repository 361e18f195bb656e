// SPDX-License-Identifier: GPL-2.0
/*
 * shim.c - userspace implementation of the kernel API in shim.h.
 */
#define _GNU_SOURCE		/* pthread_rwlockattr_setkind_np */
#include <sched.h>
#include <unistd.h>
#include "shim.h"

long shim_live_pages, shim_live_kmalloc, shim_live_kmalloc_bytes, shim_warnings, shim_failed;
long shim_live_kmalloc_rounded;
long shim_fail_nth = -1;
unsigned int shim_fail_permille;
__thread int shim_spin_depth, shim_kmap_depth, shim_rw_depth;
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
	if (shim_spin_depth || shim_kmap_depth || shim_rw_depth) {
		fprintf(stderr, "BUG: %s may sleep with %d spinlock(s), %d rwlock(s), %d kmap(s) held\n",
			what, shim_spin_depth, shim_rw_depth, shim_kmap_depth);
		abort();
	}
}

static void shim_check_gfp(gfp_t gfp, const char *what)
{
	if (gfpflags_allow_blocking(gfp))
		shim_might_sleep(what);
}

/*
 * The memmap: struct pages are never freed, only recycled, so that a pfn
 * walker (shim_migrate_page() on shim_pfn_to_page()) may look at any of them
 * at any time, as compaction does in the kernel. A page is free while its
 * refcount is 0.
 */
#define MEMMAP_CHUNK	65536UL
#define MEMMAP_CHUNKS	256UL
static struct page *memmap[MEMMAP_CHUNKS];
static unsigned long memmap_top;	/* pfns handed out so far */
static struct page *memmap_free;
static pthread_mutex_t memmap_lock = PTHREAD_MUTEX_INITIALIZER;

/* Freed pages kept for reuse when shim_page_cache is set (benchmarks). */
bool shim_page_cache;
static struct page *page_cache;

static void shim_bug(const char *what, struct page *page)
{
	fprintf(stderr, "BUG: %s (pfn %lu, flags %#lx, refcount %d, mapping %#lx)\n",
		what, page->pfn, __atomic_load_n(&page->flags, __ATOMIC_RELAXED),
		__atomic_load_n(&page->refcount, __ATOMIC_RELAXED),
		__atomic_load_n(&page->mapping, __ATOMIC_RELAXED));
	abort();
}

unsigned long shim_max_pfn(void)
{
	return __atomic_load_n(&memmap_top, __ATOMIC_ACQUIRE);
}

struct page *shim_pfn_to_page(unsigned long pfn)
{
	if (pfn >= shim_max_pfn())
		return NULL;
	return &__atomic_load_n(&memmap[pfn / MEMMAP_CHUNK], __ATOMIC_ACQUIRE)[pfn % MEMMAP_CHUNK];
}

/* A free struct page (refcount 0), with its memory if it has kept some. */
static struct page *memmap_get(void)
{
	struct page *p;
	unsigned long pfn;

	pthread_mutex_lock(&memmap_lock);
	if (shim_page_cache && page_cache) {
		p = page_cache;
		page_cache = p->next_free;
	} else if (memmap_free) {
		p = memmap_free;
		memmap_free = p->next_free;
	} else {
		pfn = memmap_top;
		if (pfn / MEMMAP_CHUNK >= MEMMAP_CHUNKS) {
			pthread_mutex_unlock(&memmap_lock);
			return NULL;
		}
		if (!memmap[pfn / MEMMAP_CHUNK]) {
			struct page *c = calloc(MEMMAP_CHUNK, sizeof(*c));

			assert(c);
			__atomic_store_n(&memmap[pfn / MEMMAP_CHUNK], c, __ATOMIC_RELEASE);
		}
		p = &memmap[pfn / MEMMAP_CHUNK][pfn % MEMMAP_CHUNK];
		p->pfn = pfn;
		__atomic_store_n(&memmap_top, pfn + 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&memmap_lock);
	return p;
}

struct page *alloc_page(gfp_t gfp)
{
	struct page *p;

	shim_check_gfp(gfp, "alloc_page");
	if (shim_should_fail())
		return NULL;
	p = memmap_get();
	if (!p)
		return NULL;
	if (!p->virt) {
		p->virt = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		if (!p->virt) {
			pthread_mutex_lock(&memmap_lock);
			p->next_free = memmap_free;
			memmap_free = p;
			pthread_mutex_unlock(&memmap_lock);
			return NULL;
		}
		memset(p->virt, 0x5a, PAGE_SIZE);	/* never zeroed, as in the kernel */
	}
	p->index = 0;
	p->private = 0;
	__atomic_store_n(&p->flags, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&p->mapping, 0, __ATOMIC_RELAXED);
	ADD(shim_live_pages, 1);
	/* Published: a pfn walker's get_page_unless_zero() sees it from here. */
	__atomic_store_n(&p->refcount, 1, __ATOMIC_RELEASE);
	return p;
}

void get_page(struct page *page)
{
	if (__atomic_fetch_add(&page->refcount, 1, __ATOMIC_RELAXED) <= 0)
		shim_bug("get_page on a free page", page);
}

bool get_page_unless_zero(struct page *page)
{
	int r = __atomic_load_n(&page->refcount, __ATOMIC_RELAXED);

	while (r > 0)
		if (__atomic_compare_exchange_n(&page->refcount, &r, r + 1, false,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return true;
	return false;
}

int page_count(struct page *page)
{
	return __atomic_load_n(&page->refcount, __ATOMIC_ACQUIRE);
}

/* The last reference: what free_pages_prepare() checks and clears. */
void put_page(struct page *page)
{
	unsigned long mapping;
	int r = __atomic_sub_fetch(&page->refcount, 1, __ATOMIC_ACQ_REL);

	if (r > 0)
		return;
	if (r < 0)
		shim_bug("put_page on a free page", page);
	if (__atomic_load_n(&page->flags, __ATOMIC_RELAXED) & (1UL << PG_locked))
		shim_bug("freeing a locked page", page);
	mapping = __atomic_load_n(&page->mapping, __ATOMIC_RELAXED);
	if (mapping & ~PAGE_MAPPING_MOVABLE)
		shim_bug("freeing a page that is still movable (no __ClearPageMovable)", page);
	__atomic_store_n(&page->mapping, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&page->flags, 0, __ATOMIC_RELAXED);	/* PG_isolated too */
	page->private = 0;
	page->index = 0;
	ADD(shim_live_pages, -1);
	pthread_mutex_lock(&memmap_lock);
	if (shim_page_cache) {
		page->next_free = page_cache;
		page_cache = page;
	} else {
		free(page->virt);
		page->virt = NULL;
		page->next_free = memmap_free;
		memmap_free = page;
	}
	pthread_mutex_unlock(&memmap_lock);
}

void copy_highpage(struct page *to, struct page *from)
{
	memcpy(to->virt, from->virt, PAGE_SIZE);
}

bool trylock_page(struct page *page)
{
	return !(__atomic_fetch_or(&page->flags, 1UL << PG_locked, __ATOMIC_ACQUIRE) &
		 (1UL << PG_locked));
}

void lock_page(struct page *page)
{
	might_sleep();
	while (!trylock_page(page))
		sched_yield();
}

void unlock_page(struct page *page)
{
	if (!(__atomic_fetch_and(&page->flags, ~(1UL << PG_locked), __ATOMIC_RELEASE) &
	      (1UL << PG_locked)))
		shim_bug("unlock_page of an unlocked page", page);
}

bool PageLocked(struct page *page)
{
	return __atomic_load_n(&page->flags, __ATOMIC_RELAXED) & (1UL << PG_locked);
}

bool PageIsolated(struct page *page)
{
	return __atomic_load_n(&page->flags, __ATOMIC_RELAXED) & (1UL << PG_isolated);
}

static void set_isolated(struct page *page, bool on)
{
	if (on)
		__atomic_fetch_or(&page->flags, 1UL << PG_isolated, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(&page->flags, ~(1UL << PG_isolated), __ATOMIC_RELAXED);
}

/* ---- movable pages and the migration core (mm/compaction.c, mm/migrate.c) ---- */
long shim_migrate_calls;

void __SetPageMovable(struct page *page, const struct movable_operations *mops)
{
	if (!PageLocked(page))
		shim_bug("__SetPageMovable without the page lock", page);
	__atomic_store_n(&page->mapping, (unsigned long)mops | PAGE_MAPPING_MOVABLE,
			 __ATOMIC_RELAXED);
}

bool __PageMovable(struct page *page)
{
	return __atomic_load_n(&page->mapping, __ATOMIC_RELAXED) & PAGE_MAPPING_MOVABLE;
}

static const struct movable_operations *page_movable_ops(struct page *page)
{
	return (const void *)(__atomic_load_n(&page->mapping, __ATOMIC_RELAXED) &
			      ~PAGE_MAPPING_MOVABLE);
}

bool PageMovable(struct page *page)
{
	if (!PageLocked(page))
		shim_bug("PageMovable without the page lock", page);
	return __PageMovable(page) && page_movable_ops(page);
}

void __ClearPageMovable(struct page *page)
{
	if (!PageMovable(page))
		shim_bug("__ClearPageMovable of a page that is not movable", page);
	/* Still of the movable kind, but not movable any more. */
	__atomic_store_n(&page->mapping, PAGE_MAPPING_MOVABLE, __ATOMIC_RELAXED);
}

int shim_migrate_page(struct page *page, enum migrate_mode mode,
		      void (*isolated)(struct page *page, void *arg), void *arg)
{
	const struct movable_operations *mops;
	struct page *dst;
	int pass, rc = -EAGAIN;
	bool released = false;

	/* isolate_movable_page() */
	if (!get_page_unless_zero(page))
		return SHIM_MIG_NOT_MOVABLE;
	if (!__PageMovable(page)) {
		put_page(page);
		return SHIM_MIG_NOT_MOVABLE;
	}
	if (!trylock_page(page)) {
		put_page(page);
		return SHIM_MIG_BUSY;
	}
	if (!PageMovable(page) || PageIsolated(page)) {
		unlock_page(page);
		put_page(page);
		return SHIM_MIG_BUSY;
	}
	mops = page_movable_ops(page);
	if (!mops->isolate_page(page, 0)) {
		unlock_page(page);
		put_page(page);
		return SHIM_MIG_BUSY;
	}
	set_isolated(page, true);
	unlock_page(page);

	if (isolated)
		isolated(page, arg);

	/* migrate_pages(): up to 10 passes while the owner says -EAGAIN */
	for (pass = 0; pass < 10 && rc == -EAGAIN; pass++) {
		if (page_count(page) == 1) {
			/* Released by its owner: free_pages_prepare() clears PG_isolated. */
			put_page(page);
			return SHIM_MIG_RELEASED;
		}
		dst = alloc_page(GFP_KERNEL);
		if (!dst) {
			rc = -ENOMEM;
			break;
		}
		lock_page(page);
		if (!trylock_page(dst))
			shim_bug("a new page is locked", dst);
		if (PageMovable(page)) {
			__atomic_add_fetch(&shim_migrate_calls, 1, __ATOMIC_RELAXED);
			rc = page_movable_ops(page)->migrate_page(dst, page, mode);
		} else {
			rc = MIGRATEPAGE_SUCCESS;	/* released: nothing to do */
			released = true;
		}
		if (rc == MIGRATEPAGE_SUCCESS)
			set_isolated(page, false);
		unlock_page(dst);
		put_page(dst);		/* the owner holds its own if it took it */
		unlock_page(page);
		if (rc == MIGRATEPAGE_SUCCESS) {
			put_page(page);
			/* the kernel counts both as success; the pool only one */
			return released ? SHIM_MIG_RELEASED : SHIM_MIG_OK;
		}
	}

	/* putback_movable_pages() */
	lock_page(page);
	if (PageMovable(page))
		page_movable_ops(page)->putback_page(page);
	set_isolated(page, false);
	unlock_page(page);
	put_page(page);
	return rc == -ENOMEM ? SHIM_MIG_NOMEM : SHIM_MIG_FAILED;
}

/* ---- workqueues: work runs when a test calls shim_run_work() ---- */
static struct work_struct *work_list;
static pthread_mutex_t work_lock = PTHREAD_MUTEX_INITIALIZER;

void shim_init_work(struct work_struct *w, void (*f)(struct work_struct *))
{
	w->func = f;
	w->state = 0;
	w->next = NULL;
}

bool schedule_work(struct work_struct *w)
{
	bool queued = false;

	pthread_mutex_lock(&work_lock);
	if (w->state != 1) {
		w->state = 1;
		w->next = work_list;
		work_list = w;
		queued = true;
	}
	pthread_mutex_unlock(&work_lock);
	return queued;
}

int shim_run_work(void)
{
	struct work_struct *w;
	int n = 0;

	might_sleep();
	for (;;) {
		pthread_mutex_lock(&work_lock);
		w = work_list;
		if (w) {
			work_list = w->next;
			w->state = 2;
		}
		pthread_mutex_unlock(&work_lock);
		if (!w)
			return n;
		w->func(w);
		n++;
		pthread_mutex_lock(&work_lock);
		if (w->state == 2)
			w->state = 0;
		pthread_mutex_unlock(&work_lock);
	}
}

bool cancel_work_sync(struct work_struct *w)
{
	struct work_struct **pp;
	bool pending = false;

	might_sleep();
	for (;;) {
		pthread_mutex_lock(&work_lock);
		if (w->state == 1) {
			for (pp = &work_list; *pp; pp = &(*pp)->next)
				if (*pp == w) {
					*pp = w->next;
					break;
				}
			w->state = 0;
			pending = true;
		}
		if (w->state == 0) {
			pthread_mutex_unlock(&work_lock);
			return pending;
		}
		pthread_mutex_unlock(&work_lock);	/* running elsewhere: wait */
		sched_yield();
	}
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
	if (shim_rw_depth) {
		fprintf(stderr, "BUG: spin_lock under a rwlock (lock order)\n");
		abort();
	}
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

void rwlock_init(rwlock_t *l)
{
	pthread_rwlockattr_t a;

	pthread_rwlockattr_init(&a);
	pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&l->l, &a);
	pthread_rwlockattr_destroy(&a);
}

void read_lock(rwlock_t *l) { pthread_rwlock_rdlock(&l->l); shim_rw_depth++; }
void read_unlock(rwlock_t *l) { shim_rw_depth--; pthread_rwlock_unlock(&l->l); }
void write_lock(rwlock_t *l) { pthread_rwlock_wrlock(&l->l); shim_rw_depth++; }
void write_unlock(rwlock_t *l) { shim_rw_depth--; pthread_rwlock_unlock(&l->l); }

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
