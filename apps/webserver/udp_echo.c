/*
 * udp_echo.c - the UDP echo service (RFC 862) on port 7.
 *
 * Interface: udp_echo_start(), udp_echo_count() (webserver.h).
 *
 * Rules: each datagram is sent back from the receive view with the
 * copying udp_sendto() (the view dies when the callback returns); a
 * fragmented datagram is gathered into a static buffer first. A reply
 * that cannot be sent is dropped, as UDP may.
 */
#include <stdint.h>

#include <kiln/err.h>
#include <kiln/net.h>

#include "webserver.h"

static struct udp_pcb echo_pcb;
static uint8_t echo_buf[65507];
static uint64_t echoed;

static void echo_recv(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	(void)arg;
	const void *data = rx->data;
	size_t len = rx->len;
	if (rx->total_len > rx->len) {
		if (rx->total_len > sizeof echo_buf)
			return;
		len = udp_rx_copy(rx, 0, echo_buf, rx->total_len);
		data = echo_buf;
	}
	if (udp_sendto(pcb, rx->src_addr, rx->src_port, data, len) == K_OK)
		echoed++;
}

int udp_echo_start(struct net_if *nif)
{
	return udp_bind(&echo_pcb, nif, WEB_ECHO_PORT, echo_recv, NULL);
}

uint64_t udp_echo_count(void)
{
	return echoed;
}
