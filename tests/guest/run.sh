#!/bin/sh
# run.sh IMAGE - boots the self-test image on microvm and q35 and checks
# it: the normal run must report every self-test "ok" and exit 0; each
# provoked fault must end the VM with the expected status and a report
# that names the cause and shows a symbolized backtrace.
# Prints one line per check and ends with "guest: N passed, N failed".
set -u
image=$1
logdir=${LOGDIR:-$(dirname "$image")/guest-logs}
machines=${MACHINES:-microvm q35}
mkdir -p "$logdir"
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() {
	fail=$((fail + 1)); echo "FAIL $1: $2"
	[ -f "${3:-}" ] && sed 's/^/    | /' "$3" | tail -n 40
}

# boot NAME STATUS APPEND -> runs, leaves the log in $logdir/NAME.log
boot() {
	LOG="$logdir/$1.log" APPEND="$3" TIMEOUT=${TIMEOUT:-120} tools/qemu.sh batch "$image"
}

for m in $machines; do
	export MACHINE=$m
	log="$logdir/$m-selftest.log"
	LOG="$log" APPEND="" TIMEOUT=${TIMEOUT:-120} tools/qemu.sh batch "$image"
	rc=$?
	# Every self-test is one check.
	while IFS= read -r line; do
		case $line in
		"ok "*) ok "guest/$m/$(echo "$line" | sed 's/^ok [0-9]* - //')" ;;
		"not ok "*) bad "guest/$m/$(echo "$line" | sed 's/^not ok [0-9]* - //')" "failed" ;;
		esac
	done <<EOT
$(tr -d '\r' < "$log")
EOT
	grep -q '^# ' "$log" && grep '^# ' "$log" | sed 's/^/    /'
	if [ $rc -eq 0 ] && grep -q '^selftest: [0-9]* passed, 0 failed' "$log"; then
		ok "guest/$m/selftest-exit"
	else
		bad "guest/$m/selftest-exit" "exit status $rc" "$log"
	fi

	# fault NAME STATUS PATTERN... : every pattern must appear in the report.
	for spec in \
		"text|3|cause: write to read-only kernel text|fault_write_text" \
		"null|3|cause: NULL pointer dereference|fault_null_deref" \
		"stack|3|cause: stack overflow|guard page" \
		"panic|2|panic on cpu 0: assertion failed: two + two == 5|fault_assert" \
		"canary|2|stack smashing detected|__stack_chk_fail"; do
		name=${spec%%|*}
		rest=${spec#*|}
		want=${rest%%|*}
		rest=${rest#*|}
		flog="$logdir/$m-fault-$name.log"
		LOG="$flog" APPEND="fault=$name" TIMEOUT=${TIMEOUT:-120} tools/qemu.sh batch "$image"
		rc=$?
		why=""
		[ "$rc" = "$want" ] || why="exit status $rc, want $want"
		old_ifs=$IFS
		IFS='|'
		for pat in $rest; do
			grep -qF "$pat" "$flog" || why="${why:+$why; }no '$pat' in the report"
		done
		IFS=$old_ifs
		# A symbolized frame: "#N  <hex> name+0xoff".
		grep -Eq '#[0-9]+ +[0-9a-f]{16} [A-Za-z_][A-Za-z0-9_.]*\+0x' "$flog" ||
			why="${why:+$why; }no symbolized backtrace"
		if [ -z "$why" ]; then ok "guest/$m/fault-$name"; else bad "guest/$m/fault-$name" "$why" "$flog"; fi
	done
done
echo "guest: $pass passed, $fail failed"
[ $fail -eq 0 ]
