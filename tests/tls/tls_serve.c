/*
 * tls_serve - Kiln's TLS 1.3 engine (include/kiln/tls.h) on Linux
 * sockets, for testing it against real clients (tests/tls/run.sh).
 *
 * One thread, a poll() loop over non-blocking sockets, up to MAX_CONNS
 * connections, each a struct tls_conn; the engine's work buffers come
 * from a static pool of a few TLS_WORK_BUF buffers (--work-bufs), random
 * bytes from getrandom(), the clock from clock_gettime(). It answers
 * every HTTP/1.x request it reads (up to the blank line; bodies are not
 * read) with a small "HTTP/1.1 200 OK" whose body tells what was
 * negotiated, one "key=value" a line:
 *
 *   kiln tls_serve
 *   suite=TLS_AES_128_GCM_SHA256 (0x1301)
 *   group=x25519 (0x001d)
 *   alpn=http/1.1                    ("none" when none was negotiated)
 *   cert=0 ecdsa-p256 localhost      (index, key type, first name)
 *   resumed=no
 *   hrr=no
 *   request=1                        (requests answered on this connection)
 *   path=/
 *   pad=xxx...                       (only for paths starting /pad: a body
 *                                     of about 700 bytes)
 *
 * and keeps the connection alive (unless the request says
 * "Connection: close", or is HTTP/1.0 without keep-alive). SIGUSR1
 * prints a stats line on stderr; SIGTERM prints it, closes everything,
 * checks that every work buffer came back and exits (0, or 1 when a
 * buffer leaked).
 *
 *   tls_serve [--port N] [--addr A] [--groups x25519,p256,p384]
 *             [--suites aes128,aes256,chacha] [--alpn http/1.1,h2|none]
 *             [--chacha-pref yes|no] [--ticket-lifetime S]
 *             [--work-bufs N] [--keyupdate-after N]
 *             [--cert-names I=NAME,NAME...] [--certs I,J...]
 *
 * --port 0 (the default) takes a free port; the first line on stdout is
 * "tls_serve: listening on ADDR:PORT". --keyupdate-after N has the server
 * send a KeyUpdate (asking for one back) after the Nth response of each
 * connection. --cert-names replaces the names baked certificate I serves
 * (to test SNI with names that differ); --certs serves only the baked
 * certificates listed, in that order (the first is the default).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <kiln/err.h>
#include <kiln/tls.h>

#define MAX_CONNS 256
#define MAX_WORK_BUFS 64
#define RBUF_CAP (TLS_REC_HDR + TLS_MAX_CIPHERTEXT + 1024)
#define REQ_CAP (2 * TLS_MAX_PLAINTEXT)
#define REQ_MAX_HEAD 8192              /* a request head longer than this: closed */
#define WBUF_CAP 16384
#define RESP_MAX 4096                  /* room for one response, sealed */
#define HANDSHAKE_TIMEOUT_MS 10000
#define IDLE_TIMEOUT_MS 60000
#define DRAIN_TIMEOUT_MS 1000

enum cstate { C_FREE = 0, C_OPEN, C_DRAIN };

struct conn {
	enum cstate st;
	int fd;
	struct tls_conn tc;
	bool tc_live;
	uint8_t rbuf[RBUF_CAP];        /* received, not yet taken by the engine */
	size_t rlen;
	char req[REQ_CAP];             /* plaintext not yet answered */
	size_t reqlen;
	uint8_t wbuf[WBUF_CAP];        /* sealed records not yet sent */
	size_t wlen, woff;
	unsigned nreq;
	bool peer_eof;                 /* close_notify or TCP EOF */
	bool close_after;              /* answer what is there, then close */
	bool ku_due;
	uint64_t last_ms;
};

static struct conn conns[MAX_CONNS];
static _Alignas(64) uint8_t work_pool[MAX_WORK_BUFS][TLS_WORK_BUF];
static struct tls_server srv;
static struct tls_cert certs[TLS_MAX_CERTS];
static unsigned ncerts;
static unsigned keyupdate_after;
static volatile sig_atomic_t got_term, got_usr1;

static struct {
	uint64_t accepted, closed, requests, failed, deferred;
	uint64_t timeouts[3];            /* handshake, idle, drain */
} st;

/* ---- platform ---------------------------------------------------------------- */

static void rnd(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("tls_serve: getrandom");
			abort();
		}
		p += n;
		len -= (size_t)n;
	}
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_usr1 = 1;
	else
		got_term = 1;
}

/* ---- options ------------------------------------------------------------------ */

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr, "usage: tls_serve [--port N] [--addr A] [--groups LIST] [--suites LIST] "
			"[--alpn LIST|none] [--chacha-pref yes|no] [--ticket-lifetime S] "
			"[--work-bufs N] [--keyupdate-after N] [--cert-names I=NAMES] "
			"[--certs I,J,...]\n");
	exit(2);
}

static unsigned long num(const char *s, unsigned long max)
{
	char *e;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &e, 10);
	if (errno || *s == 0 || *e != 0 || v > max) {
		fprintf(stderr, "tls_serve: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

static int group_id(const char *s)
{
	if (!strcasecmp(s, "x25519"))
		return TLS_GROUP_X25519;
	if (!strcasecmp(s, "p256") || !strcasecmp(s, "p-256") || !strcasecmp(s, "secp256r1") ||
	    !strcasecmp(s, "prime256v1"))
		return TLS_GROUP_SECP256R1;
	if (!strcasecmp(s, "p384") || !strcasecmp(s, "p-384") || !strcasecmp(s, "secp384r1"))
		return TLS_GROUP_SECP384R1;
	return -1;
}

static int suite_id(const char *s)
{
	if (!strcasecmp(s, "aes128") || !strcmp(s, "TLS_AES_128_GCM_SHA256"))
		return TLS_AES_128_GCM_SHA256;
	if (!strcasecmp(s, "aes256") || !strcmp(s, "TLS_AES_256_GCM_SHA384"))
		return TLS_AES_256_GCM_SHA384;
	if (!strcasecmp(s, "chacha") || !strcasecmp(s, "chacha20") ||
	    !strcmp(s, "TLS_CHACHA20_POLY1305_SHA256"))
		return TLS_CHACHA20_POLY1305_SHA256;
	return -1;
}

/* Splits a comma list in place; returns the count (at most max). */
static unsigned split(char *s, char **out, unsigned max, const char *what)
{
	unsigned n = 0;
	char *tok, *save = NULL;

	for (tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == max) {
			fprintf(stderr, "tls_serve: at most %u %s\n", max, what);
			exit(2);
		}
		out[n++] = tok;
	}
	return n;
}

static void cert_names(char *arg)
{
	char *eq = strchr(arg, '='), *list[64];
	const char **names;
	unsigned i, n, idx;

	if (eq == NULL)
		usage();
	*eq = 0;
	idx = (unsigned)num(arg, kiln_tls_ncerts - 1);
	n = split(eq + 1, list, 64, "names");
	names = calloc(n ? n : 1, sizeof *names);
	if (names == NULL)
		abort();
	for (i = 0; i < n; i++)
		names[i] = list[i];
	/* certs[] still indexes the baked table here (--certs applies after). */
	certs[idx].names = names;
	certs[idx].nnames = n;
}

/* ---- connections ---------------------------------------------------------------- */

static bool tls_pending(struct conn *c)
{
	const uint8_t *p;

	return c->tc_live && tls_conn_output(&c->tc, &p) > 0;
}

static void conn_free(struct conn *c)
{
	if (c->tc_live)
		tls_conn_release(&c->tc);
	c->tc_live = false;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->st = C_FREE;
	st.closed++;
}

/* Nothing more will be sent: half-close and wait (briefly) for the
 * peer's EOF, so that what was sent is not lost to a reset. */
static void conn_drain(struct conn *c)
{
	shutdown(c->fd, SHUT_WR);
	if (c->tc_live)
		tls_conn_release(&c->tc);
	c->tc_live = false;
	c->st = C_DRAIN;
	c->last_ms = mono_ms();
}

/* Sends what the engine has queued; false: the socket is dead. */
static bool flush_engine(struct conn *c)
{
	const uint8_t *p;
	size_t k;

	while (c->tc_live && (k = tls_conn_output(&c->tc, &p)) > 0) {
		ssize_t s = send(c->fd, p, k, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return true;
			return false;
		}
		tls_conn_output_done(&c->tc, (size_t)s);
		if ((size_t)s < k)
			return true;
	}
	return true;
}

static bool flush_wbuf(struct conn *c)
{
	while (c->woff < c->wlen) {
		ssize_t s = send(c->fd, c->wbuf + c->woff, c->wlen - c->woff,
				 MSG_NOSIGNAL | MSG_DONTWAIT);

		if (s < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return true;
			return false;
		}
		c->woff += (size_t)s;
	}
	c->woff = c->wlen = 0;
	return true;
}

static const char *key_name(enum tls_key_type t)
{
	return t == TLS_KEY_EC_P256 ? "ecdsa-p256" : t == TLS_KEY_RSA ? "rsa" : "?";
}

/* Seals the response to the request of head[0..len) into wbuf. */
static void respond(struct conn *c, const char *head, size_t len)
{
	char path[256] = "?", body[768], text[1024];
	size_t off, chunk = 0, maxp;
	const char *sp1, *sp2, *alpn;
	uint8_t *rec;
	bool http10, keep = false, close = false;
	int blen, n, r;
	const struct tls_cert *ce = c->tc.cert < ncerts ? &certs[c->tc.cert] : NULL;
	size_t i;

	sp1 = memchr(head, ' ', len);
	if (sp1 != NULL) {
		sp2 = memchr(sp1 + 1, ' ', len - (size_t)(sp1 + 1 - head));
		if (sp2 != NULL && sp2 - sp1 - 1 < (long)sizeof path) {
			memcpy(path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
			path[sp2 - sp1 - 1] = 0;
			for (i = 0; path[i]; i++)
				if ((unsigned char)path[i] < 0x21 || (unsigned char)path[i] > 0x7e)
					path[i] = '_';
		}
	}
	http10 = memmem(head, len, "HTTP/1.0\r", 9) != NULL || memmem(head, len, "HTTP/1.0\n", 9);
	for (i = 0; i + 11 < len; i++) {
		if ((i == 0 || head[i - 1] == '\n') && !strncasecmp(head + i, "connection:", 11)) {
			const char *v = head + i + 11, *e = memchr(v, '\n', len - (size_t)(v - head));
			size_t vl = e ? (size_t)(e - v) : len - (size_t)(v - head);

			if (memmem(v, vl, "close", 5) || memmem(v, vl, "Close", 5))
				close = true;
			if (memmem(v, vl, "keep-alive", 10) || memmem(v, vl, "Keep-Alive", 10))
				keep = true;
		}
	}
	if (close || (http10 && !keep))
		c->close_after = true;

	c->nreq++;
	st.requests++;
	alpn = tls_conn_alpn(&c->tc);
	blen = snprintf(body, sizeof body,
			"kiln tls_serve\nsuite=%s (0x%04x)\ngroup=%s (0x%04x)\nalpn=%s\n"
			"cert=%u %s %s\nresumed=%s\nhrr=%s\nrequest=%u\npath=%s\n",
			tls_suite_name(tls_conn_suite(&c->tc)), tls_conn_suite(&c->tc),
			tls_group_name(c->tc.group), c->tc.group, alpn && *alpn ? alpn : "none",
			c->tc.cert, ce ? key_name(ce->key_type) : "?",
			ce && ce->nnames ? ce->names[0] : "-", c->tc.resumed ? "yes" : "no",
			c->tc.hrr ? "yes" : "no", c->nreq, path);
	if (blen < 0 || blen >= (int)sizeof body)
		blen = (int)sizeof body - 1;
	/* /pad: a body of about 700 bytes (more than a small record). */
	if (!strncmp(path, "/pad", 4) && blen < 600) {
		int k = 700 - blen - 6;

		blen += snprintf(body + blen, sizeof body - (size_t)blen, "pad=%.*s\n", k,
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
				 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	}
	n = snprintf(text, sizeof text,
		     "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
		     "Connection: %s\r\n\r\n%.*s",
		     blen, c->close_after ? "close" : "keep-alive", blen, body);
	if (n < 0 || n >= (int)sizeof text)
		n = (int)sizeof text - 1;
	/* As many records as the peer's record_size_limit asks for. */
	maxp = tls_conn_max_plain(&c->tc);
	for (off = 0; off < (size_t)n; off += chunk) {
		chunk = (size_t)n - off < maxp ? (size_t)n - off : maxp;
		if (WBUF_CAP - c->wlen < chunk + TLS_REC_OVERHEAD) {
			fprintf(stderr, "tls_serve: response does not fit\n");
			c->close_after = true;
			return;
		}
		rec = c->wbuf + c->wlen;
		memcpy(rec + TLS_REC_HDR, text + off, chunk);
		r = tls_conn_seal(&c->tc, rec, chunk);
		if (r < 0) {
			fprintf(stderr, "tls_serve: tls_conn_seal: %d\n", r);
			c->close_after = true;
			return;
		}
		c->wlen += (size_t)r;
	}
	if (keyupdate_after && c->nreq == keyupdate_after)
		c->ku_due = true;
}

/* Answers the complete requests in c->req while there is room; after
 * one that closes the connection, the rest is dropped. */
static void answer(struct conn *c)
{
	for (;;) {
		char *end;
		size_t hl;

		if (c->close_after) {
			c->reqlen = 0;
			return;
		}
		if (c->ku_due || !tls_conn_ready(&c->tc) || tls_pending(c) ||
		    WBUF_CAP - c->wlen < RESP_MAX)
			return;
		end = memmem(c->req, c->reqlen, "\r\n\r\n", 4);
		hl = end ? (size_t)(end - c->req) + 4 : 0;
		if (end == NULL) {
			end = memmem(c->req, c->reqlen, "\n\n", 2);
			hl = end ? (size_t)(end - c->req) + 2 : 0;
		}
		if (end == NULL) {
			if (c->reqlen > REQ_MAX_HEAD) {
				fprintf(stderr, "tls_serve: request head over %u bytes: closing\n",
					REQ_MAX_HEAD);
				c->close_after = true;
				c->reqlen = 0;
			}
			return;
		}
		respond(c, c->req, hl);
		memmove(c->req, c->req + hl, c->reqlen - hl);
		c->reqlen -= hl;
	}
}

/* Hands received bytes to the engine while the plaintext has room and
 * nothing sealed waits (so engine output never overtakes sealed records:
 * see the ordering rule in tls.h). */
static int feed(struct conn *c)
{
	while (c->rlen > 0 && c->wlen == 0 && !tls_pending(c) && !c->ku_due &&
	       c->reqlen + TLS_MAX_PLAINTEXT <= REQ_CAP) {
		struct tls_plain pl;
		int n;

		/* A connection without a work buffer needs one for a record
		 * that does not arrive whole (and for the handshake): wait for
		 * one rather than fail when the pool is empty. */
		if (!tls_conn_has_work(&c->tc) && srv.stats.work_bufs_total != 0 &&
		    srv.stats.work_bufs_free == 0) {
			st.deferred++;
			return 1;
		}
		memset(&pl, 0, sizeof pl);
		n = tls_conn_input(&c->tc, c->rbuf, c->rlen, &pl);
		if (n == K_EAGAIN || n == K_ENOMEM) {
			st.deferred++;
			return 1;
		}
		if (n < 0)
			return n;
		if ((size_t)n > c->rlen) {
			fprintf(stderr, "tls_serve: tls_conn_input took %d of %zu bytes\n", n, c->rlen);
			abort();
		}
		if (pl.len > 0) {
			if (pl.len > REQ_CAP - c->reqlen) {
				fprintf(stderr, "tls_serve: plaintext of %zu bytes\n", pl.len);
				abort();
			}
			memcpy(c->req + c->reqlen, pl.data, pl.len);
			c->reqlen += pl.len;
		}
		if (pl.eof)
			c->peer_eof = true;
		memmove(c->rbuf, c->rbuf + n, c->rlen - (size_t)n);
		c->rlen -= (size_t)n;
		if (n == 0 && pl.len == 0 && !pl.eof)
			break;          /* no progress */
		answer(c);
		if (c->peer_eof)
			break;
	}
	return 0;
}

/* Moves connection c on as far as it goes without blocking. */
static void service(struct conn *c)
{
	int r;

	if (c->st != C_OPEN)
		return;
	if (!flush_wbuf(c) || !flush_engine(c)) {
		conn_free(c);
		return;
	}
	r = feed(c);
	if (r < 0) {
		/* The engine queued an alert: send it, then close. */
		st.failed++;
		flush_engine(c);
		conn_drain(c);
		return;
	}
	if (!flush_engine(c)) {
		conn_free(c);
		return;
	}
	answer(c);
	if (c->ku_due && c->wlen == 0 && !tls_pending(c)) {
		c->ku_due = false;
		r = tls_conn_key_update(&c->tc, true);
		if (r < 0)
			fprintf(stderr, "tls_serve: tls_conn_key_update: %d\n", r);
		answer(c);
	}
	if (!flush_wbuf(c) || !flush_engine(c)) {
		conn_free(c);
		return;
	}
	if (c->tc.state == TLS_ST_FAILED && !tls_pending(c)) {
		conn_drain(c);
		return;
	}
	/* Closing: once everything answered is sent (answer() above took
	 * every whole request there was room for). */
	if ((c->close_after || (c->peer_eof && c->rlen == 0)) && c->wlen == 0 &&
	    !tls_pending(c)) {
		if (!c->tc.sent_close && c->tc.state != TLS_ST_FAILED &&
		    c->tc.state != TLS_ST_CLOSED) {
			tls_conn_close_notify(&c->tc);
			if (!flush_engine(c)) {
				conn_free(c);
				return;
			}
		}
		if (!tls_pending(c))
			conn_drain(c);
	}
}

static void on_readable(struct conn *c)
{
	if (c->st == C_DRAIN) {
		char junk[4096];
		ssize_t n = recv(c->fd, junk, sizeof junk, MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			conn_free(c);
		return;
	}
	if (c->rlen < RBUF_CAP) {
		ssize_t n = recv(c->fd, c->rbuf + c->rlen, RBUF_CAP - c->rlen, MSG_DONTWAIT);

		if (n > 0) {
			c->rlen += (size_t)n;
			c->last_ms = mono_ms();
		} else if (n == 0) {
			/* TCP EOF: answer what is whole, then close. */
			c->peer_eof = true;
			if (c->rlen == 0 && c->reqlen == 0 && c->wlen == 0 && !tls_pending(c)) {
				conn_drain(c);
				return;
			}
		} else if (errno != EAGAIN && errno != EINTR) {
			conn_free(c);
			return;
		}
	}
	service(c);
}

static void accept_all(int lfd)
{
	for (;;) {
		struct conn *c = NULL;
		int fd, one = 1;
		unsigned i;

		for (i = 0; i < MAX_CONNS; i++)
			if (conns[i].st == C_FREE) {
				c = &conns[i];
				break;
			}
		if (c == NULL)
			return;
		fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		memset(c, 0, offsetof(struct conn, rbuf));
		c->rlen = c->reqlen = c->wlen = c->woff = 0;
		c->nreq = 0;
		c->peer_eof = c->close_after = c->ku_due = false;
		c->fd = fd;
		c->st = C_OPEN;
		tls_conn_init(&c->tc, &srv);
		c->tc_live = true;
		c->last_ms = mono_ms();
		st.accepted++;
	}
}

static const char *alert_name(unsigned a)
{
	const char *n = tls_alert_name(a);

	return n ? n : "?";
}

static void print_stats(void)
{
	const struct tls_stats *s = &srv.stats;
	unsigned i, open = 0;

	for (i = 0; i < MAX_CONNS; i++)
		open += conns[i].st != C_FREE;
	fprintf(stderr, "tls_serve stats: conns=%llu open=%u requests=%llu failed=%llu "
		"timeouts=%llu/%llu/%llu deferred=%llu handshakes_full=%llu handshakes_resumed=%llu "
		"hrr_sent=%llu handshakes_failed=%llu tickets_sent=%llu tickets_bad=%llu "
		"early_data_skipped=%llu keyupdates_in=%llu keyupdates_out=%llu "
		"records_in=%llu records_out=%llu work_buf_exhausted=%llu bad_records=%llu "
		"work_bufs=%u/%u",
		(unsigned long long)st.accepted, open, (unsigned long long)st.requests,
		(unsigned long long)st.failed, (unsigned long long)st.timeouts[0],
		(unsigned long long)st.timeouts[1], (unsigned long long)st.timeouts[2],
		(unsigned long long)st.deferred, (unsigned long long)s->handshakes_full,
		(unsigned long long)s->handshakes_resumed, (unsigned long long)s->hrr_sent,
		(unsigned long long)s->handshakes_failed, (unsigned long long)s->tickets_sent,
		(unsigned long long)s->tickets_bad, (unsigned long long)s->early_data_skipped,
		(unsigned long long)s->keyupdates_in, (unsigned long long)s->keyupdates_out,
		(unsigned long long)s->records_in, (unsigned long long)s->records_out,
		(unsigned long long)s->work_buf_exhausted, (unsigned long long)s->bad_records,
		s->work_bufs_free, s->work_bufs_total);
	fprintf(stderr, " alerts_sent=");
	for (i = 0; i < 256; i++)
		if (s->alerts_sent[i])
			fprintf(stderr, "%s:%llu,", alert_name(i),
				(unsigned long long)s->alerts_sent[i]);
	fprintf(stderr, " alerts_received=");
	for (i = 0; i < 256; i++)
		if (s->alerts_received[i])
			fprintf(stderr, "%s:%llu,", alert_name(i),
				(unsigned long long)s->alerts_received[i]);
	fprintf(stderr, "\n");
}

int main(int argc, char **argv)
{
	static struct pollfd pfd[MAX_CONNS + 1];
	static struct conn *pconn[MAX_CONNS + 1];
	struct tls_server_config cfg;
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	const char *addr = "127.0.0.1";
	unsigned long port = 0, nbufs = 8;
	char *alpn_arg = NULL, *groups_arg = NULL, *suites_arg = NULL, *certs_arg = NULL;
	int lfd, one = 1, r, i;
	unsigned k;

	if (kiln_tls_ncerts == 0 || kiln_tls_ncerts > TLS_MAX_CERTS) {
		fprintf(stderr, "tls_serve: %u baked certificates\n", kiln_tls_ncerts);
		return 1;
	}
	for (k = 0; k < kiln_tls_ncerts; k++)
		certs[k] = kiln_tls_certs[k];
	ncerts = kiln_tls_ncerts;

	tls_server_config_default(&cfg);
	cfg.alpn[0] = "http/1.1";
	cfg.nalpn = 1;
	cfg.ticket_lifetime_s = 7200;
	for (i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (i + 1 == argc)
			usage();
		if (!strcmp(o, "--port"))
			port = num(argv[++i], 65535);
		else if (!strcmp(o, "--addr"))
			addr = argv[++i];
		else if (!strcmp(o, "--groups"))
			groups_arg = argv[++i];
		else if (!strcmp(o, "--suites"))
			suites_arg = argv[++i];
		else if (!strcmp(o, "--alpn"))
			alpn_arg = argv[++i];
		else if (!strcmp(o, "--chacha-pref")) {
			const char *v = argv[++i];

			if (strcmp(v, "yes") && strcmp(v, "no"))
				usage();
			cfg.honour_client_chacha = !strcmp(v, "yes");
		} else if (!strcmp(o, "--ticket-lifetime"))
			cfg.ticket_lifetime_s = (uint32_t)num(argv[++i], 604800);
		else if (!strcmp(o, "--work-bufs"))
			nbufs = num(argv[++i], MAX_WORK_BUFS);
		else if (!strcmp(o, "--keyupdate-after"))
			keyupdate_after = (unsigned)num(argv[++i], 1000000);
		else if (!strcmp(o, "--cert-names"))
			cert_names(argv[++i]);
		else if (!strcmp(o, "--certs"))
			certs_arg = argv[++i];
		else
			usage();
	}
	if (certs_arg) {
		struct tls_cert sel[TLS_MAX_CERTS];
		char *list[TLS_MAX_CERTS];
		unsigned n = split(certs_arg, list, TLS_MAX_CERTS, "certificates");

		for (k = 0; k < n; k++)
			sel[k] = certs[num(list[k], kiln_tls_ncerts - 1)];
		memcpy(certs, sel, n * sizeof *sel);
		ncerts = n;
	}
	if (groups_arg) {
		char *list[TLS_MAX_GROUPS];

		cfg.ngroups = split(groups_arg, list, TLS_MAX_GROUPS, "groups");
		for (k = 0; k < cfg.ngroups; k++) {
			int g = group_id(list[k]);

			if (g < 0) {
				fprintf(stderr, "tls_serve: unknown group '%s'\n", list[k]);
				return 2;
			}
			cfg.groups[k] = (uint16_t)g;
		}
	}
	if (suites_arg) {
		char *list[TLS_MAX_SUITES];

		cfg.nsuites = split(suites_arg, list, TLS_MAX_SUITES, "suites");
		for (k = 0; k < cfg.nsuites; k++) {
			int s = suite_id(list[k]);

			if (s < 0) {
				fprintf(stderr, "tls_serve: unknown suite '%s'\n", list[k]);
				return 2;
			}
			cfg.suites[k] = (uint16_t)s;
		}
	}
	if (alpn_arg) {
		char *list[TLS_MAX_ALPN];

		cfg.nalpn = 0;
		if (strcmp(alpn_arg, "none")) {
			cfg.nalpn = split(alpn_arg, list, TLS_MAX_ALPN, "ALPN protocols");
			for (k = 0; k < cfg.nalpn; k++)
				cfg.alpn[k] = list[k];
		}
	}
	if (nbufs == 0)
		nbufs = 1;
	cfg.certs = certs;
	cfg.ncerts = ncerts;
	cfg.random = rnd;
	cfg.now_ms = now_ms;
	r = tls_server_init(&srv, &cfg, work_pool, nbufs);
	if (r < 0) {
		fprintf(stderr, "tls_serve: tls_server_init: %d\n", r);
		return 1;
	}

	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGUSR1, on_signal);

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (lfd < 0) {
		perror("tls_serve: socket");
		return 1;
	}
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
		fprintf(stderr, "tls_serve: bad address '%s'\n", addr);
		return 2;
	}
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 128) < 0) {
		perror("tls_serve: bind/listen");
		return 1;
	}
	getsockname(lfd, (struct sockaddr *)&sa, &salen);
	printf("tls_serve: listening on %s:%u\n", addr, ntohs(sa.sin_port));
	fflush(stdout);
	for (k = 0; k < MAX_CONNS; k++)
		conns[k].fd = -1;

	while (!got_term) {
		unsigned np = 0, nfree = 0;
		uint64_t t;
		int n;

		for (k = 0; k < MAX_CONNS; k++) {
			struct conn *c = &conns[k];
			short ev = 0;

			if (c->st == C_FREE) {
				nfree++;
				continue;
			}
			if (c->st == C_DRAIN || c->rlen < RBUF_CAP)
				ev |= POLLIN;
			if (c->st == C_OPEN && (c->wlen > 0 || tls_pending(c)))
				ev |= POLLOUT;
			pfd[np].fd = c->fd;
			pfd[np].events = ev;
			pfd[np].revents = 0;
			pconn[np++] = c;
		}
		pfd[np].fd = nfree ? lfd : -1;
		pfd[np].events = POLLIN;
		pfd[np].revents = 0;
		n = poll(pfd, np + 1, 50);
		if (got_usr1) {
			got_usr1 = 0;
			print_stats();
		}
		if (n < 0 && errno != EINTR) {
			perror("tls_serve: poll");
			return 1;
		}
		for (k = 0; n > 0 && k < np; k++) {
			struct conn *c = pconn[k];

			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				on_readable(c);
			else if (pfd[k].revents & POLLOUT)
				service(c);
		}
		if (pfd[np].revents & POLLIN)
			accept_all(lfd);
		/* Deferred input (no work buffer then) and timeouts. */
		t = mono_ms();
		for (k = 0; k < MAX_CONNS; k++) {
			struct conn *c = &conns[k];
			uint64_t limit;
			unsigned which;

			if (c->st == C_FREE)
				continue;
			if (c->st == C_OPEN)
				service(c);
			if (c->st == C_FREE)
				continue;
			which = c->st == C_DRAIN ? 2 : c->tc_live && tls_conn_ready(&c->tc) ? 1 : 0;
			limit = which == 2 ? DRAIN_TIMEOUT_MS : which == 1 ? IDLE_TIMEOUT_MS :
				HANDSHAKE_TIMEOUT_MS;
			if (t - c->last_ms > limit) {
				st.timeouts[which]++;
				conn_free(c);
			}
		}
		tls_server_tick(&srv);
	}

	print_stats();
	for (k = 0; k < MAX_CONNS; k++)
		if (conns[k].st != C_FREE)
			conn_free(&conns[k]);
	close(lfd);
	if (srv.stats.work_bufs_free != srv.stats.work_bufs_total) {
		fprintf(stderr, "tls_serve: %u of %u work buffers did not come back\n",
			srv.stats.work_bufs_total - srv.stats.work_bufs_free,
			srv.stats.work_bufs_total);
		return 1;
	}
	fprintf(stderr, "tls_serve: exiting, every work buffer back\n");
	return 0;
}
