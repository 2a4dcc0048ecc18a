#!/usr/bin/env bash
# Boots cshyper on the reference board (QEMU virt, EL2, Cortex-A72) with the
# console on this terminal. Quit QEMU with Ctrl-A X.
set -euo pipefail

gic=3
smp=4
mem=1G
build=${BUILD:-build}
extra=()

usage() {
	echo "usage: $0 [--gic 2|3] [--smp N] [--mem SIZE] [--icount] [-- qemu args]"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--gic) gic=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--icount) extra+=(-icount shift=0,sleep=off); shift ;;
	--) shift; extra+=("$@"); break ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

case "$gic" in 2|3) ;; *) echo "run-qemu: --gic must be 2 or 3" >&2; exit 2 ;; esac

image="$build/hv/cshyper.bin"
[ -f "$image" ] || { echo "run-qemu: $image is missing; run 'make' first" >&2; exit 1; }

echo "cshyper on QEMU virt (GICv$gic, $smp cores, $mem): quit with Ctrl-A X" >&2
exec qemu-system-aarch64 \
	-M "virt,virtualization=on,gic-version=$gic" \
	-cpu cortex-a72 -smp "$smp" -m "$mem" \
	-nographic -no-reboot \
	-kernel "$image" \
	"${extra[@]}"
