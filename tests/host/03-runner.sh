#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tests/run cannot pass what it did not run: --only matching no test is an
# error (exit 2, a message), and a guest test not started because the time
# budget (ZBLK_CHECK_DEADLINE) is used up fails the run; tools/guest-run
# refuses an --append without kernel arguments.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
failed=0
say() { echo "runner: $*"; }

out=$(tests/run --only 'no-such-test*' 2>&1); rc=$?
if [ $rc = 2 ] && [[ $out == *"no test matches --only 'no-such-test*'"* ]]; then
	say "ok   --only matching nothing: exit 2, '$out'"
else
	say "FAIL --only matching nothing: exit $rc, output: $out"; failed=1
fi

out=$(tests/run --host-only --only 01-load 2>&1); rc=$?
if [ $rc = 2 ]; then
	say "ok   --host-only --only <a guest test>: exit 2"
else
	say "FAIL --host-only --only 01-load: exit $rc, output: $out"; failed=1
fi

# A deadline already past: the module is built, 01-load is not started.
out=$(ZBLK_CHECK_DEADLINE=$(date +%s) tests/run --kernel 6.1 --guest-only --only 01-load 2>&1); rc=$?
last=$(printf '%s\n' "$out" | tail -n1)
if [ $rc != 0 ] && [[ $out == *"FAIL 6.1 01-load"*"not run: out of time"* ]] && [ "$last" = "1 passed, 1 failed" ]; then
	say "ok   a test not run for lack of time fails the run: exit $rc, '$last'"
else
	say "FAIL out of time: exit $rc, output:"; printf '%s\n' "$out" | sed 's/^/    /'; failed=1
fi

# tools/guest-run refuses an --append without kernel arguments before it
# boots anything.
check_append() {
	local out rc
	out=$(tools/guest-run --no-header "$@" 2>&1); rc=$?
	if [ $rc = 2 ] && [[ $out == *"--append needs"* ]]; then
		say "ok   guest-run $*: exit 2, '$out'"
	else
		say "FAIL guest-run $*: exit $rc, output: $out"; failed=1
	fi
}
check_append --append
check_append --append "" tests/guest/01-load.sh
exit $failed
