/*
 * netdev.c - the glue between a driver and the stack.
 *
 * Interface: netdev.h. Receives hand frames to eth_input() of the
 * attached interface; transmits count, then finish in software what the
 * device cannot do (checksum offload, scatter-gather) so the protocol
 * code may always ask for offload and always build chains.
 *
 * Rules: both directions consume the nbuf. Nothing here allocates except
 * linearizing for a device without NETDEV_CAP_SG (one buffer from the
 * device's tx_pool; a packet larger than one buffer is dropped and
 * counted, as no such device exists in Kiln's targets).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "checksum.h"
#include "gso.h"
#include "net_priv.h"
#include "netdev.h"

void netdev_input(struct netdev *dev, struct nbuf *nb)
{
	dev->stats.rx_packets++;
	dev->stats.rx_bytes += nbuf_pkt_len(nb);
	if (!dev->nif) {
		dev->stats.rx_dropped++;
		nbuf_free(nb);
		return;
	}
	eth_input(dev->nif, nb);
}

static struct nbuf *flatten(struct netdev *dev, struct nbuf *nb)
{
	struct nbuf *flat = dev->tx_pool ? nbuf_alloc(dev->tx_pool) : NULL;
	if (!flat || nbuf_pkt_len(nb) > nbuf_tailroom(flat) ||
	    (nb->flags & NBUF_F_CSUM_PARTIAL)) {
		/* CSUM_PARTIAL was resolved before; anything left is a bug
		 * in the caller's request, dropped not trusted. */
		nbuf_free(flat);
		nbuf_free(nb);
		return NULL;
	}
	nbuf_copy_out(nb, 0, nbuf_put(flat, nbuf_pkt_len(nb)), nbuf_pkt_len(nb));
	flat->flags = nb->flags;
	nbuf_free(nb);
	return flat;
}

/* A TSO packet for a device without TSO: cut in software, sent frame by
 * frame. */
static int xmit_segmented(struct netdev *dev, struct nbuf *nb)
{
	struct nbuf *q = gso_segment(nb, dev->nif->pool);
	if (!q) {
		dev->stats.tx_bad++;
		return K_ENOMEM;
	}
	dev->stats.tx_sw_gso++;
	int ret = K_OK;
	while (q) {
		struct nbuf *s = q;
		q = s->link;
		s->link = NULL;
		int r = netdev_xmit(dev, s);
		if (r < 0)
			ret = r;
	}
	return ret;
}

int netdev_xmit(struct netdev *dev, struct nbuf *nb)
{
	if (nb->gso_size && !(dev->caps & NETDEV_CAP_TSO4))
		return xmit_segmented(dev, nb);
	if ((nb->flags & NBUF_F_CSUM_PARTIAL) && !(dev->caps & NETDEV_CAP_TX_CSUM)) {
		if (checksum_finish(nb) < 0) {
			dev->stats.tx_bad++;
			nbuf_free(nb);
			return K_EINVAL;
		}
		dev->stats.tx_sw_csum++;
	}
	if (nb->next && !(dev->caps & NETDEV_CAP_SG)) {
		nb = flatten(dev, nb);
		if (!nb) {
			dev->stats.tx_errors++;
			return K_ENOMEM;
		}
		dev->stats.tx_linearized++;
	}
	size_t len = nbuf_pkt_len(nb);
	int ret = dev->ops->xmit(dev, nb);
	if (ret < 0) {
		dev->stats.tx_errors++;
		return ret;
	}
	dev->stats.tx_packets++;
	dev->stats.tx_bytes += len;
	return K_OK;
}

void netdev_flush(struct netdev *dev)
{
	if (dev->ops->flush)
		dev->ops->flush(dev);
}

struct nbuf_pool *netdev_rx_pool(const struct netdev *dev)
{
	return dev->nif->pool;
}
