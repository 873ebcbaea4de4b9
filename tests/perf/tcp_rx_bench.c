/*
 * tcp_rx_bench.c - what the network stack spends per received in-order
 * TCP data segment, for counting instructions under callgrind.
 *
 *   tcp_rx_bench N [sw|offload] [record|sink]
 *
 * One stack on the fake netdev of tests/unit/net_fake.h (virtual clock,
 * fixed seed), a listener on port 80 whose recv callback consumes
 * everything, a passive handshake with timestamps, SACK and window
 * scaling (as from Linux), then N in-order segments of 1448 bytes (a
 * 1500-byte MTU with the timestamp option) from the peer, one every
 * 1.2 us of virtual time (about 10 Gbit/s). Delayed ACK behaves as it
 * would: every second segment is ACKed at once, and after each frame the
 * bench does what the run loop's netstack poller and timer do - asks for
 * net_next_deadline() and runs net_tick() once it has passed.
 *
 *  sw       frames carry correct checksums and the device has no offload:
 *           the stack verifies every segment's checksum in software;
 *  offload  the device has NETDEV_CAP_RX_CSUM and marks each frame
 *           NBUF_F_CSUM_VALID, as virtio-net with guest checksum offload.
 *  record   transmits go to net_fake.h's fake_xmit(), which records each
 *           frame (a copy) before freeing it; the bench checks the ACK
 *           numbers and clears the record after each ACK;
 *  sink     transmits go to a device that frees the frame at once and
 *           records nothing: sink - record is the recording's cost.
 *
 * Frames are built once before the measured loop (reference checksum
 * from net_fake.h); per segment the bench only patches the sequence
 * number, the timestamp and the checksum (RFC 1624 style, from a sum of
 * the fixed part). Everything that is the same for any N - start-up,
 * handshake, the final checks - cancels in
 *
 *   (Ir(N2) - Ir(N1)) / (N2 - N1)  =  instructions per segment,
 *
 * which tests/perf/callgrind-delta.sh computes, per function as well
 * (`make perf`, mk/perf.mk). The measured loop is rx_stream(), split into
 * functions that are not inlined so callgrind can tell them apart:
 *   netdev_input()  the stack: Ethernet to the app's recv, and the ACKs
 *                   it sends down to the device's xmit;
 *   inject()        the fake device receiving: a pool buffer and the copy
 *                   a NIC's DMA would make (inject - netdev_input), then
 *                   netdev_input();
 *   loop_pass()     the run loop's share: net_next_deadline() per pass
 *                   and net_tick() when due;
 *   fake_xmit()     in record mode, the recording (a copy of each ACK)
 *                   plus nbuf_free(); check_acks() reads the record back;
 *   patch_frame()   and rx_stream() self: the bench itself.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/tcp.h>

#include "net_fake.h"
#include "net/tcp_priv.h"

#define PPORT 40000
#define LPORT 80
#define MSS_TS 1448              /* 1500 - 20 (IP) - 20 (TCP) - 12 (timestamps) */
#define SEG_GAP_NS 1200          /* 1448 bytes at ~10 Gbit/s */
#define TCP_HL 32                /* header with NOP NOP TS */
#define FRAME_LEN (14 + 20 + TCP_HL + MSS_TS)

static struct fake_net F;
static uint8_t tcp_mem[1u << 20] __attribute__((aligned(64)));

static struct tcp_conn *conn;
static uint64_t rx_bytes, rx_calls, acks_seen, ack_errors;
static uint32_t peer_seq, our_seq, ts_echo, expect_ack;
static bool record_mode;

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "tcp_rx_bench: %s:%d: check failed: %s\n",   \
				__FILE__, __LINE__, #cond);                           \
			exit(1);                                                      \
		}                                                                     \
	} while (0)

/* ---- the app: consumes everything ---------------------------------------- */

static size_t app_recv(struct tcp_conn *c, const uint8_t *d, size_t n, void *arg)
{
	(void)c;
	(void)arg;
	if (d) {
		rx_bytes += n;
		rx_calls++;
	}
	return n;
}

static const struct tcp_handlers handlers = { .recv = app_recv };

static int app_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	conn = c;
	tcp_set_handlers(c, &handlers, NULL);
	return K_OK;
}

/* ---- a device that records nothing (sink mode) ----------------------------- */

static int sink_xmit(struct netdev *dev, struct nbuf *nb)
{
	(void)dev;
	nbuf_free(nb);
	return K_OK;
}

static void sink_flush(struct netdev *dev) { (void)dev; }

static const struct netdev_ops sink_ops = { .xmit = sink_xmit, .flush = sink_flush };

/* ---- the peer ------------------------------------------------------------- */

/* A segment from the peer, built with the reference checksum (set-up only). */
static void peer_seg(uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt,
		     size_t optlen)
{
	uint8_t t[64], fr[128];
	size_t hl = 20 + ((optlen + 3) & ~(size_t)3);
	memset(t, 0, hl);
	be16(t, PPORT);
	be16(t + 2, LPORT);
	be32(t + 4, seq);
	be32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	be16(t + 14, wnd);
	memcpy(t + 20, opt, optlen);
	be16(t + 16, ref_csum(ref_pseudo(PEER_IP, FAKE_IP, 6, (uint16_t)hl), t, hl));
	fake_rx(&F, fr, mk_ip4(fr, PEER_IP, FAKE_IP, 6, 1, 0x4000, 64, t, hl), 0);
}

static void handshake(void)
{
	static const uint8_t syn_opts[] = {
		TCPOPT_MSS, 4, 0x05, 0xb4,                   /* 1460 */
		TCPOPT_SACK_PERM, 2,
		TCPOPT_TS, 10, 0, 0, 0, 100, 0, 0, 0, 0,
		TCPOPT_NOP, TCPOPT_WS, 3, 7,
	};
	fake_clear_tx(&F);
	peer_seq = 1000000;
	peer_seg(peer_seq, 0, TCP_SYN, 65535, syn_opts, sizeof syn_opts);
	CHECK(F.ntx == 1);
	const uint8_t *t = F.tx[0].data + 34;
	CHECK(t[13] == (TCP_SYN | TCP_ACK));
	struct tcp_opts o;
	CHECK(tcp_parse_options(t + 20, t + (t[12] >> 4) * 4, true, &o) == K_OK && o.ts_ok);
	our_seq = rd32(t + 4) + 1;
	ts_echo = o.tsval;
	peer_seq++;
	uint8_t ts[12] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_TS, 10, 0, 0, 0, 101 };
	be32(ts + 8, ts_echo);
	peer_seg(peer_seq, our_seq, TCP_ACK, 1024, ts, sizeof ts);
	CHECK(conn && conn->state == TCP_ESTABLISHED);
	fake_clear_tx(&F);
}

/* The data frame, and the folded one's-complement sum of everything its
 * TCP checksum covers except the fields that change per segment. */
static uint8_t frame[FRAME_LEN];
static uint32_t frame_sum;

static void build_frame(void)
{
	uint8_t t[TCP_HL + MSS_TS];
	memset(t, 0, TCP_HL);
	be16(t, PPORT);
	be16(t + 2, LPORT);
	/* seq (4..7) and tsval (24..27) stay zero in the template */
	be32(t + 8, our_seq);
	t[12] = (TCP_HL / 4) << 4;
	t[13] = TCP_ACK | TCP_PSH;
	be16(t + 14, 1024);                          /* x 128 = 128 KiB */
	t[20] = TCPOPT_NOP;
	t[21] = TCPOPT_NOP;
	t[22] = TCPOPT_TS;
	t[23] = 10;
	be32(t + 28, ts_echo);
	for (size_t i = 0; i < MSS_TS; i++)
		t[TCP_HL + i] = (uint8_t)(i * 13 + 7);
	frame_sum = (uint16_t)~ref_csum(ref_pseudo(PEER_IP, FAKE_IP, 6, sizeof t), t, sizeof t);
	CHECK(mk_ip4(frame, PEER_IP, FAKE_IP, 6, 1, 0x4000, 64, t, sizeof t) == FRAME_LEN);
}

static __attribute__((noinline)) void patch_frame(uint32_t seq, uint32_t tsval)
{
	uint8_t *t = frame + 34;
	uint32_t s = frame_sum + (seq >> 16) + (seq & 0xffff) + (tsval >> 16) + (tsval & 0xffff);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	be32(t + 4, seq);
	be32(t + 24, tsval);
	be16(t + 16, (uint16_t)~s);
}

/* What the bench reads back after each frame in record mode. */
static __attribute__((noinline)) void check_acks(void)
{
	for (unsigned i = 0; i < F.ntx; i++) {
		const uint8_t *t = F.tx[i].data + 34;
		acks_seen++;
		if (F.tx[i].data[23] != 6 || t[13] != TCP_ACK || rd32(t + 8) != expect_ack)
			ack_errors++;
	}
	fake_clear_tx(&F);
}

/* ---- the measured loop ---------------------------------------------------- */

/* The device receives a frame (net_fake.h: a pool buffer, the copy a
 * NIC's DMA would make, then netdev_input()). Not inlined, so that
 * callgrind shows the injection apart from the stack. */
static __attribute__((noinline)) void inject(uint16_t rx_flags)
{
	fake_rx(&F, frame, FRAME_LEN, rx_flags);
}

/* One pass of the run loop after a frame: the netstack poller re-arms the
 * interface's timer for net_next_deadline() (it does whenever packets
 * moved), and the timer runs net_tick() once that time has come. */
static __attribute__((noinline)) void loop_pass(uint64_t now)
{
	if (now >= net_next_deadline(&F.nif)) {
		net_tick(&F.nif, now);
		if (record_mode && F.ntx)
			check_acks();
	}
}

static __attribute__((noinline)) void rx_stream(unsigned long n, uint16_t rx_flags)
{
	for (unsigned long i = 0; i < n; i++) {
		hosted_clock_advance(SEG_GAP_NS);
		uint64_t now = time_now_ns();
		/* the peer's timestamp clock ticks in milliseconds */
		patch_frame(peer_seq, 101 + (uint32_t)((now - 1000 * NS_PER_SEC) / NS_PER_MS));
		peer_seq += MSS_TS;
		expect_ack = peer_seq;
		inject(rx_flags);
		if (record_mode && F.ntx)
			check_acks();
		loop_pass(now);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s N [sw|offload] [record|sink]\n", argv[0]);
		return 2;
	}
	unsigned long n = strtoul(argv[1], NULL, 10);
	bool offload = argc > 2 && strcmp(argv[2], "offload") == 0;
	record_mode = !(argc > 3 && strcmp(argv[3], "sink") == 0);
	CHECK(argc <= 2 || offload || strcmp(argv[2], "sw") == 0);
	CHECK(argc <= 3 || record_mode == (strcmp(argv[3], "record") == 0));

	fake_init(&F, offload ? NETDEV_CAP_RX_CSUM : 0, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	cfg.max_conns = 64;
	cfg.max_timewait = 64;
	cfg.max_spans = 256;
	CHECK(tcp_mem_size(&cfg) <= sizeof tcp_mem);
	CHECK(tcp_if_init(&F.nif, &cfg, tcp_mem, sizeof tcp_mem) == K_OK);
	CHECK(tcp_listen(&F.nif, LPORT, 16, app_accept, NULL) == K_OK);
	handshake();
	build_frame();
	if (!record_mode)
		F.dev.ops = &sink_ops;

	const struct tcp_stats *st = tcp_get_stats(&F.nif);
	uint64_t segs0 = st->segs_in, out0 = st->segs_out, tx0 = F.dev.stats.tx_packets;
	uint64_t delayed0 = st->delayed_acks;

	rx_stream(n, offload ? NBUF_F_CSUM_VALID : 0);

	uint64_t acks = F.dev.stats.tx_packets - tx0;
	CHECK(rx_bytes == (uint64_t)n * MSS_TS);
	CHECK(conn->rcv_nxt == peer_seq);
	CHECK(st->segs_in - segs0 == n);
	CHECK(st->bad_csum == 0 && st->rcv_dropped == 0 && st->ooo_segs == 0 && st->dup_segs == 0);
	CHECK(ack_errors == 0);
	CHECK(!record_mode || acks_seen == acks);
	printf("tcp_rx_bench: %lu segments of %d bytes (%s checksum, %s tx): "
	       "%llu bytes to the app in %llu recv calls, %llu ACKs out "
	       "(%llu segs_out, %llu delayed-ACK arms)\n",
	       n, MSS_TS, offload ? "offloaded" : "software", record_mode ? "recorded" : "sink",
	       (unsigned long long)rx_bytes, (unsigned long long)rx_calls,
	       (unsigned long long)acks, (unsigned long long)(st->segs_out - out0),
	       (unsigned long long)(st->delayed_acks - delayed0));

	/* the last odd segment's ACK after the delay, then tear down */
	if (!record_mode)
		F.dev.ops = &fake_ops;
	hosted_clock_advance(TCP_DELACK_NS + TIMER_TICK_NS);
	net_tick(&F.nif, time_now_ns());
	CHECK(conn->delack_at == 0);
	if (record_mode) {
		CHECK(F.ntx == (n & 1));             /* an odd last segment's ACK */
		check_acks();
		CHECK(ack_errors == 0);
	}
	tcp_abort(conn);
	tcp_unlisten(&F.nif, LPORT);
	CHECK(fake_no_leaks(&F));
	return 0;
}
