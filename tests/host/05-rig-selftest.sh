#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Rig self-test: tools/guest-run must pass a good script and fail a script
# that fails, hangs, makes the kernel WARN, or crashes the kernel, and fail a
# run whose kernel log shows any kind of report it scans for (a SLUB report, a
# hung task, a soft lockup, an RCU stall, kernel BUG at, ...). Runs on one
# kernel (ZBLK_RIG_KERNEL, default 6.1) with the stand-in zblk.ko from
# tests/rig/mod/, so that it tests the rig apart from the device code.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
. tools/lib/kernels.sh

kernel=${ZBLK_RIG_KERNEL:-6.1}
rel=$(zblk_kernel_release "$kernel")
kdir=$(zblk_kernel_headers "$kernel")
out=$top/build/rig/$rel
mkdir -p "$out"
cp tests/rig/mod/Kbuild tests/rig/mod/*.c "$out/"
echo "rig-selftest: building the rig modules for $rel"
if ! make -C "$kdir" M="$out" W=1 modules >"$out/build.log" 2>&1 || grep -E 'warning:|error:' "$out/build.log"; then
	cat "$out/build.log"
	echo "rig-selftest: building tests/rig/mod failed"
	exit 1
fi

data=$out/rig-data.bin
head -c 300000 /dev/urandom >"$data"
(cd "$out" && sha256sum rig-data.bin >rig-data.bin.sha256)

failed=0
last=0
# expect NAME STATUS [guest-run options...]; sets last to its duration
expect() {
	local name=$1 want=$2 got=0 t0
	shift 2
	t0=$(date +%s)
	tools/guest-run --kernel "$kernel" --quiet-boot --module "$out/zblk.ko" "$@" \
		"tests/rig/$name.sh" >"$out/$name.log" 2>&1 || got=$?
	if [ "$got" = "$want" ]; then
		echo "rig-selftest: ok   $name.sh -> exit $got as expected ($(( $(date +%s) - t0 ))s)"
		last=$(( $(date +%s) - t0 ))
	else
		echo "rig-selftest: FAIL $name.sh -> exit $got, expected $want; its output:"
		sed 's/^/    /' "$out/$name.log"
		failed=1
	fi
}

expect ok 0 --file "$data" --file "$data.sha256"
expect fail 1
# fail.sh's run is a boot and nothing else: give the hang twice that, so that
# the script has surely started on a busy machine too.
expect hang 124 --timeout $(( last * 2 + 20 ))
expect warn 126 --file "$out/zblk_rig_warn.ko"
expect panic 125
# Each kind of kernel report, written into the guest's log by a script that
# itself succeeds, must fail the run with status 126 (tools/lib/logscan.sh).
while IFS= read -r line; do
	d=$out/logline-$(printf '%s' "$line" | cksum | cut -d' ' -f1)
	mkdir -p "$d"
	printf '%s\n' "$line" >"$d/logline.txt"
	echo "rig-selftest: kernel log line: $line"
	expect logline 126 --file "$d/logline.txt"
	if ! grep -qF -- "$line" "$out/logline.log"; then
		echo "rig-selftest: FAIL the run did not print the offending line '$line'"
		failed=1
	fi
done <<'LINES'
BUG kmalloc-64 (Not tainted): Poison overwritten
BUG kmalloc-128 (Tainted: G           O      ): Redzone overwritten
BUG zblk_entry (Not tainted): Object padding overwritten
BUG kmalloc-2k (Not tainted): Freepointer corrupt
kernel BUG at mm/slub.c:4321!
INFO: task kworker/0:1:42 blocked for more than 120 seconds.
watchdog: BUG: soft lockup - CPU#1 stuck for 26s! [fio:123]
rcu: INFO: rcu_preempt self-detected stall on CPU
rcu: INFO: rcu_sched detected stalls on CPUs/tasks:
WARNING: possible circular locking dependency detected
pagealloc: memory corruption
LINES
# The scan must print the offending line, and the hang must keep its log.
grep -q 'WARNING:.*rig_warn' "$out/warn.log" || { echo "rig-selftest: the warn run did not print the WARNING line"; failed=1; }
grep -q 'rig: hanging on purpose' "$out/hang.log" || { echo "rig-selftest: hang.sh never started (boot slower than its timeout?)"; failed=1; }
grep -q 'console log kept: ' "$out/hang.log" || { echo "rig-selftest: the hang run did not report its console log"; failed=1; }
exit $failed
