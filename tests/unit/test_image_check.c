/*
 * The check of an uploaded hypervisor image (hv/lib/image_check.c): a
 * synthetic image with a consistent info block and its SHA-256 stamped as
 * scripts/hv-image-stamp.sh does (compared with what the script writes) is
 * accepted; every refusal, one field patched at a time, comes with its own
 * code and message (the digest is checked last, so a patched field is
 * named, not reported as damage); the layout the state goes over in, both
 * directions; and the images the build made (build/hv*, found next to
 * UNIT_DATA), when they exist. The string functions are the host libc's,
 * which ASan checks (see lib/string.h).
 *
 * unit-sources: hv/lib/image_check.c hv/lib/sha256.c hv/lib/fmt.c
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <core/state_version.h>
#include <lib/image_check.h>
#include <lib/sha256.h>
#include <shyper/errno.h>
#include <shyper/hypercall.h>
#include <shyper/image.h>
#include <shyper/version.h>

#define IMG_SIZE	4096u			/* the synthetic image's file */
#define IMG_CAP		(IMG_SIZE + 256)	/* room for trailing bytes */
#define SLOT		(2ull << 20)
#define INFO_END	(SHYPER_IMAGE_INFO_OFFSET + SHYPER_IMAGE_INFO_SIZE)

/* What the running image expects on QEMU virt (core/update.c). */
static const struct image_expect qemu_virt = {
	.arch = SHYPER_ARCH_AARCH64,
	.abi = SHYPER_ABI_VERSION,
	.board = "qemu-virt",
	.state_version = 2,
	.state_oldest = 1,
	.slot_size = SLOT,
};

static uint8_t img[IMG_CAP];

static struct shyper_image_info *info(void)
{
	return (struct shyper_image_info *)(img + SHYPER_IMAGE_INFO_OFFSET);
}

/* The digest of the first size bytes with the digest field zero, written
 * into the field: what scripts/hv-image-stamp.sh does to a linked image. */
static void stamp(size_t size)
{
	memset(img + SHYPER_IMAGE_DIGEST_OFFSET, 0, SHA256_DIGEST_SIZE);
	sha256(img, size, img + SHYPER_IMAGE_DIGEST_OFFSET);
}

/* A valid image of IMG_SIZE bytes: an arm64 Image header, the info block,
 * deterministic "code" after it, the digest. */
static int build_image(void **state)
{
	struct shyper_image_info *in = info();

	(void)state;
	memset(img, 0, sizeof(img));
	for (size_t i = 0; i < sizeof(img); i++)
		img[i] = (uint8_t)(i * 131 + (i >> 8) * 7 + 1);
	memcpy(img + 56, "ARM\x64", 4);
	memset(in, 0, sizeof(*in));
	in->magic = SHYPER_IMAGE_MAGIC;
	in->info_size = SHYPER_IMAGE_INFO_SIZE;
	in->arch = SHYPER_ARCH_AARCH64;
	in->abi = SHYPER_ABI_VERSION;
	in->state_version = 2;
	in->state_oldest = 1;
	in->file_size = IMG_SIZE;
	in->load_size = 3 * IMG_SIZE; /* .bss after the file */
	in->update_entry = 0x104;
	in->secondary_update_entry = 0x124;
	strcpy(in->board, "qemu-virt");
	strcpy(in->version, "0.2.0-test");
	stamp(IMG_SIZE);
	return 0;
}

/* Re-stamps after a patch, so only the patched field is wrong. */
static void restamp(void)
{
	stamp(IMG_SIZE);
}

static void expect_refusal(const struct image_expect *want, uint64_t size, int code,
			   const char *why)
{
	struct shyper_upd_report r;

	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(image_check(img, size, want, &r), code);
	assert_int_equal(r.result, code);
	assert_string_equal(r.why, why);
	/* What the report always says about the running side and the upload. */
	assert_int_equal(r.running_state, want->state_version);
	assert_int_equal(r.slot_size, want->slot_size);
	assert_int_equal(r.file_size, size);
}

static void refused(int code, const char *why)
{
	expect_refusal(&qemu_virt, IMG_SIZE, code, why);
}

static void test_valid_image(void **state)
{
	struct shyper_upd_report r;

	(void)state;
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);
	assert_int_equal(r.result, 0);
	assert_string_equal(r.why, "");
	assert_string_equal(r.version, "0.2.0-test");
	assert_string_equal(r.board, "qemu-virt");
	assert_int_equal(r.arch, SHYPER_ARCH_AARCH64);
	assert_int_equal(r.abi, SHYPER_ABI_VERSION);
	assert_int_equal(r.state_version, 2);
	assert_int_equal(r.state_oldest, 1);
	assert_int_equal(r.running_state, 2);
	assert_int_equal(r.handover_state, 2);
	assert_int_equal(r.pad, 0);
	assert_int_equal(r.file_size, IMG_SIZE);
	assert_int_equal(r.load_size, 3 * IMG_SIZE);
	assert_int_equal(r.slot_size, SLOT);
}

/* The stamp above is the build's: scripts/hv-image-stamp.sh (sha256sum)
 * writes the same digest into the same image. Run from the repository's
 * root, as `make unit` does; skipped elsewhere. */
static void test_stamp_matches_build(void **state)
{
	static const char script[] = "scripts/hv-image-stamp.sh";
	char path[] = "/tmp/image-check-XXXXXX", cmd[200];
	uint8_t want[SHA256_DIGEST_SIZE], got[IMG_SIZE];
	FILE *f;
	int fd;

	(void)state;
	f = fopen(script, "r");
	if (!f)
		skip();
	fclose(f);
	memcpy(want, img + SHYPER_IMAGE_DIGEST_OFFSET, sizeof(want));
	memset(img + SHYPER_IMAGE_DIGEST_OFFSET, 0, sizeof(want)); /* as linked */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, img, IMG_SIZE), IMG_SIZE);
	close(fd);
	snprintf(cmd, sizeof(cmd), "bash %s %s", script, path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(got, 1, sizeof(got), f), IMG_SIZE);
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
	unlink(path);
	assert_memory_equal(got + SHYPER_IMAGE_DIGEST_OFFSET, want, sizeof(want));
	memcpy(img + SHYPER_IMAGE_DIGEST_OFFSET, want, sizeof(want));
	assert_memory_equal(got, img, IMG_SIZE);
}

/* The limits themselves are allowed. */
static void test_valid_limits(void **state)
{
	struct shyper_upd_report r;

	(void)state;
	info()->load_size = SLOT;
	info()->update_entry = IMG_SIZE - 4;
	info()->secondary_update_entry = 0;
	restamp();
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);
	info()->load_size = IMG_SIZE;
	restamp();
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);
	assert_int_equal(r.load_size, IMG_SIZE);

	/* The smallest file that holds the info block. */
	info()->file_size = info()->load_size = INFO_END;
	info()->update_entry = info()->secondary_update_entry = INFO_END - 4;
	stamp(INFO_END);
	assert_int_equal(image_check(img, INFO_END, &qemu_virt, &r), 0);
	assert_int_equal(r.result, 0);

	/* A board name and version that fill their fields but one byte. */
	build_image(NULL);
	memset(info()->board, 'b', sizeof(info()->board) - 1);
	memset(info()->version, 'v', sizeof(info()->version) - 1);
	restamp();
	{
		struct image_expect want = qemu_virt;
		char board[SHYPER_IMAGE_BOARD_MAX], version[SHYPER_IMAGE_VERSION_MAX];

		memcpy(board, info()->board, sizeof(board));
		memcpy(version, info()->version, sizeof(version));
		assert_int_equal(strlen(board), sizeof(board) - 1);
		want.board = board;
		assert_int_equal(image_check(img, IMG_SIZE, &want, &r), 0);
		assert_string_equal(r.board, board);
		assert_string_equal(r.version, version);
		assert_int_equal(strlen(r.version), sizeof(version) - 1);
	}
}

static void test_too_short(void **state)
{
	(void)state;
	expect_refusal(&qemu_virt, 0, -SHYPER_EINVAL,
		       "truncated: 0 bytes, shorter than an image header");
	expect_refusal(&qemu_virt, 64, -SHYPER_EINVAL,
		       "truncated: 64 bytes, shorter than an image header");
	expect_refusal(&qemu_virt, INFO_END - 1, -SHYPER_EINVAL,
		       "truncated: 191 bytes, shorter than an image header");
}

static void test_bad_magic(void **state)
{
	(void)state;
	memcpy(&info()->magic, "XXXX", 4);
	restamp();
	refused(-SHYPER_EINVAL, "not a cshyper image: no image info (bad magic 0x58585858)");
	info()->magic = 0;
	restamp();
	refused(-SHYPER_EINVAL, "not a cshyper image: no image info (bad magic 0x0)");
}

static void test_bad_info_size(void **state)
{
	(void)state;
	info()->info_size = 136;
	restamp();
	refused(-SHYPER_EINVAL, "unknown image info layout (136 bytes)");
	info()->info_size = 0;
	restamp();
	refused(-SHYPER_EINVAL, "unknown image info layout (0 bytes)");
}

static void test_wrong_arch(void **state)
{
	struct shyper_upd_report r;

	(void)state;
	info()->arch = SHYPER_ARCH_RISCV64;
	restamp();
	refused(-SHYPER_EINVAL, "wrong architecture: the image is for riscv64, this board is arm64");
	/* The fields read so far are in the report. */
	image_check(img, IMG_SIZE, &qemu_virt, &r);
	assert_int_equal(r.arch, SHYPER_ARCH_RISCV64);
	assert_string_equal(r.board, "qemu-virt");
	assert_string_equal(r.version, "0.2.0-test");

	info()->arch = 77;
	restamp();
	refused(-SHYPER_EINVAL,
		"wrong architecture: the image is for an unknown architecture, this board is arm64");
	info()->arch = 0;
	restamp();
	refused(-SHYPER_EINVAL,
		"wrong architecture: the image is for an unknown architecture, this board is arm64");
}

static void test_wrong_board(void **state)
{
	struct image_expect want = qemu_virt;

	(void)state;
	strcpy(info()->board, "rpi4");
	restamp();
	refused(-SHYPER_EINVAL, "wrong board: the image is for rpi4, this board is qemu-virt");
	/* A prefix or an extension of the name is another board. */
	strcpy(info()->board, "qemu-vir");
	restamp();
	refused(-SHYPER_EINVAL, "wrong board: the image is for qemu-vir, this board is qemu-virt");
	strcpy(info()->board, "qemu-virt2");
	restamp();
	refused(-SHYPER_EINVAL, "wrong board: the image is for qemu-virt2, this board is qemu-virt");
	memset(info()->board, 0, sizeof(info()->board));
	restamp();
	refused(-SHYPER_EINVAL, "wrong board: the image is for , this board is qemu-virt");

	/* The running board's name decides, not a constant. */
	strcpy(info()->board, "qemu-virt");
	restamp();
	want.board = "rpi4";
	expect_refusal(&want, IMG_SIZE, -SHYPER_EINVAL,
		       "wrong board: the image is for qemu-virt, this board is rpi4");
}

static void test_board_not_terminated(void **state)
{
	struct shyper_upd_report r;

	(void)state;
	memcpy(info()->board, "qemu-virtqemu-vi", SHYPER_IMAGE_BOARD_MAX);
	restamp();
	refused(-SHYPER_EINVAL,
		"wrong board: the image is for qemu-virtqemu-vi, this board is qemu-virt");
	image_check(img, IMG_SIZE, &qemu_virt, &r);
	assert_string_equal(r.board, ""); /* not copied */

	/* Even one that equals the running board's name for all 16 bytes. */
	{
		struct image_expect want = qemu_virt;

		want.board = "qemu-virtqemu-vi";
		expect_refusal(&want, IMG_SIZE, -SHYPER_EINVAL,
			       "wrong board: the image is for qemu-virtqemu-vi, "
			       "this board is qemu-virtqemu-vi");
	}
}

static void test_version_not_terminated(void **state)
{
	struct shyper_upd_report r;

	(void)state;
	memset(info()->version, 'v', SHYPER_IMAGE_VERSION_MAX);
	restamp();
	refused(-SHYPER_EINVAL, "bad image info: version string not terminated");
	image_check(img, IMG_SIZE, &qemu_virt, &r);
	assert_string_equal(r.version, "");
	assert_string_equal(r.board, "qemu-virt");
}

static void test_wrong_abi(void **state)
{
	char why[SHYPER_UPD_WHY_MAX];

	(void)state;
	info()->abi = 9;
	restamp();
	snprintf(why, sizeof(why),
		 "incompatible ABI: the image speaks ABI 9, shyper.ko and the CLI here ABI %u",
		 SHYPER_ABI_VERSION);
	refused(-SHYPER_EPROTO, why);
	info()->abi = SHYPER_ABI_VERSION + 1;
	restamp();
	snprintf(why, sizeof(why),
		 "incompatible ABI: the image speaks ABI %u, shyper.ko and the CLI here ABI %u",
		 SHYPER_ABI_VERSION + 1, SHYPER_ABI_VERSION);
	refused(-SHYPER_EPROTO, why);
}

static void set_layouts(uint32_t version, uint32_t oldest)
{
	info()->state_version = version;
	info()->state_oldest = oldest;
	restamp();
}

static void test_state_layouts_refused(void **state)
{
	struct image_expect v3 = qemu_virt;
	struct shyper_upd_report r;

	(void)state;
	/* Too new: it imports nothing older than 3, the running image writes 2. */
	set_layouts(4, 3);
	refused(-SHYPER_EPROTO,
		"incompatible state: the image imports layouts 3..4, this one writes 2 (down to 1)");
	image_check(img, IMG_SIZE, &qemu_virt, &r);
	assert_int_equal(r.state_version, 4);
	assert_int_equal(r.state_oldest, 3);
	assert_int_equal(r.handover_state, 2);

	/* Too old: the running image converts down to 2 at the oldest. */
	v3.state_version = 3;
	v3.state_oldest = 2;
	set_layouts(1, 1);
	expect_refusal(&v3, IMG_SIZE, -SHYPER_EPROTO,
		       "incompatible state: the image imports layouts 1..1, this one writes 3 (down to 2)");

	/* Oldest above its own version: nothing to import. */
	set_layouts(2, 3);
	refused(-SHYPER_EPROTO,
		"incompatible state: the image imports layouts 3..2, this one writes 2 (down to 1)");
	set_layouts(0, 0);
	expect_refusal(&v3, IMG_SIZE, -SHYPER_EPROTO,
		       "incompatible state: the image imports layouts 0..0, this one writes 3 (down to 2)");
}

static void test_state_layouts_accepted(void **state)
{
	struct image_expect v1 = qemu_virt, v3 = qemu_virt;
	struct shyper_upd_report r;

	(void)state;
	/* Older image: the state goes over in its layout. */
	set_layouts(1, 1);
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);
	assert_int_equal(r.handover_state, 1);
	assert_int_equal(r.running_state, 2);

	/* Newer image that imports ours: the state goes over in ours. */
	set_layouts(3, 2);
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);
	assert_int_equal(r.handover_state, 2);
	v1.state_version = v1.state_oldest = 1;
	set_layouts(2, 1);
	assert_int_equal(image_check(img, IMG_SIZE, &v1, &r), 0);
	assert_int_equal(r.handover_state, 1);
	assert_int_equal(r.running_state, 1);

	/* The oldest layout of the running image is still one it writes. */
	v3.state_version = 3;
	v3.state_oldest = 2;
	set_layouts(2, 2);
	assert_int_equal(image_check(img, IMG_SIZE, &v3, &r), 0);
	assert_int_equal(r.handover_state, 2);
}

static void test_handover_layout(void **state)
{
	struct shyper_image_info in = { .state_version = 2, .state_oldest = 1 };

	(void)state;
	assert_int_equal(image_handover_layout(&in, 2), 2);
	assert_int_equal(image_handover_layout(&in, 1), 1); /* the image is newer */
	assert_int_equal(image_handover_layout(&in, 3), 2); /* the image is older */
	in.state_version = 7;
	assert_int_equal(image_handover_layout(&in, 4), 4);
	in.state_version = 1;
	assert_int_equal(image_handover_layout(&in, 5), 1);
}

static void test_file_size(void **state)
{
	(void)state;
	/* Fewer bytes arrived than the image says. */
	expect_refusal(&qemu_virt, IMG_SIZE - 96, -SHYPER_EINVAL,
		       "truncated: the image says 4096 bytes, 4000 arrived");
	expect_refusal(&qemu_virt, INFO_END, -SHYPER_EINVAL,
		       "truncated: the image says 4096 bytes, 192 arrived");
	/* More. */
	expect_refusal(&qemu_virt, IMG_SIZE + 100, -SHYPER_EINVAL,
		       "100 bytes after the end of the image (4096 bytes)");
	expect_refusal(&qemu_virt, IMG_CAP, -SHYPER_EINVAL,
		       "256 bytes after the end of the image (4096 bytes)");
	/* The field itself says something else than the upload. */
	info()->file_size = IMG_SIZE + 1;
	restamp();
	refused(-SHYPER_EINVAL, "truncated: the image says 4097 bytes, 4096 arrived");
	info()->file_size = 1;
	restamp();
	refused(-SHYPER_EINVAL, "4095 bytes after the end of the image (1 bytes)");
	info()->file_size = UINT64_MAX;
	restamp();
	refused(-SHYPER_EINVAL,
		"truncated: the image says 18446744073709551615 bytes, 4096 arrived");
}

static void test_load_size(void **state)
{
	struct image_expect small = qemu_virt;

	(void)state;
	info()->load_size = SLOT + 1;
	restamp();
	refused(-SHYPER_E2BIG, "too big: the image needs 2049 KiB, a slot holds 2048 KiB");
	info()->load_size = 4ull << 20;
	restamp();
	refused(-SHYPER_E2BIG, "too big: the image needs 4096 KiB, a slot holds 2048 KiB");
	info()->load_size = UINT64_MAX;
	restamp();
	refused(-SHYPER_E2BIG,
		"too big: the image needs 18014398509481984 KiB, a slot holds 2048 KiB");
	/* The slot size is the running image's. */
	info()->load_size = 3 * IMG_SIZE;
	restamp();
	small.slot_size = 8192;
	expect_refusal(&small, IMG_SIZE, -SHYPER_E2BIG,
		       "too big: the image needs 12 KiB, a slot holds 8 KiB");

	/* Less memory than the file itself needs: the info block is wrong. */
	info()->load_size = IMG_SIZE - 1;
	restamp();
	refused(-SHYPER_EINVAL, "bad image info: load size 4095 bytes, less than the file's 4096");
	info()->load_size = 0;
	restamp();
	refused(-SHYPER_EINVAL, "bad image info: load size 0 bytes, less than the file's 4096");
}

static void test_entry_points(void **state)
{
	static const struct {
		uint64_t primary, secondary;
		const char *why;
	} cases[] = {
		{ IMG_SIZE, 0x124, "bad image info: entry points outside the image" },
		{ 0x104, IMG_SIZE, "bad image info: entry points outside the image" },
		{ IMG_SIZE + 4, IMG_SIZE + 8, "bad image info: entry points outside the image" },
		{ UINT64_MAX - 3, 0x124, "bad image info: entry points outside the image" },
		{ 0x104, 1ull << 63, "bad image info: entry points outside the image" },
		{ 0x106, 0x124, "bad image info: entry points not 4-byte aligned" },
		{ 0x104, 0x125, "bad image info: entry points not 4-byte aligned" },
		{ 0x101, 0x123, "bad image info: entry points not 4-byte aligned" },
		{ IMG_SIZE - 1, 0x124, "bad image info: entry points not 4-byte aligned" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		info()->update_entry = cases[i].primary;
		info()->secondary_update_entry = cases[i].secondary;
		restamp();
		refused(-SHYPER_EINVAL, cases[i].why);
	}
}

/* One byte changed anywhere, the digest field included: bad digest. */
static void test_flipped_byte(void **state)
{
	static const char why[] = "bad digest: the image's SHA-256 does not match its contents";
	/* The info block's fields up to the board's NUL are checked for
	 * themselves first (test_patched_field_named); from there on (the
	 * board's padding, the version, which only has to be terminated,
	 * and the digest field) only the digest notices. */
	const size_t fields_end = SHYPER_IMAGE_INFO_OFFSET +
				  offsetof(struct shyper_image_info, board) + sizeof("qemu-virt");
	struct shyper_upd_report r;
	size_t checked = 0;

	(void)state;
	for (size_t at = 0; at < IMG_SIZE; at++) {
		if (at >= SHYPER_IMAGE_INFO_OFFSET && at < fields_end)
			continue;
		for (unsigned bit = 0; bit < 8; bit += 7) {
			img[at] ^= (uint8_t)(1u << bit);
			assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), -SHYPER_EBADMSG);
			assert_int_equal(r.result, -SHYPER_EBADMSG);
			assert_string_equal(r.why, why);
			img[at] ^= (uint8_t)(1u << bit);
			checked++;
		}
	}
	assert_true(checked > 2 * (IMG_SIZE - SHYPER_IMAGE_INFO_SIZE));
	/* And the image is intact again. */
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);

	/* A digest of the file as it is (field not zeroed) is not the stamp. */
	sha256(img, IMG_SIZE, img + SHYPER_IMAGE_DIGEST_OFFSET);
	refused(-SHYPER_EBADMSG, why);
	/* Nor is no digest at all. */
	memset(img + SHYPER_IMAGE_DIGEST_OFFSET, 0, SHA256_DIGEST_SIZE);
	refused(-SHYPER_EBADMSG, why);
}

/* A field patched after stamping (the digest no longer matches either) is
 * named by its own message, not reported as a bad digest. */
static void test_patched_field_named(void **state)
{
	char why[SHYPER_UPD_WHY_MAX];

	(void)state;
	info()->magic ^= 1;
	refused(-SHYPER_EINVAL, "not a cshyper image: no image info (bad magic 0x55594852)");
	build_image(NULL);
	info()->arch = SHYPER_ARCH_RISCV64;
	refused(-SHYPER_EINVAL, "wrong architecture: the image is for riscv64, this board is arm64");
	build_image(NULL);
	strcpy(info()->board, "rpi4");
	refused(-SHYPER_EINVAL, "wrong board: the image is for rpi4, this board is qemu-virt");
	build_image(NULL);
	info()->abi = 9;
	snprintf(why, sizeof(why),
		 "incompatible ABI: the image speaks ABI 9, shyper.ko and the CLI here ABI %u",
		 SHYPER_ABI_VERSION);
	refused(-SHYPER_EPROTO, why);
	build_image(NULL);
	info()->state_version = info()->state_oldest = 7;
	refused(-SHYPER_EPROTO,
		"incompatible state: the image imports layouts 7..7, this one writes 2 (down to 1)");
	build_image(NULL);
	info()->file_size = 100000;
	refused(-SHYPER_EINVAL, "truncated: the image says 100000 bytes, 4096 arrived");
	build_image(NULL);
	info()->load_size = 4ull << 20;
	refused(-SHYPER_E2BIG, "too big: the image needs 4096 KiB, a slot holds 2048 KiB");
	build_image(NULL);
	info()->update_entry = 2 * IMG_SIZE;
	refused(-SHYPER_EINVAL, "bad image info: entry points outside the image");

	/* Bytes appended to a stamped image: named as such. */
	build_image(NULL);
	expect_refusal(&qemu_virt, IMG_SIZE + 5, -SHYPER_EINVAL,
		       "5 bytes after the end of the image (4096 bytes)");
}

/* The report is all zeros but for what the check wrote: no stale bytes
 * from the caller's buffer reach the MVM. */
static void test_report_cleared(void **state)
{
	struct shyper_upd_report r;

	(void)state;
	memset(&r, 0xa5, sizeof(r));
	assert_int_equal(image_check(img, IMG_SIZE, &qemu_virt, &r), 0);
	for (size_t i = 0; i < sizeof(r.why); i++)
		assert_int_equal(r.why[i], 0);
	for (size_t i = strlen(r.board); i < sizeof(r.board); i++)
		assert_int_equal(r.board[i], 0);

	memset(&r, 0xa5, sizeof(r));
	expect_refusal(&qemu_virt, 10, -SHYPER_EINVAL,
		       "truncated: 10 bytes, shorter than an image header");
	memset(&r, 0xa5, sizeof(r));
	image_check(img, 10, &qemu_virt, &r);
	assert_int_equal(r.arch, 0);
	assert_int_equal(r.load_size, 0);
	assert_int_equal(r.handover_state, 0);
	assert_string_equal(r.board, "");
	assert_string_equal(r.version, "");
	assert_int_equal(r.why[sizeof(r.why) - 1], 0);
}

/* ------------------------------------------------------------------------ */
/* The images the build made                                                 */

/* build/hv/cshyper.bin and its variants: UNIT_DATA is $(BUILD)/unit, the images are in its
 * sibling directories; NULL (the test is skipped) when not built. */
static uint8_t *load_built(const char *dir, size_t *size, char *path, size_t path_len)
{
	const char *data = getenv("UNIT_DATA");
	uint8_t *buf;
	FILE *f;
	long n;

	if (data && *data)
		snprintf(path, path_len, "%s/../%s/cshyper.bin", data, dir);
	else
		snprintf(path, path_len, "build/%s/cshyper.bin", dir);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n); /* exactly its size: ASan sees any read past it */
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*size = (size_t)n;
	return buf;
}

static void check_built(const char *dir, const char *version, uint32_t state_version)
{
	struct shyper_upd_report r;
	char path[600];
	size_t size;
	uint8_t *bin = load_built(dir, &size, path, sizeof(path));

	if (!bin)
		return; /* a variant: `make hv-variants` */
	if (image_check(bin, size, &qemu_virt, &r))
		fail_msg("%s refused: %s (stale? `make hv hv-variants` rebuilds it)", path,
			 r.why);
	assert_int_equal(r.result, 0);
	assert_string_equal(r.board, "qemu-virt");
	assert_string_equal(r.version, version);
	assert_int_equal(r.arch, SHYPER_ARCH_AARCH64);
	assert_int_equal(r.abi, SHYPER_ABI_VERSION);
	assert_int_equal(r.state_version, state_version);
	assert_int_equal(r.state_oldest, 1);
	/* Handed over in the newer layout both know (qemu_virt: the running one's). */
	assert_int_equal(r.handover_state, state_version < qemu_virt.state_version ?
						   state_version : qemu_virt.state_version);
	assert_int_equal(r.file_size, size);
	assert_true(r.load_size >= size && r.load_size <= SLOT);

	/* The build's stamp is the one image_check() verifies: damage is
	 * caught in the code, not only in the header. */
	bin[size / 2] ^= 0x10;
	assert_int_equal(image_check(bin, size, &qemu_virt, &r), -SHYPER_EBADMSG);
	bin[size / 2] ^= 0x10;
	assert_int_equal(image_check(bin, size - 1, &qemu_virt, &r), -SHYPER_EINVAL);
	free(bin);
}

static void test_built_images(void **state)
{
	char path[600];
	size_t size;
	uint8_t *bin = load_built("hv", &size, path, sizeof(path));

	(void)state;
	free(bin);
	if (!bin)
		skip(); /* `make hv` first; `make test` does */
	check_built("hv", SHYPER_VERSION_STRING, HV_STATE_VERSION);
	check_built("hv-s1", SHYPER_VERSION_STRING "-s1", 1);
	check_built("hv-fault", SHYPER_VERSION_STRING "-fault", HV_STATE_VERSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_valid_image, build_image),
		cmocka_unit_test_setup(test_stamp_matches_build, build_image),
		cmocka_unit_test_setup(test_valid_limits, build_image),
		cmocka_unit_test_setup(test_too_short, build_image),
		cmocka_unit_test_setup(test_bad_magic, build_image),
		cmocka_unit_test_setup(test_bad_info_size, build_image),
		cmocka_unit_test_setup(test_wrong_arch, build_image),
		cmocka_unit_test_setup(test_wrong_board, build_image),
		cmocka_unit_test_setup(test_board_not_terminated, build_image),
		cmocka_unit_test_setup(test_version_not_terminated, build_image),
		cmocka_unit_test_setup(test_wrong_abi, build_image),
		cmocka_unit_test_setup(test_state_layouts_refused, build_image),
		cmocka_unit_test_setup(test_state_layouts_accepted, build_image),
		cmocka_unit_test(test_handover_layout),
		cmocka_unit_test_setup(test_file_size, build_image),
		cmocka_unit_test_setup(test_load_size, build_image),
		cmocka_unit_test_setup(test_entry_points, build_image),
		cmocka_unit_test_setup(test_flipped_byte, build_image),
		cmocka_unit_test_setup(test_patched_field_named, build_image),
		cmocka_unit_test_setup(test_report_cleared, build_image),
		cmocka_unit_test(test_built_images),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
