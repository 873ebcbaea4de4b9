/*
 * desc.c - the GDT, TSS and IDT of the boot core.
 *
 * Kiln runs everything in ring 0, so the GDT holds one code and one data
 * segment plus the TSS, whose only job is the interrupt stack table: a
 * double fault, a page fault (e.g. a stack overflow into a guard page),
 * NMI and machine check each switch to a known-good stack, so the fault
 * can still be reported. Device interrupts and IPIs (vectors 32..255) get
 * a stack of their own too: an interrupt then never pushes its frame on
 * the stack it interrupted, so code built with a red zone (Debian's
 * libbearssl.a is) keeps the 128 bytes below its stack pointer. Kiln
 * enables interrupts only inside arch_wait_for_interrupt(), so they
 * cannot nest on that stack. Every IST stack sits above an unmapped guard
 * page (paging.c unmaps the page below each one).
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>

#include "x86.h"
#include "x86_priv.h"

struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

struct idt_entry {
	uint16_t off_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t reserved;
} __attribute__((packed));

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

/* IST slots: 1 double fault, 2 page fault, 3 NMI and machine check,
 * 4 device interrupts. */
#define IST_DF 1
#define IST_PF 2
#define IST_NMI 3
#define IST_IRQ 4

/* Stacks, each preceded by a guard page that paging.c unmaps. */
struct ist_stack ist_stacks[IST_STACKS];

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
static struct idt_entry idt[256] __attribute__((aligned(16)));

extern const uint64_t trap_stubs[256];   /* vectors.S */

static void idt_set(int vec, uint64_t handler, int ist)
{
	idt[vec].off_lo = (uint16_t)handler;
	idt[vec].selector = SEL_CODE;
	idt[vec].ist = (uint8_t)ist;
	idt[vec].type = 0x8E;                  /* present, DPL0, interrupt gate */
	idt[vec].off_mid = (uint16_t)(handler >> 16);
	idt[vec].off_hi = (uint32_t)(handler >> 32);
	idt[vec].reserved = 0;
}

void gdt_idt_init(void)
{
	gdt[0] = 0;
	gdt[1] = 0x00af9a000000ffffull;        /* 64-bit code, DPL0 */
	gdt[2] = 0x00cf92000000ffffull;        /* data */
	uint64_t base = (uintptr_t)&tss, limit = sizeof tss - 1;
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) |
		 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	memset(&tss, 0, sizeof tss);
	for (int i = 0; i < IST_STACKS; i++)
		tss.ist[i] = (uintptr_t)(ist_stacks[i].stack + IST_STACK_SIZE);
	tss.iomap_base = sizeof tss;

	struct desc_ptr gp = { sizeof gdt - 1, (uintptr_t)gdt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "mov %2, %%ds\n\t"
			 "mov %2, %%es\n\t"
			 "mov %2, %%ss\n\t"
			 "ltr %w3"
			 :
			 : "m"(gp), "i"(SEL_CODE), "r"(SEL_DATA), "r"(SEL_TSS)
			 : "rax", "memory");

	for (int v = 0; v < 256; v++)
		idt_set(v, trap_stubs[v], v >= 32 ? IST_IRQ : 0);
	idt[2].ist = IST_NMI;
	idt[8].ist = IST_DF;
	idt[14].ist = IST_PF;
	idt[18].ist = IST_NMI;

	struct desc_ptr ip = { sizeof idt - 1, (uintptr_t)idt };
	__asm__ volatile("lidt %0" ::"m"(ip));
}
