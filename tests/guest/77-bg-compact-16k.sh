#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900 --file @CORPUS@
#
# 77-bg-compact-16k: the packer gives back what its repacking leaves sparse,
# with no `compact` and no shrinker (zblkdev/compact.c,
# zblk_compact_background()). For zstd and lz4: the corpus is written to a
# 16K-unit device, then a scattered half of its 4 KiB blocks is discarded, as
# swap frees pages: the packer compresses every unit that lost blocks again,
# so objects of all sizes go and come. Once it is done:
#   - the pages compaction could still free are within the packer's slack
#     (a 32nd of the pool, at least 64 pages), its compaction moved objects
#     (debug_stat bg_compact_objects) and freed pages (pages_compacted);
#   - memory per compressed byte is within 5% of a fresh device written with
#     the same data, and a `compact` then frees no more than that slack;
#   - the data reads back as it did right after the discards.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
len=$(zb_corpus_len)
zb_load num_devices=2
for algo in zstd lz4; do
	zb_setup zblk0 16384 "$algo" "$len"
	zb_setup zblk1 16384 "$algo" "$len"
	zb_step "$algo: the corpus ($(zb_mib "$len")) written 16K at a time, a scattered half of its 4K blocks discarded"
	zb_corpus | dd of=/dev/zblk0 bs=1M iflag=fullblock oflag=direct 2>/dev/null ||
		zb_fail "writing the corpus failed"
	p0=$(zb_mm zblk0 pages_compacted)
	zb_trim_scattered zblk0 4096 "$len" 50
	md5a=$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)

	zb_step "$algo: the packer repacks the units that lost blocks, then compacts"
	zb_pack_settle zblk0
	zb_bg_compact_settle zblk0
	zb_show_dbg zblk0
	zb_show_mm zblk0
	zb_classes zblk0
	zb_expect_gt "repacked_units after the discards" "$(zb_dbg zblk0 repacked_units)" 0
	zb_expect_gt "bg_compact_objects: the packer's compaction ran" "$(zb_dbg zblk0 bg_compact_objects)" 0
	p1=$(zb_mm zblk0 pages_compacted)
	zb_expect_gt "pages_compacted by the packer (no compact written)" "$p1" "$p0"
	md5b=$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)
	zb_expect_str "zblk0 content after the packer and its compaction" "$md5b" "$md5a"

	zb_step "$algo: memory per compressed byte against a fresh device holding the same data"
	dd if=/dev/zblk0 of=/dev/zblk1 bs=16k iflag=direct oflag=direct 2>/dev/null ||
		zb_fail "copying zblk0 to zblk1 failed"
	m0=$(zb_mm zblk0 mem_used_total) c0=$(zb_mm zblk0 compr_data_size)
	mf=$(zb_mm zblk1 mem_used_total) cf=$(zb_mm zblk1 compr_data_size)
	zb_info "mem/compr: after the packer $(zb_ratio "$m0" "$c0"), fresh device $(zb_ratio "$mf" "$cf")"
	zb_within "$(zb_ratio "$m0" "$c0")" "$(zb_ratio "$mf" "$cf")" 5 ||
		zb_fail "memory per compressed byte $(zb_ratio "$m0" "$c0") is more than 5% above a fresh device's $(zb_ratio "$mf" "$cf")"
	slack=$(zb_bg_slack "$(zb_pool_pages zblk0)")
	zb_write_ok /sys/block/zblk0/compact 1
	p2=$(zb_mm zblk0 pages_compacted)
	zb_info "compact after the packer freed $((p2 - p1)) pages (slack $slack)"
	zb_expect_le "pages a compact still frees after the packer's" $((p2 - p1)) "$slack"
	for d in zblk0 zblk1; do
		zb_expect_eq "$d pack_failed" "$(zb_dbg $d pack_failed)" 0
		zb_expect_eq "$d io_stat failed_reads" "$(zb_io $d failed_reads)" 0
		zb_reset $d
	done
done
zb_unload
zb_pass
