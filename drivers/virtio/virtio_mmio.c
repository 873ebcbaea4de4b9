/*
 * virtio_mmio.c - the virtio-mmio transport, version 2 (virtio 1.2 section 4.2).
 *
 * Interface: none of its own. An INIT_DRIVER hook finds transports and
 * hands each populated one (magic 0x74726976, non-zero device id) to
 * virtio_dev_add(). Two sources, duplicates dropped by address:
 *   - every `virtio_mmio.device=SIZE@ADDR:IRQ[:ID]` word of the command
 *     line (QEMU appends these on microvm with acpi=off), and
 *   - on machines without PCI (microvm), QEMU's fixed window of 24
 *     transports at 0xFEB00000 + n * 0x200. PCI machines are not probed
 *     there: firmware may have put BARs in that range, and reading
 *     device registers blindly can have side effects.
 *
 * Rules:
 *   - Version 1 (legacy) transports are not driven; they get a log line
 *     naming the QEMU option that makes them modern
 *     (-global virtio-mmio.force-legacy=false).
 *   - Registers are 32-bit and accessed as such (4.2.2); 64-bit queue
 *     addresses are written as low/high halves.
 *   - Device config starts at 0x100 and is read with natural widths.
 *   - Devices are polled unless a driver asks for interrupts with
 *     virtio_queue_irq(). Then the transport's line (the IRQ of
 *     virtio_mmio.device=, or on microvm's window QEMU's GSI
 *     MICROVM_GSI_BASE + slot, served by its second I/O APIC) is routed
 *     to a vector with arch_irq_route(); the handler reads InterruptStatus
 *     and writes it to InterruptACK (4.2.2), which drops the level line,
 *     then calls every handler registered on the device. Without a line
 *     or a controller serving it, K_ENOTSUP: the driver polls.
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/cmdline.h>
#include <kiln/err.h>
#include <kiln/fmt.h>
#include <kiln/init.h>
#include <kiln/log.h>
#include <kiln/time.h>

#include "virtio.h"

#define VMMIO_MAGIC_VALUE 0x000
#define VMMIO_VERSION 0x004
#define VMMIO_DEVICE_ID 0x008
#define VMMIO_VENDOR_ID 0x00c
#define VMMIO_DEV_FEATURES 0x010
#define VMMIO_DEV_FEATURES_SEL 0x014
#define VMMIO_DRV_FEATURES 0x020
#define VMMIO_DRV_FEATURES_SEL 0x024
#define VMMIO_QUEUE_SEL 0x030
#define VMMIO_QUEUE_NUM_MAX 0x034
#define VMMIO_QUEUE_NUM 0x038
#define VMMIO_QUEUE_READY 0x044
#define VMMIO_QUEUE_NOTIFY 0x050
#define VMMIO_INTERRUPT_STATUS 0x060
#define VMMIO_INTERRUPT_ACK 0x064
#define VMMIO_STATUS 0x070
#define VMMIO_QUEUE_DESC_LOW 0x080
#define VMMIO_QUEUE_DESC_HIGH 0x084
#define VMMIO_QUEUE_DRIVER_LOW 0x090
#define VMMIO_QUEUE_DRIVER_HIGH 0x094
#define VMMIO_QUEUE_DEVICE_LOW 0x0a0
#define VMMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VMMIO_CONFIG_GENERATION 0x0fc
#define VMMIO_CONFIG 0x100

#define VMMIO_MAGIC 0x74726976u     /* "virt" */
#define VMMIO_REGION 0x200u

/* QEMU microvm's fixed transport window. */
#define MICROVM_MMIO_BASE 0xfeb00000ull
#define MICROVM_MMIO_COUNT 24u
/* With ACPI (QEMU's default) microvm wires transport n to GSI 24 + n, the
 * pins of its second I/O APIC (QEMU hw/i386/microvm.c). */
#define MICROVM_GSI_BASE 24u
#define VMMIO_IRQ_HANDLERS 4

struct virtio_mmio {
	struct virtio_dev vdev;
	volatile uint8_t *base;
	uint64_t pa;
	uint32_t size;
	unsigned irq;
	bool has_irq;
	int vector;                       /* 0 until routed */
	unsigned nhandlers;
	struct { irq_fn fn; void *arg; } handlers[VMMIO_IRQ_HANDLERS];
};

static struct virtio_mmio vmmio_devs[VIRTIO_MAX_DEVS];
static unsigned vmmio_ndevs;

static volatile uint8_t *vmmio_reg(struct virtio_dev *d, unsigned off)
{
	return ((struct virtio_mmio *)d->tr_priv)->base + off;
}

static uint32_t vmmio_read(struct virtio_dev *d, unsigned off) { return mmio_read32(vmmio_reg(d, off)); }
static void vmmio_write(struct virtio_dev *d, unsigned off, uint32_t v) { mmio_write32(vmmio_reg(d, off), v); }

static uint8_t vmmio_get_status(struct virtio_dev *d) { return (uint8_t)vmmio_read(d, VMMIO_STATUS); }
static void vmmio_set_status(struct virtio_dev *d, uint8_t s) { vmmio_write(d, VMMIO_STATUS, s); }

static int vmmio_reset(struct virtio_dev *d)
{
	vmmio_set_status(d, 0);
	uint64_t deadline = time_now_ns() + 100 * NS_PER_MS;
	while (vmmio_get_status(d) != 0) {
		if (time_now_ns() > deadline)
			return K_ETIMEDOUT;
		arch_relax();
	}
	return K_OK;
}

static uint64_t vmmio_get_features(struct virtio_dev *d)
{
	vmmio_write(d, VMMIO_DEV_FEATURES_SEL, 0);
	uint64_t lo = vmmio_read(d, VMMIO_DEV_FEATURES);
	vmmio_write(d, VMMIO_DEV_FEATURES_SEL, 1);
	uint64_t hi = vmmio_read(d, VMMIO_DEV_FEATURES);
	return lo | hi << 32;
}

static void vmmio_set_features(struct virtio_dev *d, uint64_t f)
{
	vmmio_write(d, VMMIO_DRV_FEATURES_SEL, 0);
	vmmio_write(d, VMMIO_DRV_FEATURES, (uint32_t)f);
	vmmio_write(d, VMMIO_DRV_FEATURES_SEL, 1);
	vmmio_write(d, VMMIO_DRV_FEATURES, (uint32_t)(f >> 32));
}

static uint32_t vmmio_config_generation(struct virtio_dev *d)
{
	return vmmio_read(d, VMMIO_CONFIG_GENERATION);
}

static uint32_t vmmio_config_read(struct virtio_dev *d, unsigned off, unsigned width)
{
	if (off + width > VMMIO_REGION - VMMIO_CONFIG)
		return 0;
	volatile uint8_t *p = vmmio_reg(d, VMMIO_CONFIG + off);
	return width == 4 ? mmio_read32(p) : width == 2 ? mmio_read16(p) : mmio_read8(p);
}

static void vmmio_config_write(struct virtio_dev *d, unsigned off, unsigned width, uint32_t v)
{
	if (off + width > VMMIO_REGION - VMMIO_CONFIG)
		return;
	volatile uint8_t *p = vmmio_reg(d, VMMIO_CONFIG + off);
	if (width == 4)
		mmio_write32(p, v);
	else if (width == 2)
		mmio_write16(p, (uint16_t)v);
	else
		mmio_write8(p, (uint8_t)v);
}

static unsigned vmmio_queue_max(struct virtio_dev *d, unsigned idx)
{
	vmmio_write(d, VMMIO_QUEUE_SEL, idx);
	return vmmio_read(d, VMMIO_QUEUE_NUM_MAX);
}

static void vmmio_write64(struct virtio_dev *d, unsigned lo_off, uint64_t v)
{
	vmmio_write(d, lo_off, (uint32_t)v);
	vmmio_write(d, lo_off + 4, (uint32_t)(v >> 32));
}

static int vmmio_queue_enable(struct virtio_dev *d, struct virtq *vq)
{
	vmmio_write(d, VMMIO_QUEUE_SEL, vq->index);
	if (vmmio_read(d, VMMIO_QUEUE_READY) != 0)
		return K_EBUSY;
	if (vq->num > vmmio_read(d, VMMIO_QUEUE_NUM_MAX))
		return K_EINVAL;
	vmmio_write(d, VMMIO_QUEUE_NUM, vq->num);
	vmmio_write64(d, VMMIO_QUEUE_DESC_LOW, virtq_desc_addr(vq));
	vmmio_write64(d, VMMIO_QUEUE_DRIVER_LOW, virtq_avail_addr(vq));
	vmmio_write64(d, VMMIO_QUEUE_DEVICE_LOW, virtq_used_addr(vq));
	vmmio_write(d, VMMIO_QUEUE_READY, 1);
	return K_OK;
}

static void vmmio_notify(struct virtq *vq, void *ctx)
{
	vmmio_write(ctx, VMMIO_QUEUE_NOTIFY, vq->index);
}

/* Interrupt context: acknowledge (drops the line), then tell the drivers. */
static void vmmio_irq(void *arg)
{
	struct virtio_mmio *m = arg;
	uint32_t isr = mmio_read32(m->base + VMMIO_INTERRUPT_STATUS);
	mmio_write32(m->base + VMMIO_INTERRUPT_ACK, isr);
	for (unsigned i = 0; i < m->nhandlers; i++)
		m->handlers[i].fn(m->handlers[i].arg);
}

static int vmmio_queue_irq(struct virtio_dev *d, unsigned idx, irq_fn fn, void *arg)
{
	struct virtio_mmio *m = d->tr_priv;
	(void)idx;                      /* one line per transport */
	if (!m->has_irq)
		return K_ENOTSUP;
	unsigned i = 0;
	while (i < m->nhandlers && (m->handlers[i].fn != fn || m->handlers[i].arg != arg))
		i++;
	if (i == m->nhandlers) {
		if (i == VMMIO_IRQ_HANDLERS)
			return K_ENOSPC;
		m->handlers[i].fn = fn;
		m->handlers[i].arg = arg;
		m->nhandlers++;
	}
	if (m->vector == 0) {
		int v = arch_irq_alloc(vmmio_irq, m);
		if (v < 0)
			return v;
		int rc = arch_irq_route(m->irq, v);
		if (rc != K_OK)
			return rc == K_ENOENT ? K_ENOTSUP : rc;
		m->vector = v;
		/* A line raised before routing would never give an edge. */
		mmio_write32(m->base + VMMIO_INTERRUPT_ACK,
			     mmio_read32(m->base + VMMIO_INTERRUPT_STATUS));
	}
	return K_OK;
}

static const struct virtio_transport vmmio_transport = {
	.name = "mmio",
	.get_status = vmmio_get_status,
	.set_status = vmmio_set_status,
	.reset = vmmio_reset,
	.get_features = vmmio_get_features,
	.set_features = vmmio_set_features,
	.config_generation = vmmio_config_generation,
	.config_read = vmmio_config_read,
	.config_write = vmmio_config_write,
	.queue_max = vmmio_queue_max,
	.queue_enable = vmmio_queue_enable,
	.notify = vmmio_notify,
	.queue_irq = vmmio_queue_irq,
};

/* Looks at the transport at pa (already mapped) and adds it if populated. */
static void vmmio_probe(uint64_t pa, uint32_t size, bool has_irq, unsigned irq)
{
	volatile uint8_t *base = (volatile uint8_t *)(uintptr_t)pa;
	for (unsigned i = 0; i < vmmio_ndevs; i++)
		if (vmmio_devs[i].pa == pa)
			return;
	if (mmio_read32(base + VMMIO_MAGIC_VALUE) != VMMIO_MAGIC)
		return;
	uint32_t version = mmio_read32(base + VMMIO_VERSION);
	uint32_t id = mmio_read32(base + VMMIO_DEVICE_ID);
	if (id == 0)
		return;                 /* an empty slot */
	if (version == 1) {
		log_warn("virtio-mmio@%#llx: device id %u is a legacy (version 1) transport; "
			 "Kiln drives version 2 only: pass -global virtio-mmio.force-legacy=false to QEMU",
			 (unsigned long long)pa, id);
		return;
	}
	if (version != 2) {
		log_warn("virtio-mmio@%#llx: unknown version %u", (unsigned long long)pa, version);
		return;
	}
	if (vmmio_ndevs == VIRTIO_MAX_DEVS) {
		log_warn("virtio-mmio: too many devices");
		return;
	}
	struct virtio_mmio *m = &vmmio_devs[vmmio_ndevs++];
	m->base = base;
	m->pa = pa;
	m->size = size;
	m->irq = irq;
	m->has_irq = has_irq;
	struct virtio_dev *d = &m->vdev;
	d->tr = &vmmio_transport;
	d->tr_priv = m;
	d->device_id = id;
	ksnprintf(d->name, sizeof d->name, "virtio-mmio@%#llx", (unsigned long long)pa);
	virtio_dev_add(d);
}

/* Parses a number: 0x-prefixed hex or decimal, with an optional K/M/G
 * suffix when suffix is true. Advances *s; K_OK or K_EINVAL. */
static int vmmio_parse_num(const char **s, const char *end, bool suffix, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	unsigned base = 10, digits = 0;
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
	}
	for (; p < end; p++, digits++) {
		unsigned dv;
		if (*p >= '0' && *p <= '9')
			dv = (unsigned)(*p - '0');
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			dv = (unsigned)(*p - 'a' + 10);
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			dv = (unsigned)(*p - 'A' + 10);
		else
			break;
		if (v > (UINT64_MAX - dv) / base)
			return K_EINVAL;
		v = v * base + dv;
	}
	if (digits == 0)
		return K_EINVAL;
	if (suffix && p < end) {
		unsigned shift = *p == 'K' || *p == 'k' ? 10 : *p == 'M' || *p == 'm' ? 20
			       : *p == 'G' || *p == 'g' ? 30 : 0;
		if (shift) {
			if (v >> (64 - shift))
				return K_EINVAL;
			v <<= shift;
			p++;
		}
	}
	*s = p;
	*out = v;
	return K_OK;
}

/* One "SIZE@ADDR:IRQ[:ID]" value, as Linux's virtio_mmio.device= takes. */
static int vmmio_parse_device(const char *s, const char *end, uint64_t *pa, uint64_t *size,
			      uint64_t *irq)
{
	if (vmmio_parse_num(&s, end, true, size) != K_OK || s == end || *s++ != '@')
		return K_EINVAL;
	if (vmmio_parse_num(&s, end, false, pa) != K_OK || s == end || *s++ != ':')
		return K_EINVAL;
	if (vmmio_parse_num(&s, end, false, irq) != K_OK)
		return K_EINVAL;
	if (s != end && *s != ':')
		return K_EINVAL;
	return K_OK;
}

static void vmmio_scan_cmdline(void)
{
	static const char key[] = "virtio_mmio.device=";
	const char *p = cmdline_get();
	while (p && *p) {
		while (*p == ' ' || *p == '\t')
			p++;
		const char *w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if ((size_t)(p - w) <= sizeof key - 1 || strncmp(w, key, sizeof key - 1) != 0)
			continue;
		uint64_t pa, size, irq;
		if (vmmio_parse_device(w + sizeof key - 1, p, &pa, &size, &irq) != K_OK ||
		    size < VMMIO_CONFIG || pa == 0 || irq > 0xffff) {
			log_warn("virtio-mmio: cannot parse '%.*s'", (int)(p - w), w);
			continue;
		}
		if (arch_map_mmio(pa, size) != K_OK) {
			log_warn("virtio-mmio: cannot map %#llx", (unsigned long long)pa);
			continue;
		}
		vmmio_probe(pa, (uint32_t)size, true, (unsigned)irq);
	}
}

static void virtio_mmio_init(void)
{
	vmmio_scan_cmdline();
	if (arch_pci_present())
		return;
	if (arch_map_mmio(MICROVM_MMIO_BASE, MICROVM_MMIO_COUNT * VMMIO_REGION) != K_OK) {
		log_warn("virtio-mmio: cannot map the microvm window");
		return;
	}
	for (unsigned n = 0; n < MICROVM_MMIO_COUNT; n++)
		vmmio_probe(MICROVM_MMIO_BASE + n * VMMIO_REGION, VMMIO_REGION, true,
			    MICROVM_GSI_BASE + n);
}
INIT_DRIVER(virtio_mmio_init);
