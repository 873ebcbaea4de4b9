/*
 * main.c - the native runner: a Kiln app against Linux sockets, one
 * event loop per core (SPEC 1, "native").
 *
 *   build/native/webserver bind=127.0.0.1 port_offset=8000 cpus=2 log=info
 *
 * The arguments are joined into one line and parsed exactly as the
 * kernel parses its command line, against every CMDLINE_OPTION linked in
 * (the app's keys and the runner's below); an unknown key or a bad value
 * is reported and the default kept. The network stack's ip=, gw= and
 * dns= mean nothing here (Linux owns the addresses) and are ignored
 * silently, so one command line serves every runner.
 *
 * Runner keys:
 *   cpus=N         loops (one process each; default: online CPUs)
 *   bind=ADDR      local address of every socket (default 0.0.0.0)
 *   port_offset=N  added to every port the app listens on or binds, so
 *                  an app written for 80 and 443 runs unprivileged on
 *                  8080 and 8443 with port_offset=8000 (default 0)
 *   pin=0|1        pin core i's process to CPU i mod online (default 1)
 *   log=LEVEL      error, warn, info (default) or debug
 *
 * ONE PROCESS PER CORE. Apps keep their state in plain statics (pools,
 * counters, pending lists), as a unikernel app on one core may, and so
 * do the hosted timer wheel and tasks. Threads would share all of it;
 * making it per-thread would mean changing every app. So after parsing
 * the command line the runner forks one process per core, each with its
 * own epoll loop, its own SO_REUSEPORT listeners (Linux spreads
 * connections over them by 4-tuple hash) and its own app_main(); nothing
 * is shared, exactly like the kernel's per-core loops, so no lock exists.
 * The price: an app's counters are per core (as they are per interface
 * in the kernel). With cpus=1 nothing forks; the app runs in this
 * process.
 *
 * The parent supervises: SIGTERM or SIGINT is passed to every core,
 * which ends at the end of its loop pass with status 0; when one core
 * exits (kiln_exit, a crash) the others are stopped and the parent exits
 * with that core's status (128 + signal for a crash). A core whose
 * parent dies gets SIGTERM (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <kiln/cmdline.h>
#include <kiln/init.h>
#include <kiln/kiln.h>

#include "native.h"

#define NATIVE_MAX_CPUS 256

struct native_cfg native_cfg = { .cpu = 0, .ncpus = 1 };

static uint32_t opt_cpus;
static bool opt_cpus_seen;
static uint32_t opt_bind;
static uint32_t opt_port_offset;
static bool opt_pin = true;
static enum log_level opt_log = LOG_INFO;

CMDLINE_OPTION(cpus, .key = "cpus", .type = CMDLINE_U32, .value = &opt_cpus, .min = 1,
	       .max = NATIVE_MAX_CPUS, .seen = &opt_cpus_seen,
	       .help = "event loops, one process each (default: online CPUs)");
CMDLINE_OPTION(bind, .key = "bind", .type = CMDLINE_IP4, .value = &opt_bind,
	       .help = "local address of every socket (default 0.0.0.0)");
CMDLINE_OPTION(port_offset, .key = "port_offset", .type = CMDLINE_U32, .value = &opt_port_offset,
	       .min = 0, .max = 65535, .help = "added to every port the app opens (8000: 80 -> 8080)");
CMDLINE_OPTION(pin, .key = "pin", .type = CMDLINE_BOOL, .value = &opt_pin,
	       .help = "pin each core's process to one CPU");
CMDLINE_OPTION(log, .key = "log", .type = CMDLINE_LOGLEVEL, .value = &opt_log,
	       .help = "log level: error, warn, info or debug");

static const char *const ignored_keys[] = { "ip", "gw", "dns", NULL };

extern const struct initcall __initcall1_start[], __initcall1_end[];
extern const struct initcall __initcall2_start[], __initcall2_end[];
extern const struct initcall __initcall3_start[], __initcall3_end[];

int native_port(uint16_t app_port)
{
	uint32_t p = app_port;

	if (p == 0)
		return 0;
	p += native_cfg.port_offset;
	return p > 65535 ? -1 : (int)p;
}

static void on_stop_signal(int sig)
{
	(void)sig;
	native_loop_stop(0);
}

static void run_initcalls(void)
{
	const struct initcall *levels[3][2] = {
		{ __initcall1_start, __initcall1_end },
		{ __initcall2_start, __initcall2_end },
		{ __initcall3_start, __initcall3_end },
	};
	for (int l = 0; l < 3; l++)
		for (const struct initcall *c = levels[l][0]; c < levels[l][1]; c++) {
			log_debug("init: %s", c->name);
			c->fn();
		}
}

/* Runs one core: its loop, the app, forever. */
static __attribute__((noreturn)) void run_core(unsigned cpu, unsigned online)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
	native_cfg.cpu = cpu;
	if (opt_pin && native_cfg.ncpus > 1) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(cpu % online, &set);
		if (sched_setaffinity(0, sizeof set, &set) < 0)
			log_warn("native: cannot pin core %u: errno %d", cpu, errno);
	}
	int ret = native_loop_init();
	if (ret < 0) {
		log_error("native: epoll: errno %d", -ret);
		exit(1);
	}
	run_initcalls();
	app_main();
	loop_run();
}

static pid_t children[NATIVE_MAX_CPUS];
static volatile sig_atomic_t parent_stop;

static void on_parent_signal(int sig)
{
	if (sig != SIGCHLD)
		parent_stop = 1;
}

static void stop_children(void)
{
	for (unsigned i = 0; i < native_cfg.ncpus; i++)
		if (children[i] > 0)
			kill(children[i], SIGTERM);
}

static int status_code(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return 1;
}

/* Forks the cores and waits for them: returns the runner's exit status.
 * The signals it waits for stay blocked except inside sigsuspend(), so
 * none is lost between a check and the sleep. */
static int supervise(unsigned online)
{
	unsigned live = 0;
	int result = 0;
	bool stopping = false;
	sigset_t none;

	sigemptyset(&none);
	for (unsigned i = 0; i < native_cfg.ncpus; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			log_error("native: fork: errno %d", errno);
			result = 1;
			stopping = true;
			stop_children();
			break;
		}
		if (pid == 0) {
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1)
				_exit(0);
			run_core(i, online);
		}
		children[i] = pid;
		live++;
	}
	while (live) {
		int st;
		pid_t pid;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			for (unsigned i = 0; i < native_cfg.ncpus; i++)
				if (children[i] == pid)
					children[i] = 0;
			live--;
			int code = status_code(st);
			if (!stopping) {
				/* A core ended on its own: the machine ends with it. */
				result = code;
				if (live)
					log_info("native: a core exited with status %d; stopping", code);
				stopping = true;
				stop_children();
			} else if (result == 0 && code != 0) {
				result = code;
			}
		}
		if (!live)
			break;
		if (parent_stop && !stopping) {
			stopping = true;
			stop_children();
		}
		sigsuspend(&none);
	}
	return result;
}

int main(int argc, char **argv)
{
	char line[CMDLINE_MAX];
	size_t len = 0;

	native_clock_init();
	line[0] = '\0';
	for (int i = 1; i < argc; i++) {
		int n = snprintf(line + len, sizeof line - len, "%s%s", len ? " " : "", argv[i]);
		if (n < 0 || (size_t)n >= sizeof line - len) {
			fprintf(stderr, "kiln-native: command line longer than %d bytes\n",
				CMDLINE_MAX - 1);
			return 2;
		}
		len += (size_t)n;
	}
	cmdline_set(line);
	cmdline_parse(line, __cmdline_start, (size_t)(__cmdline_end - __cmdline_start),
		      ignored_keys);
	log_set_level(opt_log);

	long on = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned online = on > 0 ? (unsigned)on : 1;
	unsigned ncpus = opt_cpus_seen ? opt_cpus : (online < NATIVE_MAX_CPUS ? online : NATIVE_MAX_CPUS);
	native_cfg.bind_addr = opt_bind;
	native_cfg.port_offset = opt_port_offset;
	log_info("kiln-native %s: %u core%s, bind %u.%u.%u.%u, port offset %u, command line \"%s\"",
		 KILN_VERSION, ncpus, ncpus == 1 ? "" : "s",
		 opt_bind >> 24, (opt_bind >> 16) & 0xff, (opt_bind >> 8) & 0xff, opt_bind & 0xff,
		 opt_port_offset, line);
	native_cfg.ncpus = ncpus;

	/* Enough descriptors for many connections. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	signal(SIGPIPE, SIG_IGN);

	/* SIGINT/SIGTERM only get in while a loop waits (loop.c) or while the
	 * supervisor sleeps. */
	sigset_t blocked;
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGCHLD);
	sigprocmask(SIG_BLOCK, &blocked, NULL);

	if (native_loop_shared_init(native_cfg.ncpus) < 0)
		log_warn("native: no shared page for loop counters");
	if (native_cfg.ncpus == 1)
		run_core(0, online);
	/* The supervisor's handlers; each core sets the loop's own before
	 * its first wait lets a signal in. */
	struct sigaction sa = { .sa_handler = on_parent_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	return supervise(online);
}
