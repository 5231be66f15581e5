#!/usr/bin/env bash
# Ingest throughput and peak memory of `mailward report ingest imaps://…` from a real Dovecot
# on loopback, beside the same messages read as a local Maildir, in one run on one machine.
#
#   benches/imap-ingest.sh [MESSAGES]        (default 20000)
#
# Needs: a release build (cargo build --release -p mailward -p mailward-benches --bins),
# Debian's dovecot-imapd and openssl, GNU time (/usr/bin/time), and root (Dovecot runs the
# mail user as nobody). The mailbox comes from gen-report-mail (seed 1): realistic report
# e-mails from Google/Microsoft/Yahoo-like and small receivers (gzip, zip and plain XML
# attachments, heavy-tailed record counts, 0.5 % duplicate deliveries, 0.3 % non-reports).
set -euo pipefail
cd "$(dirname "$0")/.."
messages=${1:-20000}
bin=$PWD/target/release
work=${WORK:-/tmp/mailward-imap-bench}
rm -rf "$work/dovecot"
mkdir -p "$work/dovecot"
chmod 755 "$work" "$work/dovecot"
maildir="$work/maildir-$messages"
if [ ! -d "$maildir/cur" ]; then
    "$bin/gen-report-mail" --messages "$messages" --seed 1 --out "$maildir"
fi

d=$work/dovecot
mkdir -p "$d/mail/bench"
cp -r "$maildir/." "$d/mail/bench/"
mkdir -p "$d/mail/bench/tmp"
chown -R 65534:65534 "$d/mail"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$d/key.pem" -out "$d/cert.pem" 2>/dev/null
chmod 644 "$d/key.pem"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
echo "bench:{PLAIN}secret:65534:65534::$d/mail/bench::" > "$d/users"
cat > "$d/dovecot.conf" <<EOF
protocols = imap
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
log_path = $d/dovecot.log
default_internal_user = dovecot
default_login_user = dovenull
first_valid_uid = 1
first_valid_gid = 1
auth_mechanisms = plain
mail_location = maildir:$d/mail/%u
ssl = yes
ssl_cert = <$d/cert.pem
ssl_key = <$d/key.pem
service imap-login {
  chroot =
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $port
    ssl = yes
  }
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%u $d/users
}
EOF
dovecot -F -c "$d/dovecot.conf" &
dovecot_pid=$!
trap 'kill $dovecot_pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

run() { # label source [args...]
    local label=$1 source=$2
    shift 2
    rm -f "$work/store.db" "$work/store.db-wal" "$work/store.db-shm"
    sync
    MAILWARD_IMAP_PASSWORD=secret /usr/bin/time -f "%e %M" -o "$work/time.txt" \
        "$bin/mailward" --json report ingest --no-enrich --store "sqlite:$work/store.db" "$@" "$source" > "$work/out.txt"
    read -r secs rss < "$work/time.txt"
    awk -v l="$label" -v n="$messages" -v t="$secs" -v r="$rss" 'BEGIN {
        printf "| %s | %d | %.2f | %.0f | %.0f |\n", l, n, t, n / t, r / 1024 }'
    sed 's/^/    /' "$work/out.txt" >&2
}

echo "| source | messages | seconds | messages/s | peak RSS MiB |"
echo "|---|---:|---:|---:|---:|"
# The first IMAP run also has Dovecot index the Maildir; run it once untimed.
MAILWARD_IMAP_PASSWORD=secret "$bin/mailward" report ingest --no-enrich --store "sqlite:$work/warm.db" \
    --ca "$d/cert.pem" "imaps://bench@127.0.0.1:$port/INBOX" > /dev/null
rm -f "$work/warm.db"*
run "imaps:// (Dovecot on loopback)" "imaps://bench@127.0.0.1:$port/INBOX" --ca "$d/cert.pem"
run "maildir: (same messages, local)" "maildir:$maildir"
run "imaps:// --move-to Archive" "imaps://bench@127.0.0.1:$port/INBOX" --ca "$d/cert.pem" --move-to Archive
