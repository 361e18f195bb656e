#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 384M --timeout 900 --file @CORPUS@
#
# 30-swap-4k: zblk0 (unit_size=4096, zstd) is the only swap of a 384M guest; a
# memory cgroup limited to 32 MiB writes 96 MiB of corpus slices to tmpfs,
# so two thirds of it must be swapped out to zblk, and reads it back
# (swapped in): every file's md5 must match the corpus, swap use and
# orig_data_size must show the data on zblk, no I/O may fail, and swapoff
# must succeed at the end. See zb_swap_test in lib-zblk.sh.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_swap_test 4096 zstd
zb_pass
