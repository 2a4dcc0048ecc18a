#!/bin/bash
# Writes the SHA-256 of a cshyper image into its info block
# (include/shyper/image.h): the digest of the file with those 32 bytes zero,
# as the linker left them. Checks that the file is as long as the image says.
set -eu
img=$1
hdr=include/shyper/image.h
info=$(sed -n 's/^#define SHYPER_IMAGE_INFO_OFFSET \([0-9]*\).*/\1/p' "$hdr")
field=$((info + 96))   # SHYPER_IMAGE_DIGEST_OFFSET
size=$(stat -c %s "$img")
# file_size: the little-endian 64-bit word at info + 24.
declared=$(od -v -A n -t u8 -j $((info + 24)) -N 8 "$img" | tr -d ' ')
if [ "$declared" != "$size" ]; then
	echo "hv-image-stamp: $img is $size bytes, its info block says $declared" >&2
	exit 1
fi
if [ -n "$(od -v -A n -t x1 -j "$field" -N 32 "$img" | tr -d ' 0\n')" ]; then
	echo "hv-image-stamp: $img already has a digest" >&2
	exit 1
fi
hex=$(sha256sum "$img" | cut -c1-64)
printf "$(echo "$hex" | sed 's/../\\x&/g')" |
	dd of="$img" bs=1 seek="$field" conv=notrunc status=none
