/*
 * A board's MVM device tree made when the image was built (tools/mvm-dtb.c:
 * the board's own tree cut down to the MVM's cores, RAM and devices) and
 * loaded by the boot script at the built-in configuration's dtb_ipa, for
 * boards whose devices the hypervisor cannot describe itself.
 */
#ifndef CORE_MVM_DTB_H
#define CORE_MVM_DTB_H

#include <core/vm_config.h>
#include <stdint.h>

/* The tree may use the RAM from dtb_ipa to the end of the MVM's bank. */
#define MVM_GIVEN_DTB_MAX (2UL << 20)

/*
 * Checks the tree at cfg->dtb_ipa: a device tree, made for this board
 * (/chosen/cshyper,board), with the initramfs placeholders the tool leaves,
 * which are then set to [initrd_ipa, initrd_ipa + initrd_size). 0, or a
 * negative error with the reason printed.
 */
int mvm_dtb_given_prepare(const struct vm_config *cfg, uint64_t initrd_size);

#endif
