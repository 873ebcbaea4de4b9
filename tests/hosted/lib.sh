# lib.sh - shared by the tap-hosted runner's tests (sourced, POSIX sh).
#
# Each test creates its own TAP device (names start with kiln-glue),
# starts the runner on it, talks to it with ordinary Linux tools, and
# removes everything it made on exit - killing only the processes it
# started, by PID. Results are counted as lines "ok NAME" / "FAIL NAME";
# a test that cannot run here (not root, no /dev/net/tun, a tool
# missing) prints "SKIP NAME: why" and exits 77; a runner that make did
# not build is a failure, not a skip.
#
# Variables: BUILD (build), KILN_TAP_APP (udpecho).

BUILD=${BUILD:-build}
APP=${KILN_TAP_APP:-udpecho}
RUNNER="$BUILD/hosted/$APP-tap"
T_PASS=0
T_FAIL=0
T_PIDS=""
T_TAPS=""
T_DIR=$(mktemp -d /tmp/kiln-glue-test.XXXXXX)

skip() { echo "SKIP $T_NAME: $*"; exit 77; }
ok() { echo "ok $T_NAME: $*"; T_PASS=$((T_PASS + 1)); }
fail() { echo "FAIL $T_NAME: $*"; T_FAIL=$((T_FAIL + 1)); }
check() { # check DESCRIPTION COMMAND...
	d=$1; shift
	if "$@" >"$T_DIR/check.out" 2>&1; then ok "$d"; else fail "$d"; sed 's/^/    | /' "$T_DIR/check.out" | tail -n 15; fi
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root"
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
	[ -x "$RUNNER" ] || { fail "no runner $RUNNER (make hosted-apps): its build broke"; exit 1; }
	for tool in ip "$@"; do
		command -v "$tool" >/dev/null 2>&1 || skip "no $tool"
	done
}

cleanup() {
	for p in $T_PIDS; do
		kill "$p" 2>/dev/null
	done
	for p in $T_PIDS; do
		wait "$p" 2>/dev/null
	done
	for t in $T_TAPS; do
		ip link del "$t" 2>/dev/null
	done
	rm -rf "$T_DIR"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# make_tap NAME ADDR/PREFIX: a persistent TAP device, up, with the host's address.
make_tap() {
	ip link del "$1" 2>/dev/null
	ip tuntap add dev "$1" mode tap || skip "cannot create TAP $1"
	T_TAPS="$T_TAPS $1"
	ip addr add "$2" dev "$1"
	ip link set "$1" up
}

# start_runner LOG ARGS...: starts the runner in the background; sets RUNNER_PID.
start_runner() {
	log=$1; shift
	"$RUNNER" "$@" >"$log" 2>&1 &
	RUNNER_PID=$!
	T_PIDS="$T_PIDS $RUNNER_PID"
}

# wait_log LOG PATTERN SECONDS: waits until LOG has a line matching PATTERN.
wait_log() {
	n=0
	while [ $n -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		n=$((n + 1))
	done
	return 1
}

# stop_runner LOG: SIGTERM, expects exit status 0 and no sanitizer report.
stop_runner() {
	kill -TERM "$RUNNER_PID" 2>/dev/null
	wait "$RUNNER_PID"
	rc=$?
	T_PIDS=$(echo "$T_PIDS" | sed "s/ $RUNNER_PID\b//")
	if [ $rc -ne 0 ] || grep -q "ERROR: AddressSanitizer\|runtime error:\|panic:" "$1"; then
		echo "runner exit status $rc"; tail -n 30 "$1"
		return 1
	fi
	return 0
}

# ping_all COUNT PING-ARGS...: pings COUNT times; passes only when every
# request got its reply (ping itself exits 0 on a single reply).
ping_all() {
	n=$1; shift
	out=$(ping -c "$n" "$@" 2>&1)
	echo "$out"
	echo "$out" | grep -q "^$n packets transmitted, $n received"
}

# udp_echo ADDR PORT SIZE...: sends one datagram of each size, expects it back byte-exact.
udp_echo() {
	addr=$1; port=$2; shift 2
	python3 - "$addr" "$port" "$@" <<'PY'
import os, socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2.0)
for size in map(int, sys.argv[3:]):
    data = os.urandom(size)
    for attempt in range(3):      # the first may wait for ARP
        s.sendto(data, (addr, port))
        try:
            got, peer = s.recvfrom(65536)
            break
        except socket.timeout:
            got = None
    if got != data:
        print("size %d: %s" % (size, "no reply" if got is None else "reply differs (%d bytes)" % len(got)))
        sys.exit(1)
    print("size %d echoed" % size)
PY
}

# finish: prints the count line and exits 0 only if nothing failed.
finish() {
	echo "$T_NAME: $T_PASS passed, $T_FAIL failed"
	[ $T_FAIL -eq 0 ]
}
