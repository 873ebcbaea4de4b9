/*
 * virtio_rng.c - the virtio entropy device (virtio 1.2 section 5.4).
 *
 * Interface: drivers/virtio/virtio_rng.h. The driver registers for
 * device id 4 at INIT_EARLY (so it is known before any transport scans;
 * the registry matches either order anyway). Its probe sets up the one
 * queue (requestq, 5.4.2), sets DRIVER_OK, asks the device for 64 bytes
 * and mixes them into the DRBG with random_add_entropy().
 *
 * Rules:
 *   - One device is driven; more are refused (FAILED) with a log line.
 *   - Requests go through one driver-owned bounce page. The device owns
 *     it from the kick until its used entry comes back; a request that
 *     timed out stays outstanding and the next read waits for it first,
 *     so a late device never writes into a caller's (possibly gone)
 *     buffer.
 *   - The device writes at most the buffer's length (5.4.6.1); the used
 *     length is still clamped by the virtq and a zero length is retried.
 *   - Polled with a deadline on time_now_ns(); boot core only.
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/err.h>
#include <kiln/init.h>
#include <kiln/log.h>
#include <kiln/mem.h>
#include <kiln/random.h>
#include <kiln/time.h>

#include "virtio.h"
#include "virtio_rng.h"

#define VRNG_QUEUE_SIZE 8
#define VRNG_BOOT_BYTES 64
#define VRNG_TIMEOUT_NS (500 * NS_PER_MS)

static struct {
	struct virtio_dev *dev;
	struct virtq *vq;
	uint8_t *page;          /* bounce buffer, PAGE_SIZE bytes */
	bool pending;           /* the device owns page */
	uint64_t requests, bytes, timeouts;
} vrng;

/* Waits for the outstanding request; returns the bytes it produced. */
static int vrng_wait(uint64_t deadline)
{
	for (;;) {
		uint32_t len;
		void *tok = virtq_get_used(vrng.vq, &len);
		if (tok == vrng.page) {
			vrng.pending = false;
			vrng.bytes += len;
			return (int)len;
		}
		if (virtq_is_broken(vrng.vq))
			return K_EIO;
		if (time_now_ns() > deadline) {
			vrng.timeouts++;
			return K_ETIMEDOUT;
		}
		arch_relax();
	}
}

/* Gets up to want bytes into the bounce page; returns how many. */
static int vrng_request(size_t want, uint64_t deadline)
{
	if (!vrng.pending) {
		struct virtq_seg seg = { vrng.page, (uint32_t)(want < PAGE_SIZE ? want : PAGE_SIZE) };
		int rc = virtq_add(vrng.vq, &seg, 0, 1, vrng.page);
		if (rc != K_OK)
			return rc;
		vrng.pending = true;
		vrng.requests++;
		virtq_kick(vrng.vq);
	}
	return vrng_wait(deadline);
}

int virtio_rng_read(void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;
	if (vrng.dev == NULL)
		return K_ENODEV;
	if (len > INT32_MAX)
		return K_EINVAL;
	uint64_t deadline = time_now_ns() + VRNG_TIMEOUT_NS;
	while (done < len) {
		int n = vrng_request(len - done, deadline);
		if (n < 0)
			return n;
		size_t k = (size_t)n < len - done ? (size_t)n : len - done;
		memcpy(out + done, vrng.page, k);
		done += k;
		if (n > 0)
			deadline = time_now_ns() + VRNG_TIMEOUT_NS;   /* progress */
	}
	return (int)len;
}

int virtio_rng_get_stats(struct virtio_rng_stats *out)
{
	if (vrng.dev == NULL)
		return K_ENODEV;
	out->requests = vrng.requests;
	out->bytes = vrng.bytes;
	out->timeouts = vrng.timeouts;
	out->bad_id = vrng.vq->stats.bad_id;
	out->bad_len = vrng.vq->stats.bad_len;
	out->bad_idx = vrng.vq->stats.bad_idx;
	return K_OK;
}

static int vrng_probe(struct virtio_dev *d)
{
	if (vrng.dev != NULL) {
		log_warn("virtio-rng: %s ignored: %s is already the entropy device", d->name,
			 vrng.dev->name);
		return K_EBUSY;
	}
	struct virtq *vq;
	int rc = virtio_queue_setup(d, 0, VRNG_QUEUE_SIZE, &vq);
	if (rc != K_OK)
		return rc;
	vrng.page = page_alloc(1);
	if (vrng.page == NULL)
		return K_ENOMEM;
	vrng.vq = vq;
	vrng.dev = d;
	d->drv_priv = &vrng;
	virtio_driver_ok(d);

	uint8_t seed[VRNG_BOOT_BYTES];
	uint64_t t0 = time_now_ns();
	rc = virtio_rng_read(seed, sizeof seed);
	if (rc < 0) {
		log_warn("virtio-rng: %s: no entropy at boot (%s)", d->name, kiln_strerror(rc));
		return K_OK;            /* the device stays usable; it may answer later */
	}
	random_add_entropy(seed, sizeof seed);
	memset(seed, 0, sizeof seed);
	log_info("virtio-rng: %s: %d bytes mixed into the random pool in %llu us", d->name,
		 rc, (unsigned long long)((time_now_ns() - t0) / NS_PER_US));
	return K_OK;
}

static struct virtio_driver vrng_driver = {
	.name = "virtio-rng",
	.device_id = VIRTIO_ID_RNG,
	.features = VIRTIO_BIT(VIRTIO_F_EVENT_IDX),
	.probe = vrng_probe,
};

static void virtio_rng_init(void)
{
	virtio_register_driver(&vrng_driver);
}
INIT_EARLY(virtio_rng_init);
