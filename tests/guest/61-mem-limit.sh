#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --timeout 600
#
# 61-mem-limit: with mem_limit set, writes past it fail with an I/O error and
# everything written before reads back intact; for unit_size 4096 and 16384.
# - 4 MiB of random (incompressible) data fits under an 8 MiB limit;
# - writing 16 MiB more (O_DIRECT) fails part way; mem_used_total stays near
#   the limit; io_stat failed_writes counts the failures;
# - a buffered write past the limit fails too (at fsync);
# - rewriting the first 4 MiB at the limit with 4 KiB writes (partial units
#   when unit_size is 16384): blocks whose write failed keep their old
#   content, blocks whose write succeeded have the new one;
# - with the limit lifted (0), the same writes succeed.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

dev=zblk0
LIMIT=$((8 * ZB_MIB))
SLACK=$((1 * ZB_MIB))

run() { # UNIT
	local u=$1 old=/tmp/old.bin new=/tmp/new.bin more=/tmp/more.bin out n used exp
	zb_step "unit_size=$u: mem_limit=8M, 4 MiB of random data"
	zb_setup $dev "$u" lz4 64M
	zb_write_ok /sys/block/$dev/mem_limit 8M
	zb_expect_eq "mm_stat mem_limit" "$(zb_mm $dev mem_limit)" $LIMIT
	head -c $((4 * ZB_MIB)) /dev/urandom >$old
	dd if=$old of=/dev/$dev bs=64k oflag=direct 2>/dev/null || zb_fail "writing 4 MiB under the 8 MiB limit failed"
	zb_show_mm $dev

	zb_step "write 16 MiB more with O_DIRECT: must fail with an error"
	head -c $((16 * ZB_MIB)) /dev/urandom >$more
	if out=$(dd if=$more of=/dev/$dev bs=$u seek=$((8 * ZB_MIB / u)) oflag=direct 2>&1); then
		zb_fail "writing 20 MiB of random data under an 8 MiB mem_limit succeeded"
	fi
	zb_info "dd: $(echo "$out" | head -n1)"
	zb_show_mm $dev
	used=$(zb_mm $dev mem_used_total)
	zb_expect_le "mem_used_total at the limit" "$used" $((LIMIT + SLACK))
	zb_expect_ge "mem_used_total at the limit (the limit is not hit far too early)" "$used" $((LIMIT - 2 * ZB_MIB))
	zb_expect_gt "io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
	zb_expect_le "orig_data_size" "$(zb_mm $dev orig_data_size)" $((LIMIT + SLACK))

	zb_step "a buffered write past the limit fails at fsync"
	if dd if=$more of=/dev/$dev bs=1M seek=40 count=8 conv=fsync 2>/dev/null; then
		zb_fail "a buffered write + fsync past mem_limit succeeded"
	fi

	zb_step "the first 4 MiB still read back intact"
	zb_drop_caches
	zb_expect_str "md5 of the first 4 MiB" "$(dd if=/dev/$dev bs=64k count=64 iflag=direct 2>/dev/null | zb_md5)" "$(zb_md5 <$old)"

	zb_step "rewrite the first 4 MiB at the limit with 4 KiB O_DIRECT writes"
	head -c $((4 * ZB_MIB)) /dev/urandom >$new
	out=$(dd if=$new of=/dev/$dev bs=4096 oflag=direct 2>&1)
	n=$(echo "$out" | sed -n 's/^\([0-9]*\)+[0-9]* records out.*/\1/p' | head -n1)
	[ -n "$n" ] || zb_fail "cannot parse dd's output: $out"
	zb_info "$n of 1024 4 KiB blocks rewritten before the first failure"
	exp=$({ head -c $((n * 4096)) $new; tail -c +$((n * 4096 + 1)) $old; } | zb_md5)
	zb_expect_str "md5 of the first 4 MiB after a partly failed rewrite" \
		"$(dd if=/dev/$dev bs=64k count=64 iflag=direct 2>/dev/null | zb_md5)" "$exp"

	zb_step "lift the limit: the writes now succeed"
	zb_write_ok /sys/block/$dev/mem_limit 0
	dd if=$more of=/dev/$dev bs=1M seek=8 oflag=direct 2>/dev/null || zb_fail "writing 16 MiB with no mem_limit failed"
	dd if=$new of=/dev/$dev bs=1M oflag=direct 2>/dev/null || zb_fail "rewriting 4 MiB with no mem_limit failed"
	zb_expect_str "md5 of the 16 MiB written without a limit" \
		"$(dd if=/dev/$dev bs=1M skip=8 count=16 iflag=direct 2>/dev/null | zb_md5)" "$(zb_md5 <$more)"
	zb_expect_str "md5 of the first 4 MiB" \
		"$(dd if=/dev/$dev bs=1M count=4 iflag=direct 2>/dev/null | zb_md5)" "$(zb_md5 <$new)"
	zb_show_mm $dev
	rm -f $old $new $more
	zb_reset $dev
}

zb_load num_devices=1
run 4096
run 16384
zb_unload
zb_pass
