/* gw_audit_rpc — the gateway's answers to an auditor's requests: pages of
 * the audit log's leaves (byte for byte), its signed checkpoints and
 * consistency proofs, so that `hearth audit verify` can check the log in
 * the client rather than take the gateway's word. Role checks are the
 * caller's (gw_serve: the auditor role only), and so is ending the turn's
 * audit batch first, so that only committed leaves are read. */
#ifndef GW_AUDIT_RPC_H
#define GW_AUDIT_RPC_H

#include "gw_audit.h"
#include "hearth.pb-c.h"
#include "proto_wire.h"

/* Leaves and checkpoints one reply carries at most (the client pages
 * through the rest), and the leaf bytes: well inside what a client reads. */
#define GW_AUDIT_RPC_PAGE_LEAVES 10000
#define GW_AUDIT_RPC_PAGE_BYTES ((size_t)8 << 20)
#define GW_AUDIT_RPC_PAGE_CHECKPOINTS 1000

/* Each answers req on sock (a ROUTER) to client; failures are logged and
 * answered with an Error message that names no internals. */
void gw_audit_rpc_leaves(void *sock, const proto_peer_t *client, gw_audit_t *audit,
                         const Hearth__AuditLeavesRequest *req);
void gw_audit_rpc_checkpoints(void *sock, const proto_peer_t *client, gw_audit_t *audit,
                              const Hearth__AuditCheckpointsRequest *req);
void gw_audit_rpc_consistency(void *sock, const proto_peer_t *client, gw_audit_t *audit,
                              const Hearth__AuditConsistencyRequest *req);

/* Sends an Error message (message borrowed) to client. */
void gw_audit_rpc_error(void *sock, const proto_peer_t *client, const char *message);

#endif
