#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: bench/make-core.sh [--force]
#
# Builds bench/bigheap with go1.27.3 (or $GOHEAP_BENCH_VARIANT), runs it and
# makes $GOHEAP_CACHE/bench/bigheap/{exe,core,sidecar.json,traceback.txt,
# meta.json}: a core of a ~2 GB heap with ~15 million objects and 10 000
# goroutines. Needs about 5 GB of RAM and 3 GB of disk; takes ~30 s on
# 2 cores. Skipped if up to date (outputs newer than the sources, this
# script, scripts/lib.sh and scripts/corecheck.py) unless --force.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"

force=0
case ${1:-} in
"") ;;
--force) force=1 ;;
-h | --help) goheap_usage "$0"; exit 0 ;;
*) goheap_die "unknown argument: $1" ;;
esac

variant=${GOHEAP_BENCH_VARIANT:-go1.27.3}
goheap_valid_variant "$variant" || goheap_die "not a variant: $variant"
src=$root/bench/bigheap
out=$GOHEAP_CACHE/bench/bigheap
method=$(goheap_core_method)
goheap_check_core_method "$method"
"$root/scripts/install-go.sh" "$(goheap_variant_version "$variant")"

up_to_date() {
	local f
	for f in exe core sidecar.json traceback.txt meta.json; do
		[[ -f $out/$f ]] || return 1
	done
	grep -q "\"variant\":\"$variant\",.*\"core_method\":\"$method\"" "$out/meta.json" || return 1
	for f in "$src"/*.go "$src/go.mod" "$root"/testdata/sidecar/*.go "$root/bench/make-core.sh" "$root/scripts/lib.sh" "$root/scripts/corecheck.py"; do
		[[ $out/meta.json -nt $f ]] || return 1
	done
}
if ((!force)) && up_to_date; then
	echo "bench bigheap ($variant): up to date in $out"
	exit 0
fi

rm -rf "$out"
mkdir -p "$out"
avail_kb=$(df -Pk "$out" | awk 'NR==2 {print $4}')
((avail_kb > 4 * 1024 * 1024)) || goheap_die "need at least 4 GB free in $out (have $((avail_kb / 1024)) MB)"

t=$(_goheap_ns)
goheap_build "$variant" "$src" "$out/exe" >"$out/build.log" 2>&1 || {
	cat "$out/build.log" >&2
	goheap_die "building bigheap with $variant failed"
}
rm -f "$out/build.log"
echo "bench bigheap ($variant): built in $(goheap_elapsed "$t")s"

t=$(_goheap_ns)
summary=$(goheap_run_core "$out/exe" "$out" bigheap flushed "$method" "go$(goheap_variant_version "$variant")") ||
	goheap_die "bigheap ($variant): no valid core was made in $out"
goheap_write_meta "$out" "$variant" "$method"
echo "bench bigheap ($variant): $method core in $(goheap_elapsed "$t")s, $(goheap_size "$out/core"); $summary"
echo "bench bigheap: $(head -n1 "$out/traceback.txt")"
