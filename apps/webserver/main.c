/*
 * webserver - Kiln's demo: a small web server that is the whole machine.
 *
 *   GET /health             "ok" (a fixed body, lent from .rodata)
 *   GET /compute            iterated SHA-256 (COMPUTE_ROUNDS rounds, the
 *                           same fixed job in every runner), hex result
 *   GET /api/stats.json     live telemetry (telemetry.c)
 *   GET /api/requests.json  the last 64 request paths, oldest first
 *   GET /metrics            the same counters, Prometheus text format
 *   POST /api/echo          the request body's length (and small bodies)
 *   GET /...                the baked site (site.c): Kiln's docs rendered
 *                           at build time, the telemetry page /telemetry/
 *   UDP port 7              echo (udp_echo.c)
 *   port 443                every route above over TLS 1.3 (tls.c)
 *
 * Command-line keys (kernel command line, or the hosted runners'
 * arguments) tune the HTTP limits so tests can reach them quickly:
 * http_conns=, http_req_timeout_ms=, http_idle_timeout_ms=, http_evict_min_ms=,
 * http_send_timeout_ms=, http_response_timeout_ms=,
 * http_max_requests=, http_max_body=, http_body_mem=, http_max_line=.
 *
 * Rules: everything is set up in app_main (routes) and on network-up
 * (listeners); afterwards all work is callbacks on the loop. The
 * connection pool is static; no handler allocates.
 */
#include <stdint.h>

#include <bearssl_hash.h>

#include <kiln/fmt.h>
#include <kiln/kiln.h>
#include <kiln/http.h>
#include <kiln/net.h>

#include "webserver.h"

/* Connections the pool holds (http_conns= may use fewer). Each costs
 * about 22 KiB (kiln/http.h's buffers). */
#define WEB_MAX_CONNS 512
/* Rounds of SHA-256 over its own 32-byte output per /compute request:
 * about 30 us on a 2 GHz x86_64 core (BearSSL's portable code). */
#define COMPUTE_ROUNDS 128
/* Half-open handshakes kept for port 80 (SYN cookies beyond). */
#define WEB_BACKLOG 1024

struct http_server web_srv;
static struct http_conn web_conns[WEB_MAX_CONNS];

static uint32_t opt_conns = WEB_MAX_CONNS;
static uint32_t opt_req_timeout_ms = 10000;
static uint32_t opt_idle_timeout_ms = 60000;
static uint32_t opt_evict_min_ms = 2000;
static uint32_t opt_send_timeout_ms = 60000;
static uint32_t opt_response_timeout_ms = 60000;
static uint32_t opt_max_requests = 10000;
static uint32_t opt_max_body = 1u << 20;
static uint32_t opt_body_mem = 16u << 20;
static uint32_t opt_max_line = 8192;
CMDLINE_OPTION(http_conns, .key = "http_conns", .type = CMDLINE_U32, .value = &opt_conns,
	       .min = 1, .max = WEB_MAX_CONNS, .help = "HTTP connections served at once");
CMDLINE_OPTION(http_req_timeout, .key = "http_req_timeout_ms", .type = CMDLINE_U32,
	       .value = &opt_req_timeout_ms, .min = 10, .max = 3600000,
	       .help = "a request must arrive whole within this (408)");
CMDLINE_OPTION(http_idle_timeout, .key = "http_idle_timeout_ms", .type = CMDLINE_U32,
	       .value = &opt_idle_timeout_ms, .min = 10, .max = 3600000,
	       .help = "idle keep-alive connections close after this");
CMDLINE_OPTION(http_evict_min, .key = "http_evict_min_ms", .type = CMDLINE_U32,
	       .value = &opt_evict_min_ms, .min = 10, .max = 3600000,
	       .help = "a full pool may close a request head this old (slowloris)");
CMDLINE_OPTION(http_send_timeout, .key = "http_send_timeout_ms", .type = CMDLINE_U32,
	       .value = &opt_send_timeout_ms, .min = 10, .max = 3600000,
	       .help = "queued output must go out whole within this");
CMDLINE_OPTION(http_response_timeout, .key = "http_response_timeout_ms", .type = CMDLINE_U32,
	       .value = &opt_response_timeout_ms, .min = 10, .max = 3600000,
	       .help = "a deferred or streaming answer must progress within this");
CMDLINE_OPTION(http_max_requests, .key = "http_max_requests", .type = CMDLINE_U32,
	       .value = &opt_max_requests, .min = 1, .max = 1000000000,
	       .help = "requests per keep-alive connection");
CMDLINE_OPTION(http_max_body, .key = "http_max_body", .type = CMDLINE_U32,
	       .value = &opt_max_body, .min = 0, .max = 64u << 20,
	       .help = "largest request body (413)");
CMDLINE_OPTION(http_body_mem, .key = "http_body_mem", .type = CMDLINE_U32,
	       .value = &opt_body_mem, .min = 0, .max = 1u << 30,
	       .help = "memory for large request bodies at once (503 beyond)");
CMDLINE_OPTION(http_max_line, .key = "http_max_line", .type = CMDLINE_U32,
	       .value = &opt_max_line, .min = 64, .max = 8192,
	       .help = "longest request line (414)");

static int health(struct http_req *req, void *arg)
{
	static const char ok[] = "ok\n";
	(void)arg;
	http_resp_header(req, "Cache-Control", "no-store");
	return http_respond(req, 200, "text/plain", ok, sizeof ok - 1);
}

static int compute(struct http_req *req, void *arg)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t h[32] = { 'k', 'i', 'l', 'n' };
	char out[65];
	(void)arg;
	for (unsigned i = 0; i < COMPUTE_ROUNDS; i++) {
		br_sha256_context sc;
		br_sha256_init(&sc);
		br_sha256_update(&sc, h, sizeof h);
		br_sha256_out(&sc, h);
	}
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[h[i] >> 4];
		out[2 * i + 1] = hex[h[i] & 15];
	}
	out[64] = '\n';
	http_resp_header(req, "Cache-Control", "no-store");
	return http_send(req, 200, "text/plain", out, sizeof out, HTTP_SEND_COPY);
}

/* POST /api/echo: tells what body arrived (for request-body tests:
 * Content-Length and chunked). Small bodies come back as well. */
static int body_echo(struct http_req *req, void *arg)
{
	char out[64 + HTTP_INLINE_BODY];
	(void)arg;
	int n = ksnprintf(out, 64, "%lu bytes\n", (unsigned long)req->body_len);
	if (req->body_len <= HTTP_INLINE_BODY) {
		for (size_t i = 0; i < req->body_len; i++)
			out[n + (int)i] = (char)req->body[i];
		n += (int)req->body_len;
	}
	return http_send(req, 200, "application/octet-stream", out, (size_t)n, HTTP_SEND_COPY);
}

static void web_net_up(struct net_if *nif, void *arg)
{
	(void)arg;
	struct net_if_config cfg;
	net_if_get_config(nif, &cfg);
	telemetry_set_nif(nif);
	int ret = http_listen_tcp(&web_srv, nif, WEB_HTTP_PORT, WEB_BACKLOG);
	if (ret < 0)
		log_error("webserver: http on port %d: %s", WEB_HTTP_PORT, kiln_strerror(ret));
	web_tls_listen(nif);
	int uret = udp_echo_start(nif);
	if (uret < 0)
		log_error("webserver: udp echo on port %d: %s", WEB_ECHO_PORT, kiln_strerror(uret));
	log_info("webserver: serving http://%u.%u.%u.%u:%d/ (%u connections), udp echo %d",
		 cfg.addr >> 24, (cfg.addr >> 16) & 0xff, (cfg.addr >> 8) & 0xff, cfg.addr & 0xff,
		 WEB_HTTP_PORT, opt_conns, WEB_ECHO_PORT);
}

/* Request bodies larger than a connection's buffer: whole pages from
 * kmalloc (not zeroed: every byte is written before it is read). */
static void *body_mem_alloc(void *ctx, size_t n)
{
	(void)ctx;
	return kmalloc(n);
}

static void body_mem_free(void *ctx, void *p, size_t n)
{
	(void)ctx;
	(void)n;
	kfree(p);
}

void app_main(void)
{
	struct http_server_config cfg;
	http_server_config_default(&cfg);
	cfg.limits.request_timeout_ns = (uint64_t)opt_req_timeout_ms * NS_PER_MS;
	cfg.limits.idle_timeout_ns = (uint64_t)opt_idle_timeout_ms * NS_PER_MS;
	cfg.limits.evict_min_age_ns = (uint64_t)opt_evict_min_ms * NS_PER_MS;
	cfg.limits.send_timeout_ns = (uint64_t)opt_send_timeout_ms * NS_PER_MS;
	cfg.limits.response_timeout_ns = (uint64_t)opt_response_timeout_ms * NS_PER_MS;
	cfg.limits.max_requests = opt_max_requests;
	cfg.limits.max_body = opt_max_body;
	cfg.body_store = (struct http_body_store){ body_mem_alloc, body_mem_free, NULL };
	cfg.body_mem_max = opt_body_mem;
	cfg.limits.max_request_line = opt_max_line;
	cfg.on_request = telemetry_on_request;
	if (http_server_init(&web_srv, &cfg, web_conns, opt_conns) < 0)
		panic("webserver: bad HTTP limits");
	web_tls_init();

	const uint32_t get = HTTP_MBIT(HTTP_M_GET);
	http_route(&web_srv, get, "/health", 0, health, NULL);
	http_route(&web_srv, get, "/compute", 0, compute, NULL);
	http_route(&web_srv, get, "/api/stats.json", 0, telemetry_stats, NULL);
	http_route(&web_srv, get, "/api/requests.json", 0, telemetry_requests, NULL);
	http_route(&web_srv, get, "/metrics", 0, telemetry_metrics, NULL);
	http_route(&web_srv, HTTP_MBIT(HTTP_M_POST), "/api/echo", 0, body_echo, NULL);
	http_route(&web_srv, get, "/", HTTP_ROUTE_PREFIX, site_handler, NULL);

	telemetry_start();
	int ret = net_on_up(web_net_up, NULL);
	if (ret < 0)
		log_error("webserver: cannot wait for the network: %s", kiln_strerror(ret));
	else if (!net_if_default())
		log_info("webserver: waiting for the network");
}
