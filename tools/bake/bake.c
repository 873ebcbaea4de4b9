/*
 * bake.c - turns directory trees into a table of files linked into a Kiln
 * image (host tool; the run-time side is proto/assets/assets.c).
 *
 *   bake [--pic] [--name NAME] -o OUT.S [-d OUT.d] ROOT...
 *
 * Every regular file under the ROOTs (merged; a path found twice is an
 * error; names starting with '.' are skipped) becomes one asset: URL path
 * "/" + its path under its root, MIME type by extension, a strong ETag
 * (the first 16 hex digits of its SHA-256, BearSSL), and a gzip variant
 * (zlib, level 9, no name or time in the header, so builds are
 * reproducible) kept only when it saves more than 1/32 of the size.
 * ".../index.html" is also found as ".../" and "...".
 *
 * Output: OUT.S, assembly holding the table (struct asset_table in
 * proto/assets/assets_table.h) as symbol `kiln_assets`, and OUT.bin, the
 * file bytes and gzip variants, which OUT.S pulls in with one .incbin
 * (fast to assemble however large the site). OUT.list is a readable
 * manifest. With -d, a make depfile naming every file and directory read,
 * so adding, changing or removing a file rebakes. --pic puts the pointer
 * tables in .data.rel.ro (for position-independent hosted programs); the
 * default is .rodata, which the kernel maps read-only.
 *
 * Exit status 0, or 1 with a message on stderr; no output is left behind
 * on failure.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <bearssl_hash.h>
#include <zlib.h>

#include "assets_table.h"

struct file {
	char *url;          /* "/a/b.html" */
	char *src;          /* path on the host */
	const char *mime;
	unsigned char *data, *gz;
	size_t len, gz_len;
	char etag[ASSET_ETAG_LEN + 1], gz_etag[ASSET_ETAG_LEN + 1];
	size_t off, gz_off; /* in OUT.bin */
};

struct key {
	char *url;
	size_t file;
	int alias;          /* a directory name for file's index.html */
};

static struct file *files;
static size_t nfiles, capfiles;
static char **dirs;     /* every directory read, for the depfile */
static size_t ndirs;
static const char *out_s;

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("bake: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

static char *xstrcat3(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = xmalloc(la + lb + lc + 1);
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

/* MIME types by extension (case-insensitive). Text types say UTF-8. */
static const char *mime_of(const char *url)
{
	static const char *const map[][2] = {
		{ "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
		{ "css", "text/css; charset=utf-8" },   { "js", "text/javascript; charset=utf-8" },
		{ "mjs", "text/javascript; charset=utf-8" },
		{ "json", "application/json" },         { "svg", "image/svg+xml" },
		{ "png", "image/png" },                 { "jpg", "image/jpeg" },
		{ "jpeg", "image/jpeg" },               { "gif", "image/gif" },
		{ "webp", "image/webp" },               { "ico", "image/x-icon" },
		{ "txt", "text/plain; charset=utf-8" }, { "md", "text/markdown; charset=utf-8" },
		{ "woff2", "font/woff2" },              { "wasm", "application/wasm" },
		{ "xml", "application/xml" },           { "pdf", "application/pdf" },
	};
	const char *base = strrchr(url, '/');
	const char *dot = strrchr(base ? base : url, '.');
	if (dot && dot[1]) {
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
			const char *a = dot + 1, *b = map[i][0];
			while (*a && *b && (*a | 0x20) == *b)
				a++, b++;
			if (!*a && !*b)
				return map[i][1];
		}
	}
	return "application/octet-stream";
}

/* A URL path the lookup can match exactly: printable, nothing a request
 * could not name unescaped-and-unambiguous, within ASSETS_PATH_MAX. */
static void check_url(const char *url, const char *src)
{
	if (strlen(url) > ASSETS_PATH_MAX)
		die("%s: path longer than %d bytes", src, ASSETS_PATH_MAX);
	for (const unsigned char *p = (const unsigned char *)url; *p; p++)
		if (*p < 0x20 || *p == 0x7f || strchr("\\%?#\"", *p))
			die("%s: file name has a byte the URL lookup cannot match (0x%02x)", src,
			    *p);
}

static void etag_of(const unsigned char *d, size_t n, char out[ASSET_ETAG_LEN + 1])
{
	br_sha256_context c;
	unsigned char h[32];
	br_sha256_init(&c);
	br_sha256_update(&c, d, n);
	br_sha256_out(&c, h);
	out[0] = '"';
	for (int i = 0; i < 8; i++)
		sprintf(out + 1 + 2 * i, "%02x", h[i]);
	out[17] = '"';
	out[18] = '\0';
}

static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, r;
	unsigned char *b = xmalloc(cap);
	if (!f)
		die("%s: %s", path, strerror(errno));
	while ((r = fread(b + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			b = realloc(b, cap *= 2);
			if (!b)
				die("out of memory");
		}
	}
	if (ferror(f))
		die("%s: read error", path);
	fclose(f);
	*len = n;
	return b;
}

static void gzip_of(struct file *f)
{
	z_stream z;
	uLong cap;
	memset(&z, 0, sizeof z);
	/* windowBits 15 + 16: a gzip wrapper; zlib writes mtime 0, no name. */
	if (deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		die("zlib: deflateInit2 failed");
	cap = deflateBound(&z, (uLong)f->len) + 32;
	f->gz = xmalloc(cap);
	z.next_in = f->data;
	z.avail_in = (uInt)f->len;
	z.next_out = f->gz;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		die("%s: zlib: deflate failed", f->src);
	f->gz_len = z.total_out;
	deflateEnd(&z);
	if (f->gz_len + f->len / 32 >= f->len) {
		free(f->gz);
		f->gz = NULL;
		f->gz_len = 0;
		return;
	}
	etag_of(f->gz, f->gz_len, f->gz_etag);
}

static void add_file(const char *src, const char *url)
{
	struct file *f;
	if (nfiles == capfiles) {
		capfiles = capfiles ? capfiles * 2 : 64;
		files = realloc(files, capfiles * sizeof *files);
		if (!files)
			die("out of memory");
	}
	f = &files[nfiles++];
	memset(f, 0, sizeof *f);
	f->url = xstrcat3(url, "", "");
	f->src = xstrcat3(src, "", "");
	check_url(f->url, src);
	f->mime = mime_of(f->url);
	f->data = read_all(src, &f->len);
	if (f->len > (size_t)1 << 30)
		die("%s: larger than 1 GiB; bake is for web assets", src);
	etag_of(f->data, f->len, f->etag);
	gzip_of(f);
}

/* Walks dir (host path) whose URL prefix is url ("" for a root). */
static void walk(const char *dir, const char *url)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	if (!d)
		die("%s: %s", dir, strerror(errno));
	dirs = realloc(dirs, (ndirs + 1) * sizeof *dirs);
	if (!dirs)
		die("out of memory");
	dirs[ndirs++] = xstrcat3(dir, "", "");
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		if (e->d_name[0] == '.')
			continue; /* ".", "..", and hidden files (editor droppings) */
		char *src = xstrcat3(dir, "/", e->d_name);
		char *u = xstrcat3(url, "/", e->d_name);
		if (stat(src, &st) != 0)
			die("%s: %s", src, strerror(errno));
		if (S_ISDIR(st.st_mode))
			walk(src, u);
		else if (S_ISREG(st.st_mode))
			add_file(src, u);
		free(src);
		free(u);
	}
	closedir(d);
}

static int by_url(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->url, ((const struct file *)b)->url);
}

static int key_by_url(const void *a, const void *b)
{
	return strcmp(((const struct key *)a)->url, ((const struct key *)b)->url);
}

/* Every name a file is found by; index.html also names its directory. */
static struct key *make_keys(size_t *nkeys)
{
	struct key *k = xmalloc(3 * nfiles * sizeof *k);
	size_t n = 0;
	for (size_t i = 0; i < nfiles; i++) {
		const char *u = files[i].url;
		size_t len = strlen(u);
		k[n++] = (struct key){ files[i].url, i, 0 };
		if (len >= 11 && strcmp(u + len - 11, "/index.html") == 0) {
			char *dir = xmalloc(len);
			memcpy(dir, u, len - 10);
			dir[len - 10] = '\0'; /* "/docs/" or "/" */
			k[n++] = (struct key){ dir, i, 1 };
			if (len - 10 > 1) {
				char *bare = xstrcat3(dir, "", "");
				bare[len - 11] = '\0'; /* "/docs" */
				k[n++] = (struct key){ bare, i, 1 };
			}
		}
	}
	qsort(k, n, sizeof *k, key_by_url);
	for (size_t i = 1; i < n; i++)
		if (strcmp(k[i - 1].url, k[i].url) == 0)
			die("%s is baked twice (%s and %s)", k[i].url, files[k[i - 1].file].src,
			    files[k[i].file].src);
	*nkeys = n;
	return k;
}

/* Writes s as the body of an assembler string, escaping what is not
 * plain printable ASCII. */
static void put_str(FILE *o, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
			fprintf(o, "\\%03o", *p);
		else
			fputc(*p, o);
	}
}

static void write_blob(const char *path, size_t *total)
{
	static const unsigned char zero[16];
	FILE *o = fopen(path, "wb");
	size_t off = 0;
	if (!o)
		die("%s: %s", path, strerror(errno));
	for (size_t i = 0; i < nfiles; i++) {
		struct file *f = &files[i];
		f->off = off;
		fwrite(f->data, 1, f->len, o);
		off += f->len;
		fwrite(zero, 1, (16 - off % 16) % 16, o);
		off += (16 - off % 16) % 16;
		if (f->gz) {
			f->gz_off = off;
			fwrite(f->gz, 1, f->gz_len, o);
			off += f->gz_len;
			fwrite(zero, 1, (16 - off % 16) % 16, o);
			off += (16 - off % 16) % 16;
		}
	}
	if (fclose(o) != 0)
		die("%s: write error", path);
	*total = off;
}

static void write_asm(const char *path, const char *blob, const char *name, int pic,
		      const struct key *keys, size_t nkeys)
{
	const char *tsec = pic ? ".data.rel.ro.kiln_assets,\"aw\"" : ".rodata.kiln_assets,\"a\"";
	uint64_t nslots = 4, max_probe = 0, total = 0, total_gz = 0;
	uint32_t *slots;
	FILE *o = fopen(path, "w");
	if (!o)
		die("%s: %s", path, strerror(errno));

	while (nslots < 2 * nkeys)
		nslots *= 2;
	slots = calloc(nslots, sizeof *slots);
	if (!slots)
		die("out of memory");
	for (size_t i = 0; i < nkeys; i++) {
		uint64_t s = assets_hash(keys[i].url, strlen(keys[i].url)) & (nslots - 1), p = 0;
		while (slots[s]) {
			s = (s + 1) & (nslots - 1);
			p++;
		}
		slots[s] = (uint32_t)i + 1;
		if (p > max_probe)
			max_probe = p;
	}

	fprintf(o, "/* %s: baked assets of %s, generated by tools/bake. Do not edit. */\n",
		path, name);
	fprintf(o, "\t.section .rodata.kiln_assets.blob,\"a\"\n\t.balign 16\n.Lblob:\n");
	fprintf(o, "\t.incbin \"");
	put_str(o, blob);
	fprintf(o, "\"\n\n\t.section .rodata.kiln_assets.str,\"a\"\n");
	for (size_t i = 0; i < nfiles; i++) {
		struct file *f = &files[i];
		fprintf(o, ".Lpath%zu:\t.asciz \"", i);
		put_str(o, f->url);
		fprintf(o, "\"\n.Lmime%zu:\t.asciz \"%s\"\n", i, f->mime);
		fprintf(o, ".Letag%zu:\t.asciz \"", i);
		put_str(o, f->etag);
		fprintf(o, "\"\n");
		if (f->gz) {
			fprintf(o, ".Lgzetag%zu:\t.asciz \"", i);
			put_str(o, f->gz_etag);
			fprintf(o, "\"\n");
		}
	}
	for (size_t i = 0; i < nkeys; i++) {
		if (!keys[i].alias)
			continue;
		fprintf(o, ".Lalias%zu:\t.asciz \"", i);
		put_str(o, keys[i].url);
		fprintf(o, "\"\n");
	}

	fprintf(o, "\n\t.section %s\n\t.balign 8\n.Lassets:\n", tsec);
	for (size_t i = 0; i < nfiles; i++) {
		struct file *f = &files[i];
		fprintf(o, "\t.quad .Lpath%zu, .Lmime%zu, .Letag%zu, ", i, i, i);
		if (f->gz)
			fprintf(o, ".Lgzetag%zu, .Lblob+%zu, .Lblob+%zu\n", i, f->off, f->gz_off);
		else
			fprintf(o, "0, .Lblob+%zu, 0\n", f->off);
		fprintf(o, "\t.quad %zu, %zu\n\t.long %zu, %zu\n", f->len, f->gz_len,
			strlen(f->url), strlen(f->mime));
		total += f->len;
		total_gz += f->gz_len;
	}
	fprintf(o, ".Lkeys:\n");
	for (size_t i = 0; i < nkeys; i++) {
		if (keys[i].alias)
			fprintf(o, "\t.quad .Lalias%zu\n", i);
		else
			fprintf(o, "\t.quad .Lpath%zu\n", keys[i].file);
		fprintf(o, "\t.long %zu, %zu\n", strlen(keys[i].url), keys[i].file);
	}
	fprintf(o, "\n\t.section .rodata.kiln_assets.slots,\"a\"\n\t.balign 4\n.Lslots:\n");
	for (uint64_t s = 0; s < nslots; s++)
		fprintf(o, "%s%u", s % 16 == 0 ? (s ? "\n\t.long " : "\t.long ") : ", ", slots[s]);
	fprintf(o, "\n\n\t.section %s\n\t.balign 8\n\t.globl kiln_assets\n", tsec);
	fprintf(o, "\t.type kiln_assets, %%object\n\t.size kiln_assets, 72\nkiln_assets:\n");
	fprintf(o, "\t.quad .Lassets, .Lkeys, .Lslots\n");
	fprintf(o, "\t.quad %zu, %zu, %llu, %llu\n", nfiles, nkeys, (unsigned long long)nslots,
		(unsigned long long)max_probe);
	fprintf(o, "\t.quad %llu, %llu\n", (unsigned long long)total,
		(unsigned long long)total_gz);
	fprintf(o, "\n\t.section .note.GNU-stack,\"\",%%progbits\n");
	if (fclose(o) != 0)
		die("%s: write error", path);
	free(slots);
}

static void write_list(const char *path)
{
	FILE *o = fopen(path, "w");
	if (!o)
		die("%s: %s", path, strerror(errno));
	fprintf(o, "# path\tbytes\tgzip\tetag\tmime\n");
	for (size_t i = 0; i < nfiles; i++)
		fprintf(o, "%s\t%zu\t%zu\t%s\t%s\n", files[i].url, files[i].len, files[i].gz_len,
			files[i].etag, files[i].mime);
	if (fclose(o) != 0)
		die("%s: write error", path);
}

/* Writes a file name as make reads it in a rule. */
static void put_make(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == '$')
			fputc('$', o);
		else if (*s == ' ' || *s == '\t' || *s == '#' || *s == ':' || *s == '\\')
			fputc('\\', o);
		fputc(*s, o);
	}
}

static void write_dep(const char *path, const char *target)
{
	FILE *o = fopen(path, "w");
	if (!o)
		die("%s: %s", path, strerror(errno));
	put_make(o, target);
	fputc(':', o);
	for (size_t i = 0; i < ndirs + nfiles; i++) {
		fputs(" \\\n ", o);
		put_make(o, i < ndirs ? dirs[i] : files[i - ndirs].src);
	}
	fputc('\n', o);
	for (size_t i = 0; i < ndirs + nfiles; i++) {
		put_make(o, i < ndirs ? dirs[i] : files[i - ndirs].src);
		fputs(":\n", o);
	}
	if (fclose(o) != 0)
		die("%s: write error", path);
}

static void cleanup(void)
{
	/* on failure, leave nothing half-written for make to trust */
	if (out_s)
		remove(out_s);
}

int main(int argc, char **argv)
{
	const char *dep = NULL, *name = "image";
	int pic = 0, i;
	size_t nkeys, blob_len;
	struct key *keys;
	char *base, *blob, *list;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--pic") == 0)
			pic = 1;
		else if (strcmp(argv[i], "-o") == 0 && i + 1 < argc)
			out_s = argv[++i];
		else if (strcmp(argv[i], "-d") == 0 && i + 1 < argc)
			dep = argv[++i];
		else if (strcmp(argv[i], "--name") == 0 && i + 1 < argc)
			name = argv[++i];
		else
			die("usage: bake [--pic] [--name NAME] -o OUT.S [-d OUT.d] ROOT...");
	}
	if (!out_s || i == argc)
		die("usage: bake [--pic] [--name NAME] -o OUT.S [-d OUT.d] ROOT...");
	size_t ol = strlen(out_s);
	if (ol < 3 || strcmp(out_s + ol - 2, ".S") != 0)
		die("%s: the output must end in .S", out_s);
	base = xstrcat3(out_s, "", "");
	base[ol - 2] = '\0';
	blob = xstrcat3(base, ".bin", "");
	list = xstrcat3(base, ".list", "");
	atexit(cleanup);

	for (; i < argc; i++) {
		size_t rl = strlen(argv[i]);
		while (rl > 1 && argv[i][rl - 1] == '/')
			argv[i][--rl] = '\0';
		walk(argv[i], "");
	}
	qsort(files, nfiles, sizeof *files, by_url);
	keys = make_keys(&nkeys);
	write_blob(blob, &blob_len);
	write_asm(out_s, blob, name, pic, keys, nkeys);
	write_list(list);
	if (dep)
		write_dep(dep, out_s);

	size_t total = 0, total_gz = 0, gz_of = 0;
	for (size_t f = 0; f < nfiles; f++) {
		total += files[f].len;
		total_gz += files[f].gz_len;
		if (files[f].gz)
			gz_of += files[f].len;
	}
	printf("  BAKE    %s: %zu files, %zu bytes; gzip variants %zu bytes (of %zu); "
	       "blob %zu bytes\n", name, nfiles, total, total_gz, gz_of, blob_len);
	out_s = NULL; /* success: keep the output */
	return 0;
}
