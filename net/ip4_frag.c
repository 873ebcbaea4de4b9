/*
 * ip4_frag.c - IPv4 fragment reassembly (RFC 791 3.2, RFC 815) and
 * fragmentation on output.
 *
 * Interface: ip4_frag_input(), ip4_frag_output(), ip4_frag_tick(),
 * ip4_frag_next_deadline(), ip4_frag_flush() in net_priv.h.
 *
 * Rules:
 *  - A datagram is keyed by (source, destination, ID, protocol). Its
 *    fragments wait, zero-copy, in their receive buffers: a list sorted
 *    by offset through nbuf.link, each with data at its own IPv4 header
 *    (the offset and length are read back from it). On completion the
 *    first fragment's header is rewritten as an unfragmented one and the
 *    other fragments' payloads are chained behind it, still not copied.
 *  - Hostile fragments cannot pin memory or confuse the payload:
 *      . at most IP4_REASM_MAX_DGRAMS datagrams and IP4_REASM_MAX_NBUFS
 *        buffers are held; the oldest datagram is evicted to make room;
 *      . IP4_REASM_TIMEOUT_NS after its first fragment a datagram is
 *        dropped, with ICMP time exceeded if fragment 0 had arrived
 *        (RFC 792);
 *      . any overlap drops the whole datagram (the RFC 5722 rule, taken
 *        over from IPv6: overlaps only serve evasion); an exact duplicate
 *        (same offset, length, MF) is dropped alone, as links duplicate;
 *      . fragments that are empty, not a multiple of 8 bytes while MF is
 *        set, beyond a known end, or that would make the datagram exceed
 *        65535 bytes are dropped (with the datagram when inconsistent).
 *  - The reassembly table owns the fragments it holds.
 *  - Output fragmentation copies (a slow path): each fragment is a fresh
 *    buffer with a copy of the header, no options (Kiln sends none).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "checksum.h"
#include "net_priv.h"

static size_t frag_hlen(const struct nbuf *f) { return (size_t)(f->data[0] & 15) * 4; }
static uint32_t frag_off(const struct nbuf *f)
{
	const struct ip4_hdr *h = (const void *)f->data;
	return (uint32_t)(net_get16(h->frag) & IP4_OFF_MASK) * 8;
}
static uint32_t frag_len(const struct nbuf *f) { return (uint32_t)(nbuf_pkt_len(f) - frag_hlen(f)); }
static bool frag_mf(const struct nbuf *f)
{
	const struct ip4_hdr *h = (const void *)f->data;
	return (net_get16(h->frag) & IP4_FLAG_MF) != 0;
}

static void dgram_drop(struct net_if *nif, struct ip4_reasm_dgram *d)
{
	nif->reasm.nbufs -= d->nbufs;
	nbuf_free_queue(d->frags);
	memset(d, 0, sizeof *d);
}

/* The oldest datagram other than keep, or NULL. */
static struct ip4_reasm_dgram *dgram_oldest(struct net_if *nif, const struct ip4_reasm_dgram *keep)
{
	struct ip4_reasm_dgram *old = NULL;
	for (unsigned i = 0; i < IP4_REASM_MAX_DGRAMS; i++) {
		struct ip4_reasm_dgram *d = &nif->reasm.d[i];
		if (d->used && d != keep && (!old || d->deadline < old->deadline))
			old = d;
	}
	return old;
}

static struct ip4_reasm_dgram *dgram_get(struct net_if *nif, const struct ip4_hdr *h, uint64_t now)
{
	uint32_t src = net_get32(h->src), dst = net_get32(h->dst);
	uint16_t id = net_get16(h->id);
	struct ip4_reasm_dgram *free_slot = NULL;

	for (unsigned i = 0; i < IP4_REASM_MAX_DGRAMS; i++) {
		struct ip4_reasm_dgram *d = &nif->reasm.d[i];
		if (!d->used) {
			if (!free_slot)
				free_slot = d;
			continue;
		}
		if (d->src == src && d->dst == dst && d->id == id && d->proto == h->proto)
			return d;
	}
	if (!free_slot) {
		free_slot = dgram_oldest(nif, NULL);
		NET_STAT(nif, frag_evicted);
		dgram_drop(nif, free_slot);
	}
	free_slot->used = true;
	free_slot->src = src;
	free_slot->dst = dst;
	free_slot->id = id;
	free_slot->proto = h->proto;
	free_slot->deadline = now + IP4_REASM_TIMEOUT_NS;
	return free_slot;
}

/* Chains the complete datagram behind its first fragment. */
static struct nbuf *dgram_assemble(struct net_if *nif, struct ip4_reasm_dgram *d)
{
	struct nbuf *head = d->frags, *f = head->link;
	size_t hlen = frag_hlen(head);

	if (hlen + d->total > IP4_MAX_LEN) {
		NET_STAT(nif, frag_bad);
		dgram_drop(nif, d);
		return NULL;
	}
	nif->reasm.nbufs -= d->nbufs;
	memset(d, 0, sizeof *d);
	head->link = NULL;
	while (f) {
		struct nbuf *next = f->link;
		f->link = NULL;
		nbuf_pull(f, frag_hlen(f));
		nbuf_append(head, f);
		f = next;
	}
	struct ip4_hdr *h = (void *)head->data;
	net_put16(h->total_len, (uint16_t)nbuf_pkt_len(head));
	net_put16(h->frag, 0);
	net_put16(h->csum, 0);
	checksum_store(h->csum, checksum(h, hlen));
	head->flags &= (uint16_t)~NBUF_F_CSUM_VALID;
	NET_STAT(nif, frag_reassembled);
	return head;
}

struct nbuf *ip4_frag_input(struct net_if *nif, struct nbuf *nb, uint64_t now)
{
	const struct ip4_hdr *h = (const void *)nb->data;
	uint32_t off = frag_off(nb), len = frag_len(nb);
	bool mf = frag_mf(nb);

	NET_STAT(nif, frag_in);
	if (len == 0 || (mf && (len & 7)) || off + len > IP4_MAX_LEN - IP4_HDR_LEN) {
		NET_STAT(nif, frag_bad);
		nbuf_free(nb);
		return NULL;
	}
	struct ip4_reasm_dgram *d = dgram_get(nif, h, now);

	/* Find the neighbours: prev starts before off, cur at or after it. */
	struct nbuf **pp = &d->frags, *prev = NULL;
	while (*pp && frag_off(*pp) < off) {
		prev = *pp;
		pp = &(*pp)->link;
	}
	struct nbuf *cur = *pp;
	if (cur && frag_off(cur) == off && frag_len(cur) == len && frag_mf(cur) == mf) {
		NET_STAT(nif, frag_dup);
		nbuf_free(nb);
		return NULL;
	}
	if ((prev && frag_off(prev) + frag_len(prev) > off) || (cur && off + len > frag_off(cur))) {
		NET_STAT(nif, frag_overlap);
		goto drop_all;
	}
	if (d->have_last && (off + len > d->total || (!mf && off + len != d->total))) {
		NET_STAT(nif, frag_bad);                /* beyond, or a second different end */
		goto drop_all;
	}
	if (!mf) {
		/* Nothing already held may lie past the end. */
		struct nbuf *last = d->frags;
		while (last && last->link)
			last = last->link;
		if (last && frag_off(last) + frag_len(last) > off + len) {
			NET_STAT(nif, frag_bad);
			goto drop_all;
		}
		d->have_last = true;
		d->total = off + len;
	}

	uint32_t segs = nbuf_segments(nb);
	while (nif->reasm.nbufs + segs > IP4_REASM_MAX_NBUFS) {
		struct ip4_reasm_dgram *old = dgram_oldest(nif, d);
		if (!old) {
			NET_STAT(nif, frag_over_limit);
			goto drop_all;
		}
		NET_STAT(nif, frag_evicted);
		dgram_drop(nif, old);
	}
	nb->link = cur;
	*pp = nb;
	d->nbufs += segs;
	d->received += len;
	nif->reasm.nbufs += segs;
	if (d->have_last && d->received == d->total)
		return dgram_assemble(nif, d);
	return NULL;

drop_all:
	dgram_drop(nif, d);
	nbuf_free(nb);
	return NULL;
}

void ip4_frag_tick(struct net_if *nif, uint64_t now)
{
	for (unsigned i = 0; i < IP4_REASM_MAX_DGRAMS; i++) {
		struct ip4_reasm_dgram *d = &nif->reasm.d[i];
		if (!d->used || now < d->deadline)
			continue;
		NET_STAT(nif, frag_timeouts);
		struct nbuf *first = d->frags;
		if (first && frag_off(first) == 0) {
			/* RFC 792: time exceeded in reassembly, quoting fragment 0. */
			const struct ip4_hdr *h = (const void *)first->data;
			struct ip4_info ip = {
				.hdr = first->data, .hdr_len = (uint16_t)frag_hlen(first),
				.src = net_get32(h->src), .dst = net_get32(h->dst),
				.proto = h->proto, .ttl = h->ttl, .tos = h->tos,
				.to_bcast = ip4_is_bcast(nif, net_get32(h->dst)) ||
					    (first->flags & NBUF_F_L2_BCAST),
			};
			nbuf_pull(first, ip.hdr_len);
			icmp_send_error(nif, first, &ip, ICMP_TIME_EXCEEDED, ICMP_EXC_REASM, 0);
			nbuf_push(first, ip.hdr_len);
		}
		dgram_drop(nif, d);
	}
}

uint64_t ip4_frag_next_deadline(const struct net_if *nif)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < IP4_REASM_MAX_DGRAMS; i++)
		if (nif->reasm.d[i].used && nif->reasm.d[i].deadline < t)
			t = nif->reasm.d[i].deadline;
	return t;
}

void ip4_frag_flush(struct net_if *nif)
{
	for (unsigned i = 0; i < IP4_REASM_MAX_DGRAMS; i++)
		if (nif->reasm.d[i].used)
			dgram_drop(nif, &nif->reasm.d[i]);
}

int ip4_frag_output(struct net_if *nif, struct nbuf *nb, uint16_t mtu, const uint8_t mac[ETH_ALEN])
{
	const size_t hlen = IP4_HDR_LEN;
	int ret = K_OK;

	/* An offloaded L4 checksum cannot be split across fragments. */
	if (checksum_finish(nb) < 0) {
		NET_STAT(nif, ip_no_mem);
		ret = K_EINVAL;
		goto out;
	}
	if (nif->pool->data_size < NBUF_HEADROOM + hlen + 8 || mtu < hlen + 8) {
		NET_STAT(nif, ip_too_big);
		ret = K_EMSGSIZE;
		goto out;
	}
	size_t room = nif->pool->data_size - NBUF_HEADROOM - hlen;
	size_t chunk = ((mtu - hlen) < room ? (mtu - hlen) : room) & ~(size_t)7;
	size_t payload = nbuf_pkt_len(nb) - hlen;
	const struct ip4_hdr *h = (const void *)nb->data;
	uint16_t base_frag = net_get16(h->frag);      /* offset 0, DF clear here */

	NET_STAT(nif, frag_out);
	for (size_t off = 0; off < payload; off += chunk) {
		size_t n = payload - off < chunk ? payload - off : chunk;
		struct nbuf *f = nbuf_alloc(nif->pool);
		if (!f) {
			NET_STAT(nif, ip_no_mem);
			ret = K_ENOMEM;
			goto out;
		}
		uint8_t *p = nbuf_put(f, hlen + n);
		memcpy(p, h, hlen);
		nbuf_copy_out(nb, hlen + off, p + hlen, n);
		struct ip4_hdr *fh = (void *)p;
		net_put16(fh->total_len, (uint16_t)(hlen + n));
		net_put16(fh->frag, (uint16_t)((base_frag & ~IP4_OFF_MASK) | (off / 8) |
					       (off + n < payload ? IP4_FLAG_MF : 0)));
		net_put16(fh->csum, 0);
		checksum_store(fh->csum, checksum(fh, hlen));
		NET_STAT(nif, frag_created);
		int r = eth_output(nif, f, mac, ETH_TYPE_IP4);
		if (r < 0)
			ret = r;
	}
out:
	nbuf_free(nb);
	return ret;
}
