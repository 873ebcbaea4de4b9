#!/bin/sh
# mksyms.sh IMAGE - prints an assembly file holding IMAGE's function
# symbols as the table kernel/symbols.c searches (section .ksyms).
set -eu
NM=${NM:-nm}
"$NM" -n -S --defined-only "$1" | awk '
$0 ~ / [TtWw] / {
	if (NF == 4) { addr = $1; size = $2; name = $4 } else { addr = $1; size = "0"; name = $3 }
	if (name ~ /^\.L/ || name ~ /^trap_stub_/) next
	n++; a[n] = addr; s[n] = size; nm[n] = name
}
END {
	print "\t.section .ksyms, \"a\""
	print "\t.balign 8"
	print "\t.globl ksyms_count, ksyms_table, ksyms_names"
	print "ksyms_count:\n\t.quad " n
	print "ksyms_table:"
	off = 0
	for (i = 1; i <= n; i++) {
		printf "\t.quad 0x%s\n\t.long 0x%s, %d\n", a[i], s[i], off
		off += length(nm[i]) + 1
	}
	print "ksyms_names:"
	for (i = 1; i <= n; i++) printf "\t.asciz \"%s\"\n", nm[i]
}'
