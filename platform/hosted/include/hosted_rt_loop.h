/*
 * rt_priv.h - what the hosted runtime's files share (timer.c, task.c,
 * loop.c); nothing outside platform/hosted/runtime/ includes it.
 */
#ifndef KILN_HOSTED_RT_PRIV_H
#define KILN_HOSTED_RT_PRIV_H

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
