/*
 * timer.c - kiln/timer.h on the current core's timer wheel (kernel only).
 *
 * Interface: include/kiln/timer.h for everyone; runtime/timer_priv.h for
 * boot (timer_cpu_init) and the run loop (timer_run_due,
 * timer_next_deadline).
 *
 * Rules: a timer belongs to the core that armed it; arm, cancel and
 * re-arm it only on that core (there are no locks). Nothing here may be
 * called from an interrupt handler: handlers only wake the loop, and the
 * loop fires timers from timer_run_due(). The wheels live in a static
 * array indexed by CPU number, so no allocator is needed at boot.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/panic.h>
#include <kiln/percpu.h>
#include <kiln/time.h>
#include <kiln/timer.h>

#include "timer_priv.h"
#include "timer_wheel.h"

static struct timer_wheel wheels[MAX_CPUS];

static struct timer_wheel *my_wheel(void)
{
	struct timer_wheel *w = this_cpu()->wheel;

	KASSERT(w != NULL);     /* timer_cpu_init() not run on this core */
	return w;
}

void timer_cpu_init(void)
{
	struct percpu *c = this_cpu();

	KASSERT(c->cpu < MAX_CPUS && c->wheel == NULL);
	tw_init(&wheels[c->cpu], time_now_ns());
	c->wheel = &wheels[c->cpu];
}

void timer_init(struct timer *t, timer_fn fn, void *arg)
{
	*t = (struct timer){ .fn = fn, .arg = arg };
}

void timer_arm(struct timer *t, uint64_t deadline_ns)
{
	KASSERT(t->fn != NULL);
	tw_add(my_wheel(), t, deadline_ns);
}

void timer_arm_in(struct timer *t, uint64_t delay_ns)
{
	uint64_t now = time_now_ns();
	uint64_t deadline = delay_ns > UINT64_MAX - now ? UINT64_MAX : now + delay_ns;

	timer_arm(t, deadline);
}

void timer_cancel(struct timer *t)
{
	if (t->pprev)
		tw_del(my_wheel(), t);
}

bool timer_armed(const struct timer *t)
{
	return t->pprev != NULL;
}

int timer_run_due(void)
{
	struct timer_wheel *w = my_wheel();
	uint64_t now = time_now_ns();

	/* The common case on a busy loop: nothing due, nothing to walk. */
	if (tw_next_deadline(w) > now && (now >> TIMER_TICK_SHIFT) <= w->now)
		return 0;
	return tw_advance(w, now);
}

uint64_t timer_next_deadline(void)
{
	return tw_next_deadline(my_wheel());
}
