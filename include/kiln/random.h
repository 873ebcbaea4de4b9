/*
 * random.h - cryptographically strong random bytes.
 *
 * A DRBG (BearSSL's HMAC-DRBG over SHA-256) seeded at boot from RDSEED,
 * RDRAND or virtio-rng, whichever the machine offers, and reseeded
 * periodically. The hosted build may install a deterministic source for
 * tests (random_set_test_seed).
 */
#ifndef KILN_RANDOM_H
#define KILN_RANDOM_H

#include <stddef.h>
#include <stdint.h>

void random_bytes(void *buf, size_t len);
uint32_t random_u32(void);
uint64_t random_u64(void);
/* Mixes extra entropy (device output, timing) into the DRBG. */
void random_add_entropy(const void *buf, size_t len);

#endif
