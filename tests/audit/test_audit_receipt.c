/* Tests for audit_receipt: the exact text of a receipt, a round trip
 * through the parser, and the parser refusing every malformation (missing,
 * extra or reordered lines, leading zeros, bad numbers, a bad base64 root,
 * part >= nparts, bad id characters and lengths); the formatter refusing
 * what cannot be written. */
#include "audit_receipt.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROOT_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="   /* bytes 0..31 */

#define L_HEAD "hearth-receipt v1\n"
#define L_NODE "node trust\n"
#define L_QUERY "query 7f3a-01.x:Y_z\n"
#define L_PART "part 1/3\n"
#define L_LEAF "leaf 41\n"
#define L_CHECKPOINT "checkpoint 42 " ROOT_B64 "\n"
#define L_OUTCOME "outcome answered\n"
#define GOOD L_HEAD L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME

static audit_receipt_t sample(void)
{
    audit_receipt_t r = {.node = "trust", .query_id = "7f3a-01.x:Y_z", .part = 1, .nparts = 3,
                         .leaf = 41, .size = 42, .answered = true};
    for (int i = 0; i < TLOG_HASH_LEN; i++)
        r.root[i] = (uint8_t)i;
    return r;
}

static void expect_refused(const char *text, const char *why)
{
    audit_receipt_t r;
    memset(&r, 0x5a, sizeof r);
    char *cause = NULL;
    cr_assert_eq(audit_receipt_parse(text, &r, &cause), HEARTH_ERR_FORMAT, "accepted: %s",
                 text);
    cr_assert_str_eq(cause, why, "for: %s", text);
    free(cause);
    audit_receipt_t zero;
    memset(&zero, 0, sizeof zero);
    cr_assert_arr_eq(&r, &zero, sizeof r);
}

Test(audit_receipt, formats_the_exact_text)
{
    audit_receipt_t r = sample();
    char *text = audit_receipt_format(&r);
    cr_assert_str_eq(text, "hearth-receipt v1\n"
                           "node trust\n"
                           "query 7f3a-01.x:Y_z\n"
                           "part 1/3\n"
                           "leaf 41\n"
                           "checkpoint 42 AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
                           "outcome answered\n");
    free(text);
    r.answered = false;
    r.part = 0;
    r.nparts = 1;
    r.leaf = 0;
    r.size = 0;
    memset(r.root, 0xff, sizeof r.root);
    text = audit_receipt_format(&r);
    cr_assert_str_eq(text, "hearth-receipt v1\n"
                           "node trust\n"
                           "query 7f3a-01.x:Y_z\n"
                           "part 0/1\n"
                           "leaf 0\n"
                           "checkpoint 0 //////////////////////////////////////////8=\n"
                           "outcome refused\n");
    free(text);
}

Test(audit_receipt, round_trips_including_the_largest_numbers)
{
    audit_receipt_t r = sample();
    memset(r.node, 'n', AUDIT_RECEIPT_ID_MAX);
    r.node[AUDIT_RECEIPT_ID_MAX] = '\0';
    r.part = UINT32_MAX - 1;
    r.nparts = UINT32_MAX;
    r.leaf = UINT64_MAX;
    r.size = UINT64_MAX;
    r.answered = false;
    char *text = audit_receipt_format(&r);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "part 4294967294/4294967295\n"));
    cr_assert_not_null(strstr(text, "leaf 18446744073709551615\n"));
    audit_receipt_t back;
    char *cause = NULL;
    cr_assert_eq(audit_receipt_parse(text, &back, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cause);
    cr_assert_arr_eq(&back, &r, sizeof r);
    free(text);
}

Test(audit_receipt, parses_the_sample)
{
    audit_receipt_t r;
    char *cause = NULL;
    cr_assert_eq(audit_receipt_parse(GOOD, &r, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(r.node, "trust");
    cr_assert_str_eq(r.query_id, "7f3a-01.x:Y_z");
    cr_assert_eq(r.part, 1);
    cr_assert_eq(r.nparts, 3);
    cr_assert_eq(r.leaf, 41);
    cr_assert_eq(r.size, 42);
    cr_assert(r.answered);
    audit_receipt_t want = sample();
    cr_assert_arr_eq(r.root, want.root, TLOG_HASH_LEN);
    cr_assert_eq(audit_receipt_parse(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT
                                     "outcome refused\n", &r, &cause), HEARTH_OK);
    cr_assert_not(r.answered);
}

Test(audit_receipt, refuses_a_missing_line)
{
    expect_refused(L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's first line is missing or malformed");
    expect_refused(L_HEAD L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's node line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's query line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_CHECKPOINT L_OUTCOME,
                   "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_OUTCOME,
                   "receipt's checkpoint line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT,
                   "receipt's outcome line is missing or malformed");
    expect_refused("", "receipt's first line is missing or malformed");
    /* the final newline is part of the text (a note's text ends in one) */
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT "outcome answered",
                   "receipt's outcome line is missing or malformed");
}

Test(audit_receipt, refuses_an_extra_line)
{
    expect_refused(GOOD "extra 1\n", "receipt has text after its outcome line");
    expect_refused(GOOD "\n", "receipt has text after its outcome line");
    expect_refused(L_HEAD L_NODE L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's query line is missing or malformed");
}

Test(audit_receipt, refuses_lines_in_the_wrong_order)
{
    expect_refused(L_HEAD L_QUERY L_NODE L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's node line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_LEAF L_PART L_CHECKPOINT L_OUTCOME,
                   "receipt's part line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_OUTCOME L_CHECKPOINT,
                   "receipt's checkpoint line is missing or malformed");
}

Test(audit_receipt, refuses_other_spacing_versions_and_outcomes)
{
    expect_refused("hearth-receipt v2\n" L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's first line is missing or malformed");
    expect_refused(L_HEAD "node  trust\n" L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's node line is missing or malformed");
    expect_refused(L_HEAD "node trust \n" L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's node line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY "part 1 / 3\n" L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF "checkpoint 42  " ROOT_B64 "\n"
                   L_OUTCOME, "receipt's checkpoint line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT "outcome Answered\n",
                   "receipt's outcome line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT "outcome error\n",
                   "receipt's outcome line is missing or malformed");
    expect_refused("hearth-receipt v1\r\n" L_NODE L_QUERY L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's first line is missing or malformed");
}

Test(audit_receipt, refuses_leading_zeros_signs_and_overflow)
{
    expect_refused(L_HEAD L_NODE L_QUERY "part 01/3\n" L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY "part 1/03\n" L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART "leaf 041\n" L_CHECKPOINT L_OUTCOME,
                   "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART "leaf 00\n" L_CHECKPOINT L_OUTCOME,
                   "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART L_LEAF "checkpoint 042 " ROOT_B64 "\n"
                   L_OUTCOME, "receipt's checkpoint line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART "leaf +41\n" L_CHECKPOINT L_OUTCOME,
                   "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART "leaf -1\n" L_CHECKPOINT L_OUTCOME,
                   "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART "leaf \n" L_CHECKPOINT L_OUTCOME,
                   "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY L_PART "leaf 18446744073709551616\n" L_CHECKPOINT
                   L_OUTCOME, "receipt's leaf line is missing or malformed");
    expect_refused(L_HEAD L_NODE L_QUERY "part 1/4294967296\n" L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part line is missing or malformed");
}

Test(audit_receipt, refuses_a_bad_base64_root)
{
    const char *bad[] = {
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",     /* unpadded */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=",    /* non-canonical */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",    /* 31 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gIQ==", /* 34 bytes */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=x",   /* trailing */
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd*h8=",    /* not base64 */
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text, L_HEAD L_NODE L_QUERY L_PART L_LEAF "checkpoint 42 %s\n"
                 L_OUTCOME, bad[i]);
        expect_refused(text, "receipt's checkpoint line is missing or malformed");
    }
}

Test(audit_receipt, refuses_part_not_below_nparts)
{
    expect_refused(L_HEAD L_NODE L_QUERY "part 3/3\n" L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part is not below its number of parts");
    expect_refused(L_HEAD L_NODE L_QUERY "part 0/0\n" L_LEAF L_CHECKPOINT L_OUTCOME,
                   "receipt's part is not below its number of parts");
    audit_receipt_t r = sample();
    r.part = 3;
    cr_assert_null(audit_receipt_format(&r));
    r.part = 0;
    r.nparts = 0;
    cr_assert_null(audit_receipt_format(&r));
}

Test(audit_receipt, refuses_bad_id_characters_and_lengths)
{
    const char *bad[] = {"tr ust", "tr/ust", "trüst", "tr\tust", "", "a+b", "a=b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text, L_HEAD "node %s\n" L_QUERY L_PART L_LEAF L_CHECKPOINT
                 L_OUTCOME, bad[i]);
        expect_refused(text, "receipt's node line is missing or malformed");
        snprintf(text, sizeof text, L_HEAD L_NODE "query %s\n" L_PART L_LEAF L_CHECKPOINT
                 L_OUTCOME, bad[i]);
        expect_refused(text, "receipt's query line is missing or malformed");
        audit_receipt_t r = sample();
        snprintf(r.node, sizeof r.node, "%s", bad[i]);
        cr_assert_null(audit_receipt_format(&r), "formatted node '%s'", bad[i]);
        r = sample();
        snprintf(r.query_id, sizeof r.query_id, "%s", bad[i]);
        cr_assert_null(audit_receipt_format(&r), "formatted query '%s'", bad[i]);
    }
    char id65[66];
    memset(id65, 'q', 65);
    id65[65] = '\0';
    char text[512];
    snprintf(text, sizeof text, L_HEAD L_NODE "query %s\n" L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
             id65);
    expect_refused(text, "receipt's query line is missing or malformed");
    /* 64 is the longest */
    id65[64] = '\0';
    snprintf(text, sizeof text, L_HEAD L_NODE "query %s\n" L_PART L_LEAF L_CHECKPOINT L_OUTCOME,
             id65);
    audit_receipt_t r;
    char *cause = NULL;
    cr_assert_eq(audit_receipt_parse(text, &r, &cause), HEARTH_OK);
    cr_assert_str_eq(r.query_id, id65);
}
