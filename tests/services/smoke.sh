#!/usr/bin/env bash
# Smoke check of the running test services, using clients other than pvenotify
# (swaks, postfix's sendmail, curl, openssl). Every delivery is read back from
# the files the servers write. Run after start.sh.
set -euo pipefail
SVC_TAG=smoke
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ -s "$SVC/env.sh" ]] || svc_die "no $SVC/env.sh: run tests/services/start.sh first"
# shellcheck disable=SC1091
source "$SVC/env.sh"
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY

RUN="smoke-$(date +%s)-$$"
WAIT=20
pass=0
fail=0
ok()  { pass=$((pass + 1)); printf '  ok    %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf '  FAIL  %s\n' "$*"; }
check() {  # check DESCRIPTION CMD...
    local d="$1"; shift
    if "$@"; then ok "$d"; else bad "$d"; fi
}

# wait_file DIR PATTERN: print the path of the first *.json in DIR whose file
# (or its sibling .eml for mail) contains PATTERN; bounded by $WAIT seconds.
wait_mail() {
    local marker="$1" deadline=$((SECONDS + WAIT)) eml
    while ((SECONDS < deadline)); do
        for eml in "$MAIL_DIR"/*.eml; do
            [[ -e "$eml" ]] || continue
            if grep -qF -- "$marker" "$eml" && [[ -e "${eml%.eml}.json" ]]; then
                echo "${eml%.eml}.json"; return 0
            fi
        done
        sleep 0.1
    done
    return 1
}
wait_request() {
    local marker="$1" deadline=$((SECONDS + WAIT)) f
    while ((SECONDS < deadline)); do
        for f in "$HTTP_DIR"/*.json; do
            [[ -e "$f" ]] || continue
            if grep -qF -- "$marker" "$f"; then echo "$f"; return 0; fi
        done
        sleep 0.1
    done
    return 1
}
jget() {  # jget FILE PYTHON-EXPR-ON-d
    "$PY" -c '
import json, sys
d = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(" ".join(map(str, v)) if isinstance(v, tuple) else v)' "$1" "$2"
}
expect_json() {  # expect_json DESC FILE EXPR EXPECTED
    local got
    got="$(jget "$2" "$3" 2>&1)" || true
    if [[ "$got" == "$4" ]]; then ok "$1"; else bad "$1 (expected '$4', got '$got' in $2)"; fi
}

echo "== SMTP (aiosmtpd) =="
SW=(swaks --server "$HOST" --from sender@example.com --timeout 15)   # full transcript
SWQ=("${SW[@]}" --silent 2)                                            # errors only

m="$RUN-plain"
if "${SWQ[@]}" --port "$SMTP_PLAIN_PORT" --to "rcpt-plain@example.com" --header "Subject: $m" --body "plain $m" \
    && f="$(wait_mail "$m")"; then
    expect_json "plain: listener" "$f" "d['listener']" plain
    expect_json "plain: no TLS" "$f" "d['tls']" False
    expect_json "plain: no AUTH" "$f" "d['auth_mechanism']" None
    expect_json "plain: envelope" "$f" "d['mail_from'], d['rcpt_tos']" "sender@example.com ['rcpt-plain@example.com']"
else bad "plain delivery ($m)"; fi

m="$RUN-starttls"
if "${SWQ[@]}" --port "$SMTP_STARTTLS_PORT" --tls --auth PLAIN --auth-user "$SMTP_USER" --auth-password "$SMTP_PASSWORD" \
    --to "rcpt-starttls@example.com" --header "Subject: $m" --body "starttls $m" \
    && f="$(wait_mail "$m")"; then
    expect_json "starttls: TLS" "$f" "d['tls']" True
    expect_json "starttls: AUTH PLAIN testuser" "$f" "d['auth_mechanism'], d['auth_user']" "PLAIN $SMTP_USER"
    if grep -q testpass "$f"; then bad "starttls: password leaked into $f"; else ok "starttls: no password recorded"; fi
else bad "STARTTLS+AUTH PLAIN delivery ($m)"; fi

m="$RUN-tls"
if "${SWQ[@]}" --port "$SMTP_TLS_PORT" --tlsc --auth LOGIN --auth-user "$SMTP_USER" --auth-password "$SMTP_PASSWORD" \
    --to "rcpt-tls@example.com" --header "Subject: $m" --body "tls $m" \
    && f="$(wait_mail "$m")"; then
    expect_json "tls: listener" "$f" "d['listener']" tls
    expect_json "tls: TLS" "$f" "d['tls']" True
    expect_json "tls: AUTH LOGIN testuser" "$f" "d['auth_mechanism'], d['auth_user']" "LOGIN $SMTP_USER"
else bad "implicit TLS+AUTH LOGIN delivery ($m)"; fi

m="$RUN-authreq"
if "${SWQ[@]}" --port "$SMTP_AUTH_REQUIRED_PORT" --tls --auth LOGIN --auth-user "$SMTP_USER" --auth-password "$SMTP_PASSWORD" \
    --to "rcpt-authreq@example.com" --header "Subject: $m" --body "auth-required $m" \
    && f="$(wait_mail "$m")"; then
    expect_json "auth-required: listener + AUTH" "$f" "d['listener'], d['auth_mechanism']" "auth-required LOGIN"
else bad "auth-required listener delivery ($m)"; fi

out="$("${SW[@]}" --port "$SMTP_AUTH_REQUIRED_PORT" --tls --to x@example.com 2>&1 || true)"
check "auth-required: MAIL without AUTH -> 530" grep -q '<[~*]\* 530' <<<"$out"
out="$("${SW[@]}" --port "$SMTP_PLAIN_PORT" --auth PLAIN --auth-user "$SMTP_USER" --auth-password wrong --to x@example.com 2>&1 || true)"
check "wrong password -> 535" grep -q '<[~*]\* 535' <<<"$out"
out="$("${SW[@]}" --port "$SMTP_STARTTLS_PORT" --to x@example.com 2>&1 || true)"
check "starttls port: MAIL before STARTTLS -> 530" grep -q '<[~*]\* 530' <<<"$out"
out="$("${SW[@]}" --port "$SMTP_PLAIN_PORT" --tls --to x@example.com 2>&1 || true)"
check "plain port: STARTTLS not offered" grep -q 'did not advertise STARTTLS' <<<"$out"
check "plain port: EHLO has no STARTTLS" bash -c "! grep -q '<-  250-STARTTLS' <<<\"\$1\"" _ "$out"
out="$("${SW[@]}" --port "$SMTP_PLAIN_PORT" --to "tempfail+$RUN@example.com" 2>&1 || true)"
check "tempfail recipient -> 451" grep -q '<[~*]\* 451' <<<"$out"
out="$("${SW[@]}" --port "$SMTP_PLAIN_PORT" --to "reject+$RUN@example.com" 2>&1 || true)"
check "reject recipient -> 550" grep -q '<[~*]\* 550' <<<"$out"
out="$("${SW[@]}" --port "$SMTP_PLAIN_PORT" --to "rejectdata+$RUN@example.com" 2>&1 || true)"
check "rejectdata recipient -> 554 after DATA" grep -q '<[~*]\* 554' <<<"$out"
out="$("${SW[@]}" --port "$SMTP_PLAIN_PORT" --to x@example.com --quit-after EHLO 2>&1 || true)"
check "EHLO advertises DSN" grep -q '250-DSN' <<<"$out"

out="$(timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$SMTP_HANG_PORT; timeout 1 head -c1 <&3" 2>&1 || true)"
check "hang port: accepts, no greeting within 1s" test -z "$out"
check "untrusted port: verification fails with the test CA" bash -c \
    "! openssl s_client -connect $HOST:$SMTP_UNTRUSTED_TLS_PORT -CAfile '$PVENOTIFY_TEST_CA' -verify_return_error </dev/null >/dev/null 2>&1"
check "tls port: verifies with the test CA (IP SAN)" bash -c \
    "openssl s_client -connect $HOST:$SMTP_TLS_PORT -CAfile '$PVENOTIFY_TEST_CA' -verify_return_error -verify_ip $HOST </dev/null 2>&1 | grep -q 'Verify return code: 0'"

echo "== postfix sendmail -> aiosmtpd plain =="
m="$RUN-sendmail-B"
if printf 'Subject: %s\nTo: admin@example.com\n\nbody %s\n' "$m" "$m" \
    | "$SENDMAIL" -B 8BITMIME -f root@pve.example -- admin@example.com && f="$(wait_mail "$m")"; then
    expect_json "sendmail -B 8BITMIME: envelope" "$f" "d['mail_from'], d['rcpt_tos']" "root@pve.example ['admin@example.com']"
    expect_json "sendmail -B 8BITMIME: BODY=8BITMIME" "$f" "'BODY=8BITMIME' in d['mail_options']" True
    expect_json "sendmail: relayed by postfix" "$f" "d['helo'], d['listener']" "pve.example plain"
else bad "sendmail -B 8BITMIME delivery ($m)"; fi

m="$RUN-sendmail-N"
if printf 'Subject: %s\n\nbody %s\n' "$m" "$m" \
    | "$SENDMAIL" -N never -f root@pve.example -- admin@example.com && f="$(wait_mail "$m")"; then
    expect_json "sendmail -N never: NOTIFY=NEVER recorded" "$f" "'NOTIFY=NEVER' in d['rcpt_dsn']" True
else bad "sendmail -N never delivery ($m)"; fi

echo "== postfix smtpd -> aiosmtpd plain =="
m="$RUN-postfix-smtpd"
if "${SWQ[@]}" --port "$POSTFIX_SMTP_PORT" --to admin@example.com --header "Subject: $m" --body "body $m" \
    && f="$(wait_mail "$m")"; then
    expect_json "postfix smtpd: relayed by postfix" "$f" "d['helo'], d['rcpt_tos']" "pve.example ['admin@example.com']"
else bad "postfix smtpd delivery ($m)"; fi

echo "== HTTP (Gotify/webhook mock) and proxy =="
C=(curl -sS --max-time 10 -o /dev/null -w '%{http_code}')
m="$RUN-gotify"
code="$("${C[@]}" -H "X-Gotify-Key: $GOTIFY_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"title\":\"t\",\"message\":\"$m\",\"priority\":5}" "http://$HOST:$HTTP_PORT/message")" || code=err
check "gotify direct: 200" test "$code" = 200
if f="$(wait_request "$m")"; then
    expect_json "gotify direct: recorded" "$f" "d['method'], d['path'], d['body_json']['priority'], d['tls']" "POST /message 5 False"
else bad "gotify direct: request not recorded"; fi

body="$(curl -sS --max-time 10 -H 'Authorization: Bearer nope' -d '{"message":"x"}' "http://$HOST:$HTTP_PORT/message")" || body=err
check "gotify bad token: 401 JSON" grep -q '"errorCode": 401' <<<"$body"
code="$("${C[@]}" -H 'Content-Type: application/json' -d '{"title":"x"}' "http://$HOST:$HTTP_PORT/message?token=$GOTIFY_TOKEN")" || code=err
check "gotify missing message: 400" test "$code" = 400
code="$("${C[@]}" -X POST "http://$HOST:$HTTP_PORT/status/500/message")" || code=err
check "/status/500: 500" test "$code" = 500
code="$("${C[@]}" -X POST "http://$HOST:$HTTP_PORT/status/302")" || code=err
check "/status/302: 302" test "$code" = 302
code="$(curl -sS --max-time 1 -o /dev/null -w '%{http_code}' "http://$HOST:$HTTP_PORT/hang/$RUN" 2>/dev/null)" || code=timeout
check "/hang: no answer within 1s" test "$code" = timeout -o "$code" = 000

m="$RUN-https"
code="$("${C[@]}" --cacert "$PVENOTIFY_TEST_CA" -H "Authorization: Bearer $GOTIFY_TOKEN" -H 'Content-Type: application/json' \
    -d "{\"message\":\"$m\"}" "https://127.0.0.1:$HTTPS_PORT/message")" || code=err
check "gotify HTTPS (test CA, 127.0.0.1): 200" test "$code" = 200
if f="$(wait_request "$m")"; then
    expect_json "gotify HTTPS: recorded with tls" "$f" "d['listener'], d['tls']" "https True"
else bad "gotify HTTPS: request not recorded"; fi
code="$("${C[@]}" --cacert "$PVENOTIFY_TEST_CA" "https://localhost:$HTTPS_PORT/hook-$RUN")" || code=err
check "HTTPS by name localhost: 200" test "$code" = 200

m="$RUN-proxy"
# stock ConnectPort rules: a tunnel to a plain-HTTP port is refused
code="$(curl -s -o /dev/null -w '%{http_connect}' --max-time 10 --proxytunnel -x "$PVENOTIFY_TEST_PROXY_URL" \
    -H "X-Gotify-Key: $GOTIFY_TOKEN" -H 'Content-Type: application/json' -d "{\"message\":\"$m\"}" \
    "http://$HOST:$HTTP_PORT/message")" || true
check "CONNECT tunnel to the plain-HTTP port: refused (403)" test "$code" = 403
m="$RUN-proxy-https"
code="$("${C[@]}" -x "$PVENOTIFY_TEST_PROXY_URL" --cacert "$PVENOTIFY_TEST_CA" -d "{\"event\":\"$m\"}" \
    "https://$HOST:$HTTPS_PORT/webhook/$m")" || code=err
check "HTTPS webhook through proxy: 200" test "$code" = 200
if f="$(wait_request "$m")"; then
    expect_json "HTTPS webhook: recorded" "$f" "d['path'], d['listener']" "/webhook/$m https"
else bad "HTTPS webhook through proxy: not recorded"; fi
check "proxy log has CONNECT $HOST:$HTTPS_PORT" grep -q "CONNECT $HOST:$HTTPS_PORT" "$PROXY_LOG"
m="$RUN-proxy-plain"
code="$("${C[@]}" -x "$PVENOTIFY_TEST_PROXY_URL" "http://$HOST:$HTTP_PORT/plainproxy/$m")" || code=err
check "plain-HTTP forwarding through proxy: 200" test "$code" = 200

echo
echo "smoke: $pass passed, $fail failed"
((fail == 0))
