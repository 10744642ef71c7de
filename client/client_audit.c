#include "client_audit.h"
#include "audit_event.h"
#include "client_audit_export.h"
#include "client_audit_findings.h"
#include "client_audit_list.h"
#include "client_audit_log.h"
#include "client_audit_out.h"
#include "client_audit_parse.h"
#include "client_audit_reconcile.h"
#include "client_audit_report.h"
#include "client_audit_show.h"
#include "client_audit_time.h"
#include "client_audit_verify.h"
#include "client_config.h"
#include "client_render.h"
#include "client_rpc.h"
#include "hearth_buf.h"
#include "hearth_file.h"
#include "hearth_mem.h"
#include "proto_codec.h"
#include "tlog_checkpoint.h"
#include "hearth_util.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef unsigned long long ull;

/* ---- talking to the gateway ---------------------------------------------------------- */

/* A command's connection to the gateway: its configuration and the socket
 * opened with it, both owned (conn_close frees them). */
typedef struct {
    client_config_t *cfg;
    client_rpc_t *rpc;
} conn_t;

/* Loads the configuration file at path and opens the gateway socket. */
static hearth_err_t conn_open(conn_t *c, const char *path, char **cause)
{
    hearth_err_t rc = client_config_load(path, &c->cfg, cause);
    if (rc == HEARTH_OK)
        rc = client_rpc_open(c->cfg, &c->rpc, cause);
    return rc;
}

static void conn_close(conn_t *c)
{
    client_rpc_destroy(&c->rpc);
    client_config_destroy(&c->cfg);
}

/* One request and its reply, which must be `want`; the gateway's Error
 * reply (a key without the auditor role) becomes HEARTH_ERR_REFUSED with
 * the gateway's message. */
static hearth_err_t ask(conn_t *c, Hearth__Envelope *req, Hearth__Envelope__BodyCase want,
                        Hearth__Envelope **rep, char **cause)
{
    hearth_err_t rc = client_rpc_expect(c->rpc, req, want, rep, cause);
    if (rc == HEARTH_ERR_REFUSED) {
        char *why = *cause;
        *cause = NULL;
        hearth_cause_set(cause, "%s (audit commands need a key with the auditor role)", why);
        free(why);
    }
    return rc;
}

/* Every checkpoint, ascending; *newest is the largest size their texts
 * claim (signatures are verify's business, not paging's). */
static hearth_err_t fetch_checkpoints(conn_t *c, client_audit_log_t *log, uint64_t *newest,
                                      char **cause)
{
    uint64_t after = 0;
    *newest = 0;
    for (;;) {
        Hearth__AuditCheckpointsRequest q = HEARTH__AUDIT_CHECKPOINTS_REQUEST__INIT;
        q.after = after;
        q.limit = CLIENT_AUDIT_PAGE;
        Hearth__Envelope req = HEARTH__ENVELOPE__INIT, *rep = NULL;
        req.body_case = HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REQUEST;
        req.audit_checkpoints_request = &q;
        hearth_err_t rc = ask(c, &req, HEARTH__ENVELOPE__BODY_AUDIT_CHECKPOINTS_REPLY, &rep,
                              cause);
        if (rc != HEARTH_OK)
            return rc;
        const Hearth__AuditCheckpointsReply *r = rep->audit_checkpoints_reply;
        uint64_t top = after;
        for (size_t i = 0; i < r->n_notes && rc == HEARTH_OK; i++) {
            const char *note = r->notes[i] ? r->notes[i] : "";
            rc = client_audit_log_add_note(log, note, strlen(note), cause);
            char *text = client_audit_verify_note_text(note, strlen(note));
            tlog_checkpoint_t cp;
            if (text && tlog_checkpoint_parse(text, &cp, NULL) == HEARTH_OK && cp.size > top)
                top = cp.size;
            free(text);
        }
        bool more = r->more;
        proto_free(&rep);
        if (rc != HEARTH_OK)
            return rc;
        if (top > *newest)
            *newest = top;
        if (!more)
            return HEARTH_OK;
        if (top <= after) {
            hearth_cause_set(cause, "the gateway's list of checkpoints does not advance");
            return HEARTH_ERR_PROTO;
        }
        after = top;
    }
}

typedef struct {
    uint64_t since_ms, until_ms;
    const char *project, *analyst, *query_id;
} leaf_query_t;

/* Leaves from start on passing q (NULL: all), keeping those below stop,
 * page by page until the gateway has no more or stop is reached. */
static hearth_err_t fetch_leaves(conn_t *c, const leaf_query_t *q, uint64_t start,
                                 uint64_t stop, uint32_t limit, client_audit_log_t *log,
                                 char **cause)
{
    for (;;) {
        Hearth__AuditLeavesRequest lq = HEARTH__AUDIT_LEAVES_REQUEST__INIT;
        lq.start = start;
        lq.limit = limit;
        if (q) {
            lq.since_ms = q->since_ms;
            lq.until_ms = q->until_ms;
            lq.project = (char *)(q->project ? q->project : "");
            lq.analyst = (char *)(q->analyst ? q->analyst : "");
            lq.query_id = (char *)(q->query_id ? q->query_id : "");
        }
        Hearth__Envelope req = HEARTH__ENVELOPE__INIT, *rep = NULL;
        req.body_case = HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REQUEST;
        req.audit_leaves_request = &lq;
        hearth_err_t rc = ask(c, &req, HEARTH__ENVELOPE__BODY_AUDIT_LEAVES_REPLY, &rep, cause);
        if (rc != HEARTH_OK)
            return rc;
        const Hearth__AuditLeavesReply *r = rep->audit_leaves_reply;
        log->log_size = r->size;
        for (size_t i = 0; i < r->n_leaves && rc == HEARTH_OK; i++) {
            const Hearth__AuditLeaf *l = r->leaves[i];
            if (l && l->index < stop)
                rc = client_audit_log_add_leaf(log, l->index, l->data.data, l->data.len, cause);
        }
        uint64_t next = r->next, size = r->size;
        proto_free(&rep);
        if (rc != HEARTH_OK)
            return rc;
        if (next >= size || next >= stop)
            return HEARTH_OK;
        if (next <= start) {
            hearth_cause_set(cause, "the gateway's audit leaves do not advance");
            return HEARTH_ERR_PROTO;
        }
        start = next;
    }
}

static hearth_err_t fetch_consistency(conn_t *c, uint64_t from, uint64_t to,
                                      uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN], size_t *n,
                                      char **cause)
{
    *n = 0;
    Hearth__AuditConsistencyRequest q = HEARTH__AUDIT_CONSISTENCY_REQUEST__INIT;
    q.from = from;
    q.to = to;
    Hearth__Envelope req = HEARTH__ENVELOPE__INIT, *rep = NULL;
    req.body_case = HEARTH__ENVELOPE__BODY_AUDIT_CONSISTENCY_REQUEST;
    req.audit_consistency_request = &q;
    hearth_err_t rc = ask(c, &req, HEARTH__ENVELOPE__BODY_AUDIT_CONSISTENCY_REPLY, &rep, cause);
    if (rc != HEARTH_OK)
        return rc;
    const Hearth__AuditConsistencyReply *r = rep->audit_consistency_reply;
    if (r->n_proof > TLOG_MAX_PROOF) {
        hearth_cause_set(cause, "the gateway's consistency proof is too long");
        rc = HEARTH_ERR_PROTO;
    }
    for (size_t i = 0; rc == HEARTH_OK && i < r->n_proof; i++) {
        if (r->proof[i].len != TLOG_HASH_LEN) {
            hearth_cause_set(cause, "the gateway's consistency proof holds a malformed hash");
            rc = HEARTH_ERR_PROTO;
            break;
        }
        memcpy(proof[i], r->proof[i].data, TLOG_HASH_LEN);
        *n = i + 1;
    }
    proto_free(&rep);
    return rc;
}

/* Checkpoints, then the leaves they cover: every leaf the gateway commits
 * is signed in its batch's checkpoint before the commit, so this order
 * fetches a log whose newest checkpoint covers every leaf fetched. With no
 * checkpoint at all, every leaf is fetched (verify then says nothing is
 * proven). */
static hearth_err_t fetch_signed_log(conn_t *c, client_audit_log_t *log, uint64_t *newest,
                                     char **cause)
{
    hearth_err_t rc = fetch_checkpoints(c, log, newest, cause);
    if (rc != HEARTH_OK)
        return rc;
    if (*newest == 0 && log->n_notes > 0)
        return HEARTH_OK;
    return fetch_leaves(c, NULL, 0, log->n_notes ? *newest : UINT64_MAX, CLIENT_AUDIT_PAGE, log,
                        cause);
}

/* ---- the commands ---------------------------------------------------------------------- */

enum { EXIT_DONE = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* Prints a cause from anywhere (it may quote the gateway) safely. */
static void print_error(const char *cause, hearth_err_t rc)
{
    hearth_buf_t b;
    hearth_buf_init(&b, 1u << 20);
    if (client_render_term_text(&b, cause ? cause : hearth_strerror(rc)) != HEARTH_OK)
        hearth_buf_reset(&b);
    fprintf(stderr, "hearth: %s\n", hearth_buf_str(&b));
    hearth_buf_free(&b);
}

static int fail_with(char *cause, hearth_err_t rc)
{
    print_error(cause, rc);
    free(cause);
    return rc == HEARTH_ERR_USAGE ? EXIT_USAGE : EXIT_FAILED;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("hearth audit: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(see hearth --help and docs/audit-commands.md)\n", stderr);
    return EXIT_USAGE;
}

static void print_findings(const client_audit_findings_t *f)
{
    client_audit_out_t o;
    client_audit_out_init(&o);
    for (size_t i = 0; i < f->n; i++) {
        const client_audit_finding_t *x = &f->items[i];
        client_audit_out_add(&o, client_audit_findings_severity_name(x->severity));
        client_audit_out_add(&o, ": ");
        if (x->leaf != CLIENT_AUDIT_NO_LEAF) {
            client_audit_out_add(&o, "leaf ");
            client_audit_out_u64(&o, x->leaf);
            client_audit_out_add(&o, ": ");
        }
        client_audit_out_term(&o, x->message);
        client_audit_out_add(&o, "\n");
    }
    if (f->n_dropped) {
        client_audit_out_add(&o, "... and ");
        client_audit_out_u64(&o, f->n_dropped);
        client_audit_out_add(&o, " more findings not shown\n");
    }
    char *text = client_audit_out_take(&o);
    if (text)
        fputs(text, stdout);
    free(text);
}

/* The command line, parsed once for every subcommand. */
typedef struct {
    const char *config, *format, *since, *until, *project, *analyst, *outcome, *out, *file;
    const char *audit_key, *node, *receipts, *month;
    const char **node_keys;
    size_t n_node_keys;
    unsigned given;      /* OPT_* bits of the options present */
} args_t;

enum {
    OPT_CONFIG = 1u << 0, OPT_FORMAT = 1u << 1, OPT_SINCE = 1u << 2, OPT_UNTIL = 1u << 3,
    OPT_PROJECT = 1u << 4, OPT_ANALYST = 1u << 5, OPT_OUTCOME = 1u << 6, OPT_OUT = 1u << 7,
    OPT_FILE = 1u << 8, OPT_AUDIT_KEY = 1u << 9, OPT_NODE_KEY = 1u << 10, OPT_NODE = 1u << 11,
    OPT_RECEIPTS = 1u << 12, OPT_MONTH = 1u << 13
};

/* Prints a rendering to standard output and frees it; NULL (it was too
 * large to build) becomes HEARTH_ERR_TOO_BIG, with too_big as the cause. */
static hearth_err_t print_rendering(char *text, const char *too_big, char **cause)
{
    if (text == NULL) {
        hearth_cause_set(cause, "%s", too_big);
        return HEARTH_ERR_TOO_BIG;
    }
    fputs(text, stdout);
    free(text);
    return HEARTH_OK;
}

static int cmd_list(const args_t *a, int nargs)
{
    client_format_t fmt;
    client_audit_filter_t f = {0};
    if (nargs != 0 || !a->config)
        return usage("list takes --config and options only");
    if (!client_format_parse(a->format, &fmt))
        return usage("--format must be table, csv or json");
    if (a->since && !client_audit_time_parse(a->since, false, &f.since_ms))
        return usage("--since must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)");
    if (a->until && !client_audit_time_parse(a->until, true, &f.until_ms))
        return usage("--until must be YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (UTC)");
    if (a->outcome && !client_audit_list_outcome_parse(a->outcome, &f.outcome))
        return usage("--outcome must be released, refused, error, incomplete or governance");
    f.has_outcome = a->outcome != NULL;
    f.project = a->project;
    f.analyst = a->analyst;
    char *cause = NULL;
    client_audit_log_t *log = client_audit_log_new();
    client_audit_rows_t *rows = NULL;
    conn_t c = {0};
    hearth_err_t rc;
    if ((rc = conn_open(&c, a->config, &cause)) != HEARTH_OK)
        goto done;
    /* The gateway filters on its index columns; the rows are filtered again
     * here against the events themselves. */
    leaf_query_t q = {f.since_ms, f.until_ms, a->project, a->analyst, NULL};
    if ((rc = fetch_leaves(&c, &q, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) != HEARTH_OK)
        goto done;
    rows = client_audit_list_rows_build(log);
    if ((rc = print_rendering(client_audit_list_rows_render(rows, &f, fmt),
                              "the list is too large to display; narrow it with --since, "
                              "--until or --project", &cause)) != HEARTH_OK)
        goto done;
    if (rows->undecodable)
        fprintf(stderr, "hearth: %zu leaves do not decode and are not listed; run hearth "
                "audit verify\n", rows->undecodable);
done:
    client_audit_list_rows_destroy(&rows);
    client_audit_log_destroy(&log);
    conn_close(&c);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

/* Keeps only the leaves whose query id is id. */
static void keep_query(client_audit_log_t *log, const char *id)
{
    size_t k = 0;
    for (size_t i = 0; i < log->n_leaves; i++) {
        audit_event_t e;
        bool keep = audit_event_decode(log->leaves[i].data, log->leaves[i].len, &e, NULL) ==
                        HEARTH_OK && e.query_id && strcmp(e.query_id, id) == 0;
        audit_event_clear(&e);
        if (keep)
            log->leaves[k++] = log->leaves[i];
        else
            free(log->leaves[i].data);
    }
    log->n_leaves = k;
}

static int cmd_show(const args_t *a, int nargs, const char *id)
{
    client_format_t fmt;
    if (nargs != 1 || !a->config)
        return usage("show takes --config and one query id or leaf index");
    const char *format = a->given & OPT_FORMAT ? a->format : "text";
    if (strcmp(format, "text") == 0)
        fmt = CLIENT_FORMAT_TABLE;
    else if (strcmp(format, "json") == 0)
        fmt = CLIENT_FORMAT_JSON;
    else
        return usage("show's --format must be text or json");
    char *cause = NULL;
    client_audit_log_t *log = client_audit_log_new();
    conn_t c = {0};
    hearth_err_t rc;
    if ((rc = conn_open(&c, a->config, &cause)) != HEARTH_OK)
        goto done;
    leaf_query_t q = {0, 0, NULL, NULL, id};
    if ((rc = fetch_leaves(&c, &q, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) != HEARTH_OK)
        goto done;
    keep_query(log, id);
    uint64_t index;
    if (log->n_leaves == 0 && hearth_parse_u64(id, strlen(id), &index)) {
        /* Not a query id: a leaf index (a governance change, say). */
        if ((rc = fetch_leaves(&c, NULL, index, index + 1, 1, log, &cause)) != HEARTH_OK)
            goto done;
    }
    if (log->n_leaves == 0) {
        hearth_cause_set(&cause, "no query or leaf '%s' in the audit log", id);
        rc = HEARTH_ERR_NOT_FOUND;
        goto done;
    }
    rc = print_rendering(client_audit_show_render(log, fmt),
                         "the events are too large to display", &cause);
done:
    client_audit_log_destroy(&log);
    conn_close(&c);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

static int cmd_export(const args_t *a, int nargs)
{
    if (nargs != 0 || !a->config)
        return usage("export takes --config and optionally --out FILE");
    char *cause = NULL, *text = NULL;
    client_audit_log_t *log = client_audit_log_new();
    conn_t c = {0};
    uint64_t newest = 0;
    size_t len = 0;
    hearth_err_t rc;
    if ((rc = conn_open(&c, a->config, &cause)) != HEARTH_OK)
        goto done;
    if ((rc = fetch_signed_log(&c, log, &newest, &cause)) != HEARTH_OK)
        goto done;
    text = client_audit_export_format(log, &len);
    if (a->out) {
        /* Query texts and analysts' names: the export is kept private. */
        if ((rc = hearth_file_write_secret(a->out, text, len, &cause)) != HEARTH_OK)
            goto done;
        fprintf(stderr, "hearth: exported %zu leaves and %zu checkpoints to %s\n",
                log->n_leaves, log->n_notes, a->out);
    } else if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0) {
        hearth_cause_set(&cause, "cannot write the export: %s", strerror(errno));
        rc = HEARTH_ERR_IO;
    }
done:
    free(text);
    client_audit_log_destroy(&log);
    conn_close(&c);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

/* Loads every --node-key NAME=FILE into keys (n of them). */
static hearth_err_t load_node_keys(const args_t *a, client_audit_node_key_t *keys, char **names,
                                   char **cause)
{
    for (size_t i = 0; i < a->n_node_keys; i++) {
        const char *eq = strchr(a->node_keys[i], '=');
        if (eq == NULL || eq == a->node_keys[i] || eq[1] == '\0') {
            hearth_cause_set(cause, "--node-key must be NAME=FILE (the node's name and its "
                             "receipt verifier key file)");
            return HEARTH_ERR_USAGE;
        }
        names[i] = hearth_strndup(a->node_keys[i], (size_t)(eq - a->node_keys[i]));
        keys[i].node = names[i];
        hearth_err_t rc = tlog_verifier_load(eq + 1, &keys[i].key, cause);
        if (rc != HEARTH_OK)
            return rc;
    }
    return HEARTH_OK;
}

/* The checkpoint an earlier verify accepted, from path; *has false when
 * there is none yet. */
static hearth_err_t state_read(const char *path, const tlog_verifier_t *v, tlog_checkpoint_t *cp,
                               bool *has, char **cause)
{
    *has = false;
    char *data = NULL;
    size_t len = 0;
    hearth_err_t rc = hearth_file_read_all(path, TLOG_NOTE_MAX, &data, &len, cause);
    if (rc == HEARTH_ERR_NOT_FOUND) {
        /* No verify has accepted a checkpoint yet. */
        free(data);
        if (cause) {
            free(*cause);
            *cause = NULL;
        }
        return HEARTH_OK;
    }
    if (rc == HEARTH_OK) {
        char *why = NULL;
        rc = tlog_checkpoint_open(data, len, v, cp, &why);
        if (rc != HEARTH_OK)
            hearth_cause_set(cause, "%s: the checkpoint accepted before does not verify against "
                             "the gateway audit key (%s); if the key was rightly replaced, "
                             "move the file aside", path, why ? why : "invalid");
        free(why);
        *has = rc == HEARTH_OK;
    }
    free(data);
    return rc;
}

/* Replaces path with note atomically: a new 0600 file beside it, synced,
 * renamed over it, and the folder synced. */
static hearth_err_t state_write(const char *path, const char *note, char **cause)
{
    char *tmp = hearth_asprintf("%s.tmp.%ld", path, (long)getpid());
    (void)unlink(tmp);   /* a leftover from a crashed run with this pid */
    hearth_err_t rc = hearth_file_write_secret(tmp, note, strlen(note), cause);
    if (rc == HEARTH_OK && rename(tmp, path) != 0) {
        hearth_cause_set(cause, "cannot replace %s: %s", path, strerror(errno));
        (void)unlink(tmp);
        rc = HEARTH_ERR_IO;
    }
    if (rc == HEARTH_OK) {
        char *dir = hearth_path_dirname(path);
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            (void)fsync(fd);
            close(fd);
        }
        free(dir);
    }
    free(tmp);
    return rc;
}

static void print_summary(const client_audit_verdict_t *v, size_t n_node_keys)
{
    if (v->ok)
        printf("verified %llu leaves, %llu checkpoints; %llu queries received but not "
               "completed\n", (ull)v->leaves, (ull)v->checkpoints, (ull)v->incomplete);
    else
        printf("verification FAILED: %zu errors in %llu leaves, %llu checkpoints\n",
               v->findings.n_errors, (ull)v->leaves, (ull)v->checkpoints);
    printf("queries %llu (released %llu, refused %llu, error %llu, not completed %llu); "
           "dispatches %llu; receipts %llu (%llu signatures checked); governance changes %llu\n",
           (ull)v->queries, (ull)v->released, (ull)v->refused, (ull)v->errors,
           (ull)v->incomplete, (ull)v->dispatched, (ull)v->receipts, (ull)v->receipts_signed,
           (ull)v->governance);
    if (v->receipts > v->receipts_signed && n_node_keys == 0)
        printf("receipt signatures were not checked: pass --node-key NAME=FILE for each node\n");
}

static int cmd_verify(const args_t *a, int nargs)
{
    if (nargs != 0 || (!a->config == !a->file))
        return usage("verify takes either --config client.ini or --file EXPORT (with "
                     "--audit-key)");
    if (a->file && !a->audit_key)
        return usage("verify --file needs --audit-key gateway-audit.vkey");
    char *cause = NULL, *data = NULL;
    client_audit_log_t *log = NULL;
    client_audit_verdict_t *v = NULL;
    conn_t c = {0};
    tlog_verifier_t gw;
    client_audit_node_key_t *keys = hearth_calloc(a->n_node_keys + 1, sizeof *keys);
    char **names = hearth_calloc(a->n_node_keys + 1, sizeof *names);
    uint8_t proof[TLOG_MAX_PROOF][TLOG_HASH_LEN];
    client_audit_verify_in_t in = {0};
    uint64_t newest = 0;
    int status = EXIT_FAILED;
    hearth_err_t rc = HEARTH_OK;
    if (a->config && (rc = client_config_load(a->config, &c.cfg, &cause)) != HEARTH_OK)
        goto done;
    const char *key_path = a->audit_key ? a->audit_key : c.cfg->audit_key;
    if (key_path == NULL) {
        hearth_cause_set(&cause, "%s: no [client] audit_key (the gateway's audit verifier key, "
                         "gateway-audit.vkey); set it or pass --audit-key", a->config);
        rc = HEARTH_ERR_USAGE;
        goto done;
    }
    if ((rc = tlog_verifier_load(key_path, &gw, &cause)) != HEARTH_OK ||
        (rc = load_node_keys(a, keys, names, &cause)) != HEARTH_OK)
        goto done;
    in.gateway = &gw;
    in.node_keys = keys;
    in.n_node_keys = a->n_node_keys;
    if (a->file) {
        size_t len = 0;
        if ((rc = hearth_file_read_all(a->file, CLIENT_AUDIT_EXPORT_MAX, &data, &len,
                                       &cause)) != HEARTH_OK ||
            (rc = client_audit_export_parse(data, len, &log, &cause)) != HEARTH_OK)
            goto done;
    } else {
        if ((rc = state_read(c.cfg->audit_state, &gw, &in.previous, &in.has_previous,
                             &cause)) != HEARTH_OK ||
            (rc = client_rpc_open(c.cfg, &c.rpc, &cause)) != HEARTH_OK)
            goto done;
        log = client_audit_log_new();
        if ((rc = fetch_signed_log(&c, log, &newest, &cause)) != HEARTH_OK)
            goto done;
        if (in.has_previous && in.previous.size <= newest) {
            in.has_proof = true;
            in.proof_size = newest;
            in.proof = (const uint8_t (*)[TLOG_HASH_LEN])proof;
            if (in.previous.size < newest && in.previous.size > 0 &&
                (rc = fetch_consistency(&c, in.previous.size, newest, proof, &in.n_proof,
                                        &cause)) != HEARTH_OK)
                goto done;
        }
    }
    in.leaves = log->leaves;
    in.n_leaves = log->n_leaves;
    in.checkpoints = (const char *const *)log->notes;
    in.n_checkpoints = log->n_notes;
    v = client_audit_verify(&in);
    print_findings(&v->findings);
    print_summary(v, a->n_node_keys);
    status = v->ok ? EXIT_DONE : EXIT_FAILED;
    if (c.cfg && v->ok && v->has_newest) {
        if ((rc = state_write(c.cfg->audit_state, log->notes[v->newest_note], &cause)) !=
            HEARTH_OK)
            goto done;
        printf("accepted the checkpoint of size %llu (stored in %s)\n", (ull)v->newest.size,
               c.cfg->audit_state);
    }
    if (c.cfg && log->log_size > newest && log->n_notes > 0)
        printf("the log has grown to %llu leaves since its newest checkpoint was fetched; "
               "verify again to cover them\n", (ull)log->log_size);
done:
    for (size_t i = 0; i < a->n_node_keys; i++)
        free(names[i]);
    free(names);
    free(keys);
    free(data);
    client_audit_verify_destroy(&v);
    client_audit_log_destroy(&log);
    conn_close(&c);
    return rc == HEARTH_OK ? status : fail_with(cause, rc);
}

static int cmd_reconcile(const args_t *a, int nargs)
{
    if (nargs != 0 || !a->config || !a->node || !a->receipts || a->n_node_keys != 1)
        return usage("reconcile takes --config client.ini --node NAME --receipts FILE "
                     "--node-key FILE");
    char *cause = NULL, *data = NULL;
    char **notes = NULL;
    size_t n_notes = 0, len = 0;
    client_audit_log_t *log = client_audit_log_new();
    client_audit_reconcile_t *r = NULL;
    conn_t c = {0};
    tlog_verifier_t key;
    int status = EXIT_FAILED;
    hearth_err_t rc;
    if ((rc = client_config_load(a->config, &c.cfg, &cause)) != HEARTH_OK ||
        (rc = tlog_verifier_load(a->node_keys[0], &key, &cause)) != HEARTH_OK ||
        (rc = hearth_file_read_all(a->receipts, CLIENT_AUDIT_RECEIPTS_MAX, &data, &len,
                                   &cause)) != HEARTH_OK ||
        (rc = client_audit_reconcile_receipts_parse(data, len, &notes, &n_notes, &cause)) !=
            HEARTH_OK ||
        (rc = client_rpc_open(c.cfg, &c.rpc, &cause)) != HEARTH_OK)
        goto done;
    if ((rc = fetch_leaves(&c, NULL, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) !=
        HEARTH_OK)
        goto done;
    r = client_audit_reconcile(log, a->node, (const char *const *)notes, n_notes, &key);
    print_findings(&r->findings);
    printf("node %s: %llu receipts, %llu of them in the gateway log; %llu dispatches to it, "
           "%llu with a receipt: %s\n", a->node, (ull)r->receipts, (ull)r->in_log,
           (ull)r->dispatches, (ull)r->answered, r->ok ? "reconciled" : "DISCREPANCIES FOUND");
    status = r->ok ? EXIT_DONE : EXIT_FAILED;
done:
    for (size_t i = 0; i < n_notes; i++)
        free(notes[i]);
    free(notes);
    free(data);
    client_audit_reconcile_destroy(&r);
    client_audit_log_destroy(&log);
    conn_close(&c);
    return rc == HEARTH_OK ? status : fail_with(cause, rc);
}

static int cmd_report(const args_t *a, int nargs)
{
    client_format_t fmt;
    uint64_t since, until;
    if (nargs != 0 || !a->config || !a->month)
        return usage("report takes --config client.ini --month YYYY-MM");
    if (!client_audit_time_parse_month(a->month, &since, &until))
        return usage("--month must be YYYY-MM");
    if (!client_format_parse(a->format, &fmt))
        return usage("--format must be table, csv or json");
    char *cause = NULL;
    client_audit_log_t *log = client_audit_log_new();
    client_audit_rows_t *rows = NULL;
    client_audit_report_t *report = NULL;
    conn_t c = {0};
    hearth_err_t rc;
    if ((rc = conn_open(&c, a->config, &cause)) != HEARTH_OK)
        goto done;
    leaf_query_t q = {since, until, a->project, NULL, NULL};
    if ((rc = fetch_leaves(&c, &q, 0, UINT64_MAX, CLIENT_AUDIT_PAGE, log, &cause)) != HEARTH_OK)
        goto done;
    rows = client_audit_list_rows_build(log);
    report = client_audit_report_build(rows, a->month, a->project);
    rc = print_rendering(client_audit_report_render(report, fmt),
                         "the report is too large to display", &cause);
done:
    client_audit_report_destroy(&report);
    client_audit_list_rows_destroy(&rows);
    client_audit_log_destroy(&log);
    conn_close(&c);
    return rc == HEARTH_OK ? EXIT_DONE : fail_with(cause, rc);
}

/* Which options each subcommand takes. */
static const struct {
    const char *name;
    unsigned allowed;
} COMMANDS[] = {
    {"list", OPT_CONFIG | OPT_FORMAT | OPT_SINCE | OPT_UNTIL | OPT_PROJECT | OPT_ANALYST |
             OPT_OUTCOME},
    {"show", OPT_CONFIG | OPT_FORMAT},
    {"export", OPT_CONFIG | OPT_OUT},
    {"verify", OPT_CONFIG | OPT_FILE | OPT_AUDIT_KEY | OPT_NODE_KEY},
    {"reconcile", OPT_CONFIG | OPT_NODE | OPT_RECEIPTS | OPT_NODE_KEY},
    {"report", OPT_CONFIG | OPT_MONTH | OPT_PROJECT | OPT_FORMAT},
};

int client_audit_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},     {"format", required_argument, NULL, 'f'},
        {"since", required_argument, NULL, 'S'},      {"until", required_argument, NULL, 'U'},
        {"project", required_argument, NULL, 'p'},    {"analyst", required_argument, NULL, 'a'},
        {"outcome", required_argument, NULL, 'O'},    {"out", required_argument, NULL, 'o'},
        {"file", required_argument, NULL, 'F'},       {"audit-key", required_argument, NULL, 'k'},
        {"node-key", required_argument, NULL, 'K'},   {"node", required_argument, NULL, 'n'},
        {"receipts", required_argument, NULL, 'r'},   {"month", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0}};
    if (argc < 2)
        return usage("which audit command? list, show, export, verify, reconcile or report");
    const char *sub = argv[1];
    size_t which = sizeof COMMANDS / sizeof *COMMANDS;
    for (size_t i = 0; i < sizeof COMMANDS / sizeof *COMMANDS; i++)
        if (strcmp(sub, COMMANDS[i].name) == 0)
            which = i;
    if (which == sizeof COMMANDS / sizeof *COMMANDS)
        return usage("unknown audit command '%s' (list, show, export, verify, reconcile, "
                     "report)", sub);
    args_t a = {.format = "table"};
    a.node_keys = hearth_calloc((size_t)argc, sizeof *a.node_keys);
    int c, status;
    optind = 2;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:f:", opts, NULL)) != -1) {
        const char **slot = NULL;
        unsigned bit = 0;
        switch (c) {
        case 'c': slot = &a.config; bit = OPT_CONFIG; break;
        case 'f': slot = &a.format; bit = OPT_FORMAT; break;
        case 'S': slot = &a.since; bit = OPT_SINCE; break;
        case 'U': slot = &a.until; bit = OPT_UNTIL; break;
        case 'p': slot = &a.project; bit = OPT_PROJECT; break;
        case 'a': slot = &a.analyst; bit = OPT_ANALYST; break;
        case 'O': slot = &a.outcome; bit = OPT_OUTCOME; break;
        case 'o': slot = &a.out; bit = OPT_OUT; break;
        case 'F': slot = &a.file; bit = OPT_FILE; break;
        case 'k': slot = &a.audit_key; bit = OPT_AUDIT_KEY; break;
        case 'n': slot = &a.node; bit = OPT_NODE; break;
        case 'r': slot = &a.receipts; bit = OPT_RECEIPTS; break;
        case 'm': slot = &a.month; bit = OPT_MONTH; break;
        case 'K':
            a.node_keys[a.n_node_keys++] = optarg;
            a.given |= OPT_NODE_KEY;
            continue;
        default:
            status = usage("%s: unknown option or missing value (%s)", sub,
                           argv[optind - 1] ? argv[optind - 1] : "?");
            goto done;
        }
        *slot = optarg;
        a.given |= bit;
    }
    if (a.given & ~COMMANDS[which].allowed) {
        status = usage("an option given is not one of audit %s's", sub);
        goto done;
    }
    int nargs = argc - optind;
    switch (which) {
    case 0: status = cmd_list(&a, nargs); break;
    case 1: status = cmd_show(&a, nargs, nargs == 1 ? argv[optind] : NULL); break;
    case 2: status = cmd_export(&a, nargs); break;
    case 3: status = cmd_verify(&a, nargs); break;
    case 4: status = cmd_reconcile(&a, nargs); break;
    default: status = cmd_report(&a, nargs); break;
    }
done:
    free(a.node_keys);
    return status;
}
