/* Tests for node_answer: sub-queries built by hand against a dataset
 * ingested from a real CSV file with a real key and loaded into the engine.
 * Grouped COUNT(*) and COUNT(DISTINCT person) are checked exactly, and for
 * SUM and MEAN each cell's largest per-person sums (none for counts); every
 * filter operator in postfix form, the refusals (unknown names, malformed
 * postfix, values of the wrong kind, limits), and that hostile values and
 * names are treated as plain values or refused while the database file
 * stays byte-for-byte the same. node_answer_query_init is checked for
 * every kind of part: ordinals, typed values, EXISTS terms on their atom,
 * and the refusals for atoms and kinds. */
#include "node_answer.h"
#include "node_engine.h"
#include "node_ingest.h"
#include "proto_codec.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- fixture: one dataset "ae" at a node ------------------------------ */

static const uint8_t KEY[KEYS_LINKAGE_KEY_LEN] = {
    0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x5b,
    0x5c, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
    0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70};

/* Eleven records of nine people (N1 twice, N5 twice; row 9 has no NHS
 * number and is a person of its own). One ward is empty (NULL), one
 * diagnosis is empty, and one ward value is full of quotes. */
static const char *const EXTRACT =
    "nhs_number,ward,age_band,diagnosis_group\n"
    "9434765919,Abbey,65-74,falls\n"          /* 1  N1 */
    "9434765919,Abbey,65-74,cardiac\n"        /* 2  N1 */
    "9434765927,Abbey,75+,falls\n"            /* 3  N2 */
    "9434765935,Priory,18-64,falls\n"         /* 4  N3 */
    "9434765943,Priory,75+,\n"                /* 5  N4 */
    "9434765951,Castle,65-74,falls\n"         /* 6  N5 */
    "9434765951,Castle,65-74,falls\n"         /* 7  N5 */
    "9434765978,,75+,cardiac\n"               /* 8  N6 */
    ",Abbey,18-64,cardiac\n"                  /* 9  no token */
    "9434765986,Priory,65-74,falls\n"         /* 10 N7 */
    "9434765994,\"O'Brien \"\"Ward\"\"\",18-64,other\n"; /* 11 N8 */

#define QUOTED_WARD "O'Brien \"Ward\""

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

static void reopen(void)
{
    char *cause = NULL;
    cr_assert_eq(node_store_open(db_path, &store, &cause), HEARTH_OK, "%s", cause);
}

/* Loads what the store holds into a fresh engine. */
static void load(void)
{
    char *cause = NULL;
    node_engine_destroy(&engine);
    engine = node_engine_new();
    cr_assert_eq(node_engine_load(engine, store, &cause), HEARTH_OK, "%s", cause);
}

/* Ingests the CSV text as dataset name (types inferred) and checks how
 * many rows and persons were stored; the engine is not reloaded. */
static void ingest(const char *name, const char *text, size_t rows, size_t persons)
{
    char csv[128];
    snprintf(csv, sizeof csv, "%s/%s.csv", dir, name);
    FILE *f = fopen(csv, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    keys_token_t *tok = keys_token_new(KEY);
    char kid[KEYS_KEY_ID_LEN + 1];
    keys_key_id(KEY, kid);
    node_ingest_report_t *r = NULL;
    char *cause = NULL;
    cr_assert_eq(node_ingest_run(store, tok, kid, name, csv, NULL, &r, &cause), HEARTH_OK,
                 "%s", cause);
    cr_assert_eq(r->rows_stored, rows);
    cr_assert_eq(r->persons_dataset, persons);
    node_ingest_report_destroy(&r);
    keys_token_destroy(&tok);
}

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-answer-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/node.db", dir);
    reopen();
    ingest("ae", EXTRACT, 11, 9);
    load();
}

static void teardown(void)
{
    node_engine_destroy(&engine);
    node_store_destroy(&store);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(node_answer, .init = setup, .fini = teardown);

/* ---- building sub-queries by hand -------------------------------------- */

static Hearth__SubQuery *sq_new(const char *dataset, Hearth__Measure m)
{
    Hearth__SubQuery *q = calloc(1, sizeof *q);
    hearth__sub_query__init(q);
    q->query_id = strdup("q-test");
    q->dataset = strdup(dataset);
    q->measure = m;
    return q;
}

static void sq_group(Hearth__SubQuery *q, const char *col)
{
    q->group_by = realloc(q->group_by, (q->n_group_by + 1) * sizeof *q->group_by);
    q->group_by[q->n_group_by++] = strdup(col);
}

static Hearth__Value *text_value(const char *s)
{
    Hearth__Value *v = calloc(1, sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_TEXT;
    v->text = strdup(s);
    return v;
}

static Hearth__Term *sq_add(Hearth__SubQuery *q, Hearth__TermOp op, const char *col)
{
    Hearth__Term *t = calloc(1, sizeof *t);
    hearth__term__init(t);
    t->op = op;
    if (col)
        t->column = strdup(col);
    q->filter = realloc(q->filter, (q->n_filter + 1) * sizeof *q->filter);
    q->filter[q->n_filter++] = t;
    return t;
}

static void term_value(Hearth__Term *t, Hearth__Value *v)
{
    t->values = realloc(t->values, (t->n_values + 1) * sizeof *t->values);
    t->values[t->n_values++] = v;
}

/* Adds a term with n text values (NULL-free varargs). */
static Hearth__Term *sq_term(Hearth__SubQuery *q, Hearth__TermOp op, const char *col,
                             int n, ...)
{
    Hearth__Term *t = sq_add(q, op, col);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++)
        term_value(t, text_value(va_arg(ap, const char *)));
    va_end(ap);
    return t;
}

static void sq_op(Hearth__SubQuery *q, Hearth__TermOp op)
{
    (void)sq_add(q, op, NULL);
}

static void sq_free(Hearth__SubQuery **qp)
{
    Hearth__SubQuery *q = *qp;
    for (size_t i = 0; i < q->n_filter; i++) {
        Hearth__Term *t = q->filter[i];
        for (size_t v = 0; v < t->n_values; v++) {
            if (t->values[v]->kind_case == HEARTH__VALUE__KIND_TEXT)
                proto_free_string(t->values[v]->text);
            free(t->values[v]);
        }
        free(t->values);
        proto_free_string(t->column);
        free(t);
    }
    free(q->filter);
    for (size_t i = 0; i < q->n_group_by; i++)
        free(q->group_by[i]);
    free(q->group_by);
    proto_free_string(q->query_id);
    proto_free_string(q->dataset);
    proto_free_string(q->measure_column);
    free(q);
    *qp = NULL;
}

/* Runs q, expects success, frees q. */
static Hearth__SubResult *answer(Hearth__SubQuery **qp)
{
    Hearth__SubResult *r = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_answer_run(engine, *qp, &r, &cause);
    cr_assert_eq(rc, HEARTH_OK, "rc %d: %s", rc, cause ? cause : "");
    cr_assert_null(cause);
    cr_assert_not_null(r);
    cr_assert(r->ok);
    cr_assert_str_eq(r->query_id, "q-test");
    cr_assert_not_null(r->total);
    sq_free(qp);
    return r;
}

/* Runs q, expects refusal with rc and exactly want_cause, frees q. */
static void refused(Hearth__SubQuery **qp, hearth_err_t want_rc, const char *want_cause)
{
    Hearth__SubResult *r = (Hearth__SubResult *)0x1;
    char *cause = NULL;
    hearth_err_t rc = node_answer_run(engine, *qp, &r, &cause);
    cr_assert_eq(rc, want_rc, "rc %d (%s), wanted %d", rc, cause ? cause : "", want_rc);
    cr_assert_null(r);
    cr_assert_str_eq(cause, want_cause);
    free(cause);
    sq_free(qp);
}

/* The total of a filter with no grouping. */
static void expect_total(Hearth__SubQuery *q, uint64_t records, uint64_t persons)
{
    Hearth__SubResult *r = answer(&q);
    cr_assert_eq(r->n_groups, 0);
    cr_assert_eq(r->total->records, records, "records %llu, wanted %llu",
                 (unsigned long long)r->total->records, (unsigned long long)records);
    cr_assert_eq(r->total->persons, persons, "persons %llu, wanted %llu",
                 (unsigned long long)r->total->persons, (unsigned long long)persons);
    node_answer_free(&r);
    cr_assert_null(r);
}

static void expect_text(const Hearth__Value *v, const char *want)
{
    cr_assert_eq(v->kind_case, HEARTH__VALUE__KIND_TEXT);
    cr_assert_str_eq(v->text, want);
}

static Hearth__SubQuery *count(void)
{
    return sq_new("ae", HEARTH__MEASURE__MEASURE_COUNT_RECORDS);
}

/* ---- aggregates -------------------------------------------------------- */

Test(node_answer, counts_records_and_distinct_persons_by_group)
{
    Hearth__SubQuery *q = sq_new("ae", HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    sq_group(q, "ward");
    Hearth__SubResult *r = answer(&q);
    cr_assert_eq(r->n_groups, 5);
    /* NULL sorts first. */
    cr_assert_eq(r->groups[0]->n_group, 1);
    cr_assert_eq(r->groups[0]->group[0]->kind_case, HEARTH__VALUE__KIND_NULL);
    cr_assert_eq(r->groups[0]->records, 1);
    cr_assert_eq(r->groups[0]->persons, 1);
    expect_text(r->groups[1]->group[0], "Abbey");
    cr_assert_eq(r->groups[1]->records, 4);
    cr_assert_eq(r->groups[1]->persons, 3);
    expect_text(r->groups[2]->group[0], "Castle");
    cr_assert_eq(r->groups[2]->records, 2);
    cr_assert_eq(r->groups[2]->persons, 1);
    expect_text(r->groups[3]->group[0], QUOTED_WARD);
    cr_assert_eq(r->groups[3]->records, 1);
    cr_assert_eq(r->groups[3]->persons, 1);
    expect_text(r->groups[4]->group[0], "Priory");
    cr_assert_eq(r->groups[4]->records, 3);
    cr_assert_eq(r->groups[4]->persons, 3);
    cr_assert_eq(r->total->records, 11);
    cr_assert_eq(r->total->persons, 9);
    cr_assert_eq(r->total->n_group, 0);
    node_answer_free(&r);
}

Test(node_answer, counts_by_two_columns_under_a_filter)
{
    Hearth__SubQuery *q = count();
    sq_group(q, "ward");
    sq_group(q, "age_band");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "falls");
    Hearth__SubResult *r = answer(&q);
    static const struct {
        const char *ward, *age;
        uint64_t records, persons;
    } want[] = {{"Abbey", "65-74", 1, 1}, {"Abbey", "75+", 1, 1}, {"Castle", "65-74", 2, 1},
                {"Priory", "18-64", 1, 1}, {"Priory", "65-74", 1, 1}};
    cr_assert_eq(r->n_groups, 5);
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(r->groups[i]->n_group, 2);
        expect_text(r->groups[i]->group[0], want[i].ward);
        expect_text(r->groups[i]->group[1], want[i].age);
        cr_assert_eq(r->groups[i]->records, want[i].records, "group %zu", i);
        cr_assert_eq(r->groups[i]->persons, want[i].persons, "group %zu", i);
    }
    cr_assert_eq(r->total->records, 6);
    cr_assert_eq(r->total->persons, 5);
    node_answer_free(&r);
}

Test(node_answer, an_empty_filter_counts_everything)
{
    expect_total(count(), 11, 9);
}

Test(node_answer, a_true_term_counts_everything)
{
    Hearth__SubQuery *q = count();
    sq_op(q, HEARTH__TERM_OP__TERM_TRUE);
    expect_total(q, 11, 9);
}

Test(node_answer, the_result_encodes_as_a_valid_message)
{
    Hearth__SubQuery *q = count();
    sq_group(q, "ward");
    Hearth__SubResult *r = answer(&q);
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_RESULT;
    env.sub_result = r;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_OK, "%s",
                 cause);
    cr_assert_eq(out->sub_result->n_groups, 5);
    cr_assert_eq(out->sub_result->total->records, 11);
    proto_free(&out);
    free(buf);
    node_answer_free(&r);
}

/* ---- SUM and MEAN: the largest per-person contributions ------------------ */

/* Dataset "lab": an integer dose, with NULLs and negative values.
 *   Abbey:  N1 10, -4 (14); N2 20; N3 NULL, -1 (1); N4 6  -> top 20, 14, 6
 *   Priory: N5 -7; N1 3; a person with no NHS number 0    -> top 7, 3, 0
 *   total:  N1 17; N2 20; N3 1; N4 6; N5 7; the other 0   -> top 20, 17, 7 */
static const char *const LAB =
    "nhs_number,ward,dose\n"
    "9434765919,Abbey,10\n"
    "9434765919,Abbey,-4\n"
    "9434765927,Abbey,20\n"
    "9434765935,Abbey,\n"
    "9434765935,Abbey,-1\n"
    "9434765943,Abbey,6\n"
    "9434765951,Priory,-7\n"
    "9434765919,Priory,3\n"
    ",Priory,0\n";

static void load_lab(void)
{
    ingest("lab", LAB, 9, 6);
    load();
}

static void expect_tops(const Hearth__GroupCount *g, size_t n, const double *want,
                        const char *what)
{
    cr_assert_eq(g->n_top, n, "%s: %zu top sums, wanted %zu", what, g->n_top, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(g->top[i], want[i], "%s: top[%zu] %g, wanted %g", what, i, g->top[i],
                     want[i]);
}

static void expect_lab_tops(const Hearth__SubResult *r)
{
    cr_assert_eq(r->n_groups, 2);
    expect_text(r->groups[0]->group[0], "Abbey");
    cr_assert_eq(r->groups[0]->records, 5);
    cr_assert_eq(r->groups[0]->persons, 4);
    cr_assert_eq(r->groups[0]->sum, 31.0);
    expect_tops(r->groups[0], 3, (const double[]){20, 14, 6}, "Abbey");
    expect_text(r->groups[1]->group[0], "Priory");
    cr_assert_eq(r->groups[1]->persons, 3);
    cr_assert_eq(r->groups[1]->sum, -4.0);
    expect_tops(r->groups[1], 3, (const double[]){7, 3, 0}, "Priory");
    cr_assert_eq(r->total->persons, 6);
    cr_assert_eq(r->total->sum, 27.0);
    expect_tops(r->total, 3, (const double[]){20, 17, 7}, "total");
}

Test(node_answer, sum_carries_each_cells_largest_per_person_sums)
{
    load_lab();
    Hearth__SubQuery *q = sq_new("lab", HEARTH__MEASURE__MEASURE_SUM);
    q->measure_column = strdup("dose");
    sq_group(q, "ward");
    Hearth__SubResult *r = answer(&q);
    expect_lab_tops(r);
    node_answer_free(&r);
}

Test(node_answer, mean_carries_the_same_top_sums)
{
    load_lab();
    Hearth__SubQuery *q = sq_new("lab", HEARTH__MEASURE__MEASURE_MEAN);
    q->measure_column = strdup("dose");
    sq_group(q, "ward");
    Hearth__SubResult *r = answer(&q);
    expect_lab_tops(r);
    node_answer_free(&r);
}

Test(node_answer, a_cell_of_fewer_than_three_persons_has_fewer_top_sums)
{
    load_lab();
    Hearth__SubQuery *q = sq_new("lab", HEARTH__MEASURE__MEASURE_SUM);
    q->measure_column = strdup("dose");
    sq_group(q, "ward");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Abbey");
    Hearth__Term *t = sq_add(q, HEARTH__TERM_OP__TERM_GT, "dose");
    Hearth__Value *v = calloc(1, sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_INTEGER;
    v->integer = 8;
    term_value(t, v);
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    /* Abbey, dose > 8: N1 10 and N2 20. */
    Hearth__SubResult *r = answer(&q);
    cr_assert_eq(r->n_groups, 1);
    expect_tops(r->groups[0], 2, (const double[]){20, 10}, "Abbey");
    expect_tops(r->total, 2, (const double[]){20, 10}, "total");
    node_answer_free(&r);
}

Test(node_answer, counts_carry_no_top_sums)
{
    load_lab();
    static const Hearth__Measure measures[] = {HEARTH__MEASURE__MEASURE_COUNT_RECORDS,
                                               HEARTH__MEASURE__MEASURE_COUNT_PERSONS};
    for (size_t m = 0; m < 2; m++) {
        Hearth__SubQuery *q = sq_new("lab", measures[m]);
        sq_group(q, "ward");
        Hearth__SubResult *r = answer(&q);
        cr_assert_eq(r->n_groups, 2);
        for (size_t i = 0; i < r->n_groups; i++) {
            cr_assert_eq(r->groups[i]->n_top, 0);
            cr_assert_null(r->groups[i]->top);
        }
        cr_assert_eq(r->total->n_top, 0);
        cr_assert_null(r->total->top);
        node_answer_free(&r);
    }
}

Test(node_answer, top_sums_survive_encoding)
{
    load_lab();
    Hearth__SubQuery *q = sq_new("lab", HEARTH__MEASURE__MEASURE_SUM);
    q->measure_column = strdup("dose");
    sq_group(q, "ward");
    Hearth__SubResult *r = answer(&q);
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_RESULT;
    env.sub_result = r;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_OK, "%s",
                 cause);
    expect_lab_tops(out->sub_result);
    proto_free(&out);
    free(buf);
    node_answer_free(&r);
}

/* ---- filters ----------------------------------------------------------- */

Test(node_answer, filters_with_eq)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "falls");
    expect_total(q, 6, 5);
}

Test(node_answer, filters_with_ne_leaving_out_nulls)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_NE, "diagnosis_group", 1, "falls");
    expect_total(q, 4, 4);
}

Test(node_answer, filters_with_in)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IN, "age_band", 2, "65-74", "75+");
    expect_total(q, 8, 6);
}

Test(node_answer, filters_with_between_on_text)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_BETWEEN, "age_band", 2, "18-64", "65-74");
    expect_total(q, 8, 6);
}

Test(node_answer, filters_with_less_and_greater_on_text)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_LT, "age_band", 1, "65-74");
    expect_total(q, 3, 3);
    q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_GE, "age_band", 1, "75+");
    expect_total(q, 3, 3);
}

Test(node_answer, filters_with_is_null_and_is_not_null)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IS_NULL, "ward", 0);
    expect_total(q, 1, 1);
    q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IS_NOT_NULL, "ward", 0);
    expect_total(q, 10, 8);
    q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IS_NULL, "diagnosis_group", 0);
    expect_total(q, 1, 1);
}

Test(node_answer, filters_with_and)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "falls");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Abbey");
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    expect_total(q, 2, 2);
}

Test(node_answer, filters_with_or)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Castle");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Priory");
    sq_op(q, HEARTH__TERM_OP__TERM_OR);
    expect_total(q, 5, 4);
}

Test(node_answer, filters_with_not_leaving_out_nulls)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "falls");
    sq_op(q, HEARTH__TERM_OP__TERM_NOT);
    expect_total(q, 4, 4);
}

Test(node_answer, binds_values_in_postfix_order_across_nested_terms)
{
    /* (ward IN ('Abbey','Castle') AND NOT age_band BETWEEN '18-64' AND
     * '18-64') OR diagnosis_group = 'other':
     * Abbey/Castle rows not 18-64: 1,2,3,6,7 -> plus row 11. */
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IN, "ward", 2, "Abbey", "Castle");
    sq_term(q, HEARTH__TERM_OP__TERM_BETWEEN, "age_band", 2, "18-64", "18-64");
    sq_op(q, HEARTH__TERM_OP__TERM_NOT);
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "other");
    sq_op(q, HEARTH__TERM_OP__TERM_OR);
    expect_total(q, 6, 4);
}

Test(node_answer, refuses_a_number_for_a_categorical_column)
{
    /* The gateway sends text for categorical columns; a number there is a
     * value of the wrong kind, not a comparison that is always false. */
    Hearth__SubQuery *q = count();
    Hearth__Term *t = sq_add(q, HEARTH__TERM_OP__TERM_EQ, "age_band");
    Hearth__Value *v = calloc(1, sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_INTEGER;
    v->integer = 75;
    term_value(t, v);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    q = count();
    t = sq_add(q, HEARTH__TERM_OP__TERM_IN, "age_band");
    term_value(t, text_value("75+"));
    v = calloc(1, sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_DECIMAL;
    v->decimal = 75.0;
    term_value(t, v);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
}

/* ---- refusals ---------------------------------------------------------- */

Test(node_answer, refuses_an_unknown_dataset)
{
    Hearth__SubQuery *q = sq_new("ae_attendances", HEARTH__MEASURE__MEASURE_COUNT_RECORDS);
    refused(&q, HEARTH_ERR_NOT_FOUND, "this node has no dataset 'ae_attendances'");
}

Test(node_answer, refuses_an_unknown_group_column)
{
    Hearth__SubQuery *q = count();
    sq_group(q, "wardd");
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column 'wardd' in dataset ae");
}

Test(node_answer, refuses_an_unknown_filter_column)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis", 1, "falls");
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column 'diagnosis' in dataset ae");
}

Test(node_answer, refuses_identifier_and_internal_column_names)
{
    const char *names[] = {"nhs_number", "person", "rec", "t_nhs", "t_dsp", "a0", "a1",
                           "Ward", "ward ", ""};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char want[96];
        snprintf(want, sizeof want, "no column '%s' in dataset ae", names[i]);
        Hearth__SubQuery *q = count();
        sq_group(q, names[i]);
        refused(&q, HEARTH_ERR_NOT_FOUND, want);
        q = count();
        sq_term(q, HEARTH__TERM_OP__TERM_IS_NULL, names[i], 0);
        refused(&q, HEARTH_ERR_NOT_FOUND, want);
    }
}

Test(node_answer, refuses_and_with_one_operand)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Abbey");
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
}

Test(node_answer, refuses_or_and_not_without_operands)
{
    Hearth__SubQuery *q = count();
    sq_op(q, HEARTH__TERM_OP__TERM_OR);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
    q = count();
    sq_op(q, HEARTH__TERM_OP__TERM_NOT);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
}

Test(node_answer, refuses_two_operands_left_on_the_stack)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Abbey");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Priory");
    refused(&q, HEARTH_ERR_PROTO, "malformed filter");
}

Test(node_answer, refuses_terms_with_the_wrong_number_of_values)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 0);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 2, "Abbey", "Priory");
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_BETWEEN, "age_band", 1, "18-64");
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
    q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IN, "ward", 0);
    refused(&q, HEARTH_ERR_PROTO, "malformed filter term");
}

/* Regression (found and fixed): values on a term that takes none (TRUE, IS [NOT] NULL, AND, OR,
 * NOT) are not refused. build_filter numbers placeholders only for terms
 * that use values, but bind_values binds every term's values in order, so
 * a stray value shifts every later binding: here diagnosis_group is
 * compared with 'falls' instead of 'cardiac' (6 records instead of 2).
 * Such a term should be refused as malformed. */
Test(node_answer, refuses_values_on_a_term_that_takes_none)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_IS_NOT_NULL, "ward", 1, "falls");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "cardiac");
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    Hearth__SubResult *r = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_answer_run(engine, q, &r, &cause);
    if (rc == HEARTH_OK)
        cr_log_warn("answered with %llu records", (unsigned long long)r->total->records);
    node_answer_free(&r);
    free(cause);
    sq_free(&q);
    cr_assert_eq(rc, HEARTH_ERR_PROTO);
}

Test(node_answer, refuses_a_null_value)
{
    Hearth__SubQuery *q = count();
    Hearth__Term *t = sq_add(q, HEARTH__TERM_OP__TERM_EQ, "ward");
    Hearth__Value *v = calloc(1, sizeof *v);
    hearth__value__init(v);
    v->kind_case = HEARTH__VALUE__KIND_NULL;
    v->null = 1;
    term_value(t, v);
    refused(&q, HEARTH_ERR_PROTO, "a filter value must be a string or a number");
}

Test(node_answer, refuses_an_unknown_operator)
{
    Hearth__SubQuery *q = count();
    sq_term(q, (Hearth__TermOp)99, "ward", 0);
    refused(&q, HEARTH_ERR_PROTO, "unknown filter operator");
}

Test(node_answer, refuses_too_many_terms)
{
    Hearth__SubQuery *q = count();
    for (int i = 0; i < NODE_ENGINE_MAX_TERMS + 1; i++)
        sq_op(q, HEARTH__TERM_OP__TERM_TRUE);
    refused(&q, HEARTH_ERR_TOO_BIG, "filter has 4097 terms (limit 4096)");
}

Test(node_answer, refuses_too_many_values)
{
    Hearth__SubQuery *q = count();
    Hearth__Term *t = sq_add(q, HEARTH__TERM_OP__TERM_IN, "ward");
    for (int i = 0; i < NODE_ENGINE_MAX_VALUES + 1; i++)
        term_value(t, text_value("x"));
    refused(&q, HEARTH_ERR_TOO_BIG, "filter has more than 10000 values");
}

Test(node_answer, answers_an_in_list_at_the_value_limit)
{
    Hearth__SubQuery *q = count();
    Hearth__Term *t = sq_add(q, HEARTH__TERM_OP__TERM_IN, "ward");
    char v[16];
    for (int i = 0; i < NODE_ENGINE_MAX_VALUES - 1; i++) {
        snprintf(v, sizeof v, "w%d", i);
        term_value(t, text_value(v));
    }
    term_value(t, text_value("Castle"));
    expect_total(q, 2, 1);
}

Test(node_answer, refuses_four_group_columns)
{
    Hearth__SubQuery *q = count();
    sq_group(q, "ward");
    sq_group(q, "age_band");
    sq_group(q, "diagnosis_group");
    sq_group(q, "ward");
    refused(&q, HEARTH_ERR_TOO_BIG, "at most 3 GROUP BY columns");
}

Test(node_answer, refuses_sum_and_mean_over_a_categorical_column)
{
    Hearth__SubQuery *q = sq_new("ae", HEARTH__MEASURE__MEASURE_SUM);
    q->measure_column = strdup("age_band");
    refused(&q, HEARTH_ERR_REFUSED, "cannot sum 'age_band': its type is categorical, "
            "and SUM and MEAN need an integer or decimal column");
    q = sq_new("ae", HEARTH__MEASURE__MEASURE_MEAN);
    q->measure_column = strdup("ward");
    refused(&q, HEARTH_ERR_REFUSED, "cannot sum 'ward': its type is categorical, "
            "and SUM and MEAN need an integer or decimal column");
}

Test(node_answer, refuses_sum_over_an_unknown_column)
{
    Hearth__SubQuery *q = sq_new("ae", HEARTH__MEASURE__MEASURE_SUM);
    q->measure_column = strdup("cost");
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column 'cost' in dataset ae");
    q = sq_new("ae", HEARTH__MEASURE__MEASURE_MEAN);
    refused(&q, HEARTH_ERR_NOT_FOUND, "no column '' in dataset ae");
}

Test(node_answer, refuses_an_unknown_measure)
{
    Hearth__SubQuery *q = sq_new("ae", (Hearth__Measure)9);
    refused(&q, HEARTH_ERR_PROTO, "unknown measure");
}

/* Regression (found and fixed): a left-deep chain of about a hundred ORs (what the gateway's planner
 * emits for `ward = 'a' OR ward = 'b' OR ...`, which its parser accepts
 * since a chain adds no depth) is far inside the node's term limit but
 * fails in sqlite3_prepare with "parser stack overflow" (HEARTH_ERR_DB):
 * build_filter wraps every AND/OR/NOT in one more pair of parentheses, and
 * SQLite's parser stack overflows at roughly 100 nested parentheses (and
 * any expression tree deeper than 1000 is refused too). The analyst gets a
 * database error instead of an answer or a clear limit. */
Test(node_answer, answers_a_long_or_chain_within_the_term_limit)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Castle");
    char v[16];
    for (int i = 0; i < 120; i++) {
        snprintf(v, sizeof v, "w%d", i);
        sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, v);
        sq_op(q, HEARTH__TERM_OP__TERM_OR);
    }
    cr_assert_leq(q->n_filter, NODE_ENGINE_MAX_TERMS);
    Hearth__SubResult *r = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_answer_run(engine, q, &r, &cause);
    sq_free(&q);
    uint64_t records = rc == HEARTH_OK ? r->total->records : 0;
    if (rc != HEARTH_OK)
        cr_log_warn("refused: %s", cause ? cause : "");
    node_answer_free(&r);
    free(cause);
    cr_assert_eq(rc, HEARTH_OK);
    cr_assert_eq(records, 2);
}

/* ---- injection --------------------------------------------------------- */

Test(node_answer, a_value_with_quotes_is_matched_as_plain_text)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, QUOTED_WARD);
    expect_total(q, 1, 1);
}

Test(node_answer, sql_in_values_is_a_plain_value)
{
    const char *hostile[] = {
        "'; DROP TABLE datasets; --",
        "Abbey' OR '1'='1",
        "Abbey\" OR \"1\"=\"1",
        "') OR 1=1 --",
        "Abbey'); DELETE FROM meta; --",
        "?1",
        "%",
    };
    for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
        Hearth__SubQuery *q = count();
        sq_group(q, "ward");
        sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, hostile[i]);
        Hearth__SubResult *r = answer(&q);
        cr_assert_eq(r->n_groups, 0, "value %zu matched", i);
        cr_assert_eq(r->total->records, 0, "value %zu matched", i);
        node_answer_free(&r);
    }
}

/* Closes the store and returns the database file's bytes (caller frees);
 * no WAL may be left beside it holding pages the file does not. */
static char *db_file(size_t *len)
{
    node_store_destroy(&store);
    FILE *f = fopen(db_path, "rb");
    cr_assert_not_null(f);
    cr_assert_eq(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    cr_assert_gt(n, 0);
    rewind(f);
    char *buf = malloc((size_t)n);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    struct stat st;
    cr_assert(stat(wal, &st) != 0 || st.st_size == 0, "a WAL was left after closing");
    *len = (size_t)n;
    return buf;
}

Test(node_answer, hostile_values_and_names_leave_the_database_unchanged)
{
    size_t before_len;
    char *before = db_file(&before_len);
    reopen();
    load();   /* loading reads only */

    /* Values: answered as plain values. */
    char *big = malloc(60 * 1024 + 1);
    memset(big, '\'', 60 * 1024);
    memcpy(big, "x'; DROP TABLE datasets; --", 27);
    big[60 * 1024] = '\0';
    const char *values[] = {"'; DROP TABLE datasets; --", "a\"b''c\\'d", big,
                            "1); DROP TABLE meta; SELECT (1"};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        Hearth__SubQuery *q = count();
        sq_group(q, "ward");
        sq_term(q, HEARTH__TERM_OP__TERM_IN, "ward", 2, values[i], "Castle");
        sq_term(q, HEARTH__TERM_OP__TERM_EQ, "age_band", 1, values[i]);
        sq_op(q, HEARTH__TERM_OP__TERM_NOT);
        sq_op(q, HEARTH__TERM_OP__TERM_AND);
        sq_term(q, HEARTH__TERM_OP__TERM_NE, "diagnosis_group", 1, values[i]);
        sq_op(q, HEARTH__TERM_OP__TERM_AND);
        Hearth__SubResult *r = answer(&q);
        cr_assert_eq(r->n_groups, 1, "value %zu", i);
        expect_text(r->groups[0]->group[0], "Castle");
        cr_assert_eq(r->groups[0]->records, 2);
        node_answer_free(&r);
    }
    free(big);

    /* Names: refused. */
    const char *names[] = {"a0; DROP TABLE x", "ward\" OR 1=1 --", "ward; DROP TABLE datasets",
                           "a0) FROM d_1; DROP TABLE meta; --", "*", "ward'"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char want[128];
        snprintf(want, sizeof want, "no column '%s' in dataset ae", names[i]);
        Hearth__SubQuery *q = count();
        sq_term(q, HEARTH__TERM_OP__TERM_EQ, names[i], 1, "x");
        refused(&q, HEARTH_ERR_NOT_FOUND, want);
        q = count();
        sq_group(q, names[i]);
        refused(&q, HEARTH_ERR_NOT_FOUND, want);
    }
    Hearth__SubQuery *q = sq_new("ae; DROP TABLE datasets; --",
                                 HEARTH__MEASURE__MEASURE_COUNT_RECORDS);
    refused(&q, HEARTH_ERR_NOT_FOUND, "this node has no dataset 'ae; DROP TABLE datasets; --'");

    size_t after_len;
    char *after = db_file(&after_len);
    cr_assert_eq(after_len, before_len);
    cr_assert_eq(memcmp(before, after, before_len), 0, "the database file changed");
    free(before);
    free(after);

    /* And the data are all still there. */
    reopen();
    load();
    cr_assert_eq(node_store_ndatasets(store), 1);
    expect_total(count(), 11, 9);
}

Test(node_answer, free_is_null_safe)
{
    node_answer_free(NULL);
    Hearth__SubResult *r = NULL;
    node_answer_free(&r);
    cr_assert_null(r);
}

/* ---- parts and kinds ----------------------------------------------------- */

Test(node_answer, an_aggregate_answer_carries_its_part)
{
    Hearth__SubQuery *q = count();
    q->part = 2;
    q->nparts = 3;
    Hearth__SubResult *r = answer(&q);
    cr_assert_eq(r->part, 2);
    cr_assert_eq(r->total->records, 11);
    node_answer_free(&r);
}

Test(node_answer, refuses_to_aggregate_a_cohort_or_target_part)
{
    Hearth__SubQuery *q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    refused(&q, HEARTH_ERR_PROTO, "not an aggregate sub-query");
    q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET;
    refused(&q, HEARTH_ERR_PROTO, "not an aggregate sub-query");
}

/* ---- the engine's terms for any kind of part ------------------------------ */

/* Builds q's engine query, expects refusal with rc and exactly want_cause,
 * frees q. */
static void init_refused(Hearth__SubQuery **qp, hearth_err_t want_rc, const char *want_cause)
{
    node_answer_query_t aq;
    char *cause = NULL;
    hearth_err_t rc = node_answer_query_init(engine, *qp, &aq, &cause);
    node_answer_query_free(&aq);
    char got[256];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    sq_free(qp);
    cr_assert_eq(rc, want_rc, "rc %d (%s), wanted %d", rc, got, want_rc);
    cr_assert_str_eq(got, want_cause);
}

Test(node_answer, turns_names_into_ordinals_and_values_into_typed_values)
{
    Hearth__SubQuery *q = sq_new("ae", HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    sq_group(q, "diagnosis_group");
    sq_group(q, "ward");
    sq_term(q, HEARTH__TERM_OP__TERM_IN, "age_band", 2, "65-74", "75+");
    sq_term(q, HEARTH__TERM_OP__TERM_IS_NULL, "ward", 0);
    sq_op(q, HEARTH__TERM_OP__TERM_OR);
    node_answer_query_t aq;
    char *cause = NULL;
    cr_assert_eq(node_answer_query_init(engine, q, &aq, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(aq.q.dataset, (size_t)node_engine_find(engine, "ae"));
    cr_assert_eq(aq.q.ngroup, 2);
    cr_assert_eq(aq.q.group[0], 2);
    cr_assert_eq(aq.q.group[1], 0);
    cr_assert_eq(aq.q.measure, -1);
    cr_assert_eq(aq.q.natoms, 0);
    cr_assert_eq(aq.q.nterms, 3);
    cr_assert_eq(aq.q.terms, aq.terms);
    cr_assert_eq(aq.terms[0].op, NODE_ENGINE_IN);
    cr_assert_eq(aq.terms[0].column, 1);
    cr_assert_eq(aq.terms[0].nvalues, 2);
    cr_assert_eq(aq.terms[0].values[1].kind, NODE_ENGINE_VALUE_TEXT);
    cr_assert_eq(aq.terms[0].values[1].len, 3);
    cr_assert_eq(memcmp(aq.terms[0].values[1].text, "75+", 3), 0);
    cr_assert_eq(aq.terms[1].op, NODE_ENGINE_IS_NULL);
    cr_assert_eq(aq.terms[1].column, 0);
    cr_assert_eq(aq.terms[1].nvalues, 0);
    cr_assert_eq(aq.terms[2].op, NODE_ENGINE_OR);
    node_answer_query_free(&aq);
    cr_assert_null(aq.terms);
    cr_assert_null(aq.values);
    node_answer_query_free(&aq);
    sq_free(&q);
}

Test(node_answer, an_exists_term_becomes_an_engine_exists_term_on_its_atom)
{
    Hearth__SubQuery *q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    q->atoms = 3;
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "diagnosis_group", 1, "falls");
    sq_add(q, HEARTH__TERM_OP__TERM_EXISTS, NULL)->atom = 2;
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    sq_add(q, HEARTH__TERM_OP__TERM_EXISTS, NULL)->atom = 0;
    sq_op(q, HEARTH__TERM_OP__TERM_NOT);
    sq_op(q, HEARTH__TERM_OP__TERM_AND);
    node_answer_query_t aq;
    char *cause = NULL;
    cr_assert_eq(node_answer_query_init(engine, q, &aq, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(aq.q.natoms, 3);
    cr_assert_eq(aq.q.nterms, 6);
    cr_assert_eq(aq.terms[1].op, NODE_ENGINE_EXISTS);
    cr_assert_eq((int)NODE_ENGINE_EXISTS, 14);
    cr_assert_eq(aq.terms[1].column, 2);
    cr_assert_eq(aq.terms[3].op, NODE_ENGINE_EXISTS);
    cr_assert_eq(aq.terms[3].column, 0);
    cr_assert_eq(aq.terms[4].op, NODE_ENGINE_NOT);
    node_answer_query_free(&aq);
    sq_free(&q);
}

Test(node_answer, a_target_part_converts_like_an_aggregate)
{
    Hearth__SubQuery *q = sq_new("ae", HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET;
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Abbey");
    node_answer_query_t aq;
    char *cause = NULL;
    cr_assert_eq(node_answer_query_init(engine, q, &aq, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(aq.q.natoms, 0);
    cr_assert_eq(aq.q.ngroup, 0);
    cr_assert_eq(aq.terms[0].column, 0);
    node_answer_query_free(&aq);
    sq_free(&q);
}

Test(node_answer, refuses_an_exists_atom_the_part_does_not_have)
{
    Hearth__SubQuery *q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    q->atoms = 2;
    sq_add(q, HEARTH__TERM_OP__TERM_EXISTS, NULL)->atom = 2;
    init_refused(&q, HEARTH_ERR_PROTO, "an EXISTS term names an atom the sub-query does not "
                 "have");
    /* An aggregate or target part has no atoms at all. */
    q = count();
    sq_add(q, HEARTH__TERM_OP__TERM_EXISTS, NULL)->atom = 0;
    refused(&q, HEARTH_ERR_PROTO, "an EXISTS term names an atom the sub-query does not have");
    q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET;
    sq_add(q, HEARTH__TERM_OP__TERM_EXISTS, NULL)->atom = 0;
    init_refused(&q, HEARTH_ERR_PROTO, "an EXISTS term names an atom the sub-query does not "
                 "have");
}

Test(node_answer, refuses_more_than_six_atoms)
{
    Hearth__SubQuery *q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    q->atoms = 7;
    init_refused(&q, HEARTH_ERR_TOO_BIG, "at most 6 EXISTS sub-selects in one query");
    q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT;
    q->atoms = 6;
    sq_add(q, HEARTH__TERM_OP__TERM_EXISTS, NULL)->atom = 5;
    node_answer_query_t aq;
    char *cause = NULL;
    cr_assert_eq(node_answer_query_init(engine, q, &aq, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(aq.q.natoms, 6);
    node_answer_query_free(&aq);
    sq_free(&q);
}

Test(node_answer, refuses_atoms_on_an_aggregate_or_target_part)
{
    Hearth__SubQuery *q = count();
    q->atoms = 1;
    init_refused(&q, HEARTH_ERR_PROTO, "only a cohort part has EXISTS atoms");
    q = count();
    q->kind = HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET;
    q->atoms = 1;
    init_refused(&q, HEARTH_ERR_PROTO, "only a cohort part has EXISTS atoms");
}

Test(node_answer, refuses_an_unknown_kind)
{
    Hearth__SubQuery *q = count();
    q->kind = (Hearth__SubQueryKind)3;
    init_refused(&q, HEARTH_ERR_PROTO, "unknown sub-query kind");
}

Test(node_answer, a_failed_conversion_owns_nothing)
{
    Hearth__SubQuery *q = count();
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "ward", 1, "Abbey");
    sq_term(q, HEARTH__TERM_OP__TERM_EQ, "no_such", 1, "x");
    init_refused(&q, HEARTH_ERR_NOT_FOUND, "no column 'no_such' in dataset ae");
}
