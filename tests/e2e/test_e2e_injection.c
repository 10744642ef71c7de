/* End to end: hostile query text against a partnership started by
 * `hearth sandbox` on generated data.
 *
 * String literals and identifiers that would be SQL injection if pasted into
 * SQL, embedded quotes, NUL bytes (on standard input), very long strings and
 * queries, deep nesting and invalid UTF-8 must each be treated as a plain
 * value (a released table with no rows and a zero total) or refused as the
 * analyst's mistake (exit 2, a reason on standard error, nothing on standard
 * output). Names the nodes use inside their databases (a0, person, t_nhs,
 * d_1, sqlite_master, ...) must not be reachable from a query.
 *
 * Every test copies each node's database when the sandbox is ready, and
 * after its hostile queries checks that the gateway and every node still
 * answer ordinary questions exactly as before, stops the sandbox, and
 * compares every node database with its copy byte for byte. */
#include "e2e_util.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEOPLE 3000u
#define SEED 11ul
/* A hostile query that the gateway silently dropped would leave the client
 * waiting for its whole timeout (60 s by default); the tests' client gives
 * up sooner, so such a bug fails in seconds. Ordinary answers take well
 * under a second even under ASan. */
#define CLIENT_TIMEOUT_MS 5000
/* Node databases: generous for 3000 people. */
#define DB_MAX ((size_t)64 << 20)
#define MAX_NODES 8

/* What every plain-value query releases: no rows and a zero total. */
#define EMPTY_WARD_TABLE "ward,value,suppressed\nTotal,0,false\n"

/* Each partner's dataset, for questions that reach every node. */
static const char *const DATASETS[] = {
    "trust.ae_attendances", "council.housing", "charity.referrals",
    "university.wellbeing_survey",
};
#define NDATASETS (sizeof DATASETS / sizeof *DATASETS)

/* --- the test's partnership ------------------------------------------------- */

typedef struct {
    char *path;     /* owned */
    char *bytes;    /* owned copy taken when the sandbox was ready */
    size_t len;
} db_copy_t;

/* Per-test state (each criterion test runs in a process of its own). */
static struct {
    char *tmp;          /* owned temporary folder */
    char *data;         /* tmp/data: the folder given to hearth sandbox */
    char *truth;
    char *log;
    char *config;       /* tmp/client.ini: the sandbox's, with a shorter timeout */
    e2e_sandbox_t *sb;
    char *why;          /* why the setup failed, or NULL */
    db_copy_t dbs[MAX_NODES];
    size_t ndbs;
    char *normal;       /* owned: the ordinary answers before any hostile query */
} fx;

/* Copies every DIR/.hearth/nodes/<node>/node.db. Returns NULL or why not. */
static char *copy_node_dbs(void)
{
    char *nodes = e2e_asprintf("%s/.hearth/nodes", fx.data);
    DIR *d = opendir(nodes);
    char *why = NULL;
    if (d == NULL) {
        why = e2e_asprintf("cannot open %s", nodes);
        free(nodes);
        return why;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && why == NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = e2e_asprintf("%s/%s/node.db", nodes, e->d_name);
        size_t len = 0;
        char *bytes = e2e_read_file(path, DB_MAX, &len);
        if (bytes == NULL || fx.ndbs == MAX_NODES) {
            why = e2e_asprintf("cannot copy %s", path);
            free(bytes);
            free(path);
            break;
        }
        fx.dbs[fx.ndbs++] = (db_copy_t){path, bytes, len};
    }
    closedir(d);
    free(nodes);
    return why;
}

/* The sandbox's client config with timeout_ms = CLIENT_TIMEOUT_MS, written
 * to tmp/client.ini. Returns NULL or why not. */
static char *short_timeout_config(void)
{
    char *text = e2e_read_file(e2e_sandbox_config(fx.sb), 1 << 20, NULL);
    if (text == NULL)
        return e2e_asprintf("cannot read %s", e2e_sandbox_config(fx.sb));
    const char *section = strstr(text, "[client]\n");
    char *why = NULL;
    if (section == NULL) {
        why = e2e_asprintf("no [client] section in %s", e2e_sandbox_config(fx.sb));
    } else {
        size_t head = (size_t)(section - text) + strlen("[client]\n");
        char *ini = e2e_asprintf("%.*stimeout_ms = %d\n%s", (int)head, text, CLIENT_TIMEOUT_MS,
                                 text + head);
        fx.config = e2e_asprintf("%s/client.ini", fx.tmp);
        if (e2e_write_file(fx.config, ini, strlen(ini)) != 0)
            why = e2e_asprintf("cannot write %s", fx.config);
        free(ini);
    }
    free(text);
    return why;
}

/* Setup does not assert: a failure is kept in fx.why, and the test reports
 * it under its own name when it starts. */
static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.tmp = e2e_tmpdir("injection");
    if (fx.tmp == NULL) {
        fx.why = e2e_asprintf("cannot make a temporary folder");
        return;
    }
    fx.data = e2e_asprintf("%s/data", fx.tmp);
    fx.truth = e2e_asprintf("%s/truth.csv", fx.tmp);
    fx.log = e2e_asprintf("%s/sandbox.log", fx.tmp);
    e2e_result_t r;
    if (e2e_synth(fx.data, fx.truth, PEOPLE, SEED, &r) != 0)
        fx.why = e2e_asprintf("hearth-synth exited %d: %s", r.status, r.err);
    e2e_result_free(&r);
    if (fx.why == NULL)
        fx.sb = e2e_sandbox_start(fx.data, fx.log, &fx.why);
    if (fx.why == NULL)
        fx.why = short_timeout_config();
    /* Copied once every node is ready and before any query. */
    if (fx.why == NULL)
        fx.why = copy_node_dbs();
}

static void teardown(void)
{
    e2e_sandbox_stop(&fx.sb, NULL);
    if (fx.tmp && getenv("HEARTH_E2E_KEEP"))
        fprintf(stderr, "kept %s\n", fx.tmp);
    else
        e2e_rmtree(fx.tmp);
    for (size_t i = 0; i < fx.ndbs; i++) {
        free(fx.dbs[i].path);
        free(fx.dbs[i].bytes);
    }
    free(fx.normal);
    free(fx.tmp);
    free(fx.data);
    free(fx.truth);
    free(fx.log);
    free(fx.config);
    free(fx.why);
    memset(&fx, 0, sizeof fx);
}

/* --- asking ------------------------------------------------------------------ */

static int ask(const char *sql, e2e_result_t *r)
{
    return e2e_query(fx.config, "csv", sql, r);
}

/* Asks the query read from standard input: len bytes, NULs and all. */
static int ask_stdin(const char *sql, size_t len, e2e_result_t *r)
{
    char *hearth = e2e_bin("hearth");
    char *argv[] = {hearth, "query", "--config", fx.config, "--format", "csv", "-", NULL};
    int status = e2e_run_input(argv, sql, len, E2E_QUERY_TIMEOUT_MS, r);
    free(hearth);
    return status;
}

/* One ordinary question per partner, answered as a CSV table each, joined
 * (caller frees). Asserts every one is released. */
static char *normal_answers(void)
{
    char *all = e2e_asprintf("%s", "");
    for (size_t i = 0; i < NDATASETS; i++) {
        char *sql = e2e_asprintf("SELECT ward, COUNT(*) FROM %s GROUP BY ward", DATASETS[i]);
        e2e_result_t r;
        int status = ask(sql, &r);
        cr_assert_eq(status, 0, "exit %d for the ordinary %s\nstdout: %s\nstderr: %s", status,
                     sql, r.out, r.err);
        cr_assert_gt(r.out_len, strlen(EMPTY_WARD_TABLE), "%s released no rows:\n%s", sql,
                     r.out);
        char *next = e2e_asprintf("%s%s", all, r.out);
        free(all);
        all = next;
        e2e_result_free(&r);
        free(sql);
    }
    return all;
}

static void require_sandbox(void)
{
    cr_assert_null(fx.why, "setup failed: %s", fx.why);
    cr_assert_not_null(fx.sb);
    cr_assert_geq(fx.ndbs, NDATASETS, "expected a database per node, found %zu", fx.ndbs);
    fx.normal = normal_answers();
}

/* The end of every test: the gateway and every node still answer as they
 * did before the hostile queries; then, with the sandbox stopped, every
 * node database is byte for byte what it was when the sandbox was ready. */
static void assert_still_answering_and_unchanged(void)
{
    char *after = normal_answers();
    cr_assert_str_eq(after, fx.normal, "ordinary answers changed after the hostile queries");
    free(after);
    int status = e2e_sandbox_stop(&fx.sb, NULL);
    cr_assert_eq(status, 0, "hearth sandbox exited with status %d", status);
    for (size_t i = 0; i < fx.ndbs; i++) {
        size_t len = 0;
        char *now = e2e_read_file(fx.dbs[i].path, DB_MAX, &len);
        cr_assert_not_null(now, "cannot read %s", fx.dbs[i].path);
        size_t at = 0;
        size_t common = len < fx.dbs[i].len ? len : fx.dbs[i].len;
        while (at < common && now[at] == fx.dbs[i].bytes[at])
            at++;
        cr_expect(len == fx.dbs[i].len && at == len, "%s changed: %zu bytes before, %zu after, "
                  "first difference at byte %zu", fx.dbs[i].path, fx.dbs[i].len, len, at);
        free(now);
    }
}

/* Printable rendering of a hostile query for failure messages: bytes
 * outside printable ASCII as \xHH, cut at 160 characters. Caller frees. */
static char *shown(const char *sql, size_t len)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    cr_assert_not_null(f);
    for (size_t i = 0; i < len && i < 160; i++) {
        unsigned char c = (unsigned char)sql[i];
        if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
    if (len > 160)
        fprintf(f, "... (%zu bytes)", len);
    fclose(f);
    return out;
}

/* The outcome a plain value must have: released, no rows, zero total. */
static void expect_empty(const char *sql, int status, const e2e_result_t *r)
{
    char *s = shown(sql, strlen(sql));
    cr_expect_eq(status, 0, "exit %d for\n  %s\nstdout: %s\nstderr: %s", status, s, r->out,
                 r->err);
    if (status == 0)
        cr_expect_str_eq(r->out, EMPTY_WARD_TABLE, "for\n  %s\nreleased:\n%s", s, r->out);
    free(s);
}

/* The outcome a refused query must have: exit 2, a reason holding needle
 * (when not NULL) on standard error, nothing on standard output. */
static void expect_refused(const char *sql, size_t len, int status, const e2e_result_t *r,
                           const char *needle)
{
    char *s = shown(sql, len);
    cr_expect_eq(status, 2, "exit %d for\n  %s\nstdout: %s\nstderr: %s", status, s, r->out,
                 r->err);
    cr_expect_eq(r->out_len, 0, "a refused query printed:\n%s\nfor\n  %s", r->out, s);
    cr_expect_gt(r->err_len, 0, "no reason given for\n  %s", s);
    if (needle)
        cr_expect_not_null(strstr(r->err, needle), "for\n  %s\nthe reason lacks \"%s\":\n%s", s,
                           needle, r->err);
    free(s);
}

/* Either outcome is safe for some inputs (a very long literal may be within
 * the limits or not): a plain value, or refused with a reason. */
static void expect_empty_or_refused(const char *sql, size_t len, int status,
                                    const e2e_result_t *r)
{
    if (status == 0)
        expect_empty(sql, status, r);
    else
        expect_refused(sql, len, status, r, NULL);
}

TestSuite(e2e_injection, .init = setup, .fini = teardown, .timeout = 180);

/* --- string literals ------------------------------------------------------------ */

/* Literals as written in SQL ('' for a quote); none is a ward. */
static const char *const HOSTILE_LITERALS[] = {
    "'''; DROP TABLE x; --'",
    "'O''Brien'",
    "'Abbey'' OR ''1''=''1'",
    "'Abbey''; DELETE FROM datasets; SELECT '''",
    "'x''); DROP TABLE d_1; --'",
    "'%'",
    "'_'",
    "'*'",
    "'\\'",
    "'Abbey\\'' OR 1=1 --'",
    "'\"Abbey\"'",
    "'abbey'",
    "' Abbey'",
    "'Abbey '",
    "''",
    "'Abb\xc3\xa9y \xe2\x80\xae yebbA'",   /* é and a right-to-left override */
    "'$1'",
    "'?'",
    "':ward'",
    "'@a0'",
};
#define NLITERALS (sizeof HOSTILE_LITERALS / sizeof *HOSTILE_LITERALS)

Test(e2e_injection, hostile_string_literals_are_plain_values_at_every_node)
{
    require_sandbox();
    for (size_t d = 0; d < NDATASETS; d++)
        for (size_t i = 0; i < NLITERALS; i++) {
            char *sql = e2e_asprintf("SELECT ward, COUNT(*) FROM %s WHERE ward = %s "
                                     "GROUP BY ward", DATASETS[d], HOSTILE_LITERALS[i]);
            e2e_result_t r;
            expect_empty(sql, ask(sql, &r), &r);
            e2e_result_free(&r);
            free(sql);
        }
    /* All of them at once in an IN list, over a UNION, and under NOT
     * against a column whose values they are not. */
    char *list = e2e_asprintf("%s", HOSTILE_LITERALS[0]);
    for (size_t i = 1; i < NLITERALS; i++) {
        char *next = e2e_asprintf("%s, %s", list, HOSTILE_LITERALS[i]);
        free(list);
        list = next;
    }
    char *in = e2e_asprintf("SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances "
                            "WHERE ward IN (%s) GROUP BY ward", list);
    e2e_result_t r;
    expect_empty(in, ask(in, &r), &r);
    e2e_result_free(&r);
    char *uni = e2e_asprintf("SELECT ward, COUNT(*) FROM charity.referrals UNION "
                             "university.wellbeing_survey WHERE ward IN (%s) GROUP BY ward",
                             list);
    expect_empty(uni, ask(uni, &r), &r);
    e2e_result_free(&r);
    char *not = e2e_asprintf("SELECT ward, COUNT(*) FROM council.housing WHERE NOT "
                             "(tenure NOT IN (%s)) GROUP BY ward", list);
    expect_empty(not, ask(not, &r), &r);
    e2e_result_free(&r);
    free(not);
    free(uni);
    free(in);
    free(list);
    assert_still_answering_and_unchanged();
}

Test(e2e_injection, embedded_quote_is_part_of_the_value)
{
    require_sandbox();
    /* The positive control for '' escapes: St Mary's is a ward. */
    const char *sql = "SELECT ward, COUNT(*) FROM trust.ae_attendances "
                      "WHERE ward = 'St Mary''s' GROUP BY ward";
    e2e_result_t r;
    int status = ask(sql, &r);
    cr_assert_eq(status, 0, "exit %d\nstdout: %s\nstderr: %s", status, r.out, r.err);
    /* Its row is the one St Mary's has in the ordinary answer. */
    const char *row = strstr(fx.normal, "\nSt Mary's,");
    cr_assert_not_null(row, "no St Mary's in\n%s", fx.normal);
    const char *end = strchr(row + 1, '\n');
    char *want = e2e_asprintf("ward,value,suppressed%.*s\nTotal,%.*s\n", (int)(end - row), row,
                              (int)(end - row - strlen("\nSt Mary's,")),
                              row + strlen("\nSt Mary's,"));
    cr_expect_str_eq(r.out, want);
    free(want);
    e2e_result_free(&r);
    /* Double quotes make an identifier, not a string: no column. */
    const char *ident = "SELECT ward, COUNT(*) FROM trust.ae_attendances "
                        "WHERE ward = \"Abbey\" GROUP BY ward";
    status = ask(ident, &r);
    expect_refused(ident, strlen(ident), status, &r, "single quotes");
    e2e_result_free(&r);
    /* An unterminated string is a parse error, not a longer value. */
    const char *open = "SELECT ward, COUNT(*) FROM trust.ae_attendances "
                       "WHERE ward = 'Abbey GROUP BY ward";
    status = ask(open, &r);
    expect_refused(open, strlen(open), status, &r, NULL);
    e2e_result_free(&r);
    assert_still_answering_and_unchanged();
}

/* --- identifiers ------------------------------------------------------------------ */

/* Queries naming what a node has inside but an analyst must never reach,
 * or that are not one query of the dialect. */
static const char *const HOSTILE_QUERIES[] = {
    /* Quoted identifiers that are SQL. */
    "SELECT \"ward\"\"; DROP TABLE d_1; --\", COUNT(*) FROM trust.ae_attendances "
    "GROUP BY \"ward\"\"; DROP TABLE d_1; --\"",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE \"ward\"\"; DROP TABLE d_1; --\" "
    "= 'x' GROUP BY ward",
    /* The same, unquoted. */
    "SELECT ward\"; DROP TABLE d_1; --, COUNT(*) FROM trust.ae_attendances GROUP BY ward",
    /* The store's own column names. */
    "SELECT \"a0\", COUNT(*) FROM trust.ae_attendances GROUP BY \"a0\"",
    "SELECT a1, COUNT(*) FROM trust.ae_attendances GROUP BY a1",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE a0 = 'Abbey' GROUP BY ward",
    "SELECT person, COUNT(*) FROM trust.ae_attendances GROUP BY person",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE person = 1 GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE t_nhs IS NOT NULL GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE t_dsp IS NULL GROUP BY ward",
    "SELECT ward, SUM(person) FROM trust.ae_attendances GROUP BY ward",
    "SELECT ward, MEAN(rec) FROM trust.ae_attendances GROUP BY ward",
    "SELECT rowid, COUNT(*) FROM trust.ae_attendances GROUP BY rowid",
    /* Identifier columns, which are not stored. */
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE nhs_number IS NOT NULL "
    "GROUP BY ward",
    "SELECT postcode, COUNT(*) FROM council.housing GROUP BY postcode",
    "SELECT ward, COUNT(*) FROM charity.referrals WHERE date_of_birth < '2000-01-01' "
    "GROUP BY ward",
    /* The store's tables. */
    "SELECT COUNT(*) FROM trust.d_1",
    "SELECT COUNT(*) FROM trust.sqlite_master",
    "SELECT COUNT(*) FROM trust.datasets",
    "SELECT COUNT(*) FROM trust.columns",
    "SELECT COUNT(*) FROM trust.meta",
    "SELECT COUNT(*) FROM trust.\"ae_attendances; DROP TABLE d_1\"",
    "SELECT COUNT(*) FROM \"trust; DROP TABLE d_1\".ae_attendances",
    "SELECT COUNT(*) FROM main.sqlite_master",
    /* Not one query of the dialect. */
    "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward; DROP TABLE d_1",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward; "
    "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances -- comment\nGROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances /* comment */ GROUP BY ward",
    "SELECT * FROM trust.ae_attendances",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE 1 = 1 GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = ward GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = 'Abbey' || 'x' GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward LIKE '%' GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = ? GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = :ward GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = $1 GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE lower(ward) = 'abbey' GROUP BY ward",
    "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward IN "
    "(SELECT ward FROM trust.ae_attendances) GROUP BY ward",
    /* Quoted names keep their case: there is no column "Ward". */
    "SELECT \"Ward\", COUNT(*) FROM trust.ae_attendances GROUP BY \"Ward\"",
};
#define NQUERIES (sizeof HOSTILE_QUERIES / sizeof *HOSTILE_QUERIES)

Test(e2e_injection, internal_names_and_non_dialect_sql_are_refused_with_exit_2)
{
    require_sandbox();
    for (size_t i = 0; i < NQUERIES; i++) {
        e2e_result_t r;
        int status = ask(HOSTILE_QUERIES[i], &r);
        expect_refused(HOSTILE_QUERIES[i], strlen(HOSTILE_QUERIES[i]), status, &r, NULL);
        e2e_result_free(&r);
    }
    /* The positive control: a quoted name that is a column works. */
    e2e_result_t r;
    int status = ask("SELECT \"ward\", COUNT(*) FROM \"trust\".\"ae_attendances\" "
                     "GROUP BY \"ward\"", &r);
    cr_expect_eq(status, 0, "exit %d\nstderr: %s", status, r.err);
    cr_expect(strncmp(fx.normal, r.out, r.out_len) == 0, "quoted names gave\n%s\nnot\n%s",
              r.out, fx.normal);
    e2e_result_free(&r);
    assert_still_answering_and_unchanged();
}

/* --- NUL bytes, on standard input ---------------------------------------------------- */

Test(e2e_injection, nul_bytes_on_standard_input_are_refused)
{
    require_sandbox();
    /* The client's `-` reads the query as bytes. A NUL must not cut the
     * query short silently, whether what comes before it is a whole query
     * or not. */
    static const char with_tail[] =
        "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward\0; DROP TABLE d_1";
    static const char in_literal[] =
        "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = 'Abbey\0'' OR ''1''=''1' "
        "GROUP BY ward";
    static const char in_ident[] =
        "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE \"ward\0\" = 'Abbey' "
        "GROUP BY ward";
    static const char leading[] =
        "\0SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward";
    static const char trailing[] =
        "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward\n\0";
    const struct {
        const char *sql;
        size_t len;
    } cases[] = {
        {with_tail, sizeof with_tail - 1},
        {in_literal, sizeof in_literal - 1},
        {in_ident, sizeof in_ident - 1},
        {leading, sizeof leading - 1},
        {trailing, sizeof trailing - 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        e2e_result_t r;
        int status = ask_stdin(cases[i].sql, cases[i].len, &r);
        expect_refused(cases[i].sql, cases[i].len, status, &r, NULL);
        e2e_result_free(&r);
    }
    /* The positive control: the same route without a NUL is answered. */
    static const char plain[] =
        "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward\n";
    e2e_result_t r;
    int status = ask_stdin(plain, sizeof plain - 1, &r);
    cr_expect_eq(status, 0, "exit %d\nstderr: %s", status, r.err);
    cr_expect(strncmp(fx.normal, r.out, r.out_len) == 0, "stdin gave\n%s", r.out);
    e2e_result_free(&r);
    assert_still_answering_and_unchanged();
}

/* --- invalid UTF-8 ------------------------------------------------------------------- */

Test(e2e_injection, invalid_utf8_is_refused_promptly)
{
    require_sandbox();
    static const char *const cases[] = {
        /* a byte that is never UTF-8, in a literal */
        "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward = 'Ab\xff" "bey' "
        "GROUP BY ward",
        /* an overlong '/' and a truncated sequence */
        "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward IN ('\xc0\xaf', "
        "'\xe2\x82') GROUP BY ward",
        /* a UTF-16 surrogate encoded as UTF-8, in a quoted identifier */
        "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE \"w\xed\xa0\x80\" = 'x' "
        "GROUP BY ward",
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        e2e_result_t r;
        int status = ask(cases[i], &r);
        cr_expect(!r.timed_out, "no answer at all for %zu", i);
        expect_refused(cases[i], strlen(cases[i]), status, &r, NULL);
        e2e_result_free(&r);
    }
    /* And on standard input. */
    e2e_result_t r;
    int status = ask_stdin(cases[0], strlen(cases[0]), &r);
    expect_refused(cases[0], strlen(cases[0]), status, &r, NULL);
    e2e_result_free(&r);
    assert_still_answering_and_unchanged();
}

/* --- long input and the gateway's limits ------------------------------------------------ */

/* A query comparing ward with a literal of n bytes of 'x' (caller frees). */
static char *long_literal_query(size_t n)
{
    char *lit = malloc(n + 1);
    cr_assert_not_null(lit);
    memset(lit, 'x', n);
    lit[n] = '\0';
    char *sql = e2e_asprintf("SELECT ward, COUNT(*) FROM trust.ae_attendances "
                             "WHERE ward = '%s' GROUP BY ward", lit);
    free(lit);
    return sql;
}

Test(e2e_injection, long_literals_are_plain_or_refused_and_limits_refuse_with_a_reason)
{
    require_sandbox();
    e2e_result_t r;
    /* Within every limit: a plain value. */
    char *sql = long_literal_query(1000);
    expect_empty(sql, ask(sql, &r), &r);
    e2e_result_free(&r);
    free(sql);
    /* 10 KB: within the query length; a plain value, or over a literal
     * limit and refused with its reason. */
    sql = long_literal_query(10 * 1024);
    int status = ask(sql, &r);
    expect_empty_or_refused(sql, strlen(sql), status, &r);
    e2e_result_free(&r);
    free(sql);
    /* Over the gateway's max_query_length (16384 by default). */
    sql = long_literal_query(20000);
    status = ask(sql, &r);
    expect_refused(sql, strlen(sql), status, &r, "longer than");
    e2e_result_free(&r);
    free(sql);
    /* Longer than a protocol string may be (64 KiB): still a reason, not
     * a silence. */
    sql = long_literal_query(70000);
    status = ask(sql, &r);
    cr_expect(!r.timed_out, "no answer at all for a 70 KB query");
    expect_refused(sql, strlen(sql), status, &r, "long");
    e2e_result_free(&r);
    /* Over the client's own bound on standard input (1 MiB). */
    size_t big = (size_t)2 << 20;
    char *huge = malloc(big);
    cr_assert_not_null(huge);
    memset(huge, ' ', big);
    memcpy(huge, sql, strlen(sql));
    status = ask_stdin(huge, big, &r);
    const char *what = "(2 MiB on standard input)";
    expect_refused(what, strlen(what), status, &r, "longer than");
    e2e_result_free(&r);
    free(huge);
    free(sql);
    /* More IN values than max_in_list (1000). */
    char *list = e2e_asprintf("'v0'");
    for (int i = 1; i <= 1000; i++) {
        char *next = e2e_asprintf("%s,'v%d'", list, i);
        free(list);
        list = next;
    }
    sql = e2e_asprintf("SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE ward IN (%s) "
                       "GROUP BY ward", list);
    status = ask(sql, &r);
    expect_refused(sql, strlen(sql), status, &r, "max_in_list");
    e2e_result_free(&r);
    free(sql);
    free(list);
    /* Nesting deeper than the parser allows. */
    char open[201], close[201];
    memset(open, '(', 200);
    memset(close, ')', 200);
    open[200] = close[200] = '\0';
    sql = e2e_asprintf("SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE %sward = 'x'%s "
                       "GROUP BY ward", open, close);
    status = ask(sql, &r);
    expect_refused(sql, strlen(sql), status, &r, "nesting");
    e2e_result_free(&r);
    free(sql);
    /* And NOT repeated as deep. */
    char *nots = e2e_asprintf("%s", "");
    for (int i = 0; i < 200; i++) {
        char *next = e2e_asprintf("%sNOT ", nots);
        free(nots);
        nots = next;
    }
    sql = e2e_asprintf("SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE %sward = 'x' "
                       "GROUP BY ward", nots);
    status = ask(sql, &r);
    expect_refused(sql, strlen(sql), status, &r, "nesting");
    e2e_result_free(&r);
    free(sql);
    free(nots);
    assert_still_answering_and_unchanged();
}

/* --- hostile values of other types ------------------------------------------------------ */

Test(e2e_injection, hostile_values_for_typed_columns_are_type_errors_or_plain)
{
    require_sandbox();
    static const char *const refused[] = {
        "SELECT ward, COUNT(*) FROM university.wellbeing_survey "
        "WHERE wellbeing_score = '1 OR 1=1' GROUP BY ward",
        "SELECT ward, COUNT(*) FROM council.housing "
        "WHERE household_size IN (1, '2); DROP TABLE d_1; --') GROUP BY ward",
        "SELECT ward, COUNT(*) FROM trust.ae_attendances "
        "WHERE attendance_date = '2025-01-01''; DROP TABLE d_1; --' GROUP BY ward",
        "SELECT ward, COUNT(*) FROM trust.ae_attendances "
        "WHERE attendance_date BETWEEN DATE '2025-01-01' AND 'tomorrow' GROUP BY ward",
        "SELECT ward, COUNT(*) FROM trust.ae_attendances "
        "WHERE attendance_date = DATE '2025-01-01; DROP TABLE d_1' GROUP BY ward",
        "SELECT ward, COUNT(*) FROM university.wellbeing_survey "
        "WHERE wellbeing_score = 1e400 GROUP BY ward",
        "SELECT ward, COUNT(*) FROM university.wellbeing_survey "
        "WHERE wellbeing_score = 0x10 GROUP BY ward",
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        e2e_result_t r;
        int status = ask(refused[i], &r);
        expect_refused(refused[i], strlen(refused[i]), status, &r, NULL);
        e2e_result_free(&r);
    }
    /* Numbers far outside the data: plain values (or refused as out of
     * range), never an error from a node. */
    static const char *const plain[] = {
        "SELECT ward, COUNT(*) FROM university.wellbeing_survey "
        "WHERE wellbeing_score = 99999999999999999999999 GROUP BY ward",
        "SELECT ward, COUNT(*) FROM university.wellbeing_survey "
        "WHERE wellbeing_score = -9223372036854775808 GROUP BY ward",
        "SELECT ward, COUNT(*) FROM council.housing "
        "WHERE household_size = 0.0000000000000000000001 GROUP BY ward",
    };
    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++) {
        e2e_result_t r;
        int status = ask(plain[i], &r);
        expect_empty_or_refused(plain[i], strlen(plain[i]), status, &r);
        e2e_result_free(&r);
    }
    assert_still_answering_and_unchanged();
}
