#!/bin/sh
# test_tap_dhcp.sh - the tap-hosted runner without ip= gets its address
# from dnsmasq on a TAP device (RFC 2131 DISCOVER/OFFER/REQUEST/ACK),
# applies mask, router and DNS, answers ping and UDP echo there, and
# renews the lease with the server when T1 comes (dnsmasq is told T1 =
# 4 s, T2 = 8 s; its log must show the unicast renewal ACKed).
T_NAME=tap-dhcp
. "$(dirname "$0")/lib.sh"
need_root dnsmasq ping python3

TAP=kiln-glue1
make_tap $TAP 10.79.0.1/24
DLOG="$T_DIR/dnsmasq.log"
dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --interface=$TAP \
	--bind-interfaces --except-interface=lo \
	--dhcp-range=10.79.0.50,10.79.0.60,255.255.255.0,2m \
	--dhcp-option=option:router,10.79.0.1 --dhcp-option=option:dns-server,10.79.0.1 \
	--dhcp-option=option:T1,4 --dhcp-option=option:T2,8 \
	--pid-file="$T_DIR/dnsmasq.pid" --dhcp-leasefile="$T_DIR/dnsmasq.leases" \
	--log-facility="$DLOG" --log-dhcp &
T_PIDS="$T_PIDS $!"
sleep 0.5
LOG="$T_DIR/runner.log"
start_runner "$LOG" tap=$TAP mac=3
if wait_log "$LOG" "udpecho: dhcp bound" 20; then
	ok "bound by DHCP"
else
	fail "no DHCP lease"; tail -n 20 "$LOG"; tail -n 20 "$DLOG"; finish; exit 1
fi
ADDR=$(sed -n 's/.*udpecho: dhcp bound \([0-9.]*\)\/24 server 10.79.0.1 lease 120 s dns 10.79.0.1.*/\1/p' "$LOG")
if [ -n "$ADDR" ]; then ok "lease $ADDR/24, server, lease time and DNS as served"; else fail "lease details"; grep udpecho "$LOG"; fi
check "net_on_up() saw the router" grep -q "udpecho: up $ADDR/24 gw 10.79.0.1" "$LOG"
check "lease file names the runner's MAC" grep -q "02:4b:69:6c:6e:03 $ADDR" "$T_DIR/dnsmasq.leases"
check "ping the leased address" ping_all 3 -i 0.2 -W 2 "$ADDR"
check "udp echo on the leased address" udp_echo "$ADDR" 7 1 512 1472
acks() { grep -c "DHCPACK(kiln-glue1) $ADDR 02:4b:69:6c:6e:03" "$DLOG"; }
renewed() { # a second ACK within SECONDS
	n=0
	while [ $n -lt $(($1 * 10)) ]; do
		[ "$(acks)" -ge 2 ] && return 0
		sleep 0.1
		n=$((n + 1))
	done
	echo "ACKs: $(acks)"; tail -n 20 "$DLOG"; return 1
}
check "renewed at T1 (REQUEST, second ACK)" renewed 12
# The renewal is a new exchange (new xid) without the BROADCAST flag: the
# client has its address, so dnsmasq answers unicast.
unicast_renewal() {
	xid=$(grep "DHCPREQUEST(kiln-glue1) $ADDR" "$DLOG" | sed -n 2p | awk '{print $5}')
	[ -n "$xid" ] && ! grep -q "$xid broadcast response" "$DLOG"
}
check "the renewal is answered unicast (no BROADCAST flag)" unicast_renewal
check "still answering after renewal" udp_echo "$ADDR" 7 64
check "clean exit on SIGTERM" stop_runner "$LOG"
finish
