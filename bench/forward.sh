#!/usr/bin/env bash
# Benchmark of `pvenotify forward-mail`: a 20 MiB mail (wall time and peak RSS, target
# RSS <= 4x the message size) and a typical 5 KiB cron mail against the /bin/true floor.
# The mail goes to one sendmail target whose program only reads its input, so what is
# measured is pvenotify itself. Writes bench/results-forward.md. Builds the release binary,
# or measures BENCH_BIN=path; installs hyperfine if missing (as root on Debian).
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

release_binary
ensure_hyperfine

work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-forward-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config" "$work/state"
cat >"$work/sink" <<'EOF'
#!/bin/sh
exec cat >/dev/null
EOF
chmod 755 "$work/sink"
printf 'sendmail: archive\n\tmailto archive@example.com\n\nmatcher: default-matcher\n\tdisable true\n\nmatcher: system-mail\n\tmatch-field exact:type=system-mail\n\ttarget archive\n' \
    >"$work/config/notifications.cfg"

python3 - "$work" <<'EOF'
import base64, os, random, sys
work = sys.argv[1]
random.seed(1)
head = ("From root@pve1  Tue Nov 24 03:00:01 2026\nReturn-Path: <root@pve1>\n"
        "Delivered-To: root@pve1\nFrom: root@pve1 (Cron Daemon)\nTo: root@pve1\n"
        "Subject: Cron <root@pve1> /usr/local/sbin/nightly-report\n"
        "Message-ID: <{}@pve1>\nContent-Type: {}\n\n")
# 5 KiB: the text output of a cron job.
lines = [f"{i:04d} /var/lib/vz/images/{100 + i % 40}/vm-disk-{i % 3}.qcow2 ok {random.randint(1, 99)}%"
         for i in range(90)]
with open(f"{work}/cron.eml", "w") as f:
    f.write(head.format("cron", "text/plain; charset=UTF-8") + "\n".join(lines)[:5000] + "\n")
# 20 MiB: a report with a large base64 attachment.
with open(f"{work}/big.eml", "w") as f:
    f.write(head.format("big", 'multipart/mixed; boundary="b1"'))
    f.write("--b1\nContent-Type: text/plain\n\nThe nightly report is attached.\n--b1\n"
            "Content-Type: application/octet-stream; name=\"report.bin\"\n"
            "Content-Transfer-Encoding: base64\n\n")
    raw = os.urandom(15 * 1024 * 1024 + 400 * 1024)
    f.write(base64.encodebytes(raw).decode())
    f.write("--b1--\n")
EOF
cron_size=$(stat -c %s "$work/cron.eml")
big_size=$(stat -c %s "$work/big.eml")

# Both measured commands start the same way: a small sh wrapper that redirects stdin.
cat >"$work/forward" <<EOF2
#!/bin/sh
exec "$bin" --config-dir "$work/config" --sendmail "$work/sink" forward-mail --no-state <"\$1" >/dev/null 2>&1
EOF2
cat >"$work/floor" <<'EOF2'
#!/bin/sh
exec /bin/true <"$1"
EOF2
chmod 755 "$work/forward" "$work/floor"

log "peak RSS"
rss_kib() { /usr/bin/time -f %M "$bin" --config-dir "$work/config" --sendmail "$work/sink" forward-mail --no-state <"$1" 2>&1 >/dev/null | tail -1; }
big_rss=$(rss_kib "$work/big.eml")
cron_rss=$(rss_kib "$work/cron.eml")

log "hyperfine"
hyperfine -N -w 3 -r 50 --export-json "$work/cron.json" \
    -n true "$work/floor $work/cron.eml" \
    -n cron "$work/forward $work/cron.eml" >/dev/null
hyperfine -N -w 1 -r 10 --export-json "$work/big.json" -n big "$work/forward $work/big.eml" >/dev/null

python3 - "$work" "$cron_size" "$big_size" "$cron_rss" "$big_rss" >"$bench_dir/results-forward.md" <<'EOF'
import json, sys
work, cron_size, big_size, cron_rss, big_rss = sys.argv[1], *map(int, sys.argv[2:])
def medians(name):
    return {r["command"]: r["median"] * 1000 for r in json.load(open(f"{work}/{name}.json"))["results"]}
cron, big = medians("cron"), medians("big")
ratio = big_rss * 1024 / big_size
print("| forward-mail of | message | median | peak RSS | target | met |")
print("|---|---|---|---|---|---|")
print(f"| `/bin/true` floor (same hyperfine run, same sh wrapper) | {cron_size / 1024:.1f} KiB | {cron['true']:.2f} ms | – | – | – |")
print(f"| a cron mail | {cron_size / 1024:.1f} KiB | {cron['cron']:.2f} ms ({cron['cron'] / cron['true']:.2f}× the floor) | {cron_rss / 1024:.1f} MiB | – | – |")
print(f"| a report with attachment | {big_size / 1048576:.1f} MiB | {big['big']:.0f} ms | {big_rss / 1024:.1f} MiB ({ratio:.2f}× the message) | RSS ≤ 4× | {'**yes**' if ratio <= 4 else '**no**'} |")
EOF
cat "$bench_dir/results-forward.md"
