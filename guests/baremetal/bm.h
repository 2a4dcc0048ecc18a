/*
 * Support for the bare-metal guests (guests/baremetal/): PL011 output, a tiny
 * printf, SMCCC calls over HVC, EL1 exception handling. They run at EL1 with
 * the MMU off, so every data access is to Device memory: keep them aligned.
 */
#ifndef BM_H
#define BM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The QEMU virt PL011 (a guest gets an emulated one at the same IPA). */
#define BM_UART_BASE 0x09000000UL

/* PSCI 1.1 (DEN0022) and SMCCC (DEN0028) function ids and return codes. */
#define PSCI_VERSION 0x84000000U
#define PSCI_CPU_ON_64 0xc4000003U
#define PSCI_AFFINITY_INFO_64 0xc4000004U
#define PSCI_SYSTEM_OFF 0x84000008U
#define PSCI_SUCCESS 0L
#define PSCI_NOT_SUPPORTED (-1L)
#define PSCI_INVALID_PARAMETERS (-2L)
#define SMCCC_VERSION 0x80000000U
#define SMCCC_NOT_SUPPORTED (-1L)

/* ESR_EL1 fields. */
#define ESR_EC(esr) (((esr) >> 26) & 0x3f)
#define ESR_EC_DABT_CUR 0x25
#define ESR_DFSC(esr) ((esr) & 0x3f)
#define DFSC_SYNC_EXTERNAL 0x10

/* The program's name, the prefix of every line it prints (the program defines it). */
extern const char bm_name[];

void bm_putc(char c);
void bm_puts(const char *s);
/* %s %c %d %u %x, with l for 64 bits (%ld %lu %lx), and %%. */
void bm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bm_vprintf(const char *fmt, va_list ap);

struct bm_smccc_res {
	uint64_t x0, x1, x2, x3;
};

/*
 * One SMCCC call with HVC #0: x0 function id, x1..x6 arguments; results in
 * x0..x3. SMCCC 1.1 preserves x4..x17, 1.0 did not: treat them all as lost.
 */
static inline struct bm_smccc_res bm_hvc(uint64_t fid, uint64_t a1, uint64_t a2,
					 uint64_t a3, uint64_t a4, uint64_t a5,
					 uint64_t a6)
{
	register uint64_t x0 __asm__("x0") = fid;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	register uint64_t x4 __asm__("x4") = a4;
	register uint64_t x5 __asm__("x5") = a5;
	register uint64_t x6 __asm__("x6") = a6;

	__asm__ volatile("hvc #0"
			 : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3), "+r"(x4), "+r"(x5),
			   "+r"(x6)
			 :
			 : "x7", "x8", "x9", "x10", "x11", "x12", "x13", "x14", "x15",
			   "x16", "x17", "memory");
	return (struct bm_smccc_res){ x0, x1, x2, x3 };
}

static inline uint64_t bm_hvc0(uint64_t fid)
{
	return bm_hvc(fid, 0, 0, 0, 0, 0, 0).x0;
}

/* x0 at entry: the device tree's address (the Linux boot protocol). */
extern uint64_t bm_boot_x0;

/*
 * Secondary vCPUs: bm_cpu_on() powers on the vCPU with that MPIDR through
 * PSCI CPU_ON; it starts at bm_secondary_entry (start.S) on s->stack_top
 * with the exception vectors installed and calls s->fn(s->arg). The layout
 * is read by start.S: keep the three fields first and in this order.
 */
struct bm_secondary {
	uint64_t stack_top;
	void (*fn)(void *arg);
	void *arg;
};

void bm_secondary_entry(void);
/* The PSCI return code of CPU_ON. */
int64_t bm_cpu_on(uint64_t mpidr, struct bm_secondary *s);

/* PSCI SYSTEM_OFF; if that returns, say so and park. */
void __attribute__((noreturn)) bm_system_off(void);

/* Parks the calling CPU for good (start.S); also a harmless CPU_ON entry. */
void __attribute__((noreturn)) bm_park(void);

/*
 * Expected synchronous exceptions: after bm_fault_expect(), the next
 * synchronous exception taken at EL1 is recorded, the faulting instruction
 * skipped (ELR_EL1 += 4) and execution goes on. Any other exception is
 * reported and powers the machine (or VM) off.
 */
struct bm_fault {
	bool taken;
	uint64_t esr, far, elr;
};

void bm_fault_expect(void);
/* Disarms and returns what was recorded (taken false: nothing happened). */
struct bm_fault bm_fault_result(void);

/*
 * Interrupts: if set, an IRQ taken at EL1 calls it (registers saved, IRQs
 * masked) and returns to the interrupted code; unset, an IRQ is reported
 * like any other unexpected exception.
 */
extern void (*volatile bm_irq_handler)(void);

/* One 64-bit load at bm_probe_load_insn (start.S); if it faults and is
 * skipped, returns sentinel. */
uint64_t bm_probe_load(uint64_t addr, uint64_t sentinel);
extern const char bm_probe_load_insn[];

void *memset(void *s, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);

#endif
