#!/usr/bin/env python3
# conformance.py HOST PORT [UDP_PORT [PREFIX]] - HTTP/1.1 conformance checks of
# apps/webserver over raw sockets (RFC 9110/9112). The server must run
# with the small limits tests/http/run.sh boots it with:
#   http_conns=16 http_req_timeout_ms=2000 http_idle_timeout_ms=4000
#   http_max_requests=5 http_max_line=4096 http_evict_min_ms=600000
# (the last: no request head gets old enough to be evicted, so the pool of
# heads in progress gets its 503 on however slow a machine; eviction of
# slow heads is checked where time is set, tests/unit/test_http.c).
# Prints "ok NAME" or "FAIL NAME: why" per check (NAME starts with PREFIX)
# and, only when it ran to its end, "conformance: N passed, N failed";
# exits 1 if any failed. An exception in a check is that check's failure.
import gzip, json, re, socket, sys, time

HOST, PORT = sys.argv[1], int(sys.argv[2])
UDP_PORT = int(sys.argv[3]) if len(sys.argv) > 3 else 0
PREFIX = sys.argv[4] if len(sys.argv) > 4 else ""
CONNS, REQ_TIMEOUT, MAX_REQ = 16, 2.0, 5
results = []


def check(name, cond, why=""):
    results.append(bool(cond))
    name = PREFIX + name
    print(("ok %s" % name) if cond else ("FAIL %s: %s" % (name, why)), flush=True)


def conn(timeout=5.0):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


class Resp:
    def __init__(self, status, reason, headers, body, raw_head):
        self.status, self.reason, self.headers, self.body, self.raw_head = \
            status, reason, headers, body, raw_head

    def h(self, name):
        return self.headers.get(name.lower())


class Reader:
    """Reads responses off one connection (Content-Length, chunked, or close)."""

    def __init__(self, s):
        self.s, self.buf, self.eof = s, b"", False

    def fill(self):
        try:
            d = self.s.recv(65536)
        except ConnectionResetError:
            d = b""
        if not d:
            self.eof = True
        self.buf += d
        return bool(d)

    def line(self):
        while b"\r\n" not in self.buf:
            if not self.fill():
                raise EOFError("closed in the middle of a line")
        i = self.buf.index(b"\r\n")
        l, self.buf = self.buf[:i], self.buf[i + 2:]
        return l

    def take(self, n):
        while len(self.buf) < n:
            if not self.fill():
                raise EOFError("closed in the middle of a body")
        d, self.buf = self.buf[:n], self.buf[n:]
        return d

    def response(self, head_only=False):
        while not self.buf:
            if not self.fill():
                return None
        status_line = self.line().decode("latin-1")
        parts = status_line.split(" ", 2)
        status = int(parts[1])
        headers, raw = {}, [status_line]
        while True:
            l = self.line().decode("latin-1")
            if not l:
                break
            raw.append(l)
            k, v = l.split(":", 1)
            headers[k.strip().lower()] = v.strip()
        body = b""
        if head_only or status in (204, 304) or 100 <= status < 200:
            pass
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int(self.line().split(b";")[0], 16)
                if size == 0:
                    while self.line():
                        pass
                    break
                body += self.take(size)
                self.line()
        elif "content-length" in headers:
            body = self.take(int(headers["content-length"]))
        else:
            while self.fill():
                pass
            body, self.buf = self.buf, b""
        return Resp(status, parts[2] if len(parts) > 2 else "", headers, body, raw)

    def closed(self, wait=3.0):
        """True when the peer closes (FIN or reset) within wait seconds."""
        self.s.settimeout(wait)
        try:
            while True:
                d = self.s.recv(65536)
                if not d:
                    return True
                self.buf += d
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


def request(raw, head_only=False, timeout=5.0):
    s = conn(timeout)
    try:
        s.sendall(raw)
        return Reader(s).response(head_only)
    finally:
        s.close()


def get(path, extra="", head_only=False):
    return request(("%s %s HTTP/1.1\r\nHost: t\r\n%s\r\n" %
                    ("HEAD" if head_only else "GET", path, extra)).encode(), head_only)


def expect_status(name, raw, status):
    try:
        r = request(raw)
        check(name, r is not None and r.status == status,
              "got %s" % (r.status if r else "no response"))
    except Exception as e:  # a reset without an answer is a failure here
        check(name, False, repr(e))


# ---- wait until the server answers ------------------------------------------------
for attempt in range(100):
    try:
        if get("/health").status == 200:
            break
    except OSError:
        pass
    time.sleep(0.2)

# ---- basics -----------------------------------------------------------------
r = get("/health")
check("get-health", r.status == 200 and r.body == b"ok\n", "%d %r" % (r.status, r.body))
check("date-and-server-headers", r.h("date") and r.h("server") == "Kiln", r.raw_head)
r = get("/health", head_only=True)
check("head-no-body", r.status == 200 and r.h("content-length") == "3", r.raw_head)
r = get("/compute")
check("compute", r.status == 200 and len(r.body.strip()) == 64, repr(r.body))
r = request(b"POST /health HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\n\r\n")
check("405-allow", r.status == 405 and "GET" in (r.h("allow") or ""), r.raw_head)
r = get("/no/such/page")
check("404", r.status == 404)
r = get("/../../etc/passwd")
check("traversal-refused", r.status in (400, 404), str(r.status))

# ---- pipelining -------------------------------------------------------------
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\nGET /compute HTTP/1.1\r\nHost: t\r\n\r\n"
          b"GET /nope HTTP/1.1\r\nHost: t\r\n\r\nHEAD /health HTTP/1.1\r\nHost: t\r\n\r\n")
rd = Reader(s)
got = [rd.response().status, rd.response().status, rd.response().status,
       rd.response(head_only=True).status]
s.close()
check("pipelining-in-order", got == [200, 200, 404, 200], str(got))

# ---- request bodies -----------------------------------------------------------
r = request(b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 11\r\n\r\nhello world")
check("body-content-length", r.status == 200 and r.body == b"11 bytes\nhello world", repr(r.body))
r = request(b"POST /api/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n")
check("body-chunked", r.status == 200 and r.body == b"11 bytes\nhello world", repr(r.body))
s = conn()
s.sendall(b"POST /api/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
for piece in (b"3\r\nab", b"c\r\n", b"2\r", b"\nde\r\n0\r\n", b"\r\n"):
    time.sleep(0.05)
    s.sendall(piece)
r = Reader(s).response()
s.close()
check("body-chunked-split", r.status == 200 and r.body == b"5 bytes\nabcde", repr(r.body))
# bodies larger than a connection's buffer (gathered in memory from the body store)
big = bytes(range(256)) * 800
r = request(b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n\r\n" % len(big) + big)
check("body-large", r.status == 200 and r.body == b"204800 bytes\n", repr(r.body[:40]))
r = request(b"POST /api/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" +
            b"".join(b"%x\r\n" % 4000 + big[i:i + 4000] + b"\r\n" for i in range(0, 80000, 4000)) +
            b"0\r\n\r\n")
check("body-large-chunked", r.status == 200 and r.body == b"80000 bytes\n", repr(r.body[:40]))

# ---- errors ---------------------------------------------------------------------
expect_status("400-bad-request-line", b"GET\r\n\r\n", 400)
expect_status("400-bad-header", b"GET / HTTP/1.1\r\nHost: t\r\nNo colon here\r\n\r\n", 400)
expect_status("400-no-host", b"GET / HTTP/1.1\r\n\r\n", 400)
expect_status("413-body-too-large",
              b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n", 413)
expect_status("414-uri-too-long",
              b"GET /" + b"a" * 6000 + b" HTTP/1.1\r\nHost: t\r\n\r\n", 414)
expect_status("431-too-many-headers", b"GET / HTTP/1.1\r\nHost: t\r\n" +
              b"".join(b"X-H%d: v\r\n" % i for i in range(80)) + b"\r\n", 431)
expect_status("431-head-too-large", b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " +
              b"b" * 7000 + b"\r\nX-Big2: " + b"b" * 3000 + b"\r\n\r\n", 431)
expect_status("501-unknown-coding",
              b"POST /api/echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501)
expect_status("501-unknown-method", b"BREW /pot HTTP/1.1\r\nHost: t\r\n\r\n", 501)
expect_status("505-version", b"GET / HTTP/2.0\r\nHost: t\r\n\r\n", 505)

# ---- request smuggling defences ----------------------------------------------------
expect_status("smuggle-cl-and-te", b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400)
expect_status("smuggle-two-cl", b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n"
              b"Content-Length: 4\r\n\r\nabcd", 400)
expect_status("smuggle-bad-cl", b"POST /api/echo HTTP/1.1\r\nHost: t\r\nContent-Length: +3\r\n\r\nabc",
              400)
expect_status("smuggle-obs-fold", b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\r\n  folded\r\n\r\n", 400)
expect_status("smuggle-bare-cr", b"GET / HTTP/1.1\r\nHost: t\r\nX-A: a\rb\r\n\r\n", 400)
expect_status("smuggle-space-before-colon", b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length : 0\r\n\r\n",
              400)

# ---- conditional, ranges, gzip ---------------------------------------------------------
r = get("/style.css")
etag = r.h("etag")
full = r.body
check("etag-and-cache-control", etag and r.h("cache-control"), r.raw_head)
r = get("/style.css", "If-None-Match: %s\r\n" % etag)
check("304-if-none-match", r.status == 304 and not r.body, str(r.status))
r = get("/style.css", "If-None-Match: \"nope\"\r\n")
check("200-if-none-match-other", r.status == 200)
r = get("/style.css", "Range: bytes=0-9\r\n")
check("206-range", r.status == 206 and r.body == full[:10] and
      r.h("content-range") == "bytes 0-9/%d" % len(full), r.raw_head)
r = get("/style.css", "Range: bytes=-5\r\n")
check("206-suffix-range", r.status == 206 and r.body == full[-5:], r.raw_head)
r = get("/style.css", "Range: bytes=99999999-\r\n")
check("416-range", r.status == 416 and r.h("content-range") == "bytes */%d" % len(full), r.raw_head)
r = get("/style.css", "Accept-Encoding: gzip, deflate\r\n")
ok = r.h("content-encoding") == "gzip" and gzip.decompress(r.body) == full
check("gzip-negotiated", ok and "accept-encoding" in (r.h("vary") or "").lower(), r.raw_head)
r = get("/style.css", "Accept-Encoding: gzip;q=0, br\r\n")
check("gzip-refused-q0", r.status == 200 and r.h("content-encoding") is None and r.body == full,
      r.raw_head)
r = get("/docs/")
check("index-html", r.status == 200 and b"<html" in r.body[:200].lower(), str(r.status))
r = get("/docs")
check("dir-redirect", r.status == 308 and r.h("location") == "/docs/", r.raw_head)

# ---- persistence ------------------------------------------------------------------------
s = conn()
rd = Reader(s)
statuses, last = [], None
for i in range(MAX_REQ):
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    last = rd.response()
    statuses.append(last.status)
check("keep-alive-limit", statuses == [200] * MAX_REQ and
      (last.h("connection") or "").lower() == "close" and rd.closed(), str(statuses))
s.close()
s = conn()
s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
rd = Reader(s)
r = rd.response()
check("http10-closes", r.status == 200 and rd.closed(), r.raw_head)
s.close()
s = conn()
s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
rd = Reader(s)
r = rd.response()
check("http10-keep-alive", r.status == 200 and not rd.closed(0.5), r.raw_head)
s.close()
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
rd = Reader(s)
r = rd.response()
check("connection-close", r.status == 200 and rd.closed(), r.raw_head)
s.close()

# ---- timeouts ------------------------------------------------------------------------------
s = conn()
t0 = time.time()
s.settimeout(REQ_TIMEOUT * 4)
try:
    for ch in b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"z" * 40:
        s.sendall(bytes([ch]))
        time.sleep(0.2)
        if time.time() - t0 > REQ_TIMEOUT * 3:
            break
except (BrokenPipeError, ConnectionResetError):
    pass
rd = Reader(s)
try:
    r = rd.response()
except Exception:
    r = None
dt = time.time() - t0
check("408-slowloris", r is not None and r.status == 408 and dt < REQ_TIMEOUT * 3,
      "status %s after %.1f s" % (r.status if r else None, dt))
s.close()
s = conn()
rd = Reader(s)
t0 = time.time()
closed = rd.closed(8.0)
check("idle-timeout-closes", closed and 3.0 < time.time() - t0 < 7.5, "%.1f s" % (time.time() - t0))
s.close()

# ---- connection exhaustion and recovery --------------------------------------------------------
time.sleep(2.5)    # earlier connections finish lingering
# Every slot held by an idle keep-alive connection: a new client is still
# served - the one idle longest is closed for it (nginx's policy).
held, alive = [], 0
for i in range(CONNS):
    s = conn()
    s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
    rd = Reader(s)
    r = rd.response()
    alive += r is not None and r.status == 200
    held.append((s, rd))
    time.sleep(0.02)
try:
    extra = request(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n", timeout=3.0)
    served, why = extra is not None and extra.status == 200, \
        "extra got %s" % (extra.raw_head if extra else "closed without an answer")
except (OSError, EOFError) as e:
    served, why = False, "extra got no answer: %r" % e
check("exhaustion-evicts-idle", alive == CONNS and served and held[0][1].closed(2.0),
      "%d alive, %s" % (alive, why))
s, rd = held[-1]
s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
r = rd.response()
check("exhaustion-existing-work", r is not None and r.status == 200)
for s, rd in held:
    s.close()
time.sleep(1.0)
# Every slot busy with a request head that has begun (nothing may be
# evicted: the server runs with http_evict_min_ms far above this test's
# length, so a slow machine cannot make the heads old enough): a new client
# gets the promised 503 with Connection: close, and every held request is
# then answered. A reset, a close without an answer or silence is a
# failure: that is what a hung, dead or crashed server looks like too.
# The held heads must stay younger than REQ_TIMEOUT (else 408) until they
# are finished, and opening connections is slow on an emulator (QEMU TCG
# behind user networking), so the connections are opened first, each
# proven in the pool by one answered request, then a second request's
# head is begun on every one in one burst.
# A connection the server has not yet read a byte of is idle, and rightly
# evicted for the new client; on a slow emulator the heads may still be on
# their way after the pause, so the round is tried again with a longer
# one. An engine that evicts a head in progress fails every round.
def pool_active():
    """Connections the server holds, by /api/stats.json (this one among them)."""
    try:
        r = get("/api/stats.json")
        return json.loads(r.body)["http"]["active"] if r and r.status == 200 else CONNS
    except (OSError, EOFError, ValueError, KeyError):
        return CONNS


def exhaustion_round(pause):
    # the last round's connections may take a while to go on a slow guest
    deadline = time.monotonic() + 10.0
    while pool_active() > 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    held, alive = [], 0
    for i in range(CONNS):
        s = conn()
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        rd = Reader(s)
        r = rd.response()
        alive += r is not None and r.status == 200
        held.append((s, rd))
    t0 = time.monotonic()
    for s, rd in held:
        s.sendall(b"GET /health HTTP/1.1\r\nHost: t\r\n")
    time.sleep(pause)
    try:
        extra = request(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n", timeout=3.0)
        refused = extra is not None and extra.status == 503 and \
            (extra.h("connection") or "").lower() == "close"
        why = "extra got %s" % (extra.raw_head if extra else "closed without an answer")
    except (OSError, EOFError) as e:
        refused, why = False, "extra got no answer: %r" % e
    finished, got = 0, []
    for s, rd in held:
        try:
            s.sendall(b"\r\n")
        except OSError:
            pass
    why += " after %.2f s; %d held in the pool, then got" % (time.monotonic() - t0, alive)
    for s, rd in held:
        try:
            r = rd.response()
            finished += r is not None and r.status == 200
            got.append(str(r.status) if r else "close")
        except (OSError, EOFError) as e:
            got.append(type(e).__name__)
        s.close()
    return refused, finished, why + " " + ",".join(got)


rounds = []
for pause in (0.3, 0.6, 1.0):
    refused, finished, why = exhaustion_round(pause)
    rounds.append("pause %.1f s: %s, %d of %d held answered" % (pause, why, finished, CONNS))
    if refused and finished == CONNS:
        break
check("exhaustion-refused", refused, "; ".join(rounds))
check("exhaustion-held-finish", finished == CONNS, "; ".join(rounds))
time.sleep(0.5)
r = get("/health")
check("exhaustion-recovered", r.status == 200)
# the eviction above is counted where operators look: /api/stats.json and
# /metrics (the stalled-response counters are exported beside it)
try:
    http = json.loads(get("/api/stats.json").body)["http"]
    ok = http["evicted_idle"] >= 1 and http["evicted_slow"] == 0 and \
        "send_timeouts" in http and "response_timeouts" in http
    why = "http stats %r" % http
except (ValueError, KeyError) as e:
    ok, why = False, "no stats: %r" % e
check("stats-evictions", ok, why)
m = get("/metrics").body.decode("latin-1")
ev = re.search(r'^kiln_http_evicted_total\{kind="idle"\} (\d+)$', m, re.M)
check("metrics-evictions", ev and int(ev.group(1)) >= 1 and
      'kiln_http_evicted_total{kind="slow_head"} 0' in m and
      'kiln_http_stalled_total{kind="send"}' in m and
      'kiln_http_stalled_total{kind="response"}' in m,
      "kiln_http_evicted/stalled lines missing or zero")

# ---- UDP echo ------------------------------------------------------------------------------
if UDP_PORT:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.settimeout(2.0)
    got = None
    for attempt in range(3):
        u.sendto(b"kiln udp echo", (HOST, UDP_PORT))
        try:
            got = u.recvfrom(2048)[0]
            break
        except socket.timeout:
            pass
    check("udp-echo", got == b"kiln udp echo", repr(got))

r = get("/health")
check("still-serving", r.status == 200)
print("conformance: %d passed, %d failed" % (results.count(True), results.count(False)))
sys.exit(0 if all(results) else 1)
