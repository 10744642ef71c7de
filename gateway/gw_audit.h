/* gw_audit — the gateway's tamper-evident audit log: leaves (audit/
 * audit_event.h), an RFC 6962 Merkle tree over them and signed checkpoints
 * (audit/tlog_checkpoint.h), in the gateway's SQLite file beside the
 * governance and release records (gw_store).
 *
 * Tables (all SQL fixed text, bound parameters):
 *   audit_leaves(idx PRIMARY KEY, data BLOB, qtime, project, analyst, query_id)
 *       the leaf bytes exactly as hashed; the other columns only index
 *       them for `hearth audit list` filters (the client re-checks them
 *       against the leaf it verified)
 *   audit_tree(level, idx, hash, PRIMARY KEY(level, idx))
 *       the hash of every perfect subtree, level 0 = leaf hashes, so that
 *       any root and any proof needs O(log n) lookups
 *   audit_checkpoints(size PRIMARY KEY, note)   signed checkpoint notes
 *
 * Durability is the caller's: gw_audit writes through the store's
 * connection and never begins or commits. A caller brackets each batch with
 * gw_store_begin, gw_audit_sync, the appends, gw_audit_checkpoint and
 * gw_store_commit, and only then acts on what it logged (dispatches,
 * replies): so "audited before any node sees it" is one committed
 * transaction (group commit: many queries per fsync). On a failed commit
 * call gw_audit_reset, which drops the cached tree state.
 *
 * Another process (hearth-gateway project ...) may append between batches;
 * gw_audit_sync re-reads the size under the transaction's lock and reloads
 * its cached frontier when it changed. One gw_audit_t per connection, used
 * from one thread. */
#ifndef GW_AUDIT_H
#define GW_AUDIT_H

#include "audit_event.h"
#include "gw_store.h"
#include "hearth_err.h"
#include "keys_sign.h"
#include "tlog_merkle.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gw_audit_t gw_audit_t;

/* Index columns for a leaf: the query's receive time (or the event's time
 * for governance), its project, analyst and query id ("" / NULL for none).
 * Borrowed for the call. */
typedef struct {
    uint64_t qtime_ms;
    const char *project;
    const char *analyst;
    const char *query_id;
} gw_audit_index_t;

/* Filters for gw_audit_leaves; 0 / NULL / "" mean none. qtime in
 * [since_ms, until_ms). */
typedef struct {
    uint64_t since_ms, until_ms;
    const char *project;
    const char *analyst;
    const char *query_id;
} gw_audit_filter_t;

/* Creates the tables when absent and reads the log's state. signer
 * (borrowed, may be NULL for a reader that never signs) signs checkpoints;
 * its name is the log's origin. *out is freed with gw_audit_destroy.
 * HEARTH_ERR_DB. */
hearth_err_t gw_audit_open(gw_store_t *store, const keys_signer_t *signer, gw_audit_t **out,
                           char **cause) __attribute__((warn_unused_result));

void gw_audit_destroy(gw_audit_t **self_p);

/* Inside a transaction: re-reads the log's size and, when another
 * connection appended, reloads the cached frontier. */
hearth_err_t gw_audit_sync(gw_audit_t *self, char **cause) __attribute__((warn_unused_result));

/* Forgets cached state after a rolled-back or failed transaction; the next
 * gw_audit_sync reloads it. */
void gw_audit_reset(gw_audit_t *self);

/* Inside a transaction: encodes ev and appends it as the next leaf, with
 * its subtree hashes; *index (may be NULL) is its index. Errors of
 * audit_event_encode, or HEARTH_ERR_DB. */
hearth_err_t gw_audit_append(gw_audit_t *self, const audit_event_t *ev,
                             const gw_audit_index_t *ix, uint64_t *index, char **cause)
    __attribute__((warn_unused_result));

/* Leaves in the log (as of the last sync or append). */
uint64_t gw_audit_size(const gw_audit_t *self);

/* Inside a transaction: signs and stores a checkpoint of the current size
 * unless one is stored already; *note (may be NULL; caller frees) is the
 * checkpoint of the current size. HEARTH_ERR_USAGE without a signer;
 * HEARTH_ERR_CRYPTO; HEARTH_ERR_DB. */
hearth_err_t gw_audit_checkpoint(gw_audit_t *self, char **note, char **cause)
    __attribute__((warn_unused_result));

/* The latest stored checkpoint (*note, caller frees; NULL and *size 0 when
 * none). */
hearth_err_t gw_audit_latest(gw_audit_t *self, char **note, uint64_t *size, char **cause)
    __attribute__((warn_unused_result));

/* Proofs against the tree of `size` leaves (size <= gw_audit_size). */
hearth_err_t gw_audit_inclusion(gw_audit_t *self, uint64_t index, uint64_t size,
                                uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                char **cause) __attribute__((warn_unused_result));
hearth_err_t gw_audit_consistency(gw_audit_t *self, uint64_t m, uint64_t size,
                                  uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                  char **cause) __attribute__((warn_unused_result));

/* The root of the first size leaves. */
hearth_err_t gw_audit_root(gw_audit_t *self, uint64_t size, uint8_t root[TLOG_HASH_LEN],
                           char **cause) __attribute__((warn_unused_result));

/* Called for each leaf gw_audit_leaves yields (borrowed for the call);
 * returns 0 to go on. */
typedef int (*gw_audit_leaf_fn)(void *user, uint64_t index, const uint8_t *data, size_t len);

/* Leaves with index >= start that pass f (NULL: all), ascending, until
 * max_count leaves or max_bytes of leaf data have been yielded (at least
 * one leaf is yielded when any is left). *next is the index to go on from
 * (the log's size when nothing is left). */
hearth_err_t gw_audit_leaves(gw_audit_t *self, const gw_audit_filter_t *f, uint64_t start,
                             size_t max_count, size_t max_bytes, gw_audit_leaf_fn fn, void *user,
                             uint64_t *next, char **cause) __attribute__((warn_unused_result));

/* Called with each stored checkpoint's note (borrowed); 0 to go on. */
typedef int (*gw_audit_note_fn)(void *user, uint64_t size, const char *note);

/* Checkpoints of size > after, ascending, at most limit; *more when there
 * are further ones. */
hearth_err_t gw_audit_checkpoints(gw_audit_t *self, uint64_t after, size_t limit,
                                  gw_audit_note_fn fn, void *user, bool *more, char **cause)
    __attribute__((warn_unused_result));

#endif
