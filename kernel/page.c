/*
 * page.c - the physical page allocator: a binary buddy allocator over the
 * RAM ranges the boot code hands in.
 *
 * Interface (include/kiln/mem.h, kernel/mem_priv.h):
 *   page_add_range(base, len)  at boot, once per usable RAM range
 *   page_alloc(n) / page_free(p, n)
 *   mem_get_stats(&st)
 *   page_desc_of(p), page_alloc_kind(), page_free_kind()  for obj.c
 *
 * Each range becomes a zone. The range is trimmed to whole pages (and
 * never includes page 0, whose address would read as NULL); its first
 * pages hold the zone's array of struct page_desc, one per remaining
 * page, so metadata grows with memory (32 bytes per 4 KiB page, 0.8 %)
 * and needs no memory of its own. total_bytes counts only the pages left
 * after that array.
 *
 * Blocks are 2^k pages aligned to 2^k pages by physical address, inside
 * one zone; the buddy of a block is found by flipping bit k of its page
 * number. Free blocks sit on one list per order, threaded through their
 * first page's descriptor, so free memory is never touched. page_alloc(n)
 * takes a block of the smallest order >= n, splits it down, and gives the
 * unused tail (2^k - n pages) straight back as aligned blocks; page_free
 * gives the n pages back the same way, merging each block with its buddy
 * while the buddy is a free block of the same order. Pages are zeroed when
 * page_alloc() hands them out.
 *
 * Rules: freeing memory that is not the start of a live page_alloc()
 * allocation of exactly n pages is a broken invariant and panics, as do
 * overlapping ranges. Running out is not: page_alloc() returns NULL and
 * counts it. All of this is single-threaded: only the boot core may call
 * it. SMP will need a lock around the free lists and the counters, and
 * per-core caches of free pages in front of it so the common case stays
 * lock-free.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/log.h>
#include <kiln/mem.h>
#include <kiln/panic.h>

#include "mem_priv.h"

#define PAGE_ZONES_MAX 64

BUILD_ASSERT(sizeof(struct page_desc) == 32);

struct page_zone {
	uintptr_t meta_pfn;        /* first page of the range (descriptors) */
	uintptr_t start_pfn;       /* first managed page */
	uintptr_t end_pfn;         /* one past the last managed page */
	struct page_desc *desc;    /* desc[i] describes page start_pfn + i */
};

static struct page_zone zones[PAGE_ZONES_MAX];
static unsigned nzones;
static struct page_desc *free_lists[PAGE_MAX_ORDER + 1];
static uint64_t total_pages, used_pages;
static uint64_t stat_allocs, stat_frees, stat_failures;

static struct page_zone *zone_of_pfn(uintptr_t pfn)
{
	for (unsigned i = 0; i < nzones; i++)
		if (pfn >= zones[i].start_pfn && pfn < zones[i].end_pfn)
			return &zones[i];
	return NULL;
}

static struct page_zone *zone_of_desc(const struct page_desc *d)
{
	for (unsigned i = 0; i < nzones; i++) {
		struct page_zone *z = &zones[i];
		if (d >= z->desc && d < z->desc + (z->end_pfn - z->start_pfn))
			return z;
	}
	panic("page: descriptor %p belongs to no zone", (const void *)d);
}

struct page_desc *page_desc_of(const void *p)
{
	uintptr_t pfn = (uintptr_t)p >> PAGE_SHIFT;
	struct page_zone *z = zone_of_pfn(pfn);
	return z ? &z->desc[pfn - z->start_pfn] : NULL;
}

static void list_push(unsigned order, struct page_desc *d)
{
	d->prev = NULL;
	d->next = free_lists[order];
	if (d->next)
		d->next->prev = d;
	free_lists[order] = d;
}

static void list_remove(unsigned order, struct page_desc *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		free_lists[order] = d->next;
	if (d->next)
		d->next->prev = d->prev;
	d->next = d->prev = NULL;
}

/* Frees the block of 2^order pages at pfn (all its descriptors PAGE_FREE)
 * and merges it with its buddies as far as they are free. */
static void free_block(struct page_zone *z, uintptr_t pfn, unsigned order)
{
	while (order < PAGE_MAX_ORDER) {
		uintptr_t buddy = pfn ^ ((uintptr_t)1 << order);
		if (buddy < z->start_pfn || buddy >= z->end_pfn)
			break;
		struct page_desc *b = &z->desc[buddy - z->start_pfn];
		if (b->state != PAGE_FREE_HEAD || b->order != order)
			break;
		list_remove(order, b);
		b->state = PAGE_FREE;
		b->order = 0;
		pfn &= ~((uintptr_t)1 << order);
		order++;
	}
	struct page_desc *d = &z->desc[pfn - z->start_pfn];
	d->state = PAGE_FREE_HEAD;
	d->order = (uint8_t)order;
	list_push(order, d);
}

/* Frees n pages from pfn as the largest aligned blocks that fit. */
static void free_span(struct page_zone *z, uintptr_t pfn, uint64_t n)
{
	while (n) {
		unsigned order = 0;
		while (order < PAGE_MAX_ORDER &&
		       !(pfn & ((uintptr_t)1 << order)) &&
		       ((uint64_t)2 << order) <= n)
			order++;
		free_block(z, pfn, order);
		pfn += (uintptr_t)1 << order;
		n -= (uint64_t)1 << order;
	}
}

/* Takes a free block of exactly 2^order pages off the lists (splitting a
 * larger one); its descriptors are all PAGE_FREE on return. */
static bool take_block(unsigned order, struct page_zone **zp, uintptr_t *pfnp)
{
	unsigned j = order;
	while (j <= PAGE_MAX_ORDER && !free_lists[j])
		j++;
	if (j > PAGE_MAX_ORDER)
		return false;
	struct page_desc *d = free_lists[j];
	list_remove(j, d);
	d->state = PAGE_FREE;
	d->order = 0;
	while (j > order) {
		j--;
		struct page_desc *half = d + ((size_t)1 << j);
		half->state = PAGE_FREE_HEAD;
		half->order = (uint8_t)j;
		list_push(j, half);
	}
	struct page_zone *z = zone_of_desc(d);
	*zp = z;
	*pfnp = z->start_pfn + (uintptr_t)(d - z->desc);
	return true;
}

void *page_alloc_kind(size_t npages, enum page_kind kind, bool zero)
{
	if (npages == 0 || npages > ((size_t)1 << PAGE_MAX_ORDER))
		return NULL;
	unsigned order = 0;
	while (((size_t)1 << order) < npages)
		order++;
	struct page_zone *z;
	uintptr_t pfn;
	if (!take_block(order, &z, &pfn))
		return NULL;

	struct page_desc *d = &z->desc[pfn - z->start_pfn];
	for (size_t i = 0; i < npages; i++) {
		d[i].state = i ? PAGE_TAIL : PAGE_HEAD;
		d[i].kind = kind;
		d[i].order = 0;
	}
	d->npages = (uint32_t)npages;
	free_span(z, pfn + npages, ((uint64_t)1 << order) - npages);

	used_pages += npages;
	stat_allocs++;
	void *p = (void *)(pfn << PAGE_SHIFT);
	if (zero)
		memset(p, 0, npages * PAGE_SIZE);
	return p;
}

static const char *kind_name(unsigned kind)
{
	switch (kind) {
	case PAGE_KIND_PAGE: return "page_alloc";
	case PAGE_KIND_SLAB: return "a kmalloc slab";
	case PAGE_KIND_LARGE: return "a large kmalloc object";
	default: return "nothing";
	}
}

void page_free_kind(void *p, size_t npages, enum page_kind kind)
{
	uintptr_t a = (uintptr_t)p;
	if (a & (PAGE_SIZE - 1))
		panic("page_free(%p, %zu): not page-aligned", p, npages);
	uintptr_t pfn = a >> PAGE_SHIFT;
	struct page_zone *z = zone_of_pfn(pfn);
	if (!z)
		panic("page_free(%p, %zu): not in managed memory", p, npages);
	struct page_desc *d = &z->desc[pfn - z->start_pfn];
	if (d->state == PAGE_FREE || d->state == PAGE_FREE_HEAD)
		panic("page_free(%p, %zu): page is not allocated (double free?)",
		      p, npages);
	if (d->state != PAGE_HEAD)
		panic("page_free(%p, %zu): not the start of an allocation",
		      p, npages);
	if (d->kind != kind)
		panic("page_free(%p, %zu): memory belongs to %s, not %s", p,
		      npages, kind_name(d->kind), kind_name(kind));
	if (d->npages != npages)
		panic("page_free(%p, %zu): allocated as %u pages", p, npages,
		      (unsigned)d->npages);

	memset(d, 0, npages * sizeof *d);
	free_span(z, pfn, npages);
	used_pages -= npages;
	stat_frees++;
}

void *page_alloc(size_t npages)
{
	void *p = page_alloc_kind(npages, PAGE_KIND_PAGE, true);
	if (!p)
		stat_failures++;
	return p;
}

void page_free(void *p, size_t npages)
{
	if (!p)
		return;
	page_free_kind(p, npages, PAGE_KIND_PAGE);
}

void page_count_failure(void)
{
	stat_failures++;
}

void page_add_range(uintptr_t base, size_t len)
{
	if (base > UINTPTR_MAX - (PAGE_SIZE - 1))
		return;
	uintptr_t end = base + len;
	if (end < base)
		end = UINTPTR_MAX;
	uintptr_t start_pfn = (base + PAGE_SIZE - 1) >> PAGE_SHIFT;
	uintptr_t end_pfn = end >> PAGE_SHIFT;
	if (start_pfn == 0)
		start_pfn = 1;          /* page 0 would read as NULL */
	if (end_pfn <= start_pfn)
		return;

	/* meta pages hold descriptors for the n - meta pages after them. */
	uint64_t n = end_pfn - start_pfn;
	uint64_t per = sizeof(struct page_desc);
	uint64_t meta = (n * per + PAGE_SIZE + per - 1) / (PAGE_SIZE + per);
	if (n <= meta)
		return;

	for (unsigned i = 0; i < nzones; i++)
		if (start_pfn < zones[i].end_pfn && zones[i].meta_pfn < end_pfn)
			panic("page_add_range(%p, %zu): overlaps a range added before",
			      (void *)base, len);
	if (nzones == PAGE_ZONES_MAX) {
		log_warn("page: more than %d RAM ranges, ignoring %p+%zu",
			 PAGE_ZONES_MAX, (void *)base, len);
		return;
	}

	struct page_zone *z = &zones[nzones++];
	z->meta_pfn = start_pfn;
	z->start_pfn = start_pfn + meta;
	z->end_pfn = end_pfn;
	z->desc = (struct page_desc *)(start_pfn << PAGE_SHIFT);
	memset(z->desc, 0, (n - meta) * per);
	free_span(z, z->start_pfn, n - meta);
	total_pages += n - meta;
}

void mem_get_stats(struct mem_stats *out)
{
	memset(out, 0, sizeof *out);
	out->total_bytes = total_pages * PAGE_SIZE;
	out->used_bytes = used_pages * PAGE_SIZE;
	out->page_allocs = stat_allocs;
	out->page_frees = stat_frees;
	out->alloc_failures = stat_failures;
	obj_fill_stats(out);
}

void page_reset_for_test(void)
{
	memset(zones, 0, sizeof zones);
	memset(free_lists, 0, sizeof free_lists);
	nzones = 0;
	total_pages = used_pages = 0;
	stat_allocs = stat_frees = stat_failures = 0;
	obj_reset_for_test();
}
