#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: scripts/make-cores.sh [--out DIR] [--jobs N] [VARIANT...]
#
# Builds the test programs (testdata/<program>) with each variant (default:
# GOHEAP_VARIANTS from lib.sh), runs them in each of their modes and makes
# DIR/<variant>/<program>-<mode>/{exe,core,sidecar.json,traceback.txt,meta.json}.
# DIR defaults to $GOHEAP_CORES, else $GOHEAP_CACHE/cores. Runs up to N
# variants at a time (default 2). Skips output directories newer than the
# program's sources, testdata/sidecar, lib.sh, corecheck.py and this script
# ("up to date").
# Exits non-zero, naming the variant, if any core could not be made.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
source "$here/lib.sh"

usage() {
	goheap_usage "$here/make-cores.sh"
	exit "${1:-0}"
}

out=${GOHEAP_CORES:-$GOHEAP_CACHE/cores}
jobs=2
variants=()
while (($#)); do
	case $1 in
	--out) out=${2:?--out needs a directory}; shift 2 ;;
	--out=*) out=${1#--out=}; shift ;;
	--jobs | -j) jobs=${2:?--jobs needs a number}; shift 2 ;;
	--jobs=*) jobs=${1#--jobs=}; shift ;;
	-h | --help) usage ;;
	-*) echo "make-cores.sh: unknown option $1" >&2; usage 2 >&2 ;;
	*) variants+=("$1"); shift ;;
	esac
done
[[ $jobs =~ ^[1-9][0-9]*$ ]] || goheap_die "--jobs must be a positive number"
((${#variants[@]})) || variants=("${GOHEAP_VARIANTS[@]}")
for v in "${variants[@]}"; do
	goheap_valid_variant "$v" || goheap_die "not a variant: '$v' (want e.g. go1.25.5 or go1.25.5-greenteagc)"
done

method=$(goheap_core_method)
goheap_check_core_method "$method"

# Toolchains.
versions=()
for v in "${variants[@]}"; do versions+=("$(goheap_variant_version "$v")"); done
mapfile -t versions < <(printf '%s\n' "${versions[@]}" | sort -u)
"$here/install-go.sh" "${versions[@]}"

mkdir -p "$out"
out=$(cd "$out" && pwd)

# up_to_date DEST PROGRAM: DEST is complete and newer than everything it is made from.
up_to_date() {
	local dest=$1 src=$GOHEAP_ROOT/testdata/$2 f
	for f in exe core sidecar.json traceback.txt meta.json; do
		[[ -f $dest/$f ]] || return 1
	done
	grep -q "\"core_method\":\"$method\"" "$dest/meta.json" || return 1
	for f in "$src"/*.go "$src/go.mod" "$GOHEAP_ROOT"/testdata/sidecar/*.go "$here/lib.sh" "$here/make-cores.sh" "$here/corecheck.py"; do
		[[ $dest/meta.json -nt $f ]] || return 1
	done
}

# make_variant VARIANT: all programs and modes of one variant.
make_variant() {
	local variant=$1 program mode dest exe build t summary gover
	gover=go$(goheap_variant_version "$variant")
	for program in "${GOHEAP_PROGRAMS[@]}"; do
		local todo=()
		for mode in $(goheap_program_modes "$program"); do
			dest=$out/$variant/$program-$mode
			if up_to_date "$dest" "$program"; then
				echo "$variant $program-$mode: up to date"
			else
				todo+=("$mode")
			fi
		done
		((${#todo[@]})) || continue

		mkdir -p "$out/$variant"
		build=$(mktemp -d "$out/$variant/.build-$program.XXXXXX")
		exe=$build/$program
		t=$(_goheap_ns)
		if ! goheap_build "$variant" "$GOHEAP_ROOT/testdata/$program" "$exe" >"$build/log" 2>&1; then
			cat "$build/log" >&2
			echo "$variant $program: build FAILED (GOEXPERIMENT='$(goheap_variant_goexperiment "$variant")'," \
				"buildmode $(goheap_variant_buildmode "$variant"))" >&2
			rm -rf "$build"
			return 1
		fi
		echo "$variant $program: built in $(goheap_elapsed "$t")s"

		for mode in "${todo[@]}"; do
			dest=$out/$variant/$program-$mode
			rm -rf "$dest"
			mkdir -p "$dest"
			ln -f "$exe" "$dest/exe" 2>/dev/null || cp -f "$exe" "$dest/exe"
			t=$(_goheap_ns)
			if ! summary=$(goheap_run_core "$dest/exe" "$dest" "$program" "$mode" "$method" "$gover"); then
				echo "$variant $program-$mode: FAILED to make a core in $dest" >&2
				rm -rf "$build"
				return 1
			fi
			goheap_write_meta "$dest" "$variant" "$method"
			echo "$variant $program-$mode: $method core in $(goheap_elapsed "$t")s," \
				"$(goheap_size "$dest/core"); $summary"
		done
		rm -rf "$build"
	done
}

echo "make-cores: ${#variants[@]} variants into $out, $method cores, $jobs jobs"
start=$(_goheap_ns)
status_dir=$(mktemp -d)
trap 'rm -rf "$status_dir"' EXIT
trap 'kill $(jobs -pr) 2>/dev/null; exit 130' INT TERM
for v in "${variants[@]}"; do
	while (($(jobs -pr | wc -l) >= jobs)); do
		wait -n || true
	done
	(
		set +e
		(
			set -e
			make_variant "$v"
		)
		echo $? >"$status_dir/$v"
	) &
done
wait

failed=()
for v in "${variants[@]}"; do
	[[ $(cat "$status_dir/$v" 2>/dev/null) == 0 ]] || failed+=("$v")
done
if ((${#failed[@]})); then
	echo "make-cores: FAILED for variant(s): ${failed[*]}" >&2
	exit 1
fi
echo "make-cores: all ${#variants[@]} variants done in $(goheap_elapsed "$start")s;" \
	"cores: $(du -sh --apparent-size "$out" | cut -f1) apparent, $(du -sh "$out" | cut -f1) on disk"
