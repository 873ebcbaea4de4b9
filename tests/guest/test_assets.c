/*
 * test_assets.c - in-guest checks of the baked assets (proto/assets/): the
 * self-test image bakes tests/unit/assets/ (tests/guest/app.mk), and these
 * tests check what the guest sees of it: every file's bytes hash (BearSSL
 * SHA-256) to its ETag, every gzip variant hashes to its own ETag and its
 * RFC 1952 trailer (CRC-32 and size of the original) matches the original
 * bytes, the table and the bytes lie in the read-only part of the image,
 * and lookups (index, normalisation, "..") behave as on the host.
 */
#include <string.h>

#include <bearssl_hash.h>

#include <kiln/assets.h>
#include <kiln/kiln.h>

#include "selftest.h"

extern char __rodata_start[], __rodata_end[];

static void etag_of(const uint8_t *d, size_t n, char out[ASSET_ETAG_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	br_sha256_context c;
	uint8_t h[32];
	br_sha256_init(&c);
	br_sha256_update(&c, d, n);
	br_sha256_out(&c, h);
	out[0] = '"';
	for (int i = 0; i < 8; i++) {
		out[1 + 2 * i] = hex[h[i] >> 4];
		out[2 + 2 * i] = hex[h[i] & 15];
	}
	out[17] = '"';
	out[18] = '\0';
}

/* CRC-32 (IEEE 802.3, reflected), as in the gzip trailer. */
static uint32_t crc32(const uint8_t *d, size_t n)
{
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < n; i++) {
		c ^= d[i];
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return ~c;
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool in_rodata(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;
	return a >= (uintptr_t)__rodata_start && a + n <= (uintptr_t)__rodata_end;
}

SELFTEST(assets_intact)
{
	char want[ASSET_ETAG_LEN + 1];
	size_t total = 0, with_gz = 0;

	ST_REQUIRE(assets_count() == 13);
	for (size_t i = 0; i < assets_count(); i++) {
		const struct asset *a = assets_at(i);
		ST_REQUIRE(a != NULL);
		ST_CHECK(in_rodata(a, sizeof *a));
		ST_CHECK(in_rodata(a->data, a->len));
		ST_CHECK(in_rodata(a->path, a->path_len + 1));
		etag_of(a->data, a->len, want);
		ST_CHECK(strcmp(a->etag, want) == 0);
		total += a->len;
		if (!a->gz)
			continue;
		with_gz++;
		ST_CHECK(in_rodata(a->gz, a->gz_len));
		etag_of(a->gz, a->gz_len, want);
		ST_CHECK(strcmp(a->gz_etag, want) == 0);
		ST_REQUIRE(a->gz_len > 18 && a->gz_len < a->len);
		ST_CHECK(a->gz[0] == 0x1f && a->gz[1] == 0x8b && a->gz[2] == 8);
		ST_CHECK(le32(a->gz + a->gz_len - 8) == crc32(a->data, a->len));
		ST_CHECK(le32(a->gz + a->gz_len - 4) == (uint32_t)a->len);
	}
	ST_CHECK(total == assets_total_bytes());
	ST_CHECK(with_gz == 5);
	log_info("assets: %zu files, %zu bytes, %zu bytes of gzip variants", assets_count(),
		 assets_total_bytes(), assets_total_gz_bytes());
}

SELFTEST(assets_lookup)
{
	const struct asset *idx = assets_find("/docs/index.html", 16);
	ST_REQUIRE(idx != NULL);
	ST_CHECK(assets_find("/docs/", 6) == idx);
	ST_CHECK(assets_find("/docs", 5) == idx);
	ST_CHECK(assets_find("//docs/./", 9) == idx);
	ST_CHECK(assets_find("/%64ocs?x=1", 11) == idx);
	ST_CHECK(assets_find("/docs/../docs/", 14) == NULL);
	ST_CHECK(assets_find("/docs/%2e%2e/index.html", 23) == NULL);
	ST_CHECK(assets_find("/docs%2findex.html", 18) == NULL);
	ST_CHECK(assets_find("/nope", 5) == NULL);

	const struct asset *css = assets_find("/style.css", 10);
	ST_REQUIRE(css != NULL);
	ST_CHECK(strcmp(css->mime, "text/css; charset=utf-8") == 0);
	const struct asset *tiny = assets_find("/tiny.txt", 9);
	ST_REQUIRE(tiny != NULL);
	ST_CHECK(tiny->len == 2 && memcmp(tiny->data, "x\n", 2) == 0 && tiny->gz == NULL);
}
