/*
 * tls.c - the webserver's HTTPS: the same routes on port 443 over Kiln's
 * TLS 1.3 engine (kiln/tls.h, kiln/https.h), with the certificates the
 * build baked into the image (mk/tls.mk: a development set unless
 * TLS_CERT/TLS_KEY name real ones).
 *
 * Command-line keys: tls=0 turns HTTPS off; tls_work_bufs= handshakes in
 * progress at once (each holds a work buffer of TLS_WORK_BUF bytes while
 * it lasts; an established connection holds none); tls_ticket_s= ticket
 * lifetime (0: no resumption), tls_rotate_s= ticket-key period.
 *
 * Rules: set up in app_main (web_tls_init) and on network-up
 * (web_tls_listen); the ticket key rotates from a timer on the loop.
 * HTTPS does not start before the DRBG has hardware entropy
 * (random_is_strong: RDSEED/RDRAND at boot or virtio-rng): it waits up to
 * WEB_TLS_ENTROPY_WAIT_MS for it, then stays off with an error.
 */
#include <stdint.h>

#include <kiln/https.h>
#include <kiln/kiln.h>
#include <kiln/mem.h>
#include <kiln/random.h>
#include <kiln/timer.h>
#include <kiln/tls.h>

#include "webserver.h"

#define WEB_HTTPS_PORT 443
#define WEB_TLS_BACKLOG 1024
#define WEB_TLS_ENTROPY_WAIT_MS 10000

static uint32_t opt_tls = 1;
static uint32_t opt_work_bufs = 32;
static uint32_t opt_ticket_s = 7200;
static uint32_t opt_rotate_s = 3600;
CMDLINE_OPTION(tls, .key = "tls", .type = CMDLINE_U32, .value = &opt_tls, .min = 0, .max = 1,
	       .help = "HTTPS on port 443 (1) or not (0)");
CMDLINE_OPTION(tls_work_bufs, .key = "tls_work_bufs", .type = CMDLINE_U32,
	       .value = &opt_work_bufs, .min = 1, .max = 4096,
	       .help = "TLS handshakes in progress at once (a 33 KiB buffer each)");
CMDLINE_OPTION(tls_ticket_s, .key = "tls_ticket_s", .type = CMDLINE_U32, .value = &opt_ticket_s,
	       .min = 0, .max = 604800, .help = "TLS session ticket lifetime, s (0: none)");
CMDLINE_OPTION(tls_rotate_s, .key = "tls_rotate_s", .type = CMDLINE_U32, .value = &opt_rotate_s,
	       .min = 1, .max = 604800, .help = "TLS ticket key rotation period, s");

struct tls_server web_tls;
static bool web_tls_on;
static struct timer web_tls_timer;
static struct timer web_tls_entropy_timer;
static struct net_if *web_tls_nif;
static uint32_t web_tls_waited_ms;

static uint64_t web_now_ms(void)
{
	uint64_t wall = time_wall_ns();
	return (wall ? wall : time_now_ns()) / NS_PER_MS;
}

static void web_tls_tick(struct timer *t, void *arg)
{
	(void)arg;
	tls_server_tick(&web_tls);
	timer_arm_in(t, 10 * NS_PER_SEC);
}

bool web_tls_enabled(void)
{
	return web_tls_on;
}

void web_tls_init(void)
{
	if (!opt_tls)
		return;
	if (kiln_tls_ncerts == 0) {
		log_error("webserver: no TLS certificate in the image: HTTPS off");
		return;
	}
	struct tls_server_config cfg;
	tls_server_config_default(&cfg);
	cfg.certs = kiln_tls_certs;
	cfg.ncerts = kiln_tls_ncerts;
	cfg.alpn[0] = "http/1.1";
	cfg.nalpn = 1;
	cfg.random = random_bytes;
	cfg.now_ms = web_now_ms;
	cfg.ticket_lifetime_s = opt_ticket_s;
	cfg.ticket_rotate_s = opt_rotate_s;
	void *bufs = kmalloc((size_t)opt_work_bufs * TLS_WORK_BUF);
	if (!bufs) {
		log_error("webserver: no memory for %u TLS work buffers: HTTPS off", opt_work_bufs);
		return;
	}
	int r = tls_server_init(&web_tls, &cfg, bufs, opt_work_bufs);
	if (r < 0) {
		log_error("webserver: TLS set-up: %s: HTTPS off", kiln_strerror(r));
		kfree(bufs);
		return;
	}
	web_tls_on = true;
	timer_init(&web_tls_timer, web_tls_tick, NULL);
	timer_arm_in(&web_tls_timer, 10 * NS_PER_SEC);
}

static void web_tls_entropy_check(struct timer *t, void *arg)
{
	(void)t;
	(void)arg;
	web_tls_listen(web_tls_nif);
}

void web_tls_listen(struct net_if *nif)
{
	if (!web_tls_on)
		return;
	if (!random_is_strong()) {
		if (web_tls_waited_ms >= WEB_TLS_ENTROPY_WAIT_MS) {
			log_error("webserver: no hardware entropy (RDRAND, RDSEED or virtio-rng) "
				  "after %u ms: HTTPS off", web_tls_waited_ms);
			return;
		}
		if (!web_tls_waited_ms)
			log_info("webserver: https waits for hardware entropy");
		web_tls_nif = nif;
		web_tls_waited_ms += 100;
		timer_init(&web_tls_entropy_timer, web_tls_entropy_check, NULL);
		timer_arm_in(&web_tls_entropy_timer, 100 * NS_PER_MS);
		return;
	}
	int r = http_listen_tls(&web_srv, &web_tls, nif, WEB_HTTPS_PORT, WEB_TLS_BACKLOG);
	if (r < 0)
		log_error("webserver: https on port %d: %s", WEB_HTTPS_PORT, kiln_strerror(r));
	else
		log_info("webserver: https on port %d (%u certificates, %u work buffers)",
			 WEB_HTTPS_PORT, kiln_tls_ncerts, opt_work_bufs);
}
