# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# lib-zblk.sh - zblk device helpers for the guest tests (busybox sh).
# Sourced after /lib/zblk/lib.sh:
#
#     . /lib/zblk/lib.sh
#     . /lib/zblk/lib-zblk.sh
#
# Every helper is named zb_*; they build on lib.sh (section, info, fail,
# skip, pass, corpus_path). Failures go through zb_fail, which prints what the
# user would look at (mm_stat, io_stat, swaps, memory) and then lib.sh's fail
# (the end of dmesg, exit 1).
#
#   zb_step TEXT                 progress line with the guest uptime
#   zb_fail TEXT / zb_skip TEXT  exit 1 / exit 77
#   zb_load [PARAM=VALUE...]     modprobe zblk, check it loaded
#   zb_unload                    rmmod zblk, check every device is gone
#   zb_setup DEV UNIT ALGO SIZE [PARAMS]
#                                unit_size, comp_algorithm, algorithm_params,
#                                disksize; checks initstate and disksize
#   zb_reset DEV                 echo 1 > reset, checks initstate 0
#   zb_mm DEV FIELD              one mm_stat field by zram's name
#   zb_io DEV FIELD              one io_stat field by zram's name
#   zb_show_mm DEV               mm_stat with field names
#   zb_corpus                    decompressed corpus on stdout
#   zb_corpus_rot OFFSET         corpus rotated left by OFFSET bytes
#   zb_drop_caches               sync + drop the page cache
#   zb_expect_eq / _le / _ge / _lt / _gt WHAT GOT WANT
#   zb_write_ok ATTR VALUE       write must succeed
#   zb_write_bad ATTR VALUE [SHOW]  write must fail, SHOW (default ATTR)
#                                must read the same before and after
#   zb_fio NAME ARGS...          fio, fails the test on any error/mismatch
#   zb_fio_suite UNIT ALGO       the fio verify matrix for one device setup

ZB_CORPUS=${ZB_CORPUS:-$(corpus_path)}
ZB_CTL=/sys/class/zblk-control
ZB_DEBUGFS=/sys/kernel/debug/zblk
ZB_MIB=1048576

# mm_stat fields: zram's nine in zram's order, then zblk's own.
ZB_MM_FIELDS="orig_data_size compr_data_size mem_used_total mem_limit mem_used_max same_pages pages_compacted huge_pages huge_pages_since metadata_bytes"
# io_stat fields, zram's order.
ZB_IO_FIELDS="failed_reads failed_writes invalid_io notify_free"
# debug_stat (version 6), second line
ZB_DBG_VERSION=6
ZB_DBG_FIELDS="miss_free partial_writes partial_discards retried_free shrink_calls shrink_objects shrink_max_objects shrink_max_to_scan shrink_over shrink_ns shrink_max_ns split_blocks split_units packed_units repacked_units pack_skipped pack_failed pack_pending read_cache_hits lazy_bytes bg_compact_objects"

zb_now() { cut -d' ' -f1 /proc/uptime; }
ZB_T0=$(zb_now)

# zb_elapsed -> seconds since the test started, one decimal
zb_elapsed() {
	awk -v a="$ZB_T0" -v b="$(zb_now)" 'BEGIN { printf "%.1f", b - a }'
}

zb_step() { section "[$(zb_elapsed)s] $*"; }
zb_info() { info "$*"; }

# Everything a developer needs to see when a test fails.
zb_dump_state() {
	local d
	echo "---- state at failure ($(zb_elapsed)s) ----"
	for d in /sys/block/zblk*; do
		[ -d "$d" ] || continue
		echo "${d##*/}: initstate=$(cat "$d/initstate" 2>/dev/null)" \
			"disksize=$(cat "$d/disksize" 2>/dev/null)" \
			"unit_size=$(cat "$d/unit_size" 2>/dev/null)" \
			"comp_algorithm=$(cat "$d/comp_algorithm" 2>/dev/null)"
		echo "  mm_stat: $(cat "$d/mm_stat" 2>/dev/null)"
		echo "  io_stat: $(cat "$d/io_stat" 2>/dev/null)"
	done
	[ -r /proc/swaps ] && sed 's/^/  swaps: /' /proc/swaps
	grep -E '^(MemTotal|MemFree|MemAvailable|SwapTotal|SwapFree|Shmem):' /proc/meminfo | sed 's/^/  /'
}

zb_fail() {
	zb_dump_state
	fail "$* ($(zb_elapsed)s)"
}

zb_skip() { skip "$*"; }

zb_pass() {
	pass "${ZBLK_SCRIPT_NAME:-test}: ${*:-all checks} ($(zb_elapsed)s)"
	exit 0
}

# Numeric comparisons with a readable failure.
zb_expect_eq() { [ "$2" -eq "$3" ] 2>/dev/null || zb_fail "$1: got $2, expected $3"; }
zb_expect_le() { [ "$2" -le "$3" ] 2>/dev/null || zb_fail "$1: got $2, expected <= $3"; }
zb_expect_ge() { [ "$2" -ge "$3" ] 2>/dev/null || zb_fail "$1: got $2, expected >= $3"; }
zb_expect_lt() { [ "$2" -lt "$3" ] 2>/dev/null || zb_fail "$1: got $2, expected < $3"; }
zb_expect_gt() { [ "$2" -gt "$3" ] 2>/dev/null || zb_fail "$1: got $2, expected > $3"; }
zb_expect_str() { [ "$2" = "$3" ] || zb_fail "$1: got '$2', expected '$3'"; }

zb_mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }

# ---------------------------------------------------------------- module

zb_loaded() { grep -q '^zblk ' /proc/modules; }

zb_load() {
	local out
	if zb_loaded; then
		zb_fail "zb_load: zblk is already loaded"
	fi
	out=$(modprobe zblk "$@" 2>&1) || zb_fail "modprobe zblk $*: $out"
	zb_loaded || zb_fail "modprobe zblk $* returned 0 but zblk is not in /proc/modules"
	[ -d "$ZB_CTL" ] || zb_fail "$ZB_CTL missing after modprobe zblk $*"
	[ -d /sys/kernel/debug/zblk ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	true
}

# zb_count_devs -> number of /sys/block/zblkN
zb_count_devs() {
	local n=0 d
	for d in /sys/block/zblk*; do
		[ -e "$d" ] && n=$((n + 1))
	done
	echo $n
}

zb_count_nodes() {
	local n=0 d
	for d in /dev/zblk*; do
		[ -b "$d" ] && n=$((n + 1))
	done
	echo $n
}

zb_unload() {
	local out
	out=$(rmmod zblk 2>&1) || zb_fail "rmmod zblk: $out"
	zb_loaded && zb_fail "rmmod zblk returned 0 but zblk is still in /proc/modules"
	[ "$(zb_count_devs)" = 0 ] || zb_fail "after rmmod: /sys/block still has $(ls -d /sys/block/zblk* | tr '\n' ' ')"
	[ "$(zb_count_nodes)" = 0 ] || zb_fail "after rmmod: /dev still has $(ls /dev/zblk* | tr '\n' ' ')"
	[ -e "$ZB_CTL" ] && zb_fail "after rmmod: $ZB_CTL still exists"
	true
}

# ---------------------------------------------------------------- attributes

zb_attr() { cat "/sys/block/$1/$2"; }

# zb_write ATTR VALUE: write "VALUE\n" to ATTR in a single write(2), as
# `echo VALUE > ATTR` does; on failure print the error with its errno text
# (dd names it, the shell's echo may not) and return non-zero
zb_write() {
	printf '%s\n' "$2" | dd of="$1" bs=4096 count=1 2>&1 >/dev/null | grep -Ev 'records|bytes' | grep .
	# grep's status says whether dd complained; invert it
	[ $? -ne 0 ]
}

# zb_write_ok ATTR VALUE: the write must succeed
zb_write_ok() {
	local err
	err=$(zb_write "$1" "$2") || zb_fail "writing '$2' to $1 failed: $err"
	true
}

# zb_try_write ATTR VALUE: 0 if the write succeeded (no output)
zb_try_write() {
	zb_write "$1" "$2" >/dev/null
}

# zb_write_bad ATTR VALUE [SHOW]: writing VALUE must fail, and SHOW (a file
# to cat, default ATTR itself when readable) must be the same afterwards.
zb_write_bad() {
	local attr=$1 val=$2 show=${3:-$1} before after shown
	before=$(cat "$show" 2>/dev/null)
	shown=$(printf '%s' "$val" | head -c 40)
	[ ${#val} -gt 40 ] && shown="$shown... (${#val} bytes)"
	if zb_try_write "$attr" "$val"; then
		zb_fail "writing '$shown' to $attr succeeded; it must be refused"
	fi
	after=$(cat "$show" 2>/dev/null)
	[ "$before" = "$after" ] ||
		zb_fail "a refused write of '$shown' to $attr changed $show: '$before' -> '$after'"
	true
}

# zb_write_err ATTR VALUE ERRTEXT [SHOW]: like zb_write_bad, and the error
# the shell reports must contain ERRTEXT (e.g. "Invalid argument",
# "Device or resource busy")
zb_write_err() {
	local attr=$1 val=$2 want=$3 show=${4:-$1} before after err
	before=$(cat "$show" 2>/dev/null)
	if err=$(zb_write "$attr" "$val"); then
		zb_fail "writing '$val' to $attr succeeded; it must fail with '$want'"
	fi
	case "$err" in
	*"$want"*) ;;
	*) zb_fail "writing '$val' to $attr failed with '$err'; expected '$want'" ;;
	esac
	after=$(cat "$show" 2>/dev/null)
	[ "$before" = "$after" ] ||
		zb_fail "a refused write of '$val' to $attr changed $show: '$before' -> '$after'"
	true
}

# zb_write_bad_big ATTR CHAR [SHOW]: a single 4096-byte write of CHAR
# repeated must fail and change nothing.
zb_write_bad_big() {
	local attr=$1 ch=$2 show=${3:-$1} before after err f=/tmp/zb-big.$$
	head -c 4096 /dev/zero | tr '\0' "$ch" >"$f"
	before=$(cat "$show" 2>/dev/null)
	if err=$(dd if="$f" of="$attr" bs=4096 count=1 2>&1); then
		rm -f "$f"
		zb_fail "a 4096-byte write of '$ch...' to $attr succeeded; it must be refused"
	fi
	rm -f "$f"
	case "$err" in
	*"Invalid argument"*) ;;
	*) zb_fail "a 4096-byte write of '$ch...' to $attr failed with '$err'; expected 'Invalid argument'" ;;
	esac
	after=$(cat "$show" 2>/dev/null)
	[ "$before" = "$after" ] ||
		zb_fail "a refused 4096-byte write to $attr changed $show: '$before' -> '$after'"
	true
}

# zb_setup DEV UNIT ALGO SIZE [ALGO_PARAMS]
zb_setup() {
	local dev=$1 unit=$2 algo=$3 size=$4 params=${5:-} s=/sys/block/$1
	[ -d "$s" ] || zb_fail "zb_setup: no $s"
	zb_write_ok "$s/unit_size" "$unit"
	zb_expect_str "$dev unit_size" "$(cat "$s/unit_size")" "$unit"
	zb_write_ok "$s/comp_algorithm" "$algo"
	grep -q "\[$algo\]" "$s/comp_algorithm" ||
		zb_fail "$dev comp_algorithm shows '$(cat "$s/comp_algorithm")' after selecting $algo"
	[ -z "$params" ] || zb_write_ok "$s/algorithm_params" "$params"
	zb_write_ok "$s/disksize" "$size"
	zb_expect_str "$dev initstate" "$(cat "$s/initstate")" 1
	[ "$(cat "$s/disksize")" -gt 0 ] || zb_fail "$dev disksize is 0 after writing $size"
	[ -b "/dev/$dev" ] || zb_fail "/dev/$dev is not a block device"
	zb_info "$dev: unit_size=$unit comp_algorithm=$algo${params:+ ($params)} disksize=$(cat "$s/disksize")"
}

zb_reset() {
	local err
	err=$( { echo 1 >"/sys/block/$1/reset"; } 2>&1) || zb_fail "reset of $1 failed: $err"
	zb_expect_str "$1 initstate after reset" "$(cat "/sys/block/$1/initstate")" 0
}

# zb_field_index LIST NAME -> 1-based position of NAME in LIST
zb_field_index() {
	local i=1 f
	for f in $1; do
		[ "$f" = "$2" ] && { echo $i; return 0; }
		i=$((i + 1))
	done
	echo "zb_field_index: unknown field $2" >&2
	return 1
}

# zb_stat_field DEV FILE FIELDS NAME LINE -> field NAME (one of the list
# FIELDS) of line LINE of /sys/block/DEV/FILE; fails unless it is a number
zb_stat_field() {
	local f=/sys/block/$1/$2 i v
	i=$(zb_field_index "$3" "$4") || zb_fail "no $2 field '$4'"
	v=$(awk -v i="$i" -v n="$5" 'NR == n { print $i }' "$f")
	case "$v" in
	''|*[!0-9]*) zb_fail "$1 $2 field $i ($4) is '$v' ($2: $(sed -n "$5p" "$f"))" ;;
	esac
	echo "$v"
}

# zb_mm DEV FIELD -> value of one mm_stat field
zb_mm() { zb_stat_field "$1" mm_stat "$ZB_MM_FIELDS" "$2" 1; }

# zb_io DEV FIELD -> value of one io_stat field
zb_io() { zb_stat_field "$1" io_stat "$ZB_IO_FIELDS" "$2" 1; }

# zb_dbg DEV FIELD -> value of one debug_stat field (version $ZB_DBG_VERSION)
zb_dbg() {
	head -n1 "/sys/block/$1/debug_stat" | grep -q "^version: $ZB_DBG_VERSION\$" ||
		zb_fail "$1 debug_stat is not version $ZB_DBG_VERSION: $(head -n1 "/sys/block/$1/debug_stat")"
	zb_stat_field "$1" debug_stat "$ZB_DBG_FIELDS" "$2" 2
}

# zb_show_dbg DEV: the split/pack fields of debug_stat, for the log
zb_show_dbg() {
	local f line=
	for f in partial_writes split_blocks split_units packed_units repacked_units pack_skipped pack_failed pack_pending read_cache_hits lazy_bytes bg_compact_objects; do
		line="$line $f=$(zb_dbg "$1" $f)"
	done
	zb_info "$1 debug_stat:$line"
}

# zb_pack_settle DEV [SECONDS]: wait until the packer has nothing pending
# (it runs 10 ms after a unit is queued); fail after SECONDS (default 60)
zb_pack_settle() {
	local dev=$1 t=$((${2:-60} * 10))
	while [ "$(zb_dbg "$dev" pack_pending)" -gt 0 ]; do
		t=$((t - 1))
		[ $t -gt 0 ] || { zb_show_dbg "$dev"; zb_fail "$dev: the packer still has units pending after ${2:-60}s"; }
		sleep 0.1
	done
	# a unit queued while the last run ended may still be in flight
	sleep 0.2
}

# zb_census DEV KIND PRESENT FIELD: from debugfs zblkN/units, FIELD (units,
# bytes) of the units of KIND (same, one, dead, split) holding PRESENT blocks;
# zb_census DEV block WHERE FIELD: count or bytes of split units' blocks
# WHERE (old, obj, raw, lazy, same)
zb_census() {
	local f=$ZB_DEBUGFS/$1/units v
	[ -r $f ] || zb_fail "$f missing"
	if [ "$2" = block ]; then
		v=$(awk -v w="$3" -v c="$4" 'p && $1 == w { print (c == "count" ? $2 : $3) }
			/^block / { p = 1 }' $f)
	else
		v=$(awk -v k="$2" -v n="$3" -v c="$4" '/^block / { exit }
			$1 == k && $2 == n { print (c == "units" ? $3 : $4) }' $f)
	fi
	[ -n "$v" ] || zb_fail "$f has no $2 $3 $4: $(cat $f)"
	echo "$v"
}

# zb_census_check DEV: on an idle device (packer settled), the census of its
# units agrees with mm_stat and debug_stat: the blocks it counts are
# orig_data_size, the bytes of their objects compr_data_size, its split
# units split_units and its LAZY blocks' bytes lazy_bytes
zb_census_check() {
	local f=$ZB_DEBUGFS/$1/units sums
	[ -r $f ] || zb_fail "$f missing"
	cat $f >/tmp/census.$1
	zb_info "$1 units (debugfs):"
	sed 's/^/    /' /tmp/census.$1
	sums=$(awk '/^block / { b = 1; next }
		b && $1 == "lazy" { lazy = $3 }
		!b && $2 ~ /^[0-9]+$/ { blocks += $2 * $3; bytes += $4; if ($1 == "split") nsplit += $3 }
		END { printf "%d %d %d %d", blocks, bytes, nsplit, lazy }' /tmp/census.$1)
	set -- "$1" $sums
	zb_expect_eq "$1 census: blocks * 4096 against orig_data_size" $(($2 * 4096)) "$(zb_mm $1 orig_data_size)"
	zb_expect_eq "$1 census: object bytes against compr_data_size" "$3" "$(zb_mm $1 compr_data_size)"
	zb_expect_eq "$1 census: split units against split_units" "$4" "$(zb_dbg $1 split_units)"
	zb_expect_eq "$1 census: lazy block bytes against lazy_bytes" "$5" "$(zb_dbg $1 lazy_bytes)"
}

# zb_show_mm DEV [INDENT]: mm_stat, one named field a line
zb_show_mm() {
	awk -v names="$ZB_MM_FIELDS" -v ind="${2:-    }" -v dev="$1" '
	BEGIN { n = split(names, f, " ") }
	{
		printf "%s%s mm_stat:", ind, dev
		for (i = 1; i <= NF; i++) {
			name = (i <= n) ? f[i] : "field" i
			if (name ~ /size|mem_/)
				printf " %s=%s (%.1f MiB)", name, $i, $i / 1048576
			else
				printf " %s=%s", name, $i
		}
		printf "\n"
	}' "/sys/block/$1/mm_stat"
}

# ---------------------------------------------------------------- data

zb_need_corpus() {
	[ -r "$ZB_CORPUS" ] || zb_fail "corpus $ZB_CORPUS missing: run with --file @CORPUS@ (the test header says so)"
	command -v zstd >/dev/null || zb_fail "zstd is not in the guest"
}

# the host's decompressed copy when tests/run passed it (zstd in a TCG guest
# takes about 30 s per pass), else zstd
zb_corpus() {
	local raw
	raw=$(corpus_raw_path)
	if [ -n "$raw" ]; then
		cat "$raw"
	else
		zstd -q -dc "$ZB_CORPUS"
	fi
}

# zb_corpus_len -> decompressed size in bytes (from the frame header when
# zstd knows it, else by decompressing once)
zb_corpus_len() {
	local n
	if [ -z "${ZB_CORPUS_LEN:-}" ]; then
		n=$(zstd -lv "$ZB_CORPUS" 2>/dev/null | sed -n 's/.*Decompressed Size:.*(\([0-9]*\) B).*/\1/p' | head -n1)
		[ -n "$n" ] || n=$(zb_corpus | wc -c)
		ZB_CORPUS_LEN=$n
	fi
	echo "$ZB_CORPUS_LEN"
}

# zb_corpus_rot OFF: the corpus rotated left by OFF bytes (same length), so
# that several copies hold different page contents
zb_corpus_rot() {
	local off=$1 tmp=/tmp/zb-rot.$$
	# one decompression: the first OFF bytes are parked in a temporary file
	zb_corpus | {
		dd of=$tmp bs=1M iflag=count_bytes,fullblock count="$off" 2>/dev/null
		cat
		cat $tmp
	}
	rm -f $tmp
}

zb_drop_caches() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# zb_md5 -> md5 of stdin
zb_md5() { md5sum | cut -d' ' -f1; }

# zb_dev_md5 DEV OFFSET LEN [direct]: md5 of a byte range of /dev/DEV
# (OFFSET and LEN multiples of 64 KiB)
zb_dev_md5() {
	local bs=65536 flag=
	[ "${4:-}" = direct ] && flag="iflag=direct"
	# shellcheck disable=SC2086
	dd if="/dev/$1" bs=$bs skip=$(($2 / bs)) count=$(($3 / bs)) $flag 2>/dev/null | zb_md5
}

# ---------------------------------------------------------------- fio

# zb_fio NAME ARGS...: run fio, print one line per direction, fail on any
# error (a verify mismatch makes fio exit non-zero with verify_fatal=1)
zb_fio() {
	local name=$1 log=/tmp/zb-fio.$$.log rc=0
	shift
	fio --name="$name" --group_reporting --eta=never "$@" >"$log" 2>&1 || rc=$?
	if [ $rc -ne 0 ] || grep -qiE 'verify: bad|bad magic|crc32c: verify failed|err= *[1-9]' "$log"; then
		cat "$log"
		rm -f "$log"
		zb_fail "fio $name exited with $rc (see above): $*"
	fi
	grep -E '^ *(READ|WRITE|TRIM):' "$log" | sed -e "s/^ */    $name /" -e 's/ (\([0-9.]*[kMG]*B\/s\))//g'
	rm -f "$log"
}

# Options every verifying fio job uses: crc32c, stop at the first mismatch,
# data that compresses about 2:1 (all-random data would only exercise huge
# units).
ZB_FIO_VERIFY="--verify=crc32c --verify_fatal=1 --do_verify=1 --buffer_compress_percentage=50 --buffer_compress_chunk=4k --ioengine=psync"

# zb_fio_suite UNIT ALGO: configure zblk0 and run the fio verify matrix:
# sequential and random, 4k/16k/64k/1m blocks, 2 jobs on disjoint halves,
# O_DIRECT and buffered (with the page cache dropped before verifying).
zb_fio_suite() {
	local unit=$1 algo=$2 dev=zblk0 size=32M half=12M o
	zb_load num_devices=1
	zb_setup $dev "$unit" "$algo" "$size"
	o="--filename=/dev/$dev --numjobs=2 --offset_increment=$half --size=$half $ZB_FIO_VERIFY"

	zb_step "direct sequential write+verify, bs=4k, 2 jobs x $half"
	# shellcheck disable=SC2086
	zb_fio seq4k $o --direct=1 --rw=write --bs=4k
	zb_step "direct random write+verify, bs=64k"
	# shellcheck disable=SC2086
	zb_fio rand64k $o --direct=1 --rw=randwrite --bs=64k
	zb_step "direct random write+verify, bs=4k (partial units when unit_size > 4k)"
	# shellcheck disable=SC2086
	zb_fio rand4k $o --direct=1 --rw=randwrite --bs=4k --size=6M
	zb_step "direct sequential write+verify, bs=1m"
	# shellcheck disable=SC2086
	zb_fio seq1m $o --direct=1 --rw=write --bs=1m
	zb_step "direct random read/write mix with verify, bs=16k"
	# shellcheck disable=SC2086
	zb_fio randrw16k $o --direct=1 --rw=randrw --bs=16k --size=8M

	zb_step "buffered random write, bs=16k, fsync; drop caches; verify"
	# shellcheck disable=SC2086
	zb_fio bufw16k $o --direct=0 --rw=randwrite --bs=16k --do_verify=0 --end_fsync=1
	zb_drop_caches
	# shellcheck disable=SC2086
	zb_fio bufv16k $o --direct=0 --rw=randwrite --bs=16k --verify_only=1
	zb_step "buffered sequential write, bs=4k, fsync; drop caches; verify with O_DIRECT"
	# shellcheck disable=SC2086
	zb_fio bufw4k $o --direct=0 --rw=write --bs=4k --do_verify=0 --end_fsync=1
	zb_drop_caches
	# shellcheck disable=SC2086
	zb_fio bufv4k $o --direct=1 --rw=write --bs=4k --verify_only=1

	zb_show_mm $dev
	zb_expect_gt "$dev orig_data_size after the fio runs" "$(zb_mm $dev orig_data_size)" 0
	zb_expect_lt "$dev compr_data_size (fio data compresses ~2:1)" \
		"$(zb_mm $dev compr_data_size)" "$(zb_mm $dev orig_data_size)"
	zb_expect_eq "$dev io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	zb_expect_eq "$dev io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
	zb_reset $dev
	zb_unload
}

# ---------------------------------------------------------------- swap

# zb_swap_kb -> swap in use, kB
zb_swap_kb() {
	awk '/^SwapTotal:/ { t = $2 } /^SwapFree:/ { f = $2 } END { print t - f }' /proc/meminfo
}

# zb_page_size -> the kernel's page size in bytes
zb_page_size() { awk '/^KernelPageSize:/ { print $2 * 1024; exit }' /proc/self/smaps; }

zb_memtotal_kb() { awk '/^MemTotal:/ { print $2 }' /proc/meminfo; }

# zb_swap_test UNIT ALGO: zblk0 is the only swap of a small guest, and the
# writer and reader of the data live in a memory cgroup limited to
# ZB_SWAP_MAX_MB (32 MiB) while they put 3x that in tmpfs: six 16 MiB slices
# of the corpus (each slice's md5 taken from the corpus, before it enters the
# cgroup). Most of the data must be swapped out to zblk (swap use and
# orig_data_size are checked), then every file is read back in the cgroup,
# swapping it in, and compared. tmpfs is unmounted and swapoff must succeed.
#
# Why a cgroup and not the whole guest: zblk keeps the compressed pages in
# the guest's own RAM, so data several times the size of the guest's RAM
# cannot fit; a working set three times the memory its tasks may use can,
# and reclaim still has to push it through zblk and back.
ZB_SWAP_MAX_MB=${ZB_SWAP_MAX_MB:-32}
ZB_CG=/sys/fs/cgroup

# zb_cg_setup NAME MAXMB: a memory cgroup $ZB_CG/NAME with memory.max
zb_cg_setup() {
	grep -q " $ZB_CG cgroup2 " /proc/mounts || mount -t cgroup2 none $ZB_CG ||
		zb_fail "cannot mount cgroup2 on $ZB_CG"
	grep -qw memory $ZB_CG/cgroup.controllers || zb_fail "no memory cgroup controller"
	echo +memory >$ZB_CG/cgroup.subtree_control || zb_fail "cannot enable the memory controller"
	mkdir -p "$ZB_CG/$1" || zb_fail "cannot create cgroup $1"
	echo $(($2 * ZB_MIB)) >"$ZB_CG/$1/memory.max" || zb_fail "cannot set $1 memory.max"
}

# zb_oom_kills NAME -> OOM kills in cgroup NAME so far (memory.events)
zb_oom_kills() { awk '$1 == "oom_kill" { print $2 }' "$ZB_CG/$1/memory.events"; }

# zb_slice I: 16 MiB of the corpus starting at I x 13 MiB (mod its length)
zb_slice() {
	local len mib raw
	len=$(zb_corpus_len)
	mib=$(( ($1 * 13) % (len / ZB_MIB - 16) ))
	raw=$(corpus_raw_path)
	if [ -n "$raw" ]; then
		dd if="$raw" bs=1M skip=$mib count=16 2>/dev/null
	else
		zb_corpus 2>/dev/null | dd bs=1M skip=$mib count=16 iflag=fullblock 2>/dev/null
	fi
}

# zb_swap_all_freed DEV: after swapoff swap has freed every slot, so only the
# swap header's unit may stay stored: frees that found their unit locked
# (debug_stat miss_free) must have been retried (retried_free). Waits up to
# 30 s for the retries.
zb_swap_all_freed() {
	local dev=$1 t=300 unit orig
	unit=$(cat /sys/block/$dev/unit_size)
	while [ $t -gt 0 ]; do
		orig=$(zb_mm $dev orig_data_size)
		[ "$orig" -le "$unit" ] && break
		sleep 0.1
		t=$((t - 1))
	done
	zb_info "after swapoff: io_stat notify_free $(zb_io $dev notify_free);" \
		"miss_free $(zb_dbg $dev miss_free), retried_free $(zb_dbg $dev retried_free)"
	zb_show_dbg $dev
	zb_show_mm $dev
	zb_expect_le "orig_data_size after swapoff (the swap header's unit only; missed frees must be retried)" "$orig" "$unit"
	zb_expect_le "compr_data_size after swapoff" "$(zb_mm $dev compr_data_size)" "$unit"
	zb_expect_le "mem_used_total after swapoff" "$(zb_mm $dev mem_used_total)" $((256 * 1024))
}

zb_swap_test() {
	local unit=$1 algo=$2 dev=zblk0 mnt=/mnt/swapfill cg=zblk-swap
	local max=$ZB_SWAP_MAX_MB nfiles total i want got swkb orig
	zb_need_corpus
	nfiles=$((3 * max / 16))
	total=$((nfiles * 16 * ZB_MIB))
	grep -q '^/' /proc/swaps && zb_fail "a swap device is already active: $(cat /proc/swaps)"
	zb_info "guest RAM $(($(zb_memtotal_kb) / 1024)) MiB; cgroup memory.max ${max} MiB;" \
		"$nfiles x 16 MiB = $((total / ZB_MIB)) MiB of corpus slices in tmpfs"

	zb_load num_devices=1
	zb_setup $dev "$unit" "$algo" $((total + 64 * ZB_MIB))
	zb_step "mkswap + swapon /dev/$dev"
	mkswap /dev/$dev >/dev/null || zb_fail "mkswap /dev/$dev failed"
	swapon -p 100 /dev/$dev || zb_fail "swapon /dev/$dev failed"
	grep -q "^/dev/$dev " /proc/swaps || zb_fail "/dev/$dev not in /proc/swaps: $(cat /proc/swaps)"
	zb_cg_setup $cg "$max"
	mkdir -p $mnt
	mount -t tmpfs -o size=$((total / ZB_MIB + 16))M tmpfs $mnt || zb_fail "mounting tmpfs failed"

	: >/tmp/swap.md5
	i=1
	while [ $i -le "$nfiles" ]; do
		echo "$(zb_slice $i | zb_md5)" >>/tmp/swap.md5
		# the writer runs in the cgroup: the tmpfs pages are charged there
		echo $$ >$ZB_CG/$cg/cgroup.procs || zb_fail "cannot join $cg"
		zb_slice $i >$mnt/f$i || zb_fail "writing $mnt/f$i failed"
		echo $$ >$ZB_CG/cgroup.procs || zb_fail "cannot leave $cg"
		zb_expect_eq "size of $mnt/f$i" "$(wc -c <$mnt/f$i)" $((16 * ZB_MIB))
		zb_step "file $i/$nfiles written: swap used $(($(zb_swap_kb) / 1024)) MiB," \
			"orig_data_size $(zb_mib "$(zb_mm $dev orig_data_size)")"
		i=$((i + 1))
	done
	zb_show_mm $dev
	swkb=$(zb_swap_kb)
	orig=$(zb_mm $dev orig_data_size)
	# all but the cgroup's memory.max (and some slack for what reclaim
	# left in the swap cache) must have gone to swap
	zb_expect_ge "swap used in kB ($((total / ZB_MIB)) MiB written, memory.max ${max}M)" \
		"$swkb" $(( (total / ZB_MIB - max - 8) * 1024 ))
	zb_expect_ge "orig_data_size while swapped out" "$orig" $(( (total / ZB_MIB - max - 8) * ZB_MIB ))
	if [ "$unit" -gt "$(zb_page_size)" ]; then
		# swap writes single pages: 16K units are split, then packed
		zb_pack_settle $dev
		zb_show_dbg $dev
		zb_expect_gt "split_blocks (pages swapped out into 16K units)" "$(zb_dbg $dev split_blocks)" 0
		zb_expect_gt "packed_units (filled units stored whole by the packer)" "$(zb_dbg $dev packed_units)" 0
		zb_expect_eq "pack_failed" "$(zb_dbg $dev pack_failed)" 0
	fi

	zb_step "read every file back in the cgroup (swapping it in) and check its md5"
	echo $$ >$ZB_CG/$cg/cgroup.procs || zb_fail "cannot join $cg"
	i=1
	while [ $i -le "$nfiles" ]; do
		want=$(sed -n "${i}p" /tmp/swap.md5)
		got=$(zb_md5 <$mnt/f$i)
		[ "$got" = "$want" ] || zb_fail "$mnt/f$i: md5 $got after swapping, $want in the corpus"
		i=$((i + 1))
	done
	echo $$ >$ZB_CG/cgroup.procs || zb_fail "cannot leave $cg"
	zb_info "all $nfiles files intact; swap used $(($(zb_swap_kb) / 1024)) MiB"
	zb_info "io_stat: $(cat /sys/block/$dev/io_stat) (failed_reads failed_writes invalid_io notify_free)"
	zb_expect_eq "io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	zb_expect_eq "io_stat failed_writes" "$(zb_io $dev failed_writes)" 0

	zb_step "umount tmpfs, swapoff"
	umount $mnt || zb_fail "umount $mnt failed"
	# swapoff brings back what is left, charged to the cgroup: lift the limit
	echo max >$ZB_CG/$cg/memory.max
	swapoff /dev/$dev || zb_fail "swapoff /dev/$dev failed"
	grep -q "^/dev/$dev " /proc/swaps && zb_fail "/dev/$dev still in /proc/swaps after swapoff"
	rmdir $ZB_CG/$cg
	zb_show_mm $dev
	zb_swap_all_freed $dev
	zb_reset $dev
	zb_unload
}

# ---------------------------------------------------------------- compaction

# zb_trim_scattered DEV UNIT LEN PERCENT: discard PERCENT% of the units of
# the first LEN bytes, chosen at random (fixed seed, so another device of the
# same size gets exactly the same units discarded), one unit per discard
zb_trim_scattered() {
	local dev=$1 unit=$2 len=$3 pct=$4 units
	units=$((len / unit))
	zb_fio trim "--filename=/dev/$dev" --ioengine=psync --rw=randtrim "--bs=$unit" \
		"--size=$len" "--number_ios=$((units * pct / 100))" --randseed=4242 --randrepeat=1
}

# zb_ratio A B -> A/B with 4 decimals
zb_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.4f", a / b }'; }

# zb_within A B PCT -> true if A <= B * (100 + PCT) / 100
zb_within() { awk -v a="$1" -v b="$2" -v p="$3" 'BEGIN { exit !(a <= b * (100 + p) / 100) }'; }

# zb_freeable DEV -> sum of the debugfs classes column "freeable" (pages
# compaction could free); fails if there is no such column
zb_freeable() {
	local f=$ZB_DEBUGFS/$1/classes v
	[ -r "$f" ] || zb_fail "$f missing"
	# sum the per-type rows (first column a number), not the "total" row
	v=$(awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "freeable") c = i; next }
		c && $1 ~ /^[0-9]+$/ && $c ~ /^[0-9]+$/ { s += $c } END { if (c) print s + 0 }' "$f")
	[ -n "$v" ] || zb_fail "debugfs classes has no 'freeable' column: $(head -n1 "$f")"
	echo "$v"
}

# zb_pool_pages DEV: pages the pool holds (debugfs classes, total row)
zb_pool_pages() {
	local v
	v=$(awk '$1 == "total" { print $8 }' "$ZB_DEBUGFS/$1/classes")
	[ -n "$v" ] || zb_fail "debugfs classes of $1 has no total row"
	echo "$v"
}

# zb_bg_slack PAGES: the pages the packer's compaction leaves freeable in a
# pool of PAGES pages (a 32nd, at least 64: zblkdev/compact.c)
zb_bg_slack() {
	local s=$(($1 / 32))
	[ $s -ge 64 ] || s=64
	echo $s
}

# zb_bg_compact_settle DEV: wait (up to 30 s) until the pages compaction could
# free are within the packer's slack (zb_bg_slack), as the packer's own
# compaction leaves them; fail if not
zb_bg_compact_settle() {
	local f p slack t=300
	while :; do
		f=$(zb_freeable "$1") p=$(zb_pool_pages "$1")
		slack=$(zb_bg_slack "$p")
		[ "$f" -le $slack ] && break
		t=$((t - 1))
		[ $t -gt 0 ] || zb_fail "$1: $f pages freeable of $p, above the packer's slack of $slack after 30 s"
		sleep 0.1
	done
	zb_info "$1: $f pages freeable of $p (slack $slack), bg_compact_objects $(zb_dbg "$1" bg_compact_objects)"
}

# zb_classes DEV: the debugfs classes table, for the log
zb_classes() {
	local f=$ZB_DEBUGFS/$1/classes
	if [ -r "$f" ]; then
		# the header, the types that hold blocks (5th column), the total
		awk 'NR == 1 || $5 > 0 || $1 !~ /^[0-9]+$/' "$f" | sed 's/^/      /' | tail -n 60
	else
		zb_info "($f missing)"
	fi
}

# zb_compact_density UNIT ALGO: fill zblk0 with the corpus, discard a
# scattered 75% of its units, compact; then
# - pages_compacted grew and mem_used_total went down;
# - memory per stored compressed byte is within 5% of a fresh device (zblk1)
#   holding the same data;
# - mem_used_total is no more than zram's after the same steps and its own
#   compact (zram with the same algorithm, 4 KiB pages);
# - zblk0 reads back exactly as zram0 (same data, same discards).
zb_compact_density() {
	local u=$1 algo=$2 len m0 c0 p0 m1 c1 p1 mf cf mz cz pz md5a md5b f0 f1 dp
	zb_need_corpus
	len=$(zb_corpus_len)
	zb_load num_devices=2
	zb_setup zblk0 "$u" "$algo" "$len"
	zb_step "fill zblk0 with the corpus, discard a scattered 75% of its $((len / u)) units"
	zb_corpus | dd of=/dev/zblk0 bs=1M iflag=fullblock oflag=direct 2>/dev/null || zb_fail "writing the corpus failed"
	zb_trim_scattered zblk0 "$u" "$len" 75
	zb_expect_eq "orig_data_size after discarding 75% of the units" "$(zb_mm zblk0 orig_data_size)" \
		$(( (len / u - len / u * 75 / 100) * u))
	m0=$(zb_mm zblk0 mem_used_total) c0=$(zb_mm zblk0 compr_data_size) p0=$(zb_mm zblk0 pages_compacted)
	zb_show_mm zblk0
	zb_info "before compact: mem_used_total/compr_data_size = $(zb_ratio "$m0" "$c0")"
	zb_info "debugfs classes before compact:"
	zb_classes zblk0
	md5a=$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)
	f0=$(zb_freeable zblk0)

	zb_step "echo 1 > compact"
	zb_write_ok /sys/block/zblk0/compact 1
	m1=$(zb_mm zblk0 mem_used_total) c1=$(zb_mm zblk0 compr_data_size) p1=$(zb_mm zblk0 pages_compacted)
	zb_show_mm zblk0
	zb_info "after compact: mem_used_total $(zb_mib "$m0") -> $(zb_mib "$m1"), pages_compacted $p0 -> $p1," \
		"mem/compr $(zb_ratio "$m1" "$c1")"
	zb_info "debugfs classes after compact:"
	zb_classes zblk0
	zb_expect_gt "pages_compacted after compact" "$p1" "$p0"
	zb_expect_lt "mem_used_total after compact" "$m1" "$m0"
	zb_expect_eq "compr_data_size unchanged by compact" "$c1" "$c0"
	# pages_compacted counts the pages compaction freed: it must match the
	# drop of mem_used_total (2% + 16 pages of slack for metadata)
	# pages_compacted counts kernel pages (16 KiB on arm64-16k)
	dp=$(( (m0 - m1) / $(zb_page_size) ))
	awk -v d=$dp -v p=$((p1 - p0)) 'BEGIN { x = d - p; if (x < 0) x = -x; exit !(x <= 16 + d / 50) }' ||
		zb_fail "pages_compacted grew by $((p1 - p0)) but mem_used_total fell by $dp pages"
	f1=$(zb_freeable zblk0)
	zb_info "debugfs classes: freeable pages $f0 before compact, $f1 after"
	zb_expect_ge "freeable pages shown before compact (vs pages it then freed, -10%)" "$f0" $(( (p1 - p0) * 9 / 10))
	zb_expect_le "freeable pages shown before compact (vs pages it then freed, +10% +16)" "$f0" $(( (p1 - p0) * 11 / 10 + 16))
	zb_expect_le "freeable pages shown after compact" "$f1" $((f0 / 10 + 16))
	md5b=$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)
	zb_expect_str "md5 of zblk0 after compact (same as before)" "$md5b" "$md5a"

	zb_step "copy the surviving data to a fresh zblk1"
	zb_setup zblk1 "$u" "$algo" "$len"
	dd if=/dev/zblk0 of=/dev/zblk1 bs=1M iflag=direct oflag=direct 2>/dev/null || zb_fail "copying zblk0 to zblk1 failed"
	mf=$(zb_mm zblk1 mem_used_total) cf=$(zb_mm zblk1 compr_data_size)
	zb_show_mm zblk1
	zb_info "fresh: mem/compr $(zb_ratio "$mf" "$cf"); compacted: mem/compr $(zb_ratio "$m1" "$c1")"
	zb_expect_eq "fresh device compr_data_size (same data)" "$cf" "$c1"
	zb_within "$(zb_ratio "$m1" "$c1")" "$(zb_ratio "$mf" "$cf")" 5 ||
		zb_fail "after compact, memory per compressed byte $(zb_ratio "$m1" "$c1") is more than 5% above a fresh device's $(zb_ratio "$mf" "$cf")"

	zb_step "zram, same algorithm: same corpus, same discards, compact"
	modprobe zram num_devices=1 || zb_fail "modprobe zram failed"
	echo "$algo" >/sys/block/zram0/comp_algorithm || zb_fail "zram does not take comp_algorithm $algo"
	echo "$len" >/sys/block/zram0/disksize || zb_fail "zram disksize failed"
	zb_corpus | dd of=/dev/zram0 bs=1M iflag=fullblock oflag=direct 2>/dev/null || zb_fail "writing the corpus to zram0 failed"
	zb_trim_scattered zram0 "$u" "$len" 75
	echo 1 >/sys/block/zram0/compact || zb_fail "zram compact failed"
	zb_show_mm zram0
	mz=$(awk '{ print $3 }' /sys/block/zram0/mm_stat) cz=$(awk '{ print $2 }' /sys/block/zram0/mm_stat)
	pz=$(awk '{ print $7 }' /sys/block/zram0/mm_stat)
	zb_info "after compact: zblk $(zb_mib "$m1") vs zram $(zb_mib "$mz") (zram pages_compacted $pz);" \
		"per compressed byte zblk $(zb_ratio "$m1" "$c1"), zram $(zb_ratio "$mz" "$cz")"
	cmp /dev/zblk0 /dev/zram0 || zb_fail "zblk0 and zram0 differ after the same writes, discards and compaction"
	zb_expect_le "zblk mem_used_total after compact vs zram's after its compact" "$m1" "$mz"
	echo 1 >/sys/block/zram0/reset
	rmmod zram
	zb_reset zblk1
	zb_reset zblk0
	zb_unload
}

# zb_bg_compact DEV STOP ERRS OUT PAUSE: in the background, write DEV's
# `compact` every PAUSE seconds until the file STOP exists, failures appended
# to ERRS; then the number of compactions goes to the file OUT. Sets cpid.
zb_bg_compact() {
	(
		n=0
		while [ ! -e "$2" ]; do
			echo 1 >"/sys/block/$1/compact" 2>>"$3" || echo "compact write failed" >>"$3"
			n=$((n + 1))
			sleep "$5"
		done
		echo $n >"$4"
	) &
	cpid=$!
}

# zb_compact_fio UNIT ALGO: fio write+verify (2 jobs, random 4k and 16k
# writes that keep overwriting, so slots are freed all over the blocks) on
# [0, 64M) while, in the background, `compact` is written every 0.1 s, units
# of a corpus copy at [144M, 224M) are discarded and rewritten at random (more
# sparse blocks), and a reader checks that an untouched corpus copy at
# [64M, 144M) keeps its md5. No mismatch anywhere; at least 10 compactions ran
# during fio; pages_compacted grows.
zb_compact_fio() {
	local u=$1 algo=$2 dev=zblk0 stop=/tmp/compact.stop errs=/tmp/compact.err
	local want p0 p1 cpid dpid rpid n o
	zb_need_corpus
	zb_load num_devices=1
	zb_setup $dev "$u" "$algo" 256M
	zb_step "write two corpus copies at 64M and 144M"
	zb_corpus | dd of=/dev/$dev bs=1M seek=64 iflag=fullblock oflag=direct 2>/dev/null || zb_fail "corpus write failed"
	zb_corpus | dd of=/dev/$dev bs=1M seek=144 iflag=fullblock oflag=direct 2>/dev/null || zb_fail "corpus write failed"
	want=$(zb_corpus | zb_md5)
	p0=$(zb_mm $dev pages_compacted)
	rm -f $stop $errs

	# compactor: compact as often as it can
	zb_bg_compact $dev $stop $errs /tmp/compact.rounds 0.1
	# discarder: discard 16 random units of the second copy, rewrite 4
	# with random data, repeat (keeps making sparse blocks)
	(
		n=0
		while [ ! -e $stop ]; do
			for o in $(awk -v s=$n -v u="$u" 'BEGIN { srand(s); for (i = 0; i < 16; i++) print int(rand() * 80 * 1048576 / u) }'); do
				blkdiscard -o $((144 * ZB_MIB + o * u)) -l "$u" /dev/$dev 2>>$errs || echo "blkdiscard failed" >>$errs
			done
			for o in $(awk -v s=$n -v u="$u" 'BEGIN { srand(s + 7); for (i = 0; i < 4; i++) print int(rand() * 80 * 1048576 / u) }'); do
				head -c "$u" /dev/urandom | dd of=/dev/$dev bs="$u" seek=$((144 * ZB_MIB / u + o)) oflag=direct 2>/dev/null ||
					echo "rewrite failed" >>$errs
			done
			n=$((n + 1))
		done
		echo "discarder: $n rounds" >/tmp/discard.rounds
	) &
	dpid=$!
	# reader: the first corpus copy must never change
	(
		n=0
		while [ ! -e $stop ]; do
			got=$(dd if=/dev/$dev bs=1M skip=64 count=80 iflag=direct 2>/dev/null | zb_md5)
			[ "$got" = "$want" ] || echo "reader: corpus copy md5 $got != $want in round $n" >>$errs
			n=$((n + 1))
		done
		echo "reader: $n rounds" >/tmp/reader.rounds
	) &
	rpid=$!

	zb_step "fio random 4k write+verify, 2 loops, while compacting"
	zb_fio cfio4k --filename=/dev/$dev --numjobs=2 --size=32M --offset_increment=32M $ZB_FIO_VERIFY \
		--direct=1 --rw=randwrite --bs=4k --loops=2
	zb_step "fio random 16k write+verify with verify_backlog, while compacting"
	zb_fio cfio16k --filename=/dev/$dev --numjobs=2 --size=32M --offset_increment=32M $ZB_FIO_VERIFY \
		--direct=1 --rw=randwrite --bs=16k --loops=2 --verify_backlog=256
	touch $stop
	wait $cpid
	wait $dpid
	wait $rpid
	zb_info "compactor: $(cat /tmp/compact.rounds 2>/dev/null) compactions; $(cat /tmp/discard.rounds 2>/dev/null); $(cat /tmp/reader.rounds 2>/dev/null)"
	[ -s $errs ] && zb_fail "background checks failed: $(head -n 5 $errs)"
	n=$(cat /tmp/compact.rounds)
	zb_expect_ge "compactions that ran during fio" "${n:-0}" 10
	p1=$(zb_mm $dev pages_compacted)
	zb_show_mm $dev
	zb_info "pages_compacted $p0 -> $p1"
	zb_expect_gt "pages_compacted after the run" "$p1" "$p0"
	zb_expect_str "md5 of the untouched corpus copy at the end" \
		"$(dd if=/dev/$dev bs=1M skip=64 count=80 iflag=direct 2>/dev/null | zb_md5)" "$want"
	zb_expect_eq "io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	zb_expect_eq "io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
	zb_reset $dev
	zb_unload
}

# zb_pressure DONE [SHOW]: make the kernel reclaim hard with no swap. All but
# about 64 MiB of the available memory is pinned in tmpfs (with no swap it
# stays), then 2 GiB of zblk1 (the caller's, set up empty) is read through the
# page cache, at most 3 times, until the function DONE succeeds; the function
# SHOW, if given, runs after each pass. The tmpfs is unmounted at the end.
zb_pressure() {
	local done=$1 show=${2:-} fill pass=1 t0
	fill=$(( $(mem_avail_kb) / 1024 - 64))
	[ "$fill" -gt 0 ] || fill=1
	zb_step "pin $fill MiB in tmpfs (leaving about 64 MiB for the page cache)"
	mkdir -p /mnt/press
	mount -t tmpfs -o size=$((fill + 8))M tmpfs /mnt/press || zb_fail "mounting tmpfs failed"
	dd if=/dev/zero of=/mnt/press/fill bs=1M count="$fill" 2>/dev/null || zb_fail "filling tmpfs failed"
	while [ $pass -le 3 ]; do
		zb_step "memory pressure: read 2 GiB of zblk1 through the page cache (pass $pass)"
		t0=$(now_ms)
		dd if=/dev/zblk1 of=/dev/null bs=1M 2>/dev/null || zb_fail "reading zblk1 failed"
		zb_info "read took $(( $(now_ms) - t0)) ms"
		[ -z "$show" ] || $show
		$done && break
		pass=$((pass + 1))
	done
	umount /mnt/press || zb_fail "umount /mnt/press failed"
}

# zb_compact_shrinker UNIT ALGO: a fragmented zblk0 (two corpus copies, 75%
# of the units discarded at random: tens of MiB that compaction could free)
# in a small guest whose free memory is mostly pinned in tmpfs; reading a
# large empty zblk1 through the page cache makes the kernel reclaim hard;
# zblk's shrinker must compact: pages_compacted grows and
# mem_used_total falls with no manual compact, and the data is unchanged.
# (The kernel asks a shrinker to scan in proportion to what it reports as
# freeable >> reclaim priority: a pool with only a few MiB to give back may
# rightly never be asked under light pressure, hence the two copies.)
zb_compact_shrinker() {
	local u=$1 algo=$2 len m0 p0 m1 p1 md5a
	# zb_pressure's stop condition and report (they read m0 and p0)
	cs_compacted() { [ "$(zb_mm zblk0 pages_compacted)" -gt "$p0" ]; }
	cs_show() {
		zb_info "mem_used_total $(zb_mib "$m0") -> $(zb_mib "$(zb_mm zblk0 mem_used_total)")," \
			"pages_compacted $p0 -> $(zb_mm zblk0 pages_compacted)"
	}
	zb_need_corpus
	len=$(zb_corpus_len)
	zb_load num_devices=2
	zb_setup zblk0 "$u" "$algo" $((2 * len))
	zb_setup zblk1 4096 lz4 2G
	zb_step "unit_size=$u: fill zblk0 with two corpus copies, discard a scattered 75%"
	zb_corpus | dd of=/dev/zblk0 bs=1M iflag=fullblock oflag=direct 2>/dev/null || zb_fail "writing the corpus failed"
	zb_corpus_rot 12345678 | dd of=/dev/zblk0 bs=1M seek=$((len / ZB_MIB)) iflag=fullblock oflag=direct 2>/dev/null ||
		zb_fail "writing the second corpus copy failed"
	zb_trim_scattered zblk0 "$u" $((2 * len)) 75
	md5a=$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)
	m0=$(zb_mm zblk0 mem_used_total) p0=$(zb_mm zblk0 pages_compacted)
	zb_show_mm zblk0
	zb_classes zblk0
	zb_pressure cs_compacted cs_show
	m1=$(zb_mm zblk0 mem_used_total) p1=$(zb_mm zblk0 pages_compacted)
	zb_show_mm zblk0
	zb_expect_gt "pages_compacted after memory pressure (no manual compact)" "$p1" "$p0"
	zb_expect_lt "mem_used_total after memory pressure" "$m1" "$m0"
	zb_expect_str "md5 of zblk0 after the shrinker ran" \
		"$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)" "$md5a"
	zb_reset zblk1
	zb_reset zblk0
	zb_unload
}

# ---------------------------------------------------------------- system memory

# zb_sys_free_kb: free memory as the kernel has it, in KiB: MemFree plus the
# free pages parked on per-CPU lists (/proc/zoneinfo "count:"; 6.12's MemFree
# leaves them out)
zb_sys_free_kb() {
	awk -v ps="$(($(zb_page_size) / 1024))" '
		/^MemFree:/ { f = $2 }
		FILENAME ~ /zoneinfo/ && $1 == "count:" { pcp += $2 }
		END { print f + pcp * ps }' /proc/meminfo /proc/zoneinfo
}

# zb_slab_kb: Slab from /proc/meminfo, in KiB
zb_slab_kb() { awk '/^Slab:/ { print $2 }' /proc/meminfo; }

# zb_slab_shrink: shrink every slab cache (/sys/kernel/slab/*/shrink), as
# reading Slab to the KiB needs: empty slabs kept on per-CPU partial lists go
# back, and on KASAN kernels the objects freed into KASAN's quarantine
# (kasan_cache_shrink(); up to 1/32 of RAM, shown as Slab, not leaked) too
zb_slab_shrink() {
	local f
	for f in /sys/kernel/slab/*/shrink; do
		[ -w "$f" ] && echo 1 >"$f" 2>/dev/null
	done
	true
}

# zb_settle: drop caches twice, a second apart, so that freed slabs and
# per-CPU lists settle before memory is read, then shrink every slab cache
zb_settle() {
	zb_drop_caches
	sleep 1
	zb_drop_caches
	zb_slab_shrink
}

# zb_clean_regular: remove regular files that a dd which lost a race with
# hot_remove left in devtmpfs (they show as Shmem)
zb_clean_regular() {
	local f
	for f in /dev/zblk*; do
		[ -f "$f" ] && [ ! -b "$f" ] && rm -f "$f"
	done
	true
}
