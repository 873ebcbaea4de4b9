/*
 * x86.h - private interfaces between the files of arch/x86_64.
 */
#ifndef ARCH_X86_64_X86_H
#define ARCH_X86_64_X86_H

#include <stdint.h>

#include <kiln/arch.h>

/* Interrupt vectors. 0-31 are CPU exceptions. */
#define VEC_IRQ_FIRST 0x30   /* device interrupts (arch_irq_alloc) */
#define VEC_IRQ_LAST 0xEE
#define VEC_TIMER 0xEF       /* local APIC timer */
#define VEC_SPURIOUS 0xFF

/* trap.c: sets the handler of an interrupt vector (>= 32). Handlers run
 * with interrupts off; after the handler the trap code sends the EOI and
 * marks the loop as woken. */
void irq_set_handler(int vector, irq_fn fn, void *arg);

/* time.c: the TSC value at monotonic time ns, rounded up (for the
 * TSC-deadline timer). Valid after arch_time_init(). */
uint64_t tsc_from_ns(uint64_t ns);

/* lapic.c */
void lapic_init(void);
void lapic_eoi(void);
uint32_t lapic_id(void);

/* cpu.c: CPUID features probed once at boot. */
struct x86_features {
	int rdrand, rdseed, x2apic, tsc_deadline, invariant_tsc, kvm, kvmclock;
	int pdpe1gb, nx, fsgsbase, xsave, avx;
	uint32_t max_leaf, max_ext_leaf;
	char vendor[13], hypervisor[13];
};
extern struct x86_features x86_cpu;
void x86_cpu_probe(void);

/* serial.c: the 16550 console at COM1. */
void serial_init(void);
void serial_write(const char *s, unsigned long n);

#endif
