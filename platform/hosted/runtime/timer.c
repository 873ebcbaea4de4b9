/*
 * timer.c - kiln/timer.h for a Linux process: one timer wheel
 * (runtime/timer_wheel.c, the kernel's own) driven by time_now_ns(),
 * which is CLOCK_MONOTONIC or a test's virtual clock.
 *
 * Interface: kiln/timer.h; rt_timer_* in hosted_rt_loop.h for the hosted loop.
 *
 * Rules: the process is one core, so there is one wheel and no locks.
 * Callbacks run from the loop (rt_timer_run_due), never from a signal
 * handler. The wheel starts at the first use (or hosted_rt_init()), at
 * the clock's value then.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/panic.h>
#include <kiln/time.h>
#include <kiln/timer.h>

#include "hosted_rt_loop.h"
#include "runtime/timer_wheel.h"

static struct timer_wheel wheel;
static bool wheel_ready;

static struct timer_wheel *rt_wheel(void)
{
	if (!wheel_ready) {
		tw_init(&wheel, time_now_ns());
		wheel_ready = true;
	}
	return &wheel;
}

void rt_timer_reset(void)
{
	wheel_ready = false;
	rt_wheel();
}

void timer_init(struct timer *t, timer_fn fn, void *arg)
{
	*t = (struct timer){ .fn = fn, .arg = arg };
}

void timer_arm(struct timer *t, uint64_t deadline_ns)
{
	KASSERT(t->fn != NULL);
	tw_add(rt_wheel(), t, deadline_ns);
}

void timer_arm_in(struct timer *t, uint64_t delay_ns)
{
	uint64_t now = time_now_ns();
	timer_arm(t, delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns);
}

void timer_cancel(struct timer *t)
{
	if (t->pprev)
		tw_del(rt_wheel(), t);
}

bool timer_armed(const struct timer *t)
{
	return t->pprev != NULL;
}

int rt_timer_run_due(void)
{
	struct timer_wheel *w = rt_wheel();
	uint64_t now = time_now_ns();

	if (tw_next_deadline(w) > now && (now >> TIMER_TICK_SHIFT) <= w->now)
		return 0;
	return tw_advance(w, now);
}

uint64_t rt_timer_next_deadline(void)
{
	return tw_next_deadline(rt_wheel());
}
