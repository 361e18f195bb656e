#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --smp 2 --timeout 600
#
# 63-reset-remove-race: reset and hot_remove exclude each other, removal
# refuses a device that is open, and no race of reset, hot_remove, hot_add,
# disksize, mkswap/swapon, mount and I/O leaves a freed device in use.
# - a swapped-on, a mounted and a merely open device: hot_remove and reset
#   get EBUSY, and the data stays;
# - for RACE_SECS seconds (default 60) loops race on zblk0..zblk3: reset,
#   hot_remove, hot_add, disksize+mkswap+swapon (zblk0, zblk1),
#   disksize+mkfs+mount (zblk3), a holder that opens each device, and I/O
#   (writes to zblk2, reads from all). Each
#   loop that holds a device (swapon, mount, open) checks that hot_remove and
#   reset of it fail with EBUSY while it does, and that the device it holds
#   (its sysfs directory, by inode) is still there when it lets go;
# - the rig fails the run on any kernel BUG/WARNING/Oops;
# - afterwards every remaining device resets, takes a disksize, and reads
#   back what was written; rmmod works.
# A dd that loses to hot_remove creates a regular file in devtmpfs: writers
# check [ -b ] first, such files are removed, and a device added while one
# held its name is removed and added again to get its node (renode).
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

EBUSY="Device or resource busy"
RACE_SECS=${RACE_SECS:-60}
NDEV=4
FAILF=/tmp/race.fail
STOPF=/tmp/race.stop
rm -f $FAILF $STOPF

# race_fail MSG: record a failure seen by a background loop
race_fail() { echo "$*" >>$FAILF; }
running() { [ ! -e $STOPF ]; }
# sysfs directory inode of zblkID (empty if it does not exist)
dev_ino() { stat -L -c %i "/sys/block/zblk$1" 2>/dev/null; }
# try ATTR VALUE: write, quietly; status tells
try() { zb_try_write "$1" "$2" 2>/dev/null; }
# must_busy WHAT ID: hot_remove and reset of zblkID must fail with EBUSY
must_busy() {
	local err
	if err=$(zb_write $ZB_CTL/hot_remove "$2"); then
		race_fail "$1: hot_remove of zblk$2 succeeded while it was in use"
	else
		case "$err" in
		*"$EBUSY"*) ;;
		*) race_fail "$1: hot_remove of zblk$2 failed with '$err', expected EBUSY" ;;
		esac
	fi
	if err=$(zb_write /sys/block/zblk$2/reset 1); then
		race_fail "$1: reset of zblk$2 succeeded while it was in use"
	else
		case "$err" in
		*"$EBUSY"*) ;;
		*) race_fail "$1: reset of zblk$2 failed with '$err', expected EBUSY" ;;
		esac
	fi
}

# renode: a device added while a dd's regular file held its name in /dev
# got no node (devtmpfs does not replace a file, and the race's last
# hot_add can come after its last dd). Once zb_clean_regular has removed
# the file, remove and add such a device again so that it gets one.
renode() {
	local d dev
	for d in /sys/block/zblk*; do
		[ -e "$d" ] || continue
		dev=${d##*/}
		[ -b /dev/$dev ] && continue
		zb_info "$dev has no node in /dev: removing and adding it again"
		zb_write_ok $ZB_CTL/hot_remove ${dev#zblk}
		zb_expect_eq "id from hot_add" "$(cat $ZB_CTL/hot_add)" ${dev#zblk}
		[ -b /dev/$dev ] || zb_fail "/dev/$dev is not a block device after hot_add"
	done
}

zb_load num_devices=$NDEV
head -c $((256 * 1024)) /dev/urandom >/tmp/pat

zb_step "a swapped-on device: hot_remove and reset get EBUSY"
zb_setup zblk0 4096 lz4 32M
check mkswap /dev/zblk0
check swapon /dev/zblk0
zb_write_err $ZB_CTL/hot_remove 0 "$EBUSY"
zb_write_err /sys/block/zblk0/reset 1 "$EBUSY" /sys/block/zblk0/initstate
grep -q '^/dev/zblk0 ' /proc/swaps || zb_fail "zblk0 is no longer in /proc/swaps"
check swapoff /dev/zblk0

zb_step "a mounted device: hot_remove and reset get EBUSY, the data stays"
zb_setup zblk1 16384 lz4 32M
check mkfs.ext4 -q -F /dev/zblk1
mkdir -p /mnt/r
check mount -t ext4 /dev/zblk1 /mnt/r
cp /tmp/pat /mnt/r/pat || zb_fail "cp to the mounted zblk1 failed"
zb_write_err $ZB_CTL/hot_remove 1 "$EBUSY"
zb_write_err /sys/block/zblk1/reset 1 "$EBUSY" /sys/block/zblk1/initstate
sync
zb_drop_caches
cmp /tmp/pat /mnt/r/pat || zb_fail "the file on zblk1 changed after refused hot_remove/reset"
check umount /mnt/r

zb_step "an open device: hot_remove gets EBUSY; closed, it is removed"
exec 3<>/dev/zblk2
zb_write_err $ZB_CTL/hot_remove 2 "$EBUSY"
[ -d /sys/block/zblk2 ] || zb_fail "zblk2 vanished after a refused hot_remove"
exec 3<&-
zb_write_ok $ZB_CTL/hot_remove 2
[ -e /sys/block/zblk2 ] && zb_fail "zblk2 still in /sys/block after hot_remove"
# What a dd that loses to hot_remove does: a regular file takes the name,
# and the device added next gets no node; renode (used after the race)
# mends that.
echo x >/dev/zblk2
id=$(cat $ZB_CTL/hot_add) || zb_fail "hot_add failed"
zb_expect_eq "id from hot_add" "$id" 2
[ -b /dev/zblk2 ] || zb_info "zblk2 added with a regular file at /dev/zblk2: no node, as expected"
zb_clean_regular
renode
[ -b /dev/zblk2 ] || zb_fail "/dev/zblk2 is not a block device after renode"
zb_reset zblk0
zb_reset zblk1

zb_step "race for ${RACE_SECS}s: reset, hot_remove, hot_add, swapon, mount, open, I/O"

resetter() {
	local i
	while running; do
		for i in 0 1 2 3; do
			try /sys/block/zblk$i/reset 1
		done
	done
}

remover() {
	local i
	while running; do
		for i in 3 1 2 0; do
			try $ZB_CTL/hot_remove $i
			sleep 0.05
		done
	done
}

adder() {
	while running; do
		[ "$(zb_count_devs)" -lt $NDEV ] && cat $ZB_CTL/hot_add >/dev/null 2>&1
		sleep 0.02
	done
}

# Each device has one user that writes it (swap, ext4 or raw I/O), so that
# none writes over another's swap area or file system.
swapper() {
	local i ino
	while running; do
		for i in 0 1; do
			[ -b /dev/zblk$i ] || continue
			try /sys/block/zblk$i/disksize 16M
			mkswap /dev/zblk$i >/dev/null 2>&1 || continue
			swapon /dev/zblk$i 2>/dev/null || continue
			ino=$(dev_ino $i)
			grep -q "^/dev/zblk$i " /proc/swaps ||
				race_fail "swapon /dev/zblk$i succeeded but it is not in /proc/swaps"
			must_busy swapon $i
			[ -n "$ino" ] && [ "$(dev_ino $i)" = "$ino" ] ||
				race_fail "zblk$i was removed while swapped on (ino '$ino' -> '$(dev_ino $i)')"
			swapoff /dev/zblk$i || race_fail "swapoff /dev/zblk$i failed"
		done
	done
}

mounter() {
	local i ino mnt=/mnt/race
	mkdir -p $mnt
	while running; do
		for i in 3; do
			[ -b /dev/zblk$i ] || continue
			try /sys/block/zblk$i/disksize 16M
			mkfs.ext4 -q -F /dev/zblk$i >/dev/null 2>&1 || continue
			mount -t ext4 /dev/zblk$i $mnt 2>/dev/null || continue
			ino=$(dev_ino $i)
			dd if=/tmp/pat of=$mnt/f bs=64k 2>/dev/null
			must_busy mount $i
			[ -n "$ino" ] && [ "$(dev_ino $i)" = "$ino" ] ||
				race_fail "zblk$i was removed while mounted (ino '$ino' -> '$(dev_ino $i)')"
			umount $mnt || race_fail "umount of zblk$i failed"
		done
	done
}

holder() {
	local i ino
	while running; do
		for i in 1 0 3 2; do
			[ -b /dev/zblk$i ] || continue
			# a failed redirection of a group fails the group only
			{
				ino=$(dev_ino $i)
				dd if=/dev/zblk$i of=/dev/null bs=4k count=4 2>/dev/null
				must_busy open $i
				sleep 0.1
				[ -n "$ino" ] && [ "$(dev_ino $i)" = "$ino" ] ||
					race_fail "zblk$i was removed while held open (ino '$ino' -> '$(dev_ino $i)')"
			} 4</dev/zblk$i 2>/dev/null
		done
	done
}

io() {
	local i
	while running; do
		for i in 2 0 3 1; do
			[ -b /dev/zblk$i ] || continue
			[ $i = 2 ] &&
				dd if=/tmp/pat of=/dev/zblk$i bs=4k count=16 oflag=direct conv=notrunc 2>/dev/null
			[ -b /dev/zblk$i ] &&
				dd if=/dev/zblk$i of=/dev/null bs=4k count=16 iflag=direct 2>/dev/null
		done
		zb_clean_regular
	done
}

resetter & p1=$!
remover & p2=$!
adder & p3=$!
swapper & p4=$!
mounter & p5=$!
holder & p6=$!
io & p7=$!
t=0
while [ $t -lt "$RACE_SECS" ]; do
	sleep 5
	t=$((t + 5))
	zb_info "${t}s: $(zb_count_devs) devices; $(grep -c zblk /proc/swaps) swapped on; $(grep -c zblk /proc/mounts) mounted; $( [ -e $FAILF ] && wc -l <$FAILF || echo 0) failures"
done
touch $STOPF
wait $p1 $p2 $p3 $p4 $p5 $p6 $p7
zb_clean_regular

if [ -s $FAILF ]; then
	sort $FAILF | uniq -c | head -n 20
	zb_fail "$(wc -l <$FAILF) failures during the race (first: $(head -n1 $FAILF))"
fi
grep -q zblk /proc/swaps && zb_fail "a zblk device is still swapped on: $(grep zblk /proc/swaps)"
grep -q zblk /proc/mounts && zb_fail "a zblk device is still mounted: $(grep zblk /proc/mounts)"
grep -q '^Shmem:' /proc/meminfo && zb_info "$(grep '^Shmem:' /proc/meminfo)"

renode

zb_step "the devices that remain work"
n=0
for d in /sys/block/zblk*; do
	[ -e "$d" ] || continue
	dev=${d##*/}
	n=$((n + 1))
	zb_reset $dev
	zb_setup $dev 4096 lz4 8M
	dd if=/tmp/pat of=/dev/$dev bs=64k oflag=direct 2>/dev/null || zb_fail "writing to $dev failed"
	zb_drop_caches
	zb_expect_str "md5 of $dev" "$(dd if=/dev/$dev bs=64k count=4 iflag=direct 2>/dev/null | zb_md5)" "$(zb_md5 </tmp/pat)"
	zb_reset $dev
done
zb_info "$n devices checked"
while [ "$(zb_count_devs)" -lt $NDEV ]; do
	cat $ZB_CTL/hot_add >/dev/null || zb_fail "hot_add failed after the race"
done
zb_unload
zb_clean_regular
zb_pass
