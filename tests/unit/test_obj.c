/*
 * test_obj.c - the object allocator (kernel/obj.c) over an mmap'd range:
 * every size up to and past the largest class, kmalloc(0), kzalloc,
 * large objects, overflow-safe sizes, exact stats, slabs going back to
 * the page allocator, exhaustion, a seeded random stress with content
 * checks, and the panics of bad kfree() calls (in a forked child).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <kiln/mem.h>
#include <kiln/random.h>

#include "hosted.h"
#include "kernel/mem_priv.h"
#include "expect_panic.h"

#define MiB (1024ul * 1024)
#define ARENA (32 * MiB)

static char *arena;
static size_t arena_len;

static void add_arena(size_t len)
{
	arena_len = len;
	arena = mmap(NULL, len, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(arena != MAP_FAILED);
	page_add_range((uintptr_t)arena, len);
}

static int setup(void **state)
{
	(void)state;
	page_reset_for_test();
	add_arena(ARENA);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	page_reset_for_test();
	munmap(arena, arena_len);
	return 0;
}

static struct mem_stats stats(void)
{
	struct mem_stats st;
	mem_get_stats(&st);
	return st;
}

static bool inside(const void *p, size_t n)
{
	return (const char *)p >= arena && (const char *)p + n <= arena + arena_len;
}

/* The class a size rounds to, as documented in obj.c. */
static size_t class_of(size_t size)
{
	static const size_t cls[] = { 16, 32, 48, 64, 96, 128, 192, 256, 384,
				      512, 768, 1024, 1536, 2048 };
	for (size_t i = 0; i < 14; i++)
		if (size <= cls[i])
			return cls[i];
	return (size + PAGE_SIZE - 1) / PAGE_SIZE * PAGE_SIZE;
}

static void test_every_size(void **state)
{
	(void)state;
	for (size_t size = 0; size <= 3 * PAGE_SIZE; size++) {
		unsigned char *p = kmalloc(size);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % 16, 0);
		assert_true(inside(p, size));
		memset(p, 0x5a, size);
		struct mem_stats st = stats();
		assert_int_equal(st.obj_bytes, class_of(size));
		if (size > OBJ_MAX_SIZE)
			assert_int_equal((uintptr_t)p % PAGE_SIZE, 0);
		kfree(p);
		st = stats();
		assert_int_equal(st.obj_bytes, 0);
		assert_int_equal(st.used_bytes, 0);   /* empty slabs went back */
	}
}

/* Many objects of each class: distinct, disjoint, contents intact. */
static void test_each_class(void **state)
{
	(void)state;
	static const size_t sizes[] = { 1, 16, 17, 32, 48, 64, 65, 96, 128,
					192, 256, 300, 384, 512, 768, 1000,
					1024, 1536, 2000, 2048 };
	enum { N = 300 };
	unsigned char *v[N];
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		size_t size = sizes[s];
		for (int i = 0; i < N; i++) {
			v[i] = kmalloc(size);
			assert_non_null(v[i]);
			memset(v[i], i & 0xff, size);
		}
		assert_int_equal(stats().obj_bytes, N * class_of(size));
		for (int i = 0; i < N; i++)
			for (size_t j = 0; j < size; j++)
				assert_int_equal(v[i][j], i & 0xff);
		/* Free odd ones, reallocate them, then free all. */
		for (int i = 1; i < N; i += 2)
			kfree(v[i]);
		for (int i = 1; i < N; i += 2) {
			v[i] = kmalloc(size);
			memset(v[i], i & 0xff, size);
		}
		for (int i = 0; i < N; i++) {
			for (size_t j = 0; j < size; j++)
				assert_int_equal(v[i][j], i & 0xff);
			kfree(v[i]);
		}
		assert_int_equal(stats().used_bytes, 0);
	}
}

static void test_zero_and_null(void **state)
{
	(void)state;
	void *a = kmalloc(0), *b = kmalloc(0);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	assert_int_equal(stats().obj_bytes, 32);
	kfree(a);
	kfree(b);
	struct mem_stats st = stats();
	kfree(NULL);
	struct mem_stats st2 = stats();
	assert_memory_equal(&st, &st2, sizeof st);
}

static void test_kzalloc(void **state)
{
	(void)state;
	static const size_t sizes[] = { 0, 5, 16, 100, 700, 2048, 2049, 20000 };
	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		size_t size = sizes[s];
		/* Keep a neighbour so the slab stays and memory is reused. */
		void *keep = kmalloc(size);
		unsigned char *p = kmalloc(size);
		memset(p, 0xff, class_of(size));
		kfree(p);
		unsigned char *q = kzalloc(size);
		assert_non_null(q);
		for (size_t j = 0; j < class_of(size); j++)
			assert_int_equal(q[j], 0);
		kfree(q);
		kfree(keep);
	}
}

static void test_large(void **state)
{
	(void)state;
	struct mem_stats st0 = stats();
	unsigned char *p = kmalloc(5 * PAGE_SIZE + 1);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % PAGE_SIZE, 0);
	struct mem_stats st = stats();
	assert_int_equal(st.used_bytes - st0.used_bytes, 6 * PAGE_SIZE);
	assert_int_equal(st.obj_bytes, 6 * PAGE_SIZE);
	for (size_t i = 0; i < 6 * PAGE_SIZE; i++)
		p[i] = (unsigned char)i;
	for (size_t i = 0; i < 6 * PAGE_SIZE; i++)
		assert_int_equal(p[i], (unsigned char)i);
	unsigned char *q = kmalloc(1 * MiB);
	assert_non_null(q);
	memset(q, 1, 1 * MiB);
	kfree(p);
	kfree(q);
	st = stats();
	assert_int_equal(st.used_bytes, st0.used_bytes);
	assert_int_equal(st.obj_bytes, 0);
	assert_int_equal(st.obj_allocs, 2);
	assert_int_equal(st.obj_frees, 2);
}

static void test_overflow(void **state)
{
	(void)state;
	assert_null(kmalloc(SIZE_MAX));
	assert_null(kmalloc(SIZE_MAX - PAGE_SIZE + 2));
	assert_null(kmalloc(SIZE_MAX - PAGE_SIZE + 1));
	assert_null(kzalloc(SIZE_MAX));
	assert_null(kmalloc((size_t)1 << 40));
	assert_null(kmalloc(ARENA));               /* more than there is */
	struct mem_stats st = stats();
	assert_int_equal(st.alloc_failures, 6);
	assert_int_equal(st.obj_allocs, 0);
	assert_int_equal(st.used_bytes, 0);
}

static void test_stats(void **state)
{
	(void)state;
	void *a = kmalloc(10), *b = kmalloc(100), *c = kmalloc(3000);
	struct mem_stats st = stats();
	assert_int_equal(st.obj_bytes, 16 + 128 + PAGE_SIZE);
	assert_int_equal(st.obj_allocs, 3);
	assert_int_equal(st.obj_frees, 0);
	/* Two one-page slabs and one large page. */
	assert_int_equal(st.used_bytes, 3 * PAGE_SIZE);
	void *p = page_alloc(2);
	assert_int_equal(stats().used_bytes, 5 * PAGE_SIZE);
	kfree(b);
	st = stats();
	assert_int_equal(st.obj_bytes, 16 + PAGE_SIZE);
	assert_int_equal(st.obj_frees, 1);
	assert_int_equal(st.used_bytes, 4 * PAGE_SIZE);
	kfree(a);
	kfree(c);
	page_free(p, 2);
	st = stats();
	assert_int_equal(st.obj_bytes, 0);
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(st.obj_frees, 3);
}

static void test_exhaustion(void **state)
{
	(void)state;
	teardown(state);
	page_reset_for_test();
	add_arena(256 * 1024);
	enum { MAX = 8192 };
	void **v = calloc(MAX, sizeof *v);
	size_t n = 0;
	void *p;
	while ((p = kmalloc(64)) != NULL) {
		assert_true(n < MAX);
		v[n++] = p;
	}
	struct mem_stats st = stats();
	assert_int_equal(st.alloc_failures, 1);
	assert_int_equal(st.used_bytes, st.total_bytes);
	assert_int_equal(n, st.total_bytes / 64);
	assert_null(kmalloc(3000));
	kfree(v[7]);
	v[7] = kmalloc(64);
	assert_non_null(v[7]);
	for (size_t i = 0; i < n; i++)
		kfree(v[i]);
	free(v);
	st = stats();
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(st.obj_bytes, 0);
	assert_non_null(p = page_alloc(32));
	page_free(p, 32);
}

static void test_random_stress(void **state)
{
	(void)state;
	enum { MAXLIVE = 2000 };
	struct { unsigned char *p; size_t size; unsigned char fill; } live[MAXLIVE];
	size_t nlive = 0;
	uint64_t bytes = 0;
	random_set_test_seed(0x6f626a);
	for (int step = 0; step < 60000; step++) {
		uint32_t r = random_u32();
		if (nlive == 0 || (nlive < MAXLIVE && (r % 5) < 3)) {
			uint32_t pick = (r >> 3) % 100;
			size_t size = pick < 80 ? (r >> 10) % 257
				    : pick < 97 ? (r >> 10) % 2049
						: 2049 + (r >> 10) % (5 * PAGE_SIZE);
			bool zero = (r >> 8) & 1;
			unsigned char *p = zero ? kzalloc(size) : kmalloc(size);
			assert_non_null(p);
			assert_int_equal((uintptr_t)p % 16, 0);
			assert_true(inside(p, size));
			if (zero)
				for (size_t j = 0; j < size; j++)
					assert_int_equal(p[j], 0);
			unsigned char fill = (unsigned char)(step * 7 + 1);
			memset(p, fill, size);
			live[nlive].p = p;
			live[nlive].size = size;
			live[nlive++].fill = fill;
			bytes += class_of(size);
		} else {
			size_t i = (r >> 3) % nlive;
			for (size_t j = 0; j < live[i].size; j++)
				assert_int_equal(live[i].p[j], live[i].fill);
			kfree(live[i].p);
			bytes -= class_of(live[i].size);
			live[i] = live[--nlive];
		}
		assert_int_equal(stats().obj_bytes, bytes);
	}
	while (nlive) {
		nlive--;
		for (size_t j = 0; j < live[nlive].size; j++)
			assert_int_equal(live[nlive].p[j], live[nlive].fill);
		kfree(live[nlive].p);
	}
	random_set_test_seed(0);
	struct mem_stats st = stats();
	assert_int_equal(st.obj_bytes, 0);
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(st.obj_allocs, st.obj_frees);
}

/* --- bad kfree() calls panic ------------------------------------------ */


static void free_it(char *p) { kfree(p); }
static void free_twice(char *p) { kfree(p); kfree(p); }
static void free_plus8(char *p) { kfree(p + 8); }
static void free_plus_page(char *p) { kfree(p + PAGE_SIZE); }
static void free_stack(char *p) { (void)p; char x[32]; kfree(x); }
static void page_free_large(char *p) { page_free(p, 2); }

static void test_panics(void **state)
{
	(void)state;
	char *small = kmalloc(32), *other = kmalloc(32);
	char *large = kmalloc(PAGE_SIZE + 1);
	char *pages = page_alloc(1);
	expect_panic(free_plus8, small, "not the start of a 32-byte object");
	expect_panic(free_twice, small, "already free");
	expect_panic(free_plus8, large, "not the start of a large object");
	expect_panic(free_plus_page, large, "not the start of a large object");
	expect_panic(free_twice, large, "not allocated");
	expect_panic(free_it, pages, "came from page_alloc");
	expect_panic(free_stack, NULL, "not in managed memory");
	expect_panic(page_free_large, large, "large kmalloc object");
	/* An object whose slab went away entirely. */
	char *lone = kmalloc(700);
	expect_panic(free_twice, lone, "not allocated");
	/* A freed object with its neighbour alive: the free marker is seen
	 * and the free chain confirms it. */
	kfree(small);
	expect_panic(free_it, small, "already free");
	/* A live object that happens to hold the marker is not a double free. */
	char *x = kmalloc(32), *y = kmalloc(32);
	kfree(x);
	uintptr_t mark[2];
	memcpy(mark, x, sizeof mark);
	char *x2 = kmalloc(32);
	assert_ptr_equal(x2, x);
	memcpy(x2, mark, sizeof mark);
	kfree(x2);
	kfree(y);
	kfree(other);
	kfree(lone);
	kfree(large);
	page_free(pages, 1);
	assert_int_equal(stats().used_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_every_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_class, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_and_null, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kzalloc, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_stress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panics, setup, teardown),
	};
	return cmocka_run_group_tests_name("obj", tests, NULL, NULL);
}
