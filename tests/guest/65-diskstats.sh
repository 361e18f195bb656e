#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 384M --timeout 600
#
# 65-diskstats: every bio is accounted, so /proc/diskstats (what iostat and
# zblkctl read) shows zblk's I/O: 256 direct 4K writes, 16 direct 64K reads
# and one discard on a 4K-unit device and on a 16K-unit device, with exact
# counts and sectors (fio with O_DIRECT); and swap-out and swap-in traffic on a swap device
# (through ->rw_page on 6.1) shows up as writes and reads.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

# stat DEV FIELD -> /proc/diskstats field (1-based, after major minor name)
st() { awk -v d="$1" -v f="$2" '$3 == d { print $(f + 3) }' /proc/diskstats; }
# fields: 1 reads, 3 sectors read, 5 writes, 7 sectors written,
#         12 discards, 14 sectors discarded

zb_load num_devices=3
for u in 4096 16384; do
	d=zblk$((u / 16384))
	zb_step "$d ($u-byte units): direct writes, reads, a discard"
	zb_setup $d $u lz4 16M
	# the first open after disksize scans for partitions (reads of its own)
	check blockdev --getsize64 /dev/$d
	r0=$(st $d 1) rs0=$(st $d 3) w0=$(st $d 5) ws0=$(st $d 7) t0=$(st $d 12) ts0=$(st $d 14)
	check fio --name=w --filename=/dev/$d --rw=write --bs=4k --size=1M --direct=1 --ioengine=psync
	check fio --name=r --filename=/dev/$d --rw=read --bs=64k --size=1M --direct=1 --ioengine=psync
	zb_info "$d: $(awk -v d=$d '$3 == d' /proc/diskstats)"
	zb_expect_eq "$d writes" $(( $(st $d 5) - w0 )) 256
	zb_expect_eq "$d sectors written" $(( $(st $d 7) - ws0 )) 2048
	zb_expect_eq "$d reads" $(( $(st $d 1) - r0 )) 16
	zb_expect_eq "$d sectors read" $(( $(st $d 3) - rs0 )) 2048
	# (blkdiscard probes the device for signatures: reads of its own)
	check blkdiscard -f -o 0 -l 1048576 /dev/$d
	zb_expect_ge "$d discards" $(( $(st $d 12) - t0 )) 1
	zb_expect_eq "$d sectors discarded" $(( $(st $d 14) - ts0 )) 2048
done

zb_step "swap traffic is accounted"
zb_setup zblk2 4096 lz4 128M
check mkswap /dev/zblk2
check swapon /dev/zblk2
w0=$(st zblk2 5) r0=$(st zblk2 1)
# 64 MiB of compressible shmem in a cgroup, then proactive reclaim
# (memory.reclaim) pushes it to swap and reading it back swaps it in.
# A memory.max squeeze did the same but under 6.12's MGLRU it could end in a
# memcg OOM kill after a few dozen pages (a CI run: 64 writes).
zb_cg_setup ds 256
check sh -c "echo \$\$ > $ZB_CG/ds/cgroup.procs && dd if=/dev/zero bs=1M count=64 2>/dev/null | tr '\\0' 'z' > /dev/shm/fill"
for try in 1 2 3 4 5; do
	# EAGAIN when less than asked was reclaimed: ask again
	echo 60M >$ZB_CG/ds/memory.reclaim 2>/dev/null && break
done
zb_info "after memory.reclaim: swap used $(zb_swap_kb) KiB"
check sh -c "cat /dev/shm/fill > /dev/null"
rm -f /dev/shm/fill
zb_info "zblk2: $(awk '$3 == "zblk2"' /proc/diskstats)"
zb_expect_gt "zblk2 writes during swap-out" $(( $(st zblk2 5) - w0 )) 1000
zb_expect_gt "zblk2 reads during swap-in" $(( $(st zblk2 1) - r0 )) 100
check swapoff /dev/zblk2
zb_pass
