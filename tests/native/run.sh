#!/bin/sh
# run.sh - tests of the native runner (platform/native/) over loopback.
# Prints one PASS/FAIL/SKIP line per check and ends with
# "native: N passed, N failed, N skipped".
#
# For the product build ($BUILD/native/natecho, -O2) and the sanitizer
# build ($BUILD/native/asan/natecho, ASan+UBSan), with cpus=2 and
# cpus=1, natecho (tests/native/natecho: apps/echo's TCP services and a
# UDP echo) is started on 127.0.0.1 with a port offset (ports 7 and 19
# become OFF+7 and OFF+19), and
# native_client checks: TCP echo of 1 MiB and 32 MiB byte-exact, many
# connections open at once, back-pressure (a client that sends without
# reading stalls, then gets every byte back), chargen (RFC 864) through
# borrowed writes, UDP echo of 1..65507-byte datagrams, kiln_exit(7) ending every
# core with status 7, and SIGTERM ending every core with status 0. Then,
# if $BUILD/native/webserver exists, curl gets /health from it.
#
# Environment: BUILD (build), NATIVE_CONNS (1000). Only processes this
# script started are stopped, by PID.
set -u
BUILD=${BUILD:-build}
CONNS=${NATIVE_CONNS:-1000}
client=$BUILD/native/native_client
out=$BUILD/native/test-logs
mkdir -p "$out"

pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "PASS $1${2:+: $2}"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -f "${3:-}" ] && tail -n 20 "$3" | sed 's/^/    | /'
	return 0
}
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

server_pid=""
cleanup() {
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
	[ -n "$server_pid" ] && wait "$server_pid" 2>/dev/null
	server_pid=""
}
trap 'cleanup; exit 1' INT TERM

# The children (cores) of a runner, by its PID.
children_of() { pgrep -P "$1" 2>/dev/null | tr '\n' ' '; }

# start NAME BINARY LINES PATTERN ARGS...: starts a runner with
# port_offset=$off and ARGS, waits until LINES lines of its log match
# PATTERN (one per core). A port taken by someone else moves $off on and
# tries again (3 times).
start() {
	name=$1 bin=$2 want=$3 pattern=$4
	shift 4
	log=$out/$name.log
	for attempt in 1 2 3; do
		"$bin" port_offset=$off "$@" >"$log" 2>&1 &
		server_pid=$!
		i=0
		while [ $i -lt 100 ]; do
			n=$(grep -c "$pattern" "$log" 2>/dev/null)
			[ "${n:-0}" -ge "$want" ] && return 0
			kill -0 "$server_pid" 2>/dev/null || break
			grep -q "address in use" "$log" && break
			sleep 0.05
			i=$((i + 1))
		done
		cleanup
		grep -q "address in use" "$log" || return 1
		off=$((off + 37))
	done
	return 1
}

# wait_exit NAME STATUS CORES: waits (5 s) for the runner to end on
# its own or after SIGTERM (already sent), checks its status and that no
# core is left.
wait_exit() {
	name=$1 expect=$2 kids=$3
	i=0
	while kill -0 "$server_pid" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		bad "$name" "still running 5 s later" "$log"
		kill -KILL "$server_pid" 2>/dev/null
		wait "$server_pid" 2>/dev/null
		server_pid=""
		return
	fi
	wait "$server_pid"
	st=$?
	server_pid=""
	left=""
	for k in $kids; do kill -0 "$k" 2>/dev/null && left="$left $k"; done
	if [ -n "$left" ]; then
		bad "$name" "cores still running:$left" "$log"
		for k in $left; do kill -KILL "$k" 2>/dev/null; done
	elif [ "$st" -ne "$expect" ]; then
		bad "$name" "exit status $st, expected $expect" "$log"
	else
		ok "$name" "status $st, every core ended"
	fi
}

check() {
	name=$1
	shift
	if res=$("$@" 2>&1); then ok "$name" "$res"; else bad "$name" "$res" "$log"; fi
}

if [ ! -x "$client" ]; then
	# make test builds it: missing means its build broke, a failure
	bad native "$client not built (make native-test-build)"
	echo "native: $pass passed, $fail failed, $skipped skipped"
	exit 1
fi

# Offsets keep every port below Linux's ephemeral range (32768-60999),
# where clients' own ports would collide.
off=$((10000 + $$ % 200 * 100))
for variant in native asan; do
	if [ $variant = native ]; then bin=$BUILD/native/natecho; else bin=$BUILD/native/asan/natecho; fi
	if [ ! -x "$bin" ]; then
		bad "$variant" "$bin not built (make native-test-build)"
		continue
	fi
	for cpus in 2 1; do
		tag="$variant cpus=$cpus"
		off=$((off + 100))
		if ! start "$variant-$cpus" "$bin" "$cpus" "natecho: tcp echo" \
			bind=127.0.0.1 cpus=$cpus log=info; then
			bad "$tag start" "natecho did not come up" "$log"
			cleanup
			continue
		fi
		ok "$tag start" "pid $server_pid, cores: $(children_of "$server_pid")"
		echo_port=$((off + 7)) chargen_port=$((off + 19))
		check "$tag tcp echo 1 MiB" "$client" echo $echo_port 1048576
		if [ $cpus = 2 ]; then
			check "$tag tcp echo 32 MiB" "$client" echo $echo_port 33554432
			check "$tag $CONNS connections" "$client" many $echo_port "$CONNS"
			check "$tag back-pressure" "$client" bp $echo_port 67108864
			check "$tag chargen (borrowed)" "$client" chargen $chargen_port 33554432
		fi
		check "$tag udp echo" "$client" udp $echo_port
		if grep -q "ERROR: AddressSanitizer\|runtime error\|panic" "$log"; then
			bad "$tag sanitizers" "report in the log" "$log"
		fi
		kids=$(children_of "$server_pid")
		kill -TERM "$server_pid"
		wait_exit "$tag SIGTERM" 0 "$kids"
	done
	# kiln_exit from one core ends them all, with its status.
	off=$((off + 100))
	if start "$variant-exit" "$bin" 2 "natecho: tcp echo" bind=127.0.0.1 cpus=2; then
		kids=$(children_of "$server_pid")
		"$client" exit $((off + 7)) 7 >/dev/null
		wait_exit "$variant kiln_exit(7)" 7 "$kids"
	else
		bad "$variant kiln_exit(7)" "natecho did not come up" "$log"
		cleanup
	fi
done

# The web server, once apps/webserver builds natively: /health answers
# 200 on port 80 + offset, also on 20 fresh connections (spread over
# both cores' listeners).
web=$BUILD/native/webserver
if [ ! -x "$web" ]; then
	bad "webserver /health" "$web not built (make native-test-build)"
elif ! command -v curl >/dev/null 2>&1; then
	skip "webserver /health" "no curl"
else
	off=$((off + 100))
	log=$out/webserver.log
	"$web" bind=127.0.0.1 port_offset=$off cpus=2 >"$log" 2>&1 &
	server_pid=$!
	url="http://127.0.0.1:$((off + 80))/health"
	code=000 i=0
	while [ "$code" != 200 ] && [ $i -lt 50 ] && kill -0 "$server_pid" 2>/dev/null; do
		sleep 0.1
		code=$(curl -s -o "$out/health.body" -w '%{http_code}' "$url")
		i=$((i + 1))
	done
	if [ "$code" = 200 ]; then
		n=0 good=0
		while [ $n -lt 20 ]; do
			c=$(curl -s -o /dev/null -w '%{http_code}' "$url")
			[ "$c" = 200 ] && good=$((good + 1))
			n=$((n + 1))
		done
		if [ $good -eq 20 ]; then
			ok "webserver /health" "200 ($(head -c 40 "$out/health.body" | tr '\n' ' ')), 20 more fresh connections all 200"
		else
			bad "webserver /health" "only $good of 20 fresh connections got 200" "$log"
		fi
	else
		bad "webserver /health" "HTTP status '$code' from $url" "$log"
	fi
	kids=$(children_of "$server_pid")
	kill -TERM "$server_pid" 2>/dev/null
	wait_exit "webserver SIGTERM" 0 "$kids"
fi

echo "native: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
