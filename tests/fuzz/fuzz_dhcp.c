/*
 * fuzz_dhcp.c - libFuzzer target: arbitrary server replies into the DHCP
 * client (net/dhcp.c) through the stack's UDP input and the fake netdev,
 * on a virtual clock.
 *
 * Input: records of
 *   [len: 2 bytes little-endian][ctl: 1 byte][message: len bytes]
 * Each message goes out as a UDP datagram from 10.0.0.1:67 to the
 * client's port 68 (broadcast, or unicast to the leased address once
 * there is one). ctl bit 0 overwrites the message's xid with the one the
 * client waits for and bit 1 makes the fixed part plausible (BOOTREPLY,
 * Ethernet, our chaddr, the cookie), so the fuzzer reaches the state
 * machine and not only the parser; bits 2-7 first advance the clock by
 * that many 4-second steps and run the client's and the stack's timers.
 *
 * Checked after every step: the client never asks to be called again in
 * the past, nor at once after a tick (it cannot spin), and while it holds a lease the interface
 * has exactly that address. At the end every buffer must be back in its
 * pool. Any violation aborts, as does any sanitizer report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <kiln/log.h>

#include "net/dhcp.h"
#include "net/wire/dhcp.h"
#include "tests/unit/net_fake.h"

static struct fake_net F;
static struct dhcp D;

/* after_tick: dhcp_tick(now) ran, so nothing may be due at now any more
 * (an ACK may legitimately leave work due at once). */
static void check(uint64_t now, bool after_tick)
{
	uint64_t next = dhcp_next_deadline(&D);
	if (next < now || (after_tick && next == now))
		abort();
	bool bound = D.state == DHCP_BOUND || D.state == DHCP_RENEWING ||
		     D.state == DHCP_REBINDING;
	if (bound && F.nif.addr != D.lease.addr)
		abort();
	if (!bound && F.nif.addr != 0)
		abort();
}

static void run_timers(uint64_t now)
{
	hosted_clock_set(now);
	dhcp_tick(&D, now);
	net_tick(&F.nif, now);
	check(now, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[DHCP_MAX_REPLY + 64], udp[sizeof msg + 8], frame[sizeof udp + 64];
	const uint8_t *p = data, *end = data + size;

	log_set_level(LOG_ERROR);
	fake_init(&F, 0, false);
	memset(&D, 0, sizeof D);
	if (dhcp_start(&D, &F.nif, time_now_ns(), NULL, NULL) != K_OK)
		abort();
	run_timers(time_now_ns());                  /* the first DISCOVER */

	while (end - p >= 3) {
		size_t len = (size_t)p[0] | (size_t)p[1] << 8;
		uint8_t ctl = p[2];
		p += 3;
		if (len > (size_t)(end - p))
			len = (size_t)(end - p);
		if (ctl >> 2)
			run_timers(time_now_ns() + (uint64_t)(ctl >> 2) * 4 * NS_PER_SEC);
		size_t n = len < sizeof msg ? len : sizeof msg;
		memcpy(msg, p, n);
		p += len;
		if ((ctl & 1) && n >= 8)
			be32(msg + 4, D.xid);
		if ((ctl & 2) && n >= DHCP_FIXED_LEN) {
			msg[0] = DHCP_OP_REPLY;
			msg[1] = DHCP_HTYPE_ETH;
			msg[2] = 6;
			memcpy(msg + 28, fake_mac, 6);
			be32(msg + 236, DHCP_COOKIE);
		}
		uint32_t dst = F.nif.addr ? F.nif.addr : 0xffffffffu;
		size_t ul = mk_udp(udp, GW_IP, dst, 67, 68, msg, n);
		size_t fl = mk_ip4(frame, GW_IP, dst, 17, 1, 0, 64, udp, ul);
		fake_rx(&F, frame, fl, 0);
		check(time_now_ns(), false);
		fake_clear_tx(&F);
	}
	dhcp_stop(&D);
	for (int i = 0; i < 64 && net_next_deadline(&F.nif) != UINT64_MAX; i++) {
		hosted_clock_set(net_next_deadline(&F.nif));
		net_tick(&F.nif, time_now_ns());
		fake_clear_tx(&F);
	}
	if (!fake_no_leaks(&F))
		abort();
	return 0;
}
