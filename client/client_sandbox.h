/* client_sandbox — `hearth sandbox DIR`: a whole partnership on one machine
 * from a folder of extracts laid out as DIR/<node>/<dataset>.csv.
 *
 * It makes keys and configs in a state folder (default DIR/.hearth),
 * ingests each CSV into its node (a fresh node database each run), starts
 * one gateway and one node per sub-folder on free loopback ports, waits
 * until every node has announced itself, prints one line
 * HEARTH_CLIENT_CONFIG=<path> on standard output, and stays in the
 * foreground until SIGINT or SIGTERM, when it stops everything it started.
 * Progress and ingest reports go to standard error; process logs to
 * <state>/logs/. */
#ifndef CLIENT_SANDBOX_H
#define CLIENT_SANDBOX_H

#include "hearth_err.h"

#include <signal.h>

typedef struct {
    const char *dir;          /* the extracts folder */
    const char *state;        /* NULL: DIR/.hearth */
    unsigned ready_timeout_s; /* how long nodes may take to connect */
} client_sandbox_options_t;

/* Runs the sandbox until *stop becomes non-zero (set by a signal handler)
 * or a process it started dies. Returns HEARTH_OK after a clean stop. */
hearth_err_t client_sandbox_run(const client_sandbox_options_t *opt,
                                volatile sig_atomic_t *stop, char **cause)
    __attribute__((warn_unused_result));

#endif
