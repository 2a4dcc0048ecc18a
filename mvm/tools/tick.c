/*
 * shyper-tick: a numbered line ("cshyper-tick N") on stdout every
 * millisecond (absolute deadlines, so late ticks do not drift), without a
 * fork per tick: a guest running it stays nearly idle. bench/migrate.py
 * takes the longest gap between ticks, timed by the host as they arrive, as
 * a migration's downtime seen from outside the guest.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
	struct timespec next;
	char line[48];

	clock_gettime(CLOCK_MONOTONIC, &next);
	for (unsigned long n = 1;; n++) {
		int len = snprintf(line, sizeof(line), "cshyper-tick %lu\n", n);

		if (write(STDOUT_FILENO, line, (size_t)len) < 0)
			return 1;
		next.tv_nsec += 1000000;
		if (next.tv_nsec >= 1000000000) {
			next.tv_nsec -= 1000000000;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
}
