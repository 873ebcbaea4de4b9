/*
 * loop.h - the per-core run-to-completion loop.
 *
 * Each core runs loop_run() forever: poll every registered poller, run
 * ready tasks, fire due timers; when a whole pass did no work, arm the
 * local timer for the next deadline and halt until an interrupt. All
 * work happens in the loop; interrupt handlers only wake it.
 */
#ifndef KILN_LOOP_H
#define KILN_LOOP_H

#include <stdint.h>

/* Returns how much work it did (0 = nothing to do). */
typedef int (*poll_fn)(void *ctx);

struct poller {
	struct poller *next;
	poll_fn fn;
	void *ctx;
	const char *name;
};

/* Registers p (caller-owned, static lifetime) on the current core. */
void loop_add_poller(struct poller *p);
/* Runs the loop on the current core; never returns. */
/* Once per core at start-up, after the clock and before the core's local
 * timer is armed: sets up what the loop keeps per core (its timer wheel).
 * The kernel's start-up calls it (the hosted runtimes have their own). */
void loop_cpu_init(void);
__attribute__((noreturn)) void loop_run(void);
/* Runs one pass; returns the work done. For tests and boot-time waits. */
int loop_once(void);
/* Asks the loop not to halt on its next idle check (work was queued). */
void loop_kick(void);

struct loop_stats {
	uint64_t passes, busy_passes, halts, polls_with_work;
	uint64_t timers_fired, tasks_run, wakeups;
};
void loop_get_stats(unsigned cpu, struct loop_stats *out);

#endif
