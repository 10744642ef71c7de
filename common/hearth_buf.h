/* hearth_buf — a growable byte buffer with a hard maximum (curl's dynbuf):
 * every append checks the bound, so no input can grow it without limit.
 * The content is always NUL-terminated. */
#ifndef HEARTH_BUF_H
#define HEARTH_BUF_H

#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char *data;   /* owned; NULL until the first append */
    size_t len;   /* bytes used, excluding the terminating NUL */
    size_t cap;   /* bytes allocated */
    size_t max;   /* the most len may ever be */
} hearth_buf_t;

/* Initialises an empty buffer that may hold at most max bytes. */
void hearth_buf_init(hearth_buf_t *self, size_t max);
/* Frees the content; the buffer may be initialised again. */
void hearth_buf_free(hearth_buf_t *self);
/* Empties the buffer, keeping its allocation. */
void hearth_buf_reset(hearth_buf_t *self);
/* Appends len bytes; HEARTH_ERR_TOO_BIG (buffer unchanged) past max. */
hearth_err_t hearth_buf_add(hearth_buf_t *self, const void *data, size_t len);
hearth_err_t hearth_buf_adds(hearth_buf_t *self, const char *s);
/* Appends formatted text; the format must be a literal. */
hearth_err_t hearth_buf_printf(hearth_buf_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Hands the content to the caller (caller frees) and empties the buffer. */
char *hearth_buf_take(hearth_buf_t *self);
/* The content, or "" when empty; borrowed. */
const char *hearth_buf_str(const hearth_buf_t *self);

#endif
