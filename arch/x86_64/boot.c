/*
 * boot.c - x86_64 start-up in C: from the PVH start info to kernel_main.
 *
 * arch_boot() runs on the boot stack with the early page tables. It reads
 * what the loader gave us (command line, memory map, RSDP) into struct
 * boot_info before anything can overwrite it, brings up the console, the
 * descriptor tables, the final page tables and the per-CPU block, then
 * hands over to the portable kernel_main(). Nothing here allocates.
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/log.h>
#include <kiln/panic.h>
#include <kiln/percpu.h>

#include "x86.h"
#include "x86_priv.h"

#define PVH_MAGIC 0x336ec578u
#define E820_RAM 1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;          /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

extern char __image_start[], __image_end[];

static struct boot_info boot_info;

static void add_ram(struct boot_info *bi, uint64_t base, uint64_t len)
{
	/* Keep the first MiB (BIOS data, option ROMs) and the image out. */
	uint64_t end = base + len;
	uint64_t img_lo = (uintptr_t)__image_start, img_hi = (uintptr_t)__image_end;
	if (base < 0x100000)
		base = 0x100000;
	if (end <= base)
		return;
	if (base < img_hi && end > img_lo) {
		if (base < img_lo)
			add_ram(bi, base, img_lo - base);
		if (end > img_hi)
			add_ram(bi, img_hi, end - img_hi);
		return;
	}
	if (bi->nram == BOOT_MEM_MAX)
		return;
	bi->ram[bi->nram].base = base;
	bi->ram[bi->nram].len = end - base;
	bi->nram++;
}

static void read_start_info(struct boot_info *bi, const struct hvm_start_info *si)
{
	if (si->magic != PVH_MAGIC)
		panic("PVH start info has bad magic %#x", si->magic);
	bi->loader = "pvh";
	if (si->cmdline_paddr) {
		const char *cl = (const char *)(uintptr_t)si->cmdline_paddr;
		size_t n = strnlen(cl, sizeof bi->cmdline - 1);
		memcpy(bi->cmdline, cl, n);
		bi->cmdline[n] = 0;
	}
	bi->rsdp = si->rsdp_paddr;
	if (si->version >= 1 && si->memmap_paddr) {
		const struct hvm_memmap_entry *e =
			(const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
		for (uint32_t i = 0; i < si->memmap_entries; i++)
			if (e[i].type == E820_RAM)
				add_ram(bi, e[i].addr, e[i].size);
	}
	/* The start info and the command line live in low memory, below the
	 * image, which add_ram() never hands out. */
}

void arch_boot(uint32_t start_info);

void arch_boot(uint32_t start_info)
{
	struct boot_info *bi = &boot_info;

	serial_init();
	x86_cpu_probe();
	read_start_info(bi, (const struct hvm_start_info *)(uintptr_t)start_info);
	bi->image_start = (uintptr_t)__image_start;
	bi->image_end = (uintptr_t)__image_end;
	if (bi->nram == 0)
		panic("the loader gave no usable RAM (PVH start info v0?)");

	gdt_idt_init();
	paging_init(bi);
	percpu_init_boot();
	kernel_main(bi);
}

void arch_timer_init(void)
{
	lapic_init();
}
