#!/usr/bin/env bash
# Ingest throughput and peak memory of `mailward report ingest` on a generated Maildir of
# realistic report e-mails, beside parsedmarc 11 (offline) on a sample of the same files, in
# one run on one machine.
#
#   benches/ingest-vs-parsedmarc.sh [MESSAGES] [SAMPLE]     (defaults 100000 and 2000)
#
# Needs: a release build (cargo build --release -p mailward -p mailward-benches --bins),
# GNU time (/usr/bin/time), and parsedmarc ($PARSEDMARC or on PATH; see parsedmarc-offline.sh).
# The mailbox comes from gen-report-mail (seed 1): Google/Microsoft/Yahoo-like and small
# receivers, gzip/zip/plain XML attachments, heavy-tailed record counts, 0.5 % duplicate
# deliveries, 0.3 % non-reports.
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-100000}
sample=${2:-2000}
bin=target/release
work=${WORK:-/tmp/mailward-ingest-bench}
mkdir -p "$work"
maildir="$work/maildir-$messages"
if [ ! -d "$maildir/cur" ]; then
    "$bin/gen-report-mail" --messages "$messages" --seed 1 --out "$maildir"
fi
# The sample: every (messages/sample)-th message, as .eml files for parsedmarc.
rm -rf "$work/sample"; mkdir -p "$work/sample"
step=$(( messages / sample ))
find "$maildir/cur" "$maildir/new" -type f | sort | awk -v s="$step" 'NR % s == 0' | head -n "$sample" |
    while read -r f; do cp "$f" "$work/sample/$(basename "$f").eml"; done

run_ingest() { # label source
    rm -f "$work/store.db" "$work/store.db-wal" "$work/store.db-shm"
    sync
    /usr/bin/time -f "%e %M" -o "$work/time.txt" \
        "$bin/mailward" report ingest --no-enrich --store "sqlite:$work/store.db" "$2" > "$work/out.txt"
    read -r secs rss < "$work/time.txt"
    n=$(find -L "${2#maildir:}" -type f | wc -l)
    awk -v l="$1" -v n="$n" -v t="$secs" -v r="$rss" 'BEGIN {
        printf "| mailward %s | %d | %.2f | %.0f | %.0f |\n", l, n, t, n / t, r / 1024 }'
    sed 's/^/    /' "$work/out.txt" >&2
}

echo "| what | messages | seconds | messages/s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
run_ingest "ingest, sample (.eml files)" "$work/sample"
run_ingest "ingest, whole Maildir" "maildir:$maildir"
pm=$(benches/parsedmarc-offline.sh "$work/sample" 2>&1 | tail -n 1)
echo "$pm" >&2
awk -v line="$pm" -v n="$sample" 'BEGIN {
    match(line, /[0-9.]+ s,/); t = substr(line, RSTART, RLENGTH - 3) + 0
    printf "| parsedmarc 11 offline, sample (.eml files) | %d | %.2f | %.1f | |\n", n, t, n / t }'
