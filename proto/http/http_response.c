/*
 * http_response.c - building responses into the connection's output
 * queue: status line, standard headers, fixed bodies (lent, not copied),
 * chunked streams, conditional GET, byte ranges, and the request-side
 * helpers they need (header lookup, Accept-Encoding).
 *
 * Interface: http_resp_header, http_resp_etag, http_send,
 * http_send_borrowed, http_stream_*, http_status_reason, http_header_get,
 * http_accepts_encoding (kiln/http.h); http_resp_reset, http_resp_error,
 * http_resp_continue, http_date_* (http_priv.h).
 *
 * Rules:
 *  - A response head is written once, whole, into out[] at the position
 *    the server reserved; custom headers wait there and the status line
 *    and standard fields are put in front of them when the status is
 *    final (a 200 may become 304, 206 or 416). Every response carries
 *    Server and Date (RFC 9110 6.6.1; the Date line is formatted once a
 *    second from cfg.wall_ns), Content-Length unless it is 204/304 or
 *    streamed, and Connection when persistence changes.
 *  - Bodies up to HTTP_INLINE_BODY are copied behind the head (one write
 *    for many pipelined responses); larger ones are lent to the transport.
 *    HEAD gets the GET head without the body (RFC 9110 9.3.2).
 *  - Conditional GET: If-None-Match is compared weakly with the ETag set
 *    by the handler, "*" matches; a match on a 200 to GET/HEAD is 304
 *    (RFC 9110 13.1.2, 13.2.2). Ranges (RFC 9110 14): with HTTP_SEND_RANGES
 *    a GET (only GET, 14.2) with one "bytes" range gets 206 and
 *    Content-Range, an unsatisfiable one 416 with "bytes STAR/len". Several
 *    ranges, a malformed Range, an If-Range that is a date or does not
 *    match the ETag strongly: the whole body, 200 (14.2 allows ignoring).
 *  - Streams: chunked (RFC 9112 7.1) for HTTP/1.1, close-delimited for
 *    HTTP/1.0 (which has no chunked coding).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/http.h>

#include "http_priv.h"

/* ---- small formatting helpers ------------------------------------------- */

static size_t put(uint8_t *w, const char *s, size_t n)
{
	memcpy(w, s, n);
	return n;
}
#define PUTS(w, lit) put((w), lit, sizeof(lit) - 1)

static size_t put_u64(uint8_t *w, uint64_t v)
{
	char tmp[20];
	size_t n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		w[i] = (uint8_t)tmp[n - 1 - i];
	return n;
}

static size_t put_hex(uint8_t *w, uint64_t v)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[16];
	size_t n = 0;
	do {
		tmp[n++] = hex[v & 15];
		v >>= 4;
	} while (v);
	for (size_t i = 0; i < n; i++)
		w[i] = (uint8_t)tmp[n - 1 - i];
	return n;
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 100: return "Continue";
	case 200: return "OK";
	case 201: return "Created";
	case 202: return "Accepted";
	case 204: return "No Content";
	case 206: return "Partial Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 417: return "Expectation Failed";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "";
	}
}

/* ---- Date ------------------------------------------------------------------ */

void http_date_format(uint64_t unix_sec, char out[29])
{
	static const char wd[] = "ThuFriSatSunMonTueWed";
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	uint64_t days = unix_sec / 86400, rem = unix_sec % 86400;
	/* civil date from days since 1970-01-01 (H. Hinnant's algorithm) */
	uint64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y > 9999)
		y = 9999;
	char *o = out;
	memcpy(o, wd + days % 7 * 3, 3);
	o[3] = ',';
	o[4] = ' ';
	o[5] = (char)('0' + d / 10);
	o[6] = (char)('0' + d % 10);
	o[7] = ' ';
	memcpy(o + 8, mon + (m - 1) * 3, 3);
	o[11] = ' ';
	o[12] = (char)('0' + y / 1000);
	o[13] = (char)('0' + y / 100 % 10);
	o[14] = (char)('0' + y / 10 % 10);
	o[15] = (char)('0' + y % 10);
	o[16] = ' ';
	uint64_t hh = rem / 3600, mm = rem / 60 % 60, ss = rem % 60;
	o[17] = (char)('0' + hh / 10);
	o[18] = (char)('0' + hh % 10);
	o[19] = ':';
	o[20] = (char)('0' + mm / 10);
	o[21] = (char)('0' + mm % 10);
	o[22] = ':';
	o[23] = (char)('0' + ss / 10);
	o[24] = (char)('0' + ss % 10);
	memcpy(o + 25, " GMT", 4);
}

void http_date_refresh(struct http_server *srv, uint64_t wall_ns)
{
	uint64_t sec = wall_ns / 1000000000ull;
	if (sec == srv->date_sec && srv->date_len)
		return;
	static const char pre[] = "Server: Kiln\r\nDate: ";
	char *w = srv->date_line;
	memcpy(w, pre, sizeof pre - 1);
	http_date_format(sec, w + sizeof pre - 1);
	memcpy(w + sizeof pre - 1 + 29, "\r\n", 2);
	srv->date_len = (uint32_t)(sizeof pre - 1 + 29 + 2);
	srv->date_sec = sec;
}

/* ---- request-side helpers ------------------------------------------------- */

const char *http_header_get(const struct http_req *req, const char *name, size_t *len)
{
	size_t nl = strlen(name);
	for (uint32_t i = 0; i < req->nheaders; i++) {
		const struct http_header *h = &req->headers[i];
		if (h->name_len != nl)
			continue;
		size_t k = 0;
		while (k < nl && http_lower((uint8_t)h->name[k]) == http_lower((uint8_t)name[k]))
			k++;
		if (k == nl) {
			if (len)
				*len = h->value_len;
			return h->value;
		}
	}
	return NULL;
}

/* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ): > 0? */
static bool qvalue_positive(const char *s, size_t n)
{
	if (n == 0 || (s[0] != '0' && s[0] != '1'))
		return false;
	if (s[0] == '1')
		return true;
	for (size_t i = 1; i < n; i++)
		if (s[i] >= '1' && s[i] <= '9')
			return true;
	return false;
}

bool http_accepts_encoding(const struct http_req *req, const char *coding)
{
	if (req->h_accept_encoding < 0)
		return false;
	const struct http_header *h = &req->headers[req->h_accept_encoding];
	const char *v = h->value, *ve = v + h->value_len, *el;
	size_t el_len, cl = strlen(coding);
	bool gzip = cl == 4 && memcmp(coding, "gzip", 4) == 0;
	int named = -1, star = -1;

	while (http_list_next(&v, ve, &el, &el_len)) {
		const char *e = el, *ee = el + el_len;
		while (e < ee && *e != ';' && *e != ' ' && *e != '\t')
			e++;
		size_t tl = (size_t)(e - el);
		bool ok = true;
		/* parameters: only q matters (RFC 9110 12.4.2) */
		while (e < ee) {
			while (e < ee && (*e == ';' || *e == ' ' || *e == '\t'))
				e++;
			if (ee - e >= 2 && (e[0] == 'q' || e[0] == 'Q') && e[1] == '=') {
				const char *q = e + 2, *qe = q;
				while (qe < ee && *qe != ';' && *qe != ' ' && *qe != '\t')
					qe++;
				ok = qvalue_positive(q, (size_t)(qe - q));
				e = qe;
			} else {
				while (e < ee && *e != ';')
					e++;
			}
		}
		bool match = false;
		if (tl == cl) {
			match = true;
			for (size_t i = 0; i < cl; i++)
				if (http_lower((uint8_t)el[i]) != http_lower((uint8_t)coding[i]))
					match = false;
		}
		if (!match && gzip && HTTP_IEQ(el, tl, "x-gzip"))
			match = true;
		if (match)
			named = ok;
		else if (tl == 1 && el[0] == '*')
			star = ok;
	}
	if (named >= 0)
		return named;
	return star > 0;
}

/* ---- conditional requests and ranges ----------------------------------------- */

/* The opaque-tag of an entity-tag (quotes included) and whether it is weak. */
static bool etag_split(const char *s, size_t n, const char **op, size_t *on, bool *weak)
{
	*weak = false;
	if (n >= 2 && s[0] == 'W' && s[1] == '/') {
		*weak = true;
		s += 2;
		n -= 2;
	}
	if (n < 2 || s[0] != '"' || s[n - 1] != '"')
		return false;
	for (size_t i = 1; i + 1 < n; i++)
		if (s[i] == '"')
			return false;
	*op = s;
	*on = n;
	return true;
}

/* If-None-Match against our ETag, weak comparison (RFC 9110 13.1.2). */
static bool inm_matches(const struct http_req *req, const char *etag, size_t etag_len)
{
	const struct http_header *h = &req->headers[req->h_if_none_match];
	const char *v = h->value, *ve = v + h->value_len, *el, *ours, *theirs;
	size_t el_len, on, tn;
	bool w;
	if (h->value_len == 1 && v[0] == '*')
		return true;
	if (!etag_split(etag, etag_len, &ours, &on, &w))
		return false;
	while (http_list_next(&v, ve, &el, &el_len))
		if (etag_split(el, el_len, &theirs, &tn, &w) && tn == on &&
		    memcmp(theirs, ours, on) == 0)
			return true;
	return false;
}

/* If-Range (RFC 9110 13.1.5): apply Range only on a strong ETag match. */
static bool if_range_ok(const struct http_req *req, const char *etag, size_t etag_len)
{
	if (req->h_if_range < 0)
		return true;
	const struct http_header *h = &req->headers[req->h_if_range];
	const char *a, *b;
	size_t an, bn;
	bool aw, bw;
	if (!etag || !etag_split(h->value, h->value_len, &a, &an, &aw) ||
	    !etag_split(etag, etag_len, &b, &bn, &bw))
		return false;   /* a date (we send no Last-Modified) or no ETag */
	return !aw && !bw && an == bn && memcmp(a, b, an) == 0;
}

enum { RANGE_IGNORE, RANGE_OK, RANGE_UNSAT };

static bool range_num(const char **s, const char *e, uint64_t *out)
{
	const char *p = *s;
	uint64_t v = 0;
	while (p < e && *p >= '0' && *p <= '9') {
		v = v > UINT64_MAX / 16 ? UINT64_MAX / 16 : v * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p == *s)
		return false;
	*s = p;
	*out = v;
	return true;
}

/* One "bytes" range of a len-byte body (RFC 9110 14.1.2). */
static int range_eval(const struct http_req *req, uint64_t len, uint64_t *off, uint64_t *n)
{
	const struct http_header *h = &req->headers[req->h_range];
	const char *s = h->value, *e = s + h->value_len;
	if (h->value_len < 6 || !HTTP_IEQ(s, 5, "bytes"))
		return RANGE_IGNORE;
	s += 5;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	if (s == e || *s != '=')
		return RANGE_IGNORE;
	s++;
	const char *el;
	size_t el_len;
	if (!http_list_next(&s, e, &el, &el_len))
		return RANGE_IGNORE;
	const char *rest = s, *el2;
	size_t el2_len;
	if (http_list_next(&rest, e, &el2, &el2_len))
		return RANGE_IGNORE;    /* several ranges: send it all */
	const char *p = el, *pe = el + el_len;
	uint64_t first, last;
	if (p < pe && *p == '-') {
		p++;
		if (!range_num(&p, pe, &last) || p != pe)
			return RANGE_IGNORE;
		if (last == 0 || len == 0)
			return RANGE_UNSAT;
		*n = last < len ? last : len;
		*off = len - *n;
		return RANGE_OK;
	}
	if (!range_num(&p, pe, &first) || p == pe || *p != '-')
		return RANGE_IGNORE;
	p++;
	if (p == pe) {
		last = UINT64_MAX;
	} else if (!range_num(&p, pe, &last) || p != pe || last < first) {
		return RANGE_IGNORE;
	}
	if (first >= len)
		return RANGE_UNSAT;
	if (last >= len)
		last = len - 1;
	*off = first;
	*n = last - first + 1;
	return RANGE_OK;
}

/* ---- building ------------------------------------------------------------------- */

void http_resp_reset(struct http_conn *c)
{
	c->hstart = c->out_len;
	c->hcustom = 0;
	c->etag = NULL;
	c->etag_len = 0;
	c->status = 0;
	c->resp_bytes = 0;
	c->responded = false;
	c->streaming = false;
	c->stream_nobody = false;
	c->resp_overflow = false;
	c->stream_writable = NULL;
}

static bool value_ok(const char *s, size_t n, unsigned cls)
{
	for (size_t i = 0; i < n; i++)
		if (!http_is((uint8_t)s[i], cls))
			return false;
	return true;
}

int http_resp_header(struct http_req *req, const char *name, const char *value)
{
	struct http_conn *c = req->conn;
	size_t nl = strlen(name), vl = strlen(value);
	if (c->responded || c->streaming)
		return K_EALREADY;
	if (!nl || !value_ok(name, nl, HTTP_C_TCHAR) || !value_ok(value, vl, HTTP_C_FIELD))
		return K_EINVAL;
	size_t need = nl + 2 + vl + 2;
	if (c->hcustom + need > HTTP_RESP_HEADER_ROOM || need > http_out_room(c)) {
		c->resp_overflow = true;
		return K_ENOSPC;
	}
	uint8_t *w = c->out + c->hstart + c->hcustom;
	w += put(w, name, nl);
	w += PUTS(w, ": ");
	w += put(w, value, vl);
	PUTS(w, "\r\n");
	c->hcustom += (uint32_t)need;
	return K_OK;
}

int http_resp_etag(struct http_req *req, const char *etag)
{
	struct http_conn *c = req->conn;
	size_t n = strlen(etag);
	const char *op;
	size_t on;
	bool w;
	if (n > HTTP_VALUE_MAX || !etag_split(etag, n, &op, &on, &w) ||
	    !value_ok(etag, n, HTTP_C_FIELD))
		return K_EINVAL;
	int r = http_resp_header(req, "ETag", etag);
	if (r == K_OK) {
		c->etag = etag;
		c->etag_len = (uint32_t)n;
	}
	return r;
}

/*
 * Writes the head at out[hstart]: status line, Server and Date, the
 * custom headers already there, then the given fields and the Connection
 * field, then the blank line. reserve more bytes must fit behind it.
 */
static int head_write(struct http_conn *c, const struct http_req *req, int status,
		      const char *ctype, bool has_clen, uint64_t clen, const char *extra,
		      size_t extra_len, size_t reserve)
{
	struct http_server *srv = c->srv;
	const char *reason = http_status_reason(status);
	size_t rl = strlen(reason), cl = ctype ? strlen(ctype) : 0;
	size_t prefix = 13 + rl + 2 + srv->date_len;
	size_t tail = (ctype ? 16 + cl : 0) + (has_clen ? 38 : 0) + extra_len + 26 + 2;

	if (cl > HTTP_VALUE_MAX)
		return K_EINVAL;
	if (prefix + c->hcustom + tail + reserve > HTTP_OUT_BUF - c->out_len) {
		http_out_flush(c);
		if (prefix + c->hcustom + tail + reserve > HTTP_OUT_BUF - c->out_len)
			return K_ENOSPC;
	}
	uint8_t *base = c->out + c->out_len;
	if (c->hcustom)
		memmove(base + prefix, c->out + c->hstart, c->hcustom);
	uint8_t *w = base;
	w += PUTS(w, "HTTP/1.1 ");
	w[0] = (uint8_t)('0' + status / 100);
	w[1] = (uint8_t)('0' + status / 10 % 10);
	w[2] = (uint8_t)('0' + status % 10);
	w[3] = ' ';
	w += 4;
	w += put(w, reason, rl);
	w += PUTS(w, "\r\n");
	w += put(w, srv->date_line, srv->date_len);
	w += c->hcustom;
	if (ctype) {
		w += PUTS(w, "Content-Type: ");
		w += put(w, ctype, cl);
		w += PUTS(w, "\r\n");
	}
	if (has_clen) {
		w += PUTS(w, "Content-Length: ");
		w += put_u64(w, clen);
		w += PUTS(w, "\r\n");
	}
	if (extra_len)
		w += put(w, extra, extra_len);
	if (c->close_after)
		w += PUTS(w, "Connection: close\r\n");
	else if (req && req->version_minor == 0)
		w += PUTS(w, "Connection: keep-alive\r\n");
	w += PUTS(w, "\r\n");
	c->hcustom = 0;
	c->hstart = c->out_len;
	http_out_commit(c, (size_t)(w - base));
	return K_OK;
}

int http_resp_error(struct http_conn *c, struct http_req *req, int status, bool keep,
		    const char *allow)
{
	char extra[96], body[64];
	size_t el = 0;
	if (!keep)
		c->close_after = true;
	c->hcustom = 0;
	if (allow) {
		size_t al = strlen(allow);
		memcpy(extra, "Allow: ", 7);
		memcpy(extra + 7, allow, al);
		memcpy(extra + 7 + al, "\r\n", 2);
		el = 7 + al + 2;
	}
	const char *reason = http_status_reason(status);
	size_t bl = 0;
	if (status != 204) {
		bl = strlen(reason);
		memcpy(body, reason, bl);
		body[bl++] = '\n';
	}
	bool nobody = status == 204 || (req && req->method == HTTP_M_HEAD);
	int r = head_write(c, req, status, status == 204 ? NULL : "text/plain", status != 204,
			   bl, extra, el, bl);
	if (r < 0) {
		c->failed = true;       /* cannot happen with the room kept free */
		return r;
	}
	if (!nobody && bl) {
		memcpy(c->out + c->out_len, body, bl);
		http_out_commit(c, bl);
	}
	c->status = status;
	c->resp_bytes = nobody ? 0 : bl;
	http_conn_response_done(c);
	return K_OK;
}

void http_resp_continue(struct http_conn *c)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	if (http_out_room(c) < sizeof cont)
		return;                 /* the client sends the body anyway */
	memcpy(c->out + c->out_len, cont, sizeof cont - 1);
	http_out_commit(c, sizeof cont - 1);
}

/* Common checks of every answering call. */
static int resp_check(struct http_conn *c)
{
	if (http_conn_reap(c))
		return K_ECLOSED;
	if (c->responded || c->streaming)
		return K_EALREADY;
	return K_OK;
}

static int send_common(struct http_req *req, int status, const char *ctype, const void *body,
		       size_t len, unsigned flags, void (*done)(void *), void *arg)
{
	struct http_conn *c = req->conn;
	char extra[128];
	size_t el = 0;
	uint64_t off = 0, n = len;
	int r = resp_check(c);
	if (r < 0) {
		if (done)
			done(arg);
		return r;
	}
	if (c->resp_overflow || status < 200 || status > 599 || (ctype && strlen(ctype) > HTTP_VALUE_MAX)) {
		if (done)
			done(arg);
		c->hcustom = 0;
		http_resp_error(c, req, 500, true, NULL);
		return K_EINVAL;
	}
	bool get_head = req->method == HTTP_M_GET || req->method == HTTP_M_HEAD;
	bool send_body = req->method != HTTP_M_HEAD, has_clen = true;
	if (status == 200 && c->etag && get_head && req->h_if_none_match >= 0 &&
	    inm_matches(req, c->etag, c->etag_len)) {
		status = 304;
	} else if (status == 200 && (flags & HTTP_SEND_RANGES)) {
		el += (size_t)PUTS((uint8_t *)extra, "Accept-Ranges: bytes\r\n");
		if (req->method == HTTP_M_GET && req->h_range >= 0 &&
		    if_range_ok(req, c->etag, c->etag_len)) {
			int rr = range_eval(req, len, &off, &n);
			uint8_t *w = (uint8_t *)extra + el;
			if (rr == RANGE_OK) {
				status = 206;
				w += PUTS(w, "Content-Range: bytes ");
				w += put_u64(w, off);
				*w++ = '-';
				w += put_u64(w, off + n - 1);
				*w++ = '/';
				w += put_u64(w, len);
				w += PUTS(w, "\r\n");
			} else if (rr == RANGE_UNSAT) {
				status = 416;
				n = 0;
				w += PUTS(w, "Content-Range: bytes */");
				w += put_u64(w, len);
				w += PUTS(w, "\r\n");
			}
			el = (size_t)(w - (uint8_t *)extra);
		}
	}
	if (status == 204 || status == 304) {
		send_body = false;
		has_clen = false;
		n = 0;
	}
	if (status == 416)
		ctype = NULL;
	if (!n)
		send_body = false;
	bool inline_body = send_body && (n <= HTTP_INLINE_BODY || (flags & HTTP_SEND_COPY));
	r = head_write(c, req, status, status == 304 ? NULL : ctype, has_clen, n, extra, el,
		       inline_body ? n : 0);
	if (r < 0) {
		if (done)
			done(arg);
		c->hcustom = 0;
		http_resp_error(c, req, 500, true, NULL);
		return r;
	}
	if (inline_body) {
		memcpy(c->out + c->out_len, (const uint8_t *)body + off, n);
		http_out_commit(c, n);
		if (done)
			done(arg);
	} else if (send_body) {
		http_out_borrow(c, (const uint8_t *)body + off, n, done, arg);
	} else if (done) {
		done(arg);
	}
	c->status = status;
	c->resp_bytes = send_body ? n : 0;
	http_conn_response_done(c);
	return K_OK;
}

int http_send(struct http_req *req, int status, const char *ctype, const void *body, size_t len,
	      unsigned flags)
{
	return send_common(req, status, ctype, body, len, flags, NULL, NULL);
}

int http_send_borrowed(struct http_req *req, int status, const char *ctype, const void *body,
		       size_t len, void (*done)(void *arg), void *arg)
{
	return send_common(req, status, ctype, body, len, 0, done, arg);
}

/* ---- streams ------------------------------------------------------------------- */

int http_stream_begin(struct http_req *req, int status, const char *ctype)
{
	struct http_conn *c = req->conn;
	int r = resp_check(c);
	if (r < 0)
		return r;
	if (c->resp_overflow || status < 200 || status > 599) {
		c->hcustom = 0;
		http_resp_error(c, req, 500, true, NULL);
		return K_EINVAL;
	}
	bool nobody = req->method == HTTP_M_HEAD || status == 204 || status == 304;
	bool chunked = req->version_minor == 1;
	if (!chunked)
		c->close_after = true;  /* HTTP/1.0: the close ends the body */
	static const char te[] = "Transfer-Encoding: chunked\r\n";
	r = head_write(c, req, status, ctype, false, 0, te,
		       chunked && status != 204 && status != 304 ? sizeof te - 1 : 0, 0);
	if (r < 0) {
		c->hcustom = 0;
		http_resp_error(c, req, 500, true, NULL);
		return r;
	}
	c->status = status;
	c->streaming = true;
	c->app_at = c->srv->cfg.now_ns();
	c->stream_chunked = chunked;
	c->stream_nobody = nobody;
	if (!c->in_input)
		http_out_flush(c);
	return K_OK;
}

int http_stream_write(struct http_req *req, const void *data, size_t len)
{
	struct http_conn *c = req->conn;
	if (c->state == HTTP_CS_DEAD || c->failed)
		return K_ECLOSED;
	if (!c->streaming)
		return K_EINVAL;
	if (len > HTTP_OUT_BUF)
		len = HTTP_OUT_BUF;
	if (c->stream_nobody || len == 0)
		return (int)len;
	size_t frame = c->stream_chunked ? 20 : 0;
	if (http_out_room(c) < frame + 64 || c->seg_count + 2 > HTTP_OUT_SEGS) {
		http_out_flush(c);
		if (http_out_room(c) < frame + 64 || c->seg_count + 2 > HTTP_OUT_SEGS)
			return K_EAGAIN;
	}
	size_t n = http_out_room(c) - frame;
	if (n > len)
		n = len;
	uint8_t *base = c->out + c->out_len, *w = base;
	if (c->stream_chunked) {
		w += put_hex(w, n);
		w += PUTS(w, "\r\n");
	}
	w += put(w, data, n);
	if (c->stream_chunked)
		w += PUTS(w, "\r\n");
	http_out_commit(c, (size_t)(w - base));
	c->resp_bytes += n;
	c->app_at = c->srv->cfg.now_ns();
	if (!c->in_input)
		http_out_flush(c);
	return (int)n;
}

int http_stream_end(struct http_req *req)
{
	struct http_conn *c = req->conn;
	if (http_conn_reap(c))
		return K_ECLOSED;
	if (!c->streaming)
		return K_EINVAL;
	if (c->stream_chunked && !c->stream_nobody) {
		if (http_out_room(c) < 5 || c->seg_count + 1 > HTTP_OUT_SEGS) {
			http_out_flush(c);
			if (http_out_room(c) < 5 || c->seg_count + 1 > HTTP_OUT_SEGS)
				return K_EAGAIN;
		}
		memcpy(c->out + c->out_len, "0\r\n\r\n", 5);
		http_out_commit(c, 5);
	}
	http_conn_response_done(c);
	return K_OK;
}

void http_stream_on_writable(struct http_req *req, void (*fn)(struct http_req *req, void *arg),
			     void *arg)
{
	req->conn->stream_writable = fn;
	req->conn->stream_arg = arg;
}
