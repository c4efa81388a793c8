#!/usr/bin/env bash
# bench-run.sh: how long does a start in six new namespaces take, with
# unshare(1) and with `nslab run`? Both run `true` N times in one run, so that
# they share the machine's state; prints the mean per start, the ratio, and the
# peak RSS of one start of each.
#
# usage: scripts/bench-run.sh [N]      (N defaults to 200)
# Uses hyperfine when installed (apt-get install -y hyperfine), else a bash loop.
set -euo pipefail

n=${1:-200}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/nslab" ./cmd/nslab
unshare_cmd="unshare --fork --pid --mount --uts --ipc --net --user --map-root-user true"
nslab_cmd="$tmp/nslab run --pid --mount --uts --ipc --net --user --map-root -- true"

# Both must work here before either is timed.
for cmd in "$unshare_cmd" "$nslab_cmd"; do
	if ! $cmd; then
		echo "bench-run: '$cmd' fails here; see docs/troubleshooting.md#eperm" >&2
		exit 1
	fi
done

echo "machine: $(nproc) CPUs, Linux $(uname -r), $(go version | cut -d' ' -f3), UID $(id -u)"
echo "runs:    $n of each"

# mean_ns CMD... prints the mean wall time of one run of CMD, in nanoseconds.
mean_ns() {
	local start end i
	start=$(date +%s%N)
	for ((i = 0; i < n; i++)); do "$@" >/dev/null; done
	end=$(date +%s%N)
	echo $(((end - start) / n))
}

if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 10 --runs "$n" --export-csv "$tmp/times.csv" \
		-n unshare "$unshare_cmd" -n "nslab run" "$nslab_cmd"
	# CSV columns: command,mean,stddev,median,… in seconds. On a busy machine
	# the median is steadier than the mean; both are printed.
	u=$(awk -F, '$1 == "unshare" { printf "%d", $2 * 1e9 }' "$tmp/times.csv")
	s=$(awk -F, '$1 == "nslab run" { printf "%d", $2 * 1e9 }' "$tmp/times.csv")
	awk -F, '$1 == "unshare" { u = $4 } $1 == "nslab run" { s = $4 } END {
		printf "median per start: unshare %.2f ms, nslab run %.2f ms, ratio nslab/unshare %.2f\n", u * 1e3, s * 1e3, s / u
	}' "$tmp/times.csv" >"$tmp/median"
else
	echo "(hyperfine not installed: timing with a bash loop and date +%s%N)"
	u=$(mean_ns $unshare_cmd)
	s=$(mean_ns $nslab_cmd)
fi

echo
awk -v u="$u" -v s="$s" 'BEGIN {
	printf "mean per start: unshare %.2f ms, nslab run %.2f ms, ratio nslab/unshare %.2f\n", u / 1e6, s / 1e6, s / u
}'
[ -f "$tmp/median" ] && cat "$tmp/median"

if [ -x /usr/bin/time ]; then
	for cmd in "$unshare_cmd" "$nslab_cmd"; do
		rss=$(/usr/bin/time -v $cmd 2>&1 >/dev/null | awk -F': ' '/Maximum resident/ { print $2 }')
		echo "peak RSS: ${rss} KiB  ${cmd/#$tmp\//}"
	done
else
	echo "peak RSS: skipped (no /usr/bin/time)"
fi
