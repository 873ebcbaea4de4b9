/*
 * test_virtio.c - in-guest tests of the virtio transports and virtio-rng
 * (drivers/virtio/, drivers/pci/).
 *
 * Test images are booted with a virtio-rng device on both machines:
 * virtio-rng-device on microvm's virtio-mmio (version 2), and
 * virtio-rng-pci,disable-legacy=on on q35. The tests check that the
 * right transport found it, that the handshake ended in DRIVER_OK with
 * VERSION_1 negotiated, and that reads through the real device return
 * fresh bytes without the queue counting any device misbehaviour.
 */
#include <string.h>

#include <kiln/arch.h>
#include <kiln/kiln.h>

#include "drivers/pci/pci.h"
#include "drivers/virtio/virtio.h"
#include "drivers/virtio/virtio_rng.h"
#include "selftest.h"

static bool all_same(const uint8_t *p, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (p[i] != p[0])
			return false;
	return true;
}

SELFTEST(virtio_rng_present)
{
	struct virtio_dev *d = virtio_find(VIRTIO_ID_RNG);
	ST_REQUIRE(d != NULL);
	char fs[160];
	virtio_features_str(d->features, fs, sizeof fs);
	kprintf("# %s: device features %#llx, negotiated %s\n", d->name,
		(unsigned long long)d->dev_features, fs);
	ST_CHECK(d->driver != NULL && strcmp(d->driver->name, "virtio-rng") == 0);
	ST_CHECK(virtio_has_feature(d, VIRTIO_F_VERSION_1));
	ST_CHECK(d->driver_ok && !d->failed);
	/* No feature is accepted that the device did not offer. */
	ST_CHECK((d->features & ~d->dev_features) == 0);
	uint8_t st = d->tr->get_status(d);
	ST_CHECK(st == (VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER |
			VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK));
	/* q35 has PCI and virtio-pci; microvm has neither. */
	ST_CHECK(strcmp(d->tr->name, arch_pci_present() ? "pci" : "mmio") == 0);
	ST_CHECK(d->vqs[0] != NULL);
}

SELFTEST(virtio_pci_scan)
{
	if (!arch_pci_present()) {
		ST_CHECK(pci_count() == 0);
		return;
	}
	ST_REQUIRE(pci_count() > 0);
	/* q35's host bridge is 00:00.0 (Intel 8086:29c0). */
	struct pci_dev *host = pci_get(0);
	ST_CHECK(host->bus == 0 && host->dev == 0 && host->fn == 0);
	ST_CHECK(host->vendor == 0x8086);
	/* The rng: modern virtio device 0x1044 (or transitional 0x1005) with
	 * a vendor capability and a memory BAR. */
	struct pci_dev *rng = pci_find(0x1af4, 0x1044, NULL);
	if (rng == NULL)
		rng = pci_find(0x1af4, 0x1005, NULL);
	ST_REQUIRE(rng != NULL);
	ST_CHECK(pci_cap_find(rng, PCI_CAP_ID_VNDR, 0) >= 0x40);
	bool membar = false;
	for (int i = 0; i < 6; i++)
		if (!rng->bar[i].io && rng->bar[i].addr != 0)
			membar = true;
	ST_CHECK(membar);
	ST_CHECK(pci_read16(rng, PCI_COMMAND) & PCI_COMMAND_MASTER);
}

SELFTEST(virtio_rng_read)
{
	uint8_t a[64], b[64];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	ST_REQUIRE(virtio_rng_read(a, sizeof a) == (int)sizeof a);
	ST_REQUIRE(virtio_rng_read(b, sizeof b) == (int)sizeof b);
	ST_CHECK(!all_same(a, sizeof a));
	ST_CHECK(!all_same(b, sizeof b));
	ST_CHECK(memcmp(a, b, sizeof a) != 0);

	/* Larger than one request and an odd size. */
	static uint8_t big[5000];
	ST_CHECK(virtio_rng_read(big, sizeof big) == (int)sizeof big);
	ST_CHECK(!all_same(big + 4000, 1000));
	ST_CHECK(virtio_rng_read(big, 1) == 1);

	struct virtio_rng_stats st;
	ST_REQUIRE(virtio_rng_get_stats(&st) == K_OK);
	kprintf("# virtio-rng: %llu requests, %llu bytes, %llu timeouts\n",
		(unsigned long long)st.requests, (unsigned long long)st.bytes,
		(unsigned long long)st.timeouts);
	ST_CHECK(st.timeouts == 0);
	ST_CHECK(st.bad_id == 0 && st.bad_len == 0 && st.bad_idx == 0);
	ST_CHECK(st.bytes >= 64 + 64 + 5000 + 1);
}

SELFTEST(virtio_queue_batch)
{
	/* Several requests in one kick, straight on the rng's queue: the
	 * device must return each token once, with a sane length. */
	struct virtio_dev *d = virtio_find(VIRTIO_ID_RNG);
	ST_REQUIRE(d != NULL && d->vqs[0] != NULL);
	struct virtq *vq = d->vqs[0];
	uint8_t *page = page_alloc(1);
	ST_REQUIRE(page != NULL);
	unsigned n = virtq_num_free(vq) < 4 ? virtq_num_free(vq) : 4;
	ST_REQUIRE(n >= 2);
	uint64_t notifies = vq->stats.notifies;
	for (unsigned i = 0; i < n; i++) {
		struct virtq_seg seg = { page + i * 256, 256 };
		ST_REQUIRE(virtq_add(vq, &seg, 0, 1, page + i * 256) == K_OK);
	}
	virtq_kick(vq);
	ST_CHECK(vq->stats.notifies <= notifies + 1);
	unsigned seen = 0, mask = 0;
	uint64_t give_up = time_now_ns() + NS_PER_SEC;
	while (seen < n && time_now_ns() < give_up) {
		uint32_t len;
		uint8_t *tok = virtq_get_used(vq, &len);
		if (tok == NULL) {
			arch_relax();
			continue;
		}
		unsigned i = (unsigned)(tok - page) / 256;
		ST_CHECK(i < n && !(mask & (1u << i)));
		ST_CHECK(len > 0 && len <= 256);
		mask |= 1u << i;
		seen++;
	}
	ST_CHECK(seen == n);
	ST_CHECK(virtq_num_free(vq) == vq->num);
	ST_CHECK(vq->stats.bad_id == 0 && vq->stats.bad_len == 0);
	page_free(page, 1);
}
