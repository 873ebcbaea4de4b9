/*
 * certbake - bakes TLS certificate chains and their private keys into a
 * C source file for Kiln's TLS engine (mk/tls.mk runs it at build time).
 *
 *   certbake -o OUT.c [--names=N1,N2,...] CHAIN.pem KEY.pem
 *                     [[--names=...] CHAIN.pem KEY.pem ...]
 *
 * Each CHAIN.pem holds one or more PEM certificates, the leaf first, then
 * its intermediates; KEY.pem the leaf's private key: EC P-256 (SEC1 "EC
 * PRIVATE KEY" or PKCS#8 "PRIVATE KEY") or RSA 2048..4096 bits (PKCS#1
 * "RSA PRIVATE KEY" or PKCS#8). --names gives the DNS names the leaf
 * serves (mk/tls.mk takes them from its subjectAltName); it applies to
 * the pair that follows it. The first pair is the default certificate.
 *
 * OUT.c defines kiln_tls_certs[] and kiln_tls_ncerts (struct tls_cert,
 * include/kiln/tls.h): the DER of every certificate, and the private key
 * in the clear - whatever links OUT.c carries the key.
 *
 * The input is whatever a user names in TLS_CERT/TLS_KEY, so it is
 * checked before anything is written: PEM that BearSSL's decoders accept,
 * the leaf's public key equal to the one computed from the private key, a
 * signature made with the key and verified with the certificate's public
 * key, a supported key type and size, names that are plain host names,
 * and a chain that fits the engine's limits. Any problem: a message on
 * stderr naming the file, exit status 1, and no output file.
 */
#include <bearssl.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/tls.h>

#define MAX_FILE (1u << 20)      /* a PEM file larger than this is refused */
#define MAX_OBJS 64u             /* PEM objects per file */
#define MAX_DER 65536u           /* one decoded object */
#define MAX_NAME_LEN 253u

/* The engine sends the chain in one Certificate message inside its
 * first flight, both bounded (TLS_MAX_HS_MSG, TLS_FLIGHT_MAX); this much
 * of the flight is left for EncryptedExtensions, CertificateVerify (an
 * RSA-4096 signature) and Finished. */
#define FLIGHT_RESERVE 1024u

static const char *prog = "certbake";

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		die("out of memory");
	return p;
}

/* ---- bytes ----------------------------------------------------------------- */

struct bytes {
	unsigned char *p;
	size_t len, cap;
	bool overflow;
};

static void bytes_append(void *ctx, const void *src, size_t len)
{
	struct bytes *b = ctx;

	if (b->overflow)
		return;
	if (len > MAX_DER - b->len) {
		b->overflow = true;
		return;
	}
	if (b->len + len > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		unsigned char *np;

		while (cap < b->len + len)
			cap *= 2;
		np = realloc(b->p, cap);
		if (np == NULL)
			die("out of memory");
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, src, len);
	b->len += len;
}

static unsigned char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	if (f == NULL)
		die("%s: %s", path, strerror(errno));
	buf = xmalloc(MAX_FILE + 1);
	n = fread(buf, 1, MAX_FILE + 1, f);
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	if (n > MAX_FILE)
		die("%s: larger than %u bytes: not a PEM certificate or key", path, MAX_FILE);
	*len = n;
	return buf;
}

/* ---- PEM ---------------------------------------------------------------------- */

struct pem_obj {
	char name[128];
	struct bytes der;
};

struct pem_file {
	const char *path;
	struct pem_obj obj[MAX_OBJS];
	unsigned n;
};

static void pem_push(br_pem_decoder_context *pc, struct pem_file *pf, const unsigned char *data,
		     size_t len, bool *in_obj)
{
	while (len > 0) {
		size_t k = br_pem_decoder_push(pc, data, len);

		data += k;
		len -= k;
		switch (br_pem_decoder_event(pc)) {
		case BR_PEM_BEGIN_OBJ: {
			struct pem_obj *o;

			if (pf->n == MAX_OBJS)
				die("%s: more than %u PEM objects", pf->path, MAX_OBJS);
			o = &pf->obj[pf->n++];
			memset(o, 0, sizeof *o);
			snprintf(o->name, sizeof o->name, "%s", br_pem_decoder_name(pc));
			br_pem_decoder_setdest(pc, bytes_append, &o->der);
			*in_obj = true;
			break;
		}
		case BR_PEM_END_OBJ:
			if (pf->obj[pf->n - 1].der.overflow)
				die("%s: PEM object '%s' is larger than %u bytes", pf->path,
				    pf->obj[pf->n - 1].name, MAX_DER);
			*in_obj = false;
			break;
		case BR_PEM_ERROR:
			die("%s: damaged PEM%s%s%s (bad base64, or a missing END line)", pf->path,
			    *in_obj ? " object '" : "", *in_obj ? pf->obj[pf->n - 1].name : "",
			    *in_obj ? "'" : "");
		default:
			if (k == 0 && len > 0)
				die("%s: the PEM decoder is stuck", pf->path);
			break;
		}
	}
}

/* Reads every PEM object of path; a file with none is an error. */
static void pem_read(struct pem_file *pf, const char *path)
{
	br_pem_decoder_context pc;
	unsigned char *data;
	size_t len;
	bool in_obj = false;

	memset(pf, 0, sizeof *pf);
	pf->path = path;
	data = read_file(path, &len);
	br_pem_decoder_init(&pc);
	pem_push(&pc, pf, data, len, &in_obj);
	/* BearSSL's decoder needs an end of line after the last END line. */
	pem_push(&pc, pf, (const unsigned char *)"\n", 1, &in_obj);
	free(data);
	if (in_obj)
		die("%s: truncated PEM object '%s' (no END line)", path, pf->obj[pf->n - 1].name);
	if (pf->n == 0)
		die("%s: not PEM (no -----BEGIN ...----- line); DER files can be converted with "
		    "openssl x509/pkey -inform DER", path);
}

static bool is_cert_name(const char *n)
{
	return strcmp(n, "CERTIFICATE") == 0 || strcmp(n, "X509 CERTIFICATE") == 0;
}

static bool is_key_name(const char *n)
{
	return strcmp(n, "PRIVATE KEY") == 0 || strcmp(n, "EC PRIVATE KEY") == 0 ||
	       strcmp(n, "RSA PRIVATE KEY") == 0;
}

/* ---- one certificate/key pair ----------------------------------------------- */

struct pair {
	const char *cert_path, *key_path;
	char **names;
	unsigned nnames;
	struct bytes chain[TLS_MAX_CHAIN];
	unsigned chain_len;
	int key_type;                   /* BR_KEYTYPE_EC or BR_KEYTYPE_RSA */
	/* EC: the private scalar. RSA: the CRT components, then n and e. */
	struct bytes ec_x;
	uint32_t rsa_bits;
	struct bytes rsa_p, rsa_q, rsa_dp, rsa_dq, rsa_iq, rsa_n, rsa_e;
};

static void bytes_set(struct bytes *b, const void *p, size_t len)
{
	memset(b, 0, sizeof *b);
	bytes_append(b, p, len);
	if (b->overflow)
		die("key component too large");
}

static const char *x509_err(int err)
{
	switch (err) {
	case BR_ERR_X509_TRUNCATED: return "truncated";
	case BR_ERR_X509_UNSUPPORTED: return "unsupported algorithm or key type";
	case BR_ERR_X509_BAD_TIME: return "bad validity dates";
	case BR_ERR_X509_INNER_TRUNC:
	case BR_ERR_X509_BAD_TAG_CLASS:
	case BR_ERR_X509_BAD_TAG_VALUE:
	case BR_ERR_X509_INDEFINITE_LENGTH:
	case BR_ERR_X509_EXTRA_ELEMENT:
	case BR_ERR_X509_UNEXPECTED:
	case BR_ERR_X509_NOT_CONSTRUCTED:
	case BR_ERR_X509_NOT_PRIMITIVE:
	case BR_ERR_X509_PARTIAL_BYTE:
	case BR_ERR_X509_BAD_BOOLEAN:
	case BR_ERR_X509_OVERFLOW:
	case BR_ERR_X509_LIMIT_EXCEEDED:
	case BR_ERR_X509_INVALID_VALUE:
		return "malformed DER";
	default: return "undecodable";
	}
}

static const char *curve_name(int curve)
{
	switch (curve) {
	case BR_EC_secp256r1: return "P-256";
	case BR_EC_secp384r1: return "P-384";
	case BR_EC_secp521r1: return "P-521";
	case BR_EC_curve25519: return "Curve25519";
	case BR_EC_curve448: return "Curve448";
	default: return "an unnamed or unknown curve";
	}
}

/* A big-endian integer without its leading zeros (at least one byte). */
static void strip_zeros(const unsigned char **p, size_t *len)
{
	while (*len > 1 && (*p)[0] == 0) {
		(*p)++;
		(*len)--;
	}
}

static bool same_int(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	strip_zeros(&a, &alen);
	strip_zeros(&b, &blen);
	return alen == blen && memcmp(a, b, alen) == 0;
}

static void load_chain(struct pair *pr, br_x509_pkey *leaf_pk, unsigned char *leaf_kbuf,
		       size_t leaf_kbuf_len)
{
	struct pem_file *pf = xmalloc(sizeof *pf);
	size_t total = 0;
	unsigned i;

	pem_read(pf, pr->cert_path);
	for (i = 0; i < pf->n; i++) {
		const char *n = pf->obj[i].name;
		br_x509_decoder_context dc;
		int err;

		if (is_key_name(n) || strcmp(n, "ENCRYPTED PRIVATE KEY") == 0)
			die("%s: holds a private key ('%s'), not a certificate (are TLS_CERT and "
			    "TLS_KEY swapped?)", pr->cert_path, n);
		if (!is_cert_name(n))
			die("%s: unexpected PEM object '%s' in a certificate chain file",
			    pr->cert_path, n);
		if (pr->chain_len == TLS_MAX_CHAIN)
			die("%s: too many certificates in the chain (the engine sends at most %u: "
			    "the leaf and its intermediates, not the root)", pr->cert_path,
			    TLS_MAX_CHAIN);
		br_x509_decoder_init(&dc, NULL, NULL);
		br_x509_decoder_push(&dc, pf->obj[i].der.p, pf->obj[i].der.len);
		err = br_x509_decoder_last_error(&dc);
		if (err != 0)
			die("%s: certificate %u is not an X.509 certificate BearSSL can read (%s, "
			    "error %d)", pr->cert_path, i + 1, x509_err(err), err);
		if (i == 0) {
			const br_x509_pkey *pk = br_x509_decoder_get_pkey(&dc);

			/* The key points into dc: copy it out. */
			*leaf_pk = *pk;
			if (pk->key_type == BR_KEYTYPE_EC) {
				if (pk->key.ec.qlen > leaf_kbuf_len)
					die("%s: leaf public key too large", pr->cert_path);
				memcpy(leaf_kbuf, pk->key.ec.q, pk->key.ec.qlen);
				leaf_pk->key.ec.q = leaf_kbuf;
			} else if (pk->key_type == BR_KEYTYPE_RSA) {
				if (pk->key.rsa.nlen + pk->key.rsa.elen > leaf_kbuf_len)
					die("%s: leaf public key too large", pr->cert_path);
				memcpy(leaf_kbuf, pk->key.rsa.n, pk->key.rsa.nlen);
				memcpy(leaf_kbuf + pk->key.rsa.nlen, pk->key.rsa.e, pk->key.rsa.elen);
				leaf_pk->key.rsa.n = leaf_kbuf;
				leaf_pk->key.rsa.e = leaf_kbuf + pk->key.rsa.nlen;
			} else {
				die("%s: the leaf's public key is of an unsupported type", pr->cert_path);
			}
			if (br_x509_decoder_isCA(&dc))
				fprintf(stderr, "%s: warning: %s: the first certificate is a CA; the "
					"leaf must come first\n", prog, pr->cert_path);
		}
		pr->chain[pr->chain_len++] = pf->obj[i].der;
		/* Certificate entry: 3-byte length, the DER, 2-byte extensions. */
		total += 3 + pf->obj[i].der.len + 2;
	}
	free(pf);
	/* The Certificate message: header, context, list length. */
	total += 4 + 1 + 3;
	if (total > TLS_MAX_HS_MSG || total > TLS_FLIGHT_MAX - FLIGHT_RESERVE)
		die("%s: the chain is too large: its Certificate message is %zu bytes, the engine "
		    "sends at most %u", pr->cert_path, total,
		    (unsigned)(TLS_MAX_HS_MSG < TLS_FLIGHT_MAX - FLIGHT_RESERVE ?
			       TLS_MAX_HS_MSG : TLS_FLIGHT_MAX - FLIGHT_RESERVE));
}

static void load_key(struct pair *pr)
{
	struct pem_file *pf = xmalloc(sizeof *pf);
	br_skey_decoder_context *sk = xmalloc(sizeof *sk);
	const struct pem_obj *key = NULL;
	unsigned i;
	int err;

	pem_read(pf, pr->key_path);
	for (i = 0; i < pf->n; i++) {
		const char *n = pf->obj[i].name;

		if (strcmp(n, "EC PARAMETERS") == 0)
			continue;       /* openssl ecparam -genkey writes them first */
		if (strcmp(n, "ENCRYPTED PRIVATE KEY") == 0)
			die("%s: the key is encrypted; decrypt it first (openssl pkey -in KEY "
			    "-out PLAIN)", pr->key_path);
		if (is_cert_name(n))
			die("%s: holds a certificate, not a private key (are TLS_CERT and TLS_KEY "
			    "swapped?)", pr->key_path);
		if (!is_key_name(n))
			die("%s: unexpected PEM object '%s' in a private key file (EC P-256 in SEC1 "
			    "or PKCS#8, or RSA in PKCS#1 or PKCS#8 expected)", pr->key_path, n);
		if (key != NULL)
			die("%s: more than one private key", pr->key_path);
		key = &pf->obj[i];
	}
	if (key == NULL)
		die("%s: no private key in the file", pr->key_path);

	br_skey_decoder_init(sk);
	br_skey_decoder_push(sk, key->der.p, key->der.len);
	err = br_skey_decoder_last_error(sk);
	if (err == BR_ERR_X509_UNSUPPORTED)
		die("%s: unsupported key type (Kiln serves EC P-256 and RSA keys; Ed25519, Ed448, "
		    "DSA and others are not supported)", pr->key_path);
	if (err != 0)
		die("%s: not a private key BearSSL can read (%s, error %d)", pr->key_path,
		    x509_err(err), err);
	pr->key_type = br_skey_decoder_key_type(sk);
	if (pr->key_type == BR_KEYTYPE_EC) {
		const br_ec_private_key *ec = br_skey_decoder_get_ec(sk);

		if (ec->curve != BR_EC_secp256r1)
			die("%s: unsupported curve %s (Kiln's EC certificates are P-256)",
			    pr->key_path, curve_name(ec->curve));
		if (ec->xlen == 0 || ec->xlen > 32)
			die("%s: bad P-256 private key length %zu", pr->key_path, ec->xlen);
		bytes_set(&pr->ec_x, ec->x, ec->xlen);
	} else if (pr->key_type == BR_KEYTYPE_RSA) {
		const br_rsa_private_key *rk = br_skey_decoder_get_rsa(sk);

		if (rk->n_bitlen < 2048 || rk->n_bitlen > 4096)
			die("%s: RSA key of %u bits (2048 to 4096 supported)", pr->key_path,
			    (unsigned)rk->n_bitlen);
		pr->rsa_bits = rk->n_bitlen;
		bytes_set(&pr->rsa_p, rk->p, rk->plen);
		bytes_set(&pr->rsa_q, rk->q, rk->qlen);
		bytes_set(&pr->rsa_dp, rk->dp, rk->dplen);
		bytes_set(&pr->rsa_dq, rk->dq, rk->dqlen);
		bytes_set(&pr->rsa_iq, rk->iq, rk->iqlen);
	} else {
		die("%s: unsupported key type %d", pr->key_path, pr->key_type);
	}
	free(sk);
	free(pf);
}

static br_rsa_private_key rsa_sk(const struct pair *pr)
{
	br_rsa_private_key k = {
		.n_bitlen = pr->rsa_bits,
		.p = pr->rsa_p.p, .plen = pr->rsa_p.len,
		.q = pr->rsa_q.p, .qlen = pr->rsa_q.len,
		.dp = pr->rsa_dp.p, .dplen = pr->rsa_dp.len,
		.dq = pr->rsa_dq.p, .dqlen = pr->rsa_dq.len,
		.iq = pr->rsa_iq.p, .iqlen = pr->rsa_iq.len,
	};
	return k;
}

/* The private key is the leaf's: its public half equals the
 * certificate's, and a signature made with it verifies. */
static void check_match(struct pair *pr, const br_x509_pkey *pk)
{
	static const unsigned char msg_hash[32] = "kiln certbake self-test hash...";
	const char *ktype = pr->key_type == BR_KEYTYPE_EC ? "EC" : "RSA";
	const char *ctype = pk->key_type == BR_KEYTYPE_EC ? "EC" : "RSA";

	if (pk->key_type != pr->key_type)
		die("%s and %s do not match: the certificate has an %s key, the private key is %s",
		    pr->cert_path, pr->key_path, ctype, ktype);
	if (pr->key_type == BR_KEYTYPE_EC) {
		const br_ec_impl *impl = br_ec_get_default();
		br_ec_private_key sk = {
			.curve = BR_EC_secp256r1, .x = pr->ec_x.p, .xlen = pr->ec_x.len,
		};
		unsigned char q[BR_EC_KBUF_PUB_MAX_SIZE], sig[128];
		size_t qlen, siglen;

		if (pk->key.ec.curve != BR_EC_secp256r1)
			die("%s: the certificate's key is on %s, not P-256", pr->cert_path,
			    curve_name(pk->key.ec.curve));
		qlen = br_ec_compute_pub(impl, NULL, q, &sk);
		if (qlen == 0)
			die("%s: not a valid P-256 private key", pr->key_path);
		if (qlen != pk->key.ec.qlen || memcmp(q, pk->key.ec.q, qlen) != 0)
			die("%s and %s do not match: the certificate's public key is not the private "
			    "key's", pr->cert_path, pr->key_path);
		siglen = br_ecdsa_i31_sign_raw(impl, &br_sha256_vtable, msg_hash, &sk, sig);
		if (siglen == 0 || !br_ecdsa_i31_vrfy_raw(impl, msg_hash, sizeof msg_hash,
							  &pk->key.ec, sig, siglen))
			die("%s: a signature made with this key does not verify with %s",
			    pr->key_path, pr->cert_path);
	} else {
		br_rsa_private_key sk = rsa_sk(pr);
		unsigned char n[512], sig[512], out[32];
		size_t nlen;

		nlen = br_rsa_i31_compute_modulus(NULL, &sk);
		if (nlen == 0 || nlen > sizeof n || br_rsa_i31_compute_modulus(n, &sk) != nlen)
			die("%s: not a valid RSA private key", pr->key_path);
		if (!same_int(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen))
			die("%s and %s do not match: the certificate's public key is not the private "
			    "key's", pr->cert_path, pr->key_path);
		/* The public exponent is the certificate's (BearSSL 0.6's
		 * br_rsa_*_compute_pubexp() fails on most keys): the signature
		 * below, made with the CRT components and verified with it,
		 * shows the two agree. */
		if (!br_rsa_i31_pkcs1_sign(BR_HASH_OID_SHA256, msg_hash, sizeof msg_hash, &sk, sig) ||
		    !br_rsa_i31_pkcs1_vrfy(sig, nlen, BR_HASH_OID_SHA256, sizeof out,
					   &pk->key.rsa, out) ||
		    memcmp(out, msg_hash, sizeof out) != 0)
			die("%s: a signature made with this key does not verify with %s",
			    pr->key_path, pr->cert_path);
		{
			const unsigned char *np = n, *ep = pk->key.rsa.e;
			size_t nl = nlen, el = pk->key.rsa.elen;

			strip_zeros(&np, &nl);
			strip_zeros(&ep, &el);
			if (el > 4)
				die("%s: RSA public exponent over 32 bits", pr->cert_path);
			bytes_set(&pr->rsa_n, np, nl);
			bytes_set(&pr->rsa_e, ep, el);
		}
	}
}

/* ---- names -------------------------------------------------------------------- */

/* A host name as a client sends it in SNI: letters, digits, '-' and '.',
 * lower-cased; "*." only as the whole first label. */
static char *check_name(const char *name, size_t len)
{
	char *out;
	size_t i, label = 0;

	if (len == 0 || len > MAX_NAME_LEN)
		die("--names: empty or over-long name");
	out = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch == '*' && i == 0 && len > 2 && name[1] == '.') {
			out[i] = '*';
			label = 1;
			continue;
		}
		if (ch == '.') {
			if (label == 0 || i + 1 == len)
				die("--names: '%.*s': empty label", (int)len, name);
			label = 0;
		} else if (isalnum(ch) || ch == '-') {
			if (++label > 63)
				die("--names: '%.*s': label over 63 bytes", (int)len, name);
		} else {
			die("--names: '%.*s' is not a DNS name (letters, digits, '-', '.', and a "
			    "leading '*.' only)", (int)len, name);
		}
		out[i] = (char)tolower(ch);
	}
	out[len] = 0;
	return out;
}

static void parse_names(struct pair *pr, const char *list)
{
	const char *p = list;
	unsigned cap = 8;

	pr->names = xmalloc(cap * sizeof *pr->names);
	pr->nnames = 0;
	while (*p) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		if (len > 0) {
			if (pr->nnames == 256)
				die("--names: more than 256 names");
			if (pr->nnames == cap) {
				cap *= 2;
				pr->names = realloc(pr->names, cap * sizeof *pr->names);
				if (pr->names == NULL)
					die("out of memory");
			}
			pr->names[pr->nnames++] = check_name(p, len);
		}
		p += len;
		if (*p == ',')
			p++;
	}
}

/* ---- output ---------------------------------------------------------------------- */

static const char *base(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

static void emit_array(FILE *f, const char *qual, const char *name, const struct bytes *b)
{
	size_t i;

	fprintf(f, "static %sunsigned char %s[%zu] = {", qual, name, b->len);
	for (i = 0; i < b->len; i++)
		fprintf(f, "%s0x%02x,", i % 12 == 0 ? "\n\t" : " ", b->p[i]);
	fprintf(f, "\n};\n");
}

static void emit(FILE *f, struct pair *pr, unsigned npairs)
{
	unsigned i, j;
	char nm[64];

	fprintf(f, "/*\n * Generated by tools/certbake (mk/tls.mk). Do not edit.\n *\n"
		   " * PRIVATE KEYS: this file holds the private key of every certificate\n"
		   " * below, in the clear; the image that links it carries them. The\n"
		   " * development set is public; a deployment bakes its own with\n"
		   " * make TLS_CERT=... TLS_KEY=... (docs/tls.md).\n *\n");
	for (i = 0; i < npairs; i++)
		fprintf(f, " *   %u: %s with %s (%s)\n", i, base(pr[i].cert_path),
			base(pr[i].key_path), pr[i].key_type == BR_KEYTYPE_EC ? "ECDSA P-256" : "RSA");
	fprintf(f, " */\n#include <kiln/tls.h>\n\n");
	for (i = 0; i < npairs; i++) {
		struct pair *p = &pr[i];

		for (j = 0; j < p->chain_len; j++) {
			snprintf(nm, sizeof nm, "cert%u_der%u", i, j);
			emit_array(f, "const ", nm, &p->chain[j]);
		}
		fprintf(f, "static const struct tls_der cert%u_chain[%u] = {\n", i, p->chain_len);
		for (j = 0; j < p->chain_len; j++)
			fprintf(f, "\t{ cert%u_der%u, sizeof cert%u_der%u },\n", i, j, i, j);
		fprintf(f, "};\n");
		if (p->nnames > 0) {
			fprintf(f, "static const char *const cert%u_names[%u] = {\n", i, p->nnames);
			for (j = 0; j < p->nnames; j++)
				fprintf(f, "\t\"%s\",\n", p->names[j]);    /* checked: [a-z0-9.*-] */
			fprintf(f, "};\n");
		}
		if (p->key_type == BR_KEYTYPE_EC) {
			snprintf(nm, sizeof nm, "cert%u_ec_x", i);
			emit_array(f, "const ", nm, &p->ec_x);
		} else {
			static const char *const part[] = { "p", "q", "dp", "dq", "iq", "n", "e" };
			const struct bytes *b[] = { &p->rsa_p, &p->rsa_q, &p->rsa_dp, &p->rsa_dq,
						    &p->rsa_iq, &p->rsa_n, &p->rsa_e };

			for (j = 0; j < 7; j++) {
				snprintf(nm, sizeof nm, "cert%u_rsa_%s", i, part[j]);
				emit_array(f, "const ", nm, b[j]);
			}
		}
		fprintf(f, "\n");
	}
	/* BearSSL's key structs hold non-const pointers; the engine only reads
	 * them, so the arrays stay in read-only data and are cast. */
	fprintf(f, "#define KEYBYTES(a) ((unsigned char *)(a)), sizeof (a)\n\n");
	fprintf(f, "const struct tls_cert kiln_tls_certs[%u] = {\n", npairs);
	for (i = 0; i < npairs; i++) {
		struct pair *p = &pr[i];

		fprintf(f, "\t{\n");
		if (p->nnames > 0)
			fprintf(f, "\t\t.names = cert%u_names,\n\t\t.nnames = %u,\n", i, p->nnames);
		else
			fprintf(f, "\t\t.names = 0,\n\t\t.nnames = 0,\n");
		fprintf(f, "\t\t.chain = cert%u_chain,\n\t\t.chain_len = %u,\n", i, p->chain_len);
		if (p->key_type == BR_KEYTYPE_EC) {
			fprintf(f, "\t\t.key_type = TLS_KEY_EC_P256,\n");
			fprintf(f, "\t\t.ec = { BR_EC_secp256r1, KEYBYTES(cert%u_ec_x) },\n", i);
		} else {
			fprintf(f, "\t\t.key_type = TLS_KEY_RSA,\n");
			fprintf(f, "\t\t.rsa = { %u, KEYBYTES(cert%u_rsa_p), KEYBYTES(cert%u_rsa_q),\n"
				   "\t\t\tKEYBYTES(cert%u_rsa_dp), KEYBYTES(cert%u_rsa_dq),\n"
				   "\t\t\tKEYBYTES(cert%u_rsa_iq) },\n",
				(unsigned)p->rsa_bits, i, i, i, i, i);
			fprintf(f, "\t\t.rsa_pub = { KEYBYTES(cert%u_rsa_n), KEYBYTES(cert%u_rsa_e) },\n",
				i, i);
		}
		fprintf(f, "\t},\n");
	}
	fprintf(f, "};\n\nconst unsigned kiln_tls_ncerts = %u;\n", npairs);
}

static void usage(void) __attribute__((noreturn));

static void usage(void)
{
	fprintf(stderr, "usage: %s -o OUT.c [--names=N1,N2,...] CHAIN.pem KEY.pem "
			"[[--names=...] CHAIN.pem KEY.pem ...]\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	struct pair *pr = xmalloc(TLS_MAX_CERTS * sizeof *pr);
	const char *out = NULL, *names = NULL, *pending_cert = NULL;
	unsigned npairs = 0;
	char *tmp;
	FILE *f;
	int i;

	memset(pr, 0, TLS_MAX_CERTS * sizeof *pr);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-o") == 0) {
			if (++i == argc)
				usage();
			out = argv[i];
		} else if (strncmp(a, "--names=", 8) == 0) {
			if (pending_cert != NULL)
				die("--names must come before a CHAIN.pem KEY.pem pair, not inside it");
			names = a + 8;
		} else if (a[0] == '-' && a[1] != 0) {
			usage();
		} else if (pending_cert == NULL) {
			pending_cert = a;
		} else {
			struct pair *p;

			if (npairs == TLS_MAX_CERTS)
				die("too many certificates: the engine takes at most %u", TLS_MAX_CERTS);
			p = &pr[npairs++];
			p->cert_path = pending_cert;
			p->key_path = a;
			parse_names(p, names ? names : "");
			names = NULL;
			pending_cert = NULL;
		}
	}
	if (out == NULL)
		usage();
	if (pending_cert != NULL)
		die("%s has no private key after it (arguments are CHAIN.pem KEY.pem pairs)",
		    pending_cert);
	if (npairs == 0)
		die("no certificate given");

	for (unsigned k = 0; k < npairs; k++) {
		br_x509_pkey pk;
		unsigned char kbuf[1024];

		load_chain(&pr[k], &pk, kbuf, sizeof kbuf);
		load_key(&pr[k]);
		check_match(&pr[k], &pk);
		if (pr[k].nnames == 0)
			fprintf(stderr, "%s: warning: %s: no DNS names; it is served only as the "
				"default certificate\n", prog, pr[k].cert_path);
	}

	tmp = xmalloc(strlen(out) + 8);
	sprintf(tmp, "%s.tmp", out);
	f = fopen(tmp, "w");
	if (f == NULL)
		die("%s: %s", tmp, strerror(errno));
	emit(f, pr, npairs);
	if (fflush(f) != 0 || ferror(f) || fclose(f) != 0) {
		remove(tmp);
		die("%s: write error", tmp);
	}
	if (rename(tmp, out) != 0) {
		remove(tmp);
		die("%s: %s", out, strerror(errno));
	}
	return 0;
}
