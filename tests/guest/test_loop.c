/*
 * test_loop.c - in-guest tests of the per-core run loop (runtime/loop.c).
 *
 * The runner's task lets the loop make passes by yielding or sleeping,
 * then reads the loop's per-core counters. Pollers cannot be removed, so
 * the one registered here stays for the rest of the run and does no work
 * (returns 0) once its test is over, leaving the loop free to halt.
 */
#include <kiln/kiln.h>
#include <kiln/percpu.h>

#include "selftest.h"

static struct loop_stats stats_now(void)
{
	struct loop_stats s;

	loop_get_stats(this_cpu()->cpu, &s);
	return s;
}

/* --- pollers ------------------------------------------------------------ */

static struct {
	uint64_t calls;
	int work_left;        /* calls that still report work */
	int bad_ctx, in_task;
} pl;

static int test_poll(void *ctx)
{
	if (ctx != &pl)
		pl.bad_ctx++;
	if (task_current())
		pl.in_task++;
	pl.calls++;
	if (pl.work_left > 0) {
		pl.work_left--;
		return 1;
	}
	return 0;
}

static struct poller test_poller = { .fn = test_poll, .ctx = &pl, .name = "selftest" };

SELFTEST(loop_poller_called)
{
	static bool registered;
	struct loop_stats s0, s1;
	uint64_t calls0;

	if (!registered) {
		loop_add_poller(&test_poller);
		registered = true;
	}
	s0 = stats_now();
	calls0 = pl.calls;
	for (int i = 0; i < 20; i++)
		task_yield();
	s1 = stats_now();
	/* Each yield lets the loop make at least one pass, and every pass
	 * calls every poller. */
	ST_CHECK(pl.calls - calls0 >= 20);
	ST_CHECK(s1.passes - s0.passes >= 20);
	ST_CHECK(pl.bad_ctx == 0);
	ST_CHECK(pl.in_task == 0);

	/* Work reported by a poller is counted. */
	s0 = stats_now();
	pl.work_left = 5;
	for (int i = 0; i < 10; i++)
		task_yield();
	s1 = stats_now();
	ST_CHECK(pl.work_left == 0);
	ST_CHECK(s1.polls_with_work - s0.polls_with_work == 5);
	ST_CHECK(s1.busy_passes - s0.busy_passes >= 10);

	/* Inside a task, loop_once() yields: the loop makes a pass. */
	s0 = stats_now();
	calls0 = pl.calls;
	for (int i = 0; i < 5; i++)
		ST_CHECK(loop_once() > 0);   /* that pass ran this task: work */
	s1 = stats_now();
	ST_CHECK(pl.calls - calls0 >= 5);
	ST_CHECK(s1.passes - s0.passes >= 5);
	ST_CHECK(s1.tasks_run - s0.tasks_run >= 5);
}

/* --- timers fire from the loop, outside tasks ---------------------------- */

static struct {
	int fired, in_task;
	uint64_t at;
	struct event ev;
} tm;

static void test_timer_fn(struct timer *t, void *arg)
{
	tm.fired++;
	tm.at = time_now_ns();
	if (task_current())
		tm.in_task++;
	/* Loop context may signal: this wakes the waiting test task. */
	event_signal(&tm.ev);
}

SELFTEST(loop_fires_timers)
{
	struct timer t;
	struct loop_stats s0, s1;
	uint64_t t0;

	tm.fired = tm.in_task = 0;
	event_init(&tm.ev);
	timer_init(&t, test_timer_fn, NULL);
	s0 = stats_now();
	t0 = time_now_ns();
	timer_arm_in(&t, 3 * NS_PER_MS);
	int r = event_wait(&tm.ev, 2 * NS_PER_SEC);
	s1 = stats_now();
	timer_cancel(&t);
	ST_CHECK(r == K_OK);
	ST_CHECK(tm.fired == 1);
	ST_CHECK(tm.in_task == 0);
	ST_CHECK(tm.at - t0 >= 3 * NS_PER_MS);
	ST_CHECK(s1.timers_fired - s0.timers_fired >= 1);
}

/* --- idle: the loop halts ------------------------------------------------ */

SELFTEST(loop_halts_when_idle)
{
	struct loop_stats s0, s1;

	/* A kick only postpones one idle check; afterwards the loop halts. */
	loop_kick();
	s0 = stats_now();
	task_sleep_ns(50 * NS_PER_MS);
	s1 = stats_now();
	kprintf("# idle 50 ms: %lu passes, %lu halts, %lu wakeups\n",
		(unsigned long)(s1.passes - s0.passes), (unsigned long)(s1.halts - s0.halts),
		(unsigned long)(s1.wakeups - s0.wakeups));
	ST_CHECK(this_cpu()->kicked == 0);
	ST_CHECK(s1.halts - s0.halts >= 1);
	ST_CHECK(s1.wakeups - s0.wakeups >= 1);
	/* Halting, not spinning: a spinning loop makes thousands of passes
	 * in 50 ms even under TCG. */
	ST_CHECK(s1.passes - s0.passes < 2000);
	ST_CHECK(s1.tasks_run - s0.tasks_run >= 1);
}
