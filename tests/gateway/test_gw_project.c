/* Tests for gw_project: projects added, read back, listed, suspended and
 * resumed with exact values (analysts' keys and details snapshotted from the
 * config, datasets sorted and distinct); every validation refusal with its
 * exact reason and nothing stored; the text `project show` prints; and
 * authorisation: a member with the approved key on an approved dataset
 * between the dates (both inclusive) is allowed, everything else refused
 * with a reason that says why. */
#include "gw_project.h"
#include "keys_file.h"
#include "keys_sign.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static gw_config_t *cfg;
static gw_store_t *store;

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void curve(const char *name)
{
    char base[128];
    snprintf(base, sizeof base, "%s/%s", dir, name);
    char *cause = NULL;
    cr_assert_eq(keys_curve_generate(base, &cause), HEARTH_OK, "%s", cause);
}

static void signing(const char *name)
{
    char base[128];
    snprintf(base, sizeof base, "%s/%s-audit", dir, name);
    char *cause = NULL;
    cr_assert_eq(keys_sign_generate(base, name, &cause), HEARTH_OK, "%s", cause);
}

static const char *const CONFIG =
    "[gateway]\n"
    "curve_key = gateway.key\n"
    "audit_key = gateway-audit.signer\n"
    "node_endpoint = tcp://127.0.0.1:*\n"
    "analyst_endpoint = tcp://127.0.0.1:*\n"
    "[disclosure]\n"
    "threshold = 10\n"
    "rounding = 5\n"
    "dominance = p% 10\n"
    "[node trust]\n"
    "public_key = trust.pub\n"
    "receipt_key = trust-audit.vkey\n"
    "[node council]\n"
    "public_key = council.pub\n"
    "receipt_key = council-audit.vkey\n"
    "[analyst alice]\n"
    "public_key = alice.pub\n"
    "display_name = Alice \"Al\" Smith\n"
    "organisation = University of Exeter\n"
    "[analyst bob]\n"
    "public_key = bob.pub\n"
    "[analyst carol]\n"
    "public_key = carol.pub\n"
    "roles = auditor\n";

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-gwproj-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    const char *const curves[] = {"gateway", "trust", "council", "alice", "bob", "carol"};
    for (size_t i = 0; i < 6; i++)
        curve(curves[i]);
    signing("gateway");
    signing("trust");
    signing("council");
    char path[128];
    snprintf(path, sizeof path, "%s/gateway.ini", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(CONFIG, f);
    cr_assert_eq(fclose(f), 0);
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(gw_store_open(cfg->database, &store, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(gw_project_init(store, &cause), HEARTH_OK, "%s", cause);
    /* A second init finds the tables there and changes nothing. */
    cr_assert_eq(gw_project_init(store, &cause), HEARTH_OK, "%s", cause);
}

static void teardown(void)
{
    gw_store_destroy(&store);
    gw_config_destroy(&cfg);
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(gw_project, .init = setup, .fini = teardown);

static void z85_of(const char *name, char out[41])
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    char *cause = NULL;
    cr_assert_eq(keys_curve_load_public(path, out, &cause), HEARTH_OK, "%s", cause);
}

static const char *const DATASETS[] = {"trust.ae", "council.housing", "trust.ae"};
static const char *const ANALYSTS[] = {"bob", "alice"};

/* A valid spec: override fields to test one refusal at a time. */
static gw_project_spec_t good_spec(void)
{
    gw_project_spec_t s = {.id = "diabetes-audit.2026",
                           .title = "Diabetes audit",
                           .dsa = "DSA-2026-014",
                           .purpose = "Falls among people with diabetes",
                           .start = "2026-01-01",
                           .expiry = "2026-12-31",
                           .datasets = DATASETS,
                           .ndatasets = 3,
                           .analysts = ANALYSTS,
                           .nanalysts = 2};
    gw_config_policy_default(cfg, &s.policy);
    return s;
}

static void add_ok(const gw_project_spec_t *s)
{
    char *cause = NULL;
    hearth_err_t rc = gw_project_add(store, cfg, s, NULL, &cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", cause ? cause : "");
    cr_assert_null(cause);
}

static size_t project_count(void)
{
    gw_project_t **list = NULL;
    size_t n = 0;
    char *cause = NULL;
    cr_assert_eq(gw_project_list(store, &list, &n, &cause), HEARTH_OK, "%s", cause);
    gw_project_list_free(&list, n);
    cr_assert_null(list);
    return n;
}

/* Expects s to be refused with rc and exactly want, and nothing stored. */
static void expect_refused(const gw_project_spec_t *s, hearth_err_t want_rc, const char *want)
{
    char *cause = NULL;
    gw_project_t *p = NULL;
    hearth_err_t rc = gw_project_add(store, cfg, s, &p, &cause);
    char got[2048];
    snprintf(got, sizeof got, "%s", cause ? cause : "(no cause)");
    free(cause);
    cr_assert_null(p);
    cr_assert_eq(rc, want_rc, "rc %d: %s", rc, got);
    cr_assert_str_eq(got, want);
}

Test(gw_project, an_added_project_reads_back_exactly)
{
    gw_project_spec_t s = good_spec();
    gw_project_t *added = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_project_add(store, cfg, &s, &added, &cause), HEARTH_OK, "%s", cause);
    cr_assert_not_null(added);
    gw_project_t *p = NULL;
    cr_assert_eq(gw_project_get(store, "diabetes-audit.2026", &p, &cause), HEARTH_OK, "%s",
                 cause);
    for (int round = 0; round < 2; round++) {
        const gw_project_t *q = round == 0 ? added : p;
        cr_assert_str_eq(q->id, "diabetes-audit.2026");
        cr_assert_str_eq(q->title, "Diabetes audit");
        cr_assert_str_eq(q->dsa, "DSA-2026-014");
        cr_assert_str_eq(q->purpose, "Falls among people with diabetes");
        cr_assert_str_eq(q->start, "2026-01-01");
        cr_assert_str_eq(q->expiry, "2026-12-31");
        cr_assert_eq(q->suspended, false);
        cr_assert_str_eq(q->suspended_reason, "");
        /* Sorted, the repeat merged. */
        cr_assert_eq(q->ndatasets, 2);
        cr_assert_str_eq(q->datasets[0], "council.housing");
        cr_assert_str_eq(q->datasets[1], "trust.ae");
        /* Sorted by name, each with the key and details the config had. */
        cr_assert_eq(q->nanalysts, 2);
        char z85[41];
        cr_assert_str_eq(q->analysts[0].name, "alice");
        z85_of("alice", z85);
        cr_assert_str_eq(q->analysts[0].key, z85);
        cr_assert_str_eq(q->analysts[0].display_name, "Alice \"Al\" Smith");
        cr_assert_str_eq(q->analysts[0].organisation, "University of Exeter");
        cr_assert_str_eq(q->analysts[1].name, "bob");
        z85_of("bob", z85);
        cr_assert_str_eq(q->analysts[1].key, z85);
        cr_assert_str_eq(q->analysts[1].display_name, "");
        cr_assert_str_eq(q->analysts[1].organisation, "");
        /* No rules given: [disclosure]'s. */
        cr_assert_eq(q->policy.disclosure.threshold, 10);
        cr_assert_eq(q->policy.disclosure.rounding, 5);
        cr_assert_eq(q->policy.disclosure.zeros_disclosive, false);
        cr_assert_eq(q->policy.disclosure.protection, 3);
        cr_assert_eq(q->policy.dominance.kind, GW_DOMINANCE_P);
        cr_assert_eq(q->policy.dominance.p, 10);
        cr_assert_str_eq(q->policy.dp_epsilon, "");
        cr_assert_str_eq(q->policy.dp_budget, "");
    }
    gw_project_free(&added);
    gw_project_free(&p);
    cr_assert_null(p);
    gw_project_free(&p);
    gw_project_free(NULL);
}

Test(gw_project, stricter_rules_are_kept_exactly)
{
    gw_project_spec_t s = good_spec();
    char *cause = NULL;
    cr_assert_eq(gw_config_policy_set(&s.policy, "threshold", "12", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "rounding", "10", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "zeros", "disclosive", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "protection", "4", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "dominance", "p% 25", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "dp_epsilon", "1/2", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "dp_budget", "2.5", &cause), HEARTH_OK);
    add_ok(&s);
    gw_project_t *p = NULL;
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(p->policy.disclosure.threshold, 12);
    cr_assert_eq(p->policy.disclosure.rounding, 10);
    cr_assert_eq(p->policy.disclosure.zeros_disclosive, true);
    cr_assert_eq(p->policy.disclosure.protection, 4);
    cr_assert_eq(p->policy.dominance.kind, GW_DOMINANCE_P);
    cr_assert_eq(p->policy.dominance.p, 25);
    cr_assert_str_eq(p->policy.dp_epsilon, "1/2");
    cr_assert_str_eq(p->policy.dp_budget, "2.5");
    gw_project_free(&p);
}

Test(gw_project, describe_gives_the_stable_key_value_text)
{
    gw_project_spec_t s = good_spec();
    char *cause = NULL;
    cr_assert_eq(gw_config_policy_set(&s.policy, "dominance", "p% 20", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "dp_epsilon", "1/2", &cause), HEARTH_OK);
    cr_assert_eq(gw_config_policy_set(&s.policy, "dp_budget", "2", &cause), HEARTH_OK);
    gw_project_t *p = NULL;
    cr_assert_eq(gw_project_add(store, cfg, &s, &p, &cause), HEARTH_OK, "%s", cause);
    char alice[41], bob[41];
    z85_of("alice", alice);
    z85_of("bob", bob);
    char want[2048];
    snprintf(want, sizeof want,
             "id: diabetes-audit.2026\n"
             "title: Diabetes audit\n"
             "dsa: DSA-2026-014\n"
             "purpose: Falls among people with diabetes\n"
             "start: 2026-01-01\n"
             "expiry: 2026-12-31\n"
             "status: active\n"
             "datasets: council.housing, trust.ae\n"
             "analyst: alice key=%s display_name=\"Alice \\\"Al\\\" Smith\" "
             "organisation=\"University of Exeter\"\n"
             "analyst: bob key=%s display_name=\"\" organisation=\"\"\n"
             "threshold: 10\n"
             "rounding: 5\n"
             "zeros: released\n"
             "protection: 3\n"
             "dominance: p%% 20\n"
             "dp_epsilon: 1/2\n"
             "dp_budget: 2\n",
             alice, bob);
    char *text = gw_project_describe(p);
    cr_assert_str_eq(text, want);
    free(text);
    gw_project_free(&p);
    /* Suspended: the status and the reason. */
    cr_assert_eq(gw_project_suspend(store, s.id, "DSA under review", &cause), HEARTH_OK);
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK);
    text = gw_project_describe(p);
    cr_assert_not_null(strstr(text, "status: suspended\nreason: DSA under review\ndatasets: "));
    cr_assert_not_null(strstr(text, "\ndominance: p% 20\n"));
    free(text);
    gw_project_free(&p);
}

Test(gw_project, describe_writes_off_and_nk_dominance_and_none_for_no_dp)
{
    /* [disclosure] is p% 10 here, to which n,k is not comparable, so
     * this describes a hand-made project. */
    gw_project_t p = {.id = "x", .start = "2026-01-01", .expiry = "2026-01-02"};
    p.policy.disclosure.threshold = 7;
    p.policy.disclosure.rounding = 5;
    p.policy.disclosure.protection = 3;
    p.policy.dominance = (gw_dominance_t){.kind = GW_DOMINANCE_NK, .n = 2, .k = 85};
    char *text = gw_project_describe(&p);
    cr_assert_str_eq(text, "id: x\ntitle: \ndsa: \npurpose: \nstart: 2026-01-01\n"
                           "expiry: 2026-01-02\nstatus: active\ndatasets: \nthreshold: 7\n"
                           "rounding: 5\nzeros: released\nprotection: 3\n"
                           "dominance: n,k 2 85\ndp_epsilon: none\ndp_budget: none\n");
    free(text);
    p.policy.dominance.kind = GW_DOMINANCE_OFF;
    text = gw_project_describe(&p);
    cr_assert_not_null(strstr(text, "\ndominance: off\n"));
    free(text);
}

Test(gw_project, lists_every_project_sorted_by_id)
{
    cr_assert_eq(project_count(), 0);
    const char *const ids[] = {"zeta", "alpha", "mid-1"};
    for (size_t i = 0; i < 3; i++) {
        gw_project_spec_t s = good_spec();
        s.id = ids[i];
        add_ok(&s);
    }
    gw_project_t **list = NULL;
    size_t n = 0;
    char *cause = NULL;
    cr_assert_eq(gw_project_list(store, &list, &n, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(list[0]->id, "alpha");
    cr_assert_str_eq(list[1]->id, "mid-1");
    cr_assert_str_eq(list[2]->id, "zeta");
    cr_assert_eq(list[1]->ndatasets, 2);
    cr_assert_eq(list[1]->nanalysts, 2);
    gw_project_list_free(&list, n);
    gw_project_list_free(&list, 0);
}

Test(gw_project, suspend_and_resume_round_trip)
{
    gw_project_spec_t s = good_spec();
    add_ok(&s);
    char *cause = NULL;
    cr_assert_eq(gw_project_suspend(store, s.id, "DSA lapsed: renewal pending", &cause),
                 HEARTH_OK, "%s", cause);
    gw_project_t *p = NULL;
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK);
    cr_assert_eq(p->suspended, true);
    cr_assert_str_eq(p->suspended_reason, "DSA lapsed: renewal pending");
    gw_project_free(&p);
    /* Twice is refused, naming the reason it already has. */
    cr_assert_eq(gw_project_suspend(store, s.id, "again", &cause), HEARTH_ERR_REFUSED);
    cr_assert_str_eq(cause, "project 'diabetes-audit.2026' is already suspended: "
                            "DSA lapsed: renewal pending");
    cr_assert_eq(gw_project_resume(store, s.id, &cause), HEARTH_OK);
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK);
    cr_assert_eq(p->suspended, false);
    cr_assert_str_eq(p->suspended_reason, "");
    cr_assert_eq(p->ndatasets, 2);
    gw_project_free(&p);
    cr_assert_eq(gw_project_resume(store, s.id, &cause), HEARTH_ERR_REFUSED);
    cr_assert_str_eq(cause, "project 'diabetes-audit.2026' is not suspended");
    free(cause);
}

Test(gw_project, suspend_and_resume_refuse_bad_input)
{
    gw_project_spec_t s = good_spec();
    add_ok(&s);
    char *cause = NULL;
    cr_assert_eq(gw_project_suspend(store, "nope", "why", &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_str_eq(cause, "no such project 'nope'");
    cr_assert_eq(gw_project_resume(store, "nope", &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_str_eq(cause, "no such project 'nope'");
    cr_assert_eq(gw_project_suspend(store, s.id, "", &cause), HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "the reason must be 1-1024 bytes of printable UTF-8");
    cr_assert_eq(gw_project_suspend(store, s.id, "line\nbreak", &cause), HEARTH_ERR_USAGE);
    cr_assert_eq(gw_project_suspend(store, s.id, NULL, &cause), HEARTH_ERR_USAGE);
    cr_assert_eq(gw_project_suspend(store, "Bad Id", "why", &cause), HEARTH_ERR_USAGE);
    cr_assert_str_eq(cause, "the project id must be 1-63 of a-z, 0-9, _ . and -, starting "
                            "with a letter or digit");
    free(cause);
    gw_project_t *p = NULL;
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK);
    cr_assert_eq(p->suspended, false);
    gw_project_free(&p);
}

Test(gw_project, get_of_an_unknown_or_invalid_id_is_not_found)
{
    gw_project_t *p = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_project_get(store, "absent", &p, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_null(p);
    cr_assert_str_eq(cause, "no such project 'absent'");
    cr_assert_eq(gw_project_get(store, "Evil\x1b[31m", &p, &cause), HEARTH_ERR_NOT_FOUND);
    /* \? keeps "??3" from being read as a trigraph. */
    cr_assert_str_eq(cause, "no such project '?vil\?\?31m'");
    cr_assert_eq(gw_project_get(store, "", &p, &cause), HEARTH_ERR_NOT_FOUND);
    free(cause);
}

Test(gw_project, refuses_a_bad_id)
{
    const char *const bad[] = {"", "Upper", "-dash-first", ".dot", "_under", "sp ace",
                               "slash/x",
                               "a234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gw_project_spec_t s = good_spec();
        s.id = bad[i];
        expect_refused(&s, HEARTH_ERR_USAGE, "the project id must be 1-63 of a-z, 0-9, _ . and "
                                             "-, starting with a letter or digit");
    }
    gw_project_spec_t s = good_spec();
    s.id = NULL;
    expect_refused(&s, HEARTH_ERR_USAGE, "the project id must be 1-63 of a-z, 0-9, _ . and -, "
                                         "starting with a letter or digit");
    /* 63 characters, a leading digit, every allowed character: fine. */
    char id[64];
    memset(id, 'z', 63);
    memcpy(id, "2026_a.b-c", 10);
    id[63] = '\0';
    s.id = id;
    add_ok(&s);
    cr_assert_eq(project_count(), 1);
}

Test(gw_project, refuses_bad_text_fields)
{
    char long_text[GW_PROJECT_TEXT_MAX + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    const char *const bad[] = {"", long_text, "tab\there", "new\nline", "bidi \xe2\x80\xae",
                               "bad utf-8 \xc3", "del\x7f"};
    for (size_t f = 0; f < 3; f++) {
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            gw_project_spec_t s = good_spec();
            const char *name = f == 0 ? "title" : f == 1 ? "dsa" : "purpose";
            if (f == 0)
                s.title = bad[i];
            else if (f == 1)
                s.dsa = bad[i];
            else
                s.purpose = bad[i];
            char want[128];
            snprintf(want, sizeof want, "the %s must be 1-1024 bytes of printable UTF-8", name);
            expect_refused(&s, HEARTH_ERR_USAGE, want);
        }
    }
    /* 1024 bytes and non-ASCII letters are fine. */
    gw_project_spec_t s = good_spec();
    long_text[GW_PROJECT_TEXT_MAX] = '\0';
    s.title = long_text;
    s.purpose = "Étude des chutes — Zoë's cohort";
    add_ok(&s);
    cr_assert_eq(project_count(), 1);
}

Test(gw_project, refuses_bad_dates)
{
    const struct {
        const char *start, *expiry, *want;
    } cases[] = {
        {"2026-1-01", "2026-12-31", "the start date must be a real day written YYYY-MM-DD"},
        {"01/01/2026", "2026-12-31", "the start date must be a real day written YYYY-MM-DD"},
        {"2026-02-30", "2026-12-31", "the start date must be a real day written YYYY-MM-DD"},
        {"2026-01-01", "2026-13-01", "the expiry date must be a real day written YYYY-MM-DD"},
        {"2026-01-01", "", "the expiry date must be a real day written YYYY-MM-DD"},
        {"2026-01-01", "2026-01-01x", "the expiry date must be a real day written YYYY-MM-DD"},
        {"2026-06-01", "2026-05-31", "the start date 2026-06-01 is after the expiry date "
                                     "2026-05-31"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gw_project_spec_t s = good_spec();
        s.start = cases[i].start;
        s.expiry = cases[i].expiry;
        expect_refused(&s, HEARTH_ERR_USAGE, cases[i].want);
    }
    /* One day, and a leap day, are fine. */
    gw_project_spec_t s = good_spec();
    s.start = "2028-02-29";
    s.expiry = "2028-02-29";
    add_ok(&s);
}

Test(gw_project, refuses_bad_datasets)
{
    const struct {
        const char *ds, *want;
    } cases[] = {
        {"trust", "dataset 'trust' must be written node.dataset (each 1-63 of a-z, 0-9 and _, "
                  "starting with a letter)"},
        {"trust.", "dataset 'trust.' must be written node.dataset (each 1-63 of a-z, 0-9 and _, "
                   "starting with a letter)"},
        {".ae", "dataset '.ae' must be written node.dataset (each 1-63 of a-z, 0-9 and _, "
                "starting with a letter)"},
        {"trust.a.e", "dataset 'trust.a.e' must be written node.dataset (each 1-63 of a-z, 0-9 "
                      "and _, starting with a letter)"},
        {"Trust.ae", "dataset '?rust.ae' must be written node.dataset (each 1-63 of a-z, 0-9 "
                     "and _, starting with a letter)"},
        {"charity.referrals", "dataset 'charity.referrals': there is no [node charity] in the "
                              "gateway config"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gw_project_spec_t s = good_spec();
        const char *list[] = {"trust.ae", cases[i].ds};
        s.datasets = list;
        s.ndatasets = 2;
        expect_refused(&s, HEARTH_ERR_USAGE, cases[i].want);
    }
    gw_project_spec_t s = good_spec();
    s.ndatasets = 0;
    expect_refused(&s, HEARTH_ERR_USAGE, "a project approves 1-256 datasets");
    const char **many = calloc(GW_PROJECT_MAX_DATASETS + 1, sizeof *many);
    for (size_t i = 0; i <= GW_PROJECT_MAX_DATASETS; i++)
        many[i] = "trust.ae";
    s.datasets = many;
    s.ndatasets = GW_PROJECT_MAX_DATASETS + 1;
    expect_refused(&s, HEARTH_ERR_USAGE, "a project approves 1-256 datasets");
    /* 256 (repeats merged) is fine. */
    s.ndatasets = GW_PROJECT_MAX_DATASETS;
    add_ok(&s);
    free(many);
    cr_assert_eq(project_count(), 1);
}

Test(gw_project, refuses_analysts_not_configured_or_without_the_analyst_role)
{
    gw_project_spec_t s = good_spec();
    const char *unknown[] = {"alice", "dave"};
    s.analysts = unknown;
    expect_refused(&s, HEARTH_ERR_USAGE, "analyst 'dave' is not in the gateway config (add an "
                                         "[analyst dave] section first)");
    const char *auditor[] = {"carol"};
    s.analysts = auditor;
    s.nanalysts = 1;
    expect_refused(&s, HEARTH_ERR_USAGE, "'carol' does not have the analyst role in the gateway "
                                         "config (roles = analyst)");
    s.nanalysts = 0;
    expect_refused(&s, HEARTH_ERR_USAGE, "a project has 1-256 analysts");
    cr_assert_eq(project_count(), 0);
}

Test(gw_project, refuses_rules_looser_than_disclosure)
{
    const struct {
        const char *name, *value, *want;
    } cases[] = {
        {"threshold", "9", "disclosure rules: threshold must be 10..1000 (at least "
                           "[disclosure]'s, never looser)"},
        {"rounding", "7", "disclosure rules: rounding must be a multiple of 5 from 5 to 1000 "
                          "([disclosure]'s or coarser, never looser)"},
        {"rounding", "1", "disclosure rules: rounding must be a multiple of 5 from 5 to 1000 "
                          "([disclosure]'s or coarser, never looser)"},
        {"protection", "2", "disclosure rules: protection must be 3..1000 (at least "
                            "[disclosure]'s, never looser)"},
        {"protection", "11", "disclosure rules: protection 11 is more than the threshold 10 (a "
                             "hidden cell's range can hold at most threshold values)"},
        {"dominance", "off", "disclosure rules: dominance must be p% 10 or stricter (p% with a "
                             "higher p), never looser than [disclosure]"},
        {"dominance", "p% 9", "disclosure rules: dominance must be p% 10 or stricter (p% with "
                              "a higher p), never looser than [disclosure]"},
        {"dp_epsilon", "1", "disclosure rules: sets dp_epsilon without dp_budget (set both, or "
                            "neither)"},
        {"dp_budget", "1", "disclosure rules: sets dp_budget without dp_epsilon (set both, or "
                           "neither)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gw_project_spec_t s = good_spec();
        char *cause = NULL;
        cr_assert_eq(gw_config_policy_set(&s.policy, cases[i].name, cases[i].value, &cause),
                     HEARTH_OK, "%s", cause);
        expect_refused(&s, HEARTH_ERR_REFUSED, cases[i].want);
    }
    cr_assert_eq(project_count(), 0);
}

Test(gw_project, refuses_an_existing_id_and_keeps_the_first)
{
    gw_project_spec_t s = good_spec();
    add_ok(&s);
    gw_project_spec_t again = good_spec();
    again.title = "Something else";
    const char *one[] = {"council.housing"};
    again.datasets = one;
    again.ndatasets = 1;
    expect_refused(&again, HEARTH_ERR_EXISTS, "project 'diabetes-audit.2026' already exists");
    gw_project_t *p = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK);
    cr_assert_str_eq(p->title, "Diabetes audit");
    cr_assert_eq(p->ndatasets, 2);
    gw_project_free(&p);
    cr_assert_eq(project_count(), 1);
}

Test(gw_project, an_add_rolled_back_with_the_callers_transaction_leaves_nothing)
{
    char *cause = NULL;
    cr_assert_eq(gw_store_begin(store, &cause), HEARTH_OK, "%s", cause);
    gw_project_spec_t s = good_spec();
    add_ok(&s);
    cr_assert_eq(gw_project_suspend(store, s.id, "x", &cause), HEARTH_OK);
    gw_store_rollback(store);
    cr_assert_eq(project_count(), 0);
    /* And committed, it stays. */
    cr_assert_eq(gw_store_begin(store, &cause), HEARTH_OK, "%s", cause);
    add_ok(&s);
    cr_assert_eq(gw_store_commit(store, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(project_count(), 1);
}

Test(gw_project, a_project_survives_reopening_the_database)
{
    gw_project_spec_t s = good_spec();
    add_ok(&s);
    gw_store_destroy(&store);
    char *cause = NULL;
    cr_assert_eq(gw_store_open(cfg->database, &store, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(gw_project_init(store, &cause), HEARTH_OK, "%s", cause);
    gw_project_t *p = NULL;
    cr_assert_eq(gw_project_get(store, s.id, &p, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(p->purpose, "Falls among people with diabetes");
    gw_project_free(&p);
}

/* ---- authorisation ---------------------------------------------------- */

static gw_project_t *added_project(void)
{
    gw_project_spec_t s = good_spec();
    gw_project_t *p = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_project_add(store, cfg, &s, &p, &cause), HEARTH_OK, "%s", cause);
    return p;
}

static void expect_authorise(const gw_project_t *p, const char *name, const char *key,
                             const char *const *ds, size_t n, const char *today,
                             const char *want)
{
    char *cause = NULL;
    hearth_err_t rc = gw_project_authorise(p, name, key, ds, n, today, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    if (want == NULL) {
        cr_assert_eq(rc, HEARTH_OK, "%s", got);
        cr_assert_str_eq(got, "");
    } else {
        cr_assert_eq(rc, HEARTH_ERR_REFUSED, "rc %d", rc);
        cr_assert_str_eq(got, want);
    }
}

static const char *const BOTH[] = {"trust.ae", "council.housing"};

Test(gw_project, a_member_with_the_approved_key_is_allowed)
{
    gw_project_t *p = added_project();
    char alice[41], bob[41];
    z85_of("alice", alice);
    z85_of("bob", bob);
    expect_authorise(p, "alice", alice, BOTH, 2, "2026-06-15", NULL);
    expect_authorise(p, "bob", bob, BOTH, 1, "2026-06-15", NULL);
    /* No dataset at all asks nothing of the approval list. */
    expect_authorise(p, "bob", bob, NULL, 0, "2026-06-15", NULL);
    gw_project_free(&p);
}

Test(gw_project, refuses_a_non_member_and_a_key_other_than_the_approved_one)
{
    gw_project_t *p = added_project();
    char alice[41], bob[41], carol[41];
    z85_of("alice", alice);
    z85_of("bob", bob);
    z85_of("carol", carol);
    expect_authorise(p, "carol", carol, BOTH, 2, "2026-06-15",
                     "analyst 'carol' is not a member of project 'diabetes-audit.2026'");
    expect_authorise(p, "alice", bob, BOTH, 2, "2026-06-15",
                     "analyst 'alice' connected with a key other than the one approved for "
                     "project 'diabetes-audit.2026'");
    expect_authorise(p, "alice", NULL, BOTH, 2, "2026-06-15",
                     "analyst 'alice' connected with a key other than the one approved for "
                     "project 'diabetes-audit.2026'");
    expect_authorise(p, "Mallory\n", alice, BOTH, 2, "2026-06-15",
                     "analyst '?allory?' is not a member of project 'diabetes-audit.2026'");
    gw_project_free(&p);
}

Test(gw_project, refuses_a_suspended_project_with_its_reason)
{
    gw_project_t *p = added_project();
    char *cause = NULL;
    cr_assert_eq(gw_project_suspend(store, p->id, "DSA under review", &cause), HEARTH_OK);
    gw_project_free(&p);
    cr_assert_eq(gw_project_get(store, "diabetes-audit.2026", &p, &cause), HEARTH_OK);
    char alice[41];
    z85_of("alice", alice);
    expect_authorise(p, "alice", alice, BOTH, 2, "2026-06-15",
                     "project 'diabetes-audit.2026' is suspended: DSA under review");
    gw_project_free(&p);
}

Test(gw_project, both_dates_are_inclusive)
{
    gw_project_t *p = added_project();
    char alice[41];
    z85_of("alice", alice);
    expect_authorise(p, "alice", alice, BOTH, 2, "2025-12-31",
                     "project 'diabetes-audit.2026' does not start until 2026-01-01");
    expect_authorise(p, "alice", alice, BOTH, 2, "2026-01-01", NULL);
    expect_authorise(p, "alice", alice, BOTH, 2, "2026-12-31", NULL);
    expect_authorise(p, "alice", alice, BOTH, 2, "2027-01-01",
                     "project 'diabetes-audit.2026' expired on 2026-12-31");
    expect_authorise(p, "alice", alice, BOTH, 2, "2026-6-15",
                     "cannot tell today's date, so project 'diabetes-audit.2026' cannot be "
                     "checked");
    gw_project_free(&p);
}

Test(gw_project, refuses_a_dataset_not_approved_naming_it)
{
    gw_project_t *p = added_project();
    char alice[41];
    z85_of("alice", alice);
    const char *const ds[] = {"trust.ae", "council.benefits"};
    expect_authorise(p, "alice", alice, ds, 2, "2026-06-15",
                     "dataset 'council.benefits' is not approved for project "
                     "'diabetes-audit.2026'");
    const char *const other[] = {"charity.referrals"};
    expect_authorise(p, "alice", alice, other, 1, "2026-06-15",
                     "dataset 'charity.referrals' is not approved for project "
                     "'diabetes-audit.2026'");
    gw_project_free(&p);
}

Test(gw_project, the_date_of_a_time_is_its_utc_day)
{
    char d[GW_PROJECT_DATE_LEN + 1];
    gw_project_date(0, d);
    cr_assert_str_eq(d, "1970-01-01");
    gw_project_date(1767225599, d);   /* 2025-12-31T23:59:59Z */
    cr_assert_str_eq(d, "2025-12-31");
    gw_project_date(1767225600, d);
    cr_assert_str_eq(d, "2026-01-01");
    gw_project_date(1709164800, d);   /* 2024-02-29T00:00:00Z */
    cr_assert_str_eq(d, "2024-02-29");
}
