/* hearth-node: a partner's node. `ingest` loads a CSV extract (identifiers
 * become tokens and are dropped); `serve` connects out to the gateway and
 * answers sub-queries with aggregates, or for a linked query with the
 * matching persons as tokens re-keyed for that query alone, each only
 * after verifying the gateway logged it; `datasets` lists what is loaded;
 * `receipts` exports the receipts the node signed, for `hearth audit
 * reconcile`. */
#include "hearth_base64.h"
#include "hearth_err.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "hearth_log.h"
#include "keys_file.h"
#include "keys_token.h"
#include "node_config.h"
#include "node_ingest.h"
#include "node_ledger.h"
#include "node_schema.h"
#include "node_serve.h"
#include "node_store.h"

#include <getopt.h>
#include <openssl/crypto.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_ERROR = 1, EXIT_USAGE = 2 };

static const char USAGE[] =
    "usage: hearth-node ingest --config node.ini [--strict] [--schema FILE.ini] DATASET "
    "FILE.csv\n"
    "       hearth-node serve --config node.ini\n"
    "       hearth-node datasets --config node.ini\n"
    "       hearth-node receipts --config node.ini\n"
    "       hearth-node audit-reset --config node.ini --reason TEXT\n"
    "\n"
    "  ingest    load a CSV extract as DATASET (replacing any earlier version);\n"
    "            identifiers become keyed tokens and are never stored\n"
    "  serve     connect to the gateway and answer sub-queries (each query id at\n"
    "            most once, only when the gateway's audit log holds it, and only\n"
    "            for projects approved in [projects]; the ledger file records\n"
    "            every one, and the receipt the node signed for it)\n"
    "  datasets  list the datasets this node holds\n"
    "  receipts  print every receipt this node signed, oldest first, one a line\n"
    "            (base64 of the signed note), for `hearth audit reconcile`\n"
    "  audit-reset  forget the gateway audit checkpoint this node holds, so that\n"
    "            it accepts a gateway whose log was lost and started afresh; the\n"
    "            ledger records when, what was forgotten and --reason. Stop the\n"
    "            node first; agree it with the IG officer (docs/data-manager.md)\n"
    "\n"
    "  --config FILE  the node's configuration (see docs/data-manager.md)\n"
    "  --reason TEXT  with audit-reset: why (recorded in the ledger)\n"
    "  --strict       with ingest: store nothing if any row is rejected\n"
    "  --schema FILE  with ingest: the schema file that types, renames or excludes\n"
    "                 columns; without it, FILE.schema.ini beside FILE.csv is used\n"
    "                 if it exists\n";

/* The only process-wide state: written by the signal handler, read by the
 * serve loop. A signal handler can reach nothing else. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static int fail(const char *cause, hearth_err_t rc)
{
    fprintf(stderr, "hearth-node: %s\n", cause ? cause : hearth_strerror(rc));
    return rc == HEARTH_ERR_USAGE ? EXIT_USAGE : EXIT_ERROR;
}

static int cmd_ingest(const node_config_t *cfg, bool strict, const char *schema_path,
                      const char *dataset, const char *file)
{
    char *cause = NULL;
    char *sidecar = NULL;
    node_schema_t *schema = NULL;
    node_store_t *store = NULL;
    keys_token_t *tok = NULL;
    node_ingest_report_t *report = NULL;
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    char key_id[KEYS_KEY_ID_LEN + 1];
    int status = EXIT_ERROR;
    hearth_err_t rc;
    if (!node_config_name_valid(dataset)) {
        fprintf(stderr, "hearth-node: dataset name must be 1-63 of a-z, 0-9 and _, "
                        "starting with a letter\n");
        return EXIT_USAGE;
    }
    /* A schema beside the extract goes with it, unless one is named. */
    if (schema_path == NULL)
        schema_path = sidecar = node_schema_sidecar(file);
    if (schema_path && (rc = node_schema_load(schema_path, &schema, &cause)) != HEARTH_OK)
        goto done;
    if ((rc = keys_linkage_load(cfg->linkage_key, key, &cause)) != HEARTH_OK)
        goto done;
    keys_key_id(key, key_id);
    tok = keys_token_new(key);
    OPENSSL_cleanse(key, sizeof key);
    if ((rc = node_store_open(cfg->database, &store, &cause)) != HEARTH_OK)
        goto done;
    node_ingest_options_t opt = {.strict = strict, .schema = schema};
    rc = node_ingest_run(store, tok, key_id, dataset, file, &opt, &report, &cause);
    if (report) {
        char *text = node_ingest_report_format(report);
        fputs(text, stdout);
        free(text);
    }
    if (rc == HEARTH_OK) {
        printf("stored %s.%s\n", cfg->name, dataset);
        status = EXIT_OK;
    }
done:
    if (rc != HEARTH_OK)
        status = fail(cause, rc);
    free(cause);
    node_ingest_report_destroy(&report);
    node_schema_destroy(&schema);
    free(sidecar);
    keys_token_destroy(&tok);
    node_store_destroy(&store);
    return status;
}

static int cmd_serve(const node_config_t *cfg)
{
    hearth_catch_stop_signals(on_signal);
    char *cause = NULL;
    hearth_err_t rc = node_serve_run(cfg, &stop_requested, &cause);
    int status = rc == HEARTH_OK ? EXIT_OK : fail(cause, rc);
    free(cause);
    return status;
}

static int cmd_datasets(const node_config_t *cfg)
{
    char *cause = NULL;
    node_store_t *store = NULL;
    hearth_err_t rc = node_store_open(cfg->database, &store, &cause);
    if (rc != HEARTH_OK) {
        int s = fail(cause, rc);
        free(cause);
        return s;
    }
    for (size_t i = 0; i < node_store_ndatasets(store); i++) {
        const node_store_dataset_t *d = node_store_dataset(store, i);
        printf("%s.%s: %lld rows, %lld persons; columns:", cfg->name, d->name,
               (long long)d->rows, (long long)d->persons);
        for (size_t c = 0; c < d->ncolumns; c++)
            printf("%s %s (%s)", c ? "," : "", d->columns[c].name,
                   node_schema_type_name(d->columns[c].type));
        printf("\n");
    }
    node_store_destroy(&store);
    return EXIT_OK;
}

static hearth_err_t print_receipt(void *user, const node_ledger_receipt_t *r, char **cause)
{
    (void)user;
    size_t len = strlen(r->note);
    char *text = hearth_malloc(HEARTH_BASE64_LEN(len) + 1);
    hearth_base64_encode((const uint8_t *)r->note, len, text);
    int n = printf("%s\n", text);
    free(text);
    if (n < 0) {
        hearth_cause_set(cause, "cannot write to standard output");
        return HEARTH_ERR_IO;
    }
    return HEARTH_OK;
}

static int cmd_receipts(const node_config_t *cfg)
{
    /* Opening would create an empty ledger: a wrong path must not look
     * like a node that signed nothing. */
    if (access(cfg->ledger, F_OK) != 0) {
        fprintf(stderr, "hearth-node: no ledger at '%s' (the node has not served yet, or "
                "[node] ledger names another file)\n", cfg->ledger);
        return EXIT_ERROR;
    }
    char *cause = NULL;
    node_ledger_t *ledger = NULL;
    hearth_err_t rc = node_ledger_open(cfg->ledger, &ledger, &cause);
    if (rc == HEARTH_OK)
        rc = node_ledger_receipts(ledger, print_receipt, NULL, &cause);
    if (rc == HEARTH_OK && fflush(stdout) != 0) {
        hearth_cause_set(&cause, "cannot write to standard output");
        rc = HEARTH_ERR_IO;
    }
    int status = rc == HEARTH_OK ? EXIT_OK : fail(cause, rc);
    free(cause);
    node_ledger_destroy(&ledger);
    return status;
}

/* The longest --reason kept in the ledger. */
#define RESET_REASON_MAX 1024

static int cmd_audit_reset(const node_config_t *cfg, const char *reason)
{
    size_t len = reason ? strlen(reason) : 0;
    bool printable = len > 0 && len <= RESET_REASON_MAX;
    for (size_t i = 0; printable && i < len; i++)
        printable = (unsigned char)reason[i] >= 0x20 && reason[i] != 0x7f;
    if (!printable) {
        fprintf(stderr, "hearth-node: audit-reset needs --reason: 1 to %d printable "
                "characters on one line\n", RESET_REASON_MAX);
        return EXIT_USAGE;
    }
    if (access(cfg->ledger, F_OK) != 0) {
        fprintf(stderr, "hearth-node: no ledger at '%s': there is no checkpoint to forget\n",
                cfg->ledger);
        return EXIT_ERROR;
    }
    char *cause = NULL;
    node_ledger_t *ledger = NULL;
    uint64_t forgot = 0;
    hearth_err_t rc = node_ledger_open(cfg->ledger, &ledger, &cause);
    if (rc == HEARTH_OK) {
        rc = node_ledger_reset_checkpoint(ledger, reason, hearth_wall_ms(), &forgot, &cause);
    }
    int status = rc == HEARTH_OK ? EXIT_OK : fail(cause, rc);
    if (rc == HEARTH_OK)
        printf("forgot the gateway audit checkpoint of %llu leaves; the next dispatch's "
               "log is accepted as it comes\n", (unsigned long long)forgot);
    free(cause);
    node_ledger_destroy(&ledger);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(USAGE, argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *cmd = argv[1];
    const char *config = NULL, *schema = NULL, *reason = NULL;
    bool strict = false;
    static const struct option opts[] = {{"config", required_argument, NULL, 'c'},
                                         {"strict", no_argument, NULL, 's'},
                                         {"schema", required_argument, NULL, 'S'},
                                         {"reason", required_argument, NULL, 'r'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c;
    optind = 2;
    while ((c = getopt_long(argc, argv, "c:sh", opts, NULL)) != -1) {
        switch (c) {
        case 'c': config = optarg; break;
        case 's': strict = true; break;
        case 'S': schema = optarg; break;
        case 'r': reason = optarg; break;
        case 'h': fputs(USAGE, stdout); return EXIT_OK;
        default: fputs(USAGE, stderr); return EXIT_USAGE;
        }
    }
    int nargs = argc - optind;
    bool ingest = strcmp(cmd, "ingest") == 0;
    bool reset = strcmp(cmd, "audit-reset") == 0;
    if ((!ingest && !reset && strcmp(cmd, "serve") != 0 && strcmp(cmd, "datasets") != 0 &&
         strcmp(cmd, "receipts") != 0) ||
        config == NULL || nargs != (ingest ? 2 : 0) || ((strict || schema) && !ingest) ||
        (reason && !reset)) {
        fputs(USAGE, stderr);
        return EXIT_USAGE;
    }
    char *cause = NULL;
    node_config_t *cfg = NULL;
    hearth_err_t rc = node_config_load(config, &cfg, &cause);
    if (rc != HEARTH_OK) {
        int s = fail(cause, rc);
        free(cause);
        return s;
    }
    int status = ingest ? cmd_ingest(cfg, strict, schema, argv[optind], argv[optind + 1])
               : strcmp(cmd, "serve") == 0 ? cmd_serve(cfg)
               : strcmp(cmd, "receipts") == 0 ? cmd_receipts(cfg)
               : reset ? cmd_audit_reset(cfg, reason) : cmd_datasets(cfg);
    node_config_destroy(&cfg);
    return status;
}
