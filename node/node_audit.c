#include "node_audit.h"
#include "proto_codec.h"
#include "audit_event.h"
#include "audit_receipt.h"
#include "hearth_mem.h"
#include "node_config.h"
#include "tlog_checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node_audit_t {
    tlog_verifier_t gateway;          /* pinned: [gateway] audit_key */
    char node[NODE_NAME_MAX + 1];
    node_ledger_t *ledger;            /* borrowed */
    uint64_t size;                    /* the last checkpoint verified, as stored */
    uint8_t root[TLOG_HASH_LEN];
};

hearth_err_t node_audit_new(const tlog_verifier_t *gateway, const char *node,
                            node_ledger_t *ledger, node_audit_t **out, char **cause)
{
    *out = NULL;
    if (!node_config_name_valid(node)) {
        hearth_cause_set(cause, "a malformed node name");
        return HEARTH_ERR_USAGE;
    }
    node_audit_t *self = hearth_calloc(1, sizeof *self);
    self->gateway = *gateway;
    strcpy(self->node, node);
    self->ledger = ledger;
    hearth_err_t rc = node_ledger_checkpoint(ledger, &self->size, self->root, NULL, cause);
    if (rc != HEARTH_OK) {
        node_audit_destroy(&self);
        return rc;
    }
    *out = self;
    return HEARTH_OK;
}

void node_audit_destroy(node_audit_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    free(*self_p);
    *self_p = NULL;
}

uint64_t node_audit_size(const node_audit_t *self)
{
    return self->size;
}

static const char *str(const char *s)
{
    return s ? s : "";
}

/* Copies a repeated bytes field of 32-byte hashes into proof; false when
 * there are too many or one is not 32 bytes. */
static bool copy_proof(const ProtobufCBinaryData *in, size_t n,
                       uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN])
{
    if (n > TLOG_MAX_PROOF)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (in[i].len != TLOG_HASH_LEN)
            return false;
        memcpy(proof[i], in[i].data, TLOG_HASH_LEN);
    }
    return true;
}

/* Which of the leaf's fields differs from q, or NULL when none does. */
static const char *leaf_mismatch(const node_audit_t *self, const audit_event_t *ev,
                                 const Hearth__SubQuery *q)
{
    if (strcmp(ev->query_id, str(q->query_id)) != 0)
        return "another query";
    if (strcmp(ev->node, self->node) != 0)
        return "another node";
    char *dataset = hearth_asprintf("%s.%s", self->node, str(q->dataset));
    bool same = strcmp(ev->dataset, dataset) == 0;
    free(dataset);
    if (!same)
        return "another dataset";
    const char *kind = proto_kind_name(q->kind);
    if (kind == NULL || strcmp(ev->kind, kind) != 0)
        return "another kind of sub-query";
    if (ev->part != q->part)
        return "another part";
    if (ev->nparts != q->nparts)
        return "another number of parts";
    if (strcmp(ev->project, str(q->project)) != 0)
        return "another project";
    return NULL;
}

hearth_err_t node_audit_check(node_audit_t *self, const Hearth__SubQuery *q,
                              node_audit_verified_t *v, char **cause)
{
    const Hearth__AuditProof *a = q->audit;
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    tlog_checkpoint_t cp;
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    uint8_t leaf_hash[TLOG_HASH_LEN];
    const char *other = NULL;
    size_t note_len = 0;
    char *why = NULL;
    hearth_err_t rc = HEARTH_ERR_REFUSED;
    if (a == NULL) {
        hearth_cause_set(cause, "no audit proof: this node answers only dispatches the "
                         "gateway has recorded in its audit log");
        goto done;
    }
    /* 1. The checkpoint, signed by the pinned key under its own name. */
    note_len = a->checkpoint ? strnlen(a->checkpoint, TLOG_NOTE_MAX + 1) : 0;
    if (note_len == 0 || note_len > TLOG_NOTE_MAX) {
        hearth_cause_set(cause, "audit proof: the checkpoint is missing or too long");
        goto done;
    }
    if (tlog_checkpoint_open(a->checkpoint, note_len, &self->gateway, &cp, &why) != HEARTH_OK) {
        hearth_cause_set(cause, "audit proof: the checkpoint does not verify with the "
                         "gateway audit key this node pins: %s", why ? why : "no signature");
        goto done;
    }
    if (strcmp(cp.origin, self->gateway.name) != 0) {
        hearth_cause_set(cause, "audit proof: the checkpoint is of another log than the one "
                         "whose key this node pins");
        goto done;
    }
    if (cp.size > (uint64_t)INT64_MAX) {
        hearth_cause_set(cause, "audit proof: the checkpoint's size is out of range");
        goto done;
    }
    /* 2. The leaf, in the tree the checkpoint signs. */
    if (a->leaf_index >= cp.size) {
        hearth_cause_set(cause, "audit proof: the leaf index is not below the checkpoint's "
                         "size (%llu)", (unsigned long long)cp.size);
        goto done;
    }
    if (a->leaf.len == 0 || a->leaf.len > AUDIT_LEAF_MAX) {
        hearth_cause_set(cause, "audit proof: the leaf is missing or too long");
        goto done;
    }
    if (!copy_proof(a->inclusion, a->n_inclusion, proof)) {
        hearth_cause_set(cause, "audit proof: the inclusion proof is malformed");
        goto done;
    }
    tlog_leaf_hash(a->leaf.data, a->leaf.len, leaf_hash);
    if (!tlog_verify_inclusion(leaf_hash, a->leaf_index, cp.size,
                               (const uint8_t (*)[TLOG_HASH_LEN])proof, a->n_inclusion,
                               cp.root)) {
        hearth_cause_set(cause, "audit proof: the inclusion proof does not show the leaf at "
                         "index %llu of the signed checkpoint",
                         (unsigned long long)a->leaf_index);
        goto done;
    }
    /* 3. The leaf records this very dispatch. */
    if (audit_event_decode(a->leaf.data, a->leaf.len, &ev, &why) != HEARTH_OK) {
        hearth_cause_set(cause, "audit proof: the leaf is not a well-formed audit event: %s",
                         why ? why : "malformed");
        goto done;
    }
    if (ev.type != AUDIT_DISPATCHED) {
        hearth_cause_set(cause, "audit proof: the leaf records a %s event, not a dispatch",
                         audit_type_name(ev.type));
        goto done;
    }
    if ((other = leaf_mismatch(self, &ev, q)) != NULL) {
        hearth_cause_set(cause, "audit proof: the logged dispatch is of %s than this "
                         "sub-query", other);
        goto done;
    }
    /* 4. The log only grew since the last checkpoint this node verified. */
    if (cp.size < self->size) {
        hearth_cause_set(cause, "audit proof: the checkpoint (size %llu) is older than the "
                         "last one this node verified (size %llu)",
                         (unsigned long long)cp.size, (unsigned long long)self->size);
        goto done;
    }
    if (a->consistency_from != self->size) {
        hearth_cause_set(cause, "audit proof: the consistency proof starts at size %llu, but "
                         "this node last verified size %llu",
                         (unsigned long long)a->consistency_from,
                         (unsigned long long)self->size);
        goto done;
    }
    if (cp.size == self->size && memcmp(cp.root, self->root, TLOG_HASH_LEN) != 0) {
        hearth_cause_set(cause, "audit proof: the checkpoint has the size of the last one "
                         "this node verified (%llu) but another root: the log was rewritten",
                         (unsigned long long)cp.size);
        goto done;
    }
    if (!copy_proof(a->consistency, a->n_consistency, proof) ||
        !tlog_verify_consistency(self->size, cp.size, self->root, cp.root,
                                 (const uint8_t (*)[TLOG_HASH_LEN])proof, a->n_consistency)) {
        hearth_cause_set(cause, "audit proof: the consistency proof does not show that the "
                         "checkpoint (size %llu) extends the last one this node verified "
                         "(size %llu)", (unsigned long long)cp.size,
                         (unsigned long long)self->size);
        goto done;
    }
    /* Verified: remember the checkpoint before anything is answered. */
    if (cp.size > self->size) {
        if ((rc = node_ledger_set_checkpoint(self->ledger, cp.size, cp.root, a->checkpoint,
                                             NULL, cause)) != HEARTH_OK)
            goto done;
        self->size = cp.size;
        memcpy(self->root, cp.root, TLOG_HASH_LEN);
    }
    v->leaf = a->leaf_index;
    v->size = cp.size;
    memcpy(v->root, cp.root, TLOG_HASH_LEN);
    rc = HEARTH_OK;
done:
    audit_event_clear(&ev);
    free(why);
    return rc;
}

hearth_err_t node_audit_receipt(const keys_signer_t *signer, const char *node,
                                const char *query_id, uint32_t part, uint32_t nparts,
                                const node_audit_verified_t *v, bool answered, char **note,
                                char **cause)
{
    *note = NULL;
    audit_receipt_t r;
    memset(&r, 0, sizeof r);
    char *text = NULL;
    if (strlen(str(node)) <= AUDIT_RECEIPT_ID_MAX &&
        strlen(str(query_id)) <= AUDIT_RECEIPT_ID_MAX) {
        strcpy(r.node, str(node));
        strcpy(r.query_id, str(query_id));
        r.part = part;
        r.nparts = nparts;
        r.leaf = v->leaf;
        r.size = v->size;
        memcpy(r.root, v->root, TLOG_HASH_LEN);
        r.answered = answered;
        text = audit_receipt_format(&r);
    }
    if (text == NULL) {
        hearth_cause_set(cause, "no receipt can be written for a malformed node name, query "
                         "id or part number");
        return HEARTH_ERR_USAGE;
    }
    hearth_err_t rc = tlog_note_sign(signer, text, note, cause);
    free(text);
    return rc;
}
