#include "client_audit_events.h"
#include "hearth_mem.h"

#include <stdlib.h>
#include <string.h>

audit_event_t *client_audit_events_decode(const client_audit_leaf_t *leaves, size_t n,
                                          bool **ok, size_t *bad)
{
    audit_event_t *ev = hearth_calloc(n ? n : 1, sizeof *ev);
    *ok = hearth_calloc(n ? n : 1, sizeof **ok);
    *bad = 0;
    for (size_t i = 0; i < n; i++) {
        (*ok)[i] = audit_event_decode(leaves[i].data, leaves[i].len, &ev[i], NULL) == HEARTH_OK;
        if (!(*ok)[i])
            (*bad)++;
    }
    return ev;
}

void client_audit_events_free(audit_event_t *ev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        audit_event_clear(&ev[i]);
    free(ev);
}

static int pos_cmp(const void *a, const void *b)
{
    const client_audit_events_pos_t *x = a, *y = b;
    int d = strcmp(x->query_id, y->query_id);
    if (d != 0)
        return d;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

void client_audit_events_by_query(const audit_event_t *ev, const bool *ok, size_t n,
                                  client_audit_events_query_fn *fn, void *ctx)
{
    size_t m = 0;
    client_audit_events_pos_t *qp = hearth_calloc(n ? n : 1, sizeof *qp);
    for (size_t i = 0; i < n; i++)
        if (ok[i] && ev[i].type != AUDIT_GOVERNANCE)
            qp[m++] = (client_audit_events_pos_t){ev[i].query_id, i};
    qsort(qp, m, sizeof *qp, pos_cmp);
    for (size_t lo = 0; lo < m;) {
        size_t hi = lo + 1;
        while (hi < m && strcmp(qp[hi].query_id, qp[lo].query_id) == 0)
            hi++;
        fn(ctx, qp + lo, hi - lo);
        lo = hi;
    }
    free(qp);
}
