/*
 * net_fake.h - a fake network device and frame builders for the network
 * stack's hosted tests and fuzz targets (header-only: each test is its
 * own program, so everything here is static).
 *
 * The fake device records every transmitted frame as flat bytes (with
 * its offload request) and completes it at once by freeing the nbuf -
 * or, with hold set, keeps the nbufs until fake_complete(), to test that
 * borrowed memory is released only when the device is done. Received
 * frames are injected with fake_rx() exactly as a driver would: a pool
 * buffer with the frame NBUF_RX_HEADROOM bytes in.
 *
 * The frame builders compute checksums with ref_csum(), a plain byte-wise
 * RFC 1071 sum written independently of net/checksum.c, so the tests
 * check the stack against a second implementation.
 */
#ifndef KILN_TEST_NET_FAKE_H
#define KILN_TEST_NET_FAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/net.h>

#include "hosted.h"
#include "net/checksum.h"
#include "net/nbuf.h"
#include "net/net_priv.h"
#include "net/netdev.h"

#define FAKE_POOL_N 512
#define FAKE_REFS_N 64
#define FAKE_TX_MAX 128
#define FAKE_FRAME_MAX 2048
#define FAKE_HOLD_MAX 64

struct fake_frame {
	uint8_t data[FAKE_FRAME_MAX];
	size_t len;
	uint16_t flags, csum_start, csum_offset;   /* csum_start from the frame start */
	unsigned segs;
};

struct fake_net {
	struct netdev dev;
	struct nbuf_pool pool, refs;
	struct net_if nif;
	struct fake_frame tx[FAKE_TX_MAX];
	unsigned ntx;
	unsigned tx_overflow;
	unsigned flushes;
	bool hold;
	struct nbuf *held[FAKE_HOLD_MAX];
	unsigned nheld;
	int xmit_ret;                     /* returned (after freeing) when < 0 */
};

/* A descriptor takes 128 bytes of a pool's stride (nbuf_pool_stride). */
#define FAKE_DESC 128
static uint8_t fake_pool_mem[FAKE_POOL_N * (FAKE_DESC + NBUF_DATA_SIZE)] __attribute__((aligned(64)));
static uint8_t fake_refs_mem[FAKE_REFS_N * FAKE_DESC] __attribute__((aligned(64)));

static const uint8_t fake_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x99 };
static const uint8_t gw_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
#define FAKE_IP NET_IP4(10, 0, 0, 2)
#define PEER_IP NET_IP4(10, 0, 0, 9)
#define GW_IP NET_IP4(10, 0, 0, 1)

static inline int fake_xmit(struct netdev *dev, struct nbuf *nb)
{
	struct fake_net *f = dev->priv;
	if (f->xmit_ret < 0) {
		nbuf_free(nb);
		return f->xmit_ret;
	}
	if (f->ntx < FAKE_TX_MAX) {
		struct fake_frame *fr = &f->tx[f->ntx++];
		size_t n = nbuf_pkt_len(nb) < FAKE_FRAME_MAX ? nbuf_pkt_len(nb) : FAKE_FRAME_MAX;
		nbuf_copy_out(nb, 0, fr->data, n);
		fr->len = nbuf_pkt_len(nb);
		fr->flags = nb->flags;
		fr->csum_start = (uint16_t)(nb->csum_start - nbuf_headroom(nb));
		fr->csum_offset = nb->csum_offset;
		fr->segs = nbuf_segments(nb);
	} else {
		f->tx_overflow++;
	}
	if (f->hold && f->nheld < FAKE_HOLD_MAX)
		f->held[f->nheld++] = nb;
	else
		nbuf_free(nb);
	return K_OK;
}

static inline void fake_flush(struct netdev *dev)
{
	((struct fake_net *)dev->priv)->flushes++;
}

static const struct netdev_ops fake_ops = { .xmit = fake_xmit, .flush = fake_flush };

/* The device finishes every held transmission. */
static inline void fake_complete(struct fake_net *f)
{
	for (unsigned i = 0; i < f->nheld; i++)
		nbuf_free(f->held[i]);
	f->nheld = 0;
}

static inline void fake_clear_tx(struct fake_net *f) { f->ntx = 0; }

/* Sets up a device with caps, an interface on it at 10.0.0.2/24 (gateway
 * 10.0.0.1) when configure is true, a virtual clock at 1000 s and a fixed
 * random seed; clears the gratuitous ARP from the record. The packet pool
 * holds npool buffers (1..FAKE_POOL_N; a small one makes exhaustion
 * reachable); fake_init() gives it FAKE_POOL_N. */
static inline void fake_learn(struct fake_net *f, const uint8_t mac[6], uint32_t ip);

static inline void fake_init_pool(struct fake_net *f, uint32_t caps, bool configure, unsigned npool)
{
	if (npool < 1 || npool > FAKE_POOL_N)
		npool = FAKE_POOL_N;
	memset(f, 0, sizeof *f);
	hosted_clock_virtual(1000 * NS_PER_SEC);
	random_set_test_seed(42);
	size_t mem = (size_t)npool * nbuf_pool_stride(NBUF_DATA_SIZE);
	nbuf_pool_init(&f->pool, fake_pool_mem, mem < sizeof fake_pool_mem ? mem : sizeof fake_pool_mem,
		       NBUF_DATA_SIZE, "test");
	nbuf_pool_init(&f->refs, fake_refs_mem, sizeof fake_refs_mem, 0, "refs");
	f->dev.ops = &fake_ops;
	f->dev.priv = f;
	f->dev.name = "fake0";
	memcpy(f->dev.mac, fake_mac, 6);
	f->dev.mtu = 1500;
	f->dev.caps = caps;
	net_if_init(&f->nif, &f->dev, &f->pool, &f->refs);
	fake_clear_tx(f);
	if (configure) {
		/* The stack asks for the gateway at once; it answers. */
		struct net_if_config c = { .addr = FAKE_IP, .prefix = 24, .gateway = GW_IP };
		net_if_configure(&f->nif, &c);
		fake_learn(f, gw_mac, GW_IP);
	}
	fake_clear_tx(f);
}

static inline void fake_init(struct fake_net *f, uint32_t caps, bool configure)
{
	fake_init_pool(f, caps, configure, FAKE_POOL_N);
}

/* Drops all stack state and completes held sends; true if every buffer
 * and descriptor is back in its pool. */
static inline bool fake_no_leaks(struct fake_net *f)
{
	fake_complete(f);
	arp_flush(&f->nif);
	ip4_frag_flush(&f->nif);
	return f->pool.nfree == f->pool.count && f->refs.nfree == f->refs.count;
}

/* Injects a received frame; flags are rx nbuf flags (NBUF_F_CSUM_VALID). */
static inline void fake_rx(struct fake_net *f, const void *frame, size_t len, uint16_t flags)
{
	struct nbuf *nb = nbuf_alloc_prio(&f->pool, NBUF_PRIO_RX);
	if (!nb)
		return;
	nb->data = nb->base + NBUF_RX_HEADROOM;
	if (len > nb->size - NBUF_RX_HEADROOM)
		len = nb->size - NBUF_RX_HEADROOM;
	memcpy(nb->data, frame, len);
	nb->len = nb->pkt_len = (uint32_t)len;
	nb->flags = flags;
	netdev_input(&f->dev, nb);
}

/* ---- reference checksum and frame builders ---- */

static inline uint16_t ref_csum(uint32_t sum, const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		sum += (i & 1) ? p[i] : (uint32_t)p[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;      /* host-order value to store big-endian */
}

static inline uint32_t ref_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
}

static inline void be16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Ethernet header; returns 14. */
static inline size_t mk_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	be16(p + 12, type);
	return 14;
}

/* A whole Ethernet+IPv4 frame around payload; frag is the flags/offset
 * word. Returns the frame length. */
static inline size_t mk_ip4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto, uint16_t id,
			    uint16_t frag, uint8_t ttl, const uint8_t *payload, size_t plen)
{
	size_t n = mk_eth(p, fake_mac, peer_mac, 0x0800);
	uint8_t *h = p + n;
	memset(h, 0, 20);
	h[0] = 0x45;
	be16(h + 2, (uint16_t)(20 + plen));
	be16(h + 4, id);
	be16(h + 6, frag);
	h[8] = ttl;
	h[9] = proto;
	be32(h + 12, src);
	be32(h + 16, dst);
	be16(h + 10, ref_csum(0, h, 20));
	memcpy(h + 20, payload, plen);
	return n + 20 + plen;
}

/* A "fragmentation needed" (ICMP 3/4) from the gateway naming mtu, quoting
 * a datagram of quoted_len bytes from src to dst with protocol proto and
 * the first 8 bytes l4 of its transport header (NULL: zeros). */
static inline size_t mk_needfrag(uint8_t *fr, uint32_t src, uint32_t dst, uint8_t proto,
				 uint16_t quoted_len, uint16_t mtu, const uint8_t l4[8])
{
	uint8_t ic[8 + 20 + 8];
	memset(ic, 0, sizeof ic);
	ic[0] = 3;
	ic[1] = 4;
	be16(ic + 6, mtu);
	uint8_t *q = ic + 8;
	q[0] = 0x45;
	be16(q + 2, quoted_len);
	be16(q + 6, 0x4000);
	q[8] = 64;
	q[9] = proto;
	be32(q + 12, src);
	be32(q + 16, dst);
	be16(q + 10, ref_csum(0, q, 20));
	if (l4)
		memcpy(q + 20, l4, 8);
	be16(ic + 2, ref_csum(0, ic, sizeof ic));
	return mk_ip4(fr, GW_IP, FAKE_IP, 1, 5, 0, 64, ic, sizeof ic);
}

/* A UDP datagram (header + data) with a correct checksum; returns its length. */
static inline size_t mk_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
			    const void *data, size_t len)
{
	be16(p, sport);
	be16(p + 2, dport);
	be16(p + 4, (uint16_t)(8 + len));
	be16(p + 6, 0);
	memcpy(p + 8, data, len);
	uint16_t c = ref_csum(ref_pseudo(src, dst, 17, (uint16_t)(8 + len)), p, 8 + len);
	be16(p + 6, c ? c : 0xffff);
	return 8 + len;
}

/* An ICMP echo request with id, seq and len bytes of pattern data. */
static inline size_t mk_echo(uint8_t *p, uint16_t id, uint16_t seq, size_t len)
{
	p[0] = 8;
	p[1] = 0;
	be16(p + 2, 0);
	be16(p + 4, id);
	be16(p + 6, seq);
	for (size_t i = 0; i < len; i++)
		p[8 + i] = (uint8_t)(i * 7 + 3);
	be16(p + 2, ref_csum(0, p, 8 + len));
	return 8 + len;
}

/* An ARP packet in a frame. */
static inline size_t mk_arp(uint8_t *p, const uint8_t eth_dst[6], uint16_t op, const uint8_t sha[6],
			    uint32_t spa, const uint8_t tha[6], uint32_t tpa)
{
	size_t n = mk_eth(p, eth_dst, sha, 0x0806);
	uint8_t *a = p + n;
	be16(a, 1);
	be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	be16(a + 6, op);
	memcpy(a + 8, sha, 6);
	be32(a + 14, spa);
	memcpy(a + 18, tha, 6);
	be32(a + 24, tpa);
	return n + 28;
}

/* Teaches the stack peer's MAC through an ARP request to us, then clears
 * the recorded reply. */
static inline void fake_learn(struct fake_net *f, const uint8_t mac[6], uint32_t ip)
{
	static const uint8_t zero[6];
	uint8_t fr[64];
	size_t n = mk_arp(fr, (const uint8_t[6]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 1, mac, ip,
			  zero, FAKE_IP);
	fake_rx(f, fr, n, 0);
	fake_clear_tx(f);
}

/* Verifies the IPv4 header checksum of a recorded frame (ref_csum). */
static inline bool frame_ip_csum_ok(const struct fake_frame *fr)
{
	const uint8_t *h = fr->data + 14;
	return ref_csum(0, h, (size_t)(h[0] & 15) * 4) == 0;
}

#endif
