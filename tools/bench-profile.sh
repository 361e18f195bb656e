#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench-profile.sh - guest half of `tools/bench --profile` (run by
# tools/guest-run; busybox sh). Where does the time of one 4K I/O go in zblk
# and in zram? Each device is filled with the corpus, then each workload runs
# for PROFILE_SECS seconds with the function_graph tracer limited to the
# functions of zblk, zram, zsmalloc and the compression libraries' entry
# points; the inclusive time of every traced function is summed in the guest.
#
# Output (parsed by tools/bench):
#   @@F {"device":..., "workload":..., "ios":N, "func":..., "calls":N, "us":T}
#   @@R {"phase":"profile", ...}   the run itself (zblk-load's JSON)
#   @@E TEXT                       an error
# Tracing costs time of its own (each traced call is timed), so compare the
# functions' shares between devices, not the absolute figures with tools/bench.

. /files/bench.env
L=/files/zblk-load
T=/sys/kernel/debug/tracing
PROFILE_SECS=${PROFILE_SECS:-3}
PROFILE_DEVICES=${PROFILE_DEVICES:-"zblk:4096:lz4 zram:4096:lz4"}
PROFILE_WORKLOADS=${PROFILE_WORKLOADS:-"randwrite randread"}	# rw[:blocksize]

err() { echo "@@E $*"; }

zstd -q -dc "/files/$CORPUS_NAME" >/tmp/corpus.bin || { err "cannot decompress the corpus"; exit 1; }
SIZE=$(( $(wc -c </tmp/corpus.bin) / 16384 * 16384 ))
LOPT="--corpus /tmp/corpus.bin --corpus-max $SIZE"
[ -d $T ] || mount -t tracefs nodev $T 2>/dev/null
[ -w $T/current_tracer ] || { err "no tracefs at $T"; exit 1; }

modprobe lz4 2>/dev/null; modprobe zstd 2>/dev/null
modprobe zblk num_devices=2 || err "modprobe zblk failed"
modprobe zram num_devices=2 || err "modprobe zram failed"

# Functions to time: every function of the three modules that ftrace can
# trace, and the entry points of compression and of sleeping locks.
filter() {
	echo >$T/set_ftrace_filter
	for m in zblk zram zsmalloc; do
		echo "*:mod:$m" >>$T/set_ftrace_filter 2>/dev/null
	done
	for f in zs_malloc zs_free zs_map_object zs_unmap_object zs_compact \
		LZ4_compress_fast LZ4_decompress_safe LZ4_decompress_safe_partial \
		zstd_compress_cctx zstd_decompress_dctx crypto_comp_compress \
		crypto_comp_decompress __mutex_lock_slowpath out_of_line_wait_on_bit_lock \
		__wait_on_bit_lock mempool_alloc mempool_free __alloc_pages \
		kmem_cache_alloc __kmalloc memcpy_orig; do
		grep -qE "^$f( |\$)" $T/available_filter_functions &&
			echo "$f" >>$T/set_ftrace_filter
	done
}

nzblk=0 nzram=0
for d in $PROFILE_DEVICES; do
	kind=${d%%:*} rest=${d#*:}
	unit=${rest%%:*} algo=${rest#*:}
	case $kind in
	zblk) n=zblk$nzblk; nzblk=$((nzblk + 1)) ;;
	zram) n=zram$nzram; nzram=$((nzram + 1)) ;;
	*) err "$d: only zblk and zram can be profiled"; continue ;;
	esac
	s=/sys/block/$n
	[ -d $s ] || { err "$d: no $s"; continue; }
	[ $kind = zblk ] && { echo "$unit" >$s/unit_size || err "$d: unit_size"; }
	echo "$algo" >$s/comp_algorithm || err "$d: comp_algorithm"
	echo "$SIZE" >$s/disksize || { err "$d: disksize"; continue; }
	$L fill $LOPT --dev /dev/$n >/dev/null || err "$d: fill failed"
	for wb in $PROFILE_WORKLOADS; do
		# rw or rw:blocksize
		w=${wb%%:*} bs=4096
		[ "$w" = "$wb" ] || bs=${wb#*:}
		name=$w
		[ "$bs" = 4096 ] || name=$w$((bs / 1024))k
		echo 0 >$T/tracing_on
		echo nop >$T/current_tracer
		echo 65536 >$T/buffer_size_kb
		filter
		echo function_graph >$T/current_tracer
		echo 1 >$T/options/funcgraph-tail 2>/dev/null
		echo 0 >$T/options/funcgraph-irqs 2>/dev/null
		echo >$T/trace
		echo 1 >$T/tracing_on
		out=$($L io $LOPT --dev /dev/$n=$d --rw $w --bs $bs --runtime "$PROFILE_SECS" --seed 0)
		echo 0 >$T/tracing_on
		echo "@@R {\"phase\":\"profile\",\"workload\":\"$name\",\"load\":$out}"
		ios=$(echo "$out" | sed 's/.*"ios":\([0-9]*\).*/\1/')
		# leaf lines: "func();" with a duration; closing lines "} /* func */"
		awk -v dev="$d" -v w="$name" -v ios="$ios" '
		{
			if (!match($0, /[0-9.]+ us/)) next
			us = substr($0, RSTART, RLENGTH - 3) + 0
			name = ""
			# module functions print as "name [module]"
			if (match($0, /\/\* [A-Za-z0-9_.]+( \[[A-Za-z0-9_]+\])? \*\//))
				name = substr($0, RSTART + 3, RLENGTH - 6)
			else if (match($0, /[A-Za-z0-9_.]+( \[[A-Za-z0-9_]+\])?\(\);/))
				name = substr($0, RSTART, RLENGTH - 3)
			sub(/ \[.*/, "", name)
			if (name == "") next
			calls[name]++; total[name] += us
		}
		END {
			for (f in calls)
				printf "@@F {\"device\":\"%s\",\"workload\":\"%s\",\"ios\":%d,\"func\":\"%s\",\"calls\":%d,\"us\":%.1f}\n", dev, w, ios, f, calls[f], total[f]
		}' $T/trace
		overrun=$(awk '/^overrun/ {print $NF}' $T/per_cpu/cpu0/stats 2>/dev/null)
		[ "${overrun:-0}" = 0 ] || err "$d $name: trace buffer overran ($overrun events lost); figures are partial"
	done
	echo nop >$T/current_tracer
	echo 1 >$s/reset
done
exit 0
