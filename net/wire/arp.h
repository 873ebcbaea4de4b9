/*
 * wire/arp.h - the ARP packet for IPv4 over Ethernet (RFC 826).
 */
#ifndef NET_WIRE_ARP_H
#define NET_WIRE_ARP_H

#include <stdint.h>

#include "eth.h"

#define ARP_HTYPE_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_PKT_LEN 28

struct arp_pkt {
	uint8_t htype[2];           /* ARP_HTYPE_ETHER */
	uint8_t ptype[2];           /* ETH_TYPE_IP4 */
	uint8_t hlen;               /* 6 */
	uint8_t plen;               /* 4 */
	uint8_t op[2];
	uint8_t sha[ETH_ALEN];      /* sender hardware address */
	uint8_t spa[4];             /* sender protocol address */
	uint8_t tha[ETH_ALEN];      /* target hardware address */
	uint8_t tpa[4];             /* target protocol address */
};

_Static_assert(sizeof(struct arp_pkt) == ARP_PKT_LEN, "arp_pkt size");

#endif
