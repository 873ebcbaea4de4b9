#!/bin/sh
# run.sh - HTTP tests of apps/webserver in QEMU (user networking, host
# forwards on free loopback ports): raw-socket conformance
# (conformance.py), curl and a short wrk run, and headless Chromium on
# the telemetry page (browser.mjs; screenshot under $BUILD/http/); then
# HTTPS on port 443 (TLS 1.3, the development certificates of mk/tls.mk
# verified against their CA): curl pages, a download and an upload,
# parallel clients, resumption with openssl s_client, wrk, the TLS
# counters in /metrics, and Chromium loading the page over HTTPS.
# Prints "ok/FAIL/SKIP NAME" lines and ends with
# "http: N passed, N failed, N skipped".
#
# Two boots: one with small limits for conformance (16 connections, 2 s
# request timeout, 4 s idle, 5 requests per connection, 4 KiB request
# line), one with the defaults for curl, wrk and the browser. The same
# conformance checks also run against the native variant
# ($BUILD/native/webserver, one core, same limits) on loopback. QEMU is
# always TCG; every process started here is ended by PID on exit.
# Environment: BUILD (build), ARCH (x86_64), HTTP_WRK_SECONDS (3).
set -u
BUILD=${BUILD:-build}
ARCH=${ARCH:-x86_64}
image=$BUILD/$ARCH/webserver.elf
out=$BUILD/http
dir=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
pass=0 fail=0 skipped=0 pids=""

# end P and its children (qemu.sh's timeout, which ends QEMU), by PID
end_pid() {
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill "$c" 2>/dev/null; done
	kill "$1" 2>/dev/null
}
cleanup() {
	for p in $pids; do end_pid "$p"; done
	for p in $pids; do wait "$p" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

count() { # count OUTPUT: tallies its ok/FAIL lines
	echo "$1" | grep -E '^(ok|FAIL|SKIP) '
	pass=$((pass + $(echo "$1" | grep -c '^ok ')))
	fail=$((fail + $(echo "$1" | grep -c '^FAIL ')))
}
# script NAME CMD...: runs a check script (conformance.py, browser.mjs)
# and counts its lines. The script must run to its end: its closing line
# "NAME: N passed, N failed" must be there and agree with the lines
# printed, and it must exit 0 exactly when nothing failed. A script that
# crashed, was killed by its timeout or stopped early is one more failure
# (its checks so far still count).
script() {
	sname=$1
	shift
	sout=$("$@" 2>&1)
	src=$?
	count "$(echo "$sout" | grep -E '^(ok|FAIL|SKIP) ')"
	sp=$(echo "$sout" | grep -c '^ok ')
	sf=$(echo "$sout" | grep -c '^FAIL ')
	want="$sname: $sp passed, $sf failed"
	if ! echo "$sout" | grep -qx "$want"; then
		count "FAIL $sname-complete: stopped early (exit $src, $sp ok, $sf failed, no '$want' line): $(echo "$sout" | grep -vE '^(ok|FAIL|SKIP) ' | tail -n 3 | tr '\n' ' ')"
	elif [ $src -ne 0 ] && [ "$sf" -eq 0 ]; then
		count "FAIL $sname-complete: exit status $src with no failed check"
	elif [ $src -eq 0 ] && [ "$sf" -ne 0 ]; then
		count "FAIL $sname-complete: exit status 0 with $sf failed checks"
	fi
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# boot LOG APPEND: boots the image with forwards to $tport (tcp 80),
# $sport (tcp 443) and $uport (udp 7); sets qpid; waits until /health
# answers.
boot() {
	tport=$(free_port)
	sport=$(free_port)
	uport=$(free_port)
	NET=user ACCEL=tcg TIMEOUT=300 LOG=$1 APPEND=$2 \
		HOSTFWD="tcp:127.0.0.1:$tport-:80,tcp:127.0.0.1:$sport-:443,udp:127.0.0.1:$uport-:7" \
		"$dir/../../tools/qemu.sh" batch "$image" &
	qpid=$!
	pids="$pids $qpid"
	n=0
	while [ $n -lt 100 ]; do
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$tport/health" && return 0
		sleep 0.2
		n=$((n + 1))
	done
	return 1
}
stop() {
	end_pid "$qpid"
	wait "$qpid" 2>/dev/null
	pids=$(echo "$pids" | sed "s/ $qpid\b//")
}

if [ ! -f "$image" ]; then
	echo "SKIP http: no image $image"
	echo "http: 0 passed, 0 failed, 1 skipped"
	exit 0
fi

# ---- conformance over raw sockets ------------------------------------------
if boot "$out/conformance.log" "http_conns=16 http_req_timeout_ms=2000 http_idle_timeout_ms=4000 http_max_requests=5 http_max_line=4096 http_evict_min_ms=600000"; then
	script conformance timeout 180 python3 "$dir/conformance.py" 127.0.0.1 "$tport" "$uport"
else
	fail=$((fail + 1)); echo "FAIL http/boot-conformance: no answer"; tail -n 20 "$out/conformance.log"
fi
stop

# ---- the same conformance against the native variant (one core, so the
# connection limit is the whole server's) ----------------------------------
native=$BUILD/native/webserver
if [ -x "$native" ]; then
	nport=$(free_port)
	off=$((nport - 80))
	"$native" bind=127.0.0.1 port_offset=$off cpus=1 http_conns=16 http_req_timeout_ms=2000 \
		http_idle_timeout_ms=4000 http_max_requests=5 http_max_line=4096 http_evict_min_ms=600000 \
		>"$out/native.log" 2>&1 &
	npid=$!
	pids="$pids $npid"
	i=0
	until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$nport/health" || [ $i -ge 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	script conformance timeout 180 python3 "$dir/conformance.py" 127.0.0.1 "$nport" $((off + 7)) native-
	kill "$npid" 2>/dev/null
	wait "$npid" 2>/dev/null
	pids=$(echo "$pids" | sed "s/ $npid\b//")
else
	echo "SKIP native-conformance: $native not built"
	skipped=$((skipped + 1))
fi

# ---- curl, wrk, browser against the defaults ------------------------------------
if ! boot "$out/serve.log" ""; then
	fail=$((fail + 1)); echo "FAIL http/boot: no answer"; tail -n 20 "$out/serve.log"
	echo "http: $pass passed, $fail failed, $skipped skipped"
	exit 1
fi
base=http://127.0.0.1:$tport
r=""
for p in / /docs/ /telemetry/ /health /compute /metrics /api/stats.json /api/requests.json; do
	code=$(curl -s -o /dev/null -w '%{http_code}' --compressed --max-time 5 "$base$p")
	[ "$code" = 200 ] || r="$r $p:$code"
done
if [ -z "$r" ]; then r="ok curl-pages"; else r="FAIL curl-pages:$r"; fi
count "$r"
body=$(curl -s --max-time 5 "$base/metrics")
if echo "$body" | grep -q '^kiln_http_requests_total [0-9]' &&
   echo "$body" | grep -q '^# TYPE kiln_tcp_segments_in_total counter' &&
   echo "$body" | grep -q '^kiln_pool_buffers{pool="[^"]*",state="in_use"} [1-9]' &&
   echo "$body" | grep -q '^kiln_net_drops_total{reason="tcp_bad_opts"} [0-9]' &&
   echo "$body" | grep -q '^kiln_tcp_connections_by_state{state="established"} [1-9]' &&
   echo "$body" | grep -q '^kiln_tcp_mem_limit_bytes [1-9]'; then
	count "ok metrics-format"
else
	count "FAIL metrics-format: $(echo "$body" | head -n 3)"
fi
if python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["http"]["capacity"]>0 and d["nic"]["mac"]; p=d["net"]["pools"]; assert p and all(0 < x["in_use"] <= x["total"] and x["in_use"] + x["free"] == x["total"] for x in p[:1]); assert "tcp_bad_opts" in d["net"]["drops"] and "arp_pending_full" in d["net"]["drops"]; s=d["net"]["tcp_states"]; assert s["established"] >= 1 and "time_wait" in s; m=d["net"]["tcp_mem"]; assert 0 < m["pressure"] <= m["limit"] and m["bytes"] <= m["limit"]' \
	< "$(curl -s --max-time 5 -o "$out/stats.json" "$base/api/stats.json"; echo "$out/stats.json")" 2>/dev/null; then
	count "ok stats-json"
else
	count "FAIL stats-json: $(head -c 200 "$out/stats.json")"
fi

if command -v wrk >/dev/null 2>&1; then
	w=$(timeout 60 wrk -t2 -c32 -d"${HTTP_WRK_SECONDS:-3}s" "$base/health" 2>&1)
	rps=$(echo "$w" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
	errs=$(echo "$w" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')
	if [ -n "$rps" ] && [ -z "$errs" ]; then
		count "ok wrk-health: $rps requests/s (32 connections, QEMU user net, TCG)"
	else
		count "FAIL wrk-health: $(echo "$w" | tail -n 4 | tr '\n' ' ')"
	fi
	if curl -s -o /dev/null --max-time 5 "$base/health"; then
		count "ok after-wrk"
	else
		count "FAIL after-wrk: no answer"
	fi
else
	skipped=$((skipped + 1)); echo "SKIP wrk-health: no wrk"
fi

# ---- HTTPS: the same server on port 443 --------------------------------------------
ca=$BUILD/tls/dev/ca.pem
sbase=https://localhost:$sport
tls_curl() { curl -s --cacert "$ca" --tlsv1.3 --max-time 10 "$@"; }
if [ ! -f "$ca" ]; then
	count "FAIL https: no development CA $ca (mk/tls.mk)"
else
	r=""
	for p in / /telemetry/ /health /metrics /api/stats.json; do
		code=$(tls_curl -o /dev/null -w '%{http_code}' --compressed "$sbase$p")
		[ "$code" = 200 ] || r="$r $p:$code"
	done
	if [ -z "$r" ]; then count "ok https-pages: verified TLS 1.3, every page 200"; else count "FAIL https-pages:$r"; fi
	v=$(tls_curl -v -o /dev/null "$sbase/health" 2>&1 | sed -n 's/.*SSL connection using \(.*\)$/\1/p' | head -n 1)
	case $v in
	"TLSv1.3 / "*) count "ok https-version: $v" ;;
	*) count "FAIL https-version: '$v'" ;;
	esac
	a=$(curl -s --max-time 10 "$base/files/64k.txt" | sha256sum)
	b=$(tls_curl "$sbase/files/64k.txt" | sha256sum)
	if [ "$a" = "$b" ] && [ "$(tls_curl "$sbase/files/64k.txt" | wc -c)" -eq 65536 ]; then
		count "ok https-download: 64 KiB, the same bytes as over HTTP"
	else
		count "FAIL https-download: $a vs $b"
	fi
	head -c 32768 /dev/urandom > "$out/upload.bin"
	e=$(tls_curl --data-binary @"$out/upload.bin" -H 'Content-Type: application/octet-stream' "$sbase/api/echo" | head -n 1)
	if [ "$e" = "32768 bytes" ]; then count "ok https-upload: 32 KiB body over TLS"; else count "FAIL https-upload: '$e'"; fi
	n=0 cpids=""
	for i in 1 2 3 4 5 6 7 8; do
		tls_curl -o /dev/null "$sbase/health" &
		cpids="$cpids $!"
	done
	for j in $cpids; do wait "$j" && n=$((n + 1)); done
	if [ "$n" -eq 8 ]; then count "ok https-parallel: 8 of 8"; else count "FAIL https-parallel: $n of 8"; fi
	if command -v openssl >/dev/null 2>&1; then
		rm -f "$out/sess.pem"
		# (the tickets come after the handshake: s_client must stay a moment)
		(sleep 1; echo) | timeout 20 openssl s_client -connect "127.0.0.1:$sport" -servername localhost -CAfile "$ca" \
			-verify_return_error -sess_out "$out/sess.pem" >"$out/s_client1.log" 2>&1
		(sleep 1; echo) | timeout 20 openssl s_client -connect "127.0.0.1:$sport" -servername localhost -CAfile "$ca" \
			-verify_return_error -sess_in "$out/sess.pem" >"$out/s_client2.log" 2>&1
		if grep -q '^Reused, TLSv1.3' "$out/s_client2.log"; then
			count "ok https-resumption: a session ticket resumed"
		else
			count "FAIL https-resumption: $(grep -E '^(New|Reused)|error' "$out/s_client2.log" | head -n 2 | tr '\n' ' ')"
		fi
	else
		skipped=$((skipped + 1)); echo "SKIP https-resumption: no openssl"
	fi
	if command -v openssl >/dev/null 2>&1; then
		# against the unikernel itself: each suite, each group, a second
		# flight (HelloRetryRequest: s_client's first group, ffdhe2048,
		# is one Kiln does not take), a KeyUpdate each way, TLS 1.2
		sc() { timeout 20 openssl s_client -connect "127.0.0.1:$sport" -servername localhost \
			-CAfile "$ca" -verify_return_error -tls1_3 "$@" 2>&1; }
		req() { printf 'GET /health HTTP/1.1\r\nHost: localhost\r\n%b\r\n' "$1"; }
		r=""
		for c in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
			o=$( { req 'Connection: close\r\n'; sleep 1; } | sc -ciphersuites "$c")
			echo "$o" | grep -q "Cipher is $c" && echo "$o" | grep -q '^HTTP/1.1 200' || r="$r $c"
		done
		if [ -z "$r" ]; then count "ok https-suites: all three"; else count "FAIL https-suites:$r"; fi
		r=""
		for g in X25519:x25519 P-256:prime256v1 P-384:secp384r1; do
			o=$( { req 'Connection: close\r\n'; sleep 1; } | sc -groups "${g%%:*}")
			echo "$o" | grep -qi "Server Temp Key: .*${g#*:}" && echo "$o" | grep -q '^HTTP/1.1 200' ||
				r="$r ${g%%:*}"
		done
		if [ -z "$r" ]; then count "ok https-groups: x25519, P-256, P-384"; else count "FAIL https-groups:$r"; fi
		h0=$(curl -s --max-time 5 "$base/metrics" | sed -n 's/^kiln_tls_hello_retry_total //p')
		o=$( { req 'Connection: close\r\n'; sleep 1; } | sc -groups ffdhe2048:X25519)
		h1=$(curl -s --max-time 5 "$base/metrics" | sed -n 's/^kiln_tls_hello_retry_total //p')
		if echo "$o" | grep -q 'Server Temp Key: X25519' && echo "$o" | grep -q '^HTTP/1.1 200' &&
		   [ "${h1:-0}" -gt "${h0:-0}" ] 2>/dev/null; then
			count "ok https-hrr: a second ClientHello after HelloRetryRequest (retries $h0 -> $h1)"
		else
			count "FAIL https-hrr: retries $h0 -> $h1, $(echo "$o" | grep -E 'Temp Key|error|alert' | head -n 2 | tr '\n' ' ')"
		fi
		o=$( { req ''; sleep 1; echo K; sleep 1; req 'Connection: close\r\n'; sleep 2; } | sc)
		if echo "$o" | grep -q KEYUPDATE && [ "$(echo "$o" | grep -c '^HTTP/1.1 200')" -eq 2 ]; then
			count "ok https-keyupdate: a request on the new keys after a KeyUpdate both ways"
		else
			count "FAIL https-keyupdate: $(echo "$o" | grep -cE '^HTTP/1.1 200') answers"
		fi
		o=$( { req 'Connection: close\r\n'; sleep 1; } | timeout 20 openssl s_client \
			-connect "127.0.0.1:$sport" -tls1_2 2>&1)
		if echo "$o" | grep -qE 'alert protocol version|alert number 70' && ! echo "$o" | grep -q '^HTTP/1.1'; then
			count "ok https-tls12-refused: protocol_version"
		else
			count "FAIL https-tls12-refused: $(echo "$o" | grep -iE 'alert|Cipher' | head -n 2 | tr '\n' ' ')"
		fi
	fi
	if command -v gnutls-cli >/dev/null 2>&1; then
		o=$( { printf 'GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'; sleep 2; } |
			timeout 20 gnutls-cli --x509cafile "$ca" --priority NORMAL:-VERS-ALL:+VERS-TLS1.3 \
				--sni-hostname localhost -p "$sport" 127.0.0.1 2>&1)
		if echo "$o" | grep -q 'Description: (TLS1.3' && echo "$o" | grep -q '^HTTP/1.1 200'; then
			count "ok https-gnutls: $(echo "$o" | sed -n 's/.*Description: //p' | head -n 1)"
		else
			count "FAIL https-gnutls: $(echo "$o" | grep -iE 'error|alert|Description' | head -n 2 | tr '\n' ' ')"
		fi
	else
		skipped=$((skipped + 1)); echo "SKIP https-gnutls: no gnutls-cli"
	fi
	if command -v wrk >/dev/null 2>&1; then
		w=$(timeout 60 wrk -t2 -c32 -d"${HTTP_WRK_SECONDS:-3}s" "$sbase/health" 2>&1)
		rps=$(echo "$w" | sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p')
		errs=$(echo "$w" | grep -E 'Non-2xx|Socket errors' | tr '\n' ' ')
		if [ -n "$rps" ] && [ -z "$errs" ]; then
			count "ok wrk-https-health: $rps requests/s (32 connections, QEMU user net, TCG)"
		else
			count "FAIL wrk-https-health: $(echo "$w" | tail -n 4 | tr '\n' ' ')"
		fi
	fi
	st=$(curl -s --max-time 5 "$base/metrics")
	if echo "$st" | grep -q '^kiln_tls_handshakes_total{kind="full"} [1-9]' &&
	   echo "$st" | grep -q '^kiln_tls_handshakes_total{kind="resumed"} [0-9]'; then
		count "ok https-metrics: $(echo "$st" | grep '^kiln_tls_handshakes_total' | tr '\n' ' ')"
	else
		count "FAIL https-metrics: no kiln_tls_handshakes_total"
	fi
fi

if command -v chromium >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
	cp "$dir/package.json" "$dir/browser.mjs" "$out/"
	if [ -d "$out/node_modules/playwright-core" ] ||
	   (cd "$out" && npm install --no-audit --no-fund --silent >npm.log 2>&1); then
		spki=$(openssl x509 -in "$BUILD/tls/dev/ecdsa.pem" -pubkey -noout 2>/dev/null |
			openssl pkey -pubin -outform der 2>/dev/null | openssl dgst -sha256 -binary | base64)
		script browser timeout 120 node "$out/browser.mjs" "$base" "$(cd "$out" && pwd)/telemetry.png" \
			"$sbase" "$spki"
		[ -f "$out/telemetry.png" ] && echo "  screenshot: $out/telemetry.png"
	else
		skipped=$((skipped + 1)); echo "SKIP browser: npm install playwright-core failed ($out/npm.log)"
	fi
else
	skipped=$((skipped + 1)); echo "SKIP browser: no chromium or npm"
fi
if grep -q "panic\|assertion failed" "$out/serve.log" "$out/conformance.log"; then
	count "FAIL no-crash: $(grep -h 'panic\|assertion' "$out/serve.log" "$out/conformance.log" | head -n 2)"
else
	count "ok no-crash"
fi
stop
echo "http: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
