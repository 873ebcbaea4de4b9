/*
 * test_http_bench.c - the engine's cost for pipelined GET /health, the
 * headline workload, and a check that it stays correct at volume.
 *
 * As a unit test it serves 64 batches of 16 pipelined wrk-style requests
 * through a transport that only counts bytes, and checks that exactly one
 * 200 per request came out. With an argument N it serves N batches and
 * prints the totals, for measuring instructions per request:
 *
 *   cc -O2 (no sanitizers) this file, the proto/http sources and the hosted
 *   platform, then: valgrind --tool=callgrind <prog> N for two values of
 *   N; (Ir(N2) - Ir(N1)) / (16 * (N2 - N1)) is the per-request cost.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/err.h>
#include <kiln/http.h>

#include "hosted.h"

#define PIPELINE 16

static uint64_t out_bytes, out_writes, status_200;

static int count_write(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	const char *s = data;
	/* count status lines; a response never straddles writes here */
	for (const char *p = s; (p = memchr(p, 'H', (size_t)(s + len - p))) != NULL; p++)
		if ((size_t)(s + len - p) >= 12 && memcmp(p, "HTTP/1.1 200", 12) == 0)
			status_200++;
	out_bytes += len;
	out_writes++;
	return (int)len;
}

static int count_lend(void *ctx, const void *data, size_t len, void (*done)(void *), void *arg)
{
	(void)ctx;
	(void)data;
	out_bytes += len;
	if (done)
		done(arg);
	return K_OK;
}

static void nop(void *ctx) { (void)ctx; }

static const struct http_transport_ops ops = {
	.write_copy = count_write, .write_borrowed = count_lend, .shutdown = nop,
	.close = nop, .resume_read = nop,
};

static int health(struct http_req *req, void *arg)
{
	(void)arg;
	return http_respond(req, 200, "text/plain", "ok\n", 3);
}

static struct http_conn conns[1];
static struct http_server srv;

static void run(unsigned long batches)
{
	static char view[PIPELINE * 64];
	size_t n = 0;
	for (int i = 0; i < PIPELINE; i++)
		n += (size_t)sprintf(view + n, "GET /health HTTP/1.1\r\nHost: localhost:8080\r\n\r\n");
	struct http_server_config cfg;
	http_server_config_default(&cfg);
	cfg.limits.max_requests = UINT32_MAX;   /* one connection, many requests */
	hosted_clock_virtual(1);
	assert_int_equal(http_server_init(&srv, &cfg, conns, 1), K_OK);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/health", 0, health, NULL);
	struct http_conn *c = http_conn_open(&srv, &ops, NULL);
	assert_non_null(c);
	out_bytes = out_writes = status_200 = 0;
	for (unsigned long b = 0; b < batches; b++)
		assert_int_equal(http_conn_input(c, (const uint8_t *)view, n), n);
	http_conn_closed(c);
	assert_int_equal(status_200, batches * PIPELINE);
	assert_int_equal(srv.stats.requests, batches * PIPELINE);
}

static void test_bench(void **state)
{
	(void)state;
	run(64);
	assert_true(out_writes <= 64 * 2);  /* one or two writes per batch */
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		unsigned long batches = strtoul(argv[1], NULL, 10);
		run(batches);
		printf("%lu requests, %llu bytes out in %llu writes\n", batches * PIPELINE,
		       (unsigned long long)out_bytes, (unsigned long long)out_writes);
		return 0;
	}
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_bench) };
	return cmocka_run_group_tests_name("http_bench", tests, NULL, NULL);
}
