#!/usr/bin/env python3
"""Interop peer for the Mailward DKIM tests, built on dkimpy (PyPI `dkimpy`, Ed25519 via `pynacl`).

Usage: dkimpy_peer.py JOBS.json

JOBS.json:
  {"keys": {"<selector>._domainkey.<domain>": "<TXT record text>", ...},
   "verify": [{"id": ..., "path": "<signed message>"}, ...],
   "sign":   [{"id": ..., "path": "<message>", "out": "<signed output>", "key": "<key file>",
               "domain": ..., "selector": ..., "algorithm": "rsa-sha256" | "ed25519-sha256",
               "canonicalization": "relaxed/simple", "linesep": "\\r\\n" | "\\n"}, ...]}

Prints one JSON object: {"verify": {id: {"pass": bool, "error": str}}, "sign": {id: {"ok": bool, "error": str}}}.
Keys are served through dkimpy's `dnsfunc` hook, so no DNS is used.
"""
import json
import sys

import dkim


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    keys = {name.lower().rstrip("."): txt.encode() for name, txt in jobs.get("keys", {}).items()}

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return keys.get(name.lower().rstrip("."))

    out = {"verify": {}, "sign": {}}
    for job in jobs.get("verify", []):
        with open(job["path"], "rb") as f:
            msg = f.read()
        try:
            d = dkim.DKIM(msg)
            ok = bool(d.verify(idx=job.get("index", 0), dnsfunc=dnsfunc))
            out["verify"][job["id"]] = {"pass": ok, "error": ""}
        except Exception as e:  # report, never crash the batch
            out["verify"][job["id"]] = {"pass": False, "error": repr(e)}
    for job in jobs.get("sign", []):
        with open(job["path"], "rb") as f:
            msg = f.read()
        with open(job["key"], "rb") as f:
            key = f.read()
        header, body = job["canonicalization"].split("/")
        try:
            sig = dkim.sign(
                msg,
                job["selector"].encode(),
                job["domain"].encode(),
                key,
                canonicalize=(header.encode(), body.encode()),
                signature_algorithm=job["algorithm"].encode(),
                linesep=job.get("linesep", "\r\n").encode(),
            )
            with open(job["out"], "wb") as f:
                f.write(sig + msg)
            out["sign"][job["id"]] = {"ok": True, "error": ""}
        except Exception as e:
            out["sign"][job["id"]] = {"ok": False, "error": repr(e)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
