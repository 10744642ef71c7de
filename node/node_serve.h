/* node_serve — the node's long-running side: connects out to the gateway
 * (so no partner opens an inbound port), over CurveZMQ with the gateway's
 * public key pinned, announces its datasets, and answers sub-queries with
 * aggregates until told to stop. */
#ifndef NODE_SERVE_H
#define NODE_SERVE_H

#include "hearth_err.h"
#include "node_config.h"

#include <signal.h>

/* Runs until *stop becomes non-zero (set from a signal handler) or a fatal
 * error. Returns HEARTH_OK after a clean stop. Logs one line per event to
 * standard error, never a value from the data. */
hearth_err_t node_serve_run(const node_config_t *cfg, volatile sig_atomic_t *stop,
                            char **cause) __attribute__((warn_unused_result));

#endif
