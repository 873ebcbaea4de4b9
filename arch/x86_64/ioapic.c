/*
 * ioapic.c - routing platform interrupt lines (GSIs) through the I/O APICs.
 *
 * Interface: arch_irq_route() (kiln/arch.h). Devices that signal on a
 * line rather than with MSI (virtio-mmio on QEMU microvm) use it to
 * reach a vector from arch_irq_alloc().
 *
 * The I/O APICs come from the ACPI MADT (ACPI 6.5 section 5.2.12, entry
 * type 1: register address and GSI base), reached through the RSDP found
 * in the BIOS area as section 5.2.5.1 describes (QEMU puts it there for
 * SeaBIOS/q35 and for microvm). Without ACPI (microvm,acpi=off) the one
 * I/O APIC of the MP specification default is assumed: 0xFEC00000, GSI 0.
 *
 * Rules: a redirection entry (82093AA datasheet, 3.2.4) is written as
 * fixed delivery, physical destination = the calling CPU's local APIC,
 * edge-triggered, active high, unmasked. A level-signalling device must
 * therefore be acknowledged in its handler (its line drops; the next
 * assertion is a new edge). Boot time, boot core; nothing on a data path.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/log.h>

#include "x86.h"

#define IOAPIC_MAX 4
#define IOAPIC_DEFAULT_BASE 0xfec00000u
#define IOAPIC_REGSEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REG_VER 0x01
#define IOAPIC_REG_REDTBL 0x10

#define ACPI_BIOS_START 0xe0000u
#define ACPI_BIOS_END 0x100000u
#define ACPI_HDR_LEN 36
#define ACPI_MADT_ENTRIES 44
#define ACPI_TABLE_MAX (1u << 20)   /* sanity bound on a table's length */

struct ioapic {
	volatile uint8_t *base;
	uint32_t gsi_base, pins;
};

static struct ioapic ioapics[IOAPIC_MAX];
static unsigned nioapics;
static bool probed;

static uint32_t ioapic_read(const struct ioapic *a, unsigned reg)
{
	mmio_write32(a->base + IOAPIC_REGSEL, reg);
	return mmio_read32(a->base + IOAPIC_WIN);
}

static void ioapic_write(const struct ioapic *a, unsigned reg, uint32_t v)
{
	mmio_write32(a->base + IOAPIC_REGSEL, reg);
	mmio_write32(a->base + IOAPIC_WIN, v);
}

static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

static bool acpi_sum_ok(const uint8_t *p, uint32_t n)
{
	uint8_t s = 0;
	for (uint32_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s == 0;
}

static const uint8_t *acpi_find_rsdp(void)
{
	for (uintptr_t a = ACPI_BIOS_START; a < ACPI_BIOS_END; a += 16) {
		const uint8_t *p = (const uint8_t *)a;
		if (memcmp(p, "RSD PTR ", 8) == 0 && acpi_sum_ok(p, 20))
			return p;
	}
	return NULL;
}

/* The table with signature sig listed in the RSDT or XSDT, or NULL. */
static const uint8_t *acpi_find_table(const uint8_t *rsdp, const char *sig)
{
	bool x = rsdp[15] >= 2 && rd64(rsdp + 24) != 0 && rd64(rsdp + 24) < (1ull << 32);
	const uint8_t *sdt = (const uint8_t *)(uintptr_t)(x ? rd64(rsdp + 24) : rd32(rsdp + 16));
	if (sdt == NULL)
		return NULL;
	uint32_t len = rd32(sdt + 4), w = x ? 8 : 4;
	if (len < ACPI_HDR_LEN || len > ACPI_TABLE_MAX)
		return NULL;
	for (uint32_t off = ACPI_HDR_LEN; off + w <= len; off += w) {
		uint64_t pa = x ? rd64(sdt + off) : rd32(sdt + off);
		if (pa == 0 || pa >= (1ull << 32))
			continue;
		const uint8_t *t = (const uint8_t *)(uintptr_t)pa;
		if (memcmp(t, sig, 4) == 0 && rd32(t + 4) >= ACPI_HDR_LEN && rd32(t + 4) <= ACPI_TABLE_MAX)
			return t;
	}
	return NULL;
}

static void ioapic_add(uint64_t pa, uint32_t gsi_base)
{
	if (nioapics == IOAPIC_MAX || pa == 0 || pa >= (1ull << 32))
		return;
	struct ioapic *a = &ioapics[nioapics];
	a->base = (volatile uint8_t *)(uintptr_t)pa;
	uint32_t ver = ioapic_read(a, IOAPIC_REG_VER);
	if (ver == 0 || ver == 0xffffffffu)
		return;                          /* nothing answers there */
	a->gsi_base = gsi_base;
	a->pins = ((ver >> 16) & 0xff) + 1;
	nioapics++;
	log_debug("ioapic: %#llx, GSI %u-%u", (unsigned long long)pa, gsi_base,
		  gsi_base + a->pins - 1);
}

static void ioapic_probe(void)
{
	probed = true;
	const uint8_t *rsdp = acpi_find_rsdp();
	const uint8_t *madt = rsdp ? acpi_find_table(rsdp, "APIC") : NULL;
	if (madt) {
		const uint8_t *p = madt + ACPI_MADT_ENTRIES, *end = madt + rd32(madt + 4);
		while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
			if (p[0] == 1 && p[1] >= 12)     /* I/O APIC */
				ioapic_add(rd32(p + 4), rd32(p + 8));
			p += p[1];
		}
	}
	if (nioapics == 0)
		ioapic_add(IOAPIC_DEFAULT_BASE, 0);
}

int arch_irq_route(unsigned gsi, int vector)
{
	if (!probed)
		ioapic_probe();
	if (vector < VEC_IRQ_FIRST || vector > VEC_IRQ_LAST)
		return K_EINVAL;
	for (unsigned i = 0; i < nioapics; i++) {
		const struct ioapic *a = &ioapics[i];
		if (gsi < a->gsi_base || gsi - a->gsi_base >= a->pins)
			continue;
		unsigned pin = gsi - a->gsi_base;
		/* High word first, so the entry is never live with a stale
		 * destination; the low word unmasks it. */
		ioapic_write(a, IOAPIC_REG_REDTBL + 2 * pin + 1, lapic_id() << 24);
		ioapic_write(a, IOAPIC_REG_REDTBL + 2 * pin, (uint32_t)vector);
		return K_OK;
	}
	return K_ENOENT;
}
