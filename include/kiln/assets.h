/*
 * assets.h - files baked into the image at build time, served from memory.
 *
 * tools/bake turns a directory tree into a read-only table that is linked
 * into an app's image (an app asks for it with `<app>_ASSETS := dir` in its
 * app.mk; see mk/assets.mk). Every file becomes one struct asset: its URL
 * path, MIME type, a strong ETag, its bytes, and a gzip variant made at
 * build time when that is worth it. The bytes live in .rodata, which is
 * mapped read-only, so a response may point straight at them (zero-copy)
 * for as long as the image runs: nothing here is ever freed or changed.
 *
 * A directory holding index.html is also found as "dir/" and "dir" (and
 * the root's as "/"); those names return the index.html asset itself.
 *
 * An image without baked assets links fine: the table is then empty and
 * every lookup misses.
 */
#ifndef KILN_ASSETS_H
#define KILN_ASSETS_H

#include <stddef.h>
#include <stdint.h>

/* Longest URL path the table holds and assets_find() accepts, after
 * normalisation (the baker refuses longer file paths). Long enough for any
 * real site tree; short enough for a stack buffer on a task stack. */
#define ASSETS_PATH_MAX 256

/* An ETag is 16 lower-case hex digits of SHA-256 in double quotes. */
#define ASSET_ETAG_LEN 18

struct asset {
	const char *path;     /* normalised URL path, "/docs/index.html" (NUL-terminated) */
	const char *mime;     /* Content-Type value, "text/html; charset=utf-8" */
	const char *etag;     /* "\"<first 16 hex digits of SHA-256(data)>\"", quotes included */
	const char *gz_etag;  /* the same for the gzip bytes; NULL when gz is NULL */
	const uint8_t *data;  /* the file's bytes (identity encoding) */
	const uint8_t *gz;    /* gzip (RFC 1952) of data, or NULL when not smaller */
	size_t len;
	size_t gz_len;
	uint32_t path_len;    /* strlen(path) */
	uint32_t mime_len;    /* strlen(mime) */
};

/*
 * Looks a request path up. `path` is the request target's path only (the
 * caller strips "?query"; a '?' or '#' still present ends the path here
 * too), `len` bytes, not necessarily NUL-terminated. The path is
 * normalised first (assets_normalize); a path that does not normalise
 * misses. Returns the asset or NULL. Cost: O(len) plus a bounded probe of
 * a hash table built at bake time.
 */
const struct asset *assets_find(const char *path, size_t len);

/*
 * Normalises a request path into out[cap]: must start with '/'; %XX
 * escapes are decoded; repeated slashes collapse to one; "." segments are
 * dropped; a trailing slash is kept. Rejected (K_EINVAL): a ".." segment
 * (also when written %2e%2e), an encoded '/' (%2F), a backslash, NUL or
 * any control byte, a malformed escape. K_EMSGSIZE when the result does
 * not fit in cap (or ASSETS_PATH_MAX). Returns the length written (out is
 * NUL-terminated) or the negative error.
 */
int assets_normalize(const char *path, size_t len, char *out, size_t cap);

/* Number of baked files (index aliases not counted). */
size_t assets_count(void);

/* The i-th baked file in path order, i < assets_count(); NULL otherwise. */
const struct asset *assets_at(size_t i);

/* Sum of the files' sizes (identity encoding), and of their gzip variants
 * (only those kept). */
size_t assets_total_bytes(void);
size_t assets_total_gz_bytes(void);

#endif
