#!/usr/bin/env bash
# bench-scale.sh: hold 1, 10, 100 and 1000 sandboxes at once (every kind of
# namespace), inspect each by inode, tear them down and check that nothing
# is left (BenchmarkSandboxes in pkg/cli), through nslab run's path and
# through unshare(1), the two in turn for each size, R rounds (default 3);
# prints the median time and memory per sandbox and the ratio.
#
# usage: scripts/bench-scale.sh [R] [SIZES]     (SIZES: default 1,10,100,1000)
# As root: the kernel's count of network namespaces is read from /proc/slabinfo.
set -euo pipefail
rounds=${1:-3}
sizes=${2:-1,10,100,1000}
cd "$(dirname "$0")/.."
source scripts/bench-lib.sh
bench_tmp
machine
echo "limits: user.max_user_namespaces $(cat /proc/sys/user/max_user_namespaces), user.max_net_namespaces $(cat /proc/sys/user/max_net_namespaces), kernel.pid_max $(cat /proc/sys/kernel/pid_max), ulimit -u $(ulimit -u)"
go test -c -o "$tmp/cli.test" ./pkg/cli
cd pkg/cli
for size in ${sizes//,/ }; do
	for ((r = 0; r < rounds; r++)); do
		for maker in fork unshare; do
			if ! NSLAB_BENCH_SCALE=$size "$tmp/cli.test" -test.run '^$' -test.bench "Sandboxes/$maker/" -test.benchtime 1x >"$tmp/out" 2>&1 ||
				grep -q -- '--- FAIL' "$tmp/out"; then
				echo "bench-scale: $maker n=$size failed:" >&2
				cat "$tmp/out" >&2
				exit 1
			fi
			awk -v m="$maker" -v n="$size" '/^BenchmarkSandboxes/ {
				for (i = 3; i < NF; i++) v[$(i + 1)] = $i
				print m, n, v["ns/sandbox"], v["start-ns/sandbox"], v["inspect-ns/sandbox"], v["teardown-ns/sandbox"], v["mem-KiB/sandbox"], v["netns-free-ms"], v["netns-left"], v["cpu-ns/sandbox"]
			}' "$tmp/out" >>"$tmp/results"
		done
	done
done
echo
printf '%-8s %6s %12s %10s %10s %10s %12s %12s %12s %10s\n' maker n "ms/sandbox" start inspect teardown "cpu-ms/sbx" "KiB/sandbox" "netns-free" "netns-left"
for size in ${sizes//,/ }; do
	for maker in fork unshare; do
		col() { awk -v m="$maker" -v n="$size" -v c="$1" '$1 == m && $2 == n { print $c }' "$tmp/results" | median; }
		printf '%-8s %6s %12.2f %10.2f %10.2f %10.2f %12.2f %12.0f %9.0f ms %10.0f\n' "$maker" "$size" \
			"$(col 3 | awk '{ print $1 / 1e6 }')" "$(col 4 | awk '{ print $1 / 1e6 }')" "$(col 5 | awk '{ print $1 / 1e6 }')" \
			"$(col 6 | awk '{ print $1 / 1e6 }')" "$(col 10 | awk '{ print $1 / 1e6 }')" "$(col 7)" "$(col 8)" "$(col 9)"
	done
	f=$(awk -v n="$size" '$1 == "fork" && $2 == n { print $3 }' "$tmp/results" | median)
	u=$(awk -v n="$size" '$1 == "unshare" && $2 == n { print $3 }' "$tmp/results" | median)
	fc=$(awk -v n="$size" '$1 == "fork" && $2 == n { print $10 }' "$tmp/results" | median)
	uc=$(awk -v n="$size" '$1 == "unshare" && $2 == n { print $10 }' "$tmp/results" | median)
	awk -v f="$f" -v u="$u" -v fc="$fc" -v uc="$uc" -v n="$size" 'BEGIN { printf "n=%s: throughput of nslab run'"'"'s path / unshare = %.2f by wall time, %.2f by CPU time (medians of the rounds)\n", n, u / f, uc / fc }'
done
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
