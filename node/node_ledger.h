/* node_ledger — the node's own record of every sub-query it has admitted,
 * kept in its own SQLite file beside the database, so that a partner can
 * see what it answered and so that no query id is ever answered twice.
 *
 * A linked query's per-query key K_q must serve exactly one query: were a
 * node to answer the same query id again (a replay, or a gateway asking a
 * second question under an old id), the gateway could join the two answers
 * through their tokens. So every part of every sub-query is admitted here,
 * in a committed transaction, before it is computed or sent:
 *
 *   queries(query_id PRIMARY KEY, nparts, first_ms)
 *   parts(query_id, part, dataset, kind, at_ms, PRIMARY KEY(query_id, part))
 *
 * It also keeps the node's side of the audit log (node_audit.h): every
 * receipt the node signed, in the order issued, and the last gateway
 * checkpoint it verified (one row), from which the next dispatch's
 * consistency proof must start:
 *
 *   receipts(seq INTEGER PRIMARY KEY, query_id, part, leaf, size, outcome,
 *            note, at_ms)
 *   checkpoint(id = 1, size, root, note)
 *
 * The file is created owner-only (0600), in WAL mode with synchronous=FULL:
 * an admission must survive a power cut once the answer may have left, and
 * one fsync per sub-query costs nothing beside answering it. */
#ifndef NODE_LEDGER_H
#define NODE_LEDGER_H

#include "hearth.pb-c.h"
#include "hearth_err.h"
#include "tlog_merkle.h"

#include <stdbool.h>
#include <stdint.h>

/* The longest query id admitted (the gateway's are 32 hex digits). */
#define NODE_LEDGER_QUERY_ID_MAX 64
/* The most parts one query may have at one node. */
#define NODE_LEDGER_MAX_PARTS 64

typedef struct node_ledger_t node_ledger_t;

/* Opens the ledger at path, creating it (mode 0600) and its tables when
 * absent. On success *out is a new ledger (free with node_ledger_destroy);
 * otherwise HEARTH_ERR_DB with *cause naming the file. */
hearth_err_t node_ledger_open(const char *path, node_ledger_t **out, char **cause)
    __attribute__((warn_unused_result));

/* Closes the ledger; NULL-safe; nulls *self_p. */
void node_ledger_destroy(node_ledger_t **self_p);

/* True when s is a query id the ledger admits: 1..NODE_LEDGER_QUERY_ID_MAX
 * of [A-Za-z0-9._:-]. Safe to write to a log line. s may be NULL. */
bool node_ledger_query_id_valid(const char *s);

/* Admits part `part` of `nparts` of query_id, a sub-query of the given
 * kind on dataset (recorded as they are; dataset may be NULL for none), at
 * now_ms (milliseconds since the epoch), and commits the record before
 * returning HEARTH_OK. Refuses, recording nothing, with HEARTH_ERR_REFUSED
 * and *cause:
 *   "query id already answered"  the part was admitted before;
 *   "malformed part numbering: ..."  nparts is 0 or above
 *       NODE_LEDGER_MAX_PARTS, part is not below nparts, or the id was first
 *       admitted with another nparts;
 * with HEARTH_ERR_PROTO for a query id that is empty, longer than
 * NODE_LEDGER_QUERY_ID_MAX or not made of [A-Za-z0-9._:-] (ids reach the
 * node's log), or an unknown kind; and with HEARTH_ERR_DB when the ledger
 * cannot be written (the caller must then not answer). Every string is
 * borrowed. */
hearth_err_t node_ledger_admit(node_ledger_t *self, const char *query_id, uint32_t part,
                               uint32_t nparts, const char *dataset, Hearth__SubQueryKind kind,
                               uint64_t now_ms, char **cause)
    __attribute__((warn_unused_result));

/* One receipt as the ledger keeps it. Strings are borrowed: from the
 * caller for node_ledger_add_receipt, from the ledger (valid only during
 * the callback) for node_ledger_receipts. */
typedef struct {
    uint64_t seq;            /* 1, 2, ... in the order stored (set by the ledger) */
    const char *query_id;
    uint32_t part;
    uint64_t leaf;           /* index of the DISPATCHED leaf the receipt answers */
    uint64_t size;           /* size of the checkpoint the node verified */
    bool answered;           /* outcome: answered, or refused */
    const char *note;        /* the signed note, byte for byte */
    uint64_t at_ms;          /* milliseconds since the epoch */
} node_ledger_receipt_t;

/* Stores a receipt (r->seq is ignored) and commits it before returning
 * HEARTH_OK. HEARTH_ERR_PROTO for a malformed query id or a missing note;
 * HEARTH_ERR_DB when the ledger cannot be written. */
hearth_err_t node_ledger_add_receipt(node_ledger_t *self, const node_ledger_receipt_t *r,
                                     char **cause) __attribute__((warn_unused_result));

/* Calls fn(user, receipt, cause) for every receipt, oldest first, in one
 * read transaction; stops at and returns the first error fn returns.
 * HEARTH_ERR_DB when the ledger cannot be read. */
typedef hearth_err_t (*node_ledger_receipt_fn)(void *user, const node_ledger_receipt_t *r,
                                               char **cause);
hearth_err_t node_ledger_receipts(node_ledger_t *self, node_ledger_receipt_fn fn, void *user,
                                  char **cause) __attribute__((warn_unused_result));

/* Reads the last checkpoint stored: its size (0, with the empty tree's
 * root, when there is none), root, and, when note is not NULL, its signed
 * note (*note, caller frees; NULL when there is none). HEARTH_ERR_DB when
 * the ledger cannot be read or its row is malformed. */
hearth_err_t node_ledger_checkpoint(node_ledger_t *self, uint64_t *size,
                                    uint8_t root[TLOG_HASH_LEN], char **note, char **cause)
    __attribute__((warn_unused_result));

/* Stores (size, root, note) as the last checkpoint when size is larger
 * than the stored one's, and commits it; a checkpoint no larger is left as
 * it is (HEARTH_OK). *stored (when not NULL) says which. note is borrowed.
 * HEARTH_ERR_DB when the ledger cannot be written. */
hearth_err_t node_ledger_set_checkpoint(node_ledger_t *self, uint64_t size,
                                        const uint8_t root[TLOG_HASH_LEN], const char *note,
                                        bool *stored, char **cause)
    __attribute__((warn_unused_result));

/* Forgets the stored checkpoint, so that the next dispatch's log is taken
 * as it comes (trust on first use again), recording in audit_resets when,
 * what was forgotten (its size and note) and reason (required; borrowed),
 * in one committed transaction. For a data manager whose gateway lost its
 * log and started a new one; run it with the node stopped. *old_size is
 * the size forgotten (0 when none was held). HEARTH_ERR_USAGE without a
 * reason; HEARTH_ERR_DB. */
hearth_err_t node_ledger_reset_checkpoint(node_ledger_t *self, const char *reason,
                                          uint64_t now_ms, uint64_t *old_size, char **cause)
    __attribute__((warn_unused_result));

#endif
