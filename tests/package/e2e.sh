#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/package/e2e.sh - zblk-dkms end to end, as a user installs it (not part
# of make check; "make check-package" runs it; needs root, network the first
# time, and 10-25 minutes under TCG on 2 CPUs, depending on the host's
# load; 5-10 more the first time, for debootstrap).
#
#  1. debootstrap Debian 12 with systemd, udev, dkms, sysstat (iostat), and
#     the image and headers of the kernel the guest boots (cached as
#     build/e2e/base-KVER-HASH.tar, HASH of the package lists below)
#  2. apt install ./zblk-dkms_*.deb in it (chroot): DKMS builds the module
#  3. write /etc/systemd/zblk-generator.conf: zblk0 swap (zstd level 5, 16 KiB
#     units, 256 MiB, priority 50), zblk1 ext4 on /mnt/zblk1, zblk2 broken
#  4. boot it in QEMU (TCG) with the host's /boot/vmlinuz-KVER; a check
#     service reports on the console and reboots once; the second boot checks
#     again, and that the previous boot's shutdown reset the devices. Each
#     boot checks the devices' setup, zblkctl's report, and that iostat
#     lists both devices with I/O (after a 16 MiB file written to zblk1 and
#     read back), and first that this iostat check fails for a missing
#     device and for a device without I/O. The first boot then runs a
#     workload that must swap (192 MiB in a 64 MiB cgroup; it verifies
#     every byte) and checks zblk0 held it (/proc/swaps, mm_stat, iostat);
#     each boot scans its kernel log (tools/lib/logscan.sh) and the host
#     scans the console. Hibernation (docs/install.md), with a disk swap
#     /dev/vdb enabled without a priority besides zblk0, read from logind's
#     debug messages for CanHibernate: with nothing configured systemd would
#     hibernate into zblk0; with the disk swap at priority 100, into it;
#     AllowHibernation=no makes it "na"; initramfs-tools' resume hook picks
#     zblk0 when RESUME is unset and nothing when it is set. The second boot
#     runs an initrd built with RESUME=UUID=<disk swap>: /sys/power/resume
#     names the disk swap and systemd chooses it.
#  5. apt remove zblk-dkms in the chroot: the module is gone
#
# Usage: tests/package/e2e.sh [--kernel KVER] [--keep] [--base-only]
# --base-only builds (or finds) the cached base image and stops.
# Exit 0 pass, 77 skip (not root, no debootstrap/qemu), else fail.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
kver=$(cd /boot && ls vmlinuz-6.12.*-amd64 2>/dev/null | sed 's/^vmlinuz-//' | sort -V | tail -n1)
keep=0 base_only=0
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kver=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--base-only) base_only=1; shift ;;
	-h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"; exit 0 ;;
	*) echo "e2e: unknown argument '$1'" >&2; exit 2 ;;
	esac
done
say() { echo "e2e: $*" >&2; }
. "$top/tools/lib/logscan.sh"
[ "$(id -u)" = 0 ] || { say "needs root (debootstrap, chroot, mkfs -d); skipped"; exit 77; }
for c in debootstrap qemu-system-x86_64 mkfs.ext4 dpkg-deb; do
	command -v $c >/dev/null || { say "$c is missing (apt-get install debootstrap qemu-system-x86); skipped"; exit 77; }
done
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] || { say "no /boot/vmlinuz-6.12.*-amd64 on the host; skipped"; exit 77; }
version=$(cat VERSION)
w=$top/build/e2e
mkdir -p "$w"
exec 9>"$w/.lock"
flock -n 9 || { say "another e2e run holds $w/.lock"; exit 1; }
rootfs=$w/rootfs
mirror=${ZBLK_E2E_MIRROR:-http://deb.debian.org/debian}
# a disk swap besides zblk0 (/dev/vdb in the guest, 192 MiB: smaller than
# zblk0), for the hibernation checks
swap_uuid=5a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0be2e0
# what the base image holds; the cache is rebuilt when these change
boot_pkgs=systemd,systemd-sysv,udev,dbus,kmod,e2fsprogs,procps,initramfs-tools,ca-certificates
apt_pkgs="dkms sysstat linux-image-$kver linux-headers-$kver"
base=$w/base-$kver-$(echo "$boot_pkgs $apt_pkgs" | sha1sum | cut -c1-8).tar
t0=$(date +%s)
stamp() { echo "$(( $(date +%s) - t0 ))s"; }

mounted=()
umount_all() {
	local i
	for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null; done
	mounted=()
}
trap 'umount_all' EXIT
chroot_mounts() {
	local m
	for m in proc sys dev dev/pts; do
		mkdir -p "$rootfs/$m"
		case $m in
		proc) mount -t proc proc "$rootfs/proc" ;;
		sys) mount -t sysfs sys "$rootfs/sys" ;;
		dev) mount --bind /dev "$rootfs/dev" ;;
		dev/pts) mount -t devpts devpts "$rootfs/dev/pts" ;;
		esac && mounted+=("$rootfs/$m")
	done
}
in_root() { LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive chroot "$rootfs" "$@"; }

# ------------------------------------------------------------- 1. the image
rm -rf "$rootfs"
if [ -f "$base" ]; then
	say "base image from cache $base"
	mkdir -p "$rootfs" && tar -C "$rootfs" -xf "$base" || exit 1
else
	say "debootstrap bookworm (first run; cached afterwards) $(stamp)"
	rm -f "$w/base-$kver".tar "$w/base-$kver"-*.tar
	debootstrap --variant=minbase --include="$boot_pkgs" \
		bookworm "$rootfs" "$mirror" >"$w/debootstrap.log" 2>&1 ||
		{ tail -n 20 "$w/debootstrap.log"; say "debootstrap failed"; exit 1; }
	cat >"$rootfs/etc/apt/sources.list" <<-EOF
	deb $mirror bookworm main
	deb $mirror bookworm-updates main
	deb http://deb.debian.org/debian-security bookworm-security main
	deb $mirror bookworm-backports main
	EOF
	printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"; chmod +x "$rootfs/usr/sbin/policy-rc.d"
	chroot_mounts
	say "apt install $apt_pkgs $(stamp)"
	# shellcheck disable=SC2086
	{ in_root apt-get update && in_root apt-get install -y --no-install-recommends $apt_pkgs; } >"$w/apt-base.log" 2>&1 ||
		{ tail -n 30 "$w/apt-base.log"; say "apt-get in the image failed"; exit 1; }
	in_root apt-get clean
	umount_all
	rm -f "$rootfs/usr/sbin/policy-rc.d"
	tar -C "$rootfs" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	say "base image cached: $base ($(du -sh "$base" | cut -f1)) $(stamp)"
fi

if [ $base_only = 1 ]; then rm -rf "$rootfs"; say "base image $base ready $(stamp)"; exit 0; fi

# ------------------------------------------------- 2. the package, as users do
make -s deb >/dev/null || { say "make deb failed"; exit 1; }
deb=build/zblk-dkms_${version}_all.deb
cp "$deb" "$rootfs/tmp/"
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"; chmod +x "$rootfs/usr/sbin/policy-rc.d"
chroot_mounts
say "apt install ./$(basename "$deb") in the image (DKMS builds zblk for $kver) $(stamp)"
if ! in_root apt-get install -y "/tmp/$(basename "$deb")" >"$w/apt-zblk.log" 2>&1; then
	tail -n 40 "$w/apt-zblk.log"; say "FAIL: apt install of the package"; exit 1
fi
ko=$(in_root modinfo -k "$kver" -n zblk 2>/dev/null)
# dkms may compress it (zblk.ko.xz)
[[ $ko == "/lib/modules/$kver/updates/dkms/zblk.ko"* ]] || { cat "$w/apt-zblk.log"; say "FAIL: zblk.ko not installed by DKMS (modinfo: '$ko')"; exit 1; }
say "installed: $(in_root dkms status zblk 2>/dev/null | tr '\n' ' ') $(stamp)"
# boot 1 runs with the initrd as installed; boot 2 with one built after
# docs/install.md's hibernation advice: RESUME= names the disk swap
cp "$rootfs/boot/initrd.img-$kver" "$w/initrd-1.img" || { say "no initrd for $kver in the image"; exit 1; }
echo "RESUME=UUID=$swap_uuid" >"$rootfs/etc/initramfs-tools/conf.d/resume"
in_root update-initramfs -u -k "$kver" >"$w/initramfs.log" 2>&1 || { cat "$w/initramfs.log"; say "update-initramfs failed"; exit 1; }
cp "$rootfs/boot/initrd.img-$kver" "$w/initrd-2.img"
[ "$(in_root lsinitramfs "/boot/initrd.img-$kver" | grep -cE '(^|/)conf/conf.d/resume$')" = 1 ] ||
	{ say "the new initrd lacks conf/conf.d/resume"; exit 1; }
umount_all
rm -f "$rootfs/usr/sbin/policy-rc.d"

# ----------------------------------------------- 3. configuration and checks
cat >"$rootfs/etc/systemd/zblk-generator.conf" <<'EOF'
[zblk0]
zblk-size = 256
compression-algorithm = zstd(level=5)
unit-size = 16384
swap-priority = 50

[zblk1]
zblk-size = min(ram / 2, 128)
fs-type = ext4
mount-point = /mnt/zblk1
options = noatime

[zblk2]
zblk-size = 64
not a key value line
EOF
# the disk swap (/dev/vdb), enabled without a priority as most installers
# write it
cat >"$rootfs/etc/fstab" <<EOF
/dev/vda / ext4 rw,errors=remount-ro 0 1
UUID=$swap_uuid none swap sw 0 0
EOF
echo zblk-e2e >"$rootfs/etc/hostname"
mkdir -p "$rootfs/var/log/journal" "$rootfs/var/lib/zblk-e2e"
rm -f "$rootfs/var/lib/zblk-e2e/boot"
cat >"$rootfs/usr/local/sbin/zblk-e2e-check" <<'EOF'
#!/bin/bash
# Runs once per boot after multi-user.target; prints E2E-* lines.
n=$(( $(cat /var/lib/zblk-e2e/boot 2>/dev/null || echo 0) + 1 ))
echo $n >/var/lib/zblk-e2e/boot; sync
echo "E2E-BOOT $n"
ok() { echo "E2E-OK $*"; }
bad() { echo "E2E-FAIL $*"; }
is() { [ "$2" = "$3" ] && ok "$1: $2" || bad "$1: got '$2', expected '$3'"; }
is "setup services" "$(systemctl is-active zblk-setup@zblk0.service zblk-setup@zblk1.service | tr '\n' ' ')" "active active "
is "swap and mount units" "$(systemctl is-active dev-zblk0.swap mnt-zblk1.mount | tr '\n' ' ')" "active active "
is "swap in /proc/swaps (name, priority)" "$(awk '$1 == "/dev/zblk0" { print $1, $5 }' /proc/swaps)" "/dev/zblk0 50"
is "zblk0 disksize" "$(cat /sys/block/zblk0/disksize)" 268435456
is "zblk0 algorithm" "$(cat /sys/block/zblk0/comp_algorithm)" "lz4 lz4hc [zstd]"
is "zblk0 params" "$(cat /sys/block/zblk0/algorithm_params)" "algo=zstd level=5"
is "zblk0 unit size" "$(cat /sys/block/zblk0/unit_size)" 16384
is "zblk1 mount" "$(findmnt -n -o SOURCE,FSTYPE /mnt/zblk1)" "/dev/zblk1 ext4"
is "zblk1 disksize" "$(cat /sys/block/zblk1/disksize)" 134217728
is "zblk2 not set up" "$(cat /sys/block/zblk2/disksize 2>/dev/null || echo absent)" absent
is "zblkctl" "$(zblkctl --raw -n --bytes -o NAME,ALGORITHM,DISKSIZE,UNIT-SIZE,MOUNTPOINT)" \
	"$(printf '%s\n' '/dev/zblk0 zstd 268435456 16384 [SWAP]' '/dev/zblk1 lz4 134217728 4096 /mnt/zblk1')"
# the generator's warnings reach the journal through the kernel log, with
# "zblk-generator" as their syslog identifier
journalctl -b -o short-monotonic | grep -q 'zblk-generator.*: \[zblk2\]: skipped, not set up' &&
	ok "journal: [zblk2] reported skipped" || bad "journal lacks the [zblk2] warning"
ko=$(modinfo -n zblk); is "module from DKMS" "${ko%.xz}" "/lib/modules/$(uname -r)/updates/dkms/zblk.ko"
pv=$(dpkg-query -W -f='${Version}' zblk-dkms)
is "the module's version is the package's" "$(cat /sys/module/zblk/version)" "$pv"
is "zblkctl --version" "$(zblkctl --version)" "zblkctl from zblk $pv"

# iostat (sysstat) over /proc/diskstats: every device named must be listed
# with kB read and written since boot above 0
# io DEV kB_read|kB_wrtn -> iostat's figure for DEV, empty if not listed
io() { iostat -d -k "$1" | awk -v d="$1" -v c="$2" '$1 ~ /^Device:?$/ { for (i = 2; i <= NF; i++) k[$i] = i } $1 == d && (c in k) { print $k[c] }'; }
iostat_check() { # DEV...: one line per device; status 1 when one is missing or has no I/O
	local d r w rc=0
	for d in "$@"; do
		r=$(io "$d" kB_read) w=$(io "$d" kB_wrtn)
		if [ -z "$r" ] || [ -z "$w" ]; then
			echo "$d: not listed by iostat"; rc=1
		elif [ "$r" -le 0 ] || [ "$w" -le 0 ]; then
			echo "$d: no I/O (kB_read $r, kB_wrtn $w)"; rc=1
		else
			echo "$d: kB_read $r, kB_wrtn $w"
		fi
	done
	return $rc
}
# the check itself must catch a missing device and a device without I/O
out=$(iostat_check zblk0 zblk9) && bad "iostat check passed a missing device: $out" ||
	ok "iostat check rejects a missing device ($(echo "$out" | grep zblk9))"
if nd=$(zblkctl --find --size 16M); then
	nd=${nd#/dev/}
	out=$(iostat_check "$nd") && bad "iostat check passed $nd, never written: $out" ||
		ok "iostat check rejects a device without I/O ($out)"
	zblkctl --reset "/dev/$nd" && echo "${nd#zblk}" >/sys/class/zblk-control/hot_remove ||
		bad "could not remove /dev/$nd"
else
	bad "zblkctl --find --size 16M failed"
fi
# write 16 MiB to zblk1's file system, read it back from the device
r1=$(io zblk1 kB_read) w1=$(io zblk1 kB_wrtn)
dd if=/dev/urandom of=/mnt/zblk1/e2e bs=1M count=16 conv=fsync status=none
sum=$(md5sum </mnt/zblk1/e2e)
echo 3 >/proc/sys/vm/drop_caches
is "zblk1: file read back after dropping caches" "$(md5sum </mnt/zblk1/e2e)" "$sum"
dw=$(( $(io zblk1 kB_wrtn) - w1 )) dr=$(( $(io zblk1 kB_read) - r1 ))
[ $dw -ge 16384 ] && [ $dr -ge 16384 ] && ok "iostat: zblk1 wrote $dw kB and read $dr kB for the 16 MiB file" ||
	bad "iostat: zblk1 wrote $dw kB and read $dr kB for a 16 MiB file (expected 16384 or more each)"
out=$(iostat_check zblk0 zblk1) && ok "iostat reports both devices: $(echo "$out" | paste -sd ';')" ||
	bad "iostat: $(echo "$out" | paste -sd ';')"
iostat -d -k zblk0 zblk1 | grep -E '^(Device|zblk)' | sed 's/^/E2E-INFO /'
iostat -x -d zblk0 zblk1 | grep -E '^(Device|zblk)' | sed 's/^/E2E-INFO /'
# zblkctl counts what is stored: zblk1 now holds the 16 MiB file
data=$(zblkctl --raw -n --bytes -o DATA /dev/zblk1)
[ "${data:-0}" -ge 16777216 ] && ok "zblkctl: zblk1 DATA $data bytes" || bad "zblkctl: zblk1 DATA '$data', expected 16 MiB or more"
zblkctl

# Swap under pressure: 192 MiB of anonymous memory in a scope limited to
# 64 MiB, so that at least 128 MiB of it goes to swap, to zblk0 first (its
# priority 50 is above the disk swap's). memfill writes a known pattern,
# snapshots the cgroup, /proc/swaps and zblk0's mm_stat while all of it is
# allocated, then reads every block back and compares.
swap_workload() {
	mid=/run/zblk-e2e-mid
	r0=$(io zblk0 kB_read) w0=$(io zblk0 kB_wrtn) t0=$(date +%s)
	out=$(systemd-run --scope --quiet -p MemoryMax=64M -p MemorySwapMax=infinity \
		zblk-e2e-memfill -p 'cg=/sys/fs/cgroup$(cut -d: -f3 </proc/self/cgroup); { cat $cg/memory.max; cat /proc/swaps; cat /sys/block/zblk0/mm_stat; } >'$mid 192 2>&1)
	rc=$?
	echo "E2E-INFO memfill ($(( $(date +%s) - t0 )) s): $out"
	[ $rc = 0 ] && [[ $out == *"0 of 49152 blocks differ"* ]] && ok "swap workload: 192 MiB written and read back intact" ||
		bad "swap workload: status $rc: $out"
	sed 's/^/E2E-INFO during the workload: /' $mid
	is "workload's memory.max" "$(head -n1 $mid)" 67108864
	used=$(awk '$1 == "/dev/zblk0" { print $4 }' $mid)
	[ "${used:-0}" -ge 114688 ] && ok "during the workload zblk0 held $used KiB of swap" ||
		bad "during the workload zblk0 held '$used' KiB of swap, expected 112 MiB or more"
	read -r orig compr _ < <(tail -n1 $mid)
	[ "${orig:-0}" -ge $((112 << 20)) ] && [ "${compr:-0}" -gt 0 ] && [ "$compr" -lt "$orig" ] &&
		ok "zblk0 mm_stat during the workload: $orig bytes stored in $compr" ||
		bad "zblk0 mm_stat during the workload: orig_data_size '$orig', compr_data_size '$compr'"
	dw=$(( $(io zblk0 kB_wrtn) - w0 )) dr=$(( $(io zblk0 kB_read) - r0 ))
	[ $dw -ge 114688 ] && [ $dr -ge 114688 ] && ok "iostat: zblk0 wrote $dw kB and read $dr kB of swap" ||
		bad "iostat: zblk0 wrote $dw kB and read $dr kB of swap (expected 112 MiB or more each)"
	# the workload's swap is freed when it exits (discards may come a moment later)
	for i in $(seq 20); do read -r orig _ </sys/block/zblk0/mm_stat; [ "$orig" -le $((16 << 20)) ] && break; sleep 1; done
	[ "$orig" -le $((16 << 20)) ] && ok "after the workload zblk0 holds $orig bytes" ||
		bad "after the workload zblk0 still holds $orig bytes ($(awk '$1 == "/dev/zblk0"' /proc/swaps))"
}
[ $n != 1 ] || swap_workload
if [ $n -ge 2 ]; then
	prev=$(journalctl -b -1 -o cat -u zblk-setup@zblk0.service -u zblk-setup@zblk1.service)
	echo "$prev" | sed 's/^/E2E-INFO previous boot: /'
	c=$(echo "$prev" | grep -c 'Deactivated successfully')
	[ "$c" = 2 ] && ok "previous boot: both setup services stopped cleanly (devices reset)" ||
		bad "previous boot: $c of 2 setup services stopped cleanly"
	echo "$prev" | grep -qi 'failed' && bad "previous boot: a setup service failed" || ok "previous boot: no failure"
fi
# Hibernation (docs/install.md): which swap would systemd 252 hibernate
# into? logind's CanHibernate runs find_hibernate_location(), which at
# debug level logs the swaps it considered and the one it chose.
systemctl service-log-level systemd-logind debug
# hib -> "ANSWER SWAP": CanHibernate's answer and the swap logind chose
# ("-" for none); logind's lines about it go to the console as E2E-INFO
hib() {
	local before lines ans i
	before=$(journalctl -b -u systemd-logind -o cat | wc -l)
	ans=$(busctl call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager CanHibernate | sed 's/^s "\(.*\)"$/\1/')
	for i in 1 2 3 4 5; do
		journalctl --sync
		lines=$(journalctl -b -u systemd-logind -o cat | tail -n +$((before + 1)) |
			grep -vE '^(Got|Sent) message' | grep -E 'swap|resume|[Hh]ibernat|[Ss]leep mode|/sys/power')
		[ -n "$lines" ] && break
		sleep 1
	done
	echo "$lines" | sed 's/^/E2E-INFO   logind: /' >&2
	echo "$ans $(echo "$lines" | sed -n 's/.*\(attempting to hibernate\|attempt to use swap entry\) with path: \([^,]*\),.*/\2/p' | tail -n1 | grep . || echo -)"
}
vdb=$(cat /sys/class/block/vdb/dev)
if [ $n = 1 ]; then
	is "disk swap /dev/vdb active without a priority" "$(awk '$1 == "/dev/vdb" { print ($5 < 0) }' /proc/swaps)" 1
	is "/sys/power/resume without configuration" "$(cat /sys/power/resume)" 0:0
	echo "E2E-INFO CanHibernate, nothing configured:"
	set -- $(hib)
	is "without configuration systemd would hibernate into" "$2" /dev/zblk0
	# Debian's initramfs-tools, with RESUME unset, picks the largest swap
	# that is not zram when update-initramfs runs: zblk0 here
	h=$(mktemp -d) && mkdir -p "$h/conf/conf.d"
	env RESUME= DESTDIR="$h" verbose=n sh /usr/share/initramfs-tools/hooks/resume >/dev/null 2>&1
	is "initramfs-tools' resume hook, RESUME unset" "$(cat "$h/conf/conf.d/zz-resume-auto" 2>/dev/null)" \
		"RESUME=UUID=$(blkid -s UUID -o value /dev/zblk0)"
	rm -f "$h/conf/conf.d/zz-resume-auto"
	(. /etc/initramfs-tools/conf.d/resume && export RESUME && env DESTDIR="$h" verbose=n sh /usr/share/initramfs-tools/hooks/resume >/dev/null 2>&1)
	is "initramfs-tools' resume hook, RESUME= from conf.d/resume" "$(cat "$h/conf/conf.d/zz-resume-auto" 2>/dev/null || echo "no auto choice")" "no auto choice"
	rm -rf "$h"
	# the alternative: the disk swap above zblk0 in priority
	swapoff /dev/vdb && swapon -p 100 /dev/vdb
	echo "E2E-INFO CanHibernate, disk swap priority 100:"
	set -- $(hib)
	is "with the disk swap at priority 100 systemd would hibernate into" "$2" /dev/vdb
	swapoff /dev/vdb && swapon /dev/vdb
	# no disk swap to hibernate into: AllowHibernation=no
	mkdir -p /etc/systemd/sleep.conf.d
	printf '[Sleep]\nAllowHibernation=no\n' >/etc/systemd/sleep.conf.d/zblk-e2e.conf
	echo "E2E-INFO CanHibernate, AllowHibernation=no:"
	set -- $(hib)
	is "CanHibernate with AllowHibernation=no" "$1" na
	rm -f /etc/systemd/sleep.conf.d/zblk-e2e.conf
else
	# this boot's initrd has RESUME=UUID=<disk swap> (conf.d/resume)
	is "/sys/power/resume set by the initramfs (RESUME=)" "$(cat /sys/power/resume)" "$vdb"
	echo "E2E-INFO CanHibernate, RESUME= names the disk swap:"
	set -- $(hib)
	is "with RESUME= set systemd would hibernate into" "$2" /dev/vdb
fi
systemctl service-log-level systemd-logind info

# the kernel log of this boot (and of the last one's shutdown) has no
# finding (tools/lib/logscan.sh) and no OOM kill
. /usr/local/lib/zblk-e2e/logscan.sh
for b in 0 $([ $n -ge 2 ] && echo -1); do
	f=$(journalctl -k -b $b -o cat | zblk_log_findings) &&
		bad "kernel log (boot $b): $(echo "$f" | head -n 5 | paste -sd ';')" || ok "kernel log (boot $b): no findings"
	f=$(journalctl -k -b $b -o cat | grep -E 'invoked oom-killer|Out of memory') &&
		bad "kernel log (boot $b): OOM: $(echo "$f" | head -n 3 | paste -sd ';')" || ok "kernel log (boot $b): no OOM kill"
done
echo "E2E-DONE $n"
if [ $n -lt 2 ]; then systemctl --no-block reboot; else systemctl --no-block poweroff; fi
EOF
chmod +x "$rootfs/usr/local/sbin/zblk-e2e-check"
gcc -O2 -Wall -static -o "$rootfs/usr/local/bin/zblk-e2e-memfill" tests/package/memfill.c ||
	{ say "cannot build tests/package/memfill.c (gcc -static; libc6-dev)"; exit 1; }
mkdir -p "$rootfs/usr/local/lib/zblk-e2e"
cp tools/lib/logscan.sh "$rootfs/usr/local/lib/zblk-e2e/"
cat >"$rootfs/etc/systemd/system/zblk-e2e-check.service" <<'EOF'
[Unit]
Description=zblk end-to-end check
After=multi-user.target

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/zblk-e2e-check
StandardOutput=journal+console
StandardError=journal+console

[Install]
WantedBy=multi-user.target
EOF
ln -sf /etc/systemd/system/zblk-e2e-check.service "$rootfs/etc/systemd/system/multi-user.target.wants/zblk-e2e-check.service"
# no getty or network waits in the way
rm -f "$rootfs/etc/systemd/system/getty.target.wants/"* 2>/dev/null

# ------------------------------------------------------------- 4. boot twice
img=$w/disk.img
rm -f "$img"
say "disk image $(stamp)"
mkfs.ext4 -q -F -L root -d "$rootfs" "$img" 4G || { say "mkfs.ext4 -d failed"; exit 1; }
swapimg=$w/swap.img
rm -f "$swapimg" && truncate -s 192M "$swapimg" && mkswap -q -U "$swap_uuid" -L e2e-disk-swap "$swapimg" >/dev/null ||
	{ say "mkswap of the disk swap image failed"; exit 1; }
fails=0
for boot in 1 2; do
	log=$w/console-$boot.log
	say "boot $boot under QEMU (TCG; several minutes) $(stamp)"
	for try in 1 2; do
		timeout 1500 qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp 2 -m 1G \
			-kernel "/boot/vmlinuz-$kver" -initrd "$w/initrd-$boot.img" \
			-append "root=/dev/vda rw init=/lib/systemd/systemd console=ttyS0 panic=-1 no_timer_check systemd.show_status=0" \
			-drive "file=$img,if=virtio,format=raw" -drive "file=$swapimg,if=virtio,format=raw" -nic none \
			-nographic -no-reboot -monitor none -serial "file:$log" </dev/null
		rc=$?
		# A kernel that died before starting the initramfs never ran zblk code:
		# that is TCG on a busy host (as tools/guest-run, boot once more)
		grep -aq 'Run /init as init process' "$log" && break
		[ $try = 2 ] || { mv "$log" "$w/console-$boot-died.log"; say "boot $boot: the kernel died before /init (see $w/console-$boot-died.log); booting again"; }
	done
	grep -a 'E2E-' "$log" | sed 's/^.*\(E2E-\)/\1/' >&2
	if [ $rc = 124 ]; then say "FAIL: boot $boot timed out"; fails=$((fails + 1)); break; fi
	grep -aq "E2E-DONE $boot" "$log" || { say "FAIL: boot $boot did not finish its checks (see $log)"; fails=$((fails + 1)); break; }
	c=$(grep -ac 'E2E-FAIL' "$log"); fails=$((fails + c))
	# the console has what the guest journal may miss (panics, shutdown)
	if f=$(zblk_log_findings <"$log"); then
		say "FAIL: boot $boot: kernel log findings on the console:"; echo "$f" >&2; fails=$((fails + 1))
	fi
	say "boot $boot: $(grep -ac 'E2E-OK' "$log") ok, $c failed $(stamp)"
done

# ------------------------------------------------------------ 5. apt remove
chroot_mounts
printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"; chmod +x "$rootfs/usr/sbin/policy-rc.d"
if in_root apt-get remove -y zblk-dkms >"$w/apt-remove.log" 2>&1 &&
	[ -z "$(ls "$rootfs/lib/modules/$kver/updates/dkms/" 2>/dev/null | grep '^zblk\.ko')" ] && [ -z "$(in_root dkms status zblk 2>/dev/null)" ] &&
	[ ! -e "$rootfs/usr/src/zblk-$version" ]; then
	say "apt remove: module, DKMS entry and source gone"
else
	tail -n 20 "$w/apt-remove.log"; say "FAIL: apt remove left the module behind"; fails=$((fails + 1))
fi
umount_all
[ $keep = 1 ] || rm -rf "$rootfs" "$img" "$swapimg" "$w"/initrd-[12].img
say "$([ $fails = 0 ] && echo PASS || echo "FAIL ($fails)") in $(stamp)"
[ $fails = 0 ]
