/*
 * cmdline.c - the kernel command line: storage, lookup and typed parsing.
 *
 * Interface: include/kiln/cmdline.h (and log_level_parse from log.h, which
 * is a parser and lives here so the kernel and hosted builds share it).
 *
 * A line is a run of words separated by white space (space, tab, CR, LF,
 * VT, FF). A word is `key=value` (the first '=' splits; the value may hold
 * more '=') or a bare `key`, which is accepted only for CMDLINE_BOOL and
 * means true. There is no quoting.
 *
 * Rules:
 *  - Parsing never fails the boot. Each problem (unknown key, empty key,
 *    missing or bad value, value too long) is logged at LOG_WARN with the
 *    word and the value kept, and counted in cmdline_parse's result.
 *  - A value is written to the caller's storage only when it is valid in
 *    full; otherwise the storage is left as it was (the default). A STR
 *    value that does not fit is an error, not a silent truncation.
 *  - A key given twice: each word is applied in order, so the last valid
 *    one wins. cmdline_lookup likewise returns the last occurrence.
 *  - Keys match exactly: "ip" does not match "ipv6=...". The first entry
 *    of the table with a key wins; ignore entries may end in '='.
 *  - U32 bounds: min is always checked; max = 0 means no upper bound (a
 *    range with min > max = 0 would be empty, so that reading is free).
 *  - opt->seen is set only when the word's value was stored.
 *  - Every value is parsed from (s, end) pointers and nothing reads past
 *    end; nothing is allocated. cmdline_set() is for the boot path only
 *    (it writes a static buffer without locking).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <kiln/cmdline.h>
#include <kiln/err.h>
#include <kiln/log.h>

/* Longest slice of a word quoted in a warning. */
#define CMDLINE_SHOW_MAX 64

static char cmdline_boot[CMDLINE_MAX];

struct cmdline_word {
	const char *start, *end;  /* the whole word */
	const char *key_end;      /* the '=' or end */
	const char *val;          /* after the '='; NULL for a bare key */
};

static bool cmdline_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Finds the word at or after *pos; false at the end of the line. */
static bool cmdline_next_word(const char **pos, struct cmdline_word *w)
{
	const char *p = *pos;

	while (*p && cmdline_is_space(*p))
		p++;
	if (!*p) {
		*pos = p;
		return false;
	}
	w->start = p;
	w->val = NULL;
	while (*p && !cmdline_is_space(*p)) {
		if (*p == '=' && !w->val) {
			w->key_end = p;
			w->val = p + 1;
		}
		p++;
	}
	w->end = p;
	if (!w->val)
		w->key_end = p;
	*pos = p;
	return true;
}

/* True when the NUL-terminated key equals the slice [s, e), which holds no
 * NUL; with allow_eq, key may also carry one trailing '='. */
static bool cmdline_key_is(const char *key, const char *s, const char *e,
			   bool allow_eq)
{
	for (; s < e; s++, key++)
		if (*key != *s)
			return false;
	return key[0] == 0 || (allow_eq && key[0] == '=' && key[1] == 0);
}

static int cmdline_show_len(const struct cmdline_word *w)
{
	size_t n = (size_t)(w->end - w->start);
	return n > CMDLINE_SHOW_MAX ? CMDLINE_SHOW_MAX : (int)n;
}

int parse_u32(const char *s, const char *end, uint32_t *out)
{
	unsigned base = 10;
	uint32_t v = 0;
	bool overflow = false;

	if (!s || !end || s >= end)
		return K_EINVAL;
	if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
		if (s == end)
			return K_EINVAL;
	}
	for (; s < end; s++) {
		unsigned d;
		char c = *s;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return K_EINVAL;
		if (v > (UINT32_MAX - d) / base)
			overflow = true;
		else
			v = v * base + d;
	}
	if (overflow)
		return K_ERANGE;
	*out = v;
	return K_OK;
}

int parse_ip4(const char *s, const char *end, uint32_t *out)
{
	uint32_t addr = 0;

	if (!s || !end || s >= end)
		return K_EINVAL;
	for (int i = 0; i < 4; i++) {
		if (i > 0) {
			if (s == end || *s != '.')
				return K_EINVAL;
			s++;
		}
		const char *digits = s;
		unsigned v = 0;
		while (s < end && *s >= '0' && *s <= '9' && s - digits < 3)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (s == digits)
			return K_EINVAL;
		if (s < end && *s >= '0' && *s <= '9')
			return K_EINVAL;          /* four or more digits */
		if (s - digits > 1 && *digits == '0')
			return K_EINVAL;          /* "01": octal to some parsers */
		if (v > 255)
			return K_ERANGE;
		addr = addr << 8 | v;
	}
	if (s != end)
		return K_EINVAL;
	*out = addr;
	return K_OK;
}

/* "a.b.c.d/p" with p decimal 0..32, no leading zero. */
static int cmdline_parse_cidr(const char *s, const char *end,
			      struct cmdline_cidr *out)
{
	const char *slash = s < end ? memchr(s, '/', (size_t)(end - s)) : NULL;
	uint32_t addr;
	unsigned prefix = 0;
	int err;

	if (!slash)
		return K_EINVAL;
	err = parse_ip4(s, slash, &addr);
	if (err)
		return err;
	const char *p = slash + 1;
	if (p == end || end - p > 2 || (end - p == 2 && *p == '0'))
		return K_EINVAL;
	for (; p < end; p++) {
		if (*p < '0' || *p > '9')
			return K_EINVAL;
		prefix = prefix * 10 + (unsigned)(*p - '0');
	}
	if (prefix > 32)
		return K_ERANGE;
	out->addr = addr;
	out->prefix = (uint8_t)prefix;
	return K_OK;
}

static const char *const cmdline_level_names[] = {
	[LOG_ERROR] = "error",
	[LOG_WARN] = "warn",
	[LOG_INFO] = "info",
	[LOG_DEBUG] = "debug",
};

int log_level_parse(const char *name, enum log_level *out)
{
	if (!name)
		return K_EINVAL;
	for (size_t i = 0; i < sizeof cmdline_level_names / sizeof *cmdline_level_names; i++) {
		if (strcmp(name, cmdline_level_names[i]) == 0) {
			*out = (enum log_level)i;
			return K_OK;
		}
	}
	return K_EINVAL;
}

static bool cmdline_slice_is(const char *s, const char *end, const char *word)
{
	return cmdline_key_is(word, s, end, false);
}

static int cmdline_parse_bool(const char *s, const char *end, bool *out)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };

	for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
		if (cmdline_slice_is(s, end, yes[i])) {
			*out = true;
			return K_OK;
		}
		if (cmdline_slice_is(s, end, no[i])) {
			*out = false;
			return K_OK;
		}
	}
	return K_EINVAL;
}

/* Stores [s, end) into o's storage; NULL on success, else why not. */
static const char *cmdline_apply(const struct cmdline_opt *o, const char *s,
				 const char *end)
{
	size_t len = (size_t)(end - s);
	uint32_t u;
	int err;

	switch (o->type) {
	case CMDLINE_STR:
		if (len >= o->size)
			return "too long";
		memcpy(o->value, s, len);
		((char *)o->value)[len] = 0;
		return NULL;
	case CMDLINE_U32:
		err = parse_u32(s, end, &u);
		if (err == K_ERANGE)
			return "does not fit 32 bits";
		if (err)
			return "not a decimal or 0x number";
		if (u < o->min || (o->max && u > o->max))
			return "out of range";
		*(uint32_t *)o->value = u;
		return NULL;
	case CMDLINE_BOOL:
		if (cmdline_parse_bool(s, end, (bool *)o->value))
			return "not a boolean (1/0/on/off/yes/no/true/false)";
		return NULL;
	case CMDLINE_IP4:
		if (parse_ip4(s, end, &u))
			return "not a dotted quad";
		*(uint32_t *)o->value = u;
		return NULL;
	case CMDLINE_IP4_CIDR: {
		struct cmdline_cidr c;
		if (cmdline_parse_cidr(s, end, &c))
			return "not a.b.c.d/prefix with prefix 0..32";
		*(struct cmdline_cidr *)o->value = c;
		return NULL;
	}
	case CMDLINE_LOGLEVEL: {
		char name[8];
		enum log_level lv;
		if (len >= sizeof name)
			return "not a log level (error/warn/info/debug)";
		memcpy(name, s, len);
		name[len] = 0;
		if (log_level_parse(name, &lv))
			return "not a log level (error/warn/info/debug)";
		*(enum log_level *)o->value = lv;
		return NULL;
	}
	}
	return "unknown option type";
}

/* Logs a rejected word with the value o keeps. */
static void cmdline_warn_kept(const struct cmdline_opt *o,
			      const struct cmdline_word *w, const char *why)
{
	int n = cmdline_show_len(w);
	const void *v = o->value;

	switch (o->type) {
	case CMDLINE_STR: {
		size_t len = strnlen(v, o->size);
		klog(LOG_WARN, "cmdline: '%.*s': %s (max %zu bytes); keeping %s=\"%.*s\"",
		     n, w->start, why, o->size ? o->size - 1 : 0, o->key,
		     (int)(len > CMDLINE_SHOW_MAX ? CMDLINE_SHOW_MAX : len),
		     (const char *)v);
		break;
	}
	case CMDLINE_U32:
		if (o->max)
			klog(LOG_WARN, "cmdline: '%.*s': %s (%u..%u); keeping %s=%u",
			     n, w->start, why, o->min, o->max, o->key,
			     *(const uint32_t *)v);
		else if (o->min)
			klog(LOG_WARN, "cmdline: '%.*s': %s (at least %u); keeping %s=%u",
			     n, w->start, why, o->min, o->key, *(const uint32_t *)v);
		else
			klog(LOG_WARN, "cmdline: '%.*s': %s; keeping %s=%u", n,
			     w->start, why, o->key, *(const uint32_t *)v);
		break;
	case CMDLINE_BOOL:
		klog(LOG_WARN, "cmdline: '%.*s': %s; keeping %s=%s", n, w->start,
		     why, o->key, *(const bool *)v ? "true" : "false");
		break;
	case CMDLINE_IP4: {
		uint32_t a = *(const uint32_t *)v;
		klog(LOG_WARN, "cmdline: '%.*s': %s; keeping %s=%u.%u.%u.%u", n,
		     w->start, why, o->key, a >> 24, a >> 16 & 255, a >> 8 & 255,
		     a & 255);
		break;
	}
	case CMDLINE_IP4_CIDR: {
		const struct cmdline_cidr *c = v;
		klog(LOG_WARN, "cmdline: '%.*s': %s; keeping %s=%u.%u.%u.%u/%u", n,
		     w->start, why, o->key, c->addr >> 24, c->addr >> 16 & 255,
		     c->addr >> 8 & 255, c->addr & 255, c->prefix);
		break;
	}
	case CMDLINE_LOGLEVEL: {
		unsigned lv = (unsigned)*(const enum log_level *)v;
		if (lv < sizeof cmdline_level_names / sizeof *cmdline_level_names)
			klog(LOG_WARN, "cmdline: '%.*s': %s; keeping %s=%s", n,
			     w->start, why, o->key, cmdline_level_names[lv]);
		else
			klog(LOG_WARN, "cmdline: '%.*s': %s; keeping %s=%u", n,
			     w->start, why, o->key, lv);
		break;
	}
	default:
		klog(LOG_WARN, "cmdline: '%.*s': %s; ignored", n, w->start, why);
		break;
	}
}

static const struct cmdline_opt *cmdline_find(const struct cmdline_opt *opts,
					      size_t nopts,
					      const struct cmdline_word *w)
{
	for (size_t i = 0; opts && i < nopts; i++)
		if (opts[i].key && cmdline_key_is(opts[i].key, w->start, w->key_end, false))
			return &opts[i];
	return NULL;
}

static bool cmdline_ignored(const char *const *ignore, const struct cmdline_word *w)
{
	for (; ignore && *ignore; ignore++)
		if (cmdline_key_is(*ignore, w->start, w->key_end, true))
			return true;
	return false;
}

/* Applies one word; true when it was a problem (already logged). */
static bool cmdline_take(const struct cmdline_opt *opts, size_t nopts,
			 const char *const *ignore, const struct cmdline_word *w)
{
	int n = cmdline_show_len(w);
	const struct cmdline_opt *o;
	const char *why;

	if (w->key_end == w->start) {
		klog(LOG_WARN, "cmdline: '%.*s': empty key; ignored", n, w->start);
		return true;
	}
	o = cmdline_find(opts, nopts, w);
	if (!o) {
		if (cmdline_ignored(ignore, w))
			return false;
		klog(LOG_WARN, "cmdline: '%.*s': unknown key; ignored", n, w->start);
		return true;
	}
	if (!o->value) {
		klog(LOG_WARN, "cmdline: '%.*s': option has no storage; ignored",
		     n, w->start);
		return true;
	}
	if (w->val) {
		why = cmdline_apply(o, w->val, w->end);
	} else if (o->type == CMDLINE_BOOL) {
		*(bool *)o->value = true;
		why = NULL;
	} else {
		why = "needs a value";
	}
	if (why) {
		cmdline_warn_kept(o, w, why);
		return true;
	}
	if (o->seen)
		*o->seen = true;
	return false;
}

int cmdline_parse(const char *line, const struct cmdline_opt *opts, size_t nopts,
		  const char *const *ignore)
{
	struct cmdline_word w;
	int problems = 0;

	if (!line)
		return 0;
	while (cmdline_next_word(&line, &w))
		if (cmdline_take(opts, nopts, ignore, &w) && problems < INT32_MAX)
			problems++;
	return problems;
}

void cmdline_set(const char *line)
{
	size_t n = line ? strnlen(line, CMDLINE_MAX) : 0;

	if (n == CMDLINE_MAX) {
		/* Too long: keep whole words only, so no value is cut short. */
		n = CMDLINE_MAX - 1;
		if (!cmdline_is_space(line[n]))
			while (n > 0 && !cmdline_is_space(line[n - 1]))
				n--;
	}
	if (n)
		memcpy(cmdline_boot, line, n);
	cmdline_boot[n] = 0;
}

const char *cmdline_get(void)
{
	return cmdline_boot;
}

const char *cmdline_lookup(const char *key, char *buf, size_t size)
{
	const char *pos = cmdline_boot;
	struct cmdline_word w, found;
	bool have = false;

	if (!key || !*key || !buf || !size)
		return NULL;
	while (cmdline_next_word(&pos, &w)) {
		if (cmdline_key_is(key, w.start, w.key_end, false)) {
			found = w;
			have = true;
		}
	}
	if (!have)
		return NULL;
	size_t len = found.val ? (size_t)(found.end - found.val) : 0;
	if (len > size - 1)
		len = size - 1;
	if (len)
		memcpy(buf, found.val, len);
	buf[len] = 0;
	return buf;
}
