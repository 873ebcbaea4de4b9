/*
 * test_rt_http_task.c - a chunked response written from a task of the
 * hosted runtime (virtual clock): the handler defers (HTTP_DEFER) and
 * spawns a task that begins a stream, writes a line every 10 ms, waits
 * for the writable callback when the transport is full, and ends it; the
 * client sees one well-formed chunked body. Then the same with the
 * connection going away mid-stream: the task's next call gets K_ECLOSED
 * and the connection returns to the pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/err.h>
#include <kiln/http.h>
#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/task.h>
#include <kiln/time.h>

#include "hosted.h"
#include "hosted_rt.h"

/* ---- a transport that takes budget bytes, then reports itself full ---- */

static char out[65536];
static size_t out_len, budget;
static unsigned closes;

static int t_write_copy(void *ctx, const void *data, size_t len)
{
	(void)ctx;
	size_t n = len < budget ? len : budget;
	assert_true(out_len + n <= sizeof out);
	memcpy(out + out_len, data, n);
	out_len += n;
	budget -= n;
	return (int)n;
}

static int t_write_borrowed(void *ctx, const void *data, size_t len, void (*done)(void *),
			    void *arg)
{
	if (budget < len)
		return K_EAGAIN;
	t_write_copy(ctx, data, len);
	if (done)
		done(arg);
	return K_OK;
}

static void t_close(void *ctx) { (void)ctx; closes++; }
static void t_nop(void *ctx) { (void)ctx; }

static const struct http_transport_ops ops = {
	.write_copy = t_write_copy, .write_borrowed = t_write_borrowed,
	.close = t_close, .pause_read = t_nop, .resume_read = t_nop,
};

/* ---- the app: /ticks streams LINES lines from a task ---- */

#define LINES 20

static struct http_server srv;
static struct http_conn conns[2];
static struct event writable;
static int task_result, lines_written, full_waits;

static void on_writable(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	event_signal(&writable);
}

/* Waits out K_EAGAIN (the transport is full) on the writable callback. */
static int stream_write(struct http_req *req, const char *s, size_t len)
{
	while (len) {
		int r = http_stream_write(req, s, len);
		if (r == K_EAGAIN) {
			full_waits++;
			event_wait(&writable, NS_PER_SEC);
			continue;
		}
		if (r < 0)
			return r;
		s += r;
		len -= (size_t)r;
	}
	return K_OK;
}

static void ticks_task(void *arg)
{
	struct http_req *req = arg;
	int r = http_stream_begin(req, 200, "text/plain");
	if (r == K_OK) {
		http_stream_on_writable(req, on_writable, NULL);
		for (int i = 1; i <= LINES && r == K_OK; i++) {
			task_sleep_ns(10 * NS_PER_MS);
			char line[1100];
			int n = snprintf(line, sizeof line, "tick %d %-1000s\n", i, "padding");
			r = stream_write(req, line, (size_t)n);
			if (r == K_OK)
				lines_written = i;
		}
		while (r == K_OK && (r = http_stream_end(req)) == K_EAGAIN) {
			event_wait(&writable, NS_PER_SEC);
			r = K_OK;
		}
	}
	if (r < 0)
		http_stream_end(req);         /* gives a dead connection back */
	task_result = r;
}

static int ticks(struct http_req *req, void *arg)
{
	(void)arg;
	if (!task_spawn(ticks_task, req, 0, "ticks"))
		return http_respond(req, 503, NULL, NULL, 0);
	return HTTP_DEFER;
}

static void setup(void)
{
	hosted_clock_virtual(1000 * NS_PER_SEC);
	hosted_rt_init();
	event_init(&writable);
	assert_int_equal(http_server_init(&srv, NULL, conns, 2), K_OK);
	assert_int_equal(http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/ticks", 0, ticks, NULL), K_OK);
	out_len = 0;
	budget = SIZE_MAX;
	closes = 0;
	task_result = 1;
	lines_written = 0;
	full_waits = 0;
}

/* Runs passes and the clock in 1 ms steps, opening the transport's
 * budget by `room` bytes per step (SIZE_MAX: unlimited). */
static void advance(struct http_conn *c, uint64_t ns, size_t room)
{
	for (uint64_t t = 0; t < ns; t += NS_PER_MS) {
		hosted_clock_advance(NS_PER_MS);
		if (room != SIZE_MAX && budget < room) {
			budget = room;
			if (c)
				http_conn_writable(c);
		}
		for (int i = 0; i < 3; i++)
			loop_once();
	}
}

static void test_stream_from_task(void **state)
{
	(void)state;
	setup();
	struct http_conn *c = http_conn_open(&srv, &ops, NULL);
	assert_non_null(c);
	const char *req = "GET /ticks HTTP/1.1\r\nHost: a\r\n\r\n";
	budget = 0;                       /* full from the start */
	assert_int_equal(http_conn_input(c, (const uint8_t *)req, strlen(req)), strlen(req));
	advance(c, 1000 * NS_PER_MS, 40);   /* 40 bytes a millisecond */
	assert_int_equal(task_result, K_OK);
	assert_true(full_waits > 0);        /* the task did wait for room */
	assert_int_equal(lines_written, LINES);
	out[out_len] = 0;
	assert_non_null(strstr(out, "HTTP/1.1 200 "));
	assert_non_null(strstr(out, "\r\nTransfer-Encoding: chunked\r\n"));
	/* de-chunk and check every line, in order */
	char *p = strstr(out, "\r\n\r\n") + 4, body[32768];
	size_t blen = 0;
	for (;;) {
		char *end;
		unsigned long sz = strtoul(p, &end, 16);
		assert_true(end[0] == '\r' && end[1] == '\n');
		p = end + 2;
		if (!sz)
			break;
		assert_true(blen + sz < sizeof body);
		memcpy(body + blen, p, sz);
		blen += sz;
		p += sz;
		assert_true(p[0] == '\r' && p[1] == '\n');
		p += 2;
	}
	assert_int_equal((size_t)(p + 2 - out), out_len);   /* the last chunk's CRLF ends it */
	body[blen] = 0;
	char *l = body;
	for (int i = 1; i <= LINES; i++) {
		char want[32];
		snprintf(want, sizeof want, "tick %d ", i);
		assert_memory_equal(l, want, strlen(want));
		l = strchr(l, '\n') + 1;
	}
	assert_int_equal(*l, 0);
	http_conn_closed(c);
	assert_int_equal(srv.active, 0);
	struct task_stats ts;
	task_get_stats(&ts);
	assert_int_equal(ts.live, 0);
}

static void test_closed_mid_stream(void **state)
{
	(void)state;
	setup();
	struct http_conn *c = http_conn_open(&srv, &ops, NULL);
	const char *req = "GET /ticks HTTP/1.1\r\nHost: a\r\n\r\n";
	assert_int_equal(http_conn_input(c, (const uint8_t *)req, strlen(req)), strlen(req));
	advance(c, 35 * NS_PER_MS, SIZE_MAX);
	assert_true(lines_written >= 2 && lines_written < LINES);
	http_conn_closed(c);                   /* the peer went away */
	advance(NULL, 30 * NS_PER_MS, SIZE_MAX);
	assert_int_equal(task_result, K_ECLOSED);
	assert_int_equal(srv.active, 0);
	struct task_stats ts;
	task_get_stats(&ts);
	assert_int_equal(ts.live, 0);
}

int main(void)
{
	log_set_level(LOG_WARN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stream_from_task),
		cmocka_unit_test(test_closed_mid_stream),
	};
	return cmocka_run_group_tests_name("http_task", tests, NULL, NULL);
}
