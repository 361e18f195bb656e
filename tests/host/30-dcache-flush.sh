#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# 30-dcache-flush.sh - every write into a page on zblk's data path is followed
# by flush_dcache_page() (issue 12, defect 5; zram and brd do the same).
#
# Why a source check and not a guest test: flush_dcache_page() exists for CPUs
# whose data caches can hold two virtual aliases of one physical page (or that
# do not keep the instruction cache coherent with the data cache). On x86 it is
# an empty inline function, so a missing flush changes nothing a test can see;
# arm64 implements it (PG_dcache_clean, for the I-cache), but the guests run
# under QEMU TCG, which models no caches at all. No runtime test on the rig can
# observe the missing call, so this test reads the source:
#
#   - zblkdev/io.c may map a page only with kmap_local_page() (kmap(),
#     kmap_atomic(), page_address(), bvec_kmap_local(), bvec_virt(),
#     kmap_local_folio() and memcpy_page() are refused, so that no mapping
#     escapes the check);
#   - the mapping must be stored in a variable; if that variable is a pointer
#     to const, the compiler already forbids writing through it; otherwise the
#     same function must call flush_dcache_page() on the same page expression
#     after the kmap_local_page();
#   - memcpy_to_page() and memzero_page(), the other ways zblk writes into a
#     page, must flush in the kernel headers zblk is built against
#     (include/linux/highmem.h of each installed linux-headers-*-common).
#
# The check runs on a copy of io.c with the flushes removed first and must fail
# there (it would otherwise prove nothing), then on io.c.
# ZBLK_DCACHE_FILE checks another file instead of zblkdev/io.c.
# Exit 0 = pass, 77 = skip, else fail.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
file=${ZBLK_DCACHE_FILE:-zblkdev/io.c}

command -v python3 >/dev/null || { echo "30-dcache-flush: SKIP: no python3"; exit 77; }

check() {
	python3 - "$1" <<'EOF'
import re, sys

path = sys.argv[1]
text = open(path).read()

def strip(src):
    # comments and string/char literals become spaces (offsets are kept)
    out = re.sub(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'',
                 lambda m: re.sub(r'[^\n]', ' ', m.group(0)), src, flags=re.S)
    return out

src = strip(text)
errors = []
line = lambda pos: src.count('\n', 0, pos) + 1

for bad in ('kmap', 'kmap_atomic', 'page_address', 'bvec_kmap_local',
            'bvec_virt', 'kmap_local_folio', 'memcpy_page'):
    for m in re.finditer(r'\b%s\s*\(' % bad, src):
        errors.append('%s:%d: %s() maps a page outside the check; use kmap_local_page()'
                      % (path, line(m.start()), bad))

# top-level function bodies: "name(...) {" at brace depth 0
funcs = []
depth = 0
start = None
for i, c in enumerate(src):
    if c == '{':
        if depth == 0:
            head = src[max(0, i - 400):i]
            m = re.search(r'(\w+)\s*\(([^;{}]*)\)\s*$', head)
            start = (i, m.group(1) if m else None, m.group(2) if m else '')
        depth += 1
    elif c == '}':
        depth -= 1
        if depth == 0 and start and start[1]:
            funcs.append((start[1], start[2], start[0], i))
            start = None

norm = lambda s: re.sub(r'\s+', '', s)
writable = 0
for name, params, b, e in funcs:
    body = src[b:e]
    decls = params + ';' + body
    for m in re.finditer(r'kmap_local_page\s*\(', body):
        # the argument, up to the matching parenthesis
        j, d = m.end(), 1
        while d:
            d += {'(': 1, ')': -1}.get(body[j], 0)
            j += 1
        arg = norm(body[m.end():j - 1])
        stmt_start = max(body.rfind(';', 0, m.start()), body.rfind('{', 0, m.start()),
                         body.rfind('}', 0, m.start())) + 1
        stmt = body[stmt_start:m.start()]
        a = re.search(r'(\w+)\s*=[^=][^;]*$', stmt)
        where = '%s:%d (%s)' % (path, line(b + m.start()), name)
        if not a:
            errors.append('%s: kmap_local_page(%s) is not stored in a variable' % (where, arg))
            continue
        var = a.group(1)
        if re.search(r'\bconst\b[^;,(){}=]*\*\s*%s\s*[;,=)]' % re.escape(var), decls):
            continue
        writable += 1
        flushed = any(norm(f.group(1)) == arg
                      for f in re.finditer(r'flush_dcache_page\s*\(([^;]*?)\)\s*;', body[m.end():]))
        if not flushed:
            errors.append('%s: page %s is mapped writable (%s) and not followed by '
                          'flush_dcache_page(%s)' % (where, arg, var, arg))

uses = [h for h in ('memcpy_to_page', 'memzero_page') if re.search(r'\b%s\s*\(' % h, src)]
for e in errors:
    print(e)
print('%s: %d functions, %d writable page mappings, page helpers used: %s'
      % (path, len(funcs), writable, ' '.join(uses) or 'none'))
print('USES ' + ' '.join(uses))
sys.exit(1 if errors else 0)
EOF
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. The check must catch a missing flush: remove every flush from a copy.
sed -e 's/flush_dcache_page([^;]*);//' "$file" >"$tmp/noflush.c"
if ! grep -q 'flush_dcache_page' "$file"; then
	echo "30-dcache-flush: $file never calls flush_dcache_page()"
elif check "$tmp/noflush.c" >"$tmp/self.log" 2>&1; then
	cat "$tmp/self.log"
	echo "30-dcache-flush: FAIL: the check passes $file with every flush_dcache_page() removed"
	exit 1
else
	echo "30-dcache-flush: self-check: with the flushes removed the check fails, as it must:"
	grep -v '^USES' "$tmp/self.log" | sed 's/^/    /'
fi

# 2. The file itself.
rc=0
check "$file" >"$tmp/check.log" 2>&1 || rc=$?
grep -v '^USES' "$tmp/check.log"
[ $rc -eq 0 ] || { echo "30-dcache-flush: FAIL: $file writes into pages without flush_dcache_page()"; exit 1; }

# 3. The page helpers it uses flush in the kernel headers.
uses=$(sed -n 's/^USES //p' "$tmp/check.log")
hdrs=$(ls /usr/src/linux-headers-*-common/include/linux/highmem.h 2>/dev/null || true)
if [ -n "$uses" ] && [ -z "$hdrs" ]; then
	echo "30-dcache-flush: note: no kernel headers found; $uses not checked"
fi
for h in $hdrs; do
	for fn in $uses; do
		if ! awk -v fn="$fn" '
			$0 ~ "static inline void " fn "\\(" { body = 1 }
			body && /flush_dcache_page\(/ { ok = 1 }
			body && /^}/ { exit }
			END { exit !ok }' "$h"; then
			echo "30-dcache-flush: FAIL: $fn() in $h does not call flush_dcache_page()"
			exit 1
		fi
	done
	echo "30-dcache-flush: ${uses:-no helper} flush in $h"
done
echo "30-dcache-flush: PASS"
