#!/usr/bin/env bash
# Fetches the Debian arm64 kernel, its headers and busybox-static, and lays them
# out for the guest builders:
#
#   <out>/Image            raw (uncompressed) arm64 kernel Image, 'ARMd' checked
#   <out>/vmlinuz          the kernel as Debian ships it (symlink)
#   <out>/kernel-abi       the ABI string, e.g. 6.1.0-56-arm64
#   <out>/kernel/          the unpacked linux-image package (depmod already run)
#   <out>/modules          -> kernel/lib/modules/<abi>
#   <out>/config           -> kernel/boot/config-<abi>
#   <out>/headers/         the unpacked arm64 + common headers
#   <out>/linux-headers    -> the arm64 headers tree, ready for `make -C ... M=...`
#   <out>/busybox          the static arm64 busybox binary
#
# Usage: scripts/images.sh [out-dir]   (default $BUILD/images, BUILD=build)
# The kernel version is never hard-coded: it is whatever the linux-image-arm64
# meta package's candidate depends on. Packages are downloaded with
# `apt-get download` into $BUILD/cache/debs and unpacked with `dpkg -x`; nothing
# is installed on the host. A second run with everything in place does nothing.
set -euo pipefail

BUILD=${BUILD:-build}
OUT=${1:-$BUILD/images}
CACHE=${DEB_CACHE:-$BUILD/cache/debs}

log() { echo "images: $*"; }
die() { echo "images: error: $*" >&2; exit 1; }

mkdir -p "$OUT" "$CACHE"
OUT=$(realpath "$OUT")
CACHE=$(realpath "$CACHE")

dpkg --print-foreign-architectures | grep -qx arm64 ||
	die "dpkg has no arm64 architecture; run 'make deps' (as root) first"

# apt here may keep no binary cache, so every apt-cache run re-reads all the
# lists (~1.5 s): resolve everything with two runs.
#
# Prints "<meta> <dep>" for the first dependency of each meta package given.
meta_deps() {
	apt-cache depends --no-recommends --no-suggests --no-conflicts \
		--no-breaks --no-replaces --no-enhances "$@" 2>/dev/null |
		awk '/^[^ ]/ { meta = $1; sub(/:.*/, "", meta); next }
		     /^ *Depends: / && !(meta in seen) {
			d = $2; gsub(/[<>]/, "", d); sub(/:.*/, "", d)
			seen[meta] = 1; print meta, d }'
}

# Prints "<package>\t<arch>\t<version>\t<depends>" for each candidate given.
candidates() {
	apt-cache show --no-all-versions "$@" 2>/dev/null |
		awk 'BEGIN { RS = ""; FS = "\n" }
		{ p = a = v = d = ""
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^Package: /) p = substr($i, 10)
			else if ($i ~ /^Architecture: /) a = substr($i, 15)
			else if ($i ~ /^Version: /) v = substr($i, 10)
			else if ($i ~ /^Depends: /) d = substr($i, 10)
		  }
		  print p "\t" a "\t" v "\t" d }'
}

metas=$(meta_deps linux-image-arm64:arm64 linux-headers-arm64:arm64)
if ! grep -q '^linux-image-arm64 linux-image-.*-arm64$' <<<"$metas"; then
	[ "$(id -u)" -eq 0 ] ||
		die "apt lists lack arm64 packages; run 'apt-get update' as root"
	log "apt lists lack arm64 packages; running apt-get update"
	apt-get update -qq
	metas=$(meta_deps linux-image-arm64:arm64 linux-headers-arm64:arm64)
fi
img=$(sed -n 's/^linux-image-arm64 linux-image-\(.*-arm64\)$/\1/p' <<<"$metas")
[ -n "$img" ] || die "cannot resolve linux-image-arm64:arm64 (got: $metas)"
ABI=$img # e.g. 6.1.0-56-arm64
hdr=$(sed -n 's/^linux-headers-arm64 //p' <<<"$metas")
[ "$hdr" = "linux-headers-$ABI" ] ||
	die "linux-headers-arm64 resolves to '$hdr', expected linux-headers-$ABI"

# The arm64 headers depend on linux-headers-<abi-base>-common (arch all): ask
# for the usual name in the same run and check it against the real dependency.
guess=linux-headers-${ABI%-arm64}-common
info=$(candidates "linux-image-$ABI:arm64" "linux-headers-$ABI:arm64" \
	busybox-static:arm64 "$guess")
common=$(awk -F '\t' -v p="linux-headers-$ABI" '$1 == p { print $4 }' <<<"$info" |
	tr ',' '\n' | sed -n 's/^ *\(linux-headers-[^ ]*-common\).*/\1/p')
[ -n "$common" ] || die "cannot resolve the common headers of linux-headers-$ABI"
[ "$common" = "$guess" ] || info+=$'\n'$(candidates "$common")

# Downloads package $1 (name, arch-qualified or not) into the cache unless the
# .deb of its candidate version is already there; prints the .deb path.
fetch() {
	local pkg=${1%%:*} line arch ver file
	line=$(awk -F '\t' -v p="$pkg" '$1 == p' <<<"$info" | head -n1)
	[ -n "$line" ] || die "no candidate for $pkg"
	arch=$(cut -f2 <<<"$line")
	ver=$(cut -f3 <<<"$line")
	file="$CACHE/${pkg}_${ver//:/%3a}_${arch}.deb"
	if [ ! -s "$file" ]; then
		log "downloading $pkg $ver ($arch)" >&2
		# apt's _apt sandbox user cannot write into a root-owned build tree.
		(cd "$CACHE" && apt-get download -q=2 -o APT::Sandbox::User=root \
			"$pkg:$arch=$ver" >&2) || die "apt-get download $pkg=$ver failed"
		[ -s "$file" ] || die "download of $pkg did not produce $file"
	fi
	echo "$file"
}

# Unpacks .deb $1 into directory $2 unless it already holds exactly that .deb.
unpack() {
	local deb=$1 dir=$2 stamp
	stamp="$dir/.unpacked-from"
	if [ -f "$stamp" ] && grep -qxF "$(basename "$deb")" "$stamp"; then
		return 1
	fi
	log "unpacking $(basename "$deb")"
	dpkg -x "$deb" "$dir"
	basename "$deb" >>"$stamp"
	return 0
}

# Replaces $2 (in the unpack dir) by a fresh tree when its stamp names another
# set of packages than $1 (version change).
reset_if_stale() {
	local want=$1 dir=$2
	if [ -f "$dir/.unpacked-from" ] &&
		[ "$(sort "$dir/.unpacked-from" | tr '\n' ' ')" != "$want" ]; then
		log "package versions changed; re-unpacking $(basename "$dir")"
		rm -rf "$dir"
	fi
	mkdir -p "$dir"
}

image_deb=$(fetch "linux-image-$ABI:arm64")
hdr_deb=$(fetch "linux-headers-$ABI:arm64")
common_deb=$(fetch "$common")
bb_deb=$(fetch busybox-static:arm64)

# --- kernel and modules ------------------------------------------------------
reset_if_stale "$(basename "$image_deb") " "$OUT/kernel"
if unpack "$image_deb" "$OUT/kernel"; then
	# The package has no modules.dep (postinst runs depmod); make it here.
	depmod -b "$OUT/kernel" "$ABI"
fi
vmlinuz="$OUT/kernel/boot/vmlinuz-$ABI"
[ -f "$vmlinuz" ] || die "$vmlinuz missing from the package"

# Writes the raw Image from vmlinuz $1 into $2: Debian may ship it as is
# (EFI stub 'MZ' + 'ARMd' header), compressed (gzip/xz/zstd/...) or as an
# EFI zboot image ('zimg' payload).
u8hex() { od -A n -t x1 -j "$2" -N "$3" "$1" | tr -d ' \n'; }
le32() { od -A n -t u4 -j "$2" -N 4 "$1" | tr -d ' '; }
decompress() {
	local in=$1 out=$2 magic
	magic=$(u8hex "$in" 0 6)
	case $magic in
	1f8b*) gzip -dc "$in" >"$out" ;;
	fd377a585a00) xz -dc "$in" >"$out" ;;
	28b52ffd*) zstd -q -dc "$in" >"$out" ;;
	425a68*) bzip2 -dc "$in" >"$out" ;;
	02214c18*) lz4 -dc "$in" >"$out" ;;
	5d0000*) xz -F lzma -dc "$in" >"$out" ;;
	*) cp "$in" "$out" ;;
	esac
}
if [ ! -s "$OUT/Image" ] || [ "$vmlinuz" -nt "$OUT/Image" ]; then
	tmp="$OUT/Image.tmp"
	if [ "$(u8hex "$vmlinuz" 4 4)" = 7a696d67 ]; then # 'zimg' (EFI zboot)
		off=$(le32 "$vmlinuz" 8)
		size=$(le32 "$vmlinuz" 12)
		tail -c +$((off + 1)) "$vmlinuz" | head -c "$size" >"$tmp.z"
		decompress "$tmp.z" "$tmp"
		rm -f "$tmp.z"
	else
		decompress "$vmlinuz" "$tmp"
	fi
	[ "$(u8hex "$tmp" 56 4)" = 41524d64 ] ||
		die "no 'ARMd' magic at offset 56 of the kernel Image from $vmlinuz"
	mv "$tmp" "$OUT/Image"
	log "Image ready ($(stat -c %s "$OUT/Image") bytes, kernel $ABI)"
fi
ln -sfn "kernel/boot/vmlinuz-$ABI" "$OUT/vmlinuz"
ln -sfn "kernel/lib/modules/$ABI" "$OUT/modules"
ln -sfn "kernel/boot/config-$ABI" "$OUT/config"

# --- headers for out-of-tree modules ---------------------------------------
H="$OUT/headers"
reset_if_stale "$( (basename "$common_deb"; basename "$hdr_deb") | sort | tr '\n' ' ')" "$H"
unpack "$hdr_deb" "$H" || true
unpack "$common_deb" "$H" || true
kdir="$H/usr/src/linux-headers-$ABI"
[ -f "$kdir/Makefile" ] || die "$kdir/Makefile missing"
# The arm64 Makefile is one line, `include /usr/src/linux-headers-<abi>-common/Makefile`:
# point it at the unpacked common tree.
sed -i "s#^include .*/usr/src/\(linux-headers-[^/]*-common\)/#include $H/usr/src/\1/#" "$kdir/Makefile"
grep -q "^include $H/usr/src/$common/Makefile" "$kdir/Makefile" ||
	die "unexpected $kdir/Makefile: $(cat "$kdir/Makefile")"
# scripts/ and tools/ are relative links to ../../lib/linux-kbuild-<ver>: the
# host's (amd64, Multi-Arch: foreign) linux-kbuild package provides them.
for link in "$kdir/scripts" "$H/usr/src/$common/scripts"; do
	target=$(readlink "$link")
	kb=$(basename "$(dirname "$target")") # linux-kbuild-6.1
	[ -d "/usr/lib/$kb/scripts" ] ||
		die "/usr/lib/$kb missing; install $kb on the host ('make deps')"
	mkdir -p "$H/usr/lib"
	ln -sfn "/usr/lib/$kb" "$H/usr/lib/$kb"
done
# The headers name the kbuild version they need ("linux-kbuild-6.1 (>= v)").
kb_need=$(awk -F '\t' -v p="linux-headers-$ABI" '$1 == p { print $4 }' <<<"$info" |
	tr ',' '\n' | sed -n "s/^ *$kb (>= \(.*\))/\1/p")
kb_have=$(dpkg-query -W -f='${Version}' "$kb" 2>/dev/null || true)
if [ -n "$kb_need" ] && ! dpkg --compare-versions "$kb_have" ge "$kb_need"; then
	log "warning: host $kb is ${kb_have:-missing}, headers want >= $kb_need" >&2
fi
ln -sfn "headers/usr/src/linux-headers-$ABI" "$OUT/linux-headers"

# --- busybox ------------------------------------------------------------------
reset_if_stale "$(basename "$bb_deb") " "$BUILD/cache/busybox"
unpack "$bb_deb" "$BUILD/cache/busybox" || true
if [ ! -s "$OUT/busybox" ] || [ "$BUILD/cache/busybox/bin/busybox" -nt "$OUT/busybox" ]; then
	cp "$BUILD/cache/busybox/bin/busybox" "$OUT/busybox"
fi

if [ "$(cat "$OUT/kernel-abi" 2>/dev/null)" != "$ABI" ]; then
	echo "$ABI" >"$OUT/kernel-abi"
	log "kernel ABI $ABI"
fi
