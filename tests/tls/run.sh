#!/bin/sh
# run.sh - Kiln's TLS 1.3 engine against real clients, hosted (no VM).
#
# First certbake (tools/certbake) is given good and bad input: SEC1 and
# PKCS#1 keys are taken; a key that is not the certificate's, a garbage
# file, an Ed25519 key, a P-384 key, a key given as the certificate and a
# chain of too many certificates are each refused with a clear message, a
# non-zero exit and no output file.
#
# Then $BUILD/tls/tls_serve (tests/tls/tls_serve.c: the engine on Linux
# sockets with the baked development certificates) is started on
# loopback ports, several times with different options, and openssl
# s_client, curl, gnutls-cli and tests/tls/hostile.py connect to it:
# every suite and group, HelloRetryRequest, the RSA certificate for an
# RSA-PSS-only client, SNI, ALPN, resumption, 0-RTT declined, TLS 1.2
# refused, KeyUpdates both ways, keep-alive, 50 clients at once with 4
# work buffers, malformed openings, and each server's clean exit on
# SIGTERM (every work buffer back, no sanitizer report).
#
# One line per check: "ok NAME", "FAIL NAME: reason" or "SKIP NAME:
# reason" (a client that is not installed: `make deps` installs them);
# the last line is "tls: N passed, N failed, N skipped". A binary that
# did not build is a failure. Only processes this script started are
# stopped, by PID. Environment: BUILD (build).
set -u
BUILD=${BUILD:-build}
serve=$BUILD/tls/tls_serve
certbake=$BUILD/host/certbake
dev=$BUILD/tls/dev
ca=$dev/ca.pem
here=$(dirname "$0")
logs=$BUILD/tls/test-logs
rm -rf "$logs"
mkdir -p "$logs"

pass=0 fail=0 skipped=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -n "${3:-}" ] && printf '%s\n' "$3" | tail -n 12 | sed 's/^/    | /'
	return 0
}
skip() { skipped=$((skipped + 1)); echo "SKIP $1: $2"; }
have() { command -v "$1" >/dev/null 2>&1; }

pids=""
cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=""
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# expect NAME OUTPUT PATTERN...: ok when every extended regexp matches
# a line of OUTPUT, and no line matches a pattern written "!REGEXP".
expect() {
	name=$1 out=$2
	shift 2
	for p in "$@"; do
		case $p in
		!*)
			if printf '%s\n' "$out" | grep -qE -- "${p#!}"; then
				bad "$name" "unexpected '${p#!}' in the output" "$out"
				return 1
			fi
			;;
		*)
			if ! printf '%s\n' "$out" | grep -qE -- "$p"; then
				bad "$name" "no '$p' in the output" "$out"
				return 1
			fi
			;;
		esac
	done
	ok "$name"
}

# ---- certbake -----------------------------------------------------------------

# refused NAME MESSAGE-REGEXP CHAIN KEY: certbake must exit non-zero, say
# MESSAGE and write nothing.
refused() {
	name=$1 msg=$2
	shift 2
	rm -f "$logs/cb.c"
	out=$("$certbake" -o "$logs/cb.c" "$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		bad "$name" "certbake accepted it" "$out"
	elif [ -e "$logs/cb.c" ]; then
		bad "$name" "certbake failed but left $logs/cb.c"
	elif ! printf '%s\n' "$out" | grep -qE -- "$msg"; then
		bad "$name" "exit $rc without a message matching '$msg'" "$out"
	else
		ok "$name"
	fi
}

if [ ! -x "$certbake" ]; then
	bad certbake "$certbake was not built (make tls-build)"
elif [ ! -f "$ca" ]; then
	bad certbake "no development set in $dev (make tls-build)"
elif ! have openssl; then
	skip certbake "openssl is not installed"
else
	t=$logs/certbake
	mkdir -p "$t"
	openssl ec -in "$dev/ecdsa.key" -out "$t/ec-sec1.key" 2>/dev/null
	openssl rsa -traditional -in "$dev/rsa.key" -out "$t/rsa-pkcs1.key" 2>/dev/null
	out=$("$certbake" -o "$t/ok.c" --names=localhost "$dev/ecdsa.pem" "$t/ec-sec1.key" \
		--names=localhost "$dev/rsa.pem" "$t/rsa-pkcs1.key" 2>&1)
	if [ $? -ne 0 ]; then
		bad certbake-sec1-pkcs1 "SEC1 and PKCS#1 keys refused" "$out"
	elif ! grep -q 'TLS_KEY_EC_P256' "$t/ok.c" || ! grep -q 'TLS_KEY_RSA' "$t/ok.c" ||
	     [ "$(grep -c '"localhost"' "$t/ok.c")" -ne 2 ]; then
		bad certbake-sec1-pkcs1 "the output lacks a key or a name" "$(head -c 2000 "$t/ok.c")"
	else
		ok certbake-sec1-pkcs1
	fi
	head -c 3000 /dev/urandom > "$t/garbage.pem"
	openssl genpkey -algorithm ed25519 -out "$t/ed25519.key" 2>/dev/null
	openssl req -new -x509 -key "$t/ed25519.key" -subj /CN=ed -days 2 -out "$t/ed25519.pem" 2>/dev/null
	openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$t/p384.key"
	openssl req -new -x509 -key "$t/p384.key" -subj /CN=p384 -days 2 -out "$t/p384.pem" 2>/dev/null
	cat "$dev/ecdsa.pem" "$dev/ca.pem" "$dev/ca.pem" "$dev/ca.pem" "$dev/ca.pem" > "$t/long.pem"
	refused certbake-mismatch 'do not match' "$dev/ecdsa.pem" "$dev/ca.key"
	refused certbake-mismatch-type 'do not match.*EC key, the private key is RSA' \
		"$dev/ecdsa.pem" "$dev/rsa.key"
	refused certbake-garbage-cert 'not PEM' "$t/garbage.pem" "$dev/ecdsa.key"
	refused certbake-garbage-key 'not PEM' "$dev/ecdsa.pem" "$t/garbage.pem"
	refused certbake-ed25519 'unsupported key type' "$dev/ecdsa.pem" "$t/ed25519.key"
	refused certbake-ed25519-cert 'unsupported' "$t/ed25519.pem" "$t/ed25519.key"
	refused certbake-p384 'unsupported curve P-384' "$t/p384.pem" "$t/p384.key"
	refused certbake-swapped 'holds a private key' "$dev/ecdsa.key" "$dev/ecdsa.pem"
	refused certbake-too-many 'too many certificates' "$t/long.pem" "$dev/ecdsa.key"
	refused certbake-bad-name 'not a DNS name' '--names=a"b' "$dev/ecdsa.pem" "$dev/ecdsa.key"
fi

# ---- the server ------------------------------------------------------------------

# start NAME ARGS...: starts tls_serve; sets port_NAME and pid_NAME.
start() {
	sname=$1
	shift
	"$serve" --port 0 "$@" > "$logs/$sname.out" 2> "$logs/$sname.err" &
	spid=$!
	pids="$pids $spid"
	sport=""
	i=0
	while [ $i -lt 100 ]; do
		sport=$(sed -n 's/^tls_serve: listening on .*:\([0-9][0-9]*\)$/\1/p' "$logs/$sname.out")
		[ -n "$sport" ] && break
		kill -0 "$spid" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	eval "port_$sname=\$sport pid_$sname=\$spid"
	if [ -z "$sport" ]; then
		bad "start-$sname" "tls_serve $* did not start" "$(cat "$logs/$sname.err")"
		return 1
	fi
}

# stop NAME: SIGTERM; the server must exit 0 with every work buffer back.
stop() {
	eval "spid=\$pid_$1"
	[ -n "$spid" ] || return 0
	kill -TERM "$spid" 2>/dev/null
	wait "$spid"
	rc=$?
	npids=""
	for p in $pids; do [ "$p" = "$spid" ] || npids="$npids $p"; done
	pids=$npids
	eval "pid_$1="
	if [ $rc -ne 0 ] || ! grep -q 'every work buffer back' "$logs/$1.err"; then
		bad "exit-$1" "tls_serve ($1) exited with status $rc" "$(cat "$logs/$1.err")"
	else
		ok "exit-$1"
	fi
	grep '^tls_serve stats:' "$logs/$1.err" | tail -n 1 | sed 's/^/  /'
}

# counter NAME FIELD: a counter from the server's last stats line.
counter() {
	grep '^tls_serve stats:' "$logs/$1.err" | tail -n 1 |
		sed -n "s/.* $2=\([0-9][0-9]*\).*/\1/p"
}

# req PATH [close]: one HTTP/1.1 request.
req() {
	if [ "${2:-}" = keep ]; then
		printf 'GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n' "$1"
	else
		printf 'GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' "$1"
	fi
}

# sc PORT PATH S_CLIENT-ARGS...: one request through openssl s_client,
# chain verified against the development CA; prints everything.
sc() {
	scport=$1 scpath=$2
	shift 2
	req "$scpath" | timeout 20 openssl s_client -connect "127.0.0.1:$scport" -tls1_3 \
		-CAfile "$ca" -verify_return_error -ign_eof "$@" 2>&1
}

# The checks verify chains against the development CA: a build baked
# with TLS_CERT/TLS_KEY fails them, so say why first.
if [ -f "$BUILD/tls/sources" ] && ! grep -q "^$dev/ecdsa.pem $dev/ecdsa.key $dev/rsa.pem $dev/rsa.key\$" \
	"$BUILD/tls/sources"; then
	bad dev-set "the baked certificates are not the development set ($(cat "$BUILD/tls/sources")); rebuild without TLS_CERT/TLS_KEY"
fi

server_missing=""
if [ ! -x "$serve" ]; then
	server_missing="$serve was not built (make tls-build)"
	bad tls_serve "$server_missing"
fi
if [ -z "$server_missing" ]; then
	start main --suites aes128,aes256,chacha --alpn http/1.1 --chacha-pref yes \
		--ticket-lifetime 3600 --work-bufs 4 || server_missing="the main server did not start"
	start hrr --groups x25519
	start sni --cert-names 0=localhost --cert-names '1=kiln.local,*.kiln.test'
	start nochacha --chacha-pref no --suites aes128,aes256,chacha
	start ku --keyupdate-after 1
fi
P=${port_main:-0}

if [ -n "$server_missing" ]; then
	:
elif ! have openssl; then
	skip s_client "openssl is not installed"
else
	# Each suite; each group; the chain verified (-verify_return_error).
	for s in TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256; do
		out=$(sc "$P" "/$s" -ciphersuites "$s" -servername localhost -verify_hostname localhost)
		expect "s_client-suite-$s" "$out" "New, TLSv1.3, Cipher is $s" \
			'Verify return code: 0 \(ok\)' "^suite=$s " "^path=/$s\$"
	done
	for g in X25519:'X25519, 253 bits':0x001d P-256:'ECDH, prime256v1, 256 bits':0x0017 \
		 P-384:'ECDH, secp384r1, 384 bits':0x0018; do
		name=${g%%:*} rest=${g#*:}
		out=$(sc "$P" "/$name" -groups "$name" -servername localhost)
		expect "s_client-group-$name" "$out" "Server Temp Key: ${rest%:*}" \
			"^group=.*\(${rest#*:}\)" '^hrr=no' 'Verify return code: 0 \(ok\)'
	done

	# HelloRetryRequest: s_client sends a share for its first group only.
	out=$(sc "${port_hrr:-0}" /hrr -groups P-256:X25519)
	expect s_client-hrr "$out" 'Server Temp Key: X25519' '^hrr=yes' '^group=.*\(0x001d\)' \
		'Verify return code: 0 \(ok\)'
	out=$(sc "${port_hrr:-0}" /hrr-none -groups P-256:P-384)
	expect s_client-no-common-group "$out" 'alert (handshake failure|insufficient security)' \
		'!^kiln tls_serve'

	# The certificate: ECDSA by default, RSA for an RSA-PSS-only client.
	out=$(sc "$P" /ecdsa -servername localhost)
	expect s_client-cert-ecdsa "$out" 'Server public key is 256 bit' '^cert=0 ecdsa-p256' \
		'Peer signature type: ECDSA'
	out=$(sc "$P" /rsa -sigalgs rsa_pss_rsae_sha256 -servername localhost)
	expect s_client-cert-rsa-pss "$out" 'Server public key is 2048 bit' \
		'Peer signature type: RSA-PSS' '^cert=1 rsa' 'Verify return code: 0 \(ok\)'

	# SNI with the development names (both leaves carry them all): the
	# name verifies; an unknown name gets the default certificate.
	for n in kiln.local foo.kiln.test; do
		out=$(sc "$P" "/sni-$n" -servername "$n" -verify_hostname "$n")
		expect "s_client-sni-$n" "$out" 'Verify return code: 0 \(ok\)' '^cert=0 '
	done
	out=$(sc "$P" /sni-unknown -servername unknown.example)
	expect s_client-sni-unknown "$out" 'New, TLSv1.3' '^cert=0 ecdsa-p256' \
		'Server public key is 256 bit'
	# SNI where the names differ (server "sni": ECDSA serves localhost,
	# RSA kiln.local and *.kiln.test): the name picks the certificate.
	SP=${port_sni:-0}
	out=$(sc "$SP" /sni -servername kiln.local -verify_hostname kiln.local)
	expect s_client-sni-picks-kiln.local "$out" 'Server public key is 2048 bit' '^cert=1 rsa'
	out=$(sc "$SP" /sni -servername foo.kiln.test -verify_hostname foo.kiln.test)
	expect s_client-sni-picks-wildcard "$out" 'Server public key is 2048 bit' '^cert=1 rsa'
	out=$(sc "$SP" /sni -servername a.b.kiln.test)
	expect s_client-sni-wildcard-one-label "$out" 'Server public key is 256 bit' '^cert=0 '
	out=$(sc "$SP" /sni -servername localhost -verify_hostname localhost)
	expect s_client-sni-picks-localhost "$out" 'Server public key is 256 bit' '^cert=0 '
	out=$(sc "$SP" /sni -servername unknown.example)
	expect s_client-sni-default "$out" 'Server public key is 256 bit' '^cert=0 '

	# ALPN: the server offers http/1.1 only.
	out=$(sc "$P" /alpn -alpn h2,http/1.1)
	expect s_client-alpn "$out" 'ALPN protocol: http/1.1' '^alpn=http/1.1$'
	out=$(sc "$P" /alpn-none)
	expect s_client-alpn-absent "$out" 'No ALPN negotiated' '^alpn=none$'
	out=$(sc "$P" /alpn-h2 -alpn h2)
	expect s_client-alpn-mismatch "$out" 'alert no application protocol|alert number 120' \
		'!^kiln tls_serve'

	# Suite preference: the server's order, except that a client listing
	# ChaCha20 first gets it when the server honours that (server main
	# does, server nochacha does not).
	out=$(sc "$P" /pref -ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256)
	expect s_client-server-preference "$out" 'Cipher is TLS_AES_128_GCM_SHA256'
	out=$(sc "$P" /chacha -ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256)
	expect s_client-chacha-honoured "$out" 'Cipher is TLS_CHACHA20_POLY1305_SHA256'
	out=$(sc "${port_nochacha:-0}" /chacha \
		-ciphersuites TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256)
	expect s_client-chacha-not-honoured "$out" 'Cipher is TLS_AES_128_GCM_SHA256'

	# Resumption, then 0-RTT: early data is declined and never answered.
	sess=$logs/session.pem
	out=$(sc "$P" /first -sess_out "$sess")
	if [ ! -s "$sess" ]; then
		bad s_client-resumption "no session saved (no ticket received?)" "$out"
		bad s_client-0rtt-declined "no session to send early data with"
	else
		out=$(sc "$P" /again -sess_in "$sess")
		expect s_client-resumption "$out" 'Reused, TLSv1.3' '^resumed=yes$' '^path=/again$'
		# The engine never offers 0-RTT in its tickets (max_early_data
		# 0), so s_client would not send any: the saved session is
		# given max_early_data (tests/tls/early_session.py) to make it.
		req /early keep > "$logs/early.txt"
		if ! have python3 || ! python3 "$here/early_session.py" "$sess" "$logs/session-0rtt.pem"; then
			bad s_client-0rtt-declined "could not give the session max_early_data (python3)"
		else
			out=$(sc "$P" /late -sess_in "$logs/session-0rtt.pem" -early_data "$logs/early.txt")
			expect s_client-0rtt-declined "$out" 'Reused, TLSv1.3' 'Early data was rejected' \
				'^path=/late$' '^request=1$' '!^path=/early'
		fi
	fi

	# TLS 1.2 only: refused with protocol_version.
	out=$(req /tls12 | timeout 20 openssl s_client -connect "127.0.0.1:$P" -tls1_2 \
		-CAfile "$ca" 2>&1)
	expect s_client-tls12-refused "$out" 'alert protocol version|alert number 70' \
		'!^kiln tls_serve'

	# KeyUpdate from the client ('K' asks for one back, 'k' does not),
	# then a request on the new keys.
	for k in K k; do
		out=$( { req /before keep; sleep 1; echo $k; sleep 1; req /after; sleep 2; } |
			timeout 20 openssl s_client -connect "127.0.0.1:$P" -tls1_3 -CAfile "$ca" \
				-verify_return_error 2>&1)
		expect "s_client-keyupdate-$k" "$out" 'KEYUPDATE' '^path=/before$' '^path=/after$' \
			'^request=2$'
	done
	# KeyUpdate from the server (server ku sends one, asking for one
	# back, after its first response), then more requests.
	out=$( { req /one keep; req /two keep; sleep 1; req /three; sleep 2; } |
		timeout 20 openssl s_client -connect "127.0.0.1:${port_ku:-0}" -tls1_3 \
			-CAfile "$ca" -verify_return_error -ign_eof 2>&1)
	expect s_client-server-keyupdate "$out" '^path=/one$' '^path=/two$' '^path=/three$' \
		'^request=3$'
fi

if [ -n "$server_missing" ]; then
	:
elif ! have curl; then
	skip curl "curl is not installed"
else
	cu() { timeout 30 curl -sS --tlsv1.3 --cacert "$ca" --resolve "localhost:$P:127.0.0.1" "$@" 2>&1; }
	out=$(cu "https://localhost:$P/curl")
	expect curl "$out" '^kiln tls_serve$' '^path=/curl$' '^alpn=http/1.1$'
	out=$(cu --http1.1 "https://localhost:$P/curl11")
	expect curl-http1.1 "$out" '^kiln tls_serve$' '^path=/curl11$' '^alpn=http/1.1$'
	out=$(cu "https://localhost:$P/k1" "https://localhost:$P/k2" "https://localhost:$P/k3")
	expect curl-keep-alive "$out" '^path=/k3$' '^request=3$'
	out=$(timeout 30 curl -sS --tlsv1.3 --cacert "$ca" --resolve "localhost:${port_ku:-0}:127.0.0.1" \
		"https://localhost:${port_ku:-0}/u1" "https://localhost:${port_ku:-0}/u2" \
		"https://localhost:${port_ku:-0}/u3" 2>&1)
	expect curl-server-keyupdate "$out" '^path=/u3$' '^request=3$'

	# 50 clients at once on a server of 4 work buffers.
	cpids="" i=0
	while [ $i -lt 50 ]; do
		curl -sS --tlsv1.3 --cacert "$ca" --resolve "localhost:$P:127.0.0.1" --max-time 30 \
			-o "$logs/conc.$i" "https://localhost:$P/c$i" 2> "$logs/conc.$i.err" &
		cpids="$cpids $!"
		i=$((i + 1))
	done
	nbad=0
	for p in $cpids; do wait "$p" || nbad=$((nbad + 1)); done
	i=0 nbody=0
	while [ $i -lt 50 ]; do
		grep -qx "path=/c$i" "$logs/conc.$i" 2>/dev/null && nbody=$((nbody + 1))
		i=$((i + 1))
	done
	if [ $nbad -eq 0 ] && [ $nbody -eq 50 ]; then
		ok curl-50-concurrent
	else
		bad curl-50-concurrent "$nbad curl failed, $nbody of 50 got their response" \
			"$(cat "$logs"/conc.*.err | sort | uniq -c | head)"
	fi
fi

if [ -n "$server_missing" ]; then
	:
elif ! have gnutls-cli; then
	skip gnutls-cli "gnutls-cli is not installed (Debian: gnutls-bin)"
else
	gc() {
		{ req "$1"; sleep 2; } | timeout 20 gnutls-cli --x509cafile "$ca" \
			--priority "$2" --sni-hostname localhost -p "$P" 127.0.0.1 2>&1
	}
	out=$(gc /gnutls NORMAL:-VERS-ALL:+VERS-TLS1.3)
	expect gnutls-cli "$out" 'Description: \(TLS1.3' '^kiln tls_serve$' '^path=/gnutls$'
	out=$(gc /gnutls-chacha NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+CHACHA20-POLY1305)
	expect gnutls-cli-chacha20 "$out" 'CHACHA20-POLY1305' \
		'^suite=TLS_CHACHA20_POLY1305_SHA256 ' '^path=/gnutls-chacha$'
	out=$(gc /gnutls-p384 NORMAL:-VERS-ALL:+VERS-TLS1.3:-GROUP-ALL:+GROUP-SECP384R1)
	expect gnutls-cli-p384 "$out" '^group=.*\(0x0018\)' '^path=/gnutls-p384$'
	# record_size_limit 512 (RFC 8449): an 800-byte response in records
	# of at most 512 bytes, reassembled whole.
	out=$( { req /pad-rsl; sleep 2; } | timeout 20 gnutls-cli --x509cafile "$ca" \
		--priority NORMAL:-VERS-ALL:+VERS-TLS1.3 --recordsize 512 --sni-hostname localhost \
		-p "$P" 127.0.0.1 2>&1)
	expect gnutls-cli-record-size-limit "$out" '^path=/pad-rsl$' '^pad=x{300,}$'
fi

# Malformed openings get an alert or a close, and the server goes on.
if [ -n "$server_missing" ]; then
	:
elif ! have python3; then
	skip hostile "python3 is not installed"
else
	for m in garbage:'^(alert 2 [0-9]+|close)$' oversized:'^(alert 2 (22|50|10)|close)$' \
		 truncated:'^(alert 2 [0-9]+|close)$' badlen:'^(alert 2 (50|47)|close)$' \
		 fragmented:'^handshake$'; do
		mode=${m%%:*}
		out=$(timeout 20 python3 "$here/hostile.py" "$P" "$mode" 2>&1)
		if ! printf '%s\n' "$out" | grep -qE -- "${m#*:}"; then
			bad "hostile-$mode" "got '$out', wanted ${m#*:}"
			continue
		fi
		if ! kill -0 "${pid_main:-0}" 2>/dev/null; then
			bad "hostile-$mode" "the server died ($out)" "$(tail -n 20 "$logs/main.err")"
			server_missing="the main server died"
			break
		fi
		if have curl; then
			after=$(timeout 20 curl -sS --tlsv1.3 --cacert "$ca" \
				--resolve "localhost:$P:127.0.0.1" "https://localhost:$P/after-$mode" 2>&1)
			if ! printf '%s\n' "$after" | grep -qx "path=/after-$mode"; then
				bad "hostile-$mode" "got '$out', but the server does not answer after it" "$after"
				continue
			fi
		fi
		ok "hostile-$mode ($out)"
	done
fi

# Clean exits, and the counters the checks above must have moved.
if [ -z "$server_missing" ]; then
	for s in main hrr sni nochacha ku; do stop "$s"; done
	if have openssl; then
		[ "$(counter main keyupdates_in)" -ge 2 ] 2>/dev/null &&
		[ "$(counter main keyupdates_out)" -ge 1 ] 2>/dev/null &&
			ok stats-keyupdates || bad stats-keyupdates "main counted keyupdates_in=$(counter main keyupdates_in) keyupdates_out=$(counter main keyupdates_out)"
		[ "$(counter main handshakes_resumed)" -ge 2 ] 2>/dev/null &&
			ok stats-resumed || bad stats-resumed "main counted handshakes_resumed=$(counter main handshakes_resumed)"
		[ "$(counter main early_data_skipped)" -ge 1 ] 2>/dev/null &&
			ok stats-early-data-skipped || bad stats-early-data-skipped "main counted early_data_skipped=$(counter main early_data_skipped)"
		[ "$(counter hrr hrr_sent)" -ge 1 ] 2>/dev/null &&
			ok stats-hrr || bad stats-hrr "hrr counted hrr_sent=$(counter hrr hrr_sent)"
		[ "$(counter ku keyupdates_out)" -ge 1 ] 2>/dev/null &&
			ok stats-server-keyupdate || bad stats-server-keyupdate "ku counted keyupdates_out=$(counter ku keyupdates_out)"
	fi
fi
cleanup

echo "tls: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
