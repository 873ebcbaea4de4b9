/*
 * net_counters.c - the stack's pools and drop counters as plain
 * name/value lists, for telemetry (kiln/net.h: net_if_pools,
 * net_if_drops).
 *
 * Rules: read-only views taken on demand (a telemetry request), never on
 * the data path. A counter added to struct net_stats or struct tcp_stats
 * that counts a refusal or a drop becomes visible by adding one line to
 * the tables below.
 */
#include <stddef.h>
#include <stdint.h>

#include <kiln/net.h>
#include <kiln/tcp.h>

#include "net_priv.h"

unsigned net_if_pools(const struct net_if *nif, struct net_pool_info *out, unsigned max)
{
	const struct nbuf_pool *pools[2] = { nif->pool, nif->refs };
	unsigned n = 0;
	for (unsigned i = 0; i < 2 && n < max; i++) {
		const struct nbuf_pool *p = pools[i];
		if (!p || (i == 1 && p == pools[0]))
			continue;
		out[n++] = (struct net_pool_info){
			.name = p->name ? p->name : "?", .total = p->count, .free = p->nfree,
			.low_water = p->stats.low_water,
			.refused = p->stats.empty + p->stats.reserved,
			.buf_bytes = p->data_size ? nbuf_pool_stride(p->data_size) : sizeof(struct nbuf),
		};
	}
	return n;
}

#define NS(f) { #f, offsetof(struct net_stats, f) }
static const struct { const char *name; size_t off; } net_drops[] = {
	NS(eth_short), NS(eth_bad_src), NS(arp_bad), NS(arp_queue_full), NS(arp_timeout_drops),
	NS(arp_evict_drops), NS(arp_no_mem), NS(arp_cache_full), NS(arp_pending_full),
	NS(arp_requests_limited), NS(ip_bad_csum), NS(ip_bad_len), NS(ip_no_route),
	NS(ip_no_mem), NS(frag_bad), NS(frag_timeouts), NS(frag_evicted), NS(frag_over_limit),
	NS(icmp_bad_csum), NS(icmp_rate_limited), NS(icmp_needfrag_forged),
	NS(icmp_pmtu_table_guarded), NS(udp_bad_csum), NS(udp_no_port),
};
#define TS(f) { "tcp_" #f, offsetof(struct tcp_stats, f) }
static const struct { const char *name; size_t off; } tcp_drops[] = {
	TS(bad_csum), TS(bad_hdr), TS(bad_opts), TS(ooo_dropped), TS(rcv_dropped), TS(paws_drops),
	TS(syncookies_bad), TS(listen_overflows), TS(table_full), TS(no_mem),
	TS(challenge_limited_conn), TS(challenge_limited_global), TS(oow_acks_limited),
	TS(syncookies_no_overflow), TS(persist_timeouts), TS(fin_wait2_timeouts),
	TS(peer_limit_refused), TS(mem_pruned), TS(mem_rcv_dropped), TS(mem_snd_limited),
};

unsigned net_if_drops(const struct net_if *nif, struct net_counter *out, unsigned max)
{
	const uint8_t *ns = (const uint8_t *)net_if_stats(nif);
	const struct tcp_stats *tst = nif->tcp ? tcp_get_stats(nif) : NULL;
	unsigned n = 0;
	for (size_t i = 0; i < sizeof net_drops / sizeof *net_drops && n < max; i++)
		out[n++] = (struct net_counter){ net_drops[i].name,
						 *(const uint64_t *)(ns + net_drops[i].off) };
	for (size_t i = 0; tst && i < sizeof tcp_drops / sizeof *tcp_drops && n < max; i++)
		out[n++] = (struct net_counter){ tcp_drops[i].name,
			*(const uint64_t *)((const uint8_t *)tst + tcp_drops[i].off) };
	return n;
}
