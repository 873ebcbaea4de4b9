/*
 * time.h - clocks.
 *
 * time_now_ns() is monotonic nanoseconds since boot: calibrated TSC (or
 * kvmclock) in the guest, CLOCK_MONOTONIC or a test-set virtual clock when
 * hosted. time_wall_ns() is nanoseconds since the Unix epoch, taken from
 * the CMOS RTC at boot and advanced by the monotonic clock.
 */
#ifndef KILN_TIME_H
#define KILN_TIME_H

#include <stdint.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_SEC 1000000000ull

uint64_t time_now_ns(void);
uint64_t time_wall_ns(void);

/* Boot only (kernel_main, after arch_time_init): reads the RTC once. */
void time_init(void);

#endif
