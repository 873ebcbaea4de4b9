/*
 * net_priv.h - what the stack's files share and apps never see.
 *
 *  - the limits (one place, with their reasons);
 *  - the wire-access primitives: net_take(), the one checked read every
 *    parser uses, and byte-order loads and stores;
 *  - struct net_if, the state of one interface on one core;
 *  - the internal entry points of each layer.
 *
 * Every function taking a `struct nbuf *` consumes it (nbuf.h).
 */
#ifndef NET_NET_PRIV_H
#define NET_NET_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/net.h>
#include <kiln/time.h>

#include "nbuf.h"
#include "netdev.h"
#include "stats.h"
#include "wire/arp.h"
#include "wire/eth.h"
#include "wire/icmp.h"
#include "wire/ip4.h"
#include "wire/udp.h"

/* ---- limits ----------------------------------------------------------- */

/* ARP. 64 neighbours covers a server's subnet peers plus the gateway.
 * What a flood of spoofed on-link sources may take (arp.c): at most
 * ARP_MAX_PENDING entries are unresolved at once, and a new entry never
 * replaces the gateway or a neighbour that carried traffic within
 * ARP_IN_USE_NS - it takes a free, stale or unresolved one, or the packet
 * that wanted it is dropped (a SYN-ACK's SYN cookie makes that safe: the
 * peer retries). Requests for new neighbours are limited to
 * ARP_REQ_PER_SEC a second per interface (retries of one neighbour keep
 * RFC 1122's one a second). */
#define ARP_CACHE_SIZE 64
#define ARP_MAX_PENDING (ARP_CACHE_SIZE / 4)
#define ARP_IN_USE_NS (30 * NS_PER_SEC)
#define ARP_REQ_PER_SEC 32
/* Packets held per unresolved neighbour (RFC 1122 2.3.2.2 asks for at
 * least one), and buffers held in all - counted in buffers, not packets,
 * as one waiting datagram may be a 64 KiB chain - so a scan of dead or
 * spoofed addresses cannot pin more than a small share of the pool. */
#define ARP_QUEUE_PER_ENTRY 4
#define ARP_QUEUE_NBUFS 64
/* Requests are retried each second, three in all, then the queue drops
 * (RFC 1122 2.3.2.1: at most one request a second per destination). */
#define ARP_RETRY_NS (1 * NS_PER_SEC)
#define ARP_MAX_REQUESTS 3
/* A resolved entry lives 60 s; one used in its last 5 s is refreshed by
 * a unicast request so busy flows never stall on re-resolution. */
#define ARP_ENTRY_TTL_NS (60 * NS_PER_SEC)
#define ARP_REFRESH_NS (5 * NS_PER_SEC)
/* RFC 5227 2.3: ANNOUNCE_NUM 2, ANNOUNCE_INTERVAL 2 s; 2.4: DEFEND_INTERVAL 10 s. */
#define ARP_ANNOUNCE_NUM 2
#define ARP_ANNOUNCE_INTERVAL_NS (2 * NS_PER_SEC)
#define ARP_DEFEND_INTERVAL_NS (10 * NS_PER_SEC)

/* IPv4. RFC 1700's recommended TTL, as Linux. */
#define IP4_DEFAULT_TTL 64
/* Reassembly: 8 datagrams at once and 96 buffers in all (two largest
 * datagrams of 45 full fragments each, a small share of a core's pool).
 * Time limit 10 s, shorter than RFC 791's 15 s and RFC 1122's 60-120 s:
 * on the data-centre and LAN links Kiln serves, fragments arrive within
 * milliseconds of each other; a long timer only lets a peer pin buffers
 * longer, and at high rates the 16-bit ID wraps sooner than 60 s, so a
 * shorter timer also cuts misassembly (RFC 4963 section 2). */
#define IP4_REASM_MAX_DGRAMS 8
#define IP4_REASM_MAX_NBUFS 96
#define IP4_REASM_TIMEOUT_NS (10 * NS_PER_SEC)
/* Path MTU (RFC 1191): 16 destinations, entries expire after 10 minutes
 * (RFC 1191 6.3), and no report lowers a path below 552 bytes (Linux's
 * min_pmtu: forged "fragmentation needed" must not shrink segments to
 * nothing). A report quoting TCP is believed only for a segment in
 * flight (RFC 5927); one quoting anything else (UDP, which has no state
 * to check it against) may not take the slot of a live entry that a
 * checked TCP report made, so the table cannot be churned from outside. */
#define IP4_PMTU_ENTRIES 16
#define IP4_PMTU_MIN 552
#define IP4_PMTU_TIMEOUT_NS (600 * NS_PER_SEC)

/* ICMP errors: a token bucket of 100 a second with bursts of 20, so a
 * flood to closed ports cannot turn Kiln into an amplifier (RFC 1812
 * 4.3.2.8). Errors quote the offending datagram up to 576 bytes in all
 * (RFC 1812 4.3.2.3). */
#define ICMP_RATE_PER_SEC 100
#define ICMP_BURST 20
#define ICMP_ERR_MAX_LEN 576

/* UDP: bound ports hash into 64 chains; ephemeral ports per RFC 6335. */
#define UDP_HASH_SIZE 64
#define UDP_EPHEMERAL_MIN 49152u

/* ---- wire access -------------------------------------------------------- */

/*
 * The one checked read: returns the next n bytes of [*src, end) and
 * advances *src past them, or returns NULL and leaves *src when fewer
 * than n remain. Parsers read every field through a pointer it returned.
 */
static inline const uint8_t *net_take(const uint8_t **src, const uint8_t *end, size_t n)
{
	const uint8_t *p = *src;
	if ((size_t)(end - p) < n)
		return NULL;
	*src = p + n;
	return p;
}

static inline uint16_t net_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t net_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline void net_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void net_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#define NET_STAT(nif, field) ((nif)->stats.field++)

/* ---- per-interface state ----------------------------------------------- */

enum arp_state { ARP_FREE = 0, ARP_PENDING, ARP_VALID };

struct arp_entry {
	uint32_t ip;
	uint8_t mac[ETH_ALEN];
	uint8_t state;              /* enum arp_state */
	uint8_t tries;              /* requests sent while pending */
	uint8_t qlen;               /* packets waiting */
	bool refreshing;
	uint16_t qsegs;             /* buffers they hold */            /* a unicast refresh is out */
	uint64_t expires;           /* valid: end of life; pending: next retry */
	uint64_t last_used;
	struct nbuf *q_head, *q_tail;   /* waiting packets, IP header first */
};

struct arp_table {
	struct arp_entry e[ARP_CACHE_SIZE];
	uint32_t queued;                /* buffers over all queues */
	uint32_t pending;               /* entries in ARP_PENDING */
	uint32_t req_count;             /* requests for new neighbours this second */
	uint64_t req_sec;
	uint8_t hint;                   /* index of the last lookup hit */
	uint8_t announces_left;
	uint64_t next_announce;
	uint64_t last_defend;
};

struct ip4_reasm_dgram {
	bool used;
	bool have_last;
	uint8_t proto;
	uint16_t id;
	uint32_t src, dst;
	uint32_t total;             /* payload length, known once have_last */
	uint32_t received;          /* payload bytes held (no overlaps) */
	uint32_t nbufs;             /* segments held */
	uint64_t deadline;
	struct nbuf *frags;         /* sorted by offset via link; data at IP header */
};

struct ip4_reasm {
	struct ip4_reasm_dgram d[IP4_REASM_MAX_DGRAMS];
	uint32_t nbufs;             /* held over all datagrams */
};

struct ip4_pmtu {
	uint32_t dst;               /* 0: unused */
	uint16_t mtu;
	bool verified;              /* from a report matching a TCP connection */
	uint64_t expires;
};

struct icmp_bucket {
	uint64_t tokens_ns;         /* tokens scaled by 1e9/RATE: ns of credit */
	uint64_t last;
};

/* What IPv4 input learned, handed to the transport with the payload. */
struct ip4_info {
	const uint8_t *hdr;         /* the IPv4 header, still in the buffer */
	uint32_t src, dst;          /* host order */
	uint16_t hdr_len;
	uint8_t proto, ttl, tos;
	bool to_bcast;              /* sent to a broadcast address (IP or link) */
	bool reassembled;
};

typedef void (*ip4_proto_fn)(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip);

struct tcp_stack;

struct net_if {
	struct netdev *dev;
	struct nbuf_pool *pool;     /* buffers for packets built here */
	struct nbuf_pool *refs;     /* descriptors for borrowed spans */
	uint32_t addr, mask, gw, bcast, dns;   /* host order; 0 = none */
	uint8_t prefix;
	uint16_t mtu;
	uint16_t ip_id;
	uint16_t udp_next_port;
	struct arp_table arp;
	struct ip4_reasm reasm;
	struct ip4_pmtu pmtu[IP4_PMTU_ENTRIES];
	struct icmp_bucket icmp_rl;
	struct udp_pcb *udp_hash[UDP_HASH_SIZE];
	ip4_proto_fn tcp_input;     /* set by TCP when linked; NULL: unreachable */
	struct tcp_stack *tcp;      /* tcp_if_init(); NULL: no TCP */
	struct net_stats stats;
};

/* ---- layer entry points ------------------------------------------------- */

/* net.c */
/* Initialises nif for dev (unconfigured: address 0) and attaches it. */
void net_if_init(struct net_if *nif, struct netdev *dev, struct nbuf_pool *pool,
		 struct nbuf_pool *refs);

/* eth.c */
void eth_input(struct net_if *nif, struct nbuf *nb);
/* Pushes an Ethernet header to dst and transmits; consumes nb. */
int eth_output(struct net_if *nif, struct nbuf *nb, const uint8_t dst[ETH_ALEN], uint16_t type);
extern const uint8_t eth_broadcast[ETH_ALEN];

/* arp.c */
void arp_input(struct net_if *nif, struct nbuf *nb);
/* Sends the datagram nb (data at its IPv4 header) to the on-link
 * neighbour next_hop through ip4_transmit(), resolving it first if needed
 * (queued meanwhile). Consumes nb. K_OK when sent or queued; K_ENOSPC
 * when the queue was full (dropped). */
int arp_output(struct net_if *nif, struct nbuf *nb, uint32_t next_hop);
/* Starts the RFC 5227 announcements for the current address. */
void arp_announce(struct net_if *nif, uint64_t now);
/* Resolves ip ahead of need (the gateway at configure time), so the first
 * packet to it does not wait for ARP: a request now, retried as for a
 * queued packet; nothing if ip is cached or being resolved. */
void arp_prime(struct net_if *nif, uint32_t ip, uint64_t now);
void arp_tick(struct net_if *nif, uint64_t now);
uint64_t arp_next_deadline(const struct net_if *nif);
/* Drops every entry and queued packet. */
void arp_flush(struct net_if *nif);
/* The cached MAC of ip, or false. For tests and telemetry. */
bool arp_lookup(const struct net_if *nif, uint32_t ip, uint8_t mac[ETH_ALEN]);

/* ip4.c */
void ip4_input(struct net_if *nif, struct nbuf *nb);
#define IP4_OUT_DF 0x1          /* never fragment: K_EMSGSIZE if too big */
/* Sends nb (data at the transport header) from src (0: the interface
 * address) to dst. Pushes the header, routes, fragments when needed and
 * allowed, resolves the next hop. Consumes nb. */
int ip4_output(struct net_if *nif, struct nbuf *nb, uint32_t src, uint32_t dst,
	       uint8_t proto, unsigned flags);
/* Sends a datagram (data at its IPv4 header, checksum not yet filled)
 * to the neighbour mac, fragmenting it if it exceeds the path MTU and
 * DF is clear. Consumes nb. */
int ip4_transmit(struct net_if *nif, struct nbuf *nb, const uint8_t mac[ETH_ALEN]);
/* The MTU to dst: the device's, or lower if learned (RFC 1191). */
uint16_t ip4_pmtu_get(struct net_if *nif, uint32_t dst, uint64_t now);
/* Records a lower path MTU for dst; returns true if it lowered one. */
bool ip4_pmtu_update(struct net_if *nif, uint32_t dst, uint16_t mtu, uint64_t now, bool verified);
/* tcp_icmp.c: an ICMP error's quoted TCP segment (our laddr:lport to
 * raddr:rport, sequence seq) is in flight on a connection (RFC 5927). */
bool tcp_icmp_quote_ok(struct net_if *nif, uint32_t laddr, uint32_t raddr, uint16_t lport,
		       uint16_t rport, uint32_t seq);
/* True if a is a broadcast for this interface (limited or subnet). */
bool ip4_is_bcast(const struct net_if *nif, uint32_t a);

/* ip4_frag.c */
/* Takes a fragment (data at its IPv4 header, validated, trimmed).
 * Returns the whole datagram (data at a rewritten unfragmented header,
 * payload chained) when this fragment completed it, else NULL. */
struct nbuf *ip4_frag_input(struct net_if *nif, struct nbuf *nb, uint64_t now);
/* Sends nb (data at a filled IPv4 header, too big for mtu) as fragments
 * to mac, copying the payload into fresh buffers (a slow path: Kiln's
 * own traffic fits the MTU; large echo replies and UDP sends do not).
 * Consumes nb. */
int ip4_frag_output(struct net_if *nif, struct nbuf *nb, uint16_t mtu, const uint8_t mac[ETH_ALEN]);
void ip4_frag_tick(struct net_if *nif, uint64_t now);
uint64_t ip4_frag_next_deadline(const struct net_if *nif);
void ip4_frag_flush(struct net_if *nif);

/* icmp.c */
void icmp_input(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip);
/* Sends an ICMP error about the datagram whose header is ip->hdr and
 * whose payload starts at orig's data (orig is only read). Applies
 * RFC 1122 3.2.2's "never about" rules and the rate limit. */
void icmp_send_error(struct net_if *nif, const struct nbuf *orig, const struct ip4_info *ip,
		     uint8_t type, uint8_t code, uint32_t rest);

/* tcp_timer.c: TCP's timers, run from net_tick (nif->tcp set) */
void tcp_tick(struct net_if *nif, uint64_t now);
uint64_t tcp_next_deadline(const struct net_if *nif);

/* udp.c */
void udp_input(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip);

/* An on-link next hop or the gateway; K_ENOENT without a route. */
int ip4_route(const struct net_if *nif, uint32_t dst, uint32_t *next_hop);

#endif
