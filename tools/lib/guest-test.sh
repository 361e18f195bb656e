# SPDX-License-Identifier: GPL-2.0
# Shared shell helpers: a guest test's rig options and the corpus it reads.
# Sourced, not run; used by tools/guest-run (a test run alone) and tests/run
# (the suite), so that both run a test the same way.
#
#   zblk_corpus              the corpus (.zst): $ZBLK_CORPUS, else
#                            ../shared/corpus/anon-a.bin.zst beside the tree
#   zblk_corpus_raw          the corpus decompressed once into build/corpus/
#                            (guests under TCG decompress zstd slowly; the
#                            guest's corpus_file reads /files/<name without
#                            .zst> when it is there); prints nothing when the
#                            corpus is missing or not .zst
#   zblk_test_opts SCRIPT    the options of SCRIPT's "# guest-run:" header
#                            (first 15 lines), one per line, @CORPUS@
#                            replaced by the corpus and its decompressed copy,
#                            a relative --file path taken from the tree's top;
#                            fails with a message when the header wants the
#                            corpus and it is missing

ZBLK_GT_TOP=${ZBLK_GT_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}

zblk_corpus() {
	local c=${ZBLK_CORPUS:-../shared/corpus/anon-a.bin.zst}
	case "$c" in /*) ;; *) c=$ZBLK_GT_TOP/$c ;; esac
	echo "$c"
}

zblk_corpus_raw() {
	local c raw
	c=$(zblk_corpus)
	case "$c" in *.zst) ;; *) return 0 ;; esac
	[ -r "$c" ] || return 0
	raw=$ZBLK_GT_TOP/build/corpus/$(basename "$c" .zst)
	if [ ! -s "$raw" ] || [ "$c" -nt "$raw" ]; then
		mkdir -p "$(dirname "$raw")"
		(
			flock 9
			[ -s "$raw" ] && [ ! "$c" -nt "$raw" ] && exit 0
			zstd -q -dc "$c" >"$raw.tmp" && mv "$raw.tmp" "$raw"
		) 9>"$raw.lock" || { rm -f "$raw.tmp"; echo "cannot decompress $c" >&2; return 0; }
	fi
	echo "$raw"
}

zblk_test_opts() {
	local hdr c raw o prev=""
	hdr=$(sed -n '1,15s/^# guest-run:[[:space:]]*//p' "$1" | head -n1)
	[ -n "$hdr" ] || return 0
	if [[ $hdr == *@CORPUS@* ]]; then
		c=$(zblk_corpus)
		if [ ! -r "$c" ]; then
			echo "$(basename "$1") needs the corpus, and $c is missing (set ZBLK_CORPUS to anon-a.bin.zst)" >&2
			return 1
		fi
		raw=$(zblk_corpus_raw)
	fi
	for o in $hdr; do
		if [ "$o" = @CORPUS@ ]; then
			echo "$c"
			[ -z "$raw" ] || printf -- '--file\n%s\n' "$raw"
		elif [ "${prev:-}" = --file ] && [[ $o != /* ]]; then
			# a file of the tree, named from its top
			echo "$ZBLK_GT_TOP/$o"
		else
			echo "$o"
		fi
		prev=$o
	done
}
