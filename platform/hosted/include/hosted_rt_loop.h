/*
 * hosted_rt_loop.h - the hosted runtime's timer wheel and tasks
 * (platform/hosted/runtime/timer.c, task.c) as a run loop drives them.
 * Two loops do: the hosted runtime's own (runtime/loop.c there) and the
 * native runner's epoll loop (platform/native/loop.c). Apps and tests use
 * hosted_rt.h and kiln/loop.h instead.
 */
#ifndef KILN_HOSTED_RT_LOOP_H
#define KILN_HOSTED_RT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* timer.c */
void rt_timer_reset(void);
/* Fires every due timer; returns how many fired. */
int rt_timer_run_due(void);
/* When the wheel next has work (tw_next_deadline), UINT64_MAX: never. */
uint64_t rt_timer_next_deadline(void);

/* task.c */
/* Runs, once each, the tasks ready when called; reaps those that ended.
 * Returns how many ran. Only from the loop's own context. */
int rt_task_run_ready(void);
bool rt_task_any_ready(void);
/* True inside a task. */
bool rt_in_task(void);

#endif
