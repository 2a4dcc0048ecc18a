#!/usr/bin/env bash
# Lays out the real device trees of the boards cshyper is built for, each as
# its vendor's firmware hands it to Linux before any boot-time fix-up:
#
#   <out>/rpi4.dtb     broadcom/bcm2711-rpi-4-b.dtb from the linux-image-arm64
#                      package scripts/images.sh unpacked (Debian 12)
#   <out>/tx2.dtb      nvidia/tegra186-p2771-0000 (Jetson TX2 devkit)
#   <out>/rk3588.dtb   rockchip/rk3588s-rock-5a (RK3588S, the upstream board
#                      closest to Rust-Shyper's Firefly ROC-RK3588S-PC, which
#                      has no upstream tree in these kernels)
#   <out>/SOURCES      where each one came from
#
# No Debian kernel package ships the last two (Debian 12 nor 13), so they are
# compiled with cpp and dtc from the device-tree sources of the stable suite's
# linux-source package. That package is found and downloaded through an apt
# state of our own under $BUILD/cache/apt-stable (its own sources list, lists
# and cache, signed by the host's debian-archive-keyring): the machine's apt
# sources and lists are never touched. Only the few source directories the
# two trees need are unpacked, once, into $BUILD/cache.
#
# Usage: scripts/board-dtbs.sh [out-dir]   (default $BUILD/boards, BUILD=build)
# A second run with everything in place does nothing.
set -euo pipefail

BUILD=${BUILD:-build}
OUT=${1:-$BUILD/boards}
IMAGES=${IMAGES:-$BUILD/images}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SUITE=${BOARD_DTS_SUITE:-stable}

log() { echo "board-dtbs: $*"; }
die() { echo "board-dtbs: error: $*" >&2; exit 1; }

mkdir -p "$OUT" "$BUILD/cache"
OUT=$(realpath "$OUT")
CACHE=$(realpath "$BUILD/cache")

# --- Raspberry Pi 4: straight from the kernel package -------------------------
abi=$(cat "$IMAGES/kernel-abi" 2>/dev/null) ||
	die "$IMAGES/kernel-abi missing: run scripts/images.sh first"
rpi=$IMAGES/kernel/usr/lib/linux-image-$abi/broadcom/bcm2711-rpi-4-b.dtb
[ -s "$rpi" ] || die "$rpi missing from linux-image-$abi"
cmp -s "$rpi" "$OUT/rpi4.dtb" || cp "$rpi" "$OUT/rpi4.dtb"

# --- TX2 and RK3588: compiled from linux-source ------------------------------
declare -A DTS=(
	[tx2]=nvidia/tegra186-p2771-0000
	[rk3588]=rockchip/rk3588s-rock-5a
)
if [ -s "$OUT/tx2.dtb" ] && [ -s "$OUT/rk3588.dtb" ] && [ -s "$OUT/SOURCES" ] &&
	grep -q "linux-image-$abi" "$OUT/SOURCES"; then
	exit 0
fi

APT=$CACHE/apt-stable
mkdir -p "$APT/lists/partial" "$APT/archives/partial" "$APT/debs"
echo "deb [arch=arm64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $SUITE main" \
	>"$APT/sources.list"
touch "$APT/status"
apt_opts=(
	-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/nonexistent
	-o "Dir::State::Lists=$APT/lists" -o "Dir::State::status=$APT/status"
	-o "Dir::Cache=$APT" -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache=
	-o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o Acquire::Languages=none -o APT::Sandbox::User=root
)

src_deb=$(ls "$APT"/debs/linux-source-*_all.deb 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$src_deb" ]; then
	log "reading the $SUITE suite's package list (apt state of our own: $APT)"
	apt-get "${apt_opts[@]}" -q=2 update || die "apt-get update of $SUITE failed"
	pkg=$(apt-cache "${apt_opts[@]}" depends linux-source 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-source-[0-9.]*\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || die "cannot resolve linux-source in $SUITE"
	log "downloading $pkg from $SUITE"
	(cd "$APT/debs" && apt-get "${apt_opts[@]}" -q=2 download "$pkg") ||
		die "apt-get download $pkg failed"
	src_deb=$(ls "$APT"/debs/"$pkg"_*_all.deb 2>/dev/null | tail -n1)
	[ -s "$src_deb" ] || die "download of $pkg produced no .deb"
	rm -rf "$APT/lists"/*_Packages* # 20 MB we no longer need
fi

# The unpacked subset is named after the .deb it came from.
name=$(basename "$src_deb" .deb)
ver=${name#linux-source-}            # 6.12_6.12.117-1_all
tree=$CACHE/linux-dts/$name
if [ ! -f "$tree/.complete" ]; then
	rm -rf "$CACHE/linux-dts"
	mkdir -p "$tree"
	top=linux-source-${ver%%_*}
	log "unpacking the device-tree sources of $name"
	dpkg-deb --fsys-tarfile "$src_deb" |
		tar -xO "./usr/src/$top.tar.xz" | xz -dc |
		tar -x -C "$tree" --strip-components=1 --wildcards \
			"$top/arch/arm64/boot/dts/nvidia/*" \
			"$top/arch/arm64/boot/dts/rockchip/*" \
			"$top/include/dt-bindings/*" \
			"$top/include/uapi/linux/input-event-codes.h" \
			"$top/scripts/dtc/include-prefixes/*" ||
		die "cannot unpack the device-tree sources from $src_deb"
	touch "$tree/.complete"
fi

# As the kernel's own dtc rule does: preprocess, then compile.
for board in "${!DTS[@]}"; do
	dts=$tree/arch/arm64/boot/dts/${DTS[$board]}.dts
	[ -f "$dts" ] || die "$dts missing from $name"
	cpp -nostdinc -undef -D__DTS__ -x assembler-with-cpp \
		-I "$tree/include" -I "$tree/arch/arm64/boot/dts" \
		-I "$tree/scripts/dtc/include-prefixes" "$dts" -o "$OUT/$board.dts.pp" ||
		die "cpp failed on $dts"
	dtc -q -I dts -O dtb -o "$OUT/$board.dtb" "$OUT/$board.dts.pp" ||
		die "dtc failed on $dts"
	rm -f "$OUT/$board.dts.pp"
done

cat >"$OUT/SOURCES" <<EOF
rpi4.dtb    broadcom/bcm2711-rpi-4-b.dtb from linux-image-$abi (Debian package)
tx2.dtb     ${DTS[tx2]}.dts of $name, compiled with cpp and dtc
rk3588.dtb  ${DTS[rk3588]}.dts of $name, compiled with cpp and dtc
EOF
log "board trees ready in $OUT"
