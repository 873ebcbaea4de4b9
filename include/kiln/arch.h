/*
 * arch.h - the interface every architecture implements.
 *
 * Declared once here; arch/<arch>/ implements it, and its
 * arch/<arch>/include/arch/cpu.h supplies the inline pieces (barriers,
 * MMIO, cycle counter). Code outside arch/ uses only this header: no
 * inline assembly and no #ifdef on the architecture anywhere else.
 */
#ifndef KILN_ARCH_H
#define KILN_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <arch/cpu.h>   /* arch_mb/rmb/wmb, mmio_read/write8..64, arch_cycles, arch_relax */

#if !defined(ARCH_HAS_BARRIERS) || !defined(ARCH_HAS_MMIO)
#error "arch/cpu.h must provide barriers and MMIO accessors"
#endif

/* --- boot information, filled by the arch entry before kernel_main --- */
#define BOOT_MEM_MAX 64
struct boot_mem_range {
	uint64_t base, len;
};
struct boot_info {
	char cmdline[1024];
	struct boot_mem_range ram[BOOT_MEM_MAX];   /* usable RAM only */
	unsigned nram;
	uintptr_t image_start, image_end;          /* the loaded kernel image */
	uint64_t rsdp;                              /* ACPI RSDP, 0 if none */
	const char *loader;                         /* "pvh", "multiboot2" */
};
__attribute__((noreturn)) void kernel_main(struct boot_info *bi);

/* --- console (the serial port) --- */
void arch_console_write(const char *s, size_t n);

/* --- CPU --- */
unsigned arch_cpu_id(void);
/* Enables interrupts, halts until one arrives, disables them again. */
void arch_wait_for_interrupt(void);
__attribute__((noreturn)) void arch_halt_forever(void);
/* Ends the VM with status (QEMU isa-debug-exit); halts if that fails. */
__attribute__((noreturn)) void arch_exit(int status);
/* Hardware random (RDSEED preferred, then RDRAND); false if unavailable. */
bool arch_hw_random(uint64_t *out);
/* Fills buf with a one-line CPU description for the banner. */
void arch_describe(char *buf, size_t size);

/* --- time (arch/<arch>/time*.c) --- */
/* Calibrates the cycle counter; returns its frequency in Hz. */
uint64_t arch_time_init(void);
uint64_t arch_cycles_hz(void);
/* Sets up the local timer of the boot core (after memory is up). */
void arch_timer_init(void);
/* Arms the local timer to interrupt at monotonic time deadline_ns
 * (0 disarms). Only wakes the loop; nothing runs in the handler. */
void arch_timer_arm(uint64_t deadline_ns);
/* Local timer interrupts taken on this core since boot (telemetry). */
uint64_t arch_timer_irq_count(void);
/* Wall clock at boot from the RTC, ns since the Unix epoch (0 if none). */
uint64_t arch_rtc_read_ns(void);
/* Which clock and timer were chosen ("tsc/pit", "lapic-tsc-deadline"). */
const char *arch_clock_name(void);
const char *arch_timer_name(void);

/* --- memory mapping (identity map; arch/<arch>/paging.c) --- */
/* Unmaps the 4 KiB page at va (a guard page); K_OK or K_ENOMEM. */
int arch_page_unmap(uintptr_t va);
/* Maps the 4 KiB page at va back as read-write, no-execute data. */
int arch_page_map_data(uintptr_t va);
/* Boot: the page allocator is up; page tables may now come from it. */
void arch_mem_ready(void);
/* Maps [pa, pa+len) uncached for device registers; K_OK or error. */
int arch_map_mmio(uint64_t pa, uint64_t len);

/* --- stack switching for tasks (arch/<arch>/switch.S) --- */
struct arch_ctx {
	uintptr_t sp;
};
/* Prepares ctx so the first switch to it calls entry(arg) on stack_top.
 * entry must never return. */
void arch_ctx_init(struct arch_ctx *ctx, void *stack_top, void (*entry)(void *), void *arg);
/* Saves callee-saved state in *from, resumes *to. */
void arch_ctx_switch(struct arch_ctx *from, struct arch_ctx *to);

/* --- PCI configuration space (x86: ECAM or ports 0xCF8/0xCFC) --- */
uint32_t arch_pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off);
void arch_pci_cfg_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v);
/* false when the machine has no PCI (microvm). */
bool arch_pci_present(void);

/* --- faults --- */
/* Prints a symbolized backtrace starting at frame pointer fp. */
void arch_backtrace(uintptr_t fp, uintptr_t pc);

/* --- interrupts for devices --- */
typedef void (*irq_fn)(void *arg);
/* Allocates a vector whose interrupt only wakes the loop and calls fn (in
 * interrupt context; fn must be tiny). Returns the vector or K_ENOSPC. */
int arch_irq_alloc(irq_fn fn, void *arg);
/* MSI address/data for vector on the current CPU (for MSI-X tables). */
void arch_msi_message(int vector, uint64_t *addr, uint32_t *data);
/* Routes the platform interrupt line gsi to vector on the current CPU
 * (edge-triggered, active high: a level-signalling device is acknowledged
 * in its handler). K_OK; K_ENOENT when no interrupt controller serves gsi. */
int arch_irq_route(unsigned gsi, int vector);

#endif
