/*
 * test_rt_udp_task.c - the waiting UDP calls (net/udp_task.c) in real
 * tasks of the hosted runtime, on a virtual clock, over the fake netdev
 * (net_fake.h): a task that echoes datagrams back to their sender; a
 * receive that times out and one that close ends; datagrams that arrive
 * before anyone waits, in order; truncation to the caller's buffer; the
 * ring wrapping around and dropping (counted) when full, without ever
 * mixing up bytes; and calls outside a task.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/net.h>
#include <kiln/task.h>

#include "hosted_rt.h"
#include "net_fake.h"

static struct fake_net F;
static struct udp_sock S;

#define PORT 7
#define PPORT 40000

static void setup(void)
{
	fake_init(&F, 0, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	hosted_rt_init();
	assert_int_equal(udp_sock_bind(&S, &F.nif, PORT), K_OK);
}

static void run(void)
{
	for (int i = 0; i < 4; i++)
		loop_once();
}

static void advance(uint64_t ns)
{
	for (uint64_t t = 0; t < ns; t += NS_PER_MS) {
		hosted_clock_advance(NS_PER_MS);
		loop_once();
	}
	run();
}

static void finish(void)
{
	udp_sock_close(&S);
	run();
	fake_complete(&F);
	assert_true(fake_no_leaks(&F));
	struct task_stats ts;
	task_get_stats(&ts);
	assert_int_equal(ts.live, 0);
}

/* A datagram of len bytes (pattern k) from the peer to PORT. */
static void dgram(uint8_t k, size_t len)
{
	static uint8_t d[4000];
	uint8_t u[4100], fr[4200];
	for (size_t i = 0; i < len; i++)
		d[i] = (uint8_t)(k + i * 13);
	size_t n = mk_udp(u, PEER_IP, FAKE_IP, PPORT, PORT, d, len);
	fake_rx(&F, fr, mk_ip4(fr, PEER_IP, FAKE_IP, 17, 1, 0x4000, 64, u, n), 0);
}

static bool is_pattern(const uint8_t *p, size_t len, uint8_t k)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != (uint8_t)(k + i * 13))
			return false;
	return true;
}

/* ---- echo: receive, send back, until closed ---- */

static int echoed, echo_end;

static void echo_task(void *arg)
{
	(void)arg;
	uint8_t buf[2000];
	for (;;) {
		uint32_t a;
		uint16_t p;
		int n = udp_sock_recvfrom(&S, buf, sizeof buf, &a, &p, 0);
		if (n < 0) {
			echo_end = n;
			return;
		}
		assert_int_equal(a, PEER_IP);
		assert_int_equal(p, PPORT);
		assert_int_equal(udp_sock_sendto(&S, a, p, buf, (size_t)n), K_OK);
		echoed++;
	}
}

static void test_echo(void **state)
{
	(void)state;
	setup();
	echoed = 0;
	echo_end = 1;
	assert_non_null(task_spawn(echo_task, NULL, 0, "echo"));
	run();
	for (uint8_t k = 0; k < 5; k++) {
		fake_clear_tx(&F);
		dgram(k, 100u + k * 300u);
		run();
		assert_int_equal(echoed, k + 1);
		assert_int_equal(F.ntx, 1);
		const uint8_t *u = F.tx[0].data + 34;
		assert_int_equal(rd16(u), PORT);
		assert_int_equal(rd16(u + 2), PPORT);
		assert_int_equal(rd16(u + 4), 8 + 100 + k * 300);
		assert_true(is_pattern(u + 8, 100u + k * 300u, k));
	}
	udp_sock_close(&S);
	run();
	assert_int_equal(echo_end, K_ECLOSED);
	finish();
}

/* ---- timeouts, early arrivals, truncation ---- */

static int results[8];

static void timed_task(void *arg)
{
	(void)arg;
	uint8_t buf[64];
	results[0] = udp_sock_recvfrom(&S, buf, sizeof buf, NULL, NULL, 50 * NS_PER_MS);
	results[1] = udp_sock_recvfrom(&S, buf, sizeof buf, NULL, NULL, 0);
}

static void test_timeout_then_close(void **state)
{
	(void)state;
	setup();
	results[0] = results[1] = 1;
	assert_non_null(task_spawn(timed_task, NULL, 0, "timed"));
	run();
	advance(45 * NS_PER_MS);
	assert_int_equal(results[0], 1);             /* still waiting */
	advance(30 * NS_PER_MS);                      /* the timer wheel's granularity */
	assert_int_equal(results[0], K_ETIMEDOUT);
	assert_int_equal(results[1], 1);
	udp_sock_close(&S);
	run();
	assert_int_equal(results[1], K_ECLOSED);
	finish();
}

static uint8_t got[8][64];

static void reader_task(void *arg)
{
	(void)arg;
	for (int i = 0; i < 3; i++)
		results[i] = udp_sock_recvfrom(&S, got[i], 64, NULL, NULL, NS_PER_SEC);
}

static void test_early_and_truncated(void **state)
{
	(void)state;
	setup();
	dgram(1, 10);
	dgram(2, 500);                                /* longer than the reader's 64 */
	dgram(3, 0);
	assert_non_null(task_spawn(reader_task, NULL, 0, "reader"));
	run();
	assert_int_equal(results[0], 10);
	assert_true(is_pattern(got[0], 10, 1));
	assert_int_equal(results[1], 64);
	assert_true(is_pattern(got[1], 64, 2));
	assert_int_equal(results[2], 0);
	assert_int_equal(S.count, 0);
	finish();
}

/* ---- the ring: wrap-around and drops, bytes never mixed ---- */

#define RLEN 1400                /* 16384 bytes hold eleven */

static uint8_t next_k, bad;
static int taken;

static void taker_task(void *arg)
{
	int n = (int)(uintptr_t)arg;
	static uint8_t buf[2000];
	for (int i = 0; i < n; i++) {
		int r = udp_sock_recvfrom(&S, buf, sizeof buf, NULL, NULL, NS_PER_SEC);
		if (r != RLEN || !is_pattern(buf, RLEN, next_k))
			bad = 1;
		next_k++;
		taken++;
	}
}

static void test_ring(void **state)
{
	(void)state;
	setup();
	next_k = 0;
	bad = 0;
	taken = 0;
	for (uint8_t k = 0; k < 12; k++)               /* the twelfth is dropped */
		dgram(k, RLEN);
	assert_int_equal(S.count, 11);
	assert_int_equal(S.dropped, 1);
	/* take three; the room they leave at the start takes three more
	 * (wrapped), then the ring is full up to the oldest */
	assert_non_null(task_spawn(taker_task, (void *)(uintptr_t)3, 0, "t1"));
	run();
	assert_int_equal(taken, 3);
	for (uint8_t k = 11; k < 15; k++)
		dgram(k, RLEN);
	assert_int_equal(S.count, 11);
	assert_int_equal(S.dropped, 2);
	assert_non_null(task_spawn(taker_task, (void *)(uintptr_t)11, 0, "t2"));
	run();
	assert_int_equal(taken, 14);
	assert_false(bad);
	assert_int_equal(S.count, 0);
	assert_int_equal(S.wr, 0);
	finish();
}

static void test_outside_task(void **state)
{
	(void)state;
	setup();
	uint8_t b[4];
	assert_int_equal(udp_sock_recvfrom(&S, b, sizeof b, NULL, NULL, 0), K_EINVAL);
	struct udp_sock other;
	assert_int_equal(udp_sock_bind(&other, &F.nif, PORT), K_EADDRINUSE);
	finish();
	assert_int_equal(udp_sock_sendto(&S, PEER_IP, PPORT, "x", 1), K_ECLOSED);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_timeout_then_close),
		cmocka_unit_test(test_early_and_truncated),
		cmocka_unit_test(test_ring),
		cmocka_unit_test(test_outside_task),
	};
	return cmocka_run_group_tests_name("udp_task", tests, NULL, NULL);
}
