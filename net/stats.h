/*
 * stats.h - the network stack's counters, one set per interface per core.
 *
 * Every dropped packet increments exactly one counter that names why, so
 * a flood of malformed frames is visible in telemetry and the fuzzer can
 * check that nothing was lost silently. Plain uint64_t: each set is
 * written by one core only; readers on other cores see a recent value.
 */
#ifndef NET_STATS_H
#define NET_STATS_H

#include <stdint.h>

struct net_stats {
	/* Ethernet */
	uint64_t eth_in, eth_short, eth_not_us, eth_bad_src, eth_ip6, eth_vlan,
		 eth_unknown, eth_out, eth_no_headroom;
	/* ARP (RFC 826, RFC 5227) */
	uint64_t arp_in, arp_bad, arp_not_us, arp_requests_in, arp_replies_in,
		 arp_requests_out, arp_replies_out, arp_announce_out,
		 arp_conflicts, arp_queued, arp_queue_full, arp_timeouts,
		 arp_timeout_drops, arp_evictions, arp_evict_drops, arp_no_mem,
		 arp_cache_full,      /* new neighbour refused: every entry in use */
		 arp_pending_full,    /* new neighbour refused: ARP_MAX_PENDING */
		 arp_requests_limited; /* requests not sent: ARP_REQ_PER_SEC */
	/* IPv4 (RFC 791) */
	uint64_t ip_in, ip_short, ip_bad_version, ip_bad_hlen, ip_bad_len,
		 ip_bad_csum, ip_ttl0, ip_not_us, ip_bad_src, ip_unknown_proto,
		 ip_delivered, ip_out, ip_no_route, ip_too_big, ip_no_mem,
		 ip_no_headroom;
	/* IPv4 fragments (RFC 791, RFC 815) */
	uint64_t frag_in, frag_bad, frag_dup, frag_overlap, frag_reassembled,
		 frag_timeouts, frag_evicted, frag_over_limit, frag_out,
		 frag_created;
	/* ICMP (RFC 792, RFC 1191) */
	uint64_t icmp_in, icmp_short, icmp_bad_csum, icmp_echo_in,
		 icmp_echo_out, icmp_echo_bcast, icmp_unreach_in,
		 icmp_needfrag_in, icmp_pmtu_lowered, icmp_other_in,
		 icmp_err_out, icmp_err_suppressed, icmp_rate_limited,
		 icmp_needfrag_forged,   /* quoted TCP segment not in flight (RFC 5927) */
		 icmp_pmtu_table_guarded; /* unchecked report found no free slot */
	/* UDP (RFC 768) */
	uint64_t udp_in, udp_short, udp_bad_len, udp_bad_csum, udp_no_port,
		 udp_delivered, udp_out, udp_out_err;
};

#endif
