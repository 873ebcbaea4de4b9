#!/bin/sh
# run.sh [IMAGE] - end-to-end tests: apps/echo in QEMU on a TAP device,
# with Linux as the peer, on q35 and microvm, and the same app in the
# tap-hosted runner ($BUILD/hosted/echo-tap, when built: "hosted"). Prints
# one PASS/FAIL/SKIP line per check and ends with
# "e2e: N passed, N failed, N skipped".
#
# Everything happens inside a network namespace this script creates
# (kiln-e2e-<pid>): the TAP device kiln-e2e0 holding the Linux side
# (10.79.0.1/24), QEMU (whose NIC is that TAP), dnsmasq, the clients.
# Nothing is routed to or from the rest of the machine. On exit, even on
# failure or Ctrl-C, the processes it started are ended by PID and the
# namespace (with its devices) is deleted.
#
# Per machine, three boots (the hosted runner: static and dhcp; the
# impairing relay needs QEMU's socket backend):
#   static   ip=10.79.0.2/24: ARP, ping 56/1472/4000 bytes, UDP echo of
#            1..65507-byte datagrams, RST from a closed port, TCP echo of
#            E2E_BYTES both ways (sha256 compared), discard (Linux->Kiln
#            MB/s), chargen (Kiln->Linux MB/s, RFC 864 pattern checked),
#            E2E_CONNS connections open at once each echoing a message,
#            and no crash.
#   impaired the link loses 5%, reorders 25%, duplicates 1% and delays
#            2 ms: `tc qdisc ... netem` on the TAP when the kernel has
#            sch_netem, else tests/e2e/impair.c does the same in user
#            space between the TAP and QEMU's UDP socket backend (both
#            directions). TCP echo of E2E_NETEM_BYTES, byte-exact.
#   dhcp     no ip=: dnsmasq on the TAP serves 10.79.0.50-60; the guest
#            log must show the lease and the guest must answer ping there.
#
# Environment: BUILD (build), ARCH (x86_64), E2E_MACHINES ("q35 microvm
# hosted"),
# E2E_SUITES ("static impaired dhcp"),
# E2E_BYTES (100000000), E2E_NETEM_BYTES (100000000), E2E_BULK (bytes for
# the discard/chargen throughput runs, 100000000), E2E_CONNS (1000).
# Needs root, /dev/net/tun, ip, a C compiler and BearSSL's headers; each
# check that cannot run is reported SKIP with the reason.
set -u
BUILD=${BUILD:-build}
ARCH=${ARCH:-x86_64}
image=${1:-$BUILD/$ARCH/echo.elf}
runner=$BUILD/hosted/echo-tap
machines=${E2E_MACHINES:-q35 microvm hosted}
suites=${E2E_SUITES:-static impaired dhcp}
BYTES=${E2E_BYTES:-100000000}
NETEM_BYTES=${E2E_NETEM_BYTES:-100000000}
BULK=${E2E_BULK:-100000000}
CONNS=${E2E_CONNS:-1000}
out=$BUILD/e2e
logs=$out/logs
ns=kiln-e2e-$$
tap=kiln-e2e0
host_ip=10.79.0.1
guest_ip=10.79.0.2
qemu_mac=52:54:00:12:34:56
hosted_mac=02:4b:69:6c:6e:56        # the runner's mac=86

pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "PASS $1${2:+: $2}"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -f "${3:-}" ] && tail -n 25 "$3" | sed 's/^/    | /'
	return 0
}
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }

STATIC_CHECKS="arp ping-56 ping-1472 ping-4000-frag udp-echo tcp-rst-closed-port tcp-echo \
tcp-discard tcp-chargen tcp-concurrent no-crash"
IMPAIRED_CHECKS="impaired-tcp-echo impaired-no-crash"
DHCP_CHECKS="dhcp-lease dhcp-ping"

# every_check HOW WHY: reports every check of every machine with HOW
# (bad or skip) and the reason, then the suite's count line.
every_check() {
	for m in $machines; do
		for c in $STATIC_CHECKS $IMPAIRED_CHECKS $DHCP_CHECKS; do "$1" "e2e/$m/$c" "$2"; done
	done
	echo "e2e: $pass passed, $fail failed, $skipped skipped"
}
# fail_all WHY: a helper this suite builds did not build: every check
# fails (a broken build is never a skip). skip_all WHY: none can run here.
fail_all() { every_check bad "$1"; exit 1; }
skip_all() { every_check skip "$1"; exit 0; }

why=""
[ "$(id -u)" = 0 ] || why="needs root (TAP devices and a network namespace)"
[ -z "$why" ] && [ ! -c /dev/net/tun ] && why="no /dev/net/tun"
for tool in ip qemu-system-x86_64 "${CC:-cc}" timeout ps; do
	[ -z "$why" ] && ! command -v "$tool" >/dev/null 2>&1 && why="no $tool"
done
[ -z "$why" ] && [ ! -f "$image" ] && why="no image $image (make $image)"
[ -n "$why" ] && skip_all "$why"

mkdir -p "$logs"
# The Linux-side helpers: ordinary programs for this host.
for h in e2e_client impair; do
	if ! "${CC:-cc}" -std=gnu11 -O2 -Wall -Wextra -Werror -o "$out/$h" "tests/e2e/$h.c" \
		-lbearssl >"$logs/build-$h.log" 2>&1; then
		cat "$logs/build-$h.log"
		fail_all "cannot build tests/e2e/$h.c (see $logs/build-$h.log)"
	fi
done
client="$out/e2e_client"

# ---- the namespace and what runs in it --------------------------------------

pids=""
nsx() { ip netns exec "$ns" "$@"; }

# start LOGFILE CMD...: runs CMD in the background in the namespace; sets
# $started to its PID.
start() {
	lf=$1; shift
	ip netns exec "$ns" "$@" </dev/null >"$lf" 2>&1 &
	started=$!
	pids="$pids $started"
}

# tree PID: PID and every process below it, children first. (QEMU runs
# under timeout(1), which moves itself to a process group of its own, so
# a group kill would miss it.)
tree() {
	for t_c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$t_c"; done
	echo "$1"
}

# stop PID: ends PID and what it started (by PID), waits; returns its status.
stop() {
	kill -TERM $(tree "$1") 2>/dev/null
	wait "$1" 2>/dev/null
	rc=$?
	pids=$(echo " $pids " | sed "s/ $1 / /")
	return $rc
}

cleanup() {
	for p in $pids; do kill -TERM $(tree "$p") 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	pids=""
	ip netns del "$ns" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

ip netns add "$ns" || skip_all "cannot create network namespace $ns"
nsx ip link set lo up
nsx sysctl -qw net.ipv6.conf.all.disable_ipv6=1 2>/dev/null
nsx sysctl -qw net.ipv6.conf.default.disable_ipv6=1 2>/dev/null
if ! nsx ip tuntap add dev "$tap" mode tap; then
	skip_all "cannot create TAP device $tap"
fi
nsx ip addr add "$host_ip/24" dev "$tap"
nsx ip link set "$tap" up

have_netem=0
if command -v tc >/dev/null 2>&1 && nsx tc qdisc add dev "$tap" root netem delay 1ms 2>/dev/null; then
	nsx tc qdisc del dev "$tap" root
	have_netem=1
fi

# wait_log FILE PATTERN SECONDS PID: until FILE has a line matching the
# extended regex PATTERN; fails early if the process PID ended.
wait_log() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		kill -0 "$4" 2>/dev/null || return 1
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# boot NAME APPEND [QEMU ARGS...]: boots the image on $m; sets $qpid, $qlog.
boot() {
	qlog="$logs/$m-$1.log"
	name=$1 app=$2
	shift 2
	# one Linux host opens $CONNS connections at once (tcp-concurrent):
	# above the default per-source limit, by design of this test
	app="$app tcp_max_per_peer=$((CONNS + 64))"
	net=tap:$tap
	[ $# -gt 0 ] && net=none
	rm -f "$qlog"
	if [ "$m" = hosted ]; then
		start "$qlog" "$runner" tap="$tap" mac=86 $app
	else
		start "$qlog.qemu" env MACHINE="$m" NET="$net" MAC="$guest_mac" APPEND="$app" \
			LOG="$qlog" TIMEOUT=1800 tools/qemu.sh batch "$image" "$@"
	fi
	qpid=$started
}

# halt CHECK: stops QEMU; CHECK passes if it was still running (no
# crash or early exit) and its log has no panic or fault report.
halt() {
	if kill -0 "$qpid" 2>/dev/null; then alive=1; else alive=0; fi
	stop "$qpid"
	rc=$?
	[ "$m" = hosted ] && [ $rc = 0 ] && rc=143      # the runner ends with 0 on SIGTERM
	if [ $alive = 1 ] && [ $rc = 143 ] &&
	   ! grep -Eq '^\*\*\* |  cause: |KVM internal error|AddressSanitizer|runtime error:' "$qlog"; then
		ok "$1"
	else
		bad "$1" "ended early or badly (status $rc) or reported a fault" "$qlog"
	fi
}

# run_client CHECK TIMEOUT ARGS...: one e2e_client run as a check.
run_client() {
	c=$1 t=$2
	shift 2
	cl="$logs/$m-${c##*/}.client.log"
	if E2E_TIMEOUT=$t nsx "$client" "$@" >"$cl" 2>&1; then
		ok "$c" "$(tail -n 1 "$cl")"
		return 0
	fi
	bad "$c" "$(tail -n 1 "$cl")" "$qlog"
	return 1
}

ping_check() { # CHECK SIZE [ping options]
	c=$1 size=$2
	shift 2
	pl="$logs/$m-${c##*/}.ping.log"
	nsx ping -n -q -c 5 -i 0.2 -W 3 -s "$size" "$@" "$guest_ip" >"$pl" 2>&1
	sent=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p' "$pl")
	got=$(sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p' "$pl")
	if [ -n "$sent" ] && [ "$sent" = "$got" ] && [ "$got" -gt 0 ]; then
		ok "$c" "$got/$sent replies, $(tail -n 1 "$pl")"
	else
		bad "$c" "$(grep -E 'transmitted|error|unreach' "$pl" | head -n 2 | tr '\n' ' ')" "$pl"
	fi
}

# ---- the checks ----------------------------------------------------------------

static_checks() {
	p=e2e/$m
	boot static "ip=$guest_ip/24 gw=$host_ip"
	if ! wait_log "$qlog" 'echo: serving' 60 "$qpid"; then
		bad "$p/boot" "the guest did not start its services within 60 s" "$qlog"
		for c in $STATIC_CHECKS; do skip "$p/$c" "the guest did not boot"; done
		stop "$qpid"
		return
	fi

	# ARP: the guest answers a request for its address with its MAC.
	if command -v arping >/dev/null 2>&1; then
		al="$logs/$m-arp.log"
		nsx arping -c 3 -w 5 -I "$tap" "$guest_ip" >"$al" 2>&1
		if grep -qi "reply from $guest_ip \[$guest_mac\]" "$al"; then
			ok "$p/arp" "$(grep -ci "$guest_mac" "$al") of 3 requests answered by $guest_mac"
		else
			bad "$p/arp" "no ARP reply with $guest_mac" "$al"
		fi
	else
		nsx ip neigh flush dev "$tap" 2>/dev/null
		nsx "$client" udp "$guest_ip" 7 >/dev/null 2>&1
		if nsx ip neigh show "$guest_ip" dev "$tap" | grep -qi "$guest_mac"; then
			ok "$p/arp" "neighbour entry $guest_mac (no arping: ip neigh)"
		else
			bad "$p/arp" "no neighbour entry for $guest_ip"
		fi
	fi

	if command -v ping >/dev/null 2>&1; then
		ping_check "$p/ping-56" 56
		ping_check "$p/ping-1472" 1472 -M do
		ping_check "$p/ping-4000-frag" 4000
	else
		for c in ping-56 ping-1472 ping-4000-frag; do skip "$p/$c" "no ping (iputils-ping)"; done
	fi

	run_client "$p/udp-echo" 60 udp "$guest_ip" 7
	run_client "$p/tcp-rst-closed-port" 20 refused "$guest_ip" 1
	run_client "$p/tcp-echo" 600 echo "$guest_ip" 7 "$BYTES"
	run_client "$p/tcp-discard" 300 sink "$guest_ip" 9 "$BULK" &&
		rate_in="$rate_in $m: $(sed -n 's/.* = \([0-9.]*\) MB\/s.*/\1/p' "$cl") MB/s"
	run_client "$p/tcp-chargen" 300 source "$guest_ip" 19 "$BULK" &&
		rate_out="$rate_out $m: $(sed -n 's/.* = \([0-9.]*\) MB\/s.*/\1/p' "$cl") MB/s"
	run_client "$p/tcp-concurrent" 90 many "$guest_ip" 7 "$CONNS"
	halt "$p/no-crash"
}

impaired_checks() {
	p=e2e/$m
	if [ "$m" = hosted ]; then
		for c in $IMPAIRED_CHECKS; do
			skip "$p/$c" "not for the hosted runner (the relay sits in front of QEMU's socket backend)"
		done
		return
	fi
	what="loss 5% reorder 25% duplicate 1% delay 2ms"
	if [ $have_netem = 1 ]; then
		how="tc netem on $tap (Linux->guest)"
		boot impaired "ip=$guest_ip/24 gw=$host_ip stats=10"
		nsx tc qdisc add dev "$tap" root netem loss 5% reorder 25% duplicate 1% delay 2ms
	else
		# No sch_netem in this kernel: the relay owns the TAP, QEMU
		# sends its frames to the relay over UDP on the namespace's
		# loopback.
		how="tests/e2e/impair.c between $tap and QEMU, both directions (no sch_netem in this kernel)"
		start "$logs/$m-impair.log" "$out/impair" "$tap" 17900 17901 5 25 1 2 both
		ipid=$started
		case $m in
		q35) dev=virtio-net-pci,disable-legacy=on ;;
		*) dev=virtio-net-device ;;
		esac
		sleep 0.3
		boot impaired "ip=$guest_ip/24 gw=$host_ip stats=10" \
			-netdev socket,id=n0,udp=127.0.0.1:17900,localaddr=127.0.0.1:17901 \
			-device "$dev,netdev=n0,mac=$guest_mac"
	fi
	if wait_log "$qlog" 'echo: serving' 60 "$qpid"; then
		echo "     impaired link: $what, by $how; $NETEM_BYTES bytes each way"
		nsx nstat -n >/dev/null 2>&1
		run_client "$p/impaired-tcp-echo" 600 echo "$guest_ip" 7 "$NETEM_BYTES"
		# Linux's side of the same transfer, for the log
		nsx nstat -z TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPLossProbes \
			TcpExtTCPSackRecovery TcpExtTCPLostRetransmit >"$logs/$m-impaired-linux.nstat" 2>&1
		halt "$p/impaired-no-crash"
	else
		bad "$p/impaired-boot" "the guest did not start its services within 60 s" "$qlog"
		skip "$p/impaired-tcp-echo" "the guest did not boot"
		skip "$p/impaired-no-crash" "the guest did not boot"
		stop "$qpid"
	fi
	if [ $have_netem = 1 ]; then
		nsx tc qdisc del dev "$tap" root 2>/dev/null
	else
		stop "$ipid"
		grep '^impair:' "$logs/$m-impair.log" | sed 's/^/     /'
	fi
}

dhcp_checks() {
	p=e2e/$m
	if ! command -v dnsmasq >/dev/null 2>&1; then
		for c in $DHCP_CHECKS; do skip "$p/$c" "no dnsmasq (dnsmasq-base)"; done
		return
	fi
	rm -f "$logs/$m-dnsmasq.leases"
	start "$logs/$m-dnsmasq.log" dnsmasq --keep-in-foreground --conf-file=/dev/null \
		--port=0 --interface="$tap" --bind-interfaces --except-interface=lo \
		--dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,1h --dhcp-authoritative \
		--dhcp-leasefile="$logs/$m-dnsmasq.leases" --pid-file= --user=root --log-dhcp \
		--log-facility=-
	dpid=$started
	sleep 0.5
	boot dhcp ""
	lease_re='dhcp: bound to 10\.79\.0\.(5[0-9]|60)/24'
	if wait_log "$qlog" "$lease_re" 60 "$qpid"; then
		addr=$(grep -Eo "$lease_re" "$qlog" | head -n 1 | sed 's/dhcp: bound to //; s/\/24//')
		ok "$p/dhcp-lease" "$(grep -E "$lease_re" "$qlog" | head -n 1 | sed 's/^.*dhcp: //')"
		pl="$logs/$m-dhcp-ping.log"
		nsx ping -n -q -c 3 -i 0.2 -W 3 "$addr" >"$pl" 2>&1
		if grep -q '^3 packets transmitted, 3 received' "$pl"; then
			ok "$p/dhcp-ping" "$addr answers: $(grep transmitted "$pl")"
		else
			bad "$p/dhcp-ping" "no reply from $addr" "$pl"
		fi
	else
		bad "$p/dhcp-lease" "no lease in 10.79.0.50-60 in the guest log within 60 s" "$qlog"
		tail -n 10 "$logs/$m-dnsmasq.log" | sed 's/^/    dnsmasq| /'
		skip "$p/dhcp-ping" "no lease"
	fi
	stop "$qpid"
	stop "$dpid"
}

rate_in="" rate_out=""
t0=$(date +%s)
# The hosted runner is built here when missing or stale (make test builds
# only the images); a build failure makes its checks FAIL with the log.
case " $machines " in
*" hosted "*)
	make --no-print-directory BUILD="$BUILD" ARCH="$ARCH" KILN_NO_DEPS=1 "$runner" \
		>"$logs/build-echo-tap.log" 2>&1 || rm -f "$runner"
	;;
esac

for m in $machines; do
	if [ "$m" = hosted ]; then
		guest_mac=$hosted_mac
		echo "== e2e on the tap-hosted runner ($runner)"
		if [ ! -x "$runner" ]; then
			for c in $STATIC_CHECKS $IMPAIRED_CHECKS $DHCP_CHECKS; do
				bad "e2e/$m/$c" "$runner did not build (see $logs/build-echo-tap.log)"
			done
			continue
		fi
	else
		guest_mac=$qemu_mac
		echo "== e2e on $m ($image)"
	fi
	for s in $suites; do "${s}_checks"; done
done
echo "== e2e bulk TCP throughput over TAP, $BULK bytes (e2e_client sink to discard,"
echo "   source from chargen; QEMU with the accelerator tools/qemu.sh picked, 1 vCPU;"
echo "   hosted = the tap-hosted runner, a Linux process with ASan/UBSan):"
echo "     Linux->Kiln (discard):${rate_in:- not measured}"
echo "     Kiln->Linux (chargen):${rate_out:- not measured}"
echo "e2e took $(($(date +%s) - t0)) s; logs in $logs"
echo "e2e: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
