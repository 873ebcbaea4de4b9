/*
 * test_docsite.c - the baked documentation site of apps/webserver, as
 * tools/bake bakes it from apps/webserver/site/static/ and the pages
 * tools/bake/docsite.sh renders from README.md and the Markdown files in docs/
 * (KILN_SITE_TREES in mk/assets.mk): the front page and every doc page are
 * there with the right types, every link and resource a page names
 * resolves inside the table, nothing points off-site, and every gzip
 * variant inflates back to its original.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include <zlib.h>

#include <kiln/assets.h>

static const struct asset *find(const char *s)
{
	return assets_find(s, strlen(s));
}

static bool is_html(const struct asset *a)
{
	return strncmp(a->mime, "text/html", 9) == 0;
}

static void test_pages_present(void **state)
{
	(void)state;
	const struct asset *home = find("/");
	assert_non_null(home);
	assert_string_equal(home->path, "/index.html");
	assert_non_null(find("/docs/"));
	assert_non_null(find("/docs"));
	assert_string_equal(find("/style.css")->mime, "text/css; charset=utf-8");
	assert_string_equal(find("/site.js")->mime, "text/javascript; charset=utf-8");
	assert_string_equal(find("/favicon.svg")->mime, "image/svg+xml");
	assert_null(find("/template.html"));   /* the template is not served */

	/* one page per Markdown file in docs/ (tests run from the top of the tree) */
	DIR *d = opendir("docs");
	struct dirent *e;
	int pages = 0;
	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		size_t n = strlen(e->d_name);
		if (n < 4 || strcmp(e->d_name + n - 3, ".md") != 0)
			continue;
		char url[300];
		snprintf(url, sizeof url, "/docs/%.*s.html", (int)(n - 3), e->d_name);
		const struct asset *a = find(url);
		if (!a)
			fail_msg("docs/%s has no page %s", e->d_name, url);
		assert_true(is_html(a));
		pages++;
	}
	closedir(d);
	assert_true(pages >= 1);
}

/* Every href="..." and src="..." in every page: site-absolute or
 * relative URLs must be baked; nothing may load from another host. */
static void test_links_resolve(void **state)
{
	(void)state;
	int checked = 0;
	for (size_t i = 0; i < assets_count(); i++) {
		const struct asset *a = assets_at(i);
		if (!is_html(a))
			continue;
		char *text = malloc(a->len + 1);
		memcpy(text, a->data, a->len);
		text[a->len] = '\0';
		assert_non_null(strstr(text, "<title>"));
		assert_non_null(strstr(text, "href=\"/style.css\""));
		for (const char *p = text; (p = strstr(p, "=\"")) != NULL; p += 2) {
			bool href = p >= text + 4 && memcmp(p - 4, "href", 4) == 0;
			bool src = p >= text + 3 && memcmp(p - 3, "src", 3) == 0;
			if (!href && !src)
				continue;
			const char *v = p + 2, *end = strchr(v, '"');
			assert_non_null(end);
			size_t n = (size_t)(end - v);
			if (n == 0 || v[0] == '#' || strncmp(v, "mailto:", 7) == 0)
				continue;
			if (strncmp(v, "http://", 7) == 0 || strncmp(v, "https://", 8) == 0 ||
			    strncmp(v, "//", 2) == 0) {
				const char *tag = p;
				while (tag > text && *tag != '<')
					tag--;
				if (src || strncmp(tag, "<link", 5) == 0)
					fail_msg("%s loads %.*s from another host", a->path, (int)n, v);
				continue;   /* a plain outbound link (<a>) is fine */
			}
			char url[1024];
			const char *hash = memchr(v, '#', n);
			if (hash)
				n = (size_t)(hash - v);
			if (v[0] == '/') {
				snprintf(url, sizeof url, "%.*s", (int)n, v);
			} else {
				const char *slash = strrchr(a->path, '/');
				snprintf(url, sizeof url, "%.*s%.*s", (int)(slash - a->path + 1),
					 a->path, (int)n, v);
			}
			if (!find(url))
				fail_msg("%s links to %s, which is not baked", a->path, url);
			checked++;
		}
		free(text);
	}
	assert_true(checked > 10);
}

static void test_gzip_intact(void **state)
{
	(void)state;
	int with_gz = 0;
	for (size_t i = 0; i < assets_count(); i++) {
		const struct asset *a = assets_at(i);
		if (!a->gz)
			continue;
		with_gz++;
		uint8_t *out = malloc(a->len + 1);
		uLongf n = a->len + 1;
		z_stream z;
		memset(&z, 0, sizeof z);
		assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
		z.next_in = (uint8_t *)a->gz;
		z.avail_in = (uInt)a->gz_len;
		z.next_out = out;
		z.avail_out = (uInt)n;
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		assert_int_equal(z.total_out, a->len);
		assert_memory_equal(out, a->data, a->len);
		inflateEnd(&z);
		free(out);
	}
	/* every page and the stylesheet are big enough to compress */
	assert_non_null(find("/index.html")->gz);
	assert_non_null(find("/style.css")->gz);
	assert_true(with_gz >= 4);
	printf("docsite: %zu files, %zu bytes, %zu bytes of gzip variants\n", assets_count(),
	       assets_total_bytes(), assets_total_gz_bytes());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pages_present),
		cmocka_unit_test(test_links_resolve),
		cmocka_unit_test(test_gzip_intact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
