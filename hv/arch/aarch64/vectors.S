/*
 * EL2 exception vectors (Arm ARM D1.10.2: 16 entries of 0x80 bytes, 2 KiB
 * aligned). Every entry saves a struct trap_frame on the current stack and
 * calls exception_handle(frame, kind).
 */
#include <arch/asm.h>

.macro save_frame
	sub	sp, sp, #TF_SIZE
	stp	x0, x1, [sp, #0 * 8]
	stp	x2, x3, [sp, #2 * 8]
	stp	x4, x5, [sp, #4 * 8]
	stp	x6, x7, [sp, #6 * 8]
	stp	x8, x9, [sp, #8 * 8]
	stp	x10, x11, [sp, #10 * 8]
	stp	x12, x13, [sp, #12 * 8]
	stp	x14, x15, [sp, #14 * 8]
	stp	x16, x17, [sp, #16 * 8]
	stp	x18, x19, [sp, #18 * 8]
	stp	x20, x21, [sp, #20 * 8]
	stp	x22, x23, [sp, #22 * 8]
	stp	x24, x25, [sp, #24 * 8]
	stp	x26, x27, [sp, #26 * 8]
	stp	x28, x29, [sp, #28 * 8]
	add	x0, sp, #TF_SIZE		/* sp before the exception */
	stp	x30, x0, [sp, #TF_X30]
	mrs	x0, elr_el2
	mrs	x1, spsr_el2
	stp	x0, x1, [sp, #TF_ELR]
	mrs	x0, esr_el2
	mrs	x1, far_el2
	stp	x0, x1, [sp, #TF_ESR]
.endm

.macro restore_frame_and_eret
	ldp	x0, x1, [sp, #TF_ELR]
	msr	elr_el2, x0
	msr	spsr_el2, x1
	ldp	x0, x1, [sp, #0 * 8]
	ldp	x2, x3, [sp, #2 * 8]
	ldp	x4, x5, [sp, #4 * 8]
	ldp	x6, x7, [sp, #6 * 8]
	ldp	x8, x9, [sp, #8 * 8]
	ldp	x10, x11, [sp, #10 * 8]
	ldp	x12, x13, [sp, #12 * 8]
	ldp	x14, x15, [sp, #14 * 8]
	ldp	x16, x17, [sp, #16 * 8]
	ldp	x18, x19, [sp, #18 * 8]
	ldp	x20, x21, [sp, #20 * 8]
	ldp	x22, x23, [sp, #22 * 8]
	ldp	x24, x25, [sp, #24 * 8]
	ldp	x26, x27, [sp, #26 * 8]
	ldp	x28, x29, [sp, #28 * 8]
	ldr	x30, [sp, #TF_X30]
	add	sp, sp, #TF_SIZE
	eret
.endm

.macro vector kind
	.balign 0x80
	save_frame
	mov	x0, sp
	mov	x1, #\kind
	b	exception_entry
.endm

/*
 * The hypervisor's own exceptions: first whether the frame would land in
 * this core's stack guard page (the slots are aligned to HV_STACK_SIZE, so
 * the page is where SP's bits below that size are under HV_STACK_GUARD).
 * No register is free yet: x0 and SP trade values to test without memory.
 * The rest is out of line: an entry holds 32 instructions.
 */
.macro vector_hv kind, name
	.balign 0x80
	sub	sp, sp, #TF_SIZE
	add	sp, sp, x0		/* sp = frame + x0 */
	sub	x0, sp, x0		/* x0 = frame */
	tst	x0, #(HV_STACK_SIZE - HV_STACK_GUARD)
	sub	x0, sp, x0		/* x0 = x0 */
	sub	sp, sp, x0		/* sp = frame */
	b.eq	hv_stack_overflow_entry
	add	sp, sp, #TF_SIZE
	b	hv_entry_\name
.endm

.macro hv_entry kind, name
hv_entry_\name:
	save_frame
	mov	x0, sp
	mov	x1, #\kind
	b	exception_entry
.endm

	.section .text.vectors, "ax"
	.balign 0x800
	.global el2_vectors
el2_vectors:
	/* Current EL with SP_EL0: never used, the hypervisor runs on SP_EL2. */
	vector VEC_FROM_CURRENT + VEC_SYNC + 16
	vector VEC_FROM_CURRENT + VEC_IRQ + 16
	vector VEC_FROM_CURRENT + VEC_FIQ + 16
	vector VEC_FROM_CURRENT + VEC_SERROR + 16
	/* Current EL with SP_EL2: the hypervisor itself. */
	vector_hv VEC_FROM_CURRENT + VEC_SYNC, sync
	vector_hv VEC_FROM_CURRENT + VEC_IRQ, irq
	vector_hv VEC_FROM_CURRENT + VEC_FIQ, fiq
	vector_hv VEC_FROM_CURRENT + VEC_SERROR, serror
	/* Lower EL, AArch64: the guests. Their exits go straight to their C
	 * handlers: they are the hot paths (hypercalls, MMIO, interrupts). */
	.balign 0x80
	save_frame
	mov	x0, sp
	bl	guest_sync_exception
	b	exception_return
	.balign 0x80
	stp	x0, x1, [sp, #-32]!
	b	guest_irq_fast
	vector VEC_FROM_LOWER64 + VEC_FIQ
	vector VEC_FROM_LOWER64 + VEC_SERROR
	/* Lower EL, AArch32: not supported for guests. */
	vector VEC_FROM_LOWER32 + VEC_SYNC
	vector VEC_FROM_LOWER32 + VEC_IRQ
	vector VEC_FROM_LOWER32 + VEC_FIQ
	vector VEC_FROM_LOWER32 + VEC_SERROR

/*
 * A guest's virtual timer fired (GICv3). When its vCPU has a fast list
 * register value (vgic_fast_sync: distributor and timer PPI enabled) and
 * list register 0 is free, hand the interrupt over with the HW bit and
 * return at once: four registers saved, no C. Anything else takes the
 * general path; an interrupt acknowledged here that is not the timer is
 * passed on in cpu->preack.
 */
guest_irq_fast:
	stp	x2, x3, [sp, #16]
	mrs	x2, tpidr_el2
	ldr	x3, [x2, #CPU_VCPU]
	cbz	x3, 2f
	ldr	x1, [x3, #VCPU_FAST_LR]
	cbz	x1, 2f
	mrs	x0, ICH_ELRSR_EL2
	tbz	x0, #0, 2f
	mrs	x0, ICC_HPPIR1_EL1
	cmp	w0, w1			/* the list register's low word is the INTID */
	b.ne	2f
	mrs	x0, ICC_IAR1_EL1
	cmp	w0, w1
	b.ne	1f
	msr	ICH_LR0_EL2, x1
	msr	ICC_EOIR1_EL1, x0	/* priority drop; the guest's EOI deactivates */
	mov	w0, #1
	strb	w0, [x3, #VCPU_VTIMER_ACTIVE]	/* forwarded (vgic_timers_resample) */
	ldr	x0, [x3, #VCPU_FAST_EXITS]
	add	x0, x0, #1
	str	x0, [x3, #VCPU_FAST_EXITS]
	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp], #32
	eret
1:	orr	x0, x0, #(1 << 31)
	str	x0, [x2, #CPU_PREACK]
2:	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp], #32
	save_frame
	mov	x0, sp
	mov	x1, #(VEC_FROM_LOWER64 + VEC_IRQ)

exception_entry:
	bl	exception_handle
exception_return:
	restore_frame_and_eret

	hv_entry VEC_FROM_CURRENT + VEC_SYNC, sync
	hv_entry VEC_FROM_CURRENT + VEC_IRQ, irq
	hv_entry VEC_FROM_CURRENT + VEC_FIQ, fiq
	hv_entry VEC_FROM_CURRENT + VEC_SERROR, serror

/*
 * A frame would have gone into the guard page: this core's stack is spent.
 * The report runs on the core's overflow stack, found from where SP is
 * (its slot index); x0 and x1 are lost to that (ELR, ESR and FAR are not).
 */
hv_stack_overflow_entry:
	adrp	x0, hv_stacks
	add	x0, x0, :lo12:hv_stacks
	sub	x0, sp, x0
	lsr	x0, x0, #15		/* the slot: HV_STACK_SIZE is 2^15 */
	adrp	x1, hv_overflow_stacks
	add	x1, x1, :lo12:hv_overflow_stacks
	add	x0, x0, #1
	add	x1, x1, x0, lsl #13	/* HV_OVERFLOW_STACK_SIZE is 2^13 */
	mov	sp, x1
	save_frame
	mov	x0, sp
	bl	hv_stack_overflow
	b	.

/*
 * vcpu_enter(frame): enter a guest with the registers in `frame`, which sits
 * at the top of this core's stack, where the next exception from the guest
 * will save them again.
 */
	.global vcpu_enter
vcpu_enter:
	mov	sp, x0
	b	exception_return

/* stack_reset_and_call(top, fn): abandon this stack and run fn() on it anew. */
	.global stack_reset_and_call
stack_reset_and_call:
	mov	sp, x0
	mov	x29, #0
	br	x1
