/*
 * udp.c - UDP (RFC 768; RFC 1122 4.1): bound ports, input with
 * checksum verification, output by copy or by borrowed payload.
 *
 * Interface: kiln/net.h (udp_bind, udp_unbind, udp_sendto,
 * udp_sendto_borrowed, udp_rx_copy); udp_input() in net_priv.h.
 *
 * Rules:
 *  - Ports are bound per interface in a UDP_HASH_SIZE-bucket hash of
 *    caller-allocated pcbs: O(1) lookup, no allocation.
 *  - Input checks the length field (at least 8, at most the IP payload;
 *    the excess is trimmed) and the checksum with its pseudo-header unless
 *    it is 0 (none sent) or the device verified it. A datagram to an
 *    unbound port earns ICMP port unreachable (rate-limited; never for
 *    broadcasts). The receive callback gets a view into the receive
 *    buffer, valid until it returns; the stack frees the buffer after.
 *  - Output builds header + payload with headroom for every layer below.
 *    The checksum is left to the device when it offers that (CSUM_PARTIAL
 *    with the pseudo-header sum seeded), computed here otherwise; a
 *    computed 0 is sent as 0xffff (RFC 768).
 *  - Borrowed payloads are chained behind the header without a copy; the
 *    done callback runs exactly once (nbuf.h), on every path.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "checksum.h"
#include "net_priv.h"

#define UDP_MAX_PAYLOAD (IP4_MAX_LEN - IP4_HDR_LEN - UDP_HDR_LEN)   /* 65507 */

_Static_assert((UDP_HASH_SIZE & (UDP_HASH_SIZE - 1)) == 0, "UDP_HASH_SIZE is a power of two");

static unsigned udp_hash(uint16_t port)
{
	return (port ^ (port >> 6)) & (UDP_HASH_SIZE - 1);
}

static struct udp_pcb *udp_lookup(const struct net_if *nif, uint16_t port)
{
	for (struct udp_pcb *p = nif->udp_hash[udp_hash(port)]; p; p = p->next)
		if (p->port == port)
			return p;
	return NULL;
}

void udp_input(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip)
{
	NET_STAT(nif, udp_in);
	if (nbuf_pkt_len(nb) < UDP_HDR_LEN || nbuf_linearize(nb, UDP_HDR_LEN) < 0) {
		NET_STAT(nif, udp_short);
		goto drop;
	}
	const struct udp_hdr *h = (const void *)nb->data;
	size_t ulen = net_get16(h->len);
	if (ulen < UDP_HDR_LEN || ulen > nbuf_pkt_len(nb)) {
		NET_STAT(nif, udp_bad_len);
		goto drop;
	}
	nbuf_trim(nb, ulen);
	if (checksum_load(h->csum) != 0 && !(nb->flags & NBUF_F_CSUM_VALID)) {
		uint32_t sum = checksum_pseudo4(ip->src, ip->dst, IP4_PROTO_UDP, (uint16_t)ulen);
		if (checksum_fold(checksum_nbuf(sum, nb, 0, ulen)) != 0) {
			NET_STAT(nif, udp_bad_csum);
			goto drop;
		}
	}
	uint16_t dport = net_get16(h->dport);
	struct udp_pcb *pcb = udp_lookup(nif, dport);
	if (!pcb) {
		NET_STAT(nif, udp_no_port);
		icmp_send_error(nif, nb, ip, ICMP_DEST_UNREACH, ICMP_UNREACH_PORT, 0);
		goto drop;
	}
	struct udp_rx rx = {
		.src_addr = ip->src, .dst_addr = ip->dst,
		.src_port = net_get16(h->sport), .dst_port = dport,
		.nb = nb, .nb_off = 0,
	};
	nbuf_pull(nb, UDP_HDR_LEN);
	rx.data = nb->data;
	rx.len = nb->len;
	rx.total_len = nbuf_pkt_len(nb);
	NET_STAT(nif, udp_delivered);
	pcb->recv(pcb, &rx, pcb->arg);
drop:
	nbuf_free(nb);
}

int udp_bind(struct udp_pcb *pcb, struct net_if *nif, uint16_t port,
	     udp_recv_fn recv, void *arg)
{
	if (pcb->bound)
		return K_EALREADY;
	if (port == 0) {
		/* RFC 6056 algorithm 1's spirit: a random start, then a scan. */
		const unsigned range = 65536u - UDP_EPHEMERAL_MIN;
		for (unsigned i = 0; i < range && !port; i++) {
			uint16_t p = nif->udp_next_port;
			nif->udp_next_port = (uint16_t)(p == 65535 ? UDP_EPHEMERAL_MIN : p + 1u);
			if (!udp_lookup(nif, p))
				port = p;
		}
		if (!port)
			return K_EADDRINUSE;
	} else if (udp_lookup(nif, port)) {
		return K_EADDRINUSE;
	}
	unsigned b = udp_hash(port);
	pcb->nif = nif;
	pcb->port = port;
	pcb->recv = recv;
	pcb->arg = arg;
	pcb->bound = true;
	pcb->next = nif->udp_hash[b];
	nif->udp_hash[b] = pcb;
	return K_OK;
}

void udp_unbind(struct udp_pcb *pcb)
{
	if (!pcb->bound)
		return;
	struct udp_pcb **pp = &pcb->nif->udp_hash[udp_hash(pcb->port)];
	while (*pp && *pp != pcb)
		pp = &(*pp)->next;
	if (*pp)
		*pp = pcb->next;
	pcb->next = NULL;
	pcb->bound = false;
}

/* Pushes the UDP header on nb (data at the payload) and sends it. */
static int udp_output(struct udp_pcb *pcb, struct nbuf *nb, uint32_t addr, uint16_t port)
{
	struct net_if *nif = pcb->nif;
	struct udp_hdr *h = (void *)nbuf_push(nb, sizeof *h);
	if (!h) {
		NET_STAT(nif, udp_out_err);
		nbuf_free(nb);
		return K_ENOMEM;
	}
	uint16_t ulen = (uint16_t)nbuf_pkt_len(nb);
	net_put16(h->sport, pcb->port);
	net_put16(h->dport, port);
	net_put16(h->len, ulen);
	net_put16(h->csum, 0);
	uint32_t sum = checksum_pseudo4(nif->addr, addr, IP4_PROTO_UDP, ulen);
	if (nif->dev->caps & NETDEV_CAP_TX_CSUM) {
		checksum_store(h->csum, checksum_fold_raw(sum));
		nb->flags |= NBUF_F_CSUM_PARTIAL;
		nb->csum_start = (uint16_t)nbuf_headroom(nb);
		nb->csum_offset = 6;
	} else {
		uint16_t c = checksum_fold(checksum_nbuf(sum, nb, 0, ulen));
		checksum_store(h->csum, c ? c : 0xffff);
	}
	NET_STAT(nif, udp_out);
	int ret = ip4_output(nif, nb, nif->addr, addr, IP4_PROTO_UDP, 0);
	if (ret < 0)
		NET_STAT(nif, udp_out_err);
	return ret;
}

int udp_sendto(struct udp_pcb *pcb, uint32_t addr, uint16_t port,
	       const void *data, size_t len)
{
	if (!pcb->bound)
		return K_EINVAL;
	struct net_if *nif = pcb->nif;
	if (len > UDP_MAX_PAYLOAD) {
		NET_STAT(nif, udp_out_err);
		return K_EMSGSIZE;
	}
	struct nbuf *nb = nbuf_alloc(nif->pool);
	if (!nb || nbuf_append_copy(nb, nif->pool, data, len) < 0) {
		NET_STAT(nif, udp_out_err);
		nbuf_free(nb);
		return K_ENOMEM;
	}
	return udp_output(pcb, nb, addr, port);
}

int udp_sendto_borrowed(struct udp_pcb *pcb, uint32_t addr, uint16_t port,
			const void *data, size_t len, net_done_fn done, void *arg)
{
	struct net_if *nif = pcb->nif;
	struct nbuf *nb = NULL, *seg = NULL;
	int ret;

	if (!pcb->bound) {
		ret = K_EINVAL;
		goto fail;
	}
	if (len > UDP_MAX_PAYLOAD) {
		ret = K_EMSGSIZE;
		goto fail;
	}
	nb = nbuf_alloc(nif->pool);
	if (len)
		seg = nif->refs ? nbuf_borrow(nif->refs, data, len, done, arg) : NULL;
	if (!nb || (len && !seg)) {
		ret = K_ENOMEM;
		goto fail;
	}
	if (seg)
		nbuf_append(nb, seg);
	else if (done)
		done(arg);                          /* nothing was lent */
	return udp_output(pcb, nb, addr, port);
fail:
	if (pcb->bound)
		NET_STAT(nif, udp_out_err);
	nbuf_free(nb);
	if (seg)
		nbuf_free(seg);                      /* runs done */
	else if (done)
		done(arg);
	return ret;
}

size_t udp_rx_copy(const struct udp_rx *rx, size_t off, void *dst, size_t n)
{
	if (off >= rx->total_len)
		return 0;
	if (n > rx->total_len - off)
		n = rx->total_len - off;
	nbuf_copy_out(rx->nb, rx->nb_off + off, dst, n);
	return n;
}
