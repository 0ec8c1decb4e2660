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
# shellcheck source=lib.sh
source "$root/bench/lib.sh"
runs=${1:-10}
bench_big_core
bench_goheap
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
	echo "goroutines -t:      $(bench_best "$goheap" --batch -ex 'goroutines -t' "${target[@]}") s (best of $runs)"
	echo "goroutines -group:  $(bench_best "$goheap" --batch -ex 'goroutines -group' "${target[@]}") s (best of $runs)"
fi
for cmd in 'goroutines -t' 'goroutines -group'; do
	echo "$cmd peak memory: $("$root/bench/peak_anon.py" "$goheap" --batch -ex "$cmd" "${target[@]}")"
done
