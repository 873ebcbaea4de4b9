/*
 * checksum.c - the Internet checksum, fast: RFC 1071 with a 64-bit
 * accumulator, and RFC 1624 incremental updates.
 *
 * Interface: checksum.h. Pure functions over caller memory; no state.
 *
 * IMPLEMENTATION NOTES
 * The one's-complement sum of 16-bit words is independent of byte order
 * and of the word size used to add them (RFC 1071 2.(B), 2.(C)): adding
 * native 32-bit words into a 64-bit accumulator and folding the carries
 * back at the end gives the same 16-bit result as adding 16-bit words
 * with end-around carry. Each 8-byte load is split into two 32-bit halves
 * so the accumulator cannot overflow for any length below 2^33 bytes.
 * A piece that starts at an odd offset of the message has its sum
 * byte-swapped before it joins the total (RFC 1071 2.(B)); checksum_nbuf
 * uses that to walk chains whose segments have odd lengths.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>

#include "checksum.h"
#include "nbuf.h"
#include "net_priv.h"

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static inline uint32_t load32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint32_t fold64(uint64_t acc)
{
	acc = (acc & 0xffffffffu) + (acc >> 32);
	acc = (acc & 0xffffffffu) + (acc >> 32);
	return (uint32_t)acc;
}

uint32_t checksum_add(uint32_t sum, const void *p, size_t len)
{
	const uint8_t *b = p;
	uint64_t acc = sum;

	while (len >= 32) {
		uint64_t a = load64(b), c = load64(b + 8);
		uint64_t d = load64(b + 16), e = load64(b + 24);
		acc += (a & 0xffffffffu) + (a >> 32);
		acc += (c & 0xffffffffu) + (c >> 32);
		acc += (d & 0xffffffffu) + (d >> 32);
		acc += (e & 0xffffffffu) + (e >> 32);
		b += 32;
		len -= 32;
	}
	while (len >= 4) {
		acc += load32(b);
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		uint16_t w;
		memcpy(&w, b, 2);
		acc += w;
		b += 2;
		len -= 2;
	}
	if (len) {
		/* The odd last byte is the first byte of a zero-padded word. */
		uint8_t tail[2] = { b[0], 0 };
		uint16_t w;
		memcpy(&w, tail, 2);
		acc += w;
	}
	return fold64(acc);
}

uint16_t checksum_fold_raw(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint32_t swap16(uint32_t sum)
{
	uint16_t s = checksum_fold_raw(sum);
	return (uint32_t)(uint16_t)((s << 8) | (s >> 8));
}

uint32_t checksum_nbuf(uint32_t sum, const struct nbuf *nb, size_t off, size_t len)
{
	uint64_t acc = sum;
	size_t pos = 0;     /* bytes summed so far: parity decides swapping */

	for (; nb && len; nb = nb->next) {
		if (off >= nb->len) {
			off -= nb->len;
			continue;
		}
		size_t n = nb->len - off;
		if (n > len)
			n = len;
		uint32_t s = checksum_add(0, nb->data + off, n);
		acc += (pos & 1) ? swap16(s) : s;
		pos += n;
		len -= n;
		off = 0;
	}
	return fold64(acc);
}

void checksum_update16(uint8_t *field, uint16_t old_word, uint16_t new_word)
{
	uint32_t s = (uint16_t)~checksum_load(field);
	s += (uint16_t)~old_word;
	s += new_word;
	checksum_store(field, (uint16_t)~checksum_fold_raw(s));
}

uint32_t checksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
	struct ip4_pseudo ph;
	net_put32(ph.src, src);
	net_put32(ph.dst, dst);
	ph.zero = 0;
	ph.proto = proto;
	net_put16(ph.len, len);
	return checksum_add(0, &ph, sizeof ph);
}

int checksum_finish(struct nbuf *nb)
{
	size_t head = nbuf_headroom(nb);
	if (!(nb->flags & NBUF_F_CSUM_PARTIAL))
		return K_OK;
	if (nb->csum_start < head)
		return K_EINVAL;
	size_t start = nb->csum_start - head;           /* now from data */
	size_t field = start + nb->csum_offset;
	if (field + 2 > nb->len || start > nbuf_pkt_len(nb))
		return K_EINVAL;
	uint16_t c = checksum_fold(checksum_nbuf(0, nb, start, nbuf_pkt_len(nb) - start));
	/* 0 and 0xffff are the same one's-complement value, and 0 means "no
	 * checksum" to UDP (RFC 768): never send 0. */
	if (c == 0)
		c = 0xffff;
	checksum_store(nb->data + field, c);
	nb->flags &= (uint16_t)~NBUF_F_CSUM_PARTIAL;
	return K_OK;
}
