/*
 * hosted.h - controls the hosted platform offers tests and tools.
 *
 * The hosted platform implements Kiln's platform functions (log, panic,
 * time, random, exit) on Linux. Tests set time and randomness themselves:
 * after hosted_clock_virtual(), time_now_ns() returns exactly what the
 * test last set, and random_set_test_seed() makes random_bytes()
 * a repeatable stream.
 */
#ifndef KILN_HOSTED_H
#define KILN_HOSTED_H

#include <stdint.h>

/* Switches time_now_ns() to a virtual clock starting at start_ns. */
void hosted_clock_virtual(uint64_t start_ns);
void hosted_clock_set(uint64_t now_ns);
void hosted_clock_advance(uint64_t delta_ns);

/* Makes random_bytes() deterministic from seed (0 = back to getrandom). */
void random_set_test_seed(uint64_t seed);


/* panic() records its message and count here before aborting. */
extern int hosted_panic_count;
extern char hosted_panic_msg[256];

#endif
