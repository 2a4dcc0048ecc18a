/*
 * Entry of the bare-metal guests: an arm64 Image header (so a loader sees the
 * size with bss), then EL1 set-up: SP_EL1 on a stack in bss, bss zeroed, the
 * exception vectors installed, main() called. The MMU stays off.
 */

	.section .text.head, "ax"
	.globl	_start
_start:
	b	bm_entry		/* code0 */
	.long	0			/* code1 */
	.quad	0x200000		/* text_offset: 2 MiB into RAM at 0x80000000 */
	.quad	_image_size		/* image_size, bss included */
	.quad	0x2			/* flags: little-endian, 4 KiB pages */
	.quad	0, 0, 0			/* res2..res4 */
	.ascii	"ARM\x64"		/* magic */
	.long	0			/* res5 */

bm_entry:
	msr	daifset, #0xf
	msr	spsel, #1
	mov	x19, x0			/* the boot argument: bss zeroing keeps x19 */
	ldr	x0, =bm_stack_top
	mov	sp, x0
	mov	x29, xzr
	mov	x30, xzr

	/* Zero bss 8 bytes at a time: the MMU is off, so keep stores aligned. */
	ldr	x0, =_bss_start
	ldr	x1, =_bss_end
1:	cmp	x0, x1
	b.hs	2f
	str	xzr, [x0], #8
	b	1b
2:
	ldr	x0, =bm_vectors
	msr	vbar_el1, x0
	isb
	/* SError unmasked: a wrongly injected SError is reported, not lost. */
	msr	daifclr, #0x4
	ldr	x0, =bm_boot_x0
	str	x19, [x0]

	bl	main
	b	bm_park

/*
 * A secondary vCPU's PSCI CPU_ON entry (bm_cpu_on): x0 is its struct
 * bm_secondary (context id). Same EL1 set-up as the boot vCPU, its own stack,
 * then fn(arg); if fn returns, the vCPU parks.
 */
	.globl	bm_secondary_entry
bm_secondary_entry:
	msr	daifset, #0xf
	msr	spsel, #1
	ldr	x1, [x0]		/* stack_top */
	mov	sp, x1
	mov	x29, xzr
	mov	x30, xzr
	ldr	x1, =bm_vectors
	msr	vbar_el1, x1
	isb
	msr	daifclr, #0x4
	ldr	x1, [x0, #8]		/* fn */
	ldr	x0, [x0, #16]		/* arg */
	blr	x1
	b	bm_park

/* Where a vCPU goes when it has nothing to do (and any CPU_ON entry point). */
	.text
	.globl	bm_park
bm_park:
	msr	daifset, #0xf
1:	wfi
	b	1b

/*
 * uint64_t bm_probe_load(uint64_t addr, uint64_t sentinel): one 64-bit load
 * from addr at the address bm_probe_load_insn. If it faults and the handler
 * skips it, the sentinel comes back.
 */
	.globl	bm_probe_load
	.globl	bm_probe_load_insn
bm_probe_load:
	mov	x2, x0
	mov	x0, x1
bm_probe_load_insn:
	ldr	x0, [x2]
	ret

/*
 * EL1 exception vectors. Every entry saves x0..x18 and x30 and calls
 * bm_exception(kind), kind = the entry's index (0..15); it may change ELR_EL1.
 */
#define FRAME_SIZE (20 * 8)

.macro ventry kind
	.balign	0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\kind
	b	bm_vector_common
.endm

	.balign	0x800
	.globl	bm_vectors
bm_vectors:
	ventry	0
	ventry	1
	ventry	2
	ventry	3
	ventry	4
	ventry	5
	ventry	6
	ventry	7
	ventry	8
	ventry	9
	ventry	10
	ventry	11
	ventry	12
	ventry	13
	ventry	14
	ventry	15

bm_vector_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x30, [sp, #144]
	bl	bm_exception
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x30, [sp, #144]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME_SIZE
	eret

	.bss
	.balign	16
bm_stack:
	.space	16384
bm_stack_top:
