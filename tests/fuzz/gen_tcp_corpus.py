#!/usr/bin/env python3
"""gen_tcp_corpus.py - writes the seed corpus of the TCP fuzz target.

    python3 tests/fuzz/gen_tcp_corpus.py [DIR]     (DIR: tests/fuzz/corpus/tcp)

Each seed is an input in the format tests/fuzz/fuzz_tcp.c reads (a set-up
byte, then operations; that file's header describes them): handshakes with
MSS/WS/SACK-permitted/timestamps, full-MSS data, out-of-order islands past
TCP_OOO_MAX, a paused reader filling TCP_RCV_MAX_NBUFS and the window, a
small pool run dry, SACK blocks and fast retransmit, zero-window probes,
FIN and RST in each direction, active opens, malformed options. The
output is deterministic (standard library only; files are rewritten, stale
ones removed); regenerate whenever the input format of fuzz_tcp.c changes.
"""
import base64
import os
import struct
import sys

# set-up bits
OPTS, RXCSUM, TXCSUM, SMALLPOOL, SMALLRCV, SCRIPTED = 1, 2, 4, 8, 16, 32
# opcodes
SEG, CLOCK, READ, PAUSE, WRITE, CLOSE, ACCEPT, CONNECT, DEVICE, APP = range(10)
# TCP flags
FIN, SYN, RST, PSH, ACK, URG = 1, 2, 4, 8, 16, 32
# SEG mode: seq base (bits 0-1), ack base (bits 2-3)
SEQ_REL, SEQ_REL16, SEQ_ISN, SEQ_RAW = 0, 1, 2, 3
ACK_UNA, ACK_NXT, ACK_MAX, ACK_RAW = 0, 4, 8, 12
BADCSUM, CLOSEDPORT = 16, 32
# SEG optctl
O_MSS, O_WS, O_SACKP, O_TS = 1, 2, 4, 8
O_ALL = O_MSS | O_WS | O_SACKP | O_TS


def op(code, slot=0):
    return bytes([(slot << 4) | code])


def seg(flags, slot=0, mode=SEQ_REL | ACK_NXT, win=65535, seq=0, ack=0,
        optctl=0, raw=b"", paylen=0, sacks=()):
    """A peer segment; sacks: (start, len) pairs relative to SND.UNA."""
    assert len(sacks) <= 3
    optctl |= len(sacks) << 4
    b = op(SEG, slot) + struct.pack(">BBHHHBB", flags, mode, win, seq & 0xFFFF,
                                    ack & 0xFFFF, optctl, len(raw))
    b += raw + struct.pack(">H", paylen)
    for s, n in sacks:
        b += struct.pack(">HH", s, n)
    return b


def clock(n):
    return op(CLOCK) + bytes([n])


def read(n, slot=0):
    return op(READ, slot) + struct.pack(">H", n)


def pause(slot=0):
    return op(PAUSE, slot)


def write(n, slot=0):
    return op(WRITE, slot) + struct.pack(">H", n)


def close(how, slot=0):
    return op(CLOSE, slot) + bytes([how])


def accept(slot, optctl=O_ALL, final_ack=True):
    return op(ACCEPT, slot) + bytes([optctl, 1 if final_ack else 0])


def connect(slot):
    return op(CONNECT, slot)


def device(b):
    return op(DEVICE) + bytes([b])


def app(b, slot=0):
    return op(APP, slot) + bytes([b])


TS = O_TS      # segments on a connection that negotiated timestamps carry them


def data(n, slot=0, seq=0, mode=SEQ_REL | ACK_NXT, flags=ACK | PSH, **kw):
    return seg(flags, slot, mode=mode, seq=seq, optctl=TS, paylen=n, **kw)


def seeds():
    s = {}
    est = bytes([OPTS | SCRIPTED])

    # a handshake made of segments: SYN with every option, then the ACK
    s["syn-all-options"] = bytes([0]) + seg(SYN, mode=SEQ_REL | ACK_RAW, optctl=O_ALL) + \
        seg(ACK, optctl=TS) + data(100)
    s["syn-plain"] = bytes([RXCSUM | TXCSUM]) + seg(SYN, mode=SEQ_REL | ACK_RAW) + \
        seg(ACK) + seg(ACK | PSH, paylen=536) + seg(ACK | FIN)
    s["syn-mss-only"] = bytes([0]) + seg(SYN, mode=SEQ_REL | ACK_RAW, optctl=O_MSS) + \
        seg(ACK) + seg(ACK | PSH, paylen=1460)
    s["syn-half-open"] = bytes([0]) + accept(1, O_ALL, False) + clock(255) + clock(255) + \
        clock(150) + clock(255)

    # full-MSS data with timestamps, acked and echoed back
    s["data-mss"] = est + app(1) + b"".join(data(1448) for _ in range(6)) + \
        seg(ACK, optctl=TS) + clock(20) + seg(ACK, optctl=TS)
    s["data-small-echo"] = est + app(1) + b"".join(data(n) for n in (1, 7, 100, 512, 1000))

    # out-of-order islands beyond TCP_OOO_MAX (10 islands of 100 bytes,
    # gaps of 100), then the holes filled from the front
    ooo = est + b"".join(data(100, seq=200 * i + 100) for i in range(10))
    ooo += b"".join(data(100, seq=0) for _ in range(11))
    s["ooo-islands"] = ooo
    s["ooo-reverse"] = est + b"".join(data(200, seq=200 * i) for i in range(9, -1, -1))
    s["ooo-overlap"] = est + data(300, seq=100) + data(300, seq=50) + data(500, seq=0) + \
        data(100, seq=-50)

    # a paused reader: TCP_RCV_MAX_NBUFS buffers of small segments, then
    # the window of large ones, then reading it all
    nb = est + pause() + b"".join(data(10) for _ in range(70)) + read(300) + read(0xFFFF)
    s["rcv-max-nbufs"] = nb
    s["rcv-window-full"] = bytes([OPTS | SCRIPTED | SMALLRCV]) + pause() + \
        b"".join(data(1448) for _ in range(5)) + clock(30) + read(1000) + \
        close(3) + read(0xFFFF)
    s["rcv-partial-ack"] = est + pause() + read(5) + data(100) + close(3) + data(50) + \
        read(0xFFFF)

    # a small pool run dry by paused readers on three connections
    dry = bytes([OPTS | SCRIPTED | SMALLPOOL]) + accept(1) + accept(2)
    dry += pause(0) + pause(1) + pause(2)
    for _ in range(16):
        dry += data(20, 0) + data(20, 1) + data(20, 2)
    dry += write(8000, 0) + clock(50) + read(0xFFFF, 0) + read(0xFFFF, 1) + read(0xFFFF, 2)
    s["pool-exhaust"] = dry
    s["pool-ooo-exhaust"] = bytes([OPTS | SCRIPTED | SMALLPOOL]) + pause() + \
        b"".join(data(10, seq=20 * i + 20) for i in range(40)) + data(20)

    # sending: SACK blocks and duplicate ACKs (fast retransmit), then the RTO
    sack = est + write(12000) + seg(ACK, mode=SEQ_REL | ACK_UNA, optctl=TS, ack=1448)
    for i in range(3):
        sack += seg(ACK, mode=SEQ_REL | ACK_UNA, optctl=TS, ack=1448,
                    sacks=((2896, 1448 * (i + 1)),))
    sack += seg(ACK, mode=SEQ_REL | ACK_UNA, optctl=TS, ack=1448,
                sacks=((2896, 1448), (5792, 1448), (8688, 1448)))
    sack += clock(255) + seg(ACK, optctl=TS) + clock(255)
    s["send-sack"] = sack
    s["send-rto"] = est + write(5000) + clock(255) + clock(255) + clock(255) + \
        seg(ACK, mode=SEQ_REL | ACK_UNA, optctl=TS, ack=1000) + clock(255) + seg(ACK, optctl=TS)

    # zero window from the peer: persist probes, then the window opens
    s["zero-window"] = est + seg(ACK, win=0, optctl=TS) + write(3000) + clock(255) + \
        clock(255) + clock(255) + seg(ACK, mode=SEQ_REL | ACK_UNA, win=0, optctl=TS) + \
        seg(ACK, mode=SEQ_REL | ACK_UNA, win=1000, optctl=TS) + clock(255) + seg(ACK, optctl=TS)
    # a zero-window probe from the peer into our closed window
    s["zero-window-probe-in"] = bytes([OPTS | SCRIPTED | SMALLRCV]) + pause() + \
        b"".join(data(1448) for _ in range(3)) + data(1) + clock(100) + data(1) + read(0xFFFF)

    # FIN: the peer closes, the app closes, our FIN is acked, TIME_WAIT
    # (here: the peer's side), and the other order
    s["fin-peer-first"] = est + app(2) + data(100) + seg(ACK | FIN, optctl=TS) + \
        seg(ACK, optctl=TS) + clock(255)
    s["fin-local-first"] = est + data(100) + close(0) + seg(ACK, optctl=TS) + \
        seg(ACK | FIN, optctl=TS) + clock(255) + clock(255)
    s["fin-simultaneous"] = est + write(500) + close(1) + \
        seg(ACK | FIN, mode=SEQ_REL | ACK_UNA, optctl=TS) + seg(ACK, optctl=TS) + clock(255)
    s["fin-with-data"] = est + data(700, flags=ACK | PSH | FIN) + close(0) + seg(ACK, optctl=TS)

    # RST: in the window, at its edge, outside it, and a RST from the app
    s["rst-in-window"] = est + data(100) + seg(RST, optctl=TS)
    s["rst-challenge"] = est + seg(RST, seq=1000) + seg(RST | ACK, seq=1, optctl=TS) + \
        seg(SYN, mode=SEQ_REL | ACK_RAW, optctl=TS)
    s["rst-out-of-window"] = est + seg(RST, mode=SEQ_RAW | ACK_RAW, seq=0x4141)
    s["rst-abort"] = est + write(2000) + close(2) + seg(ACK, optctl=TS) + clock(255)
    s["closed-port"] = bytes([0]) + seg(SYN, mode=SEQ_REL | ACK_RAW | CLOSEDPORT) + \
        seg(ACK, mode=SEQ_REL | ACK_RAW | CLOSEDPORT, paylen=10)

    # active open: SYN-ACK with options, data both ways, close
    s["connect"] = bytes([0]) + connect(1) + \
        seg(SYN | ACK, slot=1, mode=SEQ_ISN | ACK_NXT, optctl=O_ALL) + write(3000, 1) + \
        data(1000, 1) + seg(ACK, 1, optctl=TS) + close(0, 1) + seg(ACK | FIN, 1, optctl=TS) + \
        clock(255) + clock(255)
    s["connect-refused"] = bytes([0]) + connect(2) + \
        seg(RST | ACK, slot=2, mode=SEQ_ISN | ACK_NXT) + connect(3) + clock(255) + clock(255)

    # malformed options: bad lengths, truncated, unknown kinds, no EOL
    bad = [
        b"\x02\x03\x05",                       # MSS with length 3
        b"\x03\x00",                           # WS with length 0
        b"\x08\x0a\x00\x00\x00",               # TS cut short
        b"\x02\x04\x00\x00",                   # MSS 0
        b"\x03\x03\x0f",                       # WS 15 (over 14)
        b"\xfe\x28" + b"\x00" * 4,             # unknown kind, length past the end
        b"\x05\x0c" + b"\x00" * 10,            # SACK block of bad length
        b"\x01" * 39 + b"\x02",                # NOPs to the end, kind without length
        b"\x04\x02\x04\x02\x04\x02",           # SACK-permitted three times
        b"\x05\x01",                           # length 1
    ]
    mal = bytes([0])
    for i, raw in enumerate(bad):
        mal += seg(SYN, slot=i % 4, mode=SEQ_REL | ACK_RAW, raw=raw) + \
            seg(ACK, slot=i % 4, raw=raw, paylen=20) + close(2, i % 4)
    s["malformed-options"] = mal
    s["malformed-sack"] = est + write(6000) + \
        seg(ACK, mode=SEQ_REL | ACK_UNA, optctl=TS, raw=b"\x01\x01\x05\x0a" + b"\xff" * 8) + \
        seg(ACK, mode=SEQ_REL | ACK_UNA, optctl=TS, sacks=((60000, 5000), (0, 0), (100, 1)))
    s["bad-checksum"] = est + data(100, mode=SEQ_REL | ACK_NXT | BADCSUM) + data(100)

    # keep-alive probes and timeouts; a device that holds and fails sends
    s["keepalive"] = est + app(16) + clock(150) + clock(150) + clock(150) + clock(150) + \
        clock(255)
    s["device-hold"] = est + device(1) + write(10000) + data(100) + device(3) + \
        seg(ACK, optctl=TS) + device(4) + write(3000) + clock(255) + device(0) + clock(255)
    s["refuse-accept"] = bytes([0]) + app(4, 1) + accept(1, 0) + app(0, 1) + accept(2, 0)
    # Inputs this target found (a FIN at RCV.NXT below an island once let
    # the island through after it), kept as they were found.
    s["fin-below-island"] = base64.b64decode("JwD4CgACAAIAAAoAABAA0Q==")
    s["fin-below-island-2"] = base64.b64decode(
        "AAACDP//AAAAAAADAgMFAAAAEAT//wAAAAAAAwIDBQAUBQIQAgz//wAAAAAAAgMAAAAQED///wAAAAAAAgMAMAAUFQIgAhz//wAAAAAABQgAACgBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQECAAAPAAAAEAT//wAAAAAAAwMDDwEBBwEBAQEBAQEBAQECABQ1AgACDP//AAAAAAIGBAIEAgQCAAAAEAT//wAAAAAABgQCBAAAABQ1AgACDP//AAAAAAADAwMPAAAAEAT//wAAAAAAAwMDDwEBBwEBAQEBAQEBAQEhBAH0BQEAEQD/AQAAAAAIAADW1tbW1tbW1tbW1tbW1tbW1tbW1jk5OTk5OTk5OTk5Of////////////////////////////////////////8WDwEmDwH+///6AxMjABgE//8AAAAACCEJAgAYBP//AAAAALi4uLi4uLi4uLi4uLi4uLi4uLi4uAEBAQEhAwAYBP//AAEBAQEBAQEBAQEBAQEBLo+nnwdWAAABAQEIAAWoAAAAAAAAAAgAAP8AAAAAAAMCAwUAFAUCEAIM//8AAAD//////////xABAQEBAQEBAQEBCAAFqAAYBP//AAAAAQEBAQECAAAwEAT//wAAAAAAKAEBAQEBAQEBAQEBAQEBAQGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoemhoaGhoaGhoaGhoaGhoaGhoaEhCRChoaGhoaGhoaGhoaGhoaGhoQIAFMmR//8AAAAAAAYEAgQCBAIAFAUCEAIM//8AAAAAAAIFAQAAEBAE/////wAAAAAAAwMDD0AAABAE//8AAAAAAAMDAw8BAQcBAQEBAQEBAQEBAgAUNQIAAgz//wAAAF0ABgQCBAIEAgAAABAE//8AAAAAAAYEoaECBAIEAgAUBQIQAgz//wAAAAAAAgUBAAAQEAT//wAAAAAAAgWhoaGhoaGhoaGhoaGhoaGhoaEBABQVoaGZoaGhoaGhoaGhoevr6+vr6+sC6+vr6+vr6+vr6+vr6+vr6+vr6+vr6+vr6+vr6+vr6+vr6w==")
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "tcp")
    os.makedirs(out, exist_ok=True)
    s = seeds()
    for name in os.listdir(out):
        if name not in s:
            os.remove(os.path.join(out, name))
    for name, b in sorted(s.items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(b)
    print("%d seeds in %s" % (len(s), out))


if __name__ == "__main__":
    main()
