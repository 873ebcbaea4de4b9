/*
 * cmdline.h - the kernel command line: space-separated key=value words.
 *
 * Kiln's own keys (ip=, gw=, dns=, log=) and any an app declares are
 * described by a table of struct cmdline_opt. Unknown keys and bad values
 * are reported on the console and the default is kept; parsing never
 * fails the boot. Values are copied into the caller's storage.
 */
#ifndef KILN_CMDLINE_H
#define KILN_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cmdline_type {
	CMDLINE_STR,      /* char[size]; value truncated is an error */
	CMDLINE_U32,      /* uint32_t, decimal or 0x hex, within [min,max] */
	CMDLINE_BOOL,     /* bool: 1/0/on/off/yes/no/true/false */
	CMDLINE_IP4,      /* uint32_t host order, dotted quad */
	CMDLINE_IP4_CIDR, /* struct cmdline_cidr: "a.b.c.d/prefix" */
	CMDLINE_LOGLEVEL, /* enum log_level */
};

struct cmdline_cidr {
	uint32_t addr;    /* host order */
	uint8_t prefix;
};

struct cmdline_opt {
	const char *key;
	enum cmdline_type type;
	void *value;
	size_t size;          /* CMDLINE_STR buffer size */
	uint32_t min, max;    /* CMDLINE_U32 bounds; both 0 = any */
	bool *seen;           /* optional: set when the key was given */
	const char *help;
};

/*
 * Declares a command-line option anywhere in Kiln or an app; the kernel
 * parses the boot command line once against every declared option, so an
 * unknown key is reported no matter who owns the others.
 *   static uint32_t port = 80;
 *   CMDLINE_OPTION(port, .key = "port", .type = CMDLINE_U32, .value = &port,
 *                  .min = 1, .max = 65535, .help = "TCP port");
 */
#define CMDLINE_OPTION(id_, ...)                                          \
	static const struct cmdline_opt __cmdline_opt_##id_               \
	__attribute__((used, section(".kiln_cmdline"), aligned(8))) = { __VA_ARGS__ }

/* The options declared with CMDLINE_OPTION in this image. */
extern const struct cmdline_opt __cmdline_start[], __cmdline_end[];

/*
 * Parses line against opts. Returns the number of problems reported
 * (unknown keys, bad values); each is logged with its word. Keys outside
 * opts that appear in ignore (NULL-terminated) are skipped silently
 * (e.g. QEMU's own virtio_mmio.device=).
 */
int cmdline_parse(const char *line, const struct cmdline_opt *opts, size_t nopts,
		  const char *const *ignore);

/* Longest boot command line kept, NUL included. */
#define CMDLINE_MAX 1024

/* Boot only: stores the loader's command line (NULL = none). A line
 * longer than CMDLINE_MAX - 1 loses the word cut in half and all after. */
void cmdline_set(const char *line);
/* The boot command line, as given by the loader ("" if none). */
const char *cmdline_get(void);
/* Finds key's raw value in the boot command line; NULL if absent. The
 * value is copied into buf (NUL-terminated); returns buf. */
const char *cmdline_lookup(const char *key, char *buf, size_t size);

/* Helpers shared with other parsers. */
int parse_u32(const char *s, const char *end, uint32_t *out);
int parse_ip4(const char *s, const char *end, uint32_t *out);

#endif
