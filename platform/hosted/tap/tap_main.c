/*
 * tap_main.c - the tap-hosted runner: a Kiln app and Kiln's network
 * stack as one Linux process on a TAP device (SPEC 1, "tap-hosted").
 *
 *   build/hosted/<app>-tap tap=kiln0 ip=10.78.0.2/24 gw=10.78.0.1 log=debug
 *
 * The arguments are joined into one line and parsed exactly as the
 * kernel parses its command line, against every CMDLINE_OPTION linked in
 * (the stack's ip=/gw=/dns=, the app's own keys, and the runner's below);
 * an unknown key or a bad value is reported and the default kept. Then,
 * as kernel_main() does: memory (an mmap'd arena handed to the page
 * allocator, so kmalloc/page_alloc behave as in the guest), the timer
 * wheel and loop, the device (tap.c, which attaches the stack:
 * ip= configures it, no ip= starts DHCP), app_main(), loop_run().
 *
 * Runner keys: tap=IFNAME (default kiln0), tap_vnet=0 to send plain
 * frames without the virtio-net header and its checksum offload,
 * mac=N (last byte of the stack's locally administered MAC
 * 02:4b:69:6c:6e:NN; default random), mem_mb= (arena size), seed=N
 * (repeatable random numbers), log=. SIGINT and SIGTERM end the process
 * with status 0 at the end of a loop pass.
 *
 * Rules: hosted only (Linux, glibc). Nothing here is seen by the kernel
 * build; the app and the stack cannot tell which runner they are on.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include <kiln/cmdline.h>
#include <kiln/kiln.h>

#include "hosted.h"
#include "hosted_rt.h"
#include "tap.h"

static char opt_tap[16] = "kiln0";
static bool opt_vnet = true;
static uint32_t opt_mac_last;
static bool opt_mac_seen;
static uint32_t opt_mem_mb = 64;
static uint32_t opt_seed;
static enum log_level opt_log = LOG_INFO;

CMDLINE_OPTION(tap, .key = "tap", .type = CMDLINE_STR, .value = opt_tap, .size = sizeof opt_tap,
	       .help = "TAP interface to attach to (created if absent)");
CMDLINE_OPTION(tap_vnet, .key = "tap_vnet", .type = CMDLINE_BOOL, .value = &opt_vnet,
	       .help = "use the virtio-net header (checksum offload)");
CMDLINE_OPTION(mac, .key = "mac", .type = CMDLINE_U32, .value = &opt_mac_last, .min = 0,
	       .max = 255, .seen = &opt_mac_seen, .help = "last byte of the MAC 02:4b:69:6c:6e:NN");
CMDLINE_OPTION(mem_mb, .key = "mem_mb", .type = CMDLINE_U32, .value = &opt_mem_mb, .min = 8,
	       .max = 4096, .help = "memory for the page allocator, MiB");
CMDLINE_OPTION(seed, .key = "seed", .type = CMDLINE_U32, .value = &opt_seed,
	       .help = "fixed random seed (0: the kernel's getrandom)");
CMDLINE_OPTION(log, .key = "log", .type = CMDLINE_LOGLEVEL, .value = &opt_log,
	       .help = "log level: error, warn, info or debug");

static struct tap_dev tap;

static void on_signal(int sig)
{
	(void)sig;
	hosted_loop_stop(0);
}

/* An arena aligned to 2 MiB, so the buddy allocator gets whole blocks. */
static int mem_init(size_t bytes)
{
	const size_t align = 2u << 20;
	uint8_t *p = mmap(NULL, bytes + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return K_ENOMEM;
	uintptr_t a = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
	page_add_range(a, bytes);
	return K_OK;
}

int main(int argc, char **argv)
{
	char line[CMDLINE_MAX];
	size_t len = 0;

	line[0] = '\0';
	for (int i = 1; i < argc; i++) {
		int n = snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof line - len) {
			fprintf(stderr, "kiln-tap: command line longer than %d bytes\n", CMDLINE_MAX - 1);
			return 2;
		}
		len += (size_t)n;
	}
	log_set_level(LOG_INFO);
	cmdline_set(line);
	cmdline_parse(line, __cmdline_start, (size_t)(__cmdline_end - __cmdline_start), NULL);
	log_set_level(opt_log);
	if (opt_seed)
		random_set_test_seed(opt_seed);
	log_info("kiln-tap %s: command line \"%s\"", KILN_VERSION, line);

	if (mem_init((size_t)opt_mem_mb << 20) < 0) {
		log_error("kiln-tap: cannot map %u MiB", opt_mem_mb);
		return 1;
	}
	hosted_rt_init();

	/* SIGINT/SIGTERM only get in while the loop sleeps (loop.c). */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigprocmask(SIG_BLOCK, &stop, NULL);
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	uint8_t mac[6] = { 0x02, 0x4b, 0x69, 0x6c, 0x6e, 0 };
	if (opt_mac_seen)
		mac[5] = (uint8_t)opt_mac_last;
	else
		random_bytes(&mac[5], 1);
	int ret = tap_open(&tap, opt_tap, mac, opt_vnet);
	if (ret == K_OK)
		ret = tap_start(&tap);
	if (ret < 0) {
		log_error("kiln-tap: no device %s: %s", opt_tap, kiln_strerror(ret));
		return 1;
	}
	app_main();
	loop_run();
}
