/* client_audit_events — a log's leaves decoded into audit events
 * (audit_event.h), and the decoded events grouped by query id: the walk
 * that list rows, reconciliation and verification share. */
#ifndef CLIENT_AUDIT_EVENTS_H
#define CLIENT_AUDIT_EVENTS_H

#include "audit_event.h"
#include "client_audit_log.h"

#include <stdbool.h>
#include <stddef.h>

/* Decodes leaves[0..n) into a new array of n events (free with
 * client_audit_events_free). *ok (a new array of n; caller frees) says
 * which decoded; ev[i] is left cleared where ok[i] is false. *bad counts the
 * leaves that do not decode. */
audit_event_t *client_audit_events_decode(const client_audit_leaf_t *leaves, size_t n,
                                          bool **ok, size_t *bad);

/* Clears each of ev[0..n) and frees the array; NULL-safe when n is 0. */
void client_audit_events_free(audit_event_t *ev, size_t n);

/* One event of a query: its query id (borrowed from the event) and its
 * position in the events array. */
typedef struct {
    const char *query_id;
    size_t pos;
} client_audit_events_pos_t;

/* Called once per query id with its events g[0..n) (n >= 1), in
 * ascending position; g is borrowed for the call. */
typedef void client_audit_events_query_fn(void *ctx, const client_audit_events_pos_t *g,
                                          size_t n);

/* Groups the events of ev[0..n) that decoded (ok[i]) and are not
 * governance changes by query id, and calls fn(ctx, ...) for each query,
 * in ascending order of query id (strcmp). */
void client_audit_events_by_query(const audit_event_t *ev, const bool *ok, size_t n,
                                  client_audit_events_query_fn *fn, void *ctx);

#endif
