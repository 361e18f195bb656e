#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900
#
# 10-fio-4k-lz4: fio with crc32c verify (verify_fatal) on a zblk device with
# unit_size=4096 and comp_algorithm=lz4: sequential and random writes, blocks of
# 4k, 16k, 64k and 1m, 2 jobs on disjoint halves, O_DIRECT and buffered I/O
# (page cache dropped before the verify pass). Any mismatch or I/O error fails.
# The matrix itself is zb_fio_suite in lib-zblk.sh.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_fio_suite 4096 lz4
zb_pass
