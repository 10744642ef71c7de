#include "client_audit_report.h"
#include "client_audit_out.h"
#include "client_audit_time.h"
#include "hearth_mem.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long long ull;

static int row_project_cmp(const void *a, const void *b)
{
    const client_audit_row_t *const *x = a, *const *y = b;
    int d = strcmp((*x)->project, (*y)->project);
    if (d != 0)
        return d;
    return (*x)->leaf < (*y)->leaf ? -1 : (*x)->leaf > (*y)->leaf;
}

client_audit_report_t *client_audit_report_build(const client_audit_rows_t *rows,
                                                 const char *month, const char *project)
{
    uint64_t since, until;
    if (!client_audit_time_parse_month(month, &since, &until))
        return NULL;
    client_audit_report_t *r = hearth_calloc(1, sizeof *r);
    snprintf(r->month, sizeof r->month, "%s", month);
    const client_audit_row_t **sel = hearth_calloc(rows->n ? rows->n : 1, sizeof *sel);
    size_t m = 0;
    client_audit_filter_t f = {.since_ms = since, .until_ms = until, .project = project};
    for (size_t i = 0; i < rows->n; i++)
        if (rows->rows[i].outcome != CLIENT_AUDIT_GOVERNANCE &&
            client_audit_list_row_matches(&rows->rows[i], &f))
            sel[m++] = &rows->rows[i];
    qsort(sel, m, sizeof *sel, row_project_cmp);
    r->lines = hearth_calloc(m ? m : 1, sizeof *r->lines);
    for (size_t i = 0; i < m; i++) {
        const client_audit_row_t *q = sel[i];
        if (r->n == 0 || strcmp(r->lines[r->n - 1].project, q->project) != 0)
            r->lines[r->n++].project = hearth_strdup(q->project);
        client_audit_report_line_t *l = &r->lines[r->n - 1];
        l->queries++;
        switch (q->outcome) {
        case CLIENT_AUDIT_RELEASED:
            l->released++;
            l->cells_released += q->released;
            l->cells_suppressed += q->suppressed;
            break;
        case CLIENT_AUDIT_REFUSED: l->refused++; break;
        case CLIENT_AUDIT_ERRORED: l->errors++; break;
        case CLIENT_AUDIT_INCOMPLETE: l->incomplete++; break;
        case CLIENT_AUDIT_GOVERNANCE: break;
        }
    }
    free(sel);
    return r;
}

void client_audit_report_destroy(client_audit_report_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    for (size_t i = 0; i < (*self_p)->n; i++)
        free((*self_p)->lines[i].project);
    free((*self_p)->lines);
    free(*self_p);
    *self_p = NULL;
}

static const char *const REPORT_CSV[] = {"project", "queries", "released", "refused", "errors",
                                         "incomplete", "cells_released", "cells_suppressed"};
#define REPORT_COLS 8

static void line_numbers(const client_audit_report_line_t *l, uint64_t v[REPORT_COLS - 1])
{
    v[0] = l->queries;
    v[1] = l->released;
    v[2] = l->refused;
    v[3] = l->errors;
    v[4] = l->incomplete;
    v[5] = l->cells_released;
    v[6] = l->cells_suppressed;
}

char *client_audit_report_render(const client_audit_report_t *r, client_format_t fmt)
{
    client_audit_out_t o;
    client_audit_out_init(&o);
    uint64_t v[REPORT_COLS - 1];
    if (fmt == CLIENT_FORMAT_JSON) {
        client_audit_out_add(&o, "{\"month\": ");
        client_audit_out_json(&o, r->month);
        client_audit_out_add(&o, ", \"projects\": [");
        for (size_t i = 0; i < r->n; i++) {
            client_audit_out_add(&o, i ? ",\n  {\"project\": " : "\n  {\"project\": ");
            client_audit_out_json(&o, r->lines[i].project);
            line_numbers(&r->lines[i], v);
            for (size_t c = 1; c < REPORT_COLS; c++) {
                client_audit_out_add(&o, ", \"");
                client_audit_out_add(&o, REPORT_CSV[c]);
                client_audit_out_add(&o, "\": ");
                client_audit_out_u64(&o, v[c - 1]);
            }
            client_audit_out_add(&o, "}");
        }
        client_audit_out_add(&o, r->n ? "\n]}\n" : "]}\n");
        return client_audit_out_take(&o);
    }
    if (fmt == CLIENT_FORMAT_CSV) {
        for (size_t c = 0; c < REPORT_COLS; c++) {
            client_audit_out_add(&o, c ? "," : "");
            client_audit_out_add(&o, REPORT_CSV[c]);
        }
        client_audit_out_add(&o, "\n");
        for (size_t i = 0; i < r->n; i++) {
            client_audit_out_csv(&o, r->lines[i].project);
            line_numbers(&r->lines[i], v);
            for (size_t c = 1; c < REPORT_COLS; c++) {
                client_audit_out_add(&o, ",");
                client_audit_out_u64(&o, v[c - 1]);
            }
            client_audit_out_add(&o, "\n");
        }
        return client_audit_out_take(&o);
    }
    static const char *const header[REPORT_COLS] = {"PROJECT", "QUERIES", "RELEASED",
                                                    "REFUSED", "ERRORS", "INCOMPLETE",
                                                    "CELLS RELEASED", "CELLS SUPPRESSED"};
    static const bool right[REPORT_COLS] = {false, true, true, true, true, true, true, true};
    size_t rows = r->n + 1;
    char (*num)[REPORT_COLS - 1][24] = hearth_calloc(rows, sizeof *num);
    const char **cells = hearth_calloc(rows * REPORT_COLS, sizeof *cells);
    uint64_t total[REPORT_COLS - 1] = {0};
    for (size_t i = 0; i < rows; i++) {
        if (i < r->n) {
            line_numbers(&r->lines[i], v);
            for (size_t c = 0; c < REPORT_COLS - 1; c++)
                total[c] += v[c];
        }
        cells[i * REPORT_COLS] = i < r->n ? r->lines[i].project : "total";
        for (size_t c = 0; c < REPORT_COLS - 1; c++) {
            snprintf(num[i][c], 24, "%llu", (ull)(i < r->n ? v[c] : total[c]));
            cells[i * REPORT_COLS + c + 1] = num[i][c];
        }
    }
    client_audit_out_add(&o, "audit report for ");
    client_audit_out_add(&o, r->month);
    client_audit_out_add(&o, " (UTC)\n");
    client_audit_out_table(&o, REPORT_COLS, header, right, cells, rows);
    free(cells);
    free(num);
    return client_audit_out_take(&o);
}
