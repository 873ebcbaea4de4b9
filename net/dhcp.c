/*
 * dhcp.c - the DHCP client (RFC 2131, options per RFC 2132).
 *
 * Interface: net/dhcp.h (netstack.c starts it when the command line gives
 * no ip=; tests and the fuzzer call it directly).
 *
 * IMPLEMENTATION NOTES
 *  - The engine is driven from outside: dhcp_tick(now) at or after
 *    dhcp_next_deadline(), dhcp_input() for each reply (the UDP callback
 *    does that). It never reads the clock itself except in that
 *    callback, where the stack's input path reads it as every layer
 *    does; tests run it on a virtual clock.
 *  - Retransmission (RFC 2131 4.1): 4 s, doubled each time up to 64 s,
 *    each randomised by -1..+1 s. DISCOVERs are retried for ever (there
 *    is nothing else to do); a REQUEST for an OFFER DHCP_REQUEST_TRIES
 *    times, then the client starts over. In RENEWING and REBINDING the
 *    wait is half the time left until T2 (resp. the lease's end), at
 *    least 60 s (4.4.5), and never past that next transition.
 *  - While the interface has no address it can only receive limited
 *    broadcasts, so DISCOVER and the REQUEST for an OFFER set the
 *    BROADCAST flag (4.1) and the server answers to 255.255.255.255.
 *    Renewal is unicast to the server from the leased address; rebinding
 *    is broadcast with ciaddr set.
 *  - The lease counts from the first REQUEST of the exchange (4.4.1),
 *    which errs on the early side. T1 and T2 default to 0.5 and 0.875 of
 *    the lease; values from options 58/59 are used only when
 *    0 < T1 < T2 < lease. A lease of 0xffffffff never expires.
 *  - Replies are parsed with one checked reader (net_take). Anything
 *    malformed, not for our chaddr/xid, or unwanted in the current state
 *    is dropped and counted in struct dhcp_stats; nothing a server sends
 *    can crash the client or make it send faster than its timers allow.
 *  - Not done: INIT-REBOOT (a new boot always discovers), the ARP probe
 *    and DECLINE of 4.4.1 (the RFC 5227 announcement at configuration
 *    still exposes a conflict), RELEASE on stop, RFC 3396 long options.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/random.h>
#include <kiln/time.h>

#include "dhcp.h"
#include "net_priv.h"
#include "wire/dhcp.h"

#define DHCP_RETRY_FIRST_NS (4 * NS_PER_SEC)
#define DHCP_RETRY_MAX_NS (64 * NS_PER_SEC)
#define DHCP_JITTER_NS NS_PER_SEC
/* RFC 2131 4.4.5: renew/rebind retransmissions at most every 60 s. */
#define DHCP_RENEW_MIN_NS (60 * NS_PER_SEC)
/* REQUESTs for one OFFER before starting over: 4 + 8 + 16 + 32 s. */
#define DHCP_REQUEST_TRIES 4
/* After a NAK or a failed exchange: a short pause, so a server that
 * NAKs everything cannot make the client spin. */
#define DHCP_RESTART_NS (2 * NS_PER_SEC)
#define DHCP_INFINITE 0xffffffffu

static const uint8_t dhcp_params[] = {
	DHCP_OPT_SUBNET_MASK, DHCP_OPT_ROUTER, DHCP_OPT_DNS, DHCP_OPT_LEASE_TIME,
	DHCP_OPT_SERVER_ID, DHCP_OPT_T1, DHCP_OPT_T2,
};

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const names[] = {
		"stopped", "init", "selecting", "requesting", "bound", "renewing", "rebinding",
	};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

/* ---- parsing ------------------------------------------------------------ */

/* Reads the options in [p, end) into m. Returns K_OK or K_EPROTO; sets
 * *overload when option 52 appears and overload is non-NULL (only the
 * options field may carry it). */
static int dhcp_parse_opts(const uint8_t *p, const uint8_t *end, struct dhcp_msg *m,
			   uint8_t *overload, uint32_t *seen)
{
	const uint8_t *b;

	while (p < end) {
		b = net_take(&p, end, 1);
		uint8_t code = b[0];
		if (code == DHCP_OPT_PAD)
			continue;
		if (code == DHCP_OPT_END)
			return K_OK;
		const uint8_t *lp = net_take(&p, end, 1);
		if (!lp)
			return K_EPROTO;
		size_t len = lp[0];
		const uint8_t *v = net_take(&p, end, len);
		if (!v)
			return K_EPROTO;
		/* A few options matter; the first copy of each wins. */
		uint32_t bit;
		switch (code) {
		case DHCP_OPT_MSG_TYPE:     bit = 1u << 0; break;
		case DHCP_OPT_SUBNET_MASK:  bit = 1u << 1; break;
		case DHCP_OPT_ROUTER:       bit = 1u << 2; break;
		case DHCP_OPT_DNS:          bit = 1u << 3; break;
		case DHCP_OPT_LEASE_TIME:   bit = 1u << 4; break;
		case DHCP_OPT_SERVER_ID:    bit = 1u << 5; break;
		case DHCP_OPT_T1:           bit = 1u << 6; break;
		case DHCP_OPT_T2:           bit = 1u << 7; break;
		case DHCP_OPT_OVERLOAD:     bit = 1u << 8; break;
		default:
			continue;
		}
		if (*seen & bit)
			continue;
		*seen |= bit;
		switch (code) {
		case DHCP_OPT_MSG_TYPE:
			if (len != 1)
				return K_EPROTO;
			m->type = v[0];
			break;
		case DHCP_OPT_OVERLOAD:
			if (len != 1 || !overload || v[0] < 1 || v[0] > 3)
				return K_EPROTO;
			*overload = v[0];
			break;
		case DHCP_OPT_SUBNET_MASK:
		case DHCP_OPT_SERVER_ID:
		case DHCP_OPT_LEASE_TIME:
		case DHCP_OPT_T1:
		case DHCP_OPT_T2: {
			if (len != 4)
				return K_EPROTO;
			uint32_t x = net_get32(v);
			if (code == DHCP_OPT_SUBNET_MASK) {
				m->mask = x;
				m->have |= DHCP_HAVE_MASK;
			} else if (code == DHCP_OPT_SERVER_ID) {
				m->server_id = x;
				m->have |= DHCP_HAVE_SERVER;
			} else if (code == DHCP_OPT_LEASE_TIME) {
				m->lease_s = x;
				m->have |= DHCP_HAVE_LEASE;
			} else if (code == DHCP_OPT_T1) {
				m->t1_s = x;
				m->have |= DHCP_HAVE_T1;
			} else {
				m->t2_s = x;
				m->have |= DHCP_HAVE_T2;
			}
			break;
		}
		case DHCP_OPT_ROUTER:
			if (len < 4 || len % 4)
				return K_EPROTO;
			m->router = net_get32(v);
			m->have |= DHCP_HAVE_ROUTER;
			break;
		case DHCP_OPT_DNS:
			if (len < 4 || len % 4)
				return K_EPROTO;
			for (size_t i = 0; i < len / 4 && m->ndns < DHCP_MAX_DNS; i++)
				m->dns[m->ndns++] = net_get32(v + 4 * i);
			break;
		}
	}
	/* RFC 2131 4.1 wants an end option; a field that simply runs out
	 * (file and sname are fixed-size) is accepted. */
	return K_OK;
}

int dhcp_parse(const uint8_t *msg, size_t len, struct dhcp_msg *m)
{
	const uint8_t *src = msg, *end = msg + len;
	const struct dhcp_hdr *h = (const void *)net_take(&src, end, DHCP_FIXED_LEN);

	memset(m, 0, sizeof *m);
	if (!h)
		return K_EINVAL;
	if (h->htype != DHCP_HTYPE_ETH || h->hlen != ETH_ALEN || net_get32(h->cookie) != DHCP_COOKIE)
		return K_EPROTO;
	m->op = h->op;
	m->xid = net_get32(h->xid);
	memcpy(m->chaddr, h->chaddr, ETH_ALEN);
	m->yiaddr = net_get32(h->yiaddr);
	m->siaddr = net_get32(h->siaddr);

	uint8_t overload = 0;
	uint32_t seen = 0;
	int ret = dhcp_parse_opts(src, end, m, &overload, &seen);
	if (ret == K_OK && (overload & DHCP_OVERLOAD_FILE))
		ret = dhcp_parse_opts(h->file, h->file + DHCP_FILE_LEN, m, NULL, &seen);
	if (ret == K_OK && (overload & DHCP_OVERLOAD_SNAME))
		ret = dhcp_parse_opts(h->sname, h->sname + DHCP_SNAME_LEN, m, NULL, &seen);
	return ret;
}

/* ---- building and sending ------------------------------------------------ */

static uint8_t *opt_put(uint8_t *p, uint8_t code, const void *v, uint8_t len)
{
	p[0] = code;
	p[1] = len;
	memcpy(p + 2, v, len);
	return p + 2 + len;
}

static uint8_t *opt_put32(uint8_t *p, uint8_t code, uint32_t v)
{
	uint8_t b[4];
	net_put32(b, v);
	return opt_put(p, code, b, 4);
}

/* Sends a DISCOVER or REQUEST for the current state to dst. */
static void dhcp_send(struct dhcp *d, uint8_t type, uint32_t dst, uint64_t now)
{
	uint8_t msg[DHCP_MIN_MSG + 64];
	struct dhcp_hdr *h = (void *)msg;
	const uint8_t *mac = d->nif->dev->mac;
	bool configured = d->state == DHCP_RENEWING || d->state == DHCP_REBINDING;

	memset(msg, 0, sizeof msg);
	h->op = DHCP_OP_REQUEST;
	h->htype = DHCP_HTYPE_ETH;
	h->hlen = ETH_ALEN;
	net_put32(h->xid, d->xid);
	uint64_t secs = (now - d->started) / NS_PER_SEC;
	net_put16(h->secs, (uint16_t)(secs > 0xffff ? 0xffff : secs));
	/* 4.1: a client that cannot receive unicast before it is configured
	 * sets BROADCAST; with an address it must not. */
	net_put16(h->flags, configured ? 0 : DHCP_FLAG_BROADCAST);
	if (configured)
		net_put32(h->ciaddr, d->lease.addr);
	memcpy(h->chaddr, mac, ETH_ALEN);
	net_put32(h->cookie, DHCP_COOKIE);

	uint8_t *p = msg + DHCP_FIXED_LEN;
	p = opt_put(p, DHCP_OPT_MSG_TYPE, &type, 1);
	uint8_t cid[1 + ETH_ALEN] = { DHCP_HTYPE_ETH };
	memcpy(cid + 1, mac, ETH_ALEN);
	p = opt_put(p, DHCP_OPT_CLIENT_ID, cid, sizeof cid);
	if (type == DHCP_REQUEST && d->state == DHCP_REQUESTING) {
		p = opt_put32(p, DHCP_OPT_REQUESTED_IP, d->offer.addr);
		p = opt_put32(p, DHCP_OPT_SERVER_ID, d->offer.server);
	}
	uint8_t mms[2];
	net_put16(mms, (uint16_t)(DHCP_MAX_REPLY + IP4_HDR_LEN + UDP_HDR_LEN));
	p = opt_put(p, DHCP_OPT_MAX_MSG_SIZE, mms, 2);
	p = opt_put(p, DHCP_OPT_PARAM_LIST, dhcp_params, sizeof dhcp_params);
	*p++ = DHCP_OPT_END;
	size_t len = (size_t)(p - msg);
	if (len < DHCP_MIN_MSG)
		len = DHCP_MIN_MSG;                 /* zero padding, RFC 1542 2.1 */

	if (type == DHCP_DISCOVER)
		d->stats.discovers++;
	else if (d->state == DHCP_RENEWING)
		d->stats.renews++;
	else if (d->state == DHCP_REBINDING)
		d->stats.rebinds++;
	else
		d->stats.requests++;
	if (udp_sendto(&d->pcb, dst, DHCP_SERVER_PORT, msg, len) < 0)
		d->stats.send_errors++;
	d->tries++;
}

/* -1 s .. +1 s of jitter added to a retransmission interval. */
static uint64_t dhcp_jitter(uint64_t base)
{
	uint64_t j = random_u32() % (2 * DHCP_JITTER_NS + 1);
	return base + j - DHCP_JITTER_NS;
}

/* The exponential backoff of 4.1: 4, 8, ... 64 s, each randomised. */
static void dhcp_backoff(struct dhcp *d, uint64_t now)
{
	if (d->retry_ns == 0)
		d->retry_ns = DHCP_RETRY_FIRST_NS;
	else if (d->retry_ns < DHCP_RETRY_MAX_NS)
		d->retry_ns *= 2;
	d->deadline = now + dhcp_jitter(d->retry_ns);
}

/* Renew/rebind: half of what is left until limit, at least 60 s, never
 * past limit (when the next state takes over). */
static void dhcp_renew_wait(struct dhcp *d, uint64_t now, uint64_t limit)
{
	uint64_t wait = limit > now ? (limit - now) / 2 : 0;
	if (wait < DHCP_RENEW_MIN_NS)
		wait = DHCP_RENEW_MIN_NS;
	d->deadline = (limit - now > wait) ? now + wait : limit;
}

static void dhcp_new_exchange(struct dhcp *d, enum dhcp_state s, uint64_t now)
{
	d->state = s;
	d->xid = random_u32();
	d->started = now;
	d->tries = 0;
	d->retry_ns = 0;
}

/* Back to INIT after a pause; drops the address if one was in force. */
static void dhcp_restart(struct dhcp *d, uint64_t now, const char *why)
{
	bool had = d->state == DHCP_BOUND || d->state == DHCP_RENEWING ||
		   d->state == DHCP_REBINDING;

	klog(LOG_INFO, "dhcp: %s, starting over", why);
	d->stats.restarts++;
	d->state = DHCP_INIT;
	d->deadline = now + DHCP_RESTART_NS + random_u32() % NS_PER_SEC;
	if (had) {
		struct net_if_config none = { 0 };
		net_if_configure(d->nif, &none);
		memset(&d->lease, 0, sizeof d->lease);
		if (d->notify)
			d->notify(d, false, d->arg);
	}
}

static void dhcp_send_discover(struct dhcp *d, uint64_t now)
{
	dhcp_new_exchange(d, DHCP_SELECTING, now);
	dhcp_send(d, DHCP_DISCOVER, 0xffffffffu, now);
	dhcp_backoff(d, now);
}

/* ---- leases ---------------------------------------------------------------- */

static bool mask_to_prefix(uint32_t mask, uint8_t *prefix)
{
	uint8_t n = 0;
	while (n < 32 && (mask & (0x80000000u >> n)))
		n++;
	if (n < 32 && (mask << n) != 0)
		return false;                       /* not contiguous */
	*prefix = n;
	return true;
}

/* A unicast host address of its subnet (what net_if_configure accepts). */
static bool dhcp_addr_ok(uint32_t a, uint8_t prefix)
{
	uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
	uint32_t host = a & ~mask;
	if ((a >> 24) == 0 || (a >> 24) == 127 || (a >> 28) >= 14)
		return false;
	return prefix >= 31 || (host != 0 && host != ~mask);
}

/* Turns an OFFER or ACK into a lease; false if it is unusable. */
static bool dhcp_lease_from(const struct dhcp_msg *m, struct dhcp_lease *l)
{
	memset(l, 0, sizeof *l);
	l->addr = m->yiaddr;
	if (m->have & DHCP_HAVE_MASK) {
		if (!mask_to_prefix(m->mask, &l->prefix) || l->prefix == 0)
			return false;
	} else {
		/* No option 1: the classful default (RFC 1122 3.3.1.1 era). */
		l->prefix = (l->addr >> 31) == 0 ? 8 : (l->addr >> 30) == 2 ? 16 : 24;
	}
	if (!dhcp_addr_ok(l->addr, l->prefix) || !(m->have & DHCP_HAVE_SERVER) ||
	    m->server_id == 0)
		return false;
	l->server = m->server_id;
	uint32_t mask = 0xffffffffu << (32 - l->prefix);
	if ((m->have & DHCP_HAVE_ROUTER) && m->router != l->addr &&
	    (m->router & mask) == (l->addr & mask) && dhcp_addr_ok(m->router, l->prefix))
		l->router = m->router;
	for (unsigned i = 0; i < m->ndns; i++)
		l->dns[l->ndns++] = m->dns[i];
	if (!(m->have & DHCP_HAVE_LEASE) || m->lease_s == 0)
		return false;
	l->lease_s = m->lease_s;
	if (l->lease_s == DHCP_INFINITE) {
		l->t1_s = l->t2_s = DHCP_INFINITE;
		return true;
	}
	l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
	if ((m->have & DHCP_HAVE_T2) && m->t2_s > 0 && m->t2_s < l->lease_s)
		l->t2_s = m->t2_s;
	l->t1_s = l->lease_s / 2;
	if ((m->have & DHCP_HAVE_T1) && m->t1_s > 0 && m->t1_s < l->t2_s)
		l->t1_s = m->t1_s;
	if (l->t1_s >= l->t2_s)
		l->t1_s = l->t2_s / 2;
	return true;
}

static uint64_t at_s(uint64_t base, uint32_t s)
{
	return s == DHCP_INFINITE ? UINT64_MAX : base + (uint64_t)s * NS_PER_SEC;
}

/* An ACK's lease takes effect. Returns false (nothing changed) if the
 * interface refuses the configuration. */
static bool dhcp_bind(struct dhcp *d, const struct dhcp_lease *l, uint64_t now)
{
	bool same = (d->state == DHCP_RENEWING || d->state == DHCP_REBINDING) &&
		    l->addr == d->lease.addr && l->prefix == d->lease.prefix &&
		    l->router == d->lease.router && l->ndns == d->lease.ndns &&
		    (l->ndns == 0 || l->dns[0] == d->lease.dns[0]);
	if (!same) {
		struct net_if_config c = {
			.addr = l->addr, .prefix = l->prefix, .gateway = l->router,
			.dns = l->ndns ? l->dns[0] : 0,
		};
		if (net_if_configure(d->nif, &c) < 0)
			return false;
	}
	d->lease = *l;
	d->lease.obtained = d->sent_at;
	d->t1_at = at_s(d->sent_at, l->t1_s);
	d->t2_at = at_s(d->sent_at, l->t2_s);
	d->end_at = at_s(d->sent_at, l->lease_s);
	d->state = DHCP_BOUND;
	d->deadline = d->t1_at;
	if (d->deadline <= now)                 /* a server-stated T1 already past */
		d->deadline = now;
	klog(LOG_INFO, "dhcp: bound to %u.%u.%u.%u/%u from %u.%u.%u.%u, lease %u s",
	     l->addr >> 24, (l->addr >> 16) & 255, (l->addr >> 8) & 255, l->addr & 255, l->prefix,
	     l->server >> 24, (l->server >> 16) & 255, (l->server >> 8) & 255, l->server & 255,
	     l->lease_s);
	if (!same && d->notify)
		d->notify(d, true, d->arg);
	return true;
}

/* ---- input ---------------------------------------------------------------- */

void dhcp_input(struct dhcp *d, const uint8_t *msg, size_t len, uint64_t now)
{
	struct dhcp_msg m;
	struct dhcp_lease l;

	if (d->state == DHCP_STOPPED)
		return;
	if (len > DHCP_MAX_REPLY) {
		d->stats.rx_short++;
		return;
	}
	int ret = dhcp_parse(msg, len, &m);
	if (ret == K_EINVAL) {
		d->stats.rx_short++;
		return;
	}
	if (ret < 0 || m.type == 0) {
		d->stats.rx_malformed++;
		return;
	}
	if (m.op != DHCP_OP_REPLY || memcmp(m.chaddr, d->nif->dev->mac, ETH_ALEN) != 0) {
		d->stats.rx_not_ours++;
		return;
	}
	if (m.xid != d->xid) {
		d->stats.rx_wrong_xid++;
		return;
	}
	bool waiting_ack = d->state == DHCP_REQUESTING || d->state == DHCP_RENEWING ||
			   d->state == DHCP_REBINDING;

	if (m.type == DHCP_OFFER && d->state == DHCP_SELECTING) {
		if (!dhcp_lease_from(&m, &l)) {
			d->stats.rx_bad_lease++;
			return;
		}
		d->stats.offers++;
		d->offer = l;
		/* 4.4.1: the REQUEST keeps the DISCOVER's xid and secs base. */
		d->state = DHCP_REQUESTING;
		d->tries = 0;
		d->retry_ns = 0;
		d->sent_at = now;
		dhcp_send(d, DHCP_REQUEST, 0xffffffffu, now);
		dhcp_backoff(d, now);
		return;
	}
	if (m.type == DHCP_ACK && waiting_ack) {
		uint32_t want = d->state == DHCP_REQUESTING ? d->offer.server : d->lease.server;
		/* In REBINDING any server may answer; elsewhere it must be ours. */
		if (d->state != DHCP_REBINDING && (m.have & DHCP_HAVE_SERVER) && m.server_id != want) {
			d->stats.rx_unexpected++;
			return;
		}
		if (!dhcp_lease_from(&m, &l) ||
		    (d->state == DHCP_REQUESTING && l.addr != d->offer.addr)) {
			d->stats.rx_bad_lease++;
			if (d->state == DHCP_REQUESTING)
				dhcp_restart(d, now, "unusable ACK");
			return;
		}
		if (!dhcp_bind(d, &l, now)) {
			d->stats.rx_bad_lease++;
			if (d->state == DHCP_REQUESTING)
				dhcp_restart(d, now, "address refused");
			return;
		}
		d->stats.acks++;
		return;
	}
	if (m.type == DHCP_NAK && waiting_ack) {
		uint32_t want = d->state == DHCP_REQUESTING ? d->offer.server : d->lease.server;
		if (d->state != DHCP_REBINDING && (m.have & DHCP_HAVE_SERVER) && m.server_id != want) {
			d->stats.rx_unexpected++;
			return;
		}
		d->stats.naks++;
		dhcp_restart(d, now, "NAK");
		return;
	}
	d->stats.rx_unexpected++;
}

static void dhcp_udp_recv(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	struct dhcp *d = arg;
	uint8_t buf[DHCP_MAX_REPLY];
	(void)pcb;

	if (rx->src_port != DHCP_SERVER_PORT) {
		d->stats.rx_not_ours++;
		return;
	}
	if (rx->total_len > sizeof buf) {
		d->stats.rx_short++;
		return;
	}
	size_t n = udp_rx_copy(rx, 0, buf, sizeof buf);
	dhcp_input(d, buf, n, time_now_ns());
}

/* ---- timers ---------------------------------------------------------------- */

void dhcp_tick(struct dhcp *d, uint64_t now)
{
	if (d->state == DHCP_STOPPED || now < d->deadline)
		return;
	switch (d->state) {
	case DHCP_INIT:
		dhcp_send_discover(d, now);
		break;
	case DHCP_SELECTING:
		dhcp_send(d, DHCP_DISCOVER, 0xffffffffu, now);
		dhcp_backoff(d, now);
		break;
	case DHCP_REQUESTING:
		if (d->tries >= DHCP_REQUEST_TRIES) {
			dhcp_restart(d, now, "no ACK");
			break;
		}
		dhcp_send(d, DHCP_REQUEST, 0xffffffffu, now);
		dhcp_backoff(d, now);
		break;
	case DHCP_BOUND:
	case DHCP_RENEWING:
	case DHCP_REBINDING:
		if (now >= d->end_at) {
			d->stats.expired++;
			dhcp_restart(d, now, "lease expired");
			dhcp_send_discover(d, now);     /* at once: no pause */
			break;
		}
		if (now >= d->t2_at && d->state != DHCP_REBINDING) {
			dhcp_new_exchange(d, DHCP_REBINDING, now);
			d->sent_at = now;
		} else if (d->state == DHCP_BOUND) {
			dhcp_new_exchange(d, DHCP_RENEWING, now);
			d->sent_at = now;
		}
		if (d->state == DHCP_RENEWING) {
			dhcp_send(d, DHCP_REQUEST, d->lease.server, now);
			dhcp_renew_wait(d, now, d->t2_at);
		} else {
			dhcp_send(d, DHCP_REQUEST, 0xffffffffu, now);
			dhcp_renew_wait(d, now, d->end_at);
		}
		break;
	case DHCP_STOPPED:
		break;
	}
}

uint64_t dhcp_next_deadline(const struct dhcp *d)
{
	return d->state == DHCP_STOPPED ? UINT64_MAX : d->deadline;
}

int dhcp_start(struct dhcp *d, struct net_if *nif, uint64_t now,
	       dhcp_notify_fn notify, void *arg)
{
	if (d->state != DHCP_STOPPED)
		return K_EALREADY;
	memset(d, 0, sizeof *d);
	d->nif = nif;
	d->notify = notify;
	d->arg = arg;
	int ret = udp_bind(&d->pcb, nif, DHCP_CLIENT_PORT, dhcp_udp_recv, d);
	if (ret < 0)
		return ret;
	d->state = DHCP_INIT;
	d->deadline = now;
	return K_OK;
}

void dhcp_stop(struct dhcp *d)
{
	if (d->state == DHCP_STOPPED)
		return;
	udp_unbind(&d->pcb);
	d->state = DHCP_STOPPED;
	d->deadline = UINT64_MAX;
}
