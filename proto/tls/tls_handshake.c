/*
 * tls_handshake.c - the server side of the TLS 1.3 handshake (RFC 8446
 * 4): ClientHello to the server's flight, HelloRetryRequest, the key
 * schedule (7.1) and the client's Finished.
 *
 * Interface: tls_hs_message (tls_int.h), called by tls_record.c with each
 * whole handshake message until the connection is established.
 *
 * Rules:
 *  - Choices follow the server's preference: the suite (cfg.suites; the
 *    client's ChaCha20 when it lists it first and honour_client_chacha),
 *    the group (ours, among the key shares sent; else, among the client's
 *    supported_groups, by one HelloRetryRequest), ALPN (cfg.alpn order,
 *    RFC 7301 3.2), the certificate (tls_hello_cert).
 *  - HelloRetryRequest (4.1.4): the state stays in the work buffer; the
 *    cookie (the hash of ClientHello1 and an HMAC of it under the
 *    server's cookie key) must come back in ClientHello2, which must
 *    bring a share for the group asked for and keep the suite. The
 *    transcript starts again with message_hash (4.4.1).
 *  - Resumption: only psk_dhe_ke (4.2.9); tls_ticket.c opens the ticket,
 *    the binder is checked here over the truncated ClientHello
 *    (4.2.11.2); a wrong binder is fatal (decrypt_error), an unusable
 *    ticket just means a full handshake.
 *  - The flight: ServerHello (plaintext record), one change_cipher_spec
 *    (after the first of HelloRetryRequest/ServerHello, D.4), then
 *    EncryptedExtensions, Certificate, CertificateVerify (omitted when
 *    resumed) and Finished, built in msg[] (the ClientHello is spent by
 *    then) and protected in records of at most max_plain into out[].
 *  - Secrets live in the work buffer's struct tls_hs, wiped when it goes
 *    back; the connection keeps only the application traffic secrets and
 *    the resumption master secret.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/tls.h>

#include "tls_int.h"
#include "tls_priv.h"

/* SHA-256("HelloRetryRequest") (4.1.3) */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static const char cv_context[] = "TLS 1.3, server CertificateVerify";

/* What the ClientHello decided, before anything is written. */
struct choice {
	uint16_t suite_id;
	unsigned suite;                 /* table index */
	uint16_t group;
	const uint8_t *share;           /* NULL: ask by HelloRetryRequest */
	size_t share_len;
	uint8_t alpn;                   /* index + 1, 0: none */
};

static bool client_has_suite(const struct tls_client_hello *ch, uint16_t id)
{
	return tls_hello_has_u16(ch->suites, id);
}

static uint16_t choose_suite(const struct tls_server *srv, const struct tls_client_hello *ch)
{
	const struct tls_server_config *cfg = &srv->cfg;
	if (cfg->honour_client_chacha && ch->suites.n >= 2 &&
	    (ch->suites.p[0] << 8 | ch->suites.p[1]) == TLS_CHACHA20_POLY1305_SHA256)
		for (unsigned i = 0; i < cfg->nsuites; i++)
			if (cfg->suites[i] == TLS_CHACHA20_POLY1305_SHA256)
				return TLS_CHACHA20_POLY1305_SHA256;
	for (unsigned i = 0; i < cfg->nsuites; i++)
		if (client_has_suite(ch, cfg->suites[i]))
			return cfg->suites[i];
	return 0;
}

/* The client's share for group g, or NULL. */
static const uint8_t *find_share(const struct tls_client_hello *ch, uint16_t g, size_t *len)
{
	struct tls_rd r, k;
	tls_rd_init(&r, ch->shares.p, ch->shares.n);
	while (tls_rd_left(&r) && !r.bad) {
		uint16_t grp = (uint16_t)tls_rd_uint(&r, 2);
		tls_rd_vec(&r, 2, 1, 0xffff, &k);
		if (!r.bad && grp == g) {
			*len = tls_rd_left(&k);
			return k.p;
		}
	}
	return NULL;
}

static int choose_group(const struct tls_server *srv, const struct tls_client_hello *ch,
			struct choice *x)
{
	const struct tls_server_config *cfg = &srv->cfg;
	for (unsigned i = 0; i < cfg->ngroups; i++) {
		x->share = find_share(ch, cfg->groups[i], &x->share_len);
		if (x->share) {
			x->group = cfg->groups[i];
			return 0;
		}
	}
	for (unsigned i = 0; i < cfg->ngroups; i++)
		if (tls_hello_has_u16(ch->groups, cfg->groups[i])) {
			x->group = cfg->groups[i];
			return 0;
		}
	return TLS_ALERT_HANDSHAKE_FAILURE;
}

/* RFC 7301 3.2: our first protocol the client offers. */
static int choose_alpn(const struct tls_server *srv, const struct tls_client_hello *ch,
		       uint8_t *alpn)
{
	const struct tls_server_config *cfg = &srv->cfg;
	*alpn = 0;
	if (!cfg->nalpn || !ch->alpn.p)
		return 0;
	for (unsigned i = 0; i < cfg->nalpn; i++) {
		size_t n = strlen(cfg->alpn[i]);
		struct tls_rd r, name;
		tls_rd_init(&r, ch->alpn.p, ch->alpn.n);
		while (tls_rd_left(&r) && !r.bad) {
			tls_rd_vec(&r, 1, 1, 255, &name);
			if (!r.bad && tls_rd_left(&name) == n && !memcmp(name.p, cfg->alpn[i], n)) {
				*alpn = (uint8_t)(i + 1);
				return 0;
			}
		}
	}
	return TLS_ALERT_NO_APPLICATION_PROTOCOL;
}

static void empty_hash(unsigned alg, uint8_t *out)
{
	tls_hash(alg, NULL, 0, out);
}

/* Writes a plaintext handshake record of msg into out. */
static void out_plain(struct tls_conn *c, const uint8_t *msg, size_t n)
{
	struct tls_work *w = c->work;
	w->out_len += (uint32_t)tls_record_write(c, w->out + w->out_len, TLS_CT_HANDSHAKE, msg, n);
}

static void out_ccs(struct tls_conn *c)
{
	struct tls_work *w = c->work;
	static const uint8_t ccs[6] = {TLS_CT_CCS, 3, 3, 0, 1, 1};
	memcpy(w->out + w->out_len, ccs, sizeof ccs);
	w->out_len += sizeof ccs;
	c->srv->stats.records_out++;
}

/* Common ServerHello / HelloRetryRequest head: into m, returns length so
 * far (extensions follow at m[len + 2...]). */
static size_t sh_head(uint8_t *m, const uint8_t *random, const struct tls_client_hello *ch,
		      uint16_t suite_id)
{
	size_t n = 4;
	m[0] = TLS_HS_SERVER_HELLO;
	tls_put16(m + n, 0x0303);
	n += 2;
	memcpy(m + n, random, 32);
	n += 32;
	m[n++] = (uint8_t)ch->sid.n;
	memcpy(m + n, ch->sid.p, ch->sid.n);
	n += ch->sid.n;
	tls_put16(m + n, suite_id);
	n += 2;
	m[n++] = 0;
	return n;
}

static size_t put_ext(uint8_t *m, size_t n, uint16_t type, const uint8_t *body, size_t len)
{
	tls_put16(m + n, type);
	tls_put16(m + n + 2, (uint32_t)len);
	memcpy(m + n + 4, body, len);
	return n + 4 + len;
}

static void finish_msg(uint8_t *m, size_t n, size_t ext_at)
{
	tls_put16(m + ext_at, (uint32_t)(n - ext_at - 2));
	tls_put24(m + 1, (uint32_t)(n - 4));
}

static int send_hrr(struct tls_conn *c, const struct tls_client_hello *ch, const uint8_t *msg,
		    size_t len, const struct choice *x)
{
	struct tls_server *srv = c->srv;
	struct tls_hs *hs = &c->work->hs;
	unsigned alg = tls_suites[x->suite].hash;
	size_t hl = tls_hash_len(alg);
	uint8_t m[4 + 2 + 32 + 33 + 3 + 2 + 6 + 6 + 6 + TLS_COOKIE_MAX];
	uint8_t b[2 + TLS_COOKIE_MAX];
	uint8_t tag[TLS_HASH_MAX];

	hs->suite_id = x->suite_id;
	hs->group = x->group;
	tls_hash(alg, msg, len, hs->ch1_hash);
	tls_hash_init(&hs->transcript, alg);
	uint8_t mh[4] = {TLS_HS_MESSAGE_HASH, 0, 0, (uint8_t)hl};
	tls_hash_update(&hs->transcript, mh, 4);
	tls_hash_update(&hs->transcript, hs->ch1_hash, hl);

	memcpy(hs->cookie, hs->ch1_hash, hl);
	tls_hmac(alg, srv->cookie_key, sizeof srv->cookie_key, hs->ch1_hash, hl, tag);
	memcpy(hs->cookie + hl, tag, TLS_COOKIE_TAG);
	hs->cookie_len = (uint8_t)(hl + TLS_COOKIE_TAG);

	size_t n = sh_head(m, hrr_random, ch, x->suite_id);
	size_t ext_at = n;
	n += 2;
	tls_put16(b, TLS_VERSION_13);
	n = put_ext(m, n, TLS_EXT_SUPPORTED_VERSIONS, b, 2);
	tls_put16(b, x->group);
	n = put_ext(m, n, TLS_EXT_KEY_SHARE, b, 2);
	tls_put16(b, hs->cookie_len);
	memcpy(b + 2, hs->cookie, hs->cookie_len);
	n = put_ext(m, n, TLS_EXT_COOKIE, b, 2u + hs->cookie_len);
	finish_msg(m, n, ext_at);
	tls_hash_update(&hs->transcript, m, n);

	out_plain(c, m, n);
	out_ccs(c);
	c->hrr = true;
	c->early_skipping = ch->early_data;
	c->state = TLS_ST_WAIT_CH2;
	srv->stats.hrr_sent++;
	return 0;
}

/* Checks the binder of the accepted ticket (hs->psk) over the ClientHello
 * up to its binders. */
static int check_binder(struct tls_conn *c, const struct tls_client_hello *ch, const uint8_t *msg)
{
	struct tls_hs *hs = &c->work->hs;
	unsigned alg = c->hash;
	size_t hl = tls_hash_len(alg);
	struct tls_hash_ctx t = hs->transcript;
	uint8_t th[TLS_HASH_MAX], want[TLS_HASH_MAX];
	struct tls_rd r, b;

	tls_hash_update(&t, msg, ch->truncated_len);
	tls_hash_peek(&t, th);
	tls_rd_init(&r, ch->binders.p, ch->binders.n);
	for (unsigned i = 0; i <= hs->psk_index; i++)
		tls_rd_vec(&r, 1, 32, 255, &b);
	if (r.bad || tls_rd_left(&b) != hl)
		return TLS_ALERT_DECRYPT_ERROR;
	tls_ticket_binder(alg, hs->psk, th, want);
	bool ok = tls_ct_equal(want, b.p, hl);
	tls_wipe(want, sizeof want);
	return ok ? 0 : TLS_ALERT_DECRYPT_ERROR;
}

static void finished_mac(unsigned alg, const uint8_t *base, const uint8_t *th, uint8_t *out)
{
	size_t hl = tls_hash_len(alg);
	uint8_t key[TLS_HASH_MAX];
	tls_hkdf_expand_label(alg, base, "finished", NULL, 0, key, hl);
	tls_hmac(alg, key, hl, th, hl, out);
	tls_wipe(key, sizeof key);
}

/* ServerHello with our share; then the handshake secrets and keys. */
static int server_hello(struct tls_conn *c, const struct tls_client_hello *ch,
			const struct choice *x)
{
	struct tls_server *srv = c->srv;
	struct tls_hs *hs = &c->work->hs;
	unsigned alg = c->hash;
	size_t hl = tls_hash_len(alg);
	uint8_t m[4 + 2 + 32 + 33 + 3 + 2 + 6 + 8 + TLS_KEX_PUB_MAX + 6];
	uint8_t rnd[64], random[32];
	uint8_t pub[TLS_KEX_PUB_MAX], shared[TLS_KEX_SECRET_MAX];
	uint8_t salt[TLS_HASH_MAX], th[TLS_HASH_MAX];
	uint8_t b[4 + TLS_KEX_PUB_MAX];
	size_t pub_len, shared_len;

	srv->cfg.random(rnd, sizeof rnd);
	int e = tls_kex(x->group, rnd, x->share, x->share_len, pub, &pub_len, shared, &shared_len);
	tls_wipe(rnd, sizeof rnd);
	if (e < 0 || pub_len > TLS_KEX_PUB_MAX || shared_len > TLS_KEX_SECRET_MAX)
		return TLS_ALERT_ILLEGAL_PARAMETER;

	srv->cfg.random(random, sizeof random);
	size_t n = sh_head(m, random, ch, x->suite_id);
	size_t ext_at = n;
	n += 2;
	tls_put16(b, TLS_VERSION_13);
	n = put_ext(m, n, TLS_EXT_SUPPORTED_VERSIONS, b, 2);
	tls_put16(b, x->group);
	tls_put16(b + 2, (uint32_t)pub_len);
	memcpy(b + 4, pub, pub_len);
	n = put_ext(m, n, TLS_EXT_KEY_SHARE, b, 4 + pub_len);
	if (c->resumed) {
		tls_put16(b, hs->psk_index);
		n = put_ext(m, n, TLS_EXT_PRE_SHARED_KEY, b, 2);
	}
	finish_msg(m, n, ext_at);
	tls_hash_update(&hs->transcript, m, n);
	out_plain(c, m, n);
	if (!c->hrr)
		out_ccs(c);

	/* 7.1: early secret, then the handshake secret */
	tls_hkdf_extract(alg, NULL, 0, c->resumed ? hs->psk : NULL, c->resumed ? hl : 0, hs->early);
	empty_hash(alg, th);
	tls_derive_secret(alg, hs->early, "derived", th, salt);
	tls_hkdf_extract(alg, salt, hl, shared, shared_len, hs->secret);
	tls_wipe(shared, sizeof shared);
	tls_hash_peek(&hs->transcript, th);
	tls_derive_secret(alg, hs->secret, "c hs traffic", th, hs->c_hs);
	tls_derive_secret(alg, hs->secret, "s hs traffic", th, hs->s_hs);
	tls_aead_init(&c->wr, c->suite, hs->s_hs);
	tls_aead_init(&c->rd, c->suite, hs->c_hs);
	return 0;
}

/* The encrypted part of the flight, built in msg[] (the ClientHello is
 * spent by then), the transcript following each message; its length, or
 * 0 with *alert set. */
static size_t build_flight(struct tls_conn *c, bool sni_ack, bool rsl, int *alert)
{
	struct tls_server *srv = c->srv;
	struct tls_work *w = c->work;
	struct tls_hs *hs = &w->hs;
	unsigned alg = c->hash;
	size_t hl = tls_hash_len(alg);
	uint8_t *m = w->msg;
	size_t n = 0, at;
	uint8_t th[TLS_HASH_MAX], b[4 + 255];
	uint8_t cv[64 + sizeof cv_context + TLS_HASH_MAX];

	/* EncryptedExtensions (4.3.1): ALPN, record_size_limit, SNI */
	m[0] = TLS_HS_ENCRYPTED_EXTENSIONS;
	n = 6;
	if (c->alpn) {
		const char *p = srv->cfg.alpn[c->alpn - 1];
		size_t pl = strlen(p);
		tls_put16(b, (uint32_t)(pl + 1));
		b[2] = (uint8_t)pl;
		memcpy(b + 3, p, pl);
		n = put_ext(m, n, TLS_EXT_ALPN, b, pl + 3);
	}
	if (rsl) {
		tls_put16(b, TLS_MAX_PLAINTEXT + 1);    /* RFC 8449 4: with the type */
		n = put_ext(m, n, TLS_EXT_RECORD_SIZE_LIMIT, b, 2);
	}
	if (sni_ack)
		n = put_ext(m, n, TLS_EXT_SERVER_NAME, b, 0);
	finish_msg(m, n, 4);
	tls_hash_update(&hs->transcript, m, n);
	if (c->resumed)
		goto finished;

	/* Certificate (4.4.2): the chain, no extensions */
	const struct tls_cert *ct = &srv->cfg.certs[c->cert];
	size_t need = 8;
	for (unsigned i = 0; i < ct->chain_len; i++)
		need += 3 + ct->chain[i].len + 2;
	if (need > sizeof w->msg - n - (8 + TLS_SIG_MAX) - (4 + hl)) {
		*alert = TLS_ALERT_INTERNAL_ERROR;
		return 0;
	}
	at = n;
	m[n] = TLS_HS_CERTIFICATE;
	tls_put24(m + n + 1, (uint32_t)(need - 4));
	m[n + 4] = 0;
	tls_put24(m + n + 5, (uint32_t)(need - 8));
	n += 8;
	for (unsigned i = 0; i < ct->chain_len; i++) {
		tls_put24(m + n, (uint32_t)ct->chain[i].len);
		memcpy(m + n + 3, ct->chain[i].data, ct->chain[i].len);
		n += 3 + ct->chain[i].len;
		tls_put16(m + n, 0);
		n += 2;
	}
	tls_hash_update(&hs->transcript, m + at, n - at);

	/* CertificateVerify (4.4.3) */
	memset(cv, 0x20, 64);
	memcpy(cv + 64, cv_context, sizeof cv_context);         /* with its 0 */
	tls_hash_peek(&hs->transcript, cv + 64 + sizeof cv_context);
	uint8_t rnd[64];
	srv->cfg.random(rnd, sizeof rnd);
	int sl = tls_sign(ct, hs->sigalg, cv, 64 + sizeof cv_context + hl, rnd, m + n + 8,
			  TLS_SIG_MAX);
	tls_wipe(rnd, sizeof rnd);
	if (sl <= 0 || sl > (int)TLS_SIG_MAX) {
		*alert = TLS_ALERT_INTERNAL_ERROR;
		return 0;
	}
	at = n;
	m[n] = TLS_HS_CERTIFICATE_VERIFY;
	tls_put24(m + n + 1, (uint32_t)(4 + sl));
	tls_put16(m + n + 4, hs->sigalg);
	tls_put16(m + n + 6, (uint32_t)sl);
	n += 8 + (size_t)sl;
	tls_hash_update(&hs->transcript, m + at, n - at);

finished:
	/* Finished (4.4.4) */
	tls_hash_peek(&hs->transcript, th);
	m[n] = TLS_HS_FINISHED;
	tls_put24(m + n + 1, (uint32_t)hl);
	finished_mac(alg, hs->s_hs, th, m + n + 4);
	tls_hash_update(&hs->transcript, m + n, 4 + hl);
	return n + 4 + hl;
}

static int flight_records(struct tls_conn *c, const uint8_t *data, size_t n)
{
	struct tls_work *w = c->work;
	size_t per = c->max_plain;
	size_t nrec = (n + per - 1) / per;
	if (n + nrec * TLS_REC_OVERHEAD > sizeof w->out - w->out_len)
		return TLS_ALERT_INTERNAL_ERROR;
	for (size_t off = 0; off < n; off += per) {
		size_t k = n - off < per ? n - off : per;
		w->out_len += (uint32_t)tls_record_write(c, w->out + w->out_len, TLS_CT_HANDSHAKE,
							 data + off, k);
	}
	return 0;
}

/* After the server's Finished (7.1): the master secret and both
 * application traffic secrets; we write under ours at once. */
static void app_secrets(struct tls_conn *c)
{
	struct tls_hs *hs = &c->work->hs;
	unsigned alg = c->hash;
	size_t hl = tls_hash_len(alg);
	uint8_t th[TLS_HASH_MAX], salt[TLS_HASH_MAX];
	empty_hash(alg, th);
	tls_derive_secret(alg, hs->secret, "derived", th, salt);
	tls_hkdf_extract(alg, salt, hl, NULL, 0, hs->secret);
	tls_hash_peek(&hs->transcript, th);
	tls_derive_secret(alg, hs->secret, "c ap traffic", th, c->rd_secret);
	tls_derive_secret(alg, hs->secret, "s ap traffic", th, c->wr_secret);
	tls_aead_clear(&c->wr);
	tls_aead_init(&c->wr, c->suite, c->wr_secret);
	tls_wipe(salt, sizeof salt);
}

static int client_hello(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct tls_server *srv = c->srv;
	struct tls_work *w = c->work;
	struct tls_hs *hs = &w->hs;
	struct tls_client_hello ch;
	struct choice x;
	bool second = c->state == TLS_ST_WAIT_CH2, matched = false;
	uint16_t sig = 0;
	int a;

	memset(&x, 0, sizeof x);
	if ((a = tls_hello_parse(msg, len, &ch)))
		goto alert;
	a = TLS_ALERT_PROTOCOL_VERSION;         /* TLS 1.2 and older (4.2.1) */
	if (!ch.has_versions || !ch.tls13)
		goto alert;
	a = TLS_ALERT_MISSING_EXTENSION;        /* psk_ke alone is not offered (9.2) */
	if (!ch.has_shares || !ch.has_groups)
		goto alert;
	a = TLS_ALERT_HANDSHAKE_FAILURE;
	if (!(x.suite_id = choose_suite(srv, &ch)))
		goto alert;
	x.suite = tls_suite_index(x.suite_id);
	if ((a = choose_group(srv, &ch, &x)))
		goto alert;
	a = TLS_ALERT_ILLEGAL_PARAMETER;
	if (second) {
		if (x.suite_id != hs->suite_id || x.group != hs->group || !x.share ||
		    ch.early_data || ch.cookie.n != hs->cookie_len ||
		    !tls_ct_equal(ch.cookie.p, hs->cookie, hs->cookie_len))
			goto alert;
	} else if (ch.cookie.p) {
		goto alert;             /* not one of ours: we keep no state across */
	}
	if ((a = choose_alpn(srv, &ch, &x.alpn)))
		goto alert;
	if (!x.share)
		return send_hrr(c, &ch, msg, len, &x);

	c->suite = (uint8_t)x.suite;
	c->hash = tls_suites[x.suite].hash;
	c->group = x.group;
	c->alpn = x.alpn;
	hs->suite_id = x.suite_id;
	hs->group = x.group;
	if (!second)
		tls_hash_init(&hs->transcript, c->hash);
	if (ch.record_size_limit)
		c->max_plain = (uint16_t)(ch.record_size_limit - 1u < TLS_MAX_PLAINTEXT
						  ? ch.record_size_limit - 1u : TLS_MAX_PLAINTEXT);

	/* resumption (4.2.11): a usable ticket and a right binder */
	int sni_cert = tls_hello_cert(srv, &ch, false, &sig, &matched);
	if (ch.has_psk) {
		a = TLS_ALERT_MISSING_EXTENSION;
		if (!ch.has_psk_modes)
			goto alert;
		if ((ch.psk_modes & 1u << TLS_PSK_DHE_KE) && srv->cfg.ticket_lifetime_s &&
		    sni_cert >= 0 && tls_ticket_accept(c, &ch, (unsigned)sni_cert)) {
			if ((a = check_binder(c, &ch, msg)))
				goto alert;
			c->resumed = true;
		}
	}
	if (c->resumed) {
		c->cert = (uint8_t)sni_cert;
	} else {
		a = TLS_ALERT_MISSING_EXTENSION;
		if (!ch.has_sigalgs)
			goto alert;
		a = TLS_ALERT_HANDSHAKE_FAILURE;
		int ci = tls_hello_cert(srv, &ch, true, &sig, &matched);
		if (ci < 0)
			goto alert;
		c->cert = (uint8_t)ci;
		hs->sigalg = sig;
	}
	c->sni_matched = matched;
	tls_hash_update(&hs->transcript, msg, len);
	if ((a = server_hello(c, &ch, &x)))
		goto alert;
	c->early_skipping = ch.early_data && !second;
	/* ch points into msg[], which build_flight overwrites: not used after */
	size_t n = build_flight(c, matched && !c->resumed, ch.record_size_limit != 0, &a);
	if (!n || (a = flight_records(c, w->msg, n)))
		goto alert;
	app_secrets(c);
	c->state = TLS_ST_WAIT_FINISHED;
	return 0;
alert:
	return tls_fail(c, (enum tls_alert)a, K_EPROTO);
}

static int client_finished(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	struct tls_server *srv = c->srv;
	struct tls_hs *hs = &c->work->hs;
	unsigned alg = c->hash;
	size_t hl = tls_hash_len(alg);
	uint8_t th[TLS_HASH_MAX], want[TLS_HASH_MAX];

	if (len != 4 + hl)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, K_EPROTO);
	tls_hash_peek(&hs->transcript, th);
	finished_mac(alg, hs->c_hs, th, want);
	bool ok = tls_ct_equal(want, msg + 4, hl);
	tls_wipe(want, sizeof want);
	if (!ok)
		return tls_fail(c, TLS_ALERT_DECRYPT_ERROR, K_EPROTO);
	tls_hash_update(&hs->transcript, msg, len);
	tls_hash_peek(&hs->transcript, th);
	tls_derive_secret(alg, hs->secret, "res master", th, c->res_secret);
	tls_aead_clear(&c->rd);
	tls_aead_init(&c->rd, c->suite, c->rd_secret);
	c->state = TLS_ST_CONNECTED;
	c->established = true;
	c->early_skipping = false;
	if (c->resumed)
		srv->stats.handshakes_resumed++;
	else
		srv->stats.handshakes_full++;
	for (unsigned i = 0; i < srv->cfg.nsuites; i++)
		if (srv->cfg.suites[i] == tls_suites[c->suite].id)
			srv->stats.suites[i]++;
	for (unsigned i = 0; i < srv->cfg.ngroups; i++)
		if (srv->cfg.groups[i] == c->group)
			srv->stats.groups[i]++;
	tls_ticket_issue(c);
	return 0;
}

int tls_hs_message(struct tls_conn *c, const uint8_t *msg, size_t len)
{
	switch (c->state) {
	case TLS_ST_START:
	case TLS_ST_WAIT_CH2:
		if (msg[0] == TLS_HS_CLIENT_HELLO)
			return client_hello(c, msg, len);
		break;
	case TLS_ST_WAIT_FINISHED:
		if (msg[0] == TLS_HS_FINISHED)
			return client_finished(c, msg, len);
		break;
	default:
		break;
	}
	return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
}
