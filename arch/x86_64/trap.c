/*
 * trap.c - CPU exceptions and interrupt dispatch.
 *
 * Exceptions are never recovered: Kiln has no demand paging and no user
 * mode, so an exception is a bug. The report names the exception, decodes
 * page faults (null dereference, write to read-only memory, execution of
 * data, a stack overflow into a guard page), prints every register and a
 * symbolized backtrace, and exits the VM with status 3.
 *
 * Interrupts (vectors >= 32) only wake the run loop: the handler set with
 * irq_set_handler() runs (it must be tiny), the local APIC gets its EOI,
 * and this_cpu()->irq_pending is set for the loop to see.
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/percpu.h>

#include "x86.h"
#include "x86_priv.h"

#define FAULT_EXIT_STATUS 3

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD exception", "#VE virtualization",
	"#CP control protection", "reserved", "reserved", "reserved", "reserved",
	"reserved", "reserved", "#HV hypervisor injection", "#VC VMM communication",
	"#SX security", "reserved",
};

struct irq_slot {
	irq_fn fn;
	void *arg;
};
static struct irq_slot irq_table[256];
static int next_irq_vector = VEC_IRQ_FIRST;
static int in_fault;

void irq_set_handler(int vector, irq_fn fn, void *arg)
{
	irq_table[vector].fn = fn;
	irq_table[vector].arg = arg;
}

int arch_irq_alloc(irq_fn fn, void *arg)
{
	if (next_irq_vector > VEC_IRQ_LAST)
		return K_ENOSPC;
	int v = next_irq_vector++;
	irq_set_handler(v, fn, arg);
	return v;
}

void arch_msi_message(int vector, uint64_t *addr, uint32_t *data)
{
	*addr = 0xFEE00000ull | ((uint64_t)lapic_id() << 12);
	*data = (uint32_t)vector;              /* fixed delivery, edge */
}

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char boot_stack_guard[];

static void explain_page_fault(uint64_t addr, uint64_t err)
{
	const char *what = err & 2 ? "write to" : err & 16 ? "instruction fetch from" : "read from";
	if (addr < 4096)
		kprintf("  cause: NULL pointer dereference (%s %#lx)\n", what, (unsigned long)addr);
	else if (!(err & 1) && paging_is_guard(addr))
		kprintf("  cause: stack overflow (%s guard page %#lx)\n", what, (unsigned long)addr);
	else if ((err & 3) == 3 && addr >= (uintptr_t)__text_start && addr < (uintptr_t)__text_end)
		kprintf("  cause: write to read-only kernel text at %#lx\n", (unsigned long)addr);
	else if ((err & 3) == 3 && addr >= (uintptr_t)__rodata_start && addr < (uintptr_t)__rodata_end)
		kprintf("  cause: write to read-only data at %#lx\n", (unsigned long)addr);
	else if (err & 16)
		kprintf("  cause: execution of non-executable memory at %#lx\n", (unsigned long)addr);
	else if (!(err & 1))
		kprintf("  cause: %s unmapped address %#lx\n", what, (unsigned long)addr);
	else
		kprintf("  cause: protection violation (%s %#lx)\n", what, (unsigned long)addr);
}

static void fault_report(struct trap_frame *f)
{
	uint64_t cr2 = read_cr2();

	if (in_fault++) {
		kprintf("\n*** nested CPU exception %lu at rip=%#lx while reporting; giving up\n",
			(unsigned long)f->vector, (unsigned long)f->rip);
		arch_exit(FAULT_EXIT_STATUS);
	}
	kprintf("\n*** CPU exception %lu (%s), error code %#lx, cpu %u\n",
		(unsigned long)f->vector, exc_names[f->vector & 31], (unsigned long)f->error,
		arch_cpu_id());
	if (f->vector == 14) {
		kprintf("  fault address (cr2) %#lx: %s, %s, %s\n", (unsigned long)cr2,
			f->error & 1 ? "protection" : "not present", f->error & 2 ? "write" : "read",
			f->error & 16 ? "instruction fetch" : "data access");
		explain_page_fault(cr2, f->error);
	}
	kprintf("  rip %016lx  rsp %016lx  rflags %016lx\n", (unsigned long)f->rip,
		(unsigned long)f->rsp, (unsigned long)f->rflags);
	kprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", (unsigned long)f->rax,
		(unsigned long)f->rbx, (unsigned long)f->rcx, (unsigned long)f->rdx);
	kprintf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", (unsigned long)f->rsi,
		(unsigned long)f->rdi, (unsigned long)f->rbp, (unsigned long)f->r8);
	kprintf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", (unsigned long)f->r9,
		(unsigned long)f->r10, (unsigned long)f->r11, (unsigned long)f->r12);
	kprintf("  r13 %016lx  r14 %016lx  r15 %016lx  cr2 %016lx\n", (unsigned long)f->r13,
		(unsigned long)f->r14, (unsigned long)f->r15, (unsigned long)cr2);
	kprintf("  cs %#lx ss %#lx cr3 %#lx\n", (unsigned long)f->cs, (unsigned long)f->ss,
		(unsigned long)read_cr3());
	arch_backtrace(f->rbp, f->rip);
	kprintf("*** halting: exit status %d\n", FAULT_EXIT_STATUS);
	arch_exit(FAULT_EXIT_STATUS);
}

void trap_dispatch(struct trap_frame *f)
{
	unsigned vec = (unsigned)f->vector;

	if (vec < 32) {
		fault_report(f);
		return;
	}
	if (vec == VEC_SPURIOUS)
		return;                        /* no EOI for spurious interrupts */
	struct irq_slot *s = &irq_table[vec];
	if (s->fn)
		s->fn(s->arg);
	lapic_eoi();
	this_cpu()->irq_pending = 1;
}
