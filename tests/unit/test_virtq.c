/*
 * test_virtq.c - the split virtqueue against a fake device.
 *
 * The fake device below plays the device side of virtio 1.2 section 2.7
 * on the same memory: it reads avail->idx, walks each published chain
 * through the shared descriptor table (checking flags and order), fills
 * the device-writable segments with a pattern, and writes used entries.
 * It also sets the suppression fields (used->flags, avail_event) as a
 * device would, and can be told to misbehave (bad id, bad length,
 * runaway used index).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/err.h>

#include "drivers/virtio/virtq.h"

struct fake_dev {
	struct virtq *vq;
	uint16_t last_avail;   /* next avail idx the device will consume */
	uint16_t used_idx;     /* device's shadow of used->idx */
	unsigned notified;     /* notify callbacks seen */
	unsigned chains_seen;
	unsigned last_nout, last_nin;
	uint32_t last_in_len;
};

struct fixture {
	struct virtq vq;
	void *mem;
	struct virtq_slot *slots;
	struct fake_dev dev;
};

static void fake_notify(struct virtq *vq, void *ctx)
{
	struct fake_dev *d = ctx;
	assert_ptr_equal(vq, d->vq);
	d->notified++;
}

static struct fixture *fx_new(unsigned num, bool event_idx)
{
	struct fixture *f = calloc(1, sizeof *f);
	assert_non_null(f);
	size_t sz = virtq_ring_size(num);
	f->mem = aligned_alloc(4096, (sz + 4095) & ~(size_t)4095);
	assert_non_null(f->mem);
	memset(f->mem, 0, sz);
	f->slots = calloc(num, sizeof *f->slots);
	f->dev.vq = &f->vq;
	assert_int_equal(virtq_init(&f->vq, num, 0, f->mem, f->slots, event_idx,
				    fake_notify, &f->dev), K_OK);
	return f;
}

static void fx_free(struct fixture *f)
{
	free(f->mem);
	free(f->slots);
	free(f);
}

/* Consumes one published chain, fills its writable part with bytes
 * (i + seed), and returns its head; -1 if nothing is published. */
static int fake_consume(struct fake_dev *d, uint8_t seed, uint32_t *written)
{
	struct virtq *vq = d->vq;
	if (vq->avail->idx == d->last_avail)
		return -1;
	uint16_t head = vq->avail->ring[d->last_avail & (vq->num - 1)];
	d->last_avail++;
	assert_true(head < vq->num);
	uint16_t i = head;
	unsigned nout = 0, nin = 0, steps = 0;
	uint32_t in_len = 0;
	for (;;) {
		volatile struct virtq_desc *desc = &vq->desc[i];
		assert_true(++steps <= vq->num);   /* no loops */
		if (desc->flags & VIRTQ_DESC_F_WRITE) {
			uint8_t *p = (uint8_t *)(uintptr_t)desc->addr;
			for (uint32_t k = 0; k < desc->len; k++)
				p[k] = (uint8_t)(in_len + k + seed);
			in_len += desc->len;
			nin++;
		} else {
			assert_int_equal(nin, 0);   /* readable segments come first */
			nout++;
		}
		if (!(desc->flags & VIRTQ_DESC_F_NEXT))
			break;
		i = desc->next;
		assert_true(i < vq->num);
	}
	d->last_nout = nout;
	d->last_nin = nin;
	d->last_in_len = in_len;
	d->chains_seen++;
	*written = in_len;
	return head;
}

static void fake_use(struct fake_dev *d, uint32_t id, uint32_t len)
{
	struct virtq *vq = d->vq;
	vq->used->ring[d->used_idx & (vq->num - 1)].id = id;
	vq->used->ring[d->used_idx & (vq->num - 1)].len = len;
	d->used_idx++;
	vq->used->idx = d->used_idx;
}

/* Consumes everything published and returns it used, fully written. */
static unsigned fake_service(struct fake_dev *d)
{
	unsigned n = 0;
	uint32_t w;
	int head;
	while ((head = fake_consume(d, 0, &w)) >= 0) {
		fake_use(d, (uint32_t)head, w);
		n++;
	}
	return n;
}

static void set_avail_event(struct virtq *vq, uint16_t v)
{
	*(volatile uint16_t *)&vq->used->ring[vq->num] = v;
}

static uint16_t get_used_event(struct virtq *vq)
{
	return vq->avail->ring[vq->num];
}

static void test_init_layout(void **state)
{
	(void)state;
	struct fixture *f = fx_new(256, false);
	assert_int_equal(virtq_num_free(&f->vq), 256);
	assert_int_equal(virtq_desc_addr(&f->vq) % 16, 0);
	assert_int_equal(virtq_avail_addr(&f->vq) % 2, 0);
	assert_int_equal(virtq_used_addr(&f->vq) % 4, 0);
	assert_true(virtq_avail_addr(&f->vq) >= virtq_desc_addr(&f->vq) + 16 * 256);
	assert_true(virtq_used_addr(&f->vq) >= virtq_avail_addr(&f->vq) + 6 + 2 * 256);
	assert_true(virtq_ring_size(256) >= virtq_used_addr(&f->vq) - virtq_desc_addr(&f->vq) + 6 + 8 * 256);
	/* Polling by default: no interrupts requested. */
	assert_int_equal(f->vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	fx_free(f);

	struct virtq vq;
	struct virtq_slot slots[4];
	static _Alignas(4096) uint8_t mem[8192];
	assert_int_equal(virtq_init(&vq, 3, 0, mem, slots, false, fake_notify, NULL), K_EINVAL);
	assert_int_equal(virtq_init(&vq, 0, 0, mem, slots, false, fake_notify, NULL), K_EINVAL);
	assert_int_equal(virtq_init(&vq, 65536, 0, mem, slots, false, fake_notify, NULL), K_EINVAL);
	assert_int_equal(virtq_init(&vq, 4, 0, mem + 8, slots, false, fake_notify, NULL), K_EINVAL);
	assert_int_equal(virtq_init(&vq, 4, 0, mem, slots, false, fake_notify, NULL), K_OK);
	assert_int_equal(virtq_ring_size(32768) > 32768 * 16, 1);
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8, false);
	uint8_t buf[100];
	int token;
	struct virtq_seg seg = { buf, sizeof buf };
	uint32_t len = 0;

	assert_null(virtq_get_used(&f->vq, &len));
	assert_int_equal(virtq_add(&f->vq, &seg, 0, 1, &token), K_OK);
	assert_int_equal(virtq_num_free(&f->vq), 7);
	/* Not visible before the kick. */
	assert_int_equal(f->vq.avail->idx, 0);
	assert_int_equal(fake_service(&f->dev), 0);
	assert_true(virtq_kick(&f->vq));
	assert_int_equal(f->dev.notified, 1);
	assert_int_equal(fake_service(&f->dev), 1);
	assert_true(virtq_has_used(&f->vq));
	assert_ptr_equal(virtq_get_used(&f->vq, &len), &token);
	assert_int_equal(len, 100);
	for (int k = 0; k < 100; k++)
		assert_int_equal(buf[k], (uint8_t)k);
	assert_int_equal(virtq_num_free(&f->vq), 8);
	assert_false(virtq_has_used(&f->vq));
	assert_null(virtq_get_used(&f->vq, &len));
	/* A kick with nothing new does not notify. */
	assert_false(virtq_kick(&f->vq));
	assert_int_equal(f->dev.notified, 1);
	fx_free(f);
}

static void test_chains(void **state)
{
	(void)state;
	struct fixture *f = fx_new(16, false);
	uint8_t h1[10], h2[20], h3[30], in1[40], in2[50];
	memset(h1, 0xa1, sizeof h1);
	struct virtq_seg segs[] = {
		{ h1, sizeof h1 }, { h2, sizeof h2 }, { h3, sizeof h3 },
		{ in1, sizeof in1 }, { in2, sizeof in2 },
	};
	int token;
	uint32_t len;

	assert_int_equal(virtq_add(&f->vq, segs, 3, 2, &token), K_OK);
	assert_int_equal(virtq_num_free(&f->vq), 11);
	virtq_kick(&f->vq);
	uint32_t written;
	int head = fake_consume(&f->dev, 7, &written);
	assert_true(head >= 0);
	assert_int_equal(f->dev.last_nout, 3);
	assert_int_equal(f->dev.last_nin, 2);
	assert_int_equal(written, 90);
	/* Descriptors carry the caller's addresses, in order. */
	uint16_t i = (uint16_t)head;
	for (unsigned k = 0; k < 5; k++) {
		assert_int_equal(f->vq.desc[i].addr, (uintptr_t)segs[k].addr);
		assert_int_equal(f->vq.desc[i].len, segs[k].len);
		i = f->vq.desc[i].next;
	}
	fake_use(&f->dev, (uint32_t)head, 60);   /* partial write is fine */
	assert_ptr_equal(virtq_get_used(&f->vq, &len), &token);
	assert_int_equal(len, 60);
	assert_int_equal(in1[0], 7);
	assert_int_equal(in2[0], (uint8_t)(40 + 7));
	assert_int_equal(h1[0], 0xa1);           /* readable part untouched */
	assert_int_equal(virtq_num_free(&f->vq), 16);
	assert_int_equal(f->vq.stats.bad_len, 0);
	fx_free(f);
}

static void test_batching(void **state)
{
	(void)state;
	struct fixture *f = fx_new(16, false);
	uint8_t bufs[8][16];
	int tokens[8];
	for (int k = 0; k < 8; k++) {
		struct virtq_seg s = { bufs[k], sizeof bufs[k] };
		assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &tokens[k]), K_OK);
	}
	assert_true(virtq_kick(&f->vq));
	assert_int_equal(f->dev.notified, 1);
	assert_int_equal(f->vq.avail->idx, 8);
	assert_int_equal(fake_service(&f->dev), 8);
	/* Tokens come back in the order the device used them. */
	for (int k = 0; k < 8; k++) {
		uint32_t len = 99;
		assert_ptr_equal(virtq_get_used(&f->vq, &len), &tokens[k]);
		assert_int_equal(len, 0);   /* nothing writable */
	}
	assert_int_equal(f->vq.stats.kicks, 1);
	assert_int_equal(f->vq.stats.notifies, 1);
	assert_int_equal(f->vq.stats.used, 8);

	/* Out-of-order completion is fine: use the second chain first. */
	int t1, t2;
	struct virtq_seg s = { bufs[0], 16 };
	assert_int_equal(virtq_add(&f->vq, &s, 0, 1, &t1), K_OK);
	assert_int_equal(virtq_add(&f->vq, &s, 0, 1, &t2), K_OK);
	virtq_kick(&f->vq);
	uint32_t w;
	int a = fake_consume(&f->dev, 0, &w), b = fake_consume(&f->dev, 0, &w);
	fake_use(&f->dev, (uint32_t)b, 16);
	fake_use(&f->dev, (uint32_t)a, 16);
	assert_ptr_equal(virtq_get_used(&f->vq, NULL), &t2);
	assert_ptr_equal(virtq_get_used(&f->vq, NULL), &t1);
	assert_int_equal(virtq_num_free(&f->vq), 16);
	fx_free(f);
}

static void test_full_ring(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8, false);
	uint8_t buf[8];
	struct virtq_seg segs[9];
	int token;
	for (int k = 0; k < 9; k++)
		segs[k] = (struct virtq_seg){ buf, sizeof buf };

	assert_int_equal(virtq_add(&f->vq, segs, 9, 0, &token), K_ENOSPC);
	assert_int_equal(virtq_add(&f->vq, segs, 0, 0, &token), K_EINVAL);
	assert_int_equal(virtq_add(&f->vq, segs, 1, 0, NULL), K_EINVAL);
	struct virtq_seg zero = { buf, 0 };
	assert_int_equal(virtq_add(&f->vq, &zero, 1, 0, &token), K_EINVAL);

	assert_int_equal(virtq_add(&f->vq, segs, 3, 3, &token), K_OK);
	assert_int_equal(virtq_add(&f->vq, segs, 3, 0, &token), K_EAGAIN);
	assert_int_equal(virtq_add(&f->vq, segs, 1, 1, &token), K_OK);
	assert_int_equal(virtq_num_free(&f->vq), 0);
	assert_int_equal(virtq_add(&f->vq, segs, 1, 0, &token), K_EAGAIN);
	virtq_kick(&f->vq);
	assert_int_equal(fake_service(&f->dev), 2);
	assert_non_null(virtq_get_used(&f->vq, NULL));
	assert_int_equal(virtq_num_free(&f->vq), 6);
	assert_int_equal(virtq_add(&f->vq, segs, 6, 0, &token), K_OK);
	assert_non_null(virtq_get_used(&f->vq, NULL));
	assert_int_equal(virtq_num_free(&f->vq), 2);
	/* A full-length chain fits once everything is back. */
	virtq_kick(&f->vq);
	fake_service(&f->dev);
	assert_non_null(virtq_get_used(&f->vq, NULL));
	assert_int_equal(virtq_add(&f->vq, segs, 4, 4, &token), K_OK);
	fx_free(f);
}

/* Runs far past 65536 so avail, used and the device's indices all wrap,
 * with varying chain lengths and a few buffers always in flight. */
static void test_wraparound(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8, false);
	uint8_t buf[4][32];
	uintptr_t next_token = 1, expect = 1;
	unsigned outstanding = 0;
	for (unsigned round = 0; round < 150000; round++) {
		unsigned n = 1 + round % 3;
		struct virtq_seg segs[3];
		for (unsigned k = 0; k < n; k++)
			segs[k] = (struct virtq_seg){ buf[k], 32 };
		int rc = virtq_add(&f->vq, segs, n - 1, 1, (void *)next_token);
		if (rc == K_OK) {
			next_token++;
			outstanding++;
		} else {
			assert_int_equal(rc, K_EAGAIN);
		}
		virtq_kick(&f->vq);
		if (round % 2 == 1)
			fake_service(&f->dev);
		uint32_t len;
		void *t;
		while ((t = virtq_get_used(&f->vq, &len)) != NULL) {
			assert_int_equal((uintptr_t)t, expect);
			assert_int_equal(len, 32);
			expect++;
			outstanding--;
		}
	}
	fake_service(&f->dev);
	while (virtq_get_used(&f->vq, NULL) != NULL)
		outstanding--;
	assert_int_equal(outstanding, 0);
	assert_true(next_token > 70000);
	assert_int_equal(virtq_num_free(&f->vq), 8);
	assert_int_equal(f->vq.stats.bad_id + f->vq.stats.bad_len + f->vq.stats.bad_idx, 0);
	assert_false(virtq_is_broken(&f->vq));
	fx_free(f);
}

static void test_no_notify_flag(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8, false);
	uint8_t buf[8];
	struct virtq_seg s = { buf, 8 };
	int token;
	f->vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
	assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_false(virtq_kick(&f->vq));
	assert_int_equal(f->dev.notified, 0);
	assert_int_equal(f->vq.avail->idx, 1);   /* published anyway */
	f->vq.used->flags = 0;
	assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_true(virtq_kick(&f->vq));
	assert_int_equal(f->dev.notified, 1);
	fx_free(f);
}

static void test_need_event_rule(void **state)
{
	(void)state;
	/* notify iff event in [old, new), modulo 2^16 */
	assert_true(virtq_need_event(0, 1, 0));
	assert_false(virtq_need_event(1, 1, 0));
	assert_true(virtq_need_event(4, 8, 3));
	assert_true(virtq_need_event(3, 8, 3));
	assert_false(virtq_need_event(8, 8, 3));
	assert_false(virtq_need_event(2, 8, 3));
	assert_true(virtq_need_event(65535, 2, 65534));
	assert_true(virtq_need_event(0, 2, 65534));
	assert_false(virtq_need_event(2, 2, 65534));
	assert_false(virtq_need_event(65533, 2, 65534));
}

static void test_event_idx_kick(void **state)
{
	(void)state;
	struct fixture *f = fx_new(16, true);
	uint8_t buf[8];
	struct virtq_seg s = { buf, 8 };
	int token;

	/* Device wants to hear about avail idx 0 (the first buffer). */
	set_avail_event(&f->vq, 0);
	assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_true(virtq_kick(&f->vq));           /* 0 in [0,1) */
	/* Device is busy: asks to be told only when idx passes 5. */
	set_avail_event(&f->vq, 5);
	for (int k = 0; k < 3; k++)
		assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_false(virtq_kick(&f->vq));          /* published 1..3, 5 not in [1,4) */
	assert_int_equal(f->vq.avail->idx, 4);
	for (int k = 0; k < 3; k++)
		assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_true(virtq_kick(&f->vq));           /* 5 in [4,7) */
	assert_int_equal(f->dev.notified, 2);
	assert_int_equal(f->vq.stats.kicks, 3);
	/* Event already behind: no notification until the device moves it. */
	assert_int_equal(fake_service(&f->dev), 7);
	while (virtq_get_used(&f->vq, NULL) != NULL)
		;
	assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_false(virtq_kick(&f->vq));          /* 5 not in [7,8) */
	set_avail_event(&f->vq, 8);
	assert_int_equal(virtq_add(&f->vq, &s, 1, 0, &token), K_OK);
	assert_true(virtq_kick(&f->vq));           /* 8 in [8,9) */
	fx_free(f);
}

static void test_event_idx_used_event(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8, true);
	uint8_t buf[8];
	struct virtq_seg s = { buf, 8 };
	int token;

	/* Disabled: used_event sits just behind last_used (farthest away). */
	assert_int_equal(get_used_event(&f->vq), 0xffff);
	assert_true(virtq_enable_cb(&f->vq));
	assert_int_equal(get_used_event(&f->vq), 0);
	for (int k = 0; k < 3; k++)
		assert_int_equal(virtq_add(&f->vq, &s, 0, 1, &token), K_OK);
	virtq_kick(&f->vq);
	fake_service(&f->dev);
	/* The device would interrupt: used_event 0 in [0,3). */
	assert_true(virtq_need_event(get_used_event(&f->vq), 3, 0));
	/* Consuming moves used_event along while callbacks are on. */
	assert_non_null(virtq_get_used(&f->vq, NULL));
	assert_int_equal(get_used_event(&f->vq), 1);
	/* enable_cb reports pending buffers so the caller polls instead of waiting. */
	assert_false(virtq_enable_cb(&f->vq));
	virtq_disable_cb(&f->vq);
	assert_int_equal(get_used_event(&f->vq), 0);   /* last_used(1) - 1 */
	assert_non_null(virtq_get_used(&f->vq, NULL));
	assert_int_equal(get_used_event(&f->vq), 0);   /* not moved while disabled */
	assert_non_null(virtq_get_used(&f->vq, NULL));
	assert_true(virtq_enable_cb(&f->vq));
	assert_int_equal(get_used_event(&f->vq), 3);
	fx_free(f);

	/* Without event index, the flag carries the request. */
	f = fx_new(8, false);
	assert_int_equal(f->vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_true(virtq_enable_cb(&f->vq));
	assert_int_equal(f->vq.avail->flags, 0);
	virtq_disable_cb(&f->vq);
	assert_int_equal(f->vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
	fx_free(f);
}

static void test_bogus_device(void **state)
{
	(void)state;
	struct fixture *f = fx_new(8, false);
	uint8_t buf[16];
	struct virtq_seg segs[2] = { { buf, 8 }, { buf + 8, 8 } };
	int token;
	uint32_t len, w;

	assert_int_equal(virtq_add(&f->vq, segs, 1, 1, &token), K_OK);
	assert_int_equal(virtq_add(&f->vq, segs, 1, 1, &token), K_OK);
	virtq_kick(&f->vq);
	int h1 = fake_consume(&f->dev, 0, &w);
	int h2 = fake_consume(&f->dev, 0, &w);

	/* Id out of range: dropped and counted. */
	fake_use(&f->dev, 1000, 8);
	assert_null(virtq_get_used(&f->vq, &len));
	assert_int_equal(f->vq.stats.bad_id, 1);
	/* Id of a descriptor that is not a chain head (the second of h1's chain). */
	fake_use(&f->dev, f->vq.slot[h1].next, 8);
	assert_null(virtq_get_used(&f->vq, &len));
	assert_int_equal(f->vq.stats.bad_id, 2);
	/* Length beyond the writable 8 bytes: clamped and counted. */
	fake_use(&f->dev, (uint32_t)h1, 4096);
	assert_ptr_equal(virtq_get_used(&f->vq, &len), &token);
	assert_int_equal(len, 8);
	assert_int_equal(f->vq.stats.bad_len, 1);
	/* The same head twice: the second is not outstanding any more. */
	fake_use(&f->dev, (uint32_t)h1, 8);
	assert_null(virtq_get_used(&f->vq, &len));
	assert_int_equal(f->vq.stats.bad_id, 3);
	/* A legitimate completion still works after all that. */
	fake_use(&f->dev, (uint32_t)h2, 8);
	assert_ptr_equal(virtq_get_used(&f->vq, &len), &token);
	assert_int_equal(virtq_num_free(&f->vq), 8);
	assert_false(virtq_is_broken(&f->vq));

	/* used->idx running ahead of what is outstanding breaks the queue. */
	assert_int_equal(virtq_add(&f->vq, segs, 1, 1, &token), K_OK);
	virtq_kick(&f->vq);
	f->vq.used->idx = (uint16_t)(f->vq.used->idx + 5);
	assert_null(virtq_get_used(&f->vq, &len));
	assert_int_equal(f->vq.stats.bad_idx, 1);
	assert_true(virtq_is_broken(&f->vq));
	assert_false(virtq_has_used(&f->vq));
	assert_int_equal(virtq_add(&f->vq, segs, 1, 1, &token), K_EIO);
	fx_free(f);
}

/* The free list survives random interleavings of add and use. */
static void test_random_ops(void **state)
{
	(void)state;
	struct fixture *f = fx_new(32, true);
	uint8_t buf[64];
	srand(12345);
	unsigned live = 0;
	for (int round = 0; round < 20000; round++) {
		unsigned n = 1 + (unsigned)rand() % 6;
		struct virtq_seg segs[6];
		for (unsigned k = 0; k < n; k++)
			segs[k] = (struct virtq_seg){ buf + k, 1 + (uint32_t)rand() % 8 };
		unsigned nout = (unsigned)rand() % (n + 1);
		unsigned before = virtq_num_free(&f->vq);
		int rc = virtq_add(&f->vq, segs, nout, n - nout, buf);
		if (rc == K_OK) {
			assert_int_equal(virtq_num_free(&f->vq), before - n);
			live++;
		} else {
			assert_int_equal(rc, K_EAGAIN);
			assert_true(before < n);
		}
		if (rand() % 3 == 0) {
			set_avail_event(&f->vq, f->dev.last_avail);
			virtq_kick(&f->vq);
		}
		if (rand() % 4 == 0)
			fake_service(&f->dev);
		while (rand() % 2 && virtq_get_used(&f->vq, NULL) != NULL)
			live--;
	}
	virtq_kick(&f->vq);
	fake_service(&f->dev);
	while (virtq_get_used(&f->vq, NULL) != NULL)
		live--;
	assert_int_equal(live, 0);
	assert_int_equal(virtq_num_free(&f->vq), 32);
	assert_int_equal(f->vq.stats.bad_id + f->vq.stats.bad_len + f->vq.stats.bad_idx, 0);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_layout),
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_chains),
		cmocka_unit_test(test_batching),
		cmocka_unit_test(test_full_ring),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_no_notify_flag),
		cmocka_unit_test(test_need_event_rule),
		cmocka_unit_test(test_event_idx_kick),
		cmocka_unit_test(test_event_idx_used_event),
		cmocka_unit_test(test_bogus_device),
		cmocka_unit_test(test_random_ops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
