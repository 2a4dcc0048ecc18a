/* Constants shared by the assembly files and C. */
#ifndef ARCH_ASM_H
#define ARCH_ASM_H

#include <plat/platform.h>

/* Each core's stack slot, aligned to its size: its lowest page is a guard
 * (unmapped), so 28 KiB are usable; a core that runs into the guard takes
 * the fault on its overflow stack (vectors.S) and stops with a report. */
#define HV_STACK_SIZE 0x8000
#define HV_STACK_GUARD 0x1000
#define HV_OVERFLOW_STACK_SIZE 0x2000
#define HV_MAX_CPUS 8

/* arm64 Image header: load 512 KiB into a 2 MiB aligned RAM base. */
#define IMAGE_TEXT_OFFSET 0x80000
#define IMAGE_FLAGS 0x2 /* bit 0: little endian, bits 1-2: 4 KiB pages */

#define CURRENTEL_EL2 (2 << 2)

/* The one relocation kind a static position-independent image carries. */
#define R_AARCH64_RELATIVE 1027

/* SCTLR_EL2 (non-VHE): RES1 bits plus SA; M, C and I are set by mmu_enable. */
#define SCTLR_EL2_RES1 0x30c50830
#define SCTLR_EL2_SA (1 << 3)
#define SCTLR_EL2_BOOT (SCTLR_EL2_RES1 | SCTLR_EL2_SA)

/* HCR_EL2 (Arm ARM D19.2.48): EL1 is AArch64; IRQ, FIQ, SError go to EL2. */
#define HCR_EL2_RW (1 << 31)
#define HCR_EL2_AMO (1 << 5)
#define HCR_EL2_IMO (1 << 4)
#define HCR_EL2_FMO (1 << 3)
#define HCR_EL2_BOOT (HCR_EL2_RW | HCR_EL2_AMO | HCR_EL2_IMO | HCR_EL2_FMO)

/* Trap frame layout, see struct trap_frame in arch/exception.h. */
#define TF_X30 (30 * 8)
#define TF_SP (31 * 8)
#define TF_ELR (32 * 8)
#define TF_SPSR (33 * 8)
#define TF_ESR (34 * 8)
#define TF_FAR (35 * 8)
#define TF_SIZE (36 * 8)

/* Offsets the timer fast path reads (checked in vcpu_arch.c). */
#define CPU_VCPU 0
#define CPU_PREACK 8
#define VCPU_FAST_LR 0
#define VCPU_FAST_EXITS 8
#define VCPU_VTIMER_ACTIVE 0x748 /* ctx.vtimer_active */

/* Vector kinds passed to the C handler. */
#define VEC_SYNC 0
#define VEC_IRQ 1
#define VEC_FIQ 2
#define VEC_SERROR 3
#define VEC_FROM_CURRENT 0
#define VEC_FROM_LOWER64 4
#define VEC_FROM_LOWER32 8

#endif
