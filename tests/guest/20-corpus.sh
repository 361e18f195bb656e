#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900 --file @CORPUS@
#
# 20-corpus: the 80 MiB corpus of real anonymous memory written to a zblk
# device exactly as large, the page cache dropped, read back and compared
# byte for byte. Three set-ups:
#   unit 4096,  lz4,  written with 1 MiB buffered writes
#   unit 16384, zstd, written with 1 MiB buffered writes
#   unit 16384, lz4,  written with 4 KiB O_DIRECT writes (every unit is
#                     built from four partial writes), read back with
#                     64 KiB O_DIRECT reads
# mm_stat must add up: orig_data_size = units stored x unit_size = corpus
# size; compr_data_size below it; same_pages > 0 (the corpus has zero pages);
# mem_used_total between compr_data_size and orig_data_size.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
len=$(zb_corpus_len)
zb_info "corpus: $ZB_CORPUS, $len bytes"
[ $((len % 16384)) -eq 0 ] || zb_fail "corpus length $len is not a multiple of 16 KiB"

run() { # UNIT ALGO WRITE_MODE
	local unit=$1 algo=$2 mode=$3 dev=zblk0 orig compr mem same
	zb_step "unit_size=$unit comp_algorithm=$algo: write the corpus ($mode)"
	zb_setup $dev "$unit" "$algo" "$len"
	zb_expect_eq "$dev disksize" "$(cat /sys/block/$dev/disksize)" "$len"
	case "$mode" in
	buffered)
		zb_corpus | dd of=/dev/$dev bs=1M 2>/dev/null || zb_fail "writing the corpus to /dev/$dev failed"
		;;
	direct4k)
		zb_corpus | dd of=/dev/$dev bs=4k iflag=fullblock oflag=direct 2>/dev/null ||
			zb_fail "writing the corpus to /dev/$dev with 4k O_DIRECT writes failed"
		;;
	esac
	sync
	zb_show_mm $dev
	orig=$(zb_mm $dev orig_data_size)
	compr=$(zb_mm $dev compr_data_size)
	mem=$(zb_mm $dev mem_used_total)
	same=$(zb_mm $dev same_pages)
	zb_expect_eq "orig_data_size (units stored x $unit)" "$orig" "$len"
	zb_expect_gt "compr_data_size" "$compr" 0
	zb_expect_lt "compr_data_size (the corpus compresses at least 4:3)" "$compr" $((len * 3 / 4))
	zb_expect_gt "same_pages (the corpus has same-filled units)" "$same" 0
	zb_expect_lt "same_pages (only a few % of the corpus is same-filled)" "$same" $((len / unit / 10))
	zb_expect_ge "mem_used_total (cannot hold compr_data_size in less)" "$mem" "$compr"
	zb_expect_lt "mem_used_total (must be below the data size for this corpus)" "$mem" "$len"
	zb_expect_ge "mem_used_max" "$(zb_mm $dev mem_used_max)" "$mem"

	zb_drop_caches
	if [ "$mode" = buffered ]; then
		zb_step "drop caches, read back (buffered) and compare byte for byte"
		zb_corpus | cmp - /dev/$dev || zb_fail "buffered read-back of /dev/$dev differs from the corpus"
	else
		zb_step "drop caches, read back with O_DIRECT 64 KiB reads and compare byte for byte"
		rm -f /tmp/corpus.fifo
		mkfifo /tmp/corpus.fifo || zb_fail "mkfifo failed"
		zb_corpus >/tmp/corpus.fifo &
		dd if=/dev/$dev bs=64k iflag=direct 2>/dev/null | cmp - /tmp/corpus.fifo ||
			zb_fail "O_DIRECT read-back of /dev/$dev differs from the corpus"
		wait
		rm -f /tmp/corpus.fifo
	fi
	zb_expect_eq "io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	zb_expect_eq "io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
	zb_reset $dev
}

zb_load num_devices=1
run 4096 lz4 buffered
run 16384 zstd buffered
run 16384 lz4 direct4k
zb_unload
zb_pass
