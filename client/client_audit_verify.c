#include "client_audit_verify.h"
#include "audit_event.h"
#include "audit_receipt.h"
#include "client_audit_events.h"
#include "hearth_mem.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

/* ---- the verification context ---------------------------------------- */

typedef struct {
    const client_audit_verify_in_t *in;
    client_audit_verdict_t *v;
    tlog_memtree_t *tree;
    audit_event_t *ev;          /* n_leaves decoded events */
    bool *decoded;
    bool sorted;                /* leaf indexes strictly ascending */
    size_t *receipt_of;         /* per position: the receipt answering this dispatch */
    client_audit_findings_t per_leaf;     /* sorted by leaf at the end */
    client_audit_findings_t incomplete;
} vctx_t;

#define NO_POS SIZE_MAX

/* The root of the first size leaves fetched; false when there are fewer. */
static bool root_at(vctx_t *c, uint64_t size, uint8_t root[TLOG_HASH_LEN])
{
    if (size > tlog_memtree_size(c->tree))
        return false;
    char *cause = NULL;
    hearth_err_t rc = tlog_root(tlog_memtree_subtree, c->tree, size, root, &cause);
    free(cause);
    return rc == HEARTH_OK;
}

/* The position of the leaf with this index, or NO_POS. */
static size_t position_of(const vctx_t *c, uint64_t index)
{
    const client_audit_leaf_t *l = c->in->leaves;
    size_t n = c->in->n_leaves;
    if (index < n && l[index].index == index)
        return (size_t)index;
    if (c->sorted) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (l[mid].index < index)
                lo = mid + 1;
            else
                hi = mid;
        }
        return lo < n && l[lo].index == index ? lo : NO_POS;
    }
    for (size_t i = 0; i < n; i++)
        if (l[i].index == index)
            return i;
    return NO_POS;
}

static uint64_t index_of(const vctx_t *c, size_t pos)
{
    return c->in->leaves[pos].index;
}

/* ---- 1. the sequence of leaves, and the tree --------------------------- */

static void check_sequence(vctx_t *c)
{
    client_audit_findings_t *f = &c->v->findings;
    uint64_t expect = 0;
    c->sorted = true;
    for (size_t i = 0; i < c->in->n_leaves; i++) {
        const client_audit_leaf_t *l = &c->in->leaves[i];
        if (l->index > expect && l->index == expect + 1)
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, expect,
                                      "leaf %llu is missing (the next leaf has index %llu)",
                                      (ull)expect, (ull)l->index);
        else if (l->index > expect)
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, expect,
                                      "leaves %llu..%llu are missing (the next leaf has index "
                                      "%llu)", (ull)expect, (ull)(l->index - 1), (ull)l->index);
        else if (l->index < expect) {
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, l->index,
                                      "leaf %llu comes after leaf %llu: leaves are repeated or "
                                      "out of order", (ull)l->index, (ull)(expect - 1));
            c->sorted = false;
        }
        expect = l->index + 1;
        tlog_memtree_append(c->tree, l->data, l->len);
    }
    c->v->leaves = c->in->n_leaves;
}

/* ---- 2. checkpoints ----------------------------------------------------- */

typedef struct {
    size_t pos;
    tlog_checkpoint_t cp;
} opened_t;

static int opened_cmp(const void *a, const void *b)
{
    const opened_t *x = a, *y = b;
    if (x->cp.size != y->cp.size)
        return x->cp.size < y->cp.size ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Reports the run of consecutive mismatching checkpoints after the first. */
static void flush_run(client_audit_findings_t *f, uint64_t count, uint64_t lo, uint64_t hi)
{
    if (count == 1)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "the later checkpoint of size %llu does not match either",
                                  (ull)lo);
    else if (count > 1)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "%llu later checkpoints (sizes %llu..%llu) do not match either",
                                  (ull)count, (ull)lo, (ull)hi);
}

static opened_t *check_checkpoints(vctx_t *c, size_t *n_opened)
{
    const client_audit_verify_in_t *in = c->in;
    client_audit_findings_t *f = &c->v->findings;
    opened_t *ok = hearth_calloc(in->n_checkpoints ? in->n_checkpoints : 1, sizeof *ok);
    size_t n = 0;
    for (size_t k = 0; k < in->n_checkpoints; k++) {
        char *cause = NULL;
        const char *note = in->checkpoints[k];
        if (tlog_checkpoint_open(note, strlen(note), in->gateway, &ok[n].cp, &cause) !=
            HEARTH_OK)
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                      "checkpoint %zu of %zu does not verify against the "
                                      "gateway audit key %s: %s", k + 1, in->n_checkpoints,
                                      in->gateway->name, cause ? cause : "invalid");
        else
            ok[n++].pos = k;
        free(cause);
    }
    qsort(ok, n, sizeof *ok, opened_cmp);
    uint64_t leaves = in->n_leaves, good = 0, run = 0, run_lo = 0, run_hi = 0;
    bool bad_before = false;
    for (size_t i = 0; i < n; i++) {
        const tlog_checkpoint_t *cp = &ok[i].cp;
        uint8_t root[TLOG_HASH_LEN];
        if (cp->size > leaves) {
            flush_run(f, run, run_lo, run_hi);
            run = 0;
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                      "the checkpoint of size %llu covers more than the %llu "
                                      "leaves fetched: leaves are missing", (ull)cp->size,
                                      (ull)leaves);
            bad_before = true;
        } else if (!root_at(c, cp->size, root) || memcmp(root, cp->root, TLOG_HASH_LEN) != 0) {
            if (bad_before && run == 0) {
                run = 1;
                run_lo = run_hi = cp->size;
            } else if (bad_before) {
                run++;
                run_hi = cp->size;
            } else {
                client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                          "the checkpoint of size %llu does not match the "
                                          "leaves: a leaf in %llu..%llu was changed, removed or "
                                          "reordered after it was signed", (ull)cp->size,
                                          (ull)good, (ull)(cp->size - 1));
            }
            bad_before = true;
        } else {
            flush_run(f, run, run_lo, run_hi);
            run = 0;
            bad_before = false;
            good = cp->size;
        }
    }
    flush_run(f, run, run_lo, run_hi);
    c->v->checkpoints = n;
    if (n > 0) {
        c->v->has_newest = true;
        c->v->newest = ok[n - 1].cp;
        c->v->newest_note = ok[n - 1].pos;
    }
    if (n == 0 && in->n_leaves > 0)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "no checkpoint verifies against the gateway audit key %s: "
                                  "nothing in the log is proven", in->gateway->name);
    if (n > 0 && c->v->newest.size + 1 == leaves)
        client_audit_findings_add(f, CLIENT_AUDIT_NOTE, c->v->newest.size,
                                  "leaf %llu was appended after the newest checkpoint (size "
                                  "%llu) and is not yet covered by a signature",
                                  (ull)c->v->newest.size, (ull)c->v->newest.size);
    else if (n > 0 && c->v->newest.size < leaves)
        client_audit_findings_add(f, CLIENT_AUDIT_NOTE, c->v->newest.size,
                                  "leaves %llu..%llu were appended after the newest checkpoint "
                                  "(size %llu) and are not yet covered by a signature",
                                  (ull)c->v->newest.size, (ull)(leaves - 1),
                                  (ull)c->v->newest.size);
    *n_opened = n;
    return ok;
}

/* ---- 3. the checkpoint accepted before ---------------------------------- */

static void check_previous(vctx_t *c, const opened_t *ok, size_t n_ok)
{
    const client_audit_verify_in_t *in = c->in;
    client_audit_findings_t *f = &c->v->findings;
    if (!in->has_previous)
        return;
    uint64_t p = in->previous.size;
    if (c->v->has_newest && p > c->v->newest.size)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "the newest checkpoint (size %llu) is smaller than the one "
                                  "accepted before (size %llu): the log was truncated",
                                  (ull)c->v->newest.size, (ull)p);
    uint8_t root[TLOG_HASH_LEN];
    if (p > in->n_leaves)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "the checkpoint accepted before (size %llu) covers more than "
                                  "the %zu leaves fetched: leaves were removed", (ull)p,
                                  in->n_leaves);
    else if (!root_at(c, p, root) || memcmp(root, in->previous.root, TLOG_HASH_LEN) != 0)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "the leaves do not reproduce the checkpoint accepted before "
                                  "(size %llu): the log before leaf %llu was rewritten", (ull)p,
                                  (ull)p);
    if (!in->has_proof || p > in->proof_size)
        return;
    const tlog_checkpoint_t *to = NULL;
    for (size_t i = 0; i < n_ok; i++)
        if (ok[i].cp.size == in->proof_size)
            to = &ok[i].cp;
    if (to == NULL)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "no verified checkpoint of size %llu to check the consistency "
                                  "proof against", (ull)in->proof_size);
    else if (!tlog_verify_consistency(p, to->size, in->previous.root, to->root, in->proof,
                                      in->n_proof))
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, CLIENT_AUDIT_NO_LEAF,
                                  "the consistency proof from the checkpoint accepted before "
                                  "(size %llu) to the checkpoint of size %llu does not verify: "
                                  "the log was rewritten", (ull)p, (ull)to->size);
}

/* ---- 4. decoding -------------------------------------------------------- */

static void decode_all(vctx_t *c)
{
    for (size_t i = 0; i < c->in->n_leaves; i++) {
        const client_audit_leaf_t *l = &c->in->leaves[i];
        char *cause = NULL;
        if (audit_event_decode(l->data, l->len, &c->ev[i], &cause) == HEARTH_OK) {
            c->decoded[i] = true;
            if (c->ev[i].type == AUDIT_GOVERNANCE)
                c->v->governance++;
        } else {
            client_audit_findings_add(&c->per_leaf, CLIENT_AUDIT_INTEGRITY, l->index,
                                      "the leaf does not decode: %s",
                                      cause ? cause : "malformed");
        }
        free(cause);
    }
}

/* ---- 5. semantics, one query at a time ------------------------------------ */

/* True when list (comma-separated, spaces around items allowed) holds item. */
static bool list_has(const char *list, const char *item)
{
    size_t n = strlen(item);
    const char *p = list;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        size_t trimmed = len;
        while (trimmed > 0 && p[trimmed - 1] == ' ')
            trimmed--;
        if (trimmed == n && memcmp(p, item, n) == 0)
            return true;
        if (end == NULL)
            break;
        p = end + 1;
    }
    return false;
}

static const tlog_verifier_t *node_key(const vctx_t *c, const char *node)
{
    for (size_t i = 0; i < c->in->n_node_keys; i++)
        if (c->in->node_keys[i].node && strcmp(c->in->node_keys[i].node, node) == 0)
            return &c->in->node_keys[i].key;
    return NULL;
}

/* The checks of a receipt's signed text against its leaf, its dispatch and
 * the log (integrity: what the node signed must be what the log says). */
static void check_receipt_note(vctx_t *c, size_t pos, size_t dpos)
{
    const audit_event_t *e = &c->ev[pos], *d = &c->ev[dpos];
    uint64_t idx = index_of(c, pos), didx = index_of(c, dpos);
    client_audit_findings_t *f = &c->per_leaf;
    char *body = NULL, *cause = NULL;
    const tlog_verifier_t *key = node_key(c, e->node);
    if (key) {
        if (tlog_note_open(e->text, strlen(e->text), key, &body, &cause) != HEARTH_OK) {
            client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, idx,
                                      "node %s's signature on the receipt does not verify: %s",
                                      e->node, cause ? cause : "invalid");
            goto done;
        }
        c->v->receipts_signed++;
    } else if ((body = client_audit_verify_note_text(e->text, strlen(e->text))) == NULL) {
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, idx,
                                  "the receipt is not a signed note");
        goto done;
    }
    audit_receipt_t r;
    if (audit_receipt_parse(body, &r, &cause) != HEARTH_OK) {
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, idx,
                                  "the receipt's text is not a node receipt: %s",
                                  cause ? cause : "malformed");
        goto done;
    }
    bool answered = strcmp(e->outcome, "answered") == 0;
    if (strcmp(r.node, e->node) != 0 || strcmp(r.query_id, e->query_id) != 0 ||
        r.part != e->part || r.nparts != d->nparts || r.leaf != e->leaf ||
        r.answered != answered) {
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, idx,
                                  "the receipt node %s signed does not match its leaf (node, "
                                  "query, part, dispatch leaf or outcome differ)", e->node);
        goto done;
    }
    uint8_t root[TLOG_HASH_LEN];
    if (r.size <= didx || r.size > idx)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, idx,
                                  "the receipt's checkpoint (size %llu) does not cover its "
                                  "dispatch at leaf %llu or is newer than the receipt",
                                  (ull)r.size, (ull)didx);
    else if (!root_at(c, r.size, root) || memcmp(root, r.root, TLOG_HASH_LEN) != 0)
        client_audit_findings_add(f, CLIENT_AUDIT_INTEGRITY, idx,
                                  "node %s verified a checkpoint of size %llu whose root is not "
                                  "the log's root at that size", e->node, (ull)r.size);
done:
    free(body);
    free(cause);
}

typedef struct {
    size_t received, accepted, outcome;   /* positions, or NO_POS */
    size_t *dispatches;
    size_t n_dispatches, cap;
} qstate_t;

static void sem(vctx_t *c, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void sem(vctx_t *c, size_t pos, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    client_audit_findings_vadd(&c->per_leaf, CLIENT_AUDIT_SEMANTICS, index_of(c, pos), fmt, ap);
    va_end(ap);
}

static void on_receipt(vctx_t *c, size_t pos)
{
    const audit_event_t *e = &c->ev[pos];
    c->v->receipts++;
    size_t dpos = position_of(c, e->leaf);
    const audit_event_t *d = dpos != NO_POS && c->decoded[dpos] ? &c->ev[dpos] : NULL;
    if (d == NULL || dpos >= pos || d->type != AUDIT_DISPATCHED ||
        strcmp(d->query_id, e->query_id) != 0 || strcmp(d->node, e->node) != 0 ||
        d->part != e->part) {
        sem(c, pos, "receipt for an unknown dispatch: leaf %llu is not an earlier dispatch of "
            "query %s part %llu to node %s", (ull)e->leaf, e->query_id, (ull)e->part, e->node);
        return;
    }
    if (c->receipt_of[dpos] != NO_POS) {
        sem(c, pos, "a second receipt for the dispatch at leaf %llu (the first is at leaf %llu)",
            (ull)index_of(c, dpos), (ull)index_of(c, c->receipt_of[dpos]));
        return;
    }
    if (strcmp(e->outcome, "answered") != 0 && strcmp(e->outcome, "refused") != 0) {
        sem(c, pos, "the receipt's outcome is neither answered nor refused");
        return;
    }
    c->receipt_of[dpos] = pos;
    check_receipt_note(c, pos, dpos);
}

static void on_dispatched(vctx_t *c, qstate_t *q, size_t pos)
{
    const audit_event_t *e = &c->ev[pos];
    c->v->dispatched++;
    if (q->outcome != NO_POS && q->outcome < pos)
        sem(c, pos, "query %s dispatched after its outcome (leaf %llu)", e->query_id,
            (ull)index_of(c, q->outcome));
    if (q->accepted == NO_POS) {
        sem(c, pos, "query %s dispatched to node %s without being accepted", e->query_id,
            e->node);
    } else {
        const audit_event_t *a = &c->ev[q->accepted];
        if (strcmp(a->project, e->project) != 0)
            sem(c, pos, "query %s dispatched under project %s but accepted under project %s",
                e->query_id, e->project, a->project);
        if (!list_has(a->dataset, e->dataset))
            sem(c, pos, "query %s dispatched for dataset %s, which its acceptance does not "
                "list", e->query_id, e->dataset);
    }
    size_t n = strlen(e->node);
    if (strncmp(e->dataset, e->node, n) != 0 || e->dataset[n] != '.')
        sem(c, pos, "dataset %s is not node %s's", e->dataset, e->node);
    if (e->part >= e->nparts)
        sem(c, pos, "part %llu of %llu does not exist", (ull)e->part, (ull)e->nparts);
    if (q->n_dispatches == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 4;
        q->dispatches = hearth_reallocarray(q->dispatches, q->cap, sizeof *q->dispatches);
    }
    q->dispatches[q->n_dispatches++] = pos;
}

static void on_released(vctx_t *c, qstate_t *q, size_t pos)
{
    const audit_event_t *e = &c->ev[pos];
    if (q->accepted == NO_POS)
        sem(c, pos, "query %s released without being accepted", e->query_id);
    if (q->n_dispatches == 0)
        sem(c, pos, "query %s released without any dispatch", e->query_id);
    for (size_t i = 0; i < q->n_dispatches; i++) {
        size_t d = q->dispatches[i], r = c->receipt_of[d];
        const audit_event_t *de = &c->ev[d];
        if (r == NO_POS || r > pos)
            sem(c, pos, "query %s released without node %s's receipt for part %llu (dispatched "
                "at leaf %llu)", e->query_id, de->node, (ull)de->part, (ull)index_of(c, d));
        else if (strcmp(c->ev[r].outcome, "answered") != 0)
            sem(c, pos, "query %s released although node %s refused part %llu (dispatched at "
                "leaf %llu)", e->query_id, de->node, (ull)de->part, (ull)index_of(c, d));
    }
}

/* Checks one query's events (positions g[0..n), ascending); ctx is the
 * verification context (a client_audit_events_query_fn). */
static void check_query(void *ctx, const client_audit_events_pos_t *g, size_t n)
{
    vctx_t *c = ctx;
    qstate_t q = {NO_POS, NO_POS, NO_POS, NULL, 0, 0};
    size_t first_received = NO_POS;
    for (size_t i = 0; i < n && first_received == NO_POS; i++)
        if (c->ev[g[i].pos].type == AUDIT_RECEIVED)
            first_received = g[i].pos;
    const char *id = g[0].query_id;
    for (size_t i = 0; i < n; i++) {
        size_t pos = g[i].pos;
        const audit_event_t *e = &c->ev[pos];
        const char *type = audit_type_name(e->type);
        if (e->type == AUDIT_RECEIVED) {
            if (q.received != NO_POS)
                sem(c, pos, "query %s received a second time (first at leaf %llu)", id,
                    (ull)index_of(c, q.received));
            else
                q.received = pos;
            continue;
        }
        if (q.received == NO_POS) {
            if (first_received == NO_POS)
                sem(c, pos, "%s event of query %s, which was never received", type, id);
            else
                sem(c, pos, "%s event of query %s before it was received (at leaf %llu)", type,
                    id, (ull)index_of(c, first_received));
        }
        switch (e->type) {
        case AUDIT_ACCEPTED:
            if (q.outcome != NO_POS)
                sem(c, pos, "query %s accepted after its outcome (leaf %llu)", id,
                    (ull)index_of(c, q.outcome));
            else if (q.accepted != NO_POS)
                sem(c, pos, "query %s accepted a second time (first at leaf %llu)", id,
                    (ull)index_of(c, q.accepted));
            else
                q.accepted = pos;
            break;
        case AUDIT_DISPATCHED:
            on_dispatched(c, &q, pos);
            break;
        case AUDIT_RECEIPT:
            on_receipt(c, pos);
            break;
        case AUDIT_RELEASED:
        case AUDIT_REFUSED:
        case AUDIT_ERROR:
            if (q.outcome != NO_POS) {
                sem(c, pos, "a second outcome (%s) for query %s, already %s at leaf %llu", type,
                    id, audit_type_name(c->ev[q.outcome].type), (ull)index_of(c, q.outcome));
                break;
            }
            q.outcome = pos;
            if (e->type == AUDIT_RELEASED) {
                c->v->released++;
                on_released(c, &q, pos);
            } else if (e->type == AUDIT_REFUSED) {
                c->v->refused++;
            } else {
                c->v->errors++;
            }
            break;
        case AUDIT_RECEIVED:
        case AUDIT_GOVERNANCE:
            break;
        }
    }
    if (q.received != NO_POS) {
        c->v->queries++;
        if (q.outcome == NO_POS) {
            c->v->incomplete++;
            client_audit_findings_add(&c->incomplete, CLIENT_AUDIT_NOTE,
                                      index_of(c, q.received),
                                      "query %s received, not completed (no released, refused "
                                      "or error outcome)", id);
        }
    }
    free(q.dispatches);
}

static void check_semantics(vctx_t *c)
{
    client_audit_events_by_query(c->ev, c->decoded, c->in->n_leaves, check_query, c);
}

/* ---- the whole verification ---------------------------------------------- */

client_audit_verdict_t *client_audit_verify(const client_audit_verify_in_t *in)
{
    client_audit_verdict_t *v = hearth_calloc(1, sizeof *v);
    size_t n = in->n_leaves;
    vctx_t c = {.in = in, .v = v, .tree = tlog_memtree_new()};
    c.ev = hearth_calloc(n ? n : 1, sizeof *c.ev);
    c.decoded = hearth_calloc(n ? n : 1, sizeof *c.decoded);
    c.receipt_of = hearth_calloc(n ? n : 1, sizeof *c.receipt_of);
    for (size_t i = 0; i < n; i++)
        c.receipt_of[i] = NO_POS;

    check_sequence(&c);
    size_t n_ok = 0;
    opened_t *ok = check_checkpoints(&c, &n_ok);
    check_previous(&c, ok, n_ok);
    free(ok);
    decode_all(&c);
    check_semantics(&c);
    client_audit_findings_sort_by_leaf(&c.per_leaf);
    client_audit_findings_sort_by_leaf(&c.incomplete);
    client_audit_findings_move(&v->findings, &c.per_leaf);
    client_audit_findings_move(&v->findings, &c.incomplete);
    v->ok = v->findings.n_errors == 0;

    client_audit_events_free(c.ev, n);
    free(c.decoded);
    free(c.receipt_of);
    tlog_memtree_destroy(&c.tree);
    return v;
}

void client_audit_verify_destroy(client_audit_verdict_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_findings_clear(&(*self_p)->findings);
    free(*self_p);
    *self_p = NULL;
}

char *client_audit_verify_note_text(const char *note, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++)
        if (note[i] == '\n' && note[i + 1] == '\n')
            return hearth_strndup(note, i + 1);
    return NULL;
}
