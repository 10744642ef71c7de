/* Tests for proto_codec: encode/decode round trips, and every refusal the
 * decoder promises (oversize before decoding, undecodable bytes, another
 * protocol version, no body, over-long or ill-formed strings), plus the
 * UTF-8 validator on its own. */
#include "proto_codec.h"

#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Packs env exactly as given (no version stamping) into a new buffer. */
static uint8_t *pack_raw(Hearth__Envelope *env, size_t *len)
{
    size_t n = hearth__envelope__get_packed_size(env);
    uint8_t *buf = malloc(n ? n : 1);
    cr_assert_not_null(buf);
    *len = hearth__envelope__pack(env, buf);
    cr_assert_eq(*len, n);
    return buf;
}

/* Encodes a QueryRequest carrying sql (may hold any bytes but NUL). */
static uint8_t *encode_query(const char *sql, size_t *len)
{
    Hearth__QueryRequest q = HEARTH__QUERY_REQUEST__INIT;
    q.sql = (char *)sql;
    q.project = "p1";
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_QUERY;
    env.query = &q;
    return proto_encode(&env, len);
}

Test(proto_codec, round_trips_a_sub_query_with_filter_terms)
{
    Hearth__Value v1 = HEARTH__VALUE__INIT, v2 = HEARTH__VALUE__INIT, v3 = HEARTH__VALUE__INIT;
    v1.kind_case = HEARTH__VALUE__KIND_TEXT;
    v1.text = "65-74";
    v2.kind_case = HEARTH__VALUE__KIND_INTEGER;
    v2.integer = -42;
    v3.kind_case = HEARTH__VALUE__KIND_DECIMAL;
    v3.decimal = 2.5;
    Hearth__Value *vals[] = {&v1, &v2, &v3};
    Hearth__Term t1 = HEARTH__TERM__INIT, t2 = HEARTH__TERM__INIT;
    t1.op = HEARTH__TERM_OP__TERM_IN;
    t1.column = "age_band";
    t1.n_values = 3;
    t1.values = vals;
    t2.op = HEARTH__TERM_OP__TERM_NOT;
    Hearth__Term *terms[] = {&t1, &t2};
    char *group[] = {"ward", "sex_band"};
    Hearth__SubQuery sq = HEARTH__SUB_QUERY__INIT;
    sq.query_id = "q-0001";
    sq.dataset = "ae_attendances";
    sq.n_group_by = 2;
    sq.group_by = group;
    sq.n_filter = 2;
    sq.filter = terms;
    sq.measure = HEARTH__MEASURE__MEASURE_COUNT_PERSONS;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.version = 77; /* proto_encode stamps the real version */
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = &sq;

    size_t len = 0;
    uint8_t *buf = proto_encode(&env, &len);
    cr_assert_not_null(buf);
    cr_assert_eq(env.version, HEARTH_PROTOCOL_VERSION);
    cr_assert_eq(len, hearth__envelope__get_packed_size(&env));

    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_OK);
    cr_assert_null(cause);
    cr_assert_not_null(out);
    cr_assert_eq(out->version, HEARTH_PROTOCOL_VERSION);   /* 3 since audit proofs */
    cr_assert_eq(out->body_case, HEARTH__ENVELOPE__BODY_SUB_QUERY);
    const Hearth__SubQuery *d = out->sub_query;
    cr_assert_str_eq(d->query_id, "q-0001");
    cr_assert_str_eq(d->dataset, "ae_attendances");
    cr_assert_eq(d->n_group_by, 2);
    cr_assert_str_eq(d->group_by[0], "ward");
    cr_assert_str_eq(d->group_by[1], "sex_band");
    cr_assert_eq(d->measure, HEARTH__MEASURE__MEASURE_COUNT_PERSONS);
    cr_assert_eq(d->n_filter, 2);
    cr_assert_eq(d->filter[0]->op, HEARTH__TERM_OP__TERM_IN);
    cr_assert_str_eq(d->filter[0]->column, "age_band");
    cr_assert_eq(d->filter[0]->n_values, 3);
    cr_assert_eq(d->filter[0]->values[0]->kind_case, HEARTH__VALUE__KIND_TEXT);
    cr_assert_str_eq(d->filter[0]->values[0]->text, "65-74");
    cr_assert_eq(d->filter[0]->values[1]->kind_case, HEARTH__VALUE__KIND_INTEGER);
    cr_assert_eq(d->filter[0]->values[1]->integer, -42);
    cr_assert_eq(d->filter[0]->values[2]->kind_case, HEARTH__VALUE__KIND_DECIMAL);
    cr_assert_eq(d->filter[0]->values[2]->decimal, 2.5);
    cr_assert_eq(d->filter[1]->op, HEARTH__TERM_OP__TERM_NOT);
    cr_assert_eq(d->filter[1]->n_values, 0);
    proto_free(&out);
    cr_assert_null(out);
    free(buf);
}

Test(proto_codec, round_trips_a_query_result_with_suppressed_cell)
{
    Hearth__Value g1 = HEARTH__VALUE__INIT, g2 = HEARTH__VALUE__INIT, val = HEARTH__VALUE__INIT;
    g1.kind_case = HEARTH__VALUE__KIND_TEXT;
    g1.text = "Abbey";
    g2.kind_case = HEARTH__VALUE__KIND_NULL;
    g2.null = 1;
    val.kind_case = HEARTH__VALUE__KIND_INTEGER;
    val.integer = 120;
    Hearth__Value *k1[] = {&g1}, *k2[] = {&g2};
    Hearth__Cell c1 = HEARTH__CELL__INIT, c2 = HEARTH__CELL__INIT;
    c1.n_group = 1;
    c1.group = k1;
    c1.value = &val;
    c2.n_group = 1;
    c2.group = k2;
    c2.suppressed = 1;
    Hearth__Cell *rows[] = {&c1, &c2};
    Hearth__Disclosure disc = HEARTH__DISCLOSURE__INIT;
    disc.threshold = 7;
    disc.rounding = 5;
    disc.suppressed_cells = 1;
    Hearth__QueryResult r = HEARTH__QUERY_RESULT__INIT;
    r.query_id = "q-9";
    r.status = HEARTH__QUERY_STATUS__STATUS_RELEASED;
    r.measure = "count_persons";
    r.n_rows = 2;
    r.rows = rows;
    r.disclosure = &disc;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_RESULT;
    env.result = &r;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_CLIENT_MSG, &out, &cause), HEARTH_OK);
    const Hearth__QueryResult *d = out->result;
    cr_assert_str_eq(d->query_id, "q-9");
    cr_assert_str_eq(d->measure, "count_persons");
    cr_assert_eq(d->n_rows, 2);
    cr_assert_str_eq(d->rows[0]->group[0]->text, "Abbey");
    cr_assert_eq(d->rows[0]->value->integer, 120);
    cr_assert_eq(d->rows[0]->suppressed, 0);
    cr_assert_eq(d->rows[1]->group[0]->kind_case, HEARTH__VALUE__KIND_NULL);
    cr_assert_eq(d->rows[1]->suppressed, 1);
    cr_assert_null(d->rows[1]->value);
    cr_assert_eq(d->disclosure->threshold, 7);
    cr_assert_eq(d->disclosure->rounding, 5);
    cr_assert_eq(d->disclosure->suppressed_cells, 1);
    proto_free(&out);
    free(buf);
}

Test(proto_codec, refuses_another_protocol_version)
{
    Hearth__Welcome w = HEARTH__WELCOME__INIT;
    w.gateway = "gw";
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.version = 1;   /* before linked sub-queries: it would misread them */
    env.body_case = HEARTH__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    size_t len;
    uint8_t *buf = pack_raw(&env, &len);
    Hearth__Envelope *out = (Hearth__Envelope *)buf; /* must be overwritten */
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_ERR_VERSION);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "peer speaks protocol version 1; this is version 3");
    free(cause);
    free(buf);
}

Test(proto_codec, refuses_version_zero_from_a_peer_that_never_set_it)
{
    Hearth__Welcome w = HEARTH__WELCOME__INIT;
    w.gateway = "gw";
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_WELCOME;
    env.welcome = &w;
    size_t len;
    uint8_t *buf = pack_raw(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_ERR_VERSION);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "peer speaks protocol version 0; this is version 3");
    free(cause);
    free(buf);
}

Test(proto_codec, refuses_a_frame_over_the_limit_before_decoding)
{
    /* A valid message one byte over the limit is refused as too big... */
    size_t len;
    uint8_t *buf = encode_query("SELECT COUNT(*) FROM trust.ae", &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, len - 1, &out, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_null(out);
    char want[96];
    snprintf(want, sizeof want, "message of %zu bytes exceeds the limit of %zu", len, len - 1);
    cr_assert_str_eq(cause, want);
    free(cause);
    cause = NULL;
    /* ... and at exactly the limit it decodes. */
    cr_assert_eq(proto_decode(buf, len, len, &out, &cause), HEARTH_OK);
    cr_assert_str_eq(out->query->sql, "SELECT COUNT(*) FROM trust.ae");
    proto_free(&out);
    free(buf);

    /* Undecodable bytes over the limit say "too big", not "does not
     * decode": the size is checked first. */
    uint8_t junk[64];
    memset(junk, 0xff, sizeof junk);
    cr_assert_eq(proto_decode(junk, sizeof junk, 63, &out, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_str_eq(cause, "message of 64 bytes exceeds the limit of 63");
    free(cause);
}

Test(proto_codec, refuses_garbage_bytes)
{
    const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(junk, sizeof junk, PROTO_MAX_NODE_MSG, &out, &cause),
                 HEARTH_ERR_PROTO);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "message does not decode");
    free(cause);
}

Test(proto_codec, refuses_a_truncated_message)
{
    size_t len;
    uint8_t *buf = encode_query("SELECT COUNT(*) FROM trust.ae", &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len - 3, PROTO_MAX_CLIENT_MSG, &out, &cause),
                 HEARTH_ERR_PROTO);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "message does not decode");
    free(cause);
    free(buf);
}

Test(proto_codec, refuses_an_envelope_without_a_body)
{
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    cr_assert_eq(len, 2); /* just the version field */
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_ERR_PROTO);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "message has no body");
    free(cause);
    free(buf);
}

Test(proto_codec, refuses_a_string_with_invalid_utf8)
{
    size_t len;
    uint8_t *buf = encode_query("SELECT \xff\xfe FROM x", &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_CLIENT_MSG, &out, &cause), HEARTH_ERR_PROTO);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "field 'sql' is not valid UTF-8");
    free(cause);
    free(buf);
}

Test(proto_codec, refuses_invalid_utf8_deep_inside_a_message)
{
    Hearth__Value v = HEARTH__VALUE__INIT;
    v.kind_case = HEARTH__VALUE__KIND_TEXT;
    v.text = "Abb\xc0\xaf" "ey"; /* overlong '/' */
    Hearth__Value *vals[] = {&v};
    Hearth__Term t = HEARTH__TERM__INIT;
    t.op = HEARTH__TERM_OP__TERM_EQ;
    t.column = "ward";
    t.n_values = 1;
    t.values = vals;
    Hearth__Term *terms[] = {&t};
    Hearth__SubQuery sq = HEARTH__SUB_QUERY__INIT;
    sq.query_id = "q";
    sq.dataset = "ae";
    sq.n_filter = 1;
    sq.filter = terms;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = &sq;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_ERR_PROTO);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "field 'text' is not valid UTF-8");
    free(cause);
    free(buf);
}

Test(proto_codec, refuses_a_string_over_the_string_limit)
{
    char *sql = malloc(PROTO_MAX_STRING + 2);
    memset(sql, 'a', PROTO_MAX_STRING + 1);
    sql[PROTO_MAX_STRING + 1] = '\0';
    size_t len;
    uint8_t *buf = encode_query(sql, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_CLIENT_MSG, &out, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "field 'sql' is longer than 65536 bytes");
    free(cause);
    free(buf);

    /* Exactly at the limit is accepted. */
    sql[PROTO_MAX_STRING] = '\0';
    buf = encode_query(sql, &len);
    cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_CLIENT_MSG, &out, &cause), HEARTH_OK);
    cr_assert_eq(strlen(out->query->sql), PROTO_MAX_STRING);
    proto_free(&out);
    free(buf);
    free(sql);
}

Test(proto_codec, refuses_a_repeated_field_over_the_limit)
{
    size_t n = PROTO_MAX_REPEATED + 1;
    char **group = malloc(n * sizeof *group);
    for (size_t i = 0; i < n; i++)
        group[i] = "";
    Hearth__SubQuery sq = HEARTH__SUB_QUERY__INIT;
    sq.query_id = "q";
    sq.dataset = "ae";
    sq.n_group_by = n;
    sq.group_by = group;
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = &sq;
    size_t len;
    uint8_t *buf = proto_encode(&env, &len);
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    cr_assert_eq(proto_decode(buf, len, PROTO_MAX_NODE_MSG, &out, &cause), HEARTH_ERR_TOO_BIG);
    cr_assert_null(out);
    cr_assert_str_eq(cause, "field 'group_by' repeats 1048577 times (limit 1048576)");
    free(cause);
    free(buf);
    free(group);
}

/* Regression (found and fixed): a string field carrying a NUL byte on the wire is accepted and
 * silently cut at the NUL ("ward\0 OR 1" decodes as "ward"): protobuf-c
 * copies the bytes and appends a NUL, and validate() measures the string
 * with strnlen, so proto_utf8_valid never sees the NUL it is meant to
 * refuse. A peer can make the gateway and a node read different text from
 * the same bytes; the decoder should refuse it as HEARTH_ERR_PROTO. */
Test(proto_codec, refuses_a_string_with_an_embedded_nul_byte)
{
    /* Envelope{version=1, query{sql="ab\0cd"}} packed by hand:
     * 08 01 | 72 07 | 0a 05 'a' 'b' 00 'c' 'd' */
    const uint8_t wire[] = {0x08, 0x01, 0x72, 0x07, 0x0a, 0x05, 'a', 'b', 0x00, 'c', 'd'};
    Hearth__Envelope *out = NULL;
    char *cause = NULL;
    hearth_err_t rc = proto_decode(wire, sizeof wire, PROTO_MAX_CLIENT_MSG, &out, &cause);
    if (rc == HEARTH_OK)
        cr_log_warn("decoded sql as \"%s\" (%zu bytes)", out->query->sql,
                    strlen(out->query->sql));
    proto_free(&out);
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_PROTO);
}

Test(proto_codec, free_is_null_safe)
{
    proto_free(NULL);
    Hearth__Envelope *env = NULL;
    proto_free(&env);
    cr_assert_null(env);
    proto_free_string(NULL);
    proto_free_string((char *)protobuf_c_empty_string);
    char *s = strdup("heap");
    proto_free_string(s);
}

typedef struct {
    const char *bytes;
    size_t len;
    bool valid;
    const char *what;
} utf8_case_t;

#define U(s, v, w) {s, sizeof(s) - 1, v, w}

Test(proto_codec, utf8_validator_accepts_well_formed_text_only)
{
    static const utf8_case_t cases[] = {
        U("", true, "empty"),
        U("ward", true, "ASCII"),
        U("\x7f", true, "DEL is ASCII"),
        U("caf\xc3\xa9", true, "two-byte e acute"),
        U("\xc2\x80", true, "smallest two-byte"),
        U("\xdf\xbf", true, "largest two-byte"),
        U("\xe0\xa0\x80", true, "smallest three-byte"),
        U("\xe2\x82\xac", true, "euro sign"),
        U("\xed\x9f\xbf", true, "U+D7FF just below surrogates"),
        U("\xee\x80\x80", true, "U+E000 just above surrogates"),
        U("\xef\xbf\xbf", true, "U+FFFF"),
        U("\xf0\x90\x80\x80", true, "smallest four-byte"),
        U("\xf0\x9f\x98\x80", true, "emoji"),
        U("\xf4\x8f\xbf\xbf", true, "U+10FFFF"),
        U("a\0b", false, "NUL byte"),
        U("\x80", false, "lone continuation byte"),
        U("\xbf", false, "lone last continuation byte"),
        U("\xc0\x80", false, "overlong NUL"),
        U("\xc1\xbf", false, "overlong two-byte"),
        U("\xe0\x80\x80", false, "overlong three-byte"),
        U("\xe0\x9f\xbf", false, "overlong U+07FF"),
        U("\xed\xa0\x80", false, "high surrogate"),
        U("\xed\xbf\xbf", false, "low surrogate"),
        U("\xf0\x80\x80\x80", false, "overlong four-byte"),
        U("\xf0\x8f\xbf\xbf", false, "overlong U+FFFF"),
        U("\xf4\x90\x80\x80", false, "past U+10FFFF"),
        U("\xf5\x80\x80\x80", false, "F5 lead byte"),
        U("\xff", false, "FF byte"),
        U("\xfe", false, "FE byte"),
        U("\xc3", false, "truncated two-byte"),
        U("ab\xe2\x82", false, "truncated three-byte at end"),
        U("\xf0\x9f\x98", false, "truncated four-byte"),
        U("\xc3\x28", false, "bad continuation"),
        U("\xe2\x28\xa1", false, "bad second of three"),
        U("\xe2\x82\x28", false, "bad third of three"),
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        cr_expect_eq(proto_utf8_valid(cases[i].bytes, cases[i].len), cases[i].valid,
                     "case %zu (%s): expected %s", i, cases[i].what,
                     cases[i].valid ? "valid" : "invalid");
}

Test(proto_codec, utf8_validator_reads_only_len_bytes)
{
    /* The invalid byte lies past len and must not be looked at. */
    cr_assert(proto_utf8_valid("abc\xff", 3));
    cr_assert_not(proto_utf8_valid("abc\xff", 4));
    /* A multi-byte sequence cut by len is invalid even if the bytes after
     * len would complete it. */
    cr_assert_not(proto_utf8_valid("\xe2\x82\xac", 2));
}
