/*
 * log.c - the console log: levels, timestamps since boot, raw kprintf.
 *
 * Interface: include/kiln/log.h. Each line is formatted into a small
 * stack buffer and written to the console in one call, so lines from
 * different places never interleave mid-line. Lines longer than the
 * buffer are cut and marked with "...". Loop context only (not from
 * interrupt handlers).
 */
#include <stdarg.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/fmt.h>
#include <kiln/log.h>
#include <kiln/time.h>

#define LINE_MAX 256

static enum log_level log_level = LOG_INFO;

void log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level log_get_level(void)
{
	return log_level;
}

void vklog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warn ", "info ", "debug" };
	char line[LINE_MAX];

	if (level > log_level)
		return;
	uint64_t now = time_now_ns();
	int n = ksnprintf(line, sizeof line, "[%5lu.%06lu] %s ", (unsigned long)(now / NS_PER_SEC),
			  (unsigned long)(now % NS_PER_SEC / 1000), names[level]);
	int m = kvsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	size_t len = (size_t)n + (size_t)m;
	if (len > sizeof line - 2) {
		len = sizeof line - 2;
		memcpy(line + len - 3, "...", 3);
	}
	line[len++] = '\n';
	arch_console_write(line, len);
}

void klog(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

static void console_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	arch_console_write(s, n);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvformat(console_sink, NULL, fmt, ap);
	va_end(ap);
}
