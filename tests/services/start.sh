#!/usr/bin/env bash
# Start the integration-test services (idempotent: healthy services are left
# alone, dead or half-started ones are restarted). Waits, bounded, until every
# port accepts TCP connections, then writes $SVC/env.sh and $SVC/services.json.
#
#   tests/services/start.sh            start what is not running
#   tests/services/start.sh --status   exit 0 if everything is running and healthy
set -euo pipefail
SVC_TAG=start
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ "${1:-}" == "--status" ]]; then
    if all_healthy; then echo "[start] all services healthy ($SVC)"; exit 0; fi
    echo "[start] services not (all) running ($SVC)"; exit 1
fi

STARTUP_TIMEOUT="${PVENOTIFY_SERVICES_START_TIMEOUT:-30}"

for cmd in "$PY" tinyproxy postfix postconf openssl timeout setsid; do
    command -v "$cmd" >/dev/null 2>&1 || svc_die "'$cmd' not found: run tests/services/install.sh first"
done
"$PY" -c 'import aiosmtpd' 2>/dev/null || svc_die "python3-aiosmtpd missing: run tests/services/install.sh first"
[[ "$(postconf -h relayhost)" == "[$HOST]:$SMTP_PLAIN_PORT" ]] \
    || svc_die "postfix is not configured for the tests: run tests/services/install.sh first"

mkdir -p "$SVC" "$MAIL_DIR" "$HTTP_DIR" "$LOG_DIR" "$CERT_DIR" "$RUN_DIR"
bash "$SERVICES_SRC/gen-certs.sh" "$CERT_DIR"

# ---- tinyproxy config: CONNECT only to TLS ports, the stock rule of Squid and of
#      tinyproxy's own sample config (ConnectPort 443 and 563), plus the mock's HTTPS port
#      standing in for 443. CONNECT to the plain HTTP port is refused, so http:// targets
#      must be (and are checked to be) sent in absolute form. ----
cat > "$RUN_DIR/tinyproxy.conf.tmp" <<CONF
Port $PROXY_PORT
Listen $HOST
Timeout 60
LogFile "$PROXY_LOG"
LogLevel Info
MaxClients 64
Allow $HOST
ViaProxyName "pvenotify-test-proxy"
ConnectPort 443
ConnectPort 563
ConnectPort $HTTPS_PORT
CONF
mv -f "$RUN_DIR/tinyproxy.conf.tmp" "$RUN_DIR/tinyproxy.conf"

stop_stale() {  # stop_stale NAME: kill our old process of NAME if it is still there
    local pid
    if pid="$(pid_of "$1")"; then
        svc_log "$1 (pid $pid) is unhealthy, restarting it"
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$RUN_DIR/$1.pid"
}

ensure_ports_free() {  # ensure_ports_free NAME
    local p
    for p in $(ports_of "$1"); do
        port_open "$p" && svc_die "port $p (for $1) is already in use by another process; stop it first"
    done
    return 0
}

daemon_log() {  # where a daemon's stdout/stderr go (tinyproxy.log is its LogFile)
    if [[ "$1" == tinyproxy ]]; then echo "$LOG_DIR/tinyproxy-daemon.log"; else echo "$LOG_DIR/$1.log"; fi
}

launch() {  # launch NAME CMD...: run detached, stdout/stderr to $(daemon_log NAME)
    local name="$1"; shift
    setsid "$@" >>"$(daemon_log "$name")" 2>&1 </dev/null &
    echo $! > "$RUN_DIR/$name.pid"
    svc_log "started $name (pid $!)"
}

started=()
if healthy smtp; then
    svc_log "smtp already running (pid $(pid_of smtp))"
else
    stop_stale smtp; ensure_ports_free smtp
    rm -rf "$MAIL_DIR"; mkdir -p "$MAIL_DIR"
    launch smtp "$PY" "$SERVICES_SRC/smtp_server.py" --host "$HOST" --hostname mail.test \
        --plain "$SMTP_PLAIN_PORT" --starttls "$SMTP_STARTTLS_PORT" \
        --auth-required "$SMTP_AUTH_REQUIRED_PORT" --tls "$SMTP_TLS_PORT" \
        --untrusted-tls "$SMTP_UNTRUSTED_TLS_PORT" --hang "$SMTP_HANG_PORT" \
        --cert "$CERT_DIR/server.pem" --key "$CERT_DIR/server.key" \
        --untrusted-cert "$CERT_DIR/untrusted.pem" --untrusted-key "$CERT_DIR/untrusted.key" \
        --user "$SMTP_USER" --password "$SMTP_PASSWORD" --outdir "$MAIL_DIR"
    started+=(smtp)
fi

if healthy http; then
    svc_log "http mock already running (pid $(pid_of http))"
else
    stop_stale http; ensure_ports_free http
    rm -rf "$HTTP_DIR"; mkdir -p "$HTTP_DIR"
    launch http "$PY" "$SERVICES_SRC/http_mock.py" --host "$HOST" \
        --http-port "$HTTP_PORT" --https-port "$HTTPS_PORT" \
        --cert "$CERT_DIR/server.pem" --key "$CERT_DIR/server.key" \
        --token "$GOTIFY_TOKEN" --outdir "$HTTP_DIR"
    started+=(http)
fi

if healthy tinyproxy; then
    svc_log "tinyproxy already running (pid $(pid_of tinyproxy))"
else
    stop_stale tinyproxy; ensure_ports_free tinyproxy
    : > "$PROXY_LOG"
    launch tinyproxy tinyproxy -d -c "$RUN_DIR/tinyproxy.conf"
    started+=(tinyproxy)
fi

# postfix after the SMTP server, so queued mail can be relayed at once
if postfix_ok; then
    svc_log "postfix already running; flushing its queue"
    postfix flush >/dev/null 2>&1 || true
else
    svc_log "starting postfix (queue emptied first)"
    postsuper -d ALL >/dev/null 2>&1 || true   # no deferred mail from earlier runs
    postfix start >>"$LOG_DIR/postfix-start.log" 2>&1 \
        || svc_die "postfix start failed: see $LOG_DIR/postfix-start.log and $POSTFIX_LOG"
fi

# ---- wait, bounded, until everything accepts connections ----
deadline=$((SECONDS + STARTUP_TIMEOUT))
for name in smtp http tinyproxy; do
    for p in $(ports_of "$name"); do
        until port_open "$p"; do
            if ! pid_of "$name" >/dev/null; then
                tail -n 30 "$(daemon_log "$name")" >&2 || true
                svc_die "$name exited during startup (log: $(daemon_log "$name"))"
            fi
            ((SECONDS < deadline)) || svc_die "$name: port $p not open after ${STARTUP_TIMEOUT}s (log: $(daemon_log "$name"))"
            sleep 0.1
        done
    done
done
until postfix_ok; do
    ((SECONDS < deadline)) || svc_die "postfix not running after ${STARTUP_TIMEOUT}s (see $POSTFIX_LOG)"
    sleep 0.1
done
until port_open "$POSTFIX_SMTP_PORT"; do
    ((SECONDS < deadline)) || svc_die "postfix smtpd: port $POSTFIX_SMTP_PORT not open after ${STARTUP_TIMEOUT}s (run install.sh; see $POSTFIX_LOG)"
    sleep 0.1
done

# ---- describe the running services for the tests ----
cat > "$SVC/env.sh.tmp" <<ENV
# Generated by tests/services/start.sh: source it to talk to the test services,
# e.g.  source $SVC/env.sh && cargo test -- --include-ignored
export PVENOTIFY_TEST_SERVICES=1
export PVENOTIFY_TEST_SERVICES_DIR='$SVC'
export PVENOTIFY_TEST_HOST='$HOST'
export PVENOTIFY_TEST_SMTP_PLAIN_PORT=$SMTP_PLAIN_PORT
export PVENOTIFY_TEST_SMTP_STARTTLS_PORT=$SMTP_STARTTLS_PORT
export PVENOTIFY_TEST_SMTP_AUTH_REQUIRED_PORT=$SMTP_AUTH_REQUIRED_PORT
export PVENOTIFY_TEST_SMTP_TLS_PORT=$SMTP_TLS_PORT
export PVENOTIFY_TEST_SMTP_UNTRUSTED_TLS_PORT=$SMTP_UNTRUSTED_TLS_PORT
export PVENOTIFY_TEST_SMTP_HANG_PORT=$SMTP_HANG_PORT
export PVENOTIFY_TEST_CLOSED_PORT=$CLOSED_PORT
export PVENOTIFY_TEST_SMTP_USER='$SMTP_USER'
export PVENOTIFY_TEST_SMTP_PASSWORD='$SMTP_PASSWORD'
export PVENOTIFY_TEST_MAIL_DIR='$MAIL_DIR'
export PVENOTIFY_TEST_HTTP_PORT=$HTTP_PORT
export PVENOTIFY_TEST_HTTPS_PORT=$HTTPS_PORT
export PVENOTIFY_TEST_HTTP_DIR='$HTTP_DIR'
export PVENOTIFY_TEST_GOTIFY_TOKEN='$GOTIFY_TOKEN'
export PVENOTIFY_TEST_PROXY_PORT=$PROXY_PORT
export PVENOTIFY_TEST_PROXY_URL='http://$HOST:$PROXY_PORT'
export PVENOTIFY_TEST_PROXY_LOG='$PROXY_LOG'
export PVENOTIFY_TEST_CA='$CERT_DIR/ca.pem'
export PVENOTIFY_TEST_SERVER_CERT='$CERT_DIR/server.pem'
export PVENOTIFY_TEST_UNTRUSTED_CERT='$CERT_DIR/untrusted.pem'
export PVENOTIFY_TEST_SENDMAIL='$SENDMAIL'
export PVENOTIFY_TEST_POSTFIX_LOG='$POSTFIX_LOG'
export PVENOTIFY_TEST_POSTFIX_SMTP_PORT=$POSTFIX_SMTP_PORT
ENV
mv -f "$SVC/env.sh.tmp" "$SVC/env.sh"

cat > "$SVC/services.json.tmp" <<JSON
{
  "dir": "$SVC",
  "host": "$HOST",
  "smtp": {
    "plain_port": $SMTP_PLAIN_PORT,
    "starttls_port": $SMTP_STARTTLS_PORT,
    "auth_required_port": $SMTP_AUTH_REQUIRED_PORT,
    "tls_port": $SMTP_TLS_PORT,
    "untrusted_tls_port": $SMTP_UNTRUSTED_TLS_PORT,
    "hang_port": $SMTP_HANG_PORT,
    "user": "$SMTP_USER",
    "password": "$SMTP_PASSWORD",
    "mail_dir": "$MAIL_DIR"
  },
  "closed_port": $CLOSED_PORT,
  "http": {
    "http_port": $HTTP_PORT,
    "https_port": $HTTPS_PORT,
    "gotify_token": "$GOTIFY_TOKEN",
    "request_dir": "$HTTP_DIR"
  },
  "proxy": {
    "port": $PROXY_PORT,
    "url": "http://$HOST:$PROXY_PORT",
    "log": "$PROXY_LOG"
  },
  "certs": {
    "ca": "$CERT_DIR/ca.pem",
    "server_cert": "$CERT_DIR/server.pem",
    "untrusted_cert": "$CERT_DIR/untrusted.pem"
  },
  "sendmail": "$SENDMAIL",
  "postfix_log": "$POSTFIX_LOG",
  "postfix_smtp_port": $POSTFIX_SMTP_PORT
}
JSON
mv -f "$SVC/services.json.tmp" "$SVC/services.json"

if ((${#started[@]})); then
    svc_log "services up in $SVC (started: ${started[*]}); env: $SVC/env.sh"
else
    svc_log "services were already up in $SVC; env: $SVC/env.sh"
fi
