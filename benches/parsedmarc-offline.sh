#!/usr/bin/env bash
# Runs parsedmarc (the Python DMARC report tool, 11.x) in offline mode over every file of a
# directory of .eml messages and prints the elapsed seconds and files/s, to compare ingest
# throughput with Mailward's on the same files.
#
#   benches/parsedmarc-offline.sh DIR
#
# Make the files with:
#   cargo run --release -p mailward-benches --bin gen-report-mail -- \
#       --messages 1000 --seed 1 --out DIR --format files
#
# Environment:
#   PARSEDMARC        the parsedmarc executable (default: `parsedmarc` on PATH);
#                     install with: python3 -m pip install 'parsedmarc>=11,<12'
#   PARSEDMARC_PROCS  worker processes (parsedmarc's n_procs, default 1)
#   PARSEDMARC_OUT    where parsedmarc writes aggregate.json/.csv (default: a temporary
#                     directory, removed afterwards); writing them is part of the timed run
#   NO_NET=0          do not isolate the run from the network (by default, when run as root and
#                     `unshare` exists, parsedmarc runs in a new network namespace with only a
#                     loopback interface, so not even an attempted DNS query leaves the machine)
#
# --offline turns off parsedmarc's reverse DNS and IP geolocation look-ups; --silent keeps its
# output to errors (one line per file that is not a report, counted below).
set -euo pipefail

dir=${1:?usage: parsedmarc-offline.sh DIR}
[ -d "$dir" ] || { echo "parsedmarc-offline: $dir is not a directory" >&2; exit 2; }
bin=${PARSEDMARC:-parsedmarc}
if ! command -v "$bin" >/dev/null 2>&1; then
    echo "parsedmarc-offline: $bin not found; python3 -m pip install 'parsedmarc>=11,<12'" >&2
    exit 2
fi
procs=${PARSEDMARC_PROCS:-1}
files=$(find "$dir" -maxdepth 1 -type f | wc -l)
[ "$files" -gt 0 ] || { echo "parsedmarc-offline: no files in $dir" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
out=${PARSEDMARC_OUT:-$work/out}
mkdir -p "$out"

# A config file only to set n_procs (no command-line flag); -c implies --silent.
args=(--offline --silent -o "$out")
if [ "$procs" -gt 1 ]; then
    printf '[general]\noffline = True\nsilent = True\nn_procs = %s\n' "$procs" > "$work/parsedmarc.ini"
    args+=(-c "$work/parsedmarc.ini")
fi

wrap=()
if [ "${NO_NET:-1}" != 0 ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1 \
    && unshare -n true 2>/dev/null; then
    wrap=(unshare -n)
fi

version=$("$bin" --version 2>&1 | tail -n 1)
start=$(date +%s.%N)
status=0
"${wrap[@]}" "$bin" "${args[@]}" "$dir" 2> "$work/stderr" || status=$?
end=$(date +%s.%N)

errors=$(grep -c 'Failed to parse' "$work/stderr" || true)
reports=$(python3 -c 'import json, sys
try:
    print(len(json.load(open(sys.argv[1]))))
except (OSError, ValueError):
    print(0)' "$out/aggregate.json")
if [ "$status" -ne 0 ]; then
    echo "parsedmarc-offline: parsedmarc exited with status $status:" >&2
    tail -n 20 "$work/stderr" >&2
fi
awk -v s="$start" -v e="$end" -v n="$files" -v r="$reports" -v err="$errors" \
    -v v="$version" -v p="$procs" -v net="${wrap[*]:-network allowed}" 'BEGIN {
    t = e - s
    printf "parsedmarc %s (offline, %d proc, %s): %d files, %d aggregate reports (duplicates dropped), %d not parsed, %.2f s, %.1f files/s\n",
        v, p, net, n, r, err, t, (t > 0 ? n / t : 0)
}'
exit "$status"
