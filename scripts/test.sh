#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: scripts/test.sh
#
# goheap's full test: installs what is missing (Debian packages, Go
# toolchains), makes the test cores, then runs cargo fmt --check, clippy
# and cargo test with GOHEAP_CORES pointing at the cores (and
# GOHEAP_REQUIRE_CORES=1, so tests fail rather than skip without them).
# Works from a fresh machine; run from anywhere (it cds to the repo root).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=lib.sh
source scripts/lib.sh

step() { printf '\n==> %s\n' "$*"; }

step "Debian packages"
missing=()
command -v gdb >/dev/null || missing+=(gdb)              # gcore, when the kernel cannot write cores
command -v python3 >/dev/null || missing+=(python3)      # pip (Go toolchains) and scripts/corecheck.py
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}"
	sudo=()
	((EUID == 0)) || sudo=(sudo)
	export DEBIAN_FRONTEND=noninteractive
	"${sudo[@]}" apt-get update -qq
	"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
else
	echo "all present"
fi

step "Go toolchains (scripts/install-go.sh)"
scripts/install-go.sh

step "Test cores (scripts/make-cores.sh)"
export GOHEAP_CORES=${GOHEAP_CORES:-$GOHEAP_CACHE/cores}
export GOHEAP_REQUIRE_CORES=1 # the core-matrix tests must not skip for want of cores
scripts/make-cores.sh --out "$GOHEAP_CORES"

step "cargo fmt --all -- --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo test --workspace --all-targets (GOHEAP_CORES=$GOHEAP_CORES)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets 2>&1 | tee "$log"
# One closing line for the whole run, summed over every test binary.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
	END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
