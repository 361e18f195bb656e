# SPDX-License-Identifier: GPL-2.0
# Shared shell helpers for the arm64-16k kernel (Debian's linux-image-*-arm64-16k:
# arm64 with 16K pages). Sourced, not run.
#
# Everything arm64 is fetched with `apt-get download` and unpacked with
# `dpkg -x` into one cache tree (never installed):
#   $ZBLK_ARM64_CACHE (default build/arm64)/
#     debs/            the downloaded .deb files
#     root/            all of them unpacked: boot/vmlinuz-*, lib/modules/*,
#                      usr/src/linux-headers-* (fixed up, see below), bin/busybox,
#                      usr/bin/fio, ... and their arm64 shared libraries
#     version          the Debian kernel version in use, e.g. 6.12.117+deb12
#     kbuild/          the amd64 linux-kbuild-<version> package unpacked, when
#                      the host does not have it installed
# The headers' scripts/ and tools/ links point at the *amd64* linux-kbuild of
# the same version, so fixdep, modpost, ... run natively and only the compiler
# is a cross compiler (aarch64-linux-gnu-gcc-12, from tools/deps-arm64).
#
# Functions (all print errors to stderr and return non-zero on failure):
#   zblk_arm64_fetch             download + unpack + fix up (idempotent, quick when done)
#   zblk_arm64_release           e.g. 6.12.117+deb12-arm64-16k
#   zblk_arm64_headers           headers dir for make -C
#   zblk_arm64_image             kernel image for qemu -kernel
#   zblk_arm64_modules           the kernel's /lib/modules/<release> tree
#   zblk_arm64_root              the unpacked arm64 root
#   zblk_arm64_make_vars         ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-
#   zblk_arm64_bin NAME          path of an arm64 program in the root
#   zblk_arm64_libs FILE...      the arm64 shared libraries FILE... need
#                                (transitively), as root-relative paths, plus
#                                the dynamic loader
#   zblk_arm64_stage DEST        copy the guest programs + libraries into DEST

ZBLK_ARM64_TOP=${ZBLK_ARM64_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
ZBLK_ARM64_CACHE=${ZBLK_ARM64_CACHE:-$ZBLK_ARM64_TOP/build/arm64}
# Kernel series and flavour; ZBLK_ARM64_VERSION=6.12.N+deb12 pins one version.
ZBLK_ARM64_SERIES=${ZBLK_ARM64_SERIES:-6.12}
ZBLK_ARM64_FLAVOUR=arm64-16k

# Userland packages for the guest (arm64 builds of what the amd64 guest has).
# Their shared libraries are added from the programs' DT_NEEDED entries.
ZBLK_ARM64_USER_PKGS="busybox-static fio e2fsprogs util-linux mount zstd libc6"
# Programs put in the guest: NAME:root-relative path.
ZBLK_ARM64_PROGS="busybox:bin/busybox fio:usr/bin/fio mkfs.ext4:sbin/mke2fs
	mke2fs:sbin/mke2fs e2fsck:sbin/e2fsck fsck.ext4:sbin/e2fsck mkswap:sbin/mkswap
	swapon:sbin/swapon swapoff:sbin/swapoff blkdiscard:sbin/blkdiscard
	fstrim:sbin/fstrim zstd:usr/bin/zstd"
# Where the unpacked root keeps its libraries.
ZBLK_ARM64_LIBDIRS="lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib
	usr/lib/aarch64-linux-gnu/ceph"

_zblk_arm64_log() { echo "arm64: $*" >&2; }

# _zblk_arm64_apt_ok: the arm64 package lists are there.
_zblk_arm64_apt_ok() {
	dpkg --print-foreign-architectures | grep -qx arm64 &&
		ls /var/lib/apt/lists/*binary-arm64_Packages* >/dev/null 2>&1
}

# _zblk_arm64_pick_version: the kernel version to use. Prefer the version of
# the installed amd64 linux-kbuild of the same series (host tools for free),
# else the newest arm64-16k image the archive has.
_zblk_arm64_pick_version() {
	local avail host v
	if [ -n "${ZBLK_ARM64_VERSION:-}" ]; then
		echo "$ZBLK_ARM64_VERSION"
		return 0
	fi
	avail=$(apt-cache search --names-only \
		"^linux-image-${ZBLK_ARM64_SERIES//./\\.}\.[0-9]+\+deb[0-9]+-$ZBLK_ARM64_FLAVOUR-unsigned\$" |
		awk '{print $1}' | sed -e 's/^linux-image-//' -e "s/-$ZBLK_ARM64_FLAVOUR-unsigned\$//" | sort -V)
	if [ -z "$avail" ]; then
		_zblk_arm64_log "no linux-image-$ZBLK_ARM64_SERIES.*-$ZBLK_ARM64_FLAVOUR-unsigned in the archive (run tools/deps-arm64)"
		return 1
	fi
	for host in $(ls -d /usr/lib/linux-kbuild-"$ZBLK_ARM64_SERIES".* 2>/dev/null | sort -rV); do
		v=${host#/usr/lib/linux-kbuild-}
		if printf '%s\n' "$avail" | grep -qxF "$v"; then
			echo "$v"
			return 0
		fi
	done
	printf '%s\n' "$avail" | tail -n1
}

zblk_arm64_version() {
	if [ -s "$ZBLK_ARM64_CACHE/version" ]; then
		cat "$ZBLK_ARM64_CACHE/version"
	else
		_zblk_arm64_pick_version
	fi
}

zblk_arm64_release() {
	local v
	v=$(zblk_arm64_version) || return 1
	echo "$v-$ZBLK_ARM64_FLAVOUR"
}

zblk_arm64_root() { echo "$ZBLK_ARM64_CACHE/root"; }

zblk_arm64_headers() {
	local rel
	rel=$(zblk_arm64_release) || return 1
	echo "$ZBLK_ARM64_CACHE/root/usr/src/linux-headers-$rel"
}

zblk_arm64_image() {
	local rel
	rel=$(zblk_arm64_release) || return 1
	echo "$ZBLK_ARM64_CACHE/root/boot/vmlinuz-$rel"
}

zblk_arm64_modules() {
	local rel d
	rel=$(zblk_arm64_release) || return 1
	for d in "$ZBLK_ARM64_CACHE/root/lib/modules/$rel" "$ZBLK_ARM64_CACHE/root/usr/lib/modules/$rel"; do
		[ -d "$d" ] && { echo "$d"; return 0; }
	done
	_zblk_arm64_log "no modules for $rel under $ZBLK_ARM64_CACHE/root (run zblk_arm64_fetch)"
	return 1
}

zblk_arm64_make_vars() { echo "ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-"; }

zblk_arm64_bin() {
	local e
	for e in $ZBLK_ARM64_PROGS; do
		if [ "${e%%:*}" = "$1" ]; then
			echo "$ZBLK_ARM64_CACHE/root/${e#*:}"
			return 0
		fi
	done
	return 1
}

# _zblk_arm64_kbuild VERSION: directory of the amd64 linux-kbuild-VERSION
# (installed, or downloaded and unpacked into the cache).
_zblk_arm64_kbuild() {
	local v=$1 d deb
	if [ -d "/usr/lib/linux-kbuild-$v/scripts" ]; then
		echo "/usr/lib/linux-kbuild-$v"
		return 0
	fi
	d="$ZBLK_ARM64_CACHE/kbuild/usr/lib/linux-kbuild-$v"
	if [ ! -d "$d/scripts" ]; then
		_zblk_arm64_log "downloading linux-kbuild-$v (amd64 host tools)"
		mkdir -p "$ZBLK_ARM64_CACHE/debs"
		(cd "$ZBLK_ARM64_CACHE/debs" && apt-get download -q -o APT::Sandbox::User=root "linux-kbuild-$v:amd64" >&2) || return 1
		deb=$(ls "$ZBLK_ARM64_CACHE"/debs/linux-kbuild-"${v//+/%2b}"_*_amd64.deb \
			"$ZBLK_ARM64_CACHE"/debs/linux-kbuild-"$v"_*_amd64.deb 2>/dev/null | head -n1)
		[ -n "$deb" ] || { _zblk_arm64_log "linux-kbuild-$v download failed"; return 1; }
		dpkg -x "$deb" "$ZBLK_ARM64_CACHE/kbuild" || return 1
	fi
	echo "$d"
}

# _zblk_arm64_fix_headers VERSION: make the unpacked headers usable where
# they are: point scripts/ and tools/ at the amd64 kbuild and the arch
# Makefile at the unpacked -common tree.
_zblk_arm64_fix_headers() {
	local v=$1 root="$ZBLK_ARM64_CACHE/root" kb h c
	kb=$(_zblk_arm64_kbuild "$v") || return 1
	h="$root/usr/src/linux-headers-$v-$ZBLK_ARM64_FLAVOUR"
	c="$root/usr/src/linux-headers-$v-common"
	[ -d "$h" ] && [ -d "$c" ] || { _zblk_arm64_log "headers missing in $root/usr/src"; return 1; }
	for d in "$h" "$c"; do
		ln -sfn "$kb/scripts" "$d/scripts"
		ln -sfn "$kb/tools" "$d/tools"
	done
	sed -i "s|^include .*/linux-headers-$v-common/Makefile\$|include $c/Makefile|" "$h/Makefile"
	grep -qxF "include $c/Makefile" "$h/Makefile" || {
		_zblk_arm64_log "cannot fix up $h/Makefile"
		return 1
	}
}

# _zblk_arm64_deb_pkgs: the package list (names with :arch) to download.
_zblk_arm64_deb_pkgs() {
	local v=$1 p
	echo "linux-image-$v-$ZBLK_ARM64_FLAVOUR-unsigned:arm64"
	echo "linux-headers-$v-$ZBLK_ARM64_FLAVOUR:arm64"
	echo "linux-headers-$v-common:all"
	for p in $ZBLK_ARM64_USER_PKGS; do echo "$p:arm64"; done
}

# _zblk_arm64_download DIR PKG...: apt-get download what is not in DIR yet.
_zblk_arm64_download() {
	local dir=$1 p name want=()
	shift
	mkdir -p "$dir"
	for p in "$@"; do
		name=${p%%:*}
		ls "$dir/${name}_"*.deb >/dev/null 2>&1 || want+=("${p%:all}")
	done
	[ ${#want[@]} -eq 0 ] && return 0
	_zblk_arm64_log "downloading ${#want[@]} package(s): ${want[*]}"
	(cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "${want[@]}" >&2)
}

# _zblk_arm64_needed FILE...: DT_NEEDED sonames of FILEs.
_zblk_arm64_needed() {
	LC_ALL=C readelf -d "$@" 2>/dev/null | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort -u
}

# _zblk_arm64_find_lib SONAME: root-relative path of an arm64 library.
_zblk_arm64_find_lib() {
	local d
	for d in $ZBLK_ARM64_LIBDIRS; do
		if [ -e "$ZBLK_ARM64_CACHE/root/$d/$1" ]; then
			echo "$d/$1"
			return 0
		fi
	done
	return 1
}

# _zblk_arm64_lib_pkg SONAME: the Debian package that ships SONAME, found
# from the host's amd64 copy (same package name on every architecture).
_zblk_arm64_lib_pkg() {
	dpkg -S "*/x86_64-linux-gnu/$1" "*/x86_64-linux-gnu/*/$1" 2>/dev/null |
		head -n1 | cut -d: -f1
}

# _zblk_arm64_fetch_libs: download and unpack the libraries the guest programs
# need, until every DT_NEEDED entry resolves inside the root.
_zblk_arm64_fetch_libs() {
	local root="$ZBLK_ARM64_CACHE/root" round files missing pkgs s p e deb
	for round in 1 2 3 4 5 6 7 8; do
		files=()
		for e in $ZBLK_ARM64_PROGS; do files+=("$root/${e#*:}"); done
		mapfile -t -O ${#files[@]} files < <(zblk_arm64_libs_files)
		missing=()
		for s in $(_zblk_arm64_needed "${files[@]}"); do
			_zblk_arm64_find_lib "$s" >/dev/null || missing+=("$s")
		done
		[ ${#missing[@]} -eq 0 ] && return 0
		pkgs=()
		for s in "${missing[@]}"; do
			p=$(_zblk_arm64_lib_pkg "$s")
			if [ -z "$p" ]; then
				_zblk_arm64_log "no package known for $s (install its amd64 package on the host)"
				return 1
			fi
			pkgs+=("$p:arm64")
		done
		mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
		_zblk_arm64_download "$ZBLK_ARM64_CACHE/debs" "${pkgs[@]}" || return 1
		for p in "${pkgs[@]}"; do
			deb=$(ls "$ZBLK_ARM64_CACHE/debs/${p%%:*}_"*_arm64.deb | head -n1)
			dpkg -x "$deb" "$root" || return 1
		done
	done
	_zblk_arm64_log "library closure did not converge: ${missing[*]}"
	return 1
}

# zblk_arm64_libs_files: absolute paths of the libraries zblk_arm64_libs finds
# (used while fetching, when some may still be missing).
zblk_arm64_libs_files() {
	local e files=() l
	for e in $ZBLK_ARM64_PROGS; do files+=("$ZBLK_ARM64_CACHE/root/${e#*:}"); done
	for l in $(zblk_arm64_libs "${files[@]}" 2>/dev/null); do
		echo "$ZBLK_ARM64_CACHE/root/$l"
	done
}

# zblk_arm64_libs FILE...: root-relative paths of every library FILE... need,
# transitively, and the dynamic loader. Fails if one cannot be found.
zblk_arm64_libs() {
	local todo=("$@") seen=" " out=() s l rc=0 f
	while [ ${#todo[@]} -gt 0 ]; do
		f=${todo[0]}
		todo=("${todo[@]:1}")
		for s in $(_zblk_arm64_needed "$f"); do
			case "$seen" in *" $s "*) continue ;; esac
			seen="$seen$s "
			if l=$(_zblk_arm64_find_lib "$s"); then
				out+=("$l")
				todo+=("$ZBLK_ARM64_CACHE/root/$l")
			else
				_zblk_arm64_log "missing arm64 library $s (needed by ${f#"$ZBLK_ARM64_CACHE/root/"})"
				rc=1
			fi
		done
	done
	l=$(_zblk_arm64_find_lib ld-linux-aarch64.so.1) || { _zblk_arm64_log "no ld-linux-aarch64.so.1"; rc=1; }
	out+=("$l")
	printf '%s\n' "${out[@]}" | sort -u
	return $rc
}

# _zblk_arm64_check_progs: every guest program and its libraries are there.
_zblk_arm64_check_progs() {
	local e files=()
	for e in $ZBLK_ARM64_PROGS; do
		[ -x "$ZBLK_ARM64_CACHE/root/${e#*:}" ] || {
			_zblk_arm64_log "missing arm64 program ${e#*:}"
			return 1
		}
		files+=("$ZBLK_ARM64_CACHE/root/${e#*:}")
	done
	zblk_arm64_libs "${files[@]}" >/dev/null
}

# zblk_arm64_fetch: make the cache complete. Quick when it already is.
zblk_arm64_fetch() {
	local v root="$ZBLK_ARM64_CACHE/root" stamp p deb pkgs
	if ! command -v aarch64-linux-gnu-gcc-12 >/dev/null 2>&1 ||
		! command -v qemu-system-aarch64 >/dev/null 2>&1 || ! _zblk_arm64_apt_ok; then
		_zblk_arm64_log "arm64 host packages missing: run tools/deps-arm64 (as root)"
		return 1
	fi
	v=$(zblk_arm64_version) || return 1
	stamp="$ZBLK_ARM64_CACHE/.complete-$v"
	[ -e "$stamp" ] && return 0
	_zblk_arm64_log "preparing arm64-16k kernel $v and arm64 guest programs in $ZBLK_ARM64_CACHE"
	mapfile -t pkgs < <(_zblk_arm64_deb_pkgs "$v")
	_zblk_arm64_download "$ZBLK_ARM64_CACHE/debs" "${pkgs[@]}" || {
		_zblk_arm64_log "apt-get download failed"
		return 1
	}
	rm -rf "$root"
	mkdir -p "$root"
	for p in "${pkgs[@]}"; do
		deb=$(ls "$ZBLK_ARM64_CACHE/debs/${p%%:*}_"*.deb | sort -V | tail -n1)
		_zblk_arm64_log "unpacking $(basename "$deb")"
		dpkg -x "$deb" "$root" || return 1
	done
	_zblk_arm64_fix_headers "$v" || return 1
	_zblk_arm64_fetch_libs || return 1
	_zblk_arm64_check_progs || return 1
	echo "$v" >"$ZBLK_ARM64_CACHE/version"
	rm -f "$ZBLK_ARM64_CACHE"/.complete-*
	touch "$stamp"
	_zblk_arm64_log "ready: $(zblk_arm64_release)"
}

# zblk_arm64_stage DEST: copy the guest programs (DEST/bin/NAME, busybox
# applets are the rig's business) and all their libraries (same paths as in
# Debian, plus /lib/ld-linux-aarch64.so.1) into DEST.
zblk_arm64_stage() {
	local dest=$1 e files=() l
	mkdir -p "$dest/bin" "$dest/lib"
	for e in $ZBLK_ARM64_PROGS; do
		files+=("$ZBLK_ARM64_CACHE/root/${e#*:}")
		install -m 0755 "$ZBLK_ARM64_CACHE/root/${e#*:}" "$dest/bin/${e%%:*}"
	done
	for l in $(zblk_arm64_libs "${files[@]}"); do
		mkdir -p "$dest/$(dirname "$l")"
		cp -L "$ZBLK_ARM64_CACHE/root/$l" "$dest/$l"
	done
	# The loader's canonical path is /lib/ld-linux-aarch64.so.1.
	if [ ! -e "$dest/lib/ld-linux-aarch64.so.1" ]; then
		l=$(_zblk_arm64_find_lib ld-linux-aarch64.so.1) || return 1
		cp -L "$ZBLK_ARM64_CACHE/root/$l" "$dest/lib/ld-linux-aarch64.so.1"
	fi
}
