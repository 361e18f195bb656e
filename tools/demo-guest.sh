#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/demo-guest.sh - the guest half of `make demo` (run by tools/demo
# through tools/guest-run; not meant to be run on a host).
#
# Walks through what a zram user does, with zblk: load the module, make
# /dev/zblk0 a swap device and /dev/zblk1 an ext4 filesystem, put real data
# on both (the corpus of anonymous memory, and enough tmpfs data to force the
# small guest to swap), check every byte, and show mm_stat with field names.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

say() { printf '\n%s\n' "$*"; }
# run "SHELL COMMAND": show it as a user would type it, run it, stop on error
run() {
	echo "  \$ $*"
	out=$(sh -c "$*" 2>&1)
	rc=$?
	[ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/    /'
	[ $rc -eq 0 ] || fail "'$*' failed with status $rc"
}

# explain_mm DEV: mm_stat, one field a line, with what it means
explain_mm() {
	echo "  \$ cat /sys/block/$1/mm_stat"
	echo "    $(cat /sys/block/$1/mm_stat)"
	awk '
	BEGIN {
		split("orig_data_size compr_data_size mem_used_total mem_limit mem_used_max same_pages pages_compacted huge_pages huge_pages_since", n, " ")
		d[1] = "data stored, as written (bytes)"
		d[2] = "the same data compressed (bytes)"
		d[3] = "RAM the device uses for it, allocator included (bytes)"
		d[4] = "mem_limit (0: none)"
		d[5] = "most RAM used so far (bytes)"
		d[6] = "units of one repeated value: stored without memory"
		d[7] = "pages given back by compaction"
		d[8] = "units that did not compress: stored as they are"
		d[9] = "huge units since the device was set up"
	}
	{
		for (i = 1; i <= 9 && i <= NF; i++) {
			if (i <= 5)
				printf "    %-17s %12d  %8.1f MiB  %s\n", n[i], $i, $i / 1048576, d[i]
			else
				printf "    %-17s %12d  %12s  %s\n", n[i], $i, "", d[i]
		}
		if ($3 > 0)
			printf "    => %.1f MiB of data held in %.1f MiB of RAM: %.2f times less\n", $1 / 1048576, $3 / 1048576, $1 / $3
	}' /sys/block/$1/mm_stat
}

swap_mib() { echo $(( $(zb_swap_kb) / 1024 )); }

# tools/demo passes one .zst file, whatever its name
for f in /files/*.zst; do
	[ -r "$f" ] && ZB_CORPUS=$f && break
done
zb_need_corpus
len=$(zb_corpus_len)
memkb=$(zb_memtotal_kb)

say "zblk demo on Linux $(uname -r): $(nproc) CPUs, $((memkb / 1024)) MiB of RAM, no swap yet."
say "1. Load the module with two devices, as with zram:"
run "modprobe zblk num_devices=2"
run "ls -l /dev/zblk0 /dev/zblk1"
run "cat /sys/block/zblk0/comp_algorithm"
echo "    (the algorithm in brackets is the one a new device uses)"

say "2. /dev/zblk0 becomes the swap device: zstd, 1 GiB (more than the guest's RAM: only what is"
echo "   stored takes memory, compressed)."
run "echo zstd > /sys/block/zblk0/comp_algorithm"
run "echo 1G > /sys/block/zblk0/disksize"
run "mkswap /dev/zblk0 && swapon -p 100 /dev/zblk0"
run "cat /proc/swaps"

say "3. /dev/zblk1 becomes an ext4 filesystem: 2 GiB, lz4, and 16 KiB units (four pages compressed"
echo "   together compress better; must be set before disksize)."
run "echo 16384 > /sys/block/zblk1/unit_size"
run "echo lz4 > /sys/block/zblk1/comp_algorithm"
run "echo 2G > /sys/block/zblk1/disksize"
run "mkfs.ext4 -q /dev/zblk1"
mkdir -p /mnt/scratch
run "mount /dev/zblk1 /mnt/scratch"

say "4. Put $((len / ZB_MIB)) MiB of real data on the filesystem: a dump of anonymous memory of a"
echo "   Python and a Java process (the kind of data swap sees)."
t0=$(now_ms)
run "zstd -q -dc $ZB_CORPUS > /mnt/scratch/memory.bin && sync"
echo "    written and synced in $(( ($(now_ms) - t0) / 1000 )) s (an emulated CPU: slow)"
explain_mm zblk1

say "5. Make the guest swap: fill a tmpfs with about 1.6x the RAM of copies of that data."
nfiles=$(( (memkb * 1024 * 8 / 5 + len - 1) / len ))
mkdir -p /mnt/tmp
run "mount -t tmpfs -o size=$((nfiles * len / ZB_MIB + 64))M tmpfs /mnt/tmp"
: >/tmp/demo.md5
i=1
while [ $i -le $nfiles ]; do
	off=$(( (i * 7 * ZB_MIB + i * 1000) % len ))
	sum=$(zb_corpus_rot $off | tee /mnt/tmp/copy$i | zb_md5)
	echo "$sum  /mnt/tmp/copy$i" >>/tmp/demo.md5
	echo "    copy $i/$nfiles ($((len / ZB_MIB)) MiB) in tmpfs; swap in use: $(swap_mib) MiB;" \
		"zblk0 holds $(( $(zb_mm zblk0 orig_data_size) / ZB_MIB )) MiB in $(( $(zb_mm zblk0 mem_used_total) / ZB_MIB )) MiB of RAM"
	i=$((i + 1))
done
run "grep -E 'MemTotal|MemFree|SwapTotal|SwapFree' /proc/meminfo"
explain_mm zblk0

say "6. Check every byte: read all copies back (swapping them in) and compare checksums, and"
echo "   compare the file on ext4 with the original after dropping the page cache."
run "md5sum -c -s /tmp/demo.md5 && echo all $nfiles copies intact"
run "sync && echo 3 > /proc/sys/vm/drop_caches"
run "zstd -q -dc $ZB_CORPUS | cmp - /mnt/scratch/memory.bin && echo memory.bin intact"

say "7. Give memory back: delete the file and trim the filesystem (discard frees the units);"
echo "   free the tmpfs, turn swap off."
before=$(zb_mm zblk1 orig_data_size)
run "rm /mnt/scratch/memory.bin && sync && fstrim -v /mnt/scratch"
after=$(zb_mm zblk1 orig_data_size)
echo "    zblk1 orig_data_size: $((before / ZB_MIB)) MiB -> $((after / ZB_MIB)) MiB"
[ "$after" -lt $((before - len / 2)) ] || fail "fstrim did not free the deleted file's units"
run "umount /mnt/tmp"
run "swapoff /dev/zblk0"
run "echo 1 > /sys/block/zblk1/compact"
explain_mm zblk1

say "8. Tear down, as with zram: unmount, reset, unload."
run "umount /mnt/scratch"
run "echo 1 > /sys/block/zblk0/reset && echo 1 > /sys/block/zblk1/reset"
run "rmmod zblk"
say "Done: swap and ext4 on zblk, every byte checked. Run your own workload with tools/guest-run."
