/*
 * assets.c - lookup of the files baked into the image (see assets.h).
 *
 * The table (assets_table.h) is made by tools/bake and linked into the
 * image as `kiln_assets`; the reference here is weak, so an image that
 * bakes nothing links and sees an empty table. Everything is read-only and
 * needs no initialisation, so lookups may run on any core at any time.
 *
 * Request paths are hostile input: assets_normalize() works in a bounded
 * output buffer, rejects rather than repairs anything odd ("..", encoded
 * slashes, control bytes), and the result is only ever compared with the
 * baked keys, so no input can name anything outside the table.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/assets.h>
#include <kiln/err.h>

#include "assets_table.h"

/* tools/bake writes these structures with .quad/.long at fixed offsets. */
_Static_assert(sizeof(void *) == 8, "tools/bake emits 64-bit pointers");
_Static_assert(offsetof(struct asset, data) == 32 && offsetof(struct asset, len) == 48 &&
		       offsetof(struct asset, path_len) == 64 && sizeof(struct asset) == 72,
	       "struct asset layout changed: update tools/bake");
_Static_assert(offsetof(struct asset_key, asset) == 12 && sizeof(struct asset_key) == 16,
	       "struct asset_key layout changed: update tools/bake");
_Static_assert(offsetof(struct asset_table, total_gz_bytes) == 64 &&
		       sizeof(struct asset_table) == 72,
	       "struct asset_table layout changed: update tools/bake");

extern const struct asset_table kiln_assets __attribute__((weak));

static const struct asset_table *table(void)
{
	const struct asset_table *t = &kiln_assets;
	return (t && t->count) ? t : NULL;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * One pass over the input: decode a byte, then decide at each '/' what the
 * segment just ended was. `seg` is where the current segment starts in out.
 */
int assets_normalize(const char *path, size_t len, char *out, size_t cap)
{
	size_t o = 0, seg = 1;

	if (cap > ASSETS_PATH_MAX + 1)
		cap = ASSETS_PATH_MAX + 1;
	if (cap < 2)
		return K_EMSGSIZE;
	if (len == 0 || path[0] != '/')
		return K_EINVAL;
	out[o++] = '/';

	for (size_t i = 1; i <= len; i++) {
		int c;
		bool end = (i == len || path[i] == '?' || path[i] == '#');

		if (end || path[i] == '/') {
			/* close the segment out[seg..o) */
			size_t n = o - seg;
			if (n == 1 && out[seg] == '.') {
				o = seg;                 /* "." : drop it */
			} else if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
				return K_EINVAL;         /* ".." : never */
			} else if (n > 0 && !end) {
				if (o + 1 >= cap)
					return K_EMSGSIZE;
				out[o++] = '/';
			}
			seg = o;
			if (end)
				break;
			continue;
		}
		c = (uint8_t)path[i];
		if (c == '%') {
			int hi, lo;
			if (len - i < 3 || (hi = hexval(path[i + 1])) < 0 ||
			    (lo = hexval(path[i + 2])) < 0)
				return K_EINVAL;
			c = hi << 4 | lo;
			i += 2;
			if (c == '/')
				return K_EINVAL; /* would change the segment structure */
		}
		if (c < 0x20 || c == 0x7f || c == '\\')
			return K_EINVAL;
		if (o + 1 >= cap)
			return K_EMSGSIZE;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

const struct asset *assets_find(const char *path, size_t len)
{
	const struct asset_table *t = table();
	char norm[ASSETS_PATH_MAX + 1];
	int n;

	if (!t || !path)
		return NULL;
	n = assets_normalize(path, len, norm, sizeof norm);
	if (n < 0)
		return NULL;

	uint64_t mask = t->nslots - 1;
	uint64_t s = assets_hash(norm, (size_t)n) & mask;
	for (uint64_t probe = 0; probe <= t->max_probe; probe++, s = (s + 1) & mask) {
		uint32_t k = t->slots[s];
		if (k == 0)
			return NULL;
		const struct asset_key *key = &t->keys[k - 1];
		if (key->len == (uint32_t)n && memcmp(key->path, norm, (size_t)n) == 0)
			return &t->assets[key->asset];
	}
	return NULL;
}

size_t assets_count(void)
{
	const struct asset_table *t = table();
	return t ? (size_t)t->count : 0;
}

const struct asset *assets_at(size_t i)
{
	const struct asset_table *t = table();
	return (t && i < t->count) ? &t->assets[i] : NULL;
}

size_t assets_total_bytes(void)
{
	const struct asset_table *t = table();
	return t ? (size_t)t->total_bytes : 0;
}

size_t assets_total_gz_bytes(void)
{
	const struct asset_table *t = table();
	return t ? (size_t)t->total_gz_bytes : 0;
}
