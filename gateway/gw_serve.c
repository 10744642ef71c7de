#include "gw_serve.h"
#include "gw_diff.h"
#include "gw_dp.h"
#include "gw_link.h"
#include "gw_parse.h"
#include "gw_plan.h"
#include "gw_policy.h"
#include "gw_result.h"
#include "gw_store.h"
#include "gw_zap.h"
#include "hearth_file.h"
#include "hearth_hex.h"
#include "hearth_log.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"
#include "proto_codec.h"
#include "proto_wire.h"

#include <errno.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define LOG "gateway"
/* Queries in flight at once; more are refused as busy rather than queued
 * without bound. */
#define GW_MAX_PENDING 256
#define QUERY_ID_LEN 32
/* Messages queued from one peer (see bind_server). */
#define GW_PEER_QUEUE 16
/* Bounds on one linked query's persons and tokens, all parts together. The
 * linker holds about 37 bytes per token (150 MB for 4 M tokens measured,
 * docs/benchmarks.md), so 60 M tokens is some 2.2 GB: the most a gateway
 * host should give one query (and within the linker's own cap of 2^26
 * distinct tokens). Partners of several million people each fit; past
 * these the query is refused rather than the gateway exhausting memory. */
#define GW_LINK_MAX_PERSONS ((size_t)30 * 1000 * 1000)
#define GW_LINK_MAX_TOKENS ((size_t)60 * 1000 * 1000)
/* Distinct cells the cohorts of one linked query may list, as many as one
 * message may carry groups; the release limit (max_cells) applies later to
 * the cells anyone counts in. */
#define GW_LINK_MAX_CELLS ((size_t)PROTO_MAX_REPEATED)
/* Linked queries being answered at once: each may hold its linker's
 * memory (about 150 MB for two partners of a million people), so more
 * are refused as busy rather than let memory grow with the queue. */
#define GW_MAX_LINKING 2
/* The window of [disclosure] max_queries_per_hour. */
#define GW_RATE_WINDOW_MS ((uint64_t)60 * 60 * 1000)

typedef struct {
    const char *name;           /* borrowed from the config */
    bool connected;
    proto_peer_t peer;
    Hearth__Envelope *hello;    /* owned: the last announcement */
} gw_node_t;

/* Where one part of a query stands. */
typedef struct {
    /* Owned: an AGGREGATE part's answer, or any part's refusal (ok false)
     * kept for its reason. COHORT and TARGET chunks are never kept: each
     * goes to the linker as it arrives and is freed. */
    Hearth__Envelope *answer;
    uint32_t next_chunk;        /* the chunk number expected next */
    bool done;                  /* its last message (more false) has arrived */
    const char *fault;          /* static: what was wrong with its answer, if anything */
    uint32_t ms;                /* when its latest message arrived */
} gw_part_state_t;

typedef struct {
    bool used;
    char query_id[QUERY_ID_LEN + 1];
    proto_peer_t client;
    char analyst[GW_NAME_MAX + 1];
    gw_plan_t *plan;
    gw_part_state_t *parts;      /* owned, one per plan part */
    size_t ndone;
    /* A part failed: nothing more is linked; the query waits only for
     * every part to end (or the deadline) so the node statuses are true. */
    bool failed;
    gw_link_t *link;             /* owned; linked queries until finished or failed */
    gw_result_cells_t *cells;    /* owned; linked queries */
    uint64_t started, deadline;
    /* The rules resolved when the query arrived (its project, the floors
     * of the nodes it touches), so a node that reconnects with another
     * floor meanwhile changes nothing for it. */
    gw_policy_t policy;
    /* The query's fingerprint for the differencing check (gw_diff). */
    char family[65];
    char **conjuncts;            /* owned: gw_diff_conjuncts */
    size_t nconjuncts;
} gw_pending_t;

/* One analyst's questions in the last hour, for max_queries_per_hour: the
 * times they were sent to the nodes, oldest first, in a ring that grows
 * to at most the limit. */
typedef struct {
    uint64_t *times;             /* owned; cap entries */
    size_t cap, head, n;
} gw_rate_t;

typedef struct {
    const gw_config_t *cfg;
    void *ctx;
    gw_zap_t *zap;
    void *nodes_sock;
    void *analysts_sock;
    gw_node_t *nodes;
    gw_store_t *store;           /* owned: the gateway's database */
    gw_dp_rng_t *rng;            /* owned: OpenSSL's CSPRNG, for DP noise */
    gw_rate_t *rates;            /* owned: one per configured analyst */
    gw_pending_t pending[GW_MAX_PENDING];
} gw_t;

static void new_query_id(char out[QUERY_ID_LEN + 1])
{
    uint8_t raw[QUERY_ID_LEN / 2];
    if (RAND_bytes(raw, sizeof raw) != 1)
        abort(); /* no randomness: nothing safe can follow */
    hearth_hex_encode(raw, sizeof raw, out);
}

static void reply(gw_t *self, const proto_peer_t *client, Hearth__QueryResult *r)
{
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_RESULT;
    env.result = r;
    char *cause = NULL;
    if (proto_send(self->analysts_sock, client, &env, 1, &cause) != HEARTH_OK)
        hearth_log(HEARTH_LOG_WARN, LOG, "could not deliver result of query %s: %s",
                   r->query_id, cause);
    free(cause);
}

static const char *status_name(Hearth__QueryStatus s)
{
    switch (s) {
    case HEARTH__QUERY_STATUS__STATUS_RELEASED: return "released";
    case HEARTH__QUERY_STATUS__STATUS_REFUSED: return "refused";
    case HEARTH__QUERY_STATUS__STATUS_PARTIAL: return "partial";
    default: return "error";
    }
}

static void finish_result(gw_t *self, const proto_peer_t *client, const char *analyst,
                          Hearth__QueryResult *r, uint64_t started)
{
    hearth_log(HEARTH_LOG_INFO, LOG, "query %s from analyst %s: %s (%zu cells, %u suppressed) "
               "in %llu ms", r->query_id, analyst, status_name(r->status), r->n_rows,
               r->disclosure ? r->disclosure->suppressed_cells : 0,
               (unsigned long long)(hearth_now_ms() - started));
    reply(self, client, r);
    gw_result_free(&r);
}

static void release_pending(gw_pending_t *p)
{
    if (p->plan && p->parts)
        for (size_t i = 0; i < p->plan->nparts; i++)
            proto_free(&p->parts[i].answer);
    free(p->parts);
    gw_link_destroy(&p->link);   /* wipes any tokens still held */
    gw_result_cells_destroy(&p->cells);
    gw_plan_destroy(&p->plan);
    gw_diff_conjuncts_free(&p->conjuncts, p->nconjuncts);
    memset(p, 0, sizeof *p);
}

/* How p's table is to be released. */
static gw_result_release_t release_of(gw_t *self, const gw_pending_t *p)
{
    return (gw_result_release_t){.policy = &p->policy, .max_cells = self->cfg->max_cells,
                                 .store = self->store, .family = p->family,
                                 .conjuncts = (const char *const *)p->conjuncts,
                                 .nconjuncts = p->nconjuncts, .rng = self->rng};
}

/* ---- per-analyst rate limit ---------------------------------------------- */

/* The slot of the configured analyst called name, or NULL (ZAP admits
 * only configured analysts, so NULL is not expected). */
static gw_rate_t *rate_of(gw_t *self, const char *name)
{
    for (size_t i = 0; i < self->cfg->nanalysts; i++)
        if (strcmp(self->cfg->analysts[i].name, name) == 0)
            return &self->rates[i];
    return NULL;
}

/* Forgets the questions older than the window. */
static void rate_prune(gw_rate_t *r, uint64_t now)
{
    while (r->n > 0 && r->times[r->head] + GW_RATE_WINDOW_MS <= now) {
        r->head = (r->head + 1) % r->cap;
        r->n--;
    }
}

/* Whether analyst may ask another question now. */
static bool rate_allows(gw_t *self, const char *analyst, uint64_t now)
{
    uint32_t max = self->cfg->max_queries_per_hour;
    gw_rate_t *r = rate_of(self, analyst);
    if (max == 0 || r == NULL)
        return max == 0;
    rate_prune(r, now);
    return r->n < max;
}

/* Counts a question of analyst's, sent to the nodes at now. Called only
 * after rate_allows, in the same turn of the loop, so the ring never needs
 * more than the limit. */
static void rate_record(gw_t *self, const char *analyst, uint64_t now)
{
    uint32_t max = self->cfg->max_queries_per_hour;
    gw_rate_t *r = rate_of(self, analyst);
    if (max == 0 || r == NULL)
        return;
    rate_prune(r, now);
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        if (cap > max)
            cap = max;
        uint64_t *times = hearth_calloc(cap, sizeof *times);
        for (size_t i = 0; i < r->n; i++)
            times[i] = r->times[(r->head + i) % r->cap];
        free(r->times);
        r->times = times;
        r->cap = cap;
        r->head = 0;
    }
    r->times[(r->head + r->n) % r->cap] = now;
    r->n++;
}

/* Stops linking a query that cannot be released: its tokens are wiped now,
 * not when the last part ends. */
static void fail_query(gw_pending_t *p)
{
    p->failed = true;
    gw_link_destroy(&p->link);
    gw_result_cells_destroy(&p->cells);
}

static void part_fault(gw_pending_t *p, size_t k, const char *fault)
{
    if (p->parts[k].fault == NULL)
        p->parts[k].fault = fault;
    fail_query(p);
}

/* "ok", "error" or "timeout" for part k. */
static const char *part_status(const gw_part_state_t *st)
{
    if (st->fault || (st->answer && !st->answer->sub_result->ok))
        return "error";
    return st->done ? "ok" : "timeout";
}

/* One status line per node, in the order nodes first appear in the plan:
 * the worst of its parts (error, then timeout), and the latest time. */
static void add_node_lines(gw_t *self, const gw_pending_t *p, Hearth__QueryResult *r)
{
    const gw_plan_t *plan = p->plan;
    for (size_t i = 0; i < plan->nparts; i++) {
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = plan->parts[j].node == plan->parts[i].node;
        if (seen)
            continue;
        const char *status = "ok";
        uint32_t ms = 0;
        for (size_t j = i; j < plan->nparts; j++) {
            if (plan->parts[j].node != plan->parts[i].node)
                continue;
            const char *s = part_status(&p->parts[j]);
            if (strcmp(s, "error") == 0 || (strcmp(s, "timeout") == 0 && strcmp(status, "ok") == 0))
                status = s;
            if (p->parts[j].ms > ms)
                ms = p->parts[j].ms;
        }
        gw_result_add_node(r, self->nodes[plan->parts[i].node].name, status, ms);
    }
}

/* Why the query cannot be released, into reason; false when it can. A
 * fault or a node's refusal comes before a part still missing, since the
 * missing part would not have saved the query. *refused is set when the
 * reason is a node's policy (its floor, a repeated id) rather than a
 * fault, so the analyst is told "refused", as for the gateway's own. */
static bool failure_reason(gw_t *self, const gw_pending_t *p, char *reason, size_t cap,
                           bool *refused)
{
    *refused = false;
    const gw_plan_t *plan = p->plan;
    for (size_t i = 0; i < plan->nparts; i++) {
        const gw_part_state_t *st = &p->parts[i];
        const char *node = self->nodes[plan->parts[i].node].name;
        if (st->fault) {
            snprintf(reason, cap, "node '%s' %s; nothing was released", node, st->fault);
            return true;
        }
        if (st->answer && !st->answer->sub_result->ok) {
            const char *error = st->answer->sub_result->error;
            snprintf(reason, cap, "node '%s' could not answer: %s", node,
                     error && *error ? error : "refused");
            *refused = st->answer->sub_result->refused;
            return true;
        }
    }
    for (size_t i = 0; i < plan->nparts; i++)
        if (!p->parts[i].done) {
            snprintf(reason, cap, "node '%s' did not answer in time",
                     self->nodes[plan->parts[i].node].name);
            return true;
        }
    if (p->failed) {
        snprintf(reason, cap, "the query could not be answered; nothing was released");
        return true;
    }
    return false;
}

/* Every person has been added: count, release, and wipe the tokens. */
static Hearth__QueryResult *linked_result(gw_t *self, gw_pending_t *p)
{
    gw_link_result_t lr;
    memset(&lr, 0, sizeof lr);
    char *cause = NULL;
    Hearth__QueryResult *r;
    if (p->link == NULL || p->cells == NULL)
        return gw_result_refusal(p->query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                 "the gateway could not link this query's persons; nothing "
                                 "was released", false);
    hearth_err_t rc = gw_link_finish(p->link, gw_result_cells_count(p->cells), &lr, &cause);
    gw_link_destroy(&p->link);
    if (rc == HEARTH_OK) {
        gw_result_release_t rel = release_of(self, p);
        r = gw_result_linked(p->plan, p->cells, &lr, &rel, p->query_id);
    } else {
        /* The cause is not logged: it is the linker's, and a count of
         * persons must never reach the log. */
        hearth_log(HEARTH_LOG_WARN, LOG, "query %s could not be linked: %s", p->query_id,
                   hearth_strerror(rc));
        r = gw_result_refusal(p->query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                              rc == HEARTH_ERR_TOO_BIG
                                  ? "the query links more persons than this gateway links at "
                                    "once; nothing was released"
                                  : "the gateway could not link this query's persons; nothing "
                                    "was released", false);
    }
    free(cause);
    gw_link_result_free(&lr);
    return r;
}

/* Every part has ended (or the deadline passed): combine and reply. */
static void complete(gw_t *self, gw_pending_t *p, bool timed_out)
{
    (void)timed_out;
    gw_plan_t *plan = p->plan;
    Hearth__QueryResult *r = NULL;
    char reason[512];
    bool refused;
    if (failure_reason(self, p, reason, sizeof reason, &refused)) {
        r = gw_result_refusal(p->query_id, refused ? HEARTH__QUERY_STATUS__STATUS_REFUSED
                                                   : HEARTH__QUERY_STATUS__STATUS_ERROR,
                              reason, false);
    } else if (plan->linked) {
        r = linked_result(self, p);
    } else {
        Hearth__SubResult **subs = hearth_calloc(plan->nparts, sizeof *subs);
        for (size_t i = 0; i < plan->nparts; i++)
            subs[i] = p->parts[i].answer->sub_result;
        gw_result_release_t rel = release_of(self, p);
        r = gw_result_combine(plan, subs, &rel, p->query_id);
        free(subs);
    }
    add_node_lines(self, p, r);
    finish_result(self, &p->client, p->analyst, r, p->started);
    release_pending(p);
}

/* A linked part's chunk, in order: chunk 0 of a COHORT part numbers its
 * cells; then its persons go to the linker. Returns a fault, or NULL. */
static const char *link_chunk(gw_t *self, gw_pending_t *p, size_t k, const Hearth__SubResult *sr)
{
    const gw_plan_part_t *part = &p->plan->parts[k];
    hearth_err_t rc = HEARTH_OK;
    char *cause = NULL;
    if (part->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT && sr->chunk == 0) {
        uint32_t *global = hearth_calloc(sr->n_groups ? sr->n_groups : 1, sizeof *global);
        rc = gw_result_cells_map(p->cells, sr->groups, sr->n_groups, global, &cause);
        if (rc == HEARTH_OK)
            rc = gw_link_set_cells(p->link, k, global, sr->n_groups, &cause);
        free(global);
    } else if (sr->n_groups) {
        rc = HEARTH_ERR_PROTO;   /* cells are listed once, in a cohort's chunk 0 */
    }
    if (rc == HEARTH_OK)
        rc = gw_link_add(p->link, k, sr->persons.data, sr->persons.len, &cause);
    free(cause);   /* not logged: see linked_result */
    if (rc == HEARTH_OK)
        return NULL;
    hearth_log(HEARTH_LOG_WARN, LOG, "node %s: part %zu of query %s could not be linked: %s",
               self->nodes[part->node].name, k, p->query_id, hearth_strerror(rc));
    return rc == HEARTH_ERR_TOO_BIG ? "sent more persons, tokens or cells than this gateway "
                                      "links in one query"
                                    : "sent persons the gateway could not read";
}

/* One SubResult for part k of p (takes env). Chunks must come 0, 1, 2, ...;
 * a part ends with its message whose `more` is false, or with a refusal. */
static void on_part_message(gw_t *self, gw_pending_t *p, size_t k, Hearth__Envelope *env)
{
    gw_part_state_t *st = &p->parts[k];
    const gw_plan_part_t *part = &p->plan->parts[k];
    const Hearth__SubResult *sr = env->sub_result;
    st->ms = (uint32_t)(hearth_now_ms() - p->started);
    if (st->done) {
        /* A message after a part's last one: a repeat, never to be added
         * twice. */
        if (!p->failed)
            part_fault(p, k, "answered one part of the query twice");
        proto_free(&env);
        return;
    }
    bool last = !sr->ok || !sr->more;
    if (p->failed) {
        /* Nothing more is computed; only the end of each part is awaited. */
    } else if (!sr->ok) {
        st->answer = env;   /* kept for the node's reason */
        env = NULL;
        fail_query(p);
    } else if (sr->chunk != st->next_chunk) {
        part_fault(p, k, "sent the chunks of its answer out of order");
    } else if (part->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE) {
        if (sr->more || sr->chunk != 0) {
            part_fault(p, k, "sent a malformed answer");
        } else {
            st->answer = env;
            env = NULL;
        }
    } else {
        const char *fault = link_chunk(self, p, k, sr);
        if (fault)
            part_fault(p, k, fault);
    }
    st->next_chunk++;
    proto_free(&env);
    if (last) {
        st->done = true;
        if (++p->ndone == p->plan->nparts)
            complete(self, p, false);
    }
}

/* The rules for a planned query (its project's, raised to the floors of
 * the nodes it touches) into *policy, and its differencing fingerprint
 * into family and *conjuncts (caller frees with gw_diff_conjuncts_free).
 * Returns NULL, or the refusal or error to answer with. */
static Hearth__QueryResult *query_rules(gw_t *self, const gw_plan_t *plan, const gw_query_t *q,
                                        const char *project, const char *query_id,
                                        gw_policy_t *policy, char family[65],
                                        char ***conjuncts, size_t *nconjuncts)
{
    uint32_t *floors = hearth_calloc(plan->nparts ? plan->nparts : 1, sizeof *floors);
    for (size_t i = 0; i < plan->nparts; i++) {
        const Hearth__Envelope *hello = self->nodes[plan->parts[i].node].hello;
        floors[i] = hello ? hello->hello->min_cell : 0;
    }
    char *cause = NULL;
    hearth_err_t rc = gw_policy_resolve(self->cfg, project, floors, plan->nparts, policy,
                                        &cause);
    free(floors);
    Hearth__QueryResult *r = NULL;
    if (rc != HEARTH_OK) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                              cause ? cause : hearth_strerror(rc), false);
    } else if (gw_diff_family(q, family) != HEARTH_OK ||
               gw_diff_conjuncts(q, conjuncts, nconjuncts) != HEARTH_OK) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                              "the gateway could not fingerprint this query for its "
                              "differencing check; nothing was asked", false);
    }
    free(cause);
    return r;
}

static void on_query(gw_t *self, const proto_peer_t *client, const char *analyst,
                     const Hearth__QueryRequest *req)
{
    uint64_t started = hearth_now_ms();
    char query_id[QUERY_ID_LEN + 1];
    new_query_id(query_id);
    if (!rate_allows(self, analyst, started)) {
        char reason[160];
        snprintf(reason, sizeof reason, "this analyst has already asked %u questions in the "
                 "last hour, the most this gateway answers; try again later",
                 self->cfg->max_queries_per_hour);
        finish_result(self, client, analyst,
                      gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED, reason,
                                        false), started);
        return;
    }
    const char *sql = req->sql ? req->sql : "";
    size_t len = strlen(sql);
    gw_query_t *q = NULL;
    gw_plan_t *plan = NULL;
    Hearth__QueryResult *r = NULL;
    gw_parse_error_t err;
    memset(&err, 0, sizeof err);
    gw_parse_limits_t limits = gw_parse_limits_default();
    limits.max_query_len = self->cfg->max_query_length;
    limits.max_in_list = self->cfg->max_in_list;
    hearth_err_t rc = gw_parse(sql, len, &limits, &q, &err);
    if (rc == HEARTH_OK) {
        gw_plan_node_t *view = hearth_calloc(self->cfg->nnodes, sizeof *view);
        for (size_t i = 0; i < self->cfg->nnodes; i++) {
            view[i].name = self->nodes[i].name;
            view[i].hello = self->nodes[i].hello ? self->nodes[i].hello->hello : NULL;
        }
        rc = gw_plan_build(q, view, self->cfg->nnodes, query_id, &plan, &err);
        free(view);
    }
    if (rc == HEARTH_ERR_PARSE || rc == HEARTH_ERR_TOO_BIG) {
        char *text = gw_parse_error_render(sql, len, &err);
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR, text, true);
        r->error_offset = (uint32_t)err.offset + 1;
        free(text);
    } else if (rc == HEARTH_ERR_REFUSED) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED, err.message, false);
    } else if (rc != HEARTH_OK) {
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR, err.message, false);
    }
    gw_policy_t policy;
    memset(&policy, 0, sizeof policy);
    char family[65] = "";
    char **conjuncts = NULL;
    size_t nconjuncts = 0;
    if (r == NULL)
        r = query_rules(self, plan, q, req->project, query_id, &policy, family, &conjuncts,
                        &nconjuncts);
    gw_query_destroy(&q);
    if (r) {
        gw_plan_destroy(&plan);
        gw_diff_conjuncts_free(&conjuncts, nconjuncts);
        finish_result(self, client, analyst, r, started);
        return;
    }
    gw_pending_t *p = NULL;
    size_t linking = 0;
    for (size_t i = 0; i < GW_MAX_PENDING; i++) {
        if (!self->pending[i].used && !p)
            p = &self->pending[i];
        linking += self->pending[i].used && self->pending[i].link != NULL;
    }
    if (p == NULL || (plan->linked && linking >= GW_MAX_LINKING)) {
        gw_plan_destroy(&plan);
        gw_diff_conjuncts_free(&conjuncts, nconjuncts);
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                              "the gateway is busy; try again shortly", false);
        finish_result(self, client, analyst, r, started);
        return;
    }
    p->used = true;
    memcpy(p->query_id, query_id, sizeof query_id);
    p->client = *client;
    snprintf(p->analyst, sizeof p->analyst, "%s", analyst);
    p->plan = plan;
    p->policy = policy;
    memcpy(p->family, family, sizeof family);
    p->conjuncts = conjuncts;
    p->nconjuncts = nconjuncts;
    p->parts = hearth_calloc(plan->nparts, sizeof *p->parts);
    if (plan->linked) {
        gw_link_part_t *lp = hearth_calloc(plan->nparts, sizeof *lp);
        for (size_t i = 0; i < plan->nparts; i++) {
            const gw_plan_part_t *part = &plan->parts[i];
            bool cohort = part->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
            lp[i] = (gw_link_part_t){.cohort = cohort, .atom = part->atom,
                                     .atoms = cohort ? plan->natoms : 0,
                                     .payload = part->payload, .dataset = part->dataset};
        }
        p->link = gw_link_new(lp, plan->nparts, GW_LINK_MAX_PERSONS, GW_LINK_MAX_TOKENS);
        free(lp);
        p->cells = gw_result_cells_new(plan->ngroup, GW_LINK_MAX_CELLS);
    }
    p->started = started;
    p->deadline = started + self->cfg->node_timeout_ms;
    for (size_t i = 0; i < plan->nparts; i++) {
        gw_node_t *node = &self->nodes[plan->parts[i].node];
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
        env.sub_query = plan->parts[i].sub;
        char *cause = NULL;
        if (!node->connected ||
            proto_send(self->nodes_sock, &node->peer, &env, 1, &cause) != HEARTH_OK) {
            /* ROUTER_MANDATORY: an unreachable node fails the send at once
             * rather than after the timeout. */
            node->connected = false;
            hearth_log(HEARTH_LOG_WARN, LOG, "node %s is not reachable%s%s", node->name,
                       cause ? ": " : "", cause ? cause : "");
            free(cause);
            char reason[256];
            snprintf(reason, sizeof reason, "node '%s' is not connected to the gateway",
                     node->name);
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR, reason, false);
            gw_result_add_node(r, node->name, "error", 0);
            finish_result(self, client, analyst, r, started);
            release_pending(p);
            return;
        }
    }
    /* Counted once the nodes have it: a query with a typo, refused before
     * anything was asked, does not use up the analyst's hour. */
    rate_record(self, analyst, started);
}

static void on_status(gw_t *self, const proto_peer_t *client)
{
    Hearth__StatusReply rep = HEARTH__STATUS_REPLY__INIT;
    Hearth__NodeState *states = hearth_calloc(self->cfg->nnodes, sizeof *states);
    Hearth__NodeState **ptrs = hearth_calloc(self->cfg->nnodes, sizeof *ptrs);
    for (size_t i = 0; i < self->cfg->nnodes; i++) {
        hearth__node_state__init(&states[i]);
        states[i].node = (char *)self->nodes[i].name;
        states[i].connected = self->nodes[i].connected && self->nodes[i].hello != NULL;
        ptrs[i] = &states[i];
    }
    rep.nodes = ptrs;
    rep.n_nodes = self->cfg->nnodes;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_STATUS_REPLY;
    env.status_reply = &rep;
    char *cause = NULL;
    (void)proto_send(self->analysts_sock, client, &env, 1, &cause);
    free(cause);
    free(states);
    free(ptrs);
}

/* What analysts may ask about: each node's datasets as it last announced
 * them (categorical values only those held by 8 or more people, as the
 * node chose them). Borrowed from the stored announcements, not copied. */
static void on_catalogue(gw_t *self, const proto_peer_t *client)
{
    size_t n = self->cfg->nnodes;
    Hearth__CatalogueReply rep = HEARTH__CATALOGUE_REPLY__INIT;
    Hearth__NodeCatalogue *nodes = hearth_calloc(n ? n : 1, sizeof *nodes);
    Hearth__NodeCatalogue **ptrs = hearth_calloc(n ? n : 1, sizeof *ptrs);
    for (size_t i = 0; i < n; i++) {
        hearth__node_catalogue__init(&nodes[i]);
        nodes[i].node = (char *)self->nodes[i].name;
        nodes[i].connected = self->nodes[i].connected && self->nodes[i].hello != NULL;
        if (self->nodes[i].hello) {
            nodes[i].datasets = self->nodes[i].hello->hello->datasets;
            nodes[i].n_datasets = self->nodes[i].hello->hello->n_datasets;
        }
        ptrs[i] = &nodes[i];
    }
    rep.nodes = ptrs;
    rep.n_nodes = n;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_CATALOGUE_REPLY;
    env.catalogue_reply = &rep;
    char *cause = NULL;
    if (proto_send(self->analysts_sock, client, &env, 1, &cause) != HEARTH_OK)
        hearth_log(HEARTH_LOG_WARN, LOG, "could not send the catalogue: %s", cause);
    free(cause);
    free(nodes);
    free(ptrs);
}

static void on_analyst_message(gw_t *self)
{
    proto_peer_t client;
    char user[GW_NAME_MAX + 1];
    Hearth__Envelope *env = NULL;
    char *cause = NULL;
    client.len = 0;
    hearth_err_t rc = proto_recv(self->analysts_sock, &client, PROTO_MAX_CLIENT_MSG, user,
                                 sizeof user, &env, &cause);
    if (rc != HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, LOG, "dropped a message from an analyst: %s", cause);
        /* Tell the sender why rather than leave it waiting, when it can be
         * reached (the cause names a field, never its content). */
        if (client.len > 0 && rc != HEARTH_ERR_NET && rc != HEARTH_ERR_TIMEOUT) {
            char *reason = hearth_asprintf("the gateway could not read this request: %s",
                                           cause ? cause : hearth_strerror(rc));
            Hearth__QueryResult *r = gw_result_refusal("", HEARTH__QUERY_STATUS__STATUS_ERROR,
                                                       reason, true);
            reply(self, &client, r);
            gw_result_free(&r);
            free(reason);
        }
        free(cause);
        return;
    }
    if (env->body_case == HEARTH__ENVELOPE__BODY_QUERY)
        on_query(self, &client, user, env->query);
    else if (env->body_case == HEARTH__ENVELOPE__BODY_STATUS_REQUEST)
        on_status(self, &client);
    else if (env->body_case == HEARTH__ENVELOPE__BODY_CATALOGUE_REQUEST)
        on_catalogue(self, &client);
    else
        hearth_log(HEARTH_LOG_WARN, LOG, "ignored an unexpected message from analyst %s", user);
    proto_free(&env);
}

static gw_node_t *node_by_name(gw_t *self, const char *name)
{
    for (size_t i = 0; i < self->cfg->nnodes; i++)
        if (strcmp(self->nodes[i].name, name) == 0)
            return &self->nodes[i];
    return NULL;
}

static void on_node_message(gw_t *self)
{
    proto_peer_t peer;
    char user[GW_NAME_MAX + 1];
    Hearth__Envelope *env = NULL;
    char *cause = NULL;
    if (proto_recv(self->nodes_sock, &peer, PROTO_MAX_NODE_MSG, user, sizeof user, &env,
                   &cause) != HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, LOG, "dropped a message from a node: %s", cause);
        free(cause);
        return;
    }
    /* The node's name is the one its key was admitted under, never what
     * the message says. */
    gw_node_t *node = node_by_name(self, user);
    if (node == NULL) {
        proto_free(&env);
        return;
    }
    if (env->body_case == HEARTH__ENVELOPE__BODY_HELLO) {
        if (env->hello->node == NULL || strcmp(env->hello->node, node->name) != 0) {
            hearth_log(HEARTH_LOG_WARN, LOG, "node %s announced itself under another name; "
                       "ignored", node->name);
            proto_free(&env);
            return;
        }
        proto_free(&node->hello);
        node->hello = env;
        node->peer = peer;
        node->connected = true;
        hearth_log(HEARTH_LOG_INFO, LOG, "node %s connected with %zu dataset(s)", node->name,
                   env->hello->n_datasets);
        Hearth__Welcome w = HEARTH__WELCOME__INIT;
        w.gateway = "hearth-gateway";
        Hearth__Envelope out = HEARTH__ENVELOPE__INIT;
        out.body_case = HEARTH__ENVELOPE__BODY_WELCOME;
        out.welcome = &w;
        (void)proto_send(self->nodes_sock, &peer, &out, 1, &cause);
        free(cause);
        return;
    }
    if (env->body_case == HEARTH__ENVELOPE__BODY_SUB_RESULT) {
        const char *qid = env->sub_result->query_id ? env->sub_result->query_id : "";
        size_t node_index = (size_t)(node - self->nodes);
        for (size_t i = 0; i < GW_MAX_PENDING && env; i++) {
            gw_pending_t *p = &self->pending[i];
            if (!p->used || strcmp(p->query_id, qid) != 0)
                continue;
            /* Parts sent to one node share the query id and are told apart
             * by their number there, whatever order they come back in. */
            for (size_t k = 0; k < p->plan->nparts; k++) {
                if (p->plan->parts[k].node != node_index ||
                    p->plan->parts[k].sub->part != env->sub_result->part)
                    continue;
                on_part_message(self, p, k, env);
                env = NULL;
                break;
            }
            break;
        }
        if (env)
            hearth_log(HEARTH_LOG_WARN, LOG, "node %s answered a query that is not waiting "
                       "for it; ignored", node->name);
    }
    proto_free(&env);
}

static void expire(gw_t *self)
{
    uint64_t now = hearth_now_ms();
    for (size_t i = 0; i < GW_MAX_PENDING; i++)
        if (self->pending[i].used && now >= self->pending[i].deadline)
            complete(self, &self->pending[i], true);
}

static long next_timeout(gw_t *self)
{
    uint64_t now = hearth_now_ms(), soonest = now + 500;
    for (size_t i = 0; i < GW_MAX_PENDING; i++)
        if (self->pending[i].used && self->pending[i].deadline < soonest)
            soonest = self->pending[i].deadline;
    return soonest > now ? (long)(soonest - now) : 0;
}

static hearth_err_t bind_server(gw_t *self, void **sock_out, const char *endpoint,
                                const char *domain, int64_t maxmsg, const char *secret,
                                char **cause)
{
    void *s = zmq_socket(self->ctx, ZMQ_ROUTER);
    *sock_out = s;
    /* Inbound messages queued per peer before ZeroMQ stops reading its
     * connection. A linked answer is a stream of ~1 MiB chunks, and the
     * gateway links each as it is read, so a short queue is enough; it
     * bounds the gateway's memory whatever the nodes send, and the nodes
     * wait (their send queue is as short) rather than pile up chunks. */
    int one = 1, hb_ivl = 2000, hb_timeout = 6000, rcvhwm = GW_PEER_QUEUE;
    if (zmq_setsockopt(s, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm) != 0 ||
        zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, secret, 40) != 0 ||
        zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, domain, strlen(domain)) != 0 ||
        zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_IVL, &hb_ivl, sizeof hb_ivl) != 0 ||
        zmq_setsockopt(s, ZMQ_HEARTBEAT_TIMEOUT, &hb_timeout, sizeof hb_timeout) != 0 ||
        zmq_setsockopt(s, ZMQ_ROUTER_MANDATORY, &one, sizeof one) != 0) {
        hearth_cause_set(cause, "cannot configure socket: %s", zmq_strerror(errno));
        return HEARTH_ERR_NET;
    }
    if (zmq_bind(s, endpoint) != 0) {
        hearth_cause_set(cause, "cannot listen on '%s': %s", endpoint, zmq_strerror(errno));
        return HEARTH_ERR_NET;
    }
    return HEARTH_OK;
}

static hearth_err_t write_ready(gw_t *self, char **cause)
{
    char nodes_ep[256], analysts_ep[256];
    size_t n1 = sizeof nodes_ep, n2 = sizeof analysts_ep;
    if (zmq_getsockopt(self->nodes_sock, ZMQ_LAST_ENDPOINT, nodes_ep, &n1) != 0 ||
        zmq_getsockopt(self->analysts_sock, ZMQ_LAST_ENDPOINT, analysts_ep, &n2) != 0) {
        hearth_cause_set(cause, "cannot read bound endpoints: %s", zmq_strerror(errno));
        return HEARTH_ERR_NET;
    }
    hearth_log(HEARTH_LOG_INFO, LOG, "nodes connect to %s; analysts to %s", nodes_ep,
               analysts_ep);
    if (self->cfg->ready_file == NULL)
        return HEARTH_OK;
    /* Written whole under a temporary name, then renamed: a reader never
     * sees half a file. */
    char *tmp = hearth_asprintf("%s.tmp", self->cfg->ready_file);
    char *text = hearth_asprintf("node_endpoint=%s\nanalyst_endpoint=%s\n", nodes_ep,
                                 analysts_ep);
    unlink(tmp);
    hearth_err_t rc = hearth_file_write_public(tmp, text, strlen(text), cause);
    if (rc == HEARTH_OK && rename(tmp, self->cfg->ready_file) != 0) {
        hearth_cause_set(cause, "cannot write '%s': %s", self->cfg->ready_file, strerror(errno));
        rc = HEARTH_ERR_IO;
    }
    free(tmp);
    free(text);
    return rc;
}

hearth_err_t gw_serve_run(const gw_config_t *cfg, volatile sig_atomic_t *stop, char **cause)
{
    /* A linked query allocates and frees ~100 MB in blocks of 2-64 MB.
     * glibc would raise its mmap threshold after the first free and serve
     * the next query's blocks from a heap it never gives back, so memory
     * would grow query after query; a fixed threshold returns every large
     * block to the system when it is freed. It sits above the ~1 MiB
     * chunks a linked answer arrives in, which are reused from the heap
     * rather than mapped (and zeroed by the kernel) afresh each time. */
    (void)mallopt(M_MMAP_THRESHOLD, 2 * 1024 * 1024);
    gw_t *self = hearth_calloc(1, sizeof *self);
    self->cfg = cfg;
    self->nodes = hearth_calloc(cfg->nnodes ? cfg->nnodes : 1, sizeof *self->nodes);
    for (size_t i = 0; i < cfg->nnodes; i++)
        self->nodes[i].name = cfg->nodes[i].name;
    self->rates = hearth_calloc(cfg->nanalysts ? cfg->nanalysts : 1, sizeof *self->rates);
    self->rng = gw_dp_rng_new();
    char pub[41], sec[41];
    hearth_err_t rc = keys_curve_load_secret(cfg->curve_key, pub, sec, cause);
    if (rc != HEARTH_OK)
        goto done;
    /* The record of releases and DP budgets must be there before any
     * query is answered: without it no differencing check can run. */
    if ((rc = gw_store_open(cfg->database, &self->store, cause)) != HEARTH_OK)
        goto done;
    self->ctx = zmq_ctx_new();
    /* The authentication handler must be running before any socket binds:
     * without it libzmq would admit every CURVE client. */
    if ((rc = gw_zap_start(self->ctx, cfg->nodes, cfg->nnodes, cfg->analysts, cfg->nanalysts,
                           &self->zap, cause)) != HEARTH_OK)
        goto done;
    if ((rc = bind_server(self, &self->nodes_sock, cfg->node_endpoint, GW_ZAP_DOMAIN_NODES,
                          PROTO_MAX_NODE_MSG, sec, cause)) != HEARTH_OK ||
        (rc = bind_server(self, &self->analysts_sock, cfg->analyst_endpoint,
                          GW_ZAP_DOMAIN_ANALYSTS, PROTO_MAX_CLIENT_MSG, sec, cause)) != HEARTH_OK ||
        (rc = write_ready(self, cause)) != HEARTH_OK)
        goto done;
    hearth_log(HEARTH_LOG_INFO, LOG, "ready: %zu node(s) and %zu analyst key(s) configured",
               cfg->nnodes, cfg->nanalysts);
    while (!*stop) {
        zmq_pollitem_t items[] = {{self->nodes_sock, 0, ZMQ_POLLIN, 0},
                                  {self->analysts_sock, 0, ZMQ_POLLIN, 0}};
        int n = zmq_poll(items, 2, next_timeout(self));
        if (n < 0 && errno != EINTR) {
            hearth_cause_set(cause, "poll failed: %s", zmq_strerror(errno));
            rc = HEARTH_ERR_NET;
            break;
        }
        if (n > 0 && (items[0].revents & ZMQ_POLLIN))
            on_node_message(self);
        if (n > 0 && (items[1].revents & ZMQ_POLLIN))
            on_analyst_message(self);
        expire(self);
    }
    hearth_log(HEARTH_LOG_INFO, LOG, "stopping");
done:
    OPENSSL_cleanse(sec, sizeof sec);
    for (size_t i = 0; i < GW_MAX_PENDING; i++)
        if (self->pending[i].used)
            release_pending(&self->pending[i]);
    for (size_t i = 0; i < cfg->nnodes; i++)
        proto_free(&self->nodes[i].hello);
    int zero = 0;
    if (self->nodes_sock) {
        zmq_setsockopt(self->nodes_sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(self->nodes_sock);
    }
    if (self->analysts_sock) {
        zmq_setsockopt(self->analysts_sock, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(self->analysts_sock);
    }
    if (self->ctx) {
        zmq_ctx_shutdown(self->ctx);
        gw_zap_stop(&self->zap);
        zmq_ctx_term(self->ctx);
    }
    gw_store_destroy(&self->store);
    gw_dp_rng_destroy(&self->rng);
    for (size_t i = 0; i < cfg->nanalysts; i++)
        free(self->rates[i].times);
    free(self->rates);
    free(self->nodes);
    free(self);
    return rc;
}
