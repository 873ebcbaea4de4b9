/*
 * test_cmdline.c - the command-line parser, its value parsers and the
 * boot-line store and lookup (kernel/cmdline.c).
 *
 * Warnings go through the hosted klog to stderr; tests that check what a
 * warning says point stderr at a temporary file while they run.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <kiln/cmdline.h>
#include <kiln/err.h>
#include <kiln/log.h>

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))

/* The full option table every parse test uses, reset to defaults. */
struct vals {
	char name[8];
	uint32_t port, any;
	bool debug, quiet;
	uint32_t gw;
	struct cmdline_cidr ip;
	enum log_level log;
	bool seen_port, seen_ip, seen_name;
};

static struct vals v;
static struct cmdline_opt opts[9];

static void reset(void)
{
	memset(&v, 0, sizeof v);
	strcpy(v.name, "kiln");
	v.port = 80;
	v.any = 7;
	v.quiet = true;
	v.gw = IP(10, 0, 0, 1);
	v.ip = (struct cmdline_cidr){ IP(10, 0, 0, 2), 24 };
	v.log = LOG_INFO;
	const struct cmdline_opt t[] = {
		{ "name", CMDLINE_STR, v.name, sizeof v.name, 0, 0, &v.seen_name, "host name" },
		{ "port", CMDLINE_U32, &v.port, 0, 1, 65535, &v.seen_port, "port" },
		{ "any", CMDLINE_U32, &v.any, 0, 0, 0, NULL, "any u32" },
		{ "debug", CMDLINE_BOOL, &v.debug, 0, 0, 0, NULL, "debug" },
		{ "quiet", CMDLINE_BOOL, &v.quiet, 0, 0, 0, NULL, "quiet" },
		{ "gw", CMDLINE_IP4, &v.gw, 0, 0, 0, NULL, "gateway" },
		{ "ip", CMDLINE_IP4_CIDR, &v.ip, 0, 0, 0, &v.seen_ip, "address" },
		{ "log", CMDLINE_LOGLEVEL, &v.log, 0, 0, 0, NULL, "log level" },
		{ "ipv6", CMDLINE_STR, NULL, 0, 0, 0, NULL, "no storage" },
	};
	memcpy(opts, t, sizeof opts);
}

static int parse(const char *line)
{
	reset();
	return cmdline_parse(line, opts, sizeof opts / sizeof *opts, NULL);
}

/* Runs cmdline_parse with stderr captured into out. */
static int parse_capture(const char *line, const char *const *ignore, char *out,
			 size_t size)
{
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(2);
	assert_true(saved >= 0);
	assert_true(dup2(fileno(tmp), 2) >= 0);
	reset();
	int n = cmdline_parse(line, opts, sizeof opts / sizeof *opts, ignore);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t got = fread(out, 1, size - 1, tmp);
	out[got] = 0;
	fclose(tmp);
	return n;
}

static void test_u32(void **state)
{
	(void)state;
	uint32_t x = 5;
#define U32(str) parse_u32(str, str + strlen(str), &x)
	assert_int_equal(U32("0"), K_OK);
	assert_int_equal(x, 0);
	assert_int_equal(U32("4294967295"), K_OK);
	assert_int_equal(x, 4294967295u);
	assert_int_equal(U32("0xffffFFFF"), K_OK);
	assert_int_equal(x, 0xffffffffu);
	assert_int_equal(U32("0X1f"), K_OK);
	assert_int_equal(x, 31);
	assert_int_equal(U32("007"), K_OK);
	assert_int_equal(x, 7);
	x = 5;
	assert_int_equal(U32("4294967296"), K_ERANGE);
	assert_int_equal(U32("99999999999999999999"), K_ERANGE);
	assert_int_equal(U32("0x100000000"), K_ERANGE);
	assert_int_equal(U32("0x1_0000_0000"), K_EINVAL);
	assert_int_equal(U32(""), K_EINVAL);
	assert_int_equal(U32("0x"), K_EINVAL);
	assert_int_equal(U32("-1"), K_EINVAL);
	assert_int_equal(U32("+1"), K_EINVAL);
	assert_int_equal(U32(" 1"), K_EINVAL);
	assert_int_equal(U32("12a"), K_EINVAL);
	assert_int_equal(U32("0xg"), K_EINVAL);
	assert_int_equal(x, 5); /* untouched on failure */
#undef U32
	/* Stops at end even when the bytes after it are digits. */
	const char *s = "12345";
	assert_int_equal(parse_u32(s, s + 2, &x), K_OK);
	assert_int_equal(x, 12);
	assert_int_equal(parse_u32(s, s, &x), K_EINVAL);
	assert_int_equal(parse_u32(NULL, NULL, &x), K_EINVAL);
}

static void test_ip4(void **state)
{
	(void)state;
	uint32_t a = 9;
#define IP4(str) parse_ip4(str, str + strlen(str), &a)
	assert_int_equal(IP4("1.2.3.4"), K_OK);
	assert_int_equal(a, IP(1, 2, 3, 4));
	assert_int_equal(IP4("0.0.0.0"), K_OK);
	assert_int_equal(a, 0);
	assert_int_equal(IP4("255.255.255.255"), K_OK);
	assert_int_equal(a, 0xffffffffu);
	a = 9;
	assert_int_equal(IP4("256.1.1.1"), K_ERANGE);
	assert_int_equal(IP4("1.2.3.999"), K_ERANGE);
	assert_int_equal(IP4("1.2.3"), K_EINVAL);
	assert_int_equal(IP4("1.2.3.4.5"), K_EINVAL);
	assert_int_equal(IP4("1.2.3.4."), K_EINVAL);
	assert_int_equal(IP4(".1.2.3"), K_EINVAL);
	assert_int_equal(IP4("1..2.3"), K_EINVAL);
	assert_int_equal(IP4("+1.2.3.4"), K_EINVAL);
	assert_int_equal(IP4(" 1.2.3.4"), K_EINVAL);
	assert_int_equal(IP4("1.2.3.4 "), K_EINVAL);
	assert_int_equal(IP4("1. 2.3.4"), K_EINVAL);
	assert_int_equal(IP4("01.2.3.4"), K_EINVAL);
	assert_int_equal(IP4("1.2.3.0004"), K_EINVAL);
	assert_int_equal(IP4("1.2.3.x"), K_EINVAL);
	assert_int_equal(IP4("0x1.2.3.4"), K_EINVAL);
	assert_int_equal(IP4(""), K_EINVAL);
	assert_int_equal(a, 9);
#undef IP4
	const char *s = "10.0.0.123";
	assert_int_equal(parse_ip4(s, s + 8, &a), K_OK); /* "10.0.0.1" */
	assert_int_equal(a, IP(10, 0, 0, 1));
}

static void test_each_type_good(void **state)
{
	(void)state;
	assert_int_equal(parse("name=web port=8080 any=0x10 debug=yes quiet=off "
			       "gw=192.168.1.254 ip=192.168.1.7/16 log=debug"), 0);
	assert_string_equal(v.name, "web");
	assert_int_equal(v.port, 8080);
	assert_int_equal(v.any, 16);
	assert_true(v.debug);
	assert_false(v.quiet);
	assert_int_equal(v.gw, IP(192, 168, 1, 254));
	assert_int_equal(v.ip.addr, IP(192, 168, 1, 7));
	assert_int_equal(v.ip.prefix, 16);
	assert_int_equal(v.log, LOG_DEBUG);
	assert_true(v.seen_port && v.seen_ip && v.seen_name);

	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };
	char line[32];
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof line, "debug=%s quiet=%s", yes[i], no[i]);
		assert_int_equal(parse(line), 0);
		assert_true(v.debug);
		assert_false(v.quiet);
	}
	assert_int_equal(parse("ip=0.0.0.0/0 log=error"), 0);
	assert_int_equal(v.ip.prefix, 0);
	assert_int_equal(v.log, LOG_ERROR);
	assert_int_equal(parse("ip=10.1.2.3/32 log=warn name="), 0);
	assert_int_equal(v.ip.prefix, 32);
	assert_int_equal(v.log, LOG_WARN);
	assert_string_equal(v.name, "");
}

static void test_each_type_bad(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"port=0", "port=65536", "port=4294967296", "port=0x1_0000_0000",
		"port=", "port=-1", "any=4294967296", "any=0x100000000",
		"debug=maybe", "debug=", "debug=TRUE", "gw=1.2.3", "gw=1.2.3.4.5",
		"gw=256.1.1.1", "gw=1.2.3.4/8", "gw=", "ip=1.2.3.4", "ip=1.2.3.4/33",
		"ip=1.2.3.4/", "ip=1.2.3.4/08", "ip=1.2.3.4/-1", "ip=1.2.3/8",
		"ip=/8", "ip=1.2.3.4/8/8", "log=verbose", "log=", "log=debugging",
		"name=toolongname", "port", "gw", "ip", "log", "name",
		"ipv6=x", "=5", "=",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		int n = parse(bad[i]);
		if (n != 1)
			fail_msg("'%s' gave %d problems", bad[i], n);
		/* Defaults kept, seen not set. */
		assert_string_equal(v.name, "kiln");
		assert_int_equal(v.port, 80);
		assert_int_equal(v.any, 7);
		assert_false(v.debug);
		assert_int_equal(v.gw, IP(10, 0, 0, 1));
		assert_int_equal(v.ip.addr, IP(10, 0, 0, 2));
		assert_int_equal(v.ip.prefix, 24);
		assert_int_equal(v.log, LOG_INFO);
		assert_false(v.seen_port || v.seen_ip || v.seen_name);
	}
}

static void test_bounds(void **state)
{
	(void)state;
	assert_int_equal(parse("port=1"), 0);
	assert_int_equal(v.port, 1);
	assert_int_equal(parse("port=65535"), 0);
	assert_int_equal(v.port, 65535);
	assert_int_equal(parse("port=0xffff"), 0);
	assert_int_equal(v.port, 65535);
	assert_int_equal(parse("any=4294967295"), 0);
	assert_int_equal(v.any, 4294967295u);
	assert_int_equal(parse("any=0"), 0);
	assert_int_equal(v.any, 0);

	/* min without max: a lower bound only. */
	uint32_t mtu = 1500;
	struct cmdline_opt o = { "mtu", CMDLINE_U32, &mtu, 0, 576, 0, NULL, "mtu" };
	assert_int_equal(cmdline_parse("mtu=575", &o, 1, NULL), 1);
	assert_int_equal(mtu, 1500);
	assert_int_equal(cmdline_parse("mtu=4000000000", &o, 1, NULL), 0);
	assert_int_equal(mtu, 4000000000u);
}

static void test_empty_and_spaces(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse("    \t\n  \r "), 0);
	assert_int_equal(cmdline_parse(NULL, opts, 9, NULL), 0);
	assert_int_equal(cmdline_parse("port=1", NULL, 0, NULL), 1);
	assert_int_equal(parse("   port=81\t\tdebug\n\n  gw=1.1.1.1   "), 0);
	assert_int_equal(v.port, 81);
	assert_true(v.debug);
	assert_int_equal(v.gw, IP(1, 1, 1, 1));
	assert_string_equal(v.name, "kiln");
}

static void test_unknown_counted(void **state)
{
	(void)state;
	assert_int_equal(parse("foo=1 port=99 bar baz=2=3 portx=1 por=1"), 5);
	assert_int_equal(v.port, 99);
	assert_int_equal(parse("a b c d e f g h i j"), 10);
}

static void test_ignore_list(void **state)
{
	(void)state;
	static const char *const ignore[] = { "virtio_mmio.device=", "console",
					      "quiet", NULL };
	char out[2048];
	int n = parse_capture("virtio_mmio.device=4K@0xfeb00000:12 console=ttyS0 "
			      "console quiet=0 virtio_mmio.devicex=1 port=90",
			      ignore, out, sizeof out);
	/* quiet is a real option: it is parsed, not ignored. */
	assert_int_equal(n, 1);
	assert_false(v.quiet);
	assert_int_equal(v.port, 90);
	assert_non_null(strstr(out, "'virtio_mmio.devicex=1': unknown key"));
	assert_null(strstr(out, "console"));
	assert_null(strstr(out, "'virtio_mmio.device="));
}

static void test_bare_keys(void **state)
{
	(void)state;
	assert_int_equal(parse("debug"), 0);
	assert_true(v.debug);
	assert_int_equal(parse("quiet debug=0 debug"), 0);
	assert_true(v.quiet);
	assert_true(v.debug);
	assert_int_equal(parse("port name gw ip log any"), 6);
}

static void test_repeated_last_wins(void **state)
{
	(void)state;
	assert_int_equal(parse("port=1 port=2 port=3"), 0);
	assert_int_equal(v.port, 3);
	/* A bad later value keeps the last good one. */
	assert_int_equal(parse("port=5 port=70000"), 1);
	assert_int_equal(v.port, 5);
	assert_true(v.seen_port);
}

static void test_str_truncation(void **state)
{
	(void)state;
	/* name[] holds 7 characters and the NUL. */
	assert_int_equal(parse("name=1234567"), 0);
	assert_string_equal(v.name, "1234567");
	char out[1024];
	assert_int_equal(parse_capture("name=12345678", NULL, out, sizeof out), 1);
	assert_string_equal(v.name, "kiln");
	assert_false(v.seen_name);
	assert_non_null(strstr(out, "'name=12345678': too long (max 7 bytes); "
				    "keeping name=\"kiln\""));
}

static void test_warnings_name_word_and_default(void **state)
{
	(void)state;
	char out[4096];
	int n = parse_capture("port=99999 gw=1.2.3 ip=1.2.3.4/40 log=loud debug=2 "
			      "any=0x100000000 mystery=1 port",
			      NULL, out, sizeof out);
	assert_int_equal(n, 8);
	assert_non_null(strstr(out, "'port=99999': out of range (1..65535); keeping port=80"));
	assert_non_null(strstr(out, "'gw=1.2.3': not a dotted quad; keeping gw=10.0.0.1"));
	assert_non_null(strstr(out, "'ip=1.2.3.4/40': "));
	assert_non_null(strstr(out, "keeping ip=10.0.0.2/24"));
	assert_non_null(strstr(out, "'log=loud': "));
	assert_non_null(strstr(out, "keeping log=info"));
	assert_non_null(strstr(out, "'debug=2': "));
	assert_non_null(strstr(out, "keeping debug=false"));
	assert_non_null(strstr(out, "'any=0x100000000': does not fit 32 bits; keeping any=7"));
	assert_non_null(strstr(out, "'mystery=1': unknown key"));
	assert_non_null(strstr(out, "'port': needs a value (1..65535); keeping port=80"));

	/* A very long word is quoted cut short, not whole. */
	char line[600];
	memset(line, 'k', sizeof line - 1);
	line[sizeof line - 1] = 0;
	assert_int_equal(parse_capture(line, NULL, out, sizeof out), 1);
	assert_true(strlen(out) < 200);
}

static void test_log_level_parse(void **state)
{
	(void)state;
	enum log_level lv = LOG_INFO;
	assert_int_equal(log_level_parse("error", &lv), K_OK);
	assert_int_equal(lv, LOG_ERROR);
	assert_int_equal(log_level_parse("warn", &lv), K_OK);
	assert_int_equal(lv, LOG_WARN);
	assert_int_equal(log_level_parse("info", &lv), K_OK);
	assert_int_equal(lv, LOG_INFO);
	assert_int_equal(log_level_parse("debug", &lv), K_OK);
	assert_int_equal(lv, LOG_DEBUG);
	assert_int_equal(log_level_parse("Debug", &lv), K_EINVAL);
	assert_int_equal(log_level_parse("", &lv), K_EINVAL);
	assert_int_equal(log_level_parse("warning", &lv), K_EINVAL);
	assert_int_equal(log_level_parse(NULL, &lv), K_EINVAL);
	assert_int_equal(lv, LOG_DEBUG);
}

static void test_set_get_lookup(void **state)
{
	(void)state;
	char buf[64];
	cmdline_set(NULL);
	assert_string_equal(cmdline_get(), "");
	assert_null(cmdline_lookup("ip", buf, sizeof buf));

	cmdline_set("ipv6=fe80::1 console=ttyS0 ip=10.0.0.2/24 quiet ipx= ip=10.0.0.3/8");
	assert_string_equal(cmdline_get(),
			    "ipv6=fe80::1 console=ttyS0 ip=10.0.0.2/24 quiet ipx= ip=10.0.0.3/8");
	/* ip is a prefix of ipv6 and ipx: only ip itself matches; last wins. */
	assert_ptr_equal(cmdline_lookup("ip", buf, sizeof buf), buf);
	assert_string_equal(buf, "10.0.0.3/8");
	assert_non_null(cmdline_lookup("ipv6", buf, sizeof buf));
	assert_string_equal(buf, "fe80::1");
	assert_non_null(cmdline_lookup("ipx", buf, sizeof buf));
	assert_string_equal(buf, "");
	assert_non_null(cmdline_lookup("quiet", buf, sizeof buf));
	assert_string_equal(buf, "");
	assert_null(cmdline_lookup("i", buf, sizeof buf));
	assert_null(cmdline_lookup("ipv", buf, sizeof buf));
	assert_null(cmdline_lookup("gw", buf, sizeof buf));
	assert_null(cmdline_lookup("", buf, sizeof buf));
	assert_null(cmdline_lookup("ip=10.0.0.2/24", buf, sizeof buf));
	assert_null(cmdline_lookup("ip", buf, 0));
	assert_null(cmdline_lookup(NULL, buf, sizeof buf));

	/* A small buffer gets a NUL-terminated prefix of the value. */
	char small[5];
	memset(small, 'x', sizeof small);
	assert_non_null(cmdline_lookup("console", small, sizeof small));
	assert_string_equal(small, "ttyS");
	assert_non_null(cmdline_lookup("console", small, 1));
	assert_string_equal(small, "");
}

static void test_set_truncates_whole_words(void **state)
{
	(void)state;
	char line[CMDLINE_MAX + 100];
	char buf[CMDLINE_MAX];
	/* 1000 bytes of padding, then a value that crosses the limit. */
	memset(line, 0, sizeof line);
	memcpy(line, "a=", 2);
	memset(line + 2, 'p', 997);
	strcat(line, " ip=10.0.0.2/24 gw=10.0.0.1");
	assert_true(strlen(line) > CMDLINE_MAX - 1);
	cmdline_set(line);
	assert_true(strlen(cmdline_get()) < CMDLINE_MAX);
	assert_non_null(cmdline_lookup("ip", buf, sizeof buf));
	assert_string_equal(buf, "10.0.0.2/24");
	/* gw would have been cut to "10.0.0.1"[..n]: it is dropped instead. */
	assert_null(cmdline_lookup("gw", buf, sizeof buf));

	/* One word longer than the store: nothing is kept. */
	memset(line, 'z', sizeof line - 1);
	line[sizeof line - 1] = 0;
	cmdline_set(line);
	assert_string_equal(cmdline_get(), "");

	/* Exactly CMDLINE_MAX - 1 bytes fits whole. */
	memset(line, 'y', CMDLINE_MAX - 1);
	line[CMDLINE_MAX - 1] = 0;
	cmdline_set(line);
	assert_int_equal(strlen(cmdline_get()), CMDLINE_MAX - 1);

	/* The limit falling on a space keeps the word before it. */
	memset(line, 'w', CMDLINE_MAX - 1);
	line[CMDLINE_MAX - 1] = ' ';
	strcpy(line + CMDLINE_MAX, "v=1");
	cmdline_set(line);
	assert_int_equal(strlen(cmdline_get()), CMDLINE_MAX - 1);
	cmdline_set("");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u32),
		cmocka_unit_test(test_ip4),
		cmocka_unit_test(test_each_type_good),
		cmocka_unit_test(test_each_type_bad),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_empty_and_spaces),
		cmocka_unit_test(test_unknown_counted),
		cmocka_unit_test(test_ignore_list),
		cmocka_unit_test(test_bare_keys),
		cmocka_unit_test(test_repeated_last_wins),
		cmocka_unit_test(test_str_truncation),
		cmocka_unit_test(test_warnings_name_word_and_default),
		cmocka_unit_test(test_log_level_parse),
		cmocka_unit_test(test_set_get_lookup),
		cmocka_unit_test(test_set_truncates_whole_words),
	};
	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
