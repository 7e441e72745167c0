#!/usr/bin/env bash
# Cost of templates: `send --template vzdump` of a backup job with BENCH_GUESTS guests
# (default 1000) and a log of BENCH_LOG_BYTES (default 1 MiB), delivered to one target of
# each kind, against the same `send` with a literal title and body: the subject and text
# the template rendered, so both runs deliver the same content. Reports
#
#   time     hyperfine means of both sends; budget: the template costs at most 10 ms more.
#            Measured twice:
#            - mail to a real MTA, as on a Proxmox VE host: the sendmail target through
#              Postfix's sendmail, the smtp target to Postfix's smtpd, both for
#              @discard.invalid, which Postfix queues and then discards; gotify and
#              webhook on the loopback test HTTP server. The budget is for this one.
#            - everything on the test services: both mail targets end at the Python test
#              SMTP server (aiosmtpd), whose cost grows with every line it reads, so the
#              template's HTML table (a line per cell, as upstream writes it) shows.
#   memory   peak RSS (/usr/bin/time -v, median of BENCH_RSS_RUNS) of both sends to the real
#            MTA and of `--preview` (rendering alone); budget: the template's extra peak
#            RSS is at most 4x the size of the data file
#
# Builds the release binary (or uses BENCH_BIN), installs hyperfine if missing (as
# root on Debian), starts the test services if they are not running, writes a Markdown
# table to bench/results-templates.md and prints it. Environment: BENCH_RUNS (default 50),
# BENCH_WARMUP (default 3), BENCH_RSS_RUNS (default 5), BENCH_KEEP=1 keeps the scratch
# directory and the server records of this run, PVENOTIFY_KEEP_SERVICES=1.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runs=${BENCH_RUNS:-50}
warmup=${BENCH_WARMUP:-3}
rss_runs=${BENCH_RSS_RUNS:-5}
guests=${BENCH_GUESTS:-1000}
log_bytes=${BENCH_LOG_BYTES:-1048576}

# --- 1. binary and tools ----------------------------------------------------------------
release_binary
ensure_hyperfine
for tool in python3 hyperfine /usr/bin/time; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is required"
done

services_were_running=0
if bash tests/services/start.sh --status >/dev/null 2>&1; then services_were_running=1; fi
# Both always: they are quick when nothing is to do, and services started before Postfix
# had its smtpd listener get it now (install.sh) and env.sh names it (start.sh).
log "tests/services/install.sh and start.sh"
bash tests/services/install.sh >&2
bash tests/services/start.sh >&2
# shellcheck disable=SC1091
source "${PVENOTIFY_SERVICES_DIR:-/tmp/pvenotify-services}/env.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/pvenotify-bench-templates.XXXXXX")
mark="pvenotify-bench-tpl-$(date +%s)-$$"

trap 'services_cleanup "$work" "$mark" "$services_were_running"' EXIT

# --- 2. configurations: one target of each kind -----------------------------------------
b64() { printf '%s' "$1" | base64 -w0; }
# configure DIR SENDMAIL_RCPT SMTP_PORT SMTP_RCPT
configure() {
    local cfg=$1
    mkdir -p "$cfg/priv"
    cat >"$cfg/notifications.cfg" <<EOF
sendmail: local
	mailto $2
	from-address pve@example.com

smtp: relay
	server $PVENOTIFY_TEST_HOST
	port $3
	mode insecure
	mailto $4
	from-address pve@example.com

gotify: phone
	server http://$PVENOTIFY_TEST_HOST:$PVENOTIFY_TEST_HTTP_PORT/$mark

webhook: chat
	method post
	url http://$PVENOTIFY_TEST_HOST:$PVENOTIFY_TEST_HTTP_PORT/$mark/hook
	header name=Content-Type,value=$(b64 'application/json')
	body $(b64 '{"title": "{{ escape title }}", "text": "{{ escape message }}"}')

matcher: default-matcher
	disable true

matcher: all
	target local
	target relay
	target phone
	target chat
EOF
    printf 'gotify: phone\n\ttoken %s\n' "$PVENOTIFY_TEST_GOTIFY_TOKEN" >"$cfg/priv/notifications.cfg"
    chmod 600 "$cfg/priv/notifications.cfg"
}
mta="$work/mta"
test_servers="$work/test-servers"
configure "$mta" "$mark-sendmail@discard.invalid" "$PVENOTIFY_TEST_POSTFIX_SMTP_PORT" \
    "$mark-smtp@discard.invalid"
configure "$test_servers" "$mark-sendmail@example.com" "$PVENOTIFY_TEST_SMTP_PLAIN_PORT" \
    "$mark-smtp@example.com"

# --- 3. data: a backup job of $guests guests with a log of $log_bytes bytes ---------------
python3 - "$work/data.json" "$guests" "$log_bytes" <<'PY'
import json, sys
path, guests, log_bytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [{"vmid": str(100 + i), "name": "guest-%d" % i, "status": "ok" if i % 50 else "err",
         "time": 30 + i * 7 % 3600, "size": (i + 1) * 123456789,
         "filename": "/mnt/pve/backup/dump/vzdump-qemu-%d-2024_06_07-22_30_02.vma.zst" % (100 + i)}
        for i in range(guests)]
line = "INFO: %s transferred 1.00 GiB of 32.00 GiB (3%%) in 10s, read: 102.4 MiB/s <ok> & 'done'\n"
log, n = [], 0
while n < log_bytes:
    l = line % ("guest-%d" % (len(log) % max(guests, 1)))
    log.append(l)
    n += len(l)
data = {
    "status-text": "backup failed",
    "error": "job errors",
    "total-time": sum(r["time"] for r in rows),
    "total-size": sum(r["size"] for r in rows),
    "guest-table": {"schema": {"columns": [
        {"label": "VMID", "id": "vmid"}, {"label": "Name", "id": "name"},
        {"label": "Status", "id": "status"},
        {"label": "Time", "id": "time", "renderer": "duration"},
        {"label": "Size", "id": "size", "renderer": "human-bytes"},
        {"label": "Filename", "id": "filename"}]}, "data": rows},
    "logs": "".join(log)[:log_bytes],
}
with open(path, "w") as f:
    json.dump(data, f)
PY
data_bytes=$(stat -c %s "$work/data.json")

# The literal twin: title and body exactly as the template renders them.
"$bin" --config-dir "$mta" --hostname pve1 --output-format json \
    send --template vzdump --data "$work/data.json" --preview >"$work/preview.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
with open(work + "/preview.json") as f:
    p = json.load(f)
open(work + "/title.txt", "w").write(p["subject"])
open(work + "/body.txt", "w").write(p["text"])
PY
title=$(cat "$work/title.txt")

common=(--hostname pve1 --sendmail "$PVENOTIFY_TEST_SENDMAIL")
template_args=(send --severity error --template vzdump --data "$work/data.json")
literal_args=(send --severity error --title "$title" --body-file "$work/body.txt")
template_cmd=("$bin" --config-dir "$mta" "${common[@]}" "${template_args[@]}")
literal_cmd=("$bin" --config-dir "$mta" "${common[@]}" "${literal_args[@]}")
template_test_cmd=("$bin" --config-dir "$test_servers" "${common[@]}" "${template_args[@]}")
literal_test_cmd=("$bin" --config-dir "$test_servers" "${common[@]}" "${literal_args[@]}")
preview_cmd=("$bin" --config-dir "$mta" "${common[@]}" send --template vzdump --data "$work/data.json" --preview)

log "checking both sends deliver to all four targets"
for cmd in template_cmd literal_cmd template_test_cmd literal_test_cmd; do
    declare -n c=$cmd
    out=$("${c[@]}" 2>&1) || die "$cmd failed: $out"
    [[ $(grep -c ': delivered$' <<<"$out") == 4 ]] || die "$cmd: not delivered to all targets: $out"
done

# --- 4. time --------------------------------------------------------------------------
quote() { printf '%q ' "$@"; }
log "hyperfine ($runs runs each)"
hyperfine --runs "$runs" --warmup "$warmup" --style basic --export-json "$work/hyperfine.json" \
    -n template "$(quote "${template_cmd[@]}")" \
    -n literal "$(quote "${literal_cmd[@]}")" \
    -n template-test-servers "$(quote "${template_test_cmd[@]}")" \
    -n literal-test-servers "$(quote "${literal_test_cmd[@]}")" \
    -n preview "$(quote "${preview_cmd[@]}") >/dev/null" >&2

# --- 5. memory ------------------------------------------------------------------------
peak_kib() {
    local -n c=$1
    local i values=()
    for ((i = 0; i < rss_runs; i++)); do
        values+=("$(/usr/bin/time -v "${c[@]}" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {print $2}')")
    done
    printf '%s\n' "${values[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'
}
log "peak RSS ($rss_runs runs each)"
rss_template=$(peak_kib template_cmd)
rss_literal=$(peak_kib literal_cmd)
rss_preview=$(peak_kib preview_cmd)

# --- 6. report ------------------------------------------------------------------------
python3 - "$work/hyperfine.json" "$data_bytes" "$rss_template" "$rss_literal" "$rss_preview" \
    "$guests" "$log_bytes" "$(nproc)" "$("$bin" --version)" >"$bench_dir/results-templates.md" <<'PY'
import json, sys
hf, data_bytes, rss_t, rss_l, rss_p, guests, log_bytes, cpus, version = sys.argv[1:]
data_bytes, rss_t, rss_l, rss_p = int(data_bytes), int(rss_t), int(rss_l), int(rss_p)
res = {r["command"]: r for r in json.load(open(hf))["results"]}
ms = lambda name: res[name]["mean"] * 1000
sd = lambda name: res[name]["stddev"] * 1000
extra_ms = ms("template") - ms("literal")
extra_test_ms = ms("template-test-servers") - ms("literal-test-servers")
extra_kib = rss_t - rss_l
budget_kib = 4 * data_bytes / 1024
print("# Template benchmark (bench/templates.sh)\n")
print(f"{version}, {cpus} CPUs. `send --template vzdump`: {guests} guests, a {int(log_bytes)//1024} KiB log, "
      f"data file {data_bytes/1024:.0f} KiB; one sendmail, smtp, gotify and webhook target each; "
      "the literal send delivers the same subject and text. Real MTA: both mail targets to Postfix "
      "(its sendmail, and its smtpd on the loopback), which queues the mail and discards it; gotify "
      "and webhook on the loopback test HTTP server. Test servers: both mail targets end at the "
      "Python test SMTP server.\n")
print("| run | mean | ± | peak RSS |")
print("|---|---:|---:|---:|")
print(f"| send --template, real MTA | {ms('template'):.1f} ms | {sd('template'):.1f} ms | {rss_t/1024:.1f} MiB |")
print(f"| send --title --body-file (same content), real MTA | {ms('literal'):.1f} ms | {sd('literal'):.1f} ms | {rss_l/1024:.1f} MiB |")
print(f"| send --template, test servers | {ms('template-test-servers'):.1f} ms | {sd('template-test-servers'):.1f} ms | |")
print(f"| send --title --body-file, test servers | {ms('literal-test-servers'):.1f} ms | {sd('literal-test-servers'):.1f} ms | |")
print(f"| send --template --preview (render only) | {ms('preview'):.1f} ms | {sd('preview'):.1f} ms | {rss_p/1024:.1f} MiB |")
print()
ok_t = "within" if extra_ms <= 10 else "OVER"
ok_m = "within" if extra_kib <= budget_kib else "OVER"
print(f"- time: the template costs {extra_ms:+.1f} ms over the literal send ({ok_t} the 10 ms budget); "
      f"on the test servers, whose SMTP server reads the template's longer HTML part line by line, "
      f"{extra_test_ms:+.1f} ms")
print(f"- memory: {extra_kib/1024:+.1f} MiB peak RSS over the literal send, budget 4 x data = "
      f"{budget_kib/1024:.1f} MiB ({ok_m})")
PY
cat "$bench_dir/results-templates.md"
