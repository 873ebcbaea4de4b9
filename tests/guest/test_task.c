/*
 * test_task.c - in-guest tests of cooperative tasks and events
 * (runtime/task.c, arch/x86_64/switch.S).
 *
 * Each test runs inside the runner's task on the boot core, so it can
 * spawn workers and then yield or sleep while the loop runs them. The
 * workers record what they saw in static state the test checks after
 * they end. Times come from time_now_ns(); "late" bounds are loose
 * because TCG wakes ~150 us late and the host may be busy, but "early"
 * is never allowed.
 *
 * Also here: selftest_fault_task_stack_overflow(), run only with
 * fault=stack: a task recursing without bound must hit its guard page.
 */
#include <string.h>

#include <kiln/kiln.h>
#include <kiln/percpu.h>

#include "selftest.h"

/* Yields until *counter reaches n (or about 5 s pass: then fails). */
static bool wait_count(volatile int *counter, int n)
{
	uint64_t give_up = time_now_ns() + 5 * NS_PER_SEC;

	while (*counter < n) {
		if (time_now_ns() > give_up)
			return false;
		task_yield();
	}
	return true;
}

/* --- interleaved yields ---------------------------------------------- */

#define YIELD_TASKS 32
#define YIELD_ROUNDS 6

static struct {
	int log[YIELD_TASKS * YIELD_ROUNDS];
	int nlog, done, bad_current;
	struct task *handle[YIELD_TASKS];
} yt;

static void yield_worker(void *arg)
{
	int id = (int)(uintptr_t)arg;

	for (int r = 0; r < YIELD_ROUNDS; r++) {
		if (task_current() != yt.handle[id])
			yt.bad_current++;
		if (yt.nlog < YIELD_TASKS * YIELD_ROUNDS)
			yt.log[yt.nlog++] = id * 100 + r;
		task_yield();
	}
	yt.done++;
}

SELFTEST(task_yield_interleaves)
{
	struct task_stats before, after;

	memset(&yt, 0, sizeof yt);
	task_get_stats(&before);
	ST_REQUIRE(task_current() != NULL);
	for (int i = 0; i < YIELD_TASKS; i++) {
		yt.handle[i] = task_spawn(yield_worker, (void *)(uintptr_t)i, 0, "yielder");
		ST_REQUIRE(yt.handle[i] != NULL);
	}
	uint64_t t0 = time_now_ns();
	ST_REQUIRE(wait_count(&yt.done, YIELD_TASKS));
	uint64_t dt = time_now_ns() - t0;
	task_get_stats(&after);
	kprintf("# %u task resumes in %lu us\n", (unsigned)(after.switches - before.switches),
		(unsigned long)(dt / 1000));

	/* Round-robin: every task's round r comes before any round r+1. */
	ST_CHECK(yt.nlog == YIELD_TASKS * YIELD_ROUNDS);
	for (int k = 0; k < yt.nlog; k++)
		ST_CHECK(yt.log[k] == (k % YIELD_TASKS) * 100 + k / YIELD_TASKS);
	ST_CHECK(yt.bad_current == 0);
	ST_CHECK(after.spawned - before.spawned == YIELD_TASKS);
	ST_CHECK(after.exited - before.exited == YIELD_TASKS);
	ST_CHECK(after.live == before.live);
	/* Each task is resumed once per round, plus its final run. */
	ST_CHECK(after.switches - before.switches >= YIELD_TASKS * (YIELD_ROUNDS + 1));
}

/* --- callee-saved state survives switches ------------------------------ */

static volatile int regs_done, regs_bad;

static void regs_worker(void *arg)
{
	/* Values kept live across yields: the compiler keeps some in
	 * callee-saved registers, which only the switch can preserve. */
	uint64_t seed = (uintptr_t)arg;
	uint64_t a = seed * 3, b = seed * 5, c = seed * 7, d = seed * 11;
	uint64_t e = seed * 13, f = seed * 17;
	volatile double x = (double)seed + 0.5;

	for (int i = 0; i < 20; i++) {
		task_yield();
		a += 1; b += 2; c += 3; d += 4; e += 5; f += 6;
		x = x * 2.0;
	}
	if (a != seed * 3 + 20 || b != seed * 5 + 40 || c != seed * 7 + 60 ||
	    d != seed * 11 + 80 || e != seed * 13 + 100 || f != seed * 17 + 120 ||
	    x != ((double)seed + 0.5) * 1048576.0)
		regs_bad++;
	regs_done++;
}

SELFTEST(task_switch_keeps_registers)
{
	regs_done = regs_bad = 0;
	for (int i = 1; i <= 4; i++)
		ST_REQUIRE(task_spawn(regs_worker, (void *)(uintptr_t)(i * 1000), 0, "regs") != NULL);
	ST_REQUIRE(wait_count(&regs_done, 4));
	ST_CHECK(regs_bad == 0);
}

/* --- sleeping --------------------------------------------------------- */

static struct {
	int order[3], n;
	uint64_t start, woke[3], asked[3];
} sl;

static void sleep_worker(void *arg)
{
	int i = (int)(uintptr_t)arg;

	task_sleep_ns(sl.asked[i]);
	sl.woke[i] = time_now_ns();
	sl.order[sl.n++] = i;
}

SELFTEST(task_sleep_never_early)
{
	static const uint64_t lens[] = { 1 * NS_PER_MS, 5 * NS_PER_MS, 20 * NS_PER_MS, 300 * NS_PER_US };

	for (unsigned i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		uint64_t t0 = time_now_ns();
		task_sleep_ns(lens[i]);
		uint64_t dt = time_now_ns() - t0;
		ST_CHECK(dt >= lens[i]);
		ST_CHECK(dt < lens[i] + 200 * NS_PER_MS);
	}

	/* Three sleepers spawned out of order wake in deadline order. */
	memset(&sl, 0, sizeof sl);
	sl.asked[0] = 30 * NS_PER_MS;
	sl.asked[1] = 10 * NS_PER_MS;
	sl.asked[2] = 20 * NS_PER_MS;
	sl.start = time_now_ns();
	for (int i = 0; i < 3; i++)
		ST_REQUIRE(task_spawn(sleep_worker, (void *)(uintptr_t)i, 0, "sleeper") != NULL);
	ST_REQUIRE(wait_count(&sl.n, 3));
	ST_CHECK(sl.order[0] == 1 && sl.order[1] == 2 && sl.order[2] == 0);
	for (int i = 0; i < 3; i++)
		ST_CHECK(sl.woke[i] - sl.start >= sl.asked[i]);
}

/* --- events ----------------------------------------------------------- */

static struct {
	struct event ev, other;
	int result[4], done;
	uint64_t woke[4], signalled_at;
} evt;

static void event_waiter(void *arg)
{
	int i = (int)(uintptr_t)arg;

	evt.result[i] = event_wait(&evt.ev, 0);
	evt.woke[i] = time_now_ns();
	evt.done++;
}

static void event_signaller(void *arg)
{
	task_sleep_ns(5 * NS_PER_MS);
	evt.signalled_at = time_now_ns();
	event_signal(&evt.ev);
	evt.done++;
}

SELFTEST(event_wait_signal)
{
	memset(&evt, 0, sizeof evt);
	event_init(&evt.ev);
	for (int i = 0; i < 3; i++) {
		evt.result[i] = 99;
		ST_REQUIRE(task_spawn(event_waiter, (void *)(uintptr_t)i, 0, "waiter") != NULL);
	}
	ST_REQUIRE(task_spawn(event_signaller, NULL, 0, "signaller") != NULL);
	ST_REQUIRE(wait_count(&evt.done, 4));
	for (int i = 0; i < 3; i++) {
		ST_CHECK(evt.result[i] == K_OK);
		ST_CHECK(evt.woke[i] >= evt.signalled_at);
	}
	ST_CHECK(evt.ev.waiters == NULL);
	ST_CHECK(evt.ev.generation == 1);

	/* An event does not latch: a signal with nobody waiting is lost. */
	event_signal(&evt.ev);
	uint64_t t0 = time_now_ns();
	ST_CHECK(event_wait(&evt.ev, 10 * NS_PER_MS) == K_ETIMEDOUT);
	ST_CHECK(time_now_ns() - t0 >= 10 * NS_PER_MS);
}

static void timeout_waiter(void *arg)
{
	int i = (int)(uintptr_t)arg;

	/* 0 waits forever; 1 times out after 5 ms. */
	evt.result[i] = event_wait(&evt.ev, i == 1 ? 5 * NS_PER_MS : 0);
	evt.woke[i] = time_now_ns();
	evt.done++;
}

static void signalled_then_waits(void *arg)
{
	/* Signalled well before its 20 ms timeout: K_OK, and the timeout
	 * must not fire later, while it waits on another event. */
	evt.result[2] = event_wait(&evt.ev, 20 * NS_PER_MS);
	evt.done++;
	evt.result[3] = event_wait(&evt.other, 0);
	evt.done++;
}

SELFTEST(event_wait_timeout)
{
	uint64_t t0;

	memset(&evt, 0, sizeof evt);
	event_init(&evt.ev);
	event_init(&evt.other);

	/* Alone: times out, not early, and leaves the waiter list. */
	t0 = time_now_ns();
	ST_CHECK(event_wait(&evt.ev, 10 * NS_PER_MS) == K_ETIMEDOUT);
	ST_CHECK(time_now_ns() - t0 >= 10 * NS_PER_MS);
	ST_CHECK(evt.ev.waiters == NULL);

	/* Three waiters; the one with a 5 ms timeout leaves the list while
	 * the others stay and get the signal. */
	t0 = time_now_ns();
	for (int i = 0; i < 2; i++)
		ST_REQUIRE(task_spawn(timeout_waiter, (void *)(uintptr_t)i, 0, "tmo-waiter") != NULL);
	ST_REQUIRE(task_spawn(signalled_then_waits, NULL, 0, "sig-waiter") != NULL);
	ST_REQUIRE(wait_count(&evt.done, 1));
	ST_CHECK(evt.result[1] == K_ETIMEDOUT);
	ST_CHECK(evt.woke[1] - t0 >= 5 * NS_PER_MS);
	ST_CHECK(evt.ev.waiters != NULL);

	/* The signal reaches the two left; the ended one is not on the list
	 * (if it were, waking its freed struct would corrupt or panic). */
	event_signal(&evt.ev);
	ST_REQUIRE(wait_count(&evt.done, 3));
	ST_CHECK(evt.result[0] == K_OK);
	ST_CHECK(evt.result[1] == K_ETIMEDOUT);
	ST_CHECK(evt.result[2] == K_OK);
	ST_CHECK(evt.ev.waiters == NULL);

	/* Past the cancelled 20 ms timeout the task still waits on other. */
	task_sleep_ns(40 * NS_PER_MS);
	ST_CHECK(evt.done == 3);
	ST_CHECK(evt.other.waiters != NULL);
	event_signal(&evt.other);
	ST_REQUIRE(wait_count(&evt.done, 4));
	ST_CHECK(evt.result[3] == K_OK);
}

/* --- exit and reaping --------------------------------------------------- */

#define REAP_TASKS 16

static volatile int reap_done;

static void reap_worker(void *arg)
{
	volatile char buf[512];

	memset((char *)buf, (int)(uintptr_t)arg, sizeof buf);
	task_yield();
	reap_done++;
	if ((uintptr_t)arg & 1)
		task_exit();
	/* even ones return instead */
}

static bool reap_round(struct mem_stats *during)
{
	reap_done = 0;
	for (int i = 0; i < REAP_TASKS; i++)
		if (!task_spawn(reap_worker, (void *)(uintptr_t)i, 0, "reaped"))
			return false;
	if (during)
		mem_get_stats(during);
	return wait_count(&reap_done, REAP_TASKS);
}

SELFTEST(task_exit_reaps)
{
	struct mem_stats before, during, after;
	struct task_stats ts0, ts1;

	/* A first round may split large pages into 4 KiB tables for the
	 * guard pages; those tables stay. Measure the second round. */
	ST_REQUIRE(reap_round(NULL));
	task_yield();

	task_get_stats(&ts0);
	mem_get_stats(&before);
	ST_REQUIRE(reap_round(&during));
	task_yield();
	mem_get_stats(&after);
	task_get_stats(&ts1);

	ST_CHECK(during.used_bytes >= before.used_bytes + REAP_TASKS * TASK_STACK_DEFAULT);
	ST_CHECK(after.used_bytes == before.used_bytes);
	ST_CHECK(after.obj_bytes == before.obj_bytes);
	ST_CHECK(ts1.exited - ts0.exited == REAP_TASKS);
	ST_CHECK(ts1.live == ts0.live);

	/* The guard pages were mapped back before being freed: pages handed
	 * out again (zeroed by the allocator) are usable end to end. */
	size_t n = TASK_STACK_DEFAULT / PAGE_SIZE + 1;
	for (int i = 0; i < 4; i++) {
		uint8_t *p = page_alloc(n);
		ST_REQUIRE(p != NULL);
		memset(p, 0xa5, n * PAGE_SIZE);
		ST_CHECK(p[0] == 0xa5 && p[n * PAGE_SIZE - 1] == 0xa5);
		page_free(p, n);
	}
}

/* --- fault=stack -------------------------------------------------------- */

static volatile unsigned overflow_limit = ~0u;

static unsigned overflow_recurse(unsigned depth)
{
	volatile char frame[256];

	frame[0] = (char)depth;
	if (depth >= overflow_limit)
		return frame[0];
	return overflow_recurse(depth + 1) + frame[0];
}

static void overflow_task(void *arg)
{
	kprintf("fault: task %s recursing until its guard page\n", (const char *)arg);
	overflow_recurse(0);
}

/* Called by the runner (from app_main or a task); returns at once, and
 * the loop then runs the task into its guard page. Without the guard
 * page the recursion would silently overwrite the memory below the
 * stack; the host-side runner checks that the fault report names it. */
void selftest_fault_task_stack_overflow(void);
void selftest_fault_task_stack_overflow(void)
{
	if (!task_spawn(overflow_task, "overflow", 16 * 1024, "overflow"))
		panic("fault: cannot spawn the overflow task");
}
