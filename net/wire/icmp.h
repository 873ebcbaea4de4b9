/*
 * wire/icmp.h - the ICMPv4 header (RFC 792) and the types Kiln uses.
 */
#ifndef NET_WIRE_ICMP_H
#define NET_WIRE_ICMP_H

#include <stdint.h>

#define ICMP_HDR_LEN 8

#define ICMP_ECHO_REPLY 0
#define ICMP_DEST_UNREACH 3
#define ICMP_SOURCE_QUENCH 4
#define ICMP_REDIRECT 5
#define ICMP_ECHO 8
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAM_PROBLEM 12

/* ICMP_DEST_UNREACH codes */
#define ICMP_UNREACH_NET 0
#define ICMP_UNREACH_HOST 1
#define ICMP_UNREACH_PROTO 2
#define ICMP_UNREACH_PORT 3
#define ICMP_UNREACH_NEEDFRAG 4     /* RFC 1191: next-hop MTU in rest[2..3] */

/* ICMP_TIME_EXCEEDED codes */
#define ICMP_EXC_TTL 0
#define ICMP_EXC_REASM 1

struct icmp_hdr {
	uint8_t type;
	uint8_t code;
	uint8_t csum[2];
	uint8_t rest[4];            /* echo: id, seq; needfrag: unused, MTU */
};

_Static_assert(sizeof(struct icmp_hdr) == ICMP_HDR_LEN, "icmp_hdr size");

#endif
