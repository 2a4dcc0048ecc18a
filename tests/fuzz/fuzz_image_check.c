/*
 * libFuzzer harness for the check of an uploaded hypervisor image
 * (hv/lib/image_check.c). Whatever the bytes: the report's result is what
 * image_check() returned, one of the codes it documents; its why, board
 * and version are NUL-terminated, why empty exactly when the image is
 * accepted; the running side's fields are the expectations'; the image
 * is not written to. An accepted image must hold up on its own: the info
 * block is consistent (file size = upload, load size between the file and
 * the slot, entry points inside and aligned, the layouts importable), its
 * fields are the report's and the digest recomputed here matches. The
 * image is its own heap block of exactly its size, so ASan reports any
 * read past it.
 *
 * A fuzzer cannot forge SHA-256, so the first byte also picks how much the
 * harness repairs before the check (below), so that field mutations reach
 * every check behind them and the accept path:
 *
 *   0      bits 0-1: mode
 *            0  raw: the rest is the image as it is
 *            1  digest: the harness stamps the correct digest
 *            2  size: sets file_size to the upload's size, then stamps
 *            3  template: a valid info block over the rest (the entry
 *               points from its first bytes), stamped; must be accepted,
 *               and then refused as a bad digest with one byte flipped
 *               outside the info fields
 *          bits 2-3: the running image's state layouts (which of four
 *            expectations), so the handover is tried both ways
 *   1-     the image
 *
 * Seeds: run with FUZZ_IMAGE_WRITE_SEEDS=<dir>, the harness writes valid
 * synthetic images in every mode there and exits; with FUZZ_IMAGE_REAL
 * naming a built cshyper.bin that exists, also its first 4 KiB in the
 * "size" and "digest" modes (the whole image is larger than the smoke
 * run's -max_len). fuzz.mk does that before the smoke run.
 *
 * fuzz-sources: hv/lib/image_check.c hv/lib/sha256.c hv/lib/fmt.c
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lib/image_check.h>
#include <lib/sha256.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/image.h>
#include <shyper/version.h>

#define MODE_RAW	0u
#define MODE_DIGEST	1u
#define MODE_SIZE	2u
#define MODE_TEMPLATE	3u
#define INFO_END	(SHYPER_IMAGE_INFO_OFFSET + SHYPER_IMAGE_INFO_SIZE)
#define SLOT		(2ull << 20)
#define REAL_SEED_MAX	4096u

/* The running image: QEMU virt, with four pairs of state layouts. */
static const uint32_t layouts[4][2] = { { 2, 1 }, { 1, 1 }, { 3, 2 }, { 2, 2 } };

static struct image_expect expectation(uint8_t mode)
{
	struct image_expect want = {
		.arch = SHYPER_ARCH_AARCH64,
		.abi = SHYPER_ABI_VERSION,
		.board = "qemu-virt",
		.state_version = layouts[(mode >> 2) & 3][0],
		.state_oldest = layouts[(mode >> 2) & 3][1],
		.slot_size = SLOT,
	};

	return want;
}

static bool terminated(const char *s, size_t max)
{
	return memchr(s, 0, max) != NULL;
}

/* The digest scripts/hv-image-stamp.sh writes: of the file with the digest
 * field zero. Computed here on a copy, independently of image_check(). */
static void digest_of(const uint8_t *img, size_t size, uint8_t out[SHA256_DIGEST_SIZE])
{
	uint8_t *copy = malloc(size);

	if (!copy)
		abort();
	memcpy(copy, img, size);
	memset(copy + SHYPER_IMAGE_DIGEST_OFFSET, 0, SHA256_DIGEST_SIZE);
	sha256(copy, size, out);
	free(copy);
}

static void stamp(uint8_t *img, size_t size)
{
	uint8_t d[SHA256_DIGEST_SIZE];

	digest_of(img, size, d);
	memcpy(img + SHYPER_IMAGE_DIGEST_OFFSET, d, sizeof(d));
}

static void read_info(const uint8_t *img, struct shyper_image_info *in)
{
	memcpy(in, img + SHYPER_IMAGE_INFO_OFFSET, sizeof(*in));
}

static void write_info(uint8_t *img, const struct shyper_image_info *in)
{
	memcpy(img + SHYPER_IMAGE_INFO_OFFSET, in, sizeof(*in));
}

/* A valid info block for an image of size bytes, its entry points taken
 * from the image's first bytes (kept inside and aligned). */
static void template_info(uint8_t *img, size_t size, const struct image_expect *want)
{
	struct shyper_image_info in;
	uint32_t e[2];

	memcpy(e, img, sizeof(e));
	memset(&in, 0, sizeof(in));
	in.magic = SHYPER_IMAGE_MAGIC;
	in.info_size = SHYPER_IMAGE_INFO_SIZE;
	in.arch = SHYPER_ARCH_AARCH64;
	in.abi = SHYPER_ABI_VERSION;
	in.state_version = want->state_version + (e[0] & 1);
	in.state_oldest = want->state_oldest;
	in.file_size = size;
	in.load_size = size + (e[1] & 0xfffff);
	if (in.load_size > want->slot_size)
		in.load_size = want->slot_size;
	in.update_entry = (e[0] % size) & ~3ull;
	in.secondary_update_entry = (e[1] % size) & ~3ull;
	strcpy(in.board, want->board);
	snprintf(in.version, sizeof(in.version), "%s-fuzz", SHYPER_VERSION_STRING);
	write_info(img, &in);
}

/* What holds for every report, accepted or not. */
static void check_report(int ret, const struct shyper_upd_report *r, size_t size,
			 const struct image_expect *want)
{
	if (ret != r->result)
		abort();
	if (ret != 0 && ret != -SHYPER_EINVAL && ret != -SHYPER_EPROTO &&
	    ret != -SHYPER_E2BIG && ret != -SHYPER_EBADMSG)
		abort();
	if (!terminated(r->why, sizeof(r->why)) || !terminated(r->board, sizeof(r->board)) ||
	    !terminated(r->version, sizeof(r->version)))
		abort();
	if ((ret == 0) != (r->why[0] == 0))
		abort();
	if (r->running_state != want->state_version || r->slot_size != want->slot_size ||
	    r->file_size != size || r->pad)
		abort();
}

/* An accepted image, judged here without image_check(). */
static void check_accepted(const uint8_t *img, size_t size, const struct shyper_upd_report *r,
			   const struct image_expect *want)
{
	struct shyper_image_info in;
	uint8_t d[SHA256_DIGEST_SIZE];
	uint32_t handover;

	if (size < INFO_END)
		abort();
	read_info(img, &in);
	handover = in.state_version < want->state_version ? in.state_version
							  : want->state_version;
	if (in.magic != SHYPER_IMAGE_MAGIC || in.info_size != SHYPER_IMAGE_INFO_SIZE ||
	    in.arch != want->arch || in.abi != want->abi)
		abort();
	if (!terminated(in.board, sizeof(in.board)) || strcmp(in.board, want->board) ||
	    !terminated(in.version, sizeof(in.version)))
		abort();
	if (in.file_size != size || in.load_size < in.file_size || in.load_size > want->slot_size)
		abort();
	if (in.update_entry >= size || in.secondary_update_entry >= size ||
	    (in.update_entry & 3) || (in.secondary_update_entry & 3))
		abort();
	if (in.state_oldest > in.state_version || handover < in.state_oldest ||
	    handover < want->state_oldest || r->handover_state != handover ||
	    image_handover_layout(&in, want->state_version) != handover)
		abort();
	if (r->arch != in.arch || r->abi != in.abi || r->state_version != in.state_version ||
	    r->state_oldest != in.state_oldest || r->load_size != in.load_size ||
	    strcmp(r->board, in.board) || strcmp(r->version, in.version))
		abort();
	digest_of(img, size, d);
	if (memcmp(d, img + SHYPER_IMAGE_DIGEST_OFFSET, sizeof(d)))
		abort();
}

static int check(const uint8_t *img, size_t size, const struct image_expect *want,
		 struct shyper_upd_report *r)
{
	uint8_t *before = malloc(size ? size : 1);
	int ret;

	if (!before)
		abort();
	memcpy(before, img, size);
	memset(r, 0x5a, sizeof(*r)); /* whatever the caller's buffer held */
	ret = image_check(img, size, want, r);
	if (memcmp(before, img, size))
		abort();
	free(before);
	check_report(ret, r, size, want);
	if (!ret)
		check_accepted(img, size, r, want);
	return ret;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct shyper_upd_report r;
	struct image_expect want;
	struct shyper_image_info in;
	uint8_t mode, *img;
	size_t size;
	int ret;

	if (len < 1)
		return 0;
	mode = data[0];
	want = expectation(mode);
	size = len - 1;
	if ((mode & 3) == MODE_TEMPLATE && size < INFO_END)
		size = INFO_END; /* zeros after the input */
	if ((mode & 3) == MODE_TEMPLATE && size > want.slot_size)
		size = want.slot_size; /* with a -max_len beyond a slot */
	img = calloc(1, size ? size : 1);
	if (!img)
		abort();
	memcpy(img, data + 1, len - 1 < size ? len - 1 : size);

	switch (mode & 3) {
	case MODE_SIZE:
		if (size >= INFO_END) {
			read_info(img, &in);
			in.file_size = size;
			write_info(img, &in);
		}
		/* fall through */
	case MODE_DIGEST:
		if (size >= INFO_END)
			stamp(img, size);
		break;
	case MODE_TEMPLATE:
		template_info(img, size, &want);
		stamp(img, size);
		break;
	}

	ret = check(img, size, &want, &r);

	if ((mode & 3) == MODE_TEMPLATE) {
		/* A valid image is accepted ... */
		size_t fields_end = SHYPER_IMAGE_INFO_OFFSET +
				    offsetof(struct shyper_image_info, board) + SHYPER_IMAGE_BOARD_MAX;
		size_t at;

		if (ret)
			abort();
		/* ... and any byte of it flipped outside the fields checked
		 * for themselves is a bad digest. */
		at = (img[size - 1] * 131u + size) % size;
		if (at >= SHYPER_IMAGE_INFO_OFFSET && at < fields_end)
			at = SHYPER_IMAGE_DIGEST_OFFSET + at % SHA256_DIGEST_SIZE;
		img[at] ^= 0x20;
		if (check(img, size, &want, &r) != -SHYPER_EBADMSG ||
		    strcmp(r.why, "bad digest: the image's SHA-256 does not match its contents"))
			abort();
	}
	free(img);
	return 0;
}

/* ------------------------------------------------------------------------ */
/* Seeds                                                                     */

static void seed_write(const char *dir, const char *name, uint8_t mode, const uint8_t *img,
		       size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fwrite(img, 1, size, f) != size || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A valid synthetic image of size bytes, stamped. */
static void synthetic(uint8_t *img, size_t size, uint32_t state_version, uint32_t oldest)
{
	struct shyper_image_info in;

	for (size_t i = 0; i < size; i++)
		img[i] = (uint8_t)(i * 131 + 1);
	memcpy(img + 56, "ARM\x64", 4);
	memset(&in, 0, sizeof(in));
	in.magic = SHYPER_IMAGE_MAGIC;
	in.info_size = SHYPER_IMAGE_INFO_SIZE;
	in.arch = SHYPER_ARCH_AARCH64;
	in.abi = SHYPER_ABI_VERSION;
	in.state_version = state_version;
	in.state_oldest = oldest;
	in.file_size = size;
	in.load_size = size + 8192;
	in.update_entry = INFO_END;
	in.secondary_update_entry = size - 4;
	strcpy(in.board, "qemu-virt");
	snprintf(in.version, sizeof(in.version), "%s-seed", SHYPER_VERSION_STRING);
	write_info(img, &in);
	stamp(img, size);
}

/* The first bytes of a built image, its file size cut to them. */
static void real_seeds(const char *dir, const char *path)
{
	static uint8_t img[REAL_SEED_MAX];
	struct shyper_image_info in;
	FILE *f = fopen(path, "rb");
	size_t size;

	if (!f)
		return; /* not built: the synthetic seeds do */
	size = fread(img, 1, sizeof(img), f);
	fclose(f);
	if (size < INFO_END)
		return;
	seed_write(dir, "real-size", MODE_SIZE, img, size);
	read_info(img, &in);
	in.file_size = size;
	write_info(img, &in);
	stamp(img, size);
	seed_write(dir, "real-digest", MODE_DIGEST, img, size);
	seed_write(dir, "real-raw", MODE_RAW, img, size);
}

static void write_seeds(const char *dir)
{
	static uint8_t img[4096];
	const char *real = getenv("FUZZ_IMAGE_REAL");

	synthetic(img, 1024, 2, 1);
	seed_write(dir, "raw", MODE_RAW, img, 1024);
	seed_write(dir, "digest", MODE_DIGEST, img, 1024);
	seed_write(dir, "size-running-1", 1 << 2 | MODE_SIZE, img, 1024);
	synthetic(img, 4096, 3, 2);
	seed_write(dir, "raw-newer", 2 << 2 | MODE_RAW, img, 4096);
	synthetic(img, INFO_END, 1, 1);
	seed_write(dir, "raw-smallest", MODE_RAW, img, INFO_END);
	seed_write(dir, "template", MODE_TEMPLATE, img, 300);
	if (real && *real)
		real_seeds(dir, real);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_IMAGE_WRITE_SEEDS");

	(void)argc;
	(void)argv;
	if (dir) {
		write_seeds(dir);
		exit(0);
	}
	return 0;
}
