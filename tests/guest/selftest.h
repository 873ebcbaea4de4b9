/*
 * selftest.h - Kiln's tiny in-guest test harness.
 *
 * No test library runs freestanding, so the guest self-test image has its
 * own: each SELFTEST(name) { ... } body is placed in a linker section and
 * run in order by tests/guest/main.c on the boot core, inside a task (so
 * tests may sleep and wait). ST_CHECK records a failure and goes on;
 * ST_REQUIRE also ends the test. The report is TAP-like on the serial
 * console ("ok 3 - page_alloc", "not ok 4 - timers: ..."), then one line
 * "selftest: N passed, N failed", and the VM exits with 0 or 1.
 *
 * Tests that must end the machine (expected faults) are selected by the
 * command line word "fault=<name>" and are not part of the normal run.
 */
#ifndef KILN_SELFTEST_H
#define KILN_SELFTEST_H

#include <kiln/kiln.h>

struct selftest {
	const char *name;
	void (*fn)(void);
};

#define SELFTEST(name_)                                                   \
	static void selftest_##name_(void);                               \
	static const struct selftest __selftest_##name_                   \
	__attribute__((used, section(".kiln_selftest"), aligned(8))) = {  \
		#name_, selftest_##name_ };                               \
	static void selftest_##name_(void)

void selftest_fail(const char *file, int line, const char *expr);

#define ST_CHECK(cond)                                                    \
	do {                                                              \
		if (!(cond))                                              \
			selftest_fail(__FILE__, __LINE__, #cond);         \
	} while (0)

#define ST_REQUIRE(cond)                                                  \
	do {                                                              \
		if (!(cond)) {                                            \
			selftest_fail(__FILE__, __LINE__, #cond);         \
			return;                                           \
		}                                                         \
	} while (0)

#endif
