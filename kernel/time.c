/*
 * time.c - the wall clock: the RTC read once at boot, advanced by the
 * monotonic clock.
 *
 * Interface (kiln/time.h): time_init() once at boot, after
 * arch_time_init(); then time_wall_ns() from anywhere. time_now_ns() is
 * the arch's (arch/<arch>/time.c).
 *
 * Rules: the wall clock never steps after boot (no NTP yet), so it is as
 * monotonic as the TSC. Without an RTC it counts from the Unix epoch, so
 * a missing RTC shows as 1970, never as a crash.
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/log.h>
#include <kiln/time.h>

static uint64_t wall_at_ref;    /* ns since the epoch at mono_at_ref */
static uint64_t mono_at_ref;

void time_init(void)
{
	uint64_t wall = arch_rtc_read_ns();

	mono_at_ref = time_now_ns();
	wall_at_ref = wall;
	if (!wall)
		log_warn("time: no usable RTC; the wall clock starts at 1970");
	else
		log_info("time: RTC says %lu s since the epoch", (unsigned long)(wall / NS_PER_SEC));
}

uint64_t time_wall_ns(void)
{
	return wall_at_ref + (time_now_ns() - mono_at_ref);
}
