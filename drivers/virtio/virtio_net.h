/*
 * virtio_net.h - the virtio network device driver (virtio 1.2 section 5.1).
 *
 * The driver registers for device id 1, drives every virtio-net device
 * the transports find (PCI or MMIO), and attaches each to the stack with
 * netstack_attach(): from then on the stack sees it only as a struct
 * netdev. What is here is for telemetry and tests: which devices exist,
 * what they negotiated, their link state and their counters.
 *
 * Everything runs on the core that owns the device's queue pair (today
 * the boot core); nothing here locks.
 */
#ifndef KILN_VIRTIO_NET_H
#define KILN_VIRTIO_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/netdev.h"

/* Feature bits of the network device (5.1.3). */
#define VIRTIO_NET_F_CSUM 0
#define VIRTIO_NET_F_GUEST_CSUM 1
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MTU 3
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23
#define VIRTIO_NET_F_SPEED_DUPLEX 63

/* Per queue pair and per device counters (all monotonic since boot). */
struct virtio_net_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_csum_valid;      /* device said DATA_VALID or NEEDS_CSUM */
	uint64_t rx_merged;          /* packets that took more than one buffer */
	uint64_t rx_bad_len;         /* used length too short / too long (dropped) */
	uint64_t rx_bad_nbufs;       /* num_buffers 0 or beyond the limit (dropped) */
	uint64_t rx_bad_gso;         /* a GSO packet we never asked for (dropped) */
	uint64_t rx_tso;             /* large TCP packets taken (GUEST_TSO4) */
	uint64_t rx_no_buf;          /* refills the pool could not serve */
	uint64_t rx_kicks, rx_notifies;
	uint64_t tx_packets, tx_bytes, tx_completed;
	uint64_t tx_ring_full;       /* xmit refused with K_EAGAIN (frame freed) */
	uint64_t tx_bad;             /* no headroom for the header, too many
				      * segments, bad offload request (dropped) */
	uint64_t tx_csum_offload, tx_tso;
	uint64_t tx_kicks, tx_notifies;
	uint64_t interrupts;         /* used-buffer interrupts taken */
	uint64_t polls;              /* poller passes that found work */
	uint64_t bad_device;         /* used ring ids/lengths/indices rejected */
	uint32_t rx_posted;          /* receive buffers the device holds now */
	uint32_t tx_inflight;        /* frames the device holds now */
};

struct virtio_net_info {
	const char *name;            /* the transport's device name */
	uint8_t mac[6];
	uint16_t mtu;
	uint16_t max_pairs;          /* queue pairs the device offers */
	uint16_t pairs;              /* queue pairs in use */
	uint16_t rx_size, tx_size;   /* ring entries */
	uint64_t features;           /* negotiated (device-specific and reserved) */
	bool link_up;                /* from config status (true without STATUS) */
	bool irq;                    /* interrupts wake the loop; else polled by a timer */
};

/* Number of virtio-net devices driven. */
unsigned virtio_net_count(void);
/* The netdev of device i, NULL if there is none. */
struct netdev *virtio_net_netdev(unsigned i);
/* Fills *out for device i (link state read from the device now).
 * K_OK or K_ENODEV. */
int virtio_net_get_info(unsigned i, struct virtio_net_info *out);
/* Sums the counters of device i's queue pairs into *out. K_OK or K_ENODEV. */
int virtio_net_get_stats(unsigned i, struct virtio_net_stats *out);
/* Formats the names of the negotiated feature bits f (net and reserved). */
void virtio_net_features_str(uint64_t f, char *buf, size_t size);

#endif
