/*
 * udpload.c - UDP echo load generator of Kiln's benchmark: measures how
 * many datagrams per second a server echoes back (RFC 862 echo, port 7).
 *
 *   udpload [-d SECONDS] [-s BYTES] [-w WINDOW] [-p PORT] ADDR
 *
 * It keeps WINDOW datagrams in flight on one connected socket: it sends
 * until WINDOW are outstanding, then sends one more for every echo that
 * comes back (sendmmsg/recvmmsg in batches). When nothing comes back for
 * LOSS_WAIT_MS it counts the outstanding ones as lost and refills the
 * window, so a server that drops under load is measured, not stalled on.
 * Each datagram carries a magic number and a sequence number; echoes that
 * do not carry the magic are counted as bad, not as echoed.
 *
 * Output, one line (bench/run.pl parses it):
 *   udpload: sent N echoed N lost N bad N in S s: R pkt/s
 * Exit status 0 when at least one echo came back, 1 otherwise, 2 on usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64            /* datagrams per sendmmsg/recvmmsg */
#define MAX_SIZE 1472       /* one Ethernet frame of UDP payload */
#define MIN_SIZE 16         /* magic + sequence number */
#define LOSS_WAIT_MS 20     /* silence after which in-flight ones are lost */
#define MAGIC 0x6b696c6e75647031ull /* "kilnudp1" */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: udpload [-d SECONDS] [-s BYTES] [-w WINDOW] [-p PORT] ADDR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	double duration = 5;
	int size = 64, window = 64, port = 7, opt;
	while ((opt = getopt(argc, argv, "d:s:w:p:")) != -1) {
		switch (opt) {
		case 'd': duration = atof(optarg); break;
		case 's': size = atoi(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'p': port = atoi(optarg); break;
		default: usage();
		}
	}
	if (optind + 1 != argc || duration <= 0 || size < MIN_SIZE || size > MAX_SIZE ||
	    window < 1 || port < 1 || port > 65535)
		usage();

	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, argv[optind], &to.sin_addr) != 1)
		usage();
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) < 0) {
		perror("udpload: socket");
		return 1;
	}
	int buf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);

	static uint8_t txbuf[BATCH][MAX_SIZE], rxbuf[BATCH][MAX_SIZE];
	struct iovec txiov[BATCH], rxiov[BATCH];
	struct mmsghdr txm[BATCH], rxm[BATCH];
	for (int i = 0; i < BATCH; i++) {
		memset(txbuf[i], 'k', sizeof txbuf[i]);
		txiov[i] = (struct iovec){ txbuf[i], (size_t)size };
		rxiov[i] = (struct iovec){ rxbuf[i], MAX_SIZE };
		txm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &txiov[i], .msg_iovlen = 1 } };
	}

	uint64_t seq = 0, echoed = 0, lost = 0, bad = 0;
	long inflight = 0;
	double start = now_s(), end = start + duration;
	while (now_s() < end) {
		while (inflight < window) {
			int n = (int)(window - inflight < BATCH ? window - inflight : BATCH);
			for (int i = 0; i < n; i++) {
				uint64_t hdr[2] = { MAGIC, seq + (uint64_t)i };
				memcpy(txbuf[i], hdr, sizeof hdr);
			}
			int sent = sendmmsg(fd, txm, (unsigned)n, 0);
			if (sent <= 0) {
				if (sent < 0 && errno != EAGAIN && errno != ENOBUFS &&
				    errno != ECONNREFUSED && errno != EINTR) {
					perror("udpload: sendmmsg");
					return 1;
				}
				break;
			}
			seq += (uint64_t)sent;
			inflight += sent;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int r = poll(&p, 1, LOSS_WAIT_MS);
		if (r == 0) {
			lost += (uint64_t)(inflight > 0 ? inflight : 0);
			inflight = 0;
			continue;
		}
		for (int i = 0; i < BATCH; i++)
			rxm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &rxiov[i], .msg_iovlen = 1 } };
		int got = recvmmsg(fd, rxm, BATCH, MSG_DONTWAIT, NULL);
		if (got <= 0)
			continue;   /* ECONNREFUSED (ICMP port unreachable) or EAGAIN */
		for (int i = 0; i < got; i++) {
			uint64_t m;
			memcpy(&m, rxbuf[i], sizeof m);
			if (rxm[i].msg_len == (unsigned)size && m == MAGIC)
				echoed++;
			else
				bad++;
		}
		inflight -= got;
	}
	double took = now_s() - start;
	printf("udpload: sent %llu echoed %llu lost %llu bad %llu in %.2f s: %.0f pkt/s\n",
	       (unsigned long long)seq, (unsigned long long)echoed, (unsigned long long)lost,
	       (unsigned long long)bad, took, (double)echoed / took);
	close(fd);
	return echoed ? 0 : 1;
}
