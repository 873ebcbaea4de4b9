/*
 * time.c - the x86_64 monotonic clock: a calibrated TSC.
 *
 * Interface (kiln/arch.h, kiln/time.h): arch_time_init() once at boot,
 * on the boot core, with interrupts off and before anything reads the
 * clock; then time_now_ns(), arch_cycles_hz(), arch_clock_name(). The
 * arch-private tsc_from_ns() (x86.h; used by lapic.c) turns a monotonic
 * deadline back into a TSC value for the TSC-deadline timer.
 *
 * The TSC rate comes from the first source that has it:
 *   1. kvmclock (pvclock): KVM publishes its own TSC-to-ns factors; we
 *      take them as they are (exact, no measurement).
 *   2. CPUID 0x15 (TSC/crystal ratio and crystal Hz), with 0x16's base
 *      frequency when the crystal is not given. Zero on QEMU.
 *   3. Measurement against a fixed-rate counter: the ACPI PM timer
 *      (3.579545 MHz at port 0x608, present on q35 after SeaBIOS) if it
 *      is seen counting, else PIT channel 0 (1.193182 MHz), programmed in
 *      mode 0 and read by latch-and-poll (microvm and q35 both have it).
 *      Three rounds of 2 ms; the median wins. Each end point brackets one
 *      counter read between two TSC reads and keeps the tightest of a few
 *      tries, so a host hiccup in between cannot skew it.
 *
 * time_now_ns() = ((tsc - tsc_at_init) * mult) >> shift with a 64x64->128
 * multiply (one MUL; no division), exact for any 64-bit TSC delta, i.e.
 * centuries. Rules: single boot core for now; with SMP the TSCs must be
 * in sync (KVM and QEMU start them together).
 */
#include <stdint.h>

#include <kiln/arch.h>
#include <kiln/time.h>

#include "x86.h"

#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01u
#define PM_TIMER_PORT 0x608
#define PM_TIMER_HZ 3579545ull
#define PIT_HZ 1193182ull
#define PIT_CH0 0x40
#define PIT_CMD 0x43
#define CAL_ROUNDS 3
#define CAL_ROUND_NS (2 * NS_PER_MS)

/* pvclock_vcpu_time_info: the ABI KVM writes for MSR_KVM_SYSTEM_TIME_NEW. */
struct pvclock_info {
	volatile uint32_t version;
	uint32_t pad0;
	volatile uint64_t tsc_timestamp;
	volatile uint64_t system_time;
	volatile uint32_t tsc_to_system_mul;
	volatile int8_t tsc_shift;
	volatile uint8_t flags;
	uint8_t pad[2];
} __attribute__((aligned(64)));

static struct pvclock_info pvclock;
static uint64_t tsc_base;         /* TSC at arch_time_init: monotonic 0 */
static uint64_t tsc_hz;
static uint64_t ns_mult;          /* ns = (cycles * ns_mult) >> ns_shift */
static unsigned ns_shift;
static uint64_t cyc_mult;         /* cycles = (ns * cyc_mult) >> 32 */
static const char *clock_name = "none";

uint64_t time_now_ns(void)
{
	uint64_t d = arch_cycles() - tsc_base;
	return (uint64_t)(((unsigned __int128)d * ns_mult) >> ns_shift);
}

uint64_t tsc_from_ns(uint64_t ns)
{
	/* Rounded up, so a deadline never lands before ns. */
	unsigned __int128 c = (unsigned __int128)ns * cyc_mult;
	return tsc_base + (uint64_t)(c >> 32) + 1;
}

uint64_t arch_cycles_hz(void)
{
	return tsc_hz;
}

const char *arch_clock_name(void)
{
	return clock_name;
}

/* Sets the conversion factors for a TSC of hz (ns_mult/ns_shift may have
 * been set exactly already, by kvmclock). */
static void set_rate(uint64_t hz)
{
	tsc_hz = hz;
	if (!ns_mult) {
		ns_mult = (NS_PER_SEC << 32) / hz;
		ns_shift = 32;
	}
	cyc_mult = ((hz / NS_PER_SEC) << 32) + ((hz % NS_PER_SEC) << 32) / NS_PER_SEC;
}

/* --- 1. kvmclock ---------------------------------------------------------- */

static uint64_t rate_from_kvmclock(void)
{
	uint32_t mul;
	int shift;
	uint32_t v;

	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, (uint64_t)(uintptr_t)&pvclock | 1);
	do {
		v = pvclock.version;
		arch_rmb();
		mul = pvclock.tsc_to_system_mul;
		shift = pvclock.tsc_shift;
		arch_rmb();
	} while ((v & 1) || v != pvclock.version);
	wrmsr(MSR_KVM_SYSTEM_TIME_NEW, 0);     /* we only wanted the factors */
	if (mul == 0 || shift > 31 || shift < -31)
		return 0;

	/* ns = ((cycles << shift) * mul) >> 32, shift may be negative. */
	if (shift >= 0) {
		ns_mult = (uint64_t)mul << shift;
		ns_shift = 32;
	} else {
		ns_mult = mul;
		ns_shift = 32u + (unsigned)-shift;
	}
	/* hz = 1e9 * 2^ns_shift / ns_mult, without overflowing 64 bits. */
	uint64_t n = NS_PER_SEC << 32;
	uint64_t q = n / ns_mult, r = n % ns_mult;
	unsigned s = ns_shift - 32;
	return (q << s) + (uint64_t)(((unsigned __int128)r << s) / ns_mult);
}

/* --- 2. CPUID 0x15 / 0x16 -------------------------------------------------- */

static uint64_t rate_from_cpuid(void)
{
	uint32_t a, b, c, d;

	if (x86_cpu.max_leaf < 0x15)
		return 0;
	cpuid(0x15, 0, &a, &b, &c, &d);
	if (a == 0 || b == 0)
		return 0;
	if (c)
		return (uint64_t)c * b / a;
	if (x86_cpu.max_leaf < 0x16)
		return 0;
	uint32_t base_mhz;
	cpuid(0x16, 0, &base_mhz, &b, &c, &d);
	return (uint64_t)(base_mhz & 0xffff) * 1000000ull;
}

/* --- 3. measurement -------------------------------------------------------- */

struct refclock {
	uint64_t hz;
	uint32_t (*read)(void);
	uint32_t mask;          /* counter width */
	int down;               /* counts down (PIT) */
	uint32_t last;
	uint64_t total;         /* extended count */
};

static uint32_t pm_read(void)
{
	return inl(PM_TIMER_PORT) & 0xffffff;
}

static uint32_t pit_read(void)
{
	outb(PIT_CMD, 0x00);                   /* latch channel 0 */
	uint32_t lo = inb(PIT_CH0);
	uint32_t hi = inb(PIT_CH0);
	return lo | hi << 8;
}

static uint64_t ref_now(struct refclock *rc)
{
	uint32_t v = rc->read();
	uint32_t step = rc->down ? rc->last - v : v - rc->last;

	rc->last = v;
	rc->total += step & rc->mask;
	return rc->total;
}

/* Is the PM timer there and counting? Unclaimed ports read all-ones. */
static int pm_timer_present(void)
{
	uint32_t first = inl(PM_TIMER_PORT);

	if (first & 0xff000000u)
		return 0;
	for (int i = 0; i < 2000; i++) {
		uint32_t v = inl(PM_TIMER_PORT);
		if (v & 0xff000000u)
			return 0;
		if (v != first)
			return ((v - first) & 0xffffff) < 0x10000;  /* moved, a little */
	}
	return 0;
}

static int pit_counting(void)
{
	uint32_t first = pit_read();

	for (int i = 0; i < 2000; i++)
		if (pit_read() != first)
			return 1;
	return 0;
}

/* One (tsc, ref) pair, the counter read bracketed as tightly as we can. */
static void sample(struct refclock *rc, uint64_t *tsc, uint64_t *ref)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < 4; i++) {
		uint64_t a = arch_cycles();
		uint64_t r = ref_now(rc);
		uint64_t b = arch_cycles();
		if (b - a < best) {
			best = b - a;
			*tsc = a + (b - a) / 2;
			*ref = r;
		}
	}
}

static uint64_t measure_round(struct refclock *rc)
{
	uint64_t t0, r0, t1, r1;
	uint64_t want = rc->hz * CAL_ROUND_NS / NS_PER_SEC;

	sample(rc, &t0, &r0);
	while (ref_now(rc) - r0 < want)
		arch_relax();
	sample(rc, &t1, &r1);
	if (r1 <= r0 || t1 <= t0)
		return 0;
	/* (t1-t0) < 2^40 for any sane TSC over a few ms, times hz < 2^22. */
	return (t1 - t0) * rc->hz / (r1 - r0);
}

static uint64_t rate_from_refclock(struct refclock *rc)
{
	uint64_t r[CAL_ROUNDS];

	rc->last = rc->read();
	rc->total = 0;
	for (int i = 0; i < CAL_ROUNDS; i++)
		r[i] = measure_round(rc);
	/* median of three */
	uint64_t a = r[0], b = r[1], c = r[2];
	if (a > b) { uint64_t x = a; a = b; b = x; }
	if (b > c) { uint64_t x = b; b = c; c = x; }
	if (a > b) { uint64_t x = a; a = b; b = x; }
	return b;
}

static uint64_t rate_from_pm_timer(void)
{
	struct refclock rc = { .hz = PM_TIMER_HZ, .read = pm_read, .mask = 0xffffff };

	if (!pm_timer_present())
		return 0;
	return rate_from_refclock(&rc);
}

static uint64_t rate_from_pit(void)
{
	struct refclock rc = { .hz = PIT_HZ, .read = pit_read, .mask = 0xffff, .down = 1 };

	/* Channel 0, lobyte/hibyte, mode 0 (one terminal count, so at most
	 * one IRQ0 edge, which nobody unmasks), binary, count 65536. */
	outb(PIT_CMD, 0x30);
	outb(PIT_CH0, 0);
	outb(PIT_CH0, 0);
	if (!pit_counting())
		return 0;
	return rate_from_refclock(&rc);
}

uint64_t arch_time_init(void)
{
	uint64_t hz = 0;

	tsc_base = arch_cycles();
	if (x86_cpu.kvmclock && (hz = rate_from_kvmclock()) != 0)
		clock_name = "tsc/kvmclock";
	else if ((hz = rate_from_cpuid()) != 0)
		clock_name = "tsc/cpuid";
	else if ((hz = rate_from_pm_timer()) != 0)
		clock_name = "tsc/acpi-pm";
	else if ((hz = rate_from_pit()) != 0)
		clock_name = "tsc/pit";
	if (hz < 10000000ull) {                /* nothing usable: guess */
		ns_mult = 0;
		hz = 2000000000ull;
		clock_name = "tsc/guessed";
	}
	set_rate(hz);
	return hz;
}
