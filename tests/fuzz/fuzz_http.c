/*
 * fuzz_http.c - libFuzzer target for the HTTP/1.1 engine (proto/http).
 *
 * The input is a byte stream fed to one server connection in splits
 * chosen by a PRNG seeded from the input, interleaved with clock steps,
 * timer ticks, transport back-pressure (a write budget) and late answers
 * to deferred requests. The route table has a fixed answer, an echo of
 * the body, a ranged asset with an ETag, a lent body, a chunked stream
 * and a deferred route. Afterwards every byte the server wrote must be a
 * sequence of well-formed HTTP/1.1 responses: status line "HTTP/1.1 NNN
 * reason", header lines, then a body framed by Content-Length, chunked
 * coding, or nothing for HEAD/1xx/204/304 (known from the request log).
 * Any crash, sanitizer report or malformed output aborts.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>

#include <kiln/err.h>
#include <kiln/http.h>
#include <kiln/time.h>

#include "hosted.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond))                                                    \
			fuzz_fail(__LINE__, #cond);                             \
	} while (0)

static void fuzz_dump(void);

static void fuzz_fail(int line, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, "fuzz_http.c:%d: check failed: %s", line, what);
	if (getenv("FUZZ_HTTP_DUMP"))
		fuzz_dump();
	__sanitizer_report_error_summary(msg);
	abort();
}

static struct {
	uint8_t out[1 << 20];
	size_t len;
	size_t budget;
	bool closed, gone;
} fk;

/* FUZZ_HTTP_DUMP=1 prints the output of a failing input (for debugging). */
static void fuzz_dump(void)
{
	fwrite(fk.out, 1, fk.len, stderr);
}

static int f_copy(void *ctx, const void *d, size_t n)
{
	(void)ctx;
	CHECK(!fk.closed);
	if (n > fk.budget)
		n = fk.budget;
	if (n > sizeof fk.out - fk.len)
		n = sizeof fk.out - fk.len;
	memcpy(fk.out + fk.len, d, n);
	fk.len += n;
	fk.budget -= n;
	return (int)n;
}

static int f_lend(void *ctx, const void *d, size_t n, void (*done)(void *), void *arg)
{
	(void)ctx;
	CHECK(!fk.closed);
	if (n > fk.budget || n > sizeof fk.out - fk.len)
		return K_EAGAIN;
	memcpy(fk.out + fk.len, d, n);
	fk.len += n;
	fk.budget -= n;
	if (done)
		done(arg);
	return K_OK;
}

static void f_shutdown(void *ctx) { (void)ctx; CHECK(!fk.closed); }
static void f_close(void *ctx) { (void)ctx; CHECK(!fk.closed); fk.closed = true; }
static void f_resume(void *ctx) { (void)ctx; }

static const struct http_transport_ops ops = {
	.write_copy = f_copy, .write_borrowed = f_lend, .shutdown = f_shutdown,
	.close = f_close, .resume_read = f_resume,
};

#define NLOG 4096
static bool log_head[NLOG];
static int log_status[NLOG];
static size_t nlog;
static struct http_req *deferred;
static char asset[3000];

static void on_log(void *arg, const struct http_log *l)
{
	(void)arg;
	if (nlog < NLOG) {
		log_head[nlog] = l->method == HTTP_M_HEAD;
		log_status[nlog] = l->status;
	}
	nlog++;
}

static int h_fixed(struct http_req *req, void *arg)
{
	(void)arg;
	return http_respond(req, 200, "text/plain", "ok\n", 3);
}

static int h_echo(struct http_req *req, void *arg)
{
	(void)arg;
	if (req->body_len)
		CHECK(req->body != NULL);
	size_t n = req->body_len < 1000 ? req->body_len : 1000;
	http_resp_header(req, "X-Len", "1");
	return http_send(req, 200, NULL, req->body, n, HTTP_SEND_COPY);
}

static int h_asset(struct http_req *req, void *arg)
{
	(void)arg;
	http_resp_etag(req, "\"a1\"");
	bool gz = http_accepts_encoding(req, "gzip");
	http_resp_header(req, "Vary", gz ? "Accept-Encoding" : "x");
	return http_send(req, 200, "text/html", asset, sizeof asset, HTTP_SEND_RANGES);
}

static int h_stream(struct http_req *req, void *arg)
{
	(void)arg;
	if (http_stream_begin(req, 200, "text/plain") != K_OK)
		return K_OK;
	http_stream_write(req, asset, 100);
	http_stream_write(req, asset, 2000);
	return http_stream_end(req) == K_OK ? K_OK : HTTP_DEFER;
}

static int h_defer(struct http_req *req, void *arg)
{
	(void)arg;
	deferred = req;
	return HTTP_DEFER;
}

/* Walks the output: every response well formed, as many as logged. */
static void check_output(void)
{
	const uint8_t *s = fk.out, *e = fk.out + fk.len;
	size_t idx = 0;
	while (s < e) {
		CHECK(e - s >= 13);
		CHECK(memcmp(s, "HTTP/1.1 ", 9) == 0);
		CHECK(s[9] >= '1' && s[9] <= '5' && s[10] >= '0' && s[10] <= '9' &&
		      s[11] >= '0' && s[11] <= '9' && s[12] == ' ');
		int status = (s[9] - '0') * 100 + (s[10] - '0') * 10 + (s[11] - '0');
		const uint8_t *hend = memmem(s, (size_t)(e - s), "\r\n\r\n", 4);
		CHECK(hend != NULL);
		const uint8_t *line = memchr(s, '\n', (size_t)(hend + 2 - s));
		CHECK(line && line[-1] == '\r');
		for (const uint8_t *p = s; p < hend; p++)
			CHECK(*p != 0 && (*p != '\n' || p[-1] == '\r'));
		size_t hl = (size_t)(hend + 4 - s);
		char head[4096];
		CHECK(hl < sizeof head);
		memcpy(head, s, hl);
		head[hl] = 0;
		s = hend + 4;
		if (status == 100)
			continue;               /* interim: no body, not logged */
		CHECK(idx < nlog);
		if (idx < NLOG) {
			CHECK(log_status[idx] == status);
		}
		bool head_req = idx < NLOG && log_head[idx];
		idx++;
		if (head_req || status == 204 || status == 304)
			continue;
		const char *cl = strstr(head, "\r\nContent-Length: ");
		if (strstr(head, "\r\nTransfer-Encoding: chunked\r\n")) {
			for (;;) {
				char *end;
				CHECK(s < e);
				unsigned long n = strtoul((const char *)s, &end, 16);
				CHECK((const uint8_t *)end < e && end[0] == '\r' && end[1] == '\n');
				s = (const uint8_t *)end + 2;
				if (n == 0) {
					CHECK(e - s >= 2 && s[0] == '\r' && s[1] == '\n');
					s += 2;
					break;
				}
				CHECK((size_t)(e - s) >= n + 2);
				s += n;
				CHECK(s[0] == '\r' && s[1] == '\n');
				s += 2;
			}
		} else if (cl) {
			size_t n = (size_t)strtoull(cl + 18, NULL, 10);
			CHECK((size_t)(e - s) >= n);
			s += n;
		} else {
			s = e;                  /* close-delimited (HTTP/1.0 stream) */
		}
	}
}

static uint64_t rng;
static uint32_t next_rand(void)
{
	rng = rng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(rng >> 33);
}

/* Large bodies go to malloc, within a budget the server keeps. */
static size_t body_held;

static void *body_alloc(void *ctx, size_t n)
{
	(void)ctx;
	body_held += n;
	return malloc(n);
}

static void body_free(void *ctx, void *p, size_t n)
{
	(void)ctx;
	CHECK(body_held >= n);
	body_held -= n;
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_conn conns[2];
	static struct http_server srv;
	struct http_server_config cfg;

	memset(&fk, 0, sizeof fk);
	fk.budget = SIZE_MAX;
	nlog = 0;
	deferred = NULL;
	for (size_t i = 0; i < sizeof asset; i++)
		asset[i] = (char)('a' + i % 26);
	hosted_clock_virtual(5 * NS_PER_SEC);
	http_server_config_default(&cfg);
	cfg.limits.max_head = 2048;
	cfg.limits.max_request_line = 512;
	cfg.limits.max_headers = 16;
	cfg.limits.max_body = 40000;
	cfg.body_store = (struct http_body_store){ body_alloc, body_free, NULL };
	cfg.body_mem_max = 50000;
	cfg.limits.max_requests = 50;
	cfg.on_request = on_log;
	CHECK(http_server_init(&srv, &cfg, conns, 2) == K_OK);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/", 0, h_fixed, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET) | HTTP_MBIT(HTTP_M_POST), "/e", 0, h_echo, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/s/", HTTP_ROUTE_PREFIX, h_asset, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/c", 0, h_stream, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/d", 0, h_defer, NULL);

	rng = size;
	for (size_t i = 0; i < size && i < 16; i++)
		rng = rng * 131 + data[i];
	struct http_conn *c = http_conn_open(&srv, &ops, NULL);
	CHECK(c != NULL);

	size_t off = 0;
	unsigned steps = 0;
	while (!fk.closed && steps++ < 100000) {
		uint32_t r = next_rand();
		switch (r % 8) {
		case 0:
			hosted_clock_advance((uint64_t)(r >> 8) % (3 * NS_PER_SEC));
			http_server_tick(&srv, time_now_ns());
			break;
		case 1:
			fk.budget = (r >> 8) % 2 ? SIZE_MAX : (r >> 9) % 3000;
			http_conn_writable(c);
			break;
		case 2:
			if (deferred) {
				struct http_req *d = deferred;
				deferred = NULL;
				http_respond(d, 200, "text/plain", "late", 4);
			}
			break;
		default: {
			if (off >= size) {
				if (!deferred) {
					fk.budget = SIZE_MAX;
					http_conn_writable(c);
					http_conn_eof(c);
				}
				break;
			}
			size_t n = 1 + (r >> 8) % (r % 2 ? 8 : 600);
			if (n > size - off)
				n = size - off;
			/* a fresh copy of exactly n bytes so ASan sees overreads */
			uint8_t *view = malloc(n);
			CHECK(view);
			memcpy(view, data + off, n);
			size_t used = http_conn_input(c, view, n);
			free(view);
			CHECK(used <= n);
			off += used;
			break;
		}
		}
		if (off >= size && !deferred && fk.closed)
			break;
	}
	if (!fk.closed) {
		if (deferred)
			http_respond(deferred, 200, NULL, "x", 1);
		fk.budget = SIZE_MAX;
		http_conn_writable(c);
		if (!fk.closed)
			http_conn_closed(c);
	}
	check_output();
	CHECK(srv.active == 0);
	CHECK(body_held == 0 && srv.body_mem == 0);
	return 0;
}
