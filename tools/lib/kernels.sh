# SPDX-License-Identifier: GPL-2.0
# Shared shell helpers: map a kernel name (6.1, 6.12 or a full release) to the
# installed Debian kernel image and headers. Sourced, not run.

# The arm64-16k kernel (arm64 with 16K pages, e.g. NAME 6.12-arm64-16k) is
# not installed but fetched into build/arm64/: see tools/lib/arm64.sh.
. "$(dirname "${BASH_SOURCE[0]}")/arm64.sh"

# zblk_kernel_arch NAME|RELEASE -> x86_64 or arm64
zblk_kernel_arch() {
	case "$1" in *arm64*) echo arm64 ;; *) echo x86_64 ;; esac
}

# zblk_kernel_release NAME -> e.g. 6.1.0-56-amd64
zblk_kernel_release() {
	local name=$1 d h r
	case "$name" in *arm64*) zblk_arm64_kernel release "$name"; return ;; esac
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
	rel=$(zblk_kernel_release "$1") || return 1
	echo "/usr/src/linux-headers-$rel"
}

zblk_kernel_image() {
	local rel
	case "$1" in *arm64*) zblk_arm64_kernel image "$1"; return ;; esac
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
	rel=$(zblk_kernel_release "$1") || return 1
	echo "/lib/modules/$rel"
}
