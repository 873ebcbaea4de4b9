/*
 * test_assets.c - the baked-asset lookup (proto/assets/assets.c) over a
 * table that tools/bake makes from tests/unit/assets/ during the build
 * (mk/assets.mk links it in): found and not found, directory indexes,
 * path normalisation and its rejections, MIME types, ETags recomputed
 * with BearSSL, gzip variants inflated with zlib and compared with the
 * originals, and the totals.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <bearssl_hash.h>
#include <zlib.h>

#include <kiln/assets.h>
#include <kiln/err.h>

/* The fixture's files, as tools/bake must have baked them. */
static const struct {
	const char *path, *mime;
	bool gz;   /* a gzip variant is expected (the file compresses well) */
} fixture[] = {
	{ "/README", "application/octet-stream", true },
	{ "/UPPER.CSS", "text/css; charset=utf-8", false },
	{ "/a/b/c/deep.txt", "text/plain; charset=utf-8", false },
	{ "/app.js", "text/javascript; charset=utf-8", false },
	{ "/data.json", "application/json", false },
	{ "/docs/guide.html", "text/html; charset=utf-8", true },
	{ "/docs/index.html", "text/html; charset=utf-8", true },
	{ "/index.html", "text/html; charset=utf-8", true },
	{ "/logo.svg", "image/svg+xml", false },
	{ "/noext", "application/octet-stream", false },
	{ "/style.css", "text/css; charset=utf-8", true },
	{ "/tiny.txt", "text/plain; charset=utf-8", false },
	{ "/with space.txt", "text/plain; charset=utf-8", false },
};
#define NFIXTURE (sizeof fixture / sizeof fixture[0])

static const struct asset *find(const char *s)
{
	return assets_find(s, strlen(s));
}

static void expect_path(const char *req, const char *want)
{
	const struct asset *a = find(req);
	if (!a)
		fail_msg("%s: not found, wanted %s", req, want);
	if (strcmp(a->path, want) != 0)
		fail_msg("%s: found %s, wanted %s", req, a->path, want);
}

static void expect_miss(const char *req)
{
	const struct asset *a = find(req);
	if (a)
		fail_msg("%s: found %s, wanted no match", req, a->path);
}

static void etag_of(const uint8_t *d, size_t n, char out[ASSET_ETAG_LEN + 1])
{
	br_sha256_context c;
	unsigned char h[32];
	br_sha256_init(&c);
	br_sha256_update(&c, d, n);
	br_sha256_out(&c, h);
	out[0] = '"';
	for (int i = 0; i < 8; i++)
		snprintf(out + 1 + 2 * i, 3, "%02x", h[i]);
	out[17] = '"';
	out[18] = '\0';
}

static void test_every_file_found(void **state)
{
	(void)state;
	assert_int_equal(assets_count(), NFIXTURE);
	for (size_t i = 0; i < NFIXTURE; i++) {
		const struct asset *a = find(fixture[i].path);
		assert_non_null(a);
		assert_string_equal(a->path, fixture[i].path);
		assert_int_equal(a->path_len, strlen(fixture[i].path));
		assert_string_equal(a->mime, fixture[i].mime);
		assert_int_equal(a->mime_len, strlen(fixture[i].mime));
		/* iteration is in path order and yields the same records */
		assert_ptr_equal(assets_at(i), a);
	}
	assert_null(assets_at(NFIXTURE));
	assert_null(assets_at((size_t)-1));
}

static void test_misses(void **state)
{
	(void)state;
	expect_miss("/nope.html");
	expect_miss("/docs/nope");
	expect_miss("/style.cs");
	expect_miss("/style.css2");
	expect_miss("/STYLE.CSS");         /* paths are case-sensitive */
	expect_miss("/.hidden");           /* dotfiles are not baked */
	expect_miss("/a/b");               /* a folder without index.html */
	expect_miss("/a/b/");
	expect_miss("/with space.txt/");   /* a file is not a folder */
	expect_miss("/index.html/");
	assert_null(assets_find(NULL, 4));
	assert_null(assets_find("/index.html", 0));
	/* len bounds the path even without a NUL */
	assert_null(assets_find("/index.html", 6));
	assert_ptr_equal(assets_find("/index.htmlXYZ", 11), find("/index.html"));
}

static void test_directory_index(void **state)
{
	(void)state;
	expect_path("/", "/index.html");
	expect_path("/docs/", "/docs/index.html");
	expect_path("/docs", "/docs/index.html");
	expect_path("/docs/index.html", "/docs/index.html");
	assert_ptr_equal(find("/docs"), find("/docs/index.html"));
	assert_ptr_equal(find("/"), find("/index.html"));
	/* aliases are not files: the count is of files only */
	assert_int_equal(assets_count(), NFIXTURE);
}

static void test_normalisation(void **state)
{
	(void)state;
	expect_path("//docs//guide.html", "/docs/guide.html");
	expect_path("/./docs/./guide.html", "/docs/guide.html");
	expect_path("/docs/.", "/docs/index.html");
	expect_path("/docs/./", "/docs/index.html");
	expect_path("///", "/index.html");
	expect_path("/%64ocs/guide%2Ehtml", "/docs/guide.html");
	expect_path("/%64ocs/guide%2ehtml", "/docs/guide.html");
	expect_path("/with%20space.txt", "/with space.txt");
	expect_path("/with space.txt", "/with space.txt");
	expect_path("/style.css?v=3", "/style.css");
	expect_path("/style.css#top", "/style.css");
	expect_path("/docs/?q", "/docs/index.html");
	expect_path("/a/b/c/deep.txt", "/a/b/c/deep.txt");
}

static void test_hostile_paths(void **state)
{
	(void)state;
	expect_miss("/docs/../index.html");
	expect_miss("/../index.html");
	expect_miss("/..");
	expect_miss("/docs/..");
	expect_miss("/docs/%2e%2e/index.html");
	expect_miss("/docs/.%2E/index.html");
	expect_miss("/docs%2fguide.html");  /* an encoded slash never splits */
	expect_miss("/docs%2Fguide.html");
	expect_miss("/docs\\guide.html");
	expect_miss("/docs%5cguide.html");
	expect_miss("/index.html%00");
	expect_miss("/style.css%");
	expect_miss("/style.css%4");
	expect_miss("/style%zzcss");
	expect_miss("/tiny.txt\r");
	expect_miss("index.html");          /* not origin-form */
	expect_miss("http://x/index.html");
	expect_miss("*");
	assert_null(assets_find("/index.html\0/x", 13));
	/* "..." and "..x" are ordinary names (not found here, not rejected) */
	char out[32];
	assert_int_equal(assets_normalize("/.../..x", 8, out, sizeof out), 8);
	assert_string_equal(out, "/.../..x");
}

static void test_normalize_direct(void **state)
{
	char out[ASSETS_PATH_MAX + 8];
	char big[ASSETS_PATH_MAX + 64];
	(void)state;

	assert_int_equal(assets_normalize("/a//b/./c/", 10, out, sizeof out), 7);
	assert_string_equal(out, "/a/b/c/");
	assert_int_equal(assets_normalize("/a/b/../c", 9, out, sizeof out), K_EINVAL);
	assert_int_equal(assets_normalize("", 0, out, sizeof out), K_EINVAL);
	assert_int_equal(assets_normalize("a", 1, out, sizeof out), K_EINVAL);
	/* the output buffer bounds the result */
	assert_int_equal(assets_normalize("/abcdef", 7, out, 4), K_EMSGSIZE);
	assert_int_equal(assets_normalize("/abc", 4, out, 5), 4);
	assert_int_equal(assets_normalize("/abc", 4, out, 1), K_EMSGSIZE);
	/* ASSETS_PATH_MAX bounds it whatever the buffer */
	big[0] = '/';
	memset(big + 1, 'x', sizeof big - 1);
	assert_int_equal(assets_normalize(big, ASSETS_PATH_MAX, out, sizeof out),
			 ASSETS_PATH_MAX);
	assert_int_equal(assets_normalize(big, ASSETS_PATH_MAX + 1, out, sizeof out),
			 K_EMSGSIZE);
	assert_null(assets_find(big, sizeof big));
	/* many slashes collapse before the limit applies */
	memset(big, '/', sizeof big);
	memcpy(big + sizeof big - 9, "tiny.txt", 8);
	expect_path("////////////tiny.txt", "/tiny.txt");
	assert_non_null(assets_find(big, sizeof big - 1));
}

static void test_etags_and_bytes(void **state)
{
	char want[ASSET_ETAG_LEN + 1];
	(void)state;
	for (size_t i = 0; i < assets_count(); i++) {
		const struct asset *a = assets_at(i);
		assert_int_equal(strlen(a->etag), ASSET_ETAG_LEN);
		etag_of(a->data, a->len, want);
		assert_string_equal(a->etag, want);
		/* the baked bytes are the file's bytes */
		char path[512];
		snprintf(path, sizeof path, "tests/unit/assets%s", a->path);
		FILE *f = fopen(path, "rb");
		assert_non_null(f);
		uint8_t *buf = malloc(a->len + 1);
		assert_int_equal(fread(buf, 1, a->len + 1, f), a->len);
		fclose(f);
		assert_memory_equal(buf, a->data, a->len);
		free(buf);
	}
	expect_path("/tiny.txt", "/tiny.txt");
	assert_int_equal(find("/tiny.txt")->len, 2);
	assert_memory_equal(find("/tiny.txt")->data, "x\n", 2);
}

static void test_gzip_variants(void **state)
{
	char want[ASSET_ETAG_LEN + 1];
	(void)state;
	for (size_t i = 0; i < NFIXTURE; i++) {
		const struct asset *a = find(fixture[i].path);
		assert_non_null(a);
		if (!fixture[i].gz) {
			assert_null(a->gz);
			assert_null(a->gz_etag);
			assert_int_equal(a->gz_len, 0);
			continue;
		}
		assert_non_null(a->gz);
		assert_true(a->gz_len < a->len);
		/* a gzip member (RFC 1952) with no time stamp: reproducible */
		assert_int_equal(a->gz[0], 0x1f);
		assert_int_equal(a->gz[1], 0x8b);
		assert_int_equal(a->gz[4] | a->gz[5] | a->gz[6] | a->gz[7], 0);
		etag_of(a->gz, a->gz_len, want);
		assert_string_equal(a->gz_etag, want);
		assert_string_not_equal(a->gz_etag, a->etag);

		z_stream z;
		memset(&z, 0, sizeof z);
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		uint8_t *out = malloc(a->len + 16);
		z.next_in = (uint8_t *)a->gz;
		z.avail_in = (uInt)a->gz_len;
		z.next_out = out;
		z.avail_out = (uInt)(a->len + 16);
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		assert_int_equal(z.total_out, a->len);
		assert_memory_equal(out, a->data, a->len);
		inflateEnd(&z);
		free(out);
	}
	/* the big page compresses a lot */
	const struct asset *g = find("/docs/guide.html");
	assert_true(g->gz_len * 4 < g->len);
}

static void test_totals(void **state)
{
	size_t total = 0, total_gz = 0;
	(void)state;
	for (size_t i = 0; i < assets_count(); i++) {
		total += assets_at(i)->len;
		total_gz += assets_at(i)->gz_len;
	}
	assert_int_equal(assets_total_bytes(), total);
	assert_int_equal(assets_total_gz_bytes(), total_gz);
	assert_true(total > 17000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_file_found),
		cmocka_unit_test(test_misses),
		cmocka_unit_test(test_directory_index),
		cmocka_unit_test(test_normalisation),
		cmocka_unit_test(test_hostile_paths),
		cmocka_unit_test(test_normalize_direct),
		cmocka_unit_test(test_etags_and_bytes),
		cmocka_unit_test(test_gzip_variants),
		cmocka_unit_test(test_totals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
