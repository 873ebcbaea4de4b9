/*
 * test_net_counters.c - the pools and drop counters telemetry reads
 * (net_if_pools, net_if_drops): buffers taken show as in use and come
 * back; a drop counted by the stack shows under its name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/net.h>
#include <kiln/tcp.h>

#include "net_fake.h"

static struct fake_net F;

static const struct net_pool_info *pool_named(const struct net_pool_info *p, unsigned n,
					      const char *name)
{
	for (unsigned i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return &p[i];
	return NULL;
}

static uint64_t drop_named(const char *name)
{
	struct net_counter d[NET_DROPS_MAX];
	unsigned n = net_if_drops(&F.nif, d, NET_DROPS_MAX);
	assert_true(n < NET_DROPS_MAX);                 /* room left: none cut off */
	for (unsigned i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return d[i].value;
	fail_msg("no drop counter %s", name);
	return 0;
}

static void test_pools_move(void **state)
{
	(void)state;
	fake_init(&F, 0, true);
	struct net_pool_info p[4];
	unsigned n = net_if_pools(&F.nif, p, 4);
	assert_int_equal(n, 2);
	const struct net_pool_info *bufs = &p[0];
	assert_int_equal(bufs->total, F.pool.count);
	uint32_t free0 = bufs->free;
	assert_true(bufs->buf_bytes >= NBUF_DATA_SIZE);

	struct nbuf *held[10];
	for (int i = 0; i < 10; i++)
		held[i] = nbuf_alloc(&F.pool);
	n = net_if_pools(&F.nif, p, 4);
	assert_int_equal(p[0].free, free0 - 10);
	assert_int_equal(p[0].total - p[0].free, F.pool.count - free0 + 10);
	for (int i = 0; i < 10; i++)
		nbuf_free(held[i]);
	n = net_if_pools(&F.nif, p, 4);
	assert_int_equal(p[0].free, free0);
	assert_true(pool_named(p, n, F.pool.name) != NULL);

	/* an empty pool's refusals are counted */
	struct nbuf *all[FAKE_POOL_N];
	unsigned k = 0;
	while (k < FAKE_POOL_N && (all[k] = nbuf_alloc(&F.pool)))
		k++;
	assert_null(nbuf_alloc(&F.pool));
	n = net_if_pools(&F.nif, p, 4);
	assert_int_equal(p[0].free, 0);
	assert_int_equal(p[0].low_water, 0);
	assert_true(p[0].refused >= 1);
	while (k)
		nbuf_free(all[--k]);
	assert_true(fake_no_leaks(&F));
}

static void test_drops_by_name(void **state)
{
	(void)state;
	fake_init(&F, 0, true);
	assert_int_equal(drop_named("ip_bad_csum"), 0);
	/* an IPv4 header with a wrong checksum is dropped and counted */
	uint8_t fr[100], payload[8] = { 0 };
	size_t len = mk_ip4(fr, PEER_IP, FAKE_IP, 17, 1, 0, 64, payload, sizeof payload);
	fr[14 + 10] ^= 0xff;
	fake_rx(&F, fr, len, 0);
	assert_int_equal(drop_named("ip_bad_csum"), 1);
	assert_int_equal(drop_named("arp_pending_full"), 0);
	assert_true(fake_no_leaks(&F));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pools_move),
		cmocka_unit_test(test_drops_by_name),
	};
	return cmocka_run_group_tests_name("net_counters", tests, NULL, NULL);
}
