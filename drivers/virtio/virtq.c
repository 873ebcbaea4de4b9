/*
 * virtq.c - the split virtqueue (virtio 1.2 section 2.7).
 *
 * Interface: virtq.h. virtq_init() lays out caller-provided memory;
 * virtq_add() builds a descriptor chain and queues its head in the
 * available ring without publishing it; virtq_kick() publishes every
 * queued head with one store of avail->idx and notifies the device only
 * when it asked to be; virtq_get_used() hands back tokens of used chains.
 *
 * Rules:
 *   - The driver owns the free descriptors and every driver-private slot;
 *     the device owns a chain from the kick that publishes it until its
 *     head appears in the used ring. Chains are freed by walking the
 *     private slot links, never the shared descriptor table, so a device
 *     scribbling over descriptors cannot corrupt the free list.
 *   - Everything read from the used ring is checked: the id must be the
 *     head of an outstanding chain, the length is clamped to the chain's
 *     writable bytes, and used->idx may not run ahead of the number of
 *     outstanding chains. Violations are counted in vq->stats.
 *   - One core per queue, no locks. Portable: the hosted unit tests drive
 *     it against a fake device.
 *
 * IMPLEMENTATION NOTES
 *   Layout (2.7, "Virtqueue Part Alignment"): descriptor table at 0
 *   (16-byte aligned), available ring right after it (2-byte aligned,
 *   6 + 2*num bytes including used_event), used ring at the next 64-byte
 *   boundary (4-byte alignment required; 64 keeps driver-written and
 *   device-written lines apart), 6 + 8*num bytes including avail_event.
 *   Barriers (2.7.13): descriptors and ring entries are written, then
 *   arch_wmb(), then avail->idx; a full arch_mb() separates that store
 *   from reading the device's suppression fields (avail_event, or
 *   used->flags), and the used_event store from re-reading used->idx.
 *   On the used side, arch_rmb() orders reading used->idx before the
 *   ring entries it covers. Event index (2.7.10): the device is notified
 *   when avail_event lies in [old, new) of the published index, and
 *   used_event asks for an interrupt once used->idx passes it.
 *   16-bit indices wrap freely; ring positions are idx & (num - 1).
 */
#include <stdint.h>
#include <string.h>

#include <kiln/arch.h>
#include <kiln/err.h>

#include "virtq.h"

#define VIRTQ_USED_ALIGN 64u

static size_t virtq_avail_off(unsigned num) { return (size_t)16 * num; }

static size_t virtq_used_off(unsigned num)
{
	size_t end = virtq_avail_off(num) + 6 + (size_t)2 * num;
	return (end + VIRTQ_USED_ALIGN - 1) & ~(size_t)(VIRTQ_USED_ALIGN - 1);
}

size_t virtq_ring_size(unsigned num)
{
	return virtq_used_off(num) + 6 + (size_t)8 * num;
}

static volatile uint16_t *virtq_used_event(struct virtq *vq)
{
	return &vq->avail->ring[vq->num];
}

static volatile uint16_t *virtq_avail_event(const struct virtq *vq)
{
	return (volatile uint16_t *)&vq->used->ring[vq->num];
}

int virtq_init(struct virtq *vq, unsigned num, unsigned index, void *mem,
	       struct virtq_slot *slots, bool event_idx, virtq_notify_fn notify,
	       void *notify_ctx)
{
	if (num == 0 || num > VIRTQ_MAX_SIZE || (num & (num - 1)) != 0)
		return K_EINVAL;
	if (mem == NULL || ((uintptr_t)mem & 4095) != 0 || slots == NULL || notify == NULL)
		return K_EINVAL;

	memset(vq, 0, sizeof *vq);
	vq->desc = mem;
	vq->avail = (void *)((char *)mem + virtq_avail_off(num));
	vq->used = (void *)((char *)mem + virtq_used_off(num));
	vq->slot = slots;
	vq->num = (uint16_t)num;
	vq->index = (uint16_t)index;
	vq->event_idx = event_idx;
	vq->notify = notify;
	vq->notify_ctx = notify_ctx;

	for (unsigned i = 0; i < num; i++) {
		slots[i].token = NULL;
		slots[i].in_len = 0;
		slots[i].ndesc = 0;
		slots[i].next = (uint16_t)(i + 1 < num ? i + 1 : 0);
	}
	vq->free_head = 0;
	vq->num_free = (uint16_t)num;   /* 32768 fits */
	/* Kiln polls; drivers that want interrupts call virtq_enable_cb(). */
	virtq_disable_cb(vq);
	return K_OK;
}

uint64_t virtq_desc_addr(const struct virtq *vq) { return (uintptr_t)vq->desc; }
uint64_t virtq_avail_addr(const struct virtq *vq) { return (uintptr_t)vq->avail; }
uint64_t virtq_used_addr(const struct virtq *vq) { return (uintptr_t)vq->used; }

int virtq_add(struct virtq *vq, const struct virtq_seg *segs, unsigned nout,
	      unsigned nin, void *token)
{
	unsigned n = nout + nin;
	uint64_t in_len = 0;

	if (token == NULL || n == 0 || segs == NULL)
		return K_EINVAL;
	for (unsigned k = 0; k < n; k++)
		if (segs[k].len == 0)
			return K_EINVAL;
	if (n > vq->num)
		return K_ENOSPC;
	if (vq->broken)
		return K_EIO;
	if (n > vq->num_free)
		return K_EAGAIN;

	uint16_t head = vq->free_head;
	uint16_t i = head;
	for (unsigned k = 0; k < n; k++) {
		volatile struct virtq_desc *d = &vq->desc[i];
		uint16_t flags = k >= nout ? VIRTQ_DESC_F_WRITE : 0;
		if (k + 1 < n)
			flags |= VIRTQ_DESC_F_NEXT;
		d->addr = (uintptr_t)segs[k].addr;
		d->len = segs[k].len;
		d->flags = flags;
		d->next = k + 1 < n ? vq->slot[i].next : 0;
		if (k >= nout)
			in_len += segs[k].len;
		i = vq->slot[i].next;
	}
	vq->free_head = i;
	vq->num_free = (uint16_t)(vq->num_free - n);

	struct virtq_slot *h = &vq->slot[head];
	h->token = token;
	h->ndesc = (uint16_t)n;
	h->in_len = in_len > UINT32_MAX ? UINT32_MAX : (uint32_t)in_len;

	vq->avail->ring[vq->avail_shadow & (vq->num - 1)] = head;
	vq->avail_shadow++;
	vq->inflight++;
	vq->stats.added++;
	return K_OK;
}

bool virtq_kick(struct virtq *vq)
{
	uint16_t old_idx = vq->avail_kicked;
	uint16_t new_idx = vq->avail_shadow;
	bool need;

	vq->stats.kicks++;
	if (new_idx == old_idx)
		return false;
	arch_wmb();                     /* chains and ring entries before idx */
	vq->avail->idx = new_idx;
	vq->avail_kicked = new_idx;
	arch_mb();                      /* idx store before reading suppression */
	if (vq->event_idx)
		need = virtq_need_event(*virtq_avail_event(vq), new_idx, old_idx);
	else
		need = (vq->used->flags & VIRTQ_USED_F_NO_NOTIFY) == 0;
	if (need) {
		vq->stats.notifies++;
		vq->notify(vq, vq->notify_ctx);
	}
	return need;
}

bool virtq_has_used(const struct virtq *vq)
{
	return !vq->broken && vq->used->idx != vq->last_used;
}

/* Returns the chain at head to the free list. */
static void virtq_free_chain(struct virtq *vq, uint16_t head)
{
	struct virtq_slot *h = &vq->slot[head];
	uint16_t tail = head;
	for (unsigned k = 1; k < h->ndesc; k++)
		tail = vq->slot[tail].next;
	vq->slot[tail].next = vq->free_head;
	vq->free_head = head;
	vq->num_free = (uint16_t)(vq->num_free + h->ndesc);
	h->token = NULL;
	h->ndesc = 0;
	vq->inflight--;
}

void *virtq_get_used(struct virtq *vq, uint32_t *len)
{
	while (!vq->broken) {
		uint16_t used_idx = vq->used->idx;
		uint16_t pending = (uint16_t)(used_idx - vq->last_used);
		if (pending == 0)
			return NULL;
		if (pending > vq->inflight) {
			/* The device claims more than it was given: stop trusting it. */
			vq->stats.bad_idx++;
			vq->broken = true;
			return NULL;
		}
		arch_rmb();             /* idx before the entries it covers */
		volatile struct virtq_used_elem *e = &vq->used->ring[vq->last_used & (vq->num - 1)];
		uint32_t id = e->id;
		uint32_t ulen = e->len;
		vq->last_used++;
		if (vq->event_idx && vq->cb_enabled) {
			*virtq_used_event(vq) = vq->last_used;
			arch_mb();
		}
		if (id >= vq->num || vq->slot[id].token == NULL) {
			vq->stats.bad_id++;
			continue;
		}
		struct virtq_slot *h = &vq->slot[id];
		void *token = h->token;
		if (ulen > h->in_len) {
			vq->stats.bad_len++;
			ulen = h->in_len;
		}
		virtq_free_chain(vq, (uint16_t)id);
		vq->stats.used++;
		if (len != NULL)
			*len = ulen;
		return token;
	}
	return NULL;
}

void virtq_disable_cb(struct virtq *vq)
{
	vq->cb_enabled = false;
	vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	/* With event index the flag is ignored: put used_event as far
	 * behind as it can be, so the device passes it only after 65535
	 * more used buffers. */
	if (vq->event_idx)
		*virtq_used_event(vq) = (uint16_t)(vq->last_used - 1);
}

bool virtq_enable_cb(struct virtq *vq)
{
	vq->cb_enabled = true;
	if (vq->event_idx)
		*virtq_used_event(vq) = vq->last_used;
	else
		vq->avail->flags = 0;
	arch_mb();                      /* publish before re-checking used->idx */
	return vq->used->idx == vq->last_used;
}
