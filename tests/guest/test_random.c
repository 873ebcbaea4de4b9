/*
 * test_random.c - in-guest tests of Kiln's random source (kernel/random.c).
 *
 * Statistical checks are loose enough never to fail on a working DRBG
 * (bounds at about 6 standard deviations) and tight enough to catch a
 * stuck, zeroed or badly biased stream.
 */
#include <string.h>

#include <kiln/kiln.h>

#include "selftest.h"

SELFTEST(random_differs)
{
	uint8_t a[32], b[32], zero[32];
	memset(zero, 0, sizeof zero);
	random_bytes(a, sizeof a);
	random_bytes(b, sizeof b);
	ST_CHECK(memcmp(a, b, sizeof a) != 0);
	ST_CHECK(memcmp(a, zero, sizeof a) != 0);
	ST_CHECK(random_u64() != random_u64());
	uint32_t x = random_u32(), y = random_u32(), z = random_u32();
	ST_CHECK(!(x == y && y == z));
	/* Fresh entropy is accepted and the stream goes on. */
	random_add_entropy("kiln", 4);
	random_bytes(b, sizeof b);
	ST_CHECK(memcmp(a, b, sizeof a) != 0);
}

SELFTEST(random_balance)
{
	enum { N = 64 * 1024 };
	static uint8_t buf[N];
	static uint32_t hist[256];
	memset(hist, 0, sizeof hist);
	random_bytes(buf, N);
	uint64_t ones = 0;
	for (size_t i = 0; i < N; i++) {
		ones += (uint64_t)__builtin_popcount(buf[i]);
		hist[buf[i]]++;
	}
	/* 524288 bits: mean 262144, sd 362. */
	kprintf("# random: %llu of %u bits set\n", (unsigned long long)ones, N * 8);
	ST_CHECK(ones > 262144 - 2200 && ones < 262144 + 2200);
	/* Byte histogram chi-square, 255 degrees of freedom: mean 255, sd 22.6. */
	uint64_t chi = 0;
	for (int v = 0; v < 256; v++) {
		int64_t d = (int64_t)hist[v] * 256 - N;
		chi += (uint64_t)(d * d);
	}
	chi /= (uint64_t)N * 256;   /* = sum (obs - exp)^2 / exp, exp = N/256 */
	kprintf("# random: byte chi-square %llu (255 dof)\n", (unsigned long long)chi);
	ST_CHECK(chi < 255 + 6 * 23);
	/* Past the reseed threshold (1 MiB) the stream keeps working. */
	for (int i = 0; i < 20; i++)
		random_bytes(buf, N);
	uint8_t last[16];
	memcpy(last, buf + N - 16, 16);
	random_bytes(buf, N);
	ST_CHECK(memcmp(last, buf + N - 16, 16) != 0);
}
