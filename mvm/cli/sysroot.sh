#!/usr/bin/env bash
# Lays out Debian's arm64 json-c (headers and libjson-c.a) for the static
# shyper build, without installing anything on the host:
#
#   mvm/cli/sysroot.sh <sysroot> <deb-cache>
#
# libjson-c-dev:arm64 and libjson-c5:arm64 (candidate versions, as apt
# resolves them) are fetched with `apt-get download` into <deb-cache> unless
# already there, and unpacked with `dpkg -x` into <sysroot>. A run with the
# same versions in place downloads and unpacks nothing; <sysroot>/.unpacked-from
# names the .debs and is touched on success (cli.mk depends on it).
set -euo pipefail

SYSROOT=${1:?usage: sysroot.sh <sysroot> <deb-cache>}
CACHE=${2:?usage: sysroot.sh <sysroot> <deb-cache>}
PKGS=(libjson-c-dev:arm64 libjson-c5:arm64)
LIB=usr/lib/aarch64-linux-gnu/libjson-c.a

log() { echo "cli: $*"; }
die() { echo "cli: error: $*" >&2; exit 1; }

dpkg --print-foreign-architectures | grep -qx arm64 ||
	die "dpkg has no arm64 architecture; run 'make deps' (as root) first"
mkdir -p "$CACHE" "$SYSROOT"
CACHE=$(realpath "$CACHE")
SYSROOT=$(realpath "$SYSROOT")

# "<package> <version>" of each candidate.
candidates() {
	apt-cache show --no-all-versions "${PKGS[@]}" 2>/dev/null |
		awk '/^Package: / { p = $2 } /^Version: / { print p, $2 }'
}

info=$(candidates)
if [ "$(wc -l <<<"$info")" -ne ${#PKGS[@]} ]; then
	[ "$(id -u)" -eq 0 ] || die "apt lists lack arm64 json-c; run 'apt-get update' as root"
	log "apt lists lack arm64 packages; running apt-get update"
	apt-get update -qq
	info=$(candidates)
	[ "$(wc -l <<<"$info")" -eq ${#PKGS[@]} ] ||
		die "cannot resolve ${PKGS[*]} (got: $info)"
fi

debs=()
while read -r pkg ver; do
	file="$CACHE/${pkg}_${ver//:/%3a}_arm64.deb"
	if [ ! -s "$file" ]; then
		log "downloading $pkg $ver (arm64)"
		# apt's _apt sandbox user cannot write into a root-owned build tree.
		(cd "$CACHE" && apt-get download -q=2 -o APT::Sandbox::User=root \
			"$pkg:arm64=$ver") || die "apt-get download $pkg=$ver failed"
		[ -s "$file" ] || die "download of $pkg did not produce $file"
	fi
	debs+=("$file")
done <<<"$info"

stamp="$SYSROOT/.unpacked-from"
want=$(for d in "${debs[@]}"; do basename "$d"; done | sort)
if [ ! -f "$stamp" ] || [ "$(sort "$stamp")" != "$want" ] || [ ! -f "$SYSROOT/$LIB" ]; then
	rm -rf "$SYSROOT"
	mkdir -p "$SYSROOT"
	for d in "${debs[@]}"; do
		log "unpacking $(basename "$d")"
		dpkg -x "$d" "$SYSROOT"
	done
	[ -f "$SYSROOT/$LIB" ] || die "$LIB is not in libjson-c-dev:arm64"
	echo "$want" >"$stamp"
fi
touch "$stamp"
