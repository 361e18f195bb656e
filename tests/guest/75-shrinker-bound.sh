#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 256M --timeout 1200 --append trace_event=vmscan:mm_vmscan_direct_reclaim_begin,vmscan:mm_vmscan_direct_reclaim_end
#
# 75-shrinker-bound: one shrinker call does no more work than the kernel
# asked for. zblk0 holds 800 MiB of units that lz4 compresses to ~230 bytes
# (17 objects a page, so freeing one page means moving ~8 of them once half
# are discarded); half the units are discarded at random; then, in a 256M
# guest with most memory pinned in tmpfs, reading a large empty zblk1 through
# the page cache makes the kernel reclaim, and zblk's shrinker compacts.
# debug_stat counts, over the shrinker's scan calls: the calls, the objects
# they offered for moving, the most objects one call offered, the largest
# nr_to_scan the kernel passed, the calls that offered more objects than
# their nr_to_scan, and the time per call. Checks:
# - the shrinker ran (calls > 0, pages_compacted grew, mem_used_total fell);
# - no call offered more objects than its nr_to_scan (the bound);
# - the data reads back unchanged.
# Reported: objects and time per call, and, from the vmscan tracepoints
# (where tracefs has them), the latency of direct reclaim episodes, which is
# where another task waits for a shrinker call. The two events are enabled
# at boot (trace_event= in the header): enabling or disabling an event at run
# time patches kernel text, and under TCG a vCPU once hit a stale int3 of that
# patching (an oops in trace_sched_wakeup on the debug kernel).
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

U=4096
LEN=$((800 * ZB_MIB))
T=/sys/kernel/tracing

trace_on() {
	local e
	[ -d $T/events ] || mount -t tracefs nodev $T 2>/dev/null
	for e in mm_vmscan_direct_reclaim_begin mm_vmscan_direct_reclaim_end; do
		if [ "$(cat $T/events/vmscan/$e/enable 2>/dev/null)" != 1 ]; then
			zb_info "vmscan:$e is not enabled (trace_event= at boot): reclaim latency not measured"
			return 1
		fi
	done
	echo 0 >$T/tracing_on
	echo 8192 >$T/buffer_size_kb
	echo >$T/trace
	echo 1 >$T/tracing_on
}

# durations (us) of direct reclaim begin/end pairs per task
trace_report() {
	echo 0 >$T/tracing_on
	awk '
	function ts(   i) { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+\.[0-9]+:$/) return substr($i, 1, length($i) - 1) + 0; return -1 }
	/mm_vmscan_direct_reclaim_begin:/ { rb[$1] = ts() }
	/mm_vmscan_direct_reclaim_end:/ && ($1 in rb) { d = (ts() - rb[$1]) * 1e6; delete rb[$1]; rn++; rs += d; if (d > rm) rm = d }
	END { printf "direct reclaim: %d episodes, mean %.0f us, max %.0f us\n", rn, rn ? rs / rn : 0, rm }' $T/trace
	echo "trace buffer overruns (events lost): $(awk '/^overrun:/ { s += $2 } END { print s + 0 }' $T/per_cpu/cpu*/stats)"
	echo >$T/trace
}

zb_load num_devices=2
zb_setup zblk0 $U lz4 $LEN
zb_setup zblk1 4096 lz4 2G

zb_step "write $((LEN / ZB_MIB)) MiB of 4 KiB units that compress to ~230 bytes (95% zeros)"
zb_fio small --filename=/dev/zblk0 --ioengine=psync --direct=1 --rw=write --bs=1M --size=$LEN \
	--buffer_compress_percentage=95 --buffer_compress_chunk=4k --refill_buffers
zb_step "discard a scattered half of the units"
zb_trim_scattered zblk0 $U $LEN 50
md5a=$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)
m0=$(zb_mm zblk0 mem_used_total) p0=$(zb_mm zblk0 pages_compacted)
c0=$(zb_dbg zblk0 shrink_calls) o0=$(zb_dbg zblk0 shrink_objects)
zb_show_mm zblk0
zb_classes zblk0
zb_info "freeable pages: $(zb_freeable zblk0); debug_stat: $(tail -n1 /sys/block/zblk0/debug_stat)"

traced=0
trace_on && traced=1
# stop once the shrinker was called and compaction freed pages
shrunk() {
	[ "$(zb_dbg zblk0 shrink_calls)" -gt "$c0" ] && [ "$(zb_mm zblk0 pages_compacted)" -gt "$p0" ]
}
show_dbg() { zb_info "debug_stat: $(tail -n1 /sys/block/zblk0/debug_stat)"; }
zb_pressure shrunk show_dbg
[ $traced = 1 ] && trace_report | while read -r l; do zb_info "$l"; done

m1=$(zb_mm zblk0 mem_used_total) p1=$(zb_mm zblk0 pages_compacted)
calls=$(( $(zb_dbg zblk0 shrink_calls) - c0)) objs=$(( $(zb_dbg zblk0 shrink_objects) - o0))
maxo=$(zb_dbg zblk0 shrink_max_objects) maxs=$(zb_dbg zblk0 shrink_max_to_scan)
ns=$(zb_dbg zblk0 shrink_ns) maxns=$(zb_dbg zblk0 shrink_max_ns)
zb_show_mm zblk0
zb_info "shrinker: $calls scan calls, $objs objects offered ($(awk -v o=$objs -v c=$calls 'BEGIN { printf "%.1f", c ? o / c : 0 }') per call)," \
	"most in one call $maxo, largest nr_to_scan $maxs"
zb_info "shrinker scan time: mean $(awk -v n=$ns -v c=$(zb_dbg zblk0 shrink_calls) 'BEGIN { printf "%.0f", c ? n / c / 1000 : 0 }') us, max $((maxns / 1000)) us per call"
zb_info "mem_used_total $(zb_mib "$m0") -> $(zb_mib "$m1"), pages_compacted $p0 -> $p1"
zb_expect_gt "shrinker scan calls under memory pressure" "$calls" 0
zb_expect_gt "pages_compacted after memory pressure (no manual compact)" "$p1" "$p0"
zb_expect_lt "mem_used_total after memory pressure" "$m1" "$m0"
zb_expect_gt "largest nr_to_scan seen" "$maxs" 0
zb_expect_eq "shrinker calls that offered more objects for moving than their nr_to_scan" "$(zb_dbg zblk0 shrink_over)" 0
zb_expect_le "most objects one shrinker call offered for moving (bound: the largest nr_to_scan)" "$maxo" "$maxs"
zb_expect_str "md5 of zblk0 after the shrinker ran" \
	"$(dd if=/dev/zblk0 bs=1M iflag=direct 2>/dev/null | zb_md5)" "$md5a"
zb_reset zblk1
zb_reset zblk0
zb_unload
zb_pass
