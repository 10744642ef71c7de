#include "hearth_mem.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static _Noreturn void oom(void)
{
    static const char msg[] = "hearth: out of memory\n";
    /* write(2), not stdio: stdio may itself need memory. */
    ssize_t ignored = write(2, msg, sizeof msg - 1);
    (void)ignored;
    abort();
}

void *hearth_malloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *hearth_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (p == NULL)
        oom();
    return p;
}

void *hearth_reallocarray(void *p, size_t n, size_t size)
{
    if (size != 0 && n > SIZE_MAX / size)
        oom();
    size_t bytes = n * size;
    void *q = realloc(p, bytes ? bytes : 1);
    if (q == NULL)
        oom();
    return q;
}

char *hearth_strdup(const char *s)
{
    return hearth_strndup(s, strlen(s));
}

char *hearth_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = hearth_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *hearth_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    char *s = hearth_malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void *hearth_alloc_huge(size_t n, size_t size)
{
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    if (size != 0 && n <= (SIZE_MAX - huge) / size && n * size >= huge) {
        size_t rounded = (n * size + huge - 1) & ~(huge - 1);
        void *p = NULL;
        if (posix_memalign(&p, huge, rounded) == 0) {
            (void)madvise(p, rounded, MADV_HUGEPAGE);
            return p;
        }
    }
#endif
    return hearth_reallocarray(NULL, n, size);
}
