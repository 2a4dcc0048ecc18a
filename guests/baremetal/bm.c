/* Support for the bare-metal guests: see bm.h. */
#include "bm.h"

#define UART_DR 0x000
#define UART_FR 0x018
#define UART_FR_TXFF (1U << 5)

static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" : : "r"(v), "r"(addr) : "memory");
}

static inline uint32_t mmio_read32(uintptr_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

#define read_sysreg(r) ({						\
	uint64_t __v;							\
	__asm__ volatile("mrs %0, " #r : "=r"(__v));			\
	__v;								\
})
#define write_sysreg(r, v) __asm__ volatile("msr " #r ", %0" : : "r"((uint64_t)(v)))

static void uart_raw(char c)
{
	while (mmio_read32(BM_UART_BASE + UART_FR) & UART_FR_TXFF)
		;
	mmio_write32(BM_UART_BASE + UART_DR, (uint8_t)c);
}

void bm_putc(char c)
{
	if (c == '\n')
		uart_raw('\r');
	uart_raw(c);
}

void bm_puts(const char *s)
{
	while (*s)
		bm_putc(*s++);
}

static void put_unsigned(uint64_t v, unsigned base)
{
	char buf[24];
	unsigned n = 0;

	do {
		unsigned d = v % base;

		buf[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (n)
		bm_putc(buf[--n]);
}

void bm_vprintf(const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		bool l = false;
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			bm_putc(*fmt);
			continue;
		}
		if (*++fmt == 'l') {
			l = true;
			fmt++;
		}
		switch (*fmt) {
		case 's': {
			const char *str = va_arg(ap, const char *);

			bm_puts(str ? str : "(null)");
			break;
		}
		case 'c':
			bm_putc((char)va_arg(ap, int));
			break;
		case 'd':
			s = l ? va_arg(ap, int64_t) : va_arg(ap, int);
			if (s < 0) {
				bm_putc('-');
				u = -(uint64_t)s;
			} else {
				u = (uint64_t)s;
			}
			put_unsigned(u, 10);
			break;
		case 'u':
		case 'x':
			u = l ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
			put_unsigned(u, *fmt == 'u' ? 10 : 16);
			break;
		case '%':
			bm_putc('%');
			break;
		case '\0':
			return;
		default:
			bm_putc('%');
			bm_putc(*fmt);
			break;
		}
	}
}

void bm_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	bm_vprintf(fmt, ap);
	va_end(ap);
}

/* Set by start.S once bss is zeroed. */
uint64_t bm_boot_x0;

int64_t bm_cpu_on(uint64_t mpidr, struct bm_secondary *s)
{
	return (int64_t)bm_hvc(PSCI_CPU_ON_64, mpidr, (uint64_t)(uintptr_t)bm_secondary_entry,
			       (uint64_t)(uintptr_t)s, 0, 0, 0).x0;
}

void bm_system_off(void)
{
	bm_hvc0(PSCI_SYSTEM_OFF);
	bm_printf("%s: SYSTEM_OFF returned\n", bm_name);
	bm_park();
}

/* Written by the exception handler, read by the program: volatile. */
static volatile bool fault_armed;
static volatile struct bm_fault fault_rec;
static volatile bool in_fatal;

void bm_fault_expect(void)
{
	fault_rec.taken = false;
	fault_rec.esr = fault_rec.far = fault_rec.elr = 0;
	fault_armed = true;
}

struct bm_fault bm_fault_result(void)
{
	struct bm_fault r;

	fault_armed = false;
	r.taken = fault_rec.taken;
	r.esr = fault_rec.esr;
	r.far = fault_rec.far;
	r.elr = fault_rec.elr;
	return r;
}

static const char *const vector_names[16] = {
	"sync (EL1t)", "IRQ (EL1t)", "FIQ (EL1t)", "SError (EL1t)",
	"sync (EL1h)", "IRQ (EL1h)", "FIQ (EL1h)", "SError (EL1h)",
	"sync (EL0, AArch64)", "IRQ (EL0, AArch64)", "FIQ (EL0, AArch64)",
	"SError (EL0, AArch64)", "sync (EL0, AArch32)", "IRQ (EL0, AArch32)",
	"FIQ (EL0, AArch32)", "SError (EL0, AArch32)",
};

#define VEC_IRQ_EL1T 1
#define VEC_SYNC_EL1H 4
#define VEC_IRQ_EL1H 5

void (*volatile bm_irq_handler)(void);

/* Called by every exception vector (start.S) with its index. */
void bm_exception(unsigned kind);
void bm_exception(unsigned kind)
{
	void (*irq)(void) = bm_irq_handler;

	if ((kind == VEC_IRQ_EL1H || kind == VEC_IRQ_EL1T) && irq) {
		irq();
		return;
	}

	uint64_t esr = read_sysreg(esr_el1);
	uint64_t far = read_sysreg(far_el1);
	uint64_t elr = read_sysreg(elr_el1);

	if (kind == VEC_SYNC_EL1H && fault_armed) {
		fault_armed = false;
		fault_rec.esr = esr;
		fault_rec.far = far;
		fault_rec.elr = elr;
		fault_rec.taken = true;
		write_sysreg(elr_el1, elr + 4);
		return;
	}
	if (in_fatal)
		bm_park();
	in_fatal = true;
	bm_printf("%s: unexpected exception: %s, ESR_EL1 0x%lx ELR_EL1 0x%lx FAR_EL1 0x%lx\n",
		  bm_name, kind < 16 ? vector_names[kind] : "?", esr, elr, far);
	bm_system_off();
}

/* The compiler may call these for struct copies and initialisations. */
void *memset(void *s, int c, size_t n)
{
	volatile unsigned char *p = s;

	while (n--)
		*p++ = (unsigned char)c;
	return s;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	volatile unsigned char *d = dst;
	const volatile unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}
