# shellcheck shell=bash disable=SC2034
# Shared settings for the test-service scripts (sourced, not executed).

SERVICES_SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SVC="${PVENOTIFY_SERVICES_DIR:-${PVENOTIFY_TEST_SERVICES_DIR:-/tmp/pvenotify-services}}"
case "$SVC" in /*) ;; *) SVC="$PWD/$SVC" ;; esac

HOST=127.0.0.1
PY=/usr/bin/python3            # Debian's python3, which has python3-aiosmtpd

SMTP_PLAIN_PORT=12525          # no STARTTLS, AUTH optional and allowed without TLS; postfix relays here
SMTP_STARTTLS_PORT=12587       # STARTTLS required before MAIL/AUTH, AUTH optional
SMTP_AUTH_REQUIRED_PORT=12588  # STARTTLS required, AUTH required (530 otherwise)
SMTP_TLS_PORT=12465            # implicit TLS, AUTH optional
SMTP_UNTRUSTED_TLS_PORT=12466  # implicit TLS with a self-signed (untrusted) cert
SMTP_HANG_PORT=12999           # accepts TCP, never says anything (SMTP and HTTP timeouts)
CLOSED_PORT=12998              # nothing of ours listens here (connection refused)
HTTP_PORT=18080                # Gotify/webhook mock, plain HTTP
HTTPS_PORT=18443               # same, HTTPS with the test CA's leaf
PROXY_PORT=18888               # tinyproxy
POSTFIX_SMTP_PORT=12526        # Postfix's own smtpd, relaying to SMTP_PLAIN_PORT as its sendmail does

SMTP_USER=testuser
SMTP_PASSWORD=testpass
GOTIFY_TOKEN=testtoken
SENDMAIL=/usr/sbin/sendmail
POSTFIX_LOG=/var/log/postfix.log

MAIL_DIR="$SVC/mail"
HTTP_DIR="$SVC/http"
LOG_DIR="$SVC/log"
CERT_DIR="$SVC/certs"
RUN_DIR="$SVC/run"
PROXY_LOG="$LOG_DIR/tinyproxy.log"

SMTP_PORTS=("$SMTP_PLAIN_PORT" "$SMTP_STARTTLS_PORT" "$SMTP_AUTH_REQUIRED_PORT"
            "$SMTP_TLS_PORT" "$SMTP_UNTRUSTED_TLS_PORT" "$SMTP_HANG_PORT")
HTTP_PORTS=("$HTTP_PORT" "$HTTPS_PORT")
PROXY_PORTS=("$PROXY_PORT")

svc_log() { printf '[%s] %s\n' "${SVC_TAG:-services}" "$*"; }
svc_die() { printf '[%s] ERROR: %s\n' "${SVC_TAG:-services}" "$*" >&2; exit 1; }

# port_open PORT: true if something accepts a TCP connection on 127.0.0.1:PORT
port_open() {
    timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# pid_of NAME: the pid recorded for service NAME if that process is alive and
# is still the one we started (its command line contains the NAME marker).
pid_of() {
    local f="$RUN_DIR/$1.pid" pid
    [[ -s "$f" ]] || return 1
    pid="$(cat "$f")"
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    [[ -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$(marker_of "$1")" || return 1
    echo "$pid"
}

marker_of() {
    case "$1" in
        smtp) echo "smtp_server.py" ;;
        http) echo "http_mock.py" ;;
        tinyproxy) echo "tinyproxy" ;;
    esac
}

ports_of() {
    case "$1" in
        smtp) echo "${SMTP_PORTS[*]}" ;;
        http) echo "${HTTP_PORTS[*]}" ;;
        tinyproxy) echo "${PROXY_PORTS[*]}" ;;
    esac
}

# alive PID: the process exists and is not a zombie (this machine's init reaps
# orphaned zombies only now and then, and kill -0 succeeds on a zombie)
alive() {
    local state
    state="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [[ -n "$state" && "$state" != Z ]]
}

# healthy NAME: our process is alive and every one of its ports accepts connections
healthy() {
    local p
    pid_of "$1" >/dev/null || return 1
    for p in $(ports_of "$1"); do port_open "$p" || return 1; done
}

postfix_ok() {
    postfix status >/dev/null 2>&1
}

all_healthy() {
    healthy smtp && healthy http && healthy tinyproxy && postfix_ok
}
