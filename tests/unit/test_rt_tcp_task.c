/*
 * test_rt_tcp_task.c - the waiting TCP calls (net/tcp_task.c) in real
 * tasks of the hosted runtime, on a virtual clock, over the fake netdev
 * (net_fake.h) with a scripted peer that builds segments by hand:
 * a server task accepting and echoing (handshake, data read through a
 * small buffer, FIN -> its own FIN); a connection that got data and FIN
 * before anyone accepted it; a read that times out, then one that a RST
 * ends; a write larger than the send buffer that completes only as the
 * peer ACKs (small window), then one that times out; connects that are
 * refused, time out, or succeed; and calls outside a task.
 *
 * Rules: the test is the loop. It injects segments from its own stack,
 * runs passes (loop_once) so woken tasks run, and advances the clock
 * itself, calling net_tick() for TCP's timers (the fake interface is not
 * attached through netstack, so nothing else would).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/task.h>
#include <kiln/tcp.h>

#include "hosted_rt.h"
#include "net_fake.h"
#include "net/tcp_priv.h"

static struct fake_net F;
static uint8_t tcp_mem[4u << 20] __attribute__((aligned(64)));

#define PPORT 40000
#define LPORT 80

static struct tcp_stream_listener L;

static void setup(uint32_t snd_buf)
{
	fake_init(&F, 0, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	cfg.max_conns = 16;
	cfg.max_timewait = 16;
	cfg.max_spans = 64;
	if (snd_buf)
		cfg.snd_buf = snd_buf;
	assert_true(tcp_mem_size(&cfg) <= sizeof tcp_mem);
	assert_int_equal(tcp_if_init(&F.nif, &cfg, tcp_mem, sizeof tcp_mem), K_OK);
	hosted_rt_init();
}

static const struct tcp_stats *ST(void) { return tcp_get_stats(&F.nif); }

/* Lets woken tasks run (a wake is queued for the next pass). */
static void run(void)
{
	for (int i = 0; i < 4; i++)
		loop_once();
}

/* Advances the virtual clock in 1 ms steps, with TCP's timers and passes. */
static void advance(uint64_t ns)
{
	for (uint64_t t = 0; t < ns; t += NS_PER_MS) {
		hosted_clock_advance(NS_PER_MS);
		net_tick(&F.nif, time_now_ns());
		loop_once();
	}
	run();
}

static void finish(void)
{
	tcp_stream_unlisten(&L);
	for (uint32_t i = 0; i < F.nif.tcp->cfg.max_conns; i++) {
		struct tcp_conn *c = &F.nif.tcp->conns[i];
		if (c->state != TCP_CLOSED)
			tcp_abort(c);
	}
	assert_int_equal(ST()->conns_current, 0);
	assert_true(fake_no_leaks(&F));
	struct task_stats ts;
	task_get_stats(&ts);
	assert_int_equal(ts.live, 0);
}

/* ---- the scripted peer ---- */

static void seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		uint16_t wnd, const void *data, size_t len)
{
	static const uint8_t mss[] = { TCPOPT_MSS, 4, 0x05, 0x78 };     /* 1400 */
	uint8_t t[1600], fr[1700];
	size_t hl = (flags & TCP_SYN) ? 24 : 20;
	memset(t, 0, hl);
	be16(t, sport);
	be16(t + 2, dport);
	be32(t + 4, seq);
	be32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	be16(t + 14, wnd);
	if (flags & TCP_SYN)
		memcpy(t + 20, mss, sizeof mss);
	if (len)
		memcpy(t + hl, data, len);
	be16(t + 16, ref_csum(ref_pseudo(PEER_IP, FAKE_IP, 6, (uint16_t)(hl + len)), t, hl + len));
	fake_rx(&F, fr, mk_ip4(fr, PEER_IP, FAKE_IP, 6, 1, 0x4000, 64, t, hl + len), 0);
}

struct out {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	size_t len;
	const uint8_t *data;
};

static struct out out(unsigned i)
{
	struct out r;
	assert_true(i < F.ntx);
	struct fake_frame *fr = &F.tx[i];
	assert_true(frame_ip_csum_ok(fr));
	assert_int_equal(fr->data[23], 6);
	const uint8_t *t = fr->data + 34;
	size_t tl = fr->len - 34;
	assert_int_equal(ref_csum(ref_pseudo(FAKE_IP, PEER_IP, 6, (uint16_t)tl), t, tl), 0);
	size_t hl = (size_t)(t[12] >> 4) * 4;
	r.sport = rd16(t);
	r.dport = rd16(t + 2);
	r.seq = rd32(t + 4);
	r.ack = rd32(t + 8);
	r.flags = t[13];
	r.wnd = rd16(t + 14);
	r.len = tl - hl;
	r.data = t + hl;
	return r;
}

static struct out last_out(void) { return out(F.ntx - 1); }

/* Everything the stack sent since the last clear, as a byte stream;
 * returns its length and whether a FIN was among it. */
static size_t sent_bytes(uint8_t *buf, size_t cap, bool *fin)
{
	size_t n = 0;
	*fin = false;
	for (unsigned i = 0; i < F.ntx; i++) {
		struct out o = out(i);
		assert_true(n + o.len <= cap);
		memcpy(buf + n, o.data, o.len);
		n += o.len;
		if (o.flags & TCP_FIN)
			*fin = true;
	}
	return n;
}

static uint32_t peer_seq, our_seq;

/* The peer opens a connection to LPORT from sport, advertising wnd. */
static void handshake(uint16_t sport, uint16_t wnd)
{
	fake_clear_tx(&F);
	peer_seq = 7000000 + sport;
	seg(sport, LPORT, peer_seq, 0, TCP_SYN, wnd, NULL, 0);
	struct out sa = last_out();
	assert_int_equal(sa.flags, TCP_SYN | TCP_ACK);
	our_seq = sa.seq + 1;
	peer_seq++;
	seg(sport, LPORT, peer_seq, our_seq, TCP_ACK, wnd, NULL, 0);
	fake_clear_tx(&F);
}

/* ---- tasks ---- */

struct result {
	int stage;
	int ret, ret2;
	int reads;
	size_t echoed;
	uint64_t timeout;
	struct tcp_stream s;
} R;

/* Accepts one connection, echoes it through a 4-byte buffer until EOF,
 * then shuts down and closes. (Tasks record results; the test asserts,
 * since a failing cmocka assert must not unwind a task's stack.) */
static void echo_server(void *arg)
{
	(void)arg;
	R.stage = 1;
	R.ret = tcp_stream_accept(&L, &R.s, 0);
	if (R.ret < 0)
		return;
	R.stage = 2;
	for (;;) {
		uint8_t buf[4];
		int n = tcp_stream_read(&R.s, buf, sizeof buf, 0);
		if (n <= 0) {
			R.ret2 = n;
			break;
		}
		R.reads++;
		int w = tcp_stream_write(&R.s, buf, (size_t)n, 0);
		if (w != n) {
			R.ret2 = w;
			break;
		}
		R.echoed += (size_t)w;
	}
	R.stage = 3;
	R.ret = tcp_stream_shutdown(&R.s);
	tcp_stream_close(&R.s);
	R.stage = 4;
}

static void test_accept_echo(void **state)
{
	(void)state;
	setup(0);
	memset(&R, 0, sizeof R);
	assert_int_equal(tcp_stream_listen(&L, &F.nif, LPORT, 4), K_OK);
	assert_non_null(task_spawn(echo_server, NULL, 0, "echo"));
	run();
	assert_int_equal(R.stage, 1);                /* waiting in accept */
	handshake(PPORT, 65535);
	run();
	assert_int_equal(R.stage, 2);                /* accepted, waiting to read */
	assert_int_equal(F.ntx, 0);

	/* two segments arrive before the task runs: it reads them through
	 * its 4-byte buffer (ack + resume) and echoes every piece */
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, "hello", 5);
	seg(PPORT, LPORT, peer_seq + 5, our_seq, TCP_ACK, 65535, " world", 6);
	peer_seq += 11;
	assert_int_equal(R.reads, 0);                /* held in TCP until read */
	run();
	assert_int_equal(R.echoed, 11);
	assert_true(R.reads >= 3);
	uint8_t got[64];
	bool fin;
	size_t n = sent_bytes(got, sizeof got, &fin);
	assert_int_equal(n, 11);
	assert_memory_equal(got, "hello world", 11);
	assert_false(fin);
	assert_int_equal(out(0).seq, our_seq);
	assert_int_equal(last_out().ack, peer_seq);
	our_seq += 11;

	/* the peer's FIN: read returns 0, the task shuts down and closes */
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	peer_seq++;
	run();
	assert_int_equal(R.ret2, 0);
	assert_int_equal(R.stage, 4);
	assert_int_equal(R.ret, K_OK);
	struct out f = last_out();
	assert_true(f.flags & TCP_FIN);
	assert_int_equal(f.seq, our_seq);
	assert_int_equal(f.ack, peer_seq);
	/* the peer ACKs our FIN: the connection is gone */
	seg(PPORT, LPORT, peer_seq, our_seq + 1, TCP_ACK, 65535, NULL, 0);
	assert_int_equal(ST()->conns_current, 0);
	finish();
}

/* Reads everything until EOF into R (after accepting). */
static uint8_t drained[256];
static void drain_server(void *arg)
{
	(void)arg;
	R.ret = tcp_stream_accept(&L, &R.s, 0);
	if (R.ret < 0)
		return;
	int n;
	while ((n = tcp_stream_read(&R.s, drained + R.echoed, sizeof drained - R.echoed, 0)) > 0)
		R.echoed += (size_t)n;
	R.ret2 = n;
	tcp_stream_close(&R.s);
	R.stage = 9;
}

static void test_parked_before_accept(void **state)
{
	(void)state;
	setup(0);
	memset(&R, 0, sizeof R);
	assert_int_equal(tcp_stream_listen(&L, &F.nif, LPORT, 4), K_OK);
	/* a whole exchange before any task accepts: held, FIN remembered */
	handshake(PPORT, 65535);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, "early", 5);
	seg(PPORT, LPORT, peer_seq + 5, our_seq, TCP_ACK | TCP_FIN, 65535, NULL, 0);
	assert_int_equal(L.nq, 1);
	assert_true(L.q[0].conn->rx_bytes == 5);     /* still in TCP's queue */
	/* a connection reset while queued leaves the queue */
	handshake(PPORT + 1, 65535);
	assert_int_equal(L.nq, 2);
	seg(PPORT + 1, LPORT, peer_seq, our_seq, TCP_RST, 0, NULL, 0);
	assert_int_equal(L.nq, 1);
	assert_non_null(task_spawn(drain_server, NULL, 0, "drain"));
	run();
	assert_int_equal(R.ret, K_OK);
	assert_int_equal(R.stage, 9);
	assert_int_equal(R.echoed, 5);
	assert_memory_equal(drained, "early", 5);
	assert_int_equal(R.ret2, 0);                 /* EOF after the data */
	/* more than the queue holds: the extra handshakes are reset */
	for (unsigned i = 0; i < TCP_STREAM_ACCEPT_QUEUE + 1; i++)
		handshake((uint16_t)(PPORT + 10 + i), 65535);
	assert_int_equal(L.nq, TCP_STREAM_ACCEPT_QUEUE);
	finish();
	assert_int_equal(L.nq, 0);
}

static void reader(void *arg)
{
	(void)arg;
	R.ret = tcp_stream_accept(&L, &R.s, 0);
	R.stage = 1;
	uint8_t b[16];
	R.ret = tcp_stream_read(&R.s, b, sizeof b, R.timeout);
	R.stage = 2;
	R.ret2 = tcp_stream_read(&R.s, b, sizeof b, 0);
	R.stage = 3;
	tcp_stream_close(&R.s);
}

static void test_read_timeout_then_reset(void **state)
{
	(void)state;
	setup(0);
	memset(&R, 0, sizeof R);
	R.timeout = 100 * NS_PER_MS;
	assert_int_equal(tcp_stream_listen(&L, &F.nif, LPORT, 4), K_OK);
	assert_non_null(task_spawn(reader, NULL, 0, "reader"));
	handshake(PPORT, 65535);
	run();
	assert_int_equal(R.stage, 1);
	advance(60 * NS_PER_MS);
	assert_int_equal(R.stage, 1);                /* still waiting */
	advance(50 * NS_PER_MS);
	assert_int_equal(R.stage, 2);
	assert_int_equal(R.ret, K_ETIMEDOUT);
	/* the second read has no limit; the peer's RST ends it */
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_RST, 0, NULL, 0);
	run();
	assert_int_equal(R.stage, 3);
	assert_int_equal(R.ret2, K_ECONNRESET);
	assert_null(R.s.conn);
	assert_int_equal(tcp_stream_read(&R.s, NULL, 0, 0), K_EINVAL);  /* not a task */
	finish();
}

static uint8_t pattern[3000];

static void writer(void *arg)
{
	(void)arg;
	R.ret = tcp_stream_accept(&L, &R.s, 0);
	R.stage = 1;
	R.ret = tcp_stream_write(&R.s, pattern, sizeof pattern, 0);
	R.stage = 2;
	task_sleep_ns(NS_PER_MS);                    /* until the test moves the clock */
	R.ret2 = tcp_stream_write(&R.s, pattern, 2000, 50 * NS_PER_MS);
	R.stage = 3;
	tcp_stream_abort(&R.s);
}

static void test_write_waits_for_acks(void **state)
{
	(void)state;
	setup(1024);                                 /* a small send buffer */
	memset(&R, 0, sizeof R);
	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(tcp_stream_listen(&L, &F.nif, LPORT, 4), K_OK);
	assert_non_null(task_spawn(writer, NULL, 0, "writer"));
	handshake(PPORT, 600);                       /* and a small window */
	run();
	assert_int_equal(R.stage, 1);

	/* the peer ACKs whatever arrived; the write goes on in steps */
	uint8_t got[4096];
	size_t total = 0;
	size_t acked_when_done = 0;
	int rounds = 0;
	while (total < sizeof pattern && rounds++ < 50) {
		if (R.stage == 2 && !acked_when_done)
			acked_when_done = total;
		assert_true(F.ntx > 0);
		for (unsigned i = 0; i < F.ntx; i++) {
			struct out o = out(i);
			assert_true(o.len <= 600);
			assert_int_equal(o.seq, our_seq + total);
			memcpy(got + total, o.data, o.len);
			total += o.len;
		}
		fake_clear_tx(&F);
		seg(PPORT, LPORT, peer_seq, our_seq + (uint32_t)total, TCP_ACK, 600, NULL, 0);
		run();
	}
	assert_int_equal(total, sizeof pattern);
	assert_memory_equal(got, pattern, sizeof pattern);
	assert_true(rounds >= 5);                    /* 3000 bytes through 600 */
	assert_int_equal(R.stage, 2);
	assert_int_equal(R.ret, (int)sizeof pattern);
	/* it returned only once all but the last buffer-full was acknowledged */
	assert_true(acked_when_done >= sizeof pattern - 1024);

	/* the peer stops ACKing: the next write fills the buffer and times out
	 * with the count it queued */
	assert_int_equal(F.ntx, 0);
	advance(60 * NS_PER_MS);
	assert_int_equal(R.stage, 3);
	assert_int_equal(R.ret2, 1024);
	finish();
}

static void connector(void *arg)
{
	R.ret = tcp_stream_connect(&R.s, &F.nif, PEER_IP, 5000, (uint64_t)(uintptr_t)arg);
	R.stage = 1;
	if (R.ret == K_OK) {
		R.ret2 = tcp_stream_write(&R.s, "hi", 2, 0);
		tcp_stream_close(&R.s);
	}
	R.stage = 2;
}

static void test_connect(void **state)
{
	(void)state;
	setup(0);
	/* refused: RST|ACK to the SYN */
	memset(&R, 0, sizeof R);
	assert_non_null(task_spawn(connector, NULL, 0, "c1"));
	run();
	assert_int_equal(R.stage, 0);
	struct out syn = last_out();
	assert_int_equal(syn.flags, TCP_SYN);
	assert_int_equal(syn.dport, 5000);
	seg(5000, syn.sport, 0, syn.seq + 1, TCP_RST | TCP_ACK, 0, NULL, 0);
	run();
	assert_int_equal(R.stage, 2);
	assert_int_equal(R.ret, K_ECONNREFUSED);
	assert_int_equal(ST()->conns_current, 0);

	/* no answer within 1.5 s: abandoned */
	memset(&R, 0, sizeof R);
	fake_clear_tx(&F);
	assert_non_null(task_spawn(connector, (void *)(uintptr_t)(1500 * NS_PER_MS), 0, "c2"));
	run();
	assert_int_equal(F.ntx, 1);
	advance(1400 * NS_PER_MS);
	assert_int_equal(R.stage, 0);
	advance(200 * NS_PER_MS);
	assert_int_equal(R.stage, 2);
	assert_int_equal(R.ret, K_ETIMEDOUT);
	assert_int_equal(ST()->conns_current, 0);

	/* answered: connected, writes, closes with FIN */
	memset(&R, 0, sizeof R);
	fake_clear_tx(&F);
	assert_non_null(task_spawn(connector, NULL, 0, "c3"));
	run();
	syn = last_out();
	assert_int_equal(syn.flags, TCP_SYN);
	seg(5000, syn.sport, 90000, syn.seq + 1, TCP_SYN | TCP_ACK, 65535, NULL, 0);
	run();
	assert_int_equal(R.stage, 2);
	assert_int_equal(R.ret, K_OK);
	assert_int_equal(R.ret2, 2);
	uint8_t got[16];
	bool fin;
	assert_int_equal(sent_bytes(got, sizeof got, &fin), 2);
	assert_memory_equal(got, "hi", 2);
	assert_true(fin);
	finish();
}

static void test_outside_a_task(void **state)
{
	(void)state;
	setup(0);
	struct tcp_stream s;
	memset(&s, 0, sizeof s);
	assert_int_equal(tcp_stream_listen(&L, &F.nif, LPORT, 4), K_OK);
	static struct tcp_stream_listener L2;
	assert_int_equal(tcp_stream_listen(&L2, &F.nif, LPORT, 4), K_EADDRINUSE);
	assert_int_equal(tcp_stream_accept(&L, &s, 0), K_EINVAL);
	assert_int_equal(tcp_stream_connect(&s, &F.nif, PEER_IP, 5000, 0), K_EINVAL);
	assert_int_equal(tcp_stream_write(&s, "x", 1, 0), K_EINVAL);
	assert_int_equal(ST()->conns_current, 0);
	finish();
}

int main(void)
{
	log_set_level(LOG_ERROR);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_echo),
		cmocka_unit_test(test_parked_before_accept),
		cmocka_unit_test(test_read_timeout_then_reset),
		cmocka_unit_test(test_write_waits_for_acks),
		cmocka_unit_test(test_connect),
		cmocka_unit_test(test_outside_a_task),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
