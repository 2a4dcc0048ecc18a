/*
 * What every board's built-in MVM shares: its RAM layout (kernel at the
 * start of its identity-mapped RAM, initramfs 128 MiB in, device tree 2 MiB
 * below the end) and its port on the hypervisor's virtual switch (a
 * locally administered MAC, 02:53:48:59:50:00).
 */
#ifndef CONFIG_MVM_LAYOUT_H
#define CONFIG_MVM_LAYOUT_H

#include <core/vm_config.h>
#include <shyper/hypercall.h>

#define MVM_RAM(ram_base, ram_size)                                                        \
	.mem = { { .ipa = (ram_base), .size = (ram_size), .identity = true } },            \
	.nr_mem = 1, .kernel_ipa = (ram_base), .kernel_entry = (ram_base),                 \
	.initrd_ipa = (ram_base) + 0x08000000UL,                                           \
	.dtb_ipa = (ram_base) + (ram_size) - 0x00200000UL

#define MVM_SWITCH_PORT(port_base, port_intid)                                             \
	.vdevs = { { .type = SHYPER_EMU_VIRTIO_NET, .intid = (port_intid),               \
		     .base = (port_base),                                                  \
		     .size = 0x1000, .cfg_num = 6,                                         \
		     .cfg = { 0x02, 0x53, 0x48, 0x59, 0x50, 0x00 } } },                   \
	.nr_vdevs = 1

#endif
