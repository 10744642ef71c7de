/* hearth_mem — allocation with the project's one out-of-memory policy:
 * on failure, print a fixed message and abort (see hearth_err.h). Every
 * pointer returned is freed with free(). */
#ifndef HEARTH_MEM_H
#define HEARTH_MEM_H

#include <stddef.h>

void *hearth_malloc(size_t size);
void *hearth_calloc(size_t n, size_t size);
/* Overflow-checked n * size reallocation. */
void *hearth_reallocarray(void *p, size_t n, size_t size);
char *hearth_strdup(const char *s);
char *hearth_strndup(const char *s, size_t n);
/* An array of n items of size for reading at random (free with free()).
 * From 2 MiB up it is aligned to 2 MiB and asked to live on transparent
 * huge pages: read at random with 4 KiB pages, nearly every access would
 * also miss the TLB (a node's token pool and the gateway's linkage tables
 * are tens of MB read in random order). Only advice: where THP is off,
 * nothing changes but speed. Smaller arrays come from hearth_reallocarray. */
void *hearth_alloc_huge(size_t n, size_t size);
/* Formatted allocation; the format must be a literal. */
char *hearth_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
