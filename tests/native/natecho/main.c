/*
 * natecho - the native runner's test app: the kiln API surface an app
 * uses, exercised by tests/native/run.sh over loopback.
 *
 *   TCP 7, 9, 19  apps/echo's services (tcp_services.c), linked as they
 *           are: echo with the copying tcp_write() and back-pressure end
 *           to end, discard, and chargen with tcp_write_borrowed() (one
 *           static RFC 864 pattern lent a bounded number of times, done()
 *           refilling from a poller)
 *   UDP 7   echo; the datagram "exit N" ends the runner with status N
 *           (kiln_exit), which tests the supervisor
 *
 * Run it as build/native/natecho bind=127.0.0.1 port_offset=N. Everything
 * runs from the loop, per core, with no state shared between cores.
 */
#include <stdbool.h>
#include <string.h>

#include <kiln/kiln.h>
#include <kiln/net.h>

#include "../../../apps/echo/echo.h"

static struct udp_pcb udp_echo;

static void udp_echo_recv(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	(void)arg;
	if (rx->len > 5 && rx->len < 9 && memcmp(rx->data, "exit ", 5) == 0) {
		int status = 0;
		for (size_t i = 5; i < rx->len && rx->data[i] >= '0' && rx->data[i] <= '9'; i++)
			status = status * 10 + (rx->data[i] - '0');
		log_info("natecho: exit %d requested", status);
		kiln_exit(status);
	}
	int ret = udp_sendto(pcb, rx->src_addr, rx->src_port, rx->data, rx->len);
	if (ret < 0)
		log_warn("natecho: udp reply dropped: %s", kiln_strerror(ret));
}

static void net_ready(struct net_if *nif, void *arg)
{
	(void)arg;
	int ret = tcp_services_start(nif);
	if (ret == K_OK)
		ret = udp_bind(&udp_echo, nif, ECHO_PORT, udp_echo_recv, NULL);
	if (ret < 0) {
		log_error("natecho: cannot listen: %s", kiln_strerror(ret));
		kiln_exit(1);
	}
	log_info("natecho: tcp echo %d, discard %d, chargen %d, udp echo %d", ECHO_PORT,
		 DISCARD_PORT, CHARGEN_PORT, ECHO_PORT);
}

void app_main(void)
{
	net_on_up(net_ready, NULL);
}
