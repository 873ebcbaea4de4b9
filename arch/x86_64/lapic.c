/*
 * lapic.c - the local APIC: interrupt acknowledge and the wake-up timer.
 *
 * Interface: lapic_init(), lapic_eoi(), lapic_id() (x86.h) and, from
 * kiln/arch.h, arch_timer_arm(), arch_timer_name(), arch_timer_irq_count().
 *
 * lapic_init() runs once per core after arch_time_init() (the one-shot
 * timer is calibrated against the TSC) and after paging (the xAPIC page
 * is mapped with arch_map_mmio). It remaps and masks the legacy 8259 PICs
 * (their IRQ7/15 spurious interrupts would otherwise land on CPU
 * exception vectors), masks LINT0's ExtINT, enables the APIC with
 * VEC_SPURIOUS, and sets the timer up on VEC_TIMER:
 *   - TSC-deadline mode when CPUID offers it (KVM): the deadline is the
 *     TSC value itself, so nothing needs calibrating;
 *   - else one-shot mode at divide-by-1, its rate measured against the
 *     TSC for 1 ms (1 GHz on QEMU, TCG and KVM alike).
 * x2APIC (MSRs) is used when CPUID offers it, xAPIC (MMIO) otherwise.
 *
 * Rules: arch_timer_arm() is called by the run loop with interrupts off,
 * on the core whose timer it arms. The interrupt handler only counts:
 * the trap code sends the EOI and marks the loop as woken. An early wake
 * (rounding) is harmless: the loop finds nothing due and re-arms.
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/log.h>
#include <kiln/panic.h>
#include <kiln/time.h>

#include "x86.h"

#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_X2APIC (1ull << 10)
#define APIC_BASE_ADDR_MASK 0x000ffffffffff000ull

/* Register offsets in the xAPIC page; x2APIC MSR = 0x800 + offset / 16. */
#define REG_ID 0x020
#define REG_TPR 0x080
#define REG_EOI 0x0B0
#define REG_SVR 0x0F0
#define REG_ESR 0x280
#define REG_LVT_TIMER 0x320
#define REG_LVT_LINT0 0x350
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CUR 0x390
#define REG_TIMER_DIV 0x3E0

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_TSC_DEADLINE (2u << 17)
#define TIMER_DIV_1 0xBu
#define ONESHOT_MAX 0xffffffffu

static volatile uint8_t *xapic;          /* NULL in x2APIC mode */
static int use_x2apic, use_deadline, ready;
static uint64_t timer_hz;                /* one-shot counts per second */
static uint64_t timer_mult;              /* counts = (ns * timer_mult) >> 32 */
static volatile uint64_t timer_irqs;

static uint32_t lapic_read(unsigned reg)
{
	if (use_x2apic)
		return (uint32_t)rdmsr(0x800u + (reg >> 4));
	return mmio_read32(xapic + reg);
}

static void lapic_write(unsigned reg, uint32_t v)
{
	if (use_x2apic)
		wrmsr(0x800u + (reg >> 4), v);
	else
		mmio_write32(xapic + reg, v);
}

void lapic_eoi(void)
{
	if (ready)
		lapic_write(REG_EOI, 0);
}

uint32_t lapic_id(void)
{
	if (!ready)
		return 0;
	uint32_t id = lapic_read(REG_ID);
	return use_x2apic ? id : id >> 24;
}

static void lapic_timer_irq(void *arg)
{
	(void)arg;
	timer_irqs++;
}

uint64_t arch_timer_irq_count(void)
{
	return timer_irqs;
}

/* Remaps the 8259 pair to vectors 0x20-0x2F, then masks every line. */
static void pic_disable(void)
{
	outb(0x20, 0x11);       /* ICW1: init, ICW4 follows */
	outb(0xA0, 0x11);
	outb(0x21, 0x20);       /* ICW2: vector bases */
	outb(0xA1, 0x28);
	outb(0x21, 0x04);       /* ICW3: slave on IRQ2 */
	outb(0xA1, 0x02);
	outb(0x21, 0x01);       /* ICW4: 8086 mode */
	outb(0xA1, 0x01);
	outb(0x21, 0xFF);
	outb(0xA1, 0xFF);
}

/* One (tsc, current count) pair, the read bracketed by two TSC reads. */
static void timer_sample(uint64_t *tsc, uint32_t *count)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 3; i++) {
		uint64_t a = arch_cycles();
		uint32_t c = lapic_read(REG_TIMER_CUR);
		uint64_t b = arch_cycles();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*count = c;
		}
	}
}

static void calibrate_oneshot(void)
{
	uint64_t tsc_hz = arch_cycles_hz();
	uint64_t t0, t1;
	uint32_t c0, c1;

	lapic_write(REG_LVT_TIMER, VEC_TIMER | LVT_MASKED);
	lapic_write(REG_TIMER_DIV, TIMER_DIV_1);
	lapic_write(REG_TIMER_INIT, ONESHOT_MAX);
	timer_sample(&t0, &c0);
	while (arch_cycles() - t0 < tsc_hz / 1000)
		arch_relax();
	timer_sample(&t1, &c1);
	lapic_write(REG_TIMER_INIT, 0);
	if (c1 >= c0 || t1 <= t0)
		panic("lapic: the APIC timer does not count (%u -> %u)", c0, c1);
	timer_hz = (uint64_t)(c0 - c1) * tsc_hz / (t1 - t0);
	timer_mult = ((timer_hz / NS_PER_SEC) << 32) +
		     ((timer_hz % NS_PER_SEC) << 32) / NS_PER_SEC;
}

void lapic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	pic_disable();
	if (x86_cpu.x2apic) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, base);
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
		use_x2apic = 1;
	} else {
		uint64_t pa = base & APIC_BASE_ADDR_MASK;
		if (arch_map_mmio(pa, 4096) != 0)
			panic("lapic: cannot map the xAPIC at %#lx", (unsigned long)pa);
		if (!(base & APIC_BASE_ENABLE))
			wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
		xapic = (volatile uint8_t *)(uintptr_t)pa;
	}
	ready = 1;

	lapic_write(REG_TPR, 0);
	lapic_write(REG_LVT_LINT0, LVT_MASKED);
	lapic_write(REG_LVT_ERROR, LVT_MASKED);
	lapic_write(REG_SVR, VEC_SPURIOUS | SVR_ENABLE);
	lapic_write(REG_ESR, 0);
	lapic_eoi();                            /* drop anything stale */

	irq_set_handler(VEC_TIMER, lapic_timer_irq, NULL);
	if (x86_cpu.tsc_deadline) {
		use_deadline = 1;
		lapic_write(REG_LVT_TIMER, VEC_TIMER | LVT_TIMER_TSC_DEADLINE);
		arch_mb();      /* SDM: order the LVT write before the MSR write */
		wrmsr(MSR_TSC_DEADLINE, 0);
	} else {
		calibrate_oneshot();
		lapic_write(REG_LVT_TIMER, VEC_TIMER);  /* one-shot, unmasked */
		log_info("lapic: one-shot timer at %lu kHz", (unsigned long)(timer_hz / 1000));
	}
}

void arch_timer_arm(uint64_t deadline_ns)
{
	if (use_deadline) {
		wrmsr(MSR_TSC_DEADLINE, deadline_ns ? tsc_from_ns(deadline_ns) : 0);
		return;
	}
	if (!deadline_ns) {
		lapic_write(REG_TIMER_INIT, 0);         /* stops the count */
		return;
	}
	uint64_t now = time_now_ns();
	uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
	/* Rounded up; clamped to the 32-bit counter (a longer wait wakes
	 * early, finds nothing due and re-arms). */
	unsigned __int128 c = ((unsigned __int128)delta * timer_mult >> 32) + 1;
	lapic_write(REG_TIMER_INIT, c > ONESHOT_MAX ? ONESHOT_MAX : (uint32_t)c);
}

const char *arch_timer_name(void)
{
	if (use_deadline)
		return use_x2apic ? "x2apic-tsc-deadline" : "lapic-tsc-deadline";
	return use_x2apic ? "x2apic-oneshot" : "lapic-oneshot";
}

