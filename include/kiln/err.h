/*
 * err.h - the one error vocabulary of Kiln.
 *
 * Every fallible function returns int: 0 (K_OK) on success, a negative
 * K_E* value on failure. K_EAGAIN ("try again later": a ring is full, no
 * data yet) is kept apart from real errors so callers can test for it
 * alone. Functions that return a count return it as a non-negative int.
 */
#ifndef KILN_ERR_H
#define KILN_ERR_H

enum kiln_err {
	K_OK = 0,
	K_EAGAIN = -1,        /* not now; retry after the next event */
	K_ENOMEM = -2,        /* an allocator or pool is empty */
	K_EINVAL = -3,        /* bad argument or malformed input */
	K_ENOENT = -4,        /* no such thing (key, route, device) */
	K_EBUSY = -5,         /* in use */
	K_ETIMEDOUT = -6,
	K_ECONNRESET = -7,
	K_ECONNREFUSED = -8,
	K_EADDRINUSE = -9,
	K_EMSGSIZE = -10,     /* too large for the buffer or the wire */
	K_ENOTCONN = -11,
	K_EPROTO = -12,       /* protocol violation by the peer */
	K_ERANGE = -13,
	K_ENOSPC = -14,       /* a fixed-size table is full */
	K_EIO = -15,          /* a device failed */
	K_ENODEV = -16,       /* no device of that kind */
	K_ECLOSED = -17,      /* the other side or the object is closed */
	K_ENOTSUP = -18,      /* valid, but not supported by Kiln */
	K_EALREADY = -19,
	K_ERR_MIN = -19,
};

/* A short, static, lower-case name for an error ("out of memory"). */
const char *kiln_strerror(int err);

#endif
