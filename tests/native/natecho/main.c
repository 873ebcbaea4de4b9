/*
 * natecho - the native runner's test app: the kiln API surface an app
 * uses, exercised by tests/native/run.sh over loopback.
 *
 *   TCP 7   echo with the copying tcp_write(): consumes only what the
 *           send buffer took, holds the rest (delivery pauses, the window
 *           closes) and resumes from writable() - back-pressure end to end
 *   TCP 19  chargen with tcp_write_borrowed(): one static pattern lent
 *           CHARGEN_SPANS times at most; done() refills from a poller
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
#include <kiln/tcp.h>

#define ECHO_PORT 7
#define CHARGEN_PORT 19
#define CHARGEN_SPANS 4

/* ---- TCP echo ------------------------------------------------------------ */

static size_t echo_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	(void)arg;
	if (!data) {
		tcp_close(c);
		return 0;
	}
	int n = tcp_write(c, data, len);
	if (n == K_EAGAIN)
		return 0;
	if (n < 0) {
		tcp_abort(c);
		return 0;
	}
	return (size_t)n;
}

static void echo_writable(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_recv_resume(c);
}

static void conn_closed(struct tcp_conn *c, int reason, void *arg)
{
	(void)c;
	(void)arg;
	if (reason != K_OK)
		log_debug("natecho: connection ended: %s", kiln_strerror(reason));
}

static const struct tcp_handlers echo_handlers = {
	.recv = echo_recv, .writable = echo_writable, .closed = conn_closed,
};

static int echo_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	tcp_set_handlers(c, &echo_handlers, NULL);
	return K_OK;
}

/* ---- TCP chargen (borrowed writes) --------------------------------------- */

static uint8_t pattern[65536];

struct chargen {
	struct tcp_conn *c;
	struct chargen *next;
	unsigned inflight;
	bool gone, pending;
};

static struct chargen *refill;

static void chargen_maybe_free(struct chargen *g)
{
	if (g->gone && !g->inflight && !g->pending)
		kfree(g);
}

static void chargen_done(void *arg)
{
	struct chargen *g = arg;
	g->inflight--;
	if (g->gone) {
		chargen_maybe_free(g);
	} else if (!g->pending) {
		g->pending = true;
		g->next = refill;
		refill = g;
		loop_kick();
	}
}

static void chargen_fill(struct chargen *g)
{
	while (!g->gone && g->inflight < CHARGEN_SPANS) {
		g->inflight++;
		if (tcp_write_borrowed(g->c, pattern, sizeof pattern, chargen_done, g) < 0)
			break;
	}
}

static int chargen_poll(void *ctx)
{
	int work = 0;
	(void)ctx;
	while (refill) {
		struct chargen *g = refill;
		refill = g->next;
		g->pending = false;
		work++;
		if (g->gone)
			chargen_maybe_free(g);
		else
			chargen_fill(g);
	}
	return work;
}

static struct poller chargen_poller = { .fn = chargen_poll, .name = "chargen" };

static void chargen_end(struct chargen *g)
{
	g->gone = true;
	chargen_maybe_free(g);
}

static size_t chargen_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	if (!data) {
		tcp_close(c);
		chargen_end(arg);
	}
	return len;
}

static void chargen_writable(struct tcp_conn *c, void *arg)
{
	(void)c;
	chargen_fill(arg);
}

static void chargen_closed(struct tcp_conn *c, int reason, void *arg)
{
	conn_closed(c, reason, NULL);
	chargen_end(arg);
}

static const struct tcp_handlers chargen_handlers = {
	.recv = chargen_recv, .writable = chargen_writable, .closed = chargen_closed,
};

static int chargen_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	struct chargen *g = kzalloc(sizeof *g);
	if (!g)
		return K_ENOMEM;
	g->c = c;
	tcp_set_handlers(c, &chargen_handlers, g);
	chargen_fill(g);
	return K_OK;
}

/* ---- UDP echo ---------------------------------------------------------------- */

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

/* ---- start-up ------------------------------------------------------------------- */

static void net_ready(struct net_if *nif, void *arg)
{
	int ret;
	(void)arg;

	for (size_t i = 0; i < sizeof pattern; i++)
		pattern[i] = (uint8_t)(i * 7 + (i >> 8));
	loop_add_poller(&chargen_poller);
	ret = tcp_listen(nif, ECHO_PORT, 1024, echo_accept, NULL);
	if (ret == K_OK)
		ret = tcp_listen(nif, CHARGEN_PORT, 1024, chargen_accept, NULL);
	if (ret == K_OK)
		ret = udp_bind(&udp_echo, nif, ECHO_PORT, udp_echo_recv, NULL);
	if (ret < 0) {
		log_error("natecho: cannot listen: %s", kiln_strerror(ret));
		kiln_exit(1);
	}
	log_info("natecho: tcp echo %d, chargen %d, udp echo %d", ECHO_PORT, CHARGEN_PORT, ECHO_PORT);
}

void app_main(void)
{
	net_on_up(net_ready, NULL);
}
