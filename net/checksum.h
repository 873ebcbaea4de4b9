/*
 * checksum.h - the Internet checksum (RFC 1071) and its incremental
 * update (RFC 1624).
 *
 * Sums are kept in the machine's own byte order: checksum_add() loads
 * words with native loads, and checksum_fold() returns a 16-bit value to
 * be stored with checksum_store() (a plain memory copy), which puts the
 * right two bytes on the wire whatever the byte order (RFC 1071 2.(B)).
 * A running sum is a uint32_t "partial" that any number of checksum_add()
 * calls may extend; it stays meaningful only when each piece starts at an
 * even offset of the summed message, except through checksum_nbuf(),
 * which handles odd segment boundaries itself.
 */
#ifndef NET_CHECKSUM_H
#define NET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

struct nbuf;

/* Adds len bytes at p to the partial sum. */
uint32_t checksum_add(uint32_t sum, const void *p, size_t len);

/* Folds a partial sum to 16 bits without complementing. */
uint16_t checksum_fold_raw(uint32_t sum);

/* Folds and complements: the value to store in a checksum field. */
static inline uint16_t checksum_fold(uint32_t sum)
{
	return (uint16_t)~checksum_fold_raw(sum);
}

/* The complete checksum of one buffer. */
static inline uint16_t checksum(const void *p, size_t len)
{
	return checksum_fold(checksum_add(0, p, len));
}

/* Stores a folded value into a 2-byte header field (native order). */
static inline void checksum_store(uint8_t *field, uint16_t v)
{
	__builtin_memcpy(field, &v, 2);
}

/* Reads a 2-byte field as checksum_add() would see it. */
static inline uint16_t checksum_load(const uint8_t *field)
{
	uint16_t v;
	__builtin_memcpy(&v, field, 2);
	return v;
}

/*
 * Sums len bytes of the chain nb starting at byte off of the packet
 * (off counted from the head's data), crossing segments of any length.
 * Returns the partial sum added to sum; the range must lie inside the
 * packet (the caller checked it against nbuf_pkt_len()).
 */
uint32_t checksum_nbuf(uint32_t sum, const struct nbuf *nb, size_t off, size_t len);

/*
 * RFC 1624 eqn. 3: updates the checksum at field after the 16-bit word
 * at a 2-byte-aligned offset of the covered data changed from old to new
 * (both as loaded by checksum_load()). HC' = ~(~HC + ~m + m').
 */
void checksum_update16(uint8_t *field, uint16_t old_word, uint16_t new_word);

/*
 * Completes a NBUF_F_CSUM_PARTIAL request in software: sums from
 * csum_start to the end of the packet (the field holds the pseudo-header
 * sum) and stores the result, clearing the flag. K_OK (also when no
 * request is pending), K_EINVAL if the request points outside the head.
 */
int checksum_finish(struct nbuf *nb);

/* The partial sum of an IPv4 pseudo-header (RFC 768, RFC 9293 3.1);
 * addresses in host order, len the transport length. */
uint32_t checksum_pseudo4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
