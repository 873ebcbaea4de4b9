/*
 * tls_record.c - the record layer of a TLS 1.3 server connection (RFC
 * 8446 5): receiving records in place or gathered, their protection,
 * alerts, post-handshake messages, and the output queues.
 *
 * Interface: tls_conn_init, tls_conn_input, tls_conn_output,
 * tls_conn_output_done, tls_conn_ready, tls_conn_seal, tls_conn_max_plain,
 * tls_conn_has_work, tls_conn_close_notify, tls_conn_key_update,
 * tls_conn_release, tls_conn_alpn, tls_conn_suite (kiln/tls.h);
 * tls_fail, tls_record_write, tls_small_queue_hs, tls_small_room
 * (tls_int.h).
 *
 * Rules:
 *  - A record that lies whole in the caller's view is decrypted there and
 *    its plaintext returned in place. One split across views is gathered
 *    in the work buffer's rec[]; the header is checked as soon as its 5
 *    bytes are in, so an oversized length fails before any gathering.
 *  - Record types by state: before the client's handshake keys, only
 *    plaintext handshake and alert records (and, after the first
 *    ClientHello, the one-byte change_cipher_spec, 5); afterwards only
 *    protected records (type 23), except a plaintext alert while the
 *    client may still be choking on our flight. Protected records are
 *    opened in place; the inner type is found past the zero padding
 *    (5.4). Limits: 2^14 plaintext, 2^14 + 256 ciphertext
 *    (record_overflow); a tag that does not verify: bad_record_mac.
 *  - 0-RTT is declined: while the client may be sending early data, a
 *    protected record that does not open with the handshake key is
 *    skipped, up to max_early_data bytes (4.2.10). The data of a skipped
 *    record is never looked at.
 *  - Handshake messages are reassembled in the work buffer's msg[]
 *    during the handshake; every message a client sends then ends a
 *    flight or changes keys, so it must end its record (5.1). After the
 *    handshake only KeyUpdate (4.6.3) is accepted, reassembled in the
 *    connection's 8 bytes; it too must end its record.
 *  - Output: the flight leaves from the work buffer, everything else
 *    (alerts, tickets, KeyUpdates) from the connection's small buffer,
 *    in that order. A fatal alert goes after an unsent flight, under the
 *    keys the flight leaves the client reading with.
 *  - The work buffer goes back to the pool once the connection is
 *    established (or dead), holds no partial record, no flight still to
 *    send and no plaintext the caller still reads.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/tls.h>

#include "tls_int.h"
#include "tls_priv.h"

/* Room kept in the small buffer before reading on: a KeyUpdate answer
 * and an alert. */
#define TLS_SMALL_RESERVE 64u

void tls_conn_init(struct tls_conn *c, struct tls_server *srv)
{
	memset(c, 0, sizeof *c);
	c->srv = srv;
	c->max_plain = TLS_MAX_PLAINTEXT;
}

bool tls_conn_has_work(const struct tls_conn *c)
{
	return c->work != NULL;
}

size_t tls_conn_max_plain(const struct tls_conn *c)
{
	return c->max_plain;
}

static void maybe_release(struct tls_conn *c);

void tls_conn_plain_done(struct tls_conn *c)
{
	if (c->plain_in_work && c->work)
		tls_wipe(c->work->rec, sizeof c->work->rec);
	c->plain_in_work = false;
	maybe_release(c);
}

static void maybe_release(struct tls_conn *c)
{
	struct tls_work *w = c->work;
	if (!w)
		return;
	bool dead = c->state == TLS_ST_FAILED || (c->state == TLS_ST_CLOSED && !c->established);
	if (w->out_off < w->out_len)
		return;                 /* the flight (before a last alert) still leaves */
	if (!dead && (!c->established || c->gather_len || c->plain_in_work))
		return;
	if (c->gather_len || c->plain_in_work)
		tls_wipe(w->rec, sizeof w->rec);
	c->gather_len = 0;
	c->plain_in_work = false;
	c->work = NULL;
	tls_work_put(c->srv, w);
}

/* ---- output ------------------------------------------------------------------ */

size_t tls_small_room(const struct tls_conn *c)
{
	return TLS_SMALL_OUT - c->small_len + c->small_off;
}

static uint8_t *small_reserve(struct tls_conn *c, size_t n)
{
	if (tls_small_room(c) < n)
		return NULL;
	if (TLS_SMALL_OUT - c->small_len < n) {
		memmove(c->small, c->small + c->small_off, (size_t)(c->small_len - c->small_off));
		c->small_len = (uint16_t)(c->small_len - c->small_off);
		c->small_off = 0;
	}
	return c->small + c->small_len;
}

size_t tls_record_write(struct tls_conn *c, uint8_t *buf, uint8_t type, const uint8_t *data,
			size_t n)
{
	c->srv->stats.records_out++;
	memmove(buf + TLS_REC_HDR, data, n);
	buf[1] = 3;
	buf[2] = 3;
	if (!c->wr.suite) {
		buf[0] = type;
		tls_put16(buf + 3, (uint32_t)n);
		return TLS_REC_HDR + n;
	}
	buf[0] = TLS_CT_APPDATA;
	tls_put16(buf + 3, (uint32_t)(n + TLS_REC_TAIL));
	buf[TLS_REC_HDR + n] = type;
	tls_aead_seal(&c->wr, buf, TLS_REC_HDR, buf + TLS_REC_HDR, n + 1,
		      buf + TLS_REC_HDR + n + 1);
	return n + TLS_REC_OVERHEAD;
}

bool tls_small_queue_hs(struct tls_conn *c, const uint8_t *msg, size_t n)
{
	size_t per = c->max_plain;
	size_t nrec = (n + per - 1) / per;
	uint8_t *p = small_reserve(c, n + nrec * TLS_REC_OVERHEAD);
	if (!p)
		return false;
	for (size_t off = 0; off < n; off += per) {
		size_t k = n - off < per ? n - off : per;
		size_t w = tls_record_write(c, p, TLS_CT_HANDSHAKE, msg + off, k);
		p += w;
		c->small_len = (uint16_t)(c->small_len + w);
	}
	return true;
}

static void queue_alert(struct tls_conn *c, uint8_t desc)
{
	uint8_t a[2] = {desc == TLS_ALERT_CLOSE_NOTIFY || desc == TLS_ALERT_USER_CANCELED ? 1 : 2,
			desc};
	uint8_t *p = small_reserve(c, 2 + TLS_REC_OVERHEAD);
	if (!p)
		return;                 /* the peer does not read: it loses the alert */
	c->small_len = (uint16_t)(c->small_len + tls_record_write(c, p, TLS_CT_ALERT, a, 2));
	c->srv->stats.alerts_sent[desc]++;
}

int tls_fail(struct tls_conn *c, enum tls_alert alert, int err)
{
	if (c->state == TLS_ST_FAILED)
		return err;
	if (!c->established)
		c->srv->stats.handshakes_failed++;
	queue_alert(c, (uint8_t)alert);
	c->last_alert = alert;
	c->state = TLS_ST_FAILED;
	return err;
}

size_t tls_conn_output(struct tls_conn *c, const uint8_t **p)
{
	struct tls_work *w = c->work;
	if (w && w->out_off < w->out_len) {
		*p = w->out + w->out_off;
		return w->out_len - w->out_off;
	}
	if (c->small_off < c->small_len) {
		*p = c->small + c->small_off;
		return (size_t)(c->small_len - c->small_off);
	}
	*p = NULL;
	return 0;
}

void tls_conn_output_done(struct tls_conn *c, size_t n)
{
	struct tls_work *w = c->work;
	if (w && w->out_off < w->out_len) {
		size_t left = w->out_len - w->out_off;
		w->out_off += (uint32_t)(n < left ? n : left);
		if (w->out_off == w->out_len) {
			w->out_off = w->out_len = 0;
			maybe_release(c);
		}
		return;
	}
	size_t left = (size_t)(c->small_len - c->small_off);
	c->small_off = (uint16_t)(c->small_off + (n < left ? n : left));
	if (c->small_off == c->small_len)
		c->small_off = c->small_len = 0;
}

/* ---- application data and control ---------------------------------------------- */

bool tls_conn_ready(const struct tls_conn *c)
{
	return c->established && !c->sent_close &&
	       (c->state == TLS_ST_CONNECTED || c->state == TLS_ST_CLOSED);
}

int tls_conn_seal(struct tls_conn *c, uint8_t *rec, size_t len)
{
	if (c->sent_close)
		return K_ECLOSED;
	if (!tls_conn_ready(c))
		return K_ENOTCONN;
	if (len > c->max_plain)
		return K_EMSGSIZE;
	rec[0] = TLS_CT_APPDATA;
	rec[1] = 3;
	rec[2] = 3;
	tls_put16(rec + 3, (uint32_t)(len + TLS_REC_TAIL));
	rec[TLS_REC_HDR + len] = TLS_CT_APPDATA;
	tls_aead_seal(&c->wr, rec, TLS_REC_HDR, rec + TLS_REC_HDR, len + 1,
		      rec + TLS_REC_HDR + len + 1);
	c->srv->stats.records_out++;
	return (int)(len + TLS_REC_OVERHEAD);
}

void tls_conn_close_notify(struct tls_conn *c)
{
	if (c->sent_close || c->state == TLS_ST_FAILED)
		return;
	queue_alert(c, TLS_ALERT_CLOSE_NOTIFY);
	c->sent_close = true;
}

static void next_secret(const struct tls_conn *c, uint8_t *secret)
{
	unsigned alg = c->hash;
	uint8_t next[TLS_HASH_MAX];
	tls_hkdf_expand_label(alg, secret, "traffic upd", NULL, 0, next, tls_hash_len(alg));
	memcpy(secret, next, tls_hash_len(alg));
	tls_wipe(next, sizeof next);
}

int tls_conn_key_update(struct tls_conn *c, bool ask)
{
	if (!c->established || c->sent_close || c->state == TLS_ST_FAILED)
		return K_ENOTCONN;
	uint8_t m[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, ask ? 1 : 0};
	if (!tls_small_queue_hs(c, m, sizeof m))
		return K_EAGAIN;
	next_secret(c, c->wr_secret);
	tls_aead_clear(&c->wr);
	tls_aead_init(&c->wr, c->suite, c->wr_secret);
	c->srv->stats.keyupdates_out++;
	return K_OK;
}

void tls_conn_release(struct tls_conn *c)
{
	if (c->work) {
		tls_wipe(c->work->rec, sizeof c->work->rec);
		tls_work_put(c->srv, c->work);
		c->work = NULL;
	}
	tls_aead_clear(&c->rd);
	tls_aead_clear(&c->wr);
	tls_wipe(c->rd_secret, sizeof c->rd_secret);
	tls_wipe(c->wr_secret, sizeof c->wr_secret);
	tls_wipe(c->res_secret, sizeof c->res_secret);
	c->state = TLS_ST_CLOSED;
}

const char *tls_conn_alpn(const struct tls_conn *c)
{
	return c->alpn ? c->srv->cfg.alpn[c->alpn - 1] : NULL;
}

uint16_t tls_conn_suite(const struct tls_conn *c)
{
	return c->suite ? tls_suites[c->suite].id : 0;
}

/* ---- input ----------------------------------------------------------------------- */

static int handle_alert(struct tls_conn *c, const uint8_t *p, size_t n, struct tls_plain *plain)
{
	if (n != 2)
		return tls_fail(c, TLS_ALERT_DECODE_ERROR, K_EPROTO);
	uint8_t desc = p[1];
	c->srv->stats.alerts_received[desc]++;
	if (desc == TLS_ALERT_CLOSE_NOTIFY) {
		c->got_close = true;
		c->state = TLS_ST_CLOSED;
		plain->eof = true;
		return 0;
	}
	if (desc == TLS_ALERT_USER_CANCELED)
		return 0;               /* a close_notify should follow (6.1) */
	if (!c->established)
		c->srv->stats.handshakes_failed++;
	c->last_alert = (enum tls_alert)desc;
	c->state = TLS_ST_FAILED;
	return K_ECONNRESET;
}

static int key_update_in(struct tls_conn *c)
{
	struct tls_server *srv = c->srv;
	uint8_t ask = c->hs_small[4];
	if (ask > 1)
		return tls_fail(c, TLS_ALERT_ILLEGAL_PARAMETER, K_EPROTO);
	srv->stats.keyupdates_in++;
	if (++c->keyupdates > srv->cfg.max_keyupdates)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
	next_secret(c, c->rd_secret);
	tls_aead_clear(&c->rd);
	tls_aead_init(&c->rd, c->suite, c->rd_secret);
	/* answered once however often asked before it leaves (4.6.3) */
	if (ask && !c->sent_close && tls_conn_key_update(c, false) < 0)
		return tls_fail(c, TLS_ALERT_INTERNAL_ERROR, K_ENOSPC);
	return 0;
}

/* Handshake bytes after the handshake: KeyUpdate only. */
static int post_handshake(struct tls_conn *c, const uint8_t *p, size_t n)
{
	while (n--) {
		c->hs_small[c->hs_small_len++] = *p++;
		if (c->hs_small_len == 1 && c->hs_small[0] != TLS_HS_KEY_UPDATE)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		if (c->hs_small_len == 4 &&
		    (c->hs_small[1] || c->hs_small[2] || c->hs_small[3] != 1))
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, K_EPROTO);
		if (c->hs_small_len < 5)
			continue;
		c->hs_small_len = 0;
		if (n)                  /* a key change ends the record */
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		return key_update_in(c);
	}
	return 0;
}

/* Handshake bytes during the handshake, reassembled in work->msg. */
static int handshake_in(struct tls_conn *c, const uint8_t *p, size_t n)
{
	if (c->established)
		return post_handshake(c, p, n);
	struct tls_work *w = c->work;
	while (n) {
		size_t take = TLS_MAX_HS_MSG - w->msg_len;
		if (take > n)
			take = n;
		memcpy(w->msg + w->msg_len, p, take);
		w->msg_len += (uint32_t)take;
		p += take;
		n -= take;
		if (w->msg_len < 4)
			continue;
		uint32_t mlen = (uint32_t)w->msg[1] << 16 | (uint32_t)w->msg[2] << 8 | w->msg[3];
		if (mlen > TLS_MAX_HS_MSG - 4)
			return tls_fail(c, TLS_ALERT_DECODE_ERROR, K_EMSGSIZE);
		if (w->msg_len < 4 + mlen)
			continue;
		/* every client message in the handshake ends a flight */
		if (w->msg_len > 4 + mlen || n)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		w->msg_len = 0;
		c->empty_records = 0;
		return tls_hs_message(c, w->msg, 4 + mlen);
	}
	return 0;
}

static int protected_in(struct tls_conn *c, uint8_t *rec, size_t rlen, struct tls_plain *plain)
{
	struct tls_server *srv = c->srv;
	size_t n = rlen - TLS_REC_HDR;
	uint8_t *body = rec + TLS_REC_HDR;
	if (!c->rd.suite) {
		/* after a HelloRetryRequest: early data under keys we never made */
		if (c->early_skipping && c->state == TLS_ST_WAIT_CH2)
			goto skip;
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
	}
	if (n < TLS_TAG_LEN + 1) {
		if (c->early_skipping)
			goto skip;
		srv->stats.bad_records++;
		return tls_fail(c, TLS_ALERT_BAD_RECORD_MAC, K_EPROTO);
	}
	size_t clen = n - TLS_TAG_LEN;
	if (c->early_skipping) {
		if (!tls_aead_try_open(&c->rd, rec, TLS_REC_HDR, body, clen, body + clen))
			goto skip;
		c->early_skipping = false;
	} else if (!tls_aead_open(&c->rd, rec, TLS_REC_HDR, body, clen, body + clen)) {
		srv->stats.bad_records++;
		return tls_fail(c, TLS_ALERT_BAD_RECORD_MAC, K_EPROTO);
	}
	size_t i = clen;
	while (i && !body[i - 1])
		i--;
	if (!i)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
	uint8_t type = body[i - 1];
	size_t len = i - 1;
	if (len > TLS_MAX_PLAINTEXT)
		return tls_fail(c, TLS_ALERT_RECORD_OVERFLOW, K_EPROTO);
	switch (type) {
	case TLS_CT_ALERT:
		return handle_alert(c, body, len, plain);
	case TLS_CT_HANDSHAKE:
		if (!len)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		return handshake_in(c, body, len);
	case TLS_CT_APPDATA:
		if (!c->established || c->hs_small_len)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		if (++c->app_records % 64 == 0)
			c->keyupdates = 0;
		if (!len) {
			if (++c->empty_records > srv->cfg.max_empty_records)
				return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
			return 0;
		}
		c->empty_records = 0;
		plain->data = body;
		plain->len = len;
		return 0;
	default:
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
	}
skip:
	c->early_skipped += (uint32_t)n;
	srv->stats.early_data_skipped += n;
	if (c->early_skipped > srv->cfg.max_early_data)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
	return 0;
}

static int record_in(struct tls_conn *c, uint8_t *rec, size_t rlen, struct tls_plain *plain)
{
	const uint8_t *body = rec + TLS_REC_HDR;
	size_t n = rlen - TLS_REC_HDR;
	c->srv->stats.records_in++;
	switch (rec[0]) {
	case TLS_CT_CCS:
		/* compatibility mode (5, D.4): dropped during the handshake */
		if ((c->state != TLS_ST_WAIT_CH2 && c->state != TLS_ST_WAIT_FINISHED) || n != 1 ||
		    body[0] != 1)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		if (++c->empty_records > c->srv->cfg.max_empty_records)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		c->ccs_seen = true;
		return 0;
	case TLS_CT_ALERT:
		if (c->rd.suite && c->state != TLS_ST_WAIT_FINISHED)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		return handle_alert(c, body, n, plain);
	case TLS_CT_HANDSHAKE:
		if (c->rd.suite || !n)
			return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
		return handshake_in(c, body, n);
	default:
		return protected_in(c, rec, rlen, plain);
	}
}

/* The 5-byte header: 0, or failure. */
static int header_check(struct tls_conn *c, const uint8_t *h)
{
	uint8_t type = h[0];
	/* an SSLv2-format ClientHello: 2-byte length with the top bit set,
	 * then message type 1 */
	if (c->state == TLS_ST_START && (type & 0x80) && h[2] == 1)
		return tls_fail(c, TLS_ALERT_PROTOCOL_VERSION, K_EPROTO);
	if (type < TLS_CT_CCS || type > TLS_CT_APPDATA)
		return tls_fail(c, TLS_ALERT_UNEXPECTED_MESSAGE, K_EPROTO);
	size_t len = (size_t)h[3] << 8 | h[4];
	size_t max = type == TLS_CT_APPDATA ? TLS_MAX_CIPHERTEXT : TLS_MAX_PLAINTEXT;
	if (len > max) {
		c->srv->stats.bad_records++;
		return tls_fail(c, TLS_ALERT_RECORD_OVERFLOW, K_EMSGSIZE);
	}
	return 0;
}

int tls_conn_input(struct tls_conn *c, uint8_t *data, size_t len, struct tls_plain *plain)
{
	plain->data = NULL;
	plain->len = 0;
	plain->eof = false;
	if (c->state == TLS_ST_FAILED)
		return K_EPROTO;
	if (len > (1u << 30))
		len = 1u << 30;
	c->plain_in_work = false;
	maybe_release(c);
	if (c->got_close)
		return (int)len;        /* after close_notify: ignored (6.1) */
	if (!c->work && c->state == TLS_ST_START && len) {
		c->work = tls_work_get(c->srv);
		if (!c->work)
			return K_ENOMEM;
	}
	size_t off = 0;
	int r = 0;
	while (off < len && !c->got_close) {
		uint8_t *rec;
		size_t rlen, avail = len - off;
		bool gathered = false;
		if (c->established && tls_small_room(c) < TLS_SMALL_RESERVE)
			break;          /* the peer must read our answers first */
		if (!c->gather_len && avail >= TLS_REC_HDR) {
			if ((r = header_check(c, data + off)) < 0)
				goto out;
			rlen = TLS_REC_HDR + ((size_t)data[off + 3] << 8 | data[off + 4]);
			if (avail >= rlen) {
				rec = data + off;
				off += rlen;
				goto have;
			}
		}
		if (!c->work && !(c->work = tls_work_get(c->srv))) {
			if (!off)
				return K_ENOMEM;
			break;
		}
		struct tls_work *w = c->work;
		if (c->gather_len < TLS_REC_HDR) {
			size_t k = TLS_REC_HDR - c->gather_len;
			if (k > avail)
				k = avail;
			memcpy(w->rec + c->gather_len, data + off, k);
			c->gather_len += (uint32_t)k;
			off += k;
			avail -= k;
			if (c->gather_len < TLS_REC_HDR)
				break;
			if ((r = header_check(c, w->rec)) < 0)
				goto out;
		}
		rlen = TLS_REC_HDR + ((size_t)w->rec[3] << 8 | w->rec[4]);
		size_t k = rlen - c->gather_len;
		if (k > avail)
			k = avail;
		memcpy(w->rec + c->gather_len, data + off, k);
		c->gather_len += (uint32_t)k;
		off += k;
		if (c->gather_len < rlen)
			break;
		rec = w->rec;
		c->gather_len = 0;
		gathered = true;
	have:
		if ((r = record_in(c, rec, rlen, plain)) < 0)
			goto out;
		if (plain->len || plain->eof) {
			c->plain_in_work = gathered && plain->len;
			break;
		}
	}
	r = (int)off;
out:
	maybe_release(c);
	return r;
}
