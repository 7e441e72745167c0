#!/usr/bin/env bash
# The project's test command (see README): installs and starts the real test
# services (aiosmtpd, postfix's sendmail, tinyproxy, the Gotify/webhook mock),
# then runs every test, including the `#[ignore = "needs test services ..."]`
# ones. Extra arguments go to the test binaries, after --include-ignored:
#   tests/run-all.sh                 # everything
#   tests/run-all.sh smtp_           # only tests whose name contains smtp_
# Services are stopped again on exit unless they were already running before
# (or PVENOTIFY_KEEP_SERVICES=1). Exit status: cargo's.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

section() { printf '\n======== %s ========\n' "$*"; }

services_were_running=0
if bash tests/services/start.sh --status >/dev/null 2>&1; then services_were_running=1; fi

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    local rc=$?
    if [[ "${PVENOTIFY_KEEP_SERVICES:-0}" == 1 ]]; then
        section "leaving test services running (PVENOTIFY_KEEP_SERVICES=1)"
    elif ((services_were_running)); then
        section "leaving test services running (they were running before)"
    else
        section "stopping test services"
        bash tests/services/stop.sh || true
    fi
    exit "$rc"
}

section "installing test services (tests/services/install.sh)"
bash tests/services/install.sh

trap cleanup EXIT
section "starting test services (tests/services/start.sh)"
bash tests/services/start.sh

svc_dir="${PVENOTIFY_SERVICES_DIR:-${PVENOTIFY_TEST_SERVICES_DIR:-/tmp/pvenotify-services}}"
# shellcheck disable=SC1091
source "$svc_dir/env.sh"
export PVENOTIFY_TEST_SERVICES=1
# The tests only talk to 127.0.0.1; never send that through a proxy from the environment.
if [[ -n "${http_proxy:-}${HTTP_PROXY:-}${https_proxy:-}${HTTPS_PROXY:-}${all_proxy:-}${ALL_PROXY:-}" ]]; then
    export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
    export no_proxy="$NO_PROXY"
fi

section "cargo test --all-targets -- --include-ignored $*"
set +e
cargo test --all-targets -- --include-ignored "$@"
status=$?
set -e
section "cargo test exit status: $status"
exit "$status"
