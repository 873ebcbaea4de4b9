/*
 * platform.c - Kiln's platform functions for the native runner: log,
 * panic, exit, clocks, random bytes, memory and the core's identity.
 *
 * Interface: kiln/log.h, kiln/panic.h, kiln/time.h, kiln/random.h,
 * kiln/mem.h, kiln_exit (kiln/kiln.h), arch_cpu_id (kiln/arch.h);
 * native_clock_init in native.h.
 *
 * Rules:
 *  - A log line is formatted whole and written with one write(2) to
 *    stderr, so lines from the processes of several cores never
 *    interleave; with more than one core each line names its core.
 *  - time_now_ns() counts from the runner's start (taken once, before
 *    the cores fork, so every core shares it), like the kernel's "since
 *    boot"; time_wall_ns() is CLOCK_REALTIME.
 *  - random_bytes() is getrandom(2): each call is fresh from the kernel,
 *    so forked cores never share a generator state.
 *  - kmalloc/page_alloc are malloc and aligned_alloc (no arena to size);
 *    mem_get_stats() reports the host's RAM as the total and what
 *    malloc holds for the process as used.
 *  - kiln_exit() is exit(): the supervisor (main.c) ends the other cores
 *    and exits with the same status.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <kiln/arch.h>
#include <kiln/fmt.h>
#include <kiln/kiln.h>

#include "native.h"

static enum log_level log_level = LOG_INFO;
static uint64_t clock_base;

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

unsigned arch_cpu_id(void) { return native_cfg.cpu; }

static void write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t k = write(fd, s, n);
		if (k <= 0)
			return;
		s += k;
		n -= (size_t)k;
	}
}

void vklog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warn ", "info ", "debug" };
	char line[1024];
	size_t n;
	int k;

	if (level > log_level)
		return;
	uint64_t now = time_now_ns();
	k = ksnprintf(line, sizeof line - 1, "[%5llu.%06llu] %s ",
		      (unsigned long long)(now / NS_PER_SEC),
		      (unsigned long long)(now % NS_PER_SEC / 1000), names[level]);
	n = (size_t)k;
	if (native_cfg.ncpus > 1 && n < sizeof line - 1) {
		k = ksnprintf(line + n, sizeof line - 1 - n, "cpu%u ", native_cfg.cpu);
		n += (size_t)k;
	}
	if (n < sizeof line - 1) {
		k = kvsnprintf(line + n, sizeof line - 1 - n, fmt, ap);
		n += (size_t)k;
	}
	if (n > sizeof line - 2)
		n = sizeof line - 2;
	line[n++] = '\n';
	write_all(2, line, n);
}

void klog(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

static void file_sink(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, (FILE *)ctx);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvformat(file_sink, stdout, fmt, ap);
	va_end(ap);
	fflush(stdout);
}

void panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n;

	n = ksnprintf(msg, sizeof msg, "panic (cpu%u): ", native_cfg.cpu);
	va_start(ap, fmt);
	kvsnprintf(msg + n, sizeof msg - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(msg);
	msg[n++] = '\n';
	write_all(2, msg, (size_t)n);
	abort();
}

void kiln_exit(int status)
{
	exit(status);
}

/* ---- time ------------------------------------------------------------------ */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void native_clock_init(void)
{
	clock_base = clock_ns(CLOCK_MONOTONIC);
}

uint64_t time_now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC) - clock_base;
}

uint64_t time_wall_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

/* ---- random ------------------------------------------------------------------ */

void random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;

	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n <= 0)
			panic("getrandom failed");
		p += n;
		len -= (size_t)n;
	}
}

uint32_t random_u32(void)
{
	uint32_t v;
	random_bytes(&v, sizeof v);
	return v;
}

uint64_t random_u64(void)
{
	uint64_t v;
	random_bytes(&v, sizeof v);
	return v;
}

bool random_is_strong(void)
{
	return true;
}

void random_add_entropy(const void *buf, size_t len)
{
	(void)buf;
	(void)len;
}

/* ---- memory ------------------------------------------------------------------ */

static struct mem_stats mstats;

void *page_alloc(size_t npages)
{
	void *p = aligned_alloc(PAGE_SIZE, npages * PAGE_SIZE);

	if (!p) {
		mstats.alloc_failures++;
		return NULL;
	}
	memset(p, 0, npages * PAGE_SIZE);
	mstats.page_allocs++;
	return p;
}

void page_free(void *p, size_t npages)
{
	(void)npages;
	if (!p)
		return;
	mstats.page_frees++;
	free(p);
}

void *kmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p) {
		mstats.alloc_failures++;
		return NULL;
	}
	mstats.obj_allocs++;
	mstats.obj_bytes += malloc_usable_size(p);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);

	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	if (!p)
		return;
	mstats.obj_frees++;
	mstats.obj_bytes -= malloc_usable_size(p);
	free(p);
}

void page_add_range(uintptr_t base, size_t len)
{
	(void)base;
	(void)len;
}

void mem_get_stats(struct mem_stats *out)
{
	struct mallinfo2 mi = mallinfo2();

	*out = mstats;
	out->total_bytes = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	out->used_bytes = (uint64_t)mi.uordblks + (uint64_t)mi.hblkhd;
}
