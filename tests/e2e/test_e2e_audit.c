/* End to end, issue 6's audit log on a running partnership: every query is
 * in the gateway's log (received, decided, dispatched, the nodes' signed
 * receipts, the outcome), `hearth audit verify` checks it in the client
 * against the pinned key, edits to an exported log are caught, nodes'
 * receipts reconcile with the log, governance refusals (suspended,
 * expired, not approved by the node) are refused and audited, a gateway
 * killed between commit and dispatch leaves a log that verifies and shows
 * the query received but not completed, and a gateway that dispatches
 * without logging is refused by every node.
 *
 * `hearth sandbox` makes the keys, ingests the extracts and writes the
 * configs (and adds the project "sandbox"); it is then stopped and the test
 * runs hearth-gateway (or the test build hearth-gateway-test, whose
 * HEARTH_TEST_HOOK acts out a fault) and each hearth-node itself from that
 * state folder, so it can stop and restart them.
 *
 * The extract is written here: trust.ae has wards Abbey 40, Castle 30,
 * Delph 15, Fenwick 6 (one person per row); council.housing 55 people. */
#include "e2e_partnership.h"
#include "e2e_util.h"
#include "hearth_base64.h"
#include "hearth_buf.h"
#include "keys_sign.h"
#include "tlog_checkpoint.h"
#include "tlog_merkle.h"
#include "tlog_note.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#define Q_WARDS "SELECT ward, COUNT(*) FROM trust.ae GROUP BY ward"
#define Q_TENURE "SELECT tenure, COUNT(*) FROM council.housing GROUP BY tenure"
#define STOP_TIMEOUT_MS E2E_PARTNERSHIP_STOP_MS
#define RUN_TIMEOUT_MS 60000u

#define NNODES 2

static void nhs_number(unsigned n, char out[11])
{
    for (unsigned long base = 943476500ul;; base++) {
        char d[10];
        snprintf(d, sizeof d, "%09lu", base);
        unsigned sum = 0;
        for (int i = 0; i < 9; i++)
            sum += (unsigned)(d[i] - '0') * (unsigned)(10 - i);
        unsigned check = 11 - sum % 11;
        if (check == 10)
            continue;
        if (n-- > 0)
            continue;
        snprintf(out, 11, "%s%u", d, check == 11 ? 0 : check);
        return;
    }
}

static int write_extract(const char *dir, const char *node, const char *name, const char *text)
{
    char *folder = e2e_asprintf("%s/%s", dir, node);
    int rc = (mkdir(dir, 0700) == 0 || errno == EEXIST) &&
                     (mkdir(folder, 0700) == 0 || errno == EEXIST)
                 ? 0
                 : -1;
    char *path = e2e_asprintf("%s/%s.csv", folder, name);
    if (rc == 0)
        rc = e2e_write_file(path, text, strlen(text));
    free(folder);
    free(path);
    return rc;
}

static int write_extracts(const char *dir)
{
    static const struct {
        const char *ward;
        unsigned n;
    } wards[] = {{"Abbey", 40}, {"Castle", 30}, {"Delph", 15}, {"Fenwick", 6}};
    size_t cap = 64 * 1024, len = 0;
    char *ae = malloc(cap), *housing = malloc(cap);
    unsigned person = 0;
    len += (size_t)snprintf(ae + len, cap - len, "nhs_number,ward\n");
    for (size_t w = 0; w < 4; w++)
        for (unsigned i = 0; i < wards[w].n; i++) {
            char nhs[11];
            nhs_number(person++, nhs);
            len += (size_t)snprintf(ae + len, cap - len, "%s,%s\n", nhs, wards[w].ward);
        }
    len = 0;
    len += (size_t)snprintf(housing + len, cap - len, "nhs_number,tenure\n");
    for (unsigned i = 0; i < 55; i++) {
        char nhs[11];
        nhs_number(person++, nhs);
        len += (size_t)snprintf(housing + len, cap - len, "%s,%s\n", nhs,
                                i < 30 ? "social" : "private");
    }
    int rc = write_extract(dir, "trust", "ae", ae);
    if (rc == 0)
        rc = write_extract(dir, "council", "housing", housing);
    free(ae);
    free(housing);
    return rc;
}

/* --- the partnership ----------------------------------------------------------- */

static struct {
    char *tmp, *data, *state;
    e2e_partnership_t p;
    char *why;
} fx;

static const char *const NODE_NAMES[NNODES] = {"council", "trust"};

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.tmp = e2e_tmpdir("audit");
    if (fx.tmp == NULL) {
        fx.why = e2e_asprintf("cannot make a temporary folder");
        return;
    }
    fx.data = e2e_asprintf("%s/data", fx.tmp);
    fx.state = e2e_asprintf("%s/.hearth", fx.data);
    fx.p = (e2e_partnership_t){.state = fx.state, .logs = fx.tmp, .nodes = NODE_NAMES,
                               .nnodes = NNODES};
    if (write_extracts(fx.data) != 0)
        fx.why = e2e_asprintf("cannot write the extracts");
}

static void teardown(void)
{
    e2e_partnership_free(&fx.p);
    if (fx.tmp && getenv("HEARTH_E2E_KEEP"))
        fprintf(stderr, "kept %s\n", fx.tmp);
    else
        e2e_rmtree(fx.tmp);
    free(fx.tmp);
    free(fx.data);
    free(fx.state);
    free(fx.why);
    memset(&fx, 0, sizeof fx);
}

TestSuite(e2e_audit, .init = setup, .fini = teardown, .timeout = 300);

/* The sandbox once: keys, ingest, configs, the project "sandbox". */
static void prepare(void)
{
    cr_assert_null(fx.why, "setup failed: %s", fx.why);
    char *log = e2e_asprintf("%s/sandbox.log", fx.tmp);
    e2e_partnership_prepare(fx.data, log);
    free(log);
}

static void launch(const char *gateway_prog, const char *hook, bool wait)
{
    e2e_partnership_launch(&fx.p, gateway_prog, NULL, hook, wait);
}

static void halt(void)
{
    e2e_partnership_halt(&fx.p);
}

/* Runs `hearth ARGS...` (NULL-terminated, after the program name) and
 * fills *r. */
static int hearth_run(e2e_result_t *r, const char *first, ...)
{
    char *argv[32];
    size_t n = 0;
    argv[n++] = e2e_bin("hearth");
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    int status = e2e_run(argv, RUN_TIMEOUT_MS, r);
    free(argv[0]);
    return status;
}

static int gateway_run(e2e_result_t *r, const char *first, ...)
{
    char *argv[40];
    size_t n = 0;
    argv[n++] = e2e_bin("hearth-gateway");
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && n < 39; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    int status = e2e_run(argv, RUN_TIMEOUT_MS, r);
    free(argv[0]);
    return status;
}

static int ask(const char *project, const char *sql, e2e_result_t *r)
{
    if (project)
        return hearth_run(r, "query", "--config", fx.p.client, "--format", "json", "--project",
                          project, sql, NULL);
    return hearth_run(r, "query", "--config", fx.p.client, "--format", "json", sql, NULL);
}

/* The query id of a JSON result. Caller frees. */
static char *query_id_of(const char *json)
{
    const char *at = strstr(json, "\"query_id\": \"");
    cr_assert_not_null(at, "no query id in %s", json);
    at += strlen("\"query_id\": \"");
    return e2e_asprintf("%.*s", (int)strcspn(at, "\""), at);
}

static char *gateway_ini(void)
{
    return e2e_asprintf("%s/gateway.ini", fx.state);
}

static char *vkey_path(const char *name)
{
    return e2e_asprintf("%s/keys/%s-audit.vkey", fx.state, name);
}

/* Every line of text that starts with prefix, counted. */
static size_t count_lines(const char *text, const char *prefix)
{
    size_t n = 0, len = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        n += strncmp(p, prefix, len) == 0;
    return n;
}

/* The line of a CSV text whose first field is id, or NULL (caller frees). */
static char *csv_row(const char *csv, const char *id)
{
    char *needle = e2e_asprintf("\n%s,", id);
    const char *at = strstr(csv, needle);
    free(needle);
    if (at == NULL)
        return NULL;
    at++;
    return e2e_asprintf("%.*s", (int)strcspn(at, "\n"), at);
}

/* A released query, a refused one (a dataset no project approves at the
 * node... here: a parse error and a small-number refusal are not it; the
 * gateway's own refusal of an unknown project) and an error (a query that
 * does not parse): each is in the log with its events in order, the log
 * verifies in the client, twice (the second time through a consistency
 * proof from the first), and the list and report say what happened. */
Test(e2e_audit, every_query_is_logged_and_the_log_verifies)
{
    prepare();
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    char *released = query_id_of(r.out);
    e2e_result_free(&r);
    cr_assert_eq(ask("no-such-project", Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "no such project"), "%s", r.out);
    char *refused = query_id_of(r.out);
    e2e_result_free(&r);
    cr_assert_eq(ask(NULL, "SELEKT 1", &r), 2, "%s%s", r.out, r.err);
    char *failed = query_id_of(r.out);
    e2e_result_free(&r);

    /* The released query's events, in order. */
    cr_assert_eq(hearth_run(&r, "audit", "show", "--config", fx.p.client, released, NULL), 0,
                 "%s%s", r.out, r.err);
    const char *order[] = {"received", "accepted", "dispatched", "receipt", "released"};
    const char *at = r.out;
    for (size_t i = 0; i < 5; i++) {
        at = strstr(at, order[i]);
        cr_assert_not_null(at, "no '%s' in order in:\n%s", order[i], r.out);
    }
    cr_assert(strstr(r.out, Q_WARDS), "the query text is not in the log:\n%s", r.out);
    e2e_result_free(&r);

    cr_assert_eq(hearth_run(&r, "audit", "list", "--config", fx.p.client, "--format", "csv",
                            NULL), 0, "%s", r.err);
    char *row = csv_row(r.out, released);
    cr_assert_not_null(row, "%s", r.out);
    cr_assert(strstr(row, ",sandbox,released,"), "%s", row);
    /* Abbey 40, Castle 30, Delph 15 and the total released; Fenwick 6 hidden. */
    cr_assert(strstr(row, ",released,4,1,trust,"), "%s", row);
    free(row);
    row = csv_row(r.out, refused);
    cr_assert_not_null(row, "%s", r.out);
    cr_assert(strstr(row, ",refused,"), "%s", row);
    free(row);
    row = csv_row(r.out, failed);
    cr_assert_not_null(row, "%s", r.out);
    cr_assert(strstr(row, ",error,"), "%s", row);
    free(row);
    /* The sandbox's project was added through the log too. */
    cr_assert(strstr(r.out, ",governance,"), "%s", r.out);
    e2e_result_free(&r);

    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 0, "%s%s",
                 r.out, r.err);
    cr_assert(strstr(r.out, "verified "), "%s", r.out);
    cr_assert(strstr(r.out, "; 0 queries received but not completed"), "%s", r.out);
    e2e_result_free(&r);
    /* More queries; the second verify checks that the log only grew. */
    cr_assert_eq(ask(NULL, Q_TENURE, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    char *nodekey = e2e_asprintf("trust=%s/keys/trust-audit.vkey", fx.state);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, "--node-key",
                            nodekey, NULL), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    free(nodekey);

    char *month = NULL;
    {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        month = e2e_asprintf("%04d-%02d", tm.tm_year + 1900, tm.tm_mon + 1);
    }
    cr_assert_eq(hearth_run(&r, "audit", "report", "--config", fx.p.client, "--month", month,
                            "--format", "csv", NULL), 0, "%s", r.err);
    /* sandbox: 3 queries (2 released, 1 error); no-such-project: 1 refused.
     * Cells: 4 + 1 suppressed, tenure: social 30, private 25 and the total. */
    cr_assert(strstr(r.out, "\nsandbox,3,2,0,1,0,7,1\n"), "%s", r.out);
    cr_assert(strstr(r.out, "\nno-such-project,1,0,1,0,0,0,0\n"), "%s", r.out);
    e2e_result_free(&r);
    free(month);
    free(released);
    free(refused);
    free(failed);
}

/* Edits to an exported log, each caught by `hearth audit verify --file`. */
Test(e2e_audit, tampering_with_an_export_is_detected)
{
    prepare();
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(ask(NULL, i % 2 ? Q_TENURE : Q_WARDS, &r), 0, "%s%s", r.out, r.err);
        e2e_result_free(&r);
    }
    char *export = e2e_asprintf("%s/log.txt", fx.tmp);
    cr_assert_eq(hearth_run(&r, "audit", "export", "--config", fx.p.client, "--out", export,
                            NULL), 0, "%s", r.err);
    e2e_result_free(&r);
    char *vkey = e2e_asprintf("%s/keys/gateway-audit.vkey", fx.state);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--file", export, "--audit-key", vkey,
                            NULL), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    char *text = e2e_partnership_read(export);
    /* The leaf lines, to edit. */
    char *first = strstr(text, "\nleaf 3 ");
    char *second = strstr(text, "\nleaf 4 ");
    cr_assert(first && second, "%s", text);
    struct {
        const char *name;
        char *text;
    } cases[4];
    /* 1. edit a leaf: one base64 character of leaf 3 changed (to another
     * valid one, so the line still decodes). */
    cases[0].name = "edited";
    cases[0].text = strdup(text);
    {
        char *line = cases[0].text + (first - text) + strlen("\nleaf 3 ") + 8;
        *line = *line == 'A' ? 'B' : 'A';
    }
    /* 2. delete leaf 3, renumbering the rest and fixing the count on the
     * last line, as a careful forger would. */
    cases[1].name = "deleted";
    {
        hearth_buf_t b;
        hearth_buf_init(&b, 64 << 20);
        (void)hearth_buf_printf(&b, "%.*s", (int)(first - text), text);
        size_t ncp = 0, nleaf = 3;
        for (const char *p = text; (p = strstr(p, "\ncheckpoint ")) != NULL; p++)
            ncp++;
        for (const char *p = second + 1; p && strncmp(p, "leaf ", 5) == 0;) {
            const char *sp = strchr(p + 5, ' ');
            const char *nl = strchr(p, '\n');
            (void)hearth_buf_printf(&b, "\nleaf %zu %.*s", nleaf++, (int)(nl - sp - 1), sp + 1);
            p = nl + 1;
        }
        (void)hearth_buf_printf(&b, "\nend %zu %zu\n", ncp, nleaf);
        cases[1].text = hearth_buf_take(&b);
    }
    /* 3. reorder leaves 3 and 4 (indexes kept in order, contents swapped). */
    cases[2].name = "reordered";
    {
        const char *c3 = first + strlen("\nleaf 3 ");
        const char *c4 = second + strlen("\nleaf 4 ");
        int l3 = (int)strcspn(c3, "\n"), l4 = (int)strcspn(c4, "\n");
        cases[2].text = e2e_asprintf("%.*s\nleaf 3 %.*s\nleaf 4 %.*s%s", (int)(first - text),
                                     text, l4, c4, l3, c3, c4 + l4);
    }
    cases[3].name = NULL;
    for (size_t i = 0; cases[i].name; i++) {
        char *path = e2e_asprintf("%s/%s.txt", fx.tmp, cases[i].name);
        e2e_partnership_write(path, cases[i].text);
        cr_assert_eq(hearth_run(&r, "audit", "verify", "--file", path, "--audit-key", vkey,
                                NULL), 1, "%s log verified:\n%s%s", cases[i].name, r.out,
                     r.err);
        cr_assert(strstr(r.out, "verification FAILED"), "%s: %s", cases[i].name, r.out);
        e2e_result_free(&r);
        free(path);
        free(cases[i].text);
    }
    free(text);
    free(export);
    free(vkey);
}

/* The lines of an export (hearth audit export) that start with prefix,
 * as base64 payloads after it, into out[0..*n) (each owned). */
static void export_lines(const char *text, const char *prefix, char **out, size_t cap, size_t *n)
{
    *n = 0;
    size_t len = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
        if (strncmp(p, prefix, len) == 0) {
            cr_assert_lt(*n, cap);
            const char *v = p + len;
            out[(*n)++] = e2e_asprintf("%.*s", (int)strcspn(v, "\n"), v);
        }
}

/* A log truncated and re-signed with another key (an impostor's, even
 * under the genuine key's name): well formed, and verified with the
 * impostor's key, but refused against the pinned one. */
Test(e2e_audit, a_truncated_log_resigned_with_another_key_is_detected)
{
    prepare();
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    cr_assert_eq(ask(NULL, Q_TENURE, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    char *export = e2e_asprintf("%s/log.txt", fx.tmp);
    cr_assert_eq(hearth_run(&r, "audit", "export", "--config", fx.p.client, "--out", export,
                            NULL), 0, "%s", r.err);
    e2e_result_free(&r);
    char *text = e2e_partnership_read(export);
    char *leaves[4096];
    size_t nleaves = 0;
    export_lines(text, "leaf ", leaves, 4096, &nleaves);
    cr_assert_gt(nleaves, 6);
    size_t keep = nleaves / 2;
    /* The impostor's key, under the genuine key's name (the log's origin). */
    char *vkey = e2e_asprintf("%s/keys/gateway-audit.vkey", fx.state);
    tlog_verifier_t genuine;
    char *cause = NULL;
    cr_assert_eq(tlog_verifier_load(vkey, &genuine, &cause), HEARTH_OK, "%s", cause);
    char *prefix = e2e_asprintf("%s/impostor", fx.tmp);
    cr_assert_eq(keys_sign_generate(prefix, genuine.name, &cause), HEARTH_OK, "%s", cause);
    char *signer_path = e2e_asprintf("%s.signer", prefix);
    keys_signer_t *signer = NULL;
    cr_assert_eq(keys_signer_load(signer_path, &signer, &cause), HEARTH_OK, "%s", cause);
    tlog_memtree_t *tree = tlog_memtree_new();
    hearth_buf_t out;
    hearth_buf_init(&out, 64 << 20);
    (void)hearth_buf_adds(&out, "hearth-audit-export 1\n");
    for (size_t i = 0; i < keep; i++) {
        const char *b64 = strchr(leaves[i], ' ') + 1;   /* "<index> <base64>" */
        uint8_t leaf[256 * 1024];
        size_t len = 0;
        cr_assert(hearth_base64_decode(b64, strlen(b64), leaf, sizeof leaf, &len));
        tlog_memtree_append(tree, leaf, len);
    }
    tlog_checkpoint_t cp;
    memset(&cp, 0, sizeof cp);
    snprintf(cp.origin, sizeof cp.origin, "%s", genuine.name);
    cp.size = keep;
    cr_assert_eq(tlog_root(tlog_memtree_subtree, tree, keep, cp.root, &cause), HEARTH_OK);
    char *note = NULL;
    cr_assert_eq(tlog_checkpoint_sign(signer, &cp, &note, &cause), HEARTH_OK, "%s", cause);
    char *note_b64 = malloc(HEARTH_BASE64_LEN(strlen(note)) + 1);
    hearth_base64_encode((const uint8_t *)note, strlen(note), note_b64);
    (void)hearth_buf_printf(&out, "checkpoint %s\n", note_b64);
    for (size_t i = 0; i < keep; i++)
        (void)hearth_buf_printf(&out, "leaf %s\n", leaves[i]);
    (void)hearth_buf_printf(&out, "end 1 %zu\n", keep);
    char *forged = e2e_asprintf("%s/forged.txt", fx.tmp);
    e2e_partnership_write(forged, hearth_buf_str(&out));
    char *ivkey = e2e_asprintf("%s.vkey", prefix);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--file", forged, "--audit-key", ivkey,
                            NULL), 0, "the forgery is not well formed:\n%s%s", r.out, r.err);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--file", forged, "--audit-key", vkey,
                            NULL), 1, "a log re-signed by another key verified:\n%s%s", r.out,
                 r.err);
    cr_assert(strstr(r.out, "verification FAILED"), "%s", r.out);
    e2e_result_free(&r);
    for (size_t i = 0; i < nleaves; i++)
        free(leaves[i]);
    hearth_buf_free(&out);
    tlog_memtree_destroy(&tree);
    keys_signer_destroy(&signer);
    free(note);
    free(note_b64);
    free(forged);
    free(ivkey);
    free(signer_path);
    free(prefix);
    free(vkey);
    free(text);
    free(export);
    free(cause);
}

/* The operator cuts the log back and carries on under the genuine key:
 * the nodes, holding a checkpoint of the longer log, refuse the next
 * dispatch, and a client that verified before fails the new log. */
Test(e2e_audit, a_log_cut_back_under_the_genuine_key_is_refused_and_detected)
{
    prepare();
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 0, "%s%s",
                 r.out, r.err);
    e2e_result_free(&r);
    halt();
    /* Back to the first checkpoint: the sandbox's project, before any
     * query. */
    char *db = e2e_asprintf("%s/gateway.db", fx.state);
    sqlite3 *h = NULL;
    cr_assert_eq(sqlite3_open(db, &h), SQLITE_OK);
    sqlite3_int64 cut = 0;
    sqlite3_stmt *st = NULL;
    cr_assert_eq(sqlite3_prepare_v2(h, "SELECT min(size) FROM audit_checkpoints WHERE size > 0",
                                    -1, &st, NULL), SQLITE_OK);
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
    cut = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    cr_assert_gt(cut, 0);
    char *sql = e2e_asprintf("DELETE FROM audit_leaves WHERE idx >= %lld; DELETE FROM "
                             "audit_tree WHERE ((idx + 1) << level) > %lld; DELETE FROM "
                             "audit_checkpoints WHERE size > %lld;", (long long)cut,
                             (long long)cut, (long long)cut);
    cr_assert_eq(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    free(sql);
    sqlite3_close(h);
    free(db);
    launch("hearth-gateway", NULL, true);
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 3, "a node answered a rewritten log:\n%s%s", r.out,
                 r.err);
    cr_assert(strstr(r.out, "audit") || strstr(r.out, "checkpoint"), "%s", r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 1, "%s%s",
                 r.out, r.err);
    e2e_result_free(&r);
    /* Each data manager, having agreed it, tells their node to forget the
     * old checkpoint (recorded in its ledger); the nodes then answer. The
     * IG officer's client still holds its checkpoint and still fails the
     * log, until they too decide to move it aside. */
    halt();
    char *node_bin = e2e_bin("hearth-node");
    for (size_t i = 0; i < NNODES; i++) {
        char *node_ini = e2e_asprintf("%s/nodes/%s/node.ini", fx.state, NODE_NAMES[i]);
        char *argv[] = {node_bin, "audit-reset", "--config", node_ini, "--reason",
                        "gateway log restored; agreed with the IG officer", NULL};
        cr_assert_eq(e2e_run(argv, RUN_TIMEOUT_MS, &r), 0, "%s%s", r.out, r.err);
        cr_assert(strstr(r.out, "forgot the gateway audit checkpoint of "), "%s", r.out);
        e2e_result_free(&r);
        free(node_ini);
    }
    free(node_bin);
    launch("hearth-gateway", NULL, true);
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 1, "%s%s",
                 r.out, r.err);
    e2e_result_free(&r);
}

/* Runs `hearth-gateway project VERB --config gateway.ini ID ARGS...`
 * (NULL-terminated) against the partnership's gateway.ini while it
 * serves; asserts it succeeded. */
static void project(const char *verb, const char *id, ...)
{
    char *argv[16];
    size_t n = 0;
    argv[n++] = e2e_bin("hearth-gateway");
    argv[n++] = "project";
    argv[n++] = (char *)verb;
    argv[n++] = "--config";
    char *ini = gateway_ini();
    argv[n++] = ini;
    argv[n++] = (char *)id;
    va_list ap;
    va_start(ap, id);
    for (const char *a = va_arg(ap, const char *); a && n < 15; a = va_arg(ap, const char *))
        argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    e2e_result_t r;
    int status = e2e_run(argv, RUN_TIMEOUT_MS, &r);
    cr_assert_eq(status, 0, "hearth-gateway project %s: %s%s", verb, r.out, r.err);
    e2e_result_free(&r);
    free(argv[0]);
    free(ini);
}

static void project_add(const char *id, const char *datasets, const char *start,
                        const char *expiry)
{
    char *ini = gateway_ini();
    e2e_result_t r;
    int status = gateway_run(&r, "project", "add", "--config", ini, "--id", id, "--title",
                             "Falls and housing", "--dsa", "DSA-2026-014", "--purpose",
                             "Falls among older residents by housing", "--datasets", datasets,
                             "--analysts", "sandbox_analyst", "--start", start, "--expiry",
                             expiry, "--by", "ig.officer", NULL);
    cr_assert_eq(status, 0, "project add %s: %s%s", id, r.out, r.err);
    e2e_result_free(&r);
    free(ini);
}

/* A suspended project, an expired one, a dataset the project does not
 * approve (the gateway refuses) and a project the node does not approve
 * (the node refuses, with a signed receipt saying so): each refused with
 * its reason, each in the log, which still verifies. */
Test(e2e_audit, governance_refusals_are_refused_and_audited)
{
    prepare();
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    project("suspend", "sandbox", "--reason", "DSA under review", "--by", "ig.officer", NULL);
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "suspended") && strstr(r.out, "DSA under review"), "%s", r.out);
    char *suspended = query_id_of(r.out);
    e2e_result_free(&r);
    project("resume", "sandbox", "--by", "ig.officer", NULL);
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);

    project_add("old-study", "trust.ae", "2020-01-01", "2020-12-31");
    cr_assert_eq(ask("old-study", Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "expired on 2020-12-31"), "%s", r.out);
    e2e_result_free(&r);

    project_add("housing-only", "council.housing", "2020-01-01", "2099-12-31");
    cr_assert_eq(ask("housing-only", Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "trust.ae"), "%s", r.out);
    e2e_result_free(&r);

    /* Approved at the gateway, but the node's [projects] names only
     * "sandbox": the partner says no. */
    project_add("new-study", "trust.ae", "2020-01-01", "2099-12-31");
    cr_assert_eq(ask("new-study", Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "not approved by this node"), "%s", r.out);
    char *node_refused = query_id_of(r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "show", "--config", fx.p.client, node_refused, NULL),
                 0, "%s", r.err);
    cr_assert(strstr(r.out, "outcome refused") || strstr(r.out, "refused"), "%s", r.out);
    e2e_result_free(&r);

    cr_assert_eq(hearth_run(&r, "audit", "list", "--config", fx.p.client, "--format", "csv",
                            "--outcome", "refused", NULL), 0, "%s", r.err);
    char *row = csv_row(r.out, suspended);
    cr_assert_not_null(row, "%s", r.out);
    cr_assert(strstr(row, "suspended"), "%s", row);
    free(row);
    cr_assert_eq(count_lines(r.out, ""), 5, "%s", r.out);   /* header + 4 refusals */
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "list", "--config", fx.p.client, "--format", "csv",
                            "--outcome", "governance", NULL), 0, "%s", r.err);
    /* The sandbox's project, the suspension, the resumption, three more. */
    cr_assert_eq(count_lines(r.out, ""), 7, "%s", r.out);
    cr_assert(strstr(r.out, "project suspend"), "%s", r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 0, "%s%s",
                 r.out, r.err);
    e2e_result_free(&r);
    free(suspended);
    free(node_refused);
}

/* hearth-node receipts and the gateway's log agree; a gateway that drops
 * the nodes' receipts from its log (a test build) is caught by reconcile,
 * and by verify. */
Test(e2e_audit, reconcile_finds_a_receipt_missing_from_the_log)
{
    prepare();
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    char *node_bin = e2e_bin("hearth-node");
    char *node_ini = e2e_asprintf("%s/nodes/trust/node.ini", fx.state);
    char *receipts = e2e_asprintf("%s/trust.receipts", fx.tmp);
    char *nkey = vkey_path("trust");
    char *argv[] = {node_bin, "receipts", "--config", node_ini, NULL};
    cr_assert_eq(e2e_run(argv, RUN_TIMEOUT_MS, &r), 0, "%s", r.err);
    cr_assert_eq(count_lines(r.out, ""), 1, "%s", r.out);
    e2e_partnership_write(receipts, r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "reconcile", "--config", fx.p.client, "--node", "trust",
                            "--receipts", receipts, "--node-key", nkey, NULL), 0, "%s%s",
                 r.out, r.err);
    cr_assert(strstr(r.out, "reconciled"), "%s", r.out);
    e2e_result_free(&r);
    halt();

    launch("hearth-gateway-test", "drop-receipts", true);
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    cr_assert_eq(e2e_run(argv, RUN_TIMEOUT_MS, &r), 0, "%s", r.err);
    cr_assert_eq(count_lines(r.out, ""), 2, "%s", r.out);
    e2e_partnership_write(receipts, r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "reconcile", "--config", fx.p.client, "--node", "trust",
                            "--receipts", receipts, "--node-key", nkey, NULL), 1, "%s%s",
                 r.out, r.err);
    cr_assert(strstr(r.out, "DISCREPANCIES FOUND"), "%s", r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 1, "%s%s",
                 r.out, r.err);
    e2e_result_free(&r);
    free(node_bin);
    free(node_ini);
    free(receipts);
    free(nkey);
}

/* kill -9 between the commit of a query and its dispatch (the test build
 * kills itself there): the log verifies and shows the query received but
 * not completed; no node saw it. */
Test(e2e_audit, a_gateway_killed_between_commit_and_dispatch_leaves_a_log_that_verifies)
{
    prepare();
    launch("hearth-gateway-test", "crash-after-commit", true);
    /* The client waits in vain: give it a short timeout. */
    char *text = e2e_partnership_read(fx.p.client);
    char *quick = e2e_asprintf("%stimeout_ms = 3000\n", text);
    e2e_partnership_write(fx.p.client, quick);
    free(text);
    free(quick);
    e2e_result_t r;
    cr_assert_neq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    /* The gateway is gone: SIGKILL, by its own hand. */
    int status = e2e_proc_stop(&fx.p.gateway, STOP_TIMEOUT_MS);
    cr_assert_eq(status, 128 + SIGKILL, "the gateway ended with %d", status);
    halt();
    launch("hearth-gateway", NULL, true);
    cr_assert_eq(hearth_run(&r, "audit", "verify", "--config", fx.p.client, NULL), 0, "%s%s",
                 r.out, r.err);
    cr_assert(strstr(r.out, "; 1 queries received but not completed"), "%s", r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "list", "--config", fx.p.client, "--format", "csv",
                            "--outcome", "incomplete", NULL), 0, "%s", r.err);
    cr_assert_eq(count_lines(r.out, ""), 2, "%s", r.out);
    e2e_result_free(&r);
    /* No node holds a receipt for it. */
    char *node_bin = e2e_bin("hearth-node");
    char *node_ini = e2e_asprintf("%s/nodes/trust/node.ini", fx.state);
    char *argv[] = {node_bin, "receipts", "--config", node_ini, NULL};
    cr_assert_eq(e2e_run(argv, RUN_TIMEOUT_MS, &r), 0, "%s", r.err);
    cr_assert_eq(r.out_len, 0, "%s", r.out);
    e2e_result_free(&r);
    /* And the partnership carries on. */
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    free(node_bin);
    free(node_ini);
}

/* A gateway that dispatches without logging (the test build) is refused
 * by the node, which answers nothing and says why. */
Test(e2e_audit, a_gateway_that_dispatches_without_logging_is_refused)
{
    prepare();
    launch("hearth-gateway-test", "dispatch-unlogged", true);
    e2e_result_t r;
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "node 'trust' could not answer"), "%s", r.out);
    cr_assert(strstr(r.out, "audit"), "%s", r.out);
    e2e_result_free(&r);
    char *node_bin = e2e_bin("hearth-node");
    char *node_ini = e2e_asprintf("%s/nodes/trust/node.ini", fx.state);
    char *argv[] = {node_bin, "receipts", "--config", node_ini, NULL};
    cr_assert_eq(e2e_run(argv, RUN_TIMEOUT_MS, &r), 0, "%s", r.err);
    cr_assert_eq(r.out_len, 0, "the node vouched for an unlogged dispatch: %s", r.out);
    e2e_result_free(&r);
    free(node_bin);
    free(node_ini);
}

/* Roles: a key that is only an auditor's asks no questions (refused, and
 * audited), and a key that is only an analyst's reads no audit log. */
Test(e2e_audit, roles_are_enforced)
{
    prepare();
    char *ini = gateway_ini();
    char *text = e2e_partnership_read(ini);
    char *auditor_only = e2e_partnership_set_line(text, "roles = ", "auditor");
    e2e_partnership_write(ini, auditor_only);
    launch("hearth-gateway", NULL, true);
    e2e_result_t r;
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 3, "%s%s", r.out, r.err);
    cr_assert(strstr(r.out, "does not hold the analyst role"), "%s", r.out);
    char *refused = query_id_of(r.out);
    e2e_result_free(&r);
    cr_assert_eq(hearth_run(&r, "audit", "list", "--config", fx.p.client, "--format", "csv",
                            NULL), 0, "%s", r.err);
    char *row = csv_row(r.out, refused);
    cr_assert_not_null(row, "%s", r.out);
    cr_assert(strstr(row, ",refused,"), "%s", row);
    free(row);
    e2e_result_free(&r);
    halt();
    char *analyst_only = e2e_partnership_set_line(text, "roles = ", "analyst");
    e2e_partnership_write(ini, analyst_only);
    launch("hearth-gateway", NULL, true);
    cr_assert_eq(hearth_run(&r, "audit", "list", "--config", fx.p.client, NULL), 1, "%s%s",
                 r.out, r.err);
    cr_assert(strstr(r.err, "does not hold the auditor role"), "%s", r.err);
    e2e_result_free(&r);
    cr_assert_eq(ask(NULL, Q_WARDS, &r), 0, "%s%s", r.out, r.err);
    e2e_result_free(&r);
    free(refused);
    free(analyst_only);
    free(auditor_only);
    free(text);
    free(ini);
}
