#!/usr/bin/env bash
# Generate the test certificates into DIR (idempotent: kept while still valid).
#   ca.pem / ca.key                 test CA (CA:TRUE); tests trust this one
#   server.pem / server.key         leaf signed by the CA, CA:FALSE,
#                                   SAN DNS:localhost, IP:127.0.0.1 (rustls needs
#                                   a CA-signed leaf with SANs, not a CA:TRUE cert)
#   server-chain.pem                server.pem followed by ca.pem
#   untrusted.pem / untrusted.key   separate self-signed leaf (same SANs), trusted
#                                   by nobody: for "invalid certificate" tests
set -euo pipefail

DIR="${1:?usage: gen-certs.sh DIR}"
DAYS=3650
mkdir -p "$DIR"
cd "$DIR"

valid() {  # valid CERT [CAFILE]: exists, not expiring within a day, verifies
    [[ -s "$1" ]] || return 1
    openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1 || return 1
    if [[ $# -gt 1 ]]; then
        openssl verify -CAfile "$2" "$1" >/dev/null 2>&1 || return 1
    fi
}

if valid ca.pem && [[ -s ca.key ]] && valid server.pem ca.pem && [[ -s server.key ]] \
    && valid untrusted.pem && [[ -s untrusted.key ]] && [[ -s server-chain.pem ]]; then
    echo "[gen-certs] certificates in $DIR are present and valid"
    exit 0
fi

echo "[gen-certs] generating certificates in $DIR"
umask 077
tmp="$(mktemp -d "$DIR/.gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days "$DAYS" \
    -subj "/O=pvenotify tests/CN=pvenotify test CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null

openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$tmp/server.key" -out "$tmp/server.csr" \
    -subj "/O=pvenotify tests/CN=localhost" 2>/dev/null
cat > "$tmp/server.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EXT
openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
    -CAcreateserial -out "$tmp/server.pem" -days "$DAYS" -sha256 \
    -extfile "$tmp/server.ext" 2>/dev/null

openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -keyout "$tmp/untrusted.key" -out "$tmp/untrusted.pem" -days "$DAYS" \
    -subj "/O=pvenotify tests untrusted/CN=localhost" \
    -addext "basicConstraints=critical,CA:FALSE" \
    -addext "keyUsage=critical,digitalSignature,keyEncipherment" \
    -addext "extendedKeyUsage=serverAuth" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null

cat "$tmp/server.pem" "$tmp/ca.pem" > "$tmp/server-chain.pem"
openssl verify -CAfile "$tmp/ca.pem" "$tmp/server.pem" >/dev/null
chmod 644 "$tmp"/*.pem
for f in ca.key ca.pem server.key server.pem server-chain.pem untrusted.key untrusted.pem; do
    mv -f "$tmp/$f" "$DIR/$f"
done
echo "[gen-certs] done"
