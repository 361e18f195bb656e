#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900 --file @CORPUS@
#
# 72-compact-fio-4k: compaction running concurrently with I/O, unit_size=4096,
# lz4: fio random write+verify (crc32c, verify_fatal) while a background loop
# writes `compact` and discards/rewrites scattered units, and a reader checks
# that an untouched corpus copy never changes. See zb_compact_fio.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_compact_fio 4096 lz4
zb_pass
