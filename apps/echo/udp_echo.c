/*
 * udp_echo.c - UDP echo (RFC 862): every datagram to port 7 goes back
 * to its sender, byte for byte.
 *
 * Interface: udp_echo_start() (echo.h).
 *
 * Rules: the receive callback gets a view of the datagram that is valid
 * only until it returns, so the reply is sent with the copying
 * udp_sendto() straight from that view (one copy, into the reply's
 * buffers). A datagram that arrived in IP fragments is not contiguous in
 * the view; it is gathered into one static buffer first (the slow path;
 * the loop is single-threaded, so one buffer serves every datagram).
 * A reply that cannot be sent (no buffers) is dropped and counted: UDP
 * promises no more.
 */
#include <stdint.h>

#include <kiln/err.h>
#include <kiln/log.h>
#include <kiln/net.h>

#include "echo.h"

static struct udp_pcb echo_pcb;
static uint8_t gather[65507];
static uint64_t echoed, dropped;

static void udp_echo_recv(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	(void)arg;
	const uint8_t *data = rx->data;
	size_t len = rx->len;
	if (rx->total_len > rx->len) {
		if (rx->total_len > sizeof(gather)) {
			dropped++;
			return;
		}
		len = udp_rx_copy(rx, 0, gather, rx->total_len);
		data = gather;
	}
	int ret = udp_sendto(pcb, rx->src_addr, rx->src_port, data, len);
	if (ret < 0) {
		if (dropped++ == 0)
			log_warn("echo: udp reply of %zu bytes dropped: %s", len, kiln_strerror(ret));
		return;
	}
	echoed++;
}

int udp_echo_start(struct net_if *nif)
{
	return udp_bind(&echo_pcb, nif, ECHO_PORT, udp_echo_recv, NULL);
}
