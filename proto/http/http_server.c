/*
 * http_server.c - the per-connection state machine of the HTTP/1.1
 * server: input to parser to router to handler, output queue, keep-alive,
 * pipelining, timeouts and closing (RFC 9112 9).
 *
 * Interface: http_server_init, http_server_config_default, http_conn_open,
 * http_conn_input, http_conn_eof, http_conn_writable, http_conn_closed,
 * http_conn_deadline, http_server_tick, http_server_evict,
 * http_server_next_deadline (kiln/http.h); the output queue and completion hooks in http_priv.h.
 *
 * Rules:
 *  - No I/O of its own: bytes come in through http_conn_input and go out
 *    through struct http_transport_ops; time comes from cfg.now_ns and
 *    from http_server_tick(now). Connections come from the caller's fixed
 *    pool; nothing is allocated after init.
 *  - Pipelining (RFC 9112 9.3.2): requests in one view are handled one
 *    after another and their responses staged back to back in out[], so a
 *    burst of pipelined requests costs one transport write. Responses
 *    leave in request order because the next request is not parsed until
 *    the current one is answered: a deferred answer (HTTP_DEFER), a full
 *    transport or a nearly full output queue stop input, and the unread
 *    bytes stay with the transport (a short http_conn_input return) until
 *    resume_read.
 *  - Persistence (RFC 9112 9.3): HTTP/1.1 keeps the connection unless
 *    "Connection: close"; HTTP/1.0 only with "Connection: keep-alive";
 *    after limits.max_requests the last response says close.
 *  - Closing: after an error or a "close" response the server half-closes
 *    (transport shutdown) and reads and drops input for limits.linger_ns
 *    before closing, so the client reads the response instead of a reset
 *    (RFC 9112 9.6).
 *  - Timeouts, on the caller's clock; every state has one, so no slot is
 *    kept forever: a request must arrive whole within request_timeout_ns
 *    of its first byte, or the server answers 408 and closes (slowloris);
 *    an idle keep-alive connection is closed after idle_timeout_ns; queued
 *    output must go out whole within send_timeout_ns of being queued
 *    (out_since), however slowly the peer reads; a deferred or streaming
 *    answer with nothing queued must make progress (app_at) within
 *    response_timeout_ns; lingering ends after linger_ns.
 *  - A connection whose transport went away while the app holds a
 *    deferred request stays allocated until the app's next call on it,
 *    which returns K_ECLOSED, so the app never touches a reused request.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/err.h>
#include <kiln/http.h>
#include <kiln/time.h>

#include "http_priv.h"

void http_server_config_default(struct http_server_config *cfg)
{
	static const struct http_limits lim = HTTP_LIMITS_DEFAULT;
	memset(cfg, 0, sizeof *cfg);
	cfg->limits = lim;
	cfg->auto_options = true;
}

/* The app's body store, within the server's budget. */
static void *body_alloc(void *ctx, size_t n)
{
	struct http_server *srv = ctx;
	if (n > srv->cfg.body_mem_max - srv->body_mem)
		return NULL;
	void *p = srv->cfg.body_store.alloc(srv->cfg.body_store.ctx, n);
	if (p)
		srv->body_mem += n;
	return p;
}

static void body_free(void *ctx, void *p, size_t n)
{
	struct http_server *srv = ctx;
	srv->body_mem -= n;
	srv->cfg.body_store.free(srv->cfg.body_store.ctx, p, n);
}

int http_server_init(struct http_server *srv, const struct http_server_config *cfg,
		     struct http_conn *conns, uint32_t nconns)
{
	memset(srv, 0, sizeof *srv);
	if (cfg)
		srv->cfg = *cfg;
	else
		http_server_config_default(&srv->cfg);
	const struct http_limits *l = &srv->cfg.limits;
	bool store = srv->cfg.body_store.alloc && srv->cfg.body_store.free;
	uint64_t in_buf = store ? 0 : l->max_body;
	if (l->max_head < 32 || l->max_request_line < 16 || l->max_headers > HTTP_MAX_HEADERS ||
	    (uint64_t)l->max_head + in_buf > HTTP_CONN_BUF || l->max_body > (1u << 30) ||
	    l->max_requests == 0 || !conns || !nconns)
		return K_EINVAL;
	if (store)
		srv->body_store = (struct http_body_store){ body_alloc, body_free, srv };
	if (!srv->cfg.now_ns)
		srv->cfg.now_ns = time_now_ns;
	if (!srv->cfg.wall_ns)
		srv->cfg.wall_ns = time_wall_ns;
	srv->conns = conns;
	srv->nconns = nconns;
	for (uint32_t i = nconns; i-- > 0;) {
		conns[i].state = HTTP_CS_FREE;
		conns[i].in_use = false;
		conns[i].next_free = srv->free;
		srv->free = &conns[i];
	}
	http_date_refresh(srv, srv->cfg.wall_ns());
	return K_OK;
}

struct http_conn *http_conn_open(struct http_server *srv, const struct http_transport_ops *ops,
				 void *ctx)
{
	struct http_conn *c = srv->free;
	if (!c) {
		srv->stats.conns_refused++;
		return NULL;
	}
	srv->free = c->next_free;
	/* the control fields only: the buffers are written before read */
	memset(c, 0, offsetof(struct http_conn, out));
	c->srv = srv;
	c->ops = ops;
	c->tctx = ctx;
	c->state = HTTP_CS_OPEN;
	c->in_use = true;
	c->last_io = srv->cfg.now_ns();
	http_parse_init(&c->parser, &srv->cfg.limits, c->buf, &srv->body_store);
	c->parser.req.conn = c;
	srv->active++;
	srv->stats.conns_opened++;
	return c;
}

/* Returns c to the pool, releasing lent spans the transport never took. */
static void conn_release(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	http_parse_release(&c->parser);
	while (c->seg_count) {
		struct http_out_seg *s = &c->seg[c->seg_head];
		if (s->lent && s->done)
			s->done(s->arg);
		c->seg_head = (c->seg_head + 1) % HTTP_OUT_SEGS;
		c->seg_count--;
	}
	c->state = HTTP_CS_FREE;
	c->in_use = false;
	c->next_free = srv->free;
	srv->free = c;
	srv->active--;
}

/* ---- output queue ------------------------------------------------------- */

/* The send deadline counts from when the queue stops being empty. */
static void out_queue_start(struct http_conn *c)
{
	if (!c->seg_count)
		c->out_since = c->srv->cfg.now_ns();
}

void http_out_commit(struct http_conn *c, size_t n)
{
	if (!n)
		return;
	out_queue_start(c);
	if (c->seg_count) {
		struct http_out_seg *t = &c->seg[(c->seg_head + c->seg_count - 1) % HTTP_OUT_SEGS];
		if (!t->lent && t->off + t->len == c->out_len) {
			t->len += n;
			c->out_len += (uint32_t)n;
			return;
		}
	}
	/* the caller keeps a free segment (see conn_out_ready) */
	struct http_out_seg *s = &c->seg[(c->seg_head + c->seg_count) % HTTP_OUT_SEGS];
	s->lent = NULL;
	s->off = c->out_len;
	s->len = n;
	s->done = NULL;
	c->seg_count++;
	c->out_len += (uint32_t)n;
}

int http_out_borrow(struct http_conn *c, const void *p, size_t n, void (*done)(void *), void *arg)
{
	if (c->seg_count == HTTP_OUT_SEGS) {
		if (done)
			done(arg);
		c->failed = true;
		return K_ENOSPC;
	}
	out_queue_start(c);
	struct http_out_seg *s = &c->seg[(c->seg_head + c->seg_count) % HTTP_OUT_SEGS];
	s->lent = p;
	s->off = 0;
	s->len = n;
	s->done = done;
	s->arg = arg;
	c->seg_count++;
	return K_OK;
}

int http_out_flush(struct http_conn *c)
{
	if (c->state == HTTP_CS_DEAD || c->failed)
		return K_ECLOSED;
	while (c->seg_count) {
		struct http_out_seg *s = &c->seg[c->seg_head];
		if (!s->lent) {
			int n = c->ops->write_copy(c->tctx, c->out + s->off, s->len);
			if (n < 0)
				goto fail;
			s->off += (size_t)n;
			s->len -= (size_t)n;
			if (s->len)
				return K_EAGAIN;
		} else {
			int r = c->ops->write_borrowed(c->tctx, s->lent, s->len, s->done, s->arg);
			if (r == K_EAGAIN)
				return K_EAGAIN;
			if (r < 0)
				goto fail;      /* s stays: release calls done */
		}
		c->seg_head = (c->seg_head + 1) % HTTP_OUT_SEGS;
		c->seg_count--;
	}
	/* all out: the buffer starts over (custom headers move along) */
	if (c->hcustom && c->hstart)
		memmove(c->out, c->out + c->hstart, c->hcustom);
	c->hstart = 0;
	c->out_len = 0;
	return K_OK;
fail:
	c->failed = true;
	return K_ECLOSED;
}

/* Room to answer one more request: half the staging buffer and three
 * queue segments (a staged head, a lent body, slack). */
static bool conn_out_ready(struct http_conn *c)
{
	return c->seg_count + 3 <= HTTP_OUT_SEGS && http_out_room(c) >= HTTP_OUT_BUF / 2;
}

/* ---- life cycle ------------------------------------------------------------ */

/*
 * Moves a connection on after something happened: closes it when its
 * last response is out, frees it when the transport is gone. Never runs
 * inside http_conn_input (the outermost call settles).
 */
static void conn_settle(struct http_conn *c)
{
	if (c->in_input || c->state == HTTP_CS_FREE)
		return;
	if (c->failed && c->state != HTTP_CS_DEAD) {
		c->ops->close(c->tctx);
		c->state = HTTP_CS_DEAD;
	}
	switch (c->state) {
	case HTTP_CS_CLOSING:
		if (c->seg_count || c->deferred || c->streaming)
			return;
		if (c->ops->shutdown && !c->eof) {
			c->ops->shutdown(c->tctx);
			c->state = HTTP_CS_LINGER;
			c->linger_start = c->srv->cfg.now_ns();
			if (c->held) {
				c->held = false;
				c->ops->resume_read(c->tctx);   /* to drop it */
			}
			return;
		}
		c->ops->close(c->tctx);
		c->state = HTTP_CS_DEAD;
		/* fall through */
	case HTTP_CS_DEAD:
		if (!c->deferred && !c->streaming)
			conn_release(c);
		return;
	default:
		return;
	}
}

bool http_conn_reap(struct http_conn *c)
{
	if (c->state != HTTP_CS_DEAD && !c->failed)
		return false;
	c->deferred = false;
	c->streaming = false;
	conn_settle(c);
	return true;
}

/* Lets held input flow again once the connection can take it. */
static void conn_maybe_resume(struct http_conn *c)
{
	if (c->held && c->state == HTTP_CS_OPEN && !c->deferred && !c->streaming &&
	    !c->failed && conn_out_ready(c)) {
		c->held = false;
		c->ops->resume_read(c->tctx);
	}
}

void http_conn_response_done(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct http_req *req = &c->parser.req;
	bool was_deferred = c->deferred;

	c->responded = true;
	c->streaming = false;
	c->deferred = false;
	srv->stats.responses++;
	if (c->status >= 500)
		srv->stats.errors_5xx++;
	else if (c->status >= 400)
		srv->stats.errors_4xx++;
	if (srv->cfg.on_request) {
		struct http_log log = { .method = c->log_method, .status = c->status,
					.bytes = c->resp_bytes };
		if (was_deferred) {
			log.path = c->log_path;
			log.path_len = c->log_path_len;
		} else {
			log.path = req->path ? req->path : "";
			log.path_len = req->path ? req->path_len : 0;
		}
		srv->cfg.on_request(srv->cfg.on_request_arg, &log);
	}
	if (c->close_after && c->state == HTTP_CS_OPEN)
		c->state = HTTP_CS_CLOSING;
	if (c->in_input)
		return;                 /* the input loop flushes and settles */
	c->last_io = srv->cfg.now_ns();
	http_out_flush(c);
	conn_maybe_resume(c);
	conn_settle(c);
}

/* ---- input ------------------------------------------------------------------- */

static void conn_error(struct http_conn *c, int status)
{
	c->close_after = true;
	c->log_method = c->parser.req.method;
	http_resp_reset(c);
	/* the method is known once the request line parsed: HEAD gets no body */
	http_resp_error(c, &c->parser.req, status, false, NULL);
}

static void dispatch(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	struct http_req *req = &c->parser.req;
	uint32_t allow = 0;
	char allow_s[64];

	c->nreq++;
	srv->stats.requests++;
	http_resp_reset(c);
	c->log_method = req->method;
	if (!req->keep_alive || c->nreq >= srv->cfg.limits.max_requests)
		c->close_after = true;

	if (req->method == HTTP_M_OTHER) {
		http_resp_error(c, req, 501, true, NULL);
		return;
	}
	const struct http_route *r = NULL;
	if (req->path_len == 1 && req->path[0] == '*') {
		for (uint32_t i = 0; i < srv->nroutes; i++)
			allow |= srv->routes[i].methods;
		if (allow & HTTP_MBIT(HTTP_M_GET))
			allow |= HTTP_MBIT(HTTP_M_HEAD);
	} else {
		r = http_router_match(srv, req, &allow);
	}
	if (!r) {
		if (!allow && !(req->path_len == 1 && req->path[0] == '*')) {
			http_resp_error(c, req, 404, true, NULL);
			return;
		}
		if (srv->cfg.auto_options)
			allow |= HTTP_MBIT(HTTP_M_OPTIONS);
		http_allow_format(allow, allow_s, sizeof allow_s);
		if (req->method == HTTP_M_OPTIONS && srv->cfg.auto_options)
			http_resp_error(c, req, 204, true, allow_s);
		else
			http_resp_error(c, req, 405, true, allow_s);
		return;
	}
	int ret = r->fn(req, r->arg);
	if (c->responded)
		return;
	if ((ret == HTTP_DEFER || c->streaming) && !c->resp_overflow) {
		/* answered later: the views die now, keep the path for the log */
		c->deferred = true;
		c->app_at = srv->cfg.now_ns();
		uint32_t n = req->path_len < HTTP_LOG_PATH_MAX ? req->path_len : HTTP_LOG_PATH_MAX;
		memcpy(c->log_path, req->path, n);
		c->log_path_len = n;
		return;
	}
	if (c->streaming)
		c->close_after = true;  /* a half-sent body cannot be fixed */
	c->streaming = false;
	c->hcustom = 0;
	http_resp_error(c, req, 500, true, NULL);
}

size_t http_conn_input(struct http_conn *c, const uint8_t *data, size_t len)
{
	struct http_server *srv = c->srv;
	size_t off = 0;
	uint32_t batch = 0;

	if (!c->in_use || c->state == HTTP_CS_FREE)
		return len;
	c->in_input = true;
	uint64_t now = srv->cfg.now_ns();
	c->last_io = now;
	if (c->state == HTTP_CS_OPEN)
		http_date_refresh(srv, srv->cfg.wall_ns());
	while (off < len && c->state == HTTP_CS_OPEN && !c->deferred && !c->streaming &&
	       !c->failed) {
		if (!conn_out_ready(c)) {
			http_out_flush(c);
			if (!conn_out_ready(c))
				break;
		}
		size_t used;
		bool was_started = c->parser.started;
		enum http_parse_event ev = http_parse_feed(&c->parser, data + off, len - off, &used);
		off += used;
		if (!was_started && c->parser.started)
			c->req_start = now;
		if (ev == HTTP_PARSE_MORE)
			break;
		if (ev == HTTP_PARSE_CONTINUE) {
			http_resp_continue(c);
			continue;
		}
		if (ev == HTTP_PARSE_ERROR) {
			conn_error(c, c->parser.status);
			break;
		}
		batch++;
		dispatch(c);
	}
	if (batch > srv->stats.pipelined_max)
		srv->stats.pipelined_max = batch;
	if (c->state == HTTP_CS_CLOSING || c->state == HTTP_CS_LINGER || c->state == HTTP_CS_DEAD)
		off = len;              /* nothing more will be answered: drop it */
	if (c->seg_count)
		http_out_flush(c);
	if (off < len && !c->held) {
		c->held = true;
		if (c->ops->pause_read)
			c->ops->pause_read(c->tctx);
	}
	c->in_input = false;
	conn_settle(c);
	return off;
}

void http_conn_eof(struct http_conn *c)
{
	if (!c->in_use)
		return;
	c->eof = true;
	if (c->state == HTTP_CS_OPEN) {
		/* finish what is being answered; a request cut short by the
		 * FIN cannot be answered and is dropped with the connection */
		c->state = HTTP_CS_CLOSING;
	} else if (c->state == HTTP_CS_LINGER) {
		c->ops->close(c->tctx);
		c->state = HTTP_CS_DEAD;
	}
	conn_settle(c);
}

void http_conn_writable(struct http_conn *c)
{
	if (!c->in_use || c->state == HTTP_CS_DEAD)
		return;
	int r = http_out_flush(c);
	if (r == K_OK)
		c->last_io = c->app_at = c->srv->cfg.now_ns();
	if (r == K_OK && c->streaming && c->stream_writable)
		c->stream_writable(&c->parser.req, c->stream_arg);
	if (c->in_use) {
		conn_maybe_resume(c);
		conn_settle(c);
	}
}

void http_conn_closed(struct http_conn *c)
{
	if (!c->in_use)
		return;
	c->state = HTTP_CS_DEAD;
	conn_settle(c);
}

/* ---- time ----------------------------------------------------------------------- */

uint64_t http_conn_deadline(const struct http_conn *c)
{
	if (!c->in_use)
		return UINT64_MAX;
	const struct http_limits *l = &c->srv->cfg.limits;
	switch (c->state) {
	case HTTP_CS_LINGER:
		return c->linger_start + l->linger_ns;
	case HTTP_CS_CLOSING:
	case HTTP_CS_OPEN:
		if (c->seg_count)
			return c->out_since + l->send_timeout_ns;
		if (c->deferred || c->streaming)
			return c->app_at + l->response_timeout_ns;  /* the app's turn */
		if (c->state == HTTP_CS_CLOSING)
			return UINT64_MAX;      /* settles at once */
		if (c->parser.started)
			return c->req_start + l->request_timeout_ns;
		return c->last_io + l->idle_timeout_ns;
	default:
		return UINT64_MAX;      /* DEAD: the app's next call frees it */
	}
}

static void conn_timeout(struct http_conn *c)
{
	struct http_server *srv = c->srv;
	if (c->state == HTTP_CS_OPEN && !c->seg_count && c->parser.started && !c->deferred &&
	    !c->streaming) {
		/* slow request: tell the client, then close */
		srv->stats.timeouts++;
		http_date_refresh(srv, srv->cfg.wall_ns());
		c->in_input = true;
		conn_error(c, 408);
		c->last_io = srv->cfg.now_ns();
		http_out_flush(c);
		c->in_input = false;
		c->state = HTTP_CS_CLOSING;
		conn_settle(c);
		return;
	}
	/* an idle keep-alive connection or an ended linger closes quietly;
	 * a stalled send or answer is counted */
	if (c->state != HTTP_CS_LINGER && c->seg_count) {
		srv->stats.timeouts++;
		srv->stats.send_timeouts++;
	} else if (c->state != HTTP_CS_LINGER && (c->deferred || c->streaming)) {
		srv->stats.timeouts++;
		srv->stats.response_timeouts++;
	}
	c->ops->close(c->tctx);
	c->state = HTTP_CS_DEAD;
	conn_settle(c);
}

bool http_server_evict(struct http_server *srv)
{
	struct http_conn *idle = NULL, *slow = NULL;
	uint64_t now = srv->cfg.now_ns();

	for (uint32_t i = 0; i < srv->nconns; i++) {
		struct http_conn *c = &srv->conns[i];
		if (!c->in_use || c->in_input || c->state != HTTP_CS_OPEN || c->seg_count ||
		    c->deferred || c->streaming)
			continue;
		if (!c->parser.started) {
			if (!idle || c->last_io < idle->last_io)
				idle = c;
		} else if (c->parser.state == 0 && c->parser.hlen &&
			   now - c->req_start >= srv->cfg.limits.evict_min_age_ns &&
			   (!slow || c->req_start < slow->req_start)) {
			slow = c;       /* still in its head (P_HEAD), for a while */
		}
	}
	struct http_conn *v = idle ? idle : slow;
	if (!v)
		return false;
	if (v == idle)
		srv->stats.evicted_idle++;
	else
		srv->stats.evicted_slow++;
	v->ops->close(v->tctx);
	v->state = HTTP_CS_DEAD;
	conn_settle(v);
	return true;
}

void http_server_tick(struct http_server *srv, uint64_t now)
{
	for (uint32_t i = 0; i < srv->nconns; i++) {
		struct http_conn *c = &srv->conns[i];
		if (c->in_use && !c->in_input && now >= http_conn_deadline(c))
			conn_timeout(c);
	}
}

uint64_t http_server_next_deadline(const struct http_server *srv)
{
	uint64_t d = UINT64_MAX;
	for (uint32_t i = 0; i < srv->nconns; i++) {
		uint64_t t = http_conn_deadline(&srv->conns[i]);
		if (t < d)
			d = t;
	}
	return d;
}
