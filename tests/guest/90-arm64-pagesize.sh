#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 1200 --file @CORPUS@
#
# 90-arm64-pagesize: zblk where PAGE_SIZE is not 4K. On the 6.12-arm64-16k
# kernel (16K pages) a 16K unit is one page and a 4K unit is below PAGE_SIZE;
# zblk supports both (sub-page I/O: a 16K page-cache or swap page spans four
# 4K units). On 4K-page kernels the same checks run with the roles swapped
# (4K unit = one page, 16K unit = four pages), as a control, when it is run
# alone with tools/guest-run; tests/run runs it on the arm64 kernel only.
# - the page size is what the kernel's name says (16 kB on *-arm64-16k);
# - for unit_size 4096 and 16384: fio crc32c verify with O_DIRECT 4K,
#   PAGE_SIZE and 64K blocks, and buffered PAGE_SIZE writes read back after
#   dropping the page cache;
# - the allocator's type table (debugfs classes) is derived for this
#   PAGE_SIZE: every block is whole pages, its slots fit in it and the tail
#   left over is smaller than one slot; pages held plus metadata_bytes
#   rounded up to pages, x PAGE_SIZE, equals mem_used_total;
# - zblk as swap under a memory cgroup limit: tmpfs files swapped out and in
#   come back intact; after swapoff every swap slot's units are freed: only
#   the swap header page (written by mkswap) is left, exactly as zram
#   (checked first, same kernel) leaves it.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

page=$(zb_page_size)
zb_info "kernel $(uname -r) ($(uname -m)), PAGE_SIZE $page"
case "$(uname -r)" in
*-16k) zb_expect_eq "PAGE_SIZE on $(uname -r)" "$page" 16384 ;;
*) case "$(uname -m)" in
	x86_64) zb_expect_eq "PAGE_SIZE on x86_64" "$page" 4096 ;;
	esac ;;
esac
zb_need_corpus
CG=/sys/fs/cgroup

# classes_check DEV: the type table fits this PAGE_SIZE; pages add up
classes_check() {
	local dev=$1 f=$ZB_DEBUGFS/$1/classes used pages
	[ -r "$f" ] || zb_fail "$f missing"
	awk -v ps="$page" '
	$1 ~ /^[0-9]+$/ {
		rows++
		size = $2; slots = $3; pages = $4
		if (size <= 0 || slots <= 0 || pages <= 0) { print "bad row: " $0; bad = 1; next }
		if (slots * size > pages * ps) { print "slots overflow the block: " $0; bad = 1 }
		if (pages * ps - slots * size >= size) { print "block tail holds another slot: " $0; bad = 1 }
	}
	END { if (!rows) { print "no types"; bad = 1 }; exit bad }' "$f" ||
		zb_fail "$dev: type table not derived for PAGE_SIZE $page (see above; $f)"
	zb_info "$dev: $(awk '$1 ~ /^[0-9]+$/' "$f" | wc -l) types; largest: $(awk '$1 ~ /^[0-9]+$/ { l = $2 " B x " $3 " in " $4 " page(s)" } END { print l }' "$f")"
	pages=$(awk '$1 == "total" { print $8 }' "$f")
	used=$(zb_mm "$dev" mem_used_total)
	meta=$(zb_mm "$dev" metadata_bytes)
	zb_expect_eq "$dev mem_used_total (bytes) vs (classes total pages + metadata_bytes rounded up to pages) x PAGE_SIZE" \
		"$used" $(( (pages + (meta + page - 1) / page) * page))
}

# fio_matrix DEV: verified I/O with blocks below, at and above PAGE_SIZE
fio_matrix() {
	local o="--filename=/dev/$1 --size=24M $ZB_FIO_VERIFY"
	zb_step "direct random write+verify, bs=4k"
	# shellcheck disable=SC2086
	zb_fio d4k $o --direct=1 --rw=randwrite --bs=4k --size=8M
	zb_step "direct random write+verify, bs=$page (PAGE_SIZE)"
	# shellcheck disable=SC2086
	zb_fio dpage $o --direct=1 --rw=randwrite --bs=$page
	zb_step "direct sequential write+verify, bs=64k, 2 jobs"
	# shellcheck disable=SC2086
	zb_fio d64k $o --direct=1 --rw=write --bs=64k --numjobs=2 --offset_increment=24M
	zb_step "buffered write bs=$page, fsync; drop caches; verify"
	# shellcheck disable=SC2086
	zb_fio bw $o --direct=0 --rw=randwrite --bs=$page --do_verify=0 --end_fsync=1
	zb_drop_caches
	# shellcheck disable=SC2086
	zb_fio bv $o --direct=0 --rw=randwrite --bs=$page --verify_only=1
}

cg_setup() {
	grep -q " $CG cgroup2 " /proc/mounts || mount -t cgroup2 none $CG ||
		zb_fail "cannot mount cgroup2 on $CG"
	grep -qw memory $CG/cgroup.controllers || zb_skip "no memory cgroup controller in this kernel"
	echo +memory >$CG/cgroup.subtree_control || zb_fail "cannot enable the memory controller"
}

# slice I: 12 MiB of the corpus from offset I x 20 MiB (from a copy of its
# first 72 MiB in /tmp, outside the limited cgroup)
slice() {
	if [ ! -s /tmp/corpus72 ]; then
		corpus_file | head -c $((72 * ZB_MIB)) >/tmp/corpus72 ||
			zb_fail "decompressing the corpus failed"
	fi
	dd if=/tmp/corpus72 bs=1M skip=$(($1 * 20)) count=12 2>/dev/null
}

# swap_cycle DEV MAXMB: DEV as the only swap; 3 x 12 MiB corpus slices
# written to tmpfs from a cgroup limited to MAXMB MiB, so most go to swap;
# read back and compared; files removed; swapoff.
swap_cycle() {
	local dev=$1 max=$2 mnt=/mnt/pgswap g=$CG/zblk-pgswap i want got swkb
	mkswap /dev/$dev >/dev/null || zb_fail "mkswap /dev/$dev failed"
	swapon /dev/$dev || zb_fail "swapon /dev/$dev failed"
	mkdir -p $mnt $g
	mount -t tmpfs -o size=64M tmpfs $mnt || zb_fail "mount tmpfs failed"
	echo $((max * ZB_MIB)) >$g/memory.max || zb_fail "cannot set memory.max"
	slice 0 >/dev/null	# the corpus copy is made outside the cgroup
	: >/tmp/pgswap.md5
	for i in 1 2 3; do
		# the writers run in the limited cgroup: the tmpfs pages are charged there
		echo $$ >$g/cgroup.procs || zb_fail "cannot join $g"
		slice $i >$mnt/f$i || zb_fail "writing $mnt/f$i in the cgroup failed"
		echo $$ >$CG/cgroup.procs || zb_fail "cannot leave $g"
		zb_expect_eq "size of $mnt/f$i" "$(wc -c <$mnt/f$i)" $((12 * ZB_MIB))
		echo "$(zb_md5 <$mnt/f$i)" >>/tmp/pgswap.md5
	done
	swkb=$(zb_swap_kb)
	zb_info "$dev: swap used $((swkb / 1024)) MiB with memory.max=${max}M"
	zb_expect_ge "swap used (kB) with 36 MiB of tmpfs in a ${max}M cgroup" "$swkb" $(((36 - max - 8) * 1024))
	zb_expect_gt "$dev orig_data_size while swapped out" "$(zb_mm $dev orig_data_size)" 0
	for i in 1 2 3; do
		want=$(sed -n "${i}p" /tmp/pgswap.md5)
		got=$(slice $i | zb_md5)
		zb_expect_str "md5 of $mnt/f$i when written vs the corpus slice" "$want" "$got"
		got=$(zb_md5 <$mnt/f$i)
		zb_expect_str "md5 of $mnt/f$i after swapping" "$got" "$want"
	done
	rm -f $mnt/f1 $mnt/f2 $mnt/f3
	umount $mnt || zb_fail "umount $mnt failed"
	# swapoff swaps in what is left, charged to the cgroup: lift its limit
	echo max >$g/memory.max
	swapoff /dev/$dev || zb_fail "swapoff /dev/$dev failed"
	rmdir $g
}

cg_setup

zb_step "control: zram as swap on this kernel"
modprobe zram num_devices=1 || zb_fail "modprobe zram failed"
echo lz4 >/sys/block/zram0/comp_algorithm
echo 128M >/sys/block/zram0/disksize || zb_fail "zram0 disksize"
swap_cycle zram0 16
zb_show_mm zram0
# the swap header (page 0, written by mkswap) stays; every slot is freed
zb_expect_le "zram0 orig_data_size after swapoff (only the swap header page left)" \
	"$(zb_mm zram0 orig_data_size)" "$page"
echo 1 >/sys/block/zram0/reset
rmmod zram

for unit in 4096 16384; do
	if [ "$unit" -lt "$page" ]; then rel="below PAGE_SIZE"
	elif [ "$unit" -eq "$page" ]; then rel="one page"
	else rel="$((unit / page)) pages"
	fi
	zb_step "unit_size=$unit ($rel)"
	zb_load num_devices=1
	zb_setup zblk0 "$unit" lz4 128M
	zb_info "queue: logical_block_size $(cat /sys/block/zblk0/queue/logical_block_size)" \
		"physical_block_size $(cat /sys/block/zblk0/queue/physical_block_size)" \
		"optimal_io_size $(cat /sys/block/zblk0/queue/optimal_io_size)"
	fio_matrix zblk0
	zb_show_mm zblk0
	classes_check zblk0
	zb_reset zblk0

	zb_step "unit_size=$unit: swap under a 16M memory cgroup"
	zb_setup zblk0 "$unit" lz4 128M
	swap_cycle zblk0 16
	zb_show_mm zblk0
	zb_expect_le "zblk0 orig_data_size after swapoff (every swap slot freed; the header page stays)" \
		"$(zb_mm zblk0 orig_data_size)" "$page"
	zb_expect_le "zblk0 compr_data_size after swapoff" "$(zb_mm zblk0 compr_data_size)" "$page"
	zb_reset zblk0
	zb_unload
done
zb_pass
