# SPDX-License-Identifier: GPL-2.0
# Shared shell helpers: choose a Debian kernel version that can be installed
# (or downloaded) right now. Sourced, not run; used by tools/deps (amd64
# kernels, installed) and tools/lib/arm64.sh (arm64-16k kernel, downloaded).
#
# Debian's archive moves on: versions roll forward, the signed image of a new
# ABI can lag its -unsigned twin (or the other way round), and a series can
# be carried by bookworm-security, bookworm-backports or both. So nothing here
# names a version: every candidate comes from `apt-cache pkgnames`, and a
# version is chosen only when apt itself says its packages are there.
#
# Functions (messages go to stderr; return non-zero on failure):
#   zblk_apt_abis SERIES FLAVOUR [ARCH]
#       ABIs (6.1.0-57, 6.12.117+deb12, ...) of SERIES that have a
#       linux-image-ABI-FLAVOUR[-unsigned] package name, newest first.
#   zblk_apt_candidate PKG      the version apt would take, or nothing
#   zblk_apt_suite PKG          the suite that carries that version
#   zblk_apt_pick_install SERIES FLAVOUR
#       for an installed kernel: prints "ABI IMAGE HEADERS SUITE" of the newest
#       ABI whose image (-unsigned preferred, else signed) and headers
#       `apt-get -s install` accepts (SUITE is "-" when no -t is needed).
#   zblk_apt_pick_download SERIES FLAVOUR ARCH
#       for a downloaded kernel: prints "ABI IMAGE" of the newest ABI whose
#       image, headers, headers-common and the amd64 linux-kbuild all have a
#       candidate.
#
# The tests (tests/host/02-deps-pick.sh) put stand-ins for apt-cache and
# apt-get first on PATH that answer from recorded archive states.

# How many ABIs, newest first, are tried before giving up.
ZBLK_APT_TRIES=${ZBLK_APT_TRIES:-6}

_zblk_apt_log() { echo "deps: $*" >&2; }

# _zblk_apt_re STRING: STRING with regex metacharacters escaped
_zblk_apt_re() { printf '%s' "$1" | sed 's/[.+*^$?()|[\\]/\\&/g'; }

zblk_apt_abis() {
	local series=$1 flavour=$2 arch=${3:-} s f
	s=$(_zblk_apt_re "$series")
	f=$(_zblk_apt_re "$flavour")
	# 6.1 -> 6.1.0-57 (not 6.12...); 6.12 -> 6.12.117+deb12
	apt-cache pkgnames "linux-image-$series." ${arch:+-o APT::Architecture="$arch"} 2>/dev/null |
		sed -nE "s/^linux-image-($s\.[0-9]+(-[0-9]+|\+deb[0-9]+(\.[0-9]+)?))-$f(-unsigned)?\$/\1/p" |
		sort -u | sort -rV
}

zblk_apt_candidate() {
	apt-cache policy "$1" 2>/dev/null |
		awk '$1 == "Candidate:" { if ($2 != "(none)") print $2; exit }'
}

zblk_apt_suite() {
	# The first archive line after the candidate's version in the table:
	#      6.12.117-1~deb12u1 500
	#         500 http://deb.debian.org/debian-security bookworm-security/main amd64 Packages
	apt-cache policy "$1" 2>/dev/null | awk '
		$1 == "Candidate:" { cand = $2; next }
		cand != "" && ($1 == cand || ($1 == "***" && $2 == cand)) { want = 1; next }
		want && $2 ~ /:\/\// { split($3, a, "/"); print a[1]; exit }'
}

# _zblk_apt_sim [-t SUITE] PKG...: apt-get would install PKG... (simulated)
_zblk_apt_sim() {
	apt-get -s -qq -o Debug::NoLocking=1 --no-install-recommends install "$@" >/dev/null 2>&1
}

zblk_apt_pick_install() {
	local series=$1 flavour=$2 abi img hdr suite n=0 tried=()
	for abi in $(zblk_apt_abis "$series" "$flavour"); do
		[ $n -lt "$ZBLK_APT_TRIES" ] || break
		n=$((n + 1))
		hdr=linux-headers-$abi-$flavour
		for img in "linux-image-$abi-$flavour-unsigned" "linux-image-$abi-$flavour"; do
			tried+=("$img+$hdr")
			[ -n "$(zblk_apt_candidate "$img")" ] && [ -n "$(zblk_apt_candidate "$hdr")" ] || continue
			if _zblk_apt_sim "$img" "$hdr"; then
				echo "$abi $img $hdr -"
				return 0
			fi
			# The packages are there but their dependencies want the
			# suite's own versions (backports): say so with -t.
			suite=$(zblk_apt_suite "$img")
			if [ -n "$suite" ] && _zblk_apt_sim -t "$suite" "$img" "$hdr"; then
				echo "$abi $img $hdr $suite"
				return 0
			fi
		done
	done
	_zblk_apt_no_kernel "$series" "$flavour" "${tried[@]}"
}

zblk_apt_pick_download() {
	local series=$1 flavour=$2 arch=$3 abi img n=0 tried=() p ok
	for abi in $(zblk_apt_abis "$series" "$flavour" "$arch"); do
		[ $n -lt "$ZBLK_APT_TRIES" ] || break
		n=$((n + 1))
		for img in "linux-image-$abi-$flavour-unsigned" "linux-image-$abi-$flavour"; do
			tried+=("$img:$arch")
			ok=1
			for p in "$img:$arch" "linux-headers-$abi-$flavour:$arch" \
				"linux-headers-$abi-common" "linux-kbuild-$abi:amd64"; do
				[ -n "$(zblk_apt_candidate "$p")" ] || { ok=0; break; }
			done
			if [ $ok = 1 ]; then
				echo "$abi $img"
				return 0
			fi
		done
	done
	_zblk_apt_no_kernel "$series" "$flavour" "${tried[@]}"
}

# _zblk_apt_no_kernel SERIES FLAVOUR TRIED...: the message when nothing fits
_zblk_apt_no_kernel() {
	local series=$1 flavour=$2
	shift 2
	_zblk_apt_log "no installable $series kernel ($flavour) in the archive."
	if [ $# -eq 0 ]; then
		_zblk_apt_log "  apt knows no package named linux-image-$series.*-$flavour[-unsigned]."
	else
		_zblk_apt_log "  tried (image+headers, newest first), none of them has every package apt needs:"
		printf '    %s\n' "$@" >&2
	fi
	_zblk_apt_log "  What to do: run 'apt-get update'; check that the sources list bookworm," \
		"bookworm-updates, bookworm-security and bookworm-backports (for 6.12);" \
		"'apt-cache policy linux-image-$series.*' shows what the archive has now."
	return 1
}
