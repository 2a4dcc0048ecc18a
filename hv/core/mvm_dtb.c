/*
 * The prebuilt MVM device tree (core/mvm_dtb.h). It was made for one board
 * and one built-in configuration; what only the boot tells (where the
 * initramfs ended up) goes into placeholders of a fixed size, so the tree
 * is changed in place and never grows.
 */
#include <arch/cache.h>
#include <core/log.h>
#include <core/mvm_dtb.h>
#include <lib/dt.h>
#include <lib/string.h>
#include <plat/platform.h>
#include <shyper/errno.h>

static int set_u64(const struct dt *dt, int chosen, const char *name, uint64_t v)
{
	int len;
	uint8_t *p = (uint8_t *)dt_getprop(dt, chosen, name, &len);

	if (!p || len != 8) {
		log_err("mvm: its device tree has no 8-byte /chosen/%s to fill in "
			"(not made by tools/mvm-dtb?)", name);
		return -SHYPER_EINVAL;
	}
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i)); /* big-endian */
	cache_clean_range((uint64_t)p, 8);
	return 0;
}

int mvm_dtb_given_prepare(const struct vm_config *cfg, uint64_t initrd_size)
{
	const void *blob = (const void *)cfg->dtb_ipa;
	const char *board;
	struct dt dt;
	int chosen, len, ret;

	ret = dt_open(&dt, blob, MVM_GIVEN_DTB_MAX);
	if (ret) {
		log_err("mvm: no device tree at 0x%lx (%d): the boot script loads this board's "
			"mvm.dtb there", cfg->dtb_ipa, ret);
		return -SHYPER_ENOENT;
	}
	chosen = dt_path_offset(&dt, "/chosen");
	board = chosen >= 0 ? dt_getprop(&dt, chosen, "cshyper,board", &len) : NULL;
	if (!board || len < 1 || board[len - 1] || strcmp(board, PLAT_NAME)) {
		log_err("mvm: the device tree at 0x%lx was not made for this image's board (%s)",
			cfg->dtb_ipa, PLAT_NAME);
		return -SHYPER_EINVAL;
	}
	ret = set_u64(&dt, chosen, "linux,initrd-start", initrd_size ? cfg->initrd_ipa : 0);
	if (!ret)
		ret = set_u64(&dt, chosen, "linux,initrd-end",
			      initrd_size ? cfg->initrd_ipa + initrd_size : 0);
	return ret;
}
