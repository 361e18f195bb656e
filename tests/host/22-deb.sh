#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# packaging/build-deb (make deb): the package's file list, control fields,
# dkms.conf (and that its BUILD_EXCLUSIVE_KERNEL regex takes 6.1 and 6.12
# only), the version substituted in the tools, maintainer scripts that parse
# and call DKMS as Debian's *-dkms packages do, man pages that render without
# warnings, and lintian (when installed) without errors or warnings.
# tests/package/e2e.sh installs the package in a booted Debian 12 image.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
command -v dpkg-deb >/dev/null || { echo "deb: no dpkg-deb; skipped"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
failed=0 n=0
ok() { n=$((n + 1)); echo "deb: ok   $*"; }
bad() { n=$((n + 1)); failed=$((failed + 1)); echo "deb: FAIL $*"; }
show() { printf '%s\n' "$1" | sed 's/^/    | /'; }
version=$(cat VERSION)

deb=$(packaging/build-deb "$T/out" 2>"$T/err") || { bad "build-deb failed"; show "$(cat "$T/err")"; exit 1; }
[ "$deb" = "$T/out/zblk-dkms_${version}_all.deb" ] && [ -f "$deb" ] && ok "built $(basename "$deb")" || { bad "build-deb printed '$deb'"; exit 1; }
[ -z "$(ls -A "$T/out" | grep -v '\.deb$')" ] && ok "no staging left behind" || bad "left in the output dir: $(ls "$T/out")"

# File list: the module sources are exactly the tree's, plus the rest.
src=usr/src/zblk-$version
want=$( {
	printf '%s\n' "$src/Kbuild" "$src/Makefile" "$src/VERSION" "$src/dkms.conf"
	for f in zblkdev/*.[ch] alloc/*.[ch] crypto/*.[ch] sysfs/*.[ch]; do echo "$src/$f"; done
	printf '%s\n' usr/sbin/zblkctl usr/sbin/zblk-generator \
		usr/lib/systemd/system-generators/zblk-generator "usr/lib/systemd/system/zblk-setup@.service" \
		usr/share/man/man8/zblkctl.8.gz usr/share/man/man8/zblk-generator.8.gz \
		usr/share/man/man5/zblk-generator.conf.5.gz \
		usr/share/doc/zblk-dkms/copyright usr/share/doc/zblk-dkms/changelog.gz \
		usr/share/doc/zblk-dkms/README.install.md usr/share/doc/zblk-dkms/examples/zblk-generator.conf
} | LC_ALL=C sort)
got=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | LC_ALL=C sort)
[ "$got" = "$want" ] && ok "file list ($(echo "$got" | wc -l) files)" || { bad "file list differs:"; show "$(diff <(echo "$want") <(echo "$got"))"; }
bad_own=$(dpkg-deb -c "$deb" | awk '$2 != "root/root"')
[ -z "$bad_own" ] && ok "every file root/root" || { bad "owners:"; show "$bad_own"; }
modes=$(dpkg-deb -c "$deb" | awk '{ sub(/^\.\//, "", $6) } $6 ~ /(sbin\/zblkctl|system-generators\/zblk-generator)$/ { print $1, $6 }')
[ "$modes" = "$(printf '%s\n' '-rwxr-xr-x usr/lib/systemd/system-generators/zblk-generator' '-rwxr-xr-x usr/sbin/zblkctl')" ] &&
	ok "tools executable" || { bad "tool modes:"; show "$modes"; }

# Control fields.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = zblk-dkms ] && [ "$(field Version)" = "$version" ] && [ "$(field Architecture)" = all ] &&
	ok "Package/Version/Architecture" || bad "control: $(dpkg-deb -f "$deb" Package Version Architecture)"
dep=$(field Depends)
for p in dkms bash util-linux e2fsprogs; do
	[[ ", $dep," == *", $p"[\ ,]* ]] || bad "Depends lacks $p: $dep"
done
ok "Depends: $dep"
desc=$(field Description)
[ "$(echo "$desc" | wc -l)" -ge 5 ] && [[ $desc == *DKMS* ]] && ok "Description has a synopsis and a long text" || bad "Description: $desc"
size=$(field Installed-Size)
[[ $size =~ ^[0-9]+$ ]] && [ "$size" -gt 100 ] && ok "Installed-Size $size KiB" || bad "Installed-Size '$size'"

x=$T/x
dpkg-deb -R "$deb" "$x"
# dkms.conf: the fields, and the kernel regex applied as dkms applies it
conf=$x/$src/dkms.conf
# dkms sources it with these set; keep them literal here
kernel_source_dir='${kernel_source_dir}' dkms_tree='${dkms_tree}'
(
	. "$conf"
	[ "$PACKAGE_NAME" = zblk ] && [ "$PACKAGE_VERSION" = "$version" ] && [ "${BUILT_MODULE_NAME[0]}" = zblk ] &&
		[ "${DEST_MODULE_LOCATION[0]}" = /updates/dkms ] && [ "$AUTOINSTALL" = yes ]
) && ok "dkms.conf: name, version, module, location, AUTOINSTALL" || { bad "dkms.conf:"; show "$(cat "$conf")"; }
make_line=$(. "$conf"; echo "${MAKE[0]}")
[[ $make_line == 'make -C ${kernel_source_dir} M=${dkms_tree}/zblk/'"$version"'/build '* && $make_line == *' W=0 '* ]] &&
	ok "dkms.conf MAKE: $make_line" || bad "dkms.conf MAKE: '$make_line'"
re=$(. "$conf"; echo "$BUILD_EXCLUSIVE_KERNEL")
for k in 6.1.0-57-amd64 6.1.0-60-cloud-amd64 6.12.117+deb12-amd64 6.12.48+deb12-rt-amd64; do
	[[ $k =~ $re ]] && ok "BUILD_EXCLUSIVE_KERNEL takes $k" || bad "BUILD_EXCLUSIVE_KERNEL '$re' refuses $k"
done
for k in 6.10.0-1-amd64 6.11.5 6.13.0-1-amd64 6.120.0 5.10.0-30-amd64 6.2.0 16.1.0 6.1; do
	[[ $k =~ $re ]] && bad "BUILD_EXCLUSIVE_KERNEL '$re' takes $k" || ok "BUILD_EXCLUSIVE_KERNEL refuses $k"
done

# The MAKE line run as dkms 3 runs it: in a copy of the source named as
# dkms names it, with "-jN KERNELRELEASE=<kernel>" added after "make", for
# the newest installed kernel headers (the same for the others).
kdir=$(ls -d /lib/modules/6.1[.2]*/build 2>/dev/null | sort -V | tail -n1)
if [ -n "$kdir" ] && [ -d "$kdir/" ]; then
	kver=$(basename "$(dirname "$kdir")")
	dkms_tree=$T/dkms
	mkdir -p "$dkms_tree/zblk/$version"
	cp -r "$x/$src" "$dkms_tree/zblk/$version/build"
	cmd=$(kernel_source_dir=$kdir dkms_tree=$dkms_tree; . "$conf"; eval "echo \"${MAKE[0]}\"")
	cmd="make -j2 KERNELRELEASE=$kver ${cmd#make }"
	t0=$(date +%s)
	if (cd "$dkms_tree/zblk/$version/build" && $cmd) >"$T/make.log" 2>&1 &&
		[ -f "$dkms_tree/zblk/$version/build/zblk.ko" ]; then
		ok "dkms-style build for $kver: zblk.ko in $(( $(date +%s) - t0 ))s ($cmd)"
		mv=$(modinfo -F version "$dkms_tree/zblk/$version/build/zblk.ko" 2>&1)
		[ "$mv" = "$version" ] && ok "the module's version (modinfo): $mv, the package's" ||
			bad "the module's version (modinfo): '$mv', expected the package's $version"
	else
		bad "dkms-style build for $kver ($cmd):"; show "$(tail -n 15 "$T/make.log")"
	fi
else
	echo "deb: no 6.1/6.12 kernel headers under /lib/modules; dkms-style build not tried"
fi

# Version substituted; the tools run from the package tree.
v1=$("$x/usr/sbin/zblkctl" --version) v2=$("$x/usr/lib/systemd/system-generators/zblk-generator" --version)
[ "$v1" = "zblkctl from zblk $version" ] && [ "$v2" = "zblk-generator from zblk $version" ] &&
	! grep -q '@VERSION@' "$x/usr/sbin/zblkctl" "$x/usr/lib/systemd/system-generators/zblk-generator" "$conf" &&
	ok "version substituted: $v1; $v2" || bad "version: '$v1' '$v2'"
[ "$(readlink "$x/usr/sbin/zblk-generator")" = ../lib/systemd/system-generators/zblk-generator ] &&
	ok "/usr/sbin/zblk-generator link" || bad "/usr/sbin/zblk-generator: $(readlink "$x/usr/sbin/zblk-generator")"

# Maintainer scripts.
for s in postinst prerm postrm; do
	[ -x "$x/DEBIAN/$s" ] && sh -n "$x/DEBIAN/$s" && ok "$s parses (sh -n)" || bad "$s"
done
grep -q '/usr/lib/dkms/common.postinst "$NAME" "$VERSION"' "$x/DEBIAN/postinst" && grep -q "^VERSION=$version\$" "$x/DEBIAN/postinst" &&
	ok "postinst calls dkms's common.postinst for zblk $version" || bad "postinst"
grep -q 'dkms remove "$NAME/$VERSION" --all' "$x/DEBIAN/prerm" && grep -q "^VERSION=$version\$" "$x/DEBIAN/prerm" &&
	ok "prerm: dkms remove zblk/$version --all" || bad "prerm"
# prerm and postinst with a stub dkms: what they run
mkdir -p "$T/bin" "$T/lib"
printf '#!/bin/sh\necho "dkms $*" >>"%s/calls"\n[ "$1" != status ] || echo "zblk/%s, 6.12.117+deb12-amd64, x86_64: installed"\n' "$T" "$version" >"$T/bin/dkms"
chmod +x "$T/bin/dkms"
PATH=$T/bin:$PATH sh "$x/DEBIAN/prerm" remove && [ "$(tail -n1 "$T/calls")" = "dkms remove zblk/$version --all" ] &&
	ok "prerm remove runs: $(tail -n1 "$T/calls")" || { bad "prerm remove:"; show "$(cat "$T/calls" 2>&1)"; }
rm -f "$T/calls"
PATH=$T/bin:$PATH sh "$x/DEBIAN/prerm" failed-upgrade 2>/dev/null; [ ! -e "$T/calls" ] && ok "prerm failed-upgrade: nothing" || bad "prerm failed-upgrade ran dkms"

# Man pages render without warnings.
if command -v man >/dev/null; then
	for m in "$x"/usr/share/man/man*/*.gz; do
		w=$(zcat "$m" | MANWIDTH=80 man --warnings -l - 2>&1 >/dev/null)
		[ -z "$w" ] && ok "man ${m##*/}: no warning" || { bad "man ${m##*/}:"; show "$w"; }
		zcat "$m" | grep -q '@VERSION@' && bad "${m##*/}: @VERSION@ left"
	done
fi

if command -v lintian >/dev/null; then
	l=$(lintian --allow-root "$deb" 2>&1 | grep -E '^[EW]: ')
	[ -z "$l" ] && ok "lintian: no error or warning" || { bad "lintian:"; show "$l"; }
else
	echo "deb: lintian not installed; not run"
fi

echo "deb: $((n - failed)) of $n checks passed"
[ $failed = 0 ]
