/*
 * test_time.c - in-guest tests of the clocks and timers: the calibrated
 * monotonic clock (arch time.c), the local timer (lapic.c), the wall
 * clock (kernel/time.c, rtc.c) and kiln/timer.h on the wheel
 * (runtime/timer.c).
 *
 * The clock-rate check needs a reference the TSC calibration did not
 * use: the RTC's seconds. Between two RTC second edges exactly 1 s
 * passes, so time_now_ns() must advance 1 s there, within 0.5 % (a TSC
 * mis-calibrated by a percent, or a conversion off by a factor, fails).
 * Timer tests run in the runner's task: they arm timers and sleep, and
 * the loop halts until the local timer wakes it. "Early" is never
 * allowed; "late" bounds are loose (TCG wakes ~150 us late, the host may
 * be busy) and the measured lateness is printed for the record.
 */
#include <kiln/arch.h>
#include <kiln/kiln.h>

#include "runtime/timer_wheel.h"   /* TIMER_TICK_NS */
#include "selftest.h"

SELFTEST(time_monotonic)
{
	uint64_t first = time_now_ns(), prev = first, backwards = 0;

	for (int i = 0; i < 200000; i++) {
		uint64_t now = time_now_ns();
		if (now < prev)
			backwards++;
		prev = now;
	}
	ST_CHECK(backwards == 0);
	ST_CHECK(prev > first);
	ST_CHECK(arch_cycles_hz() >= 100000000ull);   /* >= 100 MHz */
	kprintf("# clock %s, %lu.%06lu MHz; timer %s\n", arch_clock_name(),
		(unsigned long)(arch_cycles_hz() / 1000000),
		(unsigned long)(arch_cycles_hz() % 1000000), arch_timer_name());
}

/*
 * Under TCG the first run of any code path is translated first, which
 * takes tens of microseconds, and the host may pause the vCPU at any
 * point: a reading of one clock is only known to lie between two
 * readings of the other. So each end point is bracketed, and checks ask
 * whether the expected value fits within the brackets.
 */
struct bracket {
	uint64_t lo, hi;        /* cycles before and after */
	uint64_t ns;            /* time_now_ns() in between */
};

static void bracket_now(struct bracket *b)
{
	b->lo = arch_cycles();
	b->ns = time_now_ns();
	b->hi = arch_cycles();
}

/* The ns conversion agrees with the raw cycle count over a 10 ms wait,
 * to within 0.01 % (run twice: the first pass warms the translation). */
SELFTEST(time_matches_cycles)
{
	for (int pass = 0; pass < 2; pass++) {
		struct bracket a, b;
		bracket_now(&a);
		do {
			bracket_now(&b);
		} while (b.ns - a.ns < 10 * NS_PER_MS);
		if (pass == 0)
			continue;
		uint64_t hz = arch_cycles_hz();
		uint64_t ns = b.ns - a.ns;
		uint64_t min_ns = (b.lo - a.hi) * NS_PER_SEC / hz;   /* fewest cycles */
		uint64_t max_ns = (b.hi - a.lo) * NS_PER_SEC / hz;
		ST_CHECK(ns + ns / 10000 >= min_ns);
		ST_CHECK(ns <= max_ns + max_ns / 10000);
	}
}

/* Waits for the RTC's seconds to change. The change happened between the
 * start of the last read that saw the old value (*lo) and the end of the
 * first read that saw the new one (*hi). Returns false after 3 s. */
static bool rtc_edge(uint64_t *rtc, uint64_t *lo, uint64_t *hi)
{
	uint64_t start = arch_rtc_read_ns(), give_up = time_now_ns() + 3 * NS_PER_SEC;
	uint64_t before = time_now_ns();

	for (;;) {
		uint64_t r = arch_rtc_read_ns();
		uint64_t after = time_now_ns();
		if (r != start) {
			*rtc = r;
			*hi = after;
			return true;
		}
		*lo = before;
		before = after;
		if (after > give_up)
			return false;
	}
}

/* Two RTC second edges are 1 s apart: time_now_ns() must agree within
 * 0.2 % (the RTC runs on the host's clock, the TSC on the host's TSC;
 * both are real time). Host pauses only widen the brackets; one wider
 * than 20 ms is retried, up to three times. */
SELFTEST(time_rate_against_rtc)
{
	uint64_t c0 = time_now_ns();

	ST_REQUIRE(arch_rtc_read_ns() != 0);
	uint64_t read_ns = time_now_ns() - c0;
	for (int attempt = 0; attempt < 3; attempt++) {
		uint64_t r0 = 0, r1 = 0, lo0 = 0, hi0 = 0, lo1 = 0, hi1 = 0;
		ST_REQUIRE(rtc_edge(&r0, &lo0, &hi0));
		ST_REQUIRE(rtc_edge(&r1, &lo1, &hi1));
		if (hi0 - lo0 > 20 * NS_PER_MS || hi1 - lo1 > 20 * NS_PER_MS)
			continue;
		ST_CHECK(r1 - r0 == NS_PER_SEC);
		uint64_t shortest = lo1 - hi0, longest = hi1 - lo0;
		uint64_t tol = 2 * NS_PER_MS;
		ST_CHECK(shortest <= NS_PER_SEC + tol);
		ST_CHECK(longest + tol >= NS_PER_SEC);
		kprintf("# one RTC second = %lu..%lu ns of time_now_ns; an RTC read takes %lu us\n",
			(unsigned long)shortest, (unsigned long)longest,
			(unsigned long)(read_ns / 1000));
		return;
	}
	ST_CHECK(!"host too busy: no RTC edge bracketed within 20 ms");
}

SELFTEST(time_wall_clock)
{
	uint64_t w0 = time_wall_ns(), n0 = time_now_ns();

	ST_CHECK(w0 / NS_PER_SEC >= 1704067200ull);     /* 2024-01-01 */
	ST_CHECK(w0 / NS_PER_SEC < 4102444800ull);      /* 2100-01-01 */
	task_sleep_ns(2 * NS_PER_MS);
	uint64_t w1 = time_wall_ns(), n1 = time_now_ns();
	int64_t skew = (int64_t)((w1 - w0) - (n1 - n0));
	ST_CHECK(w1 > w0);
	ST_CHECK(skew > -(int64_t)NS_PER_MS && skew < (int64_t)NS_PER_MS);
	/* The boot-time RTC reading agrees with the RTC now (same second,
	 * give or take the one that may tick in between). */
	uint64_t rtc = arch_rtc_read_ns();
	uint64_t wall = time_wall_ns();
	ST_CHECK(rtc <= wall + NS_PER_SEC && wall < rtc + 2 * NS_PER_SEC);
}

/* --- timers armed from a task -------------------------------------------- */

#define NT 6
static const uint64_t delays_ms[NT] = { 7, 2, 13, 4, 21, 10 };

static struct {
	struct timer t[NT], cancelled, periodic;
	uint64_t deadline[NT], fired_at[NT];
	int fired[NT], order[NT], norder;
	int cancelled_fired, periodic_fired, in_task;
	uint64_t periodic_deadline, periodic_early;
} tt;

static void tt_fire(struct timer *t, void *arg)
{
	int i = (int)(uintptr_t)arg;

	tt.fired[i]++;
	tt.fired_at[i] = time_now_ns();
	if (tt.norder < NT)
		tt.order[tt.norder++] = i;
	if (task_current())
		tt.in_task++;
}

static void tt_cancelled(struct timer *t, void *arg)
{
	tt.cancelled_fired++;
}

static void tt_periodic(struct timer *t, void *arg)
{
	uint64_t now = time_now_ns();

	if (now < tt.periodic_deadline)
		tt.periodic_early++;
	if (++tt.periodic_fired < 3) {
		tt.periodic_deadline = now + 3 * NS_PER_MS;
		timer_arm(t, tt.periodic_deadline);      /* re-arm from the callback */
	}
}

SELFTEST(timers_in_order_never_early)
{
	uint64_t irqs0 = arch_timer_irq_count();

	tt = (__typeof__(tt)){ 0 };
	for (int i = 0; i < NT; i++) {
		timer_init(&tt.t[i], tt_fire, (void *)(uintptr_t)i);
		tt.deadline[i] = time_now_ns() + delays_ms[i] * NS_PER_MS;
		timer_arm(&tt.t[i], tt.deadline[i]);
		ST_CHECK(timer_armed(&tt.t[i]));
	}
	timer_init(&tt.cancelled, tt_cancelled, NULL);
	timer_arm_in(&tt.cancelled, 5 * NS_PER_MS);
	timer_init(&tt.periodic, tt_periodic, NULL);
	tt.periodic_deadline = time_now_ns() + 3 * NS_PER_MS;
	timer_arm(&tt.periodic, tt.periodic_deadline);
	task_sleep_ns(NS_PER_MS);
	timer_cancel(&tt.cancelled);
	ST_CHECK(!timer_armed(&tt.cancelled));
	timer_cancel(&tt.cancelled);                     /* harmless twice */

	task_sleep_ns(40 * NS_PER_MS);

	uint64_t max_late = 0, sum_late = 0;
	for (int i = 0; i < NT; i++) {
		ST_CHECK(tt.fired[i] == 1);
		ST_CHECK(!timer_armed(&tt.t[i]));
		ST_CHECK(tt.fired_at[i] >= tt.deadline[i]);          /* never early */
		uint64_t late = tt.fired_at[i] - tt.deadline[i];
		ST_CHECK(late < 50 * NS_PER_MS);
		sum_late += late;
		if (late > max_late)
			max_late = late;
	}
	/* In deadline order: 2, 4, 7, 10, 13, 21 ms. */
	static const int want[NT] = { 1, 3, 0, 5, 2, 4 };
	ST_CHECK(tt.norder == NT);
	for (int i = 0; i < NT; i++)
		ST_CHECK(tt.order[i] == want[i]);
	ST_CHECK(tt.in_task == 0);
	ST_CHECK(tt.cancelled_fired == 0);
	ST_CHECK(tt.periodic_fired == 3);
	ST_CHECK(tt.periodic_early == 0);
	/* The loop halted and the local timer's interrupt woke it. */
	ST_CHECK(arch_timer_irq_count() > irqs0);
	kprintf("# timer lateness: mean %lu us, max %lu us (tick %lu us); %lu timer irqs\n",
		(unsigned long)(sum_late / NT / 1000), (unsigned long)(max_late / 1000),
		(unsigned long)(TIMER_TICK_NS / 1000),
		(unsigned long)(arch_timer_irq_count() - irqs0));
}

SELFTEST(timer_sleep_lateness)
{
	uint64_t max_late = 0, sum_late = 0;
	const int n = 10;

	for (int i = 0; i < n; i++) {
		uint64_t t0 = time_now_ns();
		task_sleep_ns(3 * NS_PER_MS);
		uint64_t slept = time_now_ns() - t0;
		ST_CHECK(slept >= 3 * NS_PER_MS);
		uint64_t late = slept - 3 * NS_PER_MS;
		sum_late += late;
		if (late > max_late)
			max_late = late;
	}
	kprintf("# task_sleep_ns(3 ms): mean %lu us late, max %lu us\n",
		(unsigned long)(sum_late / (uint64_t)n / 1000), (unsigned long)(max_late / 1000));
}

/* A far timer is armed and cancelled without side effects, and a timer
 * armed in the past fires promptly. */
static int past_fired;
static void past_fn(struct timer *t, void *arg)
{
	past_fired++;
}

SELFTEST(timer_far_and_past)
{
	struct timer far, past;

	timer_init(&far, past_fn, NULL);
	timer_arm_in(&far, 3600 * NS_PER_SEC);
	timer_arm_in(&far, UINT64_MAX);                 /* saturates, no wrap */
	timer_init(&past, past_fn, NULL);
	past_fired = 0;
	timer_arm(&past, 1);
	task_sleep_ns(2 * NS_PER_MS);
	ST_CHECK(past_fired == 1);
	ST_CHECK(timer_armed(&far));
	timer_cancel(&far);
	ST_CHECK(!timer_armed(&far));
}

