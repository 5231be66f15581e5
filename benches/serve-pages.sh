#!/usr/bin/env bash
# Server time and weight of every page of `mailward serve` on a store, measured over loopback.
#
#   benches/serve-pages.sh STORE [WINDOW]    (e.g. sqlite:/tmp/mailward-scale.db since=2024-12-03)
#
# Build the 10 000 000-record store with benches' store-scale first (see its header), and
# `cargo build --release -p mailward`. Each page is fetched 7 times after one warm-up; the
# table gives the median and the slowest total time curl saw (loopback adds well under 1 ms),
# and the size of the page.
set -euo pipefail
cd "$(dirname "$0")/.."
store=${1:?usage: serve-pages.sh STORE [WINDOW]}
window=${2:-days=30}
bin=target/release/mailward
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --store "$store" --listen "127.0.0.1:$port" 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/favicon.ico" && break; sleep 0.1; done
base="http://127.0.0.1:$port"

# The busiest domain, its busiest source, and the latest report, from the JSON API.
domain=$(curl -s "$base/api/summary?$window" | python3 -c '
import json, sys
d = json.load(sys.stdin)["domains"]
print(max(d, key=lambda x: x["volume"])["domain"] if d else "")')
key=$(curl -s "$base/api/domains/$domain?$window" | python3 -c '
import json, sys
s = json.load(sys.stdin)["sources"]
print(s[0]["key"] if s else "")')
report=$(curl -s "$base/api/reports?$window" | python3 -c '
import json, sys
r = json.load(sys.stdin)["reports"]
print(r[0]["id"] if r else 1)')

echo "| page | median ms | slowest ms | KB |"
echo "|---|---:|---:|---:|"
for path in "/" "/domains/$domain" "/domains/$domain/sources/$key" "/reports" "/reports/$report" \
    "/api/summary" "/api/overview" "/api/domains/$domain"; do
    url="$base$path?$window"
    curl -s -o /dev/null "$url"
    times=()
    for _ in 1 2 3 4 5 6 7; do
        times+=("$(curl -s -o /dev/null -w '%{time_total} %{size_download}' "$url")")
    done
    printf '%s\n' "${times[@]}" | sort -n | awk -v p="$path" '
        { t[NR] = $1 * 1000; s = $2 }
        END { printf "| `%s` | %.0f | %.0f | %.0f |\n", p, t[4], t[7], s / 1024 }'
done
