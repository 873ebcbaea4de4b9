/*
 * fuzz_tls.c - libFuzzer target for the TLS 1.3 server engine (proto/tls).
 *
 * The first input byte picks a mode, the rest is the stream:
 *   mode 0  plaintext: the bytes go to a fresh connection as they are
 *           (ClientHellos, records of every type, SSLv2 hellos...).
 *   mode 1  established: the test client of tls_fixture.h does a real
 *           handshake first; then the input is a list of records
 *           [type][len16][body], which the client protects under its
 *           application key, so the engine sees well-protected alerts,
 *           KeyUpdates, stray handshake messages and data.
 *   mode 2  established, then the input as raw bytes (forged records).
 *   mode 3  mid-handshake: after the client has the server's flight, the
 *           records are protected under the client's handshake key
 *           (Finished, early-data skipping, wrong messages).
 * Other values select mode (byte % 4) with client options taken from the
 * byte (HRR, record_size_limit, early_data, P-384), so the handshake
 * itself varies. Bytes reach tls_conn_input in splits chosen by a PRNG
 * seeded from the input, output is drained at random points.
 *
 * Checks: no crash or sanitizer report; tls_conn_input takes at most what
 * it was given; plaintext lies inside the given bytes or the
 * connection's work buffer; engine output per call stays bounded; after
 * tls_conn_release every work buffer is back in the pool; an established
 * idle connection holds none.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sanitizer/common_interface_defs.h>

#include <kiln/err.h>
#include <kiln/tls.h>

#include "tests/unit/tls_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                             \
	do {                                                                    \
		if (!(cond))                                                    \
			fuzz_fail(__LINE__, #cond);                             \
	} while (0)

static void fuzz_fail(int line, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof msg, "fuzz_tls.c:%d: check failed: %s", line, what);
	__sanitizer_report_error_summary(msg);
	abort();
}

#define NBUFS 2
static uint8_t pool[NBUFS][TLS_WORK_BUF] __attribute__((aligned(64)));
static struct tls_server srv;
static struct tls_conn sc;
static struct fxc cl;
static uint64_t prng;
static bool dead;

static uint32_t rnd(void)
{
	prng = prng * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(prng >> 33);
}

static void drain(bool to_client)
{
	const uint8_t *p;
	size_t k, total = 0;
	while ((k = tls_conn_output(&sc, &p)) > 0) {
		CHECK(p != NULL);
		total += k;
		CHECK(total <= TLS_FLIGHT_MAX + TLS_SMALL_OUT);
		if (to_client)
			fxc_recv(&cl, p, k);
		tls_conn_output_done(&sc, k);
	}
}

/* Feeds n bytes to the server in random splits. */
static void feed(uint8_t *d, size_t n, bool to_client)
{
	size_t off = 0;
	while (off < n && !dead) {
		size_t chunk = (rnd() & 3) ? n - off : 1 + rnd() % (n - off);
		size_t end = off + chunk;
		while (off < end && !dead) {
			struct tls_plain pl;
			int r = tls_conn_input(&sc, d + off, end - off, &pl);
			if (r < 0) {
				dead = true;
				break;
			}
			CHECK((size_t)r <= end - off);
			if (pl.len) {
				bool in_view = pl.data >= d + off && pl.data + pl.len <= d + off + r;
				bool in_work = sc.work && pl.data >= (uint8_t *)sc.work &&
					       pl.data + pl.len <= (uint8_t *)sc.work + TLS_WORK_BUF;
				CHECK(in_view || in_work);
				CHECK(pl.len <= TLS_MAX_PLAINTEXT);
			}
			if (r == 0 && !pl.len && !pl.eof) {
				const uint8_t *p;
				CHECK(tls_conn_output(&sc, &p) > 0);    /* else stuck */
			}
			off += (size_t)r;
			if (pl.eof)
				off = end;
			if (rnd() % 4 == 0 || (r == 0 && !pl.len))
				drain(to_client);
		}
	}
	drain(to_client);
}

static void client_to_server(void)
{
	static uint8_t buf[1 << 17];
	size_t n = cl.out_len;
	memcpy(buf, cl.out, n);
	cl.out_len = 0;
	feed(buf, n, true);
}

/* A handshake with options from opt; true when it completed. */
static bool handshake(uint8_t opt, bool finish)
{
	struct fxc_opts o;
	fxc_defaults(&o);
	if (opt & 0x10) {               /* a HelloRetryRequest: share P-384 only */
		o.shares[0] = TLS_GROUP_SECP384R1;
	}
	if (opt & 0x20)
		o.rsl = 100 + (opt & 0x40) * 4;
	if (opt & 0x80)
		o.early_data = true;
	fxc_init(&cl, &o);
	fxc_hello(&cl);
	for (int i = 0; i < 4 && cl.out_len && !dead; i++) {
		client_to_server();
		if (!finish && cl.stage == 3)
			return true;    /* our Finished waits in cl.out */
	}
	return !dead && cl.stage == 3 && sc.state == TLS_ST_CONNECTED;
}

/* The input as [type][len16][body] records protected by a. */
static void protected_records(struct tls_aead *a, const uint8_t *d, size_t n)
{
	static uint8_t body[TLS_MAX_PLAINTEXT + 1];
	size_t off = 0;
	while (off + 3 <= n && !dead) {
		uint8_t type = d[off];
		size_t len = (size_t)(d[off + 1] << 8 | d[off + 2]) % (sizeof body);
		off += 3;
		if (len > n - off)
			len = n - off;
		memcpy(body, d + off, len);
		off += len;
		if (cl.out_len + len + 64 > sizeof cl.out)
			break;
		fxc_record(&cl, a, type, body, len);
		if (rnd() % 3 == 0 || off >= n)
			client_to_server();
	}
	client_to_server();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct tls_server_config cfg;
	static uint8_t buf[1 << 16];
	if (size < 1 || size > sizeof buf)
		return 0;
	fx_rand_ctr = 0;
	fx_now_ms = 1700000000000ull;
	prng = size;
	for (size_t i = 0; i < size && i < 16; i++)
		prng = prng * 31 + data[i];
	if (!cfg.certs) {
		fx_config(&cfg);
		cfg.alpn[0] = "h2";
		cfg.alpn[1] = "http/1.1";
		cfg.nalpn = 2;
		cfg.max_early_data = 4096;
	}
	struct tls_server_config c = cfg;
	if (data[0] & 0x10) {
		c.groups[0] = TLS_GROUP_X25519;
		c.ngroups = 1;
	}
	CHECK(tls_server_init(&srv, &c, pool, NBUFS) == K_OK);
	tls_conn_init(&sc, &srv);
	dead = false;
	uint8_t mode = data[0] & 3;
	const uint8_t *d = data + 1;
	size_t n = size - 1;

	if (mode == 0 && data[0] < 4) {
		memcpy(buf, d, n);
		feed(buf, n, false);
	} else if (mode == 0) {
		if (handshake(data[0], true)) {
			memcpy(buf, d, n);
			feed(buf, n, true);
		}
	} else if (mode == 1 || mode == 2) {
		if (handshake(data[0], true)) {
			struct tls_plain pl;
			CHECK(tls_conn_input(&sc, NULL, 0, &pl) == 0);
			CHECK(!tls_conn_has_work(&sc));
			if (mode == 1) {
				protected_records(&cl.wr, d, n);
			} else {
				memcpy(buf, d, n);
				feed(buf, n, true);
			}
			if (!dead && tls_conn_ready(&sc)) {
				static uint8_t rec[64];
				memcpy(rec + TLS_REC_HDR, "ok", 2);
				CHECK(tls_conn_seal(&sc, rec, 2) == 2 + TLS_REC_OVERHEAD);
				fxc_send_app(&cl, "ok", 2);
				client_to_server();
			}
		}
	} else {
		if (handshake(data[0], false)) {
			/* the client's key before its Finished: c_hs */
			struct tls_aead hs_key;
			tls_aead_init(&hs_key, cl.suite, cl.c_hs);
			cl.out_len = 0;
			protected_records(&hs_key, d, n);
		}
	}
	tls_conn_release(&sc);
	CHECK(srv.stats.work_bufs_free == srv.stats.work_bufs_total);
	return 0;
}
