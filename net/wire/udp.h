/*
 * wire/udp.h - the UDP header (RFC 768).
 */
#ifndef NET_WIRE_UDP_H
#define NET_WIRE_UDP_H

#include <stdint.h>

#define UDP_HDR_LEN 8

struct udp_hdr {
	uint8_t sport[2];
	uint8_t dport[2];
	uint8_t len[2];             /* header and data */
	uint8_t csum[2];            /* 0: none sent (IPv4 only) */
};

_Static_assert(sizeof(struct udp_hdr) == UDP_HDR_LEN, "udp_hdr size");

#endif
