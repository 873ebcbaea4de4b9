/*
 * tls_priv.h - inside the TLS engine: the crypto layer over BearSSL
 * (tls_crypto.c), the key schedule (tls_keys.c) and what the engine's
 * files share.
 *
 * Rules:
 *  - Hash "alg" is 0 for SHA-256, 1 for SHA-384 (struct tls_suite.hash).
 *  - Secrets are at most TLS_HASH_MAX bytes; lengths come from
 *    tls_hash_len(alg).
 *  - AEAD calls work in place and never allocate.
 */
#ifndef TLS_PRIV_H
#define TLS_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bearssl.h>
#include <kiln/tls.h>

#define TLS_HASH_MAX 48
#define TLS_TAG_LEN 16

/* ---- cipher suites ------------------------------------------------------ */

enum tls_aead_kind { TLS_AEAD_AES_GCM = 1, TLS_AEAD_CHACHA_POLY = 2 };

struct tls_suite {
	uint16_t id;            /* enum tls_suite_id */
	uint8_t hash;           /* 0 SHA-256, 1 SHA-384 */
	uint8_t aead;           /* enum tls_aead_kind */
	uint8_t key_len;        /* 16 or 32 */
	const char *name;
};

/* Index 1..3 (0 is "none"). */
#define TLS_NSUITES 3
extern const struct tls_suite tls_suites[TLS_NSUITES + 1];
/* The table index of a suite id, 0 when unknown. */
unsigned tls_suite_index(uint16_t id);
/* The CPU has AES-NI and PCLMULQDQ (BearSSL's x86ni AES and pclmul GHASH). */
bool tls_cpu_aesni(void);

/* ---- hashes, HMAC, HKDF --------------------------------------------------- */

struct tls_hash_ctx {
	uint8_t alg;
	union {
		br_sha256_context s256;
		br_sha384_context s384;
	} u;
};

size_t tls_hash_len(unsigned alg);
const br_hash_class *tls_hash_vtable(unsigned alg);
void tls_hash_init(struct tls_hash_ctx *h, unsigned alg);
void tls_hash_update(struct tls_hash_ctx *h, const void *data, size_t len);
/* The hash of everything so far; h goes on. */
void tls_hash_peek(const struct tls_hash_ctx *h, uint8_t *out);
/* Hash of data alone. */
void tls_hash(unsigned alg, const void *data, size_t len, uint8_t *out);

void tls_hmac(unsigned alg, const uint8_t *key, size_t key_len, const void *data, size_t len,
	      uint8_t *out);
/* HKDF-Extract (RFC 5869): out = HMAC(salt, ikm), tls_hash_len bytes.
 * salt NULL / ikm NULL: a string of hash-length zeros. */
void tls_hkdf_extract(unsigned alg, const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		      size_t ikm_len, uint8_t *out);
/* HKDF-Expand-Label (RFC 8446 7.1): label without the "tls13 " prefix;
 * out_len <= 255 * hash length. */
void tls_hkdf_expand_label(unsigned alg, const uint8_t *secret, const char *label,
			   const uint8_t *ctx, size_t ctx_len, uint8_t *out, size_t out_len);
/* HKDF-Expand (RFC 5869) with a tls_hash_len(alg)-byte prk;
 * out_len <= 255 * hash length. */
void tls_hkdf_expand(unsigned alg, const uint8_t *prk, const uint8_t *info, size_t info_len,
		     uint8_t *out, size_t out_len);
/* Derive-Secret(secret, label, messages) with the transcript hash given. */
void tls_derive_secret(unsigned alg, const uint8_t *secret, const char *label,
		       const uint8_t *transcript_hash, uint8_t *out);

/* ---- record protection ------------------------------------------------------ */

/* Keys and IV from a traffic secret (RFC 8446 7.3); seq to 0. */
void tls_aead_init(struct tls_aead *a, unsigned suite, const uint8_t *secret);
/* The same from a raw key (the suite's key_len bytes) and IV, for
 * known-answer tests; tls_aead_init is this after the key schedule. */
void tls_aead_init_keys(struct tls_aead *a, unsigned suite, const uint8_t *key,
			const uint8_t iv[12]);
/* Wipes the keys. */
void tls_aead_clear(struct tls_aead *a);
/* Encrypts data[0..len) in place with aad and the next sequence number;
 * writes the tag; seq++. */
void tls_aead_seal(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		   size_t len, uint8_t tag[TLS_TAG_LEN]);
/* Decrypts in place when the tag is right (constant-time check): true and
 * seq++; false leaves seq (the data is then garbage: callers that try
 * again, as when skipping early data, must keep no copy of it). */
bool tls_aead_open(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		   size_t len, const uint8_t tag[TLS_TAG_LEN]);
/* Like tls_aead_open but the data is left as it was when the tag is
 * wrong (checks first, then decrypts): for trial decryption. */
bool tls_aead_try_open(struct tls_aead *a, const uint8_t *aad, size_t aad_len, uint8_t *data,
		       size_t len, const uint8_t tag[TLS_TAG_LEN]);

/* AES-256-GCM with an explicit 12-byte nonce, for session tickets. */
void tls_ticket_seal(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, uint8_t tag[TLS_TAG_LEN]);
bool tls_ticket_open(const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad,
		     size_t aad_len, uint8_t *data, size_t len, const uint8_t tag[TLS_TAG_LEN]);

/* ---- key exchange ------------------------------------------------------------ */

#define TLS_KEX_PUB_MAX 97       /* P-384 uncompressed point */
#define TLS_KEX_SECRET_MAX 48

/* The share a group's key_share must have (32, 65, 97), 0 when unknown. */
size_t tls_kex_share_len(uint16_t group);
/*
 * Makes an ephemeral key for group with the random bytes rnd (64 bytes:
 * more than any scalar needs), writes our public share to pub (returns
 * its length through *pub_len) and the shared secret from the peer's
 * share to secret (*secret_len). K_OK; K_EINVAL for a peer share that is
 * malformed, not on the curve or gives an all-zero X25519 secret.
 */
int tls_kex(uint16_t group, const uint8_t rnd[64], const uint8_t *peer, size_t peer_len,
	    uint8_t *pub, size_t *pub_len, uint8_t *secret, size_t *secret_len);

/*
 * tls_kex with the private key given instead of made from random bytes
 * (known-answer tests): X25519 a 32-byte scalar as RFC 7748 writes it
 * (little-endian, clamped here); P-256/P-384 a big-endian scalar in
 * [1, n-1] of the curve's length. tls_kex is this with the scalar from rnd.
 */
int tls_kex_priv(uint16_t group, const uint8_t *priv, size_t priv_len, const uint8_t *peer,
		 size_t peer_len, uint8_t *pub, size_t *pub_len, uint8_t *secret,
		 size_t *secret_len);

/* ---- signatures ------------------------------------------------------------- */

enum tls_sigalg {
	TLS_SIG_ECDSA_P256_SHA256 = 0x0403,
	TLS_SIG_RSA_PSS_RSAE_SHA256 = 0x0804,
	TLS_SIG_RSA_PSS_RSAE_SHA384 = 0x0805,
	TLS_SIG_RSA_PSS_RSAE_SHA512 = 0x0806,
};

#define TLS_SIG_MAX 512          /* RSA-4096 */

/*
 * Signs msg (the CertificateVerify content, RFC 8446 4.4.3) with cert's
 * key by sigalg; rnd (64 bytes) salts RSA-PSS (ECDSA is deterministic,
 * RFC 6979). Returns the signature's length, or K_EINVAL when the key
 * cannot make that signature, K_EMSGSIZE when sig_cap is too small.
 */
int tls_sign(const struct tls_cert *cert, uint16_t sigalg, const uint8_t *msg, size_t msg_len,
	     const uint8_t rnd[64], uint8_t *sig, size_t sig_cap);

/* Tests: when set, AEAD keys made afterwards and ChaCha20-Poly1305 calls
 * use BearSSL's portable constant-time code (aes_ct64, ghash_ctmul64,
 * chacha20_ct, poly1305_ctmul) even on a CPU with AES-NI/PCLMUL/SSE2. */
extern bool tls_crypto_force_portable;

/* Wipes n bytes in a way the compiler keeps. */
void tls_wipe(void *p, size_t n);
/* Constant-time equality of n bytes. */
bool tls_ct_equal(const uint8_t *a, const uint8_t *b, size_t n);

#endif
