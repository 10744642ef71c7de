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
 * identifiers or tokens. Every wait is bounded (at most 30 s). */
#include "e2e_util.h"
#include "keys_file.h"
#include "keys_token.h"
#include "proto_cohort.h"
#include "proto_wire.h"

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
    char *ini = e2e_asprintf("[node]\nname = trust\ndatabase = trust.db\n"
                             "linkage_key = linkage.key\ncurve_key = trust.key\n\n"
                             "[gateway]\nendpoint = %s\npublic_key = gateway.pub\n", endpoint);
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

/* Sends one sub-query of kind over dataset ae: COUNT(PERSONS) grouped by
 * group (or not, when NULL), with the filter terms[0..nterms) in postfix. */
static void ask(const char *qid, Hearth__SubQueryKind kind, uint32_t part, uint32_t nparts,
                const char *group, const term_t *terms, size_t nterms)
{
    Hearth__SubQuery q = HEARTH__SUB_QUERY__INIT;
    q.query_id = (char *)qid;
    q.dataset = "ae";
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
    Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
    env.body_case = HEARTH__ENVELOPE__BODY_SUB_QUERY;
    env.sub_query = &q;
    char *cause = NULL;
    hearth_err_t rc = proto_send(fx.router, &fx.node, &env, 0, &cause);
    cr_assert_eq(rc, HEARTH_OK, "send: %s", cause);
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
        if (!env->sub_result->ok || !env->sub_result->more)
            return;
    }
}

/* Expects a single refusal of part `part` with exactly want. */
static void expect_refused(const char *qid, uint32_t part, const char *want)
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
    answer_free(&a);
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
    expect_refused(QID, 0, "query id already answered");
    /* Another part under another part count: refused too. */
    ask(QID, HEARTH__SUB_QUERY_KIND__SUBQUERY_TARGET, 1, 2, NULL, NULL, 0);
    expect_refused(QID, 1, "malformed part numbering: this query id was first seen with "
                   "another number of parts");
    /* A part number beyond the count. */
    ask(QID2, HEARTH__SUB_QUERY_KIND__SUBQUERY_COHORT, 1, 1, "ward", NULL, 0);
    expect_refused(QID2, 1, "malformed part numbering: a query has 1 to 64 parts, each "
                   "numbered below their count");
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
    answer_free(&a);
    ask("agg1", HEARTH__SUB_QUERY_KIND__SUBQUERY_AGGREGATE, 0, 1, "ward", NULL, 0);
    expect_refused("agg1", 0, "query id already answered");
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
