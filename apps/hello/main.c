/*
 * hello - the smallest Kiln app: greets, then logs a heartbeat from a
 * task every five seconds, showing the clock, timers and the idle loop.
 */
#include <kiln/kiln.h>

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
	task_spawn(heartbeat, NULL, TASK_STACK_DEFAULT, "heartbeat");
}
