#!/bin/sh
# hv-no-fpsimd.sh ELF: fails if any code in the hypervisor image touches the
# FP/SIMD registers, except fpsimd_save and fpsimd_restore (the guest's
# context switch). Those registers hold the guest's values while the
# hypervisor handles its exit: code that uses them (a libgcc helper such as
# __popcountdi2, or anything built without -mgeneral-regs-only) silently
# corrupts a guest process. Run after every link of the image.
set -eu
elf=$1
objdump=${CROSS:-aarch64-linux-gnu-}objdump

"$objdump" -d --no-show-raw-insn "$elf" | awk -v elf="$elf" '
	/^[0-9a-f]+ <[^>]+>:$/ { fn = $2; gsub(/[<>:]/, "", fn); next }
	/^ *[0-9a-f]+:\t/ {
		if (fn == "fpsimd_save" || fn == "fpsimd_restore")
			next
		line = $0
		sub(/\/\/.*/, "", line)
		n = split(line, f, "\t")
		ops = n >= 3 ? f[3] : ""
		if (ops ~ /(^|[^a-z0-9_])[vqdsbh][0-9][0-9]?([^a-z0-9_]|$)/) {
			printf "%s: %s uses FP/SIMD registers:%s\n", elf, fn, line
			bad = 1
		}
	}
	END { exit bad }
' || {
	echo "$elf: FP/SIMD registers belong to the guest at EL2 (see scripts/hv-no-fpsimd.sh)" >&2
	exit 1
}
