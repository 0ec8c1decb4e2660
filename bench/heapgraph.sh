#!/usr/bin/env bash
# Usage: bench/heapgraph.sh [RUNS]
#
# The heap-graph benchmark of docs/performance.md: on the large bench core
# (bench/make-core.sh), times `goheap histogram` (roots, marking and types from scratch, the
# core opened and walked first) against reading the core once (`cat core > /dev/null`, warm
# page cache), best of RUNS (default 3); prints the phases goheap reports (`heapgraph --json`:
# roots_ms, mark_ms, types_ms, best run) and the peak anonymous memory of `histogram` (beyond
# the mapped files). The goal (issue 5): at most five times the read, under 400 MB.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$root/bench/lib.sh"
runs=${1:-3}
bench_big_core
bench_goheap
args=(core "$core_dir/exe" "$core_dir/core")

cat "$core_dir/core" >/dev/null # warm the page cache
size=$(du -h --apparent-size "$core_dir/core" | cut -f1)
read_s=$(bench_best cat "$core_dir/core")
open_s=$(bench_best "$goheap" --batch -ex 'spans -summary' "${args[@]}")
histo_s=$(bench_best "$goheap" --batch -ex 'histogram -top 20' "${args[@]}")
phases=$(for _ in $(seq "$runs"); do
	"$goheap" --batch --json -ex heapgraph "${args[@]}" |
		python3 -c 'import json,sys; d=json.loads(sys.stdin.readline())["data"]; print(d["roots_ms"]+d["mark_ms"]+d["types_ms"], d["roots_ms"], d["mark_ms"], d["types_ms"], d["reachable_objects"], d["garbage_objects"])'
done | sort -n | head -n1)
read -r total_ms roots_ms mark_ms types_ms reachable garbage <<<"$phases"
mem=$("$root/bench/peak_anon.py" "$goheap" --batch -ex 'histogram -top 20' "${args[@]}")
echo "core: $core_dir/core ($size; $reachable reachable objects, $garbage garbage)"
echo "cat core > /dev/null (warm):            ${read_s} s"
echo "goheap open + heap walk (spans):        ${open_s} s"
echo "goheap histogram (open, walk, graph):   ${histo_s} s"
echo "  graph phases (best run): roots ${roots_ms} ms, mark ${mark_ms} ms, types ${types_ms} ms = ${total_ms} ms"
echo "goheap histogram peak memory:           $mem"
