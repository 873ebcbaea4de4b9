/*
 * fmt.c - the printf-style formatter behind kprintf, klog and ksnprintf.
 *
 * Interface: include/kiln/fmt.h. Output goes to a sink callback in runs,
 * so the console can write straight to the UART and ksnprintf into a
 * buffer; nothing is allocated. Numbers are converted right to left into
 * a small local buffer. Portable: the hosted build compiles it unchanged.
 */
#include <stdbool.h>
#include <stdint.h>

#include <kiln/fmt.h>

/* Widths and precisions are capped: no console line needs more, and the
 * cap keeps every count far from overflow. */
#define FMT_MAX_WIDTH 100000

struct spec {
	bool left, zero, plus, space, alt;
	int width, prec;   /* prec < 0: none */
	int len;           /* 0 int, 1 long, 2 long long, -1 short, -2 char, 3 size/ptrdiff/intmax */
};

struct out {
	fmt_sink sink;
	void *ctx;
	size_t count;
};

static void emit(struct out *o, const char *s, size_t n)
{
	if (n) {
		o->sink(o->ctx, s, n);
		o->count += n;
	}
}

static void pad(struct out *o, char c, int n)
{
	char buf[16];
	for (int i = 0; i < (int)sizeof buf; i++)
		buf[i] = c;
	while (n > 0) {
		int k = n < (int)sizeof buf ? n : (int)sizeof buf;
		emit(o, buf, (size_t)k);
		n -= k;
	}
}

static void put_str(struct out *o, const struct spec *sp, const char *s)
{
	size_t n = 0;
	if (!s)
		s = "(null)";
	while (s[n] && (sp->prec < 0 || n < (size_t)sp->prec))
		n++;
	int padn = sp->width - (int)n;
	if (!sp->left)
		pad(o, ' ', padn);
	emit(o, s, n);
	if (sp->left)
		pad(o, ' ', padn);
}

static void put_num(struct out *o, const struct spec *sp, uint64_t v, bool neg,
		    unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	bool is_zero = v == 0;
	char buf[24];
	int n = 0;

	if (v == 0 && sp->prec == 0)
		n = 0;
	else
		do {
			buf[sizeof buf - 1 - n++] = digits[v % base];
			v /= base;
		} while (v);

	char prefix[3];
	int np = 0;
	if (neg)
		prefix[np++] = '-';
	else if (sp->plus)
		prefix[np++] = '+';
	else if (sp->space)
		prefix[np++] = ' ';
	if (sp->alt && base == 16 && !is_zero) {
		prefix[np++] = '0';
		prefix[np++] = upper ? 'X' : 'x';
	} else if (sp->alt && base == 8 && (n == 0 || buf[sizeof buf - n] != '0')) {
		buf[sizeof buf - 1 - n++] = '0';
	}

	int zeros = sp->prec > n ? sp->prec - n : 0;
	int total = np + zeros + n;
	if (sp->zero && !sp->left && sp->prec < 0 && sp->width > total) {
		zeros += sp->width - total;
		total = sp->width;
	}
	if (!sp->left)
		pad(o, ' ', sp->width - total);
	emit(o, prefix, (size_t)np);
	pad(o, '0', zeros);
	emit(o, buf + sizeof buf - n, (size_t)n);
	if (sp->left)
		pad(o, ' ', sp->width - total);
}

size_t kvformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
	struct out o = { sink, ctx, 0 };
	va_list args;
	va_copy(args, ap);

	while (*fmt) {
		const char *run = fmt;
		while (*fmt && *fmt != '%')
			fmt++;
		emit(&o, run, (size_t)(fmt - run));
		if (!*fmt)
			break;
		const char *conv_start = fmt++;

		struct spec sp = { .prec = -1 };
		for (;; fmt++) {
			if (*fmt == '-') sp.left = true;
			else if (*fmt == '0') sp.zero = true;
			else if (*fmt == '+') sp.plus = true;
			else if (*fmt == ' ') sp.space = true;
			else if (*fmt == '#') sp.alt = true;
			else break;
		}
		if (*fmt == '*') {
			int w = va_arg(args, int);
			if (w < 0) {
				sp.left = true;
				w = w < -FMT_MAX_WIDTH ? FMT_MAX_WIDTH : -w;
			}
			sp.width = w > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : w;
			fmt++;
		} else {
			while (*fmt >= '0' && *fmt <= '9' && sp.width < FMT_MAX_WIDTH)
				sp.width = sp.width * 10 + (*fmt++ - '0');
		}
		if (*fmt == '.') {
			fmt++;
			sp.prec = 0;
			if (*fmt == '*') {
				int p = va_arg(args, int);
				sp.prec = p > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : p;   /* < 0: none */
				if (sp.prec < 0)
					sp.prec = -1;
				fmt++;
			} else {
				while (*fmt >= '0' && *fmt <= '9' && sp.prec < FMT_MAX_WIDTH)
					sp.prec = sp.prec * 10 + (*fmt++ - '0');
			}
		}
		if (*fmt == 'h') {
			sp.len = -1;
			if (*++fmt == 'h') {
				sp.len = -2;
				fmt++;
			}
		} else if (*fmt == 'l') {
			sp.len = 1;
			if (*++fmt == 'l') {
				sp.len = 2;
				fmt++;
			}
		} else if (*fmt == 'z' || *fmt == 't' || *fmt == 'j') {
			sp.len = 3;
			fmt++;
		}

		char c = *fmt;
		if (!c) {
			emit(&o, conv_start, (size_t)(fmt - conv_start));
			break;
		}
		fmt++;
		switch (c) {
		case 'd':
		case 'i': {
			int64_t v;
			switch (sp.len) {
			case -2: v = (signed char)va_arg(args, int); break;
			case -1: v = (short)va_arg(args, int); break;
			case 1: v = va_arg(args, long); break;
			case 2: v = va_arg(args, long long); break;
			case 3: v = va_arg(args, intptr_t); break;
			default: v = va_arg(args, int); break;
			}
			uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
			put_num(&o, &sp, mag, v < 0, 10, false);
			break;
		}
		case 'u':
		case 'x':
		case 'X':
		case 'o': {
			uint64_t v;
			switch (sp.len) {
			case -2: v = (unsigned char)va_arg(args, unsigned); break;
			case -1: v = (unsigned short)va_arg(args, unsigned); break;
			case 1: v = va_arg(args, unsigned long); break;
			case 2: v = va_arg(args, unsigned long long); break;
			case 3: v = va_arg(args, uintptr_t); break;
			default: v = va_arg(args, unsigned); break;
			}
			unsigned base = c == 'u' ? 10 : c == 'o' ? 8 : 16;
			sp.plus = sp.space = false; /* signed conversions only (C11 7.21.6.1) */
			put_num(&o, &sp, v, false, base, c == 'X');
			break;
		}
		case 'p': {
			uintptr_t v = (uintptr_t)va_arg(args, void *);
			sp.alt = true;
			put_num(&o, &sp, v, false, 16, false);
			break;
		}
		case 'c': {
			char ch = (char)va_arg(args, int);
			struct spec s2 = sp;
			s2.prec = 1;
			char tmp[2] = { ch, 0 };
			if (ch == 0) {
				if (!sp.left) pad(&o, ' ', sp.width - 1);
				emit(&o, tmp, 1);
				if (sp.left) pad(&o, ' ', sp.width - 1);
			} else {
				put_str(&o, &s2, tmp);
			}
			break;
		}
		case 's':
			put_str(&o, &sp, va_arg(args, const char *));
			break;
		case '%':
			emit(&o, "%", 1);
			break;
		default:
			emit(&o, conv_start, (size_t)(fmt - conv_start));
			break;
		}
	}
	va_end(args);
	return o.count;
}

struct bufsink {
	char *buf;
	size_t size, pos;
};

static void buf_sink(void *ctx, const char *s, size_t n)
{
	struct bufsink *b = ctx;
	for (size_t i = 0; i < n; i++) {
		if (b->pos + 1 < b->size)
			b->buf[b->pos] = s[i];
		b->pos++;
	}
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct bufsink b = { buf, size, 0 };
	size_t n = kvformat(buf_sink, &b, fmt, ap);
	if (size)
		buf[b.pos < size ? b.pos : size - 1] = 0;
	return n > INT32_MAX ? INT32_MAX : (int)n;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
