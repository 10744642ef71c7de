#include "node_serve.h"
#include "proto_codec.h"
#include "hearth_log.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"
#include "keys_token.h"
#include "keys_sign.h"
#include "node_answer.h"
#include "node_audit.h"
#include "node_cohort.h"
#include "node_engine.h"
#include "node_ledger.h"
#include "node_store.h"
#include "proto_value.h"
#include "proto_wire.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

typedef struct {
    const node_config_t *cfg;
    node_store_t *store;
    node_engine_t *engine;   /* what queries are answered from, and announced */
    bool reload;             /* the last load failed on the database: try again */
    node_ledger_t *ledger;   /* every sub-query is admitted here before it is answered */
    node_audit_t *audit;     /* checks each dispatch's audit proof first */
    keys_signer_t *signer;   /* signs this node's receipts ([node] signing_key) */
    keys_token_t *linkage;   /* keyed with the linkage key K, to derive each K_q */
    void *ctx;
    void *dealer;
    void *monitor;
} node_serve_t;

/* Announces what the engine holds: datasets, columns, types, and for
 * categorical columns the values enough persons hold; the node's own
 * disclosure floor ([node] min_cell); and the size of the last audit
 * checkpoint it verified, from which the gateway must prove its log
 * consistent. Everything is borrowed from the engine for the time of the
 * send. */
static hearth_err_t send_hello(node_serve_t *self, char **cause)
{
    Hearth__Hello hello = HEARTH__HELLO__INIT;
    hello.node = (char *)self->cfg->name;
    hello.min_cell = self->cfg->min_cell;
    hello.audit_size = node_audit_size(self->audit);
    size_t nds = node_engine_ndatasets(self->engine);
    Hearth__Dataset *ds = hearth_calloc(nds, sizeof *ds);
    Hearth__Dataset **dsp = hearth_calloc(nds, sizeof *dsp);
    size_t ncols = 0;
    for (size_t i = 0; i < nds; i++)
        ncols += node_engine_dataset(self->engine, i)->ncolumns;
    Hearth__Column *cols = hearth_calloc(ncols, sizeof *cols);
    Hearth__Column **colp = hearth_calloc(ncols, sizeof *colp);
    size_t c = 0;
    for (size_t i = 0; i < nds; i++) {
        const node_store_dataset_t *d = node_engine_dataset(self->engine, i);
        hearth__dataset__init(&ds[i]);
        ds[i].name = d->name;
        ds[i].columns = &colp[c];
        ds[i].n_columns = d->ncolumns;
        for (size_t k = 0; k < d->ncolumns; k++, c++) {
            hearth__column__init(&cols[c]);
            cols[c].name = d->columns[k].name;
            cols[c].type = (Hearth__ColumnType)d->columns[k].type;
            bool truncated = false;
            /* protobuf-c takes char **; the engine's strings are only read. */
            cols[c].values = (char **)node_engine_catalogue(self->engine, i, k,
                                                            &cols[c].n_values, &truncated);
            cols[c].values_truncated = truncated;
            colp[c] = &cols[c];
        }
        dsp[i] = &ds[i];
    }
    hello.datasets = dsp;
    hello.n_datasets = nds;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_HELLO;
    env.hello = &hello;
    hearth_err_t rc = proto_send(self->dealer, NULL, &env, 1, cause);
    free(ds);
    free(dsp);
    free(cols);
    free(colp);
    return rc;
}

static const char *str(const char *s)
{
    return s ? s : "";
}

/* q's id as a log line may show it: ids the ledger refuses may hold
 * anything, a line break included. */
/* q's kind for a log line. */
static const char *kind_text(const Hearth__SubQuery *q)
{
    const char *name = proto_kind_name(q->kind);
    return name ? name : "unknown";
}

static const char *log_id(const Hearth__SubQuery *q)
{
    return node_ledger_query_id_valid(q->query_id) ? q->query_id : "(malformed id)";
}

/* Sends r; a failure is logged, never retried (the gateway times out). */
static bool send_result(node_serve_t *self, Hearth__SubResult *r)
{
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_RESULT;
    env.sub_result = r;
    char *cause = NULL;
    hearth_err_t rc = proto_send(self->dealer, NULL, &env, 0, &cause);
    if (rc != HEARTH_OK)
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "could not send an answer to query %s: "
                   "%s", node_ledger_query_id_valid(r->query_id) ? r->query_id
                   : "(malformed id)", cause);
    free(cause);
    return rc == HEARTH_OK;
}

/* Signs the receipt for q's part, verified as v, and stores it in the
 * ledger: the signed note (caller frees), or NULL (logged) when it could
 * not be signed or stored, in which case it must not be sent either. */
static char *issue_receipt(node_serve_t *self, const Hearth__SubQuery *q,
                           const node_audit_verified_t *v, bool answered)
{
    char *cause = NULL;
    char *note = NULL;
    hearth_err_t rc = node_audit_receipt(self->signer, self->cfg->name, q->query_id, q->part,
                                         q->nparts, v, answered, &note, &cause);
    if (rc == HEARTH_OK) {
        node_ledger_receipt_t rec = {.query_id = q->query_id, .part = q->part, .leaf = v->leaf,
                                     .size = v->size, .answered = answered, .note = note,
                                     .at_ms = hearth_wall_ms()};
        rc = node_ledger_add_receipt(self->ledger, &rec, &cause);
    }
    if (rc != HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "could not issue a receipt for query %s "
                   "(part %u of %u): %s", log_id(q), q->part + 1, q->nparts, cause);
        free(note);
        note = NULL;
    }
    free(cause);
    return note;
}

/* Tells the gateway why part q->part of q gets no (more) answer: the
 * cause, never a token or a value. chunk is the chunk the stream ends at.
 * A dispatch whose audit proof was verified (v not NULL) gets a receipt
 * with outcome refused; one that was not gets none, and is logged as a
 * warning. */
static void send_refusal(node_serve_t *self, const Hearth__SubQuery *q,
                         const node_audit_verified_t *v, uint32_t chunk, hearth_err_t rc,
                         const char *cause)
{
    Hearth__SubResult r = HEARTH__SUB_RESULT__INIT;
    r.query_id = (char *)str(q->query_id);
    r.ok = 0;
    r.part = q->part;
    r.chunk = chunk;
    r.error = (char *)(cause ? cause : hearth_strerror(rc));
    r.refused = rc == HEARTH_ERR_REFUSED;
    r.audit_size = node_audit_size(self->audit);
    char *receipt = v ? issue_receipt(self, q, v, false) : NULL;
    if (receipt)
        r.receipt = receipt;
    (void)send_result(self, &r);
    free(receipt);
    hearth_log(v ? HEARTH_LOG_INFO : HEARTH_LOG_WARN, self->cfg->name, "refused query %s "
               "(part %u of %u, %s): %s", log_id(q), q->part + 1, q->nparts,
               kind_text(q), cause ? cause : hearth_strerror(rc));
}

/* Why an answer goes without its receipt (issue_receipt logged the
 * ledger's or signer's own words). */
static const char NO_RECEIPT[] = "this node could not record its receipt in its ledger";

static void answer_aggregate(node_serve_t *self, const Hearth__SubQuery *q,
                             const node_audit_verified_t *v, uint64_t t0)
{
    char *cause = NULL;
    Hearth__SubResult *r = NULL;
    hearth_err_t rc = node_answer_run(self->engine, q, &r, &cause);
    /* The node's own floor: it does not answer about 1..min_cell of its
     * people at all, whatever the gateway would then suppress (the gateway
     * also raises its threshold to min_cell for tables using this node). */
    if (rc == HEARTH_OK && self->cfg->min_cell > 0 && r->total != NULL &&
        r->total->persons >= 1 && r->total->persons <= self->cfg->min_cell) {
        hearth_cause_set(&cause, "this node does not answer questions about 1 to %u of its "
                         "people", (unsigned)self->cfg->min_cell);
        rc = HEARTH_ERR_REFUSED;
    }
    char *receipt = NULL;
    if (rc == HEARTH_OK && (receipt = issue_receipt(self, q, v, true)) == NULL) {
        send_refusal(self, q, NULL, 0, HEARTH_ERR_DB, NO_RECEIPT);
    } else if (rc != HEARTH_OK) {
        send_refusal(self, q, v, 0, rc, cause);
    } else {
        /* The receipt is stored before the answer leaves. */
        char *empty = r->receipt;
        r->receipt = receipt;
        if (send_result(self, r))
            hearth_log(HEARTH_LOG_INFO, self->cfg->name, "answered query %s on %s (%zu groups, "
                       "%llu ms)", log_id(q), str(q->dataset), r->n_groups,
                       (unsigned long long)(hearth_now_ms() - t0));
        r->receipt = empty;
    }
    free(receipt);
    free(cause);
    node_answer_free(&r);
}

/* What each person carries per set bit of a cell's mask. */
static proto_cohort_payload_t payload_of(const Hearth__SubQuery *q)
{
    if (q->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET)
        return PROTO_COHORT_PERSONS_ONLY;
    switch (q->measure) {
    case HEARTH__MEASURE__MEASURE_COUNT_RECORDS: return PROTO_COHORT_RECORDS;
    case HEARTH__MEASURE__MEASURE_SUM:
    case HEARTH__MEASURE__MEASURE_MEAN: return PROTO_COHORT_SUMS;
    default: return PROTO_COHORT_PERSONS_ONLY;
    }
}

/* The cells a cohort's persons refer to, as chunk 0 lists them: group
 * values only, counts zero. Free with free_cells. */
static Hearth__GroupCount **cells(const node_serve_t *self, const node_cohort_t *co,
                                  const node_engine_query_t *eq, size_t *n)
{
    *n = node_cohort_ncells(co);
    if (*n == 0)
        return NULL;
    Hearth__GroupCount **g = hearth_calloc(*n, sizeof *g);
    for (size_t i = 0; i < *n; i++) {
        const uint32_t *codes = node_cohort_cell_codes(co, i);
        g[i] = hearth_malloc(sizeof *g[i]);
        hearth__group_count__init(g[i]);
        g[i]->n_group = eq->ngroup;
        g[i]->group = eq->ngroup ? hearth_calloc(eq->ngroup, sizeof *g[i]->group) : NULL;
        for (size_t k = 0; k < eq->ngroup; k++) {
            const char *text = node_engine_text(self->engine, eq->dataset, eq->group[k],
                                                codes[k], NULL);
            g[i]->group[k] = text ? proto_value_text(text) : proto_value_null();
        }
    }
    return g;
}

static void free_cells(Hearth__GroupCount **g, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < g[i]->n_group; k++)
            proto_value_free(g[i]->group[k]);
        free(g[i]->group);
        free(g[i]);
    }
    free(g);
}

/* Answers a cohort or target part with its persons as per-query tokens,
 * in chunks, the last carrying the receipt. K_q lives only for this part's
 * answer. */
static void answer_linked(node_serve_t *self, const Hearth__SubQuery *q,
                          const node_audit_verified_t *v, uint64_t t0)
{
    bool cohort = q->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    char *cause = NULL;
    node_answer_query_t aq;
    keys_token_t *kq = NULL;
    node_cohort_t *co = NULL;
    Hearth__GroupCount **groups = NULL;
    size_t ngroups = 0;
    hearth_buf_t chunk;
    /* A chunk closes once it passes PROTO_COHORT_CHUNK_BYTES, so it needs
     * room for one more person on top; half the largest frame leaves the
     * envelope room too. A person too big even for that (millions of cells)
     * ends the stream with an error rather than an oversized frame. */
    hearth_buf_init(&chunk, PROTO_MAX_NODE_MSG / 2);
    uint32_t i = 0;
    bool more = true;
    bool unrecorded = false;   /* the receipt could not be issued: end with an error */
    char *receipt = NULL;
    hearth_err_t rc = node_answer_query_init(self->engine, q, &aq, &cause);
    if (rc == HEARTH_OK) {
        kq = keys_token_for_query(self->linkage, str(q->query_id));
        rc = node_cohort_new(self->engine, &aq.q, cohort, payload_of(q), kq,
                             self->cfg->min_cohort, &co, &cause);
    }
    if (rc == HEARTH_OK && cohort)
        groups = cells(self, co, &aq.q, &ngroups);
    for (; rc == HEARTH_OK && more; i++) {
        if ((rc = node_cohort_next_chunk(co, &chunk, &more, &cause)) != HEARTH_OK)
            break;
        Hearth__SubResult r = HEARTH__SUB_RESULT__INIT;
        r.query_id = (char *)str(q->query_id);
        r.ok = 1;
        r.part = q->part;
        r.chunk = i;
        r.more = more;
        r.persons.data = (uint8_t *)chunk.data;
        r.persons.len = chunk.len;
        if (i == 0) {
            r.groups = groups;
            r.n_groups = ngroups;
        }
        if (!more && (receipt = issue_receipt(self, q, v, true)) == NULL) {
            unrecorded = true;
            break;
        }
        if (receipt)
            r.receipt = receipt;
        if (!send_result(self, &r))
            break;
        if (!more)
            hearth_log(HEARTH_LOG_INFO, self->cfg->name, "answered linked part %u of %u (%s) "
                       "of query %s on dataset %s in %llu ms", q->part + 1, q->nparts,
                       kind_text(q), log_id(q), str(q->dataset),
                       (unsigned long long)(hearth_now_ms() - t0));
    }
    if (unrecorded)
        send_refusal(self, q, NULL, i, HEARTH_ERR_DB, NO_RECEIPT);
    else if (rc != HEARTH_OK)
        send_refusal(self, q, v, i, rc, cause);
    free(receipt);
    /* The tokens were re-keyed for this query only, but wipe the last
     * copy with the key all the same (copies a growing buffer left behind
     * were freed by realloc unwiped: they are no more than what was sent). */
    if (chunk.data)
        OPENSSL_cleanse(chunk.data, chunk.cap);
    hearth_buf_free(&chunk);
    free_cells(groups, ngroups);
    node_cohort_destroy(&co);
    keys_token_destroy(&kq);
    node_answer_query_free(&aq);
    free(cause);
}

/* Verifies q's audit proof before anything else (an unverified dispatch
 * gets a refusal and nothing more: no receipt, no answer); then checks
 * this node's own approval of the project and dataset; then admits q in
 * the ledger, committed before anything is computed, so that no part of a
 * query id is ever answered twice; then answers it. Once verified, the
 * part's last message carries a signed receipt. */
static void answer(node_serve_t *self, const Hearth__SubQuery *q)
{
    uint64_t t0 = hearth_now_ms();
    char *cause = NULL;
    node_audit_verified_t v;
    hearth_err_t rc = node_audit_check(self->audit, q, &v, &cause);
    if (rc != HEARTH_OK) {
        if (rc == HEARTH_ERR_DB) {
            hearth_log(HEARTH_LOG_WARN, self->cfg->name, "%s", cause);
            hearth_cause_set(&cause, "this node could not record the audit checkpoint in its "
                             "ledger");
        }
        send_refusal(self, q, NULL, 0, rc, cause);
        goto done;
    }
    if (!node_config_approves(self->cfg, q->project, q->dataset, &cause)) {
        send_refusal(self, q, &v, 0, HEARTH_ERR_REFUSED, cause);
        goto done;
    }
    rc = node_ledger_admit(self->ledger, q->query_id, q->part, q->nparts, q->dataset, q->kind,
                           hearth_wall_ms(), &cause);
    if (rc != HEARTH_OK) {
        /* A ledger that cannot be written is the node's problem, not the
         * query's: say so without the database's own words. */
        if (rc == HEARTH_ERR_DB) {
            hearth_log(HEARTH_LOG_WARN, self->cfg->name, "%s", cause);
            hearth_cause_set(&cause, "this node could not record the query in its ledger");
        }
        send_refusal(self, q, &v, 0, rc, cause);
    } else if (q->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE) {
        answer_aggregate(self, q, &v, t0);
    } else {
        answer_linked(self, q, &v, t0);
    }
done:
    free(cause);
}

static void on_gateway_message(node_serve_t *self)
{
    char *cause = NULL;
    Hearth__Envelope *env = NULL;
    if (proto_recv(self->dealer, NULL, PROTO_MAX_NODE_MSG, NULL, 0, &env, &cause) != HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "dropped a message from the gateway: %s",
                   cause);
        free(cause);
        return;
    }
    switch (env->body_case) {
    case HEARTH__ENVELOPE__BODY_WELCOME:
        hearth_log(HEARTH_LOG_INFO, self->cfg->name, "gateway accepted this node; ready");
        break;
    case HEARTH__ENVELOPE__BODY_SUB_QUERY:
        answer(self, env->sub_query);
        break;
    case HEARTH__ENVELOPE__BODY_ERROR:
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "gateway says: %s",
                   env->error->message ? env->error->message : "");
        break;
    default:
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "ignored an unexpected message from "
                   "the gateway");
        break;
    }
    proto_free(&env);
}

static void on_monitor_event(node_serve_t *self)
{
    uint16_t event = proto_monitor_event(self->monitor, 0);
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        /* Every new session (first connect or after the gateway restarted)
         * starts with an announcement of what this node holds. */
        char *cause = NULL;
        if (send_hello(self, &cause) != HEARTH_OK)
            hearth_log(HEARTH_LOG_WARN, self->cfg->name, "could not announce datasets: %s",
                       cause);
        else
            hearth_log(HEARTH_LOG_INFO, self->cfg->name, "connected to the gateway; "
                       "announced %zu dataset(s)", node_engine_ndatasets(self->engine));
        free(cause);
    } else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH ||
               event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) {
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "the gateway refused this node's key, "
                   "or is not the gateway whose public key is pinned");
    } else if (event == ZMQ_EVENT_DISCONNECTED) {
        hearth_log(HEARTH_LOG_WARN, self->cfg->name, "disconnected from the gateway; "
                   "reconnecting");
    }
}

/* Loads every dataset into the engine and logs how long it took. */
static hearth_err_t load(node_serve_t *self, char **cause)
{
    uint64_t t0 = hearth_now_ms();
    hearth_err_t rc = node_engine_load(self->engine, self->store, cause);
    if (rc == HEARTH_OK) {
        size_t rows = 0;
        for (size_t i = 0; i < node_engine_ndatasets(self->engine); i++)
            rows += node_engine_nrows(self->engine, i);
        hearth_log(HEARTH_LOG_INFO, self->cfg->name, "loaded %zu dataset(s), %zu rows, "
                   "into memory in %llu ms", node_engine_ndatasets(self->engine), rows,
                   (unsigned long long)(hearth_now_ms() - t0));
    }
    return rc;
}

/* An ingest in another process changes what this node holds: load it
 * again and announce it, so the gateway plans against it. Any commit
 * triggers a full load, not only a new dataset: an ingest also re-links
 * persons in the other datasets' tables. If loading fails, the node keeps
 * answering from what it loaded before, and tries again at the next check
 * when the database itself failed (busy, say) rather than the data. */
static void check_for_ingest(node_serve_t *self)
{
    char *cause = NULL;
    bool changed = false;
    if (node_store_changed(self->store, &changed, &cause) == HEARTH_OK &&
        (changed || self->reload)) {
        hearth_err_t rc = load(self, &cause);
        self->reload = rc == HEARTH_ERR_DB;
        if (rc != HEARTH_OK)
            hearth_log(HEARTH_LOG_WARN, self->cfg->name, "could not load new data (still "
                       "answering from the data loaded before): %s", cause);
        else if (send_hello(self, &cause) != HEARTH_OK)
            hearth_log(HEARTH_LOG_WARN, self->cfg->name, "could not announce new data: %s",
                       cause);
        else
            hearth_log(HEARTH_LOG_INFO, self->cfg->name, "data changed; announced %zu "
                       "dataset(s)", node_engine_ndatasets(self->engine));
    }
    free(cause);
}

static hearth_err_t setup(node_serve_t *self, char **cause)
{
    char pub[41], sec[41], gw[41];
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    hearth_err_t rc;
    if ((rc = keys_curve_load_secret(self->cfg->curve_key, pub, sec, cause)) != HEARTH_OK ||
        (rc = keys_curve_load_public(self->cfg->gateway_public, gw, cause)) != HEARTH_OK)
        goto done;
    if ((rc = keys_linkage_load(self->cfg->linkage_key, key, cause)) != HEARTH_OK)
        goto done;
    self->linkage = keys_token_new(key);
    if ((rc = keys_signer_load(self->cfg->signing_key, &self->signer, cause)) != HEARTH_OK ||
        (rc = node_ledger_open(self->cfg->ledger, &self->ledger, cause)) != HEARTH_OK ||
        (rc = node_audit_new(&self->cfg->audit, self->cfg->name, self->ledger, &self->audit,
                             cause)) != HEARTH_OK ||
        (rc = node_store_open(self->cfg->database, &self->store, cause)) != HEARTH_OK)
        goto done;
    self->engine = node_engine_new();
    if ((rc = load(self, cause)) != HEARTH_OK)
        goto done;
    self->ctx = zmq_ctx_new();
    self->dealer = zmq_socket(self->ctx, ZMQ_DEALER);
    int64_t maxmsg = PROTO_MAX_NODE_MSG;
    int hb_ivl = 2000, hb_timeout = 6000, reconnect = 500, reconnect_max = 5000, zero = 0;
    /* A linked answer is a stream of chunks: at most this many wait to be
     * sent, and a send waits (up to the timeout) for the gateway to take
     * them, so the stream never piles up in memory at either end. */
    int sndhwm = 16, sndtimeo = 30000;
    if (zmq_setsockopt(self->dealer, ZMQ_CURVE_SERVERKEY, gw, 40) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_CURVE_PUBLICKEY, pub, 40) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_CURVE_SECRETKEY, sec, 40) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_RECONNECT_IVL, &reconnect, sizeof reconnect) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_SNDHWM, &sndhwm, sizeof sndhwm) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo) != 0 ||
        zmq_setsockopt(self->dealer, ZMQ_LINGER, &zero, sizeof zero) != 0) {
        hearth_cause_set(cause, "cannot configure the gateway socket: %s", zmq_strerror(errno));
        rc = HEARTH_ERR_NET;
        goto done;
    }
    char inproc[64];
    snprintf(inproc, sizeof inproc, "inproc://node-monitor-%p", (void *)self);
    if (zmq_socket_monitor(self->dealer, inproc, ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                           ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_DISCONNECTED) != 0) {
        hearth_cause_set(cause, "cannot monitor the gateway socket: %s", zmq_strerror(errno));
        rc = HEARTH_ERR_NET;
        goto done;
    }
    self->monitor = zmq_socket(self->ctx, ZMQ_PAIR);
    zmq_setsockopt(self->monitor, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(self->monitor, inproc) != 0 ||
        zmq_connect(self->dealer, self->cfg->gateway_endpoint) != 0) {
        hearth_cause_set(cause, "cannot connect to '%s': %s", self->cfg->gateway_endpoint,
                         zmq_strerror(errno));
        rc = HEARTH_ERR_NET;
        goto done;
    }
    rc = HEARTH_OK;
done:
    OPENSSL_cleanse(sec, sizeof sec);
    OPENSSL_cleanse(key, sizeof key);
    return rc;
}

hearth_err_t node_serve_run(const node_config_t *cfg, volatile sig_atomic_t *stop,
                            char **cause)
{
    node_serve_t self = {.cfg = cfg};
    hearth_err_t rc = setup(&self, cause);
    if (rc != HEARTH_OK)
        goto done;
    hearth_log(HEARTH_LOG_INFO, cfg->name, "serving %zu dataset(s); connecting to %s",
               node_engine_ndatasets(self.engine), cfg->gateway_endpoint);
    uint64_t next_check = hearth_now_ms() + 1000;
    while (!*stop) {
        zmq_pollitem_t items[] = {{self.dealer, 0, ZMQ_POLLIN, 0},
                                  {self.monitor, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 2, 500);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            hearth_cause_set(cause, "poll failed: %s", zmq_strerror(errno));
            rc = HEARTH_ERR_NET;
            break;
        }
        if (items[1].revents & ZMQ_POLLIN)
            on_monitor_event(&self);
        if (items[0].revents & ZMQ_POLLIN)
            on_gateway_message(&self);
        if (hearth_now_ms() >= next_check) {
            check_for_ingest(&self);
            next_check = hearth_now_ms() + 1000;
        }
    }
    hearth_log(HEARTH_LOG_INFO, cfg->name, "stopping");
done:
    /* Stop monitoring before closing the monitor's socket: otherwise
     * libzmq's I/O thread can block for ever delivering a last event to a
     * socket nobody reads, holding a lock the close then waits on. */
    if (self.dealer)
        zmq_socket_monitor(self.dealer, NULL, 0);
    if (self.monitor)
        zmq_close(self.monitor);
    if (self.dealer)
        zmq_close(self.dealer);
    if (self.ctx)
        zmq_ctx_term(self.ctx);
    node_engine_destroy(&self.engine);
    node_store_destroy(&self.store);
    node_audit_destroy(&self.audit);
    node_ledger_destroy(&self.ledger);
    keys_signer_destroy(&self.signer);
    keys_token_destroy(&self.linkage);
    return rc;
}
