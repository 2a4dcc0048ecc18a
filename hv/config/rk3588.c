/*
 * The management VM of the RK3588 boards (docs/BOARDS.md). It owns core 0 (a Cortex-A55),
 * 512 MiB of identity-mapped RAM, and the I/O window and PCIe but the GIC
 * (and its ITS), with the interrupts of the devices listed below. Its device
 * tree is the board's own, cut down by tools/mvm-dtb to what this file
 * gives it; the boot script (same tool) loads everything at the addresses
 * here.
 */
#include "mvm_layout.h"

#define MVM_RAM_BASE 0x10000000UL
#define MVM_RAM_SIZE 0x20000000UL
#define GIC_BASE 0xfe600000UL
#define GIC_END 0xfe780000UL
#define SPI(n) (32 + (n))
/* The MVM's port on the hypervisor's switch: an IPA nothing else uses. */
#define MVM_NET_BASE 0xe0000000UL
#define MVM_NET_INTID SPI(200)

const struct vm_config mvm_config = {
	.name = "mvm",
	.type = VM_T_LINUX,
	.cmdline = "console=ttyS2,1500000 rdinit=/init",
	.cpu_bitmap = 0x1,
	.nr_vcpus = 1,
	.master = 0,
	MVM_RAM(MVM_RAM_BASE, MVM_RAM_SIZE),
	.gicd_ipa = GIC_BASE,
	.gicc_ipa = 0,
	.gicr_ipa = GIC_BASE + 0x80000,
	.pt = {
		{ .pa = 0xf0000000UL, .ipa = 0xf0000000UL, .size = GIC_BASE - 0xf0000000UL },
		{ .pa = GIC_END, .ipa = GIC_END, .size = 0x100000000UL - GIC_END },
		{ .pa = 0xa00000000UL, .ipa = 0xa00000000UL, .size = 0x80000000UL },
	},
	.nr_pt = 3,
	.pt_irqs = {
		/* UART2 (console) */
		365,
		/* eMMC, SD */
		235, 237,
		/* GMAC ethernet */
		265, 266,
		/* PCIe 2.0 x1 (the ROCK 5A's NIC), USB */
		281, 282, 283, 284, 285, 247, 248, 250, 251, 252, 254,
		/* GPIO */
		309, 310, 311, 312, 313,
		/* DMA */
		118, 119, 120, 121, 122, 123,
		/* I2C, SPI, I2S */
		349, 351, 352, 354, 356, 360, 212,
		/* timer, watchdog, DDR monitor */
		321, 347, 60, 70, 80, 90,
		/* TSADC, SARADC */
		429, 430,
	},
	.nr_pt_irqs = 42,
	MVM_SWITCH_PORT(MVM_NET_BASE, MVM_NET_INTID),
	.trap_wfi = false,
	.notify = true,
	.dtb_given = true,
};
