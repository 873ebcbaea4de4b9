#!/bin/sh
# qemu.sh MODE IMAGE [QEMU ARGS...] - boots a Kiln image under QEMU.
#
# MODE:
#   run    serial console on this terminal (Ctrl-A X quits)
#   debug  QEMU's gdb stub on :1234, stopped at the start, serial to $LOG
#   batch  serial output to stdout (or $LOG), no input; the script exits
#          with the guest's kiln_exit() status, 124 on timeout, 125 when
#          QEMU ended without kiln_exit (QEMU error or triple fault)
#
# Environment:
#   MACHINE  microvm (default) or q35
#   ACCEL    kvm or tcg; default: kvm when the host has hardware KVM
#            (kvm_intel/kvm_amd loaded and /dev/kvm usable), else tcg
#   APPEND   kernel command line
#   MEM      guest memory (default 256M);  SMP  vCPUs (default 1)
#   NET      none (default), user (slirp, with HOSTFWD forwards, e.g.
#            "tcp::8080-:80,tcp::8443-:443"), or tap:IFNAME
#   MAC      NIC MAC address (default 52:54:00:12:34:56)
#   RNG      1 (default) adds a virtio-rng device; 0 leaves it out
#   TIMEOUT  seconds before batch mode gives up (default 60)
#   LOG      batch mode: file for the serial output
set -eu

mode=$1
image=$2
shift 2

MACHINE=${MACHINE:-microvm}
MEM=${MEM:-256M}
SMP=${SMP:-1}
NET=${NET:-none}
MAC=${MAC:-52:54:00:12:34:56}
RNG=${RNG:-1}
APPEND=${APPEND:-}
TIMEOUT=${TIMEOUT:-60}

if [ -z "${ACCEL:-}" ]; then
	ACCEL=tcg
	if { [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } &&
	   [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
		ACCEL=kvm
	fi
fi
case $ACCEL in
kvm) accel="-accel kvm -cpu host" ;;
tcg) accel="-accel tcg,thread=multi -cpu max" ;;
*) echo "qemu.sh: ACCEL must be kvm or tcg, not '$ACCEL'" >&2; exit 2 ;;
esac

case $MACHINE in
microvm)
	machine="-M microvm,pit=on,pic=off,rtc=on -global virtio-mmio.force-legacy=false"
	rngdev=virtio-rng-device
	netdev=virtio-net-device
	;;
q35)
	machine="-M q35"
	rngdev=virtio-rng-pci,disable-legacy=on
	netdev=virtio-net-pci,disable-legacy=on
	;;
*) echo "qemu.sh: MACHINE must be microvm or q35, not '$MACHINE'" >&2; exit 2 ;;
esac

devs="-device isa-debug-exit,iobase=0xf4,iosize=0x04"
[ "$RNG" = 1 ] && devs="$devs -device $rngdev"
case $NET in
none) ;;
user)
	fwd=""
	for f in $(echo "${HOSTFWD:-}" | tr ',' ' '); do fwd="$fwd,hostfwd=$f"; done
	devs="$devs -netdev user,id=n0$fwd -device $netdev,netdev=n0,mac=$MAC"
	;;
tap:*)
	devs="$devs -netdev tap,id=n0,ifname=${NET#tap:},script=no,downscript=no -device $netdev,netdev=n0,mac=$MAC"
	;;
*) echo "qemu.sh: NET must be none, user or tap:IFNAME" >&2; exit 2 ;;
esac

set -- $accel $machine -m "$MEM" -smp "$SMP" -nodefaults -no-user-config -nographic \
	$devs -kernel "$image" -append "$APPEND" "$@"

case $mode in
run)
	echo "kiln: booting $image on $MACHINE ($ACCEL); quit with Ctrl-A X" >&2
	exec qemu-system-x86_64 -serial mon:stdio "$@"
	;;
debug)
	# gdb stub on :1234, guest stopped at its first instruction; the
	# serial console goes to $LOG (tools/debug.sh attaches gdb).
	exec qemu-system-x86_64 -serial "file:${LOG:?debug mode needs LOG}" -monitor none -s -S "$@"
	;;
batch)
	out=${LOG:-/dev/stdout}
	rc=0
	timeout -k 5 "$TIMEOUT" qemu-system-x86_64 -serial stdio -monitor none "$@" \
		</dev/null >"$out" 2>&1 || rc=$?
	if [ $rc -eq 124 ]; then
		exit 124
	elif [ $((rc % 2)) -eq 1 ] && [ $rc -ge 33 ]; then
		exit $(((rc >> 1) - 16))   # isa-debug-exit: ((status + 16) << 1) | 1
	fi
	exit 125
	;;
*) echo "qemu.sh: unknown mode '$mode' (run, debug, batch)" >&2; exit 2 ;;
esac
