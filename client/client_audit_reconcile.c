#include "client_audit_reconcile.h"
#include "audit_event.h"
#include "audit_receipt.h"
#include "client_audit_events.h"
#include "client_audit_parse.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

hearth_err_t client_audit_reconcile_receipts_parse(const char *text, size_t len, char ***notes,
                                                   size_t *n, char **cause)
{
    *notes = NULL;
    *n = 0;
    size_t cap = 0, line = 0, pos = 0;
    char **list = NULL;
    while (pos < len) {
        line++;
        const char *s = text + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t l = nl ? (size_t)(nl - s) : len - pos;
        pos += l + (nl ? 1 : 0);
        if (l > 0 && s[l - 1] == '\r')
            l--;
        if (l == 0)
            continue;
        size_t nlen = 0;
        uint8_t *note = client_audit_parse_base64(s, l, TLOG_NOTE_MAX, &nlen);
        if (note == NULL || memchr(note, '\0', nlen)) {
            free(note);
            hearth_cause_set(cause, "line %zu: not the base64 of a signed receipt", line);
            for (size_t i = 0; i < *n; i++)
                free(list[i]);
            free(list);
            *n = 0;
            return HEARTH_ERR_FORMAT;
        }
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            list = hearth_reallocarray(list, cap, sizeof *list);
        }
        list[(*n)++] = hearth_strndup((const char *)note, nlen);
        free(note);
    }
    *notes = list;
    return HEARTH_OK;
}

static int str_cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

client_audit_reconcile_t *client_audit_reconcile(const client_audit_log_t *log, const char *node,
                                                 const char *const *receipts, size_t n,
                                                 const tlog_verifier_t *key)
{
    client_audit_reconcile_t *r = hearth_calloc(1, sizeof *r);
    client_audit_findings_t *f = &r->findings;
    size_t nl = log->n_leaves, bad = 0;
    bool *ok = NULL;
    audit_event_t *ev = client_audit_events_decode(log->leaves, nl, &ok, &bad);
    if (bad)
        client_audit_findings_add(f, CLIENT_AUDIT_NOTE, CLIENT_AUDIT_NO_LEAF,
                                  "%zu leaves of the log do not decode and were skipped (run "
                                  "hearth audit verify)", bad);

    /* The log's receipts from this node (texts, sorted), and the queries
     * with an outcome (sorted ids), for lookups. */
    const char **logged = hearth_calloc(nl ? nl : 1, sizeof *logged);
    const char **done = hearth_calloc(nl ? nl : 1, sizeof *done);
    size_t n_logged = 0, n_done = 0;
    for (size_t i = 0; i < nl; i++) {
        if (!ok[i])
            continue;
        if (ev[i].type == AUDIT_RECEIPT && strcmp(ev[i].node, node) == 0)
            logged[n_logged++] = ev[i].text;
        if (ev[i].type == AUDIT_RELEASED || ev[i].type == AUDIT_REFUSED ||
            ev[i].type == AUDIT_ERROR)
            done[n_done++] = ev[i].query_id;
    }
    qsort(logged, n_logged, sizeof *logged, str_cmp);
    qsort(done, n_done, sizeof *done, str_cmp);

    /* Each receipt the node holds must verify and be in the log. */
    uint64_t *answered = hearth_calloc(n ? n : 1, sizeof *answered);
    size_t n_answered = 0;
    for (size_t i = 0; i < n; i++) {
        r->receipts++;
        char *text = NULL, *cause = NULL;
        audit_receipt_t rc;
        if (tlog_note_open(receipts[i], strlen(receipts[i]), key, &text, &cause) != HEARTH_OK) {
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                      "receipt %zu does not verify against node %s's key: %s",
                                      i + 1, node, cause ? cause : "invalid");
        } else if (audit_receipt_parse(text, &rc, &cause) != HEARTH_OK) {
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                      "receipt %zu is not a node receipt: %s", i + 1,
                                      cause ? cause : "malformed");
        } else if (strcmp(rc.node, node) != 0) {
            client_audit_findings_add(f, CLIENT_AUDIT_SEMANTICS, rc.leaf,
                                      "receipt %zu is node %s's, not %s's", i + 1, rc.node, node);
        } else {
            answered[n_answered++] = rc.leaf;
            const char *key_text = receipts[i];
            if (bsearch(&key_text, logged, n_logged, sizeof *logged, str_cmp)) {
                r->in_log++;
            } else {
                client_audit_findings_add(f, CLIENT_AUDIT_SEMANTICS, rc.leaf,
                                          "node %s holds a receipt (number %zu) for query %s "
                                          "part %u, dispatched at leaf %llu, that the gateway "
                                          "log lacks", node, i + 1, rc.query_id,
                                          (unsigned)rc.part, (ull)rc.leaf);
            }
        }
        free(text);
        free(cause);
    }
    qsort(answered, n_answered, sizeof *answered, u64_cmp);

    /* Each dispatch to the node must have the node's receipt. */
    for (size_t i = 0; i < nl; i++) {
        if (!ok[i] || ev[i].type != AUDIT_DISPATCHED || strcmp(ev[i].node, node) != 0)
            continue;
        r->dispatches++;
        uint64_t idx = log->leaves[i].index;
        if (bsearch(&idx, answered, n_answered, sizeof *answered, u64_cmp)) {
            r->answered++;
            continue;
        }
        const char *qid = ev[i].query_id;
        bool completed = bsearch(&qid, done, n_done, sizeof *done, str_cmp) != NULL;
        client_audit_findings_add(f, CLIENT_AUDIT_SEMANTICS, idx,
                                  "the dispatch at leaf %llu (query %s part %llu) has no receipt "
                                  "in node %s's file%s", (ull)idx, qid, (ull)ev[i].part, node,
                                  completed ? "" : " (the query was not completed)");
    }
    r->ok = f->n_errors == 0;
    free(answered);
    free(logged);
    free(done);
    client_audit_events_free(ev, nl);
    free(ok);
    return r;
}

void client_audit_reconcile_destroy(client_audit_reconcile_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_findings_clear(&(*self_p)->findings);
    free(*self_p);
    *self_p = NULL;
}
