/* client_audit_show — `hearth audit show`: every event of a query (or one
 * leaf) rendered in full, each with its leaf index, time, type and the
 * fields its type has (audit_event.h's table), as text or JSON.
 *
 * Everything shown comes from the gateway, as sent (only verify proves
 * it): strings are escaped for the terminal or for JSON, never used as
 * formats. */
#ifndef CLIENT_AUDIT_SHOW_H
#define CLIENT_AUDIT_SHOW_H

#include "client_audit_log.h"
#include "client_render.h"

/* Every leaf of log (borrowed), in order, with its index, time, type and
 * the fields its type has, as text (fmt CLIENT_FORMAT_TABLE) or a JSON
 * array (CLIENT_FORMAT_JSON); a leaf that does not decode says so. A new
 * string (caller frees); NULL for CSV or past CLIENT_AUDIT_OUT_MAX. */
char *client_audit_show_render(const client_audit_log_t *log, client_format_t fmt);

#endif
