/*
 * test_net_icmp.c - ICMP through the fake netdev: echo replies checked
 * byte for byte (small, MTU-sized, and a fragmented 4000-byte request
 * answered in fragments), ignored and malformed requests, port and
 * protocol unreachable with their suppression rules and rate limit, and
 * "fragmentation needed" lowering the path MTU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net_fake.h"

static struct fake_net F;

static void setup(uint32_t caps)
{
	fake_init(&F, caps, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
}

/* The reply a correct stack sends to a request frame, built here
 * independently: MACs and addresses swapped, type 0, checksum recomputed
 * from scratch, DF, TTL 64; the ID is the stack's own, read from got. */
static void expect_echo_reply(const uint8_t *req, size_t req_len, const struct fake_frame *got)
{
	static uint8_t want[2048];
	size_t icmp_len = req_len - 34;
	uint8_t *ic = want + 34;
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, fake_mac, 6);
	be16(want + 12, 0x0800);
	uint8_t *h = want + 14;
	memset(h, 0, 20);
	h[0] = 0x45;
	be16(h + 2, (uint16_t)(20 + icmp_len));
	memcpy(h + 4, got->data + 18, 2);
	be16(h + 6, 0x4000);
	h[8] = 64;
	h[9] = 1;
	be32(h + 12, FAKE_IP);
	be32(h + 16, PEER_IP);
	be16(h + 10, ref_csum(0, h, 20));
	memcpy(ic, req + 34, icmp_len);
	ic[0] = 0;
	be16(ic + 2, 0);
	be16(ic + 2, ref_csum(0, ic, icmp_len));
	assert_int_equal(got->len, req_len);
	assert_memory_equal(got->data, want, req_len);
}

static void test_echo_byte_exact(void **state)
{
	(void)state;
	setup(0);
	static uint8_t fr[2048], ic[1500];
	const size_t sizes[] = { 0, 1, 56, 57, 1000, 1472 };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		fake_clear_tx(&F);
		size_t n = mk_echo(ic, 0x1234, (uint16_t)i, sizes[i]);
		size_t fl = mk_ip4(fr, PEER_IP, FAKE_IP, 1, (uint16_t)(77 + i), 0x4000, 64, ic, n);
		fake_rx(&F, fr, fl, 0);
		assert_int_equal(F.ntx, 1);
		expect_echo_reply(fr, fl, &F.tx[0]);
	}
	assert_int_equal(F.nif.stats.icmp_echo_out, 6);
	assert_true(fake_no_leaks(&F));
}

static void test_echo_fragmented(void **state)
{
	(void)state;
	setup(0);
	static uint8_t ic[4100], fr[2048], re[4100];
	size_t n = mk_echo(ic, 7, 1, 4000 - 8);            /* 4000-byte ICMP message */
	for (size_t off = 0; off < n; off += 1480) {
		size_t l = n - off < 1480 ? n - off : 1480;
		size_t fl = mk_ip4(fr, PEER_IP, FAKE_IP, 1, 4242,
				   (uint16_t)(off / 8 | (off + l < n ? 0x2000 : 0)), 64, ic + off, l);
		fake_rx(&F, fr, fl, 0);
	}
	/* the reply leaves as fragments that reassemble to the echo reply */
	assert_int_equal(F.ntx, 3);
	size_t total = 0;
	for (unsigned i = 0; i < F.ntx; i++) {
		const uint8_t *h = F.tx[i].data + 14;
		assert_true(frame_ip_csum_ok(&F.tx[i]));
		assert_int_equal(rd32(h + 16), PEER_IP);
		assert_int_equal((size_t)(rd16(h + 6) & 0x1fff) * 8, total);
		size_t pl = rd16(h + 2) - 20u;
		memcpy(re + total, h + 20, pl);
		total += pl;
	}
	assert_int_equal(total, n);
	ic[0] = 0;
	be16(ic + 2, 0);
	be16(ic + 2, ref_csum(0, ic, n));
	assert_memory_equal(re, ic, n);
	assert_true(fake_no_leaks(&F));
}

static void test_echo_ignored(void **state)
{
	(void)state;
	setup(0);
	uint8_t fr[200], ic[100];
	size_t n = mk_echo(ic, 1, 1, 20);
	/* bad checksum */
	ic[10] ^= 0xff;
	size_t fl = mk_ip4(fr, PEER_IP, FAKE_IP, 1, 1, 0, 64, ic, n);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.nif.stats.icmp_bad_csum, 1);
	/* short */
	fl = mk_ip4(fr, PEER_IP, FAKE_IP, 1, 1, 0, 64, ic, 7);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.nif.stats.icmp_short, 1);
	/* to a broadcast */
	n = mk_echo(ic, 1, 1, 20);
	fl = mk_ip4(fr, PEER_IP, NET_IP4(10, 0, 0, 255), 1, 1, 0, 64, ic, n);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.nif.stats.icmp_echo_bcast, 1);
	/* echo replies and unknown types are counted and dropped */
	ic[0] = 0;
	be16(ic + 2, 0);
	be16(ic + 2, ref_csum(0, ic, n));
	fl = mk_ip4(fr, PEER_IP, FAKE_IP, 1, 1, 0, 64, ic, n);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.nif.stats.icmp_other_in, 1);
	assert_int_equal(F.ntx, 0);
	assert_true(fake_no_leaks(&F));
}

static size_t udp_frame(uint8_t *fr, uint32_t dst, uint16_t dport, uint16_t frag)
{
	uint8_t u[64];
	size_t n = mk_udp(u, PEER_IP, dst, 4444, dport, "knock knock", 11);
	return mk_ip4(fr, PEER_IP, dst, 17, 99, frag, 64, u, n);
}

static void test_port_unreachable(void **state)
{
	(void)state;
	setup(0);
	uint8_t fr[200];
	size_t fl = udp_frame(fr, FAKE_IP, 9999, 0x4000);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.ntx, 1);
	const struct fake_frame *e = &F.tx[0];
	const uint8_t *h = e->data + 14, *ic = h + 20;
	assert_memory_equal(e->data, peer_mac, 6);
	assert_int_equal(h[9], 1);
	assert_int_equal(rd32(h + 16), PEER_IP);
	assert_int_equal(ic[0], 3);
	assert_int_equal(ic[1], 3);
	assert_int_equal(rd32(ic + 4), 0);
	/* it quotes the whole offending datagram (short enough) */
	assert_int_equal(e->len, 14 + 20 + 8 + (fl - 14));
	assert_memory_equal(ic + 8, fr + 14, fl - 14);
	assert_int_equal(ref_csum(0, ic, e->len - 34), 0);
	assert_true(frame_ip_csum_ok(e));
	/* never about broadcasts (IP or link-level) */
	fake_clear_tx(&F);
	fl = udp_frame(fr, NET_IP4(10, 0, 0, 255), 9999, 0);
	fake_rx(&F, fr, fl, 0);
	fl = udp_frame(fr, FAKE_IP, 9999, 0);
	memset(fr, 0xff, 6);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.ntx, 0);
	assert_int_equal(F.nif.stats.icmp_err_suppressed, 2);
	assert_true(fake_no_leaks(&F));
}

static void test_rate_limit(void **state)
{
	(void)state;
	setup(0);
	uint8_t fr[200];
	size_t fl = udp_frame(fr, FAKE_IP, 9999, 0);
	for (int i = 0; i < 100; i++)
		fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.ntx, ICMP_BURST);
	assert_int_equal(F.nif.stats.icmp_rate_limited, 100 - ICMP_BURST);
	/* tokens come back at ICMP_RATE_PER_SEC */
	fake_clear_tx(&F);
	hosted_clock_advance(5 * NS_PER_SEC / ICMP_RATE_PER_SEC);
	for (int i = 0; i < 100; i++)
		fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.ntx, 5);
	/* and never beyond the burst */
	fake_clear_tx(&F);
	hosted_clock_advance(3600 * NS_PER_SEC);
	net_tick(&F.nif, time_now_ns());
	fake_learn(&F, peer_mac, PEER_IP);          /* the old entry aged out */
	for (int i = 0; i < 100; i++)
		fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.ntx, ICMP_BURST);
	assert_true(fake_no_leaks(&F));
}

/* A "fragmentation needed" from a router, quoting a UDP datagram from src
 * to dst (no connection to check it against: believed, but it cannot
 * push out a checked entry; TCP quotes are tested in test_net_tcp). */
static size_t needfrag(uint8_t *fr, uint32_t src, uint32_t dst, uint16_t quoted_len, uint16_t mtu)
{
	return mk_needfrag(fr, src, dst, 17, quoted_len, mtu, NULL);
}

static void test_pmtu(void **state)
{
	(void)state;
	setup(0);
	uint8_t fr[200];
	const uint32_t far = NET_IP4(93, 184, 216, 34);
	uint64_t now = time_now_ns();
	assert_int_equal(ip4_pmtu_get(&F.nif, far, now), 1500);
	/* believed: quotes our datagram, names a smaller MTU */
	fake_rx(&F, fr, needfrag(fr, FAKE_IP, far, 1500, 1400), 0);
	assert_int_equal(ip4_pmtu_get(&F.nif, far, now), 1400);
	assert_int_equal(F.nif.stats.icmp_pmtu_lowered, 1);
	/* ignored: not our datagram; an MTU not below the quoted length; a rise */
	fake_rx(&F, fr, needfrag(fr, NET_IP4(10, 0, 0, 3), far, 1500, 1000), 0);
	fake_rx(&F, fr, needfrag(fr, FAKE_IP, far, 1200, 1300), 0);
	fake_rx(&F, fr, needfrag(fr, FAKE_IP, far, 1500, 1450), 0);
	assert_int_equal(ip4_pmtu_get(&F.nif, far, now), 1400);
	/* a tiny MTU is clamped; an old router's 0 picks the plateau below */
	fake_rx(&F, fr, needfrag(fr, FAKE_IP, far, 1400, 100), 0);
	assert_int_equal(ip4_pmtu_get(&F.nif, far, now), IP4_PMTU_MIN);
	const uint32_t far2 = NET_IP4(93, 184, 216, 35);
	fake_rx(&F, fr, needfrag(fr, FAKE_IP, far2, 1500, 0), 0);
	assert_int_equal(ip4_pmtu_get(&F.nif, far2, now), 1492);
	assert_int_equal(F.nif.stats.icmp_needfrag_in, 6);
	/* output follows the path MTU: 1000 bytes of UDP fit 1500, not 552 */
	fake_learn(&F, gw_mac, GW_IP);
	struct udp_pcb pcb = { 0 };
	udp_bind(&pcb, &F.nif, 0, NULL, NULL);
	static uint8_t data[1000];
	assert_int_equal(udp_sendto(&pcb, far, 9, data, sizeof data), K_OK);
	assert_int_equal(F.ntx, 2);
	assert_true(F.tx[0].len <= 14 + IP4_PMTU_MIN);
	/* TCP-style senders that forbid fragmenting get EMSGSIZE */
	struct nbuf *nb = nbuf_alloc(&F.pool);
	nbuf_put(nb, 600);
	assert_int_equal(ip4_output(&F.nif, nb, 0, far, 6, IP4_OUT_DF), K_EMSGSIZE);
	/* entries expire (RFC 1191 6.3) */
	assert_int_equal(ip4_pmtu_get(&F.nif, far, now + IP4_PMTU_TIMEOUT_NS), 1500);
	/* a bounded table: many destinations replace the oldest */
	for (uint32_t i = 0; i < IP4_PMTU_ENTRIES + 4; i++) {
		hosted_clock_advance(1000);
		fake_rx(&F, fr, needfrag(fr, FAKE_IP, NET_IP4(1, 1, 1, i + 1), 1500, 1280), 0);
	}
	assert_int_equal(ip4_pmtu_get(&F.nif, NET_IP4(1, 1, 1, 1), time_now_ns()), 1500);
	assert_int_equal(ip4_pmtu_get(&F.nif, NET_IP4(1, 1, 1, IP4_PMTU_ENTRIES + 4), time_now_ns()), 1280);
	udp_unbind(&pcb);
	assert_true(fake_no_leaks(&F));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo_byte_exact),
		cmocka_unit_test(test_echo_fragmented),
		cmocka_unit_test(test_echo_ignored),
		cmocka_unit_test(test_port_unreachable),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_pmtu),
	};
	return cmocka_run_group_tests_name("net_icmp", tests, NULL, NULL);
}
