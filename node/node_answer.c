#include "node_answer.h"
#include "node_filter.h"
#include "hearth_buf.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "proto_value.h"

#include <stdlib.h>
#include <string.h>

static void free_group(Hearth__GroupCount *g)
{
    if (g == NULL)
        return;
    for (size_t i = 0; i < g->n_group; i++)
        proto_value_free(g->group[i]);
    free(g->group);
    free(g);
}

void node_answer_free(Hearth__SubResult **r_p)
{
    if (r_p == NULL || *r_p == NULL)
        return;
    Hearth__SubResult *r = *r_p;
    for (size_t i = 0; i < r->n_groups; i++)
        free_group(r->groups[i]);
    free(r->groups);
    free_group(r->total);
    proto_free_string(r->query_id);
    proto_free_string(r->error);
    free(r);
    *r_p = NULL;
}

static Hearth__Value *column_value(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL: return proto_value_null();
    case SQLITE_INTEGER: return proto_value_integer(sqlite3_column_int64(st, i));
    case SQLITE_FLOAT: return proto_value_decimal(sqlite3_column_double(st, i));
    default: return proto_value_text((const char *)sqlite3_column_text(st, i));
    }
}

static Hearth__GroupCount *new_group(void)
{
    Hearth__GroupCount *g = hearth_malloc(sizeof *g);
    hearth__group_count__init(g);
    return g;
}

static hearth_err_t run_sql(sqlite3 *db, const char *sql, const Hearth__SubQuery *q,
                            size_t ngroup, Hearth__SubResult *r, bool total, char **cause)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(db));
        return HEARTH_ERR_DB;
    }
    hearth_err_t rc = node_filter_bind(st, q, cause);
    if (rc != HEARTH_OK)
        goto done;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        Hearth__GroupCount *g = new_group();
        if (ngroup) {
            g->group = hearth_calloc(ngroup, sizeof *g->group);
            g->n_group = ngroup;
            for (size_t k = 0; k < ngroup; k++)
                g->group[k] = column_value(st, (int)k);
        }
        g->records = (uint64_t)sqlite3_column_int64(st, (int)ngroup);
        g->persons = (uint64_t)sqlite3_column_int64(st, (int)ngroup + 1);
        if (total) {
            r->total = g;
        } else {
            r->groups = hearth_reallocarray(r->groups, r->n_groups + 1, sizeof *r->groups);
            r->groups[r->n_groups++] = g;
        }
    }
    if (step != SQLITE_DONE) {
        hearth_cause_set(cause, "database: %s", sqlite3_errmsg(db));
        rc = HEARTH_ERR_DB;
    }
done:
    sqlite3_finalize(st);
    return rc;
}

hearth_err_t node_answer_run(node_store_t *store, const Hearth__SubQuery *q,
                             Hearth__SubResult **out, char **cause)
{
    *out = NULL;
    const node_store_dataset_t *ds = node_store_find(store, q->dataset ? q->dataset : "");
    if (ds == NULL) {
        hearth_cause_set(cause, "this node has no dataset '%s'", q->dataset ? q->dataset : "");
        return HEARTH_ERR_NOT_FOUND;
    }
    if (q->n_group_by > NODE_ANSWER_MAX_GROUP_BY) {
        hearth_cause_set(cause, "at most %d GROUP BY columns", NODE_ANSWER_MAX_GROUP_BY);
        return HEARTH_ERR_TOO_BIG;
    }
    if (q->measure != HEARTH__MEASURE__MEASURE_COUNT_RECORDS &&
        q->measure != HEARTH__MEASURE__MEASURE_COUNT_PERSONS) {
        hearth_cause_set(cause, "this node answers COUNT(*) and COUNT(PERSONS) only");
        return HEARTH_ERR_REFUSED;
    }
    int cols[NODE_ANSWER_MAX_GROUP_BY];
    for (size_t k = 0; k < q->n_group_by; k++) {
        cols[k] = node_store_column_index(ds, q->group_by[k]);
        if (cols[k] < 0) {
            hearth_cause_set(cause, "no column '%s' in dataset %s", q->group_by[k], ds->name);
            return HEARTH_ERR_NOT_FOUND;
        }
    }
    char *where = NULL;
    hearth_err_t rc = node_filter_sql(ds, q, &where, cause);
    if (rc != HEARTH_OK)
        return rc;
    Hearth__SubResult *r = hearth_malloc(sizeof *r);
    hearth__sub_result__init(r);
    r->query_id = hearth_strdup(q->query_id ? q->query_id : "");
    hearth_buf_t sql;
    hearth_buf_init(&sql, 1u << 26);
    hearth_buf_t cols_sql;
    hearth_buf_init(&cols_sql, 256);
    for (size_t k = 0; k < q->n_group_by; k++)
        hearth_buf_printf(&cols_sql, "%sa%d", k ? ", " : "", cols[k]);
    sqlite3 *db = node_store_db(store);
    if (q->n_group_by) {
        hearth_buf_printf(&sql, "SELECT %s, COUNT(*), COUNT(DISTINCT person) FROM d_%lld "
                          "WHERE %s GROUP BY %s ORDER BY %s", hearth_buf_str(&cols_sql),
                          (long long)ds->id, where, hearth_buf_str(&cols_sql),
                          hearth_buf_str(&cols_sql));
        rc = run_sql(db, hearth_buf_str(&sql), q, q->n_group_by, r, false, cause);
        hearth_buf_reset(&sql);
    }
    if (rc == HEARTH_OK) {
        hearth_buf_printf(&sql, "SELECT COUNT(*), COUNT(DISTINCT person) FROM d_%lld WHERE %s",
                          (long long)ds->id, where);
        rc = run_sql(db, hearth_buf_str(&sql), q, 0, r, true, cause);
    }
    hearth_buf_free(&sql);
    hearth_buf_free(&cols_sql);
    free(where);
    if (rc != HEARTH_OK) {
        node_answer_free(&r);
        return rc;
    }
    r->ok = 1;
    *out = r;
    return HEARTH_OK;
}
