/*
 * tls_int.h - inside the TLS engine: the work buffer and the handshake
 * state it carries, the checked reader the parsers share, and the calls
 * between the engine's files (tls_record.c, tls_hello.c, tls_handshake.c,
 * tls_ticket.c, tls_server.c). The crypto layer is tls_priv.h.
 *
 * Rules:
 *  - A struct tls_work is one TLS_WORK_BUF-sized piece of the pool given
 *    to tls_server_init; a connection borrows one for its handshake and
 *    for a record split across views, and gives it back as soon as it is
 *    established and idle (tls_work_maybe_release).
 *  - Everything parsed from the peer is read through struct tls_rd: a
 *    short read sets bad and yields zeros, so parsers check bad once at
 *    the end of each structure instead of before every field.
 */
#ifndef TLS_INT_H
#define TLS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <kiln/tls.h>

#include "tls_priv.h"

/* Content types (RFC 8446 5.1) and handshake types (4). */
enum {
	TLS_CT_CCS = 20, TLS_CT_ALERT = 21, TLS_CT_HANDSHAKE = 22, TLS_CT_APPDATA = 23,
};
enum {
	TLS_HS_CLIENT_HELLO = 1, TLS_HS_SERVER_HELLO = 2, TLS_HS_NEW_SESSION_TICKET = 4,
	TLS_HS_END_OF_EARLY_DATA = 5, TLS_HS_ENCRYPTED_EXTENSIONS = 8, TLS_HS_CERTIFICATE = 11,
	TLS_HS_CERTIFICATE_VERIFY = 15, TLS_HS_FINISHED = 20, TLS_HS_KEY_UPDATE = 24,
	TLS_HS_MESSAGE_HASH = 254,
};
/* Extensions (RFC 8446 4.2, RFC 6066, 7301, 8449, 7685). */
enum {
	TLS_EXT_SERVER_NAME = 0, TLS_EXT_SUPPORTED_GROUPS = 10, TLS_EXT_SIG_ALGS = 13,
	TLS_EXT_ALPN = 16, TLS_EXT_PADDING = 21, TLS_EXT_RECORD_SIZE_LIMIT = 28,
	TLS_EXT_PRE_SHARED_KEY = 41, TLS_EXT_EARLY_DATA = 42, TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_COOKIE = 44, TLS_EXT_PSK_MODES = 45, TLS_EXT_SIG_ALGS_CERT = 50,
	TLS_EXT_KEY_SHARE = 51,
};

#define TLS_VERSION_13 0x0304
#define TLS_PSK_DHE_KE 1
/* Tickets: key id, nonce, sealed body, tag (tls_ticket.c). */
#define TLS_TICKET_BODY 65
#define TLS_TICKET_LEN (4 + 12 + TLS_TICKET_BODY + 16)
/* A client's ticket age may differ from ours by this much (RFC 8446 8.3). */
#define TLS_TICKET_AGE_SLACK_MS 10000u
/* HelloRetryRequest cookie: the ClientHello1 hash and a tag over it. */
#define TLS_COOKIE_TAG 16
#define TLS_COOKIE_MAX (TLS_HASH_MAX + TLS_COOKIE_TAG)

/* ---- the checked reader --------------------------------------------------- */

struct tls_rd {
	const uint8_t *p, *end;
	bool bad;
};

static inline void tls_rd_init(struct tls_rd *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->end = p + n;
	r->bad = false;
}

static inline size_t tls_rd_left(const struct tls_rd *r)
{
	return (size_t)(r->end - r->p);
}

/* n bytes, or NULL (and bad) when fewer are left. */
static inline const uint8_t *tls_rd_take(struct tls_rd *r, size_t n)
{
	if (r->bad || n > tls_rd_left(r)) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p;
	r->p += n;
	return p;
}

static inline uint32_t tls_rd_uint(struct tls_rd *r, unsigned nbytes)
{
	const uint8_t *p = tls_rd_take(r, nbytes);
	uint32_t v = 0;
	for (unsigned i = 0; p && i < nbytes; i++)
		v = v << 8 | p[i];
	return v;
}

/* A vector with an nbytes length prefix, as a sub-reader; its length
 * must lie within [min, max]. */
static inline void tls_rd_vec(struct tls_rd *r, unsigned nbytes, size_t min, size_t max,
			      struct tls_rd *sub)
{
	size_t n = tls_rd_uint(r, nbytes);
	const uint8_t *p = NULL;
	if (n < min || n > max)
		r->bad = true;
	else
		p = tls_rd_take(r, n);
	tls_rd_init(sub, p ? p : r->p, p ? n : 0);
	sub->bad = r->bad;
}

static inline void tls_put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void tls_put24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 16);
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)v;
}

static inline void tls_put32(uint8_t *p, uint32_t v)
{
	tls_put16(p, v >> 16);
	tls_put16(p + 2, v);
}

/* ---- a parsed ClientHello (views into the message) -------------------------- */

struct tls_span {
	const uint8_t *p;
	size_t n;
};

struct tls_client_hello {
	const uint8_t *random;
	struct tls_span sid, suites, groups, shares, sigalgs, sni, alpn, cookie;
	struct tls_span psk_ids, binders;
	size_t truncated_len;           /* the message up to the binders */
	uint32_t psk_modes;             /* bit per mode (0, 1) */
	uint16_t record_size_limit;     /* 0: absent */
	bool has_versions, tls13, has_psk_modes, early_data, has_sigalgs;
	bool has_groups, has_shares, has_psk;
};

/* ---- the handshake state in the work buffer ---------------------------------- */

struct tls_hs {
	struct tls_hash_ctx transcript;
	uint16_t suite_id, group, sigalg;
	uint8_t hlen;
	uint8_t ch1_hash[TLS_HASH_MAX];         /* for the HRR cookie */
	uint8_t cookie[TLS_COOKIE_MAX];
	uint8_t cookie_len;
	uint8_t early[TLS_HASH_MAX];            /* early secret */
	uint8_t secret[TLS_HASH_MAX];           /* handshake, then master secret */
	uint8_t c_hs[TLS_HASH_MAX], s_hs[TLS_HASH_MAX];
	uint8_t psk[TLS_HASH_MAX];
	bool have_psk;
	uint16_t psk_index;
};

struct tls_work {
	struct tls_work *next;                  /* the server's free list */
	struct tls_hs hs;
	uint32_t msg_len;                       /* handshake bytes in msg */
	uint32_t out_len, out_off;              /* the flight in out */
	uint8_t rec[TLS_REC_HDR + TLS_MAX_CIPHERTEXT];
	uint8_t msg[TLS_MAX_HS_MSG];
	uint8_t out[TLS_FLIGHT_MAX];
};

/* ---- between the engine's files ------------------------------------------------ */

/* tls_record.c */
/* Marks the connection failed after queueing a fatal alert; returns err. */
int tls_fail(struct tls_conn *c, enum tls_alert alert, int err);
/* Protects one record of type with data[0..n) into buf (n <= max_plain):
 * plaintext when wr has no keys. Returns the bytes written. */
size_t tls_record_write(struct tls_conn *c, uint8_t *buf, uint8_t type, const uint8_t *data,
			size_t n);
/* Queues handshake bytes (whole messages) in the small buffer as
 * records; false when they do not fit. */
bool tls_small_queue_hs(struct tls_conn *c, const uint8_t *msg, size_t n);
/* Room left in the small buffer. */
size_t tls_small_room(const struct tls_conn *c);

/* tls_hello.c */
/* Parses a ClientHello message (with its 4-byte header); 0 or an alert. */
int tls_hello_parse(const uint8_t *msg, size_t len, struct tls_client_hello *ch);
/* The certificate for ch: by SNI (exact names, then wildcards), then the
 * others in order (the first is the default); with need_sig, only one
 * whose key the client can verify (*sigalg set). -1: none usable. */
int tls_hello_cert(const struct tls_server *srv, const struct tls_client_hello *ch,
		   bool need_sig, uint16_t *sigalg, bool *matched);
/* The sigalg the client accepts for a key type, 0: none. */
uint16_t tls_hello_sigalg(const struct tls_client_hello *ch, enum tls_key_type kt);
bool tls_hello_has_u16(struct tls_span list, uint16_t v);

/* tls_handshake.c */
/* A whole handshake message during the handshake; 0 or a negative error
 * (the alert already queued). */
int tls_hs_message(struct tls_conn *c, const uint8_t *msg, size_t len);

/* tls_ticket.c */
/* The NewSessionTicket messages after the handshake, into small. */
void tls_ticket_issue(struct tls_conn *c);
/* Looks for a usable ticket in ch for the chosen suite and cert; fills
 * hs->psk, hs->psk_index. false: none (full handshake). */
bool tls_ticket_accept(struct tls_conn *c, const struct tls_client_hello *ch, unsigned cert);
/* HMAC of the binder (RFC 8446 4.2.11.2) with the given transcript hash. */
void tls_ticket_binder(unsigned alg, const uint8_t *psk, const uint8_t *th, uint8_t *out);

/* tls_server.c */
struct tls_work *tls_work_get(struct tls_server *srv);
void tls_work_put(struct tls_server *srv, struct tls_work *w);

#endif
