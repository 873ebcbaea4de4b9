/*
 * rtc.c - the wall clock at boot, from the CMOS real-time clock.
 *
 * Interface: arch_rtc_read_ns() (kiln/arch.h): ns since the Unix epoch,
 * whole seconds (the RTC has no finer field), or 0 when there is no RTC
 * or it holds nonsense. Called at boot by kernel/time.c, after
 * arch_time_init() (waits are bounded by the TSC); it costs a few port
 * reads, or up to ~2 ms when it lands on an update cycle.
 *
 * The registers (ports 0x70 index, 0x71 data): 0 sec, 2 min, 4 hour,
 * 7 day, 8 month, 9 year, 0x32 century (where QEMU and most PCs keep it),
 * status A (bit 7: update in progress) and status B (bit 2: binary, not
 * BCD; bit 1: 24-hour; in 12-hour mode bit 7 of the hour means PM). The
 * clock is read while no update is in progress, twice, until two reads
 * agree, so a read never mixes two seconds. The RTC is taken to run in
 * UTC (QEMU's default).
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/time.h>

#include "x86.h"

#define CMOS_INDEX 0x70
#define CMOS_DATA 0x71
#define RTC_SEC 0x00
#define RTC_MIN 0x02
#define RTC_HOUR 0x04
#define RTC_DAY 0x07
#define RTC_MONTH 0x08
#define RTC_YEAR 0x09
#define RTC_STATUS_A 0x0A
#define RTC_STATUS_B 0x0B
#define RTC_CENTURY 0x32
#define STATUS_A_UIP 0x80
#define STATUS_B_24H 0x02
#define STATUS_B_BINARY 0x04
#define HOUR_PM 0x80

struct rtc_time {
	uint8_t sec, min, hour, day, month, year, century;
};

static uint8_t cmos_read(uint8_t reg)
{
	outb(CMOS_INDEX, reg);          /* bit 7 clear: NMIs stay enabled */
	return inb(CMOS_DATA);
}

/* Waits until no update is in progress; 0 on success. */
static int wait_not_updating(void)
{
	uint64_t hz = arch_cycles_hz();
	uint64_t limit = hz ? hz / 100 : 0;     /* 10 ms; an update takes < 2 ms */
	uint64_t t0 = arch_cycles();

	for (unsigned n = 0;; n++) {
		if (!(cmos_read(RTC_STATUS_A) & STATUS_A_UIP))
			return 0;
		if (limit ? arch_cycles() - t0 > limit : n > 1000000)
			return -1;
		arch_relax();
	}
}

static void read_raw(struct rtc_time *t)
{
	t->sec = cmos_read(RTC_SEC);
	t->min = cmos_read(RTC_MIN);
	t->hour = cmos_read(RTC_HOUR);
	t->day = cmos_read(RTC_DAY);
	t->month = cmos_read(RTC_MONTH);
	t->year = cmos_read(RTC_YEAR);
	t->century = cmos_read(RTC_CENTURY);
}

static int same(const struct rtc_time *a, const struct rtc_time *b)
{
	return a->sec == b->sec && a->min == b->min && a->hour == b->hour &&
	       a->day == b->day && a->month == b->month && a->year == b->year &&
	       a->century == b->century;
}

static unsigned bcd(uint8_t v)
{
	return (v >> 4) * 10u + (v & 0x0f);
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), for y >= 1970:
 * count from March so the leap day ends the year. */
static uint64_t days_since_epoch(unsigned y, unsigned m, unsigned d)
{
	y -= m <= 2;
	unsigned era = y / 400;
	unsigned yoe = y - era * 400;                              /* 0..399 */
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (uint64_t)era * 146097 + doe - 719468;
}

uint64_t arch_rtc_read_ns(void)
{
	struct rtc_time a, b;
	uint8_t status_b = cmos_read(RTC_STATUS_B);

	if (status_b == 0xff && cmos_read(RTC_STATUS_A) == 0xff)
		return 0;                       /* no RTC: the bus floats */
	for (int tries = 0;; tries++) {
		if (tries == 5 || wait_not_updating() != 0)
			return 0;
		read_raw(&a);
		if (wait_not_updating() != 0)
			return 0;
		read_raw(&b);
		if (same(&a, &b))
			break;
	}

	int binary = status_b & STATUS_B_BINARY;
	int pm = !(status_b & STATUS_B_24H) && (a.hour & HOUR_PM);
	uint8_t hour_raw = (uint8_t)(status_b & STATUS_B_24H ? a.hour : a.hour & ~HOUR_PM);
	unsigned sec = binary ? a.sec : bcd(a.sec);
	unsigned min = binary ? a.min : bcd(a.min);
	unsigned hour = binary ? hour_raw : bcd(hour_raw);
	unsigned day = binary ? a.day : bcd(a.day);
	unsigned month = binary ? a.month : bcd(a.month);
	unsigned year = binary ? a.year : bcd(a.year);
	unsigned century = binary ? a.century : bcd(a.century);

	if (!(status_b & STATUS_B_24H)) {       /* 12 AM is 0, 12 PM is 12 */
		if (hour == 12)
			hour = 0;
		if (pm)
			hour += 12;
	}
	if (century >= 19 && century <= 99)
		year += century * 100;
	else
		year += year < 70 ? 2000 : 1900;
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 ||
	    month < 1 || month > 12 || year < 1970)
		return 0;

	uint64_t days = days_since_epoch(year, month, day);
	uint64_t secs = ((days * 24 + hour) * 60 + min) * 60 + sec;
	return secs * NS_PER_SEC;
}
