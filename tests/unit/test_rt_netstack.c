/*
 * test_rt_netstack.c - net/netstack.c on the hosted runtime
 * (platform/hosted/runtime/: timer wheel, loop, tasks), on a virtual
 * clock: attaching a device carves the pools and creates the default
 * interface; without ip= the DHCP client's DISCOVER goes out from the
 * interface's timer as the loop runs; net_up() in a task waits and times
 * out, net_on_up() defers; with ip=/gw= from the command line the
 * interface comes up at attach and both report at once; the timer is
 * re-armed when traffic creates an earlier deadline (an ARP request's
 * retry); and hosted tasks sleep, wait and wake on the virtual clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/cmdline.h>
#include <kiln/kiln.h>
#include <kiln/net.h>

#include "hosted.h"
#include "hosted_rt.h"
#include "net/net_priv.h"
#include "net/netstack.h"
#include "net/wire/dhcp.h"

#define T0 (500 * NS_PER_SEC)

struct rec_dev {
	struct netdev dev;
	unsigned ntx, dhcp_tx, arp_tx;
};

static int rec_xmit(struct netdev *dev, struct nbuf *nb)
{
	struct rec_dev *r = dev->priv;
	uint8_t h[38];
	r->ntx++;
	if (nbuf_copy_out(nb, 0, h, sizeof h) == K_OK) {
		if (h[12] == 0x08 && h[13] == 0x06)
			r->arp_tx++;
		if (h[12] == 0x08 && h[13] == 0x00 && h[23] == 17 && h[36] == 0 && h[37] == 67)
			r->dhcp_tx++;
	}
	nbuf_free(nb);
	return K_OK;
}

static const struct netdev_ops rec_ops = { .xmit = rec_xmit };

static void rec_init(struct rec_dev *r, uint8_t last)
{
	memset(r, 0, sizeof *r);
	r->dev.ops = &rec_ops;
	r->dev.priv = r;
	r->dev.name = "rec";
	r->dev.mtu = 1500;
	uint8_t mac[6] = { 2, 0, 0, 0, 0, last };
	memcpy(r->dev.mac, mac, 6);
}

static void run_until(uint64_t t)
{
	for (int i = 0; i < 100000 && time_now_ns() < t; i++) {
		loop_once();
		hosted_clock_advance(NS_PER_MS);
	}
	loop_once();
}

static int up_calls;
static struct net_if *up_nif;
static void on_up(struct net_if *nif, void *arg)
{
	(void)arg;
	up_calls++;
	up_nif = nif;
}

static int waiter_result = 1;
static void waiter(void *arg)
{
	waiter_result = net_up((uint64_t)(uintptr_t)arg);
}

static struct event ev;
static int sleeper_stage, sleeper_wait;
static void sleeper(void *arg)
{
	(void)arg;
	sleeper_stage = 1;
	task_sleep_ns(50 * NS_PER_MS);
	sleeper_stage = 2;
	sleeper_wait = event_wait(&ev, 100 * NS_PER_MS);
	sleeper_stage = 3;
	sleeper_wait = event_wait(&ev, 0);
	sleeper_stage = 4;
}

static void test_tasks_on_virtual_clock(void **state)
{
	(void)state;
	/* no interface yet: net_up() says so at once */
	assert_non_null(task_spawn(waiter, (void *)(uintptr_t)NS_PER_SEC, 0, "w"));
	loop_once();
	assert_int_equal(waiter_result, K_ENODEV);
	/* sleeping and event timeouts on the virtual clock */
	assert_non_null(task_spawn(sleeper, NULL, 0, "s"));
	uint64_t start = time_now_ns();
	run_until(start + 10 * NS_PER_MS);
	assert_int_equal(sleeper_stage, 1);          /* asleep for 50 ms */
	run_until(start + 60 * NS_PER_MS);
	assert_int_equal(sleeper_stage, 2);          /* waiting for ev, 100 ms */
	run_until(start + 200 * NS_PER_MS);
	assert_int_equal(sleeper_stage, 3);
	assert_int_equal(sleeper_wait, K_ETIMEDOUT);
	event_signal(&ev);                           /* the second wait: no limit */
	loop_once();
	assert_int_equal(sleeper_stage, 4);
	assert_int_equal(sleeper_wait, K_OK);
	struct task_stats ts;
	task_get_stats(&ts);
	assert_int_equal(ts.live, 0);
	struct loop_stats ls;
	loop_get_stats(0, &ls);
	assert_true(ls.tasks_run >= 4 && ls.timers_fired >= 2);
}

static void test_dhcp_from_the_loop(void **state)
{
	(void)state;
	static struct rec_dev r;
	rec_init(&r, 1);
	uint64_t base = time_now_ns();
	assert_int_equal(netstack_attach(&r.dev), K_OK);
	assert_int_equal(netstack_attach(&r.dev), K_EBUSY);
	struct net_if *nif = net_if_default();
	assert_ptr_equal(nif, r.dev.nif);
	assert_true(nif->pool->count >= 1024);
	assert_true(nif->refs->count >= 1024);
	assert_int_equal(nif->addr, 0);

	struct net_dhcp_info di;
	assert_int_equal(net_dhcp_info(NULL, &di), K_OK);
	assert_true(di.active);
	assert_false(di.bound);

	/* loop code asks to hear of "up"; a task waits with a 2 s limit */
	assert_int_equal(net_on_up(on_up, NULL), K_OK);
	assert_int_equal(up_calls, 0);
	waiter_result = 1;
	assert_non_null(task_spawn(waiter, (void *)(uintptr_t)(2 * NS_PER_SEC), 0, "w"));
	/* the first DISCOVER goes out from the interface's timer */
	run_until(base + 10 * NS_PER_MS);
	assert_int_equal(r.dhcp_tx, 1);
	assert_int_equal(net_up(0), K_EAGAIN);       /* outside a task: cannot wait */
	run_until(base + 3 * NS_PER_SEC);
	assert_int_equal(waiter_result, K_ETIMEDOUT);
	/* the retransmission (4 s +- 1 s) comes from the same timer */
	run_until(base + 6 * NS_PER_SEC);
	assert_int_equal(r.dhcp_tx, 2);
	assert_int_equal(up_calls, 0);

	/* the app configures the address itself: the poller sees it, wakes
	 * the waiting task and runs the pending callback */
	waiter_result = 1;
	assert_non_null(task_spawn(waiter, NULL, 0, "w"));
	loop_once();
	assert_int_equal(waiter_result, 1);          /* waiting */
	struct net_if_config c = { .addr = NET_IP4(10, 0, 0, 2), .prefix = 24 };
	assert_int_equal(net_if_configure(nif, &c), K_OK);
	loop_once();
	loop_once();
	assert_int_equal(waiter_result, K_OK);
	assert_int_equal(up_calls, 1);
	assert_ptr_equal(up_nif, nif);
	/* once up, net_on_up() calls back at once */
	assert_int_equal(net_on_up(on_up, NULL), K_OK);
	assert_int_equal(up_calls, 2);
	struct task_stats ts;
	task_get_stats(&ts);
	assert_int_equal(ts.live, 0);

	/* traffic creates an earlier deadline: a UDP send to an unknown
	 * neighbour sends ARP, whose retry the poller's re-arm catches */
	static struct udp_pcb pcb;
	assert_int_equal(udp_bind(&pcb, nif, 0, NULL, NULL), K_OK);
	unsigned arp0 = r.arp_tx;
	assert_int_equal(udp_sendto(&pcb, NET_IP4(10, 0, 0, 9), 9, "x", 1), K_OK);
	assert_int_equal(r.arp_tx, arp0 + 1);
	uint64_t now = time_now_ns();
	run_until(now + 1100 * NS_PER_MS);
	assert_int_equal(r.arp_tx, arp0 + 2);       /* retried after 1 s */
	udp_unbind(&pcb);
}

int main(void)
{
	hosted_clock_virtual(T0);
	random_set_test_seed(7);
	log_set_level(LOG_ERROR);
	size_t arena = 32u << 20;
	uint8_t *mem = aligned_alloc(2u << 20, arena);
	page_add_range((uintptr_t)mem, arena);
	hosted_rt_init();
	event_init(&ev);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tasks_on_virtual_clock),
		cmocka_unit_test(test_dhcp_from_the_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
