/*
 * log.h - leveled logging with timestamps since boot.
 *
 * Lines go to the console (serial in the guest, stderr when hosted) as
 *   [    0.012345] info  net: link up
 * The level threshold comes from the command line (log=debug|info|warn|error).
 * klog() never allocates and may be called from any loop context; it must
 * not be called from interrupt handlers.
 */
#ifndef KILN_LOG_H
#define KILN_LOG_H

#include <stdarg.h>

enum log_level { LOG_ERROR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

void klog(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void vklog(enum log_level level, const char *fmt, va_list ap);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parses "error", "warn", "info" or "debug"; returns K_EINVAL otherwise. */
int log_level_parse(const char *name, enum log_level *out);

/* Raw console output with no prefix (banners, test reports). */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_error(...) klog(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  klog(LOG_WARN, __VA_ARGS__)
#define log_info(...)  klog(LOG_INFO, __VA_ARGS__)
#define log_debug(...) klog(LOG_DEBUG, __VA_ARGS__)

#endif
