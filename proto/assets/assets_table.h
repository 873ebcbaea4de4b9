/*
 * assets_table.h - the layout of the baked table, shared by the lookup
 * (assets.c) and tools/bake, which writes it as assembly. Change both
 * together; assets.c checks the offsets the baker assumes at compile time.
 *
 * The generated object defines one `kiln_assets` (struct asset_table):
 *   assets[count]  the files, sorted by path;
 *   keys[nkeys]    every name a file is found by: its path, and for
 *                  ".../index.html" also ".../" and "..." (root: "/");
 *   slots[nslots]  an open-addressing hash table (linear probing,
 *                  nslots a power of two, at most half full) holding
 *                  key index + 1, 0 for empty. The hash is FNV-1a (32 bit)
 *                  of the normalised path. max_probe is the longest probe
 *                  sequence any baked key needs, so a miss costs at most
 *                  max_probe + 1 slot reads whatever the input.
 */
#ifndef KILN_ASSETS_TABLE_H
#define KILN_ASSETS_TABLE_H

#include <stdint.h>

#include <kiln/assets.h>

struct asset_key {
	const char *path;
	uint32_t len;
	uint32_t asset;       /* index into assets[] */
};

struct asset_table {
	const struct asset *assets;
	const struct asset_key *keys;
	const uint32_t *slots;
	uint64_t count;
	uint64_t nkeys;
	uint64_t nslots;
	uint64_t max_probe;
	uint64_t total_bytes;
	uint64_t total_gz_bytes;
};

#define ASSETS_FNV_BASIS 2166136261u
#define ASSETS_FNV_PRIME 16777619u

static inline uint32_t assets_hash(const char *s, size_t n)
{
	uint32_t h = ASSETS_FNV_BASIS;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * ASSETS_FNV_PRIME;
	return h;
}

#endif
