/*
 * tcp_in.c - TCP input: header and option parsing, demultiplexing,
 * listeners and SYN cookies, TIME_WAIT, and the per-state processing of
 * RFC 9293 3.10.7 with the RFC 5961 and RFC 7323 checks, ACK processing
 * and congestion control (RFC 5681, 6582, 6675), and the receive queue.
 *
 * Interface: tcp_input() (nif->tcp_input, called by ip4_input),
 * tcp_parse_options(), tcp_rx_deliver(), tcp_rcv_space(), tcp_rx_free().
 *
 * Rules:
 *  - tcp_input consumes the segment. Hostile input never panics: a
 *    malformed header is dropped and counted; a segment to no connection
 *    is answered with RST (RFC 9293 3.10.7.1); in-window RST and SYN
 *    earn a rate-limited challenge ACK (RFC 5961 3, 4, 7); ACKs of data
 *    never sent or far too old are refused (RFC 5961 5).
 *  - Hostile peers (limits in tcp_priv.h): a segment with a malformed
 *    option is dropped whole; challenge ACKs are limited per connection
 *    (TCP_OOW_RATE_NS) and by a random per-second budget per interface;
 *    immediate ACKs for PAWS failures, out-of-window segments without
 *    data and ACKs beyond snd_max are limited per connection; a cookie
 *    ACK is believed only within TCP_COOKIE_RECENT_NS of its listener's
 *    last overflow; a listener refuses (drops) a SYN from an address at
 *    its per-peer limit (tcp_peer.c).
 *  - Received data is never copied. An in-order segment's buffer joins
 *    the receive queue and the app reads it in place (recv gets a view);
 *    a buffer is freed once every byte in it is consumed. Out-of-order
 *    segments wait in up to TCP_OOO_MAX islands of contiguous buffers,
 *    trimmed so islands never overlap. In all, one connection holds at
 *    most TCP_RCV_MAX_NBUFS buffers and its window's worth of bytes;
 *    anything beyond is dropped and counted (the peer retransmits).
 *  - ACKs are delayed (TCP_DELACK_NS) for in-order data, sent at once
 *    for every second segment, out-of-order data, a filled hole, a FIN
 *    or a window update (RFC 5681 4.2, RFC 1122 4.2.3.2).
 *  - App handlers run inside an event on the conn (tcp_event_begin/end);
 *    after each handler the conn may be dead, and nothing touches it then
 *    but the event's end.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "checksum.h"
#include "tcp_priv.h"

/* ---- options (RFC 9293 3.2, 3.7.1; RFC 7323 2, 3; RFC 2018 2, 3) ---------- */

int tcp_parse_options(const uint8_t *src, const uint8_t *end, bool syn, struct tcp_opts *o)
{
	memset(o, 0, sizeof *o);
	while (src < end) {
		const uint8_t *k = net_take(&src, end, 1);
		if (*k == TCPOPT_EOL)
			break;
		if (*k == TCPOPT_NOP)
			continue;
		const uint8_t *l = net_take(&src, end, 1);
		if (!l || *l < 2)
			return K_EINVAL;
		const uint8_t *v = net_take(&src, end, (size_t)*l - 2);
		if (!v)
			return K_EINVAL;
		switch (*k) {
		case TCPOPT_MSS:
			if (*l == TCPOLEN_MSS && syn) {
				o->mss_ok = true;
				o->mss = net_get16(v);
			}
			break;
		case TCPOPT_WS:
			if (*l == TCPOLEN_WS && syn) {
				o->ws_ok = true;
				/* RFC 7323 2.3: treat a shift above 14 as 14 */
				o->ws = v[0] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : v[0];
			}
			break;
		case TCPOPT_SACK_PERM:
			if (*l == TCPOLEN_SACK_PERM && syn)
				o->sack_perm = true;
			break;
		case TCPOPT_SACK:
			if (*l >= 10 && (*l - 2) % 8 == 0 && !syn) {
				for (unsigned i = 0; i < (unsigned)(*l - 2) / 8 && o->nsack < 4; i++) {
					o->sack[o->nsack][0] = net_get32(v + 8 * i);
					o->sack[o->nsack][1] = net_get32(v + 8 * i + 4);
					o->nsack++;
				}
			}
			break;
		case TCPOPT_TS:
			if (*l == TCPOLEN_TS) {
				o->ts_ok = true;
				o->tsval = net_get32(v);
				o->tsecr = net_get32(v + 4);
			}
			break;
		default:
			break;
		}
	}
	return K_OK;
}

/* ---- receive queue ----------------------------------------------------------- */

static void nb_trim_front(struct nbuf *nb, uint32_t k)
{
	nb->pkt_len -= k;
	for (struct nbuf *s = nb; s && k; s = s->next) {
		uint32_t t = s->len < k ? s->len : k;
		s->data += t;
		s->len -= t;
		k -= t;
	}
}

uint32_t tcp_rcv_space(const struct tcp_conn *c)
{
	uint32_t buf = c->st->cfg.rcv_buf, used = c->rx_bytes + c->ooo_bytes;
	uint32_t space = used >= buf ? 0 : buf - used;
	uint32_t held = (uint32_t)c->rx_nbufs + c->ooo_nbufs;
	uint32_t mss = c->mss ? c->mss : TCP_DEF_MSS;
	uint32_t nb_room = held >= TCP_RCV_MAX_NBUFS ? 0 : (TCP_RCV_MAX_NBUFS - held) * mss;
	uint32_t mem_room = tcp_mem_rcv_cap(c);
	if (nb_room > mem_room)
		nb_room = mem_room;
	return space < nb_room ? space : nb_room;
}

void tcp_rx_free(struct tcp_conn *c)
{
	nbuf_free_queue(c->rx_head);
	c->rx_head = c->rx_tail = NULL;
	c->rx_bytes = c->rx_off = 0;
	c->rx_nbufs = 0;
	for (unsigned i = 0; i < c->nooo; i++)
		nbuf_free_queue(c->ooo[i].head);
	c->nooo = 0;
	c->ooo_bytes = 0;
	c->ooo_nbufs = 0;
	tcp_ooo_listed(c, false);
	tcp_mem_rcv_uncharge(c, c->rmem);
}

/* The truesize of a queue of packets linked through link. */
static uint32_t queue_truesize(const struct nbuf *q)
{
	size_t n = 0;
	for (; q; q = q->link)
		n += nbuf_truesize(q);
	return (uint32_t)n;
}

/*
 * Collapse: copies the len bytes of nb into the free tail of the packet
 * last (queued, its payload ending where nb's begins) when they fit, and
 * frees nb - so a run of small segments pins one buffer instead of one
 * each. False (nothing done) when they do not fit.
 */
static bool collapse_into(struct tcp_stack *st, struct nbuf *last, struct nbuf *nb, uint32_t len)
{
	struct nbuf *seg = last;
	while (seg->next)
		seg = seg->next;
	if ((seg->flags & NBUF_F_BORROWED) || nbuf_tailroom(seg) < len ||
	    nbuf_copy_out(nb, 0, seg->data + seg->len, len) < 0)
		return false;
	seg->len += len;
	last->pkt_len += len;
	nbuf_free(nb);
	TCP_STAT(st, mem_collapsed);
	return true;
}

static void rx_append(struct tcp_conn *c, struct nbuf *head, struct nbuf *tail, uint32_t bytes,
		      uint16_t nbufs)
{
	tail->link = NULL;
	if (c->rx_tail)
		c->rx_tail->link = head;
	else
		c->rx_head = head;
	c->rx_tail = tail;
	c->rx_bytes += bytes;
	c->rx_nbufs = (uint16_t)(c->rx_nbufs + nbufs);
}

static void rx_pop(struct tcp_conn *c)
{
	struct nbuf *nb = c->rx_head;
	c->rx_head = nb->link;
	if (!c->rx_head)
		c->rx_tail = NULL;
	nb->link = NULL;
	tcp_mem_rcv_uncharge(c, (uint32_t)nbuf_truesize(nb));
	nbuf_free(nb);
	c->rx_off = 0;
	c->rx_nbufs--;
}

/* Asks for a window update when reading opened the window enough. */
static void rx_window_check(struct tcp_conn *c)
{
	uint32_t cur = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t space = tcp_rcv_space(c), mss = c->mss ? c->mss : TCP_DEF_MSS;
	if (space > cur && (space - cur >= 2 * mss || space - cur >= c->st->cfg.rcv_buf / 2))
		c->flags |= TF_ACK_NOW;
}

void tcp_rx_deliver(struct tcp_conn *c)
{
	while (c->rx_head && !(c->flags & (TF_DEAD | TF_RX_PAUSED))) {
		struct nbuf *seg = c->rx_head;
		size_t off = c->rx_off;
		while (seg && off >= seg->len) {
			off -= seg->len;
			seg = seg->next;
		}
		if (!seg) {
			rx_pop(c);
			continue;
		}
		size_t avail = seg->len - off, used = avail;
		if (c->h && c->h->recv) {
			c->busy++;
			used = c->h->recv(c, seg->data + off, avail, c->arg);
			c->busy--;
			if (c->flags & TF_DEAD)
				return;
			if (used > avail)
				used = avail;
		}
		c->rx_off += (uint32_t)used;
		c->rx_bytes -= (uint32_t)used;
		if (used < avail) {
			c->flags |= TF_RX_PAUSED;
			break;
		}
	}
	if (!c->rx_head && (c->flags & (TF_RX_FIN | TF_EOF_DONE | TF_DEAD)) == TF_RX_FIN) {
		c->flags |= TF_EOF_DONE;
		if (c->h && c->h->recv) {
			c->busy++;
			c->h->recv(c, NULL, 0, c->arg);
			c->busy--;
		}
	}
	if (!(c->flags & TF_DEAD))
		rx_window_check(c);
}

void tcp_recv_ack(struct tcp_conn *c, size_t n)
{
	if (c->flags & TF_DEAD)
		return;
	while (n && c->rx_head) {
		uint32_t left = nbuf_pkt_len(c->rx_head) - c->rx_off;
		uint32_t k = n < left ? (uint32_t)n : left;
		c->rx_off += k;
		c->rx_bytes -= k;
		n -= k;
		if (c->rx_off == nbuf_pkt_len(c->rx_head))
			rx_pop(c);
	}
	c->st->now = time_now_ns();
	tcp_event_begin(c);
	rx_window_check(c);
	tcp_event_end(c);
}

void tcp_recv_resume(struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	c->st->now = time_now_ns();
	tcp_event_begin(c);
	c->flags &= ~(uint32_t)TF_RX_PAUSED;
	tcp_rx_deliver(c);
	tcp_event_end(c);
}

/* ---- out-of-order islands ------------------------------------------------------ */

static void ooo_remove(struct tcp_conn *c, unsigned i)
{
	memmove(&c->ooo[i], &c->ooo[i + 1], (c->nooo - i - 1) * sizeof c->ooo[0]);
	c->nooo--;
	if (c->ooo_last > i)
		c->ooo_last--;
	else if (c->ooo_last == i)
		c->ooo_last = 0;
	if (!c->nooo)
		tcp_ooo_listed(c, false);
}

/* Gives up the highest out-of-order island (reneging on what it SACKed,
 * which RFC 2018 8 allows: the sender keeps its data until cumulatively
 * acknowledged). In-order data must never wait behind islands it alone
 * could pull in. */
void tcp_ooo_renege_last(struct tcp_conn *c, bool for_mem)
{
	struct tcp_ooo *o = &c->ooo[c->nooo - 1];
	c->ooo_bytes -= o->end - o->seq;
	c->ooo_nbufs = (uint16_t)(c->ooo_nbufs - o->nbufs);
	tcp_mem_rcv_uncharge(c, queue_truesize(o->head));
	nbuf_free_queue(o->head);
	ooo_remove(c, c->nooo - 1);
	if (for_mem)
		TCP_STAT(c->st, mem_pruned);
	else
		TCP_STAT(c->st, ooo_dropped);
}

/* Reports [l, r), received twice, in the next ACK (RFC 2883). */
static void dsack_note(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	if (!(c->flags & TF_SACK))
		return;
	c->dsack[0] = l;
	c->dsack[1] = r;
	c->flags |= TF_DSACK;
}

/* Holds [seq, seq+len) (nb, trimmed to exactly that) out of order. */
static void ooo_insert(struct tcp_conn *c, struct nbuf *nb, uint32_t seq, uint32_t len, bool fin)
{
	struct tcp_stack *st = c->st;
	uint32_t end = seq + len;
	unsigned p = 0;
	for (; p < c->nooo; p++) {
		struct tcp_ooo *o = &c->ooo[p];
		if (SEQ_LEQ(o->seq, seq) && SEQ_GEQ(o->end, end)) {
			if (fin && o->end == end)
				o->fin = true;
			TCP_STAT(st, dup_segs);
			dsack_note(c, seq, end);
			c->ooo_last = (uint8_t)p;            /* its island follows it */
			goto drop;
		}
		if (SEQ_LEQ(o->seq, seq) && SEQ_LT(seq, o->end)) {
			nb_trim_front(nb, o->end - seq);
			seq = o->end;
		}
		if (SEQ_GT(o->seq, seq))
			break;
	}
	if (p < c->nooo && SEQ_GT(end, c->ooo[p].seq)) {
		/* Keep only what precedes the next island (the rest returns). */
		nbuf_trim(nb, c->ooo[p].seq - seq);
		end = c->ooo[p].seq;
		fin = false;
	}
	len = end - seq;
	if (!len) {
		TCP_STAT(st, dup_segs);
		goto drop;
	}
	bool join_prev = p > 0 && c->ooo[p - 1].end == seq;
	bool join_next = p < c->nooo && c->ooo[p].seq == end;
	if (join_prev && collapse_into(st, c->ooo[p - 1].tail, nb, len)) {
		/* No new buffer: the bytes went into the island's last one. */
		struct tcp_ooo *o = &c->ooo[p - 1];
		o->end = end;
		o->fin = fin;
		if (join_next) {
			struct tcp_ooo *n = &c->ooo[p];
			o->tail->link = n->head;
			o->tail = n->tail;
			o->end = n->end;
			o->fin = n->fin;
			o->nbufs = (uint16_t)(o->nbufs + n->nbufs);
			ooo_remove(c, p);
		}
		c->ooo_last = (uint8_t)(p - 1);
		c->ooo_bytes += len;
		TCP_STAT(st, ooo_segs);
		return;
	}
	if ((uint32_t)c->rx_nbufs + c->ooo_nbufs >= TCP_RCV_MAX_NBUFS ||
	    (!join_prev && !join_next && c->nooo == TCP_OOO_MAX))
		goto full;
	uint32_t tsz = (uint32_t)nbuf_truesize(nb);
	if (!tcp_mem_rcv_room(c, tsz, false))
		goto drop;
	tcp_mem_rcv_charge(c, tsz);
	nb->link = NULL;
	if (join_prev) {
		struct tcp_ooo *o = &c->ooo[p - 1];
		o->tail->link = nb;
		o->tail = nb;
		o->end = end;
		o->fin = fin;
		o->nbufs++;
		c->ooo_last = (uint8_t)(p - 1);
		if (join_next) {
			struct tcp_ooo *n = &c->ooo[p];
			o->tail->link = n->head;
			o->tail = n->tail;
			o->end = n->end;
			o->fin = n->fin;
			o->nbufs = (uint16_t)(o->nbufs + n->nbufs);
			ooo_remove(c, p);
			c->ooo_last = (uint8_t)(p - 1);
		}
	} else if (join_next) {
		struct tcp_ooo *n = &c->ooo[p];
		nb->link = n->head;
		n->head = nb;
		n->seq = seq;
		n->nbufs++;
		c->ooo_last = (uint8_t)p;
		/* A run sent backwards packs too: the island's old first
		 * packet moves into nb's tail when it fits. */
		struct nbuf *first = nb->link, *rest = first->link;
		uint32_t fsz = (uint32_t)nbuf_truesize(first);
		first->link = NULL;
		if (collapse_into(st, nb, first, (uint32_t)nbuf_pkt_len(first))) {
			nb->link = rest;
			if (n->tail == first)
				n->tail = nb;
			n->nbufs--;
			c->ooo_nbufs--;
			tcp_mem_rcv_uncharge(c, fsz);
		} else {
			first->link = rest;
		}
	} else {
		memmove(&c->ooo[p + 1], &c->ooo[p], (c->nooo - p) * sizeof c->ooo[0]);
		c->nooo++;
		tcp_ooo_listed(c, true);
		c->ooo[p] = (struct tcp_ooo){ .seq = seq, .end = end, .head = nb, .tail = nb,
					      .nbufs = 1, .fin = fin };
		c->ooo_last = (uint8_t)p;
	}
	c->ooo_bytes += len;
	c->ooo_nbufs++;
	TCP_STAT(st, ooo_segs);
	return;
full:
	TCP_STAT(st, ooo_dropped);
drop:
	nbuf_free(nb);
}

/* ---- FIN, data ------------------------------------------------------------------- */

static void rx_fin(struct tcp_conn *c)
{
	/* The stream ends here: islands above the FIN are not part of it
	 * (found by fuzz_tcp: they were delivered after it). */
	while (c->nooo)
		tcp_ooo_renege_last(c, false);
	c->rcv_nxt++;
	c->flags |= TF_RX_FIN | TF_ACK_NOW;
	switch (c->state) {
	case TCP_SYN_RCVD:
	case TCP_ESTABLISHED:
		c->state = TCP_CLOSE_WAIT;
		break;
	case TCP_FIN_WAIT_1:
		c->state = TCP_CLOSING;
		break;
	case TCP_FIN_WAIT_2:
		c->flags |= TF_TW_PENDING;
		break;
	default:
		break;
	}
}

/* Moves islands that became in-order onto the receive queue. */
static void ooo_pull(struct tcp_conn *c)
{
	while (c->nooo && c->ooo[0].seq == c->rcv_nxt) {
		struct tcp_ooo o = c->ooo[0];
		ooo_remove(c, 0);
		c->ooo_bytes -= o.end - o.seq;
		c->ooo_nbufs = (uint16_t)(c->ooo_nbufs - o.nbufs);
		rx_append(c, o.head, o.tail, o.end - o.seq, o.nbufs);
		c->rcv_nxt = o.end;
		if (o.fin)
			rx_fin(c);
	}
}

static void tcp_data(struct tcp_conn *c, struct nbuf *nb, const struct tcp_seg *s)
{
	struct tcp_stack *st = c->st;
	uint32_t seq = s->seq, len = s->len;
	bool fin = (s->flags & TCP_FIN) != 0;

	if (c->flags & TF_RX_FIN) {                   /* nothing follows a FIN */
		c->flags |= TF_ACK_NOW;
		goto drop;
	}
	if (SEQ_LT(seq, c->rcv_nxt)) {
		uint32_t k = c->rcv_nxt - seq;
		if (k >= len && !(fin && k == len)) {
			TCP_STAT(st, dup_segs);
			c->flags |= TF_ACK_NOW;
			if (len)
				dsack_note(c, seq, seq + len);
			goto drop;
		}
		if (k > len)
			k = len;
		nb_trim_front(nb, k);
		seq += k;
		len -= k;
	}
	uint32_t wnd_end = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv : c->rcv_nxt;
	if (SEQ_GT(seq + len, wnd_end)) {
		uint32_t keep = SEQ_GT(wnd_end, seq) ? wnd_end - seq : 0;
		nbuf_trim(nb, keep);
		len = keep;
		fin = false;
		TCP_STAT(st, rcv_dropped);
		c->flags |= TF_ACK_NOW;
	}
	if (!len && !fin)
		goto drop;
	if (seq != c->rcv_nxt) {
		if (len)
			ooo_insert(c, nb, seq, len, fin);
		else
			nbuf_free(nb);
		c->flags |= TF_ACK_NOW;              /* duplicate ACK with SACK */
		return;
	}
	bool filled = c->nooo > 0;
	if (c->nooo && SEQ_GT(seq + len, c->ooo[0].seq)) {
		len = c->ooo[0].seq - seq;
		nbuf_trim(nb, len);
		fin = false;
	}
	if (len && c->rx_tail && collapse_into(st, c->rx_tail, nb, len)) {
		nb = NULL;
		c->rx_bytes += len;
		c->rcv_nxt += len;
	} else if (len) {
		while (c->nooo && (uint32_t)c->rx_nbufs + c->ooo_nbufs >= TCP_RCV_MAX_NBUFS)
			tcp_ooo_renege_last(c, false);
		uint32_t tsz = (uint32_t)nbuf_truesize(nb);
		if ((uint32_t)c->rx_nbufs + c->ooo_nbufs >= TCP_RCV_MAX_NBUFS ||
		    !tcp_mem_rcv_room(c, tsz, true)) {
			TCP_STAT(st, rcv_dropped);
			c->flags |= TF_ACK_NOW;
			goto drop;
		}
		tcp_mem_rcv_charge(c, tsz);
		rx_append(c, nb, nb, len, 1);
		nb = NULL;
		c->rcv_nxt += len;
	}
	if (fin)
		rx_fin(c);
	ooo_pull(c);
	if (filled || (c->flags & TF_RX_FIN)) {
		c->flags |= TF_ACK_NOW;
	} else if (++c->acks_pending >= 2) {
		c->flags |= TF_ACK_NOW;
	} else if (!c->delack_at) {
		c->delack_at = st->now + TCP_DELACK_NS;
		TCP_STAT(st, delayed_acks);
	}
	tcp_rx_deliver(c);
drop:
	nbuf_free(nb);
}

/* ---- ACK processing ---------------------------------------------------------------- */

/* True when *last (now + 1 of the previous send, 0: never) is younger
 * than TCP_OOW_RATE_NS; otherwise stamps it and returns false. */
static bool rate_limited(const struct tcp_stack *st, uint64_t *last)
{
	if (*last && st->now + 1 - *last < TCP_OOW_RATE_NS)
		return true;
	*last = st->now + 1;
	return false;
}

static void challenge_ack(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	if (rate_limited(st, &c->chal_last)) {
		TCP_STAT(st, challenge_limited_conn);
		return;
	}
	uint64_t sec = st->now / NS_PER_SEC;
	if (sec != st->challenge_sec || !st->challenge_budget) {
		/* A fresh budget each second, drawn with a key the peer
		 * cannot know, in [PER_SEC / 2, PER_SEC * 3 / 2). */
		uint32_t w[2] = { (uint32_t)sec, (uint32_t)(sec >> 32) };
		st->challenge_sec = sec;
		st->challenge_count = 0;
		st->challenge_budget = TCP_CHALLENGE_PER_SEC / 2 +
			(uint32_t)(tcp_siphash(st->isn_key, w, 2) % TCP_CHALLENGE_PER_SEC);
	}
	if (st->challenge_count >= st->challenge_budget) {
		TCP_STAT(st, challenge_limited_global);
		return;
	}
	st->challenge_count++;
	TCP_STAT(st, challenge_acks);
	tcp_send_ack(c);
}

/* An immediate ACK for a PAWS failure, an out-of-window segment or an ACK
 * beyond snd_max, unless this connection sent one within TCP_OOW_RATE_NS.
 * Segments with data (or a SYN) are not part of an ACK loop and always get
 * their ACK (Linux tcp_oow_rate_limited). */
static void oow_ack(struct tcp_conn *c, const struct tcp_seg *s)
{
	if (!s->len && !(s->flags & TCP_SYN) && rate_limited(c->st, &c->oow_last)) {
		TCP_STAT(c->st, oow_acks_limited);
		return;
	}
	c->flags |= TF_ACK_NOW;
}

static void sb_add(struct tcp_conn *c, uint32_t l, uint32_t r)
{
	uint32_t out[TCP_SB_MAX + 1][2];
	unsigned n = 0;
	bool placed = false;
	for (unsigned i = 0; i < c->nsb; i++) {
		uint32_t a = c->sb[i][0], b = c->sb[i][1];
		if (SEQ_LT(b, l)) {
			out[n][0] = a;
			out[n++][1] = b;
		} else if (SEQ_GT(a, r)) {
			if (!placed) {
				out[n][0] = l;
				out[n++][1] = r;
				placed = true;
			}
			if (n <= TCP_SB_MAX - 1) {
				out[n][0] = a;
				out[n++][1] = b;
			}
		} else {
			if (SEQ_LT(a, l))
				l = a;
			if (SEQ_GT(b, r))
				r = b;
		}
	}
	if (!placed && n < TCP_SB_MAX + 1) {
		out[n][0] = l;
		out[n++][1] = r;
	}
	if (n > TCP_SB_MAX)
		n = TCP_SB_MAX;
	memcpy(c->sb, out, n * sizeof out[0]);
	c->nsb = (uint8_t)n;
}

static void sb_trim(struct tcp_conn *c)
{
	unsigned k = 0;
	for (unsigned i = 0; i < c->nsb; i++) {
		if (SEQ_LEQ(c->sb[i][1], c->snd_una))
			continue;
		c->sb[k][0] = SEQ_LT(c->sb[i][0], c->snd_una) ? c->snd_una : c->sb[i][0];
		c->sb[k][1] = c->sb[i][1];
		k++;
	}
	c->nsb = (uint8_t)k;
}

static uint32_t sb_bytes(const struct tcp_conn *c)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < c->nsb; i++)
		n += c->sb[i][1] - c->sb[i][0];
	return n;
}

static void enter_recovery(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	uint32_t flight = c->snd_max - c->snd_una;
	c->ssthresh = flight / 2 > 2u * c->mss ? flight / 2 : 2u * c->mss;
	c->recover = c->snd_max;
	c->flags |= TF_RECOVERY;
	c->flags &= ~(uint32_t)TF_RTT_TIMING;
	TCP_STAT(st, fast_retransmits);
	if (c->flags & TF_SACK) {
		TCP_STAT(st, sack_recoveries);
		c->cwnd = c->ssthresh;
		uint32_t hole_end = c->nsb ? c->sb[0][0] : c->snd_max;
		uint32_t n = tcp_retransmit(c, c->snd_una, hole_end - c->snd_una);
		c->high_rxt = c->snd_una + n;
		tcp_rxt_mark(c);
	} else {
		tcp_retransmit(c, c->snd_una, c->mss);
		c->cwnd = c->ssthresh + 3u * c->mss;
	}
}

void tcp_rxt_mark(struct tcp_conn *c)
{
	c->rxt_fence = c->snd_max;
	c->rxt_at = c->st->now;
}

/* During SACK recovery: the peer reports data we sent after the latest
 * hole retransmission, a round trip (and a quarter, for reordering) has
 * passed since it, and holes we resent are still holes - so a
 * retransmission was lost. Without this only the RTO finds it (RFC 6675
 * cannot; RFC 8985 6.2 does it with per-segment send times, this with the
 * newest retransmission's). Every remaining hole is resent. */
static void lost_rxt_check(struct tcp_conn *c)
{
	if ((c->flags & (TF_RECOVERY | TF_SACK)) != (TF_RECOVERY | TF_SACK) || !c->nsb ||
	    !SEQ_GT(c->high_rxt, c->snd_una) || !SEQ_GT(c->sb[c->nsb - 1][1], c->rxt_fence))
		return;
	uint64_t wait = c->srtt + c->srtt / 4;
	if (c->st->now - c->rxt_at < (wait > TCP_REO_MIN_NS ? wait : TCP_REO_MIN_NS))
		return;
	TCP_STAT(c->st, lost_retransmits);
	c->high_rxt = c->snd_una;
	tcp_rxt_mark(c);
}

static void dup_ack(struct tcp_conn *c)
{
	TCP_STAT(c->st, dup_acks);
	c->dupacks++;
	if (c->flags & TF_RECOVERY) {
		if (!(c->flags & TF_SACK))
			c->cwnd += c->mss;              /* RFC 6582 3.2 step 4 */
		return;
	}
	/* Early retransmit (RFC 5827): a short flight with nothing more to
	 * send cannot produce three duplicates; one fewer than its segments
	 * will do. */
	uint32_t thresh = 3, flight = c->snd_max - c->snd_una;
	if (!SEQ_LT(c->snd_nxt, c->snd_end) && flight < 4u * c->mss) {
		uint32_t segs = (flight + c->mss - 1) / c->mss;
		thresh = segs > 1 ? segs - 1 : 1;
	}
	bool lost = c->dupacks >= thresh;
	/* With SACK the receiver says what it holds beyond the hole: three
	 * segments' worth (RFC 6675 IsLost), or anything after a tail loss
	 * probe - everything outstanding was sent at least a probe timeout
	 * (two round trips) before it (RFC 8985 7.4, where RACK concludes
	 * it). That evidence stands even right after a timeout, where plain
	 * duplicates may only echo the resent data (RFC 6582 4.1 guards
	 * those with recover). */
	bool sack_lost = (c->flags & TF_SACK) && c->nsb &&
			 (sb_bytes(c) >= 3u * c->mss || (c->flags & TF_TLP_OUT));
	if ((lost && SEQ_GT(c->snd_una, c->recover)) || sack_lost)
		enter_recovery(c);
}

static void new_ack(struct tcp_conn *c, uint32_t ack, const struct tcp_seg *s)
{
	struct tcp_stack *st = c->st;
	uint32_t acked = ack - c->snd_una;
	if ((c->flags & TF_TS) && s->o.ts_ok && s->o.tsecr) {
		uint32_t r = tcp_ts_now(c, st->now) - s->o.tsecr;
		if (r < 60000)
			tcp_rtt_sample(c, (uint64_t)r * NS_PER_MS);
	} else if ((c->flags & TF_RTT_TIMING) && SEQ_GT(ack, c->rtt_seq)) {
		c->flags &= ~(uint32_t)TF_RTT_TIMING;
		tcp_rtt_sample(c, st->now - c->rtt_start);
	}
	c->backoff = 0;
	c->probes = 0;
	c->flags &= ~(uint32_t)TF_TLP_OUT;
	tcp_sq_ack(c, ack);
	c->snd_una = ack;
	if (SEQ_LT(c->snd_nxt, ack))
		c->snd_nxt = ack;
	sb_trim(c);
	uint32_t mss = c->mss;
	if (c->flags & TF_RECOVERY) {
		if (SEQ_GEQ(ack, c->recover)) {
			c->flags &= ~(uint32_t)TF_RECOVERY;
			uint32_t flight = c->snd_max - c->snd_una;
			c->cwnd = c->ssthresh < flight + mss ? c->ssthresh : flight + mss;
		} else if (!(c->flags & TF_SACK)) {
			/* RFC 6582 3.2 step 5: partial ACK */
			tcp_retransmit(c, ack, mss);
			c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
			c->cwnd += mss;
			tcp_rto_arm(c);
		} else if (SEQ_LT(c->high_rxt, ack)) {
			c->high_rxt = ack;
		}
	} else if (c->cwnd < c->ssthresh) {
		c->cwnd += acked < mss ? acked : mss;       /* slow start */
	} else {
		uint32_t inc = (uint32_t)((uint64_t)mss * mss / (c->cwnd ? c->cwnd : 1));
		c->cwnd += inc ? inc : 1;                   /* congestion avoidance */
	}
	if (c->cwnd > (1u << 30))
		c->cwnd = 1u << 30;
	c->dupacks = 0;
	if (c->snd_una == c->snd_max)
		c->rto_at = 0;
	else
		tcp_rto_arm(c);
	if (c->flags & TF_WANT_WRITE) {
		size_t room = tcp_sndbuf(c);
		if (room >= st->cfg.snd_buf / 4 || c->snd_una == c->snd_end)
			c->flags |= TF_NOTIFY_WRITE;
	}
}

/* Returns false when the segment must not be processed further. */
static bool tcp_ack(struct tcp_conn *c, const struct tcp_seg *s)
{
	uint32_t ack = s->ack;
	if (SEQ_GT(ack, c->snd_max)) {                /* RFC 5961 5.2 */
		oow_ack(c, s);
		return false;
	}
	if (SEQ_LT(ack, c->snd_una - c->max_snd_wnd)) {
		challenge_ack(c);
		return false;
	}
	uint32_t wnd = (uint32_t)s->wnd << c->snd_wscale;
	uint32_t sacked = c->nsb ? sb_bytes(c) : 0;
	if ((c->flags & TF_SACK) && s->o.nsack) {
		for (unsigned i = 0; i < s->o.nsack; i++) {
			uint32_t l = s->o.sack[i][0], r = s->o.sack[i][1];
			if (!SEQ_LT(l, r) || !SEQ_GT(r, c->snd_una) || SEQ_GT(r, c->snd_max))
				continue;                 /* D-SACK or bogus */
			sb_add(c, SEQ_LT(l, c->snd_una) ? c->snd_una : l, r);
		}
	}
	/* A duplicate ACK (RFC 5681 2) repeats the window; with SACK, an ACK
	 * that reports new out-of-order data counts whatever its window says
	 * (RFC 6675 2, DupAck): a receiver's window moves as it reads. */
	bool dup = false;
	if (SEQ_GT(ack, c->snd_una))
		new_ack(c, ack, s);
	else if (ack == c->snd_una && s->len == 0 && !(s->flags & (TCP_SYN | TCP_FIN)) &&
		 c->snd_max != c->snd_una && (wnd == c->snd_wnd || sb_bytes(c) > sacked))
		dup = true;
	if (SEQ_LT(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && SEQ_LEQ(c->snd_wl2, ack))) {
		c->snd_wnd = wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = ack;
		if (wnd > c->max_snd_wnd)
			c->max_snd_wnd = wnd;
		if (wnd) {
			c->persist_at = 0;
			c->probes = 0;
		}
	}
	if (dup)
		dup_ack(c);
	lost_rxt_check(c);
	return true;
}

/* ---- connection set-up -------------------------------------------------------------- */

/* Takes the SYN's options. */
static void syn_options(struct tcp_conn *c, const struct tcp_seg *s)
{
	c->peer_mss = s->o.mss_ok ? (s->o.mss < TCP_MIN_MSS ? TCP_MIN_MSS : s->o.mss) : TCP_DEF_MSS;
	if (s->o.ws_ok) {
		c->flags |= TF_WSCALE;
		c->snd_wscale = s->o.ws;
		if (c->state != TCP_SYN_SENT) {
			uint32_t ws = 0;
			while (ws < TCP_MAX_WSCALE && (65535u << ws) < c->st->cfg.rcv_buf)
				ws++;
			c->rcv_wscale = (uint8_t)ws;
		}
	} else {
		c->snd_wscale = c->rcv_wscale = 0;
	}
	if (s->o.sack_perm)
		c->flags |= TF_SACK;
	if (s->o.ts_ok) {
		c->flags |= TF_TS;
		c->ts_recent = s->o.tsval;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt;
	c->snd_wnd = s->wnd;                            /* never scaled in a SYN */
	c->max_snd_wnd = s->wnd;
	c->snd_wl1 = s->seq;
}

void tcp_established(struct tcp_conn *c)
{
	tcp_update_mss(c);
	uint32_t iw = 14600 > 2u * c->mss ? 14600 : 2u * c->mss;   /* RFC 6928 */
	c->cwnd = iw < 10u * c->mss ? iw : 10u * c->mss;
	c->ssthresh = 0x7fffffff;
	c->recover = c->snd_una - 1;
	c->backoff = 0;
	c->rto_at = 0;
	c->state = TCP_ESTABLISHED;
	if (c->flags & TF_KEEPALIVE)
		c->keep_at = c->st->now + c->keep_idle;
}

/* SYN_RCVD -> ESTABLISHED: hands the conn to its listener's app. */
static void accept_conn(struct tcp_conn *c)
{
	struct tcp_listener *l = c->lst;
	tcp_established(c);
	if (!l) {
		if (c->h && c->h->connected) {          /* simultaneous open */
			c->busy++;
			c->h->connected(c, c->arg);
			c->busy--;
		}
		return;
	}
	l->half_open--;
	c->lst = NULL;
	c->busy++;
	int r = l->accept(c, l->arg);
	c->busy--;
	if ((r != K_OK || !c->h) && !(c->flags & TF_DEAD))
		tcp_abort(c);
}

static void syn_sent_input(struct tcp_conn *c, struct nbuf *nb, const struct tcp_seg *s,
			   const struct ip4_info *ip)
{
	struct tcp_stack *st = c->st;
	bool ack_ok = false;
	if (s->flags & TCP_ACK) {
		if (SEQ_LEQ(s->ack, c->iss) || SEQ_GT(s->ack, c->snd_max)) {
			tcp_send_reset(st->nif, ip, s);
			goto drop;
		}
		ack_ok = true;
	}
	if (s->flags & TCP_RST) {
		if (ack_ok) {
			TCP_STAT(st, resets_in);
			tcp_conn_drop(c, K_ECONNREFUSED);
		}
		goto drop;
	}
	if (!(s->flags & TCP_SYN))
		goto drop;
	syn_options(c, s);
	if (!ack_ok) {                                   /* simultaneous open */
		c->state = TCP_SYN_RCVD;
		tcp_update_mss(c);
		tcp_send_syn(c);
		goto drop;
	}
	c->snd_una = s->ack;
	c->snd_wl2 = s->ack;
	if ((c->flags & TF_TS) && s->o.tsecr) {
		tcp_rtt_sample(c, (uint64_t)(tcp_ts_now(c, st->now) - s->o.tsecr) * NS_PER_MS);
	} else if (c->backoff == 0 && (c->flags & TF_RTT_TIMING)) {
		tcp_rtt_sample(c, st->now - c->rtt_start);
	}
	c->flags &= ~(uint32_t)TF_RTT_TIMING;
	tcp_established(c);
	c->flags |= TF_ACK_NOW;
	if (c->h && c->h->connected) {
		c->busy++;
		c->h->connected(c, c->arg);
		c->busy--;
	}
drop:
	nbuf_free(nb);
}

static void conn_input(struct tcp_conn *c, struct nbuf *nb, struct tcp_seg *s,
		       const struct ip4_info *ip)
{
	struct tcp_stack *st = c->st;
	tcp_event_begin(c);
	c->last_rx = st->now;
	c->kprobes = 0;
	if (c->state == TCP_SYN_SENT) {
		syn_sent_input(c, nb, s, ip);
		nb = NULL;
		goto out;
	}
	/* Simultaneous open: the peer's SYN-ACK in SYN_RCVD acts as its ACK. */
	if (c->state == TCP_SYN_RCVD && (s->flags & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK) &&
	    s->seq == c->irs && !c->lst) {
		s->flags &= (uint8_t)~TCP_SYN;
		s->seq++;
	}
	/* RFC 7323 5.3 R1: PAWS */
	if ((c->flags & TF_TS) && s->o.ts_ok && !(s->flags & TCP_RST) &&
	    SEQ_LT(s->o.tsval, c->ts_recent)) {
		TCP_STAT(st, paws_drops);
		oow_ack(c, s);
		goto out;
	}
	/* RFC 9293 3.10.7.4 first: sequence acceptability */
	uint32_t wnd = SEQ_GT(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t slen = s->len + !!(s->flags & TCP_SYN) + !!(s->flags & TCP_FIN);
	uint32_t off = s->seq - c->rcv_nxt;
	bool ok;
	if (slen == 0)
		ok = wnd == 0 ? s->seq == c->rcv_nxt : off < wnd;
	else
		ok = wnd != 0 && (off < wnd || (uint32_t)(s->seq + slen - 1 - c->rcv_nxt) < wnd);
	if (!ok) {
		if (wnd == 0 && s->seq == c->rcv_nxt && !(s->flags & (TCP_SYN | TCP_RST))) {
			/* Zero window: take the ACK, drop the data (RFC 9293 3.10.7.4). */
			TCP_STAT(st, rcv_dropped);
			s->len = 0;
			s->flags &= (uint8_t)~TCP_FIN;
			c->flags |= TF_ACK_NOW;
		} else {
			if (!(s->flags & TCP_RST)) {
				TCP_STAT(st, dup_segs);
				oow_ack(c, s);
			}
			goto out;
		}
	}
	/* RFC 7323 4.3: remember the timestamp to echo */
	if ((c->flags & TF_TS) && s->o.ts_ok && SEQ_LEQ(s->seq, c->rcv_nxt) &&
	    SEQ_GEQ(s->o.tsval, c->ts_recent))
		c->ts_recent = s->o.tsval;
	/* second: RST (RFC 5961 3.2) */
	if (s->flags & TCP_RST) {
		if (s->seq == c->rcv_nxt) {
			TCP_STAT(st, resets_in);
			tcp_conn_drop(c, c->lst ? 1 : K_ECONNRESET);
		} else {
			challenge_ack(c);
		}
		goto out;
	}
	/* fourth: SYN (RFC 5961 4.2) */
	if (s->flags & TCP_SYN) {
		if (c->state == TCP_SYN_RCVD && s->seq == c->irs)
			tcp_send_syn(c);                 /* our SYN-ACK was lost */
		else
			challenge_ack(c);
		goto out;
	}
	/* fifth: ACK */
	if (!(s->flags & TCP_ACK))
		goto out;
	if (c->state == TCP_SYN_RCVD) {
		if (!SEQ_GT(s->ack, c->snd_una) || SEQ_GT(s->ack, c->snd_max)) {
			tcp_send_reset(st->nif, ip, s);
			goto out;
		}
		if ((c->flags & TF_TS) && s->o.ts_ok && s->o.tsecr)
			tcp_rtt_sample(c, (uint64_t)(tcp_ts_now(c, st->now) - s->o.tsecr) * NS_PER_MS);
		c->snd_una = s->ack;
		c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
		c->max_snd_wnd = c->snd_wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		accept_conn(c);
		if (c->flags & TF_DEAD)
			goto out;
	}
	if (!tcp_ack(c, s))
		goto out;
	bool fin_acked = (c->flags & TF_FIN_QUEUED) && SEQ_GT(c->snd_una, c->snd_end);
	switch (c->state) {
	case TCP_FIN_WAIT_1:
		if (fin_acked) {
			c->state = TCP_FIN_WAIT_2;
			c->keep_at = st->now + TCP_FIN_WAIT2_NS;   /* every FIN_WAIT_2 */
			c->fw2_rcv_nxt = c->rcv_nxt;
		}
		break;
	case TCP_CLOSING:
		if (fin_acked) {
			tcp_enter_timewait(c);
			goto out;
		}
		break;
	case TCP_LAST_ACK:
		if (fin_acked) {
			tcp_conn_drop(c, K_OK);
			goto out;
		}
		break;
	default:
		break;
	}
	/* seventh: data and FIN */
	if (s->len || (s->flags & TCP_FIN)) {
		if ((c->flags & TF_APP_CLOSED) && s->len && SEQ_GT(s->seq + s->len, c->rcv_nxt)) {
			/* Data for an app that closed: RFC 9293 3.10.4. */
			tcp_send_rst(c);
			tcp_conn_drop(c, 1);
			goto out;
		}
		switch (c->state) {
		case TCP_ESTABLISHED:
		case TCP_FIN_WAIT_1:
		case TCP_FIN_WAIT_2:
			tcp_data(c, nb, s);
			nb = NULL;
			break;
		default:
			c->flags |= TF_ACK_NOW;          /* after the peer's FIN */
			break;
		}
	}
	if ((c->flags & (TF_NOTIFY_WRITE | TF_DEAD)) == TF_NOTIFY_WRITE) {
		c->flags &= ~(uint32_t)(TF_WANT_WRITE | TF_NOTIFY_WRITE);
		if (c->h && c->h->writable) {
			c->busy++;
			c->h->writable(c, c->arg);
			c->busy--;
		}
	}
	if ((c->flags & (TF_TW_PENDING | TF_DEAD)) == TF_TW_PENDING) {
		tcp_send_ack(c);
		tcp_enter_timewait(c);
	}
out:
	nbuf_free(nb);
	tcp_event_end(c);
}

/* ---- listeners --------------------------------------------------------------------- */

static void listen_input(struct tcp_stack *st, struct tcp_listener *l, struct nbuf *nb,
			 struct tcp_seg *s, const struct ip4_info *ip)
{
	struct net_if *nif = st->nif;
	if (s->flags & TCP_RST)
		goto drop;
	if (s->flags & TCP_ACK) {
		if (s->flags & TCP_SYN) {
			tcp_send_reset(nif, ip, s);
			goto drop;
		}
		if (!l->overflow_at || st->now + 1 - l->overflow_at > TCP_COOKIE_RECENT_NS) {
			/* No recent overflow, so no cookie of ours is out: a bare
			 * ACK is refused as any ACK to a listener (3.10.7.2), and
			 * a guessed cookie cannot open a connection. */
			TCP_STAT(st, syncookies_no_overflow);
			tcp_send_reset(nif, ip, s);
			goto drop;
		}
		uint16_t mss = tcp_cookie_check(st, s, ip->dst, ip->src, st->now);
		if (!mss) {
			/* While cookies are out, a later segment of a cookie
			 * connection whose first ACK was lost or overtaken fails
			 * the check (it carries a later seq): drop it quietly so
			 * the peer's retransmission of the first one gets in.
			 * Otherwise an ACK to a listener is refused (3.10.7.2). */
			TCP_STAT(st, syncookies_bad);
			if (!st->cookie_last || st->now - st->cookie_last > (2ull << TCP_COOKIE_SHIFT))
				tcp_send_reset(nif, ip, s);
			goto drop;
		}
		if (tcp_peer_full(st, ip->src))
			goto drop;
		struct tcp_conn *c = tcp_conn_new(st, ip->dst, s->dport, ip->src, s->sport);
		if (!c)
			goto drop;
		tcp_peer_charge(c);
		TCP_STAT(st, syncookies_ok);
		TCP_STAT(st, passive_opens);
		c->flags |= TF_COOKIE;
		c->state = TCP_SYN_RCVD;
		c->irs = s->seq - 1;
		c->rcv_nxt = c->rcv_adv = s->seq;
		c->iss = s->ack - 1;
		c->snd_una = c->snd_nxt = c->snd_max = c->snd_end = s->ack;
		c->peer_mss = mss;
		c->snd_wnd = c->max_snd_wnd = s->wnd;
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
		c->rcv_adv = c->rcv_nxt + (st->cfg.rcv_buf < 65535 ? st->cfg.rcv_buf : 65535);
		tcp_event_begin(c);
		l->half_open++;
		c->lst = l;
		accept_conn(c);
		if (tcp_event_end(c))
			conn_input(c, nb, s, ip);            /* its data, if any */
		else
			nbuf_free(nb);
		return;
	}
	if (!(s->flags & TCP_SYN))
		goto drop;
	uint16_t mss = s->o.mss_ok ? s->o.mss : TCP_DEF_MSS;
	if (tcp_peer_full(st, ip->src))
		goto drop;                           /* tcp_peer.c: dropped, not reset */
	if (l->half_open >= l->backlog || !st->free_conns) {
		/* SYN cookie: answer without state. Only the MSS survives. */
		TCP_STAT(st, listen_overflows);
		TCP_STAT(st, syncookies_sent);
		st->cookie_last = st->now;
		l->overflow_at = st->now + 1;
		uint16_t our = tcp_mss_for(nif, ip->src);
		uint32_t isn = tcp_cookie_make(st, s, ip->dst, ip->src, mss < our ? mss : our, st->now);
		uint8_t o[4] = { TCPOPT_MSS, TCPOLEN_MSS };
		net_put16(o + 2, our);
		uint32_t w = st->cfg.rcv_buf < 65535 ? st->cfg.rcv_buf : 65535;
		tcp_send_bare(nif, ip->dst, ip->src, s->dport, s->sport, isn, s->seq + 1,
			      TCP_SYN | TCP_ACK, (uint16_t)w, o, sizeof o);
		goto drop;
	}
	struct tcp_conn *c = tcp_conn_new(st, ip->dst, s->dport, ip->src, s->sport);
	if (!c)
		goto drop;
	tcp_peer_charge(c);
	TCP_STAT(st, passive_opens);
	c->lst = l;
	l->half_open++;
	c->state = TCP_SYN_RCVD;
	syn_options(c, s);
	c->iss = tcp_isn(st, c->laddr, c->lport, c->raddr, c->rport, st->now);
	c->snd_una = c->iss;
	c->snd_nxt = c->snd_max = c->snd_end = c->iss + 1;
	c->snd_wl2 = c->iss;
	tcp_update_mss(c);
	tcp_event_begin(c);
	tcp_send_syn(c);
	tcp_rto_arm(c);
	tcp_event_end(c);
drop:
	nbuf_free(nb);
}

/* ---- TIME_WAIT (RFC 9293 3.10.7.4, RFC 1337, RFC 6191) -------------------------------- */

/* Returns false when the segment should go on to a listener. */
static bool tw_input(struct tcp_stack *st, struct tcp_tw *tw, struct nbuf *nb,
		     const struct tcp_seg *s)
{
	if (s->flags & TCP_RST)
		goto drop;                               /* RFC 1337: ignore */
	if ((s->flags & (TCP_SYN | TCP_ACK)) == TCP_SYN) {
		bool newer = tw->ts_ok && s->o.ts_ok ? SEQ_GT(s->o.tsval, tw->ts_recent)
						     : SEQ_GT(s->seq, tw->rcv_nxt);
		if (newer) {
			TCP_STAT(st, tw_recycled);
			tcp_tw_remove(st, tw);
			return false;
		}
	} else if (s->flags & TCP_FIN) {
		tw = tcp_tw_restart(st, tw);            /* a retransmitted FIN */
	} else if (!s->len) {
		goto drop;
	}
	uint8_t o[12];
	unsigned n = 0;
	if (tw->ts_ok) {
		o[0] = o[1] = TCPOPT_NOP;
		o[2] = TCPOPT_TS;
		o[3] = TCPOLEN_TS;
		net_put32(o + 4, (uint32_t)(st->now / NS_PER_MS) + tw->ts_offset);
		net_put32(o + 8, tw->ts_recent);
		n = 12;
	}
	tcp_send_bare(st->nif, tw->laddr, tw->raddr, tw->lport, tw->rport, tw->snd_nxt, tw->rcv_nxt,
		      TCP_ACK, 0, o, n);
drop:
	nbuf_free(nb);
	return true;
}

/* ---- entry ----------------------------------------------------------------------------- */

void tcp_input(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip)
{
	struct tcp_stack *st = nif->tcp;
	struct tcp_seg s;

	TCP_STAT(st, segs_in);
	st->now = time_now_ns();
	if (ip->to_bcast) {
		TCP_STAT(st, not_for_us);
		goto drop;
	}
	size_t plen = nbuf_pkt_len(nb);
	if (plen < TCP_HDR_LEN || nbuf_linearize(nb, TCP_HDR_LEN) < 0) {
		TCP_STAT(st, bad_hdr);
		goto drop;
	}
	size_t doff = (size_t)(nb->data[12] >> 4) * 4;
	if (doff < TCP_HDR_LEN || doff > plen || nbuf_linearize(nb, doff) < 0) {
		TCP_STAT(st, bad_hdr);
		goto drop;
	}
	if (!(nb->flags & NBUF_F_CSUM_VALID)) {
		uint32_t sum = checksum_pseudo4(ip->src, ip->dst, IP4_PROTO_TCP, (uint16_t)plen);
		if (checksum_fold(checksum_nbuf(sum, nb, 0, plen)) != 0) {
			TCP_STAT(st, bad_csum);
			goto drop;
		}
	}
	const struct tcp_hdr *h = (const void *)nb->data;
	s.sport = net_get16(h->sport);
	s.dport = net_get16(h->dport);
	s.seq = net_get32(h->seq);
	s.ack = net_get32(h->ack);
	s.flags = h->flags;
	s.wnd = net_get16(h->wnd);
	if (tcp_parse_options(nb->data + TCP_HDR_LEN, nb->data + doff, (s.flags & TCP_SYN) != 0,
			      &s.o) < 0) {
		/* A bad option length: drop it whole, never act on the
		 * options parsed before the bad one. */
		TCP_STAT(st, bad_opts);
		goto drop;
	}
	nbuf_pull(nb, doff);
	s.len = (uint32_t)(plen - doff);
	if ((s.flags & TCP_SYN) && (s.flags & (TCP_FIN | TCP_RST))) {
		TCP_STAT(st, bad_hdr);
		goto drop;
	}
	if (s.sport == 0 || s.dport == 0) {
		TCP_STAT(st, bad_hdr);
		goto drop;
	}
	struct tcp_conn *c = tcp_lookup(st, ip->dst, s.dport, ip->src, s.sport);
	if (c) {
		conn_input(c, nb, &s, ip);
		return;
	}
	struct tcp_tw *tw = tcp_tw_lookup(st, ip->dst, s.dport, ip->src, s.sport);
	if (tw && tw_input(st, tw, nb, &s))
		return;
	struct tcp_listener *l = tcp_listener_find(st, s.dport);
	if (l) {
		listen_input(st, l, nb, &s, ip);
		return;
	}
	TCP_STAT(st, not_for_us);
	tcp_send_reset(nif, ip, &s);
drop:
	nbuf_free(nb);
}
