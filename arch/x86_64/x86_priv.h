/*
 * x86_priv.h - boot-time interfaces between arch/x86_64 files.
 */
#ifndef ARCH_X86_64_PRIV_H
#define ARCH_X86_64_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <kiln/arch.h>

/* desc.c */
void gdt_idt_init(void);

/* paging.c */
void paging_init(const struct boot_info *bi);
/* true if va is mapped (readable) in the current tables. */
bool paging_is_mapped(uintptr_t va);
/* true if va lies in a page unmapped by arch_page_unmap (a guard page). */
bool paging_is_guard(uintptr_t va);

/* trap.c */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};
void trap_dispatch(struct trap_frame *f);

/* Stacks for the interrupt stack table, each above an unmapped guard page. */
#define IST_STACK_SIZE (16 * 1024)
struct ist_stack {
	uint8_t guard[4096];
	uint8_t stack[IST_STACK_SIZE];
} __attribute__((aligned(4096)));
#define IST_STACKS 4
extern struct ist_stack ist_stacks[IST_STACKS];

#endif
