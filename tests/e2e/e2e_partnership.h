/* e2e_partnership — a partnership an end-to-end test runs itself, from the
 * state folder `hearth sandbox` leaves behind (keys, ingested nodes,
 * configs, the project "sandbox"), so that the test can change a config,
 * run a test build of the gateway, or stop and restart it.
 *
 * Compiled into every end-to-end test binary; failures are criterion
 * assertions (these helpers run only inside tests). */
#ifndef E2E_PARTNERSHIP_H
#define E2E_PARTNERSHIP_H

#include "e2e_util.h"

#include <stdbool.h>
#include <stddef.h>

#define E2E_PARTNERSHIP_MAX_NODES 8
#define E2E_PARTNERSHIP_START_MS 60000u
#define E2E_PARTNERSHIP_STOP_MS 10000u

typedef struct {
    const char *state;            /* borrowed: the sandbox's state folder */
    const char *logs;             /* borrowed: where the processes' logs go */
    const char *const *nodes;     /* borrowed: the nodes' names */
    size_t nnodes;
    e2e_proc_t *gateway;
    e2e_proc_t *procs[E2E_PARTNERSHIP_MAX_NODES];
    char *client;                 /* owned: a client config for the running gateway */
    unsigned launches;
} e2e_partnership_t;

/* Runs `hearth sandbox data` until it is ready, then stops it: what it
 * leaves in data/.hearth is the partnership. Its log goes to log_path. */
void e2e_partnership_prepare(const char *data, const char *log_path);

/* Starts gateway_prog (a program in the build, e.g. hearth-gateway or the
 * test build hearth-gateway-test, with HEARTH_TEST_HOOK=hook unless hook is
 * NULL) with gateway_ini (NULL: STATE/gateway.ini), then every node with its
 * STATE/nodes/NAME/node.ini pointed at the gateway's port, and writes
 * p->client (STATE/client-e2e.ini). With wait, returns once `hearth status`
 * shows every node connected. */
void e2e_partnership_launch(e2e_partnership_t *p, const char *gateway_prog,
                            const char *gateway_ini, const char *hook, bool wait);

/* Stops the nodes and the gateway (those still running). */
void e2e_partnership_halt(e2e_partnership_t *p);

/* Halts and frees what p owns. */
void e2e_partnership_free(e2e_partnership_t *p);

/* text with the whole line that starts with key (at its start or after a
 * newline) replaced by key followed by value; asserts it is there. Caller
 * frees. */
char *e2e_partnership_set_line(const char *text, const char *key, const char *value);

/* Reads a text file (at most 16 MiB) / writes one; both assert. */
char *e2e_partnership_read(const char *path);
void e2e_partnership_write(const char *path, const char *text);

#endif
