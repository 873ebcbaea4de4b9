/*
 * expect_panic.h - for hosted tests of broken invariants: runs a function
 * in a forked child and expects it to panic (the hosted panic() prints
 * "panic: <message>" and aborts) with a given phrase in the message.
 */
#ifndef KILN_TEST_EXPECT_PANIC_H
#define KILN_TEST_EXPECT_PANIC_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Runs fn(arg) in a child; expects it to panic with needle in the message. */
static void expect_panic(void (*fn)(char *), char *arg, const char *needle)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		signal(SIGABRT, SIG_DFL);
		dup2(fds[1], 2);
		close(fds[0]);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	char buf[2048];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof buf - 1 && (r = read(fds[0], buf + n, sizeof buf - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (!WIFSIGNALED(status) || !strstr(buf, needle))
		fail_msg("expected a panic with \"%s\", got: %s", needle, buf);
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

#endif
