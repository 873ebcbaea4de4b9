#!/bin/sh
# bake.sh CERTBAKE OUT.c CHAIN.pem KEY.pem [CHAIN.pem KEY.pem ...] - runs
# certbake on the pairs with the DNS names of each leaf's subjectAltName
# (read with openssl) as its --names.
set -eu
certbake=$1
out=$2
shift 2
if [ $(($# % 2)) -ne 0 ] || [ $# -eq 0 ]; then
	echo "bake.sh: TLS_CERT and TLS_KEY must name as many files each (one key per chain)" >&2
	exit 1
fi
set -f   # names like *.kiln.test are not globs
pairs=$(($# / 2))
i=0
while [ $i -lt $pairs ]; do
	cert=$1
	key=$2
	shift 2
	names=$(openssl x509 -in "$cert" -noout -ext subjectAltName 2>/dev/null |
		sed '1d' | tr ',' '\n' | sed -n 's/^[[:space:]]*DNS://p' | paste -sd, -) || names=""
	set -- "$@" "--names=$names" "$cert" "$key"
	i=$((i + 1))
done
exec "$certbake" -o "$out" "$@"
