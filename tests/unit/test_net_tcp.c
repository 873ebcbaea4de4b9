/*
 * test_net_tcp.c - TCP through the fake netdev on virtual time, against
 * a scripted peer that builds segments by hand (checksums from the tests'
 * own reference sum) and reads what the stack sends:
 * handshake options both ways, RST for closed ports, delayed ACKs,
 * out-of-order reassembly with SACK blocks, RFC 5961 challenge ACKs, RTO
 * backoff and abort, fast retransmit on three duplicate ACKs, zero window
 * and persist probes, SYN cookies with a full backlog, TIME_WAIT (re-ACK,
 * recycling by a newer SYN, expiry), simultaneous open, passive close,
 * lookups among thousands of connections, the option parser, and ICMP
 * "fragmentation needed" shrinking segments.
 * Hostile peers: challenge ACKs limited per connection and by a random
 * per-second budget, rate-limited out-of-window/PAWS/beyond-snd_max ACKs,
 * cookie ACKs refused without a recent overflow, segments with bad
 * options dropped, the zero-window (persist) timeout, the FIN_WAIT_2
 * deadline of a half-closed connection, and the per-peer limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/tcp.h>

#include "net_fake.h"
#include "net/tcp_priv.h"

static struct fake_net F;
static uint32_t src_ip = PEER_IP;          /* the peer's address for seg() */
static uint8_t tcp_mem[12u << 20] __attribute__((aligned(64)));

#define PPORT 40000
#define LPORT 80

struct app {
	unsigned accepts, eofs, closes, connects, writables;
	int reason;
	uint8_t rx[70000];
	size_t rx_len;
	struct tcp_conn *last;
	uintptr_t last_arg;
} A;

static size_t a_recv(struct tcp_conn *c, const uint8_t *d, size_t n, void *arg)
{
	A.last = c;
	A.last_arg = (uintptr_t)arg;
	if (!d) {
		A.eofs++;
		return 0;
	}
	if (A.rx_len + n <= sizeof A.rx)
		memcpy(A.rx + A.rx_len, d, n);
	A.rx_len += n;
	return n;
}
static void a_closed(struct tcp_conn *c, int r, void *arg) { (void)c; (void)arg; A.closes++; A.reason = r; }
static void a_connected(struct tcp_conn *c, void *arg) { (void)arg; A.connects++; A.last = c; }
static void a_writable(struct tcp_conn *c, void *arg) { (void)c; (void)arg; A.writables++; }
static const struct tcp_handlers H = { .connected = a_connected, .recv = a_recv,
				       .closed = a_closed, .writable = a_writable };

static uintptr_t accept_arg;
static int a_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	A.accepts++;
	A.last = c;
	tcp_set_handlers(c, &H, (void *)accept_arg);
	return K_OK;
}

static void setup(uint32_t max_conns)
{
	fake_init(&F, 0, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	cfg.max_conns = max_conns;
	cfg.max_timewait = 64;
	cfg.max_spans = 256;
	assert_true(tcp_mem_size(&cfg) <= sizeof tcp_mem);
	assert_int_equal(tcp_if_init(&F.nif, &cfg, tcp_mem, sizeof tcp_mem), K_OK);
	memset(&A, 0, sizeof A);
	accept_arg = 0;
	src_ip = PEER_IP;
	assert_int_equal(tcp_listen(&F.nif, LPORT, 16, a_accept, NULL), K_OK);
}

static const struct tcp_stats *ST(void) { return tcp_get_stats(&F.nif); }

/* Sends a segment from the peer. */
static void seg(uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t flags,
		uint16_t wnd, const uint8_t *opt, size_t optlen, const void *data, size_t len)
{
	uint8_t t[1600], fr[1700];
	size_t hl = 20 + ((optlen + 3) & ~(size_t)3);
	memset(t, 0, hl);
	be16(t, sport);
	be16(t + 2, dport);
	be32(t + 4, seq);
	be32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	be16(t + 14, wnd);
	if (optlen)
		memcpy(t + 20, opt, optlen);
	if (len)
		memcpy(t + hl, data, len);
	be16(t + 16, ref_csum(ref_pseudo(src_ip, FAKE_IP, 6, (uint16_t)(hl + len)), t, hl + len));
	fake_rx(&F, fr, mk_ip4(fr, src_ip, FAKE_IP, 6, 1, 0x4000, 64, t, hl + len), 0);
}

struct out {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t wnd;
	struct tcp_opts o;
	size_t optlen, len;
	const uint8_t *data;
};

/* Parses recorded frame i (checking both checksums). */
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
	r.sport = rd16(t);
	r.dport = rd16(t + 2);
	r.seq = rd32(t + 4);
	r.ack = rd32(t + 8);
	size_t hl = (size_t)(t[12] >> 4) * 4;
	r.flags = t[13];
	r.wnd = rd16(t + 14);
	r.optlen = hl - 20;
	assert_int_equal(tcp_parse_options(t + 20, t + hl, (r.flags & TCP_SYN) != 0, &r.o), K_OK);
	r.len = tl - hl;
	r.data = t + hl;
	return r;
}

static struct out last_out(void) { return out(F.ntx - 1); }

static void advance(uint64_t ns)
{
	hosted_clock_advance(ns);
	net_tick(&F.nif, time_now_ns());
}

/* Runs timers up to the next deadline; returns false if there is none. */
static bool next_deadline(void)
{
	uint64_t d = net_next_deadline(&F.nif);
	if (d == UINT64_MAX)
		return false;
	if (d > time_now_ns())
		hosted_clock_set(d);
	net_tick(&F.nif, time_now_ns());
	return true;
}

static const uint8_t syn_opts_full[] = {
	TCPOPT_MSS, 4, 0x05, 0x78,                   /* 1400 */
	TCPOPT_SACK_PERM, 2,
	TCPOPT_TS, 10, 0, 0, 0, 100, 0, 0, 0, 0,
	TCPOPT_NOP, TCPOPT_WS, 3, 7,
};

static uint32_t peer_seq, our_seq;

/* A full passive handshake from sport; opts: full set (TS, SACK, WS) or MSS only. */
static struct tcp_conn *handshake(uint16_t sport, bool full)
{
	static const uint8_t mss_only[] = { TCPOPT_MSS, 4, 0x05, 0x78 };
	fake_clear_tx(&F);
	peer_seq = 1000000 + sport;
	if (full)
		seg(sport, LPORT, peer_seq, 0, TCP_SYN, 65535, syn_opts_full, sizeof syn_opts_full, NULL, 0);
	else
		seg(sport, LPORT, peer_seq, 0, TCP_SYN, 65535, mss_only, sizeof mss_only, NULL, 0);
	struct out sa = last_out();
	assert_int_equal(sa.flags, TCP_SYN | TCP_ACK);
	our_seq = sa.seq + 1;
	peer_seq++;
	unsigned before = A.accepts;
	if (full) {
		uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 101 };
		be32(ts + 8, sa.o.tsval);
		seg(sport, LPORT, peer_seq, our_seq, TCP_ACK, 1024, ts, sizeof ts, NULL, 0);
	} else {
		seg(sport, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, NULL, 0);
	}
	assert_int_equal(A.accepts, before + 1);
	fake_clear_tx(&F);
	return A.last;
}

static void finish(void)
{
	for (uint32_t i = 0; i < F.nif.tcp->cfg.max_conns; i++) {
		struct tcp_conn *c = &F.nif.tcp->conns[i];
		if (c->state != TCP_CLOSED)
			tcp_abort(c);
	}
	tcp_unlisten(&F.nif, LPORT);
	assert_int_equal(ST()->conns_current, 0);
	assert_int_equal(F.nif.tcp->peers_used, 0);   /* per-peer entries all back */
	assert_true(fake_no_leaks(&F));
}

static void test_handshake_options(void **state)
{
	(void)state;
	setup(64);
	seg(PPORT, LPORT, 5000, 0, TCP_SYN, 65535, syn_opts_full, sizeof syn_opts_full, NULL, 0);
	assert_int_equal(F.ntx, 1);
	struct out sa = out(0);
	assert_int_equal(sa.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(sa.sport, LPORT);
	assert_int_equal(sa.dport, PPORT);
	assert_int_equal(sa.ack, 5001);
	assert_true(sa.o.mss_ok);
	assert_int_equal(sa.o.mss, 1460);
	assert_true(sa.o.sack_perm);
	assert_true(sa.o.ts_ok);
	assert_int_equal(sa.o.tsecr, 100);
	assert_true(sa.o.ws_ok);
	assert_int_equal(sa.o.ws, 1);              /* 64 KiB window needs shift 1 */
	assert_int_equal(sa.optlen % 4, 0);
	assert_int_equal(A.accepts, 0);
	assert_int_equal(ST()->conns_current, 1);
	/* the ACK completes it; its window is scaled by the peer's 7 */
	uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 101 };
	be32(ts + 8, sa.o.tsval);
	seg(PPORT, LPORT, 5001, sa.seq + 1, TCP_ACK, 100, ts, sizeof ts, NULL, 0);
	assert_int_equal(A.accepts, 1);
	struct tcp_conn *c = A.last;
	assert_int_equal(c->state, TCP_ESTABLISHED);
	assert_int_equal(c->snd_wnd, 100u << 7);
	assert_int_equal(c->peer_mss, 1400);
	assert_int_equal(c->mss, 1400 - 12);
	assert_true(c->flags & TF_SACK);
	assert_int_equal(ST()->passive_opens, 1);
	/* data from the app carries TS; the echo is the peer's latest */
	assert_int_equal(tcp_write(c, "hello", 5), 5);
	struct out d = last_out();
	assert_int_equal(d.len, 5);
	assert_memory_equal(d.data, "hello", 5);
	assert_int_equal(d.flags, TCP_ACK | TCP_PSH);
	assert_true(d.o.ts_ok);
	assert_int_equal(d.o.tsecr, 101);
	finish();
}

static void test_rst_closed_port(void **state)
{
	(void)state;
	setup(64);
	seg(PPORT, 81, 7000, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	struct out r = last_out();
	assert_int_equal(r.flags, TCP_RST | TCP_ACK);
	assert_int_equal(r.seq, 0);
	assert_int_equal(r.ack, 7001);
	seg(PPORT, 81, 7001, 12345, TCP_ACK, 65535, NULL, 0, "abc", 3);
	r = last_out();
	assert_int_equal(r.flags, TCP_RST);
	assert_int_equal(r.seq, 12345);
	unsigned n = F.ntx;
	seg(PPORT, 81, 7001, 12345, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, n);                  /* never answer a RST */
	assert_int_equal(ST()->resets_out, 2);
	assert_int_equal(ST()->not_for_us, 3);
	/* a corrupt checksum is dropped and counted */
	uint8_t t[20] = { 0 }, fr[100];
	t[12] = 0x50;
	t[13] = TCP_SYN;
	fake_rx(&F, fr, mk_ip4(fr, PEER_IP, FAKE_IP, 6, 1, 0, 64, t, 20), 0);
	assert_int_equal(ST()->bad_csum, 1);
	finish();
}

static void test_delayed_ack(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, "GET /", 5);
	assert_int_equal(A.rx_len, 5);
	assert_int_equal(F.ntx, 0);                  /* delayed */
	advance(39 * NS_PER_MS);
	assert_int_equal(F.ntx, 0);
	advance(2 * NS_PER_MS + TIMER_TICK_NS);
	assert_int_equal(F.ntx, 1);
	struct out a = last_out();
	assert_int_equal(a.flags, TCP_ACK);
	assert_int_equal(a.ack, peer_seq + 5);
	peer_seq += 5;
	/* every second segment is ACKed at once */
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, "abc", 3);
	assert_int_equal(F.ntx, 0);
	seg(PPORT, LPORT, peer_seq + 3, our_seq, TCP_ACK, 65535, NULL, 0, "def", 3);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(last_out().ack, peer_seq + 6);
	/* an answer piggybacks the ACK */
	peer_seq += 6;
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, "x", 1);
	tcp_write(c, "y", 1);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(last_out().ack, peer_seq + 1);
	assert_int_equal(last_out().len, 1);
	assert_int_equal(c->delack_at, 0);
	finish();
}

static void test_ooo_reassembly_sack(void **state)
{
	(void)state;
	setup(64);
	handshake(PPORT, true);
	uint8_t data[3000];
	for (size_t i = 0; i < sizeof data; i++)
		data[i] = (uint8_t)(i * 13 + 1);
	uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 102 };
	/* the second and third thousand arrive first */
	seg(PPORT, LPORT, peer_seq + 2000, our_seq, TCP_ACK, 1024, ts, 12, data + 2000, 1000);
	seg(PPORT, LPORT, peer_seq + 1000, our_seq, TCP_ACK, 1024, ts, 12, data + 1000, 1000);
	assert_int_equal(A.rx_len, 0);
	assert_int_equal(F.ntx, 2);                  /* immediate duplicate ACKs */
	struct out a = last_out();
	assert_int_equal(a.ack, peer_seq);
	assert_int_equal(a.o.nsack, 1);
	assert_int_equal(a.o.sack[0][0], peer_seq + 1000);
	assert_int_equal(a.o.sack[0][1], peer_seq + 3000);
	/* a duplicate of held data changes nothing */
	seg(PPORT, LPORT, peer_seq + 1500, our_seq, TCP_ACK, 1024, ts, 12, data + 1500, 500);
	assert_int_equal(ST()->dup_segs, 1);
	/* the hole fills: everything is delivered in order, ACKed at once */
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 1024, ts, 12, data, 1000);
	assert_int_equal(A.rx_len, 3000);
	assert_memory_equal(A.rx, data, 3000);
	a = last_out();
	assert_int_equal(a.ack, peer_seq + 3000);
	assert_int_equal(a.o.nsack, 0);
	assert_int_equal(ST()->ooo_segs, 2);
	finish();
}

static void test_challenge_acks(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	/* RST in the window but not at RCV.NXT: challenge ACK, still open */
	seg(PPORT, LPORT, peer_seq + 10, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	struct out a = last_out();
	assert_int_equal(a.flags, TCP_ACK);
	assert_int_equal(a.ack, peer_seq);
	assert_int_equal(c->state, TCP_ESTABLISHED);
	/* RST outside the window: silently dropped */
	seg(PPORT, LPORT, peer_seq + 1000000, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	/* SYN on an open connection: challenge ACK (after the per-conn gap) */
	advance(TCP_OOW_RATE_NS);
	seg(PPORT, LPORT, peer_seq + 5, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 2);
	assert_int_equal(ST()->challenge_acks, 2);
	/* ACK of data never sent: ACK back, ignored */
	seg(PPORT, LPORT, peer_seq, our_seq + 5000, TCP_ACK, 65535, NULL, 0, "zz", 2);
	assert_int_equal(F.ntx, 3);
	assert_int_equal(A.rx_len, 0);
	assert_int_equal(c->snd_una, our_seq);
	/* the exact RST ends it */
	seg(PPORT, LPORT, peer_seq, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(A.closes, 1);
	assert_int_equal(A.reason, K_ECONNRESET);
	assert_int_equal(ST()->resets_in, 1);
	assert_int_equal(ST()->conns_current, 0);
	finish();
}

static void test_rto_backoff_abort(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	tcp_write(c, "data", 4);
	assert_int_equal(F.ntx, 1);
	uint64_t times[20];
	unsigned n = 0;
	times[n++] = time_now_ns();
	for (;;) {
		fake_learn(&F, peer_mac, PEER_IP);      /* keeps the neighbour fresh */
		if (A.closes || !next_deadline())
			break;
		for (unsigned i = 0; i < F.ntx; i++)
			if (rd16(F.tx[i].data + 12) == 0x0800 && out(i).len == 4 && n < 20)
				times[n++] = time_now_ns();
		fake_clear_tx(&F);
	}
	assert_int_equal(A.reason, K_ETIMEDOUT);
	assert_int_equal(n, 1 + TCP_DATA_RETRIES);
	uint64_t want = TCP_RTO_INIT_NS;               /* no RTT measured yet */
	for (unsigned i = 1; i < n; i++) {
		uint64_t gap = times[i] - times[i - 1];
		assert_true(gap >= want && gap <= want + 2 * TIMER_TICK_NS);
		want = want * 2 > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : want * 2;
	}
	assert_int_equal(ST()->retransmits, TCP_DATA_RETRIES);
	assert_int_equal(ST()->timeouts, 1);
	finish();
}

static void test_fast_retransmit(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	static uint8_t buf[20000];
	assert_int_equal(tcp_write(c, buf, sizeof buf), (int)sizeof buf);
	assert_int_equal(F.ntx, 10);                 /* initial window: 10 segments */
	uint32_t mss = c->mss;
	/* the first segment is lost; the next three each earn a dup ACK;
	 * the first two each let one new segment out (limited transmit,
	 * RFC 3042), the third starts fast retransmit */
	fake_clear_tx(&F);
	for (int i = 0; i < 2; i++)
		seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 2);
	assert_int_equal(out(0).seq, our_seq + 10 * mss);
	assert_int_equal(out(1).seq, our_seq + 11 * mss);
	assert_int_equal(ST()->fast_retransmits, 0);
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(ST()->fast_retransmits, 1);
	assert_true(F.ntx >= 1);
	struct out r = out(0);
	assert_int_equal(r.seq, our_seq);
	assert_int_equal(r.len, mss);
	assert_true(c->flags & TF_RECOVERY);
	/* a partial ACK retransmits the next hole (NewReno) */
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq, our_seq + mss, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_true(F.ntx >= 1);
	assert_int_equal(out(0).seq, our_seq + mss);
	/* the full ACK ends recovery */
	seg(PPORT, LPORT, peer_seq, c->recover, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_false(c->flags & TF_RECOVERY);
	finish();
}

static void test_zero_window_persist(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 0, NULL, 0, NULL, 0);   /* window 0 */
	assert_int_equal(tcp_write(c, "0123456789", 10), 10);
	assert_int_equal(F.ntx, 0);
	uint64_t t0 = time_now_ns(), prev = 0;
	for (int i = 0; i < 4; i++) {
		for (int k = 0; k < 10 && F.ntx == 0; k++)
			assert_true(next_deadline());      /* the wheel may wake early */
		assert_int_equal(F.ntx, 1);
		struct out p = last_out();
		assert_int_equal(p.seq, our_seq - 1);   /* the probe: old seq, no data */
		assert_int_equal(p.len, 0);
		uint64_t gap = time_now_ns() - t0;
		if (prev)
			assert_true(gap + 2 * TIMER_TICK_NS >= 2 * prev);
		prev = gap;
		t0 = time_now_ns();
		fake_clear_tx(&F);
		seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 0, NULL, 0, NULL, 0);
		assert_int_equal(F.ntx, 0);
	}
	assert_int_equal(ST()->window_probes, 4);
	/* the window opens: the data goes */
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 1000, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(last_out().len, 10);
	assert_int_equal(c->persist_at, 0);
	finish();
}

static void test_syn_cookies(void **state)
{
	(void)state;
	setup(64);
	tcp_unlisten(&F.nif, LPORT);
	assert_int_equal(tcp_listen(&F.nif, LPORT, 2, a_accept, NULL), K_OK);
	uint32_t cookie[5];
	for (int i = 0; i < 5; i++) {
		seg((uint16_t)(2000 + i), LPORT, 9000 + (uint32_t)i, 0, TCP_SYN, 65535,
		    syn_opts_full, sizeof syn_opts_full, NULL, 0);
		struct out sa = last_out();
		assert_int_equal(sa.flags, TCP_SYN | TCP_ACK);
		cookie[i] = sa.seq;
		if (i >= 2) {
			/* stateless: MSS only (WS, SACK and TS are lost) */
			assert_true(sa.o.mss_ok);
			assert_false(sa.o.ts_ok || sa.o.sack_perm || sa.o.ws_ok);
		}
	}
	assert_int_equal(ST()->syncookies_sent, 3);
	assert_int_equal(ST()->conns_current, 2);
	/* the flood does not take a block; a cookie's ACK opens one */
	seg(2004, LPORT, 9005, cookie[4] + 1, TCP_ACK, 65535, NULL, 0, "hi", 2);
	assert_int_equal(A.accepts, 1);
	assert_int_equal(A.rx_len, 2);
	struct tcp_conn *c = A.last;
	assert_int_equal(c->state, TCP_ESTABLISHED);
	assert_int_equal(c->peer_mss, 1220);           /* 1400 rounds down */
	assert_int_equal(ST()->syncookies_ok, 1);
	/* a forged cookie opens nothing */
	seg(2003, LPORT, 9004, cookie[3] + 2, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(A.accepts, 1);
	assert_int_equal(ST()->syncookies_bad, 1);
	assert_int_equal(ST()->conns_current, 3);
	/* the half-open ones time out after their SYN-ACK retries */
	while (ST()->conns_current > 1 && next_deadline())
		;
	assert_int_equal(ST()->conns_current, 1);
	finish();
}

static void test_timewait(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	tcp_close(c);                                  /* active close */
	struct out f = last_out();
	assert_int_equal(f.flags, TCP_FIN | TCP_ACK);
	assert_int_equal(c->state, TCP_FIN_WAIT_1);
	seg(PPORT, LPORT, peer_seq, our_seq + 1, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(c->state, TCP_FIN_WAIT_2);
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq, our_seq + 1, TCP_FIN | TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(last_out().ack, peer_seq + 1);
	assert_int_equal(ST()->timewait_current, 1);
	assert_int_equal(ST()->conns_current, 0);
	assert_int_equal(A.closes, 0);                 /* closed by the app: no call */
	/* a retransmitted FIN is ACKed again */
	seg(PPORT, LPORT, peer_seq, our_seq + 1, TCP_FIN | TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 2);
	assert_int_equal(last_out().seq, our_seq + 1);
	/* a RST is ignored (RFC 1337) */
	seg(PPORT, LPORT, peer_seq + 1, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(ST()->timewait_current, 1);
	/* expiry after 2 MSL */
	advance(2 * TCP_DEF_MSL_NS - NS_PER_SEC);
	assert_int_equal(ST()->timewait_current, 1);
	advance(2 * NS_PER_SEC);
	assert_int_equal(ST()->timewait_current, 0);
	/* a new TIME_WAIT is recycled by a SYN with a higher sequence */
	c = handshake(PPORT + 1, false);
	tcp_close(c);
	seg(PPORT + 1, LPORT, peer_seq, our_seq + 1, TCP_FIN | TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(ST()->timewait_current, 1);
	fake_clear_tx(&F);
	seg(PPORT + 1, LPORT, peer_seq + 100000, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(ST()->tw_recycled, 1);
	assert_int_equal(last_out().flags, TCP_SYN | TCP_ACK);
	assert_int_equal(ST()->timewait_current, 0);
	finish();
}

static void test_passive_close(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_FIN | TCP_ACK, 65535, NULL, 0, "bye", 3);
	assert_int_equal(A.rx_len, 3);
	assert_int_equal(A.eofs, 1);
	assert_int_equal(c->state, TCP_CLOSE_WAIT);
	assert_int_equal(last_out().ack, peer_seq + 4);
	assert_int_equal(tcp_write(c, "ok", 2), 2);      /* half-close: still writable */
	tcp_shutdown(c);
	assert_int_equal(c->state, TCP_LAST_ACK);
	struct out f = last_out();
	assert_true(f.flags & TCP_FIN);
	seg(PPORT, LPORT, peer_seq + 4, our_seq + 3, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(A.closes, 1);
	assert_int_equal(A.reason, K_OK);
	assert_int_equal(ST()->timewait_current, 0);    /* the passive side keeps none */
	finish();
}

static void test_simultaneous_open(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c;
	assert_int_equal(tcp_connect(&F.nif, PEER_IP, 7777, &H, NULL, &c), K_OK);
	struct out s1 = last_out();
	assert_int_equal(s1.flags, TCP_SYN);
	assert_true(s1.o.mss_ok && s1.o.ts_ok && s1.o.sack_perm && s1.o.ws_ok);
	/* the peer's SYN crosses ours */
	seg(7777, s1.sport, 50000, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(c->state, TCP_SYN_RCVD);
	struct out s2 = last_out();
	assert_int_equal(s2.flags, TCP_SYN | TCP_ACK);
	assert_int_equal(s2.seq, s1.seq);
	assert_int_equal(s2.ack, 50001);
	/* then its SYN-ACK arrives */
	seg(7777, s1.sport, 50000, s1.seq + 1, TCP_SYN | TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(c->state, TCP_ESTABLISHED);
	assert_int_equal(A.connects, 1);
	assert_int_equal(ST()->active_opens, 1);
	finish();
}

static unsigned got_for[2048];
static size_t count_recv(struct tcp_conn *c, const uint8_t *d, size_t n, void *arg)
{
	(void)c;
	if (d)
		got_for[(uintptr_t)arg] += d[0];
	return n;
}
static const struct tcp_handlers HC = { .recv = count_recv };
static int count_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_set_handlers(c, &HC, (void *)(uintptr_t)(tcp_get_stats(&F.nif)->passive_opens - 1));
	return K_OK;
}

static void test_many_connections(void **state)
{
	(void)state;
	setup(4096);
	tcp_stack(&F.nif)->cfg.max_per_peer = 0;     /* all from one address */
	tcp_unlisten(&F.nif, LPORT);
	assert_int_equal(tcp_listen(&F.nif, LPORT, 4096, count_accept, NULL), K_OK);
	memset(got_for, 0, sizeof got_for);
	uint32_t ours[2048];
	for (unsigned i = 0; i < 2048; i++) {
		fake_clear_tx(&F);
		seg((uint16_t)(10000 + i), LPORT, 1000, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
		ours[i] = last_out().seq + 1;
		seg((uint16_t)(10000 + i), LPORT, 1001, ours[i], TCP_ACK, 65535, NULL, 0, NULL, 0);
	}
	assert_int_equal(ST()->conns_current, 2048);
	/* each byte lands on its own connection, found by the 4-tuple */
	for (unsigned i = 2048; i-- > 0;) {
		uint8_t b = (uint8_t)(i % 200 + 1);
		seg((uint16_t)(10000 + i), LPORT, 1001, ours[i], TCP_ACK, 65535, NULL, 0, &b, 1);
	}
	for (unsigned i = 0; i < 2048; i++)
		assert_int_equal(got_for[i], i % 200 + 1);
	finish();
}

static void test_options_parser(void **state)
{
	(void)state;
	struct tcp_opts o;
	const uint8_t ok[] = { 1, 1, 99, 4, 0, 0, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 7 };
	assert_int_equal(tcp_parse_options(ok, ok + sizeof ok, false, &o), K_OK);
	assert_int_equal(o.nsack, 1);                  /* unknown 99 skipped, EOL ends */
	assert_int_equal(o.sack[0][0], 1);
	assert_int_equal(o.sack[0][1], 2);
	const uint8_t zero_len[] = { 2, 0, 5, 0 };
	assert_int_equal(tcp_parse_options(zero_len, zero_len + 4, true, &o), K_EINVAL);
	const uint8_t over[] = { 8, 10, 0, 0 };
	assert_int_equal(tcp_parse_options(over, over + 4, true, &o), K_EINVAL);
	assert_false(o.ts_ok);
	const uint8_t bad_mss[] = { 2, 3, 0, 3, 3, 20 };   /* wrong length MSS; WS 20 capped */
	assert_int_equal(tcp_parse_options(bad_mss, bad_mss + 6, true, &o), K_OK);
	assert_false(o.mss_ok);
	assert_true(o.ws_ok);
	assert_int_equal(o.ws, 14);
	assert_int_equal(tcp_parse_options(bad_mss, bad_mss + 6, false, &o), K_OK);
	assert_false(o.ws_ok);                         /* SYN-only options ignored later */
}

static void test_pmtu_shrinks_segments(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	static uint8_t buf[4000];
	ip4_pmtu_update(&F.nif, PEER_IP, 1000, time_now_ns(), true);
	assert_int_equal(tcp_write(c, buf, sizeof buf), (int)sizeof buf);
	for (unsigned i = 0; i < F.ntx; i++) {
		assert_true(F.tx[i].len - 14 <= 1000);
		assert_true(out(i).len <= 960);
	}
	assert_true(F.ntx >= 5);
	finish();
}

/* "Fragmentation needed" is believed only for a segment in flight on a
 * connection (RFC 5927); forged ones change nothing, and a checked entry
 * cannot be pushed out of the table by unchecked (UDP-quoting) reports. */
static void test_icmp_needfrag_checked(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	static uint8_t buf[3000];
	uint8_t fr[200], l4[8];
	uint64_t now = time_now_ns();
	F.hold = true;                           /* nothing is acknowledged */
	assert_int_equal(tcp_write(c, buf, sizeof buf), (int)sizeof buf);
	uint32_t una = c->snd_una;
	const struct net_stats *ns = net_if_stats(&F.nif);

	/* the right 4-tuple with a sequence number outside snd_una..snd_max */
	be16(l4, LPORT);
	be16(l4 + 2, PPORT);
	be32(l4 + 4, una + 100000);
	fake_rx(&F, fr, mk_needfrag(fr, FAKE_IP, PEER_IP, 6, 1500, 600, l4), 0);
	/* a sequence number in flight, but the wrong port */
	be16(l4 + 2, PPORT + 1);
	be32(l4 + 4, una + 10);
	fake_rx(&F, fr, mk_needfrag(fr, FAKE_IP, PEER_IP, 6, 1500, 600, l4), 0);
	assert_int_equal(ip4_pmtu_get(&F.nif, PEER_IP, now), 1500);
	assert_int_equal(ns->icmp_needfrag_forged, 2);
	/* the segment in flight: believed, and the MSS follows */
	be16(l4 + 2, PPORT);
	fake_rx(&F, fr, mk_needfrag(fr, FAKE_IP, PEER_IP, 6, 1500, 1000, l4), 0);
	assert_int_equal(ip4_pmtu_get(&F.nif, PEER_IP, now), 1000);
	assert_int_equal(ns->icmp_pmtu_lowered, 1);
	/* a flood of unchecked reports for other destinations fills the rest
	 * of the table but leaves the checked entry alone */
	for (uint32_t i = 0; i < 4 * IP4_PMTU_ENTRIES; i++) {
		hosted_clock_advance(1000);
		fake_rx(&F, fr, mk_needfrag(fr, FAKE_IP, NET_IP4(198, 51, 100, i + 1), 17, 1500,
					   1200, NULL), 0);
	}
	assert_int_equal(ip4_pmtu_get(&F.nif, PEER_IP, time_now_ns()), 1000);
	assert_int_equal(ns->icmp_pmtu_lowered, 1 + 4 * IP4_PMTU_ENTRIES);
	F.hold = false;
	fake_complete(&F);
	finish();
}

static unsigned dones;
static void count_done(void *arg) { (void)arg; dones++; }

static void test_borrowed_release_after_ack(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	static uint8_t asset[3000];
	dones = 0;
	F.dev.caps |= NETDEV_CAP_SG;
	F.hold = true;                                 /* the device keeps what it sends */
	assert_int_equal(tcp_write_borrowed(c, asset, sizeof asset, count_done, NULL), K_OK);
	assert_true(F.ntx >= 3);
	assert_true(F.tx[0].segs >= 2);                /* header + lent payload */
	seg(PPORT, LPORT, peer_seq, our_seq + 3000, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_null(c->sq_head);
	assert_int_equal(dones, 0);                    /* acknowledged, still on the device */
	fake_complete(&F);
	assert_int_equal(dones, 1);
	F.hold = false;
	/* errors still release exactly once */
	tcp_shutdown(c);
	assert_int_equal(tcp_write_borrowed(c, asset, 10, count_done, NULL), K_ECLOSED);
	assert_int_equal(dones, 2);
	finish();
}

/* A copied write cut short by an empty pool, with nothing in flight (so
 * no ACK will come), gets its writable callback after TCP_MEM_RETRY_NS. */
static void test_write_retried_after_pool_empty(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	struct nbuf *held = NULL;
	for (struct nbuf *nb; (nb = nbuf_alloc(&F.pool)) != NULL;) {
		nb->link = held;
		held = nb;
	}
	unsigned before = A.writables;
	assert_int_equal(tcp_write(c, "hello", 5), K_EAGAIN);
	assert_true(ST()->no_mem > 0);
	advance(TCP_MEM_RETRY_NS / 2);
	assert_int_equal(A.writables, before);
	nbuf_free_queue(held);
	advance(TCP_MEM_RETRY_NS);
	assert_int_equal(A.writables, before + 1);
	assert_int_equal(tcp_write(c, "hello", 5), 5);
	finish();
}

/* ---- hostile peers ---------------------------------------------------------------- */

/* Challenge ACKs: one per connection per TCP_OOW_RATE_NS, and each
 * second's interface budget is random in [PER_SEC / 2, PER_SEC * 3 / 2). */
static void test_challenge_ack_limits(void **state)
{
	(void)state;
	enum { N = 1600 };
	setup(N + 8);
	tcp_stack(&F.nif)->cfg.max_per_peer = 0;     /* all from one address */
	struct tcp_conn *c = handshake(PPORT, false);
	seg(PPORT, LPORT, peer_seq + 10, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	for (int i = 0; i < 5; i++)                      /* a burst: nothing more */
		seg(PPORT, LPORT, peer_seq + 10, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(ST()->challenge_limited_conn, 5);
	advance(TCP_OOW_RATE_NS);
	seg(PPORT, LPORT, peer_seq + 10, 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 2);
	assert_int_equal(c->state, TCP_ESTABLISHED);
	/* the global budget over N connections, three seconds */
	static uint32_t pseq[N];
	for (unsigned i = 0; i < N; i++) {
		handshake((uint16_t)(20000 + i), false);
		pseq[i] = peer_seq;
	}
	unsigned sent[3];
	for (unsigned r = 0; r < 3; r++) {
		advance(NS_PER_SEC - time_now_ns() % NS_PER_SEC);   /* a fresh second */
		sent[r] = 0;
		uint64_t lim0 = ST()->challenge_limited_global;
		for (unsigned i = 0; i < N; i++) {
			fake_clear_tx(&F);
			seg((uint16_t)(20000 + i), LPORT, pseq[i] + 10, 0, TCP_RST, 0, NULL, 0, NULL, 0);
			sent[r] += F.ntx;
		}
		assert_true(sent[r] >= TCP_CHALLENGE_PER_SEC / 2);
		assert_true(sent[r] < TCP_CHALLENGE_PER_SEC * 3 / 2);
		assert_int_equal(ST()->challenge_limited_global - lim0, N - sent[r]);
	}
	/* random each second (equal three times: about one in a million) */
	assert_false(sent[0] == sent[1] && sent[1] == sent[2]);
	assert_int_equal(ST()->conns_current, N + 1);
	finish();
}

/* Immediate ACKs for PAWS failures, out-of-window segments and ACKs beyond
 * snd_max: one per connection per TCP_OOW_RATE_NS unless they carry data. */
static void test_oow_ack_rate_limit(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	/* out-of-window pure ACKs: one answer, the rest counted */
	for (int i = 0; i < 10; i++)
		seg(PPORT, LPORT, peer_seq + 2000000, our_seq, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(last_out().ack, peer_seq);
	/* ACKs beyond snd_max share the same limit */
	for (int i = 0; i < 10; i++)
		seg(PPORT, LPORT, peer_seq, our_seq + 5000, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(ST()->oow_acks_limited, 19);
	/* a retransmission of old data is always answered */
	seg(PPORT, LPORT, peer_seq - 4, our_seq, TCP_ACK, 65535, NULL, 0, "abcd", 4);
	assert_int_equal(F.ntx, 2);
	/* in-window duplicate ACKs are no out-of-window ACKs: never limited
	 * (and need no answer), data in the window still flows */
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, "hi", 2);
	assert_int_equal(A.rx_len, 2);
	advance(TCP_OOW_RATE_NS);
	fake_clear_tx(&F);
	seg(PPORT, LPORT, peer_seq + 2000000, our_seq, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(ST()->oow_acks_limited, 19);
	(void)c;
	finish();
}

static void test_oow_paws_rate_limit(void **state)
{
	(void)state;
	setup(64);
	handshake(PPORT, true);
	uint8_t ts[12] = { 1, 1, 8, 10, 0, 0, 0, 50 };          /* tsval 50 < 101: PAWS */
	for (int i = 0; i < 10; i++)
		seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 1024, ts, sizeof ts, NULL, 0);
	assert_int_equal(ST()->paws_drops, 10);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(ST()->oow_acks_limited, 9);
	finish();
}

/* A valid cookie is refused when its listener never overflowed. */
static void test_cookie_needs_overflow(void **state)
{
	(void)state;
	setup(64);
	struct tcp_seg s = { .seq = 5000, .sport = PPORT, .dport = LPORT };
	uint32_t ck = tcp_cookie_make(tcp_stack(&F.nif), &s, FAKE_IP, PEER_IP, 1460, time_now_ns());
	assert_int_not_equal(tcp_cookie_check(tcp_stack(&F.nif),
					      &(struct tcp_seg){ .seq = 5001, .ack = ck + 1,
								 .sport = PPORT, .dport = LPORT },
					      FAKE_IP, PEER_IP, time_now_ns()), 0);
	fake_clear_tx(&F);
	seg(PPORT, LPORT, 5001, ck + 1, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(A.accepts, 0);
	assert_int_equal(ST()->conns_current, 0);
	assert_int_equal(ST()->syncookies_no_overflow, 1);
	assert_int_equal(ST()->syncookies_ok, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(last_out().flags, TCP_RST);
	finish();
}

/* A bad option length drops the whole segment. */
static void test_bad_options_dropped(void **state)
{
	(void)state;
	setup(64);
	/* a SYN whose MSS is followed by an option running past the header */
	static const uint8_t bad_syn[] = { TCPOPT_MSS, 4, 0x05, 0x78, TCPOPT_WS, 9, 7, 0 };
	seg(PPORT, LPORT, 7000, 0, TCP_SYN, 65535, bad_syn, sizeof bad_syn, NULL, 0);
	assert_int_equal(F.ntx, 0);
	assert_int_equal(ST()->bad_opts, 1);
	assert_int_equal(ST()->conns_current, 0);
	handshake(PPORT, false);
	/* data behind a length-0 option: not delivered, not ACKed */
	static const uint8_t bad[] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK, 0 };
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, bad, sizeof bad, "evil", 4);
	assert_int_equal(A.rx_len, 0);
	assert_int_equal(ST()->bad_opts, 2);
	advance(TCP_DELACK_NS * 2);
	assert_int_equal(F.ntx, 0);
	finish();
}

/* A peer holding a zero window while we have data is reset after
 * persist_timeout_ns, though it answers every probe. */
static void test_persist_timeout(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 0, NULL, 0, NULL, 0);
	assert_int_equal(tcp_write(c, "0123456789", 10), 10);
	uint64_t t0 = time_now_ns();
	while (!A.closes && time_now_ns() - t0 < 300 * NS_PER_SEC) {
		fake_learn(&F, peer_mac, PEER_IP);
		assert_true(next_deadline());
		if (F.ntx) {
			fake_clear_tx(&F);
			seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 0, NULL, 0, NULL, 0);
		}
	}
	assert_int_equal(A.closes, 1);
	assert_int_equal(A.reason, K_ETIMEDOUT);
	assert_int_equal(ST()->persist_timeouts, 1);
	uint64_t took = time_now_ns() - t0;
	assert_true(took >= TCP_DEF_PERSIST_TIMEOUT_NS);
	assert_true(took <= TCP_DEF_PERSIST_TIMEOUT_NS + TCP_RTO_MAX_NS + NS_PER_SEC);
	assert_int_equal(ST()->conns_current, 0);
	finish();
}

/* Every FIN_WAIT_2 ends: a half-close whose peer sends nothing more. */
static void test_fin_wait2_timeout(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	assert_int_equal(tcp_shutdown(c), K_OK);
	struct out f = last_out();
	assert_true(f.flags & TCP_FIN);
	seg(PPORT, LPORT, peer_seq, f.seq + 1, TCP_ACK, 65535, NULL, 0, NULL, 0);
	assert_int_equal(c->state, TCP_FIN_WAIT_2);
	uint64_t t0 = time_now_ns();
	/* data at 50 s moves the deadline */
	advance(50 * NS_PER_SEC);
	seg(PPORT, LPORT, peer_seq, f.seq + 1, TCP_ACK, 65535, NULL, 0, "late", 4);
	assert_int_equal(A.rx_len, 4);
	advance(20 * NS_PER_SEC);
	assert_int_equal(A.closes, 0);
	/* pure ACKs from the peer do not */
	while (!A.closes && time_now_ns() - t0 < 400 * NS_PER_SEC) {
		fake_learn(&F, peer_mac, PEER_IP);
		seg(PPORT, LPORT, peer_seq + 4, f.seq + 1, TCP_ACK, 65535, NULL, 0, NULL, 0);
		advance(5 * NS_PER_SEC);
	}
	assert_int_equal(A.closes, 1);
	assert_int_equal(A.reason, K_ETIMEDOUT);
	assert_int_equal(ST()->fin_wait2_timeouts, 1);
	uint64_t took = time_now_ns() - t0;
	assert_true(took >= 50 * NS_PER_SEC + TCP_FIN_WAIT2_NS);
	assert_true(took <= 50 * NS_PER_SEC + 2 * TCP_FIN_WAIT2_NS);
	assert_int_equal(ST()->conns_current, 0);
	finish();
}

/* Connections per source address: over the limit a SYN is dropped
 * (counted); other addresses still get in; a freed or TIME_WAIT
 * connection no longer counts; the table never holds more entries than
 * connection blocks. */
static void test_per_peer_limit(void **state)
{
	(void)state;
	setup(64);
	struct tcp_stack *st = tcp_stack(&F.nif);
	assert_int_equal(st->cfg.max_per_peer, TCP_DEF_MAX_PER_PEER);
	st->cfg.max_per_peer = 4;
	tcp_unlisten(&F.nif, LPORT);
	assert_int_equal(tcp_listen(&F.nif, LPORT, 64, a_accept, NULL), K_OK);
	struct tcp_conn *cs[4];
	uint32_t ps[4], os[4];
	for (unsigned i = 0; i < 4; i++) {
		cs[i] = handshake((uint16_t)(PPORT + i), false);
		ps[i] = peer_seq;
		os[i] = our_seq;
	}
	assert_int_equal(tcp_peer_count(st, PEER_IP), 4);
	/* a flood of SYNs from the same address: all dropped, nothing sent */
	fake_clear_tx(&F);
	for (unsigned i = 0; i < 100; i++)
		seg((uint16_t)(30000 + i), LPORT, 777, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 0);
	assert_int_equal(ST()->peer_limit_refused, 100);
	assert_int_equal(ST()->conns_current, 4);
	assert_int_equal(st->peers_used, 1);
	/* another address is not affected */
	static const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 0x77 };
	const uint32_t other = NET_IP4(10, 0, 0, 77);
	fake_learn(&F, other_mac, other);
	src_ip = other;
	seg(PPORT, LPORT, 555, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(F.ntx, 1);
	assert_int_equal(F.tx[0].data[47], TCP_SYN | TCP_ACK);
	assert_int_equal(st->peers_used, 2);
	assert_int_equal(tcp_peer_count(st, other), 1);
	src_ip = PEER_IP;
	/* one connection reset by the peer: a slot is free again */
	seg(PPORT, LPORT, ps[0], 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_int_equal(tcp_peer_count(st, PEER_IP), 3);
	handshake(PPORT + 10, false);
	assert_int_equal(tcp_peer_count(st, PEER_IP), 4);
	/* one in TIME_WAIT (we close first) does not count */
	tcp_close(cs[1]);
	struct out f = last_out();
	assert_true(f.flags & TCP_FIN);
	seg(PPORT + 1, LPORT, ps[1], f.seq + 1, TCP_ACK | TCP_FIN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(ST()->timewait_current, 1);
	assert_int_equal(tcp_peer_count(st, PEER_IP), 3);
	handshake(PPORT + 11, false);
	assert_int_equal(tcp_peer_count(st, PEER_IP), 4);
	(void)os;
	(void)cs;
	finish();
}

/* ---- memory budget (net/tcp_mem.c) ---- */

#define FLOOD_CONNS 100
static uint32_t fl_peer[FLOOD_CONNS], fl_our[FLOOD_CONNS];

/* FLOOD_CONNS connections each send nseg segments of 1000 bytes behind a
 * one-byte hole that is never filled; after every segment the budget
 * and the pool are checked. */
static void ooo_flood(unsigned nseg)
{
	static uint8_t junk[1000];
	const struct tcp_stats *t = ST();
	for (unsigned i = 0; i < FLOOD_CONNS; i++) {
		handshake((uint16_t)(20000 + i), false);
		fl_peer[i] = peer_seq;
		fl_our[i] = our_seq;
	}
	for (unsigned k = 0; k < nseg; k++) {
		for (unsigned i = 0; i < FLOOD_CONNS; i++) {
			fake_clear_tx(&F);
			seg((uint16_t)(20000 + i), LPORT, fl_peer[i] + 1 + k * 1000, fl_our[i],
			    TCP_ACK, 65535, NULL, 0, junk, sizeof junk);
			assert_true(t->mem_bytes <= t->mem_limit);
			assert_true(F.pool.nfree > F.pool.count / 2 - 16);
		}
	}
}

static void test_mem_ooo_flood_bounded(void **state)
{
	(void)state;
	setup(256);
	const struct tcp_stats *t = ST();
	uint32_t stride = (uint32_t)nbuf_pool_stride(NBUF_DATA_SIZE);
	assert_int_equal(t->mem_limit, (uint64_t)F.pool.count * stride / 2);
	assert_int_equal(t->mem_pressure, t->mem_limit / 2);
	/* 100 x 40 held segments would be 4000 buffers, eight pools' worth */
	ooo_flood(40);
	assert_true(t->mem_pressure_entered >= 1);
	assert_true(t->mem_rcv_dropped > 0);
	assert_true(t->mem_bytes > t->mem_pressure);
	/* a normal client still gets in, and its request through: other
	 * connections' islands are given up for its in-order data */
	static uint8_t req[1000];
	memset(req, 'r', sizeof req);
	size_t before = A.rx_len;
	uint64_t pruned = t->mem_pruned;
	for (unsigned i = 0; i < 20; i++) {
		handshake((uint16_t)(PPORT + i), false);
		seg((uint16_t)(PPORT + i), LPORT, peer_seq, our_seq, TCP_ACK | TCP_PSH, 65535, NULL, 0,
		    req, sizeof req);
		assert_int_equal(A.rx_len, before + (i + 1) * sizeof req);
		assert_true(t->mem_bytes <= t->mem_limit);
	}
	assert_true(t->mem_pruned > pruned);
	/* under pressure the window a connection offers stops growing past
	 * its share: after 62,000 bytes read, the right edge has moved by
	 * at most the share beyond the first 65,535 (else 62,000 more) */
	handshake(PPORT + 100, false);
	uint32_t start = peer_seq, edge = 0;
	for (unsigned i = 0; i < 62; i++) {
		fake_clear_tx(&F);
		seg((uint16_t)(PPORT + 100), LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0,
		    req, sizeof req);
		peer_seq += sizeof req;
		if (F.ntx)
			edge = last_out().ack + last_out().wnd;
	}
	assert_true(edge - start >= 62000);
	assert_true(edge - start <= 65535 + 4 * 1400);
	finish();
	assert_int_equal(t->mem_bytes, 0);
}

static void test_mem_collapse_small_segments(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	uint8_t d[200];
	for (unsigned i = 0; i < sizeof d; i++)
		d[i] = (uint8_t)(i * 7 + 3);
	uint32_t free_before = F.pool.nfree;
	/* 64 one-byte segments behind a one-byte hole pin one buffer */
	for (unsigned i = 1; i <= 64; i++)
		seg(PPORT, LPORT, peer_seq + i, our_seq, TCP_ACK, 65535, NULL, 0, d + i, 1);
	assert_int_equal(c->ooo_nbufs, 1);
	assert_int_equal(c->nooo, 1);
	assert_int_equal(free_before - F.pool.nfree, 1);
	assert_int_equal(c->rmem, nbuf_pool_stride(NBUF_DATA_SIZE));
	/* so does a run sent backwards, [100, 130) from its end */
	for (unsigned i = 129; i >= 100; i--)
		seg(PPORT, LPORT, peer_seq + i, our_seq, TCP_ACK, 65535, NULL, 0, d + i, 1);
	assert_int_equal(c->nooo, 2);
	assert_true(c->ooo_nbufs <= 2);
	assert_true(ST()->mem_collapsed >= 90);
	/* the hole fills: all of it arrives, in order */
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, d, 1);
	assert_int_equal(A.rx_len, 65);
	assert_memory_equal(A.rx, d, 65);
	seg(PPORT, LPORT, peer_seq + 65, our_seq, TCP_ACK, 65535, NULL, 0, d + 65, 35);
	assert_int_equal(A.rx_len, 130);
	assert_memory_equal(A.rx, d, 130);
	assert_int_equal(c->rmem, 0);
	assert_int_equal(ST()->mem_bytes, 0);
	finish();
}

static void test_mem_send_share(void **state)
{
	(void)state;
	setup(256);
	const struct tcp_stats *t = ST();
	struct tcp_conn *c = handshake(PPORT, false);
	ooo_flood(10);
	assert_true(t->mem_bytes > t->mem_pressure);
	/* under pressure one connection's copied writes stop at its share */
	static uint8_t big[65536];
	int n = tcp_write(c, big, sizeof big);
	assert_true(n > 0 && n <= 4 * NBUF_DATA_SIZE);
	assert_true(t->mem_snd_limited > 0);
	assert_true(t->mem_bytes <= t->mem_limit);
	/* the flooders leave: the budget frees up and writes go on */
	for (unsigned i = 0; i < FLOOD_CONNS; i++)
		seg((uint16_t)(20000 + i), LPORT, fl_peer[i], 0, TCP_RST, 0, NULL, 0, NULL, 0);
	assert_true(t->mem_bytes < t->mem_pressure);
	int m = tcp_write(c, big, sizeof big);
	assert_true(m > 4 * NBUF_DATA_SIZE);
	finish();
	assert_int_equal(t->mem_bytes, 0);
}

static void test_fin_below_island(void **state)
{
	(void)state;
	setup(64);
	struct tcp_conn *c = handshake(PPORT, false);
	uint8_t d[16] = "0123456789abcdef";
	/* an island above RCV.NXT, then a FIN at RCV.NXT: the stream is
	 * empty, the island is thrown away, never delivered after the FIN */
	seg(PPORT, LPORT, peer_seq + 1, our_seq, TCP_ACK, 65535, NULL, 0, d, sizeof d);
	assert_int_equal(c->nooo, 1);
	seg(PPORT, LPORT, peer_seq, our_seq, TCP_ACK | TCP_FIN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(A.eofs, 1);
	assert_int_equal(A.rx_len, 0);
	assert_int_equal(c->nooo, 0);
	assert_int_equal(c->rmem, 0);
	assert_int_equal(last_out().ack, peer_seq + 1);
	/* the same with data before the FIN and the FIN on an island's end */
	struct tcp_conn *c2 = handshake(PPORT + 1, false);
	seg(PPORT + 1, LPORT, peer_seq + 4, our_seq, TCP_ACK | TCP_FIN, 65535, NULL, 0, d + 4, 4);
	seg(PPORT + 1, LPORT, peer_seq + 9, our_seq, TCP_ACK, 65535, NULL, 0, d + 9, 4);
	assert_int_equal(c2->nooo, 2);
	seg(PPORT + 1, LPORT, peer_seq, our_seq, TCP_ACK, 65535, NULL, 0, d, 4);
	assert_int_equal(A.eofs, 2);
	assert_int_equal(A.rx_len, 8);
	assert_memory_equal(A.rx, d, 8);
	assert_int_equal(c2->nooo, 0);
	finish();
}

static uint64_t state_count(const char *name)
{
	struct net_counter d[NET_TCP_STATES];
	unsigned n = net_if_tcp_states(&F.nif, d, NET_TCP_STATES);
	assert_int_equal(n, NET_TCP_STATES);
	for (unsigned i = 0; i < n; i++)
		if (strcmp(d[i].name, name) == 0)
			return d[i].value;
	fail_msg("no state %s", name);
	return 0;
}

static void test_state_counts(void **state)
{
	(void)state;
	setup(64);
	assert_int_equal(state_count("established"), 0);
	struct tcp_conn *a = handshake(PPORT, false);
	uint32_t pa = peer_seq;
	handshake(PPORT + 1, false);
	seg(PPORT + 2, LPORT, 5000, 0, TCP_SYN, 65535, NULL, 0, NULL, 0);   /* half open */
	assert_int_equal(state_count("established"), 2);
	assert_int_equal(state_count("syn_rcvd"), 1);
	tcp_close(a);                                  /* we close first */
	assert_int_equal(state_count("fin_wait_1"), 1);
	assert_int_equal(state_count("established"), 1);
	struct out f = last_out();
	seg(PPORT, LPORT, pa, f.seq + 1, TCP_ACK | TCP_FIN, 65535, NULL, 0, NULL, 0);
	assert_int_equal(state_count("fin_wait_1"), 0);
	assert_int_equal(state_count("time_wait"), 1);
	finish();
	assert_int_equal(state_count("established"), 0);
	assert_int_equal(state_count("syn_rcvd"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake_options),
		cmocka_unit_test(test_rst_closed_port),
		cmocka_unit_test(test_delayed_ack),
		cmocka_unit_test(test_ooo_reassembly_sack),
		cmocka_unit_test(test_challenge_acks),
		cmocka_unit_test(test_rto_backoff_abort),
		cmocka_unit_test(test_fast_retransmit),
		cmocka_unit_test(test_zero_window_persist),
		cmocka_unit_test(test_syn_cookies),
		cmocka_unit_test(test_timewait),
		cmocka_unit_test(test_passive_close),
		cmocka_unit_test(test_simultaneous_open),
		cmocka_unit_test(test_many_connections),
		cmocka_unit_test(test_options_parser),
		cmocka_unit_test(test_pmtu_shrinks_segments),
		cmocka_unit_test(test_icmp_needfrag_checked),
		cmocka_unit_test(test_borrowed_release_after_ack),
		cmocka_unit_test(test_write_retried_after_pool_empty),
		cmocka_unit_test(test_challenge_ack_limits),
		cmocka_unit_test(test_oow_ack_rate_limit),
		cmocka_unit_test(test_oow_paws_rate_limit),
		cmocka_unit_test(test_cookie_needs_overflow),
		cmocka_unit_test(test_bad_options_dropped),
		cmocka_unit_test(test_persist_timeout),
		cmocka_unit_test(test_fin_wait2_timeout),
		cmocka_unit_test(test_per_peer_limit),
		cmocka_unit_test(test_mem_ooo_flood_bounded),
		cmocka_unit_test(test_mem_collapse_small_segments),
		cmocka_unit_test(test_mem_send_share),
		cmocka_unit_test(test_state_counts),
		cmocka_unit_test(test_fin_below_island),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
