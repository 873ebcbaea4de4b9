/*
 * random.c - Kiln's random source: a per-core HMAC-DRBG (SHA-256).
 *
 * Interface: include/kiln/random.h. random_bytes() and friends draw from
 * the calling core's BearSSL HMAC-DRBG (NIST SP 800-90A HMAC_DRBG, via
 * br_hmac_drbg_* with br_sha256_vtable). random_add_entropy() mixes more
 * seed material into it (virtio-rng does so at probe).
 *
 * Seeding:
 *   - The boot core seeds at INIT_EARLY (or at the first call, if another
 *     initcall needs randomness earlier) from up to RANDOM_HW_WORDS
 *     64-bit words of arch_hw_random() (RDSEED, else RDRAND) and
 *     RANDOM_JITTER_SAMPLES cycle-counter timings of a memory-touching
 *     loop; the log says which sources delivered. It also draws a seed
 *     share for every other core, which that core mixes with its own
 *     hardware words and jitter at its first use.
 *   - After RANDOM_RESEED_BYTES of output a core reseeds itself from the
 *     hardware and jitter again (BearSSL's DRBG has no counter of its own).
 *
 * Rules: one DRBG per core, touched only by that core, so no locks. Not
 * for interrupt handlers (they must stay tiny anyway). Without any
 * hardware source the DRBG still runs on jitter alone and says so loudly;
 * virtio-rng, when present, then adds real entropy at INIT_DRIVER.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <bearssl.h>

#include <kiln/arch.h>
#include <kiln/init.h>
#include <kiln/log.h>
#include <kiln/percpu.h>
#include <kiln/random.h>

#define RANDOM_HW_WORDS 8              /* 512 bits from RDSEED/RDRAND */
#define RANDOM_JITTER_SAMPLES 64
#define RANDOM_RESEED_BYTES (1u << 20) /* reseed after 1 MiB of output */
#define RANDOM_CHUNK (1u << 16)        /* SP 800-90A: at most 2^19 bits a request */
#define RANDOM_SHARE 32

struct random_core {
	br_hmac_drbg_context drbg;
	uint64_t since_reseed;
	bool seeded;
};

static struct random_core random_cores[MAX_CPUS];
/* Bytes of hardware entropy mixed in so far (boot words, virtio-rng). */
static uint32_t random_hw_bytes;
static uint8_t random_share[MAX_CPUS][RANDOM_SHARE];

struct random_seed {
	uint64_t hw[RANDOM_HW_WORDS];
	uint64_t jitter[RANDOM_JITTER_SAMPLES];
	unsigned nhw;
};

/* Timings of a loop whose duration depends on caches, TLBs and the host. */
static void random_jitter(uint64_t *out, unsigned n)
{
	static volatile uint8_t scratch[4096];
	uint64_t prev = arch_cycles();
	for (unsigned i = 0; i < n; i++) {
		for (unsigned k = 0; k < 64; k++)
			scratch[(prev + k * 67) & 4095] += (uint8_t)k;
		uint64_t now = arch_cycles();
		out[i] = now - prev;
		prev = now;
	}
}

static void random_gather(struct random_seed *s)
{
	s->nhw = 0;
	for (unsigned i = 0; i < RANDOM_HW_WORDS; i++)
		if (arch_hw_random(&s->hw[s->nhw]))
			s->nhw++;
	random_jitter(s->jitter, RANDOM_JITTER_SAMPLES);
}

static void random_seed_core(struct random_core *c, unsigned cpu)
{
	struct random_seed s;
	random_gather(&s);
	br_hmac_drbg_init(&c->drbg, &br_sha256_vtable, &s, sizeof s);
	if (cpu != 0) {
		br_hmac_drbg_update(&c->drbg, random_share[cpu], RANDOM_SHARE);
		memset(random_share[cpu], 0, RANDOM_SHARE);
	}
	c->seeded = true;
	c->since_reseed = 0;

	if (cpu == 0) {
		random_hw_bytes += s.nhw * (uint32_t)sizeof s.hw[0];
		if (s.nhw > 0)
			log_info("random: HMAC-DRBG(SHA-256) seeded from %u hardware words "
				 "(RDSEED/RDRAND) and %u cycle-jitter samples",
				 s.nhw, RANDOM_JITTER_SAMPLES);
		else
			log_warn("random: no hardware RNG; HMAC-DRBG(SHA-256) seeded from %u "
				 "cycle-jitter samples only (virtio-rng will add entropy if present)",
				 RANDOM_JITTER_SAMPLES);
		/* Seed shares for the other cores, drawn before they start. */
		br_hmac_drbg_generate(&c->drbg, random_share, sizeof random_share);
	}
	memset(&s, 0, sizeof s);
}

static struct random_core *random_core(void)
{
	unsigned cpu = arch_cpu_id();
	if (cpu >= MAX_CPUS)
		cpu = 0;
	struct random_core *c = &random_cores[cpu];
	if (!c->seeded) {
		/* Every core's share comes from the boot core's DRBG. */
		if (cpu != 0 && !random_cores[0].seeded)
			random_seed_core(&random_cores[0], 0);
		random_seed_core(c, cpu);
	}
	return c;
}

static void random_reseed(struct random_core *c)
{
	struct random_seed s;
	random_gather(&s);
	br_hmac_drbg_update(&c->drbg, &s, sizeof s);
	memset(&s, 0, sizeof s);
	c->since_reseed = 0;
}

void random_bytes(void *buf, size_t len)
{
	struct random_core *c = random_core();
	uint8_t *p = buf;
	while (len > 0) {
		size_t n = len < RANDOM_CHUNK ? len : RANDOM_CHUNK;
		if (c->since_reseed >= RANDOM_RESEED_BYTES)
			random_reseed(c);
		br_hmac_drbg_generate(&c->drbg, p, n);
		c->since_reseed += n;
		p += n;
		len -= n;
	}
}

uint32_t random_u32(void)
{
	uint32_t v;
	random_bytes(&v, sizeof v);
	return v;
}

uint64_t random_u64(void)
{
	uint64_t v;
	random_bytes(&v, sizeof v);
	return v;
}

void random_add_entropy(const void *buf, size_t len)
{
	struct random_core *c = random_core();
	uint64_t t = arch_cycles();
	br_hmac_drbg_update(&c->drbg, buf, len);
	br_hmac_drbg_update(&c->drbg, &t, sizeof t);
	c->since_reseed = 0;
	random_hw_bytes += len > 4096 ? 4096 : (uint32_t)len;
	log_debug("random: %zu bytes of entropy mixed in", len);
}

bool random_is_strong(void)
{
	return random_hw_bytes >= 32;
}

static void random_init(void)
{
	(void)random_core();
}
INIT_EARLY(random_init);
