/*
 * task.h - cooperative stackful tasks, for code that must wait.
 *
 * A task runs on its own stack (with an unmapped guard page below it) on
 * the core that spawned it, until it calls one of the waiting functions
 * below or returns. There is no preemption: between two waits a task
 * owns the core. The waiting calls may only be made from inside a task;
 * loop callbacks (pollers, timers, protocol handlers) must not wait.
 */
#ifndef KILN_TASK_H
#define KILN_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct task;
typedef void (*task_fn)(void *arg);

#define TASK_STACK_DEFAULT (64 * 1024)

/* Creates a ready task; returns NULL when out of memory. */
struct task *task_spawn(task_fn fn, void *arg, size_t stack_size, const char *name);
/* The running task, or NULL on the loop's own stack. */
struct task *task_current(void);
/* Lets the rest of the loop run, then continues. */
void task_yield(void);
/* Sleeps for at least ns. */
void task_sleep_ns(uint64_t ns);
/* Ends the running task (returning from its function does the same). */
__attribute__((noreturn)) void task_exit(void);

/*
 * An event a task can wait for. Signalling wakes every waiter; waking is
 * done by the loop, so event_signal() may be called from any loop
 * context (not from interrupt handlers).
 */
struct event {
	struct task *waiters;
	uint32_t generation;
};
void event_init(struct event *ev);
/* Waits for the next event_signal(); returns K_ETIMEDOUT after timeout_ns
 * (0 waits forever), K_OK when signalled. */
int event_wait(struct event *ev, uint64_t timeout_ns);
void event_signal(struct event *ev);

struct task_stats {
	uint64_t spawned, exited, switches;
	uint32_t live;
};
void task_get_stats(struct task_stats *out);

#endif
