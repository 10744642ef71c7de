/* End to end: a whole partnership started by `hearth sandbox` on loopback
 * (gateway, one node per folder, real CURVE keys, SQLite files and ZeroMQ
 * sockets) and asked real questions through `hearth query`.
 *
 * Every released table is checked cell by cell against one computed here,
 * independently of hearth: true counts from the generator's extract and its
 * truth file (which maps every row to its true person), primary suppression
 * and rounding written again from the brief, and the secondary pattern from
 * gw_sdc's attacker check run on those true counts under the policy the
 * result's JSON states (gw_sdc is proved by its own tests; these prove the
 * counts and the wiring). Criterion runs each test in its own process and
 * has no once-per-suite fixture, so each test starts its own sandbox; a
 * sandbox of 3000 people is ready in about a second under ASan. */
#include "e2e_expect.h"
#include "e2e_util.h"

#include <criterion/criterion.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define PEOPLE 3000u
#define SEED 7ul

#define Q_RECORDS_BY_WARD "SELECT ward, COUNT(*) FROM trust.ae_attendances GROUP BY ward"
#define Q_FALLS_65_PLUS                                                                    \
    "SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances WHERE age_band IN ('65-74', "   \
    "'75+') AND diagnosis_group = 'falls' GROUP BY ward"
#define Q_DAMP_SOCIAL                                                                      \
    "SELECT ward, COUNT(PERSONS) FROM council.housing WHERE tenure = 'social' AND "        \
    "damp_reported = 'Y' GROUP BY ward"
/* Chosen by computing: with seed 7 one ward has 4 such people (primary
 * suppression); the seven wards released beside it and the total, each
 * rounded to 5, leave it anywhere in far more than the 3 values of 1..7
 * protection asks, so nothing else is hidden. */
#define Q_FALLS_75_PLUS                                                                    \
    "SELECT ward, COUNT(PERSONS) FROM trust.ae_attendances WHERE age_band = '75+' AND "    \
    "diagnosis_group = 'falls' GROUP BY ward"
/* Chosen by computing: with seed 7 the owner-occupiers of Riverside are 87
 * without damp and 7 with it. Released beside the total (94, released as
 * 95), the 87 (released as 85) would pin the 7 to 6..14, only 2 values of
 * 1..7: the 87 is hidden too. */
#define Q_RIVERSIDE_OWNERS_DAMP                                                            \
    "SELECT damp_reported, COUNT(PERSONS) FROM council.housing WHERE ward = 'Riverside' "  \
    "AND tenure = 'owner_occupied' GROUP BY damp_reported"

/* --- the test's partnership ------------------------------------------------- */

/* Criterion's fixtures take no arguments, so the running test's folder and
 * sandbox live here. Each test runs in a process of its own, so this is
 * per-test state, not shared between tests. */
static struct {
    char *tmp;          /* owned temporary folder holding all of the below */
    char *data;         /* tmp/data: the folder given to hearth sandbox */
    char *truth;        /* tmp/truth.csv: the generator's truth file */
    char *log;          /* tmp/sandbox.log: the sandbox's standard error */
    e2e_sandbox_t *sb;  /* the running sandbox, NULL once stopped */
    char *why;          /* why the setup failed, or NULL */
} fx;

static void fx_paths(const char *tag)
{
    fx.tmp = e2e_tmpdir(tag);
    if (fx.tmp == NULL) {
        fx.why = e2e_asprintf("cannot make a temporary folder");
        return;
    }
    fx.data = e2e_asprintf("%s/data", fx.tmp);
    fx.truth = e2e_asprintf("%s/truth.csv", fx.tmp);
    fx.log = e2e_asprintf("%s/sandbox.log", fx.tmp);
}

static void fx_start_sandbox(void)
{
    if (fx.why == NULL)
        fx.sb = e2e_sandbox_start(fx.data, fx.log, &fx.why);
}

/* Setup does not assert: a failure is kept in fx.why, and the test reports
 * it under its own name when it starts. */
static void setup_synth(void)
{
    memset(&fx, 0, sizeof fx);
    fx_paths("sandbox");
    if (fx.why)
        return;
    e2e_result_t r;
    if (e2e_synth(fx.data, fx.truth, PEOPLE, SEED, &r) != 0)
        fx.why = e2e_asprintf("hearth-synth exited %d: %s", r.status, r.err);
    e2e_result_free(&r);
    fx_start_sandbox();
}

/* Runs after the test whether it passed or not: nothing is left running.
 * Set HEARTH_E2E_KEEP=1 to keep the folder for a post-mortem. */
static void teardown(void)
{
    e2e_sandbox_stop(&fx.sb, NULL);
    if (fx.tmp && getenv("HEARTH_E2E_KEEP"))
        fprintf(stderr, "kept %s\n", fx.tmp);
    else
        e2e_rmtree(fx.tmp);
    free(fx.tmp);
    free(fx.data);
    free(fx.truth);
    free(fx.log);
    free(fx.why);
    memset(&fx, 0, sizeof fx);
}

static void require_sandbox(void)
{
    cr_assert_null(fx.why, "setup failed: %s", fx.why);
    cr_assert_not_null(fx.sb);
}

/* Stops the sandbox and asserts it stopped cleanly (assertions in a
 * criterion teardown are not counted, so tests call this themselves). */
static void stop_sandbox(void)
{
    unsigned ms = 0;
    int status = e2e_sandbox_stop(&fx.sb, &ms);
    cr_assert_eq(status, 0, "hearth sandbox exited with status %d (expected 0 after "
                 "SIGTERM; %d means it had to be killed, %d that it left processes)",
                 status, E2E_KILLED, E2E_LEFTOVER);
    /* Taking the sandbox's whole grace means it had to kill a child that
     * did not stop on SIGTERM (it still exits 0): a shutdown bug. */
    cr_assert_lt(ms, E2E_SANDBOX_CHILD_GRACE_MS, "hearth sandbox took %u ms to stop: it had "
                 "to kill a child that did not stop on SIGTERM", ms);
}

/* Runs a query that must be released and returns its output (caller
 * frees). */
static char *query_released(const char *format, const char *sql)
{
    e2e_result_t r;
    int status = e2e_query(e2e_sandbox_config(fx.sb), format, sql, &r);
    cr_assert_eq(status, 0, "hearth query exited %d for %s\nstdout: %s\nstderr: %s", status,
                 sql, r.out, r.err);
    char *out = r.out;
    r.out = NULL;
    e2e_result_free(&r);
    return out;
}

/* The rules the gateway states it applied to sql's answer (asked as JSON;
 * it must be released). */
static gw_sdc_policy_t policy_of(const char *sql)
{
    char *json = query_released("json", sql);
    gw_sdc_policy_t policy;
    uint64_t suppressed;
    e2e_json_policy(json, &policy, &suppressed);
    free(json);
    return policy;
}

/* --- the expected table, computed independently ------------------------------ */

typedef struct {
    char *group;        /* owned */
    uint64_t count;     /* the true count */
    bool suppressed;
    bool secondary;     /* suppressed only to protect another cell */
    uint64_t value;     /* the released value, when not suppressed */
} cell_t;

typedef struct {
    cell_t *cells;      /* owned, in byte order of group */
    size_t n;
    cell_t total;
} table_t;

static void table_free(table_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i].group);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

/* The rules under policy: the brief's primary rule and rounding, written
 * here; the secondary pattern from gw_sdc on the table as the gateway lays
 * it out (one group column: the values that occur, in byte order). */
static void disclose(table_t *t, const gw_sdc_policy_t *policy)
{
    gw_sdc_cell_t *grid = calloc(t->n + 1, sizeof *grid);
    cr_assert_not_null(grid);
    for (size_t i = 0; i < t->n; i++)
        grid[i].count = t->cells[i].count;
    gw_sdc_table_t g = {.ndims = 1, .size = {t->n}, .cells = grid,
                        .total = {.count = t->total.count}};
    (void)gw_sdc_apply_table(policy, &g);
    cr_assert_eq(g.unprotected, 0, "the gateway would refuse this table");
    for (size_t i = 0; i <= t->n; i++) {
        cell_t *c = i < t->n ? &t->cells[i] : &t->total;
        const gw_sdc_cell_t *s = i < t->n ? &grid[i] : &g.total;
        bool primary = e2e_small(policy, c->count);
        cr_assert(!primary || s->suppressed, "a cell of %" PRIu64 " is released", c->count);
        c->suppressed = s->suppressed;
        c->secondary = s->suppressed && !primary;
        c->value = c->suppressed ? 0
                                 : (uint64_t)e2e_round_to((int64_t)c->count,
                                                          policy->rounding > 1 ? policy->rounding
                                                                               : 1);
    }
    free(grid);
}

/* One condition: the row's column equals one of values (NULL-ended). */
typedef struct {
    const char *column;
    const char *values[4];
} cond_t;

/* A question as this file computes it: node.dataset, grouped by one
 * column, counting records or distinct true persons, under conditions
 * that are all required (columns NULL-ended). */
typedef struct {
    const char *node;
    const char *dataset;
    const char *group;
    bool persons;
    cond_t conds[4];
} spec_t;

typedef struct {
    const char *group;  /* borrowed from the parsed extract */
    uint64_t person;
} hit_t;

static int hit_cmp(const void *a, const void *b)
{
    const hit_t *x = a, *y = b;
    int c = strcmp(x->group, y->group);
    if (c)
        return c;
    return (x->person > y->person) - (x->person < y->person);
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The true person of every data row of node.dataset, from the truth file:
 * persons[record - 1]. Returns the number of records. */
static size_t truth_persons(const char *node, const char *dataset, uint64_t **persons)
{
    e2e_csv_t truth;
    cr_assert_eq(e2e_csv_load(fx.truth, &truth), 0, "cannot read %s", fx.truth);
    cr_assert_gt(truth.nrows, 1);
    int cn = e2e_csv_column(&truth.rows[0], "node");
    int cd = e2e_csv_column(&truth.rows[0], "dataset");
    int cr = e2e_csv_column(&truth.rows[0], "record");
    int cp = e2e_csv_column(&truth.rows[0], "person");
    cr_assert(cn >= 0 && cd >= 0 && cr >= 0 && cp >= 0, "unexpected truth header");
    size_t n = 0;
    *persons = NULL;
    for (size_t i = 1; i < truth.nrows; i++) {
        char **f = truth.rows[i].fields;
        if (strcmp(f[cn], node) != 0 || strcmp(f[cd], dataset) != 0)
            continue;
        size_t record = strtoull(f[cr], NULL, 10);
        cr_assert_eq(record, n + 1, "truth records of %s.%s are not in order", node, dataset);
        *persons = realloc(*persons, (n + 1) * sizeof **persons);
        cr_assert_not_null(*persons);
        (*persons)[n++] = strtoull(f[cp], NULL, 10);
    }
    e2e_csv_free(&truth);
    return n;
}

static bool row_matches(const e2e_csv_row_t *row, const int *cols, const spec_t *spec)
{
    for (size_t k = 0; spec->conds[k].column; k++) {
        bool any = false;
        for (size_t v = 0; spec->conds[k].values[v]; v++)
            any = any || strcmp(row->fields[cols[k]], spec->conds[k].values[v]) == 0;
        if (!any)
            return false;
    }
    return true;
}

/* Fills *t with the released table the rules give for spec under policy. */
static void expected_table(const spec_t *spec, const gw_sdc_policy_t *policy, table_t *t)
{
    memset(t, 0, sizeof *t);
    char *path = e2e_asprintf("%s/%s/%s.csv", fx.data, spec->node, spec->dataset);
    e2e_csv_t csv;
    cr_assert_eq(e2e_csv_load(path, &csv), 0, "cannot parse %s", path);
    uint64_t *persons = NULL;
    size_t nrec = truth_persons(spec->node, spec->dataset, &persons);
    cr_assert_eq(nrec + 1, csv.nrows, "%s has %zu data rows but the truth file %zu", path,
                 csv.nrows - 1, nrec);
    int gcol = e2e_csv_column(&csv.rows[0], spec->group);
    cr_assert_geq(gcol, 0, "no column %s in %s", spec->group, path);
    int cols[4];
    for (size_t k = 0; spec->conds[k].column; k++) {
        cols[k] = e2e_csv_column(&csv.rows[0], spec->conds[k].column);
        cr_assert_geq(cols[k], 0, "no column %s in %s", spec->conds[k].column, path);
    }

    hit_t *hits = calloc(nrec ? nrec : 1, sizeof *hits);
    cr_assert_not_null(hits);
    size_t nhits = 0;
    for (size_t i = 1; i < csv.nrows; i++) {
        const e2e_csv_row_t *row = &csv.rows[i];
        cr_assert_eq(row->nfields, csv.rows[0].nfields, "%s row %zu is short", path, i);
        if (!row_matches(row, cols, spec))
            continue;
        /* The generator writes no blank or padded categories; the node
         * would store those as NULL or trimmed, which this check would
         * then have to mirror. */
        const char *g = row->fields[gcol];
        cr_assert(g[0] != '\0' && g[0] != ' ' && g[strlen(g) - 1] != ' ');
        hits[nhits++] = (hit_t){g, persons[i - 1]};
    }
    qsort(hits, nhits, sizeof *hits, hit_cmp);

    /* Cells in byte order of the group value; distinct persons per cell
     * when counting persons. */
    t->cells = calloc(nhits ? nhits : 1, sizeof *t->cells);
    cr_assert_not_null(t->cells);
    uint64_t *all = calloc(nhits ? nhits : 1, sizeof *all);
    cr_assert_not_null(all);
    for (size_t i = 0; i < nhits; i++) {
        bool new_group = i == 0 || strcmp(hits[i].group, hits[i - 1].group) != 0;
        if (new_group)
            t->cells[t->n++].group = strdup(hits[i].group);
        bool new_person = new_group || hits[i].person != hits[i - 1].person;
        if (!spec->persons || new_person)
            t->cells[t->n - 1].count++;
        all[i] = hits[i].person;
    }
    if (spec->persons) {
        qsort(all, nhits, sizeof *all, u64_cmp);
        for (size_t i = 0; i < nhits; i++)
            t->total.count += i == 0 || all[i] != all[i - 1];
    } else {
        t->total.count = nhits;
    }
    disclose(t, policy);
    free(all);
    free(hits);
    free(persons);
    e2e_csv_free(&csv);
    free(path);
}

static const char *cell_text(const cell_t *c, char buf[32])
{
    if (c->suppressed)
        return "";
    snprintf(buf, 32, "%" PRIu64, c->value);
    return buf;
}

/* Parses hearth's CSV output and asserts it is exactly the table t: the
 * header, one row per cell in order (value empty when suppressed), then
 * the total. */
static void assert_csv_equals(const char *out, const char *group_col, const table_t *t)
{
    e2e_csv_t csv;
    cr_assert_eq(e2e_csv_parse(out, strlen(out), &csv), 0, "output is not CSV:\n%s", out);
    cr_assert_eq(csv.nrows, t->n + 2, "expected %zu rows (header, %zu cells, total), got "
                 "%zu:\n%s", t->n + 2, t->n, csv.nrows, out);
    const char *header[3] = {group_col, "value", "suppressed"};
    cr_assert_eq(csv.rows[0].nfields, 3, "header:\n%s", out);
    for (size_t j = 0; j < 3; j++)
        cr_assert_str_eq(csv.rows[0].fields[j], header[j]);
    char buf[32];
    for (size_t i = 0; i <= t->n; i++) {
        const e2e_csv_row_t *row = &csv.rows[i + 1];
        const cell_t *c = i < t->n ? &t->cells[i] : &t->total;
        const char *label = i < t->n ? c->group : "Total";
        cr_assert_eq(row->nfields, 3, "row %zu of:\n%s", i + 1, out);
        cr_assert_str_eq(row->fields[0], label, "row %zu group", i + 1);
        cr_assert_str_eq(row->fields[1], cell_text(c, buf),
                         "%s: value (true count %" PRIu64 ", expected %s)\n%s", label,
                         c->count, c->suppressed ? "suppressed" : buf, out);
        cr_assert_str_eq(row->fields[2], c->suppressed ? "true" : "false",
                         "%s: suppressed flag (true count %" PRIu64 ")\n%s", label, c->count,
                         out);
    }
    e2e_csv_free(&csv);
}

static size_t suppressed_cells(const table_t *t)
{
    size_t n = t->total.suppressed;
    for (size_t i = 0; i < t->n; i++)
        n += t->cells[i].suppressed;
    return n;
}

/* --- JSON ---------------------------------------------------------------- */

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void json_cell_tail(FILE *f, const cell_t *c)
{
    if (c->suppressed)
        fputs("\"value\": null, \"suppressed\": true}", f);
    else
        fprintf(f, "\"value\": %" PRIu64 ", \"suppressed\": false}", c->value);
}

/* The brief's JSON for a released one-node table of the sandbox's project
 * under policy (the dominance rule off, no noise), with the query id
 * written QID and each node's time 0. Caller frees. */
static char *expected_json(const char *group_col, const table_t *t, const char *node,
                           const gw_sdc_policy_t *policy)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cr_assert_not_null(f);
    fputs("{\"query_id\": \"QID\", \"status\": \"released\", \"measure\": \"count_persons\", "
          "\"group_by\": [", f);
    json_string(f, group_col);
    fputs("], \"rows\": [", f);
    for (size_t i = 0; i < t->n; i++) {
        fputs(i ? ", {\"group\": {" : "{\"group\": {", f);
        json_string(f, group_col);
        fputs(": ", f);
        json_string(f, t->cells[i].group);
        fputs("}, ", f);
        json_cell_tail(f, &t->cells[i]);
    }
    fputs("], \"total\": {", f);
    json_cell_tail(f, &t->total);
    fprintf(f, ", \"disclosure\": {\"threshold\": %u, \"rounding\": %u, \"suppressed_cells\": "
            "%zu, \"zeros\": \"%s\", \"protection\": %u, \"dominance\": \"off\", "
            "\"project\": \"sandbox\"}, \"nodes\": [{\"node\": ", policy->threshold,
            policy->rounding, suppressed_cells(t),
            policy->zeros_disclosive ? "disclosive" : "released", policy->protection);
    json_string(f, node);
    fputs(", \"status\": \"ok\", \"ms\": 0}]}\n", f);
    fclose(f);
    return text;
}

/* Replaces the query id (asserted to be 32 lower-case hex digits) by QID
 * and every node's "ms" by 0, the only parts that differ between runs.
 * Caller frees. */
static char *normalise_json(const char *json)
{
    static const char QID[] = "{\"query_id\": \"";
    cr_assert(strncmp(json, QID, strlen(QID)) == 0, "JSON does not start with the query "
              "id:\n%s", json);
    const char *id = json + strlen(QID);
    for (size_t i = 0; i < 32; i++)
        cr_assert((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'),
                  "query id is not 32 hex digits:\n%s", json);
    cr_assert_eq(id[32], '"', "query id is not 32 hex digits:\n%s", json);

    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    cr_assert_not_null(f);
    fprintf(f, "%sQID", QID);
    static const char MS[] = "\"ms\": ";
    const char *p = id + 32;
    const char *ms;
    while ((ms = strstr(p, MS)) != NULL) {
        fwrite(p, 1, (size_t)(ms - p) + strlen(MS), f);
        p = ms + strlen(MS);
        cr_assert(*p >= '0' && *p <= '9', "\"ms\" is not a number:\n%s", json);
        while (*p >= '0' && *p <= '9')
            p++;
        fputc('0', f);
    }
    fputs(p, f);
    fclose(f);
    return out;
}

/* --- released tables against the generator's truth ---------------------------- */

static void check_query(const char *sql, const spec_t *spec, table_t *t)
{
    gw_sdc_policy_t policy = policy_of(sql);
    expected_table(spec, &policy, t);
    cr_assert_gt(t->n, 0, "the expected table is empty; the check would prove little");
    char *out = query_released("csv", sql);
    assert_csv_equals(out, spec->group, t);
    free(out);
}

TestSuite(e2e_sandbox, .init = setup_synth, .fini = teardown);

Test(e2e_sandbox, records_by_ward_match_the_extract)
{
    require_sandbox();
    spec_t spec = {"trust", "ae_attendances", "ward", false, {{NULL, {NULL}}}};
    table_t t;
    check_query(Q_RECORDS_BY_WARD, &spec, &t);
    cr_assert_eq(t.n, 8, "the generator writes eight wards");
    cr_assert_eq(suppressed_cells(&t), 0);
    table_free(&t);
    stop_sandbox();
}

Test(e2e_sandbox, falls_among_over_65s_counted_as_true_persons_by_ward)
{
    require_sandbox();
    spec_t spec = {"trust", "ae_attendances", "ward", true,
                   {{"age_band", {"65-74", "75+", NULL}},
                    {"diagnosis_group", {"falls", NULL}},
                    {NULL, {NULL}}}};
    table_t t;
    check_query(Q_FALLS_65_PLUS, &spec, &t);
    /* Persons, not attendances: several rows per person are in the extract. */
    spec.persons = false;
    table_t records;
    gw_sdc_policy_t policy = policy_of(Q_FALLS_65_PLUS);
    expected_table(&spec, &policy, &records);
    cr_assert_lt(t.total.count, records.total.count);
    table_free(&records);
    table_free(&t);
    stop_sandbox();
}

Test(e2e_sandbox, damp_social_housing_counted_as_true_persons_by_ward)
{
    require_sandbox();
    spec_t spec = {"council", "housing", "ward", true,
                   {{"tenure", {"social", NULL}},
                    {"damp_reported", {"Y", NULL}},
                    {NULL, {NULL}}}};
    table_t t;
    check_query(Q_DAMP_SOCIAL, &spec, &t);
    table_free(&t);
    stop_sandbox();
}

Test(e2e_sandbox, small_cell_is_suppressed_with_a_secondary_cell)
{
    require_sandbox();
    spec_t spec = {"council", "housing", "damp_reported", true,
                   {{"ward", {"Riverside", NULL}},
                    {"tenure", {"owner_occupied", NULL}},
                    {NULL, {NULL}}}};
    table_t t;
    gw_sdc_policy_t policy = policy_of(Q_RIVERSIDE_OWNERS_DAMP);
    expected_table(&spec, &policy, &t);
    /* The data must exercise both rules, or the comparison below proves
     * less than its name says. */
    size_t primary = 0, secondary = 0;
    for (size_t i = 0; i < t.n; i++) {
        primary += e2e_small(&policy, t.cells[i].count);
        secondary += t.cells[i].secondary;
    }
    cr_assert_eq(primary, 1, "expected exactly one cell of 1..7 such persons");
    cr_assert_eq(secondary, 1, "expected exactly one cell hidden to protect it");
    cr_assert(!t.total.suppressed);
    char *out = query_released("csv", Q_RIVERSIDE_OWNERS_DAMP);
    assert_csv_equals(out, "damp_reported", &t);
    free(out);
    table_free(&t);
    stop_sandbox();
}

Test(e2e_sandbox, json_output_is_exact_apart_from_query_id_and_timings)
{
    require_sandbox();
    spec_t spec = {"trust", "ae_attendances", "ward", true,
                   {{"age_band", {"75+", NULL}},
                    {"diagnosis_group", {"falls", NULL}},
                    {NULL, {NULL}}}};
    /* The sandbox's project has the brief's defaults, and the JSON says
     * so: threshold 7, rounding 5, zeros released, protection 3. */
    gw_sdc_policy_t policy;
    gw_sdc_policy_default(&policy);
    table_t t;
    expected_table(&spec, &policy, &t);
    size_t primary = 0;
    for (size_t i = 0; i < t.n; i++)
        primary += e2e_small(&policy, t.cells[i].count);
    cr_assert_eq(primary, 1, "one ward of 1..7 such persons");
    cr_assert_eq(suppressed_cells(&t), 1, "rounding alone protects it");
    char *expected = expected_json("ward", &t, "trust", &policy);
    char *out = query_released("json", Q_FALLS_75_PLUS);
    char *got = normalise_json(out);
    cr_assert_str_eq(got, expected);
    free(got);
    free(out);
    free(expected);
    table_free(&t);
    stop_sandbox();
}

/* --- query errors ------------------------------------------------------------ */

Test(e2e_sandbox, parse_error_exits_2_with_a_caret_under_the_problem)
{
    require_sandbox();
    const char *sql = "SELECT ward, COUNT(*) FROM trust.ae_attendances WHERE GROUP BY ward";
    e2e_result_t r;
    int status = e2e_query(e2e_sandbox_config(fx.sb), "csv", sql, &r);
    cr_assert_eq(status, 2, "exit %d\nstdout: %s\nstderr: %s", status, r.out, r.err);
    cr_assert_eq(r.out_len, 0, "a query error must print no table:\n%s", r.out);
    /* The query, then a line with a caret under the token that is wrong. */
    const char *line1 = strstr(r.err, sql);
    cr_assert_not_null(line1, "the query is not echoed:\n%s", r.err);
    const char *line2 = line1 + strlen(sql);
    cr_assert_eq(*line2, '\n', "stderr:\n%s", r.err);
    line2++;
    size_t column = (size_t)(strstr(sql, "GROUP") - sql);
    for (size_t i = 0; i < column; i++)
        cr_assert_eq(line2[i], ' ', "caret line:\n%s", r.err);
    cr_assert_eq(line2[column], '^', "caret not under GROUP:\n%s", r.err);
    cr_assert_not_null(strstr(r.err, "error:"), "stderr:\n%s", r.err);
    e2e_result_free(&r);
    stop_sandbox();
}

Test(e2e_sandbox, unknown_column_exits_2_and_suggests_the_near_name)
{
    require_sandbox();
    e2e_result_t r;
    int status = e2e_query(e2e_sandbox_config(fx.sb), "table",
                           "SELECT ward, COUNT(*) FROM trust.ae_attendances "
                           "WHERE diagnosis_grup = 'falls' GROUP BY ward", &r);
    cr_assert_eq(status, 2, "exit %d\nstdout: %s\nstderr: %s", status, r.out, r.err);
    cr_assert_eq(r.out_len, 0, "a query error must print no table:\n%s", r.out);
    cr_assert_not_null(strstr(r.err, "did you mean 'diagnosis_group'?"), "stderr:\n%s", r.err);
    cr_assert_not_null(strstr(r.err, "^"), "stderr:\n%s", r.err);
    e2e_result_free(&r);
    stop_sandbox();
}

/* --- running again ------------------------------------------------------------ */

Test(e2e_sandbox, second_run_on_the_same_folder_gives_the_same_table)
{
    require_sandbox();
    char *pub_path = e2e_asprintf("%s/.hearth/keys/gateway.pub", fx.data);
    char *pub_before = e2e_read_file(pub_path, 4096, NULL);
    cr_assert_not_null(pub_before);
    char *first = query_released("csv", Q_FALLS_65_PLUS);
    stop_sandbox();

    fx_start_sandbox();
    require_sandbox();
    char *second = query_released("csv", Q_FALLS_65_PLUS);
    cr_assert_str_eq(second, first);
    spec_t spec = {"trust", "ae_attendances", "ward", true,
                   {{"age_band", {"65-74", "75+", NULL}},
                    {"diagnosis_group", {"falls", NULL}},
                    {NULL, {NULL}}}};
    table_t t;
    gw_sdc_policy_t policy = policy_of(Q_FALLS_65_PLUS);
    expected_table(&spec, &policy, &t);
    assert_csv_equals(second, "ward", &t);
    /* A rerun keeps the partnership's keys. */
    char *pub_after = e2e_read_file(pub_path, 4096, NULL);
    cr_assert_not_null(pub_after);
    cr_assert_str_eq(pub_after, pub_before);
    stop_sandbox();
    table_free(&t);
    free(pub_after);
    free(second);
    free(first);
    free(pub_before);
    free(pub_path);
}

/* --- a folder the generator never made --------------------------------------- */

/* Valid NHS numbers in the 999 range (never issued to real people), with
 * the modulus-11 check digit; a base whose check would be 10 is skipped,
 * as the NHS does. */
static int nhs_check(unsigned long base9)
{
    unsigned sum = 0;
    for (unsigned weight = 2; weight <= 10; weight++, base9 /= 10)
        sum += (unsigned)(base9 % 10) * weight;
    int check = 11 - (int)(sum % 11);
    return check == 11 ? 0 : check;
}

static unsigned long next_nhs_base(unsigned long *cursor)
{
    while (nhs_check(*cursor) == 10)
        (*cursor)++;
    return (*cursor)++;
}

enum { AUDIOLOGY, CARDIOLOGY, ENT, ORTHOPAEDICS, CLINICS };

static const char *const CLINIC_NAMES[CLINICS] = {
    "Audiology", "Cardiology", "Ear, nose and throat", "Orthopaedics",
};

/* Persons per clinic: Audiology 7 (primary suppression); Cardiology and
 * ENT tied at 12; Orthopaedics 16, and 17 with person 0, who also visits
 * it, so the total of distinct persons (47) is one less than the sum of
 * the cells (48). The attacker check takes the analyst to know that sum to
 * within rounding (48..52, as it would be for records); with the others
 * released as 10 (8..12), 10 and 15 (13..17) it pins Audiology at 7 or
 * more, only 1 value of 1..7. So a partner is hidden: the smallest
 * released clinic, of the two tied the first in byte order. */
static const unsigned CLINIC_PERSONS[CLINICS] = {7, 12, 12, 16};
#define HANDMADE_PERSONS 47

typedef struct {
    unsigned long nhs;  /* 9-digit base */
    int year, month, day;
    char sex;           /* 'M' or 'F' */
    char postcode[16];  /* canonical, e.g. "LS6 3AB" */
    int clinic;
} person_t;

static void field(FILE *f, const char *s, bool first, bool force_quotes)
{
    if (!first)
        fputc(',', f);
    if (!force_quotes && strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* Ways a row can spell a person's identifiers. */
enum { SPELL_CANONICAL, SPELL_SPACED, SPELL_NHS_ONLY, SPELL_DSP_ONLY, SPELL_TYPO };

static void write_visit(FILE *f, const person_t *p, int clinic, int spell, unsigned *records)
{
    unsigned long b = p->nhs;
    int check = nhs_check(b);
    char nhs[32], dob[32], pc[32];
    const char *sex = p->sex == 'M' ? "M" : "F";
    snprintf(nhs, sizeof nhs, "%09lu%d", b, check);
    snprintf(dob, sizeof dob, "%04d-%02d-%02d", p->year, p->month, p->day);
    snprintf(pc, sizeof pc, "%s", p->postcode);
    switch (spell) {
    case SPELL_SPACED:
        snprintf(nhs, sizeof nhs, "%03lu %03lu %03lu%d", b / 1000000 % 1000, b / 1000 % 1000,
                 b % 1000, check);
        snprintf(dob, sizeof dob, "%02d/%02d/%04d", p->day, p->month, p->year);
        sex = p->sex == 'M' ? "male" : "female";
        snprintf(pc, sizeof pc, "ls6%c%c%c", p->postcode[4], tolower(p->postcode[5]),
                 tolower(p->postcode[6]));
        break;
    case SPELL_NHS_ONLY:
        snprintf(nhs, sizeof nhs, "%03lu-%03lu-%03lu%d", b / 1000000 % 1000, b / 1000 % 1000,
                 b % 1000, check);
        dob[0] = pc[0] = '\0';
        sex = "";
        break;
    case SPELL_DSP_ONLY:
        nhs[0] = '\0';
        snprintf(dob, sizeof dob, "%02d/%02d/%04d", p->day, p->month, p->year);
        sex = p->sex == 'M' ? "1" : "2";
        snprintf(pc, sizeof pc, "LS6  %s", p->postcode + 4);
        break;
    case SPELL_TYPO:
        /* A wrong check digit: no NHS token, so it links on the rest. */
        snprintf(nhs, sizeof nhs, "%09lu%d", b, (check + 3) % 10);
        break;
    default:
        break;
    }
    field(f, nhs, true, false);
    field(f, dob, false, spell == SPELL_SPACED);
    field(f, sex, false, false);
    field(f, pc, false, spell == SPELL_CANONICAL);
    field(f, CLINIC_NAMES[clinic], false, false);
    field(f, spell == SPELL_SPACED ? "follow-up, \"urgent\"" : "routine", false, false);
    fputs("\r\n", f);
    records[clinic]++;
}

/* Writes tmp/data/clinic/visits.csv: a byte-order mark, CRLF, quoted
 * fields with commas and quotes, NHS numbers with spaces and dashes, dates
 * both ways, every spelling of sex, postcodes in any case and spacing, a
 * mistyped NHS number, and one row with too few fields. Fills records[]
 * with the rows written per clinic (the short row not counted). */
static void write_handmade(unsigned records[CLINICS])
{
    person_t people[HANDMADE_PERSONS];
    unsigned long cursor = 999000001;
    size_t i = 0;
    for (int c = 0; c < CLINICS; c++)
        for (unsigned k = 0; k < CLINIC_PERSONS[c]; k++, i++) {
            person_t *p = &people[i];
            static const char letters[] = "ABDEFGHJLNPQRSTUWXYZ";
            p->nhs = next_nhs_base(&cursor);
            p->year = 1940 + (int)i; /* one birth year each: no two share a token */
            p->month = 1 + (int)i % 12;
            p->day = 1 + (int)i % 28;
            p->sex = i % 2 ? 'F' : 'M';
            snprintf(p->postcode, sizeof p->postcode, "LS6 %d%c%c", (int)i % 10,
                     letters[i % 20], letters[(i / 20) % 20]);
            p->clinic = c;
        }
    cr_assert_eq(i, HANDMADE_PERSONS);
    memset(records, 0, CLINICS * sizeof *records);

    char *dir = e2e_asprintf("%s/clinic", fx.data);
    cr_assert_eq(mkdir(fx.data, 0755), 0);
    cr_assert_eq(mkdir(dir, 0755), 0);
    char *path = e2e_asprintf("%s/visits.csv", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs("\xEF\xBB\xBFnhs_number,date_of_birth,sex,postcode,clinic,note\r\n", f);
    for (i = 0; i < HANDMADE_PERSONS; i++) {
        const person_t *p = &people[i];
        write_visit(f, p, p->clinic, SPELL_CANONICAL, records);
        if (i % 3 == 0)
            write_visit(f, p, p->clinic, SPELL_SPACED, records);
        if (i % 4 == 1)
            write_visit(f, p, p->clinic, SPELL_NHS_ONLY, records);
        if (i % 5 == 2)
            write_visit(f, p, p->clinic, SPELL_DSP_ONLY, records);
        if (i % 6 == 4)
            write_visit(f, p, p->clinic, SPELL_TYPO, records);
        if (i == 10) {
            /* Too few fields: rejected and reported, never stored. Were it
             * stored, a Neurology row would appear in the table. */
            unsigned long b = next_nhs_base(&cursor);
            fprintf(f, "%09lu%d,1931-05-06,F,LS7 1AA,Neurology\r\n", b, nhs_check(b));
        }
    }
    /* Person 0, known to Audiology, also visits Orthopaedics (NHS number
     * only, dashed). */
    write_visit(f, &people[0], ORTHOPAEDICS, SPELL_NHS_ONLY, records);
    cr_assert_eq(fclose(f), 0);
    free(path);
    free(dir);
}

/* Rows written per clinic by the setup, for the records check (per-test
 * state, as fx is). */
static unsigned handmade_records[CLINICS];

static void setup_handmade(void)
{
    memset(&fx, 0, sizeof fx);
    fx_paths("handmade");
    if (fx.why)
        return;
    write_handmade(handmade_records);
    fx_start_sandbox();
}

TestSuite(e2e_handmade, .init = setup_handmade, .fini = teardown);

#define Q_CLINIC_PERSONS "SELECT clinic, COUNT(PERSONS) FROM clinic.visits GROUP BY clinic"

Test(e2e_handmade, messy_extract_links_people_and_suppresses_primary_and_secondary)
{
    require_sandbox();
    char *out = query_released("csv", Q_CLINIC_PERSONS);
    cr_assert_str_eq(out,
                     "clinic,value,suppressed\n"
                     "Audiology,,true\n"           /* 7 persons: primary */
                     "Cardiology,,true\n"          /* 12, tied with ENT: secondary */
                     "\"Ear, nose and throat\",10,false\n" /* 12 */
                     "Orthopaedics,15,false\n"     /* 17, person 0 included */
                     "Total,45,false\n");          /* 47 distinct persons */
    free(out);

    out = query_released("json", Q_CLINIC_PERSONS);
    char *got = normalise_json(out);
    cr_assert_str_eq(got,
        "{\"query_id\": \"QID\", \"status\": \"released\", \"measure\": \"count_persons\", "
        "\"group_by\": [\"clinic\"], \"rows\": ["
        "{\"group\": {\"clinic\": \"Audiology\"}, \"value\": null, \"suppressed\": true}, "
        "{\"group\": {\"clinic\": \"Cardiology\"}, \"value\": null, \"suppressed\": true}, "
        "{\"group\": {\"clinic\": \"Ear, nose and throat\"}, \"value\": 10, "
        "\"suppressed\": false}, "
        "{\"group\": {\"clinic\": \"Orthopaedics\"}, \"value\": 15, \"suppressed\": false}], "
        "\"total\": {\"value\": 45, \"suppressed\": false}, "
        "\"disclosure\": {\"threshold\": 7, \"rounding\": 5, \"suppressed_cells\": 2, "
        "\"zeros\": \"released\", \"protection\": 3, \"dominance\": \"off\", "
        "\"project\": \"sandbox\"}, "
        "\"nodes\": [{\"node\": \"clinic\", \"status\": \"ok\", \"ms\": 0}]}\n");
    free(got);
    free(out);

    /* The short row was reported by the ingest, not silently dropped. */
    char *log = e2e_read_file(fx.log, E2E_OUTPUT_MAX, NULL);
    cr_assert_not_null(log);
    cr_assert_not_null(strstr(log, "rejected line"), "sandbox log:\n%s", log);
    free(log);
    stop_sandbox();
}

Test(e2e_handmade, records_count_every_stored_row_of_the_messy_extract)
{
    require_sandbox();
    table_t t = {0};
    t.cells = calloc(CLINICS, sizeof *t.cells);
    cr_assert_not_null(t.cells);
    for (int c = 0; c < CLINICS; c++) {
        t.cells[t.n].group = strdup(CLINIC_NAMES[c]);
        t.cells[t.n++].count = handmade_records[c];
        t.total.count += handmade_records[c];
    }
    const char *sql = "SELECT clinic, COUNT(*) FROM clinic.visits GROUP BY clinic";
    gw_sdc_policy_t policy = policy_of(sql);
    disclose(&t, &policy);
    char *out = query_released("csv", sql);
    assert_csv_equals(out, "clinic", &t);
    free(out);
    table_free(&t);
    stop_sandbox();
}
