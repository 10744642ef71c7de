/* hearth: the analyst's and IG officer's command-line client, and the
 * sandbox that runs a whole partnership on one machine. */
#include "client_audit.h"
#include "client_catalogue.h"
#include "client_config.h"
#include "client_render.h"
#include "client_rpc.h"
#include "client_sandbox.h"
#include "hearth_buf.h"
#include "hearth_err.h"
#include "hearth_util.h"
#include "hearth_mem.h"
#include "proto_wire.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Exit codes (the brief): 0 released, 1 error, 2 usage, 3 refused, 4 partial. */
enum { EXIT_RELEASED = 0, EXIT_ERROR = 1, EXIT_USAGE = 2, EXIT_REFUSED = 3, EXIT_PARTIAL = 4 };

static const char USAGE[] =
    "usage: hearth query --config client.ini [--format table|csv|json] [--project P] SQL\n"
    "       hearth status --config client.ini\n"
    "       hearth catalogue --config client.ini [--format table|json]\n"
    "       hearth sandbox DIR [--state STATE_DIR]\n"
    "       hearth audit list --config client.ini [--since DATE|DATETIME] [--until ...]\n"
    "                    [--project P] [--analyst A]\n"
    "                    [--outcome released|refused|error|incomplete|governance]\n"
    "                    [--format table|csv|json]\n"
    "       hearth audit show --config client.ini [--format text|json] ID\n"
    "       hearth audit export --config client.ini [--out FILE]\n"
    "       hearth audit verify --config client.ini [--audit-key FILE] [--node-key NAME=FILE ...]\n"
    "       hearth audit verify --file EXPORT --audit-key FILE [--node-key NAME=FILE ...]\n"
    "       hearth audit reconcile --config client.ini --node NAME --receipts FILE\n"
    "                    --node-key FILE\n"
    "       hearth audit report --config client.ini --month YYYY-MM [--project P]\n"
    "                    [--format table|csv|json]\n"
    "\n"
    "  query      ask the partnership an aggregate question (SQL, or - to read stdin)\n"
    "  status     show which partner nodes are connected to the gateway\n"
    "  catalogue  list each node's datasets, their columns and types, and the values\n"
    "             of categorical columns held by at least 8 people\n"
    "  sandbox    run a partnership on this machine from DIR/<node>/<dataset>.csv\n"
    "  audit      the IG officer's audit log: list queries, show one, export the log,\n"
    "             verify it against the pinned audit key, reconcile a node's receipts,\n"
    "             report a month per project (needs the auditor role)\n"
    "\n"
    "Exit codes of query: 0 released, 1 error, 2 usage or query error, 3 refused,\n"
    "4 partial. Of audit: 0 done (verify: verified; reconcile: reconciled), 1 failed\n"
    "or error, 2 usage. See docs/analyst.md, docs/ics-lead.md and\n"
    "docs/audit-commands.md.\n";

/* Written by the signal handler, read by the sandbox loop; nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int report(const char *cause, hearth_err_t rc)
{
    fprintf(stderr, "hearth: %s\n", cause ? cause : hearth_strerror(rc));
    return rc == HEARTH_ERR_USAGE ? EXIT_USAGE : rc == HEARTH_ERR_REFUSED ? EXIT_REFUSED
                                                                         : EXIT_ERROR;
}

/* Reads the query from standard input, bounded. */
static char *read_stdin(size_t max, size_t *len)
{
    hearth_buf_t b;
    hearth_buf_init(&b, max);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, stdin)) > 0)
        if (hearth_buf_add(&b, chunk, n) != HEARTH_OK) {
            hearth_buf_free(&b);
            return NULL;
        }
    *len = b.len;
    return hearth_buf_take(&b);
}

static int exit_for(const Hearth__QueryResult *r)
{
    switch (r->status) {
    case HEARTH__QUERY_STATUS__STATUS_RELEASED: return EXIT_RELEASED;
    case HEARTH__QUERY_STATUS__STATUS_REFUSED: return EXIT_REFUSED;
    case HEARTH__QUERY_STATUS__STATUS_PARTIAL: return EXIT_PARTIAL;
    default: return r->usage_error ? EXIT_USAGE : EXIT_ERROR;
    }
}

static int cmd_query(const char *config, const char *format, const char *project,
                     const char *sql_arg)
{
    client_format_t fmt;
    if (!client_format_parse(format, &fmt)) {
        fprintf(stderr, "hearth: --format must be table, csv or json\n");
        return EXIT_USAGE;
    }
    size_t len = strlen(sql_arg);
    char *sql = strcmp(sql_arg, "-") == 0 ? read_stdin(1u << 20, &len) : hearth_strdup(sql_arg);
    if (sql == NULL) {
        fprintf(stderr, "hearth: the query on standard input is longer than 1 MiB\n");
        return EXIT_USAGE;
    }
    /* The wire carries text: refuse what would not survive the trip rather
     * than let the gateway drop it unanswered. */
    const char *bad = memchr(sql, '\0', len) ? "contains a NUL byte"
                    : !proto_utf8_valid(sql, len) ? "is not valid UTF-8" : NULL;
    if (bad) {
        fprintf(stderr, "hearth: the query %s\n", bad);
        free(sql);
        return EXIT_USAGE;
    }
    char *cause = NULL;
    client_config_t *cfg = NULL;
    Hearth__Envelope *rep = NULL;
    int status = EXIT_ERROR;
    hearth_err_t rc;
    if ((rc = client_config_load(config, &cfg, &cause)) != HEARTH_OK)
        goto done;
    Hearth__QueryRequest q = HEARTH__QUERY_REQUEST__INIT;
    q.sql = sql;
    q.project = (char *)(project ? project : cfg->project ? cfg->project : "");
    Hearth__Envelope req = HEARTH__ENVELOPE__INIT;
    req.body_case = HEARTH__ENVELOPE__BODY_QUERY;
    req.query = &q;
    if ((rc = client_rpc_ask(cfg, &req, HEARTH__ENVELOPE__BODY_RESULT, &rep,
                             &cause)) != HEARTH_OK)
        goto done;
    const Hearth__QueryResult *r = rep->result;
    status = exit_for(r);
    if (r->usage_error && fmt != CLIENT_FORMAT_JSON) {
        /* The gateway rendered the query with a caret under the problem. */
        fprintf(stderr, "%s\n", r->reason ? r->reason : "query error");
    } else {
        char *text = client_render_result(r, fmt);
        if (text == NULL) {
            hearth_cause_set(&cause, "the result is too large to display");
            rc = HEARTH_ERR_TOO_BIG;
            status = EXIT_ERROR;
            goto done;
        }
        fputs(text, stdout);
        free(text);
    }
done:
    if (rc != HEARTH_OK)
        status = report(cause, rc);
    free(cause);
    free(sql);
    proto_free(&rep);
    client_config_destroy(&cfg);
    return status;
}

static int cmd_status(const char *config)
{
    char *cause = NULL;
    client_config_t *cfg = NULL;
    Hearth__Envelope *rep = NULL;
    hearth_err_t rc;
    int status = EXIT_ERROR;
    if ((rc = client_config_load(config, &cfg, &cause)) != HEARTH_OK)
        goto done;
    Hearth__StatusRequest sreq = HEARTH__STATUS_REQUEST__INIT;
    Hearth__Envelope req = HEARTH__ENVELOPE__INIT;
    req.body_case = HEARTH__ENVELOPE__BODY_STATUS_REQUEST;
    req.status_request = &sreq;
    if ((rc = client_rpc_ask(cfg, &req, HEARTH__ENVELOPE__BODY_STATUS_REPLY, &rep,
                             &cause)) != HEARTH_OK)
        goto done;
    for (size_t i = 0; i < rep->status_reply->n_nodes; i++) {
        const Hearth__NodeState *n = rep->status_reply->nodes[i];
        printf("%-24s %s\n", n->node ? n->node : "", n->connected ? "connected" : "not connected");
    }
    status = 0;
done:
    if (rc != HEARTH_OK)
        status = report(cause, rc);
    free(cause);
    proto_free(&rep);
    client_config_destroy(&cfg);
    return status;
}

static int cmd_catalogue(const char *config, const char *format)
{
    client_format_t fmt;
    if (!client_format_parse(format, &fmt) || fmt == CLIENT_FORMAT_CSV) {
        /* A column's list of values does not fit one CSV cell; JSON keeps it
         * whole for R and Python. */
        fprintf(stderr, "hearth: the catalogue's --format must be table or json\n");
        return EXIT_USAGE;
    }
    char *cause = NULL;
    client_config_t *cfg = NULL;
    Hearth__Envelope *rep = NULL;
    hearth_err_t rc;
    int status = EXIT_ERROR;
    if ((rc = client_config_load(config, &cfg, &cause)) != HEARTH_OK)
        goto done;
    Hearth__CatalogueRequest creq = HEARTH__CATALOGUE_REQUEST__INIT;
    Hearth__Envelope req = HEARTH__ENVELOPE__INIT;
    req.body_case = HEARTH__ENVELOPE__BODY_CATALOGUE_REQUEST;
    req.catalogue_request = &creq;
    if ((rc = client_rpc_ask(cfg, &req, HEARTH__ENVELOPE__BODY_CATALOGUE_REPLY, &rep,
                             &cause)) != HEARTH_OK)
        goto done;
    char *text = client_catalogue_render(rep->catalogue_reply, fmt);
    if (text == NULL) {
        hearth_cause_set(&cause, "the catalogue is too large to display");
        rc = HEARTH_ERR_TOO_BIG;
        goto done;
    }
    fputs(text, stdout);
    free(text);
    status = 0;
done:
    if (rc != HEARTH_OK)
        status = report(cause, rc);
    free(cause);
    proto_free(&rep);
    client_config_destroy(&cfg);
    return status;
}

static int cmd_sandbox(const char *dir, const char *state)
{
    hearth_catch_stop_signals(on_signal);
    client_sandbox_options_t opt = {.dir = dir, .state = state, .ready_timeout_s = 60};
    char *cause = NULL;
    hearth_err_t rc = client_sandbox_run(&opt, &stop_requested, &cause);
    int status = rc == HEARTH_OK ? 0 : report(cause, rc);
    free(cause);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : 0;
    }
    const char *cmd = argv[1];
    /* The audit commands have options of their own. */
    if (strcmp(cmd, "audit") == 0)
        return client_audit_main(argc - 1, argv + 1);
    const char *config = NULL, *format = "table", *project = NULL, *state = NULL;
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"format", required_argument, NULL, 'f'},
                                         {"project", required_argument, NULL, 'p'},
                                         {"state", required_argument, NULL, 's'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 2;
    /* Options may come before or after the operands (GNU getopt permutes);
     * "-" alone is an operand: read the query from standard input. */
    while ((c = getopt_long(argc, argv, "c:f:p:s:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 'f': format = optarg; break;
        case 'p': project = optarg; break;
        case 's': state = optarg; break;
        case 'h': fputs(USAGE, stdout); return 0;
        default: fputs(USAGE, stderr); return EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    if (strcmp(cmd, "query") == 0 && config && nargs >= 1) {
        /* Several operands are joined with spaces, as a shell user expects. */
        hearth_buf_t sql;
        hearth_buf_init(&sql, 1u << 20);
        for (int i = optind; i < argc; i++)
            if (hearth_buf_printf(&sql, "%s%s", i > optind ? " " : "", argv[i]) != HEARTH_OK) {
                hearth_buf_free(&sql);
                fprintf(stderr, "hearth: the query is longer than 1 MiB\n");
                return EXIT_USAGE;
            }
        int s = cmd_query(config, format, project, hearth_buf_str(&sql));
        hearth_buf_free(&sql);
        return s;
    }
    if (strcmp(cmd, "status") == 0 && config && nargs == 0)
        return cmd_status(config);
    if (strcmp(cmd, "catalogue") == 0 && config && nargs == 0)
        return cmd_catalogue(config, format);
    if (strcmp(cmd, "sandbox") == 0 && nargs == 1)
        return cmd_sandbox(argv[optind], state);
    fputs(USAGE, stderr);
    return EXIT_USAGE;
}
