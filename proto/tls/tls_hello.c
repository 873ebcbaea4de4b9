/*
 * tls_hello.c - the ClientHello parser (RFC 8446 4.1.2, 4.2) and the
 * choices that depend only on it: the certificate (SNI, RFC 6066 3, and
 * signature_algorithms, 4.2.3) and its signature algorithm.
 *
 * Interface: tls_hello_parse, tls_hello_cert, tls_hello_sigalg,
 * tls_hello_has_u16 (tls_int.h); tls_handshake.c is the caller.
 *
 * Rules:
 *  - The message is read through struct tls_rd only; every vector's
 *    length is checked against its bounds from the RFC's presentation
 *    language, and every extension must be consumed exactly. Results are
 *    views into the message (struct tls_span), valid while it is.
 *  - Errors are the alert to send: decode_error for anything malformed,
 *    illegal_parameter for a compression list other than [0], a repeated
 *    extension (4.2), a repeated key_share group (4.2.8), pre_shared_key
 *    not last (4.2.11), identities and binders not paired, and a
 *    record_size_limit below 64 (RFC 8449 4). Unknown extensions are
 *    skipped (4.1.2). More than TLS_MAX_EXTS extensions: decode_error.
 *  - Checking what is missing (supported_versions, key_share, ...) is
 *    the handshake's job: it knows which ones it needs.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/tls.h>

#include "tls_int.h"

/* More extensions than any client sends (about 30 types are defined):
 * bounds the duplicate check, which is quadratic. */
#define TLS_MAX_EXTS 128

static void span_of(struct tls_span *s, const struct tls_rd *r)
{
	s->p = r->p;
	s->n = tls_rd_left(r);
}

bool tls_hello_has_u16(struct tls_span list, uint16_t v)
{
	for (size_t i = 0; i + 1 < list.n; i += 2)
		if ((uint16_t)(list.p[i] << 8 | list.p[i + 1]) == v)
			return true;
	return false;
}

/* A u16 list vector (even length, at least one entry). */
static bool u16_list(struct tls_rd *e, unsigned nbytes, size_t max, struct tls_span *out)
{
	struct tls_rd l;
	tls_rd_vec(e, nbytes, 2, max, &l);
	if (l.bad || (tls_rd_left(&l) & 1))
		return false;
	span_of(out, &l);
	return true;
}

static int ext_key_share(struct tls_rd *e, struct tls_client_hello *ch)
{
	struct tls_rd l, k;
	tls_rd_vec(e, 2, 0, 0xffff, &l);
	span_of(&ch->shares, &l);
	bool seen[3] = {false, false, false};
	while (!l.bad && tls_rd_left(&l)) {
		uint16_t g = (uint16_t)tls_rd_uint(&l, 2);
		tls_rd_vec(&l, 2, 1, 0xffff, &k);
		/* one of ours twice (RFC 8446 4.2.8); others are never used */
		int i = g == TLS_GROUP_X25519 ? 0 : g == TLS_GROUP_SECP256R1 ? 1
			: g == TLS_GROUP_SECP384R1 ? 2 : -1;
		if (!l.bad && i >= 0) {
			if (seen[i])
				return TLS_ALERT_ILLEGAL_PARAMETER;
			seen[i] = true;
		}
	}
	if (l.bad)
		return TLS_ALERT_DECODE_ERROR;
	ch->has_shares = true;
	return 0;
}

static int ext_psk(struct tls_rd *e, const uint8_t *msg, struct tls_client_hello *ch)
{
	struct tls_rd ids, binders, v;
	unsigned nids = 0, nbinders = 0;
	tls_rd_vec(e, 2, 7, 0xffff, &ids);
	span_of(&ch->psk_ids, &ids);
	while (!ids.bad && tls_rd_left(&ids)) {
		tls_rd_vec(&ids, 2, 1, 0xffff, &v);
		tls_rd_uint(&ids, 4);
		nids++;
	}
	ch->truncated_len = (size_t)(e->p - msg);
	tls_rd_vec(e, 2, 33, 0xffff, &binders);
	span_of(&ch->binders, &binders);
	while (!binders.bad && tls_rd_left(&binders)) {
		tls_rd_vec(&binders, 1, 32, 255, &v);
		nbinders++;
	}
	if (ids.bad || binders.bad || e->bad)
		return TLS_ALERT_DECODE_ERROR;
	if (nids != nbinders)
		return TLS_ALERT_ILLEGAL_PARAMETER;
	ch->has_psk = true;
	return 0;
}

static int ext_server_name(struct tls_rd *e, struct tls_client_hello *ch)
{
	struct tls_rd l, name;
	tls_rd_vec(e, 2, 1, 0xffff, &l);
	while (!l.bad && tls_rd_left(&l)) {
		uint8_t type = (uint8_t)tls_rd_uint(&l, 1);
		tls_rd_vec(&l, 2, 1, 0xffff, &name);
		if (!l.bad && type == 0 && !ch->sni.p)
			span_of(&ch->sni, &name);
	}
	return l.bad ? TLS_ALERT_DECODE_ERROR : 0;
}

static int ext_alpn(struct tls_rd *e, struct tls_client_hello *ch)
{
	struct tls_rd l, name;
	tls_rd_vec(e, 2, 2, 0xffff, &l);
	span_of(&ch->alpn, &l);
	while (!l.bad && tls_rd_left(&l))
		tls_rd_vec(&l, 1, 1, 255, &name);
	return l.bad ? TLS_ALERT_DECODE_ERROR : 0;
}

static int ext_versions(struct tls_rd *e, struct tls_client_hello *ch)
{
	struct tls_span v;
	struct tls_rd l;
	tls_rd_vec(e, 1, 2, 254, &l);
	if (l.bad || (tls_rd_left(&l) & 1))
		return TLS_ALERT_DECODE_ERROR;
	span_of(&v, &l);
	ch->has_versions = true;
	ch->tls13 = tls_hello_has_u16(v, TLS_VERSION_13);
	return 0;
}

/* One extension's body; 0 or an alert. */
static int one_ext(uint16_t type, struct tls_rd *e, const uint8_t *msg,
		   struct tls_client_hello *ch)
{
	struct tls_rd l;
	int a = 0;
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		a = ext_server_name(e, ch);
		break;
	case TLS_EXT_SUPPORTED_GROUPS:
		if (!u16_list(e, 2, 0xffff, &ch->groups))
			return TLS_ALERT_DECODE_ERROR;
		ch->has_groups = true;
		break;
	case TLS_EXT_SIG_ALGS:
		if (!u16_list(e, 2, 0xfffe, &ch->sigalgs))
			return TLS_ALERT_DECODE_ERROR;
		ch->has_sigalgs = true;
		break;
	case TLS_EXT_SIG_ALGS_CERT: {
		struct tls_span ignored;
		if (!u16_list(e, 2, 0xfffe, &ignored))
			return TLS_ALERT_DECODE_ERROR;
		break;
	}
	case TLS_EXT_ALPN:
		a = ext_alpn(e, ch);
		break;
	case TLS_EXT_RECORD_SIZE_LIMIT: {
		uint16_t v = (uint16_t)tls_rd_uint(e, 2);
		if (!e->bad && v < 64)
			return TLS_ALERT_ILLEGAL_PARAMETER;
		ch->record_size_limit = v;
		break;
	}
	case TLS_EXT_PRE_SHARED_KEY:
		a = ext_psk(e, msg, ch);
		break;
	case TLS_EXT_EARLY_DATA:
		ch->early_data = true;
		break;
	case TLS_EXT_SUPPORTED_VERSIONS:
		a = ext_versions(e, ch);
		break;
	case TLS_EXT_COOKIE:
		tls_rd_vec(e, 2, 1, 0xffff, &l);
		span_of(&ch->cookie, &l);
		break;
	case TLS_EXT_PSK_MODES:
		tls_rd_vec(e, 1, 1, 255, &l);
		while (!l.bad && tls_rd_left(&l)) {
			uint32_t m = tls_rd_uint(&l, 1);
			if (m < 32)
				ch->psk_modes |= 1u << m;
		}
		ch->has_psk_modes = true;
		break;
	case TLS_EXT_KEY_SHARE:
		a = ext_key_share(e, ch);
		break;
	default:                        /* padding and the unknown */
		tls_rd_take(e, tls_rd_left(e));
		break;
	}
	if (a)
		return a;
	if (e->bad || tls_rd_left(e))
		return TLS_ALERT_DECODE_ERROR;
	return 0;
}

/* type appeared among the extensions in [from, to) (well-formed). */
static bool ext_seen_before(const uint8_t *from, const uint8_t *to, uint16_t type)
{
	struct tls_rd r, body;
	tls_rd_init(&r, from, (size_t)(to - from));
	while (tls_rd_left(&r) && !r.bad) {
		if (tls_rd_uint(&r, 2) == type)
			return true;
		tls_rd_vec(&r, 2, 0, 0xffff, &body);
	}
	return false;
}

int tls_hello_parse(const uint8_t *msg, size_t len, struct tls_client_hello *ch)
{
	struct tls_rd r, sid, suites, comp, exts;
	uint8_t seen[128];              /* a bit per (type & 1023) */
	memset(ch, 0, sizeof *ch);
	if (len < 4)
		return TLS_ALERT_DECODE_ERROR;
	tls_rd_init(&r, msg + 4, len - 4);
	tls_rd_uint(&r, 2);             /* legacy_version: supported_versions decides */
	ch->random = tls_rd_take(&r, 32);
	tls_rd_vec(&r, 1, 0, 32, &sid);
	span_of(&ch->sid, &sid);
	tls_rd_vec(&r, 2, 2, 0xfffe, &suites);
	span_of(&ch->suites, &suites);
	tls_rd_vec(&r, 1, 1, 255, &comp);
	if (r.bad || (ch->suites.n & 1))
		return TLS_ALERT_DECODE_ERROR;
	if (tls_rd_left(&comp) != 1 || comp.p[0] != 0)
		return TLS_ALERT_ILLEGAL_PARAMETER;
	if (!tls_rd_left(&r))
		return 0;               /* no extensions: TLS 1.2 or older */
	tls_rd_vec(&r, 2, 0, 0xffff, &exts);
	if (r.bad || tls_rd_left(&r))
		return TLS_ALERT_DECODE_ERROR;
	memset(seen, 0, sizeof seen);
	const uint8_t *first = exts.p;
	unsigned count = 0;
	while (tls_rd_left(&exts)) {
		if (++count > TLS_MAX_EXTS)
			return TLS_ALERT_DECODE_ERROR;
		const uint8_t *at = exts.p;
		struct tls_rd e;
		uint16_t type = (uint16_t)tls_rd_uint(&exts, 2);
		tls_rd_vec(&exts, 2, 0, 0xffff, &e);
		if (exts.bad)
			return TLS_ALERT_DECODE_ERROR;
		if (ch->has_psk)                /* it must be the last (4.2.11) */
			return TLS_ALERT_ILLEGAL_PARAMETER;
		unsigned bit = type & 1023u;
		if ((seen[bit >> 3] >> (bit & 7) & 1) && ext_seen_before(first, at, type))
			return TLS_ALERT_ILLEGAL_PARAMETER;
		seen[bit >> 3] |= (uint8_t)(1u << (bit & 7));
		int a = one_ext(type, &e, msg, ch);
		if (a)
			return a;
	}
	return 0;
}

uint16_t tls_hello_sigalg(const struct tls_client_hello *ch, enum tls_key_type kt)
{
	static const uint16_t rsa[3] = {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA384,
					TLS_SIG_RSA_PSS_RSAE_SHA512};
	if (kt == TLS_KEY_EC_P256)
		return tls_hello_has_u16(ch->sigalgs, TLS_SIG_ECDSA_P256_SHA256)
			       ? TLS_SIG_ECDSA_P256_SHA256 : 0;
	for (unsigned i = 0; i < 3; i++)
		if (tls_hello_has_u16(ch->sigalgs, rsa[i]))
			return rsa[i];
	return 0;
}

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool name_eq(const uint8_t *a, const char *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (lower(a[i]) != lower((uint8_t)b[i]))
			return false;
	return true;
}

/* A certificate name matches the SNI host name: exactly (pass 0), or as
 * "*.rest" covering one label (pass 1). */
static bool name_match(const char *name, struct tls_span sni, int pass)
{
	size_t n = strlen(name);
	if (pass == 0)
		return name[0] != '*' && n == sni.n && name_eq(sni.p, name, n);
	if (n < 3 || name[0] != '*' || name[1] != '.' || sni.n <= n - 1)
		return false;
	size_t label = sni.n - (n - 1);         /* the part '*' stands for */
	if (memchr(sni.p, '.', label))
		return false;
	return name_eq(sni.p + label, name + 1, n - 1);
}

int tls_hello_cert(const struct tls_server *srv, const struct tls_client_hello *ch,
		   bool need_sig, uint16_t *sigalg, bool *matched)
{
	const struct tls_server_config *cfg = &srv->cfg;
	for (int pass = ch->sni.p ? 0 : 2; pass < 3; pass++) {
		for (unsigned i = 0; i < cfg->ncerts; i++) {
			const struct tls_cert *ct = &cfg->certs[i];
			bool hit = pass == 2;
			for (unsigned j = 0; !hit && j < ct->nnames; j++)
				hit = ct->names[j] && name_match(ct->names[j], ch->sni, pass);
			if (!hit)
				continue;
			uint16_t s = tls_hello_sigalg(ch, ct->key_type);
			if (need_sig && !s)
				continue;
			*sigalg = s;
			*matched = pass < 2;
			return (int)i;
		}
	}
	return -1;
}
