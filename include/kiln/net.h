/*
 * net.h - the network API apps program against: interface configuration
 * and UDP. (TCP's listen/accept/read/write/close join it later, in
 * kiln/tcp.h.)
 *
 * Everything here runs on the run loop of the calling core: callbacks
 * are called from the loop, never from interrupts, and must not wait.
 * Addresses and ports are in host byte order. Errors are kiln/err.h
 * values. Design and buffer rules: docs/networking.md.
 */
#ifndef KILN_NET_H
#define KILN_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/task.h>

/* 10.0.2.15 is NET_IP4(10, 0, 2, 15). */
#define NET_IP4(a, b, c, d) \
	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* One interface on one core (its device queue, ARP cache, bound ports). */
struct net_if;
struct net_stats;
struct nbuf;

/* ---- interface ----------------------------------------------------------- */

struct net_if_config {
	uint32_t addr;          /* 0: unconfigured (only broadcast works) */
	uint8_t prefix;         /* 0..32 */
	uint32_t gateway;       /* 0: none, only on-link destinations */
	uint32_t dns;           /* 0: none; kept for the resolver */
};

/*
 * Sets the address, prefix and gateway, forgets the ARP cache, and
 * announces the address with gratuitous ARP (RFC 5227 3). K_EINVAL for
 * a prefix above 32, an address that is not a unicast host address of
 * its subnet, or a gateway outside the subnet.
 */
int net_if_configure(struct net_if *nif, const struct net_if_config *cfg);
void net_if_get_config(const struct net_if *nif, struct net_if_config *out);
/* The current core's interface once the network is up, else NULL. */
struct net_if *net_if_default(void);
void net_if_set_default(struct net_if *nif);
const struct net_stats *net_if_stats(const struct net_if *nif);

/* The device under an interface, for telemetry. */
struct net_if_hw {
	const char *name;           /* the driver's device name */
	uint8_t mac[6];
	uint16_t mtu;
	bool rx_csum, tx_csum, sg, tso4;    /* offloads the device does */
	uint64_t rx_packets, rx_bytes, rx_dropped;
	uint64_t tx_packets, tx_bytes, tx_errors;
};
void net_if_hw_info(const struct net_if *nif, struct net_if_hw *out);
/* The device's features as text (NUL-terminated in buf): the driver's
 * names for what it negotiated where it has them (virtio-net's feature
 * bits), else the offloads of net_if_hw. */
void net_if_features(const struct net_if *nif, char *buf, size_t size);

/* The interface's packet-buffer pools (receive/transmit buffers, and
 * descriptors for lent spans), for telemetry: fills up to max entries,
 * returns how many. in use = total - free. */
struct net_pool_info {
	const char *name;
	uint32_t total, free, low_water;   /* low_water: fewest free seen */
	uint64_t refused;                  /* allocations refused: pool empty */
	uint32_t buf_bytes;                /* memory one entry takes */
};
unsigned net_if_pools(const struct net_if *nif, struct net_pool_info *out, unsigned max);

/* Every counter of packets dropped or answers withheld, by reason (the
 * stack's and TCP's), as name/value pairs; fills up to max, returns how
 * many. Names are stable identifiers (metric labels). */
struct net_counter {
	const char *name;
	uint64_t value;
};
#define NET_DROPS_MAX 64
unsigned net_if_drops(const struct net_if *nif, struct net_counter *out, unsigned max);
/* TCP connections by state (syn_sent ... time_wait), counted on demand;
 * fills up to max, returns how many (0 without TCP). */
#define NET_TCP_STATES 9
unsigned net_if_tcp_states(const struct net_if *nif, struct net_counter *out, unsigned max);

/*
 * Runs the stack's timers due at now (ARP retries and aging, gratuitous
 * ARP, reassembly time limits). The loop calls it at or after
 * net_next_deadline(); calling it more often is harmless.
 */
void net_tick(struct net_if *nif, uint64_t now);
/* The next time net_tick() has work, UINT64_MAX if none. */
uint64_t net_next_deadline(const struct net_if *nif);

/* ---- bring-up (net/netstack.c) ---------------------------------------------
 *
 * A driver attaching its device (netstack.h) creates the interface and
 * configures it from the command line (ip=ADDR/PREFIX gw=ADDR dns=ADDR)
 * or starts DHCP. Apps wait for the result with these. "Up" means the
 * default interface exists and has an address.
 */

/*
 * Waits, inside a task, until the network is up. K_OK; K_ETIMEDOUT after
 * timeout_ns (0: no limit); K_ENODEV when no interface was attached (the
 * drivers have all run before app_main, so none will come). Outside a
 * task it cannot wait: K_OK if up, else K_EAGAIN.
 */
int net_up(uint64_t timeout_ns);

typedef void (*net_up_fn)(struct net_if *nif, void *arg);
/*
 * Calls fn(nif, arg) once, from the loop, when the network is up - at
 * once, before returning, if it already is. For loop code, which cannot
 * wait. K_OK, K_ENOSPC when NET_ON_UP_MAX callbacks are already pending.
 */
#define NET_ON_UP_MAX 8
int net_on_up(net_up_fn fn, void *arg);

/* What the DHCP client of an interface holds (net_dhcp_info). */
struct net_dhcp_info {
	bool active;                /* the client runs (no ip= was given) */
	bool bound;                 /* a lease is in force */
	const char *state;          /* "selecting", "bound", "renewing", ... */
	uint32_t addr, server, router;
	uint8_t prefix;
	uint32_t dns[3];
	uint8_t ndns;
	uint32_t lease_s, t1_s, t2_s;   /* as granted; lease_s 0xffffffff: infinite */
	uint64_t obtained_ns;       /* time_now_ns() the lease counts from */
};
/* Fills out for nif (NULL: the default interface). K_OK; K_ENODEV when
 * nif is not an interface netstack attached. */
int net_dhcp_info(const struct net_if *nif, struct net_dhcp_info *out);

/* ---- UDP ------------------------------------------------------------------ */

struct udp_pcb;

/*
 * A received datagram, as a view into the receive buffer: valid only
 * until the callback returns (copy what must outlive it). The payload's
 * first len bytes are contiguous at data; total_len is larger only for a
 * datagram that arrived in IP fragments, whose rest udp_rx_copy() reads.
 */
struct udp_rx {
	uint32_t src_addr, dst_addr;
	uint16_t src_port, dst_port;
	const uint8_t *data;
	size_t len;
	size_t total_len;
	const struct nbuf *nb;      /* the datagram, for udp_rx_copy() */
	size_t nb_off;              /* where the payload starts in nb */
};

typedef void (*udp_recv_fn)(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg);
/* Called once when the stack no longer needs a borrowed payload. */
typedef void (*net_done_fn)(void *arg);

/* Caller-allocated; the fields are the stack's. Keep it in place while bound. */
struct udp_pcb {
	struct udp_pcb *next;
	struct net_if *nif;
	uint16_t port;
	bool bound;
	udp_recv_fn recv;
	void *arg;
};

/*
 * Binds pcb to port on nif (0: an ephemeral port, read it from
 * pcb->port) and delivers every datagram to that port to recv(arg).
 * K_EADDRINUSE if the port is taken, K_EALREADY if pcb is bound.
 */
int udp_bind(struct udp_pcb *pcb, struct net_if *nif, uint16_t port,
	     udp_recv_fn recv, void *arg);
/* Unbinds; harmless if not bound. Safe inside its own callback. */
void udp_unbind(struct udp_pcb *pcb);

/*
 * Sends a copy of [data, data+len) from pcb's port to addr:port. Returns
 * K_OK once the datagram is sent or waiting for ARP, K_EMSGSIZE above
 * 65507 bytes, K_ENOENT without a route, K_ENOMEM when buffers ran out.
 */
int udp_sendto(struct udp_pcb *pcb, uint32_t addr, uint16_t port,
	       const void *data, size_t len);
/*
 * Sends [data, data+len) without copying it: the bytes are lent to the
 * stack and must stay unchanged until done(arg) runs. done runs exactly
 * once, whatever the result - possibly before this returns (error, or a
 * device that completes at once), otherwise when the device has sent the
 * frame or the datagram was dropped. done may be NULL for memory that
 * never changes (baked assets).
 */
int udp_sendto_borrowed(struct udp_pcb *pcb, uint32_t addr, uint16_t port,
			const void *data, size_t len, net_done_fn done, void *arg);

/* Copies up to n payload bytes from offset off; returns how many. */
size_t udp_rx_copy(const struct udp_rx *rx, size_t off, void *dst, size_t n);

/* ==== UDP as waiting calls for tasks (net/udp_task.c) =========================
 *
 * A bound port whose datagrams are copied on arrival into the socket's
 * own ring (UDP has no flow control: what does not fit - more than
 * UDP_SOCK_SLOTS datagrams or UDP_SOCK_BYTES bytes waiting - is dropped
 * and counted in dropped). A task takes them in order with
 * udp_sock_recvfrom(), which waits; sending never waits. The struct is
 * caller-allocated and must stay in place while bound; its fields are the
 * layer's. Calls that wait return K_EINVAL outside a task.
 */
#define UDP_SOCK_SLOTS 32
#define UDP_SOCK_BYTES 16384

struct udp_sock {
	struct udp_pcb pcb;
	struct event ev;
	bool open;
	unsigned head, count;       /* datagrams waiting: q[head], ... */
	uint32_t wr;                /* where the next one is copied in buf */
	uint32_t used;              /* bytes waiting */
	uint64_t dropped;
	struct udp_sock_dgram {
		uint32_t addr, off, len;
		uint16_t port;
	} q[UDP_SOCK_SLOTS];
	uint8_t buf[UDP_SOCK_BYTES];
};

/* udp_bind() for udp_sock_recvfrom(); same errors. */
int udp_sock_bind(struct udp_sock *s, struct net_if *nif, uint16_t port);
/* Unbinds and drops what waits; a task waiting in recvfrom gets K_ECLOSED. */
void udp_sock_close(struct udp_sock *s);
/*
 * Waits for the next datagram (timeout_ns 0: no limit), copies up to len
 * bytes of it to buf (the rest of a longer one is discarded), stores its
 * source in *addr and *port (either may be NULL) and returns the bytes
 * copied. K_ETIMEDOUT, K_ECLOSED.
 */
int udp_sock_recvfrom(struct udp_sock *s, void *buf, size_t len, uint32_t *addr,
		      uint16_t *port, uint64_t timeout_ns);
/* udp_sendto() from the socket's port. */
int udp_sock_sendto(struct udp_sock *s, uint32_t addr, uint16_t port, const void *data,
		    size_t len);

#endif
