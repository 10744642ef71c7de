/* bench_audit — what the audit log costs one query, in the gateway's own
 * code: the five leaves of a small released query (received, accepted,
 * dispatched, receipt, released), appended to a gw_audit log in a
 * gateway database, one signed checkpoint, and a durable commit (WAL,
 * synchronous=FULL), against the same database committing one row of the
 * same bytes per transaction (the least any durable log could do).
 *
 *   bench_audit DIR [QUERIES]
 *
 * DIR must be empty or absent (a database and a signing key are made
 * there). Prints microseconds per query for both, and per query in
 * batches of 16 (group commit). Used by bench/run-audit.sh. */
#include "audit_event.h"
#include "gw_audit.h"
#include "gw_store.h"
#include "hearth_mem.h"
#include "keys_sign.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, char *cause)
{
    fprintf(stderr, "bench_audit: %s: %s\n", what, cause ? cause : "failed");
    free(cause);
    exit(1);
}

/* One query's five events, as the gateway writes them. */
static void append_query(gw_audit_t *audit, size_t q)
{
    char id[33];
    snprintf(id, sizeof id, "%032zx", q);
    char *cause = NULL;
    gw_audit_index_t ix = {.qtime_ms = 1700000000000u + q, .project = "sandbox",
                           .analyst = "alice", .query_id = id};
    audit_event_t ev[5];
    memset(ev, 0, sizeof ev);
    ev[0] = (audit_event_t){.type = AUDIT_RECEIVED, .query_id = id, .analyst = "alice",
                            .analyst_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7",
                            .project = "sandbox",
                            .text = "SELECT age_band, COUNT(*) FROM trust.ae_attendances "
                                    "GROUP BY age_band"};
    ev[1] = (audit_event_t){.type = AUDIT_ACCEPTED, .query_id = id, .project = "sandbox",
                            .text = "threshold 7, rounding 5, zeros released, protection 3, "
                                    "dominance off",
                            .dataset = "trust.ae_attendances"};
    ev[2] = (audit_event_t){.type = AUDIT_DISPATCHED, .query_id = id, .project = "sandbox",
                            .node = "trust", .dataset = "trust.ae_attendances",
                            .kind = "aggregate", .part = 0, .nparts = 1};
    ev[3] = (audit_event_t){.type = AUDIT_RECEIPT, .query_id = id, .node = "trust",
                            .leaf = 0, .outcome = "answered",
                            .text = "hearth-receipt v1\nnode trust\nquery 0\npart 0/1\nleaf "
                                    "0\ncheckpoint 1 AAAA\noutcome answered\n\n\xe2\x80\x94 "
                                    "trust AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
                                    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"};
    ev[4] = (audit_event_t){.type = AUDIT_RELEASED, .query_id = id, .released = 7,
                            .suppressed = 1,
                            .text = "threshold 7, rounding 5, zeros released, protection 3, "
                                    "dominance off"};
    for (int i = 0; i < 5; i++) {
        ev[i].time_ms = ix.qtime_ms;
        if (gw_audit_append(audit, &ev[i], &ix, NULL, &cause) != HEARTH_OK)
            die("append", cause);
    }
}

/* Microseconds per query when `batch` queries share one transaction. */
static double run_audit(gw_store_t *store, gw_audit_t *audit, size_t queries, size_t batch)
{
    char *cause = NULL;
    double t0 = now_us();
    for (size_t q = 0; q < queries; q += batch) {
        if (gw_store_begin(store, &cause) != HEARTH_OK || gw_audit_sync(audit, &cause) != HEARTH_OK)
            die("begin", cause);
        for (size_t k = 0; k < batch && q + k < queries; k++)
            append_query(audit, q + k);
        char *note = NULL;
        if (gw_audit_checkpoint(audit, &note, &cause) != HEARTH_OK)
            die("checkpoint", cause);
        free(note);
        if (gw_store_commit(store, &cause) != HEARTH_OK)
            die("commit", cause);
    }
    return (now_us() - t0) / (double)queries;
}

/* Microseconds per durable commit of one ~1 KB row on the same file. */
static double run_baseline(gw_store_t *store, size_t n)
{
    sqlite3 *db = gw_store_db(store);
    if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS baseline(i INTEGER PRIMARY KEY, v BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK)
        die("baseline table", NULL);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "INSERT INTO baseline(v) VALUES (randomblob(1068))", -1, &st,
                           NULL) != SQLITE_OK)
        die("baseline statement", NULL);
    double t0 = now_us();
    for (size_t i = 0; i < n; i++) {
        if (sqlite3_step(st) != SQLITE_DONE)
            die("baseline insert", NULL);
        sqlite3_reset(st);
    }
    double us = (now_us() - t0) / (double)n;
    sqlite3_finalize(st);
    return us;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_audit DIR [QUERIES]\n");
        return 2;
    }
    size_t queries = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000;
    mkdir(argv[1], 0700);
    char path[4096];
    char *cause = NULL;
    snprintf(path, sizeof path, "%s/audit", argv[1]);
    if (keys_sign_generate(path, "bench-gateway", &cause) != HEARTH_OK)
        die("key", cause);
    snprintf(path, sizeof path, "%s/audit.signer", argv[1]);
    keys_signer_t *signer = NULL;
    if (keys_signer_load(path, &signer, &cause) != HEARTH_OK)
        die("key", cause);
    snprintf(path, sizeof path, "%s/gateway.db", argv[1]);
    gw_store_t *store = NULL;
    gw_audit_t *audit = NULL;
    if (gw_store_open(path, &store, &cause) != HEARTH_OK ||
        gw_audit_open(store, signer, &audit, &cause) != HEARTH_OK)
        die("database", cause);
    double base = run_baseline(store, queries);
    double one = run_audit(store, audit, queries, 1);
    double grouped = run_audit(store, audit, queries, 16);
    printf("durable commit of one 1068-byte row: %.1f us\n", base);
    printf("audit of one query (5 leaves, checkpoint, commit): %.1f us = %.2fx one commit\n",
           one, one / base);
    printf("audit per query, 16 queries per commit: %.1f us = %.2fx one commit\n", grouped,
           grouped / base);
    gw_audit_destroy(&audit);
    gw_store_destroy(&store);
    keys_signer_destroy(&signer);
    return 0;
}
