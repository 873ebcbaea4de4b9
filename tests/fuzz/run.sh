#!/bin/sh
# run.sh FUZZDIR SECONDS [NAME...] - runs libFuzzer targets one after another.
#
# Each FUZZDIR/fuzz_<name> (every one there when no NAME is given) runs for
# SECONDS with its corpus in FUZZDIR/corpus/<name> (seeded read-only from
# tests/fuzz/corpus/<name>/ when that exists). One line per target:
#   fuzz cmdline    ok    1843211 runs  10s  cov 412  corpus 380
# A crash, leak, sanitizer report or timeout fails the target: its log is
# FUZZDIR/log/<name>.log and the input FUZZDIR/artifacts/<name>-*. The exit
# status is non-zero when any target failed. Extra libFuzzer flags can be
# passed in FUZZ_FLAGS.
set -u

dir=${1:?usage: run.sh FUZZDIR SECONDS [NAME...]}
secs=${2:?usage: run.sh FUZZDIR SECONDS [NAME...]}
shift 2
seeds=$(dirname "$0")/corpus

if [ $# -eq 0 ]; then
	for b in "$dir"/fuzz_*; do
		[ -x "$b" ] && set -- "$@" "${b##*/fuzz_}"
	done
fi
if [ $# -eq 0 ]; then
	echo "fuzz: no targets in $dir" >&2
	exit 1
fi

mkdir -p "$dir/log" "$dir/artifacts"
failed=0
for name in "$@"; do
	bin=$dir/fuzz_$name
	log=$dir/log/$name.log
	corpus=$dir/corpus/$name
	mkdir -p "$corpus"
	if [ ! -x "$bin" ]; then
		printf 'fuzz %-12s FAIL  no binary %s\n' "$name" "$bin"
		failed=1
		continue
	fi
	seed=
	[ -d "$seeds/$name" ] && seed=$seeds/$name
	# stderr of the target (its klog lines) is closed; libFuzzer and the
	# sanitizers keep reporting on their own copy of it.
	# shellcheck disable=SC2086
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$dir/artifacts/$name-" ${FUZZ_FLAGS:-} \
		"$corpus" ${seed:+"$seed"} >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	files=$(find "$corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		printf 'fuzz %-12s ok   %10s runs  %ss  cov %s  corpus %s\n' \
			"$name" "${runs:-?}" "$secs" "${cov:-?}" "$files"
	else
		crash=$(ls -t "$dir/artifacts/$name-"* 2>/dev/null | head -n 1)
		why=$(grep -m 1 'runtime error:' "$log" || grep -m 1 '^SUMMARY: ' "$log")
		why=$(printf '%s' "$why" | sed 's/^SUMMARY: //' | cut -c 1-160)
		printf 'fuzz %-12s FAIL  %s  (exit %s; log %s; input %s)\n' \
			"$name" "${why:-see log}" "$rc" "$log" "${crash:-none}"
		failed=1
	fi
done
exit $failed
