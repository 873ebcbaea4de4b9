/*
 * tls_server.c - the TLS server's shared state: configuration defaults,
 * the pool of work buffers, session-ticket key rotation, names.
 *
 * Interface: tls_server_config_default, tls_server_init, tls_server_tick,
 * tls_suite_name, tls_group_name, tls_alert_name (kiln/tls.h);
 * tls_work_get, tls_work_put (tls_int.h).
 *
 * Rules:
 *  - The work buffers are the caller's memory, carved into TLS_WORK_BUF
 *    pieces at init and kept on a free list; nothing is allocated later.
 *  - Ticket keys (RFC 8446 4.6.1, stateless tickets): ticket_key[0] seals
 *    new tickets; at every ticket_rotate_s it moves to [1] and a fresh
 *    random key takes its place, so a ticket stays acceptable for one to
 *    two periods; when tick comes late by a whole period, [1] is dropped
 *    too. Each key has a random 4-byte id carried in the ticket.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/tls.h>

#include "tls_int.h"
#include "tls_priv.h"

_Static_assert(sizeof(struct tls_work) <= TLS_WORK_BUF, "struct tls_work outgrew TLS_WORK_BUF");
_Static_assert(sizeof(struct tls_hs) + 64 <= TLS_WORK_STATE, "struct tls_hs outgrew TLS_WORK_STATE");

void tls_server_config_default(struct tls_server_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->honour_client_chacha = true;
	cfg->ticket_lifetime_s = 7200;
	cfg->ticket_rotate_s = 3600;
	cfg->tickets_per_handshake = 2;
	cfg->max_early_data = 16384;
	cfg->max_keyupdates = 8;
	cfg->max_empty_records = 32;
}

static bool known_group(uint16_t g)
{
	return g == TLS_GROUP_X25519 || g == TLS_GROUP_SECP256R1 || g == TLS_GROUP_SECP384R1;
}

static void new_ticket_key(struct tls_server *srv)
{
	memcpy(srv->ticket_key[1], srv->ticket_key[0], 32);
	memcpy(srv->ticket_key_id[1], srv->ticket_key_id[0], 4);
	srv->cfg.random(srv->ticket_key[0], 32);
	do
		srv->cfg.random(srv->ticket_key_id[0], 4);
	while (srv->ticket_keys && !memcmp(srv->ticket_key_id[0], srv->ticket_key_id[1], 4));
	if (srv->ticket_keys < 2)
		srv->ticket_keys++;
}

int tls_server_init(struct tls_server *srv, const struct tls_server_config *cfg,
		    void *bufs, size_t nbufs)
{
	memset(srv, 0, sizeof *srv);
	if (!cfg->certs || !cfg->ncerts || cfg->ncerts > TLS_MAX_CERTS || !cfg->random ||
	    !cfg->now_ms || cfg->nsuites > TLS_MAX_SUITES || cfg->ngroups > TLS_MAX_GROUPS ||
	    cfg->nalpn > TLS_MAX_ALPN || ((uintptr_t)bufs & 15) || (nbufs && !bufs) ||
	    nbufs > UINT32_MAX)
		return K_EINVAL;
	srv->cfg = *cfg;
	srv->aesni = tls_cpu_aesni();
	if (!srv->cfg.nsuites) {
		static const uint16_t ni[3] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
					       TLS_CHACHA20_POLY1305_SHA256};
		static const uint16_t soft[3] = {TLS_CHACHA20_POLY1305_SHA256,
						 TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384};
		memcpy(srv->cfg.suites, srv->aesni ? ni : soft, sizeof ni);
		srv->cfg.nsuites = 3;
	}
	if (!srv->cfg.ngroups) {
		srv->cfg.groups[0] = TLS_GROUP_X25519;
		srv->cfg.groups[1] = TLS_GROUP_SECP256R1;
		srv->cfg.groups[2] = TLS_GROUP_SECP384R1;
		srv->cfg.ngroups = 3;
	}
	for (unsigned i = 0; i < srv->cfg.nsuites; i++)
		if (!tls_suite_index(srv->cfg.suites[i]))
			return K_EINVAL;
	for (unsigned i = 0; i < srv->cfg.ngroups; i++)
		if (!known_group(srv->cfg.groups[i]))
			return K_EINVAL;
	for (unsigned i = 0; i < cfg->nalpn; i++) {
		size_t n = cfg->alpn[i] ? strlen(cfg->alpn[i]) : 0;
		if (n == 0 || n > 255)
			return K_EINVAL;
	}
	for (unsigned i = 0; i < cfg->ncerts; i++) {
		const struct tls_cert *ct = &cfg->certs[i];
		if (!ct->chain || !ct->chain_len || ct->chain_len > TLS_MAX_CHAIN)
			return K_EINVAL;
		for (unsigned j = 0; j < ct->chain_len; j++)
			if (!ct->chain[j].data || !ct->chain[j].len || ct->chain[j].len > 0xffffffu)
				return K_EINVAL;
		if (ct->key_type == TLS_KEY_EC_P256) {
			if (ct->ec.curve != BR_EC_secp256r1 || !ct->ec.x || !ct->ec.xlen)
				return K_EINVAL;
		} else if (ct->key_type == TLS_KEY_RSA) {
			if (!ct->rsa.n_bitlen || ct->rsa.n_bitlen > TLS_SIG_MAX * 8 ||
			    !ct->rsa_pub.n || !ct->rsa_pub.nlen)
				return K_EINVAL;
		} else {
			return K_EINVAL;
		}
	}
	uint8_t *b = bufs;
	for (size_t i = nbufs; i-- > 0;) {
		struct tls_work *w = (struct tls_work *)(void *)(b + i * (size_t)TLS_WORK_BUF);
		w->next = srv->free_work;
		srv->free_work = w;
	}
	srv->stats.work_bufs_total = srv->stats.work_bufs_free = (uint32_t)nbufs;
	srv->cfg.random(srv->cookie_key, sizeof srv->cookie_key);
	new_ticket_key(srv);
	srv->ticket_key_born_ms = srv->cfg.now_ms();
	return K_OK;
}

void tls_server_tick(struct tls_server *srv)
{
	uint64_t now = srv->cfg.now_ms();
	uint64_t period = (uint64_t)srv->cfg.ticket_rotate_s * 1000u;
	if (!period || now < srv->ticket_key_born_ms || now - srv->ticket_key_born_ms < period)
		return;
	bool late = now - srv->ticket_key_born_ms >= 2 * period;
	new_ticket_key(srv);
	if (late) {
		/* the previous key is more than a period old too */
		tls_wipe(srv->ticket_key[1], 32);
		srv->ticket_keys = 1;
	}
	srv->ticket_key_born_ms = now;
}

struct tls_work *tls_work_get(struct tls_server *srv)
{
	struct tls_work *w = srv->free_work;
	if (!w) {
		srv->stats.work_buf_exhausted++;
		return NULL;
	}
	srv->free_work = w->next;
	srv->stats.work_bufs_free--;
	w->next = NULL;
	memset(&w->hs, 0, sizeof w->hs);
	w->msg_len = w->out_len = w->out_off = 0;
	return w;
}

void tls_work_put(struct tls_server *srv, struct tls_work *w)
{
	tls_wipe(&w->hs, sizeof w->hs);
	w->next = srv->free_work;
	srv->free_work = w;
	srv->stats.work_bufs_free++;
}

const char *tls_suite_name(uint16_t suite)
{
	unsigned i = tls_suite_index(suite);
	return i ? tls_suites[i].name : "unknown";
}

const char *tls_group_name(uint16_t group)
{
	switch (group) {
	case TLS_GROUP_X25519: return "x25519";
	case TLS_GROUP_SECP256R1: return "secp256r1";
	case TLS_GROUP_SECP384R1: return "secp384r1";
	default: return "unknown";
	}
}

const char *tls_alert_name(unsigned alert)
{
	switch (alert) {
	case TLS_ALERT_CLOSE_NOTIFY: return "close_notify";
	case TLS_ALERT_UNEXPECTED_MESSAGE: return "unexpected_message";
	case TLS_ALERT_BAD_RECORD_MAC: return "bad_record_mac";
	case TLS_ALERT_RECORD_OVERFLOW: return "record_overflow";
	case TLS_ALERT_HANDSHAKE_FAILURE: return "handshake_failure";
	case TLS_ALERT_BAD_CERTIFICATE: return "bad_certificate";
	case TLS_ALERT_ILLEGAL_PARAMETER: return "illegal_parameter";
	case TLS_ALERT_DECODE_ERROR: return "decode_error";
	case TLS_ALERT_DECRYPT_ERROR: return "decrypt_error";
	case TLS_ALERT_PROTOCOL_VERSION: return "protocol_version";
	case TLS_ALERT_INSUFFICIENT_SECURITY: return "insufficient_security";
	case TLS_ALERT_INTERNAL_ERROR: return "internal_error";
	case TLS_ALERT_INAPPROPRIATE_FALLBACK: return "inappropriate_fallback";
	case TLS_ALERT_USER_CANCELED: return "user_canceled";
	case TLS_ALERT_MISSING_EXTENSION: return "missing_extension";
	case TLS_ALERT_UNSUPPORTED_EXTENSION: return "unsupported_extension";
	case TLS_ALERT_UNRECOGNIZED_NAME: return "unrecognized_name";
	case TLS_ALERT_NO_APPLICATION_PROTOCOL: return "no_application_protocol";
	default: return "unknown";
	}
}
