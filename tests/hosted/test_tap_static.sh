#!/bin/sh
# test_tap_static.sh - the tap-hosted runner with a static address
# (ip=) against Linux on a TAP device: the runner comes up, Linux pings it
# (small, 1472-byte and 4000-byte fragmented echoes, both ways through
# Kiln's reassembly and fragmentation), arping resolves it, and UDP echo
# on port 7 returns datagrams byte-exact, including fragmented ones. The
# runner ends cleanly on SIGTERM with no sanitizer report.
T_NAME=tap-static
. "$(dirname "$0")/lib.sh"
need_root ping arping python3

TAP=kiln-glue0
make_tap $TAP 10.78.0.1/24
LOG="$T_DIR/runner.log"
start_runner "$LOG" tap=$TAP ip=10.78.0.2/24 gw=10.78.0.1 mac=2
if wait_log "$LOG" "udpecho: up 10.78.0.2/24 gw 10.78.0.1" 10; then
	ok "runner up with ip=10.78.0.2/24"
else
	fail "runner did not come up"; tail -n 20 "$LOG"; finish; exit 1
fi
wait_log "$LOG" "udpecho: static address" 5 && ok "net_up() in a task returned" || fail "net_up() in a task"
check "ping" ping_all 3 -i 0.2 -W 2 10.78.0.2
check "ping 1472 bytes" ping_all 2 -i 0.2 -W 2 -s 1472 -M do 10.78.0.2
check "ping 4000 bytes (fragmented)" ping_all 2 -i 0.2 -W 2 -s 4000 10.78.0.2
ip neigh flush dev $TAP
check "arping answered by the runner's MAC" sh -c "arping -c 2 -w 3 -I $TAP 10.78.0.2 | grep -qi 02:4b:69:6c:6e:02"
check "udp echo" udp_echo 10.78.0.2 7 1 100 1472
check "udp echo fragmented" udp_echo 10.78.0.2 7 3000 8000 20000
check "clean exit on SIGTERM" stop_runner "$LOG"
finish
