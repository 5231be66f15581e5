#!/usr/bin/env python3
"""Interop peer for the Mailward DKIM tests, driving OpenDKIM's test mode (`opendkim -t`, Debian
package `opendkim`).

Usage: opendkim_peer.py JOBS.json

Same job protocol as dkimpy_peer.py, plus "workdir": a directory for the generated configuration
and key files. OpenDKIM refuses configuration files under a directory any other user may write
(such as /tmp), so workdir and all its ancestors must not be world-writable.
  {"workdir": "...", "keys": {"<selector>._domainkey.<domain>": "<TXT record text>", ...},
   "verify": [{"id": ..., "path": "<signed message>"}, ...],
   "sign":   [{"id": ..., "path": "<message>", "out": "<signed output>", "key": "<key file>",
               "domain": ..., "selector": ..., "algorithm": "rsa-sha256" | "ed25519-sha256",
               "canonicalization": "relaxed/simple", "linesep": "\\r\\n" | "\\n"}, ...]}
RSA keys are PEM files; Ed25519 keys are the base64 32-byte seed (converted to PKCS#8 PEM here).

Prints {"verify": {id: {"pass": bool, "error": str}}, "sign": {id: {"ok": bool, "error": str}}}.
Verification keys come from the `TestPublicKeys` file option, so no DNS is used; the verdict is
OpenDKIM's "verification (...) succeeded" log line.
"""
import base64
import json
import os
import subprocess
import sys

# RFC 8410 PKCS#8 prefix of an Ed25519 private key; the 32-byte seed follows.
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def write_private(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def key_file(workdir, job, cache):
    src = job["key"]
    if job["algorithm"] != "ed25519-sha256":
        return src
    if src not in cache:
        with open(src, "rb") as f:
            seed = base64.b64decode(f.read().strip())
        der = ED25519_PKCS8_PREFIX + seed
        pem = b"-----BEGIN PRIVATE KEY-----\n" + base64.encodebytes(der) + b"-----END PRIVATE KEY-----\n"
        path = os.path.join(workdir, "ed25519-%d.pem" % len(cache))
        write_private(path, pem)
        cache[src] = path
    return cache[src]


def run(conf, msg_path):
    return subprocess.run(
        ["opendkim", "-x", conf, "-t", msg_path],
        capture_output=True,
        timeout=60,
    )


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        jobs = json.load(f)
    workdir = jobs["workdir"]
    os.makedirs(workdir, mode=0o700, exist_ok=True)
    os.chmod(workdir, 0o700)
    out = {"verify": {}, "sign": {}}

    keys_path = os.path.join(workdir, "test-public-keys")
    with open(keys_path, "w", encoding="utf-8") as f:
        for name, txt in jobs.get("keys", {}).items():
            f.write("%s %s\n" % (name.rstrip("."), txt))
    os.chmod(keys_path, 0o600)
    verify_conf = os.path.join(workdir, "verify.conf")
    write_private(
        verify_conf,
        ("Mode v\nSyslog no\nTestPublicKeys %s\nMinimumKeyBits 1024\n" % keys_path).encode(),
    )
    for job in jobs.get("verify", []):
        try:
            r = run(verify_conf, job["path"])
            log = r.stderr.decode("utf-8", "replace") + r.stdout.decode("utf-8", "replace")
            ok = r.returncode == 0 and ") succeeded" in log
            out["verify"][job["id"]] = {"pass": ok, "error": "" if ok else log.strip()}
        except Exception as e:  # report, never crash the batch
            out["verify"][job["id"]] = {"pass": False, "error": repr(e)}

    cache = {}
    for n, job in enumerate(jobs.get("sign", [])):
        try:
            conf = os.path.join(workdir, "sign-%d.conf" % n)
            # A signing table matching every sender ("*") and a key table naming the domain, so
            # OpenDKIM signs with d=<domain> whatever the From address (with `Domain`, it signs
            # only mail from that domain).
            keys = os.path.join(workdir, "keys-%d.table" % n)
            write_private(
                keys,
                (
                    "signer %s:%s:%s\n"
                    % (job["domain"], job["selector"], key_file(workdir, job, cache))
                ).encode(),
            )
            signing = os.path.join(workdir, "signing-%d.table" % n)
            write_private(signing, b"* signer\n")
            write_private(
                conf,
                (
                    "Mode s\nSyslog no\nRequireSafeKeys no\nKeyTable %s\nSigningTable refile:%s\n"
                    "Canonicalization %s\nSignatureAlgorithm %s\n"
                    % (keys, signing, job["canonicalization"], job["algorithm"])
                ).encode(),
            )
            r = run(conf, job["path"])
            text = r.stdout.decode("utf-8", "replace")
            start = text.find("DKIM-Signature:")
            if r.returncode != 0 or start < 0:
                raise RuntimeError(
                    "no signature: rc=%d %s %s" % (r.returncode, text, r.stderr.decode("utf-8", "replace"))
                )
            sep = job.get("linesep", "\r\n")
            # OpenDKIM ends its lines like the input did; normalize, then use the requested separator.
            header = text[start:].replace("\r\n", "\n").rstrip("\n").replace("\n", sep) + sep
            with open(job["path"], "rb") as f:
                msg = f.read()
            with open(job["out"], "wb") as f:
                f.write(header.encode() + msg)
            out["sign"][job["id"]] = {"ok": True, "error": ""}
        except Exception as e:
            out["sign"][job["id"]] = {"ok": False, "error": repr(e)}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
