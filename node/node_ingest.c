#include "node_ingest.h"
#include "hearth_buf.h"
#include "hearth_mem.h"
#include "node_csv.h"
#include "node_link.h"
#include "node_rows.h"

#include <openssl/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Header names that carry identifiers, with the aliases real extracts use.
 * Matching is on the normalised name. */
static const struct {
    const char *name;
    node_id_field_t field;
} ID_COLUMNS[] = {
    {"nhs_number", NODE_ID_NHS}, {"nhs_no", NODE_ID_NHS}, {"nhsnumber", NODE_ID_NHS},
    {"nhs", NODE_ID_NHS}, {"nhs_num", NODE_ID_NHS}, {"nhsno", NODE_ID_NHS},
    {"patient_nhs_number", NODE_ID_NHS},
    {"date_of_birth", NODE_ID_DOB}, {"dob", NODE_ID_DOB}, {"birth_date", NODE_ID_DOB},
    {"dateofbirth", NODE_ID_DOB}, {"d_o_b", NODE_ID_DOB}, {"birthdate", NODE_ID_DOB},
    {"birth_date_iso", NODE_ID_DOB},
    {"sex", NODE_ID_SEX}, {"gender", NODE_ID_SEX},
    {"postcode", NODE_ID_POSTCODE}, {"post_code", NODE_ID_POSTCODE},
    {"postal_code", NODE_ID_POSTCODE}, {"post_code_full", NODE_ID_POSTCODE},
    {"home_postcode", NODE_ID_POSTCODE},
};

/* Direct identifiers that have no token role: never stored. */
static const char *const EXCLUDED_COLUMNS[] = {
    "name", "full_name", "first_name", "forename", "forenames", "given_name",
    "surname", "last_name", "family_name", "address", "address_line_1",
    "address_line_2", "address_1", "address_2", "street", "email",
    "email_address", "phone", "telephone", "phone_number", "mobile",
    "mobile_number", "nhs_number_raw", "ni_number", "national_insurance_number",
};

/* The canonical name of each identifier, for reports and messages. */
static const char *const ID_NAMES[NODE_ID_COUNT] = {"nhs_number", "date_of_birth", "sex",
                                                   "postcode"};

#define NO_ID (-1)

bool node_ingest_column_name(const char *in, size_t len, char out[64])
{
    size_t n = 0;
    bool pending_sep = false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!word) {
            pending_sep = n > 0;
            continue;
        }
        if (n == 0 && c >= '0' && c <= '9') {
            out[n++] = 'c';
            out[n++] = '_';
        }
        if (pending_sep) {
            if (n + 1 > 63)
                return false;
            out[n++] = '_';
            pending_sep = false;
        }
        if (n + 1 > 63)
            return false;
        out[n++] = (char)c;
    }
    out[n] = '\0';
    return n > 0;
}

void node_ingest_report_destroy(node_ingest_report_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_ingest_report_t *r = *self_p;
    for (size_t i = 0; i < r->nattributes; i++)
        free(r->attributes[i]);
    for (size_t i = 0; i < r->nexcluded; i++)
        free(r->excluded[i]);
    for (size_t i = 0; i < r->nomitted; i++)
        free(r->omitted[i]);
    free(r->attributes);
    free(r->types);
    free(r->excluded);
    free(r->omitted);
    free(r->schema);
    free(r->dataset);
    free(r);
    *self_p = NULL;
}

/* The identifier whose name or alias name is, or NO_ID. */
static int id_alias(const char *name)
{
    for (size_t k = 0; k < sizeof ID_COLUMNS / sizeof *ID_COLUMNS; k++)
        if (strcmp(name, ID_COLUMNS[k].name) == 0)
            return (int)ID_COLUMNS[k].field;
    return NO_ID;
}

static bool direct_identifier(const char *name)
{
    for (size_t k = 0; k < sizeof EXCLUDED_COLUMNS / sizeof *EXCLUDED_COLUMNS; k++)
        if (strcmp(name, EXCLUDED_COLUMNS[k]) == 0)
            return true;
    return false;
}

static void add_name(char ***list, size_t *n, const char *name)
{
    *list = hearth_reallocarray(*list, *n + 1, sizeof **list);
    (*list)[(*n)++] = hearth_strdup(name);
}

/* Normalises the header's names into names[] and refuses an unusable
 * header or a schema naming columns it lacks. */
static hearth_err_t check_header(const node_csv_record_t *hdr, const node_schema_t *schema,
                                 char (*names)[64], char **cause)
{
    for (size_t i = 0; i < hdr->nfields; i++) {
        if (!node_ingest_column_name(hdr->fields[i], hdr->lens[i], names[i])) {
            hearth_cause_set(cause, "header column %zu has no usable name (it needs "
                             "a letter or digit, and at most 63 characters)", i + 1);
            return HEARTH_ERR_CSV;
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(names[k], names[i]) == 0) {
                hearth_cause_set(cause, "header columns %zu and %zu are both called '%s'",
                                 k + 1, i + 1, names[i]);
                return HEARTH_ERR_CSV;
            }
        }
    }
    if (schema == NULL)
        return HEARTH_OK;
    const char **header = hearth_calloc(hdr->nfields ? hdr->nfields : 1, sizeof *header);
    for (size_t i = 0; i < hdr->nfields; i++)
        header[i] = names[i];
    const char *section = NULL;
    const char *unknown = node_schema_unknown(schema, header, hdr->nfields, &section);
    free(header);
    if (unknown) {
        hearth_cause_set(cause, "schema '%s': [%s] names column '%s', which is not in the "
                         "extract's header (the schema names columns as the header does)",
                         node_schema_path(schema), section, unknown);
        return HEARTH_ERR_CONFIG;
    }
    return HEARTH_OK;
}

/* Decides what happens to header column i (called names[i]): an
 * identifier, a direct identifier or a column the schema excludes (not
 * stored), or an attribute. */
static hearth_err_t plan_column(const node_schema_t *schema, char (*names)[64], size_t i,
                                node_rows_col_t *col, node_ingest_report_t *r, char **cause)
{
    const char *name = names[i];
    int rule = schema ? node_schema_column(schema, name) : NODE_SCHEMA_AUTO;
    const char *rename = schema ? node_schema_rename(schema, name) : NULL;
    const char *path = schema ? node_schema_path(schema) : "";
    *col = (node_rows_col_t){.role = NO_ID, .attr = -1, .type = NODE_ROWS_INFER, .name = name};
    /* [identifiers] overrides the names: a column it names holds that
     * identifier, and another column named like it holds none, but still
     * looks like one, so it is never stored. */
    bool mapped = false, direct = direct_identifier(name);
    for (int f = 0; f < NODE_ID_COUNT && schema; f++) {
        const char *c = node_schema_identifier(schema, ID_NAMES[f]);
        if (c && strcmp(c, name) == 0) {
            col->role = f;
            mapped = true;
        }
    }
    int alias = id_alias(name);
    if (!mapped && alias != NO_ID) {
        if (schema && node_schema_identifier(schema, ID_NAMES[alias]))
            direct = true;
        else
            col->role = alias;
    }
    if ((col->role != NO_ID || direct) && (rule >= 0 || rename)) {
        hearth_cause_set(cause, "schema '%s': column '%s' %s, never stored, so it cannot be "
                         "%s", path, name, col->role != NO_ID ? "is an identifier"
                         : "looks like a direct identifier",
                         rename ? "renamed" : "given a type");
        return HEARTH_ERR_CONFIG;
    }
    if (col->role != NO_ID) {
        if (rule == NODE_SCHEMA_EXCLUDE) {
            if (mapped) {
                hearth_cause_set(cause, "schema '%s': column '%s' is both %s in "
                                 "[identifiers] and excluded in [columns]", path, name,
                                 ID_NAMES[col->role]);
                return HEARTH_ERR_CONFIG;
            }
            col->role = NO_ID;
            add_name(&r->omitted, &r->nomitted, name);
            return HEARTH_OK;
        }
        if (r->has_id[col->role]) {
            hearth_cause_set(cause, "header column %zu ('%s') is a second %s column", i + 1,
                             name, ID_NAMES[col->role]);
            return HEARTH_ERR_CSV;
        }
        r->has_id[col->role] = true;
        memcpy(r->id_columns[col->role], name, 64);
        return HEARTH_OK;
    }
    if (direct) {
        add_name(&r->excluded, &r->nexcluded, name);
        return HEARTH_OK;
    }
    if (rule == NODE_SCHEMA_EXCLUDE) {
        add_name(&r->omitted, &r->nomitted, name);
        return HEARTH_OK;
    }
    if (rename && (id_alias(rename) != NO_ID || direct_identifier(rename))) {
        hearth_cause_set(cause, "schema '%s': column '%s' cannot be renamed '%s', a name "
                         "kept for identifiers", path, name, rename);
        return HEARTH_ERR_CONFIG;
    }
    col->attr = (int)r->nattributes;
    col->type = rule == NODE_SCHEMA_AUTO ? NODE_ROWS_INFER : rule;
    r->types = hearth_reallocarray(r->types, r->nattributes + 1, sizeof *r->types);
    r->types[r->nattributes] = rule >= 0 ? (node_col_type_t)rule : NODE_COL_CATEGORICAL;
    add_name(&r->attributes, &r->nattributes, rename ? rename : name);
    return HEARTH_OK;
}

/* Plans what happens to each header column. Fails on an unusable header or
 * a schema that does not fit it; names[] (nfields, caller's) receives the
 * normalised header names, which plan[].name points into. */
static hearth_err_t plan_header(const node_csv_record_t *hdr, const node_schema_t *schema,
                                char (*names)[64], node_rows_col_t *plan,
                                node_ingest_report_t *r, char **cause)
{
    hearth_err_t rc = check_header(hdr, schema, names, cause);
    for (size_t i = 0; i < hdr->nfields && rc == HEARTH_OK; i++)
        rc = plan_column(schema, names, i, &plan[i], r, cause);
    /* A rename can make two stored columns share a name. */
    for (size_t i = 0; i < hdr->nfields && rc == HEARTH_OK; i++) {
        for (size_t k = 0; k < i && plan[i].attr >= 0 && rc == HEARTH_OK; k++) {
            if (plan[k].attr >= 0 && strcmp(r->attributes[plan[k].attr],
                                            r->attributes[plan[i].attr]) == 0) {
                hearth_cause_set(cause, "schema '%s': columns '%s' and '%s' would both be "
                                 "stored as '%s'", schema ? node_schema_path(schema) : "",
                                 names[k], names[i], r->attributes[plan[i].attr]);
                rc = HEARTH_ERR_CONFIG;
            }
        }
    }
    return rc;
}

static hearth_err_t db_fail(sqlite3 *db, const char *what, char **cause)
{
    hearth_cause_set(cause, "database (%s): %s", what, sqlite3_errmsg(db));
    return HEARTH_ERR_DB;
}

/* Existing records of the node's other datasets, for linking. */
typedef struct {
    int64_t table_id;
    int64_t rec;
    int64_t person;
} existing_t;

static hearth_err_t load_existing(node_store_t *store, const char *skip, node_link_t *link,
                                  existing_t **out, size_t *nout, char **cause)
{
    sqlite3 *db = node_store_db(store);
    existing_t *ex = NULL;
    size_t n = 0, cap = 0;
    for (size_t d = 0; d < node_store_ndatasets(store); d++) {
        const node_store_dataset_t *ds = node_store_dataset(store, d);
        if (strcmp(ds->name, skip) == 0)
            continue;
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT rec, person, t_nhs, t_dsp FROM d_%lld",
                 (long long)ds->id);
        sqlite3_stmt *st = NULL;
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            free(ex);
            return db_fail(db, "reading linked datasets", cause);
        }
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            if (n == cap) {
                cap = cap ? cap * 2 : 4096;
                ex = hearth_reallocarray(ex, cap, sizeof *ex);
            }
            ex[n].table_id = ds->id;
            ex[n].rec = sqlite3_column_int64(st, 0);
            ex[n].person = sqlite3_column_int64(st, 1);
            const void *a = sqlite3_column_blob(st, 2);
            const void *b = sqlite3_column_blob(st, 3);
            if (a && sqlite3_column_bytes(st, 2) != KEYS_TOKEN_LEN)
                a = NULL;
            if (b && sqlite3_column_bytes(st, 3) != KEYS_TOKEN_LEN)
                b = NULL;
            node_link_add(link, a, b, ex[n].person);
            n++;
        }
        sqlite3_finalize(st);
        if (step != SQLITE_DONE) {
            free(ex);
            return db_fail(db, "reading linked datasets", cause);
        }
    }
    *out = ex;
    *nout = n;
    return HEARTH_OK;
}

static hearth_err_t check_key(node_store_t *store, const char *key_id, char **cause)
{
    char *stored = NULL;
    hearth_err_t rc = node_store_meta_get(store, "linkage_key_id", &stored, cause);
    if (rc != HEARTH_OK)
        return rc;
    if (stored == NULL)
        return node_store_meta_set(store, "linkage_key_id", key_id, cause);
    if (strcmp(stored, key_id) != 0) {
        hearth_cause_set(cause, "this node's data were tokenised with linkage key %s, "
                         "but the configured key is %s; their tokens would never link",
                         stored, key_id);
        rc = HEARTH_ERR_REFUSED;
    }
    free(stored);
    return rc;
}

/* Replaces the old version of the dataset with a new, empty table. */
static hearth_err_t create_dataset(node_store_t *store, const char *name,
                                   const node_ingest_report_t *r, int64_t *id_out,
                                   char **cause)
{
    sqlite3 *db = node_store_db(store);
    const node_store_dataset_t *old = node_store_find(store, name);
    hearth_err_t rc;
    if (old) {
        char sql[64];
        snprintf(sql, sizeof sql, "DROP TABLE d_%lld", (long long)old->id);
        if ((rc = node_store_exec(store, sql, cause)) != HEARTH_OK)
            return rc;
        sqlite3_stmt *del = NULL;
        if (sqlite3_prepare_v2(db, "DELETE FROM datasets WHERE id = ?", -1, &del, NULL) != SQLITE_OK)
            return db_fail(db, "replacing dataset", cause);
        sqlite3_bind_int64(del, 1, old->id);
        int step = sqlite3_step(del);
        sqlite3_finalize(del);
        if (step != SQLITE_DONE)
            return db_fail(db, "replacing dataset", cause);
    }
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO datasets(name, rows, persons, ingested_at) "
                           "VALUES(?, 0, 0, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
                           -1, &ins, NULL) != SQLITE_OK)
        return db_fail(db, "creating dataset", cause);
    sqlite3_bind_text(ins, 1, name, -1, SQLITE_STATIC);
    int step = sqlite3_step(ins);
    sqlite3_finalize(ins);
    if (step != SQLITE_DONE)
        return db_fail(db, "creating dataset", cause);
    int64_t id = sqlite3_last_insert_rowid(db);
    hearth_buf_t sql;
    hearth_buf_init(&sql, 1u << 20);
    hearth_buf_printf(&sql, "CREATE TABLE d_%lld(rec INTEGER PRIMARY KEY, person INTEGER "
                      "NOT NULL, t_nhs BLOB, t_dsp BLOB", (long long)id);
    for (size_t i = 0; i < r->nattributes; i++)
        hearth_buf_printf(&sql, ", a%zu", i);
    hearth_buf_adds(&sql, ")");
    rc = node_store_exec(store, hearth_buf_str(&sql), cause);
    hearth_buf_free(&sql);
    if (rc != HEARTH_OK)
        return rc;
    *id_out = id;
    return HEARTH_OK;
}

/* hearth_iso_date(x): the date x (checked at ingest) as YYYY-MM-DD. Only
 * registered while an ingest converts a date column. */
static void iso_date(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
    (void)argc;
    const char *s = (const char *)sqlite3_value_text(argv[0]);
    int len = sqlite3_value_bytes(argv[0]);
    char out[NODE_SCHEMA_DATE_LEN + 1];
    if (s == NULL || !node_schema_date(s, (size_t)len, out, NULL)) {
        sqlite3_result_error(ctx, "a date column holds a value that is not a date", -1);
        return;
    }
    sqlite3_result_text(ctx, out, NODE_SCHEMA_DATE_LEN, SQLITE_TRANSIENT);
}

/* The statement (built from integers only) that brings attribute a of
 * table d_<id> to its inferred type, or "" when its cells already are. */
static void conversion(int64_t id, size_t a, node_col_type_t type, const node_rows_stats_t *s,
                       char *sql, size_t size)
{
    long long t = (long long)id;
    sql[0] = '\0';
    if (type == NODE_COL_INTEGER && s->text_int > 0)
        snprintf(sql, size, "UPDATE d_%lld SET a%zu = CAST(a%zu AS INTEGER) WHERE "
                 "typeof(a%zu) = 'text'", t, a, a, a);
    else if (type == NODE_COL_DECIMAL)
        snprintf(sql, size, "UPDATE d_%lld SET a%zu = CAST(a%zu AS REAL) WHERE "
                 "typeof(a%zu) IN ('integer', 'text')", t, a, a, a);
    else if (type == NODE_COL_DATE && s->slash_dates > 0)
        snprintf(sql, size, "UPDATE d_%lld SET a%zu = hearth_iso_date(a%zu) WHERE "
                 "instr(a%zu, '/') > 0", t, a, a, a);
    else if (type == NODE_COL_CATEGORICAL && s->bound_int > 0)
        snprintf(sql, size, "UPDATE d_%lld SET a%zu = CAST(a%zu AS TEXT) WHERE "
                 "typeof(a%zu) = 'integer'", t, a, a, a);
}

/* Gives the inferred attributes their types, converting the cells stored
 * before the type was known, and writes the columns table. */
static hearth_err_t finish_columns(node_store_t *store, int64_t id, const node_rows_col_t *plan,
                                   size_t ncols, const node_rows_stats_t *stats,
                                   node_ingest_report_t *r, char **cause)
{
    sqlite3 *db = node_store_db(store);
    hearth_err_t rc = HEARTH_OK;
    bool registered = false;
    for (size_t k = 0; k < ncols && rc == HEARTH_OK; k++) {
        if (plan[k].attr < 0 || plan[k].type != NODE_ROWS_INFER)
            continue;
        size_t a = (size_t)plan[k].attr;
        char sql[256];
        conversion(id, a, r->types[a], &stats[a], sql, sizeof sql);
        if (sql[0] == '\0')
            continue;
        if (r->types[a] == NODE_COL_DATE && !registered) {
            if (sqlite3_create_function(db, "hearth_iso_date", 1, SQLITE_UTF8 |
                                        SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
                                        iso_date, NULL, NULL) != SQLITE_OK)
                return db_fail(db, "typing columns", cause);
            registered = true;
        }
        rc = node_store_exec(store, sql, cause);
    }
    if (registered)
        sqlite3_create_function(db, "hearth_iso_date", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC |
                                SQLITE_DIRECTONLY, NULL, NULL, NULL, NULL);
    if (rc != HEARTH_OK)
        return rc;
    sqlite3_stmt *col = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO columns VALUES(?, ?, ?, ?)", -1, &col, NULL) != SQLITE_OK)
        return db_fail(db, "creating dataset", cause);
    for (size_t i = 0; i < r->nattributes; i++) {
        sqlite3_reset(col);
        sqlite3_bind_int64(col, 1, id);
        sqlite3_bind_int64(col, 2, (int64_t)i);
        sqlite3_bind_text(col, 3, r->attributes[i], -1, SQLITE_STATIC);
        sqlite3_bind_int(col, 4, (int)r->types[i]);
        if (sqlite3_step(col) != SQLITE_DONE) {
            sqlite3_finalize(col);
            return db_fail(db, "creating dataset", cause);
        }
    }
    sqlite3_finalize(col);
    return HEARTH_OK;
}

static hearth_err_t prepare_insert(sqlite3 *db, int64_t id, size_t nattr, sqlite3_stmt **st,
                                   char **cause)
{
    hearth_buf_t sql;
    hearth_buf_init(&sql, 1u << 20);
    hearth_buf_printf(&sql, "INSERT INTO d_%lld VALUES(?, ?, ?, ?", (long long)id);
    for (size_t i = 0; i < nattr; i++)
        hearth_buf_adds(&sql, ", ?");
    hearth_buf_adds(&sql, ")");
    int prc = sqlite3_prepare_v2(db, hearth_buf_str(&sql), -1, st, NULL);
    hearth_buf_free(&sql);
    return prc == SQLITE_OK ? HEARTH_OK : db_fail(db, "storing rows", cause);
}

/* Stores one chunk's rows with their provisional person ids. */
static hearth_err_t insert_chunk(sqlite3 *db, sqlite3_stmt *st, const node_rows_chunk_t *c,
                                 size_t nattr, char **cause)
{
    for (size_t i = 0; i < c->nrows; i++) {
        sqlite3_bind_int64(st, 1, (int64_t)(c->first + i) + 1);
        sqlite3_bind_int64(st, 2, c->person[i]);
        if (c->flags[i] & 1)
            sqlite3_bind_blob(st, 3, c->nhs[i], KEYS_TOKEN_LEN, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 3);
        if (c->flags[i] & 2)
            sqlite3_bind_blob(st, 4, c->dsp[i], KEYS_TOKEN_LEN, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, 4);
        for (size_t a = 0; a < nattr; a++) {
            size_t at = i * nattr + a;
            const node_rows_cell_t *cell = &c->cell[at];
            int p = (int)a + 5;
            switch ((node_rows_kind_t)c->kind[at]) {
            case NODE_ROWS_NULL: sqlite3_bind_null(st, p); break;
            case NODE_ROWS_INT: sqlite3_bind_int64(st, p, cell->i); break;
            case NODE_ROWS_REAL: sqlite3_bind_double(st, p, cell->d); break;
            case NODE_ROWS_TEXT:
                sqlite3_bind_text(st, p, c->text.data + cell->text.off, (int)cell->text.len,
                                  SQLITE_STATIC);
                break;
            }
        }
        if (sqlite3_step(st) != SQLITE_DONE)
            return db_fail(db, "storing rows", cause);
        sqlite3_reset(st);
    }
    return HEARTH_OK;
}

/* Rows whose person id changed after they were stored, because a later row
 * linked their group to another. Rare: only rows that bridge two groups. */
static hearth_err_t update_new(sqlite3 *db, int64_t id, const int64_t *provisional,
                               const int64_t *final, size_t n, char **cause)
{
    sqlite3_stmt *st = NULL;
    for (size_t i = 0; i < n; i++) {
        if (provisional[i] == final[i])
            continue;
        if (st == NULL) {
            char sql[80];
            snprintf(sql, sizeof sql, "UPDATE d_%lld SET person = ? WHERE rec = ?",
                     (long long)id);
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return db_fail(db, "relinking", cause);
        }
        sqlite3_bind_int64(st, 1, final[i]);
        sqlite3_bind_int64(st, 2, (int64_t)i + 1);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return db_fail(db, "relinking", cause);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return HEARTH_OK;
}

/* Moves existing records whose person id changed through new links. */
static hearth_err_t update_existing(sqlite3 *db, const existing_t *ex, size_t n,
                                    const int64_t *person, char **cause)
{
    sqlite3_stmt *st = NULL;
    int64_t table = -1;
    for (size_t i = 0; i < n; i++) {
        if (person[i] == ex[i].person)
            continue;
        if (ex[i].table_id != table) {
            sqlite3_finalize(st);
            st = NULL;
            char sql[80];
            snprintf(sql, sizeof sql, "UPDATE d_%lld SET person = ? WHERE rec = ?",
                     (long long)ex[i].table_id);
            if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                return db_fail(db, "relinking", cause);
            table = ex[i].table_id;
        }
        sqlite3_bind_int64(st, 1, person[i]);
        sqlite3_bind_int64(st, 2, ex[i].rec);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            return db_fail(db, "relinking", cause);
        }
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return HEARTH_OK;
}

/* Distinct person ids among ids[0..n), with a bitmap: ids are small
 * positive integers (at most a few above the node's record count). */
static uint64_t count_distinct(const int64_t *ids, size_t n)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (ids[i] > max)
            max = ids[i];
    uint8_t *seen = hearth_calloc((size_t)max / 8 + 1, 1);
    uint64_t d = 0;
    for (size_t i = 0; i < n; i++) {
        size_t id = (size_t)ids[i];
        if (!(seen[id / 8] & (1u << (id % 8)))) {
            seen[id / 8] |= (uint8_t)(1u << (id % 8));
            d++;
        }
    }
    free(seen);
    return d;
}

static hearth_err_t finish_counts(node_store_t *store, int64_t id, const node_ingest_report_t *r,
                                  char **cause)
{
    sqlite3 *db = node_store_db(store);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "UPDATE datasets SET rows = ?, persons = ? WHERE id = ?", -1,
                           &st, NULL) != SQLITE_OK)
        return db_fail(db, "counting", cause);
    sqlite3_bind_int64(st, 1, (int64_t)r->rows_stored);
    sqlite3_bind_int64(st, 2, (int64_t)r->persons_dataset);
    sqlite3_bind_int64(st, 3, id);
    int step = sqlite3_step(st);
    sqlite3_finalize(st);
    if (step != SQLITE_DONE)
        return db_fail(db, "counting", cause);
    /* Other datasets' person counts change when the new rows merge two of
     * their people; recount them all (one pass over each table). */
    for (size_t d = 0; d < node_store_ndatasets(store); d++) {
        const node_store_dataset_t *ds = node_store_dataset(store, d);
        if (strcmp(ds->name, r->dataset) == 0)
            continue;
        char sql[160];
        snprintf(sql, sizeof sql, "UPDATE datasets SET persons = (SELECT COUNT(DISTINCT "
                 "person) FROM d_%lld) WHERE id = %lld", (long long)ds->id, (long long)ds->id);
        hearth_err_t rc = node_store_exec(store, sql, cause);
        if (rc != HEARTH_OK)
            return rc;
    }
    return HEARTH_OK;
}

/* Counts the dataset's persons by the token kinds their rows carry: a
 * person carries a kind when any of its rows here does. person[i] is row
 * i's final person id (small positive integers, as count_distinct says),
 * flags[i] its token bits (node_rows_chunk_t.flags). */
static void count_person_tokens(const int64_t *person, const uint8_t *flags, size_t n,
                                node_ingest_report_t *r)
{
    int64_t max = 0;
    for (size_t i = 0; i < n; i++)
        if (person[i] > max)
            max = person[i];
    /* Bit 2 marks a person of this dataset; bits 0 and 1 its token kinds. */
    uint8_t *seen = hearth_calloc((size_t)max + 1, 1);
    for (size_t i = 0; i < n; i++)
        seen[person[i]] |= (uint8_t)(4 | (flags[i] & 3));
    for (size_t p = 0; p <= (size_t)max; p++) {
        if (!(seen[p] & 4))
            continue;
        r->persons_with_nhs += (seen[p] & 1) != 0;
        r->persons_with_dsp += (seen[p] & 2) != 0;
        r->persons_with_both += (seen[p] & 3) == 3;
        r->persons_with_none += (seen[p] & 3) == 0;
    }
    free(seen);
}

/* Stores the rows as the worker reads them, keeping each row's provisional
 * person id in *provisional and its token bits in *flags (caller frees
 * both). */
static hearth_err_t store_rows(sqlite3 *db, int64_t id, node_rows_t *rows, size_t nattr,
                               int64_t **provisional, uint8_t **flags, size_t *nrows,
                               char **cause)
{
    sqlite3_stmt *st = NULL;
    hearth_err_t rc = prepare_insert(db, id, nattr, &st, cause);
    size_t cap = 0;
    node_rows_chunk_t *c;
    while (rc == HEARTH_OK && (c = node_rows_next(rows)) != NULL) {
        rc = insert_chunk(db, st, c, nattr, cause);
        if (*nrows + c->nrows > cap) {
            cap = (cap ? cap * 2 : NODE_ROWS_CHUNK) + c->nrows;
            *provisional = hearth_reallocarray(*provisional, cap, sizeof **provisional);
            *flags = hearth_reallocarray(*flags, cap, sizeof **flags);
        }
        memcpy(*provisional + *nrows, c->person, c->nrows * sizeof *c->person);
        memcpy(*flags + *nrows, c->flags, c->nrows * sizeof *c->flags);
        *nrows += c->nrows;
        node_rows_chunk_free(&c);
    }
    sqlite3_finalize(st);
    return rc;
}

hearth_err_t node_ingest_run(node_store_t *store, const keys_token_t *tok,
                             const char *key_id, const char *dataset,
                             const char *csv_path, const node_ingest_options_t *opt,
                             node_ingest_report_t **report, char **cause)
{
    *report = NULL;
    node_ingest_report_t *r = hearth_calloc(1, sizeof *r);
    r->dataset = hearth_strdup(dataset);
    node_csv_t *csv = NULL;
    node_link_t *link = NULL;
    node_rows_t *rows = NULL;
    existing_t *ex = NULL;
    size_t nex = 0, nrows = 0;
    int64_t *provisional = NULL;
    uint8_t *flags = NULL;
    node_rows_col_t *plan = NULL;
    char (*names)[64] = NULL;
    node_rows_stats_t *stats = NULL;
    const node_schema_t *schema = opt ? opt->schema : NULL;
    bool in_tx = false;
    sqlite3 *db = node_store_db(store);
    hearth_err_t rc;

    if (schema)
        r->schema = hearth_strdup(node_schema_path(schema));

    if ((rc = node_csv_open(csv_path, &csv, cause)) != HEARTH_OK)
        goto fail;
    node_csv_record_t hdr;
    rc = node_csv_next(csv, &hdr, cause);
    if (rc == HEARTH_ERR_NOT_FOUND) {
        hearth_cause_set(cause, "'%s' is empty: a header row is needed", csv_path);
        rc = HEARTH_ERR_CSV;
    }
    if (rc != HEARTH_OK)
        goto fail;
    if (hdr.error) {
        hearth_cause_set(cause, "the header row (line %llu) is malformed: %s",
                         (unsigned long long)hdr.line, hdr.error);
        rc = HEARTH_ERR_CSV;
        goto fail;
    }
    size_t nheader = hdr.nfields;
    plan = hearth_calloc(nheader, sizeof *plan);
    names = hearth_calloc(nheader, sizeof *names);
    if ((rc = plan_header(&hdr, schema, names, plan, r, cause)) != HEARTH_OK)
        goto fail;
    if (!r->has_id[NODE_ID_NHS] && !(r->has_id[NODE_ID_DOB] && r->has_id[NODE_ID_SEX] &&
                                      r->has_id[NODE_ID_POSTCODE])) {
        hearth_cause_set(cause, "the extract has no identifier columns to link on: it needs "
                         "nhs_number, or date_of_birth, sex and postcode");
        rc = HEARTH_ERR_CSV;
        goto fail;
    }

    if ((rc = node_store_exec(store, "BEGIN IMMEDIATE", cause)) != HEARTH_OK)
        goto fail;
    in_tx = true;
    int64_t id = 0;
    link = node_link_new();
    if ((rc = check_key(store, key_id, cause)) != HEARTH_OK ||
        (rc = load_existing(store, dataset, link, &ex, &nex, cause)) != HEARTH_OK ||
        (rc = create_dataset(store, dataset, r, &id, cause)) != HEARTH_OK)
        goto fail;
    /* Reading and tokenising run on a second core while this one stores
     * rows: the two take about as long as each other. */
    stats = hearth_calloc(r->nattributes ? r->nattributes : 1, sizeof *stats);
    rows = node_rows_start(csv, tok, plan, nheader, r->nattributes, link, r, stats);
    rc = store_rows(db, id, rows, r->nattributes, &provisional, &flags, &nrows, cause);
    hearth_err_t read_rc = node_rows_finish(&rows, rc == HEARTH_OK ? cause : NULL);
    if (rc == HEARTH_OK)
        rc = read_rc;
    if (rc != HEARTH_OK)
        goto fail;
    for (size_t k = 0; k < nheader; k++)
        if (plan[k].attr >= 0 && plan[k].type == NODE_ROWS_INFER)
            r->types[plan[k].attr] = node_rows_stats_type(&stats[plan[k].attr]);
    r->typed = true;
    if (opt && opt->strict && r->rows_rejected > 0) {
        hearth_cause_set(cause, "%llu row(s) rejected and --strict given: nothing was stored",
                         (unsigned long long)r->rows_rejected);
        rc = HEARTH_ERR_CSV;
        goto fail;
    }
    const int64_t *person = node_link_resolve(link, &r->persons_node);
    r->persons_dataset = count_distinct(person + nex, nrows);
    count_person_tokens(person + nex, flags, nrows, r);
    r->rows_stored = nrows;
    if ((rc = update_existing(db, ex, nex, person, cause)) != HEARTH_OK ||
        (rc = update_new(db, id, provisional, person + nex, nrows, cause)) != HEARTH_OK ||
        (rc = finish_columns(store, id, plan, nheader, stats, r, cause)) != HEARTH_OK ||
        (rc = finish_counts(store, id, r, cause)) != HEARTH_OK ||
        (rc = node_store_exec(store, "COMMIT", cause)) != HEARTH_OK)
        goto fail;
    in_tx = false;
    rc = node_store_reload(store, cause);
fail:
    (void)node_rows_finish(&rows, NULL);
    if (in_tx)
        (void)node_store_exec(store, "ROLLBACK", NULL);
    if (rc != HEARTH_OK)
        r->rows_stored = 0;
    node_csv_destroy(&csv);
    node_link_destroy(&link);
    free(ex);
    free(provisional);
    free(flags);
    free(plan);
    free(names);
    free(stats);
    *report = r;
    return rc;
}

char *node_ingest_report_format(const node_ingest_report_t *r)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 1u << 20);
    hearth_buf_printf(&b, "ingest report for dataset %s\n", r->dataset);
    if (r->schema)
        hearth_buf_printf(&b, "  schema file:      %s\n", r->schema);
    hearth_buf_printf(&b, "  rows read:        %llu\n", (unsigned long long)r->rows_read);
    hearth_buf_printf(&b, "  rows stored:      %llu\n", (unsigned long long)r->rows_stored);
    hearth_buf_printf(&b, "  rows rejected:    %llu\n", (unsigned long long)r->rows_rejected);
    static const char *const routes[] = {"with NHS token:  ", "with DOB+sex+postcode token:",
                                         "with both tokens:", "with no token:   "};
    const uint64_t rows[] = {r->with_nhs, r->with_dsp, r->with_both, r->with_none};
    const uint64_t persons[] = {r->persons_with_nhs, r->persons_with_dsp,
                                r->persons_with_both, r->persons_with_none};
    for (size_t k = 0; k < 4; k++)
        hearth_buf_printf(&b, "  %s %llu row%s, %llu person%s%s\n", routes[k],
                          (unsigned long long)rows[k], rows[k] == 1 ? "" : "s",
                          (unsigned long long)persons[k], persons[k] == 1 ? "" : "s",
                          k == 3 ? " (counted, but never linked)" : "");
    hearth_buf_printf(&b, "  persons in dataset: %llu; persons at this node: %llu\n",
                      (unsigned long long)r->persons_dataset,
                      (unsigned long long)r->persons_node);
    hearth_buf_adds(&b, "  identifier columns:");
    bool any = false;
    for (int f = 0; f < NODE_ID_COUNT; f++) {
        if (!r->has_id[f])
            continue;
        hearth_buf_printf(&b, "\n    %-14s", ID_NAMES[f]);
        if (strcmp(r->id_columns[f], ID_NAMES[f]) != 0)
            hearth_buf_printf(&b, " (column %s)", r->id_columns[f]);
        for (int s = 0; s <= KEYS_IDENT_BAD_DATE; s++)
            if (r->id_status[f][s])
                hearth_buf_printf(&b, " %s: %llu;", s == KEYS_IDENT_OK ? "valid"
                                  : keys_ident_strstatus((keys_ident_status_t)s),
                                  (unsigned long long)r->id_status[f][s]);
        any = true;
    }
    if (!any)
        hearth_buf_adds(&b, " none");
    hearth_buf_adds(&b, "\n  attributes stored:");
    for (size_t i = 0; i < r->nattributes; i++) {
        hearth_buf_printf(&b, "%s %s", i ? "," : "", r->attributes[i]);
        if (r->typed)
            hearth_buf_printf(&b, " (%s)", node_schema_type_name(r->types[i]));
    }
    if (r->nattributes == 0)
        hearth_buf_adds(&b, " none");
    hearth_buf_adds(&b, "\n");
    if (r->nexcluded) {
        hearth_buf_adds(&b, "  excluded (direct identifiers, never stored):");
        for (size_t i = 0; i < r->nexcluded; i++)
            hearth_buf_printf(&b, "%s %s", i ? "," : "", r->excluded[i]);
        hearth_buf_adds(&b, "\n");
    }
    if (r->nomitted) {
        hearth_buf_adds(&b, "  excluded by the schema:");
        for (size_t i = 0; i < r->nomitted; i++)
            hearth_buf_printf(&b, "%s %s", i ? "," : "", r->omitted[i]);
        hearth_buf_adds(&b, "\n");
    }
    for (size_t i = 0; i < r->nrejects; i++)
        hearth_buf_printf(&b, "  rejected line %llu: %s\n",
                          (unsigned long long)r->rejects[i].line, r->rejects[i].reason);
    if (r->rows_rejected > r->nrejects)
        hearth_buf_printf(&b, "  ... and %llu more rejected rows\n",
                          (unsigned long long)(r->rows_rejected - r->nrejects));
    return hearth_buf_take(&b);
}
