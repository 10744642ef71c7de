/* Tests for audit_event: one event of each type encodes to exactly the
 * bytes written out by hand below (field by field), decodes back to the
 * same values and re-encodes to the same bytes; the decoder refuses every
 * non-canonical leaf (other version or type, missing, extra, repeated,
 * unknown or out-of-order fields, bad lengths, invalid UTF-8, NUL, every
 * truncation, trailing bytes, oversize) and leaves the event cleared; the
 * encoder refuses what it cannot encode. */
#include "audit_event.h"
#include "hearth_hex.h"
#include "hearth_mem.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the vectors: version 01, type, then tag / u32 length / value ---- */

/* RECEIVED at 1700000000000 ms (0x18bcfe56800) of "SELECT" by "Zoë". */
#define R_HEAD "01" "01"
#define R_TIME "01" "00000008" "0000018bcfe56800"
#define R_QID "02" "00000002" "7131"                 /* "q1" */
#define R_ANALYST "03" "00000004" "5a6fc3ab"         /* "Zoë" */
#define R_KEY "04" "00000001" "4b"                   /* "K" */
#define R_PROJECT "05" "00000001" "70"               /* "p" */
#define R_TEXT "06" "00000006" "53454c454354"        /* "SELECT" */
#define RECEIVED_HEX R_HEAD R_TIME R_QID R_ANALYST R_KEY R_PROJECT R_TEXT

#define ACCEPTED_HEX "01" "02"                                  \
    "01" "00000008" "0000000000000001"                          \
    "02" "00000002" "7131"                                      \
    "05" "00000001" "70"                                        \
    "06" "00000001" "74"                /* "t" */               \
    "08" "00000007" "612e622c632e64"    /* "a.b,c.d" */

#define REFUSED_HEX "01" "03"                                   \
    "01" "00000008" "0000000000000002"                          \
    "02" "00000002" "7131"                                      \
    "06" "00000002" "6e6f"              /* "no" */

#define D_HEAD "01" "04"
#define D_TIME "01" "00000008" "0000000000000003"
#define D_QID "02" "00000002" "7131"
#define D_PROJECT "05" "00000001" "70"
#define D_NODE "07" "00000005" "7472757374"                  /* "trust" */
#define D_DATASET "08" "00000008" "74727573742e6165"         /* "trust.ae" */
#define D_KIND "09" "00000009" "616767726567617465"          /* "aggregate" */
#define D_PART "0a" "00000008" "0000000000000001"
#define D_NPARTS "0b" "00000008" "0000000000000002"
#define DISPATCHED_HEX D_HEAD D_TIME D_QID D_PROJECT D_NODE D_DATASET D_KIND D_PART D_NPARTS

#define RECEIPT_HEX "01" "05"                                   \
    "01" "00000008" "0000000000000004"                          \
    "02" "00000002" "7131"                                      \
    "06" "00000005" "6e6f74650a"        /* "note\n" */          \
    "07" "00000005" "7472757374"        /* "trust" */           \
    "0a" "00000008" "0000000000000001"  /* part 1 */            \
    "11" "00000008" "0000000000000003"  /* leaf 3 */            \
    "12" "00000008" "616e737765726564"  /* "answered" */

#define L_HEAD "01" "06"
#define L_TIME "01" "00000008" "0000000000000005"
#define L_QID "02" "00000002" "7131"
#define L_TEXT "06" "00000002" "6f6b"                          /* "ok" */
#define L_RELEASED "0c" "00000008" "000000000000000a"
#define L_SUPPRESSED "0d" "00000008" "0000000000000002"
#define L_HASH_BYTES "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define L_HASH "0e" "00000020" L_HASH_BYTES
#define RELEASED_HEX L_HEAD L_TIME L_QID L_TEXT L_RELEASED L_SUPPRESSED L_HASH

#define ERROR_HEX "01" "07"                                     \
    "01" "00000008" "0000000000000006"                          \
    "02" "00000002" "7131"                                      \
    "06" "00000004" "626f6f6d"          /* "boom" */            \
    "12" "00000007" "74696d656f7574"    /* "timeout" */

#define GOVERNANCE_HEX "01" "08"                                \
    "01" "00000008" "0000000000000007"                          \
    "05" "00000001" "70"                                        \
    "06" "00000005" "6b3a20760a"        /* "k: v\n" */          \
    "0f" "00000002" "6967"              /* "ig" */              \
    "10" "0000000b" "70726f6a65637420616464"  /* "project add" */

static uint8_t *unhex(const char *hex, size_t *len)
{
    size_t n = strlen(hex);
    cr_assert_eq(n % 2, 0);
    uint8_t *out = hearth_malloc(n / 2 + 1);
    cr_assert(hearth_hex_decode(hex, n, out, n / 2));
    *len = n / 2;
    return out;
}

/* Encodes ev and asserts the bytes equal hex. */
static void expect_encoding(const audit_event_t *ev, const char *hex)
{
    size_t want_len;
    uint8_t *want = unhex(hex, &want_len);
    uint8_t *got = NULL;
    size_t got_len = 0;
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(ev, &got, &got_len, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cause);
    cr_assert_eq(got_len, want_len);
    cr_assert_arr_eq(got, want, want_len);
    free(got);
    free(want);
}

/* Decodes hex (which must be canonical) and checks it re-encodes equal. */
static void decode_hex(const char *hex, audit_event_t *ev)
{
    size_t len;
    uint8_t *leaf = unhex(hex, &len);
    char *cause = NULL;
    cr_assert_eq(audit_event_decode(leaf, len, ev, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cause);
    free(leaf);
    expect_encoding(ev, hex);
}

static void expect_refused_bytes(const uint8_t *leaf, size_t len, const char *why)
{
    audit_event_t ev, zero;
    memset(&ev, 0x5a, sizeof ev);
    memset(&zero, 0, sizeof zero);
    char *cause = NULL;
    cr_assert_eq(audit_event_decode(leaf, len, &ev, &cause), HEARTH_ERR_FORMAT);
    if (why != NULL)
        cr_assert_str_eq(cause, why);
    else
        cr_assert_not_null(cause);
    cr_assert_arr_eq(&ev, &zero, sizeof ev, "the event is left cleared");
    free(cause);
}

static void expect_refused(const char *hex, const char *why)
{
    size_t len;
    uint8_t *leaf = unhex(hex, &len);
    expect_refused_bytes(leaf, len, why);
    free(leaf);
}

/* ---- exact encodings and round trips ----------------------------------- */

Test(audit_event, encodes_received_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_RECEIVED, .time_ms = 1700000000000u, .query_id = "q1",
                        .analyst = "Zo\xc3\xab", .analyst_key = "K", .project = "p",
                        .text = "SELECT",
                        /* not a RECEIVED field: ignored */
                        .node = "ignored", .part = 9};
    expect_encoding(&ev, RECEIVED_HEX);
    audit_event_t d;
    decode_hex(RECEIVED_HEX, &d);
    cr_assert_eq(d.type, AUDIT_RECEIVED);
    cr_assert_eq(d.time_ms, 1700000000000u);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.analyst, "Zo\xc3\xab");
    cr_assert_str_eq(d.analyst_key, "K");
    cr_assert_str_eq(d.project, "p");
    cr_assert_str_eq(d.text, "SELECT");
    cr_assert_null(d.node);
    cr_assert_null(d.dataset);
    cr_assert_null(d.outcome);
    cr_assert_eq(d.part, 0);
    audit_event_clear(&d);
    cr_assert_null(d.query_id);
}

Test(audit_event, encodes_accepted_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_ACCEPTED, .time_ms = 1, .query_id = "q1", .project = "p",
                        .text = "t", .dataset = "a.b,c.d"};
    expect_encoding(&ev, ACCEPTED_HEX);
    audit_event_t d;
    decode_hex(ACCEPTED_HEX, &d);
    cr_assert_eq(d.type, AUDIT_ACCEPTED);
    cr_assert_eq(d.time_ms, 1);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.project, "p");
    cr_assert_str_eq(d.text, "t");
    cr_assert_str_eq(d.dataset, "a.b,c.d");
    cr_assert_null(d.analyst);
    audit_event_clear(&d);
}

Test(audit_event, encodes_refused_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_REFUSED, .time_ms = 2, .query_id = "q1", .text = "no"};
    expect_encoding(&ev, REFUSED_HEX);
    audit_event_t d;
    decode_hex(REFUSED_HEX, &d);
    cr_assert_eq(d.type, AUDIT_REFUSED);
    cr_assert_eq(d.time_ms, 2);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.text, "no");
    cr_assert_null(d.project);
    audit_event_clear(&d);
}

Test(audit_event, encodes_dispatched_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_DISPATCHED, .time_ms = 3, .query_id = "q1",
                        .project = "p", .node = "trust", .dataset = "trust.ae",
                        .kind = "aggregate", .part = 1, .nparts = 2};
    expect_encoding(&ev, DISPATCHED_HEX);
    audit_event_t d;
    decode_hex(DISPATCHED_HEX, &d);
    cr_assert_eq(d.type, AUDIT_DISPATCHED);
    cr_assert_eq(d.time_ms, 3);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.project, "p");
    cr_assert_str_eq(d.node, "trust");
    cr_assert_str_eq(d.dataset, "trust.ae");
    cr_assert_str_eq(d.kind, "aggregate");
    cr_assert_eq(d.part, 1);
    cr_assert_eq(d.nparts, 2);
    cr_assert_null(d.text);
    audit_event_clear(&d);
}

Test(audit_event, encodes_receipt_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_RECEIPT, .time_ms = 4, .query_id = "q1",
                        .text = "note\n", .node = "trust", .part = 1, .leaf = 3,
                        .outcome = "answered"};
    expect_encoding(&ev, RECEIPT_HEX);
    audit_event_t d;
    decode_hex(RECEIPT_HEX, &d);
    cr_assert_eq(d.type, AUDIT_RECEIPT);
    cr_assert_eq(d.time_ms, 4);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.text, "note\n");
    cr_assert_str_eq(d.node, "trust");
    cr_assert_eq(d.part, 1);
    cr_assert_eq(d.leaf, 3);
    cr_assert_str_eq(d.outcome, "answered");
    cr_assert_eq(d.nparts, 0);
    audit_event_clear(&d);
}

Test(audit_event, encodes_released_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_RELEASED, .time_ms = 5, .query_id = "q1", .text = "ok",
                        .released = 10, .suppressed = 2};
    for (int i = 0; i < 32; i++)
        ev.result_hash[i] = (uint8_t)i;
    expect_encoding(&ev, RELEASED_HEX);
    audit_event_t d;
    decode_hex(RELEASED_HEX, &d);
    cr_assert_eq(d.type, AUDIT_RELEASED);
    cr_assert_eq(d.time_ms, 5);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.text, "ok");
    cr_assert_eq(d.released, 10);
    cr_assert_eq(d.suppressed, 2);
    cr_assert_arr_eq(d.result_hash, ev.result_hash, 32);
    audit_event_clear(&d);
}

Test(audit_event, encodes_error_exactly_and_round_trips)
{
    audit_event_t ev = {.type = AUDIT_ERROR, .time_ms = 6, .query_id = "q1", .text = "boom",
                        .outcome = "timeout"};
    expect_encoding(&ev, ERROR_HEX);
    audit_event_t d;
    decode_hex(ERROR_HEX, &d);
    cr_assert_eq(d.type, AUDIT_ERROR);
    cr_assert_eq(d.time_ms, 6);
    cr_assert_str_eq(d.query_id, "q1");
    cr_assert_str_eq(d.text, "boom");
    cr_assert_str_eq(d.outcome, "timeout");
    audit_event_clear(&d);
}

Test(audit_event, encodes_governance_exactly_without_a_query_id)
{
    audit_event_t ev = {.type = AUDIT_GOVERNANCE, .time_ms = 7, .query_id = "not encoded",
                        .project = "p", .text = "k: v\n", .actor = "ig",
                        .action = "project add"};
    expect_encoding(&ev, GOVERNANCE_HEX);
    audit_event_t d;
    decode_hex(GOVERNANCE_HEX, &d);
    cr_assert_eq(d.type, AUDIT_GOVERNANCE);
    cr_assert_eq(d.time_ms, 7);
    cr_assert_null(d.query_id);
    cr_assert_str_eq(d.project, "p");
    cr_assert_str_eq(d.text, "k: v\n");
    cr_assert_str_eq(d.actor, "ig");
    cr_assert_str_eq(d.action, "project add");
    audit_event_clear(&d);
}

Test(audit_event, encodes_null_strings_as_empty_and_decodes_them_as_empty)
{
    audit_event_t ev = {.type = AUDIT_REFUSED, .time_ms = 0};
    const char *hex = "0103" "01000000080000000000000000" "0200000000" "0600000000";
    expect_encoding(&ev, hex);
    audit_event_t d;
    decode_hex(hex, &d);
    cr_assert_str_eq(d.query_id, "");
    cr_assert_str_eq(d.text, "");
    audit_event_clear(&d);
}

Test(audit_event, encodes_the_largest_integer_big_endian)
{
    audit_event_t ev = {.type = AUDIT_REFUSED, .time_ms = UINT64_MAX, .query_id = "",
                        .text = ""};
    expect_encoding(&ev, "0103" "0100000008ffffffffffffffff" "0200000000" "0600000000");
}

Test(audit_event, names_every_type)
{
    cr_assert_str_eq(audit_type_name(AUDIT_RECEIVED), "received");
    cr_assert_str_eq(audit_type_name(AUDIT_ACCEPTED), "accepted");
    cr_assert_str_eq(audit_type_name(AUDIT_REFUSED), "refused");
    cr_assert_str_eq(audit_type_name(AUDIT_DISPATCHED), "dispatched");
    cr_assert_str_eq(audit_type_name(AUDIT_RECEIPT), "receipt");
    cr_assert_str_eq(audit_type_name(AUDIT_RELEASED), "released");
    cr_assert_str_eq(audit_type_name(AUDIT_ERROR), "error");
    cr_assert_str_eq(audit_type_name(AUDIT_GOVERNANCE), "governance");
    cr_assert_str_eq(audit_type_name((audit_type_t)0), "unknown");
    cr_assert_str_eq(audit_type_name((audit_type_t)9), "unknown");
}

Test(audit_event, clear_is_null_safe)
{
    audit_event_clear(NULL);
}

/* ---- the decoder refuses everything but the canonical encoding ---------- */

Test(audit_event, refuses_another_version)
{
    expect_refused("02" "01" R_TIME R_QID R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit leaf has format version 2, not 1");
    expect_refused("00" "01" R_TIME R_QID R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit leaf has format version 0, not 1");
}

Test(audit_event, refuses_an_unknown_type)
{
    expect_refused("01" "00" R_TIME R_QID, "audit leaf has an unknown event type 0");
    expect_refused("01" "09" R_TIME R_QID, "audit leaf has an unknown event type 9");
    expect_refused("01" "ff" R_TIME R_QID, "audit leaf has an unknown event type 255");
}

Test(audit_event, refuses_a_missing_field)
{
    expect_refused(R_HEAD R_TIME R_QID R_ANALYST R_PROJECT R_TEXT,
                   "audit leaf lacks field 'analyst_key' or has it out of order");
    expect_refused(R_HEAD R_QID R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit leaf lacks field 'time_ms' or has it out of order");
    /* the last one */
    expect_refused(R_HEAD R_TIME R_QID R_ANALYST R_KEY R_PROJECT,
                   "audit leaf lacks field 'text'");
    expect_refused(R_HEAD, "audit leaf lacks field 'time_ms'");
}

Test(audit_event, refuses_an_extra_field)
{
    /* a field the type does not have, in tag order */
    expect_refused(D_HEAD D_TIME D_QID D_PROJECT "06" "00000001" "78" D_NODE D_DATASET D_KIND
                   D_PART D_NPARTS,
                   "audit leaf has field 'text', which a dispatched event does not have");
    /* one after the type's last field */
    expect_refused(RECEIVED_HEX "07" "00000005" "7472757374",
                   "audit leaf has bytes after its last field");
    /* a query id on a governance event */
    expect_refused("0108" "01000000080000000000000007" "02" "00000002" "7131",
                   "audit leaf has field 'query_id', which a governance event does not have");
}

Test(audit_event, refuses_a_repeated_field)
{
    expect_refused(R_HEAD R_TIME R_QID R_QID R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit leaf repeats field 'query_id'");
    expect_refused(R_HEAD R_TIME R_TIME R_QID R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit leaf repeats field 'time_ms'");
}

Test(audit_event, refuses_fields_out_of_order)
{
    expect_refused(R_HEAD R_TIME R_QID R_KEY R_ANALYST R_PROJECT R_TEXT,
                   "audit leaf lacks field 'analyst' or has it out of order");
    expect_refused(R_HEAD R_TIME R_QID R_ANALYST R_KEY R_TEXT R_PROJECT,
                   "audit leaf lacks field 'project' or has it out of order");
    expect_refused(R_HEAD R_QID R_TIME R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit leaf lacks field 'time_ms' or has it out of order");
}

Test(audit_event, refuses_an_unknown_tag)
{
    expect_refused(R_HEAD R_TIME "00" "00000000", "audit leaf has an unknown tag 0");
    expect_refused(R_HEAD R_TIME "13" "00000000", "audit leaf has an unknown tag 19");
    expect_refused(R_HEAD R_TIME "ff" "00000001" "78", "audit leaf has an unknown tag 255");
}

Test(audit_event, refuses_an_integer_not_8_bytes_long)
{
    expect_refused(R_HEAD "01" "00000007" "00018bcfe56800" R_QID R_ANALYST R_KEY R_PROJECT
                   R_TEXT, "audit field 'time_ms' is not 8 bytes long");
    expect_refused(R_HEAD "01" "00000009" "000000018bcfe56800" R_QID R_ANALYST R_KEY R_PROJECT
                   R_TEXT, "audit field 'time_ms' is not 8 bytes long");
    expect_refused(D_HEAD D_TIME D_QID D_PROJECT D_NODE D_DATASET D_KIND D_PART
                   "0b" "00000000", "audit field 'nparts' is not 8 bytes long");
}

Test(audit_event, refuses_a_hash_not_32_bytes_long)
{
    expect_refused(L_HEAD L_TIME L_QID L_TEXT L_RELEASED L_SUPPRESSED
                   "0e" "0000001f" "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e",
                   "audit field 'result_hash' is not 32 bytes long");
    expect_refused(L_HEAD L_TIME L_QID L_TEXT L_RELEASED L_SUPPRESSED
                   "0e" "00000021" L_HASH_BYTES "20",
                   "audit field 'result_hash' is not 32 bytes long");
}

Test(audit_event, refuses_invalid_utf8)
{
    const char *bad[] = {
        "5a6fc328",     /* a lead byte then ASCII */
        "5a6fc0af",     /* overlong '/' */
        "5a6fe080af",   /* overlong, three bytes */
        "5a6feda080",   /* a surrogate */
        "5a6ff4908080", /* past U+10FFFF */
        "5a6f80",       /* a lone continuation byte */
        "5a6fc3",       /* cut short */
        "5a6fff",       /* never valid */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char hex[512];
        snprintf(hex, sizeof hex, R_HEAD R_TIME R_QID "03%08zx%s" R_KEY R_PROJECT R_TEXT,
                 strlen(bad[i]) / 2, bad[i]);
        expect_refused(hex, "audit field 'analyst' is not valid UTF-8 without NUL");
    }
    /* valid four-byte UTF-8 (U+1F600) is accepted */
    audit_event_t d;
    decode_hex(R_HEAD R_TIME R_QID "03" "00000004" "f09f9880" R_KEY R_PROJECT R_TEXT, &d);
    cr_assert_str_eq(d.analyst, "\xf0\x9f\x98\x80");
    audit_event_clear(&d);
}

Test(audit_event, refuses_an_embedded_nul)
{
    expect_refused(R_HEAD R_TIME "02" "00000002" "7100" R_ANALYST R_KEY R_PROJECT R_TEXT,
                   "audit field 'query_id' is not valid UTF-8 without NUL");
}

Test(audit_event, refuses_every_truncation_of_every_type)
{
    const char *all[] = {RECEIVED_HEX, ACCEPTED_HEX, REFUSED_HEX, DISPATCHED_HEX,
                         RECEIPT_HEX, RELEASED_HEX, ERROR_HEX, GOVERNANCE_HEX};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++) {
        size_t len;
        uint8_t *leaf = unhex(all[k], &len);
        for (size_t cut = 0; cut < len; cut++)
            expect_refused_bytes(leaf, cut, NULL);
        free(leaf);
    }
    /* the reasons, at a few places */
    expect_refused("", "audit leaf is truncated");
    expect_refused("01", "audit leaf is truncated");
    expect_refused(R_HEAD "01000000", "audit leaf is truncated");
    expect_refused(R_HEAD "0100000008" "0000018bcfe568", "audit leaf is truncated");
}

Test(audit_event, refuses_a_trailing_byte)
{
    expect_refused(RECEIVED_HEX "00", "audit leaf has bytes after its last field");
    expect_refused(GOVERNANCE_HEX "0a", "audit leaf has bytes after its last field");
}

Test(audit_event, refuses_an_oversize_leaf_before_reading_it)
{
    size_t len;
    uint8_t *leaf = unhex(RECEIVED_HEX, &len);
    uint8_t *big = hearth_calloc(1, AUDIT_LEAF_MAX + 1);
    memcpy(big, leaf, len);
    expect_refused_bytes(big, AUDIT_LEAF_MAX + 1, "audit leaf is longer than 262144 bytes");
    /* exactly at the bound it gets as far as the trailing bytes */
    expect_refused_bytes(big, AUDIT_LEAF_MAX, "audit leaf has bytes after its last field");
    free(big);
    free(leaf);
}

Test(audit_event, refuses_a_string_longer_than_the_text_bound)
{
    size_t n = AUDIT_TEXT_MAX + 1;
    size_t len = 2 + 13 + 5 + n;
    uint8_t *leaf = hearth_calloc(1, len);
    uint8_t head[] = {1, 3, 1, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
                      2, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(leaf, head, sizeof head);
    memset(leaf + sizeof head, 'a', n);
    expect_refused_bytes(leaf, len, "audit field 'query_id' is longer than 65536 bytes");
    free(leaf);
}

/* ---- the encoder refuses what has no encoding --------------------------- */

Test(audit_event, encoder_refuses_an_unknown_type)
{
    audit_event_t ev = {.type = (audit_type_t)9};
    uint8_t *out = (uint8_t *)"x";
    size_t len = 7;
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(&ev, &out, &len, &cause), HEARTH_ERR_USAGE);
    cr_assert_null(out);
    cr_assert_eq(len, 0);
    cr_assert_str_eq(cause, "unknown audit event type 9");
    free(cause);
}

Test(audit_event, encoder_refuses_invalid_utf8_naming_the_field)
{
    audit_event_t ev = {.type = AUDIT_RECEIVED, .query_id = "q", .analyst = "a",
                        .analyst_key = "k", .project = "p", .text = "caf\xe9"};
    uint8_t *out = NULL;
    size_t len = 0;
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(&ev, &out, &len, &cause), HEARTH_ERR_FORMAT);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "audit field 'text' is not valid UTF-8");
    free(cause);
}

Test(audit_event, encoder_refuses_an_over_long_string_and_an_over_long_leaf)
{
    char *big = hearth_malloc(AUDIT_TEXT_MAX + 2);
    memset(big, 'a', AUDIT_TEXT_MAX + 1);
    big[AUDIT_TEXT_MAX + 1] = '\0';
    audit_event_t ev = {.type = AUDIT_REFUSED, .query_id = "q", .text = big};
    uint8_t *out = NULL;
    size_t len = 0;
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(&ev, &out, &len, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(cause, "audit field 'text' is longer than 65536 bytes");
    /* at the bound a string is fine ... */
    big[AUDIT_TEXT_MAX] = '\0';
    cr_assert_eq(audit_event_encode(&ev, &out, &len, &cause), HEARTH_OK);
    cr_assert_eq(len, 2 + 13 + 6 + 5 + AUDIT_TEXT_MAX);
    audit_event_t d;
    cr_assert_eq(audit_event_decode(out, len, &d, &cause), HEARTH_OK);
    cr_assert_eq(strlen(d.text), AUDIT_TEXT_MAX);
    audit_event_clear(&d);
    free(out);
    /* ... but five of them make a leaf past AUDIT_LEAF_MAX */
    audit_event_t r = {.type = AUDIT_RECEIVED, .query_id = big, .analyst = big,
                       .analyst_key = big, .project = big, .text = big};
    cr_assert_eq(audit_event_encode(&r, &out, &len, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(cause, "an audit event is longer than 262144 bytes once encoded");
    cr_assert_null(out);
    free(cause);
    free(big);
}
