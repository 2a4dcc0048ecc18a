/* Generic timer: the counter, and the EL2 physical timer the hypervisor owns. */
#ifndef ARCH_TIMER_H
#define ARCH_TIMER_H

#include <arch/sysreg.h>
#include <stdint.h>

/* CNTHP_CTL_EL2 bits (Arm ARM D19.12). */
#define CNT_CTL_ENABLE (1UL << 0)
#define CNT_CTL_IMASK (1UL << 1)
#define CNT_CTL_ISTATUS (1UL << 2)

static inline uint64_t timer_freq(void)
{
	return sysreg_read(cntfrq_el0);
}

static inline uint64_t timer_now(void)
{
	isb(); /* do not let the read run ahead of earlier instructions */
	return sysreg_read(cntpct_el0);
}

static inline uint64_t timer_ticks_to_us(uint64_t ticks)
{
	return ticks * 1000000UL / timer_freq();
}

static inline uint64_t timer_us_to_ticks(uint64_t us)
{
	return us * timer_freq() / 1000000UL;
}

/* Fires the EL2 physical timer interrupt at counter value `deadline`. */
static inline void timer_hv_arm(uint64_t deadline)
{
	sysreg_write(cnthp_cval_el2, deadline);
	sysreg_write(cnthp_ctl_el2, CNT_CTL_ENABLE);
	isb();
}

static inline void timer_hv_stop(void)
{
	sysreg_write(cnthp_ctl_el2, 0);
	isb();
}

static inline uint64_t timer_hv_deadline(void)
{
	return sysreg_read(cnthp_cval_el2);
}

#endif
