/*
 * task_wait.h - deadlines for the waiting calls of net/tcp_task.c and
 * net/udp_task.c: a call's timeout becomes one deadline when it starts,
 * so waking up and waiting again does not restart the clock.
 */
#ifndef NET_TASK_WAIT_H
#define NET_TASK_WAIT_H

#include <stdint.h>

#include <kiln/err.h>
#include <kiln/task.h>
#include <kiln/time.h>

/* The deadline of a call with timeout_ns (0: none, returned as 0). */
static inline uint64_t task_deadline_of(uint64_t timeout_ns)
{
	if (timeout_ns == 0)
		return 0;
	uint64_t now = time_now_ns();
	return now + timeout_ns < now ? UINT64_MAX : now + timeout_ns;
}

/* Waits on ev until signalled or the deadline (0: none): K_OK or
 * K_ETIMEDOUT. */
static inline int task_wait_until(struct event *ev, uint64_t deadline)
{
	if (deadline == 0)
		return event_wait(ev, 0);
	uint64_t now = time_now_ns();
	if (now >= deadline)
		return K_ETIMEDOUT;
	return event_wait(ev, deadline - now);
}

#endif
