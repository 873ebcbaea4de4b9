/*
 * test_mem.c - in-guest tests of the page and object allocators
 * (kernel/page.c, kernel/obj.c) over the real boot memory map.
 *
 * The tests run in the runner's task and never yield, so nothing else
 * allocates while they compare counters; each checks that the stats move
 * by exactly what it did and come back when it frees. One test takes
 * every free page of the machine (in 1 MiB pieces, then single pages)
 * and gives it all back, to show the boot ranges are usable end to end
 * (skipped above 1 GiB of RAM, where zeroing it all gets slow).
 */
#include <stdint.h>
#include <string.h>

#include <kiln/kiln.h>

#include "selftest.h"

static struct mem_stats mem_now(void)
{
	struct mem_stats st;
	mem_get_stats(&st);
	return st;
}

static bool bytes_are(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

SELFTEST(mem_pages)
{
	struct mem_stats st0 = mem_now();
	ST_REQUIRE(st0.total_bytes >= 64ul << 20);
	ST_CHECK(st0.used_bytes < st0.total_bytes);

	static const size_t sizes[] = { 1, 2, 3, 16, 100, 257, 1024 };
	unsigned char *p[7];
	size_t pages = 0;
	for (int i = 0; i < 7; i++) {
		size_t n = sizes[i];
		p[i] = page_alloc(n);
		ST_REQUIRE(p[i] != NULL);
		ST_CHECK(((uintptr_t)p[i] & (PAGE_SIZE - 1)) == 0);
		ST_CHECK(bytes_are(p[i], n * PAGE_SIZE, 0));
		memset(p[i], 0x40 + i, n * PAGE_SIZE);
		pages += n;
	}
	for (int i = 0; i < 7; i++)
		for (int j = i + 1; j < 7; j++)
			ST_CHECK(p[i] + sizes[i] * PAGE_SIZE <= p[j] ||
				 p[j] + sizes[j] * PAGE_SIZE <= p[i]);
	struct mem_stats st = mem_now();
	ST_CHECK(st.used_bytes == st0.used_bytes + pages * PAGE_SIZE);
	ST_CHECK(st.page_allocs == st0.page_allocs + 7);
	for (int i = 0; i < 7; i++) {
		ST_CHECK(bytes_are(p[i], sizes[i] * PAGE_SIZE, (unsigned char)(0x40 + i)));
		page_free(p[i], sizes[i]);
	}
	st = mem_now();
	ST_CHECK(st.used_bytes == st0.used_bytes);
	ST_CHECK(st.page_frees == st0.page_frees + 7);
	ST_CHECK(st.alloc_failures == st0.alloc_failures);
}

/* Every free page of the machine, taken and given back. */
SELFTEST(mem_pages_exhaust)
{
	enum { MAXBIG = 4096, MAXONE = 4096 };
	static void *big[MAXBIG], *one[MAXONE];
	size_t nbig = 0, none = 0;
	struct mem_stats st0 = mem_now();

	/* Zeroing every page costs ~3 s per GiB under TCG. */
	if (st0.total_bytes > (1ul << 30)) {
		kprintf("# mem_pages_exhaust: skipped above 1 GiB of RAM\n");
		return;
	}
	while (nbig < MAXBIG && (big[nbig] = page_alloc(256)) != NULL) {
		/* A word in every page: the identity map covers it all. */
		for (size_t i = 0; i < 256; i++)
			((uint64_t *)big[nbig])[i * PAGE_SIZE / 8] = (uint64_t)nbig << 8 | i;
		nbig++;
	}
	while (none < MAXONE && (one[none] = page_alloc(1)) != NULL)
		none++;
	struct mem_stats st = mem_now();
	ST_CHECK(nbig < MAXBIG && none < MAXONE);
	ST_CHECK(st.used_bytes == st.total_bytes);
	ST_CHECK(st.used_bytes == st0.used_bytes + (nbig * 256 + none) * PAGE_SIZE);
	ST_CHECK(st.alloc_failures == st0.alloc_failures + 2);
	ST_CHECK(page_alloc(1) == NULL);

	for (size_t b = 0; b < nbig; b++) {
		for (size_t i = 0; i < 256; i++)
			ST_CHECK(((uint64_t *)big[b])[i * PAGE_SIZE / 8] == ((uint64_t)b << 8 | i));
		page_free(big[b], 256);
	}
	for (size_t i = 0; i < none; i++)
		page_free(one[i], 1);
	st = mem_now();
	ST_CHECK(st.used_bytes == st0.used_bytes);

	/* Coalesced again: a 16 MiB block is there. */
	void *p = page_alloc(4096);
	ST_CHECK(p != NULL);
	if (p)
		page_free(p, 4096);
}

SELFTEST(mem_objects)
{
	struct mem_stats st0 = mem_now();
	static const size_t sizes[] = { 0, 1, 16, 24, 48, 100, 200, 500, 1000, 1500, 2048 };
	enum { NS = sizeof sizes / sizeof sizes[0], PER = 40 };
	static unsigned char *v[NS][PER];
	for (size_t s = 0; s < NS; s++)
		for (int i = 0; i < PER; i++) {
			v[s][i] = kmalloc(sizes[s]);
			ST_REQUIRE(v[s][i] != NULL);
			ST_CHECK(((uintptr_t)v[s][i] & 15) == 0);
			memset(v[s][i], (int)(s * PER + i), sizes[s]);
		}
	struct mem_stats st = mem_now();
	ST_CHECK(st.obj_allocs == st0.obj_allocs + NS * PER);
	ST_CHECK(st.obj_bytes > st0.obj_bytes);
	ST_CHECK(st.used_bytes > st0.used_bytes);
	for (size_t s = 0; s < NS; s++)
		for (int i = 0; i < PER; i++) {
			ST_CHECK(bytes_are(v[s][i], sizes[s], (unsigned char)(s * PER + i)));
			kfree(v[s][i]);
		}
	st = mem_now();
	ST_CHECK(st.obj_frees == st0.obj_frees + NS * PER);
	ST_CHECK(st.obj_bytes == st0.obj_bytes);
	/* Every slab made for these objects is empty again and went back to
	 * the page allocator; slabs other code has objects in stay as they were. */
	ST_CHECK(st.used_bytes == st0.used_bytes);

	unsigned char *z = kzalloc(777);
	ST_REQUIRE(z != NULL);
	ST_CHECK(bytes_are(z, 777, 0));
	kfree(z);
	kfree(NULL);
	ST_CHECK(kmalloc(SIZE_MAX) == NULL);
	ST_CHECK(mem_now().alloc_failures == st0.alloc_failures + 1);
}

/* A 4 MiB object, every byte written and read back. */
SELFTEST(mem_large_object)
{
	struct mem_stats st0 = mem_now();
	size_t len = 4ul << 20;
	unsigned char *p = kmalloc(len);
	ST_REQUIRE(p != NULL);
	ST_CHECK(((uintptr_t)p & (PAGE_SIZE - 1)) == 0);
	struct mem_stats st = mem_now();
	ST_CHECK(st.used_bytes == st0.used_bytes + len);
	ST_CHECK(st.obj_bytes == st0.obj_bytes + len);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)(i * 131 + (i >> 12));
	bool ok = true;
	for (size_t i = 0; i < len; i++)
		ok &= p[i] == (unsigned char)(i * 131 + (i >> 12));
	ST_CHECK(ok);
	kfree(p);
	st = mem_now();
	ST_CHECK(st.used_bytes == st0.used_bytes);
	ST_CHECK(st.obj_bytes == st0.obj_bytes);
}
