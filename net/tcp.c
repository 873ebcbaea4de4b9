/*
 * tcp.c - TCP's tables and its app interface: set-up, the connection
 * hash, listeners, the TIME_WAIT table, ISNs and SYN cookies, the send
 * queue of spans, and the calls of kiln/tcp.h.
 *
 * Interface: kiln/tcp.h (apps); tcp_priv.h (tcp_in.c, tcp_out.c,
 * tcp_timer.c, tests).
 *
 * Rules:
 *  - Everything is carved at tcp_if_init() from caller memory: connection
 *    blocks, hash buckets, TIME_WAIT entries, spans. Nothing is allocated
 *    per packet or per connection afterwards; a full table means SYN
 *    cookies (listeners) or K_ENOSPC (connect).
 *  - Lookup of the 4-tuple is O(1): buckets indexed by a keyed hash whose
 *    seed comes from random_bytes() at init, so a peer cannot aim its
 *    connections at one chain.
 *  - ISNs follow RFC 6528: a 4 us clock plus SipHash-2-4 of the 4-tuple
 *    under a secret key. SYN cookies carry 3 bits of time counter, 2 bits
 *    of MSS index and a 27-bit SipHash MAC over the 4-tuple, the peer's
 *    ISN, the counter and the index. A cookie connection loses window
 *    scaling, SACK and timestamps (they are not encoded), which is the
 *    price of answering a flood without state.
 *  - Send queue (docs/networking.md): tcp_write() copies into pool
 *    buffers owned by spans, tcp_write_borrowed() queues the app's span.
 *    A span is released only when acknowledged AND no descriptor lending
 *    its bytes is still held by a device; its done runs exactly once.
 *  - Re-entrancy: handlers may call any API function, including
 *    tcp_abort() on the conn being processed. Every event on a conn is
 *    bracketed by tcp_event_begin()/tcp_event_end(); a conn dropped
 *    inside is only marked dead and freed at the end, and output asked
 *    for inside is done at the end too.
 *  - TIME_WAIT lives in a ring of small entries, not connection blocks.
 *    Entries expire in ring order (one 2*MSL for all); a restarted entry
 *    moves to the tail; when the ring is full the oldest is reused.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/panic.h>
#include <kiln/random.h>

#include "tcp_priv.h"

/* ---- SipHash-2-4 over 32-bit words (Aumasson & Bernstein) ---------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND do { \
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32); \
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2; \
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0; \
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32); \
} while (0)

uint64_t tcp_siphash(const uint64_t key[2], const uint32_t *w, unsigned n)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ key[0], v1 = 0x646f72616e646f6dull ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ull ^ key[0], v3 = 0x7465646279746573ull ^ key[1];
	unsigned i = 0;
	for (; i + 2 <= n; i += 2) {
		uint64_t m = (uint64_t)w[i] | (uint64_t)w[i + 1] << 32;
		v3 ^= m;
		SIPROUND; SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)(n * 4) << 56;
	if (i < n)
		b |= w[i];
	v3 ^= b;
	SIPROUND; SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND; SIPROUND; SIPROUND; SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- set-up ---------------------------------------------------------------- */

void tcp_config_default(struct tcp_config *cfg)
{
	cfg->max_conns = TCP_DEF_MAX_CONNS;
	cfg->max_timewait = TCP_DEF_MAX_TIMEWAIT;
	cfg->max_spans = TCP_DEF_MAX_CONNS * TCP_DEF_SPANS_PER_CONN;
	cfg->rcv_buf = TCP_DEF_RCV_BUF;
	cfg->snd_buf = TCP_DEF_SND_BUF;
	cfg->msl_ns = TCP_DEF_MSL_NS;
	cfg->persist_timeout_ns = TCP_DEF_PERSIST_TIMEOUT_NS;
	cfg->max_per_peer = tcp_peer_default_limit();
	cfg->mem_limit = 0;          /* from the pool (tcp_mem.c) */
	cfg->mem_pressure = 0;
}

static uint32_t pow2_at_least(uint32_t n)
{
	uint32_t p = 16;
	while (p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

static size_t align64(size_t v) { return (v + 63) & ~(size_t)63; }

/* Layout: stack | conns | hash | tw | tw_hash | spans */
size_t tcp_mem_size(const struct tcp_config *cfg)
{
	struct tcp_config d;
	if (!cfg) {
		tcp_config_default(&d);
		cfg = &d;
	}
	uint32_t hn = pow2_at_least(cfg->max_conns * 2), tn = pow2_at_least(cfg->max_timewait);
	return align64(sizeof(struct tcp_stack)) +
	       align64((size_t)cfg->max_conns * sizeof(struct tcp_conn)) +
	       align64((size_t)hn * sizeof(struct tcp_conn *)) +
	       align64((size_t)cfg->max_timewait * sizeof(struct tcp_tw)) +
	       align64((size_t)tn * sizeof(struct tcp_tw *)) +
	       align64((size_t)cfg->max_spans * sizeof(struct tcp_span)) +
	       align64(tcp_peer_mem_size(cfg));
}

int tcp_if_init(struct net_if *nif, const struct tcp_config *cfg, void *mem, size_t size)
{
	struct tcp_config d;
	if (!cfg) {
		tcp_config_default(&d);
		cfg = &d;
	}
	if (!mem || cfg->max_conns == 0 || cfg->max_timewait == 0 || cfg->max_spans == 0 ||
	    cfg->rcv_buf < 1024 || cfg->rcv_buf > (1u << 30) || cfg->snd_buf < 1024 ||
	    size < tcp_mem_size(cfg))
		return K_EINVAL;
	memset(mem, 0, tcp_mem_size(cfg));
	uint8_t *p = mem;
	struct tcp_stack *st = (void *)p;
	p += align64(sizeof *st);
	st->nif = nif;
	st->cfg = *cfg;
	st->conns = (void *)p;
	p += align64((size_t)cfg->max_conns * sizeof(struct tcp_conn));
	uint32_t hn = pow2_at_least(cfg->max_conns * 2), tn = pow2_at_least(cfg->max_timewait);
	st->hash = (void *)p;
	st->hash_mask = hn - 1;
	p += align64((size_t)hn * sizeof(struct tcp_conn *));
	st->tw = (void *)p;
	p += align64((size_t)cfg->max_timewait * sizeof(struct tcp_tw));
	st->tw_hash = (void *)p;
	p += align64((size_t)tn * sizeof(struct tcp_tw *));
	st->spans = (void *)p;
	for (uint32_t i = cfg->max_conns; i-- > 0;) {
		st->conns[i].hnext = st->free_conns;
		st->free_conns = &st->conns[i];
	}
	for (uint32_t i = cfg->max_spans; i-- > 0;) {
		st->spans[i].next = st->free_spans;
		st->free_spans = &st->spans[i];
	}
	tcp_peer_init(st, p + align64((size_t)cfg->max_spans * sizeof(struct tcp_span)));
	tcp_mem_init(st);
	random_bytes(st->isn_key, sizeof st->isn_key);
	random_bytes(st->cookie_key, sizeof st->cookie_key);
	random_bytes(st->ts_key, sizeof st->ts_key);
	random_bytes(&st->hash_seed, sizeof st->hash_seed);
	st->next_port = (uint16_t)(TCP_EPHEMERAL_MIN + random_u32() % (65536u - TCP_EPHEMERAL_MIN));
	st->now = time_now_ns();
	tw_init(&st->wheel, st->now);
	nif->tcp = st;
	nif->tcp_input = tcp_input;
	return K_OK;
}

const struct tcp_stats *tcp_get_stats(const struct net_if *nif)
{
	return &nif->tcp->stats;
}

unsigned net_if_tcp_states(const struct net_if *nif, struct net_counter *out, unsigned max)
{
	static const char *const names[] = {
		[TCP_SYN_SENT] = "syn_sent", [TCP_SYN_RCVD] = "syn_rcvd",
		[TCP_ESTABLISHED] = "established", [TCP_FIN_WAIT_1] = "fin_wait_1",
		[TCP_FIN_WAIT_2] = "fin_wait_2", [TCP_CLOSE_WAIT] = "close_wait",
		[TCP_CLOSING] = "closing", [TCP_LAST_ACK] = "last_ack", [TCP_TIME_WAIT] = "time_wait",
	};
	_Static_assert(TCP_TIME_WAIT - TCP_SYN_SENT + 1 == NET_TCP_STATES, "state names");
	const struct tcp_stack *st = nif->tcp;
	uint64_t n[TCP_TIME_WAIT + 1] = { 0 };
	if (!st)
		return 0;
	for (uint32_t i = 0; i < st->cfg.max_conns; i++) {
		const struct tcp_conn *c = &st->conns[i];
		if (c->state != TCP_CLOSED && !(c->flags & TF_DEAD))
			n[c->state]++;
	}
	n[TCP_TIME_WAIT] += st->stats.timewait_current;
	unsigned k = 0;
	for (unsigned s = TCP_SYN_SENT; s <= TCP_TIME_WAIT && k < max; s++)
		out[k++] = (struct net_counter){ names[s], n[s] };
	return k;
}

/* ---- lookup ---------------------------------------------------------------- */

static uint32_t tuple_hash(const struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			   uint32_t raddr, uint16_t rport)
{
	/* A keyed multiply-xorshift mix: cheap per packet, and with a secret
	 * seed a remote peer cannot predict which bucket a tuple lands in. */
	uint64_t h = st->hash_seed ^ ((uint64_t)raddr << 32 | (uint64_t)rport << 16 | lport);
	h ^= (uint64_t)laddr * 0x9e3779b97f4a7c15ull;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 31;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 29;
	return (uint32_t)h;
}

struct tcp_conn *tcp_lookup(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			    uint32_t raddr, uint16_t rport)
{
	struct tcp_conn *c = st->hash[tuple_hash(st, laddr, lport, raddr, rport) & st->hash_mask];
	for (; c; c = c->hnext)
		if (c->rport == rport && c->raddr == raddr && c->lport == lport && c->laddr == laddr)
			return c;
	return NULL;
}

static struct tcp_tw **tw_bucket(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
				 uint32_t raddr, uint16_t rport)
{
	uint32_t mask = pow2_at_least(st->cfg.max_timewait) - 1;
	return &st->tw_hash[tuple_hash(st, laddr, lport, raddr, rport) & mask];
}

struct tcp_tw *tcp_tw_lookup(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			     uint32_t raddr, uint16_t rport)
{
	if (st->tw_count == 0)
		return NULL;
	for (struct tcp_tw *t = *tw_bucket(st, laddr, lport, raddr, rport); t; t = t->hnext)
		if (t->rport == rport && t->raddr == raddr && t->lport == lport && t->laddr == laddr)
			return t;
	return NULL;
}

struct tcp_listener *tcp_listener_find(struct tcp_stack *st, uint16_t port)
{
	for (unsigned i = 0; i < TCP_MAX_LISTENERS; i++)
		if (st->lst[i].used && st->lst[i].port == port)
			return &st->lst[i];
	return NULL;
}

/* ---- connection blocks -------------------------------------------------------- */

struct tcp_conn *tcp_conn_new(struct tcp_stack *st, uint32_t laddr, uint16_t lport,
			      uint32_t raddr, uint16_t rport)
{
	struct tcp_conn *c = st->free_conns;
	if (!c) {
		TCP_STAT(st, table_full);
		return NULL;
	}
	st->free_conns = c->hnext;
	memset(c, 0, sizeof *c);
	c->st = st;
	c->laddr = laddr;
	c->lport = lport;
	c->raddr = raddr;
	c->rport = rport;
	c->flags = TF_NODELAY | TF_IN_HASH;
	c->rto = TCP_RTO_INIT_NS;
	c->keep_idle = TCP_KEEP_IDLE_NS;
	c->keep_intvl = TCP_KEEP_INTVL_NS;
	c->keep_cnt = TCP_KEEP_CNT;
	c->last_rx = st->now;
	c->timer.fn = tcp_timer_fn;          /* on our own wheel (tcp_tick) */
	c->timer.arg = c;
	uint32_t w[3] = { laddr ^ raddr, (uint32_t)lport << 16 | rport, raddr };
	c->ts_offset = (uint32_t)tcp_siphash(st->ts_key, w, 3);
	struct tcp_conn **b = &st->hash[tuple_hash(st, laddr, lport, raddr, rport) & st->hash_mask];
	c->hnext = *b;
	*b = c;
	st->stats.conns_current++;
	return c;
}

static void tcp_conn_unhash(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	if (!(c->flags & TF_IN_HASH))
		return;
	struct tcp_conn **pp = &st->hash[tuple_hash(st, c->laddr, c->lport, c->raddr, c->rport) &
					 st->hash_mask];
	while (*pp && *pp != c)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = c->hnext;
	c->hnext = NULL;
	c->flags &= ~(uint32_t)TF_IN_HASH;
}

static void span_release(struct tcp_span *s)
{
	struct tcp_stack *st = s->st;
	net_done_fn done = s->done;
	void *arg = s->done_arg;
	struct nbuf *own = s->own;
	memset(s, 0, sizeof *s);
	s->next = st->free_spans;
	st->free_spans = s;
	if (own) {
		tcp_mem_snd_uncharge(st, (uint32_t)nbuf_truesize(own));
		nbuf_free(own);
	}
	if (done)
		done(arg);
}

static void span_detach(struct tcp_span *s)
{
	s->detached = true;
	s->next = NULL;
	if (s->inflight == 0)
		span_release(s);
}

void tcp_span_desc_done(void *arg)
{
	struct tcp_span *s = arg;
	KASSERT(s->inflight > 0);
	if (--s->inflight == 0 && s->detached)
		span_release(s);
}

static void tcp_conn_free(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	tw_del(&st->wheel, &c->timer);
	tcp_conn_unhash(c);
	if (c->lst) {
		c->lst->half_open--;
		c->lst = NULL;
	}
	struct tcp_span *s = c->sq_head;
	c->sq_head = c->sq_tail = NULL;
	while (s) {
		struct tcp_span *n = s->next;
		span_detach(s);
		s = n;
	}
	tcp_rx_free(c);
	tcp_peer_release(c);
	c->state = TCP_CLOSED;
	c->h = NULL;
	c->hnext = st->free_conns;
	st->free_conns = c;
	st->stats.conns_current--;
}

void tcp_conn_drop(struct tcp_conn *c, int reason)
{
	if (c->flags & TF_DEAD)
		return;
	c->flags |= TF_DEAD;
	c->state = TCP_CLOSED;
	tcp_conn_unhash(c);               /* nothing else reaches it now */
	if (reason == K_ETIMEDOUT)
		TCP_STAT(c->st, timeouts);
	if (reason != 1 && !(c->flags & TF_APP_CLOSED) && c->h && c->h->closed) {
		const struct tcp_handlers *h = c->h;
		c->h = NULL;
		c->busy++;
		h->closed(c, reason, c->arg);
		c->busy--;
	}
	c->flags |= TF_APP_CLOSED;
	if (!c->busy)
		tcp_conn_free(c);
}

void tcp_event_begin(struct tcp_conn *c)
{
	c->busy++;
}

bool tcp_event_end(struct tcp_conn *c)
{
	if (--c->busy)
		return !(c->flags & TF_DEAD);
	if (c->flags & TF_DEAD) {
		tcp_conn_free(c);
		return false;
	}
	tcp_output(c);
	if (c->flags & TF_DEAD) {
		tcp_conn_free(c);
		return false;
	}
	tcp_timer_update(c);
	return true;
}

/* ---- TIME_WAIT ------------------------------------------------------------------ */

void tcp_tw_remove(struct tcp_stack *st, struct tcp_tw *tw)
{
	if (!tw->used)
		return;
	struct tcp_tw **pp = tw_bucket(st, tw->laddr, tw->lport, tw->raddr, tw->rport);
	while (*pp && *pp != tw)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = tw->hnext;
	tw->used = false;
	st->stats.timewait_current--;
}

/* Pops unused and (with now) expired entries off the ring's head. */
static void tw_trim(struct tcp_stack *st, uint64_t now, bool expire)
{
	while (st->tw_count) {
		struct tcp_tw *t = &st->tw[st->tw_head];
		if (t->used && !(expire && t->expires <= now))
			break;
		tcp_tw_remove(st, t);
		st->tw_head = (st->tw_head + 1) % st->cfg.max_timewait;
		st->tw_count--;
	}
}

static struct tcp_tw *tw_slot(struct tcp_stack *st)
{
	tw_trim(st, 0, false);
	if (st->tw_count == st->cfg.max_timewait) {
		tcp_tw_remove(st, &st->tw[st->tw_head]);       /* reuse the oldest */
		st->tw_head = (st->tw_head + 1) % st->cfg.max_timewait;
		st->tw_count--;
		TCP_STAT(st, tw_evicted);
	}
	struct tcp_tw *t = &st->tw[(st->tw_head + st->tw_count) % st->cfg.max_timewait];
	st->tw_count++;
	return t;
}

static struct tcp_tw *tw_insert(struct tcp_stack *st, const struct tcp_tw *src)
{
	struct tcp_tw *t = tw_slot(st);
	*t = *src;
	t->used = true;
	t->expires = st->now + 2 * st->cfg.msl_ns;
	struct tcp_tw **b = tw_bucket(st, t->laddr, t->lport, t->raddr, t->rport);
	t->hnext = *b;
	*b = t;
	st->stats.timewait_current++;
	return t;
}

struct tcp_tw *tcp_tw_restart(struct tcp_stack *st, struct tcp_tw *tw)
{
	struct tcp_tw copy = *tw;
	tcp_tw_remove(st, tw);
	return tw_insert(st, &copy);
}

void tcp_enter_timewait(struct tcp_conn *c)
{
	struct tcp_tw t = {
		.laddr = c->laddr, .raddr = c->raddr, .lport = c->lport, .rport = c->rport,
		.ts_ok = (c->flags & TF_TS) != 0, .rcv_wscale = c->rcv_wscale,
		.snd_nxt = c->snd_nxt, .rcv_nxt = c->rcv_nxt,
		.ts_recent = c->ts_recent, .ts_offset = c->ts_offset,
	};
	tw_insert(c->st, &t);
	tcp_conn_drop(c, K_OK);
}

void tcp_tw_expire(struct tcp_stack *st, uint64_t now)
{
	tw_trim(st, now, true);
}

/* ---- ISN and SYN cookies ---------------------------------------------------------- */

uint32_t tcp_isn(struct tcp_stack *st, uint32_t laddr, uint16_t lport, uint32_t raddr,
		 uint16_t rport, uint64_t now)
{
	uint32_t w[3] = { laddr, raddr, (uint32_t)lport << 16 | rport };
	return (uint32_t)(now / 4000) + (uint32_t)tcp_siphash(st->isn_key, w, 3);
}

static const uint16_t cookie_mss[4] = { 536, 1220, 1440, 1460 };

static uint32_t cookie_mac(struct tcp_stack *st, uint32_t laddr, uint32_t raddr, uint16_t lport,
			   uint16_t rport, uint32_t peer_isn, uint32_t t, uint32_t idx)
{
	uint32_t w[5] = { laddr, raddr, (uint32_t)lport << 16 | rport, peer_isn, t << 2 | idx };
	return (uint32_t)tcp_siphash(st->cookie_key, w, 5) & 0x07ffffffu;
}

uint32_t tcp_cookie_make(struct tcp_stack *st, const struct tcp_seg *s, uint32_t laddr,
			 uint32_t raddr, uint16_t mss, uint64_t now)
{
	uint32_t idx = 0;
	for (uint32_t i = 0; i < 4; i++)
		if (cookie_mss[i] <= mss)
			idx = i;
	uint32_t t = (uint32_t)(now >> TCP_COOKIE_SHIFT);
	return (t & 7) << 29 | idx << 27 | cookie_mac(st, laddr, raddr, s->dport, s->sport, s->seq, t, idx);
}

uint16_t tcp_cookie_check(struct tcp_stack *st, const struct tcp_seg *s, uint32_t laddr,
			  uint32_t raddr, uint64_t now)
{
	uint32_t c = s->ack - 1, peer_isn = s->seq - 1;
	uint32_t t = (uint32_t)(now >> TCP_COOKIE_SHIFT), idx = (c >> 27) & 3;
	for (uint32_t back = 0; back < 2; back++) {
		uint32_t tt = t - back;
		if ((tt & 7) != c >> 29)
			continue;
		if (cookie_mac(st, laddr, raddr, s->dport, s->sport, peer_isn, tt, idx) == (c & 0x07ffffffu))
			return cookie_mss[idx];
	}
	return 0;
}

/* ---- send queue ------------------------------------------------------------------------ */

void tcp_sq_ack(struct tcp_conn *c, uint32_t ack)
{
	while (c->sq_head) {
		struct tcp_span *s = c->sq_head;
		uint32_t end = s->seq + s->len;
		if (SEQ_LEQ(end, ack)) {
			c->sq_head = s->next;
			if (!c->sq_head)
				c->sq_tail = NULL;
			if (s->own)
				c->sq_copied -= s->len;
			span_detach(s);
			continue;
		}
		if (SEQ_GT(ack, s->seq)) {
			uint32_t k = ack - s->seq;
			s->p += k;
			s->len -= k;
			s->seq = ack;
			if (s->own)
				c->sq_copied -= k;
		}
		break;
	}
}

const uint8_t *tcp_sq_find(struct tcp_conn *c, uint32_t seq, uint32_t *avail, struct tcp_span **sp)
{
	for (struct tcp_span *s = c->sq_head; s; s = s->next) {
		if (SEQ_GEQ(seq, s->seq) && SEQ_LT(seq, s->seq + s->len)) {
			uint32_t off = seq - s->seq;
			*avail = s->len - off;
			*sp = s;
			return s->p + off;
		}
	}
	*avail = 0;
	*sp = NULL;
	return NULL;
}

static struct tcp_span *span_get(struct tcp_stack *st)
{
	struct tcp_span *s = st->free_spans;
	if (!s)
		return NULL;
	st->free_spans = s->next;
	memset(s, 0, sizeof *s);
	s->st = st;
	return s;
}

static void sq_append(struct tcp_conn *c, struct tcp_span *s)
{
	s->seq = c->snd_end;
	if (c->sq_tail)
		c->sq_tail->next = s;
	else
		c->sq_head = s;
	c->sq_tail = s;
	c->snd_end += s->len;
}

static int write_check(const struct tcp_conn *c)
{
	if (c->flags & (TF_DEAD | TF_APP_CLOSED))
		return K_ECLOSED;
	if (c->flags & TF_FIN_QUEUED)
		return K_ECLOSED;
	switch (c->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		return K_OK;
	case TCP_SYN_SENT:
	case TCP_SYN_RCVD:
		return K_ENOTCONN;
	default:
		return K_ECLOSED;
	}
}

size_t tcp_sndbuf(const struct tcp_conn *c)
{
	uint32_t lim = c->st->cfg.snd_buf;
	return c->sq_copied >= lim ? 0 : lim - c->sq_copied;
}

void tcp_want_writable(struct tcp_conn *c)
{
	c->flags |= TF_WANT_WRITE;
}

/* Output now unless inside an event on c (then tcp_event_end does it). */
static void kick(struct tcp_conn *c)
{
	if (c->busy) {
		c->flags |= TF_MORE;
		return;
	}
	c->st->now = time_now_ns();
	tcp_event_begin(c);
	tcp_event_end(c);
}

int tcp_write(struct tcp_conn *c, const void *data, size_t len)
{
	int ret = write_check(c);
	if (ret < 0)
		return ret;
	const uint8_t *src = data;
	size_t room = tcp_sndbuf(c), done = 0, want = len;
	if (len > room)
		len = room;
	while (done < len) {
		struct tcp_span *s = c->sq_tail;
		/* Fill the tail buffer first: bytes past a span's end can be
		 * added even while its earlier bytes are on the wire. */
		if (s && s->own && !s->detached) {
			uint8_t *tail = (uint8_t *)(uintptr_t)(s->p + s->len);
			size_t k = (size_t)(s->own->base + s->own->size - tail);
			if (k > len - done)
				k = len - done;
			if (k) {
				memcpy(tail, src + done, k);
				s->len += (uint32_t)k;
				c->snd_end += (uint32_t)k;
				c->sq_copied += (uint32_t)k;
				done += k;
				continue;
			}
		}
		if (!tcp_mem_snd_room(c)) {
			tcp_mem_wait(c);
			break;
		}
		struct nbuf *nb = nbuf_alloc(c->st->nif->pool);
		struct tcp_span *ns = nb ? span_get(c->st) : NULL;
		if (!ns) {
			if (nb)
				nbuf_free(nb);
			TCP_STAT(c->st, no_mem);
			tcp_mem_wait(c);
			break;
		}
		tcp_mem_snd_charge(c->st, (uint32_t)nbuf_truesize(nb));
		ns->own = nb;
		ns->p = nb->base;
		ns->len = 0;
		sq_append(c, ns);
	}
	if (done < want)
		c->flags |= TF_WANT_WRITE;
	if (done)
		kick(c);
	return done ? (int)done : (want ? K_EAGAIN : 0);
}

int tcp_write_borrowed(struct tcp_conn *c, const void *data, size_t len,
		       net_done_fn done, void *arg)
{
	int ret = write_check(c);
	if (ret == K_OK && len > UINT32_MAX / 2)
		ret = K_EMSGSIZE;
	if (ret < 0 || len == 0) {
		if (done)
			done(arg);
		return ret;
	}
	struct tcp_span *s = span_get(c->st);
	if (!s) {
		TCP_STAT(c->st, no_mem);
		c->flags |= TF_WANT_WRITE;
		tcp_mem_wait(c);
		if (done)
			done(arg);
		return K_ENOMEM;
	}
	s->p = data;
	s->len = (uint32_t)len;
	s->done = done;
	s->done_arg = arg;
	sq_append(c, s);
	kick(c);
	return K_OK;
}

/* ---- opening ------------------------------------------------------------------------------ */

int tcp_listen(struct net_if *nif, uint16_t port, unsigned backlog, tcp_accept_fn accept, void *arg)
{
	struct tcp_stack *st = nif->tcp;
	if (!st || port == 0 || !accept)
		return K_EINVAL;
	if (tcp_listener_find(st, port))
		return K_EADDRINUSE;
	for (unsigned i = 0; i < TCP_MAX_LISTENERS; i++) {
		struct tcp_listener *l = &st->lst[i];
		if (l->used)
			continue;
		memset(l, 0, sizeof *l);
		l->used = true;
		l->port = port;
		l->backlog = (uint16_t)(backlog ? (backlog > 65535 ? 65535 : backlog) : 1);
		l->accept = accept;
		l->arg = arg;
		return K_OK;
	}
	return K_ENOSPC;
}

void tcp_unlisten(struct net_if *nif, uint16_t port)
{
	struct tcp_stack *st = nif->tcp;
	struct tcp_listener *l = st ? tcp_listener_find(st, port) : NULL;
	if (!l)
		return;
	for (uint32_t i = 0; i < st->cfg.max_conns && l->half_open; i++) {
		struct tcp_conn *c = &st->conns[i];
		if (c->st && c->lst == l && !(c->flags & TF_DEAD) && c->state != TCP_CLOSED)
			tcp_abort(c);
	}
	l->used = false;
}

int tcp_connect(struct net_if *nif, uint32_t addr, uint16_t port,
		const struct tcp_handlers *h, void *arg, struct tcp_conn **out)
{
	struct tcp_stack *st = nif->tcp;
	uint32_t hop;
	*out = NULL;
	if (!st || port == 0)
		return K_EINVAL;
	if (ip4_route(nif, addr, &hop) < 0 || ip4_is_bcast(nif, addr))
		return K_ENOENT;
	uint16_t lport = 0;
	const unsigned range = 65536u - TCP_EPHEMERAL_MIN;
	for (unsigned i = 0; i < range && !lport; i++) {
		uint16_t p = st->next_port;
		st->next_port = (uint16_t)(p == 65535 ? TCP_EPHEMERAL_MIN : p + 1u);
		if (!tcp_listener_find(st, p) && !tcp_lookup(st, nif->addr, p, addr, port) &&
		    !tcp_tw_lookup(st, nif->addr, p, addr, port))
			lport = p;
	}
	if (!lport)
		return K_EADDRINUSE;
	st->now = time_now_ns();
	struct tcp_conn *c = tcp_conn_new(st, nif->addr, lport, addr, port);
	if (!c)
		return K_ENOSPC;
	c->h = h;
	c->arg = arg;
	c->state = TCP_SYN_SENT;
	c->iss = tcp_isn(st, c->laddr, lport, addr, port, st->now);
	c->snd_una = c->snd_nxt = c->snd_max = c->iss;
	c->snd_end = c->iss + 1;
	c->mss = tcp_mss_for(nif, addr);
	uint32_t ws = 0;
	while (ws < TCP_MAX_WSCALE && (65535u << ws) < st->cfg.rcv_buf)
		ws++;
	c->rcv_wscale = (uint8_t)ws;
	TCP_STAT(st, active_opens);
	*out = c;
	tcp_event_begin(c);
	tcp_send_syn(c);
	c->snd_nxt = c->snd_max = c->iss + 1;
	tcp_rto_arm(c);
	tcp_event_end(c);
	return K_OK;
}

void tcp_set_handlers(struct tcp_conn *c, const struct tcp_handlers *h, void *arg)
{
	c->h = h;
	c->arg = arg;
}

/* ---- closing -------------------------------------------------------------------------------- */

int tcp_shutdown(struct tcp_conn *c)
{
	if (c->flags & (TF_DEAD | TF_FIN_QUEUED))
		return (c->flags & TF_DEAD) ? K_ECLOSED : K_OK;
	switch (c->state) {
	case TCP_SYN_SENT:
		tcp_conn_drop(c, 1);
		return K_OK;
	case TCP_SYN_RCVD:
	case TCP_ESTABLISHED:
		c->state = TCP_FIN_WAIT_1;
		break;
	case TCP_CLOSE_WAIT:
		c->state = TCP_LAST_ACK;
		break;
	default:
		return K_ECLOSED;
	}
	c->flags |= TF_FIN_QUEUED;
	kick(c);
	return K_OK;
}

void tcp_close(struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	c->h = NULL;
	c->flags |= TF_APP_CLOSED;
	if (c->rx_bytes) {                /* RFC 2525 2.17: unread data -> RST */
		tcp_abort(c);
		return;
	}
	tcp_event_begin(c);
	tcp_shutdown(c);
	if (c->state == TCP_FIN_WAIT_2)
		c->keep_at = c->st->now + TCP_FIN_WAIT2_NS;
	tcp_event_end(c);
}

void tcp_abort(struct tcp_conn *c)
{
	if (c->flags & TF_DEAD)
		return;
	c->h = NULL;
	c->flags |= TF_APP_CLOSED;
	if (c->state != TCP_SYN_SENT && c->state != TCP_CLOSED)
		tcp_send_rst(c);
	tcp_conn_drop(c, 1);
}

/* ---- options and information ------------------------------------------------------------------ */

void tcp_set_nodelay(struct tcp_conn *c, bool on)
{
	if (on)
		c->flags |= TF_NODELAY;
	else
		c->flags &= ~(uint32_t)TF_NODELAY;
}

void tcp_set_keepalive(struct tcp_conn *c, bool on, uint64_t idle_ns, uint64_t interval_ns,
		       unsigned count)
{
	if (c->state == TCP_FIN_WAIT_2) {
		/* keep_at holds the FIN_WAIT_2 deadline: leave it */
		c->flags = on ? c->flags | TF_KEEPALIVE : c->flags & ~(uint32_t)TF_KEEPALIVE;
	} else if (!on) {
		c->flags &= ~(uint32_t)TF_KEEPALIVE;
		c->keep_at = 0;
	} else {
		c->flags |= TF_KEEPALIVE;
		c->keep_idle = idle_ns ? idle_ns : TCP_KEEP_IDLE_NS;
		c->keep_intvl = interval_ns ? interval_ns : TCP_KEEP_INTVL_NS;
		c->keep_cnt = (uint8_t)(count ? (count > 255 ? 255 : count) : TCP_KEEP_CNT);
		c->probes = 0;
		c->keep_at = time_now_ns() + c->keep_idle;
	}
	if (!c->busy)
		tcp_timer_update(c);
}

void tcp_get_peer(const struct tcp_conn *c, uint32_t *addr, uint16_t *port)
{
	*addr = c->raddr;
	*port = c->rport;
}

uint16_t tcp_local_port(const struct tcp_conn *c) { return c->lport; }
