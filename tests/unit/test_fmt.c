/*
 * test_fmt.c - the formatter against the C library's printf.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/fmt.h>

/* These tests feed the formatter edge cases on purpose (flags that C
 * ignores, huge widths), which gcc's format checks would reject. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-truncation"

#define CHECK(...)                                                        \
	do {                                                              \
		char a[128], b[128];                                      \
		int na = ksnprintf(a, sizeof a, __VA_ARGS__);             \
		int nb = snprintf(b, sizeof b, __VA_ARGS__);              \
		assert_string_equal(a, b);                                \
		assert_int_equal(na, nb);                                 \
	} while (0)

static void test_integers(void **state)
{
	(void)state;
	CHECK("%d %i %u", -42, 7, 3000000000u);
	CHECK("%ld %lld %lu", -1L, -9223372036854775807LL - 1, 18446744073709551615UL);
	CHECK("%x %X %#x %#X %o %#o", 0xbeef, 0xbeef, 0xbeef, 0, 8, 8);
	CHECK("%5d|%-5d|%05d|%+d|% d", 42, 42, -42, 42, 42);
	CHECK("%.3d|%8.3d|%-8.3x|%.0d", 7, -7, 0xa, 0);
	CHECK("%hhd %hd %hhu %hu", 300, 70000, 300, 70000);
	CHECK("%zu %zd %jd %td", (size_t)123, (ssize_t)-5, (intmax_t)-6, (ptrdiff_t)9);
	CHECK("%*d|%-*d|%.*d", 6, 1, 6, 2, 4, 3);
	CHECK("%+u|% x|%+o", 5u, 5u, 5u);       /* '+' and ' ' are for signed only */
	CHECK("%.*d|%*d", -1, 7, -4, 7);         /* negative precision: none */
}

static void test_strings(void **state)
{
	(void)state;
	CHECK("%s|%10s|%-10s|%.2s|%c|%3c", "kiln", "kiln", "kiln", "kiln", 'k', 'x');
	CHECK("100%% %p", (void *)0x1234);
	char a[32];
	const char *volatile nul = NULL;
	ksnprintf(a, sizeof a, "%s", nul);
	assert_string_equal(a, "(null)");
}

static void test_truncation(void **state)
{
	(void)state;
	char buf[8];
	int n = ksnprintf(buf, sizeof buf, "%s", "0123456789");
	assert_int_equal(n, 10);
	assert_string_equal(buf, "0123456");
	assert_int_equal(ksnprintf(NULL, 0, "%d", 12345), 5);
	buf[0] = 'x';
	assert_int_equal(ksnprintf(buf, 1, "abc"), 3);
	assert_int_equal(buf[0], 0);
}

#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#pragma GCC diagnostic ignored "-Wformat-security"
static void test_huge_widths(void **state)
{
	(void)state;
	char buf[8];
	/* INT_MIN as a '*' width must not overflow; widths are capped. */
	int n = ksnprintf(buf, sizeof buf, "%*d", -2147483647 - 1, 1);
	assert_int_equal(n, 100000);
	assert_string_equal(buf, "1      ");
	n = ksnprintf(buf, sizeof buf, "%*d", 2147483647, 1);
	assert_int_equal(n, 100000);
}

static void test_unknown_conversion(void **state)
{
	(void)state;
	char buf[32];
	const char *volatile f = "a%qb%";
	ksnprintf(buf, sizeof buf, f, 0);
	assert_string_equal(buf, "a%qb%");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_integers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_huge_widths),
		cmocka_unit_test(test_unknown_conversion),
	};
	return cmocka_run_group_tests_name("fmt", tests, NULL, NULL);
}
