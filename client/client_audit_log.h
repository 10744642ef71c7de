/* client_audit_log — the audit log as `hearth audit` holds it in memory:
 * its leaves (index and bytes, exactly as hashed) and its signed
 * checkpoint notes, as fetched from the gateway or read from an export
 * file, bounded in size. Nothing here checks what it holds: that is
 * client_audit_verify's business. */
#ifndef CLIENT_AUDIT_LOG_H
#define CLIENT_AUDIT_LOG_H

#include "hearth_err.h"

#include <stddef.h>
#include <stdint.h>

/* Leaf bytes one log may hold, fetched or read (checkpoints count too). */
#define CLIENT_AUDIT_MAX_BYTES ((size_t)1 << 30)

/* One leaf: the index the gateway or the export gave it and its bytes
 * exactly as hashed. data is owned by whoever built the array (a log owns
 * its leaves' data). */
typedef struct {
    uint64_t index;
    uint8_t *data;
    size_t len;
} client_audit_leaf_t;

typedef struct {
    client_audit_leaf_t *leaves;   /* owned, data included; in the order added */
    size_t n_leaves, cap_leaves;
    char **notes;                  /* owned: signed checkpoint notes */
    size_t n_notes, cap_notes;
    size_t bytes;                  /* leaf bytes held */
    uint64_t log_size;             /* the log's size as the gateway last said; 0 offline */
} client_audit_log_t;

/* A new empty log; free with client_audit_log_destroy. */
client_audit_log_t *client_audit_log_new(void);

/* Frees self, its leaves and its notes, and sets *self_p to NULL;
 * NULL-safe. */
void client_audit_log_destroy(client_audit_log_t **self_p);

/* Appends a copy of data[0..len) as the leaf with this index.
 * HEARTH_ERR_TOO_BIG past AUDIT_LEAF_MAX or CLIENT_AUDIT_MAX_BYTES in all. */
hearth_err_t client_audit_log_add_leaf(client_audit_log_t *self, uint64_t index,
                                       const uint8_t *data, size_t len, char **cause)
    __attribute__((warn_unused_result));

/* Appends a copy of note[0..len). HEARTH_ERR_TOO_BIG past TLOG_NOTE_MAX;
 * HEARTH_ERR_FORMAT when it holds a NUL byte. */
hearth_err_t client_audit_log_add_note(client_audit_log_t *self, const char *note, size_t len,
                                       char **cause) __attribute__((warn_unused_result));

#endif
