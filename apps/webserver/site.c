/*
 * site.c - the baked site (kiln/assets.h) over HTTP.
 *
 * Interface: site_handler() (webserver.h), routed as the "/" prefix, so
 * every GET/HEAD the exact routes do not take lands here.
 *
 * What a response carries (RFC 9110):
 *  - the asset's bytes lent straight from .rodata (no copy), its MIME
 *    type and strong ETag; If-None-Match gets 304 (the engine);
 *  - the gzip variant, with Content-Encoding: gzip and that variant's
 *    own ETag, when the client's Accept-Encoding admits gzip; every
 *    asset with a variant says Vary: Accept-Encoding (12.5.5);
 *  - Range (206/416) on the identity form only (a range of the gzip
 *    bytes would surprise most clients; 14.2 lets us ignore Range);
 *  - Cache-Control: HTML and JSON revalidate every time (no-cache: the
 *    ETag makes that a cheap 304), everything else may be kept an hour.
 * A directory path without its trailing slash is redirected (308) to
 * the slash form so relative links in its index.html resolve.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include <kiln/assets.h>
#include <kiln/http.h>

#include "webserver.h"

static bool starts_with(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);
	return len >= n && memcmp(s, prefix, n) == 0;
}

static int not_found(struct http_req *req)
{
	static const char msg[] = "not found\n";
	return http_respond(req, 404, "text/plain", msg, sizeof msg - 1);
}

int site_handler(struct http_req *req, void *arg)
{
	(void)arg;
	const struct asset *a = assets_find(req->path, req->path_len);
	if (!a)
		return not_found(req);

	/* "/docs" found its index: send the browser to "/docs/" */
	if (req->path_len > 1 && req->path[req->path_len - 1] != '/' &&
	    a->path_len > req->path_len && a->path_len >= 11 &&
	    strcmp(a->path + a->path_len - 11, "/index.html") == 0 &&
	    req->path_len < ASSETS_PATH_MAX) {
		char loc[ASSETS_PATH_MAX + 2];
		int n = assets_normalize(req->path, req->path_len, loc, ASSETS_PATH_MAX);
		if (n > 0 && loc[n - 1] != '/') {
			loc[n] = '/';
			loc[n + 1] = '\0';
			http_resp_header(req, "Location", loc);
			return http_respond(req, 308, "text/plain", "moved\n", 6);
		}
	}

	bool html = starts_with(a->mime, a->mime_len, "text/html") ||
		    starts_with(a->mime, a->mime_len, "application/json");
	http_resp_header(req, "Cache-Control", html ? "no-cache" : "public, max-age=3600");
	if (a->gz) {
		http_resp_header(req, "Vary", "Accept-Encoding");
		if (http_accepts_encoding(req, "gzip")) {
			http_resp_header(req, "Content-Encoding", "gzip");
			http_resp_etag(req, a->gz_etag);
			return http_send(req, 200, a->mime, a->gz, a->gz_len, 0);
		}
	}
	http_resp_etag(req, a->etag);
	return http_send(req, 200, a->mime, a->data, a->len, HTTP_SEND_RANGES);
}
