/* gw_journal — the serve loop's audit batches: group commit of the audit
 * log (gw_audit) together with everything else the gateway records.
 *
 * Every turn of the serve loop is one batch. The first append opens a
 * transaction on the gateway's database (gw_store_begin); every event of
 * the turn (queries received and decided, parts dispatched, receipts,
 * outcomes) and every other record written meanwhile (released tables, DP
 * budgets, through nested gw_store_begin/commit) joins it; then
 * gw_journal_commit signs one checkpoint of the new size and commits, with
 * synchronous=FULL. Only after that does the loop send anything the batch
 * describes: sub-queries to nodes, results to analysts. So a query is
 * committed to the log before any node sees it, and an outcome before the
 * analyst does, at the cost of one fsync per turn rather than per event.
 *
 * A batch that fails (an append or the commit) is rolled back whole and
 * the audit state reloaded: the caller must then send none of what the
 * batch described and answer each affected query with an error. */
#ifndef GW_JOURNAL_H
#define GW_JOURNAL_H

#include "audit_event.h"
#include "gw_audit.h"
#include "gw_store.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct gw_journal_t gw_journal_t;

/* A journal over store and audit (both borrowed; they outlive it). */
gw_journal_t *gw_journal_new(gw_store_t *store, gw_audit_t *audit);
void gw_journal_destroy(gw_journal_t **self_p);

/* Appends ev with index columns ix to this turn's batch, opening it first
 * when needed; *index (may be NULL) is the leaf's index. Once a batch has
 * failed, every later append in it fails too, without writing. */
hearth_err_t gw_journal_append(gw_journal_t *self, const audit_event_t *ev,
                               const gw_audit_index_t *ix, uint64_t *index, char **cause)
    __attribute__((warn_unused_result));

/* True when this turn has opened a batch (something was appended). */
bool gw_journal_open(const gw_journal_t *self);

/* Ends the turn's batch: signs a checkpoint of the log's new size and
 * commits. *note (caller frees) is that checkpoint and *size its size;
 * NULL and 0 when there was no batch. On any failure the batch is rolled
 * back, the audit state reset, and an error returned: nothing the batch
 * described may be acted on. */
hearth_err_t gw_journal_commit(gw_journal_t *self, char **note, uint64_t *size, char **cause)
    __attribute__((warn_unused_result));

#endif
