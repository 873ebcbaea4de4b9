/*
 * http_priv.h - what the HTTP engine's files share and apps do not see:
 * the character classes of RFC 9110 5.6.2 and 9112, the one checked
 * read the parsers use, case-insensitive comparison, and the entry
 * points between parser, router, response builder and server.
 */
#ifndef PROTO_HTTP_PRIV_H
#define PROTO_HTTP_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/http.h>

/* ---- character classes (http_parse.c holds the table) ------------------ */

#define HTTP_C_TCHAR  0x01u   /* token: RFC 9110 5.6.2 */
#define HTTP_C_FIELD  0x02u   /* field-vchar, obs-text, SP, HTAB: RFC 9110 5.5 */
#define HTTP_C_TARGET 0x04u   /* request-target bytes: VCHAR but '#' */
#define HTTP_C_WS     0x08u   /* SP, HTAB (OWS/BWS) */
#define HTTP_C_HOST   0x10u   /* Host value: RFC 3986 reg-name, IP literal, port */
#define HTTP_C_HEX    0x20u

extern const uint8_t http_ctype[256];

static inline bool http_is(uint8_t c, unsigned cls)
{
	return (http_ctype[c] & cls) != 0;
}

/*
 * The one checked read of the text parsers: advances *src over bytes of
 * class cls, never past end, and returns how many it passed.
 */
static inline size_t http_span(const uint8_t **src, const uint8_t *end, unsigned cls)
{
	const uint8_t *s = *src;
	while (s < end && (http_ctype[*s] & cls))
		s++;
	size_t n = (size_t)(s - *src);
	*src = s;
	return n;
}

/* Takes byte c if it is next; true when taken. */
static inline bool http_take(const uint8_t **src, const uint8_t *end, uint8_t c)
{
	if (*src < end && **src == c) {
		(*src)++;
		return true;
	}
	return false;
}

static inline uint8_t http_lower(uint8_t c)
{
	return (uint8_t)(c >= 'A' && c <= 'Z' ? c + 32 : c);
}

/* Case-insensitive equality of a (len bytes) and the lower-case lit. */
static inline bool http_ieq(const char *a, size_t len, const char *lit, size_t lit_len)
{
	if (len != lit_len)
		return false;
	for (size_t i = 0; i < len; i++)
		if (http_lower((uint8_t)a[i]) != (uint8_t)lit[i])
			return false;
	return true;
}
#define HTTP_IEQ(a, len, lit) http_ieq((a), (len), lit, sizeof(lit) - 1)

/*
 * Splits the next element of a comma-separated list (RFC 9110 5.6.1)
 * out of [*src, end): skips empty elements and OWS, stores the element
 * (trailing OWS removed) in *el and *el_len. False when the list is done.
 */
bool http_list_next(const char **src, const char *end, const char **el, size_t *el_len);

/* ---- router (http_router.c) ------------------------------------------------ */

/* The route for req, or NULL with *allow set to the methods the path's
 * routes accept (0 when no route matches the path at all). */
const struct http_route *http_router_match(const struct http_server *srv,
					   const struct http_req *req, uint32_t *allow);
/* Writes "GET, HEAD, ..." for allow into buf; returns its length. */
size_t http_allow_format(uint32_t allow, char *buf, size_t size);

/* ---- response (http_response.c) --------------------------------------------- */

/* Prepares c for answering req (a fresh response). */
void http_resp_reset(struct http_conn *c);
/* A complete error response with a short text body; keeps the
 * connection when keep is true (e.g. 404), else Connection: close. */
int http_resp_error(struct http_conn *c, struct http_req *req, int status, bool keep,
		    const char *allow);
/* Sends "HTTP/1.1 100 Continue". */
void http_resp_continue(struct http_conn *c);
/* Refreshes the cached Server/Date lines from the wall clock. */
void http_date_refresh(struct http_server *srv, uint64_t wall_ns);
/* Formats the IMF-fixdate (RFC 9110 5.6.7) of unix seconds into 29 bytes. */
void http_date_format(uint64_t unix_sec, char out[29]);

/* ---- server (http_server.c) -------------------------------------------------- */

enum http_conn_state {
	HTTP_CS_FREE = 0,
	HTTP_CS_OPEN,       /* reading requests */
	HTTP_CS_CLOSING,    /* last response going out, then shutdown */
	HTTP_CS_LINGER,     /* shut down; reading and dropping input */
	HTTP_CS_DEAD,       /* transport gone; waiting for the app to let go */
};

/* Staging room for a response at out[out_len] (custom headers sit there). */
static inline size_t http_out_room(const struct http_conn *c)
{
	return HTTP_OUT_BUF - c->out_len - c->hcustom;
}
/* Queues the n bytes written at out[out_len] after what is queued. */
void http_out_commit(struct http_conn *c, size_t n);
/* Queues a lent span after what is queued; done runs exactly once. */
int http_out_borrow(struct http_conn *c, const void *p, size_t n, void (*done)(void *), void *arg);
/* Moves queued output to the transport, in order. K_OK when all went,
 * K_EAGAIN when the transport is full, K_ECLOSED when it failed. */
int http_out_flush(struct http_conn *c);
/* The response to the current request is complete. */
void http_conn_response_done(struct http_conn *c);
/* The app's late call on a connection whose transport went away: frees
 * it. True if c was such a connection. */
bool http_conn_reap(struct http_conn *c);

#endif
