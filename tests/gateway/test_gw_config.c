/* Tests for gw_config: a good file loads (paths relative to the file, peer
 * public keys and receipt verifier keys read, analysts' display names,
 * organisations and roles, defaults where settings are absent); the
 * gateway refuses any linkage_key setting; disclosure may only be made
 * stricter; missing and unknown settings, duplicate peers and bad key
 * files are refused with the line and a clear reason. [project NAME]
 * sections are refused (projects live in the database now); a project's
 * rules, set from text, may only be stricter than [disclosure]. */
#include "gw_config.h"
#include "keys_file.h"
#include "keys_sign.h"
#include "tlog_note.h"

#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

static char dir[64];

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* Makes dir/name.key and dir/name.pub. */
static void make_keypair(const char *name)
{
    char base[128];
    snprintf(base, sizeof base, "%s/%s", dir, name);
    char *cause = NULL;
    cr_assert_eq(keys_curve_generate(base, &cause), HEARTH_OK, "%s", cause);
}

/* Makes dir/name-audit.signer and dir/name-audit.vkey. */
static void make_signing_key(const char *name)
{
    char base[128];
    snprintf(base, sizeof base, "%s/%s-audit", dir, name);
    char *cause = NULL;
    cr_assert_eq(keys_sign_generate(base, name, &cause), HEARTH_OK, "%s", cause);
}

static void setup(void)
{
    strcpy(dir, "/tmp/hearth-gwcfg-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    make_keypair("gateway");
    make_keypair("trust");
    make_keypair("council");
    make_keypair("alice");
    make_signing_key("trust");
    make_signing_key("council");
}

static void teardown(void)
{
    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(gw_config, .init = setup, .fini = teardown);

static void write_config(const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/gateway.ini", dir);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    cr_assert_eq(fclose(f), 0);
}

/* Loads text, expects rc and the cause "<path><want_suffix>". */
static void expect_refused(const char *text, hearth_err_t want_rc, const char *want_suffix)
{
    char path[128];
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    hearth_err_t rc = gw_config_load(path, &cfg, &cause);
    /* Copied so that a failed assertion leaks nothing. */
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "(no cause)");
    free(cause);
    bool no_config = cfg == NULL;
    gw_config_destroy(&cfg);
    cr_assert_eq(rc, want_rc, "rc %d: %s", rc, got);
    cr_assert(no_config, "a config was returned with an error");
    char want[512];
    snprintf(want, sizeof want, "%s%s", path, want_suffix);
    cr_assert_str_eq(got, want);
}

static const char *const MINIMAL =
    "[gateway]\n"
    "curve_key = gateway.key\n"
    "audit_key = gateway-audit.signer\n"
    "node_endpoint = tcp://0.0.0.0:7001\n"
    "analyst_endpoint = tcp://0.0.0.0:7002\n";

static const char *const FULL =
    "[gateway]\n"                               /* 1 */
    "curve_key = gateway.key\n"                 /* 2 */
    "audit_key = keys/gateway-audit.signer\n"   /* 3 */
    "node_endpoint = tcp://0.0.0.0:7001\n"      /* 4 */
    "analyst_endpoint = tcp://127.0.0.1:*\n"    /* 5 */
    "ready_file = run/gateway.ready\n"          /* 6 */
    "node_timeout_ms = 2500\n"                  /* 7 */
    "[disclosure]\n"                            /* 8 */
    "threshold = 10\n"                          /* 9 */
    "rounding = 10\n"                           /* 10 */
    "[limits]\n"                                /* 11 */
    "max_query_length = 4096\n"                 /* 12 */
    "max_in_list = 50\n"                        /* 13 */
    "max_cells = 200\n"                         /* 14 */
    "[node trust]\n"                            /* 15 */
    "receipt_key = trust-audit.vkey\n"          /* 16: either order */
    "public_key = trust.pub\n"                  /* 17 */
    "[node council]\n"                          /* 18 */
    "public_key = council.pub\n"                /* 19 */
    "receipt_key = council-audit.vkey\n"        /* 20 */
    "[analyst alice]\n"                         /* 21 */
    "public_key = alice.pub\n"                  /* 22 */
    "display_name = Alice Smith\n"              /* 23 */
    "organisation = Université d'Exeter\n"      /* 24 */
    "roles = analyst, auditor\n"                /* 25 */
    "[analyst bob]\n"                           /* 26 */
    "public_key = alice.pub\n";                 /* 27 */

/* The binary public key in dir/name.pub. */
static void public_key(const char *name, uint8_t out[32])
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.pub", dir, name);
    char z85[KEYS_Z85_LEN + 1];
    char *cause = NULL;
    cr_assert_eq(keys_curve_load_public(path, z85, &cause), HEARTH_OK, "%s", cause);
    cr_assert_not_null(zmq_z85_decode(out, z85));
}

Test(gw_config, loads_a_full_file)
{
    char path[128];
    write_config(FULL, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cause);
    char want[160];
    snprintf(want, sizeof want, "%s/gateway.key", dir);
    cr_assert_str_eq(cfg->curve_key, want);
    snprintf(want, sizeof want, "%s/run/gateway.ready", dir);
    cr_assert_str_eq(cfg->ready_file, want);
    snprintf(want, sizeof want, "%s/keys/gateway-audit.signer", dir);
    cr_assert_str_eq(cfg->audit_key, want);
    cr_assert_str_eq(cfg->node_endpoint, "tcp://0.0.0.0:7001");
    cr_assert_str_eq(cfg->analyst_endpoint, "tcp://127.0.0.1:*");
    cr_assert_eq(cfg->node_timeout_ms, 2500);
    cr_assert_eq(cfg->disclosure.threshold, 10);
    cr_assert_eq(cfg->disclosure.rounding, 10);
    cr_assert_eq(cfg->max_query_length, 4096);
    cr_assert_eq(cfg->max_in_list, 50);
    cr_assert_eq(cfg->max_cells, 200);
    cr_assert_eq(cfg->nnodes, 2);
    cr_assert_str_eq(cfg->nodes[0].name, "trust");
    cr_assert_str_eq(cfg->nodes[1].name, "council");
    uint8_t key[32];
    public_key("trust", key);
    cr_assert_eq(memcmp(cfg->nodes[0].key, key, 32), 0);
    public_key("council", key);
    cr_assert_eq(memcmp(cfg->nodes[1].key, key, 32), 0);
    /* The receipt verifiers, as the .vkey files hold them. */
    const char *const names[] = {"trust", "council"};
    for (size_t i = 0; i < 2; i++) {
        char vpath[160];
        snprintf(vpath, sizeof vpath, "%s/%s-audit.vkey", dir, names[i]);
        tlog_verifier_t v;
        cr_assert_eq(tlog_verifier_load(vpath, &v, &cause), HEARTH_OK, "%s", cause);
        cr_assert_str_eq(cfg->nodes[i].receipt_key.name, names[i]);
        cr_assert_eq(cfg->nodes[i].receipt_key.id, v.id);
        cr_assert_eq(memcmp(cfg->nodes[i].receipt_key.pub, v.pub, sizeof v.pub), 0);
        cr_assert_eq(cfg->nodes[i].roles, 0);
        cr_assert_str_eq(cfg->nodes[i].display_name, "");
    }
    cr_assert_eq(gw_config_node(cfg, "council"), &cfg->nodes[1]);
    cr_assert_null(gw_config_node(cfg, "alice"));
    cr_assert_eq(cfg->nanalysts, 2);
    cr_assert_str_eq(cfg->analysts[0].name, "alice");
    public_key("alice", key);
    cr_assert_eq(memcmp(cfg->analysts[0].key, key, 32), 0);
    cr_assert_str_eq(cfg->analysts[0].display_name, "Alice Smith");
    cr_assert_str_eq(cfg->analysts[0].organisation, "Université d'Exeter");
    cr_assert_eq(cfg->analysts[0].roles, GW_ROLE_ANALYST | GW_ROLE_AUDITOR);
    /* Neither display_name, organisation nor roles: "", "" and analyst. */
    cr_assert_str_eq(cfg->analysts[1].name, "bob");
    cr_assert_str_eq(cfg->analysts[1].display_name, "");
    cr_assert_str_eq(cfg->analysts[1].organisation, "");
    cr_assert_eq(cfg->analysts[1].roles, GW_ROLE_ANALYST);
    cr_assert_eq(gw_config_analyst(cfg, "bob"), &cfg->analysts[1]);
    cr_assert_null(gw_config_analyst(cfg, "trust"));
    cr_assert_null(gw_config_analyst(cfg, NULL));
    gw_config_destroy(&cfg);
    cr_assert_null(cfg);
}

Test(gw_config, fills_defaults_for_absent_settings)
{
    char path[128];
    write_config(MINIMAL, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_null(cfg->ready_file);
    cr_assert_eq(cfg->node_timeout_ms, 10000);
    cr_assert_eq(cfg->disclosure.threshold, 7);
    cr_assert_eq(cfg->disclosure.rounding, 5);
    cr_assert_eq(cfg->max_query_length, 16384);
    cr_assert_eq(cfg->max_in_list, 1000);
    cr_assert_eq(cfg->max_cells, 10000);
    cr_assert_eq(cfg->nnodes, 0);
    cr_assert_eq(cfg->nanalysts, 0);
    gw_config_destroy(&cfg);
}

Test(gw_config, names_each_missing_setting)
{
    expect_refused("[gateway]\naudit_key = a.signer\nnode_endpoint = tcp://0.0.0.0:7001\n"
                   "analyst_endpoint = tcp://0.0.0.0:7002\n",
                   HEARTH_ERR_CONFIG, ": missing setting [gateway] curve_key");
    expect_refused("[gateway]\ncurve_key = gateway.key\nnode_endpoint = tcp://0.0.0.0:7001\n"
                   "analyst_endpoint = tcp://0.0.0.0:7002\n",
                   HEARTH_ERR_CONFIG, ": missing setting [gateway] audit_key");
    expect_refused("[gateway]\ncurve_key = gateway.key\naudit_key = a.signer\n"
                   "analyst_endpoint = tcp://0.0.0.0:7002\n",
                   HEARTH_ERR_CONFIG, ": missing setting [gateway] node_endpoint");
    expect_refused("[gateway]\ncurve_key = gateway.key\naudit_key = a.signer\n"
                   "node_endpoint = tcp://0.0.0.0:7001\n",
                   HEARTH_ERR_CONFIG, ": missing setting [gateway] analyst_endpoint");
}

Test(gw_config, refuses_an_unknown_setting)
{
    char text[1024];
    snprintf(text, sizeof text, "%scolour = blue\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":6: unknown setting 'colour' in section [gateway]");
    snprintf(text, sizeof text, "%s[limits]\nmax_rows = 5\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":7: unknown setting 'max_rows' in section [limits]");
    snprintf(text, sizeof text, "%s[node trust]\naddress = 10.0.0.1\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG,
                   ":7: unknown setting 'address' in section [node trust]");
}

#define NO_LINKAGE_KEY \
    "the gateway must never hold the linkage key: remove the linkage_key setting " \
    "(only nodes have it)"

Test(gw_config, refuses_a_linkage_key_in_the_gateway_section)
{
    char text[1024];
    snprintf(text, sizeof text, "%slinkage_key = linkage.key\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":6: " NO_LINKAGE_KEY);
}

Test(gw_config, refuses_a_linkage_key_in_any_section)
{
    const char *sections[] = {"[disclosure]", "[limits]", "[node trust]", "[analyst alice]",
                              "[keys]", "[node]"};
    for (size_t i = 0; i < sizeof sections / sizeof *sections; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s\nlinkage_key = x\n", MINIMAL, sections[i]);
        expect_refused(text, HEARTH_ERR_CONFIG, ":7: " NO_LINKAGE_KEY);
    }
}

Test(gw_config, refuses_a_linkage_key_before_any_section)
{
    char text[1024];
    snprintf(text, sizeof text, "linkage_key = x\n%s", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":1: " NO_LINKAGE_KEY);
}

/* Regression (found and fixed): when the linkage_key line is followed by another bad line, the
 * message loses the linkage-key reason (":6: unknown setting 'colour'"):
 * inih (INI_STOP_ON_FIRST_ERROR is off) keeps calling the handler
 * after one returns 0 and reports the first error's line, while each
 * handler call overwrites the cause in hearth_ini_load's trampoline, so
 * hearth_ini.h's promise ("0 ... to stop at this line") is not kept. Keep
 * the first cause (or build inih to stop at the first error). */
Test(gw_config, a_linkage_key_is_named_even_with_a_later_error)
{
    char text[1024];
    snprintf(text, sizeof text, "%slinkage_key = x\ncolour = blue\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":6: " NO_LINKAGE_KEY);
}

#define THRESHOLD_LOOSER \
    "[disclosure] threshold must be 7..1000 (stricter than the default, never looser)"
#define ROUNDING_LOOSER \
    "[disclosure] rounding must be 5..1000 (stricter than the default, never looser)"

Test(gw_config, refuses_a_looser_threshold)
{
    const char *bad[] = {"5", "0", "6", "-7", "7.5", "ten", "", "1001", "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s[disclosure]\nthreshold = %s\n", MINIMAL, bad[i]);
        expect_refused(text, HEARTH_ERR_CONFIG, ":7: " THRESHOLD_LOOSER);
    }
}

Test(gw_config, refuses_a_looser_rounding)
{
    const char *bad[] = {"3", "0", "1", "4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s[disclosure]\nrounding = %s\n", MINIMAL, bad[i]);
        expect_refused(text, HEARTH_ERR_CONFIG, ":7: " ROUNDING_LOOSER);
    }
}

Test(gw_config, accepts_a_stricter_disclosure_policy)
{
    char path[128];
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\nthreshold = 10\nrounding = 5\n", MINIMAL);
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(cfg->disclosure.threshold, 10);
    cr_assert_eq(cfg->disclosure.rounding, 5);
    gw_config_destroy(&cfg);
    /* The defaults themselves are accepted. */
    snprintf(text, sizeof text, "%s[disclosure]\nthreshold = 7\nrounding = 5\n", MINIMAL);
    write_config(text, path, sizeof path);
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(cfg->disclosure.threshold, 7);
    gw_config_destroy(&cfg);
}

Test(gw_config, refuses_out_of_range_limits_and_timeout)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[limits]\nmax_cells = 0\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":7: [limits] max_cells must be 1..1000000");
    snprintf(text, sizeof text, "%s[limits]\nmax_in_list = 1000001\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":7: [limits] max_in_list must be 1..1000000");
    snprintf(text, sizeof text, "%snode_timeout_ms = 99\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":6: node_timeout_ms must be 100..3600000");
}

Test(gw_config, refuses_a_duplicate_node)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[node trust]\npublic_key = trust.pub\n"
             "[node trust]\npublic_key = council.pub\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":9: [node trust] appears twice (public_key is set "
                   "twice)");
}

Test(gw_config, refuses_a_duplicate_analyst)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[analyst alice]\npublic_key = alice.pub\n"
             "[analyst alice]\npublic_key = alice.pub\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":9: [analyst alice] appears twice (public_key is "
                   "set twice)");
}

Test(gw_config, allows_a_node_and_an_analyst_of_the_same_name)
{
    char path[128];
    char text[1024];
    snprintf(text, sizeof text, "%s[node alice]\npublic_key = trust.pub\n"
             "receipt_key = trust-audit.vkey\n[analyst alice]\npublic_key = alice.pub\n",
             MINIMAL);
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_eq(cfg->nnodes, 1);
    cr_assert_eq(cfg->nanalysts, 1);
    gw_config_destroy(&cfg);
}

Test(gw_config, refuses_an_invalid_public_key_file)
{
    char bad[128];
    snprintf(bad, sizeof bad, "%s/bad.pub", dir);
    FILE *f = fopen(bad, "w");
    cr_assert_not_null(f);
    fputs("this is not a z85 key\n", f);
    fclose(f);
    char text[1024];
    snprintf(text, sizeof text, "%s[node trust]\npublic_key = bad.pub\n", MINIMAL);
    char path[128];
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_ERR_CONFIG);
    cr_assert_null(cfg);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:7: [node trust] public_key: ", path);
    cr_assert_eq(strncmp(cause, prefix, strlen(prefix)), 0, "%s", cause);
    cr_assert_not_null(strstr(cause, "bad.pub"), "%s", cause);
    free(cause);
}

Test(gw_config, refuses_a_secret_key_file_given_as_a_public_key)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[node trust]\npublic_key = trust.key\n", MINIMAL);
    char path[128];
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_ERR_CONFIG);
    cr_assert_null(cfg);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:7: [node trust] public_key: ", path);
    cr_assert_eq(strncmp(cause, prefix, strlen(prefix)), 0, "%s", cause);
    free(cause);
}

Test(gw_config, refuses_a_missing_public_key_file)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[analyst bob]\npublic_key = bob.pub\n", MINIMAL);
    char path[128];
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_ERR_CONFIG);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s:7: [analyst bob] public_key: ", path);
    cr_assert_eq(strncmp(cause, prefix, strlen(prefix)), 0, "%s", cause);
    free(cause);
}

Test(gw_config, refuses_an_invalid_peer_name)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[node Trust]\npublic_key = trust.pub\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":7: [node Trust]: node names are 1-63 of a-z, "
                   "0-9 and _, starting with a letter");
    snprintf(text, sizeof text, "%s[analyst Alice]\npublic_key = trust.pub\n", MINIMAL);
    expect_refused(text, HEARTH_ERR_CONFIG, ":7: [analyst Alice]: names are 1-63 of a-z, 0-9, "
                   "_ - and ., starting with a letter");
}

/* Regression (found and fixed): [node x] accepts '-' and '.' in x (name_valid is shared with
 * [analyst x]), but a node's own config allows only a-z, 0-9 and _
 * (node_config_name_valid) and its Hello must carry exactly x, and a query
 * names it as x.dataset: a [node trust-nhs] or [node trust.nhs] section
 * loads but can never be matched or queried. It should be refused at load
 * time with the node-name rule. */
Test(gw_config, refuses_a_node_name_no_node_can_have)
{
    const char *bad[] = {"trust-nhs", "trust.nhs"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s[node %s]\npublic_key = trust.pub\n", MINIMAL, bad[i]);
        char path[128];
        write_config(text, path, sizeof path);
        gw_config_t *cfg = NULL;
        char *cause = NULL;
        hearth_err_t rc = gw_config_load(path, &cfg, &cause);
        gw_config_destroy(&cfg);
        free(cause);
        cr_assert_eq(rc, HEARTH_ERR_CONFIG, "[node %s] was accepted", bad[i]);
    }
}

Test(gw_config, allows_dots_and_dashes_in_analyst_names)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[analyst alice.smith-2]\npublic_key = alice.pub\n", MINIMAL);
    char path[128];
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_OK, "%s", cause);
    cr_assert_str_eq(cfg->analysts[0].name, "alice.smith-2");
    gw_config_destroy(&cfg);
}

Test(gw_config, a_missing_file_is_not_found)
{
    char path[128];
    snprintf(path, sizeof path, "%s/absent.ini", dir);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_ERR_NOT_FOUND);
    cr_assert_null(cfg);
    char want[160];
    snprintf(want, sizeof want, "cannot read config '%s'", path);
    cr_assert_str_eq(cause, want);
    free(cause);
}

Test(gw_config, destroy_is_null_safe)
{
    gw_config_destroy(NULL);
    gw_config_t *cfg = NULL;
    gw_config_destroy(&cfg);
    cr_assert_null(cfg);
}

/* ---------------------------------------------------------------- issue 5 */

/* Loads text, which must succeed; the caller destroys the config. */
static gw_config_t *load_ok(const char *text)
{
    char path[128];
    write_config(text, path, sizeof path);
    gw_config_t *cfg = NULL;
    char *cause = NULL;
    hearth_err_t rc = gw_config_load(path, &cfg, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", got);
    return cfg;
}

/* MINIMAL + extra, refused with "<path>:<line>: <reason>" or "<path>: ...". */
static void expect_extra_refused(const char *extra, const char *want_suffix)
{
    char text[2048];
    snprintf(text, sizeof text, "%s%s", MINIMAL, extra);
    expect_refused(text, HEARTH_ERR_CONFIG, want_suffix);
}

Test(gw_config, new_disclosure_settings_default_to_the_brief)
{
    gw_config_t *cfg = load_ok(MINIMAL);
    cr_assert_eq(cfg->disclosure.zeros_disclosive, false);
    cr_assert_eq(cfg->disclosure.protection, 3);
    cr_assert_eq(cfg->dominance.kind, GW_DOMINANCE_OFF);
    cr_assert_eq(cfg->max_queries_per_hour, 0);
    char want[160];
    snprintf(want, sizeof want, "%s/gateway.db", dir);
    cr_assert_str_eq(cfg->database, want);
    gw_config_destroy(&cfg);
}

Test(gw_config, database_path_is_relative_to_the_config)
{
    char text[1024];
    snprintf(text, sizeof text, "%sdatabase = state/gw.sqlite\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    char want[160];
    snprintf(want, sizeof want, "%s/state/gw.sqlite", dir);
    cr_assert_str_eq(cfg->database, want);
    gw_config_destroy(&cfg);
    snprintf(text, sizeof text, "%sdatabase = /var/lib/hearth/gw.db\n", MINIMAL);
    cfg = load_ok(text);
    cr_assert_str_eq(cfg->database, "/var/lib/hearth/gw.db");
    gw_config_destroy(&cfg);
}

Test(gw_config, loads_stricter_disclosure_settings)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\nzeros = disclosive\nprotection = 5\n"
             "dominance = p%% 10\nmax_queries_per_hour = 60\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    cr_assert_eq(cfg->disclosure.zeros_disclosive, true);
    cr_assert_eq(cfg->disclosure.protection, 5);
    cr_assert_eq(cfg->dominance.kind, GW_DOMINANCE_P);
    cr_assert_eq(cfg->dominance.p, 10);
    cr_assert_eq(cfg->max_queries_per_hour, 60);
    gw_config_destroy(&cfg);
    snprintf(text, sizeof text, "%s[disclosure]\nzeros = released\ndominance = n,k 2 85\n",
             MINIMAL);
    cfg = load_ok(text);
    cr_assert_eq(cfg->disclosure.zeros_disclosive, false);
    cr_assert_eq(cfg->dominance.kind, GW_DOMINANCE_NK);
    cr_assert_eq(cfg->dominance.n, 2);
    cr_assert_eq(cfg->dominance.k, 85);
    gw_config_destroy(&cfg);
}

Test(gw_config, dominance_parts_may_be_spaced_with_tabs_and_runs_of_spaces)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\ndominance = n,k\t3   99\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    cr_assert_eq(cfg->dominance.kind, GW_DOMINANCE_NK);
    cr_assert_eq(cfg->dominance.n, 3);
    cr_assert_eq(cfg->dominance.k, 99);
    gw_config_destroy(&cfg);
    snprintf(text, sizeof text, "%s[disclosure]\ndominance = off\n", MINIMAL);
    cfg = load_ok(text);
    cr_assert_eq(cfg->dominance.kind, GW_DOMINANCE_OFF);
    gw_config_destroy(&cfg);
}

#define DOMINANCE_BAD "dominance must be off, p% P (P 1..100) or n,k N K (N 1..3, K 1..99)"

Test(gw_config, refuses_a_malformed_dominance_rule)
{
    const char *bad[] = {"on", "p%", "p% 0", "p% 101", "p% 10 2", "p%10", "p 10", "n,k 2",
                         "n,k 0 85", "n,k 4 85", "n,k 2 0", "n,k 2 100", "n,k 2 85 1",
                         "nk 2 85", "off 1", "p% -5", "p% 1.5", "P% 10"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, "[disclosure]\ndominance = %s\n", bad[i]);
        expect_extra_refused(extra, ":7: [disclosure] " DOMINANCE_BAD);
    }
}

Test(gw_config, refuses_looser_or_malformed_new_disclosure_settings)
{
    expect_extra_refused("[disclosure]\nzeros = hidden\n",
                         ":7: [disclosure] zeros must be released or disclosive");
    const char *bad_protection[] = {"2", "0", "-3", "1001", "three"};
    for (size_t i = 0; i < sizeof bad_protection / sizeof *bad_protection; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, "[disclosure]\nprotection = %s\n", bad_protection[i]);
        expect_extra_refused(extra, ":7: [disclosure] protection must be 3..1000 "
                             "(stricter than the default, never looser)");
    }
    expect_extra_refused("[disclosure]\nmax_queries_per_hour = 1000001\n",
                         ":7: [disclosure] max_queries_per_hour must be 0..1000000 (0: no limit)");
    expect_extra_refused("[disclosure]\nmax_queries_per_hour = -1\n",
                         ":7: [disclosure] max_queries_per_hour must be 0..1000000 (0: no limit)");
    expect_extra_refused("[disclosure]\ncolour = blue\n",
                         ":7: unknown setting 'colour' in section [disclosure]");
}

Test(gw_config, refuses_a_protection_above_the_threshold)
{
    expect_extra_refused("[disclosure]\nprotection = 8\n",
                         ": [disclosure] protection 8 is more than the threshold 7 (a hidden "
                         "cell's range can hold at most threshold values)");
    /* Equal is the most a threshold allows, and is accepted. */
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\nprotection = 7\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    cr_assert_eq(cfg->disclosure.protection, 7);
    gw_config_destroy(&cfg);
}

/* ---------------------------------------------------------------- issue 6 */

#define PROJECTS_MOVED \
    "projects are managed with `hearth-gateway project add` (docs/ig-officer.md), not in " \
    "the config"

Test(gw_config, refuses_a_project_section_pointing_to_project_add)
{
    expect_extra_refused("[project diabetes-audit]\nthreshold = 10\n", ":7: " PROJECTS_MOVED);
    expect_extra_refused("[project]\nthreshold = 10\n", ":7: " PROJECTS_MOVED);
    /* Even a setting that would have been fine, wherever the section is. */
    expect_extra_refused("[disclosure]\nthreshold = 8\n[project p]\ndp_epsilon = 1/2\n",
                         ":9: " PROJECTS_MOVED);
}

Test(gw_config, a_node_needs_its_receipt_key)
{
    expect_extra_refused("[node trust]\npublic_key = trust.pub\n",
                         ": missing setting [node trust] receipt_key");
    expect_extra_refused("[node trust]\nreceipt_key = trust-audit.vkey\n",
                         ": missing setting [node trust] public_key");
    expect_extra_refused("[analyst bob]\ndisplay_name = Bob\n",
                         ": missing setting [analyst bob] public_key");
}

Test(gw_config, refuses_a_bad_receipt_key_file)
{
    char path[128];
    char text[1024];
    /* Absent, a signing key instead of a verifier, and not a key at all. */
    const char *const bad[] = {"absent.vkey", "trust-audit.signer", "trust.pub"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(text, sizeof text, "%s[node trust]\npublic_key = trust.pub\nreceipt_key = %s\n",
                 MINIMAL, bad[i]);
        write_config(text, path, sizeof path);
        gw_config_t *cfg = NULL;
        char *cause = NULL;
        cr_assert_eq(gw_config_load(path, &cfg, &cause), HEARTH_ERR_CONFIG, "%s", bad[i]);
        cr_assert_null(cfg);
        char prefix[200];
        snprintf(prefix, sizeof prefix, "%s:8: [node trust] receipt_key: ", path);
        cr_assert_eq(strncmp(cause, prefix, strlen(prefix)), 0, "%s", cause);
        free(cause);
    }
}

Test(gw_config, settings_of_the_wrong_peer_kind_are_unknown)
{
    expect_extra_refused("[analyst alice]\nreceipt_key = trust-audit.vkey\n",
                         ":7: unknown setting 'receipt_key' in section [analyst alice]");
    expect_extra_refused("[node trust]\nroles = analyst\n",
                         ":7: unknown setting 'roles' in section [node trust]");
    expect_extra_refused("[node trust]\ndisplay_name = Trust\n",
                         ":7: unknown setting 'display_name' in section [node trust]");
}

Test(gw_config, roles_are_a_comma_list_of_known_roles)
{
    const struct {
        const char *text;
        unsigned want;
    } ok[] = {
        {"analyst", GW_ROLE_ANALYST},
        {"auditor", GW_ROLE_AUDITOR},
        {"admin", GW_ROLE_ADMIN},
        {"analyst,auditor", GW_ROLE_ANALYST | GW_ROLE_AUDITOR},
        {" admin ,\tauditor , analyst", GW_ROLE_ANALYST | GW_ROLE_AUDITOR | GW_ROLE_ADMIN},
        {"auditor, auditor", GW_ROLE_AUDITOR},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s[analyst alice]\npublic_key = alice.pub\nroles = %s\n",
                 MINIMAL, ok[i].text);
        gw_config_t *cfg = load_ok(text);
        cr_assert_eq(cfg->analysts[0].roles, ok[i].want, "%s", ok[i].text);
        gw_config_destroy(&cfg);
    }
    const char *const bad[] = {"", "analysts", "Analyst", "analyst,", ",auditor",
                               "analyst;auditor", "analyst auditor", "root"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char extra[256];
        snprintf(extra, sizeof extra, "[analyst alice]\nroles = %s\n", bad[i]);
        expect_extra_refused(extra, ":7: [analyst alice] roles must be a comma-separated list "
                             "of analyst, auditor and admin");
    }
}

/* The 200-byte bound is defence in depth: inih reads lines of at most 200
 * bytes, so a value that long cannot be written in the file anyway. */
Test(gw_config, display_name_and_organisation_are_printable_text)
{
    char text[1024];
    const char *const bad[] = {"bell\a", "bidi \xe2\x80\xae", "cut \xe2\x80", "c1 \xc2\x85"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char extra[512];
        snprintf(extra, sizeof extra, "[analyst alice]\ndisplay_name = %s\n", bad[i]);
        expect_extra_refused(extra, ":7: [analyst alice] display_name must be at most 200 bytes "
                             "of printable UTF-8");
        snprintf(extra, sizeof extra, "[analyst alice]\norganisation = %s\n", bad[i]);
        expect_extra_refused(extra, ":7: [analyst alice] organisation must be at most 200 bytes "
                             "of printable UTF-8");
    }
    char long_name[151];
    memset(long_name, 'x', sizeof long_name - 1);
    long_name[sizeof long_name - 1] = '\0';
    snprintf(text, sizeof text, "%s[analyst alice]\npublic_key = alice.pub\n"
             "display_name = %s\norganisation = Ysbyty Gwynedd — Bangor\n", MINIMAL, long_name);
    gw_config_t *cfg = load_ok(text);
    cr_assert_str_eq(cfg->analysts[0].display_name, long_name);
    cr_assert_str_eq(cfg->analysts[0].organisation, "Ysbyty Gwynedd — Bangor");
    gw_config_destroy(&cfg);
}

Test(gw_config, text_printable_refuses_controls_bidi_and_bad_utf8)
{
    cr_assert(gw_config_text_printable(""));
    cr_assert(gw_config_text_printable("Zoë O'Brien (NHS) 100% \xf0\x9f\x99\x82"));
    cr_assert_not(gw_config_text_printable("tab\t"));
    cr_assert_not(gw_config_text_printable("\x1b[31m"));
    cr_assert_not(gw_config_text_printable("del\x7f"));
    cr_assert_not(gw_config_text_printable("\xc2\x9b"));              /* C1 CSI */
    cr_assert_not(gw_config_text_printable("\xe2\x80\xae"));          /* RLO */
    cr_assert_not(gw_config_text_printable("\xe2\x81\xa6"));          /* LRI */
    cr_assert_not(gw_config_text_printable("\xc0\xaf"));              /* overlong */
    cr_assert_not(gw_config_text_printable("\xed\xa0\x80"));          /* surrogate */
    cr_assert_not(gw_config_text_printable("\xf4\x90\x80\x80"));      /* past U+10FFFF */
    cr_assert_not(gw_config_text_printable("\xff"));
    cr_assert_not(gw_config_text_printable("cut \xe2\x82"));
}

/* ---- a project's rules (gw_config_policy_set, gw_config_policy_check) */

static gw_project_policy_t policy_of(const gw_config_t *cfg, const char *name,
                                    const char *value)
{
    gw_project_policy_t p;
    gw_config_policy_default(cfg, &p);
    char *cause = NULL;
    hearth_err_t rc = gw_config_policy_set(&p, name, value, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_OK, "%s = %s: %s", name, value, got);
    return p;
}

static void expect_policy_refused(const gw_config_t *cfg, const gw_project_policy_t *p,
                                  const char *want)
{
    char *cause = NULL;
    hearth_err_t rc = gw_config_policy_check(cfg, p, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "(no cause)");
    free(cause);
    cr_assert_eq(rc, HEARTH_ERR_CONFIG, "%s", got);
    cr_assert_str_eq(got, want);
}

static void expect_policy_ok(const gw_config_t *cfg, const gw_project_policy_t *p)
{
    char *cause = NULL;
    hearth_err_t rc = gw_config_policy_check(cfg, p, &cause);
    char got[512];
    snprintf(got, sizeof got, "%s", cause ? cause : "");
    free(cause);
    cr_assert_eq(rc, HEARTH_OK, "%s", got);
}

Test(gw_config, the_default_project_policy_is_disclosure_and_passes)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\nthreshold = 9\nrounding = 10\n"
             "zeros = disclosive\nprotection = 4\ndominance = n,k 2 85\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    gw_project_policy_t p;
    memset(&p, 0xa5, sizeof p);
    gw_config_policy_default(cfg, &p);
    cr_assert_eq(p.disclosure.threshold, 9);
    cr_assert_eq(p.disclosure.rounding, 10);
    cr_assert_eq(p.disclosure.zeros_disclosive, true);
    cr_assert_eq(p.disclosure.protection, 4);
    cr_assert_eq(p.dominance.kind, GW_DOMINANCE_NK);
    cr_assert_eq(p.dominance.n, 2);
    cr_assert_eq(p.dominance.k, 85);
    cr_assert_str_eq(p.dp_epsilon, "");
    cr_assert_str_eq(p.dp_budget, "");
    expect_policy_ok(cfg, &p);
    gw_config_destroy(&cfg);
}

Test(gw_config, policy_set_takes_each_rule_from_text)
{
    gw_config_t *cfg = load_ok(MINIMAL);
    gw_project_policy_t p = policy_of(cfg, "threshold", "12");
    cr_assert_eq(p.disclosure.threshold, 12);
    p = policy_of(cfg, "rounding", "20");
    cr_assert_eq(p.disclosure.rounding, 20);
    p = policy_of(cfg, "zeros", "disclosive");
    cr_assert_eq(p.disclosure.zeros_disclosive, true);
    p = policy_of(cfg, "protection", "4");
    cr_assert_eq(p.disclosure.protection, 4);
    p = policy_of(cfg, "dominance", "n,k\t3  60");
    cr_assert_eq(p.dominance.kind, GW_DOMINANCE_NK);
    cr_assert_eq(p.dominance.n, 3);
    cr_assert_eq(p.dominance.k, 60);
    const char *good[] = {"1/2", "0.25", "2", "10", "3/1000", "0010/20", "1.0", "0.001"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        p = policy_of(cfg, "dp_epsilon", good[i]);
        char *cause = NULL;
        cr_assert_eq(gw_config_policy_set(&p, "dp_budget", good[i], &cause), HEARTH_OK);
        cr_assert_str_eq(p.dp_epsilon, good[i]);
        cr_assert_str_eq(p.dp_budget, good[i]);
        expect_policy_ok(cfg, &p);
    }
    gw_config_destroy(&cfg);
}

Test(gw_config, policy_set_refuses_malformed_values_and_leaves_the_policy)
{
    gw_config_t *cfg = load_ok(MINIMAL);
    const struct {
        const char *name, *value, *want;
    } bad[] = {
        {"threshold", "ten", "threshold must be a whole number from 1 to 1000"},
        {"threshold", "0", "threshold must be a whole number from 1 to 1000"},
        {"rounding", "1001", "rounding must be a whole number from 1 to 1000"},
        {"protection", "-3", "protection must be a whole number from 1 to 1000"},
        {"zeros", "hidden", "zeros must be released or disclosive"},
        {"dominance", "sometimes", DOMINANCE_BAD},
        {"dominance", "n,k 4 85", DOMINANCE_BAD},
        {"dp_epsilon", "20", "dp_epsilon must be a positive number: a whole number, a fraction "
                             "such as 1/2 or a decimal such as 0.5 with at most 6 places; epsilon "
                             "at most 10, a budget at most 100"},
        {"dp_epsilon", "1e-3", "dp_epsilon must be a positive number: a whole number, a "
                               "fraction such as 1/2 or a decimal such as 0.5 with at most 6 "
                               "places; epsilon at most 10, a budget at most 100"},
        {"dp_budget", "0", "dp_budget must be a positive number: a whole number, a fraction "
                           "such as 1/2 or a decimal such as 0.5 with at most 6 places; epsilon "
                           "at most 10, a budget at most 100"},
        {"max_queries_per_hour", "5", "unknown disclosure setting 'max_queries_per_hour'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gw_project_policy_t p, before;
        gw_config_policy_default(cfg, &p);
        before = p;
        char *cause = NULL;
        cr_assert_eq(gw_config_policy_set(&p, bad[i].name, bad[i].value, &cause),
                     HEARTH_ERR_USAGE, "%s = %s", bad[i].name, bad[i].value);
        cr_assert_str_eq(cause, bad[i].want);
        free(cause);
        cr_assert_eq(memcmp(&p, &before, sizeof p), 0);
    }
    gw_config_destroy(&cfg);
}

Test(gw_config, policy_check_refuses_anything_looser_than_disclosure)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\nthreshold = 9\nrounding = 10\n"
             "zeros = disclosive\nprotection = 4\ndominance = p%% 10\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    gw_project_policy_t p = policy_of(cfg, "threshold", "8");
    expect_policy_refused(cfg, &p, "threshold must be 9..1000 (at least [disclosure]'s, never "
                                   "looser)");
    const char *bad_rounding[] = {"5", "15", "25"};
    for (size_t i = 0; i < 3; i++) {
        p = policy_of(cfg, "rounding", bad_rounding[i]);
        expect_policy_refused(cfg, &p, "rounding must be a multiple of 10 from 10 to 1000 "
                                       "([disclosure]'s or coarser, never looser)");
    }
    p = policy_of(cfg, "zeros", "released");
    expect_policy_refused(cfg, &p, "zeros must be disclosive, as [disclosure] says (never "
                                   "looser)");
    p = policy_of(cfg, "protection", "3");
    expect_policy_refused(cfg, &p, "protection must be 4..1000 (at least [disclosure]'s, never "
                                   "looser)");
    p = policy_of(cfg, "protection", "10");
    expect_policy_refused(cfg, &p, "protection 10 is more than the threshold 9 (a hidden "
                                   "cell's range can hold at most threshold values)");
    const char *bad_dom[] = {"off", "p% 9", "n,k 3 50"};
    for (size_t i = 0; i < 3; i++) {
        p = policy_of(cfg, "dominance", bad_dom[i]);
        expect_policy_refused(cfg, &p, "dominance must be p% 10 or stricter (p% with a higher "
                                       "p), never looser than [disclosure]");
    }
    p = policy_of(cfg, "dp_epsilon", "1/2");
    expect_policy_refused(cfg, &p, "sets dp_epsilon without dp_budget (set both, or neither)");
    p = policy_of(cfg, "dp_budget", "2");
    expect_policy_refused(cfg, &p, "sets dp_budget without dp_epsilon (set both, or neither)");
    /* A hand-made value gw_config_policy_set would not give is still
     * checked. */
    gw_config_policy_default(cfg, &p);
    strcpy(p.dp_epsilon, "half");
    strcpy(p.dp_budget, "2");
    expect_policy_refused(cfg, &p, "dp_epsilon must be a positive number: a whole number, a "
                                   "fraction such as 1/2 or a decimal such as 0.5 with at most 6 "
                                   "places; epsilon at most 10, a budget at most 100");
    gw_config_destroy(&cfg);
}

Test(gw_config, policy_check_accepts_equal_and_stricter_rules)
{
    char text[1024];
    snprintf(text, sizeof text, "%s[disclosure]\nrounding = 10\n", MINIMAL);
    gw_config_t *cfg = load_ok(text);
    gw_project_policy_t p = policy_of(cfg, "rounding", "30");
    expect_policy_ok(cfg, &p);
    p = policy_of(cfg, "threshold", "1000");
    expect_policy_ok(cfg, &p);
    p = policy_of(cfg, "zeros", "disclosive");
    expect_policy_ok(cfg, &p);
    gw_config_destroy(&cfg);
    struct {
        const char *gateway, *project;
    } ok[] = {
        {"off", "off"},           {"off", "p% 5"},          {"off", "n,k 1 90"},
        {"p% 10", "p% 10"},       {"p% 10", "p% 25"},       {"n,k 2 85", "n,k 3 85"},
        {"n,k 2 85", "n,k 2 70"}, {"n,k 2 85", "n,k 3 60"},
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        snprintf(text, sizeof text, "%s[disclosure]\ndominance = %s\n", MINIMAL, ok[i].gateway);
        cfg = load_ok(text);
        p = policy_of(cfg, "dominance", ok[i].project);
        expect_policy_ok(cfg, &p);
        gw_config_destroy(&cfg);
    }
    const char *const nk_bad[] = {"off", "n,k 1 85", "n,k 2 86", "n,k 3 90", "p% 50"};
    for (size_t i = 0; i < sizeof nk_bad / sizeof *nk_bad; i++) {
        snprintf(text, sizeof text, "%s[disclosure]\ndominance = n,k 2 85\n", MINIMAL);
        cfg = load_ok(text);
        p = policy_of(cfg, "dominance", nk_bad[i]);
        expect_policy_refused(cfg, &p, "dominance must be n,k 2 85 or stricter (n,k with n at "
                                       "least 2 and k at most 85), never looser than "
                                       "[disclosure]");
        gw_config_destroy(&cfg);
    }
}

Test(gw_config, dominance_at_least_orders_rules_of_one_kind)
{
    gw_dominance_t off = {.kind = GW_DOMINANCE_OFF};
    gw_dominance_t p10 = {.kind = GW_DOMINANCE_P, .p = 10}, p20 = {.kind = GW_DOMINANCE_P, .p = 20};
    gw_dominance_t nk = {.kind = GW_DOMINANCE_NK, .n = 2, .k = 85};
    cr_assert(gw_config_dominance_at_least(&off, &off));
    cr_assert(gw_config_dominance_at_least(&p10, &off));
    cr_assert(gw_config_dominance_at_least(&p20, &p10));
    cr_assert_not(gw_config_dominance_at_least(&p10, &p20));
    cr_assert_not(gw_config_dominance_at_least(&nk, &p10));
    cr_assert_not(gw_config_dominance_at_least(&off, &nk));
}

Test(gw_config, reports_the_first_bad_line)
{
    expect_extra_refused("colour = blue\n[disclosure]\nthreshold = 3\n",
                         ":6: unknown setting 'colour' in section [gateway]");
    expect_extra_refused("[limits\n[disclosure]\nprotection = 5\n", ":6: syntax error");
}
