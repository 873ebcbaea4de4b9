/*
 * mem_priv.h - what the page allocator (page.c) and the object allocator
 * (obj.c) share, and the hooks hosted tests use. Not for other modules.
 *
 * Every managed page has a struct page_desc in a per-range array carved
 * from the start of that range. The page allocator owns the state, kind
 * and npages fields; the object allocator owns the slab fields of pages
 * of kind PAGE_KIND_SLAB.
 *
 * Alignment: a block of order k (2^k pages) is aligned to 2^k pages in
 * physical memory, so page_alloc_kind(n) with n a power of two returns
 * memory aligned to n pages. obj.c relies on it to find a slab's first
 * page from any object inside it.
 */
#ifndef KILN_MEM_PRIV_H
#define KILN_MEM_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/mem.h>

/* Largest buddy block: 2^PAGE_MAX_ORDER pages (4 GiB). page_alloc(n) for
 * a larger n returns NULL. */
#define PAGE_MAX_ORDER 20

enum page_state {
	PAGE_FREE = 0,      /* free, inside a larger free block */
	PAGE_FREE_HEAD,     /* first page of a free block of 2^order pages */
	PAGE_HEAD,          /* first page of an allocation of npages */
	PAGE_TAIL,          /* any later page of an allocation */
};

enum page_kind {
	PAGE_KIND_NONE = 0, /* free pages */
	PAGE_KIND_PAGE,     /* page_alloc() */
	PAGE_KIND_SLAB,     /* a slab of kmalloc objects (obj.c) */
	PAGE_KIND_LARGE,    /* a kmalloc object of whole pages (obj.c) */
};

struct page_desc {
	/* Free lists link FREE_HEAD pages; obj.c links slab head pages of a
	 * class with free objects. */
	struct page_desc *next, *prev;
	void *slab_free;        /* slab head: first free object, or NULL */
	uint32_t npages;        /* PAGE_HEAD: pages in this allocation */
	uint16_t slab_inuse;    /* slab head: live objects */
	uint8_t state : 4;      /* enum page_state */
	uint8_t kind : 4;       /* enum page_kind (allocated pages only) */
	uint8_t order;          /* FREE_HEAD: block order; SLAB: size class */
};

/* The descriptor of the page holding p, or NULL if p is not in managed
 * memory (including the descriptor arrays themselves). */
struct page_desc *page_desc_of(const void *p);

/* Allocates npages for kind (PAGE_KIND_SLAB or PAGE_KIND_LARGE), zeroed
 * only when zero is set. Every page gets the kind; the first is PAGE_HEAD
 * with npages. Does not count failures (the caller does). */
void *page_alloc_kind(size_t npages, enum page_kind kind, bool zero);
/* Frees what page_alloc_kind() returned; panics when p is not the head
 * of a live allocation of that kind and size. */
void page_free_kind(void *p, size_t npages, enum page_kind kind);

/* Counts a failed allocation in mem_stats.alloc_failures. */
void page_count_failure(void);

/* obj.c's part of mem_get_stats(): fills obj_bytes, obj_allocs, obj_frees. */
void obj_fill_stats(struct mem_stats *out);

/* Tests only: forget every range, allocation and counter (the memory that
 * was handed in is simply no longer used). Also resets obj.c. */
void page_reset_for_test(void);
void obj_reset_for_test(void);

#endif
