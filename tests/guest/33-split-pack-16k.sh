#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900 --file @CORPUS@ --file tools/loadgen
#
# 33-split-pack-16k: the life cycle of 16K units written 4K at a time
# (zblkdev/split.c), for lz4 and zstd, on corpus data:
#   1. 16 MiB of corpus written 4 KiB at a time (every unit split, block by
#      block) reads back intact, and once the packer is done no unit is left
#      split and the data takes no more memory than the same bytes written
#      16 KiB at a time to a second device (compr_data_size within 1%,
#      mem_used_total within 4%); read 4 KiB at a time, most reads are
#      served from the stream's copy of the unit (read_cache_hits);
#   2. blocks 1 and 2 of every unit discarded: the units are compressed again
#      without them (repacked_units), compr_data_size falls, orig_data_size
#      is half the slice, and the device reads as the corpus with those
#      blocks zeroed;
#   3. units of which only blocks 0 and 2 are written (they never fill up):
#      those blocks are stored raw on the write and the packer compresses
#      each unit as one object with blocks 1 and 3 absent, so no raw bytes
#      are left (lazy_bytes) once the packer is done and their compr_data_size is below the raw 8 KiB a unit; they
#      count 8 KiB each in orig_data_size and read back (fio verify) with
#      zeroes in the other blocks;
#   4. random 4K overwrites of those and of the packed units, then
#      compaction: every byte verified again after the packer and compaction.
# After each step the census of units (debugfs zblkN/units) agrees with
# mm_stat and debug_stat, and says what the step left: whole units in one
# object (1), no unit still holding discarded bytes (2), no raw block left
# for the packer (3).
# No read or write may fail. The 4K writes and reads of the corpus are
# zblk-load's (O_DIRECT, one bio per 4K block, on 16K-page kernels too, where
# busybox dd falls back to the page cache and writes whole 16K pages).
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

MIB=1048576
LEN=$((16 * MIB))		# corpus bytes per device (region A)
UNITS=$((LEN / 16384))
SLICE=/tmp/slice EXP=/tmp/expected

zb_need_corpus
case "$(uname -m)" in
aarch64) LOAD=/files/loadgen/zblk-load-arm64 ;;
*) LOAD=/files/loadgen/zblk-load ;;
esac
[ -x $LOAD ] || zb_fail "$LOAD missing (tests/run builds tools/loadgen)"
zb_load num_devices=2

# expected_holes FILE: zero blocks 1 and 2 of every 16K unit of FILE
expected_holes() {
	local i=0
	while [ $i -lt $UNITS ]; do
		dd if=/dev/zero of="$1" bs=4096 seek=$((i * 4 + 1)) count=2 conv=notrunc status=none
		i=$((i + 1))
	done
}

zb_step "corpus slice: $(zb_mib $LEN), and the same with blocks 1 and 2 of every unit zeroed"
zb_corpus | head -c $LEN >$SLICE
cp $SLICE $EXP
expected_holes $EXP
want=$(zb_md5 <$SLICE)
want_holes=$(zb_md5 <$EXP)

for algo in lz4 zstd; do
	zb_step "$algo: two 16K-unit devices"
	zb_setup zblk0 16384 $algo 32M
	zb_setup zblk1 16384 $algo 32M

	zb_step "$algo: 1. the slice written 4K at a time to zblk0, 16K at a time to zblk1"
	dd if=$SLICE of=/dev/zblk1 bs=16k oflag=direct status=none || zb_fail "dd to zblk1 failed"
	$LOAD fill --corpus $SLICE --dev /dev/zblk0 --size $LEN --bs 4096 >/tmp/load.out 2>&1 ||
		zb_fail "zblk-load fill of zblk0 failed: $(cat /tmp/load.out)"
	zb_expect_eq "zblk0 split_blocks after 4K writes" "$(zb_dbg zblk0 split_blocks)" $((LEN / 4096))
	zb_expect_eq "zblk1 split_blocks after 16K writes" "$(zb_dbg zblk1 split_blocks)" 0
	zb_pack_settle zblk0
	zb_show_dbg zblk0
	zb_show_mm zblk0
	zb_show_mm zblk1
	zb_expect_eq "zblk0 units left split once every unit is whole" "$(zb_dbg zblk0 split_units)" 0
	zb_census_check zblk0
	zb_census_check zblk1
	zb_expect_eq "zblk0 census: whole units in one object" \
		$(( $(zb_census zblk0 one 4 units) + $(zb_census zblk0 same 4 units) )) $UNITS
	zb_expect_gt "zblk0 packed_units" "$(zb_dbg zblk0 packed_units)" $((UNITS / 2))
	zb_expect_str "zblk0 content (4K writes, packed)" "$(zb_dev_md5 zblk0 0 $LEN direct)" "$want"
	zb_expect_str "zblk1 content (16K writes)" "$(zb_dev_md5 zblk1 0 $LEN direct)" "$want"
	h0=$(zb_dbg zblk0 read_cache_hits)
	$LOAD verify --corpus $SLICE --dev /dev/zblk0 --size $LEN --bs 4096 >/tmp/load.out 2>&1 ||
		zb_fail "zblk0 read 4K at a time does not match the corpus: $(cat /tmp/load.out)"
	h=$(( $(zb_dbg zblk0 read_cache_hits) - h0))
	zb_info "4K reads served from the stream's last unit: $h of $((LEN / 4096))"
	# lz4 decodes a unit's first block alone, then the whole unit on the
	# second read: 2 hits of 4; zstd 3 of 4; a reader moved to another CPU
	# (another stream) misses once more
	zb_expect_ge "zblk0 read_cache_hits over sequential 4K reads" $h $((LEN / 4096 / 4))
	c0=$(zb_mm zblk0 compr_data_size) c1=$(zb_mm zblk1 compr_data_size)
	zb_info "compr_data_size packed/whole: $(zb_ratio $c0 $c1)"
	zb_within $c0 $c1 1 || zb_fail "zblk0 compr_data_size $c0 is more than 1% above zblk1's $c1"
	m0=$(zb_mm zblk0 mem_used_total) m1=$(zb_mm zblk1 mem_used_total)
	zb_info "mem_used_total packed/whole: $(zb_ratio $m0 $m1)"
	zb_within $m0 $m1 4 || zb_fail "zblk0 mem_used_total $m0 is more than 4% above zblk1's $m1"

	zb_step "$algo: 2. blocks 1 and 2 of every unit discarded"
	zb_fio holes --filename=/dev/zblk0 --ioengine=psync --rw=trim:8k --bs=8k \
		--offset=4k --size=$((LEN - 4096))
	zb_pack_settle zblk0
	zb_show_dbg zblk0
	zb_show_mm zblk0
	zb_expect_gt "zblk0 repacked_units" "$(zb_dbg zblk0 repacked_units)" $((UNITS / 2))
	zb_census_check zblk0
	zb_expect_eq "zblk0 census: units still holding discarded bytes" \
		$(( $(zb_census zblk0 dead 2 units) + $(zb_census zblk0 dead 1 units) )) 0
	c2=$(zb_mm zblk0 compr_data_size)
	zb_info "compr_data_size after the discards / before: $(zb_ratio $c2 $c0)"
	zb_expect_lt "zblk0 compr_data_size after discarding half of every unit" $c2 $((c0 * 3 / 4))
	zb_expect_str "zblk0 content with the holes" "$(zb_dev_md5 zblk0 0 $LEN direct)" "$want_holes"
	# mm_stat counts the blocks that hold data, not whole units
	zb_expect_eq "zblk0 orig_data_size with half of every unit discarded" \
		"$(zb_mm zblk0 orig_data_size)" $((LEN / 2))

	zb_step "$algo: 3. units of which only blocks 0 and 2 are written (fio verify)"
	o="--filename=/dev/zblk0 --offset=$LEN --size=$LEN $ZB_FIO_VERIFY --direct=1 --bs=4k --randseed=33"
	# shellcheck disable=SC2086
	c3=$(zb_mm zblk0 compr_data_size)
	zb_fio halfw $o --rw=write:4k
	zb_pack_settle zblk0
	zb_show_dbg zblk0
	# units whose blocks came while the packer was behind (LAZY bytes at
	# their bound) were compressed block by block and stay split
	zb_info "units left split: $(zb_dbg zblk0 split_units) of $UNITS"
	zb_expect_eq "zblk0 lazy_bytes once the packer is done" "$(zb_dbg zblk0 lazy_bytes)" 0
	zb_census_check zblk0
	zb_expect_eq "zblk0 census: blocks stored raw for the packer" "$(zb_census zblk0 block lazy count)" 0
	c4=$(zb_mm zblk0 compr_data_size)
	zb_info "compr_data_size of the half-written units / their raw bytes: $(zb_ratio $((c4 - c3)) $((LEN / 2)))"
	zb_expect_lt "zblk0 compr_data_size of the half-written units (raw: $((LEN / 2)))" \
		$((c4 - c3)) $((LEN / 2))
	zb_expect_eq "zblk0 orig_data_size with the half-written units" \
		"$(zb_mm zblk0 orig_data_size)" "$LEN"
	# shellcheck disable=SC2086
	zb_fio halfv $o --rw=write:4k --verify_only=1
	for u in 0 100 $((UNITS - 1)); do
		for b in 1 3; do
			dd if=/dev/zblk0 bs=4096 skip=$(( (LEN + u * 16384) / 4096 + b)) count=1 \
				iflag=direct status=none | cmp -s - /dev/zero -n 4096 ||
				zb_fail "block $b of half-written unit $u does not read as zeroes"
		done
	done

	zb_step "$algo: 4. random 4K overwrites everywhere, the packer, compaction, verify"
	p0=$(zb_dbg zblk0 packed_units)
	o="--filename=/dev/zblk0 --size=$((2 * LEN)) $ZB_FIO_VERIFY --direct=1 --bs=4k --randseed=34"
	# shellcheck disable=SC2086
	zb_fio randw $o --rw=randwrite --number_ios=$((LEN / 4096))
	zb_pack_settle zblk0
	zb_write_ok /sys/block/zblk0/compact 1
	zb_show_dbg zblk0
	zb_show_mm zblk0
	zb_expect_gt "zblk0 units packed again after the overwrites" \
		$(( $(zb_dbg zblk0 packed_units) - p0)) 0
	zb_census_check zblk0
	# shellcheck disable=SC2086
	zb_fio randv $o --rw=randwrite --number_ios=$((LEN / 4096)) --verify_only=1

	for d in zblk0 zblk1; do
		zb_expect_eq "$d io_stat failed_reads" "$(zb_io $d failed_reads)" 0
		zb_expect_eq "$d io_stat failed_writes" "$(zb_io $d failed_writes)" 0
		zb_expect_eq "$d pack_failed" "$(zb_dbg $d pack_failed)" 0
		zb_reset $d
	done
done
rm -f $SLICE $EXP
zb_unload
zb_pass
