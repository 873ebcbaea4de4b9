#!/bin/sh
# run.sh - runs every tests/hosted/test_*.sh (the tap-hosted runner
# against Linux) and ends with "N passed, N failed, N skipped". A script
# that exits 77 (not root, no /dev/net/tun, a tool missing) counts as
# skipped, not failed. BUILD selects the build directory.
set -u
dir=$(dirname "$0")
pass=0 fail=0 skipped=0
for t in "$dir"/test_*.sh; do
	out=$(sh "$t" 2>&1)
	rc=$?
	echo "$out"
	if [ $rc -eq 77 ]; then
		skipped=$((skipped + 1))
		continue
	fi
	p=$(echo "$out" | grep -c '^ok ')
	f=$(echo "$out" | grep -c '^FAIL ')
	[ $rc -ne 0 ] && [ "$f" -eq 0 ] && f=1
	pass=$((pass + p))
	fail=$((fail + f))
done
echo "tap: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
