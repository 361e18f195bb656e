#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/zblkctl against a fake /sys, /dev and /proc (ZBLKCTL_ROOT): the
# listing in each format (table, --raw, --bytes, --noheadings, --json, -o),
# setting a device up, --find, --reset, and bad input: every invalid option
# value is refused with a message and a non-zero exit before anything is
# written, and a setup whose last write fails puts the device back as it was.
# tests/guest/80-zblkctl.sh runs it against the real module.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
ctl=$top/tools/zblkctl
R=$(mktemp -d)
trap 'rm -rf "$R"' EXIT
export ZBLKCTL_ROOT=$R
failed=0 n=0
ok() { n=$((n + 1)); echo "zblkctl: ok   $*"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "zblkctl: FAIL $*"; }

mkdev() { # NAME DISKSIZE UNIT ALGOLINE MMSTAT
	local s=$R/sys/block/$1
	rm -rf "$s"
	mkdir -p "$s"
	echo "$2" >"$s/disksize"
	[ "$2" = 0 ] && echo 0 >"$s/initstate" || echo 1 >"$s/initstate"
	echo "$3" >"$s/unit_size"
	echo "$4" >"$s/comp_algorithm"
	echo "algo=zstd level=3" >"$s/algorithm_params"
	echo "$5" >"$s/mm_stat"
	echo 0 >"$s/mem_limit"
	: >"$s/reset"
}
fresh() {
	rm -rf "$R"/*
	mkdir -p "$R/sys/class/zblk-control" "$R/sys/devices/system/cpu" "$R/proc" "$R/dev" \
		"$R/sys/kernel/debug/zblk/zblk0"
	echo 0-3 >"$R/sys/devices/system/cpu/online"
	printf 'streams: 4\nbytes: 1\n' >"$R/sys/kernel/debug/zblk/zblk0/streams"
	mkdev zblk0 1073741824 16384 "lz4 lz4hc [zstd]" \
		"104857600 26214400 27262976 0 28311552 12 3 1 2 0 0"
	mkdev zblk1 0 4096 "[lz4] lz4hc zstd" "0 0 0 0 0 0 0 0 0"
	printf 'Filename\tType\tSize\tUsed\tPriority\n/dev/zblk0 partition 1048572 0 100\n' >"$R/proc/swaps"
	: >"$R/proc/mounts"
	echo 2 >"$R/sys/class/zblk-control/hot_add"
	: >"$R/sys/class/zblk-control/hot_remove"
}
# expect WHAT WANT CMD...: CMD's stdout is WANT exactly
expect() {
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>&1)
	if [ "$got" = "$want" ]; then ok "$what"; else bad "$what: got"; printf '%s\n' "$got" | sed 's/^/    | /'; echo "    expected:"; printf '%s\n' "$want" | sed 's/^/    | /'; fi
}
# refuse WHAT MSG CMD...: CMD fails, says MSG, and changes no file under $R
refuse() {
	local what=$1 msg=$2 before after out rc=0
	shift 2
	before=$(cd "$R" && find . -type f | sort | xargs md5sum)
	out=$("$@" 2>&1) || rc=$?
	after=$(cd "$R" && find . -type f | sort | xargs md5sum)
	if [ $rc = 0 ]; then bad "$what: exit 0 (output: $out)"
	elif [[ $out != *"$msg"* ]]; then bad "$what: message '$out' lacks '$msg'"
	elif [ "$before" != "$after" ]; then bad "$what: files changed"
	else ok "$what: exit $rc, '$out'"; fi
}

fresh
expect "default listing" "$(printf '%s\n' \
	'NAME       ALGORITHM DISKSIZE DATA COMPR TOTAL STREAMS UNIT-SIZE MOUNTPOINT' \
	'/dev/zblk0 zstd            1G 100M   25M   26M       4     16384 [SWAP]')" "$ctl"
expect "--bytes --raw --noheadings -o" \
	'/dev/zblk0 1073741824 104857600 26214400 12 3 4.00' \
	"$ctl" --bytes --raw --noheadings -o NAME,DISKSIZE,DATA,COMPR,ZERO-PAGES,MIGRATED,COMP-RATIO
expect "--output-all header" \
	'NAME DISKSIZE DATA COMPR ALGORITHM STREAMS ZERO-PAGES TOTAL MEM-LIMIT MEM-USED MIGRATED COMP-RATIO UNIT-SIZE MOUNTPOINT' \
	bash -c "'$ctl' --output-all --raw | head -n1"
expect "a named uninitialised device is listed" \
	'/dev/zblk1 lz4 0B' "$ctl" --raw -n -o name,algorithm,disksize /dev/zblk1
json=$("$ctl" --json --bytes -o NAME,DISKSIZE,ALGORITHM,STREAMS,COMP-RATIO,MOUNTPOINT)
if py=$(python3 -c 'import json,sys; d=json.load(sys.stdin)["zblkdevices"][0]; print(d["name"], d["disksize"], type(d["disksize"]).__name__, d["algorithm"], d["streams"], d["comp-ratio"], d["mountpoint"])' <<<"$json" 2>&1) &&
	[ "$py" = "/dev/zblk0 1073741824 int zstd 4 4.0 [SWAP]" ]; then
	ok "--json parses, numbers are numbers with --bytes: $py"
else
	bad "--json: $py"; printf '%s\n' "$json" | sed 's/^/    | /'
fi
json=$("$ctl" --json)
python3 -c 'import json,sys; d=json.load(sys.stdin)["zblkdevices"][0]; assert d["disksize"] == "1G", d' <<<"$json" &&
	ok "--json without --bytes: sizes as util-linux strings" || bad "--json sizes: $json"

refuse "unknown column" "unknown column: BOGUS" "$ctl" -o NAME,BOGUS
refuse "unknown option" "unrecognized option '--bogus'" "$ctl" --bogus
refuse "size ''" "requires an argument" "$ctl" -s '' /dev/zblk1
for s in 4X -1 1.5G 99999999999999999999 16E 0 '4 G'; do
	refuse "size '$s'" "invalid size" "$ctl" -s "$s" /dev/zblk1
done
refuse "unit size 8K" "invalid unit size '8K'" "$ctl" -s 64M -u 8K /dev/zblk1
refuse "algorithm 'no such'" "invalid algorithm name" "$ctl" -s 64M -a 'no such' /dev/zblk1
refuse "params 'level'" "invalid algorithm parameters" "$ctl" -s 64M -p level /dev/zblk1
refuse "mem limit 'x'" "invalid memory limit" "$ctl" -s 64M --mem-limit x /dev/zblk1
refuse "streams 0" "invalid number of streams" "$ctl" -s 64M -t 0 /dev/zblk1
refuse "setup of an initialised device" "already set up" "$ctl" -s 64M /dev/zblk0
refuse "setup without --size" "--size is required" "$ctl" -a zstd /dev/zblk1
refuse "not a zblk name" "not a zblk device name" "$ctl" -s 64M /dev/zram0
refuse "no such device" "no such device" "$ctl" -s 64M /dev/zblk7
refuse "--reset with setup options" "cannot be combined" "$ctl" -r -s 1G /dev/zblk1
refuse "--reset without a device" "needs a device" "$ctl" -r
refuse "--json --raw" "cannot be combined" "$ctl" --json --raw
refuse "unknown algorithm (not in comp_algorithm)" "unknown algorithm 'lzo'" "$ctl" -s 64M -a lzo /dev/zblk1

# Setup writes every attribute, disksize after the others.
out=$("$ctl" -s 64M -a zstd -u 16K -p level=9 --mem-limit 32M /dev/zblk1 2>&1); rc=$?
s=$R/sys/block/zblk1
got="$(cat "$s/unit_size") $(cat "$s/comp_algorithm") $(cat "$s/algorithm_params") $(cat "$s/disksize") $(cat "$s/mem_limit")"
[ $rc = 0 ] && [ "$got" = "16384 zstd level=9 67108864 33554432" ] &&
	ok "setup writes unit_size, comp_algorithm, algorithm_params, disksize, mem_limit: $got" ||
	bad "setup: exit $rc ($out), attributes: $got"

# A failing disksize write: everything is put back.
fresh
rm -f "$R/sys/block/zblk1/disksize"
mkdir "$R/sys/block/zblk1/disksize"
out=$("$ctl" -s 64M -a zstd -u 16K /dev/zblk1 2>&1); rc=$?
s=$R/sys/block/zblk1
got="$(cat "$s/unit_size") $(cat "$s/comp_algorithm")"
[ $rc != 0 ] && [ "$got" = "4096 lz4" ] && [[ $out == *"cannot set disksize"*"left as it was"* ]] &&
	ok "failed setup rolls back: exit $rc, unit_size/comp_algorithm back to '$got'" ||
	bad "rollback: exit $rc, '$out', attributes now '$got'"

fresh
expect "--find names the first free device" "/dev/zblk1" "$ctl" --find
mkdev zblk1 1 4096 "[lz4] lz4hc zstd" "0 0 0 0 0 0 0 0 0"
echo 1 >"$R/sys/block/zblk1/initstate"
out=$("$ctl" --find 2>&1)
[ "$out" = /dev/zblk2 ] && ok "--find adds a device (hot_add) when none is free" || bad "--find with none free: $out"
fresh
"$ctl" --reset /dev/zblk0 && [ "$(cat "$R/sys/block/zblk0/reset")" = 1 ] && ok "--reset writes reset" || bad "--reset"
out=$("$ctl" -s 64M -t 4 /dev/zblk1 2>&1) && [[ $out == *"--streams is ignored"* ]] &&
	ok "--streams N is accepted with a note, as zram ignores it: '$out'" || bad "--streams: $out"
expect "--version" "zblkctl from zblk $(cat "$top/VERSION")" "$ctl" --version
"$ctl" --help | grep -q -- '--unit-size' && ok "--help lists --unit-size" || bad "--help"

echo "zblkctl: $((n - failed)) of $n checks passed"
[ $failed = 0 ]
