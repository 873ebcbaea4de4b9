#!/usr/bin/env python3
"""hostile.py PORT MODE - sends one malformed or odd opening to the TLS
server on 127.0.0.1:PORT and prints what came back, one line:

  alert LEVEL DESCRIPTION   a plaintext alert record
  handshake                 a handshake record (the server went on)
  close                     the connection was closed with nothing sent
  data N                    N bytes of something else
  timeout                   nothing within the time limit

MODE:
  garbage       4 KiB of random bytes
  oversized     a handshake record header claiming 18 KiB (over 2^14 + 256)
  truncated     half of a real ClientHello, then end of stream
  badlen        a real ClientHello whose extensions length is 50 too long
  fragmented    a real ClientHello one byte per segment (the server answers)

The ClientHello is made by Python's ssl module (TLS 1.3 only).
"""
import os
import socket
import ssl
import sys
import time


def client_hello():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def bad_ext_len(ch):
    # record(5) | type(1) len(3) | version(2) random(32) | session id |
    # suites | compression | extensions length(2) ...
    b = bytearray(ch)
    p = 5 + 4 + 2 + 32
    p += 1 + b[p]
    p += 2 + (b[p] << 8 | b[p + 1])
    p += 1 + b[p]
    n = (b[p] << 8 | b[p + 1]) + 50
    b[p], b[p + 1] = n >> 8, n & 0xff
    return bytes(b)


def main():
    port, mode = int(sys.argv[1]), sys.argv[2]
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if mode == "garbage":
            s.sendall(os.urandom(4096))
        elif mode == "oversized":
            s.sendall(bytes([0x16, 0x03, 0x01, 0x48, 0x00]) + b"\x01" * 512)
        elif mode == "truncated":
            ch = client_hello()
            s.sendall(ch[: len(ch) // 2])
            s.shutdown(socket.SHUT_WR)
        elif mode == "badlen":
            s.sendall(bad_ext_len(client_hello()))
        elif mode == "fragmented":
            for byte in client_hello():
                s.send(bytes([byte]))
                time.sleep(0.001)
        else:
            sys.exit("hostile.py: unknown mode " + mode)
    except OSError:
        pass    # the server may close while we still send
    try:
        got = s.recv(65536)
    except socket.timeout:
        print("timeout")
        return
    except OSError:
        got = b""
    if not got:
        print("close")
    elif got[0] == 0x15 and len(got) >= 7:
        print("alert %d %d" % (got[5], got[6]))
    elif got[0] == 0x16:
        print("handshake")
    else:
        print("data %d" % len(got))


if __name__ == "__main__":
    main()
