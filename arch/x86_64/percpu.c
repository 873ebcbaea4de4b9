/*
 * percpu.c - per-CPU blocks, reached through the GS base.
 *
 * %gs:0 holds the block's own address, so this_cpu() is one load. The
 * boot core's block is static; application processors get theirs when
 * SMP arrives. The block also carries the core's TLS area for the stack
 * protector, which FS points at (entry.S set up the boot core's).
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/panic.h>
#include <kiln/percpu.h>

#include "x86.h"

static struct percpu cpus[MAX_CPUS];
static int percpu_ready;

struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__("mov %%gs:0, %0" : "=r"(p));
	return p;
}

struct percpu *percpu_of(unsigned cpu)
{
	KASSERT(cpu < MAX_CPUS);
	return &cpus[cpu];
}

void percpu_init_boot(void)
{
	struct percpu *p = &cpus[0];
	p->self = p;
	p->cpu = 0;
	wrmsr(MSR_GS_BASE, (uintptr_t)p);
	percpu_ready = 1;
}

unsigned arch_cpu_id(void)
{
	return percpu_ready ? this_cpu()->cpu : 0;
}
