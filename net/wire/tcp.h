/*
 * wire/tcp.h - the TCP header (RFC 9293 3.1) and its options (RFC 9293
 * 3.2, RFC 7323, RFC 2018).
 */
#ifndef NET_WIRE_TCP_H
#define NET_WIRE_TCP_H

#include <stdint.h>

#define TCP_HDR_LEN 20              /* without options */
#define TCP_HDR_MAX 60              /* data offset is 4 bits of 32-bit words */
#define TCP_OPT_MAX (TCP_HDR_MAX - TCP_HDR_LEN)

/* flags (the low byte of the offset/flags word) */
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define TCP_URG 0x20
#define TCP_ECE 0x40
#define TCP_CWR 0x80

/* option kinds */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2                /* len 4, SYN only (RFC 9293 3.7.1) */
#define TCPOPT_WS 3                 /* len 3, SYN only (RFC 7323 2) */
#define TCPOPT_SACK_PERM 4          /* len 2, SYN only (RFC 2018 2) */
#define TCPOPT_SACK 5               /* len 2 + 8n (RFC 2018 3) */
#define TCPOPT_TS 8                 /* len 10 (RFC 7323 3) */

#define TCPOLEN_MSS 4
#define TCPOLEN_WS 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TS 10
#define TCPOLEN_TS_ALIGNED 12       /* NOP NOP TS */

struct tcp_hdr {
	uint8_t sport[2];
	uint8_t dport[2];
	uint8_t seq[4];
	uint8_t ack[4];
	uint8_t off;                /* data offset in words << 4 */
	uint8_t flags;
	uint8_t wnd[2];
	uint8_t csum[2];
	uint8_t urg[2];
};

_Static_assert(sizeof(struct tcp_hdr) == TCP_HDR_LEN, "tcp_hdr size");

#endif
