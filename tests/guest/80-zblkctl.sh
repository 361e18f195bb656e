#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 600 --file tools/zblkctl --file VERSION
#
# 80-zblkctl: tools/zblkctl against the real module, as a user runs it:
# --find --size sets up a device with the algorithm and unit size asked for,
# the listing shows it (swap as [SWAP], a mounted ext4 by its mount point),
# --json is well-formed, a setup the kernel refuses leaves the device as it
# was, --reset of a device in use is refused, and --find adds a device when
# none is free. The host test tests/host/20-zblkctl.sh covers the formats.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

mkdir -p /tmp/zc
cp /files/zblkctl /tmp/zc/zblkctl && cp /files/VERSION /tmp/VERSION || zb_fail "cannot copy zblkctl"
chmod +x /tmp/zc/zblkctl
zc() { bash /tmp/zc/zblkctl "$@"; }

zb_step "--version and no devices listed before setup"
check_eq "zblkctl from zblk $(cat /tmp/VERSION)" "$(zc --version)" "--version"
zb_load num_devices=1
check_eq "$(cat /tmp/VERSION)" "$(cat /sys/module/zblk/version)" "the module's version (modinfo)"
check_eq "" "$(zc)" "listing with no device set up"

zb_step "--find --size --algorithm --unit-size"
dev=$(zc --find --size 64M --algorithm zstd --unit-size 16K) || zb_fail "zblkctl --find failed: $dev"
check_eq /dev/zblk0 "$dev" "device found"
check_eq 67108864 "$(zb_attr zblk0 disksize)" "disksize"
check_eq 16384 "$(zb_attr zblk0 unit_size)" "unit_size"
check_contains "$(zb_attr zblk0 comp_algorithm)" "[zstd]" "comp_algorithm"
check mkswap /dev/zblk0
check swapon /dev/zblk0

zb_step "a second device: --find adds one, ext4 on it"
dev=$(zc --find --size 32M -a lz4 -p '' 2>&1) && zb_fail "empty --algorithm-params accepted: $dev"
dev=$(zc --find --size 32M -a lz4) || zb_fail "zblkctl --find (hot_add) failed: $dev"
check_eq /dev/zblk1 "$dev" "device added by --find"
check mkfs.ext4 -q /dev/zblk1
check mkdir -p /mnt/z1
check mount /dev/zblk1 /mnt/z1
check dd if=/dev/urandom of=/mnt/z1/f bs=64k count=16
check sync

zb_step "listing"
out=$(zc --raw -n -o NAME,ALGORITHM,UNIT-SIZE,MOUNTPOINT)
info "$out"
check_eq "/dev/zblk0 zstd 16384 [SWAP]
/dev/zblk1 lz4 4096 /mnt/z1" "$out" "zblkctl --raw listing"
out=$(zc --bytes --raw -n -o NAME,DISKSIZE /dev/zblk1)
check_eq "/dev/zblk1 33554432" "$out" "--bytes disksize"
data=$(zc --bytes --raw -n -o DATA /dev/zblk1)
check_num "$data" -gt 1000000 "DATA of zblk1 after writing 1 MiB of random data"
json=$(zc --json)
check_contains "$json" '"zblkdevices": [' "--json"
check_contains "$json" '"name":"/dev/zblk1"' "--json device"
check_contains "$json" '"mountpoint":"[SWAP]"' "--json swap"

zb_step "a setup the kernel refuses leaves the device as it was"
id=$(cat /sys/class/zblk-control/hot_add) || zb_fail "hot_add"
d=zblk$id
out=$(zc --size 32M --algorithm zstd --unit-size 16K --algorithm-params level=99 /dev/$d 2>&1) &&
	zb_fail "level=99 accepted: $out"
info "refused: $out"
check_eq 0 "$(zb_attr $d initstate)" "initstate after a refused setup"
check_eq 4096 "$(zb_attr $d unit_size)" "unit_size put back"
check_contains "$(zb_attr $d comp_algorithm)" "[lz4]" "comp_algorithm put back"
out=$(zc --size 64Q /dev/$d 2>&1) && zb_fail "size 64Q accepted"
check_contains "$out" "invalid size" "message for 64Q"

zb_step "--reset of a device in use is refused, then works"
out=$(zc --reset /dev/zblk0 2>&1) && zb_fail "--reset of a swap device succeeded"
check_contains "$out" "in use" "--reset message"
check_eq 1 "$(zb_attr zblk0 initstate)" "zblk0 still set up"
check swapoff /dev/zblk0
check zc --reset /dev/zblk0
check_eq 0 "$(zb_attr zblk0 initstate)" "zblk0 after --reset"
check umount /mnt/z1
check zc --reset /dev/zblk1 /dev/$d
check_eq "" "$(zc)" "listing after reset"
zb_pass
