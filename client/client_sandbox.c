#include "client_sandbox.h"
#include "client_config.h"
#include "client_rpc.h"
#include "hearth_file.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"
#include "keys_sign.h"
#include "proto_wire.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SANDBOX_MAX_NODES 64
#define SANDBOX_MAX_DATASETS 256
#define SANDBOX_ANALYST "sandbox_analyst"
/* The project the sandbox's analyst asks under, added to the gateway's
 * database with `hearth-gateway project add` before the gateway starts.
 * The database (projects, the audit log, the record of releases and DP
 * budgets) is kept in the state folder across runs, as a real gateway's
 * would be; so a run whose folder or dates no longer match the project of
 * an earlier run adds another, "sandbox-2" and so on (projects are never
 * edited or deleted: the audit log records each as it was approved). */
#define SANDBOX_PROJECT "sandbox"
#define SANDBOX_MAX_PROJECTS 100
/* The name of the gateway's audit signing key: the origin line of its
 * checkpoints. */
#define SANDBOX_AUDIT_NAME "hearth-sandbox"
/* A project's approval as the sandbox grants it, in days from today. */
#define SANDBOX_PROJECT_DAYS 365

typedef struct {
    char name[64];
    char *datasets[SANDBOX_MAX_DATASETS];   /* owned: dataset names */
    char *files[SANDBOX_MAX_DATASETS];      /* owned: CSV paths */
    size_t ndatasets;
    pid_t pid;
} sb_node_t;

typedef struct {
    char *dir, *state, *bin;                /* owned, absolute */
    sb_node_t nodes[SANDBOX_MAX_NODES];
    size_t nnodes;
    pid_t gateway;
    char *client_config;
    char project[64];                       /* the project the client asks under */
} sandbox_t;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists DIR/<node>/<dataset>.csv, in name order so runs are repeatable. */
static hearth_err_t discover(sandbox_t *sb, char **cause)
{
    DIR *d = opendir(sb->dir);
    if (d == NULL) {
        hearth_cause_set(cause, "cannot open '%s': %s", sb->dir, strerror(errno));
        return HEARTH_ERR_NOT_FOUND;
    }
    char *names[SANDBOX_MAX_NODES];
    size_t n = 0;
    struct dirent *e;
    hearth_err_t rc = HEARTH_OK;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *path = hearth_asprintf("%s/%s", sb->dir, e->d_name);
        struct stat st;
        bool is_dir = stat(path, &st) == 0 && S_ISDIR(st.st_mode);
        free(path);
        if (!is_dir)
            continue;
        if (!hearth_name_valid(e->d_name)) {
            fprintf(stderr, "sandbox: skipping folder '%s': node names are 1-63 of a-z, 0-9 "
                    "and _, starting with a letter\n", e->d_name);
            continue;
        }
        if (n == SANDBOX_MAX_NODES) {
            hearth_cause_set(cause, "more than %d node folders", SANDBOX_MAX_NODES);
            rc = HEARTH_ERR_TOO_BIG;
            break;
        }
        names[n++] = hearth_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && rc == HEARTH_OK; i++) {
        sb_node_t *node = &sb->nodes[sb->nnodes++];
        snprintf(node->name, sizeof node->name, "%s", names[i]);
        char *ndir = hearth_asprintf("%s/%s", sb->dir, names[i]);
        DIR *nd = opendir(ndir);
        while (nd && (e = readdir(nd)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 4, ".csv") != 0 || e->d_name[0] == '.')
                continue;
            char *ds = hearth_strndup(e->d_name, len - 4);
            if (!hearth_name_valid(ds)) {
                fprintf(stderr, "sandbox: skipping '%s/%s': dataset names are 1-63 of a-z, "
                        "0-9 and _, starting with a letter\n", names[i], e->d_name);
                free(ds);
                continue;
            }
            if (node->ndatasets == SANDBOX_MAX_DATASETS) {
                free(ds);
                hearth_cause_set(cause, "more than %d datasets in '%s'", SANDBOX_MAX_DATASETS,
                                 names[i]);
                rc = HEARTH_ERR_TOO_BIG;
                break;
            }
            node->datasets[node->ndatasets] = ds;
            node->files[node->ndatasets] = hearth_asprintf("%s/%s", ndir, e->d_name);
            node->ndatasets++;
        }
        if (nd)
            closedir(nd);
        free(ndir);
        /* Keep datasets in name order too (files[] follows datasets[]). */
        for (size_t a = 1; a < node->ndatasets; a++)
            for (size_t b = a; b > 0 && strcmp(node->datasets[b - 1], node->datasets[b]) > 0; b--) {
                char *t = node->datasets[b];
                node->datasets[b] = node->datasets[b - 1];
                node->datasets[b - 1] = t;
                t = node->files[b];
                node->files[b] = node->files[b - 1];
                node->files[b - 1] = t;
            }
        if (node->ndatasets == 0)
            fprintf(stderr, "sandbox: folder '%s' has no .csv files; its node will hold no "
                    "datasets\n", names[i]);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    if (rc == HEARTH_OK && sb->nnodes == 0) {
        hearth_cause_set(cause, "'%s' has no node folders: lay extracts out as "
                         "%s/<node>/<dataset>.csv", sb->dir, sb->dir);
        rc = HEARTH_ERR_NOT_FOUND;
    }
    return rc;
}

/* Makes a keypair unless it exists already (a re-run keeps its keys). */
static hearth_err_t ensure_keypair(const sandbox_t *sb, const char *name, char **cause)
{
    char *base = hearth_asprintf("%s/keys/%s", sb->state, name);
    char *secret = hearth_asprintf("%s.key", base);
    hearth_err_t rc = HEARTH_OK;
    if (access(secret, F_OK) != 0)
        rc = keys_curve_generate(base, cause);
    free(secret);
    free(base);
    return rc;
}

/* Makes an Ed25519 signing key keys/<file>.signer + .vkey called name,
 * unless it exists already (keys_sign_generate never leaves half a pair). */
static hearth_err_t ensure_signing_key(const sandbox_t *sb, const char *file, const char *name,
                                       char **cause)
{
    char *base = hearth_asprintf("%s/keys/%s", sb->state, file);
    char *signer = hearth_asprintf("%s.signer", base);
    hearth_err_t rc = HEARTH_OK;
    if (access(signer, F_OK) != 0)
        rc = keys_sign_generate(base, name, cause);
    free(signer);
    free(base);
    return rc;
}

static hearth_err_t write_text(const char *path, const char *text, char **cause)
{
    /* Configs hold paths and endpoints, never secrets; rewritten each run
     * because ports change. */
    unlink(path);
    return hearth_file_write_public(path, text, strlen(text), cause);
}

static hearth_err_t make_keys(const sandbox_t *sb, char **cause)
{
    char *keys = hearth_asprintf("%s/keys", sb->state);
    hearth_err_t rc = hearth_file_mkdirs(keys, 0700, cause);
    char *linkage = hearth_asprintf("%s/linkage.key", keys);
    if (rc == HEARTH_OK && access(linkage, F_OK) != 0) {
        char id[KEYS_KEY_ID_LEN + 1];
        rc = keys_linkage_generate(linkage, id, cause);
    }
    free(linkage);
    free(keys);
    if (rc == HEARTH_OK)
        rc = ensure_keypair(sb, "gateway", cause);
    if (rc == HEARTH_OK)
        rc = ensure_keypair(sb, SANDBOX_ANALYST, cause);
    for (size_t i = 0; i < sb->nnodes && rc == HEARTH_OK; i++)
        rc = ensure_keypair(sb, sb->nodes[i].name, cause);
    /* Audit keys: the gateway signs its log's checkpoints, each node its
     * receipts. */
    if (rc == HEARTH_OK)
        rc = ensure_signing_key(sb, "gateway-audit", SANDBOX_AUDIT_NAME, cause);
    for (size_t i = 0; i < sb->nnodes && rc == HEARTH_OK; i++) {
        char *file = hearth_asprintf("%s-audit", sb->nodes[i].name);
        rc = ensure_signing_key(sb, file, sb->nodes[i].name, cause);
        free(file);
    }
    return rc;
}

static char *node_dir(const sandbox_t *sb, const sb_node_t *n)
{
    return hearth_asprintf("%s/nodes/%s", sb->state, n->name);
}

static hearth_err_t write_node_config(const sandbox_t *sb, const sb_node_t *n,
                                      const char *endpoint, char **cause)
{
    char *dir = node_dir(sb, n);
    hearth_err_t rc = hearth_file_mkdirs(dir, 0700, cause);
    if (rc == HEARTH_OK) {
        char *path = hearth_asprintf("%s/node.ini", dir);
        /* The node approves every one of its datasets for the sandbox's
         * project, as a partner would in [projects]. */
        char *text = hearth_asprintf(
            "; written by hearth sandbox\n[node]\nname = %s\ndatabase = %s/node.db\n"
            "linkage_key = %s/keys/linkage.key\ncurve_key = %s/keys/%s.key\n"
            "signing_key = %s/keys/%s-audit.signer\n\n"
            "[gateway]\nendpoint = %s\npublic_key = %s/keys/gateway.pub\n"
            "audit_key = %s/keys/gateway-audit.vkey\n\n"
            "[projects]\n%s = *\n",
            n->name, dir, sb->state, sb->state, n->name, sb->state, n->name, endpoint, sb->state,
            sb->state, sb->project);
        rc = write_text(path, text, cause);
        free(text);
        free(path);
    }
    free(dir);
    return rc;
}

static hearth_err_t write_gateway_config(const sandbox_t *sb, char **cause)
{
    char *path = hearth_asprintf("%s/gateway.ini", sb->state);
    /* The one analyst may both ask questions and audit them, so that
     * `hearth audit ...` works against the sandbox too. Projects are not
     * configured here: main adds the sandbox's with `hearth-gateway
     * project add`. */
    char *text = hearth_asprintf(
        "; written by hearth sandbox: loopback only, ports chosen by the system\n"
        "[gateway]\ncurve_key = %s/keys/gateway.key\naudit_key = %s/keys/gateway-audit.signer\n"
        "node_endpoint = tcp://127.0.0.1:*\n"
        "analyst_endpoint = tcp://127.0.0.1:*\nready_file = %s/gateway.ready\n"
        "database = %s/gateway.db\n\n"
        "[analyst %s]\npublic_key = %s/keys/%s.pub\ndisplay_name = Sandbox analyst\n"
        "organisation = hearth sandbox\nroles = analyst, auditor\n",
        sb->state, sb->state, sb->state, sb->state, SANDBOX_ANALYST, sb->state, SANDBOX_ANALYST);
    for (size_t i = 0; i < sb->nnodes; i++) {
        char *more = hearth_asprintf("%s\n[node %s]\npublic_key = %s/keys/%s.pub\n"
                                     "receipt_key = %s/keys/%s-audit.vkey\n", text,
                                     sb->nodes[i].name, sb->state, sb->nodes[i].name, sb->state,
                                     sb->nodes[i].name);
        free(text);
        text = more;
    }
    hearth_err_t rc = write_text(path, text, cause);
    free(text);
    free(path);
    return rc;
}

/* Starts bin/prog with args; its stdout and stderr go to log (appended)
 * when log is not NULL. */
static pid_t spawn(const sandbox_t *sb, const char *prog, char *const argv[], const char *log)
{
    char *exe = hearth_asprintf("%s/%s", sb->bin, prog);
    pid_t pid = fork();
    if (pid == 0) {
        if (log) {
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
            }
        } else {
            dup2(2, 1); /* keep our stdout for the one HEARTH_CLIENT_CONFIG line */
        }
        /* Children take the default dispositions and a fresh signal mask. */
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        execv(exe, argv);
        _exit(127);
    }
    free(exe);
    return pid;
}

static hearth_err_t ingest_all(sandbox_t *sb, char **cause)
{
    for (size_t i = 0; i < sb->nnodes; i++) {
        sb_node_t *n = &sb->nodes[i];
        char *dir = node_dir(sb, n);
        /* A fresh database each run, so the sandbox always mirrors the
         * folder exactly (datasets removed from DIR disappear too). */
        const char *suffixes[] = {"", "-wal", "-shm", "-journal"};
        for (size_t s = 0; s < 4; s++) {
            char *p = hearth_asprintf("%s/node.db%s", dir, suffixes[s]);
            unlink(p);
            free(p);
        }
        char *config = hearth_asprintf("%s/node.ini", dir);
        free(dir);
        for (size_t d = 0; d < n->ndatasets; d++) {
            fprintf(stderr, "sandbox: ingesting %s/%s.csv into node %s\n", n->name,
                    n->datasets[d], n->name);
            char *argv[] = {"hearth-node", "ingest", "--config", config, n->datasets[d],
                            n->files[d], NULL};
            pid_t pid = spawn(sb, "hearth-node", argv, NULL);
            int status = 0;
            if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
                WEXITSTATUS(status) != 0) {
                hearth_cause_set(cause, "ingest of %s/%s.csv failed (see the report above)",
                                 n->name, n->datasets[d]);
                free(config);
                return HEARTH_ERR_CSV;
            }
        }
        free(config);
    }
    return HEARTH_OK;
}

/* Runs bin/prog with argv to its end; its output goes to log (appended)
 * or, when log is NULL, to our standard error. Returns its exit status, or
 * -1 when it could not run or was killed. */
static int run_tool(const sandbox_t *sb, const char *prog, char *const argv[], const char *log)
{
    pid_t pid = spawn(sb, prog, argv, log);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

/* The UTC date t + days*86400 as YYYY-MM-DD. */
static void utc_date(time_t t, long days, char out[11])
{
    t += (time_t)days * 86400;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        strcpy(out, "9999-12-31");
        return;
    }
    char tmp[48];
    snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    memcpy(out, tmp, 10);
    out[10] = '\0';
}

/* The value of the first "key: value" line of text, copied into out
 * (cap bytes); false when there is none. */
static bool show_field(const char *text, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ':' && p[klen + 1] == ' ') {
            const char *v = p + klen + 2;
            size_t n = strcspn(v, "\n");
            if (n >= cap)
                return false;
            memcpy(out, v, n);
            out[n] = '\0';
            return true;
        }
    }
    return false;
}

/* Whether the project `hearth-gateway project show` printed (text) is one
 * this run can use: active, today within its dates, exactly these
 * datasets, and the sandbox's analyst with today's key. */
static bool project_fits(const char *text, const char *datasets, const char *analyst_line,
                         const char *today)
{
    char status[32], start[16], expiry[16];
    if (!show_field(text, "status", status, sizeof status) || strcmp(status, "active") != 0 ||
        !show_field(text, "start", start, sizeof start) ||
        !show_field(text, "expiry", expiry, sizeof expiry) || strcmp(start, today) > 0 ||
        strcmp(expiry, today) < 0)
        return false;
    size_t cap = strlen(datasets) + 1;
    char *got = hearth_malloc(cap);
    bool same = show_field(text, "datasets", got, cap) && strcmp(got, datasets) == 0;
    free(got);
    return same && strstr(text, analyst_line) != NULL;
}

/* Chooses the project the client asks under (sb->project): the first of
 * sandbox, sandbox-2, ... that either fits this run (project_fits) or does
 * not exist yet, in which case it is added, approving every dataset found
 * for the sandbox's analyst from today for SANDBOX_PROJECT_DAYS days. */
static hearth_err_t add_project(sandbox_t *sb, char **cause)
{
    char *gw_config = hearth_asprintf("%s/gateway.ini", sb->state);
    char *show_out = hearth_asprintf("%s/logs/project-show.txt", sb->state);
    char *pub = hearth_asprintf("%s/keys/%s.pub", sb->state, SANDBOX_ANALYST);
    char *datasets = hearth_strdup(""), *shown = hearth_strdup("");
    char analyst_key[KEYS_Z85_LEN + 1];
    hearth_err_t rc = keys_curve_load_public(pub, analyst_key, cause);
    for (size_t i = 0; i < sb->nnodes; i++)
        for (size_t d = 0; d < sb->nodes[i].ndatasets; d++) {
            bool first = datasets[0] == '\0';
            char *more = hearth_asprintf("%s%s%s.%s", datasets, first ? "" : ",",
                                         sb->nodes[i].name, sb->nodes[i].datasets[d]);
            free(datasets);
            datasets = more;
        }
    /* `project show` lists them sorted, ", "-separated. */
    size_t nds = 0;
    for (size_t i = 0; i < sb->nnodes; i++)
        nds += sb->nodes[i].ndatasets;
    char **sorted = hearth_calloc(nds ? nds : 1, sizeof *sorted);
    for (size_t i = 0, k = 0; i < sb->nnodes; i++)
        for (size_t d = 0; d < sb->nodes[i].ndatasets; d++)
            sorted[k++] = hearth_asprintf("%s.%s", sb->nodes[i].name, sb->nodes[i].datasets[d]);
    qsort(sorted, nds, sizeof *sorted, cmp_str);
    for (size_t k = 0; k < nds; k++) {
        char *more = hearth_asprintf("%s%s%s", shown, k ? ", " : "", sorted[k]);
        free(shown);
        shown = more;
        free(sorted[k]);
    }
    free(sorted);
    char today[11], expiry[11];
    time_t now = time(NULL);
    utc_date(now, 0, today);
    utc_date(now, SANDBOX_PROJECT_DAYS, expiry);
    char *analyst_line = hearth_asprintf("\nanalyst: %s key=%s ", SANDBOX_ANALYST, analyst_key);
    if (rc == HEARTH_OK && nds == 0) {
        /* Nothing to approve: no project, and nothing to ask either. */
        snprintf(sb->project, sizeof sb->project, "%s", SANDBOX_PROJECT);
        fprintf(stderr, "sandbox: no datasets, so no project was added\n");
        goto done;
    }
    rc = rc == HEARTH_OK ? HEARTH_ERR_EXISTS : rc;
    for (int i = 1; i <= SANDBOX_MAX_PROJECTS && rc == HEARTH_ERR_EXISTS; i++) {
        char id[64];
        if (i == 1)
            snprintf(id, sizeof id, "%s", SANDBOX_PROJECT);
        else
            snprintf(id, sizeof id, "%s-%d", SANDBOX_PROJECT, i);
        unlink(show_out);
        char *show_argv[] = {"hearth-gateway", "project", "show", "--config", gw_config, id,
                             NULL};
        if (run_tool(sb, "hearth-gateway", show_argv, show_out) == 0) {
            char *text = NULL;
            bool fits = hearth_file_read_all(show_out, (size_t)1 << 20, &text, NULL, NULL) ==
                            HEARTH_OK &&
                        project_fits(text, shown, analyst_line, today);
            free(text);
            if (fits) {
                snprintf(sb->project, sizeof sb->project, "%s", id);
                rc = HEARTH_OK;
            }
            continue;
        }
        fprintf(stderr, "sandbox: adding project %s (every dataset, until %s)\n", id, expiry);
        char *add_argv[] = {"hearth-gateway", "project", "add", "--config", gw_config,
                            "--id", id, "--title", "hearth sandbox",
                            "--dsa", "SANDBOX",
                            "--purpose", "Trying hearth on local extracts",
                            "--datasets", datasets, "--analysts", SANDBOX_ANALYST,
                            "--start", today, "--expiry", expiry, "--by", "sandbox", NULL};
        if (run_tool(sb, "hearth-gateway", add_argv, NULL) != 0) {
            hearth_cause_set(cause, "could not add the sandbox's project (see the message "
                             "above)");
            rc = HEARTH_ERR_INTERNAL;
            break;
        }
        snprintf(sb->project, sizeof sb->project, "%s", id);
        rc = HEARTH_OK;
    }
    if (rc == HEARTH_ERR_EXISTS)
        hearth_cause_set(cause, "the gateway database in %s already holds %d sandbox projects "
                         "that do not fit this folder; remove the whole state folder %s to start "
                         "afresh (the nodes' ledgers hold checkpoints of the old audit log, "
                         "so removing gateway.db alone would leave every node refusing it)",
                         sb->state, SANDBOX_MAX_PROJECTS, sb->state);
done:
    unlink(show_out);
    free(analyst_line);
    free(shown);
    free(datasets);
    free(pub);
    free(show_out);
    free(gw_config);
    return rc;
}

/* A child that exited: which one, for the message. */
static const char *reap(sandbox_t *sb)
{
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == sb->gateway) {
            sb->gateway = 0;
            return "the gateway";
        }
        for (size_t i = 0; i < sb->nnodes; i++)
            if (sb->nodes[i].pid == pid) {
                sb->nodes[i].pid = 0;
                return sb->nodes[i].name;
            }
    }
    return NULL;
}

static hearth_err_t wait_gateway(sandbox_t *sb, char **endpoint, char **analyst_ep,
                                 volatile sig_atomic_t *stop, char **cause)
{
    char *ready = hearth_asprintf("%s/gateway.ready", sb->state);
    uint64_t deadline = hearth_now_ms() + 15000;
    hearth_err_t rc = HEARTH_ERR_TIMEOUT;
    while (!*stop && hearth_now_ms() < deadline) {
        const char *dead = reap(sb);
        if (dead) {
            hearth_cause_set(cause, "%s stopped while starting; see %s/logs/gateway.log",
                             dead, sb->state);
            rc = HEARTH_ERR_INTERNAL;
            break;
        }
        char *text = NULL;
        if (hearth_file_read_all(ready, 4096, &text, NULL, NULL) == HEARTH_OK) {
            char ep1[256] = "", ep2[256] = "";
            if (sscanf(text, "node_endpoint=%255s\nanalyst_endpoint=%255s", ep1, ep2) == 2) {
                *endpoint = hearth_strdup(ep1);
                *analyst_ep = hearth_strdup(ep2);
                rc = HEARTH_OK;
            }
            free(text);
            if (rc == HEARTH_OK)
                break;
        }
        hearth_sleep_ms(50);
    }
    if (rc == HEARTH_ERR_TIMEOUT)
        hearth_cause_set(cause, "the gateway did not start; see %s/logs/gateway.log", sb->state);
    free(ready);
    return rc;
}

/* Asks the gateway until every node has announced its datasets. */
static hearth_err_t wait_nodes(sandbox_t *sb, unsigned timeout_s, volatile sig_atomic_t *stop,
                               char **cause)
{
    client_config_t *cfg = NULL;
    client_rpc_t *rpc = NULL;
    hearth_err_t rc = client_config_load(sb->client_config, &cfg, cause);
    if (rc == HEARTH_OK)
        rc = client_rpc_open(cfg, &rpc, cause);
    uint64_t deadline = hearth_now_ms() + (uint64_t)timeout_s * 1000u;
    bool ready = false;
    while (rc == HEARTH_OK && !ready && !*stop) {
        const char *dead = reap(sb);
        if (dead) {
            hearth_cause_set(cause, "%s stopped while starting; see %s/logs/", dead, sb->state);
            rc = HEARTH_ERR_INTERNAL;
            break;
        }
        if (hearth_now_ms() >= deadline) {
            hearth_cause_set(cause, "not every node connected within %u s; see %s/logs/",
                             timeout_s, sb->state);
            rc = HEARTH_ERR_TIMEOUT;
            break;
        }
        Hearth__StatusRequest sreq = HEARTH__STATUS_REQUEST__INIT;
        Hearth__Envelope req = HEARTH__ENVELOPE__INIT;
        req.body_case = HEARTH__ENVELOPE__BODY_STATUS_REQUEST;
        req.status_request = &sreq;
        Hearth__Envelope *rep = NULL;
        char *why = NULL;
        hearth_err_t call = client_rpc_call(rpc, &req, 2000, &rep, &why);
        free(why);
        if (call == HEARTH_OK && rep->body_case == HEARTH__ENVELOPE__BODY_STATUS_REPLY) {
            ready = rep->status_reply->n_nodes == sb->nnodes;
            for (size_t i = 0; i < rep->status_reply->n_nodes; i++)
                ready = ready && rep->status_reply->nodes[i]->connected;
        } else if (call == HEARTH_ERR_TIMEOUT) {
            /* A timed-out DEALER may still deliver the late reply; start
             * afresh so replies never get out of step. */
            client_rpc_destroy(&rpc);
            rc = client_rpc_open(cfg, &rpc, cause);
        } else if (call != HEARTH_OK) {
            rc = call;
            hearth_cause_set(cause, "cannot ask the gateway for its status");
        }
        proto_free(&rep);
        if (!ready)
            hearth_sleep_ms(100);
    }
    client_rpc_destroy(&rpc);
    client_config_destroy(&cfg);
    if (rc == HEARTH_OK && !ready)
        rc = HEARTH_ERR_TIMEOUT;
    return rc;
}

static void stop_all(sandbox_t *sb)
{
    for (size_t i = 0; i < sb->nnodes; i++)
        if (sb->nodes[i].pid > 0)
            kill(sb->nodes[i].pid, SIGTERM);
    if (sb->gateway > 0)
        kill(sb->gateway, SIGTERM);
    uint64_t deadline = hearth_now_ms() + 5000;
    for (;;) {
        bool alive = sb->gateway > 0;
        for (size_t i = 0; i < sb->nnodes; i++)
            alive = alive || sb->nodes[i].pid > 0;
        if (!alive)
            break;
        if (hearth_now_ms() >= deadline) {
            for (size_t i = 0; i < sb->nnodes; i++)
                if (sb->nodes[i].pid > 0)
                    kill(sb->nodes[i].pid, SIGKILL);
            if (sb->gateway > 0)
                kill(sb->gateway, SIGKILL);
        }
        if (!reap(sb))
            hearth_sleep_ms(20);
    }
}

static hearth_err_t resolve_dirs(sandbox_t *sb, const client_sandbox_options_t *opt, char **cause)
{
    char buf[PATH_MAX];
    if (realpath(opt->dir, buf) == NULL) {
        hearth_cause_set(cause, "cannot find '%s': %s", opt->dir, strerror(errno));
        return HEARTH_ERR_NOT_FOUND;
    }
    sb->dir = hearth_strdup(buf);
    char *state = opt->state ? hearth_strdup(opt->state) : hearth_asprintf("%s/.hearth", buf);
    hearth_err_t rc = hearth_file_mkdirs(state, 0700, cause);
    if (rc == HEARTH_OK && realpath(state, buf) == NULL) {
        hearth_cause_set(cause, "cannot find '%s': %s", state, strerror(errno));
        rc = HEARTH_ERR_NOT_FOUND;
    }
    free(state);
    if (rc != HEARTH_OK)
        return rc;
    sb->state = hearth_strdup(buf);
    ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) {
        hearth_cause_set(cause, "cannot find where hearth is installed");
        return HEARTH_ERR_NOT_FOUND;
    }
    buf[n] = '\0';
    sb->bin = hearth_path_dirname(buf);
    char *logs = hearth_asprintf("%s/logs", sb->state);
    rc = hearth_file_mkdirs(logs, 0700, cause);
    free(logs);
    return rc;
}

hearth_err_t client_sandbox_run(const client_sandbox_options_t *opt,
                                volatile sig_atomic_t *stop, char **cause)
{
    sandbox_t *sb = hearth_calloc(1, sizeof *sb);
    snprintf(sb->project, sizeof sb->project, "%s", SANDBOX_PROJECT);
    char *node_ep = NULL, *analyst_ep = NULL;
    hearth_err_t rc;
    if ((rc = resolve_dirs(sb, opt, cause)) != HEARTH_OK || (rc = discover(sb, cause)) != HEARTH_OK ||
        (rc = make_keys(sb, cause)) != HEARTH_OK)
        goto done;
    /* Configs first with a placeholder endpoint: ingest needs the node
     * config, and the gateway's real port is known only once it runs. */
    for (size_t i = 0; i < sb->nnodes && rc == HEARTH_OK; i++)
        rc = write_node_config(sb, &sb->nodes[i], "tcp://127.0.0.1:1", cause);
    if (rc != HEARTH_OK || (rc = ingest_all(sb, cause)) != HEARTH_OK ||
        (rc = write_gateway_config(sb, cause)) != HEARTH_OK ||
        (rc = add_project(sb, cause)) != HEARTH_OK)
        goto done;
    char *ready = hearth_asprintf("%s/gateway.ready", sb->state);
    unlink(ready);
    free(ready);
    char *gw_config = hearth_asprintf("%s/gateway.ini", sb->state);
    char *gw_log = hearth_asprintf("%s/logs/gateway.log", sb->state);
    char *gw_argv[] = {"hearth-gateway", "serve", "--config", gw_config, NULL};
    sb->gateway = spawn(sb, "hearth-gateway", gw_argv, gw_log);
    free(gw_log);
    rc = wait_gateway(sb, &node_ep, &analyst_ep, stop, cause);
    free(gw_config);
    if (rc != HEARTH_OK)
        goto done;
    for (size_t i = 0; i < sb->nnodes && rc == HEARTH_OK; i++) {
        sb_node_t *n = &sb->nodes[i];
        if ((rc = write_node_config(sb, n, node_ep, cause)) != HEARTH_OK)
            break;
        char *dir = node_dir(sb, n);
        char *config = hearth_asprintf("%s/node.ini", dir);
        char *log = hearth_asprintf("%s/logs/%s.log", sb->state, n->name);
        char *argv[] = {"hearth-node", "serve", "--config", config, NULL};
        n->pid = spawn(sb, "hearth-node", argv, log);
        free(dir);
        free(config);
        free(log);
    }
    if (rc != HEARTH_OK)
        goto done;
    sb->client_config = hearth_asprintf("%s/client.ini", sb->state);
    char *client = hearth_asprintf(
        "; written by hearth sandbox: an analyst under a project that approves every dataset\n"
        "[client]\ngateway = %s\ngateway_public_key = %s/keys/gateway.pub\n"
        "curve_key = %s/keys/%s.key\nproject = %s\naudit_key = %s/keys/gateway-audit.vkey\n",
        analyst_ep, sb->state, sb->state, SANDBOX_ANALYST, sb->project, sb->state);
    rc = write_text(sb->client_config, client, cause);
    free(client);
    if (rc != HEARTH_OK ||
        (rc = wait_nodes(sb, opt->ready_timeout_s ? opt->ready_timeout_s : 60, stop, cause)) != HEARTH_OK)
        goto done;
    fprintf(stderr, "sandbox: %zu node(s) ready; logs in %s/logs; stop with Ctrl-C\n",
            sb->nnodes, sb->state);
    printf("HEARTH_CLIENT_CONFIG=%s\n", sb->client_config);
    fflush(stdout);
    while (!*stop) {
        const char *dead = reap(sb);
        if (dead) {
            hearth_cause_set(cause, "%s stopped unexpectedly; see %s/logs/", dead, sb->state);
            rc = HEARTH_ERR_INTERNAL;
            break;
        }
        hearth_sleep_ms(100);
    }
done:
    if (rc == HEARTH_OK || sb->gateway > 0)
        fprintf(stderr, "sandbox: stopping\n");
    stop_all(sb);
    free(node_ep);
    free(analyst_ep);
    for (size_t i = 0; i < sb->nnodes; i++)
        for (size_t d = 0; d < sb->nodes[i].ndatasets; d++) {
            free(sb->nodes[i].datasets[d]);
            free(sb->nodes[i].files[d]);
        }
    free(sb->client_config);
    free(sb->dir);
    free(sb->state);
    free(sb->bin);
    free(sb);
    return rc;
}
