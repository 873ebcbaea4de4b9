/*
 * timer_wheel.h - a hierarchical timing wheel (portable; also hosted).
 *
 * Holds struct timer (include/kiln/timer.h) entries keyed by deadline in
 * ticks of TIMER_TICK_NS. Insert and cancel are O(1); advancing costs
 * O(1) per tick plus the timers fired or cascaded. The wheel does no I/O
 * and reads no clock: the caller passes "now" in, so tests drive it with
 * virtual time. One wheel per core; no locking.
 */
#ifndef KILN_TIMER_WHEEL_H
#define KILN_TIMER_WHEEL_H

#include <stdint.h>

#include <kiln/timer.h>

#define TIMER_TICK_SHIFT 20                       /* 2^20 ns ~ 1.05 ms */
#define TIMER_TICK_NS (1ull << TIMER_TICK_SHIFT)
#define TW_LEVELS 5
#define TW_SLOT_BITS 6
#define TW_SLOTS (1u << TW_SLOT_BITS)             /* 64 slots a level */

struct timer_wheel {
	uint64_t now;                                 /* current tick */
	struct timer *slot[TW_LEVELS][TW_SLOTS];
	struct timer *overflow;                       /* beyond the top level */
	uint64_t occupied[TW_LEVELS];                 /* bit s: slot[level][s] non-empty */
	uint32_t count;
	uint64_t fired;
};

void tw_init(struct timer_wheel *w, uint64_t now_ns);
/* Arms t (re-arming if needed) for deadline_ns; a deadline in the past
 * fires on the next tw_advance. */
void tw_add(struct timer_wheel *w, struct timer *t, uint64_t deadline_ns);
void tw_del(struct timer_wheel *w, struct timer *t);
/* Fires every timer whose deadline <= now_ns; returns how many fired.
 * Callbacks may add or delete timers, including the one firing. */
int tw_advance(struct timer_wheel *w, uint64_t now_ns);
/* When the wheel next has work, in ns: never later than the earliest
 * timer's firing time (its deadline rounded up to a tick); exact when that
 * timer is less than 64 ticks away, else possibly earlier (the time its
 * slot cascades down; a long timer costs a few extra wake-ups). O(levels).
 * UINT64_MAX when the wheel is empty. */
uint64_t tw_next_deadline(const struct timer_wheel *w);

#endif
