#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900 --file @CORPUS@
#
# 70-compact-4k: compaction on request, unit_size=4096, lz4. The corpus is
# written, a scattered 75% of the units discarded, then `echo 1 > compact`:
# pages_compacted grows, mem_used_total falls by as many pages, the data is
# unchanged, memory per stored compressed byte is within 5% of a fresh device
# holding the same data, and no more memory is used than zram (lz4) needs
# after the same steps and its own compact. See zb_compact_density.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_compact_density 4096 lz4
zb_pass
