/*
 * fuzz_tcp.c - libFuzzer target: arbitrary TCP segments (inside valid
 * Ethernet and IPv4 wrappers, so they reach TCP) against a stack with a
 * listener on port 80 and an established connection, on a virtual clock;
 * plus the option parser on raw bytes.
 *
 * Input: one byte of set-up (bit 0: the connection negotiates TS, SACK
 * and window scaling; bits 1-2: device checksum offloads), then records
 *   [len: 1 byte][ctl: 1 byte][segment: len bytes]
 * The segment is a TCP header and payload as the fuzzer wrote it; the
 * harness pads it to 20 bytes, fixes the checksum (so it is not simply
 * dropped), and by ctl: bit 0 aims it at the established connection's
 * ports, bit 1 sets seq to RCV.NXT plus the segment's own seq low byte,
 * bit 2 sets ack to SND.UNA plus its ack low byte, bit 3 clears the
 * checksum fix (a corrupt segment), bits 4-7 advance the clock by that
 * many 50 ms steps first and run the timers. The apps echo what they
 * receive and close on a zero byte, so data flows both ways.
 *
 * After each input every connection is aborted, every timer run out, and
 * every buffer must be back in its pool: a leak aborts, as does any
 * sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/log.h>
#include <kiln/tcp.h>

#include "tests/unit/net_fake.h"
#include "net/tcp_priv.h"

static struct fake_net F;
static uint8_t tcp_mem[1u << 20] __attribute__((aligned(64)));
static struct tcp_conn *est;

static size_t on_recv(struct tcp_conn *c, const uint8_t *d, size_t n, void *arg)
{
	(void)arg;
	if (!d)
		return 0;
	if (memchr(d, 0, n)) {
		tcp_close(c);
		if (c == est)
			est = NULL;
		return n;
	}
	tcp_write(c, d, n);
	return n;
}

static void on_closed(struct tcp_conn *c, int reason, void *arg)
{
	(void)reason;
	(void)arg;
	if (c == est)
		est = NULL;
}

static const struct tcp_handlers H = { .recv = on_recv, .closed = on_closed };

static int on_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_set_handlers(c, &H, NULL);
	if (!est)
		est = c;
	return K_OK;
}

static void send_seg(uint8_t *t, size_t len, bool fix)
{
	uint8_t fr[400];
	size_t hl = (size_t)(t[12] >> 4) * 4;
	(void)hl;
	be16(t + 16, 0);
	if (fix)
		be16(t + 16, ref_csum(ref_pseudo(PEER_IP, FAKE_IP, 6, (uint16_t)len), t, len));
	fake_rx(&F, fr, mk_ip4(fr, PEER_IP, FAKE_IP, 6, 1, 0x4000, 64, t, len), 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	if (size < 1)
		return 0;
	uint8_t setup = *p++;
	log_set_level(LOG_ERROR);
	fake_init(&F, (setup & 2 ? NETDEV_CAP_RX_CSUM : 0) | (setup & 4 ? NETDEV_CAP_TX_CSUM : 0) |
		  NETDEV_CAP_SG, true);
	F.nif.arp.announces_left = 0;
	fake_learn(&F, peer_mac, PEER_IP);
	struct tcp_config cfg;
	tcp_config_default(&cfg);
	cfg.max_conns = 32;
	cfg.max_timewait = 8;
	cfg.max_spans = 64;
	cfg.snd_buf = 16384;
	if (tcp_if_init(&F.nif, &cfg, tcp_mem, sizeof tcp_mem) < 0)
		abort();
	est = NULL;
	tcp_listen(&F.nif, 80, 4, on_accept, NULL);

	/* the established connection: a scripted handshake */
	uint8_t t[300];
	static const uint8_t full[] = { 2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0,
					1, 3, 3, 7 };
	memset(t, 0, 40);
	be16(t, 40000);
	be16(t + 2, 80);
	be32(t + 4, 1000);
	t[13] = TCP_SYN;
	be16(t + 14, 65535);
	size_t hl = 20;
	if (setup & 1) {
		memcpy(t + 20, full, sizeof full);
		hl = 40;
	}
	t[12] = (uint8_t)((hl / 4) << 4);
	send_seg(t, hl, true);
	struct tcp_conn *c = tcp_lookup(F.nif.tcp, FAKE_IP, 80, PEER_IP, 40000);
	if (c) {
		memset(t, 0, 20);
		be16(t, 40000);
		be16(t + 2, 80);
		be32(t + 4, 1001);
		be32(t + 8, c->iss + 1);
		t[12] = 0x50;
		t[13] = TCP_ACK;
		be16(t + 14, 65535);
		send_seg(t, 20, true);
	}
	fake_clear_tx(&F);

	while (end - p >= 2) {
		size_t len = p[0];
		uint8_t ctl = p[1];
		p += 2;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		struct tcp_opts o;
		tcp_parse_options(p, p + len, (ctl & 1) != 0, &o);
		if (ctl >> 4) {
			hosted_clock_advance((uint64_t)(ctl >> 4) * 50 * NS_PER_MS);
			net_tick(&F.nif, time_now_ns());
		}
		memset(t, 0, 20);
		memcpy(t, p, len);
		size_t tl = len < 20 ? 20 : len;
		p += len;
		if ((t[12] >> 4) < 5 || (size_t)(t[12] >> 4) * 4 > tl)
			t[12] = (uint8_t)((t[12] & 0x0f) | 0x50);
		if ((ctl & 1) && est) {
			be16(t, est->rport);
			be16(t + 2, est->lport);
		}
		if ((ctl & 2) && est)
			be32(t + 4, est->rcv_nxt + t[7]);
		if ((ctl & 4) && est)
			be32(t + 8, est->snd_una + t[11]);
		send_seg(t, tl, !(ctl & 8));
		fake_clear_tx(&F);
	}
	/* tear down: abort all, run every timer out, then nothing may be held */
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
