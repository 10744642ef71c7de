/* Tests for gw_audit, on a real gw_store file and a real signing key: the
 * root at every size from 1 to 40 equals an in-memory tree's over the same
 * leaf bytes; inclusion and consistency proofs from the store verify and
 * equal the in-memory tree's; checkpoints open with the verifier key and
 * carry the right size and root, and are stored once per size; a second
 * connection (another process) appends and the first picks it up at sync;
 * filters yield exactly the expected leaves, paged by count and bytes;
 * rollback then reset leaves a consistent log; leaves are stored byte for
 * byte. */
#include "gw_audit.h"
#include "gw_store.h"
#include "hearth_mem.h"
#include "keys_sign.h"
#include "tlog_checkpoint.h"
#include "tlog_merkle.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char dir[64];
static char db_path[128];
static keys_signer_t *signer;
static tlog_verifier_t verifier;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-gwaudit-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/gateway.db", dir);
    char prefix[128], path[160];
    snprintf(prefix, sizeof prefix, "%s/gateway-audit", dir);
    char *cause = NULL;
    cr_assert_eq(keys_sign_generate(prefix, "gateway-audit", &cause), HEARTH_OK, "%s", cause);
    snprintf(path, sizeof path, "%s.signer", prefix);
    cr_assert_eq(keys_signer_load(path, &signer, &cause), HEARTH_OK, "%s", cause);
    snprintf(path, sizeof path, "%s.vkey", prefix);
    cr_assert_eq(tlog_verifier_load(path, &verifier, &cause), HEARTH_OK, "%s", cause);
}

static void teardown(void)
{
    keys_signer_destroy(&signer);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(gw_audit, .init = setup, .fini = teardown);

/* ---- helpers ------------------------------------------------------------ */

/* Asserts that call returns HEARTH_OK with no cause; the call passes
 * &cause_, which the macro declares. */
#define OK(call)                                                                   \
    do {                                                                           \
        char *cause_ = NULL;                                                       \
        hearth_err_t rc_ = (call);                                                 \
        cr_assert_eq(rc_, HEARTH_OK, "%s: %s", #call, cause_ ? cause_ : "");       \
        cr_assert_null(cause_);                                                    \
    } while (0)

static gw_store_t *open_store(void)
{
    gw_store_t *s = NULL;
    OK(gw_store_open(db_path, &s, &cause_));
    return s;
}

static gw_audit_t *open_audit(gw_store_t *s, const keys_signer_t *k)
{
    gw_audit_t *a = NULL;
    OK(gw_audit_open(s, k, &a, &cause_));
    return a;
}

#define QID_LEN 24

static const char *const PROJECTS[] = {"alpha", "beta", "gamma"};
static const char *const ANALYSTS[] = {"ann", "bob"};

/* The i-th test event and its index columns: types, projects (i % 3),
 * analysts (i % 2), query ids (i / 4) and times (1000 + 10 i) vary. */
static void event_for(uint64_t i, audit_event_t *ev, gw_audit_index_t *ix, char qid[QID_LEN])
{
    snprintf(qid, QID_LEN, "q%llu", (unsigned long long)(i / 4));
    memset(ev, 0, sizeof *ev);
    ev->type = (audit_type_t)(AUDIT_TYPE_MIN + i % (AUDIT_TYPE_MAX - AUDIT_TYPE_MIN + 1));
    ev->time_ms = 1000 + 10 * i;
    ev->query_id = qid;
    ev->analyst = (char *)ANALYSTS[i % 2];
    ev->analyst_key = "K";
    ev->project = (char *)PROJECTS[i % 3];
    ev->text = "SELECT COUNT(*) FROM trust.ae";
    ev->node = "trust";
    ev->dataset = "trust.ae";
    ev->kind = "aggregate";
    ev->part = i;
    ev->nparts = i + 1;
    ev->outcome = "answered";
    ev->actor = "ig";
    ev->action = "project add";
    ix->qtime_ms = 1000 + 10 * i;
    ix->project = PROJECTS[i % 3];
    ix->analyst = ANALYSTS[i % 2];
    ix->query_id = qid;
}

/* Appends event i to a and its encoding to mt. */
static void append_one(gw_audit_t *a, tlog_memtree_t *mt, uint64_t i)
{
    audit_event_t ev;
    gw_audit_index_t ix;
    char qid[QID_LEN];
    event_for(i, &ev, &ix, qid);
    uint64_t index = UINT64_MAX;
    OK(gw_audit_append(a, &ev, &ix, &index, &cause_));
    cr_assert_eq(index, i);
    uint8_t *leaf = NULL;
    size_t len = 0;
    OK(audit_event_encode(&ev, &leaf, &len, &cause_));
    tlog_memtree_append(mt, leaf, len);
    free(leaf);
}

/* Appends events [from, to) in one transaction, as the gateway does. */
static void append_batch(gw_store_t *s, gw_audit_t *a, tlog_memtree_t *mt, uint64_t from,
                         uint64_t to)
{
    OK(gw_store_begin(s, &cause_));
    OK(gw_audit_sync(a, &cause_));
    cr_assert_eq(gw_audit_size(a), from);
    for (uint64_t i = from; i < to; i++)
        append_one(a, mt, i);
    OK(gw_store_commit(s, &cause_));
}

static void memtree_root(tlog_memtree_t *mt, uint64_t size, uint8_t root[TLOG_HASH_LEN])
{
    OK(tlog_root(tlog_memtree_subtree, mt, size, root, &cause_));
}

/* The log's root at every size up to its own equals the memtree's. */
static void expect_roots_match(gw_audit_t *a, tlog_memtree_t *mt)
{
    cr_assert_eq(gw_audit_size(a), tlog_memtree_size(mt));
    for (uint64_t k = 0; k <= gw_audit_size(a); k++) {
        uint8_t got[TLOG_HASH_LEN], want[TLOG_HASH_LEN];
        OK(gw_audit_root(a, k, got, &cause_));
        memtree_root(mt, k, want);
        cr_assert_arr_eq(got, want, TLOG_HASH_LEN, "root of size %llu", (unsigned long long)k);
    }
}

/* ---- roots and proofs --------------------------------------------------- */

Test(gw_audit, roots_equal_an_in_memory_tree_at_every_size_to_40)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    cr_assert_eq(gw_audit_size(a), 0);
    uint8_t root[TLOG_HASH_LEN], empty[TLOG_HASH_LEN];
    OK(gw_audit_root(a, 0, root, &cause_));
    tlog_empty_root(empty);
    cr_assert_arr_eq(root, empty, TLOG_HASH_LEN);
    /* batches of 1, 2, 3, 1, 2, 3 ... leaves */
    uint64_t n = 0;
    for (uint64_t batch = 1; n < 40; batch = batch % 3 + 1) {
        uint64_t to = n + batch > 40 ? 40 : n + batch;
        for (uint64_t i = n; i < to; i++) {
            OK(gw_store_begin(s, &cause_));
            OK(gw_audit_sync(a, &cause_));
            append_one(a, mt, i);
            OK(gw_store_commit(s, &cause_));
            expect_roots_match(a, mt);
        }
        n = to;
    }
    cr_assert_eq(gw_audit_size(a), 40);
    /* a fresh gw_audit_t on a reopened store reads the same log */
    gw_audit_destroy(&a);
    cr_assert_null(a);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    s = open_store();
    a = open_audit(s, NULL);
    expect_roots_match(a, mt);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}

Test(gw_audit, inclusion_and_consistency_proofs_verify_and_equal_the_memtrees)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    append_batch(s, a, mt, 0, 17);
    append_batch(s, a, mt, 17, 40);
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], want[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    size_t n, want_n;
    for (uint64_t size = 1; size <= 40; size++) {
        uint8_t root[TLOG_HASH_LEN];
        memtree_root(mt, size, root);
        for (uint64_t index = 0; index < size; index++) {
            OK(gw_audit_inclusion(a, index, size, proof, &n, &cause_));
            OK(tlog_inclusion_proof(tlog_memtree_subtree, mt, index, size, want, &want_n,
                                    &cause_));
            cr_assert_eq(n, want_n);
            cr_assert_arr_eq(proof, want, n * TLOG_HASH_LEN);
            /* the leaf hash of the stored bytes */
            uint8_t leaf_hash[TLOG_HASH_LEN];
            OK(tlog_memtree_subtree(mt, 0, index, leaf_hash, &cause_));
            cr_assert(tlog_verify_inclusion(leaf_hash, index, size,
                                            (const uint8_t(*)[TLOG_HASH_LEN])proof, n, root),
                      "inclusion of %llu in %llu", (unsigned long long)index,
                      (unsigned long long)size);
        }
        for (uint64_t m = 0; m <= size; m++) {
            uint8_t root_m[TLOG_HASH_LEN];
            memtree_root(mt, m, root_m);
            OK(gw_audit_consistency(a, m, size, proof, &n, &cause_));
            OK(tlog_consistency_proof(tlog_memtree_subtree, mt, m, size, want, &want_n,
                                      &cause_));
            cr_assert_eq(n, want_n);
            cr_assert_arr_eq(proof, want, n * TLOG_HASH_LEN);
            cr_assert(tlog_verify_consistency(m, size, root_m, root,
                                              (const uint8_t(*)[TLOG_HASH_LEN])proof, n),
                      "consistency %llu -> %llu", (unsigned long long)m,
                      (unsigned long long)size);
        }
    }
    /* nothing is proved of a tree the log does not have */
    char *cause = NULL;
    cr_assert_eq(gw_audit_inclusion(a, 0, 41, proof, &n, &cause), HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "audit log has 40 leaves, not 41");
    cr_assert_eq(gw_audit_consistency(a, 3, 41, proof, &n, &cause), HEARTH_ERR_USAGE);
    uint8_t root[TLOG_HASH_LEN];
    cr_assert_eq(gw_audit_root(a, 41, root, &cause), HEARTH_ERR_USAGE);
    cr_assert_eq(gw_audit_inclusion(a, 40, 40, proof, &n, &cause), HEARTH_ERR_USAGE);
    free(cause);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}

/* ---- checkpoints -------------------------------------------------------- */

static int collect_note(void *user, uint64_t size, const char *note)
{
    (void)note;
    uint64_t *sizes = user;
    sizes[++sizes[0]] = size;
    return 0;
}

Test(gw_audit, checkpoints_open_with_the_verifier_and_are_stored_once_per_size)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    char *note = NULL, *again = NULL, *latest = NULL;
    uint64_t latest_size = 7;
    OK(gw_audit_latest(a, &latest, &latest_size, &cause_));
    cr_assert_null(latest);
    cr_assert_eq(latest_size, 0);
    uint64_t sizes[] = {3, 8, 21};
    uint64_t from = 0;
    for (size_t k = 0; k < 3; k++) {
        OK(gw_store_begin(s, &cause_));
        OK(gw_audit_sync(a, &cause_));
        for (uint64_t i = from; i < sizes[k]; i++)
            append_one(a, mt, i);
        from = sizes[k];
        OK(gw_audit_checkpoint(a, &note, &cause_));
        OK(gw_store_commit(s, &cause_));
        tlog_checkpoint_t cp;
        OK(tlog_checkpoint_open(note, strlen(note), &verifier, &cp, &cause_));
        cr_assert_str_eq(cp.origin, "gateway-audit");
        cr_assert_eq(cp.size, sizes[k]);
        uint8_t root[TLOG_HASH_LEN];
        memtree_root(mt, sizes[k], root);
        cr_assert_arr_eq(cp.root, root, TLOG_HASH_LEN);
        /* a second checkpoint at the same size is the stored one, unchanged */
        OK(gw_audit_checkpoint(a, &again, &cause_));
        cr_assert_str_eq(again, note);
        OK(gw_audit_checkpoint(a, NULL, &cause_));
        OK(gw_audit_latest(a, &latest, &latest_size, &cause_));
        cr_assert_eq(latest_size, sizes[k]);
        cr_assert_str_eq(latest, note);
        free(note);
        free(again);
        free(latest);
    }
    /* listing: after a size, bounded, saying whether there are more */
    uint64_t got[8] = {0};
    bool more = false;
    OK(gw_audit_checkpoints(a, 0, 10, collect_note, got, &more, &cause_));
    cr_assert_eq(got[0], 3);
    cr_assert_eq(got[1], 3);
    cr_assert_eq(got[2], 8);
    cr_assert_eq(got[3], 21);
    cr_assert_not(more);
    memset(got, 0, sizeof got);
    OK(gw_audit_checkpoints(a, 3, 1, collect_note, got, &more, &cause_));
    cr_assert_eq(got[0], 1);
    cr_assert_eq(got[1], 8);
    cr_assert(more);
    memset(got, 0, sizeof got);
    OK(gw_audit_checkpoints(a, 8, 1, collect_note, got, &more, &cause_));
    cr_assert_eq(got[0], 1);
    cr_assert_eq(got[1], 21);
    cr_assert_not(more);
    memset(got, 0, sizeof got);
    OK(gw_audit_checkpoints(a, 21, 5, collect_note, got, &more, &cause_));
    cr_assert_eq(got[0], 0);
    cr_assert_not(more);
    gw_audit_destroy(&a);
    /* a reader without a key cannot sign */
    a = open_audit(s, NULL);
    char *cause = NULL;
    note = (char *)"x";
    cr_assert_eq(gw_audit_checkpoint(a, &note, &cause), HEARTH_ERR_USAGE);
    cr_assert_null(note);
    cr_assert_str_eq(cause, "audit log: this gateway has no signing key for checkpoints");
    free(cause);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}

Test(gw_audit, checkpoints_the_empty_log)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    char *note = NULL;
    OK(gw_audit_checkpoint(a, &note, &cause_));
    tlog_checkpoint_t cp;
    OK(tlog_checkpoint_open(note, strlen(note), &verifier, &cp, &cause_));
    uint8_t empty[TLOG_HASH_LEN];
    tlog_empty_root(empty);
    cr_assert_eq(cp.size, 0);
    cr_assert_arr_eq(cp.root, empty, TLOG_HASH_LEN);
    free(note);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
}

/* ---- two connections ---------------------------------------------------- */

Test(gw_audit, picks_up_what_another_connection_appended_at_sync)
{
    gw_store_t *s1 = open_store(), *s2 = open_store();
    gw_audit_t *a1 = open_audit(s1, signer), *a2 = open_audit(s2, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    append_batch(s1, a1, mt, 0, 5);
    /* "hearth-gateway project add" in another process */
    append_batch(s2, a2, mt, 5, 8);
    cr_assert_eq(gw_audit_size(a1), 5, "nothing is read until sync");
    append_batch(s1, a1, mt, 8, 19);   /* asserts the sync saw 8 */
    expect_roots_match(a1, mt);
    append_batch(s2, a2, mt, 19, 20);
    append_batch(s2, a2, mt, 20, 23);
    append_batch(s1, a1, mt, 23, 33);
    expect_roots_match(a1, mt);
    OK(gw_audit_sync(a2, &cause_));
    expect_roots_match(a2, mt);
    /* both sign the same checkpoint at the same size */
    char *n1 = NULL, *n2 = NULL;
    OK(gw_store_begin(s1, &cause_));
    OK(gw_audit_checkpoint(a1, &n1, &cause_));
    OK(gw_store_commit(s1, &cause_));
    OK(gw_store_begin(s2, &cause_));
    OK(gw_audit_sync(a2, &cause_));
    OK(gw_audit_checkpoint(a2, &n2, &cause_));
    OK(gw_store_commit(s2, &cause_));
    cr_assert_str_eq(n1, n2);
    free(n1);
    free(n2);
    gw_audit_destroy(&a1);
    gw_audit_destroy(&a2);
    gw_store_destroy(&s1);
    gw_store_destroy(&s2);
    tlog_memtree_destroy(&mt);
}

/* ---- rollback ----------------------------------------------------------- */

Test(gw_audit, rollback_then_reset_leaves_a_consistent_log)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new(), *lost = tlog_memtree_new();
    append_batch(s, a, mt, 0, 6);
    /* a batch that fails to commit */
    OK(gw_store_begin(s, &cause_));
    OK(gw_audit_sync(a, &cause_));
    for (uint64_t i = 6; i < 9; i++)
        append_one(a, lost, i);
    cr_assert_eq(gw_audit_size(a), 9);
    gw_store_rollback(s);
    gw_audit_reset(a);
    /* the next batch starts from the committed state */
    append_batch(s, a, mt, 6, 13);
    expect_roots_match(a, mt);
    /* after a reset every call reloads, even without a sync */
    OK(gw_store_begin(s, &cause_));
    OK(gw_audit_sync(a, &cause_));
    append_one(a, lost, 13);
    gw_store_rollback(s);
    gw_audit_reset(a);
    OK(gw_store_begin(s, &cause_));
    append_one(a, mt, 13);
    OK(gw_store_commit(s, &cause_));
    gw_audit_reset(a);
    char *note = NULL;
    OK(gw_audit_checkpoint(a, &note, &cause_));
    tlog_checkpoint_t cp;
    OK(tlog_checkpoint_open(note, strlen(note), &verifier, &cp, &cause_));
    cr_assert_eq(cp.size, 14);
    uint8_t root[TLOG_HASH_LEN];
    memtree_root(mt, 14, root);
    cr_assert_arr_eq(cp.root, root, TLOG_HASH_LEN);
    free(note);
    expect_roots_match(a, mt);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
    tlog_memtree_destroy(&lost);
}

Test(gw_audit, a_refused_event_appends_nothing)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    OK(gw_store_begin(s, &cause_));
    append_one(a, mt, 0);
    audit_event_t bad = {.type = AUDIT_REFUSED, .query_id = "q", .text = "caf\xe9"};
    char *cause = NULL;
    uint64_t index = 99;
    cr_assert_eq(gw_audit_append(a, &bad, NULL, &index, &cause), HEARTH_ERR_FORMAT);
    cr_assert_str_eq(cause, "audit field 'text' is not valid UTF-8");
    cr_assert_eq(index, 99);
    free(cause);
    cr_assert_eq(gw_audit_size(a), 1);
    append_one(a, mt, 1);
    OK(gw_store_commit(s, &cause_));
    expect_roots_match(a, mt);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}

/* ---- reading leaves ----------------------------------------------------- */

typedef struct {
    uint64_t idx[64];
    size_t n;
    size_t stop_after;   /* 0: never */
} seen_t;

static int collect_leaf(void *user, uint64_t index, const uint8_t *data, size_t len)
{
    seen_t *seen = user;
    /* every leaf handed out is the encoding of its event, byte for byte */
    audit_event_t ev;
    gw_audit_index_t ix;
    char qid[QID_LEN];
    event_for(index, &ev, &ix, qid);
    uint8_t *want = NULL;
    size_t want_len = 0;
    OK(audit_event_encode(&ev, &want, &want_len, &cause_));
    cr_assert_eq(len, want_len);
    cr_assert_arr_eq(data, want, len);
    free(want);
    seen->idx[seen->n++] = index;
    return seen->stop_after != 0 && seen->n == seen->stop_after;
}

/* Runs a filtered listing from start and checks the indexes and *next. */
static void expect_leaves(gw_audit_t *a, const gw_audit_filter_t *f, uint64_t start,
                          size_t max_count, size_t max_bytes, const uint64_t *want, size_t n,
                          uint64_t want_next)
{
    seen_t seen = {.n = 0};
    uint64_t next = 12345;
    OK(gw_audit_leaves(a, f, start, max_count, max_bytes, collect_leaf, &seen, &next,
                       &cause_));
    cr_assert_eq(seen.n, n, "got %zu leaves, want %zu", seen.n, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(seen.idx[i], want[i], "leaf %zu is %llu, want %llu", i,
                     (unsigned long long)seen.idx[i], (unsigned long long)want[i]);
    cr_assert_eq(next, want_next);
}

Test(gw_audit, filters_yield_exactly_the_matching_leaves)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    append_batch(s, a, mt, 0, 24);
    /* project alpha: i % 3 == 0 */
    gw_audit_filter_t f = {.project = "alpha"};
    expect_leaves(a, &f, 0, 100, 1 << 20, (uint64_t[]){0, 3, 6, 9, 12, 15, 18, 21}, 8, 24);
    /* analyst bob: odd i */
    f = (gw_audit_filter_t){.analyst = "bob"};
    expect_leaves(a, &f, 10, 100, 1 << 20, (uint64_t[]){11, 13, 15, 17, 19, 21, 23}, 7, 24);
    /* query q2: i / 4 == 2 */
    f = (gw_audit_filter_t){.query_id = "q2"};
    expect_leaves(a, &f, 0, 100, 1 << 20, (uint64_t[]){8, 9, 10, 11}, 4, 24);
    /* time: qtime = 1000 + 10 i in [1050, 1100): i in 5..9 */
    f = (gw_audit_filter_t){.since_ms = 1050, .until_ms = 1100};
    expect_leaves(a, &f, 0, 100, 1 << 20, (uint64_t[]){5, 6, 7, 8, 9}, 5, 24);
    f = (gw_audit_filter_t){.since_ms = 1200};
    expect_leaves(a, &f, 0, 100, 1 << 20, (uint64_t[]){20, 21, 22, 23}, 4, 24);
    f = (gw_audit_filter_t){.until_ms = 1020};
    expect_leaves(a, &f, 0, 100, 1 << 20, (uint64_t[]){0, 1}, 2, 24);
    /* everything together: alpha, bob, qtime in [1000, 1200): i = 3, 9, 15 */
    f = (gw_audit_filter_t){.project = "alpha", .analyst = "bob", .since_ms = 1000,
                            .until_ms = 1200};
    expect_leaves(a, &f, 0, 100, 1 << 20, (uint64_t[]){3, 9, 15}, 3, 24);
    /* "" and NULL are no filter */
    f = (gw_audit_filter_t){.project = "", .analyst = NULL};
    expect_leaves(a, &f, 20, 100, 1 << 20, (uint64_t[]){20, 21, 22, 23}, 4, 24);
    expect_leaves(a, NULL, 22, 100, 1 << 20, (uint64_t[]){22, 23}, 2, 24);
    /* nothing matches; nothing left */
    f = (gw_audit_filter_t){.project = "delta"};
    expect_leaves(a, &f, 0, 100, 1 << 20, NULL, 0, 24);
    expect_leaves(a, NULL, 24, 100, 1 << 20, NULL, 0, 24);
    expect_leaves(a, NULL, 99, 100, 1 << 20, NULL, 0, 24);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}

Test(gw_audit, pages_leaves_by_count_and_bytes)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    append_batch(s, a, mt, 0, 24);
    gw_audit_filter_t f = {.project = "beta"};   /* 1, 4, 7, ... */
    expect_leaves(a, &f, 0, 3, 1 << 20, (uint64_t[]){1, 4, 7}, 3, 10);
    expect_leaves(a, &f, 10, 3, 1 << 20, (uint64_t[]){10, 13, 16}, 3, 19);
    expect_leaves(a, &f, 19, 3, 1 << 20, (uint64_t[]){19, 22}, 2, 24);
    /* a count of 0 still yields one leaf */
    expect_leaves(a, NULL, 5, 0, 1 << 20, (uint64_t[]){5}, 1, 6);
    /* bytes: the first leaf always, then only while the total fits */
    size_t len0 = 0, len1 = 0;
    uint8_t *leaf = NULL;
    audit_event_t ev;
    gw_audit_index_t ix;
    char qid[QID_LEN];
    event_for(0, &ev, &ix, qid);
    OK(audit_event_encode(&ev, &leaf, &len0, &cause_));
    free(leaf);
    event_for(1, &ev, &ix, qid);
    OK(audit_event_encode(&ev, &leaf, &len1, &cause_));
    free(leaf);
    expect_leaves(a, NULL, 0, 100, 1, (uint64_t[]){0}, 1, 1);
    expect_leaves(a, NULL, 0, 100, len0 + len1 - 1, (uint64_t[]){0}, 1, 1);
    expect_leaves(a, NULL, 0, 100, len0 + len1, (uint64_t[]){0, 1}, 2, 2);
    /* the callback stops the walk: next is the leaf after the last one */
    seen_t seen = {.stop_after = 2};
    uint64_t next = 0;
    OK(gw_audit_leaves(a, NULL, 3, 100, 1 << 20, collect_leaf, &seen, &next, &cause_));
    cr_assert_eq(seen.n, 2);
    cr_assert_eq(next, 5);
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}

Test(gw_audit, stores_each_leaf_byte_for_byte_with_its_index_columns)
{
    gw_store_t *s = open_store();
    gw_audit_t *a = open_audit(s, signer);
    tlog_memtree_t *mt = tlog_memtree_new();
    append_batch(s, a, mt, 0, 9);
    OK(gw_store_begin(s, &cause_));
    audit_event_t gov = {.type = AUDIT_GOVERNANCE, .time_ms = 5, .project = "alpha",
                         .text = "status: active\n", .actor = "ig", .action = "project add"};
    uint64_t index = 0;
    OK(gw_audit_append(a, &gov, NULL, &index, &cause_));
    cr_assert_eq(index, 9);
    OK(gw_store_commit(s, &cause_));
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(gw_store_db(s), "SELECT idx, data, qtime, project, analyst, "
                                    "query_id FROM audit_leaves ORDER BY idx", -1, &st, NULL),
                 SQLITE_OK);
    uint64_t i = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        audit_event_t ev;
        gw_audit_index_t ix = {0};
        char qid[QID_LEN] = "";
        if (i < 9)
            event_for(i, &ev, &ix, qid);
        else
            ev = gov;
        uint8_t *want = NULL;
        size_t len = 0;
        OK(audit_event_encode(&ev, &want, &len, &cause_));
        cr_assert_eq((uint64_t)sqlite3_column_int64(st, 0), i);
        cr_assert_eq((size_t)sqlite3_column_bytes(st, 1), len);
        cr_assert_arr_eq(sqlite3_column_blob(st, 1), want, len);
        free(want);
        cr_assert_eq((uint64_t)sqlite3_column_int64(st, 2), ix.qtime_ms);
        cr_assert_str_eq((const char *)sqlite3_column_text(st, 3), ix.project ? ix.project : "");
        cr_assert_str_eq((const char *)sqlite3_column_text(st, 4), ix.analyst ? ix.analyst : "");
        cr_assert_str_eq((const char *)sqlite3_column_text(st, 5), i < 9 ? qid : "");
        i++;
    }
    sqlite3_finalize(st);
    cr_assert_eq(i, 10);
    /* the leaf hashes in audit_tree are of those bytes */
    uint8_t leaf_hash[TLOG_HASH_LEN], proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], root[TLOG_HASH_LEN];
    size_t n = 0;
    uint8_t *enc = NULL;
    size_t len = 0;
    OK(audit_event_encode(&gov, &enc, &len, &cause_));
    tlog_leaf_hash(enc, len, leaf_hash);
    free(enc);
    OK(gw_audit_inclusion(a, 9, 10, proof, &n, &cause_));
    OK(gw_audit_root(a, 10, root, &cause_));
    cr_assert(tlog_verify_inclusion(leaf_hash, 9, 10, (const uint8_t(*)[TLOG_HASH_LEN])proof, n,
                                    root));
    gw_audit_destroy(&a);
    gw_store_destroy(&s);
    tlog_memtree_destroy(&mt);
}
