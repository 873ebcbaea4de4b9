/*
 * loop.c - the per-core run-to-completion loop (kiln/loop.h).
 *
 * This is SPEC section 2's "Execution": one loop per core that polls
 * what it owns, runs the work that is due, and halts when idle. A pass
 * (loop_once) does, in order:
 *   1. every registered poller (NIC queues, protocol input, application
 *      handlers and output flushing all hang off pollers);
 *   2. each task that was ready when the pass began, once, until it
 *      waits again (tasks made ready during the pass run in the next);
 *   3. the timers that are due, through the timer glue (runtime/timer.c),
 *      which may make tasks ready or queue protocol work.
 * loop_run repeats passes. Only when a whole pass did no work, no task is
 * ready and nobody called loop_kick() does it arm the local timer for the
 * earliest timer deadline (or disarm it when there is none) and halt with
 * arch_wait_for_interrupt(). Any interrupt just ends the halt: nothing
 * here asks what it was, because devices are polled, not interrupt
 * driven. Everything runs on the loop's core with interrupts off between
 * halts, so there is no preemption and no lock anywhere on this path.
 *
 * Rules:
 *  - The hot path stays cheap: a busy pass reads the clock (inside the
 *    timer glue) but never touches the timer hardware; arming happens
 *    only on the way to a halt (a timer already off is not disarmed
 *    again).
 *  - Pollers are caller-owned, registered once per core, never removed;
 *    a poller returns how much work it did, so an idle device costs one
 *    call per pass and lets the core halt.
 *  - Tasks run only from the loop's own stack. loop_once() called from
 *    inside a task (tests, boot-time waits written as tasks) yields to the
 *    loop instead, which makes one full pass before the task resumes.
 */
#include <stdbool.h>
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/loop.h>
#include <kiln/panic.h>
#include <kiln/percpu.h>
#include <kiln/task.h>
#include <kiln/time.h>

#include "task_priv.h"
#include "timer_priv.h"

/* Per-core loop state that percpu.h has no fields for. */
struct loop_cpu {
	uint64_t armed;      /* last deadline given to the local timer, 0: off */
	int last_work;       /* work done by the latest pass */
} __attribute__((aligned(64)));

static struct loop_cpu loop_cpus[MAX_CPUS];

void loop_cpu_init(void)
{
	timer_cpu_init();
}

void loop_add_poller(struct poller *p)
{
	struct poller **pp = &this_cpu()->pollers;

	/* Registration order is call order; registering is rare, so walk. */
	while (*pp) {
		KASSERT(*pp != p);
		pp = &(*pp)->next;
	}
	p->next = NULL;
	*pp = p;
}

static int loop_pass(struct percpu *c)
{
	int work = 0, n;

	c->loop.passes++;
	for (struct poller *p = c->pollers; p; p = p->next) {
		n = p->fn(p->ctx);
		if (n > 0) {
			work += n;
			c->loop.polls_with_work++;
		}
	}
	if (c->ready_head) {
		n = task_run_ready();
		c->loop.tasks_run += (uint64_t)n;
		work += n;
	}
	n = timer_run_due();
	if (n > 0) {
		c->loop.timers_fired += (uint64_t)n;
		work += n;
	}
	if (work)
		c->loop.busy_passes++;
	loop_cpus[c->cpu].last_work = work;
	return work;
}

int loop_once(void)
{
	struct percpu *c = this_cpu();

	if (c->current) {
		task_yield();
		return loop_cpus[c->cpu].last_work;
	}
	return loop_pass(c);
}

void loop_kick(void)
{
	this_cpu()->kicked = 1;
}

/* The slow path: nothing to do, so set the wake-up time and halt. */
static void loop_idle(struct percpu *c)
{
	struct loop_cpu *lc = &loop_cpus[c->cpu];
	uint64_t next = timer_next_deadline();

	if (next != UINT64_MAX && next <= time_now_ns())
		return;                 /* due already (within a tick): no halt */
	if (next == UINT64_MAX)
		next = 0;
	/* Re-arm on every halt: the timer may have fired, or fired a little
	 * early by the TSC's reckoning, so "already armed" cannot be trusted.
	 * Only "already off" can, and that saves the write on cores that
	 * have no timers and wake for devices. */
	if (next || lc->armed) {
		arch_timer_arm(next);
		lc->armed = next;
	}
	c->loop.halts++;
	arch_wait_for_interrupt();
	c->loop.wakeups++;
}

__attribute__((noreturn)) void loop_run(void)
{
	struct percpu *c = this_cpu();

	KASSERT(!c->current);
	for (;;) {
		if (loop_pass(c) || c->ready_head)
			continue;
		if (c->kicked || c->irq_pending) {
			c->kicked = 0;
			c->irq_pending = 0;
			continue;
		}
		loop_idle(c);
	}
}

void loop_get_stats(unsigned cpu, struct loop_stats *out)
{
	*out = percpu_of(cpu)->loop;
}
