/* Tests for gw_link: persons sharing any token are one person, transitively
 * across datasets; EXISTS / NOT EXISTS / OR are evaluated per linked person
 * through the masks; a UNION counts a person once per cell and once in the
 * total; COUNT(*) and SUM take the values of the person's actual
 * assignment; linkage kinds count only matches with ANOTHER dataset; bounds
 * and malformed chunks are refused. A randomised run is checked against a
 * naive O(n^2) transitive closure written here. */
#include "gw_link.h"
#include "hearth_buf.h"

#include <criterion/criterion.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define NONE UINT32_MAX
#define BIG ((size_t)1 << 30)

/* ---- building chunks by hand ---------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

/* A token standing for NHS number (kind 'N') or DOB+sex+postcode ('D') id. */
static void tok_make(uint8_t *out, char kind, uint32_t id)
{
    uint64_t s = (uint64_t)(unsigned char)kind << 32 | id;
    uint64_t a = splitmix(&s), b = splitmix(&s);
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

/* A person with at most one NHS token and one DSP token (NONE: absent). */
static void put_person(hearth_buf_t *b, uint32_t nhs, uint32_t dsp, uint32_t ncells)
{
    uint8_t toks[2 * PROTO_COHORT_TOKEN_LEN];
    size_t nn = 0, nd = 0;
    if (nhs != NONE) {
        tok_make(toks, 'N', nhs);
        nn = 1;
    }
    if (dsp != NONE) {
        tok_make(toks + nn * PROTO_COHORT_TOKEN_LEN, 'D', dsp);
        nd = 1;
    }
    cr_assert_eq(proto_cohort_put_person(b, nn, nd, toks, ncells), HEARTH_OK);
}

static void put_cell(hearth_buf_t *b, uint32_t cell, uint64_t mask)
{
    cr_assert_eq(proto_cohort_put_cell(b, cell, mask), HEARTH_OK);
}

static void put_vals(hearth_buf_t *b, proto_cohort_payload_t p, uint32_t records, double sum)
{
    cr_assert_eq(proto_cohort_put_values(b, p, records, sum), HEARTH_OK);
}

/* Adds b's bytes as one chunk of part and empties b. */
static void add(gw_link_t *l, size_t part, hearth_buf_t *b)
{
    char *cause = NULL;
    hearth_err_t rc = gw_link_add(l, part, b->data, b->len, &cause);
    cr_assert_eq(rc, HEARTH_OK, "add part %zu: %s", part, cause ? cause : "");
    free(cause);
    hearth_buf_reset(b);
}

static hearth_err_t add_rc(gw_link_t *l, size_t part, hearth_buf_t *b)
{
    char *cause = NULL;
    hearth_err_t rc = gw_link_add(l, part, b->data, b->len, &cause);
    if (rc != HEARTH_OK)
        cr_assert_not_null(cause, "an error comes with a cause");
    free(cause);
    hearth_buf_reset(b);
    return rc;
}

static void cells(gw_link_t *l, size_t part, size_t n, const uint32_t *global)
{
    char *cause = NULL;
    cr_assert_eq(gw_link_set_cells(l, part, global, n, &cause), HEARTH_OK, "%s",
                 cause ? cause : "");
}

static const uint32_t IDENTITY[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static void finish(gw_link_t *l, size_t nglobal, gw_link_result_t *r)
{
    char *cause = NULL;
    hearth_err_t rc = gw_link_finish(l, nglobal, r, &cause);
    cr_assert_eq(rc, HEARTH_OK, "finish: %s", cause ? cause : "");
    cr_assert_eq(r->ncells, nglobal);
}

static gw_link_part_t cohort(unsigned dataset, unsigned atoms, proto_cohort_payload_t p)
{
    return (gw_link_part_t){.cohort = true, .atoms = atoms, .payload = p, .dataset = dataset};
}

static gw_link_part_t target(unsigned dataset, unsigned atom)
{
    return (gw_link_part_t){.cohort = false, .atom = atom,
                            .payload = PROTO_COHORT_PERSONS_ONLY, .dataset = dataset};
}

static void expect_linkage(const gw_link_result_t *r, uint64_t nhs, uint64_t dsp,
                           uint64_t both, uint64_t none)
{
    cr_expect_eq(r->linkage[GW_LINK_NHS_ONLY], nhs, "nhs_only %llu",
                 (unsigned long long)r->linkage[GW_LINK_NHS_ONLY]);
    cr_expect_eq(r->linkage[GW_LINK_DSP_ONLY], dsp, "dsp_only %llu",
                 (unsigned long long)r->linkage[GW_LINK_DSP_ONLY]);
    cr_expect_eq(r->linkage[GW_LINK_BOTH], both, "both %llu",
                 (unsigned long long)r->linkage[GW_LINK_BOTH]);
    cr_expect_eq(r->linkage[GW_LINK_NONE], none, "none %llu",
                 (unsigned long long)r->linkage[GW_LINK_NONE]);
}

/* ---- linking ------------------------------------------------------------------ */

/* The case: A and B share an NHS token, B and C only a DOB+sex+
 * postcode token; a UNION over the three counts one person. */
Test(gw_link, chain_through_nhs_then_dsp_is_one_person)
{
    gw_link_part_t parts[] = {cohort(0, 0, PROTO_COHORT_PERSONS_ONLY),
                              cohort(1, 0, PROTO_COHORT_PERSONS_ONLY),
                              cohort(2, 0, PROTO_COHORT_PERSONS_ONLY)};
    gw_link_t *l = gw_link_new(parts, 3, BIG, BIG);
    for (size_t p = 0; p < 3; p++)
        cells(l, p, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, 90, 1);   /* A: NHS 1, a DSP token nobody else has */
    put_cell(&b, 0, 1);
    put_person(&b, 2, NONE, 1); /* A: someone else entirely */
    put_cell(&b, 0, 1);
    add(l, 0, &b);
    put_person(&b, 1, 10, 1);   /* B: NHS 1 and DSP 10 */
    put_cell(&b, 0, 1);
    add(l, 1, &b);
    put_person(&b, NONE, 10, 1); /* C: DSP 10 only */
    put_cell(&b, 0, 1);
    add(l, 2, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 2);
    cr_assert_eq(r.total.persons, 2);
    /* A matched by NHS, C by DSP, B by both: the person linked through both. */
    expect_linkage(&r, 0, 0, 1, 1);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    cr_assert_null(l);
    hearth_buf_free(&b);
}

/* The same chain seen through EXISTS: A's person is in C's target only
 * through B. */
Test(gw_link, exists_follows_links_through_a_third_dataset)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY),
                              cohort(1, 1, PROTO_COHORT_PERSONS_ONLY), target(2, 0)};
    gw_link_t *l = gw_link_new(parts, 3, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    cells(l, 1, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 1);
    put_cell(&b, 0, 0x2);       /* counts only when EXISTS holds */
    add(l, 0, &b);
    put_person(&b, 1, 10, 1);
    put_cell(&b, 0, 0x1);       /* counts only when EXISTS fails */
    add(l, 1, &b);
    put_person(&b, NONE, 10, 0);
    add(l, 2, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 1);
    cr_assert_eq(r.total.persons, 1);
    expect_linkage(&r, 0, 0, 1, 0);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, exists_counts_only_persons_found_in_the_target)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    for (uint32_t i = 0; i < 10; i++) {
        put_person(&b, i, NONE, 1);
        put_cell(&b, 0, 0x2);
    }
    add(l, 0, &b);
    for (uint32_t i = 0; i < 3; i++)    /* persons 0..2 are in the target */
        put_person(&b, i, NONE, 0);
    put_person(&b, 500, NONE, 0);       /* a target person not in the base */
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 3);
    cr_assert_eq(r.total.persons, 3);
    expect_linkage(&r, 3, 0, 0, 0);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, not_exists_counts_only_persons_absent_from_the_target)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    for (uint32_t i = 0; i < 10; i++) {
        put_person(&b, i, NONE, 1);
        put_cell(&b, 0, 0x1);           /* NOT EXISTS: assignment 0 only */
    }
    add(l, 0, &b);
    for (uint32_t i = 0; i < 3; i++)
        put_person(&b, i, NONE, 0);
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 7);
    cr_assert_eq(r.total.persons, 7);
    expect_linkage(&r, 0, 0, 0, 7);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* Two atoms, four persons, one under each assignment; every person's mask
 * has all four bits with records 1, 10, 100, 1000, so the records show
 * which bit was used. A fifth person has only bits 1 and 3 set. */
Test(gw_link, two_atoms_use_the_bit_of_each_persons_assignment)
{
    gw_link_part_t parts[] = {cohort(0, 2, PROTO_COHORT_RECORDS), target(1, 0), target(2, 1)};
    gw_link_t *l = gw_link_new(parts, 3, BIG, BIG);
    cells(l, 0, 5, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    for (uint32_t i = 0; i < 4; i++) {
        put_person(&b, i, NONE, 1);
        put_cell(&b, i, 0xf);
        for (uint32_t v = 1, j = 0; j < 4; j++, v *= 10)
            put_vals(&b, PROTO_COHORT_RECORDS, v, 0);
    }
    put_person(&b, 4, NONE, 1);     /* assignment 3, bits 1 and 3: second value */
    put_cell(&b, 4, 0xa);
    put_vals(&b, PROTO_COHORT_RECORDS, 7, 0);
    put_vals(&b, PROTO_COHORT_RECORDS, 9, 0);
    add(l, 0, &b);
    put_person(&b, 1, NONE, 0);     /* atom 0 holds for persons 1, 3, 4 */
    put_person(&b, 3, NONE, 0);
    put_person(&b, 4, NONE, 0);
    add(l, 1, &b);
    put_person(&b, 2, NONE, 0);     /* atom 1 holds for persons 2, 3, 4 */
    put_person(&b, 3, NONE, 0);
    put_person(&b, 4, NONE, 0);
    add(l, 2, &b);

    gw_link_result_t r;
    finish(l, 5, &r);
    static const uint64_t want[5] = {1, 10, 100, 1000, 9};
    for (size_t c = 0; c < 5; c++) {
        cr_expect_eq(r.cells[c].records, want[c], "cell %zu records %llu", c,
                     (unsigned long long)r.cells[c].records);
        cr_expect_eq(r.cells[c].persons, 1);
    }
    cr_assert_eq(r.total.records, 1120);
    cr_assert_eq(r.total.persons, 5);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* WHERE x OR EXISTS (...): a record with x true matches under both
 * assignments (mask 0b11), one with x false only when EXISTS holds (0b10). */
Test(gw_link, or_with_exists_through_masks)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 1);     /* x true, in target: counts */
    put_cell(&b, 0, 0x3);
    put_person(&b, 2, NONE, 1);     /* x true, not in target: counts */
    put_cell(&b, 0, 0x3);
    put_person(&b, 3, NONE, 1);     /* x false, in target: counts */
    put_cell(&b, 0, 0x2);
    put_person(&b, 4, NONE, 1);     /* x false, not in target: does not */
    put_cell(&b, 0, 0x2);
    add(l, 0, &b);
    put_person(&b, 1, NONE, 0);
    put_person(&b, 3, NONE, 0);
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 3);
    cr_assert_eq(r.total.persons, 3);
    expect_linkage(&r, 2, 0, 0, 1);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* COUNT(PERSONS) over A UNION B: one person in both, once in the same
 * cell; another in both under different cells, once in each; the total
 * counts each once. Local cells map to global ones differently per part. */
Test(gw_link, union_counts_a_person_once_per_cell_and_once_in_total)
{
    gw_link_part_t parts[] = {cohort(0, 0, PROTO_COHORT_PERSONS_ONLY),
                              cohort(1, 0, PROTO_COHORT_PERSONS_ONLY)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    const uint32_t a_cells[2] = {0, 1}, b_cells[2] = {1, 0}; /* B lists the cells swapped */
    cells(l, 0, 2, a_cells);
    cells(l, 1, 2, b_cells);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, 11, 1);       /* global cell 0 */
    put_cell(&b, 0, 1);
    put_person(&b, 2, 12, 1);       /* global cell 0 */
    put_cell(&b, 0, 1);
    add(l, 0, &b);
    put_person(&b, 1, 11, 1);       /* same person, B's local 1 = global 0 */
    put_cell(&b, 1, 1);
    put_person(&b, NONE, 12, 1);    /* person 2 by DSP, global cell 1 */
    put_cell(&b, 0, 1);
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 2, &r);
    cr_assert_eq(r.cells[0].persons, 2);
    cr_assert_eq(r.cells[1].persons, 1);
    cr_assert_eq(r.total.persons, 2);
    expect_linkage(&r, 0, 1, 1, 0); /* person 2: A and B share only DSP 12 */
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, a_person_in_two_cells_counts_in_each_and_once_in_total)
{
    gw_link_part_t parts[] = {cohort(0, 0, PROTO_COHORT_RECORDS)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
    cells(l, 0, 3, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 2);
    put_cell(&b, 0, 1);
    put_vals(&b, PROTO_COHORT_RECORDS, 2, 0);
    put_cell(&b, 2, 1);
    put_vals(&b, PROTO_COHORT_RECORDS, 3, 0);
    put_person(&b, NONE, NONE, 1);  /* no token: cannot link, still counts */
    put_cell(&b, 2, 1);
    put_vals(&b, PROTO_COHORT_RECORDS, 4, 0);
    add(l, 0, &b);

    gw_link_result_t r;
    finish(l, 3, &r);
    cr_assert_eq(r.cells[0].persons, 1);
    cr_assert_eq(r.cells[0].records, 2);
    cr_assert_eq(r.cells[1].persons, 0);
    cr_assert_eq(r.cells[1].records, 0);
    cr_assert_eq(r.cells[2].persons, 2);
    cr_assert_eq(r.cells[2].records, 7);
    cr_assert_eq(r.total.persons, 2);
    cr_assert_eq(r.total.records, 9);
    expect_linkage(&r, 0, 0, 0, 2);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* SUM under EXISTS: bit 0 carries (2 records, 3.5), bit 1 (5, 10.25); the
 * person's actual assignment picks one. Over a UNION the same person's
 * values from both parts are added, the person counted once. */
Test(gw_link, sums_take_the_values_of_the_actual_assignment)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_SUMS), cohort(1, 1, PROTO_COHORT_SUMS),
                              target(2, 0)};
    gw_link_t *l = gw_link_new(parts, 3, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    cells(l, 1, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    for (uint32_t i = 1; i <= 2; i++) { /* person 1 in the target, person 2 not */
        put_person(&b, i, NONE, 1);
        put_cell(&b, 0, 0x3);
        put_vals(&b, PROTO_COHORT_SUMS, 2, 3.5);
        put_vals(&b, PROTO_COHORT_SUMS, 5, 10.25);
    }
    add(l, 0, &b);
    put_person(&b, 1, NONE, 1);     /* person 1 again, in B */
    put_cell(&b, 0, 0x3);
    put_vals(&b, PROTO_COHORT_SUMS, 1, 100);
    put_vals(&b, PROTO_COHORT_SUMS, 4, 1000);
    add(l, 1, &b);
    put_person(&b, 1, NONE, 0);
    add(l, 2, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 2);
    cr_assert_eq(r.cells[0].records, 5 + 4 + 2);
    cr_assert_eq(r.cells[0].sum, 10.25 + 1000 + 3.5);
    cr_assert_eq(r.total.persons, 2);
    cr_assert_eq(r.total.records, 11);
    cr_assert_eq(r.total.sum, 1013.75);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* ---- linkage kinds -------------------------------------------------------------- */

Test(gw_link, linkage_kinds_by_the_tokens_matched_in_another_dataset)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, 11, 1);   /* NHS matches, DSP differs: nhs only */
    put_cell(&b, 0, 0x3);
    put_person(&b, 2, 12, 1);   /* NHS differs, DSP matches: dsp only */
    put_cell(&b, 0, 0x3);
    put_person(&b, 3, 13, 1);   /* both match */
    put_cell(&b, 0, 0x3);
    put_person(&b, 4, 14, 1);   /* nothing matches */
    put_cell(&b, 0, 0x3);
    add(l, 0, &b);
    put_person(&b, 1, 91, 0);
    put_person(&b, 92, 12, 0);
    put_person(&b, 3, 13, 0);
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.total.persons, 4);
    expect_linkage(&r, 1, 1, 1, 1);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* EXISTS over the base's own dataset: the person links (and counts) but a
 * token shared within one dataset is not a match. */
Test(gw_link, sharing_a_token_within_one_dataset_is_not_a_match)
{
    gw_link_part_t parts[] = {cohort(4, 1, PROTO_COHORT_PERSONS_ONLY), target(4, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, 11, 1);
    put_cell(&b, 0, 0x2);
    add(l, 0, &b);
    put_person(&b, 1, 11, 0);
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 1, &r);
    cr_assert_eq(r.cells[0].persons, 1);
    expect_linkage(&r, 0, 0, 0, 1);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* A token first sent by two parts of the base's dataset, only later by
 * another dataset: the base person still matched, whatever the order. */
Test(gw_link, a_match_found_late_still_marks_the_base_person)
{
    for (int order = 0; order < 2; order++) {
        gw_link_part_t parts[] = {cohort(0, 2, PROTO_COHORT_PERSONS_ONLY), target(0, 0),
                                  target(1, 1)};
        gw_link_t *l = gw_link_new(parts, 3, BIG, BIG);
        cells(l, 0, 1, IDENTITY);
        hearth_buf_t b;
        hearth_buf_init(&b, BIG);
        size_t first = order == 0 ? 0 : 1, second = order == 0 ? 1 : 0;
        for (int k = 0; k < 2; k++) {
            size_t part = k == 0 ? first : second;
            if (part == 0) {
                put_person(&b, 1, 11, 1);
                put_cell(&b, 0, 0x8);   /* both atoms hold */
            } else {
                put_person(&b, 1, 11, 0);
            }
            add(l, part, &b);
        }
        put_person(&b, NONE, 11, 0);    /* dataset 1 shares the DSP token only */
        add(l, 2, &b);

        gw_link_result_t r;
        finish(l, 1, &r);
        cr_assert_eq(r.total.persons, 1, "order %d", order);
        expect_linkage(&r, 0, 1, 0, 0);
        gw_link_result_free(&r);
        gw_link_destroy(&l);
        hearth_buf_free(&b);
    }
}

/* ---- bounds and malformed input ----------------------------------------------- */

Test(gw_link, refuses_more_persons_than_its_bound)
{
    gw_link_part_t parts[] = {target(0, 0)};
    gw_link_t *l = gw_link_new(parts, 1, 2, BIG);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 0);
    put_person(&b, 2, NONE, 0);
    add(l, 0, &b);                  /* exactly at the bound */
    put_person(&b, 3, NONE, 0);
    cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_TOO_BIG);
    put_person(&b, 4, NONE, 0);
    cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_USAGE, "after an error only destroy");
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_more_tokens_than_its_bound)
{
    gw_link_part_t parts[] = {target(0, 0)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, 3);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, 11, 0);
    put_person(&b, 2, NONE, 0);
    add(l, 0, &b);                  /* three tokens: at the bound */
    put_person(&b, NONE, NONE, 0);  /* no token costs nothing */
    add(l, 0, &b);
    put_person(&b, 3, NONE, 0);
    cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_TOO_BIG);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_a_truncated_chunk)
{
    gw_link_part_t parts[] = {target(0, 0)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, 11, 0);
    char *cause = NULL;
    cr_assert_eq(gw_link_add(l, 0, b.data, b.len - 1, &cause), HEARTH_ERR_PROTO);
    cr_assert_not_null(cause);
    free(cause);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_cells_in_a_target_chunk)
{
    gw_link_part_t parts[] = {target(0, 0)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 1);
    put_cell(&b, 0, 1);
    cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_PROTO);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_a_cohort_part_without_cells)
{
    gw_link_part_t parts[] = {cohort(0, 0, PROTO_COHORT_PERSONS_ONLY)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 1);
    put_cell(&b, 0, 1);
    cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_PROTO);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_a_part_out_of_range)
{
    gw_link_part_t parts[] = {target(0, 0)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 0);
    cr_assert_eq(add_rc(l, 1, &b), HEARTH_ERR_PROTO);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_a_cell_or_mask_out_of_range)
{
    for (int bad = 0; bad < 2; bad++) {
        gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY)};
        gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
        cells(l, 0, 2, IDENTITY);
        hearth_buf_t b;
        hearth_buf_init(&b, BIG);
        put_person(&b, 1, NONE, 1);
        if (bad == 0)
            put_cell(&b, 2, 0x1);   /* only cells 0 and 1 listed */
        else
            put_cell(&b, 0, 0x4);   /* one atom: bits 0 and 1 only */
        cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_PROTO);
        gw_link_destroy(&l);
        hearth_buf_free(&b);
    }
}

Test(gw_link, refuses_more_cells_for_a_person_than_listed)
{
    gw_link_part_t parts[] = {cohort(0, 0, PROTO_COHORT_PERSONS_ONLY)};
    gw_link_t *l = gw_link_new(parts, 1, BIG, BIG);
    cells(l, 0, 1, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    put_person(&b, 1, NONE, 2);
    put_cell(&b, 0, 0x1);
    put_cell(&b, 0, 0x1);
    cr_assert_eq(add_rc(l, 0, &b), HEARTH_ERR_PROTO);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

Test(gw_link, refuses_misuse_by_the_caller)
{
    gw_link_part_t parts[] = {cohort(0, 0, PROTO_COHORT_PERSONS_ONLY), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    char *cause = NULL;
    cr_assert_eq(gw_link_set_cells(l, 1, IDENTITY, 1, &cause), HEARTH_ERR_USAGE,
                 "cells for a target part");
    cr_assert_eq(gw_link_set_cells(l, 2, IDENTITY, 1, &cause), HEARTH_ERR_USAGE);
    cr_assert_eq(gw_link_set_cells(l, 0, IDENTITY, 2, &cause), HEARTH_OK);
    cr_assert_eq(gw_link_set_cells(l, 0, IDENTITY, 2, &cause), HEARTH_ERR_USAGE, "twice");
    gw_link_result_t r;
    cr_assert_eq(gw_link_finish(l, 1, &r, &cause), HEARTH_ERR_USAGE, "cell 1 past nglobal");
    cr_assert_null(r.cells);
    free(cause);
    gw_link_destroy(&l);
    gw_link_destroy(&l);            /* NULL-safe */
    gw_link_destroy(NULL);
    gw_link_result_free(NULL);
}

Test(gw_link, refuses_parts_it_cannot_represent)
{
    gw_link_part_t bad_atoms[] = {cohort(0, PROTO_COHORT_MAX_ATOMS + 1,
                                         PROTO_COHORT_PERSONS_ONLY)};
    gw_link_part_t bad_atom[] = {target(0, PROTO_COHORT_MAX_ATOMS)};
    static gw_link_part_t many[257];
    for (size_t i = 0; i < 257; i++)
        many[i] = target(0, 0);
    const gw_link_part_t *cases[] = {bad_atoms, bad_atom, many};
    const size_t ncases[] = {1, 1, 257};
    for (size_t i = 0; i < 3; i++) {
        gw_link_t *l = gw_link_new(cases[i], ncases[i], BIG, BIG);
        char *cause = NULL;
        cr_assert_eq(gw_link_add(l, 0, "", 0, &cause), HEARTH_ERR_USAGE);
        gw_link_result_t r;
        cr_assert_eq(gw_link_finish(l, 0, &r, &cause), HEARTH_ERR_USAGE);
        free(cause);
        gw_link_destroy(&l);
    }
}

Test(gw_link, an_empty_query_counts_nothing)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_SUMS), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 0, NULL);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    add(l, 0, &b);
    add(l, 1, &b);
    gw_link_result_t r;
    finish(l, 0, &r);
    cr_assert_eq(r.total.persons, 0);
    cr_assert_eq(r.total.records, 0);
    expect_linkage(&r, 0, 0, 0, 0);
    char *cause = NULL;
    cr_assert_eq(gw_link_add(l, 1, "", 0, &cause), HEARTH_ERR_USAGE, "add after finish");
    free(cause);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* Enough tokens for several pool blocks and many table doublings: 300 000
 * persons in A in chunks of about PROTO_COHORT_CHUNK_BYTES, then a target
 * sharing every third one (by NHS token for some, DSP token for others)
 * in one oversized chunk. */
Test(gw_link, links_exactly_at_scale)
{
    gw_link_part_t parts[] = {cohort(0, 1, PROTO_COHORT_PERSONS_ONLY), target(1, 0)};
    gw_link_t *l = gw_link_new(parts, 2, BIG, BIG);
    cells(l, 0, 2, IDENTITY);
    hearth_buf_t b;
    hearth_buf_init(&b, BIG);
    const uint32_t n = 300000;
    for (uint32_t i = 0; i < n; i++) {
        put_person(&b, i, i, 1);
        put_cell(&b, i % 2, 0x2);
        if (b.len >= PROTO_COHORT_CHUNK_BYTES)
            add(l, 0, &b);
    }
    add(l, 0, &b);
    for (uint32_t i = 0; i < n; i += 3) {
        if (i % 2 == 0)
            put_person(&b, i, n + i, 0);    /* NHS matches only */
        else
            put_person(&b, n + i, i, 0);    /* DSP matches only */
    }
    add(l, 1, &b);

    gw_link_result_t r;
    finish(l, 2, &r);
    /* i = 0 mod 3: 100 000 persons; even ones in cell 0 by NHS, odd in cell 1 by DSP. */
    cr_assert_eq(r.total.persons, 100000);
    cr_assert_eq(r.cells[0].persons, 50000);
    cr_assert_eq(r.cells[1].persons, 50000);
    expect_linkage(&r, 50000, 50000, 0, 0);
    gw_link_result_free(&r);
    gw_link_destroy(&l);
    hearth_buf_free(&b);
}

/* ---- randomised, against a naive transitive closure ------------------------------ */

#define RP_PERSONS 2000
#define RP_PARTS 5
#define RP_CELLS 3
#define RP_ATOMS 2

typedef struct {
    size_t part;
    size_t nnhs, ndsp;
    uint32_t nhs[2], dsp[2];
    size_t ncells;
    uint32_t cell[RP_CELLS];    /* local cells */
    uint64_t mask[RP_CELLS];
    uint32_t rec[RP_CELLS][4];
    double sum[RP_CELLS][4];
} rp_person_t;

static bool rp_share(const rp_person_t *a, const rp_person_t *b)
{
    for (size_t i = 0; i < a->nnhs; i++)
        for (size_t j = 0; j < b->nnhs; j++)
            if (a->nhs[i] == b->nhs[j])
                return true;
    for (size_t i = 0; i < a->ndsp; i++)
        for (size_t j = 0; j < b->ndsp; j++)
            if (a->dsp[i] == b->dsp[j])
                return true;
    return false;
}

static void rp_run(proto_cohort_payload_t payload, uint64_t seed)
{
    /* Parts: base A (dataset 0), base B (dataset 1), target of atom 0 on
     * dataset 1, target of atom 1 on dataset 2, target of atom 0 on dataset
     * 0 (two targets for one atom, one on the base's own dataset). */
    const gw_link_part_t parts[RP_PARTS] = {
        cohort(0, RP_ATOMS, payload), cohort(1, RP_ATOMS, payload), target(1, 0), target(2, 1),
        target(0, 0)};
    /* Local cell c of part p is global cell (c + p) % RP_CELLS. */
    uint32_t gmap[2][RP_CELLS];
    for (uint32_t p = 0; p < 2; p++)
        for (uint32_t c = 0; c < RP_CELLS; c++)
            gmap[p][c] = (c + p) % RP_CELLS;

    uint64_t s = seed;
    rp_person_t *ps = calloc(RP_PERSONS, sizeof *ps);
    cr_assert_not_null(ps);
    for (size_t i = 0; i < RP_PERSONS; i++) {
        rp_person_t *p = &ps[i];
        p->part = splitmix(&s) % RP_PARTS;
        /* Small universes so tokens are shared often and chains form. */
        p->nnhs = splitmix(&s) % 3;
        p->ndsp = splitmix(&s) % 3;
        for (size_t k = 0; k < p->nnhs; k++)
            p->nhs[k] = (uint32_t)(splitmix(&s) % 1500) + (uint32_t)k * 1500;
        for (size_t k = 0; k < p->ndsp; k++)
            p->dsp[k] = (uint32_t)(splitmix(&s) % 1500) + (uint32_t)k * 1500;
        if (!parts[p->part].cohort)
            continue;
        p->ncells = 1 + splitmix(&s) % RP_CELLS;
        uint32_t first = (uint32_t)(splitmix(&s) % RP_CELLS);
        for (size_t c = 0; c < p->ncells; c++) {
            p->cell[c] = (first + (uint32_t)c) % RP_CELLS;
            p->mask[c] = 1 + splitmix(&s) % 15;
            for (size_t j = 0; j < 4; j++) {
                p->rec[c][j] = (uint32_t)(1 + splitmix(&s) % 50);
                p->sum[c][j] = (double)(splitmix(&s) % 1000) / 4; /* exact in binary */
            }
        }
    }

    /* The linker, fed in chunks of up to 37 persons, parts interleaved. */
    gw_link_t *l = gw_link_new(parts, RP_PARTS, BIG, BIG);
    cells(l, 0, RP_CELLS, gmap[0]);
    cells(l, 1, RP_CELLS, gmap[1]);
    hearth_buf_t bufs[RP_PARTS];
    size_t inbuf[RP_PARTS] = {0};
    for (size_t k = 0; k < RP_PARTS; k++)
        hearth_buf_init(&bufs[k], BIG);
    for (size_t i = 0; i < RP_PERSONS; i++) {
        const rp_person_t *p = &ps[i];
        hearth_buf_t *b = &bufs[p->part];
        uint8_t toks[4 * PROTO_COHORT_TOKEN_LEN];
        for (size_t k = 0; k < p->nnhs; k++)
            tok_make(toks + k * PROTO_COHORT_TOKEN_LEN, 'N', p->nhs[k]);
        for (size_t k = 0; k < p->ndsp; k++)
            tok_make(toks + (p->nnhs + k) * PROTO_COHORT_TOKEN_LEN, 'D', p->dsp[k]);
        cr_assert_eq(proto_cohort_put_person(b, p->nnhs, p->ndsp, toks, (uint32_t)p->ncells),
                     HEARTH_OK);
        for (size_t c = 0; c < p->ncells; c++) {
            put_cell(b, p->cell[c], p->mask[c]);
            for (size_t j = 0; j < 4; j++)
                if (p->mask[c] >> j & 1)
                    put_vals(b, payload, p->rec[c][j], p->sum[c][j]);
        }
        if (++inbuf[p->part] == 37) {
            add(l, p->part, b);
            inbuf[p->part] = 0;
        }
    }
    for (size_t k = 0; k < RP_PARTS; k++) {
        add(l, k, &bufs[k]);
        hearth_buf_free(&bufs[k]);
    }
    gw_link_result_t r;
    finish(l, RP_CELLS, &r);
    gw_link_destroy(&l);

    /* The reference: components by repeated O(n^2) relaxation. */
    size_t *comp = calloc(RP_PERSONS, sizeof *comp);
    cr_assert_not_null(comp);
    for (size_t i = 0; i < RP_PERSONS; i++)
        comp[i] = i;
    for (bool changed = true; changed;) {
        changed = false;
        for (size_t i = 0; i < RP_PERSONS; i++)
            for (size_t j = i + 1; j < RP_PERSONS; j++)
                if (comp[i] != comp[j] && rp_share(&ps[i], &ps[j])) {
                    size_t m = comp[i] < comp[j] ? comp[i] : comp[j];
                    comp[i] = comp[j] = m;
                    changed = true;
                }
    }
    unsigned *assign = calloc(RP_PERSONS, sizeof *assign);
    unsigned *kinds = calloc(RP_PERSONS, sizeof *kinds);
    bool *in_cell = calloc(RP_PERSONS * RP_CELLS, sizeof *in_cell);
    bool *in_total = calloc(RP_PERSONS, sizeof *in_total);
    cr_assert(assign && kinds && in_cell && in_total);
    for (size_t i = 0; i < RP_PERSONS; i++)
        if (!parts[ps[i].part].cohort)
            assign[comp[i]] |= 1u << parts[ps[i].part].atom;
    /* A base person's kinds: its tokens that some person of another dataset
     * also sent. */
    for (size_t i = 0; i < RP_PERSONS; i++) {
        if (!parts[ps[i].part].cohort)
            continue;
        for (size_t j = 0; j < RP_PERSONS; j++) {
            if (parts[ps[j].part].dataset == parts[ps[i].part].dataset)
                continue;
            rp_person_t a = ps[i], b = ps[j];
            a.ndsp = b.ndsp = 0;
            if (rp_share(&a, &b))
                kinds[comp[i]] |= 1;
            a = ps[i], b = ps[j];
            a.nnhs = b.nnhs = 0;
            if (rp_share(&a, &b))
                kinds[comp[i]] |= 2;
        }
    }
    gw_link_count_t want[RP_CELLS] = {{0}}, total = {0};
    uint64_t linkage[GW_LINK_KINDS] = {0};
    for (size_t i = 0; i < RP_PERSONS; i++) {
        const rp_person_t *p = &ps[i];
        unsigned a = assign[comp[i]];
        for (size_t c = 0; c < p->ncells; c++) {
            if (!(p->mask[c] >> a & 1))
                continue;
            uint32_t g = gmap[p->part][p->cell[c]];
            if (payload != PROTO_COHORT_PERSONS_ONLY) {
                want[g].records += p->rec[c][a];
                total.records += p->rec[c][a];
            }
            if (payload == PROTO_COHORT_SUMS) {
                want[g].sum += p->sum[c][a];
                total.sum += p->sum[c][a];
            }
            if (!in_cell[comp[i] * RP_CELLS + g]) {
                in_cell[comp[i] * RP_CELLS + g] = true;
                want[g].persons++;
            }
            if (!in_total[comp[i]]) {
                in_total[comp[i]] = true;
                total.persons++;
                static const int cls[4] = {GW_LINK_NONE, GW_LINK_NHS_ONLY, GW_LINK_DSP_ONLY,
                                           GW_LINK_BOTH};
                linkage[cls[kinds[comp[i]]]]++;
            }
        }
    }
    for (size_t g = 0; g < RP_CELLS; g++) {
        cr_expect_eq(r.cells[g].persons, want[g].persons, "cell %zu persons %llu want %llu", g,
                     (unsigned long long)r.cells[g].persons,
                     (unsigned long long)want[g].persons);
        cr_expect_eq(r.cells[g].records, want[g].records);
        cr_expect_eq(r.cells[g].sum, want[g].sum);
    }
    cr_expect_eq(r.total.persons, total.persons, "total %llu want %llu",
                 (unsigned long long)r.total.persons, (unsigned long long)total.persons);
    cr_expect_eq(r.total.records, total.records);
    cr_expect_eq(r.total.sum, total.sum);
    for (size_t k = 0; k < GW_LINK_KINDS; k++)
        cr_expect_eq(r.linkage[k], linkage[k], "linkage %zu: %llu want %llu", k,
                     (unsigned long long)r.linkage[k], (unsigned long long)linkage[k]);
    /* The run must exercise what it claims to: links, and every class. */
    cr_assert_gt(total.persons, 100);
    for (size_t k = 0; k < GW_LINK_KINDS; k++)
        cr_assert_gt(linkage[k], 0, "class %zu never occurs", k);

    gw_link_result_free(&r);
    free(comp);
    free(assign);
    free(kinds);
    free(in_cell);
    free(in_total);
    free(ps);
}

Test(gw_link, random_persons_match_a_naive_closure_counting_persons)
{
    rp_run(PROTO_COHORT_PERSONS_ONLY, 1);
}

Test(gw_link, random_persons_match_a_naive_closure_counting_records)
{
    rp_run(PROTO_COHORT_RECORDS, 2);
}

Test(gw_link, random_persons_match_a_naive_closure_summing)
{
    rp_run(PROTO_COHORT_SUMS, 3);
}
