/*
 * eth.c - Ethernet II framing: input validation and dispatch by type,
 * output by pushing the header into headroom.
 *
 * Interface: eth_input(), eth_output() in net_priv.h.
 *
 * Rules: input accepts frames to our MAC or to broadcast, from a unicast
 * source; IPv4 and ARP go up, everything else is dropped and counted by
 * kind (IPv6 and VLAN tags until they are supported). Both functions
 * consume the nbuf. The header is parsed in place and pulled; the bytes
 * stay in the headroom, where an in-place reply reuses them.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "net_priv.h"

const uint8_t eth_broadcast[ETH_ALEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void eth_input(struct net_if *nif, struct nbuf *nb)
{
	const uint8_t *src = nb->data, *end = nb->data + nb->len;
	const struct eth_hdr *h = (const void *)net_take(&src, end, sizeof *h);

	NET_STAT(nif, eth_in);
	if (!h) {
		NET_STAT(nif, eth_short);
		goto drop;
	}
	if (ETH_IS_GROUP(h->dst)) {
		if (memcmp(h->dst, eth_broadcast, ETH_ALEN) != 0) {
			NET_STAT(nif, eth_not_us);      /* multicast: none joined */
			goto drop;
		}
		nb->flags |= NBUF_F_L2_BCAST;
	} else if (memcmp(h->dst, nif->dev->mac, ETH_ALEN) != 0) {
		NET_STAT(nif, eth_not_us);
		goto drop;
	}
	if (ETH_IS_GROUP(h->src) || memcmp(h->src, nif->dev->mac, ETH_ALEN) == 0) {
		NET_STAT(nif, eth_bad_src);
		goto drop;
	}
	uint16_t type = net_get16(h->type);
	nbuf_pull(nb, sizeof *h);
	switch (type) {
	case ETH_TYPE_IP4:
		ip4_input(nif, nb);
		return;
	case ETH_TYPE_ARP:
		arp_input(nif, nb);
		return;
	case ETH_TYPE_IP6:
		NET_STAT(nif, eth_ip6);
		goto drop;
	case ETH_TYPE_VLAN:
		NET_STAT(nif, eth_vlan);
		goto drop;
	default:
		NET_STAT(nif, eth_unknown);         /* incl. 802.3 lengths */
		goto drop;
	}
drop:
	nbuf_free(nb);
}

int eth_output(struct net_if *nif, struct nbuf *nb, const uint8_t dst[ETH_ALEN], uint16_t type)
{
	struct eth_hdr *h = (void *)nbuf_push(nb, sizeof *h);
	if (!h) {
		NET_STAT(nif, eth_no_headroom);
		nbuf_free(nb);
		return K_ENOMEM;
	}
	memcpy(h->dst, dst, ETH_ALEN);
	memcpy(h->src, nif->dev->mac, ETH_ALEN);
	net_put16(h->type, type);
	NET_STAT(nif, eth_out);
	return netdev_xmit(nif->dev, nb);
}
