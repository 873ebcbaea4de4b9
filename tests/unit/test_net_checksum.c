/*
 * test_net_checksum.c - the Internet checksum against known answers
 * (RFC 1071 section 3, a textbook IPv4 header) and against a plain
 * byte-wise reference at every length and alignment, over chains split
 * at odd offsets, and RFC 1624 incremental updates.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net_fake.h"

static struct fake_net F;

static void test_rfc1071_example(void **state)
{
	(void)state;
	/* RFC 1071 3: the sum of these words is ddf2; the checksum 220d. */
	const uint8_t b[8] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	uint8_t field[2];
	checksum_store(field, checksum(b, sizeof b));
	assert_int_equal(field[0], 0x22);
	assert_int_equal(field[1], 0x0d);
	checksum_store(field, checksum_fold_raw(checksum_add(0, b, sizeof b)));
	assert_int_equal(rd16(field), 0xddf2);
}

static void test_ip_header_kat(void **state)
{
	(void)state;
	uint8_t h[20] = { 0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			  0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7 };
	checksum_store(h + 10, checksum(h, 20));
	assert_int_equal(rd16(h + 10), 0xb861);
	assert_int_equal(checksum(h, 20), 0);       /* verifies to zero */
}

static void test_against_reference(void **state)
{
	(void)state;
	static uint8_t buf[1600];
	srand(7);
	for (size_t i = 0; i < sizeof buf; i++)
		buf[i] = (uint8_t)rand();
	for (size_t align = 0; align < 8; align++) {
		for (size_t len = 0; len < 300; len++) {
			uint8_t field[2];
			checksum_store(field, checksum(buf + align, len));
			assert_int_equal(rd16(field), ref_csum(0, buf + align, len));
		}
	}
	/* long runs, all ones, all zeros */
	uint8_t field[2];
	checksum_store(field, checksum(buf, sizeof buf));
	assert_int_equal(rd16(field), ref_csum(0, buf, sizeof buf));
	memset(buf, 0xff, sizeof buf);
	checksum_store(field, checksum(buf, sizeof buf));
	assert_int_equal(rd16(field), ref_csum(0, buf, sizeof buf));
	memset(buf, 0, sizeof buf);
	checksum_store(field, checksum(buf, 1499));
	assert_int_equal(rd16(field), 0xffff);
}

static void test_chain_odd_segments(void **state)
{
	(void)state;
	uint8_t data[1000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 31 + 5);
	fake_init(&F, 0, false);
	const size_t splits[][3] = { { 1, 2, 997 }, { 333, 333, 334 }, { 7, 500, 493 }, { 999, 1, 0 } };
	for (size_t s = 0; s < 4; s++) {
		struct nbuf *head = NULL;
		size_t pos = 0;
		for (size_t k = 0; k < 3 && splits[s][k]; k++) {
			struct nbuf *seg = nbuf_alloc(&F.pool);
			memcpy(nbuf_put(seg, splits[s][k]), data + pos, splits[s][k]);
			pos += splits[s][k];
			if (head)
				nbuf_append(head, seg);
			else
				head = seg;
		}
		assert_int_equal(nbuf_pkt_len(head), sizeof data);
		for (size_t off = 0; off < 5; off++) {
			uint8_t field[2];
			size_t len = sizeof data - off - 3;
			checksum_store(field, checksum_fold(checksum_nbuf(0, head, off, len)));
			assert_int_equal(rd16(field), ref_csum(0, data + off, len));
		}
		nbuf_free(head);
	}
	assert_true(fake_no_leaks(&F));
}

static void test_incremental_update(void **state)
{
	(void)state;
	uint8_t msg[64];
	srand(11);
	for (int round = 0; round < 2000; round++) {
		for (size_t i = 0; i < sizeof msg; i++)
			msg[i] = (uint8_t)rand();
		if (round % 5 == 0)
			memset(msg, 0, sizeof msg);           /* checksum near 0/0xffff */
		be16(msg + 2, 0);
		checksum_store(msg + 2, checksum(msg, sizeof msg));
		size_t w = 4 + 2 * (size_t)(rand() % 30);
		uint16_t old_word = checksum_load(msg + w);
		msg[w] = (uint8_t)rand();
		msg[w + 1] = (uint8_t)rand();
		checksum_update16(msg + 2, old_word, checksum_load(msg + w));
		/* The updated checksum verifies: the whole message sums to 0. */
		assert_int_equal(checksum(msg, sizeof msg), 0);
	}
}

static void test_pseudo_header(void **state)
{
	(void)state;
	uint32_t s = NET_IP4(192, 168, 1, 7), d = NET_IP4(10, 200, 3, 4);
	uint8_t field[2];
	checksum_store(field, checksum_fold(checksum_pseudo4(s, d, 17, 1234)));
	assert_int_equal(rd16(field), ref_csum(ref_pseudo(s, d, 17, 1234), NULL, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc1071_example),
		cmocka_unit_test(test_ip_header_kat),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_chain_odd_segments),
		cmocka_unit_test(test_incremental_update),
		cmocka_unit_test(test_pseudo_header),
	};
	return cmocka_run_group_tests_name("net_checksum", tests, NULL, NULL);
}
