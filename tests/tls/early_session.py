#!/usr/bin/env python3
"""early_session.py IN.pem OUT.pem - copies an OpenSSL session file
(s_client -sess_out) with max_early_data set to 16384, so that s_client
-sess_in OUT.pem -early_data FILE sends 0-RTT data even though the
server's ticket did not offer it (Kiln's engine always declines 0-RTT
and does not advertise it): the test then sees the server skip it.

The session is OpenSSL's SSL_SESSION_ASN1 SEQUENCE; max_early_data is
its optional field [15] (EXPLICIT INTEGER), inserted in tag order.
"""
import base64
import re
import sys


def tlv(b, p):
    tag = b[p]
    p += 1
    n = b[p]
    p += 1
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[p:p + k], "big")
        p += k
    return tag, p, p + n


def enc_len(n):
    if n < 0x80:
        return bytes([n])
    s = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(s)]) + s


def main():
    text = open(sys.argv[1]).read()
    m = re.search(r"-----BEGIN SSL SESSION PARAMETERS-----(.*?)-----END", text, re.S)
    if not m:
        sys.exit("early_session.py: no session in " + sys.argv[1])
    der = base64.b64decode(m.group(1))
    tag, start, end = tlv(der, 0)
    fields = []
    p = start
    while p < end:
        t, s, e = tlv(der, p)
        fields.append((t, der[p:e]))
        p = e
    value = (16384).to_bytes(2, "big")    # 0x4000: minimal DER
    integer = b"\x02" + enc_len(len(value)) + value
    new = b"\xaf" + enc_len(len(integer)) + integer
    out = []
    placed = False
    for t, raw in fields:
        if t == 0xaf:
            continue            # an existing max_early_data: replaced
        if not placed and (t & 0xc0) == 0x80 and (t & 0x1f) > 15:
            out.append(new)
            placed = True
        out.append(raw)
    if not placed:
        out.append(new)
    body = b"".join(out)
    der = b"\x30" + enc_len(len(body)) + body
    b64 = base64.encodebytes(der).decode().replace("\n", "")
    lines = [b64[i:i + 64] for i in range(0, len(b64), 64)]
    with open(sys.argv[2], "w") as f:
        f.write("-----BEGIN SSL SESSION PARAMETERS-----\n" + "\n".join(lines) +
                "\n-----END SSL SESSION PARAMETERS-----\n")


if __name__ == "__main__":
    main()
