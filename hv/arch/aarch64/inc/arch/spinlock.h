/* Ticket spinlock: fair between cores, so no core can starve the console. */
#ifndef ARCH_SPINLOCK_H
#define ARCH_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
	volatile uint32_t next;
	volatile uint32_t owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock(spinlock_t *lock)
{
	uint32_t ticket = __atomic_fetch_add(&lock->next, 1, __ATOMIC_ACQUIRE);

	while (__atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE) != ticket)
		__asm__ volatile("yield");
}

/* Gives up after `spins` attempts; used where a dead owner must not hang us. */
static inline bool spin_lock_timeout(spinlock_t *lock, unsigned long spins)
{
	uint32_t owner;

	while (spins--) {
		owner = __atomic_load_n(&lock->owner, __ATOMIC_ACQUIRE);
		uint32_t expected = owner;
		if (__atomic_compare_exchange_n(&lock->next, &expected, owner + 1,
						false, __ATOMIC_ACQUIRE,
						__ATOMIC_RELAXED))
			return true;
		__asm__ volatile("yield");
	}
	return false;
}

static inline void spin_unlock(spinlock_t *lock)
{
	__atomic_store_n(&lock->owner, lock->owner + 1, __ATOMIC_RELEASE);
}

#endif
