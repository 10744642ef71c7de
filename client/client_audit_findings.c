#include "client_audit_findings.h"
#include "hearth_err.h"
#include "hearth_mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool is_error(client_audit_severity_t s)
{
    return s != CLIENT_AUDIT_NOTE;
}

static void findings_push(client_audit_findings_t *f, client_audit_severity_t severity,
                          uint64_t leaf, char *message)
{
    if (is_error(severity))
        f->n_errors++;
    if (f->n >= CLIENT_AUDIT_MAX_FINDINGS) {
        f->n_dropped++;
        free(message);
        return;
    }
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->items = hearth_reallocarray(f->items, f->cap, sizeof *f->items);
    }
    f->items[f->n++] = (client_audit_finding_t){severity, leaf, message};
}

void client_audit_findings_vadd(client_audit_findings_t *f, client_audit_severity_t severity,
                                uint64_t leaf, const char *fmt, va_list ap)
{
    char *message = NULL;
    hearth_cause_vset(&message, fmt, ap);
    findings_push(f, severity, leaf, message);
}

void client_audit_findings_add(client_audit_findings_t *f, client_audit_severity_t severity,
                               uint64_t leaf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    client_audit_findings_vadd(f, severity, leaf, fmt, ap);
    va_end(ap);
}

void client_audit_findings_clear(client_audit_findings_t *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        free(f->items[i].message);
    free(f->items);
    memset(f, 0, sizeof *f);
}

const char *client_audit_findings_severity_name(client_audit_severity_t s)
{
    switch (s) {
    case CLIENT_AUDIT_INTEGRITY: return "integrity error";
    case CLIENT_AUDIT_SEMANTICS: return "semantic error";
    case CLIENT_AUDIT_NOTE: return "note";
    }
    return "note";
}

void client_audit_findings_move(client_audit_findings_t *dst, client_audit_findings_t *src)
{
    for (size_t i = 0; i < src->n; i++) {
        /* findings_push counts errors again; src already counted them. */
        if (is_error(src->items[i].severity))
            dst->n_errors--;
        findings_push(dst, src->items[i].severity, src->items[i].leaf, src->items[i].message);
    }
    dst->n_errors += src->n_errors;
    dst->n_dropped += src->n_dropped;
    free(src->items);
    memset(src, 0, sizeof *src);
}

/* A bottom-up merge sort: stable, where qsort is not. */
void client_audit_findings_sort_by_leaf(client_audit_findings_t *f)
{
    if (f->n < 2)
        return;
    client_audit_finding_t *s = f->items;
    client_audit_finding_t *out = hearth_calloc(f->n, sizeof *out);
    for (size_t width = 1; width < f->n; width *= 2) {
        for (size_t lo = 0; lo < f->n; lo += 2 * width) {
            size_t mid = lo + width < f->n ? lo + width : f->n;
            size_t hi = lo + 2 * width < f->n ? lo + 2 * width : f->n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                out[k++] = s[b].leaf < s[a].leaf ? s[b++] : s[a++];
            while (a < mid)
                out[k++] = s[a++];
            while (b < hi)
                out[k++] = s[b++];
        }
        client_audit_finding_t *t = s;
        s = out;
        out = t;
    }
    /* s holds the sorted run; out is the other buffer. */
    f->items = s;
    f->cap = f->n;   /* a safe under-estimate when s is the original */
    free(out);
}
