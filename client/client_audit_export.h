/* client_audit_export — the export file of `hearth audit export`, which
 * `hearth audit verify --file` verifies offline: written from a log in
 * memory, and parsed back into one.
 *
 * The file (text, UTF-8, "\n" line ends, self-describing):
 *
 *   hearth-audit-export 1
 *   checkpoint <base64 of a signed checkpoint note>     (any number)
 *   leaf <index> <base64 of the leaf's bytes>            (any number, in order)
 *   end <number of checkpoint lines> <number of leaf lines>
 *
 * Numbers are canonical decimal; base64 is hearth_base64's (padded, strict);
 * nothing follows the end line, whose counts catch a truncated file. The
 * parser keeps leaf indexes as written: whether they run 0, 1, 2, ... is
 * for verify to judge. */
#ifndef CLIENT_AUDIT_EXPORT_H
#define CLIENT_AUDIT_EXPORT_H

#include "client_audit_log.h"
#include "hearth_err.h"

#include <stddef.h>

/* The largest export file read (base64 of CLIENT_AUDIT_MAX_BYTES, and
 * checkpoints). */
#define CLIENT_AUDIT_EXPORT_MAX ((size_t)3 << 29)

/* The export file of self (borrowed) as a new string (caller frees);
 * *len (may be NULL) is its length. */
char *client_audit_export_format(const client_audit_log_t *self, size_t *len);

/* Parses an export file text[0..len) into a new log (*out; caller frees
 * with client_audit_log_destroy; NULL on error). HEARTH_ERR_FORMAT with the
 * line number for anything but the format above; HEARTH_ERR_TOO_BIG past
 * the log's bounds. */
hearth_err_t client_audit_export_parse(const char *text, size_t len, client_audit_log_t **out,
                                       char **cause) __attribute__((warn_unused_result));

#endif
