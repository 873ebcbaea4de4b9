/*
 * panic.c - the end of the machine for a broken invariant, and the
 * stack protector's failure hook.
 *
 * panic() prints its message and a symbolized backtrace from its caller,
 * then exits the VM with status 2 (faults use 3; tests tell them apart).
 * A panic while panicking only prints and exits.
 */
#include <stdarg.h>

#include <kiln/arch.h>
#include <kiln/fmt.h>
#include <kiln/log.h>
#include <kiln/panic.h>

#define PANIC_EXIT_STATUS 2

static int panicking;

void panic(const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	kprintf("\n*** panic on cpu %u: %s\n", arch_cpu_id(), msg);
	if (!panicking++)
		arch_backtrace((uintptr_t)__builtin_frame_address(0), (uintptr_t)panic);
	kprintf("*** halting: exit status %d\n", PANIC_EXIT_STATUS);
	arch_exit(PANIC_EXIT_STATUS);
}

/* Called by -fstack-protector code (ours and prebuilt BearSSL's). */
__attribute__((noreturn)) void __stack_chk_fail(void);
void __stack_chk_fail(void)
{
	panic("stack smashing detected (canary overwritten)");
}
