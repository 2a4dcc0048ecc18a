#!/usr/bin/env bash
# Installs the Debian packages cshyper needs to build, run and test.
# Idempotent and silent when everything is already installed.
#
#   scripts/deps.sh          what `make run` and `make test` need
#   scripts/deps.sh bench    that, plus what `make bench` adds (the plot)
#   scripts/deps.sh coverage that, plus llvm-profdata and llvm-cov for
#                            `make fuzz-coverage`
#
# Every tool the Makefiles, scripts, tests and benchmarks call is named here
# by the package that brings it. Packages are installed without their
# Recommends, so anything only recommended by another package (the arm64 C
# headers of the cross compiler, QEMU's option ROMs) must be listed or not
# needed: every QEMU command line says `-nic none` unless it wants a network.
set -euo pipefail

packages=(
	# build: host compiler, make, the aarch64 cross toolchain and its C
	# library headers (the hypervisor's <limits.h>, the static CLI)
	make gcc libc6-dev
	gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
	# boards and device trees; mkimage for the boards' U-Boot scripts, and
	# U-Boot for QEMU to run one (tests/system/test_uboot_boot.py)
	qemu-system-arm device-tree-compiler u-boot-tools u-boot-qemu
	# images: apt-get download + dpkg -x (apt, dpkg: always there),
	# depmod, initramfs (cpio, gzip, zstd for Debian's compressed modules),
	# the MVM's ext4 disk (mke2fs, debugfs)
	cpio gzip xz-utils zstd kmod e2fsprogs
	# the kernel module against Debian's arm64 headers (plus linux-kbuild,
	# resolved below)
	bc
	# tests: cmocka and libfdt for unit tests, clang's libFuzzer, pytest
	# with pexpect for the QEMU system tests
	python3 python3-pytest python3-pexpect
	libcmocka-dev libfdt-dev clang libjson-c-dev
)
if [ "${1:-}" = bench ]; then
	packages+=(python3-matplotlib git)
elif [ "${1:-}" = coverage ]; then
	packages+=(llvm)
elif [ -n "${1:-}" ]; then
	echo "usage: $0 [bench|coverage]" >&2
	exit 2
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
# The kernel module is built with the kbuild tools of the arm64 headers'
# version (linux-kbuild-<x.y>, Multi-Arch: foreign): resolved from the
# headers meta package below when none is installed yet.
have_kbuild=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'linux-kbuild-*' \
	2>/dev/null | awk '$1 == "installed" { print $2 }' | head -n1 || true)

# clang's libFuzzer and sanitizer runtimes (libclang-rt-<N>-dev) are only a
# Recommends of clang-<N>: resolved from the clang meta package likewise.
have_clang_rt=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' 'libclang-rt-*-dev' \
	2>/dev/null | awk '$1 == "installed" { print $2 }' | head -n1 || true)

need_arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arm64=1

if [ ${#missing[@]} -eq 0 ] && [ $need_arm64 -eq 0 ] && [ -n "$have_kbuild" ] &&
	[ -n "$have_clang_rt" ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} ${have_kbuild:-linux-kbuild}" \
		"${have_clang_rt:-libclang-rt-dev}; run 'make deps' as root" >&2
	exit 1
fi

# arm64 package lists are needed to download (never install) the guest kernel,
# headers and busybox; scripts/images.sh unpacks them with dpkg -x.
if [ $need_arm64 -eq 1 ]; then
	echo "deps: adding the arm64 architecture to dpkg (package lists only)"
	dpkg --add-architecture arm64
fi
export DEBIAN_FRONTEND=noninteractive
echo "deps: updating the package lists"
apt-get update -qq

if [ -z "$have_kbuild" ]; then
	# linux-headers-arm64 -> linux-headers-<abi>-arm64 -> linux-kbuild-<x.y>
	hdr=$(apt-cache depends linux-headers-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-headers-[^:]*\).*/\1/p' | head -n1)
	kbuild=$(apt-cache depends "$hdr:arm64" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-kbuild-[^: ]*\).*/\1/p' | head -n1)
	if [ -z "$kbuild" ]; then
		echo "deps: error: cannot resolve linux-kbuild from linux-headers-arm64:arm64 (headers: '${hdr}')" >&2
		exit 1
	fi
	missing+=("$kbuild")
fi

if [ -z "$have_clang_rt" ]; then
	clang_ver=$(apt-cache depends clang 2>/dev/null |
		sed -n 's/^ *Depends: clang-\([0-9][0-9]*\)$/\1/p' | head -n1)
	if [ -z "$clang_ver" ]; then
		echo "deps: error: cannot resolve the clang version from the clang package" >&2
		exit 1
	fi
	missing+=("libclang-rt-$clang_ver-dev")
fi

echo "deps: installing ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
