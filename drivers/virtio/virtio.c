/*
 * virtio.c - the virtio driver registry, device initialization and queues.
 *
 * Interface: drivers/virtio/virtio.h. Transports call virtio_dev_add()
 * for every device they find; drivers call virtio_register_driver() from
 * an initcall. Whichever comes second triggers the match, so initcall
 * order does not matter.
 *
 * Rules:
 *   - Initialization follows virtio 1.2 section 3.1.1: reset, ACKNOWLEDGE,
 *     DRIVER, read the 64-bit device features, write the subset Kiln
 *     understands, FEATURES_OK and read it back (a device that clears it
 *     rejected the subset), then the driver's probe sets up its queues
 *     and sets DRIVER_OK. Any failure sets FAILED and leaves the device.
 *   - VIRTIO_F_VERSION_1 (6) is required: legacy devices are refused
 *     with a log line saying so. VIRTIO_F_ACCESS_PLATFORM is accepted
 *     when offered: Kiln gives the device identity-mapped physical
 *     addresses, which is what it means without an IOMMU.
 *   - Queue memory comes from page_alloc (zeroed, identity mapped: the
 *     address is the DMA address); the driver-private part from kzalloc.
 *     Queues live as long as the device: there is no teardown.
 *   - Device config is read with the generation-count loop of 2.5.1.
 *   - Boot core, boot time only.
 */
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/fmt.h>
#include <kiln/log.h>
#include <kiln/mem.h>
#include <kiln/time.h>

#include "virtio.h"

/* Feature bits the core itself handles for every driver. */
#define VIRTIO_CORE_FEATURES (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM))

static struct virtio_driver *virtio_drivers;
static struct virtio_dev *virtio_devs[VIRTIO_MAX_DEVS];
static unsigned virtio_ndevs;

void virtio_features_str(uint64_t f, char *buf, size_t size)
{
	static const struct { unsigned bit; const char *name; } names[] = {
		{ VIRTIO_F_INDIRECT_DESC, "INDIRECT_DESC" },
		{ VIRTIO_F_EVENT_IDX, "EVENT_IDX" },
		{ VIRTIO_F_VERSION_1, "VERSION_1" },
		{ VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM" },
		{ VIRTIO_F_RING_PACKED, "RING_PACKED" },
		{ VIRTIO_F_IN_ORDER, "IN_ORDER" },
		{ VIRTIO_F_ORDER_PLATFORM, "ORDER_PLATFORM" },
		{ VIRTIO_F_SR_IOV, "SR_IOV" },
		{ VIRTIO_F_NOTIFICATION_DATA, "NOTIFICATION_DATA" },
		{ VIRTIO_F_NOTIF_CONFIG_DATA, "NOTIF_CONFIG_DATA" },
		{ VIRTIO_F_RING_RESET, "RING_RESET" },
	};
	size_t n = (size_t)ksnprintf(buf, size, "%#llx", (unsigned long long)f);
	for (size_t i = 0; i < sizeof names / sizeof names[0] && n < size; i++)
		if ((f >> names[i].bit) & 1)
			n += (size_t)ksnprintf(buf + n, size - n, " %s", names[i].name);
}

static void virtio_fail(struct virtio_dev *d, const char *why, int err)
{
	d->tr->set_status(d, (uint8_t)(d->tr->get_status(d) | VIRTIO_STATUS_FAILED));
	d->failed = true;
	log_error("virtio: %s: %s (%s)", d->name, why, kiln_strerror(err));
}

/* Steps 1-6 of 3.1.1. */
static int virtio_negotiate(struct virtio_dev *d, const struct virtio_driver *drv)
{
	const struct virtio_transport *tr = d->tr;
	int rc = tr->reset(d);
	if (rc != K_OK)
		return rc;
	tr->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE);
	tr->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);

	d->dev_features = tr->get_features(d);
	if (!(d->dev_features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
		log_error("virtio: %s offers no VERSION_1: legacy devices are not supported", d->name);
		return K_ENOTSUP;
	}
	d->features = d->dev_features & (drv->features | VIRTIO_CORE_FEATURES);
	if (drv->fix_features)
		d->features = drv->fix_features(d->features);
	tr->set_features(d, d->features);
	tr->set_status(d, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			   VIRTIO_STATUS_FEATURES_OK);
	if (!(tr->get_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
		log_error("virtio: %s rejected features %#llx", d->name,
			  (unsigned long long)d->features);
		return K_ENOTSUP;
	}
	return K_OK;
}

static void virtio_bind(struct virtio_dev *d, struct virtio_driver *drv)
{
	char fs[160];
	d->driver = drv;
	int rc = virtio_negotiate(d, drv);
	if (rc != K_OK) {
		virtio_fail(d, "feature negotiation failed", rc);
		return;
	}
	virtio_features_str(d->features, fs, sizeof fs);
	log_info("virtio: %s: %s, features %s", d->name, drv->name, fs);
	rc = drv->probe(d);
	if (rc != K_OK) {
		virtio_fail(d, "probe failed", rc);
		return;
	}
	if (!d->driver_ok)
		virtio_driver_ok(d);
}

static bool virtio_match(const struct virtio_dev *d, const struct virtio_driver *drv)
{
	return d->driver == NULL && !d->failed && d->device_id == drv->device_id;
}

void virtio_register_driver(struct virtio_driver *drv)
{
	drv->next = virtio_drivers;
	virtio_drivers = drv;
	for (unsigned i = 0; i < virtio_ndevs; i++)
		if (virtio_match(virtio_devs[i], drv))
			virtio_bind(virtio_devs[i], drv);
}

int virtio_dev_add(struct virtio_dev *d)
{
	if (virtio_ndevs == VIRTIO_MAX_DEVS) {
		log_warn("virtio: more than %d devices; %s ignored", VIRTIO_MAX_DEVS, d->name);
		return K_ENOSPC;
	}
	virtio_devs[virtio_ndevs++] = d;
	for (struct virtio_driver *drv = virtio_drivers; drv; drv = drv->next) {
		if (virtio_match(d, drv)) {
			virtio_bind(d, drv);
			return d->failed ? K_EIO : K_OK;
		}
	}
	log_info("virtio: %s: device id %u, no driver linked", d->name, d->device_id);
	return K_ENODEV;
}

unsigned virtio_dev_count(void) { return virtio_ndevs; }

struct virtio_dev *virtio_dev_get(unsigned i)
{
	return i < virtio_ndevs ? virtio_devs[i] : NULL;
}

struct virtio_dev *virtio_find(uint32_t device_id)
{
	for (unsigned i = 0; i < virtio_ndevs; i++) {
		struct virtio_dev *d = virtio_devs[i];
		if (d->device_id == device_id && d->driver != NULL && !d->failed)
			return d;
	}
	return NULL;
}

int virtio_queue_setup(struct virtio_dev *d, unsigned idx, unsigned want, struct virtq **out)
{
	if (idx >= VIRTIO_MAX_QUEUES)
		return K_ENOENT;
	unsigned max = d->tr->queue_max(d, idx);
	if (max == 0)
		return K_ENOENT;
	unsigned num = want < max ? want : max;
	if (num > VIRTQ_MAX_SIZE)
		num = VIRTQ_MAX_SIZE;
	while (num & (num - 1))
		num &= num - 1;        /* round down to a power of two */
	if (num == 0)
		return K_EINVAL;

	size_t pages = (virtq_ring_size(num) + PAGE_SIZE - 1) / PAGE_SIZE;
	void *mem = page_alloc(pages);
	struct virtq *vq = kzalloc(sizeof *vq + num * sizeof(struct virtq_slot));
	if (mem == NULL || vq == NULL) {
		if (mem)
			page_free(mem, pages);
		if (vq)
			kfree(vq);
		return K_ENOMEM;
	}
	struct virtq_slot *slots = (struct virtq_slot *)(vq + 1);
	int rc = virtq_init(vq, num, idx, mem, slots, virtio_has_feature(d, VIRTIO_F_EVENT_IDX),
			    d->tr->notify, d);
	if (rc == K_OK)
		rc = d->tr->queue_enable(d, vq);
	if (rc != K_OK) {
		page_free(mem, pages);
		kfree(vq);
		return rc;
	}
	d->vqs[idx] = vq;
	*out = vq;
	log_debug("virtio: %s: queue %u, %u entries (max %u)", d->name, idx, num, max);
	return K_OK;
}

void virtio_driver_ok(struct virtio_dev *d)
{
	d->tr->set_status(d, (uint8_t)(d->tr->get_status(d) | VIRTIO_STATUS_DRIVER_OK));
	d->driver_ok = true;
}

void virtio_config_read(struct virtio_dev *d, unsigned off, void *buf, size_t len)
{
	uint8_t *p = buf;
	uint32_t gen;
	int tries = 0;
	do {
		gen = d->tr->config_generation(d);
		for (size_t i = 0; i < len;) {
			unsigned o = off + (unsigned)i;
			unsigned w = (o % 4 == 0 && len - i >= 4) ? 4 : (o % 2 == 0 && len - i >= 2) ? 2 : 1;
			uint32_t v = d->tr->config_read(d, o, w);
			memcpy(p + i, &v, w);   /* little-endian */
			i += w;
		}
	} while (gen != d->tr->config_generation(d) && ++tries < 100);
}
