#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --smp 2 --timeout 900 --file @CORPUS@ --file tools/loadgen/zblk-load
#
# 67-mem-limit-swap: zblk is the only swap device and its mem_limit is reached
# (unit_size 4096 and 16384, lz4). A process in a cgroup (memory.max 32M)
# fills an anonymous working set of 128 MiB with corpus pages and reads it
# back (zblk-load swap, which checks every page); its compressed pages need
# more than the 12 MiB limit. The kernel has no way to hear that a swap device
# is full: a failed swap write leaves the page dirty in the swap cache and
# reclaim tries it again, so the process stalls rather than being OOM-killed
# (zram does the same: in the same guest, zram0 with mem_limit 12M logged
# 908,991 failed writes in 180 s and no OOM kill). So this test asks:
# - writes past the limit fail (io_stat failed_writes > 0) and the pool stays
#   within the limit (mem_used_max <= mem_limit + 1 MiB);
# - no page comes back wrong: the process either finishes with every page
#   right, or stalls/is OOM-killed;
# - no hang: while it stalls, the rest of the system works (8 MiB written
#   to a file outside the cgroup within 30 s), the packer does not compact
#   the full pool (debug_stat bg_compact_objects stays), and SIGKILL ends it
#   within 20 s (a full device fails writes before compressing them, so
#   the killed task's reclaim passes are short);
# - once the process is gone its data leaves the pool (orig_data_size at most
#   64 pages: slots of pages left in the swap cache by failed writes are freed
#   when reclaim next meets them) and the pool shrinks below 1 MiB;
# - the system recovers: a 40 MiB working set in the same cgroup, under the
#   same limit, swaps out and back in with every page right.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

dev=zblk0
cg=zblk-memlim
LOAD=/files/zblk-load
LIMIT_MB=12
zb_need_corpus
[ -x $LOAD ] || zb_fail "$LOAD missing: build tools/loadgen (tests/run does) and pass it with --file"
CORPUS=$(corpus_raw_path)
[ -n "$CORPUS" ] || { CORPUS=/tmp/corpus.bin; zb_corpus | head -c $((64 * ZB_MIB)) >$CORPUS; }
grep -q '^/' /proc/swaps && zb_fail "a swap device is already active: $(cat /proc/swaps)"

# load WS OUT: zblk-load swap in the cgroup, in the background; sets lpid
load() {
	sh -c "echo \$\$ >$ZB_CG/$cg/cgroup.procs && exec $LOAD swap --corpus $CORPUS --corpus-max 8M --ws $1" \
		>"$2" 2>"$2.err" &
	lpid=$!
}

# wait_load SECS: wait for the load; status in lrc (-1: still running)
wait_load() {
	local t=$(($1 * 10))
	lrc=-1
	while [ $t -gt 0 ]; do
		if ! kill -0 $lpid 2>/dev/null; then
			wait $lpid
			lrc=$?
			return
		fi
		sleep 0.1
		t=$((t - 1))
	done
}

swap_used_kb() { awk '/^SwapTotal:/ { t = $2 } /^SwapFree:/ { f = $2 } END { print t - f }' /proc/meminfo; }

run() { # UNIT
	local u=$1 kills0 kills1 used t
	zb_step "unit_size=$u: zblk0 the only swap, mem_limit ${LIMIT_MB}M; 128 MiB working set in a 32 MiB cgroup"
	zb_load num_devices=1
	zb_setup $dev "$u" lz4 512M
	zb_write_ok /sys/block/$dev/mem_limit ${LIMIT_MB}M
	mkswap /dev/$dev >/dev/null || zb_fail "mkswap /dev/$dev failed"
	swapon /dev/$dev || zb_fail "swapon /dev/$dev failed"
	zb_cg_setup $cg 32
	kills0=$(zb_oom_kills $cg)
	load 128M /tmp/load1.json
	wait_load 30
	if [ "$lrc" = -1 ]; then
		zb_info "the load stalls after 30 s (as with zram); io_stat: $(cat /sys/block/$dev/io_stat)"
		bg0=$(zb_dbg $dev bg_compact_objects)
		t0=$(now_ms)
		zb_corpus | head -c $((8 * ZB_MIB)) >/tmp/resp.bin || zb_fail "writing a file outside the cgroup failed"
		zb_expect_eq "bytes written outside the cgroup" "$(wc -c </tmp/resp.bin)" $((8 * ZB_MIB))
		rm -f /tmp/resp.bin
		t0=$(( $(now_ms) - t0 ))
		zb_info "8 MiB written outside the cgroup in $t0 ms"
		zb_expect_le "ms to write 8 MiB outside the cgroup while the load stalls" $t0 30000
		# Pages the packer's compaction freed under the limit would let
		# some of the retried writes through: it holds off while the
		# limit refuses writes (zblk_compact_background()).
		zb_expect_eq "bg_compact_objects while the load stalls at the limit" \
			"$(zb_dbg $dev bg_compact_objects)" "$bg0"
		# A killed task's charge reclaims until 32 passes in a row free
		# nothing, each pass retrying the failed writes of a whole LRU
		# list. A full device fails them before compressing (io.c,
		# zblk_full()): 0.1-0.7 s seen. When each failure cost an
		# allocation and a compression, killed loads took 31-79 s with
		# 16K units (once over 240 s). Allow 20 s (120 s on a
		# lockdep/KASAN kernel).
		kill_max=20
		[ -e /proc/lockdep ] && kill_max=120
		t0=$(now_ms)
		kill -9 $lpid
		wait_load 240
		[ "$lrc" = -1 ] && zb_fail "the stalled load survives SIGKILL for 240 s: a hang"
		t0=$(( $(now_ms) - t0 ))
		zb_info "SIGKILL ended the stalled load in $t0 ms"
		zb_expect_le "ms for SIGKILL to end the load stalled at the limit" $t0 $((kill_max * 1000))
		lrc=stalled
	fi
	kills1=$(zb_oom_kills $cg)
	zb_show_mm $dev
	zb_info "load: exit status $lrc, oom_kill $kills0 -> $kills1; io_stat: $(cat /sys/block/$dev/io_stat)"
	zb_info "load stderr: $(head -c 300 /tmp/load1.json.err)"
	case "$lrc" in
	0) zb_info "the load finished and every page came back right" ;;
	stalled) ;;
	137) [ "$kills1" -gt "$kills0" ] ||
		zb_fail "the load was killed (status 137) but memory.events counts no OOM kill" ;;
	*) zb_fail "the load failed with status $lrc: $(cat /tmp/load1.json.err)" ;;
	esac
	grep -q 'came back wrong' /tmp/load1.json.err && zb_fail "a page came back wrong: $(cat /tmp/load1.json.err)"
	zb_expect_gt "io_stat failed_writes (the limit was reached)" "$(zb_io $dev failed_writes)" 0
	zb_expect_le "mm_stat mem_used_max (limit ${LIMIT_MB} MiB + 1 MiB)" \
		"$(zb_mm $dev mem_used_max)" $(( (LIMIT_MB + 1) * ZB_MIB ))

	zb_step "unit_size=$u: the process is gone: its data leaves the pool"
	# Slots whose page sat in the swap cache after a failed write are freed
	# when reclaim next finds the page, not at exit: wait for the pool to
	# hold at most 64 pages, and show what swap still counts.
	t=300
	while [ $t -gt 0 ] && [ "$(zb_mm $dev orig_data_size)" -gt $((64 * 4096)) ]; do
		sleep 0.1
		t=$((t - 1))
	done
	used=$(zb_mm $dev mem_used_total)
	zb_info "swap used $(swap_used_kb) KiB;$(zb_show_mm $dev ' ')"
	zb_expect_le "orig_data_size 30 s after the process ended" "$(zb_mm $dev orig_data_size)" $((64 * 4096))
	zb_expect_le "mem_used_total after the process ended" "$used" $ZB_MIB

	zb_step "unit_size=$u: recovery: a 40 MiB working set under the same limit"
	load 40M /tmp/load2.json
	wait_load 300
	[ "$lrc" = -1 ] && { kill -9 $lpid; zb_fail "the second load still runs after 300 s: a hang"; }
	zb_info "load: exit status $lrc; $(head -c 300 /tmp/load2.json)"
	[ "$lrc" = 0 ] || zb_fail "the 40 MiB load failed with status $lrc after the limit had been hit: $(cat /tmp/load2.json.err)"
	out=$(sed -n 's/.*"fill_pswpout":\([0-9]*\).*/\1/p' /tmp/load2.json)
	zb_expect_gt "pages the 40 MiB load swapped out (fill_pswpout)" "${out:-0}" 0
	zb_show_mm $dev
	swapoff /dev/$dev || zb_fail "swapoff /dev/$dev failed"
	rmdir $ZB_CG/$cg
	zb_reset $dev
	zb_unload
}

run 4096
run 16384
zb_pass
