#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 600 --file @CORPUS@
#
# 01-load: loading and unloading zblk.
# - num_devices=0,1,2,4 (and the default, 1) create exactly that many
#   /dev/zblkN and /sys/block/zblkN, numbered from 0; unload removes them;
# - 8 load/unload cycles;
# - bad values (-1, abc, 100000, empty) are refused: modprobe fails, a message
#   naming num_devices is in dmesg, the module is not loaded, no device exists;
# - unload works with devices configured and holding data, and the next load
#   starts from fresh, uninitialised devices;
# - unload is refused while a device is open.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

# check_devs N: exactly zblk0..zblk(N-1), as block nodes and in sysfs
check_devs() {
	local n=$1 i=0
	zb_expect_eq "number of /sys/block/zblk*" "$(zb_count_devs)" "$n"
	zb_expect_eq "number of /dev/zblk* block nodes" "$(zb_count_nodes)" "$n"
	while [ $i -lt "$n" ]; do
		[ -d /sys/block/zblk$i ] || zb_fail "/sys/block/zblk$i missing with num_devices=$n"
		[ -b /dev/zblk$i ] || zb_fail "/dev/zblk$i missing with num_devices=$n"
		zb_expect_str "zblk$i initstate" "$(cat /sys/block/zblk$i/initstate)" 0
		zb_expect_str "zblk$i disksize" "$(cat /sys/block/zblk$i/disksize)" 0
		i=$((i + 1))
	done
}

zb_loaded && zb_fail "zblk is loaded before the test loaded it"

for n in 0 1 2 4; do
	zb_step "modprobe zblk num_devices=$n"
	zb_load num_devices=$n
	check_devs $n
	zb_unload
done

zb_step "modprobe zblk (default num_devices: 1, as zram)"
zb_load
check_devs 1
zb_unload

zb_step "8 load/unload cycles with num_devices=2"
c=1
while [ $c -le 8 ]; do
	zb_load num_devices=2
	check_devs 2
	zb_unload
	c=$((c + 1))
done
zb_info "8 cycles done"

for bad in -1 abc 100000 '' 2x; do
	zb_step "modprobe zblk num_devices='$bad' must be refused"
	dmesg_mark "num_devices=$bad"
	if out=$(modprobe zblk num_devices="$bad" 2>&1); then
		zb_fail "modprobe zblk num_devices='$bad' succeeded"
	fi
	zb_info "modprobe said: $out"
	zb_loaded && zb_fail "zblk is loaded after num_devices='$bad' was refused"
	zb_expect_eq "devices after refused num_devices='$bad'" "$(zb_count_devs)" 0
	check_dmesg_has 'num_devices' "kernel message for num_devices='$bad'"
	msg=$(dmesg_since_mark | grep 'num_devices' | head -n 3)
	zb_info "dmesg: $msg"
done

zb_step "unload with devices configured and holding data"
zb_need_corpus
zb_load num_devices=3
zb_setup zblk0 4096 lz4 64M
zb_setup zblk1 16384 zstd 64M
zb_corpus | head -c 4194304 | dd of=/dev/zblk0 bs=1M 2>/dev/null || zb_fail "writing to zblk0 failed"
zb_corpus | head -c 4194304 | dd of=/dev/zblk1 bs=1M seek=8 2>/dev/null || zb_fail "writing to zblk1 failed"
sync
zb_expect_eq "zblk0 orig_data_size" "$(zb_mm zblk0 orig_data_size)" 4194304
zb_expect_eq "zblk1 orig_data_size" "$(zb_mm zblk1 orig_data_size)" 4194304
id=$(cat $ZB_CTL/hot_add) || zb_fail "hot_add failed"
zb_info "hot_add gave zblk$id"
zb_setup "zblk$id" 4096 zstd 32M
zb_unload
zb_step "load again: devices are fresh"
zb_load num_devices=2
check_devs 2
zb_expect_eq "zblk0 orig_data_size after reload" "$(zb_mm zblk0 orig_data_size)" 0
zb_unload

zb_step "unload while a device is open must fail"
zb_load num_devices=1
zb_setup zblk0 4096 lz4 16M
exec 3</dev/zblk0
if rmmod zblk 2>/dev/null; then
	zb_fail "rmmod zblk succeeded while /dev/zblk0 was open"
fi
zb_loaded || zb_fail "zblk vanished although rmmod failed"
[ -b /dev/zblk0 ] || zb_fail "/dev/zblk0 vanished although rmmod failed"
exec 3<&-
zb_unload

zb_pass
