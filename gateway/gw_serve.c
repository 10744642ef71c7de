#include "gw_serve.h"
#include "audit_event.h"
#include "audit_receipt.h"
#include "gw_audit.h"
#include "gw_audit_rpc.h"
#include "gw_diff.h"
#include "gw_dp.h"
#include "gw_link.h"
#include "gw_parse.h"
#include "gw_journal.h"
#include "gw_plan.h"
#include "gw_policy.h"
#include "gw_project.h"
#include "gw_rate.h"
#include "gw_result.h"
#include "gw_store.h"
#include "gw_zap.h"
#include "hearth_buf.h"
#include "hearth_file.h"
#include "hearth_hex.h"
#include "hearth_log.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"
#include "keys_sign.h"
#include "proto_codec.h"
#include "proto_wire.h"

#include <errno.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <signal.h>
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
/* Messages read from each socket in one turn of the loop, all of them
 * audited in one batch. */
#define GW_TURN_MESSAGES 64

typedef struct {
    const char *name;           /* borrowed from the config */
    bool connected;
    proto_peer_t peer;
    Hearth__Envelope *hello;    /* owned: the last announcement */
    /* The size of the last audit checkpoint the node has been shown (from
     * its Hello, then each dispatch), so that the next dispatch proves
     * its checkpoint consistent with that one. */
    uint64_t audit_size;
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
    uint64_t leaf;              /* index of its DISPATCHED leaf */
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
    /* For the audit log: the project named, when the query arrived and
     * when its parts were logged as dispatched (wall clock), and whether
     * they still wait for this turn's batch to commit before being sent. */
    char project[GW_NAME_MAX + 1];
    uint64_t received_ms, dispatched_ms;
    bool awaiting_commit;
} gw_pending_t;

/* A reply held until this turn's audit batch has committed: an analyst
 * sees no answer that the log does not already hold. */
typedef struct {
    proto_peer_t client;
    Hearth__QueryResult *result;  /* owned */
    char analyst[GW_NAME_MAX + 1];
    uint64_t started;
} gw_deferred_t;

typedef struct {
    const gw_config_t *cfg;
    void *ctx;
    gw_zap_t *zap;
    void *nodes_sock;
    void *analysts_sock;
    gw_node_t *nodes;
    gw_store_t *store;           /* owned: the gateway's database */
    gw_dp_rng_t *rng;            /* owned: OpenSSL's CSPRNG, for DP noise */
    gw_rate_t *rate;             /* owned: max_queries_per_hour */
    keys_signer_t *signer;       /* owned: the audit log's signing key */
    gw_audit_t *audit;           /* owned: the audit log */
    gw_journal_t *journal;       /* owned: this turn's audit batch */
    gw_deferred_t *replies;      /* owned: held until the batch commits */
    size_t nreplies, replies_cap;
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

#ifdef HEARTH_TEST_HOOKS
/* Test builds only (hearth-gateway-test): HEARTH_TEST_HOOK names a fault
 * to act out, so that tests can show what the nodes and the log do then. */
static bool test_hook(const char *name)
{
    const char *h = getenv("HEARTH_TEST_HOOK");
    return h && strcmp(h, name) == 0;
}
#else
static bool test_hook(const char *name)
{
    (void)name;
    return false;
}
#endif

/* Appends ev to this turn's audit batch. A failure fails the whole batch
 * (gw_journal), and flush then answers everyone it concerned with an
 * error instead of acting on it. */
static void record(gw_t *self, const audit_event_t *ev, const gw_audit_index_t *ix,
                   uint64_t *index)
{
    char *cause = NULL;
    if (gw_journal_append(self->journal, ev, ix, index, &cause) != HEARTH_OK)
        hearth_log(HEARTH_LOG_ERROR, LOG, "could not append to the audit log: %s", cause);
    free(cause);
}

/* Holds r for client until this turn's batch commits (takes r). */
static void defer_reply(gw_t *self, const proto_peer_t *client, const char *analyst,
                        Hearth__QueryResult *r, uint64_t started)
{
    if (self->nreplies == self->replies_cap) {
        self->replies_cap = self->replies_cap ? self->replies_cap * 2 : 16;
        self->replies = hearth_reallocarray(self->replies, self->replies_cap,
                                            sizeof *self->replies);
    }
    gw_deferred_t *d = &self->replies[self->nreplies++];
    d->client = *client;
    d->result = r;
    snprintf(d->analyst, sizeof d->analyst, "%s", analyst);
    d->started = started;
}

/* The disclosure rules a result states, as one line for the audit log. */
static char *disclosure_text(const Hearth__Disclosure *d)
{
    if (d == NULL)
        return hearth_strdup("");
    return hearth_asprintf("threshold %u, rounding %u, zeros %s, protection %u, dominance %s%s%s"
                           "%s%s", d->threshold, d->rounding,
                           d->zeros_disclosive ? "disclosive" : "released", d->protection,
                           d->dominance && *d->dominance ? d->dominance : "off",
                           d->dp_epsilon && *d->dp_epsilon ? ", dp epsilon " : "",
                           d->dp_epsilon && *d->dp_epsilon ? d->dp_epsilon : "",
                           d->dp_budget_remaining && *d->dp_budget_remaining
                               ? ", dp budget remaining " : "",
                           d->dp_budget_remaining ? d->dp_budget_remaining : "");
}

/* SHA-256 of r as sent (protobuf-c packs a given message the same way
 * every time), so an auditor can match a result someone holds. */
static void result_hash(const Hearth__QueryResult *r, uint8_t out[32])
{
    size_t len = hearth__query_result__get_packed_size(r);
    uint8_t *buf = hearth_malloc(len ? len : 1);
    hearth__query_result__pack(r, buf);
    SHA256(buf, len, out);
    free(buf);
}

/* Logs r as the query's outcome (RELEASED, REFUSED, or ERROR with outcome
 * "timeout" when timed_out) and holds it until the batch commits. */
static void finish_result(gw_t *self, const proto_peer_t *client, const char *analyst,
                          Hearth__QueryResult *r, uint64_t started, const gw_audit_index_t *ix,
                          bool timed_out)
{
    hearth_log(HEARTH_LOG_INFO, LOG, "query %s from analyst %s: %s (%zu cells, %u suppressed) "
               "in %llu ms", r->query_id, analyst, status_name(r->status), r->n_rows,
               r->disclosure ? r->disclosure->suppressed_cells : 0,
               (unsigned long long)(hearth_now_ms() - started));
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = gw_journal_now_ms();
    ev.query_id = r->query_id;
    char *text = NULL;
    if (r->status == HEARTH__QUERY_STATUS__STATUS_RELEASED) {
        ev.type = AUDIT_RELEASED;
        for (size_t i = 0; i < r->n_rows; i++)
            ev.released += !r->rows[i]->suppressed;
        ev.released += r->total && !r->total->suppressed;
        ev.suppressed = r->disclosure ? r->disclosure->suppressed_cells : 0;
        text = disclosure_text(r->disclosure);
        ev.text = text;
        result_hash(r, ev.result_hash);
    } else {
        ev.type = r->status == HEARTH__QUERY_STATUS__STATUS_REFUSED ? AUDIT_REFUSED : AUDIT_ERROR;
        ev.outcome = timed_out ? "timeout" : "error";
        ev.text = r->reason;
    }
    record(self, &ev, ix, NULL);
    free(text);
    defer_reply(self, client, analyst, r, started);
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
/* The index columns of p's audit leaves. */
static gw_audit_index_t pending_index(const gw_pending_t *p)
{
    return (gw_audit_index_t){.qtime_ms = p->received_ms, .project = p->project,
                              .analyst = p->analyst, .query_id = p->query_id};
}

/* Every part has ended (or the deadline passed): combine and reply. */
static void complete(gw_t *self, gw_pending_t *p, bool timed_out)
{
    gw_plan_t *plan = p->plan;
    Hearth__QueryResult *r = NULL;
    char reason[512];
    bool refused;
    bool failed = failure_reason(self, p, reason, sizeof reason, &refused);
    if (failed) {
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
    gw_audit_index_t ix = pending_index(p);
    finish_result(self, &p->client, p->analyst, r, p->started, &ix, timed_out && failed);
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
/* The node's receipt on the last message of part k: verified against the
 * node's pinned key and matched to the dispatch, then appended to the log
 * as it came, byte for byte. Returns a fault, or NULL. A refusal without a
 * receipt is no fault: a node that could not verify the dispatch vouches
 * for nothing. */
static const char *take_receipt(gw_t *self, gw_pending_t *p, size_t k, const Hearth__SubResult *sr)
{
    const char *note = sr->receipt ? sr->receipt : "";
    if (*note == '\0')
        return sr->ok ? "sent no receipt for its answer" : NULL;
    size_t node = p->plan->parts[k].node;
    char *text = NULL, *cause = NULL;
    audit_receipt_t rc;
    bool ok = tlog_note_open(note, strlen(note), &self->cfg->nodes[node].receipt_key, &text,
                             &cause) == HEARTH_OK &&
              audit_receipt_parse(text, &rc, &cause) == HEARTH_OK &&
              strcmp(rc.node, self->nodes[node].name) == 0 &&
              strcmp(rc.query_id, p->query_id) == 0 &&
              rc.part == p->plan->parts[k].sub->part && rc.leaf == p->parts[k].leaf &&
              rc.answered == (bool)sr->ok;
    free(text);
    if (!ok) {
        hearth_log(HEARTH_LOG_WARN, LOG, "node %s: the receipt for part %zu of query %s does "
                   "not verify%s%s", self->nodes[node].name, k, p->query_id, cause ? ": " : "",
                   cause ? cause : "");
        free(cause);
        return "sent a receipt that does not verify";
    }
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AUDIT_RECEIPT;
    ev.time_ms = gw_journal_now_ms();
    ev.query_id = p->query_id;
    ev.node = (char *)self->nodes[node].name;
    ev.part = rc.part;
    ev.leaf = rc.leaf;
    ev.outcome = rc.answered ? "answered" : "refused";
    ev.text = (char *)note;
    gw_audit_index_t ix = pending_index(p);
    if (!test_hook("drop-receipts"))
        record(self, &ev, &ix, NULL);
    return NULL;
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
    const char *receipt_fault = last ? take_receipt(self, p, k, sr) : NULL;
    if (!sr->ok && sr->audit_size > 0)
        self->nodes[part->node].audit_size = sr->audit_size;   /* resynchronise */
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
    if (receipt_fault && !p->failed)
        part_fault(p, k, receipt_fault);
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
/* The rules for a planned query (its project's, raised to the floors of
 * the nodes it touches) into *policy, and its differencing fingerprint
 * into family and *conjuncts (caller frees with gw_diff_conjuncts_free).
 * Returns NULL, or the refusal or error to answer with. */
static Hearth__QueryResult *query_rules(gw_t *self, const gw_plan_t *plan, const gw_query_t *q,
                                        const gw_project_t *project, const char *query_id,
                                        gw_policy_t *policy, char family[65],
                                        char ***conjuncts, size_t *nconjuncts)
{
    uint32_t *floors = hearth_calloc(plan->nparts ? plan->nparts : 1, sizeof *floors);
    for (size_t i = 0; i < plan->nparts; i++) {
        const Hearth__Envelope *hello = self->nodes[plan->parts[i].node].hello;
        floors[i] = hello ? hello->hello->min_cell : 0;
    }
    char *cause = NULL;
    hearth_err_t rc = gw_policy_resolve(self->cfg, project->id, &project->policy, floors,
                                        plan->nparts, policy, &cause);
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

/* The configured analyst called name, or NULL (ZAP admits only configured
 * keys, so NULL is not expected). */
static const gw_peer_t *analyst_of(gw_t *self, const char *name)
{
    for (size_t i = 0; i < self->cfg->nanalysts; i++)
        if (strcmp(self->cfg->analysts[i].name, name) == 0)
            return &self->cfg->analysts[i];
    return NULL;
}

/* The CURVE public key the analyst called name connected with, as Z85
 * ("" if unknown). */
static void analyst_key(gw_t *self, const char *name, char out[41])
{
    const gw_peer_t *a = analyst_of(self, name);
    out[0] = '\0';
    if (a)
        zmq_z85_encode(out, a->key, 32);
}

/* Today's date, UTC, as YYYY-MM-DD: projects start and expire on days. */
static void today_utc(char out[GW_PROJECT_DATE_LEN + 1])
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(out, GW_PROJECT_DATE_LEN + 1, "%04u-%02u-%02u",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u);
}

/* The distinct datasets p's parts ask, as "node.dataset", in plan order,
 * into a new array (*n entries; free each and the array). */
static char **plan_datasets(gw_t *self, const gw_plan_t *plan, size_t *n)
{
    char **out = hearth_calloc(plan->nparts ? plan->nparts : 1, sizeof *out);
    *n = 0;
    for (size_t i = 0; i < plan->nparts; i++) {
        char *name = hearth_asprintf("%s.%s", self->nodes[plan->parts[i].node].name,
                                     plan->parts[i].sub->dataset);
        bool seen = false;
        for (size_t j = 0; j < *n && !seen; j++)
            seen = strcmp(out[j], name) == 0;
        if (seen)
            free(name);
        else
            out[(*n)++] = name;
    }
    return out;
}

static void free_strings(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Loads the project the query names and checks that this analyst may ask
 * this plan's datasets under it today: the gateway's check, which the
 * nodes repeat for their own datasets. NULL and *out set, or the refusal. */
static Hearth__QueryResult *authorise(gw_t *self, const gw_plan_t *plan, const char *analyst,
                                      const char *key, const char *project,
                                      const char *query_id, gw_project_t **out)
{
    *out = NULL;
    if (*project == '\0')
        return gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                 "every question is asked under a project: name one with "
                                 "--project, or project = in the client config", false);
    char *cause = NULL;
    Hearth__QueryResult *r = NULL;
    hearth_err_t rc = gw_project_get(self->store, project, out, &cause);
    if (rc == HEARTH_OK) {
        size_t n = 0;
        char **datasets = plan_datasets(self, plan, &n);
        char today[GW_PROJECT_DATE_LEN + 1];
        today_utc(today);
        rc = gw_project_authorise(*out, analyst, key, (const char *const *)datasets, n, today,
                                  &cause);
        free_strings(datasets, n);
    }
    if (rc != HEARTH_OK) {
        r = gw_result_refusal(query_id, rc == HEARTH_ERR_DB || rc == HEARTH_ERR_INTERNAL
                                            ? HEARTH__QUERY_STATUS__STATUS_ERROR
                                            : HEARTH__QUERY_STATUS__STATUS_REFUSED,
                              cause ? cause : hearth_strerror(rc), false);
        gw_project_free(out);
    }
    free(cause);
    return r;
}

/* The rules a query was accepted under, as one line for the audit log. */
static char *policy_text(const gw_policy_t *pol)
{
    char dom[GW_POLICY_DOMINANCE_TEXT_MAX];
    gw_policy_describe_dominance(pol, dom);
    return hearth_asprintf("threshold %u, rounding %u, zeros %s, protection %u, dominance %s%s%s",
                           pol->sdc.threshold, pol->sdc.rounding,
                           pol->sdc.zeros_disclosive ? "disclosive" : "released",
                           pol->sdc.protection, *dom ? dom : "off",
                           *pol->dp_epsilon ? ", dp epsilon " : "", pol->dp_epsilon);
}

static const char *kind_name(Hearth__SubQueryKind kind)
{
    switch (kind) {
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT: return "cohort";
    case HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET: return "target";
    default: return "aggregate";
    }
}

/* The DISPATCHED event for part k of p (strings borrowed from p and plan;
 * dataset_buf holds "node.dataset"). */
static audit_event_t dispatched_event(gw_t *self, const gw_pending_t *p, size_t k,
                                      char *dataset_buf, size_t cap)
{
    const gw_plan_part_t *part = &p->plan->parts[k];
    snprintf(dataset_buf, cap, "%s.%s", self->nodes[part->node].name, part->sub->dataset);
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AUDIT_DISPATCHED;
    ev.time_ms = p->dispatched_ms;
    ev.query_id = (char *)p->query_id;
    ev.project = (char *)p->project;
    ev.node = (char *)self->nodes[part->node].name;
    ev.dataset = dataset_buf;
    ev.kind = (char *)kind_name(part->kind);
    ev.part = part->sub->part;
    ev.nparts = part->sub->nparts;
    return ev;
}


/* Logs an accepted query's decision and its dispatches in this turn's
 * batch; its parts are sent once the batch commits (flush). */
static void accept_query(gw_t *self, gw_pending_t *p, const char *project_id)
{
    size_t n = 0;
    char **datasets = plan_datasets(self, p->plan, &n);
    /* At most a few hundred parts of short names: far inside the bound. */
    hearth_buf_t list;
    hearth_buf_init(&list, AUDIT_TEXT_MAX);
    for (size_t i = 0; i < n; i++)
        (void)hearth_buf_printf(&list, "%s%s", i ? "," : "", datasets[i]);
    char *dataset_list = hearth_buf_take(&list);
    free_strings(datasets, n);
    char *policy = policy_text(&p->policy);
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AUDIT_ACCEPTED;
    ev.time_ms = gw_journal_now_ms();
    ev.query_id = p->query_id;
    ev.project = (char *)project_id;
    ev.text = policy;
    ev.dataset = dataset_list;
    gw_audit_index_t ix = pending_index(p);
    record(self, &ev, &ix, NULL);
    free(policy);
    free(dataset_list);
    p->dispatched_ms = gw_journal_now_ms();
    for (size_t k = 0; k < p->plan->nparts; k++) {
        char dataset[2 * GW_NAME_MAX + 2];
        audit_event_t d = dispatched_event(self, p, k, dataset, sizeof dataset);
        if (!test_hook("dispatch-unlogged"))
            record(self, &d, &ix, &p->parts[k].leaf);
    }
    p->awaiting_commit = true;
}

static void on_query(gw_t *self, const proto_peer_t *client, const char *analyst,
                     const Hearth__QueryRequest *req)
{
    uint64_t started = hearth_now_ms();
    char query_id[QUERY_ID_LEN + 1];
    new_query_id(query_id);
    const char *sql = req->sql ? req->sql : "";
    /* No project's id is longer than GW_PROJECT_ID_MAX: a longer name is
     * refused below, and logged as such rather than stored at length. */
    const char *project = req->project ? req->project : "";
    if (strlen(project) > GW_PROJECT_ID_MAX)
        project = "(a project name too long to be one)";
    char key[41];
    analyst_key(self, analyst, key);
    /* Received: logged first, whatever follows. */
    gw_audit_index_t ix = {.qtime_ms = gw_journal_now_ms(), .project = project,
                           .analyst = analyst, .query_id = query_id};
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AUDIT_RECEIVED;
    ev.time_ms = ix.qtime_ms;
    ev.query_id = query_id;
    ev.analyst = (char *)analyst;
    ev.analyst_key = key;
    ev.project = (char *)project;
    ev.text = (char *)sql;
    record(self, &ev, &ix, NULL);
    if (!gw_rate_allows(self->rate, analyst, started)) {
        char reason[160];
        snprintf(reason, sizeof reason, "this analyst has already asked %u questions in the "
                 "last hour, the most this gateway answers; try again later",
                 self->cfg->max_queries_per_hour);
        finish_result(self, client, analyst,
                      gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED, reason,
                                        false), started, &ix, false);
        return;
    }
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
    gw_project_t *proj = NULL;
    if (r == NULL)
        r = authorise(self, plan, analyst, key, project, query_id, &proj);
    gw_policy_t policy;
    memset(&policy, 0, sizeof policy);
    char family[65] = "";
    char **conjuncts = NULL;
    size_t nconjuncts = 0;
    if (r == NULL)
        r = query_rules(self, plan, q, proj, query_id, &policy, family, &conjuncts,
                        &nconjuncts);
    gw_project_free(&proj);
    gw_query_destroy(&q);
    for (size_t i = 0; r == NULL && i < plan->nparts; i++) {
        /* A node that is not there now would fail the query after the
         * others had worked for nothing. */
        const gw_node_t *node = &self->nodes[plan->parts[i].node];
        if (!node->connected || node->hello == NULL) {
            char reason[256];
            snprintf(reason, sizeof reason, "node '%s' is not connected to the gateway; "
                     "nothing was asked", node->name);
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR, reason, false);
            gw_result_add_node(r, node->name, "error", 0);
        }
    }
    gw_pending_t *p = NULL;
    size_t linking = 0;
    for (size_t i = 0; r == NULL && i < GW_MAX_PENDING; i++) {
        if (!self->pending[i].used && !p)
            p = &self->pending[i];
        linking += self->pending[i].used && self->pending[i].link != NULL;
    }
    if (r == NULL && (p == NULL || (plan->linked && linking >= GW_MAX_LINKING)))
        r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                              "the gateway is busy; try again shortly", false);
    if (r) {
        gw_plan_destroy(&plan);
        gw_diff_conjuncts_free(&conjuncts, nconjuncts);
        finish_result(self, client, analyst, r, started, &ix, false);
        return;
    }
    p->used = true;
    memcpy(p->query_id, query_id, sizeof query_id);
    p->client = *client;
    snprintf(p->analyst, sizeof p->analyst, "%s", analyst);
    snprintf(p->project, sizeof p->project, "%s", project);
    p->received_ms = ix.qtime_ms;
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
    accept_query(self, p, project);
    /* Counted once accepted: a query with a typo, refused before anything
     * was asked, does not use up the analyst's hour. */
    gw_rate_record(self->rate, analyst, started);
}

/* Sends part k of p, committed to the log as leaf p->parts[k].leaf, with
 * its proof against the checkpoint `note` of `size` leaves. */
static hearth_err_t send_part(gw_t *self, gw_pending_t *p, size_t k, const char *note,
                              uint64_t size, char **cause)
{
    gw_plan_part_t *part = &p->plan->parts[k];
    gw_node_t *node = &self->nodes[part->node];
    Hearth__AuditProof proof = HEARTH__AUDIT_PROOF__INIT;
    uint8_t incl[TLOG_MAX_PROOF][TLOG_HASH_LEN], cons[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    ProtobufCBinaryData incl_b[TLOG_MAX_PROOF], cons_b[TLOG_MAX_PROOF];
    size_t nincl = 0, ncons = 0;
    uint8_t *leaf = NULL;
    size_t leaf_len = 0;
    hearth_err_t rc = HEARTH_OK;
    bool unlogged = test_hook("dispatch-unlogged");
    if (!unlogged) {
        char dataset[2 * GW_NAME_MAX + 2];
        audit_event_t ev = dispatched_event(self, p, k, dataset, sizeof dataset);
        /* The encoding is canonical: encoding the event again gives the
         * bytes that were logged. */
        rc = audit_event_encode(&ev, &leaf, &leaf_len, cause);
        if (rc == HEARTH_OK)
            rc = gw_audit_inclusion(self->audit, p->parts[k].leaf, size, incl, &nincl, cause);
        /* A node that has seen a larger checkpoint than this log has (a
         * restored database?) gets no proof and refuses, as it should. */
        uint64_t from = node->audit_size;
        if (rc == HEARTH_OK && from > 0 && from < size)
            rc = gw_audit_consistency(self->audit, from, size, cons, &ncons, cause);
        for (size_t i = 0; i < nincl; i++)
            incl_b[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, incl[i]};
        for (size_t i = 0; i < ncons; i++)
            cons_b[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, cons[i]};
        proof.leaf_index = p->parts[k].leaf;
        proof.leaf = (ProtobufCBinaryData){leaf_len, leaf};
        proof.checkpoint = (char *)note;
        proof.inclusion = incl_b;
        proof.n_inclusion = nincl;
        proof.consistency_from = from;
        proof.consistency = cons_b;
        proof.n_consistency = ncons;
    }
    if (rc == HEARTH_OK) {
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
        env.sub_query = part->sub;
        part->sub->project = p->project;
        part->sub->audit = unlogged ? NULL : &proof;
        rc = proto_send(self->nodes_sock, &node->peer, &env, 1, cause);
        part->sub->project = NULL;
        part->sub->audit = NULL;
        /* Later dispatches to this node in the batch carry the same
         * checkpoint, which it now holds. */
        if (rc == HEARTH_OK && !unlogged && node->audit_size < size)
            node->audit_size = size;
    }
    free(leaf);
    return rc;
}

/* Sends the parts of every query the committed batch accepted. A part that
 * cannot be sent (its node went away) fails its query, whose error is
 * logged in the next batch. */
static void send_committed(gw_t *self, const char *note, uint64_t size)
{
    for (size_t i = 0; i < GW_MAX_PENDING; i++) {
        gw_pending_t *p = &self->pending[i];
        if (!p->used || !p->awaiting_commit)
            continue;
        p->awaiting_commit = false;
        for (size_t k = 0; k < p->plan->nparts && p->used; k++) {
            char *cause = NULL;
            gw_node_t *node = &self->nodes[p->plan->parts[k].node];
            if (send_part(self, p, k, note, size, &cause) != HEARTH_OK) {
                /* ROUTER_MANDATORY: an unreachable node fails the send at
                 * once rather than after the timeout. */
                node->connected = false;
                hearth_log(HEARTH_LOG_WARN, LOG, "could not send part %zu of query %s to "
                           "node %s: %s", k, p->query_id, node->name, cause);
                part_fault(p, k, "could not be reached");
                /* Its other parts are never sent: all end now. */
                for (size_t j = k; j < p->plan->nparts; j++)
                    if (!p->parts[j].done) {
                        p->parts[j].done = true;
                        p->ndone++;
                    }
                complete(self, p, false);
            }
            free(cause);
        }
    }
}

/* Answers a query whose record could not be committed, without logging
 * (the log holds nothing of it, or only what an earlier batch holds). */
static void answer_unlogged(gw_t *self, const proto_peer_t *client, const char *query_id,
                            const char *reason)
{
    Hearth__QueryResult *r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                               reason, false);
    reply(self, client, r);
    gw_result_free(&r);
}

/* Ends the turn: commits its audit batch, then does what the batch
 * describes (sends sub-queries, replies), in that order only. Sending can
 * end queries (an unreachable node), whose outcome then needs one more
 * batch, committed in the next round. */
static void flush(gw_t *self)
{
    for (int round = 0; round < 4 && (gw_journal_open(self->journal) || self->nreplies); round++) {
        char *note = NULL, *cause = NULL;
        uint64_t size = 0;
        hearth_err_t rc = gw_journal_commit(self->journal, &note, &size, &cause);
        if (rc != HEARTH_OK)
            hearth_log(HEARTH_LOG_ERROR, LOG, "could not commit the audit log: %s; nothing "
                       "it held was sent", cause);
        free(cause);
        if (rc == HEARTH_OK && test_hook("crash-after-commit"))
            for (size_t i = 0; i < GW_MAX_PENDING; i++)
                if (self->pending[i].used && self->pending[i].awaiting_commit)
                    raise(SIGKILL);   /* as kill -9 between commit and dispatch */
        /* Replies first: sending may add more of them. */
        size_t nreplies = self->nreplies;
        gw_deferred_t *replies = self->replies;
        self->replies = NULL;
        self->nreplies = self->replies_cap = 0;
        if (rc == HEARTH_OK) {
            send_committed(self, note, size);
        } else {
            for (size_t i = 0; i < GW_MAX_PENDING; i++) {
                gw_pending_t *p = &self->pending[i];
                if (p->used && p->awaiting_commit) {
                    answer_unlogged(self, &p->client, p->query_id,
                                    "the gateway could not record this query in its audit "
                                    "log; nothing was asked");
                    release_pending(p);
                }
            }
        }
        for (size_t i = 0; i < nreplies; i++) {
            gw_deferred_t *d = &replies[i];
            if (rc == HEARTH_OK)
                reply(self, &d->client, d->result);
            else
                answer_unlogged(self, &d->client, d->result->query_id,
                                "the gateway could not record this query's outcome in its "
                                "audit log; nothing was released");
            gw_result_free(&d->result);
        }
        free(replies);
        free(note);
    }
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

/* Whether the analyst called name holds role (GW_ROLE_*). */
static bool has_role(gw_t *self, const char *name, unsigned role)
{
    const gw_peer_t *a = analyst_of(self, name);
    return a && (a->roles & role) != 0;
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
    /* What each role may ask: analysts query, auditors (IG officers) read
     * the audit log, both may read the catalogue, everyone the status. */
    bool analyst = has_role(self, user, GW_ROLE_ANALYST);
    bool auditor = has_role(self, user, GW_ROLE_AUDITOR);
    switch (env->body_case) {
    case HEARTH__ENVELOPE__BODY_QUERY:
        if (analyst)
            on_query(self, &client, user, env->query);
        else
            gw_audit_rpc_error(self->analysts_sock, &client, "this key does not hold the analyst role");
        break;
    case HEARTH__ENVELOPE__BODY_STATUS_REQUEST:
        on_status(self, &client);
        break;
    case HEARTH__ENVELOPE__BODY_CATALOGUE_REQUEST:
        if (analyst || auditor)
            on_catalogue(self, &client);
        else
            gw_audit_rpc_error(self->analysts_sock, &client, "this key holds neither the analyst nor the auditor role");
        break;
    case HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REQUEST:
    case HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REQUEST:
    case HEARTH__ENVELOPE__BODY_AUDIT_CONSISTENCY_REQUEST:
        if (!auditor) {
            gw_audit_rpc_error(self->analysts_sock, &client, "this key does not hold the auditor role");
            break;
        }
        /* An auditor reads only what is committed: end the turn's batch
         * first. */
        flush(self);
        if (env->body_case == HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REQUEST)
            gw_audit_rpc_leaves(self->analysts_sock, &client, self->audit, env->audit_leaves_request);
        else if (env->body_case == HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REQUEST)
            gw_audit_rpc_checkpoints(self->analysts_sock, &client, self->audit, env->audit_checkpoints_request);
        else
            gw_audit_rpc_consistency(self->analysts_sock, &client, self->audit, env->audit_consistency_request);
        break;
    default:
        hearth_log(HEARTH_LOG_WARN, LOG, "ignored an unexpected message from analyst %s", user);
    }
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
        node->audit_size = env->hello->audit_size;
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

/* Whether sock has a message waiting. */
static bool has_input(void *sock)
{
    int events = 0;
    size_t len = sizeof events;
    return zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) == 0 && (events & ZMQ_POLLIN);
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
    self->rate = gw_rate_new(cfg);
    self->rng = gw_dp_rng_new();
    char pub[41], sec[41];
    hearth_err_t rc = keys_curve_load_secret(cfg->curve_key, pub, sec, cause);
    if (rc != HEARTH_OK)
        goto done;
    /* The record of releases and DP budgets must be there before any
     * query is answered: without it no differencing check can run. */
    if ((rc = gw_store_open(cfg->database, &self->store, cause)) != HEARTH_OK)
        goto done;
    /* No query is taken without the audit log and its signing key. */
    if ((rc = keys_signer_load(cfg->audit_key, &self->signer, cause)) != HEARTH_OK ||
        (rc = gw_project_init(self->store, cause)) != HEARTH_OK ||
        (rc = gw_audit_open(self->store, self->signer, &self->audit, cause)) != HEARTH_OK)
        goto done;
    self->journal = gw_journal_new(self->store, self->audit);
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
        /* One turn: what is waiting now (bounded), then one audit batch
         * committed for all of it (group commit), then the sends. */
        for (int i = 0; n > 0 && i < GW_TURN_MESSAGES && has_input(self->nodes_sock); i++)
            on_node_message(self);
        for (int i = 0; n > 0 && i < GW_TURN_MESSAGES && has_input(self->analysts_sock); i++)
            on_analyst_message(self);
        expire(self);
        flush(self);
    }
    flush(self);
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
    for (size_t i = 0; i < self->nreplies; i++)
        gw_result_free(&self->replies[i].result);
    free(self->replies);
    gw_journal_destroy(&self->journal);
    gw_audit_destroy(&self->audit);
    keys_signer_destroy(&self->signer);
    gw_store_destroy(&self->store);
    gw_dp_rng_destroy(&self->rng);
    gw_rate_destroy(&self->rate);
    free(self->nodes);
    free(self);
    return rc;
}
