/*
 * rfc864.h - the chargen stream the test clients check (RFC 864): lines
 * of 72 of the 95 printable characters, each starting one character
 * later than the one before, CR LF after each; it repeats every 95 lines.
 * Kiln's server side is apps/echo/tcp_services.c.
 */
#ifndef KILN_TESTS_RFC864_H
#define KILN_TESTS_RFC864_H

#include <stdint.h>

#define RFC864_LINE 72
#define RFC864_PERIOD (95 * (RFC864_LINE + 2))     /* 7030 bytes */

/* The byte at offset pos of the stream. */
static inline uint8_t rfc864_byte(uint64_t pos)
{
	unsigned line = (unsigned)((pos / (RFC864_LINE + 2)) % 95);
	unsigned col = (unsigned)(pos % (RFC864_LINE + 2));
	if (col == RFC864_LINE)
		return '\r';
	if (col == RFC864_LINE + 1)
		return '\n';
	return (uint8_t)(' ' + (line + col) % 95);
}

#endif
