/*
 * timer_priv.h - the kernel's timer glue (runtime/timer.c) as the boot
 * code and the run loop see it.
 *
 * Each core owns one timer wheel, reached through this_cpu()->wheel.
 * kiln/timer.h is the API everyone else uses; these three calls are for
 * loop.c only (the boot code reaches timer_cpu_init through
 * loop_cpu_init, kiln/loop.h).
 */
#ifndef KILN_TIMER_PRIV_H
#define KILN_TIMER_PRIV_H

#include <stdint.h>

/* Boot, once per core, after the clock (arch_time_init) and before any
 * timer is armed on that core: gives the core its wheel. */
void timer_cpu_init(void);

/* Fires every due timer of the current core (callbacks run here, on the
 * loop's stack); returns how many fired. Cheap when nothing is due: one
 * clock read and a compare. */
int timer_run_due(void);

/* Monotonic ns at which the current core's wheel next has work; never
 * later than the earliest deadline, possibly earlier (a long timer wakes
 * the loop a few times as it moves down the wheel). UINT64_MAX: no
 * timers. A value <= time_now_ns() means "due: do not halt". */
uint64_t timer_next_deadline(void);

#endif
