#!/usr/bin/env bash
# bench-run.sh: how long does a start in six new namespaces take, with
# unshare(1) and with nslab run (under its init, the default, and without)?
# Each pair of commands runs in turn, N times (default 100), and the median
# of the pairs' ratios is printed: on a shared machine, ratios of runs made
# side by side are what to trust (docs/performance.md).
#
# usage: scripts/bench-run.sh [N]
set -euo pipefail
n=${1:-100}
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_start
unshare=(unshare --fork --pid --mount --uts --ipc --net --user --map-root-user true)
for cmd in "${unshare[*]}" "$tmp/nslab run --uts --ipc --mount --pid --net --user --map-root -- true"; do
	if ! $cmd; then
		echo "bench-run: '$cmd' fails here; see docs/troubleshooting.md#eperm" >&2
		exit 1
	fi
done

B=("${unshare[@]}")
A=("$tmp/nslab" run --uts --ipc --mount --pid --net --user --map-root -- true)
pairs "$n" "nslab run (six kinds, init)" unshare
A=("$tmp/nslab" run --uts --ipc --mount --pid --net --user --map-root --init=false -- true)
pairs "$n" "nslab run --init=false" unshare
A=("$tmp/nslab" run -- true) B=(/usr/bin/true)
pairs "$n" "nslab run -- true (no namespace)" "true"

# The floor under every figure above: what starting a Go program costs
# before it does anything (an empty main), and nslab's own start-up (its
# packages' initialisation, a larger binary to fault in), each against true.
mkdir "$tmp/empty"
printf 'package main\n\nfunc main() {}\n' >"$tmp/empty/main.go"
(cd "$tmp/empty" && go mod init empty >/dev/null 2>&1 && CGO_ENABLED=0 go build -o ../empty-go .)
A=("$tmp/empty-go") B=(/usr/bin/true)
pairs "$n" "an empty Go program" "true"
A=("$tmp/nslab" version) B=(/usr/bin/true)
pairs "$n" "nslab version" "true"

if [ -x /usr/bin/time ]; then
	for cmd in "${unshare[*]}" "$tmp/nslab run --uts --ipc --mount --pid --net --user --map-root -- true"; do
		rss=$(/usr/bin/time -v $cmd 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ { print $2 }')
		echo "peak RSS: ${rss} KiB  ${cmd/#$tmp\//}"
	done
fi
