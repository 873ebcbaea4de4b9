/*
 * net.c - the interface and UDP parts of kiln/net.h for the native
 * runner, over Linux UDP sockets.
 *
 * Interface: kiln/net.h (bring-up, interface, UDP).
 *
 * The interface: Linux owns addresses and routes, so each core has one
 * struct net_if standing for "the host's network", up from the start:
 * net_up() and net_on_up() succeed at once, net_if_default() is never
 * NULL, its address is bind= (0.0.0.0: every address), and configuring
 * it is not supported. Its counters are the UDP ones this file keeps;
 * its "device" (net_if_hw_info) is "linux-sockets", no MAC, no
 * offloads, with this core's socket calls and bytes as packets and bytes.
 *
 * UDP: udp_bind() opens a socket with SO_REUSEPORT on bind= and the
 * app's port plus port_offset (every core binds the same port; Linux
 * spreads datagrams by 4-tuple). Datagrams are read in batches with
 * recvmmsg() into this core's buffers and handed to the callback as a
 * view, valid until it returns (as in the kernel). Sends are sendto():
 * the kernel copies the bytes before it returns, so a borrowed send's
 * done() runs before udp_sendto_borrowed() returns.
 *
 * Rules: one process is one core. A pcb's socket is found by a scan of
 * NATIVE_UDP_SOCKS entries (apps bind a few). udp_unbind() inside the
 * pcb's own callback is safe: the batch stops there.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/net.h>

#include "native.h"
#include "net/stats.h"

/* The native interface of this core. */
struct net_if {
	struct net_stats stats;
};

static struct net_if native_if;
struct native_io native_io;

struct native_udp {
	struct native_ev ev;
	int fd;
	struct udp_pcb *pcb;
};

static struct native_udp socks[NATIVE_UDP_SOCKS];
static uint8_t rx_bufs[NATIVE_UDP_BATCH][NATIVE_UDP_MAX];

/* ---- interface ------------------------------------------------------------------ */

struct net_if *net_if_default(void) { return &native_if; }

void net_if_set_default(struct net_if *nif) { (void)nif; }

int net_if_configure(struct net_if *nif, const struct net_if_config *cfg)
{
	(void)nif;
	(void)cfg;
	return K_ENOTSUP;
}

void net_if_get_config(const struct net_if *nif, struct net_if_config *out)
{
	(void)nif;
	*out = (struct net_if_config){ .addr = native_cfg.bind_addr };
}

const struct net_stats *net_if_stats(const struct net_if *nif)
{
	return &nif->stats;
}

/* No device: the counters are this core's socket calls and bytes. */
void net_if_hw_info(const struct net_if *nif, struct net_if_hw *out)
{
	(void)nif;
	*out = (struct net_if_hw){
		.name = "linux-sockets",
		.rx_packets = native_io.rx_calls, .rx_bytes = native_io.rx_bytes,
		.tx_packets = native_io.tx_calls, .tx_bytes = native_io.tx_bytes,
		.tx_errors = native_io.tx_errors,
	};
}

void net_if_features(const struct net_if *nif, char *buf, size_t size)
{
	(void)nif;
	if (size)
		snprintf(buf, size, "%s", "kernel sockets (no device offloads)");
}

/* Natively, buffers and drops are Linux's (its own counters tell). */
unsigned net_if_pools(const struct net_if *nif, struct net_pool_info *out, unsigned max)
{
	(void)nif;
	(void)out;
	(void)max;
	return 0;
}

unsigned net_if_drops(const struct net_if *nif, struct net_counter *out, unsigned max)
{
	(void)nif;
	(void)out;
	(void)max;
	return 0;
}

unsigned net_if_tcp_states(const struct net_if *nif, struct net_counter *out, unsigned max)
{
	(void)nif;
	(void)out;
	(void)max;
	return 0;
}

void net_tick(struct net_if *nif, uint64_t now)
{
	(void)nif;
	(void)now;
}

uint64_t net_next_deadline(const struct net_if *nif)
{
	(void)nif;
	return UINT64_MAX;
}

int net_up(uint64_t timeout_ns)
{
	(void)timeout_ns;
	return K_OK;
}

int net_on_up(net_up_fn fn, void *arg)
{
	fn(&native_if, arg);
	return K_OK;
}

int net_dhcp_info(const struct net_if *nif, struct net_dhcp_info *out)
{
	if (nif && nif != &native_if)
		return K_ENODEV;
	*out = (struct net_dhcp_info){ .state = "none" };
	return K_OK;
}

/* ---- UDP --------------------------------------------------------------------------- */

static struct native_udp *sock_of(const struct udp_pcb *pcb)
{
	for (int i = 0; i < NATIVE_UDP_SOCKS; i++)
		if (socks[i].pcb == pcb)
			return &socks[i];
	return NULL;
}

static void udp_event(struct native_ev *ev, uint32_t events)
{
	struct native_udp *s = (struct native_udp *)ev;
	struct mmsghdr msgs[NATIVE_UDP_BATCH];
	struct iovec iov[NATIVE_UDP_BATCH];
	struct sockaddr_in from[NATIVE_UDP_BATCH];
	struct udp_pcb *pcb = s->pcb;
	int fd = s->fd;
	(void)events;

	for (int round = 0; round < NATIVE_UDP_ROUNDS && pcb; round++) {
		for (int i = 0; i < NATIVE_UDP_BATCH; i++) {
			iov[i] = (struct iovec){ .iov_base = rx_bufs[i], .iov_len = NATIVE_UDP_MAX };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &from[i], .msg_namelen = sizeof from[i],
				.msg_iov = &iov[i], .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(fd, msgs, NATIVE_UDP_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		for (int i = 0; i < n; i++) {
			if (s->pcb != pcb || s->fd != fd)
				return;         /* unbound by a callback */
			native_if.stats.udp_in++;
			if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
				native_if.stats.udp_bad_len++;
				continue;
			}
			struct udp_rx rx = {
				.src_addr = ntohl(from[i].sin_addr.s_addr),
				.dst_addr = native_cfg.bind_addr,
				.src_port = ntohs(from[i].sin_port),
				.dst_port = pcb->port,
				.data = rx_bufs[i],
				.len = msgs[i].msg_len,
				.total_len = msgs[i].msg_len,
			};
			native_if.stats.udp_delivered++;
			native_io.rx_calls++;
			native_io.rx_bytes += msgs[i].msg_len;
			pcb->recv(pcb, &rx, pcb->arg);
		}
		if (n < NATIVE_UDP_BATCH)
			return;
	}
}

int udp_bind(struct udp_pcb *pcb, struct net_if *nif, uint16_t port,
	     udp_recv_fn recv, void *arg)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof sa;
	int one = 1, sport = native_port(port);
	struct native_udp *s;

	if (pcb->bound || sock_of(pcb))
		return K_EALREADY;
	if (sport < 0 || !recv)
		return K_EINVAL;
	s = sock_of(NULL);
	if (!s)
		return K_ENOSPC;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return K_ENOMEM;
	if (port) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	}
	sa.sin_addr.s_addr = htonl(native_cfg.bind_addr);
	sa.sin_port = htons((uint16_t)sport);
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		close(fd);
		if (e == EACCES)
			log_error("udp: port %d needs privilege; try port_offset=8000", sport);
		return e == EADDRNOTAVAIL ? K_EINVAL : K_EADDRINUSE;
	}
	if (port == 0 && getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	s->ev.fn = udp_event;
	s->fd = fd;
	s->pcb = pcb;
	if (native_ev_add(fd, &s->ev, EPOLLIN) < 0) {
		close(fd);
		s->pcb = NULL;
		return K_ENOMEM;
	}
	*pcb = (struct udp_pcb){ .nif = nif, .port = port, .bound = true, .recv = recv, .arg = arg };
	return K_OK;
}

void udp_unbind(struct udp_pcb *pcb)
{
	struct native_udp *s = sock_of(pcb);

	if (!s)
		return;
	close(s->fd);
	s->fd = -1;
	s->pcb = NULL;
	pcb->bound = false;
}

int udp_sendto(struct udp_pcb *pcb, uint32_t addr, uint16_t port, const void *data, size_t len)
{
	struct native_udp *s = sock_of(pcb);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port),
				  .sin_addr.s_addr = htonl(addr) };

	if (!s)
		return K_EINVAL;
	if (len > NATIVE_UDP_MAX)
		return K_EMSGSIZE;
	for (;;) {
		if (sendto(s->fd, data, len, MSG_DONTWAIT, (struct sockaddr *)&sa, sizeof sa) >= 0) {
			native_if.stats.udp_out++;
			native_io.tx_calls++;
			native_io.tx_bytes += len;
			return K_OK;
		}
		if (errno != EINTR)
			break;
	}
	native_if.stats.udp_out_err++;
	native_io.tx_errors++;
	switch (errno) {
	case EAGAIN: case ENOBUFS: case ENOMEM: return K_ENOMEM;
	case EMSGSIZE: return K_EMSGSIZE;
	case ENETUNREACH: case EHOSTUNREACH: case EINVAL: return K_ENOENT;
	default: return K_EIO;
	}
}

int udp_sendto_borrowed(struct udp_pcb *pcb, uint32_t addr, uint16_t port,
			const void *data, size_t len, net_done_fn done, void *arg)
{
	int ret = udp_sendto(pcb, addr, port, data, len);
	if (done)
		done(arg);
	return ret;
}

size_t udp_rx_copy(const struct udp_rx *rx, size_t off, void *dst, size_t n)
{
	if (off >= rx->len)
		return 0;
	if (n > rx->len - off)
		n = rx->len - off;
	memcpy(dst, rx->data + off, n);
	return n;
}
