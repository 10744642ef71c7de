/* The packed person encoding of linked answers: what a node writes, the
 * gateway reads back exactly, and malformed bytes are refused. */
#include "proto_cohort.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void tok(uint8_t *t, uint8_t fill)
{
    memset(t, fill, PROTO_COHORT_TOKEN_LEN);
}

Test(proto_cohort, round_trip_with_sums)
{
    hearth_buf_t b;
    hearth_buf_init(&b, SIZE_MAX);
    uint8_t toks[3 * PROTO_COHORT_TOKEN_LEN];
    tok(toks, 0xA1);
    tok(toks + 16, 0xB2);
    tok(toks + 32, 0xC3);
    cr_assert_eq(proto_cohort_put_person(&b, 1, 2, toks, 2), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 0, 0x5), HEARTH_OK);   /* bits 0 and 2 */
    cr_assert_eq(proto_cohort_put_values(&b, PROTO_COHORT_SUMS, 3, 1.5), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_values(&b, PROTO_COHORT_SUMS, 4, -2.25), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 2, 0x8), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_values(&b, PROTO_COHORT_SUMS, 1, 7), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_person(&b, 0, 0, NULL, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 1, 0x1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_values(&b, PROTO_COHORT_SUMS, 9, 0), HEARTH_OK);
    cr_assert_eq(b.len, 6 + 48 + 12 + 24 + 12 + 12 + 6 + 12 + 12);

    proto_cohort_reader_t r;
    proto_cohort_reader_init(&r, b.data, b.len, PROTO_COHORT_SUMS, 2, 3);
    proto_cohort_person_t p;
    proto_cohort_cell_t c;
    char *cause = NULL;
    uint32_t rec;
    double sum;
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.nnhs, 1);
    cr_assert_eq(p.ndsp, 2);
    cr_assert_eq(p.ncells, 2);
    cr_assert_eq(p.tokens[0], 0xA1);
    cr_assert_eq(p.tokens[47], 0xC3);
    cr_assert_eq(proto_cohort_next_cell(&r, &c, &cause), HEARTH_OK);
    cr_assert_eq(c.cell, 0);
    cr_assert_eq(c.mask, 0x5);
    proto_cohort_values_at(&r, &c, 1, &rec, &sum);
    cr_assert_eq(rec, 4);
    cr_assert_eq(sum, -2.25);
    cr_assert_eq(proto_cohort_next_cell(&r, &c, &cause), HEARTH_OK);
    cr_assert_eq(c.cell, 2);
    proto_cohort_values_at(&r, &c, 0, &rec, &sum);
    cr_assert_eq(rec, 1);
    cr_assert_eq(sum, 7);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_OK);
    cr_assert_eq(p.nnhs + p.ndsp, 0);
    cr_assert_eq(proto_cohort_next_cell(&r, &c, &cause), HEARTH_OK);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_null(cause);
    hearth_buf_free(&b);
}

/* Every truncation of a valid chunk is refused, never read past its end. */
Test(proto_cohort, every_truncation_is_refused)
{
    hearth_buf_t b;
    hearth_buf_init(&b, SIZE_MAX);
    uint8_t toks[2 * PROTO_COHORT_TOKEN_LEN];
    tok(toks, 1);
    tok(toks + 16, 2);
    cr_assert_eq(proto_cohort_put_person(&b, 1, 1, toks, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 0, 0x3), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_values(&b, PROTO_COHORT_RECORDS, 1, 0), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_values(&b, PROTO_COHORT_RECORDS, 2, 0), HEARTH_OK);
    for (size_t len = 1; len < b.len; len++) {
        uint8_t *copy = malloc(len);   /* exact size: ASan catches any overread */
        memcpy(copy, b.data, len);
        proto_cohort_reader_t r;
        proto_cohort_reader_init(&r, copy, len, PROTO_COHORT_RECORDS, 1, 1);
        proto_cohort_person_t p;
        proto_cohort_cell_t c;
        char *cause = NULL;
        hearth_err_t rc = proto_cohort_next_person(&r, &p, &cause);
        if (rc == HEARTH_OK)
            rc = proto_cohort_next_cell(&r, &c, &cause);
        cr_assert_eq(rc, HEARTH_ERR_PROTO, "length %zu", len);
        cr_assert_not_null(cause);
        free(cause);
        free(copy);
    }
    hearth_buf_free(&b);
}

Test(proto_cohort, bad_cell_index_mask_and_target_cells_are_refused)
{
    hearth_buf_t b;
    hearth_buf_init(&b, SIZE_MAX);
    cr_assert_eq(proto_cohort_put_person(&b, 0, 0, NULL, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 4, 0x1), HEARTH_OK);
    proto_cohort_reader_t r;
    proto_cohort_person_t p;
    proto_cohort_cell_t c;
    char *cause = NULL;
    /* Cell 4 of 4 listed. */
    proto_cohort_reader_init(&r, b.data, b.len, PROTO_COHORT_PERSONS_ONLY, 0, 4);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_OK);
    cr_assert_eq(proto_cohort_next_cell(&r, &c, &cause), HEARTH_ERR_PROTO);
    free(cause);
    cause = NULL;
    /* A target part lists no cells. */
    proto_cohort_reader_init(&r, b.data, b.len, PROTO_COHORT_PERSONS_ONLY, 0, 0);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_ERR_PROTO);
    free(cause);
    cause = NULL;
    /* With no atoms only bit 0 may be set. */
    hearth_buf_reset(&b);
    cr_assert_eq(proto_cohort_put_person(&b, 0, 0, NULL, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 0, 0x2), HEARTH_OK);
    proto_cohort_reader_init(&r, b.data, b.len, PROTO_COHORT_PERSONS_ONLY, 0, 1);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_OK);
    cr_assert_eq(proto_cohort_next_cell(&r, &c, &cause), HEARTH_ERR_PROTO);
    free(cause);
    cause = NULL;
    /* Six atoms: every bit of the mask is an assignment. */
    hearth_buf_reset(&b);
    cr_assert_eq(proto_cohort_put_person(&b, 0, 0, NULL, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 0, (uint64_t)1 << 63), HEARTH_OK);
    proto_cohort_reader_init(&r, b.data, b.len, PROTO_COHORT_PERSONS_ONLY, 6, 1);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_OK);
    cr_assert_eq(proto_cohort_next_cell(&r, &c, &cause), HEARTH_OK);
    /* Unread cells before the next person are a fault. */
    hearth_buf_reset(&b);
    cr_assert_eq(proto_cohort_put_person(&b, 0, 0, NULL, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_cell(&b, 0, 1), HEARTH_OK);
    cr_assert_eq(proto_cohort_put_person(&b, 0, 0, NULL, 0), HEARTH_OK);
    proto_cohort_reader_init(&r, b.data, b.len, PROTO_COHORT_PERSONS_ONLY, 0, 1);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_OK);
    cr_assert_eq(proto_cohort_next_person(&r, &p, &cause), HEARTH_ERR_PROTO);
    free(cause);
    hearth_buf_free(&b);
}
