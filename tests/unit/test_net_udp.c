/*
 * test_net_udp.c - UDP through the fake netdev: binding rules, an echo
 * round trip checked byte for byte, checksum verification (zero,
 * corrupt, device-verified), length checks, checksum offload on output,
 * borrowed sends and when their memory is released, fragmented
 * datagrams in, and sends that wait for ARP.
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
static struct udp_rx last;
static uint8_t got_data[70000];
static size_t got_len;
static bool echo_back;

static void on_rx(struct udp_pcb *p, const struct udp_rx *rx, void *arg)
{
	(void)arg;
	got++;
	last = *rx;
	got_len = udp_rx_copy(rx, 0, got_data, sizeof got_data);
	if (echo_back)
		assert_int_equal(udp_sendto(p, rx->src_addr, rx->src_port, rx->data, rx->len), K_OK);
}

static void setup(uint32_t caps)
{
	fake_init(&F, caps, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	memset(&pcb, 0, sizeof pcb);
	assert_int_equal(udp_bind(&pcb, &F.nif, 7, on_rx, NULL), K_OK);
	got = 0;
	echo_back = false;
}

static size_t udp_in(uint8_t *fr, const void *data, size_t len)
{
	uint8_t u[1600];
	size_t n = mk_udp(u, PEER_IP, FAKE_IP, 40000, 7, data, len);
	return mk_ip4(fr, PEER_IP, FAKE_IP, 17, 1, 0x4000, 64, u, n);
}

static void test_bind_rules(void **state)
{
	(void)state;
	setup(0);
	struct udp_pcb a = { 0 }, b = { 0 }, c = { 0 };
	assert_int_equal(udp_bind(&a, &F.nif, 7, on_rx, NULL), K_EADDRINUSE);
	assert_int_equal(udp_bind(&a, &F.nif, 53, on_rx, NULL), K_OK);
	assert_int_equal(udp_bind(&a, &F.nif, 54, on_rx, NULL), K_EALREADY);
	/* ports colliding in the hash still resolve */
	assert_int_equal(udp_bind(&b, &F.nif, 53 + UDP_HASH_SIZE, on_rx, NULL), K_OK);
	assert_int_equal(udp_bind(&c, &F.nif, 0, on_rx, NULL), K_OK);
	assert_true(c.port >= UDP_EPHEMERAL_MIN);
	udp_unbind(&a);
	udp_unbind(&a);                              /* harmless twice */
	assert_int_equal(udp_bind(&a, &F.nif, 53, on_rx, NULL), K_OK);
	udp_unbind(&a);
	udp_unbind(&b);
	udp_unbind(&c);
	/* an unbound port answers port unreachable */
	udp_unbind(&pcb);
	uint8_t fr[200];
	fake_rx(&F, fr, udp_in(fr, "x", 1), 0);
	assert_int_equal(got, 0);
	assert_int_equal(F.nif.stats.udp_no_port, 1);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(udp_sendto(&pcb, PEER_IP, 1, "x", 1), K_EINVAL);
	assert_true(fake_no_leaks(&F));
}

static void test_echo_round_trip(void **state)
{
	(void)state;
	setup(0);
	echo_back = true;
	static const char msg[] = "the quick brown fox jumps over the lazy dog";
	uint8_t fr[200];
	size_t fl = udp_in(fr, msg, sizeof msg - 1);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(got, 1);
	assert_int_equal(last.src_addr, PEER_IP);
	assert_int_equal(last.dst_addr, FAKE_IP);
	assert_int_equal(last.src_port, 40000);
	assert_int_equal(last.dst_port, 7);
	assert_int_equal(last.len, sizeof msg - 1);
	assert_int_equal(last.total_len, sizeof msg - 1);
	assert_memory_equal(got_data, msg, sizeof msg - 1);
	/* the reply, rebuilt independently, matches byte for byte */
	assert_int_equal(F.ntx, 1);
	uint8_t want[200], u[200];
	size_t un = mk_udp(u, FAKE_IP, PEER_IP, 7, 40000, msg, sizeof msg - 1);
	size_t wl = mk_ip4(want, FAKE_IP, PEER_IP, 17, 0, 0x4000, 64, u, un);
	memcpy(want, peer_mac, 6);
	memcpy(want + 6, fake_mac, 6);
	memcpy(want + 18, F.tx[0].data + 18, 2);     /* the stack's IP ID */
	be16(want + 24, 0);
	be16(want + 24, ref_csum(0, want + 14, 20));
	assert_int_equal(F.tx[0].len, wl);
	assert_memory_equal(F.tx[0].data, want, wl);
	assert_true(fake_no_leaks(&F));
}

static void test_checksums_and_lengths(void **state)
{
	(void)state;
	setup(0);
	uint8_t fr[200];
	size_t fl = udp_in(fr, "abcdef", 6);
	uint8_t *u = fr + 34;
	/* a zero checksum means none was sent: accepted */
	be16(u + 6, 0);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(got, 1);
	/* corrupt: dropped, unless the device says it verified it */
	fl = udp_in(fr, "abcdef", 6);
	u[9] ^= 0x40;
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(got, 1);
	assert_int_equal(F.nif.stats.udp_bad_csum, 1);
	fake_rx(&F, fr, fl, NBUF_F_CSUM_VALID);
	assert_int_equal(got, 2);
	/* length below 8, above the IP payload: dropped */
	fl = udp_in(fr, "abcdef", 6);
	be16(u + 4, 7);
	fake_rx(&F, fr, fl, 0);
	be16(u + 4, 15);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.nif.stats.udp_bad_len, 2);
	/* shorter than the IP payload: trimmed to the UDP length */
	uint8_t dg[64];
	size_t dn = mk_udp(dg, PEER_IP, FAKE_IP, 1, 7, "abc", 3);
	memcpy(dg + dn, "junk", 4);
	fl = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 1, 0, 64, dg, dn + 4);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(got, 3);
	assert_int_equal(got_len, 3);
	/* header cut short */
	fl = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 1, 0, 64, dg, 7);
	fake_rx(&F, fr, fl, 0);
	assert_int_equal(F.nif.stats.udp_short, 1);
	assert_int_equal(got, 3);
	assert_int_equal(F.ntx, 0);
	assert_true(fake_no_leaks(&F));
}

static void test_tx_checksum_offload(void **state)
{
	(void)state;
	setup(NETDEV_CAP_TX_CSUM | NETDEV_CAP_SG);
	assert_int_equal(udp_sendto(&pcb, PEER_IP, 5353, "offload me", 10), K_OK);
	assert_int_equal(F.ntx, 1);
	struct fake_frame *fr = &F.tx[0];
	assert_true(fr->flags & NBUF_F_CSUM_PARTIAL);
	assert_int_equal(fr->csum_start, 34);
	assert_int_equal(fr->csum_offset, 6);
	/* the field holds the pseudo-header sum; finishing as a device would
	 * (sum from csum_start, store the complement) gives a valid checksum */
	uint8_t *u = fr->data + 34;
	uint16_t seed = rd16(u + 6);
	assert_int_equal((uint16_t)~ref_csum(ref_pseudo(FAKE_IP, PEER_IP, 17, 18), NULL, 0), seed);
	be16(u + 6, ref_csum(0, u, 18));
	assert_int_equal(ref_csum(ref_pseudo(FAKE_IP, PEER_IP, 17, 18), u, 18), 0);
	assert_true(fake_no_leaks(&F));
}

static int released;
static void on_release(void *arg) { released += *(int *)arg; }

static void test_borrowed_send(void **state)
{
	(void)state;
	static const char asset[] = "<html>baked into the image</html>";
	int one = 1;
	/* with SG: header + borrowed segment go to the device as a chain */
	setup(NETDEV_CAP_SG);
	F.hold = true;
	released = 0;
	assert_int_equal(udp_sendto_borrowed(&pcb, PEER_IP, 80, asset, sizeof asset - 1,
					     on_release, &one), K_OK);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(F.tx[0].segs, 2);
	assert_memory_equal(F.tx[0].data + 42, asset, sizeof asset - 1);
	uint8_t *u = F.tx[0].data + 34;
	assert_int_equal(ref_csum(ref_pseudo(FAKE_IP, PEER_IP, 17, (uint16_t)(8 + sizeof asset - 1)), u,
				  8 + sizeof asset - 1), 0);
	assert_int_equal(released, 0);               /* the device still has it */
	fake_complete(&F);
	assert_int_equal(released, 1);
	/* waiting for ARP: released when finally sent */
	F.hold = false;
	assert_int_equal(udp_sendto_borrowed(&pcb, NET_IP4(10, 0, 0, 20), 80, asset, 5,
					     on_release, &one), K_OK);
	assert_int_equal(released, 1);
	uint8_t fr[64];
	static const uint8_t other[6] = { 2, 0, 0, 0, 0, 0x20 };
	mk_arp(fr, fake_mac, 2, other, NET_IP4(10, 0, 0, 20), fake_mac, FAKE_IP);
	fake_rx(&F, fr, 42, 0);
	assert_int_equal(released, 2);
	/* errors release at once, exactly once */
	assert_int_equal(udp_sendto_borrowed(&pcb, FAKE_IP, 80, asset, 5, on_release, &one), K_ENOENT);
	assert_int_equal(released, 3);
	assert_int_equal(udp_sendto_borrowed(&pcb, PEER_IP, 80, asset, 70000, on_release, &one),
			 K_EMSGSIZE);
	assert_int_equal(released, 4);
	/* without SG the device gets one flat copy; still released once */
	F.dev.caps = 0;
	assert_int_equal(udp_sendto_borrowed(&pcb, PEER_IP, 80, asset, 5, on_release, &one), K_OK);
	assert_int_equal(released, 5);
	assert_int_equal(F.tx[F.ntx - 1].segs, 1);
	assert_true(fake_no_leaks(&F));
}

static void test_fragmented_in(void **state)
{
	(void)state;
	setup(0);
	static uint8_t payload[5000], dg[5100], fr[2048];
	for (size_t i = 0; i < sizeof payload; i++)
		payload[i] = (uint8_t)(i * 7);
	size_t n = mk_udp(dg, PEER_IP, FAKE_IP, 1, 7, payload, sizeof payload);
	for (size_t off = 0; off < n; off += 1480) {
		size_t l = n - off < 1480 ? n - off : 1480;
		size_t fl = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 31,
				   (uint16_t)(off / 8 | (off + l < n ? 0x2000 : 0)), 64, dg + off, l);
		fake_rx(&F, fr, fl, 0);
	}
	assert_int_equal(got, 1);
	assert_int_equal(last.total_len, sizeof payload);
	assert_int_equal(last.len, 1480 - 8);        /* the first piece, contiguous */
	assert_int_equal(got_len, sizeof payload);
	assert_memory_equal(got_data, payload, sizeof payload);
	/* a corrupt fragment makes the whole checksum fail */
	dg[3000] ^= 1;
	for (size_t off = 0; off < n; off += 1480) {
		size_t l = n - off < 1480 ? n - off : 1480;
		size_t fl = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 32,
				   (uint16_t)(off / 8 | (off + l < n ? 0x2000 : 0)), 64, dg + off, l);
		fake_rx(&F, fr, fl, 0);
	}
	assert_int_equal(got, 1);
	assert_int_equal(F.nif.stats.udp_bad_csum, 1);
	assert_true(fake_no_leaks(&F));
}

static void test_pool_exhaustion_on_send(void **state)
{
	(void)state;
	setup(0);
	struct nbuf *hog[FAKE_POOL_N + 1];
	unsigned n = 0;
	while ((hog[n] = nbuf_alloc(&F.pool)) != NULL)
		n++;
	assert_int_equal(udp_sendto(&pcb, PEER_IP, 9, "x", 1), K_ENOMEM);
	uint8_t fr[200];
	size_t fl = udp_in(fr, "x", 1);
	fake_rx(&F, fr, fl, 0);                      /* no buffer: the "driver" drops it */
	assert_true(F.pool.stats.empty >= 2);
	for (unsigned i = 0; i < n; i++)
		nbuf_free(hog[i]);
	assert_true(fake_no_leaks(&F));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_rules),
		cmocka_unit_test(test_echo_round_trip),
		cmocka_unit_test(test_checksums_and_lengths),
		cmocka_unit_test(test_tx_checksum_offload),
		cmocka_unit_test(test_borrowed_send),
		cmocka_unit_test(test_fragmented_in),
		cmocka_unit_test(test_pool_exhaustion_on_send),
	};
	return cmocka_run_group_tests_name("net_udp", tests, NULL, NULL);
}
