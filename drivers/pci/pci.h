/*
 * pci.h - PCI enumeration for drivers.
 *
 * pci_scan() walks the buses reachable from bus 0 (following bridges)
 * once and records every function in a fixed table; drivers then look
 * devices up by vendor/device and read their capabilities. BAR addresses
 * are the ones firmware assigned (SeaBIOS on q35); Kiln does not
 * reassign them. On machines without PCI (microvm) the table is empty.
 * Boot-time only; nothing here is on a data path.
 */
#ifndef KILN_PCI_H
#define KILN_PCI_H

#include <stdbool.h>
#include <stdint.h>

#define PCI_MAX_DEVS 64

/* Configuration space offsets (PCI 3.0 type-0 header). */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0e
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM 0x2c
#define PCI_CAP_PTR 0x34
#define PCI_SECONDARY_BUS 0x19   /* type-1 (bridge) header */

#define PCI_COMMAND_IO 0x1
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_STATUS_CAP_LIST 0x10

#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_bar {
	uint64_t addr;     /* 0 when unimplemented or unassigned */
	bool io;           /* I/O-port BAR */
	bool is64;         /* 64-bit memory BAR (takes two slots) */
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint16_t subsys_vendor, subsys_id;
	uint8_t class_code, subclass, prog_if, revision;
	uint8_t header_type;       /* without the multi-function bit */
	struct pci_bar bar[6];
};

/* Enumerates once (later calls return at once); returns devices found. */
int pci_scan(void);
unsigned pci_count(void);
struct pci_dev *pci_get(unsigned i);
/* Next device after `after` (NULL: from the start) matching vendor and
 * device (0xffff matches any device id); NULL when there are no more. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, struct pci_dev *after);

uint32_t pci_read32(const struct pci_dev *d, unsigned off);
uint16_t pci_read16(const struct pci_dev *d, unsigned off);
uint8_t pci_read8(const struct pci_dev *d, unsigned off);
void pci_write32(const struct pci_dev *d, unsigned off, uint32_t v);
void pci_write16(const struct pci_dev *d, unsigned off, uint16_t v);

/* Offset of the next capability with id cap_id after offset `from`
 * (0: from the start of the list); 0 when there is none. */
unsigned pci_cap_find(const struct pci_dev *d, uint8_t cap_id, unsigned from);
/* Sets memory-space decoding and bus mastering in the command register. */
void pci_enable(const struct pci_dev *d);

#endif
