/*
 * The management VM of the Raspberry Pi 4 (docs/BOARDS.md). It owns core 0,
 * 512 MiB of identity-mapped RAM in the first bank, and the peripherals
 * (everything from 0xfc000000 but the GIC, and the PCIe window behind
 * which the USB controller sits) with the interrupts of the devices listed
 * below. Its device tree is the board's own, cut down by tools/mvm-dtb to
 * what this file gives it; the boot script (same tool) loads everything at
 * the addresses here.
 */
#include "mvm_layout.h"

#define MVM_RAM_BASE 0x10000000UL
#define MVM_RAM_SIZE 0x20000000UL
#define GIC_BASE 0xff840000UL	/* GIC-400: D +0x1000, C +0x2000, H, V */
#define GIC_END 0xff848000UL
#define SPI(n) (32 + (n))
/* The MVM's port on the hypervisor's switch: an IPA nothing else uses. */
#define MVM_NET_BASE 0xf0000000UL
#define MVM_NET_INTID SPI(200)

const struct vm_config mvm_config = {
	.name = "mvm",
	.type = VM_T_LINUX,
	.cmdline = "console=ttyS1,115200 rdinit=/init",
	.cpu_bitmap = 0x1,
	.nr_vcpus = 1,
	.master = 0,
	MVM_RAM(MVM_RAM_BASE, MVM_RAM_SIZE),
	.gicd_ipa = GIC_BASE + 0x1000,
	.gicc_ipa = GIC_BASE + 0x2000,
	.pt = {
		{ .pa = 0xfc000000UL, .ipa = 0xfc000000UL, .size = GIC_BASE - 0xfc000000UL },
		{ .pa = GIC_END, .ipa = GIC_END, .size = 0x100000000UL - GIC_END },
		{ .pa = 0x600000000UL, .ipa = 0x600000000UL, .size = 0x40000000UL },
	},
	.nr_pt = 3,
	.pt_irqs = {
		/* mini UART (console), PL011 */
		125, 153,
		/* EMMC2 and the SD host */
		158,
		/* GENET ethernet */
		189, 190,
		/* PCIe (the USB controller behind it), DWC2 USB */
		179, 180, 105,
		/* GPIO */
		145, 146, 147, 148,
		/* firmware and doorbell mailboxes */
		65, 66,
		/* DMA */
		112, 113, 114, 115, 116, 117, 118, 119, 120,
		/* system timer */
		96, 97, 98, 99,
		/* I2C */
		149,
		/* display pipeline and its interrupt controller */
		106, 107, 128, 129, 133, 141, 142,
	},
	.nr_pt_irqs = 35,
	MVM_SWITCH_PORT(MVM_NET_BASE, MVM_NET_INTID),
	.trap_wfi = false,
	.notify = true,
	.dtb_given = true,
};
