# bench-lib.sh: what the bench-*.sh scripts share (source it; bash 5).
#
# pairs N NAME_A NAME_B: runs the commands in the arrays A and B in turn, N
# times each after two warm-ups (A B A B …, so that both see the same
# machine), timing each run with $EPOCHREALTIME, and prints the median
# wall time of each, the median of the N ratios A/B, and the load average.
# A run's output is discarded; a run that exits non-zero is counted all the
# same, with a note on stderr (lsns exits 1 when a process vanishes under it).

# bench_tmp makes the directory $tmp, removed when the script exits.
bench_tmp() {
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
}

# bench_start makes $tmp, builds nslab there and prints the machine.
bench_start() {
	bench_tmp
	build_nslab "$tmp"
	machine
}

# median reads numbers, one a line, and prints their median.
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_us CMD... runs CMD once and prints its wall time in microseconds.
run_us() {
	local t0 t1
	t0=$EPOCHREALTIME
	if ! "$@" >/dev/null 2>&1; then
		echo "bench: note: '$*' exited non-zero once" >&2
	fi
	t1=$EPOCHREALTIME
	echo $(((${t1/./} - ${t0/./})))
}

pairs() {
	local n=$1 name_a=$2 name_b=$3 i a b ta=() tb=() tr=()
	for i in 1 2; do run_us "${A[@]}" >/dev/null && run_us "${B[@]}" >/dev/null || exit 1; done
	for ((i = 0; i < n; i++)); do
		a=$(run_us "${A[@]}") || exit 1
		b=$(run_us "${B[@]}") || exit 1
		ta+=("$a") tb+=("$b") tr+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f", a / b }')")
	done
	local ma mb mr
	ma=$(printf '%s\n' "${ta[@]}" | median)
	mb=$(printf '%s\n' "${tb[@]}" | median)
	mr=$(printf '%s\n' "${tr[@]}" | median)
	awk -v na="$name_a" -v nb="$name_b" -v a="$ma" -v b="$mb" -v r="$mr" -v n="$n" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" 'BEGIN {
		printf "%-34s median %7.2f ms   %-16s median %7.2f ms   ratio %.2f (median of %d pairs; load %s)\n", na, a / 1000, nb, b / 1000, r, n, load
	}'
}

# machine prints what the figures were measured on.
machine() {
	echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), Linux $(uname -r), $(go version | cut -d' ' -f3), UID $(id -u), load $(cut -d' ' -f1-3 /proc/loadavg)"
}

# build_nslab DIR builds nslab as README.md says, into DIR, and says how it is linked.
build_nslab() {
	CGO_ENABLED=0 go build -o "$1/nslab" ./cmd/nslab
	echo "nslab:   CGO_ENABLED=0 go build ($(go version -m "$1/nslab" | awk '$2 ~ /^CGO_ENABLED=/ { print $2 }'), $(file -b "$1/nslab" | grep -o 'statically linked\|dynamically linked'))"
}
