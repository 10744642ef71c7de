#include "gw_journal.h"
#include "hearth_mem.h"

#include <stdlib.h>

struct gw_journal_t {
    gw_store_t *store;
    gw_audit_t *audit;
    bool open;      /* a transaction is open for this turn */
    bool failed;    /* something in it failed: it will be rolled back */
};

gw_journal_t *gw_journal_new(gw_store_t *store, gw_audit_t *audit)
{
    gw_journal_t *self = hearth_calloc(1, sizeof *self);
    self->store = store;
    self->audit = audit;
    return self;
}

void gw_journal_destroy(gw_journal_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    if ((*self_p)->open)
        gw_store_rollback((*self_p)->store);
    free(*self_p);
    *self_p = NULL;
}

/* Opens the turn's transaction and catches up with appends other
 * processes (hearth-gateway project ...) made since the last one. */
static hearth_err_t begin(gw_journal_t *self, char **cause)
{
    hearth_err_t rc = gw_store_begin(self->store, cause);
    if (rc != HEARTH_OK)
        return rc;
    self->open = true;
    rc = gw_audit_sync(self->audit, cause);
    if (rc != HEARTH_OK)
        self->failed = true;
    return rc;
}

hearth_err_t gw_journal_append(gw_journal_t *self, const audit_event_t *ev,
                               const gw_audit_index_t *ix, uint64_t *index, char **cause)
{
    if (self->failed) {
        hearth_cause_set(cause, "an earlier record of this batch could not be written");
        return HEARTH_ERR_DB;
    }
    hearth_err_t rc = self->open ? HEARTH_OK : begin(self, cause);
    if (rc == HEARTH_OK)
        rc = gw_audit_append(self->audit, ev, ix, index, cause);
    if (rc != HEARTH_OK)
        self->failed = true;
    return rc;
}

bool gw_journal_open(const gw_journal_t *self)
{
    return self->open;
}

hearth_err_t gw_journal_commit(gw_journal_t *self, char **note, uint64_t *size, char **cause)
{
    *note = NULL;
    *size = 0;
    if (!self->open)
        return HEARTH_OK;
    hearth_err_t rc = HEARTH_ERR_DB;
    if (self->failed) {
        hearth_cause_set(cause, "a record of this batch could not be written");
    } else if ((rc = gw_audit_checkpoint(self->audit, note, cause)) == HEARTH_OK) {
        *size = gw_audit_size(self->audit);
        rc = gw_store_commit(self->store, cause);
    }
    self->open = false;
    self->failed = false;
    if (rc == HEARTH_OK)
        return HEARTH_OK;
    /* gw_store_commit rolls back itself on failure; rolling back again
     * when no transaction is open does nothing. */
    gw_store_rollback(self->store);
    gw_audit_reset(self->audit);
    free(*note);
    *note = NULL;
    *size = 0;
    return rc;
}
