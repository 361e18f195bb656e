#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 10-alloc-unit.sh - build alloc/zblk_alloc.c unchanged against the userspace
# shim in tests/alloc/shim/ and run its unit tests: with ASan+UBSan on 4K and
# on 16K pages (the latter with the 6.1 kernel API where it differs), and the
# concurrency test (page migration included) under ThreadSanitizer.
# Needs the corpus ($ZBLK_CORPUS, default ../shared/corpus/anon-a.bin.zst) for
# real compressed sizes. Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export ZBLK_CORPUS=${ZBLK_CORPUS:-../shared/corpus/anon-a.bin.zst}

if [ ! -r "$ZBLK_CORPUS" ]; then
	echo "10-alloc-unit: corpus '$ZBLK_CORPUS' not readable (set ZBLK_CORPUS)" >&2
	exit 1
fi
for h in /usr/include/lz4.h /usr/include/zstd.h; do
	if [ ! -e "$h" ]; then
		echo "10-alloc-unit: SKIP: $h missing (run tools/deps)"
		exit 77
	fi
done

log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! make -s -C tests/alloc all >"$log" 2>&1; then
	cat "$log" >&2
	echo "10-alloc-unit: build failed" >&2
	exit 1
fi
if grep -q 'warning:' "$log"; then
	cat "$log" >&2
	echo "10-alloc-unit: build has warnings" >&2
	exit 1
fi

rc=0
run() {
	echo "== $*"
	if ! "$@"; then
		echo "10-alloc-unit: FAILED: $*" >&2
		rc=1
	fi
}
run tests/alloc/out/test-asan types model failinj compact meta leak migrate conc
run tests/alloc/out/test-asan-16k --ops 300000 types model failinj compact meta leak migrate conc
TSAN_OPTIONS=halt_on_error=1:exitcode=66 run tests/alloc/out/test-tsan conc
exit $rc
