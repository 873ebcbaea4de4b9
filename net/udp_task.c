/*
 * udp_task.c - UDP as waiting calls for tasks: a bound port whose
 * datagrams wait in the socket's own ring until a task takes them.
 *
 * Interface: the "waiting calls" section of kiln/net.h. Only the public
 * UDP callback API (kiln/net.h) and events (kiln/task.h) are used.
 *
 * Rules:
 *  - The receive callback runs on the loop and never waits: it copies the
 *    datagram (fragmented ones whole, through udp_rx_copy) into buf and
 *    signals. UDP has no flow control, so when the ring is full the new
 *    datagram is dropped and counted, as a socket buffer would.
 *  - Datagrams are stored whole and contiguous, in arrival order: one
 *    that would run past the end of buf starts again at 0 when the oldest
 *    waiting one leaves room there. used (bytes waiting) tells a full
 *    wrapped ring from one holding only empty datagrams. The ring empties
 *    to wr = 0.
 *  - Tasks check, and only then wait; with cooperative tasks nothing can
 *    happen between the two, so no wake-up is lost.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/net.h>
#include <kiln/task.h>
#include <kiln/time.h>

#include "task_wait.h"

/* Where a datagram of n bytes can go in buf, or -1 when it cannot now. */
static long ring_place(const struct udp_sock *s, uint32_t n)
{
	if (n > UDP_SOCK_BYTES || s->count == UDP_SOCK_SLOTS)
		return -1;
	if (s->count == 0)
		return 0;
	uint32_t rd = s->q[s->head].off;
	if (s->used == 0 || s->wr > rd) {   /* in use: [rd, wr) */
		if (UDP_SOCK_BYTES - s->wr >= n)
			return s->wr;
		return s->used && rd >= n ? 0 : -1;
	}
	/* wrapped: in use [rd, end of data) and [0, wr); free [wr, rd) */
	return rd - s->wr >= n ? (long)s->wr : -1;
}

static void sock_recv(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	struct udp_sock *s = arg;
	(void)pcb;
	uint32_t n = (uint32_t)rx->total_len;        /* at most 65507 */
	long at = ring_place(s, n);
	if (at < 0) {
		s->dropped++;
		return;
	}
	udp_rx_copy(rx, 0, s->buf + at, n);
	struct udp_sock_dgram *d = &s->q[(s->head + s->count) % UDP_SOCK_SLOTS];
	d->addr = rx->src_addr;
	d->port = rx->src_port;
	d->off = (uint32_t)at;
	d->len = n;
	s->count++;
	s->used += n;
	s->wr = (uint32_t)at + n;
	event_signal(&s->ev);
}

int udp_sock_bind(struct udp_sock *s, struct net_if *nif, uint16_t port)
{
	memset(s, 0, offsetof(struct udp_sock, q));
	event_init(&s->ev);
	int ret = udp_bind(&s->pcb, nif, port, sock_recv, s);
	if (ret < 0)
		return ret;
	s->open = true;
	return K_OK;
}

void udp_sock_close(struct udp_sock *s)
{
	if (!s->open)
		return;
	s->open = false;
	udp_unbind(&s->pcb);
	s->count = 0;
	s->used = 0;
	s->wr = 0;
	event_signal(&s->ev);
}

int udp_sock_recvfrom(struct udp_sock *s, void *buf, size_t len, uint32_t *addr,
		      uint16_t *port, uint64_t timeout_ns)
{
	if (!task_current())
		return K_EINVAL;
	uint64_t deadline = task_deadline_of(timeout_ns);
	for (;;) {
		if (!s->open)
			return K_ECLOSED;
		if (s->count) {
			const struct udp_sock_dgram *d = &s->q[s->head];
			size_t n = d->len < len ? d->len : len;
			memcpy(buf, s->buf + d->off, n);
			if (addr)
				*addr = d->addr;
			if (port)
				*port = d->port;
			s->head = (s->head + 1) % UDP_SOCK_SLOTS;
			s->used -= d->len;
			if (--s->count == 0)
				s->wr = 0;
			return (int)n;
		}
		if (task_wait_until(&s->ev, deadline) == K_ETIMEDOUT && !s->count)
			return s->open ? K_ETIMEDOUT : K_ECLOSED;
	}
}

int udp_sock_sendto(struct udp_sock *s, uint32_t addr, uint16_t port, const void *data,
		    size_t len)
{
	if (!s->open)
		return K_ECLOSED;
	return udp_sendto(&s->pcb, addr, port, data, len);
}
