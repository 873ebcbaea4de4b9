/*
 * test_net_dhcp.c - the DHCP client (net/dhcp.c) through the fake
 * netdev on a virtual clock, with a scripted server: the whole
 * DISCOVER/OFFER/REQUEST/ACK exchange checked field by field (BROADCAST
 * flag, addresses, options), the configuration applied, retransmission
 * backoff with jitter, giving up on an unanswered REQUEST, renewal
 * unicast to the server at T1, rebinding by broadcast at T2, expiry,
 * NAKs, option overload, and every kind of bad reply dropped and counted
 * with nothing sent and nothing leaked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "net_fake.h"
#include "net/dhcp.h"
#include "net/wire/dhcp.h"

#define SERVER_IP GW_IP                      /* 10.0.0.1 */
#define OTHER_SERVER NET_IP4(10, 0, 0, 3)
#define DNS_IP NET_IP4(10, 0, 0, 53)
#define T0 (1000 * NS_PER_SEC)
#define SEC NS_PER_SEC

static struct fake_net F;
static struct dhcp D;
static int notified_up, notified_down;

static void notify(struct dhcp *d, bool bound, void *arg)
{
	(void)d;
	(void)arg;
	if (bound)
		notified_up++;
	else
		notified_down++;
}

static void setup(void)
{
	fake_init(&F, 0, false);
	memset(&D, 0, sizeof D);
	notified_up = notified_down = 0;
	assert_int_equal(dhcp_start(&D, &F.nif, T0, notify, NULL), K_OK);
	assert_int_equal(dhcp_start(&D, &F.nif, T0, notify, NULL), K_EALREADY);
}

static void teardown(void)
{
	dhcp_stop(&D);
	assert_true(fake_no_leaks(&F));
}

static void tick(uint64_t now)
{
	hosted_clock_set(now);
	dhcp_tick(&D, now);
}

/* tick() with the server's MAC freshly in the ARP cache, so a unicast
 * goes straight out instead of waiting for resolution. */
static void tick_server_known(uint64_t now)
{
	hosted_clock_set(now);
	fake_learn(&F, gw_mac, SERVER_IP);
	dhcp_tick(&D, now);
}

/* ---- what the client sent ---- */

struct sent {
	uint32_t ip_src, ip_dst;
	uint16_t sport, dport;
	const uint8_t *eth_dst;
	struct dhcp_msg m;                /* parsed with the client's own parser */
	const uint8_t *raw;              /* the DHCP message */
	size_t len;
	uint16_t flags, secs;
	uint32_t ciaddr;
	uint32_t requested_ip, server_id;   /* options 50 and 54, 0 if absent */
};

/* Scans a request's options for code; returns its value pointer or NULL. */
static const uint8_t *req_opt(const uint8_t *msg, size_t len, uint8_t code, uint8_t *olen)
{
	size_t i = DHCP_FIXED_LEN;
	while (i < len && msg[i] != DHCP_OPT_END) {
		if (msg[i] == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		assert_true(i + 1 < len && i + 2 + msg[i + 1] <= len);
		if (msg[i] == code) {
			*olen = msg[i + 1];
			return msg + i + 2;
		}
		i += 2u + msg[i + 1];
	}
	return NULL;
}

/* The n-th DHCP frame sent since the record was cleared (-1: the last);
 * false if there is none. */
static bool sent_dhcp(int n, struct sent *s)
{
	int found = -1, want = n;
	if (n < 0) {
		want = 0;
		for (unsigned i = 0; i < F.ntx; i++) {
			const uint8_t *f = F.tx[i].data;
			if (rd16(f + 12) == 0x0800 && f[23] == 17 && rd16(f + 36) == 67)
				want = (int)i;
		}
	}
	for (unsigned i = 0; i < F.ntx; i++) {
		const struct fake_frame *fr = &F.tx[i];
		const uint8_t *f = fr->data;
		if (rd16(f + 12) != 0x0800 || f[23] != 17 || rd16(f + 36) != 67)
			continue;
		found++;
		if ((n < 0 && (int)i != want) || (n >= 0 && found != want))
			continue;
		assert_true(frame_ip_csum_ok(fr));
		memset(s, 0, sizeof *s);
		s->eth_dst = f;
		s->ip_src = rd32(f + 26);
		s->ip_dst = rd32(f + 30);
		s->sport = rd16(f + 34);
		s->dport = rd16(f + 36);
		s->raw = f + 42;
		s->len = fr->len - 42;
		assert_int_equal(rd16(f + 38), s->len + 8);
		/* a correct UDP checksum (software: no offload on this device) */
		assert_int_equal(ref_csum(ref_pseudo(s->ip_src, s->ip_dst, 17, (uint16_t)(s->len + 8)),
					  f + 34, s->len + 8), 0);
		assert_int_equal(dhcp_parse(s->raw, s->len, &s->m), K_OK);
		s->flags = rd16(s->raw + 10);
		s->secs = rd16(s->raw + 8);
		s->ciaddr = rd32(s->raw + 12);
		uint8_t ol;
		const uint8_t *v = req_opt(s->raw, s->len, DHCP_OPT_REQUESTED_IP, &ol);
		if (v) {
			assert_int_equal(ol, 4);
			s->requested_ip = rd32(v);
		}
		v = req_opt(s->raw, s->len, DHCP_OPT_SERVER_ID, &ol);
		if (v) {
			assert_int_equal(ol, 4);
			s->server_id = rd32(v);
		}
		return true;
	}
	return false;
}

static unsigned dhcp_frames(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < F.ntx; i++) {
		const uint8_t *f = F.tx[i].data;
		if (rd16(f + 12) == 0x0800 && f[23] == 17 && rd16(f + 36) == 67)
			n++;
	}
	return n;
}

/* ---- the scripted server ---- */

struct reply {
	uint8_t type;                 /* 0: no option 53 */
	uint32_t xid, yiaddr, server; /* server 0: no option 54 */
	uint32_t mask, router, dns, lease, t1, t2;   /* 0: option absent */
	const uint8_t *chaddr;        /* NULL: ours */
	uint8_t op;                   /* 0: BOOTREPLY */
	const uint8_t *extra;         /* raw options appended before END */
	size_t extra_len;
	bool no_end;
};

static size_t build_reply(uint8_t *msg, const struct reply *r)
{
	memset(msg, 0, 600);
	msg[0] = r->op ? r->op : DHCP_OP_REPLY;
	msg[1] = 1;
	msg[2] = 6;
	be32(msg + 4, r->xid);
	be32(msg + 16, r->yiaddr);
	memcpy(msg + 28, r->chaddr ? r->chaddr : fake_mac, 6);
	be32(msg + 236, DHCP_COOKIE);
	uint8_t *p = msg + 240;
	if (r->type) {
		*p++ = 53; *p++ = 1; *p++ = r->type;
	}
	struct { uint8_t code; uint32_t v; } o[] = {
		{ 54, r->server }, { 1, r->mask }, { 3, r->router }, { 6, r->dns },
		{ 51, r->lease }, { 58, r->t1 }, { 59, r->t2 },
	};
	for (size_t i = 0; i < sizeof o / sizeof o[0]; i++) {
		if (!o[i].v)
			continue;
		*p++ = o[i].code;
		*p++ = 4;
		be32(p, o[i].v);
		p += 4;
	}
	if (r->extra) {
		memcpy(p, r->extra, r->extra_len);
		p += r->extra_len;
	}
	if (!r->no_end)
		*p++ = 255;
	return (size_t)(p - msg);
}

/* Delivers a DHCP message from src_ip:sport to the client's port 68. */
static void deliver_raw(const uint8_t *msg, size_t len, uint32_t src_ip, uint16_t sport, uint32_t dst_ip)
{
	static uint8_t u[1600], fr[1700];
	size_t n = mk_udp(u, src_ip, dst_ip, sport, 68, msg, len);
	size_t fl = mk_ip4(fr, src_ip, dst_ip, 17, 7, 0, 64, u, n);
	if (dst_ip == 0xffffffffu)
		memset(fr, 0xff, 6);
	fake_rx(&F, fr, fl, 0);
}

static void deliver(const struct reply *r)
{
	uint8_t msg[600];
	deliver_raw(msg, build_reply(msg, r), r->server ? r->server : SERVER_IP, 67, 0xffffffffu);
}

static struct reply offer_for(uint32_t xid)
{
	return (struct reply){
		.type = DHCP_OFFER, .xid = xid, .yiaddr = FAKE_IP, .server = SERVER_IP,
		.mask = 0xffffff00u, .router = GW_IP, .dns = DNS_IP, .lease = 1000,
	};
}

/* Runs DISCOVER/OFFER/REQUEST/ACK at T0 with the given lease; the
 * client ends BOUND. */
static void get_bound(uint32_t lease, uint32_t t1, uint32_t t2)
{
	struct sent s;
	tick(T0);
	assert_true(sent_dhcp(-1, &s));
	struct reply r = offer_for(s.m.xid);
	r.lease = lease;
	r.t1 = t1;
	r.t2 = t2;
	deliver(&r);
	r.type = DHCP_ACK;
	deliver(&r);
	assert_int_equal(D.state, DHCP_BOUND);
	fake_clear_tx(&F);
}

/* ---- tests ---- */

static void test_full_exchange(void **state)
{
	(void)state;
	struct sent s;
	setup();
	assert_int_equal(dhcp_next_deadline(&D), T0);
	assert_int_equal(D.state, DHCP_INIT);
	tick(T0);
	assert_int_equal(D.state, DHCP_SELECTING);
	assert_int_equal(dhcp_frames(), 1);
	assert_true(sent_dhcp(0, &s));
	/* DISCOVER: from 0.0.0.0:68 to 255.255.255.255:67, link broadcast */
	assert_int_equal(s.ip_src, 0);
	assert_int_equal(s.ip_dst, 0xffffffffu);
	assert_memory_equal(s.eth_dst, "\xff\xff\xff\xff\xff\xff", 6);
	assert_int_equal(s.sport, 68);
	assert_int_equal(s.m.op, DHCP_OP_REQUEST);
	assert_int_equal(s.m.type, DHCP_DISCOVER);
	assert_memory_equal(s.m.chaddr, fake_mac, 6);
	assert_int_equal(s.flags, DHCP_FLAG_BROADCAST);
	assert_true(s.len >= DHCP_MIN_MSG);
	uint8_t ol;
	const uint8_t *prl = req_opt(s.raw, s.len, DHCP_OPT_PARAM_LIST, &ol);
	assert_non_null(prl);
	assert_non_null(memchr(prl, DHCP_OPT_ROUTER, ol));
	assert_non_null(memchr(prl, DHCP_OPT_DNS, ol));
	const uint8_t *cid = req_opt(s.raw, s.len, DHCP_OPT_CLIENT_ID, &ol);
	assert_non_null(cid);
	assert_int_equal(ol, 7);
	assert_memory_equal(cid + 1, fake_mac, 6);
	uint32_t xid = s.m.xid;

	/* OFFER -> REQUEST at once, same xid, broadcast, options 50 and 54 */
	fake_clear_tx(&F);
	hosted_clock_set(T0 + SEC);
	struct reply r = offer_for(xid);
	deliver(&r);
	assert_int_equal(D.state, DHCP_REQUESTING);
	assert_int_equal(D.stats.offers, 1);
	assert_true(sent_dhcp(-1, &s));
	assert_int_equal(s.m.type, DHCP_REQUEST);
	assert_int_equal(s.m.xid, xid);
	assert_int_equal(s.flags, DHCP_FLAG_BROADCAST);
	assert_int_equal(s.ip_src, 0);
	assert_int_equal(s.ip_dst, 0xffffffffu);
	assert_int_equal(s.ciaddr, 0);
	assert_int_equal(s.requested_ip, FAKE_IP);
	assert_int_equal(s.server_id, SERVER_IP);
	assert_int_equal(s.secs, 1);
	assert_int_equal(F.nif.addr, 0);

	/* ACK -> configured, announced, notified */
	fake_clear_tx(&F);
	r.type = DHCP_ACK;
	deliver(&r);
	assert_int_equal(D.state, DHCP_BOUND);
	assert_int_equal(D.stats.acks, 1);
	assert_int_equal(notified_up, 1);
	struct net_if_config c;
	net_if_get_config(&F.nif, &c);
	assert_int_equal(c.addr, FAKE_IP);
	assert_int_equal(c.prefix, 24);
	assert_int_equal(c.gateway, GW_IP);
	assert_int_equal(c.dns, DNS_IP);
	assert_int_equal(F.nif.stats.arp_announce_out, 1);
	/* lease counts from the REQUEST (T0 + 1 s); T1 = 500 s, T2 = 875 s */
	assert_int_equal(D.lease.lease_s, 1000);
	assert_int_equal(D.lease.t1_s, 500);
	assert_int_equal(D.lease.t2_s, 875);
	assert_int_equal(dhcp_next_deadline(&D), T0 + SEC + 500 * SEC);
	assert_int_equal(D.lease.ndns, 1);
	/* nothing more is sent until T1 */
	fake_clear_tx(&F);
	tick(T0 + 400 * SEC);
	assert_int_equal(dhcp_frames(), 0);
	teardown();
}

static void test_retransmit_backoff(void **state)
{
	(void)state;
	struct sent s;
	setup();
	tick(T0);
	uint64_t now = T0, expect = 4 * SEC;
	/* DISCOVERs: 4, 8, 16, 32, 64, 64 s, each within +-1 s */
	for (int i = 0; i < 6; i++) {
		uint64_t next = dhcp_next_deadline(&D);
		assert_true(next >= now + expect - SEC && next <= now + expect + SEC);
		now = next;
		tick(now);
		if (expect < 64 * SEC)
			expect *= 2;
	}
	assert_int_equal(D.stats.discovers, 7);
	assert_int_equal(D.state, DHCP_SELECTING);
	/* secs counts from the first DISCOVER */
	assert_true(sent_dhcp(-1, &s));
	assert_int_equal(s.secs, (now - T0) / SEC);

	/* an unanswered REQUEST is retried 3 times, then the client restarts */
	struct reply r = offer_for(s.m.xid);
	deliver(&r);
	assert_int_equal(D.state, DHCP_REQUESTING);
	for (int i = 0; i < 3; i++) {
		tick(dhcp_next_deadline(&D));
		assert_int_equal(D.state, DHCP_REQUESTING);
	}
	assert_int_equal(D.stats.requests, 4);
	tick(dhcp_next_deadline(&D));
	assert_int_equal(D.state, DHCP_INIT);
	assert_int_equal(D.stats.restarts, 1);
	/* a fresh DISCOVER with a new xid after the pause */
	fake_clear_tx(&F);
	now = dhcp_next_deadline(&D);
	tick(now);
	assert_int_equal(D.state, DHCP_SELECTING);
	struct sent s2;
	assert_true(sent_dhcp(-1, &s2));
	assert_int_equal(s2.m.type, DHCP_DISCOVER);
	assert_int_not_equal(s2.m.xid, s.m.xid);
	assert_int_equal(s2.secs, 0);
	teardown();
}

static void test_renew(void **state)
{
	(void)state;
	struct sent s;
	setup();
	get_bound(1000, 0, 0);
	uint64_t t1 = dhcp_next_deadline(&D);
	assert_int_equal(t1, T0 + 500 * SEC);
	tick_server_known(t1);
	assert_int_equal(D.state, DHCP_RENEWING);
	assert_true(sent_dhcp(-1, &s));
	/* RENEWING: unicast from our address to the server, ciaddr set, no
	 * BROADCAST flag, no options 50/54 (RFC 2131 4.3.2) */
	assert_int_equal(s.m.type, DHCP_REQUEST);
	assert_int_equal(s.ip_src, FAKE_IP);
	assert_int_equal(s.ip_dst, SERVER_IP);
	assert_memory_equal(s.eth_dst, gw_mac, 6);
	assert_int_equal(s.ciaddr, FAKE_IP);
	assert_int_equal(s.flags, 0);
	assert_int_equal(s.requested_ip, 0);
	assert_int_equal(s.server_id, 0);
	assert_int_equal(D.stats.renews, 1);
	/* next retry: half the time to T2 (375 s / 2), at least 60 s */
	uint64_t next = dhcp_next_deadline(&D);
	assert_int_equal(next, t1 + 375 * SEC / 2);

	/* the server's ACK extends the lease from the renewal's time; no
	 * reconfiguration (the ARP cache survives), no new notification */
	hosted_clock_set(t1 + 2 * SEC);
	struct reply r = offer_for(s.m.xid);
	r.type = DHCP_ACK;
	r.lease = 2000;
	deliver_raw((uint8_t[600]){ 0 }, 0, SERVER_IP, 67, FAKE_IP);   /* empty: short */
	assert_int_equal(D.stats.rx_short, 1);
	uint8_t msg[600];
	deliver_raw(msg, build_reply(msg, &r), SERVER_IP, 67, FAKE_IP);
	assert_int_equal(D.state, DHCP_BOUND);
	assert_int_equal(D.stats.acks, 2);
	assert_int_equal(notified_up, 1);
	assert_int_equal(dhcp_next_deadline(&D), t1 + 1000 * SEC);
	uint8_t mac[6];
	assert_true(arp_lookup(&F.nif, SERVER_IP, mac));
	teardown();
}

static void test_rebind_and_expiry(void **state)
{
	(void)state;
	struct sent s;
	setup();
	get_bound(1000, 300, 600);            /* server-given T1 and T2 */
	fake_learn(&F, gw_mac, SERVER_IP);
	assert_int_equal(dhcp_next_deadline(&D), T0 + 300 * SEC);
	/* renewals go unanswered until T2 */
	uint64_t now = dhcp_next_deadline(&D);
	while (now < T0 + 600 * SEC) {
		tick(now);
		assert_int_equal(D.state, DHCP_RENEWING);
		uint64_t next = dhcp_next_deadline(&D);
		assert_true(next <= T0 + 600 * SEC);
		assert_true(next - now >= 60 * SEC || next == T0 + 600 * SEC);
		now = next;
	}
	assert_int_equal(D.stats.renews, 4);      /* at 300, 450, 525, 585 s */
	fake_clear_tx(&F);
	tick(now);
	assert_int_equal(D.state, DHCP_REBINDING);
	assert_true(sent_dhcp(-1, &s));
	assert_int_equal(s.ip_dst, 0xffffffffu);
	assert_int_equal(s.ip_src, FAKE_IP);
	assert_int_equal(s.ciaddr, FAKE_IP);
	assert_int_equal(s.flags, 0);
	assert_int_equal(D.stats.rebinds, 1);

	/* nobody answers: at the lease's end the address goes, the client
	 * tells its owner and discovers again at once, in the same tick */
	while (dhcp_next_deadline(&D) < T0 + 1000 * SEC)
		tick(dhcp_next_deadline(&D));
	assert_int_equal(dhcp_next_deadline(&D), T0 + 1000 * SEC);
	fake_clear_tx(&F);
	tick(T0 + 1000 * SEC);
	assert_int_equal(D.stats.expired, 1);
	assert_int_equal(F.nif.addr, 0);
	assert_int_equal(notified_down, 1);
	assert_int_equal(D.state, DHCP_SELECTING);
	assert_true(sent_dhcp(-1, &s));
	assert_int_equal(s.m.type, DHCP_DISCOVER);
	assert_int_equal(s.ip_src, 0);
	teardown();
}

static void test_rebind_other_server(void **state)
{
	(void)state;
	struct sent s;
	setup();
	get_bound(1000, 0, 0);
	fake_learn(&F, gw_mac, SERVER_IP);
	tick(T0 + 900 * SEC);                  /* past T2 straight away */
	assert_int_equal(D.state, DHCP_REBINDING);
	assert_true(sent_dhcp(-1, &s));
	struct reply r = offer_for(s.m.xid);
	r.type = DHCP_ACK;
	r.server = OTHER_SERVER;
	r.router = 0;
	deliver(&r);
	assert_int_equal(D.state, DHCP_BOUND);
	assert_int_equal(D.lease.server, OTHER_SERVER);
	/* the router went away: reconfigured without a gateway */
	assert_int_equal(F.nif.gw, 0);
	assert_int_equal(notified_up, 2);
	teardown();
}

static void test_nak(void **state)
{
	(void)state;
	struct sent s;
	setup();
	tick(T0);
	assert_true(sent_dhcp(-1, &s));
	struct reply r = offer_for(s.m.xid);
	deliver(&r);
	assert_int_equal(D.state, DHCP_REQUESTING);
	/* a NAK from another server is not for us */
	struct reply nak = { .type = DHCP_NAK, .xid = s.m.xid, .server = OTHER_SERVER };
	deliver(&nak);
	assert_int_equal(D.state, DHCP_REQUESTING);
	assert_int_equal(D.stats.rx_unexpected, 1);
	nak.server = SERVER_IP;
	deliver(&nak);
	assert_int_equal(D.stats.naks, 1);
	assert_int_equal(D.state, DHCP_INIT);
	assert_int_equal(notified_down, 0);
	/* restarts after a pause of 2-3 s, not at once */
	uint64_t next = dhcp_next_deadline(&D);
	assert_true(next >= T0 + 2 * SEC && next <= T0 + 3 * SEC);

	/* a NAK while renewing drops the address */
	teardown();
	setup();
	get_bound(1000, 0, 0);
	tick_server_known(dhcp_next_deadline(&D));
	assert_int_equal(D.state, DHCP_RENEWING);
	assert_true(sent_dhcp(-1, &s));
	nak = (struct reply){ .type = DHCP_NAK, .xid = s.m.xid, .server = SERVER_IP };
	uint8_t msg[600];
	deliver_raw(msg, build_reply(msg, &nak), SERVER_IP, 67, FAKE_IP);
	assert_int_equal(D.state, DHCP_INIT);
	assert_int_equal(F.nif.addr, 0);
	assert_int_equal(notified_down, 1);
	teardown();
}

/* Delivers r in SELECTING and expects it dropped with nothing sent. */
static void expect_dropped(const struct reply *r, const uint64_t *counter, const char *what)
{
	uint64_t before = *counter;
	fake_clear_tx(&F);
	deliver(r);
	if (*counter != before + 1)
		fail_msg("%s: not counted", what);
	assert_int_equal(D.state, DHCP_SELECTING);
	assert_int_equal(F.ntx, 0);
}

static void test_bad_replies(void **state)
{
	(void)state;
	struct sent s;
	setup();
	tick(T0);
	assert_true(sent_dhcp(-1, &s));
	uint32_t xid = s.m.xid;
	struct reply r;
	const uint8_t other_mac[6] = { 2, 0, 0, 0, 0, 0x77 };

	r = offer_for(xid ^ 1);
	expect_dropped(&r, &D.stats.rx_wrong_xid, "wrong xid");
	r = offer_for(xid);
	r.chaddr = other_mac;
	expect_dropped(&r, &D.stats.rx_not_ours, "other chaddr");
	r = offer_for(xid);
	r.op = DHCP_OP_REQUEST;
	expect_dropped(&r, &D.stats.rx_not_ours, "a request");
	r = offer_for(xid);
	r.type = 0;
	expect_dropped(&r, &D.stats.rx_malformed, "no message type");
	r = offer_for(xid);
	r.type = DHCP_ACK;
	expect_dropped(&r, &D.stats.rx_unexpected, "ACK while selecting");
	r = offer_for(xid);
	r.server = 0;
	expect_dropped(&r, &D.stats.rx_bad_lease, "no server id");
	r = offer_for(xid);
	r.mask = 0xff00ff00u;
	expect_dropped(&r, &D.stats.rx_bad_lease, "mask not contiguous");
	r = offer_for(xid);
	r.lease = 0;
	expect_dropped(&r, &D.stats.rx_bad_lease, "no lease time");
	r = offer_for(xid);
	r.yiaddr = NET_IP4(10, 0, 0, 255);
	expect_dropped(&r, &D.stats.rx_bad_lease, "broadcast address offered");
	r = offer_for(xid);
	r.yiaddr = NET_IP4(224, 0, 0, 1);
	expect_dropped(&r, &D.stats.rx_bad_lease, "multicast address offered");
	/* options running past the end */
	static const uint8_t overrun[] = { DHCP_OPT_DNS, 8, 10, 0, 0, 53 };
	r = offer_for(xid);
	r.extra = overrun;
	r.extra_len = sizeof overrun;
	r.no_end = true;
	expect_dropped(&r, &D.stats.rx_malformed, "option overruns");
	static const uint8_t badlen[] = { DHCP_OPT_LEASE_TIME, 3, 0, 0, 1 };
	r = offer_for(xid);
	r.lease = 0;
	r.extra = badlen;
	r.extra_len = sizeof badlen;
	expect_dropped(&r, &D.stats.rx_malformed, "lease option of 3 bytes");
	static const uint8_t dns5[] = { DHCP_OPT_DNS, 5, 1, 2, 3, 4, 5 };
	r = offer_for(xid);
	r.dns = 0;                                /* else the first DNS option wins */
	r.extra = dns5;
	r.extra_len = sizeof dns5;
	expect_dropped(&r, &D.stats.rx_malformed, "DNS list not a multiple of 4");
	static const uint8_t ovl_bad[] = { DHCP_OPT_OVERLOAD, 1, 7 };
	r = offer_for(xid);
	r.extra = ovl_bad;
	r.extra_len = sizeof ovl_bad;
	expect_dropped(&r, &D.stats.rx_malformed, "overload value 7");
	static const uint8_t len_only[] = { DHCP_OPT_ROUTER };
	r = offer_for(xid);
	r.extra = len_only;
	r.extra_len = sizeof len_only;
	r.no_end = true;
	expect_dropped(&r, &D.stats.rx_malformed, "option code without length");

	/* bad cookie, htype, hlen */
	uint8_t msg[600];
	r = offer_for(xid);
	size_t n = build_reply(msg, &r);
	for (int which = 0; which < 3; which++) {
		uint8_t m2[600];
		memcpy(m2, msg, n);
		if (which == 0)
			m2[239] ^= 1;
		else if (which == 1)
			m2[1] = 6;
		else
			m2[2] = 16;
		uint64_t before = D.stats.rx_malformed;
		deliver_raw(m2, n, SERVER_IP, 67, 0xffffffffu);
		assert_int_equal(D.stats.rx_malformed, before + 1);
	}
	/* truncated at every length below the fixed part, and longer than
	 * the largest reply */
	for (size_t len = 0; len < DHCP_FIXED_LEN; len += 7) {
		uint64_t before = D.stats.rx_short;
		deliver_raw(msg, len, SERVER_IP, 67, 0xffffffffu);
		assert_int_equal(D.stats.rx_short, before + 1);
	}
	static uint8_t big[DHCP_MAX_REPLY + 1];
	memcpy(big, msg, n);
	uint64_t before = D.stats.rx_short;
	deliver_raw(big, sizeof big, SERVER_IP, 67, 0xffffffffu);
	assert_int_equal(D.stats.rx_short, before + 1);
	/* from a port other than 67 */
	before = D.stats.rx_not_ours;
	deliver_raw(msg, n, SERVER_IP, 1067, 0xffffffffu);
	assert_int_equal(D.stats.rx_not_ours, before + 1);
	assert_int_equal(D.state, DHCP_SELECTING);
	assert_int_equal(D.stats.offers, 0);

	/* a good OFFER still works after all that */
	deliver_raw(msg, n, SERVER_IP, 67, 0xffffffffu);
	assert_int_equal(D.state, DHCP_REQUESTING);
	/* an ACK for another address than offered restarts */
	r = offer_for(xid);
	r.type = DHCP_ACK;
	r.yiaddr = NET_IP4(10, 0, 0, 7);
	deliver(&r);
	assert_int_equal(D.stats.rx_bad_lease, 6);
	assert_int_equal(D.state, DHCP_INIT);
	assert_int_equal(F.nif.addr, 0);
	teardown();
}

static void test_overload_and_defaults(void **state)
{
	(void)state;
	struct sent s;
	setup();
	tick(T0);
	assert_true(sent_dhcp(-1, &s));
	/* message type and server id in the file field (overload 1), the
	 * lease and mask in sname (overload 3 covers both); no T1/T2 */
	uint8_t msg[600];
	struct reply r = { .xid = s.m.xid, .yiaddr = FAKE_IP, .router = GW_IP };
	static const uint8_t ovl[] = { DHCP_OPT_OVERLOAD, 1, 3 };
	r.extra = ovl;
	r.extra_len = sizeof ovl;
	size_t n = build_reply(msg, &r);
	uint8_t *file = msg + 108, *sname = msg + 44;
	static const uint8_t fopts[] = { 0, 0, 53, 1, DHCP_OFFER, 54, 4, 10, 0, 0, 1, 255 };
	memcpy(file, fopts, sizeof fopts);
	static const uint8_t sopts[] = { 51, 4, 0, 0, 0x0e, 0x10, 1, 4, 255, 255, 0, 0 };
	memcpy(sname, sopts, sizeof sopts);       /* runs to the field's end: no END needed */
	struct dhcp_msg m;
	assert_int_equal(dhcp_parse(msg, n, &m), K_OK);
	assert_int_equal(m.type, DHCP_OFFER);
	assert_int_equal(m.server_id, SERVER_IP);
	assert_int_equal(m.lease_s, 3600);
	assert_int_equal(m.mask, 0xffff0000u);
	deliver_raw(msg, n, SERVER_IP, 67, 0xffffffffu);
	assert_int_equal(D.state, DHCP_REQUESTING);
	assert_int_equal(D.offer.prefix, 16);
	/* without option 52 the same fields are just names: ignored */
	uint8_t m2[600];
	memcpy(m2, msg, n);
	assert_int_equal(m2[246], DHCP_OPT_OVERLOAD);   /* after the router option */
	memset(m2 + 246, DHCP_OPT_PAD, 3);
	assert_int_equal(dhcp_parse(m2, n, &m), K_OK);
	assert_int_equal(m.type, 0);
	/* an option repeated keeps its first value */
	static const uint8_t twice[] = { 53, 1, DHCP_ACK, 53, 1, DHCP_NAK, 255 };
	memcpy(m2 + 240, twice, sizeof twice);
	assert_int_equal(dhcp_parse(m2, 240 + sizeof twice, &m), K_OK);
	assert_int_equal(m.type, DHCP_ACK);

	/* ACK without T1/T2: 0.5 and 0.875 of the lease; no mask in a class
	 * A address: /8 */
	teardown();
	setup();
	tick(T0);
	assert_true(sent_dhcp(-1, &s));
	r = (struct reply){ .type = DHCP_OFFER, .xid = s.m.xid, .yiaddr = FAKE_IP,
			    .server = SERVER_IP, .lease = 0xffffffffu };
	deliver(&r);
	r.type = DHCP_ACK;
	deliver(&r);
	assert_int_equal(D.state, DHCP_BOUND);
	assert_int_equal(F.nif.prefix, 8);
	/* an infinite lease is never renewed */
	assert_int_equal(dhcp_next_deadline(&D), UINT64_MAX);
	teardown();
}

static void test_parse_every_length(void **state)
{
	(void)state;
	struct reply r = offer_for(0x1234);
	uint8_t msg[600];
	size_t n = build_reply(msg, &r);
	struct dhcp_msg m;
	for (size_t len = 0; len <= n; len++) {
		/* a copy of exactly len bytes, so ASan sees any over-read */
		uint8_t *p = malloc(len ? len : 1);
		memcpy(p, msg, len);
		int ret = dhcp_parse(p, len, &m);
		if (len < DHCP_FIXED_LEN)
			assert_int_equal(ret, K_EINVAL);
		else
			assert_true(ret == K_OK || ret == K_EPROTO);
		free(p);
	}
	assert_int_equal(dhcp_parse(msg, n, &m), K_OK);
	assert_int_equal(m.lease_s, 1000);
	assert_int_equal(m.ndns, 1);
	assert_int_equal(m.dns[0], DNS_IP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_exchange),
		cmocka_unit_test(test_retransmit_backoff),
		cmocka_unit_test(test_renew),
		cmocka_unit_test(test_rebind_and_expiry),
		cmocka_unit_test(test_rebind_other_server),
		cmocka_unit_test(test_nak),
		cmocka_unit_test(test_bad_replies),
		cmocka_unit_test(test_overload_and_defaults),
		cmocka_unit_test(test_parse_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
