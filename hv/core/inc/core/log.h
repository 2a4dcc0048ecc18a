/* Console logging with levels and a per-core prefix. */
#ifndef CORE_LOG_H
#define CORE_LOG_H

enum log_level {
	LOG_ERR = 0,
	LOG_WARN,
	LOG_INFO,
	LOG_DEBUG,
};

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Plain output, no prefix: shell replies. */
void con_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Used on the panic path: never waits for the console lock for long. */
void log_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
