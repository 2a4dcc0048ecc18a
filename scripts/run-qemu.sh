#!/usr/bin/env bash
# Boots cshyper on the reference board (QEMU virt, EL2, Cortex-A72) with the
# console on this terminal: the hypervisor starts the management VM (Debian
# Linux) with a virtio disk and a virtio network card passed through to it.
# Quit QEMU with Ctrl-A X.
set -euo pipefail

gic=3
smp=4
mem=1G
build=${BUILD:-build}
extra=()
hv_args=()
with_mvm=1
link=
pcie=0

usage() {
	echo "usage: $0 [--gic 2|3] [--smp N] [--mem SIZE] [--mvm-vcpus N] [--no-mvm] [--icount] [--link a|b] [--pcie] [-- qemu args]"
	echo "  --pcie:    an SMMUv3 in front of the PCIe bus, with an e1000e NIC (device 1,"
	echo "             stream 0x8, on QEMU's user network) and QEMU's edu test device"
	echo "             (device 2, stream 0x10), for /mnt/guests/linux-pcie.json"
	echo "  --link a|b: one of two boards whose MVMs' eth0 are cabled together (UDP on"
	echo "             127.0.0.1 ports 7750/7751; MVM addresses 10.0.3.1 and 10.0.3.2),"
	echo "             each with its own disk copy: run both, in two terminals, to try"
	echo "             shyper vm migrate"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--gic) gic=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--icount) extra+=(-icount shift=0,sleep=off); shift ;;
	--mvm-vcpus) hv_args+=("mvm.vcpus=$2"); shift 2 ;;
	--no-mvm) with_mvm=0; hv_args+=("mvm=off"); shift ;;
	--link) link=$2; shift 2 ;;
	--pcie) pcie=1; shift ;;
	--) shift; extra+=("$@"); break ;;
	-h|--help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
done

case "$gic" in 2|3) ;; *) echo "run-qemu: --gic must be 2 or 3" >&2; exit 2 ;; esac
# The MVM's NIC: QEMU's user network, or one end of the two-board cable.
netdev=user,id=mvmnet
case "$link" in
"") ;;
a) netdev=socket,id=mvmnet,udp=127.0.0.1:7751,localaddr=127.0.0.1:7750
   hv_args+=("mvm.net=10.0.3.1/24") ;;
b) netdev=socket,id=mvmnet,udp=127.0.0.1:7750,localaddr=127.0.0.1:7751
   hv_args+=("mvm.net=10.0.3.2/24") ;;
*) echo "run-qemu: --link must be a or b" >&2; exit 2 ;;
esac

image="$build/hv/cshyper.bin"
[ -f "$image" ] || { echo "run-qemu: $image is missing; run 'make' first" >&2; exit 1; }

mvm=()
if [ $with_mvm -eq 1 ]; then
	kernel="$build/images/Image"
	initrd="$build/images/initramfs.cpio.gz"
	pristine="$build/images/mvm-disk.img"
	disk="$build/run/mvm-disk${link:+-$link}.img"
	for f in "$kernel" "$initrd" "$pristine"; do
		[ -f "$f" ] || { echo "run-qemu: $f is missing; run 'make images mvm-disk'" >&2; exit 1; }
	done
	# The MVM's disk (guest images and configs): a working copy that keeps
	# what you change until the pristine image is rebuilt.
	mkdir -p "$build/run"
	[ "$disk" -nt "$pristine" ] || cp "$pristine" "$disk"
	mvm=(
		-device "loader,file=$kernel,addr=0x50000000,force-raw=on"
		-initrd "$initrd"
		-drive "if=none,id=mvmdisk,format=raw,file=$disk"
		-device virtio-blk-device,drive=mvmdisk
		-netdev "$netdev"
		-device virtio-net-device,netdev=mvmnet
	)
fi
append=()
[ ${#hv_args[@]} -eq 0 ] || append=(-append "${hv_args[*]}")
machine="virt,virtualization=on,gic-version=$gic"
if [ $pcie -eq 1 ]; then
	machine+=",iommu=smmuv3"
	# romfile=: no option ROM (ipxe-qemu is not a dependency).
	extra=(-netdev user,id=pcienet -device e1000e,netdev=pcienet,romfile=,addr=1
	       -device edu,addr=2,dma_mask=0xffffffffffffffff "${extra[@]}")
fi

echo "cshyper on QEMU virt (GICv$gic, $smp cores, $mem): quit with Ctrl-A X" >&2
exec qemu-system-aarch64 \
	-M "$machine" \
	-cpu cortex-a72 -smp "$smp" -m "$mem" \
	-nographic -no-reboot -nic none \
	-kernel "$image" \
	"${mvm[@]}" "${append[@]}" \
	"${extra[@]}"
