#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# guest-run: --mem 512M --timeout 900 --file @CORPUS@
#
# 40-ext4: ext4 on zblk, for unit_size 4096 (lz4) and 16384 (zstd):
# mkfs.ext4, mount, write the corpus and generated files (a tree of small
# random files, a large compressible text file, a file rewritten in place),
# sync, drop caches, compare everything; delete the large files and fstrim:
# orig_data_size must go down by at least 80% of what was deleted; umount,
# fsck.ext4 -fn must be clean; mount again and the remaining files are intact.
. /lib/zblk/lib.sh
. /lib/zblk/lib-zblk.sh

zb_need_corpus
len=$(zb_corpus_len)
mnt=/mnt/zblk
mkdir -p $mnt

# the generated text file: reproducible, compresses well
gen_text() { seq 1 300000 | sed 's/$/ zblk test line/'; }

run() { # UNIT ALGO
	local unit=$1 algo=$2 dev=zblk0 sums=/tmp/ext4.md5 i want got before after freed tlen
	zb_step "unit_size=$unit comp_algorithm=$algo: mkfs.ext4 + mount"
	zb_setup $dev "$unit" "$algo" 320M
	mkfs.ext4 -q -F /dev/$dev || zb_fail "mkfs.ext4 /dev/$dev failed"
	mount -t ext4 /dev/$dev $mnt || zb_fail "mount /dev/$dev failed"

	zb_step "write the corpus, a text file and 300 small random files"
	zb_corpus >$mnt/corpus.bin || zb_fail "writing corpus.bin failed"
	gen_text >$mnt/text.txt || zb_fail "writing text.txt failed"
	tlen=$(wc -c <$mnt/text.txt)
	mkdir -p $mnt/small/a $mnt/small/b $mnt/small/c
	i=0
	while [ $i -lt 300 ]; do
		case $((i % 3)) in 0) d=a ;; 1) d=b ;; *) d=c ;; esac
		dd if=/dev/urandom of=$mnt/small/$d/f$i bs=1k count=$((i % 37 + 1)) 2>/dev/null ||
			zb_fail "writing small file $i failed"
		i=$((i + 1))
	done
	# a file rewritten in place: 8 MiB of corpus, then 3 MB in its middle
	# overwritten; the same done to a reference copy in /tmp
	zb_corpus | head -c 8388608 >/tmp/rw.ref
	cp /tmp/rw.ref $mnt/rewrite.bin || zb_fail "writing rewrite.bin failed"
	sync
	head -c 3000000 /dev/urandom >/tmp/rw.patch
	dd if=/tmp/rw.patch of=$mnt/rewrite.bin bs=4096 seek=300 conv=notrunc 2>/dev/null ||
		zb_fail "rewriting rewrite.bin failed"
	dd if=/tmp/rw.patch of=/tmp/rw.ref bs=4096 seek=300 conv=notrunc 2>/dev/null
	(cd $mnt && find small rewrite.bin -type f | sort | xargs md5sum) >$sums ||
		zb_fail "md5sum of the small files failed"
	zb_expect_eq "number of checksummed files" "$(wc -l <$sums)" 301
	sync
	zb_show_mm $dev

	zb_step "drop caches and compare everything"
	zb_drop_caches
	zb_corpus | cmp - $mnt/corpus.bin || zb_fail "corpus.bin differs after drop_caches"
	want=$(gen_text | zb_md5)
	got=$(zb_md5 <$mnt/text.txt)
	zb_expect_str "md5 of text.txt" "$got" "$want"
	want=$(zb_md5 </tmp/rw.ref)
	got=$(zb_md5 <$mnt/rewrite.bin)
	zb_expect_str "md5 of rewrite.bin (rewritten in place)" "$got" "$want"
	(cd $mnt && md5sum -c -s $sums) || zb_fail "small files differ after drop_caches: $(cd $mnt && md5sum -c $sums 2>&1 | grep -v ': OK$' | head)"
	zb_info "corpus.bin, text.txt ($tlen bytes), rewrite.bin and 300 small files intact"

	zb_step "delete corpus.bin and text.txt, fstrim"
	before=$(zb_mm $dev orig_data_size)
	rm $mnt/corpus.bin $mnt/text.txt
	sync
	fstrim -v $mnt || zb_fail "fstrim $mnt failed"
	after=$(zb_mm $dev orig_data_size)
	freed=$((before - after))
	zb_info "orig_data_size $(zb_mib "$before") -> $(zb_mib "$after") (freed $(zb_mib $freed) of $(zb_mib $((len + tlen))) deleted)"
	zb_expect_ge "orig_data_size freed by fstrim" $freed $(((len + tlen) * 8 / 10))
	zb_show_mm $dev

	zb_step "umount, fsck.ext4 -fn"
	umount $mnt || zb_fail "umount $mnt failed"
	fsck.ext4 -fn /dev/$dev || zb_fail "fsck.ext4 -fn /dev/$dev is not clean"
	mount -t ext4 -o ro /dev/$dev $mnt || zb_fail "mounting /dev/$dev again failed"
	(cd $mnt && md5sum -c -s $sums) || zb_fail "files differ after umount/fsck/mount"
	[ -e $mnt/corpus.bin ] && zb_fail "deleted corpus.bin is back"
	umount $mnt || zb_fail "umount $mnt failed"
	zb_expect_eq "io_stat failed_reads" "$(zb_io $dev failed_reads)" 0
	zb_expect_eq "io_stat failed_writes" "$(zb_io $dev failed_writes)" 0
	rm -f /tmp/rw.ref /tmp/rw.patch
	zb_reset $dev
}

zb_load num_devices=1
run 4096 lz4
run 16384 zstd
zb_unload
zb_pass
