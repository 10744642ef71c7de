#include "gw_serve.h"
#include "gw_serve_int.h"
#include "gw_audit_rpc.h"
#include "gw_project.h"
#include "hearth_file.h"
#include "hearth_log.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"
#include "proto_codec.h"

#include <errno.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

/* Every part has ended (or the deadline passed): combine and reply. */

/* One SubResult for part k of p (takes env). Chunks must come 0, 1, 2, ...;
 * a part ends with its message whose `more` is false, or with a refusal. */

/* The rules for a planned query (its project's, raised to the floors of
 * the nodes it touches) into *policy, and its differencing fingerprint
 * into family and *conjuncts (caller frees with gw_diff_conjuncts_free).
 * Returns NULL, or the refusal or error to answer with. */

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
        if (rc == HEARTH_OK && gw_serve_test_hook("crash-after-commit"))
            for (size_t i = 0; i < GW_MAX_PENDING; i++)
                if (self->pending[i].used && self->pending[i].awaiting_commit)
                    raise(SIGKILL);   /* as kill -9 between commit and dispatch */
        /* Replies first: sending may add more of them. */
        size_t nreplies = self->nreplies;
        gw_deferred_t *replies = self->replies;
        self->replies = NULL;
        self->nreplies = self->replies_cap = 0;
        if (rc == HEARTH_OK) {
            gw_admit_send(self, note, size);
        } else {
            for (size_t i = 0; i < GW_MAX_PENDING; i++) {
                gw_pending_t *p = &self->pending[i];
                if (p->used && p->awaiting_commit) {
                    gw_answer_unlogged(self, &p->client, p->query_id,
                                    "the gateway could not record this query in its audit "
                                    "log; nothing was asked");
                    gw_answer_release(p);
                }
            }
        }
        for (size_t i = 0; i < nreplies; i++) {
            gw_deferred_t *d = &replies[i];
            if (rc == HEARTH_OK)
                gw_answer_reply(self, &d->client, d->result);
            else
                gw_answer_unlogged(self, &d->client, d->result->query_id,
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
    const gw_peer_t *a = gw_admit_analyst(self, name);
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
            gw_answer_reply(self, &client, r);
            gw_result_free(&r);
            free(reason);
        }
        free(cause);
        return;
    }
    /* What each role may ask: analysts query (a query from any other key
     * is refused and audited there), auditors (IG officers) read the audit
     * log, both may read the catalogue, everyone the status. */
    bool analyst = has_role(self, user, GW_ROLE_ANALYST);
    bool auditor = has_role(self, user, GW_ROLE_AUDITOR);
    switch (env->body_case) {
    case HEARTH__ENVELOPE__BODY_QUERY:
        gw_admit_query(self, &client, user, env->query);
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
                gw_answer_part(self, p, k, env);
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
            gw_answer_complete(self, &self->pending[i], true);
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
            gw_answer_release(&self->pending[i]);
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
