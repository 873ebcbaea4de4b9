/*
 * fuzz_cmdline.c - libFuzzer target for kernel/cmdline.c.
 *
 * The input is a command line. It is parsed against a table holding every
 * option type (storage allocated at its exact size, so ASan sees any write
 * past it), stored with cmdline_set() and searched with cmdline_lookup().
 * The raw bytes also go to parse_u32/parse_ip4 as an unterminated (s, end)
 * slice, checked against the C library or a round trip. Any mismatch
 * aborts, which libFuzzer reports as a crash.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>

#include <kiln/cmdline.h>
#include <kiln/err.h>
#include <kiln/log.h>

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond)) {                                                  \
			fuzz_fail(__LINE__, #cond);                             \
		}                                                               \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reports through the sanitizers' channel, which libFuzzer keeps open
 * when it closes the target's stderr, then aborts. */
static void fuzz_fail(int line, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, "fuzz_cmdline.c:%d: check failed: %s", line, what);
	__sanitizer_report_error_summary(msg);
	abort();
}

static const char *const fuzz_ignore[] = { "virtio_mmio.device=", "console",
					   "", NULL };

static bool fuzz_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static size_t fuzz_count_words(const char *s)
{
	size_t n = 0;
	bool in = false;
	for (; *s; s++) {
		if (fuzz_is_space(*s))
			in = false;
		else if (!in) {
			in = true;
			n++;
		}
	}
	return n;
}

/* parse_u32 against strtoull on the same digits. */
static void fuzz_u32(const uint8_t *data, size_t size)
{
	char *exact = malloc(size ? size : 1);
	char *z = malloc(size + 1);
	uint32_t v = 0xdeadbeef;
	CHECK(exact && z);
	memcpy(exact, data, size);
	memcpy(z, data, size);
	z[size] = 0;

	int err = parse_u32(exact, exact + size, &v);
	bool hex = size >= 2 && z[0] == '0' && (z[1] == 'x' || z[1] == 'X');
	const char *digits = hex ? z + 2 : z;
	size_t ndig = size - (size_t)(digits - z);
	bool clean = ndig > 0 && strlen(digits) == ndig &&
		     strspn(digits, hex ? "0123456789abcdefABCDEF" : "0123456789") == ndig;
	if (!clean) {
		CHECK(err == K_EINVAL);
		CHECK(v == 0xdeadbeef);
	} else {
		errno = 0;
		char *e;
		unsigned long long ref = strtoull(digits, &e, hex ? 16 : 10);
		CHECK(*e == 0);
		if (errno == ERANGE || ref > UINT32_MAX) {
			CHECK(err == K_ERANGE);
		} else {
			CHECK(err == K_OK);
			CHECK(v == ref);
		}
	}
	free(exact);
	free(z);
}

/* A strict dotted quad has exactly one spelling: print it back. */
static void fuzz_ip4(const uint8_t *data, size_t size)
{
	char *exact = malloc(size ? size : 1);
	uint32_t a = 0;
	CHECK(exact);
	memcpy(exact, data, size);
	if (parse_ip4(exact, exact + size, &a) == K_OK) {
		char back[16];
		int n = snprintf(back, sizeof back, "%u.%u.%u.%u", a >> 24,
				 a >> 16 & 255, a >> 8 & 255, a & 255);
		CHECK((size_t)n == size && memcmp(back, data, size) == 0);
	}
	free(exact);
}

static void fuzz_parse(const char *line)
{
	char *name = malloc(8), *tiny = malloc(1);
	uint32_t *port = malloc(sizeof *port), *any = malloc(sizeof *any);
	uint32_t *low = malloc(sizeof *low), *gw = malloc(sizeof *gw);
	bool *debug = malloc(sizeof *debug);
	struct cmdline_cidr *ip = malloc(sizeof *ip);
	enum log_level *lv = malloc(sizeof *lv);
	bool seen_port = false, seen_ip = false;
	CHECK(name && tiny && port && any && low && gw && debug && ip && lv);

	strcpy(name, "kiln");
	tiny[0] = 0;
	*port = 80;
	*any = 1;
	*low = 1500;
	*gw = 0x0a000001;
	*debug = false;
	ip->addr = 0x0a000002;
	ip->prefix = 24;
	*lv = LOG_INFO;
	const struct cmdline_opt opts[] = {
		{ "name", CMDLINE_STR, name, 8, 0, 0, NULL, "" },
		{ "tiny", CMDLINE_STR, tiny, 1, 0, 0, NULL, "" },
		{ "port", CMDLINE_U32, port, 0, 1, 65535, &seen_port, "" },
		{ "any", CMDLINE_U32, any, 0, 0, 0, NULL, "" },
		{ "mtu", CMDLINE_U32, low, 0, 576, 0, NULL, "" },
		{ "debug", CMDLINE_BOOL, debug, 0, 0, 0, NULL, "" },
		{ "gw", CMDLINE_IP4, gw, 0, 0, 0, NULL, "" },
		{ "ip", CMDLINE_IP4_CIDR, ip, 0, 0, 0, &seen_ip, "" },
		{ "log", CMDLINE_LOGLEVEL, lv, 0, 0, 0, NULL, "" },
		{ "nostore", CMDLINE_U32, NULL, 0, 0, 0, NULL, "" },
	};

	int n = cmdline_parse(line, opts, sizeof opts / sizeof *opts, fuzz_ignore);
	CHECK(n >= 0 && (size_t)n <= fuzz_count_words(line));
	CHECK(strnlen(name, 8) < 8);
	CHECK(tiny[0] == 0);
	CHECK(*port >= 1 && *port <= 65535);
	CHECK(seen_port || *port == 80);
	CHECK(*low >= 576);
	CHECK(ip->prefix <= 32);
	CHECK(seen_ip || (ip->addr == 0x0a000002 && ip->prefix == 24));
	CHECK(*lv >= LOG_ERROR && *lv <= LOG_DEBUG);

	free(name);
	free(tiny);
	free(port);
	free(any);
	free(low);
	free(gw);
	free(debug);
	free(ip);
	free(lv);
}

static void fuzz_lookup(const char *line)
{
	static const char *const keys[] = { "ip", "ipv6", "gw", "name", "log", "a",
					    "console", "virtio_mmio.device" };
	char big[CMDLINE_MAX];
	char *small = malloc(4);
	CHECK(small);

	cmdline_set(line);
	const char *got = cmdline_get();
	size_t len = strlen(got);
	CHECK(len < CMDLINE_MAX);
	CHECK(memcmp(got, line, len) == 0);
	if (strlen(line) < CMDLINE_MAX)
		CHECK(strcmp(got, line) == 0);

	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		const char *b = cmdline_lookup(keys[i], big, sizeof big);
		const char *s = cmdline_lookup(keys[i], small, 4);
		CHECK(!b == !s);
		if (b) {
			CHECK(b == big && s == small);
			CHECK(strlen(small) <= 3);
			CHECK(strncmp(big, small, 3) == 0);
			CHECK(strpbrk(big, " \t\r\n\v\f") == NULL);
		}
	}
	free(small);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = 0;

	fuzz_parse(line);
	fuzz_lookup(line);
	fuzz_u32(data, size);
	fuzz_ip4(data, size);

	free(line);
	return 0;
}
