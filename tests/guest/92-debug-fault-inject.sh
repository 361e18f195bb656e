#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --smp 2 --timeout 900 --file @CORPUS@ --file tools/loadgen/zblk-load
#
# 92-debug-fault-inject: allocations fail under zblk, and nothing that was
# acknowledged is lost. Runs on 6.12-debug only (tests/run: 9?-debug-*), the
# rig's kernel with fault injection (failslab, fail_page_alloc).
#
# Both fault types are set to fail PCT% of the allocations made by tasks whose
# /proc/<tid>/make-it-fail is 1 (task-filter=Y), sleeping allocations
# included (ignore-gfp-wait=N: zblk allocates with GFP_NOIO), user pages
# excluded (ignore-gfp-highmem=Y). Only zblk-load's I/O threads set it
# (--make-it-fail), so the writes they submit, zblk's allocations for them
# included, fail now and then; the rest of the system runs normally.
#
# Block writes, for 4K units (lz4) and 16K units written 4K at a time (zstd:
# from the second block of a unit on, each write is a read-modify-write):
# - every 4 KiB block of an empty device is written once with corpus content
#   under faults (an empty device, so that the pool grows and zblk allocates
#   pages and descriptors: rewriting a full device reuses freed slots and
#   allocates almost nothing); zblk-load --ackmap records which writes were
#   acknowledged and which failed;
# - some writes must fail inside zblk (io_stat failed_writes > 0) and some
#   must succeed;
# - without faults, every block reads back as written where its write was
#   acknowledged and as zeros where it failed (a failed write keeps the old
#   data, and never damages the blocks of its 16K unit written before); the
#   same after compaction moved every object.
# Swap: zblk (16K units, lz4) is the only swap; zblk-load fills a 96 MiB
# working set in a 32 MiB memory cgroup under faults (its direct reclaim
# writes to zblk, so zblk's allocations fail there) and reads every page back
# in order and at random, comparing each with the corpus. Swap writes must
# fail (failed_writes > 0: reclaim keeps such pages and tries again later),
# no page may come back wrong, the load may not be OOM-killed, and swapoff
# must succeed.
# The rig fails the run on any KASAN, lockdep, SLUB or WARNING line.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

dev=zblk0
cg=zblk-fault
LOAD=/files/zblk-load
FI=/sys/kernel/debug
PCT=${ZB_FAULT_PCT:-5}
# fail_*/times counts down from this; what is left tells how many failed
BUDGET=100000000
zb_need_corpus
[ -x $LOAD ] || zb_fail "$LOAD missing: build tools/loadgen (tests/run does) and pass it with --file"
# Run the program from tmpfs: from /files (9p), a text page first touched
# while injection is on is read from 9p, whose allocations then fail too,
# and the load dies of SIGBUS (the block fill did, once, on the debug
# kernel: status 135), which says nothing about zblk.
cp $LOAD /tmp/zblk-load || zb_fail "cannot copy $LOAD to /tmp"
LOAD=/tmp/zblk-load
CORPUS=$(corpus_raw_path)
[ -n "$CORPUS" ] || { CORPUS=/tmp/corpus.bin; zb_corpus | head -c $((64 * ZB_MIB)) >$CORPUS; }
for f in failslab fail_page_alloc; do
	[ -d $FI/$f ] || zb_fail "no $FI/$f: this kernel has no fault injection (run on 6.12-debug)"
done
grep -q '^/' /proc/swaps && zb_fail "a swap device is already active: $(cat /proc/swaps)"

# fi_arm: fail PCT% of the allocations of make-it-fail tasks
fi_arm() {
	local f
	for f in failslab fail_page_alloc; do
		echo Y >$FI/$f/task-filter && echo N >$FI/$f/ignore-gfp-wait &&
			echo 0 >$FI/$f/verbose && echo 1 >$FI/$f/interval &&
			echo $BUDGET >$FI/$f/times && echo "$PCT" >$FI/$f/probability ||
			zb_fail "cannot configure $FI/$f"
	done
	echo Y >$FI/fail_page_alloc/ignore-gfp-highmem || zb_fail "cannot set ignore-gfp-highmem"
}

# fi_disarm: no more failures; says how many were injected
fi_disarm() {
	local f n
	for f in failslab fail_page_alloc; do
		echo 0 >$FI/$f/probability || zb_fail "cannot disarm $FI/$f"
		n=$((BUDGET - $(cat $FI/$f/times)))
		zb_info "$f: $n allocations failed"
	done
}

# json KEY FILE: the number KEY in zblk-load's JSON line in FILE
json() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | tail -n1; }

# verify WHAT: every block holds the corpus where acknowledged, zeros where failed
verify() {
	$LOAD verify --corpus $CORPUS --dev /dev/$dev --seed 1 --ackmap /tmp/ack.map \
		--old-zero >/tmp/verify.json 2>/tmp/verify.err ||
		zb_fail "$1: blocks read back wrong: $(cat /tmp/verify.err) $(cat /tmp/verify.json)"
	zb_info "$1: $(json ios /tmp/verify.json) blocks right, $(json old_blocks /tmp/verify.json) of them still zeros (write failed)"
}

blocks() { # UNIT ALGO
	local u=$1 algo=$2 acked failed fw
	zb_step "unit_size=$u $algo: write every 4 KiB block of an empty 16 MiB device under ${PCT}% allocation failures"
	zb_load num_devices=1
	zb_setup $dev "$u" "$algo" 16M
	fi_arm
	$LOAD fill --corpus $CORPUS --dev /dev/$dev --seed 1 --ackmap /tmp/ack.map \
		--make-it-fail >/tmp/fill1.json 2>/tmp/fill1.err
	rc=$?
	fi_disarm
	[ $rc = 0 ] || zb_fail "fill under faults: status $rc: $(cat /tmp/fill1.err)"
	acked=$(json acked /tmp/fill1.json) failed=$(json write_failed /tmp/fill1.json)
	fw=$(zb_io $dev failed_writes)
	zb_info "writes: $acked acknowledged, $failed failed ($fw of them in zblk: io_stat failed_writes)"
	zb_expect_gt "acknowledged writes" "$acked" 0
	zb_expect_gt "failed writes inside zblk (io_stat failed_writes)" "$fw" 0
	zb_expect_le "io_stat failed_writes (at most the failed writes)" "$fw" "$failed"
	verify "read back"
	zb_write_ok /sys/block/$dev/compact 1
	zb_info "compaction: mm_stat pages_compacted $(zb_mm $dev pages_compacted)"
	verify "read back after compaction"
	zb_reset $dev
	zb_unload
}

swap() {
	local rc kills0 kills1 fw
	zb_step "swap: zblk0 (16K units, lz4) the only swap; 96 MiB working set in a 32 MiB cgroup under ${PCT}% allocation failures"
	zb_load num_devices=1
	zb_setup $dev 16384 lz4 256M
	mkswap /dev/$dev >/dev/null || zb_fail "mkswap /dev/$dev failed"
	swapon /dev/$dev || zb_fail "swapon /dev/$dev failed"
	zb_cg_setup $cg 32
	# The corpus from tmpfs too, copied outside the cgroup: read from /files
	# (9p), its pages were charged to the cgroup, reclaimed, and read back
	# from 9p, whose allocations then failed too: SIGBUS, a failed page-in of
	# a file that says nothing about zblk.
	head -c $((8 * ZB_MIB)) $CORPUS >/tmp/corpus8 || zb_fail "cannot copy the corpus to /tmp"
	kills0=$(zb_oom_kills $cg)
	fi_arm
	sh -c "echo \$\$ >$ZB_CG/$cg/cgroup.procs && exec /tmp/zblk-load swap --corpus /tmp/corpus8 --mlock --ws 96M --make-it-fail" \
		>/tmp/swap.json 2>/tmp/swap.err
	rc=$?
	fi_disarm
	kills1=$(zb_oom_kills $cg)
	fw=$(zb_io $dev failed_writes)
	zb_info "swap load: status $rc; io_stat $(cat /sys/block/$dev/io_stat) (failed_reads failed_writes invalid_io notify_free); oom_kill $kills0 -> $kills1"
	zb_info "pswpout $(json fill_pswpout /tmp/swap.json) during the fill, pswpin $(json seqread_pswpin /tmp/swap.json) + $(json randread_pswpin /tmp/swap.json) reading back"
	grep -q 'came back wrong' /tmp/swap.err && zb_fail "a page came back wrong: $(cat /tmp/swap.err)"
	[ "$kills1" = "$kills0" ] || zb_fail "the load was OOM-killed ($kills0 -> $kills1)"
	[ $rc = 0 ] || zb_fail "the swap load failed with status $rc: $(cat /tmp/swap.err)"
	zb_expect_eq "pages that came back wrong" "$(json mismatches /tmp/swap.json)" 0
	zb_expect_gt "swap writes that failed inside zblk (io_stat failed_writes)" "$fw" 0
	zb_expect_gt "pages swapped out during the fill (pswpout)" "$(json fill_pswpout /tmp/swap.json)" 0
	zb_expect_eq "io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	echo $$ >$ZB_CG/cgroup.procs
	swapoff /dev/$dev || zb_fail "swapoff /dev/$dev failed"
	rmdir $ZB_CG/$cg
	zb_swap_all_freed $dev
	zb_reset $dev
	zb_unload
}

blocks 4096 lz4
blocks 16384 zstd
swap
zb_pass
