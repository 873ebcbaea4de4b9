/*
 * udpecho - the test app of the tap-hosted runner (the scripts in tests/hosted/):
 * echoes every UDP datagram to port 7 back to its sender, and reports
 * on the log when the network comes up, both ways an app can learn it:
 * net_on_up() from loop code, net_up() from a task, which then prints
 * what DHCP obtained. The scripts read these lines:
 *   udpecho: up 10.78.0.2/24 gw 10.78.0.1
 *   udpecho: dhcp bound 10.78.0.50/24 server 10.78.0.1 lease 120 s
 */
#include <kiln/kiln.h>
#include <kiln/net.h>

#define IP4_ARGS(a) (a) >> 24, ((a) >> 16) & 255, ((a) >> 8) & 255, (a) & 255

static struct udp_pcb echo_pcb;
static uint8_t echo_buf[65536];

static void echo_rx(struct udp_pcb *pcb, const struct udp_rx *rx, void *arg)
{
	(void)arg;
	size_t n = udp_rx_copy(rx, 0, echo_buf, sizeof echo_buf);
	int ret = udp_sendto(pcb, rx->src_addr, rx->src_port, echo_buf, n);
	if (ret < 0)
		log_warn("udpecho: reply of %zu bytes failed: %s", n, kiln_strerror(ret));
}

static void on_up(struct net_if *nif, void *arg)
{
	struct net_if_config c;
	(void)arg;
	net_if_get_config(nif, &c);
	log_info("udpecho: up %u.%u.%u.%u/%u gw %u.%u.%u.%u", IP4_ARGS(c.addr), c.prefix,
		 IP4_ARGS(c.gateway));
}

static void waiter(void *arg)
{
	struct net_dhcp_info d;
	(void)arg;
	int ret = net_up(60 * NS_PER_SEC);
	if (ret < 0) {
		log_error("udpecho: net_up: %s", kiln_strerror(ret));
		return;
	}
	if (net_dhcp_info(NULL, &d) == K_OK && d.bound)
		log_info("udpecho: dhcp bound %u.%u.%u.%u/%u server %u.%u.%u.%u lease %u s dns %u.%u.%u.%u",
			 IP4_ARGS(d.addr), d.prefix, IP4_ARGS(d.server), d.lease_s,
			 IP4_ARGS(d.ndns ? d.dns[0] : 0));
	else
		log_info("udpecho: static address (no DHCP)");
}

void app_main(void)
{
	struct net_if *nif = net_if_default();
	if (!nif) {
		log_error("udpecho: no network interface");
		kiln_exit(1);
	}
	int ret = udp_bind(&echo_pcb, nif, 7, echo_rx, NULL);
	if (ret < 0) {
		log_error("udpecho: bind 7: %s", kiln_strerror(ret));
		kiln_exit(1);
	}
	net_on_up(on_up, NULL);
	if (!task_spawn(waiter, NULL, TASK_STACK_DEFAULT, "net-wait"))
		log_error("udpecho: cannot start a task");
}
