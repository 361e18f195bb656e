#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 600
#
# 60-counters: mm_stat adds up, for unit_size 4096 and 16384 (lz4).
# A known pattern is written with whole-unit O_DIRECT writes:
#   N units of distinct compressible text, M zero units, M2 0xff units,
#   M3 units of a repeated 8-byte word, 1 unit that is zero but for its last
#   byte (not same-filled), K units from /dev/urandom (incompressible).
# Then: orig_data_size = units stored x unit_size; same_pages = M+M2+M3;
# huge_pages = K = huge_pages_since; compr_data_size and mem_used_total hold
# at least the K raw units. Overwrites move units between kinds and the
# counters follow; discards remove them; every region reads back as written.
# After a full discard the allocator holds no memory; after reset every
# mm_stat and io_stat field is 0.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

N=200 M=50 M2=20 M3=10 K=30
dev=zblk0

# wr UNIT FIRST COUNT: write stdin to units FIRST.. with whole-unit O_DIRECT writes
wr() {
	dd of=/dev/$dev bs="$1" seek="$2" count="$3" iflag=fullblock oflag=direct 2>/dev/null ||
		zb_fail "writing units $2..$(($2 + $3 - 1)) failed"
}

# rd_md5 UNIT FIRST COUNT -> md5 of those units read with O_DIRECT
rd_md5() {
	dd if=/dev/$dev bs="$1" skip="$2" count="$3" iflag=direct 2>/dev/null | zb_md5
}

text() { seq 1 9999999 | sed 's/$/ zblk counters line/' | head -c "$1"; }
ones() { tr '\0' '\377' </dev/zero | head -c "$1"; }
word() { yes zblk123 | head -c "$1"; }
almost() { head -c $(($1 - 1)) /dev/zero; printf '\001'; }

expect_mm() { # WHAT orig same huge huge_since
	zb_expect_eq "$1: orig_data_size" "$(zb_mm $dev orig_data_size)" "$2"
	zb_expect_eq "$1: same_pages" "$(zb_mm $dev same_pages)" "$3"
	zb_expect_eq "$1: huge_pages" "$(zb_mm $dev huge_pages)" "$4"
	zb_expect_eq "$1: huge_pages_since" "$(zb_mm $dev huge_pages_since)" "$5"
}

run() { # UNIT
	local u=$1 a b c d e total rnd=/tmp/rnd.bin f
	a=$N b=$((N + M)) c=$((b + M2)) d=$((c + M3)) e=$((d + 1))
	total=$((e + K))
	zb_step "unit_size=$u: write $N text, $M zero, $M2 0xff, $M3 word-pattern, 1 almost-zero, $K random units"
	zb_setup $dev "$u" lz4 64M
	expect_mm "fresh device" 0 0 0 0
	zb_expect_eq "fresh device: mem_used_total" "$(zb_mm $dev mem_used_total)" 0
	head -c $((K * u)) /dev/urandom >$rnd
	text $((N * u)) | wr "$u" 0 $N
	head -c $((M * u)) /dev/zero | wr "$u" $a $M
	ones $((M2 * u)) | wr "$u" $b $M2
	word $((M3 * u)) | wr "$u" $c $M3
	almost "$u" | wr "$u" $d 1
	wr "$u" $e $K <$rnd
	zb_show_mm $dev
	expect_mm "after the pattern" $((total * u)) $((M + M2 + M3)) $K $K
	zb_expect_ge "compr_data_size (holds $K raw units)" "$(zb_mm $dev compr_data_size)" $((K * u))
	zb_expect_lt "compr_data_size" "$(zb_mm $dev compr_data_size)" $((total * u))
	zb_expect_ge "mem_used_total (holds $K raw units)" "$(zb_mm $dev mem_used_total)" $((K * u))
	zb_expect_ge "mem_used_max" "$(zb_mm $dev mem_used_max)" "$(zb_mm $dev mem_used_total)"

	zb_step "read every region back"
	zb_expect_str "text units" "$(rd_md5 "$u" 0 $N)" "$(text $((N * u)) | zb_md5)"
	zb_expect_str "zero units" "$(rd_md5 "$u" $a $M)" "$(head -c $((M * u)) /dev/zero | zb_md5)"
	zb_expect_str "0xff units" "$(rd_md5 "$u" $b $M2)" "$(ones $((M2 * u)) | zb_md5)"
	zb_expect_str "word-pattern units" "$(rd_md5 "$u" $c $M3)" "$(word $((M3 * u)) | zb_md5)"
	zb_expect_str "almost-zero unit" "$(rd_md5 "$u" $d 1)" "$(almost "$u" | zb_md5)"
	zb_expect_str "random units" "$(rd_md5 "$u" $e $K)" "$(zb_md5 <$rnd)"
	zb_expect_str "never written units read as zero" "$(rd_md5 "$u" $total 8)" "$(head -c $((8 * u)) /dev/zero | zb_md5)"
	expect_mm "after reading" $((total * u)) $((M + M2 + M3)) $K $K

	zb_step "overwrite the random units with zeros, the zero units with random data"
	head -c $((K * u)) /dev/zero | wr "$u" $e $K
	expect_mm "random -> zero" $((total * u)) $((M + M2 + M3 + K)) 0 $K
	head -c $((M * u)) /dev/urandom >$rnd
	wr "$u" $a $M <$rnd
	expect_mm "zero -> random" $((total * u)) $((M2 + M3 + K)) $M $((K + M))
	zb_expect_str "zero units rewritten with random data" "$(rd_md5 "$u" $a $M)" "$(zb_md5 <$rnd)"
	zb_expect_str "random units rewritten with zeros" "$(rd_md5 "$u" $e $K)" "$(head -c $((K * u)) /dev/zero | zb_md5)"

	zb_step "discard the text units and the 0xff units"
	blkdiscard -o 0 -l $((N * u)) /dev/$dev || zb_fail "blkdiscard of the text units failed"
	blkdiscard -o $((b * u)) -l $((M2 * u)) /dev/$dev || zb_fail "blkdiscard of the 0xff units failed"
	expect_mm "after discards" $(((total - N - M2) * u)) $((M3 + K)) $M $((K + M))
	zb_expect_str "discarded text units read as zero" "$(rd_md5 "$u" 0 $N)" "$(head -c $((N * u)) /dev/zero | zb_md5)"
	zb_expect_str "word-pattern units after discards" "$(rd_md5 "$u" $c $M3)" "$(word $((M3 * u)) | zb_md5)"

	zb_step "discard everything: nothing stored, the allocator gives all memory back"
	blkdiscard /dev/$dev || zb_fail "blkdiscard of the whole device failed"
	expect_mm "after full discard" 0 0 0 $((K + M))
	zb_expect_eq "after full discard: compr_data_size" "$(zb_mm $dev compr_data_size)" 0
	zb_expect_eq "after full discard: mem_used_total" "$(zb_mm $dev mem_used_total)" 0

	zb_step "write again, compact, set mem_limit, then reset: every counter is 0"
	text $((N * u)) | wr "$u" 0 $N
	wr "$u" $a $M <$rnd
	echo 1 >/sys/block/$dev/compact || zb_fail "compact failed"
	echo 32M >/sys/block/$dev/mem_limit || zb_fail "mem_limit failed"
	zb_show_mm $dev
	zb_reset $dev
	for f in $ZB_MM_FIELDS; do
		zb_expect_eq "after reset: mm_stat $f" "$(zb_mm $dev $f)" 0
	done
	for f in $ZB_IO_FIELDS; do
		zb_expect_eq "after reset: io_stat $f" "$(zb_io $dev $f)" 0
	done
	zb_expect_eq "after reset: disksize" "$(cat /sys/block/$dev/disksize)" 0
	rm -f $rnd
}

zb_load num_devices=1
run 4096
run 16384
zb_step "a device initialised again after reset starts from zero"
zb_setup $dev 4096 zstd 16M
for f in $ZB_MM_FIELDS; do
	zb_expect_eq "re-initialised: mm_stat $f" "$(zb_mm $dev $f)" 0
done
zb_reset $dev
zb_unload
zb_pass
