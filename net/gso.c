/*
 * gso.c - software TCP segmentation (gso.h).
 *
 * Used where a TSO packet meets a device without TSO (netdev_xmit) and by
 * the simulated link of the tests, so the stack's TSO path is exercised
 * without a real NIC. Each output frame is a plain copy; speed matters
 * little here, since devices that are fast at all offer TSO.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "checksum.h"
#include "gso.h"
#include "net_priv.h"
#include "wire/tcp.h"

struct nbuf *gso_segment(struct nbuf *nb, struct nbuf_pool *pool)
{
	struct nbuf *out = NULL, **tail = &out;
	size_t total = nbuf_pkt_len(nb);
	const uint8_t *f = nb->data;

	if (nb->len < ETH_HDR_LEN + IP4_HDR_LEN || !nb->gso_size ||
	    !(nb->flags & NBUF_F_CSUM_PARTIAL) || net_get16(f + 12) != ETH_TYPE_IP4)
		goto bad;
	size_t ihl = (size_t)(f[ETH_HDR_LEN] & 15) * 4;
	size_t th = ETH_HDR_LEN + ihl;
	if (ihl < IP4_HDR_LEN || f[ETH_HDR_LEN + 9] != IP4_PROTO_TCP || th + TCP_HDR_LEN > nb->len)
		goto bad;
	size_t thl = (size_t)(f[th + 12] >> 4) * 4;
	size_t hlen = th + thl;
	if (thl < TCP_HDR_LEN || hlen > nb->len || total <= hlen)
		goto bad;

	uint32_t src = net_get32(f + ETH_HDR_LEN + 12), dst = net_get32(f + ETH_HDR_LEN + 16);
	uint32_t seq = net_get32(f + th + 4);
	uint16_t id = net_get16(f + ETH_HDR_LEN + 4);
	uint8_t flags = f[th + 13];
	size_t payload = total - hlen;
	for (size_t off = 0; off < payload; off += nb->gso_size, id++) {
		size_t n = payload - off < nb->gso_size ? payload - off : nb->gso_size;
		struct nbuf *s = nbuf_alloc(pool);
		uint8_t *p = s ? nbuf_put(s, hlen + n) : NULL;
		if (!p) {
			nbuf_free(s);
			goto bad;
		}
		memcpy(p, f, hlen);
		nbuf_copy_out(nb, hlen + off, p + hlen, n);
		uint8_t *ip = p + ETH_HDR_LEN, *t = p + th;
		net_put16(ip + 2, (uint16_t)(ihl + thl + n));
		net_put16(ip + 4, id);
		net_put16(ip + 10, 0);
		checksum_store(ip + 10, checksum(ip, ihl));
		net_put32(t + 4, seq + (uint32_t)off);
		uint8_t fl = flags;
		if (off + n < payload)
			fl &= (uint8_t)~(TCP_FIN | TCP_PSH);
		if (off)
			fl &= (uint8_t)~TCP_CWR;
		t[13] = fl;
		net_put16(t + 16, 0);
		uint32_t sum = checksum_pseudo4(src, dst, IP4_PROTO_TCP, (uint16_t)(thl + n));
		checksum_store(t + 16, checksum_fold(checksum_add(sum, t, thl + n)));
		*tail = s;
		tail = &s->link;
	}
	nbuf_free(nb);
	return out;
bad:
	nbuf_free_queue(out);
	nbuf_free(nb);
	return NULL;
}
