#!/usr/bin/env bash
# Benchmark of noise control and `run` (noise.md): a deduplicated `send` with 10,000 live
# keys in the state against the same `send` without --dedup-key (target: at most 1 ms more),
# `run -- true` against `true` (at most 3 ms more), and the peak RSS of `run` over a command
# printing 1 GiB against `run` over a command printing nothing (at most 16 MiB more).
# Deliveries go to one sendmail target whose program only reads its input, so what is
# measured is pvenotify itself. Writes bench/results-noise.md.
#
# BENCH_BIN uses that binary instead of building the release one. BENCH_KEYS (default 10000) sets the number of live keys, BENCH_OUTPUT_MIB (default 1024)
# the output of the RSS case, BENCH_RUNS (default 200) hyperfine's runs; small values make a
# quick check. The state lives in a scratch directory under TMPDIR (default /tmp); its file
# system is printed, because the record's fsync costs what that file system makes it cost.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
keys=${BENCH_KEYS:-10000}
output_mib=${BENCH_OUTPUT_MIB:-1024}
runs=${BENCH_RUNS:-200}

release_binary
ensure_hyperfine

work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-noise-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/config" "$work/state"
chmod 700 "$work/state"
cat >"$work/sink" <<'EOF'
#!/bin/sh
exec cat >/dev/null
EOF
chmod 755 "$work/sink"
printf 'sendmail: archive\n\tmailto archive@example.com\n\nmatcher: default-matcher\n\tdisable true\n\nmatcher: all\n\ttarget archive\n' \
    >"$work/config/notifications.cfg"
base=("$bin" --config-dir "$work/config" --sendmail "$work/sink")

log "state with $keys live keys"
# Records as pvenotify writes them (one per key, named by the SHA-256 of the key), all
# still inside their cooldown, so none is pruned.
python3 - "$work/state" "$keys" <<'EOF'
import hashlib, os, sys, time
state, keys = sys.argv[1], int(sys.argv[2])
d = os.path.join(state, "dedup")
os.makedirs(d, mode=0o700, exist_ok=True)
now = int(time.time())
for i in range(keys):
    key = f"check-{i}:vm-{100 + i % 900}"
    path = os.path.join(d, hashlib.sha256(key.encode()).hexdigest())
    with open(path, "w") as f:
        f.write(f"pvenotify-dedup 1\nkey {key}\ntarget archive error {now} {now + 86400} 0 -\n")
    os.chmod(path, 0o600)
EOF
# One run creates the bench key's record and does the hourly pruning pass now, not in
# the measured runs.
"${base[@]}" send --title t --body b --dedup-key bench-key --cooldown 0 --state-dir "$work/state" 2>/dev/null
live=$(find "$work/state/dedup" -maxdepth 1 -type f -name '[0-9a-f]*' | wc -l)
fs=$(df -PT "$work/state" | awk 'NR == 2 { print $2 }')

log "hyperfine: send"
# --cooldown 0: every measured run delivers and rewrites its record (read, lock, decide,
# deliver, write, fsync, rename): the whole cost of noise control on a delivered event.
hyperfine -N -w 10 -r "$runs" --export-json "$work/send.json" \
    -n plain "${base[*]} send --title t --body b" \
    -n dedup "${base[*]} send --title t --body b --dedup-key bench-key --cooldown 0 --state-dir $work/state" \
    -n suppressed "${base[*]} send --title t --body b --dedup-key quiet-key --cooldown 1d --state-dir $work/state" \
    >/dev/null

log "hyperfine: run"
hyperfine -N -w 10 -r "$runs" --export-json "$work/run.json" \
    -n true "/bin/true" \
    -n run "${base[*]} run -- /bin/true" \
    >/dev/null

log "peak RSS of run (${output_mib} MiB of output)"
cat >"$work/loud" <<EOF
#!/bin/sh
yes 'a line of output from a noisy cron job, 64 bytes long ......' | head -c ${output_mib}M
exit 1
EOF
cat >"$work/quiet" <<'EOF'
#!/bin/sh
exit 1
EOF
chmod 755 "$work/loud" "$work/quiet"
rss_kib() { { /usr/bin/time -f %M "${base[@]}" run -- "$1" 2>&1 >/dev/null || true; } | tail -1; }
quiet_rss=$(rss_kib "$work/quiet")
loud_rss=$(rss_kib "$work/loud")

commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
git -C "$repo" diff --quiet HEAD 2>/dev/null || commit="$commit + uncommitted changes"
measured="Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) CPU(s); commit $commit; binary $bin; $(hyperfine --version)."
python3 - "$work" "$live" "$fs" "$quiet_rss" "$loud_rss" "$output_mib" "$measured" >"$bench_dir/results-noise.md" <<'EOF'
import json, sys
work, live, fs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
quiet_rss, loud_rss, output_mib = map(int, sys.argv[4:7])
print(sys.argv[7])
def results(name):
    return {r["command"]: r for r in json.load(open(f"{work}/{name}.json"))["results"]}
send, run = results("send"), results("run")
ms = lambda r: r["median"] * 1000
yes = lambda ok: "**yes**" if ok else "**no**"
d_send = ms(send["dedup"]) - ms(send["plain"])
d_run = ms(run["run"]) - ms(run["true"])
d_rss = (loud_rss - quiet_rss) / 1024
print(f"State: {live:,} live keys on {fs}; hyperfine -N, {send['plain']['times'].__len__()} runs each; medians.")
print()
print("| case | median | mean ± σ | difference | target | met |")
print("|---|---|---|---|---|---|")
print(f"| `send` (one sendmail target) | {ms(send['plain']):.2f} ms | {send['plain']['mean']*1000:.2f} ± {send['plain']['stddev']*1000:.2f} ms | – | – | – |")
print(f"| `send --dedup-key K --cooldown 0` (delivers, rewrites the record) | {ms(send['dedup']):.2f} ms | {send['dedup']['mean']*1000:.2f} ± {send['dedup']['stddev']*1000:.2f} ms | +{d_send:.2f} ms | ≤ +1 ms | {yes(d_send <= 1)} |")
print(f"| `send --dedup-key K` inside the cooldown (suppressed) | {ms(send['suppressed']):.2f} ms | {send['suppressed']['mean']*1000:.2f} ± {send['suppressed']['stddev']*1000:.2f} ms | {ms(send['suppressed']) - ms(send['plain']):+.2f} ms | – | – |")
print(f"| `/bin/true` | {ms(run['true']):.2f} ms | {run['true']['mean']*1000:.2f} ± {run['true']['stddev']*1000:.2f} ms | – | – | – |")
print(f"| `run -- /bin/true` | {ms(run['run']):.2f} ms | {run['run']['mean']*1000:.2f} ± {run['run']['stddev']*1000:.2f} ms | +{d_run:.2f} ms | ≤ +3 ms | {yes(d_run <= 3)} |")
print(f"| peak RSS, `run` of a failing command printing nothing | {quiet_rss/1024:.1f} MiB | | – | – | – |")
print(f"| peak RSS, `run` of a failing command printing {output_mib} MiB | {loud_rss/1024:.1f} MiB | | +{d_rss:.1f} MiB | ≤ +16 MiB | {yes(d_rss <= 16)} |")
EOF
cat "$bench_dir/results-noise.md"
