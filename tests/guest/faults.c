/*
 * faults.c - faults the self-test image provokes on request (fault=NAME),
 * each of which must end in the fault report the host runner checks:
 *   text   a write to kernel text (read-only)
 *   null   a NULL pointer dereference
 *   stack  a task's stack overflowing into its guard page
 *   panic  a failed KASSERT
 *   canary a stack buffer overrun caught by the stack protector canary
 */
#include <string.h>

#include "selftest.h"

void selftest_fault(const char *name);
void selftest_fault_task_stack_overflow(void);   /* test_task.c */

__attribute__((noinline)) static void fault_write_text(void)
{
	volatile unsigned char *p = (volatile unsigned char *)(uintptr_t)&fault_write_text;
	kprintf("fault: writing to kernel text at %p\n", (void *)p);
	*p = 0xcc;
}

__attribute__((noinline)) static int fault_null_deref(void)
{
	volatile int *volatile p = NULL;
	kprintf("fault: reading through a NULL pointer\n");
	return *p;
}

__attribute__((noinline)) static void fault_assert(void)
{
	volatile int two = 2;
	KASSERT(two + two == 5);
}

__attribute__((noinline)) static void fault_smash(volatile size_t n)
{
	char buf[16];
	/* n comes in volatile so the compiler cannot see the overrun. */
	memset(buf, 'A', n);
	kprintf("fault: overran a 16-byte stack buffer by %zu bytes\n", n - sizeof buf);
	__asm__ volatile("" ::"r"(buf) : "memory");
}

void selftest_fault(const char *name)
{
	if (strcmp(name, "text") == 0)
		fault_write_text();
	else if (strcmp(name, "null") == 0)
		fault_null_deref();
	else if (strcmp(name, "stack") == 0)
		selftest_fault_task_stack_overflow();
	else if (strcmp(name, "panic") == 0)
		fault_assert();
	else if (strcmp(name, "canary") == 0)
		fault_smash(48);
	else
		panic("selftest: unknown fault \"%s\"", name);
	/* The stack fault happens in a task, once the loop runs it. */
	if (strcmp(name, "stack") != 0)
		panic("selftest: fault \"%s\" did not fault", name);
}
