#include "client_audit_log.h"
#include "audit_event.h"
#include "hearth_mem.h"
#include "tlog_note.h"

#include <stdlib.h>
#include <string.h>

client_audit_log_t *client_audit_log_new(void)
{
    return hearth_calloc(1, sizeof(client_audit_log_t));
}

void client_audit_log_destroy(client_audit_log_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_log_t *self = *self_p;
    for (size_t i = 0; i < self->n_leaves; i++)
        free(self->leaves[i].data);
    free(self->leaves);
    for (size_t i = 0; i < self->n_notes; i++)
        free(self->notes[i]);
    free(self->notes);
    free(self);
    *self_p = NULL;
}

hearth_err_t client_audit_log_add_leaf(client_audit_log_t *self, uint64_t index,
                                       const uint8_t *data, size_t len, char **cause)
{
    if (len > AUDIT_LEAF_MAX || len > CLIENT_AUDIT_MAX_BYTES - self->bytes) {
        hearth_cause_set(cause, len > AUDIT_LEAF_MAX ? "leaf %llu is larger than any audit event"
                         : "the audit log is larger than this client holds (leaf %llu)",
                         (unsigned long long)index);
        return HEARTH_ERR_TOO_BIG;
    }
    if (self->n_leaves == self->cap_leaves) {
        self->cap_leaves = self->cap_leaves ? self->cap_leaves * 2 : 64;
        self->leaves = hearth_reallocarray(self->leaves, self->cap_leaves, sizeof *self->leaves);
    }
    uint8_t *copy = hearth_malloc(len ? len : 1);
    if (len)
        memcpy(copy, data, len);
    self->leaves[self->n_leaves++] = (client_audit_leaf_t){index, copy, len};
    self->bytes += len;
    return HEARTH_OK;
}

hearth_err_t client_audit_log_add_note(client_audit_log_t *self, const char *note, size_t len,
                                       char **cause)
{
    if (len > TLOG_NOTE_MAX || len > CLIENT_AUDIT_MAX_BYTES - self->bytes) {
        hearth_cause_set(cause, "a checkpoint is larger than any signed note");
        return HEARTH_ERR_TOO_BIG;
    }
    if (memchr(note, '\0', len)) {
        hearth_cause_set(cause, "a checkpoint holds a NUL byte");
        return HEARTH_ERR_FORMAT;
    }
    if (self->n_notes == self->cap_notes) {
        self->cap_notes = self->cap_notes ? self->cap_notes * 2 : 16;
        self->notes = hearth_reallocarray(self->notes, self->cap_notes, sizeof *self->notes);
    }
    self->notes[self->n_notes++] = hearth_strndup(note, len);
    self->bytes += len;
    return HEARTH_OK;
}
