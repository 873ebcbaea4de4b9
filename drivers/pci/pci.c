/*
 * pci.c - PCI bus enumeration and configuration-space helpers.
 *
 * Interface: drivers/pci/pci.h. pci_scan() enumerates once, from an
 * INIT_DRIVER hook here or from the first driver that needs it (it is
 * idempotent, so the order of initcalls does not matter).
 *
 * Rules:
 *   - Configuration space is reached only through arch_pci_cfg_read32/
 *     write32 (ECAM or ports 0xCF8/0xCFC, the arch decides); narrower
 *     accesses are done on the containing dword.
 *   - The walk starts at bus 0 and follows PCI-to-PCI bridges to their
 *     secondary buses (each bus visited once), instead of probing all
 *     256 buses: q35 puts its devices on bus 0 and bridges name the rest.
 *   - Function 0 decides whether functions 1-7 exist (header bit 7).
 *   - Capability lists come from the device and are walked with a bound,
 *     so a looping or misaligned list ends the walk instead of the boot.
 *   - BARs are read as firmware left them (64-bit BARs span two slots);
 *     they are not sized or moved.
 *   - No PCI (arch_pci_present() false, e.g. microvm): nothing happens.
 */
#include <stdbool.h>
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/init.h>
#include <kiln/log.h>

#include "pci.h"

static struct pci_dev pci_devs[PCI_MAX_DEVS];
static unsigned pci_ndevs;
static bool pci_scanned;
static uint8_t pci_bus_seen[256 / 8];

uint32_t pci_read32(const struct pci_dev *d, unsigned off)
{
	return arch_pci_cfg_read32(d->bus, d->dev, d->fn, off & ~3u);
}

uint16_t pci_read16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(pci_read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci_read8(const struct pci_dev *d, unsigned off)
{
	return (uint8_t)(pci_read32(d, off) >> ((off & 3) * 8));
}

void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	arch_pci_cfg_write32(d->bus, d->dev, d->fn, off & ~3u, v);
}

void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	/* Read-modify-write of the dword. Only used on COMMAND, whose
	 * neighbour STATUS is write-1-to-clear: write zeros there. */
	uint32_t old = pci_read32(d, off);
	unsigned shift = (off & 2) * 8;
	uint32_t keep = (off & ~3u) == PCI_COMMAND ? 0 : old & ~(0xffffu << shift);
	pci_write32(d, off, keep | ((uint32_t)v << shift));
}

void pci_enable(const struct pci_dev *d)
{
	uint16_t cmd = pci_read16(d, PCI_COMMAND);
	cmd |= PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
	pci_write16(d, PCI_COMMAND, cmd);
}

unsigned pci_cap_find(const struct pci_dev *d, uint8_t cap_id, unsigned from)
{
	if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
		return 0;
	unsigned off = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
	for (int guard = 0; guard < 48 && off >= 0x40; guard++) {
		off &= ~3u;
		if (pci_read8(d, off) == cap_id)
			return off;
		off = pci_read8(d, off + 1);
	}
	return 0;
}

static void pci_read_bars(struct pci_dev *d)
{
	unsigned nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
	for (unsigned i = 0; i < nbars; i++) {
		uint32_t lo = pci_read32(d, PCI_BAR0 + 4 * i);
		struct pci_bar *b = &d->bar[i];
		if (lo & 1) {
			b->io = true;
			b->addr = lo & ~3u;
			continue;
		}
		b->addr = lo & ~0xfu;
		if (((lo >> 1) & 3) == 2 && i + 1 < nbars) {
			b->is64 = true;
			b->addr |= (uint64_t)pci_read32(d, PCI_BAR0 + 4 * (i + 1)) << 32;
			i++;    /* the upper half is not a BAR of its own */
		}
	}
}

static void pci_scan_bus(unsigned bus, int depth);

static void pci_add_fn(unsigned bus, unsigned dev, unsigned fn, uint32_t id, int depth)
{
	if (pci_ndevs == PCI_MAX_DEVS) {
		log_warn("pci: more than %d functions; %02x:%02x.%x ignored",
			 PCI_MAX_DEVS, bus, dev, fn);
		return;
	}
	struct pci_dev *d = &pci_devs[pci_ndevs++];
	d->bus = (uint8_t)bus;
	d->dev = (uint8_t)dev;
	d->fn = (uint8_t)fn;
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cr = pci_read32(d, PCI_CLASS_REV);
	d->revision = (uint8_t)cr;
	d->prog_if = (uint8_t)(cr >> 8);
	d->subclass = (uint8_t)(cr >> 16);
	d->class_code = (uint8_t)(cr >> 24);
	d->header_type = pci_read8(d, PCI_HEADER_TYPE) & 0x7f;
	if (d->header_type == 0) {
		uint32_t ss = pci_read32(d, PCI_SUBSYSTEM);
		d->subsys_vendor = (uint16_t)ss;
		d->subsys_id = (uint16_t)(ss >> 16);
	}
	pci_read_bars(d);
	log_debug("pci: %02x:%02x.%x %04x:%04x class %02x.%02x", bus, dev, fn,
		  d->vendor, d->device, d->class_code, d->subclass);

	/* A PCI-to-PCI bridge names the bus behind it. */
	if (d->header_type == 1 && d->class_code == 0x06 && d->subclass == 0x04) {
		unsigned sec = pci_read8(d, PCI_SECONDARY_BUS);
		if (sec != 0 && depth < 16)
			pci_scan_bus(sec, depth + 1);
	}
}

static void pci_scan_bus(unsigned bus, int depth)
{
	if (pci_bus_seen[bus / 8] & (1u << (bus % 8)))
		return;
	pci_bus_seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	for (unsigned dev = 0; dev < 32; dev++) {
		uint32_t id = arch_pci_cfg_read32(bus, dev, 0, PCI_VENDOR_ID);
		if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
			continue;
		uint8_t ht = (uint8_t)(arch_pci_cfg_read32(bus, dev, 0, PCI_HEADER_TYPE & ~3u) >> 16);
		unsigned nfn = (ht & 0x80) ? 8 : 1;
		for (unsigned fn = 0; fn < nfn; fn++) {
			if (fn > 0) {
				id = arch_pci_cfg_read32(bus, dev, fn, PCI_VENDOR_ID);
				if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0)
					continue;
			}
			pci_add_fn(bus, dev, fn, id, depth);
		}
	}
}

int pci_scan(void)
{
	if (pci_scanned)
		return (int)pci_ndevs;
	pci_scanned = true;
	if (!arch_pci_present())
		return 0;
	pci_scan_bus(0, 0);
	log_info("pci: %u functions", pci_ndevs);
	return (int)pci_ndevs;
}

unsigned pci_count(void) { return pci_ndevs; }

struct pci_dev *pci_get(unsigned i)
{
	return i < pci_ndevs ? &pci_devs[i] : NULL;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *after)
{
	unsigned i = after ? (unsigned)(after - pci_devs) + 1 : 0;
	for (; i < pci_ndevs; i++) {
		struct pci_dev *d = &pci_devs[i];
		if (d->vendor == vendor && (device == 0xffff || d->device == device))
			return d;
	}
	return NULL;
}

static void pci_init(void)
{
	pci_scan();
}
INIT_DRIVER(pci_init);
