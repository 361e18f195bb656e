#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --smp 2 --timeout 600 --append preempt=full --append schedstats=enable
#
# 64-busy-unit-16k: a busy 16K unit delays the I/O to that unit only, never
# the I/O to other units that happens to run on the same CPU (issue 12,
# defect 2: the per-CPU stream was taken before the entry lock and held while
# sleeping on it).
#
# zblk0: 16K units, lz4. Two writers pinned to CPU 1 rewrite 4K blocks; they
# run in a cgroup allowed 2 ms of CPU per 100 ms (cpu.max) and the guest runs
# with full preemption, so a writer is often stopped for up to ~100 ms inside
# zblk while it holds its unit's entry lock. On CPU 0, a "victim" reader
# (fio) reads 4K blocks of other units (compressed: each read needs CPU 0's
# stream to decompress), and a second reader reads the written units every
# 5 ms, so it waits for their entry locks.
#   spread: the writers and the second reader use 1024 units at random;
#   hot:    they all use one unit, which is then locked most of the time.
# What is measured is the victim's time blocked in the kernel (sum_block_runtime
# in /proc/PID/sched, schedstats): it counts only sleeps in D state, so the
# time the host takes the guest's CPUs away (TCG on a shared host) does not
# count. The victim must spend less than 10% of the time blocked next to the
# hot unit. Before the fix the second reader held CPU 0's stream while it
# waited for the hot unit's entry lock, and the victim waited for the stream:
# blocked most of the time. Checked for a victim reading compressed units and
# one reading never-written units (which now take no stream at all).
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

dev=zblk0
T=6			# seconds per measurement
preempt=/sys/kernel/debug/sched/preempt
cg=/sys/fs/cgroup
[ "$(nproc)" -ge 2 ] || zb_skip "needs 2 CPUs, the guest has $(nproc)"

# Full preemption, so that a throttled writer stops inside zblk (the Debian
# kernels are PREEMPT_DYNAMIC, voluntary by default), and schedstats: both
# set on the kernel command line (the header). Switching either at run time
# patches kernel text (static calls, static keys), and under TCG a vCPU once
# ran into a stale int3 of that patching: an oops in enqueue_task_fair on the
# debug kernel before zblk was even loaded.
if [ -r $preempt ]; then
	grep -q '(full)' $preempt ||
		zb_fail "preemption is '$(cat $preempt)', not full: was preempt=full passed at boot?"
elif ! uname -v | grep -q 'PREEMPT '; then
	zb_skip "needs full preemption: no $preempt and uname -v is '$(uname -v)'"
fi
zb_info "preemption: full"
[ "$(cat /proc/sys/kernel/sched_schedstats 2>/dev/null)" = 1 ] ||
	zb_skip "needs schedstats (CONFIG_SCHEDSTATS, schedstats=enable at boot)"

# A cgroup whose tasks get 2 ms of CPU every 100 ms.
grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none $cg ||
	zb_skip "cannot mount cgroup2 on $cg"
grep -qw cpu $cg/cgroup.controllers || zb_skip "no cpu controller in $cg"
echo +cpu >$cg/cgroup.subtree_control || zb_fail "cannot enable the cpu controller"
mkdir -p $cg/zb-slow
echo "2000 100000" >$cg/zb-slow/cpu.max || zb_skip "no cpu.max (CONFIG_CFS_BANDWIDTH)"

zb_load num_devices=1
zb_setup $dev 16384 lz4 64M
DATA="--buffer_compress_percentage=50 --buffer_compress_chunk=4k"
# The victim must share no lock with the throttled writers outside zblk (a
# sched_switch/sched_stat_blocked trace on the debug kernel found two, each
# blocking the victim's fio for 95 to 250 ms): --disk_util=0, or each fio
# opens /sys/block/$dev/stat (kernfs open mutex); and a TMPDIR of its own for
# each fio, or all look up the absent /tmp/fio-dump-status every second (a
# lookup in progress on tmpfs makes others of the same name wait).
IO="--filename=/dev/$dev --direct=1 --ioengine=psync --bs=4k --disk_util=0"
mkdir -p /tmp/zb-w /tmp/zb-r /tmp/zb-v
zb_step "fill [0,16M) and [32M,48M) with compressible data"
# shellcheck disable=SC2086
fio --name=fill $IO --bs=1m --size=16M --rw=write $DATA --refill_buffers >/dev/null || zb_fail "fill failed"
# shellcheck disable=SC2086
fio --name=fill2 $IO --bs=1m --offset=32M --size=16M --rw=write $DATA --refill_buffers >/dev/null ||
	zb_fail "fill failed"

# wait_threads PID N: until process PID has N threads (fio started its jobs)
wait_threads() {
	local i=0
	while [ "$(ls /proc/$1/task 2>/dev/null | wc -l)" -lt "$2" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || zb_fail "fio (pid $1) did not start its jobs"
		sleep 0.1
	done
}

# block_snap PID FILE: "TID sum_block_runtime block_max" (ms) of each of
# PID's threads
block_snap() {
	local t
	for t in /proc/"$1"/task/*; do
		awk -v t="${t##*/}" '$1 == "sum_block_runtime" { s = $3 } $1 == "block_max" { m = $3 }
			END { if (s != "") print t, s, m }' "$t/sched" 2>/dev/null
	done >"$2"
}

# block_delta BEFORE AFTER -> ms blocked between two snapshots, summed over
# the threads in both (a thread that ended in between would subtract)
block_delta() {
	awk 'NR == FNR { b[$1] = $2; next } $1 in b { s += $2 - b[$1] } END { printf "%d\n", s }' "$1" "$2"
}

# block_max SNAPSHOT -> the longest block of any thread in it, in ms
block_max() {
	awk '$3 + 0 > m { m = $3 + 0 } END { printf "%d\n", m }' "$1"
}

# load_start SIZE: the throttled writers on CPU 1 (threads of one fio, moved
# to the cgroup once they run: fio itself would start and stop at 2% of a CPU
# for minutes; they reuse one buffer, so that their CPU time is zblk's) and
# the reader of [32M, +SIZE) on CPU 0
load_start() {
	rm -f /tmp/w.*
	# shellcheck disable=SC2086
	TMPDIR=/tmp/zb-w fio --name=slow $IO --offset=32M --size="$1" --rw=randwrite $DATA --numjobs=2 --thread \
		--cpus_allowed=1 --runtime=$((T + 4)) --time_based \
		--output-format=terse --terse-version=3 >/tmp/w.slow 2>&1 &
	slow=$!
	# shellcheck disable=SC2086
	TMPDIR=/tmp/zb-r fio --name=hotreader $IO --offset=32M --size="$1" --rw=randread --cpus_allowed=0 \
		--thinktime=5000 --runtime=$((T + 4)) --time_based \
		--output-format=terse --terse-version=3 >/tmp/w.read 2>&1 &
	hotreader=$!
	wait_threads $slow 3
	echo $slow >$cg/zb-slow/cgroup.procs || zb_fail "cannot move $slow to $cg/zb-slow"
}

load_stop() {
	echo $slow >$cg/cgroup.procs
	wait $hotreader || zb_fail "the reader of the written units failed: $(cat /tmp/w.read)"
	wait $slow || zb_fail "the throttled writers failed: $(cat /tmp/w.slow)"
	zb_info "  reader of the written units: $(awk -F';' '{ printf "%d IOPS, mean %.0f us", $8, $16 }' /tmp/w.read);" \
		"throttled writers: $(awk -F';' '{ n += $49; m += $57 } END { printf "%d IOPS, mean %.0f us", n, m / NR }' /tmp/w.slow)"
}

# victim OFFSET: 4K random reads of [OFFSET, +8M) on CPU 0 while the load
# runs; sets v_block (ms blocked in T seconds), v_max (longest block, ms),
# v_iops
victim() {
	local pid
	# shellcheck disable=SC2086
	TMPDIR=/tmp/zb-v fio --name=victim $IO --offset="$1" --size=8M --rw=randread --cpus_allowed=0 --thread \
		--runtime=$((T + 3)) --time_based --output-format=terse --terse-version=3 >/tmp/victim 2>&1 &
	pid=$!
	wait_threads $pid 2
	sleep 1
	block_snap $pid /tmp/b0
	sleep $T
	block_snap $pid /tmp/b1
	v_block=$(block_delta /tmp/b0 /tmp/b1)
	v_max=$(block_max /tmp/b1)
	wait $pid || zb_fail "the victim reader failed: $(cat /tmp/victim)"
	v_iops=$(awk -F';' '{ print $8 }' /tmp/victim)
}

# check LABEL OFFSET: the victim next to spread writes, then next to a hot unit
check() {
	local spread
	zb_step "$1: victim next to writes of 1024 units"
	load_start 16M
	victim "$2"
	load_stop
	zb_info "  victim: blocked $v_block ms of $((T * 1000)) (longest $v_max ms), $v_iops IOPS"
	spread=$v_block
	zb_step "$1: victim next to writes of one unit"
	load_start 16k
	victim "$2"
	load_stop
	zb_info "  victim: blocked $v_block ms of $((T * 1000)) (longest $v_max ms), $v_iops IOPS"
	[ $((v_block * 10)) -lt $((T * 1000)) ] ||
		zb_fail "$1: the victim on CPU 0 was blocked $v_block ms of $((T * 1000)) next to a busy unit (next to spread writes: $spread ms): it waited for the busy unit"
}

check "compressed units" 0
check "empty units" 20M
zb_expect_eq "io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
zb_expect_eq "io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
zb_reset $dev
zb_unload
zb_pass
