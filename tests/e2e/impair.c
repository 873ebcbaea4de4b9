/*
 * impair.c - a user-space stand-in for `tc qdisc ... netem` on kernels
 * built without sch_netem: it carries Ethernet frames between a TAP
 * device (the Linux side, which holds the peer's address) and QEMU's
 * UDP socket backend (`-netdev socket,udp=...,localaddr=...`), and
 * impairs them the way netem does.
 *
 * This is an ordinary Linux program built by tests/e2e/run.sh; it is not
 * Kiln code.
 *
 *   impair TAPNAME LOCALPORT QEMUPORT LOSS% REORDER% DUP% DELAYMS [DIR] [SEED]
 *
 * LOCALPORT is where this program receives QEMU's frames (127.0.0.1),
 * QEMUPORT where QEMU listens. DIR is "both" (default), "to-guest" or
 * "to-linux": which directions are impaired. Per impaired frame, as netem
 * does it: dropped with probability LOSS; otherwise sent twice with
 * probability DUP; sent at once with probability REORDER (so it overtakes
 * the frames before it), else held back DELAYMS. Runs until SIGTERM or
 * SIGINT, then prints its counters to stderr. IMPAIR_TRACE=N logs the
 * first N frames (addresses and type) to stderr.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define SLOT_SIZE 9216          /* largest frame carried (no offloads here) */
#define QUEUE_LEN 4096          /* held-back frames per direction */

struct held {
	uint64_t due_ns;
	uint16_t len;
	uint8_t data[SLOT_SIZE];
};

struct dir {
	const char *name;
	int impaired;
	struct held *q;          /* FIFO ring: every frame has the same delay */
	unsigned head, count;
	uint64_t in, dropped, duplicated, reordered, delayed, overflow, out;
};

static volatile sig_atomic_t stop;
static int tap_fd, udp_fd;
static struct sockaddr_in qemu_addr;
static double p_loss, p_reorder, p_dup;
static uint64_t delay_ns;
static uint64_t rng;
static long trace;              /* IMPAIR_TRACE=N: log the first N frames */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double uniform(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (double)((rng * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static void emit(struct dir *d, const uint8_t *data, size_t len, int to_guest)
{
	ssize_t n;
	if (to_guest)
		n = sendto(udp_fd, data, len, 0, (struct sockaddr *)&qemu_addr, sizeof(qemu_addr));
	else
		n = write(tap_fd, data, len);
	if (n == (ssize_t)len)
		d->out++;
}

static void hold(struct dir *d, const uint8_t *data, size_t len, uint64_t due)
{
	if (d->count == QUEUE_LEN) {
		d->overflow++;
		return;
	}
	struct held *h = &d->q[(d->head + d->count) % QUEUE_LEN];
	h->due_ns = due;
	h->len = (uint16_t)len;
	memcpy(h->data, data, len);
	d->count++;
}

static void frame(struct dir *d, const uint8_t *data, size_t len, int to_guest)
{
	d->in++;
	if (trace > 0 && len >= 14) {
		trace--;
		fprintf(stderr, "impair: %s %zu bytes %02x:%02x:%02x:%02x:%02x:%02x -> "
			"%02x:%02x:%02x:%02x:%02x:%02x type %02x%02x\n", d->name, len,
			data[6], data[7], data[8], data[9], data[10], data[11],
			data[0], data[1], data[2], data[3], data[4], data[5], data[12], data[13]);
	}
	if (len > SLOT_SIZE) {
		d->overflow++;
		return;
	}
	if (!d->impaired) {
		emit(d, data, len, to_guest);
		return;
	}
	if (uniform() < p_loss) {
		d->dropped++;
		return;
	}
	int copies = 1;
	if (uniform() < p_dup) {
		d->duplicated++;
		copies = 2;
	}
	for (int c = 0; c < copies; c++) {
		if (delay_ns == 0 || uniform() < p_reorder) {
			if (delay_ns)
				d->reordered++;
			emit(d, data, len, to_guest);
		} else {
			d->delayed++;
			hold(d, data, len, now_ns() + delay_ns);
		}
	}
}

/* Sends what is due; returns ms until the next frame is (-1: none held). */
static int release(struct dir *d, int to_guest)
{
	uint64_t t = now_ns();
	while (d->count) {
		struct held *h = &d->q[d->head];
		if (h->due_ns > t)
			return (int)((h->due_ns - t + 999999) / 1000000);
		emit(d, h->data, h->len, to_guest);
		d->head = (d->head + 1) % QUEUE_LEN;
		d->count--;
	}
	return -1;
}

static int min_timeout(int a, int b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void report(const struct dir *d)
{
	fprintf(stderr,
		"impair: %s: %llu frames in, %llu out, %llu dropped, %llu duplicated, "
		"%llu sent early (reordered), %llu delayed, %llu overflowed\n",
		d->name, (unsigned long long)d->in, (unsigned long long)d->out,
		(unsigned long long)d->dropped, (unsigned long long)d->duplicated,
		(unsigned long long)d->reordered, (unsigned long long)d->delayed,
		(unsigned long long)d->overflow);
}

int main(int argc, char **argv)
{
	if (argc < 8) {
		fprintf(stderr, "usage: impair TAP LOCALPORT QEMUPORT LOSS%% REORDER%% DUP%% "
				"DELAYMS [both|to-guest|to-linux] [SEED]\n");
		return 2;
	}
	const char *tap = argv[1];
	p_loss = atof(argv[4]) / 100;
	p_reorder = atof(argv[5]) / 100;
	p_dup = atof(argv[6]) / 100;
	delay_ns = (uint64_t)(atof(argv[7]) * 1e6);
	const char *which = argc > 8 ? argv[8] : "both";
	trace = getenv("IMPAIR_TRACE") ? atol(getenv("IMPAIR_TRACE")) : 0;
	rng = argc > 9 ? strtoull(argv[9], NULL, 0) : (now_ns() | 1);

	static struct dir to_guest = { .name = "Linux->guest" };
	static struct dir to_linux = { .name = "guest->Linux" };
	to_guest.impaired = strcmp(which, "to-linux") != 0;
	to_linux.impaired = strcmp(which, "to-guest") != 0;
	to_guest.q = calloc(QUEUE_LEN, sizeof(struct held));
	to_linux.q = calloc(QUEUE_LEN, sizeof(struct held));
	if (!to_guest.q || !to_linux.q) {
		fprintf(stderr, "impair: out of memory\n");
		return 1;
	}

	tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", tap);
	if (tap_fd < 0 || ioctl(tap_fd, TUNSETIFF, &ifr) < 0) {
		fprintf(stderr, "impair: cannot open TAP %s: %s\n", tap, strerror(errno));
		return 1;
	}
	/* Frames are carried without a virtio-net header, so Linux must send
	 * them with complete checksums and no GSO. A persistent TAP keeps the
	 * offloads an earlier user (QEMU) turned on: turn them off. */
	if (ioctl(tap_fd, TUNSETOFFLOAD, 0) < 0) {
		fprintf(stderr, "impair: TUNSETOFFLOAD on %s: %s\n", tap, strerror(errno));
		return 1;
	}
	udp_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in local = { .sin_family = AF_INET,
				     .sin_port = htons((uint16_t)atoi(argv[2])),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	qemu_addr = local;
	qemu_addr.sin_port = htons((uint16_t)atoi(argv[3]));
	int big = 4 << 20;
	setsockopt(udp_fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	setsockopt(udp_fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (udp_fd < 0 || bind(udp_fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		fprintf(stderr, "impair: cannot bind 127.0.0.1:%s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	fprintf(stderr,
		"impair: %s <-> udp %s/%s: loss %.1f%% reorder %.1f%% duplicate %.1f%% "
		"delay %.1f ms, impairing %s\n",
		tap, argv[2], argv[3], p_loss * 100, p_reorder * 100, p_dup * 100,
		(double)delay_ns / 1e6, which);

	static uint8_t buf[65536];
	while (!stop) {
		int t = min_timeout(release(&to_guest, 1), release(&to_linux, 0));
		struct pollfd p[2] = { { .fd = tap_fd, .events = POLLIN },
				       { .fd = udp_fd, .events = POLLIN } };
		int r = poll(p, 2, t < 0 ? 200 : t);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			perror("impair: poll");
			return 1;
		}
		/* a bounded batch per wake-up keeps both directions moving */
		for (int i = 0; i < 64 && (p[0].revents & POLLIN); i++) {
			ssize_t n = read(tap_fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			frame(&to_guest, buf, (size_t)n, 1);
			struct pollfd q = { .fd = tap_fd, .events = POLLIN };
			if (poll(&q, 1, 0) <= 0)
				break;
		}
		for (int i = 0; i < 64 && (p[1].revents & POLLIN); i++) {
			ssize_t n = recv(udp_fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n <= 0)
				break;
			frame(&to_linux, buf, (size_t)n, 0);
		}
	}
	report(&to_guest);
	report(&to_linux);
	return 0;
}
