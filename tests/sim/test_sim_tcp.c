/*
 * test_sim_tcp.c - TCP between two complete Kiln stacks over a simulated
 * link (tests/sim/sim.h), on virtual time:
 *  - multi-megabyte transfers in both directions at once, byte-exact,
 *    under 10% loss, reordering and duplication, with SACK recovery seen
 *    in the counters, then an orderly close into TIME_WAIT and its end;
 *  - the same with borrowed (zero-copy) sends, every done callback run;
 *  - both again with TSO devices: packets of many segments, cut by the
 *    link (net/gso.c) before it loses and reorders them;
 *  - a device queue that fills: data held back, not lost and resent;
 *  - RTO backoff observed on the wire and the abort after the limit;
 *  - zero window: a reader that stalls, persist probes, then completion;
 *  - simultaneous close (both FINs cross): both sides through CLOSING;
 *  - many parallel connections, each a request and an echoed answer.
 * Every test ends with every buffer back in its pool.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"


static struct sim S;

struct ep {
	struct tcp_conn *c;
	uint64_t tx_id, rx_id;
	uint64_t rx_mod;            /* pattern repeats every rx_mod bytes (0: never) */
	uint64_t to_send, sent;
	uint64_t received;
	bool rx_bad, eof, closed, connected;
	int reason;
	bool shutdown_after;        /* tcp_shutdown once everything is queued */
	bool borrowed;              /* send by tcp_write_borrowed */
	size_t consume_max;         /* recv takes at most this (SIZE_MAX: all) */
	bool echo;                  /* write back what arrives */
	uint64_t echo_expect;       /* ... and shut down after this many */
	unsigned dones;
};

static uint8_t chunk[65536];
static uint8_t *big;                      /* a borrowed source */
static size_t big_len;

static void done_cb(void *arg) { ((struct ep *)arg)->dones++; }

static void pump(struct ep *e)
{
	while (e->sent < e->to_send && !e->closed) {
		size_t n = e->to_send - e->sent < sizeof chunk ? e->to_send - e->sent : sizeof chunk;
		int r;
		if (e->borrowed) {
			r = tcp_write_borrowed(e->c, big + e->sent % big_len, n, done_cb, e);
			if (r < 0)
				break;
			r = (int)n;
		} else {
			for (size_t i = 0; i < n; i++)
				chunk[i] = sim_pattern(e->tx_id, e->sent + i);
			r = tcp_write(e->c, chunk, n);
			if (r <= 0)
				break;
		}
		e->sent += (uint64_t)r;
	}
	if (e->sent == e->to_send && e->shutdown_after && !e->closed) {
		e->shutdown_after = false;
		tcp_shutdown(e->c);
	}
}

static size_t on_recv(struct tcp_conn *c, const uint8_t *data, size_t len, void *arg)
{
	struct ep *e = arg;
	(void)c;
	if (!data) {
		e->eof = true;
		return 0;
	}
	if (len > e->consume_max)
		len = e->consume_max;
	for (size_t i = 0; i < len && !e->echo; i++) {
		uint64_t at = e->received + i;
		if (data[i] != sim_pattern(e->rx_id, e->rx_mod ? at % e->rx_mod : at))
			e->rx_bad = true;
	}
	if (e->echo) {
		int r = tcp_write(e->c, data, len);
		if (r != (int)len)
			e->rx_bad = true;
	}
	e->received += len;
	if (e->echo && e->received == e->echo_expect)
		tcp_shutdown(e->c);
	return len;
}

static void on_writable(struct tcp_conn *c, void *arg) { (void)c; pump(arg); }
static void on_connected(struct tcp_conn *c, void *arg)
{
	(void)c;
	((struct ep *)arg)->connected = true;
	pump(arg);
}
static void on_closed(struct tcp_conn *c, int reason, void *arg)
{
	struct ep *e = arg;
	(void)c;
	e->closed = true;
	e->reason = reason;
	e->c = NULL;
}

static const struct tcp_handlers handlers = {
	.connected = on_connected, .recv = on_recv, .writable = on_writable, .closed = on_closed,
};

static struct ep server_proto;           /* copied into each accepted ep */
static struct ep servers[256];
static unsigned nservers;

static int on_accept(struct tcp_conn *c, void *arg)
{
	(void)arg;
	if (nservers == 256)
		return K_ENOSPC;
	struct ep *e = &servers[nservers++];
	*e = server_proto;
	e->c = c;
	tcp_set_handlers(c, &handlers, e);
	pump(e);
	return K_OK;
}

static struct ep client;

/* SIM_SEED=K shifts every test's seed by K: the same checks on other
 * random links (a developer's sweep; make test runs K=0). */
static void setup(uint64_t seed, const struct sim_link_cfg *link)
{
	const char *shift = getenv("SIM_SEED");
	sim_init(&S, seed + (shift ? strtoull(shift, NULL, 10) : 0), link, NULL);
	memset(&client, 0, sizeof client);
	memset(&server_proto, 0, sizeof server_proto);
	memset(servers, 0, sizeof servers);
	nservers = 0;
	client.consume_max = SIZE_MAX;
	server_proto.consume_max = SIZE_MAX;
	assert_int_equal(tcp_listen(&S.n[1].nif, 5001, 64, on_accept, NULL), K_OK);
}

static bool client_connected(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	return client.connected;
}

static bool both_closed(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	return client.closed && nservers == 1 && servers[0].closed;
}

static bool no_timewait(struct sim *s, void *arg)
{
	(void)arg;
	return sim_tcp(s, 0)->timewait_current == 0 && sim_tcp(s, 1)->timewait_current == 0;
}

/* Runs out TIME_WAIT and checks that nothing is held anywhere. */
static void finish(void)
{
	assert_true(sim_run(&S, no_timewait, NULL, 120 * NS_PER_SEC));
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sim_tcp(&S, i)->conns_current, 0);
		tcp_unlisten(&S.n[i].nif, 5001);
	}
	assert_true(sim_no_leaks(&S));
	sim_fini(&S);
}

static const struct sim_link_cfg lossy = {
	.loss_ppm = 100000, .dup_ppm = 20000, .delay_ns = 2 * NS_PER_MS,
	.jitter_ns = 400 * NS_PER_US, .bytes_per_sec = 50 * 1000 * 1000,
};

/* Devices with TSO: the stacks send packets of many segments, the link
 * cuts them (net/gso.c) and then loses, duplicates and reorders the
 * pieces. */
static const struct sim_link_cfg lossy_tso = {
	.loss_ppm = 100000, .dup_ppm = 20000, .delay_ns = 2 * NS_PER_MS,
	.jitter_ns = 400 * NS_PER_US, .bytes_per_sec = 50 * 1000 * 1000, .tso = true,
};

static void transfer_both_ways(const struct sim_link_cfg *link)
{
	const uint64_t MB4 = 4u << 20;
	setup(1, link);
	client.tx_id = 11;
	client.rx_id = 22;
	client.to_send = MB4;
	client.shutdown_after = true;
	server_proto.tx_id = 22;
	server_proto.rx_id = 11;
	server_proto.to_send = MB4;
	server_proto.shutdown_after = true;
	assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, &client, &client.c),
			 K_OK);
	assert_true(sim_run(&S, both_closed, NULL, 900 * NS_PER_SEC));
	struct ep *sv = &servers[0];
	assert_true(client.connected);
	assert_int_equal(client.received, MB4);
	assert_int_equal(sv->received, MB4);
	assert_false(client.rx_bad);
	assert_false(sv->rx_bad);
	assert_true(client.eof && sv->eof);
	assert_int_equal(client.reason, K_OK);
	assert_int_equal(sv->reason, K_OK);
	/* the link really was hostile, and recovery used SACK */
	assert_true(S.lost > 1000);
	assert_true(S.duped > 100);
	for (int i = 0; i < 2; i++) {
		const struct tcp_stats *t = sim_tcp(&S, i);
		assert_true(t->retransmits > 100);
		assert_true(t->sack_recoveries > 10);
		assert_true(t->ooo_segs > 100);
	}
	/* some retransmissions were lost too, and found without a timeout */
	assert_true(sim_tcp(&S, 0)->lost_retransmits + sim_tcp(&S, 1)->lost_retransmits > 0);
	/* one side closed first, or both FINs crossed (each then waits) */
	uint32_t tw = sim_tcp(&S, 0)->timewait_current + sim_tcp(&S, 1)->timewait_current;
	assert_true(tw == 1 || tw == 2);
	for (int i = 0; i < 2; i++)
		assert_true(link->tso ? S.n[i].tx_tso > 100 : S.n[i].tx_tso == 0);
	finish();
}

static void test_transfer_both_ways_lossy(void **state)
{
	(void)state;
	transfer_both_ways(&lossy);
}

static void test_transfer_both_ways_lossy_tso(void **state)
{
	(void)state;
	transfer_both_ways(&lossy_tso);
}

static void transfer_borrowed(const struct sim_link_cfg *link)
{
	const uint64_t total = 3u << 20;
	setup(2, link);
	big_len = 1u << 20;
	big = malloc(big_len);
	for (size_t i = 0; i < big_len; i++)
		big[i] = sim_pattern(33, i);
	server_proto.borrowed = true;
	server_proto.to_send = total;
	server_proto.shutdown_after = true;
	client.rx_id = 33;
	client.rx_mod = big_len;
	assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, &client, &client.c),
			 K_OK);
	/* the client closes once it has everything and the server's FIN */
	for (int i = 0; i < 1000 && !client.eof; i++)
		sim_run(&S, NULL, NULL, NS_PER_SEC);
	assert_true(client.eof);
	tcp_shutdown(client.c);
	assert_true(sim_run(&S, both_closed, NULL, 300 * NS_PER_SEC));
	/* pattern(33, i) repeats every MiB only if i < big_len; check count */
	assert_int_equal(client.received, total);
	assert_false(client.rx_bad);
	assert_int_equal(servers[0].dones, (unsigned)(total / sizeof chunk));
	assert_true(link->tso ? S.n[1].tx_tso > 100 : S.n[1].tx_tso == 0);
	finish();
	free(big);
}

static void test_transfer_borrowed(void **state)
{
	(void)state;
	transfer_borrowed(&lossy);
}

static void test_transfer_borrowed_tso(void **state)
{
	(void)state;
	transfer_borrowed(&lossy_tso);
}

/* A device whose queue fills (a full ring): the sender holds new data
 * back and tries again instead of counting it sent - on a link that
 * loses nothing, nothing is retransmitted. */
static void test_device_queue_full(void **state)
{
	(void)state;
	static const struct sim_link_cfg slow = {
		.delay_ns = 1 * NS_PER_MS, .bytes_per_sec = 20 * 1000 * 1000, .tx_queue_bytes = 16384,
	};
	const uint64_t total = 4u << 20;
	setup(3, &slow);
	server_proto.to_send = total;
	server_proto.tx_id = 44;
	server_proto.shutdown_after = true;
	client.rx_id = 44;
	assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, &client, &client.c),
			 K_OK);
	for (int i = 0; i < 100 && !client.eof; i++)
		sim_run(&S, NULL, NULL, NS_PER_SEC);
	assert_true(client.eof);
	assert_int_equal(client.received, total);
	assert_false(client.rx_bad);
	assert_true(S.n[1].tx_full > 10);
	assert_int_equal(sim_tcp(&S, 1)->retransmits, 0);
	assert_int_equal(sim_tcp(&S, 1)->rto_timeouts, 0);
	assert_true(sim_tcp(&S, 1)->tx_deferred > 10);
	tcp_shutdown(client.c);
	assert_true(sim_run(&S, both_closed, NULL, 300 * NS_PER_SEC));
	finish();
}

static void test_rto_backoff_and_abort(void **state)
{
	(void)state;
	struct sim_link_cfg l = { .delay_ns = 1 * NS_PER_MS };
	setup(3, &l);
	assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, &client, &client.c),
			 K_OK);
	assert_true(sim_run(&S, client_connected, NULL, NS_PER_SEC));
	S.link.blackhole = true;
	S.record = true;
	client.to_send = 1000;
	pump(&client);
	sim_run(&S, NULL, NULL, 3600 * NS_PER_SEC);
	assert_true(client.closed);
	assert_int_equal(client.reason, K_ETIMEDOUT);
	/* the first send and TCP_DATA_RETRIES retransmissions, each gap double
	 * the last (within a wheel tick) until the 60 s cap */
	struct sim_node *a = &S.n[0];
	assert_int_equal(a->ntx_times, 1 + TCP_DATA_RETRIES);
	uint64_t prev = 0;
	for (unsigned i = 1; i < a->ntx_times; i++) {
		uint64_t gap = a->tx_times[i] - a->tx_times[i - 1];
		assert_true(gap >= TCP_RTO_MIN_NS);
		if (prev) {
			uint64_t want = 2 * prev > TCP_RTO_MAX_NS ? TCP_RTO_MAX_NS : 2 * prev;
			assert_true(gap + 2 * TIMER_TICK_NS >= want && gap <= want + 2 * TIMER_TICK_NS);
		}
		prev = gap;
	}
	assert_true(sim_tcp(&S, 0)->rto_timeouts >= TCP_DATA_RETRIES);
	assert_int_equal(sim_tcp(&S, 0)->timeouts, 1);
	/* B still thinks it is open: abort it to end the test cleanly */
	S.link.blackhole = false;
	tcp_abort(servers[0].c);
	finish();
}

static bool sent_all_blocked(struct sim *s, void *arg)
{
	(void)arg;
	return sim_tcp(s, 0)->window_probes >= 3;
}

static bool client_done(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	return nservers == 1 && servers[0].received == client.to_send;
}

static void test_zero_window_slow_reader(void **state)
{
	(void)state;
	struct sim_link_cfg l = { .delay_ns = 1 * NS_PER_MS, .loss_ppm = 20000 };
	setup(4, &l);
	client.tx_id = 44;
	client.to_send = 1u << 20;
	server_proto.rx_id = 44;
	server_proto.consume_max = 0;           /* reads nothing at first */
	assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, &client, &client.c),
			 K_OK);
	assert_true(sim_run(&S, sent_all_blocked, NULL, 600 * NS_PER_SEC));
	struct ep *sv = &servers[0];
	assert_int_equal(sv->received, 0);
	/* the reader holds at most its window; the writer is stuck on it */
	struct tcp_conn *bc = sv->c;
	assert_true(bc->rx_bytes <= S.n[1].nif.tcp->cfg.rcv_buf);
	assert_true(bc->rx_bytes > 0);
	assert_int_equal(client.c->snd_wnd, 0);
	/* now read slowly: 3000 bytes at a time, every 5 ms */
	sv->consume_max = 3000;
	while (!client_done(&S, NULL)) {
		tcp_recv_resume(sv->c);
		sim_run(&S, NULL, NULL, 5 * NS_PER_MS);
		assert_true(time_now_ns() < 2000 * NS_PER_SEC);
	}
	assert_false(sv->rx_bad);
	tcp_shutdown(client.c);
	sv->consume_max = SIZE_MAX;
	tcp_recv_resume(sv->c);
	sim_run(&S, NULL, NULL, NS_PER_SEC);
	assert_true(sv->eof);
	tcp_shutdown(sv->c);
	assert_true(sim_run(&S, both_closed, NULL, 60 * NS_PER_SEC));
	finish();
}

static bool both_eof(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	return client.connected && nservers == 1;
}

static void test_simultaneous_close(void **state)
{
	(void)state;
	struct sim_link_cfg l = { .delay_ns = 5 * NS_PER_MS };
	setup(5, &l);
	assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, &client, &client.c),
			 K_OK);
	assert_true(sim_run(&S, both_eof, NULL, NS_PER_SEC));
	sim_run(&S, NULL, NULL, 100 * NS_PER_MS);
	/* both FINs leave at the same instant and cross on the link */
	tcp_shutdown(client.c);
	tcp_shutdown(servers[0].c);
	assert_int_equal(client.c->state, TCP_FIN_WAIT_1);
	assert_int_equal(servers[0].c->state, TCP_FIN_WAIT_1);
	sim_run(&S, NULL, NULL, 7 * NS_PER_MS);    /* FINs arrived, ACKs not yet */
	assert_int_equal(client.c->state, TCP_CLOSING);
	assert_int_equal(servers[0].c->state, TCP_CLOSING);
	assert_true(sim_run(&S, both_closed, NULL, NS_PER_SEC));
	assert_int_equal(client.reason, K_OK);
	assert_int_equal(servers[0].reason, K_OK);
	assert_true(client.eof && servers[0].eof);
	/* both closed actively: both keep TIME_WAIT for 2 MSL */
	assert_int_equal(sim_tcp(&S, 0)->timewait_current, 1);
	assert_int_equal(sim_tcp(&S, 1)->timewait_current, 1);
	uint64_t t0 = time_now_ns();
	assert_true(sim_run(&S, no_timewait, NULL, 120 * NS_PER_SEC));
	uint64_t took = time_now_ns() - t0;
	assert_true(took >= 2 * TCP_DEF_MSL_NS - 20 * NS_PER_MS && took <= 2 * TCP_DEF_MSL_NS + NS_PER_SEC);
	finish();
}

#define NPAR 200
static struct ep clients[NPAR];

static bool all_closed(struct sim *s, void *arg)
{
	(void)s;
	(void)arg;
	if (nservers != NPAR)
		return false;
	for (unsigned i = 0; i < NPAR; i++)
		if (!clients[i].closed || !servers[i].closed)
			return false;
	return true;
}

static void test_many_parallel(void **state)
{
	(void)state;
	struct sim_link_cfg l = { .delay_ns = 1 * NS_PER_MS, .loss_ppm = 20000,
				  .jitter_ns = 200 * NS_PER_US, .bytes_per_sec = 100000000 };
	setup(6, &l);
	server_proto.echo = true;
	server_proto.echo_expect = 10000;
	for (unsigned i = 0; i < NPAR; i++) {
		struct ep *e = &clients[i];
		memset(e, 0, sizeof *e);
		e->consume_max = SIZE_MAX;
		e->tx_id = e->rx_id = 1000 + i;
		e->to_send = 10000;
		e->shutdown_after = true;
		assert_int_equal(tcp_connect(&S.n[0].nif, SIM_IP_B, 5001, &handlers, e, &e->c), K_OK);
	}
	assert_int_equal(sim_tcp(&S, 0)->conns_current, NPAR);
	assert_true(sim_run(&S, all_closed, NULL, 300 * NS_PER_SEC));
	/* 200 SYNs at once against a backlog of 64: SYN cookies carried the rest */
	assert_true(sim_tcp(&S, 1)->syncookies_sent > 0);
	assert_true(sim_tcp(&S, 1)->syncookies_ok > 0);
	for (unsigned i = 0; i < NPAR; i++) {
		assert_int_equal(clients[i].received, 10000);
		assert_false(clients[i].rx_bad);
		assert_int_equal(clients[i].reason, K_OK);
		assert_false(servers[i].rx_bad);
	}
	assert_int_equal(sim_tcp(&S, 1)->passive_opens, NPAR);
	assert_int_equal(sim_tcp(&S, 0)->active_opens, NPAR);
	finish();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_transfer_both_ways_lossy),
		cmocka_unit_test(test_transfer_both_ways_lossy_tso),
		cmocka_unit_test(test_transfer_borrowed),
		cmocka_unit_test(test_transfer_borrowed_tso),
		cmocka_unit_test(test_device_queue_full),
		cmocka_unit_test(test_rto_backoff_and_abort),
		cmocka_unit_test(test_zero_window_slow_reader),
		cmocka_unit_test(test_simultaneous_close),
		cmocka_unit_test(test_many_parallel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
