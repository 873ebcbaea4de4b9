/*
 * netdev.h - the narrow interface between network devices and the stack.
 *
 * A driver (virtio-net, the hosted TAP runner, a test's fake) fills a
 * struct netdev: its ops, capabilities, MAC and MTU. The stack sends
 * packets with netdev_xmit() and asks for one notification per loop pass
 * with netdev_flush(); the driver hands every received frame to
 * netdev_input(). That is the whole contact surface (after Solo5).
 *
 * Ownership: netdev_xmit() and netdev_input() consume the nbuf, on
 * success and failure alike. A driver's xmit op owns the chain from the
 * call on: it frees it (nbuf_free) when the device has completed the
 * send - which is what runs the done callbacks of borrowed segments - or
 * at once when it cannot queue it. Received frames start at data (the
 * Ethernet header), with at least NBUF_RX_HEADROOM bytes before it.
 */
#ifndef NET_NETDEV_H
#define NET_NETDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nbuf.h"
#include "wire/eth.h"

/* capability flags */
#define NETDEV_CAP_RX_CSUM 0x1   /* sets NBUF_F_CSUM_VALID on verified frames */
#define NETDEV_CAP_TX_CSUM 0x2   /* honours NBUF_F_CSUM_PARTIAL */
#define NETDEV_CAP_SG      0x4   /* transmits chains; else netdev linearizes */
#define NETDEV_CAP_TSO4    0x8   /* honours gso_size for TCP/IPv4 (else gso.c cuts) */

struct netdev;
struct net_if;

struct netdev_ops {
	/* Queues one packet (a chain, data at the Ethernet header) for
	 * transmission; consumes nb. K_OK, or K_EAGAIN when the ring is full
	 * (nb freed), or another error (nb freed). */
	int (*xmit)(struct netdev *dev, struct nbuf *nb);
	/* Notifies the device of everything queued since the last flush;
	 * may be NULL. Called once per loop pass, not per packet. */
	void (*flush)(struct netdev *dev);
	/* Writes the names of the device's negotiated features into buf
	 * (NUL-terminated); may be NULL (the offload flags are shown). */
	void (*describe)(struct netdev *dev, char *buf, size_t size);
};

struct netdev_stats {
	uint64_t rx_packets, rx_bytes, rx_dropped;  /* rx_dropped: no stack attached */
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_errors;                          /* xmit op refused (ring full, ...) */
	uint64_t tx_sw_csum;                         /* offload done in software */
	uint64_t tx_linearized;                      /* chains copied for a non-SG device */
	uint64_t tx_sw_gso;                          /* TSO packets cut in software */
	uint64_t tx_bad;                             /* malformed offload request dropped */
};

struct netdev {
	const struct netdev_ops *ops;
	void *priv;                      /* the driver's */
	const char *name;
	uint8_t mac[ETH_ALEN];
	uint16_t mtu;                    /* IP MTU, normally 1500 */
	uint32_t caps;
	struct net_if *nif;              /* set by net_if_init() */
	struct nbuf_pool *tx_pool;       /* for linearizing on non-SG devices */
	struct netdev_stats stats;
};

/* A driver delivers a received frame; consumes nb. */
void netdev_input(struct netdev *dev, struct nbuf *nb);
/* The stack transmits a frame; consumes nb. Completes a checksum the
 * device cannot offload, and flattens chains for devices without SG. */
int netdev_xmit(struct netdev *dev, struct nbuf *nb);
/* Ends a batch of transmissions (one device notification). */
void netdev_flush(struct netdev *dev);
/* The pool the driver takes receive buffers from: its interface's
 * packet pool (the device must be attached: dev->nif set). */
struct nbuf_pool *netdev_rx_pool(const struct netdev *dev);

#endif
