#include "audit_event.h"
#include "audit_receipt.h"
#include "client_audit_export.h"
#include "client_audit_list.h"
#include "client_audit_log.h"
#include "client_audit_reconcile.h"
#include "client_audit_report.h"
#include "client_audit_show.h"
#include "client_audit_time.h"
#include "client_audit_verify.h"
#include "hearth_base64.h"
#include "hearth_mem.h"
#include "keys_sign.h"
#include "tlog_checkpoint.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The pure halves of `hearth audit`: the export file, list rows and their
 * filters, the monthly report, show's rendering and reconciliation, over
 * logs built with real encodings and real keys. The gateway key is the
 * golang.org/x/mod/sumdb/note example key (note_test.go); node keys are
 * generated in a temporary folder. */
static const char GW_SIGNER[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char GW_VKEY[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

#define MARCH_4 1741083302000ull   /* 2025-03-04T10:15:02Z */
#define APRIL_1 1743465600000ull   /* 2025-04-01T00:00:00Z */

static struct {
    keys_signer_t *gw, *trust;
    tlog_verifier_t gw_v, trust_v;
    char dir[64];
} K;

static void setup(void)
{
    char *cause = NULL;
    cr_assert_eq(keys_signer_parse(GW_SIGNER, &K.gw, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(tlog_verifier_parse(GW_VKEY, &K.gw_v, &cause), HEARTH_OK, "%s", cause);
    snprintf(K.dir, sizeof K.dir, "/tmp/hearth-audit-XXXXXX");
    cr_assert_not_null(mkdtemp(K.dir));
    char prefix[128], path[160];
    snprintf(prefix, sizeof prefix, "%s/trust", K.dir);
    cr_assert_eq(keys_sign_generate(prefix, "trust-audit", &cause), HEARTH_OK, "%s", cause);
    snprintf(path, sizeof path, "%s.signer", prefix);
    cr_assert_eq(keys_signer_load(path, &K.trust, &cause), HEARTH_OK, "%s", cause);
    unlink(path);
    snprintf(path, sizeof path, "%s.vkey", prefix);
    cr_assert_eq(tlog_verifier_load(path, &K.trust_v, &cause), HEARTH_OK, "%s", cause);
    unlink(path);
}

static void teardown(void)
{
    keys_signer_destroy(&K.gw);
    keys_signer_destroy(&K.trust);
    rmdir(K.dir);
}

TestSuite(client_audit_export, .init = setup, .fini = teardown);
TestSuite(client_audit_list, .init = setup, .fini = teardown);
TestSuite(client_audit_report, .init = setup, .fini = teardown);
TestSuite(client_audit_show, .init = setup, .fini = teardown);
TestSuite(client_audit_reconcile, .init = setup, .fini = teardown);

/* ---- building logs ------------------------------------------------------------ */

typedef struct {
    client_audit_log_t *log;
    tlog_memtree_t *tree;
} builder_t;

static void b_init(builder_t *b)
{
    b->log = client_audit_log_new();
    b->tree = tlog_memtree_new();
}

static void b_free(builder_t *b)
{
    client_audit_log_destroy(&b->log);
    tlog_memtree_destroy(&b->tree);
}

static uint64_t add(builder_t *b, audit_event_t e)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(&e, &data, &len, &cause), HEARTH_OK, "%s", cause);
    uint64_t index = b->log->n_leaves;
    cr_assert_eq(client_audit_log_add_leaf(b->log, index, data, len, NULL), HEARTH_OK);
    tlog_memtree_append(b->tree, data, len);
    free(data);
    return index;
}

static void sign(builder_t *b)
{
    tlog_checkpoint_t cp = {.size = b->log->n_leaves};
    snprintf(cp.origin, sizeof cp.origin, "PeterNeumann");
    cr_assert_eq(tlog_root(tlog_memtree_subtree, b->tree, cp.size, cp.root, NULL), HEARTH_OK);
    char *note = NULL;
    cr_assert_eq(tlog_checkpoint_sign(K.gw, &cp, &note, NULL), HEARTH_OK);
    cr_assert_eq(client_audit_log_add_note(b->log, note, strlen(note), NULL), HEARTH_OK);
    free(note);
}

static uint64_t received(builder_t *b, uint64_t t, const char *q, const char *analyst,
                         const char *project)
{
    return add(b, (audit_event_t){.type = AUDIT_RECEIVED, .time_ms = t, .query_id = (char *)q,
                                  .analyst = (char *)analyst, .analyst_key = "KEY",
                                  .project = (char *)project,
                                  .text = "SELECT COUNT(*)\nFROM trust.ae"});
}

static uint64_t accepted(builder_t *b, uint64_t t, const char *q, const char *project)
{
    return add(b, (audit_event_t){.type = AUDIT_ACCEPTED, .time_ms = t, .query_id = (char *)q,
                                  .project = (char *)project, .text = "threshold 7",
                                  .dataset = "trust.ae,council.housing"});
}

static uint64_t dispatched(builder_t *b, uint64_t t, const char *q, const char *project,
                           const char *node, uint64_t part, uint64_t nparts)
{
    char dataset[64];
    snprintf(dataset, sizeof dataset, "%s.%s", node,
             strcmp(node, "trust") == 0 ? "ae" : "housing");
    return add(b, (audit_event_t){.type = AUDIT_DISPATCHED, .time_ms = t,
                                  .query_id = (char *)q, .project = (char *)project,
                                  .node = (char *)node, .dataset = dataset, .kind = "aggregate",
                                  .part = part, .nparts = nparts});
}

/* trust's signed receipt for the dispatch at leaf, over the checkpoint of
 * the log's current size. */
static char *trust_receipt(builder_t *b, const char *q, uint32_t part, uint32_t nparts,
                           uint64_t leaf)
{
    audit_receipt_t r = {.part = part, .nparts = nparts, .leaf = leaf,
                         .size = b->log->n_leaves, .answered = true};
    snprintf(r.node, sizeof r.node, "trust");
    snprintf(r.query_id, sizeof r.query_id, "%s", q);
    cr_assert_eq(tlog_root(tlog_memtree_subtree, b->tree, r.size, r.root, NULL), HEARTH_OK);
    char *text = audit_receipt_format(&r), *note = NULL;
    cr_assert_eq(tlog_note_sign(K.trust, text, &note, NULL), HEARTH_OK);
    free(text);
    return note;
}

static uint64_t receipt(builder_t *b, uint64_t t, const char *q, const char *node,
                        uint64_t part, uint64_t leaf, const char *note)
{
    return add(b, (audit_event_t){.type = AUDIT_RECEIPT, .time_ms = t, .query_id = (char *)q,
                                  .text = (char *)note, .node = (char *)node, .part = part,
                                  .leaf = leaf, .outcome = "answered"});
}

static uint64_t released(builder_t *b, uint64_t t, const char *q, uint64_t cells,
                         uint64_t suppressed)
{
    return add(b, (audit_event_t){.type = AUDIT_RELEASED, .time_ms = t, .query_id = (char *)q,
                                  .text = "threshold 7", .released = cells,
                                  .suppressed = suppressed});
}

static uint64_t refused(builder_t *b, uint64_t t, const char *q, const char *reason)
{
    return add(b, (audit_event_t){.type = AUDIT_REFUSED, .time_ms = t, .query_id = (char *)q,
                                  .text = (char *)reason});
}

static uint64_t errored(builder_t *b, uint64_t t, const char *q, const char *outcome,
                        const char *reason)
{
    return add(b, (audit_event_t){.type = AUDIT_ERROR, .time_ms = t, .query_id = (char *)q,
                                  .text = (char *)reason, .outcome = (char *)outcome});
}

static uint64_t governance(builder_t *b, uint64_t t, const char *project, const char *action)
{
    return add(b, (audit_event_t){.type = AUDIT_GOVERNANCE, .time_ms = t,
                                  .project = (char *)project, .text = "title: Falls\n",
                                  .actor = "admin", .action = (char *)action});
}

/* A log of four queries and a governance change, in March 2025:
 *   q1 released (alice, falls; trust and council), q2 refused (bob, housing),
 *   governance (falls), q3 timed out (alice, falls), q4 received only (bob, falls).
 * council's receipt is deliberately not a signed note. trust_note_out, when
 * not NULL, receives a copy of trust's receipt for q1 (caller frees). */
static void build(builder_t *b, char *trust_note_out[1])
{
    b_init(b);
    uint64_t t = MARCH_4;
    received(b, t, "q1", "alice", "falls");
    accepted(b, t + 1, "q1", "falls");
    uint64_t d0 = dispatched(b, t + 2, "q1", "falls", "trust", 0, 2);
    uint64_t d1 = dispatched(b, t + 3, "q1", "falls", "council", 1, 2);
    sign(b);
    char *note = trust_receipt(b, "q1", 0, 2, d0);
    receipt(b, t + 4, "q1", "trust", 0, d0, note);
    if (trust_note_out)
        trust_note_out[0] = note;
    else
        free(note);
    receipt(b, t + 5, "q1", "council", 1, d1, "unsigned");
    released(b, t + 6, "q1", 12, 3);
    received(b, t + 86400000, "q2", "bob", "housing");
    refused(b, t + 86400001, "q2", "project housing has expired");
    sign(b);
    governance(b, t + 2 * 86400000, "falls", "project suspend");
    sign(b);
    received(b, t + 3 * 86400000, "q3", "alice", "falls");
    accepted(b, t + 3 * 86400000 + 1, "q3", "falls");
    dispatched(b, t + 3 * 86400000 + 2, "q3", "falls", "trust", 0, 1);
    sign(b);
    errored(b, t + 3 * 86400000 + 3, "q3", "timeout", "");
    received(b, t + 4 * 86400000, "q4", "bob", "falls");
    sign(b);
}

/* ---- the export file ----------------------------------------------------------- */

Test(client_audit_export, export_round_trips_byte_for_byte)
{
    builder_t b;
    build(&b, NULL);
    size_t len = 0;
    char *text = client_audit_export_format(b.log, &len);
    cr_assert_eq(strlen(text), len);
    cr_assert(strncmp(text, "hearth-audit-export 1\ncheckpoint ", 33) == 0);
    cr_assert(strstr(text, "\nend 5 15\n") != NULL);
    client_audit_log_t *back = NULL;
    char *cause = NULL;
    cr_assert_eq(client_audit_export_parse(text, len, &back, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(back->n_leaves, b.log->n_leaves);
    cr_assert_eq(back->n_notes, b.log->n_notes);
    for (size_t i = 0; i < back->n_leaves; i++) {
        cr_assert_eq(back->leaves[i].index, i);
        cr_assert_eq(back->leaves[i].len, b.log->leaves[i].len);
        cr_assert(memcmp(back->leaves[i].data, b.log->leaves[i].data, back->leaves[i].len) == 0);
    }
    for (size_t i = 0; i < back->n_notes; i++)
        cr_assert_str_eq(back->notes[i], b.log->notes[i]);
    size_t len2 = 0;
    char *again = client_audit_export_format(back, &len2);
    cr_assert_str_eq(again, text);
    free(again);
    free(text);
    client_audit_log_destroy(&back);
    b_free(&b);
}

Test(client_audit_export, exported_log_verifies_offline)
{
    builder_t b;
    build(&b, NULL);
    size_t len = 0;
    char *text = client_audit_export_format(b.log, &len);
    client_audit_log_t *log = NULL;
    cr_assert_eq(client_audit_export_parse(text, len, &log, NULL), HEARTH_OK);
    client_audit_verify_in_t in = {.leaves = log->leaves, .n_leaves = log->n_leaves,
                                   .checkpoints = (const char *const *)log->notes,
                                   .n_checkpoints = log->n_notes, .gateway = &K.gw_v};
    client_audit_verdict_t *v = client_audit_verify(&in);
    /* council's receipt is not a signed note: the log is built that way to
     * show it is caught, offline as online. */
    cr_assert_eq(v->findings.n, 2);
    cr_assert_str_eq(v->findings.items[0].message, "the receipt is not a signed note");
    cr_assert_eq(v->findings.items[0].leaf, 5);
    cr_assert_str_eq(v->findings.items[1].message,
                     "query q4 received, not completed (no released, refused or error "
                     "outcome)");
    cr_assert_not(v->ok);
    cr_assert_eq(v->checkpoints, 5);
    client_audit_verify_destroy(&v);
    free(text);
    client_audit_log_destroy(&log);
    b_free(&b);
}

Test(client_audit_export, edited_export_fails_verification)
{
    builder_t b;
    build(&b, NULL);
    size_t len = 0;
    char *text = client_audit_export_format(b.log, &len);
    client_audit_log_t *log = NULL;
    cr_assert_eq(client_audit_export_parse(text, len, &log, NULL), HEARTH_OK);
    uint8_t *p = memmem(log->leaves[8].data, log->leaves[8].len, "expired", 7);
    cr_assert_not_null(p);
    memcpy(p, "renewed", 7);
    client_audit_verify_in_t in = {.leaves = log->leaves, .n_leaves = log->n_leaves,
                                   .checkpoints = (const char *const *)log->notes,
                                   .n_checkpoints = log->n_notes, .gateway = &K.gw_v};
    client_audit_verdict_t *v = client_audit_verify(&in);
    cr_assert_str_eq(v->findings.items[0].message,
                     "the checkpoint of size 9 does not match the leaves: a leaf in 4..8 was "
                     "changed, removed or reordered after it was signed");
    cr_assert_str_eq(v->findings.items[1].message,
                     "3 later checkpoints (sizes 10..15) do not match either");
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    free(text);
    client_audit_log_destroy(&log);
    b_free(&b);
}

static void parse_fails(const char *text, const char *want)
{
    client_audit_log_t *log = NULL;
    char *cause = NULL;
    cr_assert_eq(client_audit_export_parse(text, strlen(text), &log, &cause), HEARTH_ERR_FORMAT);
    cr_assert_null(log);
    cr_assert_str_eq(cause, want);
    free(cause);
}

Test(client_audit_export, export_parse_refuses_truncated_and_malformed_files)
{
    parse_fails("", "the file is empty");
    parse_fails("hearth-audit-export 2\n", "line 1: not a hearth audit export (it must begin "
                                           "\"hearth-audit-export 1\")");
    parse_fails("hearth-audit-export 1\nleaf 0 AQE=\n", "the file has no end line (truncated?)");
    parse_fails("hearth-audit-export 1\nleaf 0 AQE=", "line 2: the file does not end in a "
                                                      "newline (truncated?)");
    parse_fails("hearth-audit-export 1\nleaf 0 AQE=\nend 0 2\n",
                "line 3: the file says it holds 0 checkpoints and 2 leaves, but 0 and 1 were "
                "read");
    parse_fails("hearth-audit-export 1\nleaf 00 AQE=\nend 0 1\n",
                "line 2: expected \"leaf <index> <base64>\"");
    parse_fails("hearth-audit-export 1\nleaf 0 AQE\nend 0 1\n",
                "line 2: expected \"leaf <index> <base64>\"");
    parse_fails("hearth-audit-export 1\ncheckpoint !!!!\nend 1 0\n",
                "line 2: the checkpoint is not valid base64 of a signed note");
    parse_fails("hearth-audit-export 1\nend 0 0\nleaf 0 AQE=\n",
                "line 3: something follows the end line");
    parse_fails("hearth-audit-export 1\nroot x\nend 0 0\n",
                "line 2: expected a checkpoint, leaf or end line");
}

Test(client_audit_export, export_keeps_indexes_as_written_for_verify_to_judge)
{
    const char text[] = "hearth-audit-export 1\nleaf 0 AQE=\nleaf 2 AQI=\nend 0 2\n";
    client_audit_log_t *log = NULL;
    cr_assert_eq(client_audit_export_parse(text, strlen(text), &log, NULL), HEARTH_OK);
    cr_assert_eq(log->n_leaves, 2);
    cr_assert_eq(log->leaves[1].index, 2);
    cr_assert_eq(log->leaves[1].len, 2);
    cr_assert_eq(log->leaves[1].data[1], 2);
    client_audit_log_destroy(&log);
}

/* ---- list rows ---------------------------------------------------------------------- */

Test(client_audit_list, rows_group_each_query_and_list_governance_changes)
{
    builder_t b;
    build(&b, NULL);
    client_audit_rows_t *rows = client_audit_list_rows_build(b.log);
    cr_assert_eq(rows->n, 5);
    cr_assert_eq(rows->undecodable, 0);
    const client_audit_row_t *r = rows->rows;
    cr_assert_str_eq(r[0].id, "q1");
    cr_assert_eq(r[0].outcome, CLIENT_AUDIT_RELEASED);
    cr_assert_eq(r[0].leaf, 0);
    cr_assert_eq(r[0].time_ms, MARCH_4);
    cr_assert_str_eq(r[0].analyst, "alice");
    cr_assert_str_eq(r[0].project, "falls");
    cr_assert_eq(r[0].released, 12);
    cr_assert_eq(r[0].suppressed, 3);
    cr_assert_str_eq(r[0].nodes, "trust,council");
    cr_assert_str_eq(r[0].reason, "");
    cr_assert_str_eq(r[1].id, "q2");
    cr_assert_eq(r[1].outcome, CLIENT_AUDIT_REFUSED);
    cr_assert_str_eq(r[1].reason, "project housing has expired");
    cr_assert_str_eq(r[1].nodes, "");
    cr_assert_str_eq(r[2].id, "9");
    cr_assert_eq(r[2].outcome, CLIENT_AUDIT_GOVERNANCE);
    cr_assert_str_eq(r[2].analyst, "admin");
    cr_assert_str_eq(r[2].reason, "project suspend");
    cr_assert_str_eq(r[2].project, "falls");
    cr_assert_str_eq(r[3].id, "q3");
    cr_assert_eq(r[3].outcome, CLIENT_AUDIT_ERRORED);
    cr_assert_str_eq(r[3].reason, "timeout");
    cr_assert_str_eq(r[3].nodes, "trust");
    cr_assert_str_eq(r[4].id, "q4");
    cr_assert_eq(r[4].outcome, CLIENT_AUDIT_INCOMPLETE);
    cr_assert(r[4].received);
    client_audit_list_rows_destroy(&rows);
    cr_assert_null(rows);
    b_free(&b);
}

Test(client_audit_list, rows_of_a_query_seen_without_its_received_event_use_its_first)
{
    builder_t b;
    b_init(&b);
    add(&b, (audit_event_t){.type = AUDIT_REFUSED, .time_ms = 5, .query_id = "q7",
                            .text = "no"});
    add(&b, (audit_event_t){.type = AUDIT_RECEIVED, .time_ms = 9});   /* q "" */
    client_audit_rows_t *rows = client_audit_list_rows_build(b.log);
    cr_assert_eq(rows->n, 2);
    cr_assert_str_eq(rows->rows[0].id, "q7");
    cr_assert_not(rows->rows[0].received);
    cr_assert_eq(rows->rows[0].time_ms, 5);
    cr_assert_str_eq(rows->rows[0].analyst, "");
    cr_assert_eq(rows->rows[0].outcome, CLIENT_AUDIT_REFUSED);
    client_audit_list_rows_destroy(&rows);
    b_free(&b);
}

/* The ids of the rows passing f, space-separated. */
static char *ids(const client_audit_rows_t *rows, const client_audit_filter_t *f)
{
    char buf[256] = "";
    for (size_t i = 0; i < rows->n; i++)
        if (client_audit_list_row_matches(&rows->rows[i], f)) {
            strcat(buf, buf[0] ? " " : "");
            strcat(buf, rows->rows[i].id);
        }
    return hearth_strdup(buf);
}

#define EXPECT_IDS(rows, f, want)                                                           \
    do {                                                                                     \
        char *got_ = ids(rows, f);                                                           \
        cr_expect_str_eq(got_, want);                                                        \
        free(got_);                                                                          \
    } while (0)

Test(client_audit_list, list_filters_select_by_time_project_analyst_and_outcome)
{
    builder_t b;
    build(&b, NULL);
    client_audit_rows_t *rows = client_audit_list_rows_build(b.log);
    EXPECT_IDS(rows, NULL, "q1 q2 9 q3 q4");
    client_audit_filter_t f = {0};
    EXPECT_IDS(rows, &f, "q1 q2 9 q3 q4");
    f.project = "falls";
    EXPECT_IDS(rows, &f, "q1 9 q3 q4");
    f.analyst = "alice";
    EXPECT_IDS(rows, &f, "q1 q3");
    f = (client_audit_filter_t){.has_outcome = true, .outcome = CLIENT_AUDIT_GOVERNANCE};
    EXPECT_IDS(rows, &f, "9");
    f.outcome = CLIENT_AUDIT_INCOMPLETE;
    EXPECT_IDS(rows, &f, "q4");
    f.outcome = CLIENT_AUDIT_ERRORED;
    EXPECT_IDS(rows, &f, "q3");
    f = (client_audit_filter_t){0};
    cr_assert(client_audit_time_parse("2025-03-05", false, &f.since_ms));
    cr_assert(client_audit_time_parse("2025-03-06", true, &f.until_ms));
    EXPECT_IDS(rows, &f, "q2 9");
    f.until_ms = MARCH_4 + 2 * 86400000;   /* exclusive */
    EXPECT_IDS(rows, &f, "q2");
    client_audit_list_rows_destroy(&rows);
    b_free(&b);
}

Test(client_audit_list, list_renders_csv_with_one_line_per_row)
{
    builder_t b;
    build(&b, NULL);
    client_audit_rows_t *rows = client_audit_list_rows_build(b.log);
    client_audit_filter_t f = {.project = "falls"};
    char *csv = client_audit_list_rows_render(rows, &f, CLIENT_FORMAT_CSV);
    cr_assert_str_eq(csv,
        "id,time,analyst,project,outcome,cells_released,cells_suppressed,nodes,reason\n"
        "q1,2025-03-04T10:15:02Z,alice,falls,released,12,3,\"trust,council\",\n"
        "9,2025-03-06T10:15:02Z,admin,falls,governance,,,,project suspend\n"
        "q3,2025-03-07T10:15:02Z,alice,falls,error,,,trust,timeout\n"
        "q4,2025-03-08T10:15:02Z,bob,falls,incomplete,,,,\n");
    free(csv);
    f = (client_audit_filter_t){.analyst = "nobody"};
    csv = client_audit_list_rows_render(rows, &f, CLIENT_FORMAT_CSV);
    cr_assert_str_eq(csv, "id,time,analyst,project,outcome,cells_released,cells_suppressed,"
                          "nodes,reason\n");
    free(csv);
    client_audit_list_rows_destroy(&rows);
    b_free(&b);
}

Test(client_audit_list, list_renders_json_records_and_an_aligned_table)
{
    builder_t b;
    build(&b, NULL);
    client_audit_rows_t *rows = client_audit_list_rows_build(b.log);
    client_audit_filter_t f = {.project = "housing"};
    char *json = client_audit_list_rows_render(rows, &f, CLIENT_FORMAT_JSON);
    cr_assert_str_eq(json,
        "[\n  {\"kind\": \"query\", \"leaf\": 7, \"id\": \"q2\", \"time\": "
        "\"2025-03-05T10:15:02Z\", \"analyst\": \"bob\", \"project\": \"housing\", "
        "\"outcome\": \"refused\", \"cells_released\": null, \"cells_suppressed\": null, "
        "\"nodes\": \"\", \"reason\": \"project housing has expired\"}\n]\n");
    free(json);
    char *table = client_audit_list_rows_render(rows, &f, CLIENT_FORMAT_TABLE);
    cr_assert_str_eq(table,
        "ID  TIME (UTC)            ANALYST  PROJECT  OUTCOME  RELEASED  SUPPRESSED  NODES  "
        "REASON\n"
        "q2  2025-03-05T10:15:02Z  bob      housing  refused                               "
        "project housing has expired\n");
    free(table);
    f.project = "none";
    json = client_audit_list_rows_render(rows, &f, CLIENT_FORMAT_JSON);
    cr_assert_str_eq(json, "[]\n");
    free(json);
    table = client_audit_list_rows_render(rows, &f, CLIENT_FORMAT_TABLE);
    cr_assert_str_eq(table, "no audit entries match\n");
    free(table);
    client_audit_list_rows_destroy(&rows);
    b_free(&b);
}

Test(client_audit_list, outcomes_parse_by_name)
{
    client_audit_outcome_t o;
    cr_assert(client_audit_list_outcome_parse("refused", &o));
    cr_assert_eq(o, CLIENT_AUDIT_REFUSED);
    cr_assert(client_audit_list_outcome_parse("error", &o));
    cr_assert_eq(o, CLIENT_AUDIT_ERRORED);
    cr_assert_not(client_audit_list_outcome_parse("Released", &o));
    cr_assert_not(client_audit_list_outcome_parse(NULL, &o));
}

/* ---- report -------------------------------------------------------------------------------- */

Test(client_audit_report, report_counts_each_project_of_the_month)
{
    builder_t b;
    build(&b, NULL);
    /* An April query, not counted in March. */
    received(&b, APRIL_1, "q5", "alice", "falls");
    refused(&b, APRIL_1 + 1, "q5", "expired");
    client_audit_rows_t *rows = client_audit_list_rows_build(b.log);
    client_audit_report_t *r = client_audit_report_build(rows, "2025-03", NULL);
    cr_assert_not_null(r);
    cr_assert_str_eq(r->month, "2025-03");
    cr_assert_eq(r->n, 2);
    cr_assert_str_eq(r->lines[0].project, "falls");
    cr_assert_eq(r->lines[0].queries, 3);
    cr_assert_eq(r->lines[0].released, 1);
    cr_assert_eq(r->lines[0].refused, 0);
    cr_assert_eq(r->lines[0].errors, 1);
    cr_assert_eq(r->lines[0].incomplete, 1);
    cr_assert_eq(r->lines[0].cells_released, 12);
    cr_assert_eq(r->lines[0].cells_suppressed, 3);
    cr_assert_str_eq(r->lines[1].project, "housing");
    cr_assert_eq(r->lines[1].queries, 1);
    cr_assert_eq(r->lines[1].refused, 1);
    char *csv = client_audit_report_render(r, CLIENT_FORMAT_CSV);
    cr_assert_str_eq(csv,
        "project,queries,released,refused,errors,incomplete,cells_released,cells_suppressed\n"
        "falls,3,1,0,1,1,12,3\n"
        "housing,1,0,1,0,0,0,0\n");
    free(csv);
    char *table = client_audit_report_render(r, CLIENT_FORMAT_TABLE);
    cr_assert_str_eq(table,
        "audit report for 2025-03 (UTC)\n"
        "PROJECT  QUERIES  RELEASED  REFUSED  ERRORS  INCOMPLETE  CELLS RELEASED  "
        "CELLS SUPPRESSED\n"
        "falls          3         1        0       1           1              12  "
        "               3\n"
        "housing        1         0        1       0           0               0  "
        "               0\n"
        "total          4         1        1       1           1              12  "
        "               3\n");
    free(table);
    client_audit_report_destroy(&r);

    r = client_audit_report_build(rows, "2025-04", "falls");
    char *json = client_audit_report_render(r, CLIENT_FORMAT_JSON);
    cr_assert_str_eq(json,
        "{\"month\": \"2025-04\", \"projects\": [\n  {\"project\": \"falls\", \"queries\": 1, "
        "\"released\": 0, \"refused\": 1, \"errors\": 0, \"incomplete\": 0, "
        "\"cells_released\": 0, \"cells_suppressed\": 0}\n]}\n");
    free(json);
    client_audit_report_destroy(&r);
    cr_assert_null(client_audit_report_build(rows, "March", NULL));
    client_audit_list_rows_destroy(&rows);
    b_free(&b);
}

/* ---- show ---------------------------------------------------------------------------------- */

Test(client_audit_show, show_renders_every_field_of_each_event)
{
    builder_t b;
    b_init(&b);
    governance(&b, MARCH_4, "falls", "project add");
    errored(&b, MARCH_4 + 1, "q3", "timeout", "node council\ndid not answer");
    char *text = client_audit_show_render(b.log, CLIENT_FORMAT_TABLE);
    cr_assert_str_eq(text,
        "leaf 0  2025-03-04T10:15:02.000Z  governance\n"
        "    project           falls\n"
        "    actor             admin\n"
        "    action            project add\n"
        "    text              title: Falls\n"
        "\nleaf 1  2025-03-04T10:15:02.001Z  error\n"
        "    query_id          q3\n"
        "    outcome           timeout\n"
        "    text              node council\n"
        "                      did not answer\n");
    free(text);
    char *json = client_audit_show_render(b.log, CLIENT_FORMAT_JSON);
    cr_assert_str_eq(json,
        "[\n  {\"leaf\": 0, \"time\": \"2025-03-04T10:15:02.000Z\", \"type\": \"governance\", "
        "\"project\": \"falls\", \"actor\": \"admin\", \"action\": \"project add\", "
        "\"text\": \"title: Falls\\n\"},\n"
        "  {\"leaf\": 1, \"time\": \"2025-03-04T10:15:02.001Z\", \"type\": \"error\", "
        "\"query_id\": \"q3\", \"outcome\": \"timeout\", "
        "\"text\": \"node council\\ndid not answer\"}\n]\n");
    free(json);
    cr_assert_null(client_audit_show_render(b.log, CLIENT_FORMAT_CSV));
    b_free(&b);
}

Test(client_audit_show, show_says_which_leaf_does_not_decode)
{
    client_audit_log_t *log = client_audit_log_new();
    uint8_t junk[] = {7, 7, 7};
    cr_assert_eq(client_audit_log_add_leaf(log, 4, junk, sizeof junk, NULL), HEARTH_OK);
    char *text = client_audit_show_render(log, CLIENT_FORMAT_TABLE);
    cr_assert(strncmp(text, "leaf 4  does not decode: ", 25) == 0, "%s", text);
    free(text);
    client_audit_log_destroy(&log);
}

/* ---- reconcile ------------------------------------------------------------------------------ */

/* base64 lines, as `hearth-node receipts` prints them. */
static char *receipts_file(const char *const *notes, size_t n)
{
    char buf[8192] = "";
    for (size_t i = 0; i < n; i++) {
        char b64[2048];
        hearth_base64_encode((const uint8_t *)notes[i], strlen(notes[i]), b64);
        strcat(buf, b64);
        strcat(buf, "\n");
    }
    return hearth_strdup(buf);
}

Test(client_audit_reconcile, receipts_file_parses_one_note_per_line)
{
    const char *notes[] = {"first note\n\n\xe2\x80\x94 k sig\n", "second\n\n\xe2\x80\x94 k s\n"};
    char *file = receipts_file(notes, 2);
    char *text = hearth_asprintf("%s\r\n\n", file);   /* blank lines and CRLF tolerated */
    char **got = NULL;
    size_t n = 0;
    cr_assert_eq(client_audit_reconcile_receipts_parse(text, strlen(text), &got, &n, NULL),
                 HEARTH_OK);
    cr_assert_eq(n, 2);
    cr_assert_str_eq(got[0], notes[0]);
    cr_assert_str_eq(got[1], notes[1]);
    for (size_t i = 0; i < n; i++)
        free(got[i]);
    free(got);
    free(text);
    char *cause = NULL;
    text = hearth_asprintf("%snot base64\n", file);
    cr_assert_eq(client_audit_reconcile_receipts_parse(text, strlen(text), &got, &n, &cause),
                 HEARTH_ERR_FORMAT);
    cr_assert_str_eq(cause, "line 3: not the base64 of a signed receipt");
    cr_assert_null(got);
    cr_assert_eq(n, 0);
    free(cause);
    free(text);
    free(file);
}

Test(client_audit_reconcile, reconcile_of_matching_receipts_finds_nothing)
{
    builder_t b;
    char *q1[1];
    b_init(&b);
    received(&b, MARCH_4, "q1", "alice", "falls");
    accepted(&b, MARCH_4, "q1", "falls");
    uint64_t d = dispatched(&b, MARCH_4, "q1", "falls", "trust", 0, 1);
    sign(&b);
    q1[0] = trust_receipt(&b, "q1", 0, 1, d);
    receipt(&b, MARCH_4, "q1", "trust", 0, d, q1[0]);
    released(&b, MARCH_4, "q1", 1, 0);
    client_audit_reconcile_t *r =
        client_audit_reconcile(b.log, "trust", (const char *const *)q1, 1, &K.trust_v);
    cr_assert_eq(r->findings.n, 0);
    cr_assert(r->ok);
    cr_assert_eq(r->receipts, 1);
    cr_assert_eq(r->in_log, 1);
    cr_assert_eq(r->dispatches, 1);
    cr_assert_eq(r->answered, 1);
    client_audit_reconcile_destroy(&r);
    cr_assert_null(r);
    free(q1[0]);
    b_free(&b);
}

Test(client_audit_reconcile,
     reconcile_finds_a_receipt_missing_from_the_log_and_a_dispatch_without_one)
{
    builder_t b;
    char *notes[3];
    build(&b, notes);   /* notes[0]: trust's receipt for q1, which is in the log */
    /* q6: dispatched to trust, which answered and kept its receipt, but the
     * gateway logged a timeout and no RECEIPT leaf. */
    received(&b, MARCH_4, "q6", "alice", "falls");
    accepted(&b, MARCH_4, "q6", "falls");
    uint64_t d6 = dispatched(&b, MARCH_4, "q6", "falls", "trust", 0, 1);
    sign(&b);
    notes[1] = trust_receipt(&b, "q6", 0, 1, d6);
    errored(&b, MARCH_4, "q6", "timeout", "");
    /* A receipt not signed by trust's key. */
    notes[2] = hearth_strdup(b.log->notes[0]);
    client_audit_reconcile_t *r =
        client_audit_reconcile(b.log, "trust", (const char *const *)notes, 3, &K.trust_v);
    tlog_verifier_t *v = &K.trust_v;
    char *text = NULL, *cause = NULL;
    cr_assert_neq(tlog_note_open(notes[2], strlen(notes[2]), v, &text, &cause), HEARTH_OK);
    char *bad = hearth_asprintf("receipt 3 does not verify against node trust's key: %s", cause);
    free(cause);
    cr_assert_eq(r->findings.n, 3);
    cr_assert_str_eq(r->findings.items[0].message,
                     "node trust holds a receipt (number 2) for query q6 part 0, dispatched at "
                     "leaf 17, that the gateway log lacks");
    cr_assert_eq(r->findings.items[0].leaf, 17);
    cr_assert_str_eq(r->findings.items[1].message, bad);
    cr_assert_eq(r->findings.items[1].leaf, CLIENT_AUDIT_NO_LEAF);
    /* q3's dispatch (leaf 12) has no receipt anywhere: the node never
     * answered (the query timed out). */
    cr_assert_str_eq(r->findings.items[2].message,
                     "the dispatch at leaf 12 (query q3 part 0) has no receipt in node trust's "
                     "file");
    cr_assert_eq(r->findings.items[2].leaf, 12);
    cr_assert_not(r->ok);
    cr_assert_eq(r->receipts, 3);
    cr_assert_eq(r->in_log, 1);
    cr_assert_eq(r->dispatches, 3);
    cr_assert_eq(r->answered, 2);
    free(bad);
    client_audit_reconcile_destroy(&r);
    for (size_t i = 0; i < 3; i++)
        free(notes[i]);
    b_free(&b);
}

Test(client_audit_reconcile, reconcile_says_when_an_unanswered_dispatch_never_completed)
{
    builder_t b;
    b_init(&b);
    received(&b, MARCH_4, "q1", "alice", "falls");
    accepted(&b, MARCH_4, "q1", "falls");
    dispatched(&b, MARCH_4, "q1", "falls", "trust", 0, 1);
    sign(&b);
    client_audit_reconcile_t *r = client_audit_reconcile(b.log, "trust", NULL, 0, &K.trust_v);
    cr_assert_eq(r->findings.n, 1);
    cr_assert_str_eq(r->findings.items[0].message,
                     "the dispatch at leaf 2 (query q1 part 0) has no receipt in node trust's "
                     "file (the query was not completed)");
    cr_assert_not(r->ok);
    client_audit_reconcile_destroy(&r);
    b_free(&b);
}
