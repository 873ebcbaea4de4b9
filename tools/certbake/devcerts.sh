#!/bin/sh
# devcerts.sh DIR SAN - makes Kiln's development certificate set in DIR
# with openssl:
#   ca.pem, ca.key          a development CA (give clients ca.pem: curl
#                           --cacert, openssl s_client -CAfile, gnutls-cli
#                           --x509cafile)
#   ecdsa.pem, ecdsa.key    an ECDSA P-256 leaf signed by the CA
#   rsa.pem, rsa.key        an RSA-2048 leaf signed by the CA
# Both leaves carry subjectAltName SAN (e.g. "DNS:localhost,IP:127.0.0.1")
# and are for serverAuth. Keys are PKCS#8, unencrypted. These are
# development keys: anyone with the source tree or an image has them.
set -eu
dir=$1
san=$2
days_ca=3650
days_leaf=825

mkdir -p "$dir"
tmp=$(mktemp -d "$dir/.devcerts.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

cat > "$tmp/ca.cnf" <<CNF
[req]
distinguished_name = dn
prompt = no
[dn]
O = Kiln development
CN = Kiln development CA
[ext]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
CNF

cat > "$tmp/leaf.ext" <<CNF
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = $san
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
CNF

openssl genpkey -quiet -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
	-pkeyopt ec_param_enc:named_curve -out "$tmp/ca.key"
openssl req -new -x509 -config "$tmp/ca.cnf" -extensions ext -key "$tmp/ca.key" \
	-sha256 -days $days_ca -out "$tmp/ca.pem"

leaf() { # NAME GENPKEY-ARGS...
	name=$1
	shift
	openssl genpkey -quiet "$@" -out "$tmp/$name.key"
	openssl req -new -key "$tmp/$name.key" -subj "/O=Kiln development/CN=localhost" \
		-out "$tmp/$name.csr"
	openssl x509 -req -in "$tmp/$name.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" \
		-CAcreateserial -CAserial "$tmp/ca.srl" -sha256 -days $days_leaf \
		-extfile "$tmp/leaf.ext" -out "$tmp/$name.pem" 2>/dev/null
}
leaf ecdsa -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -pkeyopt ec_param_enc:named_curve
leaf rsa -algorithm RSA -pkeyopt rsa_keygen_bits:2048

chmod 600 "$tmp"/*.key
for f in ca.key ca.pem ecdsa.key ecdsa.pem rsa.key rsa.pem; do
	mv "$tmp/$f" "$dir/$f"
done
