// SPDX-License-Identifier: GPL-2.0
/*
 * zblk_sysfs.c - /sys/block/zblkN/ attributes and /sys/class/zblk-control.
 *
 * Names and formats follow zram's, so scripts written for zram work. Every
 * store parses its whole input first (one trailing newline allowed) and
 * changes nothing unless it succeeds: empty, garbage, negative, overflowing
 * or overlong input gets -EINVAL. The device core (zblkdev/) does the work
 * and takes the locks; this file only parses and formats.
 *
 * Locks: none of its own. Stores call into zblkdev/main.c, which takes
 * zblk_index_mutex, disk->open_mutex and init_lock as documented there.
 */
#define pr_fmt(fmt) "zblk: " fmt

#include <linux/device.h>
#include <linux/blkdev.h>
#include <linux/kernel.h>
#include <linux/ctype.h>
#include <linux/string.h>
#include <linux/sysfs.h>

#include "zblkdev/zblk.h"
#include "crypto/zblk_comp.h"
#include "sysfs/zblk_sysfs.h"

/* Longest token any store accepts (sizes, numbers, names). */
#define ZBLK_TOKEN_MAX		32
/* Longest algorithm_params input. */
#define ZBLK_PARAMS_MAX		96

static struct zblk *dev_to_zblk(struct device *dev)
{
	return dev_to_disk(dev)->private_data;
}

/*
 * Copy @buf (@len bytes, from a store) into @out without one trailing
 * newline. Return: 0, or -EINVAL if empty, too long, or with whitespace or
 * NUL inside.
 */
static int zblk_token(const char *buf, size_t len, char *out, size_t size)
{
	size_t i;

	if (len && buf[len - 1] == '\n')
		len--;
	if (!len || len >= size)
		return -EINVAL;
	for (i = 0; i < len; i++)
		if (!buf[i] || isspace(buf[i]))
			return -EINVAL;
	memcpy(out, buf, len);
	out[len] = '\0';
	return 0;
}

/*
 * Parse a size as memparse() does ("4G", "512M", "0x1000", ...) but refuse
 * garbage, signs and overflow. Return: 0 or -EINVAL.
 */
static int zblk_parse_size(const char *buf, size_t len, u64 *out)
{
	char tok[ZBLK_TOKEN_MAX];
	unsigned int shift;
	size_t n;
	u64 v;

	if (zblk_token(buf, len, tok, sizeof(tok)))
		return -EINVAL;
	if (!kstrtou64(tok, 0, &v)) {
		*out = v;
		return 0;
	}
	n = strlen(tok);
	switch (tolower(tok[n - 1])) {
	case 'k':
		shift = 10;
		break;
	case 'm':
		shift = 20;
		break;
	case 'g':
		shift = 30;
		break;
	case 't':
		shift = 40;
		break;
	case 'p':
		shift = 50;
		break;
	case 'e':
		shift = 60;
		break;
	default:
		return -EINVAL;
	}
	tok[n - 1] = '\0';
	if (n < 2 || kstrtou64(tok, 0, &v) || v > (U64_MAX >> shift))
		return -EINVAL;
	*out = v << shift;
	return 0;
}

/* A decimal unsigned int. Return: 0 or -EINVAL. */
static int zblk_parse_uint(const char *buf, size_t len, unsigned int *out)
{
	char tok[ZBLK_TOKEN_MAX];

	if (zblk_token(buf, len, tok, sizeof(tok)) || kstrtouint(tok, 10, out))
		return -EINVAL;
	return 0;
}

static ssize_t disksize_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	struct zblk_config cfg;

	zblk_get_config(dev_to_zblk(dev), &cfg);
	return sysfs_emit(buf, "%llu\n", cfg.disksize);
}

static ssize_t disksize_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	u64 size;
	int ret;

	if (zblk_parse_size(buf, len, &size) || !size)
		return -EINVAL;
	ret = zblk_set_disksize(dev_to_zblk(dev), size);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(disksize);

static ssize_t initstate_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct zblk_config cfg;

	zblk_get_config(dev_to_zblk(dev), &cfg);
	return sysfs_emit(buf, "%u\n", cfg.initialised);
}
static DEVICE_ATTR_RO(initstate);

static ssize_t reset_store(struct device *dev, struct device_attribute *attr,
			   const char *buf, size_t len)
{
	unsigned int v;
	int ret;

	if (zblk_parse_uint(buf, len, &v) || !v)
		return -EINVAL;
	ret = zblk_reset(dev_to_zblk(dev));
	return ret ? ret : len;
}
static DEVICE_ATTR_WO(reset);

static ssize_t comp_algorithm_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct zblk_config cfg;

	zblk_get_config(dev_to_zblk(dev), &cfg);
	return zblk_comp_show(cfg.backend->name, buf);
}

static ssize_t comp_algorithm_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t len)
{
	char name[ZBLK_ALGO_NAME_MAX];
	int ret;

	if (zblk_token(buf, len, name, sizeof(name)))
		return -EINVAL;
	ret = zblk_set_algorithm(dev_to_zblk(dev), name);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(comp_algorithm);

static ssize_t algorithm_params_show(struct device *dev,
				     struct device_attribute *attr, char *buf)
{
	struct zblk_config cfg;

	zblk_get_config(dev_to_zblk(dev), &cfg);
	if (cfg.backend->has_level)
		return sysfs_emit(buf, "algo=%s level=%d\n", cfg.backend->name, cfg.level);
	return sysfs_emit(buf, "algo=%s\n", cfg.backend->name);
}

/*
 * "level=N", optionally with "algo=NAME" (the chosen algorithm), separated
 * by spaces, in any order, each at most once.
 */
static ssize_t algorithm_params_store(struct device *dev,
				      struct device_attribute *attr,
				      const char *buf, size_t len)
{
	char params[ZBLK_PARAMS_MAX], *p, *tok, *algo = NULL, *level_s = NULL;
	int level, ret;

	if (!len || len >= sizeof(params) || memchr(buf, '\0', len))
		return -EINVAL;
	memcpy(params, buf, len);
	params[len] = '\0';
	p = strim(params);
	while ((tok = strsep(&p, " \t\n")) != NULL) {
		if (!*tok)
			continue;
		if (str_has_prefix(tok, "algo=") && !algo)
			algo = tok + strlen("algo=");
		else if (str_has_prefix(tok, "level=") && !level_s)
			level_s = tok + strlen("level=");
		else
			return -EINVAL;
	}
	if (!level_s || (algo && !*algo) || kstrtoint(level_s, 10, &level))
		return -EINVAL;
	if (level == ZBLK_LEVEL_DEFAULT)
		return -EINVAL;
	ret = zblk_set_level(dev_to_zblk(dev), algo, level);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(algorithm_params);

static ssize_t unit_size_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	struct zblk_config cfg;

	zblk_get_config(dev_to_zblk(dev), &cfg);
	return sysfs_emit(buf, "%u\n", cfg.unit_size);
}

static ssize_t unit_size_store(struct device *dev, struct device_attribute *attr,
			       const char *buf, size_t len)
{
	unsigned int size;
	int ret;

	if (zblk_parse_uint(buf, len, &size))
		return -EINVAL;
	ret = zblk_set_unit_size(dev_to_zblk(dev), size);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(unit_size);

static ssize_t mem_limit_show(struct device *dev, struct device_attribute *attr,
			      char *buf)
{
	return sysfs_emit(buf, "%llu\n", zblk_get_mem_limit(dev_to_zblk(dev)));
}

static ssize_t mem_limit_store(struct device *dev, struct device_attribute *attr,
			       const char *buf, size_t len)
{
	u64 limit;
	int ret;

	if (zblk_parse_size(buf, len, &limit))
		return -EINVAL;
	ret = zblk_set_mem_limit(dev_to_zblk(dev), limit);
	return ret ? ret : len;
}
static DEVICE_ATTR_RW(mem_limit);

static ssize_t mem_used_max_show(struct device *dev,
				 struct device_attribute *attr, char *buf)
{
	struct zblk_mm_stat st;

	zblk_get_mm_stat(dev_to_zblk(dev), &st);
	return sysfs_emit(buf, "%llu\n", st.mem_used_max);
}

static ssize_t mem_used_max_store(struct device *dev,
				  struct device_attribute *attr,
				  const char *buf, size_t len)
{
	unsigned int v;

	if (zblk_parse_uint(buf, len, &v) || v)
		return -EINVAL;
	zblk_reset_mem_used_max(dev_to_zblk(dev));
	return len;
}
static DEVICE_ATTR_RW(mem_used_max);

static ssize_t compact_store(struct device *dev, struct device_attribute *attr,
			     const char *buf, size_t len)
{
	unsigned int v;
	long ret;

	if (zblk_parse_uint(buf, len, &v) || !v)
		return -EINVAL;
	ret = zblk_compact(dev_to_zblk(dev));
	return ret < 0 ? ret : len;
}
static DEVICE_ATTR_WO(compact);

static ssize_t mm_stat_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct zblk_mm_stat st;

	zblk_get_mm_stat(dev_to_zblk(dev), &st);
	/* zram's nine fields, then zblk's own (docs/sysfs-abi.md). */
	return sysfs_emit(buf, "%8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu\n",
			  st.orig_data_size, st.compr_data_size,
			  st.mem_used_total, st.mem_limit, st.mem_used_max,
			  st.same_pages, st.pages_compacted, st.huge_pages,
			  st.huge_pages_since, st.metadata_bytes);
}
static DEVICE_ATTR_RO(mm_stat);

static ssize_t io_stat_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	struct zblk_io_stat st;

	zblk_get_io_stat(dev_to_zblk(dev), &st);
	return sysfs_emit(buf, "%8llu %8llu %8llu %8llu\n", st.failed_reads,
			  st.failed_writes, st.invalid_io, st.notify_free);
}
static DEVICE_ATTR_RO(io_stat);

static ssize_t debug_stat_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct zblk_debug_stat st;

	zblk_get_debug_stat(dev_to_zblk(dev), &st);
	return sysfs_emit(buf, "version: 6\n%8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu %8llu\n",
			  st.miss_free, st.partial_writes, st.partial_discards,
			  st.retried_free, st.shrink_calls, st.shrink_objects,
			  st.shrink_max_objects, st.shrink_max_to_scan,
			  st.shrink_over, st.shrink_ns, st.shrink_max_ns,
			  st.split_blocks, st.split_units, st.packed_units,
			  st.repacked_units, st.pack_skipped, st.pack_failed,
			  st.pack_pending, st.read_cache_hits, st.lazy_bytes,
			  st.bg_compact_objects);
}
static DEVICE_ATTR_RO(debug_stat);

static struct attribute *zblk_disk_attrs[] = {
	&dev_attr_disksize.attr,
	&dev_attr_initstate.attr,
	&dev_attr_reset.attr,
	&dev_attr_comp_algorithm.attr,
	&dev_attr_algorithm_params.attr,
	&dev_attr_unit_size.attr,
	&dev_attr_mem_limit.attr,
	&dev_attr_mem_used_max.attr,
	&dev_attr_compact.attr,
	&dev_attr_mm_stat.attr,
	&dev_attr_io_stat.attr,
	&dev_attr_debug_stat.attr,
	NULL,
};

static const struct attribute_group zblk_disk_group = {
	.attrs = zblk_disk_attrs,
};

const struct attribute_group *zblk_disk_groups[] = {
	&zblk_disk_group,
	NULL,
};

/* /sys/class/zblk-control */

static ssize_t hot_add_show(zblk_class_const struct class *class,
			    zblk_class_const struct class_attribute *attr,
			    char *buf)
{
	int id = zblk_add();

	if (id < 0)
		return id;
	return sysfs_emit(buf, "%d\n", id);
}
static CLASS_ATTR_RO(hot_add);

static ssize_t hot_remove_store(zblk_class_const struct class *class,
				zblk_class_const struct class_attribute *attr,
				const char *buf, size_t len)
{
	unsigned int id;
	int ret;

	if (zblk_parse_uint(buf, len, &id))
		return -EINVAL;
	ret = id < ZBLK_MAX_DEVICES ? zblk_remove_id(id) : -ENODEV;
	return ret ? ret : len;
}
static CLASS_ATTR_WO(hot_remove);

static struct attribute *zblk_control_class_attrs[] = {
	&class_attr_hot_add.attr,
	&class_attr_hot_remove.attr,
	NULL,
};
ATTRIBUTE_GROUPS(zblk_control_class);

static struct class zblk_control_class = {
	.name		= "zblk-control",
	ZBLK_COMPAT_CLASS_OWNER
	.class_groups	= zblk_control_class_groups,
};

/**
 * zblk_sysfs_init() - register /sys/class/zblk-control.
 *
 * Context: module init.
 * Return: 0 or a negative errno.
 */
int zblk_sysfs_init(void)
{
	return class_register(&zblk_control_class);
}

/**
 * zblk_sysfs_exit() - unregister it; waits for hot_add/hot_remove running.
 *
 * Context: module exit.
 */
void zblk_sysfs_exit(void)
{
	class_unregister(&zblk_control_class);
}
