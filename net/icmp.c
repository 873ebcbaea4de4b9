/*
 * icmp.c - ICMPv4 (RFC 792): echo replies, errors about our input, and
 * "fragmentation needed" feeding path-MTU discovery (RFC 1191).
 *
 * Interface: icmp_input(), icmp_send_error() in net_priv.h.
 *
 * Rules:
 *  - Every message's checksum is verified (over the whole, possibly
 *    reassembled, chain). Short or corrupt messages are dropped, counted.
 *  - An echo request becomes its own reply in place: the type byte
 *    changes, the checksum is updated incrementally (RFC 1624), and the
 *    same buffer - a chain of any length, for reassembled requests - goes
 *    back through ip4_output(), which fragments it if needed. Echo
 *    requests to broadcast addresses are ignored (RFC 1122 3.2.2.6 allows
 *    it, and it closes a smurf amplifier).
 *  - Errors are never sent about an ICMP error, a datagram to a broadcast
 *    (IP or link layer), a non-initial fragment, or a source that is not
 *    one host (RFC 1122 3.2.2), and at most ICMP_RATE_PER_SEC a second
 *    with bursts of ICMP_BURST (token bucket). They quote the offending
 *    header and as much payload as fits in ICMP_ERR_MAX_LEN.
 *  - "Fragmentation needed" is believed only if it quotes a datagram we
 *    sent and names an MTU below the quoted length (or 0, from an old
 *    router: then the next RFC 1191 plateau below it is used); the path
 *    MTU never drops below IP4_PMTU_MIN.
 *  - icmp_input() consumes its nbuf; icmp_send_error() only reads orig.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/time.h>

#include "checksum.h"
#include "net_priv.h"

/* RFC 1191 section 7, for routers that report an MTU of 0. */
static const uint16_t plateaus[] = { 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68 };

static void icmp_needfrag(struct net_if *nif, const struct nbuf *nb)
{
	/* the ICMP header, the quoted IP header (options included) and the
	 * 8 bytes of transport header every error carries (RFC 792) */
	uint8_t msg[ICMP_HDR_LEN + 60 + 8];
	NET_STAT(nif, icmp_needfrag_in);
	size_t have = nbuf_pkt_len(nb) < sizeof msg ? nbuf_pkt_len(nb) : sizeof msg;
	if (nbuf_copy_out(nb, 0, msg, have) < 0)
		return;
	const uint8_t *src = msg, *end = msg + have;
	const struct icmp_hdr *ih = (const void *)net_take(&src, end, ICMP_HDR_LEN);
	const struct ip4_hdr *inner = (const void *)net_take(&src, end, IP4_HDR_LEN);
	if (!ih || !inner || (inner->ver_ihl >> 4) != 4 || (inner->ver_ihl & 15) < 5 ||
	    net_get32(inner->src) != nif->addr)
		return;
	bool verified = false;
	if (inner->proto == IP4_PROTO_TCP) {
		/* RFC 5927: only for a segment of ours still in flight */
		const uint8_t *l4 = net_take(&src, end, (size_t)(inner->ver_ihl & 15) * 4 - IP4_HDR_LEN);
		l4 = l4 ? net_take(&src, end, 8) : NULL;
		if (!l4 || !tcp_icmp_quote_ok(nif, nif->addr, net_get32(inner->dst), net_get16(l4),
					      net_get16(l4 + 2), net_get32(l4 + 4))) {
			NET_STAT(nif, icmp_needfrag_forged);
			return;
		}
		verified = true;
	}
	uint16_t sent_len = net_get16(inner->total_len);
	uint16_t mtu = net_get16(ih->rest + 2);
	if (mtu == 0) {
		for (unsigned i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++) {
			if (plateaus[i] < sent_len) {
				mtu = plateaus[i];
				break;
			}
		}
	}
	if (mtu == 0 || mtu >= sent_len)
		return;
	if (ip4_pmtu_update(nif, net_get32(inner->dst), mtu, time_now_ns(), verified))
		NET_STAT(nif, icmp_pmtu_lowered);
}

void icmp_input(struct net_if *nif, struct nbuf *nb, const struct ip4_info *ip)
{
	size_t len = nbuf_pkt_len(nb);

	NET_STAT(nif, icmp_in);
	if (len < ICMP_HDR_LEN || nbuf_linearize(nb, ICMP_HDR_LEN) < 0) {
		NET_STAT(nif, icmp_short);
		goto drop;
	}
	if (checksum_fold(checksum_nbuf(0, nb, 0, len)) != 0) {
		NET_STAT(nif, icmp_bad_csum);
		goto drop;
	}
	struct icmp_hdr *h = (void *)nb->data;
	switch (h->type) {
	case ICMP_ECHO: {
		NET_STAT(nif, icmp_echo_in);
		if (ip->to_bcast) {
			NET_STAT(nif, icmp_echo_bcast);
			goto drop;
		}
		uint16_t old_word = checksum_load(&h->type);
		h->type = ICMP_ECHO_REPLY;
		checksum_update16(h->csum, old_word, checksum_load(&h->type));
		nb->flags = 0;
		NET_STAT(nif, icmp_echo_out);
		ip4_output(nif, nb, ip->dst, ip->src, IP4_PROTO_ICMP, 0);
		return;
	}
	case ICMP_DEST_UNREACH:
		NET_STAT(nif, icmp_unreach_in);
		if (h->code == ICMP_UNREACH_NEEDFRAG)
			icmp_needfrag(nif, nb);
		/* Others will be reported to TCP/UDP sockets when they exist. */
		goto drop;
	default:
		NET_STAT(nif, icmp_other_in);
		goto drop;
	}
drop:
	nbuf_free(nb);
}

static bool icmp_is_error_type(uint8_t type)
{
	return type == ICMP_DEST_UNREACH || type == ICMP_SOURCE_QUENCH || type == ICMP_REDIRECT ||
	       type == ICMP_TIME_EXCEEDED || type == ICMP_PARAM_PROBLEM;
}

/* Token bucket: credit in nanoseconds, each error costs 1/RATE s. */
static bool icmp_rate_ok(struct icmp_bucket *b, uint64_t now)
{
	const uint64_t cost = NS_PER_SEC / ICMP_RATE_PER_SEC, cap = cost * ICMP_BURST;
	if (b->last == 0) {
		b->tokens_ns = cap;
	} else if (now > b->last) {
		uint64_t add = now - b->last;
		b->tokens_ns = add >= cap || b->tokens_ns + add >= cap ? cap : b->tokens_ns + add;
	}
	b->last = now ? now : 1;
	if (b->tokens_ns < cost)
		return false;
	b->tokens_ns -= cost;
	return true;
}

void icmp_send_error(struct net_if *nif, const struct nbuf *orig, const struct ip4_info *ip,
		     uint8_t type, uint8_t code, uint32_t rest)
{
	const struct ip4_hdr *oh = (const void *)ip->hdr;
	if (ip->to_bcast || ip->src == 0 || ip4_is_bcast(nif, ip->src) || (ip->src >> 28) >= 14 ||
	    (!ip->reassembled && (net_get16(oh->frag) & IP4_OFF_MASK)) || !nif->addr) {
		NET_STAT(nif, icmp_err_suppressed);
		return;
	}
	if (ip->proto == IP4_PROTO_ICMP) {
		uint8_t t;
		if (nbuf_copy_out(orig, 0, &t, 1) < 0 || icmp_is_error_type(t)) {
			NET_STAT(nif, icmp_err_suppressed);
			return;
		}
	}
	if (!icmp_rate_ok(&nif->icmp_rl, time_now_ns())) {
		NET_STAT(nif, icmp_rate_limited);
		return;
	}
	size_t quote = nbuf_pkt_len(orig);
	size_t max = ICMP_ERR_MAX_LEN - IP4_HDR_LEN - ICMP_HDR_LEN - ip->hdr_len;
	if (quote > max)
		quote = max;
	struct nbuf *nb = nbuf_alloc_prio(nif->pool, NBUF_PRIO_CTRL);
	if (!nb) {
		NET_STAT(nif, ip_no_mem);
		return;
	}
	uint8_t *p = nbuf_put(nb, ICMP_HDR_LEN + ip->hdr_len + quote);
	if (!p) {
		nbuf_free(nb);
		NET_STAT(nif, ip_no_mem);
		return;
	}
	struct icmp_hdr *h = (void *)p;
	h->type = type;
	h->code = code;
	net_put16(h->csum, 0);
	net_put32(h->rest, rest);
	memcpy(p + ICMP_HDR_LEN, ip->hdr, ip->hdr_len);
	nbuf_copy_out(orig, 0, p + ICMP_HDR_LEN + ip->hdr_len, quote);
	checksum_store(h->csum, checksum(p, nb->len));
	NET_STAT(nif, icmp_err_out);
	ip4_output(nif, nb, 0, ip->src, IP4_PROTO_ICMP, 0);
}
