/*
 * fuzz_fmt.c - libFuzzer target for the formatter (libc/fmt.c).
 *
 * Input: format text, then a NUL byte, then bytes that become argument
 * values (read 8 at a time, cycling; zeros when there are none). The text
 * is cut into pieces of literal text ending in one conversion, parsed here
 * with the grammar fmt.h documents, and each piece is formatted with
 * exactly the arguments that conversion takes, of the right types: a
 * conversion is never handed an argument it does not expect, so every
 * report is fmt.c's. Checks, per piece:
 *  - kvsnprintf into a buffer of the exact size, into a small buffer, into
 *    NULL/0, and kvformat's count all agree on the length; the small
 *    output is the big one cut short and NUL-terminated;
 *  - for the conversions and flags whose meaning C defines the same way,
 *    the output equals the C library's snprintf.
 * Widths and precisions are kept below FUZZ_FMT_WIDTH_MAX so a run stays
 * fast; a larger number in the text rejects the input.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>
#include <sys/types.h>

#include <kiln/fmt.h>

#define FUZZ_FMT_WIDTH_MAX 4096

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fuzz_fail(__LINE__, #cond);                             \
		}                                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fuzz_piece = "";

/* Reports through the sanitizers' channel, which libFuzzer keeps open
 * when it closes the target's stderr, then aborts. */
static void fuzz_fail(int line, const char *what)
{
	char msg[512];
	snprintf(msg, sizeof msg, "fuzz_fmt.c:%d: check failed: %s (piece \"%.200s\")",
		 line, what, fuzz_piece);
	__sanitizer_report_error_summary(msg);
	abort();
}

/* What a conversion consumes after its '*' ints. */
enum fuzz_arg { ARG_NONE, ARG_INT, ARG_LONG, ARG_LLONG, ARG_SIZE, ARG_PTR, ARG_STR };

struct fuzz_conv {
	int stars;          /* '*' width and/or precision: 0..2 ints first */
	enum fuzz_arg arg;
	bool libc_same;     /* C defines it and fmt.h promises the same */
};

struct fuzz_vals {
	const uint8_t *p;
	size_t n, pos;
};

static uint64_t fuzz_next(struct fuzz_vals *v)
{
	uint64_t x = 0;
	for (int i = 0; i < 8 && v->n; i++) {
		x |= (uint64_t)v->p[v->pos % v->n] << (8 * i);
		v->pos++;
	}
	return x;
}

static const char *const fuzz_strings[] = {
	"", "kiln", "a much longer string with spaces", "%d%s%n", "\x7f\x80\xff", NULL,
};

/*
 * Parses the conversion at f (just after '%') the way fmt.h describes it;
 * returns the byte after it, or NULL to reject (number too large). *c
 * tells what it takes.
 */
static const char *fuzz_conv_parse(const char *f, struct fuzz_conv *c)
{
	bool zero = false, alt = false, sign = false, has_prec = false;
	int len = 0; /* 0 none, 1 hh/h, 2 l, 3 ll, 4 z/t/j */
	long num;

	c->stars = 0;
	c->arg = ARG_NONE;
	c->libc_same = false;
	for (;; f++) {
		if (*f == '0')
			zero = true;
		else if (*f == '#')
			alt = true;
		else if (*f == '+' || *f == ' ')
			sign = true;
		else if (*f != '-')
			break;
	}
	if (*f == '*') {
		c->stars++;
		f++;
	} else {
		for (num = 0; *f >= '0' && *f <= '9'; f++)
			if ((num = num * 10 + (*f - '0')) > FUZZ_FMT_WIDTH_MAX)
				return NULL;
	}
	if (*f == '.') {
		has_prec = true;
		f++;
		if (*f == '*') {
			c->stars++;
			f++;
		} else {
			for (num = 0; *f >= '0' && *f <= '9'; f++)
				if ((num = num * 10 + (*f - '0')) > FUZZ_FMT_WIDTH_MAX)
					return NULL;
		}
	}
	if (*f == 'h') {
		len = 1;
		if (*++f == 'h')
			f++;
	} else if (*f == 'l') {
		len = 2;
		if (*++f == 'l') {
			len = 3;
			f++;
		}
	} else if (*f == 'z' || *f == 't' || *f == 'j') {
		len = 4;
		f++;
	}
	switch (*f) {
	case 'd': case 'i': case 'u': case 'x': case 'X': case 'o':
		c->arg = len == 2 ? ARG_LONG : len == 3 ? ARG_LLONG :
			 len == 4 ? ARG_SIZE : ARG_INT;
		c->libc_same = !(alt && (*f == 'd' || *f == 'i' || *f == 'u'));
		break;
	case 'c':
		c->arg = ARG_INT;
		c->libc_same = !len && !zero && !alt && !sign && !has_prec;
		break;
	case 's':
		c->arg = ARG_STR;
		c->libc_same = !len && !zero && !alt && !sign;
		break;
	case 'p':
		c->arg = ARG_PTR;   /* "(nil)" and flags differ in glibc */
		break;
	case '%':
		c->libc_same = !c->stars && f[-1] == '%';
		break;
	case 0:
		return f;       /* an unfinished spec: printed as it is */
	default:
		break;          /* unknown: printed as it is */
	}
	return f + 1;
}

typedef int (*fuzz_printf)(char *buf, size_t size, const char *f, ...);

static int fuzz_vsn(char *buf, size_t size, const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int n = kvsnprintf(buf, size, f, ap);
	va_end(ap);
	return n;
}

static void fuzz_count_sink(void *ctx, const char *s, size_t n)
{
	(void)s;
	*(size_t *)ctx += n;
}

static int fuzz_count(char *buf, size_t size, const char *f, ...)
{
	size_t seen = 0;
	va_list ap;
	(void)buf;
	(void)size;
	va_start(ap, f);
	size_t n = kvformat(fuzz_count_sink, &seen, f, ap);
	va_end(ap);
	if (n != seen)
		return -1;
	return n > INT32_MAX ? -1 : (int)n;
}

struct fuzz_args {
	int star[2];
	int i;
	long l;
	long long ll;
	ssize_t z;
	void *p;
	const char *s;
};

/* Calls fn with exactly the arguments c says the piece takes. */
static int fuzz_call(fuzz_printf fn, char *buf, size_t size, const char *f,
		     const struct fuzz_conv *c, const struct fuzz_args *a)
{
#define FUZZ_WITH(...)                                                     \
	(c->stars == 0 ? fn(buf, size, f, ##__VA_ARGS__)                   \
	 : c->stars == 1 ? fn(buf, size, f, a->star[0], ##__VA_ARGS__)     \
	 : fn(buf, size, f, a->star[0], a->star[1], ##__VA_ARGS__))
	switch (c->arg) {
	case ARG_NONE: return FUZZ_WITH();
	case ARG_INT: return FUZZ_WITH(a->i);
	case ARG_LONG: return FUZZ_WITH(a->l);
	case ARG_LLONG: return FUZZ_WITH(a->ll);
	case ARG_SIZE: return FUZZ_WITH(a->z);
	case ARG_PTR: return FUZZ_WITH(a->p);
	case ARG_STR: return FUZZ_WITH(a->s);
	}
#undef FUZZ_WITH
	return -1;
}

static int fuzz_star(uint64_t x)
{
	/* Small widths of both signs, so padding stays cheap. */
	return (int)(x % (2 * FUZZ_FMT_WIDTH_MAX + 1)) - FUZZ_FMT_WIDTH_MAX;
}

static void fuzz_one(const char *piece, const struct fuzz_conv *c,
		     struct fuzz_vals *vals, size_t small_size)
{
	struct fuzz_args a;
	uint64_t x = fuzz_next(vals);

	a.star[0] = fuzz_star(fuzz_next(vals));
	a.star[1] = fuzz_star(fuzz_next(vals));
	a.i = (int)x;
	a.l = (long)x;
	a.ll = (long long)x;
	a.z = (ssize_t)x;
	a.p = (void *)(uintptr_t)x;
	a.s = fuzz_strings[x % (sizeof fuzz_strings / sizeof *fuzz_strings)];
	fuzz_piece = piece;

	int n = fuzz_call(fuzz_vsn, NULL, 0, piece, c, &a);
	CHECK(n >= 0);
	CHECK(fuzz_call(fuzz_count, NULL, 0, piece, c, &a) == n);

	char *big = malloc((size_t)n + 1);
	char *small = malloc(small_size);
	CHECK(big && small);
	memset(big, 0x55, (size_t)n + 1);
	CHECK(fuzz_call(fuzz_vsn, big, (size_t)n + 1, piece, c, &a) == n);
	CHECK(big[n] == 0);
	CHECK(fuzz_call(fuzz_vsn, small, small_size, piece, c, &a) == n);
	size_t keep = (size_t)n < small_size - 1 ? (size_t)n : small_size - 1;
	CHECK(small[keep] == 0);
	CHECK(memcmp(small, big, keep) == 0);

	bool to_libc = c->libc_same && !(c->arg == ARG_STR && !a.s);
	if (to_libc) {
		char *ref = malloc((size_t)n + 1);
		CHECK(ref);
		int m = fuzz_call(snprintf, ref, (size_t)n + 1, piece, c, &a);
		CHECK(m == n);
		CHECK(memcmp(ref, big, (size_t)n + 1) == 0);
		free(ref);
	}
	free(big);
	free(small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t flen = nul ? (size_t)(nul - data) : size;
	struct fuzz_vals vals = { nul ? nul + 1 : NULL, nul ? size - flen - 1 : 0, 0 };
	char *text = malloc(flen + 1);
	char *piece = malloc(flen + 1);
	if (!text || !piece)
		goto out;
	memcpy(text, data, flen);
	text[flen] = 0;

	const char *p = text;
	while (*p) {
		const char *pct = strchr(p, '%');
		struct fuzz_conv c = { 0, ARG_NONE, true };
		const char *next;
		if (!pct) {
			next = p + strlen(p);  /* literal text only */
		} else {
			next = fuzz_conv_parse(pct + 1, &c);
			if (!next)
				goto out;
		}
		size_t len = (size_t)(next - p);
		memcpy(piece, p, len);
		piece[len] = 0;
		fuzz_one(piece, &c, &vals, 1 + (size_t)(len % 13));
		p = next;
	}
out:
	free(text);
	free(piece);
	return 0;
}
