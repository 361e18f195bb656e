#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# tools/deps' kernel choice (tools/lib/apt-pick.sh) on recorded archive states:
# the real answers of apt-cache on the dates in tests/host/apt-states/*.txt,
# and shapes derived from them that the archive has had or may have: the
# signed image missing while its -unsigned twin is there, the reverse, new
# headers lagging the image, a series only in bookworm-backports (needing -t),
# only in bookworm-security, and nothing at all (a clear error naming the
# series and what was tried). stand-ins for apt-cache and apt-get
# (tests/host/apt-states/bin) answer from each state.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
states=tests/host/apt-states
export PATH="$top/$states/bin:$PATH"
. tools/lib/apt-pick.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

failed=0 n=0
ok() { n=$((n + 1)); echo "deps-pick: ok   $*"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "deps-pick: FAIL $*"; }

# expect STATE WHAT WANT: zblk_apt_pick_install/download prints WANT
expect() {
	local state=$1 what=$2 want=$3 got
	export ZBLK_APT_STATE=$state
	# shellcheck disable=SC2086
	got=$($what 2>"$tmp/err") || got="FAILED: $(tr '\n' ' ' <"$tmp/err")"
	if [ "$got" = "$want" ]; then
		ok "$(basename "$state" .txt): $what -> $got"
	else
		bad "$(basename "$state" .txt): $what -> '$got', expected '$want'"
	fi
}
# expect_fail STATE WHAT TEXT...: fails, and its message contains every TEXT
expect_fail() {
	local state=$1 what=$2 t
	shift 2
	export ZBLK_APT_STATE=$state
	if $what >"$tmp/out" 2>"$tmp/err"; then
		bad "$(basename "$state" .txt): $what succeeded ($(cat "$tmp/out")); expected a failure"
		return
	fi
	for t in "$@"; do
		grep -qF -- "$t" "$tmp/err" || { bad "$(basename "$state" .txt): $what: message lacks '$t':"; sed 's/^/    /' "$tmp/err"; return; }
	done
	ok "$(basename "$state" .txt): $what fails with a message naming ${*}"
}

# newest ABI of SERIES in a state that has both image and headers
newest() {
	awk '!/^#/ && $2 != "-"' "$1" | sed -nE "s/^linux-headers-($2\.[0-9]+(-[0-9]+|\+deb[0-9]+))-amd64 .*/\1/p" | sort -V | tail -n1
}

recorded=0
for s in "$states"/*.txt; do
	recorded=$((recorded + 1))
	for series in 6.1 6.12; do
		abi=$(newest "$s" "$series")
		[ -n "$abi" ] || { bad "$(basename "$s"): no $series headers recorded"; continue; }
		expect "$s" "zblk_apt_pick_install $series amd64" \
			"$abi linux-image-$abi-amd64-unsigned linux-headers-$abi-amd64 -"
	done
	if grep -q -- '-arm64-16k-unsigned:arm64 [^-]' "$s"; then
		abi=$(sed -nE 's/^linux-image-(6\.12\.[0-9]+\+deb[0-9]+)-arm64-16k-unsigned:arm64 [^-].*/\1/p' "$s" | sort -V | tail -n1)
		expect "$s" "zblk_apt_pick_download 6.12 arm64-16k arm64" "$abi linux-image-$abi-arm64-16k-unsigned"
	fi
done
[ $recorded -gt 0 ] || bad "no recorded state in $states"

# Shapes derived from the newest recording.
base=$(ls "$states"/*.txt | sort | tail -n1)
a61=$(newest "$base" 6.1)
a612=$(newest "$base" 6.12)
r61=${a61//./\\.} r612=${a612//./\\.}
r612=${r612//+/\\+}

# 1. The issue's day: the signed image has no candidate, -unsigned does.
sed -E "s/^(linux-image-$r61-amd64) .*/\1 - -/" "$base" >"$tmp/signed-missing.txt"
expect "$tmp/signed-missing.txt" "zblk_apt_pick_install 6.1 amd64" \
	"$a61 linux-image-$a61-amd64-unsigned linux-headers-$a61-amd64 -"
# 2. The reverse: only the signed image.
sed -E "s/^(linux-image-$r61-amd64-unsigned) .*/\1 - -/" "$base" >"$tmp/unsigned-missing.txt"
expect "$tmp/unsigned-missing.txt" "zblk_apt_pick_install 6.1 amd64" \
	"$a61 linux-image-$a61-amd64 linux-headers-$a61-amd64 -"
# 3. A newer ABI whose headers are not there yet: the one before it is taken.
{ cat "$base"; echo "linux-image-6.1.0-999-amd64-unsigned 6.1.999-1 bookworm-security"
  echo "linux-image-6.1.0-999-amd64 6.1.999-1 bookworm-security"
  echo "linux-headers-6.1.0-999-amd64 - -"; } >"$tmp/headers-lag.txt"
expect "$tmp/headers-lag.txt" "zblk_apt_pick_install 6.1 amd64" \
	"$a61 linux-image-$a61-amd64-unsigned linux-headers-$a61-amd64 -"
# 4. 6.12 only in bookworm-backports, whose dependencies need -t.
sed -E "/^linux-[a-z]+-6\.12\./ s/ [^ ]+\$/ bookworm-backports!/" "$base" >"$tmp/only-backports.txt"
expect "$tmp/only-backports.txt" "zblk_apt_pick_install 6.12 amd64" \
	"$a612 linux-image-$a612-amd64-unsigned linux-headers-$a612-amd64 bookworm-backports"
# 5. 6.12 only in bookworm-security.
sed -E "/^linux-[a-z]+-6\.12\./ s/ [^ ]+\$/ bookworm-security/" "$base" >"$tmp/only-security.txt"
expect "$tmp/only-security.txt" "zblk_apt_pick_install 6.12 amd64" \
	"$a612 linux-image-$a612-amd64-unsigned linux-headers-$a612-amd64 -"
# 6. Names known, nothing installable: an error that says what was tried.
sed -E "/^linux-(image|headers)-6\.1\./ s/ .*/ - -/" "$base" >"$tmp/no-61.txt"
expect_fail "$tmp/no-61.txt" "zblk_apt_pick_install 6.1 amd64" "no installable 6.1 kernel" \
	"linux-image-$a61-amd64-unsigned+linux-headers-$a61-amd64" "apt-get update"
# 7. No name at all (an empty archive).
echo "# nothing" >"$tmp/empty.txt"
expect_fail "$tmp/empty.txt" "zblk_apt_pick_install 6.12 amd64" "no installable 6.12 kernel" \
	"apt knows no package named linux-image-6.12"
# 8. 6.1 is not fooled by 6.12's packages, nor 6.12 by 6.1's.
grep -v -- '-6\.1\.' "$base" >"$tmp/only-612.txt"
expect_fail "$tmp/only-612.txt" "zblk_apt_pick_install 6.1 amd64" "no installable 6.1 kernel"
# 9. arm64-16k: the newest image without its amd64 linux-kbuild is passed over.
cat >"$tmp/arm64.txt" <<EOT
linux-image-6.12.200+deb12-arm64-16k-unsigned:arm64 6.12.200-1 bookworm-security
linux-headers-6.12.200+deb12-arm64-16k:arm64 6.12.200-1 bookworm-security
linux-headers-6.12.200+deb12-common 6.12.200-1 bookworm-security
linux-kbuild-6.12.200+deb12:amd64 - -
linux-image-6.12.199+deb12-arm64-16k:arm64 6.12.199-1 bookworm-backports
linux-headers-6.12.199+deb12-arm64-16k:arm64 6.12.199-1 bookworm-backports
linux-headers-6.12.199+deb12-common 6.12.199-1 bookworm-backports
linux-kbuild-6.12.199+deb12:amd64 6.12.199-1 bookworm-backports
EOT
expect "$tmp/arm64.txt" "zblk_apt_pick_download 6.12 arm64-16k arm64" "6.12.199+deb12 linux-image-6.12.199+deb12-arm64-16k"

# 10. tools/deps --dry-run prints installable commands only: every
#     `apt-get install` line it prints must simulate cleanly (on this host's
#     real archive, when it has one).
if command -v /usr/bin/apt-get >/dev/null && [ "${ZBLK_DEPS_DRYRUN:-1}" = 1 ]; then
	if out=$(PATH=${PATH#"$top/$states/bin:"} tools/deps --dry-run 2>&1); then
		while read -r line; do
			[[ $line == "apt-get install "* ]] || continue
			# shellcheck disable=SC2086
			if /usr/bin/apt-get -s -qq ${line#apt-get } >/dev/null 2>&1; then
				ok "dry-run line simulates: $line"
			else
				bad "dry-run line does not simulate: $line"
			fi
		done <<<"$out"
		ok "tools/deps --dry-run exits 0"
	else
		bad "tools/deps --dry-run failed: $out"
	fi
fi

# 11. tools/build-debug-kernel on a machine that has never seen
#     linux-source-6.12: dpkg-query exits 1 for an unknown package, which under
#     set -e and pipefail once ended the script silently (make check-debug
#     failed with no message on a fresh machine). With no candidate in the
#     archive either, it must stop with a message naming the package, before
#     it touches build/.
mkdir -p "$tmp/bin"
printf '#!/bin/sh\necho "dpkg-query: no packages found matching $*" >&2\nexit 1\n' >"$tmp/bin/dpkg-query"
chmod +x "$tmp/bin/dpkg-query"
echo 'linux-source-6.12 - -' >"$tmp/nosource.txt"
PATH="$tmp/bin:$PATH" expect_fail "$tmp/nosource.txt" tools/build-debug-kernel \
	"apt has no candidate for linux-source-6.12"

echo "deps-pick: $((n - failed)) of $n checks passed"
[ $failed -eq 0 ]
