/*
 * nbuf.c - packet buffers: per-core pools, chains, push/pull.
 *
 * Interface: nbuf.h; the design and its reasons are in docs/networking.md.
 *
 * Rules: a pool belongs to one core and is used only there, so nothing
 * here locks. Allocation never falls back to a general allocator: an
 * empty pool returns NULL and counts it, and the caller drops the packet.
 * Freeing a buffer that is already free, or a chain that mixes a free
 * buffer in, is a broken invariant and panics (it would corrupt the free
 * list); hostile input cannot cause it because no parser frees twice.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/panic.h>

#include "nbuf.h"

#define NBUF_ALIGN 64

static size_t round_up(size_t v, size_t a) { return (v + a - 1) & ~(a - 1); }

size_t nbuf_pool_stride(uint32_t data_size)
{
	return round_up(sizeof(struct nbuf), NBUF_ALIGN) + round_up(data_size, NBUF_ALIGN);
}

int nbuf_pool_init(struct nbuf_pool *pool, void *mem, size_t mem_size,
		   uint32_t data_size, const char *name)
{
	size_t stride = nbuf_pool_stride(data_size);
	size_t hdr = round_up(sizeof(struct nbuf), NBUF_ALIGN);
	uint8_t *p = mem;

	memset(pool, 0, sizeof *pool);
	pool->data_size = data_size;
	pool->name = name;
	if (!mem || mem_size < stride)
		return K_EINVAL;
	uint32_t n = (uint32_t)(mem_size / stride);
	/* Push in reverse so the first allocations come from low addresses. */
	for (uint32_t i = n; i-- > 0;) {
		struct nbuf *nb = (struct nbuf *)(p + (size_t)i * stride);
		memset(nb, 0, sizeof *nb);
		nb->pool = pool;
		nb->base = data_size ? (uint8_t *)nb + hdr : NULL;
		nb->size = data_size;
		nb->flags = NBUF_F_FREE;
		nb->link = pool->free_list;
		pool->free_list = nb;
	}
	pool->count = pool->nfree = n;
	pool->stats.low_water = n;
	return (int)n;
}

void nbuf_pool_reserve(struct nbuf_pool *pool, uint32_t rx, uint32_t ctrl)
{
	pool->reserve_rx = rx;
	pool->reserve_ctrl = ctrl;
}

static struct nbuf *pool_get(struct nbuf_pool *pool, enum nbuf_prio prio)
{
	struct nbuf *nb = pool->free_list;
	if (!nb) {
		pool->stats.empty++;
		return NULL;
	}
	uint32_t keep = prio == NBUF_PRIO_RX ? 0 :
		prio == NBUF_PRIO_CTRL ? pool->reserve_rx : pool->reserve_rx + pool->reserve_ctrl;
	if (pool->nfree <= keep) {
		pool->stats.reserved++;
		return NULL;
	}
	KASSERT(nb->flags & NBUF_F_FREE);
	pool->free_list = nb->link;
	pool->nfree--;
	if (pool->nfree < pool->stats.low_water)
		pool->stats.low_water = pool->nfree;
	pool->stats.allocs++;
	nb->next = nb->link = NULL;
	nb->flags = 0;
	nb->csum_start = nb->csum_offset = nb->gso_size = 0;
	nb->done = NULL;
	nb->done_arg = NULL;
	return nb;
}

struct nbuf *nbuf_alloc_prio(struct nbuf_pool *pool, enum nbuf_prio prio)
{
	KASSERT(pool->data_size > 0);
	struct nbuf *nb = pool_get(pool, prio);
	if (!nb)
		return NULL;
	size_t head = NBUF_HEADROOM < nb->size ? NBUF_HEADROOM : nb->size;
	nb->data = nb->base + head;
	nb->len = nb->pkt_len = 0;
	return nb;
}

struct nbuf *nbuf_alloc(struct nbuf_pool *pool)
{
	return nbuf_alloc_prio(pool, NBUF_PRIO_DATA);
}

struct nbuf *nbuf_borrow(struct nbuf_pool *refs, const void *p, size_t len,
			 nbuf_done_fn done, void *arg)
{
	KASSERT(refs->data_size == 0);
	if (len > UINT32_MAX)
		return NULL;
	struct nbuf *nb = pool_get(refs, NBUF_PRIO_RX);
	if (!nb)
		return NULL;
	/* The one place const is dropped: NBUF_F_BORROWED forbids writes. */
	nb->base = nb->data = (uint8_t *)(uintptr_t)p;
	nb->size = nb->len = nb->pkt_len = (uint32_t)len;
	nb->flags = NBUF_F_BORROWED;
	nb->done = done;
	nb->done_arg = arg;
	return nb;
}

void nbuf_free(struct nbuf *nb)
{
	while (nb) {
		struct nbuf *next = nb->next;
		struct nbuf_pool *pool = nb->pool;
		if (nb->flags & NBUF_F_FREE)
			panic("nbuf_free: %p already free (pool %s)", (void *)nb, pool->name);
		if (nb->done) {
			nbuf_done_fn done = nb->done;
			nb->done = NULL;
			done(nb->done_arg);
		}
		if (nb->flags & NBUF_F_BORROWED)
			nb->base = nb->data = NULL;
		nb->flags = NBUF_F_FREE;
		nb->next = NULL;
		nb->link = pool->free_list;
		pool->free_list = nb;
		pool->nfree++;
		pool->stats.frees++;
		nb = next;
	}
}

void nbuf_free_queue(struct nbuf *q)
{
	while (q) {
		struct nbuf *next = q->link;
		q->link = NULL;
		nbuf_free(q);
		q = next;
	}
}

unsigned nbuf_segments(const struct nbuf *nb)
{
	unsigned n = 0;
	for (; nb; nb = nb->next)
		n++;
	return n;
}

size_t nbuf_truesize(const struct nbuf *nb)
{
	size_t n = 0;
	for (; nb; nb = nb->next)
		n += nbuf_pool_stride(nb->pool->data_size);
	return n;
}

uint8_t *nbuf_push(struct nbuf *nb, size_t n)
{
	if ((nb->flags & NBUF_F_BORROWED) || nbuf_headroom(nb) < n)
		return NULL;
	nb->data -= n;
	nb->len += (uint32_t)n;
	nb->pkt_len += (uint32_t)n;
	return nb->data;
}

uint8_t *nbuf_pull(struct nbuf *nb, size_t n)
{
	if (nb->len < n)
		return NULL;
	nb->data += n;
	nb->len -= (uint32_t)n;
	nb->pkt_len -= (uint32_t)n;
	return nb->data;
}

uint8_t *nbuf_put(struct nbuf *nb, size_t n)
{
	if ((nb->flags & NBUF_F_BORROWED) || nb->next || nbuf_tailroom(nb) < n)
		return NULL;
	uint8_t *p = nb->data + nb->len;
	nb->len += (uint32_t)n;
	nb->pkt_len += (uint32_t)n;
	return p;
}

void nbuf_trim(struct nbuf *nb, size_t pkt_len)
{
	if (nb->pkt_len <= pkt_len)
		return;
	nb->pkt_len = (uint32_t)pkt_len;
	size_t left = pkt_len;
	for (struct nbuf *s = nb; s; s = s->next) {
		if (s->len >= left) {
			s->len = (uint32_t)left;
			nbuf_free(s->next);
			s->next = NULL;
			return;
		}
		left -= s->len;
	}
}

void nbuf_append(struct nbuf *head, struct nbuf *seg)
{
	struct nbuf *t = head;
	while (t->next)
		t = t->next;
	t->next = seg;
	head->pkt_len += seg->pkt_len;
	seg->link = NULL;
}

int nbuf_copy_out(const struct nbuf *nb, size_t off, void *dst, size_t n)
{
	uint8_t *d = dst;
	if (off > nb->pkt_len || n > nb->pkt_len - off)
		return K_EINVAL;
	for (; nb && n; nb = nb->next) {
		if (off >= nb->len) {
			off -= nb->len;
			continue;
		}
		size_t k = nb->len - off;
		if (k > n)
			k = n;
		memcpy(d, nb->data + off, k);
		d += k;
		n -= k;
		off = 0;
	}
	return K_OK;
}

int nbuf_append_copy(struct nbuf *head, struct nbuf_pool *pool, const void *src, size_t n)
{
	const uint8_t *s = src;
	struct nbuf *t = head;
	while (t->next)
		t = t->next;
	KASSERT(!(t->flags & NBUF_F_BORROWED));
	while (n) {
		size_t k = nbuf_tailroom(t);
		if (k == 0) {
			struct nbuf *seg = pool ? nbuf_alloc(pool) : NULL;
			if (!seg)
				return K_ENOMEM;
			seg->data = seg->base;          /* later segments need no headroom */
			t->next = seg;
			t = seg;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(t->data + t->len, s, k);
		t->len += (uint32_t)k;
		head->pkt_len += (uint32_t)k;
		s += k;
		n -= k;
	}
	return K_OK;
}

int nbuf_linearize(struct nbuf *nb, size_t n)
{
	if (n > nb->pkt_len)
		return K_EINVAL;
	if (nb->len >= n)
		return K_OK;
	if ((nb->flags & NBUF_F_BORROWED) || nbuf_tailroom(nb) < n - nb->len)
		return K_ENOSPC;
	while (nb->len < n) {
		struct nbuf *s = nb->next;
		size_t k = n - nb->len;
		if (k > s->len)
			k = s->len;
		memcpy(nb->data + nb->len, s->data, k);
		nb->len += (uint32_t)k;
		s->data += k;
		s->len -= (uint32_t)k;
		if (s->len == 0) {
			nb->next = s->next;
			s->next = NULL;
			nbuf_free(s);
		}
	}
	return K_OK;
}

/* Every header Kiln pushes fits the headroom (see NBUF_HEADROOM). */
_Static_assert(NBUF_HEADROOM >= NBUF_VNET_HDR_LEN + 14 + 40 + 60, "headroom");
_Static_assert(NBUF_DATA_SIZE >= NBUF_HEADROOM + 1514, "data size");
