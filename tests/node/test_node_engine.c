/* Tests for node_engine: datasets with typed columns written straight into
 * a node's SQLite file (as a typed ingest stores them), loaded into the
 * engine and queried with postfix programs. Every operator on every column
 * type with exact counts; SQL's three-valued logic; GROUP BY over one, two
 * and three columns in the promised order; SUM and MEAN over NULLs, with
 * each cell's largest per-person sums of absolute values; the catalogue
 * values; limits and refusals; and, as an independent oracle, random
 * filters and groupings (top sums included) checked against SQLite's own
 * answers over the same table. */
#include "node_engine.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture ----------------------------------------------------------- */

static char dir[64];
static char db_path[128];
static node_store_t *store;
static node_engine_t *engine;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void exec(const char *sql)
{
    char *cause = NULL;
    cr_assert_eq(node_store_exec(store, sql, &cause), HEARTH_OK, "%s: %s", sql, cause);
}

/* Creates dataset name with the given columns (name and type each) and
 * returns its table id. Rows are added with add_row. */
static int64_t create(const char *name, size_t ncols, const char *const *cols,
                      const node_col_type_t *types)
{
    sqlite3 *db = node_store_db(store);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO datasets(name, rows, persons, "
                                    "ingested_at) VALUES(?, 0, 0, 'now')", -1, &st, NULL),
                 SQLITE_OK);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    int64_t id = sqlite3_last_insert_rowid(db);
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "CREATE TABLE d_%lld(rec INTEGER PRIMARY KEY, person "
                     "INTEGER NOT NULL, t_nhs BLOB, t_dsp BLOB", (long long)id);
    static const char *const decl[] = {"TEXT", "INTEGER", "REAL", "TEXT"};
    for (size_t k = 0; k < ncols; k++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", a%zu %s", k, decl[types[k]]);
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    exec(sql);
    cr_assert_eq(sqlite3_prepare_v2(db, "INSERT INTO columns VALUES(?, ?, ?, ?)", -1, &st,
                                    NULL), SQLITE_OK);
    for (size_t k = 0; k < ncols; k++) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, (int64_t)k);
        sqlite3_bind_text(st, 3, cols[k], -1, SQLITE_TRANSIENT);
        sqlite3_bind_int(st, 4, (int)types[k]);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    }
    sqlite3_finalize(st);
    return id;
}

/* Adds one row: cells[k] NULL for a NULL cell, else bound as the column's
 * storage type (integer, real, or text). */
static void add_row(int64_t id, int64_t person, size_t ncols, const node_col_type_t *types,
                    const char *const *cells)
{
    sqlite3 *db = node_store_db(store);
    char sql[512];
    int n = snprintf(sql, sizeof sql, "INSERT INTO d_%lld(person", (long long)id);
    for (size_t k = 0; k < ncols; k++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", a%zu", k);
    n += snprintf(sql + n, sizeof sql - (size_t)n, ") VALUES(?");
    for (size_t k = 0; k < ncols; k++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", ?");
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
                 sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, person);
    for (size_t k = 0; k < ncols; k++) {
        int p = (int)k + 2;
        if (cells[k] == NULL)
            sqlite3_bind_null(st, p);
        else if (types[k] == NODE_COL_INTEGER)
            sqlite3_bind_int64(st, p, strtoll(cells[k], NULL, 10));
        else if (types[k] == NODE_COL_DECIMAL)
            sqlite3_bind_double(st, p, strtod(cells[k], NULL));
        else
            sqlite3_bind_text(st, p, cells[k], -1, SQLITE_TRANSIENT);
    }
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

static void load(void)
{
    char *cause = NULL;
    cr_assert_eq(node_engine_load(engine, store, &cause), HEARTH_OK, "%s", cause);
}

/* Dataset "t": eleven rows of seven persons, out of person order, with
 * NULLs in every column. Column ordinals: */
enum { CAT, G2, G3, N, X, D, NCOLS };
static const char *const T_COLS[NCOLS] = {"cat", "g2", "g3", "n", "x", "d"};
static const node_col_type_t T_TYPES[NCOLS] = {
    NODE_COL_CATEGORICAL, NODE_COL_CATEGORICAL, NODE_COL_CATEGORICAL,
    NODE_COL_INTEGER, NODE_COL_DECIMAL, NODE_COL_DATE};
static const struct {
    int64_t person;
    const char *cells[NCOLS];
} T_ROWS[] = {
    /* r1  */ {30, {"b", "Y", "p", "5", "2.5", "2024-01-31"}},
    /* r2  */ {10, {"a", "X", "p", "-3", "0.1", "2023-12-31"}},
    /* r3  */ {20, {NULL, "X", "q", "0", NULL, "2024-02-29"}},
    /* r4  */ {10, {"a", NULL, "p", NULL, "-1.5", NULL}},
    /* r5  */ {40, {"c", "Y", "p", "100", "10", "2024-03-01"}},
    /* r6  */ {30, {"b", "X", "p", "5", "2.5", "2024-01-31"}},
    /* r7  */ {50, {"ab", "Y", NULL, "7", "7.25", "1970-01-01"}},
    /* r8  */ {20, {"b", NULL, "q", NULL, "3", "1969-12-31"}},
    /* r9  */ {60, {NULL, NULL, "q", "2", NULL, "2000-02-29"}},
    /* r10 */ {40, {"c", "X", "p", "-3", "0", "2024-03-01"}},
    /* r11 */ {70, {"B", "Y", "p", "50", "100.125", "2100-01-01"}},
};
#define T_NROWS (sizeof T_ROWS / sizeof *T_ROWS)

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-engine-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/node.db", dir);
    char *cause = NULL;
    cr_assert_eq(node_store_open(db_path, &store, &cause), HEARTH_OK, "%s", cause);
    int64_t id = create("t", NCOLS, T_COLS, T_TYPES);
    for (size_t r = 0; r < T_NROWS; r++)
        add_row(id, T_ROWS[r].person, NCOLS, T_TYPES, T_ROWS[r].cells);
    engine = node_engine_new();
    load();
}

static void teardown(void)
{
    node_engine_destroy(&engine);
    node_store_destroy(&store);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(node_engine, .init = setup, .fini = teardown);

/* ---- building queries -------------------------------------------------- */

typedef struct {
    node_engine_term_t *t;
    node_engine_value_t *v;
    size_t nt, nv, cap;
} filter_t;

static filter_t *filter_new(size_t cap)
{
    filter_t *f = calloc(1, sizeof *f);
    f->t = calloc(cap, sizeof *f->t);
    f->v = calloc(cap * 4 + 16, sizeof *f->v);
    f->cap = cap;
    return f;
}

static void filter_free(filter_t *f)
{
    if (f == NULL)
        return;
    free(f->t);
    free(f->v);
    free(f);
}

static node_engine_value_t txt(const char *s)
{
    return (node_engine_value_t){.kind = NODE_ENGINE_VALUE_TEXT, .text = s, .len = strlen(s)};
}

static node_engine_value_t num(int64_t i)
{
    return (node_engine_value_t){.kind = NODE_ENGINE_VALUE_INTEGER, .integer = i};
}

static node_engine_value_t dec(double d)
{
    return (node_engine_value_t){.kind = NODE_ENGINE_VALUE_DECIMAL, .decimal = d};
}

/* Appends a leaf with n values (node_engine_value_t varargs). */
static void leaf(filter_t *f, node_engine_op_t op, size_t col, int n, ...)
{
    cr_assert_lt(f->nt, f->cap);
    node_engine_term_t *t = &f->t[f->nt++];
    t->op = op;
    t->column = col;
    t->values = &f->v[f->nv];
    t->nvalues = (size_t)n;
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        f->v[f->nv++] = va_arg(ap, node_engine_value_t);
    va_end(ap);
}

static void op(filter_t *f, node_engine_op_t o)
{
    cr_assert_lt(f->nt, f->cap);
    f->t[f->nt++] = (node_engine_term_t){.op = o};
}

static node_engine_query_t query(const filter_t *f)
{
    return (node_engine_query_t){.dataset = 0, .measure = -1, .nterms = f ? f->nt : 0,
                                 .terms = f ? f->t : NULL};
}

static node_engine_result_t *run(const node_engine_query_t *q)
{
    node_engine_result_t *r = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_engine_run(engine, q, &r, &cause);
    cr_assert_eq(rc, HEARTH_OK, "rc %d: %s", rc, cause ? cause : "");
    cr_assert_null(cause);
    cr_assert_not_null(r);
    return r;
}

static void refused(const node_engine_query_t *q, hearth_err_t want, const char *want_cause)
{
    node_engine_result_t *r = (node_engine_result_t *)0x1;
    char *cause = NULL;
    hearth_err_t rc = node_engine_run(engine, q, &r, &cause);
    cr_assert_eq(rc, want, "rc %d (%s), wanted %d", rc, cause ? cause : "", want);
    cr_assert_null(r);
    cr_assert_str_eq(cause, want_cause);
    free(cause);
}

/* Runs f (freed here) with no grouping and checks the total. */
static void expect(filter_t *f, uint64_t records, uint64_t persons)
{
    node_engine_query_t q = query(f);
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 0);
    cr_assert_eq(r->total.records, records, "records %llu, wanted %llu",
                 (unsigned long long)r->total.records, (unsigned long long)records);
    cr_assert_eq(r->total.persons, persons, "persons %llu, wanted %llu",
                 (unsigned long long)r->total.persons, (unsigned long long)persons);
    cr_assert_eq(r->total.measured, 0);
    node_engine_result_destroy(&r);
    cr_assert_null(r);
    filter_free(f);
}

/* One leaf with one value, checked. */
static void expect1(node_engine_op_t o, size_t col, node_engine_value_t v, uint64_t records,
                    uint64_t persons)
{
    filter_t *f = filter_new(4);
    leaf(f, o, col, 1, v);
    expect(f, records, persons);
}

static void expect_refused1(node_engine_op_t o, size_t col, node_engine_value_t v,
                            hearth_err_t rc, const char *cause)
{
    filter_t *f = filter_new(4);
    leaf(f, o, col, 1, v);
    node_engine_query_t q = query(f);
    refused(&q, rc, cause);
    filter_free(f);
}

/* The text of a group's k-th code in column col, or "NULL". */
static const char *cell(size_t col, const node_engine_group_t *g, size_t k)
{
    const char *s = node_engine_text(engine, 0, col, g->codes[k], NULL);
    return s ? s : "NULL";
}

/* ---- loading and the catalogue ------------------------------------------ */

Test(node_engine, loads_the_catalogue_and_every_row)
{
    cr_assert_eq(node_engine_ndatasets(engine), 1);
    const node_store_dataset_t *d = node_engine_dataset(engine, 0);
    cr_assert_str_eq(d->name, "t");
    cr_assert_eq(d->ncolumns, NCOLS);
    for (size_t k = 0; k < NCOLS; k++) {
        cr_assert_str_eq(d->columns[k].name, T_COLS[k]);
        cr_assert_eq(d->columns[k].type, T_TYPES[k]);
    }
    cr_assert_eq(node_engine_nrows(engine, 0), T_NROWS);
    cr_assert_eq(node_engine_find(engine, "t"), 0);
    cr_assert_eq(node_engine_find(engine, "T"), -1);
    cr_assert_null(node_engine_dataset(engine, 1));
    expect(NULL, 11, 7);
}

Test(node_engine, codes_follow_byte_order_with_null_as_zero)
{
    static const char *const want[] = {"B", "a", "ab", "b", "c"};
    size_t len = 0;
    cr_assert_null(node_engine_text(engine, 0, CAT, 0, NULL));
    for (uint32_t c = 1; c <= 5; c++) {
        cr_assert_str_eq(node_engine_text(engine, 0, CAT, c, &len), want[c - 1]);
        cr_assert_eq(len, strlen(want[c - 1]));
    }
    cr_assert_null(node_engine_text(engine, 0, CAT, 6, NULL));
    cr_assert_null(node_engine_text(engine, 0, N, 1, NULL));
    cr_assert_null(node_engine_text(engine, 1, CAT, 1, NULL));
}

Test(node_engine, catalogue_lists_values_held_by_eight_persons_or_more)
{
    static const char *const cols[] = {"kind", "amount"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL, NODE_COL_INTEGER};
    int64_t id = create("c", 2, cols, types);
    /* "common": 8 persons; "rare": 7 persons over 14 rows; "ten": 10
     * persons; NULL: 20 persons. */
    for (int p = 0; p < 8; p++)
        add_row(id, 100 + p, 2, types, (const char *const[]){"common", "1"});
    for (int p = 0; p < 14; p++)
        add_row(id, 200 + p % 7, 2, types, (const char *const[]){"rare", "1"});
    for (int p = 0; p < 10; p++)
        add_row(id, 300 + p, 2, types, (const char *const[]){"ten", NULL});
    for (int p = 0; p < 20; p++)
        add_row(id, 400 + p, 2, types, (const char *const[]){NULL, "2"});
    load();
    int i = node_engine_find(engine, "c");
    cr_assert_eq(i, 0);   /* "c" sorts before "t" */
    size_t n = 99;
    bool truncated = true;
    const char *const *v = node_engine_catalogue(engine, (size_t)i, 0, &n, &truncated);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(v[0], "common");
    cr_assert_str_eq(v[1], "ten");
    cr_assert_not(truncated);
    v = node_engine_catalogue(engine, (size_t)i, 1, &n, &truncated);
    cr_assert_eq(n, 0);
    cr_assert_not(truncated);
    v = node_engine_catalogue(engine, 9, 0, &n, &truncated);
    cr_assert_null(v);
    cr_assert_eq(n, 0);
}

Test(node_engine, catalogue_stops_at_two_hundred_values_and_says_so)
{
    static const char *const cols[] = {"code"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL};
    int64_t id = create("many", 1, cols, types);
    exec("BEGIN");
    char value[16];
    for (int v = 0; v < 201; v++) {
        snprintf(value, sizeof value, "v%03d", v);
        for (int p = 0; p < 8; p++)
            add_row(id, p, 1, types, (const char *const[]){value});
    }
    exec("COMMIT");
    load();
    int i = node_engine_find(engine, "many");
    size_t n = 0;
    bool truncated = false;
    const char *const *list = node_engine_catalogue(engine, (size_t)i, 0, &n, &truncated);
    cr_assert_eq(n, 200);
    cr_assert_str_eq(list[0], "v000");
    cr_assert_str_eq(list[199], "v199");
    cr_assert(truncated);
}

Test(node_engine, catalogue_leaves_out_values_the_wire_cannot_carry)
{
    static const char *const cols[] = {"code"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL};
    int64_t id = create("odd", 1, cols, types);
    char *longv = malloc(NODE_ENGINE_CATALOGUE_VALUE_MAX_LEN + 2);
    memset(longv, 'x', NODE_ENGINE_CATALOGUE_VALUE_MAX_LEN + 1);
    longv[NODE_ENGINE_CATALOGUE_VALUE_MAX_LEN + 1] = '\0';
    for (int p = 0; p < 8; p++) {
        add_row(id, p, 1, types, (const char *const[]){"ok"});
        add_row(id, p, 1, types, (const char *const[]){"bad\xff"});
        add_row(id, p, 1, types, (const char *const[]){longv});
    }
    free(longv);
    load();
    int i = node_engine_find(engine, "odd");
    size_t n = 0;
    bool truncated = false;
    const char *const *list = node_engine_catalogue(engine, (size_t)i, 0, &n, &truncated);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(list[0], "ok");
    cr_assert(truncated);
}

Test(node_engine, a_failed_load_keeps_what_was_loaded_and_names_the_column)
{
    static const char *const cols[] = {"age"};
    static const node_col_type_t types[] = {NODE_COL_INTEGER};
    int64_t id = create("broken", 1, cols, types);
    char sql[96];
    snprintf(sql, sizeof sql, "INSERT INTO d_%lld(person, a0) VALUES(1, 'secret-ish')",
             (long long)id);
    exec(sql);
    char *cause = NULL;
    cr_assert_eq(node_engine_load(engine, store, &cause), HEARTH_ERR_FORMAT);
    cr_assert_str_eq(cause, "dataset broken: column 'age' holds a value that is not an "
                     "integer");
    free(cause);
    cr_assert_eq(node_engine_ndatasets(engine), 1);
    cr_assert_str_eq(node_engine_dataset(engine, 0)->name, "t");
    expect(NULL, 11, 7);
}

Test(node_engine, a_second_load_sees_new_rows_and_new_datasets)
{
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO d_%lld(person, a0) VALUES(80, 'b')",
             (long long)node_engine_dataset(engine, 0)->id);
    exec(sql);
    static const char *const cols[] = {"k"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL};
    int64_t id = create("u", 1, cols, types);
    add_row(id, 1, 1, types, (const char *const[]){"z"});
    load();
    cr_assert_eq(node_engine_ndatasets(engine), 2);
    cr_assert_eq(node_engine_find(engine, "u"), 1);
    expect1(NODE_ENGINE_EQ, CAT, txt("b"), 4, 3);
}

Test(node_engine, loads_an_empty_dataset)
{
    static const char *const cols[] = {"k", "n"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL, NODE_COL_DECIMAL};
    create("a_empty", 2, cols, types);
    load();
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {0}, .measure = 1};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 0);
    cr_assert_eq(r->total.records, 0);
    cr_assert_eq(r->total.persons, 0);
    node_engine_result_destroy(&r);
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, 0, 1, txt("x"));
    q.nterms = f->nt;
    q.terms = f->t;
    r = run(&q);
    cr_assert_eq(r->total.records, 0);
    node_engine_result_destroy(&r);
    filter_free(f);
}

Test(node_engine, parses_dates_that_exist)
{
    int64_t d = 99;
    cr_assert(node_engine_parse_date("1970-01-01", 10, &d));
    cr_assert_eq(d, 0);
    cr_assert(node_engine_parse_date("1969-12-31", 10, &d));
    cr_assert_eq(d, -1);
    cr_assert(node_engine_parse_date("2000-03-01", 10, &d));
    cr_assert_eq(d, 11017);
    cr_assert(node_engine_parse_date("2000-02-29", 10, &d));
    cr_assert(node_engine_parse_date("2024-02-29", 10, &d));
    cr_assert_not(node_engine_parse_date("2023-02-29", 10, &d));
    cr_assert_not(node_engine_parse_date("1900-02-29", 10, &d));
    cr_assert_not(node_engine_parse_date("2024-04-31", 10, &d));
    cr_assert_not(node_engine_parse_date("2024-13-01", 10, &d));
    cr_assert_not(node_engine_parse_date("2024-00-01", 10, &d));
    cr_assert_not(node_engine_parse_date("2024-1-01", 9, &d));
    cr_assert_not(node_engine_parse_date("31/01/2024", 10, &d));
    cr_assert_not(node_engine_parse_date("2024-01-31x", 11, &d));
    cr_assert_not(node_engine_parse_date("2024-01-3", 10, &d));
}

/* ---- categorical ------------------------------------------------------- */

Test(node_engine, categorical_eq_and_ne)
{
    expect1(NODE_ENGINE_EQ, CAT, txt("b"), 3, 2);
    expect1(NODE_ENGINE_EQ, CAT, txt("B"), 1, 1);
    expect1(NODE_ENGINE_EQ, CAT, txt("zz"), 0, 0);
    expect1(NODE_ENGINE_EQ, CAT, txt(""), 0, 0);
    expect1(NODE_ENGINE_NE, CAT, txt("b"), 6, 4);
    /* Not in the dictionary: every non-NULL row differs. */
    expect1(NODE_ENGINE_NE, CAT, txt("zz"), 9, 6);
}

Test(node_engine, categorical_ordering_compares_bytes)
{
    expect1(NODE_ENGINE_LT, CAT, txt("b"), 4, 3);
    expect1(NODE_ENGINE_LE, CAT, txt("b"), 7, 5);
    expect1(NODE_ENGINE_GT, CAT, txt("ab"), 5, 3);
    expect1(NODE_ENGINE_GE, CAT, txt("ab"), 6, 4);
    /* Upper case sorts before lower case; a prefix before its extensions. */
    expect1(NODE_ENGINE_LT, CAT, txt("a"), 1, 1);
    expect1(NODE_ENGINE_LT, CAT, txt("ab"), 3, 2);
    /* Bounds not in the dictionary. */
    expect1(NODE_ENGINE_GT, CAT, txt("bb"), 2, 1);
    expect1(NODE_ENGINE_GE, CAT, txt("bb"), 2, 1);
    expect1(NODE_ENGINE_LT, CAT, txt("A"), 0, 0);
    expect1(NODE_ENGINE_GT, CAT, txt("d"), 0, 0);
    expect1(NODE_ENGINE_LE, CAT, txt("\x7f"), 9, 6);
}

Test(node_engine, categorical_between_and_in)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, CAT, 2, txt("a"), txt("b"));
    expect(f, 6, 4);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, CAT, 2, txt("b"), txt("a"));
    expect(f, 0, 0);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, CAT, 2, txt("aa"), txt("bz"));
    expect(f, 4, 3);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, CAT, 3, txt("c"), txt("zz"), txt("B"));
    expect(f, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, CAT, 2, txt("zz"), txt("yy"));
    expect(f, 0, 0);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, CAT, 3, txt("a"), txt("a"), txt("a"));
    expect(f, 2, 1);
}

Test(node_engine, categorical_is_null_and_is_not_null)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NULL, CAT, 0);
    expect(f, 2, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, CAT, 0);
    expect(f, 9, 6);
}

/* ---- integer ----------------------------------------------------------- */

Test(node_engine, integer_comparisons_with_integers)
{
    expect1(NODE_ENGINE_EQ, N, num(5), 2, 1);
    expect1(NODE_ENGINE_NE, N, num(5), 7, 6);
    expect1(NODE_ENGINE_LT, N, num(0), 2, 2);
    expect1(NODE_ENGINE_LE, N, num(-3), 2, 2);
    expect1(NODE_ENGINE_GT, N, num(5), 3, 3);
    expect1(NODE_ENGINE_GE, N, num(7), 3, 3);
    expect1(NODE_ENGINE_EQ, N, num(4), 0, 0);
}

Test(node_engine, integer_comparisons_with_decimals)
{
    expect1(NODE_ENGINE_EQ, N, dec(5.0), 2, 1);
    expect1(NODE_ENGINE_EQ, N, dec(5.5), 0, 0);
    expect1(NODE_ENGINE_NE, N, dec(5.5), 9, 7);
    expect1(NODE_ENGINE_LT, N, dec(0.5), 3, 3);
    expect1(NODE_ENGINE_LE, N, dec(-2.5), 2, 2);
    expect1(NODE_ENGINE_GT, N, dec(4.5), 5, 4);
    expect1(NODE_ENGINE_GE, N, dec(6.5), 3, 3);
    expect1(NODE_ENGINE_LT, N, dec(-3.0), 0, 0);
    expect1(NODE_ENGINE_LE, N, dec(-3.0), 2, 2);
}

Test(node_engine, integer_comparisons_at_the_ends_of_the_range)
{
    expect1(NODE_ENGINE_GT, N, dec(9.3e18), 0, 0);
    expect1(NODE_ENGINE_LT, N, dec(1e300), 9, 7);
    expect1(NODE_ENGINE_LT, N, dec(-1e300), 0, 0);
    expect1(NODE_ENGINE_GT, N, dec(-INFINITY), 9, 7);
    expect1(NODE_ENGINE_LT, N, dec(INFINITY), 9, 7);
    expect1(NODE_ENGINE_EQ, N, num(INT64_MAX), 0, 0);
    expect1(NODE_ENGINE_GT, N, num(INT64_MAX), 0, 0);
    expect1(NODE_ENGINE_LT, N, num(INT64_MIN), 0, 0);
    expect1(NODE_ENGINE_GE, N, num(INT64_MIN), 9, 7);
    expect1(NODE_ENGINE_LE, N, num(INT64_MAX), 9, 7);
}

Test(node_engine, integer_between_in_and_nulls)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, N, 2, num(0), num(5));
    expect(f, 4, 3);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, N, 2, dec(-2.5), dec(2.5));
    expect(f, 2, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, N, 2, num(5), num(0));
    expect(f, 0, 0);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, N, 4, num(5), num(100), dec(2.5), num(42));
    expect(f, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, N, 2, dec(100.0), dec(-3.0));
    expect(f, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NULL, N, 0);
    expect(f, 2, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, N, 0);
    expect(f, 9, 7);
}

/* ---- decimal ----------------------------------------------------------- */

Test(node_engine, decimal_comparisons)
{
    expect1(NODE_ENGINE_EQ, X, dec(2.5), 2, 1);
    expect1(NODE_ENGINE_EQ, X, num(3), 1, 1);
    expect1(NODE_ENGINE_EQ, X, num(0), 1, 1);
    expect1(NODE_ENGINE_NE, X, dec(2.5), 7, 5);
    expect1(NODE_ENGINE_LT, X, dec(0.1), 2, 2);
    expect1(NODE_ENGINE_LE, X, dec(0.1), 3, 2);
    expect1(NODE_ENGINE_GT, X, num(3), 3, 3);
    expect1(NODE_ENGINE_GE, X, num(3), 4, 4);
    expect1(NODE_ENGINE_GT, X, dec(INFINITY), 0, 0);
    expect1(NODE_ENGINE_LT, X, dec(INFINITY), 9, 6);
}

Test(node_engine, decimal_between_in_and_nulls)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, X, 2, num(0), dec(2.5));
    expect(f, 4, 3);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, X, 3, dec(2.5), num(10), dec(11));
    expect(f, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NULL, X, 0);
    expect(f, 2, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, X, 0);
    expect(f, 9, 6);
}

/* ---- date -------------------------------------------------------------- */

Test(node_engine, date_comparisons)
{
    expect1(NODE_ENGINE_EQ, D, txt("2024-01-31"), 2, 1);
    expect1(NODE_ENGINE_NE, D, txt("2024-03-01"), 8, 6);
    expect1(NODE_ENGINE_LT, D, txt("2024-01-01"), 4, 4);
    expect1(NODE_ENGINE_LE, D, txt("1970-01-01"), 2, 2);
    expect1(NODE_ENGINE_GT, D, txt("2024-02-29"), 3, 2);
    expect1(NODE_ENGINE_GE, D, txt("2024-02-29"), 4, 3);
    expect1(NODE_ENGINE_EQ, D, txt("1999-01-01"), 0, 0);
}

Test(node_engine, date_between_in_and_nulls)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, D, 2, txt("1969-12-31"), txt("2000-02-29"));
    expect(f, 3, 3);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, D, 3, txt("2024-03-01"), txt("2100-01-01"), txt("1999-01-01"));
    expect(f, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NULL, D, 0);
    expect(f, 1, 1);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, D, 0);
    expect(f, 10, 7);
}

/* ---- three-valued logic ------------------------------------------------ */

Test(node_engine, not_over_null_is_unknown)
{
    /* NOT (n > 5) leaves out the rows whose n is NULL. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    op(f, NODE_ENGINE_NOT);
    expect(f, 6, 5);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    op(f, NODE_ENGINE_NOT);
    op(f, NODE_ENGINE_NOT);
    expect(f, 3, 2);
}

Test(node_engine, or_with_unknown_is_true_when_either_is_true)
{
    /* r4 has n NULL (UNKNOWN) but cat = 'a' (TRUE): it matches. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("a"));
    op(f, NODE_ENGINE_OR);
    expect(f, 5, 4);
}

Test(node_engine, not_over_or_with_unknown_stays_unknown)
{
    /* Only rows where both sides are FALSE: r1, r6, r10. */
    filter_t *f = filter_new(8);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("a"));
    op(f, NODE_ENGINE_OR);
    op(f, NODE_ENGINE_NOT);
    expect(f, 3, 2);
}

Test(node_engine, and_with_unknown_is_false_when_either_is_false)
{
    /* NOT (cat = 'b' AND n = 5): r3 and r9 (cat NULL, n not 5) are
     * UNKNOWN AND FALSE = FALSE, so NOT makes them TRUE; r8 (b, NULL) is
     * TRUE AND UNKNOWN = UNKNOWN and stays out. */
    filter_t *f = filter_new(8);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    leaf(f, NODE_ENGINE_EQ, N, 1, num(5));
    op(f, NODE_ENGINE_AND);
    op(f, NODE_ENGINE_NOT);
    expect(f, 8, 6);
}

Test(node_engine, is_null_is_never_unknown)
{
    filter_t *f = filter_new(8);
    leaf(f, NODE_ENGINE_IS_NULL, X, 0);
    leaf(f, NODE_ENGINE_IS_NULL, N, 0);
    op(f, NODE_ENGINE_AND);
    op(f, NODE_ENGINE_NOT);
    expect(f, 11, 7);
    f = filter_new(8);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, CAT, 0);
    op(f, NODE_ENGINE_NOT);
    expect(f, 2, 2);
}

Test(node_engine, in_over_a_null_cell_is_unknown)
{
    filter_t *f = filter_new(8);
    leaf(f, NODE_ENGINE_IN, CAT, 2, txt("a"), txt("b"));
    op(f, NODE_ENGINE_NOT);
    expect(f, 4, 3);   /* r5, r7, r10, r11: not r3, r9 */
}

Test(node_engine, true_terms_combine)
{
    filter_t *f = filter_new(8);
    op(f, NODE_ENGINE_TRUE);
    expect(f, 11, 7);
    f = filter_new(8);
    op(f, NODE_ENGINE_TRUE);
    op(f, NODE_ENGINE_NOT);
    expect(f, 0, 0);
    f = filter_new(8);
    op(f, NODE_ENGINE_TRUE);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("c"));
    op(f, NODE_ENGINE_AND);
    expect(f, 2, 1);
}

/* ---- grouping ---------------------------------------------------------- */

Test(node_engine, groups_by_one_column_null_first_then_byte_order)
{
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {CAT}, .measure = -1};
    node_engine_result_t *r = run(&q);
    static const struct {
        const char *v;
        uint64_t records, persons;
    } want[] = {{"NULL", 2, 2}, {"B", 1, 1}, {"a", 2, 1}, {"ab", 1, 1}, {"b", 3, 2},
                {"c", 2, 1}};
    cr_assert_eq(r->ngroups, 6);
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(cell(CAT, &r->groups[i], 0), want[i].v, "group %zu", i);
        cr_assert_eq(r->groups[i].records, want[i].records, "group %zu", i);
        cr_assert_eq(r->groups[i].persons, want[i].persons, "group %zu", i);
    }
    cr_assert_eq(r->total.records, 11);
    cr_assert_eq(r->total.persons, 7);
    node_engine_result_destroy(&r);
}

Test(node_engine, the_total_counts_persons_once_across_groups)
{
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {G2}, .measure = -1};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 3);
    cr_assert_str_eq(cell(G2, &r->groups[0], 0), "NULL");
    cr_assert_eq(r->groups[0].records, 3);
    cr_assert_eq(r->groups[0].persons, 3);
    cr_assert_str_eq(cell(G2, &r->groups[1], 0), "X");
    cr_assert_eq(r->groups[1].records, 4);
    cr_assert_eq(r->groups[1].persons, 4);
    cr_assert_str_eq(cell(G2, &r->groups[2], 0), "Y");
    cr_assert_eq(r->groups[2].records, 4);
    cr_assert_eq(r->groups[2].persons, 4);
    /* 3 + 4 + 4 persons in the groups, 7 distinct in all. */
    cr_assert_eq(r->total.records, 11);
    cr_assert_eq(r->total.persons, 7);
    node_engine_result_destroy(&r);
}

Test(node_engine, groups_by_two_columns_in_order)
{
    node_engine_query_t q = {.dataset = 0, .ngroup = 2, .group = {G2, G3}, .measure = -1};
    node_engine_result_t *r = run(&q);
    static const struct {
        const char *a, *b;
        uint64_t records, persons;
    } want[] = {{"NULL", "p", 1, 1}, {"NULL", "q", 2, 2}, {"X", "p", 3, 3},
                {"X", "q", 1, 1},    {"Y", "NULL", 1, 1}, {"Y", "p", 3, 3}};
    cr_assert_eq(r->ngroups, 6);
    for (size_t i = 0; i < 6; i++) {
        cr_assert_str_eq(cell(G2, &r->groups[i], 0), want[i].a, "group %zu", i);
        cr_assert_str_eq(cell(G3, &r->groups[i], 1), want[i].b, "group %zu", i);
        cr_assert_eq(r->groups[i].records, want[i].records, "group %zu", i);
        cr_assert_eq(r->groups[i].persons, want[i].persons, "group %zu", i);
    }
    cr_assert_eq(r->total.records, 11);
    cr_assert_eq(r->total.persons, 7);
    node_engine_result_destroy(&r);
}

Test(node_engine, groups_by_three_columns_under_a_filter)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, N, 0);
    node_engine_query_t q = query(f);
    q.ngroup = 3;
    q.group[0] = CAT;
    q.group[1] = G2;
    q.group[2] = G3;
    node_engine_result_t *r = run(&q);
    static const char *const want[][3] = {
        {"NULL", "NULL", "q"}, {"NULL", "X", "q"}, {"B", "Y", "p"},
        {"a", "X", "p"},       {"ab", "Y", "NULL"}, {"b", "X", "p"},
        {"b", "Y", "p"},       {"c", "X", "p"},    {"c", "Y", "p"}};
    cr_assert_eq(r->ngroups, 9);
    for (size_t i = 0; i < 9; i++) {
        cr_assert_str_eq(cell(CAT, &r->groups[i], 0), want[i][0], "group %zu", i);
        cr_assert_str_eq(cell(G2, &r->groups[i], 1), want[i][1], "group %zu", i);
        cr_assert_str_eq(cell(G3, &r->groups[i], 2), want[i][2], "group %zu", i);
        cr_assert_eq(r->groups[i].records, 1);
        cr_assert_eq(r->groups[i].persons, 1);
    }
    cr_assert_eq(r->total.records, 9);
    cr_assert_eq(r->total.persons, 7);
    node_engine_result_destroy(&r);
    filter_free(f);
}

Test(node_engine, groups_only_the_matching_records)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, CAT, 2, txt("b"), txt("c"));
    node_engine_query_t q = query(f);
    q.ngroup = 1;
    q.group[0] = G3;
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 2);
    cr_assert_str_eq(cell(G3, &r->groups[0], 0), "p");
    cr_assert_eq(r->groups[0].records, 4);
    cr_assert_eq(r->groups[0].persons, 2);
    cr_assert_str_eq(cell(G3, &r->groups[1], 0), "q");
    cr_assert_eq(r->groups[1].records, 1);
    cr_assert_eq(r->groups[1].persons, 1);
    cr_assert_eq(r->total.records, 5);
    cr_assert_eq(r->total.persons, 3);
    node_engine_result_destroy(&r);
    filter_free(f);
}

Test(node_engine, a_filter_matching_nothing_has_no_groups)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("nothing"));
    node_engine_query_t q = query(f);
    q.ngroup = 2;
    q.group[0] = CAT;
    q.group[1] = G2;
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 0);
    cr_assert_eq(r->total.records, 0);
    cr_assert_eq(r->total.persons, 0);
    node_engine_result_destroy(&r);
    filter_free(f);
}

/* ---- SUM and MEAN ------------------------------------------------------ */

Test(node_engine, sums_an_integer_column_by_group_over_nulls)
{
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {G2}, .measure = N};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 3);
    /* NULL group: r4, r8 (n NULL), r9 (2). */
    cr_assert_eq(r->groups[0].records, 3);
    cr_assert_eq(r->groups[0].measured, 1);
    cr_assert_eq(r->groups[0].measured_persons, 1);
    cr_assert_eq(r->groups[0].sum, 2.0);
    /* X: -3, 0, 5, -3. */
    cr_assert_eq(r->groups[1].measured, 4);
    cr_assert_eq(r->groups[1].measured_persons, 4);
    cr_assert_eq(r->groups[1].sum, -1.0);
    /* Y: 5, 100, 7, 50. */
    cr_assert_eq(r->groups[2].measured, 4);
    cr_assert_eq(r->groups[2].measured_persons, 4);
    cr_assert_eq(r->groups[2].sum, 162.0);
    cr_assert_eq(r->total.records, 11);
    cr_assert_eq(r->total.persons, 7);
    cr_assert_eq(r->total.measured, 9);
    cr_assert_eq(r->total.measured_persons, 7);
    cr_assert_eq(r->total.sum, 163.0);
    node_engine_result_destroy(&r);
}

Test(node_engine, a_group_whose_values_are_all_null_still_appears)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("a"));
    node_engine_query_t q = query(f);
    q.ngroup = 1;
    q.group[0] = G2;
    q.measure = N;
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 2);
    cr_assert_str_eq(cell(G2, &r->groups[0], 0), "NULL");
    cr_assert_eq(r->groups[0].records, 1);
    cr_assert_eq(r->groups[0].measured, 0);
    cr_assert_eq(r->groups[0].measured_persons, 0);
    cr_assert_eq(r->groups[0].sum, 0.0);
    cr_assert_str_eq(cell(G2, &r->groups[1], 0), "X");
    cr_assert_eq(r->groups[1].measured, 1);
    cr_assert_eq(r->groups[1].measured_persons, 1);
    cr_assert_eq(r->groups[1].sum, -3.0);
    cr_assert_eq(r->total.records, 2);
    cr_assert_eq(r->total.measured, 1);
    cr_assert_eq(r->total.measured_persons, 1);
    cr_assert_eq(r->total.sum, -3.0);
    node_engine_result_destroy(&r);
    filter_free(f);
}

Test(node_engine, sums_a_decimal_column_counting_persons_once)
{
    node_engine_query_t q = {.dataset = 0, .measure = X};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->total.records, 11);
    cr_assert_eq(r->total.measured, 9);
    /* Person 30 has two values (r1, r6), person 10 two (r2, r4). */
    cr_assert_eq(r->total.measured_persons, 6);
    cr_assert_float_eq(r->total.sum, 123.975, 1e-9);
    node_engine_result_destroy(&r);
}

/* ---- the largest per-person contributions (dominance inputs) ------------ */

/* Dataset "a_top" (index 0, before "t"): wards A, B and C, every hand-
 * built row with f1 = f2 = "k", out of person order; then 300 filler rows
 * of ward Z with no measure, whose f1 and f2 values (f000..f299) make the
 * grouping by (ward, f1, f2) too large to count directly, so that it is
 * counted in the hash. v is an integer, w = v / 2 a decimal.
 *
 *   A: person 1: 10, -4 (14); 2: 20; 3: NULL, -1 (1); 4: 2, 2, 2 (6);
 *      8: -30           -> top 30, 20, 14; sum 1
 *   B: person 1: 3; 5: NULL; 6: -7  -> top 7, 3
 *   C: person 7: 0      -> top 0
 *   total, by person across wards: 1: 17; 2: 20; 3: 1; 4: 6; 6: 7; 7: 0;
 *      8: 30            -> top 30, 20, 17 */
enum { TW_WARD, TW_F1, TW_F2, TW_V, TW_W, TW_NCOLS };

static void create_top_dataset(void)
{
    static const char *const cols[TW_NCOLS] = {"ward", "f1", "f2", "v", "w"};
    static const node_col_type_t types[TW_NCOLS] = {
        NODE_COL_CATEGORICAL, NODE_COL_CATEGORICAL, NODE_COL_CATEGORICAL,
        NODE_COL_INTEGER, NODE_COL_DECIMAL};
    static const struct {
        int64_t person;
        const char *ward, *v, *w;
    } rows[] = {
        {8, "A", "-30", "-15"}, {1, "A", "10", "5"}, {4, "A", "2", "1"},
        {2, "A", "20", "10"}, {1, "B", "3", "1.5"}, {3, "A", NULL, NULL},
        {6, "B", "-7", "-3.5"}, {4, "A", "2", "1"}, {1, "A", "-4", "-2"},
        {5, "B", NULL, NULL}, {3, "A", "-1", "-0.5"}, {7, "C", "0", "0"},
        {4, "A", "2", "1"},
    };
    int64_t id = create("a_top", TW_NCOLS, cols, types);
    exec("BEGIN");
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++)
        add_row(id, rows[i].person, TW_NCOLS, types,
                (const char *const[]){rows[i].ward, "k", "k", rows[i].v, rows[i].w});
    char f[8];
    for (int i = 0; i < 300; i++) {
        snprintf(f, sizeof f, "f%03d", i);
        add_row(id, 1000 + i, TW_NCOLS, types, (const char *const[]){"Z", f, f, NULL, NULL});
    }
    exec("COMMIT");
    load();
    cr_assert_eq(node_engine_find(engine, "a_top"), 0);
}

static void expect_top(const node_engine_group_t *g, uint8_t ntop, double t0, double t1,
                       double t2, const char *what)
{
    cr_assert_eq(g->ntop, ntop, "%s: ntop %u, wanted %u", what, g->ntop, ntop);
    cr_assert_eq(g->top[0], t0, "%s: top[0] %g, wanted %g", what, g->top[0], t0);
    cr_assert_eq(g->top[1], t1, "%s: top[1] %g, wanted %g", what, g->top[1], t1);
    cr_assert_eq(g->top[2], t2, "%s: top[2] %g, wanted %g", what, g->top[2], t2);
}

/* Checks the wards A, B, C of r (at a, a + 1, a + 2) and its total; scale
 * is 1 for v, 0.5 for w. */
static void expect_top_wards(const node_engine_result_t *r, size_t a, double scale)
{
    const node_engine_group_t *g = &r->groups[a];
    cr_assert_str_eq(cell(TW_WARD, g, 0), "A");
    cr_assert_eq(g->records, 9);
    cr_assert_eq(g->persons, 5);
    cr_assert_eq(g->measured, 8);
    cr_assert_eq(g->measured_persons, 5);
    cr_assert_eq(g->sum, 1 * scale);
    expect_top(g, 3, 30 * scale, 20 * scale, 14 * scale, "A");
    g = &r->groups[a + 1];
    cr_assert_str_eq(cell(TW_WARD, g, 0), "B");
    cr_assert_eq(g->records, 3);
    cr_assert_eq(g->measured_persons, 2);
    expect_top(g, 2, 7 * scale, 3 * scale, 0, "B");
    g = &r->groups[a + 2];
    cr_assert_str_eq(cell(TW_WARD, g, 0), "C");
    cr_assert_eq(g->measured_persons, 1);
    expect_top(g, 1, 0, 0, 0, "C");
    cr_assert_eq(r->total.measured_persons, 7);
    expect_top(&r->total, 3, 30 * scale, 20 * scale, 17 * scale, "total");
}

Test(node_engine, sum_keeps_the_three_largest_per_person_sums_of_absolute_values)
{
    create_top_dataset();
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {TW_WARD}, .measure = TW_V};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 4);
    expect_top_wards(r, 0, 1);
    /* Ward Z has rows but no measured value: no contribution at all. */
    cr_assert_str_eq(cell(TW_WARD, &r->groups[3], 0), "Z");
    cr_assert_eq(r->groups[3].records, 300);
    expect_top(&r->groups[3], 0, 0, 0, 0, "Z");
    node_engine_result_destroy(&r);
}

Test(node_engine, top_sums_of_a_decimal_measure)
{
    create_top_dataset();
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {TW_WARD}, .measure = TW_W};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 4);
    expect_top_wards(r, 0, 0.5);
    node_engine_result_destroy(&r);
}

Test(node_engine, top_sums_are_the_same_when_groups_are_counted_in_the_hash)
{
    create_top_dataset();
    /* 5 x 302 x 302 combinations: past the directly indexed array. */
    node_engine_query_t q = {.dataset = 0, .ngroup = 3, .group = {TW_WARD, TW_F1, TW_F2},
                             .measure = TW_V};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 303);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_str_eq(cell(TW_F1, &r->groups[i], 1), "k");
        cr_assert_str_eq(cell(TW_F2, &r->groups[i], 2), "k");
    }
    expect_top_wards(r, 0, 1);
    for (size_t i = 3; i < r->ngroups; i++)
        expect_top(&r->groups[i], 0, 0, 0, 0, "Z");
    node_engine_result_destroy(&r);
}

Test(node_engine, top_sums_follow_the_filter)
{
    create_top_dataset();
    /* v > 0: A keeps persons 1 (10), 2 (20), 4 (6); B person 1 (3). */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, TW_V, 1, num(0));
    node_engine_query_t q = query(f);
    q.ngroup = 1;
    q.group[0] = TW_WARD;
    q.measure = TW_V;
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 2);
    expect_top(&r->groups[0], 3, 20, 10, 6, "A");
    expect_top(&r->groups[1], 1, 3, 0, 0, "B");
    /* Person 1: 10 in A and 3 in B. */
    expect_top(&r->total, 3, 20, 13, 6, "total");
    node_engine_result_destroy(&r);
    filter_free(f);
}

Test(node_engine, counts_carry_no_top_sums)
{
    create_top_dataset();
    node_engine_query_t q = {.dataset = 0, .ngroup = 1, .group = {TW_WARD}, .measure = -1};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 4);
    for (size_t i = 0; i < r->ngroups; i++)
        expect_top(&r->groups[i], 0, 0, 0, 0, "group");
    expect_top(&r->total, 0, 0, 0, 0, "total");
    node_engine_result_destroy(&r);
    /* Filtered, and with no grouping at all. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, TW_V, 1, num(0));
    q = query(f);
    r = run(&q);
    cr_assert_eq(r->total.records, 6);
    expect_top(&r->total, 0, 0, 0, 0, "total");
    node_engine_result_destroy(&r);
    filter_free(f);
}

Test(node_engine, a_persons_contribution_carries_across_blocks_of_rows)
{
    /* Person 1's 5000 rows and person 2's 5000 span the 4096-row blocks. */
    static const char *const cols[] = {"ward", "v"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL, NODE_COL_INTEGER};
    int64_t id = create("a_long", 2, cols, types);
    exec("BEGIN");
    for (int i = 0; i < 5000; i++) {
        add_row(id, 1, 2, types, (const char *const[]){"A", "1"});
        add_row(id, 2, 2, types, (const char *const[]){"A", "-2"});
    }
    add_row(id, 3, 2, types, (const char *const[]){"B", "3"});
    add_row(id, 2, 2, types, (const char *const[]){"B", "4"});
    exec("COMMIT");
    load();
    cr_assert_eq(node_engine_find(engine, "a_long"), 0);
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NOT_NULL, 1, 0);
    for (int filtered = 0; filtered < 2; filtered++) {
        node_engine_query_t q = query(filtered ? f : NULL);
        q.ngroup = 1;
        q.group[0] = 0;
        q.measure = 1;
        node_engine_result_t *r = run(&q);
        cr_assert_eq(r->ngroups, 2);
        expect_top(&r->groups[0], 2, 10000, 5000, 0, "A");
        expect_top(&r->groups[1], 2, 4, 3, 0, "B");
        expect_top(&r->total, 3, 10004, 5000, 3, "total");
        cr_assert_eq(r->total.sum, 5000 - 10000 + 3 + 4);
        node_engine_result_destroy(&r);
    }
    filter_free(f);
}

/* ---- limits and refusals ----------------------------------------------- */

Test(node_engine, refuses_grouping_by_a_column_that_is_not_categorical)
{
    static const struct {
        size_t col;
        const char *cause;
    } cases[] = {
        {N, "cannot GROUP BY 'n': its type is integer, and only categorical columns can be "
            "grouped"},
        {X, "cannot GROUP BY 'x': its type is decimal, and only categorical columns can be "
            "grouped"},
        {D, "cannot GROUP BY 'd': its type is date, and only categorical columns can be "
            "grouped"},
    };
    for (size_t i = 0; i < 3; i++) {
        node_engine_query_t q = {.dataset = 0, .ngroup = 2, .group = {CAT, cases[i].col},
                                 .measure = -1};
        refused(&q, HEARTH_ERR_REFUSED, cases[i].cause);
    }
}

Test(node_engine, refuses_a_measure_that_is_not_numeric)
{
    node_engine_query_t q = {.dataset = 0, .measure = CAT};
    refused(&q, HEARTH_ERR_REFUSED, "cannot sum 'cat': its type is categorical, and SUM and "
            "MEAN need an integer or decimal column");
    q.measure = D;
    refused(&q, HEARTH_ERR_REFUSED, "cannot sum 'd': its type is date, and SUM and MEAN need "
            "an integer or decimal column");
}

Test(node_engine, refuses_values_of_the_wrong_kind)
{
    const char *m = "malformed filter term";
    expect_refused1(NODE_ENGINE_EQ, CAT, num(1), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, CAT, dec(1.5), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, N, txt("5"), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_LT, X, txt("2.5"), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, X, dec(NAN), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, N, dec(NAN), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, D, num(19000), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, D, txt("2023-02-29"), HEARTH_ERR_PROTO, m);
    expect_refused1(NODE_ENGINE_EQ, D, txt("31/01/2024"), HEARTH_ERR_PROTO, m);
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, N, 3, num(1), num(2), txt("3"));
    node_engine_query_t q = query(f);
    refused(&q, HEARTH_ERR_PROTO, m);
    filter_free(f);
}

Test(node_engine, refuses_malformed_programs)
{
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("a"));
    op(f, NODE_ENGINE_AND);
    node_engine_query_t q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
    filter_free(f);
    f = filter_new(4);
    op(f, NODE_ENGINE_NOT);
    q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
    filter_free(f);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("a"));
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
    filter_free(f);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_TRUE, 0, 1, txt("a"));
    q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    filter_free(f);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, N, 1, num(1));
    q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    filter_free(f);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, N, 0);
    q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    filter_free(f);
    f = filter_new(4);
    leaf(f, (node_engine_op_t)99, N, 0);
    q = query(f);
    refused(&q, HEARTH_ERR_PROTO, "unknown filter operator");
    filter_free(f);
}

Test(node_engine, refuses_unknown_datasets_and_columns)
{
    node_engine_query_t q = {.dataset = 1, .measure = -1};
    refused(&q, HEARTH_ERR_NOT_FOUND, "no such dataset");
    q = (node_engine_query_t){.dataset = 0, .ngroup = 1, .group = {NCOLS}, .measure = -1};
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column 6 in dataset t");
    q = (node_engine_query_t){.dataset = 0, .measure = NCOLS};
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column 6 in dataset t");
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IS_NULL, 1000, 0);
    q = query(f);
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column 1000 in dataset t");
    filter_free(f);
}

Test(node_engine, refuses_over_the_limits)
{
    node_engine_query_t q = {.dataset = 0, .ngroup = 4, .group = {CAT, G2, G3}, .measure = -1};
    refused(&q, HEARTH_ERR_TOO_BIG, "at most 3 GROUP BY columns");
    filter_t *f = filter_new(NODE_ENGINE_MAX_TERMS + 1);
    for (int i = 0; i < NODE_ENGINE_MAX_TERMS + 1; i++)
        op(f, NODE_ENGINE_TRUE);
    q = query(f);
    refused(&q, HEARTH_ERR_TOO_BIG, "filter has 4097 terms (limit 4096)");
    filter_free(f);
    f = filter_new(2);
    node_engine_value_t *many = calloc(NODE_ENGINE_MAX_VALUES + 1, sizeof *many);
    for (int i = 0; i < NODE_ENGINE_MAX_VALUES + 1; i++)
        many[i] = num(i);
    f->t[0] = (node_engine_term_t){.op = NODE_ENGINE_IN, .column = N,
                                   .nvalues = NODE_ENGINE_MAX_VALUES + 1, .values = many};
    f->nt = 1;
    q = query(f);
    refused(&q, HEARTH_ERR_TOO_BIG, "filter has more than 10000 values");
    /* At the limit it answers: 5 and 100 are in 0..9999, and -3 is not. */
    f->t[0].nvalues = NODE_ENGINE_MAX_VALUES;
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->total.records, 7);
    node_engine_result_destroy(&r);
    free(many);
    filter_free(f);
}

Test(node_engine, answers_a_right_deep_filter_at_the_term_limit_without_recursion)
{
    /* 2048 leaves pushed before any operator: the deepest stack the term
     * limit allows. */
    filter_t *f = filter_new(NODE_ENGINE_MAX_TERMS);
    for (int i = 0; i < 2048; i++)
        leaf(f, i % 2 ? NODE_ENGINE_IS_NOT_NULL : NODE_ENGINE_GE, N, i % 2 ? 0 : 1, num(-i));
    for (int i = 0; i < 2047; i++)
        op(f, NODE_ENGINE_AND);
    op(f, NODE_ENGINE_NOT);
    cr_assert_eq(f->nt, NODE_ENGINE_MAX_TERMS);
    /* NOT (n >= 0 AND n IS NOT NULL AND ...): n < 0 (r2, r10) is TRUE, and
     * so is n NULL (r4, r8), where IS NOT NULL is FALSE. */
    expect(f, 4, 3);
}

Test(node_engine, answers_a_long_or_chain)
{
    filter_t *f = filter_new(NODE_ENGINE_MAX_TERMS);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("c"));
    char (*names)[8] = calloc(2000, sizeof *names);
    for (int i = 0; i < 2000; i++) {
        snprintf(names[i], sizeof names[i], "w%d", i);
        leaf(f, NODE_ENGINE_EQ, CAT, 1, txt(names[i]));
        op(f, NODE_ENGINE_OR);
    }
    expect(f, 2, 1);
    free(names);
}

/* ---- large dictionaries ------------------------------------------------ */

Test(node_engine, in_and_grouping_over_a_large_dictionary)
{
    /* 70000 distinct values: IN searches instead of using a bitmap, and a
     * two-column grouping (70001 x 70001 combinations) uses the hash. */
    static const char *const cols[] = {"u", "v"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL, NODE_COL_CATEGORICAL};
    int64_t id = create("a_wide", 2, cols, types);
    exec("BEGIN");
    char u[16], v[16];
    for (int i = 0; i < 70000; i++) {
        snprintf(u, sizeof u, "u%05d", i);
        snprintf(v, sizeof v, "v%05d", 69999 - i);
        add_row(id, i / 2, 2, types, (const char *const[]){u, i == 5 ? NULL : v});
    }
    exec("COMMIT");
    load();
    cr_assert_eq(node_engine_find(engine, "a_wide"), 0);
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_IN, 0, 4, txt("u00001"), txt("u69999"), txt("nope"), txt("u00000"));
    expect(f, 3, 2);
    node_engine_query_t q = {.dataset = 0, .ngroup = 2, .group = {1, 0}, .measure = -1};
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->ngroups, 70000);
    /* The NULL v first, then v00000 (u69999) upwards. */
    cr_assert_eq(r->groups[0].codes[0], 0);
    cr_assert_str_eq(node_engine_text(engine, 0, 0, r->groups[0].codes[1], NULL), "u00005");
    cr_assert_str_eq(node_engine_text(engine, 0, 1, r->groups[1].codes[0], NULL), "v00000");
    cr_assert_str_eq(node_engine_text(engine, 0, 0, r->groups[1].codes[1], NULL), "u69999");
    cr_assert_str_eq(node_engine_text(engine, 0, 0, r->groups[69999].codes[1], NULL),
                     "u00000");
    for (size_t i = 0; i < r->ngroups; i++)
        cr_assert_eq(r->groups[i].records, 1);
    cr_assert_eq(r->total.records, 70000);
    cr_assert_eq(r->total.persons, 35000);
    node_engine_result_destroy(&r);
}

/* ---- EXISTS atoms ------------------------------------------------------ */

/* Runs f (freed here) with natoms atoms under assignment a and checks the
 * total. */
static void expect_atoms(filter_t *f, size_t natoms, uint64_t a, uint64_t records,
                         uint64_t persons)
{
    node_engine_query_t q = query(f);
    q.natoms = natoms;
    q.assignment = a;
    node_engine_result_t *r = run(&q);
    cr_assert_eq(r->total.records, records, "records %llu, wanted %llu under %llu",
                 (unsigned long long)r->total.records, (unsigned long long)records,
                 (unsigned long long)a);
    cr_assert_eq(r->total.persons, persons);
    node_engine_result_destroy(&r);
    filter_free(f);
}

static void exists(filter_t *f, size_t atom)
{
    cr_assert_lt(f->nt, f->cap);
    f->t[f->nt++] = (node_engine_term_t){.op = NODE_ENGINE_EXISTS, .column = atom};
}

Test(node_engine, exists_is_true_or_false_for_every_row_as_the_assignment_says)
{
    filter_t *f = filter_new(4);
    exists(f, 0);
    expect_atoms(f, 1, 1, 11, 7);
    f = filter_new(4);
    exists(f, 0);
    expect_atoms(f, 1, 0, 0, 0);
    /* Bits at and above natoms are ignored. */
    f = filter_new(4);
    exists(f, 0);
    expect_atoms(f, 1, 2, 0, 0);
}

Test(node_engine, exists_under_and_and_not)
{
    /* cat = 'b' AND EXISTS: r1, r6, r8 (persons 30, 20) when it holds. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    exists(f, 0);
    op(f, NODE_ENGINE_AND);
    expect_atoms(f, 1, 1, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    exists(f, 0);
    op(f, NODE_ENGINE_AND);
    expect_atoms(f, 1, 0, 0, 0);
    /* cat = 'b' AND NOT EXISTS: the other way round. */
    f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    exists(f, 0);
    op(f, NODE_ENGINE_NOT);
    op(f, NODE_ENGINE_AND);
    expect_atoms(f, 1, 0, 3, 2);
}

Test(node_engine, exists_or_a_null_comparison_is_true_when_the_atom_holds)
{
    /* n > 5 OR EXISTS: UNKNOWN OR TRUE is TRUE, so r4 and r8 (n NULL) are
     * in; with the atom false only r5, r7 and r11 match. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_OR);
    expect_atoms(f, 1, 1, 11, 7);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_OR);
    expect_atoms(f, 1, 0, 3, 3);
    /* NOT (n > 5 OR EXISTS) with the atom false is NOT (n > 5): the NULL
     * rows stay UNKNOWN and out. */
    f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_OR);
    op(f, NODE_ENGINE_NOT);
    expect_atoms(f, 1, 0, 6, 5);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_OR);
    op(f, NODE_ENGINE_NOT);
    expect_atoms(f, 1, 1, 0, 0);
}

Test(node_engine, exists_and_a_null_comparison_is_false_when_the_atom_fails)
{
    /* NOT (n > 5 AND EXISTS): with the atom false, UNKNOWN AND FALSE is
     * FALSE, so every row (the NULL ones too) matches; with it true, only
     * the rows where n > 5 is known false. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_AND);
    op(f, NODE_ENGINE_NOT);
    expect_atoms(f, 1, 0, 11, 7);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_AND);
    op(f, NODE_ENGINE_NOT);
    expect_atoms(f, 1, 1, 6, 5);
}

Test(node_engine, several_atoms_each_follow_their_own_bit)
{
    /* EXISTS(0) AND NOT EXISTS(2), with EXISTS(1) OR cat = 'c' beside it. */
    static const struct {
        uint64_t a, records, persons;
    } cases[] = {{0, 0, 0}, {1, 2, 1}, {3, 11, 7}, {5, 0, 0}, {7, 0, 0}, {2, 0, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        filter_t *f = filter_new(8);
        exists(f, 0);
        exists(f, 2);
        op(f, NODE_ENGINE_NOT);
        op(f, NODE_ENGINE_AND);
        exists(f, 1);
        leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("c"));
        op(f, NODE_ENGINE_OR);
        op(f, NODE_ENGINE_AND);
        expect_atoms(f, 3, cases[i].a, cases[i].records, cases[i].persons);
    }
}

Test(node_engine, without_atoms_nothing_changes)
{
    /* natoms 0 and an assignment: the filter is as before. */
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    expect_atoms(f, 0, 1, 3, 2);
    f = filter_new(4);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    expect_atoms(f, 0, 0, 3, 2);
}

Test(node_engine, refuses_malformed_exists_terms)
{
    filter_t *f = filter_new(4);
    exists(f, 1);
    node_engine_query_t q = query(f);
    q.natoms = 1;
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    q.natoms = 0;
    f->t[0].column = 0;
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    q.natoms = 1;
    f->t[0].values = f->v;
    f->t[0].nvalues = 1;
    f->v[0] = txt("a");
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    f->t[0].nvalues = 0;
    q.natoms = 7;
    refused(&q, HEARTH_ERR_TOO_BIG, "at most 6 EXISTS sub-selects in one query");
    filter_free(f);
}

/* ---- selecting rows ---------------------------------------------------- */

/* Rows in person order: 0 r2, 1 r4 (person 10), 2 r3, 3 r8 (20), 4 r1,
 * 5 r6 (30), 6 r5, 7 r10 (40), 8 r7 (50), 9 r9 (60), 10 r11 (70). */
static uint64_t select_word(filter_t *f, size_t natoms, uint64_t a)
{
    node_engine_query_t q = query(f);
    q.natoms = natoms;
    q.assignment = a;
    uint64_t rows[2] = {~(uint64_t)0, 12345};
    char *cause = NULL;
    hearth_err_t rc = node_engine_select(engine, &q, rows, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
    cr_assert_eq(rows[1], 12345, "wrote past the one word of 11 rows");
    return rows[0];
}

Test(node_engine, select_sets_the_bits_of_the_known_true_rows)
{
    filter_t *f = filter_new(8);
    leaf(f, NODE_ENGINE_EQ, CAT, 1, txt("b"));
    cr_assert_eq(select_word(f, 0, 0), 0x38);   /* r8, r1, r6 */
    filter_free(f);
    /* n > 5 OR EXISTS. */
    f = filter_new(8);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    exists(f, 0);
    op(f, NODE_ENGINE_OR);
    cr_assert_eq(select_word(f, 1, 1), 0x7ff);
    cr_assert_eq(select_word(f, 1, 0), 0x540);  /* r5, r7, r11 */
    filter_free(f);
    /* No filter: every row, and nothing past the last. */
    cr_assert_eq(select_word(NULL, 0, 0), 0x7ff);
    /* UNKNOWN is not TRUE: NOT (n > 5) leaves out r4 and r8. */
    f = filter_new(8);
    leaf(f, NODE_ENGINE_GT, N, 1, num(5));
    op(f, NODE_ENGINE_NOT);
    cr_assert_eq(select_word(f, 0, 0), 0x2b5);
    filter_free(f);
}

Test(node_engine, select_crosses_blocks_and_refuses_as_run_does)
{
    static const char *const cols[] = {"n"};
    static const node_col_type_t types[] = {NODE_COL_INTEGER};
    int64_t id = create("a_rows", 1, cols, types);
    exec("BEGIN");
    char n[16];
    for (int i = 0; i < 5000; i++) {
        snprintf(n, sizeof n, "%d", i);
        add_row(id, i, 1, types, (const char *const[]){n});
    }
    exec("COMMIT");
    load();
    filter_t *f = filter_new(4);
    leaf(f, NODE_ENGINE_BETWEEN, 0, 2, num(4090), num(4099));
    node_engine_query_t q = query(f);
    uint64_t rows[(5000 + 63) / 64];
    memset(rows, 0xa5, sizeof rows);
    char *cause = NULL;
    cr_assert_eq(node_engine_select(engine, &q, rows, &cause), HEARTH_OK);
    for (size_t r = 0; r < 5000; r++)
        cr_assert_eq((rows[r / 64] >> (r % 64)) & 1, r >= 4090 && r <= 4099, "row %zu", r);
    q.dataset = 2;
    cr_assert_eq(node_engine_select(engine, &q, rows, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_str_eq(cause, "no such dataset");
    free(cause);
    cause = NULL;
    q.dataset = 0;
    q.ngroup = 1;
    q.group[0] = 0;
    cr_assert_eq(node_engine_select(engine, &q, rows, &cause), HEARTH_ERR_REFUSED);
    free(cause);
    filter_free(f);
}

/* ---- persons and their tokens ------------------------------------------ */

/* Adds a row of person with a category and the tokens filled with the bytes
 * nhs and dsp (0: NULL). */
static void add_token_row(int64_t id, int64_t person, const char *cat, int nhs, int dsp)
{
    sqlite3 *db = node_store_db(store);
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO d_%lld(person, t_nhs, t_dsp, a0) VALUES(?, ?, ?, ?)",
             (long long)id);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    uint8_t a[32], b[32];
    memset(a, nhs, sizeof a);
    memset(b, dsp, sizeof b);
    sqlite3_bind_int64(st, 1, person);
    if (nhs)
        sqlite3_bind_blob(st, 2, a, sizeof a, SQLITE_TRANSIENT);
    if (dsp)
        sqlite3_bind_blob(st, 3, b, sizeof b, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, cat, -1, SQLITE_TRANSIENT);
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
    sqlite3_finalize(st);
}

/* Checks that person p of dataset 0 has the tokens filled with the bytes
 * want (NHS first, a 0 between the kinds). */
static void expect_tokens(size_t p, const int *want, size_t nwant)
{
    size_t nnhs = 99, ndsp = 99, k = 0;
    const uint8_t *t = node_engine_person_tokens(engine, 0, p, &nnhs, &ndsp);
    size_t split = 0;
    while (split < nwant && want[split] != 0)
        split++;
    cr_assert_eq(nnhs, split, "person %zu: %zu NHS tokens", p, nnhs);
    cr_assert_eq(nnhs + ndsp, nwant - (split < nwant), "person %zu", p);
    if (nwant == 0 || nwant == 1) {
        cr_assert_null(t);
        return;
    }
    for (size_t i = 0; i < nwant; i++) {
        if (want[i] == 0)
            continue;
        for (size_t j = 0; j < 32; j++)
            cr_assert_eq(t[k * 32 + j], want[i], "person %zu token %zu", p, k);
        k++;
    }
}

Test(node_engine, keeps_each_persons_distinct_tokens_nhs_first_in_row_order)
{
    static const char *const cols[] = {"k"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL};
    int64_t id = create("a_tok", 1, cols, types);
    /* Table order; persons 7 < 8 < 9 < 12 become 1..4. */
    add_token_row(id, 9, "x", 0, 0);
    add_token_row(id, 8, "a", 0x21, 0x41);
    add_token_row(id, 7, "b", 0x12, 0);
    add_token_row(id, 8, "b", 0x22, 0x41);
    add_token_row(id, 7, "c", 0, 0x31);
    add_token_row(id, 8, "c", 0x21, 0x42);
    add_token_row(id, 7, "d", 0x11, 0x31);
    add_token_row(id, 12, "e", 0, 0x51);
    load();
    cr_assert_eq(node_engine_find(engine, "a_tok"), 0);
    cr_assert_eq(node_engine_npersons(engine, 0), 4);
    expect_tokens(1, (const int[]){0x12, 0x11, 0, 0x31}, 4);
    expect_tokens(2, (const int[]){0x21, 0x22, 0, 0x41, 0x42}, 5);
    expect_tokens(3, (const int[]){0}, 1);
    expect_tokens(4, (const int[]){0, 0x51}, 2);
    /* Person p's rows, in person then table order. */
    static const size_t first[] = {0, 3, 6, 7}, end[] = {3, 6, 7, 8};
    const uint32_t *codes = node_engine_codes(engine, 0, 0);
    cr_assert_not_null(codes);
    for (size_t p = 1; p <= 4; p++) {
        size_t f = 99, e = 99;
        node_engine_person_rows(engine, 0, p, &f, &e);
        cr_assert_eq(f, first[p - 1]);
        cr_assert_eq(e, end[p - 1]);
    }
    cr_assert_str_eq(node_engine_text(engine, 0, 0, codes[0], NULL), "b");
    cr_assert_str_eq(node_engine_text(engine, 0, 0, codes[2], NULL), "d");
    cr_assert_str_eq(node_engine_text(engine, 0, 0, codes[5], NULL), "c");
    /* Out of range: nothing. */
    size_t f = 99, e = 99, nn = 99, nd = 99;
    node_engine_person_rows(engine, 0, 0, &f, &e);
    cr_assert_eq(f + e, 0);
    node_engine_person_rows(engine, 0, 5, &f, &e);
    cr_assert_eq(f + e, 0);
    cr_assert_null(node_engine_person_tokens(engine, 0, 5, &nn, &nd));
    cr_assert_eq(nn + nd, 0);
    cr_assert_null(node_engine_person_tokens(engine, 9, 1, &nn, &nd));
    cr_assert_null(node_engine_codes(engine, 0, 1));
    cr_assert_eq(node_engine_npersons(engine, 9), 0);
}

Test(node_engine, keeps_at_most_255_tokens_of_a_kind_per_person)
{
    static const char *const cols[] = {"k"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL};
    int64_t id = create("a_many", 1, cols, types);
    exec("BEGIN");
    sqlite3 *db = node_store_db(store);
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO d_%lld(person, t_nhs, t_dsp, a0) VALUES(1, ?, ?, "
             "'k')", (long long)id);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    /* 300 distinct NHS tokens, each twice; one DOB+sex+postcode token. */
    for (int i = 0; i < 600; i++) {
        uint8_t a[32] = {0}, b[32] = {7};
        a[0] = (uint8_t)(i % 300);
        a[1] = (uint8_t)(i % 300 >> 8);
        sqlite3_reset(st);
        sqlite3_bind_blob(st, 1, a, sizeof a, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 2, b, sizeof b, SQLITE_TRANSIENT);
        cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
    }
    sqlite3_finalize(st);
    exec("COMMIT");
    load();
    size_t nnhs, ndsp;
    const uint8_t *t = node_engine_person_tokens(engine, 0, 1, &nnhs, &ndsp);
    cr_assert_eq(nnhs, 255);
    cr_assert_eq(ndsp, 1);
    for (size_t k = 0; k < 255; k++)
        cr_assert_eq(t[k * 32] | t[k * 32 + 1] << 8, (int)k);
    cr_assert_eq(t[255 * 32], 7);
}

Test(node_engine, refuses_a_stored_token_of_the_wrong_size)
{
    static const char *const cols[] = {"k"};
    static const node_col_type_t types[] = {NODE_COL_CATEGORICAL};
    int64_t id = create("a_bad", 1, cols, types);
    char sql[128];
    snprintf(sql, sizeof sql, "INSERT INTO d_%lld(person, t_dsp, a0) VALUES(1, x'0102', 'k')",
             (long long)id);
    exec(sql);
    char *cause = NULL;
    cr_assert_eq(node_engine_load(engine, store, &cause), HEARTH_ERR_FORMAT);
    cr_assert_str_eq(cause, "dataset a_bad: a stored token is not 32 bytes");
    free(cause);
    cr_assert_eq(node_engine_ndatasets(engine), 1);
}

Test(node_engine, reads_a_numeric_cell_and_its_nulls)
{
    /* Row 1 is r4 (n NULL, x -1.5); row 4 is r1 (n 5, x 2.5). */
    double v = 99;
    cr_assert(!node_engine_number(engine, 0, N, 1, &v));
    cr_assert(node_engine_number(engine, 0, X, 1, &v));
    cr_assert_eq(v, -1.5);
    cr_assert(node_engine_number(engine, 0, N, 4, &v));
    cr_assert_eq(v, 5);
    cr_assert(!node_engine_number(engine, 0, CAT, 4, &v));
    cr_assert(!node_engine_number(engine, 0, D, 4, &v));
    cr_assert(!node_engine_number(engine, 0, N, 11, &v));
    cr_assert(!node_engine_number(engine, 1, N, 0, &v));
    cr_assert_eq(node_engine_npersons(engine, 0), 7);
    size_t nn, nd;
    cr_assert_null(node_engine_person_tokens(engine, 0, 1, &nn, &nd));
}

/* ---- against SQLite ---------------------------------------------------- */

typedef struct {
    uint64_t x;
} rng_t;

static uint32_t rnd(rng_t *r, uint32_t n)
{
    r->x = r->x * 6364136223846793005u + 1442695040888963407u;
    return (uint32_t)(r->x >> 33) % n;
}

static const char *const CATS[] = {"a", "ab", "B", "b", "ba", "", "\xc3\xa9", "c"};
static const char *const DATES[] = {"1969-12-31", "1970-01-01", "2000-02-29", "2024-01-31",
                                    "2024-03-01"};
static const double REALS[] = {-1.5, 0, 0.25, 2.5, 3, 1e6};

/* A random value suited to column col, with its SQL binding. */
static node_engine_value_t random_value(rng_t *g, size_t col)
{
    switch (col) {
    case CAT:
    case G2:
    case G3:
        return rnd(g, 6) ? txt(CATS[rnd(g, 8)]) : txt("zz");
    case N:
        return rnd(g, 2) ? num((int64_t)rnd(g, 13) - 6) : dec((double)rnd(g, 25) / 2 - 6);
    case X:
        return rnd(g, 2) ? dec(REALS[rnd(g, 6)]) : num((int64_t)rnd(g, 7) - 3);
    default:
        return rnd(g, 5) ? txt(DATES[rnd(g, 5)]) : txt("2010-06-15");
    }
}

static void bind_value(sqlite3_stmt *st, int p, const node_engine_value_t *v)
{
    if (v->kind == NODE_ENGINE_VALUE_TEXT)
        sqlite3_bind_text(st, p, v->text, (int)v->len, SQLITE_STATIC);
    else if (v->kind == NODE_ENGINE_VALUE_INTEGER)
        sqlite3_bind_int64(st, p, v->integer);
    else
        sqlite3_bind_double(st, p, v->decimal);
}

/* Appends a random filter of about `size` leaves to f, in postfix, and
 * the same filter as SQL (numbered parameters in postfix order) to *sql.
 * Recursion is fine here: the test's own trees are shallow. */
static void random_filter(rng_t *g, filter_t *f, int size, char *sql, size_t cap, int *param)
{
    size_t at = strlen(sql);
    if (size <= 1) {
        size_t col = rnd(g, NCOLS);
        int o = 1 + (int)rnd(g, 10);   /* EQ .. IS_NOT_NULL */
        const char *name[] = {"", "=", "!=", "<", "<=", ">", ">="};
        if (o <= NODE_ENGINE_GE) {
            leaf(f, (node_engine_op_t)o, col, 1, random_value(g, col));
            snprintf(sql + at, cap - at, "(a%zu %s ?%d)", col, name[o], (*param)++);
        } else if (o == NODE_ENGINE_IN) {
            int n = 1 + (int)rnd(g, 3);
            node_engine_value_t v[3] = {random_value(g, col), random_value(g, col),
                                        random_value(g, col)};
            leaf(f, NODE_ENGINE_IN, col, n, v[0], v[1], v[2]);
            at += (size_t)snprintf(sql + at, cap - at, "(a%zu IN (", col);
            for (int i = 0; i < n; i++)
                at += (size_t)snprintf(sql + at, cap - at, "%s?%d", i ? ", " : "", (*param)++);
            snprintf(sql + at, cap - at, "))");
        } else if (o == NODE_ENGINE_BETWEEN) {
            leaf(f, NODE_ENGINE_BETWEEN, col, 2, random_value(g, col), random_value(g, col));
            snprintf(sql + at, cap - at, "(a%zu BETWEEN ?%d AND ?%d)", col, *param,
                     *param + 1);
            *param += 2;
        } else {
            leaf(f, (node_engine_op_t)o, col, 0);
            snprintf(sql + at, cap - at, "(a%zu IS %sNULL)", col,
                     o == NODE_ENGINE_IS_NULL ? "" : "NOT ");
        }
        return;
    }
    uint32_t kind = rnd(g, 3);
    if (kind == 0) {
        snprintf(sql + at, cap - at, "(NOT ");
        random_filter(g, f, size - 1, sql, cap, param);
        op(f, NODE_ENGINE_NOT);
    } else {
        int left = 1 + (int)rnd(g, (uint32_t)size - 1);
        snprintf(sql + at, cap - at, "(");
        random_filter(g, f, left, sql, cap, param);
        at = strlen(sql);
        snprintf(sql + at, cap - at, kind == 1 ? " AND " : " OR ");
        random_filter(g, f, size - left, sql, cap, param);
        op(f, kind == 1 ? NODE_ENGINE_AND : NODE_ENGINE_OR);
    }
    at = strlen(sql);
    snprintf(sql + at, cap - at, ")");
}

/* Checks r's top sums against SQLite's: per cell, each person's total of
 * |measure|, the three largest by a window over the cell. gcols is q's
 * group columns as "a0, a1" ("" for none); the filter's values are bound
 * as for the counts. Cells with no measured person have no SQLite row. */
static void check_tops(sqlite3 *db, int64_t id, const node_engine_query_t *q,
                       const filter_t *f, const char *where, const char *gcols,
                       const node_engine_result_t *r, int round)
{
    char sql[8192];
    int m = q->measure;
    bool grouped = q->ngroup > 0;
    snprintf(sql, sizeof sql, "SELECT %s%ss FROM (SELECT %s%sTOTAL(ABS(a%d)) AS s, "
             "ROW_NUMBER() OVER (%s%s ORDER BY TOTAL(ABS(a%d)) DESC) AS k FROM d_%lld "
             "WHERE (%s) AND a%d IS NOT NULL GROUP BY %s%sperson) WHERE k <= 3 "
             "ORDER BY %s%ss DESC", gcols, grouped ? ", " : "", gcols, grouped ? ", " : "", m,
             grouped ? "PARTITION BY " : "", gcols, m, (long long)id, where, m, gcols,
             grouped ? ", " : "", gcols, grouped ? ", " : "");
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                 sqlite3_errmsg(db));
    int p = 1;
    for (size_t t = 0; t < f->nt; t++)
        for (size_t v = 0; v < f->t[t].nvalues; v++)
            bind_value(st, p++, &f->t[t].values[v]);
    size_t n = grouped ? r->ngroups : 1;
    for (size_t i = 0; i < n; i++) {
        const node_engine_group_t *e = grouped ? &r->groups[i] : &r->total;
        uint64_t want_ntop = e->measured_persons < 3 ? e->measured_persons : 3;
        cr_assert_eq(e->ntop, want_ntop, "round %d cell %zu", round, i);
        for (size_t k = 0; k < e->ntop; k++) {
            cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "round %d cell %zu: %s", round, i, sql);
            for (size_t g = 0; g < q->ngroup; g++) {
                const char *want = (const char *)sqlite3_column_text(st, (int)g);
                const char *got = node_engine_text(engine, 0, q->group[g], e->codes[g], NULL);
                cr_assert((want == NULL) == (got == NULL), "round %d cell %zu", round, i);
                if (want)
                    cr_assert_str_eq(got, want, "round %d cell %zu", round, i);
            }
            cr_assert_float_eq(e->top[k], sqlite3_column_double(st, (int)q->ngroup), 1e-6,
                               "round %d cell %zu top %zu: %s", round, i, k, sql);
        }
        for (size_t k = e->ntop; k < 3; k++)
            cr_assert_eq(e->top[k], 0.0);
    }
    cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "round %d: %s", round, sql);
    sqlite3_finalize(st);
}

Test(node_engine, agrees_with_sqlite_on_random_filters_and_groupings, .timeout = 120)
{
    /* 3000 rows of 900 persons with values drawn from small sets (so that
     * filters hit), NULLs in every column. */
    static const char *const cols[] = {"cat", "g2", "g3", "n", "x", "d"};
    int64_t id = create("a_random", NCOLS, cols, T_TYPES);
    rng_t g = {42};
    exec("BEGIN");
    char nbuf[32], xbuf[32];
    for (int i = 0; i < 3000; i++) {
        const char *cells[NCOLS];
        cells[CAT] = rnd(&g, 8) ? CATS[rnd(&g, 8)] : NULL;
        cells[G2] = rnd(&g, 6) ? CATS[rnd(&g, 3)] : NULL;
        cells[G3] = rnd(&g, 6) ? CATS[3 + rnd(&g, 4)] : NULL;
        snprintf(nbuf, sizeof nbuf, "%d", (int)rnd(&g, 11) - 5);
        cells[N] = rnd(&g, 7) ? nbuf : NULL;
        snprintf(xbuf, sizeof xbuf, "%.17g", REALS[rnd(&g, 6)]);
        cells[X] = rnd(&g, 7) ? xbuf : NULL;
        cells[D] = rnd(&g, 7) ? DATES[rnd(&g, 5)] : NULL;
        add_row(id, rnd(&g, 900) * 7, NCOLS, T_TYPES, cells);
    }
    exec("COMMIT");
    load();
    cr_assert_eq(node_engine_find(engine, "a_random"), 0);
    sqlite3 *db = node_store_db(store);
    for (int round = 0; round < 300; round++) {
        filter_t *f = filter_new(64);
        char where[4096] = "";
        int param = 1;
        int size = 1 + (int)rnd(&g, 6);
        random_filter(&g, f, size, where, sizeof where, &param);
        node_engine_query_t q = query(f);
        q.ngroup = rnd(&g, 4);
        static const size_t groupable[] = {CAT, G2, G3};
        for (size_t k = 0; k < q.ngroup; k++)
            q.group[k] = groupable[(k + round) % 3];
        q.measure = rnd(&g, 3) == 0 ? -1 : (rnd(&g, 2) ? N : X);
        char gcols[64] = "", sql[8192];
        for (size_t k = 0; k < q.ngroup; k++)
            snprintf(gcols + strlen(gcols), sizeof gcols - strlen(gcols), "a%zu, ", q.group[k]);
        int m = q.measure >= 0 ? q.measure : 0;
        snprintf(sql, sizeof sql, "SELECT %sCOUNT(*), COUNT(DISTINCT person), COUNT(a%d), "
                 "COUNT(DISTINCT CASE WHEN a%d IS NOT NULL THEN person END), "
                 "TOTAL(a%d) FROM d_%lld WHERE %s", gcols, m, m, m, (long long)id, where);
        if (q.ngroup > 0) {
            gcols[strlen(gcols) - 2] = '\0';
            snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " GROUP BY %s ORDER BY %s",
                     gcols, gcols);
        }
        sqlite3_stmt *st = NULL;
        cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s: %s", sql,
                     sqlite3_errmsg(db));
        int p = 1;
        for (size_t t = 0; t < f->nt; t++)
            for (size_t v = 0; v < f->t[t].nvalues; v++)
                bind_value(st, p++, &f->t[t].values[v]);
        node_engine_result_t *r = run(&q);
        size_t row = 0;
        int step;
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            int c = (int)q.ngroup;
            const node_engine_group_t *e = q.ngroup ? &r->groups[row] : &r->total;
            if (q.ngroup == 0 && sqlite3_column_int64(st, 0) == 0)
                break;   /* an aggregate without GROUP BY always has a row */
            cr_assert_lt(row, q.ngroup ? r->ngroups : 1, "round %d: %s", round, sql);
            for (size_t k = 0; k < q.ngroup; k++) {
                const char *want = (const char *)sqlite3_column_text(st, (int)k);
                const char *got = node_engine_text(engine, 0, q.group[k], e->codes[k], NULL);
                cr_assert((want == NULL) == (got == NULL), "round %d group %zu", round, row);
                if (want)
                    cr_assert_str_eq(got, want, "round %d group %zu", round, row);
            }
            cr_assert_eq(e->records, (uint64_t)sqlite3_column_int64(st, c), "round %d: %s",
                         round, sql);
            cr_assert_eq(e->persons, (uint64_t)sqlite3_column_int64(st, c + 1),
                         "round %d: %s", round, sql);
            if (q.measure >= 0) {
                cr_assert_eq(e->measured, (uint64_t)sqlite3_column_int64(st, c + 2),
                             "round %d: %s", round, sql);
                cr_assert_eq(e->measured_persons, (uint64_t)sqlite3_column_int64(st, c + 3),
                             "round %d: %s", round, sql);
                cr_assert_float_eq(e->sum, sqlite3_column_double(st, c + 4), 1e-6,
                                   "round %d: %s", round, sql);
            }
            row++;
        }
        cr_assert_eq(step == SQLITE_DONE || step == SQLITE_ROW, true);
        cr_assert_eq(row, q.ngroup ? r->ngroups : (r->total.records ? 1u : 0u),
                     "round %d: %s", round, sql);
        sqlite3_finalize(st);
        if (q.measure >= 0)
            check_tops(db, id, &q, f, where, gcols, r, round);
        node_engine_result_destroy(&r);
        filter_free(f);
    }
}

Test(node_engine, destroy_is_null_safe)
{
    node_engine_destroy(NULL);
    node_engine_t *e = NULL;
    node_engine_destroy(&e);
    node_engine_result_destroy(NULL);
    node_engine_result_t *r = NULL;
    node_engine_result_destroy(&r);
    cr_assert_null(r);
}
