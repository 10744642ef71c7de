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
#include "hearth_hex.h"

#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

static void new_query_id(char out[QUERY_ID_LEN + 1])
{
    uint8_t raw[QUERY_ID_LEN / 2];
    if (RAND_bytes(raw, sizeof raw) != 1)
        abort(); /* no randomness: nothing safe can follow */
    hearth_hex_encode(raw, sizeof raw, out);
}

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
const gw_peer_t *gw_admit_analyst(gw_t *self, const char *name)
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
    const gw_peer_t *a = gw_admit_analyst(self, name);
    out[0] = '\0';
    if (a)
        zmq_z85_encode(out, a->key, 32);
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
 * about datasets[0..n) ("node.dataset") under it today: the gateway's
 * check, which the nodes repeat for their own datasets. NULL and *out
 * set, or the refusal. */
static Hearth__QueryResult *authorise(gw_t *self, char *const *datasets, size_t n,
                                      const char *analyst, const char *key, const char *project,
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
        char today[GW_PROJECT_DATE_LEN + 1];
        gw_project_date((int64_t)time(NULL), today);
        rc = gw_project_authorise(*out, analyst, key, (const char *const *)datasets, n, today,
                                  &cause);
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
    ev.kind = (char *)proto_kind_name(part->kind);
    ev.part = part->sub->part;
    ev.nparts = part->sub->nparts;
    return ev;
}

/* Logs an accepted query's decision (its datasets[0..n) among it) and its
 * dispatches in this turn's batch; its parts are sent once the batch
 * commits (flush). */
static void accept_query(gw_t *self, gw_pending_t *p, const char *project_id,
                         char *const *datasets, size_t n)
{
    /* At most a few hundred parts of short names: far inside the bound. */
    hearth_buf_t list;
    hearth_buf_init(&list, AUDIT_TEXT_MAX);
    for (size_t i = 0; i < n; i++)
        (void)hearth_buf_printf(&list, "%s%s", i ? "," : "", datasets[i]);
    char *dataset_list = hearth_buf_take(&list);
    char *policy = policy_text(&p->policy);
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = AUDIT_ACCEPTED;
    ev.time_ms = hearth_wall_ms();
    ev.query_id = p->query_id;
    ev.project = (char *)project_id;
    ev.text = policy;
    ev.dataset = dataset_list;
    gw_audit_index_t ix = gw_answer_index(p);
    gw_answer_record(self, &ev, &ix, NULL);
    free(policy);
    free(dataset_list);
    p->dispatched_ms = hearth_wall_ms();
    for (size_t k = 0; k < p->plan->nparts; k++) {
        char dataset[2 * GW_NAME_MAX + 2];
        audit_event_t d = dispatched_event(self, p, k, dataset, sizeof dataset);
        if (!gw_serve_test_hook("dispatch-unlogged"))
            gw_answer_record(self, &d, &ix, &p->parts[k].leaf);
    }
    p->awaiting_commit = true;
}

void gw_admit_query(gw_t *self, const proto_peer_t *client, const char *analyst,
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
    gw_audit_index_t ix = {.qtime_ms = hearth_wall_ms(), .project = project,
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
    gw_answer_record(self, &ev, &ix, NULL);
    const gw_peer_t *who = gw_admit_analyst(self, analyst);
    const char *refusal = NULL;
    char reason[160];
    if (who == NULL || !(who->roles & GW_ROLE_ANALYST)) {
        /* An IG officer's or administrator's key asks no questions of the
         * data: refused, and on the record like any other refusal. */
        refusal = "this key does not hold the analyst role; questions are asked by analysts";
    } else if (!gw_rate_allows(self->rate, analyst, started)) {
        snprintf(reason, sizeof reason, "this analyst has already asked %u questions in the "
                 "last hour, the most this gateway answers; try again later",
                 self->cfg->max_queries_per_hour);
        refusal = reason;
    }
    if (refusal) {
        gw_answer_finish(self, client, analyst,
                         gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_REFUSED,
                                           refusal, false), started, &ix, false);
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
    size_t ndatasets = 0;
    char **datasets = r == NULL ? plan_datasets(self, plan, &ndatasets) : NULL;
    if (r == NULL)
        r = authorise(self, datasets, ndatasets, analyst, key, project, query_id, &proj);
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
            char absent[256];
            snprintf(absent, sizeof absent, "node '%s' is not connected to the gateway; "
                     "nothing was asked", node->name);
            r = gw_result_refusal(query_id, HEARTH__QUERY_STATUS__STATUS_ERROR, absent, false);
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
        free_strings(datasets, ndatasets);
        gw_plan_destroy(&plan);
        gw_diff_conjuncts_free(&conjuncts, nconjuncts);
        gw_answer_finish(self, client, analyst, r, started, &ix, false);
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
    accept_query(self, p, project, datasets, ndatasets);
    free_strings(datasets, ndatasets);
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
    bool unlogged = gw_serve_test_hook("dispatch-unlogged");
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
void gw_admit_send(gw_t *self, const char *note, uint64_t size)
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
                gw_answer_part_fault(p, k, "could not be reached");
                /* Its other parts are never sent: all end now. */
                for (size_t j = k; j < p->plan->nparts; j++)
                    if (!p->parts[j].done) {
                        p->parts[j].done = true;
                        p->ndone++;
                    }
                gw_answer_complete(self, p, false);
            }
            free(cause);
        }
    }
}
