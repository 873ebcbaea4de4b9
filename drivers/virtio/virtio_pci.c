/*
 * virtio_pci.c - the virtio-pci modern transport (virtio 1.2 section 4.1).
 *
 * Interface: none of its own. An INIT_DRIVER hook enumerates PCI, and for
 * every virtio function (vendor 0x1af4; device 0x1040 + id for modern
 * devices, 0x1000-0x103f with the id in the subsystem id for transitional
 * ones) it finds the vendor capabilities of 4.1.4 - common config,
 * notify, ISR, device config - maps their BAR windows uncached with
 * arch_map_mmio(), and hands a struct virtio_dev to virtio_dev_add().
 *
 * Rules:
 *   - Only the modern interface is used: a function without a common
 *     config capability is legacy-only and is skipped with a log line
 *     (QEMU: -device virtio-...-pci,disable-legacy=on gives modern ones).
 *   - Every field is accessed with its natural width; 64-bit queue
 *     addresses as two 32-bit halves, low first (4.1.3.1).
 *   - A queue's doorbell is notify base + queue_notify_off *
 *     notify_off_multiplier (4.1.4.4); it is computed once at enable time
 *     and checked against the notify window's length, so a device cannot
 *     point Kiln's writes outside the window it declared.
 *   - Devices are polled unless a driver asks for interrupts with
 *     virtio_queue_irq(): then MSI-X (PCI 3.0 6.8.2) is enabled, every
 *     table entry masked, and each distinct handler gets a vector from
 *     arch_irq_alloc() and one table entry; the queue's queue_msix_vector
 *     is set to that entry and read back (4.1.5.1.2: a device that cannot
 *     use it answers NO_VECTOR). The configuration-change vector stays at
 *     NO_VECTOR and the ISR register is not used (MSI-X only).
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/fmt.h>
#include <kiln/init.h>
#include <kiln/log.h>
#include <kiln/time.h>

#include "drivers/pci/pci.h"
#include "virtio.h"

#define VIRTIO_PCI_VENDOR 0x1af4

/* virtio_pci_cap.cfg_type (4.1.4) */
#define VPCI_CAP_COMMON 1
#define VPCI_CAP_NOTIFY 2
#define VPCI_CAP_ISR 3
#define VPCI_CAP_DEVICE 4

/* struct virtio_pci_common_cfg (4.1.4.3) */
#define VPCI_DFSELECT 0x00
#define VPCI_DF 0x04
#define VPCI_GFSELECT 0x08
#define VPCI_GF 0x0c
#define VPCI_MSIX 0x10
#define VPCI_NUMQ 0x12
#define VPCI_STATUS 0x14
#define VPCI_CFGGEN 0x15
#define VPCI_Q_SELECT 0x16
#define VPCI_Q_SIZE 0x18
#define VPCI_Q_MSIX 0x1a
#define VPCI_Q_ENABLE 0x1c
#define VPCI_Q_NOFF 0x1e
#define VPCI_Q_DESCLO 0x20
#define VPCI_Q_DESCHI 0x24
#define VPCI_Q_AVAILLO 0x28
#define VPCI_Q_AVAILHI 0x2c
#define VPCI_Q_USEDLO 0x30
#define VPCI_Q_USEDHI 0x34
#define VPCI_COMMON_LEN 0x38
#define VPCI_NO_VECTOR 0xffff

/* MSI-X capability and table (PCI 3.0 6.8.2). */
#define MSIX_CTRL 2
#define MSIX_TABLE 4
#define MSIX_CTRL_ENABLE 0x8000
#define MSIX_CTRL_MASKALL 0x4000
#define MSIX_ENTRY_SIZE 16
#define MSIX_ENTRY_CTRL_MASKED 1u
#define VPCI_MSIX_MAX 8          /* handlers per device: a few queue pairs */

struct vpci_window {
	volatile uint8_t *base;
	uint32_t len;
};

struct virtio_pci {
	struct virtio_dev vdev;
	struct pci_dev *pci;
	struct vpci_window common, notify, isr, device;
	uint32_t notify_mult;
	uint16_t num_queues;
	volatile uint16_t *doorbell[VIRTIO_MAX_QUEUES];
	volatile uint8_t *msix_table;     /* NULL until the first queue_irq */
	uint16_t msix_size, msix_used;
	struct { irq_fn fn; void *arg; } msix_owner[VPCI_MSIX_MAX];
};

static struct virtio_pci vpci_devs[VIRTIO_MAX_DEVS];
static unsigned vpci_ndevs;

static struct virtio_pci *vpci(struct virtio_dev *d) { return d->tr_priv; }
static volatile uint8_t *vpci_common(struct virtio_dev *d, unsigned off)
{
	return vpci(d)->common.base + off;
}

static uint8_t vpci_get_status(struct virtio_dev *d)
{
	return mmio_read8(vpci_common(d, VPCI_STATUS));
}

static void vpci_set_status(struct virtio_dev *d, uint8_t s)
{
	mmio_write8(vpci_common(d, VPCI_STATUS), s);
}

static int vpci_reset(struct virtio_dev *d)
{
	vpci_set_status(d, 0);
	uint64_t deadline = time_now_ns() + 100 * NS_PER_MS;
	while (vpci_get_status(d) != 0) {           /* 4.1.4.3.2 */
		if (time_now_ns() > deadline)
			return K_ETIMEDOUT;
		arch_relax();
	}
	return K_OK;
}

static uint64_t vpci_get_features(struct virtio_dev *d)
{
	mmio_write32(vpci_common(d, VPCI_DFSELECT), 0);
	uint64_t lo = mmio_read32(vpci_common(d, VPCI_DF));
	mmio_write32(vpci_common(d, VPCI_DFSELECT), 1);
	uint64_t hi = mmio_read32(vpci_common(d, VPCI_DF));
	return lo | hi << 32;
}

static void vpci_set_features(struct virtio_dev *d, uint64_t f)
{
	mmio_write32(vpci_common(d, VPCI_GFSELECT), 0);
	mmio_write32(vpci_common(d, VPCI_GF), (uint32_t)f);
	mmio_write32(vpci_common(d, VPCI_GFSELECT), 1);
	mmio_write32(vpci_common(d, VPCI_GF), (uint32_t)(f >> 32));
}

static uint32_t vpci_config_generation(struct virtio_dev *d)
{
	return mmio_read8(vpci_common(d, VPCI_CFGGEN));
}

static uint32_t vpci_config_read(struct virtio_dev *d, unsigned off, unsigned width)
{
	struct vpci_window *w = &vpci(d)->device;
	if (w->base == NULL || off + width > w->len)
		return 0;
	volatile uint8_t *p = w->base + off;
	return width == 4 ? mmio_read32(p) : width == 2 ? mmio_read16(p) : mmio_read8(p);
}

static void vpci_config_write(struct virtio_dev *d, unsigned off, unsigned width, uint32_t v)
{
	struct vpci_window *w = &vpci(d)->device;
	if (w->base == NULL || off + width > w->len)
		return;
	volatile uint8_t *p = w->base + off;
	if (width == 4)
		mmio_write32(p, v);
	else if (width == 2)
		mmio_write16(p, (uint16_t)v);
	else
		mmio_write8(p, (uint8_t)v);
}

static unsigned vpci_queue_max(struct virtio_dev *d, unsigned idx)
{
	if (idx >= vpci(d)->num_queues)
		return 0;
	mmio_write16(vpci_common(d, VPCI_Q_SELECT), (uint16_t)idx);
	return mmio_read16(vpci_common(d, VPCI_Q_SIZE));
}

static void vpci_write64(struct virtio_dev *d, unsigned lo_off, uint64_t v)
{
	mmio_write32(vpci_common(d, lo_off), (uint32_t)v);
	mmio_write32(vpci_common(d, lo_off + 4), (uint32_t)(v >> 32));
}

static int vpci_queue_enable(struct virtio_dev *d, struct virtq *vq)
{
	struct virtio_pci *p = vpci(d);
	unsigned idx = vq->index;
	if (idx >= p->num_queues || idx >= VIRTIO_MAX_QUEUES)
		return K_ENOENT;
	mmio_write16(vpci_common(d, VPCI_Q_SELECT), (uint16_t)idx);
	if (mmio_read16(vpci_common(d, VPCI_Q_ENABLE)) != 0)
		return K_EBUSY;
	uint64_t noff = (uint64_t)mmio_read16(vpci_common(d, VPCI_Q_NOFF)) * p->notify_mult;
	if (noff + 2 > p->notify.len) {
		log_error("virtio: %s: queue %u doorbell at +%#llx outside the %u-byte notify window",
			  d->name, idx, (unsigned long long)noff, p->notify.len);
		return K_EIO;
	}
	p->doorbell[idx] = (volatile uint16_t *)(p->notify.base + noff);
	mmio_write16(vpci_common(d, VPCI_Q_SIZE), vq->num);
	vpci_write64(d, VPCI_Q_DESCLO, virtq_desc_addr(vq));
	vpci_write64(d, VPCI_Q_AVAILLO, virtq_avail_addr(vq));
	vpci_write64(d, VPCI_Q_USEDLO, virtq_used_addr(vq));
	mmio_write16(vpci_common(d, VPCI_Q_ENABLE), 1);
	return K_OK;
}

static void vpci_notify(struct virtq *vq, void *ctx)
{
	struct virtio_dev *d = ctx;
	/* The wmb in virtq_kick already ordered the ring before this store. */
	mmio_write16(vpci(d)->doorbell[vq->index], vq->index);
}

/* Maps the MSI-X table, masks every entry and enables MSI-X. */
static int vpci_msix_init(struct virtio_dev *d)
{
	struct virtio_pci *p = vpci(d);
	struct pci_dev *pd = p->pci;
	unsigned cap = pci_cap_find(pd, PCI_CAP_ID_MSIX, 0);
	if (cap == 0)
		return K_ENOTSUP;
	uint16_t ctrl = pci_read16(pd, cap + MSIX_CTRL);
	uint32_t tbl = pci_read32(pd, cap + MSIX_TABLE);
	unsigned bir = tbl & 7u, size = (ctrl & 0x7ffu) + 1;
	if (bir > 5 || pd->bar[bir].io || pd->bar[bir].addr == 0)
		return K_ENOTSUP;
	uint64_t pa = pd->bar[bir].addr + (tbl & ~7u);
	int rc = arch_map_mmio(pa, (uint64_t)size * MSIX_ENTRY_SIZE);
	if (rc != K_OK)
		return rc;
	p->msix_table = (volatile uint8_t *)(uintptr_t)pa;
	p->msix_size = (uint16_t)size;
	for (unsigned e = 0; e < size; e++)
		mmio_write32(p->msix_table + e * MSIX_ENTRY_SIZE + 12, MSIX_ENTRY_CTRL_MASKED);
	pci_write16(pd, cap + MSIX_CTRL,
		    (uint16_t)((ctrl | MSIX_CTRL_ENABLE) & ~MSIX_CTRL_MASKALL));
	mmio_write16(vpci_common(d, VPCI_MSIX), VPCI_NO_VECTOR);
	return K_OK;
}

static int vpci_queue_irq(struct virtio_dev *d, unsigned idx, irq_fn fn, void *arg)
{
	struct virtio_pci *p = vpci(d);
	if (idx >= p->num_queues || idx >= VIRTIO_MAX_QUEUES)
		return K_ENOENT;
	if (p->msix_table == NULL) {
		int rc = vpci_msix_init(d);
		if (rc != K_OK)
			return rc;
	}
	unsigned e = 0;
	while (e < p->msix_used && (p->msix_owner[e].fn != fn || p->msix_owner[e].arg != arg))
		e++;
	if (e == p->msix_used) {
		if (e >= p->msix_size || e >= VPCI_MSIX_MAX)
			return K_ENOSPC;
		int vec = arch_irq_alloc(fn, arg);
		if (vec < 0)
			return vec;
		uint64_t addr;
		uint32_t data;
		arch_msi_message(vec, &addr, &data);
		volatile uint8_t *ent = p->msix_table + e * MSIX_ENTRY_SIZE;
		mmio_write32(ent, (uint32_t)addr);
		mmio_write32(ent + 4, (uint32_t)(addr >> 32));
		mmio_write32(ent + 8, data);
		mmio_write32(ent + 12, 0);          /* unmasked */
		p->msix_owner[e].fn = fn;
		p->msix_owner[e].arg = arg;
		p->msix_used++;
	}
	mmio_write16(vpci_common(d, VPCI_Q_SELECT), (uint16_t)idx);
	mmio_write16(vpci_common(d, VPCI_Q_MSIX), (uint16_t)e);
	if (mmio_read16(vpci_common(d, VPCI_Q_MSIX)) != e)
		return K_EIO;
	return K_OK;
}

static const struct virtio_transport vpci_transport = {
	.name = "pci",
	.get_status = vpci_get_status,
	.set_status = vpci_set_status,
	.reset = vpci_reset,
	.get_features = vpci_get_features,
	.set_features = vpci_set_features,
	.config_generation = vpci_config_generation,
	.config_read = vpci_config_read,
	.config_write = vpci_config_write,
	.queue_max = vpci_queue_max,
	.queue_enable = vpci_queue_enable,
	.notify = vpci_notify,
	.queue_irq = vpci_queue_irq,
};

/* Maps the window a virtio_pci_cap at cap describes; K_OK or an error. */
static int vpci_map_cap(struct pci_dev *pd, unsigned cap, struct vpci_window *w)
{
	unsigned bar = pci_read8(pd, cap + 4);
	uint32_t off = pci_read32(pd, cap + 8);
	uint32_t len = pci_read32(pd, cap + 12);
	if (bar > 5 || pd->bar[bar].io || pd->bar[bar].addr == 0 || len == 0)
		return K_ENODEV;
	uint64_t pa = pd->bar[bar].addr + off;
	int rc = arch_map_mmio(pa, len);
	if (rc != K_OK)
		return rc;
	w->base = (volatile uint8_t *)(uintptr_t)pa;
	w->len = len;
	return K_OK;
}

static void vpci_probe(struct pci_dev *pd)
{
	uint32_t id;
	if (pd->device >= 0x1040 && pd->device <= 0x107f)
		id = pd->device - 0x1040u;
	else if (pd->device >= 0x1000 && pd->device <= 0x103f)
		id = pd->subsys_id;
	else
		return;
	if (vpci_ndevs == VIRTIO_MAX_DEVS) {
		log_warn("virtio-pci: too many devices");
		return;
	}

	struct virtio_pci *p = &vpci_devs[vpci_ndevs];
	p->pci = pd;
	int rc = K_OK;
	for (unsigned cap = pci_cap_find(pd, PCI_CAP_ID_VNDR, 0); cap != 0 && rc == K_OK;
	     cap = pci_cap_find(pd, PCI_CAP_ID_VNDR, cap)) {
		uint8_t type = pci_read8(pd, cap + 3);
		/* The first capability of each type is the one to use (4.1.4). */
		if (type == VPCI_CAP_COMMON && !p->common.base)
			rc = vpci_map_cap(pd, cap, &p->common);
		else if (type == VPCI_CAP_NOTIFY && !p->notify.base) {
			rc = vpci_map_cap(pd, cap, &p->notify);
			p->notify_mult = pci_read32(pd, cap + 16);
		} else if (type == VPCI_CAP_ISR && !p->isr.base)
			rc = vpci_map_cap(pd, cap, &p->isr);
		else if (type == VPCI_CAP_DEVICE && !p->device.base)
			rc = vpci_map_cap(pd, cap, &p->device);
	}
	if (rc != K_OK || p->common.base == NULL || p->notify.base == NULL ||
	    p->common.len < VPCI_COMMON_LEN) {
		log_warn("virtio-pci %02x:%02x.%x (%04x:%04x): no usable modern interface (%s); "
			 "legacy virtio-pci is not supported (QEMU: disable-legacy=on)",
			 pd->bus, pd->dev, pd->fn, pd->vendor, pd->device,
			 rc != K_OK ? kiln_strerror(rc) : "missing capabilities");
		*p = (struct virtio_pci){ 0 };
		return;
	}
	vpci_ndevs++;
	pci_enable(pd);

	struct virtio_dev *d = &p->vdev;
	d->tr = &vpci_transport;
	d->tr_priv = p;
	d->device_id = id;
	ksnprintf(d->name, sizeof d->name, "virtio-pci %02x:%02x.%x", pd->bus, pd->dev, pd->fn);
	p->num_queues = mmio_read16(p->common.base + VPCI_NUMQ);
	log_debug("virtio: %s: id %u, %u queues, notify multiplier %u", d->name, id,
		  p->num_queues, p->notify_mult);
	virtio_dev_add(d);
}

static void virtio_pci_init(void)
{
	if (pci_scan() <= 0)
		return;
	for (struct pci_dev *pd = pci_find(VIRTIO_PCI_VENDOR, 0xffff, NULL); pd;
	     pd = pci_find(VIRTIO_PCI_VENDOR, 0xffff, pd))
		vpci_probe(pd);
}
INIT_DRIVER(virtio_pci_init);
