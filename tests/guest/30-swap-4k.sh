#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 384M --timeout 1500 --file @CORPUS@
#
# 30-swap-4k: zblk0 (unit_size=4096, zstd) is the only swap of a 384M guest;
# tmpfs is filled with about 1.6x the RAM of corpus data, so most of it is
# swapped out to zblk and back; every file's md5 must match what was written;
# mm_stat must show the data stored during the pressure,
# and swapoff must succeed at the end. See zb_swap_test in lib-zblk.sh.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_swap_test 4096 zstd
zb_pass
