#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tools/bench-guest.sh - the guest half of tools/bench (run by tools/guest-run;
# not meant to be run by hand). Busybox sh.
#
# Reads its settings from /files/bench.env (written by tools/bench), measures
# zblk, zram and brd on the same corpus data in this one boot, devices
# alternating, and prints machine-readable lines that tools/bench parses:
#   @@P DONE TOTAL TEXT   progress (DONE steps of TOTAL finished, TEXT next)
#   @@R {json}            one measurement
#   @@E TEXT              an error (a device or step that could not be measured)
#   @@I KEY VALUE         information about the guest (kernel, cpus, ...)
#   @@S {json}            start of a series of timed runs (the host samples the
#                         VM's CPU time here and at each @@R of the series, and
#                         writes the line's "seq" to /files/bench.ack)
#   @@M {json}            a mark between two swap passes (ditto)
# Everything else is commentary for the console log.
#
# Phases (PHASES in bench.env, in this order):
#   density  each device: set up, fill with the corpus, verify, mm_stat
#   tput     each workload x jobs x rep x device (rotated), zblk-load io;
#            then BIG_WORKLOADS (e.g. write:16384: 16 KiB blocks) at 1 job
#   frag     each compressing device: reset, fill, discard 50% of the units,
#            mm_stat, compact, mm_stat, verify
#   swap     each compressing device as the only swap of a memory cgroup whose
#            working set is SWAP_FACTOR x its memory.max: fill, read back

. /files/bench.env

L=/files/zblk-load
MM=/tmp/bench-mm
RUNTIME=${RUNTIME:-3}
PAUSE=${PAUSE:-0.6}
# sync points: the host samples the VM's CPU time there, then acknowledges
# through /files/bench.ack; without that file, a fixed idle pause
if [ -e /files/bench.ack ]; then SYNC="--ack /files/bench.ack"; else SYNC="--pause $PAUSE"; fi
REPS=${REPS:-3}
JOBS=${JOBS:-"1 2"}
WORKLOADS=${WORKLOADS:-"randwrite randread write read randrw"}
BIG_WORKLOADS=${BIG_WORKLOADS-"write:16384 read:16384"}
DEVICES=${DEVICES-"zblk:4096:lz4 zblk:16384:lz4 zram:4096:lz4 brd:4096:none zblk:4096:zstd zblk:16384:zstd zram:4096:zstd"}
SWAP_DEVICES=${SWAP_DEVICES-"zblk:4096:lz4 zblk:16384:lz4 zram:4096:lz4 zblk:4096:zstd zblk:16384:zstd zram:4096:zstd"}
SWAP_REPS=${SWAP_REPS:-1}
SWAP_LIMIT_MB=${SWAP_LIMIT_MB:-96}
SWAP_FACTOR=${SWAP_FACTOR:-3}
SWAP_STRIDE=${SWAP_STRIDE:-5}
FRAG_FRACTION=${FRAG_FRACTION:-0.5}
# discard sets of the fragmentation phase: every device gets each (4 KiB:
# what swap frees; 16 KiB: whole units of 16K-unit devices)
FRAG_UNITS=${FRAG_UNITS:-"4096 16384"}
# swap variant with 16 KiB mTHP for anonymous memory (empty: none)
SWAP_MTHP_DEVICES=${SWAP_MTHP_DEVICES-}
SWAP_MTHP_LIMIT_MB=${SWAP_MTHP_LIMIT_MB:-$SWAP_LIMIT_MB}
PHASES=${PHASES:-"density tput frag"}

err() { echo "@@E $*"; }
info() { echo "@@I $1 $2"; }

# ---- settings and corpus ----------------------------------------------------

info kernel "$(uname -r)"
info cmdline "\"$(sed 's/\\/\\\\/g; s/"/\\"/g' /proc/cmdline)\""
info cpus "$(grep -c ^processor /proc/cpuinfo)"
info mem_kb "$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
info cpu_model "\"$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)\""

case "$CORPUS_NAME" in
*.zst)
	echo "decompressing /files/$CORPUS_NAME to /tmp (tmpfs)"
	if [ "${CORPUS_MAX:-0}" -gt 0 ]; then
		zstd -q -dc "/files/$CORPUS_NAME" | head -c "$CORPUS_MAX" >/tmp/corpus.bin
	else
		zstd -q -dc "/files/$CORPUS_NAME" >/tmp/corpus.bin
	fi || { err "cannot decompress the corpus"; exit 1; }
	CORPUS=/tmp/corpus.bin ;;
*)	CORPUS=/files/$CORPUS_NAME ;;
esac
cbytes=$(wc -c <"$CORPUS")
[ "${CORPUS_MAX:-0}" -gt 0 ] && [ "$cbytes" -gt "$CORPUS_MAX" ] && cbytes=$CORPUS_MAX
# devices hold exactly the corpus, in whole 16 KiB units
SIZE=$((cbytes / 16384 * 16384))
[ "$SIZE" -ge 1048576 ] || { err "corpus too small ($cbytes bytes)"; exit 1; }
info corpus_bytes "$SIZE"
LOPT="--corpus $CORPUS --corpus-max $SIZE"

# ---- devices --------------------------------------------------------------

# Devices are named kind:unit:algo; each gets its own node, numbered in
# order of first appearance among the devices of its kind.
count_kind() { # KIND LIST -> how many devices of KIND
	c=0
	for x in $2; do case "$x" in "$1":*) c=$((c + 1)) ;; esac; done
	echo $c
}
nzblk=$(count_kind zblk "$DEVICES") nzram=$(count_kind zram "$DEVICES")
[ "$(count_kind zblk "$SWAP_DEVICES $SWAP_MTHP_DEVICES")" -gt $nzblk ] &&
	nzblk=$(count_kind zblk "$SWAP_DEVICES $SWAP_MTHP_DEVICES")
[ "$(count_kind zram "$SWAP_DEVICES $SWAP_MTHP_DEVICES")" -gt $nzram ] &&
	nzram=$(count_kind zram "$SWAP_DEVICES $SWAP_MTHP_DEVICES")
node_of() { # SPEC LIST -> sysfs name (zblkN, zramN, ram0)
	spec=$1 kind=${1%%:*} n=0
	[ "$kind" = brd ] && { echo ram0; return; }
	for x in $2; do
		[ "$x" = "$spec" ] && { echo "$kind$n"; return; }
		case "$x" in "$kind":*) n=$((n + 1)) ;; esac
	done
	echo "$kind-none"
}

wr() { # VALUE FILE: write, report failures
	if ! echo "$1" >"$2" 2>/tmp/wr.err; then
		err "echo $1 > $2: $(cat /tmp/wr.err)"
		return 1
	fi
}

# pack_settle NODE: wait (at most 60 s) until a zblk device's packer has no
# unit pending (debug_stat version 4 or later, field 18), so that mm_stat and the
# system's memory show 16K units written 4K at a time as they will stay;
# the time waited, in ms, is added to $pack_wait_ms
pack_wait_ms=0

# dbg_version_ok FILE: a zblk debug_stat whose fields are those of version 4
# or a later one (versions only add fields at the end)
dbg_version_ok() {
	head -n1 "$1" 2>/dev/null | awk '$1 == "version:" && $2 >= 4 { ok = 1 } END { exit !ok }'
}

pack_settle() {
	local f=/sys/block/$1/debug_stat t=0
	dbg_version_ok "$f" || return 0
	while [ "$(awk 'NR == 2 { print $18 }' "$f")" != 0 ] && [ $t -lt 600 ]; do
		sleep 0.1
		t=$((t + 1))
	done
	[ $t -lt 600 ] || err "$1: the packer still has units pending after 60 s"
	pack_wait_ms=$((pack_wait_ms + t * 100))
}

# packer_stat PHASE KEY SPEC... : for each zblk device among the SPECs, its
# debug_stat counters line as a record (the host subtracts one from the next
# with the same KEY: the packer's work over a workload or a swap run)
packer_stat() {
	local ph=$1 key=$2 d n f
	shift 2
	for d in "$@"; do
		case "$d" in zblk:*) ;; *) continue ;; esac
		if [ "$ph" = swap ]; then
			n=$(node_of "$d" "$SWAP_DEVICES $SWAP_MTHP_DEVICES")
		else
			n=$(node_of "$d" "$DEVICES")
		fi
		f=/sys/block/$n/debug_stat
		dbg_version_ok "$f" || continue
		echo "@@R {\"phase\":\"packer\",\"of\":\"$ph\",\"key\":\"$key\",$(spec_json "$d"),\"node\":\"$n\",\"debug_stat\":\"$(sed -n 2p "$f" | tr -s ' ' | sed 's/^ //; s/ $//')\"}"
	done
}

mm_stat() { # NODE -> mm_stat line, or brd's equivalent
	pack_settle "$1"
	if [ -r "/sys/block/$1/mm_stat" ]; then
		tr -s ' \t' ' ' <"/sys/block/$1/mm_stat" | sed 's/^ //; s/ $//'
	else
		echo ""
	fi
}

modules_loaded=0
load_modules() {
	[ $modules_loaded = 1 ] && return
	modules_loaded=1
	echo 0 >/sys/module/zswap/parameters/enabled 2>/dev/null
	modprobe lz4 2>/dev/null; modprobe zstd 2>/dev/null
	if ! out=$(modprobe zblk num_devices=$nzblk 2>&1); then
		err "modprobe zblk failed: $out"
	fi
	if ! out=$(modprobe zram num_devices=$nzram 2>&1); then
		err "modprobe zram failed: $out"
	fi
	if ! out=$(modprobe brd rd_nr=1 rd_size=$((SIZE / 1024)) 2>&1); then
		err "modprobe brd failed: $out"
	fi
	info zblk_version "\"$(cat /sys/module/zblk/version 2>/dev/null || cat /sys/module/zblk/srcversion 2>/dev/null)\""
}

# setup SPEC NODE DISKSIZE: configure an unused device; 0 on success
setup() {
	kind=${1%%:*} rest=${1#*:}
	unit=${rest%%:*} algo=${rest#*:}
	case "$kind" in
	brd)	[ -b /dev/ram0 ] || { err "no /dev/ram0 (brd)"; return 1; }
		return 0 ;;
	zblk|zram)
		s=/sys/block/$2
		[ -d "$s" ] || { err "$1: no $s"; return 1; }
		if [ "$(cat $s/initstate 2>/dev/null)" = 1 ]; then
			wr 1 $s/reset || return 1
		fi
		if [ "$kind" = zblk ]; then
			wr "$unit" $s/unit_size || return 1
		fi
		wr "$algo" $s/comp_algorithm || return 1
		wr "$3" $s/disksize || return 1
		i=0
		while [ ! -b /dev/$2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		[ -b /dev/$2 ] || { err "$1: /dev/$2 missing"; return 1; } ;;
	*)	err "unknown device kind $kind"; return 1 ;;
	esac
}

teardown() { # SPEC NODE
	case "${1%%:*}" in
	zblk|zram) echo 1 >/sys/block/$2/reset 2>/dev/null ;;
	esac
}

# mem_json: what the system has free, after dropping the caches, as JSON:
# MemFree, the free pages parked on per-CPU lists (/proc/zoneinfo "count:",
# which MemFree leaves out), Slab, and the zblk/zsmalloc slab caches
# (/proc/slabinfo, bytes of their slabs; -1 when unreadable)
mem_json() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	si=/proc/slabinfo
	[ -r $si ] || si=/dev/null
	awk -v si=$si '
	FILENAME == "/proc/meminfo" && $1 == "MemFree:" { mf = $2 }
	FILENAME == "/proc/meminfo" && $1 == "Slab:" { sl = $2 }
	FILENAME == "/proc/zoneinfo" && $1 == "count:" { pcp += $2 }
	FILENAME == si && si != "/dev/null" && ($1 ~ /zblk|^zs_|^zspage|zsmalloc/) && NF >= 15 {
		zs += $15 * $6 * 4096; n = n sep "\"" $1 "\":" ($15 * $6 * 4096); sep = "," }
	END {
		if (si == "/dev/null") zs = -1
		printf "{\"memfree_kb\":%d,\"pcp_pages\":%d,\"slab_kb\":%d,\"zslab_bytes\":%d,\"zslab\":{%s}}", mf, pcp, sl, zs, n
	}' /proc/meminfo /proc/zoneinfo $si
}

# rotate K LIST: LIST rotated left by K (mod its length)
rotate() {
	n=0; for x in $2; do n=$((n + 1)); done
	[ $n -gt 0 ] || return 0
	k=$(($1 % n)) i=0 a="" b=""
	for x in $2; do
		if [ $i -lt $k ]; then b="$b $x"; else a="$a $x"; fi
		i=$((i + 1))
	done
	echo $a $b
}

spec_json() { # SPEC -> "device":...,"unit":...,"algo":...
	kind=${1%%:*} rest=${1#*:}
	echo "\"device\":\"$kind\",\"unit\":${rest%%:*},\"algo\":\"${rest#*:}\""
}

# run_load OUTVAR ARGS...: zblk-load, its JSON line in $load ({} on failure)
run_load() {
	if load=$($L "$@" 2>/tmp/load.err); then
		[ -n "$load" ] || load="{}"
		return 0
	fi
	[ -n "$load" ] || load="{}"
	err "zblk-load $1 failed: $(tail -n 3 /tmp/load.err | tr '\n' ' ')"
	return 1
}

# ---- progress -------------------------------------------------------------

ndev=0; for d in $DEVICES; do ndev=$((ndev + 1)); done
nswapdev=0; for d in $SWAP_DEVICES; do nswapdev=$((nswapdev + 1)); done
nwl=0; for w in $WORKLOADS; do nwl=$((nwl + 1)); done
njobs=0; for j in $JOBS; do njobs=$((njobs + 1)); done
nbig=0; for w in $BIG_WORKLOADS; do nbig=$((nbig + 1)); done
ncompr=0; for d in $DEVICES; do case "$d" in brd:*) ;; *) ncompr=$((ncompr + 1)) ;; esac; done
total=0
for p in $PHASES; do
	case "$p" in
	density) total=$((total + ndev)) ;;
	tput) total=$((total + (nwl * njobs + nbig) * REPS * ndev)) ;;
	frag) for u in $FRAG_UNITS; do total=$((total + ncompr)); done ;;
	swap) total=$((total + nswapdev * SWAP_REPS))
		for d in $SWAP_MTHP_DEVICES; do total=$((total + SWAP_REPS)); done ;;
	esac
done
done_steps=0
step() { echo "@@P $done_steps $total $*"; }
stepped() { done_steps=$((done_steps + 1)); }

# ---- phases ---------------------------------------------------------------

ok_devices=""

phase_density() {
	for d in $DEVICES; do
		n=$(node_of "$d" "$DEVICES")
		step "density $d: fill + verify"
		# the memory the system lost: before the setup, after the fill
		mem0=$(mem_json)
		if setup "$d" "$n" "$SIZE"; then
			run_load fill $LOPT --dev /dev/$n; fill=$load; frc=$?
			pack_wait_ms=0
			pack_settle $n
			mem1=$(mem_json)
			mm=$(mm_stat $n)
			run_load verify $LOPT --dev /dev/$n; ver=$load; vrc=$?
			echo "@@R {\"phase\":\"density\",$(spec_json $d),\"node\":\"$n\",\"size\":$SIZE,\"mm_stat\":\"$mm\",\"mem_before\":$mem0,\"mem_after\":$mem1,\"pack_wait_ms\":$pack_wait_ms,\"fill\":$fill,\"verify\":$ver}"
			[ $frc = 0 ] && [ $vrc = 0 ] && ok_devices="$ok_devices $d"
		fi
		stepped
	done
}

phase_tput() {
	devargs="" nok=0
	for d in $DEVICES; do
		case " $ok_devices " in
		*" $d "*) devargs="$devargs --dev /dev/$(node_of "$d" "$DEVICES")=$d"
			nok=$((nok + 1)) ;;
		*) err "tput: $d not measured (its setup or fill failed)" ;;
		esac
	done
	# WORKLOADS at 4K and each JOBS count, then BIG_WORKLOADS (rw:bs) at 1 job
	for wj in $(for w in $WORKLOADS; do for j in $JOBS; do echo "$w:4096:$j"; done; done) \
		$(for x in $BIG_WORKLOADS; do echo "$x:1"; done); do
		w=${wj%%:*} bs=${wj#*:} j=${bs#*:} bs=${bs%%:*}
		name=$w
		[ "$bs" = 4096 ] || name=$w$((bs / 1024))k
		{
			step "tput $name jobs=$j ($REPS x $nok devices, ${RUNTIME}s each)"
			[ $nok -gt 0 ] || { done_steps=$((done_steps + REPS * ndev)); continue; }
			# one process: the corpus is loaded once and the devices
			# alternate, their order rotating each repetition; it
			# idles PAUSE seconds around runs, when the host samples
			# the VM's CPU time (@@S marks the start)
			seen=0
			packer_stat tput "$name:$j" $ok_devices
			{ $L io $LOPT $devargs --rw $w --bs $bs --jobs $j --runtime "$RUNTIME" \
				--reps "$REPS" $SYNC --seed 0 --oseed 0 --verify 2>/tmp/load.err
			  echo $? >/tmp/load.rc; } |
			while read -r line; do
				case "$line" in
				*'"mode":"ready"'*) echo "@@S $line" ;;
				*)	seen=$((seen + 1))
					echo "@@R {\"phase\":\"tput\",\"workload\":\"$name\",\"jobs\":$j,\"load\":$line}"
					echo "@@P $((done_steps + seen)) $total tput $name jobs=$j: $seen of $((REPS * nok)) runs done" ;;
				esac
			done
			packer_stat tput "$name:$j" $ok_devices
			[ "$(cat /tmp/load.rc)" = 0 ] ||
				err "tput $name jobs=$j: zblk-load failed: $(tail -n 3 /tmp/load.err | tr '\n' ' ')"
			done_steps=$((done_steps + REPS * ndev))
		}
	done
}

phase_frag() {
	# FRAG_SIZE bytes per device (default: the corpus, SIZE)
	FSIZE=${FRAG_SIZE:-$SIZE}
	[ "$FSIZE" -gt 0 ] && [ "$FSIZE" -le "$SIZE" ] || FSIZE=$SIZE
	FSIZE=$((FSIZE / 16384 * 16384))
	# (setup() sets $unit: busybox sh functions share their variables)
	fr=0
	for du in $FRAG_UNITS; do
	for d in $(rotate $fr "$DEVICES"); do
		case "$d" in brd:*) continue ;; esac
		n=$(node_of "$d" "$DEVICES")
		step "frag $d: fill, discard ${FRAG_FRACTION} of the $du-byte blocks, compact"
		if setup "$d" "$n" "$FSIZE"; then
			run_load fill $LOPT --dev /dev/$n; fill=$load
			m0=$(mm_stat $n)
			run_load discard --dev /dev/$n --unit "$du" --fraction "$FRAG_FRACTION"; disc=$load
			m1=$(mm_stat $n)
			compact=missing
			if [ -e /sys/block/$n/compact ]; then
				if echo 1 >/sys/block/$n/compact 2>/tmp/wr.err; then
					compact=done
				else
					compact="failed: $(cat /tmp/wr.err)"
				fi
			fi
			m2=$(mm_stat $n)
			run_load verify $LOPT --dev /dev/$n --unit "$du" --fraction "$FRAG_FRACTION"; ver=$load
			echo "@@R {\"phase\":\"frag\",$(spec_json $d),\"node\":\"$n\",\"size\":$FSIZE,\"discard_unit\":$du,\"fraction\":$FRAG_FRACTION,\"compact\":\"$compact\",\"mm_full\":\"$m0\",\"mm_discarded\":\"$m1\",\"mm_compacted\":\"$m2\",\"fill\":$fill,\"discard\":$disc,\"verify\":$ver}"
			teardown "$d" "$n"
		fi
		stepped
	done
	fr=$((fr + 1))
	done
}

cg=/sys/fs/cgroup
cgroup_ready=0
swap_cgroup() {
	[ $cgroup_ready = 1 ] && return 0
	mkdir -p $cg
	grep -q " $cg cgroup2 " /proc/mounts || mount -t cgroup2 none $cg || {
		err "swap: cannot mount cgroup2"; return 1; }
	wr +memory $cg/cgroup.subtree_control || return 1
	mkdir -p $cg/bench
	wr $((SWAP_LIMIT_MB * 1048576)) $cg/bench/memory.max || return 1
	cgroup_ready=1
}

# swap_one SPEC REP VARIANT: one swap run (VARIANT "" or mthp16k)
swap_one() {
	d=$1 r=$2 variant=$3
	n=$(node_of "$d" "$SWAP_DEVICES $SWAP_MTHP_DEVICES")
	thp="" mthp=/sys/kernel/mm/transparent_hugepage/hugepages-16kB
	[ -n "$variant" ] && thp=--thp
	step "swap${variant:+ $variant} rep=$r $d: working set $((ws / 1048576)) MiB in $((limit / 1048576)) MiB"
	if setup "$d" "$n" $((ws + ws / 2)) && mkswap /dev/$n >/dev/null 2>/tmp/wr.err &&
	   swapon /dev/$n 2>>/tmp/wr.err; then
		ev0=$(awk '/^oom_kill / {print $2}' $cg/bench/memory.events)
		so0=$(cat $mthp/stats/swpout 2>/dev/null || echo 0)
		sf0=$(cat $mthp/stats/swpout_fallback 2>/dev/null || echo 0)
		packer_stat swap "${variant:-plain}:$r" "$d"
		# marks between passes (@@M) let the host sample the
		# VM's CPU time per pass
		# zblk's census of units after each pass (where its memory is)
		census=/sys/kernel/debug/zblk/$n/units
		[ -r $census ] && census="--census $census" || census=""
		{ sh -c "echo \$\$ >$cg/bench/cgroup.procs && exec $L swap --corpus $CORPUS --stride $SWAP_STRIDE --mlock --ws $ws $thp $SYNC --mm-stat /sys/block/$n/mm_stat $census" 2>/tmp/load.err
		  echo $? >/tmp/load.rc; } |
		while read -r line; do
			case "$line" in
			*'"mode":"mark"'*) echo "@@M $line" ;;
			*) echo "$line" >/tmp/swap.json ;;
			esac
		done
		rc=$(cat /tmp/load.rc)
		load=$(cat /tmp/swap.json 2>/dev/null)
		rm -f /tmp/swap.json
		[ -n "$load" ] || load="{}"
		[ $rc = 0 ] || err "swap${variant:+ $variant} $d: zblk-load exit $rc: $(tail -n 3 /tmp/load.err | tr '\n' ' ')"
		ev1=$(awk '/^oom_kill / {print $2}' $cg/bench/memory.events)
		so1=$(cat $mthp/stats/swpout 2>/dev/null || echo 0)
		sf1=$(cat $mthp/stats/swpout_fallback 2>/dev/null || echo 0)
		mx=$(cat /sys/block/$n/mem_used_max 2>/dev/null || awk '{print $5}' /sys/block/$n/mm_stat)
		echo "@@R {\"phase\":\"swap\",\"variant\":\"$variant\",$(spec_json $d),\"node\":\"$n\",\"rep\":$r,\"limit\":$limit,\"ws\":$ws,\"rc\":$rc,\"oom_kills\":$((ev1 - ev0)),\"mthp16k_swpout\":$((so1 - so0)),\"mthp16k_swpout_fallback\":$((sf1 - sf0)),\"mem_used_max\":${mx:-0},\"load\":$load}"
		packer_stat swap "${variant:-plain}:$r" "$d"
		swapoff /dev/$n || err "swapoff /dev/$n failed"
	else
		err "swap${variant:+ $variant} $d: cannot set up /dev/$n as swap: $(cat /tmp/wr.err)"
	fi
	teardown "$d" "$n"
	stepped
}

phase_swap() {
	limit=$((SWAP_LIMIT_MB * 1048576))
	ws=$((limit * SWAP_FACTOR))
	info swap_limit_bytes $limit
	info swap_ws_bytes $ws
	swap_cgroup || return
	# page-cluster 0 as zram users set it; the devices are synchronous
	# anyway, so swap-in does not read ahead on them
	echo 0 >/proc/sys/vm/page-cluster
	# the device order rotates each repetition
	r=1
	while [ $r -le "$SWAP_REPS" ]; do
		for d in $(rotate $((r - 1)) "$SWAP_DEVICES"); do
			swap_one "$d" $r ""
		done
		r=$((r + 1))
	done
	[ -n "$SWAP_MTHP_DEVICES" ] || return
	# the variant with 16 KiB mTHP for anonymous memory
	f=/sys/kernel/mm/transparent_hugepage/hugepages-16kB/enabled
	if [ ! -w $f ]; then
		info swap_mthp_note "\"no $f in kernel $(uname -r): the mTHP swap variant is skipped\""
		for d in $SWAP_MTHP_DEVICES; do
			r=1
			while [ $r -le "$SWAP_REPS" ]; do stepped; r=$((r + 1)); done
		done
		return
	fi
	old=$(sed 's/.*\[\(.*\)\].*/\1/' $f)
	wr always $f || return
	# its own cgroup limit (a shorter run where the time is short)
	limit=$((SWAP_MTHP_LIMIT_MB * 1048576))
	ws=$((limit * SWAP_FACTOR))
	wr $limit $cg/bench/memory.max || return
	info swap_mthp16k_enabled "\"$(cat $f)\""
	r=1
	while [ $r -le "$SWAP_REPS" ]; do
		for d in $(rotate $((r - 1)) "$SWAP_MTHP_DEVICES"); do
			swap_one "$d" $r mthp16k
		done
		r=$((r + 1))
	done
	echo "$old" >$f
}

load_modules
for p in $PHASES; do
	echo "== phase $p ($(cut -d' ' -f1 /proc/uptime)s)"
	case "$p" in
	density) phase_density ;;
	tput) phase_tput ;;
	frag) phase_frag ;;
	swap) phase_swap ;;
	*) err "unknown phase $p" ;;
	esac
done
for d in $DEVICES; do teardown "$d" "$(node_of "$d" "$DEVICES")"; done
echo "@@P $total $total done"
echo "== bench done ($(cut -d' ' -f1 /proc/uptime)s)"
exit 0
