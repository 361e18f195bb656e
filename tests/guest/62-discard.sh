#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 600 --file @CORPUS@
#
# 62-discard: discard frees what it covers and nothing else, for unit_size
# 4096 and 16384 (zstd). 32 MiB of corpus data is written, then:
# - an aligned 8 MiB discard: orig_data_size drops by exactly 8 MiB, the
#   range reads as zeroes, everything else is intact;
# - a discard that covers only part of units (4 KiB inside a 16 KiB unit, a
#   range with partial units at both ends): orig_data_size drops by exactly
#   the bytes discarded (it counts blocks, not units), the whole units inside are freed,
#   the bytes outside the range are intact, the bytes inside read as zeroes
#   or as before (never as anything else);
# - write-zeroes (blkdiscard -z) reads back as zeroes;
# - a discarded range written again reads the new data;
# - discarding the whole device leaves nothing stored and no memory used.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
dev=zblk0
ref=/tmp/ref.bin
K=1024

# seg_md5 FILE OFFSET LEN -> md5 of a byte range of FILE (4 KiB aligned)
seg_md5() { dd if="$1" bs=4096 skip=$(($2 / 4096)) count=$(($3 / 4096)) 2>/dev/null | zb_md5; }
dev_md5() { dd if=/dev/$dev bs=4096 skip=$(($1 / 4096)) count=$(($2 / 4096)) iflag=direct 2>/dev/null | zb_md5; }
zero_md5() { head -c "$1" /dev/zero | zb_md5; }

# zero_ref OFFSET LEN: the reference now has zeroes there
zero_ref() {
	dd if=/dev/zero of=$ref bs=4096 seek=$(($1 / 4096)) count=$(($2 / 4096)) conv=notrunc 2>/dev/null
}

# check_all WHAT: the device reads exactly as the reference
check_all() {
	local got want
	got=$(dd if=/dev/$dev bs=1M count=32 iflag=direct 2>/dev/null | zb_md5)
	want=$(zb_md5 <$ref)
	[ "$got" = "$want" ] || {
		dd if=/dev/$dev bs=1M count=32 iflag=direct 2>/dev/null | cmp - $ref | head -n 3
		zb_fail "$1: device content differs from the reference (first difference above)"
	}
}

# check_partial OFF: the 4 KiB at OFF reads as zeroes or as before
check_partial() {
	local got
	got=$(dev_md5 "$1" 4096)
	[ "$got" = "$(seg_md5 $ref "$1" 4096)" ] || [ "$got" = "$(zero_md5 4096)" ] ||
		zb_fail "discarded 4 KiB at $1 reads as neither zeroes nor its old content"
	# from now on compare what the device says there
	dd if=/dev/$dev of=$ref bs=4096 skip=$(($1 / 4096)) seek=$(($1 / 4096)) count=1 iflag=direct conv=notrunc 2>/dev/null
}

run() { # UNIT
	local u=$1 orig0 orig1 o
	zb_step "unit_size=$u: 32 MiB of corpus data"
	zb_setup $dev "$u" zstd 64M
	zb_corpus | head -c $((32 * ZB_MIB)) >$ref
	dd if=$ref of=/dev/$dev bs=1M oflag=direct 2>/dev/null || zb_fail "writing 32 MiB failed"
	zb_expect_eq "orig_data_size" "$(zb_mm $dev orig_data_size)" $((32 * ZB_MIB))

	zb_step "discard 8 MiB at 8 MiB (aligned)"
	blkdiscard -o $((8 * ZB_MIB)) -l $((8 * ZB_MIB)) /dev/$dev || zb_fail "blkdiscard failed"
	zb_expect_eq "orig_data_size after discarding 8 MiB" "$(zb_mm $dev orig_data_size)" $((24 * ZB_MIB))
	zb_expect_str "discarded range reads as zeroes" "$(dev_md5 $((8 * ZB_MIB)) $((8 * ZB_MIB)))" "$(zero_md5 $((8 * ZB_MIB)))"
	zero_ref $((8 * ZB_MIB)) $((8 * ZB_MIB))
	check_all "after the aligned discard"

	zb_step "discard 4 KiB in the middle of a unit (16 MiB + 4 KiB)"
	orig0=$(zb_mm $dev orig_data_size)
	o=$((16 * ZB_MIB + 4 * K))
	blkdiscard -o $o -l 4096 /dev/$dev || zb_fail "blkdiscard of 4 KiB failed"
	orig1=$(zb_mm $dev orig_data_size)
	# orig_data_size counts the blocks that hold data, not whole units
	zb_expect_eq "orig_data_size after discarding 4 KiB" "$orig1" $((orig0 - 4096))
	if [ "$u" = 4096 ]; then
		zb_expect_str "discarded unit reads as zeroes" "$(dev_md5 $o 4096)" "$(zero_md5 4096)"
	fi
	check_partial $o
	check_all "after discarding 4 KiB inside a unit"

	zb_step "discard [20 MiB + 4 KiB, 20 MiB + 68 KiB): partial units at both ends"
	orig0=$(zb_mm $dev orig_data_size)
	o=$((20 * ZB_MIB + 4 * K))
	blkdiscard -o $o -l $((64 * K)) /dev/$dev || zb_fail "blkdiscard failed"
	orig1=$(zb_mm $dev orig_data_size)
	zb_expect_eq "orig_data_size after discarding 64 KiB" "$orig1" $((orig0 - 64 * K))
	if [ "$u" = 4096 ]; then
		zero_ref $o $((64 * K))
	else
		# whole units inside: [20M+16K, 20M+64K) = 3 units
		zb_expect_str "whole units inside the range read as zeroes" \
			"$(dev_md5 $((20 * ZB_MIB + 16 * K)) $((48 * K)))" "$(zero_md5 $((48 * K)))"
		zero_ref $((20 * ZB_MIB + 16 * K)) $((48 * K))
		for p in 0 4 8; do
			check_partial $((o + p * K))
		done
		check_partial $((20 * ZB_MIB + 64 * K))
	fi
	check_all "after the discard with partial units"

	zb_step "write-zeroes (blkdiscard -z) of 1 MiB at 24 MiB + 4 KiB"
	o=$((24 * ZB_MIB + 4 * K))
	if blkdiscard -z -o $o -l $((1 * ZB_MIB)) /dev/$dev 2>/tmp/bz.err; then
		zero_ref $o $((1 * ZB_MIB))
		check_all "after write-zeroes"
	else
		zb_fail "blkdiscard -z (write zeroes) failed: $(cat /tmp/bz.err)"
	fi

	zb_step "write new data into the discarded 8 MiB"
	zb_corpus | tail -c +$(( $(zb_corpus_len) - 8 * ZB_MIB + 1)) | dd of=$ref bs=1M seek=8 conv=notrunc 2>/dev/null
	dd if=$ref of=/dev/$dev bs=1M skip=8 seek=8 count=8 oflag=direct 2>/dev/null || zb_fail "rewrite failed"
	check_all "after rewriting the discarded range"
	zb_show_mm $dev

	zb_step "discard the whole device"
	blkdiscard /dev/$dev || zb_fail "blkdiscard of the whole device failed"
	zb_show_mm $dev
	for f in orig_data_size compr_data_size mem_used_total same_pages huge_pages; do
		zb_expect_eq "after a full discard: $f" "$(zb_mm $dev $f)" 0
	done
	zb_expect_str "whole device reads as zeroes" "$(dd if=/dev/$dev bs=1M iflag=direct 2>/dev/null | zb_md5)" \
		"$(zero_md5 $((64 * ZB_MIB)))"
	zb_reset $dev
	rm -f $ref
}

zb_load num_devices=1
run 4096
run 16384
zb_unload
zb_pass
