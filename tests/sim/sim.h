/*
 * sim.h - deterministic network simulation: two complete Kiln stacks
 * (each a struct net_if with its own device, pools and TCP tables) in one
 * process, joined by a simulated link with configurable loss, duplication,
 * delay, jitter (which reorders) and bandwidth, all on the hosted virtual
 * clock. Header-only: every simulation test is its own program.
 *
 * The event loop (sim_run) advances virtual time straight to the next
 * thing that happens - a frame arriving at the other end of the link, or
 * either stack's next timer deadline (net_next_deadline) - delivers due
 * frames as a driver would (netdev_input of a pool buffer), then runs
 * both stacks' timers (net_tick). Randomness (link decisions, and the
 * stacks' random_bytes through random_set_test_seed) is seeded, so a run
 * is exactly repeatable.
 *
 * Frames are copied onto the link as flat bytes and the transmitted chain
 * is freed at once, as a device that completed the send would.
 */
#ifndef KILN_TEST_SIM_H
#define KILN_TEST_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/net.h>
#include <kiln/tcp.h>

#include "hosted.h"
#include "net/checksum.h"
#include "net/gso.h"
#include "net/nbuf.h"
#include "net/net_priv.h"
#include "net/netdev.h"
#include "net/tcp_priv.h"

#define SIM_POOL_N 4096
#define SIM_REFS_N 1024
#define SIM_QUEUE_MAX 8192
#define SIM_FRAME_MAX 1600

struct sim_link_cfg {
	uint32_t loss_ppm;          /* frames lost, per million */
	uint32_t dup_ppm;           /* frames delivered twice */
	uint64_t delay_ns;          /* one-way propagation */
	uint64_t jitter_ns;         /* extra random delay: reorders frames */
	uint64_t bytes_per_sec;     /* 0: unlimited */
	bool blackhole;             /* drop every TCP segment (set at run time) */
	uint32_t tx_queue_bytes;    /* with bytes_per_sec: a device refuses
				     * frames (K_EAGAIN, as a full ring) while
				     * more than this waits to go; 0: never */
	bool tso;                   /* devices offer checksum offload and TSO;
				     * the link cuts TSO packets as a NIC would */
};

struct sim_frame {
	uint64_t at;
	uint64_t order;             /* ties in sending order */
	int to;
	uint16_t len;
	uint8_t data[SIM_FRAME_MAX];
};

struct sim_node {
	struct netdev dev;
	struct nbuf_pool pool, refs;
	struct net_if nif;
	uint8_t *pool_mem, *refs_mem, *tcp_mem;
	struct sim *sim;
	int id;
	uint64_t tx_frames;
	uint64_t tx_tso;            /* TSO packets the link cut */
	uint64_t tx_full;           /* frames refused: device queue full */
	/* times of this node's TCP data/SYN transmissions (for RTO checks) */
	uint64_t tx_times[64];
	unsigned ntx_times;
};

struct sim {
	struct sim_node n[2];
	struct sim_link_cfg link;
	struct sim_frame *q[SIM_QUEUE_MAX];     /* a binary heap by (at, order) */
	unsigned nq;
	uint64_t order;
	uint64_t rng;
	uint64_t busy_until[2];
	uint64_t lost, duped, delivered, overflow;
	bool record;                            /* fill tx_times */
};

#define SIM_IP_A NET_IP4(10, 1, 0, 1)
#define SIM_IP_B NET_IP4(10, 1, 0, 2)

static inline uint64_t sim_rand(struct sim *s)
{
	/* xorshift64*: the link's own seeded stream */
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * 0x2545f4914f6cdd1dull;
}

static inline bool sim_frame_before(const struct sim_frame *a, const struct sim_frame *b)
{
	return a->at < b->at || (a->at == b->at && a->order < b->order);
}

static inline void sim_push(struct sim *s, struct sim_frame *f)
{
	unsigned i = s->nq++;
	s->q[i] = f;
	while (i && sim_frame_before(s->q[i], s->q[(i - 1) / 2])) {
		struct sim_frame *t = s->q[i];
		s->q[i] = s->q[(i - 1) / 2];
		s->q[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static inline struct sim_frame *sim_pop(struct sim *s)
{
	struct sim_frame *top = s->q[0];
	s->q[0] = s->q[--s->nq];
	unsigned i = 0;
	for (;;) {
		unsigned l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->nq && sim_frame_before(s->q[l], s->q[m]))
			m = l;
		if (r < s->nq && sim_frame_before(s->q[r], s->q[m]))
			m = r;
		if (m == i)
			break;
		struct sim_frame *t = s->q[i];
		s->q[i] = s->q[m];
		s->q[m] = t;
		i = m;
	}
	return top;
}

static inline void sim_enqueue(struct sim *s, int to, const uint8_t *data, size_t len, uint64_t at)
{
	if (s->nq == SIM_QUEUE_MAX) {
		s->overflow++;
		return;
	}
	struct sim_frame *f = malloc(sizeof *f);
	f->at = at;
	f->order = s->order++;
	f->to = to;
	f->len = (uint16_t)len;
	memcpy(f->data, data, len);
	sim_push(s, f);
}

/* Puts one frame on the link (lost, duplicated, delayed as configured). */
static inline int sim_wire(struct sim_node *n, struct nbuf *nb)
{
	struct sim *s = n->sim;
	uint8_t buf[SIM_FRAME_MAX];
	size_t len = nbuf_pkt_len(nb);
	n->tx_frames++;
	if (len > SIM_FRAME_MAX) {
		nbuf_free(nb);
		return K_EMSGSIZE;
	}
	nbuf_copy_out(nb, 0, buf, len);
	nbuf_free(nb);
	/* TCP segments carrying SYN or data, for RTO observations */
	if (s->record && len >= 54 && buf[23] == 6 && n->ntx_times < 64) {
		size_t ihl = (size_t)(buf[14] & 15) * 4;
		size_t doff = (size_t)(buf[14 + ihl + 12] >> 4) * 4;
		uint8_t fl = buf[14 + ihl + 13];
		size_t tot = (size_t)buf[16] << 8 | buf[17];
		if ((fl & TCP_SYN) || tot > ihl + doff)
			n->tx_times[n->ntx_times++] = time_now_ns();
	}
	bool is_tcp = len >= 34 && buf[12] == 0x08 && buf[13] == 0 && buf[23] == 6;
	if ((s->link.blackhole && is_tcp) || sim_rand(s) % 1000000 < s->link.loss_ppm) {
		s->lost++;
		return K_OK;
	}
	uint64_t now = time_now_ns(), start = now;
	if (s->link.bytes_per_sec) {
		if (s->busy_until[n->id] > start)
			start = s->busy_until[n->id];
		start += len * NS_PER_SEC / s->link.bytes_per_sec;
		s->busy_until[n->id] = start;
	}
	int copies = sim_rand(s) % 1000000 < s->link.dup_ppm ? 2 : 1;
	if (copies == 2)
		s->duped++;
	for (int i = 0; i < copies; i++) {
		uint64_t j = s->link.jitter_ns ? sim_rand(s) % s->link.jitter_ns : 0;
		sim_enqueue(s, 1 - n->id, buf, len, start + s->link.delay_ns + j);
	}
	return K_OK;
}

static inline int sim_xmit(struct netdev *dev, struct nbuf *nb)
{
	struct sim_node *n = dev->priv;
	struct sim *s = n->sim;
	uint64_t now = time_now_ns();
	if (s->link.tx_queue_bytes && s->link.bytes_per_sec && s->busy_until[n->id] > now &&
	    (s->busy_until[n->id] - now) * s->link.bytes_per_sec / NS_PER_SEC >
		    s->link.tx_queue_bytes) {
		n->tx_full++;
		nbuf_free(nb);
		return K_EAGAIN;
	}
	if (nb->gso_size) {
		struct nbuf *q = gso_segment(nb, &n->pool);
		if (!q)
			return K_ENOMEM;
		n->tx_tso++;
		while (q) {
			struct nbuf *f = q;
			q = f->link;
			f->link = NULL;
			sim_wire(n, f);
		}
		return K_OK;
	}
	if (checksum_finish(nb) < 0) {
		nbuf_free(nb);
		return K_EINVAL;
	}
	return sim_wire(n, nb);
}

static const struct netdev_ops sim_ops = { .xmit = sim_xmit };

static inline void sim_node_init(struct sim *s, int id, const struct tcp_config *tcfg)
{
	struct sim_node *n = &s->n[id];
	n->sim = s;
	n->id = id;
	size_t psz = SIM_POOL_N * nbuf_pool_stride(NBUF_DATA_SIZE);
	size_t rsz = SIM_REFS_N * nbuf_pool_stride(0);
	n->pool_mem = aligned_alloc(64, psz);
	n->refs_mem = aligned_alloc(64, rsz);
	nbuf_pool_init(&n->pool, n->pool_mem, psz, NBUF_DATA_SIZE, id ? "simB" : "simA");
	nbuf_pool_init(&n->refs, n->refs_mem, rsz, 0, id ? "refsB" : "refsA");
	n->dev.ops = &sim_ops;
	n->dev.priv = n;
	n->dev.name = id ? "simB" : "simA";
	uint8_t mac[6] = { 0x02, 0, 0, 0, 0x10, (uint8_t)(id + 1) };
	memcpy(n->dev.mac, mac, 6);
	n->dev.mtu = 1500;
	n->dev.caps = NETDEV_CAP_SG;
	if (s->link.tso)
		n->dev.caps |= NETDEV_CAP_TX_CSUM | NETDEV_CAP_TSO4;
	net_if_init(&n->nif, &n->dev, &n->pool, &n->refs);
	struct net_if_config c = { .addr = id ? SIM_IP_B : SIM_IP_A, .prefix = 24 };
	net_if_configure(&n->nif, &c);
	size_t tsz = tcp_mem_size(tcfg);
	n->tcp_mem = aligned_alloc(64, (tsz + 63) & ~(size_t)63);
	tcp_if_init(&n->nif, tcfg, n->tcp_mem, tsz);
}

/* Two stacks over a link; seed drives everything random. tcfg NULL: a
 * small default table (256 connections). */
static inline void sim_init(struct sim *s, uint64_t seed, const struct sim_link_cfg *link,
			    const struct tcp_config *tcfg)
{
	struct tcp_config d;
	if (!tcfg) {
		tcp_config_default(&d);
		d.max_conns = 256;
		d.max_timewait = 256;
		d.max_spans = 2048;
		tcfg = &d;
	}
	memset(s, 0, sizeof *s);
	log_set_level(LOG_WARN);
	hosted_clock_virtual(1000 * NS_PER_SEC);
	random_set_test_seed(seed);
	s->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	s->link = *link;
	sim_node_init(s, 0, tcfg);
	sim_node_init(s, 1, tcfg);
}

static inline void sim_deliver(struct sim *s, struct sim_frame *f)
{
	struct sim_node *n = &s->n[f->to];
	struct nbuf *nb = nbuf_alloc(&n->pool);
	if (nb) {
		nb->data = nb->base + NBUF_RX_HEADROOM;
		memcpy(nb->data, f->data, f->len);
		nb->len = nb->pkt_len = f->len;
		s->delivered++;
		netdev_input(&n->dev, nb);
	}
	free(f);
}

typedef bool (*sim_done_fn)(struct sim *s, void *arg);

/* Runs until done() says so (true) or virtual time passes limit_ns from
 * now, or nothing is left to happen (false). */
static inline bool sim_run(struct sim *s, sim_done_fn done, void *arg, uint64_t limit_ns)
{
	uint64_t end = time_now_ns() + limit_ns, last = 0;
	unsigned same = 0;
	for (;;) {
		if (done && done(s, arg))
			return true;
		uint64_t t = UINT64_MAX;
		if (s->nq)
			t = s->q[0]->at;
		for (int i = 0; i < 2; i++) {
			uint64_t d = net_next_deadline(&s->n[i].nif);
			if (d < t)
				t = d;
		}
		if (t == UINT64_MAX)
			return done ? done(s, arg) : true;
		uint64_t now = time_now_ns();
		if (t <= now) {
			t = now;
			if (t == last && ++same > 4) {
				t = now + 100 * NS_PER_US;    /* a deadline that stays due */
				same = 0;
			}
		}
		last = t;
		if (t > end) {
			hosted_clock_set(end);
			return done ? done(s, arg) : false;
		}
		hosted_clock_set(t);
		while (s->nq && s->q[0]->at <= t)
			sim_deliver(s, sim_pop(s));
		for (int i = 0; i < 2; i++)
			net_tick(&s->n[i].nif, t);
	}
}

/* Drops every frame still on the link. */
static inline void sim_drain(struct sim *s)
{
	while (s->nq)
		free(sim_pop(s));
}

/* True if every buffer and descriptor of both nodes is back in its pool
 * (call once TCP holds nothing: after closes and TIME_WAIT). */
static inline bool sim_no_leaks(struct sim *s)
{
	sim_drain(s);
	for (int i = 0; i < 2; i++) {
		struct sim_node *n = &s->n[i];
		arp_flush(&n->nif);
		ip4_frag_flush(&n->nif);
		if (n->pool.nfree != n->pool.count || n->refs.nfree != n->refs.count)
			return false;
	}
	return true;
}

static inline void sim_fini(struct sim *s)
{
	sim_drain(s);
	for (int i = 0; i < 2; i++) {
		free(s->n[i].pool_mem);
		free(s->n[i].refs_mem);
		free(s->n[i].tcp_mem);
	}
}

static inline const struct tcp_stats *sim_tcp(struct sim *s, int id)
{
	return tcp_get_stats(&s->n[id].nif);
}

/* The byte at offset i of a test stream (stream id k). */
static inline uint8_t sim_pattern(uint64_t k, uint64_t i)
{
	uint64_t x = (i >> 3) * 0x9e3779b97f4a7c15ull + k;
	x ^= x >> 29;
	return (uint8_t)((x >> (8 * (i & 7))) ^ i);
}

#endif
