/* hearth-gateway: the partnership's central service, and the commands an IG
 * officer uses on the gateway host to manage projects. */
#include "audit_event.h"
#include "gw_audit.h"
#include "gw_config.h"
#include "gw_project.h"
#include "gw_serve.h"
#include "gw_store.h"
#include "hearth_err.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_sign.h"

#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char USAGE[] =
    "usage: hearth-gateway serve --config gateway.ini\n"
    "       hearth-gateway project add --config gateway.ini --id ID --title TEXT\n"
    "                      --dsa REFERENCE --purpose TEXT --datasets NODE.DATASET,...\n"
    "                      --analysts NAME,... --start YYYY-MM-DD --expiry YYYY-MM-DD\n"
    "                      [--threshold N] [--rounding N] [--zeros released|disclosive]\n"
    "                      [--protection N] [--dominance 'off'|'p% P'|'n,k N K']\n"
    "                      [--dp-epsilon E --dp-budget B] [--by NAME]\n"
    "       hearth-gateway project show --config gateway.ini ID\n"
    "       hearth-gateway project list --config gateway.ini\n"
    "       hearth-gateway project suspend --config gateway.ini ID --reason TEXT [--by NAME]\n"
    "       hearth-gateway project resume --config gateway.ini ID [--reason TEXT] [--by NAME]\n"
    "\n"
    "  serve            accept node and analyst connections and answer queries\n"
    "  project add      approve a project: its analysts (named as in [analyst NAME]),\n"
    "                   datasets, dates (inclusive, UTC) and disclosure rules, which\n"
    "                   may only be stricter than [disclosure]\n"
    "  project show     print one project\n"
    "  project list     list every project\n"
    "  project suspend  refuse every query of a project until it is resumed\n"
    "  project resume   accept a suspended project's queries again\n"
    "\n"
    "  --config FILE  the gateway's configuration (see docs/operator.md)\n"
    "  --by NAME      who is making the change, for the audit log (default: your\n"
    "                 login name)\n"
    "\n"
    "Every change to a project is recorded in the audit log in the same\n"
    "transaction (see docs/ig-officer.md). Exit status: 0 done, 1 refused or\n"
    "failed, 2 the command was not used as above.\n";

/* The longest --by value: a login name or a person's name. */
#define ACTOR_MAX 200

/* Written by the signal handler, read by the serve loop; nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int usage_error(const char *what)
{
    if (what)
        fprintf(stderr, "hearth-gateway: %s\n", what);
    fputs(USAGE, stderr);
    return 2;
}

/* getopt_long returned '?' or ':' for argv: says which option was wrong
 * (getopt's own message would name the program by its full path). */
static int bad_option(int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    if (c == ':')
        fprintf(stderr, "hearth-gateway: option '%.64s' needs a value\n", arg);
    else
        fprintf(stderr, "hearth-gateway: unknown option '%.64s'\n", arg);
    fputs(USAGE, stderr);
    return 2;
}

/* Prints "hearth-gateway: <cause>" and returns 1. */
static int fail(hearth_err_t rc, const char *cause)
{
    fprintf(stderr, "hearth-gateway: %s\n", cause ? cause : hearth_strerror(rc));
    return 1;
}

static int cmd_serve(const char *config)
{
    char *cause = NULL;
    gw_config_t *cfg = NULL;
    hearth_err_t rc = gw_config_load(config, &cfg, &cause);
    if (rc == HEARTH_OK) {
        hearth_catch_stop_signals(on_signal);
        rc = gw_serve_run(cfg, &stop_requested, &cause);
    }
    int status = rc == HEARTH_OK ? 0 : fail(rc, cause);
    free(cause);
    gw_config_destroy(&cfg);
    return status;
}

/* Everything a project command takes from its command line; borrowed from
 * argv. */
typedef struct {
    const char *config;
    const char *id, *title, *dsa, *purpose, *datasets, *analysts, *start, *expiry;
    const char *reason, *by;
    /* --threshold .. --dp-budget, by the name gw_config_policy_set takes;
     * NULL when not given. */
    const char *policy[7];
} args_t;

static const char *const POLICY_NAMES[7] = {"threshold", "rounding", "zeros", "protection",
                                            "dominance", "dp_epsilon", "dp_budget"};

/* Splits "a, b,c" at commas into a new array of new strings (spaces around
 * each trimmed; *n set). Free with free_list. */
static char **split_list(const char *s, size_t *n)
{
    char **v = NULL;
    *n = 0;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        while (len > 0 && (*p == ' ' || *p == '\t')) {
            p++;
            len--;
        }
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        v = hearth_reallocarray(v, *n + 1, sizeof *v);
        v[(*n)++] = hearth_strndup(p, len);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    return v;
}

static void free_list(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The change a governance command makes, inside the transaction. On
 * HEARTH_OK *text (caller frees) is the GOVERNANCE event's text. */
typedef hearth_err_t (*change_fn)(gw_store_t *store, const gw_config_t *cfg, const args_t *a,
                                  char **text, char **cause);

static hearth_err_t change_add(gw_store_t *store, const gw_config_t *cfg, const args_t *a,
                               char **text, char **cause)
{
    gw_project_spec_t spec = {.id = a->id, .title = a->title, .dsa = a->dsa,
                              .purpose = a->purpose, .start = a->start, .expiry = a->expiry};
    gw_config_policy_default(cfg, &spec.policy);
    hearth_err_t rc = HEARTH_OK;
    for (size_t i = 0; i < 7 && rc == HEARTH_OK; i++)
        if (a->policy[i])
            rc = gw_config_policy_set(&spec.policy, POLICY_NAMES[i], a->policy[i], cause);
    if (rc != HEARTH_OK)
        return rc;
    size_t nd = 0, na = 0;
    char **datasets = split_list(a->datasets, &nd);
    char **analysts = split_list(a->analysts, &na);
    spec.datasets = (const char *const *)datasets;
    spec.ndatasets = nd;
    spec.analysts = (const char *const *)analysts;
    spec.nanalysts = na;
    gw_project_t *p = NULL;
    rc = gw_project_add(store, cfg, &spec, &p, cause);
    if (rc == HEARTH_OK)
        *text = gw_project_describe(p);
    gw_project_free(&p);
    free_list(datasets, nd);
    free_list(analysts, na);
    return rc;
}

static hearth_err_t change_suspend(gw_store_t *store, const gw_config_t *cfg, const args_t *a,
                                   char **text, char **cause)
{
    (void)cfg;
    hearth_err_t rc = gw_project_suspend(store, a->id, a->reason, cause);
    if (rc == HEARTH_OK)
        *text = hearth_strdup(a->reason);
    return rc;
}

static hearth_err_t change_resume(gw_store_t *store, const gw_config_t *cfg, const args_t *a,
                                  char **text, char **cause)
{
    (void)cfg;
    if (a->reason && (strlen(a->reason) > GW_PROJECT_TEXT_MAX ||
                      !gw_config_text_printable(a->reason))) {
        hearth_cause_set(cause, "the reason must be at most %d bytes of printable UTF-8",
                         GW_PROJECT_TEXT_MAX);
        return HEARTH_ERR_USAGE;
    }
    hearth_err_t rc = gw_project_resume(store, a->id, cause);
    if (rc == HEARTH_OK)
        *text = hearth_strdup(a->reason ? a->reason : "");
    return rc;
}

/* One governance change as one transaction: the change, its GOVERNANCE
 * event and a signed checkpoint are committed together or not at all, so
 * the log never misses a change and never records one that did not
 * happen. */
static int governance(const args_t *a, const char *action, change_fn change,
                      const char *done_verb)
{
    char *cause = NULL, *text = NULL;
    gw_config_t *cfg = NULL;
    keys_signer_t *signer = NULL;
    gw_store_t *store = NULL;
    gw_audit_t *audit = NULL;
    bool open_tx = false;
    uint64_t leaf = 0;
    hearth_err_t rc;
    if ((rc = gw_config_load(a->config, &cfg, &cause)) != HEARTH_OK)
        goto out;
    if (strlen(a->by) == 0 || strlen(a->by) > ACTOR_MAX || !gw_config_text_printable(a->by)) {
        hearth_cause_set(&cause, "--by must be 1-%d bytes of printable UTF-8", ACTOR_MAX);
        rc = HEARTH_ERR_USAGE;
        goto out;
    }
    if ((rc = keys_signer_load(cfg->audit_key, &signer, &cause)) != HEARTH_OK ||
        (rc = gw_store_open(cfg->database, &store, &cause)) != HEARTH_OK ||
        (rc = gw_project_init(store, &cause)) != HEARTH_OK ||
        (rc = gw_audit_open(store, signer, &audit, &cause)) != HEARTH_OK ||
        (rc = gw_store_begin(store, &cause)) != HEARTH_OK)
        goto out;
    open_tx = true;
    if ((rc = gw_audit_sync(audit, &cause)) != HEARTH_OK ||
        (rc = change(store, cfg, a, &text, &cause)) != HEARTH_OK)
        goto out;
    uint64_t now = hearth_wall_ms();
    audit_event_t ev = {.type = AUDIT_GOVERNANCE, .time_ms = now, .project = (char *)a->id,
                        .text = text, .actor = (char *)a->by, .action = (char *)action};
    gw_audit_index_t ix = {.qtime_ms = now, .project = a->id, .analyst = "", .query_id = ""};
    if ((rc = gw_audit_append(audit, &ev, &ix, &leaf, &cause)) != HEARTH_OK ||
        (rc = gw_audit_checkpoint(audit, NULL, &cause)) != HEARTH_OK)
        goto out;
    open_tx = false;
    if ((rc = gw_store_commit(store, &cause)) != HEARTH_OK) {
        gw_audit_reset(audit);
        goto out;
    }
    printf("%s project '%s' (audit leaf %llu)\n", done_verb, a->id, (unsigned long long)leaf);
out:
    if (open_tx) {
        gw_store_rollback(store);
        gw_audit_reset(audit);
    }
    int status = rc == HEARTH_OK ? 0 : fail(rc, cause);
    free(cause);
    free(text);
    gw_audit_destroy(&audit);
    gw_store_destroy(&store);
    keys_signer_destroy(&signer);
    gw_config_destroy(&cfg);
    return status;
}

/* Opens the config and the database for reading projects. */
static hearth_err_t open_for_reading(const char *config, gw_config_t **cfg, gw_store_t **store,
                                     char **cause)
{
    hearth_err_t rc;
    if ((rc = gw_config_load(config, cfg, cause)) != HEARTH_OK ||
        (rc = gw_store_open((*cfg)->database, store, cause)) != HEARTH_OK ||
        (rc = gw_project_init(*store, cause)) != HEARTH_OK)
        return rc;
    return HEARTH_OK;
}

static int cmd_show(const args_t *a)
{
    char *cause = NULL;
    gw_config_t *cfg = NULL;
    gw_store_t *store = NULL;
    gw_project_t *p = NULL;
    hearth_err_t rc = open_for_reading(a->config, &cfg, &store, &cause);
    if (rc == HEARTH_OK && (rc = gw_project_get(store, a->id, &p, &cause)) == HEARTH_OK) {
        char *text = gw_project_describe(p);
        fputs(text, stdout);
        free(text);
    }
    int status = rc == HEARTH_OK ? 0 : fail(rc, cause);
    free(cause);
    gw_project_free(&p);
    gw_store_destroy(&store);
    gw_config_destroy(&cfg);
    return status;
}

static int cmd_list(const args_t *a)
{
    char *cause = NULL;
    gw_config_t *cfg = NULL;
    gw_store_t *store = NULL;
    gw_project_t **list = NULL;
    size_t n = 0;
    hearth_err_t rc = open_for_reading(a->config, &cfg, &store, &cause);
    if (rc == HEARTH_OK && (rc = gw_project_list(store, &list, &n, &cause)) == HEARTH_OK) {
        int w = 2;
        for (size_t i = 0; i < n; i++)
            if ((int)strlen(list[i]->id) > w)
                w = (int)strlen(list[i]->id);
        printf("%-*s  %-9s  %-10s  %-10s  %s\n", w, "ID", "STATUS", "START", "EXPIRY", "TITLE");
        for (size_t i = 0; i < n; i++)
            printf("%-*s  %-9s  %-10s  %-10s  %s\n", w, list[i]->id,
                   list[i]->suspended ? "suspended" : "active", list[i]->start,
                   list[i]->expiry, list[i]->title);
    }
    int status = rc == HEARTH_OK ? 0 : fail(rc, cause);
    free(cause);
    gw_project_list_free(&list, n);
    gw_store_destroy(&store);
    gw_config_destroy(&cfg);
    return status;
}

/* The login name, for --by's default. */
static const char *login_name(char *buf, size_t cap)
{
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name && pw->pw_name[0])
        snprintf(buf, cap, "%s", pw->pw_name);
    else
        snprintf(buf, cap, "uid %ld", (long)geteuid());
    return buf;
}

static int cmd_project(int argc, char **argv)
{
    if (argc < 3)
        return usage_error("project needs a command: add, show, list, suspend or resume");
    const char *cmd = argv[2];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    bool is_add = strcmp(cmd, "add") == 0, is_show = strcmp(cmd, "show") == 0,
         is_list = strcmp(cmd, "list") == 0, is_suspend = strcmp(cmd, "suspend") == 0,
         is_resume = strcmp(cmd, "resume") == 0;
    if (!is_add && !is_show && !is_list && !is_suspend && !is_resume) {
        fprintf(stderr, "hearth-gateway: unknown project command '%.64s'\n", cmd);
        fputs(USAGE, stderr);
        return 2;
    }
    enum { O_ID = 256, O_TITLE, O_DSA, O_PURPOSE, O_DATASETS, O_ANALYSTS, O_START, O_EXPIRY,
           O_REASON, O_BY, O_POLICY };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'},
        {"id", required_argument, NULL, O_ID}, {"title", required_argument, NULL, O_TITLE},
        {"dsa", required_argument, NULL, O_DSA}, {"purpose", required_argument, NULL, O_PURPOSE},
        {"datasets", required_argument, NULL, O_DATASETS},
        {"analysts", required_argument, NULL, O_ANALYSTS},
        {"start", required_argument, NULL, O_START}, {"expiry", required_argument, NULL, O_EXPIRY},
        {"reason", required_argument, NULL, O_REASON}, {"by", required_argument, NULL, O_BY},
        {"threshold", required_argument, NULL, O_POLICY + 0},
        {"rounding", required_argument, NULL, O_POLICY + 1},
        {"zeros", required_argument, NULL, O_POLICY + 2},
        {"protection", required_argument, NULL, O_POLICY + 3},
        {"dominance", required_argument, NULL, O_POLICY + 4},
        {"dp-epsilon", required_argument, NULL, O_POLICY + 5},
        {"dp-budget", required_argument, NULL, O_POLICY + 6},
        {NULL, 0, NULL, 0}};
    args_t a = {0};
    /* Which options this command takes: any other is a usage error rather
     * than silently ignored. */
    bool given_add_only = false, given_reason = false;
    int c;
    optind = 3;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': a.config = optarg; break;
        case 'h': fputs(USAGE, stdout); return 0;
        case O_ID: a.id = optarg; given_add_only = true; break;
        case O_TITLE: a.title = optarg; given_add_only = true; break;
        case O_DSA: a.dsa = optarg; given_add_only = true; break;
        case O_PURPOSE: a.purpose = optarg; given_add_only = true; break;
        case O_DATASETS: a.datasets = optarg; given_add_only = true; break;
        case O_ANALYSTS: a.analysts = optarg; given_add_only = true; break;
        case O_START: a.start = optarg; given_add_only = true; break;
        case O_EXPIRY: a.expiry = optarg; given_add_only = true; break;
        case O_REASON: a.reason = optarg; given_reason = true; break;
        case O_BY: a.by = optarg; break;
        default:
            if (c >= O_POLICY && c < O_POLICY + 7) {
                a.policy[c - O_POLICY] = optarg;
                given_add_only = true;
                break;
            }
            return bad_option(c, argv);
        }
    }
    if (a.config == NULL)
        return usage_error("--config is required");
    if (given_add_only && !is_add)
        return usage_error("--id, --title ... and the disclosure options belong to project add "
                           "(show, suspend and resume take the id as an argument)");
    if (given_reason && !is_suspend && !is_resume)
        return usage_error("--reason belongs to project suspend and project resume");
    if (a.by != NULL && (is_show || is_list))
        return usage_error("--by belongs to the commands that change a project");
    char login[256];
    if (a.by == NULL)
        a.by = login_name(login, sizeof login);
    if (is_add || is_list) {
        if (optind != argc)
            return usage_error(is_add ? "project add takes no arguments: give the id with --id"
                                      : "project list takes no arguments");
    } else {
        if (optind + 1 != argc)
            return usage_error("give exactly one project id");
        a.id = argv[optind];
    }
    if (is_add) {
        const char *missing = !a.id ? "--id" : !a.title ? "--title" : !a.dsa ? "--dsa"
                            : !a.purpose ? "--purpose" : !a.datasets ? "--datasets"
                            : !a.analysts ? "--analysts" : !a.start ? "--start"
                            : !a.expiry ? "--expiry" : NULL;
        if (missing) {
            fprintf(stderr, "hearth-gateway: project add needs %s\n", missing);
            fputs(USAGE, stderr);
            return 2;
        }
        return governance(&a, "project add", change_add, "added");
    }
    if (is_suspend) {
        if (a.reason == NULL)
            return usage_error("project suspend needs --reason");
        return governance(&a, "project suspend", change_suspend, "suspended");
    }
    if (is_resume)
        return governance(&a, "project resume", change_resume, "resumed");
    return is_show ? cmd_show(&a) : cmd_list(&a);
}

static int cmd_serve_args(int argc, char **argv)
{
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *config = NULL;
    int c;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        if (c == 'c') {
            config = optarg;
        } else if (c == 'h') {
            fputs(USAGE, stdout);
            return 0;
        } else {
            return bad_option(c, argv);
        }
    }
    if (config == NULL || optind != argc)
        return usage_error(NULL);
    return cmd_serve(config);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage_error(NULL);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve_args(argc, argv);
    if (strcmp(argv[1], "project") == 0)
        return cmd_project(argc, argv);
    fprintf(stderr, "hearth-gateway: unknown command '%.64s'\n", argv[1]);
    fputs(USAGE, stderr);
    return 2;
}
