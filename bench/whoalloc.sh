#!/usr/bin/env bash
# Usage: bench/whoalloc.sh [N]
#
# The whoalloc and profile benchmark of docs/performance.md (release builds, warm page cache):
#  - on the large bench core (bench/make-core.sh): `whoalloc` on 2N addresses (a slot and an
#    interior pointer in N pseudo-random in-use spans; default N 1000), timed one by one after
#    the core is open (inspector-core/examples/whoalloc_bench.rs), and `profile -o`;
#  - on a core with a big memory profile (bench/memprof: MemProfileRate 1, 262 144 buckets of
#    ~40-frame stacks; made here once into $GOHEAP_CACHE/bench/memprof): the same, where
#    `profile -o` has real work to do.
# Also times the whole `goheap --batch -ex 'profile -o FILE'` command (open included).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../scripts/lib.sh
source "$root/scripts/lib.sh"
n=${1:-1000}
big=$GOHEAP_CACHE/bench/bigheap
[[ -f $big/core ]] || goheap_die "no bench core at $big (run bench/make-core.sh)"

# The memory-profile core.
mp=$GOHEAP_CACHE/bench/memprof
if [[ ! -f $mp/core || $mp/core -ot $root/bench/memprof/main.go ]]; then
	"$root/scripts/install-go.sh" 1.27.3 >/dev/null
	mkdir -p "$mp"
	rm -f "$mp"/core*
	goheap_build go1.27.3 "$root/bench/memprof" "$mp/exe"
	(
		cd "$mp"
		ulimit -c unlimited
		env -u GODEBUG -u GOGC GOTRACEBACK=crash ./exe 2>traceback.txt || true
	) 2>/dev/null
	c=$(find "$mp" -maxdepth 1 -name 'core*' -newer "$mp/exe" | head -n1)
	[[ -n $c ]] || goheap_die "bench/memprof did not dump a core in $mp (core_pattern: $(cat /proc/sys/kernel/core_pattern))"
	[[ $c == "$mp/core" ]] || mv -f "$c" "$mp/core"
fi

(cd "$root" && cargo build --release -q -p inspector-repl && cargo build --release -q -p inspector-core --example whoalloc_bench)
bench=$root/target/release/examples/whoalloc_bench
goheap=$root/target/release/goheap
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

best3() { # best wall time in seconds of "$@" over 3 runs
	local best=999 t
	for _ in 1 2 3; do
		t=$( { /usr/bin/env time -f %e "$@" >/dev/null; } 2>&1 | tail -n1)
		best=$(echo "$t $best" | awk '{print ($1 < $2) ? $1 : $2}')
	done
	echo "$best"
}

for dir in "$big" "$mp"; do
	cat "$dir/core" >/dev/null # warm the page cache
	echo "== $dir/core ($(du -h --apparent-size "$dir/core" | cut -f1))"
	WHOALLOC_BENCH_ADDRS=$out/addrs "$bench" "$dir/exe" "$dir/core" "$n"
	# Through the CLI, text output rendered (field view, hex dump, ...): 200 commands and 1.
	# -nograph: without the heap graph (reachability, learned type, referrers), which the
	# first plain whoalloc of a session builds (timed once below; bench/heapgraph.sh and
	# bench/paths.sh time its parts).
	head -n 200 "$out/addrs" | sed 's/^/whoalloc -nograph /' >"$out/cmds"
	head -n 1 "$out/cmds" >"$out/cmd1"
	t1=$(best3 "$goheap" --batch -x "$out/cmd1" core "$dir/exe" "$dir/core")
	t200=$(best3 "$goheap" --batch -x "$out/cmds" core "$dir/exe" "$dir/core")
	echo "goheap --batch with 1 whoalloc -nograph: ${t1} s; with 200: ${t200} s (open included, best of 3)"
	head -n 1 "$out/addrs" | sed 's/^/whoalloc /' >"$out/cmdg"
	tg=$( { /usr/bin/env time -f %e "$goheap" --batch -x "$out/cmdg" core "$dir/exe" "$dir/core" >/dev/null; } 2>&1 | tail -n1)
	echo "goheap --batch with 1 whoalloc (builds the heap graph and referrers): ${tg} s (one run)"
	t=$(best3 "$goheap" --batch -ex "profile -o $out/p.pb.gz" core "$dir/exe" "$dir/core")
	echo "goheap --batch -ex 'profile -o FILE': ${t} s (open included, best of 3)"
done
