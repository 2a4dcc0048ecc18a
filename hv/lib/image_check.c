/* Checks an uploaded hypervisor image (lib/image_check.h). */
#include <lib/fmt.h>
#include <lib/image_check.h>
#include <lib/sha256.h>
#include <lib/string.h>
#include <shyper/errno.h>
#include <stdarg.h>
#include <stdbool.h>

static bool str_fits(const char *s, size_t max)
{
	for (size_t i = 0; i < max; i++)
		if (!s[i])
			return true;
	return false;
}

static const char *arch_name(uint32_t arch)
{
	return arch == SHYPER_ARCH_AARCH64 ? "arm64"
	       : arch == SHYPER_ARCH_RISCV64 ? "riscv64"
					     : "an unknown architecture";
}

uint32_t image_handover_layout(const struct shyper_image_info *in, uint32_t running)
{
	return in->state_version < running ? in->state_version : running;
}

static int refuse(struct shyper_upd_report *r, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fmt_vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->result = err;
	return err;
}

static bool digest_ok(const uint8_t *img, uint64_t size)
{
	struct sha256_ctx c;
	uint8_t want[32], got[32];
	uint64_t at = SHYPER_IMAGE_DIGEST_OFFSET;

	memcpy(want, img + at, sizeof(want));
	sha256_init(&c);
	sha256_update(&c, img, at);
	memset(got, 0, sizeof(got));
	sha256_update(&c, got, sizeof(got)); /* the field counts as zeros */
	sha256_update(&c, img + at + 32, size - at - 32);
	sha256_final(&c, got);
	return !memcmp(want, got, sizeof(got));
}

/* Every field, in the order a user can act on; the digest last, so that a
 * patched field is named rather than reported as damage. */
int image_check(const uint8_t *img, uint64_t size, const struct image_expect *want,
		struct shyper_upd_report *r)
{
	struct shyper_image_info in;

	memset(r, 0, sizeof(*r));
	r->running_state = want->state_version;
	r->slot_size = want->slot_size;
	r->file_size = size;
	if (size < SHYPER_IMAGE_INFO_OFFSET + SHYPER_IMAGE_INFO_SIZE)
		return refuse(r, -SHYPER_EINVAL, "truncated: %lu bytes, shorter than an image header", size);
	memcpy(&in, img + SHYPER_IMAGE_INFO_OFFSET, sizeof(in));
	if (in.magic != SHYPER_IMAGE_MAGIC)
		return refuse(r, -SHYPER_EINVAL, "not a cshyper image: no image info (bad magic 0x%x)", in.magic);
	if (in.info_size != SHYPER_IMAGE_INFO_SIZE)
		return refuse(r, -SHYPER_EINVAL, "unknown image info layout (%u bytes)", in.info_size);
	r->arch = in.arch;
	r->abi = in.abi;
	r->state_version = in.state_version;
	r->state_oldest = in.state_oldest;
	r->load_size = in.load_size;
	if (str_fits(in.board, sizeof(in.board)))
		memcpy(r->board, in.board, sizeof(r->board));
	if (str_fits(in.version, sizeof(in.version)))
		memcpy(r->version, in.version, sizeof(r->version));
	if (in.arch != want->arch)
		return refuse(r, -SHYPER_EINVAL, "wrong architecture: the image is for %s, this board is %s",
			      arch_name(in.arch), arch_name(want->arch));
	if (!str_fits(in.board, sizeof(in.board)) || strcmp(in.board, want->board))
		return refuse(r, -SHYPER_EINVAL, "wrong board: the image is for %.16s, this board is %s",
			      in.board, want->board);
	if (!str_fits(in.version, sizeof(in.version)))
		return refuse(r, -SHYPER_EINVAL, "bad image info: version string not terminated");
	if (in.abi != want->abi)
		return refuse(r, -SHYPER_EPROTO, "incompatible ABI: the image speaks ABI %u, shyper.ko and the CLI here ABI %u",
			      in.abi, want->abi);
	r->handover_state = image_handover_layout(&in, want->state_version);
	if (in.state_oldest > in.state_version || r->handover_state < in.state_oldest ||
	    r->handover_state < want->state_oldest)
		return refuse(r, -SHYPER_EPROTO,
			      "incompatible state: the image imports layouts %u..%u, this one writes %u (down to %u)",
			      in.state_oldest, in.state_version, want->state_version, want->state_oldest);
	if (in.file_size > size)
		return refuse(r, -SHYPER_EINVAL, "truncated: the image says %lu bytes, %lu arrived",
			      in.file_size, size);
	if (in.file_size < size)
		return refuse(r, -SHYPER_EINVAL, "%lu bytes after the end of the image (%lu bytes)",
			      size - in.file_size, in.file_size);
	if (in.load_size > want->slot_size)
		return refuse(r, -SHYPER_E2BIG, "too big: the image needs %lu KiB, a slot holds %lu KiB",
			      (in.load_size >> 10) + !!(in.load_size & 1023), want->slot_size >> 10);
	if (in.load_size < in.file_size)
		return refuse(r, -SHYPER_EINVAL, "bad image info: load size %lu bytes, less than the file's %lu",
			      in.load_size, in.file_size);
	if (in.update_entry >= in.file_size || in.secondary_update_entry >= in.file_size)
		return refuse(r, -SHYPER_EINVAL, "bad image info: entry points outside the image");
	if ((in.update_entry | in.secondary_update_entry) & 3)
		return refuse(r, -SHYPER_EINVAL, "bad image info: entry points not 4-byte aligned");
	if (!digest_ok(img, size))
		return refuse(r, -SHYPER_EBADMSG, "bad digest: the image's SHA-256 does not match its contents");
	return 0;
}
