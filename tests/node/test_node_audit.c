/* Tests for node_audit: with real proofs built here (an in-memory RFC 6962
 * tree of real leaves, checkpoints signed by a real Ed25519 key), a logged
 * dispatch is accepted and its checkpoint stored; a dispatch is refused,
 * with the stated reason and nothing stored, when it carries no proof, a
 * checkpoint signed by another key or edited after signing, an inclusion
 * proof of another leaf, a leaf index past the checkpoint, a leaf naming
 * another node, query, part, part count, project, dataset or kind, a leaf
 * of another type, a consistency proof that is wrong, starts elsewhere or
 * is not empty from nothing, a checkpoint older than the stored one, or
 * one of the same size with another root. The stored checkpoint advances
 * only forwards and survives reopening the ledger; receipts are exactly
 * the audit_receipt text, signed so that the node's verifier key opens
 * them. */
#include "audit_event.h"
#include "audit_receipt.h"
#include "hearth_base64.h"
#include "keys_sign.h"
#include "node_audit.h"
#include "node_ledger.h"
#include "tlog_checkpoint.h"
#include "tlog_merkle.h"
#include "tlog_note.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define AGG HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE
#define COHORT HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT
#define TARGET HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET

#define QID "0123456789abcdef0123456789abcdef"
#define LOG "gateway-audit"

static struct {
    char dir[64];
    char ledger_path[128];
    keys_signer_t *gateway;      /* the log's key, which the node pins */
    keys_signer_t *impostor;     /* another key under the same name */
    keys_signer_t *other_log;    /* another log's key */
    keys_signer_t *node;         /* the node's receipt key */
    tlog_verifier_t pinned;
    tlog_verifier_t node_v;
    tlog_memtree_t *tree;
    node_ledger_t *ledger;
    node_audit_t *audit;
} fx;

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static void must(hearth_err_t rc, char *cause)
{
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_OK, "rc %d: %s", rc, got);
}

/* Generates a key pair dir/prefix named name; loads the signer and, when
 * v is not NULL, the verifier. */
static keys_signer_t *key(const char *prefix, const char *name, tlog_verifier_t *v)
{
    char path[160];
    snprintf(path, sizeof path, "%s/%s", fx.dir, prefix);
    char *cause = NULL;
    must(keys_sign_generate(path, name, &cause), cause);
    keys_signer_t *s = NULL;
    snprintf(path, sizeof path, "%s/%s.signer", fx.dir, prefix);
    must(keys_signer_load(path, &s, &cause), cause);
    if (v) {
        snprintf(path, sizeof path, "%s/%s.vkey", fx.dir, prefix);
        must(tlog_verifier_load(path, v, &cause), cause);
    }
    return s;
}

static void open_audit(void)
{
    char *cause = NULL;
    must(node_ledger_open(fx.ledger_path, &fx.ledger, &cause), cause);
    must(node_audit_new(&fx.pinned, "trust", fx.ledger, &fx.audit, &cause), cause);
}

static void close_audit(void)
{
    node_audit_destroy(&fx.audit);
    node_ledger_destroy(&fx.ledger);
}

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    strcpy(fx.dir, "/tmp/hearth-nodeaudit-XXXXXX");
    cr_assert_not_null(mkdtemp(fx.dir));
    snprintf(fx.ledger_path, sizeof fx.ledger_path, "%s/trust.db.ledger", fx.dir);
    fx.gateway = key("gateway", LOG, &fx.pinned);
    fx.impostor = key("impostor", LOG, NULL);
    fx.other_log = key("other", "other-log", NULL);
    fx.node = key("trust-audit", "trust-audit", &fx.node_v);
    fx.tree = tlog_memtree_new();
    open_audit();
}

static void teardown(void)
{
    close_audit();
    tlog_memtree_destroy(&fx.tree);
    keys_signer_destroy(&fx.gateway);
    keys_signer_destroy(&fx.impostor);
    keys_signer_destroy(&fx.other_log);
    keys_signer_destroy(&fx.node);
    nftw(fx.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(node_audit, .init = setup, .fini = teardown);

/* ---- the log, built here ------------------------------------------------ */

/* What one DISPATCHED leaf says. */
typedef struct {
    audit_type_t type;
    const char *query_id, *node, *dataset, *kind, *project;
    uint64_t part, nparts;
} leaf_t;

/* The leaf of part 0 of 1 of QID: an aggregate of trust.ae under p1. */
static leaf_t dispatch(void)
{
    return (leaf_t){AUDIT_DISPATCHED, QID, "trust", "trust.ae", "aggregate", "p1", 0, 1};
}

/* Encodes l (caller frees *out). */
static void encode(const leaf_t *l, uint8_t **out, size_t *len)
{
    audit_event_t ev;
    memset(&ev, 0, sizeof ev);
    ev.type = l->type;
    ev.time_ms = 1700000000000ull;
    ev.query_id = (char *)l->query_id;
    ev.node = (char *)l->node;
    ev.dataset = (char *)l->dataset;
    ev.kind = (char *)l->kind;
    ev.project = (char *)l->project;
    ev.part = l->part;
    ev.nparts = l->nparts;
    ev.text = "SELECT COUNT(*) FROM trust.ae";
    ev.analyst = "ann";
    ev.analyst_key = "";
    char *cause = NULL;
    must(audit_event_encode(&ev, out, len, &cause), cause);
}

/* Appends l to tree; returns its index. */
static uint64_t append_to(tlog_memtree_t *tree, const leaf_t *l)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    encode(l, &bytes, &len);
    uint64_t index = tlog_memtree_size(tree);
    tlog_memtree_append(tree, bytes, len);
    free(bytes);
    return index;
}

static uint64_t append(const leaf_t *l)
{
    return append_to(fx.tree, l);
}

/* Appends n RECEIVED events of other queries: the rest of the log. */
static void others(size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char qid[32];
        snprintf(qid, sizeof qid, "other%zu", i);
        leaf_t l = {AUDIT_RECEIVED, qid, NULL, NULL, NULL, "p9", 0, 0};
        append(&l);
    }
}

/* A SubQuery and its audit proof, all owned here. */
typedef struct {
    Hearth__SubQuery q;
    Hearth__AuditProof a;
    uint8_t *leaf;
    char *note;
    ProtobufCBinaryData inc[TLOG_MAX_PROOF], con[TLOG_MAX_PROOF + 1];
    uint8_t inc_h[TLOG_MAX_PROOF][TLOG_HASH_LEN], con_h[TLOG_MAX_PROOF + 1][TLOG_HASH_LEN];
    uint8_t root[TLOG_HASH_LEN];
} sq_t;

/* The root of the first size leaves of tree. */
static void root_of(tlog_memtree_t *tree, uint64_t size, uint8_t root[TLOG_HASH_LEN])
{
    char *cause = NULL;
    must(tlog_root(tlog_memtree_subtree, tree, size, root, &cause), cause);
}

/* Signs a checkpoint of tree at size with signer, under origin. */
static char *checkpoint(tlog_memtree_t *tree, uint64_t size, keys_signer_t *signer,
                        uint8_t root[TLOG_HASH_LEN])
{
    tlog_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", keys_signer_name(signer));
    cp.size = size;
    root_of(tree, size, cp.root);
    if (root)
        memcpy(root, cp.root, TLOG_HASH_LEN);
    char *note = NULL, *cause = NULL;
    must(tlog_checkpoint_sign(signer, &cp, &note, &cause), cause);
    return note;
}

/* Builds a SubQuery matching `matching` (its query id, dataset, kind,
 * part, nparts, project) carrying the proof of leaf `index` of tree in a
 * checkpoint of `size`, consistent from `from`. */
static void build_in(sq_t *s, tlog_memtree_t *tree, const leaf_t *matching, uint64_t index,
                     uint64_t size, uint64_t from)
{
    memset(s, 0, sizeof *s);
    hearth__sub_query__init(&s->q);
    hearth__audit_proof__init(&s->a);
    s->q.query_id = (char *)matching->query_id;
    s->q.dataset = (char *)(strchr(matching->dataset, '.') + 1);
    s->q.kind = strcmp(matching->kind, "aggregate") == 0 ? AGG
              : strcmp(matching->kind, "cohort") == 0 ? COHORT : TARGET;
    s->q.part = (uint32_t)matching->part;
    s->q.nparts = (uint32_t)matching->nparts;
    s->q.project = (char *)matching->project;
    s->q.audit = &s->a;
    /* The leaf's bytes are the caller's to set: the tree keeps hashes. */
    s->a.leaf_index = index;
    s->note = checkpoint(tree, size, fx.gateway, s->root);
    s->a.checkpoint = s->note;
    char *cause = NULL;
    size_t n = 0;
    must(tlog_inclusion_proof(tlog_memtree_subtree, tree, index, size, s->inc_h, &n, &cause),
         cause);
    for (size_t i = 0; i < n; i++)
        s->inc[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, s->inc_h[i]};
    s->a.inclusion = s->inc;
    s->a.n_inclusion = n;
    must(tlog_consistency_proof(tlog_memtree_subtree, tree, from, size, s->con_h, &n, &cause),
         cause);
    for (size_t i = 0; i < n; i++)
        s->con[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, s->con_h[i]};
    s->a.consistency = s->con;
    s->a.n_consistency = n;
    s->a.consistency_from = from;
}

/* As build_in over fx.tree, with the leaf bytes of `logged` (what the log
 * holds at index). */
static void build(sq_t *s, const leaf_t *matching, const leaf_t *logged, uint64_t index,
                  uint64_t size, uint64_t from)
{
    build_in(s, fx.tree, matching, index, size, from);
    size_t len = 0;
    encode(logged, &s->leaf, &len);
    s->a.leaf = (ProtobufCBinaryData){len, s->leaf};
}

static void sq_free(sq_t *s)
{
    free(s->leaf);
    free(s->note);
    memset(s, 0, sizeof *s);
}

/* Checks s; expects acceptance. */
static node_audit_verified_t accept(sq_t *s)
{
    node_audit_verified_t v;
    memset(&v, 0xee, sizeof v);
    char *cause = NULL;
    must(node_audit_check(fx.audit, &s->q, &v, &cause), cause);
    return v;
}

/* The stored checkpoint's size, from the ledger itself. */
static uint64_t stored_size(char **note)
{
    uint64_t size = 0;
    uint8_t root[TLOG_HASH_LEN];
    char *cause = NULL;
    must(node_ledger_checkpoint(fx.ledger, &size, root, note, &cause), cause);
    return size;
}

/* Checks s; expects a refusal with exactly want, and nothing stored. */
static void refuse(sq_t *s, const char *want)
{
    uint64_t before = node_audit_size(fx.audit);
    node_audit_verified_t v;
    char *cause = NULL;
    hearth_err_t rc = node_audit_check(fx.audit, &s->q, &v, &cause);
    char got[1024];
    snprintf(got, sizeof got, "%s", cause ? cause : "(no cause)");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_REFUSED, "rc %d: %s", rc, got);
    cr_assert_str_eq(got, want);
    cr_assert_eq(node_audit_size(fx.audit), before);
    cr_assert_eq(stored_size(NULL), before);
}

/* A log of three events, the last the dispatch; a first accepted check
 * leaves the node at size 3. */
static void first_dispatch(void)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 2, 3, 0);
    accept(&s);
    sq_free(&s);
    cr_assert_eq(node_audit_size(fx.audit), 3);
}

/* ---- accepted ----------------------------------------------------------- */

Test(node_audit, accepts_a_logged_dispatch_and_stores_its_checkpoint)
{
    cr_assert_eq(node_audit_size(fx.audit), 0);
    others(2);
    leaf_t d = dispatch();
    cr_assert_eq(append(&d), 2);
    others(2);
    sq_t s;
    build(&s, &d, &d, 2, 5, 0);
    node_audit_verified_t v = accept(&s);
    cr_assert_eq(v.leaf, 2);
    cr_assert_eq(v.size, 5);
    cr_assert_eq(memcmp(v.root, s.root, TLOG_HASH_LEN), 0);
    cr_assert_eq(node_audit_size(fx.audit), 5);
    char *note = NULL;
    cr_assert_eq(stored_size(&note), 5);
    cr_assert_str_eq(note, s.note);
    free(note);
    sq_free(&s);
}

Test(node_audit, accepts_every_kind_and_part_that_its_leaf_names)
{
    leaf_t parts[] = {
        {AUDIT_DISPATCHED, "q-2", "trust", "trust.ae", "cohort", "proj.a-1", 0, 3},
        {AUDIT_DISPATCHED, "q-2", "trust", "trust.housing", "target", "proj.a-1", 1, 3},
        {AUDIT_DISPATCHED, "q-2", "trust", "trust.ae", "target", "proj.a-1", 2, 3},
    };
    for (size_t i = 0; i < 3; i++)
        append(&parts[i]);
    /* One checkpoint for all three: the first moves the node to size 3, the
     * next two prove consistency of size 3 with itself, an empty proof. */
    for (size_t i = 0; i < 3; i++) {
        sq_t s;
        build(&s, &parts[i], &parts[i], i, 3, i == 0 ? 0 : 3);
        cr_assert_eq(s.a.n_consistency, 0);
        node_audit_verified_t v = accept(&s);
        cr_assert_eq(v.leaf, i);
        cr_assert_eq(v.size, 3);
        sq_free(&s);
    }
    cr_assert_eq(node_audit_size(fx.audit), 3);
}

Test(node_audit, the_stored_checkpoint_advances_and_survives_reopening)
{
    first_dispatch();
    /* The log grows; the next dispatch proves consistency from 3. */
    others(3);
    leaf_t d = dispatch();
    d.query_id = "q2";
    cr_assert_eq(append(&d), 6);
    sq_t s;
    build(&s, &d, &d, 6, 7, 3);
    cr_assert_gt(s.a.n_consistency, 0);
    accept(&s);
    sq_free(&s);
    cr_assert_eq(node_audit_size(fx.audit), 7);

    close_audit();
    open_audit();
    cr_assert_eq(node_audit_size(fx.audit), 7);
    /* After reopening, a proof from nothing no longer passes; from 7 does. */
    d.query_id = "q3";
    cr_assert_eq(append(&d), 7);
    build(&s, &d, &d, 7, 8, 0);
    refuse(&s, "audit proof: the consistency proof starts at size 0, but this node last "
           "verified size 7");
    sq_free(&s);
    build(&s, &d, &d, 7, 8, 7);
    accept(&s);
    sq_free(&s);
    cr_assert_eq(node_audit_size(fx.audit), 8);
}

Test(node_audit, an_older_dispatch_proven_in_a_newer_checkpoint_is_accepted)
{
    /* A leaf logged long before, proven in the current checkpoint (the
     * gateway signs one checkpoint a batch): the leaf is what counts. */
    first_dispatch();
    leaf_t d = dispatch();
    d.query_id = "q-old";
    cr_assert_eq(append(&d), 3);
    others(4);
    sq_t s;
    build(&s, &d, &d, 3, 8, 3);
    node_audit_verified_t v = accept(&s);
    cr_assert_eq(v.leaf, 3);
    cr_assert_eq(v.size, 8);
    sq_free(&s);
}

/* ---- refused ------------------------------------------------------------ */

Test(node_audit, refuses_a_sub_query_without_an_audit_proof)
{
    Hearth__SubQuery q = HEARTH__SUB_QUERY__INIT;
    q.query_id = QID;
    q.dataset = "ae";
    q.nparts = 1;
    q.project = "p1";
    sq_t s = {.q = q};
    refuse(&s, "no audit proof: this node answers only dispatches the gateway has recorded "
           "in its audit log");
}

Test(node_audit, refuses_a_checkpoint_signed_by_another_key_of_the_same_name)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 2, 3, 0);
    free(s.note);
    s.note = checkpoint(fx.tree, 3, fx.impostor, NULL);
    s.a.checkpoint = s.note;
    char want[256];
    snprintf(want, sizeof want, "audit proof: the checkpoint does not verify with the gateway "
             "audit key this node pins: the note carries no signature by key %s+%08x", LOG,
             fx.pinned.id);
    refuse(&s, want);
    sq_free(&s);
}

Test(node_audit, refuses_a_checkpoint_of_another_log)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 2, 3, 0);
    free(s.note);
    s.note = checkpoint(fx.tree, 3, fx.other_log, NULL);
    s.a.checkpoint = s.note;
    char want[256];
    snprintf(want, sizeof want, "audit proof: the checkpoint does not verify with the gateway "
             "audit key this node pins: the note carries no signature by key %s+%08x", LOG,
             fx.pinned.id);
    refuse(&s, want);
    sq_free(&s);
}

Test(node_audit, refuses_a_checkpoint_edited_after_signing)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    others(1);
    sq_t s;
    build(&s, &d, &d, 2, 4, 0);
    /* The size line "4" becomes "3": the signature no longer covers it. */
    char *nl = strchr(s.note, '\n');
    cr_assert_not_null(nl);
    cr_assert_eq(nl[1], '4');
    nl[1] = '3';
    char want[256];
    snprintf(want, sizeof want, "audit proof: the checkpoint does not verify with the gateway "
             "audit key this node pins: the note's signature by key %s+%08x does not verify",
             LOG, fx.pinned.id);
    refuse(&s, want);
    /* No checkpoint at all, or none worth the name. */
    s.a.checkpoint = "";
    refuse(&s, "audit proof: the checkpoint is missing or too long");
    s.a.checkpoint = NULL;
    refuse(&s, "audit proof: the checkpoint is missing or too long");
    sq_free(&s);
}

Test(node_audit, refuses_an_inclusion_proof_of_another_leaf)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    others(2);
    sq_t s, other;
    build(&s, &d, &d, 2, 5, 0);
    /* The proof of leaf 1, passed off as that of leaf 2. */
    build(&other, &d, &d, 1, 5, 0);
    s.a.inclusion = other.a.inclusion;
    s.a.n_inclusion = other.a.n_inclusion;
    refuse(&s, "audit proof: the inclusion proof does not show the leaf at index 2 of the "
           "signed checkpoint");
    /* The right proof, but the index of another leaf. */
    sq_free(&s);
    build(&s, &d, &d, 2, 5, 0);
    s.a.leaf_index = 3;
    refuse(&s, "audit proof: the inclusion proof does not show the leaf at index 3 of the "
           "signed checkpoint");
    /* A hash of the wrong length. */
    s.a.leaf_index = 2;
    s.inc[0].len = 31;
    refuse(&s, "audit proof: the inclusion proof is malformed");
    sq_free(&other);
    sq_free(&s);
}

Test(node_audit, refuses_a_leaf_index_not_below_the_checkpoints_size)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 2, 3, 0);
    s.a.leaf_index = 3;
    refuse(&s, "audit proof: the leaf index is not below the checkpoint's size (3)");
    s.a.leaf_index = UINT64_MAX;
    refuse(&s, "audit proof: the leaf index is not below the checkpoint's size (3)");
    sq_free(&s);
}

Test(node_audit, refuses_a_leaf_that_names_another_dispatch)
{
    static const struct {
        leaf_t logged;
        const char *other;
    } cases[] = {
        {{AUDIT_DISPATCHED, "another-q", "trust", "trust.ae", "aggregate", "p1", 0, 1},
         "another query"},
        {{AUDIT_DISPATCHED, QID, "council", "trust.ae", "aggregate", "p1", 0, 1},
         "another node"},
        {{AUDIT_DISPATCHED, QID, "trust", "trust.housing", "aggregate", "p1", 0, 1},
         "another dataset"},
        {{AUDIT_DISPATCHED, QID, "trust", "council.ae", "aggregate", "p1", 0, 1},
         "another dataset"},
        {{AUDIT_DISPATCHED, QID, "trust", "ae", "aggregate", "p1", 0, 1}, "another dataset"},
        {{AUDIT_DISPATCHED, QID, "trust", "trust.ae", "cohort", "p1", 0, 1},
         "another kind of sub-query"},
        {{AUDIT_DISPATCHED, QID, "trust", "trust.ae", "aggregate", "p1", 1, 2}, "another part"},
        {{AUDIT_DISPATCHED, QID, "trust", "trust.ae", "aggregate", "p1", 0, 2},
         "another number of parts"},
        {{AUDIT_DISPATCHED, QID, "trust", "trust.ae", "aggregate", "p2", 0, 1},
         "another project"},
        {{AUDIT_DISPATCHED, QID, "trust", "trust.ae", "aggregate", "", 0, 1}, "another project"},
    };
    leaf_t asked = dispatch();
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        uint64_t at = append(&cases[i].logged);
        sq_t s;
        build(&s, &asked, &cases[i].logged, at, at + 1, 0);
        char want[256];
        snprintf(want, sizeof want, "audit proof: the logged dispatch is of %s than this "
                 "sub-query", cases[i].other);
        refuse(&s, want);
        sq_free(&s);
    }
}

Test(node_audit, refuses_a_proof_of_an_older_leaf_reused_for_a_new_query)
{
    first_dispatch();
    /* The dispatch of QID, verified before, now offered for query q-new. */
    leaf_t old = dispatch();
    leaf_t asked = old;
    asked.query_id = "q-new";
    sq_t s;
    build(&s, &asked, &old, 2, 3, 3);
    refuse(&s, "audit proof: the logged dispatch is of another query than this sub-query");
    sq_free(&s);
}

Test(node_audit, refuses_a_leaf_of_another_type)
{
    leaf_t received = {AUDIT_RECEIVED, QID, "trust", "trust.ae", "aggregate", "p1", 0, 1};
    append(&received);
    leaf_t asked = dispatch();
    sq_t s;
    build(&s, &asked, &received, 0, 1, 0);
    refuse(&s, "audit proof: the leaf records a received event, not a dispatch");
    sq_free(&s);
}

Test(node_audit, refuses_a_leaf_that_is_not_an_audit_event)
{
    static const uint8_t junk[] = "not an audit event";
    tlog_memtree_append(fx.tree, junk, sizeof junk - 1);
    leaf_t asked = dispatch();
    sq_t s;
    build_in(&s, fx.tree, &asked, 0, 1, 0);
    s.a.leaf = (ProtobufCBinaryData){sizeof junk - 1, (uint8_t *)junk};
    node_audit_verified_t v;
    char *cause = NULL;
    hearth_err_t rc = node_audit_check(fx.audit, &s.q, &v, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_REFUSED);
    const char *want = "audit proof: the leaf is not a well-formed audit event: ";
    cr_assert_eq(strncmp(got, want, strlen(want)), 0, "%s", got);
    /* No leaf at all. */
    s.a.leaf = (ProtobufCBinaryData){0, NULL};
    refuse(&s, "audit proof: the leaf is missing or too long");
    cr_assert_eq(node_audit_size(fx.audit), 0);
    sq_free(&s);
}

Test(node_audit, refuses_a_bad_consistency_proof)
{
    first_dispatch();
    others(3);
    leaf_t d = dispatch();
    d.query_id = "q2";
    uint64_t at = append(&d);
    sq_t s;
    build(&s, &d, &d, at, at + 1, 3);
    cr_assert_gt(s.a.n_consistency, 1);
    const char *want = "audit proof: the consistency proof does not show that the checkpoint "
                       "(size 7) extends the last one this node verified (size 3)";
    /* A hash changed. */
    s.con_h[0][0] ^= 1;
    refuse(&s, want);
    s.con_h[0][0] ^= 1;
    /* A hash left out, and one too many. */
    s.a.n_consistency--;
    refuse(&s, want);
    s.a.n_consistency += 2;
    memset(s.con_h[s.a.n_consistency - 1], 0, TLOG_HASH_LEN);
    s.con[s.a.n_consistency - 1] = (ProtobufCBinaryData){TLOG_HASH_LEN,
                                                         s.con_h[s.a.n_consistency - 1]};
    refuse(&s, want);
    s.a.n_consistency--;
    /* A hash of the wrong length. */
    s.con[0].len = 33;
    refuse(&s, want);
    s.con[0].len = TLOG_HASH_LEN;
    /* Put right, it passes. */
    accept(&s);
    sq_free(&s);
}

Test(node_audit, refuses_a_consistency_proof_that_starts_elsewhere)
{
    first_dispatch();
    others(2);
    leaf_t d = dispatch();
    d.query_id = "q2";
    uint64_t at = append(&d);
    sq_t s;
    /* A valid proof, from 2 rather than 3. */
    build(&s, &d, &d, at, at + 1, 2);
    refuse(&s, "audit proof: the consistency proof starts at size 2, but this node last "
           "verified size 3");
    sq_free(&s);
    build(&s, &d, &d, at, at + 1, 4);
    refuse(&s, "audit proof: the consistency proof starts at size 4, but this node last "
           "verified size 3");
    sq_free(&s);
}

Test(node_audit, from_nothing_the_consistency_proof_must_be_empty)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 2, 3, 0);
    cr_assert_eq(s.a.n_consistency, 0);
    memset(s.con_h[0], 7, TLOG_HASH_LEN);
    s.con[0] = (ProtobufCBinaryData){TLOG_HASH_LEN, s.con_h[0]};
    s.a.n_consistency = 1;
    refuse(&s, "audit proof: the consistency proof does not show that the checkpoint (size 3) "
           "extends the last one this node verified (size 0)");
    sq_free(&s);
}

Test(node_audit, refuses_a_checkpoint_smaller_than_the_stored_one)
{
    others(4);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 4, 5, 0);
    accept(&s);
    sq_free(&s);
    /* A dispatch of leaf 1 in the checkpoint of size 3: a rolled-back log. */
    leaf_t early = dispatch();
    early.query_id = "other1";
    /* Leaf 1 is a RECEIVED event of other1; rebuild the same log with a
     * dispatch there, so the leaf checks pass and only the size fails. */
    tlog_memtree_t *rolled = tlog_memtree_new();
    leaf_t r0 = {AUDIT_RECEIVED, "other0", NULL, NULL, NULL, "p9", 0, 0};
    append_to(rolled, &r0);
    append_to(rolled, &early);
    append_to(rolled, &r0);
    build_in(&s, rolled, &early, 1, 3, 0);
    size_t len = 0;
    encode(&early, &s.leaf, &len);
    s.a.leaf = (ProtobufCBinaryData){len, s.leaf};
    s.a.consistency_from = 5;
    refuse(&s, "audit proof: the checkpoint (size 3) is older than the last one this node "
           "verified (size 5)");
    sq_free(&s);
    tlog_memtree_destroy(&rolled);
}

Test(node_audit, refuses_a_checkpoint_of_the_stored_size_with_another_root)
{
    first_dispatch();
    /* Another history of three leaves, the dispatch of q2 at index 2. */
    tlog_memtree_t *fork = tlog_memtree_new();
    leaf_t r0 = {AUDIT_RECEIVED, "other0", NULL, NULL, NULL, "p9", 0, 0};
    leaf_t d = dispatch();
    d.query_id = "q2";
    append_to(fork, &r0);
    append_to(fork, &r0);
    append_to(fork, &d);
    sq_t s;
    build_in(&s, fork, &d, 2, 3, 3);
    size_t len = 0;
    encode(&d, &s.leaf, &len);
    s.a.leaf = (ProtobufCBinaryData){len, s.leaf};
    refuse(&s, "audit proof: the checkpoint has the size of the last one this node verified "
           "(3) but another root: the log was rewritten");
    sq_free(&s);
    tlog_memtree_destroy(&fork);
}

Test(node_audit, refuses_a_malformed_query_id_as_another_query_at_worst)
{
    /* An id the ledger would refuse can only be logged verbatim; the leaf
     * comparison still binds it. */
    others(1);
    leaf_t d = dispatch();
    append(&d);
    leaf_t asked = d;
    asked.query_id = "q\nforged";
    sq_t s;
    build(&s, &asked, &d, 1, 2, 0);
    refuse(&s, "audit proof: the logged dispatch is of another query than this sub-query");
    sq_free(&s);
}

/* ---- receipts ----------------------------------------------------------- */

Test(node_audit, a_receipt_is_the_exact_receipt_text_signed_by_the_node)
{
    node_audit_verified_t v = {.leaf = 2, .size = 5};
    for (size_t i = 0; i < TLOG_HASH_LEN; i++)
        v.root[i] = (uint8_t)i;
    char b64[HEARTH_BASE64_LEN(TLOG_HASH_LEN) + 1];
    hearth_base64_encode(v.root, TLOG_HASH_LEN, b64);
    for (int answered = 0; answered < 2; answered++) {
        char *note = NULL, *cause = NULL;
        must(node_audit_receipt(fx.node, "trust", QID, 1, 3, &v, answered, &note, &cause),
             cause);
        char *text = NULL;
        must(tlog_note_open(note, strlen(note), &fx.node_v, &text, &cause), cause);
        char want[512];
        snprintf(want, sizeof want, "hearth-receipt v1\nnode trust\nquery " QID "\npart 1/3\n"
                 "leaf 2\ncheckpoint 5 %s\noutcome %s\n", b64,
                 answered ? "answered" : "refused");
        cr_assert_str_eq(text, want);
        /* The note is that text, a blank line and the node's signature. */
        cr_assert_eq(strncmp(note, want, strlen(want)), 0);
        char sig[64];
        snprintf(sig, sizeof sig, "\n\xe2\x80\x94 trust-audit ");
        cr_assert_eq(strncmp(note + strlen(want), sig, strlen(sig)), 0, "%s", note);
        audit_receipt_t r;
        must(audit_receipt_parse(text, &r, &cause), cause);
        cr_assert_eq(r.answered, answered);
        /* The gateway's key does not open it. */
        char *t2 = NULL;
        cr_assert_eq(tlog_note_open(note, strlen(note), &fx.pinned, &t2, &cause),
                     HEARTH_ERR_CRYPTO);
        free(cause);
        free(text);
        free(note);
    }
}

Test(node_audit, a_verified_dispatch_gives_the_receipt_its_leaf_and_checkpoint)
{
    others(2);
    leaf_t d = dispatch();
    append(&d);
    sq_t s;
    build(&s, &d, &d, 2, 3, 0);
    node_audit_verified_t v = accept(&s);
    char *note = NULL, *cause = NULL;
    must(node_audit_receipt(fx.node, "trust", QID, 0, 1, &v, true, &note, &cause), cause);
    char *text = NULL;
    must(tlog_note_open(note, strlen(note), &fx.node_v, &text, &cause), cause);
    audit_receipt_t r;
    must(audit_receipt_parse(text, &r, &cause), cause);
    cr_assert_str_eq(r.node, "trust");
    cr_assert_str_eq(r.query_id, QID);
    cr_assert_eq(r.part, 0);
    cr_assert_eq(r.nparts, 1);
    cr_assert_eq(r.leaf, 2);
    cr_assert_eq(r.size, 3);
    cr_assert_eq(memcmp(r.root, s.root, TLOG_HASH_LEN), 0);
    cr_assert(r.answered);
    free(text);
    free(note);
    sq_free(&s);
}

Test(node_audit, no_receipt_for_a_malformed_id_or_part)
{
    node_audit_verified_t v = {.leaf = 0, .size = 1};
    static const struct {
        const char *node, *qid;
        uint32_t part, nparts;
    } bad[] = {{"trust", "q 1", 0, 1}, {"trust", "", 0, 1}, {"trust", NULL, 0, 1},
               {"trust", QID, 1, 1}, {"trust", QID, 0, 0}, {"", QID, 0, 1},
               {"trust", QID "0123456789abcdef0123456789abcdef0", 0, 1}};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *note = NULL, *cause = NULL;
        hearth_err_t rc = node_audit_receipt(fx.node, bad[i].node, bad[i].qid, bad[i].part,
                                             bad[i].nparts, &v, true, &note, &cause);
        char got[256];
        snprintf(got, sizeof got, "%s", cause ? cause : "");
        free(cause);
        cr_expect_eq(rc, HEARTH_ERR_USAGE, "case %zu", i);
        cr_expect_null(note, "case %zu", i);
        cr_expect_str_eq(got, "no receipt can be written for a malformed node name, query id "
                         "or part number");
        free(note);
    }
}

Test(node_audit, new_refuses_a_malformed_node_name)
{
    node_audit_t *a = NULL;
    char *cause = NULL;
    cr_assert_eq(node_audit_new(&fx.pinned, "Trust", fx.ledger, &a, &cause), HEARTH_ERR_USAGE);
    cr_assert_null(a);
    cr_assert_str_eq(cause, "a malformed node name");
    free(cause);
}

Test(node_audit, destroy_is_null_safe)
{
    node_audit_destroy(NULL);
    node_audit_t *a = NULL;
    node_audit_destroy(&a);
    cr_assert_null(a);
}
