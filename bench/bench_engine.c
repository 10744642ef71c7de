/* bench_engine — a node's answer to a grouped COUNT from its in-memory
 * engine, beside SQLite running the same GROUP BY on the same table in the
 * same run (the per-query re-scan the engine replaces).
 *
 *   bench_engine [ROWS] [--no-sqlite]
 *
 * Writes ROWS rows (default 1,000,000) of about 0.6 ROWS persons into a
 * fresh node database in a temporary folder, laid out as a typed ingest
 * stores them (ward and age band TEXT, age INTEGER), loads the engine, then
 * times 50 runs of each query through node_answer_run (what `hearth-node
 * serve` calls for a SubQuery) and 5 runs of the SQLite equivalent, and
 * prints p50 for each and the ratio (--no-sqlite: the engine only). Build
 * as Release. */
#include "node_answer.h"
#include "node_engine.h"
#include "proto_value.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RUNS 50
#define SQL_RUNS 5

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static int fail(const char *what, const char *cause)
{
    fprintf(stderr, "bench_engine: %s: %s\n", what, cause ? cause : "");
    return 1;
}

/* Writes the dataset "ae" (table d_1) with rows rows. */
static int build(node_store_t *store, long rows)
{
    char *cause = NULL;
    if (node_store_exec(store,
                        "BEGIN;"
                        "INSERT INTO datasets(id, name, rows, persons, ingested_at) "
                        "  VALUES(1, 'ae', 0, 0, 'now');"
                        "INSERT INTO columns VALUES(1, 0, 'ward', 0), (1, 1, 'age_band', 0),"
                        "  (1, 2, 'age', 1);"
                        "CREATE TABLE d_1(rec INTEGER PRIMARY KEY, person INTEGER NOT NULL,"
                        "  t_nhs BLOB, t_dsp BLOB, a0 TEXT, a1 TEXT, a2 INTEGER);",
                        &cause) != HEARTH_OK)
        return fail("creating the table", cause);
    sqlite3 *db = node_store_db(store);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO d_1(person, a0, a1, a2) VALUES(?, ?, ?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return fail("preparing", sqlite3_errmsg(db));
    static const char *const bands[] = {"0-17", "18-64", "65-74", "75+", "unknown"};
    unsigned x = 12345;
    char ward[16];
    long persons = rows * 6 / 10;
    for (long r = 0; r < rows; r++) {
        x = x * 1103515245u + 12345u;
        sqlite3_bind_int64(st, 1, (long)(x >> 4) % persons);
        snprintf(ward, sizeof ward, "Ward %02u", (x >> 9) % 25);
        sqlite3_bind_text(st, 2, ward, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 3, bands[(x >> 14) % 5], -1, SQLITE_STATIC);
        if ((x >> 20) % 20 == 0)
            sqlite3_bind_null(st, 4);
        else
            sqlite3_bind_int64(st, 4, (x >> 17) % 100);
        if (sqlite3_step(st) != SQLITE_DONE)
            return fail("inserting", sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (node_store_exec(store, "COMMIT", &cause) != HEARTH_OK)
        return fail("committing", cause);
    return 0;
}

static Hearth__Term *term(Hearth__TermOp op, const char *col)
{
    Hearth__Term *t = calloc(1, sizeof *t);
    hearth__term__init(t);
    t->op = op;
    t->column = (char *)col;
    return t;
}

/* p50 of RUNS answers to q through node_answer_run; -1 on error. */
static double time_answer(const node_engine_t *engine, const Hearth__SubQuery *q,
                          uint64_t *records)
{
    double ms[RUNS];
    for (int i = 0; i < RUNS; i++) {
        Hearth__SubResult *r = NULL;
        char *cause = NULL;
        double t0 = now_ms();
        if (node_answer_run(engine, q, &r, &cause) != HEARTH_OK) {
            fail("answering", cause);
            free(cause);
            return -1;
        }
        ms[i] = now_ms() - t0;
        *records = r->total->records;
        node_answer_free(&r);
    }
    return median(ms, RUNS);
}

/* p50 of SQL_RUNS runs of sql to completion; -1 on error. */
static double time_sql(sqlite3 *db, const char *sql)
{
    double ms[SQL_RUNS];
    for (int i = 0; i < SQL_RUNS; i++) {
        sqlite3_stmt *st = NULL;
        double t0 = now_ms();
        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
            fail("sqlite", sqlite3_errmsg(db));
            return -1;
        }
        while (sqlite3_step(st) == SQLITE_ROW)
            ;
        sqlite3_finalize(st);
        ms[i] = now_ms() - t0;
    }
    return median(ms, SQL_RUNS);
}

int main(int argc, char **argv)
{
    long rows = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    bool with_sqlite = !(argc > 2 && strcmp(argv[2], "--no-sqlite") == 0);
    if (rows <= 0 || argc > 3 || (argc > 2 && with_sqlite))
        return fail("usage", "bench_engine [ROWS] [--no-sqlite]");
    char dir[] = "/tmp/hearth-bench-engine-XXXXXX";
    if (mkdtemp(dir) == NULL)
        return fail("mkdtemp", "cannot make a temporary folder");
    char path[64];
    snprintf(path, sizeof path, "%s/node.db", dir);
    node_store_t *store = NULL;
    node_engine_t *engine = NULL;
    char *cause = NULL;
    int rc = 1;
    if (node_store_open(path, &store, &cause) != HEARTH_OK) {
        fail("opening", cause);
        goto done;
    }
    double t0 = now_ms();
    if (build(store, rows) != 0)
        goto done;
    double t1 = now_ms();
    engine = node_engine_new();
    if (node_engine_load(engine, store, &cause) != HEARTH_OK) {
        fail("loading", cause);
        goto done;
    }
    double t2 = now_ms();
    printf("rows                                 %ld\n", rows);
    printf("write table (setup)                  %.0f ms\n", t1 - t0);
    printf("engine load                          %.0f ms\n", t2 - t1);

    Hearth__SubQuery q = HEARTH__SUB_QUERY__INIT;
    char *group[] = {"ward"};
    q.query_id = "bench";
    q.dataset = "ae";
    q.group_by = group;
    q.n_group_by = 1;
    uint64_t records = 0;
    q.measure = HEARTH__MEASURE__MEASURE_COUNT_RECORDS;
    double count = time_answer(engine, &q, &records);
    q.measure = HEARTH__MEASURE__MEASURE_COUNT_PERSONS;
    double persons = time_answer(engine, &q, &records);
    /* ward, COUNT(PERSONS) WHERE age_band IN ('65-74', '75+') AND age >= 70 */
    Hearth__Term *t[3] = {term(HEARTH__TERM_OP__TERM_IN, "age_band"),
                          term(HEARTH__TERM_OP__TERM_GE, "age"),
                          term(HEARTH__TERM_OP__TERM_AND, NULL)};
    Hearth__Value *in[2] = {proto_value_text("65-74"), proto_value_text("75+")};
    Hearth__Value *ge[1] = {proto_value_integer(70)};
    t[0]->values = in;
    t[0]->n_values = 2;
    t[1]->values = ge;
    t[1]->n_values = 1;
    q.filter = t;
    q.n_filter = 3;
    uint64_t filtered_records = 0;
    double filtered = time_answer(engine, &q, &filtered_records);
    q.filter = NULL;
    q.n_filter = 0;
    q.measure = HEARTH__MEASURE__MEASURE_MEAN;
    q.measure_column = "age";
    double mean = time_answer(engine, &q, &records);
    for (int i = 0; i < 3; i++)
        free(t[i]);
    proto_value_free(in[0]);
    proto_value_free(in[1]);
    proto_value_free(ge[0]);
    if (count < 0 || persons < 0 || filtered < 0 || mean < 0)
        goto done;

    if (!with_sqlite) {
        printf("%-36s %8s\n", "query (GROUP BY ward), p50", "engine");
        printf("%-36s %6.2f ms\n", "COUNT(*)", count);
        printf("%-36s %6.2f ms\n", "COUNT(PERSONS)", persons);
        printf("%-36s %6.2f ms\n", "COUNT(PERSONS) WHERE band IN, age>=", filtered);
        printf("%-36s %6.2f ms\n", "MEAN(age)", mean);
        rc = 0;
        goto done;
    }
    sqlite3 *db = node_store_db(store);
    double s_count = time_sql(db, "SELECT a0, COUNT(*) FROM d_1 GROUP BY a0");
    double s_persons = time_sql(db, "SELECT a0, COUNT(DISTINCT person) FROM d_1 GROUP BY a0");
    double s_filtered = time_sql(db, "SELECT a0, COUNT(DISTINCT person) FROM d_1 WHERE a1 IN "
                                     "('65-74', '75+') AND a2 >= 70 GROUP BY a0");
    double s_mean = time_sql(db, "SELECT a0, COUNT(a2), SUM(a2) FROM d_1 GROUP BY a0");
    if (s_count < 0 || s_persons < 0 || s_filtered < 0 || s_mean < 0)
        goto done;
    printf("%-36s %8s %10s %8s\n", "query (GROUP BY ward), p50", "engine", "sqlite", "ratio");
    printf("%-36s %6.2f ms %7.1f ms %7.0fx\n", "COUNT(*)", count, s_count, s_count / count);
    printf("%-36s %6.2f ms %7.1f ms %7.0fx\n", "COUNT(PERSONS)", persons, s_persons,
           s_persons / persons);
    printf("%-36s %6.2f ms %7.1f ms %7.0fx\n", "COUNT(PERSONS) WHERE band IN, age>=",
           filtered, s_filtered, s_filtered / filtered);
    printf("%-36s %6.2f ms %7.1f ms %7.0fx\n", "MEAN(age)", mean, s_mean, s_mean / mean);
    printf("(filtered query matched %llu records)\n", (unsigned long long)filtered_records);
    rc = 0;
done:
    free(cause);
    node_engine_destroy(&engine);
    node_store_destroy(&store);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return rc;
}
