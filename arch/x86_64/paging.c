/*
 * paging.c - the final identity map and changes to it.
 *
 * Layout: 4-level paging, physical == virtual. The range holding the
 * image (from 0 to the end of .bss, rounded up to 2 MiB) is mapped with
 * 4 KiB pages so every part gets its own rights: the null page unmapped;
 * text read-only and executable; rodata read-only; data and bss
 * read-write, no-execute; the guard pages below the boot stack and the
 * interrupt stacks unmapped. Everything else (the rest of RAM, and the
 * 3-4 GiB hole where device registers live) uses 2 MiB pages, no-execute,
 * with device ranges uncached. Page-table pages come from a static pool
 * at boot and from the page allocator afterwards.
 *
 * A page made into a guard (arch_page_unmap) keeps a software marker in
 * its not-present entry, so the fault handler can tell a stack overflow
 * from a wild pointer. Single core: no TLB shootdown yet (SMP will need
 * one for arch_page_unmap/map_data).
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/mem.h>
#include <kiln/panic.h>

#include "x86.h"
#include "x86_priv.h"

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_GUARD (1ull << 10)          /* software: unmapped on purpose */
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

#define MB2 0x200000ull
#define GB1 0x40000000ull
#define MAP_LIMIT (64 * GB1)            /* RAM beyond this is not mapped */

extern char __image_start[], __text_start[], __text_end[], __rodata_start[],
	__rodata_end[], __data_start[], __image_end[];
extern char boot_stack_guard[];


#define BOOT_PT_POOL 96
static uint64_t pt_pool[BOOT_PT_POOL][512] __attribute__((aligned(4096)));
static unsigned pt_pool_used;
static uint64_t *pml4;
static int allocator_ready;

static uint64_t *pt_alloc(void)
{
	if (pt_pool_used < BOOT_PT_POOL)
		return pt_pool[pt_pool_used++];
	if (!allocator_ready)
		panic("paging: boot page-table pool exhausted");
	return page_alloc(1);              /* zeroed; NULL handled by callers */
}

static uint64_t *next_table(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P)) {
		uint64_t *t = pt_alloc();
		if (!t)
			return NULL;
		table[idx] = (uintptr_t)t | PTE_P | PTE_W;
	}
	KASSERT(!(table[idx] & PTE_PS));
	return (uint64_t *)(uintptr_t)(table[idx] & PTE_ADDR);
}

static uint64_t *pd_for(uint64_t va)
{
	uint64_t *pdpt = next_table(pml4, (va >> 39) & 511);
	return pdpt ? next_table(pdpt, (va >> 30) & 511) : NULL;
}

static uint64_t rights_4k(uint64_t va)
{
	if (va < 4096)
		return 0;
	if (va >= (uintptr_t)boot_stack_guard && va < (uintptr_t)boot_stack_guard + 4096)
		return PTE_GUARD;
	for (int i = 0; i < IST_STACKS; i++) {
		uintptr_t g = (uintptr_t)&ist_stacks[i];
		if (va >= g && va < g + 4096)
			return PTE_GUARD;
	}
	if (va >= (uintptr_t)__text_start && va < (uintptr_t)__text_end)
		return PTE_P;                          /* read-only, executable */
	if (va >= (uintptr_t)__image_start && va < (uintptr_t)__rodata_end)
		return PTE_P | PTE_NX;                 /* note, rodata, symbols */
	return PTE_P | PTE_W | PTE_NX;
}

static void map_2m(uint64_t va, uint64_t flags)
{
	uint64_t *pd = pd_for(va);
	if (!pd)
		panic("paging: out of memory for page tables");
	pd[(va >> 21) & 511] = va | PTE_P | PTE_PS | flags;
}

void paging_init(const struct boot_info *bi)
{
	pml4 = pt_alloc();

	/* 4 KiB pages over the image. */
	uint64_t fine_end = ((uintptr_t)__image_end + MB2 - 1) & ~(MB2 - 1);
	for (uint64_t va = 0; va < fine_end; va += MB2) {
		uint64_t *pd = pd_for(va);
		uint64_t *pt = pt_alloc();
		pd[(va >> 21) & 511] = (uintptr_t)pt | PTE_P | PTE_W;
		for (unsigned i = 0; i < 512; i++) {
			uint64_t a = va + (uint64_t)i * 4096;
			uint64_t r = rights_4k(a);
			pt[i] = r & PTE_P ? a | r : r;
		}
	}
	/* 2 MiB pages for the rest of the low 4 GiB; the top GiB is devices. */
	for (uint64_t va = fine_end; va < 4 * GB1; va += MB2)
		map_2m(va, PTE_W | PTE_NX | (va >= 3 * GB1 ? PTE_PCD | PTE_PWT : 0));
	/* RAM above 4 GiB. */
	for (unsigned i = 0; i < bi->nram; i++) {
		uint64_t lo = bi->ram[i].base & ~(MB2 - 1);
		uint64_t hi = bi->ram[i].base + bi->ram[i].len;
		if (hi > MAP_LIMIT)
			hi = MAP_LIMIT;
		for (uint64_t va = lo < 4 * GB1 ? 4 * GB1 : lo; va < hi; va += MB2)
			map_2m(va, PTE_W | PTE_NX);
	}
	write_cr3((uintptr_t)pml4);
}

/* Returns the 4 KiB entry for va, splitting a 2 MiB page if needed. */
static uint64_t *pte_for(uintptr_t va, int split)
{
	uint64_t *pdpt, *pd;
	if (!(pml4[(va >> 39) & 511] & PTE_P))
		return NULL;
	pdpt = (uint64_t *)(uintptr_t)(pml4[(va >> 39) & 511] & PTE_ADDR);
	if (!(pdpt[(va >> 30) & 511] & PTE_P))
		return NULL;
	pd = (uint64_t *)(uintptr_t)(pdpt[(va >> 30) & 511] & PTE_ADDR);
	uint64_t *pde = &pd[(va >> 21) & 511];
	if (!(*pde & PTE_P))
		return NULL;
	if (*pde & PTE_PS) {
		if (!split)
			return NULL;
		uint64_t *pt = pt_alloc();
		if (!pt)
			return NULL;
		uint64_t base = *pde & PTE_ADDR & ~(MB2 - 1);
		uint64_t flags = *pde & (PTE_W | PTE_NX | PTE_PCD | PTE_PWT);
		for (unsigned i = 0; i < 512; i++)
			pt[i] = (base + (uint64_t)i * 4096) | PTE_P | flags;
		*pde = (uintptr_t)pt | PTE_P | PTE_W;
		write_cr3(read_cr3());                 /* flush the old large page */
	}
	uint64_t *pt = (uint64_t *)(uintptr_t)(*pde & PTE_ADDR);
	return &pt[(va >> 12) & 511];
}

void arch_mem_ready(void)
{
	allocator_ready = 1;
}

int arch_page_unmap(uintptr_t va)
{
	uint64_t *pte = pte_for(va & ~4095ul, 1);
	if (!pte)
		return K_ENOMEM;
	*pte = PTE_GUARD;
	invlpg(va);
	return K_OK;
}

int arch_page_map_data(uintptr_t va)
{
	va &= ~4095ul;
	uint64_t *pte = pte_for(va, 1);
	if (!pte)
		return K_ENOMEM;
	*pte = va | PTE_P | PTE_W | PTE_NX;
	invlpg(va);
	return K_OK;
}

int arch_map_mmio(uint64_t pa, uint64_t len)
{
	/* Below 4 GiB everything is mapped already (uncached in the top GiB). */
	uint64_t end = pa + len;
	if (end <= 4 * GB1)
		return K_OK;
	for (uint64_t va = pa & ~(MB2 - 1); va < end; va += MB2) {
		uint64_t *pd = pd_for(va);
		if (!pd)
			return K_ENOMEM;
		uint64_t *pde = &pd[(va >> 21) & 511];
		if (!(*pde & PTE_P))
			*pde = va | PTE_P | PTE_PS | PTE_W | PTE_NX | PTE_PCD | PTE_PWT;
	}
	write_cr3(read_cr3());
	return K_OK;
}

static uint64_t *walk(uintptr_t va, int *large)
{
	uint64_t e = pml4[(va >> 39) & 511];
	if (!(e & PTE_P))
		return NULL;
	uint64_t *pdpt = (uint64_t *)(uintptr_t)(e & PTE_ADDR);
	e = pdpt[(va >> 30) & 511];
	if (!(e & PTE_P))
		return NULL;
	uint64_t *pd = (uint64_t *)(uintptr_t)(e & PTE_ADDR);
	uint64_t *pde = &pd[(va >> 21) & 511];
	if (!(*pde & PTE_P))
		return NULL;
	if (*pde & PTE_PS) {
		*large = 1;
		return pde;
	}
	*large = 0;
	return &((uint64_t *)(uintptr_t)(*pde & PTE_ADDR))[(va >> 12) & 511];
}

bool paging_is_mapped(uintptr_t va)
{
	int large;
	uint64_t *e = walk(va, &large);
	return e && (*e & PTE_P);
}

bool paging_is_guard(uintptr_t va)
{
	int large;
	uint64_t *e = walk(va, &large);
	return e && !large && (*e & PTE_GUARD) && !(*e & PTE_P);
}
