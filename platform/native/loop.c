/*
 * loop.c - kiln/loop.h for the native runner: the kernel's run loop with
 * epoll in place of the NIC poll and the halt.
 *
 * Interface: kiln/loop.h; native_loop_init, native_ev_add and
 * native_loop_stop in native.h.
 *
 * A pass waits in epoll_pwait2() (at once when work is queued, else until
 * the next timer deadline), dispatches every ready descriptor to its
 * handler (sockets: tcp.c, net.c), serves connections with deferred work,
 * then does what the kernel's pass does, in the same order: every
 * poller, the tasks ready when the pass began, the due timers. Writes
 * made by tasks and timers are flushed before the next wait, so a pass's
 * output leaves in one batch per connection - the native form of "one
 * kick per loop pass".
 *
 * The timer wheel and the tasks are the hosted runtime's
 * (platform/hosted/runtime/timer.c and task.c, through its hosted_rt_loop.h);
 * this file replaces only its poll(2) loop.
 *
 * Rules: one process is one core. Its loop counters live in a page
 * shared by all cores (native_loop_shared_init), so telemetry on any
 * core can show every core's; each core writes only its own slot. SIGTERM and SIGINT stay blocked except
 * inside the wait, so a stop request cannot slip in between the check
 * and the sleep. Pollers are caller-owned and never removed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <kiln/err.h>
#include <kiln/loop.h>
#include <kiln/panic.h>
#include <kiln/task.h>
#include <kiln/time.h>

#include "native.h"
#include "hosted_rt_loop.h"

static int epfd = -1;
static struct poller *pollers;
static struct loop_stats own_stats;
static struct loop_stats *shared_stats;   /* every core's, MAP_SHARED */
static unsigned shared_n;

static struct loop_stats *cur_stats = &own_stats;
static int kicked;
static int last_work;
static bool have_pwait2 = true;
static struct epoll_event events[NATIVE_EVENTS];
static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stop_status;

int native_loop_shared_init(unsigned ncpus)
{
	void *p = mmap(NULL, ncpus * sizeof(struct loop_stats), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -errno;
	shared_stats = p;
	shared_n = ncpus;
	return 0;
}

int native_loop_init(void)
{
	if (shared_stats && native_cfg.cpu < shared_n)
		cur_stats = &shared_stats[native_cfg.cpu];
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	rt_timer_reset();
	return 0;
}

int native_ev_add(int fd, struct native_ev *ev, uint32_t ev_mask)
{
	struct epoll_event e = { .events = ev_mask, .data.ptr = ev };

	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e) < 0)
		return -errno;
	return 0;
}

void native_loop_stop(int status)
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

/* Waits for descriptors: not at all when block is false, else until the
 * next timer deadline (forever without one). Returns the events taken. */
static int loop_wait(bool block)
{
	struct timespec ts = { 0, 0 }, *tsp = &ts;
	sigset_t none;
	int n;

	if (block) {
		uint64_t next = rt_timer_next_deadline(), now = time_now_ns();
		if (next == UINT64_MAX) {
			tsp = NULL;
		} else if (next > now) {
			ts.tv_sec = (time_t)((next - now) / NS_PER_SEC);
			ts.tv_nsec = (long)((next - now) % NS_PER_SEC);
		}
		if (tsp == NULL || ts.tv_sec || ts.tv_nsec)
			cur_stats->halts++;
		else
			block = false;
	}
	sigemptyset(&none);
	if (have_pwait2) {
		n = epoll_pwait2(epfd, events, NATIVE_EVENTS, tsp, &none);
		if (n < 0 && errno == ENOSYS)
			have_pwait2 = false;
	}
	if (!have_pwait2) {
		int ms = -1;
		if (tsp)    /* rounded up: a timer never fires early */
			ms = (int)(ts.tv_sec * 1000 + (ts.tv_nsec + 999999) / 1000000);
		n = epoll_pwait(epfd, events, NATIVE_EVENTS, ms, &none);
	}
	if (n < 0) {
		if (errno != EINTR)
			panic("loop: epoll_wait failed (errno %d)", errno);
		n = 0;
	}
	if (block)
		cur_stats->wakeups++;
	return n;
}

/* One pass. Returns the work that asks for another pass without sleeping
 * (pollers, tasks, timers, deferred connection work); descriptor events
 * alone do not, as the next wait returns at once if more are ready. */
static int loop_pass(bool block)
{
	int work = 0, n, nev;

	cur_stats->passes++;
	nev = loop_wait(block);
	for (int i = 0; i < nev; i++) {
		struct native_ev *ev = events[i].data.ptr;
		ev->fn(ev, events[i].events);
	}
	native_tcp_run_pending();
	for (struct poller *p = pollers; p; p = p->next) {
		n = p->fn(p->ctx);
		if (n > 0) {
			work += n;
			cur_stats->polls_with_work++;
		}
	}
	if (rt_task_any_ready()) {
		n = rt_task_run_ready();
		cur_stats->tasks_run += (uint64_t)n;
		work += n;
	}
	n = rt_timer_run_due();
	if (n > 0) {
		cur_stats->timers_fired += (uint64_t)n;
		work += n;
	}
	native_tcp_run_pending();
	native_tcp_reap();
	if (work || nev)
		cur_stats->busy_passes++;
	last_work = work + nev;
	return work;
}

int loop_once(void)
{
	if (rt_in_task()) {
		task_yield();
		return last_work;
	}
	loop_pass(false);
	return last_work;
}

void loop_kick(void)
{
	kicked = 1;
}

__attribute__((noreturn)) void loop_run(void)
{
	bool block = true;

	KASSERT(!rt_in_task());
	for (;;) {
		if (stop_requested)
			exit(stop_status);
		int work = loop_pass(block);
		block = !(work || kicked || rt_task_any_ready() || native_tcp_has_pending());
		kicked = 0;
	}
}

/* Any core's counters: each core writes only its own slot; a reader on
 * another core sees recent values (64-bit stores do not tear on x86_64). */
void loop_get_stats(unsigned cpu, struct loop_stats *out)
{
	if (cpu == native_cfg.cpu)
		*out = *cur_stats;
	else if (shared_stats && cpu < shared_n)
		*out = *(volatile struct loop_stats *)&shared_stats[cpu];
	else
		memset(out, 0, sizeof *out);
}
