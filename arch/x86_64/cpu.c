/*
 * cpu.c - CPU identification and the small CPU operations of arch.h:
 * halting, exiting the VM, hardware randomness, the CPU id.
 *
 * x86_cpu_probe() reads CPUID once at boot into x86_cpu; everything else
 * asks that struct, never CPUID directly (CPUID exits to the hypervisor
 * and costs microseconds under KVM).
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/fmt.h>

#include "x86.h"

#define DEBUG_EXIT_PORT 0xF4    /* QEMU -device isa-debug-exit,iobase=0xf4 */
#define DEBUG_EXIT_BIAS 16

struct x86_features x86_cpu;

void x86_cpu_probe(void)
{
	uint32_t a, b, c, d;

	cpuid(0, 0, &a, &b, &c, &d);
	x86_cpu.max_leaf = a;
	memcpy(x86_cpu.vendor + 0, &b, 4);
	memcpy(x86_cpu.vendor + 4, &d, 4);
	memcpy(x86_cpu.vendor + 8, &c, 4);
	x86_cpu.vendor[12] = 0;

	cpuid(1, 0, &a, &b, &c, &d);
	x86_cpu.rdrand = !!(c & (1u << 30));
	x86_cpu.x2apic = !!(c & (1u << 21));
	x86_cpu.tsc_deadline = !!(c & (1u << 24));
	x86_cpu.xsave = !!(c & (1u << 26));
	x86_cpu.avx = !!(c & (1u << 28));
	int hypervisor = !!(c & (1u << 31));

	if (x86_cpu.max_leaf >= 7) {
		cpuid(7, 0, &a, &b, &c, &d);
		x86_cpu.rdseed = !!(b & (1u << 18));
		x86_cpu.fsgsbase = !!(b & 1u);
	}
	cpuid(0x80000000u, 0, &a, &b, &c, &d);
	x86_cpu.max_ext_leaf = a;
	if (a >= 0x80000001u) {
		cpuid(0x80000001u, 0, &a, &b, &c, &d);
		x86_cpu.nx = !!(d & (1u << 20));
		x86_cpu.pdpe1gb = !!(d & (1u << 26));
	}
	if (x86_cpu.max_ext_leaf >= 0x80000007u) {
		cpuid(0x80000007u, 0, &a, &b, &c, &d);
		x86_cpu.invariant_tsc = !!(d & (1u << 8));
	}
	if (hypervisor) {
		cpuid(0x40000000u, 0, &a, &b, &c, &d);
		memcpy(x86_cpu.hypervisor + 0, &b, 4);
		memcpy(x86_cpu.hypervisor + 4, &c, 4);
		memcpy(x86_cpu.hypervisor + 8, &d, 4);
		x86_cpu.hypervisor[12] = 0;
		if (memcmp(x86_cpu.hypervisor, "KVMKVMKVM", 9) == 0 && a >= 0x40000001u) {
			x86_cpu.kvm = 1;
			cpuid(0x40000001u, 0, &a, &b, &c, &d);
			x86_cpu.kvmclock = !!(a & (1u << 3));   /* KVM_FEATURE_CLOCKSOURCE2 */
		}
	}
}

void arch_describe(char *buf, size_t size)
{
	ksnprintf(buf, size, "x86_64 %s%s%s%s%s%s", x86_cpu.vendor,
		  x86_cpu.hypervisor[0] ? " on " : "", x86_cpu.hypervisor,
		  x86_cpu.rdrand ? " rdrand" : "", x86_cpu.tsc_deadline ? " tsc-deadline" : "",
		  x86_cpu.x2apic ? " x2apic" : "");
}

bool arch_hw_random(uint64_t *out)
{
	uint64_t v;
	unsigned char ok;

	if (x86_cpu.rdseed) {
		for (int i = 0; i < 16; i++) {
			__asm__ volatile("rdseed %0; setc %1" : "=r"(v), "=qm"(ok));
			if (ok) {
				*out = v;
				return true;
			}
		}
	}
	if (x86_cpu.rdrand) {
		for (int i = 0; i < 16; i++) {
			__asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
			if (ok) {
				*out = v;
				return true;
			}
		}
	}
	return false;
}

void arch_wait_for_interrupt(void)
{
	/* sti takes effect after the next instruction, so no interrupt can
	 * slip in between the two and leave us halted with work pending. */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void arch_halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void arch_exit(int status)
{
	/* QEMU exits with (value << 1) | 1; without the device this is a
	 * no-op. The bias keeps status 0 apart from QEMU's own exit code 1
	 * (an error): tools/qemu.sh undoes it. */
	outl(DEBUG_EXIT_PORT, (uint32_t)(status & 0xff) + DEBUG_EXIT_BIAS);
	arch_halt_forever();
}

bool arch_pci_present(void)
{
	outl(0xCF8, 0x80000000u);
	return (inl(0xCFC) & 0xffff) != 0xffff;
}

static uint32_t cfg_addr(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	return 0x80000000u | (bus << 16) | (dev << 11) | (fn << 8) | (off & 0xFC);
}

uint32_t arch_pci_cfg_read32(unsigned bus, unsigned dev, unsigned fn, unsigned off)
{
	outl(0xCF8, cfg_addr(bus, dev, fn, off));
	return inl(0xCFC);
}

void arch_pci_cfg_write32(unsigned bus, unsigned dev, unsigned fn, unsigned off, uint32_t v)
{
	outl(0xCF8, cfg_addr(bus, dev, fn, off));
	outl(0xCFC, v);
}
