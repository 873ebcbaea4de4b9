/*
 * mem.h - physical pages and small objects.
 *
 * Kiln runs identity-mapped: a physical address is its virtual address, so
 * a page handed out here can be given to a device as-is.
 *
 * page_alloc(n) returns n contiguous, zeroed, PAGE_SIZE-aligned pages or
 * NULL when memory is exhausted; callers handle NULL. page_free() takes
 * the same n. kmalloc() serves objects up to OBJ_MAX_SIZE from per-size
 * slabs (16-byte aligned) and larger ones from whole pages. Neither is
 * for the packet path: packets come from per-core pools (net/nbuf.h).
 */
#ifndef KILN_MEM_H
#define KILN_MEM_H

#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE 4096ul
#define PAGE_SHIFT 12
/* Largest kmalloc() size served from slabs; larger sizes take whole pages. */
#define OBJ_MAX_SIZE 2048

void *page_alloc(size_t npages);
void page_free(void *p, size_t npages);

void *kmalloc(size_t size);
void *kzalloc(size_t size);
void kfree(void *p);

struct mem_stats {
	uint64_t total_bytes;       /* RAM handed to the page allocator */
	uint64_t used_bytes;        /* pages currently allocated */
	uint64_t obj_bytes;         /* bytes in live kmalloc objects */
	uint64_t page_allocs, page_frees, obj_allocs, obj_frees;
	uint64_t alloc_failures;
};
void mem_get_stats(struct mem_stats *out);

/* Boot only: hand a free RAM range to the page allocator. */
void page_add_range(uintptr_t base, size_t len);

#endif
