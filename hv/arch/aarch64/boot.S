/*
 * Entry from the boot loader (QEMU's direct kernel boot, U-Boot booti) at EL2
 * with the MMU off and x0 = physical address of the board device tree, and
 * entry of secondary cores started through PSCI CPU_ON with x0 = core index.
 */
#include <arch/asm.h>

	.section .text.head, "ax"
	.global _start
_start:
	/* arm64 Image header (Documentation/arch/arm64/booting.rst). */
	b	primary_entry
	.long	0
	.quad	IMAGE_TEXT_OFFSET		/* text_offset */
	.quad	_image_size			/* image_size, non-zero */
	.quad	IMAGE_FLAGS			/* LE, 4K pages */
	.quad	0, 0, 0
	.ascii	"ARM\x64"			/* magic */
	.long	0

primary_entry:
	msr	daifset, #0xf
	mov	x19, x0				/* board device tree */

	mrs	x1, CurrentEL
	cmp	x1, #CURRENTEL_EL2
	b.ne	not_el2

	/* The image must run where it was linked: its page tables say so. */
	adr	x1, _start
	ldr	x2, =_start
	cmp	x1, x2
	b.ne	wrong_address

	/* Zero .bss (it holds the stacks) before anything uses it. */
	ldr	x1, =_bss_start
	ldr	x2, =_bss_end
1:	cmp	x1, x2
	b.hs	2f
	stp	xzr, xzr, [x1], #16
	b	1b
2:
	mov	x20, #0				/* the boot core is core 0 */
	bl	setup_core_el2

	mov	x0, x19
	bl	mmu_build_boot_tables
	bl	mmu_enable

	mov	x0, x19
	bl	hv_main
	b	halt

	.global secondary_entry
secondary_entry:
	msr	daifset, #0xf
	mov	x20, x0				/* core index from CPU_ON */
	bl	setup_core_el2
	bl	mmu_enable
	mov	x0, x20
	bl	hv_secondary_main
	b	halt

/* x20 = core index. Sets the stack, vectors and EL2 control bits. Keeps x19. */
setup_core_el2:
	ldr	x1, =hv_stacks
	add	x2, x20, #1
	mov	x3, #HV_STACK_SIZE
	madd	x1, x2, x3, x1
	mov	sp, x1
	mov	x29, #0				/* ends backtraces */
	ldr	x1, =el2_vectors
	msr	vbar_el2, x1
	/* SCTLR_EL2 with MMU and caches off, RES1 bits set, SP alignment check on. */
	ldr	x1, =SCTLR_EL2_BOOT
	msr	sctlr_el2, x1
	/* Route physical IRQ/FIQ/SError to EL2, else EL2 never takes them. */
	ldr	x1, =HCR_EL2_BOOT
	msr	hcr_el2, x1
	isb
	ret

not_el2:
wrong_address:
	/*
	 * Nothing is set up yet, so say it on the early UART by hand:
	 * a boot loader that enters at EL1, or loads us at another address,
	 * must not leave the user with a silent board.
	 */
	adr	x1, boot_error_msg
	ldr	x2, =PLAT_EARLY_UART_BASE
3:	ldrb	w3, [x1], #1
	cbz	w3, halt
	strb	w3, [x2]
	b	3b

	.global halt
halt:
	msr	daifset, #0xf
4:	wfi
	b	4b

	.section .rodata
boot_error_msg:
	.asciz	"cshyper: fatal: must be entered at EL2 at its link address 0x40080000 (check -M virt,virtualization=on)\r\n"
