/* Tests for node_link: records sharing a token are one person, transitively
 * and across token kinds; records with no token stay alone; existing person
 * ids survive a re-link, a split gives the second part a fresh id. */
#include "node_link.h"

#include <criterion/criterion.h>

#include <string.h>

/* A token whose bytes are all derived from seed, so distinct seeds give
 * distinct tokens (and distinct hash slots for the first 8 bytes). */
static const uint8_t *tok(uint8_t buf[NODE_LINK_TOKEN_LEN], unsigned seed)
{
    for (unsigned i = 0; i < NODE_LINK_TOKEN_LEN; i++)
        buf[i] = (uint8_t)(seed * 131u + i * 7u + (seed >> 8) * 17u);
    memcpy(buf + 24, &seed, sizeof seed);
    return buf;
}

Test(node_link, records_sharing_an_nhs_token_are_one_person)
{
    node_link_t *l = node_link_new();
    uint8_t a[32];
    cr_assert_eq(node_link_add(l, tok(a, 1), NULL, 0), 0);
    cr_assert_eq(node_link_add(l, tok(a, 1), NULL, 0), 1);
    uint64_t np = 99;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 1);
    cr_assert_eq(p[0], 1);
    cr_assert_eq(p[1], 1);
    node_link_destroy(&l);
    cr_assert_null(l);
}

Test(node_link, different_tokens_are_different_persons)
{
    node_link_t *l = node_link_new();
    uint8_t a[32], b[32];
    node_link_add(l, tok(a, 1), NULL, 0);
    node_link_add(l, tok(b, 2), NULL, 0);
    node_link_add(l, NULL, tok(b, 3), 0);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 3);
    cr_assert_eq(p[0], 1);
    cr_assert_eq(p[1], 2);
    cr_assert_eq(p[2], 3);
    node_link_destroy(&l);
}

Test(node_link, links_transitively_through_a_record_with_both_tokens)
{
    /* A and B share an NHS token; B and C share only a DOB+sex+postcode
     * token: all three are one person. D stands apart. */
    node_link_t *l = node_link_new();
    uint8_t n1[32], d1[32], n2[32];
    node_link_add(l, tok(n1, 10), NULL, 0);            /* A */
    node_link_add(l, tok(n2, 99), NULL, 0);            /* D */
    node_link_add(l, tok(n1, 10), tok(d1, 20), 0);     /* B */
    node_link_add(l, NULL, tok(d1, 20), 0);            /* C */
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 2);
    cr_assert_eq(p[0], 1);
    cr_assert_eq(p[1], 2);
    cr_assert_eq(p[2], 1);
    cr_assert_eq(p[3], 1);
    node_link_destroy(&l);
}

Test(node_link, a_late_record_joins_two_earlier_persons)
{
    /* A (nhs X) and B (dsp Y) look like two people until C carries both. */
    node_link_t *l = node_link_new();
    uint8_t x[32], y[32];
    node_link_add(l, tok(x, 1), NULL, 0);
    node_link_add(l, NULL, tok(y, 2), 0);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 2);
    cr_assert_eq(p[0], 1);
    cr_assert_eq(p[1], 2);
    node_link_add(l, tok(x, 1), tok(y, 2), 0);
    p = node_link_resolve(l, &np);
    cr_assert_eq(np, 1);
    cr_assert_eq(p[0], 1);
    cr_assert_eq(p[1], 1);
    cr_assert_eq(p[2], 1);
    node_link_destroy(&l);
}

Test(node_link, records_without_tokens_are_each_their_own_person)
{
    node_link_t *l = node_link_new();
    for (int i = 0; i < 4; i++)
        cr_assert_eq(node_link_add(l, NULL, NULL, 0), (size_t)i);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 4);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(p[i], i + 1);
    node_link_destroy(&l);
}

Test(node_link, an_nhs_token_and_a_dsp_token_with_equal_bytes_link)
{
    /* The table is shared by both kinds; tokens are domain-separated by
     * their "nhs:"/"dsp:" prefixes, so equal bytes mean the same input. */
    node_link_t *l = node_link_new();
    uint8_t t[32];
    node_link_add(l, tok(t, 5), NULL, 0);
    node_link_add(l, NULL, tok(t, 5), 0);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 1);
    cr_assert_eq(p[1], 1);
    node_link_destroy(&l);
}

Test(node_link, keeps_the_smallest_existing_id_of_a_group)
{
    /* Existing records with ids 9 and 4 are linked by a token: the group
     * keeps 4; the new unlinked record (index 1) gets max + 1 + its index. */
    node_link_t *l = node_link_new();
    uint8_t a[32];
    node_link_add(l, tok(a, 1), NULL, 9);
    node_link_add(l, NULL, NULL, 0);
    node_link_add(l, tok(a, 1), NULL, 4);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 2);
    cr_assert_eq(p[0], 4);
    cr_assert_eq(p[1], 11);
    cr_assert_eq(p[2], 4);
    node_link_destroy(&l);
}

Test(node_link, a_new_record_linked_to_an_existing_one_takes_its_id)
{
    node_link_t *l = node_link_new();
    uint8_t a[32], b[32];
    node_link_add(l, tok(a, 1), NULL, 3);
    node_link_add(l, tok(b, 2), NULL, 7);
    node_link_add(l, NULL, NULL, 0);
    node_link_add(l, tok(b, 2), NULL, 0);
    node_link_add(l, tok(a, 1), NULL, 0);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 3);
    cr_assert_eq(p[0], 3);
    cr_assert_eq(p[1], 7);
    cr_assert_eq(p[2], 10); /* 7 + 1 + index 2 */
    cr_assert_eq(p[3], 7);
    cr_assert_eq(p[4], 3);
    node_link_destroy(&l);
}

Test(node_link, a_split_person_gives_the_second_group_a_new_id)
{
    /* Two records both carried person 5 but no longer share a token: the
     * first group (lowest record) keeps 5, the second gets max + 1 + its
     * first record's index = 5 + 1 + 1. */
    node_link_t *l = node_link_new();
    uint8_t a[32], b[32];
    node_link_add(l, tok(a, 1), NULL, 5);
    node_link_add(l, tok(b, 2), NULL, 5);
    node_link_add(l, NULL, NULL, 2);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 3);
    cr_assert_eq(p[0], 5);
    cr_assert_eq(p[1], 7);
    cr_assert_eq(p[2], 2);
    node_link_destroy(&l);
}

Test(node_link, a_merge_keeps_the_smaller_id_and_frees_the_larger)
{
    /* Persons 2 and 6 are merged by a new record carrying both tokens. */
    node_link_t *l = node_link_new();
    uint8_t a[32], b[32];
    node_link_add(l, tok(a, 1), NULL, 6);
    node_link_add(l, NULL, tok(b, 2), 2);
    node_link_add(l, tok(a, 1), tok(b, 2), 0);
    node_link_add(l, NULL, NULL, 0);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 2);
    cr_assert_eq(p[0], 2);
    cr_assert_eq(p[1], 2);
    cr_assert_eq(p[2], 2);
    cr_assert_eq(p[3], 10); /* 6 + 1 + index 3 */
    node_link_destroy(&l);
}

Test(node_link, resolve_accepts_a_null_count_and_an_empty_set)
{
    node_link_t *l = node_link_new();
    uint64_t np = 42;
    (void)node_link_resolve(l, &np);
    cr_assert_eq(np, 0);
    node_link_add(l, NULL, NULL, 0);
    const int64_t *p = node_link_resolve(l, NULL);
    cr_assert_eq(p[0], 1);
    node_link_destroy(&l);
}

Test(node_link, links_thousands_of_pairs_past_the_initial_table_size)
{
    /* 6000 records in 3000 pairs (even: NHS token i, odd: the same NHS
     * token and a DSP token), beyond the 1024 initial slots and records. */
    node_link_t *l = node_link_new();
    uint8_t a[32], b[32];
    for (unsigned i = 0; i < 3000; i++) {
        node_link_add(l, tok(a, i), NULL, 0);
        node_link_add(l, tok(a, i), tok(b, 100000 + i), 0);
    }
    /* And every 10th person's DSP token is seen once more, alone. */
    for (unsigned i = 0; i < 3000; i += 10)
        node_link_add(l, NULL, tok(b, 100000 + i), 0);
    uint64_t np = 0;
    const int64_t *p = node_link_resolve(l, &np);
    cr_assert_eq(np, 3000);
    for (unsigned i = 0; i < 3000; i++) {
        cr_assert_eq(p[2 * i], (int64_t)(2 * i) + 1);
        cr_assert_eq(p[2 * i + 1], (int64_t)(2 * i) + 1);
    }
    for (unsigned k = 0; k < 300; k++)
        cr_assert_eq(p[6000 + k], (int64_t)(2 * k * 10) + 1);
    node_link_destroy(&l);
}

Test(node_link, destroy_is_null_safe)
{
    node_link_destroy(NULL);
    node_link_t *l = NULL;
    node_link_destroy(&l);
    cr_assert_null(l);
}
