/*
 * http_parse.c - the HTTP/1.1 request parser (RFC 9112), incremental over
 * byte views that may split a request anywhere.
 *
 * Interface: http_parse_init, http_parse_feed, http_method_parse and
 * http_method_name (kiln/http.h); http_ctype and http_list_next
 * (http_priv.h). The server (http_server.c) is its only caller besides
 * tests and the fuzz target.
 *
 * Rules:
 *  - A request's head is parsed only once it is whole. When it is whole
 *    inside one view (the common case) the request view points into that
 *    view: no copy. When it spans views, its bytes are gathered in the
 *    connection buffer (at most max_head of them) and parsed there.
 *  - A body that lies whole in the current view is seen in place. A body
 *    that spans views, and a chunked body (de-chunked), is gathered in the
 *    buffer behind the head, which is moved there first (reloc), so one
 *    view never outlives its feed call: when feed returns HTTP_PARSE_MORE,
 *    nothing points into the caller's bytes. A body the buffer cannot
 *    hold is gathered in memory from the server's body store, sized by
 *    Content-Length (a chunked one grows by doubling), and given back
 *    when the next request starts or the connection ends.
 *  - Grammar (RFC 9112 2-7): method SP request-target SP HTTP-version,
 *    single spaces; field lines "token ':' OWS value OWS"; lines end in
 *    CRLF or LF alone (RFC 9112 2.2 allows it); a CR not followed by LF
 *    is rejected; empty lines before a request are skipped (RFC 9112 2.2).
 *  - Rejected with 400: obs-fold and whitespace before the first field
 *    (RFC 9112 5.2, 2.2), whitespace between name and colon (5.1), bytes
 *    outside the field/target alphabets (RFC 9110 5.5: NUL, CR, LF, CTLs),
 *    a missing Host in HTTP/1.1 or more than one Host, an invalid Host
 *    (RFC 9112 3.2), Content-Length repeated or not all digits, both
 *    Content-Length and Transfer-Encoding, Transfer-Encoding in HTTP/1.0
 *    or naming chunked more than once (RFC 9112 6.1, 6.3: the smuggling
 *    cases), malformed chunk framing (chunk-size lines, chunk data and
 *    trailer lines end in CRLF, RFC 9112 7.1: a lone LF is accepted only
 *    in the head, 2.2; whitespace after a chunk size must lead to a
 *    ";" extension, 7.1.1). 501: a transfer coding other than
 *    chunked. 505: a major version other than 1. 414/431/413: the limits.
 *    417: an Expect other than 100-continue (RFC 9110 10.1.1).
 *  - Trailer fields (RFC 9112 7.1.2) are checked like header lines and
 *    dropped (RFC 9110 6.5.1 lets a recipient discard them).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/http.h>

#include "http_priv.h"

/* Chunk-size line with extensions, which are skipped: a bound so a peer
 * cannot stream an endless one. */
#define HTTP_CHUNK_LINE_MAX 1024

enum {
	P_HEAD, P_BODY, P_CSIZE, P_CBWS, P_CEXT, P_CSIZE_LF, P_CDATA, P_CDATA_CR, P_CDATA_LF,
	P_TSTART, P_TNAME, P_TVALUE, P_TLINE_LF, P_TEND_LF, P_DONE, P_ERROR,
};

const uint8_t http_ctype[256] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x0a, 0x17, 0x06, 0x03, 0x17, 0x17, 0x17, 0x17, 0x16, 0x16, 0x17, 0x17, 0x16, 0x17, 0x17, 0x06,
	0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x16, 0x16, 0x06, 0x16, 0x06, 0x06,
	0x06, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
	0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x16, 0x06, 0x16, 0x07, 0x17,
	0x07, 0x37, 0x37, 0x37, 0x37, 0x37, 0x37, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17,
	0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x17, 0x06, 0x07, 0x06, 0x17, 0x00,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
	0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
};

static const char *const http_method_names[HTTP_M_COUNT] = {
	[HTTP_M_OTHER] = "OTHER", [HTTP_M_GET] = "GET", [HTTP_M_HEAD] = "HEAD",
	[HTTP_M_POST] = "POST", [HTTP_M_PUT] = "PUT", [HTTP_M_DELETE] = "DELETE",
	[HTTP_M_OPTIONS] = "OPTIONS", [HTTP_M_PATCH] = "PATCH",
};

const char *http_method_name(enum http_method m)
{
	return (unsigned)m < HTTP_M_COUNT ? http_method_names[m] : "OTHER";
}

/* Methods are case-sensitive (RFC 9110 9.1). */
enum http_method http_method_parse(const char *s, size_t len)
{
	for (unsigned m = HTTP_M_GET; m < HTTP_M_COUNT; m++)
		if (strlen(http_method_names[m]) == len && memcmp(s, http_method_names[m], len) == 0)
			return (enum http_method)m;
	return HTTP_M_OTHER;
}

bool http_list_next(const char **src, const char *end, const char **el, size_t *el_len)
{
	const char *s = *src;
	for (;;) {
		while (s < end && (*s == ',' || *s == ' ' || *s == '\t'))
			s++;
		if (s == end) {
			*src = s;
			return false;
		}
		const char *start = s;
		while (s < end && *s != ',')
			s++;
		const char *e = s;
		while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*src = s;
		*el = start;
		*el_len = (size_t)(e - start);
		return true;
	}
}

static void big_free(struct http_parser *p)
{
	if (p->big) {
		p->store->free(p->store->ctx, p->big, p->big_cap);
		p->big = NULL;
		p->big_cap = 0;
	}
}

static void parse_reset(struct http_parser *p)
{
	big_free(p);
	p->state = P_HEAD;
	p->hlen = 0;
	p->scan = 0;
	p->head = NULL;
	p->head_len = 0;
	p->remaining = 0;
	p->line_len = 0;
	p->trailer_bytes = 0;
	p->cr = 0;
	p->started = false;
	p->body_in_buf = false;
	p->body_len = 0;
	p->status = 0;
	struct http_conn *conn = p->req.conn;
	memset(&p->req, 0, sizeof p->req);
	p->req.conn = conn;
	p->req.headers = p->hdr;
	p->req.h_if_none_match = p->req.h_range = p->req.h_if_range = -1;
	p->req.h_accept_encoding = -1;
}

void http_parse_init(struct http_parser *p, const struct http_limits *lim, uint8_t *buf,
		     const struct http_body_store *store)
{
	p->lim = lim;
	p->buf = buf;
	p->store = store && store->alloc ? store : NULL;
	p->big = NULL;
	p->big_cap = 0;
	p->req.conn = NULL;
	parse_reset(p);
}

void http_parse_release(struct http_parser *p)
{
	big_free(p);
}

/* Takes a line end: CRLF or a lone LF. A CR not before LF is not one. */
static bool take_eol(const uint8_t **src, const uint8_t *end)
{
	if (http_take(src, end, '\r'))
		return http_take(src, end, '\n');
	return http_take(src, end, '\n');
}

/*
 * Finds the end of a head in s[0..n): the offset just past its empty
 * line, or 0 when not there yet, with *scan where the search should
 * resume once more bytes have arrived.
 */
static size_t head_end(const uint8_t *s, size_t n, size_t from, uint32_t *scan)
{
	size_t i = from;
	while (i < n) {
		const uint8_t *nl = memchr(s + i, '\n', n - i);
		if (!nl)
			break;
		i = (size_t)(nl - s);
		if (i + 1 >= n) {
			*scan = (uint32_t)i;
			return 0;
		}
		if (s[i + 1] == '\n')
			return i + 2;
		if (s[i + 1] == '\r') {
			if (i + 2 >= n) {
				*scan = (uint32_t)i;
				return 0;
			}
			if (s[i + 2] == '\n')
				return i + 3;
		}
		i++;
	}
	*scan = (uint32_t)n;
	return 0;
}

/* An incomplete head of n bytes: 414 when its request line is already
 * too long (past max_request_line, or filling the whole head without
 * ending: the line alone is what overflows), 431 when the fields make
 * the head too big, else 0 (wait for more). */
static int head_too_big(const struct http_limits *lim, const uint8_t *s, size_t n)
{
	size_t look = n < (size_t)lim->max_request_line + 1 ? n : (size_t)lim->max_request_line + 1;
	if (n > lim->max_request_line && !memchr(s, '\n', look))
		return 414;
	if (n >= lim->max_head)
		return memchr(s, '\n', n) ? 431 : 414;
	return 0;
}

struct head_flags {
	bool has_host, te_seen, conn_close, conn_keep;
	unsigned te_chunked, te_other;
};

static bool all_digits(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			v = UINT64_MAX;     /* saturate: far above any limit */
		else
			v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* The fields the parser itself acts on; others are only stored. */
static int header_special(struct http_parser *p, struct head_flags *f, int idx)
{
	struct http_req *r = &p->req;
	const struct http_header *h = &p->hdr[idx];
	const char *v = h->value, *ve = h->value + h->value_len;
	const char *el;
	size_t el_len;

	switch (h->name_len) {
	case 4:
		if (!HTTP_IEQ(h->name, 4, "host"))
			break;
		if (f->has_host)
			return 400;
		for (size_t i = 0; i < h->value_len; i++)
			if (!http_is((uint8_t)v[i], HTTP_C_HOST))
				return 400;
		f->has_host = true;
		r->host = v;
		r->host_len = h->value_len;
		break;
	case 5:
		if (HTTP_IEQ(h->name, 5, "range") && r->h_range < 0)
			r->h_range = (int16_t)idx;
		break;
	case 6:
		if (!HTTP_IEQ(h->name, 6, "expect") || r->version_minor == 0)
			break;          /* HTTP/1.0 expectations are ignored */
		if (!HTTP_IEQ(v, h->value_len, "100-continue"))
			return 417;
		r->expect_continue = true;
		break;
	case 8:
		if (HTTP_IEQ(h->name, 8, "if-range") && r->h_if_range < 0)
			r->h_if_range = (int16_t)idx;
		break;
	case 10:
		if (!HTTP_IEQ(h->name, 10, "connection"))
			break;
		while (http_list_next(&v, ve, &el, &el_len)) {
			if (HTTP_IEQ(el, el_len, "close"))
				f->conn_close = true;
			else if (HTTP_IEQ(el, el_len, "keep-alive"))
				f->conn_keep = true;
		}
		break;
	case 13:
		if (HTTP_IEQ(h->name, 13, "if-none-match") && r->h_if_none_match < 0)
			r->h_if_none_match = (int16_t)idx;
		break;
	case 14:
		if (!HTTP_IEQ(h->name, 14, "content-length"))
			break;
		/* One field, one number: a list, a repeat or a sign is how
		 * requests are smuggled (RFC 9112 6.3 item 5). */
		if (r->has_content_length || !all_digits(v, h->value_len, &r->content_length))
			return 400;
		r->has_content_length = true;
		break;
	case 15:
		if (HTTP_IEQ(h->name, 15, "accept-encoding") && r->h_accept_encoding < 0)
			r->h_accept_encoding = (int16_t)idx;
		break;
	case 17:
		if (!HTTP_IEQ(h->name, 17, "transfer-encoding"))
			break;
		f->te_seen = true;
		while (http_list_next(&v, ve, &el, &el_len)) {
			if (HTTP_IEQ(el, el_len, "chunked"))
				f->te_chunked++;
			else
				f->te_other++;
		}
		break;
	}
	return 0;
}

/* Splits the request-target into path and query (RFC 9112 3.2). */
static int target_split(struct http_req *r)
{
	const char *t = r->target, *te = r->target + r->target_len;
	const char *path = t;

	if (t[0] == '/') {
		path = t;
	} else if (r->target_len == 1 && t[0] == '*') {
		if (r->method != HTTP_M_OPTIONS)
			return 400;     /* asterisk-form is for OPTIONS only */
	} else if ((r->target_len > 7 && HTTP_IEQ(t, 7, "http://")) ||
		   (r->target_len > 8 && HTTP_IEQ(t, 8, "https://"))) {
		/* absolute-form: the path follows the authority, and the
		 * authority replaces Host (RFC 9112 3.2.2) */
		const char *a = (const char *)memchr(t, ':', r->target_len) + 3;
		const char *s = a;
		while (s < te && *s != '/' && *s != '?') {
			if (!http_is((uint8_t)*s, HTTP_C_HOST))
				return 400;     /* userinfo, a bad byte */
			s++;
		}
		if (s == a)
			return 400;     /* an http URI needs a host (RFC 9110 4.2.1) */
		r->host = a;
		r->host_len = (uint32_t)(s - a);
		if (s == te || *s == '?') {
			r->path = "/";
			r->path_len = 1;
			if (s < te) {
				r->query = s + 1;
				r->query_len = (uint32_t)(te - s - 1);
			}
			return 0;
		}
		path = s;
	} else if (r->method != HTTP_M_OTHER) {
		return 400;
	}
	const char *q = memchr(path, '?', (size_t)(te - path));
	r->path = path;
	r->path_len = (uint32_t)((q ? q : te) - path);
	if (q) {
		r->query = q + 1;
		r->query_len = (uint32_t)(te - q - 1);
	}
	return 0;
}

/* Parses a whole head h[0..n) into p->req. 0 on success, else a status. */
static int head_parse(struct http_parser *p, const uint8_t *h, size_t n)
{
	const struct http_limits *lim = p->lim;
	struct http_req *r = &p->req;
	const uint8_t *src = h, *end = h + n;
	struct head_flags f = { 0 };
	uint32_t nh = 0;

	p->head = h;
	p->head_len = (uint32_t)n;
	p->hlen = 0;

	const uint8_t *nl = memchr(h, '\n', n);
	if ((size_t)(nl - h) > lim->max_request_line)
		return 414;
	if (n > lim->max_head)
		return 431;

	/* request-line = method SP request-target SP HTTP-version */
	r->method_str = (const char *)src;
	r->method_len = (uint32_t)http_span(&src, end, HTTP_C_TCHAR);
	if (!r->method_len || !http_take(&src, end, ' '))
		return 400;
	r->target = (const char *)src;
	r->target_len = (uint32_t)http_span(&src, end, HTTP_C_TARGET);
	if (!r->target_len || !http_take(&src, end, ' '))
		return 400;
	if (end - src < 8)
		return 400;
	if (memcmp(src, "HTTP/1.1", 8) == 0) {
		r->version_minor = 1;
	} else if (memcmp(src, "HTTP/1.0", 8) == 0) {
		r->version_minor = 0;
	} else if (memcmp(src, "HTTP/", 5) == 0 && src[5] >= '0' && src[5] <= '9' &&
		   src[6] == '.' && src[7] >= '0' && src[7] <= '9') {
		if (src[5] != '1')
			return 505;
		r->version_minor = 1;   /* 1.x, x > 1: answer as 1.1 (RFC 9110 2.5) */
	} else {
		return 400;
	}
	src += 8;
	if (!take_eol(&src, end))
		return 400;
	r->method = http_method_parse(r->method_str, r->method_len);

	/* field-line = field-name ":" OWS field-value OWS */
	for (;;) {
		if (src >= end)
			return 400;
		if (*src == '\r' || *src == '\n') {
			if (!take_eol(&src, end))
				return 400;
			break;
		}
		const uint8_t *name = src;
		size_t name_len = http_span(&src, end, HTTP_C_TCHAR);
		if (!name_len || !http_take(&src, end, ':'))
			return 400;     /* obs-fold, space before colon, bad byte */
		http_span(&src, end, HTTP_C_WS);
		const uint8_t *val = src;
		http_span(&src, end, HTTP_C_FIELD);
		const uint8_t *vend = src;
		if (!take_eol(&src, end))
			return 400;     /* NUL, CTL, bare CR */
		while (vend > val && http_is(vend[-1], HTTP_C_WS))
			vend--;
		if (nh >= lim->max_headers)
			return 431;
		struct http_header *hd = &p->hdr[nh];
		hd->name = (const char *)name;
		hd->name_len = (uint32_t)name_len;
		hd->value = (const char *)val;
		hd->value_len = (uint32_t)(vend - val);
		int st = header_special(p, &f, (int)nh);
		if (st)
			return st;
		nh++;
	}
	r->headers = p->hdr;
	r->nheaders = nh;

	if (r->version_minor == 1 && !f.has_host)
		return 400;
	if (f.te_seen) {
		/* RFC 9112 6.1: TE with CL, or in HTTP/1.0, is faulty framing. */
		if (r->has_content_length || r->version_minor == 0)
			return 400;
		if (f.te_other)
			return 501;
		if (f.te_chunked != 1)
			return 400;
		r->chunked = true;
	}
	if (r->has_content_length && r->content_length > lim->max_body)
		return 413;
	if (r->version_minor == 1)
		r->keep_alive = !f.conn_close;
	else
		r->keep_alive = f.conn_keep && !f.conn_close;
	if (!r->chunked && r->content_length == 0)
		r->expect_continue = false;
	return target_split(r);
}

/* Moves the head into the buffer and repoints the view at it. */
static void reloc(struct http_parser *p)
{
	const uint8_t *old = p->head;
	if (old == p->buf || !old)
		return;
	memmove(p->buf, old, p->head_len);
	const char *lo = (const char *)old, *hi = lo + p->head_len;
	char *nb = (char *)p->buf;
#define RELOC(ptr)                                                         \
	do {                                                               \
		if ((ptr) >= lo && (ptr) < hi)                             \
			(ptr) = nb + ((ptr) - lo);                         \
	} while (0)
	struct http_req *r = &p->req;
	RELOC(r->method_str);
	RELOC(r->target);
	RELOC(r->path);
	if (r->query)
		RELOC(r->query);
	if (r->host)
		RELOC(r->host);
	for (uint32_t i = 0; i < r->nheaders; i++) {
		RELOC(p->hdr[i].name);
		RELOC(p->hdr[i].value);
	}
#undef RELOC
	p->head = p->buf;
}

/* Makes room for a body of need bytes outside the buffer: the declared
 * length, or for a chunked body twice what it has grown to. 0 or a
 * status: 413 without a store, 503 when the store has no memory. */
static int big_grow(struct http_parser *p, size_t need)
{
	if (!p->store)
		return 413;
	size_t cap = need;
	if (p->req.chunked) {
		cap = need < 8192 ? 16384 : 2 * need;
		if (cap > p->lim->max_body)
			cap = p->lim->max_body;
	} else if (p->req.content_length > cap) {
		cap = (size_t)p->req.content_length;
	}
	uint8_t *nb = p->store->alloc(p->store->ctx, cap);
	if (!nb)
		return 503;
	memcpy(nb, p->big ? p->big : p->buf + p->head_len, p->body_len);
	big_free(p);
	p->big = nb;
	p->big_cap = cap;
	return 0;
}

/* Gathers n body bytes behind the head in the buffer, or in memory from
 * the store once the buffer cannot hold them. */
static int body_append(struct http_parser *p, const uint8_t *s, size_t n)
{
	if (!p->body_in_buf) {
		reloc(p);
		p->body_in_buf = true;
	}
	size_t need = p->body_len + n;
	if (need > p->lim->max_body)
		return 413;
	uint8_t *dst;
	if (!p->big && (size_t)p->head_len + need <= HTTP_CONN_BUF) {
		dst = p->buf + p->head_len;
	} else {
		if (need > p->big_cap) {
			int st = big_grow(p, need);
			if (st)
				return st;
		}
		dst = p->big;
	}
	memcpy(dst + p->body_len, s, n);
	p->body_len = need;
	return 0;
}

static void finish(struct http_parser *p)
{
	struct http_req *r = &p->req;
	if (p->body_in_buf) {
		r->body = !p->body_len ? NULL : p->big ? p->big : p->buf + p->head_len;
		r->body_len = p->body_len;
	}
	p->state = P_DONE;
}

/* Skips the empty lines a client may send before a request. */
static const uint8_t *skip_empty_lines(const uint8_t *s, const uint8_t *end)
{
	for (;;) {
		if (s < end && s[0] == '\n')
			s++;
		else if (end - s >= 2 && s[0] == '\r' && s[1] == '\n')
			s += 2;
		else
			return s;
	}
}

/* Head phase: 1 when a head was parsed, 0 when more is needed, or an
 * error status. *srcp advances over what was used. */
static int head_feed(struct http_parser *p, const uint8_t **srcp, const uint8_t *end)
{
	const struct http_limits *lim = p->lim;
	const uint8_t *src = *srcp;
	int st;

	if (p->hlen == 1 && p->buf[0] == '\r' && src < end && *src == '\n') {
		p->hlen = 0;            /* a CRLF before the request, split */
		src++;
	}
	if (p->hlen == 0) {
		const uint8_t *s = skip_empty_lines(src, end);
		if (s != src)
			p->started = true;
		src = s;
		if (src == end) {
			*srcp = src;
			return 0;
		}
		p->started = true;
		size_t avail = (size_t)(end - src);
		size_t e = head_end(src, avail, 0, &p->scan);
		if (e) {
			*srcp = src + e;
			st = head_parse(p, src, e);
			return st ? st : 1;
		}
		st = head_too_big(lim, src, avail);
		if (st)
			return st;
		memcpy(p->buf, src, avail);
		p->hlen = (uint32_t)avail;
		*srcp = end;
		return 0;
	}

	/* The head spans views: gather it in the buffer. */
	size_t avail = (size_t)(end - src);
	size_t room = lim->max_head - p->hlen;
	size_t n = avail < room ? avail : room;
	size_t old = p->hlen;
	memcpy(p->buf + old, src, n);
	size_t e = head_end(p->buf, old + n, p->scan, &p->scan);
	if (e) {
		*srcp = src + (e - old);
		st = head_parse(p, p->buf, e);
		return st ? st : 1;
	}
	st = head_too_big(lim, p->buf, old + n);
	if (st)
		return st;
	p->hlen = (uint32_t)(old + n);
	*srcp = src + n;
	return 0;
}

/* After the head: how the body is framed (RFC 9112 6.3). */
static void body_begin(struct http_parser *p)
{
	struct http_req *r = &p->req;
	if (r->chunked) {
		p->state = P_CSIZE;
		p->remaining = 0;
		p->line_len = 0;
	} else if (r->content_length) {
		p->state = P_BODY;
		p->remaining = r->content_length;
	} else {
		p->state = P_DONE;
	}
}

static int hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = http_lower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Chunked framing (RFC 9112 7.1), any split: returns 0 or a status. */
static int chunked_feed(struct http_parser *p, const uint8_t **srcp, const uint8_t *end)
{
	const uint8_t *src = *srcp;
	int st = 0;

	while (src < end && p->state != P_DONE) {
		uint8_t c = *src;
		switch (p->state) {
		case P_CSIZE: {
			int v = hexval(c);
			if (v >= 0) {
				if (++p->line_len > 16)
					return 413;     /* beyond any body limit */
				p->remaining = p->remaining << 4 | (unsigned)v;
				src++;
				break;
			}
			if (p->line_len == 0)
				return 400;
			/* RFC 9112 7.1.1: chunk-size [ BWS ";" chunk-ext ] CRLF */
			if (c == ';') {
				p->state = P_CEXT;
				src++;
			} else if (c == ' ' || c == '\t') {
				p->state = P_CBWS;
			} else if (c == '\r') {
				p->state = P_CSIZE_LF;
				src++;
			} else {
				return 400;     /* a lone LF or anything else */
			}
			break;
		}
		case P_CBWS:
			/* whitespace after the size must lead to an extension */
			if (c == ' ' || c == '\t') {
				if (++p->line_len > HTTP_CHUNK_LINE_MAX)
					return 400;
				src++;
			} else if (c == ';') {
				p->state = P_CEXT;
				src++;
			} else {
				return 400;
			}
			break;
		case P_CEXT:
			/* chunk-ext is skipped, but only field bytes, bounded */
			if (c == '\r') {
				p->state = P_CSIZE_LF;
				src++;
				break;
			}
			if (!http_is(c, HTTP_C_FIELD) || ++p->line_len > HTTP_CHUNK_LINE_MAX)
				return 400;
			src++;
			break;
		case P_CSIZE_LF:
			if (c != '\n')
				return 400;
			src++;
			p->line_len = 0;
			if (p->remaining == 0) {
				p->state = P_TSTART;
			} else if (p->remaining > p->lim->max_body - p->body_len) {
				return 413;
			} else {
				p->state = P_CDATA;
			}
			break;
		case P_CDATA: {
			size_t avail = (size_t)(end - src);
			size_t n = avail < p->remaining ? avail : (size_t)p->remaining;
			st = body_append(p, src, n);
			if (st)
				return st;
			src += n;
			p->remaining -= n;
			if (p->remaining == 0)
				p->state = P_CDATA_CR;
			break;
		}
		case P_CDATA_CR:
			if (c != '\r')
				return 400;     /* chunk data ends with CRLF, 7.1 */
			p->state = P_CDATA_LF;
			src++;
			break;
		case P_CDATA_LF:
			if (c != '\n')
				return 400;
			src++;
			p->state = P_CSIZE;
			p->remaining = 0;
			p->line_len = 0;
			break;
		case P_TSTART:
			if (c == '\r') {
				p->state = P_TEND_LF;
				src++;
			} else if (http_is(c, HTTP_C_TCHAR)) {
				p->state = P_TNAME;
			} else {
				return 400;     /* obs-fold or a bad byte */
			}
			break;
		case P_TNAME:
			if (c == ':')
				p->state = P_TVALUE;
			else if (!http_is(c, HTTP_C_TCHAR))
				return 400;
			src++;
			break;
		case P_TVALUE:
			if (c == '\r') {
				p->state = P_TLINE_LF;
				src++;
			} else if (!http_is(c, HTTP_C_FIELD)) {
				return 400;
			} else {
				src++;
			}
			break;
		case P_TLINE_LF:
			if (c != '\n')
				return 400;
			src++;
			p->state = P_TSTART;
			break;
		case P_TEND_LF:
			if (c != '\n')
				return 400;
			src++;
			finish(p);
			break;
		}
		if (p->state >= P_TSTART && p->state <= P_TEND_LF &&
		    ++p->trailer_bytes > p->lim->max_head)
			return 431;
	}
	*srcp = src;
	return 0;
}

enum http_parse_event http_parse_feed(struct http_parser *p, const uint8_t *data, size_t len,
				      size_t *used)
{
	const uint8_t *src = data, *end = data + len;
	enum http_parse_event ev = HTTP_PARSE_MORE;
	int st = 0;

	if (p->state == P_ERROR) {
		*used = 0;
		return HTTP_PARSE_ERROR;
	}
	if (p->state == P_DONE)
		parse_reset(p);
	if (p->state == P_HEAD) {
		st = head_feed(p, &src, end);
		if (st == 0)
			goto out;
		if (st != 1)
			goto fail;
		body_begin(p);
		if (p->state != P_DONE && p->req.expect_continue) {
			reloc(p);       /* the caller answers 100 between calls */
			ev = HTTP_PARSE_CONTINUE;
			goto out;
		}
	}
	if (p->state == P_BODY) {
		size_t avail = (size_t)(end - src);
		if (!p->body_in_buf && avail >= p->remaining) {
			p->req.body = src;              /* whole in this view */
			p->req.body_len = (size_t)p->remaining;
			src += p->remaining;
			p->remaining = 0;
			p->state = P_DONE;
		} else {
			size_t n = avail < p->remaining ? avail : (size_t)p->remaining;
			st = body_append(p, src, n);
			if (st)
				goto fail;
			src += n;
			p->remaining -= n;
			if (p->remaining == 0)
				finish(p);
		}
	} else if (p->state != P_DONE) {
		st = chunked_feed(p, &src, end);
		if (st)
			goto fail;
	}
	if (p->state == P_DONE) {
		ev = HTTP_PARSE_REQUEST;
		p->started = false;     /* nothing of the next one seen yet */
	}
out:
	if (ev == HTTP_PARSE_MORE && p->state != P_HEAD)
		reloc(p);               /* the view ends: keep nothing in it */
	*used = (size_t)(src - data);
	return ev;
fail:
	p->status = st;
	p->state = P_ERROR;
	*used = (size_t)(src - data);
	return HTTP_PARSE_ERROR;
}
