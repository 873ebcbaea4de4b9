/*
 * hello - the smallest Kiln app: greets, then logs a heartbeat from a
 * task every five seconds, showing the clock, timers and the idle loop.
 * With "exit=1" on the command line it ends the VM right after start-up
 * (tools/boottime.pl uses that to time a whole boot).
 */
#include <kiln/kiln.h>

static bool exit_after_boot;
CMDLINE_OPTION(exit, .key = "exit", .type = CMDLINE_BOOL, .value = &exit_after_boot,
	       .help = "exit right after start-up");

static void heartbeat(void *arg)
{
	(void)arg;
	for (unsigned n = 1;; n++) {
		task_sleep_ns(5 * NS_PER_SEC);
		struct mem_stats ms;
		mem_get_stats(&ms);
		log_info("hello: heartbeat %u, up %lu ms, %lu KiB of memory in use", n,
			 (unsigned long)(time_now_ns() / NS_PER_MS),
			 (unsigned long)(ms.used_bytes >> 10));
	}
}

void app_main(void)
{
	log_info("hello: Hello from Kiln!");
	if (exit_after_boot)
		kiln_exit(0);
	if (!task_spawn(heartbeat, NULL, TASK_STACK_DEFAULT, "heartbeat"))
		log_error("hello: cannot start the heartbeat task");
}
