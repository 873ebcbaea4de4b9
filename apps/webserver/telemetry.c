/*
 * telemetry.c - the webserver's live numbers: /api/stats.json,
 * /api/requests.json and /metrics (Prometheus text format 0.0.4).
 *
 * Interface: telemetry_* (webserver.h).
 *
 * Rules:
 *  - Cheap on the request path: telemetry_on_request (the engine's
 *    per-response hook) bumps counters and copies the path into a ring
 *    of the last FEED_LEN requests. Everything else is read from the
 *    subsystems' own counters only when a telemetry URL is asked for.
 *  - The feed leaves out the page's own polling (paths under /api/), so what a
 *    visitor sees are page loads and other clients, their own included.
 *  - A history sampler (a timer, once a second) keeps the last minute
 *    of requests and memory for the page's charts.
 *  - Answers are built into one of RESP_BUFS static buffers and lent to
 *    the engine (http_send_borrowed); the buffer comes back when the
 *    transport is done with it. No buffer free (many slow readers at
 *    once): 503 with Retry-After. Nothing is allocated.
 *  - The NIC's features come from net_if_features(): virtio-net's
 *    negotiated feature names, or the offload flags of a device (the
 *    hosted runners') that has no names of its own.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/assets.h>
#include <kiln/fmt.h>
#include <kiln/kiln.h>
#include <kiln/https.h>
#include <kiln/tcp.h>
#include <kiln/tls.h>

#include "webserver.h"


/* Requests the feed keeps (the page shows them all). */
#define FEED_LEN 64
/* History: one sample a second for a minute. */
#define HIST_LEN 60
#define HIST_PERIOD_NS NS_PER_SEC
/* Response buffers: room for the worst-case feed (every path byte
 * escaped as \u00XX) with a margin. */
#define RESP_BUFS 4
#define RESP_BUF_SIZE (32 * 1024)

struct feed_entry {
	uint64_t t_ms;
	uint16_t status;
	uint8_t method;
	uint8_t len;
	char path[HTTP_LOG_PATH_MAX];
};

static struct {
	uint64_t requests, bytes, by_class[6];
	struct feed_entry feed[FEED_LEN];
	uint32_t feed_next;         /* where the next entry goes */
	uint64_t feed_total;        /* entries ever written */
	uint32_t hist_req[HIST_LEN], hist_mem_kib[HIST_LEN];
	uint32_t hist_next, hist_count;
	uint64_t hist_last_requests;
	struct timer hist_timer;
	struct net_if *nif;
	uint64_t buf_busy_refusals;
} tm;

static char resp_buf[RESP_BUFS][RESP_BUF_SIZE];
static bool resp_busy[RESP_BUFS];

/* ---- the request hook ---------------------------------------------------- */

void telemetry_on_request(void *arg, const struct http_log *log)
{
	(void)arg;
	tm.requests++;
	tm.bytes += log->bytes;
	unsigned cls = (unsigned)log->status / 100;
	tm.by_class[cls < 6 ? cls : 0]++;
	if (log->path_len >= 5 && memcmp(log->path, "/api/", 5) == 0)
		return;
	struct feed_entry *e = &tm.feed[tm.feed_next];
	uint32_t n = log->path_len < HTTP_LOG_PATH_MAX ? log->path_len : HTTP_LOG_PATH_MAX;
	memcpy(e->path, log->path, n);
	e->len = (uint8_t)n;
	e->status = (uint16_t)log->status;
	e->method = (uint8_t)log->method;
	e->t_ms = time_now_ns() / NS_PER_MS;
	tm.feed_next = (tm.feed_next + 1) % FEED_LEN;
	tm.feed_total++;
}

/* ---- history ----------------------------------------------------------------- */

static void hist_sample(struct timer *t, void *arg)
{
	(void)arg;
	struct mem_stats ms;
	mem_get_stats(&ms);
	tm.hist_req[tm.hist_next] = (uint32_t)(tm.requests - tm.hist_last_requests);
	tm.hist_mem_kib[tm.hist_next] = (uint32_t)(ms.used_bytes >> 10);
	tm.hist_last_requests = tm.requests;
	tm.hist_next = (tm.hist_next + 1) % HIST_LEN;
	if (tm.hist_count < HIST_LEN)
		tm.hist_count++;
	timer_arm_in(t, HIST_PERIOD_NS);
}

void telemetry_start(void)
{
	timer_init(&tm.hist_timer, hist_sample, NULL);
	timer_arm_in(&tm.hist_timer, HIST_PERIOD_NS);
}

void telemetry_set_nif(struct net_if *nif)
{
	tm.nif = nif;
}

/* ---- output buffers ------------------------------------------------------------ */

struct out {
	char *p;
	size_t len, cap;
	bool overflow;
};

__attribute__((format(printf, 2, 3)))
static void out_printf(struct out *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len) {
		o->overflow = true;
		o->len = o->cap - 1;
		return;
	}
	o->len += (size_t)n;
}

/* A JSON string: quotes, and every byte outside printable ASCII, the
 * quote and the backslash escaped (hostile paths stay valid JSON). */
static void out_json_str(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	out_printf(o, "\"");
	for (size_t i = 0; i < n && !o->overflow; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (o->cap - o->len < 8) {
			o->overflow = true;
			break;
		}
		if (ch == '"' || ch == '\\') {
			o->p[o->len++] = '\\';
			o->p[o->len++] = (char)ch;
		} else if (ch < 0x20 || ch >= 0x7f) {
			memcpy(o->p + o->len, "\\u00", 4);
			o->p[o->len + 4] = hex[ch >> 4];
			o->p[o->len + 5] = hex[ch & 15];
			o->len += 6;
		} else {
			o->p[o->len++] = (char)ch;
		}
	}
	out_printf(o, "\"");
}

static int out_take(struct out *o)
{
	for (int i = 0; i < RESP_BUFS; i++) {
		if (!resp_busy[i]) {
			resp_busy[i] = true;
			o->p = resp_buf[i];
			o->len = 0;
			o->cap = RESP_BUF_SIZE;
			o->overflow = false;
			return i;
		}
	}
	return -1;
}

static void out_done(void *arg)
{
	resp_busy[(uintptr_t)arg] = false;
}

static int out_busy(struct http_req *req)
{
	static const char msg[] = "telemetry busy, retry\n";
	tm.buf_busy_refusals++;
	http_resp_header(req, "Retry-After", "1");
	return http_respond(req, 503, "text/plain", msg, sizeof msg - 1);
}

static int out_send(struct http_req *req, struct out *o, int idx, const char *ctype)
{
	http_resp_header(req, "Cache-Control", "no-store");
	if (o->overflow) {
		resp_busy[idx] = false;
		return http_respond(req, 500, "text/plain", "telemetry overflow\n", 19);
	}
	return http_send_borrowed(req, 200, ctype, o->p, o->len, out_done, (void *)(uintptr_t)idx);
}

/* ---- gathering ------------------------------------------------------------------ */

struct snapshot {
	uint64_t now_ns;
	struct mem_stats mem;
	struct loop_stats loop;
	struct task_stats tasks;
	struct http_tcp_stats htcp;
	struct net_if_hw hw;
	bool have_nif;
	const struct tcp_stats *tcp;
	char features[256];
	char mac[18];
};

static void snapshot(struct snapshot *s)
{
	memset(s, 0, sizeof *s);
	s->now_ns = time_now_ns();
	mem_get_stats(&s->mem);
	loop_get_stats(0, &s->loop);
	task_get_stats(&s->tasks);
	http_tcp_get_stats(&web_srv, &s->htcp);
	if (tm.nif) {
		s->have_nif = true;
		net_if_hw_info(tm.nif, &s->hw);
		s->tcp = tcp_get_stats(tm.nif);
		ksnprintf(s->mac, sizeof s->mac, "%02x:%02x:%02x:%02x:%02x:%02x", s->hw.mac[0],
			  s->hw.mac[1], s->hw.mac[2], s->hw.mac[3], s->hw.mac[4], s->hw.mac[5]);
		net_if_features(tm.nif, s->features, sizeof s->features);
	}
}

/* ---- /api/stats.json ---------------------------------------------------------- */

static void json_hist(struct out *o, const char *name, const uint32_t *ring)
{
	out_printf(o, "\"%s\":[", name);
	uint32_t start = (tm.hist_next + HIST_LEN - tm.hist_count) % HIST_LEN;
	for (uint32_t i = 0; i < tm.hist_count; i++)
		out_printf(o, "%s%u", i ? "," : "", ring[(start + i) % HIST_LEN]);
	out_printf(o, "]");
}

/* "net": every pool (total, free, in use, low water, refusals) and every
 * drop counter by reason, so a drain or a flood shows on the page. */
static void json_net(struct out *o, const struct net_if *nif, const struct tcp_stats *t)
{
	struct net_pool_info pi[4];
	unsigned np = net_if_pools(nif, pi, 4);
	uint64_t in_use_bytes = 0;
	out_printf(o, "\"net\":{\"pools\":[");
	for (unsigned i = 0; i < np; i++) {
		out_printf(o, "%s{\"name\":", i ? "," : "");
		out_json_str(o, pi[i].name, strlen(pi[i].name));
		out_printf(o, ",\"total\":%u,\"free\":%u,\"in_use\":%u,\"low_water\":%u,"
			   "\"refused\":%llu,\"buf_bytes\":%u}",
			   pi[i].total, pi[i].free, pi[i].total - pi[i].free, pi[i].low_water,
			   (unsigned long long)pi[i].refused, pi[i].buf_bytes);
		in_use_bytes += (uint64_t)(pi[i].total - pi[i].free) * pi[i].buf_bytes;
	}
	out_printf(o, "],\"pools_in_use_bytes\":%llu,\"drops\":{", (unsigned long long)in_use_bytes);
	struct net_counter d[NET_DROPS_MAX];
	unsigned nd = net_if_drops(nif, d, NET_DROPS_MAX);
	for (unsigned i = 0; i < nd; i++)
		out_printf(o, "%s\"%s\":%llu", i ? "," : "", d[i].name, (unsigned long long)d[i].value);
	out_printf(o, "},\"tcp_states\":{");
	unsigned ns = net_if_tcp_states(nif, d, NET_TCP_STATES);
	for (unsigned i = 0; i < ns; i++)
		out_printf(o, "%s\"%s\":%llu", i ? "," : "", d[i].name, (unsigned long long)d[i].value);
	out_printf(o, "}");
	if (t) {
		out_printf(o, ",\"tcp_mem\":{\"bytes\":%llu,\"pressure\":%llu,\"limit\":%llu,"
			   "\"pressure_entered\":%llu,\"collapsed\":%llu,\"pruned\":%llu,"
			   "\"rcv_dropped\":%llu,\"snd_limited\":%llu}",
			   (unsigned long long)t->mem_bytes, (unsigned long long)t->mem_pressure,
			   (unsigned long long)t->mem_limit, (unsigned long long)t->mem_pressure_entered,
			   (unsigned long long)t->mem_collapsed, (unsigned long long)t->mem_pruned,
			   (unsigned long long)t->mem_rcv_dropped, (unsigned long long)t->mem_snd_limited);
	}
	out_printf(o, "},");
}

int telemetry_stats(struct http_req *req, void *arg)
{
	(void)arg;
	struct snapshot s;
	struct out o;
	int idx = out_take(&o);
	if (idx < 0)
		return out_busy(req);
	snapshot(&s);
	const struct http_stats *hs = &web_srv.stats;

	out_printf(&o, "{\"kiln\":\"%s\",\"uptime_ms\":%llu,", KILN_VERSION,
		   (unsigned long long)(s.now_ns / NS_PER_MS));
	out_printf(&o, "\"timers\":{\"fired\":%llu,\"wakeups\":%llu,\"halts\":%llu},",
		   (unsigned long long)s.loop.timers_fired, (unsigned long long)s.loop.wakeups,
		   (unsigned long long)s.loop.halts);
	out_printf(&o, "\"http\":{\"conns_served\":%llu,\"active\":%u,\"capacity\":%u,"
		   "\"refused\":%llu,\"requests\":%llu,\"responses\":%llu,\"errors_4xx\":%llu,"
		   "\"errors_5xx\":%llu,\"timeouts\":%llu,\"pipelined_max\":%llu,\"bytes\":%llu,"
		   "\"evicted_idle\":%llu,\"evicted_slow\":%llu,\"send_timeouts\":%llu,"
		   "\"response_timeouts\":%llu},",
		   (unsigned long long)hs->conns_opened, web_srv.active, web_srv.nconns,
		   (unsigned long long)(hs->conns_refused + s.htcp.refused),
		   (unsigned long long)hs->requests, (unsigned long long)hs->responses,
		   (unsigned long long)hs->errors_4xx, (unsigned long long)hs->errors_5xx,
		   (unsigned long long)hs->timeouts, (unsigned long long)hs->pipelined_max,
		   (unsigned long long)tm.bytes, (unsigned long long)hs->evicted_idle,
		   (unsigned long long)hs->evicted_slow, (unsigned long long)hs->send_timeouts,
		   (unsigned long long)hs->response_timeouts);
	if (web_tls_enabled()) {
		const struct tls_stats *ts = &web_tls.stats;
		struct https_stats hx;
		https_get_stats(&web_srv, &hx);
		out_printf(&o, "\"tls\":{\"handshakes_full\":%llu,\"handshakes_resumed\":%llu,"
			   "\"hrr\":%llu,\"failed\":%llu,\"tickets_sent\":%llu,\"tickets_bad\":%llu,"
			   "\"early_data_skipped\":%llu,\"records_in\":%llu,\"records_out\":%llu,"
			   "\"work_bufs\":%u,\"work_bufs_free\":%u,\"work_waits\":%llu,"
			   "\"short_writes\":%llu,\"evicted\":%llu},",
			   (unsigned long long)ts->handshakes_full,
			   (unsigned long long)ts->handshakes_resumed, (unsigned long long)ts->hrr_sent,
			   (unsigned long long)ts->handshakes_failed, (unsigned long long)ts->tickets_sent,
			   (unsigned long long)ts->tickets_bad,
			   (unsigned long long)ts->early_data_skipped,
			   (unsigned long long)ts->records_in, (unsigned long long)ts->records_out,
			   ts->work_bufs_total, ts->work_bufs_free, (unsigned long long)hx.work_waits,
			   (unsigned long long)hx.short_writes, (unsigned long long)hx.evicted);
	}
	out_printf(&o, "\"mem\":{\"used\":%llu,\"total\":%llu,\"objects\":%llu},",
		   (unsigned long long)s.mem.used_bytes, (unsigned long long)s.mem.total_bytes,
		   (unsigned long long)s.mem.obj_bytes);
	out_printf(&o, "\"assets\":{\"files\":%zu,\"bytes\":%zu,\"gz_bytes\":%zu},",
		   assets_count(), assets_total_bytes(), assets_total_gz_bytes());
	if (s.have_nif) {
		out_printf(&o, "\"nic\":{\"name\":");
		out_json_str(&o, s.hw.name, strlen(s.hw.name));
		out_printf(&o, ",\"mac\":\"%s\",\"mtu\":%u,\"features\":", s.mac, s.hw.mtu);
		out_json_str(&o, s.features, strlen(s.features));
		out_printf(&o, ",\"rx_packets\":%llu,\"tx_packets\":%llu,\"rx_bytes\":%llu,"
			   "\"tx_bytes\":%llu,\"rx_dropped\":%llu,\"tx_errors\":%llu},",
			   (unsigned long long)s.hw.rx_packets, (unsigned long long)s.hw.tx_packets,
			   (unsigned long long)s.hw.rx_bytes, (unsigned long long)s.hw.tx_bytes,
			   (unsigned long long)s.hw.rx_dropped, (unsigned long long)s.hw.tx_errors);
		const struct tcp_stats *t = s.tcp;
		out_printf(&o, "\"tcp\":{\"segs_in\":%llu,\"segs_out\":%llu,\"retransmits\":%llu,"
			   "\"resets_in\":%llu,\"resets_out\":%llu,\"passive_opens\":%llu,"
			   "\"conns\":%u,\"timewait\":%u},",
			   (unsigned long long)t->segs_in, (unsigned long long)t->segs_out,
			   (unsigned long long)t->retransmits, (unsigned long long)t->resets_in,
			   (unsigned long long)t->resets_out, (unsigned long long)t->passive_opens,
			   t->conns_current, t->timewait_current);
		json_net(&o, tm.nif, t);
	}
	out_printf(&o, "\"cores\":[{\"cpu\":0,\"passes\":%llu,\"busy_passes\":%llu,"
		   "\"polls_with_work\":%llu,\"halts\":%llu,\"wakeups\":%llu,\"timers_fired\":%llu,"
		   "\"tasks_run\":%llu}],",
		   (unsigned long long)s.loop.passes, (unsigned long long)s.loop.busy_passes,
		   (unsigned long long)s.loop.polls_with_work, (unsigned long long)s.loop.halts,
		   (unsigned long long)s.loop.wakeups, (unsigned long long)s.loop.timers_fired,
		   (unsigned long long)s.loop.tasks_run);
	out_printf(&o, "\"udp_echoed\":%llu,", (unsigned long long)udp_echo_count());
	out_printf(&o, "\"history\":{\"period_ms\":%llu,",
		   (unsigned long long)(HIST_PERIOD_NS / NS_PER_MS));
	json_hist(&o, "requests", tm.hist_req);
	out_printf(&o, ",");
	json_hist(&o, "mem_kib", tm.hist_mem_kib);
	out_printf(&o, "}}\n");
	return out_send(req, &o, idx, "application/json");
}

/* ---- /api/requests.json ----------------------------------------------------------- */

int telemetry_requests(struct http_req *req, void *arg)
{
	(void)arg;
	struct out o;
	int idx = out_take(&o);
	if (idx < 0)
		return out_busy(req);
	uint32_t count = tm.feed_total < FEED_LEN ? (uint32_t)tm.feed_total : FEED_LEN;
	uint32_t start = (tm.feed_next + FEED_LEN - count) % FEED_LEN;
	out_printf(&o, "{\"now_ms\":%llu,\"total\":%llu,\"requests\":[",
		   (unsigned long long)(time_now_ns() / NS_PER_MS),
		   (unsigned long long)tm.feed_total);
	for (uint32_t i = 0; i < count; i++) {
		const struct feed_entry *e = &tm.feed[(start + i) % FEED_LEN];
		out_printf(&o, "%s{\"t_ms\":%llu,\"method\":\"%s\",\"status\":%u,\"path\":",
			   i ? "," : "", (unsigned long long)e->t_ms,
			   http_method_name((enum http_method)e->method), e->status);
		out_json_str(&o, e->path, e->len);
		out_printf(&o, "}");
	}
	out_printf(&o, "]}\n");
	return out_send(req, &o, idx, "application/json");
}

/* ---- /metrics ----------------------------------------------------------------------- */

static void metric(struct out *o, const char *name, const char *type, const char *help,
		   uint64_t v)
{
	out_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
		   (unsigned long long)v);
}

int telemetry_metrics(struct http_req *req, void *arg)
{
	(void)arg;
	struct snapshot s;
	struct out o;
	int idx = out_take(&o);
	if (idx < 0)
		return out_busy(req);
	snapshot(&s);
	const struct http_stats *hs = &web_srv.stats;
	const char *C = "counter", *G = "gauge";

	metric(&o, "kiln_uptime_seconds", G, "Seconds since boot.", s.now_ns / NS_PER_SEC);
	metric(&o, "kiln_timers_fired_total", C, "Timer callbacks run by the loop.",
	       s.loop.timers_fired);
	metric(&o, "kiln_loop_wakeups_total", C, "Loop wake-ups from halt.", s.loop.wakeups);
	metric(&o, "kiln_loop_passes_total", C, "Run-loop passes (core 0).", s.loop.passes);
	metric(&o, "kiln_loop_busy_passes_total", C, "Passes that did work (core 0).",
	       s.loop.busy_passes);
	metric(&o, "kiln_loop_halts_total", C, "Times the loop halted idle (core 0).",
	       s.loop.halts);
	metric(&o, "kiln_tasks_live", G, "Live cooperative tasks.", s.tasks.live);
	metric(&o, "kiln_http_connections_total", C, "HTTP connections served since boot.",
	       hs->conns_opened);
	metric(&o, "kiln_http_connections_active", G, "HTTP connections open now.", web_srv.active);
	metric(&o, "kiln_http_connections_capacity", G, "HTTP connection pool size.",
	       web_srv.nconns);
	metric(&o, "kiln_http_connections_refused_total", C, "Connections refused (pool full).",
	       hs->conns_refused + s.htcp.refused);
	out_printf(&o, "# HELP kiln_http_evicted_total Connections closed to make room for a new "
		   "client.\n# TYPE kiln_http_evicted_total counter\n"
		   "kiln_http_evicted_total{kind=\"idle\"} %llu\n"
		   "kiln_http_evicted_total{kind=\"slow_head\"} %llu\n",
		   (unsigned long long)hs->evicted_idle, (unsigned long long)hs->evicted_slow);
	out_printf(&o, "# HELP kiln_http_stalled_total Connections closed because a response "
		   "stalled.\n# TYPE kiln_http_stalled_total counter\n"
		   "kiln_http_stalled_total{kind=\"send\"} %llu\n"
		   "kiln_http_stalled_total{kind=\"response\"} %llu\n",
		   (unsigned long long)hs->send_timeouts, (unsigned long long)hs->response_timeouts);
	if (web_tls_enabled()) {
		const struct tls_stats *ts = &web_tls.stats;
		struct https_stats hx;
		https_get_stats(&web_srv, &hx);
		out_printf(&o, "# HELP kiln_tls_handshakes_total TLS 1.3 handshakes completed.\n"
			   "# TYPE kiln_tls_handshakes_total counter\n"
			   "kiln_tls_handshakes_total{kind=\"full\"} %llu\n"
			   "kiln_tls_handshakes_total{kind=\"resumed\"} %llu\n",
			   (unsigned long long)ts->handshakes_full,
			   (unsigned long long)ts->handshakes_resumed);
		metric(&o, "kiln_tls_handshakes_failed_total", C, "TLS handshakes that failed.",
		       ts->handshakes_failed);
		metric(&o, "kiln_tls_hello_retry_total", C, "HelloRetryRequests sent.", ts->hrr_sent);
		metric(&o, "kiln_tls_tickets_sent_total", C, "Session tickets issued.",
		       ts->tickets_sent);
		metric(&o, "kiln_tls_tickets_rejected_total", C,
		       "Tickets not accepted (bad, expired, old key).", ts->tickets_bad);
		metric(&o, "kiln_tls_early_data_skipped_total", C,
		       "0-RTT records declined and skipped.", ts->early_data_skipped);
		metric(&o, "kiln_tls_records_in_total", C, "TLS records received.", ts->records_in);
		metric(&o, "kiln_tls_records_out_total", C, "TLS records sent.", ts->records_out);
		metric(&o, "kiln_tls_work_buffers", G, "TLS work buffers (handshakes at once).",
		       ts->work_bufs_total);
		metric(&o, "kiln_tls_work_buffers_free", G, "TLS work buffers free now.",
		       ts->work_bufs_free);
		metric(&o, "kiln_tls_work_waits_total", C,
		       "Inputs that waited for a free TLS work buffer.", hx.work_waits);
		out_printf(&o, "# HELP kiln_tls_alerts_sent_total TLS alerts sent, by description.\n"
			   "# TYPE kiln_tls_alerts_sent_total counter\n");
		for (unsigned a = 0; a < 256; a++)
			if (ts->alerts_sent[a])
				out_printf(&o, "kiln_tls_alerts_sent_total{alert=\"%s\"} %llu\n",
					   tls_alert_name(a), (unsigned long long)ts->alerts_sent[a]);
		out_printf(&o, "# HELP kiln_tls_alerts_received_total TLS alerts received, by "
			   "description.\n# TYPE kiln_tls_alerts_received_total counter\n");
		for (unsigned a = 0; a < 256; a++)
			if (ts->alerts_received[a])
				out_printf(&o, "kiln_tls_alerts_received_total{alert=\"%s\"} %llu\n",
					   tls_alert_name(a), (unsigned long long)ts->alerts_received[a]);
		out_printf(&o, "# HELP kiln_tls_suite_handshakes_total Handshakes by cipher suite.\n"
			   "# TYPE kiln_tls_suite_handshakes_total counter\n");
		for (unsigned i = 0; i < web_tls.cfg.nsuites; i++)
			out_printf(&o, "kiln_tls_suite_handshakes_total{suite=\"%s\"} %llu\n",
				   tls_suite_name(web_tls.cfg.suites[i]),
				   (unsigned long long)ts->suites[i]);
		out_printf(&o, "# HELP kiln_tls_group_handshakes_total Handshakes by key-exchange "
			   "group.\n# TYPE kiln_tls_group_handshakes_total counter\n");
		for (unsigned i = 0; i < web_tls.cfg.ngroups; i++)
			out_printf(&o, "kiln_tls_group_handshakes_total{group=\"%s\"} %llu\n",
				   tls_group_name(web_tls.cfg.groups[i]),
				   (unsigned long long)ts->groups[i]);
	}
	metric(&o, "kiln_http_requests_total", C, "HTTP requests parsed.", hs->requests);
	metric(&o, "kiln_http_responses_total", C, "HTTP responses sent.", hs->responses);
	out_printf(&o, "# HELP kiln_http_responses_by_class_total Responses by status class.\n"
		   "# TYPE kiln_http_responses_by_class_total counter\n");
	for (unsigned c = 1; c < 6; c++)
		out_printf(&o, "kiln_http_responses_by_class_total{class=\"%uxx\"} %llu\n", c,
			   (unsigned long long)tm.by_class[c]);
	metric(&o, "kiln_http_timeouts_total", C, "Requests or connections timed out.",
	       hs->timeouts);
	metric(&o, "kiln_http_body_bytes_total", C, "Response body bytes sent.", tm.bytes);
	metric(&o, "kiln_memory_used_bytes", G, "Pages allocated.", s.mem.used_bytes);
	metric(&o, "kiln_memory_total_bytes", G, "Memory managed by the page allocator.",
	       s.mem.total_bytes);
	metric(&o, "kiln_assets_files", G, "Files baked into the image.", assets_count());
	metric(&o, "kiln_assets_bytes", G, "Bytes of baked files.", assets_total_bytes());
	metric(&o, "kiln_udp_echoed_total", C, "UDP echo replies sent.", udp_echo_count());
	if (s.have_nif) {
		metric(&o, "kiln_nic_rx_packets_total", C, "Frames received.", s.hw.rx_packets);
		metric(&o, "kiln_nic_tx_packets_total", C, "Frames sent.", s.hw.tx_packets);
		metric(&o, "kiln_nic_rx_bytes_total", C, "Bytes received.", s.hw.rx_bytes);
		metric(&o, "kiln_nic_tx_bytes_total", C, "Bytes sent.", s.hw.tx_bytes);
		metric(&o, "kiln_tcp_segments_in_total", C, "TCP segments received.", s.tcp->segs_in);
		metric(&o, "kiln_tcp_segments_out_total", C, "TCP segments sent.", s.tcp->segs_out);
		metric(&o, "kiln_tcp_retransmits_total", C, "TCP retransmissions.",
		       s.tcp->retransmits);
		metric(&o, "kiln_tcp_resets_in_total", C, "TCP resets received.", s.tcp->resets_in);
		metric(&o, "kiln_tcp_resets_out_total", C, "TCP resets sent.", s.tcp->resets_out);
		metric(&o, "kiln_tcp_connections", G, "TCP connection blocks in use.",
		       s.tcp->conns_current);
		metric(&o, "kiln_tcp_timewait", G, "TCP TIME_WAIT entries.", s.tcp->timewait_current);
		struct net_pool_info pi[4];
		unsigned np = net_if_pools(tm.nif, pi, 4);
		out_printf(&o, "# HELP kiln_pool_buffers Packet-pool entries by state.\n"
			   "# TYPE kiln_pool_buffers gauge\n");
		for (unsigned i = 0; i < np; i++)
			out_printf(&o, "kiln_pool_buffers{pool=\"%s\",state=\"free\"} %u\n"
				   "kiln_pool_buffers{pool=\"%s\",state=\"in_use\"} %u\n",
				   pi[i].name, pi[i].free, pi[i].name, pi[i].total - pi[i].free);
		out_printf(&o, "# HELP kiln_pool_refused_total Allocations refused: pool empty.\n"
			   "# TYPE kiln_pool_refused_total counter\n");
		for (unsigned i = 0; i < np; i++)
			out_printf(&o, "kiln_pool_refused_total{pool=\"%s\"} %llu\n", pi[i].name,
				   (unsigned long long)pi[i].refused);
		struct net_counter d[NET_DROPS_MAX];
		unsigned nd = net_if_drops(tm.nif, d, NET_DROPS_MAX);
		out_printf(&o, "# HELP kiln_net_drops_total Packets dropped or answers withheld, "
			   "by reason.\n# TYPE kiln_net_drops_total counter\n");
		for (unsigned i = 0; i < nd; i++)
			out_printf(&o, "kiln_net_drops_total{reason=\"%s\"} %llu\n", d[i].name,
				   (unsigned long long)d[i].value);
		unsigned ns = net_if_tcp_states(tm.nif, d, NET_TCP_STATES);
		out_printf(&o, "# HELP kiln_tcp_connections_by_state TCP connections by state.\n"
			   "# TYPE kiln_tcp_connections_by_state gauge\n");
		for (unsigned i = 0; i < ns; i++)
			out_printf(&o, "kiln_tcp_connections_by_state{state=\"%s\"} %llu\n", d[i].name,
				   (unsigned long long)d[i].value);
		metric(&o, "kiln_tcp_mem_bytes", G, "Packet-buffer memory TCP holds (truesize).",
		       s.tcp->mem_bytes);
		metric(&o, "kiln_tcp_mem_pressure_bytes", G, "TCP memory above which shares apply.",
		       s.tcp->mem_pressure);
		metric(&o, "kiln_tcp_mem_limit_bytes", G, "TCP memory budget.", s.tcp->mem_limit);
		metric(&o, "kiln_tcp_mem_collapsed_total", C, "Small segments copied into a queued buffer.",
		       s.tcp->mem_collapsed);
		metric(&o, "kiln_tcp_mem_pruned_total", C, "Out-of-order islands given up for memory.",
		       s.tcp->mem_pruned);
	}
	return out_send(req, &o, idx, "text/plain; version=0.0.4; charset=utf-8");
}
