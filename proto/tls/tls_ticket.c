/*
 * tls_ticket.c - stateless session tickets (RFC 8446 4.6.1, 2.2) and PSK
 * binders (4.2.11.2).
 *
 * Interface: tls_ticket_issue, tls_ticket_accept, tls_ticket_binder
 * (tls_int.h).
 *
 * A ticket is what the server needs to resume, sealed under its current
 * ticket key (AES-256-GCM, tls_ticket_seal):
 *
 *   key_id[4] nonce[12] | suite[2] issued_ms[8] age_add[4] alpn[1]
 *                         cert[1] psk_len[1] psk[48] | tag[16]
 *
 * with the key id as additional data. The PSK is HKDF-Expand-Label(
 * resumption_master_secret, "resumption", ticket_nonce) (4.6.1); the
 * ticket nonce is the ticket's number within the connection.
 *
 * Rules:
 *  - A ticket is accepted when its key is one of the server's two
 *    (tls_server_tick), its tag verifies, it is within ticket_lifetime_s,
 *    the client's idea of its age (obfuscated_ticket_age - age_add)
 *    differs from ours by at most TLS_TICKET_AGE_SLACK_MS, its suite has
 *    the hash of the one chosen now (4.2.11) and it was issued for the
 *    certificate SNI picks now. Otherwise it is ignored (tickets_bad) and
 *    the handshake is a full one; the first usable identity is taken.
 *  - Tickets go out in the small buffer after the client's Finished, as
 *    many of tickets_per_handshake as fit; none announce early data.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/tls.h>

#include "tls_int.h"
#include "tls_priv.h"

void tls_ticket_binder(unsigned alg, const uint8_t *psk, const uint8_t *th, uint8_t *out)
{
	size_t hl = tls_hash_len(alg);
	uint8_t early[TLS_HASH_MAX], bk[TLS_HASH_MAX], key[TLS_HASH_MAX], eh[TLS_HASH_MAX];
	tls_hkdf_extract(alg, NULL, 0, psk, hl, early);
	tls_hash(alg, NULL, 0, eh);
	tls_derive_secret(alg, early, "res binder", eh, bk);
	tls_hkdf_expand_label(alg, bk, "finished", NULL, 0, key, hl);
	tls_hmac(alg, key, hl, th, hl, out);
	tls_wipe(early, sizeof early);
	tls_wipe(bk, sizeof bk);
	tls_wipe(key, sizeof key);
}

static void put64(uint8_t *p, uint64_t v)
{
	tls_put32(p, (uint32_t)(v >> 32));
	tls_put32(p + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void tls_ticket_issue(struct tls_conn *c)
{
	struct tls_server *srv = c->srv;
	const struct tls_server_config *cfg = &srv->cfg;
	unsigned alg = c->hash;
	size_t hl = tls_hash_len(alg);
	/* type len lifetime age_add nonce<8> ticket<> extensions<> */
	uint8_t m[4 + 4 + 4 + 1 + 8 + 2 + TLS_TICKET_LEN + 2];
	if (!cfg->ticket_lifetime_s || !srv->ticket_keys)
		return;
	for (unsigned i = 0; i < cfg->tickets_per_handshake; i++) {
		uint8_t *nonce = m + 13, *t = m + 23, *body = t + 16;
		uint32_t age_add;
		m[0] = TLS_HS_NEW_SESSION_TICKET;
		tls_put24(m + 1, sizeof m - 4);
		tls_put32(m + 4, cfg->ticket_lifetime_s);
		cfg->random(&age_add, sizeof age_add);
		tls_put32(m + 8, age_add);
		m[12] = 8;
		put64(nonce, i);
		tls_put16(m + 21, TLS_TICKET_LEN);
		memcpy(t, srv->ticket_key_id[0], 4);
		cfg->random(t + 4, 12);
		tls_put16(body, tls_suites[c->suite].id);
		put64(body + 2, cfg->now_ms());
		tls_put32(body + 10, age_add);
		body[14] = c->alpn;
		body[15] = c->cert;
		body[16] = (uint8_t)hl;
		memset(body + 17, 0, 48);
		tls_hkdf_expand_label(alg, c->res_secret, "resumption", nonce, 8, body + 17, hl);
		tls_ticket_seal(srv->ticket_key[0], t + 4, t, 4, body, TLS_TICKET_BODY,
				body + TLS_TICKET_BODY);
		tls_put16(m + sizeof m - 2, 0);
		bool ok = tls_small_queue_hs(c, m, sizeof m);
		tls_wipe(m, sizeof m);
		if (!ok)
			break;
		srv->stats.tickets_sent++;
	}
}

/* Opens one identity's ticket; true with hs->psk set when usable. */
static bool open_ticket(struct tls_conn *c, const uint8_t *id, size_t n, uint32_t obf_age,
			unsigned cert)
{
	struct tls_server *srv = c->srv;
	struct tls_hs *hs = &c->work->hs;
	uint8_t body[TLS_TICKET_BODY];
	int k;
	bool ok = false;
	if (n != TLS_TICKET_LEN)
		return false;
	for (k = 0; k < srv->ticket_keys; k++)
		if (!memcmp(id, srv->ticket_key_id[k], 4))
			break;
	if (k == srv->ticket_keys)
		return false;
	memcpy(body, id + 16, sizeof body);
	if (!tls_ticket_open(srv->ticket_key[k], id + 4, id, 4, body, sizeof body,
			     id + 16 + TLS_TICKET_BODY))
		goto out;
	unsigned suite = tls_suite_index((uint16_t)(body[0] << 8 | body[1]));
	uint64_t issued = get64(body + 2), now = srv->cfg.now_ms();
	uint32_t age_add = get32(body + 10);
	if (!suite || tls_suites[suite].hash != c->hash || body[15] != cert ||
	    body[16] != tls_hash_len(c->hash) || now < issued ||
	    now - issued > (uint64_t)srv->cfg.ticket_lifetime_s * 1000u)
		goto out;
	uint32_t client_age = obf_age - age_add;
	uint64_t ours = now - issued;
	uint64_t diff = client_age > ours ? client_age - ours : ours - client_age;
	if (diff > TLS_TICKET_AGE_SLACK_MS)
		goto out;
	memcpy(hs->psk, body + 17, body[16]);
	ok = true;
out:
	tls_wipe(body, sizeof body);
	return ok;
}

bool tls_ticket_accept(struct tls_conn *c, const struct tls_client_hello *ch, unsigned cert)
{
	struct tls_hs *hs = &c->work->hs;
	struct tls_rd r, id;
	uint16_t i = 0;
	tls_rd_init(&r, ch->psk_ids.p, ch->psk_ids.n);
	while (tls_rd_left(&r) && !r.bad) {
		tls_rd_vec(&r, 2, 1, 0xffff, &id);
		uint32_t age = tls_rd_uint(&r, 4);
		if (r.bad)
			break;
		if (open_ticket(c, id.p, tls_rd_left(&id), age, cert)) {
			hs->psk_index = i;
			hs->have_psk = true;
			return true;
		}
		i++;
	}
	c->srv->stats.tickets_bad++;
	return false;
}
