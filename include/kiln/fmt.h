/*
 * fmt.h - Kiln's printf-style formatter (freestanding; also hosted).
 *
 * Supports %d %i %u %x %X %o %c %s %p %% with flags '-', '0', '+', ' ',
 * '#', a width and precision (numbers or '*'), and the length modifiers
 * hh h l ll z t j. Unknown conversions are printed literally. No floating
 * point. kvsnprintf() always NUL-terminates when size > 0 and returns the
 * length the full output would have had (like C99 vsnprintf).
 */
#ifndef KILN_FMT_H
#define KILN_FMT_H

#include <stdarg.h>
#include <stddef.h>

/* Sink for kvformat: called with runs of output bytes. */
typedef void (*fmt_sink)(void *ctx, const char *s, size_t n);

size_t kvformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap);
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
