/*
 * hello - the smallest Kiln web app: once the network is up, answer
 * GET / with a greeting on port 80. Everything else is Kiln's.
 * "exit=1" ends the VM right after start-up (tools/boottime.pl).
 */
#include <kiln/kiln.h>
#include <kiln/http.h>
#include <kiln/net.h>

static struct http_server srv;
static struct http_conn conns[64];
static bool exit_after_boot;
CMDLINE_OPTION(exit, .key = "exit", .type = CMDLINE_BOOL, .value = &exit_after_boot,
	       .help = "exit right after start-up");

static int hello(struct http_req *req, void *arg)
{
	static const char msg[] = "Hello from Kiln!\n";
	return http_respond(req, 200, "text/plain; charset=utf-8", msg, sizeof msg - 1);
}

static void up(struct net_if *nif, void *arg)
{
	if (http_listen_tcp(&srv, nif, 80, 128) == K_OK)
		log_info("hello: serving http on port 80");
}

void app_main(void)
{
	if (exit_after_boot)
		kiln_exit(0);
	http_server_init(&srv, NULL, conns, 64);
	http_route(&srv, HTTP_MBIT(HTTP_M_GET), "/", 0, hello, NULL);
	net_on_up(up, NULL);
}
