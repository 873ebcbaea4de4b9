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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void random_bytes(void *buf, size_t len);
uint32_t random_u32(void);
uint64_t random_u64(void);
/* Mixes entropy from a device (virtio-rng) into the DRBG. */
void random_add_entropy(const void *buf, size_t len);
/* The DRBG has had at least 256 bits from a hardware source (RDSEED or
 * RDRAND at boot, or virtio-rng), not cycle jitter alone: what key
 * material (TLS) waits for. Always true on Linux (getrandom). */
bool random_is_strong(void);

#endif
