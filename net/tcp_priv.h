/*
 * tcp_priv.h - what TCP's files (tcp.c, tcp_in.c, tcp_out.c, tcp_timer.c)
 * share: limits with their reasons, the connection block, the send queue
 * of spans, the TIME_WAIT table, the per-interface TCP state and the
 * internal entry points.
 *
 * Every function taking a `struct nbuf *` consumes it (nbuf.h).
 */
#ifndef NET_TCP_PRIV_H
#define NET_TCP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/tcp.h>
#include <kiln/time.h>
#include <kiln/timer.h>

#include "net_priv.h"
#include "runtime/timer_wheel.h"
#include "wire/tcp.h"

/* ---- limits and defaults ------------------------------------------------ */

/* 4096 connection blocks (~700 bytes each, ~2.8 MiB) per interface and core;
 * a server at 100k short requests/s with ~10 ms lifetimes holds ~1000. */
#define TCP_DEF_MAX_CONNS 4096
/* TIME_WAIT entries are 48 bytes; 16384 covers 30 s of closes at ~500/s
 * on the active-closing side; beyond that the oldest is reused (its
 * protection is mostly redundant with timestamps and RFC 6528 ISNs). */
#define TCP_DEF_MAX_TIMEWAIT 16384
#define TCP_DEF_SPANS_PER_CONN 4
/* 64 KiB of window: a LAN/DC bandwidth-delay product, and it bounds the
 * receive buffers one connection can pin (see TCP_RCV_MAX_NBUFS). */
#define TCP_DEF_RCV_BUF (64 * 1024)
#define TCP_DEF_SND_BUF (256 * 1024)
/* MSL 15 s, so TIME_WAIT lasts 30 s instead of RFC 9293's 4 min: with
 * RFC 7323 timestamps (PAWS) and RFC 6528 clock-driven ISNs, old
 * duplicates are rejected anyway; a long TIME_WAIT only costs table space
 * on a server that closes first. Linux uses 60 s. */
#define TCP_DEF_MSL_NS (15 * NS_PER_SEC)

#define TCP_MAX_LISTENERS 16
/* Receive buffers one connection may hold (in-order unread plus out of
 * order): a hostile peer sending 1-byte segments cannot pin more. */
#define TCP_RCV_MAX_NBUFS 64
/* Out-of-order islands kept per connection (each a run of contiguous
 * segments), and SACK ranges remembered from the peer. */
#define TCP_OOO_MAX 8
#define TCP_SB_MAX 8
/* Payloads up to this size are copied into the header buffer rather
 * than lent through a descriptor: cheaper than a descriptor for small
 * responses, and it saves descriptors. */
#define TCP_COPY_BREAK 256
/* TSO (the device cuts segments): payload bytes one packet may carry, so
 * its IPv4 total length stays within 65535 with the longest TCP header,
 * and send-queue spans it may draw from, each one descriptor when lent
 * (virtio-net takes up to 64 per frame). */
#define TCP_TSO_BYTES (65535 - IP4_HDR_LEN - TCP_HDR_MAX)
#define TCP_TSO_SPANS 32

#define TCP_DEF_MSS 536             /* RFC 9293 3.7.1: when the peer sends none */
#define TCP_MIN_MSS 88              /* floor for a forged small MSS */
#define TCP_MAX_WSCALE 14           /* RFC 7323 2.3 */
#define TCP_INIT_CWND_SEGS 10       /* RFC 6928 */

/* RFC 6298: initial RTO 1 s, lower bound 200 ms (as Linux; RFC 6298's
 * 1 s minimum predates fast LANs), upper bound 60 s. */
#define TCP_RTO_INIT_NS (1 * NS_PER_SEC)
#define TCP_RTO_MIN_NS (200 * NS_PER_MS)
#define TCP_RTO_MAX_NS (60 * NS_PER_SEC)
/* Least time after a retransmission before it may be judged lost. */
#define TCP_REO_MIN_NS (1 * NS_PER_MS)
/* A write cut short because the packet pool was empty is retried (the
 * app's writable callback runs again) this long after: no ACK may be
 * coming to trigger it when nothing of the connection is in flight. */
#define TCP_MEM_RETRY_NS (10 * NS_PER_MS)
/* New data the device could not take (its ring full, or no buffer for
 * the headers) stays unsent - it was never on the wire, so it is not a
 * loss to recover from - and output tries again this long after. */
#define TCP_TX_RETRY_NS (1 * NS_PER_MS)
/* Retransmissions of one segment before giving up: 5 for SYN and
 * SYN-ACK (~1 min), 10 for data (~6 min with backoff; RFC 1122 4.2.3.5
 * asks for at least 100 s). */
#define TCP_SYN_RETRIES 5
#define TCP_DATA_RETRIES 10
/* RFC 1122 4.2.3.2 / RFC 5681 4.2: ACK within 500 ms; we use 40 ms, or
 * every second full-sized segment. */
#define TCP_DELACK_NS (40 * NS_PER_MS)
/* Every FIN_WAIT_2 ends after this: an orphan (closed by the app) this
 * long after entering it, a half-closed one still read by the app after
 * this long without new data (tcp_timer.c keep_fire()). Before: an
 * orphaned (closed by the app) connection in FIN_WAIT_2 is dropped
 * after this (Linux's tcp_fin_timeout). */
#define TCP_FIN_WAIT2_NS (60 * NS_PER_SEC)
/* Keep-alive defaults (RFC 1122 4.2.3.6: at least two hours idle). */
#define TCP_KEEP_IDLE_NS (7200 * NS_PER_SEC)
#define TCP_KEEP_INTVL_NS (75 * NS_PER_SEC)
#define TCP_KEEP_CNT 9
/* RFC 5961 7: at most this many challenge ACKs a second per interface. */
#define TCP_CHALLENGE_PER_SEC 1000
/* Hostile-peer guards (RFC 5961 7, CVE-2016-5696; Linux's
 * tcp_invalid_ratelimit and tcp_challenge_ack_limit):
 * - each second's challenge-ACK budget per interface is drawn at random
 *   from [PER_SEC / 2, PER_SEC * 3 / 2), so an off-path prober cannot
 *   count the ACKs it provokes to learn whether its guess hit;
 * - one connection sends at most one challenge ACK, and at most one
 *   immediate ACK for a PAWS failure, an out-of-window segment without
 *   data or an ACK beyond snd_max, per TCP_OOW_RATE_NS (Linux: 500 ms), so
 *   two stacks cannot drive each other into an ACK storm. Segments with
 *   data and in-window duplicate ACKs are never limited. */
#define TCP_OOW_RATE_NS (500 * NS_PER_MS)
/* A cookie ACK is believed only this long after its listener last
 * overflowed (two cookie periods, Linux tcp_synq_no_recent_overflow). */
#define TCP_COOKIE_RECENT_NS (2ull << TCP_COOKIE_SHIFT)
/* A peer that keeps a zero window while we have data queued (a client
 * that stopped reading half a response) is reset after this long without
 * the window opening (nginx's send_timeout is 60 s). */
#define TCP_DEF_PERSIST_TIMEOUT_NS (60 * NS_PER_SEC)
/* Connections a listener accepts from one source address (tcp_peer.c;
 * boot option tcp_max_per_peer=). 256: an office of 40 people behind one
 * NAT address, each browser holding its 6 connections per host, fits with
 * room; one address still holds at most 1/16 of the default 4096-block
 * table, so a single host cannot lock everyone else out. */
#define TCP_DEF_MAX_PER_PEER 256
/* SYN cookies: time counter period 2^36 ns (~69 s); a cookie is good for
 * its period and the next. */
#define TCP_COOKIE_SHIFT 36
#define TCP_EPHEMERAL_MIN 49152u

/* ---- sequence arithmetic (RFC 9293 3.4) --------------------------------- */

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define SEQ_GT(a, b) SEQ_LT(b, a)
#define SEQ_GEQ(a, b) SEQ_LEQ(b, a)

/* ---- parsed segment ------------------------------------------------------- */

struct tcp_opts {
	bool mss_ok, ws_ok, sack_perm, ts_ok;
	uint16_t mss;
	uint8_t ws;
	uint8_t nsack;
	uint32_t tsval, tsecr;
	uint32_t sack[4][2];        /* left, right edges */
};

struct tcp_seg {
	uint32_t seq, ack;
	uint32_t len;               /* payload bytes */
	uint16_t wnd;               /* unscaled */
	uint16_t sport, dport;
	uint8_t flags;
	struct tcp_opts o;
};

/*
 * Parses the options [src, end) of a segment into o (zeroed first).
 * Unknown options are skipped; K_EINVAL for a malformed length (the
 * options before it are kept). SYN-only options are taken only when syn.
 */
int tcp_parse_options(const uint8_t *src, const uint8_t *end, bool syn, struct tcp_opts *o);

/* ---- the send queue -------------------------------------------------------- */

/*
 * A span of bytes queued for sending (docs/networking.md): borrowed from
 * the app, or held in a pool buffer the span owns (own). Transmissions
 * lend its bytes through descriptors that count in inflight. A span
 * leaves its connection when acknowledged (or the connection dies) and is
 * released - done called or buffer freed - once also nothing is in flight.
 */
struct tcp_span {
	struct tcp_span *next;
	struct tcp_stack *st;
	const uint8_t *p;           /* first unacknowledged byte */
	uint32_t len;
	uint32_t seq;               /* sequence number of p[0] */
	uint32_t inflight;          /* descriptors lending its bytes */
	bool detached;              /* no longer on a connection's queue */
	struct nbuf *own;           /* copied data's buffer, or NULL */
	net_done_fn done;           /* borrowed: the app's release */
	void *done_arg;
};

/* ---- connection ------------------------------------------------------------- */

enum tcp_state {
	TCP_CLOSED = 0, TCP_SYN_SENT, TCP_SYN_RCVD, TCP_ESTABLISHED, TCP_FIN_WAIT_1,
	TCP_FIN_WAIT_2, TCP_CLOSE_WAIT, TCP_CLOSING, TCP_LAST_ACK, TCP_TIME_WAIT,
};

/* c->flags */
#define TF_ACK_NOW     0x00001      /* send an ACK at the end of this event */
#define TF_NODELAY     0x00002
#define TF_SACK        0x00004      /* SACK permitted both ways */
#define TF_TS          0x00008      /* timestamps in use */
#define TF_FIN_QUEUED  0x00010      /* app shut down: FIN after the queue */
#define TF_RX_FIN      0x00020      /* peer's FIN received (in order) */
#define TF_EOF_DONE    0x00040      /* ... and delivered to the app */
#define TF_APP_CLOSED  0x00080      /* orphan: the app called tcp_close */
#define TF_RECOVERY    0x00100      /* fast recovery (RFC 6582 / RFC 6675) */
#define TF_KEEPALIVE   0x00200
#define TF_WANT_WRITE  0x00400      /* a write was cut short */
#define TF_RX_PAUSED   0x00800      /* app left bytes unconsumed */
#define TF_DEAD        0x01000      /* freed when the current event ends */
#define TF_RTT_TIMING  0x02000      /* rtt_seq is being timed (no TS) */
#define TF_COOKIE      0x04000      /* opened from a SYN cookie */
#define TF_IN_HASH     0x08000
#define TF_MORE        0x10000      /* output asked for during output */
#define TF_WSCALE      0x20000      /* window scaling in use */
#define TF_RTT_VALID   0x40000      /* srtt holds a measurement */
#define TF_TW_PENDING  0x80000      /* enter TIME_WAIT when this event ends */
#define TF_NOTIFY_WRITE 0x100000    /* ACKs freed send space: call writable */
#define TF_PTO         0x200000     /* rto_at is a tail loss probe's time */
#define TF_TLP_OUT     0x400000     /* a loss probe went out, no ACK since */
#define TF_DSACK       0x800000     /* report dsack[] in the next ACK (RFC 2883) */

struct tcp_ooo {
	uint32_t seq, end;          /* the bytes held: [seq, end) */
	struct nbuf *head, *tail;   /* packets linked through link */
	uint16_t nbufs;
	bool fin;                   /* a FIN follows end */
};

struct tcp_listener {
	bool used;
	uint16_t port;
	uint16_t backlog, half_open;
	tcp_accept_fn accept;
	void *arg;
	uint64_t overflow_at;       /* last backlog overflow, now + 1 (0: never) */
};

struct tcp_conn {
	struct tcp_conn *hnext;     /* hash chain, or the free list */
	struct tcp_stack *st;
	struct tcp_listener *lst;   /* half-open from a listener */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint8_t state;
	uint8_t backoff;            /* RTO doublings; also retries */
	uint8_t probes;             /* persist or keep-alive probes unanswered */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t busy;               /* nesting of events on this conn */
	uint32_t flags;

	/* send sequence space (RFC 9293 3.3.1) */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
	uint32_t snd_wnd, max_snd_wnd;
	uint32_t snd_end;           /* seq after the last queued byte (FIN goes here) */
	uint32_t sq_copied;         /* copied bytes queued (against snd_buf) */
	uint16_t peer_mss;          /* what the peer announced */
	uint16_t mss;               /* payload per segment, options excluded */

	/* receive sequence space */
	uint32_t irs, rcv_nxt, rcv_adv;   /* rcv_adv: right edge advertised */
	uint32_t ts_recent, ts_offset;
	uint16_t acks_pending;      /* full segments since the last ACK */

	/* congestion control (RFC 5681, 6582, 6675) */
	uint32_t cwnd, ssthresh, recover, high_rxt;
	/* lost retransmissions (RFC 8985's idea, on the span scoreboard):
	 * snd_max and the time when the last hole was resent */
	uint32_t rxt_fence;
	uint64_t rxt_at;
	uint16_t dupacks;
	uint32_t sb[TCP_SB_MAX][2]; /* SACKed ranges above snd_una, sorted */
	uint8_t nsb;

	/* RTT (RFC 6298), ns */
	uint64_t srtt, rttvar, rto;
	uint32_t rtt_seq;
	uint64_t rtt_start;

	/* deadlines (0: off); the conn's timer is armed for the earliest */
	struct timer timer;
	uint64_t rto_at, delack_at, persist_at, keep_at;
	uint64_t mem_at;            /* retry a write the pool cut short */
	uint64_t timer_at;          /* what the timer is armed for (0: idle) */
	uint8_t kprobes;            /* keep-alive probes unanswered */
	uint64_t keep_idle, keep_intvl;
	uint8_t keep_cnt;
	uint64_t last_rx;           /* for keep-alive */

	/* send queue */
	struct tcp_span *sq_head, *sq_tail;

	/* receive: in-order bytes not consumed yet, and out-of-order islands */
	struct nbuf *rx_head, *rx_tail;   /* packets linked through link */
	uint32_t rx_off;            /* consumed bytes of rx_head */
	uint32_t rx_bytes;          /* unconsumed bytes queued */
	uint32_t rx_seen;           /* of those, already shown to the app */
	uint16_t rx_nbufs;
	struct tcp_ooo ooo[TCP_OOO_MAX];
	uint8_t nooo, ooo_last;
	uint16_t ooo_nbufs;
	uint32_t ooo_bytes;
	uint32_t rmem;              /* truesize of rx + ooo buffers (tcp_mem.c) */
	bool ooo_listed;            /* on st's list of out-of-order holders */
	struct tcp_conn *ooo_prev, *ooo_next;
	uint32_t dsack[2];          /* a duplicate received, for the peer */

	const struct tcp_handlers *h;
	void *arg;
	/* hostile-peer guards (tcp_in.c, tcp_timer.c); times are now + 1, 0: never */
	uint64_t chal_last;         /* last challenge ACK */
	uint64_t oow_last;          /* last rate-limited immediate ACK */
	uint64_t zwnd_since;        /* first persist probe of this zero window */
	uint32_t fw2_rcv_nxt;       /* rcv_nxt when the FIN_WAIT_2 deadline was set */
	bool peer_counted;          /* charged to its address (tcp_peer.c) */
};

/* ---- per-peer connection counts (tcp_peer.c) ------------------------------ */

struct tcp_peer {
	struct tcp_peer *next;      /* hash chain, or the free list */
	uint32_t addr, n;
};

/* ---- TIME_WAIT ---------------------------------------------------------- */

struct tcp_tw {
	struct tcp_tw *hnext;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	bool used, ts_ok;
	uint8_t rcv_wscale;
	uint32_t snd_nxt, rcv_nxt, ts_recent, ts_offset;
	uint64_t expires;
};

/* ---- one interface's TCP -------------------------------------------------- */

struct tcp_stack {
	struct net_if *nif;
	struct tcp_config cfg;
	struct tcp_conn *conns, *free_conns;
	struct tcp_conn **hash;
	uint32_t hash_mask;
	struct tcp_tw *tw;
	struct tcp_tw **tw_hash;
	uint32_t tw_head, tw_count;
	struct tcp_span *spans, *free_spans;
	struct tcp_listener lst[TCP_MAX_LISTENERS];
	struct timer_wheel wheel;
	uint64_t now;               /* of the event being processed */
	uint64_t isn_key[2], cookie_key[2], ts_key[2];
	uint64_t hash_seed;
	uint16_t next_port;
	uint32_t challenge_count;
	uint64_t challenge_sec;
	uint64_t cookie_last;        /* when a SYN cookie was last sent */
	struct tcp_stats stats;
	uint32_t challenge_budget;   /* this second's random challenge-ACK limit */
	struct tcp_peer *peers, *free_peers, **peer_hash;
	uint32_t peer_mask, peers_used;
	/* memory budget (tcp_mem.c): bytes held are stats.mem_bytes */
	uint64_t mem_share;          /* a connection's share under pressure */
	uint32_t mem_stride;         /* truesize of one pool buffer */
	bool mem_pressed;            /* mem_bytes was above pressure last time */
	struct tcp_conn *ooo_first, *ooo_last_conn;  /* holders, oldest first */
};

#define TCP_STAT(st, field) ((st)->stats.field++)

static inline struct tcp_stack *tcp_stack(const struct net_if *nif) { return nif->tcp; }

/* ---- tcp_mem.c --------------------------------------------------------------- */

/* Sets the budget from cfg, or from the interface's pool. */
void tcp_mem_init(struct tcp_stack *st);
/* May c take sz more bytes (truesize) of received data? in_order: the
 * segment is next in sequence (then c's own and other connections'
 * out-of-order data is pruned to make room); otherwise it is refused
 * over c's share under pressure. Counts refusals. */
bool tcp_mem_rcv_room(struct tcp_conn *c, uint32_t sz, bool in_order);
void tcp_mem_rcv_charge(struct tcp_conn *c, uint32_t sz);
void tcp_mem_rcv_uncharge(struct tcp_conn *c, uint32_t sz);
/* May c take one more send buffer for copied bytes? Counts refusals. */
bool tcp_mem_snd_room(const struct tcp_conn *c);
void tcp_mem_snd_charge(struct tcp_stack *st, uint32_t sz);
void tcp_mem_snd_uncharge(struct tcp_stack *st, uint32_t sz);
/* The window c may offer within its share (UINT32_MAX: no cap). */
uint32_t tcp_mem_rcv_cap(const struct tcp_conn *c);
/* The list of connections holding out-of-order islands. */
void tcp_ooo_listed(struct tcp_conn *c, bool on);
/* tcp_in.c: gives up c's highest island (counted as mem_pruned when
 * for_mem, else ooo_dropped). */
void tcp_ooo_renege_last(struct tcp_conn *c, bool for_mem);

/* ---- tcp_peer.c -------------------------------------------------------------- */

uint32_t tcp_peer_default_limit(void);
size_t tcp_peer_mem_size(const struct tcp_config *cfg);
void tcp_peer_init(struct tcp_stack *st, void *mem);
/* True (and counted) when raddr already has cfg.max_per_peer connections. */
bool tcp_peer_full(struct tcp_stack *st, uint32_t raddr);
void tcp_peer_charge(struct tcp_conn *c);
void tcp_peer_release(struct tcp_conn *c);
uint32_t tcp_peer_count(struct tcp_stack *st, uint32_t raddr);

/* ---- tcp.c ------------------------------------------------------------------ */

uint64_t tcp_siphash(const uint64_t key[2], const uint32_t *w, unsigned n);
struct tcp_conn *tcp_lookup(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport);
struct tcp_tw *tcp_tw_lookup(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			     uint32_t raddr, uint16_t rport);
struct tcp_listener *tcp_listener_find(struct tcp_stack *st, uint16_t port);
/* A fresh block in state CLOSED with the 4-tuple set and hashed; NULL if
 * the table is full. */
struct tcp_conn *tcp_conn_new(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			      uint32_t raddr, uint16_t rport);
/* Ends a connection: reason to the app's closed handler (unless the app
 * closed it or reason is 1: silent), frees spans and buffers. Deferred
 * while an event on c is running. */
void tcp_conn_drop(struct tcp_conn *c, int reason);
/* Moves c into the TIME_WAIT table and frees it. */
void tcp_enter_timewait(struct tcp_conn *c);
void tcp_tw_remove(struct tcp_stack *st, struct tcp_tw *tw);
/* Drops TIME_WAIT entries whose 2*MSL is over. */
void tcp_tw_expire(struct tcp_stack *st, uint64_t now);
/* Restarts tw's 2*MSL (a retransmitted FIN); returns the entry's new place. */
struct tcp_tw *tcp_tw_restart(struct tcp_stack *st, struct tcp_tw *tw);
uint32_t tcp_isn(struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport, uint64_t now);
uint32_t tcp_cookie_make(struct tcp_stack *st, const struct tcp_seg *s, uint32_t laddr,
			 uint32_t raddr, uint16_t mss, uint64_t now);
/* The MSS a valid cookie (the ACK's ack - 1) encodes, or 0. */
uint16_t tcp_cookie_check(struct tcp_stack *st, const struct tcp_seg *s, uint32_t laddr,
			  uint32_t raddr, uint64_t now);
/* Begins and ends an event on c; tcp_event_end() performs deferred
 * output and frees a dead conn. Returns false if c is gone. */
void tcp_event_begin(struct tcp_conn *c);
bool tcp_event_end(struct tcp_conn *c);
/* Drops acknowledged spans up to ack. */
void tcp_sq_ack(struct tcp_conn *c, uint32_t ack);
/* The first byte of the payload at seq, and how many are contiguous. */
const uint8_t *tcp_sq_find(struct tcp_conn *c, uint32_t seq, uint32_t *avail, struct tcp_span **sp);
void tcp_span_desc_done(void *arg);
/* Sets up congestion state once the handshake is done. */
void tcp_established(struct tcp_conn *c);
void tcp_update_mss(struct tcp_conn *c);
uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now);

/* ---- tcp_in.c --------------------------------------------------------------- */

void tcp_input(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip);
/* Hands in-order held bytes to the app until it stops consuming. */
void tcp_rx_deliver(struct tcp_conn *c);
/* The receive space left (window before scaling). */
uint32_t tcp_rcv_space(const struct tcp_conn *c);
void tcp_rx_free(struct tcp_conn *c);

/* ---- tcp_out.c -------------------------------------------------------------- */

/* Sends what the windows allow, and a pending ACK. */
void tcp_output(struct tcp_conn *c);
void tcp_send_ack(struct tcp_conn *c);
void tcp_send_syn(struct tcp_conn *c);   /* SYN or SYN-ACK by state */
void tcp_send_rst(struct tcp_conn *c);
/* Retransmits up to maxlen bytes at seq (and the FIN if it follows). */
uint32_t tcp_retransmit(struct tcp_conn *c, uint32_t seq, uint32_t maxlen);
/* Sends what a small window allows, ignoring sender SWS avoidance (the
 * persist timer's override); returns the bytes sent. */
uint32_t tcp_send_forced(struct tcp_conn *c);
/* Window probe / keep-alive: an ACK carrying snd_una - 1. */
void tcp_send_probe(struct tcp_conn *c);
/* RST answering seg (no connection), RFC 9293 3.10.7.1. */
void tcp_send_reset(struct net_if *nif, const struct ip4_info *ip, const struct tcp_seg *s);
/* A bare segment outside any connection (SYN-ACK for a cookie, TIME_WAIT
 * ACKs); opts/optlen already laid out. */
void tcp_send_bare(struct net_if *nif, uint32_t laddr, uint32_t raddr, uint16_t lport,
		   uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		   const uint8_t *opts, unsigned optlen);
/* Lays out SYN options (MSS, SACK-permitted, TS, WS) into o. */
unsigned tcp_syn_options(uint8_t *o, uint16_t mss, bool sack, bool ts, uint32_t tsval,
			 uint32_t tsecr, int wscale);
uint16_t tcp_mss_for(struct net_if *nif, uint32_t raddr);
/* Pipe (RFC 6675) of the scoreboard. */
uint32_t tcp_pipe(const struct tcp_conn *c);

/* ---- tcp_timer.c ------------------------------------------------------------- */

void tcp_timer_fn(struct timer *t, void *arg);
/* Re-arms c's timer for its earliest deadline. */
void tcp_timer_update(struct tcp_conn *c);
void tcp_rto_arm(struct tcp_conn *c);
void tcp_tlp_schedule(struct tcp_conn *c);
/* A write ran out of pool memory: call writable again after a while. */
void tcp_mem_wait(struct tcp_conn *c);
/* A hole was just resent during SACK recovery: remember when, and what
 * had been sent before it. */
void tcp_rxt_mark(struct tcp_conn *c);
/* New data could not go out (device ring or pool full): retry output soon. */
void tcp_tx_wait(struct tcp_conn *c);
void tcp_rtt_sample(struct tcp_conn *c, uint64_t rtt);
void tcp_tick(struct net_if *nif, uint64_t now);
uint64_t tcp_next_deadline(const struct net_if *nif);

#endif
