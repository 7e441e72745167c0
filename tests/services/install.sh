#!/usr/bin/env bash
# Install (idempotently) everything the integration-test services need on Debian 12:
#   postfix (the real /usr/sbin/sendmail, relaying to the aiosmtpd plain listener),
#   tinyproxy, swaks (+ TLS support), openssl, ca-certificates, tzdata, faketime,
#   python3-aiosmtpd (the SMTP test server), curl.
# Then configure postfix as a relay-only MTA whose only SMTP listener is on 127.0.0.1.
#
# Fast path: when every package is already installed, apt is not touched at all.
# Must run as root when something is missing; otherwise it fails with a clear message.
set -euo pipefail

PACKAGES=(
    postfix tinyproxy swaks libnet-ssleay-perl openssl ca-certificates tzdata
    faketime python3 python3-aiosmtpd curl
)
SMTP_RELAY_PORT="${PVENOTIFY_TEST_SMTP_PLAIN_PORT:-12525}"
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" # HOST, POSTFIX_SMTP_PORT

log() { printf '[install] %s\n' "$*"; }
die() { printf '[install] ERROR: %s\n' "$*" >&2; exit 1; }

missing=()
for p in "${PACKAGES[@]}"; do
    status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
    [[ "$status" == "installed" ]] || missing+=("$p")
done

if ((${#missing[@]})); then
    if [[ $EUID -ne 0 ]]; then
        die "missing Debian packages: ${missing[*]} -- run this script as root (CI does), or: sudo apt-get install ${missing[*]}"
    fi
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Preseed postfix so it installs without prompting and writes a main.cf.
    if [[ " ${missing[*]} " == *" postfix "* ]]; then
        echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
        echo "postfix postfix/mailname string pve.example" | debconf-set-selections
    fi
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}"
    # On machines without a policy-rc.d, apt may have started the daemons on their
    # default ports (postfix :25, tinyproxy :8888). The test services run their own.
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
        systemctl stop tinyproxy.service postfix.service 2>/dev/null || true
        systemctl disable tinyproxy.service postfix.service 2>/dev/null || true
    fi
    service tinyproxy stop >/dev/null 2>&1 || true
    postfix stop >/dev/null 2>&1 || true
else
    log "all packages already installed (${PACKAGES[*]})"
fi

# ---- postfix: relay everything to the aiosmtpd plain listener, no :25 listener ----
# Except mail for @localhost, delivered locally: the forward-mail tests send to
# pvefwd+MARKER@localhost, whose ~/.forward+MARKER pipes into pvenotify forward-mail.
# Its smtpd listens only on 127.0.0.1:POSTFIX_SMTP_PORT: a real MTA for smtp targets.
# Mail for @discard.invalid is queued and then discarded: the benchmarks measure what a
# real MTA costs to take in, without the test SMTP server's share.
want=(
    "mydestination = localhost"
    "recipient_delimiter = +"
    "default_transport = smtp"
    "relay_transport = smtp"
    "relayhost = [127.0.0.1]:${SMTP_RELAY_PORT}"
    "smtp_tls_security_level = none"
    "inet_interfaces = loopback-only"
    "inet_protocols = ipv4"
    "myhostname = pve.example"
    "myorigin = pve.example"
    "maillog_file = /var/log/postfix.log"
    "smtputf8_enable = yes"
    "transport_maps = inline:{discard.invalid=discard:}"
)
need_conf=0
for kv in "${want[@]}"; do
    key="${kv%% =*}"
    cur="$(postconf -h "$key" 2>/dev/null || true)"
    [[ "$key = $cur" == "$kv" || "$key =$cur" == "$kv" ]] || need_conf=1
done
if postconf -M smtp/inet 2>/dev/null | grep -q .; then need_conf=1; fi
smtpd_service="$HOST:$POSTFIX_SMTP_PORT/inet"
smtpd_entry="$HOST:$POSTFIX_SMTP_PORT inet n - y - - smtpd"
if ! postconf -M "$smtpd_service" 2>/dev/null | grep -q .; then need_conf=1; fi
if ((need_conf)); then
    [[ $EUID -eq 0 ]] || die "postfix needs (re)configuring; run this script as root"
    log "configuring postfix (relayhost [127.0.0.1]:${SMTP_RELAY_PORT}, smtpd only on $HOST:$POSTFIX_SMTP_PORT)"
    postconf -e "${want[@]}"
    postconf -M smtp/inet >/dev/null 2>&1 && postconf -M# smtp/inet
    postconf -M "$smtpd_service=$smtpd_entry"
    if postfix status >/dev/null 2>&1; then postfix reload >/dev/null 2>&1 || true; fi
else
    log "postfix already configured"
fi
# ---- the local user whose .forward files the forward-mail tests write ----
if ! id pvefwd >/dev/null 2>&1; then
    [[ $EUID -eq 0 ]] || die "user pvefwd is missing; run this script as root"
    log "creating user pvefwd (home /var/lib/pvefwd, for the forward-mail tests)"
    useradd --system --create-home --home-dir /var/lib/pvefwd --shell /usr/sbin/nologin pvefwd
fi
chmod 0755 /var/lib/pvefwd
log "done"
