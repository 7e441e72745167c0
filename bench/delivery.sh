#!/usr/bin/env bash
# Benchmark of real deliveries against the loopback test services (tests/services):
# one pvenotify delivery per invocation against a reference client doing the same
# exchange with the same server, each pair in one hyperfine run:
#
#   gotify   `pvenotify test-target` to the Gotify-API mock (HTTP; HTTPS as an extra pair)
#            vs `curl` POSTing the same JSON body with the same headers to the same URL
#   smtp     `pvenotify test-target` over STARTTLS + AUTH PLAIN (port 12587)
#            vs `swaks` (STARTTLS, AUTH PLAIN, CA-verified) sending the same message
#   webhook  `pvenotify test-target` (POST, JSON body template, Content-Type header)
#            vs `curl` POSTing the rendered body with the same header
#
# Before timing, one delivery of each command is checked on the server side (same body,
# same headers, TLS and AUTH really used); the curl bodies and the swaks message are the
# ones pvenotify sent.
#
# Installs the test services (tests/services/install.sh; as root when packages are
# missing) and hyperfine if needed, starts the services (idempotent), builds the release
# binary (BENCH_BIN=path measures that binary instead), writes a Markdown table to
# bench/results-delivery.md and prints it. About 30 s on 2 cores after the build.
#
# Environment: BENCH_KEEP=1 keeps the scratch directory and the records of this run in the
# services' mail/ and http/ directories (by default they are deleted at the end);
# BENCH_RUNS (default 50) and BENCH_WARMUP (default 5) per command;
# PVENOTIFY_KEEP_SERVICES=1 leaves services running that this script started.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-50}
warmup=${BENCH_WARMUP:-5}

# --- 1. binary --------------------------------------------------------------------------
release_binary

# --- 2. tools and test services ---------------------------------------------------------
ensure_hyperfine
log "tests/services/install.sh"
bash tests/services/install.sh >&2
for tool in python3 hyperfine curl swaks; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done
swaks --support 2>&1 | grep -q '^=== TLS supported' \
    || die "swaks has no TLS support (install libnet-ssleay-perl)"

services_were_running=0
if bash tests/services/start.sh --status >/dev/null 2>&1; then services_were_running=1; fi
log "tests/services/start.sh"
bash tests/services/start.sh >&2
svc_dir="${PVENOTIFY_SERVICES_DIR:-/tmp/pvenotify-services}"
# shellcheck disable=SC1091
source "$svc_dir/env.sh"

host=$PVENOTIFY_TEST_HOST
ca=$PVENOTIFY_TEST_CA
# pvenotify trusts the system store, i.e. SSL_CERT_FILE when set; exported for hyperfine's
# children. curl and swaks get the same CA file explicitly.
export SSL_CERT_FILE=$ca

work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-bench-delivery.XXXXXX")
# A marker in every URL path and recipient of this run: it tells this run's records in
# the services' directories from those of anybody else using the services meanwhile.
mark="pvenotify-bench-$(date +%s)-$$"

trap 'services_cleanup "$work" "$mark" "$services_were_running"' EXIT

# --- 3. configuration -------------------------------------------------------------------
cfg="$work/config"
mkdir -p "$cfg/priv"
b64() { printf '%s' "$1" | base64 -w0; }
webhook_body='{"title": "{{ escape title }}", "text": "{{ escape message }}", "severity": "{{ severity }}", "timestamp": {{ timestamp }}}'
mail_to="$mark@example.com"
cat >"$cfg/notifications.cfg" <<EOF
smtp: mail
	server $host
	port $PVENOTIFY_TEST_SMTP_STARTTLS_PORT
	mode starttls
	username $PVENOTIFY_TEST_SMTP_USER
	from-address bench@example.com
	mailto $mail_to

gotify: phone
	server http://$host:$PVENOTIFY_TEST_HTTP_PORT/$mark

gotify: phone-tls
	server https://$host:$PVENOTIFY_TEST_HTTPS_PORT/$mark

webhook: hook
	method post
	url http://$host:$PVENOTIFY_TEST_HTTP_PORT/$mark/hook
	header name=Content-Type,value=$(b64 application/json)
	body $(b64 "$webhook_body")
EOF
cat >"$cfg/priv/notifications.cfg" <<EOF
smtp: mail
	password $PVENOTIFY_TEST_SMTP_PASSWORD

gotify: phone
	token $PVENOTIFY_TEST_GOTIFY_TOKEN

gotify: phone-tls
	token $PVENOTIFY_TEST_GOTIFY_TOKEN
EOF
# root@pam's address for the built-in mail-to-root target (else every run warns)
printf 'user:root@pam:1:0:::root@example.com:::\n' >"$cfg/user.cfg"
chmod 0600 "$cfg/notifications.cfg" "$cfg/priv/notifications.cfg"

# --- 4. pre-flight: one delivery of each command, checked on the server side -----------
pv() { printf "'%s' --config-dir '%s' test-target %s" "$bin" "$cfg" "$1"; }
http_url="http://$host:$PVENOTIFY_TEST_HTTP_PORT/$mark"
https_url="https://$host:$PVENOTIFY_TEST_HTTPS_PORT/$mark"
gotify_headers="-H 'Content-Type: application/json' -H 'Authorization: Bearer $PVENOTIFY_TEST_GOTIFY_TOKEN' -H 'X-Gotify-Key: $PVENOTIFY_TEST_GOTIFY_TOKEN'"
curl_base="curl -sS --fail --noproxy '*' -o /dev/null"
cmd_gotify_curl="$curl_base $gotify_headers --data-binary '@$work/gotify.json' '$http_url/message'"
cmd_gotify_tls_curl="$curl_base --cacert '$ca' $gotify_headers --data-binary '@$work/gotify-tls.json' '$https_url/message'"
cmd_hook_curl="$curl_base -H 'Content-Type: application/json' --data-binary '@$work/hook.json' '$http_url/hook'"
cmd_swaks="swaks --silent 2 --server $host --port $PVENOTIFY_TEST_SMTP_STARTTLS_PORT --tls --tls-verify --tls-ca-path '$ca' --auth PLAIN --auth-user $PVENOTIFY_TEST_SMTP_USER --auth-password $PVENOTIFY_TEST_SMTP_PASSWORD --from bench@example.com --to $mail_to --data '@$work/mail.eml'"

run() { # run a hyperfine-style command string once, as hyperfine -N would (no shell)
    eval "set -- $1"
    "$@" </dev/null >"$work/run.out" 2>&1 || { cat "$work/run.out" >&2; die "pre-flight failed: $*"; }
}

log "pre-flight: one delivery per command, checked on the server side"
for t in phone phone-tls hook mail; do run "$(pv "$t")"; done
# the bodies and the message pvenotify sent become curl's and swaks' input
python3 - "$PVENOTIFY_TEST_MAIL_DIR" "$PVENOTIFY_TEST_HTTP_DIR" "$mark" "$work" <<'PY'
import base64, glob, json, os, sys
mail_dir, http_dir, mark, work = sys.argv[1:]
def records(d, match):
    out = []
    for p in glob.glob(os.path.join(d, "*.json")):
        try:
            with open(p) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if match(r):
            out.append(r)
    return sorted(out, key=lambda r: r["id"])
for name, port, path in (("gotify", "PVENOTIFY_TEST_HTTP_PORT", "/message"),
                         ("gotify-tls", "PVENOTIFY_TEST_HTTPS_PORT", "/message"),
                         ("hook", "PVENOTIFY_TEST_HTTP_PORT", "/hook")):
    rs = records(http_dir, lambda r: r.get("path") == "/" + mark + path and r.get("port") == int(os.environ[port]))
    assert len(rs) == 1 and rs[0]["response_status"] == 200, (name, rs)
    with open(os.path.join(work, name + ".json"), "wb") as f:
        f.write(base64.b64decode(rs[0]["body_base64"]))
rs = records(mail_dir, lambda r: any(mark in t for t in r.get("rcpt_tos", [])))
assert len(rs) == 1, rs
with open(os.path.join(mail_dir, rs[0]["eml"]), "rb") as src, open(os.path.join(work, "mail.eml"), "wb") as dst:
    dst.write(src.read())
PY
for c in "$cmd_gotify_curl" "$cmd_gotify_tls_curl" "$cmd_hook_curl" "$cmd_swaks"; do run "$c"; done
python3 - "$PVENOTIFY_TEST_MAIL_DIR" "$PVENOTIFY_TEST_HTTP_DIR" "$mark" <<'PY' >&2
import glob, json, os, sys
mail_dir, http_dir, mark = sys.argv[1:]
def records(d, match):
    out = []
    for p in glob.glob(os.path.join(d, "*.json")):
        try:
            with open(p) as f:
                r = json.load(f)
        except (OSError, ValueError):
            continue
        if match(r):
            out.append(r)
    return sorted(out, key=lambda r: r["id"])
def hdrs(r, names):
    h = {k.lower(): v for k, v in r["headers"]}
    return {n: h.get(n) for n in names}
gotify_h = ["content-type", "authorization", "x-gotify-key", "content-length"]
for name, port, path, names in (("gotify", "PVENOTIFY_TEST_HTTP_PORT", "/message", gotify_h),
                                ("gotify-tls", "PVENOTIFY_TEST_HTTPS_PORT", "/message", gotify_h),
                                ("webhook", "PVENOTIFY_TEST_HTTP_PORT", "/hook",
                                 ["content-type", "content-length"])):
    rs = records(http_dir, lambda r: r.get("path") == "/" + mark + path and r.get("port") == int(os.environ[port]))
    assert len(rs) == 2, (name, len(rs))
    pv, ref = rs
    for r in rs:
        assert r["response_status"] == 200 and r["method"] == "POST", (name, r)
    assert pv["body_base64"] == ref["body_base64"], (name, "bodies differ")
    assert hdrs(pv, names) == hdrs(ref, names), (name, hdrs(pv, names), hdrs(ref, names))
    assert pv["tls"] == ref["tls"] == (name == "gotify-tls"), name
    print("    %-10s POST %s: same body (%d bytes) and %s" % (
        name, pv["path"], len(pv["body"].encode()), ", ".join(names)))
rs = records(mail_dir, lambda r: any(mark in t for t in r.get("rcpt_tos", [])))
assert len(rs) == 2, len(rs)
for r in rs:
    assert r["listener"] == "starttls" and r["tls"] is True, r
    assert r["auth_mechanism"] == "PLAIN" and r["auth_user"] == os.environ["PVENOTIFY_TEST_SMTP_USER"], r
print("    smtp       STARTTLS (%s) + AUTH PLAIN both; message %d bytes (pvenotify), %d bytes (swaks)"
      % (rs[0].get("tls_version"), rs[0]["size"], rs[1]["size"]))
PY

# --- 5. measurements --------------------------------------------------------------------
run_hf() { # json-file command...
    local json=$1
    shift
    hyperfine -N --style basic --warmup "$warmup" --runs "$runs" \
        --export-json "$json" "$@" </dev/null >&2
}
log "gotify (HTTP): pvenotify vs curl"
run_hf "$work/gotify.hf.json" -n pvenotify "$(pv phone)" -n curl "$cmd_gotify_curl"
log "gotify (HTTPS): pvenotify vs curl"
run_hf "$work/gotify-tls.hf.json" -n pvenotify "$(pv phone-tls)" -n curl "$cmd_gotify_tls_curl"
log "smtp (STARTTLS + AUTH PLAIN): pvenotify vs swaks"
run_hf "$work/smtp.hf.json" -n pvenotify "$(pv mail)" -n swaks "$cmd_swaks"
log "webhook (HTTP POST, JSON body template): pvenotify vs curl"
run_hf "$work/webhook.hf.json" -n pvenotify "$(pv hook)" -n curl "$cmd_hook_curl"

# --- 6. report --------------------------------------------------------------------------
BENCH_HYPERFINE=$(hyperfine --version)
BENCH_CURL=$(curl --version | head -1 | cut -d' ' -f1-2)
BENCH_SWAKS=$(swaks --version 2>/dev/null | head -1)
commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git -C "$repo" status --porcelain --untracked-files=no -- src Cargo.toml Cargo.lock 2>/dev/null) ]]; then
    commit="$commit + uncommitted changes"
fi
export BENCH_WORK="$work" BENCH_HYPERFINE BENCH_CURL BENCH_SWAKS BENCH_COMMIT=$commit
python3 - >"$bench_dir/results-delivery.md" <<'PY'
import datetime, json, os, statistics

env = os.environ
work = env["BENCH_WORK"]


def results(name):
    with open(os.path.join(work, name + ".hf.json")) as f:
        return {r["command"]: r for r in json.load(f)["results"]}


def median(r):
    return statistics.median(r["times"])


def ms(seconds):
    v = seconds * 1e3
    return "%.*f ms" % (2 if v < 10 else 1 if v < 100 else 0, v)


def mean_sd(r):
    return "%s ± %s" % (ms(r["mean"]), ms(r["stddev"] or 0.0))


yes = lambda ok: "**yes**" if ok else "**no**"
cpu = "unknown"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break

out = []
out.append("Measured %s on %s CPU(s) (%s); commit %s; %s; %s; %s; test services on 127.0.0.1." % (
    datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    os.cpu_count(), cpu, env["BENCH_COMMIT"], env["BENCH_HYPERFINE"], env["BENCH_CURL"],
    env["BENCH_SWAKS"]))
out.append("One delivery per invocation (`pvenotify test-target NAME`, stdin `/dev/null`); each pair in "
           "one `hyperfine -N` run; ratio = pvenotify median ÷ reference median.")
out.append("")
out.append("| delivery | client | median | mean ± σ | user + sys CPU | runs | ratio | target | met |")
out.append("|---|---|---|---|---|---|---|---|---|")
# (key, label, reference client, target ratio, target median in seconds)
pairs = [
    ("gotify", "Gotify API, HTTP (`:%s`)" % env["PVENOTIFY_TEST_HTTP_PORT"], "curl", 1.3, None),
    ("gotify-tls", "Gotify API, HTTPS (`:%s`)" % env["PVENOTIFY_TEST_HTTPS_PORT"], "curl", None, None),
    ("smtp", "SMTP STARTTLS + AUTH PLAIN (`:%s`)" % env["PVENOTIFY_TEST_SMTP_STARTTLS_PORT"], "swaks", 0.5, 0.020),
    ("webhook", "webhook POST, JSON body template (`:%s`)" % env["PVENOTIFY_TEST_HTTP_PORT"], "curl", None, None),
]
for key, label, ref_name, target, limit in pairs:
    res = results(key)
    pv, ref = res["pvenotify"], res[ref_name]
    ratio = median(pv) / median(ref)
    cpu_ms = lambda r: ms(r["user"] + r["system"])
    wanted = []
    met = True
    if limit:
        wanted.append("≤ %s" % ms(limit))
        met = met and median(pv) <= limit
    if target:
        wanted.append("≤ %.1f×" % target)
        met = met and ratio <= target
    out.append("| %s | pvenotify | %s | %s | %s | %d | %.2f× | %s | %s |" % (
        label, ms(median(pv)), mean_sd(pv), cpu_ms(pv), len(pv["times"]), ratio,
        " and ".join(wanted) or "–", yes(met) if wanted else "–"))
    out.append("| | %s | %s | %s | %s | %d | | | |" % (
        ref_name, ms(median(ref)), mean_sd(ref), cpu_ms(ref), len(ref["times"])))
print("\n".join(out))
PY

cat "$bench_dir/results-delivery.md"
