/*
 * https.h - HTTP over TLS 1.3 over Kiln's TCP: the HTTP engine's
 * transport (kiln/http.h) with the TLS engine (kiln/tls.h) in between.
 *
 *   app_main:  tls_server_init(&tls, &cfg, work_bufs, n);
 *              http_server_init(&srv, ...);
 *   net up:    http_listen_tcp(&srv, nif, 80, backlog);      plain
 *              http_listen_tls(&srv, &tls, nif, 443, backlog);  TLS
 *
 * One HTTP server may listen on both: its connection pool, limits,
 * timeouts and eviction cover both ports. A TLS connection takes its
 * HTTP slot at accept, so the HTTP request timeout also bounds a
 * handshake that never finishes.
 */
#ifndef KILN_HTTPS_H
#define KILN_HTTPS_H

#include <stdint.h>

#include <kiln/http.h>
#include <kiln/net.h>
#include <kiln/tls.h>

/* Listens on port for TLS connections served by srv. K_OK, K_ENOMEM,
 * K_ENOSPC (HTTPS_MAX_SERVERS bindings already), or tcp_listen()'s. */
int http_listen_tls(struct http_server *srv, struct tls_server *tls, struct net_if *nif,
		    uint16_t port, unsigned backlog);

#define HTTPS_MAX_SERVERS 2

struct https_stats {
	uint64_t accepted;          /* connections handed to TLS and HTTP */
	uint64_t refused;           /* HTTP pool full: reset */
	uint64_t handshakes;        /* handshakes completed */
	uint64_t failed;            /* TLS failures (alert sent or received) */
	uint64_t resets;            /* closed by a reset or timeout from TCP */
	uint64_t records_sealed;    /* application-data records sent */
	uint64_t short_writes;      /* a record TCP took in part (stashed) */
	uint64_t held_plain;        /* plaintext held while HTTP paused */
	uint64_t work_waits;        /* input waited for a TLS work buffer */
	uint64_t evicted;           /* stalled handshakes closed for a new one */
};
void https_get_stats(const struct http_server *srv, struct https_stats *out);

#endif
