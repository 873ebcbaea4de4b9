/*
 * tls.h - Kiln's TLS 1.3 server engine (RFC 8446).
 *
 * The engine does no I/O and has no clock or randomness of its own: a
 * transport (proto/tls/tls_tcp.c on Kiln's TCP, the native runner's
 * sockets, an in-memory pipe in tests) hands it received records and
 * sends what it produces; random bytes and time come through the
 * server's config, so tests and fuzzers are deterministic. Primitives
 * (hashes, HMAC, AEADs, X25519, P-256, ECDSA, RSA) are BearSSL's; the
 * handshake, key schedule, transcript, record layer and alerts are
 * Kiln's (proto/tls/).
 *
 *   boot:      tls_server_init(&srv, &cfg, bufs, nbufs)
 *   accept:    tls_conn_init(&tc, &srv)
 *   recv:      n = tls_conn_input(&tc, data, len, &plain)   (in place)
 *              deliver plain to the app; give back n bytes
 *   output:    while ((k = tls_conn_output(&tc, &p)) > 0) send p, k;
 *              tls_conn_output_done(&tc, sent)
 *   app data:  tls_conn_seal(&tc, rec, len)   (in place, one record)
 *   close:     tls_conn_close_notify(&tc); ...; tls_conn_release(&tc)
 *
 * RECEIVING. tls_conn_input() takes the transport's receive view and
 * decrypts whole records in place (the view must be writable): the
 * plaintext of an application-data record is returned as a view into
 * the same bytes, so nothing is copied. A record split across views is
 * gathered in a work buffer borrowed from the server's pool for as long
 * as it is incomplete (and for the handshake); an established, idle
 * connection holds no buffer. The call stops after each application-data
 * record, so the caller can deliver it before going on.
 *
 * SENDING. Handshake flights, tickets, alerts and KeyUpdates queue in
 * the engine (the work buffer during the handshake, a small inline
 * buffer after) and leave through tls_conn_output(). Application data is
 * sealed in place: the caller lays out TLS_REC_HDR bytes of room, the
 * plaintext, and TLS_REC_TAIL bytes of room after it - normally straight
 * in a transmit buffer - and tls_conn_seal() turns that into one record.
 * Queued engine output must be sent before sealed records (order).
 *
 * All calls for one connection come from one loop; a server is shared by
 * the connections of one core.
 */
#ifndef KILN_TLS_H
#define KILN_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>

/* ---- sizes and limits ------------------------------------------------ */

#define TLS_MAX_PLAINTEXT 16384u                 /* RFC 8446 5.1 */
#define TLS_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 256u)  /* 5.2 */
#define TLS_REC_HDR 5u
/* After the plaintext: the inner content type and the AEAD tag. */
#define TLS_REC_TAIL (1u + 16u)
#define TLS_REC_OVERHEAD (TLS_REC_HDR + TLS_REC_TAIL)
/* A work buffer: the handshake's state (transcript, secrets: at most
 * TLS_WORK_STATE bytes), one record being gathered, one handshake message
 * being reassembled (up to TLS_MAX_HS_MSG), and the server's flight;
 * rounded up to 64 so an array of them keeps every one aligned. */
#define TLS_MAX_HS_MSG 8192u
#define TLS_FLIGHT_MAX 8192u
#define TLS_WORK_STATE 2048u
#define TLS_WORK_BUF ((TLS_WORK_STATE + TLS_REC_HDR + TLS_MAX_CIPHERTEXT + TLS_MAX_HS_MSG + \
		       TLS_FLIGHT_MAX + 63u) & ~63u)
/* Engine output after the handshake: alerts, KeyUpdate, tickets. */
#define TLS_SMALL_OUT 512u
#define TLS_MAX_CERTS 8u
#define TLS_MAX_CHAIN 4u
#define TLS_MAX_ALPN 4u
#define TLS_MAX_SUITES 3u
#define TLS_MAX_GROUPS 3u

enum tls_suite_id {
	TLS_AES_128_GCM_SHA256 = 0x1301,
	TLS_AES_256_GCM_SHA384 = 0x1302,
	TLS_CHACHA20_POLY1305_SHA256 = 0x1303,
};

enum tls_group_id {
	TLS_GROUP_SECP256R1 = 0x0017,
	TLS_GROUP_SECP384R1 = 0x0018,
	TLS_GROUP_X25519 = 0x001d,
};

/* Alert descriptions (RFC 8446 6). */
enum tls_alert {
	TLS_ALERT_CLOSE_NOTIFY = 0,
	TLS_ALERT_UNEXPECTED_MESSAGE = 10,
	TLS_ALERT_BAD_RECORD_MAC = 20,
	TLS_ALERT_RECORD_OVERFLOW = 22,
	TLS_ALERT_HANDSHAKE_FAILURE = 40,
	TLS_ALERT_BAD_CERTIFICATE = 42,
	TLS_ALERT_ILLEGAL_PARAMETER = 47,
	TLS_ALERT_DECODE_ERROR = 50,
	TLS_ALERT_DECRYPT_ERROR = 51,
	TLS_ALERT_PROTOCOL_VERSION = 70,
	TLS_ALERT_INSUFFICIENT_SECURITY = 71,
	TLS_ALERT_INTERNAL_ERROR = 80,
	TLS_ALERT_INAPPROPRIATE_FALLBACK = 86,
	TLS_ALERT_USER_CANCELED = 90,
	TLS_ALERT_MISSING_EXTENSION = 109,
	TLS_ALERT_UNSUPPORTED_EXTENSION = 110,
	TLS_ALERT_UNRECOGNIZED_NAME = 112,
	TLS_ALERT_NO_APPLICATION_PROTOCOL = 120,
};

/* ---- certificates ------------------------------------------------------ */

enum tls_key_type { TLS_KEY_EC_P256 = 1, TLS_KEY_RSA = 2 };

struct tls_der {
	const uint8_t *data;
	size_t len;
};

/*
 * A certificate chain (leaf first, DER) with the leaf's private key and
 * the DNS names it serves ("*.example.org" matches one label). The
 * first certificate of a list is the default when SNI matches none.
 */
struct tls_cert {
	const char *const *names;
	unsigned nnames;
	const struct tls_der *chain;
	unsigned chain_len;
	enum tls_key_type key_type;
	br_ec_private_key ec;       /* TLS_KEY_EC_P256: curve BR_EC_secp256r1 */
	br_rsa_private_key rsa;     /* TLS_KEY_RSA (CRT form) */
	br_rsa_public_key rsa_pub;  /* its modulus and exponent */
};

/* The certificates the build baked into the image (mk/tls.mk):
 * the development pair unless TLS_CERT/TLS_KEY named real ones. */
extern const struct tls_cert kiln_tls_certs[];
extern const unsigned kiln_tls_ncerts;

/* ---- the server ---------------------------------------------------------- */

struct tls_server_config {
	const struct tls_cert *certs;
	unsigned ncerts;
	/* Server preference; 0 entries: all three, AES-128-GCM first (or
	 * ChaCha20 first on a CPU without AES-NI). */
	uint16_t suites[TLS_MAX_SUITES];
	unsigned nsuites;
	/* Take the client's first choice when it lists ChaCha20 first (a
	 * client without AES hardware says so that way). */
	bool honour_client_chacha;
	/* Groups accepted, preference order; 0 entries: x25519, P-256, P-384. */
	uint16_t groups[TLS_MAX_GROUPS];
	unsigned ngroups;
	/* ALPN protocols in server preference ("h2", "http/1.1"); none:
	 * ALPN is ignored. A client offering only others gets
	 * no_application_protocol. */
	const char *alpn[TLS_MAX_ALPN];
	unsigned nalpn;
	/* Random bytes (the kernel's DRBG). Required. */
	void (*random)(void *buf, size_t len);
	/* Wall-clock milliseconds for ticket ages and key rotation. Required. */
	uint64_t (*now_ms)(void);
	/* Session tickets: lifetime (0: none issued or accepted), how often
	 * the sealing key rotates (the previous key stays valid one more
	 * period), tickets sent after each handshake (full or resumed). */
	uint32_t ticket_lifetime_s;
	uint32_t ticket_rotate_s;
	unsigned tickets_per_handshake;
	/* 0-RTT is always declined; this much early data is skipped. */
	uint32_t max_early_data;
	/* Limits against a peer that talks without progress. */
	unsigned max_keyupdates;      /* KeyUpdates per 64 application records */
	unsigned max_empty_records;   /* records without plaintext in a row */
};

void tls_server_config_default(struct tls_server_config *cfg);

struct tls_stats {
	uint64_t handshakes_full, handshakes_resumed, hrr_sent,
		 handshakes_failed, tickets_sent, tickets_bad, early_data_skipped,
		 keyupdates_in, keyupdates_out, records_in, records_out,
		 work_buf_exhausted, bad_records;
	uint64_t alerts_sent[256], alerts_received[256];
	uint64_t suites[TLS_MAX_SUITES];          /* by index of config.suites */
	uint64_t groups[TLS_MAX_GROUPS];          /* by index of config.groups */
	uint32_t work_bufs_total, work_bufs_free;
};

struct tls_work;

struct tls_server {
	struct tls_server_config cfg;
	struct tls_stats stats;
	struct tls_work *free_work;
	uint8_t ticket_key[2][32];     /* current, previous */
	uint8_t ticket_key_id[2][4];
	uint64_t ticket_key_born_ms;
	uint8_t ticket_keys;           /* how many of ticket_key are valid */
	uint8_t cookie_key[32];        /* HelloRetryRequest cookies */
	bool aesni;
};

/*
 * Sets srv up with nbufs work buffers of TLS_WORK_BUF bytes at bufs
 * (caller-owned, kept for srv's life, 16-byte aligned). K_EINVAL: no
 * certificate, no random source or clock, an unknown suite or group, a
 * key that is not usable, bufs misaligned.
 */
int tls_server_init(struct tls_server *srv, const struct tls_server_config *cfg,
		    void *bufs, size_t nbufs);
/* Rotates the ticket key when its period is over; call now and then. */
void tls_server_tick(struct tls_server *srv);

/* ---- a connection --------------------------------------------------------- */

enum tls_state {
	TLS_ST_START = 0, TLS_ST_WAIT_CH2, TLS_ST_WAIT_FINISHED, TLS_ST_CONNECTED,
	TLS_ST_CLOSED,      /* close_notify received or sent and done */
	TLS_ST_FAILED,      /* fatal alert sent or received */
};

/* The AEAD state of one direction. */
struct tls_aead {
	uint8_t suite;                  /* index into the suite table; 0: none */
	uint8_t iv[12];
	uint64_t seq;
	union {
		struct {
			br_aes_x86ni_ctr_keys ni;
		} x86ni;
		br_aes_ct64_ctr_keys ct64;
		uint8_t chacha_key[32];
	} k;
	uint8_t h[16];                  /* GHASH key */
};

struct tls_conn {
	struct tls_server *srv;
	struct tls_work *work;          /* borrowed: handshake, partial record */
	uint8_t state;
	uint8_t suite;                  /* index into the suite table */
	uint8_t hash;                   /* 0 SHA-256, 1 SHA-384 */
	uint8_t alpn;                   /* index + 1 into cfg.alpn, 0: none */
	uint8_t cert;                   /* index into cfg.certs */
	bool resumed, hrr, ccs_seen, sent_close, got_close, early_skipping;
	bool plain_in_work;             /* the last plain points into work */
	bool established;               /* the client's Finished was right */
	bool sni_matched;               /* the cert was chosen by SNI */
	uint16_t max_plain;             /* what we send per record (RFC 8449) */
	uint16_t group;
	uint32_t early_skipped;
	uint16_t empty_records;
	uint16_t keyupdates;
	uint32_t app_records;
	struct tls_aead rd, wr;
	uint8_t rd_secret[48], wr_secret[48];   /* application traffic secrets */
	uint8_t res_secret[48];                 /* resumption master secret */
	/* A record being gathered across views lives in work: */
	uint32_t gather_len;
	/* A post-handshake message (KeyUpdate) split across records. */
	uint8_t hs_small[8];
	uint8_t hs_small_len;
	/* Engine output after the handshake. */
	uint16_t small_len, small_off;
	uint8_t small[TLS_SMALL_OUT];
	enum tls_alert last_alert;
};

void tls_conn_init(struct tls_conn *c, struct tls_server *srv);

/* Plaintext handed back by tls_conn_input(). */
struct tls_plain {
	uint8_t *data;
	size_t len;
	bool eof;                       /* close_notify: no more data */
};

/*
 * Consumes received bytes from data[0..len) (decrypting in place) and
 * returns how many it took, >= 0; plain is the plaintext of the first
 * application-data record among them (len 0 if none) - the caller
 * delivers it, then calls again with the rest. Negative: the connection
 * failed (K_EPROTO and friends); an alert is queued in the output, the
 * caller sends it and closes. The taken bytes may point into plain: the
 * caller keeps them until plain is delivered. plain stays valid until
 * the next call on the connection (a record gathered across views is
 * returned from the work buffer, which is given back on that call).
 *
 * K_ENOMEM: the connection needs a work buffer (its handshake starts, or
 * a record is split across views) and the pool is empty; nothing was
 * taken and nothing changed (counted in work_buf_exhausted): the caller
 * may retry later, or close. 0 with nothing taken and no plain while the
 * engine has output queued: the small output buffer is nearly full (a
 * peer asking for KeyUpdates without reading); send it first.
 * K_ECONNRESET: the peer sent a fatal alert (nothing is queued).
 */
int tls_conn_input(struct tls_conn *c, uint8_t *data, size_t len, struct tls_plain *plain);

/* Bytes the engine wants sent now (a view; 0 when none). */
size_t tls_conn_output(struct tls_conn *c, const uint8_t **p);
/* n bytes of that view were sent (copied out). */
void tls_conn_output_done(struct tls_conn *c, size_t n);

/* Application data may be sealed (the handshake is complete and no
 * close_notify was sent). */
bool tls_conn_ready(const struct tls_conn *c);
/*
 * Seals one record in place: rec[0..TLS_REC_HDR) is room for the header,
 * rec[TLS_REC_HDR..+len) the plaintext (len <= tls_conn_max_plain), and
 * TLS_REC_TAIL bytes after it room for the type and tag. Returns the
 * record's length (len + TLS_REC_OVERHEAD), or K_ENOTCONN/K_ECLOSED, or
 * K_EMSGSIZE when len is over tls_conn_max_plain.
 */
int tls_conn_seal(struct tls_conn *c, uint8_t *rec, size_t len);

/* The most plaintext one sealed record may carry: TLS_MAX_PLAINTEXT, or
 * less when the peer set a record_size_limit (RFC 8449). */
size_t tls_conn_max_plain(const struct tls_conn *c);
/* The connection holds a work buffer now (tests, counters). */
bool tls_conn_has_work(const struct tls_conn *c);
/* The plaintext tls_conn_input() returned last has been delivered: a
 * work buffer that held it, and nothing else, goes back to the pool now
 * rather than at the next call (an idle connection holds none). */
void tls_conn_plain_done(struct tls_conn *c);

/* Queues a close_notify (once). */
void tls_conn_close_notify(struct tls_conn *c);
/* Queues a KeyUpdate (update_requested when ask) and switches keys. */
int tls_conn_key_update(struct tls_conn *c, bool ask);
/* Gives back the work buffer; the conn must not be used again (except
 * by tls_conn_init). */
void tls_conn_release(struct tls_conn *c);

/* Negotiated values (valid once connected). */
const char *tls_conn_alpn(const struct tls_conn *c);
uint16_t tls_conn_suite(const struct tls_conn *c);
const char *tls_suite_name(uint16_t suite);
const char *tls_group_name(uint16_t group);
const char *tls_alert_name(unsigned alert);

#endif
