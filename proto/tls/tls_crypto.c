/*
 * tls_crypto.c - the TLS engine's crypto layer over BearSSL: hashes,
 * HMAC and HKDF with TLS 1.3's labels, the record AEADs (AES-GCM and
 * ChaCha20-Poly1305), session-ticket sealing, the ephemeral key
 * exchanges and the CertificateVerify signatures.
 *
 * Interface: everything declared in tls_priv.h from "cipher suites" to
 * tls_ct_equal. The key schedule (tls_keys.c) and the handshake engine
 * are its callers, besides tests.
 *
 * What is BearSSL's and what is Kiln's:
 *  - Hashes, HMAC, the AES-CTR and GHASH primitives, ChaCha20 with
 *    Poly1305, the curve arithmetic (c25519_m31, p256_m31, prime_i31 for
 *    P-384), ECDSA (RFC 6979 nonces) and the raw RSA private operation
 *    are BearSSL's.
 *  - Kiln's: HKDF-Extract/Expand (RFC 5869) over br_hmac, HKDF-Expand-
 *    Label and Derive-Secret (RFC 8446 7.1), GCM (NIST SP 800-38D) over a
 *    CTR vtable and a GHASH function, the per-record nonce (RFC 8446
 *    5.3), EMSA-PSS encoding (RFC 8017 9.1.1, MGF1 with the message's
 *    hash, salt as long as the hash) for rsa_pss_rsae_*, and the checks
 *    around the key exchange.
 *
 * Rules:
 *  - AES-GCM uses AES-NI with PCLMULQDQ when the CPU has both (the
 *    choice is made when keys are set and kept in the key's vtable),
 *    otherwise aes_ct64 with ghash_ctmul64; ChaCha20 uses SSE2 and
 *    Poly1305 64-bit multiplies when there are. All of them are
 *    constant-time. CPU features are probed once and remembered.
 *    tls_crypto_force_portable (tests) selects the portable code.
 *  - Hash alg 1 is SHA-384; any other value is SHA-256.
 *  - A GCM tag is checked before anything is decrypted, so a failed
 *    open leaves the data as it came. ChaCha20-Poly1305 (BearSSL
 *    decrypts and authenticates in one pass) restores the ciphertext
 *    when try_open fails, by applying the same key stream again. Tags
 *    compare in constant time.
 *  - X25519 takes rnd[0..32) as its scalar (clamped); P-256 and P-384
 *    scalars come from BearSSL's key generation driven by an HMAC_DRBG
 *    seeded with all 64 bytes, so a key is a function of rnd alone.
 *    Peer shares must have the exact length and be valid points (BearSSL
 *    checks the curve equation); an all-zero X25519 result is refused.
 *    Our share may be written over the peer's. On an error the secret
 *    (the group's length of it) is wiped and both lengths are 0.
 *  - An RSA signature is checked with the public key before it is handed
 *    out (a faulty CRT computation would give the key away).
 *  - No allocation, no VLAs; buffers on the stack stay small (the
 *    largest is one RSA-4096 block). Secrets on the stack are wiped.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <bearssl.h>
#include <kiln/err.h>
#include <kiln/tls.h>

#include "tls_priv.h"

bool tls_crypto_force_portable;

/* ---- small helpers ---------------------------------------------------- */

void tls_wipe(void *p, size_t n)
{
	volatile uint8_t *q = p;
	while (n--)
		*q++ = 0;
}

bool tls_ct_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	uint32_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint32_t)(a[i] ^ b[i]);
	return ((d - 1) >> 31) & 1;
}

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

/* ---- CPU features, probed once ------------------------------------------------ */

static struct {
	const br_block_ctr_class *aes_ni;      /* NULL unless AES-NI and PCLMUL */
	br_ghash pclmul;
	br_chacha20_run chacha_sse2;
	br_poly1305_run poly_ctmulq;
} cpu;
static int cpu_probed;

static void cpu_probe(void)
{
	if (__atomic_load_n(&cpu_probed, __ATOMIC_ACQUIRE))
		return;
	const br_block_ctr_class *ni = br_aes_x86ni_ctr_get_vtable();
	br_ghash gh = br_ghash_pclmul_get();
	cpu.aes_ni = ni && gh ? ni : NULL;
	cpu.pclmul = gh;
	cpu.chacha_sse2 = br_chacha20_sse2_get();
	cpu.poly_ctmulq = br_poly1305_ctmulq_get();
	__atomic_store_n(&cpu_probed, 1, __ATOMIC_RELEASE);
}

bool tls_cpu_aesni(void)
{
	cpu_probe();
	return cpu.aes_ni != NULL;
}

static br_chacha20_run chacha_impl(void)
{
	cpu_probe();
	return cpu.chacha_sse2 && !tls_crypto_force_portable ? cpu.chacha_sse2
							      : br_chacha20_ct_run;
}

static br_poly1305_run poly_impl(void)
{
	cpu_probe();
	return cpu.poly_ctmulq && !tls_crypto_force_portable ? cpu.poly_ctmulq
							      : br_poly1305_ctmul_run;
}

/* ---- cipher suites ------------------------------------------------------- */

const struct tls_suite tls_suites[TLS_NSUITES + 1] = {
	[0] = { 0, 0, 0, 0, "none" },
	[1] = { TLS_AES_128_GCM_SHA256, 0, TLS_AEAD_AES_GCM, 16, "TLS_AES_128_GCM_SHA256" },
	[2] = { TLS_AES_256_GCM_SHA384, 1, TLS_AEAD_AES_GCM, 32, "TLS_AES_256_GCM_SHA384" },
	[3] = { TLS_CHACHA20_POLY1305_SHA256, 0, TLS_AEAD_CHACHA_POLY, 32,
		"TLS_CHACHA20_POLY1305_SHA256" },
};

unsigned tls_suite_index(uint16_t id)
{
	for (unsigned i = 1; i <= TLS_NSUITES; i++)
		if (tls_suites[i].id == id)
			return i;
	return 0;
}

/* ---- hashes, HMAC, HKDF ------------------------------------------------------ */

size_t tls_hash_len(unsigned alg)
{
	return alg == 1 ? 48 : 32;
}

const br_hash_class *tls_hash_vtable(unsigned alg)
{
	return alg == 1 ? &br_sha384_vtable : &br_sha256_vtable;
}

void tls_hash_init(struct tls_hash_ctx *h, unsigned alg)
{
	h->alg = alg == 1 ? 1 : 0;
	if (h->alg)
		br_sha384_init(&h->u.s384);
	else
		br_sha256_init(&h->u.s256);
}

void tls_hash_update(struct tls_hash_ctx *h, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (h->alg)
		br_sha384_update(&h->u.s384, data, len);
	else
		br_sha256_update(&h->u.s256, data, len);
}

void tls_hash_peek(const struct tls_hash_ctx *h, uint8_t *out)
{
	if (h->alg)
		br_sha384_out(&h->u.s384, out);
	else
		br_sha256_out(&h->u.s256, out);
}

void tls_hash(unsigned alg, const void *data, size_t len, uint8_t *out)
{
	struct tls_hash_ctx h;
	tls_hash_init(&h, alg);
	tls_hash_update(&h, data, len);
	tls_hash_peek(&h, out);
}

void tls_hmac(unsigned alg, const uint8_t *key, size_t key_len, const void *data, size_t len,
	      uint8_t *out)
{
	br_hmac_key_context kc;
	br_hmac_context hc;
	br_hmac_key_init(&kc, tls_hash_vtable(alg), key, key_len);
	br_hmac_init(&hc, &kc, 0);
	if (len)
		br_hmac_update(&hc, data, len);
	br_hmac_out(&hc, out);
	tls_wipe(&kc, sizeof kc);
	tls_wipe(&hc, sizeof hc);
}

void tls_hkdf_extract(unsigned alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		      size_t ikm_len, uint8_t *out)
{
	static const uint8_t zeros[TLS_HASH_MAX];
	size_t hl = tls_hash_len(alg);
	if (!salt) {
		salt = zeros;
		salt_len = hl;
	}
	if (!ikm) {
		ikm = zeros;
		ikm_len = hl;
	}
	tls_hmac(alg, salt, salt_len, ikm, ikm_len, out);
}

/* HKDF-Expand with the info given in pieces (no buffer to build it in). */
struct piece {
	const void *p;
	size_t n;
};

static void hkdf_expand_v(unsigned alg, const uint8_t *prk, const struct piece *info,
			  unsigned ninfo, uint8_t *out, size_t out_len)
{
	size_t hl = tls_hash_len(alg);
	br_hmac_key_context kc;
	br_hmac_context hc;
	uint8_t t[TLS_HASH_MAX];
	size_t tlen = 0, done = 0;

	br_hmac_key_init(&kc, tls_hash_vtable(alg), prk, hl);
	for (unsigned i = 1; done < out_len; i++) {
		if (i > 255) {          /* beyond RFC 5869's limit: a caller's bug */
			memset(out + done, 0, out_len - done);
			break;
		}
		uint8_t c = (uint8_t)i;
		br_hmac_init(&hc, &kc, 0);
		if (tlen)
			br_hmac_update(&hc, t, tlen);
		for (unsigned j = 0; j < ninfo; j++)
			if (info[j].n)
				br_hmac_update(&hc, info[j].p, info[j].n);
		br_hmac_update(&hc, &c, 1);
		br_hmac_out(&hc, t);
		tlen = hl;
		size_t n = out_len - done < hl ? out_len - done : hl;
		memcpy(out + done, t, n);
		done += n;
	}
	tls_wipe(t, sizeof t);
	tls_wipe(&kc, sizeof kc);
	tls_wipe(&hc, sizeof hc);
}

void tls_hkdf_expand(unsigned alg, const uint8_t *prk, const uint8_t *info, size_t info_len,
		     uint8_t *out, size_t out_len)
{
	struct piece p = { info, info_len };
	hkdf_expand_v(alg, prk, &p, 1, out, out_len);
}

void tls_hkdf_expand_label(unsigned alg, const uint8_t *secret, const char *label,
			   const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	size_t llen = strlen(label);
	if (llen > 255 - (sizeof prefix - 1))
		llen = 255 - (sizeof prefix - 1);
	if (ctx_len > 255)
		ctx_len = 255;
	/* struct { uint16 length; opaque label<7..255>; opaque context<0..255>; } */
	uint8_t head[3] = { (uint8_t)(out_len >> 8), (uint8_t)out_len,
			    (uint8_t)(sizeof prefix - 1 + llen) };
	uint8_t clen = (uint8_t)ctx_len;
	struct piece info[5] = {
		{ head, sizeof head },
		{ prefix, sizeof prefix - 1 },
		{ label, llen },
		{ &clen, 1 },
		{ ctx, ctx_len },
	};
	hkdf_expand_v(alg, secret, info, 5, out, out_len);
}

void tls_derive_secret(unsigned alg, const uint8_t *secret, const char *label,
		       const uint8_t *transcript_hash, uint8_t *out)
{
	size_t hl = tls_hash_len(alg);
	tls_hkdf_expand_label(alg, secret, label, transcript_hash, hl, out, hl);
}

/* ---- GCM over a CTR vtable and a GHASH function ------------------------------ */

/* The AES key of an AEAD state: both key types start with their vtable. */
typedef const br_block_ctr_class *const *ctr_ctx;

static br_ghash ghash_for(ctr_ctx vt)
{
	return cpu.aes_ni && *vt == cpu.aes_ni ? cpu.pclmul : br_ghash_ctmul64;
}

/* Sets up AES keys in k (room for either key type) and the GHASH key. */
static void gcm_setkey(void *k, const uint8_t *key, size_t key_len, uint8_t h[16])
{
	static const uint8_t zero_iv[12];
	cpu_probe();
	if (cpu.aes_ni && !tls_crypto_force_portable)
		cpu.aes_ni->init(k, key, key_len);
	else
		br_aes_ct64_ctr_init(k, key, key_len);
	/* H = E(K, 0^128): the counter block 0^96 || 0 */
	memset(h, 0, 16);
	ctr_ctx vt = k;
	(*vt)->run(vt, zero_iv, 0, h, 16);
}

/* tag = GHASH(H, A, C) XOR E(K, J0), J0 = nonce || 0^31 || 1. */
static void gcm_tag(ctr_ctx vt, const uint8_t h[16], const uint8_t nonce[12], const uint8_t *aad,
		    size_t aad_len, const uint8_t *c, size_t len, uint8_t tag[16])
{
	br_ghash gh = ghash_for(vt);
	uint8_t y[16] = { 0 }, lens[16];
	gh(y, h, aad, aad_len);
	gh(y, h, c, len);
	put_be64(lens, (uint64_t)aad_len << 3);
	put_be64(lens + 8, (uint64_t)len << 3);
	gh(y, h, lens, 16);
	memcpy(tag, y, 16);
	(*vt)->run(vt, nonce, 1, tag, 16);
	tls_wipe(y, sizeof y);
}

static void gcm_seal(ctr_ctx vt, const uint8_t h[16], const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16])
{
	if (len)
		(*vt)->run(vt, nonce, 2, data, len);
	gcm_tag(vt, h, nonce, aad, aad_len, data, len, tag);
}

/* Checks the tag first, decrypts only when it is right. */
static bool gcm_open(ctr_ctx vt, const uint8_t h[16], const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[16])
{
	uint8_t want[16];
	gcm_tag(vt, h, nonce, aad, aad_len, data, len, want);
	bool ok = tls_ct_equal(want, tag, 16);
	tls_wipe(want, sizeof want);
	if (ok && len)
		(*vt)->run(vt, nonce, 2, data, len);
	return ok;
}

/* ---- record protection ------------------------------------------------------ */

/* RFC 8446 5.3: the 64-bit sequence number, padded to 12 bytes, XOR the IV. */
static void record_nonce(const struct tls_aead *a, uint8_t n[12])
{
	memcpy(n, a->iv, 12);
	for (int i = 0; i < 8; i++)
		n[4 + i] ^= (uint8_t)(a->seq >> (56 - 8 * i));
}

static bool suite_ok(unsigned suite)
{
	return suite >= 1 && suite <= TLS_NSUITES;
}

void tls_aead_init_keys(struct tls_aead *a, unsigned suite, const uint8_t *key,
			const uint8_t iv[12])
{
	memset(a, 0, sizeof *a);
	if (!suite_ok(suite))
		return;
	const struct tls_suite *s = &tls_suites[suite];
	memcpy(a->iv, iv, sizeof a->iv);
	if (s->aead == TLS_AEAD_AES_GCM)
		gcm_setkey(&a->k, key, s->key_len, a->h);
	else
		memcpy(a->k.chacha_key, key, 32);
	a->suite = (uint8_t)suite;
}

void tls_aead_init(struct tls_aead *a, unsigned suite, const uint8_t *secret)
{
	uint8_t key[32], iv[12];
	if (!suite_ok(suite)) {
		memset(a, 0, sizeof *a);
		return;
	}
	const struct tls_suite *s = &tls_suites[suite];
	tls_hkdf_expand_label(s->hash, secret, "key", NULL, 0, key, s->key_len);
	tls_hkdf_expand_label(s->hash, secret, "iv", NULL, 0, iv, sizeof iv);
	tls_aead_init_keys(a, suite, key, iv);
	tls_wipe(key, sizeof key);
	tls_wipe(iv, sizeof iv);
}

void tls_aead_clear(struct tls_aead *a)
{
	tls_wipe(a, sizeof *a);
}

void tls_aead_seal(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		   size_t len, uint8_t tag[TLS_TAG_LEN])
{
	uint8_t n[12];
	if (!suite_ok(a->suite)) {
		memset(tag, 0, TLS_TAG_LEN);
		return;
	}
	record_nonce(a, n);
	if (tls_suites[a->suite].aead == TLS_AEAD_AES_GCM)
		gcm_seal((ctr_ctx)&a->k, a->h, n, aad, aad_len, data, len, tag);
	else
		poly_impl()(a->k.chacha_key, n, data, len, aad, aad_len, tag, chacha_impl(), 1);
	a->seq++;
}

static bool aead_open(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		      size_t len, const uint8_t tag[TLS_TAG_LEN], bool restore)
{
	uint8_t n[12];
	bool ok;
	if (!suite_ok(a->suite))
		return false;
	record_nonce(a, n);
	if (tls_suites[a->suite].aead == TLS_AEAD_AES_GCM) {
		ok = gcm_open((ctr_ctx)&a->k, a->h, n, aad, aad_len, data, len, tag);
	} else {
		uint8_t want[TLS_TAG_LEN];
		br_chacha20_run cc = chacha_impl();
		poly_impl()(a->k.chacha_key, n, data, len, aad, aad_len, want, cc, 0);
		ok = tls_ct_equal(want, tag, TLS_TAG_LEN);
		tls_wipe(want, sizeof want);
		/* The same key stream again gives the ciphertext back. */
		if (!ok && restore && len)
			cc(a->k.chacha_key, n, 1, data, len);
	}
	if (ok)
		a->seq++;
	return ok;
}

bool tls_aead_open(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		   size_t len, const uint8_t tag[TLS_TAG_LEN])
{
	return aead_open(a, aad, aad_len, data, len, tag, false);
}

bool tls_aead_try_open(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		       size_t len, const uint8_t tag[TLS_TAG_LEN])
{
	return aead_open(a, aad, aad_len, data, len, tag, true);
}

/* ---- session tickets ---------------------------------------------------------- */

union aes_ctr_keys {
	const br_block_ctr_class *vtable;
	br_aes_x86ni_ctr_keys ni;
	br_aes_ct64_ctr_keys ct64;
};

void tls_ticket_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, uint8_t tag[TLS_TAG_LEN])
{
	union aes_ctr_keys k;
	uint8_t h[16];
	gcm_setkey(&k, key, 32, h);
	gcm_seal(&k.vtable, h, nonce, aad, aad_len, data, len, tag);
	tls_wipe(&k, sizeof k);
	tls_wipe(h, sizeof h);
}

bool tls_ticket_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[TLS_TAG_LEN])
{
	union aes_ctr_keys k;
	uint8_t h[16];
	gcm_setkey(&k, key, 32, h);
	bool ok = gcm_open(&k.vtable, h, nonce, aad, aad_len, data, len, tag);
	tls_wipe(&k, sizeof k);
	tls_wipe(h, sizeof h);
	return ok;
}

/* ---- key exchange ------------------------------------------------------------ */

size_t tls_kex_share_len(uint16_t group)
{
	switch (group) {
	case TLS_GROUP_X25519:
		return 32;
	case TLS_GROUP_SECP256R1:
		return 65;
	case TLS_GROUP_SECP384R1:
		return 97;
	default:
		return 0;
	}
}

/* The NIST curves: BearSSL's curve id, implementation and scalar length. */
static bool nist_curve(uint16_t group, int *curve, const br_ec_impl **impl, size_t *slen)
{
	switch (group) {
	case TLS_GROUP_SECP256R1:
		*curve = BR_EC_secp256r1;
		*impl = &br_ec_p256_m31;
		*slen = 32;
		return true;
	case TLS_GROUP_SECP384R1:
		*curve = BR_EC_secp384r1;
		*impl = &br_ec_prime_i31;
		*slen = 48;
		return true;
	default:
		return false;
	}
}

static int kex_x25519(const uint8_t *priv, const uint8_t *peer, uint8_t *pub, uint8_t *secret)
{
	const br_ec_impl *impl = &br_ec_c25519_m31;
	/* BearSSL's Curve25519 takes the scalar as RFC 7748 writes it
	 * (little-endian) and clamps it itself. */
	uint8_t pt[32];
	memcpy(pt, peer, 32);           /* before pub is written: they may overlap */
	size_t n = impl->mulgen(pub, priv, 32, BR_EC_curve25519);
	uint32_t ok = impl->mul(pt, 32, priv, 32, BR_EC_curve25519);
	memcpy(secret, pt, 32);
	tls_wipe(pt, sizeof pt);
	uint8_t any = 0;
	for (int i = 0; i < 32; i++)
		any |= secret[i];
	return n == 32 && ok == 1 && any ? K_OK : K_EINVAL;
}

static int kex_nist(uint16_t group, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
		    uint8_t *pub, size_t *pub_len, uint8_t *secret, size_t *secret_len)
{
	int curve;
	const br_ec_impl *impl;
	size_t slen, xlen;
	uint8_t pt[TLS_KEX_PUB_MAX];

	if (!nist_curve(group, &curve, &impl, &slen) || priv_len != slen)
		return K_EINVAL;
	size_t plen = tls_kex_share_len(group);
	if (peer[0] != 0x04)
		return K_EINVAL;
	memcpy(pt, peer, plen);
	if (impl->mul(pt, plen, priv, slen, curve) != 1) {
		tls_wipe(pt, sizeof pt);
		return K_EINVAL;
	}
	size_t xoff = impl->xoff(curve, &xlen);
	memcpy(secret, pt + xoff, xlen);
	tls_wipe(pt, sizeof pt);
	if (impl->mulgen(pub, priv, slen, curve) != plen)
		return K_EINVAL;
	*pub_len = plen;
	*secret_len = xlen;
	return K_OK;
}

int tls_kex_priv(uint16_t group, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
		 size_t peer_len, uint8_t *pub, size_t *pub_len, uint8_t *secret,
		 size_t *secret_len)
{
	size_t want = tls_kex_share_len(group);
	int err = K_EINVAL;
	*pub_len = 0;
	*secret_len = 0;
	if (want == 0 || peer_len != want) {
		/* nothing */
	} else if (group == TLS_GROUP_X25519) {
		if (priv_len == 32)
			err = kex_x25519(priv, peer, pub, secret);
		if (err == K_OK) {
			*pub_len = 32;
			*secret_len = 32;
		}
	} else {
		err = kex_nist(group, priv, priv_len, peer, pub, pub_len, secret, secret_len);
	}
	if (err != K_OK) {
		/* what may have been written: the group's secret length */
		tls_wipe(secret, group == TLS_GROUP_SECP384R1 ? 48 : want ? 32 : 0);
		*pub_len = 0;
		*secret_len = 0;
	}
	return err;
}

int tls_kex(uint16_t group, const uint8_t rnd[64], const uint8_t *peer, size_t peer_len,
	    uint8_t *pub, size_t *pub_len, uint8_t *secret, size_t *secret_len)
{
	int curve;
	const br_ec_impl *impl;
	size_t slen;

	if (group == TLS_GROUP_X25519 || !nist_curve(group, &curve, &impl, &slen))
		return tls_kex_priv(group, rnd, 32, peer, peer_len, pub, pub_len, secret,
				    secret_len);

	br_hmac_drbg_context drbg;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	br_ec_private_key sk;
	br_hmac_drbg_init(&drbg, &br_sha256_vtable, rnd, 64);
	size_t n = br_ec_keygen(&drbg.vtable, impl, &sk, kbuf, curve);
	int err;
	if (n != slen) {
		*pub_len = 0;
		*secret_len = 0;
		err = K_EINVAL;
	} else {
		err = tls_kex_priv(group, sk.x, sk.xlen, peer, peer_len, pub, pub_len, secret,
				   secret_len);
	}
	tls_wipe(&drbg, sizeof drbg);
	tls_wipe(kbuf, sizeof kbuf);
	return err;
}

/* ---- signatures ------------------------------------------------------------- */

static int sign_ecdsa(const struct tls_cert *cert, const uint8_t *msg, size_t msg_len,
		      uint8_t *sig, size_t sig_cap)
{
	uint8_t hash[32], der[80];     /* a P-256 signature is at most 72 bytes */
	if (cert->key_type != TLS_KEY_EC_P256 || cert->ec.curve != BR_EC_secp256r1)
		return K_EINVAL;
	tls_hash(0, msg, msg_len, hash);
	size_t n = br_ecdsa_i31_sign_asn1(&br_ec_p256_m31, &br_sha256_vtable, hash, &cert->ec,
					  der);
	tls_wipe(hash, sizeof hash);
	if (n == 0 || n > sizeof der)
		return K_EINVAL;
	if (n > sig_cap)
		return K_EMSGSIZE;
	memcpy(sig, der, n);
	return (int)n;
}

static void hash_parts(const br_hash_class *hc, const struct piece *p, unsigned np, uint8_t *out)
{
	br_hash_compat_context c;
	hc->init(&c.vtable);
	for (unsigned i = 0; i < np; i++)
		if (p[i].n)
			hc->update(&c.vtable, p[i].p, p[i].n);
	hc->out(&c.vtable, out);
	tls_wipe(&c, sizeof c);
}

/* EMSA-PSS-ENCODE (RFC 8017 9.1.1) into em[0..em_len), em_bits = modBits - 1,
 * salt of hash length. */
static int pss_encode(const br_hash_class *hc, const uint8_t *msg, size_t msg_len,
		      const uint8_t *salt, uint8_t *em, size_t em_len, size_t em_bits)
{
	static const uint8_t zeros[8];
	size_t hl = (hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	uint8_t mhash[64];
	if (em_len < 2 * hl + 2)
		return K_EINVAL;
	size_t db_len = em_len - hl - 1;
	uint8_t *hp = em + db_len;

	struct piece m = { msg, msg_len };
	hash_parts(hc, &m, 1, mhash);
	/* H = Hash(0x00 * 8 || mHash || salt) */
	struct piece mp[3] = { { zeros, 8 }, { mhash, hl }, { salt, hl } };
	hash_parts(hc, mp, 3, hp);
	/* DB = PS || 0x01 || salt */
	memset(em, 0, db_len - hl - 1);
	em[db_len - hl - 1] = 0x01;
	memcpy(em + db_len - hl, salt, hl);
	/* maskedDB = DB XOR MGF1(H, db_len) */
	for (uint32_t ctr = 0, off = 0; off < db_len; ctr++) {
		uint8_t cb[4] = { (uint8_t)(ctr >> 24), (uint8_t)(ctr >> 16), (uint8_t)(ctr >> 8),
				  (uint8_t)ctr };
		struct piece g[2] = { { hp, hl }, { cb, 4 } };
		hash_parts(hc, g, 2, mhash);
		for (size_t i = 0; i < hl && off < db_len; i++, off++)
			em[off] ^= mhash[i];
	}
	em[0] &= (uint8_t)(0xffu >> (8 * em_len - em_bits));
	em[em_len - 1] = 0xbc;
	tls_wipe(mhash, sizeof mhash);
	return K_OK;
}

static int sign_rsa_pss(const struct tls_cert *cert, const br_hash_class *hc, const uint8_t *msg,
			size_t msg_len, const uint8_t rnd[64], uint8_t *sig, size_t sig_cap)
{
	const br_rsa_public_key *pk = &cert->rsa_pub;
	uint8_t check[TLS_SIG_MAX], d1[32], d2[32];

	if (cert->key_type != TLS_KEY_RSA || !pk->n)
		return K_EINVAL;
	const uint8_t *n = pk->n;
	size_t k = pk->nlen;
	while (k && *n == 0) {
		n++;
		k--;
	}
	if (k == 0 || k > TLS_SIG_MAX || ((size_t)cert->rsa.n_bitlen + 7) / 8 != k)
		return K_EINVAL;
	if (k > sig_cap)
		return K_EMSGSIZE;
	size_t mod_bits = 8 * (k - 1);
	for (unsigned top = n[0]; top; top >>= 1)
		mod_bits++;
	size_t em_bits = mod_bits - 1, em_len = (em_bits + 7) / 8;
	if (em_len < k)
		sig[0] = 0;
	int err = pss_encode(hc, msg, msg_len, rnd, sig + (k - em_len), em_len, em_bits);
	if (err)
		return err;

	/* Sign, then check the result with the public key. */
	tls_hash(0, sig, k, d1);
	if (!br_rsa_i31_private(sig, &cert->rsa)) {
		tls_wipe(sig, k);
		return K_EINVAL;
	}
	memcpy(check, sig, k);
	bool ok = br_rsa_i31_public(check, k, pk) == 1;
	tls_hash(0, check, k, d2);
	if (!ok || !tls_ct_equal(d1, d2, sizeof d1)) {
		tls_wipe(sig, k);
		return K_EINVAL;
	}
	return (int)k;
}

int tls_sign(const struct tls_cert *cert, uint16_t sigalg, const uint8_t *msg, size_t msg_len,
	     const uint8_t rnd[64], uint8_t *sig, size_t sig_cap)
{
	switch (sigalg) {
	case TLS_SIG_ECDSA_P256_SHA256:
		return sign_ecdsa(cert, msg, msg_len, sig, sig_cap);
	case TLS_SIG_RSA_PSS_RSAE_SHA256:
		return sign_rsa_pss(cert, &br_sha256_vtable, msg, msg_len, rnd, sig, sig_cap);
	case TLS_SIG_RSA_PSS_RSAE_SHA384:
		return sign_rsa_pss(cert, &br_sha384_vtable, msg, msg_len, rnd, sig, sig_cap);
	case TLS_SIG_RSA_PSS_RSAE_SHA512:
		return sign_rsa_pss(cert, &br_sha512_vtable, msg, msg_len, rnd, sig, sig_cap);
	default:
		return K_EINVAL;
	}
}
