/* End to end, issue 6's governance commands: the real hearth-gateway binary
 * run as an IG officer would on the gateway host, on a config with real key
 * files. `project add`, `show`, `list`, `suspend` and `resume` print exactly
 * what docs/ig-officer.md says; every change is one GOVERNANCE leaf in the
 * audit log (who, what, which project, the text), covered by a checkpoint
 * the gateway's audit key signed; refusals (looser rules, an unknown
 * analyst, bad dates, an existing id, a [project] section in the config)
 * exit 1 with a clear reason and log nothing; a command used wrongly exits
 * 2 with the usage. */
#include "audit_event.h"
#include "e2e_util.h"
#include "gw_audit.h"
#include "gw_store.h"
#include "keys_file.h"
#include "keys_sign.h"
#include "tlog_checkpoint.h"

#include <criterion/criterion.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    char *tmp;        /* owned temporary folder */
    char *config;     /* tmp/gateway.ini */
} fx;

static const char *const CONFIG =
    "[gateway]\n"
    "curve_key = gateway.key\n"
    "audit_key = gateway-audit.signer\n"
    "node_endpoint = tcp://127.0.0.1:*\n"
    "analyst_endpoint = tcp://127.0.0.1:*\n"
    "[disclosure]\n"
    "threshold = 10\n"
    "[node trust]\n"
    "public_key = trust.pub\n"
    "receipt_key = trust-audit.vkey\n"
    "[node council]\n"
    "public_key = council.pub\n"
    "receipt_key = council-audit.vkey\n"
    "[analyst alice]\n"
    "public_key = alice.pub\n"
    "display_name = Alice Smith\n"
    "organisation = University of Exeter\n"
    "[analyst bob]\n"
    "public_key = bob.pub\n"
    "[analyst ig]\n"
    "public_key = ig.pub\n"
    "roles = auditor\n";

static void write_config(const char *text)
{
    cr_assert_eq(e2e_write_file(fx.config, text, strlen(text)), 0);
}

static void setup(void)
{
    memset(&fx, 0, sizeof fx);
    fx.tmp = e2e_tmpdir("governance");
    cr_assert_not_null(fx.tmp);
    fx.config = e2e_asprintf("%s/gateway.ini", fx.tmp);
    const char *const curves[] = {"gateway", "trust", "council", "alice", "bob", "ig"};
    char *cause = NULL;
    for (size_t i = 0; i < 6; i++) {
        char *base = e2e_asprintf("%s/%s", fx.tmp, curves[i]);
        cr_assert_eq(keys_curve_generate(base, &cause), HEARTH_OK, "%s", cause);
        free(base);
    }
    const char *const signers[] = {"gateway", "trust", "council"};
    for (size_t i = 0; i < 3; i++) {
        char *base = e2e_asprintf("%s/%s-audit", fx.tmp, signers[i]);
        const char *name = i == 0 ? "gateway.example" : signers[i];
        cr_assert_eq(keys_sign_generate(base, name, &cause), HEARTH_OK, "%s", cause);
        free(base);
    }
    write_config(CONFIG);
}

static void teardown(void)
{
    if (fx.tmp && getenv("HEARTH_E2E_KEEP"))
        fprintf(stderr, "kept %s\n", fx.tmp);
    else
        e2e_rmtree(fx.tmp);
    free(fx.tmp);
    free(fx.config);
    memset(&fx, 0, sizeof fx);
}

TestSuite(e2e_governance, .init = setup, .fini = teardown, .timeout = 300);

/* Runs hearth-gateway with args (NULL-terminated; "CONFIG" is replaced by
 * the config's path) into *r; returns the exit status. */
static int gateway(e2e_result_t *r, const char *const *args)
{
    char *bin = e2e_bin("hearth-gateway");
    char *argv[64];
    size_t n = 0;
    argv[n++] = bin;
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = strcmp(args[i], "CONFIG") == 0 ? fx.config : (char *)args[i];
    argv[n] = NULL;
    int status = e2e_run(argv, 60000, r);
    free(bin);
    return status;
}

#define ADD_ARGS(id)                                                                          \
    "project", "add", "--config", "CONFIG", "--id", id, "--title", "Diabetes audit", "--dsa", \
        "DSA-2026-014", "--purpose", "Falls among people with diabetes", "--datasets",        \
        "trust.ae, council.housing", "--analysts", "bob,alice", "--start", "2026-01-01",      \
        "--expiry", "2026-12-31", "--by", "Ina Officer"

static char *z85_of(const char *name)
{
    char *path = e2e_asprintf("%s/%s.pub", fx.tmp, name);
    char z85[KEYS_Z85_LEN + 1];
    char *cause = NULL;
    cr_assert_eq(keys_curve_load_public(path, z85, &cause), HEARTH_OK, "%s", cause);
    free(path);
    return e2e_asprintf("%s", z85);
}

/* What `project show diabetes` prints while active (reason_lines "") or
 * suspended ("reason: ...\n"), with threshold as given. */
static char *shown(const char *status, const char *reason_lines, unsigned threshold)
{
    char *alice = z85_of("alice"), *bob = z85_of("bob");
    char *text = e2e_asprintf(
        "id: diabetes\n"
        "title: Diabetes audit\n"
        "dsa: DSA-2026-014\n"
        "purpose: Falls among people with diabetes\n"
        "start: 2026-01-01\n"
        "expiry: 2026-12-31\n"
        "status: %s\n"
        "%s"
        "datasets: council.housing, trust.ae\n"
        "analyst: alice key=%s display_name=\"Alice Smith\" "
        "organisation=\"University of Exeter\"\n"
        "analyst: bob key=%s display_name=\"\" organisation=\"\"\n"
        "threshold: %u\n"
        "rounding: 5\n"
        "zeros: released\n"
        "protection: 3\n"
        "dominance: off\n"
        "dp_epsilon: none\n"
        "dp_budget: none\n",
        status, reason_lines, alice, bob, threshold);
    free(alice);
    free(bob);
    return text;
}

/* The GOVERNANCE leaves of the gateway's audit log, decoded, and the
 * latest checkpoint, which must verify with the gateway's audit key and
 * cover every leaf with the log's root. */
typedef struct {
    audit_event_t ev[16];
    size_t n;
} leaves_t;

static int on_leaf(void *user, uint64_t index, const uint8_t *data, size_t len)
{
    leaves_t *l = user;
    cr_assert_eq(index, l->n);
    cr_assert_lt(l->n, 16);
    char *cause = NULL;
    cr_assert_eq(audit_event_decode(data, len, &l->ev[l->n], &cause), HEARTH_OK, "%s", cause);
    l->n++;
    return 0;
}

static void read_log(leaves_t *l)
{
    memset(l, 0, sizeof *l);
    char *db = e2e_asprintf("%s/gateway.db", fx.tmp);
    gw_store_t *store = NULL;
    gw_audit_t *audit = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_store_open(db, &store, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(gw_audit_open(store, NULL, &audit, &cause), HEARTH_OK, "%s", cause);
    uint64_t next = 0;
    cr_assert_eq(gw_audit_leaves(audit, NULL, 0, 16, 1 << 20, on_leaf, l, &next, &cause),
                 HEARTH_OK, "%s", cause);
    cr_assert_eq(next, l->n);
    char *note = NULL;
    uint64_t size = 0;
    cr_assert_eq(gw_audit_latest(audit, &note, &size, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(size, l->n);
    if (l->n > 0) {
        char *vpath = e2e_asprintf("%s/gateway-audit.vkey", fx.tmp);
        tlog_verifier_t v;
        cr_assert_eq(tlog_verifier_load(vpath, &v, &cause), HEARTH_OK, "%s", cause);
        tlog_checkpoint_t cp;
        cr_assert_eq(tlog_checkpoint_open(note, strlen(note), &v, &cp, &cause), HEARTH_OK,
                     "%s", cause);
        cr_assert_str_eq(cp.origin, "gateway.example");
        cr_assert_eq(cp.size, l->n);
        uint8_t root[TLOG_HASH_LEN];
        cr_assert_eq(gw_audit_root(audit, l->n, root, &cause), HEARTH_OK, "%s", cause);
        cr_assert_eq(memcmp(root, cp.root, TLOG_HASH_LEN), 0);
        free(vpath);
    }
    free(note);
    gw_audit_destroy(&audit);
    gw_store_destroy(&store);
    free(db);
}

static void free_log(leaves_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        audit_event_clear(&l->ev[i]);
}

Test(e2e_governance, add_show_list_suspend_and_resume)
{
    e2e_result_t r;
    static const char *const add[] = {ADD_ARGS("diabetes"), "--threshold", "12", NULL};
    cr_assert_eq(gateway(&r, add), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "added project 'diabetes' (audit leaf 0)\n");
    cr_assert_str_eq(r.err, "");
    e2e_result_free(&r);

    static const char *const show[] = {"project", "show", "--config", "CONFIG", "diabetes",
                                       NULL};
    cr_assert_eq(gateway(&r, show), 0, "%s", r.err);
    char *want = shown("active", "", 12);
    cr_assert_str_eq(r.out, want);
    free(want);
    e2e_result_free(&r);

    static const char *const add2[] = {"project", "add", "--config", "CONFIG", "--id", "a-2",
                                       "--title", "Housing and falls", "--dsa", "DSA-9",
                                       "--purpose", "Falls", "--datasets", "council.housing",
                                       "--analysts", "alice", "--start", "2026-02-01",
                                       "--expiry", "2027-01-31", NULL};
    cr_assert_eq(gateway(&r, add2), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "added project 'a-2' (audit leaf 1)\n");
    e2e_result_free(&r);

    static const char *const list[] = {"project", "list", "--config", "CONFIG", NULL};
    cr_assert_eq(gateway(&r, list), 0, "%s", r.err);
    cr_assert_str_eq(r.out,
                     "ID        STATUS     START       EXPIRY      TITLE\n"
                     "a-2       active     2026-02-01  2027-01-31  Housing and falls\n"
                     "diabetes  active     2026-01-01  2026-12-31  Diabetes audit\n");
    e2e_result_free(&r);

    static const char *const suspend[] = {"project", "suspend", "diabetes", "--config", "CONFIG",
                                          "--reason", "DSA under review", "--by", "Ina Officer",
                                          NULL};
    cr_assert_eq(gateway(&r, suspend), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "suspended project 'diabetes' (audit leaf 2)\n");
    e2e_result_free(&r);
    cr_assert_eq(gateway(&r, show), 0, "%s", r.err);
    want = shown("suspended", "reason: DSA under review\n", 12);
    cr_assert_str_eq(r.out, want);
    free(want);
    e2e_result_free(&r);
    cr_assert_eq(gateway(&r, list), 0, "%s", r.err);
    cr_assert_not_null(strstr(r.out, "\ndiabetes  suspended  2026-01-01"), "%s", r.out);
    e2e_result_free(&r);

    static const char *const resume[] = {"project", "resume", "--config", "CONFIG", "diabetes",
                                         "--by", "Ina Officer", "--reason", "DSA renewed", NULL};
    cr_assert_eq(gateway(&r, resume), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "resumed project 'diabetes' (audit leaf 3)\n");
    e2e_result_free(&r);
    cr_assert_eq(gateway(&r, show), 0, "%s", r.err);
    want = shown("active", "", 12);
    cr_assert_str_eq(r.out, want);
    free(want);
    e2e_result_free(&r);

    /* Every change is one GOVERNANCE leaf, and a signed checkpoint covers
     * them all. */
    leaves_t l;
    read_log(&l);
    cr_assert_eq(l.n, 4);
    static const char *const actions[] = {"project add", "project add", "project suspend",
                                          "project resume"};
    static const char *const projects[] = {"diabetes", "a-2", "diabetes", "diabetes"};
    for (size_t i = 0; i < 4; i++) {
        cr_assert_eq(l.ev[i].type, AUDIT_GOVERNANCE);
        cr_assert_str_eq(l.ev[i].action, actions[i]);
        cr_assert_str_eq(l.ev[i].project, projects[i]);
        cr_assert_gt(l.ev[i].time_ms, 1700000000000ull);
    }
    want = shown("active", "", 12);
    cr_assert_str_eq(l.ev[0].text, want);
    free(want);
    cr_assert_str_eq(l.ev[0].actor, "Ina Officer");
    cr_assert_str_eq(l.ev[2].text, "DSA under review");
    cr_assert_str_eq(l.ev[3].text, "DSA renewed");
    /* --by defaults to the login name. */
    struct passwd *pw = getpwuid(geteuid());
    cr_assert_not_null(pw);
    cr_assert_str_eq(l.ev[1].actor, pw->pw_name);
    free_log(&l);
}

/* Runs args, expects exit status want_status and exactly want_err on
 * standard error (or, when want_err ends in "...", that beginning), and
 * nothing on standard output. */
static void expect_error(const char *const *args, int want_status, const char *want_err)
{
    e2e_result_t r;
    int status = gateway(&r, args);
    cr_assert_eq(status, want_status, "exit %d: %s", status, r.err);
    cr_assert_str_eq(r.out, "");
    size_t n = strlen(want_err);
    if (n > 3 && strcmp(want_err + n - 3, "...") == 0)
        cr_assert_eq(strncmp(r.err, want_err, n - 3), 0, "%s", r.err);
    else
        cr_assert_str_eq(r.err, want_err);
    e2e_result_free(&r);
}

Test(e2e_governance, refusals_exit_1_with_the_reason_and_log_nothing)
{
    static const char *const looser[] = {ADD_ARGS("diabetes"), "--threshold", "7", NULL};
    expect_error(looser, 1, "hearth-gateway: disclosure rules: threshold must be 10..1000 "
                            "(at least [disclosure]'s, never looser)\n");
    static const char *const bad_rounding[] = {ADD_ARGS("diabetes"), "--rounding", "7", NULL};
    expect_error(bad_rounding, 1, "hearth-gateway: disclosure rules: rounding must be a "
                                  "multiple of 5 from 5 to 1000 ([disclosure]'s or coarser, "
                                  "never looser)\n");
    static const char *const malformed[] = {ADD_ARGS("diabetes"), "--zeros", "hidden", NULL};
    expect_error(malformed, 1, "hearth-gateway: zeros must be released or disclosive\n");
    static const char *const unknown_analyst[] = {
        "project", "add", "--config", "CONFIG", "--id", "x", "--title", "T", "--dsa", "D",
        "--purpose", "P", "--datasets", "trust.ae", "--analysts", "alice,mallory", "--start",
        "2026-01-01", "--expiry", "2026-12-31", NULL};
    expect_error(unknown_analyst, 1, "hearth-gateway: analyst 'mallory' is not in the gateway "
                                     "config (add an [analyst mallory] section first)\n");
    static const char *const auditor[] = {
        "project", "add", "--config", "CONFIG", "--id", "x", "--title", "T", "--dsa", "D",
        "--purpose", "P", "--datasets", "trust.ae", "--analysts", "ig", "--start",
        "2026-01-01", "--expiry", "2026-12-31", NULL};
    expect_error(auditor, 1, "hearth-gateway: 'ig' does not have the analyst role in the "
                             "gateway config (roles = analyst)\n");
    static const char *const bad_date[] = {
        "project", "add", "--config", "CONFIG", "--id", "x", "--title", "T", "--dsa", "D",
        "--purpose", "P", "--datasets", "trust.ae", "--analysts", "alice", "--start",
        "31/01/2026", "--expiry", "2026-12-31", NULL};
    expect_error(bad_date, 1, "hearth-gateway: the start date must be a real day written "
                              "YYYY-MM-DD\n");
    static const char *const reversed[] = {
        "project", "add", "--config", "CONFIG", "--id", "x", "--title", "T", "--dsa", "D",
        "--purpose", "P", "--datasets", "trust.ae", "--analysts", "alice", "--start",
        "2026-12-31", "--expiry", "2026-01-01", NULL};
    expect_error(reversed, 1, "hearth-gateway: the start date 2026-12-31 is after the expiry "
                              "date 2026-01-01\n");
    static const char *const unknown_node[] = {
        "project", "add", "--config", "CONFIG", "--id", "x", "--title", "T", "--dsa", "D",
        "--purpose", "P", "--datasets", "charity.referrals", "--analysts", "alice", "--start",
        "2026-01-01", "--expiry", "2026-12-31", NULL};
    expect_error(unknown_node, 1, "hearth-gateway: dataset 'charity.referrals': there is no "
                                  "[node charity] in the gateway config\n");
    static const char *const show_unknown[] = {"project", "show", "--config", "CONFIG", "nope",
                                               NULL};
    expect_error(show_unknown, 1, "hearth-gateway: no such project 'nope'\n");
    static const char *const suspend_unknown[] = {"project", "suspend", "--config", "CONFIG",
                                                  "nope", "--reason", "x", NULL};
    expect_error(suspend_unknown, 1, "hearth-gateway: no such project 'nope'\n");

    /* None of that reached the log; now one project, then its id again. */
    leaves_t l;
    read_log(&l);
    cr_assert_eq(l.n, 0);
    e2e_result_t r;
    static const char *const add[] = {ADD_ARGS("diabetes"), NULL};
    cr_assert_eq(gateway(&r, add), 0, "%s", r.err);
    e2e_result_free(&r);
    static const char *const again[] = {ADD_ARGS("diabetes"), "--threshold", "20", NULL};
    expect_error(again, 1, "hearth-gateway: project 'diabetes' already exists\n");
    static const char *const resume_active[] = {"project", "resume", "--config", "CONFIG",
                                                "diabetes", NULL};
    expect_error(resume_active, 1, "hearth-gateway: project 'diabetes' is not suspended\n");
    read_log(&l);
    cr_assert_eq(l.n, 1);
    free_log(&l);
    /* The first is unchanged: [disclosure]'s threshold, not 20. */
    static const char *const show[] = {"project", "show", "--config", "CONFIG", "diabetes",
                                       NULL};
    cr_assert_eq(gateway(&r, show), 0, "%s", r.err);
    char *want = shown("active", "", 10);
    cr_assert_str_eq(r.out, want);
    free(want);
    e2e_result_free(&r);
}

Test(e2e_governance, a_project_section_in_the_config_is_refused)
{
    char *text = e2e_asprintf("%s[project diabetes]\nthreshold = 12\n", CONFIG);
    write_config(text);
    free(text);
    char *want = e2e_asprintf("hearth-gateway: %s:24: projects are managed with "
                              "`hearth-gateway project add` (docs/ig-officer.md), not in the "
                              "config\n", fx.config);
    static const char *const list[] = {"project", "list", "--config", "CONFIG", NULL};
    expect_error(list, 1, want);
    static const char *const serve[] = {"serve", "--config", "CONFIG", NULL};
    expect_error(serve, 1, want);
    free(want);
}

Test(e2e_governance, an_empty_list_prints_the_header_only)
{
    e2e_result_t r;
    static const char *const list[] = {"project", "list", "--config", "CONFIG", NULL};
    cr_assert_eq(gateway(&r, list), 0, "%s", r.err);
    cr_assert_str_eq(r.out, "ID  STATUS     START       EXPIRY      TITLE\n");
    e2e_result_free(&r);
}

Test(e2e_governance, commands_used_wrongly_exit_2_with_the_usage)
{
    static const char *const no_title[] = {"project", "add", "--config", "CONFIG", "--id", "x",
                                           NULL};
    expect_error(no_title, 2, "hearth-gateway: project add needs --title\nusage: ...");
    static const char *const no_config[] = {"project", "list", NULL};
    expect_error(no_config, 2, "hearth-gateway: --config is required\nusage: ...");
    static const char *const no_reason[] = {"project", "suspend", "--config", "CONFIG", "x",
                                            NULL};
    expect_error(no_reason, 2, "hearth-gateway: project suspend needs --reason\nusage: ...");
    static const char *const no_id[] = {"project", "show", "--config", "CONFIG", NULL};
    expect_error(no_id, 2, "hearth-gateway: give exactly one project id\nusage: ...");
    static const char *const add_flag_on_show[] = {"project", "show", "--config", "CONFIG", "x",
                                                   "--threshold", "20", NULL};
    expect_error(add_flag_on_show, 2, "hearth-gateway: --id, --title ... and the disclosure "
                                      "options belong to project add (show, suspend and resume "
                                      "take the id as an argument)\nusage: ...");
    static const char *const unknown_cmd[] = {"project", "delete", "--config", "CONFIG", "x",
                                              NULL};
    expect_error(unknown_cmd, 2, "hearth-gateway: unknown project command 'delete'\nusage: ...");
    static const char *const bare[] = {"project", NULL};
    expect_error(bare, 2, "hearth-gateway: project needs a command: add, show, list, suspend "
                          "or resume\nusage: ...");
    static const char *const bad_option[] = {"project", "list", "--config", "CONFIG", "--colour",
                                             NULL};
    expect_error(bad_option, 2, "hearth-gateway: unknown option '--colour'\nusage: ...");
    static const char *const no_value[] = {"project", "list", "--config", NULL};
    expect_error(no_value, 2, "hearth-gateway: option '--config' needs a value\nusage: ...");
    e2e_result_t r;
    static const char *const help[] = {"project", "--help", NULL};
    cr_assert_eq(gateway(&r, help), 0);
    cr_assert_eq(strncmp(r.out, "usage: hearth-gateway serve --config gateway.ini\n", 49), 0,
                 "%s", r.out);
    cr_assert_not_null(strstr(r.out, "hearth-gateway project suspend --config gateway.ini ID "
                                     "--reason TEXT"));
    e2e_result_free(&r);
}
