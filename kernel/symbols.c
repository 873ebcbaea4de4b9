/*
 * symbols.c - address-to-name lookup over the image's symbol table.
 *
 * The table (tools/mksyms.sh) is sorted by address: ksyms_count entries
 * of {address, size, name offset} and one string block. A lookup is a
 * binary search; it allocates nothing, so panics and faults can use it.
 */
#include <stdint.h>
#include <string.h>

#include <kiln/symbols.h>

struct ksym {
	uint64_t addr;
	uint32_t size;
	uint32_t name;
};

extern const uint64_t ksyms_count;
extern const struct ksym ksyms_table[];
extern const char ksyms_names[];

const char *ksym_lookup(uintptr_t addr, uintptr_t *offset)
{
	uint64_t lo = 0, hi = ksyms_count;
	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (ksyms_table[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct ksym *s = &ksyms_table[lo - 1];
	uintptr_t off = addr - s->addr;
	if (s->size && off >= s->size)
		return NULL;
	*offset = off;
	return ksyms_names + s->name;
}

uintptr_t ksym_address(const char *name)
{
	for (uint64_t i = 0; i < ksyms_count; i++)
		if (strcmp(ksyms_names + ksyms_table[i].name, name) == 0)
			return ksyms_table[i].addr;
	return 0;
}
