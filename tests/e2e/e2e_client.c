/*
 * e2e_client.c - the Linux side of the end-to-end tests: a small client
 * that talks to apps/echo over a real Linux socket and checks every byte.
 *
 * This is an ordinary Linux program (libc, BearSSL's SHA-256), built by
 * tests/e2e/run.sh with the host compiler; it is not Kiln code.
 *
 *   e2e_client udp     HOST PORT           datagrams of many sizes (some
 *                                          fragmented) come back byte-exact
 *   e2e_client refused HOST PORT           a connect is refused (RST), after
 *                                          one to port 7 was accepted
 *   e2e_client echo    HOST PORT BYTES     streams BYTES of pseudo-random
 *                                          data while reading the echo
 *                                          concurrently; sha256 out == in
 *   e2e_client sink    HOST PORT BYTES     sends BYTES to discard; MB/s
 *   e2e_client source  HOST PORT BYTES     reads BYTES of chargen, checks
 *                                          the RFC 864 pattern; MB/s
 *   e2e_client many    HOST PORT N         N connections open at once,
 *                                          each exchanges one message
 *
 * Every mode prints what it measured on one line and exits 0 on success,
 * 1 on a failed check (with the reason on stderr), 2 on bad usage.
 * E2E_TIMEOUT (seconds, default 300) bounds every mode; a transfer that
 * makes no progress for E2E_STALL seconds (default 60) fails early.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <bearssl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../rfc864.h"

static struct sockaddr_in peer;
static double deadline;       /* absolute, seconds */
static double stall_limit;

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
	fputs("e2e_client: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static int remaining_ms(void)
{
	double left = deadline - now();
	if (left <= 0)
		return 0;
	return left > 1.0 ? 1000 : (int)(left * 1000) + 1;
}

/* ---- the data: a pseudo-random stream anyone can regenerate ----------- */

struct prng {
	uint64_t s;
};

static void prng_fill(struct prng *p, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* xorshift64*, one byte per step: plenty for a test pattern */
		p->s ^= p->s >> 12;
		p->s ^= p->s << 25;
		p->s ^= p->s >> 27;
		buf[i] = (uint8_t)((p->s * 0x2545F4914F6CDD1DULL) >> 56);
	}
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* ---- TCP helpers ------------------------------------------------------ */

static int tcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	return fd;
}

/* Connects fd (non-blocking) and waits for the result. Returns 0 or errno. */
static int tcp_connect_wait(int fd, double limit_s)
{
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) == 0)
		return 0;
	if (errno != EINPROGRESS)
		return errno;
	double end = now() + limit_s;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int left = (int)((end - now()) * 1000);
		if (left <= 0)
			return ETIMEDOUT;
		int r = poll(&p, 1, left);
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		if (r > 0) {
			int err = 0;
			socklen_t len = sizeof(err);
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
			return err;
		}
	}
}

static int tcp_open(void)
{
	int fd = tcp_socket();
	int err = tcp_connect_wait(fd, 30);
	if (err)
		die("connect to %s:%u: %s", inet_ntoa(peer.sin_addr), ntohs(peer.sin_port),
		    strerror(err));
	return fd;
}

#define CHUNK (256 * 1024)

/* ---- modes ------------------------------------------------------------- */

/* Streams `total` bytes and reads the echo at the same time. */
static int mode_echo(uint64_t total)
{
	static uint8_t out[CHUNK], in[CHUNK];
	int fd = tcp_open();
	struct prng gen = { 0x6b696c6e2d653265ULL };    /* "kiln-e2e" */
	struct prng chk = gen;
	br_sha256_context h_out, h_in;
	br_sha256_init(&h_out);
	br_sha256_init(&h_in);
	uint64_t sent = 0, rcvd = 0;
	size_t out_len = 0, out_off = 0;
	bool shut = false, mismatch_reported = false;
	uint64_t first_bad = UINT64_MAX;
	double t0 = now(), last_progress = t0;

	while (rcvd < total || !shut) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (sent < total)
			p.events |= POLLOUT;
		int r = poll(&p, 1, remaining_ms());
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		double t = now();
		if (t >= deadline || t - last_progress > stall_limit)
			die("echo: %s after %.1f s: sent %llu, received %llu of %llu bytes",
			    t >= deadline ? "timed out" : "stalled", t - t0,
			    (unsigned long long)sent, (unsigned long long)rcvd,
			    (unsigned long long)total);
		if (p.revents & (POLLOUT | POLLERR)) {
			if (out_off == out_len && sent < total) {
				out_len = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
				prng_fill(&gen, out, out_len);
				br_sha256_update(&h_out, out, out_len);
				out_off = 0;
			}
			if (out_off < out_len) {
				ssize_t n = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
				if (n < 0 && errno != EAGAIN && errno != EINTR)
					die("echo: send after %llu bytes: %s",
					    (unsigned long long)sent, strerror(errno));
				if (n > 0) {
					out_off += (size_t)n;
					sent += (uint64_t)n;
					last_progress = t;
				}
			}
		}
		if (sent == total && !shut) {
			shutdown(fd, SHUT_WR);
			shut = true;
		}
		if (p.revents & (POLLIN | POLLERR | POLLHUP)) {
			ssize_t n = recv(fd, in, sizeof(in), 0);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("echo: recv after %llu bytes: %s",
				    (unsigned long long)rcvd, strerror(errno));
			if (n == 0) {
				if (rcvd < total || !shut)
					die("echo: peer closed after %llu of %llu bytes",
					    (unsigned long long)rcvd, (unsigned long long)total);
				break;
			}
			if (n > 0) {
				if (rcvd + (uint64_t)n > total)
					die("echo: received more than was sent (%llu > %llu)",
					    (unsigned long long)(rcvd + (uint64_t)n),
					    (unsigned long long)total);
				/* compare with the regenerated stream as we go */
				static uint8_t want[CHUNK];
				prng_fill(&chk, want, (size_t)n);
				if (first_bad == UINT64_MAX && memcmp(want, in, (size_t)n) != 0) {
					for (ssize_t i = 0; i < n; i++)
						if (want[i] != in[i]) {
							first_bad = rcvd + (uint64_t)i;
							break;
						}
				}
				br_sha256_update(&h_in, in, (size_t)n);
				rcvd += (uint64_t)n;
				last_progress = t;
			}
		}
	}
	/* wait for the server's FIN so the close is orderly */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0)
			break;
		ssize_t n = recv(fd, in, sizeof(in), 0);
		if (n > 0)
			die("echo: %zd bytes more than were sent", n);
		if (n <= 0 && !(n < 0 && errno == EAGAIN))
			break;
	}
	double secs = now() - t0;
	close(fd);
	uint8_t d_out[32], d_in[32];
	char s_out[65], s_in[65];
	br_sha256_out(&h_out, d_out);
	br_sha256_out(&h_in, d_in);
	hex(d_out, 32, s_out);
	hex(d_in, 32, s_in);
	printf("echo: %llu bytes each way in %.2f s (%.2f MB/s each way), sha256 out %s in %s\n",
	       (unsigned long long)total, secs, (double)total / 1e6 / secs, s_out, s_in);
	if (memcmp(d_out, d_in, 32) != 0 || first_bad != UINT64_MAX) {
		if (!mismatch_reported)
			fprintf(stderr, "e2e_client: echo: data differs, first bad byte at %llu\n",
				(unsigned long long)first_bad);
		return 1;
	}
	return 0;
}

/* Sends `total` bytes to discard, then waits for the server to close. */
static int mode_sink(uint64_t total)
{
	static uint8_t out[CHUNK];
	struct prng gen = { 0x646973636172640aULL };
	prng_fill(&gen, out, sizeof(out));
	int fd = tcp_open();
	uint64_t sent = 0;
	double t0 = now(), last_progress = t0;
	while (sent < total) {
		struct pollfd p = { .fd = fd, .events = POLLOUT };
		int r = poll(&p, 1, remaining_ms());
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		double t = now();
		if (t >= deadline || t - last_progress > stall_limit)
			die("sink: stalled or timed out after %llu of %llu bytes",
			    (unsigned long long)sent, (unsigned long long)total);
		if (r <= 0)
			continue;
		size_t n = total - sent < CHUNK ? (size_t)(total - sent) : CHUNK;
		ssize_t w = send(fd, out, n, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			die("sink: send after %llu bytes: %s", (unsigned long long)sent,
			    strerror(errno));
		if (w > 0) {
			sent += (uint64_t)w;
			last_progress = t;
		}
	}
	shutdown(fd, SHUT_WR);
	/* All bytes are only known to have arrived when the server closes. */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, remaining_ms());
		if (now() >= deadline)
			die("sink: the server did not close after %llu bytes",
			    (unsigned long long)sent);
		if (r <= 0)
			continue;
		char c;
		ssize_t n = recv(fd, &c, 1, 0);
		if (n == 0)
			break;
		if (n > 0)
			die("sink: discard sent data back");
		if (errno != EAGAIN && errno != EINTR)
			die("sink: %s while waiting for the close", strerror(errno));
	}
	double secs = now() - t0;
	close(fd);
	printf("sink: %llu bytes Linux->Kiln in %.2f s = %.2f MB/s\n",
	       (unsigned long long)total, secs, (double)total / 1e6 / secs);
	return 0;
}

/* Reads `total` bytes from chargen and checks every one. */
static int mode_source(uint64_t total)
{
	static uint8_t in[CHUNK];
	static uint8_t pattern[RFC864_PERIOD];
	for (unsigned i = 0; i < RFC864_PERIOD; i++)
		pattern[i] = rfc864_byte(i);
	int fd = tcp_open();
	uint64_t rcvd = 0;
	double t0 = now(), last_progress = t0;
	while (rcvd < total) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, remaining_ms());
		if (r < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
		double t = now();
		if (t >= deadline || t - last_progress > stall_limit)
			die("source: stalled or timed out after %llu of %llu bytes",
			    (unsigned long long)rcvd, (unsigned long long)total);
		if (r <= 0)
			continue;
		size_t want = total - rcvd < CHUNK ? (size_t)(total - rcvd) : CHUNK;
		ssize_t n = recv(fd, in, want, 0);
		if (n == 0)
			die("source: chargen closed after %llu bytes", (unsigned long long)rcvd);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("source: recv after %llu bytes: %s", (unsigned long long)rcvd,
			    strerror(errno));
		}
		for (ssize_t i = 0; i < n; i++)
			if (in[i] != pattern[(rcvd + (uint64_t)i) % RFC864_PERIOD])
				die("source: byte %llu is 0x%02x, the pattern says 0x%02x",
				    (unsigned long long)(rcvd + (uint64_t)i), in[i],
				    pattern[(rcvd + (uint64_t)i) % RFC864_PERIOD]);
		rcvd += (uint64_t)n;
		last_progress = t;
	}
	double secs = now() - t0;
	close(fd);
	printf("source: %llu bytes Kiln->Linux in %.2f s = %.2f MB/s, RFC 864 pattern intact\n",
	       (unsigned long long)total, secs, (double)total / 1e6 / secs);
	return 0;
}

/* A connect to a closed port is refused. A connect to the echo port first
 * proves TCP itself answers, so the refusal is TCP's RST and not an ICMP
 * protocol-unreachable from a stack without TCP (Linux reports both as
 * ECONNREFUSED). */
static int mode_refused(void)
{
	struct sockaddr_in closed = peer;
	peer.sin_port = htons(7);
	int fd = tcp_socket();
	int err = tcp_connect_wait(fd, 10);
	close(fd);
	if (err)
		die("refused: the echo port does not accept (%s), so TCP is not answering",
		    strerror(err));
	peer = closed;
	fd = tcp_socket();
	err = tcp_connect_wait(fd, 10);
	close(fd);
	if (err == ECONNREFUSED) {
		printf("refused: connect to port %u refused (RST)\n", ntohs(peer.sin_port));
		return 0;
	}
	die("refused: connect to port %u: %s, want connection refused", ntohs(peer.sin_port),
	    err ? strerror(err) : "connected");
}

/* N connections, all open at once; each sends one message and reads it back. */
struct conn {
	int fd;
	int state;          /* 0 connecting, 1 echoing, 2 done */
	size_t sent, rcvd;
	char msg[48];
	size_t len;
	char buf[48];
};

static int mode_many(unsigned n)
{
	struct rlimit rl = { n + 64, n + 64 };
	struct rlimit cur;
	getrlimit(RLIMIT_NOFILE, &cur);
	if (cur.rlim_cur < rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &rl) != 0)
		die("many: cannot raise the open-file limit to %llu", (unsigned long long)rl.rlim_cur);
	struct conn *c = calloc(n, sizeof(*c));
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (!c || ep < 0)
		die("many: out of memory");
	double t0 = now();
	unsigned done = 0, established = 0, max_open = 0, open = 0;
	for (unsigned i = 0; i < n; i++) {
		c[i].fd = tcp_socket();
		c[i].len = (size_t)snprintf(c[i].msg, sizeof(c[i].msg), "kiln-e2e connection %u\n", i);
		if (connect(c[i].fd, (struct sockaddr *)&peer, sizeof(peer)) < 0 &&
		    errno != EINPROGRESS)
			die("many: connect %u: %s", i, strerror(errno));
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.u32 = i };
		epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &ev);
		open++;
	}
	max_open = open;
	struct epoll_event evs[256];
	while (done < n) {
		int k = epoll_wait(ep, evs, 256, remaining_ms());
		if (now() >= deadline) {
			unsigned connecting = 0;
			for (unsigned i = 0; i < n; i++)
				connecting += c[i].state == 0;
			die("many: timed out: %u of %u exchanged, %u still connecting", done, n,
			    connecting);
		}
		for (int e = 0; e < k; e++) {
			struct conn *x = &c[evs[e].data.u32];
			if (x->state == 2)
				continue;
			if (x->state == 0) {
				int err = 0;
				socklen_t len = sizeof(err);
				getsockopt(x->fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err)
					die("many: connection %u: %s", evs[e].data.u32, strerror(err));
				x->state = 1;
				established++;
			}
			if (x->sent < x->len) {
				ssize_t w = send(x->fd, x->msg + x->sent, x->len - x->sent, MSG_NOSIGNAL);
				if (w > 0)
					x->sent += (size_t)w;
				else if (w < 0 && errno != EAGAIN)
					die("many: send %u: %s", evs[e].data.u32, strerror(errno));
				if (x->sent == x->len) {
					struct epoll_event ev = { .events = EPOLLIN, .data.u32 = evs[e].data.u32 };
					epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &ev);
				}
			}
			if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				ssize_t r = recv(x->fd, x->buf + x->rcvd, sizeof(x->buf) - x->rcvd, 0);
				if (r == 0)
					die("many: connection %u closed early", evs[e].data.u32);
				if (r < 0 && errno != EAGAIN)
					die("many: recv %u: %s", evs[e].data.u32, strerror(errno));
				if (r > 0)
					x->rcvd += (size_t)r;
				if (x->rcvd > x->len ||
				    (x->rcvd == x->len && memcmp(x->buf, x->msg, x->len) != 0))
					die("many: connection %u got a different message back",
					    evs[e].data.u32);
				if (x->rcvd == x->len) {
					x->state = 2;
					done++;
					epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
				}
			}
		}
	}
	/* every connection stayed open until all had exchanged their message */
	double secs = now() - t0;
	for (unsigned i = 0; i < n; i++)
		close(c[i].fd);
	printf("many: %u connections open at once, %u messages echoed in %.2f s\n", max_open,
	       done, secs);
	free(c);
	close(ep);
	return 0;
}

static int mode_udp(void)
{
	static const size_t sizes[] = { 1, 18, 64, 512, 1000, 1472, 1473, 2000, 4000, 8192,
					16000, 65507 };
	static uint8_t out[65507], in[65536];
	struct prng gen = { 0x7564702d6563686fULL };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		die("udp: socket/connect: %s", strerror(errno));
	unsigned ok = 0, retries = 0;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		size_t len = sizes[s];
		prng_fill(&gen, out, len);
		bool got = false;
		for (int attempt = 0; attempt < 3 && !got; attempt++) {
			if (attempt)
				retries++;
			if (send(fd, out, len, 0) != (ssize_t)len)
				die("udp: send %zu bytes: %s", len, strerror(errno));
			double end = now() + 2;
			while (!got && now() < end) {
				struct pollfd p = { .fd = fd, .events = POLLIN };
				if (poll(&p, 1, (int)((end - now()) * 1000) + 1) <= 0)
					continue;
				ssize_t n = recv(fd, in, sizeof(in), 0);
				if (n < 0) {
					if (errno == ECONNREFUSED)
						die("udp: port unreachable");
					continue;
				}
				if ((size_t)n == len && memcmp(in, out, len) == 0)
					got = true;
				else if ((size_t)n != len)
					die("udp: sent %zu bytes, got %zd back", len, n);
				else
					die("udp: %zu-byte datagram came back changed", len);
			}
		}
		if (!got)
			die("udp: no echo of a %zu-byte datagram after 3 tries", len);
		ok++;
	}
	close(fd);
	printf("udp: %u datagrams of 1..65507 bytes echoed byte-exact (%u resends)\n", ok, retries);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: e2e_client udp|refused|echo|sink|source|many HOST PORT [N]\n");
		return 2;
	}
	const char *e = getenv("E2E_TIMEOUT");
	deadline = now() + (e ? atof(e) : 300);
	e = getenv("E2E_STALL");
	stall_limit = e ? atof(e) : 60;
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[3]));
	if (inet_pton(AF_INET, argv[2], &peer.sin_addr) != 1) {
		fprintf(stderr, "e2e_client: bad address %s\n", argv[2]);
		return 2;
	}
	const char *m = argv[1];
	uint64_t n = argc > 4 ? strtoull(argv[4], NULL, 0) : 0;
	if (!strcmp(m, "udp"))
		return mode_udp();
	if (!strcmp(m, "refused"))
		return mode_refused();
	if (argc < 5 || n == 0) {
		fprintf(stderr, "e2e_client: %s needs a count\n", m);
		return 2;
	}
	if (!strcmp(m, "echo"))
		return mode_echo(n);
	if (!strcmp(m, "sink"))
		return mode_sink(n);
	if (!strcmp(m, "source"))
		return mode_source(n);
	if (!strcmp(m, "many"))
		return mode_many((unsigned)n);
	fprintf(stderr, "e2e_client: unknown mode %s\n", m);
	return 2;
}
