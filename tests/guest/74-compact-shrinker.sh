#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 256M --timeout 900 --file @CORPUS@
#
# 74-compact-shrinker: under memory pressure in a 256M guest, zblk's shrinker
# compacts a fragmented device by itself (pages_compacted grows, mem_used_total
# falls, no manual compact) and the data is unchanged; unit_size 4096 (lz4)
# and 16384 (zstd). See zb_compact_shrinker.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_compact_shrinker 4096 lz4
zb_compact_shrinker 16384 zstd
zb_pass
