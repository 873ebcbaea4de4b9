/*
 * tls_fixture.h - keys, certificates, randomness and a clock for the TLS
 * engine's tests and fuzz target.
 *
 * The engine never parses a certificate, so the "chains" are small
 * dummy DER blobs (a SEQUENCE holding a name, so each certificate is
 * recognisable in the Certificate message). The EC key is a fixed P-256
 * scalar; the RSA-2048 key is made once at start-up by BearSSL's keygen
 * over an HMAC-DRBG with a fixed seed, so every run has the same key.
 * Randomness is a counter through SHA-256, the clock a variable.
 *
 * Header-only: each test or fuzz program includes it once.
 */
#ifndef TLS_FIXTURE_H
#define TLS_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bearssl.h>
#include <kiln/tls.h>

/* ---- the clock and the random source --------------------------------------- */

static uint64_t fx_now_ms = 1700000000000ull;
static uint64_t fx_rand_ctr;

static uint64_t fx_clock(void)
{
	return fx_now_ms;
}

static void fx_random(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len) {
		uint8_t block[32], ctr[8];
		for (int i = 0; i < 8; i++)
			ctr[i] = (uint8_t)(fx_rand_ctr >> (8 * i));
		fx_rand_ctr++;
		br_sha256_context h;
		br_sha256_init(&h);
		br_sha256_update(&h, "kiln-tls-test", 13);
		br_sha256_update(&h, ctr, 8);
		br_sha256_out(&h, block);
		size_t k = len < 32 ? len : 32;
		memcpy(p, block, k);
		p += k;
		len -= k;
	}
}

/* ---- keys -------------------------------------------------------------------------- */

static const uint8_t fx_ec_scalar[32] = {
	0xc9, 0xaf, 0xa9, 0xd8, 0x45, 0xba, 0x75, 0x16, 0x6b, 0x5c, 0x21, 0x57, 0x67, 0xb1, 0xd6, 0x93,
	0x4e, 0x50, 0xc3, 0xdb, 0x36, 0xe8, 0x9b, 0x12, 0x7b, 0x8a, 0x62, 0x2b, 0x12, 0x0f, 0x67, 0x21,
};

static uint8_t fx_rsa_priv_buf[BR_RSA_KBUF_PRIV_SIZE(2048)];
static uint8_t fx_rsa_pub_buf[BR_RSA_KBUF_PUB_SIZE(2048)];
static br_rsa_private_key fx_rsa_sk;
static br_rsa_public_key fx_rsa_pk;
static uint8_t fx_ec_pub_buf[BR_EC_KBUF_PUB_MAX_SIZE];
static br_ec_public_key fx_ec_pk;

/* ---- certificates -------------------------------------------------------------------- */

/* A dummy DER certificate: SEQUENCE { UTF8String name }. */
struct fx_der {
	uint8_t b[64];
	size_t n;
};

static void fx_der_make(struct fx_der *d, const char *name)
{
	size_t l = strlen(name);
	d->b[0] = 0x30;
	d->b[1] = (uint8_t)(l + 2);
	d->b[2] = 0x0c;
	d->b[3] = (uint8_t)l;
	memcpy(d->b + 4, name, l);
	d->n = l + 4;
}

enum { FX_CERT_DEFAULT, FX_CERT_EXAMPLE, FX_CERT_WILD, FX_CERT_RSA, FX_NCERTS };

static struct fx_der fx_der[FX_NCERTS][2];
static struct tls_der fx_chain[FX_NCERTS][2];
static struct tls_cert fx_certs[FX_NCERTS];

static const char *const fx_names_default[] = {"default.test"};
static const char *const fx_names_example[] = {"www.example.org", "example.org"};
static const char *const fx_names_wild[] = {"*.wild.test"};
static const char *const fx_names_rsa[] = {"rsa.test"};

/* The certificate a dummy chain names (its leaf's index), -1 if none. */
static int fx_cert_of(const uint8_t *leaf, size_t n)
{
	for (int i = 0; i < FX_NCERTS; i++)
		if (n == fx_der[i][0].n && !memcmp(leaf, fx_der[i][0].b, n))
			return i;
	return -1;
}

static void fx_setup(void)
{
	static bool done;
	if (done)
		return;
	done = true;

	br_hmac_drbg_context drbg;
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, "kiln rsa fixture", 16);
	if (!br_rsa_i31_keygen(&drbg.vtable, &fx_rsa_sk, fx_rsa_priv_buf, &fx_rsa_pk,
			       fx_rsa_pub_buf, 2048, 65537))
		__builtin_trap();

	br_ec_private_key ec = {BR_EC_secp256r1, (unsigned char *)fx_ec_scalar,
				sizeof fx_ec_scalar};
	if (!br_ec_compute_pub(&br_ec_p256_m31, &fx_ec_pk, fx_ec_pub_buf, &ec))
		__builtin_trap();

	static const char *const leafs[FX_NCERTS] = {"leaf default", "leaf example",
						     "leaf wild", "leaf rsa"};
	static const char *const *const names[FX_NCERTS] = {
		fx_names_default, fx_names_example, fx_names_wild, fx_names_rsa};
	static const unsigned nnames[FX_NCERTS] = {1, 2, 1, 1};
	for (int i = 0; i < FX_NCERTS; i++) {
		fx_der_make(&fx_der[i][0], leafs[i]);
		fx_der_make(&fx_der[i][1], "intermediate");
		for (int j = 0; j < 2; j++) {
			fx_chain[i][j].data = fx_der[i][j].b;
			fx_chain[i][j].len = fx_der[i][j].n;
		}
		struct tls_cert *ct = &fx_certs[i];
		memset(ct, 0, sizeof *ct);
		ct->names = names[i];
		ct->nnames = nnames[i];
		ct->chain = fx_chain[i];
		ct->chain_len = 2;
		if (i == FX_CERT_RSA) {
			ct->key_type = TLS_KEY_RSA;
			ct->rsa = fx_rsa_sk;
			ct->rsa_pub = fx_rsa_pk;
		} else {
			ct->key_type = TLS_KEY_EC_P256;
			ct->ec = ec;
		}
	}
}

/* A configuration over the fixture's certificates. */
static void fx_config(struct tls_server_config *cfg)
{
	fx_setup();
	tls_server_config_default(cfg);
	cfg->certs = fx_certs;
	cfg->ncerts = FX_NCERTS;
	cfg->random = fx_random;
	cfg->now_ms = fx_clock;
}


/* ---- the test client ---------------------------------------------------------------
 *
 * A minimal TLS 1.3 client of the tests' own, written from RFC 8446 with
 * the crypto layer's primitives (proto/tls/tls_priv.h) and BearSSL's EC
 * and RSA code: it builds ClientHellos with whatever the test asks for,
 * follows a HelloRetryRequest, checks the server's CertificateVerify
 * (ECDSA P-256 or RSA-PSS) and Finished, sends its Finished, keeps the
 * tickets, and protects and opens application data and KeyUpdates.
 * Bytes for the server accumulate in out[]; fxc_recv takes the server's.
 */
#include "proto/tls/tls_int.h"
#include "proto/tls/tls_priv.h"

struct fxc_opts {
	uint16_t suites[4];
	unsigned nsuites;
	uint16_t groups[4];             /* supported_groups */
	unsigned ngroups;
	uint16_t shares[4];             /* key_share entries */
	unsigned nshares;
	uint16_t sigalgs[6];
	unsigned nsigalgs;
	const char *sni;
	const char *alpn[4];
	unsigned nalpn;
	uint16_t rsl;                   /* record_size_limit, 0: none */
	bool early_data;                /* the extension (the test sends the records) */
	bool tls12;                     /* no supported_versions */
	bool dup_ext;                   /* supported_groups twice */
	bool bad_binder;
	bool bad_finished;
	bool bad_cookie;
	uint32_t age_skew_ms;           /* added to the ticket age we claim */
};

struct fxc_ticket {
	uint8_t id[256];
	size_t len;
	uint32_t lifetime, age_add;
	uint8_t psk[TLS_HASH_MAX];
	size_t psk_len;
	unsigned alg;
	uint64_t got_ms;
};

struct fxc {
	struct fxc_opts o;
	const struct fxc_ticket *offer;         /* resume with this */
	uint8_t priv[4][48];
	uint8_t ch[4096];
	size_t ch_len;
	uint8_t sid[32];
	struct tls_hash_ctx th;
	unsigned alg, suite;
	size_t hl;
	uint16_t group;
	bool hrr;
	uint8_t cookie[256];
	size_t cookie_len;
	uint8_t early[TLS_HASH_MAX], secret[TLS_HASH_MAX], c_hs[TLS_HASH_MAX], s_hs[TLS_HASH_MAX];
	uint8_t c_ap[TLS_HASH_MAX], s_ap[TLS_HASH_MAX], res[TLS_HASH_MAX];
	struct tls_aead rd, wr;
	int stage;                      /* 0 ServerHello, 1 EE, 2 Cert.., 3 done */
	bool resumed, cv_ok, fin_ok, sni_ack, got_cert;
	int cert;
	uint16_t sigalg, rsl;
	char alpn[32];
	uint8_t hsbuf[16384];
	size_t hslen;
	uint8_t in[65536];
	size_t in_len;
	uint8_t app[65536];
	size_t app_len;
	int alert;                      /* the last alert received, -1 none */
	bool closed;
	int err;                        /* the first thing the client disliked (line) */
	struct fxc_ticket tk[8];
	unsigned ntk;
	unsigned keyupdates;
	uint8_t out[65536];
	size_t out_len;
};

#define FXC_BAD(cl) do { if (!(cl)->err) (cl)->err = __LINE__; } while (0)

static const uint8_t fxc_hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

static void fxc_defaults(struct fxc_opts *o)
{
	memset(o, 0, sizeof *o);
	o->suites[0] = TLS_AES_128_GCM_SHA256;
	o->suites[1] = TLS_AES_256_GCM_SHA384;
	o->suites[2] = TLS_CHACHA20_POLY1305_SHA256;
	o->nsuites = 3;
	o->groups[0] = TLS_GROUP_X25519;
	o->groups[1] = TLS_GROUP_SECP256R1;
	o->groups[2] = TLS_GROUP_SECP384R1;
	o->ngroups = 3;
	o->shares[0] = TLS_GROUP_X25519;
	o->nshares = 1;
	o->sigalgs[0] = 0x0403;
	o->sigalgs[1] = 0x0804;
	o->nsigalgs = 2;
}

static void fxc_init(struct fxc *cl, const struct fxc_opts *o)
{
	memset(cl, 0, sizeof *cl);
	cl->o = *o;
	cl->alert = -1;
	cl->cert = -1;
}

static int fxc_curve(uint16_t g, size_t *slen)
{
	switch (g) {
	case TLS_GROUP_X25519: *slen = 32; return BR_EC_curve25519;
	case TLS_GROUP_SECP256R1: *slen = 32; return BR_EC_secp256r1;
	case TLS_GROUP_SECP384R1: *slen = 48; return BR_EC_secp384r1;
	default: *slen = 0; return 0;
	}
}

/* Our public share for g with private key priv. */
static size_t fxc_pub(uint16_t g, uint8_t *priv, uint8_t *pub)
{
	size_t slen;
	int curve = fxc_curve(g, &slen);
	fx_random(priv, slen);
	if (curve != BR_EC_curve25519)
		priv[0] &= 0x7f;        /* below the order */
	return br_ec_all_m31.mulgen(pub, priv, slen, curve);
}

static size_t fxc_shared(uint16_t g, const uint8_t *priv, const uint8_t *peer, size_t n,
			 uint8_t *out)
{
	size_t slen;
	int curve = fxc_curve(g, &slen);
	uint8_t pt[TLS_KEX_PUB_MAX];
	if (!curve || n > sizeof pt)
		return 0;
	memcpy(pt, peer, n);
	if (!br_ec_all_m31.mul(pt, n, priv, slen, curve))
		return 0;
	if (curve == BR_EC_curve25519) {
		memcpy(out, pt, 32);
		return 32;
	}
	memcpy(out, pt + 1, slen);
	return slen;
}

static void fxc_put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Appends a record (plaintext when a has no keys) to out. */
static void fxc_record(struct fxc *cl, struct tls_aead *a, uint8_t type, const uint8_t *d,
		       size_t n)
{
	uint8_t *r = cl->out + cl->out_len;
	r[1] = 3;
	r[2] = 3;
	memcpy(r + 5, d, n);
	if (!a || !a->suite) {
		r[0] = type;
		r[2] = cl->stage == 0 && !cl->hrr ? 1 : 3;
		fxc_put16(r + 3, n);
		cl->out_len += 5 + n;
		return;
	}
	r[0] = TLS_CT_APPDATA;
	fxc_put16(r + 3, n + 17);
	r[5 + n] = type;
	tls_aead_seal(a, r, 5, r + 5, n + 1, r + 6 + n);
	cl->out_len += n + 22;
}

static size_t fxc_ext(uint8_t *m, size_t n, uint16_t type, const uint8_t *b, size_t len)
{
	fxc_put16(m + n, type);
	fxc_put16(m + n + 2, len);
	memcpy(m + n + 4, b, len);
	return n + 4 + len;
}

static void fxc_binder(unsigned alg, const uint8_t *psk, const uint8_t *th, uint8_t *out)
{
	size_t hl = tls_hash_len(alg);
	uint8_t early[TLS_HASH_MAX], bk[TLS_HASH_MAX], key[TLS_HASH_MAX], eh[TLS_HASH_MAX];
	tls_hkdf_extract(alg, NULL, 0, psk, hl, early);
	tls_hash(alg, NULL, 0, eh);
	tls_derive_secret(alg, early, "res binder", eh, bk);
	tls_hkdf_expand_label(alg, bk, "finished", NULL, 0, key, hl);
	tls_hmac(alg, key, hl, th, hl, out);
}

/* Builds and queues the ClientHello (the second one after a HRR). */
static void fxc_hello(struct fxc *cl)
{
	const struct fxc_opts *o = &cl->o;
	uint8_t *m = cl->ch, b[1024];
	size_t n = 4, k;
	m[0] = 1;
	fxc_put16(m + n, 0x0303);
	n += 2;
	fx_random(m + n, 32);
	n += 32;
	if (!cl->hrr)
		fx_random(cl->sid, 32);
	m[n++] = 32;
	memcpy(m + n, cl->sid, 32);
	n += 32;
	fxc_put16(m + n, 2 * o->nsuites);
	for (unsigned i = 0; i < o->nsuites; i++)
		fxc_put16(m + n + 2 + 2 * i, o->suites[i]);
	n += 2 + 2 * o->nsuites;
	m[n++] = 1;
	m[n++] = 0;
	size_t ext_at = n;
	n += 2;
	if (!o->tls12) {
		b[0] = 4;
		fxc_put16(b + 1, TLS_VERSION_13);
		fxc_put16(b + 3, 0x0303);
		n = fxc_ext(m, n, TLS_EXT_SUPPORTED_VERSIONS, b, 5);
	}
	fxc_put16(b, 2 * o->ngroups);
	for (unsigned i = 0; i < o->ngroups; i++)
		fxc_put16(b + 2 + 2 * i, o->groups[i]);
	n = fxc_ext(m, n, TLS_EXT_SUPPORTED_GROUPS, b, 2 + 2 * o->ngroups);
	if (o->dup_ext)
		n = fxc_ext(m, n, TLS_EXT_SUPPORTED_GROUPS, b, 2 + 2 * o->ngroups);
	k = 2;
	for (unsigned i = 0; i < o->nshares; i++) {
		if (cl->hrr && o->shares[i] != cl->group)
			continue;
		fxc_put16(b + k, o->shares[i]);
		size_t pl = fxc_pub(o->shares[i], cl->priv[i], b + k + 4);
		fxc_put16(b + k + 2, pl);
		k += 4 + pl;
	}
	if (cl->hrr && k == 2) {        /* a share for the group asked for */
		cl->o.shares[cl->o.nshares] = cl->group;
		unsigned i = cl->o.nshares++;
		fxc_put16(b + k, cl->group);
		size_t pl = fxc_pub(cl->group, cl->priv[i], b + k + 4);
		fxc_put16(b + k + 2, pl);
		k += 4 + pl;
	}
	fxc_put16(b, k - 2);
	n = fxc_ext(m, n, TLS_EXT_KEY_SHARE, b, k);
	fxc_put16(b, 2 * o->nsigalgs);
	for (unsigned i = 0; i < o->nsigalgs; i++)
		fxc_put16(b + 2 + 2 * i, o->sigalgs[i]);
	n = fxc_ext(m, n, TLS_EXT_SIG_ALGS, b, 2 + 2 * o->nsigalgs);
	if (o->sni) {
		size_t l = strlen(o->sni);
		fxc_put16(b, l + 3);
		b[2] = 0;
		fxc_put16(b + 3, l);
		memcpy(b + 5, o->sni, l);
		n = fxc_ext(m, n, TLS_EXT_SERVER_NAME, b, l + 5);
	}
	if (o->nalpn) {
		k = 2;
		for (unsigned i = 0; i < o->nalpn; i++) {
			size_t l = strlen(o->alpn[i]);
			b[k] = (uint8_t)l;
			memcpy(b + k + 1, o->alpn[i], l);
			k += 1 + l;
		}
		fxc_put16(b, k - 2);
		n = fxc_ext(m, n, TLS_EXT_ALPN, b, k);
	}
	if (o->rsl) {
		fxc_put16(b, o->rsl);
		n = fxc_ext(m, n, TLS_EXT_RECORD_SIZE_LIMIT, b, 2);
	}
	if (cl->cookie_len) {
		fxc_put16(b, cl->cookie_len);
		memcpy(b + 2, cl->cookie, cl->cookie_len);
		if (o->bad_cookie)
			b[2] ^= 1;
		n = fxc_ext(m, n, TLS_EXT_COOKIE, b, 2 + cl->cookie_len);
	}
	b[0] = 1;
	b[1] = TLS_PSK_DHE_KE;
	n = fxc_ext(m, n, TLS_EXT_PSK_MODES, b, 2);
	if (o->early_data && !cl->hrr)
		n = fxc_ext(m, n, TLS_EXT_EARLY_DATA, b, 0);
	size_t binder_at = 0, bl = 0;
	if (cl->offer) {
		const struct fxc_ticket *t = cl->offer;
		bl = tls_hash_len(t->alg);
		uint32_t age = (uint32_t)(fx_now_ms - t->got_ms) + o->age_skew_ms + t->age_add;
		fxc_put16(b, t->len + 6);
		fxc_put16(b + 2, t->len);
		memcpy(b + 4, t->id, t->len);
		k = 4 + t->len;
		b[k++] = (uint8_t)(age >> 24);
		b[k++] = (uint8_t)(age >> 16);
		b[k++] = (uint8_t)(age >> 8);
		b[k++] = (uint8_t)age;
		fxc_put16(b + k, bl + 1);
		b[k + 2] = (uint8_t)bl;
		memset(b + k + 3, 0, bl);
		k += 3 + bl;
		n = fxc_ext(m, n, TLS_EXT_PRE_SHARED_KEY, b, k);
		binder_at = n - bl;
	}
	fxc_put16(m + ext_at, n - ext_at - 2);
	m[1] = (uint8_t)((n - 4) >> 16);
	m[2] = (uint8_t)((n - 4) >> 8);
	m[3] = (uint8_t)(n - 4);
	if (cl->offer) {
		struct tls_hash_ctx h;
		uint8_t th[TLS_HASH_MAX];
		if (cl->hrr)
			h = cl->th;
		else
			tls_hash_init(&h, cl->offer->alg);
		tls_hash_update(&h, m, binder_at - 3);
		tls_hash_peek(&h, th);
		fxc_binder(cl->offer->alg, cl->offer->psk, th, m + binder_at);
		if (o->bad_binder)
			m[binder_at] ^= 1;
	}
	cl->ch_len = n;
	fxc_record(cl, NULL, TLS_CT_HANDSHAKE, m, n);
	if (cl->hrr)
		tls_hash_update(&cl->th, m, n);
}

static void fxc_finished_mac(unsigned alg, const uint8_t *base, const uint8_t *th, uint8_t *out)
{
	size_t hl = tls_hash_len(alg);
	uint8_t key[TLS_HASH_MAX];
	tls_hkdf_expand_label(alg, base, "finished", NULL, 0, key, hl);
	tls_hmac(alg, key, hl, th, hl, out);
}

static uint32_t fxc_get(const uint8_t *p, int n)
{
	uint32_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void fxc_server_hello(struct fxc *cl, const uint8_t *m, size_t n)
{
	if (n < 4 + 2 + 32 + 1 + 32 + 3 + 2) {
		FXC_BAD(cl);
		return;
	}
	const uint8_t *p = m + 4;
	bool hrr = !memcmp(p + 2, fxc_hrr_random, 32);
	p += 34;
	if (p[0] != 32 || memcmp(p + 1, cl->sid, 32))
		FXC_BAD(cl);
	p += 33;
	uint16_t suite = (uint16_t)fxc_get(p, 2);
	cl->suite = tls_suite_index(suite);
	if (!cl->suite || p[2] != 0) {
		FXC_BAD(cl);
		return;
	}
	cl->alg = tls_suites[cl->suite].hash;
	cl->hl = tls_hash_len(cl->alg);
	p += 3;
	size_t el = fxc_get(p, 2);
	p += 2;
	const uint8_t *end = p + el, *share = NULL;
	size_t share_len = 0;
	bool versions = false;
	if (end != m + n)
		FXC_BAD(cl);
	while (p + 4 <= end) {
		uint16_t t = (uint16_t)fxc_get(p, 2);
		size_t l = fxc_get(p + 2, 2);
		const uint8_t *b = p + 4;
		if (t == TLS_EXT_SUPPORTED_VERSIONS)
			versions = l == 2 && fxc_get(b, 2) == TLS_VERSION_13;
		else if (t == TLS_EXT_KEY_SHARE && hrr)
			cl->group = (uint16_t)fxc_get(b, 2);
		else if (t == TLS_EXT_KEY_SHARE) {
			cl->group = (uint16_t)fxc_get(b, 2);
			share_len = fxc_get(b + 2, 2);
			share = b + 4;
		} else if (t == TLS_EXT_COOKIE) {
			cl->cookie_len = fxc_get(b, 2);
			memcpy(cl->cookie, b + 2, cl->cookie_len);
		} else if (t == TLS_EXT_PRE_SHARED_KEY) {
			cl->resumed = true;
		} else {
			FXC_BAD(cl);
		}
		p += 4 + l;
	}
	if (!versions)
		FXC_BAD(cl);
	if (hrr) {
		if (cl->hrr)
			FXC_BAD(cl);    /* a second one */
		uint8_t h[TLS_HASH_MAX], mh[4] = {254, 0, 0, (uint8_t)cl->hl};
		tls_hash(cl->alg, cl->ch, cl->ch_len, h);
		tls_hash_init(&cl->th, cl->alg);
		tls_hash_update(&cl->th, mh, 4);
		tls_hash_update(&cl->th, h, cl->hl);
		tls_hash_update(&cl->th, m, n);
		cl->hrr = true;
		fxc_hello(cl);
		return;
	}
	if (!cl->hrr) {
		tls_hash_init(&cl->th, cl->alg);
		tls_hash_update(&cl->th, cl->ch, cl->ch_len);
	}
	tls_hash_update(&cl->th, m, n);
	int si = -1;
	for (unsigned i = 0; i < cl->o.nshares; i++)
		if (cl->o.shares[i] == cl->group)
			si = (int)i;
	uint8_t shared[TLS_KEX_SECRET_MAX], th[TLS_HASH_MAX], salt[TLS_HASH_MAX];
	size_t sl = si >= 0 && share ? fxc_shared(cl->group, cl->priv[si], share, share_len, shared)
				      : 0;
	if (!sl) {
		FXC_BAD(cl);
		return;
	}
	if (cl->resumed && (!cl->offer || cl->offer->alg != cl->alg))
		FXC_BAD(cl);
	tls_hkdf_extract(cl->alg, NULL, 0, cl->resumed ? cl->offer->psk : NULL,
			 cl->resumed ? cl->hl : 0, cl->early);
	tls_hash(cl->alg, NULL, 0, th);
	tls_derive_secret(cl->alg, cl->early, "derived", th, salt);
	tls_hkdf_extract(cl->alg, salt, cl->hl, shared, sl, cl->secret);
	tls_hash_peek(&cl->th, th);
	tls_derive_secret(cl->alg, cl->secret, "c hs traffic", th, cl->c_hs);
	tls_derive_secret(cl->alg, cl->secret, "s hs traffic", th, cl->s_hs);
	tls_aead_init(&cl->rd, cl->suite, cl->s_hs);
	tls_aead_init(&cl->wr, cl->suite, cl->c_hs);
	cl->stage = 1;
}

static void fxc_ee(struct fxc *cl, const uint8_t *m, size_t n)
{
	const uint8_t *p = m + 6, *end = m + n;
	if (n < 6 || fxc_get(m + 4, 2) != n - 6)
		FXC_BAD(cl);
	while (p + 4 <= end) {
		uint16_t t = (uint16_t)fxc_get(p, 2);
		size_t l = fxc_get(p + 2, 2);
		if (t == TLS_EXT_ALPN && l >= 3 && p[6] < sizeof cl->alpn) {
			memcpy(cl->alpn, p + 7, p[6]);
			cl->alpn[p[6]] = 0;
		} else if (t == TLS_EXT_SERVER_NAME && l == 0) {
			cl->sni_ack = true;
		} else if (t == TLS_EXT_RECORD_SIZE_LIMIT && l == 2) {
			cl->rsl = (uint16_t)fxc_get(p + 4, 2);
		} else {
			FXC_BAD(cl);    /* early_data would be: we never accept it */
		}
		p += 4 + l;
	}
	tls_hash_update(&cl->th, m, n);
	cl->stage = 2;
}

/* RSA-PSS verification (RFC 8017 9.1.2) with salt length = hash length. */
static bool fxc_pss_verify(const br_rsa_public_key *pk, unsigned alg_bits, const uint8_t *msg,
			   size_t mlen, const uint8_t *sig, size_t slen)
{
	const br_hash_class *hc = alg_bits == 256 ? &br_sha256_vtable
				  : alg_bits == 384 ? &br_sha384_vtable : &br_sha512_vtable;
	size_t hl = alg_bits / 8;
	uint8_t em[512], mh[64], h2[64];
	br_hash_compat_context hctx;
	if (slen != pk->nlen || slen > sizeof em)
		return false;
	memcpy(em, sig, slen);
	if (!br_rsa_i31_public(em, slen, pk))
		return false;
	size_t bits = pk->nlen * 8;
	for (uint8_t top = pk->n[0]; !(top & 0x80); top <<= 1)
		bits--;
	size_t emBits = bits - 1, emLen = (emBits + 7) / 8;
	uint8_t *e = em + (slen - emLen);
	if (slen - emLen > 1 || (slen > emLen && em[0]))
		return false;
	if (emLen < 2 * hl + 2 || e[emLen - 1] != 0xbc)
		return false;
	size_t dbl = emLen - hl - 1;
	const uint8_t *H = e + dbl;
	/* MGF1 */
	for (uint32_t ctr = 0, off = 0; off < dbl; ctr++) {
		uint8_t c4[4] = {(uint8_t)(ctr >> 24), (uint8_t)(ctr >> 16), (uint8_t)(ctr >> 8),
				 (uint8_t)ctr};
		uint8_t t[64];
		hc->init(&hctx.vtable);
		hc->update(&hctx.vtable, H, hl);
		hc->update(&hctx.vtable, c4, 4);
		hc->out(&hctx.vtable, t);
		for (size_t i = 0; i < hl && off < dbl; i++)
			e[off++] ^= t[i];
	}
	e[0] &= (uint8_t)(0xff >> (8 * emLen - emBits));
	size_t ps = dbl - hl - 1;
	for (size_t i = 0; i < ps; i++)
		if (e[i])
			return false;
	if (e[ps] != 1)
		return false;
	hc->init(&hctx.vtable);
	hc->update(&hctx.vtable, msg, mlen);
	hc->out(&hctx.vtable, mh);
	static const uint8_t z[8];
	hc->init(&hctx.vtable);
	hc->update(&hctx.vtable, z, 8);
	hc->update(&hctx.vtable, mh, hl);
	hc->update(&hctx.vtable, e + ps + 1, hl);
	hc->out(&hctx.vtable, h2);
	return !memcmp(h2, H, hl);
}

static void fxc_cert_verify(struct fxc *cl, const uint8_t *m, size_t n)
{
	uint8_t cv[64 + 34 + TLS_HASH_MAX];
	memset(cv, 0x20, 64);
	memcpy(cv + 64, "TLS 1.3, server CertificateVerify", 34);
	tls_hash_peek(&cl->th, cv + 98);
	size_t cvl = 98 + cl->hl;
	tls_hash_update(&cl->th, m, n);
	if (n < 8 || fxc_get(m + 6, 2) != n - 8 || cl->cert < 0) {
		FXC_BAD(cl);
		return;
	}
	cl->sigalg = (uint16_t)fxc_get(m + 4, 2);
	const uint8_t *sig = m + 8;
	size_t sl = n - 8;
	if (cl->sigalg == TLS_SIG_ECDSA_P256_SHA256 && fx_certs[cl->cert].key_type == TLS_KEY_EC_P256) {
		uint8_t h[32];
		tls_hash(0, cv, cvl, h);
		cl->cv_ok = br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, h, 32, &fx_ec_pk, sig, sl) == 1;
	} else if (fx_certs[cl->cert].key_type == TLS_KEY_RSA &&
		   (cl->sigalg == 0x0804 || cl->sigalg == 0x0805 || cl->sigalg == 0x0806)) {
		unsigned bits = cl->sigalg == 0x0804 ? 256 : cl->sigalg == 0x0805 ? 384 : 512;
		cl->cv_ok = fxc_pss_verify(&fx_rsa_pk, bits, cv, cvl, sig, sl);
	}
	if (!cl->cv_ok)
		FXC_BAD(cl);
}

static void fxc_next_secret(unsigned alg, uint8_t *s)
{
	uint8_t t[TLS_HASH_MAX];
	size_t hl = tls_hash_len(alg);
	tls_hkdf_expand_label(alg, s, "traffic upd", NULL, 0, t, hl);
	memcpy(s, t, hl);
}

/* Our Finished, then the application keys. */
static void fxc_server_finished(struct fxc *cl, const uint8_t *m, size_t n)
{
	uint8_t th[TLS_HASH_MAX], want[TLS_HASH_MAX], salt[TLS_HASH_MAX], fin[4 + TLS_HASH_MAX];
	tls_hash_peek(&cl->th, th);
	fxc_finished_mac(cl->alg, cl->s_hs, th, want);
	cl->fin_ok = n == 4 + cl->hl && !memcmp(want, m + 4, cl->hl);
	if (!cl->fin_ok || (!cl->resumed && !cl->cv_ok))
		FXC_BAD(cl);
	tls_hash_update(&cl->th, m, n);
	tls_hash(cl->alg, NULL, 0, th);
	tls_derive_secret(cl->alg, cl->secret, "derived", th, salt);
	tls_hkdf_extract(cl->alg, salt, cl->hl, NULL, 0, cl->secret);
	tls_hash_peek(&cl->th, th);
	tls_derive_secret(cl->alg, cl->secret, "c ap traffic", th, cl->c_ap);
	tls_derive_secret(cl->alg, cl->secret, "s ap traffic", th, cl->s_ap);
	tls_aead_init(&cl->rd, cl->suite, cl->s_ap);
	fin[0] = TLS_HS_FINISHED;
	fin[1] = fin[2] = 0;
	fin[3] = (uint8_t)cl->hl;
	tls_hash_peek(&cl->th, th);
	fxc_finished_mac(cl->alg, cl->c_hs, th, fin + 4);
	if (cl->o.bad_finished)
		fin[4] ^= 1;
	fxc_record(cl, &cl->wr, TLS_CT_HANDSHAKE, fin, 4 + cl->hl);
	tls_hash_update(&cl->th, fin, 4 + cl->hl);
	tls_hash_peek(&cl->th, th);
	tls_derive_secret(cl->alg, cl->secret, "res master", th, cl->res);
	tls_aead_init(&cl->wr, cl->suite, cl->c_ap);
	cl->stage = 3;
}

static void fxc_ticket(struct fxc *cl, const uint8_t *m, size_t n)
{
	if (n < 4 + 9 || cl->ntk == 8)
		return;
	struct fxc_ticket *t = &cl->tk[cl->ntk];
	const uint8_t *p = m + 4;
	t->lifetime = fxc_get(p, 4);
	t->age_add = fxc_get(p + 4, 4);
	size_t nl = p[8];
	const uint8_t *nonce = p + 9;
	p += 9 + nl;
	t->len = fxc_get(p, 2);
	if (t->len > sizeof t->id || p + 2 + t->len + 2 > m + n) {
		FXC_BAD(cl);
		return;
	}
	memcpy(t->id, p + 2, t->len);
	if (fxc_get(p + 2 + t->len, 2) != 0)
		FXC_BAD(cl);    /* no early_data extension: 0-RTT is never offered */
	t->alg = cl->alg;
	t->psk_len = cl->hl;
	tls_hkdf_expand_label(cl->alg, cl->res, "resumption", nonce, nl, t->psk, cl->hl);
	t->got_ms = fx_now_ms;
	cl->ntk++;
}

static void fxc_key_update(struct fxc *cl, bool ask)
{
	uint8_t ku[5] = {24, 0, 0, 1, ask ? 1 : 0};
	fxc_record(cl, &cl->wr, TLS_CT_HANDSHAKE, ku, 5);
	fxc_next_secret(cl->alg, cl->c_ap);
	tls_aead_init(&cl->wr, cl->suite, cl->c_ap);
}

static void fxc_message(struct fxc *cl, const uint8_t *m, size_t n)
{
	switch (m[0]) {
	case 2:
		if (cl->stage != 0)
			FXC_BAD(cl);
		fxc_server_hello(cl, m, n);
		break;
	case 8:
		if (cl->stage != 1)
			FXC_BAD(cl);
		fxc_ee(cl, m, n);
		break;
	case 11:
		if (cl->stage != 2 || cl->resumed || n < 8 + 3) {
			FXC_BAD(cl);
			break;
		}
		cl->got_cert = true;
		cl->cert = fx_cert_of(m + 11, fxc_get(m + 8, 3));
		tls_hash_update(&cl->th, m, n);
		break;
	case 15:
		if (cl->stage != 2 || cl->resumed)
			FXC_BAD(cl);
		fxc_cert_verify(cl, m, n);
		break;
	case 20:
		if (cl->stage < 2 || cl->stage == 3)
			FXC_BAD(cl);
		fxc_server_finished(cl, m, n);
		break;
	case 4:
		if (cl->stage != 3)
			FXC_BAD(cl);
		fxc_ticket(cl, m, n);
		break;
	case 24:
		if (cl->stage != 3 || n != 5)
			FXC_BAD(cl);
		cl->keyupdates++;
		fxc_next_secret(cl->alg, cl->s_ap);
		tls_aead_init(&cl->rd, cl->suite, cl->s_ap);
		if (m[4] == 1)
			fxc_key_update(cl, false);
		break;
	default:
		FXC_BAD(cl);
	}
}

static void fxc_handshake_bytes(struct fxc *cl, const uint8_t *p, size_t n)
{
	if (cl->hslen + n > sizeof cl->hsbuf) {
		FXC_BAD(cl);
		return;
	}
	memcpy(cl->hsbuf + cl->hslen, p, n);
	cl->hslen += n;
	size_t off = 0;
	while (cl->hslen - off >= 4) {
		size_t l = fxc_get(cl->hsbuf + off + 1, 3);
		if (cl->hslen - off < 4 + l)
			break;
		uint8_t msg[16384];
		memcpy(msg, cl->hsbuf + off, 4 + l);
		off += 4 + l;
		fxc_message(cl, msg, 4 + l);
	}
	memmove(cl->hsbuf, cl->hsbuf + off, cl->hslen - off);
	cl->hslen -= off;
}

/* Takes bytes from the server; handles every whole record. */
static void fxc_recv(struct fxc *cl, const uint8_t *d, size_t n)
{
	if (cl->in_len + n > sizeof cl->in) {
		FXC_BAD(cl);
		return;
	}
	memcpy(cl->in + cl->in_len, d, n);
	cl->in_len += n;
	size_t off = 0;
	while (cl->in_len - off >= 5) {
		uint8_t *r = cl->in + off;
		size_t l = fxc_get(r + 3, 2);
		if (cl->in_len - off < 5 + l)
			break;
		off += 5 + l;
		uint8_t type = r[0];
		uint8_t *body = r + 5;
		if (type == TLS_CT_APPDATA) {
			if (l < 17 || !tls_aead_open(&cl->rd, r, 5, body, l - 16, body + l - 16)) {
				FXC_BAD(cl);
				continue;
			}
			l -= 16;
			while (l && !body[l - 1])
				l--;
			if (!l) {
				FXC_BAD(cl);
				continue;
			}
			type = body[--l];
		} else if (type == 20) {
			continue;       /* change_cipher_spec */
		}
		if (type == 21 && l == 2) {
			cl->alert = body[1];
			if (body[1] == 0)
				cl->closed = true;
		} else if (type == 22) {
			fxc_handshake_bytes(cl, body, l);
		} else if (type == TLS_CT_APPDATA && cl->stage == 3) {
			if (cl->app_len + l <= sizeof cl->app) {
				memcpy(cl->app + cl->app_len, body, l);
				cl->app_len += l;
			}
		} else {
			FXC_BAD(cl);
		}
	}
	memmove(cl->in, cl->in + off, cl->in_len - off);
	cl->in_len -= off;
}

static void fxc_send_app(struct fxc *cl, const void *d, size_t n)
{
	fxc_record(cl, &cl->wr, TLS_CT_APPDATA, d, n);
}

#endif
