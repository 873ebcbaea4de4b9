/*
 * timer_wheel.c - a hierarchical timing wheel (portable; also hosted).
 *
 * Interface: runtime/timer_wheel.h. The caller owns every struct timer
 * and passes "now" in; the wheel reads no clock and does no I/O.
 *
 * IMPLEMENTATION NOTES
 *
 * Time is counted in ticks of TIMER_TICK_NS. A deadline in ns becomes the
 * tick ceil(ns / TICK) and a timer fires when the wheel reaches that tick,
 * i.e. at the first tw_advance() whose now_ns >= tick * TICK: never early,
 * and less than one tick late relative to the deadline itself.
 *
 * w->now is the last tick processed: every timer whose tick <= w->now has
 * fired, except those armed in the past since then. A timer whose tick is
 * already <= w->now ("due") goes into level-0 slot (now & 63), which holds
 * nothing else, and fires at the start of the next tw_advance().
 *
 * Otherwise, with delta = tick - now, the timer goes to level L, the
 * smallest with delta < 64^(L+1), slot (tick >> 6L) & 63; a delta of
 * 2^30 ticks (~13 days) or more goes to the overflow list. For L >= 1 the
 * timer's group (tick >> 6L) is then 1..64 groups ahead of now's group, so
 * the first time the wheel reaches a tick that starts a group whose index
 * is the timer's slot is exactly the start of the timer's own group; that
 * is when the slot is "cascaded": its timers are re-inserted relative to
 * the new now and land in a lower level (or fire, if due). The overflow
 * list is re-inserted at every multiple of 2^30 ticks.
 *
 * A bitmap per level records which slots are non-empty. It lets
 * tw_next_deadline() answer in O(levels) and lets tw_advance() jump
 * straight to the next tick at which anything happens (a level-0 slot
 * fires or a non-empty slot cascades), so a huge jump in time costs
 * O(timers x levels), not O(ticks).
 *
 * Firing: the slot's list is detached onto a local head before any
 * callback runs. A callback may arm, re-arm or cancel any timer: a timer
 * of the same batch is unlinked from the local list through its pprev
 * like any other. A timer armed due from a callback lands in the current
 * slot, which is not re-run in the same step (so a callback that keeps
 * re-arming itself in the past cannot live-lock the loop); it is carried
 * to the next processed tick, or to the next tw_advance().
 *
 * Timers due in the same tick fire in no particular order; timers with
 * different ticks fire in tick order within one tw_advance().
 */
#include <stddef.h>
#include <stdint.h>

#include "timer_wheel.h"

#define SLOT_MASK (TW_SLOTS - 1u)
#define LEVEL_SHIFT(l) ((unsigned)(l) * TW_SLOT_BITS)
#define WHEEL_SPAN_BITS (TW_LEVELS * TW_SLOT_BITS)          /* 30 */
#define WHEEL_SPAN (1ull << WHEEL_SPAN_BITS)                 /* ticks */
#define MAX_TICK (UINT64_MAX >> TIMER_TICK_SHIFT)

static uint64_t ns_to_tick_ceil(uint64_t ns)
{
	return (ns >> TIMER_TICK_SHIFT) + ((ns & (TIMER_TICK_NS - 1)) != 0);
}

static uint64_t tick_to_ns(uint64_t tick)
{
	return tick > MAX_TICK ? UINT64_MAX : tick << TIMER_TICK_SHIFT;
}

static void list_push(struct timer **head, struct timer *t)
{
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	*head = t;
	t->pprev = head;
}

/* Links t into its slot for the current w->now. t is not linked. */
static void wheel_insert(struct timer_wheel *w, struct timer *t)
{
	uint64_t tick = t->deadline;

	if (tick <= w->now) {
		unsigned s = (unsigned)(w->now & SLOT_MASK);
		list_push(&w->slot[0][s], t);
		w->occupied[0] |= 1ull << s;
		return;
	}
	uint64_t delta = tick - w->now;
	for (unsigned l = 0; l < TW_LEVELS; l++) {
		if (delta < 1ull << LEVEL_SHIFT(l + 1)) {
			unsigned s = (unsigned)((tick >> LEVEL_SHIFT(l)) & SLOT_MASK);
			list_push(&w->slot[l][s], t);
			w->occupied[l] |= 1ull << s;
			return;
		}
	}
	list_push(&w->overflow, t);
}

/* Unlinks t, keeping the occupancy bitmap exact. t is linked. */
static void wheel_unlink(struct timer_wheel *w, struct timer *t)
{
	struct timer **pp = t->pprev;

	*pp = t->next;
	if (t->next) {
		t->next->pprev = pp;
	} else {
		/* Emptied a slot? Only if pp is a slot head (not a timer's
		 * next field, the overflow head or a batch head). */
		uintptr_t first = (uintptr_t)&w->slot[0][0];
		uintptr_t end = (uintptr_t)&w->slot[TW_LEVELS - 1][TW_SLOTS];
		uintptr_t p = (uintptr_t)pp;
		if (p >= first && p < end && *pp == NULL) {
			size_t i = (p - first) / sizeof(struct timer *);
			w->occupied[i / TW_SLOTS] &= ~(1ull << (i % TW_SLOTS));
		}
	}
	t->next = NULL;
	t->pprev = NULL;
}

/* Detaches the whole list of a slot; returns its head (pprev fixed up by
 * the caller). */
static struct timer *slot_take(struct timer_wheel *w, unsigned level, unsigned s)
{
	struct timer *head = w->slot[level][s];

	w->slot[level][s] = NULL;
	w->occupied[level] &= ~(1ull << s);
	return head;
}

/* Re-inserts every timer of list relative to the current w->now. */
static void reinsert_list(struct timer_wheel *w, struct timer *list)
{
	while (list) {
		struct timer *t = list;
		list = t->next;
		wheel_insert(w, t);
	}
}

static void cascade(struct timer_wheel *w)
{
	uint64_t now = w->now;

	for (unsigned l = 1; l < TW_LEVELS; l++) {
		if (now & ((1ull << LEVEL_SHIFT(l)) - 1))
			return;
		unsigned s = (unsigned)((now >> LEVEL_SHIFT(l)) & SLOT_MASK);
		reinsert_list(w, slot_take(w, l, s));
	}
	if ((now & (WHEEL_SPAN - 1)) == 0) {
		struct timer *list = w->overflow;
		w->overflow = NULL;
		reinsert_list(w, list);
	}
}

/* Fires the level-0 slot of the current tick. */
static int run_slot(struct timer_wheel *w)
{
	unsigned s = (unsigned)(w->now & SLOT_MASK);
	struct timer *batch = slot_take(w, 0, s);
	int n = 0;

	if (batch)
		batch->pprev = &batch;
	while (batch) {
		struct timer *t = batch;
		wheel_unlink(w, t);          /* advances batch through pprev */
		if (t->deadline > w->now) {  /* cannot happen; never fire early */
			wheel_insert(w, t);
			continue;
		}
		w->count--;
		w->fired++;
		n++;
		t->fn(t, t->arg);
	}
	return n;
}

/* First k in 1..64 such that bit ((base + k) & 63) of bm is set; bm != 0. */
static unsigned next_set_after(uint64_t bm, unsigned base)
{
	unsigned r = (base + 1) & SLOT_MASK;
	uint64_t rot = r ? (bm >> r) | (bm << (64 - r)) : bm;
	return (unsigned)__builtin_ctzll(rot) + 1;
}

/*
 * The earliest tick after w->now at which the wheel has work: a level-0
 * slot fires, a non-empty slot cascades, or the overflow list is re-read.
 * It is never later than the earliest deadline in the wheel (outside the
 * current, due slot). UINT64_MAX if there is nothing. With exact_overflow,
 * skips whole wheel spans in which no overflow timer can become due (costs
 * a walk of the overflow list).
 */
static uint64_t next_event(const struct timer_wheel *w, int exact_overflow)
{
	uint64_t best = UINT64_MAX;

	for (unsigned l = 0; l < TW_LEVELS; l++) {
		uint64_t bm = w->occupied[l];
		if (l == 0)
			bm &= ~(1ull << (w->now & SLOT_MASK));  /* the due slot */
		if (!bm)
			continue;
		uint64_t group = w->now >> LEVEL_SHIFT(l);
		uint64_t k = next_set_after(bm, (unsigned)(group & SLOT_MASK));
		uint64_t when = (group + k) << LEVEL_SHIFT(l);
		if (when < best)
			best = when;
	}
	if (w->overflow) {
		uint64_t when = ((w->now >> WHEEL_SPAN_BITS) + 1) << WHEEL_SPAN_BITS;
		if (exact_overflow) {
			uint64_t min = UINT64_MAX;
			for (const struct timer *t = w->overflow; t; t = t->next)
				if (t->deadline < min)
					min = t->deadline;
			uint64_t span = min & ~(WHEEL_SPAN - 1);
			if (span > when)
				when = span;
		}
		if (when < best)
			best = when;
	}
	return best;
}

void tw_init(struct timer_wheel *w, uint64_t now_ns)
{
	*w = (struct timer_wheel){ .now = now_ns >> TIMER_TICK_SHIFT };
}

void tw_add(struct timer_wheel *w, struct timer *t, uint64_t deadline_ns)
{
	if (t->pprev)
		tw_del(w, t);
	t->deadline = ns_to_tick_ceil(deadline_ns);
	wheel_insert(w, t);
	w->count++;
}

void tw_del(struct timer_wheel *w, struct timer *t)
{
	if (!t->pprev)
		return;
	wheel_unlink(w, t);
	w->count--;
}

int tw_advance(struct timer_wheel *w, uint64_t now_ns)
{
	uint64_t target = now_ns >> TIMER_TICK_SHIFT;
	int fired = run_slot(w);            /* timers armed in the past */

	while (w->now < target) {
		if (w->count == 0) {
			w->now = target;
			break;
		}
		uint64_t next = next_event(w, 1);
		if (next > target)
			next = target;
		/* Timers a callback armed due in the step just run wait in
		 * the old current slot: carry them to the new one. */
		struct timer *carry = slot_take(w, 0, (unsigned)(w->now & SLOT_MASK));
		w->now = next;
		reinsert_list(w, carry);
		cascade(w);
		fired += run_slot(w);
	}
	return fired;
}

uint64_t tw_next_deadline(const struct timer_wheel *w)
{
	if (w->count == 0)
		return UINT64_MAX;
	/* The due slot holds only timers armed in the past: few, scan it. */
	const struct timer *due = w->slot[0][w->now & SLOT_MASK];
	if (due) {
		uint64_t min = w->now;
		for (; due; due = due->next)
			if (due->deadline < min)
				min = due->deadline;
		return tick_to_ns(min);
	}
	uint64_t tick = next_event(w, 0);
	return tick == UINT64_MAX ? UINT64_MAX : tick_to_ns(tick);
}
