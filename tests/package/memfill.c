// SPDX-License-Identifier: GPL-2.0
/*
 * tests/package/memfill.c - the end-to-end test's swap workload (e2e.sh
 * builds it with gcc -static and puts it in the image).
 *
 *   zblk-e2e-memfill [-p CMD] MIB
 *
 * Maps MIB MiB of anonymous memory, writes a known pattern into every 4 KiB
 * block (half of it pseudo-random, half a function of the block's number,
 * so it compresses about 2:1 and no block is same-filled), runs CMD with
 * /bin/sh -c while all of it is allocated (under a memory limit lower than
 * MIB, most of it is in swap then), reads every block back and compares.
 * Prints one line; exit 0 when every block matched, 1 when one did not,
 * 2 on a usage or mapping error.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK 4096
#define WORDS (BLOCK / 8)

static void fill(uint64_t *w, uint64_t blk)
{
	uint64_t x = blk * 0x9e3779b97f4a7c15ULL + 0x5a5a5a5a5a5a5a5aULL;
	unsigned i;

	for (i = 0; i < WORDS / 2; i++) {
		/* xorshift64 */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
	for (; i < WORDS; i++)
		w[i] = blk << 16 | i;
}

int main(int argc, char **argv)
{
	const char *cmd = NULL;
	uint64_t want[WORDS];
	unsigned long mib, nblk, blk, bad = 0;
	char *end;
	uint8_t *mem;
	int c;

	while ((c = getopt(argc, argv, "p:")) != -1) {
		if (c != 'p')
			goto usage;
		cmd = optarg;
	}
	if (optind != argc - 1)
		goto usage;
	mib = strtoul(argv[optind], &end, 10);
	if (*end || mib == 0 || mib > 1UL << 20)
		goto usage;
	nblk = mib * (1UL << 20) / BLOCK;
	mem = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED) {
		perror("memfill: mmap");
		return 2;
	}
	for (blk = 0; blk < nblk; blk++)
		fill((uint64_t *)(mem + blk * BLOCK), blk);
	if (cmd) {
		fflush(stdout);
		c = system(cmd);
		if (c != 0)
			fprintf(stderr, "memfill: '%s' exited with status %d\n", cmd, c);
	}
	for (blk = 0; blk < nblk; blk++) {
		fill(want, blk);
		if (memcmp(mem + blk * BLOCK, want, BLOCK)) {
			if (bad++ < 5)
				fprintf(stderr, "memfill: block %lu differs\n", blk);
		}
	}
	printf("memfill: %lu MiB written and read back, %lu of %lu blocks differ\n", mib, bad, nblk);
	return bad ? 1 : 0;
usage:
	fprintf(stderr, "usage: zblk-e2e-memfill [-p CMD] MIB\n");
	return 2;
}
