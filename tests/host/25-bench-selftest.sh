#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench --selftest: the bench's statistics (percentiles, bootstrap
# intervals, verdicts, per-repetition ratios), its mm_stat and memory-lost
# arithmetic, the packer-work sums, and zblk-load's histogram percentiles
# (built for this host). No guest; seconds. `make bench` itself stays out of
# `make check` (it needs an idle machine for half an hour per kernel).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(python3 "$top/tools/bench" --selftest 2>&1)
rc=$?
printf '%s\n' "$out" | sed 's/^/bench-selftest: /'
[ $rc = 0 ] && printf '%s\n' "$out" | grep -q '^bench selftest: ok$'
