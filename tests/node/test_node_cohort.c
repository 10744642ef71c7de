/* Tests for node_cohort: extracts with known NHS numbers and dates of birth,
 * sexes and postcodes ingested with a real key, loaded into the engine, and
 * the cohorts of linked sub-queries decoded with proto_cohort's reader.
 * Checked exactly: who is sent, their tokens (the stored tokens re-keyed for
 * the query, NHS first, each once), their cells, masks, records and sums
 * under a one-atom filter, targets, the minimum cohort, chunking, and that
 * two cohorts of one query hold the same persons in different orders. */
#include "node_cohort.h"
#include "node_engine.h"
#include "node_ingest.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t KEY[KEYS_LINKAGE_KEY_LEN] = {
    0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b,
    0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76,
    0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f, 0x80};

#define NHS_A "4010000007"
#define NHS_B "4010000015"
#define NHS_C "4010000023"
#define NHS_D "4010000031"
#define NHS_E "4010000058"

/* Nine records of six persons:
 *   P1  A + dob/sex/postcode 1     two records, Abbey and Priory
 *   P2  B and C, linked by their shared dob/sex/postcode 2
 *   P3  D + dob/sex/postcode 3, twice (the same tokens twice)
 *   P4  dob/sex/postcode 4 only
 *   P5  no identifier: no token at all
 *   P6  E only, ward empty (NULL) */
static const char *const EXTRACT =
    "nhs_number,date_of_birth,sex,postcode,ward,diagnosis,cost\n"
    NHS_A ",1950-01-01,M,LS1 4AP,Abbey,falls,10\n"
    NHS_A ",1950-01-01,M,LS1 4AP,Priory,cardiac,5\n"
    NHS_B ",1960-02-02,F,LS2 7EE,Abbey,falls,3\n"
    NHS_C ",1960-02-02,F,LS2 7EE,Abbey,cardiac,\n"
    NHS_D ",1970-03-03,M,LS3 1AB,Castle,falls,7\n"
    NHS_D ",1970-03-03,M,LS3 1AB,Castle,falls,8\n"
    ",1980-04-04,F,LS4 2CD,Priory,cardiac,1\n"
    ",,,,Abbey,falls,2\n"
    NHS_E ",,,,,other,4\n";

enum { P1, P2, P3, P4, P5, P6, NPERSONS };

static char dir[64];
static node_store_t *store;
static node_engine_t *engine;
static keys_token_t *tok;     /* K */
static keys_token_t *qkey;    /* K_q */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Ingests text as dataset name into a fresh store and loads the engine. */
static void setup_with(const char *name, const char *text)
{
    strcpy(dir, "/tmp/hearth-cohort-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/node.db", dir);
    char *cause = NULL;
    cr_assert_eq(node_store_open(path, &store, &cause), HEARTH_OK, "%s", cause);
    snprintf(path, sizeof path, "%s/%s.csv", dir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
    tok = keys_token_new(KEY);
    char kid[KEYS_KEY_ID_LEN + 1];
    keys_key_id(KEY, kid);
    node_ingest_report_t *r = NULL;
    cr_assert_eq(node_ingest_run(store, tok, kid, name, path, NULL, &r, &cause), HEARTH_OK,
                 "%s", cause);
    node_ingest_report_destroy(&r);
    engine = node_engine_new();
    cr_assert_eq(node_engine_load(engine, store, &cause), HEARTH_OK, "%s", cause);
    qkey = keys_token_for_query(tok, "q-cohort");
}

static void setup(void)
{
    setup_with("ae", EXTRACT);
    cr_assert_eq(node_engine_npersons(engine, 0), NPERSONS);
}

static void teardown(void)
{
    keys_token_destroy(&qkey);
    keys_token_destroy(&tok);
    node_engine_destroy(&engine);
    node_store_destroy(&store);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(node_cohort, .init = setup, .fini = teardown);

/* ---- building queries -------------------------------------------------- */

/* The ordinal of column name in dataset 0. */
static size_t col(const char *name)
{
    const node_store_dataset_t *d = node_engine_dataset(engine, 0);
    for (size_t k = 0; k < d->ncolumns; k++)
        if (strcmp(d->columns[k].name, name) == 0)
            return k;
    cr_assert_fail("no column %s", name);
    return 0;
}

static node_engine_value_t text(const char *s)
{
    return (node_engine_value_t){.kind = NODE_ENGINE_VALUE_TEXT, .text = s, .len = strlen(s)};
}

static node_engine_value_t integer(int64_t i)
{
    return (node_engine_value_t){.kind = NODE_ENGINE_VALUE_INTEGER, .integer = i};
}

/* A filter of up to 8 terms, each with up to one value. */
typedef struct {
    node_engine_term_t t[8];
    node_engine_value_t v[8];
    size_t n;
} filter_t;

static void leaf(filter_t *f, node_engine_op_t op, size_t column, node_engine_value_t v)
{
    f->v[f->n] = v;
    f->t[f->n] = (node_engine_term_t){.op = op, .column = column, .nvalues = 1,
                                      .values = &f->v[f->n]};
    f->n++;
}

static void op(filter_t *f, node_engine_op_t o, size_t atom)
{
    f->t[f->n++] = (node_engine_term_t){.op = o, .column = atom};
}

static node_engine_query_t query(const filter_t *f, size_t natoms)
{
    return (node_engine_query_t){.dataset = 0, .measure = -1, .nterms = f ? f->n : 0,
                                 .terms = f ? f->t : NULL, .natoms = natoms};
}

/* diagnosis = 'falls' OR EXISTS(0) */
static void falls_or_exists(filter_t *f)
{
    leaf(f, NODE_ENGINE_EQ, col("diagnosis"), text("falls"));
    op(f, NODE_ENGINE_EXISTS, 0);
    op(f, NODE_ENGINE_OR, 0);
}

static node_cohort_t *cohort_new(const node_engine_query_t *q, bool cohort,
                                 proto_cohort_payload_t payload, size_t min_persons)
{
    node_cohort_t *c = NULL;
    char *cause = NULL;
    hearth_err_t rc = node_cohort_new(engine, q, cohort, payload, qkey, min_persons, &c, &cause);
    cr_assert_eq(rc, HEARTH_OK, "rc %d: %s", rc, cause ? cause : "");
    cr_assert_null(cause);
    cr_assert_not_null(c);
    return c;
}

static void cohort_refused(const node_engine_query_t *q, bool cohort,
                           proto_cohort_payload_t payload, size_t min_persons,
                           hearth_err_t want, const char *want_cause)
{
    node_cohort_t *c = (node_cohort_t *)0x1;
    char *cause = NULL;
    hearth_err_t rc = node_cohort_new(engine, q, cohort, payload, qkey, min_persons, &c, &cause);
    cr_assert_eq(rc, want, "rc %d (%s), wanted %d", rc, cause ? cause : "", want);
    cr_assert_null(c);
    cr_assert_str_eq(cause, want_cause);
    free(cause);
}

/* ---- decoding what a cohort sends --------------------------------------- */

#define MAX_TOKENS 4
#define MAX_CELLS 4
#define MAX_ASSIGN 8

typedef struct {
    uint32_t cell;
    uint64_t mask;
    uint32_t records[MAX_ASSIGN];   /* by assignment */
    double sums[MAX_ASSIGN];
} dcell_t;

typedef struct {
    size_t nnhs, ndsp;
    uint8_t tokens[MAX_TOKENS * PROTO_COHORT_TOKEN_LEN];
    size_t ncells;
    dcell_t cells[MAX_CELLS];
} dperson_t;

typedef struct {
    dperson_t *p;
    size_t n, cap;
    size_t nchunks;
    size_t chunk_len[16];
    size_t chunk_persons[16];
} decoded_t;

/* Reads every chunk of c, with a buffer of at most max bytes. */
static decoded_t decode_max(node_cohort_t *c, proto_cohort_payload_t payload, unsigned atoms,
                            size_t max)
{
    decoded_t d = {0};
    hearth_buf_t b;
    hearth_buf_init(&b, max);
    bool more = true;
    while (more) {
        char *cause = NULL;
        cr_assert_eq(node_cohort_next_chunk(c, &b, &more, &cause), HEARTH_OK, "%s",
                     cause ? cause : "");
        cr_assert_lt(d.nchunks, 16);
        d.chunk_len[d.nchunks] = b.len;
        proto_cohort_reader_t r;
        proto_cohort_reader_init(&r, b.data ? b.data : "", b.len, payload, atoms,
                                 (uint32_t)node_cohort_ncells(c));
        proto_cohort_person_t p;
        hearth_err_t rc;
        while ((rc = proto_cohort_next_person(&r, &p, &cause)) == HEARTH_OK) {
            if (d.n == d.cap) {
                d.cap = d.cap ? d.cap * 2 : 16;
                d.p = realloc(d.p, d.cap * sizeof *d.p);
            }
            dperson_t *dp = &d.p[d.n++];
            memset(dp, 0, sizeof *dp);
            cr_assert_leq(p.nnhs + p.ndsp, MAX_TOKENS);
            cr_assert_leq(p.ncells, MAX_CELLS);
            dp->nnhs = p.nnhs;
            dp->ndsp = p.ndsp;
            memcpy(dp->tokens, p.tokens, (p.nnhs + p.ndsp) * PROTO_COHORT_TOKEN_LEN);
            dp->ncells = p.ncells;
            for (size_t k = 0; k < p.ncells; k++) {
                proto_cohort_cell_t cell;
                cr_assert_eq(proto_cohort_next_cell(&r, &cell, &cause), HEARTH_OK, "%s",
                             cause ? cause : "");
                dcell_t *dc = &dp->cells[k];
                dc->cell = cell.cell;
                dc->mask = cell.mask;
                if (payload == PROTO_COHORT_PERSONS_ONLY)
                    continue;
                unsigned j = 0;
                for (uint64_t m = cell.mask; m; m &= m - 1, j++) {
                    unsigned a = (unsigned)__builtin_ctzll(m);
                    cr_assert_lt(a, MAX_ASSIGN);
                    proto_cohort_values_at(&r, &cell, j, &dc->records[a], &dc->sums[a]);
                }
            }
            d.chunk_persons[d.nchunks]++;
        }
        cr_assert_eq(rc, HEARTH_ERR_NOT_FOUND, "%s", cause ? cause : "");
        d.nchunks++;
    }
    hearth_buf_free(&b);
    return d;
}

static decoded_t decode(node_cohort_t *c, proto_cohort_payload_t payload, unsigned atoms)
{
    return decode_max(c, payload, atoms, 4 * PROTO_COHORT_CHUNK_BYTES);
}

/* The per-query token of an NHS number / of a date of birth, sex and
 * (normalised) postcode. */
static void nhs_token(const char *digits, uint8_t out[PROTO_COHORT_TOKEN_LEN])
{
    uint8_t t[KEYS_TOKEN_LEN];
    keys_token_nhs(tok, digits, t);
    keys_token_requery(qkey, t, out);
}

static void dsp_token(const char *dob, char sex, const char *pc,
                      uint8_t out[PROTO_COHORT_TOKEN_LEN])
{
    uint8_t t[KEYS_TOKEN_LEN];
    keys_token_dsp(tok, dob, sex, pc, strlen(pc), t);
    keys_token_requery(qkey, t, out);
}

/* Which of the six persons dp is, from its first token (P5 has none). */
static int who(const dperson_t *dp)
{
    if (dp->nnhs + dp->ndsp == 0)
        return P5;
    uint8_t t[PROTO_COHORT_TOKEN_LEN];
    static const char *const nhs[] = {NHS_A, NHS_B, NHS_D, NULL, NULL, NHS_E};
    for (int p = 0; p < NPERSONS; p++) {
        if (nhs[p] == NULL)
            continue;
        nhs_token(nhs[p], t);
        if (memcmp(dp->tokens, t, sizeof t) == 0)
            return p;
    }
    dsp_token("1980-04-04", 'F', "LS42CD", t);
    if (memcmp(dp->tokens, t, sizeof t) == 0)
        return P4;
    cr_assert_fail("a person with tokens of no one in the extract");
    return -1;
}

/* The decoded person P (each sent at most once), or NULL when not sent. */
static const dperson_t *person(const decoded_t *d, int p)
{
    const dperson_t *found = NULL;
    for (size_t i = 0; i < d->n; i++) {
        if (who(&d->p[i]) != p)
            continue;
        cr_assert_null(found, "person %d sent twice", p + 1);
        found = &d->p[i];
    }
    return found;
}

/* The text of cell i's code for the one group column, or "NULL". */
static const char *cell_text(node_cohort_t *c, uint32_t i, size_t column)
{
    const uint32_t *codes = node_cohort_cell_codes(c, i);
    cr_assert_not_null(codes);
    const char *s = node_engine_text(engine, 0, column, codes[0], NULL);
    return s ? s : "NULL";
}

/* Checks a decoded cell: its ward, mask, and records per assignment. */
static void expect_cell(node_cohort_t *c, const dperson_t *dp, size_t k, const char *ward,
                        uint64_t mask, const uint32_t *records)
{
    cr_assert_lt(k, dp->ncells);
    const dcell_t *dc = &dp->cells[k];
    cr_assert_str_eq(cell_text(c, dc->cell, col("ward")), ward);
    cr_assert_eq(dc->mask, mask, "mask %llx, wanted %llx", (unsigned long long)dc->mask,
                 (unsigned long long)mask);
    if (records == NULL)
        return;
    for (unsigned a = 0; a < MAX_ASSIGN; a++)
        if ((mask >> a) & 1)
            cr_assert_eq(dc->records[a], records[a], "records under %u: %u, wanted %u", a,
                         dc->records[a], records[a]);
}

/* ---- cells, masks and values ------------------------------------------- */

Test(node_cohort, lists_cells_in_code_order_with_null_first)
{
    filter_t f = {0};
    falls_or_exists(&f);
    node_engine_query_t q = query(&f, 1);
    q.ngroup = 1;
    q.group[0] = col("ward");
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_RECORDS, 0);
    cr_assert_eq(node_cohort_npersons(c), 6);
    cr_assert_eq(node_cohort_ncells(c), 4);
    cr_assert_str_eq(cell_text(c, 0, q.group[0]), "NULL");
    cr_assert_str_eq(cell_text(c, 1, q.group[0]), "Abbey");
    cr_assert_str_eq(cell_text(c, 2, q.group[0]), "Castle");
    cr_assert_str_eq(cell_text(c, 3, q.group[0]), "Priory");
    cr_assert_null(node_cohort_cell_codes(c, 4));
    node_cohort_destroy(&c);
    cr_assert_null(c);
    node_cohort_destroy(&c);
    node_cohort_destroy(NULL);
}

Test(node_cohort, masks_and_records_per_assignment_for_count_star)
{
    /* falls rows match whatever the atom; the others only when it holds. */
    filter_t f = {0};
    falls_or_exists(&f);
    node_engine_query_t q = query(&f, 1);
    q.ngroup = 1;
    q.group[0] = col("ward");
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_RECORDS, 0);
    decoded_t d = decode(c, PROTO_COHORT_RECORDS, 1);
    cr_assert_eq(d.n, 6);
    cr_assert_eq(d.nchunks, 1);
    const dperson_t *p = person(&d, P1);
    cr_assert_eq(p->ncells, 2);
    expect_cell(c, p, 0, "Abbey", 3, (const uint32_t[]){1, 1});
    expect_cell(c, p, 1, "Priory", 2, (const uint32_t[]){0, 1});
    p = person(&d, P2);
    cr_assert_eq(p->ncells, 1);
    expect_cell(c, p, 0, "Abbey", 3, (const uint32_t[]){1, 2});
    p = person(&d, P3);
    cr_assert_eq(p->ncells, 1);
    expect_cell(c, p, 0, "Castle", 3, (const uint32_t[]){2, 2});
    p = person(&d, P4);
    cr_assert_eq(p->ncells, 1);
    expect_cell(c, p, 0, "Priory", 2, (const uint32_t[]){0, 1});
    p = person(&d, P5);
    cr_assert_eq(p->ncells, 1);
    expect_cell(c, p, 0, "Abbey", 3, (const uint32_t[]){1, 1});
    p = person(&d, P6);
    cr_assert_eq(p->ncells, 1);
    expect_cell(c, p, 0, "NULL", 2, (const uint32_t[]){0, 1});
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort, not_exists_sets_the_bit_of_the_false_atom_and_persons_only_has_no_values)
{
    /* diagnosis = 'cardiac' AND NOT EXISTS: P1 (Priory), P2 (Abbey), P4. */
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_EQ, col("diagnosis"), text("cardiac"));
    op(&f, NODE_ENGINE_EXISTS, 0);
    op(&f, NODE_ENGINE_NOT, 0);
    op(&f, NODE_ENGINE_AND, 0);
    node_engine_query_t q = query(&f, 1);
    q.ngroup = 1;
    q.group[0] = col("ward");
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_PERSONS_ONLY, 0);
    cr_assert_eq(node_cohort_ncells(c), 2);
    decoded_t d = decode(c, PROTO_COHORT_PERSONS_ONLY, 1);
    cr_assert_eq(d.n, 3);
    expect_cell(c, person(&d, P1), 0, "Priory", 1, NULL);
    expect_cell(c, person(&d, P2), 0, "Abbey", 1, NULL);
    expect_cell(c, person(&d, P4), 0, "Priory", 1, NULL);
    cr_assert_eq(person(&d, P1)->ncells, 1);
    /* 6 + 16 * tokens + 12 bytes each, and nothing more. */
    cr_assert_eq(d.chunk_len[0], (6 + 2 * 16 + 12) + (6 + 3 * 16 + 12) + (6 + 16 + 12));
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort, sums_count_only_records_with_a_measure)
{
    /* SUM(cost) WHERE diagnosis = 'cardiac': P2's record has no cost, so
     * P2 is not sent and Abbey is not a cell. */
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_EQ, col("diagnosis"), text("cardiac"));
    node_engine_query_t q = query(&f, 0);
    q.ngroup = 1;
    q.group[0] = col("ward");
    q.measure = (int)col("cost");
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_SUMS, 0);
    cr_assert_eq(node_cohort_ncells(c), 1);
    decoded_t d = decode(c, PROTO_COHORT_SUMS, 0);
    cr_assert_eq(d.n, 2);
    cr_assert_null(person(&d, P2));
    const dperson_t *p = person(&d, P1);
    expect_cell(c, p, 0, "Priory", 1, (const uint32_t[]){1});
    cr_assert_eq(p->cells[0].sums[0], 5);
    p = person(&d, P4);
    expect_cell(c, p, 0, "Priory", 1, (const uint32_t[]){1});
    cr_assert_eq(p->cells[0].sums[0], 1);
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort, sums_per_assignment_under_an_atom)
{
    filter_t f = {0};
    falls_or_exists(&f);
    node_engine_query_t q = query(&f, 1);
    q.ngroup = 1;
    q.group[0] = col("ward");
    q.measure = (int)col("cost");
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_SUMS, 0);
    decoded_t d = decode(c, PROTO_COHORT_SUMS, 1);
    cr_assert_eq(d.n, 6);
    const dperson_t *p = person(&d, P1);
    expect_cell(c, p, 0, "Abbey", 3, (const uint32_t[]){1, 1});
    cr_assert_eq(p->cells[0].sums[0], 10);
    cr_assert_eq(p->cells[0].sums[1], 10);
    expect_cell(c, p, 1, "Priory", 2, (const uint32_t[]){0, 1});
    cr_assert_eq(p->cells[1].sums[1], 5);
    /* P2's cardiac record has no cost: one record under either value. */
    p = person(&d, P2);
    expect_cell(c, p, 0, "Abbey", 3, (const uint32_t[]){1, 1});
    cr_assert_eq(p->cells[0].sums[0], 3);
    cr_assert_eq(p->cells[0].sums[1], 3);
    p = person(&d, P3);
    expect_cell(c, p, 0, "Castle", 3, (const uint32_t[]){2, 2});
    cr_assert_eq(p->cells[0].sums[0], 15);
    cr_assert_eq(p->cells[0].sums[1], 15);
    p = person(&d, P6);
    expect_cell(c, p, 0, "NULL", 2, (const uint32_t[]){0, 1});
    cr_assert_eq(p->cells[0].sums[1], 4);
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort, without_group_by_there_is_one_cell)
{
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_EQ, col("diagnosis"), text("falls"));
    node_engine_query_t q = query(&f, 0);
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_RECORDS, 0);
    cr_assert_eq(node_cohort_ncells(c), 1);
    cr_assert_not_null(node_cohort_cell_codes(c, 0));
    decoded_t d = decode(c, PROTO_COHORT_RECORDS, 0);
    cr_assert_eq(d.n, 4);
    static const int persons[] = {P1, P2, P3, P5};
    static const uint32_t records[] = {1, 1, 2, 1};
    for (size_t i = 0; i < 4; i++) {
        const dperson_t *p = person(&d, persons[i]);
        cr_assert_not_null(p);
        cr_assert_eq(p->ncells, 1);
        cr_assert_eq(p->cells[0].cell, 0);
        cr_assert_eq(p->cells[0].mask, 1);
        cr_assert_eq(p->cells[0].records[0], records[i]);
    }
    free(d.p);
    node_cohort_destroy(&c);
}

/* ---- tokens ------------------------------------------------------------ */

static void expect_token(const dperson_t *p, size_t k, const uint8_t *want)
{
    cr_assert_lt(k, p->nnhs + p->ndsp);
    cr_assert_eq(memcmp(p->tokens + k * PROTO_COHORT_TOKEN_LEN, want, PROTO_COHORT_TOKEN_LEN),
                 0, "token %zu", k);
}

Test(node_cohort, sends_each_persons_distinct_tokens_rekeyed_nhs_first)
{
    node_engine_query_t q = query(NULL, 0);
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_PERSONS_ONLY, 0);
    decoded_t d = decode(c, PROTO_COHORT_PERSONS_ONLY, 0);
    cr_assert_eq(d.n, 6);
    uint8_t t[PROTO_COHORT_TOKEN_LEN];
    const dperson_t *p = person(&d, P1);
    cr_assert_eq(p->nnhs, 1);
    cr_assert_eq(p->ndsp, 1);
    nhs_token(NHS_A, t);
    expect_token(p, 0, t);
    dsp_token("1950-01-01", 'M', "LS14AP", t);
    expect_token(p, 1, t);
    /* Two NHS numbers, in the order of the records, and one DSP token. */
    p = person(&d, P2);
    cr_assert_eq(p->nnhs, 2);
    cr_assert_eq(p->ndsp, 1);
    nhs_token(NHS_B, t);
    expect_token(p, 0, t);
    nhs_token(NHS_C, t);
    expect_token(p, 1, t);
    dsp_token("1960-02-02", 'F', "LS27EE", t);
    expect_token(p, 2, t);
    /* Two records with the same tokens: each token once. */
    p = person(&d, P3);
    cr_assert_eq(p->nnhs, 1);
    cr_assert_eq(p->ndsp, 1);
    nhs_token(NHS_D, t);
    expect_token(p, 0, t);
    dsp_token("1970-03-03", 'M', "LS31AB", t);
    expect_token(p, 1, t);
    p = person(&d, P4);
    cr_assert_eq(p->nnhs, 0);
    cr_assert_eq(p->ndsp, 1);
    /* In a cohort a person with no token is still sent. */
    p = person(&d, P5);
    cr_assert_eq(p->nnhs + p->ndsp, 0);
    cr_assert_eq(p->ncells, 1);
    p = person(&d, P6);
    cr_assert_eq(p->nnhs, 1);
    cr_assert_eq(p->ndsp, 0);
    /* Every token sent is keys_token_requery of a token the engine holds. */
    for (size_t i = 0; i < d.n; i++) {
        size_t found = 0;
        for (size_t ep = 1; ep <= NPERSONS; ep++) {
            size_t nn, nd;
            const uint8_t *s = node_engine_person_tokens(engine, 0, ep, &nn, &nd);
            if (nn != d.p[i].nnhs || nd != d.p[i].ndsp)
                continue;
            bool all = true;
            for (size_t k = 0; k < nn + nd; k++) {
                keys_token_requery(qkey, s + k * KEYS_TOKEN_LEN, t);
                all = all && memcmp(t, d.p[i].tokens + k * 16, 16) == 0;
            }
            found += all;
        }
        cr_assert_eq(found, 1, "person %zu", i);
    }
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort, tokens_differ_from_one_query_to_the_next)
{
    node_engine_query_t q = query(NULL, 0);
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_PERSONS_ONLY, 0);
    decoded_t d = decode(c, PROTO_COHORT_PERSONS_ONLY, 0);
    node_cohort_destroy(&c);
    keys_token_t *other = keys_token_for_query(tok, "q-other");
    char *cause = NULL;
    cr_assert_eq(node_cohort_new(engine, &q, true, PROTO_COHORT_PERSONS_ONLY, other, 0, &c,
                                 &cause), HEARTH_OK);
    decoded_t e = decode(c, PROTO_COHORT_PERSONS_ONLY, 0);
    cr_assert_eq(e.n, d.n);
    for (size_t i = 0; i < d.n; i++)
        for (size_t j = 0; j < e.n; j++)
            if (d.p[i].nnhs + d.p[i].ndsp > 0)
                cr_assert_neq(memcmp(d.p[i].tokens, e.p[j].tokens, 16), 0);
    free(d.p);
    free(e.p);
    node_cohort_destroy(&c);
    keys_token_destroy(&other);
}

/* ---- targets and the minimum ------------------------------------------- */

Test(node_cohort, a_target_sends_persons_with_a_token_and_no_cells)
{
    /* falls: P1, P2, P3 and P5, who has no token and cannot link. */
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_EQ, col("diagnosis"), text("falls"));
    node_engine_query_t q = query(&f, 0);
    q.ngroup = 1;
    q.group[0] = col("ward");
    node_cohort_t *c = cohort_new(&q, false, PROTO_COHORT_PERSONS_ONLY, 3);
    cr_assert_eq(node_cohort_npersons(c), 3);
    cr_assert_eq(node_cohort_ncells(c), 0);
    decoded_t d = decode(c, PROTO_COHORT_PERSONS_ONLY, 0);
    cr_assert_eq(d.n, 3);
    cr_assert_not_null(person(&d, P1));
    cr_assert_not_null(person(&d, P2));
    cr_assert_not_null(person(&d, P3));
    cr_assert_null(person(&d, P5));
    cr_assert_eq(person(&d, P2)->nnhs, 2);
    for (size_t i = 0; i < d.n; i++)
        cr_assert_eq(d.p[i].ncells, 0);
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort, refuses_a_cohort_or_target_below_the_minimum)
{
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_EQ, col("diagnosis"), text("falls"));
    node_engine_query_t q = query(&f, 0);
    cohort_refused(&q, false, PROTO_COHORT_PERSONS_ONLY, 8, HEARTH_ERR_REFUSED,
                   "this node does not contribute a cohort of fewer than 8 persons");
    cohort_refused(&q, false, PROTO_COHORT_PERSONS_ONLY, 4, HEARTH_ERR_REFUSED,
                   "this node does not contribute a cohort of fewer than 4 persons");
    node_cohort_t *c = cohort_new(&q, false, PROTO_COHORT_PERSONS_ONLY, 3);
    node_cohort_destroy(&c);
    /* Six persons in the cohort of everyone. */
    q = query(NULL, 0);
    cohort_refused(&q, true, PROTO_COHORT_RECORDS, 8, HEARTH_ERR_REFUSED,
                   "this node does not contribute a cohort of fewer than 8 persons");
    c = cohort_new(&q, true, PROTO_COHORT_RECORDS, 6);
    node_cohort_destroy(&c);
}

Test(node_cohort, an_empty_cohort_is_allowed_and_sends_one_empty_chunk)
{
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_EQ, col("diagnosis"), text("none such"));
    node_engine_query_t q = query(&f, 0);
    q.ngroup = 1;
    q.group[0] = col("ward");
    for (int cohort = 0; cohort < 2; cohort++) {
        node_cohort_t *c = cohort_new(&q, cohort, PROTO_COHORT_RECORDS, 8);
        cr_assert_eq(node_cohort_npersons(c), 0);
        cr_assert_eq(node_cohort_ncells(c), 0);
        hearth_buf_t b;
        hearth_buf_init(&b, 64);
        hearth_buf_adds(&b, "old");
        bool more = true;
        char *cause = NULL;
        cr_assert_eq(node_cohort_next_chunk(c, &b, &more, &cause), HEARTH_OK);
        cr_assert_eq(b.len, 0);
        cr_assert(!more);
        hearth_buf_free(&b);
        node_cohort_destroy(&c);
    }
}

Test(node_cohort, refuses_malformed_sub_queries_and_passes_on_the_engines_refusals)
{
    filter_t f = {0};
    falls_or_exists(&f);
    node_engine_query_t q = query(&f, 1);
    cohort_refused(&q, false, PROTO_COHORT_PERSONS_ONLY, 0, HEARTH_ERR_PROTO,
                   "malformed sub-query: an EXISTS target has EXISTS atoms");
    cohort_refused(&q, true, PROTO_COHORT_SUMS, 0, HEARTH_ERR_PROTO,
                   "malformed sub-query: SUM and MEAN need a measure");
    cohort_refused(&q, true, (proto_cohort_payload_t)7, 0, HEARTH_ERR_PROTO,
                   "malformed sub-query: unknown payload");
    q.natoms = 0;
    cohort_refused(&q, true, PROTO_COHORT_RECORDS, 0, HEARTH_ERR_PROTO,
                   "malformed filter term");
    q.natoms = 7;
    cohort_refused(&q, true, PROTO_COHORT_RECORDS, 0, HEARTH_ERR_TOO_BIG,
                   "at most 6 EXISTS sub-selects in one query");
    q = query(NULL, 0);
    q.dataset = 3;
    cohort_refused(&q, true, PROTO_COHORT_RECORDS, 0, HEARTH_ERR_NOT_FOUND,
                   "no such dataset");
}

/* ---- chunks ------------------------------------------------------------ */

Test(node_cohort, a_person_that_does_not_fit_opens_the_next_chunk)
{
    /* At most 100 bytes a chunk: persons of 18 to 66 bytes, one to three a
     * chunk, every one exactly once. */
    node_engine_query_t q = query(NULL, 0);
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_PERSONS_ONLY, 0);
    decoded_t d = decode_max(c, PROTO_COHORT_PERSONS_ONLY, 0, 100);
    cr_assert_eq(d.n, 6);
    cr_assert_geq(d.nchunks, 3);
    for (size_t i = 0; i < d.nchunks; i++) {
        cr_assert_leq(d.chunk_len[i], 100);
        cr_assert_gt(d.chunk_persons[i], 0);
    }
    for (int p = 0; p < NPERSONS; p++)
        cr_assert_not_null(person(&d, p));
    free(d.p);
    node_cohort_destroy(&c);
    /* A person bigger than the buffer can never be sent. */
    c = cohort_new(&q, true, PROTO_COHORT_PERSONS_ONLY, 0);
    hearth_buf_t b;
    hearth_buf_init(&b, 20);
    bool more = false;
    char *cause = NULL;
    hearth_err_t rc = HEARTH_OK;
    while (rc == HEARTH_OK && node_cohort_npersons(c) > 0) {
        rc = node_cohort_next_chunk(c, &b, &more, &cause);
        if (!more)
            break;
    }
    cr_assert_eq(rc, HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(cause, "a person's records do not fit in one chunk");
    cr_assert_leq(b.len, 20);
    free(cause);
    hearth_buf_free(&b);
    node_cohort_destroy(&c);
}

/* ---- many persons ------------------------------------------------------ */

#define BIG 60000

/* The i-th valid NHS number from 4000000000 on, as 10 digits. */
static void big_nhs(size_t i, char out[11])
{
    static uint64_t next, count;
    if (i == 0) {
        next = 4000000000u;
        count = 0;
    }
    for (;; next++) {
        snprintf(out, 11, "%010llu", (unsigned long long)next);
        int sum = 0;
        for (int k = 0; k < 9; k++)
            sum += (out[k] - '0') * (10 - k);
        int check = 11 - sum % 11;
        if (check == 11)
            check = 0;
        if (check != 10 && check == out[9] - '0' && count++ == i) {
            next++;
            return;
        }
    }
}

static void setup_big(void)
{
    size_t cap = (size_t)BIG * 24 + 64, n = 0;
    char *text = malloc(cap);
    n += (size_t)snprintf(text, cap, "nhs_number,n\n");
    char nhs[11];
    for (size_t i = 0; i < BIG; i++) {
        big_nhs(i, nhs);
        n += (size_t)snprintf(text + n, cap - n, "%s,%zu\n", nhs, i);
    }
    setup_with("big", text);
    free(text);
    cr_assert_eq(node_engine_npersons(engine, 0), BIG);
}

TestSuite(node_cohort_big, .init = setup_big, .fini = teardown);

static int token_cmp(const void *a, const void *b)
{
    return memcmp(a, b, PROTO_COHORT_TOKEN_LEN);
}

/* The first tokens of d's persons, in the order sent. */
static uint8_t *first_tokens(const decoded_t *d)
{
    uint8_t *t = malloc(d->n * PROTO_COHORT_TOKEN_LEN);
    for (size_t i = 0; i < d->n; i++) {
        cr_assert_eq(d->p[i].nnhs, 1);
        memcpy(t + i * PROTO_COHORT_TOKEN_LEN, d->p[i].tokens, PROTO_COHORT_TOKEN_LEN);
    }
    return t;
}

Test(node_cohort_big, many_persons_come_in_several_chunks_each_exactly_once)
{
    /* n >= 0 OR EXISTS: mask 3, two records values: 42 bytes a person. */
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_GE, col("n"), integer(0));
    op(&f, NODE_ENGINE_EXISTS, 0);
    op(&f, NODE_ENGINE_OR, 0);
    node_engine_query_t q = query(&f, 1);
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_RECORDS, 8);
    decoded_t d = decode(c, PROTO_COHORT_RECORDS, 1);
    cr_assert_eq(d.n, BIG);
    cr_assert_eq(d.nchunks, 3);
    size_t per = (PROTO_COHORT_CHUNK_BYTES / 42) + 1;
    cr_assert_eq(d.chunk_persons[0], per);
    cr_assert_eq(d.chunk_persons[1], per);
    cr_assert_eq(d.chunk_persons[2], BIG - 2 * per);
    cr_assert_eq(d.chunk_len[0], per * 42);
    for (size_t i = 0; i < d.n; i++) {
        cr_assert_eq(d.p[i].ncells, 1);
        cr_assert_eq(d.p[i].cells[0].mask, 3);
        cr_assert_eq(d.p[i].cells[0].records[0], 1);
        cr_assert_eq(d.p[i].cells[0].records[1], 1);
    }
    /* The union is every person once: the sorted tokens are the sorted
     * per-query tokens of every NHS number in the extract. */
    uint8_t *got = first_tokens(&d);
    uint8_t *want = malloc((size_t)BIG * PROTO_COHORT_TOKEN_LEN);
    char nhs[11];
    for (size_t i = 0; i < BIG; i++) {
        big_nhs(i, nhs);
        nhs_token(nhs, want + i * PROTO_COHORT_TOKEN_LEN);
    }
    qsort(got, BIG, PROTO_COHORT_TOKEN_LEN, token_cmp);
    qsort(want, BIG, PROTO_COHORT_TOKEN_LEN, token_cmp);
    cr_assert_eq(memcmp(got, want, (size_t)BIG * PROTO_COHORT_TOKEN_LEN), 0);
    free(got);
    free(want);
    free(d.p);
    node_cohort_destroy(&c);
}

Test(node_cohort_big, two_cohorts_of_one_query_differ_only_in_order)
{
    node_engine_query_t q = query(NULL, 0);
    node_cohort_t *c = cohort_new(&q, false, PROTO_COHORT_PERSONS_ONLY, 8);
    decoded_t d = decode(c, PROTO_COHORT_PERSONS_ONLY, 0);
    node_cohort_destroy(&c);
    c = cohort_new(&q, false, PROTO_COHORT_PERSONS_ONLY, 8);
    decoded_t e = decode(c, PROTO_COHORT_PERSONS_ONLY, 0);
    node_cohort_destroy(&c);
    cr_assert_eq(d.n, BIG);
    cr_assert_eq(e.n, BIG);
    uint8_t *a = first_tokens(&d), *b = first_tokens(&e);
    size_t same = 0;
    for (size_t i = 0; i < BIG; i++)
        same += memcmp(a + i * 16, b + i * 16, 16) == 0;
    /* By chance about one person keeps its place; all of them never. */
    cr_assert_lt(same, 100, "%zu persons in the same place", same);
    qsort(a, BIG, PROTO_COHORT_TOKEN_LEN, token_cmp);
    qsort(b, BIG, PROTO_COHORT_TOKEN_LEN, token_cmp);
    cr_assert_eq(memcmp(a, b, (size_t)BIG * PROTO_COHORT_TOKEN_LEN), 0);
    free(a);
    free(b);
    free(d.p);
    free(e.p);
}

Test(node_cohort_big, eight_persons_are_enough_and_seven_are_not)
{
    filter_t f = {0};
    leaf(&f, NODE_ENGINE_LT, col("n"), integer(8));
    node_engine_query_t q = query(&f, 0);
    node_cohort_t *c = cohort_new(&q, true, PROTO_COHORT_PERSONS_ONLY, 8);
    cr_assert_eq(node_cohort_npersons(c), 8);
    node_cohort_destroy(&c);
    c = cohort_new(&q, false, PROTO_COHORT_PERSONS_ONLY, 8);
    cr_assert_eq(node_cohort_npersons(c), 8);
    node_cohort_destroy(&c);
    f.v[0] = integer(7);
    cohort_refused(&q, true, PROTO_COHORT_PERSONS_ONLY, 8, HEARTH_ERR_REFUSED,
                   "this node does not contribute a cohort of fewer than 8 persons");
    cohort_refused(&q, false, PROTO_COHORT_PERSONS_ONLY, 8, HEARTH_ERR_REFUSED,
                   "this node does not contribute a cohort of fewer than 8 persons");
}
