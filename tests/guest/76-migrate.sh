#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 1200 --file @CORPUS@
#
# 76-migrate: zblk's pool pages move when the kernel compacts physical memory,
# as zram's (zsmalloc's) do. Two rounds in the same guest, each on freshly
# fragmented memory: zram0 (lz4), then zblk0 (unit 4096, lz4), each holding
# the corpus. A round: fill free memory (all but 48 MiB) with 64 KiB tmpfs
# files and delete every other one (holes in every pageblock, no free
# order-9 block left), write the corpus to the device (its pages land in the
# holes), delete the remaining files and drop the caches, so that the device's
# pages are scattered over memory that is otherwise free. Then
# `echo 1 > /proc/sys/vm/compact_memory`, reading /proc/vmstat's
# compact_*/pgmigrate_* counters and the free blocks of order 9 or more in
# /proc/buddyinfo before (right after the device is written, so that
# compaction the kernel starts on its own as the files go is counted too)
# and after. Checks: the zram round migrates at least
# a third of its pages (else the set-up proves nothing); the zblk round
# migrates at least a third of its pages (before issue 16 zblk's pages were
# pinned and only other pages moved: 8-13% of its pool's count; a check
# against zram's count was dropped: zram's pages can move twice in one run,
# 10893 migrations of a 9409-page pool on 6.12, so it failed at random);
# after compaction the zblk round has at
# least 80% of the zram round's free order-9 blocks (a check that zblk is not
# worse, not of migration: pinned pages sit grouped in unmovable pageblocks,
# so the figure was no lower before); every byte of both devices matches the
# corpus afterwards.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
len=$(zb_corpus_len)
FRAG=/mnt/frag
MARGIN_KB=49152
FILE_KB=64

# No compaction behind our back: kcompactd's proactive compaction and the
# watermark boost after fragmenting fallbacks would move pages between our
# two readings.
[ -w /proc/sys/vm/compaction_proactiveness ] && echo 0 >/proc/sys/vm/compaction_proactiveness
[ -w /proc/sys/vm/watermark_boost_factor ] && echo 0 >/proc/sys/vm/watermark_boost_factor
[ -w /proc/sys/vm/compact_memory ] || zb_skip "no /proc/sys/vm/compact_memory (kernel without CONFIG_COMPACTION)"
# The default reserve (raised for THP to tens of MiB) would keep whole free
# pageblocks that absorb the device's pages: make it small.
echo 8192 >/proc/sys/vm/min_free_kbytes || zb_fail "writing min_free_kbytes failed"
# Keep the test itself out of the OOM killer's way should the fill overshoot.
echo -1000 >/proc/self/oom_score_adj

# vm NAME -> /proc/vmstat counter (0 if the kernel has no such counter)
vm() { awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }' /proc/vmstat; }
# free blocks of order 9 or more, counted in order-9 blocks, all zones
order9() { awk '{ m = 1; for (i = 14; i <= NF; i++) { n += $i * m; m *= 2 } } END { printf "%d\n", n }' /proc/buddyinfo; }
COUNTERS="pgmigrate_success pgmigrate_fail compact_migrate_scanned compact_free_scanned compact_isolated"

snap() { # PREFIX: set PREFIX_<counter> and PREFIX_o9
	local c
	for c in $COUNTERS; do
		eval "${1}_$c=$(vm $c)"
	done
	eval "${1}_o9=$(order9)"
}

# fragment: fill all free memory but MARGIN_KB with FILE_KB tmpfs files, odd
# ones in a/, even ones in b/, and delete b/
fragment() {
	local n
	zb_drop_caches
	# each file also costs about 1 KiB of inode and dentry
	n=$(( ($(mem_avail_kb) - MARGIN_KB) / (FILE_KB + 1) ))
	[ "$n" -gt 1000 ] || zb_fail "only $(mem_avail_kb) KiB available, cannot fragment memory"
	mkdir -p $FRAG
	mount -t tmpfs -o size=$((n * FILE_KB + 4096))k tmpfs $FRAG || zb_fail "mounting tmpfs on $FRAG failed"
	mkdir $FRAG/a $FRAG/b
	(echo 0 >/proc/self/oom_score_adj; exec awk -v n="$n" -v d=$FRAG -v kb=$FILE_KB 'BEGIN {
		s = sprintf("%" (kb * 1024) "s", "")
		for (i = 0; i < n; i++) {
			f = d "/" (i % 2 ? "a" : "b") "/" i
			printf "%s", s > f
			close(f)
		}
	}') || zb_fail "filling $FRAG failed"
	rm -rf $FRAG/b
	zb_info "fragmented: $n files of $FILE_KB KiB written, every other one deleted;" \
		"free order>=9 blocks: $(order9), MemFree $(mem_free_kb) KiB"
}

unfragment() {
	rm -rf $FRAG/a
	umount $FRAG || zb_fail "umount $FRAG failed"
	zb_drop_caches
	sleep 1
}

# round NAME DEV: fragment, fill DEV, compact; sets NAME_mig (pages
# migrated), NAME_pages (device pages), NAME_o9b / NAME_o9a (free order>=9
# blocks before / after); verifies DEV
round() {
	local name=$1 dev=$2 c
	zb_step "$name: fragment memory, write the corpus to $dev"
	fragment
	zb_corpus | dd of=/dev/$dev bs=1M iflag=fullblock oflag=direct 2>/dev/null ||
		zb_fail "writing the corpus to /dev/$dev failed"
	# The counters are read before the files go: compaction the kernel
	# starts by itself once memory frees up (seen once on 6.1 under a
	# loaded host: 157 free order-9 blocks before compact_memory, half
	# the migrations outside the window) then counts too.
	snap b
	unfragment
	eval "${name}_pages=$(($(awk '{ print $3 }' /sys/block/$dev/mm_stat) / 4096))"
	eval "zb_info \"$dev mem_used_total: \$${name}_pages pages\""
	zb_info "  $name free order>=9 blocks once the files are gone: $(order9)"
	zb_step "$name: echo 1 > /proc/sys/vm/compact_memory"
	echo 1 >/proc/sys/vm/compact_memory || zb_fail "writing compact_memory failed"
	snap a
	for c in $COUNTERS; do
		eval "zb_info \"  $name $c: +\$((a_$c - b_$c))\""
	done
	zb_info "  $name free order>=9 blocks: $b_o9 -> $a_o9"
	eval "${name}_mig=$((a_pgmigrate_success - b_pgmigrate_success))"
	eval "${name}_o9b=$b_o9 ${name}_o9a=$a_o9"
	zb_step "$name: every byte of $dev"
	zb_corpus | cmp - /dev/$dev || zb_fail "/dev/$dev differs from the corpus after compaction"
}

# zram first, on memory that no earlier round has shaped
modprobe zram num_devices=1 || zb_fail "modprobe zram failed"
echo lz4 >/sys/block/zram0/comp_algorithm || zb_fail "zram does not take lz4"
echo "$len" >/sys/block/zram0/disksize || zb_fail "zram disksize failed"
round zram zram0
echo 1 >/sys/block/zram0/reset
rmmod zram

zb_load num_devices=1
zb_setup zblk0 4096 lz4 "$len"
round zblk zblk0
zb_show_mm zblk0
zb_reset zblk0
zb_unload

zb_step "summary"
zb_info "pages migrated by compact_memory: zblk $zblk_mig (pool $zblk_pages pages)," \
	"zram $zram_mig (pool $zram_pages pages)"
zb_info "free order>=9 blocks before -> after: zblk $zblk_o9b -> $zblk_o9a, zram $zram_o9b -> $zram_o9a"
zb_expect_ge "zram: pages migrated x3 (at least a third of its $zram_pages pages, else the set-up proves nothing)" \
	$((3 * zram_mig)) "$zram_pages"
zb_expect_ge "zblk: pages migrated x3 (at least a third of its $zblk_pages pages)" \
	$((3 * zblk_mig)) "$zblk_pages"
zb_expect_ge "zblk: free order>=9 blocks after compaction x10 (at least 80% of zram's $zram_o9a)" \
	$((10 * zblk_o9a)) $((8 * zram_o9a))
zb_pass
