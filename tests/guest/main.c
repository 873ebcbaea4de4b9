/*
 * main.c - the in-guest self-test runner (see selftest.h).
 *
 * app_main() spawns one task that runs every SELFTEST in link order and
 * prints a TAP-like report, then exits the VM: status 0 when all passed,
 * 1 otherwise. Booted with fault=<name>, it instead provokes that fault
 * (tests/guest/faults.c) and the fault report ends the VM; the host-side
 * runner (tests/guest/run.sh) checks the report.
 */
#include <string.h>

#include "selftest.h"

extern const struct selftest __selftest_start[], __selftest_end[];

static char fault_name[32];
CMDLINE_OPTION(fault, .key = "fault", .type = CMDLINE_STR, .value = fault_name,
	       .size = sizeof fault_name,
	       .help = "provoke a fault instead of testing: text, null, stack, panic, canary");

static unsigned current_failures;
static const char *current_name;

void selftest_fail(const char *file, int line, const char *expr)
{
	current_failures++;
	kprintf("# %s: check failed at %s:%d: %s\n", current_name, file, line, expr);
}

void selftest_fault(const char *name);

static void run_all(void *arg)
{
	unsigned passed = 0, failed = 0, n = 0;
	unsigned total = (unsigned)(__selftest_end - __selftest_start);

	(void)arg;
	kprintf("1..%u\n", total);
	for (const struct selftest *t = __selftest_start; t < __selftest_end; t++) {
		current_name = t->name;
		current_failures = 0;
		uint64_t t0 = time_now_ns();
		t->fn();
		uint64_t us = (time_now_ns() - t0) / 1000;
		n++;
		if (current_failures) {
			failed++;
			kprintf("not ok %u - %s (%u failed checks, %lu us)\n", n, t->name,
				current_failures, (unsigned long)us);
		} else {
			passed++;
			kprintf("ok %u - %s (%lu us)\n", n, t->name, (unsigned long)us);
		}
	}
	kprintf("selftest: %u passed, %u failed\n", passed, failed);
	kiln_exit(failed ? 1 : 0);
}

void app_main(void)
{
	if (fault_name[0]) {
		selftest_fault(fault_name);
		return;
	}
	if (!task_spawn(run_all, NULL, TASK_STACK_DEFAULT, "selftest"))
		panic("selftest: cannot spawn the runner task");
}
