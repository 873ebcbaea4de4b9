/*
 * test_net_ip4.c - Ethernet and IPv4 through the fake netdev: every
 * malformed header dropped and counted, padding and options, routing
 * (on-link, gateway, broadcast, none), output fields, reassembly in
 * every order with duplicates, overlaps, bad fragments, timeouts and
 * memory limits, and fragmentation on output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net_fake.h"

static struct fake_net F;
static struct udp_pcb pcb;
static unsigned got;
static uint8_t got_data[70000];
static size_t got_len;

static void on_rx(struct udp_pcb *p, const struct udp_rx *rx, void *arg)
{
	(void)p;
	(void)arg;
	got++;
	got_len = udp_rx_copy(rx, 0, got_data, sizeof got_data);
}

static void setup(void)
{
	fake_init(&F, 0, true);
	fake_learn(&F, peer_mac, PEER_IP);
	memset(&pcb, 0, sizeof pcb);
	assert_int_equal(udp_bind(&pcb, &F.nif, 7, on_rx, NULL), K_OK);
	F.nif.arp.announces_left = 0;           /* keep the wire to what a test sends */
	got = 0;
	got_len = 0;
}

static void fix_csum(uint8_t *h)
{
	be16(h + 10, 0);
	be16(h + 10, ref_csum(0, h, (size_t)(h[0] & 15) * 4));
}

/* A valid UDP-in-IPv4 frame to port 7 with "hello"; returns its length. */
static size_t good_frame(uint8_t *fr)
{
	uint8_t u[64];
	size_t n = mk_udp(u, PEER_IP, FAKE_IP, 1234, 7, "hello", 5);
	return mk_ip4(fr, PEER_IP, FAKE_IP, 17, 1, 0x4000, 64, u, n);
}

#define EXPECT_DROP(counter, frame, len)                                          \
	do {                                                                      \
		uint64_t before_ = F.nif.stats.counter;                          \
		unsigned got_ = got;                                              \
		fake_rx(&F, frame, len, 0);                                      \
		assert_int_equal(F.nif.stats.counter, before_ + 1);              \
		assert_int_equal(got, got_);                                      \
	} while (0)

static void test_malformed_ip(void **state)
{
	(void)state;
	setup();
	uint8_t fr[200];
	size_t n = good_frame(fr);
	fake_rx(&F, fr, n, 0);
	assert_int_equal(got, 1);
	uint8_t *h = fr + 14;

	EXPECT_DROP(ip_short, fr, 14 + 19);
	n = good_frame(fr); h[0] = 0x65;                  EXPECT_DROP(ip_bad_version, fr, n);
	n = good_frame(fr); h[0] = 0x44;                  EXPECT_DROP(ip_bad_hlen, fr, n);
	n = good_frame(fr); h[0] = 0x4f;                  EXPECT_DROP(ip_bad_hlen, fr, 14 + 40);
	n = good_frame(fr); be16(h + 2, 200); fix_csum(h); EXPECT_DROP(ip_bad_len, fr, n);
	n = good_frame(fr); be16(h + 2, 19); fix_csum(h);  EXPECT_DROP(ip_bad_len, fr, n);
	n = good_frame(fr); h[10] ^= 1;                   EXPECT_DROP(ip_bad_csum, fr, n);
	n = good_frame(fr); h[8] = 0; fix_csum(h);        EXPECT_DROP(ip_ttl0, fr, n);
	const uint32_t bad_src[] = { 0xffffffffu, NET_IP4(10, 0, 0, 255), NET_IP4(127, 0, 0, 1), 0,
				     NET_IP4(224, 1, 2, 3), NET_IP4(240, 0, 0, 1) };
	for (size_t i = 0; i < sizeof bad_src / sizeof bad_src[0]; i++) {
		n = good_frame(fr); be32(h + 12, bad_src[i]); fix_csum(h);
		EXPECT_DROP(ip_bad_src, fr, n);
	}
	n = good_frame(fr); be32(h + 16, NET_IP4(10, 0, 0, 3)); fix_csum(h); EXPECT_DROP(ip_not_us, fr, n);
	n = good_frame(fr); be32(h + 16, NET_IP4(224, 0, 0, 1)); fix_csum(h); EXPECT_DROP(ip_not_us, fr, n);
	/* Ethernet */
	EXPECT_DROP(eth_short, fr, 13);
	n = good_frame(fr); fr[5] = 0x77;                 EXPECT_DROP(eth_not_us, fr, n);
	n = good_frame(fr); fr[0] = 0x01;                 EXPECT_DROP(eth_not_us, fr, n);
	n = good_frame(fr); fr[6] = 0x01;                 EXPECT_DROP(eth_bad_src, fr, n);
	n = good_frame(fr); memcpy(fr + 6, fake_mac, 6);  EXPECT_DROP(eth_bad_src, fr, n);
	n = good_frame(fr); be16(fr + 12, 0x86dd);        EXPECT_DROP(eth_ip6, fr, n);
	n = good_frame(fr); be16(fr + 12, 0x8100);        EXPECT_DROP(eth_vlan, fr, n);
	n = good_frame(fr); be16(fr + 12, 0x0100);        EXPECT_DROP(eth_unknown, fr, n);
	assert_int_equal(F.ntx, 0);                       /* none of it answered */
	assert_true(fake_no_leaks(&F));
}

static void test_padding_options_broadcast(void **state)
{
	(void)state;
	setup();
	uint8_t fr[200];
	/* Ethernet padding past the IP total length is trimmed */
	size_t n = good_frame(fr);
	memset(fr + n, 0xee, 20);
	fake_rx(&F, fr, n + 20, 0);
	assert_int_equal(got, 1);
	assert_int_equal(got_len, 5);
	assert_memory_equal(got_data, "hello", 5);
	/* options are skipped */
	uint8_t u[64], opt[64];
	size_t un = mk_udp(u, PEER_IP, FAKE_IP, 1234, 7, "opt", 3);
	n = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 2, 0, 64, u, un);
	memcpy(opt, fr + 14 + 20, un);
	memset(fr + 14 + 20, 1, 4);                       /* four NOPs */
	memcpy(fr + 14 + 24, opt, un);
	fr[14] = 0x46;
	be16(fr + 16, (uint16_t)(24 + un));
	fix_csum(fr + 14);
	fake_rx(&F, fr, n + 4, 0);
	assert_int_equal(got, 2);
	assert_memory_equal(got_data, "opt", 3);
	/* limited and subnet broadcasts are accepted */
	un = mk_udp(u, PEER_IP, 0xffffffffu, 1, 7, "b1", 2);
	n = mk_ip4(fr, PEER_IP, 0xffffffffu, 17, 3, 0, 64, u, un);
	memset(fr, 0xff, 6);
	fake_rx(&F, fr, n, 0);
	un = mk_udp(u, PEER_IP, NET_IP4(10, 0, 0, 255), 1, 7, "b2", 2);
	n = mk_ip4(fr, PEER_IP, NET_IP4(10, 0, 0, 255), 17, 4, 0, 64, u, un);
	fake_rx(&F, fr, n, 0);
	assert_int_equal(got, 4);
	/* unknown protocol: dropped, counted, ICMP protocol unreachable */
	n = mk_ip4(fr, PEER_IP, FAKE_IP, 99, 5, 0, 64, (const uint8_t *)"xxxxxxxx", 8);
	EXPECT_DROP(ip_unknown_proto, fr, n);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(F.tx[0].data[14 + 20], 3);
	assert_int_equal(F.tx[0].data[14 + 21], 2);
	assert_true(fake_no_leaks(&F));
}

/* ---- reassembly ---- */

static uint8_t dgram[8000];
static size_t dgram_len;

/* Builds a UDP datagram of plen payload bytes to port 7. */
static void make_dgram(size_t plen)
{
	static uint8_t payload[8000];
	for (size_t i = 0; i < plen; i++)
		payload[i] = (uint8_t)(i * 251 + (i >> 8));
	dgram_len = mk_udp(dgram, PEER_IP, FAKE_IP, 999, 7, payload, plen);
}

/* Sends bytes [off, off+len) of dgram as a fragment of datagram id. */
static void send_frag(uint16_t id, size_t off, size_t len, bool mf)
{
	uint8_t fr[2000];
	size_t n = mk_ip4(fr, PEER_IP, FAKE_IP, 17, id, (uint16_t)(off / 8 | (mf ? 0x2000 : 0)), 64,
			  dgram + off, len);
	fake_rx(&F, fr, n, 0);
}

static void check_delivered(unsigned count)
{
	assert_int_equal(got, count);
	assert_int_equal(got_len, dgram_len - 8);
	assert_memory_equal(got_data, dgram + 8, dgram_len - 8);
}

static void test_reassembly_every_order(void **state)
{
	(void)state;
	setup();
	make_dgram(3000);                    /* 3008 bytes: 1480 + 1480 + 48 */
	const size_t off[3] = { 0, 1480, 2960 }, len[3] = { 1480, 1480, 48 };
	const int perms[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };
	for (int p = 0; p < 6; p++) {
		for (int k = 0; k < 3; k++) {
			int i = perms[p][k];
			send_frag((uint16_t)(100 + p), off[i], len[i], i != 2);
		}
		check_delivered((unsigned)p + 1);
	}
	assert_int_equal(F.nif.stats.frag_reassembled, 6);
	/* many small fragments, interleaved across two datagrams */
	make_dgram(1000);                    /* 1008 bytes in 63 pieces of 16 */
	for (size_t o = 0; o < dgram_len; o += 32) {
		size_t l = dgram_len - o < 16 ? dgram_len - o : 16;
		send_frag(300, o, l, o + l < dgram_len);
	}
	for (size_t o = dgram_len / 32 * 32 - 16; o < dgram_len; o -= 32) {
		size_t l = dgram_len - o < 16 ? dgram_len - o : 16;
		send_frag(300, o, l, o + l < dgram_len);
		if (o < 32)
			break;
	}
	check_delivered(7);
	assert_int_equal(F.nif.reasm.nbufs, 0);
	assert_true(fake_no_leaks(&F));
}

static void test_reassembly_duplicates_and_overlaps(void **state)
{
	(void)state;
	setup();
	make_dgram(3000);
	/* exact duplicates are dropped alone */
	send_frag(1, 0, 1480, true);
	send_frag(1, 0, 1480, true);
	send_frag(1, 1480, 1480, true);
	send_frag(1, 1480, 1480, true);
	send_frag(1, 2960, 48, false);
	check_delivered(1);
	assert_int_equal(F.nif.stats.frag_dup, 2);
	/* overlaps kill the whole datagram (RFC 5722 rule) */
	struct { size_t o, l; bool mf; } bad[] = {
		{ 1472, 16, true },       /* straddles the end of fragment 0 */
		{ 0, 1488, true },        /* same offset, longer */
		{ 8, 16, true },          /* inside fragment 0 */
		{ 1480 - 8, 8, true },    /* the last 8 bytes of fragment 0 again */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		uint64_t before = F.nif.stats.frag_overlap;
		send_frag((uint16_t)(10 + i), 0, 1480, true);
		send_frag((uint16_t)(10 + i), bad[i].o, bad[i].l, bad[i].mf);
		assert_int_equal(F.nif.stats.frag_overlap, before + 1);
		/* the rest arriving later cannot complete it */
		send_frag((uint16_t)(10 + i), 1480, 1480, true);
		send_frag((uint16_t)(10 + i), 2960, 48, false);
		assert_int_equal(got, 1);
	}
	/* an overlap from below: a later fragment covering an earlier one */
	send_frag(20, 1480, 1480, true);
	send_frag(20, 1400, 96, true);
	assert_int_equal(F.nif.stats.frag_overlap, 5);
	assert_true(fake_no_leaks(&F));
}

static void test_reassembly_bad_fragments(void **state)
{
	(void)state;
	setup();
	make_dgram(3000);
	uint64_t bad0 = F.nif.stats.frag_bad;
	send_frag(1, 0, 1479, true);                  /* MF and not a multiple of 8 */
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 1);
	send_frag(1, 0, 0, true);                     /* empty */
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 2);
	/* ping of death: offset 65512 + 40 bytes > 65535 */
	uint8_t fr[200];
	size_t n = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 2, 8189, 64, dgram, 40);
	fake_rx(&F, fr, n, 0);
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 3);
	/* two different ends */
	send_frag(3, 2960, 48, false);
	send_frag(3, 1480, 1480, false);
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 4);
	/* a fragment beyond a known end */
	send_frag(4, 1480, 8, false);
	send_frag(4, 2960, 48, true);
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 5);
	/* an end before data already held */
	send_frag(5, 2960, 48, true);
	send_frag(5, 1480, 8, false);
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 6);
	assert_int_equal(got, 0);
	/* a complete datagram whose first header (60 bytes, with options)
	 * would make it longer than 65535 bytes is dropped */
	static const uint8_t zeros[1480];
	uint8_t big[2000];
	const size_t end = IP4_MAX_LEN - IP4_HDR_LEN;
	for (size_t o = 0; o < end; o += 1480) {
		size_t l = end - o < 1480 ? end - o : 1480;
		n = mk_ip4(big, PEER_IP, FAKE_IP, 99, 9, (uint16_t)(o / 8 | (o + l < end ? 0x2000 : 0)),
			   64, zeros, l);
		if (o == 0) {
			memset(big + 14 + 20, 1, 40);
			memcpy(big + 14 + 60, zeros, l);
			big[14] = 0x4f;
			be16(big + 16, (uint16_t)(60 + l));
			fix_csum(big + 14);
			n += 40;
		}
		fake_rx(&F, big, n, 0);
	}
	assert_int_equal(F.nif.stats.frag_bad, bad0 + 7);
	assert_int_equal(F.nif.stats.frag_reassembled, 0);
	assert_int_equal(F.ntx, 0);
	assert_true(fake_no_leaks(&F));
}

static void test_reassembly_timeout(void **state)
{
	(void)state;
	setup();
	make_dgram(3000);
	uint64_t t0 = time_now_ns();
	send_frag(7, 0, 1480, true);
	send_frag(7, 2960, 48, false);
	send_frag(8, 1480, 1480, true);               /* no fragment 0 */
	assert_int_equal(ip4_frag_next_deadline(&F.nif), t0 + IP4_REASM_TIMEOUT_NS);
	assert_true(net_next_deadline(&F.nif) <= t0 + IP4_REASM_TIMEOUT_NS);
	net_tick(&F.nif, t0 + IP4_REASM_TIMEOUT_NS - 1);
	assert_int_equal(F.nif.stats.frag_timeouts, 0);
	hosted_clock_set(t0 + IP4_REASM_TIMEOUT_NS);
	net_tick(&F.nif, time_now_ns());
	assert_int_equal(F.nif.stats.frag_timeouts, 2);
	/* ICMP time exceeded in reassembly, only for the one with fragment 0 */
	assert_int_equal(F.ntx, 1);
	const uint8_t *ic = F.tx[0].data + 14 + 20;
	assert_int_equal(ic[0], 11);
	assert_int_equal(ic[1], 1);
	assert_int_equal(rd16(ic + 8 + 4), 7);        /* quotes datagram 7's header */
	assert_int_equal(ref_csum(0, ic, F.tx[0].len - 34), 0);
	/* late fragments start afresh and cannot complete the old datagram */
	send_frag(7, 1480, 1480, true);
	assert_int_equal(got, 0);
	assert_true(fake_no_leaks(&F));
}

static void test_reassembly_limits(void **state)
{
	(void)state;
	setup();
	make_dgram(1480 - 8 + 40);
	/* more concurrent datagrams than slots: the oldest are evicted */
	for (int i = 0; i < IP4_REASM_MAX_DGRAMS + 4; i++) {
		hosted_clock_advance(1000);
		send_frag((uint16_t)(50 + i), 0, 1480, true);
	}
	assert_int_equal(F.nif.stats.frag_evicted, 4);
	/* the newest survive and can complete */
	send_frag((uint16_t)(50 + IP4_REASM_MAX_DGRAMS + 3), 1480, dgram_len - 1480, false);
	check_delivered(1);
	ip4_frag_flush(&F.nif);

	/* buffer limit: 8 datagrams of 20 fragments never hold more than the cap */
	make_dgram(7900);
	uint64_t ev0 = F.nif.stats.frag_evicted;
	for (int d = 0; d < IP4_REASM_MAX_DGRAMS; d++) {
		for (size_t o = 0; o < 20 * 16; o += 16) {
			hosted_clock_advance(1000);
			send_frag((uint16_t)(200 + d), o, 8, true);
			assert_true(F.nif.reasm.nbufs <= IP4_REASM_MAX_NBUFS);
		}
	}
	assert_true(F.nif.stats.frag_evicted > ev0);
	ip4_frag_flush(&F.nif);
	/* one datagram alone larger than the cap is dropped */
	for (size_t o = 0; o < 16 * (IP4_REASM_MAX_NBUFS + 2); o += 16)
		send_frag(400, o, 8, true);
	assert_true(F.nif.stats.frag_over_limit >= 1);
	assert_true(F.nif.reasm.nbufs <= IP4_REASM_MAX_NBUFS);
	assert_int_equal(got, 1);
	assert_true(fake_no_leaks(&F));
}

/* ---- output ---- */

static void test_output_routing(void **state)
{
	(void)state;
	setup();
	assert_int_equal(udp_sendto(&pcb, PEER_IP, 9, "on-link", 7), K_OK);
	assert_int_equal(udp_sendto(&pcb, PEER_IP, 9, "again", 5), K_OK);
	assert_int_equal(F.ntx, 2);
	const uint8_t *e = F.tx[0].data, *h = e + 14;
	assert_memory_equal(e, peer_mac, 6);
	assert_memory_equal(e + 6, fake_mac, 6);
	assert_int_equal(h[0], 0x45);
	assert_int_equal(rd16(h + 6), 0x4000);                /* DF */
	assert_int_equal(h[8], 64);
	assert_int_equal(h[9], 17);
	assert_int_equal(rd32(h + 12), FAKE_IP);
	assert_int_equal(rd32(h + 16), PEER_IP);
	assert_int_equal(rd16(h + 2), 20 + 8 + 7);
	assert_true(frame_ip_csum_ok(&F.tx[0]));
	assert_int_equal((uint16_t)(rd16(F.tx[1].data + 18) - rd16(h + 4)), 1);  /* ID + 1 */
	/* off-link goes to the gateway's MAC (resolved when configured) */
	fake_clear_tx(&F);
	assert_int_equal(udp_sendto(&pcb, NET_IP4(8, 8, 8, 8), 53, "q", 1), K_OK);
	assert_int_equal(F.ntx, 1);
	assert_memory_equal(F.tx[0].data, gw_mac, 6);
	assert_int_equal(rd32(F.tx[0].data + 14 + 16), NET_IP4(8, 8, 8, 8));
	/* broadcasts need no ARP */
	fake_clear_tx(&F);
	assert_int_equal(udp_sendto(&pcb, 0xffffffffu, 67, "b", 1), K_OK);
	assert_int_equal(udp_sendto(&pcb, NET_IP4(10, 0, 0, 255), 67, "b", 1), K_OK);
	assert_int_equal(F.ntx, 2);
	assert_memory_equal(F.tx[0].data, "\xff\xff\xff\xff\xff\xff", 6);
	assert_memory_equal(F.tx[1].data, "\xff\xff\xff\xff\xff\xff", 6);
	/* no route: to ourselves, to multicast, off-link without a gateway */
	assert_int_equal(udp_sendto(&pcb, FAKE_IP, 9, "x", 1), K_ENOENT);
	assert_int_equal(udp_sendto(&pcb, NET_IP4(224, 0, 0, 1), 9, "x", 1), K_ENOENT);
	struct net_if_config c = { .addr = FAKE_IP, .prefix = 24 };
	net_if_configure(&F.nif, &c);
	assert_int_equal(udp_sendto(&pcb, NET_IP4(8, 8, 8, 8), 9, "x", 1), K_ENOENT);
	assert_true(F.nif.stats.ip_no_route >= 3);
	assert_true(fake_no_leaks(&F));
}

static void test_output_fragmentation(void **state)
{
	(void)state;
	setup();
	static uint8_t big[4000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i ^ (i >> 7));
	assert_int_equal(udp_sendto(&pcb, PEER_IP, 9, big, sizeof big), K_OK);
	assert_int_equal(F.ntx, 3);
	static uint8_t re[4100];
	size_t total = 0;
	uint16_t id = rd16(F.tx[0].data + 18);
	for (unsigned i = 0; i < 3; i++) {
		const uint8_t *h = F.tx[i].data + 14;
		uint16_t frag = rd16(h + 6);
		assert_true(F.tx[i].len <= 1514);
		assert_true(frame_ip_csum_ok(&F.tx[i]));
		assert_int_equal(rd16(h + 4), id);
		assert_int_equal(frag & 0x4000, 0);                 /* DF clear */
		assert_int_equal((frag & 0x2000) != 0, i < 2);      /* MF */
		assert_int_equal((size_t)(frag & 0x1fff) * 8, total);
		size_t plen = rd16(h + 2) - 20u;
		assert_int_equal(F.tx[i].len, 14 + 20 + plen);
		memcpy(re + total, h + 20, plen);
		total += plen;
	}
	assert_int_equal(total, 8 + sizeof big);
	assert_memory_equal(re + 8, big, sizeof big);
	assert_int_equal(ref_csum(ref_pseudo(FAKE_IP, PEER_IP, 17, (uint16_t)total), re, total), 0);
	/* callers that forbid fragmenting get EMSGSIZE */
	struct nbuf *nb = nbuf_alloc(&F.pool);
	nbuf_put(nb, 1481);
	assert_int_equal(ip4_output(&F.nif, nb, 0, PEER_IP, 17, IP4_OUT_DF), K_EMSGSIZE);
	assert_true(fake_no_leaks(&F));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_ip),
		cmocka_unit_test(test_padding_options_broadcast),
		cmocka_unit_test(test_reassembly_every_order),
		cmocka_unit_test(test_reassembly_duplicates_and_overlaps),
		cmocka_unit_test(test_reassembly_bad_fragments),
		cmocka_unit_test(test_reassembly_timeout),
		cmocka_unit_test(test_reassembly_limits),
		cmocka_unit_test(test_output_routing),
		cmocka_unit_test(test_output_fragmentation),
	};
	return cmocka_run_group_tests_name("net_ip4", tests, NULL, NULL);
}
