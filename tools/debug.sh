#!/bin/sh
# debug.sh IMAGE - boots IMAGE under QEMU's gdb stub (TCG, stopped at the
# first instruction) and attaches gdb with the image's symbols (gdb finds
# IMAGE's split debug info, <app>.debug, through its debug link). The
# serial console goes to IMAGE.serial.log; follow it with `tail -f`.
# Leaving gdb ends QEMU.
set -eu
image=$1
serial="${image%.elf}.serial.log"
: > "$serial"
ACCEL=tcg LOG="$serial" tools/qemu.sh debug "$image" &
qpid=$!
trap 'kill "$qpid" 2>/dev/null || true' EXIT INT TERM
echo "kiln: QEMU (pid $qpid) waits for gdb on localhost:1234; serial log: $serial" >&2
gdb -q "$image" \
	-ex 'set confirm off' \
	-ex 'target remote localhost:1234' \
	-ex 'hbreak kernel_main' \
	-ex 'continue'
