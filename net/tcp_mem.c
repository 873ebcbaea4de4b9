/*
 * tcp_mem.c - TCP's memory budget per interface: what all connections
 * together may pin of the interface's packet pool, and how that is
 * shared when it runs short.
 *
 * Interface: tcp_mem_*() and tcp_ooo_listed() in tcp_priv.h; the figures
 * in struct tcp_stats (mem_bytes, mem_limit, mem_pressure and the
 * counters after them).
 *
 * Why: every receive queue, out-of-order island and copied send comes
 * from one pool, which also refills the device's receive ring. Limits per
 * connection alone let many connections together drain it, and then not
 * even the RST that would end an attack can be received. So:
 *  - Everything TCP holds is charged by truesize (nbuf_truesize: the
 *    whole buffer, not the payload), so a 1-byte segment costs what it
 *    really pins.
 *  - Below mem_pressure (default a quarter of the pool) nothing changes.
 *  - Above it each connection is held to a share (TCP_MEM_SHARE_NBUFS
 *    buffers): out-of-order data beyond it is dropped (the newest
 *    arrival: RFC 9293 3.10.7.4 lets a receiver drop what it has not
 *    acknowledged), the window it offers shrinks to what the share has
 *    room for (tcp_mem_rcv_cap), and copied writes stop at it.
 *  - At mem_limit (default half the pool) in-order data may still come
 *    in by giving up out-of-order islands - first the connection's own,
 *    highest first, then other connections', oldest holder first; each
 *    given-up island was SACKed, which RFC 2018 8 allows (the sender
 *    keeps data until it is cumulatively acknowledged, and forgets SACK
 *    state on a timeout: tcp_timer.c). What still does not fit is
 *    dropped and counted; the peer retransmits.
 * Together with the pool's reserves (nbuf.h: the ring refill and control
 * segments can always get a buffer), the other half of the pool stays for
 * the receive ring, transmit rings, ARP and reassembly queues.
 * Small in-order segments are also copied into the tail buffer of the
 * queue when they fit (tcp_in.c), so a flood of tiny segments pins few
 * buffers even before any of this applies.
 */
#include <stddef.h>
#include <stdint.h>

#include <kiln/cmdline.h>
#include <kiln/panic.h>

#include "tcp_priv.h"

/* A connection's share above mem_pressure: enough for a request head
 * or a few full segments in flight, small enough that a thousand
 * connections at their share fit between pressure and the limit of a
 * default pool. */
#define TCP_MEM_SHARE_NBUFS 4

static uint32_t opt_mem_kb;
CMDLINE_OPTION(tcp_mem_kb, .key = "tcp_mem_kb", .type = CMDLINE_U32, .value = &opt_mem_kb,
	       .min = 0, .max = 1u << 24,
	       .help = "KiB of packet buffers TCP may hold per interface (0: half the pool)");

void tcp_mem_init(struct tcp_stack *st)
{
	const struct nbuf_pool *pool = st->nif->pool;
	uint64_t stride = nbuf_pool_stride(pool ? pool->data_size : NBUF_DATA_SIZE);
	uint64_t total = pool ? (uint64_t)pool->count * stride : 0;
	uint64_t limit = st->cfg.mem_limit ? st->cfg.mem_limit :
		opt_mem_kb ? (uint64_t)opt_mem_kb * 1024 : total / 2;
	uint64_t pressure = st->cfg.mem_pressure ? st->cfg.mem_pressure : limit / 2;
	if (pressure > limit)
		pressure = limit;
	st->stats.mem_limit = limit;
	st->stats.mem_pressure = pressure;
	st->mem_stride = (uint32_t)stride;
	st->mem_share = TCP_MEM_SHARE_NBUFS * stride;
}

static void charged(struct tcp_stack *st)
{
	bool over = st->stats.mem_bytes > st->stats.mem_pressure;
	if (over && !st->mem_pressed)
		TCP_STAT(st, mem_pressure_entered);
	st->mem_pressed = over;
}

void tcp_mem_rcv_charge(struct tcp_conn *c, uint32_t sz)
{
	c->rmem += sz;
	c->st->stats.mem_bytes += sz;
	charged(c->st);
}

void tcp_mem_rcv_uncharge(struct tcp_conn *c, uint32_t sz)
{
	KASSERT(c->rmem >= sz && c->st->stats.mem_bytes >= sz);
	c->rmem -= sz;
	c->st->stats.mem_bytes -= sz;
	charged(c->st);
}

void tcp_mem_snd_charge(struct tcp_stack *st, uint32_t sz)
{
	st->stats.mem_bytes += sz;
	charged(st);
}

void tcp_mem_snd_uncharge(struct tcp_stack *st, uint32_t sz)
{
	KASSERT(st->stats.mem_bytes >= sz);
	st->stats.mem_bytes -= sz;
	charged(st);
}

void tcp_ooo_listed(struct tcp_conn *c, bool on)
{
	struct tcp_stack *st = c->st;
	if (on == c->ooo_listed)
		return;
	if (on) {
		c->ooo_next = NULL;
		c->ooo_prev = st->ooo_last_conn;
		if (st->ooo_last_conn)
			st->ooo_last_conn->ooo_next = c;
		else
			st->ooo_first = c;
		st->ooo_last_conn = c;
	} else {
		if (c->ooo_prev)
			c->ooo_prev->ooo_next = c->ooo_next;
		else
			st->ooo_first = c->ooo_next;
		if (c->ooo_next)
			c->ooo_next->ooo_prev = c->ooo_prev;
		else
			st->ooo_last_conn = c->ooo_prev;
		c->ooo_prev = c->ooo_next = NULL;
	}
	c->ooo_listed = on;
}

static bool fits(const struct tcp_stack *st, uint64_t sz)
{
	return st->stats.mem_bytes + sz <= st->stats.mem_limit;
}

/* Gives up out-of-order islands, oldest holder first and each holder's
 * highest first, until sz more bytes fit under the limit. */
static bool prune_for(struct tcp_stack *st, uint64_t sz)
{
	for (struct tcp_conn *o = st->ooo_first; o && !fits(st, sz);) {
		struct tcp_conn *next = o->ooo_next;
		while (o->nooo && !fits(st, sz))
			tcp_ooo_renege_last(o, true);
		o = next;
	}
	return fits(st, sz);
}

bool tcp_mem_rcv_room(struct tcp_conn *c, uint32_t sz, bool in_order)
{
	struct tcp_stack *st = c->st;
	if (st->stats.mem_bytes + sz <= st->stats.mem_pressure)
		return true;
	if (!in_order) {
		/* Out of order above pressure: only within the share, and
		 * never at the cost of anyone's in-order data. */
		if (c->rmem + sz <= st->mem_share && fits(st, sz))
			return true;
		TCP_STAT(st, mem_rcv_dropped);
		return false;
	}
	/* In order: the connection's own islands go first (their data
	 * cannot be delivered before this anyway), then other holders'. */
	while (!fits(st, sz) && c->nooo)
		tcp_ooo_renege_last(c, true);
	if (prune_for(st, sz))
		return true;
	TCP_STAT(st, mem_rcv_dropped);
	return false;
}

bool tcp_mem_snd_room(const struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	uint64_t sz = st->mem_stride;
	if (st->stats.mem_bytes + sz <= st->stats.mem_pressure)
		return true;
	/* The share in payload: whole buffers' worth of copied bytes. */
	uint64_t share = TCP_MEM_SHARE_NBUFS * (uint64_t)(st->mem_stride - NBUF_HEADROOM);
	/* Data in order - a response - is worth more than islands. */
	if (c->sq_copied < share && prune_for(st, sz))
		return true;
	TCP_STAT(st, mem_snd_limited);
	return false;
}

uint32_t tcp_mem_rcv_cap(const struct tcp_conn *c)
{
	const struct tcp_stack *st = c->st;
	if (st->stats.mem_bytes <= st->stats.mem_pressure)
		return UINT32_MAX;
	if (c->rmem >= st->mem_share)
		return 0;
	uint64_t stride = st->mem_stride;
	uint32_t mss = c->mss ? c->mss : TCP_DEF_MSS;
	return (uint32_t)((st->mem_share - c->rmem + stride - 1) / stride) * mss;
}
