# shellcheck shell=bash disable=SC2034
# Shared pieces of the benchmark scripts (sourced, not executed; each script sets
# `set -euo pipefail` first). Provides:
#
#   bench_dir, repo   the bench/ directory and the repository root; the script runs in $repo
#   log MSG, die MSG  progress on stderr; die prefixes the script's name and exits 1
#   release_binary    sets bin: $BENCH_BIN when set (relative paths from the repository
#                     root; the old name PVENOTIFY_BIN still works), else `cargo build
#                     --release` and the binary under ${CARGO_TARGET_DIR:-target}/release
#   ensure_hyperfine  installs hyperfine with apt-get if missing (as root, Debian)
#   purge_records MARK  deletes the records whose URL path or recipient carries MARK from
#                     the test services' mail/ and http/ directories (env.sh sourced)
#   services_cleanup WORK MARK WERE_RUNNING  the EXIT trap of the scripts that use the test
#                     services: unless BENCH_KEEP=1, deletes the scratch directory WORK and
#                     the records of MARK; stops the services unless WERE_RUNNING is 1 or
#                     PVENOTIFY_KEEP_SERVICES=1; exits with the script's status

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$bench_dir/.." && pwd)
cd "$repo" || exit

log() { printf '==> %s\n' "$*" >&2; }
die() { printf '%s: %s\n' "${0##*/}" "$*" >&2; exit 1; }

release_binary() {
    local built=
    bin=${BENCH_BIN:-${PVENOTIFY_BIN:-}} # e.g. target/debug/pvenotify to check a script quickly
    if [[ -z $bin ]]; then
        log "cargo build --release"
        cargo build --release --quiet
        bin="${CARGO_TARGET_DIR:-$repo/target}/release/pvenotify"
        built=" after build"
    fi
    case $bin in /*) ;; *) bin="$repo/$bin" ;; esac
    [[ -x $bin ]] || die "$bin not found$built"
}

ensure_hyperfine() {
    command -v hyperfine >/dev/null 2>&1 && return 0
    log "installing hyperfine"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q hyperfine >/dev/null; then
        apt-get update -q >/dev/null
        apt-get install -y -q hyperfine >/dev/null
    fi
}

# Never fails: a record left behind is no reason to fail a benchmark that has finished.
purge_records() {
    python3 - "$PVENOTIFY_TEST_MAIL_DIR" "$PVENOTIFY_TEST_HTTP_DIR" "$1" <<'PY' || true
import json, os, re, sys
mail_dir, http_dir, mark = sys.argv[1:]
# The marks end in the process id: "...-12" must not take the records of "...-123".
mine = re.compile(re.escape(mark) + r"(?![0-9])").search
removed = 0
for d in (mail_dir, http_dir):
    try:
        names = sorted(os.listdir(d))
    except OSError:
        continue
    for name in names:
        if not name.endswith(".json"):
            continue
        path = os.path.join(d, name)
        try:
            with open(path) as f:
                rec = json.load(f)
        except (OSError, ValueError):
            continue
        if not isinstance(rec, dict):
            continue
        rcpts = rec.get("rcpt_tos") or []
        if not (mine(rec.get("path") or "") or any(mine(r) for r in rcpts if isinstance(r, str))):
            continue
        # the .json first: readers take a record from its .json, so none sees half of one
        try:
            os.remove(path)
        except OSError:
            continue
        if rec.get("eml"):
            try:
                os.remove(os.path.join(d, os.path.basename(rec["eml"])))
            except OSError:
                pass
        removed += 1
print("==> removed %d records of this run from %s and %s" % (removed, mail_dir, http_dir),
      file=sys.stderr)
PY
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
services_cleanup() {
    local rc=$? work=$1 mark=$2 were_running=$3
    if [[ ${BENCH_KEEP:-0} == 1 ]]; then
        log "kept: scratch directory $work; server records of this run (marker $mark)"
    else
        purge_records "$mark"
        rm -rf "$work"
    fi
    if ((were_running == 0)) && [[ ${PVENOTIFY_KEEP_SERVICES:-0} != 1 ]]; then
        log "stopping the test services this script started"
        bash tests/services/stop.sh >&2 || true
    fi
    exit "$rc"
}
