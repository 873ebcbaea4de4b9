/*
 * tcp.c - kiln/tcp.h over Linux TCP sockets, for the native runner.
 *
 * Interface: kiln/tcp.h; native_tcp_run_pending, native_tcp_has_pending
 * and native_tcp_reap in native.h (the loop calls them).
 *
 * Listening: tcp_listen() opens a socket with SO_REUSEPORT on
 * bind=ADDR and the app's port plus port_offset, so every core's process
 * has its own listener and Linux spreads connections over them. Accepted
 * sockets are non-blocking, TCP_NODELAY (Kiln's default), and watched
 * edge-triggered for input and output, so a connection costs one
 * epoll_ctl() in its life.
 *
 * Receiving: bytes are read into the connection's buffer (NATIVE_RCV_BUF)
 * and handed to recv() as a view of it. What recv() does not consume
 * stays where it is (the view stays valid) and delivery pauses until
 * tcp_recv_resume(); meanwhile reading continues into the free tail, and
 * stops when the buffer is full - then Linux's receive window closes, as
 * the kernel stack's does. A read shorter than the room offered means
 * the socket was drained (edge-triggered epoll reports any later byte),
 * which saves the read that would return EAGAIN. A connection gets
 * NATIVE_READS_PER_TURN reads at a time, then waits on the pending list
 * behind the others. FIN is delivered as recv(NULL, 0) after the last
 * byte.
 *
 * Sending: tcp_write() copies into the connection's send buffer
 * (NATIVE_SND_BUF) and tcp_write_borrowed() queues the span itself; both
 * become entries of one ordered queue, flushed with one sendmsg() of all
 * entries when the event that caused them is done (or, for writes from
 * timers and tasks, at the end of the loop pass). Borrowed spans go to
 * the kernel without a copy; their done() runs when the kernel has taken
 * all their bytes, or when the connection ends. writable() runs once
 * after a refused or short write, when the queue has made progress.
 *
 * Closing: tcp_shutdown() sends FIN (shutdown(SHUT_WR)) once the queue
 * is empty; tcp_close() closes the socket once the queue is empty (a
 * reset at once if received bytes are unread, as RFC 9293 3.10.4 asks)
 * and resets it if the peer has not taken the queue after
 * NATIVE_CLOSE_LINGER_NS; tcp_abort() resets (SO_LINGER 0). A connection
 * whose FIN was delivered and whose own FIN was sent ends with
 * closed(K_OK); reset and errors end it with closed(K_ECONNRESET, ...).
 *
 * Rules: one process is one core; nothing here locks. A connection that
 * ends is closed at once but freed only between loop passes
 * (native_tcp_reap), so an event fetched in the same batch, or a
 * pending-list entry, never points at freed memory. Every callback may
 * call any function here on any connection, its own included.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/panic.h>
#include <kiln/tcp.h>
#include <kiln/time.h>
#include <kiln/timer.h>

#include "native.h"

enum conn_state { CS_FREE, CS_CONNECTING, CS_OPEN, CS_DEAD };

/* One send-queue entry: a borrowed span (ptr) or copied bytes at
 * sbuf[off, off+len) (ptr NULL). */
struct seg {
	const uint8_t *ptr;
	uint32_t off, len;
	net_done_fn done;
	void *arg;
};

struct tcp_conn {
	struct native_ev ev;          /* first: the epoll handler */
	int fd;
	uint8_t state;                /* enum conn_state */
	bool readable;                /* the socket may hold bytes (edge seen) */
	bool out_blocked;             /* the socket refused bytes: wait for EPOLLOUT */
	bool held;                    /* recv consumed less: delivery paused */
	bool resumed;                 /* tcp_recv_resume inside recv */
	bool in_recv;                 /* recv (with data) is running */
	bool fin_rcvd, fin_delivered;
	bool shut_req, shut_done;     /* tcp_shutdown asked; SHUT_WR done */
	bool want_writable;           /* a write was refused or cut short */
	bool app_done;                /* tcp_close/abort: no handler runs again */
	bool on_pending, on_grave;
	uint16_t lport, rport;        /* lport as the app knows it */
	uint32_t raddr;
	const struct tcp_handlers *h;
	void *arg;
	struct tcp_conn *pnext;       /* pending list */
	struct tcp_conn *gnext;       /* graveyard, free list */
	struct timer linger;          /* closing with unsent data */
	uint32_t rstart, rlen;        /* unconsumed bytes: rbuf[rstart, +rlen) */
	uint8_t *sbuf;                /* NATIVE_SND_BUF, allocated on first copy */
	uint32_t sb_head, sb_tail;    /* copied bytes queued: sbuf[sb_head, sb_tail) */
	struct seg segs[NATIVE_SEGS];
	uint32_t seg_head, seg_count;
	uint8_t rbuf[NATIVE_RCV_BUF];
};

struct listener {
	struct native_ev ev;
	int fd;
	uint16_t port;                /* as the app knows it */
	tcp_accept_fn accept;
	void *arg;
};

static struct listener listeners[NATIVE_LISTENERS];
static bool listeners_ready;
static struct tcp_stats tstats;
static struct tcp_conn *pending_head, *pending_tail;
static struct tcp_conn *grave, *free_conns;
static struct tcp_conn *current;   /* whose event is being handled */

static void conn_event(struct native_ev *ev, uint32_t events);
static void conn_flush(struct tcp_conn *c);

static int errno_to_k(int e)
{
	switch (e) {
	case ECONNREFUSED: return K_ECONNREFUSED;
	case ETIMEDOUT: case EHOSTUNREACH: return K_ETIMEDOUT;
	case ENETUNREACH: return K_ENOENT;
	default: return K_ECONNRESET;
	}
}

/* ---- connection life ---------------------------------------------------------- */

static void linger_expired(struct timer *t, void *arg);

static struct tcp_conn *conn_alloc(void)
{
	struct tcp_conn *c = free_conns;
	uint8_t *sbuf = NULL;

	if (c) {
		free_conns = c->gnext;
		sbuf = c->sbuf;
	} else {
		c = malloc(sizeof *c);
		if (!c)
			return NULL;
	}
	memset(c, 0, offsetof(struct tcp_conn, rbuf));
	c->ev.fn = conn_event;
	c->fd = -1;
	c->sbuf = sbuf;
	timer_init(&c->linger, linger_expired, c);
	return c;
}

static void pending_add(struct tcp_conn *c)
{
	if (c->on_pending || c->state == CS_DEAD)
		return;
	c->on_pending = true;
	c->pnext = NULL;
	if (pending_tail)
		pending_tail->pnext = c;
	else
		pending_head = c;
	pending_tail = c;
}

/* Output was queued: flushed after the current event, else this pass. */
static void conn_dirty(struct tcp_conn *c)
{
	if (c != current)
		pending_add(c);
}

/* Ends the socket (a reset when rst) and every borrowed span; the memory
 * waits in the graveyard until the pass ends. No handler is called. */
static void conn_kill(struct tcp_conn *c, bool rst)
{
	if (c->state == CS_DEAD)
		return;
	if (c->fd >= 0) {
		if (rst) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			tstats.resets_out++;
		}
		close(c->fd);
		c->fd = -1;
	}
	if (c->state == CS_OPEN)
		tstats.conns_current--;
	c->state = CS_DEAD;
	timer_cancel(&c->linger);
	c->on_grave = true;
	c->gnext = grave;
	grave = c;
	/* Spans come back last: their done() may call in here again. */
	while (c->seg_count) {
		struct seg s = c->segs[c->seg_head];
		c->seg_head = (c->seg_head + 1) % NATIVE_SEGS;
		c->seg_count--;
		if (s.ptr && s.done)
			s.done(s.arg);
	}
}

/* The connection failed under the app: tell it (if it still listens). */
static void conn_fail(struct tcp_conn *c, int reason)
{
	bool tell = !c->app_done && c->h && c->h->closed;

	if (reason == K_ECONNRESET)
		tstats.resets_in++;
	else if (reason == K_ETIMEDOUT)
		tstats.timeouts++;
	c->app_done = true;
	conn_kill(c, false);
	if (tell)
		c->h->closed(c, reason, c->arg);
}

/* Both FINs are done and nothing is queued: the orderly end. */
static void conn_check_done(struct tcp_conn *c)
{
	if (c->state != CS_OPEN || c->app_done || !c->fin_delivered || !c->shut_done ||
	    c->seg_count)
		return;
	c->app_done = true;
	conn_kill(c, false);
	if (c->h && c->h->closed)
		c->h->closed(c, K_OK, c->arg);
}

static void linger_expired(struct timer *t, void *arg)
{
	struct tcp_conn *c = arg;
	(void)t;
	tstats.timeouts++;
	conn_kill(c, true);
}

/* After tcp_close: reset if bytes were left unread, close once the queue
 * is out, else wait for it (bounded). */
static void conn_close_step(struct tcp_conn *c)
{
	if (c->state == CS_DEAD)
		return;
	if (c->rlen) {
		conn_kill(c, true);
		return;
	}
	if (c->seg_count == 0 || c->state != CS_OPEN) {
		conn_kill(c, false);
		return;
	}
	if (!timer_armed(&c->linger))
		timer_arm_in(&c->linger, NATIVE_CLOSE_LINGER_NS);
	pending_add(c);
}

/* ---- receiving ---------------------------------------------------------------- */

/* Delivers what is buffered and reads what the socket holds, until the
 * app holds bytes and the buffer is full, or the socket is drained. */
static void conn_input(struct tcp_conn *c)
{
	unsigned reads = 0;

	for (;;) {
		if (c->state != CS_OPEN)
			return;
		if (c->rlen && !c->held) {
			if (c->app_done) {      /* bytes after tcp_close: reset */
				conn_kill(c, true);
				return;
			}
			size_t len = c->rlen;
			c->resumed = false;
			c->in_recv = true;
			size_t k = c->h->recv(c, c->rbuf + c->rstart, len, c->arg);
			c->in_recv = false;
			if (c->state == CS_DEAD)
				return;
			if (k > len)
				panic("tcp: recv consumed %zu of %zu bytes", k, len);
			c->rstart += (uint32_t)k;
			c->rlen -= (uint32_t)k;
			if (c->rlen == 0)
				c->rstart = 0;
			if (c->app_done) {
				conn_close_step(c);
				return;
			}
			if (k < len) {
				if (c->resumed)
					return;     /* delivered again from the pending list */
				c->held = true;
			}
			continue;
		}
		if (c->fin_rcvd) {
			if (!c->rlen && !c->held && !c->fin_delivered) {
				c->fin_delivered = true;
				if (!c->app_done) {
					c->h->recv(c, NULL, 0, c->arg);
					if (c->state == CS_DEAD)
						return;
				}
				conn_check_done(c);
			}
			return;
		}
		if (!c->readable)
			return;
		if (c->rstart + c->rlen == NATIVE_RCV_BUF) {
			if (c->held || c->rstart == 0)
				return;             /* full: reading pauses */
			memmove(c->rbuf, c->rbuf + c->rstart, c->rlen);
			c->rstart = 0;
		}
		if (reads++ == NATIVE_READS_PER_TURN) {
			pending_add(c);     /* still readable: others first */
			return;
		}
		size_t room = NATIVE_RCV_BUF - c->rstart - c->rlen;
		ssize_t n = recv(c->fd, c->rbuf + c->rstart + c->rlen, room, 0);
		if (n > 0) {
			c->rlen += (uint32_t)n;
			native_io.rx_calls++;
			native_io.rx_bytes += (uint64_t)n;
			if ((size_t)n < room)
				c->readable = false;
		} else if (n == 0) {
			c->fin_rcvd = true;
			c->readable = false;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->readable = false;
			return;
		} else if (errno != EINTR) {
			conn_fail(c, errno_to_k(errno));
			return;
		}
	}
}

/* ---- sending ------------------------------------------------------------------ */

/* The kernel took n bytes from the front of the queue. */
static void conn_sent(struct tcp_conn *c, size_t n)
{
	while (n && c->seg_count) {
		struct seg *s = &c->segs[c->seg_head];
		size_t k = n < s->len ? n : s->len;
		n -= k;
		s->len -= (uint32_t)k;
		if (s->ptr)
			s->ptr += k;
		else {
			s->off += (uint32_t)k;
			c->sb_head += (uint32_t)k;
		}
		if (s->len)
			break;
		struct seg done = *s;
		c->seg_head = (c->seg_head + 1) % NATIVE_SEGS;
		c->seg_count--;
		if (c->sb_head == c->sb_tail)
			c->sb_head = c->sb_tail = 0;
		if (done.ptr && done.done)
			done.done(done.arg);        /* may queue more: it goes behind */
		if (c->state == CS_DEAD)
			return;
	}
}

/* Sends the queue until it is empty or the socket is full; then FIN or
 * close if they wait for it, and writable() if a write was refused. */
static void conn_flush(struct tcp_conn *c)
{
	for (int round = 0; c->state == CS_OPEN; round++) {
		bool progress = false;
		while (c->seg_count && !c->out_blocked && c->state == CS_OPEN) {
			struct iovec iov[NATIVE_SEGS];
			struct msghdr m = { .msg_iov = iov };
			size_t total = 0;
			for (uint32_t i = 0; i < c->seg_count; i++) {
				const struct seg *s = &c->segs[(c->seg_head + i) % NATIVE_SEGS];
				iov[i].iov_base = (void *)(s->ptr ? s->ptr : c->sbuf + s->off);
				iov[i].iov_len = s->len;
				total += s->len;
			}
			m.msg_iovlen = c->seg_count;
			ssize_t k = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (k < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					c->out_blocked = true;
					break;
				}
				if (errno == EINTR)
					continue;
				native_io.tx_errors++;
				conn_fail(c, errno_to_k(errno));
				return;
			}
			native_io.tx_calls++;
			native_io.tx_bytes += (uint64_t)k;
			progress = true;
			conn_sent(c, (size_t)k);
			if ((size_t)k < total)
				continue;           /* the next try meets EAGAIN: arms EPOLLOUT */
		}
		if (c->state != CS_OPEN)
			return;
		if (c->seg_count == 0) {
			if (c->app_done) {
				conn_close_step(c);
				return;
			}
			if (c->shut_req && !c->shut_done) {
				shutdown(c->fd, SHUT_WR);
				c->shut_done = true;
				conn_check_done(c);
				if (c->state != CS_OPEN)
					return;
			}
		}
		if (!progress || !c->want_writable || c->app_done || tcp_sndbuf(c) == 0)
			return;
		c->want_writable = false;
		if (c->h->writable)
			c->h->writable(c, c->arg);
		if (round == 3) {       /* an eager writer: let others run first */
			if (c->seg_count)
				pending_add(c);
			return;
		}
	}
}

/* ---- events --------------------------------------------------------------------- */

static void conn_connected(struct tcp_conn *c)
{
	int err = 0;
	socklen_t el = sizeof err;
	struct sockaddr_in sa;
	socklen_t sl = sizeof sa;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
		err = errno;
	if (err) {
		bool tell = c->h && c->h->closed;
		c->app_done = true;
		conn_kill(c, false);
		if (tell)
			c->h->closed(c, errno_to_k(err), c->arg);
		return;
	}
	c->state = CS_OPEN;
	tstats.conns_current++;
	if (getsockname(c->fd, (struct sockaddr *)&sa, &sl) == 0)
		c->lport = ntohs(sa.sin_port);
	if (c->h->connected)
		c->h->connected(c, c->arg);
}

static void conn_event(struct native_ev *ev, uint32_t events)
{
	struct tcp_conn *c = (struct tcp_conn *)ev;

	if (c->state == CS_DEAD)
		return;
	if (c->state == CS_CONNECTING) {
		if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		current = c;
		conn_connected(c);
		current = NULL;
		if (c->state != CS_OPEN)
			return;
	}
	if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		c->readable = true;
	if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR))
		c->out_blocked = false;
	current = c;
	conn_input(c);
	if (c->state == CS_OPEN && (c->seg_count || c->want_writable))
		conn_flush(c);
	current = NULL;
}

int native_tcp_run_pending(void)
{
	struct tcp_conn *c = pending_head;
	int n = 0;

	pending_head = pending_tail = NULL;
	while (c) {
		struct tcp_conn *next = c->pnext;
		c->on_pending = false;
		c->pnext = NULL;
		if (c->state == CS_OPEN) {
			current = c;
			conn_input(c);
			if (c->state == CS_OPEN && c->seg_count)
				conn_flush(c);
			current = NULL;
		}
		n++;
		c = next;
	}
	return n;
}

bool native_tcp_has_pending(void)
{
	return pending_head != NULL;
}

void native_tcp_reap(void)
{
	struct tcp_conn *c = grave, *keep = NULL;

	grave = NULL;
	while (c) {
		struct tcp_conn *next = c->gnext;
		if (c->on_pending) {            /* still listed: next pass */
			c->gnext = keep;
			keep = c;
		} else {
			c->state = CS_FREE;
			c->on_grave = false;
			c->gnext = free_conns;
			free_conns = c;
		}
		c = next;
	}
	grave = keep;
}

/* ---- listening ------------------------------------------------------------------- */

static void listener_event(struct native_ev *ev, uint32_t events)
{
	struct listener *l = (struct listener *)ev;
	int lfd = l->fd;
	(void)events;

	for (int i = 0; i < NATIVE_ACCEPT_BATCH && l->fd == lfd && lfd >= 0; i++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof sa;
		int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
				if (tstats.table_full++ == 0)
					log_warn("tcp: cannot accept: errno %d (descriptors?)", errno);
			}
			return;
		}
		struct tcp_conn *c = conn_alloc();
		if (!c) {
			struct linger lg = { .l_onoff = 1, .l_linger = 0 };
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
			close(fd);
			tstats.no_mem++;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		c->fd = fd;
		c->state = CS_OPEN;
		c->raddr = ntohl(sa.sin_addr.s_addr);
		c->rport = ntohs(sa.sin_port);
		c->lport = l->port;
		if (native_ev_add(fd, &c->ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
			close(fd);
			c->fd = -1;
			c->state = CS_FREE;
			c->gnext = free_conns;
			free_conns = c;
			tstats.no_mem++;
			continue;
		}
		tstats.passive_opens++;
		tstats.conns_current++;
		int r = l->accept(c, l->arg);
		if (c->state != CS_OPEN)
			continue;
		if (r != K_OK || !c->h || !c->h->recv) {
			c->app_done = true;
			conn_kill(c, true);
		}
	}
}

static void listeners_init(void)
{
	if (listeners_ready)
		return;
	for (int i = 0; i < NATIVE_LISTENERS; i++)
		listeners[i].fd = -1;
	listeners_ready = true;
}

int tcp_listen(struct net_if *nif, uint16_t port, unsigned backlog, tcp_accept_fn accept, void *arg)
{
	struct listener *l = NULL;
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, sport = native_port(port);
	(void)nif;

	listeners_init();
	if (!accept || port == 0 || sport < 0)
		return K_EINVAL;
	for (int i = 0; i < NATIVE_LISTENERS; i++) {
		if (listeners[i].fd >= 0 && listeners[i].port == port)
			return K_EADDRINUSE;
		if (listeners[i].fd < 0 && !l)
			l = &listeners[i];
	}
	if (!l)
		return K_ENOSPC;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return K_ENOMEM;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	sa.sin_addr.s_addr = htonl(native_cfg.bind_addr);
	sa.sin_port = htons((uint16_t)sport);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		if (e == EACCES)
			log_error("tcp: port %d needs privilege; try port_offset=8000", sport);
		return e == EADDRNOTAVAIL ? K_EINVAL : K_EADDRINUSE;
	}
	/* Linux's backlog is the accept queue (clamped to somaxconn); the
	 * kernel stack's is half-open handshakes. Keep it generous. */
	if (listen(fd, backlog < 4096 ? 4096 : (int)backlog) < 0) {
		close(fd);
		return K_EADDRINUSE;
	}
	l->ev.fn = listener_event;
	l->fd = fd;
	l->port = port;
	l->accept = accept;
	l->arg = arg;
	if (native_ev_add(fd, &l->ev, EPOLLIN) < 0) {
		close(fd);
		l->fd = -1;
		return K_ENOMEM;
	}
	if (native_cfg.cpu == 0 && native_cfg.port_offset)
		log_info("tcp: port %u listens on %u.%u.%u.%u:%d", port,
			 native_cfg.bind_addr >> 24, (native_cfg.bind_addr >> 16) & 0xff,
			 (native_cfg.bind_addr >> 8) & 0xff, native_cfg.bind_addr & 0xff, sport);
	else
		log_debug("tcp: listening on port %d", sport);
	return K_OK;
}

void tcp_unlisten(struct net_if *nif, uint16_t port)
{
	(void)nif;
	listeners_init();
	for (int i = 0; i < NATIVE_LISTENERS; i++)
		if (listeners[i].fd >= 0 && listeners[i].port == port) {
			close(listeners[i].fd);
			listeners[i].fd = -1;
		}
}

int tcp_connect(struct net_if *nif, uint32_t addr, uint16_t port,
		const struct tcp_handlers *h, void *arg, struct tcp_conn **out)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;
	(void)nif;

	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return K_ENOSPC;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (native_cfg.bind_addr) {
		sa.sin_addr.s_addr = htonl(native_cfg.bind_addr);
		bind(fd, (struct sockaddr *)&sa, sizeof sa);
	}
	sa.sin_addr.s_addr = htonl(addr);
	sa.sin_port = htons(port);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		return e == ENETUNREACH || e == EHOSTUNREACH ? K_ENOENT : errno_to_k(e);
	}
	struct tcp_conn *c = conn_alloc();
	if (!c) {
		close(fd);
		return K_ENOSPC;
	}
	c->fd = fd;
	c->state = CS_CONNECTING;
	c->h = h;
	c->arg = arg;
	c->raddr = addr;
	c->rport = port;
	if (native_ev_add(fd, &c->ev, EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) < 0) {
		close(fd);
		c->state = CS_FREE;
		c->gnext = free_conns;
		free_conns = c;
		return K_ENOSPC;
	}
	tstats.active_opens++;
	*out = c;
	return K_OK;
}

void tcp_set_handlers(struct tcp_conn *c, const struct tcp_handlers *h, void *arg)
{
	c->h = h;
	c->arg = arg;
}

/* ---- data ------------------------------------------------------------------------ */

static int conn_write_check(const struct tcp_conn *c)
{
	if (c->state == CS_CONNECTING)
		return K_ENOTCONN;
	if (c->state != CS_OPEN || c->app_done || c->shut_req)
		return K_ECLOSED;
	return K_OK;
}

size_t tcp_sndbuf(const struct tcp_conn *c)
{
	if (c->state != CS_OPEN || c->app_done || c->shut_req)
		return 0;
	if (c->seg_count == NATIVE_SEGS) {
		const struct seg *last = &c->segs[(c->seg_head + c->seg_count - 1) % NATIVE_SEGS];
		if (last->ptr || last->off + last->len != c->sb_tail)
			return 0;
	}
	return NATIVE_SND_BUF - (c->sb_tail - c->sb_head);
}

void tcp_want_writable(struct tcp_conn *c)
{
	c->want_writable = true;
}

int tcp_write(struct tcp_conn *c, const void *data, size_t len)
{
	int ret = conn_write_check(c);
	struct seg *last = NULL;

	if (ret < 0)
		return ret;
	if (len == 0)
		return 0;
	size_t room = tcp_sndbuf(c);
	if (room == 0) {
		c->want_writable = true;
		return K_EAGAIN;
	}
	if (!c->sbuf) {
		c->sbuf = malloc(NATIVE_SND_BUF);
		if (!c->sbuf) {
			c->want_writable = true;
			return K_EAGAIN;
		}
	}
	size_t n = len < room ? len : room;
	if (c->sb_tail + n > NATIVE_SND_BUF) {      /* room is at the front: move */
		uint32_t used = c->sb_tail - c->sb_head, shift = c->sb_head;
		memmove(c->sbuf, c->sbuf + shift, used);
		for (uint32_t i = 0; i < c->seg_count; i++) {
			struct seg *s = &c->segs[(c->seg_head + i) % NATIVE_SEGS];
			if (!s->ptr)
				s->off -= shift;
		}
		c->sb_head = 0;
		c->sb_tail = used;
	}
	if (c->seg_count) {
		last = &c->segs[(c->seg_head + c->seg_count - 1) % NATIVE_SEGS];
		if (last->ptr || last->off + last->len != c->sb_tail)
			last = NULL;
	}
	if (!last) {
		last = &c->segs[(c->seg_head + c->seg_count) % NATIVE_SEGS];
		*last = (struct seg){ .off = c->sb_tail };
		c->seg_count++;
	}
	memcpy(c->sbuf + c->sb_tail, data, n);
	c->sb_tail += (uint32_t)n;
	last->len += (uint32_t)n;
	if (n < len)
		c->want_writable = true;
	conn_dirty(c);
	return (int)n;
}

int tcp_write_borrowed(struct tcp_conn *c, const void *data, size_t len,
		       net_done_fn done, void *arg)
{
	int ret = conn_write_check(c);

	if (ret == K_OK && c->seg_count == NATIVE_SEGS) {
		c->want_writable = true;
		ret = K_ENOMEM;
	}
	if (ret < 0 || len == 0) {
		if (done)
			done(arg);
		return ret;
	}
	c->segs[(c->seg_head + c->seg_count) % NATIVE_SEGS] = (struct seg){
		.ptr = data, .len = (uint32_t)len, .done = done, .arg = arg,
	};
	c->seg_count++;
	conn_dirty(c);
	return K_OK;
}

void tcp_recv_ack(struct tcp_conn *c, size_t n)
{
	if (c->state != CS_OPEN)
		return;
	if (n > c->rlen)
		n = c->rlen;
	c->rstart += (uint32_t)n;
	c->rlen -= (uint32_t)n;
	if (c->rlen == 0 && !c->in_recv)
		c->rstart = 0;
	if (c->readable || c->fin_rcvd)
		pending_add(c);         /* room to read into again */
}

void tcp_recv_resume(struct tcp_conn *c)
{
	if (c->state != CS_OPEN)
		return;
	c->held = false;
	c->resumed = true;
	pending_add(c);
}

/* ---- closing ------------------------------------------------------------------------ */

int tcp_shutdown(struct tcp_conn *c)
{
	if (c->state == CS_CONNECTING)
		return K_ENOTCONN;
	if (c->state != CS_OPEN || c->app_done)
		return K_ECLOSED;
	if (c->shut_req)
		return K_OK;
	c->shut_req = true;
	if (c->seg_count == 0) {
		shutdown(c->fd, SHUT_WR);
		c->shut_done = true;
		if (c != current)
			pending_add(c);     /* may complete the orderly close */
		else
			conn_check_done(c);
	} else {
		conn_dirty(c);
	}
	return K_OK;
}

void tcp_close(struct tcp_conn *c)
{
	if (c->state == CS_DEAD || c->app_done)
		return;
	c->app_done = true;
	if (c->state == CS_CONNECTING) {
		conn_kill(c, false);
		return;
	}
	if (!c->in_recv)            /* inside recv: decided when it returns */
		conn_close_step(c);
}

void tcp_abort(struct tcp_conn *c)
{
	if (c->state == CS_DEAD)
		return;
	c->app_done = true;
	conn_kill(c, true);
}

/* ---- options and information ----------------------------------------------------------- */

void tcp_set_nodelay(struct tcp_conn *c, bool on)
{
	int v = on;
	if (c->fd >= 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &v, sizeof v);
}

void tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t idle_ns, uint64_t interval_ns,
		       unsigned count)
{
	int v = on;
	if (c->fd < 0)
		return;
	setsockopt(c->fd, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof v);
	if (!on)
		return;
	int idle = (int)(idle_ns / NS_PER_SEC), intvl = (int)(interval_ns / NS_PER_SEC);
	int cnt = (int)count;
	idle = idle < 1 ? 1 : idle;
	intvl = intvl < 1 ? 1 : intvl;
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	if (cnt > 0)
		setsockopt(c->fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

void tcp_get_peer(const struct tcp_conn *c, uint32_t *addr, uint16_t *port)
{
	if (addr)
		*addr = c->raddr;
	if (port)
		*port = c->rport;
}

uint16_t tcp_local_port(const struct tcp_conn *c)
{
	return c->lport;
}

const struct tcp_stats *tcp_get_stats(const struct net_if *nif)
{
	(void)nif;
	return &tstats;
}

/* Linux owns TCP's tables here: configuration is accepted and ignored. */
void tcp_config_default(struct tcp_config *cfg)
{
	*cfg = (struct tcp_config){
		.max_conns = 65536, .max_timewait = 0, .max_spans = NATIVE_SEGS,
		.rcv_buf = NATIVE_RCV_BUF, .snd_buf = NATIVE_SND_BUF, .msl_ns = 0,
	};
}

size_t tcp_mem_size(const struct tcp_config *cfg)
{
	(void)cfg;
	return 0;
}

int tcp_if_init(struct net_if *nif, const struct tcp_config *cfg, void *mem, size_t size)
{
	(void)nif;
	(void)cfg;
	(void)mem;
	(void)size;
	return K_OK;
}
