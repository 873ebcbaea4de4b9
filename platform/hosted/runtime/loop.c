/*
 * loop.c - kiln/loop.h for a Linux process: the kernel's run loop with
 * poll(2) in place of the halt.
 *
 * Interface: kiln/loop.h; hosted_rt_init, hosted_loop_add_fd and
 * hosted_loop_stop in hosted_rt.h.
 *
 * A pass (loop_once) does what the kernel's does, in the same order:
 * every poller, the tasks ready when the pass began, the due timers.
 * loop_run() repeats passes; when one did nothing, no task is ready and
 * nobody called loop_kick(), it sleeps in poll() on the registered file
 * descriptors (the TAP device) until one is readable or the next timer
 * is due - the hosted form of "arm the local timer and halt". A signal
 * ends the sleep early (EINTR), which is how hosted_loop_stop() from a
 * handler takes effect: the runner keeps SIGINT and SIGTERM blocked
 * except inside ppoll(), so a stop cannot be missed.
 *
 * Rules: one process is one core (cpu 0). Pollers are caller-owned and
 * never removed. loop_once() inside a task yields instead, as in the
 * kernel.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <kiln/err.h>
#include <kiln/loop.h>
#include <kiln/panic.h>
#include <kiln/task.h>
#include <kiln/time.h>

#include "hosted_rt.h"
#include "hosted_rt_loop.h"

static struct poller *pollers;
static struct loop_stats stats;
static int kicked;
static int last_work;
static struct pollfd fds[HOSTED_MAX_FDS];
static unsigned nfds;
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_status;

void hosted_rt_init(void)
{
	pollers = NULL;
	memset(&stats, 0, sizeof stats);
	kicked = 0;
	last_work = 0;
	nfds = 0;
	stop_requested = 0;
	rt_timer_reset();
}

int hosted_loop_add_fd(int fd)
{
	if (nfds == HOSTED_MAX_FDS)
		return K_ENOSPC;
	fds[nfds++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	return K_OK;
}

void hosted_loop_stop(int status)
{
	stop_status = status;
	stop_requested = 1;
}

void loop_add_poller(struct poller *p)
{
	struct poller **pp = &pollers;

	while (*pp) {
		KASSERT(*pp != p);
		pp = &(*pp)->next;
	}
	p->next = NULL;
	*pp = p;
}

static int loop_pass(void)
{
	int work = 0, n;

	stats.passes++;
	for (struct poller *p = pollers; p; p = p->next) {
		n = p->fn(p->ctx);
		if (n > 0) {
			work += n;
			stats.polls_with_work++;
		}
	}
	if (rt_task_any_ready()) {
		n = rt_task_run_ready();
		stats.tasks_run += (uint64_t)n;
		work += n;
	}
	n = rt_timer_run_due();
	if (n > 0) {
		stats.timers_fired += (uint64_t)n;
		work += n;
	}
	if (work)
		stats.busy_passes++;
	last_work = work;
	return work;
}

int loop_once(void)
{
	if (rt_in_task()) {
		task_yield();
		return last_work;
	}
	return loop_pass();
}

void loop_kick(void)
{
	kicked = 1;
}

/* Nothing to do: sleep until a descriptor is readable or a timer is due. */
static void loop_idle(void)
{
	uint64_t next = rt_timer_next_deadline();
	uint64_t now = time_now_ns();
	struct timespec ts, *tsp = NULL;
	sigset_t none;

	if (next != UINT64_MAX) {
		if (next <= now)
			return;
		ts.tv_sec = (time_t)((next - now) / NS_PER_SEC);
		ts.tv_nsec = (long)((next - now) % NS_PER_SEC);
		tsp = &ts;
	}
	/* Signals the runner keeps blocked are let in only while asleep, so
	 * a stop request cannot slip in between the check and the sleep. */
	sigemptyset(&none);
	stats.halts++;
	if (ppoll(fds, nfds, tsp, &none) < 0 && errno != EINTR)
		panic("loop: poll failed (errno %d)", errno);
	stats.wakeups++;
}

__attribute__((noreturn)) void loop_run(void)
{
	KASSERT(!rt_in_task());
	for (;;) {
		if (stop_requested)
			exit(stop_status);
		if (loop_pass() || rt_task_any_ready())
			continue;
		if (kicked) {
			kicked = 0;
			continue;
		}
		if (stop_requested)
			continue;
		loop_idle();
	}
}

void loop_get_stats(unsigned cpu, struct loop_stats *out)
{
	(void)cpu;
	*out = stats;
}
