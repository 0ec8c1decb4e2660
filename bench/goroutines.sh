#!/usr/bin/env bash
# Usage: bench/goroutines.sh [RUNS]
#
# The goroutine benchmark of docs/performance.md: on the large bench core
# (bench/make-core.sh, 10 000 goroutines), times `goheap goroutines -t` (every
# goroutine with its full backtrace) and `goheap goroutines -group`, output to
# /dev/null, with hyperfine when it is installed (RUNS runs, default 10, after
# 2 warm-ups), else the best of RUNS runs of /usr/bin/time. Also reports the
# peak anonymous memory.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
runs=${1:-10}
core_dir=$GOHEAP_CACHE/bench/bigheap
[[ -f $core_dir/core ]] || goheap_die "no bench core at $core_dir (run bench/make-core.sh)"
(cd "$root" && cargo build --release -q -p inspector-repl)
goheap=$root/target/release/goheap
target=(core "$core_dir/exe" "$core_dir/core")

cat "$core_dir/core" >/dev/null # warm the page cache
count=$("$goheap" --batch --json -ex goroutines "${target[@]}" |
	python3 -c 'import json,sys; print(len(json.loads(sys.stdin.readline())["data"]))')
frames=$("$goheap" --batch --json -ex goroutines "${target[@]}" |
	python3 -c 'import json,sys; print(sum(len(g["frames"]) for g in json.loads(sys.stdin.readline())["data"]))')
echo "core: $core_dir/core ($count goroutines, $frames frames)"
if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 2 --runs "$runs" --output=null \
		"$goheap --batch -ex 'goroutines -t' ${target[*]}" \
		"$goheap --batch -ex 'goroutines -group' ${target[*]}"
else
	best() {
		local best=999 t
		for _ in $(seq "$runs"); do
			t=$( { /usr/bin/env time -f %e "$@" >/dev/null; } 2>&1 | tail -n1)
			best=$(echo "$t $best" | awk '{print ($1 < $2) ? $1 : $2}')
		done
		echo "$best"
	}
	echo "goroutines -t:      $(best "$goheap" --batch -ex 'goroutines -t' "${target[@]}") s (best of $runs)"
	echo "goroutines -group:  $(best "$goheap" --batch -ex 'goroutines -group' "${target[@]}") s (best of $runs)"
fi
for cmd in 'goroutines -t' 'goroutines -group'; do
	echo "$cmd peak memory: $("$root/bench/peak_anon.py" "$goheap" --batch -ex "$cmd" "${target[@]}")"
done
