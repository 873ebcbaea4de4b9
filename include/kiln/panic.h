/*
 * panic.h - broken invariants end the machine, loudly.
 *
 * panic() prints the message, the registers where it is known, and a
 * symbolized backtrace, then exits the VM with a non-zero status (the
 * hosted build aborts). Hostile input must never reach a panic: it is
 * counted, dropped or answered with an error instead.
 */
#ifndef KILN_PANIC_H
#define KILN_PANIC_H

__attribute__((noreturn, format(printf, 1, 2)))
void panic(const char *fmt, ...);

#define KASSERT(cond)                                                     \
	do {                                                              \
		if (__builtin_expect(!(cond), 0))                          \
			panic("assertion failed: %s (%s:%d)", #cond,       \
			      __FILE__, __LINE__);                         \
	} while (0)

#define BUILD_ASSERT(cond) _Static_assert(cond, #cond)

#endif
