/*
 * netstack.c - bringing an interface up, and keeping it running on the
 * run loop: where a driver (virtio-net, the hosted TAP device) meets the
 * stack.
 *
 * Interface: net/netstack.h (netstack_attach, for drivers); kiln/net.h
 * (net_up, net_on_up, net_dhcp_info, for apps).
 *
 * What attaching does, in order:
 *  1. allocates the interface state (struct netstack_if, which holds the
 *     struct net_if, its pools, its timer and its DHCP client) with
 *     kzalloc, and carves the packet pools from page_alloc - the only
 *     allocations; the data path never allocates;
 *  2. net_if_init(), which links dev->nif;
 *  3. configures the address from the command line (ip=ADDR/PREFIX,
 *     gw=ADDR, dns=ADDR; RFC 5227 announcement included) or, without
 *     ip=, starts the DHCP client (net/dhcp.c, RFC 2131);
 *  4. makes the first attached interface the default (net_if_default).
 *
 * Timers: the stack keeps its deadlines in its own state (ARP, reassembly,
 * DHCP); one struct timer per interface is armed for the earliest of
 * net_next_deadline() and dhcp_next_deadline(). Its callback runs
 * dhcp_tick() then net_tick() (which flushes the device) and re-arms.
 * Packets can create earlier deadlines (an ARP request goes out, a first
 * fragment arrives), so a poller re-arms too - but only when the device's
 * packet counters or the address moved since it last looked, so a busy
 * pass costs a few compares and an idle interface causes no wake-ups.
 *
 * Rules: everything here runs on the loop of the core that attached the
 * interface. Apps wait for an address with net_up() (tasks) or
 * net_on_up() (loop code); both watch the default interface only, and
 * hear of an address however it came: command line and DHCP at once,
 * an app's own net_if_configure() at the poller's next look.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/cmdline.h>
#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/loop.h>
#include <kiln/mem.h>
#include <kiln/task.h>
#include <kiln/tcp.h>
#include <kiln/time.h>
#include <kiln/timer.h>

#include "dhcp.h"
#include "net_priv.h"
#include "netstack.h"

/*
 * Pool sizes, per interface. Buffers (NBUF_DATA_SIZE each, 2176-byte
 * stride): 1/32 of RAM (net_buffers= overrides), at least 1024 - 3855
 * (8 MiB) in a 256 MiB guest. What they are for: the driver keeps a
 * receive ring of up to 256 full at all times, up to a 256-entry
 * transmit ring may be in flight, the ARP waiting queues hold up to
 * ARP_QUEUE_NBUFS (64) and reassembly IP4_REASM_MAX_NBUFS (96) - about
 * 670 that can all be pinned together - and TCP's receive queues,
 * out-of-order islands and copied sends may hold half the pool
 * (net/tcp_mem.c), which leaves the rest for the above and for what the
 * loop builds in one pass. Two reserves (nbuf.h) keep the ring refill
 * and control segments going whatever data does: the last
 * NETSTACK_RX_RESERVE buffers only refill the receive ring (a whole
 * ring's worth), the NETSTACK_CTRL_RESERVE before them also serve ACKs,
 * resets, SYN-ACKs, ARP and ICMP.
 * Descriptors for borrowed spans (128 bytes each): a full transmit ring
 * of packets with a few lent segments each (headers + payload spans):
 * 1024, 128 KiB.
 */
#define NETSTACK_RAM_SHARE 32
#define NETSTACK_MIN_BUFFERS 1024
#define NETSTACK_MAX_BUFFERS 65536
#define NETSTACK_RX_RESERVE 256
#define NETSTACK_CTRL_RESERVE 64
#define NETSTACK_REFS 1024
/* Interfaces one image can attach (one per device queue per core). */
#define NETSTACK_MAX_IFS 8

struct netstack_if {
	struct net_if nif;            /* first: nif pointers convert back */
	struct nbuf_pool pool, refs;
	void *pool_mem;               /* pages under pool, for a failed attach */
	size_t pool_pages;
	void *refs_mem;               /* pages under refs */
	size_t refs_pages;
	void *tcp_mem;                /* TCP's tables (tcp_if_init) */
	size_t tcp_pages;
	struct timer timer;
	uint64_t armed;               /* deadline the timer holds, 0: none */
	uint64_t stamp;               /* activity seen by the poller */
	struct poller poller;
	bool use_dhcp;
	bool was_up;                  /* had an address at the last look */
	struct dhcp dhcp;
};

static struct cmdline_cidr opt_ip;
static bool opt_ip_seen;
static uint32_t opt_gw, opt_dns;
CMDLINE_OPTION(ip, .key = "ip", .type = CMDLINE_IP4_CIDR, .value = &opt_ip, .seen = &opt_ip_seen,
	       .help = "static IPv4 address and prefix (a.b.c.d/n); DHCP when absent");
CMDLINE_OPTION(gw, .key = "gw", .type = CMDLINE_IP4, .value = &opt_gw,
	       .help = "IPv4 default gateway (with ip=)");
CMDLINE_OPTION(dns, .key = "dns", .type = CMDLINE_IP4, .value = &opt_dns,
	       .help = "DNS server (with ip=)");
static uint32_t opt_buffers;
CMDLINE_OPTION(net_buffers, .key = "net_buffers", .type = CMDLINE_U32, .value = &opt_buffers,
	       .min = 0, .max = NETSTACK_MAX_BUFFERS,
	       .help = "packet buffers per interface (0: 1/32 of RAM; at least 1024)");

/* The pool size: net_buffers=, else a share of RAM, within bounds. */
static unsigned netstack_nbuffers(void)
{
	uint64_t n = opt_buffers;
	if (!n) {
		struct mem_stats m;
		mem_get_stats(&m);
		n = m.total_bytes / NETSTACK_RAM_SHARE / nbuf_pool_stride(NBUF_DATA_SIZE);
	}
	if (n < NETSTACK_MIN_BUFFERS)
		n = NETSTACK_MIN_BUFFERS;
	if (n > NETSTACK_MAX_BUFFERS)
		n = NETSTACK_MAX_BUFFERS;
	return (unsigned)n;
}

static struct netstack_if *ifs[NETSTACK_MAX_IFS];
static unsigned nifs;

static struct event up_event;
static bool up_event_ready;

struct on_up {
	net_up_fn fn;
	void *arg;
};
static struct on_up on_up[NET_ON_UP_MAX];

static struct event *net_up_event(void)
{
	if (!up_event_ready) {
		event_init(&up_event);
		up_event_ready = true;
	}
	return &up_event;
}

static bool net_is_up(void)
{
	struct net_if *nif = net_if_default();
	return nif && nif->addr != 0;
}

/* The default interface gained an address: wake waiters, run callbacks. */
static void netstack_announce_up(void)
{
	struct net_if *nif = net_if_default();

	if (!nif || !nif->addr)
		return;
	event_signal(net_up_event());
	for (unsigned i = 0; i < NET_ON_UP_MAX; i++) {
		struct on_up cb = on_up[i];
		if (!cb.fn)
			continue;
		on_up[i].fn = NULL;             /* once; it may register again */
		cb.fn(nif, cb.arg);
	}
}

static uint64_t netstack_stamp(const struct netstack_if *ns)
{
	const struct netdev_stats *s = &ns->nif.dev->stats;
	return s->rx_packets + s->tx_packets + s->tx_errors + ns->nif.addr;
}

static void netstack_rearm(struct netstack_if *ns)
{
	uint64_t next = net_next_deadline(&ns->nif);
	if (ns->use_dhcp) {
		uint64_t d = dhcp_next_deadline(&ns->dhcp);
		if (d < next)
			next = d;
	}
	ns->stamp = netstack_stamp(ns);
	if (next == UINT64_MAX) {
		timer_cancel(&ns->timer);
		ns->armed = 0;
		return;
	}
	if (!timer_armed(&ns->timer) || ns->armed != next) {
		timer_arm(&ns->timer, next);
		ns->armed = next;
	}
}

static void netstack_timer(struct timer *t, void *arg)
{
	struct netstack_if *ns = arg;
	uint64_t now = time_now_ns();
	(void)t;

	ns->armed = 0;
	if (ns->use_dhcp)
		dhcp_tick(&ns->dhcp, now);
	net_tick(&ns->nif, now);
	netstack_rearm(ns);
}

/* Re-arms when packets moved or the address changed, and reports the
 * interface up whoever configured it (command line, DHCP, the app).
 * Never counts as work, so it lets the loop halt. */
static int netstack_poll(void *ctx)
{
	struct netstack_if *ns = ctx;

	if (netstack_stamp(ns) == ns->stamp)
		return 0;
	netstack_rearm(ns);
	bool up = ns->nif.addr != 0;
	if (up && !ns->was_up && &ns->nif == net_if_default())
		netstack_announce_up();
	ns->was_up = up;
	return 0;
}

static void netstack_dhcp_changed(struct dhcp *d, bool bound, void *arg)
{
	struct netstack_if *ns = arg;
	(void)d;

	ns->was_up = bound;
	if (bound && &ns->nif == net_if_default())
		netstack_announce_up();
	if (!bound)
		klog(LOG_WARN, "net: %s lost its DHCP lease", ns->nif.dev->name);
}

/* Carves one pool of n entries of data_size from whole pages. */
static int netstack_pool(struct nbuf_pool *pool, unsigned n, uint32_t data_size,
			 const char *name, void **memp, size_t *npagesp)
{
	size_t bytes = nbuf_pool_stride(data_size) * n;
	size_t npages = (bytes + PAGE_SIZE - 1) / PAGE_SIZE;
	void *mem = page_alloc(npages);

	if (!mem)
		return K_ENOMEM;
	int ret = nbuf_pool_init(pool, mem, npages * PAGE_SIZE, data_size, name);
	if (ret < 0) {
		page_free(mem, npages);
		return ret;
	}
	*memp = mem;
	*npagesp = npages;
	return K_OK;
}

static void netstack_configure(struct netstack_if *ns)
{
	struct net_if *nif = &ns->nif;

	if (opt_ip_seen) {
		struct net_if_config c = {
			.addr = opt_ip.addr, .prefix = opt_ip.prefix,
			.gateway = opt_gw, .dns = opt_dns,
		};
		int ret = net_if_configure(nif, &c);
		if (ret == K_OK)
			return;
		klog(LOG_ERROR, "net: ip=%u.%u.%u.%u/%u gw=%u.%u.%u.%u refused (%s); using DHCP",
		     c.addr >> 24, (c.addr >> 16) & 255, (c.addr >> 8) & 255, c.addr & 255, c.prefix,
		     c.gateway >> 24, (c.gateway >> 16) & 255, (c.gateway >> 8) & 255,
		     c.gateway & 255, kiln_strerror(ret));
	}
	ns->use_dhcp = true;
	int ret = dhcp_start(&ns->dhcp, nif, time_now_ns(), netstack_dhcp_changed, ns);
	if (ret < 0) {
		ns->use_dhcp = false;
		klog(LOG_ERROR, "net: %s: cannot start DHCP: %s", nif->dev->name, kiln_strerror(ret));
	}
}

int netstack_attach(struct netdev *dev)
{
	struct netstack_if *ns;
	int ret;

	if (dev->nif)
		return K_EBUSY;
	if (nifs == NETSTACK_MAX_IFS)
		return K_ENOSPC;
	ns = kzalloc(sizeof *ns);
	if (!ns)
		return K_ENOMEM;
	ret = netstack_pool(&ns->pool, netstack_nbuffers(), NBUF_DATA_SIZE, "net",
			    &ns->pool_mem, &ns->pool_pages);
	if (ret < 0)
		goto fail;
	nbuf_pool_reserve(&ns->pool, NETSTACK_RX_RESERVE, NETSTACK_CTRL_RESERVE);
	ret = netstack_pool(&ns->refs, NETSTACK_REFS, 0, "net-refs", &ns->refs_mem, &ns->refs_pages);
	if (ret < 0)
		goto fail_pool;
	if (!dev->name)
		dev->name = "net";
	net_if_init(&ns->nif, dev, &ns->pool, &ns->refs);
	/* TCP's connection, TIME_WAIT and send-span tables, carved once: no
	 * allocation happens on the segment path afterwards. */
	ns->tcp_pages = (tcp_mem_size(NULL) + PAGE_SIZE - 1) / PAGE_SIZE;
	ns->tcp_mem = page_alloc(ns->tcp_pages);
	if (!ns->tcp_mem) {
		ret = K_ENOMEM;
		goto fail_refs;
	}
	ret = tcp_if_init(&ns->nif, NULL, ns->tcp_mem, ns->tcp_pages * PAGE_SIZE);
	if (ret < 0)
		goto fail_tcp;
	timer_init(&ns->timer, netstack_timer, ns);
	ifs[nifs++] = ns;
	if (!net_if_default())
		net_if_set_default(&ns->nif);
	klog(LOG_INFO, "net: %s attached, mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u buffers",
	     dev->name, dev->mac[0], dev->mac[1], dev->mac[2], dev->mac[3], dev->mac[4],
	     dev->mac[5], ns->nif.mtu, ns->pool.count);

	netstack_configure(ns);
	ns->poller = (struct poller){ .fn = netstack_poll, .ctx = ns, .name = "netstack" };
	loop_add_poller(&ns->poller);
	netstack_rearm(ns);
	ns->was_up = ns->nif.addr != 0;
	if (ns->was_up && &ns->nif == net_if_default())
		netstack_announce_up();
	return K_OK;

fail_tcp:
	page_free(ns->tcp_mem, ns->tcp_pages);
fail_refs:
	dev->nif = NULL;
	page_free(ns->refs_mem, ns->refs_pages);
fail_pool:
	page_free(ns->pool_mem, ns->pool_pages);
fail:
	kfree(ns);
	return ret;
}

int net_up(uint64_t timeout_ns)
{
	uint64_t end = timeout_ns ? time_now_ns() + timeout_ns : UINT64_MAX;

	if (!net_if_default())
		return K_ENODEV;
	while (!net_is_up()) {
		if (!task_current())
			return K_EAGAIN;
		uint64_t now = time_now_ns();
		if (now >= end)
			return K_ETIMEDOUT;
		int ret = event_wait(net_up_event(), end == UINT64_MAX ? 0 : end - now);
		if (ret == K_ETIMEDOUT && !net_is_up())
			return K_ETIMEDOUT;
	}
	return K_OK;
}

int net_on_up(net_up_fn fn, void *arg)
{
	if (net_is_up()) {
		fn(net_if_default(), arg);
		return K_OK;
	}
	for (unsigned i = 0; i < NET_ON_UP_MAX; i++) {
		if (!on_up[i].fn) {
			on_up[i] = (struct on_up){ fn, arg };
			return K_OK;
		}
	}
	return K_ENOSPC;
}

int net_dhcp_info(const struct net_if *nif, struct net_dhcp_info *out)
{
	const struct netstack_if *ns = NULL;

	if (!nif)
		nif = net_if_default();
	for (unsigned i = 0; i < nifs; i++)
		if (&ifs[i]->nif == nif)
			ns = ifs[i];
	memset(out, 0, sizeof *out);
	if (!ns)
		return K_ENODEV;
	const struct dhcp *d = &ns->dhcp;
	out->active = ns->use_dhcp && d->state != DHCP_STOPPED;
	out->state = dhcp_state_name(d->state);
	out->bound = d->state == DHCP_BOUND || d->state == DHCP_RENEWING ||
		     d->state == DHCP_REBINDING;
	if (!out->bound)
		return K_OK;
	const struct dhcp_lease *l = &d->lease;
	out->addr = l->addr;
	out->server = l->server;
	out->router = l->router;
	out->prefix = l->prefix;
	for (unsigned i = 0; i < l->ndns && i < 3; i++)
		out->dns[out->ndns++] = l->dns[i];
	out->lease_s = l->lease_s;
	out->t1_s = l->t1_s;
	out->t2_s = l->t2_s;
	out->obtained_ns = l->obtained;
	return K_OK;
}
