/*
 * native.h - what the native runner's files share (platform/native/);
 * nothing outside this folder includes it.
 *
 * The native variant runs an app against Linux sockets instead of Kiln's
 * network stack: kiln/tcp.h and the UDP part of kiln/net.h over
 * non-blocking sockets on an epoll loop, kiln/loop.h on that loop, the
 * hosted runtime's timer wheel and tasks (platform/hosted/runtime/timer.c
 * and task.c, compiled into the native binary), and the platform
 * functions (log, time, random, memory) on libc. One process is one core;
 * main.c forks one per core after parsing the command line (see there
 * for why processes and not threads).
 *
 * Every limit of the runner lives here with its reason.
 */
#ifndef KILN_NATIVE_H
#define KILN_NATIVE_H

#include <stdbool.h>
#include <stdint.h>

/* Receive buffer per TCP connection: the view recv() gets. 16 KiB holds
 * the HTTP engine's largest head plus body (HTTP_CONN_BUF) in one view
 * and matches the kernel's per-read chunk for bulk transfers. */
#define NATIVE_RCV_BUF 16384
/* Copied bytes queued per TCP connection (tcp_write): past it tcp_write
 * takes less and writable() follows. Linux's own socket buffer sits
 * behind it, so this only absorbs what the socket refused. */
#define NATIVE_SND_BUF 65536
/* Send-queue entries per connection (copied runs and borrowed spans);
 * one writev() carries them all. An HTTP response takes two. */
#define NATIVE_SEGS 16
/* Reads per connection before others get a turn: a peer streaming at
 * memory speed would otherwise keep the loop on its connection. The rest
 * is read from the pending list, later in the pass or the next. */
#define NATIVE_READS_PER_TURN 8
/* Listening ports and bound UDP sockets per process: apps open a few. */
#define NATIVE_LISTENERS 16
#define NATIVE_UDP_SOCKS 16
/* Connections accepted per listener event before others get a turn. */
#define NATIVE_ACCEPT_BATCH 64
/* Datagrams per recvmmsg() and batches per readiness event. Each slot
 * holds the largest datagram; untouched pages of it cost nothing. */
#define NATIVE_UDP_BATCH 16
#define NATIVE_UDP_ROUNDS 4
#define NATIVE_UDP_MAX 65507
/* epoll events taken per wait. */
#define NATIVE_EVENTS 256
/* A connection the app closed whose queued data the peer does not read
 * is reset after this (the kernel stack gives up on its retransmission
 * limit; sockets would otherwise wait forever). */
#define NATIVE_CLOSE_LINGER_NS (60ull * 1000000000ull)

/* What main.c parsed, for the rest of the runner. */
struct native_cfg {
	unsigned cpu;               /* this process's core index */
	unsigned ncpus;             /* cores (processes) in all */
	uint32_t bind_addr;         /* host order; 0: every address */
	uint32_t port_offset;       /* added to every port the app opens */
};
extern struct native_cfg native_cfg;

/* Maps an app's port to the socket's (port_offset added); 0 stays 0.
 * Returns -1 when the result is not a port. */
int native_port(uint16_t app_port);

/* Bytes and calls through this core's sockets (TCP and UDP), shown as
 * the interface's "device" counters (net_if_hw_info). */
struct native_io {
	uint64_t rx_calls, rx_bytes, tx_calls, tx_bytes, tx_errors;
};
extern struct native_io native_io;

/* ---- loop.c ---------------------------------------------------------------- */

/* A file descriptor's handler; embed it first in the owning object. */
struct native_ev {
	void (*fn)(struct native_ev *ev, uint32_t events);
};

/* Before the cores fork: a shared page of every core's loop counters,
 * so loop_get_stats() of any core reads the real ones. 0 or -errno. */
int native_loop_shared_init(unsigned ncpus);
/* Creates the epoll instance and starts the timer wheel. 0 or -errno. */
int native_loop_init(void);
/* Watches fd for events (EPOLLIN, EPOLLOUT, EPOLLET ...). 0 or -errno. */
int native_ev_add(int fd, struct native_ev *ev, uint32_t events);
/* Ends loop_run() with exit(status) at the end of the current pass.
 * Async-signal-safe (SIGTERM/SIGINT handlers call it). */
void native_loop_stop(int status);

/* ---- tcp.c (called by the loop) ------------------------------------------- */

/* Connections with deferred work (a flush asked for outside their own
 * event, delivery after tcp_recv_resume). Returns how many were served. */
int native_tcp_run_pending(void);
bool native_tcp_has_pending(void);
/* Frees connections that died during the pass; only between passes, so
 * an event already fetched never points at freed memory. */
void native_tcp_reap(void);

/* ---- platform.c --------------------------------------------------------------- */

/* Monotonic time starts at 0 when the runner starts (like boot). */
void native_clock_init(void);

#endif
