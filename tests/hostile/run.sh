#!/bin/sh
# run.sh - hostile clients against apps/webserver in QEMU (q35, TCG) on a
# TAP device in a network namespace of its own. For each attack Kiln is
# booted afresh and:
#   - a normal client (client.py measure: sequential GETs of /health, each
#     on a new connection, from the host's address) measures its request
#     rate and p99 latency before the attack and during it. Before the
#     attack the prober sends a control load, frames of an EtherType Kiln
#     discards unread at the attack's packet rate: on a host of two cores
#     QEMU and the prober take the same CPU time from the guest either
#     way, so the comparison measures what Kiln's handling of the attack
#     costs, not what carrying its packets costs the host;
#   - buffers in use (GET /api/stats.json: net.pools[].in_use and
#     net.pools_in_use_bytes) are read before, during and after;
#   - NAME-rate passes when the rate during the attack is at least half the
#     rate before it; NAME-recovery passes when, after the attacker's
#     connections are reset and within HOSTILE_RECOVER_S seconds (70: the
#     longest TCP and HTTP timers), buffers in use are back to the level
#     before the attack (tolerance: 8 buffers or 10%, whichever is more),
#     Kiln answers /health and its log has no panic or fault report.
# The attacks (tests/hostile/prober.c on raw Ethernet, client.py on Linux
# sockets):
#   ooo        150 connections send 1-byte segments behind a one-byte hole
#   zerowin    150 connections GET /files/64k.txt and shut their window
#   synflood   SYNs from random on-link addresses and MACs
#   icmp       forged fragmentation-needed quoting random TCP headers
#   slowloris  2,000 connections each sending a header byte every 3 s
#   tlsstall   300 connections to port 443 that send part of a
#              ClientHello and stall, holding TLS work buffers; the
#              normal client measures over HTTPS (its chain verified
#              against the development CA) for this one
# and connection exhaustion: every HTTP slot held by an idle connection, a
# new client gets a 503 or an idle connection is evicted, and after they
# are released new clients are served.
# Prints "ok/FAIL/SKIP NAME" lines and the figures, and ends with
# "hostile: N passed, N failed, N skipped". Without root or /dev/net/tun
# every check is skipped with the reason; a prober that did not build is
# a failure. Every process is ended by PID and the namespace removed on
# exit.
# Environment: BUILD (build), ARCH (x86_64), HOSTILE_ATTACKS (all five),
# HOSTILE_ATTACK_S (12), HOSTILE_BASE_S (5), HOSTILE_RECOVER_S (70).
set -u
BUILD=${BUILD:-build}
ARCH=${ARCH:-x86_64}
image=$BUILD/$ARCH/webserver.elf
prober=$BUILD/hostile/prober
dir=$(cd "$(dirname "$0")" && pwd)
client="$dir/client.py"
out=$BUILD/hostile
attacks=${HOSTILE_ATTACKS:-ooo zerowin synflood icmp slowloris tlsstall}
ATTACK_S=${HOSTILE_ATTACK_S:-12}
BASE_S=${HOSTILE_BASE_S:-5}
RECOVER_S=${HOSTILE_RECOVER_S:-70}
ns=kiln-host-$$
tap=kiln-host0
host_ip=10.84.0.1
guest_ip=10.84.0.2
guest_mac=52:54:00:12:34:56
# slowloris and exhaustion connect from these (the per-peer limit is 256)
loris_srcs="10.84.0.20 10.84.0.21 10.84.0.22 10.84.0.23 10.84.0.24 10.84.0.25 10.84.0.26 10.84.0.27 10.84.0.28 10.84.0.29"
mkdir -p "$out"

pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok $1${2:+: $2}"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -f "${3:-}" ] && tail -n 15 "$3" | sed 's/^/    | /'
	return 0
}
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }
all_checks() {
	for a in $attacks; do echo "$a-rate $a-recovery"; done
	echo exhaustion
}
finish() { echo "hostile: $pass passed, $fail failed, $skipped skipped"; [ $fail -eq 0 ]; exit $?; }
skip_all() { for c in $(all_checks); do skip "$c" "$1"; done; finish; }
fail_all() { for c in $(all_checks); do bad "$c" "$1"; done; finish; }

[ "$(id -u)" = 0 ] || skip_all "needs root (TAP device, network namespace, AF_PACKET)"
[ -c /dev/net/tun ] || skip_all "no /dev/net/tun"
for tool in ip qemu-system-x86_64 python3 timeout ps curl; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "no $tool"
done
[ -f "$image" ] || fail_all "no image $image (make all): its build broke"
[ -x "$prober" ] || fail_all "no prober $prober (make hostile-build): its build broke"

pids=""
nsx() { ip netns exec "$ns" "$@"; }
start() { # start LOG CMD...: in the namespace, in the background; sets $started
	lf=$1; shift
	ip netns exec "$ns" "$@" </dev/null >"$lf" 2>&1 &
	started=$!
	pids="$pids $started"
}
tree() {
	for t_c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree "$t_c"; done
	echo "$1"
}
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
nsx ip tuntap add dev "$tap" mode tap || skip_all "cannot create TAP device $tap"
nsx ip addr add "$host_ip/24" dev "$tap"
for a in $loris_srcs; do nsx ip addr add "$a/24" dev "$tap"; done
nsx ip link set "$tap" up

# boot NAME: boots the image; sets $qpid, $qlog; waits for /health
boot() {
	qlog="$out/$1.log"
	rm -f "$qlog"
	start "$qlog.qemu" env MACHINE=q35 ACCEL=tcg NET="tap:$tap" MAC="$guest_mac" \
		APPEND="ip=$guest_ip/24 gw=$host_ip" LOG="$qlog" TIMEOUT=900 \
		"$dir/../../tools/qemu.sh" batch "$image"
	qpid=$started
	i=0
	while [ $i -lt 120 ]; do
		nsx curl -s -o /dev/null --max-time 1 "http://$guest_ip/health" && return 0
		kill -0 "$qpid" 2>/dev/null || return 1
		sleep 0.5
		i=$((i + 1))
	done
	return 1
}
stats() { nsx python3 "$client" stats "$guest_ip"; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
crashed() { grep -Eq 'panic|assertion failed|FAULT|fault at' "$qlog" 2>/dev/null; }

# attack NAME PPS CMD...: one attack of about PPS packets a second (CMD
# runs in the namespace for ATTACK_S s)
attack() {
	name=$1 pps=$2; shift 2
	if ! boot "$name"; then
		bad "$name-rate" "Kiln did not boot" "$qlog"
		bad "$name-recovery" "Kiln did not boot"
		stop "$qpid"
		return
	fi
	s0=$(stats)
	start "$out/$name-control.log" "$prober" "$tap" noise dst=$guest_ip dmac=$guest_mac \
		rate="$pps" dur=$((BASE_S + 2))
	cpid=$started
	sleep 1
	m0=$(nsx python3 "$client" measure "$guest_ip" /health "$BASE_S" $mtls)
	wait "$cpid"
	pids=$(echo " $pids " | sed "s/ $cpid / /")
	start "$out/$name-attack.log" "$@"
	apid=$started
	sleep 2
	m1=$(nsx python3 "$client" measure "$guest_ip" /health $((ATTACK_S - 4)) $mtls)
	s1=$(stats)
	wait "$apid"
	arc=$?
	pids=$(echo " $pids " | sed "s/ $apid / /")
	echo "  $name: $(tail -n 1 "$out/$name-attack.log")"
	# recovery: buffers back to the level before, and Kiln answers
	b0=$(field "$s0" in_use)
	tol=$((b0 / 10))
	[ "$tol" -lt 8 ] && tol=8
	t0=$(date +%s)
	s2="" back=0
	while :; do
		s2=$(stats)
		b2=$(field "$s2" in_use)
		if [ "$b2" != NA ] && [ "$b2" -le $((b0 + tol)) ] &&
		   nsx curl -s -o /dev/null --max-time 2 "http://$guest_ip/health"; then
			back=1
			break
		fi
		[ $(($(date +%s) - t0)) -ge "$RECOVER_S" ] && break
		sleep 2
	done
	took=$(($(date +%s) - t0))
	r0=$(field "$m0" rate) r1=$(field "$m1" rate)
	echo "  $name: control load: $(tail -n 1 "$out/$name-control.log")"
	echo "  $name: rate $r0 -> $r1 requests/s, p99 $(field "$m0" p99_ms) -> $(field "$m1" p99_ms) ms" \
		"(before -> during; during: $(field "$m1" ok) ok, $(field "$m1" failed) failed: $(field "$m1" failures))"
	echo "  $name: during: $s1"
	echo "  $name: buffers in use $b0 -> $(field "$s1" in_use) -> $(field "$s2" in_use)" \
		"($(field "$s0" bytes) -> $(field "$s1" bytes) -> $(field "$s2" bytes) bytes, of" \
		"$(field "$s0" total); before -> during -> ${took} s after)"
	if [ $arc -ne 0 ]; then
		bad "$name-rate" "the attack was not delivered (exit $arc)" "$out/$name-attack.log"
	elif awk -v a="$r0" -v b="$r1" 'BEGIN { exit !(a > 0 && b >= a / 2) }'; then
		ok "$name-rate" "$r1 requests/s during the attack, $r0 before under the control load (>= 50%)"
	else
		bad "$name-rate" "$r1 requests/s during the attack, $r0 before under the control load (< 50%)"
	fi
	if crashed; then
		bad "$name-recovery" "Kiln's log has a panic or fault report" "$qlog"
	elif [ $back = 1 ]; then
		ok "$name-recovery" "buffers in use $(field "$s2" in_use) (before $b0, +$tol allowed) and /health answers, ${took} s after the attack"
	else
		bad "$name-recovery" "after ${took} s buffers in use $(field "$s2" in_use), before $b0 (+$tol allowed), /health: $(nsx curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://$guest_ip/health")"
	fi
	stop "$qpid"
}

common="dst=$guest_ip dmac=$guest_mac dur=$ATTACK_S"
ca=$BUILD/tls/dev/ca.pem
for a in $attacks; do
	mtls=""
	case $a in
	ooo)       attack ooo 4000 "$prober" "$tap" ooo $common n=150 srcs=50 seg=1 rate=4000 ;;
	zerowin)   attack zerowin 2000 "$prober" "$tap" zerowin $common n=150 srcs=50 rate=2000 path=/files/64k.txt ;;
	synflood)  attack synflood 2000 "$prober" "$tap" synflood $common rate=2000 ;;
	icmp)      attack icmp 2000 "$prober" "$tap" icmp $common rate=2000 ;;
	slowloris) attack slowloris 700 python3 "$client" slowloris "$guest_ip" 2000 3 "$ATTACK_S" $loris_srcs ;;
	tlsstall)  mtls=$ca
		   attack tlsstall 100 python3 "$client" tlsstall "$guest_ip" 300 "$ATTACK_S" $loris_srcs ;;
	*)         bad "$a-rate" "unknown attack $a" ;;
	esac
done

# connection exhaustion with recovery
if boot exhaustion; then
	r=$(nsx timeout 120 python3 "$client" exhaust "$guest_ip" $loris_srcs 2>&1)
	case $r in
	"ok exhaustion: "*) ok exhaustion "${r#ok exhaustion: }" ;;
	"FAIL exhaustion: "*) bad exhaustion "${r#FAIL exhaustion: }" ;;
	*) bad exhaustion "client.py exhaust stopped: $(echo "$r" | tail -n 3 | tr '\n' ' ')" ;;
	esac
	crashed && bad exhaustion-no-crash "Kiln's log has a panic or fault report" "$qlog"
else
	bad exhaustion "Kiln did not boot" "$qlog"
fi
stop "$qpid"
finish
