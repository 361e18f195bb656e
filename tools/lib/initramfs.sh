# SPDX-License-Identifier: GPL-2.0
# Guest image builders for tools/guest-run. Sourced (bash), not run.
#
# A guest boots from three pieces, the first two cached under build/guest/:
#   tools-<hash>.img       read-only ext4 disk mounted at /usr: fio, e2fsprogs,
#                          util-linux tools, zstd and every shared library they
#                          need (kernel-independent; fio alone pulls ~85 MB of
#                          libraries, which would not belong in guest RAM)
#   <release>/base-<hash>  gzip'd newc cpio: busybox and its applet links, /init,
#                          the kernel modules tests need (decompressed, with
#                          their dependencies), depmod'ed
#   per run                small uncompressed cpio appended to the base: the
#                          script, tests/guest/lib*.sh, zblk.ko under extra/,
#                          modules.dep recomputed with zblk.ko
# Each cached piece is named by a hash of its inputs, so a change to any input
# (a tool or library, busybox, a kernel module, this file, the init) builds a
# new one; builds are serialized with flock and published atomically.

# Kernel modules in every guest (plus their dependencies and soft dependencies).
ZBLK_GUEST_MODULES=(
	zram zsmalloc brd loop null_blk
	lz4 lz4hc lz4_compress lz4hc_compress lz4_decompress
	zstd zstd_compress zstd_decompress lzo lzo-rle
	ext4 crc32c_generic crc32c-intel
	virtio_pci virtio_blk 9p 9pnet_virtio
)

# Programs on the tools disk. name=path makes an extra link in the same dir.
ZBLK_GUEST_TOOLS=(
	/usr/bin/dash /usr/bin/bash /usr/bin/fio /usr/bin/zstd
	/usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/tune2fs /usr/sbin/dumpe2fs
	/usr/sbin/mkswap /usr/sbin/swapon /usr/sbin/swapoff
	/usr/sbin/blkdiscard /usr/sbin/fstrim /usr/sbin/losetup /usr/sbin/blockdev
)
ZBLK_GUEST_TOOL_LINKS=(
	mkfs.ext4=mke2fs mkfs.ext2=mke2fs fsck.ext4=e2fsck fsck.ext2=e2fsck
	zstdcat=zstd unzstd=zstd
)

_zblk_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

_zblk_hash() { sha256sum | cut -c1-16; }

# _zblk_stat FILE... -> one line per file naming its content cheaply
_zblk_stat() { stat -L -c '%n %s %Y' "$@"; }

# Shared libraries (and the dynamic loader) that the given programs load.
_zblk_libs() {
	ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && NF > 1 {print $1}' | sort -u
}

# zblk_guest_tools_image DIR -> path of the cached tools disk image
zblk_guest_tools_image() {
	local dir=$1 t libs key img stage l name target
	for t in "${ZBLK_GUEST_TOOLS[@]}"; do
		[ -x "$t" ] || { echo "guest-run: $t is missing (run tools/deps)" >&2; return 1; }
	done
	libs=$(_zblk_libs "${ZBLK_GUEST_TOOLS[@]}")
	key=$({ echo tools-v2; _zblk_stat "${ZBLK_GUEST_TOOLS[@]}" $libs /etc/mke2fs.conf
		printf '%s\n' "${ZBLK_GUEST_TOOL_LINKS[@]}"; } | _zblk_hash)
	img=$dir/tools-$key.img
	[ -f "$img" ] && { echo "$img"; return 0; }
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$img" ] && exit 0
		echo "guest-run: building the guest tools disk ($img)" >&2
		stage=$(mktemp -d "$dir/.tools-stage.XXXXXX")
		trap 'rm -rf "$stage"' EXIT
		mkdir -p "$stage/bin" "$stage/sbin" "$stage/lib/x86_64-linux-gnu" "$stage/lib64"
		for t in "${ZBLK_GUEST_TOOLS[@]}"; do
			cp -L "$t" "$stage/${t#/usr/}"
		done
		for l in "${ZBLK_GUEST_TOOL_LINKS[@]}"; do
			name=${l%%=*} target=${l#*=}
			if [ -e "$stage/sbin/$target" ]; then ln -s "$target" "$stage/sbin/$name"
			else ln -s "$target" "$stage/bin/$name"; fi
		done
		for l in $libs; do
			case "$l" in
			*/ld-linux-x86-64.so.2) cp -L "$l" "$stage/lib64/ld-linux-x86-64.so.2" ;;
			/usr/lib/*) mkdir -p "$stage/lib/$(dirname "${l#/usr/lib/}")"
				cp -L "$l" "$stage/lib/${l#/usr/lib/}" ;;
			/lib/*) mkdir -p "$stage/lib/$(dirname "${l#/lib/}")"
				cp -L "$l" "$stage/lib/${l#/lib/}" ;;
			*) echo "guest-run: library $l outside /lib and /usr/lib" >&2; exit 1 ;;
			esac
		done
		ln -s ../lib64/ld-linux-x86-64.so.2 "$stage/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" 2>/dev/null || true
		local kb
		kb=$(du -sk "$stage" | cut -f1)
		rm -f "$img.tmp"
		mke2fs -q -t ext4 -O ^has_journal -E root_owner=0:0 -L zblk-tools -d "$stage" \
			"$img.tmp" $((kb * 5 / 4 + 8192))k >"$dir/.tools-mkfs.log" 2>&1 || { cat "$dir/.tools-mkfs.log" >&2; exit 1; }
		mv "$img.tmp" "$img"
		# drop older images; on a fresh tree there are none (grep -v then
		# exits 1, which under pipefail must not fail the build)
		ls "$dir"/tools-*.img 2>/dev/null | { grep -vxF "$img" || true; } | xargs -r rm -f
	) 9>"$dir/.tools.lock" || return 1
	echo "$img"
}

# zblk_guest_vmlinux RELEASE DIR -> the uncompressed ELF kernel, extracted from
# /boot/vmlinuz-RELEASE and cached. QEMU boots it through the PVH entry point
# (CONFIG_PVH), skipping firmware and in-guest decompression: about 3 s less
# per boot under TCG. Falls back to printing the bzImage path.
zblk_guest_vmlinux() {
	local rel=$1 dir=$2 src=/boot/vmlinuz-$1 out key
	key=$(_zblk_stat "$src" | _zblk_hash)
	out=$dir/vmlinux-$key
	if [ ! -f "$out" ] && grep -qx 'CONFIG_PVH=y' "/boot/config-$rel" 2>/dev/null; then
		mkdir -p "$dir"
		(
			flock 9
			[ -f "$out" ] && exit 0
			rm -f "$dir"/vmlinux-*
			python3 - "$src" "$out.tmp" <<'PY' && mv "$out.tmp" "$out"
import bz2, gzip, lzma, subprocess, sys, zlib
data = open(sys.argv[1], "rb").read()
def unzstd(b):
    return subprocess.run(["zstd", "-dc"], input=b, capture_output=True).stdout
def unxz(b):
    return lzma.LZMADecompressor().decompress(b)
def ungz(b):
    return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(b)
for magic, fn in ((b"\x28\xb5\x2f\xfd", unzstd), (b"\xfd7zXZ\x00", unxz), (b"\x1f\x8b\x08", ungz)):
    i = data.find(magic)
    while i >= 0:
        try:
            elf = fn(data[i:])
        except Exception:
            elf = b""
        if elf[:4] == b"\x7fELF":
            open(sys.argv[2], "wb").write(elf)
            sys.exit(0)
        i = data.find(magic, i + 1)
sys.exit(1)
PY
			rm -f "$out.tmp"
		) 9>"$dir/.vmlinux.lock"
	fi
	if [ -f "$out" ]; then echo "$out"; else echo "$src"; fi
}

# _zblk_module_paths RELEASE NAME... -> host paths of the modules and all
# their dependencies (modprobe --show-depends order), builtins left out
_zblk_module_paths() {
	local rel=$1 m
	shift
	for m in "$@"; do
		modprobe -d "${ZBLK_GUEST_MODROOT:-/}" -S "$rel" -D "$m" 2>/dev/null || true
	done | awk '$1 == "insmod" {print $2}' | awk '!seen[$0]++'
}

# _zblk_install_module RELEASE HOSTPATH ROOT: copy, decompressed, to the same
# path (without .xz/.zst/.gz) under ROOT
_zblk_install_module() {
	local rel=$1 src=$2 root=$3 rpath dst
	rpath=${src#"${ZBLK_GUEST_MODROOT:-}"/lib/modules/$rel/}
	rpath=${rpath#/usr}
	dst=$root/lib/modules/$rel/${rpath%.*}
	case "$src" in
	*.ko) dst=$root/lib/modules/$rel/$rpath; mkdir -p "$(dirname "$dst")"; cp "$src" "$dst" ;;
	*.ko.xz) mkdir -p "$(dirname "$dst")"; xz -dc "$src" >"$dst" ;;
	*.ko.zst) mkdir -p "$(dirname "$dst")"; zstd -q -dc "$src" >"$dst" ;;
	*.ko.gz) mkdir -p "$(dirname "$dst")"; gzip -dc "$src" >"$dst" ;;
	*) echo "guest-run: unexpected module file $src" >&2; return 1 ;;
	esac
}

# _zblk_depmod ROOT RELEASE: copy the host's modules.builtin* and order files
# into ROOT and run depmod over the subset there
_zblk_depmod() {
	local root=$1 rel=$2 f
	for f in modules.builtin modules.builtin.modinfo modules.order; do
		[ -f "${ZBLK_GUEST_MODROOT:-}/lib/modules/$rel/$f" ] &&
			cp "${ZBLK_GUEST_MODROOT:-}/lib/modules/$rel/$f" "$root/lib/modules/$rel/"
	done
	depmod -b "$root" -a "$rel" || { echo "guest-run: depmod failed" >&2; return 1; }
}

# zblk_guest_base RELEASE DIR -> path of the cached base initramfs; its
# unpacked tree is kept beside it as <path>.root
zblk_guest_base() {
	# ZBLK_GUEST_MODROOT / ZBLK_GUEST_BUSYBOX: another architecture's unpacked
	# root and busybox (tools/lib/arm64.sh); its applet list is the host's.
	local rel=$1 dir=$2 mods key base busybox=${ZBLK_GUEST_BUSYBOX:-/bin/busybox}
	[ -x "$busybox" ] || { echo "guest-run: $busybox missing (run tools/deps)" >&2; return 1; }
	mods=$(_zblk_module_paths "$rel" "${ZBLK_GUEST_MODULES[@]}")
	[ -n "$mods" ] || { echo "guest-run: no modules found for $rel under /lib/modules" >&2; return 1; }
	key=$({ echo "base-v3 $rel"; cat "${BASH_SOURCE[0]}" "$_zblk_top/tools/lib/guest-init"
		_zblk_stat "$busybox" $mods "${ZBLK_GUEST_MODROOT:-}"/lib/modules/"$rel"/modules.builtin; } | _zblk_hash)
	base=$dir/base-$key.cpio.gz
	[ -f "$base" ] && [ -d "$base.root" ] && { echo "$base"; return 0; }
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$base" ] && [ -d "$base.root" ] && exit 0
		echo "guest-run: building the $rel base initramfs ($base)" >&2
		root=$(mktemp -d "$dir/.base-stage.XXXXXX")
		trap 'rm -rf "$root"' EXIT
		mkdir -p "$root"/{bin,dev,etc/zblk,proc,sys,tmp,run,root,mnt,files,usr,lib/zblk,lib/modules/"$rel"/extra,zblk}
		ln -s bin "$root/sbin"
		# Busybox's own shell runs its applets before anything on PATH (mkswap
		# would be busybox's): scripts run under dash from the tools disk.
		rm -f "$root/bin/sh"
		ln -s /usr/bin/dash "$root/bin/sh"
		ln -s /usr/bin/bash "$root/bin/bash"
		ln -s usr/lib64 "$root/lib64"
		# arm64's loader is /lib/ld-linux-aarch64.so.1 (on the tools disk)
		ln -s /usr/lib/ld-linux-aarch64.so.1 "$root/lib/ld-linux-aarch64.so.1"
		cp "$busybox" "$root/bin/busybox"
		local a
		for a in $(/bin/busybox --list); do
			case "$a" in busybox|sh|bash) ;; *) ln -s busybox "$root/bin/$a" ;; esac
		done
		cp "$_zblk_top/tools/lib/guest-init" "$root/init"
		chmod 755 "$root/init"
		cp /etc/mke2fs.conf "$root/etc/" 2>/dev/null || true
		printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
		printf 'root:x:0:\n' >"$root/etc/group"
		: >"$root/etc/fstab"
		local m
		for m in $mods; do
			_zblk_install_module "$rel" "$m" "$root" || exit 1
		done
		_zblk_depmod "$root" "$rel" || exit 1
		(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) |
			gzip -1 >"$base.tmp" || exit 1
		# The kernel looks for an uncompressed cpio appended after this one
		# only at a 4-byte aligned offset; it skips zero padding.
		truncate -s %512 "$base.tmp"
		rm -rf "$base.root"
		mv "$root" "$base.root"
		trap - EXIT
		mv "$base.tmp" "$base"
		local old
		for old in "$dir"/base-*.cpio.gz; do
			[ "$old" = "$base" ] || rm -rf "$old" "$old.root"
		done
	) 9>"$dir/.base.lock" || return 1
	echo "$base"
}

# zblk_guest_run_archive RELEASE BASE MODULE SCRIPT RUNCONF FILESLIST OUT:
# write the per-run cpio (uncompressed) to OUT
zblk_guest_run_archive() {
	local rel=$1 base=$2 module=$3 script=$4 conf=$5 files=$6 out=$7
	local stage deps d
	stage=$(mktemp -d "${out%/*}/.run-stage.XXXXXX")
	mkdir -p "$stage/lib/zblk" "$stage/zblk" "$stage/etc/zblk"
	cp -al "$base.root/lib/modules" "$stage/lib/" 2>/dev/null || cp -a "$base.root/lib/modules" "$stage/lib/"
	mkdir -p "$stage/lib/modules/$rel/extra"
	strip --strip-debug -o "$stage/lib/modules/$rel/extra/zblk.ko" "$module" 2>/dev/null ||
		cp "$module" "$stage/lib/modules/$rel/extra/zblk.ko"
	# Dependencies of zblk.ko that the base does not carry.
	deps=$(modinfo -F depends "$module" 2>/dev/null | tr ',' ' ')
	local added=()
	if [ -n "$deps" ]; then
		for d in $(_zblk_module_paths "$rel" $deps); do
			local r=${d#"${ZBLK_GUEST_MODROOT:-}"/lib/modules/$rel/}
			[ -f "$stage/lib/modules/$rel/${r%.ko*}.ko" ] && continue
			_zblk_install_module "$rel" "$d" "$stage" || { rm -rf "$stage"; return 1; }
			added+=("lib/modules/$rel/${r%.ko*}.ko")
		done
	fi
	_zblk_depmod "$stage" "$rel" >/dev/null || { rm -rf "$stage"; return 1; }
	cp "$script" "$stage/zblk/script"
	for d in "$_zblk_top"/tests/guest/lib*.sh; do
		[ -f "$d" ] && cp "$d" "$stage/lib/zblk/"
	done
	cp "$conf" "$stage/etc/zblk/run.conf"
	cp "$files" "$stage/etc/zblk/files"
	# Only what is new or changed goes into the archive; the rest is in the base.
	(cd "$stage" && {
		echo zblk; echo zblk/script; echo etc/zblk; echo etc/zblk/run.conf; echo etc/zblk/files
		echo lib/zblk; ls lib/zblk/* 2>/dev/null
		echo "lib/modules/$rel/extra"; echo "lib/modules/$rel/extra/zblk.ko"
		for d in "${added[@]}"; do
			while [ "$d" != lib/modules/"$rel" ] && [ "$d" != . ]; do echo "$d"; d=$(dirname "$d"); done
		done | LC_ALL=C sort -u
		ls lib/modules/"$rel"/modules.*
	} | cpio --quiet -o -H newc -R 0:0 >"$out") || { rm -rf "$stage"; return 1; }
	rm -rf "$stage"
}
