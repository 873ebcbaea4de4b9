/*
 * test_net_arp.c - ARP through the fake netdev: gratuitous announcements
 * at start-up (RFC 5227), the gateway resolved at configure time,
 * byte-exact replies, the RFC 826 merge rule,
 * bogus packets dropped and counted, resolution with a bounded queue,
 * retries and timeout, aging and refresh, conflict defence, and the
 * bounded cache.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net_fake.h"

static struct fake_net F;
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t zero6[6];

#define NOW() time_now_ns()

/* A configured interface without a gateway (so no request for one is
 * on the wire or in the cache): only what a test does appears. */
static void setup_nogw(void)
{
	fake_init(&F, 0, false);
	struct net_if_config c = { .addr = FAKE_IP, .prefix = 24 };
	net_if_configure(&F.nif, &c);
	fake_clear_tx(&F);
}

static void send_udp(uint32_t dst, const char *msg)
{
	static struct udp_pcb pcb;
	if (!pcb.bound)
		udp_bind(&pcb, &F.nif, 5000, NULL, NULL);
	udp_sendto(&pcb, dst, 7, msg, strlen(msg));
}

static void test_gratuitous_at_start(void **state)
{
	(void)state;
	fake_init(&F, 0, false);
	struct net_if_config c = { .addr = FAKE_IP, .prefix = 24 };
	assert_int_equal(net_if_configure(&F.nif, &c), K_OK);
	assert_int_equal(F.ntx, 1);
	uint8_t want[42];
	mk_arp(want, bcast, 1, fake_mac, FAKE_IP, zero6, FAKE_IP);
	memcpy(want + 6, fake_mac, 6);
	assert_int_equal(F.tx[0].len, 42);
	assert_memory_equal(F.tx[0].data, want, 42);
	/* the second announcement after ANNOUNCE_INTERVAL, then no more */
	assert_int_equal(net_next_deadline(&F.nif), NOW() + ARP_ANNOUNCE_INTERVAL_NS);
	net_tick(&F.nif, NOW() + ARP_ANNOUNCE_INTERVAL_NS - 1);
	assert_int_equal(F.ntx, 1);
	hosted_clock_advance(ARP_ANNOUNCE_INTERVAL_NS);
	net_tick(&F.nif, NOW());
	assert_int_equal(F.ntx, 2);
	assert_memory_equal(F.tx[1].data, want, 42);
	hosted_clock_advance(10 * NS_PER_SEC);
	net_tick(&F.nif, NOW());
	assert_int_equal(F.ntx, 2);
	assert_int_equal(net_next_deadline(&F.nif), UINT64_MAX);
	assert_int_equal(F.nif.stats.arp_announce_out, 2);
	/* bad configurations are refused */
	struct net_if_config bad = { .addr = FAKE_IP, .prefix = 24, .gateway = NET_IP4(10, 0, 1, 1) };
	assert_int_equal(net_if_configure(&F.nif, &bad), K_EINVAL);
	bad = (struct net_if_config){ .addr = NET_IP4(10, 0, 0, 255), .prefix = 24 };
	assert_int_equal(net_if_configure(&F.nif, &bad), K_EINVAL);
	bad = (struct net_if_config){ .addr = NET_IP4(224, 0, 0, 1), .prefix = 4 };
	assert_int_equal(net_if_configure(&F.nif, &bad), K_EINVAL);
	bad = (struct net_if_config){ .addr = FAKE_IP, .prefix = 33 };
	assert_int_equal(net_if_configure(&F.nif, &bad), K_EINVAL);
	assert_true(fake_no_leaks(&F));
}

/* With a gateway, configuring asks for its address at once, so the first
 * packet off the link does not wait for ARP. */
static void test_gateway_primed(void **state)
{
	(void)state;
	fake_init(&F, 0, false);
	struct net_if_config c = { .addr = FAKE_IP, .prefix = 24, .gateway = GW_IP };
	assert_int_equal(net_if_configure(&F.nif, &c), K_OK);
	assert_int_equal(F.ntx, 2);                  /* the announcement, the request */
	uint8_t want[42];
	mk_arp(want, bcast, 1, fake_mac, FAKE_IP, zero6, GW_IP);
	memcpy(want + 6, fake_mac, 6);
	assert_memory_equal(F.tx[1].data, want, 42);
	/* unanswered, it is retried like any resolution */
	fake_clear_tx(&F);
	F.nif.arp.announces_left = 0;
	hosted_clock_advance(ARP_RETRY_NS);
	net_tick(&F.nif, NOW());
	assert_int_equal(F.ntx, 1);
	assert_memory_equal(F.tx[0].data, want, 42);
	/* the reply resolves it: a datagram to another network goes out at
	 * once, to the gateway's MAC */
	fake_clear_tx(&F);
	uint8_t fr[64];
	mk_arp(fr, fake_mac, 2, gw_mac, GW_IP, fake_mac, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.ntx, 0);
	send_udp(NET_IP4(192, 0, 2, 7), "off-link");
	assert_int_equal(F.ntx, 1);
	assert_memory_equal(F.tx[0].data, gw_mac, 6);
	assert_int_equal(F.nif.stats.arp_queued, 0);
	/* configuring again flushes the cache: announced and asked again */
	fake_clear_tx(&F);
	assert_int_equal(net_if_configure(&F.nif, &c), K_OK);
	assert_int_equal(F.ntx, 2);
	assert_true(fake_no_leaks(&F));
}

static void test_reply_byte_exact(void **state)
{
	(void)state;
	setup_nogw();
	uint8_t fr[60] = { 0 };
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, FAKE_IP);
	fake_rx(&F, fr, sizeof fr, 0);               /* padded to 60 */
	assert_int_equal(F.ntx, 1);
	uint8_t want[42];
	mk_arp(want, peer_mac, 2, fake_mac, FAKE_IP, peer_mac, PEER_IP);
	assert_int_equal(F.tx[0].len, 42);
	assert_memory_equal(F.tx[0].data, want, 42);
	uint8_t mac[6];
	assert_true(arp_lookup(&F.nif, PEER_IP, mac));
	assert_memory_equal(mac, peer_mac, 6);
	assert_int_equal(F.nif.stats.arp_replies_out, 1);
	/* a probe (sender 0.0.0.0) for our address is answered, not cached */
	fake_clear_tx(&F);
	static const uint8_t prober[6] = { 0x02, 0, 0, 0, 0, 0x55 };
	mk_arp(fr, bcast, 1, prober, 0, zero6, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.ntx, 1);
	assert_memory_equal(F.tx[0].data, prober, 6);
	assert_int_equal(rd32(F.tx[0].data + 14 + 24), 0);
	assert_true(fake_no_leaks(&F));
}

static void test_merge_rule(void **state)
{
	(void)state;
	setup_nogw();
	uint8_t fr[64], mac[6];
	/* a request for someone else: not cached, not answered */
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, NET_IP4(10, 0, 0, 77));
	fake_rx(&F, fr, 42, 0);
	assert_false(arp_lookup(&F.nif, PEER_IP, mac));
	assert_int_equal(F.ntx, 0);
	assert_int_equal(F.nif.stats.arp_not_us, 1);
	/* an unsolicited reply to us is merged only if we asked */
	mk_arp(fr, fake_mac, 2, peer_mac, NET_IP4(10, 0, 0, 50), fake_mac, NET_IP4(10, 0, 0, 51));
	fake_rx(&F, fr, 42, 0);
	assert_false(arp_lookup(&F.nif, NET_IP4(10, 0, 0, 50), mac));
	/* a known sender's new MAC replaces the old one, even if not for us */
	fake_learn(&F, peer_mac, PEER_IP);
	static const uint8_t moved[6] = { 0x02, 0, 0, 0, 0, 0x77 };
	mk_arp(fr, bcast, 1, moved, PEER_IP, zero6, NET_IP4(10, 0, 0, 77));
	fake_rx(&F, fr, 42, 0);
	assert_true(arp_lookup(&F.nif, PEER_IP, mac));
	assert_memory_equal(mac, moved, 6);
	assert_true(fake_no_leaks(&F));
}

static void test_bogus_packets(void **state)
{
	(void)state;
	setup_nogw();
	uint8_t fr[64], mac[6];
	static const uint8_t group[6] = { 0x03, 0, 0, 0, 0, 1 };
	uint64_t bad0 = F.nif.stats.arp_bad;
	/* truncated */
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, FAKE_IP);
	fake_rx(&F, fr, 14 + 27, 0);
	/* wrong hardware type, protocol type, lengths, opcode */
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, FAKE_IP); be16(fr + 14, 6); fake_rx(&F, fr, 42, 0);
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, FAKE_IP); be16(fr + 16, 0x86dd); fake_rx(&F, fr, 42, 0);
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, FAKE_IP); fr[18] = 8; fake_rx(&F, fr, 42, 0);
	mk_arp(fr, bcast, 1, peer_mac, PEER_IP, zero6, FAKE_IP); fr[19] = 16; fake_rx(&F, fr, 42, 0);
	mk_arp(fr, bcast, 3, peer_mac, PEER_IP, zero6, FAKE_IP); fake_rx(&F, fr, 42, 0);
	/* impossible senders: group MAC (in ARP, eth src unicast), broadcast
	 * and multicast IPs, a reply from 0.0.0.0 */
	mk_arp(fr, bcast, 1, group, PEER_IP, zero6, FAKE_IP); memcpy(fr + 6, peer_mac, 6); fake_rx(&F, fr, 42, 0);
	mk_arp(fr, bcast, 1, peer_mac, NET_IP4(10, 0, 0, 255), zero6, FAKE_IP); fake_rx(&F, fr, 42, 0);
	mk_arp(fr, bcast, 1, peer_mac, NET_IP4(224, 0, 0, 9), zero6, FAKE_IP); fake_rx(&F, fr, 42, 0);
	mk_arp(fr, fake_mac, 2, peer_mac, 0, zero6, FAKE_IP); fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.nif.stats.arp_bad - bad0, 10);
	assert_int_equal(F.ntx, 0);
	assert_false(arp_lookup(&F.nif, PEER_IP, mac));
	assert_false(arp_lookup(&F.nif, NET_IP4(10, 0, 0, 255), mac));
	assert_true(fake_no_leaks(&F));
}

static void test_resolution_queue_and_flush(void **state)
{
	(void)state;
	setup_nogw();
	char msg[8];
	for (int i = 0; i < ARP_QUEUE_PER_ENTRY + 2; i++) {
		msg[0] = (char)('a' + i);
		msg[1] = 0;
		send_udp(PEER_IP, msg);
	}
	/* one broadcast request; the rest queued; the overflow dropped */
	assert_int_equal(F.ntx, 1);
	uint8_t want[42];
	mk_arp(want, bcast, 1, fake_mac, FAKE_IP, zero6, PEER_IP);
	memcpy(want + 6, fake_mac, 6);
	assert_memory_equal(F.tx[0].data, want, 42);
	assert_int_equal(F.nif.stats.arp_queued, ARP_QUEUE_PER_ENTRY);
	assert_int_equal(F.nif.stats.arp_queue_full, 2);
	fake_clear_tx(&F);
	/* the reply releases the queue, in order, to the learnt MAC */
	uint8_t fr[64];
	mk_arp(fr, fake_mac, 2, peer_mac, PEER_IP, fake_mac, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.ntx, ARP_QUEUE_PER_ENTRY);
	for (int i = 0; i < ARP_QUEUE_PER_ENTRY; i++) {
		assert_memory_equal(F.tx[i].data, peer_mac, 6);
		assert_int_equal(rd16(F.tx[i].data + 12), 0x0800);
		assert_int_equal(F.tx[i].data[14 + 28], 'a' + i);
		assert_true(frame_ip_csum_ok(&F.tx[i]));
	}
	/* now resolved: a send goes straight out */
	fake_clear_tx(&F);
	send_udp(PEER_IP, "z");
	assert_int_equal(F.ntx, 1);
	assert_memory_equal(F.tx[0].data, peer_mac, 6);
	assert_true(fake_no_leaks(&F));
}

static void test_retry_and_timeout(void **state)
{
	(void)state;
	setup_nogw();
	F.nif.arp.announces_left = 0;                /* only requests on the wire */
	uint32_t free0 = F.pool.nfree;
	send_udp(PEER_IP, "1");
	send_udp(PEER_IP, "2");
	assert_int_equal(F.ntx, 1);
	for (int i = 1; i < ARP_MAX_REQUESTS; i++) {
		net_tick(&F.nif, NOW() + ARP_RETRY_NS - 1);
		assert_int_equal(F.ntx, (unsigned)i);       /* not early */
		hosted_clock_advance(ARP_RETRY_NS);
		net_tick(&F.nif, NOW());
		assert_int_equal(F.ntx, (unsigned)i + 1);
		assert_int_equal(rd16(F.tx[i].data + 20), 1);
	}
	hosted_clock_advance(ARP_RETRY_NS);
	net_tick(&F.nif, NOW());
	assert_int_equal(F.ntx, ARP_MAX_REQUESTS);       /* gave up */
	assert_int_equal(F.nif.stats.arp_timeouts, 1);
	assert_int_equal(F.nif.stats.arp_timeout_drops, 2);
	assert_int_equal(F.pool.nfree, free0);           /* the queue was freed */
	assert_int_equal(net_next_deadline(&F.nif), UINT64_MAX);
	/* the total queue bound, in buffers, across many dead neighbours */
	const int dead = ARP_QUEUE_NBUFS / ARP_QUEUE_PER_ENTRY + 4;
	for (int i = 0; i < dead; i++)
		for (int k = 0; k < ARP_QUEUE_PER_ENTRY; k++)
			send_udp(NET_IP4(10, 0, 0, 20 + i), "x");
	assert_int_equal(F.nif.arp.queued, ARP_QUEUE_NBUFS);
	/* the last four neighbours were refused by the buffer bound or by
	 * ARP_MAX_PENDING, whichever came first */
	assert_int_equal(F.nif.stats.arp_queue_full + F.nif.stats.arp_pending_full,
			 4 * ARP_QUEUE_PER_ENTRY);
	arp_flush(&F.nif);
	/* a large datagram waits whole (fragmented only when it leaves) and
	 * counts every buffer of its chain */
	static char big[8000];
	memset(big, 'q', sizeof big - 1);
	send_udp(PEER_IP, big);
	assert_int_equal(F.nif.stats.arp_queued, 2 + ARP_QUEUE_NBUFS + 1);
	assert_int_equal(F.nif.stats.arp_evictions, 0);
	assert_int_equal(F.nif.arp.queued, 4);      /* 7999 bytes: 4 buffers */
	uint8_t fr[64];
	fake_clear_tx(&F);
	mk_arp(fr, fake_mac, 2, peer_mac, PEER_IP, fake_mac, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.ntx, 6);                 /* 8007 bytes of UDP in 6 fragments */
	assert_int_equal(F.nif.arp.queued, 0);
	assert_true(fake_no_leaks(&F));
}

static void test_aging_and_refresh(void **state)
{
	(void)state;
	setup_nogw();
	fake_learn(&F, peer_mac, PEER_IP);
	uint8_t mac[6];
	/* used early: no refresh */
	send_udp(PEER_IP, "a");
	assert_int_equal(F.ntx, 1);
	/* used in the last ARP_REFRESH_NS: one unicast request, frame still sent */
	hosted_clock_advance(ARP_ENTRY_TTL_NS - ARP_REFRESH_NS + 1);
	fake_clear_tx(&F);
	send_udp(PEER_IP, "b");
	send_udp(PEER_IP, "c");
	assert_int_equal(F.ntx, 3);
	assert_memory_equal(F.tx[0].data, peer_mac, 6);
	assert_int_equal(rd16(F.tx[0].data + 12), 0x0806);
	assert_int_equal(rd16(F.tx[1].data + 12), 0x0800);
	/* no answer: the entry ages out at its TTL */
	hosted_clock_advance(ARP_REFRESH_NS);
	net_tick(&F.nif, NOW());
	assert_false(arp_lookup(&F.nif, PEER_IP, mac));
	/* with an answer it lives on */
	fake_learn(&F, peer_mac, PEER_IP);
	hosted_clock_advance(ARP_ENTRY_TTL_NS - 1);
	net_tick(&F.nif, NOW());
	assert_true(arp_lookup(&F.nif, PEER_IP, mac));
	hosted_clock_advance(1);
	net_tick(&F.nif, NOW());
	assert_false(arp_lookup(&F.nif, PEER_IP, mac));
	assert_true(fake_no_leaks(&F));
}

static void test_conflict_defence(void **state)
{
	(void)state;
	setup_nogw();
	static const uint8_t thief[6] = { 0x02, 0, 0, 0, 0, 0x66 };
	uint8_t fr[64], mac[6];
	mk_arp(fr, bcast, 1, thief, FAKE_IP, zero6, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.nif.stats.arp_conflicts, 1);
	assert_int_equal(F.ntx, 1);                  /* defended once */
	assert_int_equal(rd32(F.tx[0].data + 14 + 14), FAKE_IP);
	assert_int_equal(rd32(F.tx[0].data + 14 + 24), FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.ntx, 1);                  /* not again within 10 s */
	hosted_clock_advance(ARP_DEFEND_INTERVAL_NS);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.ntx, 2);
	assert_false(arp_lookup(&F.nif, FAKE_IP, mac));
	assert_true(fake_no_leaks(&F));
}

static void test_cache_bounded(void **state)
{
	(void)state;
	setup_nogw();
	uint8_t mac[6] = { 0x02, 0, 0, 0, 1, 0 };
	for (int i = 0; i < ARP_CACHE_SIZE + 10; i++) {
		mac[5] = (uint8_t)i;
		hosted_clock_advance(1000);
		fake_learn(&F, mac, NET_IP4(10, 0, 0, 10 + i));
	}
	assert_int_equal(F.nif.stats.arp_evictions, 10);
	uint8_t got[6];
	assert_false(arp_lookup(&F.nif, NET_IP4(10, 0, 0, 10), got));      /* oldest went */
	assert_true(arp_lookup(&F.nif, NET_IP4(10, 0, 0, 10 + ARP_CACHE_SIZE + 9), got));
	assert_int_equal(got[5], ARP_CACHE_SIZE + 9);
	assert_true(fake_no_leaks(&F));
}

/* A flood of packets to spoofed on-link sources (SYN-ACKs to a SYN
 * flood): the gateway and a neighbour in use stay resolved, unresolved
 * entries and requests stay bounded, every buffer comes back. */
static void test_flood_cannot_thrash(void **state)
{
	(void)state;
	fake_init(&F, 0, false);
	struct net_if_config c = { .addr = FAKE_IP, .prefix = 16, .gateway = GW_IP };
	assert_int_equal(net_if_configure(&F.nif, &c), K_OK);
	F.nif.arp.announces_left = 0;
	uint8_t fr[64];
	mk_arp(fr, fake_mac, 2, gw_mac, GW_IP, fake_mac, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	fake_learn(&F, peer_mac, PEER_IP);
	uint32_t free0 = F.pool.nfree;
	fake_clear_tx(&F);
	uint64_t t0 = NOW();

	for (int i = 0; i < 10000; i++) {
		hosted_clock_advance(100 * 1000);                 /* 10,000 a second */
		send_udp(NET_IP4(10, 0, 1 + i / 250, 1 + i % 250), "syn-ack");
		if (i % 100 == 0) {
			send_udp(PEER_IP, "legit");               /* a connection's traffic */
			send_udp(NET_IP4(192, 0, 2, 7), "off-link");
		}
		if (i % 1000 == 0)
			net_tick(&F.nif, NOW());
		assert_true(F.nif.arp.pending <= ARP_MAX_PENDING);
		fake_clear_tx(&F);
	}
	uint8_t got[6];
	assert_true(arp_lookup(&F.nif, PEER_IP, got));
	assert_memory_equal(got, peer_mac, 6);
	assert_true(arp_lookup(&F.nif, GW_IP, got));
	assert_memory_equal(got, gw_mac, 6);
	assert_true(F.nif.stats.arp_pending_full > 9000);
	/* first requests within the budget, plus the retries of what waits */
	uint64_t secs = (NOW() - t0) / NS_PER_SEC + 1;
	assert_true(F.nif.stats.arp_requests_out <=
		    secs * (ARP_REQ_PER_SEC + ARP_MAX_PENDING * ARP_MAX_REQUESTS));
	/* the legitimate peer is still reached at once */
	unsigned sent = F.nif.stats.arp_queued;
	send_udp(PEER_IP, "still there");
	assert_int_equal(F.ntx, 1);
	assert_memory_equal(F.tx[0].data, peer_mac, 6);
	assert_int_equal(F.nif.stats.arp_queued, sent);
	arp_flush(&F.nif);
	assert_int_equal(F.pool.nfree, free0);
	assert_true(fake_no_leaks(&F));
}

/* New neighbours that resolve at once (a peer answering every request):
 * still at most ARP_REQ_PER_SEC first requests a second. */
static void test_request_budget(void **state)
{
	(void)state;
	setup_nogw();
	F.nif.arp.announces_left = 0;
	uint8_t fr[64], mac[6] = { 0x02, 0, 0, 0, 3, 0 };
	hosted_clock_set((NOW() / NS_PER_SEC + 1) * NS_PER_SEC);   /* a second starts */
	for (int i = 0; i < ARP_CACHE_SIZE - 4; i++) {
		uint32_t ip = NET_IP4(10, 0, 0, 100 + i);
		send_udp(ip, "new");
		mac[5] = (uint8_t)i;
		mk_arp(fr, fake_mac, 2, mac, ip, fake_mac, FAKE_IP);
		fake_rx(&F, fr, 42, 0);
	}
	assert_int_equal(F.nif.stats.arp_requests_out, ARP_REQ_PER_SEC);
	assert_int_equal(F.nif.stats.arp_requests_limited, ARP_CACHE_SIZE - 4 - ARP_REQ_PER_SEC);
	arp_flush(&F.nif);
	assert_true(fake_no_leaks(&F));
}

/* A full cache of neighbours in use: a new one (from an ARP request for
 * us, or one we must resolve) is refused rather than evicting them. */
static void test_in_use_entries_stay(void **state)
{
	(void)state;
	setup_nogw();
	F.nif.arp.announces_left = 0;
	uint8_t mac[6] = { 0x02, 0, 0, 0, 2, 0 };
	for (int i = 0; i < ARP_CACHE_SIZE; i++) {
		mac[5] = (uint8_t)i;
		fake_learn(&F, mac, NET_IP4(10, 0, 0, 100 + i));
		send_udp(NET_IP4(10, 0, 0, 100 + i), "in use");
	}
	fake_clear_tx(&F);
	uint8_t fr[64], spoof[6] = { 0x02, 0xee, 0, 0, 0, 1 };
	mk_arp(fr, bcast, 1, spoof, NET_IP4(10, 0, 0, 50), zero6, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	send_udp(NET_IP4(10, 0, 0, 51), "new");
	assert_int_equal(F.nif.stats.arp_evictions, 0);
	assert_int_equal(F.nif.stats.arp_cache_full, 2);
	uint8_t got[6];
	for (int i = 0; i < ARP_CACHE_SIZE; i++)
		assert_true(arp_lookup(&F.nif, NET_IP4(10, 0, 0, 100 + i), got));
	/* once they have been idle for ARP_IN_USE_NS, a newcomer may take one */
	hosted_clock_advance(ARP_IN_USE_NS);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(F.nif.stats.arp_evictions, 1);
	assert_true(arp_lookup(&F.nif, NET_IP4(10, 0, 0, 50), got));
	arp_flush(&F.nif);
	assert_true(fake_no_leaks(&F));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gratuitous_at_start),
		cmocka_unit_test(test_gateway_primed),
		cmocka_unit_test(test_reply_byte_exact),
		cmocka_unit_test(test_merge_rule),
		cmocka_unit_test(test_bogus_packets),
		cmocka_unit_test(test_resolution_queue_and_flush),
		cmocka_unit_test(test_retry_and_timeout),
		cmocka_unit_test(test_aging_and_refresh),
		cmocka_unit_test(test_conflict_defence),
		cmocka_unit_test(test_cache_bounded),
		cmocka_unit_test(test_flood_cannot_thrash),
		cmocka_unit_test(test_in_use_entries_stay),
		cmocka_unit_test(test_request_budget),
	};
	return cmocka_run_group_tests_name("net_arp", tests, NULL, NULL);
}
