/*
 * The stack protector's canary (-fstack-protector-strong): each image
 * takes a fresh one from the entropy pool when it starts, before any core
 * but the first runs. The functions that set it (hv_main, hv_update_main)
 * are built without the protector, since their own frames predate it.
 */
#ifndef CORE_STACK_GUARD_H
#define CORE_STACK_GUARD_H

#define NO_STACK_PROTECTOR __attribute__((no_stack_protector))

void stack_guard_init(void);

#endif
