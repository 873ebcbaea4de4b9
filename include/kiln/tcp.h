/*
 * tcp.h - the TCP API apps program against (RFC 9293 and companions).
 *
 * Everything runs on the run loop of the core that owns the interface:
 * callbacks come from the loop (protocol input, timers), never from
 * interrupts, and must not wait. Addresses and ports are in host byte
 * order. Errors are kiln/err.h values.
 *
 * A connection (struct tcp_conn, opaque) comes from tcp_connect() or is
 * handed to a listener's accept callback; the app sets its handlers
 * there. The conn stays valid until the app calls tcp_close() or
 * tcp_abort(), or until the closed handler returns - whichever is first.
 * After tcp_close()/tcp_abort() no handler of that conn runs again.
 *
 * RECEIVING is zero-copy: recv gets a view into the receive buffer that
 * carried the bytes. It returns how many it consumed; bytes it does not
 * consume stay where they are (the view remains valid) and delivery
 * pauses - the advertised window shrinks accordingly - until the app
 * calls tcp_recv_ack() (consumes bytes it already saw) and/or
 * tcp_recv_resume() (delivers what is left again). The peer's FIN is
 * delivered as recv(c, NULL, 0) after the last byte.
 *
 * SENDING copies (tcp_write, into per-connection send buffers, bounded by
 * the send buffer size: back-pressure) or borrows (tcp_write_borrowed: the
 * bytes must stay unchanged until done runs, which is after they are
 * acknowledged and no copy of them is still on a device). When a write
 * could not take everything, writable() runs once space frees up.
 * Nagle's algorithm is off by default (servers answer whole responses).
 */
#ifndef KILN_TCP_H
#define KILN_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/net.h>
#include <kiln/task.h>

struct tcp_conn;

struct tcp_handlers {
	/* tcp_connect() only: the handshake completed. */
	void (*connected)(struct tcp_conn *c, void *arg);
	/* In-order bytes (a view, valid until consumed); returns the number
	 * consumed (0..len). data == NULL, len == 0: the peer sent FIN. */
	size_t (*recv)(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg);
	/* Send space freed after a write was refused or cut short. */
	void (*writable)(struct tcp_conn *c, void *arg);
	/* The last call: reason K_OK (orderly close, both FINs done),
	 * K_ECONNRESET, K_ECONNREFUSED, K_ETIMEDOUT (retransmission or
	 * keep-alive limit). c is invalid once this returns. */
	void (*closed)(struct tcp_conn *c, int reason, void *arg);
};

/*
 * Called when a connection to a listener completes its handshake. Set
 * the handlers with tcp_set_handlers() and return K_OK; any other value
 * resets the connection.
 */
typedef int (*tcp_accept_fn)(struct tcp_conn *c, void *arg);

/* ---- setting up an interface ------------------------------------------- */

struct tcp_config {
	uint32_t max_conns;         /* connection blocks: open and half-open */
	uint32_t max_timewait;      /* TIME_WAIT entries (oldest reused when full) */
	uint32_t max_spans;         /* send-queue entries over all connections */
	uint32_t rcv_buf;           /* receive window per connection, bytes */
	uint32_t snd_buf;           /* copied bytes queued per connection */
	uint64_t msl_ns;            /* TIME_WAIT lasts 2 * MSL */
	uint64_t persist_timeout_ns; /* zero window with data queued: reset after (0: never) */
	uint32_t max_per_peer;      /* passive connections per source address (0: no limit) */
	/* Buffer memory (truesize: whole pool buffers) all connections may
	 * hold in receive queues, out-of-order islands and copied sends;
	 * 0: half the interface's packet pool. Above mem_pressure (0: half
	 * of mem_limit) each connection is held to a small share. */
	uint64_t mem_limit, mem_pressure;
};

/* The defaults (see net/tcp_priv.h for the reasons). */
void tcp_config_default(struct tcp_config *cfg);
/* The bytes tcp_if_init() needs for cfg. */
size_t tcp_mem_size(const struct tcp_config *cfg);
/*
 * Attaches TCP to nif with all its tables carved from mem (caller-owned,
 * 64-byte aligned, at least tcp_mem_size(cfg) bytes, kept for the
 * interface's life; nothing is allocated afterwards). cfg NULL: defaults.
 * K_EINVAL if mem is too small or cfg is unusable.
 */
int tcp_if_init(struct net_if *nif, const struct tcp_config *cfg, void *mem, size_t size);

/* ---- opening ------------------------------------------------------------- */

/*
 * Accepts connections to port. backlog bounds the half-open handshakes
 * kept for it (SYN cookies answer beyond that). K_EADDRINUSE if the port
 * is taken, K_ENOSPC without a free listener slot.
 */
int tcp_listen(struct net_if *nif, uint16_t port, unsigned backlog, tcp_accept_fn accept, void *arg);
/* Stops listening; resets the port's half-open connections. */
void tcp_unlisten(struct net_if *nif, uint16_t port);

/*
 * Opens a connection to addr:port from an ephemeral port. *out is valid
 * at once (handlers set here); h->connected or h->closed tells how it
 * went. K_ENOSPC when the table is full, K_ENOENT without a route.
 */
int tcp_connect(struct net_if *nif, uint32_t addr, uint16_t port,
		const struct tcp_handlers *h, void *arg, struct tcp_conn **out);

/* h must outlive the connection (normally a static const table). */
void tcp_set_handlers(struct tcp_conn *c, const struct tcp_handlers *h, void *arg);

/* ---- data ----------------------------------------------------------------- */

/*
 * Queues a copy of up to len bytes. Returns the number taken (may be
 * less than len when the send buffer fills: writable() follows),
 * K_EAGAIN when none could be taken, K_ECLOSED after tcp_shutdown() or
 * once the connection is going away, K_ENOTCONN before it is open.
 */
int tcp_write(struct tcp_conn *c, const void *data, size_t len);
/*
 * Queues [data, data+len) without copying. done(arg) runs exactly once,
 * when the stack no longer needs the bytes - possibly before this
 * returns (on error). K_OK, K_ECLOSED, K_ENOTCONN, K_ENOMEM (no send
 * queue entry free: try again after writable()).
 */
int tcp_write_borrowed(struct tcp_conn *c, const void *data, size_t len,
		       net_done_fn done, void *arg);
/* Copied bytes tcp_write() would take now. */
size_t tcp_sndbuf(const struct tcp_conn *c);
/* Asks for writable() once the send buffer has room again: for a caller
 * that looked at tcp_sndbuf() and chose not to write yet (a TLS record
 * must go in whole). */
void tcp_want_writable(struct tcp_conn *c);

/* Consumes n bytes the app saw in recv but did not consume then. */
void tcp_recv_ack(struct tcp_conn *c, size_t n);
/* Delivers held bytes again (and the FIN, if it came); use after recv
 * returned less than it was given. */
void tcp_recv_resume(struct tcp_conn *c);

/* ---- closing --------------------------------------------------------------- */

/* Sends FIN after the queued data; receiving continues (half-close). */
int tcp_shutdown(struct tcp_conn *c);
/*
 * The app is done with c: FIN after the queued data, no more handler
 * calls, the stack finishes the close alone. Unread received data (or
 * data arriving later) makes it a reset instead (RFC 9293 3.10.4,
 * RFC 2525 2.17).
 */
void tcp_close(struct tcp_conn *c);
/* Resets the connection (RST) and frees it at once; no handler runs. */
void tcp_abort(struct tcp_conn *c);

/* ---- options and information ----------------------------------------------- */

/* Nagle's algorithm off (true, the default) or on. */
void tcp_set_nodelay(struct tcp_conn *c, bool on);
/* Keep-alive probes after idle_ns without traffic, every interval_ns,
 * aborting (K_ETIMEDOUT) after count unanswered. Off by default. */
void tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t idle_ns, uint64_t interval_ns,
		       unsigned count);
void tcp_get_peer(const struct tcp_conn *c, uint32_t *addr, uint16_t *port);
uint16_t tcp_local_port(const struct tcp_conn *c);

/* Counters of one interface's TCP. */
struct tcp_stats {
	uint64_t segs_in, segs_out, retransmits, fast_retransmits, sack_recoveries,
		 rto_timeouts, resets_in, resets_out, active_opens, passive_opens,
		 syncookies_sent, syncookies_ok, syncookies_bad, challenge_acks,
		 bad_csum, bad_hdr, bad_opts, not_for_us, ooo_segs, ooo_dropped,
		 rcv_dropped, dup_segs, paws_drops, window_probes, keepalive_probes,
		 timeouts, listen_overflows, table_full, no_mem, delayed_acks,
		 tw_recycled, tw_evicted, dup_acks, loss_probes,
		 tx_deferred,   /* new data held back: device ring or pool full */
		 lost_retransmits;   /* found during recovery, resent without an RTO */
	uint32_t conns_current, timewait_current;
	/* hostile-peer guards (bad_opts above: such segments are dropped) */
	uint64_t challenge_limited_conn,   /* challenge ACK not sent: this conn < 500 ms ago */
		 challenge_limited_global, /* not sent: the interface's random budget spent */
		 oow_acks_limited,         /* PAWS/out-of-window/beyond-snd_max ACK not sent */
		 syncookies_no_overflow,   /* cookie ACK refused: no recent overflow */
		 persist_timeouts,         /* reset: zero window too long with data queued */
		 fin_wait2_timeouts,       /* FIN_WAIT_2 ended: no new data for TCP_FIN_WAIT2_NS */
		 peer_limit_refused;       /* SYN/cookie dropped: its address is at max_per_peer */
	/* memory budget (net/tcp_mem.c) */
	uint64_t mem_bytes,                /* buffer memory held now (truesize) */
		 mem_limit, mem_pressure,  /* the budget in force */
		 mem_pressure_entered,     /* times mem_bytes rose past mem_pressure */
		 mem_collapsed,            /* small segments copied into a queued buffer */
		 mem_pruned,               /* out-of-order islands given up for memory */
		 mem_rcv_dropped,          /* segments dropped: over the budget or share */
		 mem_snd_limited;          /* copied writes cut short by the budget */
};
const struct tcp_stats *tcp_get_stats(const struct net_if *nif);


/* ==== waiting calls for tasks (net/tcp_task.c) ===============================
 *
 * The same connections as a thin layer over the callbacks above, for code
 * running in a task (kiln/task.h): each call waits with event_wait() until
 * it can finish or timeout_ns passes (0: no limit), and returns K_EINVAL
 * when called outside a task. Nothing is copied into a layer buffer:
 * received bytes stay in TCP's receive queue (and count against the
 * advertised window) until tcp_stream_read() copies them out and
 * acknowledges them with tcp_recv_ack().
 *
 * Both structs are caller-allocated and must stay in place (not move, not
 * be freed) while their connection or listener is open: the stack's
 * handlers point at them. The fields are the layer's. A stream is open
 * from a successful accept or connect until tcp_stream_close() or
 * tcp_stream_abort(); after the peer resets it, calls report the reason
 * and close still has to be called (it is then a no-op).
 *
 * Several tasks may wait on one stream (one reading, one writing): every
 * change wakes them all and each rechecks its own condition.
 */

struct tcp_stream {
	struct tcp_conn *conn;      /* NULL once closed by either side */
	struct event ev;            /* connected, data, EOF, writable, closed */
	const uint8_t *view;        /* held bytes TCP offered and we kept */
	size_t view_len;
	int err;                    /* the closed handler's reason, once closed */
	bool connected, eof, closed;
};

/* Handshakes completed but not yet taken by tcp_stream_accept(); beyond
 * this, new connections are reset. */
#define TCP_STREAM_ACCEPT_QUEUE 8

struct tcp_stream_listener {
	struct net_if *nif;
	uint16_t port;
	bool open;
	struct event ev;
	unsigned nq;
	struct tcp_stream_pending {
		struct tcp_conn *conn;
		bool eof;               /* the FIN came while queued */
	} q[TCP_STREAM_ACCEPT_QUEUE];
};

/* tcp_listen() for tcp_stream_accept(); same errors. */
int tcp_stream_listen(struct tcp_stream_listener *l, struct net_if *nif, uint16_t port,
		      unsigned backlog);
/* Stops listening and resets the connections nobody accepted yet; a task
 * waiting in accept gets K_ECLOSED. */
void tcp_stream_unlisten(struct tcp_stream_listener *l);
/* Waits for the next established connection and opens s on it. K_OK,
 * K_ETIMEDOUT, K_ECLOSED (unlistened). */
int tcp_stream_accept(struct tcp_stream_listener *l, struct tcp_stream *s, uint64_t timeout_ns);
/* Opens s to addr:port and waits for the handshake. K_OK; tcp_connect()'s
 * errors; K_ECONNREFUSED (RST), K_ETIMEDOUT (then the attempt is
 * abandoned: s is closed). */
int tcp_stream_connect(struct tcp_stream *s, struct net_if *nif, uint32_t addr, uint16_t port,
		       uint64_t timeout_ns);

/*
 * Waits until bytes are there, then copies up to len (at most INT_MAX) of
 * them and returns the count. 0 at the peer's FIN (and for len 0);
 * K_ETIMEDOUT; K_ECONNRESET or another closing reason once the connection
 * is gone (bytes still unread then are lost); K_ECLOSED after close.
 */
int tcp_stream_read(struct tcp_stream *s, void *buf, size_t len, uint64_t timeout_ns);
/*
 * Queues all len bytes (copied; at most INT_MAX), waiting for send-buffer
 * space as ACKs free it. Returns len; on timeout or error after some
 * bytes were queued, the count queued (< len) - those are still sent;
 * with none queued, K_ETIMEDOUT, K_ECLOSED, K_ECONNRESET, ...
 */
int tcp_stream_write(struct tcp_stream *s, const void *data, size_t len, uint64_t timeout_ns);
/* Sends FIN after the queued bytes; reading goes on. Does not wait. */
int tcp_stream_shutdown(struct tcp_stream *s);
/* tcp_close(): FIN after queued bytes (RST if received bytes are unread)
 * and the stack finishes alone; s may be reused or freed after. */
void tcp_stream_close(struct tcp_stream *s);
/* tcp_abort(): RST now. */
void tcp_stream_abort(struct tcp_stream *s);

#endif
