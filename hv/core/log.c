/* Log lines are formatted on the stack, then written whole under the console
 * lock, so lines from different cores never interleave. */
#include <arch/sysreg.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/log.h>
#include <core/state.h>
#include <lib/fmt.h>

#define LOG_LINE_MAX 256

static const char *const level_tag[] = {
	[LOG_ERR] = "error: ",
	[LOG_WARN] = "warning: ",
	[LOG_INFO] = "",
	[LOG_DEBUG] = "debug: ",
};

static size_t format_line(char *buf, size_t size, enum log_level level,
			  const char *fmt, va_list ap)
{
	struct cpu *cpu = this_cpu();
	int n = fmt_snprintf(buf, size, "[cpu%u] %s", cpu ? cpu->id : 0,
			     level_tag[level]);
	int m = fmt_vsnprintf(buf + n, size - n, fmt, ap);
	size_t len = (size_t)n + (size_t)m;

	if (len > size - 2)
		len = size - 2; /* truncated: still end the line */
	buf[len++] = '\n';
	buf[len] = 0;
	return len;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	size_t len;

	if (level > hv.log_level)
		return;
	va_start(ap, fmt);
	len = format_line(buf, sizeof(buf), level, fmt, ap);
	va_end(ap);
	console_write(buf, len);
}

void con_printf(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = fmt_vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	console_write(buf, (size_t)n);
}

void log_panic(const char *fmt, ...)
{
	char buf[LOG_LINE_MAX];
	va_list ap;
	size_t len;
	bool locked;

	va_start(ap, fmt);
	len = format_line(buf, sizeof(buf), LOG_ERR, fmt, ap);
	va_end(ap);
	locked = console_lock_timeout();
	console_write_raw(buf, len);
	if (locked)
		console_unlock();
}

void log_set_level(enum log_level level)
{
	hv.log_level = level;
}

enum log_level log_get_level(void)
{
	return hv.log_level;
}
