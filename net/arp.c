/*
 * arp.c - IPv4-to-Ethernet address resolution (RFC 826), gratuitous
 * announcements and conflict defence (RFC 5227), for one interface.
 *
 * Interface: arp_input(), arp_output(), arp_announce(), arp_prime(), arp_tick() and
 * friends in net_priv.h.
 *
 * Rules:
 *  - The cache is a fixed array of ARP_CACHE_SIZE entries. A new
 *    neighbour takes a free entry, else the oldest pending one, else the
 *    least recently used resolved one - but never the gateway's nor one
 *    used within ARP_IN_USE_NS (a connection's peer): a flood of spoofed
 *    sources cannot push out the neighbours that carry traffic. With no
 *    such entry, or ARP_MAX_PENDING entries already unresolved, the new
 *    neighbour is refused (counted) and its packet dropped.
 *  - A packet to an unresolved neighbour waits on its entry's queue
 *    (ARP_QUEUE_PER_ENTRY packets, and ARP_QUEUE_NBUFS buffers over all
 *    entries; beyond that new packets are dropped and counted). Requests go out once a
 *    second, ARP_MAX_REQUESTS in all; then the queue is dropped and
 *    counted (RFC 1122 2.3.2.1/2.3.2.2). First requests for new
 *    neighbours are limited to ARP_REQ_PER_SEC a second (the entry waits
 *    for its retry instead).
 *  - Input follows RFC 826's merge rule: a sender already cached is
 *    updated; a sender is added only when the packet targets us. Malformed
 *    packets and impossible senders (group MACs, broadcast or multicast
 *    IPs, our own MAC) are dropped and counted, never cached.
 *  - Replies are written in place into the request's buffer.
 *  - Queued packets are owned by the cache until sent or dropped.
 *  - Time comes from time_now_ns() on the paths that need it and from
 *    the caller of arp_tick(); a test drives both.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/time.h>

#include "net_priv.h"

static const uint8_t zero_mac[ETH_ALEN];

/* Servers talk mostly to one neighbour (the gateway or the client's
 * host), so the last hit is checked before the linear scan. */
static struct arp_entry *arp_find(struct net_if *nif, uint32_t ip)
{
	struct arp_entry *e = &nif->arp.e[nif->arp.hint];
	if (e->state != ARP_FREE && e->ip == ip)
		return e;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		e = &nif->arp.e[i];
		if (e->state != ARP_FREE && e->ip == ip) {
			nif->arp.hint = (uint8_t)i;
			return e;
		}
	}
	return NULL;
}

static void arp_entry_clear(struct net_if *nif, struct arp_entry *e)
{
	nif->arp.queued -= e->qsegs;
	if (e->state == ARP_PENDING)
		nif->arp.pending--;
	nbuf_free_queue(e->q_head);
	memset(e, 0, sizeof *e);
}

/* An entry a new neighbour must not take: the gateway, or one that
 * carried traffic recently. */
static bool arp_protected(const struct net_if *nif, const struct arp_entry *e, uint64_t now)
{
	return e->state == ARP_VALID &&
	       ((nif->gw && e->ip == nif->gw) || now - e->last_used < ARP_IN_USE_NS);
}

/* A new entry for ip, in state ARP_PENDING when pending (else the caller
 * resolves it at once); NULL, counted, when the policy above refuses. */
static struct arp_entry *arp_entry_new(struct net_if *nif, uint32_t ip, uint64_t now, bool pending)
{
	struct arp_entry *victim = NULL, *valid = NULL, *unresolved = NULL;

	if (pending && nif->arp.pending >= ARP_MAX_PENDING) {
		NET_STAT(nif, arp_pending_full);
		return NULL;
	}
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &nif->arp.e[i];
		if (e->state == ARP_FREE) {
			victim = e;
			goto found;
		}
		if (e->state == ARP_PENDING && (!unresolved || e->last_used < unresolved->last_used))
			unresolved = e;
		else if (e->state == ARP_VALID && !arp_protected(nif, e, now) &&
			 (!valid || e->last_used < valid->last_used))
			valid = e;
	}
	victim = unresolved ? unresolved : valid;
	if (!victim) {
		NET_STAT(nif, arp_cache_full);
		return NULL;
	}
	NET_STAT(nif, arp_evictions);
	nif->stats.arp_evict_drops += victim->qlen;
	arp_entry_clear(nif, victim);
found:
	victim->ip = ip;
	/* a neighbour learnt from its own request is not "in use" until we
	 * send it something: a flood of ARP requests cannot protect itself */
	victim->last_used = pending ? now : 0;
	if (pending) {
		victim->state = ARP_PENDING;
		nif->arp.pending++;
	}
	return victim;
}

/* Builds and sends an ARP packet in a fresh buffer. */
static void arp_send(struct net_if *nif, uint16_t op, const uint8_t eth_dst[ETH_ALEN],
		     const uint8_t tha[ETH_ALEN], uint32_t tpa, uint32_t spa)
{
	struct nbuf *nb = nbuf_alloc_prio(nif->pool, NBUF_PRIO_CTRL);
	if (!nb) {
		NET_STAT(nif, arp_no_mem);
		return;
	}
	struct arp_pkt *a = (void *)nbuf_put(nb, sizeof *a);
	net_put16(a->htype, ARP_HTYPE_ETHER);
	net_put16(a->ptype, ETH_TYPE_IP4);
	a->hlen = ETH_ALEN;
	a->plen = 4;
	net_put16(a->op, op);
	memcpy(a->sha, nif->dev->mac, ETH_ALEN);
	net_put32(a->spa, spa);
	memcpy(a->tha, tha, ETH_ALEN);
	net_put32(a->tpa, tpa);
	eth_output(nif, nb, eth_dst, ETH_TYPE_ARP);
}

static void arp_request(struct net_if *nif, uint32_t ip, const uint8_t *unicast)
{
	NET_STAT(nif, arp_requests_out);
	arp_send(nif, ARP_OP_REQUEST, unicast ? unicast : eth_broadcast, zero_mac, ip, nif->addr);
}

/* True when one more first request for a new neighbour may go out in
 * this second (ARP_REQ_PER_SEC); counted when not. */
static bool arp_request_budget(struct net_if *nif, uint64_t now)
{
	uint64_t sec = now / NS_PER_SEC;
	if (sec != nif->arp.req_sec) {
		nif->arp.req_sec = sec;
		nif->arp.req_count = 0;
	}
	if (nif->arp.req_count >= ARP_REQ_PER_SEC) {
		NET_STAT(nif, arp_requests_limited);
		return false;
	}
	nif->arp.req_count++;
	return true;
}

/* RFC 5227 3: an ARP request with sender and target both our address. */
static void arp_send_announce(struct net_if *nif)
{
	NET_STAT(nif, arp_announce_out);
	arp_send(nif, ARP_OP_REQUEST, eth_broadcast, zero_mac, nif->addr, nif->addr);
}

/* A sender IP no host may have: broadcast, multicast, class E, loopback. */
static bool arp_bogus_ip(const struct net_if *nif, uint32_t ip)
{
	return (ip >> 28) >= 14 || (ip >> 24) == 127 || ip4_is_bcast(nif, ip);
}

static void arp_resolved(struct net_if *nif, struct arp_entry *e, const uint8_t mac[ETH_ALEN],
			 uint64_t now)
{
	memcpy(e->mac, mac, ETH_ALEN);
	if (e->state == ARP_PENDING)
		nif->arp.pending--;
	e->state = ARP_VALID;
	e->expires = now + ARP_ENTRY_TTL_NS;
	e->tries = 0;
	e->refreshing = false;
	struct nbuf *q = e->q_head;
	nif->arp.queued -= e->qsegs;
	e->q_head = e->q_tail = NULL;
	e->qlen = 0;
	e->qsegs = 0;
	while (q) {
		struct nbuf *next = q->link;
		q->link = NULL;
		ip4_transmit(nif, q, e->mac);
		q = next;
	}
}

void arp_input(struct net_if *nif, struct nbuf *nb)
{
	const uint8_t *src = nb->data, *end = nb->data + nb->len;
	struct arp_pkt *a = (void *)(uintptr_t)net_take(&src, end, sizeof *a);
	uint64_t now = time_now_ns();

	NET_STAT(nif, arp_in);
	if (!a || net_get16(a->htype) != ARP_HTYPE_ETHER || net_get16(a->ptype) != ETH_TYPE_IP4 ||
	    a->hlen != ETH_ALEN || a->plen != 4)
		goto bad;
	uint16_t op = net_get16(a->op);
	uint32_t spa = net_get32(a->spa), tpa = net_get32(a->tpa);
	if ((op != ARP_OP_REQUEST && op != ARP_OP_REPLY) || ETH_IS_GROUP(a->sha) ||
	    memcmp(a->sha, nif->dev->mac, ETH_ALEN) == 0 || arp_bogus_ip(nif, spa))
		goto bad;
	if (spa == 0 && op != ARP_OP_REQUEST)
		goto bad;                       /* only probes may come from 0.0.0.0 */
	if (op == ARP_OP_REQUEST)
		NET_STAT(nif, arp_requests_in);
	else
		NET_STAT(nif, arp_replies_in);
	if (nif->addr == 0)
		goto not_us;
	if (spa == nif->addr) {
		/* Someone else uses our address (RFC 5227 2.4 (b)): defend it
		 * at most once per DEFEND_INTERVAL, never fight a loop. */
		NET_STAT(nif, arp_conflicts);
		if (nif->arp.last_defend == 0 || now - nif->arp.last_defend >= ARP_DEFEND_INTERVAL_NS) {
			nif->arp.last_defend = now ? now : 1;
			klog(LOG_WARN, "arp: address conflict with %02x:%02x:%02x:%02x:%02x:%02x",
			     a->sha[0], a->sha[1], a->sha[2], a->sha[3], a->sha[4], a->sha[5]);
			arp_send_announce(nif);
		}
		goto drop;
	}
	bool for_us = tpa == nif->addr;
	if (spa != 0) {
		struct arp_entry *e = arp_find(nif, spa);
		if (!e && for_us)
			e = arp_entry_new(nif, spa, now, false);
		if (e)
			arp_resolved(nif, e, a->sha, now);
	}
	if (!for_us)
		goto not_us;
	if (op != ARP_OP_REQUEST)
		goto drop;

	/* Reply in place: the request's buffer becomes the reply. */
	uint8_t req_sha[ETH_ALEN];
	memcpy(req_sha, a->sha, ETH_ALEN);
	net_put16(a->op, ARP_OP_REPLY);
	memcpy(a->tha, req_sha, ETH_ALEN);
	net_put32(a->tpa, spa);
	memcpy(a->sha, nif->dev->mac, ETH_ALEN);
	net_put32(a->spa, nif->addr);
	nbuf_trim(nb, sizeof *a);
	nb->flags = 0;
	NET_STAT(nif, arp_replies_out);
	eth_output(nif, nb, req_sha, ETH_TYPE_ARP);
	return;
bad:
	NET_STAT(nif, arp_bad);
	goto drop;
not_us:
	NET_STAT(nif, arp_not_us);
drop:
	nbuf_free(nb);
}

int arp_output(struct net_if *nif, struct nbuf *nb, uint32_t next_hop)
{
	uint64_t now = time_now_ns();
	struct arp_entry *e = arp_find(nif, next_hop);

	if (e && e->state == ARP_VALID && now < e->expires) {
		e->last_used = now;
		if (!e->refreshing && e->expires - now <= ARP_REFRESH_NS) {
			e->refreshing = true;
			arp_request(nif, next_hop, e->mac);
		}
		return ip4_transmit(nif, nb, e->mac);
	}
	if (!e) {
		e = arp_entry_new(nif, next_hop, now, true);
		if (!e) {
			nbuf_free(nb);
			return K_ENOSPC;
		}
	}
	if (e->state != ARP_PENDING) {
		/* expired: resolve again (it stays in the cache meanwhile) */
		e->state = ARP_PENDING;
		nif->arp.pending++;
		e->tries = 0;
		e->refreshing = false;
	}
	e->last_used = now;
	unsigned segs = nbuf_segments(nb);
	if (e->qlen >= ARP_QUEUE_PER_ENTRY || nif->arp.queued + segs > ARP_QUEUE_NBUFS) {
		NET_STAT(nif, arp_queue_full);
		nbuf_free(nb);
		return K_ENOSPC;
	}
	nb->link = NULL;
	if (e->q_tail)
		e->q_tail->link = nb;
	else
		e->q_head = nb;
	e->q_tail = nb;
	e->qlen++;
	e->qsegs = (uint16_t)(e->qsegs + segs);
	nif->arp.queued += segs;
	NET_STAT(nif, arp_queued);
	if (e->tries == 0) {
		e->tries = 1;
		e->expires = now + ARP_RETRY_NS;
		if (arp_request_budget(nif, now))
			arp_request(nif, next_hop, NULL);
	}
	return K_OK;
}

void arp_announce(struct net_if *nif, uint64_t now)
{
	if (!nif->addr)
		return;
	arp_send_announce(nif);
	nif->arp.announces_left = ARP_ANNOUNCE_NUM - 1;
	nif->arp.next_announce = now + ARP_ANNOUNCE_INTERVAL_NS;
}

void arp_prime(struct net_if *nif, uint32_t ip, uint64_t now)
{
	struct arp_entry *e = arp_find(nif, ip);
	if (!nif->addr || (e && e->state != ARP_FREE))
		return;
	e = arp_entry_new(nif, ip, now, true);
	if (!e)
		return;
	e->tries = 1;
	e->expires = now + ARP_RETRY_NS;
	arp_request(nif, ip, NULL);
}

void arp_tick(struct net_if *nif, uint64_t now)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		struct arp_entry *e = &nif->arp.e[i];
		if (e->state == ARP_FREE || now < e->expires)
			continue;
		if (e->state == ARP_VALID) {
			arp_entry_clear(nif, e);        /* aged out */
		} else if (e->tries >= ARP_MAX_REQUESTS) {
			NET_STAT(nif, arp_timeouts);
			nif->stats.arp_timeout_drops += e->qlen;
			arp_entry_clear(nif, e);
		} else {
			e->tries++;
			e->expires = now + ARP_RETRY_NS;
			arp_request(nif, e->ip, NULL);
		}
	}
	if (nif->arp.announces_left && now >= nif->arp.next_announce && nif->addr) {
		nif->arp.announces_left--;
		nif->arp.next_announce = now + ARP_ANNOUNCE_INTERVAL_NS;
		arp_send_announce(nif);
	}
}

uint64_t arp_next_deadline(const struct net_if *nif)
{
	uint64_t t = UINT64_MAX;
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &nif->arp.e[i];
		if (e->state != ARP_FREE && e->expires < t)
			t = e->expires;
	}
	if (nif->arp.announces_left && nif->arp.next_announce < t)
		t = nif->arp.next_announce;
	return t;
}

void arp_flush(struct net_if *nif)
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
		if (nif->arp.e[i].state != ARP_FREE)
			arp_entry_clear(nif, &nif->arp.e[i]);
	nif->arp.announces_left = 0;
}

bool arp_lookup(const struct net_if *nif, uint32_t ip, uint8_t mac[ETH_ALEN])
{
	for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
		const struct arp_entry *e = &nif->arp.e[i];
		if (e->state == ARP_VALID && e->ip == ip) {
			memcpy(mac, e->mac, ETH_ALEN);
			return true;
		}
	}
	return false;
}

_Static_assert(ARP_CACHE_SIZE <= 256, "arp hint is a uint8_t");
