#include "hearth_buf.h"
#include "hearth_mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hearth_buf_init(hearth_buf_t *self, size_t max)
{
    self->data = NULL;
    self->len = 0;
    self->cap = 0;
    self->max = max;
}

void hearth_buf_free(hearth_buf_t *self)
{
    free(self->data);
    self->data = NULL;
    self->len = self->cap = 0;
}

void hearth_buf_reset(hearth_buf_t *self)
{
    self->len = 0;
    if (self->data)
        self->data[0] = '\0';
}

static hearth_err_t reserve(hearth_buf_t *self, size_t extra)
{
    /* The terminating NUL needs one byte past len + extra. */
    if (extra > self->max - self->len || self->len + extra == SIZE_MAX)
        return HEARTH_ERR_TOO_BIG;
    size_t need = self->len + extra + 1;
    if (need <= self->cap)
        return HEARTH_OK;
    /* Double until large enough, but never allocate past max + 1 bytes
     * (need <= limit holds here, so the loop ends). */
    size_t limit = self->max == SIZE_MAX ? SIZE_MAX : self->max + 1;
    size_t cap = self->cap ? self->cap : 64;
    if (cap > limit)
        cap = limit;
    while (cap < need)
        cap = cap > limit / 2 ? limit : cap * 2;
    self->data = hearth_reallocarray(self->data, cap, 1);
    self->cap = cap;
    return HEARTH_OK;
}

hearth_err_t hearth_buf_add(hearth_buf_t *self, const void *data, size_t len)
{
    hearth_err_t rc = reserve(self, len);
    if (rc != HEARTH_OK)
        return rc;
    if (len)
        memcpy(self->data + self->len, data, len);
    self->len += len;
    self->data[self->len] = '\0';
    return HEARTH_OK;
}

hearth_err_t hearth_buf_adds(hearth_buf_t *self, const char *s)
{
    return hearth_buf_add(self, s, strlen(s));
}

hearth_err_t hearth_buf_printf(hearth_buf_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return HEARTH_ERR_INTERNAL;
    hearth_err_t rc = reserve(self, (size_t)n);
    if (rc != HEARTH_OK)
        return rc;
    va_start(ap, fmt);
    vsnprintf(self->data + self->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    self->len += (size_t)n;
    return HEARTH_OK;
}

char *hearth_buf_take(hearth_buf_t *self)
{
    char *d = self->data ? self->data : hearth_strdup("");
    self->data = NULL;
    self->len = self->cap = 0;
    return d;
}

const char *hearth_buf_str(const hearth_buf_t *self)
{
    return self->data ? self->data : "";
}
