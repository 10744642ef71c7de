/* client_audit_report — `hearth audit report`: a month's queries counted
 * per project (outcomes and cells), from the list rows
 * (client_audit_list), rendered as a table with a total line, CSV or
 * JSON. Governance changes are not counted. */
#ifndef CLIENT_AUDIT_REPORT_H
#define CLIENT_AUDIT_REPORT_H

#include "client_audit_list.h"
#include "client_render.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *project;          /* owned */
    uint64_t queries, released, refused, errors, incomplete;
    uint64_t cells_released, cells_suppressed;
} client_audit_report_line_t;

typedef struct {
    char month[8];                      /* "YYYY-MM" */
    client_audit_report_line_t *lines;  /* sorted by project */
    size_t n;
} client_audit_report_t;

/* Counts the queries (not governance changes) of rows (borrowed) received
 * in month (a string client_audit_time_parse_month accepts; NULL returned
 * otherwise), per project, only project's when project is not NULL.
 * Caller frees with client_audit_report_destroy. */
client_audit_report_t *client_audit_report_build(const client_audit_rows_t *rows,
                                                 const char *month, const char *project);

/* Frees the report and its lines, and sets *self_p to NULL; NULL-safe. */
void client_audit_report_destroy(client_audit_report_t **self_p);

/* The report as a table (with a total line), CSV or JSON
 * {"month": ..., "projects": [...]}: a new string (caller frees), or NULL
 * past CLIENT_AUDIT_OUT_MAX. */
char *client_audit_report_render(const client_audit_report_t *r, client_format_t fmt);

#endif
