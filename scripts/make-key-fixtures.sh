#!/bin/sh
# Regenerates the key and certificate fixtures that ServerCredentialsTest loads, with the real
# tools whose output fixed_rtunnel must accept as it is: GnuTLS certtool (what the original's
# README uses) and OpenSSL. Run from anywhere; writes common/src/test/resources/keys/.
# The keys are throwaway test keys: never use them for anything else.
#
# Needs: certtool (Debian/Ubuntu package gnutls-bin) and openssl 3.
set -eu

here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/common/src/test/resources/keys"

for tool in certtool openssl; do
    command -v "$tool" >/dev/null 2>&1 || {
        echo "make-key-fixtures.sh: $tool not found (apt-get install gnutls-bin openssl)" >&2
        exit 1
    }
done

mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Every certificate: self-signed, long-lived so the fixtures do not expire under the tests.
cat >"$work/cert.tmpl" <<'EOF'
cn = "rtunnel-fixture"
expiration_days = 36500
serial = 1
signing_key
encryption_key
tls_www_server
EOF

openssl_cert() { # KEY CERT
    openssl req -x509 -new -key "$1" -out "$2" -days 36500 -subj "/CN=rtunnel-fixture" -sha256 2>/dev/null
}

certtool_cert() { # KEY CERT
    certtool --generate-self-signed --load-privkey "$1" --template "$work/cert.tmpl" \
        --outfile "$2" >/dev/null 2>&1
}

cd "$out"
rm -f ./*.key ./*.cert ./*.pem ./*.sha256

# --- good fixtures ---------------------------------------------------------------------------

# RSA, PKCS#1 ("BEGIN RSA PRIVATE KEY"), as older openssl and many guides write it.
openssl genrsa -traditional -out rsa-pkcs1.key 2048 2>/dev/null
openssl_cert rsa-pkcs1.key rsa-pkcs1.cert

# RSA, PKCS#8 ("BEGIN PRIVATE KEY"), openssl 3's default.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa-pkcs8.key 2>/dev/null
openssl_cert rsa-pkcs8.key rsa-pkcs8.cert

# EC P-256 from "openssl ecparam -genkey": an EC PARAMETERS block, then BEGIN EC PRIVATE KEY.
openssl ecparam -name prime256v1 -genkey -out ec-openssl.key
openssl_cert ec-openssl.key ec-openssl.cert

# EC from certtool: a human-readable text preamble before the PEM block.
certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 --outfile ec-certtool.key >/dev/null 2>&1
certtool_cert ec-certtool.key ec-certtool.cert

# RSA from certtool, with the same kind of text preamble.
certtool --generate-privkey --key-type=rsa --bits=2048 --outfile rsa-certtool.key >/dev/null 2>&1
certtool_cert rsa-certtool.key rsa-certtool.cert

# Ed25519, PKCS#8.
openssl genpkey -algorithm ed25519 -out ed25519.key
openssl_cert ed25519.key ed25519.cert

# The fingerprint as openssl computes it, so the test checks ours against a second implementation.
for cert in rsa-pkcs1 rsa-pkcs8 ec-openssl ec-certtool rsa-certtool ed25519; do
    openssl x509 -noout -fingerprint -sha256 -in "$cert.cert" | sed 's/^.*=//' >"$cert.cert.sha256"
done

# --- broken fixtures -------------------------------------------------------------------------

: >empty.pem

printf 'this is not a key\njust some text someone pasted\n' >garbage.pem

# Cut in the middle of the base64: no END line.
lines=$(wc -l <rsa-pkcs8.key)
head -n $((lines / 2)) rsa-pkcs8.key >truncated.key

# Intact BEGIN/END lines around base64 that no longer decodes: every '/' and '+' of the
# body replaced by '!' and a line of '#' inserted.
awk 'NR == 1 || /^-----END/ { print; next }
     NR == 3 { print "################################################################" }
     { gsub(/[\/+]/, "!"); print }' rsa-pkcs8.key >corrupt-base64.key

# Encrypted PKCS#8: fixed_rtunnel has no way to ask for a pass phrase.
openssl pkcs8 -topk8 -v2 aes256 -in ec-openssl.key -passout pass:x -out encrypted-pkcs8.key

# A well-formed key of a type no TLS server can sign with.
openssl genpkey -algorithm x25519 -out x25519.key

# A "certificate" file that holds a key.
cp ec-openssl.key key-as-cert.cert

ls -l "$out"
