# SPDX-License-Identifier: GPL-2.0
# Shared shell helpers: map a kernel name (6.1, 6.12 or a full release) to the
# installed Debian kernel image and headers (or to the debug kernel built in
# the tree). Sourced, not run.

# The arm64-16k kernel (arm64 with 16K pages, e.g. NAME 6.12-arm64-16k) is
# not installed but fetched into build/arm64/: see tools/lib/arm64.sh.
. "$(dirname "${BASH_SOURCE[0]}")/arm64.sh"

# The debug kernel (NAME 6.12-debug, or its release <version>-zblk-debug) is
# built from Debian's linux-source-6.12 by tools/build-debug-kernel into
# build/debug-kernel/current/: src/ is its KDIR, root/ holds
# lib/modules/<release>/ and boot/{config,vmlinux}-<release>.
ZBLK_DEBUG_CACHE=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/debug-kernel

# zblk_kernel_is_debug NAME|RELEASE: true for the debug kernel
zblk_kernel_is_debug() {
	case "$1" in 6.12-debug|*-zblk-debug) return 0 ;; *) return 1 ;; esac
}

# zblk_debug_kernel WHAT NAME: WHAT is release, headers, image, modules or root
# (the staging root the guest's modules come from). Does not build: says how.
zblk_debug_kernel() {
	local what=$1 name=$2 dir rel
	dir=$(readlink -f "$ZBLK_DEBUG_CACHE/current" 2>/dev/null || true)
	if [ -z "$dir" ] || [ ! -f "$dir/done" ]; then
		echo "no debug kernel built under $ZBLK_DEBUG_CACHE (run tools/build-debug-kernel)" >&2
		return 1
	fi
	rel=$(cat "$dir/release")
	case "$name" in
	6.12-debug) ;;
	"$rel") ;;
	*) echo "debug kernel $name requested but $dir holds $rel (run tools/build-debug-kernel)" >&2
		return 1 ;;
	esac
	case "$what" in
	release) echo "$rel" ;;
	headers) echo "$dir/src" ;;
	image) echo "$dir/root/boot/vmlinux-$rel" ;;
	modules) echo "$dir/root/lib/modules/$rel" ;;
	root) echo "$dir/root" ;;
	*) echo "zblk_debug_kernel: bad request '$what'" >&2; return 1 ;;
	esac
}

# zblk_kernel_arch NAME|RELEASE -> x86_64 or arm64
zblk_kernel_arch() {
	case "$1" in *arm64*) echo arm64 ;; *) echo x86_64 ;; esac
}

# zblk_kernel_release NAME -> e.g. 6.1.0-56-amd64
zblk_kernel_release() {
	local name=$1 d h r
	case "$name" in *arm64*) zblk_arm64_kernel release "$name"; return ;; esac
	if zblk_kernel_is_debug "$name"; then zblk_debug_kernel release "$name"; return; fi
	case "$name" in
	6.1|6.12)
		# the newest version whose headers, image and modules are all there
		d=""
		for h in $(ls -d /usr/src/linux-headers-"$name".*-amd64 2>/dev/null | sort -urV); do
			r=${h#/usr/src/linux-headers-}
			[ -r "/boot/vmlinuz-$r" ] && [ -d "/lib/modules/$r/kernel" ] && { d=$h; break; }
		done ;;
	*) d=/usr/src/linux-headers-$name ;;
	esac
	if [ -z "$d" ] || [ ! -d "$d" ]; then
		echo "no headers for kernel '$name' under /usr/src (run tools/deps)" >&2
		return 1
	fi
	basename "$d" | sed 's/^linux-headers-//'
}

zblk_kernel_headers() {
	local rel
	case "$1" in *arm64*) zblk_arm64_kernel headers "$1"; return ;; esac
	if zblk_kernel_is_debug "$1"; then zblk_debug_kernel headers "$1"; return; fi
	rel=$(zblk_kernel_release "$1") || return 1
	echo "/usr/src/linux-headers-$rel"
}

zblk_kernel_image() {
	local rel
	case "$1" in *arm64*) zblk_arm64_kernel image "$1"; return ;; esac
	if zblk_kernel_is_debug "$1"; then zblk_debug_kernel image "$1"; return; fi
	rel=$(zblk_kernel_release "$1") || return 1
	if [ ! -r "/boot/vmlinuz-$rel" ]; then
		echo "no kernel image /boot/vmlinuz-$rel (run tools/deps)" >&2
		return 1
	fi
	echo "/boot/vmlinuz-$rel"
}

# zblk_kernel_modules NAME -> /lib/modules/<release>
zblk_kernel_modules() {
	local rel
	case "$1" in *arm64*) zblk_arm64_kernel modules "$1"; return ;; esac
	if zblk_kernel_is_debug "$1"; then zblk_debug_kernel modules "$1"; return; fi
	rel=$(zblk_kernel_release "$1") || return 1
	echo "/lib/modules/$rel"
}
