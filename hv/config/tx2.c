/*
 * The management VM of the Jetson TX2 (docs/BOARDS.md). It owns core 0 (a Denver core),
 * 512 MiB of identity-mapped RAM, and the MMIO below 2 GiB but the GIC
 * (and its ITS), with the interrupts of the devices listed below. Its device
 * tree is the board's own, cut down by tools/mvm-dtb to what this file
 * gives it; the boot script (same tool) loads everything at the addresses
 * here.
 */
#include "mvm_layout.h"

#define MVM_RAM_BASE 0x90000000UL
#define MVM_RAM_SIZE 0x20000000UL
#define GIC_BASE 0x03880000UL
#define GIC_END 0x03888000UL
#define SPI(n) (32 + (n))
/* The MVM's port on the hypervisor's switch: an IPA nothing else uses. */
#define MVM_NET_BASE 0xc0000000UL
#define MVM_NET_INTID SPI(200)

const struct vm_config mvm_config = {
	.name = "mvm",
	.type = VM_T_LINUX,
	.cmdline = "console=ttyS0,115200 rdinit=/init",
	.cpu_bitmap = 0x1,
	.nr_vcpus = 1,
	.master = 0,
	MVM_RAM(MVM_RAM_BASE, MVM_RAM_SIZE),
	.gicd_ipa = GIC_BASE + 0x1000,
	.gicc_ipa = GIC_BASE + 0x2000,
	.gicr_ipa = GIC_BASE + 0x80000,
	.pt = {
		{ .pa = 0x0UL, .ipa = 0x0UL, .size = GIC_BASE },
		{ .pa = GIC_END, .ipa = GIC_END, .size = 0x80000000UL - GIC_END },
	},
	.nr_pt = 2,
	.pt_irqs = {
		/* UARTA (console) */
		144,
		/* SDMMC1, SDMMC3, SDMMC4 */
		94, 96, 97,
		/* EQOS ethernet */
		218, 219, 220, 221, 222, 223, 224, 225, 226, 227,
		/* SATA, USB (XUSB, padctl), PCIe */
		229, 195, 196, 198, 199, 104, 105,
		/* GPIO */
		79, 82, 85, 88, 91, 212, 92,
		/* HSP mailbox (the BPMP: clocks, resets, power) */
		208,
		/* timers */
		32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
		/* I2C */
		57, 58, 59, 60, 63, 64, 65,
	},
	.nr_pt_irqs = 46,
	MVM_SWITCH_PORT(MVM_NET_BASE, MVM_NET_INTID),
	.trap_wfi = false,
	.notify = true,
	.dtb_given = true,
};
