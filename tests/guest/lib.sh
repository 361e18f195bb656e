# SPDX-License-Identifier: GPL-2.0
# Common helpers for guest tests (POSIX sh; the guest runs scripts under dash).
# In a guest script:   . /lib/zblk/lib.sh
#
# Messages go to stdout, which tools/guest-run streams to the host. Every
# check_* helper stops the test at the first failed check (exit 1) after saying
# what was expected and what was found, so a test cannot pass past a failure.
#
#   info MSG...               "-- MSG"
#   section MSG...            "== MSG" (marks a step in the output)
#   pass MSG...               "PASS: MSG" (a test may print several; exit is up to it)
#   fail MSG...               "FAIL: MSG", the last kernel log lines, exit 1
#   skip MSG...               "SKIP: MSG", exit 77
#   check CMD [ARG...]        run CMD; fail with its status and output if it fails
#   check_fails CMD [ARG...]  run CMD; fail if it succeeds
#   check_eq EXP ACT [WHAT]   fail unless ACT = EXP (strings)
#   check_ne A B [WHAT]       fail if A = B
#   check_num A OP B [WHAT]   integer comparison, OP one of -eq -ne -lt -le -gt -ge
#   check_contains HAY NEEDLE [WHAT]   fail unless string HAY contains NEEDLE
#   need_module NAME [PARAM=VALUE...]  modprobe NAME; fail (with dmesg) if it fails
#   dmesg_mark [LABEL]        put a marker line in the kernel log
#   dmesg_since_mark          kernel log lines after the last dmesg_mark
#   check_dmesg_has REGEX [WHAT]  fail unless the log since the mark matches REGEX
#   corpus_file [DEST]        decompress /files/anon-a.bin.zst (the corpus) to DEST
#                             or stdout; fail clearly if the test was not given it
#   corpus_path               path of the compressed corpus in the guest
#   corpus_raw_path           path of the decompressed corpus, if passed too
#   now_ms                    milliseconds since boot (for timing steps)
#   wait_for SECONDS CMD...   retry CMD every 0.1 s until it succeeds; fail on timeout
#   mem_free_kb / mem_avail_kb    MemFree / MemAvailable from /proc/meminfo
#
# Environment: ZBLK_SCRIPT_NAME (the test's file name), ZBLK_CORPUS_NAME
# (basename of the corpus under /files, default anon-a.bin.zst).

ZBLK_CORPUS_NAME=${ZBLK_CORPUS_NAME:-anon-a.bin.zst}
_zblk_mark=""

info() { echo "-- $*"; }
section() { echo "== $*"; }
pass() { echo "PASS: $*"; }

fail() {
	echo "FAIL: $*"
	echo "---- last kernel log lines ----"
	dmesg 2>/dev/null | tail -n 15
	exit 1
}

skip() {
	echo "SKIP: $*"
	exit 77
}

check() {
	_zblk_out=$("$@" 2>&1)
	_zblk_rc=$?
	if [ $_zblk_rc -ne 0 ]; then
		[ -z "$_zblk_out" ] || printf '%s\n' "$_zblk_out" | tail -n 20
		fail "command failed with status $_zblk_rc: $*"
	fi
	[ -z "$_zblk_out" ] || printf '%s\n' "$_zblk_out"
	return 0
}

check_fails() {
	if _zblk_out=$("$@" 2>&1); then
		[ -z "$_zblk_out" ] || printf '%s\n' "$_zblk_out" | tail -n 20
		fail "command succeeded but should have failed: $*"
	fi
	return 0
}

check_eq() {
	[ "$2" = "$1" ] || fail "${3:-value}: expected '$1', got '$2'"
}

check_ne() {
	[ "$1" != "$2" ] || fail "${3:-value}: expected something other than '$2'"
}

check_num() {
	case "$1" in ''|*[!0-9-]*) fail "${4:-value}: '$1' is not a number" ;; esac
	case "$3" in ''|*[!0-9-]*) fail "${4:-value}: '$3' is not a number" ;; esac
	case "$2" in
	-eq|-ne|-lt|-le|-gt|-ge) ;;
	*) fail "check_num: bad operator '$2'" ;;
	esac
	test "$1" "$2" "$3" || fail "${4:-value}: expected $1 $2 $3, which is false"
}

check_contains() {
	case "$1" in
	*"$2"*) ;;
	*) fail "${3:-text}: expected to contain '$2', got '$1'" ;;
	esac
}

need_module() {
	_zblk_m=$1
	shift
	_zblk_out=$(modprobe "$_zblk_m" "$@" 2>&1) ||
		fail "modprobe $_zblk_m $* failed: $_zblk_out"
}

dmesg_mark() {
	_zblk_mark="zblk-test-mark-$$-$(cut -d' ' -f1 /proc/uptime)${1:+-$1}"
	echo "$_zblk_mark" >/dev/kmsg
}

dmesg_since_mark() {
	if [ -z "$_zblk_mark" ]; then
		dmesg
	else
		dmesg | awk -v m="$_zblk_mark" 'found {print} index($0, m) {found = 1}'
	fi
}

check_dmesg_has() {
	_zblk_log=$(dmesg_since_mark)
	printf '%s\n' "$_zblk_log" | grep -Eq -- "$1" ||
		fail "${2:-kernel log}: no line matching '$1' in the kernel log since the mark${_zblk_log:+:
$_zblk_log}"
}

corpus_path() {
	echo "/files/$ZBLK_CORPUS_NAME"
}

# corpus_raw_path: the decompressed corpus, when the host passed it too
# (tests/run does: zstd under TCG takes minutes); empty otherwise.
corpus_raw_path() {
	_zblk_r=/files/${ZBLK_CORPUS_NAME%.zst}
	[ "$_zblk_r" != "/files/$ZBLK_CORPUS_NAME" ] && [ -r "$_zblk_r" ] && echo "$_zblk_r"
	return 0
}

corpus_file() {
	_zblk_c=$(corpus_path)
	_zblk_r=$(corpus_raw_path)
	if [ -n "$_zblk_r" ]; then
		if [ $# -eq 0 ]; then
			cat "$_zblk_r" || fail "reading $_zblk_r failed"
		else
			cat "$_zblk_r" >"$1" || fail "copying $_zblk_r to $1 failed"
		fi
		return 0
	fi
	[ -r "$_zblk_c" ] ||
		fail "corpus $_zblk_c missing: run with --file PATH/$ZBLK_CORPUS_NAME (tests/run does, from \$ZBLK_CORPUS)"
	if [ $# -eq 0 ]; then
		zstd -q -dc "$_zblk_c" || fail "zstd -dc $_zblk_c failed"
	else
		zstd -q -dc "$_zblk_c" >"$1" || fail "zstd -dc $_zblk_c > $1 failed"
	fi
}

now_ms() {
	awk '{printf "%d\n", $1 * 1000}' /proc/uptime
}

wait_for() {
	_zblk_t=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		_zblk_t=$((_zblk_t - 1))
		[ $_zblk_t -gt 0 ] || fail "timed out waiting for: $*"
		sleep 0.1
	done
}

mem_free_kb() { awk '/^MemFree:/ {print $2}' /proc/meminfo; }
mem_avail_kb() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
