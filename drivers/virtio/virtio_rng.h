/*
 * virtio_rng.h - the virtio entropy device (virtio 1.2 section 5.4).
 *
 * At probe the driver mixes a first batch of device entropy into Kiln's
 * DRBG (random_add_entropy); afterwards the device is read only on
 * request. Boot core only.
 */
#ifndef KILN_VIRTIO_RNG_H
#define KILN_VIRTIO_RNG_H

#include <stddef.h>
#include <stdint.h>

/*
 * Fills buf with len bytes from the device, polling its queue (this
 * spins; call it at boot or from a task, not on a data path). Returns
 * len; K_ENODEV without a device; K_ETIMEDOUT if the device stalls
 * (about 500 ms without an answer); K_EIO if it misbehaved.
 */
int virtio_rng_read(void *buf, size_t len);

struct virtio_rng_stats {
	uint64_t requests, bytes, timeouts;
	uint64_t bad_id, bad_len, bad_idx;   /* the queue's device-error counters */
};
/* K_ENODEV when no device is bound. */
int virtio_rng_get_stats(struct virtio_rng_stats *out);

#endif
