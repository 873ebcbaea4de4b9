/*
 * platform.c - Kiln's platform functions for a Linux process.
 *
 * Logging goes to stderr with the same prefix as the guest console;
 * panic() prints and aborts (so ASan and the test runner see it); time is
 * CLOCK_MONOTONIC unless a test switched to the virtual clock; random
 * bytes come from getrandom() unless a test set a seed, in which case a
 * splitmix64 stream makes runs repeatable. kiln_exit() is exit().
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <kiln/fmt.h>
#include <kiln/kiln.h>

#include "hosted.h"

int hosted_panic_count;
char hosted_panic_msg[256];

static enum log_level log_level = LOG_WARN;
static int clock_is_virtual;
static uint64_t virtual_now;
static uint64_t test_seed_state;
static int test_seeded;

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }

static void file_sink(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, (FILE *)ctx);
}

void vklog(enum log_level level, const char *fmt, va_list ap)
{
	static const char *const names[] = { "error", "warn ", "info ", "debug" };
	if (level > log_level)
		return;
	uint64_t now = time_now_ns();
	fprintf(stderr, "[%5llu.%06llu] %s ", (unsigned long long)(now / NS_PER_SEC),
		(unsigned long long)(now % NS_PER_SEC / 1000), names[level]);
	kvformat(file_sink, stderr, fmt, ap);
	fputc('\n', stderr);
}

void klog(enum log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vklog(level, fmt, ap);
	va_end(ap);
}

void kprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvformat(file_sink, stdout, fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(hosted_panic_msg, sizeof hosted_panic_msg, fmt, ap);
	va_end(ap);
	hosted_panic_count++;
	fprintf(stderr, "panic: %s\n", hosted_panic_msg);
	abort();
}

void kiln_exit(int status)
{
	exit(status);
}

uint64_t time_now_ns(void)
{
	if (clock_is_virtual)
		return virtual_now;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t time_wall_ns(void)
{
	if (clock_is_virtual)
		return 1700000000ull * NS_PER_SEC + virtual_now;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

void hosted_clock_virtual(uint64_t start_ns)
{
	clock_is_virtual = 1;
	virtual_now = start_ns;
}

void hosted_clock_set(uint64_t now_ns) { virtual_now = now_ns; }
void hosted_clock_advance(uint64_t delta_ns) { virtual_now += delta_ns; }

void random_set_test_seed(uint64_t seed)
{
	test_seeded = seed != 0;
	test_seed_state = seed;
}

static uint64_t splitmix64(void)
{
	uint64_t z = (test_seed_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	if (test_seeded) {
		while (len) {
			uint64_t v = splitmix64();
			size_t k = len < 8 ? len : 8;
			memcpy(p, &v, k);
			p += k;
			len -= k;
		}
		return;
	}
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
