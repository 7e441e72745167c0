#!/usr/bin/env bash
# Benchmark of pvenotify's routing path (`send --dry-run`).
#
# Builds the release binary, installs hyperfine if missing (apt, Debian, as root),
# generates large configurations with bench/gen_config.py, measures with hyperfine and
# prints a Markdown table, which is also written to bench/results.md.
# Rows: the shipped example (beside /bin/true), and 1,000, 10,000 and 30,000 matchers with
# 1,000 targets and the full rule mix; for each the median wall time and the peak RSS.
# Runs in about a minute on 2 cores.
#
# Environment: BENCH_KEEP=1 keeps the scratch directory (generated configs, hyperfine JSON);
# RSS_RUNS (default 5) runs per configuration for the peak RSS.
set -euo pipefail

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
cd "$repo"

log() { printf '==> %s\n' "$*" >&2; }

# --- 1. binary --------------------------------------------------------------------------
log "cargo build --release"
cargo build --release --quiet
bin="${CARGO_TARGET_DIR:-$repo/target}/release/pvenotify"
case $bin in /*) ;; *) bin="$repo/$bin" ;; esac
[[ -x $bin ]] || { echo "run.sh: $bin not found after build" >&2; exit 1; }

# --- 2. hyperfine -----------------------------------------------------------------------
if ! command -v hyperfine >/dev/null 2>&1; then
    log "installing hyperfine"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q hyperfine >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q hyperfine >/dev/null
    fi
fi
for tool in python3 hyperfine; do
    command -v "$tool" >/dev/null 2>&1 || { echo "run.sh: $tool is required" >&2; exit 1; }
done

# --- 3. configurations ------------------------------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-bench.XXXXXX")
if [[ ${BENCH_KEEP:-0} == 1 ]]; then
    log "scratch directory kept: $work"
else
    trap 'rm -rf "$work"' EXIT
fi

# The rows of issue 11: the shipped example, and the full rule mix with 1,000 targets at
# 1,000, 10,000 and 30,000 matchers (30,000 is about 3.9 MiB, under the 4 MiB file limit).
example="$repo/examples/pve"
full1k="$work/full-1k"
full10k="$work/full-10k"
full30k="$work/full-30k"

log "generating configurations in $work"
for n in 1k:1000 10k:10000 30k:30000; do
    python3 "$bench_dir/gen_config.py" --profile full --matchers "${n#*:}" --targets 1000 \
        --out "$work/full-${n%%:*}"
done

for dir in "$example" "$full1k" "$full10k" "$full30k"; do
    if ! "$bin" --config-dir "$dir" validate >"$work/validate.out" 2>&1 </dev/null; then
        cat "$work/validate.out" >&2
        echo "run.sh: $dir does not validate" >&2
        exit 1
    fi
done

# --- 4. measurements --------------------------------------------------------------------
args="send --dry-run --title t --body b --severity error --field type=vzdump --timestamp 1717416000"
cmd() { printf "'%s' --config-dir '%s' %s" "$bin" "$1" "$args"; }

run_hf() { # json-file warmup runs command...
    local json=$1 warmup=$2 runs=$3
    shift 3
    hyperfine -N --style basic --warmup "$warmup" --runs "$runs" \
        --export-json "$json" "$@" </dev/null >&2
}

# Peak RSS (maximum resident set size of GNU time, KiB) of RSS_RUNS runs; the report
# takes the median. Unlike wall time it hardly depends on the load of the machine.
rss() { # name config-dir
    local i
    for ((i = 0; i < ${RSS_RUNS:-5}; i++)); do
        /usr/bin/time -f '%M' -o "$work/rss.tmp" "$bin" --config-dir "$2" $args \
            </dev/null >/dev/null 2>&1
        cat "$work/rss.tmp" >>"$work/$1.rss"
    done
}

log "example vs /bin/true"
run_hf "$work/example.json" 50 1000 -n true /bin/true -n example "$(cmd "$example")"
log "1,000 matchers"
run_hf "$work/full1k.json" 20 200 -n full1k "$(cmd "$full1k")"
log "10,000 matchers"
run_hf "$work/full10k.json" 5 50 -n full10k "$(cmd "$full10k")"
log "30,000 matchers"
run_hf "$work/full30k.json" 3 20 -n full30k "$(cmd "$full30k")"
log "peak RSS"
rss example "$example"
rss full1k "$full1k"
rss full10k "$full10k"
rss full30k "$full30k"

# --- 5. report --------------------------------------------------------------------------
export BENCH_WORK="$work" BENCH_BIN="$bin" BENCH_EXAMPLE="$example"
export BENCH_FULL1K="$full1k" BENCH_FULL10K="$full10k" BENCH_FULL30K="$full30k"
BENCH_HYPERFINE=$(hyperfine --version)
BENCH_RUSTC=$(rustc --version 2>/dev/null || echo unknown)
export BENCH_HYPERFINE BENCH_RUSTC
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes"
fi
export BENCH_COMMIT=$commit BENCH_ARGS=$args
python3 - >"$bench_dir/results.md" <<'PY'
import datetime, json, os, statistics

env = os.environ
work = env["BENCH_WORK"]


def results(name):
    with open(os.path.join(work, name + ".json")) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def rss(name):
    with open(os.path.join(work, name + ".rss")) as f:
        return statistics.median(int(line) for line in f if line.strip()) / 1024


def median(r):
    return statistics.median(r["times"])


def ms(seconds):
    v = seconds * 1e3
    return "%.*f ms" % (2 if v < 10 else 1 if v < 100 else 0, v)


def size(path):
    n = os.path.getsize(path)
    return "%.1f MiB" % (n / 2**20) if n >= 2**20 else "%.0f KiB" % (n / 2**10)


def cfg(key):
    return size(os.path.join(env[key], "notifications.cfg"))


yes = lambda ok: "**yes**" if ok else "**no**"
ex_res = results("example")
true, ex = ex_res["true"], ex_res["example"]
k1, k10, k30 = results("full1k")["full1k"], results("full10k")["full10k"], results("full30k")["full30k"]
growth = median(k30) / median(k10)

cpu = "unknown"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

# (label, config size, result, peak RSS MiB, target text, met)
rows = [
    ("`/bin/true` (baseline, same hyperfine run)", "–", true, None, "–", "–"),
    ("shipped example `examples/pve`", cfg("BENCH_EXAMPLE"), ex, rss("example"), "≤ 2.5 ms",
     yes(median(ex) <= 0.0025)),
    ("1,000 matchers / 1,000 targets", cfg("BENCH_FULL1K"), k1, rss("full1k"), "≤ 5 ms, ≤ 14 MiB",
     yes(median(k1) <= 0.005 and rss("full1k") <= 14)),
    ("10,000 matchers / 1,000 targets", cfg("BENCH_FULL10K"), k10, rss("full10k"),
     "≤ 20 ms, ≤ 25 MiB", yes(median(k10) <= 0.020 and rss("full10k") <= 25)),
    ("30,000 matchers / 1,000 targets", cfg("BENCH_FULL30K"), k30, rss("full30k"), "–", "–"),
]
out = []
out.append("Measured %s on %s CPU(s) (%s); commit %s; release binary %s; %s; %s." % (
    datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    os.cpu_count(), cpu, env["BENCH_COMMIT"], size(env["BENCH_BIN"]),
    env["BENCH_RUSTC"], env["BENCH_HYPERFINE"]))
out.append("Command: `pvenotify --config-dir DIR %s`, stdin `/dev/null`, `hyperfine -N`; "
           "peak RSS: median of the maximum resident set size of GNU time over several runs. "
           "Configurations: `bench/gen_config.py --profile full --targets 1000 --matchers N`."
           % env["BENCH_ARGS"])
out.append("")
out.append("| configuration (`send --dry-run`) | notifications.cfg | median | mean ± σ | runs | peak RSS | target | met |")
out.append("|---|---|---|---|---|---|---|---|")
for label, sz, r, mib, target, met in rows:
    out.append("| %s | %s | %s | %s ± %s | %d | %s | %s | %s |" % (
        label, sz, ms(median(r)), ms(r["mean"]), ms(r["stddev"] or 0.0), len(r["times"]),
        "–" if mib is None else "%.1f MiB" % mib, target, met))
out.append("| growth 30,000 ÷ 10,000 matchers (medians) | | %.2f× | | | | ≤ 3.5× | %s |"
           % (growth, yes(growth <= 3.5)))
print("\n".join(out))
PY

cat "$bench_dir/results.md"
