#!/usr/bin/env bash
# bench-labs.sh [N] [REV] [LABS]: the graded tests of LABS (default: the six
# labs that existed before the lab host) as this checkout has them, against
# the same at REV (default 352151d, the commit before the lab host): each
# lab's test binary is built once, then the set runs two binaries at a time,
# as `go test ./...` runs packages on 2 CPUs, N times in alternating pairs
# (default 10). Prints the median of each and the median ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
n=${1:-10}
rev=${2:-352151d}
labs=${3:-"uts ipc mount pid network user"}
bench_tmp
machine
git worktree add -q --detach "$tmp/old" "$rev"
trap 'git worktree remove --force "$tmp/old"; rm -rf "$tmp"' EXIT
for l in $labs; do
	go test -c -o "$tmp/new-$l.test" "./labs/$l"
	(cd "$tmp/old" && go test -c -o "$tmp/old-$l.test" "./labs/$l")
done
# set WHICH SRC: the labs' binaries WHICH, two at a time, each from its package directory.
cat >"$tmp/set" <<'SET'
#!/bin/sh
tmp=$1 which=$2 src=$3
shift 3
printf '%s\n' "$@" | xargs -P2 -I{} sh -c "cd $src/labs/{} && $tmp/$which-{}.test -test.count=1 >/dev/null 2>&1"
SET
chmod +x "$tmp/set"
A=("$tmp/set" "$tmp" new "$PWD" $labs)
B=("$tmp/set" "$tmp" old "$tmp/old" $labs)
pairs "$n" "labs now ($(git rev-parse --short HEAD)+)" "labs at $rev"
