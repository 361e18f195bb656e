#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/zblk-generator on a fake root (ZBLK_GENERATOR_ROOT): the size
# expression language (the default expression at several RAM sizes, operator
# precedence and associativity, min/max, division by zero, bad syntax, huge
# results), the configuration (which files apply and in which order, garbage
# lines, unknown keys, bad values, duplicate sections, keys before any
# section: a device with an error is skipped whole, the others are kept), the
# unit files written for a sample configuration (compared with the expected
# text), and --setup-device / --reset-device against a fake sysfs with the
# real tools/zblkctl and stub modprobe/mkswap/mkfs.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
gen=$top/tools/zblk-generator
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
export ZBLK_GENERATOR_ROOT=$R/root
export ZBLK_GENERATOR_ZBLKCTL=$top/tools/zblkctl
failed=0 n=0
ok() { n=$((n + 1)); echo "generator: ok   $*"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "generator: FAIL $*"; }
show() { printf '%s\n' "$1" | sed 's/^/    | /'; }

ram() { # ram MiB: MemTotal of the fake root
	mkdir -p "$ZBLK_GENERATOR_ROOT/proc"
	printf 'MemTotal:       %d kB\nMemFree:         1000 kB\n' $(($1 * 1024)) >"$ZBLK_GENERATOR_ROOT/proc/meminfo"
}
fresh() {
	rm -rf "$ZBLK_GENERATOR_ROOT"
	mkdir -p "$ZBLK_GENERATOR_ROOT/etc/systemd" "$ZBLK_GENERATOR_ROOT/usr/lib/systemd"
	ram "${1:-8192}"
	echo "BOOT_IMAGE=/vmlinuz root=/dev/vda ro" >"$ZBLK_GENERATOR_ROOT/proc/cmdline"
}
conf() { cat >"$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf"; }

# ev WANT EXPR: --eval prints WANT
ev() {
	local got
	got=$("$gen" --eval "$2" 2>&1)
	[ "$got" = "$1" ] && ok "eval '$2' = $got" || bad "eval '$2': got '$got', expected '$1'"
}
# ev_err MSG EXPR: --eval fails and says MSG
ev_err() {
	local got rc=0
	got=$("$gen" --eval "$2" 2>&1) || rc=$?
	if [ $rc = 0 ]; then bad "eval '$2': exit 0, printed '$got' (expected an error: $1)"
	elif [[ $got != *"$1"* ]]; then bad "eval '$2': message '$got' lacks '$1'"
	else ok "eval '$2' refused: $got"; fi
}

# ------------------------------------------------------------ expressions
fresh 1024
ev 512 'min(ram / 2, 4096)'
fresh 2000
ev 1000 'min(ram / 2, 4096)'
fresh 8192
ev 4096 'min(ram / 2, 4096)'
fresh 65536
ev 4096 'min(ram / 2, 4096)'
ev 65536 ram
ev 14 '2 + 3 * 4'
ev 20 '(2 + 3) * 4'
ev 3 '10 - 4 - 3'           # left-associative
ev 2 '100 / 10 / 5'
ev 512 '2 ^ 3 ^ 2'          # right-associative
ev -4 '-2 ^ 2'              # power binds tighter than unary minus
ev 4 '(-2) ^ 2'
ev 0.5 '2 ^ -1'
ev 1 '7 % 3'
ev -1 '-7 % 3'
ev 1.5 '7.5 % 2'
ev 13 '10 - -3'
ev 17 '1 + 2 * 3 ^ 2 - 4 / 2 * 1'
ev 2.5 '5 / 2'
ev 3 'min(5, 3, 4)'
ev 5 'max(1, 5, 3)'
ev 7 'max(7)'
ev 16384 'max(ram / 4, min(1024, ram))'
ev 1024 'min(max(ram, 1024), 1024) '
ev 32 '((((32))))'
ev 0.25 '.25'
ev 1048576 '2 ^ 20'            # no exponent in large values
ev 3145728000 'ram * 48000'
ev 0.333333 '1 / 3'
ev_err "division by zero" '1 / 0'
ev_err "division by zero" '1 / (ram - ram)'
ev_err "division by zero" '5 % 0'
ev_err "division by zero" '0 ^ -1'
ev_err "result out of range" '2 ^ 100'
ev_err "result out of range" 'ram * ram * ram * ram * ram'
ev_err "exponent out of range" '2 ^ 10000'
ev_err "unknown name \"rom\"" 'rom / 2'
ev_err "unexpected end" '2 +'
ev_err "unexpected end" 'min('
ev_err "missing \")\"" '(1 + 2'
ev_err "unexpected \")\"" '1 + 2)'
ev_err "unexpected \"2\"" '1 2'
ev_err "unexpected character \"&\"" '1 & 2'
ev_err "empty expression" ' '
ev_err "needs \"(\"" 'min 1'
ev_err "unexpected \")\"" 'max()'
ev_err "fractional power" '(-8) ^ 0.5'

# ----------------------------------------------------------- configuration
# cfg WHAT WANT: --print-config's stdout is WANT exactly
cfg() {
	local got
	got=$("$gen" --print-config 2>"$R/err")
	if [ "$got" = "$2" ]; then ok "$1"; else
		bad "$1: got"; show "$got"; echo "    expected:"; show "$2"; echo "    stderr:"; show "$(cat "$R/err")"
	fi
}
# says WHAT TEXT: the last command's stderr contains TEXT
says() { grep -qF -- "$2" "$R/err" && ok "$1: says '$2'" || { bad "$1: stderr lacks '$2'"; show "$(cat "$R/err")"; }; }
T=$'\t'

fresh 8192
cfg "no configuration file: no device" ""
conf <<<'[zblk0]'
cfg "empty section: default size min(ram/2, 4096) MiB, swap, priority 100, discard" \
	"zblk0${T}4294967296${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard"
fresh 3000
conf <<<'[zblk0]'
cfg "default size with 3000 MiB of RAM: 1500 MiB" \
	"zblk0${T}1572864000${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard"

fresh 8192
conf <<'EOF'
# a comment
; another comment
[zblk0]
zblk-size = ram / 8 + 24
compression-algorithm = zstd (level=9)
unit-size = 16384
zblk-resident-limit = 512
swap-priority = 32767
options = discard=pages

  [ zblk2 ]   
zblk-size=100.5
compression-algorithm=lz4hc(level = 12)
unit-size=4K
fs-type=xfs
mount-point=/var/cache/big//
options=noatime

[zblk1]
zblk-size = 64
compression-algorithm = lz4
swap-priority = -1
options =
EOF
cfg "every key, whitespace, comments, devices sorted by number" "$(printf '%s\n' \
	"zblk0${T}1098907648${T}zstd${T}9${T}16384${T}536870912${T}32767${T}swap${T}-${T}discard=pages" \
	"zblk1${T}67108864${T}lz4${T}-${T}-${T}-${T}-1${T}swap${T}-${T}-" \
	"zblk2${T}105381888${T}lz4hc${T}12${T}4096${T}-${T}100${T}xfs${T}/var/cache/big${T}noatime")"
[ -s "$R/err" ] && { bad "a clean configuration gives warnings"; show "$(cat "$R/err")"; } || ok "a clean configuration gives no warning"

conf <<'EOF'
[zblk0]
zblk-size = 16 * 1024 * 1024
[zblk1]
zblk-size = 16 * 1024 * 1024
unit-size = 16K
[zblk2]
zblk-size = 16 * 1024 * 1024 - 1 / 256
[zblk3]
zblk-size = 2 ^ 40
[zblk4]
zblk-size = 2 ^ 60
EOF
cfg "largest device: 2^32 - 1 units" "$(printf '%s\n' \
	"zblk1${T}17592186044416${T}-${T}-${T}16384${T}-${T}100${T}swap${T}-${T}discard" \
	"zblk2${T}17592186040320${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard")"
says "16 TiB with 4 KiB units" '[zblk0]: zblk-size "16 * 1024 * 1024" is too large (17592186044416 bytes; at most 17592186040320 with 4096-byte units)'
says "2^40 MiB" '[zblk3]: zblk-size "2 ^ 40" is too large ('
says "2^60 MiB" '[zblk4]: zblk-size "2 ^ 60": result out of range'

# Every kind of error skips its device whole; the good devices stay.
conf <<'EOF'
zblk-size = 100
[zblk0]
zblk-size = 64
[zblk1]
zblk-size = 64
this line is garbage
[zblk2]
zblk-size = 64
colour = blue
[zblk3]
zblk-size = (ram - ram) - 1
[zblk4]
zblk-size = ram / (ram - ram)
[zblk5]
zblk-size = 0
[zblk6]
compression-algorithm = lzo
[zblk7]
compression-algorithm = zstd(level=high)
[zblk8]
unit-size = 8192
[zblk9]
swap-priority = 40000
[zblk10]
swap-priority = high
[zblk11]
mount-point = relative/path
[zblk12]
fs-type = swap
mount-point = /mnt/x
[zblk13]
fs-type = ext4; rm -rf /
[zblk14]
zblk-resident-limit = -1
[zblk15]
options = a b
[zram0]
zblk-size = 64
[zblk64]
zblk-size = 64
[zblk016]
[zblk17]
mount-point = /mnt/../etc
[zblk18]
zblk-size = 1 +
[zblk19]
zblk-size = 32
EOF
cfg "errors skip their device only" "$(printf '%s\n' \
	"zblk0${T}67108864${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard" \
	"zblk19${T}33554432${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard")"
says "key before any section" ':1: "zblk-size = 100" is outside any [zblkN] section, ignored'
says "garbage line" '[zblk1]: not a "key = value" line: "this line is garbage"'
says "unknown key" '[zblk2]: unknown key "colour"'
says "negative size" '[zblk3]: zblk-size "(ram - ram) - 1" is negative'
says "division by zero" '[zblk4]: zblk-size "ram / (ram - ram)": division by zero'
says "size 0" '[zblk5]: zblk-size "0" is 0, not set up'
says "unknown algorithm" '[zblk6]: compression-algorithm "lzo"'
says "bad level" '[zblk7]: compression-algorithm "zstd(level=high)"'
says "unit size" '[zblk8]: unit-size "8192"'
says "priority range" '[zblk9]: swap-priority "40000"'
says "priority garbage" '[zblk10]: swap-priority "high"'
says "relative mount point" '[zblk11]: mount-point "relative/path" is not a normal absolute path'
says "swap with a mount point" '[zblk12]: mount-point is set but fs-type is swap'
says "fs-type garbage" '[zblk13]: fs-type "ext4; rm -rf /"'
says "negative limit" '[zblk14]: zblk-resident-limit "-1" is negative'
says "options with spaces" '[zblk15]: options "a b"'
says "not a zblk section" 'section [zram0] is not a zblk device name'
says "device number too high" 'section [zblk64] is not a zblk device name'
says "leading zero" 'section [zblk016] is not a zblk device name'
says "dot-dot mount point" '[zblk17]: mount-point "/mnt/../etc"'
says "syntax error" '[zblk18]: zblk-size "1 +": unexpected end of expression'
for d in 1 2 3 4 6 7 8 9 10 11 12 13 14 15 17 18; do
	grep -qF "[zblk$d]: skipped, not set up" "$R/err" || bad "zblk$d: no 'skipped' line"
done
ok "each bad device is reported as skipped"
grep -qF "[zblk5]: skipped" "$R/err" && bad "size 0 is reported as an error" || ok "size 0 is a notice, not an error"
grep -qF "[zblk0]: skipped" "$R/err" && bad "zblk0 reported skipped" || ok "zblk0 not reported skipped"

# Duplicate sections merge, the later key winning; the order of files.
fresh 8192
conf <<'EOF'
[zblk0]
zblk-size = 100
swap-priority = 5
[zblk1]
zblk-size = 10
[zblk0]
zblk-size = 200
EOF
cfg "a section given twice: merged, later keys win" "$(printf '%s\n' \
	"zblk0${T}209715200${T}-${T}-${T}-${T}-${T}5${T}swap${T}-${T}discard" \
	"zblk1${T}10485760${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard")"
cat >"$ZBLK_GENERATOR_ROOT/usr/lib/systemd/zblk-generator.conf" <<'EOF'
[zblk5]
zblk-size = 5
EOF
cfg "/etc's file hides /usr/lib's" "$(printf '%s\n' \
	"zblk0${T}209715200${T}-${T}-${T}-${T}-${T}5${T}swap${T}-${T}discard" \
	"zblk1${T}10485760${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard")"
rm "$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf"
cfg "/usr/lib's file alone" "zblk5${T}5242880${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard"
mkdir -p "$ZBLK_GENERATOR_ROOT/usr/lib/systemd/zblk-generator.conf.d" "$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf.d"
printf '[zblk5]\nzblk-size = 50\n' >"$ZBLK_GENERATOR_ROOT/usr/lib/systemd/zblk-generator.conf.d/20-a.conf"
printf '[zblk5]\nzblk-size = 70\n' >"$ZBLK_GENERATOR_ROOT/usr/lib/systemd/zblk-generator.conf.d/30-b.conf"
printf '[zblk5]\nzblk-size = 60\n' >"$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf.d/30-b.conf"
printf '[zblk5]\nzblk-size = 99\n' >"$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf.d/notconf.txt"
printf '[zblk6]\nzblk-size = 1\n' >"$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf.d/10-c.conf"
cfg "drop-ins by name after the main file; /etc's 30-b.conf hides /usr/lib's; not *.conf ignored" "$(printf '%s\n' \
	"zblk5${T}62914560${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard" \
	"zblk6${T}1048576${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard")"
printf '[zblk6]\nbroken\n' >"$ZBLK_GENERATOR_ROOT/etc/systemd/zblk-generator.conf.d/40-d.conf"
cfg "an error in a drop-in skips the device it names" \
	"zblk5${T}62914560${T}-${T}-${T}-${T}-${T}100${T}swap${T}-${T}discard"
says "drop-in error names its file" 'zblk-generator.conf.d/40-d.conf:2: [zblk6]: not a "key = value" line'

# ------------------------------------------------------------------- units
fresh 4096
conf <<'EOF'
[zblk0]
compression-algorithm = zstd
unit-size = 16384
swap-priority = 90

[zblk1]
zblk-size = 256
fs-type = ext4
mount-point = /var/tmp/zblk scratch
options = noatime,nodev

[zblk2]
zblk-size = 64
fs-type = ext2

[zblk3]
zblk-size = -1
EOF
out=$R/units
rm -rf "$out"; mkdir -p "$out" "$R/early" "$R/late"
"$gen" "$out" "$R/early" "$R/late" 2>"$R/err"; rc=$?
[ $rc = 0 ] && ok "generator exits 0 with a bad device in the file" || bad "generator exit $rc"
says "generator warns about the bad device" "[zblk3]: skipped, not set up"
mname='var-tmp-zblk\x20scratch.mount'
if command -v systemd-escape >/dev/null; then
	e=$(systemd-escape --path --suffix=mount "/var/tmp/zblk scratch")
	[ "$e" = "$mname" ] && ok "mount unit name matches systemd-escape: $e" || bad "systemd-escape says '$e', expected '$mname'"
fi
got=$(cd "$out" && find . | LC_ALL=C sort)
want=$(printf '%s\n' . ./dev-zblk0.swap ./local-fs.target.wants \
	"./local-fs.target.wants/$mname" ./local-fs.target.wants/zblk-setup@zblk2.service \
	./swap.target.wants ./swap.target.wants/dev-zblk0.swap "./$mname")
[ "$got" = "$want" ] && ok "files written" || { bad "files written:"; show "$got"; echo "    expected:"; show "$want"; }
[ -z "$(find "$R/early" "$R/late" -mindepth 1)" ] && ok "early and late dirs left empty" || bad "early/late dirs written"
expect_file() { # FILE WANT
	local got
	got=$(cat "$1" 2>&1)
	[ "$got" = "$2" ] && ok "${1##*/}: expected text" || { bad "${1##*/}: got"; show "$got"; echo "    expected:"; show "$2"; }
}
expect_file "$out/dev-zblk0.swap" '# Written by zblk-generator from zblk-generator.conf
[Unit]
Description=Compressed swap on /dev/zblk0 (zblk)
Documentation=man:zblk-generator(8) man:zblk-generator.conf(5)
BindsTo=zblk-setup@zblk0.service
After=zblk-setup@zblk0.service

[Swap]
What=/dev/zblk0
Priority=90
Options=discard'
expect_file "$out/$mname" '# Written by zblk-generator from zblk-generator.conf
[Unit]
Description=Compressed RAM file system on /dev/zblk1 (zblk)
Documentation=man:zblk-generator(8) man:zblk-generator.conf(5)
BindsTo=zblk-setup@zblk1.service
After=zblk-setup@zblk1.service

[Mount]
What=/dev/zblk1
Where=/var/tmp/zblk scratch
Type=ext4
Options=noatime,nodev'
l1=$(readlink "$out/swap.target.wants/dev-zblk0.swap") l2=$(readlink "$out/local-fs.target.wants/$mname")
l3=$(readlink "$out/local-fs.target.wants/zblk-setup@zblk2.service")
[ "$l1" = ../dev-zblk0.swap ] && [ "$l2" = "../$mname" ] && [ "$l3" = /usr/lib/systemd/system/zblk-setup@.service ] &&
	ok "wants links: $l1, $l2, $l3" || bad "wants links: '$l1' '$l2' '$l3'"
if command -v systemd-analyze >/dev/null; then
	# the units must load (the template from packaging/ beside them)
	cp "$top/packaging/zblk-setup@.service" "$out/"
	if v=$(cd "$out" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no ./dev-zblk0.swap "./$mname" 2>&1 |
		grep -v -e 'zblk-generator: No such file' -e 'is not executable' -e 'Command .* is not executable' -e '^$'); [ -z "$v" ]; then
		ok "systemd-analyze verify: no complaint"
	else
		echo "generator: note systemd-analyze verify says (not counted):"; show "$v"
	fi
fi

echo "BOOT_IMAGE=/vmlinuz root=/dev/vda systemd.zblk=0 ro" >"$ZBLK_GENERATOR_ROOT/proc/cmdline"
rm -rf "$out"; mkdir "$out"
"$gen" "$out" 2>"$R/err"
[ -z "$(ls -A "$out")" ] && ok "systemd.zblk=0 on the kernel command line: no unit" || bad "systemd.zblk=0: units written"
"$gen" 2>"$R/err" && bad "no output dir: exit 0" || ok "no output dir: refused"
"$gen" "$R/nonexistent" 2>"$R/err" && bad "missing output dir: exit 0" || ok "missing output dir: refused"

# ------------------------------------------------------------ setup / reset
# A fake sysfs for zblkctl, stubs for modprobe, mkswap and mkfs.* that log.
mkdev() {
	local s=$ZBLK_GENERATOR_ROOT/sys/block/$1
	mkdir -p "$s"
	echo 0 >"$s/disksize"; echo 0 >"$s/initstate"; echo 4096 >"$s/unit_size"
	echo "[lz4] lz4hc zstd" >"$s/comp_algorithm"; echo "algo=lz4" >"$s/algorithm_params"
	echo 0 >"$s/mem_limit"; : >"$s/reset"; echo "0 0 0 0 0 0 0 0 0" >"$s/mm_stat"
	: >"$ZBLK_GENERATOR_ROOT/dev/$1"
}
stubs=$R/bin
mkdir -p "$stubs"
for c in modprobe mkswap mkfs.ext4 mkfs.ext2; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/calls"\n[ ! -e "%s/fail-%s" ]\n' "$c" "$R" "$R" "$c" >"$stubs/$c"
	chmod +x "$stubs/$c"
done
setup_fresh() {
	fresh 4096
	mkdir -p "$ZBLK_GENERATOR_ROOT/sys/class/zblk-control" "$ZBLK_GENERATOR_ROOT/dev" \
		"$ZBLK_GENERATOR_ROOT/sys/devices/system/cpu"
	echo 0-1 >"$ZBLK_GENERATOR_ROOT/sys/devices/system/cpu/online"
	echo 1 >"$ZBLK_GENERATOR_ROOT/sys/class/zblk-control/hot_add"
	: >"$ZBLK_GENERATOR_ROOT/sys/class/zblk-control/hot_remove"
	mkdev zblk0; mkdev zblk1
	rm -f "$R/calls" "$R"/fail-*
	conf <<'EOF'
[zblk0]
zblk-size = 1024
compression-algorithm = zstd(level=7)
unit-size = 16384
zblk-resident-limit = 256
[zblk1]
zblk-size = 128
mount-point = /mnt/zblk1
[zblk2]
zblk-size = 64
[zblk3]
zblk-size = 1/0
EOF
}
attrs() { local s=$ZBLK_GENERATOR_ROOT/sys/block/$1; echo "$(cat "$s/unit_size") $(cat "$s/comp_algorithm") $(cat "$s/algorithm_params") $(cat "$s/disksize") $(cat "$s/mem_limit") reset=$(cat "$s/reset")"; }

setup_fresh
PATH=$stubs:$PATH "$gen" --setup-device zblk0 2>"$R/err"; rc=$?
got=$(attrs zblk0)
[ $rc = 0 ] && [ "$got" = "16384 zstd level=7 1073741824 268435456 reset=" ] &&
	ok "setup zblk0: unit_size, comp_algorithm, algorithm_params, disksize, mem_limit written: $got" ||
	{ bad "setup zblk0: exit $rc, attributes '$got'"; show "$(cat "$R/err")"; }
grep -q zblk3 "$R/err" && bad "setup zblk0 reports on zblk3 (the generator did already)" ||
	ok "setup zblk0 reports on zblk0 only"
[ "$(cat "$R/calls" 2>/dev/null)" = "mkswap -L zblk0 $ZBLK_GENERATOR_ROOT/dev/zblk0" ] &&
	ok "setup zblk0: mkswap, no modprobe (module loaded)" || { bad "setup zblk0 calls:"; show "$(cat "$R/calls" 2>&1)"; }

PATH=$stubs:$PATH "$gen" --setup-device zblk1 2>"$R/err"; rc=$?
[ $rc = 0 ] && [ "$(tail -n1 "$R/calls")" = "mkfs.ext4 -q $ZBLK_GENERATOR_ROOT/dev/zblk1" ] &&
	[ "$(attrs zblk1)" = "4096 [lz4] lz4hc zstd algo=lz4 134217728 0 reset=" ] &&
	ok "setup zblk1: disksize only, mkfs.ext4 (default fs-type with a mount point)" ||
	{ bad "setup zblk1: exit $rc, $(attrs zblk1)"; show "$(cat "$R/calls" "$R/err")"; }

setup_fresh
touch "$R/fail-mkswap"
PATH=$stubs:$PATH "$gen" --setup-device zblk0 2>"$R/err"; rc=$?
[ $rc != 0 ] && [ "$(cat "$ZBLK_GENERATOR_ROOT/sys/block/zblk0/reset")" = 1 ] &&
	ok "mkswap fails: exit $rc and the device is reset" || { bad "mkswap fails: exit $rc, reset='$(cat "$ZBLK_GENERATOR_ROOT/sys/block/zblk0/reset")'"; show "$(cat "$R/err")"; }

setup_fresh
PATH=$stubs:$PATH "$gen" --setup-device zblk3 2>"$R/err"; rc=$?
[ $rc != 0 ] && [ ! -e "$R/calls" ] && grep -q "zblk3: not configured" "$R/err" &&
	ok "setup of a device with a bad configuration: refused, nothing run" || { bad "setup zblk3: exit $rc"; show "$(cat "$R/err")"; }
PATH=$stubs:$PATH "$gen" --setup-device zblk7 2>"$R/err" && bad "setup of an unconfigured device: exit 0" ||
	ok "setup of an unconfigured device: refused"
PATH=$stubs:$PATH "$gen" --setup-device 'zblk0;x' 2>"$R/err" && bad "setup of 'zblk0;x': exit 0" ||
	ok "setup of a bad name: refused"
# zblk2 is configured but never appears (hot_add here creates nothing): bounded, fails
PATH=$stubs:$PATH timeout 20 "$gen" --setup-device zblk2 2>"$R/err"; rc=$?
[ $rc = 1 ] && grep -q "zblk2: could not be added" "$R/err" && ok "a device hot_add cannot create: fails in bounded time" ||
	{ bad "zblk2 never appears: exit $rc"; show "$(cat "$R/err")"; }
rm -rf "$ZBLK_GENERATOR_ROOT/sys/class/zblk-control"
touch "$R/fail-modprobe"
PATH=$stubs:$PATH "$gen" --setup-device zblk0 2>"$R/err"; rc=$?
[ $rc = 1 ] && [ "$(cat "$R/calls")" = "modprobe zblk" ] && grep -q "cannot load the zblk module" "$R/err" &&
	ok "module not loaded: modprobe zblk; its failure is reported" || { bad "modprobe: exit $rc"; show "$(cat "$R/calls" "$R/err" 2>&1)"; }

setup_fresh
echo 1 >"$ZBLK_GENERATOR_ROOT/sys/block/zblk0/initstate"
PATH=$stubs:$PATH "$gen" --reset-device zblk0 2>"$R/err"; rc=$?
[ $rc = 0 ] && [ "$(cat "$ZBLK_GENERATOR_ROOT/sys/block/zblk0/reset")" = 1 ] && ok "--reset-device writes reset" ||
	{ bad "--reset-device: exit $rc"; show "$(cat "$R/err")"; }
PATH=$stubs:$PATH "$gen" --reset-device zblk9 2>"$R/err" && ok "--reset-device of a missing device: nothing to do" ||
	bad "--reset-device of a missing device fails"

echo "generator: $((n - failed)) of $n checks passed"
[ $failed = 0 ]
