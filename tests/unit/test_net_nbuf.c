/*
 * test_net_nbuf.c - packet buffers and the netdev glue: pool exhaustion
 * and accounting, push/pull/put limits, borrowed spans and their
 * completion, chains (trim, copy, append, linearize), and what
 * netdev_xmit() finishes for devices without offloads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "net_fake.h"

static struct fake_net F;
static int done_calls;
static void on_done(void *arg) { done_calls += *(int *)arg; }

static void test_pool_exhaustion(void **state)
{
	(void)state;
	static uint8_t mem[10 * 2200] __attribute__((aligned(64)));
	struct nbuf_pool p;
	int n = nbuf_pool_init(&p, mem, sizeof mem, NBUF_DATA_SIZE, "small");
	assert_int_equal(n, (int)(sizeof mem / nbuf_pool_stride(NBUF_DATA_SIZE)));
	assert_int_equal(nbuf_pool_stride(NBUF_DATA_SIZE), FAKE_DESC + NBUF_DATA_SIZE);
	assert_int_equal(nbuf_pool_stride(0), FAKE_DESC);
	struct nbuf *all[16];
	for (int i = 0; i < n; i++) {
		all[i] = nbuf_alloc(&p);
		assert_non_null(all[i]);
		assert_int_equal(nbuf_headroom(all[i]), NBUF_HEADROOM);
		assert_int_equal(((uintptr_t)all[i]->base) % 64, 0);
		memset(all[i]->base, 0xab, all[i]->size);    /* ASan: whole area is ours */
	}
	assert_null(nbuf_alloc(&p));
	assert_null(nbuf_alloc(&p));
	assert_int_equal(p.stats.empty, 2);
	assert_int_equal(p.stats.low_water, 0);
	for (int i = 0; i < n; i++)
		nbuf_free(all[i]);
	assert_int_equal(p.nfree, p.count);
	assert_int_equal(p.stats.allocs, p.stats.frees);
	assert_int_equal(nbuf_pool_init(&p, mem, 100, NBUF_DATA_SIZE, "tiny"), K_EINVAL);
}

static void test_pool_reserves(void **state)
{
	(void)state;
	static uint8_t mem[10 * 2200] __attribute__((aligned(64)));
	struct nbuf_pool p;
	int n = nbuf_pool_init(&p, mem, sizeof mem, NBUF_DATA_SIZE, "res");
	assert_true(n >= 8);
	nbuf_pool_reserve(&p, 2, 3);                /* last 2: ring refill; 3 before: control */
	struct nbuf *got[16];
	unsigned k = 0;
	while ((got[k] = nbuf_alloc(&p)) != NULL)
		k++;
	assert_int_equal(k, (unsigned)n - 5);       /* data stops short of both reserves */
	assert_int_equal(p.stats.reserved, 1);
	assert_int_equal(p.stats.empty, 0);
	while ((got[k] = nbuf_alloc_prio(&p, NBUF_PRIO_CTRL)) != NULL)
		k++;
	assert_int_equal(k, (unsigned)n - 2);       /* control reaches the ring's reserve */
	while ((got[k] = nbuf_alloc_prio(&p, NBUF_PRIO_RX)) != NULL)
		k++;
	assert_int_equal(k, (unsigned)n);           /* the ring refill takes the rest */
	assert_int_equal(p.stats.empty, 1);
	assert_int_equal(nbuf_truesize(got[0]), nbuf_pool_stride(NBUF_DATA_SIZE));
	nbuf_append(got[0], got[1]);
	assert_int_equal(nbuf_truesize(got[0]), 2 * nbuf_pool_stride(NBUF_DATA_SIZE));
	for (unsigned i = 2; i < k; i++)
		nbuf_free(got[i]);
	nbuf_free(got[0]);
	assert_int_equal(p.nfree, (unsigned)n);
}

static void test_push_pull_put(void **state)
{
	(void)state;
	fake_init(&F, 0, false);
	struct nbuf *nb = nbuf_alloc(&F.pool);
	uint8_t *p = nbuf_put(nb, 100);
	assert_ptr_equal(p, nb->base + NBUF_HEADROOM);
	assert_int_equal(nbuf_pkt_len(nb), 100);
	assert_non_null(nbuf_push(nb, 8));
	assert_non_null(nbuf_push(nb, 20));
	assert_non_null(nbuf_push(nb, 14));
	assert_non_null(nbuf_push(nb, NBUF_VNET_HDR_LEN));
	assert_int_equal(nbuf_pkt_len(nb), 154);
	/* what is left of the headroom, and no more */
	size_t left = nbuf_headroom(nb);
	assert_null(nbuf_push(nb, left + 1));
	assert_non_null(nbuf_push(nb, left));
	assert_int_equal(nbuf_headroom(nb), 0);
	assert_null(nbuf_push(nb, 1));
	assert_null(nbuf_pull(nb, nb->len + 1));
	assert_non_null(nbuf_pull(nb, left + 54));
	assert_int_equal(nbuf_pkt_len(nb), 100);
	assert_null(nbuf_put(nb, nbuf_tailroom(nb) + 1));
	assert_non_null(nbuf_put(nb, nbuf_tailroom(nb)));
	nbuf_free(nb);
	assert_true(fake_no_leaks(&F));
}

static void test_borrowed_span(void **state)
{
	(void)state;
	static const char asset[] = "baked asset bytes, read-only";
	int one = 1;
	fake_init(&F, 0, false);
	done_calls = 0;
	struct nbuf *hdr = nbuf_alloc(&F.pool);
	memcpy(nbuf_put(hdr, 4), "HDR:", 4);
	struct nbuf *b = nbuf_borrow(&F.refs, asset, sizeof asset - 1, on_done, &one);
	assert_non_null(b);
	assert_true(b->flags & NBUF_F_BORROWED);
	assert_null(nbuf_push(b, 1));                /* never written */
	assert_null(nbuf_put(b, 1));
	nbuf_append(hdr, b);
	assert_int_equal(nbuf_pkt_len(hdr), 4 + sizeof asset - 1);
	assert_int_equal(nbuf_segments(hdr), 2);
	char out[64];
	assert_int_equal(nbuf_copy_out(hdr, 0, out, nbuf_pkt_len(hdr)), K_OK);
	assert_memory_equal(out, "HDR:baked asset", 15);
	assert_int_equal(done_calls, 0);
	nbuf_free(hdr);
	assert_int_equal(done_calls, 1);             /* exactly once, on free */
	/* refs pool exhaustion: NULL, and done is not called */
	struct nbuf *r[FAKE_REFS_N];
	for (int i = 0; i < FAKE_REFS_N; i++)
		r[i] = nbuf_borrow(&F.refs, asset, 4, on_done, &one);
	assert_null(nbuf_borrow(&F.refs, asset, 4, on_done, &one));
	assert_int_equal(done_calls, 1);
	for (int i = 0; i < FAKE_REFS_N; i++)
		nbuf_free(r[i]);
	assert_int_equal(done_calls, 1 + FAKE_REFS_N);
	assert_true(fake_no_leaks(&F));
}

static struct nbuf *chain3(const uint8_t *data, size_t a, size_t b, size_t c)
{
	struct nbuf *h = nbuf_alloc(&F.pool), *s2 = nbuf_alloc(&F.pool), *s3 = nbuf_alloc(&F.pool);
	memcpy(nbuf_put(h, a), data, a);
	memcpy(nbuf_put(s2, b), data + a, b);
	memcpy(nbuf_put(s3, c), data + a + b, c);
	nbuf_append(h, s2);
	nbuf_append(h, s3);
	return h;
}

static void test_chain_ops(void **state)
{
	(void)state;
	uint8_t data[300], out[300];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)i;
	fake_init(&F, 0, false);
	uint32_t free0 = F.pool.nfree;

	struct nbuf *h = chain3(data, 10, 100, 190);
	assert_int_equal(nbuf_pkt_len(h), 300);
	assert_int_equal(nbuf_copy_out(h, 5, out, 200), K_OK);
	assert_memory_equal(out, data + 5, 200);
	assert_int_equal(nbuf_copy_out(h, 200, out, 101), K_EINVAL);
	assert_int_equal(nbuf_copy_out(h, 301, out, 0), K_EINVAL);
	/* trim inside the second segment frees the third */
	nbuf_trim(h, 50);
	assert_int_equal(nbuf_pkt_len(h), 50);
	assert_int_equal(nbuf_segments(h), 2);
	assert_int_equal(F.pool.nfree, free0 - 2);
	nbuf_trim(h, 400);                           /* longer: no-op */
	assert_int_equal(nbuf_pkt_len(h), 50);
	/* linearize moves bytes from the next segment, freeing it when empty */
	assert_int_equal(nbuf_linearize(h, 30), K_OK);
	assert_int_equal(h->len, 30);
	assert_memory_equal(h->data, data, 30);
	assert_int_equal(nbuf_linearize(h, 50), K_OK);
	assert_int_equal(nbuf_segments(h), 1);
	assert_int_equal(nbuf_linearize(h, 51), K_EINVAL);
	nbuf_free(h);
	assert_int_equal(F.pool.nfree, free0);

	/* append_copy spills into new buffers */
	static uint8_t big[5000];
	for (size_t i = 0; i < sizeof big; i++)
		big[i] = (uint8_t)(i * 13);
	h = nbuf_alloc(&F.pool);
	assert_int_equal(nbuf_append_copy(h, &F.pool, big, sizeof big), K_OK);
	assert_int_equal(nbuf_pkt_len(h), sizeof big);
	assert_int_equal(nbuf_segments(h), 3);
	static uint8_t back[5000];
	assert_int_equal(nbuf_copy_out(h, 0, back, sizeof back), K_OK);
	assert_memory_equal(back, big, sizeof big);
	nbuf_free(h);
	assert_true(fake_no_leaks(&F));
}

static void test_xmit_sw_checksum_and_flatten(void **state)
{
	(void)state;
	static const char payload[] = "0123456789abcdefghijklmnopqrstuvwxyz!";
	fake_init(&F, 0, false);                     /* no TX_CSUM, no SG */
	struct nbuf *nb = nbuf_alloc(&F.pool);
	uint8_t *h = nbuf_put(nb, 10);
	memset(h, 0, 10);
	/* a field at offset 4 seeded with 0, summing from offset 2 */
	nb->flags |= NBUF_F_CSUM_PARTIAL;
	nb->csum_start = (uint16_t)(nbuf_headroom(nb) + 2);
	nb->csum_offset = 2;
	h[2] = 0x12;
	h[3] = 0x34;
	nbuf_append(nb, nbuf_borrow(&F.refs, payload, sizeof payload - 1, NULL, NULL));
	assert_int_equal(netdev_xmit(&F.dev, nb), K_OK);
	assert_int_equal(F.ntx, 1);
	const struct fake_frame *fr = &F.tx[0];
	assert_int_equal(fr->segs, 1);               /* flattened */
	assert_false(fr->flags & NBUF_F_CSUM_PARTIAL);
	assert_int_equal(F.dev.stats.tx_sw_csum, 1);
	assert_int_equal(F.dev.stats.tx_linearized, 1);
	assert_int_equal(ref_csum(0, fr->data + 2, fr->len - 2), 0);
	assert_memory_equal(fr->data + 10, payload, sizeof payload - 1);

	/* a request pointing outside the packet is refused, not trusted */
	nb = nbuf_alloc(&F.pool);
	nbuf_put(nb, 10);
	nb->flags |= NBUF_F_CSUM_PARTIAL;
	nb->csum_start = (uint16_t)(nbuf_headroom(nb) + 9);
	nb->csum_offset = 6;
	assert_int_equal(netdev_xmit(&F.dev, nb), K_EINVAL);
	assert_int_equal(F.dev.stats.tx_bad, 1);

	/* a device error still consumes the packet */
	F.xmit_ret = K_EAGAIN;
	nb = nbuf_alloc(&F.pool);
	nbuf_put(nb, 60);
	assert_int_equal(netdev_xmit(&F.dev, nb), K_EAGAIN);
	assert_int_equal(F.dev.stats.tx_errors, 1);
	assert_true(fake_no_leaks(&F));
}

static void test_input_without_stack(void **state)
{
	(void)state;
	fake_init(&F, 0, false);
	F.dev.nif = NULL;
	uint8_t fr[60] = { 0 };
	fake_rx(&F, fr, sizeof fr, 0);
	assert_int_equal(F.dev.stats.rx_dropped, 1);
	assert_true(fake_no_leaks(&F));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pool_exhaustion),
		cmocka_unit_test(test_pool_reserves),
		cmocka_unit_test(test_push_pull_put),
		cmocka_unit_test(test_borrowed_span),
		cmocka_unit_test(test_chain_ops),
		cmocka_unit_test(test_xmit_sw_checksum_and_flatten),
		cmocka_unit_test(test_input_without_stack),
	};
	return cmocka_run_group_tests_name("net_nbuf", tests, NULL, NULL);
}
