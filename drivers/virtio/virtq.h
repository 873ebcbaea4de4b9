/*
 * virtq.h - the split virtqueue (virtio 1.2 section 2.7), transport-free.
 *
 * A virtq is a ring of descriptors shared with a device. The driver adds
 * buffers (chains of segments: device-readable first, then
 * device-writable), publishes them with virtq_kick(), and later takes
 * them back with virtq_get_used(). Each buffer carries a caller-owned
 * token (never NULL) that comes back with it; the virtq never touches
 * the bytes of a buffer.
 *
 * Memory: the caller allocates everything (no allocation here), so the
 * same code runs in the kernel and in hosted tests:
 *   - ring memory of virtq_ring_size(num) bytes, zeroed, 4 KiB aligned,
 *     and DMA-able (Kiln is identity mapped: the address is the bus
 *     address);
 *   - a driver-private slot array of num struct virtq_slot.
 * num must be a power of two, 1..32768 (section 2.7: Queue Size).
 *
 * Ownership: a buffer belongs to the device from virtq_add() until
 * virtq_get_used() returns its token; the caller must not free or reuse
 * it in between. Buffers added but not yet kicked are invisible to the
 * device (that is what makes batching cheap: add many, kick once).
 *
 * Concurrency: a virtq belongs to one core; nothing here locks. The
 * notify callback runs inside virtq_kick() on that core.
 *
 * A misbehaving device (used id out of range or not a chain head, used
 * length larger than the writable space, used index running ahead of
 * what is outstanding) is counted in struct virtq_stats, never trusted:
 * bad entries are dropped, lengths are clamped, and a queue whose used
 * index runs away is marked broken (virtq_get_used returns NULL).
 */
#ifndef KILN_VIRTQ_H
#define KILN_VIRTQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIRTQ_MAX_SIZE 32768u

/* Descriptor flags (2.7.5). */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u
#define VIRTQ_DESC_F_INDIRECT 4u
/* avail->flags / used->flags (2.7.7, 2.7.8). */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
#define VIRTQ_USED_F_NO_NOTIFY 1u

/* On-ring layouts, little-endian (Kiln's targets are all little-endian). */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
struct virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[];   /* [num], then uint16_t used_event */
};
struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};
struct virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct virtq_used_elem ring[];   /* [num], then uint16_t avail_event */
};

/* One scatter-gather segment of a buffer. */
struct virtq_seg {
	const void *addr;
	uint32_t len;
};

/* Driver-private state per descriptor (caller-allocated array of num). */
struct virtq_slot {
	void *token;       /* set on a chain head while the device owns it */
	uint32_t in_len;   /* head only: total device-writable bytes */
	uint16_t next;     /* free list / chain link (private copy) */
	uint16_t ndesc;    /* head only: descriptors in the chain */
};

struct virtq_stats {
	uint64_t added, kicks, notifies, used;
	uint64_t bad_id;      /* used id out of range or not an outstanding head */
	uint64_t bad_len;     /* used len > writable bytes (clamped) */
	uint64_t bad_idx;     /* used idx ran ahead of what was outstanding */
};

struct virtq;
typedef void (*virtq_notify_fn)(struct virtq *vq, void *ctx);

struct virtq {
	/* shared with the device */
	volatile struct virtq_desc *desc;
	volatile struct virtq_avail *avail;
	volatile struct virtq_used *used;
	/* driver-private */
	struct virtq_slot *slot;
	uint16_t num;
	uint16_t index;            /* queue index on the device */
	uint16_t free_head;
	uint16_t num_free;
	uint16_t avail_shadow;     /* next avail idx to publish */
	uint16_t avail_kicked;     /* avail idx published at the last kick */
	uint16_t last_used;        /* next used idx to consume */
	uint16_t inflight;         /* chains owned by the device (added, not used) */
	bool event_idx;            /* VIRTIO_F_EVENT_IDX negotiated */
	bool cb_enabled;           /* used-buffer notifications wanted */
	bool broken;
	virtq_notify_fn notify;
	void *notify_ctx;
	struct virtq_stats stats;
};

/* Bytes of ring memory for num entries (desc, avail+used_event, used+avail_event). */
size_t virtq_ring_size(unsigned num);

/*
 * Lays out the rings in mem (virtq_ring_size(num) zeroed bytes, 4 KiB
 * aligned) and builds the free list. index is the device's queue number;
 * notify is called by virtq_kick() when the device must be told.
 * Returns K_OK or K_EINVAL (num not a power of two in 1..32768, misaligned mem).
 */
int virtq_init(struct virtq *vq, unsigned num, unsigned index, void *mem,
	       struct virtq_slot *slots, bool event_idx, virtq_notify_fn notify,
	       void *notify_ctx);

/* Bus addresses of the three areas, for the transport. */
uint64_t virtq_desc_addr(const struct virtq *vq);
uint64_t virtq_avail_addr(const struct virtq *vq);
uint64_t virtq_used_addr(const struct virtq *vq);

/*
 * Adds one buffer: segs[0..nout) device-readable, then segs[nout..nout+nin)
 * device-writable, as one descriptor chain. token (not NULL) comes back
 * from virtq_get_used(). The buffer is not visible to the device until
 * virtq_kick(). Returns K_OK; K_EAGAIN when too few descriptors are free
 * now; K_ENOSPC when the chain is longer than the ring (never fits);
 * K_EINVAL for no segments, a NULL token or a zero-length segment.
 */
int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned nout,
	      unsigned nin, void *token);

/*
 * Publishes every buffer added since the last kick and notifies the
 * device if it asked to be (VIRTQ_USED_F_NO_NOTIFY, or with event index
 * the avail_event rule of 2.7.10). Returns true if it notified.
 */
bool virtq_kick(struct virtq *vq);

/*
 * Takes back the next used buffer: returns its token and stores the
 * number of bytes the device wrote in *len (clamped to the writable
 * space). Returns NULL when nothing is used (or the queue is broken).
 */
void *virtq_get_used(struct virtq *vq, uint32_t *len);

/* True if the device has returned buffers that were not taken yet. */
bool virtq_has_used(const struct virtq *vq);

/*
 * Used-buffer notifications (interrupts). virtq_disable_cb() asks the
 * device not to send them; virtq_enable_cb() asks for one at the next
 * used buffer and returns false if buffers are already pending (the
 * caller should poll again rather than wait).
 */
void virtq_disable_cb(struct virtq *vq);
bool virtq_enable_cb(struct virtq *vq);

static inline unsigned virtq_num_free(const struct virtq *vq) { return vq->num_free; }
static inline bool virtq_is_broken(const struct virtq *vq) { return vq->broken; }

/* The event-index rule (2.7.10): notify if event lies in [old, new). */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

#endif
