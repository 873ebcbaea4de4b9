/*
 * tcp_timer.c - TCP's timers: retransmission (RFC 6298), persist
 * (RFC 9293 3.8.6.1), delayed ACK (RFC 1122 4.2.3.2), keep-alive
 * (RFC 1122 4.2.3.6), the FIN_WAIT_2 limit, the zero-window (persist)
 * timeout, and TIME_WAIT expiry.
 *
 * Interface: tcp_tick() and tcp_next_deadline() (called by net_tick and
 * net_next_deadline), tcp_timer_update(), tcp_rto_arm(), tcp_rtt_sample()
 * in tcp_priv.h.
 *
 * Rules:
 *  - No timer runs on its own: each connection keeps its deadlines as
 *    plain times (rto_at, delack_at, persist_at, keep_at, mem_at) and one struct
 *    timer, armed on the interface's private timing wheel for the
 *    earliest of them. tcp_tick(now) advances that wheel with the time it
 *    is given, so the kernel loop and a test with virtual time drive it
 *    the same way; an idle connection costs no wake-ups.
 *  - Expiry runs as an event on the conn (tcp_event_begin/end), so output
 *    it asks for (a retransmission, a pending ACK) goes out at its end.
 *  - RTO: SRTT/RTTVAR per RFC 6298 2 with G = 1 ms, bounded to
 *    [TCP_RTO_MIN_NS, TCP_RTO_MAX_NS]; each expiry doubles it (5.5),
 *    resends from snd_una with cwnd = 1 MSS (RFC 5681 3.1), and past the
 *    retry limit the connection ends with K_ETIMEDOUT. Karn's rule: a
 *    retransmission stops the RTT measurement in progress (timestamps,
 *    when used, identify the transmission and need no such rule).
 *  - Hostile peers: a zero window held while we have data queued ends
 *    the connection (RST, K_ETIMEDOUT) cfg.persist_timeout_ns after the
 *    first probe; every FIN_WAIT_2 ends TCP_FIN_WAIT2_NS after it began
 *    (an orphan) or after the last new data (a half-close still read).
 */
#include <stddef.h>
#include <stdint.h>

#include <kiln/err.h>
#include <kiln/time.h>

#include "tcp_priv.h"

void tcp_rtt_sample(struct tcp_conn *c, uint64_t r)
{
	if (!(c->flags & TF_RTT_VALID)) {
		c->srtt = r;
		c->rttvar = r / 2;
		c->flags |= TF_RTT_VALID;
	} else {
		uint64_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
		c->rttvar = (3 * c->rttvar + d) / 4;
		c->srtt = (7 * c->srtt + r) / 8;
	}
	uint64_t v = 4 * c->rttvar < NS_PER_MS ? NS_PER_MS : 4 * c->rttvar;
	uint64_t rto = c->srtt + v;
	if (rto < TCP_RTO_MIN_NS)
		rto = TCP_RTO_MIN_NS;
	if (rto > TCP_RTO_MAX_NS)
		rto = TCP_RTO_MAX_NS;
	c->rto = rto;
}

void tcp_rto_arm(struct tcp_conn *c)
{
	c->rto_at = c->st->now + c->rto;
	c->flags &= ~(uint32_t)TF_PTO;
}

/* Tail loss probe (RFC 8985 7): with data in flight and no ACK for two
 * round trips, resend the last segment instead of waiting out the RTO.
 * Its ACK carries SACK information about whatever before it was lost,
 * which starts fast recovery. One probe per flight; not in recovery or
 * after a timeout. */
void tcp_tlp_schedule(struct tcp_conn *c)
{
	const uint32_t need = TF_SACK | TF_RTT_VALID;
	if ((c->flags & need) != need || (c->flags & (TF_RECOVERY | TF_TLP_OUT)) || c->backoff ||
	    !c->rto_at || c->snd_max == c->snd_una)
		return;
	uint64_t pto = 2 * c->srtt;
	if (c->snd_max - c->snd_una <= c->mss)
		pto += TCP_RTO_MIN_NS;                   /* the peer may delay its ACK */
	if (pto < 10 * NS_PER_MS)
		pto = 10 * NS_PER_MS;
	uint64_t at = c->st->now + pto;
	if (at < c->rto_at) {
		c->rto_at = at;
		c->flags |= TF_PTO;
	}
}

static void tlp_fire(struct tcp_conn *c)
{
	TCP_STAT(c->st, loss_probes);
	c->flags |= TF_TLP_OUT;
	bool fin = (c->flags & TF_FIN_QUEUED) && SEQ_GT(c->snd_max, c->snd_end);
	uint32_t end = fin ? c->snd_end : c->snd_max;
	uint32_t n = end - c->snd_una < c->mss ? end - c->snd_una : c->mss;
	tcp_retransmit(c, end - n, n);
	tcp_rto_arm(c);
}

void tcp_mem_wait(struct tcp_conn *c)
{
	if (!c->mem_at) {
		c->mem_at = time_now_ns() + TCP_MEM_RETRY_NS;
		tcp_timer_update(c);
	}
}

void tcp_tx_wait(struct tcp_conn *c)
{
	uint64_t at = time_now_ns() + TCP_TX_RETRY_NS;
	TCP_STAT(c->st, tx_deferred);
	if (!c->mem_at || at < c->mem_at) {
		c->mem_at = at;
		tcp_timer_update(c);
	}
}

void tcp_timer_update(struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	uint64_t d = UINT64_MAX;
	const uint64_t at[5] = { c->rto_at, c->delack_at, c->persist_at, c->keep_at, c->mem_at };
	for (unsigned i = 0; i < 5; i++)
		if (at[i] && at[i] < d)
			d = at[i];
	if (d == UINT64_MAX) {
		tw_del(&c->st->wheel, &c->timer);
		c->timer_at = 0;
	} else if (d != c->timer_at || !c->timer.pprev) {
		tw_add(&c->st->wheel, &c->timer, d);
		c->timer_at = d;
	}
}

static void rto_fire(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	bool handshake = c->state == TCP_SYN_SENT || c->state == TCP_SYN_RCVD;
	if (!handshake && c->snd_una == c->snd_max)
		return;                                  /* nothing outstanding */
	if (c->flags & TF_PTO) {
		c->flags &= ~(uint32_t)TF_PTO;
		tlp_fire(c);
		return;
	}
	TCP_STAT(st, rto_timeouts);
	if (c->backoff >= (handshake ? TCP_SYN_RETRIES : TCP_DATA_RETRIES)) {
		if (!handshake)
			tcp_send_rst(c);
		tcp_conn_drop(c, c->lst ? 1 : K_ETIMEDOUT);
		return;
	}
	c->backoff++;
	c->rto = c->rto * 2 > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : c->rto * 2;
	c->flags &= ~(uint32_t)TF_RTT_TIMING;         /* Karn */
	if (handshake) {
		tcp_send_syn(c);
		tcp_rto_arm(c);
		return;
	}
	uint32_t flight = c->snd_max - c->snd_una;
	c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
	c->cwnd = c->mss;
	c->recover = c->snd_max;
	c->flags &= ~(uint32_t)TF_RECOVERY;
	c->nsb = 0;                                  /* the receiver may renege */
	c->dupacks = 0;
	c->high_rxt = c->snd_una;
	c->snd_nxt = c->snd_una;                     /* go back: resend from snd_una */
	tcp_rto_arm(c);
	if (c->snd_wnd == 0) {
		/* The window closed with data in flight: probe, don't resend. */
		tcp_send_probe(c);
		TCP_STAT(st, window_probes);
	}
}

static void persist_fire(struct tcp_conn *c)
{
	if (!SEQ_LT(c->snd_nxt, c->snd_end) || c->snd_nxt != c->snd_una)
		return;
	if (c->snd_wnd != 0) {
		tcp_send_forced(c);
		return;
	}
	struct tcp_stack *st = c->st;
	if (c->probes == 0)
		c->zwnd_since = st->now + 1;             /* this zero window began */
	else if (st->cfg.persist_timeout_ns && st->now + 1 - c->zwnd_since >= st->cfg.persist_timeout_ns) {
		/* The peer kept its window shut while we had data for it: a
		 * reader that stopped (nginx send_timeout) or a peer holding
		 * our buffers on purpose. */
		TCP_STAT(st, persist_timeouts);
		tcp_send_rst(c);
		tcp_conn_drop(c, K_ETIMEDOUT);
		return;
	}
	TCP_STAT(st, window_probes);
	tcp_send_probe(c);
	if (c->probes < 255)
		c->probes++;
	unsigned sh = c->probes < 8 ? c->probes : 8;
	uint64_t iv = c->rto << sh;                  /* backoff between probes */
	if (iv > TCP_RTO_MAX_NS)
		iv = TCP_RTO_MAX_NS;
	c->persist_at = c->st->now + iv;
	if ((c->flags & TF_APP_CLOSED) && c->probes > TCP_DATA_RETRIES)
		tcp_conn_drop(c, 1);                     /* an orphan nobody reads */
}

static void keep_fire(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	if (c->state == TCP_FIN_WAIT_2) {
		if (!(c->flags & TF_APP_CLOSED) && c->rcv_nxt != c->fw2_rcv_nxt) {
			/* still receiving data: a fresh deadline */
			c->fw2_rcv_nxt = c->rcv_nxt;
			c->keep_at = st->now + TCP_FIN_WAIT2_NS;
			return;
		}
		TCP_STAT(st, fin_wait2_timeouts);
		if (c->flags & TF_APP_CLOSED) {
			tcp_conn_drop(c, 1);
		} else {
			tcp_send_rst(c);
			tcp_conn_drop(c, K_ETIMEDOUT);
		}
		return;
	}
	if (!(c->flags & TF_KEEPALIVE) ||
	    (c->state != TCP_ESTABLISHED && c->state != TCP_CLOSE_WAIT))
		return;
	if (c->kprobes == 0 && st->now - c->last_rx < c->keep_idle) {
		c->keep_at = c->last_rx + c->keep_idle;
		return;
	}
	if (c->kprobes >= c->keep_cnt) {
		tcp_send_rst(c);
		tcp_conn_drop(c, K_ETIMEDOUT);
		return;
	}
	c->kprobes++;
	TCP_STAT(st, keepalive_probes);
	tcp_send_probe(c);
	c->keep_at = st->now + c->keep_intvl;
}

void tcp_timer_fn(struct timer *t, void *arg)
{
	struct tcp_conn *c = arg;
	uint64_t now = c->st->now;
	(void)t;
	c->timer_at = 0;
	tcp_event_begin(c);
	if (c->delack_at && c->delack_at <= now) {
		c->delack_at = 0;
		c->flags |= TF_ACK_NOW;
	}
	if (c->rto_at && c->rto_at <= now) {
		c->rto_at = 0;
		rto_fire(c);
	}
	if (!(c->flags & TF_DEAD) && c->persist_at && c->persist_at <= now) {
		c->persist_at = 0;
		persist_fire(c);
	}
	if (!(c->flags & TF_DEAD) && c->keep_at && c->keep_at <= now) {
		c->keep_at = 0;
		keep_fire(c);
	}
	if (!(c->flags & TF_DEAD) && c->mem_at && c->mem_at <= now) {
		/* The pool cut a write short; let the app try again. */
		c->mem_at = 0;
		if ((c->flags & TF_WANT_WRITE) && c->h && c->h->writable) {
			c->flags &= ~(uint32_t)(TF_WANT_WRITE | TF_NOTIFY_WRITE);
			c->busy++;
			c->h->writable(c, c->arg);
			c->busy--;
		}
	}
	tcp_event_end(c);
}

void tcp_tick(struct net_if *nif, uint64_t now)
{
	struct tcp_stack *st = nif->tcp;
	st->now = now;
	tw_advance(&st->wheel, now);
	tcp_tw_expire(st, now);
}

uint64_t tcp_next_deadline(const struct net_if *nif)
{
	const struct tcp_stack *st = nif->tcp;
	uint64_t d = tw_next_deadline(&st->wheel);
	if (st->tw_count) {
		uint64_t e = st->tw[st->tw_head].expires;
		if (e < d)
			d = e;
	}
	return d;
}
