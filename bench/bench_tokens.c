/* bench_tokens — single-thread token rate: keys_token_hmac over 16-byte
 * messages (the size `openssl speed -bytes 16` uses) for about two seconds
 * of CPU time, then prints one line:
 *
 *   hearth_tokens_per_sec <N>
 *   hearth_requery_per_sec <N>
 *
 * The second is keys_token_requery_many re-keying stored 32-byte tokens
 * under a per-query key two at a time (a person's NHS and date-of-birth
 * tokens), as a node does for every linked query; run-tokens.sh compares it
 * with `openssl speed -bytes 32`.
 *
 * CPU time rather than wall-clock time is the divisor, as openssl speed
 * does by default, so the two rates compare fairly on a busy machine.
 * bench/run-tokens.sh runs this beside openssl speed and prints the ratio.
 *
 * usage: bench_tokens [SECONDS]   (default 2, at most 60) */
#include "keys_token.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MSG_LEN 16
#define BATCH 65536 /* calls between clock reads, so reading it costs nothing */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    double seconds = 2.0;
    if (argc > 2 || (argc == 2 && ((seconds = atof(argv[1])) <= 0 || seconds > 60))) {
        fprintf(stderr, "usage: bench_tokens [SECONDS]   (0 < SECONDS <= 60)\n");
        return 2;
    }

    /* A fixed, obviously non-secret key: this measures speed only. */
    uint8_t key[KEYS_LINKAGE_KEY_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)i;
    keys_token_t *tk = keys_token_new(key);

    uint8_t msg[MSG_LEN] = "nhs:943476591900";
    uint8_t out[KEYS_TOKEN_LEN];
    uint8_t sink = 0;
    unsigned long long calls = 0;
    double start = cpu_seconds(), elapsed;
    do {
        for (unsigned i = 0; i < BATCH; i++) {
            /* Vary the message and keep every output live so the compiler
             * cannot hoist or drop the work. */
            memcpy(msg + MSG_LEN - sizeof i, &i, sizeof i);
            keys_token_hmac(tk, msg, sizeof msg, out);
            sink ^= out[0];
        }
        calls += BATCH;
        elapsed = cpu_seconds() - start;
    } while (elapsed < seconds);
    printf("hearth_tokens_per_sec %.0f\n", (double)calls / elapsed);
    /* On stderr, so the result lines stay alone on stdout. */
    fprintf(stderr, "bench_tokens: %llu tokens in %.2f s of CPU (check byte %02x)\n",
            calls, elapsed, sink);

    keys_token_t *q = keys_token_for_query(tk, "bench");
    static uint8_t stored[BATCH * 2][KEYS_TOKEN_LEN], rekeyed[BATCH * 2][KEYS_QUERY_TOKEN_LEN];
    for (size_t i = 0; i < BATCH * 2; i++)
        for (size_t k = 0; k < KEYS_TOKEN_LEN; k++)
            stored[i][k] = (uint8_t)(i * 31 + k);
    calls = 0;
    start = cpu_seconds();
    do {
        for (unsigned i = 0; i < BATCH; i++) {
            keys_token_requery_many(q, stored[2 * i], 2, rekeyed[2 * i]);
            sink ^= rekeyed[2 * i][0];
        }
        calls += 2 * BATCH;
        elapsed = cpu_seconds() - start;
    } while (elapsed < seconds);
    keys_token_destroy(&q);
    keys_token_destroy(&tk);
    printf("hearth_requery_per_sec %.0f\n", (double)calls / elapsed);
    fprintf(stderr, "bench_tokens: %llu re-keyed in %.2f s of CPU (check byte %02x)\n",
            calls, elapsed, sink);
    return 0;
}
