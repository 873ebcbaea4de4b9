/*
 * symbols.h - function names for addresses, from the table the build
 * links into every image (section .ksyms, made by tools/mksyms.sh).
 */
#ifndef KILN_SYMBOLS_H
#define KILN_SYMBOLS_H

#include <stdint.h>

/* Name of the function containing addr and the offset into it, or NULL
 * when addr is outside every known function. */
const char *ksym_lookup(uintptr_t addr, uintptr_t *offset);
/* Address of the function called name, or 0. */
uintptr_t ksym_address(const char *name);

#endif
