/*
 * test_irq_stack.c - in-guest test that an interrupt leaves the red zone
 * of the code it interrupts alone (arch/x86_64/desc.c: device interrupts
 * run on an interrupt stack of their own).
 *
 * Kiln is built without a red zone, but Debian's libbearssl.a is built
 * with one: its leaf functions keep data in the 128 bytes below %rsp. An
 * interrupt taken on the interrupted stack pushes its frame right there.
 * The test fills those 128 bytes with a pattern, enables interrupts with
 * the local timer due, spins without touching the stack until the timer
 * has fired, and counts the 8-byte words that changed. It retries with a
 * longer spin until an interrupt did arrive, so it cannot pass without
 * one.
 */
#include <kiln/arch.h>
#include <kiln/kiln.h>

#include "selftest.h"

#if defined(__x86_64__)
/* Pattern below %rsp, interrupts on for spin pause loops, then the number
 * of words of the 128 bytes that no longer hold the pattern. */
static uint64_t red_zone_spin(uint64_t spin)
{
	uint64_t changed;

	__asm__ volatile("lea -128(%%rsp), %%rdi\n\t"
			 "mov $16, %%ecx\n\t"
			 "movabs $0x6b696c6e7265647a, %%rax\n\t"
			 "cld\n\t"
			 "rep stosq\n\t"
			 "mov %[spin], %%rcx\n\t"
			 "sti\n"
			 "1:\tpause\n\t"
			 "dec %%rcx\n\t"
			 "jnz 1b\n\t"
			 "cli\n\t"
			 "lea -128(%%rsp), %%rdi\n\t"
			 "mov $16, %%ecx\n\t"
			 "xor %%edx, %%edx\n"
			 "2:\tcmp %%rax, (%%rdi)\n\t"
			 "je 3f\n\t"
			 "inc %%rdx\n"
			 "3:\tadd $8, %%rdi\n\t"
			 "dec %%ecx\n\t"
			 "jnz 2b\n\t"
			 "mov %%rdx, %[changed]"
			 : [changed] "=r"(changed)
			 : [spin] "r"(spin)
			 : "rax", "rcx", "rdx", "rdi", "memory", "cc");
	return changed;
}

SELFTEST(irq_keeps_red_zone)
{
	uint64_t spin = 1u << 20, changed = 0;
	bool fired = false;

	for (int tries = 0; tries < 8 && !fired; tries++, spin <<= 1) {
		uint64_t irqs = arch_timer_irq_count();
		arch_timer_arm(time_now_ns() + 100 * 1000);
		changed = red_zone_spin(spin);
		fired = arch_timer_irq_count() != irqs;
	}
	ST_REQUIRE(fired);
	kprintf("# red zone: %lu of 16 words changed by an interrupt (spin %lu)\n",
		(unsigned long)changed, (unsigned long)(spin >> 1));
	ST_CHECK(changed == 0);
}
#endif
