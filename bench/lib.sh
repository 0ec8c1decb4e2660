# shellcheck shell=bash
# What the benchmarks share. Source it after setting `root` (the repository):
#   bench_big_core      sets core_dir (the large bench core, made by bench/make-core.sh) or dies
#   bench_goheap        builds the release goheap and sets goheap
#   bench_best CMD...   the best wall time in seconds of CMD over $runs runs (stdout discarded)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"

bench_big_core() {
	core_dir=$GOHEAP_CACHE/bench/bigheap
	[[ -f $core_dir/core ]] || goheap_die "no bench core at $core_dir (run bench/make-core.sh)"
}

bench_goheap() {
	(cd "$root" && cargo build --release -q -p inspector-repl)
	goheap=$root/target/release/goheap
}

bench_best() {
	local best=999 t
	for _ in $(seq "$runs"); do
		t=$( { /usr/bin/env time -f %e "$@" >/dev/null; } 2>&1 | tail -n1)
		best=$(echo "$t $best" | awk '{print ($1 < $2) ? $1 : $2}')
	done
	echo "$best"
}
