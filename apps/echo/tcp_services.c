/*
 * tcp_services.c - TCP echo (RFC 862, port 7), discard (RFC 863, port 9)
 * and chargen (RFC 864, port 19), as callbacks on the run loop.
 *
 * Interface: tcp_services_start() (echo.h).
 *
 * Rules:
 *  - echo writes back straight from the receive view with the copying
 *    tcp_write(), and consumes exactly what the send buffer took. When
 *    the send side is full it consumes less (or nothing): the stack then
 *    holds the rest, stops delivering and shrinks the window, so the peer
 *    slows down; writable() resumes delivery. No byte is dropped, however
 *    fast the peer sends. The peer's FIN (after every byte was echoed)
 *    closes our side after the queued echo.
 *  - discard consumes everything and closes when the peer does.
 *  - chargen lends the stack one static pattern (whole RFC 864 periods,
 *    written once at start-up and read-only after) with the borrowed,
 *    zero-copy write, CHARGEN_SPANS spans in flight per connection at
 *    most so one connection cannot take every send-queue entry. Span
 *    releases (done) may come from inside the stack, so they never write:
 *    they queue the connection for the app's poller, which refills it on
 *    the next loop pass. A connection's state lives until both the
 *    connection is gone and its last span came back.
 *  - Echo and discard keep no state of their own.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/mem.h>
#include <kiln/tcp.h>

#include "echo.h"

/* Half-open handshakes kept per port; SYN cookies answer beyond it. */
#define SERVICE_BACKLOG 1024

static void service_closed(struct tcp_conn *c, int reason, void *arg)
{
	(void)c;
	(void)arg;
	if (reason != K_OK)
		log_debug("echo: connection ended: %s", kiln_strerror(reason));
}

/* ---- echo ------------------------------------------------------------------ */

static size_t echo_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (!data) {                /* FIN: everything before it was echoed */
		tcp_close(c);
		return 0;
	}
	int n = tcp_write(c, data, len);
	if (n == K_EAGAIN)
		return 0;           /* send side full: hold it, writable() resumes */
	if (n < 0) {
		tcp_abort(c);       /* our side closed under us: nothing to do */
		return 0;
	}
	return (size_t)n;
}

static void echo_writable(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_recv_resume(c);
}

static const struct tcp_handlers echo_handlers = {
	.recv = echo_recv,
	.writable = echo_writable,
	.closed = service_closed,
};

static int echo_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_set_handlers(c, &echo_handlers, NULL);
	return K_OK;
}

/* ---- discard ---------------------------------------------------------------- */

static size_t discard_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (!data)
		tcp_close(c);
	return len;
}

static const struct tcp_handlers discard_handlers = {
	.recv = discard_recv,
	.closed = service_closed,
};

static int discard_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_set_handlers(c, &discard_handlers, NULL);
	return K_OK;
}

/* ---- chargen ---------------------------------------------------------------- */

/* RFC 864: lines of 72 of the 95 printable characters, each starting one
 * character later than the one before, CR LF after each; the stream
 * repeats every 95 lines. */
#define CHARGEN_LINE 72
#define CHARGEN_PERIOD (95 * (CHARGEN_LINE + 2))    /* 7030 bytes */
/* One span of 9 periods (63 KiB), and at most 4 spans per connection:
 * ~250 KB lent at once, like the copied send buffer of a connection. */
#define CHARGEN_SPAN_PERIODS 9
#define CHARGEN_SPANS 4

static uint8_t chargen_pattern[CHARGEN_SPAN_PERIODS * CHARGEN_PERIOD];

struct chargen {
	struct tcp_conn *c;
	struct chargen *next_pending;
	unsigned inflight;          /* spans lent and not yet released */
	bool gone;                  /* the connection is closed or freed */
	bool pending;               /* on the refill list */
	bool writing;               /* inside tcp_write_borrowed() */
};

static struct chargen *chargen_pending;

static void chargen_build_pattern(void)
{
	for (size_t i = 0; i < sizeof(chargen_pattern); i++) {
		size_t line = (i / (CHARGEN_LINE + 2)) % 95, col = i % (CHARGEN_LINE + 2);
		if (col == CHARGEN_LINE)
			chargen_pattern[i] = '\r';
		else if (col == CHARGEN_LINE + 1)
			chargen_pattern[i] = '\n';
		else
			chargen_pattern[i] = (uint8_t)(' ' + (line + col) % 95);
	}
}

/* Frees g once nothing refers to it any more. */
static void chargen_maybe_free(struct chargen *g)
{
	if (g->gone && g->inflight == 0 && !g->pending)
		kfree(g);
}

static void chargen_done(void *arg)
{
	struct chargen *g = arg;
	g->inflight--;
	if (g->gone) {
		chargen_maybe_free(g);
		return;
	}
	/* A write refused at once: writable() will say when to try again. */
	if (g->writing)
		return;
	if (!g->pending) {
		g->pending = true;
		g->next_pending = chargen_pending;
		chargen_pending = g;
		loop_kick();
	}
}

static void chargen_fill(struct chargen *g)
{
	while (!g->gone && g->inflight < CHARGEN_SPANS) {
		g->inflight++;
		g->writing = true;
		/* On failure done has already run and given the count back. */
		int ret = tcp_write_borrowed(g->c, chargen_pattern, sizeof(chargen_pattern),
					     chargen_done, g);
		g->writing = false;
		if (ret < 0)
			break;              /* K_ENOMEM: writable() follows */
	}
}

static int chargen_poll(void *ctx)
{
	(void)ctx;
	int work = 0;
	while (chargen_pending) {
		struct chargen *g = chargen_pending;
		chargen_pending = g->next_pending;
		g->pending = false;
		work++;
		if (g->gone)
			chargen_maybe_free(g);
		else
			chargen_fill(g);
	}
	return work;
}

static struct poller chargen_poller = { .fn = chargen_poll, .name = "chargen" };

static void chargen_end(struct chargen *g)
{
	g->gone = true;
	g->c = NULL;
	chargen_maybe_free(g);
}

static size_t chargen_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	if (!data) {
		tcp_close(c);
		chargen_end(arg);
	}
	return len;             /* what the client sends is thrown away */
}

static void chargen_writable(struct tcp_conn *c, void *arg)
{
	(void)c;
	chargen_fill(arg);
}

static void chargen_closed(struct tcp_conn *c, int reason, void *arg)
{
	service_closed(c, reason, NULL);
	chargen_end(arg);
}

static const struct tcp_handlers chargen_handlers = {
	.recv = chargen_recv,
	.writable = chargen_writable,
	.closed = chargen_closed,
};

static int chargen_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	struct chargen *g = kzalloc(sizeof(*g));
	if (!g)
		return K_ENOMEM;    /* the stack resets the connection */
	g->c = c;
	tcp_set_handlers(c, &chargen_handlers, g);
	chargen_fill(g);
	return K_OK;
}

/* ---- start-up -------------------------------------------------------------------- */

int tcp_services_start(struct net_if *nif)
{
	chargen_build_pattern();
	loop_add_poller(&chargen_poller);
	int ret = tcp_listen(nif, ECHO_PORT, SERVICE_BACKLOG, echo_accept, NULL);
	if (ret == K_OK)
		ret = tcp_listen(nif, DISCARD_PORT, SERVICE_BACKLOG, discard_accept, NULL);
	if (ret == K_OK)
		ret = tcp_listen(nif, CHARGEN_PORT, SERVICE_BACKLOG, chargen_accept, NULL);
	return ret;
}
