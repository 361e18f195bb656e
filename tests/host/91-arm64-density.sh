#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 91-arm64-density: on the arm64-16k kernel (16K pages), the corpus stored in
# zblk with 16K units takes the memory tools/zblk-density predicts, and zblk's
# allocator uses the type table derived for 16K pages.
#
# 1. tools/zblk-density (alloc/zblk_alloc.c compiled unchanged in userspace)
#    is built with PAGE_SIZE 16K (and as usual, 4K) and run on the corpus
#    with --unit 16384, lz4 and zstd: expected compressed and allocated bytes;
#    --print-table gives the expected type table.
# 2. tests/arm64/density-guest.sh runs in a 6.12-arm64-16k guest: the corpus
#    written to zblk (16K and 4K units) and zram, read back byte for byte,
#    mm_stat printed, and the allocator's debugfs classes.
# 3. Checks, per algorithm: the guest's type table is the 16K one exactly;
#    compr_data_size within 3% of compressed_bytes; mem_used_total within
#    3% of allocated_bytes; zram's mem_used_total within 3% of the tool's
#    zsmalloc model (zsmalloc_bytes). Prints zblk vs zram memory side by side (a
#    measurement, not a pass/fail criterion) and writes it to
#    build/arm64/density.md.
#
# Run alone: tests/host/91-arm64-density.sh (from the top of the tree).
# Skipped (77) when tests/run was asked for other kernels only.
# ZBLK_ARM64_DENSITY_UNITS="16384 4096" also measures 4K units (slower: zstd
# at 4K units takes about 3 minutes under TCG). --replay LOG re-checks the
# output of an earlier guest run without booting.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
corpus=${ZBLK_CORPUS:-../shared/corpus/anon-a.bin.zst}
case "$corpus" in /*) ;; *) corpus=$top/$corpus ;; esac
out=$top/build/arm64
tol=3	# percent

replay=""
if [ "${1:-}" = --replay ]; then
	replay=${2:?--replay needs the log of a guest run}
	[ -r "$replay" ] || { echo "FAIL: no log $replay"; exit 2; }
fi

case " ${ZBLK_TEST_KERNELS:-6.12-arm64-16k} " in
*arm64*) ;;
*) echo "SKIP: the arm64-16k kernel is not among the kernels under test ($ZBLK_TEST_KERNELS)"; exit 77 ;;
esac
[ -r "$corpus" ] || { echo "FAIL: corpus $corpus missing (set ZBLK_CORPUS)"; exit 1; }
mkdir -p "$out"

echo "== building tools/zblk-density (4K pages) and a 16K-page build of it"
make -s -C tools zblk-density || { echo "FAIL: make -C tools failed"; exit 1; }
src=(tools/src/zblk-density.c tools/src/corpus.c alloc/zblk_alloc.c tests/alloc/shim/shim.c)
gcc -O2 -std=gnu11 -pthread -DSHIM_PAGE_SHIFT=14 -Itests/alloc/shim -I. -Itools/src \
	"${src[@]}" -o "$out/zblk-density-16k" -llz4 -lzstd -lm ||
	{ echo "FAIL: building the 16K-page zblk-density failed"; exit 1; }

# jget FILE KEY: a number from the tool's --json output
jget() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

for algo in lz4 zstd; do
	for ps in 16k 4k; do
		tool=$out/zblk-density-16k
		[ $ps = 4k ] && tool=tools/zblk-density
		"$tool" --unit 16384 --algo $algo --json "$corpus" >"$out/expect-$algo-$ps.json" ||
			{ echo "FAIL: $tool --unit 16384 --algo $algo failed"; exit 1; }
	done
	echo "-- zblk-density --unit 16384 --algo $algo (PAGE_SIZE 16K):" \
		"compressed $(jget "$out/expect-$algo-16k.json" compressed_bytes)," \
		"allocated $(jget "$out/expect-$algo-16k.json" allocated_bytes)" \
		"(with 4K pages: $(jget "$out/expect-$algo-4k.json" allocated_bytes))"
done
"$out/zblk-density-16k" --print-table --unit 16384 |
	awk '$1 == "#" && $2 == "type" { for (i = 2; i <= NF; i++) c[$i] = i - 1; next }
	     $1 ~ /^[0-9]+$/ { print $c["slot_size"], $c["slots_per_block"], $c["pages_per_block"] }' >"$out/table-16k.txt"

echo "== the corpus in zblk and zram on the 6.12-arm64-16k guest"
log=$out/density-guest.log
if [ -n "$replay" ]; then
	[ "$(readlink -f "$replay")" = "$(readlink -f "$log")" ] || cp "$replay" "$log"
	echo "(replaying $replay)"
else
	units=()
	if [ -n "${ZBLK_ARM64_DENSITY_UNITS:-}" ]; then
		echo "$ZBLK_ARM64_DENSITY_UNITS" >"$out/density-units"
		units=(--file "$out/density-units")
	fi
	# the corpus decompressed on the host too (as tests/run does): zstd -d
	# of 80 MiB takes minutes under TCG
	raw=$top/build/corpus/$(basename "$corpus" .zst)
	if [ ! -s "$raw" ] || [ "$corpus" -nt "$raw" ]; then
		mkdir -p "$(dirname "$raw")"
		zstd -q -dc "$corpus" >"$raw.tmp.$$" && mv "$raw.tmp.$$" "$raw" ||
			{ rm -f "$raw.tmp.$$"; echo "FAIL: cannot decompress $corpus"; exit 1; }
	fi
	tools/guest-run --kernel 6.12-arm64-16k --mem 768M --timeout 1800 --file "$corpus" \
		--file "$raw" "${units[@]}" tests/arm64/density-guest.sh 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	[ "$rc" = 0 ] || { echo "FAIL: the guest part failed (status $rc)"; exit 1; }
fi

fails=0
# within NAME GOT WANT: |GOT - WANT| <= tol% of WANT
within() {
	local d
	d=$(awk -v g="$2" -v w="$3" 'BEGIN { printf "%.2f", (g - w) * 100 / w }')
	if awk -v d="$d" -v t=$tol 'BEGIN { exit !(d <= t && d >= -t) }'; then
		echo "ok   $1: guest $2, zblk-density $3 ($d%)"
	else
		echo "FAIL $1: guest $2, zblk-density $3 ($d%, more than $tol% apart)"
		fails=$((fails + 1))
	fi
}

for algo in lz4 zstd; do
	classes=$(sed -n "s/^CLASSES $algo //p" "$log" | tr -d '\r')
	if [ -z "$classes" ]; then
		echo "FAIL $algo: no CLASSES line (debugfs classes) from the guest"
		fails=$((fails + 1))
	elif [ "$(echo "$classes" | tr ';' '\n' | awk '{ print $2, $3, $4 }')" = "$(cat "$out/table-16k.txt")" ]; then
		echo "ok   $algo: the guest's type table is the 16K-page one ($(wc -l <"$out/table-16k.txt") types)"
	else
		echo "FAIL $algo: the guest's type table differs from zblk-density --print-table at 16K pages"
		diff <(echo "$classes" | tr ';' '\n' | awk '{ print $2, $3, $4 }') "$out/table-16k.txt" | head -n 10
		fails=$((fails + 1))
	fi
	read -r _ _ _ _ _ orig compr mem _ <<<"$(grep "^DENSITY zblk 16384 $algo " "$log" | tr -d '\r')"
	if [ -z "${mem:-}" ]; then
		echo "FAIL $algo: no DENSITY line for zblk 16384 from the guest"
		fails=$((fails + 1))
		continue
	fi
	within "$algo orig_data_size" "$orig" "$(jget "$out/expect-$algo-16k.json" orig_bytes)"
	within "$algo compr_data_size" "$compr" "$(jget "$out/expect-$algo-16k.json" compressed_bytes)"
	within "$algo mem_used_total" "$mem" "$(jget "$out/expect-$algo-16k.json" allocated_bytes)"
	# zram on the same kernel against zblk-density's zsmalloc model (unit = page = 16K)
	zmem=$(grep "^DENSITY zram [0-9]* $algo " "$log" | tr -d '\r' | awk '{ print $8 }')
	if [ -n "$zmem" ]; then
		within "$algo zram mem_used_total vs the zsmalloc model" "$zmem" \
			"$(jget "$out/expect-$algo-16k.json" zsmalloc_bytes)"
	else
		echo "FAIL $algo: no DENSITY line for zram from the guest"
		fails=$((fails + 1))
	fi
done

# The side-by-side table (mm_stat: orig compr mem_used_total ...).
{
	echo "| device | algo | orig_data_size | compr_data_size | mem_used_total | memory per byte stored | zblk / zram |"
	echo "|---|---|---|---|---|---|---|"
	for algo in lz4 zstd; do
		zram=$(grep "^DENSITY zram [0-9]* $algo " "$log" | tr -d '\r' | awk '{ print $8 }')
		grep "^DENSITY [a-z]* [0-9]* $algo " "$log" | tr -d '\r' |
			awk -v zram="$zram" '{
				name = ($2 == "zram") ? "zram (zsmalloc, 16K pages)" : "zblk unit_size=" $3
				ratio = ($2 == "zram") ? "1" : sprintf("%.3f", $8 / zram)
				printf "| %s | %s | %.1f MiB | %.1f MiB | %.1f MiB | %.3f | %s |\n",
					name, $4, $6 / 1048576, $7 / 1048576, $8 / 1048576, $8 / $6, ratio
			}'
	done
} >"$out/density.md"
echo "== zblk vs zram on $(grep -m1 -o 'kernel [^ ,]*' "$log" | tr -d '\r'), corpus $(basename "$corpus") (build/arm64/density.md):"
cat "$out/density.md"

if [ $fails -gt 0 ]; then
	echo "FAIL: $fails check(s) failed"
	exit 1
fi
echo "PASS: guest density matches zblk-density at 16K pages within $tol%"
