/*
 * webserver.h - what the parts of apps/webserver share.
 *
 * main.c sets up the HTTP server and its routes; site.c serves the baked
 * assets; telemetry.c keeps the counters, the request feed and the
 * history, and answers /api/stats.json, /api/requests.json and /metrics;
 * udp_echo.c is the UDP echo service; tls.c serves the same routes over
 * HTTPS on port 443. All of it runs on the boot core's
 * loop.
 */
#ifndef WEBSERVER_H
#define WEBSERVER_H

#include <kiln/http.h>
#include <kiln/net.h>

#define WEB_HTTP_PORT 80
#define WEB_ECHO_PORT 7

/* The server, for telemetry (main.c). */
extern struct http_server web_srv;

/* site.c: GET/HEAD of any path: the baked asset, or 404. */
int site_handler(struct http_req *req, void *arg);

/* telemetry.c */
void telemetry_start(void);                 /* history sampling timer */
void telemetry_set_nif(struct net_if *nif);
void telemetry_on_request(void *arg, const struct http_log *log);
int telemetry_stats(struct http_req *req, void *arg);
int telemetry_requests(struct http_req *req, void *arg);
int telemetry_metrics(struct http_req *req, void *arg);

/* tls.c */
struct tls_server;
extern struct tls_server web_tls;
void web_tls_init(void);                    /* app_main, after web_srv */
void web_tls_listen(struct net_if *nif);    /* network up */
bool web_tls_enabled(void);

/* udp_echo.c */
int udp_echo_start(struct net_if *nif);
uint64_t udp_echo_count(void);

#endif
