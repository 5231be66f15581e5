#!/usr/bin/env python3
"""Signs the example messages with dkimpy (an implementation independent of mailward-dkim), so
that `mailward check` is shown verifying signatures it did not make.

    pip install dkimpy && python3 examples/check/sign.py

The keys under keys/ are TEST KEYS, published in this repository: never use them for real mail.
The signatures carry t= but no x=, so they never expire. Line ends are CRLF, as on the wire.
Prints the DKIM key records to paste into check.zone.
"""

import base64
import pathlib
import subprocess

import dkim

HERE = pathlib.Path(__file__).resolve().parent
HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"mime-version", b"content-type"]

# (unsigned file, signed file, d=, s=, key file)
MESSAGES = [
    ("pass.unsigned.eml", "pass.eml", b"example.org", b"sel2026",
     "keys/TEST-KEY-DO-NOT-USE.example.org.sel2026.pem"),
    ("unaligned.unsigned.eml", "unaligned.eml", b"example.net", b"bulk",
     "keys/TEST-KEY-DO-NOT-USE.example.net.bulk.pem"),
]


def public_key_b64(pem_path):
    der = subprocess.run(
        ["openssl", "rsa", "-in", str(pem_path), "-pubout", "-outform", "DER"],
        check=True, capture_output=True).stdout
    return base64.b64encode(der).decode()


for unsigned, signed, domain, selector, key in MESSAGES:
    text = (HERE / unsigned).read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    private = (HERE / key).read_bytes()
    sig = dkim.sign(text, selector, domain, private,
                    canonicalize=(b"relaxed", b"relaxed"), include_headers=HEADERS)
    (HERE / signed).write_bytes(sig + text)
    assert dkim.verify(sig + text, dnsfunc=lambda name, timeout=5: (
        b"v=DKIM1; k=rsa; p=" + public_key_b64(HERE / key).encode()))
    p = public_key_b64(HERE / key)
    strings = " ".join('"%s"' % p[i:i + 200] for i in range(0, len(p), 200))
    print('%s._domainkey.%s. IN TXT ( "v=DKIM1; k=rsa; p=" %s )' % (
        selector.decode(), domain.decode(), strings))
