/*
 * timer.h - one-shot timers on the current core's timer wheel.
 *
 * A struct timer is owned by the caller (embed it in the object it times)
 * and must stay valid while armed. Callbacks run from the run loop, on the
 * core that armed the timer, never from interrupt context. A callback may
 * re-arm its own timer or cancel others. Resolution is one wheel tick
 * (TIMER_TICK_NS); a timer never fires early.
 */
#ifndef KILN_TIMER_H
#define KILN_TIMER_H

#include <stdbool.h>
#include <stdint.h>

struct timer;
typedef void (*timer_fn)(struct timer *t, void *arg);

struct timer {
	struct timer *next, **pprev;   /* wheel slot list; pprev==0: idle */
	uint64_t deadline;             /* in wheel ticks */
	timer_fn fn;
	void *arg;
};

void timer_init(struct timer *t, timer_fn fn, void *arg);
/* Arms (or re-arms) t to fire at monotonic time deadline_ns. */
void timer_arm(struct timer *t, uint64_t deadline_ns);
/* Arms t to fire delay_ns from now. */
void timer_arm_in(struct timer *t, uint64_t delay_ns);
/* Disarms t; harmless if it is not armed. */
void timer_cancel(struct timer *t);
bool timer_armed(const struct timer *t);

#endif
