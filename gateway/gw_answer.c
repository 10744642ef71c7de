#include "gw_serve_int.h"
#include "audit_event.h"
#include "audit_receipt.h"
#include "gw_audit.h"
#include "gw_diff.h"
#include "gw_dp.h"
#include "gw_journal.h"
#include "gw_link.h"
#include "gw_parse.h"
#include "gw_plan.h"
#include "gw_policy.h"
#include "gw_project.h"
#include "gw_rate.h"
#include "gw_result.h"
#include "gw_store.h"
#include "hearth_buf.h"
#include "hearth_log.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "proto_codec.h"
#include "proto_wire.h"

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_answer_reply(gw_t *self, const proto_peer_t *client, Hearth__QueryResult *r)
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

/* Appends ev to this turn's audit batch. A failure fails the whole batch
 * (gw_journal), and flush then answers everyone it concerned with an
 * error instead of acting on it. */
void gw_answer_record(gw_t *self, const audit_event_t *ev, const gw_audit_index_t *ix,
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
void gw_answer_finish(gw_t *self, const proto_peer_t *client, const char *analyst,
                          Hearth__QueryResult *r, uint64_t started, const gw_audit_index_t *ix,
                          bool timed_out)
{
    hearth_log(HEARTH_LOG_INFO, LOG, "query %s from analyst %s: %s (%zu cells, %u suppressed) "
               "in %llu ms", r->query_id, analyst, status_name(r->status), r->n_rows,
               r->disclosure ? r->disclosure->suppressed_cells : 0,
               (unsigned long long)(hearth_now_ms() - started));
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.time_ms = hearth_wall_ms();
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
    gw_answer_record(self, &ev, ix, NULL);
    free(text);
    defer_reply(self, client, analyst, r, started);
}

void gw_answer_release(gw_pending_t *p)
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

void gw_answer_part_fault(gw_pending_t *p, size_t k, const char *fault)
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

/* The index columns of p's audit leaves. */
gw_audit_index_t gw_answer_index(const gw_pending_t *p)
{
    return (gw_audit_index_t){.qtime_ms = p->received_ms, .project = p->project,
                              .analyst = p->analyst, .query_id = p->query_id};
}

/* Every part has ended (or the deadline passed): combine and reply. */
void gw_answer_complete(gw_t *self, gw_pending_t *p, bool timed_out)
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
    gw_audit_index_t ix = gw_answer_index(p);
    gw_answer_finish(self, &p->client, p->analyst, r, p->started, &ix, timed_out && failed);
    gw_answer_release(p);
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
    ev.time_ms = hearth_wall_ms();
    ev.query_id = p->query_id;
    ev.node = (char *)self->nodes[node].name;
    ev.part = rc.part;
    ev.leaf = rc.leaf;
    ev.outcome = rc.answered ? "answered" : "refused";
    ev.text = (char *)note;
    gw_audit_index_t ix = gw_answer_index(p);
    if (!gw_serve_test_hook("drop-receipts"))
        gw_answer_record(self, &ev, &ix, NULL);
    return NULL;
}

/* One SubResult for part k of p (takes env). Chunks must come 0, 1, 2, ...;
 * a part ends with its message whose `more` is false, or with a refusal. */
void gw_answer_part(gw_t *self, gw_pending_t *p, size_t k, Hearth__Envelope *env)
{
    gw_part_state_t *st = &p->parts[k];
    const gw_plan_part_t *part = &p->plan->parts[k];
    const Hearth__SubResult *sr = env->sub_result;
    st->ms = (uint32_t)(hearth_now_ms() - p->started);
    if (st->done) {
        /* A message after a part's last one: a repeat, never to be added
         * twice. */
        if (!p->failed)
            gw_answer_part_fault(p, k, "answered one part of the query twice");
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
        gw_answer_part_fault(p, k, "sent the chunks of its answer out of order");
    } else if (part->kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE) {
        if (sr->more || sr->chunk != 0) {
            gw_answer_part_fault(p, k, "sent a malformed answer");
        } else {
            st->answer = env;
            env = NULL;
        }
    } else {
        const char *fault = link_chunk(self, p, k, sr);
        if (fault)
            gw_answer_part_fault(p, k, fault);
    }
    if (receipt_fault && !p->failed)
        gw_answer_part_fault(p, k, receipt_fault);
    st->next_chunk++;
    proto_free(&env);
    if (last) {
        st->done = true;
        if (++p->ndone == p->plan->nparts)
            gw_answer_complete(self, p, false);
    }
}

/* Answers a query whose record could not be committed, without logging
 * (the log holds nothing of it, or only what an earlier batch holds). */
void gw_answer_unlogged(gw_t *self, const proto_peer_t *client, const char *query_id,
                            const char *reason)
{
    Hearth__QueryResult *r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR,
                                               reason, false);
    gw_answer_reply(self, client, r);
    gw_result_free(&r);
}
