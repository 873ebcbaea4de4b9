/*
 * init.h - start-up hooks that are linked only when their part is.
 *
 * A driver or subsystem registers its init function with one of these
 * macros; the kernel runs each level in order at boot. Because the
 * pointers live in a kept linker section, an app that does not link a
 * part gets neither its code nor its hook.
 *
 *   INIT_EARLY   - after memory and time, before devices (random, tasks)
 *   INIT_DRIVER  - device probing (virtio transports, drivers)
 *   INIT_LATE    - after drivers (network configuration)
 */
#ifndef KILN_INIT_H
#define KILN_INIT_H

typedef void (*initcall_fn)(void);

struct initcall {
	initcall_fn fn;
	const char *name;
};

#define INIT_AT(level, fn_)                                                 \
	static const struct initcall __initcall_##fn_                       \
	__attribute__((used, section(".kiln_init." #level))) = { fn_, #fn_ }

#define INIT_EARLY(fn)  INIT_AT(1, fn)
#define INIT_DRIVER(fn) INIT_AT(2, fn)
#define INIT_LATE(fn)   INIT_AT(3, fn)

void initcalls_run(void);

#endif
