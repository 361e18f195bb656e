// SPDX-License-Identifier: GPL-2.0
/*
 * zblk-load - the load generator behind tools/bench.
 *
 * fio writes synthetic buffers that all compress alike; a compressed RAM
 * device must be measured with real memory pages. zblk-load writes pages of a
 * corpus file (decompressed anonymous memory) to a block device or file with
 * O_DIRECT, reads them back, discards scattered units, and drives swap with an
 * anonymous working set filled with corpus pages. Every mode prints one JSON
 * line on stdout; errors go to stderr and make the exit status non-zero.
 *
 * Content rule (all modes): 4 KiB page i of the target holds corpus page
 * (i + seed) % corpus_pages. Reads can therefore be verified at any time
 * after a fill with the same seed.
 *
 * Built static (see Makefile) so that it runs in the busybox guest.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PG		4096UL
#define MAX_JOBS	64
#define MAX_DEVS	32

/* Latency histogram: log-linear, 32 sub-buckets per power of two (~3%). */
#define SUB_BITS	5
#define SUB		(1U << SUB_BITS)
#define NBUCKETS	(64 * SUB)

struct hist {
	uint64_t count;
	uint64_t sum_ns;
	uint64_t max_ns;
	uint64_t b[NBUCKETS];
};

static unsigned int hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < SUB)
		return v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - SUB_BITS;
	return (shift + 1) * SUB + ((v >> shift) & (SUB - 1));
}

/* Middle of bucket @i, in ns. */
static double hist_value(unsigned int i)
{
	unsigned int shift, sub;
	double low;

	if (i < SUB)
		return i;
	shift = i / SUB - 1;
	sub = i % SUB;
	low = (double)((uint64_t)(SUB + sub) << shift);
	return low + (double)(1ULL << shift) / 2.0;
}

static void hist_add(struct hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->b[hist_index(ns)]++;
}

static void hist_merge(struct hist *to, const struct hist *from)
{
	unsigned int i;

	to->count += from->count;
	to->sum_ns += from->sum_ns;
	if (from->max_ns > to->max_ns)
		to->max_ns = from->max_ns;
	for (i = 0; i < NBUCKETS; i++)
		to->b[i] += from->b[i];
}

/* Percentile @p (0..100) in microseconds: nearest rank over the buckets. */
static double hist_pct_us(const struct hist *h, double p)
{
	uint64_t want, seen = 0;
	unsigned int i;
	double rank;

	if (!h->count)
		return 0;
	/* nearest rank: the smallest sample with at least p% at or below it */
	rank = (p / 100.0) * (double)h->count;
	want = (uint64_t)rank;
	if ((double)want < rank - 1e-9)
		want++;		/* ceil */
	if (want < 1)
		want = 1;
	if (want > h->count)
		want = h->count;
	for (i = 0; i < NBUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			return hist_value(i) / 1000.0;
	}
	return (double)h->max_ns / 1000.0;
}

static double hist_mean_us(const struct hist *h)
{
	return h->count ? (double)h->sum_ns / (double)h->count / 1000.0 : 0;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* xorshift64* */
static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static uint64_t rnd_seed(uint64_t a, uint64_t b)
{
	uint64_t s = (a + 1) * 0x9E3779B97F4A7C15ULL ^ (b + 7) * 0xBF58476D1CE4E5B9ULL;

	return s ? s : 1;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("zblk-load: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* ---- options ----------------------------------------------------------- */

enum rw { RW_READ, RW_WRITE, RW_RANDREAD, RW_RANDWRITE, RW_RANDRW };

static const char *const rw_names[] = {
	[RW_READ] = "read", [RW_WRITE] = "write", [RW_RANDREAD] = "randread",
	[RW_RANDWRITE] = "randwrite", [RW_RANDRW] = "randrw",
};

static struct opts {
	const char *mode;
	const char *corpus_path;
	const char *dev;		/* the target of this run */
	const char *label;		/* its label (--dev PATH=LABEL) */
	const char *devs[MAX_DEVS];	/* every --dev, PATH or PATH=LABEL */
	unsigned int ndevs;
	unsigned int reps;		/* io: runs per device */
	double pause;			/* io: idle seconds around each run */
	const char *ack;		/* file an observer writes sequence numbers to */
	const char *mm_stat;
	const char *census;		/* swap: debugfs zblkN/units */
	enum rw rw;
	unsigned int rwmix;		/* percent reads for randrw */
	unsigned int bs;
	unsigned int jobs;
	unsigned int unit;		/* discard/verify unit */
	uint64_t size;			/* bytes of the target used; 0 = all */
	uint64_t corpus_max;		/* bytes of corpus used; 0 = all */
	unsigned int stride;		/* keep every Nth corpus page */
	double runtime;			/* seconds; 0 = use loops */
	double loops;			/* passes over the region */
	double fraction;		/* discard fraction; < 0: not given */
	uint64_t seed;
	uint64_t dseed;			/* discard selection seed */
	uint64_t oseed;			/* offset sequence seed (io) */
	int thp;			/* swap: leave the working set to THP/mTHP */
	uint64_t ws;			/* swap working set bytes */
	int verify;
	int mlock_corpus;
	const char *ackmap;		/* per-block write outcome file */
	uint64_t old_seed;		/* verify: seed of blocks whose write failed */
	int old_zero;			/* verify: such blocks read as zeros */
	int make_it_fail;		/* fault injection on this tool's I/O */
} o = {
	.rw = RW_RANDREAD, .rwmix = 70, .bs = 4096, .jobs = 1, .unit = 4096,
	.stride = 1, .loops = 1, .fraction = -1, .dseed = 1, .reps = 1,
};

/* ---- corpus ------------------------------------------------------------ */

static unsigned char *corpus;
static uint64_t corpus_pages;

static void *map_anon_thp(size_t len, int thp);

static void *map_anon(size_t len)
{
	return map_anon_thp(len, 0);
}

static void *map_anon_thp(size_t len, int thp)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		die("mmap %zu bytes: %s", len, strerror(errno));
	if (!thp)
		madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

static size_t read_full(int fd, void *buf, size_t len)
{
	size_t done = 0;
	ssize_t r;

	while (done < len) {
		r = read(fd, (char *)buf + done, len - done);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read corpus: %s", strerror(errno));
		if (r == 0)
			break;
		done += r;
	}
	return done;
}

/* Stream the corpus from @fd, keeping every o.stride-th page. */
static void corpus_read_stream(int fd)
{
	size_t cap = 1024, max_keep = o.corpus_max ? o.corpus_max / PG : SIZE_MAX;
	unsigned char page[PG];
	uint64_t idx = 0;

	corpus = map_anon(cap * PG);
	while (corpus_pages < max_keep && read_full(fd, page, PG) == PG) {
		if (idx++ % o.stride)
			continue;
		if (corpus_pages == cap) {
			void *n = mremap(corpus, cap * PG, 2 * cap * PG, MREMAP_MAYMOVE);

			if (n == MAP_FAILED)
				die("mremap corpus: %s", strerror(errno));
			corpus = n;
			cap *= 2;
		}
		memcpy(corpus + corpus_pages++ * PG, page, PG);
	}
}

static void corpus_load(void)
{
	struct stat st;
	int fd;

	if (!o.corpus_path)
		die("--corpus FILE is required (use - for stdin)");
	if (!o.stride)
		o.stride = 1;
	fd = strcmp(o.corpus_path, "-") ? open(o.corpus_path, O_RDONLY) : 0;
	if (fd < 0)
		die("open %s: %s", o.corpus_path, strerror(errno));
	if (fstat(fd, &st))
		die("stat %s: %s", o.corpus_path, strerror(errno));
	if (S_ISREG(st.st_mode) && o.stride == 1) {
		uint64_t pages = st.st_size / PG;

		if (o.corpus_max && pages > o.corpus_max / PG)
			pages = o.corpus_max / PG;
		if (pages) {
			corpus = mmap(NULL, pages * PG, PROT_READ,
				      MAP_PRIVATE | MAP_POPULATE, fd, 0);
			if (corpus == MAP_FAILED)
				die("mmap %s: %s", o.corpus_path, strerror(errno));
		}
		corpus_pages = pages;
	} else {
		corpus_read_stream(fd);
	}
	if (fd)
		close(fd);
	if (!corpus_pages)
		die("corpus %s holds no whole 4 KiB page", o.corpus_path);
	if (o.mlock_corpus && mlock(corpus, corpus_pages * PG))
		die("mlock corpus (%" PRIu64 " pages): %s", corpus_pages, strerror(errno));
}

static const unsigned char *corpus_page_seed(uint64_t page, uint64_t seed)
{
	return corpus + ((page + seed) % corpus_pages) * PG;
}

static const unsigned char *corpus_page(uint64_t page)
{
	return corpus_page_seed(page, o.seed);
}

/*
 * Expected content of @len bytes at byte offset @off: a pointer into the
 * corpus when the pages are contiguous there, else assembled in @bounce.
 */
static const unsigned char *expected_seed(uint64_t off, size_t len,
					  unsigned char *bounce, uint64_t seed)
{
	uint64_t first = off / PG, n = len / PG, i;

	if ((first + seed) % corpus_pages + n <= corpus_pages)
		return corpus_page_seed(first, seed);
	for (i = 0; i < n; i++)
		memcpy(bounce + i * PG, corpus_page_seed(first + i, seed), PG);
	return bounce;
}

static const unsigned char *expected(uint64_t off, size_t len, unsigned char *bounce)
{
	return expected_seed(off, len, bounce, o.seed);
}

/* ---- target ------------------------------------------------------------ */

static int target_open(int flags, uint64_t *size, int *is_blk)
{
	struct stat st;
	uint64_t sz;
	int fd;

	if (!o.dev)
		die("--dev PATH is required");
	fd = open(o.dev, flags | O_DIRECT | (flags & O_RDWR ? O_CREAT : 0), 0644);
	if (fd < 0)
		die("open %s: %s", o.dev, strerror(errno));
	if (fstat(fd, &st))
		die("stat %s: %s", o.dev, strerror(errno));
	*is_blk = S_ISBLK(st.st_mode);
	if (*is_blk) {
		if (ioctl(fd, BLKGETSIZE64, &sz))
			die("BLKGETSIZE64 %s: %s", o.dev, strerror(errno));
	} else {
		sz = st.st_size;
		if (o.size > sz) {
			if (ftruncate(fd, o.size))
				die("ftruncate %s: %s", o.dev, strerror(errno));
			sz = o.size;
		}
	}
	if (o.size) {
		if (o.size > sz)
			die("--size %" PRIu64 " is larger than %s (%" PRIu64 " bytes)",
			    o.size, o.dev, sz);
		sz = o.size;
	}
	sz -= sz % (o.unit > o.bs ? o.unit : o.bs);
	if (!sz)
		die("%s is smaller than one block", o.dev);
	*size = sz;
	return fd;
}

/* Units discarded by "discard" with the same --unit/--fraction/--dseed. */
static uint32_t *discard_order(uint64_t nunits, uint64_t *ndiscard)
{
	uint64_t i, j, s = rnd_seed(o.dseed, nunits);
	uint32_t *idx, t;

	if (nunits > UINT32_MAX)
		die("too many units");
	idx = malloc(nunits * sizeof(*idx));
	if (!idx)
		die("out of memory");
	for (i = 0; i < nunits; i++)
		idx[i] = i;
	*ndiscard = (uint64_t)(o.fraction * (double)nunits);
	for (i = 0; i < *ndiscard; i++) {
		j = i + rnd(&s) % (nunits - i);
		t = idx[i];
		idx[i] = idx[j];
		idx[j] = t;
	}
	return idx;
}

/* ---- block I/O --------------------------------------------------------- */

static void json_file(const char *key, const char *path);

struct job {
	pthread_t th;
	int id;
	int fd;
	uint64_t off, len;		/* region for sequential I/O */
	uint64_t rng;
	unsigned char *buf, *bounce;
	const unsigned char *dmap;	/* discarded units (verify) */
	unsigned char *amap;		/* --ackmap: one byte per block */
	struct hist hr, hw;
	uint64_t errors, mismatches, zero_units, old_blocks;
	uint64_t t_start, t_end;
	int first_errno;
};

/* --ackmap bytes: what became of the write of each block */
#define ACK_NONE	'.'	/* not written */
#define ACK_OK		'1'	/* written and acknowledged */
#define ACK_FAILED	'0'	/* the write failed */

static uint64_t dev_size;
static unsigned int sync_seq;	/* sequence number of the last sync point */
static pthread_barrier_t start_barrier;

/*
 * --make-it-fail: let the kernel's fault injection (failslab, fail_page_alloc
 * with task-filter=Y) fail allocations made for this thread while @on.
 */
/*
 * Turn fault injection on or off for the calling thread. The file is opened
 * while injection is still off and kept open until it is turned off again:
 * opening it with injection on could itself fail (its struct file is a slab
 * allocation), and turning it off must never fail.
 */
static void make_it_fail(int on)
{
	static __thread int fd = -1;

	if (fd < 0)
		fd = open("/proc/thread-self/make-it-fail", O_WRONLY);
	if (fd < 0 || pwrite(fd, on ? "1" : "0", 1, 0) != 1)
		die("--make-it-fail: /proc/thread-self/make-it-fail: %s "
		    "(needs CONFIG_FAULT_INJECTION)", strerror(errno));
	if (!on) {
		close(fd);
		fd = -1;
	}
}

static void io_error(struct job *j, uint64_t off, ssize_t r)
{
	if (j->amap && o.rw == RW_WRITE) {
		/* failures are what --ackmap fills expect: count, note the first */
		if (!j->errors++)
			j->first_errno = r < 0 ? errno : EIO;
		return;
	}
	if (!j->errors++) {
		j->first_errno = r < 0 ? errno : EIO;
		fprintf(stderr, "zblk-load: job %d: I/O at %" PRIu64 ": %s\n", j->id,
			off, r < 0 ? strerror(errno) : "short transfer");
	}
}

static int all_zero(const unsigned char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static void check_read(struct job *j, uint64_t off)
{
	const unsigned char *want;
	uint64_t b;

	if (j->dmap) {
		/* bs <= unit here, so one unit covers the block */
		b = off / o.unit;
		if (j->dmap[b]) {
			if (!all_zero(j->buf, o.bs) && !j->mismatches++)
				fprintf(stderr, "zblk-load: discarded unit at %" PRIu64
					" does not read as zeros\n", off);
			j->zero_units++;
			return;
		}
	}
	if (j->amap && j->amap[off / o.bs] == ACK_FAILED) {
		/* the write of this block failed: the old content must be there */
		j->old_blocks++;
		if (o.old_zero) {
			if (!all_zero(j->buf, o.bs) && !j->mismatches++)
				fprintf(stderr, "zblk-load: block at %" PRIu64 " whose write "
					"failed does not read as zeros\n", off);
			return;
		}
		want = expected_seed(off, o.bs, j->bounce, o.old_seed);
	} else {
		want = expected(off, o.bs, j->bounce);
	}
	if (memcmp(j->buf, want, o.bs) && !j->mismatches++)
		fprintf(stderr, "zblk-load: data mismatch at byte %" PRIu64 "%s\n", off,
			j->amap && j->amap[off / o.bs] == ACK_FAILED ?
			" (a block whose write failed: the old content expected)" : "");
}

static void do_io(struct job *j, uint64_t off, int write)
{
	uint64_t t0, t1;
	const void *src;
	ssize_t r;

	if (write) {
		src = expected(off, o.bs, j->bounce);
		t0 = now_ns();
		r = pwrite(j->fd, src, o.bs, off);
		t1 = now_ns();
		hist_add(&j->hw, t1 - t0);
	} else {
		t0 = now_ns();
		r = pread(j->fd, j->buf, o.bs, off);
		t1 = now_ns();
		hist_add(&j->hr, t1 - t0);
	}
	if (write && j->amap)
		j->amap[off / o.bs] = r == (ssize_t)o.bs ? ACK_OK : ACK_FAILED;
	if (r != (ssize_t)o.bs) {
		io_error(j, off, r);
		return;
	}
	if (!write && o.verify)
		check_read(j, off);
}

static void *job_main(void *arg)
{
	int rnd_access = o.rw >= RW_RANDREAD;
	uint64_t nblocks, k = 0, limit, end = 0, off;
	struct job *j = arg;
	int write;

	/* random I/O spans the whole target, sequential a slice per job */
	nblocks = (rnd_access ? dev_size : j->len) / o.bs;
	limit = (uint64_t)(o.loops * (double)nblocks);
	if (!limit)
		limit = 1;
	pthread_barrier_wait(&start_barrier);
	if (o.make_it_fail)
		make_it_fail(1);
	j->t_start = now_ns();
	if (o.runtime > 0)
		end = j->t_start + (uint64_t)(o.runtime * 1e9);
	for (;; k++) {
		if (end ? now_ns() >= end : k >= limit)
			break;
		if (rnd_access)
			off = (rnd(&j->rng) % nblocks) * o.bs;
		else
			off = j->off + (k % nblocks) * o.bs;
		switch (o.rw) {
		case RW_WRITE:
		case RW_RANDWRITE:
			write = 1;
			break;
		case RW_RANDRW:
			write = rnd(&j->rng) % 100 >= o.rwmix;
			break;
		default:
			write = 0;
		}
		do_io(j, off, write);
		if (j->errors > 1000 && !j->amap)
			break;
	}
	j->t_end = now_ns();
	if (o.make_it_fail)
		make_it_fail(0);
	return NULL;
}

static void json_hist(const char *pfx, const struct hist *h, double secs, unsigned int bs)
{
	printf(",\"%sios\":%" PRIu64 ",\"%smib_s\":%.3f,\"%smean_us\":%.2f,"
	       "\"%sp50_us\":%.2f,\"%sp99_us\":%.2f,\"%sp999_us\":%.2f,\"%smax_us\":%.2f",
	       pfx, h->count, pfx, secs > 0 ? (double)h->count * bs / 1048576.0 / secs : 0,
	       pfx, hist_mean_us(h), pfx, hist_pct_us(h, 50), pfx, hist_pct_us(h, 99),
	       pfx, hist_pct_us(h, 99.9), pfx, (double)h->max_ns / 1000.0);
}

/* For /dev/NAME with /sys/block/NAME/mm_stat: that file's path, else NULL. */
static const char *dev_mm_stat(const char *dev, char *buf, size_t len)
{
	const char *name = strrchr(dev, '/');

	snprintf(buf, len, "/sys/block/%s/mm_stat", name ? name + 1 : dev);
	return access(buf, R_OK) ? NULL : buf;
}

/*
 * Wait until zblk's packer has no unit pending on the device whose mm_stat
 * file is @mm (the same directory's debug_stat, version 4 or later: later
 * versions only add fields at the end; field 18), at
 * most 60 s. A device with no such file (zram, brd, an older zblk) returns
 * at once. The packer compresses 16K units written 4K at a time in the
 * background: waiting for it makes that work count in the run that caused
 * it (its time and the VM's CPU time the bench samples around it), not in
 * the next device's run. Return: seconds waited.
 */
static double pack_settle(const char *mm)
{
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	char path[512], buf[1024];
	uint64_t t0 = now_ns();
	const char *slash;
	unsigned long long v;
	char *line;
	int k;

	if (!mm || !(slash = strrchr(mm, '/')))
		return 0;
	snprintf(path, sizeof(path), "%.*s/debug_stat", (int)(slash - mm), mm);
	for (;;) {
		FILE *f = fopen(path, "r");
		size_t n;

		if (!f)
			return 0;
		n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = 0;
		if (sscanf(buf, "version: %d", &k) != 1 || k < 4 ||
		    !(line = strchr(buf, '\n')))
			return 0;
		for (k = 0; k < 18; k++)
			v = strtoull(line, &line, 10);
		if (!v || now_ns() - t0 > 60000000000ULL)
			break;
		nanosleep(&ts, NULL);
	}
	if (v)
		fprintf(stderr, "zblk-load: %s: the packer still has %llu units pending after 60 s\n",
			path, v);
	return (double)(now_ns() - t0) / 1e9;
}

/*
 * --ackmap: for a write run, a map of @n blocks none of which is written yet;
 * for a verify run, the map a write run saved (it must have @n blocks).
 */
static unsigned char *ackmap_get(int write, uint64_t n)
{
	unsigned char *map = malloc(n + 1);
	size_t got;
	FILE *f;

	if (!map)
		die("out of memory");
	if (write) {
		memset(map, ACK_NONE, n);
		return map;
	}
	f = fopen(o.ackmap, "r");
	if (!f)
		die("--ackmap %s: %s", o.ackmap, strerror(errno));
	got = fread(map, 1, n + 1, f);
	fclose(f);
	if (got != n)
		die("--ackmap %s: %zu blocks, the target has %" PRIu64 " of --bs %u",
		    o.ackmap, got, n, o.bs);
	return map;
}

static void ackmap_put(const unsigned char *map, uint64_t n)
{
	FILE *f = fopen(o.ackmap, "w");

	if (!f || fwrite(map, 1, n, f) != n || fclose(f))
		die("--ackmap %s: %s", o.ackmap, strerror(errno));
}

static uint64_t ackmap_count(const unsigned char *map, uint64_t n, unsigned char c)
{
	uint64_t i, k = 0;

	for (i = 0; i < n; i++)
		k += map[i] == c;
	return k;
}

/* One run on o.dev; prints one JSON line. Return: 0, or 1 on errors. */
static int run_io_one(int verify_mode, unsigned int rep)
{
	static struct job jobs[MAX_JOBS];
	struct hist *all = calloc(3, sizeof(struct hist));
	uint64_t t0 = UINT64_MAX, t1 = 0, errors = 0, mism = 0, zeros = 0, old = 0;
	int write = o.rw == RW_WRITE || o.rw == RW_RANDWRITE || o.rw == RW_RANDRW;
	unsigned char *dmap = NULL, *amap = NULL;
	char mmbuf[300];
	int is_blk, fd, e;
	unsigned int i;
	double secs, settle = 0;

	if (!all)
		die("out of memory");
	memset(jobs, 0, sizeof(jobs));
	fd = target_open(write ? O_RDWR : O_RDONLY, &dev_size, &is_blk);
	if (o.ackmap)
		amap = ackmap_get(write, dev_size / o.bs);
	if (verify_mode && o.fraction > 0) {
		uint64_t nunits = dev_size / o.unit, nd, u;
		uint32_t *idx;

		if (o.bs > o.unit || o.unit % o.bs)
			die("--bs must divide --unit when verifying discards");
		idx = discard_order(nunits, &nd);
		dmap = calloc(nunits, 1);
		if (!dmap)
			die("out of memory");
		for (u = 0; u < nd; u++)
			dmap[idx[u]] = 1;
		free(idx);
	}
	pthread_barrier_init(&start_barrier, NULL, o.jobs);
	for (i = 0; i < o.jobs; i++) {
		struct job *j = &jobs[i];
		uint64_t slice = dev_size / o.jobs / o.bs * o.bs;

		j->id = i;
		j->fd = fd;
		j->off = slice * i;
		j->len = i == o.jobs - 1 ? dev_size - j->off : slice;
		if (!j->len)
			die("target too small for %u jobs", o.jobs);
		/* offsets from a fixed seed: every device sees the same sequence */
		j->rng = rnd_seed(o.seed * 131 + i, o.oseed * 1000003ULL + rep);
		j->dmap = dmap;
		j->amap = amap;
		if (posix_memalign((void **)&j->buf, PG, o.bs) ||
		    posix_memalign((void **)&j->bounce, PG, o.bs))
			die("out of memory");
		memset(j->buf, 0, o.bs);
		e = pthread_create(&j->th, NULL, job_main, j);
		if (e)
			die("pthread_create: %s", strerror(e));
	}
	for (i = 0; i < o.jobs; i++) {
		pthread_join(jobs[i].th, NULL);
		hist_merge(&all[0], &jobs[i].hr);
		hist_merge(&all[1], &jobs[i].hw);
		hist_merge(&all[2], &jobs[i].hr);
		hist_merge(&all[2], &jobs[i].hw);
		errors += jobs[i].errors;
		mism += jobs[i].mismatches;
		zeros += jobs[i].zero_units;
		old += jobs[i].old_blocks;
		if (jobs[i].t_start < t0)
			t0 = jobs[i].t_start;
		if (jobs[i].t_end > t1)
			t1 = jobs[i].t_end;
	}
	close(fd);
	/* the run ends when the device's background work for it is done */
	if (is_blk && write) {
		settle = pack_settle(dev_mm_stat(o.dev, mmbuf, sizeof(mmbuf)));
		if (settle > 0 && now_ns() > t1)
			t1 = now_ns();
	}
	for (i = 0; i < o.jobs; i++) {
		free(jobs[i].buf);
		free(jobs[i].bounce);
	}
	free(dmap);
	pthread_barrier_destroy(&start_barrier);
	secs = (double)(t1 - t0) / 1e9;
	printf("{\"mode\":\"%s\",\"seq\":%u,\"dev\":\"%s\",\"label\":\"%s\",\"rep\":%u,"
	       "\"rw\":\"%s\",\"bs\":%u,\"jobs\":%u,\"size\":%" PRIu64
	       ",\"corpus_pages\":%" PRIu64 ",\"seed\":%" PRIu64 ",\"oseed\":%" PRIu64
	       ",\"secs\":%.4f,\"settle_secs\":%.4f,\"bytes\":%" PRIu64,
	       o.mode, sync_seq, o.dev, o.label ? o.label : "", rep,
	       rw_names[o.rw], o.bs, o.jobs, dev_size,
	       corpus_pages, o.seed, o.oseed, secs, settle, all[2].count * o.bs);
	json_hist("", &all[2], secs, o.bs);
	if (o.rw == RW_RANDRW) {
		json_hist("r_", &all[0], secs, o.bs);
		json_hist("w_", &all[1], secs, o.bs);
	}
	printf(",\"errors\":%" PRIu64 ",\"verified\":%s,\"mismatches\":%" PRIu64
	       ",\"zero_blocks\":%" PRIu64, errors, o.verify ? "true" : "false",
	       mism, zeros);
	if (amap && write) {
		uint64_t n = dev_size / o.bs;

		printf(",\"acked\":%" PRIu64 ",\"write_failed\":%" PRIu64,
		       ackmap_count(amap, n, ACK_OK), ackmap_count(amap, n, ACK_FAILED));
		ackmap_put(amap, n);
		errors = 0;	/* expected: the map says which */
	} else if (amap) {
		printf(",\"old_blocks\":%" PRIu64, old);
	}
	free(amap);
	json_file("mm_stat", is_blk ? dev_mm_stat(o.dev, mmbuf, sizeof(mmbuf)) : NULL);
	printf("}\n");
	fflush(stdout);
	free(all);
	if (mism)
		fprintf(stderr, "zblk-load: %s: %" PRIu64 " blocks read back wrong\n",
			o.dev, mism);
	return errors || mism ? 1 : 0;
}

/* Content of @path as a number, or -1. */
static long read_number(const char *path)
{
	char buf[32];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return strtol(buf, NULL, 10);
}

/*
 * A sync point, right after a line carrying "seq":sync_seq was printed:
 * with --ack, wait (idle) until the observer has written that number to the
 * ack file (it samples CPU time first), at most 20 s; else, with --pause,
 * sleep that long.
 */
static void sync_point(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	uint64_t end;

	if (o.ack) {
		end = now_ns() + 20000000000ULL;
		while (read_number(o.ack) != (long)sync_seq) {
			if (now_ns() > end) {
				fprintf(stderr, "zblk-load: no ack %u in %s after 20 s\n",
					sync_seq, o.ack);
				return;
			}
			nanosleep(&ts, NULL);
		}
		return;
	}
	if (o.pause <= 0)
		return;
	ts.tv_sec = (time_t)o.pause;
	ts.tv_nsec = (long)((o.pause - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int syncing(void)
{
	return o.ack || o.pause > 0;
}

/*
 * Every --dev, --reps times; repetition r starts at device r-1 (mod the
 * number of devices), so that no device always runs first or right after
 * the same other device, and runs of one repetition follow each other.
 */
static int run_io(int verify_mode)
{
	unsigned int r, k;
	char *path, *eq;
	int ret = 0;

	if (!o.bs || o.bs % PG)
		die("--bs must be a multiple of 4096");
	if (!o.jobs || o.jobs > MAX_JOBS)
		die("--jobs must be 1..%d", MAX_JOBS);
	if (!o.ndevs)
		die("--dev PATH is required");
	if (!o.reps)
		die("--reps must be at least 1");
	if (o.ackmap && (o.ndevs != 1 || o.reps != 1 ||
			 (!verify_mode && strcmp(o.mode, "fill"))))
		die("--ackmap needs fill or verify and exactly one --dev");
	corpus_load();
	if (syncing()) {
		/* a mark the bench samples the VM's CPU time at, idle */
		printf("{\"mode\":\"ready\",\"seq\":%u}\n", sync_seq);
		fflush(stdout);
		sync_point();
	}
	for (r = 0; r < o.reps; r++) {
		for (k = 0; k < o.ndevs; k++) {
			path = strdup(o.devs[(k + r) % o.ndevs]);
			if (!path)
				die("out of memory");
			eq = strchr(path, '=');
			if (eq)
				*eq++ = 0;
			o.dev = path;
			o.label = eq;
			sync_seq++;
			ret |= run_io_one(verify_mode, r + 1);
			free(path);
			sync_point();
		}
	}
	return ret;
}

/* ---- discard ----------------------------------------------------------- */

static int run_discard(void)
{
	uint64_t nunits, nd, u, t0, errors = 0;
	uint64_t range[2];
	uint32_t *idx;
	int is_blk, fd, r;

	if (!o.unit || o.unit % PG)
		die("--unit must be a multiple of 4096");
	o.bs = PG;
	if (o.fraction < 0)
		o.fraction = 0.5;
	if (o.ndevs != 1)
		die("discard takes one --dev");
	o.dev = o.devs[0];
	fd = target_open(O_RDWR, &dev_size, &is_blk);
	nunits = dev_size / o.unit;
	idx = discard_order(nunits, &nd);
	t0 = now_ns();
	for (u = 0; u < nd; u++) {
		range[0] = (uint64_t)idx[u] * o.unit;
		range[1] = o.unit;
		if (is_blk)
			r = ioctl(fd, BLKDISCARD, range);
		else
			r = fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				      range[0], range[1]);
		if (r && !errors++)
			fprintf(stderr, "zblk-load: discard at %" PRIu64 ": %s\n",
				range[0], strerror(errno));
	}
	printf("{\"mode\":\"discard\",\"unit\":%u,\"units\":%" PRIu64 ",\"discarded\":%"
	       PRIu64 ",\"fraction\":%.4f,\"secs\":%.4f,\"errors\":%" PRIu64 "}\n",
	       o.unit, nunits, nd, o.fraction, (double)(now_ns() - t0) / 1e9, errors);
	free(idx);
	close(fd);
	return errors ? 1 : 0;
}

/* ---- swap -------------------------------------------------------------- */

/* Read up to @len - 1 bytes of @path into @buf ("" if unreadable). */
static void snap_file(char *buf, size_t len, const char *path)
{
	size_t n = 0;
	FILE *f = path ? fopen(path, "r") : NULL;

	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = 0;
}

static void json_str(const char *key, const char *str)
{
	printf(",\"%s\":\"", key);
	for (; *str; str++) {
		if (*str == '\n')
			continue;
		if (*str == '"' || *str == '\\')
			putchar('\\');
		putchar(*str == '\t' ? ' ' : *str);
	}
	putchar('"');
}

/* @key: the lines of @buf (a snap_file() of --census) joined by ';'. */
static void json_lines(const char *key, char *buf)
{
	char *p;

	if (!o.census)
		return;
	for (p = buf; *p; p++)
		if (*p == '\n' && p[1])
			*p = ';';
	json_str(key, buf);
}

static void json_file(const char *key, const char *path)
{
	char buf[512];

	if (!path)
		return;
	snap_file(buf, sizeof(buf), path);
	json_str(key, buf);
}

/*
 * A /proc/vmstat counter. Reading the file allocates (under --make-it-fail
 * that can fail, and a failed read looks like a short file): read it again
 * until @key is found, up to 100 times; 0 if it never is.
 */
static uint64_t vmstat(const char *key)
{
	char name[64];
	unsigned long long v;
	int tries;

	for (tries = 0; tries < 100; tries++) {
		FILE *f = fopen("/proc/vmstat", "r");
		int found = 0;
		uint64_t ret = 0;

		if (!f)
			continue;
		while (!found && fscanf(f, "%63s %llu", name, &v) == 2)
			if (!strcmp(name, key)) {
				ret = v;
				found = 1;
			}
		fclose(f);
		if (found)
			return ret;
	}
	return 0;
}

struct pass {
	const char *name;
	struct hist h;
	double secs, settle;
	uint64_t mismatches, pswpin, pswpout;
};

static void pass_json(const struct pass *p)
{
	char pfx[32];

	snprintf(pfx, sizeof(pfx), "%s_", p->name);
	printf(",\"%ssecs\":%.4f,\"%ssettle_secs\":%.4f,\"%smismatches\":%" PRIu64
	       ",\"%spswpin\":%" PRIu64 ",\"%spswpout\":%" PRIu64, pfx, p->secs,
	       pfx, p->settle, pfx, p->mismatches, pfx, p->pswpin, pfx, p->pswpout);
	json_hist(pfx, &p->h, p->secs, PG);
}

/* Touch every page of @ws in @order (NULL: ascending); fill or compare. */
static void swap_pass(struct pass *p, unsigned char *ws, uint64_t n,
		      const uint32_t *order, int fill)
{
	uint64_t i, pg, t0, t1, start, in0 = vmstat("pswpin"), out0 = vmstat("pswpout");

	start = now_ns();
	for (i = 0; i < n; i++) {
		pg = order ? order[i] : i;
		t0 = now_ns();
		if (fill)
			memcpy(ws + pg * PG, corpus_page(pg), PG);
		else if (memcmp(ws + pg * PG, corpus_page(pg), PG) && !p->mismatches++)
			fprintf(stderr, "zblk-load: swap page %" PRIu64 " came back wrong\n", pg);
		t1 = now_ns();
		hist_add(&p->h, t1 - t0);
	}
	/* the pass ends when the device's background work for it is done */
	p->settle = pack_settle(o.mm_stat);
	p->secs = (double)(now_ns() - start) / 1e9;
	p->pswpin = vmstat("pswpin") - in0;
	p->pswpout = vmstat("pswpout") - out0;
}

/*
 * With --pause: a mark line an observer samples CPU time at, then idle
 * (the marks are not part of any pass's time).
 */
static void swap_mark(const char *name)
{
	if (!syncing())
		return;
	printf("{\"mode\":\"mark\",\"mark\":\"%s\",\"seq\":%u}\n", name, sync_seq);
	fflush(stdout);
	sync_point();
	sync_seq++;
}

static int run_swap(void)
{
	static char cen_fill[4096], cen_seq[4096], cen_end[4096];
	char mm_fill[512], mm_seq[512];

	struct pass fill = { .name = "fill" }, seq = { .name = "seqread" };
	struct pass rnd_pass = { .name = "randread" };
	uint64_t n, i, j, s;
	unsigned char *ws;
	uint32_t *order, t;

	if (!o.ws)
		die("--ws BYTES is required");
	corpus_load();
	n = o.ws / PG;
	order = malloc(n * sizeof(*order));
	if (!order || n > UINT32_MAX)
		die("out of memory");
	s = rnd_seed(o.seed, n);
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		j = rnd(&s) % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	if (mlock(order, n * sizeof(*order)))
		fprintf(stderr, "zblk-load: warning: mlock order: %s\n", strerror(errno));
	ws = map_anon_thp(n * PG, o.thp);
	/* from here on only page faults, reclaim and swap I/O allocate */
	if (o.make_it_fail)
		make_it_fail(1);
	swap_mark("start");
	swap_pass(&fill, ws, n, NULL, 1);
	swap_mark("fill");
	snap_file(mm_fill, sizeof(mm_fill), o.mm_stat);
	snap_file(cen_fill, sizeof(cen_fill), o.census);
	swap_pass(&seq, ws, n, NULL, 0);
	swap_mark("seqread");
	snap_file(mm_seq, sizeof(mm_seq), o.mm_stat);
	snap_file(cen_seq, sizeof(cen_seq), o.census);
	swap_pass(&rnd_pass, ws, n, order, 0);
	swap_mark("randread");
	snap_file(cen_end, sizeof(cen_end), o.census);
	if (o.make_it_fail)
		make_it_fail(0);
	printf("{\"mode\":\"swap\",\"ws\":%" PRIu64 ",\"corpus_pages\":%" PRIu64
	       ",\"thp\":%s", n * PG, corpus_pages, o.thp ? "true" : "false");
	json_str("mm_stat_fill", mm_fill);
	json_str("mm_stat_seqread", mm_seq);
	json_file("mm_stat_end", o.mm_stat);
	json_lines("census_fill", cen_fill);
	json_lines("census_seqread", cen_seq);
	json_lines("census_end", cen_end);
	pass_json(&fill);
	pass_json(&seq);
	pass_json(&rnd_pass);
	printf(",\"mismatches\":%" PRIu64 "}\n", seq.mismatches + rnd_pass.mismatches);
	fflush(stdout);
	return seq.mismatches + rnd_pass.mismatches ? 1 : 0;
}

/* ---- selftest ---------------------------------------------------------- */

static int st_fail;

static void st_check(const char *what, double got, double want, double tol)
{
	if (got - want > tol || want - got > tol) {
		fprintf(stderr, "zblk-load: selftest: %s: got %g, want %g\n", what, got, want);
		st_fail = 1;
	}
}

/* Percentiles of known samples (values under 32 ns land in exact buckets). */
static int run_selftest(void)
{
	static struct hist h;
	uint64_t i;

	memset(&h, 0, sizeof(h));
	hist_add(&h, 1);
	hist_add(&h, 2);
	hist_add(&h, 3);
	st_check("p50 of {1,2,3} ns", hist_pct_us(&h, 50) * 1000, 2, 1e-9);
	st_check("p99 of {1,2,3} ns", hist_pct_us(&h, 99) * 1000, 3, 1e-9);
	st_check("p0 of {1,2,3} ns", hist_pct_us(&h, 0) * 1000, 1, 1e-9);
	memset(&h, 0, sizeof(h));
	for (i = 1; i <= 10; i++)
		hist_add(&h, i);
	st_check("p50 of 1..10 ns", hist_pct_us(&h, 50) * 1000, 5, 1e-9);
	st_check("p90 of 1..10 ns", hist_pct_us(&h, 90) * 1000, 9, 1e-9);
	st_check("p91 of 1..10 ns", hist_pct_us(&h, 91) * 1000, 10, 1e-9);
	st_check("p100 of 1..10 ns", hist_pct_us(&h, 100) * 1000, 10, 1e-9);
	/* 1000 samples 1..1000 us: within a bucket's width (~3%) */
	memset(&h, 0, sizeof(h));
	for (i = 1; i <= 1000; i++)
		hist_add(&h, i * 1000);
	st_check("p50 of 1..1000 us", hist_pct_us(&h, 50), 500, 500 * 0.035);
	st_check("p99 of 1..1000 us", hist_pct_us(&h, 99), 990, 990 * 0.035);
	st_check("p99.9 of 1..1000 us", hist_pct_us(&h, 99.9), 999, 999 * 0.035);
	st_check("mean of 1..1000 us", hist_mean_us(&h), 500.5, 1e-9);
	printf("{\"mode\":\"selftest\",\"ok\":%s}\n", st_fail ? "false" : "true");
	return st_fail;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
	fputs(
"Usage: zblk-load MODE [OPTIONS]\n"
"Load generator for tools/bench: writes real memory pages (a corpus file),\n"
"not synthetic buffers. Page i (4 KiB) of the target always holds corpus page\n"
"(i + SEED) mod PAGES, so reads can be verified. Prints one JSON line.\n"
"\n"
"Modes:\n"
"  io       O_DIRECT I/O on --dev (block device or file), timed or counted\n"
"  fill     io --rw write --loops 1 (write the corpus over the whole target)\n"
"  verify   read every block once and compare (discarded units must be zero\n"
"           when --fraction > 0: same --unit/--fraction/--dseed as discard)\n"
"  discard  discard a random --fraction of --unit-aligned units, in random order\n"
"  swap     fill an anonymous working set of --ws bytes with corpus pages,\n"
"           read it back in order and in random order, verify every page\n"
"  selftest check the percentile code on known samples (exit 0 if right)\n"
"\n"
"Options:\n"
"  --corpus FILE     decompressed corpus; '-' reads it from stdin\n"
"  --corpus-max N    use at most N bytes of the corpus\n"
"  --stride K        keep every Kth corpus page (default 1)\n"
"  --mlock           lock the corpus in memory (swap mode)\n"
"  --dev PATH[=LABEL] target block device or file (files grow to --size);\n"
"                    io, fill, verify: repeatable, run one after another\n"
"  --reps N          io: runs per device (default 1); repetition r starts at\n"
"                    the r-th device, so the order rotates\n"
"  --size N          bytes of the target to use (default: all)\n"
"  --rw MODE         read|write|randread|randwrite|randrw (default randread)\n"
"  --rwmix N         percent reads for randrw (default 70)\n"
"  --bs N            block size, multiple of 4096 (default 4096)\n"
"  --jobs N          threads (default 1); sequential I/O gives each a slice\n"
"  --runtime SEC     run for SEC seconds (default: count by --loops)\n"
"  --ack FILE        sync points: io prints {\"mode\":\"ready\",\"seq\":0} once\n"
"                    the corpus is loaded, and each run's line carries \"seq\";\n"
"                    swap prints {\"mode\":\"mark\",...} around each pass; after\n"
"                    each, wait (idle) until FILE holds that seq (at most 20 s):\n"
"                    an observer samples CPU time there, then acknowledges\n"
"  --pause SEC       sync points without an observer: sleep SEC seconds\n"
"  --loops X         passes over the region (default 1)\n"
"  --seed N          content seed (default 0)\n"
"  --verify          compare every block read with the expected corpus page\n"
"  --unit N          discard/verify unit in bytes (default 4096)\n"
"  --fraction F      discard fraction (discard: default 0.5; verify: 0)\n"
"  --dseed N         discard selection seed (default 1)\n"
"  --oseed N         io: offset sequence seed (default 0); job j of\n"
"                    repetition r draws the same offsets on every device\n"
"  --thp             swap: do not opt the working set out of THP/mTHP\n"
"  --ws N            swap working set in bytes\n"
"  --mm-stat PATH    swap mode: include this file (e.g. mm_stat) in the output\n"
"  --census PATH     swap mode: include this file (zblk's debugfs zblkN/units)\n"
"                    after each pass, its lines separated by ';'\n"
"  --ackmap FILE     fill: keep going when writes fail and save one byte per\n"
"                    block to FILE: '1' acknowledged, '0' failed, '.' not\n"
"                    written; verify: a block whose write failed must hold the\n"
"                    content of --old-seed (same --bs and --dev)\n"
"  --old-seed N      verify --ackmap: the seed the target was filled with\n"
"                    before the run the map records (default 0)\n"
"  --old-zero        verify --ackmap: the target was empty (zeros) before it\n"
"  --make-it-fail    set /proc/thread-self/make-it-fail while doing I/O (io,\n"
"                    fill, verify) or while the working set exists (swap):\n"
"                    the kernel's fault injection with task-filter=Y then\n"
"                    fails this tool's allocations (CONFIG_FAULT_INJECTION)\n"
"  -h, --help        this text\n"
"Sizes take K, M, G suffixes (powers of 1024). For a block device /dev/NAME\n"
"with /sys/block/NAME/mm_stat, io/fill/verify output includes it.\n", f);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		die("bad size '%s'", s);
	switch (*end) {
	case 'k': case 'K': v *= 1024; end++; break;
	case 'm': case 'M': v *= 1048576; end++; break;
	case 'g': case 'G': v *= 1073741824.0; end++; break;
	}
	if (*end == 'i' || *end == 'B')
		end++;
	if (*end)
		die("bad size '%s'", s);
	return (uint64_t)v;
}

static double parse_num(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || v < 0)
		die("bad number '%s'", s);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "corpus", 1, 0, 'c' }, { "corpus-max", 1, 0, 'C' },
		{ "stride", 1, 0, 'k' }, { "mlock", 0, 0, 'L' },
		{ "dev", 1, 0, 'd' }, { "size", 1, 0, 's' }, { "rw", 1, 0, 'r' },
		{ "rwmix", 1, 0, 'x' }, { "bs", 1, 0, 'b' }, { "jobs", 1, 0, 'j' },
		{ "runtime", 1, 0, 't' }, { "loops", 1, 0, 'l' }, { "seed", 1, 0, 'S' },
		{ "verify", 0, 0, 'V' }, { "unit", 1, 0, 'u' }, { "fraction", 1, 0, 'f' },
		{ "dseed", 1, 0, 'D' }, { "ws", 1, 0, 'w' }, { "mm-stat", 1, 0, 'm' },
		{ "census", 1, 0, 'U' },
		{ "reps", 1, 0, 'R' }, { "pause", 1, 0, 'P' },
		{ "ack", 1, 0, 'A' }, { "oseed", 1, 0, 'O' }, { "thp", 0, 0, 'T' },
		{ "ackmap", 1, 0, 'a' }, { "old-seed", 1, 0, 'o' },
		{ "make-it-fail", 0, 0, 'F' }, { "old-zero", 0, 0, 'z' },
		{ "help", 0, 0, 'h' }, { 0 }
	};
	int c, i, found;

	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o.corpus_path = optarg; break;
		case 'C': o.corpus_max = parse_size(optarg); break;
		case 'k': o.stride = parse_num(optarg); break;
		case 'L': o.mlock_corpus = 1; break;
		case 'd':
			if (o.ndevs == MAX_DEVS)
				die("at most %d --dev", MAX_DEVS);
			o.devs[o.ndevs++] = optarg;
			break;
		case 'R': o.reps = parse_num(optarg); break;
		case 'P': o.pause = parse_num(optarg); break;
		case 'A': o.ack = optarg; break;
		case 's': o.size = parse_size(optarg); break;
		case 'r':
			found = 0;
			for (i = 0; i <= RW_RANDRW; i++)
				if (!strcmp(optarg, rw_names[i])) {
					o.rw = i;
					found = 1;
				}
			if (!found)
				die("bad --rw '%s' (see --help)", optarg);
			break;
		case 'x':
			o.rwmix = parse_num(optarg);
			if (o.rwmix > 100)
				die("--rwmix must be 0..100");
			break;
		case 'b': o.bs = parse_size(optarg); break;
		case 'j': o.jobs = parse_num(optarg); break;
		case 't': o.runtime = parse_num(optarg); break;
		case 'l': o.loops = parse_num(optarg); break;
		case 'S': o.seed = parse_num(optarg); break;
		case 'V': o.verify = 1; break;
		case 'u': o.unit = parse_size(optarg); break;
		case 'f':
			o.fraction = parse_num(optarg);
			if (o.fraction > 1)
				die("--fraction must be 0..1");
			break;
		case 'D': o.dseed = parse_num(optarg); break;
		case 'O': o.oseed = parse_num(optarg); break;
		case 'T': o.thp = 1; break;
		case 'w': o.ws = parse_size(optarg); break;
		case 'm': o.mm_stat = optarg; break;
		case 'U': o.census = optarg; break;
		case 'a': o.ackmap = optarg; break;
		case 'o': o.old_seed = parse_num(optarg); break;
		case 'F': o.make_it_fail = 1; break;
		case 'z': o.old_zero = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	o.mode = argv[optind];
	if (!strcmp(o.mode, "io"))
		return run_io(0);
	if (!strcmp(o.mode, "fill")) {
		o.rw = RW_WRITE;
		o.runtime = 0;
		o.loops = 1;
		return run_io(0);
	}
	if (!strcmp(o.mode, "verify")) {
		o.rw = RW_READ;
		o.runtime = 0;
		o.loops = 1;
		o.verify = 1;
		if (o.fraction < 0)
			o.fraction = 0;
		return run_io(1);
	}
	if (!strcmp(o.mode, "discard"))
		return run_discard();
	if (!strcmp(o.mode, "swap"))
		return run_swap();
	if (!strcmp(o.mode, "selftest"))
		return run_selftest();
	fprintf(stderr, "zblk-load: unknown mode '%s' (see --help)\n", o.mode);
	return 2;
}
