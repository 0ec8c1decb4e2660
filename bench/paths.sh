#!/usr/bin/env bash
# Usage: bench/paths.sh [N]
#
# The `paths` / `referrers` benchmark of docs/performance.md, on the large bench core
# (bench/make-core.sh), release build, warm page cache:
#  - in the engine (inspector-core/examples/paths_bench.rs): the heap graph, the parent tree
#    and the reverse index, each timed with its size, then `paths`, `paths -all 3` and
#    `referrers` timed on N reachable objects (default 200);
#  - through the CLI: wall time and peak anonymous memory (bench/peak_anon.py) of
#    `heapgraph` alone, and of `heapgraph` followed by `paths -all 3` and `referrers` of one
#    object (the difference is what the parent tree and the reverse index cost).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=lib.sh
source "$root/bench/lib.sh"
n=${1:-200}
bench_big_core
big=$core_dir
bench_goheap
(cd "$root" && cargo build --release -q -p inspector-core --example paths_bench)
cat "$big/core" >/dev/null # warm the page cache

echo "== engine: $big/core"
out=$("$root/target/release/examples/paths_bench" "$big/exe" "$big/core" "$n")
echo "$out"
addr=$(sed -n 's/^sample object: //p' <<<"$out")

echo "== CLI (object $addr)"
echo "heapgraph:                  $("$root/bench/peak_anon.py" "$goheap" --batch -ex heapgraph core "$big/exe" "$big/core")"
echo "+ paths -all 3 + referrers: $("$root/bench/peak_anon.py" "$goheap" --batch -ex heapgraph -ex "paths -all 3 $addr" -ex "referrers $addr" core "$big/exe" "$big/core")"
