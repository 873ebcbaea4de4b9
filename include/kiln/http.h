/*
 * http.h - Kiln's HTTP/1.1 server engine (RFC 9110, RFC 9112).
 *
 * The engine does no I/O and reads no clock on its own schedule: a
 * transport (kiln/tcp.h in the kernel, epoll sockets in the native
 * runner, an in-memory fake in tests) hands it received bytes and
 * carries its output through struct http_transport_ops; time comes from
 * the config's clock functions and from explicit http_server_tick() calls,
 * so tests and fuzzers run on virtual time.
 *
 *   app_main:   http_server_init(&srv, &cfg, conns, N);
 *               http_route(&srv, HTTP_M_GET, "/health", 0, health, NULL);
 *   accept:     hc = http_conn_open(&srv, &ops, tcp_conn)  (NULL: full)
 *   recv:       return http_conn_input(hc, data, len);
 *   FIN:        http_conn_eof(hc);
 *   writable:   http_conn_writable(hc);
 *   closed:     http_conn_closed(hc);
 *   timer:      http_server_tick(&srv, now) at http_server_next_deadline()
 *
 * ZERO COPY. The parser keeps pointers into the transport's receive view
 * when a request's head arrives whole in one view (the common case): the
 * request line and header fields a handler sees are the received bytes
 * themselves. When a head spans views, its bytes are copied into the
 * connection's bounded buffer (HTTP_CONN_BUF) as they arrive. A body that
 * is contiguous with its head in one view is also seen in place; a body
 * that spans views, and every chunked body (de-chunked), is gathered in
 * the same buffer (the head is moved there first, so the request view
 * stays whole). Fixed response bodies are never copied unless small: they
 * go to the transport's borrowed write, pointing at read-only memory.
 *
 * REQUEST VIEWS are valid while the handler runs. A handler that answers
 * later (returns HTTP_DEFER) must copy what it needs before returning;
 * the struct http_req itself stays valid until its response ends.
 *
 * All callbacks run on the loop of the core that owns the connection.
 */
#ifndef KILN_HTTP_H
#define KILN_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sizes and limits: every one in one place, with its reason ------- */

/* Per-connection receive buffer: holds a head that spans views plus a
 * body that does. Bounds max_head + max_body. 16 KiB keeps a pool of
 * thousands of connections in tens of MiB. */
#ifndef HTTP_CONN_BUF
#define HTTP_CONN_BUF 16384
#endif
/* Per-connection output staging: status lines, headers and small bodies
 * of pipelined responses are batched here and written in one call. */
#ifndef HTTP_OUT_BUF
#define HTTP_OUT_BUF 4096
#endif
/* Header fields kept per request (the configurable limit cannot exceed
 * it). Browsers send about 15; 64 leaves room for proxies and cookies. */
#ifndef HTTP_MAX_HEADERS
#define HTTP_MAX_HEADERS 64
#endif
/* Routes per server: a unikernel app registers a handful. */
#ifndef HTTP_MAX_ROUTES
#define HTTP_MAX_ROUTES 64
#endif
/* Bodies up to this size are copied next to their headers (one write);
 * larger ones are lent to the transport (no copy). */
#define HTTP_INLINE_BODY 512
/* Response headers added by a handler must fit in this much of the
 * output buffer (what is left after standard headers). */
#define HTTP_RESP_HEADER_ROOM (HTTP_OUT_BUF / 2 - 512)
/* Longest Content-Type and ETag values a response may carry. */
#define HTTP_VALUE_MAX 100
/* Path bytes kept for the request log of a deferred response. */
#define HTTP_LOG_PATH_MAX 64

struct http_limits {
	/* Request line (method, target, version). Longer: 414. 8 KiB is
	 * what RFC 9112 3 recommends supporting at least. */
	uint32_t max_request_line;
	/* Request line plus all header lines. Larger: 431. Must fit
	 * HTTP_CONN_BUF together with max_body. */
	uint32_t max_head;
	/* Header field lines (at most HTTP_MAX_HEADERS). More: 431. */
	uint32_t max_headers;
	/* Request body bytes (Content-Length or de-chunked). More: 413.
	 * Bodies that do not fit HTTP_CONN_BUF behind their head need a
	 * body store (struct http_server_config). */
	uint32_t max_body;
	/* Requests on one connection before it is closed (keep-alive). */
	uint32_t max_requests;
	/* A request (head and body) must arrive within this from its first
	 * byte, however slowly it trickles: the slowloris defence. 408. */
	uint64_t request_timeout_ns;
	/* A keep-alive connection with nothing in progress is closed after
	 * this. */
	uint64_t idle_timeout_ns;
	/* Queued output must go out whole within this of being queued (the
	 * queue is at most HTTP_OUT_BUF staged bytes and a few lent spans),
	 * else the connection is closed (counted in send_timeouts). nginx's
	 * send_timeout, 60 s, but measured from queueing rather than from the
	 * last write: a peer whose window stays tiny, taking a few bytes per
	 * ACK, defeats a per-write timer and TCP's zero-window persist timer
	 * alike. */
	uint64_t send_timeout_ns;
	/* A deferred or streaming answer must make progress (a write, the
	 * end) within this once the output queue is empty - the app's turn -
	 * else the connection is closed (counted in response_timeouts); the
	 * app's next call on the request returns K_ECLOSED and frees it.
	 * 60 s, as nginx's proxy_read_timeout waits on an upstream. */
	uint64_t response_timeout_ns;
	/* A full pool may close a connection that has been reading one
	 * request head for at least this long (a slowloris client) to make
	 * room for a new one; see http_server_evict. 2 s: a real client's
	 * head arrives in one or two round trips, and this still covers a
	 * lost segment's first retransmission (1 s initial RTO, RFC 6298
	 * 2.1) on a 500 ms path; far below request_timeout_ns, so a pool
	 * filled with trickling heads turns over every couple of seconds. */
	uint64_t evict_min_age_ns;
	/* After an error or Connection: close, input is read and dropped
	 * this long (lingering close, RFC 9112 9.6) so the peer sees the
	 * response rather than a reset. */
	uint64_t linger_ns;
};

#define HTTP_LIMITS_DEFAULT {                                               \
	.max_request_line = 8192,                                           \
	.max_head = 8192,                                                   \
	.max_headers = HTTP_MAX_HEADERS,                                    \
	.max_body = HTTP_CONN_BUF - 8192,                                   \
	.max_requests = 10000,                                              \
	.request_timeout_ns = 10ull * 1000000000ull,                        \
	.idle_timeout_ns = 60ull * 1000000000ull,                           \
	.send_timeout_ns = 60ull * 1000000000ull,                           \
	.response_timeout_ns = 60ull * 1000000000ull,                       \
	.evict_min_age_ns = 2ull * 1000000000ull,                           \
	.linger_ns = 2ull * 1000000000ull,                                  \
}

/* ---- requests ----------------------------------------------------------- */

enum http_method {
	HTTP_M_OTHER = 0, /* a token we do not know: 501 */
	HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST, HTTP_M_PUT, HTTP_M_DELETE,
	HTTP_M_OPTIONS, HTTP_M_PATCH,
	HTTP_M_COUNT
};
#define HTTP_MBIT(m) (1u << (m))

/* A header field line: name as sent (compare case-insensitively), value
 * with leading and trailing whitespace removed. Not NUL-terminated. */
struct http_header {
	const char *name;
	const char *value;
	uint32_t name_len;
	uint32_t value_len;
};

struct http_conn;

/*
 * The request view. Strings point into the receive bytes or the
 * connection buffer and are not NUL-terminated. The path is the target
 * up to '?', neither percent-decoded nor normalised; the absolute form
 * (http://host/path) is reduced to its path. Fields under "framing" are
 * the parser's.
 */
struct http_req {
	enum http_method method;
	uint8_t version_minor;          /* 0 or 1 (HTTP/1.x, x > 1 reads as 1) */
	const char *method_str;
	const char *target;
	const char *path;
	const char *query;              /* after '?', NULL if none */
	uint32_t method_len, target_len, path_len, query_len;
	const char *host;               /* Host field value (may be empty) */
	uint32_t host_len;
	const struct http_header *headers;
	uint32_t nheaders;
	const uint8_t *body;            /* whole body; NULL when empty */
	size_t body_len;

	/* framing (the parser's) */
	uint64_t content_length;
	bool has_content_length, chunked, keep_alive, expect_continue;
	int16_t h_if_none_match, h_range, h_if_range, h_accept_encoding; /* -1: absent */

	struct http_conn *conn;
};

/* Header value by case-insensitive name (first occurrence); NULL if
 * absent. *len gets the value's length. */
const char *http_header_get(const struct http_req *req, const char *name, size_t *len);
/* True when Accept-Encoding admits coding (e.g. "gzip") with q > 0, by
 * name or "*" (RFC 9110 12.5.3); "x-gzip" counts as "gzip". No
 * Accept-Encoding field: false (send the identity form). */
bool http_accepts_encoding(const struct http_req *req, const char *coding);

/* ---- responses ------------------------------------------------------------ */

/*
 * A handler answers through the calls below, before it returns (return
 * K_OK) or later from a task (return HTTP_DEFER; the request's string
 * views expire on return, the struct does not). Returning K_OK without
 * having answered, or a negative value, sends 500. Pipelined requests
 * on the connection wait for the answer: responses leave in order.
 */
#define HTTP_DEFER 1

/* http_send flags */
#define HTTP_SEND_COPY    0x1u  /* body is transient: copy it now */
#define HTTP_SEND_RANGES  0x2u  /* honour Range/If-Range (206/416), Accept-Ranges */

/* Adds a response header line "name: value" (both NUL-terminated; no
 * CR/LF allowed: K_EINVAL). Call before http_send/http_stream_begin.
 * K_ENOSPC past HTTP_RESP_HEADER_ROOM (the response becomes a 500). */
int http_resp_header(struct http_req *req, const char *name, const char *value);
/* Sets the strong or weak entity-tag (with its quotes, e.g. "\"abc\"" or
 * "W/\"abc\"") sent as ETag; a 200 answer to GET/HEAD whose
 * If-None-Match matches it (weak comparison, RFC 9110 13.1.2) becomes
 * 304 Not Modified without a body. */
int http_resp_etag(struct http_req *req, const char *etag);

/*
 * Sends a complete response with status (200..599), Content-Type ctype
 * (NULL: none), Content-Length len, Date, Server and Connection. The body
 * is lent to the transport (must stay unchanged until sent: string
 * literals, baked assets) unless HTTP_SEND_COPY is given or it is at most
 * HTTP_INLINE_BODY bytes. HEAD gets the headers only. With
 * HTTP_SEND_RANGES a GET with one satisfiable byte range gets 206 and
 * Content-Range; an unsatisfiable one 416; several ranges, or If-Range
 * not matching the ETag strongly, get the whole body (RFC 9110 14.2
 * lets a server ignore Range). K_OK; K_ECLOSED when the connection went
 * away meanwhile (the request is released); K_EALREADY if answered.
 */
int http_send(struct http_req *req, int status, const char *ctype,
	      const void *body, size_t len, unsigned flags);
/* Like http_send for memory that is not static: done(arg) runs exactly
 * once, when the transport no longer needs body (also on failure). */
int http_send_borrowed(struct http_req *req, int status, const char *ctype,
		       const void *body, size_t len, void (*done)(void *arg), void *arg);
/* Shorthand: http_send(req, status, ctype, body, len, 0). */
static inline int http_respond(struct http_req *req, int status, const char *ctype,
			       const void *body, size_t len)
{
	return http_send(req, status, ctype, body, len, 0);
}

/*
 * A body of unknown length: chunked (RFC 9112 7.1) to HTTP/1.1 clients,
 * delimited by closing the connection for HTTP/1.0 ones. begin sends the
 * head; write copies data into one chunk (K_EAGAIN: the transport is
 * full, nothing taken - try again after the writable callback, set with
 * http_stream_on_writable); end sends the last chunk. Usable from the
 * handler or, after HTTP_DEFER, from a task.
 */
int http_stream_begin(struct http_req *req, int status, const char *ctype);
int http_stream_write(struct http_req *req, const void *data, size_t len);
int http_stream_end(struct http_req *req);
void http_stream_on_writable(struct http_req *req, void (*fn)(struct http_req *req, void *arg),
			     void *arg);

/* Reason phrase of a status code ("" for codes without one here). */
const char *http_status_reason(int status);

/* ---- routing ------------------------------------------------------------- */

typedef int (*http_handler_fn)(struct http_req *req, void *arg);

#define HTTP_ROUTE_PREFIX 0x1u   /* path is a prefix ("/static/") */

/* ---- transport ------------------------------------------------------------ */

/*
 * What the engine needs from a transport; ctx is the transport's
 * connection. Ownership: bytes given to write_copy are copied before it
 * returns; write_borrowed's span is the transport's until done.
 */
struct http_transport_ops {
	/* Copies up to len bytes; returns how many were taken (0..len; less
	 * means full: http_conn_writable() follows when room frees) or a
	 * negative error (the connection is failing). */
	int (*write_copy)(void *ctx, const void *data, size_t len);
	/* Sends [data, data+len) without copying. K_OK: queued, and
	 * done(arg) (if not NULL) runs exactly once when the transport is
	 * done with it. K_EAGAIN: not queued, done never runs (retry after
	 * writable). Other negative: not queued, done never runs. */
	int (*write_borrowed)(void *ctx, const void *data, size_t len,
			      void (*done)(void *arg), void *arg);
	/* Optional: half-close (FIN after queued data), keep receiving. */
	void (*shutdown)(void *ctx);
	/* The engine is done with ctx: close after queued data. No engine
	 * call for this connection may follow, except http_conn_closed(),
	 * which the transport must not call after close. */
	void (*close)(void *ctx);
	/* Optional: the engine stopped taking input (returned less than it
	 * was given); the transport may stop reading. */
	void (*pause_read)(void *ctx);
	/* Deliver held input again (after a short http_conn_input return). */
	void (*resume_read)(void *ctx);
};

/* ---- server --------------------------------------------------------------- */

/* One completed request, for the telemetry feed. Strings are views valid
 * during the callback. bytes counts body bytes sent. */
struct http_log {
	enum http_method method;
	const char *path;
	uint32_t path_len;
	int status;
	uint64_t bytes;
};

/* Memory for request bodies larger than the connection buffer: taken
 * when such a body starts arriving, given back when the next request
 * starts or the connection ends. alloc returns NULL when it cannot. */
struct http_body_store {
	void *(*alloc)(void *ctx, size_t n);
	void (*free)(void *ctx, void *p, size_t n);
	void *ctx;
};

struct http_server_config {
	struct http_limits limits;
	/* Large request bodies (up to limits.max_body each) come from here,
	 * at most body_mem_max bytes over all connections at once; beyond
	 * that a request gets 503. alloc NULL: every body must fit the
	 * connection buffer (max_head + max_body <= HTTP_CONN_BUF). */
	struct http_body_store body_store;
	size_t body_mem_max;
	/* Monotonic and wall-clock time in ns (NULL: time_now_ns and
	 * time_wall_ns). */
	uint64_t (*now_ns)(void);
	uint64_t (*wall_ns)(void);
	/* Called once per finished response (NULL: none). */
	void (*on_request)(void *arg, const struct http_log *log);
	void *on_request_arg;
	/* Answer OPTIONS for routed paths (and "*") with 204 and Allow when
	 * no route handles OPTIONS itself. */
	bool auto_options;
};

struct http_route {
	const char *path;
	uint32_t path_len;
	uint32_t methods;       /* HTTP_MBIT set */
	unsigned flags;
	http_handler_fn fn;
	void *arg;
};

struct http_stats {
	uint64_t conns_opened, conns_refused, requests, responses;
	uint64_t errors_4xx, errors_5xx, timeouts, pipelined_max;
	uint64_t evicted_idle;      /* idle keep-alive closed to make room */
	uint64_t evicted_slow;      /* slow header reader closed to make room */
	uint64_t send_timeouts;     /* output not sent within send_timeout_ns */
	uint64_t response_timeouts; /* deferred/streaming answer stalled */
};

/* Parser state (embedded in struct http_conn; fields are private). */
struct http_parser {
	const struct http_limits *lim;
	uint8_t *buf;                 /* the connection's HTTP_CONN_BUF */
	uint32_t state;
	uint32_t hlen;                /* head bytes gathered in buf */
	uint32_t scan;                /* end-of-head search resumes here */
	uint32_t head_len;            /* the parsed head's raw length */
	const uint8_t *head;          /* the parsed head (view or buf) */
	uint64_t remaining;           /* body or chunk bytes still to come */
	uint32_t line_len;            /* chunk-size / trailer line so far */
	uint32_t trailer_bytes;
	uint8_t cr;                   /* chunk framing: saw CR */
	bool started;                 /* bytes of an unfinished request seen */
	bool body_in_buf;
	size_t body_len;
	const struct http_body_store *store;  /* NULL: bodies stay in buf */
	uint8_t *big;                 /* a body gathered outside buf */
	size_t big_cap;
	int status;                   /* error status after HTTP_PARSE_ERROR */
	struct http_req req;
	struct http_header hdr[HTTP_MAX_HEADERS];
};

struct http_server;

/* Output queued in order: staged bytes in out[] or a lent span. */
struct http_out_seg {
	const uint8_t *lent;          /* NULL: bytes out[off, off+len) */
	size_t off, len;
	void (*done)(void *arg);
	void *arg;
};
/* Segments per connection: a response takes at most a staged part and a
 * lent body; processing pauses before the queue could overflow. */
#define HTTP_OUT_SEGS 8

/* One connection (from the server's pool; fields are private). */
struct http_conn {
	struct http_server *srv;
	const struct http_transport_ops *ops;
	void *tctx;
	struct http_conn *next_free;
	uint8_t state;
	bool in_use, in_input, held, eof, failed;
	bool deferred, responded, streaming, stream_chunked, stream_nobody;
	bool close_after, resp_overflow;
	uint32_t nreq;
	uint64_t req_start, last_io, linger_start;
	uint64_t out_since;           /* the output queue became non-empty */
	uint64_t app_at;              /* a deferred/streaming answer's last progress */
	/* the response in progress */
	uint32_t hstart, hcustom;     /* custom header bytes staged at out[hstart] */
	const char *etag;
	uint32_t etag_len;
	int status;
	uint64_t resp_bytes;
	enum http_method log_method;
	uint32_t log_path_len;
	char log_path[HTTP_LOG_PATH_MAX];
	void (*stream_writable)(struct http_req *req, void *arg);
	void *stream_arg;
	/* output queue */
	struct http_out_seg seg[HTTP_OUT_SEGS];
	uint32_t seg_head, seg_count;
	uint32_t out_len;
	uint8_t out[HTTP_OUT_BUF];
	struct http_parser parser;
	uint8_t buf[HTTP_CONN_BUF];
};

struct http_server {
	struct http_server_config cfg;
	struct http_route routes[HTTP_MAX_ROUTES];
	uint32_t nroutes;
	struct http_conn *conns;
	uint32_t nconns, active;
	struct http_conn *free;
	uint64_t date_sec;
	char date_line[64];           /* "Server: Kiln\r\nDate: ...\r\n" */
	uint32_t date_len;
	struct http_stats stats;
	struct http_body_store body_store;  /* cfg.body_store within budget */
	size_t body_mem;              /* bytes of large bodies held now */
};

/*
 * Sets up srv with cfg (NULL: HTTP_LIMITS_DEFAULT, auto_options) and the
 * caller's pool of nconns connections (static storage, kept for the
 * server's life; nothing is allocated later). K_EINVAL when the limits
 * do not fit the compile-time sizes.
 */
int http_server_init(struct http_server *srv, const struct http_server_config *cfg,
		     struct http_conn *conns, uint32_t nconns);
void http_server_config_default(struct http_server_config *cfg);

/*
 * Routes methods (HTTP_MBIT set; GET also serves HEAD) of path to fn.
 * path must be static; it is exact unless flags has HTTP_ROUTE_PREFIX.
 * Exact routes win over prefixes, longer prefixes over shorter. A path
 * that matches routes but not the method gets 405 with Allow. K_ENOSPC
 * when the table is full, K_EINVAL for a path not starting with '/'.
 */
int http_route(struct http_server *srv, uint32_t methods, const char *path, unsigned flags,
	       http_handler_fn fn, void *arg);

/* A new transport connection. NULL when the pool is empty: the caller
 * refuses it (reset, or a canned 503). */
struct http_conn *http_conn_open(struct http_server *srv, const struct http_transport_ops *ops,
				 void *ctx);
/* Received bytes. Returns how many were consumed; fewer than len only
 * when the engine is waiting (a deferred answer, full output): the
 * transport keeps the rest and offers it again after resume_read. */
size_t http_conn_input(struct http_conn *c, const uint8_t *data, size_t len);
/* The peer sent FIN: finish what is in progress, then close. */
void http_conn_eof(struct http_conn *c);
/* The transport has room again after a short write. */
void http_conn_writable(struct http_conn *c);
/* The transport connection is gone (reset, or closed by the peer after
 * our close was not yet called); no ops are called for it again. */
void http_conn_closed(struct http_conn *c);
/* When this connection's next timer is due (UINT64_MAX: none). */
uint64_t http_conn_deadline(const struct http_conn *c);

/* Runs every connection's timers due at now: 408 for a request that
 * took too long; close for idle ones, ended lingering, output not sent
 * within send_timeout_ns and a deferred or streaming answer stalled for
 * response_timeout_ns. */
void http_server_tick(struct http_server *srv, uint64_t now);
/*
 * Makes room in a full pool, as nginx does: closes the idle keep-alive
 * connection (no request begun, nothing owed) that has waited longest,
 * else the connection that has spent longest, and at least
 * limits.evict_min_age_ns, reading an unfinished request head (a slowloris
 * client). A connection with a request in progress - a body arriving, an
 * answer owed, deferred or streaming - is never taken. True when one was
 * closed (its slot is free on return); false when none may be.
 */
bool http_server_evict(struct http_server *srv);
uint64_t http_server_next_deadline(const struct http_server *srv);

/* ---- the parser, for the server and for tests ----------------------------- */

enum http_parse_event {
	HTTP_PARSE_MORE = 0,     /* everything consumed; need more bytes */
	HTTP_PARSE_REQUEST,      /* a whole request is in p->req */
	HTTP_PARSE_CONTINUE,     /* head parsed, Expect: 100-continue, body to come */
	HTTP_PARSE_ERROR,        /* p->status holds 400/408/413/414/417/431/501/505 */
};

/* Prepares p for a new connection; buf has HTTP_CONN_BUF bytes. store
 * (may be NULL) holds bodies that do not fit buf. */
void http_parse_init(struct http_parser *p, const struct http_limits *lim, uint8_t *buf,
		     const struct http_body_store *store);
/* Gives back what p holds from its store (when the connection ends). */
void http_parse_release(struct http_parser *p);
/*
 * Parses [data, data+len), which may split a request anywhere. Stores
 * the bytes consumed in *used and returns what happened. After
 * HTTP_PARSE_REQUEST the request view is valid until the next call;
 * after HTTP_PARSE_ERROR the parser stays in error (close the
 * connection). On HTTP_PARSE_MORE everything was consumed and the parser
 * no longer points into data.
 */
enum http_parse_event http_parse_feed(struct http_parser *p, const uint8_t *data, size_t len,
				      size_t *used);
/* The request's method from its token (HTTP_M_OTHER if unknown). */
enum http_method http_method_parse(const char *s, size_t len);
const char *http_method_name(enum http_method m);

/* ---- the TCP binding (proto/http/http_tcp.c) ---------------------------- */

struct net_if;

/* Borrowed writes with a completion that one connection may have queued
 * in TCP at once (each needs a slot to keep the completion until TCP
 * says K_OK); more wait for a slot. Lent bodies without a completion
 * (string literals, baked assets) need none. */
#ifndef HTTP_TCP_BORROW_SLOTS
#define HTTP_TCP_BORROW_SLOTS 8
#endif
/* Servers that can be bound to TCP in one image (each may listen on
 * several ports: they share its pool and timer). */
#define HTTP_TCP_MAX_SERVERS 4

/*
 * Serves srv on TCP port of nif (kiln/tcp.h): every accepted connection
 * is opened in srv's pool; when the pool is full the connection gets a
 * canned 503 and is closed. One timer per server runs
 * http_server_tick() at http_server_next_deadline(). The first call for
 * a server takes its per-connection transport state from the page
 * allocator (once; nothing is allocated per connection or request).
 * Call on the loop of the core that owns nif, after http_server_init()
 * and the routes. K_OK; K_ENOMEM; K_ENOSPC (too many servers); the
 * errors of tcp_listen().
 */
int http_listen_tcp(struct http_server *srv, struct net_if *nif, uint16_t port, unsigned backlog);

/* Transport counters of the TCP binding of srv (zeros if none). */
struct http_tcp_stats {
	uint64_t accepted;          /* connections handed to the engine */
	uint64_t refused;           /* pool full: 503 and close */
	uint64_t resets;            /* closed by a reset or timeout from TCP */
	uint64_t borrow_waits;      /* borrowed writes that waited for a slot */
	uint64_t ticks;             /* timer runs */
};
void http_tcp_get_stats(const struct http_server *srv, struct http_tcp_stats *out);

#endif
