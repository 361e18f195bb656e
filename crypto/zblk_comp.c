// SPDX-License-Identifier: GPL-2.0
/*
 * zblk_comp.c - backend registry and per-CPU compression streams.
 *
 * A compressor has one stream per possible CPU, all allocated when it is
 * created and freed when it is destroyed, so CPU hotplug needs no callbacks
 * and a stream never goes away under a task that migrated after taking it.
 * zblk_strm_get() takes the current CPU's stream mutex: normally uncontended,
 * it only makes a task wait when another task that ran on this CPU (and may
 * since have migrated) still holds the stream.
 *
 * Locking: struct zblk_strm.lock only. Stream mutexes are never nested (a
 * task holds at most one stream), so they share one lockdep class.
 */
#define pr_fmt(fmt) "zblk: " fmt

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
 * @mem: bytes allocated for all streams; fixed
 * @stream: one stream per possible CPU, each protected by its own lock
 */
struct zblk_comp {
	const struct zblk_backend *be;
	int level;
	unsigned int unit_size;
	size_t mem;
	struct zblk_strm __percpu *stream;
};

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
 * zblk_strm_free() - free one stream's memory (it may be partly set up).
 * @comp: the compressor
 * @strm: the stream
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
	mutex_destroy(&strm->lock);
	strm->ctx = NULL;
	strm->buffer = NULL;
	strm->local_copy = NULL;
	strm->unit_buf = NULL;
}

/**
 * zblk_strm_alloc() - set up the stream of @cpu.
 * @comp: the compressor
 * @strm: the stream (zeroed)
 * @cpu: the CPU it belongs to (its memory is allocated on that CPU's node)
 *
 * Context: process context, may sleep.
 * Return: 0 or -ENOMEM (the caller frees a partly set up stream).
 */
static int zblk_strm_alloc(struct zblk_comp *comp, struct zblk_strm *strm,
			   int cpu)
{
	int node = cpu_to_node(cpu);

	mutex_init(&strm->lock);
	strm->ctx = comp->be->create_ctx(comp->level, comp->unit_size);
	strm->buffer = kvmalloc_node(2 * comp->unit_size, GFP_KERNEL, node);
	strm->local_copy = kvmalloc_node(comp->unit_size, GFP_KERNEL, node);
	strm->unit_buf = kvmalloc_node(comp->unit_size, GFP_KERNEL, node);
	if (!strm->ctx || !strm->buffer || !strm->local_copy || !strm->unit_buf)
		return -ENOMEM;
	return 0;
}

void zblk_comp_destroy(struct zblk_comp *comp)
{
	int cpu;

	if (IS_ERR_OR_NULL(comp))
		return;
	if (comp->stream) {
		for_each_possible_cpu(cpu)
			zblk_strm_free(comp, per_cpu_ptr(comp->stream, cpu));
		free_percpu(comp->stream);
	}
	kfree(comp);
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
	comp->stream = alloc_percpu(struct zblk_strm);
	if (!comp->stream) {
		err = -ENOMEM;
		goto fail;
	}
	for_each_possible_cpu(cpu) {
		err = zblk_strm_alloc(comp, per_cpu_ptr(comp->stream, cpu), cpu);
		if (err)
			goto fail;
		cond_resched();
	}
	comp->mem = num_possible_cpus() *
		    (be->ctx_size(comp->level, unit_size) + 4 * unit_size);
	return comp;
fail:
	zblk_comp_destroy(comp);
	pr_err("cannot allocate %s streams for %u-byte units: %d\n",
	       be->name, unit_size, err);
	return ERR_PTR(err);
}

struct zblk_strm *zblk_strm_get(struct zblk_comp *comp)
{
	/*
	 * Migrating between raw_cpu_ptr() and mutex_lock() is harmless: every
	 * stream lives as long as @comp and the mutex makes it exclusive.
	 */
	struct zblk_strm *strm = raw_cpu_ptr(comp->stream);

	mutex_lock(&strm->lock);
	return strm;
}

void zblk_strm_put(struct zblk_comp *comp, struct zblk_strm *strm)
{
	mutex_unlock(&strm->lock);
}

int zblk_compress(struct zblk_comp *comp, struct zblk_strm *strm,
		  const void *src, unsigned int *comp_len)
{
	size_t dst_len = 2 * comp->unit_size;
	int err;

	lockdep_assert_held(&strm->lock);
	err = comp->be->compress(strm->ctx, comp->level, src, comp->unit_size,
				 strm->buffer, &dst_len);
	if (err)
		return err;
	*comp_len = dst_len;
	return 0;
}

int zblk_decompress(struct zblk_comp *comp, struct zblk_strm *strm,
		    const void *src, unsigned int src_len, void *dst)
{
	lockdep_assert_held(&strm->lock);
	if (!src_len)
		return -EIO;
	return comp->be->decompress(strm->ctx, src, src_len, dst,
				    comp->unit_size);
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
	return comp->mem;
}
