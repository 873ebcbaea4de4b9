/*
 * wire/eth.h - the Ethernet II header as it is on the wire (IEEE 802.3).
 *
 * Multi-byte fields are byte arrays in network order, read and written
 * with net_get16()/net_put16() (net_priv.h), so the struct has alignment 1
 * and may overlay any byte of a buffer.
 */
#ifndef NET_WIRE_ETH_H
#define NET_WIRE_ETH_H

#include <stdint.h>

#define ETH_ALEN 6
#define ETH_HDR_LEN 14
#define ETH_MIN_FRAME 60        /* without FCS; shorter frames arrive padded or from virtual links */
#define ETH_MAX_FRAME 1514      /* without FCS, at the standard 1500-byte MTU */
#define ETH_MTU 1500

#define ETH_TYPE_IP4 0x0800
#define ETH_TYPE_ARP 0x0806
#define ETH_TYPE_VLAN 0x8100
#define ETH_TYPE_IP6 0x86dd
#define ETH_TYPE_MIN 0x0600     /* smaller values are 802.3 lengths, not types */

struct eth_hdr {
	uint8_t dst[ETH_ALEN];
	uint8_t src[ETH_ALEN];
	uint8_t type[2];
};

_Static_assert(sizeof(struct eth_hdr) == ETH_HDR_LEN, "eth_hdr size");

/* The group bit: set in multicast and broadcast addresses. */
#define ETH_IS_GROUP(mac) (((mac)[0] & 1) != 0)

#endif
