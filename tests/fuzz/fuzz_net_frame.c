/*
 * fuzz_net_frame.c - libFuzzer target: arbitrary frames into the network
 * stack's input (Ethernet, ARP, IPv4, fragments, ICMP, UDP) through the
 * fake netdev, on a virtual clock.
 *
 * Input: one byte of set-up (device capabilities), then records of
 *   [len: 2 bytes little-endian][ctl: 1 byte][frame: len bytes]
 * where ctl bit 0 marks the frame's L4 checksum device-verified, bit 1
 * its IPv4 header checksum (so the fuzzer reaches past checksums), and
 * bits 2-7 advance the clock by that many 250 ms steps first, running
 * the timers. A UDP echo service on port 7 answers what reaches it.
 *
 * After each input every timer is run out and every buffer must be back
 * in its pool: a leak aborts, as does any sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/log.h>

#include "tests/unit/net_fake.h"

static struct fake_net F;
static struct udp_pcb echo;

static void on_echo(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	(void)arg;
	udp_sendto(pcb, rx->src_addr, rx->src_port, rx->data, rx->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	if (size < 1)
		return 0;
	uint32_t caps = *p++ & (NETDEV_CAP_RX_CSUM | NETDEV_CAP_TX_CSUM | NETDEV_CAP_SG);
	log_set_level(LOG_ERROR);                    /* conflicts would flood stderr */
	fake_init(&F, caps, true);
	fake_learn(&F, peer_mac, PEER_IP);
	memset(&echo, 0, sizeof echo);
	udp_bind(&echo, &F.nif, 7, on_echo, NULL);

	while (end - p >= 3) {
		size_t len = (size_t)p[0] | (size_t)p[1] << 8;
		uint8_t ctl = p[2];
		p += 3;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		if (ctl >> 2) {
			hosted_clock_advance((uint64_t)(ctl >> 2) * 250 * NS_PER_MS);
			net_tick(&F.nif, time_now_ns());
		}
		uint16_t flags = (uint16_t)(((ctl & 1) ? NBUF_F_CSUM_VALID : 0) |
					    ((ctl & 2) ? NBUF_F_IP_CSUM_OK : 0));
		fake_rx(&F, p, len, flags);
		p += len;
		fake_clear_tx(&F);
	}
	/* Run every timer out (each state ends within a few deadlines), then
	 * nothing may be held. */
	udp_unbind(&echo);
	for (int i = 0; i < 64 && net_next_deadline(&F.nif) != UINT64_MAX; i++) {
		hosted_clock_set(net_next_deadline(&F.nif));
		net_tick(&F.nif, time_now_ns());
		fake_clear_tx(&F);
	}
	if (net_next_deadline(&F.nif) != UINT64_MAX || F.nif.reasm.nbufs || F.nif.arp.queued)
		abort();
	if (!fake_no_leaks(&F))
		abort();
	return 0;
}
