/*
 * test_tls_crypto.c - the TLS crypto layer (proto/tls/tls_crypto.c)
 * against known answers and against itself:
 *  - HMAC (RFC 4231 case 1), HKDF (RFC 5869 cases 1 and 3), and the
 *    TLS 1.3 key schedule of RFC 8448 section 3 (early, derived,
 *    handshake, traffic and master secrets; write keys and IVs), with
 *    the client's Finished record of that trace sealed and opened;
 *  - AES-GCM (the GCM specification's test cases 1, 2, 4, 13, 14, 16)
 *    and ChaCha20-Poly1305 (RFC 8439 2.8.2), on both the AES-NI and the
 *    portable code, and session tickets;
 *  - records: round trips for all suites, sequence numbers and the
 *    nonce XOR, tampered tags, ciphertext and additional data, and
 *    try_open leaving the data as it was;
 *  - X25519 (RFC 7748 6.1, RFC 8448), P-256 and P-384 (RFC 5903 8.1,
 *    8.2), agreement of random keys, keys as functions of the random
 *    bytes, refusal of bad shares;
 *  - ECDSA P-256 checked by BearSSL's verifier, RSA-PSS checked by an
 *    EMSA-PSS-VERIFY (RFC 8017 9.1.2) written here over the raw public
 *    operation, with keys generated from a fixed seed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/err.h>

#include "proto/tls/tls_priv.h"

/* ---- helpers ------------------------------------------------------------- */

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	int hi = -1;
	for (; *s; s++) {
		int v;
		if (*s >= '0' && *s <= '9')
			v = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			v = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			v = *s - 'A' + 10;
		else
			continue;       /* spaces between groups */
		if (hi < 0) {
			hi = v;
		} else {
			out[n++] = (uint8_t)(hi << 4 | v);
			hi = -1;
		}
	}
	assert_true(hi < 0);
	return n;
}

static void assert_hex(const uint8_t *got, size_t len, const char *want_hex)
{
	uint8_t want[512];
	size_t n = unhex(want_hex, want);
	assert_int_equal(n, len);
	assert_memory_equal(got, want, len);
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (uint8_t)(seed >> 16);
	}
}

static void drbg_seed(br_hmac_drbg_context *d, const char *seed)
{
	br_hmac_drbg_init(d, &br_sha256_vtable, seed, strlen(seed));
}

/* Every test runs with the accelerated code (if the CPU has it) unless
 * it says otherwise. */
static int reset_portable(void **state)
{
	(void)state;
	tls_crypto_force_portable = false;
	return 0;
}

/* ---- tables and small functions ---------------------------------------------- */

static void test_suite_table(void **state)
{
	(void)state;
	assert_int_equal(tls_suite_index(TLS_AES_128_GCM_SHA256), 1);
	assert_int_equal(tls_suite_index(TLS_AES_256_GCM_SHA384), 2);
	assert_int_equal(tls_suite_index(TLS_CHACHA20_POLY1305_SHA256), 3);
	assert_int_equal(tls_suite_index(0x1304), 0);
	assert_int_equal(tls_suite_index(0), 0);
	assert_int_equal(tls_suites[1].hash, 0);
	assert_int_equal(tls_suites[1].key_len, 16);
	assert_int_equal(tls_suites[1].aead, TLS_AEAD_AES_GCM);
	assert_int_equal(tls_suites[2].hash, 1);
	assert_int_equal(tls_suites[2].key_len, 32);
	assert_int_equal(tls_suites[2].aead, TLS_AEAD_AES_GCM);
	assert_int_equal(tls_suites[3].hash, 0);
	assert_int_equal(tls_suites[3].key_len, 32);
	assert_int_equal(tls_suites[3].aead, TLS_AEAD_CHACHA_POLY);
	assert_string_equal(tls_suites[1].name, "TLS_AES_128_GCM_SHA256");
	assert_string_equal(tls_suites[2].name, "TLS_AES_256_GCM_SHA384");
	assert_string_equal(tls_suites[3].name, "TLS_CHACHA20_POLY1305_SHA256");
	assert_int_equal(tls_kex_share_len(TLS_GROUP_X25519), 32);
	assert_int_equal(tls_kex_share_len(TLS_GROUP_SECP256R1), 65);
	assert_int_equal(tls_kex_share_len(TLS_GROUP_SECP384R1), 97);
	assert_int_equal(tls_kex_share_len(0x0019), 0);
	assert_int_equal(tls_hash_len(0), 32);
	assert_int_equal(tls_hash_len(1), 48);
	assert_ptr_equal(tls_hash_vtable(0), &br_sha256_vtable);
	assert_ptr_equal(tls_hash_vtable(1), &br_sha384_vtable);
}

static void test_ct_equal_and_wipe(void **state)
{
	(void)state;
	uint8_t a[40], b[40];
	fill(a, sizeof a, 1);
	memcpy(b, a, sizeof b);
	assert_true(tls_ct_equal(a, b, sizeof a));
	assert_true(tls_ct_equal(a, b, 0));
	for (size_t i = 0; i < sizeof a; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1 << bit);
			assert_false(tls_ct_equal(a, b, sizeof a));
			b[i] ^= (uint8_t)(1 << bit);
		}
	}
	tls_wipe(b + 3, 10);
	for (size_t i = 0; i < sizeof b; i++)
		assert_int_equal(b[i], i >= 3 && i < 13 ? 0 : a[i]);
}

/* ---- hashes, HMAC, HKDF ----------------------------------------------------------- */

static void test_hash_peek(void **state)
{
	(void)state;
	uint8_t out[48];
	struct tls_hash_ctx h;
	tls_hash_init(&h, 0);
	tls_hash_peek(&h, out);
	assert_hex(out, 32, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	tls_hash_update(&h, "a", 1);
	tls_hash_peek(&h, out);              /* the context goes on */
	tls_hash_update(&h, "bc", 2);
	tls_hash_peek(&h, out);
	assert_hex(out, 32, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	tls_hash(1, "abc", 3, out);
	assert_hex(out, 48,
		   "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
		   "8086072ba1e7cc2358baeca134c825a7");
	tls_hash_init(&h, 1);
	tls_hash_update(&h, "ab", 2);
	tls_hash_update(&h, "c", 1);
	uint8_t out2[48];
	tls_hash_peek(&h, out2);
	assert_memory_equal(out, out2, 48);
}

static void test_hmac_rfc4231(void **state)
{
	(void)state;
	uint8_t key[20], out[48];
	memset(key, 0x0b, sizeof key);
	tls_hmac(0, key, sizeof key, "Hi There", 8, out);
	assert_hex(out, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	tls_hmac(1, key, sizeof key, "Hi There", 8, out);
	assert_hex(out, 48,
		   "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59c"
		   "faea9ea9076ede7f4af152e8b2fa9cb6");
}

static void test_hkdf_rfc5869(void **state)
{
	(void)state;
	uint8_t ikm[22], salt[13], info[10], prk[32], okm[42];
	unhex("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm);
	unhex("000102030405060708090a0b0c", salt);
	unhex("f0f1f2f3f4f5f6f7f8f9", info);
	/* test case 1 */
	tls_hkdf_extract(0, salt, sizeof salt, ikm, sizeof ikm, prk);
	assert_hex(prk, 32, "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5");
	tls_hkdf_expand(0, prk, info, sizeof info, okm, sizeof okm);
	assert_hex(okm, 42,
		   "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
		   "34007208d5b887185865");
	/* a shorter output is a prefix of the longer one */
	uint8_t okm2[20];
	tls_hkdf_expand(0, prk, info, sizeof info, okm2, sizeof okm2);
	assert_memory_equal(okm, okm2, sizeof okm2);
	/* test case 3: no salt (NULL: hash-length zeros), no info */
	tls_hkdf_extract(0, NULL, 0, ikm, sizeof ikm, prk);
	assert_hex(prk, 32, "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04");
	tls_hkdf_expand(0, prk, NULL, 0, okm, sizeof okm);
	assert_hex(okm, 42,
		   "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
		   "9d201395faa4b61a96c8");
}

/* HKDF-Expand-Label is HKDF-Expand over the HkdfLabel structure, for
 * both hashes (RFC 8446 7.1) - spelled out byte by byte here. */
static void test_expand_label_structure(void **state)
{
	(void)state;
	uint8_t secret[48], ctx[48], a[100], b[100], info[128];
	fill(secret, sizeof secret, 7);
	fill(ctx, sizeof ctx, 8);
	for (unsigned alg = 0; alg < 2; alg++) {
		size_t hl = tls_hash_len(alg);
		size_t n = 0;
		info[n++] = 0;
		info[n++] = 77;
		info[n++] = 18;
		memcpy(info + n, "tls13 c hs traffic", 18);
		n += 18;
		info[n++] = (uint8_t)hl;
		memcpy(info + n, ctx, hl);
		n += hl;
		tls_hkdf_expand(alg, secret, info, n, a, 77);
		tls_hkdf_expand_label(alg, secret, "c hs traffic", ctx, hl, b, 77);
		assert_memory_equal(a, b, 77);
		tls_derive_secret(alg, secret, "c hs traffic", ctx, b);
		tls_hkdf_expand_label(alg, secret, "c hs traffic", ctx, hl, a, hl);
		assert_memory_equal(a, b, hl);
	}
}

/* RFC 8448 section 3, the simple 1-RTT handshake (SHA-256). */
static const char rfc8448_ch_sh_hash[] =
	"860c06edc07858ee8e78f0e7428c58edd6b43f2ca3e6e95f02ed063cf0e1cad8";
static const char rfc8448_shared[] =
	"8bd4054fb55b9d63fdfbacf9f04b9f0d35e6d63f537563efd46272900f89492d";
static const char rfc8448_c_hs[] =
	"b3eddb126e067f35a780b3abf45e2d8f3b1a950738f52e9600746a0e27a55a21";
static const char rfc8448_s_hs[] =
	"b67b7d690cc16c4e75e54213cb2d37b4e9c912bcded9105d42befd59d391ad38";

static void test_rfc8448_key_schedule(void **state)
{
	(void)state;
	uint8_t early[32], empty_hash[32], derived[32], shared[32], hs[32], th[32], c_hs[32],
		s_hs[32], master[32], k[16];

	tls_hkdf_extract(0, NULL, 0, NULL, 0, early);
	assert_hex(early, 32, "33ad0a1c607ec03b09e6cd9893680ce210adf300aa1f2660e1b22e10f170f92a");
	tls_hash(0, NULL, 0, empty_hash);
	tls_derive_secret(0, early, "derived", empty_hash, derived);
	assert_hex(derived, 32, "6f2615a108c702c5678f54fc9dbab69716c076189c48250cebeac3576c3611ba");
	unhex(rfc8448_shared, shared);
	tls_hkdf_extract(0, derived, 32, shared, 32, hs);
	assert_hex(hs, 32, "1dc826e93606aa6fdc0aadc12f741b01046aa6b99f691ed221a9f0ca043fbeac");
	unhex(rfc8448_ch_sh_hash, th);
	tls_derive_secret(0, hs, "c hs traffic", th, c_hs);
	assert_hex(c_hs, 32, rfc8448_c_hs);
	tls_derive_secret(0, hs, "s hs traffic", th, s_hs);
	assert_hex(s_hs, 32, rfc8448_s_hs);
	tls_derive_secret(0, hs, "derived", empty_hash, derived);
	assert_hex(derived, 32, "43de77e0c77713859a944db9db2590b53190a65b3ee2e4f12dd7a0bb7ce254b4");
	tls_hkdf_extract(0, derived, 32, NULL, 0, master);
	assert_hex(master, 32, "18df06843d13a08bf2a449844c5f8a478001bc4d4c627984d5a41da8d0402919");

	/* the server's handshake write key and IV */
	tls_hkdf_expand_label(0, s_hs, "key", NULL, 0, k, 16);
	assert_hex(k, 16, "3fce516009c21727d0f2e4e86ee403bc");
	struct tls_aead a;
	tls_aead_init(&a, 1, s_hs);
	assert_int_equal(a.suite, 1);
	assert_int_equal(a.seq, 0);
	assert_hex(a.iv, 12, "5d313eb2671276ee13000b30");
	/* the client's and the server's application write IVs */
	uint8_t ap[32];
	unhex("a11af9f05531f856ad47116b45a950328204b4f44bfb6b3a4b4f1f3fcb631643", ap);
	tls_hkdf_expand_label(0, ap, "key", NULL, 0, k, 16);
	assert_hex(k, 16, "9f02283b6c9c07efc26bb9f2ac92e356");
	tls_aead_init(&a, 1, ap);
	assert_hex(a.iv, 12, "cf782b88dd83549aadf1e984");
	unhex("9e40646ce79a7f9dc05af8889bce6552875afa0b06df0087f792ebb7c17504a5", ap);
	tls_aead_init(&a, 1, ap);
	assert_hex(a.iv, 12, "5b78923dee08579033e523d9");
	tls_aead_clear(&a);
	assert_int_equal(a.suite, 0);
}

/* The client's Finished record of RFC 8448 section 3, under the client's
 * handshake keys: sealed from its plaintext, and opened. */
static const char rfc8448_cfin_plain[] =
	"14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61" "16";
static const char rfc8448_cfin_record[] =
	"1703030035"
	"75ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f8"
	"0338ac98fc46deb384bd1caeacab6867d726c40546";

static void rfc8448_record(bool portable)
{
	uint8_t secret[32], rec[64], plain[64], buf[64], tag[16];
	tls_crypto_force_portable = portable;
	unhex(rfc8448_c_hs, secret);
	size_t rl = unhex(rfc8448_cfin_record, rec);
	size_t pl = unhex(rfc8448_cfin_plain, plain);
	assert_int_equal(rl, 5 + pl + 16);

	struct tls_aead w, r;
	tls_aead_init(&w, 1, secret);
	memcpy(buf, plain, pl);
	tls_aead_seal(&w, rec, 5, buf, pl, tag);
	assert_memory_equal(buf, rec + 5, pl);
	assert_memory_equal(tag, rec + 5 + pl, 16);
	assert_int_equal(w.seq, 1);

	tls_aead_init(&r, 1, secret);
	memcpy(buf, rec + 5, pl);
	assert_true(tls_aead_open(&r, rec, 5, buf, pl, rec + 5 + pl));
	assert_memory_equal(buf, plain, pl);
	assert_int_equal(r.seq, 1);
	/* the same record again: the next sequence number does not open it */
	memcpy(buf, rec + 5, pl);
	assert_false(tls_aead_try_open(&r, rec, 5, buf, pl, rec + 5 + pl));
	assert_memory_equal(buf, rec + 5, pl);
	assert_int_equal(r.seq, 1);
	tls_crypto_force_portable = false;
}

static void test_rfc8448_record(void **state)
{
	(void)state;
	rfc8448_record(false);
	rfc8448_record(true);
}

/* ---- AEAD known answers -------------------------------------------------------- */

struct aead_kat {
	unsigned suite;
	const char *key, *iv, *aad, *plain, *cipher, *tag;
};

#define GCM_P "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72" \
	      "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
#define GCM_A "feedfacedeadbeeffeedfacedeadbeefabaddad2"
#define Z16 "00000000000000000000000000000000"
#define Z12 "000000000000000000000000"

static const struct aead_kat kats[] = {
	/* GCM specification test cases 1, 2, 4 (AES-128) */
	{ 1, Z16, Z12, "", "", "", "58e2fccefa7e3061367f1d57a4e7455a" },
	{ 1, Z16, Z12, "", Z16, "0388dace60b6a392f328c2b971b2fe78",
	  "ab6e47d42cec13bdf53a67b21257bddf" },
	{ 1, "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888", GCM_A, GCM_P,
	  "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
	  "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
	  "5bc94fbc3221a5db94fae95ae7121a47" },
	/* test cases 13, 14, 16 (AES-256) */
	{ 2, Z16 Z16, Z12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b" },
	{ 2, Z16 Z16, Z12, "", Z16, "cea7403d4d606b6e074ec5d3baf39d18",
	  "d0d1c8a799996bf0265b98b5d48ab919" },
	{ 2, "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
	  "cafebabefacedbaddecaf888", GCM_A, GCM_P,
	  "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
	  "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
	  "76fc6ece0f4e1768cddf8853bb2d551b" },
	/* RFC 8439 2.8.2 */
	{ 3, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
	  "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
	  /* "Ladies and Gentlemen of the class of '99: If I could offer you
	   * only one tip for the future, sunscreen would be it." */
	  "4c616469657320616e642047656e746c656d656e206f662074686520636c617373"
	  "206f66202739393a204966204920636f756c64206f6666657220796f75206f6e6c"
	  "79206f6e652074697020666f7220746865206675747572652c2073756e73637265"
	  "656e20776f756c642062652069742e",
	  "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
	  "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
	  "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
	  "3ff4def08e4b7a9de576d26586cec64b6116",
	  "1ae10b594f09e26a7e902ecbd0600691" },
};

static void run_kats(bool portable)
{
	tls_crypto_force_portable = portable;
	for (size_t i = 0; i < sizeof kats / sizeof kats[0]; i++) {
		const struct aead_kat *t = &kats[i];
		uint8_t key[32], iv[12], aad[32], plain[128], cipher[128], tag[16], buf[128],
			got[16];
		size_t kl = unhex(t->key, key);
		assert_int_equal(kl, tls_suites[t->suite].key_len);
		assert_int_equal(unhex(t->iv, iv), 12);
		size_t al = unhex(t->aad, aad);
		size_t pl = unhex(t->plain, plain);
		assert_int_equal(unhex(t->cipher, cipher), pl);
		unhex(t->tag, tag);

		struct tls_aead a;
		tls_aead_init_keys(&a, t->suite, key, iv);
		memcpy(buf, plain, pl);
		tls_aead_seal(&a, aad, al, buf, pl, got);
		assert_memory_equal(buf, cipher, pl);
		assert_memory_equal(got, tag, 16);

		tls_aead_init_keys(&a, t->suite, key, iv);
		assert_true(tls_aead_open(&a, aad, al, buf, pl, tag));
		assert_memory_equal(buf, plain, pl);
		memcpy(buf, cipher, pl);
		a.seq = 0;
		assert_true(tls_aead_try_open(&a, aad, al, buf, pl, tag));
		assert_memory_equal(buf, plain, pl);

		/* AES-256-GCM also through the ticket functions */
		if (t->suite == 2) {
			memcpy(buf, plain, pl);
			tls_ticket_seal(key, iv, aad, al, buf, pl, got);
			assert_memory_equal(buf, cipher, pl);
			assert_memory_equal(got, tag, 16);
			assert_true(tls_ticket_open(key, iv, aad, al, buf, pl, tag));
			assert_memory_equal(buf, plain, pl);
		}
	}
	tls_crypto_force_portable = false;
}

static void test_aead_kats(void **state)
{
	(void)state;
	run_kats(false);
}

static void test_aead_kats_portable(void **state)
{
	(void)state;
	run_kats(true);
}

/* ---- records ------------------------------------------------------------------ */

static const size_t lens[] = { 0, 1, 15, 16, 17, 63, 64, 65, 255, 1000, 4096, 16385 };

static void test_roundtrip_all_suites(void **state)
{
	(void)state;
	static uint8_t plain[16400], buf[16400];
	uint8_t secret[48], aad[5], tag[16];
	for (unsigned s = 1; s <= TLS_NSUITES; s++) {
		struct tls_aead w, r;
		fill(secret, sizeof secret, s);
		tls_aead_init(&w, s, secret);
		tls_aead_init(&r, s, secret);
		for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
			size_t n = lens[i];
			fill(plain, n, (uint32_t)(s * 100 + i));
			memcpy(buf, plain, n);
			aad[0] = 23;
			aad[1] = 3;
			aad[2] = 3;
			aad[3] = (uint8_t)((n + 16) >> 8);
			aad[4] = (uint8_t)(n + 16);
			tls_aead_seal(&w, aad, 5, buf, n, tag);
			assert_int_equal(w.seq, i + 1);
			if (n >= 16)
				assert_memory_not_equal(buf, plain, n);
			assert_true(tls_aead_open(&r, aad, 5, buf, n, tag));
			assert_int_equal(r.seq, i + 1);
			assert_memory_equal(buf, plain, n);
		}
		tls_aead_clear(&w);
		tls_aead_clear(&r);
	}
}

/* tls_aead_init is the suite's key and IV by HKDF-Expand-Label with the
 * suite's hash (RFC 8446 7.3), then tls_aead_init_keys. */
static void test_aead_init_from_secret(void **state)
{
	(void)state;
	uint8_t secret[48], key[32], iv[12], p1[50], p2[50], t1[16], t2[16];
	for (unsigned s = 1; s <= TLS_NSUITES; s++) {
		const struct tls_suite *su = &tls_suites[s];
		fill(secret, sizeof secret, 300 + s);
		tls_hkdf_expand_label(su->hash, secret, "key", NULL, 0, key, su->key_len);
		tls_hkdf_expand_label(su->hash, secret, "iv", NULL, 0, iv, 12);
		struct tls_aead a, b;
		tls_aead_init(&a, s, secret);
		tls_aead_init_keys(&b, s, key, iv);
		assert_memory_equal(a.iv, iv, 12);
		fill(p1, sizeof p1, 1);
		memcpy(p2, p1, sizeof p1);
		tls_aead_seal(&a, p1, 5, p1 + 5, sizeof p1 - 5, t1);
		tls_aead_seal(&b, p2, 5, p2 + 5, sizeof p2 - 5, t2);
		assert_memory_equal(p1, p2, sizeof p1);
		assert_memory_equal(t1, t2, 16);
	}
}

/* The per-record nonce is the IV XOR the padded sequence number: a
 * state at seq s seals exactly as one at seq 0 whose IV has s XORed into
 * its last 8 bytes. */
static void test_nonce_xor(void **state)
{
	(void)state;
	uint8_t key[32], iv[12], iv2[12], p1[100], p2[100], t1[16], t2[16], aad[5] = { 1, 2, 3, 4, 5 };
	const uint64_t seqs[] = { 1, 2, 255, 256, 0x0102030405060708ull, ~0ull - 1 };
	for (unsigned s = 1; s <= TLS_NSUITES; s++) {
		for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
			fill(key, sizeof key, (uint32_t)s);
			fill(iv, sizeof iv, (uint32_t)(s + 10));
			memcpy(iv2, iv, 12);
			for (int j = 0; j < 8; j++)
				iv2[4 + j] ^= (uint8_t)(seqs[i] >> (56 - 8 * j));
			fill(p1, sizeof p1, 99);
			memcpy(p2, p1, sizeof p1);
			struct tls_aead a, b;
			tls_aead_init_keys(&a, s, key, iv);
			a.seq = seqs[i];
			tls_aead_init_keys(&b, s, key, iv2);
			tls_aead_seal(&a, aad, 5, p1, sizeof p1, t1);
			tls_aead_seal(&b, aad, 5, p2, sizeof p2, t2);
			assert_memory_equal(p1, p2, sizeof p1);
			assert_memory_equal(t1, t2, 16);
			assert_int_equal(a.seq, seqs[i] + 1);
			/* and it differs from the record at seq 0 under the first IV */
			struct tls_aead c;
			fill(p2, sizeof p2, 99);
			tls_aead_init_keys(&c, s, key, iv);
			tls_aead_seal(&c, aad, 5, p2, sizeof p2, t2);
			assert_memory_not_equal(p1, p2, sizeof p1);
		}
	}
}

/* Records opened out of order fail; the sequence number only moves on a
 * good record. */
static void test_sequence(void **state)
{
	(void)state;
	uint8_t secret[32], rec[3][40], tag[3][16], plain[40], aad[5] = { 23, 3, 3, 0, 56 };
	for (unsigned s = 1; s <= TLS_NSUITES; s++) {
		struct tls_aead w, r;
		fill(secret, sizeof secret, 40 + s);
		tls_aead_init(&w, s, secret);
		tls_aead_init(&r, s, secret);
		for (int i = 0; i < 3; i++) {
			fill(rec[i], 40, (uint32_t)i);
			tls_aead_seal(&w, aad, 5, rec[i], 40, tag[i]);
		}
		memcpy(plain, rec[1], 40);
		assert_false(tls_aead_try_open(&r, aad, 5, plain, 40, tag[1]));
		assert_memory_equal(plain, rec[1], 40);
		assert_int_equal(r.seq, 0);
		for (int i = 0; i < 3; i++) {
			assert_true(tls_aead_open(&r, aad, 5, rec[i], 40, tag[i]));
			fill(plain, 40, (uint32_t)i);
			assert_memory_equal(rec[i], plain, 40);
		}
		assert_int_equal(r.seq, 3);
	}
}

enum tamper { T_TAG, T_CIPHER, T_AAD, T_AAD_LEN, T_SEQ };

static void tamper_one(unsigned s, enum tamper what, size_t n, size_t pos, bool portable)
{
	uint8_t secret[32], plain[300], buf[300], orig[300], tag[16], aad[13];
	tls_crypto_force_portable = portable;
	fill(secret, sizeof secret, 70 + s);
	fill(plain, n, 71);
	fill(aad, sizeof aad, 72);
	struct tls_aead w, r;
	tls_aead_init(&w, s, secret);
	tls_aead_init(&r, s, secret);
	memcpy(buf, plain, n);
	tls_aead_seal(&w, aad, sizeof aad, buf, n, tag);
	size_t aad_len = sizeof aad;
	switch (what) {
	case T_TAG:
		tag[pos % 16] ^= 0x01;
		break;
	case T_CIPHER:
		buf[pos % n] ^= 0x80;
		break;
	case T_AAD:
		aad[pos % sizeof aad] ^= 0x10;
		break;
	case T_AAD_LEN:
		aad_len--;
		break;
	case T_SEQ:
		r.seq = 1;
		break;
	}
	uint64_t seq = r.seq;
	memcpy(orig, buf, n);
	assert_false(tls_aead_try_open(&r, aad, aad_len, buf, n, tag));
	assert_memory_equal(buf, orig, n);     /* untouched */
	assert_int_equal(r.seq, seq);
	assert_false(tls_aead_open(&r, aad, aad_len, buf, n, tag));
	assert_int_equal(r.seq, seq);
	tls_crypto_force_portable = false;
}

static void test_tamper(void **state)
{
	(void)state;
	for (unsigned s = 1; s <= TLS_NSUITES; s++) {
		for (int p = 0; p < 2; p++) {
			for (size_t pos = 0; pos < 16; pos += 5) {
				tamper_one(s, T_TAG, 100, pos, p);
				tamper_one(s, T_TAG, 0, pos, p);
			}
			tamper_one(s, T_CIPHER, 1, 0, p);
			tamper_one(s, T_CIPHER, 100, 0, p);
			tamper_one(s, T_CIPHER, 100, 99, p);
			tamper_one(s, T_CIPHER, 300, 150, p);
			tamper_one(s, T_AAD, 100, 0, p);
			tamper_one(s, T_AAD, 100, 12, p);
			tamper_one(s, T_AAD, 0, 4, p);
			tamper_one(s, T_AAD_LEN, 100, 0, p);
			tamper_one(s, T_SEQ, 100, 0, p);
		}
	}
}

/* Keys with no suite seal nothing usable and open nothing. */
static void test_no_suite(void **state)
{
	(void)state;
	struct tls_aead a;
	uint8_t secret[32] = { 0 }, buf[8] = { 1, 2, 3 }, tag[16];
	tls_aead_init(&a, 0, secret);
	assert_int_equal(a.suite, 0);
	tls_aead_init(&a, 4, secret);
	assert_int_equal(a.suite, 0);
	tls_aead_seal(&a, NULL, 0, buf, sizeof buf, tag);
	assert_false(tls_aead_open(&a, NULL, 0, buf, sizeof buf, tag));
	assert_false(tls_aead_try_open(&a, NULL, 0, buf, sizeof buf, tag));
}

/* The accelerated code (AES-NI/PCLMUL, SSE2 ChaCha20, 64-bit Poly1305)
 * and the portable code give the same records, and each opens the
 * other's. */
static void test_portable_matches_accelerated(void **state)
{
	(void)state;
	static uint8_t p1[5000], p2[5000];
	uint8_t secret[48], aad[29], t1[16], t2[16];
	if (!tls_cpu_aesni())
		print_message("no AES-NI/PCLMUL here: both runs use the portable AES-GCM\n");
	for (unsigned s = 1; s <= TLS_NSUITES; s++) {
		for (size_t n = 0; n < sizeof p1; n += 499) {
			fill(secret, sizeof secret, (uint32_t)(s + n));
			fill(aad, sizeof aad, (uint32_t)n);
			fill(p1, n, (uint32_t)(n + 1));
			memcpy(p2, p1, n);
			struct tls_aead fast, slow, fr, sr;
			tls_crypto_force_portable = false;
			tls_aead_init(&fast, s, secret);
			tls_aead_init(&fr, s, secret);
			tls_crypto_force_portable = true;
			tls_aead_init(&slow, s, secret);
			tls_aead_init(&sr, s, secret);
			if (tls_suites[s].aead == TLS_AEAD_AES_GCM) {
				assert_ptr_equal(slow.k.ct64.vtable, &br_aes_ct64_ctr_vtable);
				if (tls_cpu_aesni())
					assert_ptr_not_equal(fast.k.ct64.vtable,
							     &br_aes_ct64_ctr_vtable);
			}
			assert_memory_equal(fast.h, slow.h, 16);
			tls_crypto_force_portable = false;
			tls_aead_seal(&fast, aad, n % 30, p1, n, t1);
			tls_crypto_force_portable = true;
			tls_aead_seal(&slow, aad, n % 30, p2, n, t2);
			assert_memory_equal(p1, p2, n);
			assert_memory_equal(t1, t2, 16);
			/* cross open: the portable state opens the fast record */
			tls_crypto_force_portable = true;
			assert_true(tls_aead_open(&sr, aad, n % 30, p1, n, t1));
			tls_crypto_force_portable = false;
			assert_true(tls_aead_open(&fr, aad, n % 30, p2, n, t2));
			assert_memory_equal(p1, p2, n);
		}
	}
	tls_crypto_force_portable = false;
}

static void test_ticket(void **state)
{
	(void)state;
	uint8_t key[32], nonce[12], aad[4] = { 'K', 'I', 'L', 'N' }, plain[200], buf[200], tag[16];
	fill(key, sizeof key, 5);
	fill(nonce, sizeof nonce, 6);
	fill(plain, sizeof plain, 7);
	for (int p = 0; p < 2; p++) {
		tls_crypto_force_portable = p;
		memcpy(buf, plain, sizeof buf);
		tls_ticket_seal(key, nonce, aad, sizeof aad, buf, sizeof buf, tag);
		assert_memory_not_equal(buf, plain, sizeof buf);
		uint8_t ct[200];
		memcpy(ct, buf, sizeof ct);
		/* a wrong key, nonce, aad or tag: refused, data untouched */
		key[0] ^= 1;
		assert_false(tls_ticket_open(key, nonce, aad, sizeof aad, buf, sizeof buf, tag));
		key[0] ^= 1;
		nonce[11] ^= 1;
		assert_false(tls_ticket_open(key, nonce, aad, sizeof aad, buf, sizeof buf, tag));
		nonce[11] ^= 1;
		aad[3] ^= 1;
		assert_false(tls_ticket_open(key, nonce, aad, sizeof aad, buf, sizeof buf, tag));
		aad[3] ^= 1;
		tag[15] ^= 1;
		assert_false(tls_ticket_open(key, nonce, aad, sizeof aad, buf, sizeof buf, tag));
		tag[15] ^= 1;
		assert_memory_equal(buf, ct, sizeof ct);
		assert_true(tls_ticket_open(key, nonce, aad, sizeof aad, buf, sizeof buf, tag));
		assert_memory_equal(buf, plain, sizeof buf);
	}
	tls_crypto_force_portable = false;
}

/* ---- key exchange ------------------------------------------------------------ */

static void kex_kat(uint16_t group, const char *priv_hex, const char *peer_hex,
		    const char *pub_hex, const char *secret_hex)
{
	uint8_t priv[48], peer[97], pub[TLS_KEX_PUB_MAX], secret[TLS_KEX_SECRET_MAX];
	size_t pl = unhex(priv_hex, priv), peer_len = unhex(peer_hex, peer), pub_len, sec_len;
	assert_int_equal(tls_kex_priv(group, priv, pl, peer, peer_len, pub, &pub_len, secret,
				      &sec_len),
			 K_OK);
	assert_hex(pub, pub_len, pub_hex);
	assert_hex(secret, sec_len, secret_hex);
}

#define P256_I "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433"
#define P256_GI "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180" \
		"5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3"
#define P256_R "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53"
#define P256_GR "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63" \
		"56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab"
#define P256_Z "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de"

#define X_ALICE_PRIV "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
#define X_ALICE_PUB "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
#define X_BOB_PRIV "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
#define X_BOB_PUB "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
#define X_SHARED "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"

static void test_x25519_rfc7748(void **state)
{
	(void)state;
	kex_kat(TLS_GROUP_X25519, X_ALICE_PRIV, X_BOB_PUB, X_ALICE_PUB, X_SHARED);
	kex_kat(TLS_GROUP_X25519, X_BOB_PRIV, X_ALICE_PUB, X_BOB_PUB, X_SHARED);
	/* RFC 8448 3: the server's key with the client's share */
	kex_kat(TLS_GROUP_X25519,
		"b1580eeadf6dd589b8ef4f2d5652578cc810e9980191ec8d058308cea216a21e",
		"99381de560e4bd43d23d8e435a7dbafeb3c06e51c13cae4d5413691e529aaf2c",
		"c9828876112095fe66762bdbf7c672e156d6cc253b833df1dd69b1b04e751f0f",
		rfc8448_shared);
	/* tls_kex takes the scalar from rnd[0..32) */
	uint8_t rnd[64], peer[32], pub[97], secret[48];
	size_t pub_len, sec_len;
	memset(rnd, 0xee, sizeof rnd);
	unhex(X_ALICE_PRIV, rnd);
	unhex(X_BOB_PUB, peer);
	assert_int_equal(tls_kex(TLS_GROUP_X25519, rnd, peer, 32, pub, &pub_len, secret, &sec_len),
			 K_OK);
	assert_hex(pub, pub_len, X_ALICE_PUB);
	assert_hex(secret, sec_len, X_SHARED);
	/* our share may be written over the peer's */
	unhex(X_BOB_PUB, pub);
	assert_int_equal(tls_kex(TLS_GROUP_X25519, rnd, pub, 32, pub, &pub_len, secret, &sec_len),
			 K_OK);
	assert_hex(pub, pub_len, X_ALICE_PUB);
	assert_hex(secret, sec_len, X_SHARED);
	uint8_t priv[32];
	size_t n = unhex(P256_GR, pub);
	unhex(P256_I, priv);
	assert_int_equal(tls_kex_priv(TLS_GROUP_SECP256R1, priv, 32, pub, n, pub, &pub_len, secret,
				      &sec_len), K_OK);
	assert_hex(pub, pub_len, P256_GI);
	assert_hex(secret, sec_len, P256_Z);
}

#define P384_I "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655" \
	       "e35b538041e649ee3faef896783ab194"
#define P384_GI "04667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6" \
		"de3ac808acb4bdb4c88732aee95f41aa9482ed1fc0eeb9cafc4984625ccfc23f" \
		"65032149e0e144ada024181535a0f38eeb9fcff3c2c947dae69b4c634573a81c"
#define P384_R "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942" \
	       "e0308312916b8ed2960e4bd55a7448fc"
#define P384_GR "04e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d" \
		"0d1ac43a0336def96fda41d0774a3571dcfbec7aacf3196472169e838430367f" \
		"66eebe3c6e70c416dd5f0c68759dd1fff83fa40142209dff5eaad96db9e6386c"
#define P384_Z "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4" \
	       "d603135569b9e9d09cf5d4a270f59746"

static void test_nist_rfc5903(void **state)
{
	(void)state;
	kex_kat(TLS_GROUP_SECP256R1, P256_I, P256_GR, P256_GI, P256_Z);
	kex_kat(TLS_GROUP_SECP256R1, P256_R, P256_GI, P256_GR, P256_Z);
	kex_kat(TLS_GROUP_SECP384R1, P384_I, P384_GR, P384_GI, P384_Z);
	kex_kat(TLS_GROUP_SECP384R1, P384_R, P384_GI, P384_GR, P384_Z);
}

/* Two random keys agree; a key is a function of rnd alone. */
static void test_kex_agreement(void **state)
{
	(void)state;
	static const uint16_t groups[] = { TLS_GROUP_X25519, TLS_GROUP_SECP256R1,
					   TLS_GROUP_SECP384R1 };
	static const char *const any_share[] = { X_BOB_PUB, P256_GR, P384_GR };
	for (int g = 0; g < 3; g++) {
		for (uint32_t round = 0; round < 4; round++) {
			uint8_t ra[64], rb[64], any[97], pa[97], pa2[97], pb[97], sa[48], sb[48],
				sx[48];
			size_t la, la2, lb, lsa, lsb, lsx, n = unhex(any_share[g], any);
			fill(ra, 64, 1000 + round * 2);
			fill(rb, 64, 1001 + round * 2);
			assert_int_equal(tls_kex(groups[g], ra, any, n, pa, &la, sx, &lsx), K_OK);
			assert_int_equal(la, tls_kex_share_len(groups[g]));
			assert_int_equal(tls_kex(groups[g], rb, pa, la, pb, &lb, sb, &lsb), K_OK);
			assert_int_equal(tls_kex(groups[g], ra, pb, lb, pa2, &la2, sa, &lsa), K_OK);
			assert_int_equal(la2, la);
			assert_memory_equal(pa, pa2, la);
			assert_int_equal(lsa, groups[g] == TLS_GROUP_SECP384R1 ? 48 : 32);
			assert_int_equal(lsa, lsb);
			assert_memory_equal(sa, sb, lsa);
			assert_memory_not_equal(pa, pb, la);
			assert_memory_not_equal(sa, sx, lsa);
		}
	}
}

/* X25519 takes its scalar from rnd[0..32); the NIST curves' scalars
 * depend on all 64 bytes. */
static void test_kex_uses_rnd(void **state)
{
	(void)state;
	static const uint16_t groups[] = { TLS_GROUP_X25519, TLS_GROUP_SECP256R1,
					   TLS_GROUP_SECP384R1 };
	static const char *const any_share[] = { X_BOB_PUB, P256_GR, P384_GR };
	for (int g = 0; g < 3; g++) {
		uint8_t rnd[64], any[97], p1[97], p2[97], s1[48], s2[48];
		size_t n = unhex(any_share[g], any), l1, l2, sl1, sl2;
		fill(rnd, sizeof rnd, 77);
		assert_int_equal(tls_kex(groups[g], rnd, any, n, p1, &l1, s1, &sl1), K_OK);
		for (size_t i = 0; i < 64; i += 9) {
			rnd[i] ^= 0x20;
			assert_int_equal(tls_kex(groups[g], rnd, any, n, p2, &l2, s2, &sl2), K_OK);
			assert_int_equal(l1, l2);
			if (groups[g] == TLS_GROUP_X25519 && i >= 32)
				assert_memory_equal(p1, p2, l1);
			else
				assert_memory_not_equal(p1, p2, l1);
			rnd[i] ^= 0x20;
		}
	}
}

static void expect_kex_fail(uint16_t group, const uint8_t *peer, size_t peer_len)
{
	uint8_t rnd[64], pub[97], secret[48];
	size_t pub_len = 99, sec_len = 99;
	fill(rnd, sizeof rnd, 3);
	memset(secret, 0x5a, sizeof secret);
	assert_int_equal(tls_kex(group, rnd, peer, peer_len, pub, &pub_len, secret, &sec_len),
			 K_EINVAL);
	assert_int_equal(pub_len, 0);
	assert_int_equal(sec_len, 0);
	/* what may have been written is wiped, nothing beyond */
	size_t wiped = group == TLS_GROUP_SECP384R1 ? 48 : tls_kex_share_len(group) ? 32 : 0;
	for (size_t i = 0; i < sizeof secret; i++)
		assert_int_equal(secret[i], i < wiped ? 0 : 0x5a);
}

static void test_kex_rejects(void **state)
{
	(void)state;
	uint8_t p[98];
	/* X25519: the wrong length; small-order points give an all-zero secret */
	unhex(X_BOB_PUB, p);
	expect_kex_fail(TLS_GROUP_X25519, p, 31);
	expect_kex_fail(TLS_GROUP_X25519, p, 33);
	memset(p, 0, 32);
	expect_kex_fail(TLS_GROUP_X25519, p, 32);
	p[0] = 1;                       /* u = 1 */
	expect_kex_fail(TLS_GROUP_X25519, p, 32);
	/* u = 2^255 - 19 + 0 = p, which is 0 mod p */
	unhex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", p);
	expect_kex_fail(TLS_GROUP_X25519, p, 32);

	/* P-256 */
	size_t n = unhex(P256_GR, p);
	expect_kex_fail(TLS_GROUP_SECP256R1, p, n - 1);
	expect_kex_fail(TLS_GROUP_SECP256R1, p, 33);           /* compressed length */
	p[64] ^= 1;                                            /* off the curve */
	expect_kex_fail(TLS_GROUP_SECP256R1, p, n);
	p[64] ^= 1;
	p[0] = 0x02;
	expect_kex_fail(TLS_GROUP_SECP256R1, p, n);
	p[0] = 0x04;
	p[5] ^= 0x40;                                          /* x changed */
	expect_kex_fail(TLS_GROUP_SECP256R1, p, n);
	memset(p, 0, n);
	p[0] = 0x04;                                           /* (0, 0) */
	expect_kex_fail(TLS_GROUP_SECP256R1, p, n);
	memset(p + 1, 0xff, n - 1);                            /* coordinates >= p */
	expect_kex_fail(TLS_GROUP_SECP256R1, p, n);

	/* P-384 */
	n = unhex(P384_GR, p);
	expect_kex_fail(TLS_GROUP_SECP384R1, p, n + 1);
	expect_kex_fail(TLS_GROUP_SECP384R1, p, 65);
	p[96] ^= 1;
	expect_kex_fail(TLS_GROUP_SECP384R1, p, n);
	p[96] ^= 1;
	p[0] = 0x03;
	expect_kex_fail(TLS_GROUP_SECP384R1, p, n);
	/* a P-256 point is no P-384 share */
	n = unhex(P256_GR, p);
	expect_kex_fail(TLS_GROUP_SECP384R1, p, n);

	/* unknown groups */
	expect_kex_fail(0x001e, p, 56);
	expect_kex_fail(0, p, 32);

	/* tls_kex_priv: a scalar of the wrong length */
	uint8_t priv[48], pub[97], sec[48];
	size_t pl, sl;
	memset(priv, 1, sizeof priv);
	n = unhex(P256_GR, p);
	assert_int_equal(tls_kex_priv(TLS_GROUP_SECP256R1, priv, 31, p, n, pub, &pl, sec, &sl),
			 K_EINVAL);
	assert_int_equal(tls_kex_priv(TLS_GROUP_X25519, priv, 31, p + 1, 32, pub, &pl, sec, &sl),
			 K_EINVAL);
}

/* ---- signatures ---------------------------------------------------------------- */

static const uint8_t cv_msg[] =
	"                                                                "
	"TLS 1.3, server CertificateVerify\0"
	"0123456789abcdef0123456789abcdef";

static void test_ecdsa(void **state)
{
	(void)state;
	br_hmac_drbg_context d;
	uint8_t kbuf[BR_EC_KBUF_PRIV_MAX_SIZE], pbuf[BR_EC_KBUF_PUB_MAX_SIZE], sig[TLS_SIG_MAX],
		sig2[TLS_SIG_MAX], hash[32], rnd[64] = { 0 };
	br_ec_public_key pk;
	struct tls_cert cert;
	memset(&cert, 0, sizeof cert);
	drbg_seed(&d, "kiln ecdsa test key");
	assert_int_not_equal(br_ec_keygen(&d.vtable, &br_ec_p256_m31, &cert.ec, kbuf,
					  BR_EC_secp256r1), 0);
	assert_int_equal(br_ec_compute_pub(&br_ec_p256_m31, &pk, pbuf, &cert.ec), 65);
	cert.key_type = TLS_KEY_EC_P256;

	int n = tls_sign(&cert, TLS_SIG_ECDSA_P256_SHA256, cv_msg, sizeof cv_msg, rnd, sig,
			 sizeof sig);
	assert_true(n > 8 && n <= 72);
	assert_int_equal(sig[0], 0x30);                        /* DER SEQUENCE */
	assert_int_equal(sig[1], n - 2);
	tls_hash(0, cv_msg, sizeof cv_msg, hash);
	assert_int_equal(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, 32, &pk, sig, (size_t)n),
			 1);
	/* deterministic (RFC 6979) */
	fill(rnd, sizeof rnd, 9);
	assert_int_equal(tls_sign(&cert, TLS_SIG_ECDSA_P256_SHA256, cv_msg, sizeof cv_msg, rnd,
				  sig2, sizeof sig2), n);
	assert_memory_equal(sig, sig2, (size_t)n);
	/* another message does not verify with this signature */
	hash[0] ^= 1;
	assert_int_equal(br_ecdsa_i31_vrfy_asn1(&br_ec_p256_m31, hash, 32, &pk, sig, (size_t)n),
			 0);
	/* too little room; key types and sigalgs that do not fit */
	assert_int_equal(tls_sign(&cert, TLS_SIG_ECDSA_P256_SHA256, cv_msg, sizeof cv_msg, rnd,
				  sig, (size_t)n - 1), K_EMSGSIZE);
	assert_int_equal(tls_sign(&cert, TLS_SIG_RSA_PSS_RSAE_SHA256, cv_msg, sizeof cv_msg, rnd,
				  sig, sizeof sig), K_EINVAL);
	assert_int_equal(tls_sign(&cert, 0x0503, cv_msg, sizeof cv_msg, rnd, sig, sizeof sig),
			 K_EINVAL);
	cert.ec.curve = BR_EC_secp384r1;
	assert_int_equal(tls_sign(&cert, TLS_SIG_ECDSA_P256_SHA256, cv_msg, sizeof cv_msg, rnd,
				  sig, sizeof sig), K_EINVAL);
}

/* EMSA-PSS-VERIFY (RFC 8017 9.1.2) with MGF1 over the same hash and a
 * salt of hash length, after the RSA public operation; returns the salt. */
static bool pss_verify(const br_hash_class *hc, const br_rsa_public_key *pk, const uint8_t *msg,
		       size_t msg_len, const uint8_t *sig, size_t sig_len, uint8_t *salt_out)
{
	size_t hl = (hc->desc >> BR_HASHDESC_OUT_OFF) & BR_HASHDESC_OUT_MASK;
	uint8_t x[512], db[512], mhash[64], h2[64], blk[64];
	br_hash_compat_context c;
	size_t k = pk->nlen;
	if (sig_len != k)
		return false;
	memcpy(x, sig, k);
	if (br_rsa_i31_public(x, k, pk) != 1)
		return false;
	size_t mod_bits = 8 * (k - 1);
	for (unsigned t = pk->n[0]; t; t >>= 1)
		mod_bits++;
	size_t em_bits = mod_bits - 1, em_len = (em_bits + 7) / 8;
	const uint8_t *em = x + (k - em_len);
	if (k > em_len && x[0] != 0)
		return false;
	if (em_len < 2 * hl + 2 || em[em_len - 1] != 0xbc)
		return false;
	size_t db_len = em_len - hl - 1;
	const uint8_t *h = em + db_len;
	uint8_t top_mask = (uint8_t)(0xff << (8 - (8 * em_len - em_bits)));
	if (8 * em_len > em_bits && (em[0] & top_mask))
		return false;
	for (uint32_t ctr = 0, off = 0; off < db_len; ctr++) {
		uint8_t cb[4] = { (uint8_t)(ctr >> 24), (uint8_t)(ctr >> 16), (uint8_t)(ctr >> 8),
				  (uint8_t)ctr };
		hc->init(&c.vtable);
		hc->update(&c.vtable, h, hl);
		hc->update(&c.vtable, cb, 4);
		hc->out(&c.vtable, blk);
		for (size_t i = 0; i < hl && off < db_len; i++, off++)
			db[off] = em[off] ^ blk[i];
	}
	if (8 * em_len > em_bits)
		db[0] &= (uint8_t)~top_mask;
	for (size_t i = 0; i < db_len - hl - 1; i++)
		if (db[i] != 0)
			return false;
	if (db[db_len - hl - 1] != 0x01)
		return false;
	const uint8_t *salt = db + db_len - hl;
	hc->init(&c.vtable);
	hc->update(&c.vtable, msg, msg_len);
	hc->out(&c.vtable, mhash);
	hc->init(&c.vtable);
	hc->update(&c.vtable, "\0\0\0\0\0\0\0\0", 8);
	hc->update(&c.vtable, mhash, hl);
	hc->update(&c.vtable, salt, hl);
	hc->out(&c.vtable, h2);
	if (memcmp(h, h2, hl) != 0)
		return false;
	if (salt_out)
		memcpy(salt_out, salt, hl);
	return true;
}

struct rsa_key {
	struct tls_cert cert;
	uint8_t priv[BR_RSA_KBUF_PRIV_SIZE(2048)];
	uint8_t pub[BR_RSA_KBUF_PUB_SIZE(2048)];
};

static void rsa_keygen(struct rsa_key *k, unsigned bits, const char *seed)
{
	br_hmac_drbg_context d;
	memset(k, 0, sizeof *k);
	drbg_seed(&d, seed);
	assert_int_equal(br_rsa_i31_keygen(&d.vtable, &k->cert.rsa, k->priv, &k->cert.rsa_pub,
					   k->pub, bits, 65537), 1);
	k->cert.key_type = TLS_KEY_RSA;
}

static void test_rsa_pss(void **state)
{
	(void)state;
	static struct rsa_key k2048, k1025, other;
	static const struct {
		uint16_t alg;
		const br_hash_class *hc;
		size_t hl;
	} algs[] = {
		{ TLS_SIG_RSA_PSS_RSAE_SHA256, &br_sha256_vtable, 32 },
		{ TLS_SIG_RSA_PSS_RSAE_SHA384, &br_sha384_vtable, 48 },
		{ TLS_SIG_RSA_PSS_RSAE_SHA512, &br_sha512_vtable, 64 },
	};
	uint8_t rnd[64], rnd2[64], sig[TLS_SIG_MAX], sig2[TLS_SIG_MAX], salt[64];
	rsa_keygen(&k2048, 2048, "kiln rsa test key 2048");
	rsa_keygen(&k1025, 1025, "kiln rsa test key 1025");
	fill(rnd, sizeof rnd, 11);
	fill(rnd2, sizeof rnd2, 12);

	for (size_t i = 0; i < 3; i++) {
		const br_rsa_public_key *pk = &k2048.cert.rsa_pub;
		int n = tls_sign(&k2048.cert, algs[i].alg, cv_msg, sizeof cv_msg, rnd, sig,
				 sizeof sig);
		assert_int_equal(n, 256);
		assert_true(pss_verify(algs[i].hc, pk, cv_msg, sizeof cv_msg, sig, 256, salt));
		assert_memory_equal(salt, rnd, algs[i].hl);    /* the salt is rnd's */
		/* another salt: another signature, valid too */
		assert_int_equal(tls_sign(&k2048.cert, algs[i].alg, cv_msg, sizeof cv_msg, rnd2,
					  sig2, sizeof sig2), 256);
		assert_memory_not_equal(sig, sig2, 256);
		assert_true(pss_verify(algs[i].hc, pk, cv_msg, sizeof cv_msg, sig2, 256, NULL));
		/* another message, a changed signature, another hash: refused */
		assert_false(pss_verify(algs[i].hc, pk, cv_msg, sizeof cv_msg - 1, sig, 256, NULL));
		sig[100] ^= 4;
		assert_false(pss_verify(algs[i].hc, pk, cv_msg, sizeof cv_msg, sig, 256, NULL));
		assert_false(pss_verify(algs[(i + 1) % 3].hc, pk, cv_msg, sizeof cv_msg, sig2, 256,
					NULL));
		/* room for one byte less than the modulus */
		assert_int_equal(tls_sign(&k2048.cert, algs[i].alg, cv_msg, sizeof cv_msg, rnd,
					  sig, 255), K_EMSGSIZE);
	}

	/* A 1025-bit modulus: the encoded message is one byte shorter than
	 * the modulus (emLen = 128, k = 129). SHA-512 with its 64-byte salt
	 * does not fit in 128 bytes (needs 130). */
	for (size_t i = 0; i < 2; i++) {
		int n = tls_sign(&k1025.cert, algs[i].alg, cv_msg, sizeof cv_msg, rnd, sig,
				 sizeof sig);
		assert_int_equal(n, 129);
		assert_true(pss_verify(algs[i].hc, &k1025.cert.rsa_pub, cv_msg, sizeof cv_msg, sig,
				       129, salt));
		assert_memory_equal(salt, rnd, algs[i].hl);
	}
	assert_int_equal(tls_sign(&k1025.cert, TLS_SIG_RSA_PSS_RSAE_SHA512, cv_msg, sizeof cv_msg,
				  rnd, sig, sizeof sig), K_EINVAL);

	/* An RSA key cannot make ECDSA signatures; a private key that does
	 * not belong to the public key is caught by the check after signing. */
	assert_int_equal(tls_sign(&k2048.cert, TLS_SIG_ECDSA_P256_SHA256, cv_msg, sizeof cv_msg,
				  rnd, sig, sizeof sig), K_EINVAL);
	rsa_keygen(&other, 2048, "kiln rsa test key, another one");
	struct tls_cert mixed = k2048.cert;
	mixed.rsa_pub = other.cert.rsa_pub;
	assert_int_equal(tls_sign(&mixed, TLS_SIG_RSA_PSS_RSAE_SHA256, cv_msg, sizeof cv_msg, rnd,
				  sig, sizeof sig), K_EINVAL);
	/* a private key of another size than the public one */
	mixed.rsa_pub = k1025.cert.rsa_pub;
	assert_int_equal(tls_sign(&mixed, TLS_SIG_RSA_PSS_RSAE_SHA256, cv_msg, sizeof cv_msg, rnd,
				  sig, sizeof sig), K_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_suite_table, reset_portable),
		cmocka_unit_test_setup(test_ct_equal_and_wipe, reset_portable),
		cmocka_unit_test_setup(test_hash_peek, reset_portable),
		cmocka_unit_test_setup(test_hmac_rfc4231, reset_portable),
		cmocka_unit_test_setup(test_hkdf_rfc5869, reset_portable),
		cmocka_unit_test_setup(test_expand_label_structure, reset_portable),
		cmocka_unit_test_setup(test_rfc8448_key_schedule, reset_portable),
		cmocka_unit_test_setup(test_rfc8448_record, reset_portable),
		cmocka_unit_test_setup(test_aead_kats, reset_portable),
		cmocka_unit_test_setup(test_aead_kats_portable, reset_portable),
		cmocka_unit_test_setup(test_roundtrip_all_suites, reset_portable),
		cmocka_unit_test_setup(test_aead_init_from_secret, reset_portable),
		cmocka_unit_test_setup(test_nonce_xor, reset_portable),
		cmocka_unit_test_setup(test_sequence, reset_portable),
		cmocka_unit_test_setup(test_tamper, reset_portable),
		cmocka_unit_test_setup(test_no_suite, reset_portable),
		cmocka_unit_test_setup(test_portable_matches_accelerated, reset_portable),
		cmocka_unit_test_setup(test_ticket, reset_portable),
		cmocka_unit_test_setup(test_x25519_rfc7748, reset_portable),
		cmocka_unit_test_setup(test_nist_rfc5903, reset_portable),
		cmocka_unit_test_setup(test_kex_agreement, reset_portable),
		cmocka_unit_test_setup(test_kex_uses_rnd, reset_portable),
		cmocka_unit_test_setup(test_kex_rejects, reset_portable),
		cmocka_unit_test_setup(test_ecdsa, reset_portable),
		cmocka_unit_test_setup(test_rsa_pss, reset_portable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
