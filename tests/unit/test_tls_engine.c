/*
 * test_tls_engine.c - the TLS 1.3 server engine (proto/tls) against the
 * test client of tls_fixture.h: every suite and group, splits, ALPN, SNI,
 * RSA-PSS, HelloRetryRequest, resumption and ticket keys, declined 0-RTT,
 * KeyUpdate, closing, and the failures (versions, malformed hellos, bad
 * records, a wrong Finished, an empty work-buffer pool).
 *
 * A pair is one server, one server connection and one client; bytes move
 * between them through to_server (in chunks of `split` bytes, 0 meaning
 * everything at once) and to_client. TLS_WRITE_SEEDS=dir writes fuzz
 * seeds (tests/fuzz/corpus/tls/) from the client's messages.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <kiln/err.h>
#include <kiln/tls.h>

#include "tests/unit/tls_fixture.h"

#define NBUFS 4
static uint8_t pool[NBUFS][TLS_WORK_BUF] __attribute__((aligned(64)));

static struct tls_server srv;
static struct tls_conn sc;
static struct fxc cl;
static uint8_t sapp[1 << 17];
static size_t sapp_len;
static bool s_eof;
static int s_err;
static size_t split;

static void server_up(struct tls_server_config *cfg, size_t nbufs)
{
	struct tls_server_config def;
	if (!cfg) {
		fx_config(&def);
		cfg = &def;
	}
	assert_int_equal(tls_server_init(&srv, cfg, pool, nbufs), K_OK);
}

static void conn_up(const struct fxc_opts *o)
{
	struct fxc_opts d;
	if (!o) {
		fxc_defaults(&d);
		o = &d;
	}
	tls_conn_init(&sc, &srv);
	fxc_init(&cl, o);
	sapp_len = 0;
	s_eof = false;
	s_err = 0;
}

static void to_client(void)
{
	const uint8_t *p;
	size_t k;
	while ((k = tls_conn_output(&sc, &p)) > 0) {
		fxc_recv(&cl, p, k);
		tls_conn_output_done(&sc, k);
	}
}

/* Feeds the client's bytes to the server; its first error, or 0. */
static int to_server(void)
{
	static uint8_t buf[1 << 17];
	size_t n = cl.out_len, off = 0;
	memcpy(buf, cl.out, n);
	cl.out_len = 0;
	while (off < n) {
		size_t end = split && n - off > split ? off + split : n;
		while (off < end) {
			struct tls_plain pl;
			int r = tls_conn_input(&sc, buf + off, end - off, &pl);
			if (r < 0) {
				s_err = r;
				to_client();
				return r;
			}
			if (pl.len) {
				assert_true(sapp_len + pl.len <= sizeof sapp);
				memcpy(sapp + sapp_len, pl.data, pl.len);
				sapp_len += pl.len;
			}
			if (pl.eof)
				s_eof = true;
			if (r == 0 && !pl.len && !pl.eof) {
				const uint8_t *p;
				assert_true(tls_conn_output(&sc, &p) > 0);     /* else: stuck */
				to_client();
			}
			off += (size_t)r;
			if (pl.eof)
				off = end;
		}
	}
	to_client();
	return 0;
}

/* Runs the handshake from the ClientHello on; the server's error or 0. */
static int handshake(void)
{
	fxc_hello(&cl);
	for (int i = 0; i < 8 && cl.out_len; i++) {
		int r = to_server();
		if (r < 0)
			return r;
	}
	return 0;
}

static void assert_connected(void)
{
	assert_int_equal(cl.err, 0);
	assert_int_equal(cl.stage, 3);
	assert_int_equal(cl.alert, -1);
	assert_int_equal(sc.state, TLS_ST_CONNECTED);
	assert_true(tls_conn_ready(&sc));
}

/* Server to client: a record sealed in place. */
static void server_send(const char *msg)
{
	static uint8_t rec[TLS_MAX_PLAINTEXT + TLS_REC_OVERHEAD];
	size_t n = strlen(msg);
	memcpy(rec + TLS_REC_HDR, msg, n);
	int r = tls_conn_seal(&sc, rec, n);
	assert_int_equal(r, (int)(n + TLS_REC_OVERHEAD));
	fxc_recv(&cl, rec, (size_t)r);
}

static void data_both_ways(void)
{
	size_t before = cl.app_len;
	server_send("hello from the server");
	assert_int_equal(cl.app_len - before, 21);
	assert_memory_equal(cl.app + before, "hello from the server", 21);
	size_t sb = sapp_len;
	fxc_send_app(&cl, "hello from the client", 21);
	assert_int_equal(to_server(), 0);
	assert_int_equal(sapp_len - sb, 21);
	assert_memory_equal(sapp + sb, "hello from the client", 21);
	assert_int_equal(cl.err, 0);
}

static void expect_alert(int r, int alert)
{
	assert_true(r < 0);
	assert_int_equal(sc.state, TLS_ST_FAILED);
	assert_int_equal(cl.alert, alert);
	assert_int_equal(sc.last_alert, alert);
}

static void all_bufs_back(void)
{
	tls_conn_release(&sc);
	assert_int_equal(srv.stats.work_bufs_free, srv.stats.work_bufs_total);
}

static int setup(void **state)
{
	(void)state;
	fx_setup();
	split = 0;
	fx_now_ms = 1700000000000ull;
	server_up(NULL, NBUFS);
	return 0;
}

/* ---- handshakes --------------------------------------------------------------------- */

static void test_suites_groups(void **state)
{
	static const uint16_t suites[3] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
					   TLS_CHACHA20_POLY1305_SHA256};
	static const uint16_t groups[3] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1,
					   TLS_GROUP_SECP384R1};
	(void)state;
	for (int s = 0; s < 3; s++)
		for (int g = 0; g < 3; g++) {
			struct fxc_opts o;
			fxc_defaults(&o);
			o.suites[0] = suites[s];
			o.nsuites = 1;
			o.shares[0] = groups[g];
			conn_up(&o);
			assert_int_equal(handshake(), 0);
			assert_connected();
			assert_int_equal(tls_conn_suite(&sc), suites[s]);
			assert_int_equal(sc.group, groups[g]);
			assert_int_equal(cl.cert, FX_CERT_DEFAULT);
			assert_true(cl.cv_ok && cl.fin_ok);
			assert_int_equal(cl.ntk, 2);
			data_both_ways();
			/* idle and established: no work buffer */
			struct tls_plain pl;
			assert_int_equal(tls_conn_input(&sc, NULL, 0, &pl), 0);
			assert_false(tls_conn_has_work(&sc));
			all_bufs_back();
		}
	assert_int_equal(srv.stats.handshakes_full, 9);
	assert_string_equal(tls_suite_name(TLS_AES_256_GCM_SHA384), "TLS_AES_256_GCM_SHA384");
	assert_string_equal(tls_group_name(TLS_GROUP_X25519), "x25519");
	assert_string_equal(tls_alert_name(TLS_ALERT_DECRYPT_ERROR), "decrypt_error");
}

static void test_server_preference(void **state)
{
	struct tls_server_config cfg;
	struct fxc_opts o;
	(void)state;
	fx_config(&cfg);
	cfg.suites[0] = TLS_AES_256_GCM_SHA384;
	cfg.suites[1] = TLS_AES_128_GCM_SHA256;
	cfg.suites[2] = TLS_CHACHA20_POLY1305_SHA256;
	cfg.nsuites = 3;
	cfg.honour_client_chacha = true;
	server_up(&cfg, NBUFS);
	fxc_defaults(&o);
	o.shares[0] = TLS_GROUP_SECP256R1;
	o.shares[1] = TLS_GROUP_X25519;
	o.nshares = 2;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_int_equal(tls_conn_suite(&sc), TLS_AES_256_GCM_SHA384);
	assert_int_equal(sc.group, TLS_GROUP_X25519);           /* ours first */
	all_bufs_back();
	/* ChaCha20 listed first by the client: taken */
	o.suites[0] = TLS_CHACHA20_POLY1305_SHA256;
	o.suites[2] = TLS_AES_128_GCM_SHA256;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_int_equal(tls_conn_suite(&sc), TLS_CHACHA20_POLY1305_SHA256);
	all_bufs_back();
	/* no suite in common */
	o.suites[0] = 0x1304;
	o.nsuites = 1;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_HANDSHAKE_FAILURE);
	all_bufs_back();
}

static void test_splits(void **state)
{
	(void)state;
	/* byte by byte, the handshake and data */
	split = 1;
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	assert_connected();
	data_both_ways();
	all_bufs_back();
	/* odd splits */
	split = 7;
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	assert_connected();
	data_both_ways();
	/* many records in one view, the last one split */
	split = 0;
	char msg[64];
	for (int i = 0; i < 50; i++) {
		int n = snprintf(msg, sizeof msg, "record %02d;", i);
		fxc_send_app(&cl, msg, (size_t)n);
	}
	size_t total = cl.out_len;
	sapp_len = 0;
	assert_int_equal(to_server(), 0);
	assert_int_equal(sapp_len, 50 * 10);
	assert_memory_equal(sapp + 490, "record 49;", 10);
	/* one big record across views: returned from the work buffer, which
	 * goes back on the next call */
	static uint8_t big[TLS_MAX_PLAINTEXT];
	memset(big, 'x', sizeof big);
	fxc_send_app(&cl, big, sizeof big);
	split = 1000;
	sapp_len = 0;
	assert_int_equal(to_server(), 0);
	assert_int_equal(sapp_len, sizeof big);
	assert_true(tls_conn_has_work(&sc));
	struct tls_plain pl;
	assert_int_equal(tls_conn_input(&sc, NULL, 0, &pl), 0);
	assert_false(tls_conn_has_work(&sc));
	(void)total;
	all_bufs_back();
}

static void test_alpn(void **state)
{
	struct tls_server_config cfg;
	struct fxc_opts o;
	(void)state;
	fx_config(&cfg);
	cfg.alpn[0] = "h2";
	cfg.alpn[1] = "http/1.1";
	cfg.nalpn = 2;
	server_up(&cfg, NBUFS);
	fxc_defaults(&o);
	o.alpn[0] = "http/1.1";
	o.alpn[1] = "h2";
	o.nalpn = 2;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_string_equal(cl.alpn, "h2");
	assert_string_equal(tls_conn_alpn(&sc), "h2");
	all_bufs_back();
	o.alpn[0] = "http/1.1";
	o.nalpn = 1;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_string_equal(cl.alpn, "http/1.1");
	all_bufs_back();
	o.nalpn = 0;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_string_equal(cl.alpn, "");
	assert_null(tls_conn_alpn(&sc));
	all_bufs_back();
	o.alpn[0] = "spdy/3";
	o.alpn[1] = "h3";
	o.nalpn = 2;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_NO_APPLICATION_PROTOCOL);
	assert_int_equal(srv.stats.alerts_sent[TLS_ALERT_NO_APPLICATION_PROTOCOL], 1);
	all_bufs_back();
}

static void sni_case(const char *name, int cert, bool ack)
{
	struct fxc_opts o;
	fxc_defaults(&o);
	o.sni = name;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_int_equal(cl.cert, cert);
	assert_int_equal(cl.sni_ack, ack);
	all_bufs_back();
}

static void test_sni(void **state)
{
	(void)state;
	sni_case("www.example.org", FX_CERT_EXAMPLE, true);
	sni_case("EXAMPLE.org", FX_CERT_EXAMPLE, true);
	sni_case("a.wild.test", FX_CERT_WILD, true);
	sni_case("a.b.wild.test", FX_CERT_DEFAULT, false);
	sni_case("wild.test", FX_CERT_DEFAULT, false);
	sni_case("unknown.test", FX_CERT_DEFAULT, false);
	sni_case(NULL, FX_CERT_DEFAULT, false);
	/* the RSA certificate's name, but the client verifies only ECDSA */
	struct fxc_opts o;
	fxc_defaults(&o);
	o.sni = "rsa.test";
	o.sigalgs[0] = 0x0403;
	o.nsigalgs = 1;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_int_equal(cl.cert, FX_CERT_DEFAULT);
	all_bufs_back();
}

static void test_rsa_pss(void **state)
{
	static const uint16_t algs[3] = {0x0804, 0x0805, 0x0806};
	(void)state;
	for (int i = 0; i < 3; i++) {
		struct fxc_opts o;
		fxc_defaults(&o);
		o.sigalgs[0] = 0x0401;  /* rsa_pkcs1_sha256: not for TLS 1.3 signatures */
		o.sigalgs[1] = algs[i];
		o.nsigalgs = 2;
		conn_up(&o);
		assert_int_equal(handshake(), 0);
		assert_connected();
		assert_int_equal(cl.cert, FX_CERT_RSA);
		assert_int_equal(cl.sigalg, algs[i]);
		assert_true(cl.cv_ok);
		data_both_ways();
		all_bufs_back();
	}
	/* nothing we can sign with */
	struct fxc_opts o;
	fxc_defaults(&o);
	o.sigalgs[0] = 0x0503;
	o.nsigalgs = 1;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_HANDSHAKE_FAILURE);
	all_bufs_back();
}

static void send_fake_early(int n, size_t len);

static void test_hrr(void **state)
{
	struct tls_server_config cfg;
	struct fxc_opts o;
	(void)state;
	fx_config(&cfg);
	cfg.groups[0] = TLS_GROUP_X25519;
	cfg.ngroups = 1;
	server_up(&cfg, NBUFS);
	fxc_defaults(&o);
	o.groups[0] = TLS_GROUP_SECP256R1;
	o.groups[1] = TLS_GROUP_X25519;
	o.ngroups = 2;
	o.shares[0] = TLS_GROUP_SECP256R1;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_true(cl.hrr);
	assert_true(cl.cookie_len > 0);
	assert_int_equal(sc.group, TLS_GROUP_X25519);
	assert_int_equal(srv.stats.hrr_sent, 1);
	data_both_ways();
	all_bufs_back();
	/* the same byte by byte, with SHA-384 */
	split = 1;
	o.suites[0] = TLS_AES_256_GCM_SHA384;
	o.nsuites = 1;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_true(cl.hrr);
	all_bufs_back();
	split = 0;
	/* early data after ClientHello1: skipped before any key exists */
	o.early_data = true;
	conn_up(&o);
	fxc_hello(&cl);
	send_fake_early(2, 80);
	for (int i = 0; i < 8 && cl.out_len; i++)
		assert_int_equal(to_server(), 0);
	assert_connected();
	assert_true(cl.hrr);
	assert_int_equal(sapp_len, 0);
	assert_int_equal(srv.stats.early_data_skipped, 2 * (80 + 17));
	all_bufs_back();
	o.early_data = false;
	/* the cookie must come back as it was */
	o.bad_cookie = true;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_ILLEGAL_PARAMETER);
	all_bufs_back();
	/* no group in common at all */
	o.bad_cookie = false;
	o.groups[0] = TLS_GROUP_SECP384R1;
	o.ngroups = 1;
	o.shares[0] = TLS_GROUP_SECP384R1;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_HANDSHAKE_FAILURE);
	all_bufs_back();
}

/* ---- resumption ------------------------------------------------------------------------ */

static struct fxc_ticket saved[4];

static void full_for_tickets(const struct fxc_opts *o)
{
	conn_up(o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_true(cl.ntk >= 1);
	memcpy(saved, cl.tk, sizeof saved);
	all_bufs_back();
}

static int resume(const struct fxc_opts *o, const struct fxc_ticket *t)
{
	conn_up(o);
	cl.offer = t;
	return handshake();
}

static void test_resumption(void **state)
{
	struct fxc_opts o;
	(void)state;
	fxc_defaults(&o);
	o.sni = "www.example.org";
	full_for_tickets(&o);
	fx_now_ms += 5000;
	assert_int_equal(resume(&o, &saved[0]), 0);
	assert_connected();
	assert_true(cl.resumed);
	assert_false(cl.got_cert);
	assert_true(sc.resumed);
	assert_int_equal(srv.stats.handshakes_resumed, 1);
	data_both_ways();
	all_bufs_back();
	/* the second ticket too, split byte by byte */
	split = 1;
	assert_int_equal(resume(&o, &saved[1]), 0);
	assert_connected();
	assert_true(cl.resumed);
	all_bufs_back();
	split = 0;
	/* a wrong binder is fatal */
	o.bad_binder = true;
	expect_alert(resume(&o, &saved[0]), TLS_ALERT_DECRYPT_ERROR);
	all_bufs_back();
	o.bad_binder = false;
	/* a ticket for another certificate: a full handshake */
	struct fxc_opts o2 = o;
	o2.sni = NULL;
	uint64_t bad = srv.stats.tickets_bad;
	assert_int_equal(resume(&o2, &saved[0]), 0);
	assert_connected();
	assert_false(cl.resumed);
	assert_true(cl.got_cert);
	assert_int_equal(srv.stats.tickets_bad, bad + 1);
	all_bufs_back();
	/* an age far off */
	o.age_skew_ms = 60000;
	assert_int_equal(resume(&o, &saved[0]), 0);
	assert_connected();
	assert_false(cl.resumed);
	all_bufs_back();
	o.age_skew_ms = 0;
	/* a forged ticket */
	struct fxc_ticket f = saved[0];
	f.id[30] ^= 1;
	assert_int_equal(resume(&o, &f), 0);
	assert_connected();
	assert_false(cl.resumed);
	all_bufs_back();
	/* expired */
	fx_now_ms += (uint64_t)srv.cfg.ticket_lifetime_s * 1000u;
	assert_int_equal(resume(&o, &saved[0]), 0);
	assert_connected();
	assert_false(cl.resumed);
	all_bufs_back();
}

static void test_ticket_rotation(void **state)
{
	struct tls_server_config cfg;
	struct fxc_opts o;
	(void)state;
	fx_config(&cfg);
	cfg.ticket_lifetime_s = 100000;
	cfg.ticket_rotate_s = 100;
	server_up(&cfg, NBUFS);
	fxc_defaults(&o);
	full_for_tickets(&o);
	struct fxc_ticket old = saved[0];
	/* one period on: the previous key still opens it */
	fx_now_ms += 100 * 1000;
	tls_server_tick(&srv);
	assert_int_equal(resume(&o, &old), 0);
	assert_connected();
	assert_true(cl.resumed);
	all_bufs_back();
	/* two periods: gone */
	fx_now_ms += 100 * 1000;
	tls_server_tick(&srv);
	assert_int_equal(resume(&o, &old), 0);
	assert_connected();
	assert_false(cl.resumed);
	all_bufs_back();
	/* a tick that comes two periods late drops both */
	full_for_tickets(&o);
	old = saved[0];
	fx_now_ms += 250 * 1000;
	tls_server_tick(&srv);
	assert_int_equal(resume(&o, &old), 0);
	assert_false(cl.resumed);
	all_bufs_back();
}

/* ---- 0-RTT declined ------------------------------------------------------------------------ */

static void send_fake_early(int n, size_t len)
{
	struct tls_aead a;
	uint8_t secret[32], d[2048];
	fx_random(secret, sizeof secret);
	tls_aead_init(&a, tls_suite_index(TLS_AES_128_GCM_SHA256), secret);
	memset(d, 'E', sizeof d);
	for (int i = 0; i < n; i++)
		fxc_record(&cl, &a, TLS_CT_APPDATA, d, len);
}

static void test_early_data(void **state)
{
	struct fxc_opts o;
	(void)state;
	fxc_defaults(&o);
	o.early_data = true;
	conn_up(&o);
	fxc_hello(&cl);
	send_fake_early(3, 100);
	for (int i = 0; i < 8 && cl.out_len; i++)
		assert_int_equal(to_server(), 0);
	assert_connected();
	assert_int_equal(sapp_len, 0);          /* never delivered */
	assert_int_equal(srv.stats.early_data_skipped, 3 * (100 + 17));
	data_both_ways();
	all_bufs_back();
	/* resumed with early data: declined the same way */
	full_for_tickets(&o);
	conn_up(&o);
	cl.offer = &saved[0];
	fxc_hello(&cl);
	send_fake_early(2, 50);
	for (int i = 0; i < 8 && cl.out_len; i++)
		assert_int_equal(to_server(), 0);
	assert_connected();
	assert_true(cl.resumed);
	assert_int_equal(sapp_len, 0);
	all_bufs_back();
	/* more than max_early_data */
	conn_up(&o);
	fxc_hello(&cl);
	send_fake_early(200, 100);
	int r = 0;
	for (int i = 0; i < 8 && cl.out_len && r == 0; i++)
		r = to_server();
	expect_alert(r, TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
}

/* ---- after the handshake ---------------------------------------------------------------------- */

static void test_key_update(void **state)
{
	(void)state;
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	assert_connected();
	/* the client asks: the server answers with its own */
	fxc_key_update(&cl, true);
	fxc_send_app(&cl, "after", 5);
	sapp_len = 0;
	assert_int_equal(to_server(), 0);
	assert_int_equal(sapp_len, 5);
	assert_int_equal(cl.keyupdates, 1);
	data_both_ways();
	/* the server's own */
	assert_int_equal(tls_conn_key_update(&sc, false), K_OK);
	to_client();
	assert_int_equal(cl.keyupdates, 2);
	data_both_ways();
	assert_int_equal(tls_conn_key_update(&sc, true), K_OK);
	to_client();
	assert_int_equal(to_server(), 0);       /* the client's answer */
	data_both_ways();
	assert_int_equal(srv.stats.keyupdates_in, 2);
	assert_int_equal(srv.stats.keyupdates_out, 3);
	/* a flood */
	for (unsigned i = 0; i <= srv.cfg.max_keyupdates; i++)
		fxc_key_update(&cl, false);
	expect_alert(to_server(), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
}

static void test_empty_records(void **state)
{
	(void)state;
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	for (unsigned i = 0; i < srv.cfg.max_empty_records; i++)
		fxc_send_app(&cl, "", 0);
	fxc_send_app(&cl, "x", 1);
	assert_int_equal(to_server(), 0);
	assert_int_equal(sapp_len, 1);
	for (unsigned i = 0; i <= srv.cfg.max_empty_records; i++)
		fxc_send_app(&cl, "", 0);
	expect_alert(to_server(), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
}

static void test_close_notify(void **state)
{
	(void)state;
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	static const uint8_t cn[2] = {1, 0};
	fxc_send_app(&cl, "bye", 3);
	fxc_record(&cl, &cl.wr, TLS_CT_ALERT, cn, 2);
	fxc_send_app(&cl, "ignored", 7);
	assert_int_equal(to_server(), 0);
	assert_true(s_eof);
	assert_int_equal(sapp_len, 3);
	assert_int_equal(sc.state, TLS_ST_CLOSED);
	assert_int_equal(srv.stats.alerts_received[0], 1);
	/* we may still send, then close our side */
	size_t before = cl.app_len;
	server_send("still here");
	assert_int_equal(cl.app_len - before, 10);
	tls_conn_close_notify(&sc);
	to_client();
	assert_true(cl.closed);
	assert_false(tls_conn_ready(&sc));
	uint8_t rec[64];
	assert_int_equal(tls_conn_seal(&sc, rec, 4), K_ECLOSED);
	all_bufs_back();
	/* a fatal alert from the client */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	static const uint8_t fa[2] = {2, 40};
	fxc_record(&cl, &cl.wr, TLS_CT_ALERT, fa, 2);
	assert_int_equal(to_server(), K_ECONNRESET);
	assert_int_equal(sc.state, TLS_ST_FAILED);
	all_bufs_back();
}

/* ---- failures ------------------------------------------------------------------------------------ */

static int feed_raw(const uint8_t *d, size_t n)
{
	memcpy(cl.out, d, n);
	cl.out_len = n;
	return to_server();
}

static void test_versions(void **state)
{
	struct fxc_opts o;
	(void)state;
	fxc_defaults(&o);
	o.tls12 = true;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_PROTOCOL_VERSION);
	all_bufs_back();
	/* SSLv2-format ClientHello */
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00,
				     0x00, 0x10, 0x07, 0x00, 0xc0, 0x05, 0x00, 0x80};
	conn_up(NULL);
	expect_alert(feed_raw(v2, sizeof v2), TLS_ALERT_PROTOCOL_VERSION);
	all_bufs_back();
	/* a record of a type TLS does not have (top bit set, not SSLv2) */
	static const uint8_t odd[] = {0x99, 0x03, 0x03, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o'};
	conn_up(NULL);
	expect_alert(feed_raw(odd, sizeof odd), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
}

static void test_malformed_hellos(void **state)
{
	struct fxc_opts o;
	(void)state;
	fxc_defaults(&o);
	o.sni = "www.example.org";
	o.alpn[0] = "h2";
	o.nalpn = 1;
	o.rsl = 4096;
	o.early_data = true;
	conn_up(&o);
	fxc_hello(&cl);
	static uint8_t ch[4096];
	size_t n = cl.ch_len;
	memcpy(ch, cl.ch, n);
	/* the hello cut short at every byte, lengths made to agree */
	for (size_t cut = 4; cut < n; cut++) {
		uint8_t rec[4096 + 5] = {22, 3, 1, 0, 0};
		size_t ml = cut;
		memcpy(rec + 5, ch, ml);
		rec[5 + 1] = (uint8_t)((ml - 4) >> 16);
		rec[5 + 2] = (uint8_t)((ml - 4) >> 8);
		rec[5 + 3] = (uint8_t)(ml - 4);
		rec[3] = (uint8_t)(ml >> 8);
		rec[4] = (uint8_t)ml;
		conn_up(&o);
		int r = feed_raw(rec, 5 + ml);
		assert_true(r < 0);
		assert_true(cl.alert == TLS_ALERT_DECODE_ERROR ||
			    cl.alert == TLS_ALERT_PROTOCOL_VERSION ||
			    cl.alert == TLS_ALERT_ILLEGAL_PARAMETER);
		all_bufs_back();
	}
	/* the record cut short: nothing happens until the rest comes */
	for (size_t cut = 0; cut < n + 5; cut += 13) {
		conn_up(&o);
		uint8_t rec[4096 + 5] = {22, 3, 1, (uint8_t)(n >> 8), (uint8_t)n};
		memcpy(rec + 5, ch, n);
		struct tls_plain pl;
		int r = tls_conn_input(&sc, rec, cut, &pl);
		assert_int_equal(r, (int)cut);
		assert_int_equal(sc.state, TLS_ST_START);
		r = tls_conn_input(&sc, rec + cut, n + 5 - cut, &pl);
		assert_int_equal(r, (int)(n + 5 - cut));
		assert_int_equal(sc.state, TLS_ST_WAIT_FINISHED);
		all_bufs_back();
	}
	/* a duplicate extension */
	o.dup_ext = true;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_ILLEGAL_PARAMETER);
	all_bufs_back();
	/* compression other than [0] */
	conn_up(NULL);
	fxc_hello(&cl);
	cl.out[5 + 4 + 2 + 32 + 33 + 2 + 6 + 1] = 1;
	expect_alert(to_server(), TLS_ALERT_ILLEGAL_PARAMETER);
	all_bufs_back();
	/* application data before the handshake */
	static const uint8_t ad[] = {23, 3, 3, 0, 1, 0};
	conn_up(NULL);
	expect_alert(feed_raw(ad, sizeof ad), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
	/* something other than a ClientHello first */
	static const uint8_t fin[] = {22, 3, 3, 0, 8, 20, 0, 0, 4, 1, 2, 3, 4};
	conn_up(NULL);
	expect_alert(feed_raw(fin, sizeof fin), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
	/* a ClientHello and more in its record */
	conn_up(NULL);
	fxc_hello(&cl);
	memcpy(ch, cl.out, cl.out_len);
	n = cl.out_len;
	ch[n] = 1;
	ch[n + 1] = 0;
	ch[4] = (uint8_t)(ch[4] + 2);
	if (ch[4] < 2)
		ch[3]++;
	expect_alert(feed_raw(ch, n + 2), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
}

static void test_bad_records(void **state)
{
	(void)state;
	/* a flipped bit */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	fxc_send_app(&cl, "tampered", 8);
	cl.out[7] ^= 1;
	expect_alert(to_server(), TLS_ALERT_BAD_RECORD_MAC);
	assert_int_equal(srv.stats.bad_records, 1);
	all_bufs_back();
	/* too long */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	uint8_t h[5] = {23, 3, 3, (TLS_MAX_CIPHERTEXT + 1) >> 8, (TLS_MAX_CIPHERTEXT + 1) & 0xff};
	expect_alert(feed_raw(h, 5), TLS_ALERT_RECORD_OVERFLOW);
	all_bufs_back();
	/* a plaintext record over 2^14 */
	conn_up(NULL);
	uint8_t h2[5] = {22, 3, 1, 0x40, 0x01};
	expect_alert(feed_raw(h2, 5), TLS_ALERT_RECORD_OVERFLOW);
	all_bufs_back();
	/* an inner plaintext over 2^14 (padding aside) */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	static uint8_t big[TLS_MAX_PLAINTEXT + 1];
	memset(big, 'y', sizeof big);
	fxc_send_app(&cl, big, sizeof big);
	expect_alert(to_server(), TLS_ALERT_RECORD_OVERFLOW);
	all_bufs_back();
	/* a handshake message other than KeyUpdate after the handshake */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	static const uint8_t nst[9] = {4, 0, 0, 5, 0, 0, 0, 0, 0};
	fxc_record(&cl, &cl.wr, TLS_CT_HANDSHAKE, nst, sizeof nst);
	expect_alert(to_server(), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
	/* a KeyUpdate with more behind it in its record */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	static const uint8_t ku2[10] = {24, 0, 0, 1, 0, 24, 0, 0, 1, 0};
	fxc_record(&cl, &cl.wr, TLS_CT_HANDSHAKE, ku2, sizeof ku2);
	expect_alert(to_server(), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
	/* a change_cipher_spec after the handshake */
	conn_up(NULL);
	assert_int_equal(handshake(), 0);
	static const uint8_t ccs[6] = {20, 3, 3, 0, 1, 1};
	expect_alert(feed_raw(ccs, 6), TLS_ALERT_UNEXPECTED_MESSAGE);
	all_bufs_back();
}

static void test_bad_finished(void **state)
{
	struct fxc_opts o;
	(void)state;
	fxc_defaults(&o);
	o.bad_finished = true;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_DECRYPT_ERROR);
	assert_int_equal(srv.stats.handshakes_failed, 1);
	all_bufs_back();
}

static void test_record_size_limit(void **state)
{
	struct fxc_opts o;
	(void)state;
	fxc_defaults(&o);
	o.rsl = 256;
	conn_up(&o);
	assert_int_equal(handshake(), 0);
	assert_connected();
	assert_int_equal(cl.rsl, TLS_MAX_PLAINTEXT + 1);
	assert_int_equal(tls_conn_max_plain(&sc), 255);
	uint8_t rec[512];
	assert_int_equal(tls_conn_seal(&sc, rec, 256), K_EMSGSIZE);
	data_both_ways();
	all_bufs_back();
	o.rsl = 63;
	conn_up(&o);
	expect_alert(handshake(), TLS_ALERT_ILLEGAL_PARAMETER);
	all_bufs_back();
}

static void test_pool_exhaustion(void **state)
{
	static struct tls_conn other;
	(void)state;
	server_up(NULL, 1);
	conn_up(NULL);
	fxc_hello(&cl);
	uint8_t ch[4096];
	size_t n = cl.out_len;
	memcpy(ch, cl.out, n);
	assert_int_equal(to_server(), 0);        /* holds the only buffer */
	tls_conn_init(&other, &srv);
	struct tls_plain pl;
	assert_int_equal(tls_conn_input(&other, ch, n, &pl), K_ENOMEM);
	assert_int_equal(srv.stats.work_buf_exhausted, 1);
	assert_int_equal(other.state, TLS_ST_START);
	/* the first finishes and, idle, gives its buffer back */
	assert_int_equal(to_server(), 0);
	assert_connected();
	assert_false(tls_conn_has_work(&sc));
	assert_int_equal(srv.stats.work_bufs_free, 1);
	assert_int_equal(tls_conn_input(&other, ch, n, &pl), (int)n);
	assert_int_equal(other.state, TLS_ST_WAIT_FINISHED);
	tls_conn_release(&other);
	all_bufs_back();
}

static void test_config(void **state)
{
	struct tls_server_config cfg;
	struct tls_server s;
	(void)state;
	fx_config(&cfg);
	cfg.suites[0] = 0x1305;
	cfg.nsuites = 1;
	assert_int_equal(tls_server_init(&s, &cfg, pool, 1), K_EINVAL);
	fx_config(&cfg);
	cfg.random = NULL;
	assert_int_equal(tls_server_init(&s, &cfg, pool, 1), K_EINVAL);
	fx_config(&cfg);
	assert_int_equal(tls_server_init(&s, &cfg, (uint8_t *)pool + 8, 1), K_EINVAL);
	assert_int_equal(tls_server_init(&s, &cfg, pool, 1), K_OK);
	assert_int_equal(s.cfg.nsuites, 3);
	assert_int_equal(s.cfg.groups[0], TLS_GROUP_X25519);
}

/* TLS_WRITE_SEEDS=dir: a few fuzz seeds (mode byte, then the stream). */
static void write_seed(const char *dir, const char *name, uint8_t mode, const uint8_t *d,
		       size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	fputc(mode, f);
	fwrite(d, 1, n, f);
	fclose(f);
}

static void test_write_seeds(void **state)
{
	(void)state;
	const char *dir = getenv("TLS_WRITE_SEEDS");
	if (!dir)
		return;
	struct fxc_opts o;
	fxc_defaults(&o);
	o.sni = "www.example.org";
	o.alpn[0] = "h2";
	o.nalpn = 1;
	o.shares[1] = TLS_GROUP_SECP256R1;
	o.nshares = 2;
	conn_up(&o);
	fxc_hello(&cl);
	write_seed(dir, "client_hello", 0, cl.out, cl.out_len);
	fxc_defaults(&o);
	o.groups[0] = TLS_GROUP_SECP384R1;
	o.shares[0] = TLS_GROUP_SECP384R1;
	o.early_data = true;
	o.rsl = 1000;
	conn_up(&o);
	fxc_hello(&cl);
	write_seed(dir, "client_hello_p384_early", 0, cl.out, cl.out_len);
	/* established (mode 1): [type][len16][body] records the client
	 * protects - a KeyUpdate asking for ours, data, close_notify */
	static const uint8_t recs[] = {22, 0, 5, 24, 0, 0, 1, 1, 23, 0, 5, 'h', 'e', 'l', 'l',
				       'o', 21, 0, 2, 1, 0};
	write_seed(dir, "established_records", 1, recs, sizeof recs);
	/* the same after a HRR, with record_size_limit and early_data */
	write_seed(dir, "established_hrr_rsl_early", 0xb1, recs, sizeof recs);
	/* established, raw bytes (mode 2): a forged record */
	static const uint8_t raw[] = {23, 3, 3, 0, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
				      11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	write_seed(dir, "established_raw", 2, raw, sizeof raw);
	/* mid-handshake (mode 3): a wrong Finished under the handshake key */
	uint8_t fin[3 + 36] = {22, 0, 36, 20, 0, 0, 32};
	write_seed(dir, "wrong_finished", 3, fin, sizeof fin);
	tls_conn_release(&sc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_suites_groups, setup),
		cmocka_unit_test_setup(test_server_preference, setup),
		cmocka_unit_test_setup(test_splits, setup),
		cmocka_unit_test_setup(test_alpn, setup),
		cmocka_unit_test_setup(test_sni, setup),
		cmocka_unit_test_setup(test_rsa_pss, setup),
		cmocka_unit_test_setup(test_hrr, setup),
		cmocka_unit_test_setup(test_resumption, setup),
		cmocka_unit_test_setup(test_ticket_rotation, setup),
		cmocka_unit_test_setup(test_early_data, setup),
		cmocka_unit_test_setup(test_key_update, setup),
		cmocka_unit_test_setup(test_empty_records, setup),
		cmocka_unit_test_setup(test_close_notify, setup),
		cmocka_unit_test_setup(test_versions, setup),
		cmocka_unit_test_setup(test_malformed_hellos, setup),
		cmocka_unit_test_setup(test_bad_records, setup),
		cmocka_unit_test_setup(test_bad_finished, setup),
		cmocka_unit_test_setup(test_record_size_limit, setup),
		cmocka_unit_test_setup(test_pool_exhaustion, setup),
		cmocka_unit_test_setup(test_config, setup),
		cmocka_unit_test_setup(test_write_seeds, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
