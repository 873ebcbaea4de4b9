/*
 * fuzz_tcp.c - libFuzzer target: a TCP peer and the apps on Kiln's side,
 * both driven by the input, against a stack with a listener on port 80 on
 * a fake device (tests/unit/net_fake.h) and a virtual clock; plus the
 * option parser on raw bytes.
 *
 * The input is a set-up byte and then a sequence of operations, so the
 * fuzzer can drive a connection through its states and to its limits
 * (window, TCP_OOO_MAX islands, TCP_RCV_MAX_NBUFS buffers, an empty pool).
 *
 * Set-up byte: bits 1-2 device RX/TX checksum offload; bit 3 a small
 * packet pool (SMALL_POOL buffers, so exhaustion is reachable); bit 4 a
 * small receive buffer (4 KiB, so the window closes quickly); bit 5 a
 * scripted handshake (as ACCEPT) on slot 0 at the start, which with bit 0
 * carries MSS, WS, SACK-permitted and timestamps.
 *
 * There are NSLOT connection slots. Slot s talks from peer port
 * 40000 + s to port 80 (or, after OP_CONNECT, between the stack's
 * ephemeral port and peer port 5000 + s). An operation is one byte:
 * low nibble the opcode, high nibble the slot (mod NSLOT), then its
 * fields (big-endian; a field past the end of the input reads as zero):
 *
 *   0 SEG     flags:1 mode:1 win:2 seq:2 ack:2 optctl:1 optlen:1
 *             opts:optlen paylen:2
 *     A segment from the peer. mode bits 0-1 pick seq: RCV.NXT+(int16)seq,
 *     RCV.NXT+seq*16, peer ISN+seq, raw (seq<<16|seq); with no connection
 *     for the slot the first two are relative to the peer ISN. Bits 2-3
 *     pick ack: SND.UNA+(int16)ack, SND.NXT+(int16)ack, SND.MAX+(int16)ack,
 *     raw. Bit 4 corrupts the checksum; bit 5 aims at closed port 81.
 *     optctl adds options built by the harness before the raw opts: bit 0
 *     MSS 1460, 1 WS 7, 2 SACK-permitted, 3 timestamps (TSval counting
 *     up, TSecr the last TSval the stack sent), bits 4-5 that many SACK
 *     blocks, each 4 more bytes after paylen (start:2 len:2, relative to
 *     SND.UNA). Options are cut at 40 bytes. The payload is paylen % 1461
 *     bytes (cut so the datagram fits 1500), each byte pat(its sequence
 *     number), so the app can check the stream it gets.
 *   1 CLOCK   n:1   advance the clock (n<100: n*10 ms; n<200: (n-99) s;
 *                   n<255: (n-199) min; 255: to the next deadline), run timers
 *   2 READ    n:2   the app may consume n more bytes (0xffff: all), resume
 *   3 PAUSE         the app consumes nothing more (delivery pauses)
 *   4 WRITE   n:2   tcp_write n bytes
 *   5 CLOSE   how:1 0 tcp_close, 1 tcp_shutdown, 2 tcp_abort, 3 recv_ack all seen
 *   6 ACCEPT  optctl:1 ack:1  scripted handshake from the slot's port (SYN
 *                   with the optctl options; bit 0 of ack: send the final ACK)
 *   7 CONNECT       tcp_connect to the slot's peer port 5000 + s
 *   8 DEVICE  b:1   bit 0 the device holds sent buffers (until bit 1:
 *                   it completes them); bit 2 transmissions fail
 *   9 APP     b:1   bit 0 echo what is read, 1 close on the peer's FIN,
 *                   2 the listener refuses connections, 3 nodelay,
 *                   4 keep-alive (idle (b>>5)+1 s)
 *
 * Invariants: the bytes an app sees are exactly the peer's stream in
 * order, nothing after FIN; after every operation no connection holds
 * more than TCP_RCV_MAX_NBUFS buffers or TCP_OOO_MAX islands, and the
 * connections hold no more buffers than the pool has lent out. After the
 * input every connection is aborted, every timer run out, and every
 * buffer must be back in its pool. A breach abort()s, as does any
 * sanitizer report.
 *
 * The seeds in tests/fuzz/corpus/tcp/ come from tests/fuzz/gen_tcp_corpus.py
 * (see there) and must be regenerated when this format changes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/log.h>
#include <kiln/tcp.h>

#include "tests/unit/net_fake.h"
#include "net/tcp_priv.h"
#include "net/wire/tcp.h"

#define NSLOT 4
#define SMALL_POOL 40
#define MAX_CONNS 16
#define PEER_PORT0 40000
#define OUT_PORT0 5000

enum { OP_SEG, OP_CLOCK, OP_READ, OP_PAUSE, OP_WRITE, OP_CLOSE, OP_ACCEPT, OP_CONNECT, OP_DEVICE,
       OP_APP };

struct slot {
	struct tcp_conn *c;
	uint16_t lport, rport;
	uint32_t rx_seq;            /* sequence number of the next byte the app expects */
	uint32_t budget;            /* bytes it may still consume */
	uint32_t pending;           /* seen by the app, not consumed */
	bool all, echo, close_on_fin, fin;
	bool synced;                /* rx_seq is known (handshake done) */
};

static struct fake_net F;
static uint8_t tcp_mem[1u << 20] __attribute__((aligned(64)));
static uint8_t outbuf[65536];
static struct slot S[NSLOT];
static bool refuse;
static uint32_t peer_ts, last_tsval;
static bool use_opts;

static const uint8_t *ip, *iend;      /* the input being read */

static uint8_t in8(void) { return ip < iend ? *ip++ : 0; }
static uint16_t in16(void)
{
	uint16_t v = (uint16_t)(in8() << 8);
	return (uint16_t)(v | in8());
}

static uint8_t pat(uint32_t seq) { return (uint8_t)((seq * 0x9E3779B1u) >> 24); }
static uint32_t peer_isn(unsigned s) { return 1000u + (uint32_t)s * 0x01000000u; }

static void slot_forget(struct tcp_conn *c)
{
	for (unsigned i = 0; i < NSLOT; i++)
		if (S[i].c == c)
			S[i].c = NULL;
}

static void slot_bind(struct slot *s, struct tcp_conn *c)
{
	s->c = c;
	s->rx_seq = c->irs + 1;
	s->synced = true;
	s->pending = 0;
	s->fin = false;
}

static size_t on_recv(struct tcp_conn *c, const uint8_t *d, size_t n, void *arg)
{
	struct slot *s = arg;
	if (!s)
		return n;                 /* a connection no slot tracks: consume all */
	if (!d) {
		if (s->fin)
			abort();          /* FIN delivered twice */
		s->fin = true;
		if (s->close_on_fin) {
			tcp_close(c);
			s->c = NULL;
		}
		return 0;
	}
	/* tcp_shutdown() in a simultaneous open's SYN_RCVD goes to FIN_WAIT_1
	 * (RFC 9293 3.10.4), and the handshake then completes without the
	 * connected handler: the stream starts after the peer's SYN anyway. */
	if (!s->synced) {
		s->rx_seq = c->irs + 1;
		s->synced = true;
	}
	if (n == 0 || s->fin)
		abort();                  /* an empty view, or data after FIN */
	for (size_t i = 0; i < n; i++)
		if (d[i] != pat(s->rx_seq + (uint32_t)i))
			abort();          /* the stream is not the peer's */
	size_t k = s->all ? n : (n < s->budget ? n : s->budget);
	if (!s->all)
		s->budget -= (uint32_t)k;
	s->rx_seq += (uint32_t)k;
	s->pending = (uint32_t)(n - k);
	if (s->echo && k)
		tcp_write(c, d, k);
	return k;
}

static void on_closed(struct tcp_conn *c, int reason, void *arg)
{
	(void)reason;
	(void)arg;
	slot_forget(c);
}

static void on_connected(struct tcp_conn *c, void *arg)
{
	struct slot *s = arg;
	if (s && s->c == c)
		slot_bind(s, c);
}

static const struct tcp_handlers H = { .connected = on_connected, .recv = on_recv,
				       .closed = on_closed };

static int on_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	if (refuse)
		return K_EBUSY;
	struct slot *s = NULL;
	unsigned i = (unsigned)(c->rport - PEER_PORT0);
	if (c->rport >= PEER_PORT0 && i < NSLOT && !S[i].c && S[i].rport == c->rport)
		s = &S[i];
	tcp_set_handlers(c, &H, s);
	if (s)
		slot_bind(s, c);
	return K_OK;
}

/* Remembers the last TSval the stack sent, for the peer's TSecr. */
static void scan_tx(void)
{
	for (unsigned i = 0; i < F.ntx; i++) {
		const uint8_t *fr = F.tx[i].data;
		size_t len = F.tx[i].len < FAKE_FRAME_MAX ? F.tx[i].len : FAKE_FRAME_MAX;
		if (len < 54 || rd16(fr + 12) != 0x0800 || fr[23] != 6)
			continue;
		const uint8_t *t = fr + 14 + (size_t)(fr[14] & 15) * 4;
		size_t hl = (size_t)(t[12] >> 4) * 4;
		if (t + hl > fr + len || hl < 20)
			continue;
		for (const uint8_t *o = t + 20, *e = t + hl; o < e;) {
			if (*o == 0)
				break;
			if (*o == 1) {
				o++;
				continue;
			}
			if (o + 1 >= e || o[1] < 2 || o + o[1] > e)
				break;
			if (o[0] == 8 && o[1] == 10)
				last_tsval = rd32(o + 2);
			o += o[1];
		}
	}
	fake_clear_tx(&F);
}

static struct tcp_conn *slot_conn(unsigned si)
{
	struct slot *s = &S[si];
	if (s->c)
		return s->c;
	return tcp_lookup(F.nif.tcp, FAKE_IP, s->lport, PEER_IP, s->rport);
}

/* Builds the harness's options for optctl into o; returns their length. */
static size_t build_opts(uint8_t *o, uint8_t optctl, struct tcp_conn *c, const uint16_t sack[3][2])
{
	size_t n = 0;
	if (optctl & 1) {
		o[n++] = 2, o[n++] = 4;
		be16(o + n, 1460);
		n += 2;
	}
	if (optctl & 2)
		o[n++] = 1, o[n++] = 3, o[n++] = 3, o[n++] = 7;
	if (optctl & 4)
		o[n++] = 1, o[n++] = 1, o[n++] = 4, o[n++] = 2;
	if (optctl & 8) {
		o[n++] = 1, o[n++] = 1, o[n++] = 8, o[n++] = 10;
		be32(o + n, ++peer_ts);
		be32(o + n + 4, last_tsval);
		n += 8;
	}
	unsigned nsack = (optctl >> 4) & 3;
	if (nsack) {
		uint32_t base = c ? c->snd_una : 0;
		o[n++] = 1, o[n++] = 1, o[n++] = 5, o[n++] = (uint8_t)(2 + 8 * nsack);
		for (unsigned i = 0; i < nsack; i++) {
			be32(o + n, base + sack[i][0]);
			be32(o + n + 4, base + sack[i][0] + sack[i][1]);
			n += 8;
		}
	}
	return n;
}

static void send_seg(uint8_t *t, size_t len, bool fix)
{
	static uint8_t fr[1600];
	be16(t + 16, 0);
	if (fix)
		be16(t + 16, ref_csum(ref_pseudo(PEER_IP, FAKE_IP, 6, (uint16_t)len), t, len));
	fake_rx(&F, fr, mk_ip4(fr, PEER_IP, FAKE_IP, 6, 1, 0x4000, 64, t, len), 0);
	scan_tx();
}

/* A segment from slot si's peer port: header fields, options, paylen
 * bytes of the stream's pattern from seq on. */
static void peer_seg(unsigned si, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack,
		     uint16_t win, const uint8_t *opts, size_t optlen, size_t paylen, bool fix)
{
	static uint8_t t[1600];
	if (optlen > 40)
		optlen = 40;
	size_t hl = 20 + ((optlen + 3) & ~(size_t)3);
	if (paylen > 1480 - hl)
		paylen = 1480 - hl;
	memset(t, 0, hl);
	be16(t, S[si].rport);
	be16(t + 2, dport);
	be32(t + 4, seq);
	be32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	be16(t + 14, win);
	memcpy(t + 20, opts, optlen);
	uint32_t ds = seq + ((flags & TCP_SYN) ? 1 : 0);
	for (size_t i = 0; i < paylen; i++)
		t[hl + i] = pat(ds + (uint32_t)i);
	send_seg(t, hl + paylen, fix);
}

static void op_seg(unsigned si)
{
	uint8_t flags = in8(), mode = in8();
	uint16_t win = in16(), seq16 = in16(), ack16 = in16();
	uint8_t optctl = in8(), rawlen = in8();
	const uint8_t *raw = ip;
	if (rawlen > iend - ip)
		rawlen = (uint8_t)(iend - ip);
	ip += rawlen;
	size_t paylen = in16() % 1461u;
	uint16_t sack[3][2] = { { 0 } };
	for (unsigned i = 0; i < ((optctl >> 4) & 3u); i++)
		sack[i][0] = in16(), sack[i][1] = in16();

	struct tcp_opts po;
	tcp_parse_options(raw, raw + rawlen, (flags & TCP_SYN) != 0, &po);

	struct tcp_conn *c = slot_conn(si);
	uint32_t seq, ack;
	switch (mode & 3) {
	case 0: seq = (c ? c->rcv_nxt : peer_isn(si)) + (uint32_t)(int32_t)(int16_t)seq16; break;
	case 1: seq = (c ? c->rcv_nxt : peer_isn(si)) + (uint32_t)seq16 * 16u; break;
	case 2: seq = peer_isn(si) + seq16; break;
	default: seq = (uint32_t)seq16 << 16 | seq16; break;
	}
	uint32_t a16 = (uint32_t)(int32_t)(int16_t)ack16;
	switch ((mode >> 2) & 3) {
	case 0: ack = c ? c->snd_una + a16 : ack16; break;
	case 1: ack = c ? c->snd_nxt + a16 : ack16; break;
	case 2: ack = c ? c->snd_max + a16 : ack16; break;
	default: ack = (uint32_t)ack16 << 16 | ack16; break;
	}
	uint8_t o[80];
	size_t n = build_opts(o, optctl, c, sack);
	size_t take = rawlen < 80 - n ? rawlen : 80 - n;
	memcpy(o + n, raw, take);
	n += take;
	peer_seg(si, (mode & 32) ? 81 : S[si].lport, flags, seq, ack, win, o, n, paylen,
		 !(mode & 16));
}

static void clock_step(uint8_t n)
{
	uint64_t now = time_now_ns();
	if (n == 255) {
		uint64_t d = net_next_deadline(&F.nif);
		if (d == UINT64_MAX)
			return;
		if (d > now)
			hosted_clock_set(d);
	} else if (n < 100) {
		hosted_clock_advance((uint64_t)n * 10 * NS_PER_MS);
	} else if (n < 200) {
		hosted_clock_advance((uint64_t)(n - 99) * NS_PER_SEC);
	} else {
		hosted_clock_advance((uint64_t)(n - 199) * 60 * NS_PER_SEC);
	}
	net_tick(&F.nif, time_now_ns());
	scan_tx();
}

/* The scripted handshake: SYN with optctl's options, SYN-ACK, ACK. */
static void accept_script(unsigned si, uint8_t optctl, bool final_ack)
{
	static const uint16_t nosack[3][2];
	struct slot *s = &S[si];
	if (s->c)
		return;
	s->lport = 80;
	s->rport = (uint16_t)(PEER_PORT0 + si);
	uint8_t o[40];
	size_t n = build_opts(o, optctl & 15, NULL, nosack);
	peer_seg(si, 80, TCP_SYN, peer_isn(si), 0, 65535, o, n, 0, true);
	struct tcp_conn *c = tcp_lookup(F.nif.tcp, FAKE_IP, 80, PEER_IP, s->rport);
	if (!c || !final_ack)
		return;
	n = build_opts(o, optctl & 8, NULL, nosack);
	peer_seg(si, 80, TCP_ACK, peer_isn(si) + 1, c->iss + 1, 65535, o, n, 0, true);
}

static void op_connect(unsigned si)
{
	struct slot *s = &S[si];
	if (s->c)
		return;
	struct tcp_conn *c;
	if (tcp_connect(&F.nif, PEER_IP, (uint16_t)(OUT_PORT0 + si), &H, s, &c) < 0)
		return;
	s->c = c;
	s->lport = c->lport;
	s->rport = c->rport;
	s->fin = false;
	s->pending = 0;
	s->synced = false;       /* rx_seq is set when the handshake completes */
	scan_tx();
}

/* Limits that must hold after every operation. */
static void check_limits(void)
{
	uint32_t held = 0;
	if (F.pool.nfree > F.pool.count)
		abort();
	for (uint32_t i = 0; i < MAX_CONNS; i++) {
		const struct tcp_conn *c = &F.nif.tcp->conns[i];
		if (c->state == TCP_CLOSED)
			continue;
		if ((uint32_t)c->rx_nbufs + c->ooo_nbufs > TCP_RCV_MAX_NBUFS || c->nooo > TCP_OOO_MAX)
			abort();
		held += (uint32_t)c->rx_nbufs + c->ooo_nbufs;
	}
	if (held > F.pool.count - F.pool.nfree)
		abort();
}

static void run_op(void)
{
	uint8_t b = in8();
	unsigned si = (unsigned)(b >> 4) % NSLOT;
	struct slot *s = &S[si];
	switch (b & 15) {
	case OP_SEG:
		op_seg(si);
		break;
	case OP_CLOCK:
		clock_step(in8());
		break;
	case OP_READ: {
		uint16_t n = in16();
		if (n == 0xffff)
			s->all = true;
		else
			s->budget += n;
		if (s->c)
			tcp_recv_resume(s->c);
		break;
	}
	case OP_PAUSE:
		s->all = false;
		s->budget = 0;
		break;
	case OP_WRITE: {
		uint16_t n = in16();
		if (s->c)
			tcp_write(s->c, outbuf, n);
		break;
	}
	case OP_CLOSE: {
		uint8_t how = in8() & 3;
		if (!s->c)
			break;
		if (how == 0) {
			struct tcp_conn *c = s->c;
			s->c = NULL;
			tcp_close(c);
		} else if (how == 1) {
			tcp_shutdown(s->c);
		} else if (how == 2) {
			struct tcp_conn *c = s->c;
			s->c = NULL;
			tcp_abort(c);
		} else if (s->pending) {
			uint32_t n = s->pending;
			s->pending = 0;
			s->rx_seq += n;
			tcp_recv_ack(s->c, n);
		}
		break;
	}
	case OP_ACCEPT: {
		uint8_t oc = in8(), a = in8();
		accept_script(si, oc, a & 1);
		break;
	}
	case OP_CONNECT:
		op_connect(si);
		break;
	case OP_DEVICE: {
		uint8_t d = in8();
		F.hold = d & 1;
		if (d & 2)
			fake_complete(&F);
		F.xmit_ret = (d & 4) ? K_EAGAIN : 0;
		break;
	}
	case OP_APP: {
		uint8_t a = in8();
		s->echo = a & 1;
		s->close_on_fin = (a & 2) != 0;
		refuse = (a & 4) != 0;
		if (s->c) {
			tcp_set_nodelay(s->c, (a & 8) != 0);
			tcp_set_keepalive(s->c, (a & 16) != 0, (uint64_t)((a >> 5) + 1) * NS_PER_SEC,
					  NS_PER_SEC, 3);
		}
		break;
	}
	default:
		break;
	}
	scan_tx();
	check_limits();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	ip = data;
	iend = data + size;
	uint8_t setup = in8();
	log_set_level(LOG_ERROR);
	fake_init_pool(&F, (setup & 2 ? NETDEV_CAP_RX_CSUM : 0) | (setup & 4 ? NETDEV_CAP_TX_CSUM : 0) |
			       NETDEV_CAP_SG,
		       true, (setup & 8) ? SMALL_POOL : FAKE_POOL_N);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	cfg.max_conns = MAX_CONNS;
	cfg.max_timewait = 8;
	cfg.max_spans = 64;
	cfg.snd_buf = 16384;
	if (setup & 16)
		cfg.rcv_buf = 4096;
	if (tcp_if_init(&F.nif, &cfg, tcp_mem, sizeof tcp_mem) < 0)
		abort();
	memset(S, 0, sizeof S);
	for (unsigned i = 0; i < NSLOT; i++) {
		S[i].lport = 80;
		S[i].rport = (uint16_t)(PEER_PORT0 + i);
		S[i].all = true;
	}
	refuse = false;
	peer_ts = 100;
	last_tsval = 0;
	use_opts = setup & 1;
	tcp_listen(&F.nif, 80, 4, on_accept, NULL);
	if (setup & 32)
		accept_script(0, use_opts ? 15 : 0, true);

	while (ip < iend)
		run_op();

	/* tear down: abort all, run every timer out, then nothing may be held */
	F.hold = false;
	F.xmit_ret = 0;
	fake_complete(&F);
	for (uint32_t i = 0; i < cfg.max_conns; i++)
		if (F.nif.tcp->conns[i].state != TCP_CLOSED)
			tcp_abort(&F.nif.tcp->conns[i]);
	tcp_unlisten(&F.nif, 80);
	for (int i = 0; i < 256 && net_next_deadline(&F.nif) != UINT64_MAX; i++) {
		uint64_t d = net_next_deadline(&F.nif);
		if (d > time_now_ns())
			hosted_clock_set(d);
		net_tick(&F.nif, time_now_ns());
		fake_clear_tx(&F);
	}
	if (net_next_deadline(&F.nif) != UINT64_MAX || F.nif.tcp->stats.conns_current ||
	    F.nif.tcp->stats.timewait_current)
		abort();
	if (!fake_no_leaks(&F))
		abort();
	return 0;
}
