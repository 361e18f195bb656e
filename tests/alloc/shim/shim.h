/* SPDX-License-Identifier: GPL-2.0 */
/*
 * shim.h - just enough of the kernel API for alloc/zblk_alloc.c to build and
 * run unchanged in userspace (like tools/testing/radix-tree in the kernel).
 *
 * Checks the kernel would make: sleeping (might_sleep(), a blocking gfp,
 * mutex_lock(), cond_resched(), lock_page()) while holding a spinlock, a
 * rwlock or a kmap_local mapping aborts; unlocking a spinlock this thread
 * does not hold aborts; taking a spinlock while holding a rwlock aborts (the
 * allocator's lock order: type->lock is never taken under migrate_lock).
 * Counts live pages and kmalloc objects (leak checks), and can fail the Nth
 * allocation or each with probability p (failure injection).
 *
 * Page migration as the kernel does it (mm/migrate.c, mm/compaction.c):
 * struct pages live in a memmap that is never freed (indexed by pfn, so a
 * test can walk it as compaction's pfn scanner does), with a reference count,
 * a page lock, PG_isolated, ->mapping holding the movable_operations, and
 * ->index/->private for the owner. shim_migrate_page() isolates a movable
 * page and migrates it with the owner's callbacks, putting it back on
 * failure. __SetPageMovable()/__ClearPageMovable() without the page lock, and
 * freeing a page that is still locked or still movable, abort. Work items
 * (schedule_work()) run when a test calls shim_run_work().
 *
 * Kernel API variants: LINUX_VERSION_CODE is 6.12 unless SHIM_LINUX_6_1 is
 * defined (then enum migrate_mode has MIGRATE_SYNC_NO_COPY, as in 6.1);
 * CONFIG_COMPACTION is defined unless SHIM_NO_COMPACTION is.
 */
#ifndef ZBLK_SHIM_H
#define ZBLK_SHIM_H

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef unsigned int gfp_t;

#define BITS_PER_LONG		64
#define U64_MAX			UINT64_MAX
#define __force
#define __bitwise
#define __must_check
/* sparse's lock-context annotations (include/linux/compiler_types.h) */
#define __acquires(x)
#define __releases(x)
#define __acquire(x)		((void)0)
#define __release(x)		((void)0)
#define __maybe_unused		__attribute__((unused))
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define ____cacheline_aligned_in_smp __attribute__((aligned(64)))
#define EXPORT_SYMBOL_GPL(x)
#undef static_assert
#define static_assert(e, ...)	_Static_assert(e, #e)
#define BUILD_BUG_ON(e)		_Static_assert(!(e), #e)

#ifndef SHIM_PAGE_SHIFT
#define SHIM_PAGE_SHIFT		12
#endif
#define PAGE_SHIFT		SHIM_PAGE_SHIFT
#define PAGE_SIZE		(1UL << PAGE_SHIFT)
#define PAGE_MASK		(~(PAGE_SIZE - 1))
#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)

/* ---- kernel version and configuration ---- */
#define KERNEL_VERSION(a, b, c)	(((a) << 16) + ((b) << 8) + (c))
#ifdef SHIM_LINUX_6_1
#define LINUX_VERSION_CODE	KERNEL_VERSION(6, 1, 0)
#else
#define LINUX_VERSION_CODE	KERNEL_VERSION(6, 12, 0)
#endif
#ifndef SHIM_NO_COMPACTION
#define CONFIG_COMPACTION	1
#endif

/* ---- misc ---- */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define DIV_ROUND_UP(n, d)	(((n) + (d) - 1) / (d))
#define min(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
				   (void)(&_a == &_b); _a < _b ? _a : _b; })
#define max(a, b)		({ __typeof__(a) _a = (a); __typeof__(b) _b = (b); \
				   (void)(&_a == &_b); _a > _b ? _a : _b; })
#define min_t(t, a, b)		({ t _a = (a); t _b = (b); _a < _b ? _a : _b; })
#define max_t(t, a, b)		({ t _a = (a); t _b = (b); _a > _b ? _a : _b; })
#define min3(a, b, c)		min(min(a, b), c)
#define swap(a, b)		do { __typeof__(a) _t = (a); (a) = (b); (b) = _t; } while (0)
#define ilog2(n)		(63 - __builtin_clzll((unsigned long long)(n)))
static inline u64 div_u64(u64 a, u32 b) { return a / b; }
#define struct_size(p, member, n) \
	(sizeof(*(p)) + (size_t)(n) * sizeof((p)->member[0]))
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

static inline size_t strscpy(char *d, const char *s, size_t n)
{
	size_t l = strnlen(s, n - 1);

	memcpy(d, s, l);
	d[l] = 0;
	return l;
}

#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
#define pr_err(fmt, ...)	fprintf(stderr, "ERR: " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...)	fprintf(stderr, "WARN: " pr_fmt(fmt), ##__VA_ARGS__)
#define pr_info(fmt, ...)	fprintf(stderr, pr_fmt(fmt), ##__VA_ARGS__)

/* ---- shim state (shim.c) ---- */
extern long shim_live_pages, shim_live_kmalloc, shim_live_kmalloc_bytes, shim_warnings;
/* kmalloc bytes as the kernel's buckets hold them (kmalloc_size_roundup()). */
extern long shim_live_kmalloc_rounded;
extern long shim_fail_nth;		/* fail the allocation when it reaches 0; <0 off */
extern unsigned int shim_fail_permille;	/* fail each allocation with p/1000 */
extern long shim_failed;		/* allocations failed so far */
extern __thread int shim_spin_depth, shim_kmap_depth, shim_rw_depth;
extern bool shim_page_cache;		/* recycle freed pages (benchmarks only) */
bool shim_should_fail(void);
void shim_might_sleep(const char *what);
#define might_sleep()		shim_might_sleep(__func__)

#define WARN_ON_ONCE(c) ({ bool _c = !!(c); \
	if (_c) { __atomic_add_fetch(&shim_warnings, 1, __ATOMIC_RELAXED); \
		  fprintf(stderr, "WARNING at %s:%d: %s\n", __FILE__, __LINE__, #c); } \
	_c; })
#define WARN_ON(c)		WARN_ON_ONCE(c)

/* ---- gfp ---- */
#define __GFP_HIGHMEM		0x02u
#define __GFP_MOVABLE		0x08u
#define __GFP_IO		0x40u
#define __GFP_FS		0x80u
#define __GFP_ZERO		0x100u
#define __GFP_DIRECT_RECLAIM	0x400u
#define __GFP_KSWAPD_RECLAIM	0x800u
#define __GFP_NOWARN		0x2000u
#define __GFP_NOMEMALLOC	0x10000u
#define __GFP_HIGH		0x20u
#define __GFP_RECLAIM		(__GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM)
#define GFP_KERNEL		(__GFP_RECLAIM | __GFP_IO | __GFP_FS)
#define GFP_NOIO		(__GFP_RECLAIM)
#define GFP_NOWAIT		(__GFP_KSWAPD_RECLAIM)
#define GFP_ATOMIC		(__GFP_HIGH | __GFP_KSWAPD_RECLAIM)
static inline bool gfpflags_allow_blocking(gfp_t g) { return g & __GFP_DIRECT_RECLAIM; }

/* ---- pages ---- */
#define PG_locked		0
#define PG_isolated		1
#define PAGE_MAPPING_MOVABLE	0x2UL
struct page {
	void *virt;
	unsigned long flags;	/* PG_* bits, atomic */
	int refcount;		/* atomic */
	unsigned long mapping;	/* movable_operations | PAGE_MAPPING_MOVABLE, atomic */
	unsigned long index;	/* the owner's */
	unsigned long private;	/* the owner's */
	unsigned long pfn;
	struct page *next_free;	/* memmap free list */
};
struct page *alloc_page(gfp_t gfp);
void put_page(struct page *page);
#define __free_page(p)		put_page(p)
void get_page(struct page *page);
bool get_page_unless_zero(struct page *page);
int page_count(struct page *page);
#define page_private(p)		((p)->private)
#define set_page_private(p, v)	((p)->private = (v))
void *kmap_local_page(struct page *page);
void shim_kunmap_local(const void *addr);
#define kunmap_local(a)		shim_kunmap_local(a)
void copy_highpage(struct page *to, struct page *from);
bool trylock_page(struct page *page);
void lock_page(struct page *page);
void unlock_page(struct page *page);
bool PageLocked(struct page *page);
bool PageIsolated(struct page *page);
/* memmap: pfns 0..shim_max_pfn()-1; a free page has refcount 0 */
unsigned long shim_max_pfn(void);
struct page *shim_pfn_to_page(unsigned long pfn);

/* ---- page migration (linux/migrate.h) ---- */
typedef unsigned int isolate_mode_t;
enum migrate_mode {
	MIGRATE_ASYNC,
	MIGRATE_SYNC_LIGHT,
	MIGRATE_SYNC,
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 10, 0)
	MIGRATE_SYNC_NO_COPY,
#endif
};
#define MIGRATEPAGE_SUCCESS	0
struct movable_operations {
	bool (*isolate_page)(struct page *, isolate_mode_t);
	int (*migrate_page)(struct page *dst, struct page *src, enum migrate_mode);
	void (*putback_page)(struct page *);
};
void __SetPageMovable(struct page *page, const struct movable_operations *mops);
void __ClearPageMovable(struct page *page);
bool __PageMovable(struct page *page);
bool PageMovable(struct page *page);

/* shim_migrate_page() results */
enum {
	SHIM_MIG_OK,		/* migrated: the owner now has a new page */
	SHIM_MIG_NOT_MOVABLE,	/* free or not a movable page */
	SHIM_MIG_BUSY,		/* not isolated: locked, already isolated, or refused */
	SHIM_MIG_RELEASED,	/* the owner gave it up while it was isolated */
	SHIM_MIG_FAILED,	/* ->migrate_page() failed every pass: put back */
	SHIM_MIG_NOMEM,		/* no target page: put back */
};
int shim_migrate_page(struct page *page, enum migrate_mode mode,
		      void (*isolated)(struct page *page, void *arg), void *arg);
extern long shim_migrate_calls;	/* ->migrate_page() calls */

/* ---- workqueues ---- */
struct work_struct {
	void (*func)(struct work_struct *);
	int state;		/* 0 idle, 1 pending, 2 running */
	struct work_struct *next;
};
#define INIT_WORK(w, f)		shim_init_work(w, f)
void shim_init_work(struct work_struct *w, void (*f)(struct work_struct *));
bool schedule_work(struct work_struct *w);
bool cancel_work_sync(struct work_struct *w);
int shim_run_work(void);	/* run pending work items here; how many ran */

/* ---- slab ---- */
void *kmalloc(size_t size, gfp_t gfp);
size_t kmalloc_size_roundup(size_t size);
void kfree(const void *p);
static inline void *kzalloc(size_t s, gfp_t g) { return kmalloc(s, g | __GFP_ZERO); }
#define kvmalloc(s, g)		kmalloc(s, g)
#define kvzalloc(s, g)		kzalloc(s, g)
#define kvcalloc(n, s, g)	kzalloc((size_t)(n) * (s), g)
#define kvfree(p)		kfree(p)

/* ---- locks ---- */
typedef struct {
	pthread_mutex_t m;
	pthread_t owner;
	int held;
} spinlock_t;
void spin_lock_init(spinlock_t *l);
void spin_lock(spinlock_t *l);
void spin_unlock(spinlock_t *l);

struct mutex { pthread_mutex_t m; };
void mutex_init(struct mutex *m);
void mutex_lock(struct mutex *m);
int mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
void mutex_destroy(struct mutex *m);
void cond_resched(void);

/* rwlock_t prefers writers, as the kernel's queued rwlock does */
typedef struct { pthread_rwlock_t l; } rwlock_t;
void rwlock_init(rwlock_t *l);
void read_lock(rwlock_t *l);
void read_unlock(rwlock_t *l);
void write_lock(rwlock_t *l);
void write_unlock(rwlock_t *l);

/* ---- atomics ---- */
typedef struct { long counter; } atomic_long_t;
#define atomic_long_read(a)	__atomic_load_n(&(a)->counter, __ATOMIC_RELAXED)
#define atomic_long_set(a, v)	__atomic_store_n(&(a)->counter, (v), __ATOMIC_RELAXED)
#define atomic_long_add(v, a)	((void)__atomic_add_fetch(&(a)->counter, (v), __ATOMIC_RELAXED))
#define atomic_long_sub(v, a)	atomic_long_add(-(long)(v), a)
#define atomic_long_inc(a)	atomic_long_add(1, a)
#define atomic_long_dec(a)	atomic_long_add(-1, a)

/* ---- bitops ---- */
#define BITS_TO_LONGS(n)	DIV_ROUND_UP(n, BITS_PER_LONG)
static inline void __set_bit(unsigned int nr, unsigned long *a)
{ a[nr / 64] |= 1UL << (nr % 64); }
static inline void __clear_bit(unsigned int nr, unsigned long *a)
{ a[nr / 64] &= ~(1UL << (nr % 64)); }
static inline bool test_bit(unsigned int nr, const unsigned long *a)
{ return a[nr / 64] >> (nr % 64) & 1; }
unsigned long find_next_bit(const unsigned long *a, unsigned long size,
			    unsigned long off);
unsigned long find_next_zero_bit(const unsigned long *a, unsigned long size,
				 unsigned long off);
#define find_first_zero_bit(a, s) find_next_zero_bit(a, s, 0)
unsigned long find_last_bit(const unsigned long *a, unsigned long size);

/* ---- lists ---- */
struct list_head { struct list_head *next, *prev; };
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l->prev = l; }
static inline void __list_add(struct list_head *n, struct list_head *p, struct list_head *x)
{ x->prev = n; n->next = x; n->prev = p; p->next = n; }
static inline void list_add(struct list_head *n, struct list_head *h) { __list_add(n, h, h->next); }
static inline void list_add_tail(struct list_head *n, struct list_head *h) { __list_add(n, h->prev, h); }
static inline void __list_del(struct list_head *e) { e->next->prev = e->prev; e->prev->next = e->next; }
static inline void list_del_init(struct list_head *e) { __list_del(e); INIT_LIST_HEAD(e); }
static inline void list_move(struct list_head *e, struct list_head *h) { __list_del(e); list_add(e, h); }
static inline bool list_empty(const struct list_head *h) { return h->next == h; }
#define list_entry(p, t, m)		container_of(p, t, m)
#define list_first_entry(h, t, m)	list_entry((h)->next, t, m)
#define list_last_entry(h, t, m)	list_entry((h)->prev, t, m)
#define list_for_each_entry(pos, h, m) \
	for (pos = list_first_entry(h, __typeof__(*pos), m); &pos->m != (h); \
	     pos = list_entry(pos->m.next, __typeof__(*pos), m))

/* ---- xarray (allocating, ids from 1; lockless loads) ---- */
#define XA_FLAGS_ALLOC1		1u
#define SHIM_XA_CHUNK		4096
#define SHIM_XA_CHUNKS		4096
struct xa_limit { u32 min, max; };
#define XA_LIMIT(lo, hi)	((struct xa_limit){ .min = (lo), .max = (hi) })
#define xa_limit_32b		XA_LIMIT(0, UINT_MAX)
struct xarray {
	pthread_mutex_t lock;
	void **chunk[SHIM_XA_CHUNKS];
	unsigned long *used;	/* bitmap of ids, SHIM_XA_CHUNK * SHIM_XA_CHUNKS bits */
	unsigned long hint;	/* no free id below this */
	unsigned long top;	/* highest id ever used + 1 */
};
void xa_init_flags(struct xarray *xa, unsigned int flags);
int xa_alloc(struct xarray *xa, u32 *id, void *entry, struct xa_limit lim, gfp_t gfp);
void *xa_load(struct xarray *xa, unsigned long index);
void *xa_erase(struct xarray *xa, unsigned long index);
void *shim_xa_find(struct xarray *xa, unsigned long *index);
void xa_destroy(struct xarray *xa);
#define xa_for_each(xa, index, entry) \
	for (index = 0; (entry = shim_xa_find(xa, &index)) != NULL; index++)

#endif /* ZBLK_SHIM_H */
