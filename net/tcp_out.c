/*
 * tcp_out.c - building and sending TCP segments: data under the send and
 * congestion windows, ACKs, SYN and SYN-ACK with their options, resets,
 * retransmissions and probes.
 *
 * Interface: tcp_output(), tcp_send_*(), tcp_retransmit() in tcp_priv.h.
 *
 * Rules:
 *  - Nothing here keeps an nbuf. Every segment is a new head from the
 *    interface pool holding the headers; its payload is either copied into
 *    that head (small payloads, TCP_COPY_BREAK, or when descriptors run
 *    out) or lent from the send queue's spans through descriptors whose
 *    done callback drops the span's in-flight count (docs/networking.md).
 *    So a retransmission re-borrows the same bytes, and a span is never
 *    released while a device still holds a copy of it.
 *  - Segments go out with DF (RFC 1191); the MSS is re-derived from the
 *    path MTU (ip4_pmtu_get) before each burst, so ICMP "fragmentation
 *    needed" shrinks the next segments and retransmissions.
 *  - The checksum is left to the device (NBUF_F_CSUM_PARTIAL with the
 *    pseudo-header sum seeded) when it offers that.
 *  - Sender rules: RFC 9293 3.8.6.2.1 (sender SWS avoidance), Nagle
 *    (RFC 896, off by default: TF_NODELAY), RFC 5681 windows, RFC 6675
 *    pipe-driven sending during SACK recovery, RFC 7323 timestamps on
 *    every segment when negotiated, RFC 2018 SACK blocks (the most recent
 *    island first) on ACKs while out-of-order data is held.
 *  - Every segment carrying an ACK clears the pending-ACK state
 *    (piggybacking, RFC 9293 3.8.6.3).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "checksum.h"
#include "tcp_priv.h"

uint32_t tcp_ts_now(const struct tcp_conn *c, uint64_t now)
{
	return (uint32_t)(now / NS_PER_MS) + c->ts_offset;
}

uint16_t tcp_mss_for(struct net_if *nif, uint32_t raddr)
{
	uint16_t mtu = ip4_pmtu_get(nif, raddr, time_now_ns());
	return (uint16_t)(mtu > IP4_HDR_LEN + TCP_HDR_LEN + TCP_MIN_MSS ?
			  mtu - IP4_HDR_LEN - TCP_HDR_LEN : TCP_MIN_MSS);
}

void tcp_update_mss(struct tcp_conn *c)
{
	uint32_t m = tcp_mss_for(c->st->nif, c->raddr);
	if (c->peer_mss && c->peer_mss < m)
		m = c->peer_mss;
	if (c->flags & TF_TS)
		m -= TCPOLEN_TS_ALIGNED;
	if (m < TCP_MIN_MSS)
		m = TCP_MIN_MSS;
	c->mss = (uint16_t)m;
}

unsigned tcp_syn_options(uint8_t *o, uint16_t mss, bool sack, bool ts, uint32_t tsval,
			 uint32_t tsecr, int wscale)
{
	unsigned n = 0;
	o[n++] = TCPOPT_MSS;
	o[n++] = TCPOLEN_MSS;
	net_put16(o + n, mss);
	n += 2;
	if (sack && ts) {
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = TCPOLEN_SACK_PERM;
	} else if (sack) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_SACK_PERM;
		o[n++] = TCPOLEN_SACK_PERM;
	}
	if (ts) {
		if (!sack) {
			o[n++] = TCPOPT_NOP;
			o[n++] = TCPOPT_NOP;
		}
		o[n++] = TCPOPT_TS;
		o[n++] = TCPOLEN_TS;
		net_put32(o + n, tsval);
		net_put32(o + n + 4, tsecr);
		n += 8;
	}
	if (wscale >= 0) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_WS;
		o[n++] = TCPOLEN_WS;
		o[n++] = (uint8_t)wscale;
	}
	return n;
}

/* Copies [seq, seq+len) of the send queue to the end of nb. */
static int copy_payload(struct tcp_conn *c, struct nbuf *nb, uint32_t seq, uint32_t len)
{
	while (len) {
		uint32_t avail;
		struct tcp_span *s;
		const uint8_t *p = tcp_sq_find(c, seq, &avail, &s);
		if (!p)
			return K_EINVAL;
		if (avail > len)
			avail = len;
		if (nbuf_append_copy(nb, c->st->nif->pool, p, avail) < 0)
			return K_ENOMEM;
		seq += avail;
		len -= avail;
	}
	return K_OK;
}

/* Lends [seq, seq+len) through descriptors; NULL when they run out or
 * the range spans more than TCP_TSO_SPANS pieces of the queue (a device
 * takes a bounded number per frame; the caller copies instead). */
static struct nbuf *borrow_payload(struct tcp_conn *c, uint32_t seq, uint32_t len)
{
	struct nbuf *chain = NULL;
	struct nbuf_pool *refs = c->st->nif->refs;
	for (unsigned k = 0; len; k++) {
		uint32_t avail;
		struct tcp_span *s;
		const uint8_t *p = tcp_sq_find(c, seq, &avail, &s);
		if (avail > len)
			avail = len;
		struct nbuf *d = p && k < TCP_TSO_SPANS ?
			nbuf_borrow(refs, p, avail, tcp_span_desc_done, s) : NULL;
		if (!d) {
			nbuf_free(chain);           /* runs done: counts drop back */
			return NULL;
		}
		s->inflight++;
		if (chain)
			nbuf_append(chain, d);
		else
			chain = d;
		seq += avail;
		len -= avail;
	}
	return chain;
}

struct seg_out {
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	const uint8_t *opts;
	unsigned optlen;
	uint16_t gso;               /* payload per segment when the device cuts (TSO) */
};

/* Builds one segment (payload [pseq, pseq+plen) of c's queue) and sends it. */
static int xmit(struct net_if *nif, struct tcp_stack *st, const struct seg_out *o,
		struct tcp_conn *c, uint32_t pseq, uint32_t plen)
{
	/* A segment without payload (ACK, RST, SYN-ACK, FIN) may use the
	 * control reserve data segments leave (nbuf.h). */
	struct nbuf *nb = nbuf_alloc_prio(nif->pool, plen ? NBUF_PRIO_DATA : NBUF_PRIO_CTRL);
	if (!nb) {
		TCP_STAT(st, no_mem);
		return K_ENOMEM;
	}
	if (plen) {
		struct nbuf *lent = NULL;
		if (plen > TCP_COPY_BREAK && nif->refs)
			lent = borrow_payload(c, pseq, plen);
		if (lent) {
			nbuf_append(nb, lent);
		} else if (copy_payload(c, nb, pseq, plen) < 0) {
			nbuf_free(nb);
			TCP_STAT(st, no_mem);
			return K_ENOMEM;
		}
	}
	unsigned hlen = TCP_HDR_LEN + o->optlen;
	struct tcp_hdr *h = (void *)nbuf_push(nb, hlen);
	if (!h) {
		nbuf_free(nb);
		TCP_STAT(st, no_mem);
		return K_ENOMEM;
	}
	net_put16(h->sport, o->lport);
	net_put16(h->dport, o->rport);
	net_put32(h->seq, o->seq);
	net_put32(h->ack, (o->flags & TCP_ACK) ? o->ack : 0);
	h->off = (uint8_t)((hlen / 4) << 4);
	h->flags = o->flags;
	net_put16(h->wnd, o->wnd);
	net_put16(h->csum, 0);
	net_put16(h->urg, 0);
	if (o->optlen)
		memcpy((uint8_t *)h + TCP_HDR_LEN, o->opts, o->optlen);
	uint16_t tlen = (uint16_t)nbuf_pkt_len(nb);
	uint32_t sum = checksum_pseudo4(o->laddr, o->raddr, IP4_PROTO_TCP, tlen);
	if (nif->dev->caps & NETDEV_CAP_TX_CSUM) {
		checksum_store(h->csum, checksum_fold_raw(sum));
		nb->flags |= NBUF_F_CSUM_PARTIAL;
		nb->csum_start = (uint16_t)nbuf_headroom(nb);
		nb->csum_offset = 16;
		if (o->gso && plen > o->gso)
			nb->gso_size = o->gso;
	} else {
		checksum_store(h->csum, checksum_fold(checksum_nbuf(sum, nb, 0, tlen)));
	}
	TCP_STAT(st, segs_out);
	if (o->flags & TCP_RST)
		TCP_STAT(st, resets_out);
	return ip4_output(nif, nb, o->laddr, o->raddr, IP4_PROTO_TCP, IP4_OUT_DF);
}

/* The window field for a non-SYN segment, moving rcv_adv (never left:
 * RFC 9293 3.8.6.2.2; small openings held back: receiver SWS avoidance). */
static uint16_t wnd_field(struct tcp_conn *c)
{
	uint32_t ws = (c->flags & TF_WSCALE) ? c->rcv_wscale : 0;
	uint32_t space = tcp_rcv_space(c);
	uint32_t max = 65535u << ws;
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t step = c->st->cfg.rcv_buf / 2 < c->mss ? c->st->cfg.rcv_buf / 2 : c->mss;
	if (space > max)
		space = max;
	if (space > cur && space - cur < step)
		space = cur;
	uint32_t f = space >> ws;
	if (SEQ_LT(c->rcv_nxt + (f << ws), c->rcv_adv))
		f = (cur + (1u << ws) - 1) >> ws;
	if (f > 65535)
		f = 65535;
	uint32_t edge = c->rcv_nxt + (f << ws);
	if (SEQ_GT(edge, c->rcv_adv))
		c->rcv_adv = edge;
	return (uint16_t)f;
}

/* SACK blocks the next segment carries: a pending D-SACK and the islands
 * held, as many as fit beside the timestamps (RFC 2018 3). */
static unsigned sack_blocks(const struct tcp_conn *c)
{
	if (!(c->flags & TF_SACK))
		return 0;
	unsigned want = c->nooo + !!(c->flags & TF_DSACK);
	unsigned max = (c->flags & TF_TS) ? 3 : 4;
	return want < max ? want : max;
}

/* TS and SACK options of a synchronized-state segment; returns the length. */
static unsigned data_options(struct tcp_conn *c, uint8_t *o)
{
	unsigned n = 0;
	if (c->flags & TF_TS) {
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_NOP;
		o[n++] = TCPOPT_TS;
		o[n++] = TCPOLEN_TS;
		net_put32(o + n, tcp_ts_now(c, c->st->now));
		net_put32(o + n + 4, c->ts_recent);
		n += 8;
	}
	unsigned blocks = sack_blocks(c), k = 0;
	if (!blocks)
		return n;
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_NOP;
	o[n++] = TCPOPT_SACK;
	o[n++] = (uint8_t)(2 + 8 * blocks);
	if (c->flags & TF_DSACK) {              /* RFC 2883: the duplicate first */
		net_put32(o + n, c->dsack[0]);
		net_put32(o + n + 4, c->dsack[1]);
		n += 8;
		k++;
		c->flags &= ~(uint32_t)TF_DSACK;
	}
	/* RFC 2018 4: the block with the most recent segment first. */
	unsigned first = c->ooo_last < c->nooo ? c->ooo_last : 0;
	for (unsigned i = 0; k < blocks; i++, k++) {
		unsigned j = i == 0 ? first : (i <= first ? i - 1 : i);
		net_put32(o + n, c->ooo[j].seq);
		net_put32(o + n + 4, c->ooo[j].end);
		n += 8;
	}
	return n;
}

/* Payload that fits one segment now: the MSS less the SACK blocks that
 * data_options() will add (the MSS already allows for timestamps), so a
 * full segment never outgrows the path MTU while we hold islands. */
static uint32_t seg_room(const struct tcp_conn *c)
{
	unsigned k = sack_blocks(c);
	return k ? c->mss - (4 + 8 * k) : c->mss;
}

static void acked_sent(struct tcp_conn *c)
{
	c->flags &= ~(uint32_t)TF_ACK_NOW;
	c->acks_pending = 0;
	c->delack_at = 0;
}

/* Sends [seq, seq+len) with flags (ACK implied). */
static int send_data(struct tcp_conn *c, uint32_t seq, uint32_t len, uint8_t flags)
{
	uint8_t opts[TCP_OPT_MAX];
	struct seg_out o = {
		.laddr = c->laddr, .raddr = c->raddr, .lport = c->lport, .rport = c->rport,
		.seq = seq, .ack = c->rcv_nxt, .flags = (uint8_t)(flags | TCP_ACK),
		.opts = opts,
	};
	uint32_t room = seg_room(c);         /* before data_options() takes a D-SACK */
	if (len > room)
		o.gso = (uint16_t)room;
	o.optlen = data_options(c, opts);
	o.wnd = wnd_field(c);
	if (SEQ_LT(seq, c->snd_max) && (len || (flags & TCP_FIN)))
		TCP_STAT(c->st, retransmits);
	uint32_t ack_now = c->flags & TF_ACK_NOW;
	uint16_t pending = c->acks_pending;
	uint64_t delack = c->delack_at;
	acked_sent(c);
	int rc = xmit(c->st->nif, c->st, &o, c, seq, len);
	if (rc == K_EAGAIN || rc == K_ENOMEM) {
		c->flags |= ack_now;             /* the ACK it carried is still owed */
		c->acks_pending = pending;
		c->delack_at = delack;
	}
	return rc;
}

/* A pure ACK carries the highest sequence number sent, not snd_nxt: after
 * a timeout snd_nxt goes back to resend, and an ACK numbered below what the
 * peer already holds is unacceptable to it (RFC 9293 3.10.7.4) - with both
 * ends resending, neither would see the other's ACKs again. */
void tcp_send_ack(struct tcp_conn *c)
{
	send_data(c, c->snd_max, 0, 0);
}

void tcp_send_probe(struct tcp_conn *c)
{
	send_data(c, c->snd_una - 1, 0, 0);
}

void tcp_send_rst(struct tcp_conn *c)
{
	struct seg_out o = {
		.laddr = c->laddr, .raddr = c->raddr, .lport = c->lport, .rport = c->rport,
		.seq = c->snd_nxt, .ack = c->rcv_nxt, .flags = TCP_RST | TCP_ACK,
	};
	xmit(c->st->nif, c->st, &o, NULL, 0, 0);
}

void tcp_send_syn(struct tcp_conn *c)
{
	uint8_t opts[TCP_OPT_MAX];
	bool synack = c->state == TCP_SYN_RCVD;
	struct seg_out o = {
		.laddr = c->laddr, .raddr = c->raddr, .lport = c->lport, .rport = c->rport,
		.seq = c->iss, .ack = c->rcv_nxt, .flags = synack ? TCP_SYN | TCP_ACK : TCP_SYN,
		.opts = opts,
	};
	uint32_t space = tcp_rcv_space(c);
	o.wnd = (uint16_t)(space > 65535 ? 65535 : space);
	if (synack)
		o.optlen = tcp_syn_options(opts, tcp_mss_for(c->st->nif, c->raddr),
					   (c->flags & TF_SACK) != 0, (c->flags & TF_TS) != 0,
					   tcp_ts_now(c, c->st->now), c->ts_recent,
					   (c->flags & TF_WSCALE) ? c->rcv_wscale : -1);
	else
		o.optlen = tcp_syn_options(opts, tcp_mss_for(c->st->nif, c->raddr), true, true,
					   tcp_ts_now(c, c->st->now), 0, c->rcv_wscale);
	if (c->backoff)
		TCP_STAT(c->st, retransmits);
	xmit(c->st->nif, c->st, &o, NULL, 0, 0);
	if (synack) {
		c->rcv_adv = c->rcv_nxt + o.wnd;
		acked_sent(c);
	}
}

void tcp_send_bare(struct net_if *nif, uint32_t laddr, uint32_t raddr, uint16_t lport,
		   uint16_t rport, uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd,
		   const uint8_t *opts, unsigned optlen)
{
	struct seg_out o = {
		.laddr = laddr, .raddr = raddr, .lport = lport, .rport = rport,
		.seq = seq, .ack = ack, .flags = flags, .wnd = wnd, .opts = opts, .optlen = optlen,
	};
	xmit(nif, nif->tcp, &o, NULL, 0, 0);
}

void tcp_send_reset(struct net_if *nif, const struct ip4_info *ip, const struct tcp_seg *s)
{
	if (s->flags & TCP_RST)
		return;
	if (s->flags & TCP_ACK)
		tcp_send_bare(nif, ip->dst, ip->src, s->dport, s->sport, s->ack, 0, TCP_RST, 0, NULL, 0);
	else
		tcp_send_bare(nif, ip->dst, ip->src, s->dport, s->sport, 0,
			      s->seq + s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN),
			      TCP_RST | TCP_ACK, 0, NULL, 0);
}

static bool fin_sent(const struct tcp_conn *c)
{
	return (c->flags & TF_FIN_QUEUED) && SEQ_GT(c->snd_max, c->snd_end);
}

uint32_t tcp_retransmit(struct tcp_conn *c, uint32_t seq, uint32_t maxlen)
{
	uint32_t n = SEQ_LT(seq, c->snd_end) ? c->snd_end - seq : 0;
	if (n > maxlen)
		n = maxlen;
	if (n > seg_room(c))
		n = seg_room(c);
	uint8_t fl = 0;
	if (fin_sent(c) && seq + n == c->snd_end)
		fl |= TCP_FIN;
	if (!n && !fl)
		return 0;
	if (n && seq + n == c->snd_end)
		fl |= TCP_PSH;
	send_data(c, seq, n, fl);
	if (!c->rto_at)
		tcp_rto_arm(c);
	return n + !!(fl & TCP_FIN);
}

uint32_t tcp_send_forced(struct tcp_conn *c)
{
	uint32_t n = c->snd_end - c->snd_nxt;
	if (n > c->snd_wnd)
		n = c->snd_wnd;
	if (n > seg_room(c))
		n = seg_room(c);
	if (!n)
		return 0;
	send_data(c, c->snd_nxt, n, TCP_PSH);
	c->snd_nxt += n;
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	tcp_rto_arm(c);
	c->persist_at = 0;
	return n;
}

uint32_t tcp_pipe(const struct tcp_conn *c)
{
	uint32_t flight = c->snd_max - c->snd_una, sacked = 0, lost = 0;
	uint32_t pos = SEQ_GT(c->high_rxt, c->snd_una) ? c->high_rxt : c->snd_una;
	for (unsigned i = 0; i < c->nsb; i++) {
		sacked += c->sb[i][1] - c->sb[i][0];
		if (SEQ_GT(c->sb[i][1], pos)) {
			if (SEQ_GT(c->sb[i][0], pos))
				lost += c->sb[i][0] - pos;
			pos = c->sb[i][1];
		}
	}
	uint32_t out = sacked + lost;
	return out >= flight ? 0 : flight - out;
}

/* How much of want (> full) one packet at seq carries: one segment, or
 * with TSO whole segments up to TCP_TSO_BYTES drawn from at most
 * TCP_TSO_SPANS spans of the send queue - and the tail of the queue when
 * want reaches it, so the last segment may be short. */
static uint32_t tso_room(struct tcp_conn *c, uint32_t seq, uint32_t want, uint32_t full)
{
	uint32_t caps = c->st->nif->dev->caps;
	if ((caps & (NETDEV_CAP_TSO4 | NETDEV_CAP_TX_CSUM)) != (NETDEV_CAP_TSO4 | NETDEV_CAP_TX_CSUM))
		return full;
	uint32_t max = TCP_TSO_BYTES - TCP_TSO_BYTES % full;
	uint32_t n = want < max ? want : max;
	uint32_t avail, got = 0;
	struct tcp_span *s;
	if (!tcp_sq_find(c, seq, &avail, &s))
		return full;
	for (unsigned k = 1; got + avail < n; k++) {
		got += avail;
		s = s->next;
		if (k == TCP_TSO_SPANS || !s) {
			n = got;
			break;
		}
		avail = s->len;
	}
	bool to_end = seq + n == c->snd_end;
	if (!to_end)
		n -= n % full;
	return n > full ? n : full;
}

/* Sends one new segment at snd_nxt if the windows, SWS avoidance and
 * Nagle allow; returns false when nothing could go. cwnd_room is what
 * congestion control lets out now. */
static bool send_new(struct tcp_conn *c, uint32_t cwnd_room)
{
	bool fin_pending = (c->flags & TF_FIN_QUEUED) && !SEQ_GT(c->snd_nxt, c->snd_end);
	uint32_t queued = SEQ_LT(c->snd_nxt, c->snd_end) ? c->snd_end - c->snd_nxt : 0;
	if (!queued && !fin_pending)
		return false;
	uint32_t inflight = c->snd_nxt - c->snd_una;
	uint32_t rwnd = c->snd_wnd > inflight ? c->snd_wnd - inflight : 0;
	uint32_t n = queued, full = seg_room(c);
	if (n > rwnd)
		n = rwnd;
	if (n > cwnd_room)
		n = cwnd_room;
	if (n > full)
		n = tso_room(c, c->snd_nxt, n, full);
	if (n < queued) {
		if (n == 0)
			return false;
		/* Sender SWS avoidance: a partial segment only if it is at least
		 * half the largest window the peer offered. */
		if (n < full && n < c->max_snd_wnd / 2)
			return false;
	} else if (n && n < full && !(c->flags & TF_NODELAY) && c->snd_nxt != c->snd_una) {
		return false;                     /* Nagle: wait for the ACK */
	}
	uint8_t fl = 0;
	if (n == queued && fin_pending)
		fl |= TCP_FIN;
	if (n && n == queued)
		fl |= TCP_PSH;
	bool timing = n && c->snd_nxt == c->snd_max && !(c->flags & (TF_TS | TF_RTT_TIMING));
	uint32_t seq = c->snd_nxt;
	int rc = send_data(c, seq, n, fl);
	if (rc == K_EAGAIN || rc == K_ENOMEM) {
		tcp_tx_wait(c);                   /* never sent: not a loss */
		return false;
	}
	c->snd_nxt += n + !!(fl & TCP_FIN);
	if (SEQ_GT(c->snd_nxt, c->snd_max))
		c->snd_max = c->snd_nxt;
	if (timing) {
		c->flags |= TF_RTT_TIMING;
		c->rtt_seq = seq;
		c->rtt_start = c->st->now;
	}
	if (!c->rto_at)
		tcp_rto_arm(c);
	c->persist_at = 0;
	return true;
}

/* RFC 6675 5 (simplified scoreboard): while pipe leaves room for a
 * segment, retransmit the next hole below the highest SACKed byte, else
 * send new data. */
static bool sack_output(struct tcp_conn *c)
{
	bool sent = false;
	for (int guard = 0; guard < 256; guard++) {
		uint32_t pipe = tcp_pipe(c);
		if (pipe + c->mss > c->cwnd)
			break;
		uint32_t h = SEQ_GT(c->high_rxt, c->snd_una) ? c->high_rxt : c->snd_una;
		uint32_t hole_end = 0;
		bool found = false;
		for (unsigned i = 0; i < c->nsb; i++) {
			if (SEQ_LT(h, c->sb[i][0])) {
				hole_end = c->sb[i][0];
				found = true;
				break;
			}
			if (SEQ_LT(h, c->sb[i][1]))
				h = c->sb[i][1];
		}
		if (found) {
			uint32_t n = tcp_retransmit(c, h, hole_end - h);
			if (!n)
				break;
			c->high_rxt = h + n;
			tcp_rxt_mark(c);
			sent = true;
			continue;
		}
		if (!send_new(c, c->cwnd - pipe))
			break;
		sent = true;
	}
	return sent;
}

void tcp_output(struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_FIN_WAIT_1:
	case TCP_FIN_WAIT_2:
	case TCP_CLOSE_WAIT:
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		break;
	default:
		return;
	}
	c->busy++;
	do {
		c->flags &= ~(uint32_t)TF_MORE;
		tcp_update_mss(c);
		bool sent = false;
		if ((c->flags & (TF_RECOVERY | TF_SACK)) == (TF_RECOVERY | TF_SACK)) {
			sent = sack_output(c);
		} else {
			/* Limited transmit (RFC 3042): the first two duplicate
			 * ACKs each let one new segment out beyond cwnd, so a
			 * small flight can still produce enough duplicates for
			 * fast retransmit. */
			uint32_t cw = c->cwnd + (c->dupacks < 2 ? c->dupacks : 2) * c->mss;
			for (int guard = 0; guard < 1024; guard++) {
				uint32_t inflight = c->snd_nxt - c->snd_una;
				uint32_t room = cw > inflight ? cw - inflight : 0;
				if (!send_new(c, room))
					break;
				sent = true;
			}
		}
		if (!sent && (c->flags & TF_ACK_NOW))
			tcp_send_ack(c);
	} while ((c->flags & TF_MORE) && !(c->flags & TF_DEAD));
	tcp_tlp_schedule(c);
	/* Data waiting, nothing in flight, and the window too small to send
	 * it: the persist timer probes a zero window (RFC 9293 3.8.6.1) and
	 * overrides sender SWS avoidance on a small one (3.8.6.2.1). */
	if (SEQ_LT(c->snd_nxt, c->snd_end) && c->snd_max == c->snd_una && c->snd_nxt == c->snd_una) {
		c->rto_at = 0;
		if (!c->persist_at)
			c->persist_at = c->st->now + c->rto;
	}
	c->busy--;
}
