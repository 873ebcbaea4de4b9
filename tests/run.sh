#!/bin/sh
# run.sh - runs Kiln's whole test suite (what `make test` calls, after
# make has built everything it runs) and ends with one summary line,
# "N passed, N failed, N skipped". The stages, in order:
#   1. hosted unit tests (cmocka, ASan/UBSan): every test binary built
#      from tests/unit/test_*.c, and the TCP simulation (tests/sim)
#   1b. TLS 1.3: the engine on Linux sockets against openssl s_client,
#      curl and gnutls-cli over loopback, and certbake's refusals (tests/tls)
#   2. in-guest self-tests and expected faults on microvm and q35
#   3. the tap-hosted runner against Linux (tests/hosted)
#   4. the native runner over loopback (tests/native)
#   5. HTTP: apps/webserver in QEMU and natively - conformance, curl,
#      wrk, headless Chromium (tests/http)
#   6. end-to-end: apps/echo in QEMU and the tap-hosted runner against
#      Linux over TAP (tests/e2e)
#   7. hostile clients against apps/webserver in QEMU over TAP:
#      out-of-order segments, zero windows, SYN flood, forged ICMP,
#      slowloris, connection exhaustion (tests/hostile)
#   8. fuzz smoke runs of every libFuzzer target
#   9. the benchmark harness in smoke mode (it completes and Kiln
#      answers every workload; its speed is not judged)
# Each suite prints its own "NAME: N passed, N failed, N skipped" line;
# a suite that prints none counts as a failure. A check that cannot run
# here (no root, no /dev/net/tun) is skipped and counted as skipped; a
# helper or binary that did not build is a failure, never a skip.
set -u
BUILD=${BUILD:-build}
ARCH=${ARCH:-x86_64}
pass=0
fail=0
skip=0
failed_suites=""

add() { pass=$((pass + $1)); fail=$((fail + $2)); [ "$2" -gt 0 ] && failed_suites="$failed_suites $3"; }
# counted NAME OUTPUT: adds the suite's own "NAME: N passed, N failed,
# N skipped" line from OUTPUT; a suite that printed none counts as one
# failure.
counted() {
	g=$(echo "$2" | sed -n "s/^$1: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped\$/\1 \2 \3/p")
	if [ -z "$g" ]; then
		add 0 1 "$1"
		return 1
	fi
	set -- "$1" $g
	add "$2" "$3" "$1"
	skip=$((skip + $4))
}

echo "== hosted unit tests"
for t in "$BUILD"/hosted/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$("$t" 2>&1)
	rc=$?
	p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test(s)\./\1/p' | tail -n 1)
	f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s), listed below:/\1/p' | tail -n 1)
	p=${p:-0}
	f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1   # crashed or sanitizer report: count the program as one failure
	fi
	if [ "$f" -gt 0 ]; then
		echo "$out" | tail -n 30 | sed 's/^/    | /'
	fi
	echo "$name: $p passed, $f failed"
	add "$p" "$f" "$name"
done

echo "== TLS 1.3 against real clients (tests/tls)"
out=$(BUILD=$BUILD tests/tls/run.sh 2>&1)
echo "$out" | grep -E '^(ok|FAIL|SKIP)|^    \|' | sed 's/^/  /'
counted tls "$out" && echo "$out" | grep '^tls: '

echo "== in-guest self-tests"
out=$(tests/guest/run.sh "$BUILD/$ARCH/selftest.elf")
echo "$out"
g=$(echo "$out" | sed -n 's/^guest: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
if [ -n "$g" ]; then
	add ${g% *} ${g#* } guest
else
	add 0 1 guest
fi

echo "== tap-hosted runner against Linux"
out=$(BUILD=$BUILD tests/hosted/run.sh 2>&1)
echo "$out" | grep -E '^(ok|FAIL|SKIP|skip)' | sed 's/^/  /'
counted tap "$out"

echo "== native runner over loopback"
out=$(BUILD=$BUILD tests/native/run.sh 2>&1)
echo "$out" | grep -E '^(PASS|FAIL|SKIP)|^    \|' | sed 's/^/  /'
counted native "$out"

echo "== HTTP: apps/webserver in QEMU (conformance, curl, wrk, Chromium)"
out=$(BUILD=$BUILD ARCH=$ARCH tests/http/run.sh 2>&1)
echo "$out" | grep -E '^(ok|FAIL|SKIP|  screenshot)' | sed 's/^/  /'
counted http "$out"

# End-to-end: apps/echo in QEMU (q35, microvm) and in the tap-hosted
# runner, against Linux over TAP (tests/e2e/run.sh; every check is
# skipped, with the reason, without root or /dev/net/tun).
echo "== end-to-end: apps/echo against Linux over TAP (tests/e2e)"
out=$(BUILD=$BUILD ARCH=$ARCH tests/e2e/run.sh "$BUILD/$ARCH/echo.elf" 2>&1)
echo "$out" | grep -E '^(PASS|FAIL|SKIP|==|     )|^    \|' | sed 's/^/  /'
counted e2e "$out" && echo "$out" | grep '^e2e: '

# Hostile clients: for each attack, a normal client's rate during it must
# stay at half its rate before, and buffers in use must come back after
# it (tests/hostile/run.sh; skipped, with the reason, without root or
# /dev/net/tun).
echo "== hostile clients against apps/webserver over TAP (tests/hostile)"
out=$(BUILD=$BUILD ARCH=$ARCH tests/hostile/run.sh 2>&1)
echo "$out" | grep -E '^(ok|FAIL|SKIP|  [a-z])|^    \|' | sed 's/^/  /'
counted hostile "$out" && echo "$out" | grep '^hostile: '

if ! ls "$BUILD"/fuzz/fuzz_* >/dev/null 2>&1; then
	echo "== fuzz smoke: FAIL no fuzz targets in $BUILD/fuzz (make fuzz-build)"
	add 0 1 fuzz
else
	echo "== fuzz smoke (${FUZZ_SMOKE_SECONDS:-5} s each)"
	out=$(tests/fuzz/run.sh "$BUILD/fuzz" "${FUZZ_SMOKE_SECONDS:-5}" 2>&1)
	echo "$out" | grep '^fuzz '
	p=$(echo "$out" | grep -c '^fuzz .* ok ')
	f=$(echo "$out" | grep -c '^fuzz .* FAIL ')
	add "$p" "$f" fuzz
fi

# The benchmark harness in smoke mode (mk/bench.mk, bench/run.pl): one
# short round so it cannot rot. Its speed is not judged (timed tests are
# not benchmarks), but it passes only when the harness completed AND its
# raw results hold a measured, non-zero figure from Kiln for every
# workload of the round (health128, udp); skipped without root or
# /dev/net/tun.
echo "== benchmark harness (BENCH=smoke: it completes and Kiln answered every workload)"
out=$(make --no-print-directory BUILD="$BUILD" ARCH="$ARCH" BENCH=smoke \
	BENCH_TAP=kiln-bench1 BENCH_NET=10.81.1 bench 2>&1)
rc=$?
echo "$out" | grep -E '^(bench:|  [a-z])' | sed 's/^/  /'
raw=$BUILD/bench/raw.tsv
# workloads of the round without a positive Kiln figure (empty: all good)
# (the smoke round's request workloads, bench/run.pl: health128 and udp)
missing=$(awk -F'\t' 'NR > 1 && $2 == "kiln" && $4 + 0 > 0 { ok[$3] = 1 }
	END { split("health128 udp", want, " "); for (i in want) if (!(want[i] in ok)) printf "%s ", want[i] }' \
	"$raw" 2>/dev/null)
[ -f "$raw" ] || missing="every workload (no $raw)"
if [ $rc -eq 0 ] && [ -s "$raw" ] && [ -z "$missing" ]; then
	bp=1 bf=0 bs=0
	echo "  kiln answered: $(awk -F'\t' '$2 == "kiln" { printf "%s %s %s; ", $3, $4, $5 }' "$raw")"
elif [ $rc -eq 0 ]; then
	bp=0 bf=1 bs=0
	echo "  the harness completed but Kiln has no measured figure for: ${missing:-every workload ($raw missing)}"
elif echo "$out" | grep -q '^bench: skipped'; then
	bp=0 bf=0 bs=1
else
	bp=0 bf=1 bs=0
	echo "$out" | tail -n 20 | sed 's/^/    | /'
fi
echo "bench: $bp passed, $bf failed, $bs skipped"
add "$bp" "$bf" bench
skip=$((skip + bs))

echo
[ -n "$failed_suites" ] && echo "failing:$failed_suites"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
