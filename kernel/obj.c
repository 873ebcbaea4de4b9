/*
 * obj.c - the object allocator: kmalloc(), kzalloc(), kfree().
 *
 * Interface (include/kiln/mem.h): kmalloc(size) returns 16-byte-aligned
 * memory for size bytes or NULL; kzalloc() also zeroes it; kfree(p) takes
 * it back without a size. kfree(NULL) does nothing. kmalloc(0) returns a
 * unique 16-byte object (freed with kfree like any other), so NULL always
 * means "out of memory".
 *
 * Sizes up to OBJ_MAX_SIZE (2048) are rounded up to one of the classes in
 * obj_class_size[] and served from slabs: 1-4 pages (enough for at least
 * 8 objects) cut into equal objects, with free objects chained through
 * their first word. A slab's bookkeeping lives in the page descriptor of
 * its first page (kernel/mem_priv.h): the free chain, the count of live
 * objects, and its links on the class's list of slabs with free objects.
 * Every page of a slab records its class, and slabs are aligned to their
 * size, so kfree() finds the slab from any object in it. A slab whose
 * last object is freed goes straight back to the page allocator. Larger
 * sizes get whole pages; the page count is in the page descriptor.
 *
 * Rules: kfree() of a pointer that is not the start of a live object
 * panics when it can tell: outside managed memory, page_alloc() memory,
 * the middle of an object or of a large allocation, or a slab object
 * that is already free (a freed object carries a marker in its second
 * word; the marker alone is only a hint and is confirmed on the free
 * chain). obj_bytes counts the rounded sizes of live objects (the class
 * size, or whole pages). Single-threaded like page.c; SMP will want
 * per-core slab lists, with frees of another core's objects handed back
 * to their owner.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/mem.h>
#include <kiln/panic.h>

#include "mem_priv.h"

static const uint16_t obj_class_size[] = {
	16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048,
};
#define OBJ_NCLASSES (sizeof obj_class_size / sizeof obj_class_size[0])
#define OBJ_MIN_PER_SLAB 8
#define OBJ_FREE_MARK ((uintptr_t)0x6b696c6e66726565ull)   /* "kilnfree" */

BUILD_ASSERT(OBJ_MAX_SIZE == 2048);

/* Per class: slab heads with at least one free object. */
static struct page_desc *partial[OBJ_NCLASSES];
static uint64_t live_bytes, stat_allocs, stat_frees;

struct obj_free {
	struct obj_free *next;
	uintptr_t mark;         /* OBJ_FREE_MARK ^ address while free */
};

static size_t slab_pages(unsigned cls)
{
	size_t n = 1;
	while (n < 4 && n * PAGE_SIZE / obj_class_size[cls] < OBJ_MIN_PER_SLAB)
		n *= 2;
	return n;
}

static unsigned slab_objects(unsigned cls)
{
	return (unsigned)(slab_pages(cls) * PAGE_SIZE / obj_class_size[cls]);
}

static void partial_push(unsigned cls, struct page_desc *d)
{
	d->prev = NULL;
	d->next = partial[cls];
	if (d->next)
		d->next->prev = d;
	partial[cls] = d;
}

static void partial_remove(unsigned cls, struct page_desc *d)
{
	if (d->prev)
		d->prev->next = d->next;
	else
		partial[cls] = d->next;
	if (d->next)
		d->next->prev = d->prev;
	d->next = d->prev = NULL;
}

static struct page_desc *slab_new(unsigned cls)
{
	size_t npages = slab_pages(cls);
	char *base = page_alloc_kind(npages, PAGE_KIND_SLAB, false);
	if (!base)
		return NULL;
	KASSERT(((uintptr_t)base & (npages * PAGE_SIZE - 1)) == 0);
	struct page_desc *d = page_desc_of(base);
	for (size_t i = 0; i < npages; i++)
		d[i].order = (uint8_t)cls;

	size_t size = obj_class_size[cls];
	unsigned n = slab_objects(cls);
	struct obj_free *head = NULL;
	for (unsigned i = n; i-- > 0;) {
		struct obj_free *o = (struct obj_free *)(base + i * size);
		o->next = head;
		o->mark = OBJ_FREE_MARK ^ (uintptr_t)o;
		head = o;
	}
	d->slab_free = head;
	d->slab_inuse = 0;
	partial_push(cls, d);
	return d;
}

static void *slab_alloc(unsigned cls)
{
	struct page_desc *d = partial[cls];
	if (!d && !(d = slab_new(cls)))
		return NULL;
	struct obj_free *o = d->slab_free;
	KASSERT(o != NULL);
	d->slab_free = o->next;
	d->slab_inuse++;
	if (!d->slab_free)
		partial_remove(cls, d);
	o->next = NULL;
	o->mark = 0;
	live_bytes += obj_class_size[cls];
	return o;
}

static void *large_alloc(size_t size)
{
	if (size > SIZE_MAX - (PAGE_SIZE - 1))
		return NULL;
	size_t npages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
	void *p = page_alloc_kind(npages, PAGE_KIND_LARGE, false);
	if (p)
		live_bytes += npages * PAGE_SIZE;
	return p;
}

void *kmalloc(size_t size)
{
	void *p;
	if (size > OBJ_MAX_SIZE) {
		p = large_alloc(size);
	} else {
		unsigned cls = 0;
		while (obj_class_size[cls] < size)
			cls++;
		p = slab_alloc(cls);
	}
	if (!p) {
		page_count_failure();
		return NULL;
	}
	stat_allocs++;
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p) {
		struct page_desc *d = page_desc_of(p);
		size_t n = d->kind == PAGE_KIND_LARGE ? d->npages * PAGE_SIZE
						      : obj_class_size[d->order];
		memset(p, 0, n);
	}
	return p;
}

static void slab_free_obj(void *p, struct page_desc *pd)
{
	unsigned cls = pd->order;
	KASSERT(cls < OBJ_NCLASSES);
	size_t size = obj_class_size[cls];
	size_t slab_bytes = slab_pages(cls) * PAGE_SIZE;
	uintptr_t base = (uintptr_t)p & ~(uintptr_t)(slab_bytes - 1);
	uintptr_t off = (uintptr_t)p - base;
	if (off % size || off / size >= slab_objects(cls))
		panic("kfree(%p): not the start of a %zu-byte object", p, size);

	struct page_desc *d = page_desc_of((void *)base);
	KASSERT(d && d->state == PAGE_HEAD && d->kind == PAGE_KIND_SLAB);
	struct obj_free *o = p;
	if (o->mark == (OBJ_FREE_MARK ^ (uintptr_t)o)) {
		for (struct obj_free *f = d->slab_free; f; f = f->next)
			if (f == o)
				panic("kfree(%p): object is already free (double free)", p);
	}
	KASSERT(d->slab_inuse > 0);

	bool was_full = d->slab_free == NULL;
	o->next = d->slab_free;
	o->mark = OBJ_FREE_MARK ^ (uintptr_t)o;
	d->slab_free = o;
	d->slab_inuse--;
	live_bytes -= size;
	if (d->slab_inuse == 0) {
		if (!was_full)
			partial_remove(cls, d);
		d->slab_free = NULL;
		page_free_kind((void *)base, slab_pages(cls), PAGE_KIND_SLAB);
	} else if (was_full) {
		partial_push(cls, d);
	}
}

void kfree(void *p)
{
	if (!p)
		return;
	struct page_desc *d = page_desc_of(p);
	if (!d)
		panic("kfree(%p): not in managed memory", p);
	if (d->state != PAGE_HEAD && d->state != PAGE_TAIL)
		panic("kfree(%p): memory is not allocated (double free?)", p);
	switch (d->kind) {
	case PAGE_KIND_SLAB:
		slab_free_obj(p, d);
		break;
	case PAGE_KIND_LARGE:
		if (d->state != PAGE_HEAD || ((uintptr_t)p & (PAGE_SIZE - 1)))
			panic("kfree(%p): not the start of a large object", p);
		live_bytes -= (uint64_t)d->npages * PAGE_SIZE;
		page_free_kind(p, d->npages, PAGE_KIND_LARGE);
		break;
	default:
		panic("kfree(%p): memory came from page_alloc, not kmalloc", p);
	}
	stat_frees++;
}

void obj_fill_stats(struct mem_stats *out)
{
	out->obj_bytes = live_bytes;
	out->obj_allocs = stat_allocs;
	out->obj_frees = stat_frees;
}

void obj_reset_for_test(void)
{
	memset(partial, 0, sizeof partial);
	live_bytes = stat_allocs = stat_frees = 0;
}
