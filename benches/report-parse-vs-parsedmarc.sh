#!/usr/bin/env bash
# End-to-end throughput of `mailward --json report parse` on one large RFC 9990 aggregate report,
# beside parsedmarc 11 (offline) on the same file, measured in the same run.
#
#   benches/report-parse-vs-parsedmarc.sh [RECORDS] [RUNS]      (defaults 10000 and 15)
#
# The report is written by `mailward report generate` from per-message outcomes that a seeded
# generator below draws like a large receiver's day: distinct source addresses (IPv4 and some
# IPv6), several envelope domains, DKIM pass/fail with one or two signatures, SPF results, a
# few overrides, counts from 1 to 500. About 720 bytes per record, as in large receivers'
# reports.
#
# Each tool runs RUNS times (parsedmarc 3 times: it takes seconds), interleaved; the table shows
# the median wall time and the MB/s it means. Needs: a release build of mailward (cargo build --release -p
# mailward), Python 3, and parsedmarc ($PARSEDMARC or on PATH; python3 -m pip install
# 'parsedmarc>=11,<12'). parsedmarc runs with --offline (no DNS, no geolocation).
set -euo pipefail
cd "$(dirname "$0")/.."
records=${1:-10000}
runs=${2:-15}
bin=target/release/mailward
[ -x "$bin" ] || { echo "build first: cargo build --release -p mailward" >&2; exit 2; }
pm=${PARSEDMARC:-parsedmarc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$records" > "$work/outcomes.jsonl" <<'PY'
import json, random, sys
n = int(sys.argv[1])
rng = random.Random(20261206)
envelope = ["example.com", "bounces.esp.example", "mail.example.net", "example.com", "em.crm.example"]
for i in range(n):
    if i % 10 == 9:
        ip = f"2001:db8:{i // 65536:x}:{i % 65536:x}::{rng.randint(1, 0xffff):x}"
    else:
        ip = f"{10 + i // 65536}.{(i // 256) % 256}.{i % 256}.{rng.randint(1, 254)}"
    aligned = rng.random() < 0.7
    sigs = [{"domain": "example.com", "selector": "s2026", "result": "pass" if aligned else "fail"}]
    if rng.random() < 0.3:
        sigs.append({"domain": "esp.example", "selector": "k1", "result": "pass"})
    reasons = [{"type": "local_policy", "comment": "arc=pass"}] if rng.random() < 0.02 else []
    print(json.dumps({
        "policy": {"domain": "example.com", "p": "none", "adkim": "r", "aspf": "r"},
        "source_ip": ip, "header_from": "example.com",
        "envelope_from": rng.choice(envelope), "envelope_to": "receiver.example",
        "disposition": "none", "dkim_aligned": "pass" if aligned else "fail",
        "spf_aligned": "pass" if rng.random() < 0.5 else "fail", "reasons": reasons,
        "dkim": sigs,
        "spf": {"domain": rng.choice(envelope), "scope": "mfrom",
                "result": rng.choice(["pass", "pass", "softfail", "fail", "neutral"])},
        "count": rng.randint(1, 500)}))
PY
"$bin" report generate "$work/outcomes.jsonl" --org-name "Large Receiver" \
    --email dmarc-noreply@receiver.example --receiver receiver.example \
    --begin 1796515200 --end 1796601599 > "$work/report.xml"
size=$(stat -c %s "$work/report.xml")

if command -v "$pm" >/dev/null 2>&1; then
    version=$("$pm" --version 2>&1 | tail -n 1)
else
    echo "parsedmarc not found; python3 -m pip install 'parsedmarc>=11,<12'" >&2
    pm=""
    version="-"
fi
# Median wall times in seconds (output discarded). The runs are interleaved: three rounds, each
# one parsedmarc run followed by a third of our runs, so that both tools sample the same
# stretches of a machine whose speed drifts (a shared virtual machine's does by a fifth).
read -r ours theirs < <(python3 - "$runs" "$bin" "$pm" "$work/report.xml" <<'PY'
import subprocess, sys, time
runs, ours, theirs, report = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
def timed(cmd):
    t = time.perf_counter()
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
a, b = [], []
for r in range(3):
    if theirs:
        b.append(timed([theirs, "--offline", report]))
    for _ in range(runs // 3 + (r < runs % 3)):
        a.append(timed([ours, "--json", "report", "parse", report]))
median = lambda xs: sorted(xs)[len(xs) // 2] if xs else 0
print(f"{median(a):.4f} {median(b):.4f}" if b else f"{median(a):.4f} -")
PY
)
[ "$theirs" = "-" ] && theirs=""
awk -v size="$size" -v recs="$records" -v ours="$ours" -v theirs="$theirs" -v v="$version" 'BEGIN {
    printf "report: %d records, %.1f MB of XML\n\n", recs, size / 1e6
    printf "| tool | median wall time | MB/s |\n|---|---:|---:|\n"
    printf "| mailward --json report parse | %.1f ms | %.0f |\n", ours * 1000, size / ours / 1e6
    if (theirs != "") {
        printf "| parsedmarc %s --offline | %.0f ms | %.1f |\n", v, theirs * 1000, size / theirs / 1e6
        printf "\nmailward is %.0fx parsedmarc\n", theirs / ours
    }
}'
