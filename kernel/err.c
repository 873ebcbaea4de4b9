/*
 * err.c - names for Kiln's error codes (include/kiln/err.h).
 */
#include <kiln/err.h>

const char *kiln_strerror(int err)
{
	static const char *const names[] = {
		[0] = "success",
		[-K_EAGAIN] = "try again",
		[-K_ENOMEM] = "out of memory",
		[-K_EINVAL] = "invalid argument",
		[-K_ENOENT] = "not found",
		[-K_EBUSY] = "busy",
		[-K_ETIMEDOUT] = "timed out",
		[-K_ECONNRESET] = "connection reset",
		[-K_ECONNREFUSED] = "connection refused",
		[-K_EADDRINUSE] = "address in use",
		[-K_EMSGSIZE] = "message too long",
		[-K_ENOTCONN] = "not connected",
		[-K_EPROTO] = "protocol error",
		[-K_ERANGE] = "out of range",
		[-K_ENOSPC] = "no space",
		[-K_EIO] = "i/o error",
		[-K_ENODEV] = "no such device",
		[-K_ECLOSED] = "closed",
		[-K_ENOTSUP] = "not supported",
		[-K_EALREADY] = "already in progress",
	};
	if (err > 0 || err < K_ERR_MIN)
		return "unknown error";
	return names[-err];
}
