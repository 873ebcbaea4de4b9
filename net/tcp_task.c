/*
 * tcp_task.c - TCP as waiting calls for tasks: accept, connect, read,
 * write, shutdown and close that block the calling task (not the loop)
 * until they can finish or time out.
 *
 * Interface: the "waiting calls" section of kiln/tcp.h. Only the public
 * callback API (kiln/tcp.h) and events (kiln/task.h) are used.
 *
 * Rules:
 *  - Handlers run on the loop and never wait: they record what happened
 *    in the stream (or listener) and event_signal() it. Tasks check the
 *    state, and only then wait; with cooperative tasks nothing can happen
 *    between the check and the wait, so no wake-up is lost.
 *  - Receiving keeps bytes in TCP: the recv handler consumes nothing, it
 *    keeps the view and returns 0, which pauses delivery. A read copies
 *    from the view, tcp_recv_ack()s what it copied and tcp_recv_resume()s
 *    so the handler is offered the rest (or the FIN). The window thus
 *    follows what the task has read, not what has arrived.
 *  - Connections accepted before a task asks for them wait in the
 *    listener's queue with parking handlers that hold data the same way
 *    and note an early FIN (delivered only once by TCP); a parked
 *    connection that closes leaves the queue.
 *  - The closed handler is the conn's last call: the stream forgets conn
 *    and the view (its memory goes with the conn) and keeps the reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/task.h>
#include <kiln/tcp.h>
#include <kiln/time.h>

#include "task_wait.h"

/* ---- stream handlers (the loop side) ----------------------------------------- */

static void s_connected(struct tcp_conn *c, void *arg)
{
	struct tcp_stream *s = arg;
	(void)c;
	s->connected = true;
	event_signal(&s->ev);
}

static size_t s_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct tcp_stream *s = arg;
	(void)c;
	if (data) {
		s->view = data;
		s->view_len = len;
	} else {
		s->eof = true;
	}
	event_signal(&s->ev);
	return 0;
}

static void s_writable(struct tcp_conn *c, void *arg)
{
	(void)c;
	event_signal(&((struct tcp_stream *)arg)->ev);
}

static void s_closed(struct tcp_conn *c, int reason, void *arg)
{
	struct tcp_stream *s = arg;
	(void)c;
	s->conn = NULL;
	s->view = NULL;
	s->view_len = 0;
	s->closed = true;
	s->err = reason;
	if (reason == K_OK)
		s->eof = true;            /* both FINs exchanged */
	event_signal(&s->ev);
}

static const struct tcp_handlers stream_handlers = {
	.connected = s_connected, .recv = s_recv, .writable = s_writable, .closed = s_closed,
};

static void stream_init(struct tcp_stream *s)
{
	memset(s, 0, sizeof *s);
	event_init(&s->ev);
}

/* What a call on a stream without a connection reports. */
static int stream_gone(const struct tcp_stream *s)
{
	if (!s->closed || s->err == K_OK)
		return K_ECLOSED;
	return s->err;
}

/* ---- listening ------------------------------------------------------------------ */

static struct tcp_stream_pending *pending_find(struct tcp_stream_listener *l,
					       const struct tcp_conn *c)
{
	for (unsigned i = 0; i < l->nq; i++)
		if (l->q[i].conn == c)
			return &l->q[i];
	return NULL;
}

static void pending_remove(struct tcp_stream_listener *l, struct tcp_stream_pending *p)
{
	unsigned i = (unsigned)(p - l->q);
	memmove(&l->q[i], &l->q[i + 1], (l->nq - i - 1) * sizeof l->q[0]);
	l->nq--;
}

static size_t p_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct tcp_stream_pending *p = pending_find(arg, c);
	(void)len;
	if (!data && p)
		p->eof = true;
	return 0;                         /* held until a stream takes it */
}

static void p_closed(struct tcp_conn *c, int reason, void *arg)
{
	struct tcp_stream_pending *p = pending_find(arg, c);
	(void)reason;
	if (p)
		pending_remove(arg, p);
}

static const struct tcp_handlers parked_handlers = { .recv = p_recv, .closed = p_closed };

static int l_accept(struct tcp_conn *c, void *arg)
{
	struct tcp_stream_listener *l = arg;
	if (!l->open || l->nq == TCP_STREAM_ACCEPT_QUEUE)
		return K_ENOSPC;              /* resets the connection */
	l->q[l->nq].conn = c;
	l->q[l->nq].eof = false;
	l->nq++;
	tcp_set_handlers(c, &parked_handlers, l);
	event_signal(&l->ev);
	return K_OK;
}

int tcp_stream_listen(struct tcp_stream_listener *l, struct net_if *nif, uint16_t port,
		      unsigned backlog)
{
	memset(l, 0, sizeof *l);
	event_init(&l->ev);
	int ret = tcp_listen(nif, port, backlog, l_accept, l);
	if (ret < 0)
		return ret;
	l->nif = nif;
	l->port = port;
	l->open = true;
	return K_OK;
}

void tcp_stream_unlisten(struct tcp_stream_listener *l)
{
	if (!l->open)
		return;
	l->open = false;
	tcp_unlisten(l->nif, l->port);
	while (l->nq) {
		struct tcp_conn *c = l->q[--l->nq].conn;
		tcp_abort(c);
	}
	event_signal(&l->ev);
}

int tcp_stream_accept(struct tcp_stream_listener *l, struct tcp_stream *s, uint64_t timeout_ns)
{
	if (!task_current())
		return K_EINVAL;
	uint64_t deadline = task_deadline_of(timeout_ns);
	while (l->nq == 0) {
		if (!l->open)
			return K_ECLOSED;
		int ret = task_wait_until(&l->ev, deadline);
		if (ret < 0)
			return ret;
	}
	if (!l->open)
		return K_ECLOSED;
	struct tcp_stream_pending p = l->q[0];
	pending_remove(l, &l->q[0]);
	stream_init(s);
	s->conn = p.conn;
	s->connected = true;
	s->eof = p.eof;
	tcp_set_handlers(p.conn, &stream_handlers, s);
	/* Offer what arrived while parked (and a FIN not yet delivered). */
	tcp_recv_resume(p.conn);
	return K_OK;
}

/* ---- connecting ------------------------------------------------------------------- */

int tcp_stream_connect(struct tcp_stream *s, struct net_if *nif, uint32_t addr, uint16_t port,
		       uint64_t timeout_ns)
{
	if (!task_current())
		return K_EINVAL;
	stream_init(s);
	uint64_t deadline = task_deadline_of(timeout_ns);
	struct tcp_conn *c;
	int ret = tcp_connect(nif, addr, port, &stream_handlers, s, &c);
	if (ret < 0)
		return ret;
	s->conn = c;
	while (!s->connected && s->conn) {
		ret = task_wait_until(&s->ev, deadline);
		if (ret == K_ETIMEDOUT && !s->connected && s->conn) {
			tcp_stream_abort(s);
			return K_ETIMEDOUT;
		}
	}
	if (!s->conn && !s->connected)
		return s->err < 0 ? s->err : K_ECONNREFUSED;
	return K_OK;
}

/* ---- data ------------------------------------------------------------------------- */

int tcp_stream_read(struct tcp_stream *s, void *buf, size_t len, uint64_t timeout_ns)
{
	if (!task_current())
		return K_EINVAL;
	if (len > __INT_MAX__)
		len = __INT_MAX__;
	uint64_t deadline = task_deadline_of(timeout_ns);
	while (!s->view_len) {
		if (s->eof || len == 0)
			return 0;
		if (!s->conn)
			return stream_gone(s);
		int ret = task_wait_until(&s->ev, deadline);
		if (ret < 0)
			return ret;
	}
	uint8_t *dst = buf;
	size_t n = 0;
	while (n < len && s->view_len && s->conn) {
		size_t k = s->view_len < len - n ? s->view_len : len - n;
		memcpy(dst + n, s->view, k);
		n += k;
		struct tcp_conn *c = s->conn;
		s->view = NULL;
		s->view_len = 0;
		tcp_recv_ack(c, k);
		/* The ack may have ended the connection (s_closed ran). */
		if (s->conn)
			tcp_recv_resume(s->conn);
	}
	return (int)n;
}

int tcp_stream_write(struct tcp_stream *s, const void *data, size_t len, uint64_t timeout_ns)
{
	if (!task_current())
		return K_EINVAL;
	if (len > __INT_MAX__)
		return K_EMSGSIZE;
	uint64_t deadline = task_deadline_of(timeout_ns);
	const uint8_t *src = data;
	size_t done = 0;
	int ret = K_OK;
	while (done < len) {
		if (!s->conn) {
			ret = stream_gone(s);
			break;
		}
		ret = tcp_write(s->conn, src + done, len - done);
		if (ret > 0) {
			done += (size_t)ret;
			continue;
		}
		/* tcp_write() returns 0 (not K_EAGAIN) when the send buffer
		 * is exactly full; both mean "no room": writable() signals
		 * when ACKs free some. */
		if (ret != K_EAGAIN && ret != 0)
			break;
		ret = task_wait_until(&s->ev, deadline);
		if (ret < 0)
			break;
	}
	return done ? (int)done : ret;
}

/* ---- closing ------------------------------------------------------------------------ */

int tcp_stream_shutdown(struct tcp_stream *s)
{
	if (!s->conn)
		return stream_gone(s);
	return tcp_shutdown(s->conn);
}

/* Detaches s from its connection, ends that with end(), and wakes any
 * task still waiting on s. */
static void stream_end(struct tcp_stream *s, void (*end)(struct tcp_conn *))
{
	struct tcp_conn *c = s->conn;
	s->conn = NULL;
	s->view = NULL;
	s->view_len = 0;
	s->closed = true;
	if (c)
		end(c);
	event_signal(&s->ev);
}

void tcp_stream_close(struct tcp_stream *s)
{
	stream_end(s, tcp_close);
}

void tcp_stream_abort(struct tcp_stream *s)
{
	stream_end(s, tcp_abort);
}
