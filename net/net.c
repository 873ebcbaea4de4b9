/*
 * net.c - one interface's stack instance: set-up, configuration, timers.
 *
 * Interface: kiln/net.h (apps; net_if_hw_info for telemetry), net_priv.h
 * (net_if_init for drivers and tests).
 *
 * Rules: a struct net_if is owned by one core and touched only there.
 * Configuration happens on the loop like everything else. The protocol
 * timers are driven by net_tick(now) from the loop (or a test), which
 * runs ARP (arp_tick) and reassembly (ip4_frag_tick); net_next_deadline()
 * tells the loop when to call it, so an idle interface costs no wakeups.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/fmt.h>
#include <kiln/log.h>
#include <kiln/random.h>
#include <kiln/time.h>

#include "net_priv.h"

static struct net_if *default_if;

void net_if_init(struct net_if *nif, struct netdev *dev, struct nbuf_pool *pool,
		 struct nbuf_pool *refs)
{
	memset(nif, 0, sizeof *nif);
	nif->dev = dev;
	nif->pool = pool;
	nif->refs = refs;
	nif->mtu = dev->mtu ? dev->mtu : ETH_MTU;
	if (nif->mtu < IP4_MIN_MTU)
		nif->mtu = IP4_MIN_MTU;
	/* Random starts: IDs and ephemeral ports are not predictable
	 * (RFC 6056, RFC 6864 4.1). */
	uint32_t r = random_u32();
	nif->ip_id = (uint16_t)r;
	nif->udp_next_port = (uint16_t)(UDP_EPHEMERAL_MIN + (r >> 16) % (65536u - UDP_EPHEMERAL_MIN));
	if (!dev->tx_pool)
		dev->tx_pool = pool;
	dev->nif = nif;
}

static uint32_t prefix_mask(uint8_t prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

int net_if_configure(struct net_if *nif, const struct net_if_config *cfg)
{
	if (cfg->prefix > 32)
		return K_EINVAL;
	uint32_t mask = prefix_mask(cfg->prefix);
	uint32_t a = cfg->addr;
	if (a) {
		uint32_t host = a & ~mask;
		/* Not 0/8, loopback, multicast or class E; not the subnet's
		 * network or broadcast address on prefixes that have them. */
		if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) >= 14 ||
		    (cfg->prefix < 31 && (host == 0 || host == ~mask)))
			return K_EINVAL;
		if (cfg->gateway && ((cfg->gateway & mask) != (a & mask) || cfg->gateway == a))
			return K_EINVAL;
	}
	arp_flush(nif);
	ip4_frag_flush(nif);
	memset(nif->pmtu, 0, sizeof nif->pmtu);
	nif->addr = a;
	nif->prefix = cfg->prefix;
	nif->mask = mask;
	nif->gw = a ? cfg->gateway : 0;
	nif->bcast = a ? (a | ~mask) : 0;
	nif->dns = cfg->dns;
	if (a) {
		klog(LOG_INFO, "net: %s %u.%u.%u.%u/%u gw %u.%u.%u.%u",
		     nif->dev->name ? nif->dev->name : "if",
		     a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255, cfg->prefix,
		     nif->gw >> 24, (nif->gw >> 16) & 255, (nif->gw >> 8) & 255, nif->gw & 255);
		arp_announce(nif, time_now_ns());
		if (nif->gw)
			arp_prime(nif, nif->gw, time_now_ns());
	}
	return K_OK;
}

void net_if_get_config(const struct net_if *nif, struct net_if_config *out)
{
	out->addr = nif->addr;
	out->prefix = nif->prefix;
	out->gateway = nif->gw;
	out->dns = nif->dns;
}

struct net_if *net_if_default(void) { return default_if; }
void net_if_set_default(struct net_if *nif) { default_if = nif; }
const struct net_stats *net_if_stats(const struct net_if *nif) { return &nif->stats; }

void net_if_hw_info(const struct net_if *nif, struct net_if_hw *out)
{
	const struct netdev *d = nif->dev;
	memset(out, 0, sizeof *out);
	out->name = d->name ? d->name : "";
	memcpy(out->mac, d->mac, ETH_ALEN);
	out->mtu = nif->mtu;
	out->rx_csum = d->caps & NETDEV_CAP_RX_CSUM;
	out->tx_csum = d->caps & NETDEV_CAP_TX_CSUM;
	out->sg = d->caps & NETDEV_CAP_SG;
	out->tso4 = d->caps & NETDEV_CAP_TSO4;
	out->rx_packets = d->stats.rx_packets;
	out->rx_bytes = d->stats.rx_bytes;
	out->rx_dropped = d->stats.rx_dropped;
	out->tx_packets = d->stats.tx_packets;
	out->tx_bytes = d->stats.tx_bytes;
	out->tx_errors = d->stats.tx_errors;
}

void net_if_features(const struct net_if *nif, char *buf, size_t size)
{
	struct netdev *d = nif->dev;

	if (!size)
		return;
	if (d->ops && d->ops->describe) {
		d->ops->describe(d, buf, size);
		return;
	}
	ksnprintf(buf, size, "%s%s%s%s", d->caps & NETDEV_CAP_RX_CSUM ? "RX_CSUM " : "",
		  d->caps & NETDEV_CAP_TX_CSUM ? "TX_CSUM " : "", d->caps & NETDEV_CAP_SG ? "SG " : "",
		  d->caps & NETDEV_CAP_TSO4 ? "TSO4" : "");
}

void net_tick(struct net_if *nif, uint64_t now)
{
	arp_tick(nif, now);
	ip4_frag_tick(nif, now);
	if (nif->tcp)
		tcp_tick(nif, now);
	netdev_flush(nif->dev);
}

uint64_t net_next_deadline(const struct net_if *nif)
{
	uint64_t a = arp_next_deadline(nif);
	uint64_t f = ip4_frag_next_deadline(nif);
	uint64_t t = nif->tcp ? tcp_next_deadline(nif) : UINT64_MAX;
	a = a < f ? a : f;
	return a < t ? a : t;
}
