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
#   zblk_arm64_bin PATH|NAME     host path of an arm64 guest program in the root
#   zblk_arm64_libs FILE...      the arm64 shared libraries FILE... need
#                                (transitively), as root-relative paths, plus
#                                the dynamic loader
#   zblk_arm64_stage_tools DEST  lay out the guest tools disk (/usr) in DEST
#   zblk_arm64_tools_image DIR   build (cached) the arm64 tools disk image

ZBLK_ARM64_TOP=${ZBLK_ARM64_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
. "$(dirname "${BASH_SOURCE[0]}")/apt-pick.sh"
ZBLK_ARM64_CACHE=${ZBLK_ARM64_CACHE:-$ZBLK_ARM64_TOP/build/arm64}
# Kernel series and flavour; ZBLK_ARM64_VERSION=6.12.N+deb12 pins one version.
ZBLK_ARM64_SERIES=${ZBLK_ARM64_SERIES:-6.12}
ZBLK_ARM64_FLAVOUR=arm64-16k

# Userland packages for the guest (arm64 builds of what the amd64 guest has).
# Their shared libraries are added from the programs' DT_NEEDED entries.
ZBLK_ARM64_USER_PKGS="busybox-static dash bash fio e2fsprogs util-linux mount zstd libc6"
# Programs for the guest's tools disk, by their /usr path in the guest (the
# same list as the amd64 rig's ZBLK_GUEST_TOOLS when that is defined). Debian
# bookworm's arm64 packages ship some of them under /bin or /sbin.
ZBLK_ARM64_TOOLS_DEFAULT="/usr/bin/dash /usr/bin/bash /usr/bin/fio /usr/bin/zstd
	/usr/sbin/mke2fs /usr/sbin/e2fsck /usr/sbin/tune2fs /usr/sbin/dumpe2fs
	/usr/sbin/mkswap /usr/sbin/swapon /usr/sbin/swapoff /usr/sbin/blkdiscard
	/usr/sbin/fstrim /usr/sbin/losetup /usr/sbin/blockdev"
# Where the unpacked root keeps its libraries.
ZBLK_ARM64_LIBDIRS="lib/aarch64-linux-gnu usr/lib/aarch64-linux-gnu lib usr/lib
	usr/lib/aarch64-linux-gnu/ceph"

_zblk_arm64_log() { echo "arm64: $*" >&2; }

# _zblk_arm64_apt_ok: the arm64 package lists are there.
_zblk_arm64_apt_ok() {
	dpkg --print-foreign-architectures | grep -qx arm64 &&
		ls /var/lib/apt/lists/*binary-arm64_Packages* >/dev/null 2>&1
}

# _zblk_arm64_pick_version: the kernel version to use: the newest whose
# image, headers, headers-common and amd64 linux-kbuild the archive has now
# (tools/lib/apt-pick.sh), unless ZBLK_ARM64_VERSION names one.
_zblk_arm64_pick_version() {
	local pick
	if [ -n "${ZBLK_ARM64_VERSION:-}" ]; then
		echo "$ZBLK_ARM64_VERSION"
		return 0
	fi
	pick=$(zblk_apt_pick_download "$ZBLK_ARM64_SERIES" "$ZBLK_ARM64_FLAVOUR" arm64) || {
		_zblk_arm64_log "run tools/deps-arm64 (as root) if the arm64 package lists are missing"
		return 1
	}
	echo "${pick%% *}"
}

# _zblk_arm64_image_pkg VERSION: the image package to download, -unsigned
# when the archive has it, else the signed one.
_zblk_arm64_image_pkg() {
	local p=linux-image-$1-$ZBLK_ARM64_FLAVOUR
	if [ -n "$(zblk_apt_candidate "$p-unsigned:arm64")" ]; then
		echo "$p-unsigned:arm64"
	else
		echo "$p:arm64"
	fi
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

# zblk_arm64_tools: the guest tool list (guest paths, /usr/...)
zblk_arm64_tools() {
	if [ -n "${ZBLK_GUEST_TOOLS+set}" ]; then
		printf '%s\n' "${ZBLK_GUEST_TOOLS[@]}"
	else
		printf '%s\n' $ZBLK_ARM64_TOOLS_DEFAULT
	fi
}

# zblk_arm64_bin GUESTPATH|NAME: host path of that arm64 program in the root
# (/usr/sbin/mke2fs is found as sbin/mke2fs when the package has it there).
zblk_arm64_bin() {
	local r="$ZBLK_ARM64_CACHE/root" p=$1 c
	case "$p" in
	/*) ;;
	busybox) p=/bin/busybox ;;
	*) p=$(zblk_arm64_tools | grep -m1 "/$p\$") || return 1 ;;
	esac
	for c in "$r$p" "$r${p#/usr}"; do
		[ -f "$c" ] && { echo "$c"; return 0; }
	done
	_zblk_arm64_log "no arm64 program for $1 in $r"
	return 1
}

# _zblk_arm64_prog_files: host paths of every arm64 program the guest gets
_zblk_arm64_prog_files() {
	local t
	zblk_arm64_bin busybox || return 1
	for t in $(zblk_arm64_tools); do
		zblk_arm64_bin "$t" || return 1
	done
}

# zblk_arm64_kernel WHAT NAME: the rig's view of the arm64-16k kernel, for
# tools/lib/kernels.sh. NAME is 6.12-arm64-16k (the series, newest version),
# arm64-16k, or a full release (6.12.117+deb12-arm64-16k). WHAT is release,
# headers, image or modules. Fetches the kernel first when needed.
zblk_arm64_kernel() {
	local what=$1 name=$2 rel
	case "$name" in
	arm64-16k|"$ZBLK_ARM64_SERIES-$ZBLK_ARM64_FLAVOUR") ;;
	*[0-9]+deb*-"$ZBLK_ARM64_FLAVOUR")
		if [ -z "${ZBLK_ARM64_VERSION:-}" ] && [ ! -s "$ZBLK_ARM64_CACHE/version" ]; then
			ZBLK_ARM64_VERSION=${name%-"$ZBLK_ARM64_FLAVOUR"}
		fi ;;
	*)
		_zblk_arm64_log "unknown arm64 kernel '$name' (use $ZBLK_ARM64_SERIES-$ZBLK_ARM64_FLAVOUR)"
		return 1 ;;
	esac
	zblk_arm64_fetch || return 1
	rel=$(zblk_arm64_release) || return 1
	case "$name" in
	*+deb*)
		if [ "$name" != "$rel" ]; then
			_zblk_arm64_log "kernel $name requested but $ZBLK_ARM64_CACHE holds $rel" \
				"(rm -rf $ZBLK_ARM64_CACHE and set ZBLK_ARM64_VERSION to switch)"
			return 1
		fi ;;
	esac
	case "$what" in
	release) echo "$rel" ;;
	headers) zblk_arm64_headers ;;
	image) zblk_arm64_image ;;
	modules) zblk_arm64_modules ;;
	*) _zblk_arm64_log "zblk_arm64_kernel: bad request '$what'"; return 1 ;;
	esac
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
	_zblk_arm64_image_pkg "$v"
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
	local root="$ZBLK_ARM64_CACHE/root" round progs pkgs s p deb
	mapfile -t progs < <(_zblk_arm64_prog_files) || return 1
	for round in 1 2 3 4 5 6 7 8; do
		zblk_arm64_libs "${progs[@]}" >/dev/null 2>&1 && return 0
		pkgs=()
		for s in $_ZBLK_ARM64_MISSING; do
			p=$(_zblk_arm64_lib_pkg "$s")
			if [ -z "$p" ]; then
				_zblk_arm64_log "no package known for $s (its amd64 package is not installed on the host)"
				return 1
			fi
			pkgs+=("$p:arm64")
		done
		mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
		_zblk_arm64_download "$ZBLK_ARM64_CACHE/debs" "${pkgs[@]}" || return 1
		for p in "${pkgs[@]}"; do
			deb=$(ls "$ZBLK_ARM64_CACHE/debs/${p%%:*}_"*_arm64.deb | sort -V | tail -n1)
			dpkg -x "$deb" "$root" || return 1
		done
	done
	_zblk_arm64_log "library closure did not converge: $_ZBLK_ARM64_MISSING"
	return 1
}

# zblk_arm64_libs FILE...: root-relative paths of every library FILE... need,
# transitively, and the dynamic loader. Fails if one cannot be found (the
# missing sonames are left in _ZBLK_ARM64_MISSING).
zblk_arm64_libs() {
	local todo=("$@") seen=" " out=() s l f
	_ZBLK_ARM64_MISSING=""
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
				_ZBLK_ARM64_MISSING="$_ZBLK_ARM64_MISSING $s"
			fi
		done
	done
	if l=$(_zblk_arm64_find_lib ld-linux-aarch64.so.1); then
		out+=("$l")
	else
		_ZBLK_ARM64_MISSING="$_ZBLK_ARM64_MISSING ld-linux-aarch64.so.1"
	fi
	printf '%s\n' "${out[@]}" | sort -u
	[ -z "$_ZBLK_ARM64_MISSING" ]
}

# _zblk_arm64_check_progs: every guest program and its libraries are there.
_zblk_arm64_check_progs() {
	local progs
	mapfile -t progs < <(_zblk_arm64_prog_files)
	[ ${#progs[@]} -gt 0 ] && _zblk_arm64_prog_files >/dev/null || return 1
	zblk_arm64_libs "${progs[@]}" >/dev/null
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
	if [ -e "$stamp" ]; then
		_zblk_arm64_prog_files >/dev/null &&
			[ -s "$root/lib/modules/$v-$ZBLK_ARM64_FLAVOUR/modules.dep" ] && return 0
		rm -f "$stamp"
	fi
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
	# modules.dep for the whole tree, so that `modprobe -d ROOT -D` works
	_zblk_arm64_log "depmod over the arm64 modules"
	depmod -b "$root" "$v-$ZBLK_ARM64_FLAVOUR" || return 1
	_zblk_arm64_fetch_libs || return 1
	_zblk_arm64_check_progs || return 1
	echo "$v" >"$ZBLK_ARM64_CACHE/version"
	rm -f "$ZBLK_ARM64_CACHE"/.complete-*
	touch "$stamp"
	_zblk_arm64_log "ready: $(zblk_arm64_release)"
}

# zblk_arm64_stage_tools DEST: lay out the guest tools disk (mounted at /usr
# in the guest) in DEST, as the amd64 rig does: DEST/bin/NAME and
# DEST/sbin/NAME for /usr/bin/NAME and /usr/sbin/NAME, the links of
# ZBLK_GUEST_TOOL_LINKS (NAME=TARGET) when defined, and every library under
# DEST/lib/... at its Debian path below lib/ or usr/lib/. The guest's
# /lib/ld-linux-aarch64.so.1 must link to /usr/lib/ld-linux-aarch64.so.1.
zblk_arm64_stage_tools() {
	local dest=$1 t src progs=() l name target
	mkdir -p "$dest/bin" "$dest/sbin" "$dest/lib"
	for t in $(zblk_arm64_tools); do
		src=$(zblk_arm64_bin "$t") || return 1
		progs+=("$src")
		mkdir -p "$dest/$(dirname "${t#/usr/}")"
		cp -L "$src" "$dest/${t#/usr/}"
	done
	if [ -n "${ZBLK_GUEST_TOOL_LINKS+set}" ]; then
		for l in "${ZBLK_GUEST_TOOL_LINKS[@]}"; do
			name=${l%%=*} target=${l#*=}
			if [ -e "$dest/sbin/$target" ]; then ln -sfn "$target" "$dest/sbin/$name"
			else ln -sfn "$target" "$dest/bin/$name"; fi
		done
	fi
	for l in $(zblk_arm64_libs "${progs[@]}"); do
		case "$l" in
		usr/lib/*) t=${l#usr/lib/} ;;
		lib/*) t=${l#lib/} ;;
		*) _zblk_arm64_log "library $l outside lib/ and usr/lib/"; return 1 ;;
		esac
		mkdir -p "$dest/lib/$(dirname "$t")"
		cp -L "$ZBLK_ARM64_CACHE/root/$l" "$dest/lib/$t"
	done
	l=$(_zblk_arm64_find_lib ld-linux-aarch64.so.1) || return 1
	[ -e "$dest/lib/ld-linux-aarch64.so.1" ] ||
		ln -s "${l#*lib/}" "$dest/lib/ld-linux-aarch64.so.1"
}

# zblk_arm64_tools_image DIR -> path of the cached arm64 tools disk (ext4,
# read-only in the guest at /usr), built like the amd64 rig's and keyed by
# the kernel version, the tool lists and this file.
zblk_arm64_tools_image() {
	local dir=$1 key img stage kb
	zblk_arm64_fetch || return 1
	key=$({ echo arm64-tools-v1; zblk_arm64_version; zblk_arm64_tools
		[ -z "${ZBLK_GUEST_TOOL_LINKS+set}" ] || printf '%s\n' "${ZBLK_GUEST_TOOL_LINKS[@]}"
		cat "${BASH_SOURCE[0]}"; ls -l --time-style=+%s "$ZBLK_ARM64_CACHE/debs"; } |
		sha256sum | cut -c1-16)
	img=$dir/tools-arm64-$key.img
	[ -f "$img" ] && { echo "$img"; return 0; }
	mkdir -p "$dir"
	(
		flock 9
		[ -f "$img" ] && exit 0
		_zblk_arm64_log "building the arm64 guest tools disk ($img)"
		stage=$(mktemp -d "$dir/.tools-arm64-stage.XXXXXX")
		trap 'rm -rf "$stage"' EXIT
		zblk_arm64_stage_tools "$stage" || exit 1
		kb=$(du -sk "$stage" | cut -f1)
		rm -f "$img.tmp"
		mke2fs -q -t ext4 -O ^has_journal -E root_owner=0:0 -L zblk-tools -d "$stage" \
			"$img.tmp" $((kb * 5 / 4 + 8192))k >"$stage.log" 2>&1 ||
			{ cat "$stage.log" >&2; rm -f "$stage.log"; exit 1; }
		rm -f "$stage.log"
		mv "$img.tmp" "$img"
		# older images (other inputs) are of no use any more
		ls "$dir"/tools-arm64-*.img 2>/dev/null | grep -vxF "$img" | xargs -r rm -f || true
		exit 0
	) 9>"$dir/.tools-arm64.lock" || return 1
	echo "$img"
}
