#include "client_audit_list.h"
#include "client_audit_events.h"
#include "client_audit_out.h"
#include "client_audit_time.h"
#include "hearth_buf.h"
#include "hearth_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

/* ---- outcomes ------------------------------------------------------------- */

const char *client_audit_list_outcome_name(client_audit_outcome_t o)
{
    switch (o) {
    case CLIENT_AUDIT_RELEASED: return "released";
    case CLIENT_AUDIT_REFUSED: return "refused";
    case CLIENT_AUDIT_ERRORED: return "error";
    case CLIENT_AUDIT_INCOMPLETE: return "incomplete";
    case CLIENT_AUDIT_GOVERNANCE: return "governance";
    }
    return "incomplete";
}

bool client_audit_list_outcome_parse(const char *s, client_audit_outcome_t *out)
{
    static const client_audit_outcome_t all[] = {CLIENT_AUDIT_RELEASED, CLIENT_AUDIT_REFUSED,
                                                 CLIENT_AUDIT_ERRORED, CLIENT_AUDIT_INCOMPLETE,
                                                 CLIENT_AUDIT_GOVERNANCE};
    for (size_t i = 0; s && i < sizeof all / sizeof *all; i++)
        if (strcmp(s, client_audit_list_outcome_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    return false;
}

/* ---- rows ----------------------------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
    const client_audit_row_t *x = a, *y = b;
    return x->leaf < y->leaf ? -1 : x->leaf > y->leaf;
}

static char *dup_or_empty(const char *s)
{
    return hearth_strdup(s ? s : "");
}

/* What query_row adds to. */
typedef struct {
    const client_audit_log_t *log;
    const audit_event_t *ev;        /* the log's leaves, decoded */
    client_audit_rows_t *rows;      /* room for a row per leaf */
} build_t;

/* One query's row from its events (positions g[0..n), ascending), added
 * to the build_t ctx (a client_audit_events_query_fn). */
static void query_row(void *ctx, const client_audit_events_pos_t *g, size_t n)
{
    const build_t *b = ctx;
    const audit_event_t *ev = b->ev;
    client_audit_row_t *row = &b->rows->rows[b->rows->n++];
    const audit_event_t *rec = NULL, *acc = NULL, *out = NULL;
    size_t rec_pos = g[0].pos;
    hearth_buf_t nodes;
    hearth_buf_init(&nodes, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        const audit_event_t *e = &ev[g[i].pos];
        if (e->type == AUDIT_RECEIVED && rec == NULL) {
            rec = e;
            rec_pos = g[i].pos;
        } else if (e->type == AUDIT_ACCEPTED && acc == NULL) {
            acc = e;
        } else if ((e->type == AUDIT_RELEASED || e->type == AUDIT_REFUSED ||
                    e->type == AUDIT_ERROR) && out == NULL) {
            out = e;
        } else if (e->type == AUDIT_DISPATCHED) {
            /* Distinct nodes, in the order first dispatched to. */
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++) {
                const audit_event_t *p = &ev[g[j].pos];
                seen = p->type == AUDIT_DISPATCHED && strcmp(p->node, e->node) == 0;
            }
            if (!seen)
                (void)hearth_buf_printf(&nodes, "%s%s", nodes.len ? "," : "", e->node);
        }
    }
    const audit_event_t *first = rec ? rec : &ev[g[0].pos];
    row->leaf = b->log->leaves[rec_pos].index;
    row->time_ms = first->time_ms;
    row->received = rec != NULL;
    row->id = dup_or_empty(g[0].query_id);
    row->analyst = dup_or_empty(rec ? rec->analyst : NULL);
    row->project = dup_or_empty(rec && rec->project[0] ? rec->project
                                : acc ? acc->project : NULL);
    row->nodes = hearth_buf_take(&nodes);
    row->outcome = CLIENT_AUDIT_INCOMPLETE;
    if (out && out->type == AUDIT_RELEASED) {
        row->outcome = CLIENT_AUDIT_RELEASED;
        row->released = out->released;
        row->suppressed = out->suppressed;
        row->reason = hearth_strdup("");
    } else if (out && out->type == AUDIT_REFUSED) {
        row->outcome = CLIENT_AUDIT_REFUSED;
        row->reason = dup_or_empty(out->text);
    } else if (out) {
        row->outcome = CLIENT_AUDIT_ERRORED;
        bool timeout = out->outcome && strcmp(out->outcome, "timeout") == 0;
        row->reason = !timeout ? dup_or_empty(out->text)
                      : out->text[0] ? hearth_asprintf("timeout: %s", out->text)
                                     : hearth_strdup("timeout");
    } else {
        row->reason = hearth_strdup("");
    }
}

client_audit_rows_t *client_audit_list_rows_build(const client_audit_log_t *log)
{
    client_audit_rows_t *rows = hearth_calloc(1, sizeof *rows);
    size_t n = log->n_leaves;
    bool *ok = NULL;
    audit_event_t *ev = client_audit_events_decode(log->leaves, n, &ok, &rows->undecodable);
    rows->rows = hearth_calloc(n ? n : 1, sizeof *rows->rows);
    for (size_t i = 0; i < n; i++) {
        if (!ok[i] || ev[i].type != AUDIT_GOVERNANCE)
            continue;
        client_audit_row_t *r = &rows->rows[rows->n++];
        r->outcome = CLIENT_AUDIT_GOVERNANCE;
        r->leaf = log->leaves[i].index;
        r->time_ms = ev[i].time_ms;
        r->id = hearth_asprintf("%llu", (ull)r->leaf);
        r->analyst = dup_or_empty(ev[i].actor);
        r->project = dup_or_empty(ev[i].project);
        r->reason = dup_or_empty(ev[i].action);
        r->nodes = hearth_strdup("");
        r->received = true;
    }
    build_t b = {log, ev, rows};
    client_audit_events_by_query(ev, ok, n, query_row, &b);
    qsort(rows->rows, rows->n, sizeof *rows->rows, row_cmp);
    client_audit_events_free(ev, n);
    free(ok);
    return rows;
}

void client_audit_list_rows_destroy(client_audit_rows_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_audit_rows_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++) {
        client_audit_row_t *r = &self->rows[i];
        free(r->id);
        free(r->analyst);
        free(r->project);
        free(r->reason);
        free(r->nodes);
    }
    free(self->rows);
    free(self);
    *self_p = NULL;
}

/* ---- filters -------------------------------------------------------------- */

bool client_audit_list_row_matches(const client_audit_row_t *row,
                                   const client_audit_filter_t *f)
{
    if (f == NULL)
        return true;
    if (f->since_ms && row->time_ms < f->since_ms)
        return false;
    if (f->until_ms && row->time_ms >= f->until_ms)
        return false;
    if (f->project && strcmp(row->project, f->project) != 0)
        return false;
    if (f->analyst && (row->outcome == CLIENT_AUDIT_GOVERNANCE ||
                       strcmp(row->analyst, f->analyst) != 0))
        return false;
    if (f->has_outcome && row->outcome != f->outcome)
        return false;
    return true;
}

/* ---- rendering ------------------------------------------------------------ */

static const char *const ROW_HEADER[] = {"ID", "TIME (UTC)", "ANALYST", "PROJECT", "OUTCOME",
                                         "RELEASED", "SUPPRESSED", "NODES", "REASON"};
static const char *const ROW_CSV[] = {"id", "time", "analyst", "project", "outcome",
                                      "cells_released", "cells_suppressed", "nodes", "reason"};
#define ROW_COLS 9

static void csv_header(client_audit_out_t *o)
{
    for (size_t c = 0; c < ROW_COLS; c++) {
        client_audit_out_add(o, c ? "," : "");
        client_audit_out_add(o, ROW_CSV[c]);
    }
    client_audit_out_add(o, "\n");
}

char *client_audit_list_rows_render(const client_audit_rows_t *rows,
                                    const client_audit_filter_t *f, client_format_t fmt)
{
    client_audit_out_t o;
    client_audit_out_init(&o);
    size_t n = 0;
    char (*num)[2][24] = hearth_calloc(rows->n ? rows->n : 1, sizeof *num);
    char (*when)[32] = hearth_calloc(rows->n ? rows->n : 1, sizeof *when);
    const char **cells = hearth_calloc(rows->n ? rows->n * ROW_COLS : 1, sizeof *cells);
    for (size_t i = 0; i < rows->n; i++) {
        const client_audit_row_t *r = &rows->rows[i];
        if (!client_audit_list_row_matches(r, f))
            continue;
        client_audit_time_format(r->time_ms, false, when[n]);
        bool cells_known = r->outcome == CLIENT_AUDIT_RELEASED;
        snprintf(num[n][0], 24, "%llu", (ull)r->released);
        snprintf(num[n][1], 24, "%llu", (ull)r->suppressed);
        const char *row[ROW_COLS] = {r->id, when[n], r->analyst, r->project,
                                     client_audit_list_outcome_name(r->outcome),
                                     cells_known ? num[n][0] : "", cells_known ? num[n][1] : "",
                                     r->nodes, r->reason};
        if (fmt == CLIENT_FORMAT_JSON) {
            client_audit_out_add(&o, n ? ",\n  {" : "[\n  {");
            client_audit_out_add(&o, "\"kind\": ");
            client_audit_out_add(&o, r->outcome == CLIENT_AUDIT_GOVERNANCE ? "\"governance\""
                                                                          : "\"query\"");
            client_audit_out_add(&o, ", \"leaf\": ");
            client_audit_out_u64(&o, r->leaf);
            for (size_t c = 0; c < ROW_COLS; c++) {
                client_audit_out_add(&o, ", ");
                client_audit_out_json(&o, ROW_CSV[c]);
                client_audit_out_add(&o, ": ");
                if (c == 5 || c == 6) {
                    if (cells_known)
                        client_audit_out_add(&o, row[c]);
                    else
                        client_audit_out_add(&o, "null");
                } else {
                    client_audit_out_json(&o, row[c]);
                }
            }
            client_audit_out_add(&o, "}");
        } else if (fmt == CLIENT_FORMAT_CSV) {
            if (n == 0)
                csv_header(&o);
            for (size_t c = 0; c < ROW_COLS; c++) {
                client_audit_out_add(&o, c ? "," : "");
                client_audit_out_csv(&o, row[c]);
            }
            client_audit_out_add(&o, "\n");
        } else {
            memcpy(cells + n * ROW_COLS, row, sizeof row);
        }
        n++;
    }
    if (fmt == CLIENT_FORMAT_JSON) {
        client_audit_out_add(&o, n ? "\n]\n" : "[]\n");
    } else if (fmt == CLIENT_FORMAT_CSV && n == 0) {
        csv_header(&o);
    } else if (fmt == CLIENT_FORMAT_TABLE) {
        static const bool right[ROW_COLS] = {false, false, false, false, false, true, true,
                                             false, false};
        if (n == 0)
            client_audit_out_add(&o, "no audit entries match\n");
        else
            client_audit_out_table(&o, ROW_COLS, ROW_HEADER, right, cells, n);
    }
    free(cells);
    free(num);
    free(when);
    return client_audit_out_take(&o);
}
