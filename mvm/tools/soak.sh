#!/bin/sh
# shyper-soak: the VM lifecycle again and again, from the MVM.
#
#   shyper-soak [-c CYCLES] [-k CHECK_EVERY] [-d CONFIG_DIR]
#
# Each cycle configures, boots, stops and removes guests of one kind, in
# turn: a Linux guest that boots to its shell; a Linux guest shut down, or
# rebooted and then shut down, part way through its boot; two bare-metal
# guests at once on cores of their own (a real-time one that runs until
# stopped, beside one that checks its isolation and powers itself off or
# one that resets itself in a loop after fuzzing hypercalls). Every CHECK_EVERY
# cycles, and after the last, the board must be exactly as before the first:
# the same free memory and hypervisor heap, every guest core free, no
# interrupt owned, only the MVM listed. Prints a line per check,
#   soak: cycle N ok (memory free M MiB, heap H KiB, T s)
# and ends with "soak: done N cycles in T s" (status 0) or the first
# difference, "soak: cycle N: ..." (status 1).
set -u

cycles=50 every=10 dir=/mnt/guests
while getopts c:k:d: opt; do
	case $opt in
	c) cycles=$OPTARG ;;
	k) every=$OPTARG ;;
	d) dir=$OPTARG ;;
	*) echo "usage: shyper-soak [-c CYCLES] [-k CHECK_EVERY] [-d CONFIG_DIR]" >&2; exit 2 ;;
	esac
done
tmp=/tmp/soak.$$
mkdir -p "$tmp" || exit 1
start=$(date +%s)

fail() {
	echo "soak: cycle $cycle: $*"
	shyper vm list
	exit 1
}

# What must come back: free memory, heap, cores, interrupts (not the
# image or update lines, which do not change here anyway).
baseline() {
	shyper system info | grep -E '^(memory free|hypervisor heap free|core [0-9]+|interrupts)' \
		> "$1" || fail "shyper system info failed"
}

# A VM's id from `shyper vm config`'s "VM <id> configured".
config() {
	out=$(shyper vm config "$1" 2>&1) || fail "config $1: $out"
	id=${out##*VM }
	id=${id%% configured*}
	case $id in
	''|*[!0-9]*) fail "config $1: no id in: $out" ;;
	esac
}

state() {
	shyper vm list | awk -v id="$1" '$1 == id { print $4 }'
}

# Waits up to $2 tenths of a second for VM $1's state to be $3.
wait_state() {
	n=0
	while [ "$(state "$1")" != "$3" ]; do
		n=$((n + 1))
		[ $n -gt "$2" ] && fail "vm $1 not $3 within $(($2 / 10)) s (it is $(state "$1"))"
		usleep 100000
	done
}

# Waits up to $2 seconds for the guest's console to show $3.
wait_console() {
	: > "$tmp/con"
	n=0
	until grep -q "$3" "$tmp/con"; do
		n=$((n + 1))
		[ $n -gt "$2" ] && fail "vm $1: no '$3' on its console within $2 s"
		shyper vm console "$1" 0.5 < /dev/null >> "$tmp/con" 2>&1
	done
}

run() {
	out=$("$@" 2>&1) || fail "$*: $out"
}

# Stops and removes VM $1 whatever it is doing (a guest may power off by
# itself meanwhile: shutting a stopped VM down is refused, not an error).
finish() {
	[ "$(state "$1")" = stopped ] || shyper vm shutdown "$1" > /dev/null 2>&1
	wait_state "$1" 50 stopped
	run shyper vm remove "$1"
}

linux_to_shell() {
	config "$dir/linux-console-a.json"
	run shyper vm boot "$id"
	wait_console "$id" 60 "cshyper-initramfs: ready"
	finish "$id"
}

# Stopped (or rebooted, then stopped) somewhere in its boot: the delay
# walks through the first 1.5 s, where the kernel brings itself up.
linux_cut_short() {
	config "$dir/linux-console-a.json"
	run shyper vm boot "$id"
	usleep $((100000 + (cycle * 137 % 1400) * 1000))
	if [ $((cycle % 20)) -eq 5 ]; then
		run shyper vm reboot "$id"
		usleep 300000
	fi
	finish "$id"
}

# Two bare-metal guests at once, each on cores of its own, stopped after a
# delay that differs from cycle to cycle (one may have stopped by itself).
bare_metal_pair() {
	config "$1"; first=$id
	config "$2"; second=$id
	run shyper vm boot "$first"
	run shyper vm boot "$second"
	usleep $((50000 + (cycle * 53 % 400) * 1000))
	finish "$second"
	finish "$first"
}

# The real-time guest measuring without printing (its lines would land in
# the middle of ours), and the reset loop (hvc-fuzz, reset=): a guest that
# crashes and comes back.
sed 's/"cmdline": "[^"]*"/"cmdline": "quiet"/' "$dir/rt-latency-loop.json" \
	> "$dir/soak-rt-quiet.json" || exit 1
sed 's/"cmdline": "[^"]*"/"cmdline": "iterations=200 reset=2"/' "$dir/hvc-fuzz.json" \
	> "$dir/soak-hvc-fuzz-reset.json" || exit 1

cycle=0
baseline "$tmp/base"
while [ $cycle -lt "$cycles" ]; do
	cycle=$((cycle + 1))
	case $((cycle % 10)) in
	0) linux_to_shell ;;
	5) linux_cut_short ;;
	1|3|7) bare_metal_pair "$dir/iso-probe.json" "$dir/soak-rt-quiet.json" ;;
	*) bare_metal_pair "$dir/soak-hvc-fuzz-reset.json" "$dir/soak-rt-quiet.json" ;;
	esac
	if [ $((cycle % every)) -eq 0 ] || [ $cycle -eq "$cycles" ]; then
		[ "$(shyper vm list | awk 'NR > 1' | wc -l)" -eq 1 ] || fail "VMs left over"
		baseline "$tmp/now"
		cmp -s "$tmp/base" "$tmp/now" ||
			fail "the board differs from before the first cycle: $(diff "$tmp/base" "$tmp/now" | grep '^[-+][^-+]' | tr '\n' ' ')"
		echo "soak: cycle $cycle ok ($(grep 'memory free' "$tmp/now"), $(grep heap "$tmp/now" | sed 's/hypervisor //'), $(($(date +%s) - start)) s)"
	fi
done
rm -rf "$tmp"
echo "soak: done $cycles cycles in $(($(date +%s) - start)) s"
