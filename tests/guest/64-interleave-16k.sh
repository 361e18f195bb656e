#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --smp 2 --timeout 900 --file @CORPUS@
#
# 64-interleave-16k: four writers interleaved 4K by 4K inside the same 16K
# units, while compaction and discards of another region run (issue 12).
# 16K units, lz4 then zstd, on a 64 MiB zblk0:
#   [0, 8M+12K)  fio, 4 jobs, O_DIRECT: job k writes block k of each of the
#                512 units (offset k*4K, rw=write:12k), so every unit is
#                built from four partial writes by four tasks; data from
#                fio's seeded generator (a seed per pass, so each pass and
#                each job writes different bytes), 50% compressible, with a
#                crc32c header naming the block's offset and seed.
#                Three passes, each on the region discarded first: every
#                unit twice with the jobs paced in lockstep (250 writes/s
#                each); the first 4 units 150 times over (the jobs meet in a
#                unit all the time); every unit 3 times, free-running. Every
#                round of a pass verifies every block it wrote right after
#                writing it (fio do_verify: header magic, offset and I/O
#                number, crc32c), so a write lost to another writer's
#                read-modify-write shows as zeroes (first round) or as the
#                previous round's I/O number. (fio 3.33 checks neither the
#                seed nor, with verify_only, the I/O number: a block left
#                from an earlier fio run would pass, hence the discards.)
#   [16M, 32M)   a corpus copy nobody writes: its md5 must not change.
#   [32M, 64M)   a corpus copy whose 16K units and 4K blocks (partial
#                discards) are discarded at random and rewritten with
#                random data, in a loop, all along.
#   compaction:  `echo 1 > compact` in a loop, all along.
# After everything stopped, every block of [0, 8M+12K) is verified again
# (fio verify_only: header magic and offset, crc32c) and the region's md5
# must equal the one read right after the last pass; nothing may have failed
# (io_stat), and compaction must have run at least 10 times.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
dev=zblk0
stop=/tmp/ilv.stop
errs=/tmp/ilv.err
NUNITS=512
# the interleaved writers: job k at offset k*4K writes 4K, skips 12K
ILV="--filename=/dev/$dev --direct=1 --ioengine=psync --bs=4k --rw=write:12k \
--numjobs=4 --offset_increment=4k --verify=crc32c --verify_fatal=1 \
--buffer_compress_percentage=50 --buffer_compress_chunk=4k --refill_buffers \
--group_reporting --eta=never"
# every unit of [0, 8M+12K), or the first 4 units 150 times over
ALL="--size=8M --number_ios=$NUNITS"
FEW="--size=64k --number_ios=4 --loops=150"

# background: compaction and the discards of [32M, 64M)
bg_start() {
	rm -f $stop $errs /tmp/ilv.rounds.*
	zb_bg_compact $dev $stop $errs /tmp/ilv.rounds.compact 0.05
	(
		n=0
		while [ ! -e $stop ]; do
			# 8 whole units, 8 single 4K blocks (partial discards), 4
			# blocks rewritten with random data; blkdiscard -f: without
			# it blkdiscard opens O_EXCL and fails with EBUSY while the
			# other blkdiscard has the device open (-f always warns on
			# stderr, so only a failure's output is kept)
			for o in $(awk -v s=$n 'BEGIN { srand(s); for (i = 0; i < 8; i++) print int(rand() * 2048) }'); do
				e=$(blkdiscard -f -o $((32 * ZB_MIB + o * 16384)) -l 16384 /dev/$dev 2>&1) ||
					echo "blkdiscard of a unit failed: $e" >>$errs
			done
			for o in $(awk -v s=$n 'BEGIN { srand(s + 3); for (i = 0; i < 8; i++) print int(rand() * 8192) }'); do
				e=$(blkdiscard -f -o $((32 * ZB_MIB + o * 4096)) -l 4096 /dev/$dev 2>&1) ||
					echo "blkdiscard of a block failed: $e" >>$errs
			done
			for o in $(awk -v s=$n 'BEGIN { srand(s + 7); for (i = 0; i < 4; i++) print int(rand() * 8192) }'); do
				head -c 4096 /dev/urandom | dd of=/dev/$dev bs=4096 seek=$((32 * 256 + o)) oflag=direct 2>/dev/null ||
					echo "rewrite failed" >>$errs
			done
			n=$((n + 1))
		done
		echo $n >/tmp/ilv.rounds.discard
	) &
	dpid=$!
}

bg_stop() {
	touch $stop
	wait $cpid
	wait $dpid
	zb_info "during the passes: $(cat /tmp/ilv.rounds.compact) compactions, $(cat /tmp/ilv.rounds.discard) discard rounds"
	[ -s $errs ] && zb_fail "background work failed: $(head -n 5 $errs)"
	[ "$(cat /tmp/ilv.rounds.compact)" -ge 10 ] ||
		zb_fail "only $(cat /tmp/ilv.rounds.compact) compactions ran during the passes (want >= 10)"
}

run() {
	local algo=$1 want md5 p0 pass how what
	zb_step "$algo: set up, corpus copies at 16M and 32M"
	zb_setup $dev 16384 "$algo" 64M
	zb_corpus | head -c $((48 * ZB_MIB)) |
		dd of=/dev/$dev bs=1M seek=16 iflag=fullblock oflag=direct 2>/dev/null ||
		zb_fail "corpus write failed"
	want=$(zb_dev_md5 $dev $((16 * ZB_MIB)) $((16 * ZB_MIB)) direct)
	p0=$(zb_mm $dev pages_compacted)
	bg_start
	for pass in 1 2 3; do
		case $pass in
		1) how="$ALL --loops=2 --rate_iops=250" what="512 units twice, in lockstep (250 writes/s each)" ;;
		2) how="$FEW" what="4 units 150 times" ;;
		3) how="$ALL --loops=3" what="512 units 3 times, free-running" ;;
		esac
		zb_step "$algo: pass $pass: 4 interleaved writers, $what, write + verify"
		# a block the pass fails to write then reads as zeroes, not as
		# a block of the previous pass
		blkdiscard -f -o 0 -l $((8 * ZB_MIB + 65536)) /dev/$dev 2>/dev/null || zb_fail "blkdiscard of the interleaved region failed"
		# shellcheck disable=SC2086
		zb_fio "ilv$pass" $ILV $how --randseed=$pass --do_verify=1
	done
	md5=$(zb_dev_md5 $dev 0 $((8 * ZB_MIB + 65536)) direct)
	bg_stop
	zb_step "$algo: everything stopped: verify every block again"
	# shellcheck disable=SC2086
	zb_fio "ilv-final" $ILV $ALL --randseed=3 --verify_only
	zb_expect_str "$algo: md5 of the interleaved region after everything stopped" \
		"$(zb_dev_md5 $dev 0 $((8 * ZB_MIB + 65536)) direct)" "$md5"
	zb_expect_str "$algo: md5 of the untouched corpus copy" \
		"$(zb_dev_md5 $dev $((16 * ZB_MIB)) $((16 * ZB_MIB)) direct)" "$want"
	zb_info "$algo: $(cat /sys/block/$dev/debug_stat | tail -n 1 | awk '{ printf "partial_writes %s, partial_discards %s", $2, $3 }');" \
		"pages_compacted $p0 -> $(zb_mm $dev pages_compacted)"
	zb_show_mm $dev
	zb_expect_eq "$algo: io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	zb_expect_eq "$algo: io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
	zb_reset $dev
}

zb_load num_devices=1
run lz4
run zstd
zb_unload
zb_pass
