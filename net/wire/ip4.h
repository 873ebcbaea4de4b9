/*
 * wire/ip4.h - the IPv4 header (RFC 791 section 3.1).
 */
#ifndef NET_WIRE_IP4_H
#define NET_WIRE_IP4_H

#include <stdint.h>

#define IP4_HDR_LEN 20              /* without options */
#define IP4_HDR_MAX 60              /* IHL is 4 bits of 32-bit words */
#define IP4_MAX_LEN 65535           /* the total-length field */
#define IP4_MIN_MTU 68              /* RFC 791: every host must pass 68 */

#define IP4_FLAG_DF 0x4000          /* in the flags/offset word */
#define IP4_FLAG_MF 0x2000
#define IP4_OFF_MASK 0x1fff         /* in 8-byte units */

#define IP4_PROTO_ICMP 1
#define IP4_PROTO_TCP 6
#define IP4_PROTO_UDP 17

struct ip4_hdr {
	uint8_t ver_ihl;            /* version 4 << 4 | header length in words */
	uint8_t tos;
	uint8_t total_len[2];
	uint8_t id[2];
	uint8_t frag[2];            /* flags (3 bits) and fragment offset */
	uint8_t ttl;
	uint8_t proto;
	uint8_t csum[2];
	uint8_t src[4];
	uint8_t dst[4];
};

_Static_assert(sizeof(struct ip4_hdr) == IP4_HDR_LEN, "ip4_hdr size");

/* The pseudo-header TCP and UDP checksums cover (RFC 768, RFC 9293 3.1). */
struct ip4_pseudo {
	uint8_t src[4];
	uint8_t dst[4];
	uint8_t zero;
	uint8_t proto;
	uint8_t len[2];
};

_Static_assert(sizeof(struct ip4_pseudo) == 12, "ip4_pseudo size");

#endif
