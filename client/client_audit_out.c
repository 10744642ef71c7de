#include "client_audit_out.h"
#include "client_render.h"
#include "hearth_mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void client_audit_out_init(client_audit_out_t *o)
{
    hearth_buf_init(&o->b, CLIENT_AUDIT_OUT_MAX);
    o->full = false;
}

void client_audit_out_add(client_audit_out_t *o, const char *s)
{
    if (!o->full && hearth_buf_adds(&o->b, s) != HEARTH_OK)
        o->full = true;
}

void client_audit_out_add_n(client_audit_out_t *o, const char *s, size_t n)
{
    if (!o->full && hearth_buf_add(&o->b, s, n) != HEARTH_OK)
        o->full = true;
}

void client_audit_out_u64(client_audit_out_t *o, uint64_t v)
{
    char num[24];
    snprintf(num, sizeof num, "%llu", (unsigned long long)v);
    client_audit_out_add(o, num);
}

void client_audit_out_json(client_audit_out_t *o, const char *s)
{
    if (!o->full && client_render_json_string(&o->b, s) != HEARTH_OK)
        o->full = true;
}

void client_audit_out_term(client_audit_out_t *o, const char *s)
{
    if (!o->full && client_render_term_text(&o->b, s) != HEARTH_OK)
        o->full = true;
}

void client_audit_out_spaces(client_audit_out_t *o, size_t n)
{
    for (size_t i = 0; i < n; i++)
        client_audit_out_add_n(o, " ", 1);
}

void client_audit_out_csv(client_audit_out_t *o, const char *s)
{
    if (!o->full && client_render_csv_field(&o->b, s) != HEARTH_OK)
        o->full = true;
}

void client_audit_out_table(client_audit_out_t *o, size_t ncols, const char *const *header,
                            const bool *right, const char *const *cells, size_t nrows)
{
    size_t *w = hearth_calloc(ncols, sizeof *w);
    for (size_t c = 0; c < ncols; c++) {
        w[c] = client_render_term_width(header[c]);
        for (size_t r = 0; r < nrows; r++) {
            size_t cw = client_render_term_width(cells[r * ncols + c]);
            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (size_t r = 0; r <= nrows; r++) {
        const char *const *row = r == 0 ? header : cells + (r - 1) * ncols;
        size_t start = o->b.len;
        for (size_t c = 0; c < ncols; c++) {
            size_t pad = w[c] - client_render_term_width(row[c]);
            bool last = c + 1 == ncols;
            if (right[c])
                client_audit_out_spaces(o, pad);
            client_audit_out_term(o, row[c]);
            if (!right[c] && !last)
                client_audit_out_spaces(o, pad);
            if (!last)
                client_audit_out_add(o, "  ");
        }
        /* Empty last cells leave padding behind: no line ends in spaces. */
        while (!o->full && o->b.len > start && o->b.data[o->b.len - 1] == ' ')
            o->b.data[--o->b.len] = '\0';
        client_audit_out_add(o, "\n");
    }
    free(w);
}

char *client_audit_out_take(client_audit_out_t *o)
{
    if (o->full) {
        hearth_buf_free(&o->b);
        return NULL;
    }
    return hearth_buf_take(&o->b);
}
