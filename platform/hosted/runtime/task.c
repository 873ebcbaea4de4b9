/*
 * task.c - kiln/task.h for a Linux process: cooperative tasks as
 * ucontext coroutines, and events.
 *
 * Interface: kiln/task.h; rt_task_* in hosted_rt_loop.h for the hosted loop.
 *
 * Rules (the kernel's runtime/task.c, on Linux primitives):
 *  - A task's stack is an mmap'd region whose lowest page is PROT_NONE,
 *    so an overflow faults (SIGSEGV) instead of corrupting memory. The
 *    loop frees it (munmap) after the task ended and switched away.
 *  - Switches happen only between a task and the loop: the loop resumes
 *    a task, the task runs until it waits or ends and switches back.
 *  - Waking (timer, event_signal) only queues the task; it runs in the
 *    next pass. A waiting task holds one armed timer at most.
 *  - Each switch is announced to AddressSanitizer
 *    (__sanitizer_start/finish_switch_fiber), which otherwise takes the
 *    other stack for a buffer overflow.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/panic.h>
#include <kiln/task.h>
#include <kiln/timer.h>

#include "hosted_rt_loop.h"

#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#ifdef RT_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define TASK_STACK_MIN (16 * 1024)
#define TASK_NAME_MAX 24

enum task_state { TASK_READY, TASK_RUNNING, TASK_SLEEPING, TASK_WAITING, TASK_DEAD };

struct task {
	ucontext_t ctx;
	struct task *next;            /* ready queue */
	struct task *wait_next;       /* event waiters */
	struct task **wait_pprev;
	struct event *waiting_on;
	struct timer timer;
	task_fn fn;
	void *arg;
	uint8_t *map;                 /* the mmap: guard page, then the stack */
	size_t map_len;
	enum task_state state;
	int wait_result;
	uint64_t id;
	void *asan_fake;              /* ASan's fake stack while switched out */
	char name[TASK_NAME_MAX];
};

static ucontext_t loop_ctx;
static struct task *current, *ready_head, *ready_tail;
static struct task_stats stats;
#ifdef RT_ASAN
static const void *loop_stack_bottom;
static size_t loop_stack_size;
static void *loop_asan_fake;
#endif

static struct task *task_running(const char *what)
{
	if (!current)
		panic("%s called outside a task", what);
	KASSERT(current->state == TASK_RUNNING);
	return current;
}

static void task_make_ready(struct task *t)
{
	if (t->state == TASK_READY)
		return;
	t->state = TASK_READY;
	t->next = NULL;
	if (ready_tail)
		ready_tail->next = t;
	else
		ready_head = t;
	ready_tail = t;
}

/* The running task gives the process back to the loop. */
static void task_switch_to_loop(struct task *t)
{
#ifdef RT_ASAN
	/* A task that ended passes NULL: ASan drops its fake stack. */
	__sanitizer_start_switch_fiber(t->state == TASK_DEAD ? NULL : &t->asan_fake,
				       loop_stack_bottom, loop_stack_size);
#endif
	swapcontext(&t->ctx, &loop_ctx);
#ifdef RT_ASAN
	__sanitizer_finish_switch_fiber(t->asan_fake, NULL, NULL);
#endif
}

static void task_unlink_waiter(struct task *t)
{
	*t->wait_pprev = t->wait_next;
	if (t->wait_next)
		t->wait_next->wait_pprev = t->wait_pprev;
	t->wait_next = NULL;
	t->wait_pprev = NULL;
	t->waiting_on = NULL;
}

static void task_timer_fired(struct timer *tm, void *arg)
{
	struct task *t = arg;
	(void)tm;

	if (t->state == TASK_WAITING) {
		task_unlink_waiter(t);
		t->wait_result = K_ETIMEDOUT;
	} else if (t->state != TASK_SLEEPING) {
		panic("task %s: timer fired in state %d", t->name, (int)t->state);
	}
	task_make_ready(t);
}

static void task_entry(void)
{
	struct task *t = current;

#ifdef RT_ASAN
	__sanitizer_finish_switch_fiber(NULL, &loop_stack_bottom, &loop_stack_size);
#endif
	t->fn(t->arg);
	task_exit();
}

/* Apart from task_spawn: getcontext() returns twice, which would make
 * every local of the caller suspect. */
static __attribute__((noinline)) void task_ctx_init(struct task *t, void *stack, size_t size)
{
	getcontext(&t->ctx);
	t->ctx.uc_stack.ss_sp = stack;
	t->ctx.uc_stack.ss_size = size;
	t->ctx.uc_link = NULL;
	makecontext(&t->ctx, task_entry, 0);
}

struct task *task_spawn(task_fn fn, void *arg, size_t stack_size, const char *name)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct task *t;

	if (stack_size == 0)
		stack_size = TASK_STACK_DEFAULT;
	if (stack_size < TASK_STACK_MIN)
		stack_size = TASK_STACK_MIN;
	/* ASan's instrumentation makes frames larger: give it room. */
	stack_size = (stack_size * 2 + page - 1) & ~(page - 1);
	size_t len = page + stack_size + ((sizeof *t + page - 1) & ~(page - 1));
	uint8_t *map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED)
		return NULL;
	if (mprotect(map, page, PROT_NONE) != 0) {
		munmap(map, len);
		return NULL;
	}
	t = (struct task *)(map + page + stack_size);
	memset(t, 0, sizeof *t);
	t->fn = fn;
	t->arg = arg;
	t->map = map;
	t->map_len = len;
	t->id = ++stats.spawned;
	t->state = TASK_SLEEPING;
	if (!name)
		name = "task";
	size_t n = strnlen(name, TASK_NAME_MAX - 1);
	memcpy(t->name, name, n);
	timer_init(&t->timer, task_timer_fired, t);
	task_ctx_init(t, map + page, stack_size);
	task_make_ready(t);
	return t;
}

static void task_reap(struct task *t)
{
	KASSERT(!timer_armed(&t->timer) && !t->waiting_on);
	munmap(t->map, t->map_len);
	stats.exited++;
}

int rt_task_run_ready(void)
{
	struct task *t, *next;
	int n = 0;

	KASSERT(!current);
	t = ready_head;
	ready_head = ready_tail = NULL;
	for (; t; t = next) {
		next = t->next;
		t->next = NULL;
		KASSERT(t->state == TASK_READY);
		t->state = TASK_RUNNING;
		current = t;
		stats.switches++;
#ifdef RT_ASAN
		__sanitizer_start_switch_fiber(&loop_asan_fake, t->ctx.uc_stack.ss_sp,
					       t->ctx.uc_stack.ss_size);
#endif
		swapcontext(&loop_ctx, &t->ctx);
#ifdef RT_ASAN
		__sanitizer_finish_switch_fiber(loop_asan_fake, NULL, NULL);
#endif
		current = NULL;
		if (t->state == TASK_DEAD)
			task_reap(t);
		n++;
	}
	return n;
}

bool rt_task_any_ready(void) { return ready_head != NULL; }
bool rt_in_task(void) { return current != NULL; }
struct task *task_current(void) { return current; }

void task_yield(void)
{
	struct task *t = task_running("task_yield");

	task_make_ready(t);
	task_switch_to_loop(t);
}

void task_sleep_ns(uint64_t ns)
{
	struct task *t = task_running("task_sleep_ns");

	if (ns == 0) {
		task_yield();
		return;
	}
	t->state = TASK_SLEEPING;
	timer_arm_in(&t->timer, ns);
	task_switch_to_loop(t);
}

__attribute__((noreturn)) void task_exit(void)
{
	struct task *t = task_running("task_exit");

	t->state = TASK_DEAD;
	task_switch_to_loop(t);
	panic("task %s resumed after it ended", t->name);
}

void event_init(struct event *ev)
{
	ev->waiters = NULL;
	ev->generation = 0;
}

int event_wait(struct event *ev, uint64_t timeout_ns)
{
	struct task *t = task_running("event_wait");

	t->wait_next = ev->waiters;
	if (t->wait_next)
		t->wait_next->wait_pprev = &t->wait_next;
	t->wait_pprev = &ev->waiters;
	ev->waiters = t;
	t->waiting_on = ev;
	t->wait_result = K_OK;
	t->state = TASK_WAITING;
	if (timeout_ns)
		timer_arm_in(&t->timer, timeout_ns);
	task_switch_to_loop(t);
	return t->wait_result;
}

void event_signal(struct event *ev)
{
	struct task *t = ev->waiters, *next, *fifo = NULL;

	ev->waiters = NULL;
	ev->generation++;
	for (; t; t = next) {               /* oldest waiter first */
		next = t->wait_next;
		t->wait_next = fifo;
		fifo = t;
	}
	for (t = fifo; t; t = next) {
		next = t->wait_next;
		t->wait_next = NULL;
		t->wait_pprev = NULL;
		t->waiting_on = NULL;
		timer_cancel(&t->timer);
		t->wait_result = K_OK;
		task_make_ready(t);
	}
}

void task_get_stats(struct task_stats *out)
{
	*out = stats;
	out->live = (uint32_t)(stats.spawned - stats.exited);
}
