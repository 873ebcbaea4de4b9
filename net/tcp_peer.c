/*
 * tcp_peer.c - connections per source address: the per-peer limit on
 * passive opens (issue: one host must not take the whole table).
 *
 * Interface (tcp_priv.h): tcp_peer_mem_size(), tcp_peer_init() at
 * tcp_if_init(); tcp_peer_full() before a listener creates a connection,
 * tcp_peer_charge() once it has, tcp_peer_release() when its block is
 * freed (tcp.c tcp_conn_free(), which is also the way into TIME_WAIT).
 *
 * Rules:
 *  - Bounded memory: one entry per connection block at most (an entry
 *    lives only while a counted connection of its address does), carved
 *    at init with the connection table, so a flood from many sources
 *    cannot grow it: when every block is used no new connection exists
 *    to be counted. Buckets: the next power of two >= max_conns, chains
 *    indexed by SipHash of the address under a key drawn at init, so a
 *    peer cannot aim its addresses at one chain.
 *  - Counted: connections opened by a listener (SYN_RCVD onwards,
 *    cookies included) until their block is freed. TIME_WAIT entries live
 *    elsewhere and do not count; active opens do not count.
 *  - Over the limit (cfg.max_per_peer, 0: off) a SYN or a cookie ACK is
 *    dropped, not reset: the client's SYN retransmission retries by
 *    itself once one of its connections ends, and a spoofed source earns
 *    no reflected RST. Counted in tcp_stats.peer_limit_refused.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/cmdline.h>
#include <kiln/err.h>

#include "tcp_priv.h"

static uint32_t opt_max_per_peer = TCP_DEF_MAX_PER_PEER;
CMDLINE_OPTION(tcp_max_per_peer, .key = "tcp_max_per_peer", .type = CMDLINE_U32,
	       .value = &opt_max_per_peer, .min = 0, .max = 1u << 24,
	       .help = "TCP connections a listener accepts from one address (0: no limit)");

uint32_t tcp_peer_default_limit(void)
{
	return opt_max_per_peer;
}

static uint32_t nbuckets(const struct tcp_config *cfg)
{
	uint32_t n = 1;
	while (n < cfg->max_conns)
		n <<= 1;
	return n;
}

size_t tcp_peer_mem_size(const struct tcp_config *cfg)
{
	return (size_t)cfg->max_conns * sizeof(struct tcp_peer) +
	       (size_t)nbuckets(cfg) * sizeof(struct tcp_peer *);
}

void tcp_peer_init(struct tcp_stack *st, void *mem)
{
	st->peers = mem;
	st->peer_hash = (void *)((uint8_t *)mem + (size_t)st->cfg.max_conns * sizeof(struct tcp_peer));
	st->peer_mask = nbuckets(&st->cfg) - 1;
	st->free_peers = NULL;
	for (uint32_t i = st->cfg.max_conns; i-- > 0;) {
		st->peers[i].next = st->free_peers;
		st->free_peers = &st->peers[i];
	}
	memset(st->peer_hash, 0, (size_t)nbuckets(&st->cfg) * sizeof(struct tcp_peer *));
	st->peers_used = 0;
}

static struct tcp_peer **slot(struct tcp_stack *st, uint32_t addr)
{
	uint32_t w[2] = { addr, 0x70656572u };
	struct tcp_peer **pp = &st->peer_hash[tcp_siphash(st->isn_key, w, 2) & st->peer_mask];
	while (*pp && (*pp)->addr != addr)
		pp = &(*pp)->next;
	return pp;
}

bool tcp_peer_full(struct tcp_stack *st, uint32_t raddr)
{
	if (!st->cfg.max_per_peer)
		return false;
	struct tcp_peer *p = *slot(st, raddr);
	if (!p || p->n < st->cfg.max_per_peer)
		return false;
	TCP_STAT(st, peer_limit_refused);
	return true;
}

void tcp_peer_charge(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	if (c->peer_counted)
		return;
	struct tcp_peer **pp = slot(st, c->raddr);
	if (!*pp) {
		/* cannot fail: at most one entry per used connection block */
		struct tcp_peer *p = st->free_peers;
		if (!p)
			return;
		st->free_peers = p->next;
		p->addr = c->raddr;
		p->n = 0;
		p->next = NULL;
		*pp = p;
		st->peers_used++;
	}
	(*pp)->n++;
	c->peer_counted = true;
}

void tcp_peer_release(struct tcp_conn *c)
{
	struct tcp_stack *st = c->st;
	if (!c->peer_counted)
		return;
	c->peer_counted = false;
	struct tcp_peer **pp = slot(st, c->raddr);
	struct tcp_peer *p = *pp;
	if (!p)
		return;
	if (--p->n == 0) {
		*pp = p->next;
		p->next = st->free_peers;
		st->free_peers = p;
		st->peers_used--;
	}
}

uint32_t tcp_peer_count(struct tcp_stack *st, uint32_t raddr)
{
	struct tcp_peer *p = *slot(st, raddr);
	return p ? p->n : 0;
}
