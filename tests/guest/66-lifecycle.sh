#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --smp 2 --timeout 900 --file @CORPUS@
#
# 66-lifecycle: what a device leaves behind when it is reset, removed or
# unloaded, and what races with that.
# - memory: after corpus data on a 4K-unit lz4 and a 16K-unit zstd device,
#   reset and rmmod, the system has its memory back (MemFree plus per-CPU free
#   pages, and Slab, measured by the kernel, not zblk's counters), within
#   3 MiB and 1 MiB (zb_settle shrinks every slab cache before each reading:
#   on KASAN kernels freed objects wait in a quarantine that Slab still
#   counts, and 2 MiB of it failed the check on the debug kernel); the same measurement saw at least 80% of mem_used_total
#   go while the data was stored, so it can see a leak;
# - after reset and a new disksize (4K and 16K units) the whole device reads
#   back as zeroes and mm_stat is zero;
# - a sysfs attribute and a debugfs file held open across hot_remove: reading
#   and writing them afterwards fails, nothing else happens;
# - for RACE_SECS seconds (default 15): reset, hot_remove and hot_add race
#   with writes and discards, compaction (compact) and the shrinker
#   (drop_caches 2); the devices left afterwards work;
# - for RACE_SECS seconds: rmmod and modprobe race with processes opening and
#   reading the device; rmmod of a module whose device is open fails with
#   "in use" and leaves it working; at the end rmmod works;
# - the rig fails the run on any kernel BUG/WARNING/Oops/KASAN/lockdep line.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

RACE_SECS=${RACE_SECS:-15}
FAILF=/tmp/life.fail
STOPF=/tmp/life.stop
DATA=$((48 * ZB_MIB))
zb_need_corpus
rm -f $FAILF $STOPF

race_fail() { echo "$*" >>$FAILF; }
running() { [ ! -e $STOPF ]; }
try() { zb_try_write "$1" "$2" 2>/dev/null; }
zeroes_md5() { head -c "$1" /dev/zero | zb_md5; }

# fill DEV: the first DATA bytes of the corpus, O_DIRECT
fill() {
	zb_corpus | dd of="/dev/$1" bs=1M count=$((DATA / ZB_MIB)) iflag=fullblock oflag=direct 2>/dev/null ||
		zb_fail "writing $((DATA / ZB_MIB)) MiB of corpus to $1 failed"
}

# a cycle first, so that what the kernel sets up once (and keeps) is not
# counted as lost
zb_step "warm-up: load, set up, write, reset, unload"
zb_load num_devices=2
zb_setup zblk0 4096 lz4 64M
zb_setup zblk1 16384 zstd 64M
zb_corpus | dd of=/dev/zblk0 bs=1M count=4 iflag=fullblock oflag=direct 2>/dev/null
zb_corpus | dd of=/dev/zblk1 bs=1M count=4 iflag=fullblock oflag=direct 2>/dev/null
zb_reset zblk0
zb_reset zblk1
zb_unload

zb_step "memory: $((DATA / ZB_MIB)) MiB of corpus on each of two devices, reset, rmmod"
zb_settle
free0=$(zb_sys_free_kb) slab0=$(zb_slab_kb)
zb_info "before: free $free0 KiB, Slab $slab0 KiB"
zb_load num_devices=2
zb_setup zblk0 4096 lz4 64M
zb_setup zblk1 16384 zstd 64M
fill zblk0
fill zblk1
md5=$(zb_corpus | head -c $DATA | zb_md5)
zb_expect_str "md5 of zblk0" "$(zb_dev_md5 zblk0 0 $DATA direct)" "$md5"
zb_expect_str "md5 of zblk1" "$(zb_dev_md5 zblk1 0 $DATA direct)" "$md5"
zb_show_mm zblk0
zb_show_mm zblk1
used=$(( ($(zb_mm zblk0 mem_used_total) + $(zb_mm zblk1 mem_used_total)) / 1024 ))
zb_settle
free1=$(zb_sys_free_kb)
zb_info "stored: free $free1 KiB; the system lost $((free0 - free1)) KiB, mem_used_total of both $used KiB"
zb_expect_ge "KiB the system lost while the data was stored (>= 80% of mem_used_total $used KiB)" \
	$((free0 - free1)) $((used * 8 / 10))

zb_step "reset, then a new disksize: the whole device reads back as zeroes"
for u in 4096 16384; do
	zb_reset zblk0
	zb_setup zblk0 $u lz4 64M
	zb_expect_str "md5 of zblk0 (unit_size $u) after reset" \
		"$(zb_dev_md5 zblk0 0 $((64 * ZB_MIB)) direct)" "$(zeroes_md5 $((64 * ZB_MIB)))"
	for f in orig_data_size compr_data_size mem_used_total same_pages; do
		zb_expect_eq "zblk0 (unit_size $u) after reset: mm_stat $f" "$(zb_mm zblk0 $f)" 0
	done
	fill zblk0
done
zb_reset zblk0
zb_reset zblk1
zb_unload
zb_settle
free2=$(zb_sys_free_kb) slab2=$(zb_slab_kb)
zb_info "after reset and rmmod: free $free2 KiB (lost $((free0 - free2))), Slab $slab2 KiB (grew $((slab2 - slab0)))"
zb_expect_le "KiB of free memory not back after reset and rmmod" $((free0 - free2)) 3072
zb_expect_le "KiB of Slab not back after reset and rmmod" $((slab2 - slab0)) 1024

zb_step "sysfs and debugfs files held open across hot_remove"
zb_load num_devices=2
zb_setup zblk1 16384 lz4 16M
zb_corpus | dd of=/dev/zblk1 bs=1M count=4 iflag=fullblock oflag=direct 2>/dev/null
exec 5</sys/block/zblk1/mm_stat
exec 6>/sys/block/zblk1/reset
exec 7<$ZB_DEBUGFS/zblk1/classes
zb_reset zblk1
zb_write_ok $ZB_CTL/hot_remove 1
[ -e /sys/block/zblk1 ] && zb_fail "zblk1 still in /sys/block after hot_remove"
out=$(cat <&5 2>&1) && zb_fail "reading mm_stat held open across hot_remove succeeded: '$out'"
zb_info "read of the held mm_stat: $out"
out=$( { echo 1 >&6; } 2>&1) && zb_fail "writing reset held open across hot_remove succeeded"
zb_info "write of the held reset: $out"
out=$(cat <&7 2>&1) && zb_fail "reading debugfs classes held open across hot_remove succeeded: '$out'"
zb_info "read of the held debugfs classes: $out"
exec 5<&- 6>&- 7<&-
id=$(cat $ZB_CTL/hot_add) || zb_fail "hot_add after hot_remove failed"
zb_expect_eq "id from hot_add" "$id" 1

zb_step "race for ${RACE_SECS}s: reset, hot_remove, hot_add against writes, discards, compaction, shrinker"
zb_corpus | head -c $((8 * ZB_MIB)) >/tmp/pat
setter() {
	local i u=4096
	while running; do
		for i in 0 1; do
			[ -b /dev/zblk$i ] || continue
			if [ "$(cat /sys/block/zblk$i/initstate 2>/dev/null)" = 0 ]; then
				try /sys/block/zblk$i/unit_size $u
				try /sys/block/zblk$i/disksize 32M
				[ $u = 4096 ] && u=16384 || u=4096
			fi
			[ -b /dev/zblk$i ] &&
				dd if=/tmp/pat of=/dev/zblk$i bs=64k oflag=direct conv=notrunc 2>/dev/null
			[ -b /dev/zblk$i ] &&
				blkdiscard -o $((2 * ZB_MIB)) -l $((1 * ZB_MIB)) /dev/zblk$i 2>/dev/null
		done
		zb_clean_regular
	done
}
compactor() {
	local i
	while running; do
		for i in 0 1; do
			try /sys/block/zblk$i/compact 1
		done
	done
}
shrinker() {
	while running; do
		echo 2 >/proc/sys/vm/drop_caches
		sleep 0.2
	done
}
resetter() {
	local i
	while running; do
		for i in 1 0; do
			try /sys/block/zblk$i/reset 1
			sleep 0.3
		done
	done
}
remover() {
	while running; do
		sleep 1
		try $ZB_CTL/hot_remove 1
		sleep 0.5
		[ "$(zb_count_devs)" -lt 2 ] && { cat $ZB_CTL/hot_add >/dev/null 2>&1 || race_fail "hot_add failed"; }
	done
}
setter & p1=$!
compactor & p2=$!
shrinker & p3=$!
resetter & p4=$!
remover & p5=$!
sleep "$RACE_SECS"
touch $STOPF
wait $p1 $p2 $p3 $p4 $p5
zb_clean_regular
rm -f $STOPF
[ -s $FAILF ] && zb_fail "$(wc -l <$FAILF) failures in the race (first: $(head -n1 $FAILF))"
while [ "$(zb_count_devs)" -lt 2 ]; do
	cat $ZB_CTL/hot_add >/dev/null || zb_fail "hot_add failed after the race"
done
for d in zblk0 zblk1; do
	zb_reset $d
	zb_setup $d 16384 lz4 16M
	dd if=/tmp/pat of=/dev/$d bs=64k oflag=direct 2>/dev/null || zb_fail "writing $d after the race failed"
	zb_expect_str "md5 of $d after the race" "$(zb_dev_md5 $d 0 $((8 * ZB_MIB)) direct)" "$(zb_md5 </tmp/pat)"
	zb_reset $d
done
zb_unload

zb_step "race for ${RACE_SECS}s: rmmod and modprobe against processes opening the device"
zb_load num_devices=1
zb_setup zblk0 4096 lz4 16M
dd if=/tmp/pat of=/dev/zblk0 bs=64k oflag=direct 2>/dev/null || zb_fail "writing zblk0 failed"
exec 5</dev/zblk0
out=$(rmmod zblk 2>&1) && zb_fail "rmmod succeeded while /dev/zblk0 was open"
zb_info "rmmod with /dev/zblk0 open: $out"
zb_loaded || zb_fail "zblk is gone after a refused rmmod"
zb_expect_str "md5 of zblk0 after a refused rmmod" "$(zb_dev_md5 zblk0 0 $((8 * ZB_MIB)) direct)" "$(zb_md5 </tmp/pat)"
exec 5<&-
opener() {
	while running; do
		[ -b /dev/zblk0 ] && dd if=/dev/zblk0 of=/dev/null bs=4k count=8 iflag=direct 2>/dev/null
		[ -b /dev/zblk0 ] && { : <>/dev/zblk0; } 2>/dev/null
		zb_clean_regular
	done
}
cycler() {
	local n=0 m=0
	while running; do
		if zb_loaded; then
			rmmod zblk 2>/dev/null && n=$((n + 1))
		else
			modprobe zblk num_devices=1 2>/dev/null && m=$((m + 1)) ||
				race_fail "modprobe zblk failed"
			try /sys/block/zblk0/disksize 8M
		fi
	done
	echo "$n $m" >/tmp/life.cycles
}
opener & p1=$!
opener & p2=$!
cycler & p3=$!
sleep "$RACE_SECS"
touch $STOPF
wait $p1 $p2 $p3
zb_clean_regular
zb_info "rmmod/modprobe cycles (rmmod ok, modprobe ok): $(cat /tmp/life.cycles)"
[ -s $FAILF ] && zb_fail "$(wc -l <$FAILF) failures in the race (first: $(head -n1 $FAILF))"
[ "$(cut -d' ' -f1 /tmp/life.cycles)" -gt 0 ] || zb_fail "no rmmod succeeded in ${RACE_SECS}s of racing"
zb_loaded || zb_load num_devices=1
zb_unload
zb_pass
