/* End to end, a node's answers to linked sub-queries and its refusal of
 * replays: a real `hearth-node serve` connects over CurveZMQ on loopback to
 * a ROUTER socket here that plays the gateway (a CURVE server whose keypair
 * `hearth-keys` made; with no ZAP handler bound, libzmq admits any client
 * key, which is all a stand-in gateway needs).
 *
 * A cohort part is answered in chunks whose persons carry exactly the
 * per-query tokens computed here from the linkage key and the extract's
 * identifiers; asking the same query id again, or with another part
 * count, is refused and sends nothing; a fresh id is answered; an
 * aggregate part is refused on replay too; a target of a handful of
 * persons is refused without its size; the node's ledger (0600) records
 * each admitted part, and the node's log names parts, never counts,
 * identifiers or tokens.
 *
 * The stand-in gateway also keeps an audit log here (an in-memory RFC 6962
 * tree of real DISPATCHED leaves, checkpoints signed with a real Ed25519
 * key whose verifier the node pins), and every SubQuery carries its
 * proof. A SubQuery without one (a gateway that dispatches without
 * logging) is refused and nothing is admitted; a proof of an older leaf
 * reused for a new query is refused; a project or dataset the node's
 * [projects] does not approve is refused with a receipt whose outcome is
 * refused; every part's last message carries a receipt that the node's
 * verifier key opens and that names the part, the leaf and the
 * checkpoint; the node announces the last checkpoint it verified, also
 * after a restart; and `hearth-node receipts` lists exactly the receipts
 * issued, oldest first. Every wait is bounded (at most 30 s). */
#include "audit_event.h"
#include "audit_receipt.h"
#include "e2e_util.h"
#include "hearth_base64.h"
#include "keys_file.h"
#include "keys_sign.h"
#include "keys_token.h"
#include "proto_cohort.h"
#include "proto_wire.h"
#include "tlog_checkpoint.h"
#include "tlog_merkle.h"
#include "tlog_note.h"

#include <criterion/criterion.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zmq.h>

#define WAIT_MS 30000u

/* ---- the extract -------------------------------------------------------- */

/* Twelve persons with valid NHS numbers (the first four also with date of
 * birth, sex and postcode), in wards Abbey, Priory, Castle by i % 3 (so
 * four in each), and one record with no identifier at all (Abbey). Person
 * 0 has a second record. */
#define NPERSONS 12
#define NO_TOKEN_WARD "Abbey"

static const char *const WARDS[3] = {"Abbey", "Priory", "Castle"};

/* The i-th valid NHS number: nine digits from a base, then the modulus-11
 * check digit (bases whose check digit would be 10 are skipped). */
static void nhs_number(unsigned i, char out[11])
{
    unsigned base = 943476500u;
    for (unsigned found = 0;; base++) {
        char d[10];
        snprintf(d, sizeof d, "%09u", base);
        unsigned sum = 0;
        for (int k = 0; k < 9; k++)
            sum += (unsigned)(d[k] - '0') * (unsigned)(10 - k);
        unsigned check = 11 - sum % 11;
        if (check == 11)
            check = 0;
        if (check == 10)
            continue;
        if (found++ == i) {
            snprintf(out, 11, "%s%u", d, check);
            return;
        }
    }
}

static const char DOB[] = "1950-03-01";

/* The postcode of person i < 4, normalised (see extract). */
static void postcode(unsigned i, char out[8])
{
    snprintf(out, 8, "LS%u4AP", i + 1);
}

static char *extract(void)
{
    char *text = e2e_asprintf("nhs_number,date_of_birth,sex,postcode,ward,age_band\n");
    for (unsigned i = 0; i < NPERSONS; i++) {
        char nhs[11];
        nhs_number(i, nhs);
        /* Written as extracts do: spaces in the number, a lower-case
         * postcode with a space (normalised, it is postcode(i)). */
        char *row = i < 4 ? e2e_asprintf("%.3s %.3s %.4s,%s,M,ls%u 4ap,%s,65-74\n", nhs,
                                         nhs + 3, nhs + 6, DOB, i + 1, WARDS[i % 3])
                          : e2e_asprintf("%s,,,,%s,75+\n", nhs, WARDS[i % 3]);
        char *next = e2e_asprintf("%s%s", text, row);
        free(text);
        free(row);
        text = next;
        if (i == 0) {
            next = e2e_asprintf("%s%s,,,,%s,75+\n", text, nhs, WARDS[0]);
            free(text);
            text = next;
        }
    }
    char *next = e2e_asprintf("%s,,,,%s,18-64\n", text, NO_TOKEN_WARD);
    free(text);
    return next;
}

/* ---- the fixture: keys, config, ingest, a node and a stand-in gateway ---- */

static struct {
    char *tmp;
    char *config;
    char *log;
    char *ledger;
    void *ctx;
    void *router;
    proto_peer_t node;      /* the node's routing id, from its Hello */
    e2e_proc_t *proc;
    keys_token_t *linkage;  /* K, to compute the tokens the node must send */
    char *why;              /* why the setup failed, or NULL */
    /* The stand-in gateway's audit log. */
    keys_signer_t *log_key; /* signs checkpoints; the node pins its verifier */
    tlog_verifier_t node_v; /* the node's receipt verifier key */
    tlog_memtree_t *tree;
    uint64_t node_size;     /* the checkpoint size the node must hold by now */
    uint64_t hello_size;    /* Hello.audit_size of the node's last Hello */
    struct {                /* the last dispatch logged */
        uint64_t index, size;
        uint8_t root[TLOG_HASH_LEN];
        uint8_t *leaf;
        size_t len;
    } last;
    size_t nreceipts;
    char *receipts[64];     /* every receipt received, in order */
} fx;

/* Runs a built program; on failure sets fx.why. */
static void run(char *const argv[])
{
    e2e_result_t r;
    int status = e2e_run(argv, WAIT_MS, &r);
    if (status != 0 && fx.why == NULL)
        fx.why = e2e_asprintf("%s %s exited %d: %s", argv[0], argv[1], status, r.err);
    e2e_result_free(&r);
}

/* Waits up to WAIT_MS for one message on the router; NULL on timeout. */
static Hearth__Envelope *recv_env(proto_peer_t *peer)
{
    zmq_pollitem_t item = {fx.router, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&item, 1, WAIT_MS) <= 0)
        return NULL;
    Hearth__Envelope *env = NULL;
    char *cause = NULL;
    if (proto_recv(fx.router, peer, PROTO_MAX_NODE_MSG, NULL, 0, &env, &cause) != HEARTH_OK) {
        free(cause);
        return NULL;
    }
    return env;
}

/* Makes the audit keys: the gateway's (signer kept here) and the node's
 * (verifier kept here). */
static void setup_audit_keys(void)
{
    char *gw = e2e_asprintf("%s/gateway-audit", fx.tmp);
    char *node = e2e_asprintf("%s/trust-audit", fx.tmp);
    char *path = NULL, *cause = NULL;
    if (keys_sign_generate(gw, "gateway-audit", &cause) != HEARTH_OK ||
        keys_sign_generate(node, "trust-audit", &cause) != HEARTH_OK) {
        fx.why = e2e_asprintf("cannot make the audit keys: %s", cause);
        goto done;
    }
    path = e2e_asprintf("%s.signer", gw);
    if (keys_signer_load(path, &fx.log_key, &cause) != HEARTH_OK) {
        fx.why = e2e_asprintf("cannot read the gateway's audit key: %s", cause);
        goto done;
    }
    free(path);
    path = e2e_asprintf("%s.vkey", node);
    if (tlog_verifier_load(path, &fx.node_v, &cause) != HEARTH_OK)
        fx.why = e2e_asprintf("cannot read the node's verifier key: %s", cause);
done:
    free(cause);
    free(path);
    free(gw);
    free(node);
    fx.tree = tlog_memtree_new();
}

static void setup_keys_and_data(void)
{
    fx.tmp = e2e_tmpdir("replay");
    if (fx.tmp == NULL) {
        fx.why = e2e_asprintf("cannot make a temporary folder");
        return;
    }
    char *keys = e2e_bin("hearth-keys");
    char *gw = e2e_asprintf("%s/gateway", fx.tmp);
    char *node = e2e_asprintf("%s/trust", fx.tmp);
    char *lk = e2e_asprintf("%s/linkage.key", fx.tmp);
    run((char *[]){keys, "keypair", gw, NULL});
    run((char *[]){keys, "keypair", node, NULL});
    run((char *[]){keys, "linkage-key", lk, NULL});
    free(keys);
    if (fx.why == NULL)
        setup_audit_keys();
    if (fx.why == NULL) {
        uint8_t key[KEYS_LINKAGE_KEY_LEN];
        char *cause = NULL;
        if (keys_linkage_load(lk, key, &cause) == HEARTH_OK)
            fx.linkage = keys_token_new(key);
        else
            fx.why = e2e_asprintf("cannot read the linkage key: %s", cause);
        free(cause);
        memset(key, 0, sizeof key);
    }
    /* The stand-in gateway: a CURVE server on a free loopback port. */
    char pub[KEYS_Z85_LEN + 1], sec[KEYS_Z85_LEN + 1];
    char *gw_key = e2e_asprintf("%s.key", gw);
    char *cause = NULL;
    if (fx.why == NULL && keys_curve_load_secret(gw_key, pub, sec, &cause) != HEARTH_OK)
        fx.why = e2e_asprintf("cannot read the gateway key: %s", cause);
    free(cause);
    free(gw_key);
    char endpoint[128] = "";
    if (fx.why == NULL) {
        fx.ctx = zmq_ctx_new();
        fx.router = zmq_socket(fx.ctx, ZMQ_ROUTER);
        int one = 1, zero = 0;
        int64_t maxmsg = PROTO_MAX_NODE_MSG;
        size_t len = sizeof endpoint;
        if (zmq_setsockopt(fx.router, ZMQ_CURVE_SERVER, &one, sizeof one) != 0 ||
            zmq_setsockopt(fx.router, ZMQ_CURVE_SECRETKEY, sec, KEYS_Z85_LEN) != 0 ||
            zmq_setsockopt(fx.router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
            zmq_setsockopt(fx.router, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
            zmq_bind(fx.router, "tcp://127.0.0.1:*") != 0 ||
            zmq_getsockopt(fx.router, ZMQ_LAST_ENDPOINT, endpoint, &len) != 0)
            fx.why = e2e_asprintf("cannot set up the stand-in gateway: %s",
                                  zmq_strerror(zmq_errno()));
    }
    memset(sec, 0, sizeof sec);
    fx.config = e2e_asprintf("%s/node.ini", fx.tmp);
    fx.log = e2e_asprintf("%s/node.log", fx.tmp);
    fx.ledger = e2e_asprintf("%s/trust.db.ledger", fx.tmp);
    /* p1 may ask about ae; p3 only about a dataset this node lacks. */
    char *ini = e2e_asprintf("[node]\nname = trust\ndatabase = trust.db\n"
                             "linkage_key = linkage.key\ncurve_key = trust.key\n"
                             "signing_key = trust-audit.signer\n\n"
                             "[gateway]\nendpoint = %s\npublic_key = gateway.pub\n"
                             "audit_key = gateway-audit.vkey\n\n"
                             "[projects]\np1 = ae\np3 = housing\n", endpoint);
    if (fx.why == NULL && e2e_write_file(fx.config, ini, strlen(ini)) != 0)
        fx.why = e2e_asprintf("cannot write %s", fx.config);
    free(ini);
    char *csv = e2e_asprintf("%s/ae.csv", fx.tmp);
    char *text = extract();
    if (fx.why == NULL && e2e_write_file(csv, text, strlen(text)) != 0)
        fx.why = e2e_asprintf("cannot write %s", csv);
    free(text);
    char *hn = e2e_bin("hearth-node");
    if (fx.why == NULL)
        run((char *[]){hn, "ingest", "--config", fx.config, "ae", csv, NULL});
    free(hn);
    free(csv);
    free(gw);
    free(node);
    free(lk);
}

/* Starts the node and waits for its Hello; answers it with a Welcome. */
static void start_node(void)
{
    char *hn = e2e_bin("hearth-node");
    char *argv[] = {hn, "serve", "--config", fx.config, NULL};
    fx.proc = e2e_proc_start(argv, fx.log, &fx.why);
    free(hn);
    if (fx.proc == NULL)
        return;
    Hearth__Envelope *env = recv_env(&fx.node);
    if (env == NULL || env->body_case != HEARTH__ENVELOPE__BODY_HELLO) {
        char *log = e2e_read_file(fx.log, 1u << 20, NULL);
        fx.why = e2e_asprintf("no Hello from the node within %u ms; its log:\n%s", WAIT_MS,
                              log ? log : "");
        free(log);
        proto_free(&env);
        return;
    }
    fx.hello_size = env->hello->audit_size;
    proto_free(&env);
    Hearth__Welcome welcome = HEARTH__WELCOME__INIT;
    welcome.gateway = "test";
    Hearth__Envelope out = HEARTH__ENVELOPE__INIT;
    out.body_case = HEARTH__ENVELOPE__BODY_WELCOME;
    out.welcome = &welcome;
    char *cause = NULL;
    if (proto_send(fx.router, &fx.node, &out, 0, &cause) != HEARTH_OK)
        fx.why = e2e_asprintf("cannot send Welcome: %s", cause);
    free(cause);
}

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    setup_keys_and_data();
    if (fx.why == NULL)
        start_node();
}

static void teardown(void)
{
    e2e_proc_stop(&fx.proc, 10000);
    if (fx.router)
        zmq_close(fx.router);
    if (fx.ctx)
        zmq_ctx_term(fx.ctx);
    keys_token_destroy(&fx.linkage);
    keys_signer_destroy(&fx.log_key);
    tlog_memtree_destroy(&fx.tree);
    free(fx.last.leaf);
    for (size_t i = 0; i < fx.nreceipts; i++)
        free(fx.receipts[i]);
    if (fx.tmp && getenv("HEARTH_E2E_KEEP"))
        fprintf(stderr, "kept %s\n", fx.tmp);
    else
        e2e_rmtree(fx.tmp);
    free(fx.tmp);
    free(fx.config);
    free(fx.log);
    free(fx.ledger);
    free(fx.why);
    memset(&fx, 0, sizeof fx);
}

TestSuite(e2e_replay, .init = setup, .fini = teardown, .timeout = 120);

static void require_node(void)
{
    cr_assert_null(fx.why, "setup failed: %s", fx.why);
}

/* ---- asking ------------------------------------------------------------- */

typedef struct {
    Hearth__TermOp op;
    const char *column;
    const char *value;   /* one text value, or NULL */
} term_t;

/* How a sub-query's audit proof is made. */
typedef enum {
    LOGGED,        /* its DISPATCHED leaf appended, with a fresh checkpoint */
    UNLOGGED,      /* no proof at all: a gateway that dispatches without logging */
    REUSED_LEAF    /* the last dispatch's leaf and a fresh checkpoint */
} audit_how_t;

static const char *kind_text(Hearth__SubQueryKind kind)
{
    return kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE ? "aggregate"
         : kind == HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT ? "cohort" : "target";
}

/* Fills a with the proof for q as `how` says, logging its dispatch first
 * (after an unrelated event, so leaves are not all dispatches). The
 * buffers live in *store until the caller frees them. */
typedef struct {
    uint8_t inc_h[TLOG_MAX_PROOF][TLOG_HASH_LEN], con_h[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    ProtobufCBinaryData inc[TLOG_MAX_PROOF], con[TLOG_MAX_PROOF];
    char *note;
} proof_store_t;

static void log_event(const audit_event_t *ev, uint8_t **bytes, size_t *len)
{
    char *cause = NULL;
    hearth_err_t rc = audit_event_encode(ev, bytes, len, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause);
    tlog_memtree_append(fx.tree, *bytes, *len);
}

static void prove(const Hearth__SubQuery *q, audit_how_t how, Hearth__AuditProof *a,
                  proof_store_t *store)
{
    hearth__audit_proof__init(a);
    if (how == LOGGED) {
        audit_event_t ev;
        memset(&ev, 0, sizeof ev);
        ev.type = AUDIT_RECEIVED;
        ev.time_ms = 1700000000000ull;
        ev.query_id = q->query_id;
        ev.analyst = "ann";
        ev.analyst_key = "";
        ev.project = q->project;
        ev.text = "SELECT ...";
        uint8_t *bytes = NULL;
        size_t len = 0;
        log_event(&ev, &bytes, &len);
        free(bytes);
        ev.type = AUDIT_DISPATCHED;
        ev.node = "trust";
        char *dataset = e2e_asprintf("trust.%s", q->dataset);
        ev.dataset = dataset;
        ev.kind = (char *)kind_text(q->kind);
        ev.part = q->part;
        ev.nparts = q->nparts;
        free(fx.last.leaf);
        fx.last.index = tlog_memtree_size(fx.tree);
        log_event(&ev, &fx.last.leaf, &fx.last.len);
        free(dataset);
    }
    uint64_t size = tlog_memtree_size(fx.tree);
    tlog_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    strcpy(cp.origin, "gateway-audit");
    cp.size = size;
    char *cause = NULL;
    hearth_err_t rc = tlog_root(tlog_memtree_subtree, fx.tree, size, cp.root, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause);
    rc = tlog_checkpoint_sign(fx.log_key, &cp, &store->note, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause);
    size_t n = 0;
    rc = tlog_inclusion_proof(tlog_memtree_subtree, fx.tree, fx.last.index, size, store->inc_h,
                              &n, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause);
    for (size_t i = 0; i < n; i++)
        store->inc[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, store->inc_h[i]};
    a->inclusion = store->inc;
    a->n_inclusion = n;
    rc = tlog_consistency_proof(tlog_memtree_subtree, fx.tree, fx.node_size, size,
                                store->con_h, &n, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause);
    for (size_t i = 0; i < n; i++)
        store->con[i] = (ProtobufCBinaryData){TLOG_HASH_LEN, store->con_h[i]};
    a->consistency = store->con;
    a->n_consistency = n;
    a->consistency_from = fx.node_size;
    a->leaf_index = fx.last.index;
    a->leaf = (ProtobufCBinaryData){fx.last.len, fx.last.leaf};
    a->checkpoint = store->note;
    if (how == LOGGED) {
        /* The node verifies this and keeps it as its last checkpoint. */
        fx.last.size = size;
        memcpy(fx.last.root, cp.root, TLOG_HASH_LEN);
        fx.node_size = size;
    }
}

/* Sends one sub-query of kind over dataset `dataset` under project: COUNT(PERSONS)
 * grouped by group (or not, when NULL), with the filter terms[0..nterms)
 * in postfix, and its audit proof made as `how` says. */
static void ask_as(const char *qid, Hearth__SubQueryKind kind, uint32_t part, uint32_t nparts,
                   const char *group, const term_t *terms, size_t nterms, const char *project,
                   const char *dataset, audit_how_t how)
{
    Hearth__SubQuery q = HEARTH__SUB_QUERY__INIT;
    q.query_id = (char *)qid;
    q.dataset = (char *)dataset;
    q.project = (char *)project;
    q.kind = kind;
    q.measure = HEARTH__MEASURE__MEASURE_COUNT_PERSONS;
    q.part = part;
    q.nparts = nparts;
    char *groups[1] = {(char *)group};
    if (group) {
        q.group_by = groups;
        q.n_group_by = 1;
    }
    Hearth__Term t[4];
    Hearth__Term *tp[4];
    Hearth__Value v[4];
    Hearth__Value *vp[4];
    cr_assert_leq(nterms, 4);
    for (size_t i = 0; i < nterms; i++) {
        hearth__term__init(&t[i]);
        t[i].op = terms[i].op;
        t[i].column = (char *)(terms[i].column ? terms[i].column : "");
        if (terms[i].value) {
            hearth__value__init(&v[i]);
            v[i].kind_case = HEARTH__VALUE__KIND_TEXT;
            v[i].text = (char *)terms[i].value;
            vp[i] = &v[i];
            t[i].values = &vp[i];
            t[i].n_values = 1;
        }
        tp[i] = &t[i];
    }
    q.filter = tp;
    q.n_filter = nterms;
    Hearth__AuditProof a;
    proof_store_t *store = calloc(1, sizeof *store);
    cr_assert_not_null(store);
    if (how != UNLOGGED) {
        prove(&q, how, &a, store);
        q.audit = &a;
    }
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = &q;
    char *cause = NULL;
    hearth_err_t rc = proto_send(fx.router, &fx.node, &env, 0, &cause);
    free(store->note);
    free(store);
    cr_assert_eq(rc, HEARTH_OK, "send: %s", cause);
}

/* ask_as on ae under p1, logged as a gateway must. */
static void ask(const char *qid, Hearth__SubQueryKind kind, uint32_t part, uint32_t nparts,
                const char *group, const term_t *terms, size_t nterms)
{
    ask_as(qid, kind, part, nparts, group, terms, nterms, "p1", "ae", LOGGED);
}

/* The SubResults of one answer, in order, up to the one without `more` (or
 * an error). */
typedef struct {
    size_t n;
    Hearth__Envelope *env[64];
} answer_t;

static Hearth__SubResult *sub(const answer_t *a, size_t i)
{
    return a->env[i]->sub_result;
}

static void answer_free(answer_t *a)
{
    for (size_t i = 0; i < a->n; i++)
        proto_free(&a->env[i]);
    a->n = 0;
}

/* Receives the answer to qid, failing the test after WAIT_MS. */
static void receive(const char *qid, answer_t *a)
{
    memset(a, 0, sizeof *a);
    for (;;) {
        proto_peer_t peer;
        Hearth__Envelope *env = recv_env(&peer);
        cr_assert_not_null(env, "no answer to %s within %u ms", qid, WAIT_MS);
        if (env->body_case != HEARTH__ENVELOPE__BODY_SUB_RESULT) {
            proto_free(&env);   /* a repeated Hello, say */
            continue;
        }
        cr_assert_str_eq(env->sub_result->query_id, qid);
        cr_assert_lt(a->n, 64);
        a->env[a->n++] = env;
        if (env->sub_result->receipt && env->sub_result->receipt[0]) {
            cr_assert_lt(fx.nreceipts, 64);
            fx.receipts[fx.nreceipts++] = strdup(env->sub_result->receipt);
        }
        if (!env->sub_result->ok || !env->sub_result->more)
            return;
    }
}

/* Checks that r carries the node's receipt for part `part` of `nparts` of
 * qid, for the last dispatch logged, with outcome answered or refused. */
static void expect_receipt(const Hearth__SubResult *r, const char *qid, uint32_t part,
                           uint32_t nparts, bool answered)
{
    cr_assert_not_null(r->receipt);
    cr_assert_gt(strlen(r->receipt), 0, "no receipt");
    char *text = NULL, *cause = NULL;
    hearth_err_t rc = tlog_note_open(r->receipt, strlen(r->receipt), &fx.node_v, &text, &cause);
    cr_assert_eq(rc, HEARTH_OK, "the receipt does not verify: %s", cause);
    char root[HEARTH_BASE64_LEN(TLOG_HASH_LEN) + 1];
    hearth_base64_encode(fx.last.root, TLOG_HASH_LEN, root);
    char *want = e2e_asprintf("hearth-receipt v1\nnode trust\nquery %s\npart %u/%u\n"
                              "leaf %llu\ncheckpoint %llu %s\noutcome %s\n", qid, part, nparts,
                              (unsigned long long)fx.last.index,
                              (unsigned long long)fx.last.size, root,
                              answered ? "answered" : "refused");
    cr_assert_str_eq(text, want);
    free(want);
    free(text);
}

/* Receipts a refusal comes with. */
typedef enum { NO_RECEIPT, REFUSED_RECEIPT } receipt_want_t;

/* Expects a single refusal of part `part` of nparts with exactly want,
 * with a receipt or not. */
static void expect_refused_as(const char *qid, uint32_t part, uint32_t nparts,
                              receipt_want_t receipt, const char *want)
{
    answer_t a;
    receive(qid, &a);
    cr_assert_eq(a.n, 1);
    Hearth__SubResult *r = sub(&a, 0);
    cr_assert_not(r->ok);
    cr_assert_not(r->more);
    cr_assert_eq(r->part, part);
    cr_assert_eq(r->persons.len, 0);
    cr_assert_eq(r->n_groups, 0);
    /* Every refusal here is the node's policy, not a fault. */
    cr_assert(r->refused, "a policy refusal is marked refused");
    if (want)
        cr_assert_str_eq(r->error, want);
    cr_assert_eq(r->audit_size, fx.node_size);
    if (receipt == REFUSED_RECEIPT)
        expect_receipt(r, qid, part, nparts, false);
    else
        cr_assert_str_eq(r->receipt ? r->receipt : "", "", "a receipt where none is due");
    answer_free(&a);
}

/* A refusal after the dispatch was verified: with a refused receipt. */
static void expect_refused(const char *qid, uint32_t part, uint32_t nparts, const char *want)
{
    expect_refused_as(qid, part, nparts, REFUSED_RECEIPT, want);
}

/* ---- what the node must send -------------------------------------------- */

/* Person i's per-query tokens under qid: NHS first, then DSP (i < 4). */
static size_t expected_tokens(const char *qid, unsigned i, uint8_t out[2][16])
{
    keys_token_t *kq = keys_token_for_query(fx.linkage, qid);
    uint8_t t[KEYS_TOKEN_LEN];
    char nhs[11];
    nhs_number(i, nhs);
    keys_token_nhs(fx.linkage, nhs, t);
    keys_token_requery(kq, t, out[0]);
    size_t n = 1;
    if (i < 4) {
        char pc[8];
        postcode(i, pc);
        keys_token_dsp(fx.linkage, DOB, 'M', pc, strlen(pc), t);
        keys_token_requery(kq, t, out[1]);
        n = 2;
    }
    keys_token_destroy(&kq);
    return n;
}

/* Checks a whole cohort answer to qid (COUNT(PERSONS) by ward, no filter):
 * every person of the extract exactly once with exactly its tokens, in the
 * cell of its ward, plus the tokenless person. */
static void expect_cohort(const char *qid, const answer_t *a)
{
    cr_assert_geq(a->n, 1);
    Hearth__SubResult *first = sub(a, 0);
    cr_assert(first->ok, "refused: %s", first->error);
    cr_assert_eq(first->n_groups, 3, "cells listed: %zu", first->n_groups);
    const char *cell_ward[3];
    for (size_t c = 0; c < 3; c++) {
        cr_assert_eq(first->groups[c]->n_group, 1);
        cr_assert_eq(first->groups[c]->group[0]->kind_case, HEARTH__VALUE__KIND_TEXT);
        cell_ward[c] = first->groups[c]->group[0]->text;
        cr_assert_eq(first->groups[c]->records, 0);
        cr_assert_eq(first->groups[c]->persons, 0);
    }
    bool seen[NPERSONS] = {false};
    size_t tokenless = 0, total = 0;
    for (size_t k = 0; k < a->n; k++) {
        Hearth__SubResult *r = sub(a, k);
        cr_assert(r->ok);
        cr_assert_eq(r->chunk, k);
        cr_assert_eq(r->part, 0);
        cr_assert_eq(r->more, k + 1 < a->n);
        if (k > 0)
            cr_assert_eq(r->n_groups, 0, "only chunk 0 lists cells");
        /* Only the last message carries the receipt. */
        if (k + 1 < a->n)
            cr_assert_str_eq(r->receipt ? r->receipt : "", "");
        else
            expect_receipt(r, qid, 0, 1, true);
        proto_cohort_reader_t rd;
        proto_cohort_reader_init(&rd, r->persons.data, r->persons.len,
                                 PROTO_COHORT_PERSONS_ONLY, 0, 3);
        proto_cohort_person_t p;
        char *cause = NULL;
        hearth_err_t rc;
        while ((rc = proto_cohort_next_person(&rd, &p, &cause)) == HEARTH_OK) {
            total++;
            cr_assert_eq(p.ncells, 1);
            proto_cohort_cell_t cell;
            cr_assert_eq(proto_cohort_next_cell(&rd, &cell, &cause), HEARTH_OK, "%s", cause);
            cr_assert_eq(cell.mask, 1);
            if (p.nnhs + p.ndsp == 0) {
                tokenless++;
                cr_assert_str_eq(cell_ward[cell.cell], NO_TOKEN_WARD);
                continue;
            }
            int who = -1;
            for (unsigned i = 0; i < NPERSONS && who < 0; i++) {
                uint8_t want[2][16];
                size_t n = expected_tokens(qid, i, want);
                if (memcmp(p.tokens, want[0], 16) != 0)
                    continue;
                who = (int)i;
                cr_assert_eq(p.nnhs, 1, "person %u", i);
                cr_assert_eq(p.ndsp, n - 1, "person %u", i);
                if (n == 2)
                    cr_assert_eq(memcmp(p.tokens + 16, want[1], 16), 0, "person %u's DSP "
                                 "token", i);
            }
            cr_assert_geq(who, 0, "a person whose tokens match no person of the extract");
            cr_assert_not(seen[who], "person %d sent twice", who);
            seen[who] = true;
            cr_assert_str_eq(cell_ward[cell.cell], WARDS[who % 3]);
        }
        cr_assert_eq(rc, HEARTH_ERR_NOT_FOUND, "%s", cause ? cause : "");
        free(cause);
    }
    cr_assert_eq(total, NPERSONS + 1);
    cr_assert_eq(tokenless, 1);
    for (unsigned i = 0; i < NPERSONS; i++)
        cr_assert(seen[i], "person %u not sent", i);
}

static int64_t ledger_int(const char *sql)
{
    sqlite3 *db = NULL;
    cr_assert_eq(sqlite3_open_v2(fx.ledger, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(db));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* ---- the tests ---------------------------------------------------------- */

#define QID "0123456789abcdef0123456789abcdef"
#define QID2 "fedcba9876543210fedcba9876543210"

Test(e2e_replay, a_cohort_part_sends_every_person_as_its_requeried_tokens)
{
    require_node();
    ask(QID, HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive(QID, &a);
    expect_cohort(QID, &a);
    answer_free(&a);
}

Test(e2e_replay, a_replayed_query_id_is_refused_and_a_fresh_one_answered)
{
    require_node();
    ask(QID, HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive(QID, &a);
    expect_cohort(QID, &a);
    answer_free(&a);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM parts WHERE query_id = '" QID "'"), 1);

    /* The same id and part again: refused, nothing sent. */
    ask(QID, HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0);
    expect_refused(QID, 0, 1, "query id already answered");
    /* Another part under another part count: refused too. */
    ask(QID, HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET, 1, 2, NULL, NULL, 0);
    expect_refused(QID, 1, 2, "malformed part numbering: this query id was first seen with "
                   "another number of parts");
    /* A part number beyond the count (no receipt can name such a part). */
    ask(QID2, HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 1, 1, "ward", NULL, 0);
    expect_refused_as(QID2, 1, 1, NO_RECEIPT, "malformed part numbering: a query has 1 to 64 "
                      "parts, each numbered below their count");
    /* The refusals admitted nothing: QID2 is still fresh, and answered. */
    ask(QID2, HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0);
    receive(QID2, &a);
    expect_cohort(QID2, &a);
    answer_free(&a);

    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM parts"), 2);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM queries"), 2);
    struct stat st;
    cr_assert_eq(stat(fx.ledger, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0600);

    /* The node stops cleanly on SIGTERM (under the sanitizers, a leak or an
     * error would make the status non-zero). */
    int status = e2e_proc_stop(&fx.proc, 10000);
    cr_assert_eq(status, 0, "hearth-node exited with status %d", status);
    /* The node's log: one line per part, no count, identifier or token. */
    char *log = e2e_read_file(fx.log, 1u << 20, NULL);
    cr_assert_not_null(log);
    cr_assert_not_null(strstr(log, "answered linked part 1 of 1 (cohort) of query " QID
                              " on dataset ae in "), "log:\n%s", log);
    cr_assert_not_null(strstr(log, "answered linked part 1 of 1 (cohort) of query " QID2
                              " on dataset ae in "), "log:\n%s", log);
    cr_assert_not_null(strstr(log, "refused query " QID " (part 1 of 1, cohort): query id "
                              "already answered"), "log:\n%s", log);
    cr_assert_not_null(strstr(log, "refused query " QID " (part 2 of 2, target): malformed "
                              "part numbering"), "log:\n%s", log);
    /* Nothing follows the time: no count of persons or cells. */
    size_t lines = 0;
    for (const char *line = strstr(log, "answered linked"); line;
         line = strstr(line + 1, "answered linked"), lines++) {
        const char *in = strstr(line, " on dataset ae in ");
        cr_assert_not_null(in);
        char *end = NULL;
        strtoul(in + strlen(" on dataset ae in "), &end, 10);
        cr_assert_eq(strncmp(end, " ms\n", 4), 0, "%.*s", (int)strcspn(line, "\n"), line);
    }
    cr_assert_eq(lines, 2);
    for (unsigned i = 0; i < NPERSONS; i++) {
        char nhs[11];
        nhs_number(i, nhs);
        cr_assert_null(strstr(log, nhs), "the log holds an NHS number");
    }
    free(log);
}

Test(e2e_replay, an_aggregate_part_is_refused_when_replayed_too)
{
    require_node();
    ask("agg1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive("agg1", &a);
    cr_assert_eq(a.n, 1);
    Hearth__SubResult *r = sub(&a, 0);
    cr_assert(r->ok, "refused: %s", r->error);
    cr_assert_eq(r->part, 0);
    cr_assert_eq(r->total->persons, NPERSONS + 1);
    cr_assert_eq(r->total->records, NPERSONS + 2);
    expect_receipt(r, "agg1", 0, 1, true);
    answer_free(&a);
    ask("agg1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    expect_refused("agg1", 0, 1, "query id already answered");
}

Test(e2e_replay, a_target_of_a_handful_of_persons_is_refused_without_its_size)
{
    require_node();
    /* Four persons are 65-74: fewer than the default minimum of eight. */
    term_t t[] = {{HEARTH__TERM_OP__TERM_EQ, "age_band", "65-74"}};
    ask("t1", HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET, 0, 1, NULL, t, 1);
    answer_t a;
    receive("t1", &a);
    cr_assert_eq(a.n, 1);
    Hearth__SubResult *r = sub(&a, 0);
    cr_assert_not(r->ok);
    cr_assert_not(r->more);
    cr_assert_eq(r->persons.len, 0);
    cr_assert_not_null(r->error);
    cr_assert_gt(strlen(r->error), 0);
    cr_assert_null(strchr(r->error, '4'), "the refusal gives the cohort's size: %s", r->error);
    /* Refused after it was admitted: the receipt says so. */
    expect_receipt(r, "t1", 0, 1, false);
    answer_free(&a);
    /* All twelve persons with a token make a target big enough. */
    ask("t2", HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET, 0, 1, NULL, NULL, 0);
    receive("t2", &a);
    size_t persons = 0;
    for (size_t k = 0; k < a.n; k++) {
        r = sub(&a, k);
        cr_assert(r->ok, "refused: %s", r->error);
        cr_assert_eq(r->n_groups, 0);
        proto_cohort_reader_t rd;
        proto_cohort_reader_init(&rd, r->persons.data, r->persons.len,
                                 PROTO_COHORT_PERSONS_ONLY, 0, 0);
        proto_cohort_person_t p;
        char *cause = NULL;
        while (proto_cohort_next_person(&rd, &p, &cause) == HEARTH_OK) {
            cr_assert_gt(p.nnhs + p.ndsp, 0, "a target sent a tokenless person");
            persons++;
        }
        free(cause);
    }
    cr_assert_eq(persons, NPERSONS);
    answer_free(&a);
}

/* ---- the audit log, from the node's side -------------------------------- */

static const char UNLOGGED_WHY[] = "no audit proof: this node answers only dispatches the "
                                   "gateway has recorded in its audit log";

Test(e2e_replay, a_gateway_that_dispatches_without_logging_is_refused)
{
    require_node();
    cr_assert_eq(fx.hello_size, 0, "a new node announces no checkpoint");
    ask_as("unlogged", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0, "p1",
           "ae", UNLOGGED);
    expect_refused_as("unlogged", 0, 1, NO_RECEIPT, UNLOGGED_WHY);
    ask_as("unlogged2", HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0, "p1",
           "ae", UNLOGGED);
    expect_refused_as("unlogged2", 0, 1, NO_RECEIPT, UNLOGGED_WHY);
    /* Nothing was admitted, stored or signed. */
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM parts"), 0);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM receipts"), 0);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM checkpoint"), 0);
    /* The same id, logged, is answered: the refusal used nothing up. */
    ask("unlogged", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive("unlogged", &a);
    cr_assert_eq(a.n, 1);
    cr_assert(sub(&a, 0)->ok, "refused: %s", sub(&a, 0)->error);
    expect_receipt(sub(&a, 0), "unlogged", 0, 1, true);
    answer_free(&a);
    /* The node's log says why, as a warning. */
    int status = e2e_proc_stop(&fx.proc, 10000);
    cr_assert_eq(status, 0, "hearth-node exited with status %d", status);
    char *log = e2e_read_file(fx.log, 1u << 20, NULL);
    cr_assert_not_null(log);
    cr_assert_not_null(strstr(log, "trust warn: refused query unlogged (part 1 of 1, "
                              "aggregate): no audit proof"), "log:\n%s", log);
    free(log);
}

Test(e2e_replay, a_proof_of_an_older_leaf_reused_for_a_new_query_is_refused)
{
    require_node();
    ask("first", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive("first", &a);
    cr_assert(sub(&a, 0)->ok, "refused: %s", sub(&a, 0)->error);
    answer_free(&a);
    uint64_t held = fx.node_size;
    /* first's dispatch leaf, with a valid checkpoint and proofs, for a new id. */
    ask_as("second", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0, "p1",
           "ae", REUSED_LEAF);
    expect_refused_as("second", 0, 1, NO_RECEIPT, "audit proof: the logged dispatch is of "
                      "another query than this sub-query");
    cr_assert_eq(fx.node_size, held);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM parts WHERE query_id = 'second'"), 0);
    cr_assert_eq(ledger_int("SELECT size FROM checkpoint"), (int64_t)held);
}

Test(e2e_replay, a_project_or_dataset_not_approved_is_refused_with_a_refused_receipt)
{
    require_node();
    ask_as("np1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0, "p2", "ae",
           LOGGED);
    expect_refused("np1", 0, 1, "project 'p2' is not approved by this node");
    ask_as("np2", HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0, "p3", "ae",
           LOGGED);
    expect_refused("np2", 0, 1, "dataset 'ae' is not approved for project 'p3' by this node");
    /* Refused before admission: the ids stay unused; both receipts kept. */
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM parts"), 0);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM receipts WHERE outcome = 'refused'"), 2);
    cr_assert_eq(ledger_int("SELECT COUNT(*) FROM receipts"), 2);
    /* The approved project is answered. */
    ask("np3", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive("np3", &a);
    cr_assert(sub(&a, 0)->ok, "refused: %s", sub(&a, 0)->error);
    expect_receipt(sub(&a, 0), "np3", 0, 1, true);
    answer_free(&a);
}

Test(e2e_replay, hearth_node_receipts_lists_exactly_the_receipts_issued)
{
    require_node();
    /* Answered (aggregate, cohort), refused after verification (a replay,
     * a project not approved), and one unverified (no receipt). */
    ask("r1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive("r1", &a);
    answer_free(&a);
    ask("r2", HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 0, 1, "ward", NULL, 0);
    receive("r2", &a);
    expect_cohort("r2", &a);
    answer_free(&a);
    ask("r1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    expect_refused("r1", 0, 1, "query id already answered");
    ask_as("r3", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0, "p2", "ae",
           LOGGED);
    expect_refused("r3", 0, 1, "project 'p2' is not approved by this node");
    ask_as("r4", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0, "p1", "ae",
           UNLOGGED);
    expect_refused_as("r4", 0, 1, NO_RECEIPT, UNLOGGED_WHY);
    cr_assert_eq(fx.nreceipts, 4);

    /* Every receipt opens with the node's verifier key, read from its file. */
    char *vkey = e2e_asprintf("%s/trust-audit.vkey", fx.tmp);
    tlog_verifier_t v;
    char *cause = NULL;
    cr_assert_eq(tlog_verifier_load(vkey, &v, &cause), HEARTH_OK, "%s", cause);
    free(vkey);
    static const char *const outcome[4] = {"answered", "answered", "refused", "refused"};
    static const char *const qid[4] = {"r1", "r2", "r1", "r3"};
    for (size_t i = 0; i < 4; i++) {
        char *text = NULL;
        cr_assert_eq(tlog_note_open(fx.receipts[i], strlen(fx.receipts[i]), &v, &text, &cause),
                     HEARTH_OK, "receipt %zu: %s", i, cause);
        audit_receipt_t r;
        cr_assert_eq(audit_receipt_parse(text, &r, &cause), HEARTH_OK, "%s", cause);
        cr_assert_str_eq(r.query_id, qid[i]);
        cr_assert_str_eq(r.answered ? "answered" : "refused", outcome[i]);
        free(text);
    }

    /* The export: one base64 line per receipt, oldest first, exactly these,
     * while the node runs and after it stops. */
    char *want = e2e_asprintf("%s", "");
    for (size_t i = 0; i < fx.nreceipts; i++) {
        size_t len = strlen(fx.receipts[i]);
        char *b64 = malloc(HEARTH_BASE64_LEN(len) + 1);
        cr_assert_not_null(b64);
        hearth_base64_encode((const uint8_t *)fx.receipts[i], len, b64);
        char *next = e2e_asprintf("%s%s\n", want, b64);
        free(b64);
        free(want);
        want = next;
    }
    char *hn = e2e_bin("hearth-node");
    char *argv[] = {hn, "receipts", "--config", fx.config, NULL};
    for (int pass = 0; pass < 2; pass++) {
        e2e_result_t r;
        int status = e2e_run(argv, WAIT_MS, &r);
        cr_assert_eq(status, 0, "hearth-node receipts exited %d: %s", status, r.err);
        cr_assert_str_eq(r.out, want);
        cr_assert_str_eq(r.err, "");
        e2e_result_free(&r);
        if (pass == 0)
            cr_assert_eq(e2e_proc_stop(&fx.proc, 10000), 0);
    }
    free(hn);
    free(want);
}

Test(e2e_replay, the_node_announces_the_last_checkpoint_it_verified_after_a_restart)
{
    require_node();
    ask("c1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    answer_t a;
    receive("c1", &a);
    answer_free(&a);
    ask("c2", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    receive("c2", &a);
    answer_free(&a);
    cr_assert_eq(fx.node_size, 4);
    cr_assert_eq(e2e_proc_stop(&fx.proc, 10000), 0);
    start_node();
    cr_assert_null(fx.why, "restart failed: %s", fx.why);
    cr_assert_eq(fx.hello_size, 4);
    /* And it goes on from there: a proof from 4 is accepted. */
    ask("c3", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    receive("c3", &a);
    cr_assert(sub(&a, 0)->ok, "refused: %s", sub(&a, 0)->error);
    expect_receipt(sub(&a, 0), "c3", 0, 1, true);
    answer_free(&a);
}
