/* Checks of the running machine that the boot log and the shell report:
 * an IPI round trip between every pair of cores and a timer interrupt on
 * every core. They exercise the real GIC and timer paths. */
#ifndef CORE_SELFTEST_H
#define CORE_SELFTEST_H

#include <stdbool.h>

/* Each returns the number of failures and prints one line per check. */
int selftest_ipi(bool verbose);
int selftest_timer(bool verbose);
void selftest_register_timer(void);
void selftest_enable_timer(void);

#endif
