// SPDX-License-Identifier: GPL-2.0
/*
 * zblk_comp.c - backend registry and per-CPU compression streams.
 *
 * A compressor has one stream per online CPU. Every compressor is an
 * instance of one multi-instance CPU hotplug state (a PREPARE state, so its
 * callbacks run in process context on a control CPU): when a CPU comes up its
 * stream's memory is allocated before any task can run there, and when it is
 * dead the memory is freed. On VMs with many possible but few online CPUs
 * that is the difference between a few streams and a hundred.
 *
 * zblk_strm_get() takes the current CPU's stream mutex: normally uncontended,
 * it only makes a task wait when another task that ran on this CPU (and may
 * since have migrated) still holds the stream. A task may read the pointer of
 * a CPU that then goes offline; the dead callback frees the stream only under
 * its mutex and leaves it empty, so such a task finds no buffer once it gets
 * the mutex and tries the CPU it is on now.
 *
 * Locking: struct zblk_strm.lock only, taken in the I/O path and, under the
 * CPU hotplug lock, by the hotplug callbacks. Stream mutexes are never nested
 * (a task holds at most one stream), so they share one lockdep class.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/atomic.h>
#include <linux/cpuhotplug.h>
#include <linux/cpumask.h>
#include <linux/err.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/topology.h>
#include <linux/vmalloc.h>

#include "backend.h"

#define ZBLK_UNIT_MIN	4096U
#define ZBLK_UNIT_MAX	65536U

/* Listed in this order by comp_algorithm; the first is the default. */
static const struct zblk_backend *const zblk_backends[] = {
	&zblk_backend_lz4,
	&zblk_backend_lz4hc,
	&zblk_backend_zstd,
};

/**
 * struct zblk_comp - one device's compressor.
 * @be: the backend
 * @level: the level in use (ZBLK_LEVEL_DEFAULT resolved); fixed
 * @unit_size: bytes per unit; fixed
 * @strm_size: bytes one set-up stream holds; fixed
 * @nr_strms: streams set up now (one per online CPU); changed by the
 *	hotplug callbacks
 * @stream: a stream slot per possible CPU, set up only for online CPUs, each
 *	protected by its own lock
 * @node: this compressor in the hotplug state's instance list
 */
struct zblk_comp {
	const struct zblk_backend *be;
	int level;
	unsigned int unit_size;
	size_t strm_size;
	atomic_t nr_strms;
	struct zblk_strm __percpu *stream;
	struct hlist_node node;
};

/* The dynamic CPU hotplug state all compressors are instances of. */
static enum cpuhp_state zblk_cpuhp_state;

const struct zblk_backend *zblk_comp_find(const char *name)
{
	unsigned int i;

	if (!name)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(zblk_backends); i++)
		if (sysfs_streq(name, zblk_backends[i]->name))
			return zblk_backends[i];
	return NULL;
}

ssize_t zblk_comp_show(const char *selected, char *buf)
{
	ssize_t len = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(zblk_backends); i++) {
		const char *name = zblk_backends[i]->name;

		if (selected && !strcmp(selected, name))
			len += sysfs_emit_at(buf, len, "[%s] ", name);
		else
			len += sysfs_emit_at(buf, len, "%s ", name);
	}
	/* Replace the last space with a newline. */
	if (len)
		len--;
	len += sysfs_emit_at(buf, len, "\n");
	return len;
}

int zblk_comp_check_level(const struct zblk_backend *be, int level)
{
	if (level == ZBLK_LEVEL_DEFAULT)
		return 0;
	if (!be->has_level)
		return -EINVAL;
	if (level < be->min_level || level > be->max_level)
		return -EINVAL;
	return 0;
}

/**
 * zblk_backend_alloc() - a backend's working memory, at its exact size.
 * @size: bytes
 *
 * Not kvmalloc(): it would take a buffer above a page from kmalloc, which
 * rounds it up to a power of two pages. A zstd workspace for 16K units at
 * level 3 is a little over 256 KiB, so kmalloc would take 512 KiB for it
 * (on 6.1, a 16K-unit zstd device with 2 streams cost 1,864 KiB of Slab at
 * disksize for streams of 1,017 KiB). alloc_pages_exact() gives the tail
 * pages back; vmalloc() is the fallback when no contiguous run is free.
 *
 * Context: process context, may sleep.
 * Return: the memory, or NULL.
 */
void *zblk_backend_alloc(size_t size)
{
	void *p;

	if (size <= PAGE_SIZE)
		return kmalloc(size, GFP_KERNEL);
	p = alloc_pages_exact(size, GFP_KERNEL | __GFP_NORETRY | __GFP_NOWARN);
	return p ?: vmalloc(size);
}

/**
 * zblk_backend_free() - free what zblk_backend_alloc() returned.
 * @p: the memory, or NULL
 * @size: the size it was allocated with
 *
 * Context: process context.
 */
void zblk_backend_free(void *p, size_t size)
{
	if (!p)
		return;
	if (is_vmalloc_addr(p))
		vfree(p);
	else if (size > PAGE_SIZE)
		free_pages_exact(p, size);
	else
		kfree(p);
}

/**
 * zblk_strm_free() - free one stream's memory (it may be partly set up).
 * @comp: the compressor
 * @strm: the stream; its mutex is held by the caller or no one can take it
 *
 * Context: process context.
 */
static void zblk_strm_free(struct zblk_comp *comp, struct zblk_strm *strm)
{
	if (strm->ctx)
		comp->be->destroy_ctx(strm->ctx);
	kvfree(strm->buffer);
	kvfree(strm->local_copy);
	kvfree(strm->unit_buf);
	kvfree(strm->cache_buf);
	strm->cache_buf = NULL;
	strm->cache_len = 0;
	strm->ctx = NULL;
	strm->buffer = NULL;
	strm->local_copy = NULL;
	strm->unit_buf = NULL;
}

/**
 * zblk_strm_alloc() - set up the stream of @cpu.
 * @comp: the compressor
 * @strm: the stream (empty)
 * @cpu: the CPU it belongs to (its memory is allocated on that CPU's node)
 *
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM (the caller frees a partly set up stream).
 */
static int zblk_strm_alloc(struct zblk_comp *comp, struct zblk_strm *strm,
			   int cpu)
{
	int node = cpu_to_node(cpu);

	strm->ctx = comp->be->create_ctx(comp->level, comp->unit_size);
	strm->buffer = kvmalloc_node(2 * comp->unit_size, GFP_KERNEL, node);
	strm->local_copy = kvmalloc_node(comp->unit_size, GFP_KERNEL, node);
	strm->unit_buf = kvmalloc_node(comp->unit_size, GFP_KERNEL, node);
	strm->cache_buf = kvmalloc_node(comp->unit_size, GFP_KERNEL, node);
	strm->cache_len = 0;
	if (!strm->ctx || !strm->buffer || !strm->local_copy ||
	    !strm->unit_buf || !strm->cache_buf)
		return -ENOMEM;
	return 0;
}

/**
 * zblk_cpu_prepare() - hotplug startup: set up @cpu's stream of one compressor.
 * @cpu: the CPU coming up (no task runs on it yet)
 * @node: the compressor's &zblk_comp.node
 *
 * Context: process context, CPU hotplug lock held; may sleep.
 * Return: 0, or -ENOMEM (the CPU does not come up; when adding a compressor,
 * the streams set up so far are torn down again).
 */
static int zblk_cpu_prepare(unsigned int cpu, struct hlist_node *node)
{
	struct zblk_comp *comp = hlist_entry(node, struct zblk_comp, node);
	struct zblk_strm *strm = per_cpu_ptr(comp->stream, cpu);
	int err;

	mutex_lock(&strm->lock);
	err = zblk_strm_alloc(comp, strm, cpu);
	if (err)
		zblk_strm_free(comp, strm);
	else
		atomic_inc(&comp->nr_strms);
	mutex_unlock(&strm->lock);
	if (err)
		pr_err("cannot allocate a %s stream for CPU %u\n",
		       comp->be->name, cpu);
	return err;
}

/**
 * zblk_cpu_dead() - hotplug teardown: free @cpu's stream of one compressor.
 * @cpu: the CPU that is dead (or, on removal, each online CPU)
 * @node: the compressor's &zblk_comp.node
 *
 * Waits for a task that took the stream before the CPU went away.
 *
 * Context: process context, CPU hotplug lock held; may sleep.
 * Return: 0.
 */
static int zblk_cpu_dead(unsigned int cpu, struct hlist_node *node)
{
	struct zblk_comp *comp = hlist_entry(node, struct zblk_comp, node);
	struct zblk_strm *strm = per_cpu_ptr(comp->stream, cpu);

	mutex_lock(&strm->lock);
	if (strm->buffer)
		atomic_dec(&comp->nr_strms);
	zblk_strm_free(comp, strm);
	mutex_unlock(&strm->lock);
	return 0;
}

int zblk_comp_init(void)
{
	int ret;

	ret = cpuhp_setup_state_multi(CPUHP_BP_PREPARE_DYN, "block/zblk:prepare",
				      zblk_cpu_prepare, zblk_cpu_dead);
	if (ret < 0)
		return ret;
	zblk_cpuhp_state = ret;
	return 0;
}

void zblk_comp_exit(void)
{
	cpuhp_remove_multi_state(zblk_cpuhp_state);
}

/**
 * zblk_comp_free() - free a compressor whose streams are all torn down.
 * @comp: the compressor
 *
 * Context: process context.
 */
static void zblk_comp_free(struct zblk_comp *comp)
{
	int cpu;

	if (comp->stream) {
		for_each_possible_cpu(cpu)
			mutex_destroy(&per_cpu_ptr(comp->stream, cpu)->lock);
		free_percpu(comp->stream);
	}
	kfree(comp);
}

void zblk_comp_destroy(struct zblk_comp *comp)
{
	if (IS_ERR_OR_NULL(comp))
		return;
	/* Runs zblk_cpu_dead() for every CPU whose stream is set up. */
	cpuhp_state_remove_instance(zblk_cpuhp_state, &comp->node);
	WARN_ON_ONCE(atomic_read(&comp->nr_strms));
	zblk_comp_free(comp);
}

struct zblk_comp *zblk_comp_create(const struct zblk_backend *be, int level,
				   unsigned int unit_size)
{
	struct zblk_comp *comp;
	int cpu, err;

	if (!be || zblk_comp_check_level(be, level))
		return ERR_PTR(-EINVAL);
	if (!is_power_of_2(unit_size) || unit_size < ZBLK_UNIT_MIN ||
	    unit_size > ZBLK_UNIT_MAX)
		return ERR_PTR(-EINVAL);

	comp = kzalloc(sizeof(*comp), GFP_KERNEL);
	if (!comp)
		return ERR_PTR(-ENOMEM);
	comp->be = be;
	comp->level = level == ZBLK_LEVEL_DEFAULT ? be->default_level : level;
	comp->unit_size = unit_size;
	comp->strm_size = be->ctx_size(comp->level, unit_size) + 5 * unit_size;
	atomic_set(&comp->nr_strms, 0);
	comp->stream = alloc_percpu(struct zblk_strm);
	if (!comp->stream) {
		err = -ENOMEM;
		goto fail;
	}
	for_each_possible_cpu(cpu)
		mutex_init(&per_cpu_ptr(comp->stream, cpu)->lock);
	/* Runs zblk_cpu_prepare() for every online CPU, undone on failure. */
	err = cpuhp_state_add_instance(zblk_cpuhp_state, &comp->node);
	if (err)
		goto fail;
	return comp;
fail:
	zblk_comp_free(comp);
	pr_err("cannot allocate %s streams for %u-byte units: %d\n",
	       be->name, unit_size, err);
	return ERR_PTR(err);
}

struct zblk_strm *zblk_strm_get(struct zblk_comp *comp)
{
	struct zblk_strm *strm;

	/*
	 * Migrating between raw_cpu_ptr() and mutex_lock() is harmless: the
	 * mutex makes the stream exclusive. If the CPU went offline meanwhile,
	 * zblk_cpu_dead() emptied its stream: try the CPU we are on now, whose
	 * stream is set up for as long as it is online.
	 */
	for (;;) {
		strm = raw_cpu_ptr(comp->stream);
		mutex_lock(&strm->lock);
		if (likely(strm->buffer))
			return strm;
		mutex_unlock(&strm->lock);
		cond_resched();
	}
}

void zblk_strm_put(struct zblk_comp *comp, struct zblk_strm *strm)
{
	mutex_unlock(&strm->lock);
}

int zblk_compress(struct zblk_comp *comp, struct zblk_strm *strm,
		  const void *src, unsigned int len, unsigned int *comp_len)
{
	size_t dst_len = 2 * comp->unit_size;
	int err;

	lockdep_assert_held(&strm->lock);
	if (WARN_ON_ONCE(!len || len > comp->unit_size))
		return -EINVAL;
	err = comp->be->compress(strm->ctx, comp->level, src, len,
				 strm->buffer, &dst_len);
	if (err)
		return err;
	*comp_len = dst_len;
	return 0;
}

int zblk_decompress(struct zblk_comp *comp, struct zblk_strm *strm,
		    const void *src, unsigned int src_len, void *dst,
		    unsigned int dst_len)
{
	lockdep_assert_held(&strm->lock);
	if (!src_len || !dst_len || dst_len > comp->unit_size)
		return -EIO;
	return comp->be->decompress(strm->ctx, src, src_len, dst, dst_len);
}

int zblk_decompress_head(struct zblk_comp *comp, struct zblk_strm *strm,
			 const void *src, unsigned int src_len, void *dst,
			 unsigned int head)
{
	lockdep_assert_held(&strm->lock);
	if (!src_len || !head || head > comp->unit_size)
		return -EIO;
	if (head == comp->unit_size || !comp->be->decompress_head)
		return comp->be->decompress(strm->ctx, src, src_len, dst,
					    comp->unit_size);
	return comp->be->decompress_head(strm->ctx, src, src_len, dst, head);
}

bool zblk_comp_stops_early(struct zblk_comp *comp)
{
	return comp->be->decompress_head != NULL;
}

const char *zblk_comp_name(struct zblk_comp *comp)
{
	return comp->be->name;
}

int zblk_comp_level(struct zblk_comp *comp)
{
	return comp->level;
}

size_t zblk_comp_mem(struct zblk_comp *comp)
{
	return atomic_read(&comp->nr_strms) * comp->strm_size;
}

unsigned int zblk_comp_nr_streams(struct zblk_comp *comp)
{
	return atomic_read(&comp->nr_strms);
}
