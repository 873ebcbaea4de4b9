/*
 * percpu.h - state owned by one core, reached through the arch's per-CPU
 * register (GS on x86_64). Nothing here is shared: no locks. Subsystems
 * keep their per-core parts here so SMP needs no redesign.
 */
#ifndef KILN_PERCPU_H
#define KILN_PERCPU_H

#include <stdint.h>

#include <kiln/loop.h>

#define MAX_CPUS 8

struct timer_wheel;
struct task;

struct percpu {
	struct percpu *self;          /* must be first: %gs:0 */
	unsigned cpu;
	uint64_t canary_pad[4];       /* unused; keeps layout stable */
	struct loop_stats loop;
	struct poller *pollers;
	struct timer_wheel *wheel;
	struct task *current;         /* running task, NULL on the loop stack */
	struct task *ready_head, *ready_tail;
	int kicked;                   /* loop_kick() since the last idle check */
	volatile int irq_pending;     /* set by interrupt handlers */
};

struct percpu *this_cpu(void);
struct percpu *percpu_of(unsigned cpu);
void percpu_init_boot(void);

#endif
