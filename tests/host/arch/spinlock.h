/*
 * Host stand-in for hv/arch/aarch64/inc/arch/spinlock.h (see sysreg.h
 * here): the same ticket lock, for one thread. Taking a lock that is
 * already held can only be a recursion the hypervisor would hang on, so
 * it aborts instead of spinning.
 */
#ifndef ARCH_SPINLOCK_H
#define ARCH_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

typedef struct {
	volatile uint32_t next;
	volatile uint32_t owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(spinlock_t *lock)
{
	uint32_t ticket = lock->next++;

	if (lock->owner != ticket)
		abort(); /* held: a deadlock on the target */
}

static inline bool spin_lock_timeout(spinlock_t *lock, unsigned long spins)
{
	if (!spins || lock->next != lock->owner)
		return false;
	lock->next++;
	return true;
}

static inline void spin_unlock(spinlock_t *lock)
{
	if (lock->next == lock->owner)
		abort(); /* not held */
	lock->owner++;
}

#endif
