/*
 * test_timer_wheel.c - the hierarchical timer wheel on virtual time.
 *
 * Every test drives the wheel with "now" values it chooses. A shared
 * callback records each firing and checks the one promise that must hold
 * everywhere: a timer never fires before its deadline. The stress test
 * runs a seeded random mix of arm, re-arm, cancel, callbacks that arm and
 * cancel, small steps and huge jumps against a plain array model.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "runtime/timer_wheel.h"

#define T TIMER_TICK_NS
#define MS 1000000ull

struct rec;
typedef void (*hook_fn)(struct rec *r);

struct rec {
	struct timer t;
	uint64_t deadline_ns;     /* as last armed */
	int id;
	int fired;                /* times fired */
	uint64_t fired_at;        /* now_ns of the advance that fired it */
	hook_fn hook;             /* runs inside the callback */
	void *ctx;
};

static struct timer_wheel wheel;
static uint64_t cur_now;          /* now_ns of the advance in progress */
static int order[256];
static int norder;

/* timer_armed() lives in the kernel's timer.c; the wheel's rule is pprev. */
static int timer_armed_test(const struct timer *t) { return t->pprev != NULL; }

static void on_fire(struct timer *t, void *arg)
{
	struct rec *r = arg;
	assert_ptr_equal(&r->t, t);
	assert_false(timer_armed_test(t));
	assert_true(r->deadline_ns <= cur_now);          /* never early */
	r->fired++;
	r->fired_at = cur_now;
	if (norder < (int)(sizeof order / sizeof order[0]))
		order[norder++] = r->id;
	if (r->hook)
		r->hook(r);
}

static void rec_init(struct rec *r, int id)
{
	memset(r, 0, sizeof *r);
	r->id = id;
	r->t.fn = on_fire;
	r->t.arg = r;
}

static void arm(struct rec *r, uint64_t deadline_ns)
{
	r->deadline_ns = deadline_ns;
	tw_add(&wheel, &r->t, deadline_ns);
}

static int advance(uint64_t now_ns)
{
	cur_now = now_ns;
	return tw_advance(&wheel, now_ns);
}

static void reset(uint64_t now_ns)
{
	tw_init(&wheel, now_ns);
	cur_now = now_ns;
	norder = 0;
}

/* The occupancy bitmaps match the slots, and count matches the lists. */
static void check_structure(void)
{
	uint32_t n = 0;
	for (unsigned l = 0; l < TW_LEVELS; l++)
		for (unsigned s = 0; s < TW_SLOTS; s++) {
			int bit = (int)((wheel.occupied[l] >> s) & 1);
			assert_int_equal(bit, wheel.slot[l][s] != NULL);
			struct timer **pp = &wheel.slot[l][s];
			for (struct timer *t = *pp; t; pp = &t->next, t = t->next) {
				assert_ptr_equal(t->pprev, pp);
				n++;
			}
		}
	for (struct timer *t = wheel.overflow; t; t = t->next)
		n++;
	assert_int_equal(n, wheel.count);
}

static void test_order(void **state)
{
	(void)state;
	static const uint64_t ms[] = { 9, 2, 40, 5, 1, 70, 3, 33, 120, 7 };
	struct rec r[10];
	reset(5 * MS);
	for (int i = 0; i < 10; i++) {
		rec_init(&r[i], (int)ms[i]);
		arm(&r[i], 5 * MS + ms[i] * MS);
	}
	check_structure();
	assert_int_equal(advance(200 * MS), 10);
	static const int want[] = { 1, 2, 3, 5, 7, 9, 33, 40, 70, 120 };
	assert_int_equal(norder, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(order[i], want[i]);
	assert_int_equal(wheel.count, 0);
	assert_int_equal(tw_next_deadline(&wheel), UINT64_MAX);
}

/* Stepping in small increments: each timer fires at the first step at or
 * after its deadline rounded up to a tick: never early, < 1 tick late. */
static void test_never_early_at_most_one_tick_late(void **state)
{
	(void)state;
	enum { N = 64 };
	struct rec r[N];
	const uint64_t step = 37 * 1000;        /* 37 us, not a tick divisor */
	reset(1000);
	for (int i = 0; i < N; i++) {
		rec_init(&r[i], i);
		arm(&r[i], 1000 + (uint64_t)i * 777777 + (uint64_t)i * i * 31);
	}
	for (uint64_t now = 1000; now < 1000 + 60 * MS; now += step) {
		advance(now);
		for (int i = 0; i < N; i++) {
			if (r[i].deadline_ns + T + step <= now)
				assert_int_equal(r[i].fired, 1);
			if (r[i].deadline_ns > now)
				assert_int_equal(r[i].fired, 0);
		}
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].fired, 1);
		assert_true(r[i].fired_at >= r[i].deadline_ns);
		assert_true(r[i].fired_at < r[i].deadline_ns + T + step);
		/* the exact rule: the first step at or after the tick */
		uint64_t tick_ns = (r[i].deadline_ns + T - 1) / T * T;
		assert_true(r[i].fired_at >= tick_ns);
		assert_true(r[i].fired_at < tick_ns + step);
	}
}

static void test_cancel(void **state)
{
	(void)state;
	struct rec a, b, c, d;
	reset(0);
	rec_init(&a, 1);
	rec_init(&b, 2);
	rec_init(&c, 3);
	rec_init(&d, 4);
	arm(&a, 3 * MS);
	arm(&b, 3 * MS);
	arm(&c, 500 * MS);
	arm(&d, 10 * MS);
	assert_int_equal(wheel.count, 4);
	tw_del(&wheel, &b.t);
	tw_del(&wheel, &b.t);                   /* harmless twice */
	tw_del(&wheel, &c.t);
	assert_int_equal(wheel.count, 2);
	check_structure();
	arm(&d, 20 * MS);                       /* re-arm moves it */
	assert_int_equal(wheel.count, 2);
	advance(15 * MS);
	assert_int_equal(a.fired, 1);
	assert_int_equal(b.fired, 0);
	assert_int_equal(d.fired, 0);
	advance(1000 * MS);
	assert_int_equal(b.fired + c.fired, 0);
	assert_int_equal(d.fired, 1);
	tw_del(&wheel, &a.t);                   /* already fired: harmless */
	assert_int_equal(wheel.count, 0);
	check_structure();
}

static void hook_periodic(struct rec *r)
{
	if (r->fired < 10)
		arm(r, r->deadline_ns + 5 * MS);
}

static void hook_rearm_past(struct rec *r)
{
	if (r->fired < 3)
		arm(r, 0);                      /* due: the next advance */
}

static void test_rearm_from_callback(void **state)
{
	(void)state;
	struct rec p, q;
	reset(0);
	rec_init(&p, 1);
	p.hook = hook_periodic;
	arm(&p, 5 * MS);
	for (uint64_t now = 0; now <= 100 * MS; now += 250 * 1000)
		advance(now);
	assert_int_equal(p.fired, 10);
	assert_false(timer_armed_test(&p.t));
	assert_true(p.fired_at >= 50 * MS && p.fired_at < 50 * MS + T + 250 * 1000);

	/* Re-arming in the past from the callback does not loop: one firing
	 * per tw_advance, even when time does not move. */
	rec_init(&q, 2);
	q.hook = hook_rearm_past;
	arm(&q, 100 * MS);
	assert_int_equal(advance(101 * MS), 1);
	assert_int_equal(tw_next_deadline(&wheel) <= 101 * MS, 1);
	assert_int_equal(advance(101 * MS), 1);
	assert_int_equal(advance(101 * MS), 1);
	assert_int_equal(q.fired, 3);
	assert_int_equal(advance(101 * MS), 0);
	assert_int_equal(wheel.count, 0);

	/* In a multi-tick advance a due re-arm is carried to a later tick
	 * and fires within the same call. */
	rec_init(&q, 3);
	q.hook = hook_rearm_past;
	arm(&q, 110 * MS);
	struct rec later;
	rec_init(&later, 4);
	arm(&later, 150 * MS);
	assert_int_equal(advance(200 * MS), 4);   /* q at 110, 150, 200 */
	assert_int_equal(q.fired, 3);
	assert_int_equal(later.fired, 1);
	assert_int_equal(advance(200 * MS), 0);
	check_structure();
}

static void hook_cancel_other(struct rec *r)
{
	struct rec *other = r->ctx;
	tw_del(&wheel, &other->t);
}

static void hook_arm_other(struct rec *r)
{
	struct rec *other = r->ctx;
	arm(other, r->deadline_ns);             /* same tick: due, next advance */
}

static void test_cancel_in_same_batch(void **state)
{
	(void)state;
	struct rec a, b, c, d, e;
	reset(0);
	/* a and b share a tick: whichever fires first cancels the other. */
	rec_init(&a, 1);
	rec_init(&b, 2);
	a.hook = b.hook = hook_cancel_other;
	a.ctx = &b;
	b.ctx = &a;
	arm(&a, 7 * MS);
	arm(&b, 7 * MS + 1);
	/* c (later tick, same advance) is cancelled by d. */
	rec_init(&c, 3);
	rec_init(&d, 4);
	d.hook = hook_cancel_other;
	d.ctx = &c;
	arm(&c, 9 * MS);
	arm(&d, 8 * MS);
	/* e arms a fresh timer for its own (now due) tick. */
	struct rec f;
	rec_init(&e, 5);
	rec_init(&f, 6);
	e.hook = hook_arm_other;
	e.ctx = &f;
	arm(&e, 8 * MS);
	advance(20 * MS);
	assert_int_equal(a.fired + b.fired, 1);
	assert_int_equal(c.fired, 0);
	assert_int_equal(d.fired, 1);
	assert_int_equal(e.fired, 1);
	assert_int_equal(f.fired, 1);           /* carried within the advance */
	assert_int_equal(wheel.count, 0);
	check_structure();
}

/* Deadlines on both sides of every level boundary and of the overflow
 * list fire exactly at their tick, not one tick before. */
static void test_long_delays_all_levels(void **state)
{
	(void)state;
	static const uint64_t ticks[] = {
		1, 63, 64, 65, 4095, 4096, 4097, (1u << 18) - 1, 1u << 18,
		(1u << 18) + 1, (1u << 24) - 1, 1u << 24, (1u << 24) + 1,
		(1ull << 30) - 1, 1ull << 30, (1ull << 30) + 1,
		(1ull << 31) + 12345, (1ull << 36) + 7, 1ull << 40,
	};
	enum { N = sizeof ticks / sizeof ticks[0] };
	for (uint64_t start = 0; start < 3; start++) {
		/* start at a tick boundary, mid-wheel and just before a wrap */
		uint64_t base_tick = start == 0 ? 0 : start == 1 ? 12345 : (1ull << 30) - 3;
		uint64_t base = base_tick * T + 17;
		struct rec r[N];
		reset(base);
		for (int i = 0; i < N; i++) {
			rec_init(&r[i], i);
			arm(&r[i], (base_tick + ticks[i]) * T);
		}
		check_structure();
		for (int i = 0; i < N; i++) {
			uint64_t due = (base_tick + ticks[i]) * T;
			uint64_t nd = tw_next_deadline(&wheel);
			assert_true(nd <= due);
			advance(due - 1);
			assert_int_equal(r[i].fired, 0);
			check_structure();
			advance(due);
			assert_int_equal(r[i].fired, 1);
			assert_int_equal(wheel.count, (uint32_t)(N - i - 1));
		}
	}
}

static void test_huge_jumps(void **state)
{
	(void)state;
	struct rec r[8];
	static const uint64_t delay[] = { 1, 3 * MS, 90 * MS, 5000 * MS,
		300000 * MS, 86400000 * MS, 40ull * 86400000 * MS, 900ull * 86400000 * MS };
	/* from a large starting time, one jump of decades */
	uint64_t base = 1ull << 62;
	reset(base);
	for (int i = 0; i < 8; i++) {
		rec_init(&r[i], i);
		arm(&r[i], base + delay[i]);
	}
	assert_int_equal(advance(base + (1ull << 61)), 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(order[i], i);
	/* empty wheel: a jump is O(1) and time may also step back */
	assert_int_equal(advance(UINT64_MAX - 5), 0);
	assert_int_equal(advance(1000), 0);
	/* the last representable ticks: no overflow, never early */
	struct rec far, never;
	rec_init(&far, 9);
	rec_init(&never, 10);
	reset(0);
	arm(&far, UINT64_MAX - 2 * T);
	arm(&never, UINT64_MAX);           /* its tick is past the last one */
	assert_true(tw_next_deadline(&wheel) <= UINT64_MAX - 2 * T);
	assert_int_equal(advance(UINT64_MAX - 2 * T - 1), 0);
	assert_true(timer_armed_test(&far.t));
	assert_int_equal(advance(UINT64_MAX), 1);
	assert_int_equal(never.fired, 0);
	assert_int_equal(tw_next_deadline(&wheel), UINT64_MAX);
	tw_del(&wheel, &never.t);
}

static void test_next_deadline(void **state)
{
	(void)state;
	struct rec a, b;
	reset(10 * MS);
	assert_int_equal(tw_next_deadline(&wheel), UINT64_MAX);
	rec_init(&a, 1);
	arm(&a, 13 * MS + 5);
	/* level 0: exact, the deadline rounded up to its tick */
	uint64_t tick_ns = (13 * MS + 5 + T - 1) / T * T;
	assert_int_equal(tw_next_deadline(&wheel), tick_ns);
	/* a far timer: a lower bound; following it wakes only a few times */
	rec_init(&b, 2);
	tw_del(&wheel, &a.t);
	arm(&b, 10 * MS + 3600ull * 1000 * MS);
	int wakeups = 0;
	uint64_t now = 10 * MS;
	while (!b.fired) {
		uint64_t nd = tw_next_deadline(&wheel);
		assert_true(nd <= (b.deadline_ns + T - 1) / T * T);
		assert_true(nd > now);
		now = nd;
		advance(now);
		wakeups++;
	}
	assert_true(wakeups <= TW_LEVELS + 1);
	/* past due: not later than now */
	arm(&a, 1);
	assert_true(tw_next_deadline(&wheel) <= now);
}

/* --- seeded random stress against a model ------------------------------ */

enum { SN = 300 };
static struct rec srec[SN];
static struct {
	int armed;
	uint64_t deadline;
	int due_at_arm;     /* armed during this advance, already due */
	int pre_armed;      /* armed before this advance began */
} model[SN];
static uint64_t rng_state;
static uint64_t last_tick_fired;
static uint64_t adv_start_tick;        /* wheel.now when the advance began */
static int in_advance;

static uint64_t rng(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t random_delay(void)
{
	switch (rng() % 10) {
	case 0: return 0;
	case 1: return rng() % T;
	case 2: case 3: case 4: return rng() % (64 * T);
	case 5: case 6: return rng() % (4096 * T);
	case 7: return rng() % ((1ull << 24) * T);
	case 8: return rng() % ((1ull << 31) * T);
	default: return rng() % ((1ull << 34) * T);
	}
}

static void model_arm(int i, uint64_t deadline)
{
	arm(&srec[i], deadline);
	model[i].armed = 1;
	model[i].deadline = deadline;
	uint64_t tick = (deadline + T - 1) / T;
	model[i].due_at_arm = in_advance && tick <= wheel.now;
	model[i].pre_armed = !in_advance;
}

static void model_cancel(int i)
{
	tw_del(&wheel, &srec[i].t);
	model[i].armed = 0;
}

static void hook_stress(struct rec *r)
{
	int i = r->id;
	assert_true(model[i].armed);
	model[i].armed = 0;
	uint64_t tick = (model[i].deadline + T - 1) / T;
	assert_true(tick <= cur_now / T);
	if (model[i].pre_armed && tick > adv_start_tick) {            /* tick order within one advance */
		assert_true(tick >= last_tick_fired);
		last_tick_fired = tick;
	}
	switch (rng() % 6) {
	case 0:
		model_arm(i, cur_now + random_delay());
		break;
	case 1:
		model_cancel((int)(rng() % SN));
		break;
	case 2:
		model_arm((int)(rng() % SN), cur_now + random_delay());
		break;
	case 3:
		model_arm((int)(rng() % SN), cur_now - (rng() % (cur_now + 1)) / 4);
		break;
	default:
		break;
	}
}

static void stress_check(uint64_t now)
{
	uint32_t armed = 0;
	uint64_t min_tick = UINT64_MAX;
	for (int i = 0; i < SN; i++) {
		assert_int_equal(model[i].armed, timer_armed_test(&srec[i].t));
		if (!model[i].armed)
			continue;
		armed++;
		uint64_t tick = (model[i].deadline + T - 1) / T;
		if (!model[i].due_at_arm)
			assert_true(tick > now / T);     /* at most one tick late */
		if (tick < min_tick)
			min_tick = tick;
	}
	assert_int_equal(wheel.count, armed);
	if (armed)
		assert_true(tw_next_deadline(&wheel) <= min_tick * T);
	else
		assert_int_equal(tw_next_deadline(&wheel), UINT64_MAX);
}

static void run_stress(uint64_t seed, uint64_t start)
{
	rng_state = seed;
	reset(start);
	for (int i = 0; i < SN; i++) {
		rec_init(&srec[i], i);
		srec[i].hook = hook_stress;
		model[i].armed = 0;
	}
	uint64_t now = start;
	for (int round = 0; round < 4000; round++) {
		int ops = (int)(rng() % 8);
		for (int k = 0; k < ops; k++) {
			int i = (int)(rng() % SN);
			if (rng() % 4 == 0)
				model_cancel(i);
			else
				model_arm(i, now + random_delay());
		}
		uint64_t step;
		switch (rng() % 16) {
		case 0: step = 0; break;
		case 1: step = rng() % ((1ull << 32) * T); break;       /* huge */
		case 2: step = rng() % ((1ull << 20) * T); break;
		case 3: case 4: step = rng() % (4096 * T); break;
		default: step = rng() % (8 * T); break;
		}
		now += step;
		for (int i = 0; i < SN; i++) {
			model[i].pre_armed = model[i].armed;
			model[i].due_at_arm = 0;
		}
		last_tick_fired = 0;
		adv_start_tick = wheel.now;
		in_advance = 1;
		advance(now);
		in_advance = 0;
		stress_check(now);
		if (round % 64 == 0)
			check_structure();
	}
	/* drain: everything fires eventually */
	for (int i = 0; i < SN; i++)
		srec[i].hook = NULL;
	advance(now + (1ull << 36) * T);
	advance(now + (1ull << 36) * T);
	assert_int_equal(wheel.count, 0);
	check_structure();
}

static void test_random_stress(void **state)
{
	(void)state;
	static const uint64_t seeds[] = { 1, 0x9e3779b97f4a7c15ull, 42, 20240101 };
	for (unsigned s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
		run_stress(seeds[s], 0);
		run_stress(seeds[s] ^ 0xabcdef, (1ull << 30) * T - 7 * T + 3);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_never_early_at_most_one_tick_late),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_rearm_from_callback),
		cmocka_unit_test(test_cancel_in_same_batch),
		cmocka_unit_test(test_long_delays_all_levels),
		cmocka_unit_test(test_huge_jumps),
		cmocka_unit_test(test_next_deadline),
		cmocka_unit_test(test_random_stress),
	};
	return cmocka_run_group_tests_name("timer_wheel", tests, NULL, NULL);
}
