/* bench_load — gateway throughput for small count queries with the audit
 * log on: THREADS connections (one analyst key) each ask QUERIES/THREADS
 * questions back to back through a running gateway, so up to THREADS are
 * in flight at once. Prints queries per second and latency percentiles.
 *
 *   bench_load CLIENT_CONFIG QUERIES THREADS SQL
 *
 * Every question must be released (exit 1 otherwise), so nothing refused
 * or failed is counted as throughput. Used by bench/run-audit.sh. */
#include "client_config.h"
#include "client_rpc.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "proto_codec.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS 256

typedef struct {
    const client_config_t *cfg;
    const char *sql;
    size_t n;
    double *ms;          /* n latencies */
    size_t released;
    char *failure;
} worker_t;

static void *work(void *arg)
{
    worker_t *w = arg;
    client_rpc_t *rpc = NULL;
    char *cause = NULL;
    if (client_rpc_open(w->cfg, &rpc, &cause) != HEARTH_OK) {
        w->failure = cause;
        return NULL;
    }
    for (size_t i = 0; i < w->n; i++) {
        Hearth__QueryRequest q = HEARTH__QUERY_REQUEST__INIT;
        q.sql = (char *)w->sql;
        q.project = w->cfg->project;
        Hearth__Envelope env = HEARTH__ENVELOPE__INIT;
        env.body_case = HEARTH__ENVELOPE__BODY_QUERY;
        env.query = &q;
        Hearth__Envelope *reply = NULL;
        uint64_t t0 = hearth_now_ms();
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        hearth_err_t rc = client_rpc_call(rpc, &env, 60000, &reply, &cause);
        clock_gettime(CLOCK_MONOTONIC, &b);
        (void)t0;
        w->ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
        if (rc == HEARTH_OK && reply->body_case == HEARTH__ENVELOPE__BODY_RESULT &&
            reply->result->status == HEARTH__QUERY_STATUS__STATUS_RELEASED) {
            w->released++;
        } else if (w->failure == NULL) {
            w->failure = hearth_asprintf("%s", rc != HEARTH_OK ? (cause ? cause : "no reply")
                                         : reply->body_case == HEARTH__ENVELOPE__BODY_RESULT
                                             ? reply->result->reason : "unexpected reply");
        }
        proto_free(&reply);
        free(cause);
        cause = NULL;
    }
    client_rpc_destroy(&rpc);
    return NULL;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: bench_load CLIENT_CONFIG QUERIES THREADS SQL\n");
        return 2;
    }
    size_t total = strtoul(argv[2], NULL, 10), threads = strtoul(argv[3], NULL, 10);
    if (total == 0 || threads == 0 || threads > MAX_THREADS || threads > total) {
        fprintf(stderr, "bench_load: need 1 <= THREADS <= %d and THREADS <= QUERIES\n",
                MAX_THREADS);
        return 2;
    }
    client_config_t *cfg = NULL;
    char *cause = NULL;
    if (client_config_load(argv[1], &cfg, &cause) != HEARTH_OK) {
        fprintf(stderr, "bench_load: %s\n", cause);
        free(cause);
        return 1;
    }
    worker_t w[MAX_THREADS];
    pthread_t t[MAX_THREADS];
    double *ms = hearth_calloc(total, sizeof *ms);
    size_t at = 0;
    for (size_t i = 0; i < threads; i++) {
        size_t n = total / threads + (i < total % threads);
        w[i] = (worker_t){.cfg = cfg, .sql = argv[4], .n = n, .ms = ms + at};
        at += n;
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (size_t i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, work, &w[i]);
    size_t released = 0;
    int status = 0;
    for (size_t i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        released += w[i].released;
        if (w[i].failure) {
            fprintf(stderr, "bench_load: %s\n", w[i].failure);
            free(w[i].failure);
            status = 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    qsort(ms, total, sizeof *ms, cmp);
    printf("queries=%zu released=%zu threads=%zu seconds=%.3f qps=%.1f p50_ms=%.2f "
           "p90_ms=%.2f p99_ms=%.2f\n", total, released, threads, secs, (double)released / secs,
           ms[total / 2], ms[(total * 9) / 10], ms[(total * 99) / 100]);
    free(ms);
    client_config_destroy(&cfg);
    return status;
}
