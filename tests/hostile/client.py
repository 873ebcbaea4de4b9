#!/usr/bin/env python3
"""client.py - the Linux-socket side of tests/hostile/run.sh (stdlib only).

  client.py measure HOST PATH SECONDS [CAFILE]
                                          a normal client: sequential GETs,
                                          each on a new connection (with
                                          CAFILE: over TLS to port 443,
                                          the chain verified); prints
                                          "rate=R p99_ms=P ok=N failed=F
                                          failures=CODE:N,..." (none: no
                                          answer within 2 s)
  client.py stats HOST                    buffers in use, from
                                          /api/stats.json: "in_use=N bytes=B
                                          total=T active=A capacity=C"
  client.py slowloris HOST N GAP SECONDS SRC...
                                          N connections (spread over the
                                          source addresses SRC...) each send
                                          a request head one byte every GAP
                                          seconds, never finishing it; a
                                          connection the server closes is
                                          opened again; all reset at the end
  client.py tlsstall HOST N SECONDS SRC...
                                          N connections to port 443 each
                                          send the first part of a
                                          ClientHello record and stall; a
                                          connection the server closes is
                                          opened again; all reset at the end
  client.py exhaust HOST SRC...           fills every HTTP slot (capacity
                                          from stats.json) with idle
                                          connections, checks a new client
                                          gets a 503 or an idle connection
                                          is evicted, releases them, checks
                                          new clients are served again;
                                          prints "ok/FAIL exhaustion: ..."
"""
import errno
import json
import resource
import select
import socket
import ssl
import struct
import sys
import time

PORT = 80


def get(host, path, timeout=2.0, src=None, tls=None):
    """one GET on a new connection: (status or None, seconds)"""
    t0 = time.monotonic()
    s = socket.socket()
    s.settimeout(timeout)
    try:
        if src:
            s.bind((src, 0))
        s.connect((host, 443 if tls else PORT))
        if tls:
            s = tls.wrap_socket(s, server_hostname="localhost")
        s.sendall(("GET %s HTTP/1.1\r\nHost: kiln\r\nConnection: close\r\n\r\n" % path).encode())
        buf = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        line = buf.split(b"\r\n", 1)[0].split()
        code = int(line[1]) if len(line) > 1 else None
        return code, buf, time.monotonic() - t0
    except (OSError, ValueError) as e:
        return None, type(e).__name__.encode(), time.monotonic() - t0
    finally:
        s.close()


def measure(host, path, seconds, cafile=None):
    tls = None
    if cafile:
        tls = ssl.create_default_context(cafile=cafile)
        tls.minimum_version = ssl.TLSVersion.TLSv1_3
        tls.check_hostname = False   # the guest's address is not in the dev certificate
    end = time.monotonic() + seconds
    lat = []
    ok = failed = 0
    codes = {}
    t0 = time.monotonic()
    while time.monotonic() < end:
        code, buf, dt = get(host, path, tls=tls)
        lat.append(dt)
        if code == 200:
            ok += 1
        else:
            failed += 1
            why = code or "none(%s@%.1fs)" % (buf.decode(), time.monotonic() - t0)
            codes[why] = codes.get(why, 0) + 1
    el = time.monotonic() - t0
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000 if lat else 0
    print("rate=%.1f p99_ms=%.1f ok=%d failed=%d failures=%s" % (
        ok / el, p99, ok, failed, ",".join("%s:%d" % kv for kv in sorted(codes.items(), key=str)) or "-"))


def stats(host):
    code, buf, _ = get(host, "/api/stats.json", timeout=5.0)
    if code != 200:
        print("in_use=NA bytes=NA total=NA active=NA capacity=NA")
        return 1
    d = json.loads(buf.split(b"\r\n\r\n", 1)[1])
    pools = d["net"]["pools"]
    t = d.get("tls")
    extra = (" tls_handshakes=%d tls_bufs_free=%d tls_work_waits=%d tls_evicted=%d tls_failed=%d" % (
        t["handshakes_full"] + t["handshakes_resumed"], t["work_bufs_free"], t["work_waits"],
        t["evicted"], t["failed"])) if t else ""
    print("in_use=%d bytes=%d total=%d active=%d capacity=%d%s" % (
        sum(p["in_use"] for p in pools), d["net"]["pools_in_use_bytes"],
        sum(p["total"] for p in pools), d["http"]["active"], d["http"]["capacity"], extra))
    return 0


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, min(hard, n))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def reset(s):
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    s.close()


def opener(host, src):
    s = socket.socket()
    s.setblocking(False)
    s.bind((src, 0))
    try:
        s.connect((host, PORT))
    except BlockingIOError:
        pass
    return s


def reopen_closed(conns, open_one, wait_ms):
    """connections (fileno -> [sock, ..., index]) the server closed read
    EOF: each is opened again (open_one(index)); returns how many"""
    pl = select.poll()
    for fd in conns:
        pl.register(fd, select.POLLIN)
    n = 0
    for fd, ev in pl.poll(wait_ms):
        if fd not in conns:
            continue
        s = conns[fd][0]
        try:
            d = s.recv(4096)
        except OSError:
            d = b""
        if not d:
            c = conns.pop(fd)
            s.close()
            open_one(c[2])
            n += 1
    return n


def slowloris(host, n, gap, seconds, srcs):
    raise_nofile(n + 256)
    head = b"GET / HTTP/1.1\r\nHost: kiln\r\nX-a: " + b"b" * 100000
    conns = {}   # fileno -> [sock, bytes sent, src]
    end = time.monotonic() + seconds
    opened = reopened = 0

    def open_one(i):
        s = opener(host, srcs[i % len(srcs)])
        conns[s.fileno()] = [s, 0, i]

    for i in range(n):
        open_one(i)
        opened += 1
    nxt = time.monotonic()
    while time.monotonic() < end:
        nxt += gap
        for fd, c in list(conns.items()):
            s = c[0]
            try:
                s.send(head[c[1]:c[1] + 1])
                c[1] += 1
            except BlockingIOError:
                pass
            except OSError as e:
                if e.errno in (errno.EINPROGRESS, errno.EAGAIN, errno.ENOTCONN):
                    continue
                del conns[fd]
                s.close()
                open_one(c[2])
                reopened += 1
        # a connection the server closed reads EOF: open it again
        reopened += reopen_closed(conns, open_one, 0)
        time.sleep(max(0, min(nxt - time.monotonic(), end - time.monotonic())))
    est = 0
    for c in conns.values():
        if c[1] > 0:
            est += 1
        reset(c[0])
    print("slowloris: %d connections opened, %d opened again after the server closed them, "
          "%d sending at the end" % (opened, reopened, est))


def tlsstall(host, n, seconds, srcs):
    raise_nofile(n + 256)
    # a handshake record that announces 512 bytes; 60 of them are sent
    part = bytes([22, 3, 1, 2, 0, 1, 0, 1, 252, 3, 3]) + b"\x11" * 49
    conns = {}
    end = time.monotonic() + seconds
    opened = reopened = 0

    def open_one(i):
        s = socket.socket()
        s.setblocking(False)
        s.bind((srcs[i % len(srcs)], 0))
        try:
            s.connect((host, 443))
        except BlockingIOError:
            pass
        conns[s.fileno()] = [s, False, i]

    for i in range(n):
        open_one(i)
        opened += 1
    while time.monotonic() < end:
        for fd, c in list(conns.items()):
            if c[1]:
                continue
            try:
                c[0].send(part)
                c[1] = True
            except OSError as e:
                if e.errno in (errno.EINPROGRESS, errno.EAGAIN, errno.ENOTCONN):
                    continue
                del conns[fd]
                c[0].close()
                open_one(c[2])
                reopened += 1
        reopened += reopen_closed(conns, open_one, 200)
    stalled = sum(1 for c in conns.values() if c[1])
    for c in conns.values():
        reset(c[0])
    print("tlsstall: %d connections opened, %d opened again after the server closed them, "
          "%d stalled at the end" % (opened, reopened, stalled))


def exhaust(host, srcs):
    out = []
    code, buf, _ = get(host, "/api/stats.json", timeout=5.0)
    if code != 200:
        print("FAIL exhaustion: no stats.json (%s)" % code)
        return 1
    cap = json.loads(buf.split(b"\r\n\r\n", 1)[1])["http"]["capacity"]
    raise_nofile(cap + 512)
    idle = []
    for i in range(cap + 8):
        s = socket.socket()
        s.settimeout(3)
        try:
            s.bind((srcs[i % len(srcs)], 0))
            s.connect((host, PORT))
            idle.append(s)
        except OSError:
            s.close()
    # let the server take them all into HTTP slots
    time.sleep(2)
    code, buf, _ = get(host, "/api/stats.json", timeout=5.0)
    active = json.loads(buf.split(b"\r\n\r\n", 1)[1])["http"]["active"] if code == 200 else None
    code, _, dt = get(host, "/health", timeout=5.0)
    # an evicted idle connection reads EOF (or a reset)
    evicted = 0
    pl = select.poll()
    byfd = {s.fileno(): s for s in idle}
    for fd in byfd:
        pl.register(fd, select.POLLIN)
    for fd, ev in pl.poll(500):
        s = byfd[fd]
        try:
            if not s.recv(1):
                evicted += 1
        except OSError:
            evicted += 1
    full_ok = code in (200, 503) and (code == 503 or evicted > 0)
    out.append("%d idle connections open (capacity %d, active %s); a new client got %s in %.0f ms, "
               "%d idle connections closed by the server" % (len(idle), cap, active, code, dt * 1000, evicted))
    if code == 200 and evicted == 0:
        out.append("served with no eviction: the slots were not all taken")
    for s in idle:
        reset(s)
    served = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 10 and served < 20:
        c2, _, _ = get(host, "/health")
        if c2 == 200:
            served += 1
        else:
            time.sleep(0.1)
    out.append("after releasing them %d of 20 new clients served in %.1f s" % (served, time.monotonic() - t0))
    good = full_ok and served == 20 and len(idle) >= cap
    print("%s exhaustion: %s" % ("ok" if good else "FAIL", "; ".join(out)))
    return 0 if good else 1


def main():
    a = sys.argv[1:]
    if not a:
        print(__doc__)
        return 2
    if a[0] == "measure":
        measure(a[1], a[2], float(a[3]), a[4] if len(a) > 4 else None)
    elif a[0] == "stats":
        return stats(a[1])
    elif a[0] == "slowloris":
        slowloris(a[1], int(a[2]), float(a[3]), float(a[4]), a[5:])
    elif a[0] == "tlsstall":
        tlsstall(a[1], int(a[2]), float(a[3]), a[4:])
    elif a[0] == "exhaust":
        return exhaust(a[1], a[2:])
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
