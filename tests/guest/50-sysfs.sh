#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 600
#
# 50-sysfs: every attribute of /sys/block/zblkN and /sys/class/zblk-control
# with good and bad input, as a user's shell sees it.
# - bad input (empty, garbage, negative, overflowing, trailing garbage, a
#   4096-byte write) is refused with EINVAL and changes nothing;
# - mem_limit near U64_MAX is refused (not wrapped to 0 = no limit); what is
#   accepted reads back, rounded up to pages, as the limit enforced;
# - settings that need an uninitialised device (unit_size, comp_algorithm,
#   disksize) get EBUSY once disksize is set, and change nothing;
# - reset of an open, mounted or swapped-on device gets EBUSY and the data
#   stays; reset of an idle device clears it;
# - comp_algorithm lists lz4 lz4hc zstd with the selected one in brackets;
#   algorithm_params takes level=N for zstd and lz4hc, not for lz4;
# - mem_used_max is reset to the current use by writing 0;
# - hot_add returns a new id and the device appears; hot_remove removes it,
#   refuses garbage, unknown ids and open devices;
# - read-only attributes refuse writes; debugfs classes exists.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

EINVAL="Invalid argument"
EBUSY="Device or resource busy"
BIG=99999999999999999999999
D=/sys/block/zblk0

# bad_values ATTR SHOW VALUE...: each VALUE must be refused with EINVAL
bad_values() {
	local attr=$1 show=$2 v
	shift 2
	for v in "$@"; do
		zb_write_err "$attr" "$v" "$EINVAL" "$show"
	done
}

# selected ATTR -> the bracketed entry of comp_algorithm
selected() { sed -n 's/.*\[\([^]]*\)\].*/\1/p' "$1"; }

check_algorithm_list() {
	local s=$1 want=$2 list n
	list=$(cat "$s")
	for a in lz4 lz4hc zstd; do
		echo " $list " | tr -d '[]' | grep -q " $a " || zb_fail "comp_algorithm '$list' does not list $a"
	done
	n=$(echo "$list" | tr -cd '[' | wc -c)
	zb_expect_eq "bracket pairs in comp_algorithm '$list'" "$n" 1
	zb_expect_str "selected algorithm in '$list'" "$(selected "$s")" "$want"
}

zb_load num_devices=1

zb_step "attributes exist"
for a in disksize initstate reset comp_algorithm algorithm_params unit_size mem_limit \
	mem_used_max mm_stat io_stat debug_stat compact; do
	[ -e $D/$a ] || zb_fail "$D/$a missing"
done
[ -e $ZB_CTL/hot_add ] || zb_fail "$ZB_CTL/hot_add missing"
[ -e $ZB_CTL/hot_remove ] || zb_fail "$ZB_CTL/hot_remove missing"

zb_step "initial values of an uninitialised device"
zb_expect_str "initstate" "$(cat $D/initstate)" 0
zb_expect_str "disksize" "$(cat $D/disksize)" 0
zb_expect_str "unit_size" "$(cat $D/unit_size)" 4096
check_algorithm_list $D/comp_algorithm "$(selected $D/comp_algorithm)"
zb_info "comp_algorithm: $(cat $D/comp_algorithm)"
n=$(wc -w <$D/mm_stat)
zb_expect_ge "mm_stat fields" "$n" 9
for f in $ZB_MM_FIELDS; do
	zb_expect_eq "uninitialised mm_stat $f" "$(zb_mm zblk0 $f)" 0
done
zb_expect_ge "io_stat fields" "$(wc -w <$D/io_stat)" 4
for f in $ZB_IO_FIELDS; do
	zb_expect_eq "uninitialised io_stat $f" "$(zb_io zblk0 $f)" 0
done
cat $D/debug_stat >/dev/null || zb_fail "reading debug_stat failed"

zb_step "unit_size: good and bad values"
bad_values $D/unit_size $D/unit_size "" abc -1 -4096 0 1 512 4095 4097 8192 32768 65536 \
	4096abc "4096 16384" $BIG 18446744073709555712
zb_write_bad_big $D/unit_size 1
zb_write_bad_big $D/unit_size x
zb_write_ok $D/unit_size 16384
zb_expect_str "unit_size" "$(cat $D/unit_size)" 16384
printf 4096 >$D/unit_size || zb_fail "writing '4096' without a newline to unit_size failed"
zb_expect_str "unit_size" "$(cat $D/unit_size)" 4096

zb_step "comp_algorithm: good and bad values, brackets"
for a in lz4 zstd lz4hc; do
	zb_write_ok $D/comp_algorithm $a
	check_algorithm_list $D/comp_algorithm $a
done
printf zstd >$D/comp_algorithm || zb_fail "writing 'zstd' without a newline to comp_algorithm failed"
check_algorithm_list $D/comp_algorithm zstd
bad_values $D/comp_algorithm $D/comp_algorithm "" lz5 zstdx lz "lz4 zstd" "[lz4]" -1 $BIG
zb_write_bad_big $D/comp_algorithm a
check_algorithm_list $D/comp_algorithm zstd

zb_step "algorithm_params: level=N for zstd and lz4hc, refused for lz4"
zb_write_ok $D/comp_algorithm lz4
bad_values $D/algorithm_params $D/algorithm_params level=1 level=9
zb_write_ok $D/comp_algorithm zstd
zb_write_ok $D/algorithm_params level=1
zb_write_ok $D/algorithm_params level=19
bad_values $D/algorithm_params $D/algorithm_params "" abc level= level=abc level=3x level=100 \
	"level=$BIG" foo=1 "level=3 foo=1" =3
zb_write_bad_big $D/algorithm_params 9
zb_write_ok $D/comp_algorithm lz4hc
zb_write_ok $D/algorithm_params level=9
bad_values $D/algorithm_params $D/algorithm_params level=100 level=-99999 "level=$BIG" level=
zb_info "algorithm_params read: '$(cat $D/algorithm_params 2>/dev/null)' (write-only in zram)"

zb_step "mem_limit: good and bad values (seen in mm_stat field mem_limit)"
bad_values $D/mem_limit $D/mm_stat "" abc -1 -8M 12abc 8Q $BIG 18446744073709551616
zb_write_bad_big $D/mem_limit 9
zb_write_ok $D/mem_limit 8M
zb_expect_eq "mm_stat mem_limit after writing 8M" "$(zb_mm zblk0 mem_limit)" 8388608
zb_write_ok $D/mem_limit 0
zb_expect_eq "mm_stat mem_limit after writing 0" "$(zb_mm zblk0 mem_limit)" 0

zb_step "mem_limit near U64_MAX: refused unless its page count reads back exactly"
# The largest limit is the last whole page below 2^64; anything above it
# (rounded up to pages) does not fit and must be refused, not wrap to 0.
PG=$(zb_page_size)
# 2^64 - PG and 2^64 - PG + 1 (too big for the shell's arithmetic)
case "$PG" in
4096) MAXLIM=18446744073709547520 OVER=18446744073709547521 ;;
16384) MAXLIM=18446744073709535232 OVER=18446744073709535233 ;;
65536) MAXLIM=18446744073709486080 OVER=18446744073709486081 ;;
*) zb_fail "unexpected page size '$PG'" ;;
esac
zb_write_ok $D/mem_limit 8M
for v in 18446744073709551615 18446744073709551614 $OVER 16E 17179869184G \
	16777216T 0xffffffffffffffff; do
	zb_write_err $D/mem_limit "$v" "$EINVAL" $D/mem_limit
	zb_expect_eq "mm_stat mem_limit after refused '$v'" "$(zb_mm zblk0 mem_limit)" 8388608
done
for v in "$MAXLIM:$MAXLIM" "15E:17293822569102704640" \
	"17179869183G:18446744072635809792" "16777215T:18446742974197923840" \
	"$((8 * 1048576 + 1)):$((8 * 1048576 + PG))"; do
	zb_write_ok $D/mem_limit "${v%%:*}"
	zb_expect_str "mem_limit after writing ${v%%:*}" "$(cat $D/mem_limit)" "${v#*:}"
	zb_expect_str "mm_stat mem_limit after writing ${v%%:*}" "$(zb_mm zblk0 mem_limit)" "${v#*:}"
done
zb_write_ok $D/mem_limit 0
zb_expect_eq "mm_stat mem_limit after writing 0" "$(zb_mm zblk0 mem_limit)" 0

zb_step "disksize: bad values leave the device uninitialised"
zb_write_ok $D/comp_algorithm zstd
bad_values $D/disksize $D/disksize "" abc 0 -1 -64M 12abc 64Mx 64MM $BIG 18446744073709551616 16E
zb_write_bad_big $D/disksize 9
zb_expect_str "initstate after refused disksizes" "$(cat $D/initstate)" 0
zb_expect_str "disksize after refused disksizes" "$(cat $D/disksize)" 0

zb_step "disksize=64M initialises; settings that need an uninitialised device get EBUSY"
zb_write_ok $D/disksize 64M
zb_expect_str "disksize" "$(cat $D/disksize)" 67108864
zb_expect_str "initstate" "$(cat $D/initstate)" 1
zb_write_err $D/disksize 128M "$EBUSY"
zb_write_err $D/unit_size 16384 "$EBUSY"
zb_write_err $D/unit_size 4096 "$EBUSY"
zb_write_err $D/comp_algorithm lz4 "$EBUSY"
check_algorithm_list $D/comp_algorithm zstd
[ -r $ZB_DEBUGFS/zblk0/classes ] || zb_fail "$ZB_DEBUGFS/zblk0/classes missing for an initialised device"
[ "$(wc -l <$ZB_DEBUGFS/zblk0/classes)" -ge 2 ] || zb_fail "debugfs classes has no rows: $(cat $ZB_DEBUGFS/zblk0/classes)"
zb_info "debugfs classes: $(wc -l <$ZB_DEBUGFS/zblk0/classes) lines; header: $(head -n1 $ZB_DEBUGFS/zblk0/classes)"

zb_step "read-only attributes refuse writes"
for a in initstate mm_stat io_stat debug_stat; do
	zb_write_bad $D/$a 0
done
zb_write_bad $ZB_CTL/hot_add 1 /proc/partitions

zb_step "mem_used_max: refuses anything but 0; 0 resets it to the current use"
dd if=/dev/urandom of=/dev/zblk0 bs=1M count=16 oflag=direct 2>/dev/null || zb_fail "writing 16 MiB failed"
blkdiscard -o 0 -l 12M /dev/zblk0 || zb_fail "blkdiscard failed"
max=$(zb_mm zblk0 mem_used_max)
used=$(zb_mm zblk0 mem_used_total)
zb_info "after 16 MiB written and 12 MiB discarded: mem_used_total=$used mem_used_max=$max"
zb_expect_gt "mem_used_max after discarding most data (vs mem_used_total)" "$max" "$used"
bad_values $D/mem_used_max $D/mem_used_max "" abc 1 -1 4096 $BIG
zb_write_bad_big $D/mem_used_max 0
zb_write_ok $D/mem_used_max 0
zb_expect_eq "mem_used_max after writing 0 (= mem_used_total)" "$(zb_mm zblk0 mem_used_max)" "$(zb_mm zblk0 mem_used_total)"
zb_expect_lt "mem_used_max after writing 0" "$(zb_mm zblk0 mem_used_max)" "$max"
[ "$(cat $D/mem_used_max)" = "$(zb_mm zblk0 mem_used_max)" ] ||
	zb_fail "mem_used_max ($(cat $D/mem_used_max)) differs from mm_stat's ($(zb_mm zblk0 mem_used_max))"

zb_step "compact: 1 works, garbage refused"
zb_write_ok $D/compact 1
bad_values $D/compact $D/mm_stat abc -1 $BIG
zb_write_bad_big $D/compact 1

zb_step "reset: garbage refused, busy device refused, idle device cleared"
sum=$(zb_dev_md5 zblk0 $((12 * ZB_MIB)) $((4 * ZB_MIB)))
bad_values $D/reset $D/disksize "" abc 0 -1 $BIG
zb_write_bad_big $D/reset 1
zb_expect_str "initstate after refused resets" "$(cat $D/initstate)" 1
exec 3</dev/zblk0
zb_write_err $D/reset 1 "$EBUSY" $D/disksize
zb_expect_str "initstate after reset of an open device" "$(cat $D/initstate)" 1
exec 3<&-
zb_expect_str "data after reset of an open device was refused" "$(zb_dev_md5 zblk0 $((12 * ZB_MIB)) $((4 * ZB_MIB)))" "$sum"
mkswap /dev/zblk0 >/dev/null || zb_fail "mkswap failed"
swapon /dev/zblk0 || zb_fail "swapon failed"
zb_write_err $D/reset 1 "$EBUSY" $D/disksize
swapoff /dev/zblk0 || zb_fail "swapoff failed"
mkfs.ext4 -q -F /dev/zblk0 || zb_fail "mkfs.ext4 failed"
mkdir -p /mnt/zblk
mount -t ext4 /dev/zblk0 /mnt/zblk || zb_fail "mount failed"
echo hello >/mnt/zblk/hello
zb_write_err $D/reset 1 "$EBUSY" $D/disksize
zb_expect_str "file on a device whose reset was refused" "$(cat /mnt/zblk/hello)" hello
umount /mnt/zblk || zb_fail "umount failed"
zb_reset zblk0
zb_expect_str "disksize after reset" "$(cat $D/disksize)" 0
for f in orig_data_size compr_data_size mem_used_total same_pages huge_pages; do
	zb_expect_eq "mm_stat $f after reset" "$(zb_mm zblk0 $f)" 0
done
zb_write_ok $D/unit_size 16384
zb_write_ok $D/comp_algorithm lz4
zb_write_ok $D/disksize 65536K
zb_expect_str "disksize from 65536K" "$(cat $D/disksize)" 67108864
zb_reset zblk0

zb_step "hot_add / hot_remove"
id=$(cat $ZB_CTL/hot_add) || zb_fail "reading hot_add failed"
case "$id" in ''|*[!0-9]*) zb_fail "hot_add returned '$id', not a device id" ;; esac
zb_info "hot_add -> $id"
[ "$id" != 0 ] || zb_fail "hot_add returned 0, which is in use"
[ -d /sys/block/zblk$id ] || zb_fail "/sys/block/zblk$id missing after hot_add"
[ -b /dev/zblk$id ] || zb_fail "/dev/zblk$id missing after hot_add"
zb_expect_str "zblk$id initstate" "$(cat /sys/block/zblk$id/initstate)" 0
id2=$(cat $ZB_CTL/hot_add) || zb_fail "second hot_add failed"
zb_info "hot_add -> $id2"
{ [ "$id2" != "$id" ] && [ "$id2" != 0 ]; } || zb_fail "second hot_add returned $id2 (first $id)"
[ -b /dev/zblk$id2 ] || zb_fail "/dev/zblk$id2 missing after hot_add"
zb_write_ok /sys/block/zblk$id2/disksize 1G
zb_expect_str "zblk$id2 disksize from 1G" "$(cat /sys/block/zblk$id2/disksize)" 1073741824
zb_setup zblk$id 4096 zstd 32M
dd if=/dev/urandom of=/dev/zblk$id bs=1M count=4 2>/dev/null || zb_fail "writing zblk$id failed"
sync
bad_values $ZB_CTL/hot_remove /proc/partitions "" abc -1 $BIG "${id}x"
zb_write_bad_big $ZB_CTL/hot_remove 1
zb_write_bad $ZB_CTL/hot_remove 4000
exec 3</dev/zblk$id
zb_write_err $ZB_CTL/hot_remove "$id" "$EBUSY" /proc/partitions
[ -b /dev/zblk$id ] || zb_fail "/dev/zblk$id vanished although hot_remove was refused"
exec 3<&-
zb_write_ok $ZB_CTL/hot_remove "$id"
[ -e /sys/block/zblk$id ] && zb_fail "/sys/block/zblk$id still exists after hot_remove"
[ -e /dev/zblk$id ] && zb_fail "/dev/zblk$id still exists after hot_remove"
zb_write_bad $ZB_CTL/hot_remove "$id"
zb_write_ok $ZB_CTL/hot_remove "$id2"
[ -e /sys/block/zblk$id2 ] && zb_fail "/sys/block/zblk$id2 still exists after hot_remove"
[ -b /dev/zblk0 ] || zb_fail "/dev/zblk0 vanished"
zb_expect_eq "devices left" "$(zb_count_devs)" 1

zb_unload
zb_pass
