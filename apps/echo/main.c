/*
 * echo - the classic small services on Kiln's network stack:
 *   TCP echo (RFC 862, port 7), discard (RFC 863, port 9),
 *   chargen (RFC 864, port 19) and UDP echo (RFC 862, port 7).
 *
 * Boot it with a static address (ip=10.79.0.2/24 gw=10.79.0.1) or none
 * (DHCP). The services start from the loop once the interface has an
 * address (net_on_up); everything after that is callbacks on the run
 * loop, with no task and no waiting. tests/e2e/ drives it from Linux.
 *
 * stats=N on the command line logs the TCP counters every N seconds
 * (0, the default: never), for watching a test run from the console.
 */
#include <kiln/kiln.h>
#include <kiln/net.h>
#include <kiln/tcp.h>

#include "echo.h"

static uint32_t stats_every_s;
CMDLINE_OPTION(stats, .key = "stats", .type = CMDLINE_U32, .value = &stats_every_s,
	       .help = "log TCP counters every N seconds (0: never)");

static struct timer stats_timer;

static void stats_log(struct timer *t, void *arg)
{
	const struct tcp_stats *s = tcp_get_stats(arg);
	log_info("echo: tcp conns %u timewait %u, segs in %lu out %lu, retransmits %lu "
		 "(fast %lu, rto %lu, loss probes %lu, lost retransmits %lu, sack recoveries %lu), "
		 "dupacks %lu, ooo %lu, no_mem %lu, deferred %lu, "
		 "table_full %lu, listen_overflows %lu, syncookies %lu/%lu, resets in %lu out %lu",
		 s->conns_current, s->timewait_current, (unsigned long)s->segs_in,
		 (unsigned long)s->segs_out, (unsigned long)s->retransmits,
		 (unsigned long)s->fast_retransmits, (unsigned long)s->rto_timeouts,
		 (unsigned long)s->loss_probes, (unsigned long)s->lost_retransmits,
		 (unsigned long)s->sack_recoveries, (unsigned long)s->dup_acks,
		 (unsigned long)s->ooo_segs, (unsigned long)s->no_mem, (unsigned long)s->tx_deferred,
		 (unsigned long)s->table_full, (unsigned long)s->listen_overflows,
		 (unsigned long)s->syncookies_sent, (unsigned long)s->syncookies_ok,
		 (unsigned long)s->resets_in, (unsigned long)s->resets_out);
	timer_arm_in(t, (uint64_t)stats_every_s * NS_PER_SEC);
}

static void echo_net_up(struct net_if *nif, void *arg)
{
	(void)arg;
	struct net_if_config cfg;
	net_if_get_config(nif, &cfg);
	int ret = udp_echo_start(nif);
	if (ret < 0)
		log_error("echo: udp echo on port %d: %s", ECHO_PORT, kiln_strerror(ret));
	int tret = tcp_services_start(nif);
	if (tret < 0)
		log_error("echo: tcp services: %s", kiln_strerror(tret));
	log_info("echo: serving on %u.%u.%u.%u: tcp echo %d, discard %d, chargen %d%s; udp echo %d%s",
		 cfg.addr >> 24, (cfg.addr >> 16) & 0xff, (cfg.addr >> 8) & 0xff, cfg.addr & 0xff,
		 ECHO_PORT, DISCARD_PORT, CHARGEN_PORT, tret < 0 ? " (failed)" : "", ECHO_PORT,
		 ret < 0 ? " (failed)" : "");
	if (stats_every_s && tret == K_OK) {
		timer_init(&stats_timer, stats_log, nif);
		timer_arm_in(&stats_timer, (uint64_t)stats_every_s * NS_PER_SEC);
	}
}

void app_main(void)
{
	int ret = net_on_up(echo_net_up, NULL);
	if (ret < 0)
		log_error("echo: cannot wait for the network: %s", kiln_strerror(ret));
	else if (!net_if_default())
		log_info("echo: waiting for the network");
}
