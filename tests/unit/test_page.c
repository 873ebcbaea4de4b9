/*
 * test_page.c - the buddy page allocator (kernel/page.c) over RAM ranges
 * made of mmap'd host memory: alignment, zeroing, every size, exhaustion,
 * coalescing, several and unaligned ranges, exact stats, a seeded random
 * stress against a shadow model, and the panics of broken invariants
 * (run in a forked child, whose stderr carries the panic message).
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

static struct {
	void *map;
	size_t len;
} maps[8];
static unsigned nmaps;

/* len bytes of fresh memory aligned to align (a power of two). */
static char *arena(size_t len, size_t align)
{
	size_t maplen = len + align;
	char *m = mmap(NULL, maplen, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_true(nmaps < 8);
	maps[nmaps].map = m;
	maps[nmaps++].len = maplen;
	return (char *)(((uintptr_t)m + align - 1) & ~(uintptr_t)(align - 1));
}

static int setup(void **state)
{
	(void)state;
	page_reset_for_test();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	page_reset_for_test();
	for (unsigned i = 0; i < nmaps; i++)
		munmap(maps[i].map, maps[i].len);
	nmaps = 0;
	return 0;
}

static struct mem_stats stats(void)
{
	struct mem_stats st;
	mem_get_stats(&st);
	return st;
}

static bool all_zero(const void *p, size_t n)
{
	const unsigned char *c = p;
	for (size_t i = 0; i < n; i++)
		if (c[i])
			return false;
	return true;
}

/* Allocates single pages until NULL; returns how many, frees them all
 * again, and checks each lay in [lo, hi) of one of the given ranges. */
static size_t count_pages(const char *const *lo, const char *const *hi, int nr)
{
	size_t cap = stats().total_bytes / PAGE_SIZE + 1;
	void **v = calloc(cap, sizeof *v);
	size_t n = 0;
	void *p;
	while ((p = page_alloc(1)) != NULL) {
		assert_true(n < cap);
		bool inside = false;
		for (int r = 0; r < nr; r++)
			inside |= (char *)p >= lo[r] && (char *)p + PAGE_SIZE <= hi[r];
		assert_true(inside);
		v[n++] = p;
	}
	for (size_t i = 0; i < n; i++)
		page_free(v[i], 1);
	free(v);
	return n;
}

static void test_alignment_zeroing(void **state)
{
	(void)state;
	char *a = arena(4 * MiB, PAGE_SIZE);
	page_add_range((uintptr_t)a, 4 * MiB);
	struct mem_stats st = stats();
	/* 32-byte descriptors: at most 1 % goes to metadata. */
	assert_true(st.total_bytes <= 4 * MiB);
	assert_true(st.total_bytes >= 4 * MiB - 4 * MiB / 100);
	assert_int_equal(st.used_bytes, 0);

	for (size_t n = 1; n <= 16; n++) {
		char *p = page_alloc(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % PAGE_SIZE, 0);
		assert_true(p >= a && p + n * PAGE_SIZE <= a + 4 * MiB);
		assert_true(all_zero(p, n * PAGE_SIZE));
		memset(p, 0xa5, n * PAGE_SIZE);
		page_free(p, n);
		/* The same block comes back, zeroed again. */
		char *q = page_alloc(n);
		assert_ptr_equal(p, q);
		assert_true(all_zero(q, n * PAGE_SIZE));
		page_free(q, n);
	}
	/* Power-of-two sizes are aligned to their size. */
	for (size_t n = 1; n <= 256; n *= 2) {
		char *p = page_alloc(n);
		assert_non_null(p);
		assert_int_equal((uintptr_t)p % (n * PAGE_SIZE), 0);
		page_free(p, n);
	}
	assert_int_equal(stats().used_bytes, 0);
}

static void test_every_n(void **state)
{
	(void)state;
	char *a = arena(8 * MiB, PAGE_SIZE);
	page_add_range((uintptr_t)a, 8 * MiB);
	for (size_t n = 1; n <= 400; n++) {
		char *p = page_alloc(n);
		assert_non_null(p);
		assert_true(p >= a && p + n * PAGE_SIZE <= a + 8 * MiB);
		assert_true(all_zero(p, n * PAGE_SIZE));
		memset(p, (int)n, n * PAGE_SIZE);
		assert_int_equal(stats().used_bytes, n * PAGE_SIZE);
		page_free(p, n);
		assert_int_equal(stats().used_bytes, 0);
	}
	/* 1..40 live at once: contiguous, disjoint, intact. */
	char *live[41];
	for (size_t n = 1; n <= 40; n++) {
		live[n] = page_alloc(n);
		assert_non_null(live[n]);
		memset(live[n], (int)n, n * PAGE_SIZE);
	}
	for (size_t n = 1; n <= 40; n++)
		for (size_t m = n + 1; m <= 40; m++)
			assert_true(live[n] + n * PAGE_SIZE <= live[m] ||
				    live[m] + m * PAGE_SIZE <= live[n]);
	for (size_t n = 1; n <= 40; n += 2) {
		for (size_t i = 0; i < n * PAGE_SIZE; i++)
			assert_int_equal((unsigned char)live[n][i], n);
		page_free(live[n], n);
	}
	for (size_t n = 2; n <= 40; n += 2) {
		for (size_t i = 0; i < n * PAGE_SIZE; i++)
			assert_int_equal((unsigned char)live[n][i], n);
		page_free(live[n], n);
	}
	assert_int_equal(stats().used_bytes, 0);
}

static void test_exhaustion_and_coalescing(void **state)
{
	(void)state;
	/* An 8 MiB range aligned to 8 MiB: the descriptors take the start,
	 * so the largest block is the upper 4 MiB (1024 pages). */
	char *a = arena(8 * MiB, 8 * MiB);
	page_add_range((uintptr_t)a, 8 * MiB);
	size_t total = stats().total_bytes / PAGE_SIZE;

	char *big = page_alloc(1024);
	assert_ptr_equal(big, a + 4 * MiB);
	assert_null(page_alloc(2048));
	assert_int_equal(stats().alloc_failures, 1);
	page_free(big, 1024);

	/* Exhaust with mixed sizes, then single pages. */
	void *v[4096];
	size_t nv[4096], k = 0;
	size_t sizes[] = { 3, 1, 7, 2, 5, 1, 13, 4 };
	for (size_t i = 0;; i++) {
		size_t n = sizes[i % 8];
		void *p = page_alloc(n);
		if (!p)
			break;
		v[k] = p;
		nv[k++] = n;
	}
	void *p;
	while ((p = page_alloc(1)) != NULL) {
		v[k] = p;
		nv[k++] = 1;
	}
	struct mem_stats st = stats();
	assert_int_equal(st.used_bytes, st.total_bytes);
	assert_int_equal(st.alloc_failures, 3);
	assert_null(page_alloc(1));
	assert_int_equal(stats().alloc_failures, 4);

	/* Frees make room again. */
	page_free(v[k - 1], nv[k - 1]);
	v[k - 1] = page_alloc(1);
	assert_non_null(v[k - 1]);

	/* Free in an interleaved order; everything must coalesce. */
	for (size_t i = 0; i < k; i += 2)
		page_free(v[i], nv[i]);
	assert_null(page_alloc(1024));
	for (size_t i = 1; i < k; i += 2)
		page_free(v[i], nv[i]);
	assert_int_equal(stats().used_bytes, 0);
	big = page_alloc(1024);
	assert_ptr_equal(big, a + 4 * MiB);
	page_free(big, 1024);

	const char *lo[] = { a }, *hi[] = { a + 8 * MiB };
	assert_int_equal(count_pages(lo, hi, 1), total);
}

static void test_multiple_ranges(void **state)
{
	(void)state;
	char *a = arena(1 * MiB, PAGE_SIZE);
	char *b = arena(3 * MiB, PAGE_SIZE);
	char *c = arena(2 * MiB + 5 * PAGE_SIZE, PAGE_SIZE);
	page_add_range((uintptr_t)b, 3 * MiB);
	uint64_t tb = stats().total_bytes;
	page_add_range((uintptr_t)a, 1 * MiB);
	uint64_t ta = stats().total_bytes - tb;
	page_add_range((uintptr_t)c, 2 * MiB + 5 * PAGE_SIZE);
	uint64_t total = stats().total_bytes;
	assert_true(ta < 1 * MiB && ta >= 1 * MiB - 2 * PAGE_SIZE);
	assert_true(total < 6 * MiB + 5 * PAGE_SIZE);

	const char *lo[] = { a, b, c };
	const char *hi[] = { a + 1 * MiB, b + 3 * MiB, c + 2 * MiB + 5 * PAGE_SIZE };
	assert_int_equal(count_pages(lo, hi, 3) * PAGE_SIZE, total);

	/* Fill everything with a pattern (would overwrite any descriptor
	 * handed out as a page), then free and reuse. */
	void *v[2048];
	size_t k = 0;
	void *p;
	while ((p = page_alloc(4)) != NULL) {
		memset(p, 0xee, 4 * PAGE_SIZE);
		v[k++] = p;
	}
	for (size_t i = 0; i < k; i++)
		page_free(v[i], 4);
	assert_int_equal(stats().used_bytes, 0);
	assert_int_equal(count_pages(lo, hi, 3) * PAGE_SIZE, total);
	/* More than any one range can hold fails even though the sum fits. */
	assert_null(page_alloc(1024));
}

static void test_unaligned_trim(void **state)
{
	(void)state;
	char *a = arena(1 * MiB, PAGE_SIZE);
	/* Too small to hold a page and its descriptor: ignored. */
	page_add_range((uintptr_t)a + 10, 100);
	page_add_range((uintptr_t)a + 8, PAGE_SIZE + 10);
	page_add_range(0, PAGE_SIZE);        /* page 0 is never managed */
	assert_int_equal(stats().total_bytes, 0);
	assert_null(page_alloc(1));

	/* [a+100, a+1MiB-300) trims to [a+4K, a+1MiB-4K). */
	page_add_range((uintptr_t)a + 100, 1 * MiB - 400);
	uint64_t total = stats().total_bytes;
	assert_true(total > 0 && total <= 1 * MiB - 2 * PAGE_SIZE);
	const char *lo[] = { a + PAGE_SIZE }, *hi[] = { a + 1 * MiB - PAGE_SIZE };
	assert_int_equal(count_pages(lo, hi, 1) * PAGE_SIZE, total);

	/* Two pages: one for descriptors, one managed. */
	char *b = arena(2 * PAGE_SIZE, PAGE_SIZE);
	page_add_range((uintptr_t)b, 2 * PAGE_SIZE);
	assert_int_equal(stats().total_bytes, total + PAGE_SIZE);
}

static void test_gigabytes(void **state)
{
	(void)state;
	size_t len = 1024 * MiB;
	char *a = arena(len, PAGE_SIZE);
	page_add_range((uintptr_t)a, len);
	struct mem_stats st = stats();
	assert_true(st.total_bytes < len);
	assert_true(st.total_bytes > len - len / 100);
	char *p = page_alloc(1);
	char *q = page_alloc(100000);
	assert_non_null(p);
	assert_non_null(q);
	assert_true(q >= a && q + 100000 * PAGE_SIZE <= a + len);
	q[0] = 1;
	q[100000 * PAGE_SIZE - 1] = 2;
	page_free(q, 100000);
	page_free(p, 1);
	assert_int_equal(stats().used_bytes, 0);
	/* Too large for the biggest buddy block, and n = 0: NULL. */
	assert_null(page_alloc(((size_t)1 << PAGE_MAX_ORDER) + 1));
	assert_null(page_alloc(0));
	page_free(NULL, 3);
}

static void test_stats_exact(void **state)
{
	(void)state;
	char *a = arena(2 * MiB, PAGE_SIZE);
	page_add_range((uintptr_t)a, 2 * MiB);
	struct mem_stats st = stats();
	assert_int_equal(st.page_allocs, 0);
	assert_int_equal(st.obj_bytes, 0);
	void *p = page_alloc(3), *q = page_alloc(17);
	st = stats();
	assert_int_equal(st.used_bytes, 20 * PAGE_SIZE);
	assert_int_equal(st.page_allocs, 2);
	assert_int_equal(st.page_frees, 0);
	page_free(p, 3);
	st = stats();
	assert_int_equal(st.used_bytes, 17 * PAGE_SIZE);
	assert_int_equal(st.page_frees, 1);
	assert_null(page_alloc(4096));
	st = stats();
	assert_int_equal(st.alloc_failures, 1);
	assert_int_equal(st.page_allocs, 2);
	page_free(q, 17);
	st = stats();
	assert_int_equal(st.used_bytes, 0);
	assert_int_equal(st.page_frees, 2);
}

/* Random alloc/free against a shadow owner map of every page. */
static void test_random_stress(void **state)
{
	(void)state;
	const size_t len = 16 * MiB, npg = len / PAGE_SIZE;
	char *a = arena(len, len);
	page_add_range((uintptr_t)a, len);
	uint32_t *owner = calloc(npg, sizeof *owner);
	enum { MAXLIVE = 512 };
	struct { char *p; size_t n; uint32_t tag; } live[MAXLIVE];
	size_t nlive = 0, used = 0, fails = 0;
	uint32_t next_tag = 1;

	random_set_test_seed(0x6b696c6e);
	for (int step = 0; step < 20000; step++) {
		uint32_t r = random_u32();
		bool do_alloc = nlive == 0 || (nlive < MAXLIVE && (r & 1));
		if (do_alloc) {
			uint32_t pick = (r >> 1) % 100;
			size_t n = pick < 70 ? 1 + (r >> 8) % 8
				 : pick < 96 ? 9 + (r >> 8) % 56
					     : 65 + (r >> 8) % 448;
			char *p = page_alloc(n);
			if (!p) {
				fails++;
				continue;
			}
			assert_true(p >= a && p + n * PAGE_SIZE <= a + len);
			assert_int_equal((uintptr_t)p % PAGE_SIZE, 0);
			size_t first = (size_t)(p - a) / PAGE_SIZE;
			uint32_t tag = next_tag++;
			for (size_t i = 0; i < n; i++) {
				assert_int_equal(owner[first + i], 0);
				owner[first + i] = tag;
				char *pg = p + i * PAGE_SIZE;
				assert_true(all_zero(pg, 64));
				assert_true(all_zero(pg + PAGE_SIZE - 64, 64));
				memcpy(pg, &tag, sizeof tag);
				memcpy(pg + PAGE_SIZE - sizeof tag, &tag, sizeof tag);
			}
			live[nlive].p = p;
			live[nlive].n = n;
			live[nlive++].tag = tag;
			used += n;
		} else {
			size_t i = (r >> 1) % nlive;
			char *p = live[i].p;
			size_t first = (size_t)(p - a) / PAGE_SIZE;
			for (size_t j = 0; j < live[i].n; j++) {
				uint32_t t1, t2;
				char *pg = p + j * PAGE_SIZE;
				memcpy(&t1, pg, sizeof t1);
				memcpy(&t2, pg + PAGE_SIZE - sizeof t2, sizeof t2);
				assert_int_equal(t1, live[i].tag);
				assert_int_equal(t2, live[i].tag);
				assert_int_equal(owner[first + j], live[i].tag);
				owner[first + j] = 0;
			}
			page_free(p, live[i].n);
			used -= live[i].n;
			live[i] = live[--nlive];
		}
		struct mem_stats st = stats();
		assert_int_equal(st.used_bytes, used * PAGE_SIZE);
		assert_int_equal(st.alloc_failures, fails);
	}
	while (nlive) {
		nlive--;
		page_free(live[nlive].p, live[nlive].n);
	}
	random_set_test_seed(0);
	free(owner);
	assert_int_equal(stats().used_bytes, 0);
	/* Fully coalesced: the upper half of the 16 MiB-aligned range (the
	 * lower one holds the descriptors) is one block again. */
	void *big = page_alloc(2048);
	assert_ptr_equal(big, a + len / 2);
	page_free(big, 2048);
}

/* --- broken invariants panic ------------------------------------------ */


static void double_free(char *p) { page_free(p, 2); page_free(p, 2); }
static void wrong_n(char *p) { page_free(p, 3); }
static void middle(char *p) { page_free(p + PAGE_SIZE, 1); }
static void unaligned(char *p) { page_free(p + 8, 2); }
static void outside(char *p) { (void)p; static char x[PAGE_SIZE] __attribute__((aligned(4096))); page_free(x, 1); }
static void free_page(char *p) { page_free(p, 1); }
static void overlap(char *p) { page_add_range((uintptr_t)p, PAGE_SIZE * 8); }

static void test_panics(void **state)
{
	(void)state;
	char *a = arena(1 * MiB, PAGE_SIZE);
	page_add_range((uintptr_t)a, 1 * MiB);
	char *p = page_alloc(2);
	assert_non_null(p);
	expect_panic(double_free, p, "not allocated");
	expect_panic(wrong_n, p, "allocated as 2 pages");
	expect_panic(middle, p, "not the start of an allocation");
	expect_panic(unaligned, p, "not page-aligned");
	expect_panic(outside, p, "not in managed memory");
	char *q = page_alloc(1);
	page_free(q, 1);
	expect_panic(free_page, q, "not allocated");
	expect_panic(free_page, a, "not in managed memory");   /* descriptors */
	expect_panic(overlap, p, "overlaps");
	/* The parent's state is untouched by the children. */
	page_free(p, 2);
	assert_int_equal(stats().used_bytes, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alignment_zeroing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_n, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhaustion_and_coalescing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_multiple_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unaligned_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gigabytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stats_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_stress, setup, teardown),
		cmocka_unit_test_setup_teardown(test_panics, setup, teardown),
	};
	return cmocka_run_group_tests_name("page", tests, NULL, NULL);
}
