#!/usr/bin/env bash
# Usage: bench/heap.sh [RUNS]
#
# The heap benchmark of docs/performance.md: on the large bench core (bench/make-core.sh),
# times `goheap overview` + `spans -summary` against reading the core once
# (`cat core > /dev/null`, warm page cache: the physical floor), best of RUNS (default 5),
# and reports goheap's peak anonymous memory (beyond the mapped files).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$root/bench/lib.sh"
runs=${1:-5}
bench_big_core
bench_goheap

cat "$core_dir/core" >/dev/null # warm the page cache
size=$(du -h --apparent-size "$core_dir/core" | cut -f1)
read_s=$(bench_best cat "$core_dir/core")
heap_s=$(bench_best "$goheap" --batch -ex overview -ex 'spans -summary' core "$core_dir/exe" "$core_dir/core")
mem=$("$root/bench/peak_anon.py" "$goheap" --batch -ex overview -ex 'spans -summary' core "$core_dir/exe" "$core_dir/core")
objects=$("$goheap" --batch --json -ex overview core "$core_dir/exe" "$core_dir/core" |
	python3 -c 'import json,sys; d=json.loads(sys.stdin.readline())["data"]; print([r["walk"] for r in d["counters"] if r["name"]=="HeapObjects"][0])')
echo "core: $core_dir/core ($size, $objects objects)"
echo "cat core > /dev/null (warm):          ${read_s} s"
echo "goheap overview + spans -summary:     ${heap_s} s"
echo "goheap peak memory:                   $mem"
