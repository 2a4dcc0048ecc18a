#!/usr/bin/env bash
# Proves the README's commands on a machine with nothing preinstalled: a
# minimal Debian 12 tree (mmdebstrap --variant=minbase, plus only what the
# README asks a user to install first: make and git) gets a fresh clone of
# HEAD, and the named stages run in it as root, under chroot, with /proc,
# /sys and /dev mounted.
#
#   scripts/clean-room.sh [stage ...]      default: all
#
#   build   make deps + every build target (images, kmod, CLI, bare-metal
#           guests, MVM disk, unit-test and fuzz binaries, QEMU board trees)
#   unit    make unit (host unit tests)
#   run     make run until the MVM's shell prompt shows (then QEMU is
#           stopped): on a fresh tree, the time a new user waits
#   all     make test (everything, QEMU system tests included)
#
# Stages run in the order given, in one tree, each timed. The minimal tree is
# built once from Debian's archive and cached as a tarball under
# $CLEAN_ROOM_DIR (default build/clean-room); every run starts from a fresh
# copy of it. Only committed work is tested (a clone of HEAD).
#
# Needs root (chroot, mounts) and mmdebstrap, which it installs on the host
# if missing. Environment: CLEAN_ROOM_DIR, CLEAN_ROOM_MIRROR (the Debian
# mirror, default deb.debian.org), CLEAN_ROOM_KEEP=1 (keep the tree after).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$(pwd)
DIR=${CLEAN_ROOM_DIR:-$REPO/build/clean-room}
MIRROR=${CLEAN_ROOM_MIRROR:-http://deb.debian.org}
SUITE=bookworm
# What the README tells a user to have before `make run`.
README_PACKAGES=make,git
TARBALL=$DIR/debian-12-minbase.tar
ROOT=$DIR/root
SRC=/root/cshyper

log() { echo "clean-room: $*"; }
die() { echo "clean-room: error: $*" >&2; exit 1; }

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(all)
for s in "${stages[@]}"; do
	case "$s" in build|unit|run|all) ;; *) die "unknown stage '$s' (build, unit, run, all)" ;; esac
done
[ "$(id -u)" -eq 0 ] || die "must run as root (chroot and mounts)"
git -C "$REPO" rev-parse --verify -q HEAD >/dev/null || die "$REPO has no commit to test"

if ! command -v mmdebstrap >/dev/null; then
	log "installing mmdebstrap on the host"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null 2>&1 ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			mmdebstrap >/dev/null; } || die "cannot install mmdebstrap"
fi
mkdir -p "$DIR"

# Mount points under $ROOT, deepest first.
mounts_under_root() {
	awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r
}

unmount_all() {
	local m
	for m in $(mounts_under_root); do
		umount -l "$m" 2>/dev/null || true
	done
}

remove_tree() {
	unmount_all
	[ -z "$(mounts_under_root)" ] || die "cannot unmount everything under $ROOT: $(mounts_under_root)"
	rm -rf "$ROOT"
}

cleanup() {
	if [ "${CLEAN_ROOM_KEEP:-0}" = 1 ]; then
		unmount_all
		log "tree kept in $ROOT"
	else
		remove_tree
	fi
}

if [ ! -s "$TARBALL" ]; then
	log "building a minimal Debian 12 tree ($SUITE, minbase + $README_PACKAGES)"
	start=$SECONDS
	# The archive may be a frozen snapshot: its Release files' Valid-Until
	# has then passed (the host's apt is told the same).
	mmdebstrap --quiet --variant=minbase --include="$README_PACKAGES" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		"$SUITE" "${TARBALL%.tar}.part.tar" \
		"deb $MIRROR/debian $SUITE main" \
		"deb $MIRROR/debian $SUITE-updates main" \
		"deb $MIRROR/debian-security $SUITE-security main" ||
		{ rm -f "${TARBALL%.tar}.part.tar"; die "mmdebstrap failed"; }
	mv "${TARBALL%.tar}.part.tar" "$TARBALL"
	log "tree built in $((SECONDS - start)) s ($(du -m "$TARBALL" | cut -f1) MiB tarball)"
fi

remove_tree
trap cleanup EXIT
mkdir -p "$ROOT"
tar -xf "$TARBALL" -C "$ROOT"
git clone -q "$REPO" "$ROOT$SRC"
log "testing $(git -C "$ROOT$SRC" log -1 --format='%h %s' | cut -c1-72)"
cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
mount -t proc proc "$ROOT/proc"
mount -t sysfs sysfs "$ROOT/sys"
# rslave: unmounting here must never propagate to the host's /dev.
mount --rbind /dev "$ROOT/dev"
mount --make-rslave "$ROOT/dev"

# Runs a command in the tree as a fresh root login would have it.
in_tree() {
	chroot "$ROOT" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${CI:+CI=$CI} /bin/bash -c "cd $SRC && $1"
}

declare -A commands=(
	[build]="make build-all unit-build fuzz-build"
	[unit]="make unit"
	# In its own process group, so that QEMU goes with it once the MVM's
	# prompt is on the console.
	[run]="setsid timeout 1200 make run </dev/null >/tmp/make-run.log 2>&1 & pid=\$!;
		until grep -q 'cshyper:/# ' /tmp/make-run.log; do
			kill -0 \$pid 2>/dev/null || { tail -n 30 /tmp/make-run.log; exit 1; }
			sleep 1
		done; kill -- -\$pid; tail -n 3 /tmp/make-run.log"
	[all]="make test"
)
summary=()
for s in "${stages[@]}"; do
	log "stage $s: ${commands[$s]}"
	start=$SECONDS
	if ! in_tree "${commands[$s]}"; then
		die "stage $s failed after $((SECONDS - start)) s"
	fi
	summary+=("$s $((SECONDS - start)) s")
	log "stage $s passed in $((SECONDS - start)) s"
done

apt_mib=$(du -sm "$ROOT/var/cache/apt/archives" 2>/dev/null | cut -f1)
deb_mib=$(du -sm "$ROOT$SRC/build/cache/debs" 2>/dev/null | cut -f1)
log "downloads: ${apt_mib:-0} MiB of packages installed by make deps," \
	"${deb_mib:-0} MiB of arm64 packages for the images"
log "passed: ${summary[*]}"
