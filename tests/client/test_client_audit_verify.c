#include "audit_event.h"
#include "audit_receipt.h"
#include "client_audit_verify.h"
#include "hearth_mem.h"
#include "keys_sign.h"
#include "tlog_checkpoint.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Logs are built in memory exactly as the gateway writes them: canonical
 * leaves (audit_event_encode), checkpoints signed with a real Ed25519 key,
 * and receipts signed by real node keys over audit_receipt text.
 *
 * The gateway's key is the example key of golang.org/x/mod/sumdb/note
 * (note_test.go), "PeterNeumann"; other keys (an impostor gateway key of the
 * same name, the nodes' keys) are generated in a temporary folder. */
static const char GW_SIGNER[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
static const char GW_VKEY[] = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

#define T0 1741083302000ull   /* 2025-03-04T10:15:02Z */
#define MAXL 64
#define MAXC 16

typedef struct {
    client_audit_leaf_t leaves[MAXL];
    size_t n;
    char *notes[MAXC];
    size_t nn;
    tlog_memtree_t *tree;
} tlog_t;

typedef struct {
    keys_signer_t *gw, *impostor, *trust, *council;
    tlog_verifier_t gw_v;
    client_audit_node_key_t node_keys[2];
    char dir[64];
} keys_t;

static keys_t K;

static keys_signer_t *generate(const char *name, const char *file)
{
    char prefix[128], path[160];
    snprintf(prefix, sizeof prefix, "%s/%s", K.dir, file);
    char *cause = NULL;
    cr_assert_eq(keys_sign_generate(prefix, name, &cause), HEARTH_OK, "%s", cause);
    keys_signer_t *s = NULL;
    snprintf(path, sizeof path, "%s.signer", prefix);
    cr_assert_eq(keys_signer_load(path, &s, &cause), HEARTH_OK, "%s", cause);
    unlink(path);
    snprintf(path, sizeof path, "%s.vkey", prefix);
    unlink(path);
    return s;
}

static void node_verifier(keys_signer_t *s, const char *node, client_audit_node_key_t *out)
{
    uint8_t pub[KEYS_SIGN_PUBLIC_LEN];
    keys_signer_public(s, pub);
    char *text = tlog_verifier_format(keys_signer_name(s), pub);
    cr_assert_eq(tlog_verifier_parse(text, &out->key, NULL), HEARTH_OK);
    free(text);
    out->node = node;
}

static void setup(void)
{
    char *cause = NULL;
    cr_assert_eq(keys_signer_parse(GW_SIGNER, &K.gw, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(tlog_verifier_parse(GW_VKEY, &K.gw_v, &cause), HEARTH_OK, "%s", cause);
    snprintf(K.dir, sizeof K.dir, "/tmp/hearth-audit-verify-XXXXXX");
    cr_assert_not_null(mkdtemp(K.dir));
    K.impostor = generate("PeterNeumann", "impostor");
    K.trust = generate("trust-audit", "trust");
    K.council = generate("council-audit", "council");
    node_verifier(K.trust, "trust", &K.node_keys[0]);
    node_verifier(K.council, "council", &K.node_keys[1]);
}

static void teardown(void)
{
    keys_signer_destroy(&K.gw);
    keys_signer_destroy(&K.impostor);
    keys_signer_destroy(&K.trust);
    keys_signer_destroy(&K.council);
    rmdir(K.dir);
}

TestSuite(client_audit_verify, .init = setup, .fini = teardown);

/* ---- building logs ---------------------------------------------------------- */

static void log_init(tlog_t *t)
{
    memset(t, 0, sizeof *t);
    t->tree = tlog_memtree_new();
}

static void log_free(tlog_t *t)
{
    for (size_t i = 0; i < t->n; i++)
        free(t->leaves[i].data);
    for (size_t i = 0; i < t->nn; i++)
        free(t->notes[i]);
    tlog_memtree_destroy(&t->tree);
}

static uint64_t append(tlog_t *t, const audit_event_t *ev)
{
    uint8_t *data = NULL;
    size_t len = 0;
    char *cause = NULL;
    cr_assert_eq(audit_event_encode(ev, &data, &len, &cause), HEARTH_OK, "%s", cause);
    cr_assert_lt(t->n, MAXL);
    t->leaves[t->n] = (client_audit_leaf_t){t->n, data, len};
    tlog_memtree_append(t->tree, data, len);
    return t->n++;
}

static void root_of(tlog_t *t, uint64_t size, uint8_t root[TLOG_HASH_LEN])
{
    cr_assert_eq(tlog_root(tlog_memtree_subtree, t->tree, size, root, NULL), HEARTH_OK);
}

/* Signs a checkpoint of the log's current size with signer. */
static void checkpoint(tlog_t *t, const keys_signer_t *signer)
{
    tlog_checkpoint_t cp = {.size = t->n};
    snprintf(cp.origin, sizeof cp.origin, "%s", keys_signer_name(signer));
    root_of(t, t->n, cp.root);
    char *cause = NULL;
    cr_assert_lt(t->nn, MAXC);
    cr_assert_eq(tlog_checkpoint_sign(signer, &cp, &t->notes[t->nn], &cause), HEARTH_OK, "%s",
                 cause);
    t->nn++;
}

static uint64_t received(tlog_t *t, const char *q, const char *analyst, const char *project)
{
    audit_event_t e = {.type = AUDIT_RECEIVED, .time_ms = T0 + t->n, .query_id = (char *)q,
                       .analyst = (char *)analyst, .analyst_key = "Z85KEYZ85KEY",
                       .project = (char *)project,
                       .text = "SELECT COUNT(*) FROM trust.ae"};
    return append(t, &e);
}

static uint64_t accepted(tlog_t *t, const char *q, const char *project, const char *datasets)
{
    audit_event_t e = {.type = AUDIT_ACCEPTED, .time_ms = T0 + t->n, .query_id = (char *)q,
                       .project = (char *)project, .text = "threshold 7, rounding 5",
                       .dataset = (char *)datasets};
    return append(t, &e);
}

static uint64_t dispatched(tlog_t *t, const char *q, const char *project, const char *node,
                           const char *dataset, uint64_t part, uint64_t nparts)
{
    audit_event_t e = {.type = AUDIT_DISPATCHED, .time_ms = T0 + t->n, .query_id = (char *)q,
                       .project = (char *)project, .node = (char *)node,
                       .dataset = (char *)dataset, .kind = "aggregate", .part = part,
                       .nparts = nparts};
    return append(t, &e);
}

/* The node's signed receipt for the dispatch at leaf `leaf`, having
 * verified the checkpoint of size `size`. */
static char *receipt_note(tlog_t *t, const keys_signer_t *node_key, const char *node,
                          const char *q, uint32_t part, uint32_t nparts, uint64_t leaf,
                          uint64_t size, bool answered)
{
    audit_receipt_t r = {.part = part, .nparts = nparts, .leaf = leaf, .size = size,
                         .answered = answered};
    snprintf(r.node, sizeof r.node, "%s", node);
    snprintf(r.query_id, sizeof r.query_id, "%s", q);
    root_of(t, size, r.root);
    char *text = audit_receipt_format(&r);
    cr_assert_not_null(text);
    char *note = NULL, *cause = NULL;
    cr_assert_eq(tlog_note_sign(node_key, text, &note, &cause), HEARTH_OK, "%s", cause);
    free(text);
    return note;
}

static uint64_t receipt_leaf(tlog_t *t, const char *q, const char *node, uint64_t part,
                             uint64_t leaf, const char *note, bool answered)
{
    audit_event_t e = {.type = AUDIT_RECEIPT, .time_ms = T0 + t->n, .query_id = (char *)q,
                       .text = (char *)note, .node = (char *)node, .part = part, .leaf = leaf,
                       .outcome = answered ? "answered" : "refused"};
    return append(t, &e);
}

static uint64_t receipt(tlog_t *t, const keys_signer_t *node_key, const char *node,
                        const char *q, uint32_t part, uint32_t nparts, uint64_t leaf,
                        uint64_t size)
{
    char *note = receipt_note(t, node_key, node, q, part, nparts, leaf, size, true);
    uint64_t i = receipt_leaf(t, q, node, part, leaf, note, true);
    free(note);
    return i;
}

static uint64_t released(tlog_t *t, const char *q, uint64_t cells, uint64_t suppressed)
{
    audit_event_t e = {.type = AUDIT_RELEASED, .time_ms = T0 + t->n, .query_id = (char *)q,
                       .text = "threshold 7", .released = cells, .suppressed = suppressed};
    memset(e.result_hash, 0xab, sizeof e.result_hash);
    return append(t, &e);
}

static uint64_t refused(tlog_t *t, const char *q, const char *reason)
{
    audit_event_t e = {.type = AUDIT_REFUSED, .time_ms = T0 + t->n, .query_id = (char *)q,
                       .text = (char *)reason};
    return append(t, &e);
}

static uint64_t governance(tlog_t *t, const char *project, const char *action)
{
    audit_event_t e = {.type = AUDIT_GOVERNANCE, .time_ms = T0 + t->n, .project = (char *)project,
                       .text = "title: Falls\n", .actor = "admin", .action = (char *)action};
    return append(t, &e);
}

/* The clean log every test starts from:
 *   0 received q1   1 accepted q1   2 dispatched q1 trust   3 dispatched q1 council
 *   [checkpoint 4]
 *   4 receipt trust 5 receipt council 6 released q1 7 received q2  8 refused q2
 *   [checkpoint 9]
 *   9 governance     [checkpoint 10]
 * with_council_receipt false leaves out leaf 5 (and everything shifts down). */
static void build(tlog_t *t, bool with_council_receipt)
{
    log_init(t);
    received(t, "q1", "alice", "falls");
    accepted(t, "q1", "falls", "trust.ae, council.housing");
    uint64_t d0 = dispatched(t, "q1", "falls", "trust", "trust.ae", 0, 2);
    uint64_t d1 = dispatched(t, "q1", "falls", "council", "council.housing", 1, 2);
    checkpoint(t, K.gw);
    receipt(t, K.trust, "trust", "q1", 0, 2, d0, 4);
    if (with_council_receipt)
        receipt(t, K.council, "council", "q1", 1, 2, d1, 4);
    released(t, "q1", 5, 1);
    received(t, "q2", "bob", "housing");
    refused(t, "q2", "project housing has expired");
    checkpoint(t, K.gw);
    governance(t, "falls", "project add");
    checkpoint(t, K.gw);
}

static client_audit_verify_in_t input(const tlog_t *t)
{
    client_audit_verify_in_t in = {.leaves = t->leaves, .n_leaves = t->n,
                                   .checkpoints = (const char *const *)t->notes,
                                   .n_checkpoints = t->nn, .gateway = &K.gw_v,
                                   .node_keys = K.node_keys, .n_node_keys = 2};
    return in;
}

/* Asserts the verdict's findings are exactly these (severity, leaf,
 * message) triples, in order. */
typedef struct {
    client_audit_severity_t severity;
    uint64_t leaf;
    const char *message;
} want_t;

static void expect(const client_audit_verdict_t *v, const want_t *want, size_t n)
{
    for (size_t i = 0; i < v->findings.n; i++)
        cr_log_info("finding %zu: %d %llu %s", i, v->findings.items[i].severity,
                    (unsigned long long)v->findings.items[i].leaf, v->findings.items[i].message);
    cr_assert_eq(v->findings.n, n, "%zu findings, expected %zu", v->findings.n, n);
    for (size_t i = 0; i < n; i++) {
        cr_expect_eq(v->findings.items[i].severity, want[i].severity, "finding %zu", i);
        cr_expect_eq(v->findings.items[i].leaf, want[i].leaf, "finding %zu", i);
        cr_expect_str_eq(v->findings.items[i].message, want[i].message, "finding %zu", i);
    }
}

#define NO CLIENT_AUDIT_NO_LEAF
#define INTEGRITY CLIENT_AUDIT_INTEGRITY
#define SEMANTICS CLIENT_AUDIT_SEMANTICS
#define NOTE CLIENT_AUDIT_NOTE

/* ---- tests ------------------------------------------------------------------- */

Test(client_audit_verify, clean_log_verifies_with_every_count_right)
{
    tlog_t t;
    build(&t, true);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    expect(v, NULL, 0);
    cr_assert(v->ok);
    cr_assert_eq(v->leaves, 10);
    cr_assert_eq(v->checkpoints, 3);
    cr_assert_eq(v->queries, 2);
    cr_assert_eq(v->released, 1);
    cr_assert_eq(v->refused, 1);
    cr_assert_eq(v->errors, 0);
    cr_assert_eq(v->incomplete, 0);
    cr_assert_eq(v->dispatched, 2);
    cr_assert_eq(v->receipts, 2);
    cr_assert_eq(v->receipts_signed, 2);
    cr_assert_eq(v->governance, 1);
    cr_assert(v->has_newest);
    cr_assert_eq(v->newest.size, 10);
    cr_assert_eq(v->newest_note, 2);
    client_audit_verify_destroy(&v);
    cr_assert_null(v);
    log_free(&t);
}

Test(client_audit_verify, receipts_are_checked_without_node_keys_but_not_their_signatures)
{
    tlog_t t;
    build(&t, true);
    client_audit_verify_in_t in = input(&t);
    in.n_node_keys = 0;
    client_audit_verdict_t *v = client_audit_verify(&in);
    expect(v, NULL, 0);
    cr_assert(v->ok);
    cr_assert_eq(v->receipts, 2);
    cr_assert_eq(v->receipts_signed, 0);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, empty_log_verifies)
{
    client_audit_verify_in_t in = {.gateway = &K.gw_v};
    client_audit_verdict_t *v = client_audit_verify(&in);
    expect(v, NULL, 0);
    cr_assert(v->ok);
    cr_assert_not(v->has_newest);
    client_audit_verify_destroy(&v);
}

Test(client_audit_verify, edited_leaf_byte_fails_every_checkpoint_after_it)
{
    tlog_t t;
    build(&t, true);
    /* "bob" becomes "cob" in leaf 7: still a valid event. */
    uint8_t *p = memmem(t.leaves[7].data, t.leaves[7].len, "bob", 3);
    cr_assert_not_null(p);
    p[0] = 'c';
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, NO, "the checkpoint of size 9 does not match the leaves: a leaf in 4..8 was "
                        "changed, removed or reordered after it was signed"},
        {INTEGRITY, NO, "the later checkpoint of size 10 does not match either"},
    };
    expect(v, want, 2);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, edited_leaf_that_no_longer_decodes_is_named)
{
    tlog_t t;
    build(&t, true);
    t.leaves[9].data[0] = 9;   /* format version 9 */
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    cr_assert_eq(v->findings.n, 2);
    cr_assert_str_eq(v->findings.items[0].message,
                     "the checkpoint of size 10 does not match the leaves: a leaf in 9..9 was "
                     "changed, removed or reordered after it was signed");
    cr_assert_eq(v->findings.items[1].leaf, 9);
    cr_assert_eq(v->findings.items[1].severity, INTEGRITY);
    cr_assert(strncmp(v->findings.items[1].message, "the leaf does not decode: ", 26) == 0);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, deleted_leaf_is_a_gap_and_breaks_the_checkpoints)
{
    tlog_t t;
    build(&t, true);
    /* Leaf 5 (council's receipt) removed; the others keep their indexes. */
    free(t.leaves[5].data);
    memmove(&t.leaves[5], &t.leaves[6], (t.n - 6) * sizeof *t.leaves);
    t.n--;
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, 5, "leaf 5 is missing (the next leaf has index 6)"},
        {INTEGRITY, NO, "the checkpoint of size 9 does not match the leaves: a leaf in 4..8 was "
                        "changed, removed or reordered after it was signed"},
        {INTEGRITY, NO, "the checkpoint of size 10 covers more than the 9 leaves fetched: "
                        "leaves are missing"},
        {SEMANTICS, 6, "query q1 released without node council's receipt for part 1 "
                       "(dispatched at leaf 3)"},
    };
    expect(v, want, 4);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, deleted_and_renumbered_leaf_fails_the_checkpoints)
{
    tlog_t t;
    build(&t, true);
    free(t.leaves[5].data);
    memmove(&t.leaves[5], &t.leaves[6], (t.n - 6) * sizeof *t.leaves);
    t.n--;
    for (size_t i = 5; i < t.n; i++)
        t.leaves[i].index = i;
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, NO, "the checkpoint of size 9 does not match the leaves: a leaf in 4..8 was "
                        "changed, removed or reordered after it was signed"},
        {INTEGRITY, NO, "the checkpoint of size 10 covers more than the 9 leaves fetched: "
                        "leaves are missing"},
        {SEMANTICS, 5, "query q1 released without node council's receipt for part 1 "
                       "(dispatched at leaf 3)"},
    };
    expect(v, want, 3);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, reordered_leaves_fail_the_checkpoints_and_the_sequence)
{
    tlog_t t;
    build(&t, true);
    /* Swap the contents of leaves 7 (received q2) and 8 (refused q2). */
    client_audit_leaf_t tmp = t.leaves[7];
    t.leaves[7].data = t.leaves[8].data;
    t.leaves[7].len = t.leaves[8].len;
    t.leaves[8].data = tmp.data;
    t.leaves[8].len = tmp.len;
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, NO, "the checkpoint of size 9 does not match the leaves: a leaf in 4..8 was "
                        "changed, removed or reordered after it was signed"},
        {INTEGRITY, NO, "the later checkpoint of size 10 does not match either"},
        {SEMANTICS, 7, "refused event of query q2 before it was received (at leaf 8)"},
    };
    expect(v, want, 3);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, truncated_log_resigned_with_another_key_proves_nothing)
{
    tlog_t t;
    build(&t, true);
    /* Keep leaves 0..6; replace every checkpoint with one of size 7 signed
     * by an impostor key of the same name. */
    for (size_t i = 7; i < t.n; i++)
        free(t.leaves[i].data);
    t.n = 7;
    for (size_t i = 0; i < t.nn; i++)
        free(t.notes[i]);
    t.nn = 0;
    tlog_memtree_destroy(&t.tree);
    t.tree = tlog_memtree_new();
    for (size_t i = 0; i < t.n; i++)
        tlog_memtree_append(t.tree, t.leaves[i].data, t.leaves[i].len);
    checkpoint(&t, K.impostor);
    /* The signature check's own words, quoted in the finding. */
    tlog_checkpoint_t cp;
    char *cause = NULL;
    cr_assert_neq(tlog_checkpoint_open(t.notes[0], strlen(t.notes[0]), &K.gw_v, &cp, &cause),
                  HEARTH_OK);
    char *first = hearth_asprintf("checkpoint 1 of 1 does not verify against the gateway audit "
                                  "key PeterNeumann: %s", cause);
    free(cause);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, NO, first},
        {INTEGRITY, NO, "no checkpoint verifies against the gateway audit key PeterNeumann: "
                        "nothing in the log is proven"},
    };
    expect(v, want, 2);
    cr_assert_not(v->ok);
    cr_assert_not(v->has_newest);
    free(first);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

/* The checkpoint of size 10 of the clean log, as a previous verify stored. */
static tlog_checkpoint_t accepted_before(tlog_t *t, uint64_t size)
{
    tlog_checkpoint_t cp = {.size = size};
    snprintf(cp.origin, sizeof cp.origin, "PeterNeumann");
    root_of(t, size, cp.root);
    return cp;
}

Test(client_audit_verify, consistent_growth_since_the_accepted_checkpoint_verifies)
{
    tlog_t t;
    build(&t, true);
    client_audit_verify_in_t in = input(&t);
    in.has_previous = true;
    in.previous = accepted_before(&t, 9);
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    size_t n = 0;
    cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t.tree, 9, 10, proof, &n, NULL),
                 HEARTH_OK);
    in.has_proof = true;
    in.proof_size = 10;
    in.proof = (const uint8_t (*)[TLOG_HASH_LEN])proof;
    in.n_proof = n;
    client_audit_verdict_t *v = client_audit_verify(&in);
    expect(v, NULL, 0);
    cr_assert(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, rewritten_history_resigned_with_the_same_key_fails_consistency)
{
    tlog_t honest;
    build(&honest, true);
    tlog_checkpoint_t before = accepted_before(&honest, 10);
    log_free(&honest);

    /* The gateway (its key compromised, or its operator dishonest) drops
     * q2 and the governance change, writes other leaves in their place and
     * re-signs: a log of 11 leaves that verifies on its own. */
    tlog_t t;
    log_init(&t);
    received(&t, "q1", "alice", "falls");
    accepted(&t, "q1", "falls", "trust.ae, council.housing");
    uint64_t d0 = dispatched(&t, "q1", "falls", "trust", "trust.ae", 0, 2);
    uint64_t d1 = dispatched(&t, "q1", "falls", "council", "council.housing", 1, 2);
    checkpoint(&t, K.gw);
    receipt(&t, K.trust, "trust", "q1", 0, 2, d0, 4);
    receipt(&t, K.council, "council", "q1", 1, 2, d1, 4);
    released(&t, "q1", 5, 1);
    received(&t, "q2", "carol", "housing");
    refused(&t, "q2", "project housing has expired");
    governance(&t, "falls", "project suspend");
    governance(&t, "falls", "project resume");
    checkpoint(&t, K.gw);
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    size_t n = 0;
    cr_assert_eq(tlog_consistency_proof(tlog_memtree_subtree, t.tree, 10, 11, proof, &n, NULL),
                 HEARTH_OK);
    client_audit_verify_in_t in = input(&t);
    in.has_previous = true;
    in.previous = before;
    in.has_proof = true;
    in.proof_size = 11;
    in.proof = (const uint8_t (*)[TLOG_HASH_LEN])proof;
    in.n_proof = n;
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, NO, "the leaves do not reproduce the checkpoint accepted before (size 10): "
                        "the log before leaf 10 was rewritten"},
        {INTEGRITY, NO, "the consistency proof from the checkpoint accepted before (size 10) to "
                        "the checkpoint of size 11 does not verify: the log was rewritten"},
    };
    expect(v, want, 2);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, truncated_log_resigned_with_the_same_key_is_behind_the_accepted_one)
{
    tlog_t t;
    build(&t, true);
    tlog_checkpoint_t before = accepted_before(&t, 10);
    for (size_t i = 7; i < t.n; i++)
        free(t.leaves[i].data);
    t.n = 7;
    for (size_t i = 0; i < t.nn; i++)
        free(t.notes[i]);
    t.nn = 0;
    tlog_memtree_destroy(&t.tree);
    t.tree = tlog_memtree_new();
    for (size_t i = 0; i < t.n; i++)
        tlog_memtree_append(t.tree, t.leaves[i].data, t.leaves[i].len);
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    in.has_previous = true;
    in.previous = before;
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {INTEGRITY, NO, "the newest checkpoint (size 7) is smaller than the one accepted before "
                        "(size 10): the log was truncated"},
        {INTEGRITY, NO, "the checkpoint accepted before (size 10) covers more than the 7 leaves "
                        "fetched: leaves were removed"},
    };
    expect(v, want, 2);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, dispatch_without_received_or_accepted_is_a_semantic_error)
{
    tlog_t t;
    log_init(&t);
    dispatched(&t, "q9", "falls", "trust", "trust.ae", 0, 1);
    received(&t, "q8", "alice", "falls");
    dispatched(&t, "q8", "falls", "trust", "trust.ae", 0, 1);
    refused(&t, "q8", "node trust refused");
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {SEMANTICS, 0, "dispatched event of query q9, which was never received"},
        {SEMANTICS, 0, "query q9 dispatched to node trust without being accepted"},
        {SEMANTICS, 2, "query q8 dispatched to node trust without being accepted"},
    };
    expect(v, want, 3);
    cr_assert_not(v->ok);
    cr_assert_eq(v->queries, 1);
    cr_assert_eq(v->refused, 1);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, release_missing_a_receipt_is_a_semantic_error)
{
    tlog_t t;
    build(&t, false);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {SEMANTICS, 5, "query q1 released without node council's receipt for part 1 "
                       "(dispatched at leaf 3)"},
    };
    expect(v, want, 1);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, release_after_a_refusing_receipt_is_a_semantic_error)
{
    tlog_t t;
    log_init(&t);
    received(&t, "q1", "alice", "falls");
    accepted(&t, "q1", "falls", "trust.ae");
    uint64_t d = dispatched(&t, "q1", "falls", "trust", "trust.ae", 0, 1);
    checkpoint(&t, K.gw);
    char *note = receipt_note(&t, K.trust, "trust", "q1", 0, 1, d, 3, false);
    receipt_leaf(&t, "q1", "trust", 0, d, note, false);
    free(note);
    released(&t, "q1", 1, 0);
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {SEMANTICS, 4, "query q1 released although node trust refused part 0 (dispatched at "
                       "leaf 2)"},
    };
    expect(v, want, 1);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, receipt_for_an_unknown_dispatch_is_a_semantic_error)
{
    tlog_t t;
    build(&t, true);
    /* q2 (refused before dispatch) gets a receipt naming q1's dispatch. */
    char *note = receipt_note(&t, K.trust, "trust", "q2", 0, 2, 2, 4, true);
    receipt_leaf(&t, "q2", "trust", 0, 2, note, true);
    free(note);
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {SEMANTICS, 10, "receipt for an unknown dispatch: leaf 2 is not an earlier dispatch of "
                        "query q2 part 0 to node trust"},
    };
    expect(v, want, 1);
    cr_assert_not(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, receipt_with_a_forged_signature_is_an_integrity_error)
{
    tlog_t t;
    log_init(&t);
    received(&t, "q1", "alice", "falls");
    accepted(&t, "q1", "falls", "trust.ae");
    uint64_t d = dispatched(&t, "q1", "falls", "trust", "trust.ae", 0, 1);
    checkpoint(&t, K.gw);
    /* Signed by council's key, claimed as trust's receipt. */
    char *note = receipt_note(&t, K.council, "trust", "q1", 0, 1, d, 3, true);
    receipt_leaf(&t, "q1", "trust", 0, d, note, true);
    tlog_verifier_t *trust = &K.node_keys[0].key;
    char *text = NULL, *cause = NULL;
    cr_assert_neq(tlog_note_open(note, strlen(note), trust, &text, &cause), HEARTH_OK);
    char *msg = hearth_asprintf("node trust's signature on the receipt does not verify: %s",
                                cause);
    free(cause);
    free(note);
    released(&t, "q1", 1, 0);
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {{INTEGRITY, 3, msg}};
    expect(v, want, 1);
    free(msg);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, receipt_naming_another_tree_is_an_integrity_error)
{
    tlog_t t;
    log_init(&t);
    received(&t, "q1", "alice", "falls");
    accepted(&t, "q1", "falls", "trust.ae");
    uint64_t d = dispatched(&t, "q1", "falls", "trust", "trust.ae", 0, 1);
    checkpoint(&t, K.gw);
    /* The node was shown a checkpoint of size 3 over other leaves. */
    tlog_t other;
    log_init(&other);
    received(&other, "q0", "mallory", "falls");
    accepted(&other, "q0", "falls", "trust.ae");
    dispatched(&other, "q0", "falls", "trust", "trust.ae", 0, 1);
    char *note = receipt_note(&other, K.trust, "trust", "q1", 0, 1, d, 3, true);
    receipt_leaf(&t, "q1", "trust", 0, d, note, true);
    free(note);
    log_free(&other);
    released(&t, "q1", 1, 0);
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {{INTEGRITY, 3, "node trust verified a checkpoint of size 3 whose root is "
                                    "not the log's root at that size"}};
    expect(v, want, 1);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, second_outcome_and_events_after_it_are_semantic_errors)
{
    tlog_t t;
    log_init(&t);
    received(&t, "q1", "alice", "falls");
    refused(&t, "q1", "not a member");
    accepted(&t, "q1", "falls", "trust.ae");
    refused(&t, "q1", "again");
    received(&t, "q1", "alice", "falls");
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {SEMANTICS, 2, "query q1 accepted after its outcome (leaf 1)"},
        {SEMANTICS, 3, "a second outcome (refused) for query q1, already refused at leaf 1"},
        {SEMANTICS, 4, "query q1 received a second time (first at leaf 0)"},
    };
    expect(v, want, 3);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, received_but_not_completed_is_a_note_and_verifies)
{
    tlog_t t;
    build(&t, true);
    /* The gateway was killed after committing q3's dispatch. */
    uint64_t r = received(&t, "q3", "alice", "falls");
    accepted(&t, "q3", "falls", "trust.ae");
    dispatched(&t, "q3", "falls", "trust", "trust.ae", 0, 1);
    checkpoint(&t, K.gw);
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {NOTE, r, "query q3 received, not completed (no released, refused or error outcome)"},
    };
    expect(v, want, 1);
    cr_assert(v->ok);
    cr_assert_eq(v->queries, 3);
    cr_assert_eq(v->incomplete, 1);
    cr_assert_eq(v->newest.size, 13);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, leaves_after_the_newest_checkpoint_are_a_note)
{
    tlog_t t;
    build(&t, true);
    governance(&t, "falls", "project suspend");
    client_audit_verify_in_t in = input(&t);
    client_audit_verdict_t *v = client_audit_verify(&in);
    want_t want[] = {
        {NOTE, 10, "leaf 10 was appended after the newest checkpoint (size 10) and is not "
                   "yet covered by a signature"},
    };
    expect(v, want, 1);
    cr_assert(v->ok);
    client_audit_verify_destroy(&v);
    governance(&t, "falls", "project resume");
    in = input(&t);
    v = client_audit_verify(&in);
    want[0].message = "leaves 10..11 were appended after the newest checkpoint (size 10) and "
                      "are not yet covered by a signature";
    expect(v, want, 1);
    cr_assert(v->ok);
    client_audit_verify_destroy(&v);
    log_free(&t);
}

Test(client_audit_verify, note_text_is_everything_before_the_blank_line)
{
    const char note[] = "origin\n3\nroot=\n\n\xe2\x80\x94 k sig\n";
    char *text = client_audit_verify_note_text(note, strlen(note));
    cr_assert_str_eq(text, "origin\n3\nroot=\n");
    free(text);
    cr_assert_null(client_audit_verify_note_text("no blank line\n", 14));
}
