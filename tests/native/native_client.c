/*
 * native_client.c - the Linux side of the native runner's tests: talks
 * to tests/native/natecho over loopback and checks every byte. A plain
 * Linux program, not Kiln code.
 *
 *   native_client echo    PORT BYTES   streams BYTES of pseudo-random data
 *                                      while reading the echo; byte-exact
 *   native_client many    PORT N       N connections open at once, each
 *                                      echoes its own message
 *   native_client bp      PORT BYTES   back-pressure: sends without
 *                                      reading until the sender stalls
 *                                      (the server must stop reading),
 *                                      then reads; every byte comes back
 *   native_client chargen PORT BYTES   reads BYTES of chargen (RFC 864)
 *   native_client udp     PORT         datagrams of 1..65507 bytes echo
 *   native_client exit    PORT N       asks natecho to kiln_exit(N) (UDP)
 *
 * The host is 127.0.0.1. Prints one line with what it measured and
 * exits 0 on success, 1 on a failed check, 2 on bad usage. Every mode
 * gives up after NATIVE_CLIENT_TIMEOUT seconds (default 60).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../rfc864.h"

static struct sockaddr_in peer;
static double deadline;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("native_client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void check_time(void)
{
	if (now() > deadline)
		die("timed out");
}

/* The data: byte i of a stream is a function of i alone. */
static uint8_t stream_byte(uint64_t i)
{
	uint64_t z = (i >> 3) * 0x9e3779b97f4a7c15ull;
	z ^= z >> 29;
	return (uint8_t)(z >> ((i & 7) * 8));
}

static void fill(uint8_t *buf, uint64_t pos, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = stream_byte(pos + i);
}

static int tcp_open(bool nonblock)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0)
		die("connect: %s", strerror(errno));
	if (nonblock)
		fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

/* Sends [sent, total) and reads the echo until everything came back;
 * with stall_first, stops sending until the sender stalls first. */
static void echo_stream(int fd, uint64_t total, bool stall_first, uint64_t *stalled_at)
{
	static uint8_t out[65536], in[65536];
	uint64_t sent = 0, rcvd = 0;
	double last_progress = now();
	bool reading = !stall_first;

	while (rcvd < total) {
		check_time();
		struct pollfd p = { .fd = fd, .events = (short)((sent < total ? POLLOUT : 0) |
								(reading ? POLLIN : 0)) };
		poll(&p, 1, 100);
		if (sent < total && (p.revents & POLLOUT)) {
			size_t n = total - sent < sizeof out ? (size_t)(total - sent) : sizeof out;
			fill(out, sent, n);
			ssize_t k = send(fd, out, n, MSG_NOSIGNAL);
			if (k < 0 && errno != EAGAIN)
				die("send: %s", strerror(errno));
			if (k > 0) {
				sent += (uint64_t)k;
				last_progress = now();
			}
		}
		if (!reading && (sent == total || now() - last_progress > 0.5)) {
			*stalled_at = sent;
			reading = true;
		}
		if (reading && (p.revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t k = recv(fd, in, sizeof in, 0);
			if (k == 0)
				die("connection closed after %llu of %llu bytes",
				    (unsigned long long)rcvd, (unsigned long long)total);
			if (k < 0 && errno != EAGAIN)
				die("recv: %s", strerror(errno));
			for (ssize_t i = 0; i < k; i++)
				if (in[i] != stream_byte(rcvd + (uint64_t)i))
					die("byte %llu differs", (unsigned long long)(rcvd + (uint64_t)i));
			if (k > 0)
				rcvd += (uint64_t)k;
		}
	}
}

static int mode_echo(uint64_t total)
{
	int fd = tcp_open(true);
	double t0 = now();
	uint64_t unused;

	echo_stream(fd, total, false, &unused);
	shutdown(fd, SHUT_WR);
	char b;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	poll(&p, 1, 5000);
	if (recv(fd, &b, 1, 0) != 0)
		die("no FIN after the echo");
	close(fd);
	printf("echo: %llu bytes byte-exact, %.1f MB/s\n", (unsigned long long)total,
	       (double)total / (now() - t0) / 1e6);
	return 0;
}

static int mode_bp(uint64_t total)
{
	int fd = tcp_open(true);
	uint64_t stalled = 0;

	echo_stream(fd, total, true, &stalled);
	close(fd);
	if (stalled >= total)
		die("the sender never stalled: %llu bytes taken without reading",
		    (unsigned long long)total);
	printf("bp: sender stalled after %llu bytes; all %llu came back byte-exact\n",
	       (unsigned long long)stalled, (unsigned long long)total);
	return 0;
}

static int mode_many(unsigned n)
{
	int *fds = calloc(n, sizeof *fds);
	struct rlimit rl;

	if (!fds)
		die("out of memory");
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	for (unsigned i = 0; i < n; i++)
		fds[i] = tcp_open(false);
	for (unsigned i = 0; i < n; i++) {
		char msg[64];
		int len = snprintf(msg, sizeof msg, "connection %u of %u\n", i, n);
		if (send(fds[i], msg, (size_t)len, MSG_NOSIGNAL) != len)
			die("send on connection %u: %s", i, strerror(errno));
	}
	for (unsigned i = 0; i < n; i++) {
		char msg[64], got[64];
		int len = snprintf(msg, sizeof msg, "connection %u of %u\n", i, n), have = 0;
		while (have < len) {
			check_time();
			struct pollfd p = { .fd = fds[i], .events = POLLIN };
			if (poll(&p, 1, 1000) <= 0)
				continue;
			ssize_t k = recv(fds[i], got + have, (size_t)(len - have), 0);
			if (k <= 0)
				die("connection %u: %s", i, k == 0 ? "closed" : strerror(errno));
			have += (int)k;
		}
		if (memcmp(msg, got, (size_t)len) != 0)
			die("connection %u: wrong echo", i);
	}
	for (unsigned i = 0; i < n; i++)
		close(fds[i]);
	free(fds);
	printf("many: %u connections open at once, each echoed\n", n);
	return 0;
}

static int mode_chargen(uint64_t total)
{
	static uint8_t in[65536];
	static uint8_t pattern[RFC864_PERIOD];
	for (unsigned i = 0; i < RFC864_PERIOD; i++)
		pattern[i] = rfc864_byte(i);
	int fd = tcp_open(false);
	uint64_t got = 0;
	double t0 = now();

	while (got < total) {
		check_time();
		ssize_t k = recv(fd, in, sizeof in, 0);
		if (k <= 0)
			die("chargen: %s after %llu bytes", k == 0 ? "closed" : strerror(errno),
			    (unsigned long long)got);
		for (ssize_t i = 0; i < k; i++) {
			if (in[i] != pattern[(got + (uint64_t)i) % RFC864_PERIOD])
				die("chargen byte %llu differs", (unsigned long long)(got + (uint64_t)i));
		}
		got += (uint64_t)k;
	}
	close(fd);
	printf("chargen: %llu borrowed bytes, pattern intact, %.1f MB/s\n",
	       (unsigned long long)total, (double)total / (now() - t0) / 1e6);
	return 0;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	if (connect(fd, (struct sockaddr *)&peer, sizeof peer) < 0)
		die("connect: %s", strerror(errno));
	return fd;
}

static int mode_udp(void)
{
	static const size_t sizes[] = { 1, 2, 100, 1472, 1473, 8000, 32768, 65507 };
	static uint8_t out[65507], in[65536];
	int fd = udp_socket(), count = 0;

	for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
		for (int rep = 0; rep < 4; rep++) {
			size_t n = sizes[s];
			fill(out, (uint64_t)(s * 1000 + (size_t)rep), n);
			bool ok = false;
			for (int attempt = 0; attempt < 5 && !ok; attempt++) {
				check_time();
				if (send(fd, out, n, 0) != (ssize_t)n)
					die("udp send of %zu: %s", n, strerror(errno));
				struct pollfd p = { .fd = fd, .events = POLLIN };
				while (poll(&p, 1, 500) > 0) {
					ssize_t k = recv(fd, in, sizeof in, 0);
					if (k == (ssize_t)n && memcmp(in, out, n) == 0) {
						ok = true;
						break;
					}
				}
			}
			if (!ok)
				die("no echo of a %zu-byte datagram", n);
			count++;
		}
	}
	close(fd);
	printf("udp: %d datagrams of 1..65507 bytes echoed byte-exact\n", count);
	return 0;
}

static int mode_exit(unsigned status)
{
	char msg[16];
	int fd = udp_socket();
	int len = snprintf(msg, sizeof msg, "exit %u", status);

	if (send(fd, msg, (size_t)len, 0) != len)
		die("send: %s", strerror(errno));
	close(fd);
	printf("exit: asked for status %u\n", status);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: native_client echo|many|bp|chargen|udp|exit PORT [N]\n");
		return 2;
	}
	const char *t = getenv("NATIVE_CLIENT_TIMEOUT");
	deadline = now() + (t ? atof(t) : 60.0);
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[2]));
	peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	uint64_t n = argc > 3 ? strtoull(argv[3], NULL, 0) : 0;
	const char *m = argv[1];
	if (!strcmp(m, "echo") && n)
		return mode_echo(n);
	if (!strcmp(m, "bp") && n)
		return mode_bp(n);
	if (!strcmp(m, "many") && n)
		return mode_many((unsigned)n);
	if (!strcmp(m, "chargen") && n)
		return mode_chargen(n);
	if (!strcmp(m, "udp"))
		return mode_udp();
	if (!strcmp(m, "exit"))
		return mode_exit((unsigned)n);
	fprintf(stderr, "native_client: bad mode or count\n");
	return 2;
}
