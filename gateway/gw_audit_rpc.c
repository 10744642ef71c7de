#include "gw_audit_rpc.h"
#include "hearth_log.h"
#include "hearth_mem.h"
#include "proto_codec.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define LOG "gateway"

static void send_envelope(void *sock, const proto_peer_t *client, Hearth__Envelope *env)
{
    char *cause = NULL;
    if (proto_send(sock, client, env, 1, &cause) != HEARTH_OK)
        hearth_log(HEARTH_LOG_WARN, LOG, "could not send an audit reply: %s", cause);
    free(cause);
}

void gw_audit_rpc_error(void *sock, const proto_peer_t *client, const char *message)
{
    Hearth__Error e = HEARTH__ERROR__INIT;
    e.message = (char *)message;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_ERROR;
    env.error = &e;
    send_envelope(sock, client, &env);
}

/* Catches up with what another process (hearth-gateway project ...) has
 * appended; false, with the client told, when the log cannot be read. */
static bool synced(void *sock, const proto_peer_t *client, gw_audit_t *audit)
{
    char *cause = NULL;
    if (gw_audit_sync(audit, &cause) == HEARTH_OK)
        return true;
    hearth_log(HEARTH_LOG_WARN, LOG, "could not read the audit log: %s", cause);
    free(cause);
    gw_audit_rpc_error(sock, client, "the gateway could not read its audit log");
    return false;
}

typedef struct {
    Hearth__AuditLeaf *leaves;
    Hearth__AuditLeaf **ptrs;
    size_t n, cap;
} leaf_page_t;

static int collect_leaf(void *user, uint64_t index, const uint8_t *data, size_t len)
{
    leaf_page_t *pg = user;
    if (pg->n == pg->cap)
        return 1;
    Hearth__AuditLeaf *l = &pg->leaves[pg->n];
    hearth__audit_leaf__init(l);
    l->index = index;
    l->data.data = hearth_malloc(len ? len : 1);
    memcpy(l->data.data, data, len);
    l->data.len = len;
    pg->ptrs[pg->n++] = l;
    return 0;
}

void gw_audit_rpc_leaves(void *sock, const proto_peer_t *client, gw_audit_t *audit,
                         const Hearth__AuditLeavesRequest *req)
{
    if (!synced(sock, client, audit))
        return;
    size_t limit = req->limit && req->limit < GW_AUDIT_RPC_PAGE_LEAVES ? req->limit
                                                                    : GW_AUDIT_RPC_PAGE_LEAVES;
    leaf_page_t pg = {.leaves = hearth_calloc(limit, sizeof *pg.leaves),
                      .ptrs = hearth_calloc(limit, sizeof *pg.ptrs), .cap = limit};
    gw_audit_filter_t f = {.since_ms = req->since_ms, .until_ms = req->until_ms,
                           .project = req->project, .analyst = req->analyst,
                           .query_id = req->query_id};
    uint64_t next = 0;
    char *cause = NULL;
    if (gw_audit_leaves(audit, &f, req->start, limit, GW_AUDIT_RPC_PAGE_BYTES, collect_leaf,
                        &pg, &next, &cause) != HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, LOG, "could not read the audit log: %s", cause);
        gw_audit_rpc_error(sock, client, "the gateway could not read its audit log");
    } else {
        Hearth__AuditLeavesReply rep = HEARTH__AUDIT_LEAVES_REPLY__INIT;
        rep.size = gw_audit_size(audit);
        rep.leaves = pg.ptrs;
        rep.n_leaves = pg.n;
        rep.next = next;
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REPLY;
        env.audit_leaves_reply = &rep;
        send_envelope(sock, client, &env);
    }
    free(cause);
    for (size_t i = 0; i < pg.n; i++)
        free(pg.leaves[i].data.data);
    free(pg.leaves);
    free(pg.ptrs);
}

typedef struct {
    char **notes;
    size_t n, cap;
} note_page_t;

static int collect_note(void *user, uint64_t size, const char *note)
{
    (void)size;
    note_page_t *pg = user;
    if (pg->n == pg->cap)
        return 1;
    pg->notes[pg->n++] = hearth_strdup(note);
    return 0;
}

void gw_audit_rpc_checkpoints(void *sock, const proto_peer_t *client, gw_audit_t *audit,
                              const Hearth__AuditCheckpointsRequest *req)
{
    if (!synced(sock, client, audit))
        return;
    size_t limit = req->limit && req->limit < GW_AUDIT_RPC_PAGE_CHECKPOINTS
                       ? req->limit : GW_AUDIT_RPC_PAGE_CHECKPOINTS;
    note_page_t pg = {.notes = hearth_calloc(limit, sizeof *pg.notes), .cap = limit};
    bool more = false;
    char *cause = NULL;
    if (gw_audit_checkpoints(audit, req->after, limit, collect_note, &pg, &more,
                             &cause) != HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, LOG, "could not read the audit checkpoints: %s", cause);
        gw_audit_rpc_error(sock, client, "the gateway could not read its audit log");
    } else {
        Hearth__AuditCheckpointsReply rep = HEARTH__AUDIT_CHECKPOINTS_REPLY__INIT;
        rep.notes = pg.notes;
        rep.n_notes = pg.n;
        rep.more = more;
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REPLY;
        env.audit_checkpoints_reply = &rep;
        send_envelope(sock, client, &env);
    }
    free(cause);
    for (size_t i = 0; i < pg.n; i++)
        free(pg.notes[i]);
    free(pg.notes);
}

void gw_audit_rpc_consistency(void *sock, const proto_peer_t *client, gw_audit_t *audit,
                              const Hearth__AuditConsistencyRequest *req)
{
    if (!synced(sock, client, audit))
        return;
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    size_t n = 0;
    char *cause = NULL;
    if (req->from > req->to || req->to > gw_audit_size(audit)) {
        gw_audit_rpc_error(sock, client, "no such pair of audit log sizes");
    } else if (gw_audit_consistency(audit, req->from, req->to, proof, &n, &cause) !=
               HEARTH_OK) {
        hearth_log(HEARTH_LOG_WARN, LOG, "could not prove the audit log consistent: %s", cause);
        gw_audit_rpc_error(sock, client, "the gateway could not read its audit log");
    } else {
        ProtobufCBinaryData b[TLOG_MAX_PROOF];
        for (size_t i = 0; i < n; i++)
            b[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, proof[i]};
        Hearth__AuditConsistencyReply rep = HEARTH__AUDIT_CONSISTENCY_REPLY__INIT;
        rep.proof = b;
        rep.n_proof = n;
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_AUDIT_CONSISTENCY_REPLY;
        env.audit_consistency_reply = &rep;
        send_envelope(sock, client, &env);
    }
    free(cause);
}
