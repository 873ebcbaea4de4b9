/*
 * http_tcp.c - the HTTP engine on Kiln's TCP (kiln/tcp.h): listening,
 * the transport ops, and the server's timer.
 *
 * Interface: http_listen_tcp, http_tcp_get_stats (kiln/http.h).
 *
 * Mapping (kiln/http.h's transport contract onto kiln/tcp.h's):
 *   accept      -> http_conn_open (pool full: an idle or slow connection is
 *                  evicted, http_server_evict; none evictable: canned
 *                  503, then close)
 *   recv(data)  -> http_conn_input; the bytes it did not consume stay
 *                  with TCP, which stops delivering until resume_read
 *                  (tcp_recv_resume) - the window shrinks meanwhile
 *   recv(NULL)  -> http_conn_eof          writable -> http_conn_writable
 *   closed      -> http_conn_closed (reset, timeout, both FINs done)
 *   write_copy  -> tcp_write (K_EAGAIN: 0 bytes taken)
 *   write_borrowed -> tcp_write_borrowed, with the completion rule fixed
 *                  up: TCP runs done on every path, even when it refuses
 *                  the span, while the engine wants done only after K_OK
 *                  (it keeps a refused span and retries). A completion
 *                  is therefore parked in a per-connection slot and only
 *                  forwarded once TCP accepted the span. Spans without a
 *                  completion (literals, baked assets) go straight
 *                  through. K_ENOMEM (no send-queue entry) becomes
 *                  K_EAGAIN: TCP calls writable() when entries free up.
 *   shutdown/close -> tcp_shutdown/tcp_close; resume_read -> tcp_recv_resume
 *
 * Rules:
 *  - Everything runs on the loop of the core that owns the interface.
 *  - Per-connection transport state (struct htcp_conn) comes from an
 *    array taken once, at the first listen for a server, sized like the
 *    server's pool; nothing is allocated per connection or request.
 *  - A htcp_conn is the transport ctx of one engine connection. It is
 *    released when the engine closes it (ops close) or TCP reports the
 *    connection gone (closed handler), whichever is first; after that
 *    neither side calls the other for it.
 *  - A parked completion may outlive its connection (TCP holds the span
 *    until acknowledged): the slot stays taken until then and only then
 *    forwards done. Completions never call into the engine: a connection
 *    that waits for a slot is queued and woken by this file's poller on
 *    the next loop pass.
 *  - One timer per server. Every deadline the engine can create is at
 *    least min(request, idle, send, response, linger timeout) after the
 *    event that made it (an input, a writable, an accept, or a write -
 *    an app's late answer starts a send deadline), so after each event
 *    the timer is only pulled in to now + that
 *    minimum when armed later (O(1)); when it fires it runs
 *    http_server_tick and re-arms to http_server_next_deadline (O(pool)).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/http.h>
#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/mem.h>
#include <kiln/tcp.h>
#include <kiln/time.h>
#include <kiln/timer.h>

enum { SLOT_FREE = 0, SLOT_CALLING, SLOT_QUEUED };

struct htcp_conn;

struct htcp_slot {
	struct htcp_conn *owner;
	void (*done)(void *arg);
	void *arg;
	uint8_t state;
	bool fired;                 /* done ran inside tcp_write_borrowed */
};

struct htcp_conn {
	struct htcp *ht;
	struct tcp_conn *tc;        /* NULL: free, or the connection is gone */
	struct http_conn *hc;
	struct htcp_conn *next_free, *next_pending;
	bool in_use, pending, want_writable;
	struct htcp_slot slot[HTTP_TCP_BORROW_SLOTS];
};

struct htcp {
	struct http_server *srv;
	struct htcp_conn *conns;
	uint32_t nconns;
	struct htcp_conn *free, *pending;
	struct timer timer;
	uint64_t timer_at;          /* UINT64_MAX: not armed */
	uint64_t min_timeout;
	struct poller poller;
	struct http_tcp_stats stats;
};

static struct htcp htcp_servers[HTTP_TCP_MAX_SERVERS];

/* ---- timer --------------------------------------------------------------- */

static void htcp_timer_fire(struct timer *t, void *arg)
{
	(void)t;
	struct htcp *ht = arg;
	uint64_t now = time_now_ns();
	ht->timer_at = UINT64_MAX;
	ht->stats.ticks++;
	http_server_tick(ht->srv, now);
	uint64_t d = http_server_next_deadline(ht->srv);
	if (d == UINT64_MAX)
		return;
	if (d <= now)
		d = now + NS_PER_MS;
	ht->timer_at = d;
	timer_arm(&ht->timer, d);
}

/* After an event: the engine may now have a deadline min_timeout away. */
static void htcp_timer_touch(struct htcp *ht)
{
	uint64_t want = time_now_ns() + ht->min_timeout;
	if (ht->timer_at > want) {
		ht->timer_at = want;
		timer_arm(&ht->timer, want);
	}
}

/* ---- connection state -------------------------------------------------------- */

static void htcp_release(struct htcp_conn *hx)
{
	struct htcp *ht = hx->ht;
	hx->in_use = false;
	hx->tc = NULL;
	hx->hc = NULL;
	hx->want_writable = false;
	hx->next_free = ht->free;
	ht->free = hx;
}

static void htcp_wake(struct htcp_conn *hx)
{
	struct htcp *ht = hx->ht;
	if (hx->pending)
		return;
	hx->pending = true;
	hx->next_pending = ht->pending;
	ht->pending = hx;
	loop_kick();
}

/* Connections that waited for a borrow slot write again. */
static int htcp_poll(void *ctx)
{
	struct htcp *ht = ctx;
	int work = 0;
	while (ht->pending) {
		struct htcp_conn *hx = ht->pending;
		ht->pending = hx->next_pending;
		hx->pending = false;
		if (hx->in_use && hx->tc && hx->want_writable) {
			hx->want_writable = false;
			http_conn_writable(hx->hc);
			work++;
		}
	}
	return work;
}

/* ---- transport ops --------------------------------------------------------------- */

static int op_write_copy(void *ctx, const void *data, size_t len)
{
	struct htcp_conn *hx = ctx;
	if (!hx->tc)
		return K_ECLOSED;
	int r = tcp_write(hx->tc, data, len);
	htcp_timer_touch(hx->ht);       /* a send deadline may start now */
	return r == K_EAGAIN ? 0 : r;
}

static void slot_done(void *arg)
{
	struct htcp_slot *s = arg;
	if (s->state == SLOT_CALLING) {
		s->fired = true;        /* decided when tcp_write_borrowed returns */
		return;
	}
	void (*done)(void *) = s->done;
	void *darg = s->arg;
	struct htcp_conn *hx = s->owner;
	s->state = SLOT_FREE;
	s->done = NULL;
	if (done)
		done(darg);
	if (hx->in_use && hx->want_writable)
		htcp_wake(hx);
}

static int op_write_borrowed(void *ctx, const void *data, size_t len, void (*done)(void *arg),
			     void *arg)
{
	struct htcp_conn *hx = ctx;
	int r;

	if (!hx->tc)
		return K_ECLOSED;
	htcp_timer_touch(hx->ht);       /* a send deadline may start now */
	if (!done) {
		r = tcp_write_borrowed(hx->tc, data, len, NULL, NULL);
		return r == K_ENOMEM ? K_EAGAIN : r;
	}
	struct htcp_slot *s = NULL;
	for (unsigned i = 0; i < HTTP_TCP_BORROW_SLOTS; i++) {
		if (hx->slot[i].state == SLOT_FREE) {
			s = &hx->slot[i];
			break;
		}
	}
	if (!s) {
		hx->want_writable = true;
		hx->ht->stats.borrow_waits++;
		return K_EAGAIN;
	}
	s->owner = hx;
	s->done = done;
	s->arg = arg;
	s->fired = false;
	s->state = SLOT_CALLING;
	r = tcp_write_borrowed(hx->tc, data, len, slot_done, s);
	if (r == K_OK && !s->fired) {
		s->state = SLOT_QUEUED;
		return K_OK;
	}
	s->state = SLOT_FREE;
	s->done = NULL;
	if (r == K_OK) {
		done(arg);              /* accepted and already finished */
		return K_OK;
	}
	return r == K_ENOMEM ? K_EAGAIN : r;   /* refused: the engine keeps done */
}

static void op_shutdown(void *ctx)
{
	struct htcp_conn *hx = ctx;
	if (hx->tc)
		tcp_shutdown(hx->tc);
}

static void op_close(void *ctx)
{
	struct htcp_conn *hx = ctx;
	struct tcp_conn *tc = hx->tc;
	if (!hx->in_use)
		return;
	htcp_release(hx);
	if (tc)
		tcp_close(tc);
}

static void op_resume_read(void *ctx)
{
	struct htcp_conn *hx = ctx;
	if (hx->tc)
		tcp_recv_resume(hx->tc);
}

static const struct http_transport_ops htcp_ops = {
	.write_copy = op_write_copy,
	.write_borrowed = op_write_borrowed,
	.shutdown = op_shutdown,
	.close = op_close,
	.resume_read = op_resume_read,
};

/* ---- TCP handlers ------------------------------------------------------------------ */

static size_t on_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)c;
	struct htcp_conn *hx = arg;
	struct htcp *ht = hx->ht;
	if (!hx->in_use)
		return len;
	if (!data) {
		http_conn_eof(hx->hc);
		return 0;
	}
	size_t n = http_conn_input(hx->hc, data, len);
	htcp_timer_touch(ht);
	return n;
}

static void on_writable(struct tcp_conn *c, void *arg)
{
	(void)c;
	struct htcp_conn *hx = arg;
	if (!hx->in_use)
		return;
	hx->want_writable = false;
	http_conn_writable(hx->hc);
	htcp_timer_touch(hx->ht);
}

static void on_closed(struct tcp_conn *c, int reason, void *arg)
{
	(void)c;
	struct htcp_conn *hx = arg;
	if (!hx->in_use)
		return;
	struct http_conn *hc = hx->hc;
	if (reason != K_OK)
		hx->ht->stats.resets++;
	hx->tc = NULL;              /* no op reaches TCP from here on */
	htcp_release(hx);
	http_conn_closed(hc);
}

static const struct tcp_handlers htcp_handlers = {
	.recv = on_recv,
	.writable = on_writable,
	.closed = on_closed,
};

/* How long a refused connection may stay silent before it is dropped. */
#define HTCP_REFUSED_LINGER_NS (5 * NS_PER_SEC)

/* The answer when every connection of the pool is taken (RFC 9110 15.6.4). */
static const char htcp_busy[] =
	"HTTP/1.1 503 Service Unavailable\r\n"
	"Server: Kiln\r\n"
	"Content-Type: text/plain\r\n"
	"Content-Length: 19\r\n"
	"Retry-After: 1\r\n"
	"Connection: close\r\n"
	"\r\n"
	"server at capacity\n";

/* A refused connection reads and drops what the client sends, so that
 * its request is not "unread data" turning the close into a reset that
 * would destroy the 503 (RFC 9293 3.10.4); the client's FIN ends it. */
static size_t refused_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (!data)
		tcp_close(c);
	return len;
}

static const struct tcp_handlers htcp_refused_handlers = {
	.recv = refused_recv,
};

static int on_accept(struct tcp_conn *c, void *arg)
{
	struct htcp *ht = arg;
	struct htcp_conn *hx = ht->free;
	struct http_conn *hc = hx ? http_conn_open(ht->srv, &htcp_ops, hx) : NULL;

	if (!hc && http_server_evict(ht->srv)) {
		/* an idle or slow connection made room (nginx's policy) */
		hx = ht->free;
		hc = hx ? http_conn_open(ht->srv, &htcp_ops, hx) : NULL;
	}

	if (!hc) {
		ht->stats.refused++;
		tcp_set_handlers(c, &htcp_refused_handlers, NULL);
		tcp_write_borrowed(c, htcp_busy, sizeof htcp_busy - 1, NULL, NULL);
		tcp_shutdown(c);
		/* a client that never closes is dropped after a few silent
		 * seconds; it holds a TCP block only, never an HTTP slot */
		tcp_set_keepalive(c, true, HTCP_REFUSED_LINGER_NS, NS_PER_SEC, 1);
		return K_OK;
	}
	ht->free = hx->next_free;
	hx->in_use = true;
	hx->tc = c;
	hx->hc = hc;
	hx->want_writable = false;
	ht->stats.accepted++;
	tcp_set_handlers(c, &htcp_handlers, hx);
	htcp_timer_touch(ht);
	return K_OK;
}

/* ---- set-up ------------------------------------------------------------------------ */

static struct htcp *htcp_of(const struct http_server *srv)
{
	for (unsigned i = 0; i < HTTP_TCP_MAX_SERVERS; i++)
		if (htcp_servers[i].srv == srv)
			return &htcp_servers[i];
	return NULL;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static struct htcp *htcp_setup(struct http_server *srv)
{
	struct htcp *ht = htcp_of(srv);
	if (ht)
		return ht;
	ht = htcp_of(NULL);
	if (!ht)
		return NULL;
	struct htcp_conn *conns = kzalloc((size_t)srv->nconns * sizeof *conns);
	if (!conns)
		return NULL;
	memset(ht, 0, sizeof *ht);
	ht->srv = srv;
	ht->conns = conns;
	ht->nconns = srv->nconns;
	for (uint32_t i = srv->nconns; i-- > 0;) {
		conns[i].ht = ht;
		conns[i].next_free = ht->free;
		ht->free = &conns[i];
	}
	const struct http_limits *l = &srv->cfg.limits;
	ht->min_timeout = min_u64(min_u64(l->request_timeout_ns, l->idle_timeout_ns),
				  min_u64(min_u64(l->send_timeout_ns, l->response_timeout_ns),
					  l->linger_ns));
	if (ht->min_timeout < NS_PER_MS)
		ht->min_timeout = NS_PER_MS;
	ht->timer_at = UINT64_MAX;
	timer_init(&ht->timer, htcp_timer_fire, ht);
	ht->poller.fn = htcp_poll;
	ht->poller.ctx = ht;
	ht->poller.name = "http-tcp";
	loop_add_poller(&ht->poller);
	return ht;
}

int http_listen_tcp(struct http_server *srv, struct net_if *nif, uint16_t port, unsigned backlog)
{
	struct htcp *ht = htcp_setup(srv);
	if (!ht)
		return htcp_of(NULL) ? K_ENOMEM : K_ENOSPC;
	return tcp_listen(nif, port, backlog, on_accept, ht);
}

void http_tcp_get_stats(const struct http_server *srv, struct http_tcp_stats *out)
{
	const struct htcp *ht = htcp_of(srv);
	if (ht)
		*out = ht->stats;
	else
		memset(out, 0, sizeof *out);
}
