/* client_audit_findings — what verify and reconcile found: a bounded list
 * of findings, each an integrity error, a semantic error or a note, about
 * one leaf or the log as a whole. Plain data: the caller prints it.
 *
 * Messages are formatted from values passed as arguments, never from a
 * format built out of input; they name no identifier, token or query
 * text. */
#ifndef CLIENT_AUDIT_FINDINGS_H
#define CLIENT_AUDIT_FINDINGS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A finding's leaf when it concerns no one leaf (a checkpoint, the log). */
#define CLIENT_AUDIT_NO_LEAF UINT64_MAX
/* Findings kept in full; further ones are only counted (n_dropped). */
#define CLIENT_AUDIT_MAX_FINDINGS 10000

typedef enum {
    CLIENT_AUDIT_INTEGRITY,  /* structure, hashes or signatures: an error */
    CLIENT_AUDIT_SEMANTICS,  /* events missing, repeated or out of order: an error */
    CLIENT_AUDIT_NOTE        /* worth knowing; not an error */
} client_audit_severity_t;

typedef struct {
    client_audit_severity_t severity;
    uint64_t leaf;           /* the leaf concerned, or CLIENT_AUDIT_NO_LEAF */
    char *message;           /* owned */
} client_audit_finding_t;

/* A list of findings; plain data (zero-initialise it), freed with
 * client_audit_findings_clear. */
typedef struct {
    client_audit_finding_t *items;
    size_t n, cap;
    size_t n_dropped;        /* beyond CLIENT_AUDIT_MAX_FINDINGS */
    size_t n_errors;         /* integrity and semantic findings, dropped ones included */
} client_audit_findings_t;

/* Adds a finding (message formatted; values from outside only as
 * arguments). */
void client_audit_findings_add(client_audit_findings_t *f, client_audit_severity_t severity,
                               uint64_t leaf, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* client_audit_findings_add with a va_list (for wrappers). */
void client_audit_findings_vadd(client_audit_findings_t *f, client_audit_severity_t severity,
                                uint64_t leaf, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

/* Moves every finding of src to the end of dst, counts included; src is
 * left empty. */
void client_audit_findings_move(client_audit_findings_t *dst, client_audit_findings_t *src);

/* Sorts f by leaf, keeping the order of findings about the same leaf. */
void client_audit_findings_sort_by_leaf(client_audit_findings_t *f);

/* Frees every message and zeroes f; NULL-safe. */
void client_audit_findings_clear(client_audit_findings_t *f);

/* "integrity error", "semantic error" or "note" (static). */
const char *client_audit_findings_severity_name(client_audit_severity_t s);

#endif
