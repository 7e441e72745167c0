#!/usr/bin/env bash
# Benchmark of pvenotify's routing path (`send --dry-run`).
#
# Builds the release binary, installs hyperfine if missing (apt, Debian, as root),
# generates large configurations with bench/gen_config.py, measures with hyperfine and
# prints a Markdown table, which is also written to bench/results.md.
# Runs in about a minute on 2 cores (most of it in the 100,000-matcher case).
#
# Environment: BENCH_KEEP=1 keeps the scratch directory (generated configs, hyperfine JSON).
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

example="$repo/examples/pve"
full10k="$work/full-10k"        # realistic rule mix; 100k of these would exceed 4 MiB
compact10k="$work/compact-10k"  # same shape at both sizes, for the growth ratio
compact100k="$work/compact-100k"

log "generating configurations in $work"
python3 "$bench_dir/gen_config.py" --profile full --matchers 10000 --targets 1000 --out "$full10k"
python3 "$bench_dir/gen_config.py" --profile compact --matchers 10000 --targets 1000 --out "$compact10k"
python3 "$bench_dir/gen_config.py" --profile compact --matchers 100000 --targets 1000 --out "$compact100k"

for dir in "$example" "$full10k" "$compact10k" "$compact100k"; do
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

log "a: examples/pve vs /bin/true"
run_hf "$work/a.json" 50 1000 -n true /bin/true -n example "$(cmd "$example")"
log "b: 10,000 matchers / 1,000 targets (full profile)"
run_hf "$work/b.json" 3 20 -n full10k "$(cmd "$full10k")"
log "c: 10,000 and 100,000 matchers / 1,000 targets (compact profile)"
run_hf "$work/c10.json" 3 30 -n compact10k "$(cmd "$compact10k")"
run_hf "$work/c100.json" 2 15 -n compact100k "$(cmd "$compact100k")"

# --- 5. report --------------------------------------------------------------------------
export BENCH_WORK="$work" BENCH_BIN="$bin" BENCH_EXAMPLE="$example"
export BENCH_FULL10K="$full10k" BENCH_C10K="$compact10k" BENCH_C100K="$compact100k"
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


def median(r):
    return statistics.median(r["times"])


def ms(seconds):
    v = seconds * 1e3
    return "%.*f ms" % (2 if v < 10 else 1 if v < 100 else 0, v)


def mean_sd(r):
    return "%s ± %s" % (ms(r["mean"]), ms(r["stddev"] or 0.0))


def size(path):
    n = os.path.getsize(path)
    return "%.1f MiB" % (n / 2**20) if n >= 2**20 else "%.0f KiB" % (n / 2**10)


def cfg(key):
    return size(os.path.join(env[key], "notifications.cfg"))


a, b = results("a"), results("b")
c10, c100 = results("c10")["compact10k"], results("c100")["compact100k"]
true, ex, full = a["true"], a["example"], b["full10k"]
growth = median(c100) / median(c10)
yes = lambda ok: "**yes**" if ok else "**no**"

cpu = "unknown"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

rows = [
    ("`/bin/true` (baseline, same hyperfine run)", "–", true, "–", "–"),
    ("shipped example `examples/pve`", cfg("BENCH_EXAMPLE"), ex, "< 3 ms", yes(median(ex) < 0.003)),
    ("10,000 matchers / 1,000 targets, full rule mix", cfg("BENCH_FULL10K"), full, "< 50 ms",
     yes(median(full) < 0.050)),
    ("10,000 matchers / 1,000 targets, compact", cfg("BENCH_C10K"), c10, "–", "–"),
    ("100,000 matchers / 1,000 targets, compact", cfg("BENCH_C100K"), c100, "–", "–"),
]
out = []
out.append("Measured %s on %s CPU(s) (%s); commit %s; release binary %s; %s; %s." % (
    datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    os.cpu_count(), cpu, env["BENCH_COMMIT"], size(env["BENCH_BIN"]),
    env["BENCH_RUSTC"], env["BENCH_HYPERFINE"]))
out.append("Command: `pvenotify --config-dir DIR %s`, stdin `/dev/null`, `hyperfine -N`." % env["BENCH_ARGS"])
out.append("")
out.append("| configuration (`send --dry-run`) | notifications.cfg | median | mean ± σ | runs | target | met |")
out.append("|---|---|---|---|---|---|---|")
for label, sz, r, target, met in rows:
    out.append("| %s | %s | %s | %s | %d | %s | %s |" % (label, sz, ms(median(r)), mean_sd(r),
                                                      len(r["times"]), target, met))
out.append("| example ÷ `/bin/true` (medians) | | %.2f× | | | – | – |" % (median(ex) / median(true)))
out.append("| growth 100,000 ÷ 10,000 matchers, compact (medians) | | %.2f× | | | ≤ 12× | %s |"
           % (growth, yes(growth <= 12)))
print("\n".join(out))
PY

cat "$bench_dir/results.md"
