/*
 * test_http.c - the HTTP/1.1 engine (proto/http) through an in-memory
 * fake transport, on the hosted virtual clock.
 *
 * The fake records every byte the server writes (copied or lent), can
 * refuse writes past a budget (back-pressure) and counts shutdown, close,
 * pause and resume calls. Responses are read back with a small
 * independent response parser (status, header lines, Content-Length,
 * chunked and close-delimited bodies).
 */
#define _GNU_SOURCE
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
#include <kiln/time.h>

#include "hosted.h"
#include "proto/http/http_priv.h"

/* ---- fake transport ------------------------------------------------------ */

struct fake {
	char out[1 << 20];
	size_t out_len;
	size_t budget;          /* bytes writable before "full" */
	unsigned writes, lent, shutdowns, closes, pauses, resumes;
	unsigned lent_done;
};

static int fake_write_copy(void *ctx, const void *data, size_t len)
{
	struct fake *f = ctx;
	size_t n = len < f->budget ? len : f->budget;
	assert_true(f->out_len + n <= sizeof f->out);
	memcpy(f->out + f->out_len, data, n);
	f->out_len += n;
	f->budget -= n;
	f->writes++;
	return (int)n;
}

static int fake_write_borrowed(void *ctx, const void *data, size_t len, void (*done)(void *),
			       void *arg)
{
	struct fake *f = ctx;
	if (f->budget < len)
		return K_EAGAIN;
	memcpy(f->out + f->out_len, data, len);
	f->out_len += len;
	f->budget -= len;
	f->lent++;
	if (done)
		done(arg);
	return K_OK;
}

static void fake_shutdown(void *ctx) { ((struct fake *)ctx)->shutdowns++; }
static void fake_close(void *ctx) { ((struct fake *)ctx)->closes++; }
static void fake_pause(void *ctx) { ((struct fake *)ctx)->pauses++; }
static void fake_resume(void *ctx) { ((struct fake *)ctx)->resumes++; }

static const struct http_transport_ops fake_ops = {
	.write_copy = fake_write_copy,
	.write_borrowed = fake_write_borrowed,
	.shutdown = fake_shutdown,
	.close = fake_close,
	.pause_read = fake_pause,
	.resume_read = fake_resume,
};

/* ---- response reader ----------------------------------------------------- */

struct resp {
	int status;
	char head[4096];
	char body[8192];
	size_t body_len;
	bool chunked;
};

/* Parses one response from s[0..n); head: the request was HEAD.
 * Returns the bytes used, 0 when incomplete or malformed. */
static size_t resp_parse(const char *s, size_t n, bool head, struct resp *r)
{
	memset(r, 0, sizeof *r);
	const char *e = memmem(s, n, "\r\n\r\n", 4);
	if (!e || n < 12 || memcmp(s, "HTTP/1.1 ", 9) != 0)
		return 0;
	size_t hl = (size_t)(e - s) + 4;
	if (hl >= sizeof r->head)
		return 0;
	memcpy(r->head, s, hl);
	r->status = atoi(s + 9);
	const char *p = s + hl;
	size_t left = n - hl;
	if (head || r->status < 200 || r->status == 204 || r->status == 304)
		return hl;
	const char *cl = strstr(r->head, "\r\nContent-Length: ");
	if (strstr(r->head, "\r\nTransfer-Encoding: chunked\r\n")) {
		r->chunked = true;
		const char *q = p, *qe = p + left;
		for (;;) {
			char *end;
			unsigned long sz = strtoul(q, &end, 16);
			const char *lf = memmem(end, (size_t)(qe - end), "\r\n", 2);
			if (!lf)
				return 0;
			q = lf + 2;
			if (sz == 0) {
				if (qe - q < 2 || memcmp(q, "\r\n", 2))
					return 0;
				return (size_t)(q + 2 - s);
			}
			if ((size_t)(qe - q) < sz + 2)
				return 0;
			memcpy(r->body + r->body_len, q, sz);
			r->body_len += sz;
			q += sz + 2;
		}
	}
	size_t bl = cl ? (size_t)atol(cl + 18) : left;
	if (bl > left || bl > sizeof r->body)
		return 0;
	memcpy(r->body, p, bl);
	r->body_len = bl;
	return hl + bl;
}

static bool has_header(const struct resp *r, const char *line)
{
	char want[512];
	snprintf(want, sizeof want, "\r\n%s\r\n", line);
	return strstr(r->head, want) != NULL;
}

/* ---- the server under test ------------------------------------------------- */

#define NCONNS 4
static struct http_conn conns[NCONNS];
static struct http_server srv;
static struct fake fk;
static char big[4000];
static char asset[2000];
static struct http_req *deferred_req;
static const uint8_t *seen_path;
static struct http_log last_log;
static unsigned nlogs;

static int h_health(struct http_req *req, void *arg)
{
	(void)arg;
	seen_path = (const uint8_t *)req->path;
	return http_respond(req, 200, "text/plain", "ok\n", 3);
}

static int h_echo(struct http_req *req, void *arg)
{
	(void)arg;
	char copy[64];
	size_t n = req->body_len < sizeof copy ? req->body_len : sizeof copy;
	if (n)
		memcpy(copy, req->body, n);
	return http_send(req, 200, "application/octet-stream", copy, n, HTTP_SEND_COPY);
}

static int h_big(struct http_req *req, void *arg)
{
	(void)arg;
	return http_respond(req, 200, "text/plain", big, sizeof big);
}

static int h_asset(struct http_req *req, void *arg)
{
	(void)arg;
	http_resp_header(req, "Cache-Control", "max-age=60");
	http_resp_etag(req, "\"v1\"");
	return http_send(req, 200, "text/html", asset, sizeof asset, HTTP_SEND_RANGES);
}

static int h_defer(struct http_req *req, void *arg)
{
	(void)arg;
	deferred_req = req;
	return HTTP_DEFER;
}

static int h_stream(struct http_req *req, void *arg)
{
	(void)arg;
	assert_int_equal(http_stream_begin(req, 200, "text/plain"), K_OK);
	assert_int_equal(http_stream_write(req, "hello ", 6), 6);
	assert_int_equal(http_stream_write(req, "world", 5), 5);
	return http_stream_end(req);
}

static int h_forget(struct http_req *req, void *arg)
{
	(void)req;
	(void)arg;
	return K_OK;            /* answers nothing: the server sends 500 */
}

static int h_post(struct http_req *req, void *arg)
{
	(void)arg;
	return http_respond(req, 201, NULL, NULL, 0);
}

static int h_prefix(struct http_req *req, void *arg)
{
	return http_respond(req, 200, "text/plain", arg, strlen(arg));
}

static void on_log(void *arg, const struct http_log *log)
{
	(void)arg;
	last_log = *log;
	nlogs++;
}

static void server_setup(const struct http_limits *lim)
{
	struct http_server_config cfg;
	http_server_config_default(&cfg);
	if (lim)
		cfg.limits = *lim;
	cfg.on_request = on_log;
	hosted_clock_virtual(1000 * NS_PER_SEC);
	assert_int_equal(http_server_init(&srv, &cfg, conns, NCONNS), K_OK);
	assert_int_equal(http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/health", 0, h_health, NULL), K_OK);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET) | HTTP_MBIT(HTTP_M_POST), "/echo", 0, h_echo, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/big", 0, h_big, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/static/", HTTP_ROUTE_PREFIX, h_asset, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/defer", 0, h_defer, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/stream", 0, h_stream, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/forget", 0, h_forget, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_POST) | HTTP_MBIT(HTTP_M_PUT), "/post", 0, h_post, NULL);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/a/", HTTP_ROUTE_PREFIX, h_prefix, "short");
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/a/b/", HTTP_ROUTE_PREFIX, h_prefix, "long");
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/a/b/exact", 0, h_prefix, "exact");
	memset(&fk, 0, sizeof fk);
	fk.budget = SIZE_MAX;
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < sizeof asset; i++)
		asset[i] = (char)('A' + i % 26);
	deferred_req = NULL;
	nlogs = 0;
}

static int setup(void **state)
{
	(void)state;
	server_setup(NULL);
	return 0;
}

static struct http_conn *open_conn(void)
{
	struct http_conn *c = http_conn_open(&srv, &fake_ops, &fk);
	assert_non_null(c);
	return c;
}

static size_t feed(struct http_conn *c, const char *s)
{
	return http_conn_input(c, (const uint8_t *)s, strlen(s));
}

/* One request on a fresh connection; its single response in *r. */
static void exchange(const char *req, bool head, struct resp *r)
{
	struct http_conn *c = open_conn();
	size_t used = feed(c, req);
	assert_int_equal(used, strlen(req));
	size_t n = resp_parse(fk.out, fk.out_len, head, r);
	if (!n)
		fail_msg("no response to [%s]: [%.*s]", req, (int)fk.out_len, fk.out);
	http_conn_closed(c);
	fk.out_len = 0;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_get_health(void **state)
{
	(void)state;
	struct resp r;
	struct http_conn *c = open_conn();
	const char *req = "GET /health HTTP/1.1\r\nHost: kiln\r\nUser-Agent: t\r\n\r\n";
	assert_int_equal(feed(c, req), strlen(req));
	assert_int_equal(resp_parse(fk.out, fk.out_len, false, &r), fk.out_len);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 3);
	assert_memory_equal(r.body, "ok\n", 3);
	assert_true(has_header(&r, "Content-Length: 3"));
	assert_true(has_header(&r, "Content-Type: text/plain"));
	assert_true(has_header(&r, "Server: Kiln"));
	/* virtual wall clock: 1700000000 s + 1000 s */
	assert_true(has_header(&r, "Date: Tue, 14 Nov 2023 22:30:00 GMT"));
	assert_null(strstr(r.head, "Connection:"));
	/* zero copy: the handler saw the path inside the input bytes */
	assert_ptr_equal(seen_path, (const uint8_t *)req + 4);
	assert_int_equal(nlogs, 1);
	assert_int_equal(last_log.status, 200);
	assert_int_equal(last_log.method, HTTP_M_GET);
	assert_int_equal(last_log.path_len, 7);
	assert_memory_equal(last_log.path, "/health", 7);
	assert_int_equal(last_log.bytes, 3);
	assert_int_equal(fk.closes + fk.shutdowns, 0);
	http_conn_closed(c);
	assert_int_equal(srv.active, 0);
}

static void test_date_format(void **state)
{
	(void)state;
	char d[30] = { 0 };
	http_date_format(0, d);
	assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_date_format(784111777, d);
	assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_date_format(951782400, d);     /* leap day */
	assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 GMT");
	http_date_format(4102444799ull, d);
	assert_string_equal(d, "Thu, 31 Dec 2099 23:59:59 GMT");
}

struct bad_case {
	const char *req;
	int status;
};

static void test_errors(void **state)
{
	(void)state;
	char long_line[9000], many[8000], big_head[16000];
	snprintf(long_line, sizeof long_line, "GET /%08190d HTTP/1.1\r\nHost: a\r\n\r\n", 0);
	size_t n = (size_t)sprintf(many, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 70; i++)
		n += (size_t)sprintf(many + n, "X-%d: v\r\n", i);
	strcpy(many + n, "\r\n");
	n = (size_t)sprintf(big_head, "GET / HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < 30; i++)
		n += (size_t)sprintf(big_head + n, "X-%d: %0400d\r\n", i, 0);
	strcpy(big_head + n, "\r\n");

	const struct bad_case cases[] = {
		{ "GET /health HTTP/1.1\r\n\r\n", 400 },                      /* no Host */
		{ "GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a b\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a/b\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },           /* CL + TE */
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Content-Length: 3\r\n\r\n0\r\n\r\n", 400 },                    /* TE + CL */
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		  "Content-Length: 5\r\n\r\nhello", 400 },                        /* repeated */
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
		  "Content-Length: 6\r\n\r\nhello!", 400 },                       /* differing */
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\nhello", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\nhello", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", 501 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400 },  /* obs-fold */
		{ "GET /health HTTP/1.1\r\n Host: a\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\rHost: a\r\n\r\n", 400 },               /* bare CR */
		{ "GET /health HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost : a\r\n\r\n", 400 },            /* space before colon */
		{ "GET /health HTTP/1.1\r\nHost\t: a\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a\r\nX: a\001b\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a\r\nX(: a\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1\r\nHost: a\r\n: a\r\n\r\n", 400 },
		{ "G@T /health HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET  /health HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /health  HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /health HTTP/1.1 \r\nHost: a\r\n\r\n", 400 },
		{ "GET /he\x80lth HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /health http/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /health HTTP/1\r\nHost: a\r\n\r\n", 400 },
		{ "GET /health HTTP/2.0\r\nHost: a\r\n\r\n", 505 },
		{ "GET /health HTTP/0.9\r\nHost: a\r\n\r\n", 505 },
		{ "GET health HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n", 501 },
		{ "get /health HTTP/1.1\r\nHost: a\r\n\r\n", 501 },               /* case-sensitive */
		{ "GET /health HTTP/1.1\r\nHost: a\r\nExpect: teapot\r\n\r\n", 417 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999\r\n\r\n", 413 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n", 413 },
		{ long_line, 414 },
		{ many, 431 },
		{ big_head, 431 },
		{ "GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n", 404 },
		{ "GET /forget HTTP/1.1\r\nHost: a\r\n\r\n", 500 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "4\r\nWikiX\r\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "4\rWiki\r\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "0\r\n bad\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "0\r\nX : y\r\n\r\n", 400 },
		/* chunked framing needs CRLF (RFC 9112 7.1): a lone LF after the
		 * size, after the data, in a trailer or at the end is a desync */
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1\nX\r\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1\r\nX\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1\r\nX\r\n0\r\nT: v\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1\r\nX\r\n0\r\n\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1;e=v\nX\r\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1\rX\r\n0\r\n\r\n", 400 },
		/* an extension starts with ';' (after optional whitespace, 7.1.1) */
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1 x\r\nX\r\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1 \r\nX\r\n0\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "1x\r\nX\r\n0\r\n\r\n", 400 },
		/* absolute-form with no host, or with userinfo */
		{ "GET http:///health HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "GET http://u@a/health HTTP/1.1\r\nHost: a\r\n\r\n", 400 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "ffffffffffffffffff\r\n", 413 },
		{ "POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		  "5000\r\n", 413 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct resp r;
		unsigned sd = fk.shutdowns;
		exchange(cases[i].req, false, &r);
		if (r.status != cases[i].status)
			fail_msg("case %zu: got %d want %d: [%.60s]", i, r.status, cases[i].status,
				 cases[i].req);
		bool keeps = r.status == 404 || r.status == 500 || r.status == 501 || r.status == 405;
		if (!keeps) {
			assert_true(has_header(&r, "Connection: close"));
			assert_int_equal(fk.shutdowns, sd + 1);
		}
		assert_int_equal(r.body_len, strlen(http_status_reason(r.status)) + 1);
	}
	assert_int_equal(srv.active, 0);
}

static void test_good_variants(void **state)
{
	(void)state;
	struct resp r;
	/* LF-only line ends, OWS around values, leading empty lines, 1.x > 1 */
	exchange("\r\n\nGET /health HTTP/1.1\nHost:a\n\n", false, &r);
	assert_int_equal(r.status, 200);
	exchange("GET /health HTTP/1.2\r\nHost: \t a \t\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	exchange("GET http://example.com/health?x=1 HTTP/1.1\r\nHost: example.com\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	exchange("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "2 \t; a=b ;c\r\nhi\r\n0\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 2);
	exchange("GET /health?q=%20 HTTP/1.1\r\nHost: [::1]:80\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	exchange("GET /health HTTP/1.1\r\nHost:\r\nX-Opaque: \xff\xfe\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	exchange("GET /health HTTP/1.0\r\n\r\n", false, &r);    /* no Host needed */
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Connection: close"));
	exchange("POST /post HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", false, &r);
	assert_int_equal(r.status, 201);
	assert_true(has_header(&r, "Content-Length: 0"));
}

static void test_request_view(void **state)
{
	(void)state;
	struct http_parser p;
	static uint8_t buf[HTTP_CONN_BUF];
	static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
	const char *req = "GET /p/a?x=1&y HTTP/1.1\r\nHost: h:1\r\nX-A:  one two  \r\n"
			  "accept-encoding: br;q=1, GZIP;q=0.5\r\n\r\n";
	size_t used;
	http_parse_init(&p, &lim, buf, NULL);
	assert_int_equal(http_parse_feed(&p, (const uint8_t *)req, strlen(req), &used),
			 HTTP_PARSE_REQUEST);
	assert_int_equal(used, strlen(req));
	struct http_req *r = &p.req;
	assert_int_equal(r->method, HTTP_M_GET);
	assert_int_equal(r->path_len, 4);
	assert_memory_equal(r->path, "/p/a", 4);
	assert_int_equal(r->query_len, 5);
	assert_memory_equal(r->query, "x=1&y", 5);
	assert_int_equal(r->host_len, 3);
	assert_int_equal(r->nheaders, 3);
	size_t vl;
	const char *v = http_header_get(r, "x-a", &vl);
	assert_non_null(v);
	assert_int_equal(vl, 7);
	assert_memory_equal(v, "one two", 7);
	assert_null(http_header_get(r, "x-b", &vl));
	assert_true(http_accepts_encoding(r, "gzip"));
	assert_true(http_accepts_encoding(r, "br"));
	assert_false(http_accepts_encoding(r, "zstd"));
	assert_true(r->keep_alive);
	assert_ptr_equal(r->path, req + 4);
}

/* Limits seen through the parser fed as TCP would, a segment at a time. */
static void test_head_limits_split(void **state)
{
	(void)state;
	static struct http_parser p;
	static uint8_t buf[HTTP_CONN_BUF];
	static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
	static char line[65536 + 64];
	size_t used;

	/* a 64 KiB request line in 1448-byte pieces: 414, not 431 */
	memset(line, 'a', sizeof line);
	memcpy(line, "GET /", 5);
	enum http_parse_event ev = HTTP_PARSE_MORE;
	http_parse_init(&p, &lim, buf, NULL);
	for (size_t off = 0; off < 65536 && ev == HTTP_PARSE_MORE; off += 1448)
		ev = http_parse_feed(&p, (const uint8_t *)line + off, 1448, &used);
	assert_int_equal(ev, HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 414);

	/* many long fields in pieces: 431 */
	size_t n = (size_t)sprintf(line, "GET / HTTP/1.1\r\nHost: a\r\n");
	while (n < 20000)
		n += (size_t)sprintf(line + n, "X-Long: %0200d\r\n", 0);
	ev = HTTP_PARSE_MORE;
	http_parse_init(&p, &lim, buf, NULL);
	for (size_t off = 0; off < n && ev == HTTP_PARSE_MORE; off += 1448)
		ev = http_parse_feed(&p, (const uint8_t *)line + off, n - off < 1448 ? n - off : 1448,
				     &used);
	assert_int_equal(ev, HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 431);

	/* absolute-form: its authority replaces Host (RFC 9112 3.2.2) */
	const char *req = "GET http://real.example:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n";
	http_parse_init(&p, &lim, buf, NULL);
	assert_int_equal(http_parse_feed(&p, (const uint8_t *)req, strlen(req), &used),
			 HTTP_PARSE_REQUEST);
	assert_int_equal(p.req.host_len, strlen("real.example:8080"));
	assert_memory_equal(p.req.host, "real.example:8080", p.req.host_len);
	assert_int_equal(p.req.path_len, 2);
	assert_memory_equal(p.req.path, "/p", 2);
}

/* A body store over malloc that counts, and can be told to fail. */
struct counting_store {
	size_t held, allocs, frees;
	bool fail;
};

static void *cs_alloc(void *ctx, size_t n)
{
	struct counting_store *s = ctx;
	if (s->fail)
		return NULL;
	s->held += n;
	s->allocs++;
	return malloc(n);
}

static void cs_free(void *ctx, void *p, size_t n)
{
	struct counting_store *s = ctx;
	assert_true(s->held >= n);
	s->held -= n;
	s->frees++;
	free(p);
}

/* Feeds req in pieces of step bytes until the parser reports something
 * other than MORE; returns that. */
static enum http_parse_event feed_steps(struct http_parser *p, const uint8_t *req, size_t len,
					size_t step)
{
	enum http_parse_event ev = HTTP_PARSE_MORE;
	size_t off = 0;
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used;
		ev = http_parse_feed(p, req + off, n, &used);
		off += used;
		if (ev != HTTP_PARSE_MORE)
			break;
		assert_int_equal(used, n);
	}
	return ev;
}

/* Bodies larger than the connection buffer: gathered byte-exact in
 * store memory (by Content-Length, or growing for chunked), given back
 * when the next request starts or on release; 413 without a store or
 * past max_body, 503 when the store is out of memory. */
static void test_large_bodies(void **state)
{
	(void)state;
	static uint8_t buf[HTTP_CONN_BUF];
	static uint8_t req[300000];
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	lim.max_body = 200000;
	struct counting_store cs = { 0 };
	struct http_body_store store = { cs_alloc, cs_free, &cs };
	struct http_parser p;
	const size_t blen = 100000;

	/* Content-Length, arriving in 1448-byte views */
	int h = snprintf((char *)req, 128, "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
			 blen);
	for (size_t i = 0; i < blen; i++)
		req[h + i] = (uint8_t)(i * 7 + (i >> 9));
	http_parse_init(&p, &lim, buf, &store);
	assert_int_equal(feed_steps(&p, req, h + blen, 1448), HTTP_PARSE_REQUEST);
	assert_int_equal(p.req.body_len, blen);
	assert_memory_equal(p.req.body, req + h, blen);
	assert_int_equal(cs.allocs, 1);                 /* sized once, by Content-Length */
	assert_int_equal(cs.held, blen);
	/* the next request gives it back */
	const char *get = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t used;
	assert_int_equal(http_parse_feed(&p, (const uint8_t *)get, strlen(get), &used),
			 HTTP_PARSE_REQUEST);
	assert_int_equal(cs.held, 0);

	/* chunked, 1000-byte chunks, fed 977 bytes at a time: grows */
	size_t n = (size_t)snprintf((char *)req, 128,
				    "POST /u HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
	static uint8_t want[150000];
	for (size_t k = 0; k < 150; k++) {
		n += (size_t)sprintf((char *)req + n, "3e8\r\n");
		for (size_t i = 0; i < 1000; i++)
			req[n++] = want[k * 1000 + i] = (uint8_t)(k + i * 3);
		req[n++] = '\r';
		req[n++] = '\n';
	}
	n += (size_t)sprintf((char *)req + n, "0\r\n\r\n");
	assert_int_equal(feed_steps(&p, req, n, 977), HTTP_PARSE_REQUEST);
	assert_int_equal(p.req.body_len, sizeof want);
	assert_memory_equal(p.req.body, want, sizeof want);
	assert_true(cs.allocs > 2);
	http_parse_release(&p);
	assert_int_equal(cs.held, 0);
	assert_int_equal(cs.allocs, cs.frees);

	/* the store is out of memory: 503, nothing held */
	cs.fail = true;
	h = snprintf((char *)req, 128, "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: %zu\r\n\r\n",
		     blen);
	http_parse_init(&p, &lim, buf, &store);
	assert_int_equal(feed_steps(&p, req, h + blen, 1448), HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 503);
	http_parse_release(&p);
	cs.fail = false;

	/* no store: what does not fit the buffer is 413 */
	http_parse_init(&p, &lim, buf, NULL);
	assert_int_equal(feed_steps(&p, req, h + blen, 1448), HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 413);

	/* past max_body: 413 from the head alone */
	h = snprintf((char *)req, 128, "POST /u HTTP/1.1\r\nHost: a\r\nContent-Length: 200001\r\n\r\n");
	http_parse_init(&p, &lim, buf, &store);
	assert_int_equal(http_parse_feed(&p, req, (size_t)h, &used), HTTP_PARSE_ERROR);
	assert_int_equal(p.status, 413);
	http_parse_release(&p);
	assert_int_equal(cs.held, 0);
	assert_int_equal(cs.allocs, cs.frees);
}

static bool ae(const char *value, const char *coding)
{
	static uint8_t buf[HTTP_CONN_BUF];
	static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
	static struct http_parser p;
	char req[256];
	size_t used;
	snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: a\r\nAccept-Encoding: %s\r\n\r\n", value);
	http_parse_init(&p, &lim, buf, NULL);
	assert_int_equal(http_parse_feed(&p, (const uint8_t *)req, strlen(req), &used),
			 HTTP_PARSE_REQUEST);
	return http_accepts_encoding(&p.req, coding);
}

static void test_accept_encoding(void **state)
{
	(void)state;
	assert_true(ae("gzip", "gzip"));
	assert_true(ae("deflate, gzip", "gzip"));
	assert_true(ae("x-gzip", "gzip"));
	assert_true(ae("*", "gzip"));
	assert_true(ae("gzip;q=0.001", "gzip"));
	assert_true(ae("gzip ; q=1.0", "gzip"));
	assert_false(ae("gzip;q=0", "gzip"));
	assert_false(ae("gzip;q=0.000", "gzip"));
	assert_false(ae("*;q=0", "gzip"));
	assert_false(ae("*, gzip;q=0", "gzip"));
	assert_false(ae("br", "gzip"));
	assert_false(ae("gzipx", "gzip"));
	assert_false(ae("", "gzip"));
}

/* A session of requests covering every body framing, answered in order. */
static const char session[] =
	"GET /health HTTP/1.1\r\nHost: a\r\n\r\n"
	"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello"
	"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	"4\r\nWiki\r\n5;ext=\"1\"\r\npedia\r\n0\r\nTrailer-A: x\r\n\r\n"
	"\r\nGET /static/x HTTP/1.1\r\nHost: a\r\nRange: bytes=10-19\r\n\r\n"
	"HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n"
	"GET /big HTTP/1.1\r\nHost: a\r\n\r\n"
	"GET /stream HTTP/1.1\r\nHost: a\r\n\r\n"
	"GET /nothing HTTP/1.1\r\nHost: a\r\n\r\n"
	"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
	"1\r\nX\r\n0\r\n\r\n"
	"GET /health HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";

static void check_session_output(const char *out, size_t len)
{
	static const struct {
		int status;
		bool head;
		const char *body;
	} want[] = {
		{ 200, false, "ok\n" }, { 200, false, "hello" }, { 200, false, "Wikipedia" },
		{ 206, false, "KLMNOPQRST" }, { 200, true, NULL }, { 200, false, NULL },
		{ 200, false, "hello world" }, { 404, false, "Not Found\n" }, { 200, false, "X" },
		{ 200, false, "ok\n" },
	};
	size_t off = 0;
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		struct resp r;
		size_t n = resp_parse(out + off, len - off, want[i].head, &r);
		if (!n)
			fail_msg("response %zu missing", i);
		assert_int_equal(r.status, want[i].status);
		if (want[i].body) {
			assert_int_equal(r.body_len, strlen(want[i].body));
			assert_memory_equal(r.body, want[i].body, r.body_len);
		}
		off += n;
	}
	assert_int_equal(off, len);
}

/* Feeds session in pieces of the given sizes (cycled); returns output. */
static size_t run_split(const size_t *sizes, size_t nsizes, char *out)
{
	server_setup(NULL);
	struct http_conn *c = open_conn();
	size_t off = 0, len = strlen(session), k = 0;
	while (off < len) {
		size_t n = sizes[k++ % nsizes];
		if (n > len - off)
			n = len - off;
		size_t used = http_conn_input(c, (const uint8_t *)session + off, n);
		assert_int_equal(used, n);
		off += n;
	}
	assert_int_equal(fk.shutdowns, 1);  /* the last request said close */
	memcpy(out, fk.out, fk.out_len);
	size_t n = fk.out_len;
	http_conn_eof(c);
	assert_int_equal(fk.closes, 1);
	assert_int_equal(srv.active, 0);
	return n;
}

static void test_splits(void **state)
{
	(void)state;
	static char ref[1 << 16], got[1 << 16];
	size_t whole = strlen(session);
	size_t ref_len = run_split(&whole, 1, ref);
	check_session_output(ref, ref_len);

	size_t one = 1;
	assert_int_equal(run_split(&one, 1, got), ref_len);
	assert_memory_equal(got, ref, ref_len);

	/* two pieces split at every offset */
	for (size_t k = 1; k < whole; k++) {
		size_t two[2] = { k, whole };
		assert_int_equal(run_split(two, 2, got), ref_len);
		if (memcmp(got, ref, ref_len))
			fail_msg("split at %zu differs", k);
	}
	/* random chunkings */
	srand(1234);
	for (int t = 0; t < 300; t++) {
		size_t sizes[64];
		for (int i = 0; i < 64; i++)
			sizes[i] = 1 + (size_t)rand() % (t % 3 == 0 ? 7 : 200);
		assert_int_equal(run_split(sizes, 64, got), ref_len);
		assert_memory_equal(got, ref, ref_len);
	}
}

static void test_pipelining(void **state)
{
	(void)state;
	static char reqs[100 * 64];
	size_t n = 0;
	for (int i = 0; i < 100; i++)
		n += (size_t)sprintf(reqs + n, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	struct http_conn *c = open_conn();
	assert_int_equal(http_conn_input(c, (const uint8_t *)reqs, n), n);
	size_t off = 0;
	for (int i = 0; i < 100; i++) {
		struct resp r;
		size_t k = resp_parse(fk.out + off, fk.out_len - off, false, &r);
		assert_true(k > 0);
		assert_int_equal(r.status, 200);
		off += k;
	}
	assert_int_equal(off, fk.out_len);
	assert_true(fk.writes < 20);        /* batched, not one write each */
	assert_int_equal(srv.stats.pipelined_max, 100);
	http_conn_closed(c);
}

static void test_deferred_in_order(void **state)
{
	(void)state;
	const char *two = "GET /defer HTTP/1.1\r\nHost: a\r\n\r\nGET /health HTTP/1.1\r\nHost: a\r\n\r\n";
	size_t first = strlen("GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	struct http_conn *c = open_conn();
	size_t used = feed(c, two);
	assert_int_equal(used, first);          /* the second waits */
	assert_int_equal(fk.out_len, 0);
	assert_int_equal(fk.pauses, 1);
	assert_non_null(deferred_req);
	/* the app's turn: bounded by the response timeout */
	assert_int_equal(http_conn_deadline(c), time_now_ns() + srv.cfg.limits.response_timeout_ns);
	/* the app answers later, from a task */
	assert_int_equal(http_respond(deferred_req, 200, "text/plain", "late\n", 5), K_OK);
	assert_int_equal(fk.resumes, 1);
	assert_int_equal(nlogs, 1);
	assert_memory_equal(last_log.path, "/defer", 6);
	struct resp r;
	size_t k = resp_parse(fk.out, fk.out_len, false, &r);
	assert_memory_equal(r.body, "late\n", 5);
	/* the transport offers the held request again */
	assert_int_equal(feed(c, two + first), strlen(two) - first);
	resp_parse(fk.out + k, fk.out_len - k, false, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "ok\n", 3);
	/* a deferred request whose connection dies: the app's call ends it */
	fk.out_len = 0;
	feed(c, "GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	http_conn_closed(c);
	assert_int_equal(srv.active, 1);        /* kept for the app */
	assert_int_equal(http_respond(deferred_req, 200, NULL, "x", 1), K_ECLOSED);
	assert_int_equal(srv.active, 0);
	assert_int_equal(fk.out_len, 0);
}

static void test_head(void **state)
{
	(void)state;
	struct resp r;
	exchange("HEAD /health HTTP/1.1\r\nHost: a\r\n\r\n", true, &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(&r, "Content-Length: 3"));
	/* HEAD of a lent body sends nothing but the head */
	struct http_conn *c = open_conn();
	feed(c, "HEAD /big HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(resp_parse(fk.out, fk.out_len, true, &r), fk.out_len);
	assert_true(has_header(&r, "Content-Length: 4000"));
	assert_int_equal(fk.lent, 0);
	http_conn_closed(c);
}

static void test_big_body_is_lent(void **state)
{
	(void)state;
	struct resp r;
	struct http_conn *c = open_conn();
	feed(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(fk.lent, 1);
	assert_int_equal(resp_parse(fk.out, fk.out_len, false, &r), fk.out_len);
	assert_int_equal(r.body_len, 4000);
	assert_memory_equal(r.body, big, 4000);
	http_conn_closed(c);
}

static void test_conditional(void **state)
{
	(void)state;
	struct resp r;
	exchange("GET /static/i HTTP/1.1\r\nHost: a\r\nIf-None-Match: W/\"x\", W/\"v1\"\r\n\r\n",
		 false, &r);
	assert_int_equal(r.status, 304);
	assert_true(has_header(&r, "ETag: \"v1\""));
	assert_true(has_header(&r, "Cache-Control: max-age=60"));
	assert_null(strstr(r.head, "Content-Length"));
	assert_int_equal(fk.out_len, 0);
	exchange("GET /static/i HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v1\"\r\n\r\n", false, &r);
	assert_int_equal(r.status, 304);
	exchange("HEAD /static/i HTTP/1.1\r\nHost: a\r\nIf-None-Match: *\r\n\r\n", true, &r);
	assert_int_equal(r.status, 304);
	exchange("GET /static/i HTTP/1.1\r\nHost: a\r\nIf-None-Match: \"v2\"\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, sizeof asset);
	assert_true(has_header(&r, "ETag: \"v1\""));
	assert_true(has_header(&r, "Accept-Ranges: bytes"));
	exchange("GET /static/i HTTP/1.1\r\nHost: a\r\nIf-None-Match: v1\r\n\r\n", false, &r);
	assert_int_equal(r.status, 200);        /* malformed tag: no match */
}

static void test_range(void **state)
{
	(void)state;
	struct resp r;
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=0-9\r\n\r\n", false, &r);
	assert_int_equal(r.status, 206);
	assert_true(has_header(&r, "Content-Range: bytes 0-9/2000"));
	assert_true(has_header(&r, "Content-Length: 10"));
	assert_memory_equal(r.body, asset, 10);
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=-5\r\n\r\n", false, &r);
	assert_int_equal(r.status, 206);
	assert_true(has_header(&r, "Content-Range: bytes 1995-1999/2000"));
	assert_memory_equal(r.body, asset + 1995, 5);
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=1000-\r\n\r\n", false, &r);
	assert_int_equal(r.status, 206);
	assert_int_equal(r.body_len, 1000);
	assert_memory_equal(r.body, asset + 1000, 1000);
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=1990-5000\r\n\r\n", false, &r);
	assert_true(has_header(&r, "Content-Range: bytes 1990-1999/2000"));
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=2000-\r\n\r\n", false, &r);
	assert_int_equal(r.status, 416);
	assert_true(has_header(&r, "Content-Range: bytes */2000"));
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=-0\r\n\r\n", false, &r);
	assert_int_equal(r.status, 416);
	/* served whole: several ranges, bad syntax, other unit, If-Range mismatch, HEAD */
	const char *whole[] = {
		"Range: bytes=0-1,5-6", "Range: bytes=5-1", "Range: bytes=x-", "Range: items=0-1",
		"Range: bytes=0-1\r\nIf-Range: \"v2\"", "Range: bytes=0-1\r\nIf-Range: W/\"v1\"",
		"Range: bytes=0-1\r\nIf-Range: Sun, 06 Nov 1994 08:49:37 GMT",
	};
	for (size_t i = 0; i < sizeof whole / sizeof *whole; i++) {
		char req[256];
		snprintf(req, sizeof req, "GET /static/r HTTP/1.1\r\nHost: a\r\n%s\r\n\r\n", whole[i]);
		exchange(req, false, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(r.body_len, 2000);
	}
	exchange("GET /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\nIf-Range: \"v1\"\r\n\r\n",
		 false, &r);
	assert_int_equal(r.status, 206);
	exchange("HEAD /static/r HTTP/1.1\r\nHost: a\r\nRange: bytes=0-1\r\n\r\n", true, &r);
	assert_int_equal(r.status, 200);
}

static void test_keepalive(void **state)
{
	(void)state;
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	lim.max_requests = 3;
	server_setup(&lim);
	struct resp r;
	struct http_conn *c = open_conn();
	for (int i = 0; i < 3; i++) {
		fk.out_len = 0;
		feed(c, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
		resp_parse(fk.out, fk.out_len, false, &r);
		assert_int_equal(r.status, 200);
		assert_int_equal(has_header(&r, "Connection: close"), i == 2);
	}
	assert_int_equal(fk.shutdowns, 1);
	/* lingering: input is read and dropped, then EOF closes */
	fk.out_len = 0;
	assert_int_equal(feed(c, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n"), 33);
	assert_int_equal(fk.out_len, 0);
	http_conn_eof(c);
	assert_int_equal(fk.closes, 1);
	assert_int_equal(srv.active, 0);

	/* HTTP/1.0 keep-alive */
	server_setup(NULL);
	c = open_conn();
	feed(c, "GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
	resp_parse(fk.out, fk.out_len, false, &r);
	assert_true(has_header(&r, "Connection: keep-alive"));
	assert_int_equal(fk.shutdowns, 0);
	fk.out_len = 0;
	feed(c, "GET /health HTTP/1.0\r\n\r\n");
	resp_parse(fk.out, fk.out_len, false, &r);
	assert_true(has_header(&r, "Connection: close"));
	assert_int_equal(fk.shutdowns, 1);
	http_conn_closed(c);

	/* 1.1 Connection: close, in a list */
	server_setup(NULL);
	c = open_conn();
	feed(c, "GET /health HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n");
	resp_parse(fk.out, fk.out_len, false, &r);
	assert_true(has_header(&r, "Connection: close"));
	assert_int_equal(fk.shutdowns, 1);
	/* linger ends by time too */
	hosted_clock_advance(3 * NS_PER_SEC);
	http_server_tick(&srv, time_now_ns());
	assert_int_equal(fk.closes, 1);
	assert_int_equal(srv.active, 0);
}

static void test_timeouts(void **state)
{
	(void)state;
	struct resp r;
	/* slowloris: one byte a second never finishes the head */
	struct http_conn *c = open_conn();
	const char *req = "GET /health HTTP/1.1\r\nHost: a\r\n";
	for (int i = 0; i < 12 && fk.out_len == 0; i++) {
		http_conn_input(c, (const uint8_t *)req + i, 1);
		hosted_clock_advance(NS_PER_SEC);
		http_server_tick(&srv, time_now_ns());
	}
	assert_int_equal(resp_parse(fk.out, fk.out_len, false, &r), fk.out_len);
	assert_int_equal(r.status, 408);
	assert_true(has_header(&r, "Connection: close"));
	assert_int_equal(srv.stats.timeouts, 1);
	/* and exactly at 10 s: the first byte came at 1000 s */
	assert_true(time_now_ns() >= 1010 * NS_PER_SEC && time_now_ns() <= 1011 * NS_PER_SEC);
	http_conn_closed(c);

	/* idle keep-alive: a quiet close after 60 s */
	server_setup(NULL);
	c = open_conn();
	feed(c, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	size_t out = fk.out_len;
	assert_int_equal(http_server_next_deadline(&srv), 1060 * NS_PER_SEC);
	hosted_clock_advance(59 * NS_PER_SEC);
	http_server_tick(&srv, time_now_ns());
	assert_int_equal(fk.closes, 0);
	hosted_clock_advance(1 * NS_PER_SEC);
	http_server_tick(&srv, time_now_ns());
	assert_int_equal(fk.closes, 1);
	assert_int_equal(fk.out_len, out);
	assert_int_equal(srv.active, 0);
	assert_int_equal(http_server_next_deadline(&srv), UINT64_MAX);

	/* a slow body counts from the request's first byte too */
	server_setup(NULL);
	c = open_conn();
	feed(c, "POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc");
	hosted_clock_advance(10 * NS_PER_SEC);
	http_server_tick(&srv, time_now_ns());
	resp_parse(fk.out, fk.out_len, false, &r);
	assert_int_equal(r.status, 408);
	http_conn_closed(c);
}

static void test_router(void **state)
{
	(void)state;
	struct resp r;
	exchange("GET /a/x HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_memory_equal(r.body, "short", 5);
	exchange("GET /a/b/x HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_memory_equal(r.body, "long", 4);
	exchange("GET /a/b/exact HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_memory_equal(r.body, "exact", 5);
	exchange("GET /a/b/exactly HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_memory_equal(r.body, "long", 4);
	exchange("GET /a HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_int_equal(r.status, 404);
	exchange("POST /health HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n", false, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, HEAD, OPTIONS"));
	exchange("GET /post HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: POST, PUT, OPTIONS"));
	exchange("DELETE /echo HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_true(has_header(&r, "Allow: GET, HEAD, POST, OPTIONS"));
	exchange("OPTIONS /echo HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_int_equal(r.status, 204);
	assert_true(has_header(&r, "Allow: GET, HEAD, POST, OPTIONS"));
	assert_null(strstr(r.head, "Content-Length"));
	exchange("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_int_equal(r.status, 204);
	assert_true(has_header(&r, "Allow: GET, HEAD, POST, PUT, OPTIONS"));
	/* bad registrations */
	assert_int_equal(http_route(&srv, HTTP_MBIT(HTTP_M_GET), "nope", 0, h_health, NULL), K_EINVAL);
	assert_int_equal(http_route(&srv, 0, "/x", 0, h_health, NULL), K_EINVAL);
}

static void test_backpressure(void **state)
{
	(void)state;
	static char reqs[50 * 64];
	size_t n = 0;
	for (int i = 0; i < 50; i++)
		n += (size_t)sprintf(reqs + n, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	struct http_conn *c = open_conn();
	fk.budget = 10000;
	size_t off = http_conn_input(c, (const uint8_t *)reqs, n);
	assert_true(off < n);
	assert_int_equal(fk.pauses, 1);
	unsigned rounds = 0;
	while (off < n || fk.resumes < fk.pauses) {
		assert_true(++rounds < 1000);
		fk.budget = 10000;
		unsigned before = fk.resumes;
		http_conn_writable(c);
		if (fk.resumes > before)
			off += http_conn_input(c, (const uint8_t *)reqs + off, n - off);
	}
	fk.budget = SIZE_MAX;
	http_conn_writable(c);
	size_t o = 0;
	for (int i = 0; i < 50; i++) {
		struct resp r;
		size_t k = resp_parse(fk.out + o, fk.out_len - o, false, &r);
		assert_true(k > 0);
		assert_int_equal(r.body_len, 4000);
		assert_memory_equal(r.body, big, 4000);
		o += k;
	}
	assert_int_equal(o, fk.out_len);
	/* a reader that never reads is dropped after the send timeout */
	fk.budget = 0;
	feed(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	hosted_clock_advance(61 * NS_PER_SEC);
	http_server_tick(&srv, time_now_ns());
	assert_int_equal(fk.closes, 1);
	assert_int_equal(srv.active, 0);
}

static void test_stream(void **state)
{
	(void)state;
	struct resp r;
	exchange("GET /stream HTTP/1.1\r\nHost: a\r\n\r\n", false, &r);
	assert_true(r.chunked);
	assert_int_equal(r.body_len, 11);
	assert_memory_equal(r.body, "hello world", 11);
	/* HTTP/1.0: no chunked coding, the close ends the body */
	struct http_conn *c = open_conn();
	feed(c, "GET /stream HTTP/1.0\r\n\r\n");
	const char *b = memmem(fk.out, fk.out_len, "\r\n\r\n", 4);
	assert_non_null(b);
	assert_int_equal(fk.out_len - (size_t)(b + 4 - fk.out), 11);
	assert_null(memmem(fk.out, fk.out_len, "chunked", 7));
	assert_int_equal(fk.shutdowns, 1);
	http_conn_closed(c);
}

static void test_expect_continue(void **state)
{
	(void)state;
	struct resp r;
	struct http_conn *c = open_conn();
	feed(c, "POST /echo HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
	size_t k = resp_parse(fk.out, fk.out_len, false, &r);
	assert_int_equal(r.status, 100);
	assert_int_equal(k, fk.out_len);
	feed(c, "hello");
	resp_parse(fk.out + k, fk.out_len - k, false, &r);
	assert_int_equal(r.status, 200);
	assert_memory_equal(r.body, "hello", 5);
	http_conn_closed(c);
}

static void test_pool(void **state)
{
	(void)state;
	struct http_conn *cs[NCONNS];
	for (int i = 0; i < NCONNS; i++)
		cs[i] = open_conn();
	assert_null(http_conn_open(&srv, &fake_ops, &fk));
	assert_int_equal(srv.stats.conns_refused, 1);
	http_conn_closed(cs[1]);
	struct http_conn *again = open_conn();
	assert_ptr_equal(again, cs[1]);
	/* and a reused connection starts clean */
	struct resp r;
	feed(again, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
	resp_parse(fk.out, fk.out_len, false, &r);
	assert_int_equal(r.status, 200);
	for (int i = 0; i < NCONNS; i++)
		http_conn_closed(cs[i]);
	assert_int_equal(srv.active, 0);
}

/* A full pool makes room as nginx does: the longest-idle keep-alive
 * connection first, then a head that has been arriving for at least
 * srv.cfg.limits.evict_min_age_ns; never a connection with a request in progress. */
static void test_evict(void **state)
{
	(void)state;
	struct http_conn *cs[NCONNS];
	for (int i = 0; i < NCONNS; i++) {
		cs[i] = open_conn();
		feed(cs[i], "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
		hosted_clock_advance(NS_PER_MS);
	}
	assert_null(http_conn_open(&srv, &fake_ops, &fk));
	unsigned closes = fk.closes;
	assert_true(http_server_evict(&srv));
	assert_int_equal(srv.stats.evicted_idle, 1);
	assert_int_equal(fk.closes, closes + 1);
	assert_int_equal(srv.active, NCONNS - 1);
	struct http_conn *fresh = open_conn();
	assert_ptr_equal(fresh, cs[0]);                 /* the longest idle went */
	cs[0] = fresh;

	/* every connection in a head: not evictable until it is old enough */
	for (int i = 0; i < NCONNS; i++) {
		feed(cs[i], "GET /health HTTP/1.1\r\nHost: a\r\n");
		hosted_clock_advance(NS_PER_MS);
	}
	assert_false(http_server_evict(&srv));
	/* cs[0]'s head began (NCONNS - 1) ms before the last one's */
	hosted_clock_advance(srv.cfg.limits.evict_min_age_ns - NCONNS * NS_PER_MS - 1);
	assert_false(http_server_evict(&srv));
	hosted_clock_advance(1);
	assert_true(http_server_evict(&srv));
	assert_int_equal(srv.stats.evicted_slow, 1);
	assert_int_equal(srv.stats.evicted_idle, 1);
	assert_ptr_equal(open_conn(), cs[0]);           /* the oldest head went */

	/* a deferred answer is owed: never evicted, however old */
	for (int i = 0; i < NCONNS; i++)
		if (cs[i]->in_use && cs[i]->state == HTTP_CS_OPEN)
			http_conn_closed(cs[i]);
	for (int i = 0; i < NCONNS; i++) {
		cs[i] = open_conn();
		feed(cs[i], "GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	}
	hosted_clock_advance(3600 * NS_PER_SEC);
	assert_false(http_server_evict(&srv));
	for (int i = 0; i < NCONNS; i++)
		http_conn_closed(cs[i]);

	/* the age is the server's option: 10 min here, so an hour-old idle
	 * connection still goes but a 9-minute-old head does not */
	struct http_limits lim = HTTP_LIMITS_DEFAULT;
	lim.evict_min_age_ns = 600 * NS_PER_SEC;
	lim.request_timeout_ns = 3600 * NS_PER_SEC;
	server_setup(&lim);
	for (int i = 0; i < NCONNS; i++)
		feed(cs[i] = open_conn(), "GET /health HTTP/1.1\r\nHost: a\r\n");
	hosted_clock_advance(540 * NS_PER_SEC);
	assert_false(http_server_evict(&srv));
	hosted_clock_advance(60 * NS_PER_SEC);
	assert_true(http_server_evict(&srv));
	assert_int_equal(srv.stats.evicted_slow, 1);
	for (int i = 0; i < NCONNS; i++)
		http_conn_closed(cs[i]);
}

/* Ticks the server every second for secs seconds, or until c is closed
 * (fk.closes grows); calls step(i) before each tick. Returns the ticks. */
static int run_until_closed(int secs, void (*step)(int i))
{
	unsigned closes = fk.closes;
	int i;
	for (i = 0; i < secs && fk.closes == closes; i++) {
		if (step)
			step(i);
		hosted_clock_advance(NS_PER_SEC);
		http_server_tick(&srv, time_now_ns());
	}
	return i;
}

static struct http_conn *tiny_conn;
/* A peer whose window stays tiny: it takes 16 bytes a second. */
static void tiny_window(int i)
{
	(void)i;
	fk.budget = 16;
	http_conn_writable(tiny_conn);
}

static void stream_piece(int i)
{
	(void)i;
	assert_int_equal(http_stream_write(deferred_req, "tick\n", 5), 5);
}

/* Every state has a deadline: an answer the app never gives, a stream
 * that stops, a client that stops reading or reads a few bytes at a time. */
static void test_deadlines(void **state)
{
	(void)state;
	const struct http_limits *l = &srv.cfg.limits;
	struct http_conn *c = open_conn();

	/* a deferred answer that never comes: closed after the response
	 * timeout; the slot waits for the app's call, which frees it */
	feed(c, "GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(run_until_closed(3600, NULL), l->response_timeout_ns / NS_PER_SEC);
	assert_int_equal(srv.stats.response_timeouts, 1);
	assert_int_equal(fk.out_len, 0);                /* no 408 for an owed answer */
	assert_int_equal(srv.active, 1);
	assert_int_equal(http_respond(deferred_req, 200, NULL, "x", 1), K_ECLOSED);
	assert_int_equal(srv.active, 0);

	/* the same after the client's FIN (the answer was still owed) */
	c = open_conn();
	feed(c, "GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	http_conn_eof(c);
	assert_int_equal(run_until_closed(3600, NULL), l->response_timeout_ns / NS_PER_SEC);
	assert_int_equal(srv.stats.response_timeouts, 2);
	assert_int_equal(http_respond(deferred_req, 200, NULL, "x", 1), K_ECLOSED);
	assert_int_equal(srv.active, 0);

	/* a stream that writes a piece every second lives on; once it stops,
	 * the response timeout ends it */
	c = open_conn();
	feed(c, "GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(http_stream_begin(deferred_req, 200, "text/plain"), K_OK);
	assert_int_equal(run_until_closed(300, stream_piece), 300);
	assert_int_equal(fk.closes, 2);
	/* the last piece went a second before the last tick */
	assert_int_equal(run_until_closed(3600, NULL), l->response_timeout_ns / NS_PER_SEC - 1);
	assert_int_equal(srv.stats.response_timeouts, 3);
	assert_int_equal(http_stream_end(deferred_req), K_ECLOSED);
	assert_int_equal(srv.active, 0);

	/* a client that stopped reading: the queued answer is dropped after
	 * the send timeout, though it keeps sending (input does not count) */
	fk.budget = 100;
	c = open_conn();
	feed(c, "GET /big HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
	assert_int_equal(c->state, HTTP_CS_CLOSING);
	uint64_t since = time_now_ns();
	for (int i = 0; i < 59; i++) {
		hosted_clock_advance(NS_PER_SEC);
		feed(c, "GET /health HTTP/1.1\r\nHost: a\r\n\r\n");
		http_server_tick(&srv, time_now_ns());
	}
	assert_int_equal(fk.closes, 3);
	hosted_clock_advance(NS_PER_SEC);
	http_server_tick(&srv, time_now_ns());
	assert_int_equal(fk.closes, 4);
	assert_int_equal(time_now_ns() - since, l->send_timeout_ns);
	assert_int_equal(srv.stats.send_timeouts, 1);
	assert_int_equal(srv.active, 0);

	/* a window that stays tiny: every second some bytes go, but the
	 * answer is not out whole within the send timeout, so it ends */
	fk.budget = 0;
	tiny_conn = c = open_conn();
	feed(c, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n");
	size_t before = fk.out_len;
	assert_int_equal(run_until_closed(3600, tiny_window), l->send_timeout_ns / NS_PER_SEC);
	assert_true(fk.out_len > before);               /* it did progress */
	assert_int_equal(srv.stats.send_timeouts, 2);
	assert_int_equal(srv.active, 0);

	/* a slow but steady reader of a stream is not cut off: each piece is
	 * out whole long before the send timeout */
	fk.budget = SIZE_MAX;
	c = open_conn();
	feed(c, "GET /defer HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(http_stream_begin(deferred_req, 200, "text/plain"), K_OK);
	assert_int_equal(run_until_closed(300, stream_piece), 300);
	assert_int_equal(srv.stats.send_timeouts, 2);
	assert_int_equal(http_stream_end(deferred_req), K_OK);
	http_conn_closed(c);
	assert_int_equal(srv.active, 0);
}

static void test_config(void **state)
{
	(void)state;
	struct http_server_config cfg;
	http_server_config_default(&cfg);
	cfg.limits.max_body = HTTP_CONN_BUF;    /* head + body exceed the buffer */
	assert_int_equal(http_server_init(&srv, &cfg, conns, NCONNS), K_EINVAL);
	http_server_config_default(&cfg);
	cfg.limits.max_headers = HTTP_MAX_HEADERS + 1;
	assert_int_equal(http_server_init(&srv, &cfg, conns, NCONNS), K_EINVAL);
	assert_int_equal(http_server_init(&srv, NULL, conns, NCONNS), K_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_get_health, setup),
		cmocka_unit_test(test_date_format),
		cmocka_unit_test_setup(test_errors, setup),
		cmocka_unit_test_setup(test_good_variants, setup),
		cmocka_unit_test(test_request_view),
		cmocka_unit_test(test_head_limits_split),
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_large_bodies),
		cmocka_unit_test_setup(test_splits, setup),
		cmocka_unit_test_setup(test_pipelining, setup),
		cmocka_unit_test_setup(test_deferred_in_order, setup),
		cmocka_unit_test_setup(test_head, setup),
		cmocka_unit_test_setup(test_big_body_is_lent, setup),
		cmocka_unit_test_setup(test_conditional, setup),
		cmocka_unit_test_setup(test_range, setup),
		cmocka_unit_test_setup(test_keepalive, setup),
		cmocka_unit_test_setup(test_timeouts, setup),
		cmocka_unit_test_setup(test_router, setup),
		cmocka_unit_test_setup(test_backpressure, setup),
		cmocka_unit_test_setup(test_stream, setup),
		cmocka_unit_test_setup(test_expect_continue, setup),
		cmocka_unit_test_setup(test_pool, setup),
		cmocka_unit_test_setup(test_evict, setup),
		cmocka_unit_test_setup(test_deadlines, setup),
		cmocka_unit_test(test_config),
	};
	return cmocka_run_group_tests_name("http", tests, NULL, NULL);
}
