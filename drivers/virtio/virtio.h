/*
 * virtio.h - the virtio device API drivers program against (virtio 1.2).
 *
 * A transport (virtio_pci.c, virtio_mmio.c) finds devices and hands each
 * to virtio_dev_add() with a struct virtio_transport of its own. The core
 * (virtio.c) resets the device, matches it with a registered driver by
 * device id, negotiates features (VIRTIO_F_VERSION_1 required) and calls
 * the driver's probe. Drivers never see which transport they are on.
 *
 * Driver life cycle (section 3.1.1):
 *   virtio core: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK (checked)
 *   probe():     read config, virtio_queue_setup() each queue,
 *                virtio_driver_ok(), then post buffers and kick
 *   on failure:  probe returns an error; the core sets FAILED.
 * Drivers and devices may be registered/added in any order: each side
 * is matched against the other when it arrives.
 *
 * Everything runs at boot on the boot core; queues then belong to
 * whichever core the driver gives them to.
 */
#ifndef KILN_VIRTIO_H
#define KILN_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/err.h>

#include "virtq.h"

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* Reserved feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_ORDER_PLATFORM 36
#define VIRTIO_F_SR_IOV 37
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_F_NOTIF_CONFIG_DATA 39
#define VIRTIO_F_RING_RESET 40
#define VIRTIO_BIT(b) (1ull << (b))

/* Device ids (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4

#define VIRTIO_MAX_DEVS 16
#define VIRTIO_MAX_QUEUES 16

struct virtio_dev;

/* What a transport implements (4.1 PCI, 4.2 MMIO). */
struct virtio_transport {
	const char *name;                                   /* "pci", "mmio" */
	uint8_t (*get_status)(struct virtio_dev *d);
	void (*set_status)(struct virtio_dev *d, uint8_t status);
	/* Writes 0 and waits for the device to read back 0. */
	int (*reset)(struct virtio_dev *d);
	uint64_t (*get_features)(struct virtio_dev *d);
	void (*set_features)(struct virtio_dev *d, uint64_t features);
	uint32_t (*config_generation)(struct virtio_dev *d);
	/* Device-specific configuration, one naturally aligned field. */
	uint32_t (*config_read)(struct virtio_dev *d, unsigned off, unsigned width);
	void (*config_write)(struct virtio_dev *d, unsigned off, unsigned width, uint32_t v);
	/* Largest size of queue idx; 0 if the queue does not exist. */
	unsigned (*queue_max)(struct virtio_dev *d, unsigned idx);
	/* Gives the rings of vq (num entries) to the device and enables it. */
	int (*queue_enable)(struct virtio_dev *d, struct virtq *vq);
	/* Available-buffer notification for vq (the virtq notify callback). */
	void (*notify)(struct virtq *vq, void *ctx);
	/* Optional (NULL: the device is polled). Delivers used-buffer
	 * notifications of queue idx as an interrupt on the current CPU that
	 * calls fn(arg) in interrupt context (fn must be tiny) and wakes the
	 * loop; queues given the same fn and arg share one interrupt. Call
	 * after the queue is set up. K_OK; K_ENOTSUP when there is no
	 * interrupt path; K_ENOSPC out of vectors; K_EIO refused. */
	int (*queue_irq)(struct virtio_dev *d, unsigned idx, irq_fn fn, void *arg);
};

struct virtio_driver;

struct virtio_dev {
	const struct virtio_transport *tr;
	void *tr_priv;                    /* the transport's state */
	char name[32];                    /* "virtio-pci 00:03.0", "virtio-mmio@0xfeb02e00" */
	uint32_t device_id;
	uint64_t dev_features;            /* offered by the device */
	uint64_t features;                /* negotiated */
	const struct virtio_driver *driver;
	void *drv_priv;                   /* the driver's state */
	struct virtq *vqs[VIRTIO_MAX_QUEUES];
	bool driver_ok, failed;
};

struct virtio_driver {
	const char *name;
	uint32_t device_id;
	/* Features the driver can use; VERSION_1 is always asked for. */
	uint64_t features;
	/* Optional: given the features both sides have, returns them less
	 * any whose prerequisites are missing (5.1.3.1 for virtio-net). */
	uint64_t (*fix_features)(uint64_t features);
	/* Called after FEATURES_OK; sets up queues and calls
	 * virtio_driver_ok(). Returns K_OK or an error (device FAILED). */
	int (*probe)(struct virtio_dev *d);
	struct virtio_driver *next;       /* registry link (core-owned) */
};

/* Registers drv (static lifetime) and probes matching devices already found. */
void virtio_register_driver(struct virtio_driver *drv);
/* Called by transports for each device found; d has static lifetime.
 * Returns K_OK if a driver took it, K_ENODEV if none did (yet). */
int virtio_dev_add(struct virtio_dev *d);

/* Devices known to the core (bound or not). */
unsigned virtio_dev_count(void);
struct virtio_dev *virtio_dev_get(unsigned i);
/* First device with device_id bound to a driver; NULL if none. */
struct virtio_dev *virtio_find(uint32_t device_id);

static inline bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return (d->features >> bit) & 1;
}

/*
 * Allocates and enables queue idx with up to want entries (rounded down
 * to a power of two and to the device's maximum). Ring memory comes from
 * page_alloc; the queue uses event index if it was negotiated. Returns
 * K_OK and the queue in *out; K_ENOENT if the device has no such queue;
 * K_ENOMEM; K_EIO if the transport refused it.
 */
int virtio_queue_setup(struct virtio_dev *d, unsigned idx, unsigned want, struct virtq **out);
/* Routes queue idx's used-buffer notifications to fn(arg) (see
 * virtio_transport.queue_irq); K_ENOTSUP on a transport without them. */
static inline int virtio_queue_irq(struct virtio_dev *d, unsigned idx, irq_fn fn, void *arg)
{
	return d->tr->queue_irq ? d->tr->queue_irq(d, idx, fn, arg) : K_ENOTSUP;
}
/* Sets DRIVER_OK: from now on buffers may be kicked (3.1.1 step 8). */
void virtio_driver_ok(struct virtio_dev *d);

/* Reads len bytes of device config at off, retrying until the config
 * generation is stable (2.5.1). off and len must be multiples of the
 * widest field read (1, 2 or 4 bytes are used as alignment allows). */
void virtio_config_read(struct virtio_dev *d, unsigned off, void *buf, size_t len);

/* Formats the names of the feature bits in f for logs. */
void virtio_features_str(uint64_t f, char *buf, size_t size);

#endif
