#!/bin/sh
# Rig self-test: must pass. Checks what the rig promises a guest script:
# lib.sh, /files, modprobe zblk (not loaded at start), the tools, and a real
# block device round trip (brd + ext4 + fsck, swap).
. /lib/zblk/lib.sh

section "environment"
check_eq 0 "$(id -u)" "uid"
check test -r /lib/zblk/lib.sh
check grep -q " /sys/kernel/debug " /proc/mounts
for t in fio mkfs.ext4 fsck.ext4 mkswap swapon swapoff blkdiscard fstrim zstd; do
	command -v "$t" >/dev/null || fail "$t not on PATH"
done
# util-linux's mkswap, not busybox's
check_contains "$(mkswap --version 2>&1)" "util-linux" "mkswap --version"

section "/files"
for f in /files/*.sha256; do
	[ -e "$f" ] || fail "no /files/*.sha256 (run with --file DATA --file DATA.sha256)"
	data=/files/$(basename "$f" .sha256)
	check_eq "$(cut -d' ' -f1 "$f")" "$(sha256sum "$data" | cut -d' ' -f1)" "sha256 of $data"
	check_fails sh -c "echo x >>$data"
done

section "modprobe zblk"
lsmod | grep -q '^zblk ' && fail "zblk is loaded before the script ran"
dmesg_mark load
need_module zblk num_devices=3
check_eq 3 "$(cat /sys/module/zblk/parameters/num_devices)" "num_devices"
check_dmesg_has 'num_devices=3' "load message"
check rmmod zblk
lsmod | grep -q '^zblk ' && fail "zblk still loaded after rmmod"

section "loop + ext4 + discard + swap"
need_module loop
check truncate -s 64M /tmp/disk.img
dev=$(losetup -f --show /tmp/disk.img) || fail "losetup failed"
check mkfs.ext4 -q -F "$dev"
check mkdir -p /mnt/t
check mount -t ext4 "$dev" /mnt/t
check dd if=/dev/urandom of=/mnt/t/x bs=1M count=8
sum1=$(sha256sum /mnt/t/x | cut -d' ' -f1)
check umount /mnt/t
check fsck.ext4 -fn "$dev"
check mount -t ext4 "$dev" /mnt/t
check_eq "$sum1" "$(sha256sum /mnt/t/x | cut -d' ' -f1)" "sha256 of the file after remount"
check rm /mnt/t/x
check fstrim /mnt/t
check umount /mnt/t
check blkdiscard -f "$dev"
check mkswap "$dev"
check swapon "$dev"
check grep -q "$dev" /proc/swaps
check swapoff "$dev"
check losetup -d "$dev"

section "brd + fio"
need_module brd rd_nr=1 rd_size=16384
check fio --name=rig --filename=/dev/ram0 --direct=1 --rw=randwrite --bs=4k --size=16M --io_size=2M --verify=crc32c --output=/tmp/fio.log
check rmmod brd
pass "rig ok"
