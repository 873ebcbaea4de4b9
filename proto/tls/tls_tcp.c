/*
 * tls_tcp.c - HTTPS: the HTTP engine's transport over the TLS engine over
 * Kiln's TCP (kiln/tcp.h).
 *
 * Interface: http_listen_tls, https_get_stats (kiln/https.h).
 *
 * Mapping:
 *   accept      -> an HTTP slot (http_conn_open; pool full: evict an idle
 *                  one, else reset) and tls_conn_init
 *   recv(data)  -> tls_conn_input (records decrypted in place in TCP's
 *                  receive buffers), its plaintext -> http_conn_input;
 *                  the engine's output (handshake flight, alerts,
 *                  tickets, KeyUpdates) -> tcp_write
 *   recv(NULL)  -> http_conn_eof, as does a close_notify
 *   write_copy  -> records sealed in a scratch buffer, tcp_write
 *   write_borrowed -> the same, from the span: a span is one pending job
 *                  that goes out record by record as TCP takes it, and its
 *                  done runs when the last byte is sealed (TLS copies, so
 *                  the span is free then)
 *   shutdown/close -> close_notify after everything queued, then
 *                  tcp_shutdown / tcp_close
 *
 * Rules:
 *  - Everything runs on the loop of the core that owns the interface; the
 *    scratch buffer a record is sealed in is this file's, one per loop.
 *  - A record is sealed only when TCP has room for all of it
 *    (tcp_sndbuf). If TCP still takes only part of it (memory pressure),
 *    the rest is stashed in memory of its own (kmalloc) and goes out
 *    before anything else; short_writes counts it.
 *  - Records never interleave with engine output: queued engine bytes go
 *    first, and application data waits until the handshake is done.
 *  - Plaintext the HTTP engine did not take (it paused) is held: when it
 *    lies in TCP's receive view the bytes before its record are consumed
 *    and the record is left with TCP, remembered as already opened; when
 *    it lies in the TLS engine's work buffer (a record gathered across
 *    views) the engine keeps that buffer until tls_conn_plain_done().
 *    Resumed input is delivered from the poller, never from inside an
 *    HTTP engine call.
 *  - Work buffers: a connection holds one during its handshake and while
 *    a record is gathered across views. Input that needs one while the
 *    pool is empty first evicts a connection that has held one for at
 *    least TTLS_EVICT_MIN_NS, from the client address that holds the most
 *    (ttls_evict: fair between addresses; evicted): peers that start a
 *    handshake or a record and stall cannot keep the pool. Only fresh
 *    input evicts, never a waiter being served, so that the waiters of a
 *    flood cannot take every eviction from a new client. Failing that,
 *    the input is left with TCP and the connection waits in a FIFO that
 *    the poller serves, one waiter per free buffer (work_waits); the HTTP
 *    request and idle timeouts bound the wait. Holders and waiters are
 *    kept in lists, so nothing scans the connection table.
 *  - A connection's state outlives its HTTP side after close until every
 *    queued byte is sealed and handed to TCP; its span's done runs exactly
 *    once on every path.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/http.h>
#include <kiln/https.h>
#include <kiln/loop.h>
#include <kiln/mem.h>
#include <kiln/tcp.h>
#include <kiln/time.h>
#include <kiln/timer.h>
#include <kiln/tls.h>

struct ttls;

enum held_kind { HELD_NONE = 0, HELD_IN_VIEW, HELD_IN_WORK };

struct ttls_conn {
	struct ttls *tt;
	struct tcp_conn *tc;        /* NULL: the TCP connection is gone */
	struct http_conn *hc;       /* NULL: the HTTP side is done */
	struct ttls_conn *next_free, *next_pending;
	struct ttls_conn *hold_prev, *hold_next;   /* holding a work buffer */
	struct ttls_conn *wait_next;               /* waiting for one */
	uint64_t held_since_ns;
	uint32_t peer;                             /* the client's address */
	bool holding, waiting, retrying;
	bool in_use, pending, want_writable, eof_seen, eof_given;
	bool close_req, shut_req, close_sent, was_ready;
	bool resume_wanted;
	/* the borrowed span being sealed */
	const uint8_t *span;
	size_t span_len, span_off;
	void (*span_done)(void *arg);
	void *span_arg;
	/* the tail of a record TCP took in part */
	uint8_t *stash;
	size_t stash_len, stash_off;
	/* plaintext the HTTP engine has not taken yet */
	uint8_t held;
	uint8_t *held_p;            /* HELD_IN_WORK */
	size_t held_rel, held_len;  /* HELD_IN_VIEW: offset from the record */
	size_t held_rec_len;        /* HELD_IN_VIEW: the record's length */
	struct tls_conn tls;
};

struct ttls {
	struct http_server *srv;
	struct tls_server *tls;
	struct ttls_conn *conns;
	uint32_t nconns;
	struct ttls_conn *free, *pending;
	struct ttls_conn *hold_head, *hold_tail;   /* oldest holder first */
	struct ttls_conn *wait_head, *wait_tail;
	struct poller poller;
	struct https_stats stats;
};

static struct ttls ttls_servers[HTTPS_MAX_SERVERS];

/* Records are sealed here, then copied into TCP's send buffers. */
static uint8_t ttls_scratch[TLS_REC_HDR + TLS_MAX_PLAINTEXT + TLS_REC_TAIL];

/* A connection that has held a work buffer this long may be evicted for
 * another when the pool is empty: a handshake waits one round trip for
 * the client's Finished, so this is longer than most round trips, and
 * short enough that a flood converting old holders into new ones cannot
 * keep every holder too young to evict. */
#define TTLS_EVICT_MIN_NS (200 * NS_PER_MS)

/* A record is not cut smaller than this to fit TCP's room (unless the
 * data is smaller): wait for writable() instead. */
#define TTLS_MIN_RECORD 1024u

static void ttls_pump(struct ttls_conn *x);

/* ---- connection state ------------------------------------------------------ */

static void ttls_wake(struct ttls_conn *x)
{
	struct ttls *tt = x->tt;
	if (x->pending)
		return;
	x->pending = true;
	x->next_pending = tt->pending;
	tt->pending = x;
	loop_kick();
}

static void hold_unlink(struct ttls_conn *x)
{
	struct ttls *tt = x->tt;
	if (!x->holding)
		return;
	if (x->hold_prev)
		x->hold_prev->hold_next = x->hold_next;
	else
		tt->hold_head = x->hold_next;
	if (x->hold_next)
		x->hold_next->hold_prev = x->hold_prev;
	else
		tt->hold_tail = x->hold_prev;
	x->hold_prev = x->hold_next = NULL;
	x->holding = false;
}

/* Keeps the holder list in step with the engine (after each call). */
static void hold_sync(struct ttls_conn *x)
{
	struct ttls *tt = x->tt;
	bool has = x->in_use && tls_conn_has_work(&x->tls);
	if (has == x->holding)
		return;
	if (!has) {
		hold_unlink(x);
		return;
	}
	x->holding = true;
	x->held_since_ns = time_now_ns();
	x->hold_next = NULL;
	x->hold_prev = tt->hold_tail;
	if (tt->hold_tail)
		tt->hold_tail->hold_next = x;
	else
		tt->hold_head = x;
	tt->hold_tail = x;
}

static void wait_append(struct ttls_conn *x)
{
	struct ttls *tt = x->tt;
	if (x->waiting)
		return;
	x->waiting = true;
	x->wait_next = NULL;
	if (tt->wait_tail)
		tt->wait_tail->wait_next = x;
	else
		tt->wait_head = x;
	tt->wait_tail = x;
}

static void wait_unlink(struct ttls_conn *x)
{
	struct ttls *tt = x->tt;
	if (!x->waiting)
		return;
	struct ttls_conn **pp = &tt->wait_head, *prev = NULL;
	while (*pp && *pp != x) {
		prev = *pp;
		pp = &(*pp)->wait_next;
	}
	if (*pp)
		*pp = x->wait_next;
	if (tt->wait_tail == x)
		tt->wait_tail = prev;
	x->waiting = false;
}

static void ttls_finish_span(struct ttls_conn *x)
{
	void (*done)(void *) = x->span_done;
	void *arg = x->span_arg;
	x->span = NULL;
	x->span_len = x->span_off = 0;
	x->span_done = NULL;
	x->span_arg = NULL;
	if (done)
		done(arg);
}

/* Frees everything; no handler or engine call reaches x afterwards. */
static void ttls_release(struct ttls_conn *x)
{
	struct ttls *tt = x->tt;
	hold_unlink(x);
	wait_unlink(x);
	if (x->span)
		ttls_finish_span(x);
	if (x->stash)
		kfree(x->stash);
	x->stash = NULL;
	tls_conn_release(&x->tls);
	x->in_use = false;
	x->tc = NULL;
	x->hc = NULL;
	x->held = HELD_NONE;
	x->next_free = tt->free;
	tt->free = x;
}

/* After a failure: the alert goes out, then the FIN; what the peer still
 * sends is read and dropped, so that unread data does not turn the close
 * into a reset that would destroy the alert (RFC 9293 3.10.4). The peer's
 * FIN, or a few silent seconds, end it. */
static size_t drain_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (!data)
		tcp_close(c);
	return len;
}

static const struct tcp_handlers ttls_drain_handlers = {
	.recv = drain_recv,
};

#define TTLS_DRAIN_LINGER_NS (5 * NS_PER_SEC)

/* The TLS connection failed or ended: send what the engine queued (its
 * alert), end TCP, tell HTTP. */
static void ttls_fail(struct ttls_conn *x)
{
	struct http_conn *hc = x->hc;
	struct tcp_conn *tc = x->tc;
	const uint8_t *p;
	size_t k;
	x->tt->stats.failed++;
	while (tc && (k = tls_conn_output(&x->tls, &p)) > 0) {
		int r = tcp_write(tc, p, k);
		if (r <= 0)
			break;
		tls_conn_output_done(&x->tls, (size_t)r);
	}
	x->tc = NULL;
	ttls_release(x);
	if (tc) {
		tcp_set_handlers(tc, &ttls_drain_handlers, NULL);
		tcp_shutdown(tc);
		tcp_set_keepalive(tc, true, TTLS_DRAIN_LINGER_NS, NS_PER_SEC, 1);
	}
	if (hc)
		http_conn_closed(hc);
}

/* Work buffers held by connections from addr (the holders are at most
 * the pool's size). */
static unsigned held_by(const struct ttls *tt, uint32_t addr, const struct ttls_conn *skip)
{
	unsigned n = 0;
	for (const struct ttls_conn *y = tt->hold_head; y; y = y->hold_next)
		n += y != skip && y->peer == addr;
	return n;
}

/*
 * Makes room for self: closes a connection that has held a work buffer
 * for at least TTLS_EVICT_MIN_NS, from the client address holding the
 * most (the oldest of those), and only when that address would still
 * hold more than self's does then - max-min fairness between addresses:
 * a flood from a few addresses cannot keep another client out, and its
 * connections cannot evict each other. True if one was closed.
 */
static bool ttls_evict(struct ttls *tt, struct ttls_conn *self)
{
	uint64_t now = time_now_ns();
	unsigned mine = held_by(tt, self->peer, self), best_n = 0;
	struct ttls_conn *best = NULL;
	for (struct ttls_conn *y = tt->hold_head; y; y = y->hold_next) {
		if (y == self || now - y->held_since_ns < TTLS_EVICT_MIN_NS)
			continue;
		unsigned n = held_by(tt, y->peer, NULL);
		if (n > best_n) {
			best = y;
			best_n = n;
		}
	}
	if (!best || best_n <= mine + 1)
		return false;
	tt->stats.evicted++;
	ttls_fail(best);
	return true;
}

/* ---- output -------------------------------------------------------------------- */

/* Sends the stash and the engine's queued bytes; true when none is left. */
static bool ttls_flush(struct ttls_conn *x)
{
	const uint8_t *p;
	size_t k;
	if (!x->tc)
		return false;
	while (x->stash) {
		int r = tcp_write(x->tc, x->stash + x->stash_off, x->stash_len - x->stash_off);
		if (r <= 0)
			return false;
		x->stash_off += (size_t)r;
		if (x->stash_off == x->stash_len) {
			kfree(x->stash);
			x->stash = NULL;
		}
	}
	while ((k = tls_conn_output(&x->tls, &p)) > 0) {
		int r = tcp_write(x->tc, p, k);
		if (r <= 0)
			return false;
		tls_conn_output_done(&x->tls, (size_t)r);
	}
	return true;
}

/* Seals up to len bytes as one record and hands it to TCP; returns the
 * plaintext bytes taken (0: no room now), or a negative error. */
static int ttls_seal(struct ttls_conn *x, const uint8_t *data, size_t len)
{
	size_t room = tcp_sndbuf(x->tc);
	size_t max = tls_conn_max_plain(&x->tls);
	size_t take = len;
	if (take > max)
		take = max;
	if (room < TLS_REC_OVERHEAD + (take < TTLS_MIN_RECORD ? take : TTLS_MIN_RECORD)) {
		tcp_want_writable(x->tc);   /* no room for a record worth sending */
		return 0;
	}
	if (take > room - TLS_REC_OVERHEAD)
		take = room - TLS_REC_OVERHEAD;
	memcpy(ttls_scratch + TLS_REC_HDR, data, take);
	int rl = tls_conn_seal(&x->tls, ttls_scratch, take);
	if (rl < 0)
		return rl;
	x->tt->stats.records_sealed++;
	int r = tcp_write(x->tc, ttls_scratch, (size_t)rl);
	size_t sent = r > 0 ? (size_t)r : 0;
	if (r < 0 && r != K_EAGAIN)
		return r;
	if (sent < (size_t)rl) {
		/* a sealed record cannot be taken back: keep its tail */
		size_t rest = (size_t)rl - sent;
		x->stash = kmalloc(rest);
		if (!x->stash)
			return K_ENOMEM;
		memcpy(x->stash, ttls_scratch + sent, rest);
		x->stash_len = rest;
		x->stash_off = 0;
		x->tt->stats.short_writes++;
	}
	return (int)take;
}

/* Moves the span, then a requested close, forward; tells HTTP when it
 * may write again. */
static void ttls_pump(struct ttls_conn *x)
{
	if (!x->in_use || !x->tc)
		return;
	if (!ttls_flush(x))
		return;
	if (x->resume_wanted)
		ttls_wake(x);
	if (!tls_conn_ready(&x->tls) && !x->close_req)
		return;
	while (x->span && x->span_off < x->span_len) {
		int n = ttls_seal(x, x->span + x->span_off, x->span_len - x->span_off);
		if (n < 0) {
			ttls_fail(x);
			return;
		}
		if (n == 0)
			return;
		x->span_off += (size_t)n;
		if (x->stash)
			return;
	}
	if (x->span)
		ttls_finish_span(x);
	if (!x->in_use)
		return;
	if (x->close_req || x->shut_req) {
		if (!x->close_sent) {
			x->close_sent = true;
			tls_conn_close_notify(&x->tls);
		}
		if (!ttls_flush(x))
			return;
		struct tcp_conn *tc = x->tc;
		if (x->close_req) {
			x->tc = NULL;
			ttls_release(x);
			tcp_close(tc);
			return;
		}
		tcp_shutdown(tc);
		x->shut_req = false;
	}
	if (x->want_writable && x->hc) {
		x->want_writable = false;
		http_conn_writable(x->hc);
	}
}

/* ---- transport ops ------------------------------------------------------------------ */

static int op_write_copy(void *ctx, const void *data, size_t len)
{
	struct ttls_conn *x = ctx;
	if (!x->tc)
		return K_ECLOSED;
	if (x->span || !tls_conn_ready(&x->tls) || !ttls_flush(x)) {
		x->want_writable = true;
		return 0;
	}
	size_t done = 0;
	while (done < len) {
		int n = ttls_seal(x, (const uint8_t *)data + done, len - done);
		if (n < 0)
			return n;
		if (n == 0)
			break;
		done += (size_t)n;
		if (x->stash)
			break;
	}
	if (done < len)
		x->want_writable = true;
	return (int)done;
}

static int op_write_borrowed(void *ctx, const void *data, size_t len, void (*done)(void *arg),
			     void *arg)
{
	struct ttls_conn *x = ctx;
	if (!x->tc)
		return K_ECLOSED;
	if (x->span || !tls_conn_ready(&x->tls)) {
		x->want_writable = true;
		return K_EAGAIN;
	}
	if (!ttls_flush(x)) {
		x->want_writable = true;
		return K_EAGAIN;
	}
	/* seal what TCP takes now; the rest goes out from writable() */
	size_t off = 0;
	while (off < len && !x->stash) {
		int n = ttls_seal(x, (const uint8_t *)data + off, len - off);
		if (n < 0)
			return n;           /* not queued: done never runs */
		if (n == 0)
			break;
		off += (size_t)n;
	}
	if (off == len) {
		if (done)
			done(arg);
		return K_OK;
	}
	x->span = data;
	x->span_len = len;
	x->span_off = off;
	x->span_done = done;
	x->span_arg = arg;
	return K_OK;
}

static void op_shutdown(void *ctx)
{
	struct ttls_conn *x = ctx;
	if (!x->tc)
		return;
	x->shut_req = true;
	ttls_wake(x);
}

static void op_close(void *ctx)
{
	struct ttls_conn *x = ctx;
	if (!x->in_use)
		return;
	x->hc = NULL;               /* no engine call from here on */
	x->want_writable = false;
	if (!x->tc) {
		ttls_release(x);
		return;
	}
	x->close_req = true;
	ttls_wake(x);
}

static void op_resume_read(void *ctx)
{
	struct ttls_conn *x = ctx;
	if (!x->tc)
		return;
	x->resume_wanted = true;
	ttls_wake(x);
}

static const struct http_transport_ops ttls_ops = {
	.write_copy = op_write_copy,
	.write_borrowed = op_write_borrowed,
	.shutdown = op_shutdown,
	.close = op_close,
	.resume_read = op_resume_read,
};

/* ---- input ------------------------------------------------------------------------------ */

/* Hands held plaintext to HTTP; true when none is left. */
static bool ttls_deliver_held_work(struct ttls_conn *x)
{
	size_t n = x->hc ? http_conn_input(x->hc, x->held_p, x->held_len) : x->held_len;
	if (!x->in_use)
		return false;
	x->held_p += n;
	x->held_len -= n;
	if (x->held_len)
		return false;
	x->held = HELD_NONE;
	tls_conn_plain_done(&x->tls);
	hold_sync(x);
	return true;
}

/*
 * Runs received bytes through TLS and HTTP; *taken is what TCP may drop.
 * Stops (taken < len) when HTTP pauses or a work buffer is missing.
 */
static void ttls_input(struct ttls_conn *x, const uint8_t *data, size_t len, size_t *taken)
{
	uint8_t *p = (uint8_t *)(uintptr_t)data;   /* TCP's own receive memory */
	size_t off = 0;
	*taken = 0;

	if (x->held == HELD_IN_WORK) {
		if (!ttls_deliver_held_work(x))
			return;             /* still paused (or gone) */
	}
	if (x->held == HELD_IN_VIEW) {
		/* the record at the front was opened before: skip to its
		 * plaintext */
		if (len < x->held_rec_len)
			return;             /* cannot happen: TCP kept the bytes */
		size_t n = x->hc ? http_conn_input(x->hc, p + x->held_rel, x->held_len) : x->held_len;
		if (!x->in_use)
			return;
		x->held_rel += n;
		x->held_len -= n;
		if (x->held_len)
			return;
		x->held = HELD_NONE;
		off = x->held_rec_len;
		*taken = off;
		tls_conn_plain_done(&x->tls);
	hold_sync(x);
	}

	while (off < len && x->in_use) {
		struct tls_plain plain;
		int r = tls_conn_input(&x->tls, p + off, len - off, &plain);
		/* fresh input may evict; a waiter served from the FIFO does not
		 * (the many waiters of a flood would take every eviction) */
		if (r == K_ENOMEM && !x->retrying && ttls_evict(x->tt, x))
			r = tls_conn_input(&x->tls, p + off, len - off, &plain);
		if (r == K_ENOMEM) {
			/* no work buffer free: TCP keeps the bytes */
			x->tt->stats.work_waits++;
			wait_append(x);
			break;
		}
		hold_sync(x);
		if (r < 0) {
			ttls_fail(x);
			*taken = len;       /* drained from here on */
			return;
		}
		size_t start = off;
		off += (size_t)r;
		if (!x->was_ready && tls_conn_ready(&x->tls)) {
			x->was_ready = true;
			x->tt->stats.handshakes++;
		}
		ttls_flush(x);
		if (plain.len) {
			size_t n = x->hc ? http_conn_input(x->hc, plain.data, plain.len) : plain.len;
			if (!x->in_use)
				return;
			if (n < plain.len) {
				x->tt->stats.held_plain++;
				if (plain.data >= p + start && plain.data < p + off) {
					x->held = HELD_IN_VIEW;
					x->held_rel = (size_t)(plain.data - (p + start)) + n;
					x->held_len = plain.len - n;
					x->held_rec_len = off - start;
					off = start;
				} else {
					x->held = HELD_IN_WORK;
					x->held_p = plain.data + n;
					x->held_len = plain.len - n;
				}
				*taken = off;
				return;
			}
			tls_conn_plain_done(&x->tls);
	hold_sync(x);
		}
		if (plain.eof && !x->eof_given) {
			x->eof_given = true;
			if (x->hc)
				http_conn_eof(x->hc);
		}
		if (r == 0 && !plain.len) {
			/* the engine's output is full (a peer asking for
			 * KeyUpdates without reading): send it, then go on */
			if (ttls_flush(x))
				continue;
			x->resume_wanted = true;    /* writable() wakes it */
			break;
		}
		*taken = off;
	}
	*taken = off;
	if (x->in_use && x->tc)
		ttls_pump(x);
}

/* ---- the poller: resumed input, work-buffer waiters, deferred closes ------------- */

static int ttls_poll(void *ctx)
{
	struct ttls *tt = ctx;
	int work = 0;
	/* one waiter per free work buffer, in arrival order */
	while (tt->wait_head && tt->tls->free_work) {
		struct ttls_conn *x = tt->wait_head;
		tt->wait_head = x->wait_next;
		if (!tt->wait_head)
			tt->wait_tail = NULL;
		x->waiting = false;
		work++;
		if (x->in_use && x->tc) {
			x->retrying = true;
			tcp_recv_resume(x->tc);
			x->retrying = false;
		}
	}
	struct ttls_conn *list = tt->pending;
	tt->pending = NULL;
	while (list) {
		struct ttls_conn *x = list;
		list = x->next_pending;
		x->pending = false;
		if (!x->in_use)
			continue;
		work++;
		if (x->resume_wanted && x->tc) {
			if (!ttls_flush(x))
				continue;           /* writable() wakes it */
			x->resume_wanted = false;
			if (x->held == HELD_IN_WORK) {
				if (!ttls_deliver_held_work(x))
					continue;
			}
			if (x->in_use && x->tc)
				tcp_recv_resume(x->tc);
		}
		if (x->in_use && x->eof_seen && !x->eof_given && x->held == HELD_NONE) {
			x->eof_given = true;
			if (x->hc)
				http_conn_eof(x->hc);
		}
		if (x->in_use)
			ttls_pump(x);
	}
	return work;
}

/* ---- TCP handlers ---------------------------------------------------------------------- */

static size_t on_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)c;
	struct ttls_conn *x = arg;
	if (!x->in_use)
		return len;
	if (!data) {
		x->eof_seen = true;
		if (x->held == HELD_NONE && !x->eof_given) {
			x->eof_given = true;
			if (x->hc)
				http_conn_eof(x->hc);
		}
		return 0;
	}
	size_t taken;
	ttls_input(x, data, len, &taken);
	return taken;
}

static void on_writable(struct tcp_conn *c, void *arg)
{
	(void)c;
	struct ttls_conn *x = arg;
	if (!x->in_use)
		return;
	ttls_pump(x);
}

static void on_closed(struct tcp_conn *c, int reason, void *arg)
{
	(void)c;
	struct ttls_conn *x = arg;
	if (!x->in_use)
		return;
	struct http_conn *hc = x->hc;
	if (reason != K_OK)
		x->tt->stats.resets++;
	x->tc = NULL;
	ttls_release(x);
	if (hc)
		http_conn_closed(hc);
}

static const struct tcp_handlers ttls_handlers = {
	.recv = on_recv,
	.writable = on_writable,
	.closed = on_closed,
};

static int on_accept(struct tcp_conn *c, void *arg)
{
	struct ttls *tt = arg;
	struct ttls_conn *x = tt->free;
	struct http_conn *hc = x ? http_conn_open(tt->srv, &ttls_ops, x) : NULL;
	if (!hc && x && http_server_evict(tt->srv))
		hc = http_conn_open(tt->srv, &ttls_ops, x);
	if (!hc) {
		/* no HTTP answer can be sent before a handshake: refuse */
		tt->stats.refused++;
		return K_ENOMEM;
	}
	tt->free = x->next_free;
	/* a released conn may still be linked in the poller's list */
	struct ttls *keep = x->tt;
	struct ttls_conn *next_pending = x->next_pending;
	bool pending = x->pending;
	memset(x, 0, sizeof *x);
	x->tt = keep;
	x->pending = pending;
	x->next_pending = next_pending;
	x->in_use = true;
	x->tc = c;
	uint16_t pport;
	tcp_get_peer(c, &x->peer, &pport);
	x->hc = hc;
	tls_conn_init(&x->tls, tt->tls);
	tt->stats.accepted++;
	tcp_set_handlers(c, &ttls_handlers, x);
	return K_OK;
}

/* ---- set-up ---------------------------------------------------------------------------- */

static struct ttls *ttls_of(const struct http_server *srv)
{
	for (unsigned i = 0; i < HTTPS_MAX_SERVERS; i++)
		if (ttls_servers[i].srv == srv)
			return &ttls_servers[i];
	return NULL;
}

int http_listen_tls(struct http_server *srv, struct tls_server *tls, struct net_if *nif,
		    uint16_t port, unsigned backlog)
{
	struct ttls *tt = ttls_of(srv);
	if (!tt) {
		tt = ttls_of(NULL);
		if (!tt)
			return K_ENOSPC;
		struct ttls_conn *conns = kzalloc((size_t)srv->nconns * sizeof *conns);
		if (!conns)
			return K_ENOMEM;
		memset(tt, 0, sizeof *tt);
		tt->srv = srv;
		tt->tls = tls;
		tt->conns = conns;
		tt->nconns = srv->nconns;
		for (uint32_t i = srv->nconns; i-- > 0;) {
			conns[i].tt = tt;
			conns[i].next_free = tt->free;
			tt->free = &conns[i];
		}
		tt->poller.fn = ttls_poll;
		tt->poller.ctx = tt;
		tt->poller.name = "https";
		loop_add_poller(&tt->poller);
	}
	return tcp_listen(nif, port, backlog, on_accept, tt);
}

void https_get_stats(const struct http_server *srv, struct https_stats *out)
{
	const struct ttls *tt = ttls_of(srv);
	if (tt)
		*out = tt->stats;
	else
		memset(out, 0, sizeof *out);
}
