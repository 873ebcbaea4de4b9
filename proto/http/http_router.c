/*
 * http_router.c - the route table: exact and prefix paths, per method,
 * registered at start-up, looked up per request.
 *
 * Interface: http_route (kiln/http.h); http_router_match and
 * http_allow_format (http_priv.h, for the server).
 *
 * Rules:
 *  - Routes live in the server's fixed table (HTTP_MAX_ROUTES); paths are
 *    the app's static strings, never copied. Registration happens before
 *    connections arrive; lookup never allocates.
 *  - Matching is on the raw path (RFC 9110 4.2.3 leaves normalisation to
 *    the resource; apps serving files must refuse "..").
 *  - Specificity: an exact route beats any prefix, a longer prefix beats
 *    a shorter one; among routes of equal rank a route naming the method
 *    beats a GET route serving HEAD (RFC 9110 9.3.2: HEAD is GET without
 *    content). A path matched only by routes of other methods gets 405
 *    with the methods of its most specific routes (RFC 9110 15.5.6).
 *  - A linear scan: a unikernel app has a handful of routes, and the scan
 *    compares lengths before bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/http.h>

#include "http_priv.h"

int http_route(struct http_server *srv, uint32_t methods, const char *path, unsigned flags,
	       http_handler_fn fn, void *arg)
{
	if (!path || path[0] != '/' || !fn || !methods ||
	    (methods & ~((1u << HTTP_M_COUNT) - 1)) || (methods & HTTP_MBIT(HTTP_M_OTHER)))
		return K_EINVAL;
	if (srv->nroutes >= HTTP_MAX_ROUTES)
		return K_ENOSPC;
	struct http_route *r = &srv->routes[srv->nroutes++];
	r->path = path;
	r->path_len = (uint32_t)strlen(path);
	r->methods = methods;
	r->flags = flags;
	r->fn = fn;
	r->arg = arg;
	return K_OK;
}

const struct http_route *http_router_match(const struct http_server *srv,
					   const struct http_req *req, uint32_t *allow)
{
	const struct http_route *best = NULL;
	uint64_t best_rank = 0, path_rank = 0;
	uint32_t allowed = 0;
	uint32_t want = HTTP_MBIT(req->method);

	for (uint32_t i = 0; i < srv->nroutes; i++) {
		const struct http_route *r = &srv->routes[i];
		uint64_t rank;
		if (r->flags & HTTP_ROUTE_PREFIX) {
			if (req->path_len < r->path_len ||
			    memcmp(req->path, r->path, r->path_len) != 0)
				continue;
			rank = (uint64_t)r->path_len + 1;
		} else {
			if (req->path_len != r->path_len ||
			    memcmp(req->path, r->path, r->path_len) != 0)
				continue;
			rank = UINT32_MAX;
		}
		uint32_t m = r->methods;
		if (m & HTTP_MBIT(HTTP_M_GET))
			m |= HTTP_MBIT(HTTP_M_HEAD);
		if (rank > path_rank) {
			path_rank = rank;
			allowed = m;
		} else if (rank == path_rank) {
			allowed |= m;
		}
		if (!(m & want))
			continue;
		/* rank * 2, +1 when the route names the method itself */
		uint64_t score = rank * 2 + ((r->methods & want) ? 1 : 0);
		if (score > best_rank) {
			best_rank = score;
			best = r;
		}
	}
	*allow = allowed;
	return best;
}

size_t http_allow_format(uint32_t allow, char *buf, size_t size)
{
	size_t n = 0;
	for (unsigned m = HTTP_M_GET; m < HTTP_M_COUNT; m++) {
		if (!(allow & HTTP_MBIT(m)))
			continue;
		const char *name = http_method_name((enum http_method)m);
		size_t l = strlen(name);
		if (n + l + 3 > size)
			break;
		if (n) {
			buf[n++] = ',';
			buf[n++] = ' ';
		}
		memcpy(buf + n, name, l);
		n += l;
	}
	if (size)
		buf[n < size ? n : size - 1] = 0;
	return n;
}
