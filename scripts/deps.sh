#!/usr/bin/env bash
# Installs the Debian packages cshyper needs to build, run and test.
# Idempotent and silent when everything is already installed.
set -euo pipefail

packages=(
	make gcc gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross
	qemu-system-arm device-tree-compiler
	cpio gzip xz-utils zstd kmod
	python3 python3-pytest python3-pexpect
	libcmocka-dev libfdt-dev clang
	linux-kbuild-6.1 bc e2fsprogs libjson-c-dev
)

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done

need_arm64=0
dpkg --print-foreign-architectures | grep -qx arm64 || need_arm64=1

if [ ${#missing[@]} -eq 0 ] && [ $need_arm64 -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
	exit 1
fi

# arm64 package lists are needed to download (never install) the guest kernel,
# headers and busybox; scripts/images.sh unpacks them with dpkg -x.
if [ $need_arm64 -eq 1 ]; then
	echo "deps: adding the arm64 architecture to dpkg (package lists only)"
	dpkg --add-architecture arm64
fi
echo "deps: installing ${missing[*]:-nothing (refreshing lists)}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
