/*
 * hosted_rt.h - the hosted runtime: kiln/timer.h, kiln/loop.h and
 * kiln/task.h for a Linux process (platform/hosted/runtime/, archive
 * libkiln_rt.a). The TAP runner and the tests that want a real loop link
 * it; the plain unit tests do not, so they may define their own.
 *
 * One process is one core. The loop polls its pollers, runs ready tasks
 * and fires due timers like the kernel's; when a pass does nothing it
 * sleeps in poll(2) on the registered file descriptors until the next
 * timer deadline (the kernel halts until an interrupt instead). Tasks are
 * ucontext coroutines on mmap'd stacks with a PROT_NONE guard page,
 * annotated for AddressSanitizer.
 */
#ifndef KILN_HOSTED_RT_H
#define KILN_HOSTED_RT_H

#include <stdint.h>

/* (Re)starts the runtime: an empty timer wheel at time_now_ns(), no
 * pollers and no file descriptors. Tests call it after choosing their
 * clock; tasks that are still alive must not exist. */
void hosted_rt_init(void);

/* Makes the idle loop wake when fd is readable. K_OK or K_ENOSPC. */
#define HOSTED_MAX_FDS 16
int hosted_loop_add_fd(int fd);

/* Ends loop_run() with exit(status) at the end of the current pass.
 * Async-signal-safe (the runner calls it from SIGINT/SIGTERM). */
void hosted_loop_stop(int status);

#endif
