#!/usr/bin/env bash
# Peak RSS of `pvenotify forward-mail` sending a large mail (default 200 MiB) to an smtp
# target: the body is streamed from the spool file, so memory must not grow with the
# message. Starts its own SMTP server (tests/services/smtp_server.py, no size limit) on a
# free port in a scratch directory. Writes bench/results-forward-smtp.md.
#   FORWARD_SMTP_MIB=200   size of the mail
#   BENCH_BIN=path         measure this binary instead of building the release one
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
mib=${FORWARD_SMTP_MIB:-200}

release_binary

work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-forward-smtp.XXXXXX")
server_pid=
cleanup() {
    # wait reports the server's SIGTERM (143): under set -e that must not end the trap
    # before the scratch directory is gone, nor become the script's exit status
    if [ -n "$server_pid" ]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/config" "$work/mail"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
/usr/bin/python3 "$repo/tests/services/smtp_server.py" --plain "$port" --data-size-limit 0 \
    --outdir "$work/mail" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
    grep -q listening "$work/server.log" 2>/dev/null && break
    sleep 0.1
done
printf 'smtp: relay\n\tserver 127.0.0.1\n\tport %s\n\tmode insecure\n\tfrom-address pve@example.com\n\tmailto big@example.com\n\nmatcher: default-matcher\n\tdisable true\n\nmatcher: system-mail\n\tmatch-field exact:type=system-mail\n\ttarget relay\n' \
    "$port" >"$work/config/notifications.cfg"

log "generating a $mib MiB mail"
python3 - "$work/big.eml" "$mib" <<'PY'
import base64, os, sys
path, mib = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("From root@pve1  Tue Nov 24 03:00:01 2026\nSubject: big\nMessage-ID: <big@pve1>\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n"
            "The backup log is attached.\n--b1\nContent-Type: application/octet-stream\n"
            "Content-Transfer-Encoding: base64\n\n")
    for _ in range(mib * 3 // 4):
        f.write(base64.encodebytes(os.urandom(1024 * 1024)).decode())
    f.write("--b1--\n")
PY
size=$(stat -c %s "$work/big.eml")

log "forward-mail to the smtp target"
/usr/bin/time -v "$bin" --config-dir "$work/config" forward-mail --no-state \
    <"$work/big.eml" >"$work/out" 2>"$work/time"
grep -q 'relay (smtp): delivered' "$work/time" || { cat "$work/time" >&2; exit 1; }
rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time")
wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time")
received=$(stat -c %s "$work/mail"/*.eml)

{
    echo "| forward-mail of | message | received by the server | wall | peak RSS |"
    echo "|---|---|---|---|---|"
    printf '| a %s MiB mail to an smtp target | %.1f MiB | %.1f MiB | %s | %.1f MiB (%.2f× the message) |\n' \
        "$mib" "$(echo "$size / 1048576" | bc -l)" "$(echo "$received / 1048576" | bc -l)" "$wall" \
        "$(echo "$rss / 1024" | bc -l)" "$(echo "$rss * 1024 / $size" | bc -l)"
} >"$bench_dir/results-forward-smtp.md"
cat "$bench_dir/results-forward-smtp.md"
