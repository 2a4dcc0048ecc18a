/*
 * The management VM of the QEMU virt board, started by the hypervisor at
 * boot (Rust-Shyper keeps the same in src/config/qemu_def.rs). It owns core 0,
 * 256 MiB of identity-mapped RAM, the PL011 and all 32 virtio-mmio transports
 * with their interrupts. QEMU loads its kernel into that RAM
 * (-device loader,file=Image,addr=0x50000000,force-raw=on) and its initramfs
 * with -initrd; see scripts/run-qemu.sh.
 */
#include "mvm_layout.h"

/* hv/config/qemu-uboot.c: the same MVM with a tree made at build time. */
#ifndef MVM_DTB_GIVEN
#define MVM_DTB_GIVEN false
#endif

#define MVM_RAM_BASE 0x50000000UL
#define MVM_RAM_SIZE 0x10000000UL
#define VIRT_UART_BASE 0x09000000UL
#define VIRT_UART_INTID 33 /* SPI 1 */
#define VIRT_VIRTIO_BASE 0x0a000000UL
#define VIRT_VIRTIO_STRIDE 0x200UL
#define VIRT_VIRTIO_COUNT 32
#define VIRT_VIRTIO_INTID 48 /* SPI 16 onwards */

#define VIRTIO_IRQ(n) (VIRT_VIRTIO_INTID + (n))
/* The MVM's port on the hypervisor's switch (its eth1): an IPA QEMU virt
 * leaves unused, a locally administered MAC, and an SPI none of the MVM's
 * passed-through devices uses (it is injected by the hypervisor only, so
 * the physical line of that number plays no part). */
#define MVM_NET_BASE 0x0b000000UL
#define MVM_NET_INTID 90 /* SPI 58 */

const struct vm_config mvm_config = {
	.name = "mvm",
	.type = VM_T_LINUX,
	.cmdline = "earlycon=pl011,0x09000000 console=ttyAMA0 rdinit=/init",
	.cpu_bitmap = 0x1,
	.nr_vcpus = 1,
	.master = 0,
	MVM_RAM(MVM_RAM_BASE, MVM_RAM_SIZE),
	.gicd_ipa = 0x08000000UL,
	.gicc_ipa = 0x08010000UL,
	.gicr_ipa = 0x080a0000UL,
	.pt = {
		{ .pa = VIRT_UART_BASE, .ipa = VIRT_UART_BASE, .size = 0x1000 },
		{ .pa = VIRT_VIRTIO_BASE, .ipa = VIRT_VIRTIO_BASE,
		  .size = VIRT_VIRTIO_STRIDE * VIRT_VIRTIO_COUNT },
	},
	.nr_pt = 2,
	.pt_irqs = {
		VIRT_UART_INTID,
		VIRTIO_IRQ(0), VIRTIO_IRQ(1), VIRTIO_IRQ(2), VIRTIO_IRQ(3),
		VIRTIO_IRQ(4), VIRTIO_IRQ(5), VIRTIO_IRQ(6), VIRTIO_IRQ(7),
		VIRTIO_IRQ(8), VIRTIO_IRQ(9), VIRTIO_IRQ(10), VIRTIO_IRQ(11),
		VIRTIO_IRQ(12), VIRTIO_IRQ(13), VIRTIO_IRQ(14), VIRTIO_IRQ(15),
		VIRTIO_IRQ(16), VIRTIO_IRQ(17), VIRTIO_IRQ(18), VIRTIO_IRQ(19),
		VIRTIO_IRQ(20), VIRTIO_IRQ(21), VIRTIO_IRQ(22), VIRTIO_IRQ(23),
		VIRTIO_IRQ(24), VIRTIO_IRQ(25), VIRTIO_IRQ(26), VIRTIO_IRQ(27),
		VIRTIO_IRQ(28), VIRTIO_IRQ(29), VIRTIO_IRQ(30), VIRTIO_IRQ(31),
	},
	.nr_pt_irqs = 1 + VIRT_VIRTIO_COUNT,
	.dtb_devs = {
		{ .type = DTB_DEV_PL011, .ipa = VIRT_UART_BASE, .size = 0x1000,
		  .count = 1, .intid = VIRT_UART_INTID },
		{ .type = DTB_DEV_VIRTIO_MMIO, .ipa = VIRT_VIRTIO_BASE,
		  .size = VIRT_VIRTIO_STRIDE, .count = VIRT_VIRTIO_COUNT,
		  .intid = VIRT_VIRTIO_INTID },
	},
	.nr_dtb_devs = 2,
	MVM_SWITCH_PORT(MVM_NET_BASE, MVM_NET_INTID),
	.trap_wfi = false,
	.notify = true,
	.dtb_given = MVM_DTB_GIVEN,
};
