/*
 * init.c - runs the start-up hooks registered with INIT_EARLY/DRIVER/LATE
 * (include/kiln/init.h), level by level, in link order within a level.
 */
#include <kiln/init.h>
#include <kiln/log.h>

extern const struct initcall __initcall1_start[], __initcall1_end[];
extern const struct initcall __initcall2_start[], __initcall2_end[];
extern const struct initcall __initcall3_start[], __initcall3_end[];

static void run_level(const struct initcall *a, const struct initcall *b)
{
	for (; a < b; a++) {
		log_debug("init: %s", a->name);
		a->fn();
	}
}

void initcalls_run(void)
{
	run_level(__initcall1_start, __initcall1_end);
	run_level(__initcall2_start, __initcall2_end);
	run_level(__initcall3_start, __initcall3_end);
}
