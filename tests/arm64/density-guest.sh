#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/arm64/density-guest.sh - the guest half of tests/host/91-arm64-density.sh
# (not a tests/guest/ test: the host half compares its figures with
# tools/zblk-density). Also usable alone:
#   tools/guest-run --kernel 6.12-arm64-16k --mem 768M --file CORPUS.zst [--file CORPUS] \
#       tests/arm64/density-guest.sh
# (with the decompressed CORPUS beside the .zst the guest skips zstd -d).
#
# Writes the whole corpus to zblk (unit 16384; also 4096 when the host passes
# --file .../density-units listing "16384 4096") and to zram, each with lz4
# and zstd, drops the page cache, reads every device back with O_DIRECT
# and compares it byte for byte (md5) with the corpus, and prints one line per
# device set-up:
#   DENSITY <dev> <unit> <algo> <page_size> <mm_stat fields...>
# (zram's unit is its page size). Exit 1 on any mismatch or error.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
page=$(awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps)
len=$(zb_corpus_len)
[ $((len % 16384)) -eq 0 ] || zb_fail "corpus length $len is not a multiple of 16 KiB"
zb_info "kernel $(uname -r), PAGE_SIZE $page, corpus $len bytes"
want=$(corpus_file | zb_md5)
units=16384
[ -r /files/density-units ] && units=$(cat /files/density-units)

# fill_check DEV: corpus -> /dev/DEV, sync, drop caches, md5 back
fill_check() {
	local dev=$1 got
	corpus_file | dd of=/dev/$dev bs=1M 2>/dev/null || zb_fail "writing the corpus to /dev/$dev failed"
	sync
	zb_drop_caches
	got=$(zb_dev_md5 $dev 0 "$len" direct)
	zb_expect_str "md5 of /dev/$dev read back (O_DIRECT) vs the corpus" "$got" "$want"
}

for algo in lz4 zstd; do
	for unit in $units; do
		zb_step "zblk unit_size=$unit $algo"
		zb_load num_devices=1
		zb_setup zblk0 $unit $algo "$len"
		fill_check zblk0
		zb_show_mm zblk0
		echo "DENSITY zblk $unit $algo $page $(cat /sys/block/zblk0/mm_stat)"
		if [ $unit = 16384 ] && [ -r $ZB_DEBUGFS/zblk0/classes ]; then
			# the type table in use, for the host to compare with its own
			awk '$1 ~ /^[0-9]+$/ { print "CLASS", $2, $3, $4 }' $ZB_DEBUGFS/zblk0/classes |
				tr '\n' ';' | sed "s/^/CLASSES $algo /; s/;\$/\n/"
		fi
		zb_reset zblk0
		zb_unload
	done
	zb_step "zram $algo"
	modprobe zram num_devices=1 || zb_fail "modprobe zram failed"
	echo $algo >/sys/block/zram0/comp_algorithm || zb_fail "zram0 comp_algorithm $algo"
	echo "$len" >/sys/block/zram0/disksize || zb_fail "zram0 disksize"
	fill_check zram0
	zb_show_mm zram0
	echo "DENSITY zram $page $algo $page $(cat /sys/block/zram0/mm_stat)"
	echo 1 >/sys/block/zram0/reset
	rmmod zram || zb_fail "rmmod zram failed"
done
zb_pass "corpus read back intact from zblk (units: $units) and zram, lz4 and zstd"
