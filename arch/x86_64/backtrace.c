/*
 * backtrace.c - symbolized stack traces for panics and faults.
 *
 * Kiln is built with frame pointers, so each frame is {saved rbp, return
 * address}. The walk checks every frame address against the page tables
 * before reading it, stops at a zero rbp (entry.S and task stacks end the
 * chain that way), and is bounded, so a corrupt stack cannot fault the
 * fault handler.
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/log.h>
#include <kiln/symbols.h>

#include "x86_priv.h"

#define MAX_FRAMES 32

static void print_frame(int n, uintptr_t pc)
{
	uintptr_t off;
	const char *name = ksym_lookup(pc, &off);
	if (name)
		kprintf("  #%-2d %016lx %s+%#lx\n", n, (unsigned long)pc, name, (unsigned long)off);
	else
		kprintf("  #%-2d %016lx ?\n", n, (unsigned long)pc);
}

void arch_backtrace(uintptr_t fp, uintptr_t pc)
{
	kprintf("backtrace:\n");
	print_frame(0, pc);
	for (int n = 1; n < MAX_FRAMES && fp; n++) {
		if (fp & 7 || !paging_is_mapped(fp) || !paging_is_mapped(fp + 15)) {
			kprintf("  (frame pointer %#lx is not readable; stopping)\n", (unsigned long)fp);
			return;
		}
		const uintptr_t *frame = (const uintptr_t *)fp;
		uintptr_t ret = frame[1];
		if (!ret)
			return;
		/* ret points after the call; -1 lands inside the calling line. */
		print_frame(n, ret - 1);
		if (frame[0] && frame[0] <= fp) {
			kprintf("  (frame chain goes backwards; stopping)\n");
			return;
		}
		fp = frame[0];
	}
}
