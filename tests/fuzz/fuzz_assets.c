/*
 * fuzz_assets.c - libFuzzer target for the baked-asset lookup
 * (proto/assets/assets.c), linked with the table tools/bake makes from
 * tests/unit/assets/ (mk/assets.mk).
 *
 * The input is a request path. assets_normalize() must either reject it
 * or produce a path that starts with '/', has no empty, "." or ".."
 * segment, no control byte or backslash, fits ASSETS_PATH_MAX, and
 * normalises to itself again (when it holds no '%', which a second pass
 * would decode, and no decoded '?' or '#', where a second pass would stop). assets_find() must agree with it: whatever it returns is
 * the asset whose path is the normalised input, or that directory's
 * index.html. Any mismatch aborts, which libFuzzer reports as a crash.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/assets.h>
#include <kiln/err.h>

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fprintf(stderr, "fuzz_assets: line %d: %s\n", __LINE__, #cond); \
			abort();                                                \
		}                                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size copy, so ASan sees any read past the end */
	char *in = malloc(size ? size : 1);
	char out[ASSETS_PATH_MAX + 1], again[ASSETS_PATH_MAX + 1];
	memcpy(in, data, size);

	int n = assets_normalize(in, size, out, sizeof out);
	const struct asset *a = assets_find(in, size);
	if (n < 0) {
		CHECK(n == K_EINVAL || n == K_EMSGSIZE);
		CHECK(a == NULL);
		free(in);
		return 0;
	}
	CHECK((size_t)n == strlen(out) && n <= ASSETS_PATH_MAX);
	CHECK(out[0] == '/');
	for (int i = 0; i < n; i++) {
		unsigned char c = (unsigned char)out[i];
		CHECK(c >= 0x20 && c != 0x7f && c != '\\');
		if (c == '/' && i + 1 < n) {
			CHECK(out[i + 1] != '/');
			bool dot = out[i + 1] == '.' && (i + 2 == n || out[i + 2] == '/');
			bool dotdot = out[i + 1] == '.' && i + 2 < n && out[i + 2] == '.' &&
				      (i + 3 == n || out[i + 3] == '/');
			CHECK(!dot && !dotdot);
		}
	}
	if (!memchr(out, '%', (size_t)n) && !memchr(out, '?', (size_t)n) &&
	    !memchr(out, '#', (size_t)n)) {
		CHECK(assets_normalize(out, (size_t)n, again, sizeof again) == n);
		CHECK(memcmp(out, again, (size_t)n) == 0);
	}
	if (a) {
		size_t pl = a->path_len;
		bool same = pl == (size_t)n && memcmp(a->path, out, pl) == 0;
		bool index = pl >= 11 && strcmp(a->path + pl - 11, "/index.html") == 0 &&
			     (pl - 10 == (size_t)n || pl - 11 == (size_t)n) &&
			     memcmp(a->path, out, (size_t)n) == 0;
		CHECK(same || index);
	}
	free(in);
	return 0;
}
