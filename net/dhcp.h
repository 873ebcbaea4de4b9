/*
 * dhcp.h - Kiln's DHCP client (RFC 2131), one per interface.
 *
 * The client is an engine on the stack's UDP: it binds port 68 on its
 * interface, sends through udp_sendto(), and applies a lease with
 * net_if_configure(). It never reads the clock: every entry point takes
 * now, and dhcp_next_deadline() says when dhcp_tick() has work next, so
 * netstack.c drives it from the interface's one timer and tests drive it
 * with virtual time. Randomness (xid, jitter) comes from random_u32().
 *
 * State machine (RFC 2131 4.4, figure 5), without INIT-REBOOT:
 *
 *   INIT --DISCOVER--> SELECTING --OFFER/REQUEST--> REQUESTING --ACK--> BOUND
 *   BOUND --T1--> RENEWING (unicast REQUEST to the server)
 *   RENEWING --T2--> REBINDING (broadcast REQUEST)
 *   RENEWING/REBINDING --ACK--> BOUND;  --NAK or lease end--> INIT
 *   REQUESTING --NAK or no answer--> INIT
 *
 * Ownership: struct dhcp is caller-allocated and must stay in place from
 * dhcp_start() to dhcp_stop() (its udp_pcb is linked into the interface).
 * All calls happen on the interface's core, from the loop.
 */
#ifndef NET_DHCP_H
#define NET_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/net.h>

/* DNS servers kept from option 6. */
#define DHCP_MAX_DNS 3
/* Largest reply accepted: a full Ethernet payload less IP and UDP. */
#define DHCP_MAX_REPLY 1472

enum dhcp_state {
	DHCP_STOPPED = 0,
	DHCP_INIT,          /* waiting to send a DISCOVER */
	DHCP_SELECTING,     /* DISCOVER sent, waiting for an OFFER */
	DHCP_REQUESTING,    /* REQUEST sent for an OFFER, waiting for ACK/NAK */
	DHCP_BOUND,
	DHCP_RENEWING,
	DHCP_REBINDING,
};

/* What a reply carried, as dhcp_parse() found it. Addresses and times
 * in host order; times in seconds as on the wire. */
#define DHCP_HAVE_MASK   0x01
#define DHCP_HAVE_ROUTER 0x02
#define DHCP_HAVE_LEASE  0x04
#define DHCP_HAVE_SERVER 0x08
#define DHCP_HAVE_T1     0x10
#define DHCP_HAVE_T2     0x20

struct dhcp_msg {
	uint8_t op, type;           /* type: option 53, 0 if absent */
	uint32_t xid;
	uint8_t chaddr[6];
	uint32_t yiaddr, siaddr;
	uint32_t have;              /* DHCP_HAVE_* */
	uint32_t mask, router, server_id;
	uint32_t lease_s, t1_s, t2_s;
	uint32_t dns[DHCP_MAX_DNS];
	uint8_t ndns;
};

/* What the client got (the lease in force, or the one being renewed). */
struct dhcp_lease {
	uint32_t addr, server;
	uint8_t prefix;
	uint32_t router;            /* 0: none usable */
	uint32_t dns[DHCP_MAX_DNS];
	uint8_t ndns;
	uint32_t lease_s, t1_s, t2_s;   /* UINT32_MAX lease_s: infinite */
	uint64_t obtained;          /* when the REQUEST that got it went out */
};

struct dhcp_stats {
	uint64_t discovers, requests, renews, rebinds;   /* sent (incl. retries) */
	uint64_t offers, acks, naks;                     /* accepted */
	uint64_t send_errors;       /* udp_sendto() failed */
	uint64_t rx_short;          /* truncated, or longer than DHCP_MAX_REPLY */
	uint64_t rx_malformed;      /* bad fixed fields, cookie or options */
	uint64_t rx_not_ours;       /* a request, or for another chaddr */
	uint64_t rx_wrong_xid;
	uint64_t rx_unexpected;     /* valid, but not wanted in this state */
	uint64_t rx_bad_lease;      /* an OFFER/ACK we cannot use */
	uint64_t restarts;          /* back to INIT: NAK, no answer, bad ACK */
	uint64_t expired;           /* leases that ran out */
};

struct dhcp;
/* Called when the client gains (bound true) or loses a lease. */
typedef void (*dhcp_notify_fn)(struct dhcp *d, bool bound, void *arg);

struct dhcp {
	struct net_if *nif;
	struct udp_pcb pcb;
	enum dhcp_state state;
	uint32_t xid;
	uint64_t started;           /* start of this exchange: secs field */
	uint64_t deadline;          /* next dhcp_tick() work, UINT64_MAX none */
	uint64_t retry_ns;          /* the current retransmission interval */
	unsigned tries;             /* sends in this state */
	uint64_t sent_at;           /* the latest REQUEST: lease times count from it */
	struct dhcp_lease offer;    /* while REQUESTING */
	struct dhcp_lease lease;    /* BOUND, RENEWING, REBINDING */
	uint64_t t1_at, t2_at, end_at;
	dhcp_notify_fn notify;
	void *arg;
	struct dhcp_stats stats;
};

/*
 * Starts the client on nif at now: binds UDP port 68 and schedules the
 * first DISCOVER for now (RFC 2131 4.4.1 suggests a random 1-10 s wait;
 * a unikernel boots in milliseconds and wants its address at once, and
 * the jitter on every retransmission still spreads a fleet's retries).
 * notify (may be NULL) hears of every lease gained or lost. K_OK,
 * K_EADDRINUSE if port 68 is bound, K_EALREADY if d runs.
 */
int dhcp_start(struct dhcp *d, struct net_if *nif, uint64_t now,
	       dhcp_notify_fn notify, void *arg);
/* Stops the client and unbinds; keeps the interface's address. */
void dhcp_stop(struct dhcp *d);
/* Does whatever is due at now: (re)transmissions, T1, T2, expiry. */
void dhcp_tick(struct dhcp *d, uint64_t now);
/* When dhcp_tick() next has work; UINT64_MAX if never. */
uint64_t dhcp_next_deadline(const struct dhcp *d);
/* Hands a received reply to the client (what its UDP callback does);
 * exposed for tests and fuzzing. */
void dhcp_input(struct dhcp *d, const uint8_t *msg, size_t len, uint64_t now);

/*
 * Parses a DHCP message (the UDP payload) into m. K_OK; K_EINVAL if it
 * is shorter than the fixed part; K_EPROTO for bad fixed fields (htype,
 * hlen, cookie) or malformed options. Options are read from the options
 * field, then file and sname when option 52 says so (RFC 2131 4.1); a
 * scalar option seen twice keeps its first value (long-option
 * concatenation, RFC 3396, is not needed for the options read here).
 */
int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_msg *m);

const char *dhcp_state_name(enum dhcp_state s);

#endif
