#!/bin/sh
# checksyms.sh FIRST FINAL - fails if any function moved between an
# image's first link and its final link (the symbol table would lie).
set -eu
NM=${NM:-nm}
a=$(mktemp); b=$(mktemp)
trap 'rm -f "$a" "$b"' EXIT
"$NM" -n --defined-only "$1" | awk '$2 ~ /^[Tt]$/' > "$a"
"$NM" -n --defined-only "$2" | awk '$2 ~ /^[Tt]$/' > "$b"
if ! cmp -s "$a" "$b"; then
	echo "checksyms: functions moved between the two links of $2" >&2
	diff "$a" "$b" | head -n 5 >&2
	exit 1
fi
