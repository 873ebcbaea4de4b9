/*
 * ip4.c - IPv4 input and output for one interface (RFC 791, RFC 1122
 * 3.2.1), routing, and the path-MTU table (RFC 1191).
 *
 * Interface: ip4_input(), ip4_output(), ip4_route(), ip4_pmtu_get(),
 * ip4_pmtu_update(), ip4_is_bcast() in net_priv.h.
 *
 * Rules:
 *  - Input checks, in order, and drops with a counter on failure: a whole
 *    20-byte header, version 4, IHL >= 5 and inside the first segment,
 *    total length between IHL and the received length (Ethernet padding
 *    is trimmed), the header checksum unless the device verified it
 *    (NBUF_F_IP_CSUM_OK), TTL above 0 (a datagram arriving with TTL 0
 *    was mishandled on its way), a unicast source, a destination that is
 *    our address or a broadcast. Fragments go to ip4_frag.c; whole
 *    datagrams to ICMP, UDP or (when linked) TCP with the header pulled
 *    and described by a struct ip4_info. Options are accepted and skipped.
 *  - Output pushes a 20-byte header (no options) with a per-interface
 *    incrementing ID (RFC 6864 4.1: unique enough for the rare datagram
 *    that fragments) and DF set whenever the datagram fits the path MTU
 *    (RFC 1191). Larger ones are fragmented here unless the caller asked
 *    for IP4_OUT_DF (TCP), which gets K_EMSGSIZE. The next hop is the
 *    destination on-link, else the gateway (RFC 1122 3.3.1).
 *  - Every function consumes the nbuf it takes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/time.h>

#include "checksum.h"
#include "net_priv.h"

bool ip4_is_bcast(const struct net_if *nif, uint32_t a)
{
	return a == 0xffffffffu || (nif->bcast && a == nif->bcast);
}

/* Sources no datagram may carry (RFC 1122 3.2.1.3). */
static bool ip4_bad_source(const struct net_if *nif, uint32_t a)
{
	return a == 0 || (a >> 24) == 127 || (a >> 28) >= 14 || ip4_is_bcast(nif, a);
}

void ip4_input(struct net_if *nif, struct nbuf *nb)
{
	const uint8_t *src = nb->data, *end = nb->data + nb->len;
	const struct ip4_hdr *h = (const void *)net_take(&src, end, sizeof *h);
	struct ip4_info ip;

	NET_STAT(nif, ip_in);
	if (!h) {
		NET_STAT(nif, ip_short);
		goto drop;
	}
	if ((h->ver_ihl >> 4) != 4) {
		NET_STAT(nif, ip_bad_version);
		goto drop;
	}
	size_t hlen = (size_t)(h->ver_ihl & 15) * 4;
	if (hlen < IP4_HDR_LEN || !net_take(&src, end, hlen - IP4_HDR_LEN)) {
		NET_STAT(nif, ip_bad_hlen);
		goto drop;
	}
	size_t total = net_get16(h->total_len);
	if (total < hlen || total > nbuf_pkt_len(nb)) {
		NET_STAT(nif, ip_bad_len);
		goto drop;
	}
	if (!(nb->flags & NBUF_F_IP_CSUM_OK) && checksum(h, hlen) != 0) {
		NET_STAT(nif, ip_bad_csum);
		goto drop;
	}
	if (h->ttl == 0) {
		NET_STAT(nif, ip_ttl0);
		goto drop;
	}
	ip.src = net_get32(h->src);
	ip.dst = net_get32(h->dst);
	if (ip4_bad_source(nif, ip.src)) {
		NET_STAT(nif, ip_bad_src);
		goto drop;
	}
	ip.to_bcast = ip4_is_bcast(nif, ip.dst) || (nb->flags & NBUF_F_L2_BCAST);
	if (!(nif->addr && ip.dst == nif->addr) && !ip4_is_bcast(nif, ip.dst)) {
		NET_STAT(nif, ip_not_us);
		goto drop;
	}
	nbuf_trim(nb, total);
	ip.reassembled = false;
	if (net_get16(h->frag) & (IP4_FLAG_MF | IP4_OFF_MASK)) {
		nb = ip4_frag_input(nif, nb, time_now_ns());
		if (!nb)
			return;
		h = (const void *)nb->data;      /* the rewritten whole header */
		ip.reassembled = true;
	}
	ip.hdr = (const uint8_t *)h;
	ip.hdr_len = (uint16_t)hlen;
	ip.proto = h->proto;
	ip.ttl = h->ttl;
	ip.tos = h->tos;
	nbuf_pull(nb, hlen);
	NET_STAT(nif, ip_delivered);
	switch (ip.proto) {
	case IP4_PROTO_ICMP:
		icmp_input(nif, nb, &ip);
		return;
	case IP4_PROTO_UDP:
		udp_input(nif, nb, &ip);
		return;
	case IP4_PROTO_TCP:
		if (nif->tcp_input) {
			nif->tcp_input(nif, nb, &ip);
			return;
		}
		__attribute__((fallthrough));   /* no TCP linked */
	default:
		NET_STAT(nif, ip_unknown_proto);
		icmp_send_error(nif, nb, &ip, ICMP_DEST_UNREACH, ICMP_UNREACH_PROTO, 0);
		goto drop;
	}
drop:
	nbuf_free(nb);
}

int ip4_route(const struct net_if *nif, uint32_t dst, uint32_t *next_hop)
{
	if (dst == 0xffffffffu) {
		*next_hop = dst;
		return K_OK;
	}
	/* No loopback and no multicast routes (yet). */
	if (!nif->addr || dst == 0 || dst == nif->addr || (dst >> 28) >= 14)
		return K_ENOENT;
	if ((dst & nif->mask) == (nif->addr & nif->mask)) {
		*next_hop = dst;
		return K_OK;
	}
	if (!nif->gw)
		return K_ENOENT;
	*next_hop = nif->gw;
	return K_OK;
}

/* Hands a datagram (data at its header) to the link layer: broadcast
 * directly, unicast through ARP, which calls ip4_transmit() once the
 * neighbour is known. Whole datagrams wait for ARP, not fragments, so a
 * fragmented datagram takes one queue slot. */
static int ip4_send_link(struct net_if *nif, struct nbuf *nb, uint32_t next_hop)
{
	if (ip4_is_bcast(nif, next_hop))
		return ip4_transmit(nif, nb, eth_broadcast);
	return arp_output(nif, nb, next_hop);
}

/* The largest datagram a packet of total bytes puts on the wire: itself,
 * or for TSO one segment of it (the TCP header sits at csum_start). */
static size_t wire_len(const struct nbuf *nb, size_t total)
{
	if (!nb->gso_size)
		return total;
	size_t thl = (size_t)(nb->base[nb->csum_start + 12] >> 4) * 4;
	return IP4_HDR_LEN + thl + nb->gso_size;
}

int ip4_output(struct net_if *nif, struct nbuf *nb, uint32_t src, uint32_t dst,
	       uint8_t proto, unsigned flags)
{
	uint32_t next_hop;
	int ret;

	if (ip4_route(nif, dst, &next_hop) < 0) {
		NET_STAT(nif, ip_no_route);
		ret = K_ENOENT;
		goto drop;
	}
	size_t total = nbuf_pkt_len(nb) + IP4_HDR_LEN;
	if (total > IP4_MAX_LEN) {
		NET_STAT(nif, ip_too_big);
		ret = K_EMSGSIZE;
		goto drop;
	}
	bool fits = wire_len(nb, total) <= ip4_pmtu_get(nif, dst, time_now_ns());
	if (!fits && ((flags & IP4_OUT_DF) || nb->gso_size)) {
		NET_STAT(nif, ip_too_big);
		ret = K_EMSGSIZE;
		goto drop;
	}
	struct ip4_hdr *h = (void *)nbuf_push(nb, sizeof *h);
	if (!h) {
		NET_STAT(nif, ip_no_headroom);
		ret = K_ENOMEM;
		goto drop;
	}
	h->ver_ihl = 0x45;
	h->tos = 0;
	net_put16(h->total_len, (uint16_t)total);
	net_put16(h->id, nif->ip_id++);
	net_put16(h->frag, fits ? IP4_FLAG_DF : 0);
	h->ttl = IP4_DEFAULT_TTL;
	h->proto = proto;
	net_put16(h->csum, 0);
	net_put32(h->src, src ? src : nif->addr);
	net_put32(h->dst, dst);
	NET_STAT(nif, ip_out);
	return ip4_send_link(nif, nb, next_hop);
drop:
	nbuf_free(nb);
	return ret;
}

int ip4_transmit(struct net_if *nif, struct nbuf *nb, const uint8_t mac[ETH_ALEN])
{
	struct ip4_hdr *h = (void *)nb->data;
	uint16_t mtu = ip4_pmtu_get(nif, net_get32(h->dst), time_now_ns());

	if (wire_len(nb, nbuf_pkt_len(nb)) > mtu) {
		if ((net_get16(h->frag) & IP4_FLAG_DF) || nb->gso_size) {
			/* The path MTU fell while it waited for ARP. */
			NET_STAT(nif, ip_too_big);
			nbuf_free(nb);
			return K_EMSGSIZE;
		}
		return ip4_frag_output(nif, nb, mtu, mac);
	}
	net_put16(h->csum, 0);
	checksum_store(h->csum, checksum(h, sizeof *h));
	return eth_output(nif, nb, mac, ETH_TYPE_IP4);
}

/* ---- path MTU (RFC 1191) ---- */

uint16_t ip4_pmtu_get(struct net_if *nif, uint32_t dst, uint64_t now)
{
	for (unsigned i = 0; i < IP4_PMTU_ENTRIES; i++) {
		struct ip4_pmtu *p = &nif->pmtu[i];
		if (p->dst != dst)
			continue;
		if (now >= p->expires) {
			p->dst = 0;                 /* RFC 1191 6.3: try larger again */
			break;
		}
		return p->mtu < nif->mtu ? p->mtu : nif->mtu;
	}
	return nif->mtu;
}

bool ip4_pmtu_update(struct net_if *nif, uint32_t dst, uint16_t mtu, uint64_t now, bool verified)
{
	if (mtu < IP4_PMTU_MIN)
		mtu = IP4_PMTU_MIN;
	if (dst == 0 || mtu >= ip4_pmtu_get(nif, dst, now))
		return false;
	struct ip4_pmtu *slot = NULL;
	for (unsigned i = 0; i < IP4_PMTU_ENTRIES; i++) {
		struct ip4_pmtu *p = &nif->pmtu[i];
		if (p->dst == dst) {
			slot = p;
			break;
		}
		bool guarded = !verified && p->dst && p->verified && now < p->expires;
		if (guarded)
			continue;
		if (!slot || p->dst == 0 || (slot->dst != 0 && p->expires < slot->expires))
			slot = p;
	}
	if (!slot) {
		NET_STAT(nif, icmp_pmtu_table_guarded);
		return false;
	}
	if (slot->dst != dst)
		slot->verified = false;
	slot->dst = dst;
	slot->mtu = mtu;
	slot->verified = slot->verified || verified;
	slot->expires = now + IP4_PMTU_TIMEOUT_NS;
	return true;
}
