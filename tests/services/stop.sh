#!/usr/bin/env bash
# Stop the integration-test services started by start.sh (postfix first, so it
# does not try to relay into a stopped SMTP server). Results in $SVC are kept
# (start.sh clears them when it next (re)starts a service).
set -euo pipefail
SVC_TAG=stop
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if postfix_ok; then
    svc_log "stopping postfix"
    postfix stop >/dev/null 2>&1 || true
fi

for name in tinyproxy http smtp; do
    if pid="$(pid_of "$name")"; then
        svc_log "stopping $name (pid $pid)"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then
            svc_log "$name (pid $pid) did not exit after 5s; killing it"
            kill -9 "$pid" 2>/dev/null || true
        fi
    fi
    rm -f "$RUN_DIR/$name.pid"
done
# wait (bounded) for postfix's master to go away
for _ in $(seq 50); do postfix_ok || break; sleep 0.1; done
svc_log "stopped"
