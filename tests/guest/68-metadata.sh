#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 900
#
# 68-metadata: zblk counts its allocator metadata (block descriptors) in
# mm_stat, and mem_used_total covers what the system lost.
# zblk0 (4096, lz4) gets 512 MiB of units that compress to ~230 bytes (small
# slots, where descriptors used to cost a kmalloc-2k per block) and 16 MiB of
# random units (stored raw: the unit type, whose owners stay in the
# descriptor). Before and after, with caches dropped: free memory (MemFree
# plus the free pages on per-CPU lists, which 6.12's MemFree leaves out) and
# Slab. Checks:
# - mm_stat field 10, metadata_bytes, is > 0 and equals the sum of the
#   debugfs classes column meta_bytes; mem_used_total = (pages in classes +
#   metadata_bytes rounded up to pages) x page size; metadata_bytes is at
#   most 1% of mem_used_total;
# - Slab grew by at least metadata_bytes (the descriptors are there);
# - the memory the system lost (free memory before - after) is within 1.5% + 1 MiB
#   of mem_used_total (the rest: xarray nodes, slab slack and debugging);
# - after discarding everything, metadata_bytes and mem_used_total are 0.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

dev=zblk0
SMALL=$((512 * ZB_MIB)) RAW=$((16 * ZB_MIB))

# settle: drop caches, drain the per-CPU free lists into MemFree, shrink
# the slab caches (KASAN's quarantine of freed objects included: on the
# debug kernel it made the system lose 2.6 MiB more than mem_used_total)
settle() {
	zb_drop_caches
	echo 1 >/proc/sys/vm/compact_memory 2>/dev/null
	sleep 1
	zb_slab_shrink
}
meminfo() { awk -v k="$1:" '$1 == k { print $2 * 1024 }' /proc/meminfo; }

# classes_sum COLUMN -> the "total" row's value of COLUMN
classes_sum() {
	awk -v col="$1" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; next }
		$1 == "total" && c { print $c }' "$ZB_DEBUGFS/$dev/classes"
}

zb_load num_devices=1
zb_setup $dev 4096 lz4 1G
zb_expect_eq "fresh device: metadata_bytes" "$(zb_mm $dev metadata_bytes)" 0
settle
f0=$(( $(zb_sys_free_kb) * 1024 )) s0=$(meminfo Slab)

zb_step "write $((SMALL / ZB_MIB)) MiB of units compressing to ~230 bytes and $((RAW / ZB_MIB)) MiB of random units"
zb_fio small --filename=/dev/$dev --ioengine=psync --direct=1 --rw=write --bs=1M --size=$SMALL \
	--buffer_compress_percentage=95 --buffer_compress_chunk=4k --refill_buffers
head -c $RAW /dev/urandom | dd of=/dev/$dev bs=1M seek=$((SMALL / ZB_MIB)) oflag=direct 2>/dev/null ||
	zb_fail "writing the random units failed"
settle
f1=$(( $(zb_sys_free_kb) * 1024 )) s1=$(meminfo Slab)
zb_show_mm $dev
zb_classes $dev

used=$(zb_mm $dev mem_used_total) meta=$(zb_mm $dev metadata_bytes)
pages=$(classes_sum pages) cmeta=$(classes_sum meta_bytes)
ps=$(zb_page_size)
lost=$((f0 - f1)) slab=$((s1 - s0))
zb_info "mem_used_total $(zb_mib "$used"): $pages pages + metadata_bytes $meta" \
	"($(awk -v m="$meta" -v u="$used" 'BEGIN { printf "%.3f", 100 * m / u }')%)"
zb_info "system: free memory fell by $(zb_mib $lost), Slab grew by $(zb_mib $slab);" \
	"mem_used_total / lost = $(zb_ratio "$used" "$lost")"
zb_expect_gt "metadata_bytes" "$meta" 0
zb_expect_eq "metadata_bytes vs the classes column meta_bytes" "$meta" "$cmeta"
zb_expect_eq "mem_used_total vs (pages + metadata rounded up to pages) x page size" "$used" \
	$(( (pages + (meta + ps - 1) / ps) * ps))
zb_expect_le "metadata_bytes x 100 (at most 1% of mem_used_total)" $((meta * 100)) "$used"
zb_expect_ge "Slab growth (holds the descriptors)" "$slab" "$meta"
awk -v u="$used" -v l="$lost" 'BEGIN { d = u - l; if (d < 0) d = -d; exit !(d <= l * 0.015 + 1048576) }' ||
	zb_fail "mem_used_total $used is not within 1.5% + 1 MiB of the $lost bytes the system lost"

zb_step "discard everything: no metadata left"
blkdiscard /dev/$dev || zb_fail "blkdiscard failed"
zb_expect_eq "after full discard: metadata_bytes" "$(zb_mm $dev metadata_bytes)" 0
zb_expect_eq "after full discard: mem_used_total" "$(zb_mm $dev mem_used_total)" 0
zb_reset $dev
zb_expect_eq "after reset: metadata_bytes" "$(zb_mm $dev metadata_bytes)" 0
zb_unload
zb_pass
