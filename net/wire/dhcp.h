/*
 * wire/dhcp.h - the DHCP message (RFC 2131 2, on the BOOTP layout of
 * RFC 951) and the option codes Kiln's client uses (RFC 2132).
 */
#ifndef NET_WIRE_DHCP_H
#define NET_WIRE_DHCP_H

#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* The fixed part, up to and including the magic cookie. */
#define DHCP_FIXED_LEN 240
#define DHCP_SNAME_LEN 64
#define DHCP_FILE_LEN 128
/* RFC 1542 2.1: relays may drop BOOTP messages shorter than 300 bytes. */
#define DHCP_MIN_MSG 300
/* RFC 2131 2: every client must accept 576-byte IP datagrams, so a
 * message of 576 - 28 = 548 bytes is always deliverable. */
#define DHCP_MIN_MAX_MSG 548

struct dhcp_hdr {
	uint8_t op;                 /* 1 BOOTREQUEST, 2 BOOTREPLY */
	uint8_t htype;              /* 1 Ethernet */
	uint8_t hlen;               /* 6 */
	uint8_t hops;
	uint8_t xid[4];
	uint8_t secs[2];
	uint8_t flags[2];           /* DHCP_FLAG_BROADCAST */
	uint8_t ciaddr[4];
	uint8_t yiaddr[4];
	uint8_t siaddr[4];
	uint8_t giaddr[4];
	uint8_t chaddr[16];
	uint8_t sname[DHCP_SNAME_LEN];
	uint8_t file[DHCP_FILE_LEN];
	uint8_t cookie[4];          /* 99.130.83.99 */
};

_Static_assert(sizeof(struct dhcp_hdr) == DHCP_FIXED_LEN, "dhcp_hdr size");

#define DHCP_OP_REQUEST 1
#define DHCP_OP_REPLY 2
#define DHCP_HTYPE_ETH 1
#define DHCP_FLAG_BROADCAST 0x8000
#define DHCP_COOKIE 0x63825363u

/* Options (RFC 2132). */
#define DHCP_OPT_PAD 0
#define DHCP_OPT_SUBNET_MASK 1
#define DHCP_OPT_ROUTER 3
#define DHCP_OPT_DNS 6
#define DHCP_OPT_REQUESTED_IP 50
#define DHCP_OPT_LEASE_TIME 51
#define DHCP_OPT_OVERLOAD 52
#define DHCP_OPT_MSG_TYPE 53
#define DHCP_OPT_SERVER_ID 54
#define DHCP_OPT_PARAM_LIST 55
#define DHCP_OPT_MAX_MSG_SIZE 57
#define DHCP_OPT_T1 58
#define DHCP_OPT_T2 59
#define DHCP_OPT_CLIENT_ID 61
#define DHCP_OPT_END 255

/* Option 52 values: which of file and sname carry options. */
#define DHCP_OVERLOAD_FILE 1
#define DHCP_OVERLOAD_SNAME 2

/* Message types (option 53). */
#define DHCP_DISCOVER 1
#define DHCP_OFFER 2
#define DHCP_REQUEST 3
#define DHCP_DECLINE 4
#define DHCP_ACK 5
#define DHCP_NAK 6
#define DHCP_RELEASE 7
#define DHCP_INFORM 8

#endif
