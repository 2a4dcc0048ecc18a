/*
 * Entry from the boot loader (QEMU's direct kernel boot, U-Boot booti) at EL2
 * with the MMU off and x0 = physical address of the board device tree, and
 * entry of secondary cores started through PSCI CPU_ON with x0 = core index.
 */
#include <arch/asm.h>
#include <core/state_version.h>
#include <shyper/image.h>

/* x<reg> = the address of <sym> where the image runs (it is position
 * independent: linked at 0, loaded anywhere 4 KiB aligned). */
.macro adr_l reg, sym
	adrp	\reg, \sym
	add	\reg, \reg, :lo12:\sym
.endm

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

	/* struct shyper_image_info (shyper/image.h) at offset 64. */
	.long	SHYPER_IMAGE_MAGIC
	.long	SHYPER_IMAGE_INFO_SIZE
	.long	SHYPER_ARCH_AARCH64
	.long	SHYPER_ABI_VERSION
	.long	HV_STATE_VERSION
	.long	HV_STATE_OLDEST
	.quad	_image_file_size
	.quad	_image_size
	.quad	_update_entry_offset
	.quad	_secondary_update_entry_offset
1:	.asciz	PLAT_NAME
	.org	1b + SHYPER_IMAGE_BOARD_MAX
2:	.asciz	HV_VERSION_STRING
	.org	2b + SHYPER_IMAGE_VERSION_MAX
	.fill	32, 1, 0			/* sha256, stamped after linking */

primary_entry:
	msr	daifset, #0xf
	mov	x19, x0				/* board device tree */

	mrs	x1, CurrentEL
	cmp	x1, #CURRENTEL_EL2
	b.ne	not_el2

	/* Anywhere in RAM but 4 KiB aligned: adrp counts in pages. */
	adr	x1, _start
	tst	x1, #0xfff
	b.ne	wrong_address

	bl	relocate_and_clear
	mov	x20, #0				/* the boot core is core 0 */
	bl	setup_core_el2

	mov	x0, x19
	bl	mmu_build_boot_tables
	bl	mmu_enable

	mov	x0, x19
	bl	hv_main
	b	halt

/*
 * Live update (core/update_switch.c): the running image jumps here with the
 * MMU on (its identity map covers every RAM), interrupts masked, x0 = the
 * state root. This image's own stack, relocations and .bss come first.
 */
	.global update_entry
update_entry:
	msr	daifset, #0xf
	mov	x19, x0
	bl	relocate_and_clear
	mov	x20, #0
	bl	setup_core_el2_mmu_on
	mov	x0, x19
	bl	hv_update_main
	b	halt

/* The other cores, released by the boot core once it runs here: x0 = core
 * index. Relocations and .bss are done; the new page tables are built. */
	.global secondary_update_entry
secondary_update_entry:
	msr	daifset, #0xf
	mov	x20, x0
	bl	setup_core_el2_mmu_on
	bl	mmu_switch_tables
	mov	x0, x20
	bl	hv_update_secondary_main
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

/*
 * Applies the image's R_AARCH64_RELATIVE relocations for where it runs
 * (each sets a word to load address + addend, so applying them again is
 * harmless), then zeroes .bss (stacks included). Keeps x19 and x20.
 */
relocate_and_clear:
	adr	x1, _start			/* load address = link offset */
	adr_l	x2, __rela_start
	adr_l	x3, __rela_end
1:	cmp	x2, x3
	b.hs	3f
	ldp	x4, x5, [x2], #24		/* r_offset, r_info */
	ldr	x6, [x2, #-8]			/* r_addend */
	cbz	x5, 1b				/* R_AARCH64_NONE */
	cmp	x5, #R_AARCH64_RELATIVE
	b.ne	wrong_address			/* the linker emitted another kind */
	add	x6, x6, x1
	str	x6, [x4, x1]
	b	1b
3:	adr_l	x2, _bss_start
	adr_l	x3, _bss_end
4:	cmp	x2, x3
	b.hs	5f
	stp	xzr, xzr, [x2], #16
	b	4b
5:	ret

/* x20 = core index. Sets the stack, vectors and EL2 control bits. Keeps x19. */
setup_core_el2:
	adr_l	x1, hv_stacks
	add	x2, x20, #1
	mov	x3, #HV_STACK_SIZE
	madd	x1, x2, x3, x1
	mov	sp, x1
	mov	x29, #0				/* ends backtraces */
	adr_l	x1, el2_vectors
	msr	vbar_el2, x1
	/* SCTLR_EL2 with MMU and caches off, RES1 bits set, SP alignment check on. */
	ldr	x1, =SCTLR_EL2_BOOT
	msr	sctlr_el2, x1
	/* Route physical IRQ/FIQ/SError to EL2, else EL2 never takes them. */
	ldr	x1, =HCR_EL2_BOOT
	msr	hcr_el2, x1
	isb
	ret

/* As setup_core_el2, for a core that already runs with the MMU on: SCTLR
 * and HCR stay as they are. */
setup_core_el2_mmu_on:
	adr_l	x1, hv_stacks
	add	x2, x20, #1
	mov	x3, #HV_STACK_SIZE
	madd	x1, x2, x3, x1
	mov	sp, x1
	mov	x29, #0
	adr_l	x1, el2_vectors
	msr	vbar_el2, x1
	isb
	ret

not_el2:
wrong_address:
	/*
	 * Nothing is set up yet, so say it on the early UART by hand:
	 * a boot loader that enters at EL1, or loads us at another address,
	 * must not leave the user with a silent board.
	 */
	adr_l	x1, boot_error_msg
	ldr	x2, =PLAT_EARLY_UART_BASE
3:	ldrb	w3, [x1], #1
	cbz	w3, halt
#if defined(PLAT_UART_NS16550) && PLAT_UART_IO_WIDTH == 4
	str	w3, [x2]			/* a 32-bit-only register bus */
#else
	strb	w3, [x2]
#endif
	b	3b

	.global halt
halt:
	msr	daifset, #0xf
4:	wfi
	b	4b

	.section .rodata
boot_error_msg:
	.asciz	"cshyper: fatal: must be entered at EL2, 4 KiB aligned, from an intact image (check -M virt,virtualization=on)\r\n"
