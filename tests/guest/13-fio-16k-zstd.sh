#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900
#
# 13-fio-16k-zstd: fio with crc32c verify (verify_fatal) on a zblk device with
# unit_size=16384 and comp_algorithm=zstd: sequential and random writes, blocks of
# 4k, 16k, 64k and 1m, 2 jobs on disjoint halves, O_DIRECT and buffered I/O
# (page cache dropped before the verify pass). Any mismatch or I/O error fails.
# The matrix itself is zb_fio_suite in lib-zblk.sh.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_fio_suite 16384 zstd
zb_pass
