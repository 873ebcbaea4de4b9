/*
 * task_priv.h - what the run loop (runtime/loop.c) needs from the task
 * module, and the layout of struct task. Nothing outside runtime/
 * includes this.
 */
#ifndef KILN_RUNTIME_TASK_PRIV_H
#define KILN_RUNTIME_TASK_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/task.h>
#include <kiln/timer.h>

enum task_state {
	TASK_READY,      /* on its core's ready queue */
	TASK_RUNNING,    /* this_cpu()->current */
	TASK_SLEEPING,   /* task_sleep_ns: only its timer wakes it */
	TASK_WAITING,    /* event_wait: on ev->waiters, maybe a timer too */
	TASK_DEAD,       /* ended; reaped by the loop after switching away */
};

#define TASK_NAME_MAX 24

/*
 * A task lives at the top of its own page allocation: guard page (lowest,
 * unmapped), then the stack growing down towards it, then this struct.
 */
struct task {
	struct arch_ctx ctx;          /* saved sp while not running */
	struct task *next;            /* ready queue link */
	struct task *wait_next;       /* event waiter list link */
	struct task **wait_pprev;     /* the pointer that points at us */
	struct event *waiting_on;     /* set while TASK_WAITING */
	struct timer timer;           /* sleep and wait timeouts */
	task_fn fn;
	void *arg;
	void *mem;                    /* page_alloc() result; guard page first */
	size_t npages;
	enum task_state state;
	int wait_result;              /* K_OK or K_ETIMEDOUT from event_wait */
	unsigned cpu;                 /* the core it belongs to */
	uint64_t id;
	char name[TASK_NAME_MAX];
};

/* Runs, once each, the tasks that are ready on this core when called
 * (tasks made ready meanwhile wait for the next call); reaps those that
 * ended. Returns how many ran. Only on the loop's own stack. */
int task_run_ready(void);
/* True when a task is ready to run on this core. */
bool task_any_ready(void);

#endif
