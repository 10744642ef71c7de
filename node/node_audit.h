/* node_audit — the node's side of the tamper-evident audit log: before it
 * answers anything, a node checks that the gateway logged and committed
 * the dispatch it is asked to answer, and that the log it was shown is an
 * extension of every log it was shown before; after, it signs a receipt.
 *
 * Every SubQuery carries an AuditProof (proto/hearth.proto): the index and
 * bytes of its DISPATCHED leaf (audit/audit_event.h), a checkpoint signed
 * with the gateway's audit key (audit/tlog_checkpoint.h) covering it, an
 * RFC 6962 inclusion proof of the leaf in that checkpoint, and a
 * consistency proof from the last checkpoint this node verified. The node
 * pins the gateway's verifier key ([gateway] audit_key) and keeps that
 * last checkpoint in its ledger (node_ledger.h), so a gateway cannot show
 * it one history today and another tomorrow, nor send it a question its
 * log does not hold (the log then proves what every node was asked).
 *
 * A receipt (audit/audit_receipt.h) is the node's signed statement, with
 * its own Ed25519 key ([node] signing_key), that it verified a dispatch
 * and answered it or refused it; the gateway appends it to its log and
 * the node keeps it in its ledger, so the two can be reconciled. */
#ifndef NODE_AUDIT_H
#define NODE_AUDIT_H

#include "hearth.pb-c.h"
#include "hearth_err.h"
#include "keys_sign.h"
#include "node_ledger.h"
#include "tlog_merkle.h"
#include "tlog_note.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct node_audit_t node_audit_t;

/* What a verified dispatch established, for its receipt. */
typedef struct {
    uint64_t leaf;                   /* index of the DISPATCHED leaf */
    uint64_t size;                   /* size of the checkpoint verified */
    uint8_t root[TLOG_HASH_LEN];     /* its root */
} node_audit_verified_t;

/* A new checker for node `node` (a valid node name) that pins the
 * gateway's verifier key (copied) and keeps its last checkpoint in ledger
 * (borrowed: it must outlive the checker), whose stored checkpoint it
 * reads now. *out is freed with node_audit_destroy. HEARTH_ERR_USAGE for
 * an invalid node name; HEARTH_ERR_DB when the ledger cannot be read. */
hearth_err_t node_audit_new(const tlog_verifier_t *gateway, const char *node,
                            node_ledger_t *ledger, node_audit_t **out, char **cause)
    __attribute__((warn_unused_result));

/* NULL-safe; nulls *self_p. */
void node_audit_destroy(node_audit_t **self_p);

/* The size of the last checkpoint this node verified (0: none), which it
 * announces in its Hello. */
uint64_t node_audit_size(const node_audit_t *self);

/* Checks q's audit proof, in this order: present; the checkpoint is signed
 * by the pinned key, whose name is its origin; leaf_index < its size; the
 * inclusion proof shows SHA-256(0x00 || leaf) at leaf_index; the leaf
 * decodes as a DISPATCHED event whose query id, node (this node), dataset
 * ("<node>.<q->dataset>"), kind, part, nparts and project are q's; the
 * checkpoint is no smaller than the stored one, consistency_from is the
 * stored size, and the consistency proof shows the checkpoint extends the
 * stored one (empty from size 0; an equal size needs an equal root).
 *
 * On success fills *v and stores the checkpoint (size, root, signed note)
 * in the ledger as the last one when it is larger, before returning
 * HEARTH_OK. Otherwise stores nothing and returns HEARTH_ERR_REFUSED with
 * *cause saying which check failed (never a value from the leaf), or
 * HEARTH_ERR_DB (the ledger's words in *cause) when the checkpoint cannot
 * be stored; q is borrowed. */
hearth_err_t node_audit_check(node_audit_t *self, const Hearth__SubQuery *q,
                              node_audit_verified_t *v, char **cause)
    __attribute__((warn_unused_result));

/* The receipt for part `part` of `nparts` of query_id, verified as v, at
 * node `node`, with outcome answered or refused: the audit_receipt text
 * signed by signer as a C2SP signed note (*note, caller frees).
 * HEARTH_ERR_USAGE when the receipt cannot be written (a malformed name or
 * id, part >= nparts); HEARTH_ERR_CRYPTO when signing fails. */
hearth_err_t node_audit_receipt(const keys_signer_t *signer, const char *node,
                                const char *query_id, uint32_t part, uint32_t nparts,
                                const node_audit_verified_t *v, bool answered, char **note,
                                char **cause) __attribute__((warn_unused_result));

#endif
