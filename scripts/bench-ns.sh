#!/usr/bin/env bash
# bench-ns.sh: nslab ns --all against lsns(8), and --json against lsns -J,
# side by side (N pairs, default 50), after checking that both list the
# same namespaces (NS and TYPE; the process counts move with the machine).
#
# usage: scripts/bench-ns.sh [N]
set -euo pipefail
n=${1:-50}
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_start
echo "processes: $(ls -d /proc/[0-9]* | wc -l)"
"$tmp/nslab" ns --all | awk 'NR > 1 { print $1, $2 }' | sort >"$tmp/nslab.rows"
lsns -n -o NS,TYPE | awk '{ print $1, $2 }' | sort >"$tmp/lsns.rows"
if ! diff "$tmp/lsns.rows" "$tmp/nslab.rows" >"$tmp/diff"; then
	echo "rows: nslab ns --all and lsns differ (a namespace made or gone between the two?):"
	cat "$tmp/diff"
else
	echo "rows: the same $(wc -l <"$tmp/nslab.rows") namespaces (NS, TYPE) in nslab ns --all and lsns"
fi

A=("$tmp/nslab" ns --all) B=(lsns)
pairs "$n" "nslab ns --all" lsns
A=("$tmp/nslab" ns --all --json) B=(lsns -J)
pairs "$n" "nslab ns --all --json" "lsns -J"
