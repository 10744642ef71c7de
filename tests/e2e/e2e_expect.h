/* e2e_expect — the tables hearth should release, computed independently of
 * hearth from the CSV extracts and the generator's truth file (which gives
 * every row's true person), for the end-to-end tests of the dialect and of
 * linkage.
 *
 * A test writes each question twice: once as SQL for hearth, once as an
 * e2e_spec_t whose WHERE is a C function over a parsed row with SQL's
 * three-valued logic, and whose EXISTS sub-selects are datasets with their
 * own WHERE. The disclosure rules, under the policy the result's JSON says
 * was applied:
 *
 *   - a cell is judged on its records (COUNT(*)) or its persons
 *     (COUNT(PERSONS); for SUM and MEAN the persons among the records whose
 *     measure column is not NULL); over a UNION, records add up, and
 *     persons are the largest of the datasets' persons in that cell unless
 *     the query is linked, when each person counts once;
 *   - primary suppression, written here again from the brief: judged
 *     counts 1..threshold are hidden (and 0 when zeros are disclosive);
 *   - secondary suppression is not written again: the attacker check is
 *     gateway/gw_sdc's own (proved by its unit and property tests), called
 *     here on the grid this module computes from the extracts, laid out as
 *     the gateway lays it out (each group column's values that occur, row-
 *     major, the last column fastest, a combination that does not occur
 *     counting 0), and for SUM and MEAN checked as if counts were released
 *     exactly (rounding 1), as the gateway checks them. So these tests prove
 *     the true counts and the wiring; a table the check cannot protect is
 *     expected to be refused;
 *   - counts and SUMs are rounded to the nearest multiple of the rounding
 *     base (halves up); a MEAN is the sum over the non-NULL records, to one
 *     decimal place (halves up).
 *
 * A query is linked when it has an EXISTS, or is COUNT(PERSONS) over a
 * UNION (docs/design/linkage.md). A person satisfies EXISTS atom i when one
 * of its records in the atom's dataset matches the atom's WHERE; a base
 * record counts when the query's WHERE is TRUE with every atom fixed to its
 * person's value. A linked table lists every cell in which some record
 * matches under SOME assignment of the atoms (the cells the nodes report),
 * so a cell may be listed with nothing in it.
 *
 * Like e2e_util, this module's names take the folder's e2e_ prefix rather
 * than e2e_expect_: the row predicates are written dozens of times and
 * should read like the SQL beside them.
 *
 * Helpers assert with criterion, so call them from a test, not a fixture. */
#ifndef E2E_EXPECT_H
#define E2E_EXPECT_H

#include "e2e_util.h"
#include "gw_sdc.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Datasets one e2e_data_t loads. */
#define E2E_MAX_DS 8
/* EXISTS sub-selects in one question (the gateway's limit). */
#define E2E_MAX_EXISTS 6

/* --- the extracts, with their true persons ----------------------------------- */

/* One dataset as a test reads it: the extract and every row's true person. */
typedef struct {
    char name[64];            /* "node.dataset" */
    e2e_csv_t csv;            /* rows[0] is the header */
    uint64_t *persons;        /* owned: persons[i - 1] for csv.rows[i] */
} e2e_ds_t;

typedef struct e2e_data_t e2e_data_t;

/* Gives the true persons of a dataset the truth file does not list (one a
 * test made itself): fills persons[0..nrec) and returns true, or returns
 * false to have them read from the truth file. */
typedef bool (*e2e_derive_fn)(e2e_data_t *d, const char *node, const char *dataset,
                              size_t nrec, uint64_t *persons);

/* A folder of extracts and its truth file, loaded on first use. */
struct e2e_data_t {
    char *dir;                /* owned: DIR of DIR/<node>/<dataset>.csv */
    char *truth;              /* owned: the truth file's path */
    e2e_derive_fn derive;     /* may be NULL */
    e2e_ds_t ds[E2E_MAX_DS];
    size_t nds;
};

/* Starts *d over dir and truth (both copied); nothing is read yet. */
void e2e_data_init(e2e_data_t *d, const char *dir, const char *truth, e2e_derive_fn derive);

/* Frees what *d owns; safe on a zeroed or already freed *d. */
void e2e_data_free(e2e_data_t *d);

/* The true persons of node.dataset's rows, in row order, from the truth
 * file, in *persons (caller frees); returns how many (asserts there are
 * some). */
size_t e2e_truth_persons(e2e_data_t *d, const char *node, const char *dataset,
                         uint64_t **persons);

/* The dataset "node.dataset", loaded on first use; borrowed from d. */
const e2e_ds_t *e2e_dataset(e2e_data_t *d, const char *full);

/* --- rows and SQL's three-valued logic ------------------------------------- */

typedef enum { E2E_FALSE = 0, E2E_TRUE = 1, E2E_UNKNOWN = 2 } e2e_tv_t;

typedef enum { E2E_EQ, E2E_NE, E2E_LT, E2E_LE, E2E_GT, E2E_GE } e2e_op_t;

/* One record as a WHERE sees it. */
typedef struct {
    const e2e_ds_t *ds;
    const e2e_csv_row_t *row;
    size_t record;            /* 0-based: row is ds->csv.rows[record + 1] */
    uint64_t person;          /* the identity the record counts under */
    unsigned exists;          /* bit i: EXISTS atom i is true for the person */
} e2e_row_t;

e2e_tv_t e2e_and(e2e_tv_t a, e2e_tv_t b);
e2e_tv_t e2e_or(e2e_tv_t a, e2e_tv_t b);
e2e_tv_t e2e_not(e2e_tv_t a);

/* EXISTS atom i (0-based, source order) for the row's person: never
 * UNKNOWN. */
e2e_tv_t e2e_exists(const e2e_row_t *r, unsigned atom);

/* The cell of column col, or NULL when it is empty (a node stores an empty
 * cell as NULL); asserts the column exists. */
const char *e2e_cell(const e2e_row_t *r, const char *col);

/* A number as tenths: "-12", "6.5". Asserts at most one decimal place, so
 * sums are exact. */
int64_t e2e_tenths(const char *s);

/* A date as YYYY-MM-DD, from YYYY-MM-DD or DD/MM/YYYY (asserted). */
void e2e_iso_date(const char *s, char out[11]);

/* Comparisons of column col with a literal: UNKNOWN when the cell is
 * empty. Categories compare as bytes (strcmp); numbers in tenths; dates as
 * dates; lists are NULL-ended (text) or n long (integers). */
e2e_tv_t e2e_text_is(const e2e_row_t *r, const char *col, e2e_op_t op, const char *lit);
e2e_tv_t e2e_num_is(const e2e_row_t *r, const char *col, e2e_op_t op, int64_t lit_tenths);
e2e_tv_t e2e_int_is(const e2e_row_t *r, const char *col, e2e_op_t op, int64_t lit);
e2e_tv_t e2e_date_is(const e2e_row_t *r, const char *col, e2e_op_t op, const char *lit);
e2e_tv_t e2e_text_in(const e2e_row_t *r, const char *col, const char *const *list);
e2e_tv_t e2e_int_in(const e2e_row_t *r, const char *col, const int64_t *list, size_t n);
e2e_tv_t e2e_is_null(const e2e_row_t *r, const char *col);

/* --- questions and their expected tables ----------------------------------- */

typedef enum { E2E_RECORDS, E2E_PERSONS, E2E_SUM, E2E_MEAN } e2e_measure_t;

typedef e2e_tv_t (*e2e_pred_t)(const e2e_row_t *r);

/* Which identity a record counts under, when a test needs another than
 * its true person (see test_e2e_linkage.c); arg is e2e_spec_t.identity_arg. */
typedef uint64_t (*e2e_identity_fn)(const e2e_row_t *r, void *arg);

/* One EXISTS (SELECT * FROM from WHERE where) sub-select. */
typedef struct {
    const char *from;         /* "node.dataset"; NULL ends the list */
    e2e_pred_t where;         /* NULL: every record */
} e2e_exists_t;

/* One question: its SQL for hearth and the same question for this module. */
typedef struct {
    const char *sql;
    const char *from[4];      /* "node.dataset", NULL-ended; several = UNION */
    const char *group[4];     /* group columns in SELECT order, NULL-ended */
    e2e_measure_t measure;
    const char *column;       /* SUM, MEAN: the measure column */
    bool decimal;             /* the measure column is decimal (SUM shows "n.0") */
    e2e_pred_t where;         /* NULL: every record; may use e2e_exists */
    e2e_exists_t exists[E2E_MAX_EXISTS + 1];  /* in source order, .from NULL-ended */
    e2e_identity_fn identity; /* NULL: the true person */
    void *identity_arg;
} e2e_spec_t;

/* A base record that matches under some assignment of the atoms. */
typedef struct {
    const char *key[3];       /* borrowed from the extract; NULL is SQL NULL */
    const e2e_ds_t *ds;       /* the base dataset it is a record of */
    size_t record;            /* 0-based record of ds */
    size_t part;              /* which dataset of the UNION; 0 for a linked query */
    uint64_t person;          /* its identity */
    bool counted;             /* it matches under its person's own assignment */
    bool has;                 /* counted, and (SUM, MEAN) its value is not NULL */
    int64_t value;            /* SUM, MEAN: in tenths */
    size_t cell;              /* index in e2e_table_t.cells; SIZE_MAX without GROUP BY */
} e2e_hit_t;

typedef struct {
    const char *key[3];
    uint64_t records;         /* records (SUM, MEAN: with a value), added over parts */
    uint64_t persons;         /* distinct persons (largest part's when not linked) */
    int64_t sum;              /* tenths */
    uint64_t judged;          /* what disclosure control is judged on */
    bool suppressed, secondary;
} e2e_cell_t;

typedef struct {
    size_t ngroup;
    bool linked;
    gw_sdc_policy_t policy;   /* the rules the table was worked out under */
    e2e_cell_t *cells;        /* owned, in group order */
    size_t n;
    e2e_cell_t total;
    size_t primary;           /* cells (total included) the primary rule hides */
    size_t secondary;         /* cells (total included) hidden only to protect another */
    bool refused;             /* the attacker check leaves a hidden cell pinned
                               * whatever is hidden: the gateway must refuse */
    e2e_hit_t *hits;          /* owned, in group order */
    size_t nhits;
} e2e_table_t;

void e2e_table_free(e2e_table_t *t);

/* The number of EXISTS atoms of spec. */
unsigned e2e_atoms(const e2e_spec_t *spec);

/* Whether spec is a linked query. */
bool e2e_linked(const e2e_spec_t *spec);

/* Whether base record r (r->exists is overwritten) matches spec's WHERE
 * under some assignment of the atoms, with a non-NULL measure for a linked
 * SUM or MEAN: whether a node lists its person in that cell. */
bool e2e_matches_some(const e2e_spec_t *spec, e2e_row_t *r);

/* Whether record r of atom x's dataset matches the atom's WHERE. */
bool e2e_atom_matches(const e2e_exists_t *x, const e2e_row_t *r);

/* The identity record `record` of ds counts under for spec. */
uint64_t e2e_identity(const e2e_spec_t *spec, const e2e_ds_t *ds, size_t record);

/* Whether the primary rule of policy hides a cell judged on judged. */
bool e2e_small(const gw_sdc_policy_t *policy, uint64_t judged);

/* Computes the released table for spec from the extracts, under policy,
 * into *t (free with e2e_table_free). */
void e2e_expected(e2e_data_t *d, const e2e_spec_t *spec, const gw_sdc_policy_t *policy,
                  e2e_table_t *t);

/* Whether a and b (tables of the same group columns, a's policy) would
 * single out a few people if both were released: some cell, or the total,
 * whose judged counts differ by 1..threshold (a cell one table does not
 * list counting 0). When two questions' WHERE differ by exactly one
 * conjunct, this is when the gateway refuses the second (gw_diff.h). */
bool e2e_isolates_few(const e2e_table_t *a, const e2e_table_t *b);

/* The cell hit h counts in (the total when there is no GROUP BY). */
const e2e_cell_t *e2e_hit_cell(const e2e_table_t *t, const e2e_hit_t *h);

/* Nearest multiple of base, halves up (x >= 0, asserted). */
int64_t e2e_round_to(int64_t x, int64_t base);

/* The released value of c, a cell or the total of t, as hearth's CSV shows
 * it ("" when suppressed). */
void e2e_value_text(const e2e_spec_t *spec, const e2e_table_t *t, const e2e_cell_t *c,
                    char out[48]);

/* hearth's CSV for the table: header, one line per cell, then the total.
 * Caller frees. */
char *e2e_expected_csv(const e2e_spec_t *spec, const e2e_table_t *t);

/* Writes s to f as one CSV field (quoted when it must be), after a comma
 * unless first. */
void e2e_put_csv_field(FILE *f, const char *s, bool first);

/* HEARTH_E2E_SHOW=1 prints the expected table with its true counts on
 * standard error, to help choose questions whose tables exercise a rule. */
void e2e_show(const e2e_spec_t *spec, const e2e_table_t *t);

/* Reads the "disclosure" section of a released JSON result into *policy
 * (threshold, rounding, zeros, protection) and *suppressed_cells; asserts
 * the section is there, in client_render's key order, with the dominance
 * rule off and no noise added (this module models neither). */
void e2e_json_policy(const char *json, gw_sdc_policy_t *policy, uint64_t *suppressed_cells);

/* Asks spec->sql of the partnership whose client configuration is config
 * as JSON, computes spec's table into *t (caller frees) under the policy
 * that result states (the defaults when it is not released), and expects
 * (criterion expectations, so that one run reports every question a test
 * gets wrong): when the table can be protected, exit 0, the expected
 * number of suppressed cells, and exactly the expected CSV when asked
 * again as CSV; when it cannot (t->refused), exit 3 with the gateway's
 * reason for that. */
void e2e_check(e2e_data_t *d, const char *config, const e2e_spec_t *spec, e2e_table_t *t);

/* e2e_check for a question whose table need not exercise anything special,
 * but must be released. */
void e2e_check_plain(e2e_data_t *d, const char *config, const e2e_spec_t *spec);

#endif
