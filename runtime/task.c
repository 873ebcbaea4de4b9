/*
 * task.c - cooperative stackful tasks and events (kiln/task.h).
 *
 * A task is one page allocation: the lowest page is unmapped
 * (arch_page_unmap) as a guard, so running off the end of the stack
 * faults instead of corrupting memory; the stack grows down from just
 * below struct task, which sits at the top. stack_size counts the stack
 * and the struct (a few hundred bytes), not the guard page.
 *
 * Interface: task_spawn/yield/sleep_ns/exit, event_init/wait/signal,
 * task_get_stats; for the loop, task_run_ready() and task_any_ready()
 * (task_priv.h).
 *
 * Rules:
 *  - Tasks belong to the core that spawned them and never move. Each core
 *    has its own ready queue (this_cpu()->ready_head/tail) and current
 *    task; nothing here is shared between cores, so there are no locks.
 *    An event is likewise used by the tasks of one core.
 *  - Switches happen only between a task and its core's loop: the loop
 *    resumes a task (task_run_ready), the task runs until it waits or
 *    ends and switches back. Tasks never switch to each other directly,
 *    so the loop's stack is the only other context and a pass's order is
 *    simply the ready queue's order.
 *  - A task that ends is marked dead and switches back; the loop, now on
 *    its own stack, maps the guard page back and frees the pages. No code
 *    ever frees the stack it runs on.
 *  - Waking (timer expiry, event_signal) only moves a task to the ready
 *    tail; it runs on the next loop pass. A sleeping or waiting task
 *    owns one armed struct timer at most; a waiter woken by a signal has
 *    its timer cancelled, a waiter that times out leaves the event's
 *    waiter list.
 */
#include <string.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/mem.h>
#include <kiln/panic.h>
#include <kiln/percpu.h>
#include <kiln/task.h>
#include <kiln/timer.h>

#include "task_priv.h"

/* Below this a task could not even call klog safely. */
#define TASK_STACK_MIN (8 * 1024)

/* Per-core task state that percpu.h has no fields for. */
struct task_cpu {
	struct arch_ctx loop_ctx;     /* the loop, while a task runs */
	struct task_stats stats;
} __attribute__((aligned(64)));

static struct task_cpu task_cpus[MAX_CPUS];

static struct task_cpu *task_cpu_this(const struct percpu *c)
{
	return &task_cpus[c->cpu];
}

static struct task *task_running(const char *what)
{
	struct task *t = this_cpu()->current;

	if (!t)
		panic("%s called outside a task", what);
	KASSERT(t->state == TASK_RUNNING);
	return t;
}

/* Appends t to its core's ready queue; a ready task stays where it is. */
static void task_make_ready(struct task *t)
{
	struct percpu *c = this_cpu();

	if (t->state == TASK_READY)
		return;
	if (t->cpu != c->cpu)
		panic("task %s of cpu %u woken on cpu %u", t->name, t->cpu, c->cpu);
	t->state = TASK_READY;
	t->next = NULL;
	if (c->ready_tail)
		c->ready_tail->next = t;
	else
		c->ready_head = t;
	c->ready_tail = t;
}

/* From the running task back to the loop; returns when resumed. */
static void task_switch_to_loop(struct task *t)
{
	arch_ctx_switch(&t->ctx, &task_cpus[t->cpu].loop_ctx);
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

/* The timer of a sleeping task, or of a waiter whose timeout expired. */
static void task_timer_fired(struct timer *tm, void *arg)
{
	struct task *t = arg;

	if (t->state == TASK_WAITING) {
		task_unlink_waiter(t);
		t->wait_result = K_ETIMEDOUT;
	} else if (t->state != TASK_SLEEPING) {
		panic("task %s: timer fired in state %d", t->name, (int)t->state);
	}
	task_make_ready(t);
}

/* The first code of every task, reached through the arch trampoline. */
static void task_entry(void *arg)
{
	struct task *t = arg;

	t->fn(t->arg);
	task_exit();
}

struct task *task_spawn(task_fn fn, void *arg, size_t stack_size, const char *name)
{
	struct percpu *c = this_cpu();
	struct task_cpu *tc = task_cpu_this(c);
	struct task *t;
	uint8_t *mem;
	size_t npages, len;

	if (stack_size == 0)
		stack_size = TASK_STACK_DEFAULT;
	if (stack_size < TASK_STACK_MIN)
		stack_size = TASK_STACK_MIN;
	npages = 1 + (stack_size + PAGE_SIZE - 1) / PAGE_SIZE;
	mem = page_alloc(npages);
	if (!mem)
		return NULL;
	if (arch_page_unmap((uintptr_t)mem) != K_OK) {
		page_free(mem, npages);
		return NULL;
	}

	/* page_alloc zeroes, so every field not set below starts at 0/NULL. */
	t = (struct task *)(((uintptr_t)mem + npages * PAGE_SIZE - sizeof(*t)) & ~(uintptr_t)15);
	t->fn = fn;
	t->arg = arg;
	t->mem = mem;
	t->npages = npages;
	t->cpu = c->cpu;
	t->id = ++tc->stats.spawned;
	t->state = TASK_SLEEPING;       /* not yet ready; made so below */
	if (!name)
		name = "task";
	len = strnlen(name, TASK_NAME_MAX - 1);
	memcpy(t->name, name, len);
	t->name[len] = '\0';
	timer_init(&t->timer, task_timer_fired, t);
	arch_ctx_init(&t->ctx, t, task_entry, t);

	task_make_ready(t);
	log_debug("task: spawned %s (#%llu, %zu KiB stack)", t->name,
		  (unsigned long long)t->id, stack_size / 1024);
	return t;
}

/* The loop, on its own stack: t ended, give its pages back. */
static void task_reap(struct task_cpu *tc, struct task *t)
{
	void *mem = t->mem;
	size_t npages = t->npages;

	KASSERT(!timer_armed(&t->timer) && !t->waiting_on);
	log_debug("task: %s (#%llu) ended", t->name, (unsigned long long)t->id);
	if (arch_page_map_data((uintptr_t)mem) != K_OK)
		panic("task %s: cannot map its guard page back", t->name);
	page_free(mem, npages);
	tc->stats.exited++;
}

int task_run_ready(void)
{
	struct percpu *c = this_cpu();
	struct task_cpu *tc = task_cpu_this(c);
	struct task *t, *next;
	int n = 0;

	KASSERT(!c->current);
	/* Detach the batch: whatever becomes ready meanwhile waits a pass. */
	t = c->ready_head;
	c->ready_head = c->ready_tail = NULL;
	for (; t; t = next) {
		next = t->next;
		t->next = NULL;
		KASSERT(t->state == TASK_READY);
		t->state = TASK_RUNNING;
		c->current = t;
		tc->stats.switches++;
		arch_ctx_switch(&tc->loop_ctx, &t->ctx);
		c->current = NULL;
		if (t->state == TASK_DEAD)
			task_reap(tc, t);
		n++;
	}
	return n;
}

bool task_any_ready(void)
{
	return this_cpu()->ready_head != NULL;
}

struct task *task_current(void)
{
	return this_cpu()->current;
}

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
	/* Waiters are pushed at the head; wake them oldest first. */
	for (; t; t = next) {
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
	uint64_t spawned = 0, exited = 0, switches = 0;

	for (unsigned i = 0; i < MAX_CPUS; i++) {
		spawned += task_cpus[i].stats.spawned;
		exited += task_cpus[i].stats.exited;
		switches += task_cpus[i].stats.switches;
	}
	out->spawned = spawned;
	out->exited = exited;
	out->switches = switches;
	out->live = (uint32_t)(spawned - exited);
}
