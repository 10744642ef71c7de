/* gw_serve — the gateway's event loop: one ROUTER for nodes and one for
 * analysts, both CurveZMQ servers behind the ZAP handler. An analyst's query
 * is parsed, planned, sent to the nodes that hold its datasets, and answered
 * once every node has replied or the node timeout has passed, under the
 * rules resolved for it (gw_policy: the gateway's, the project's and the
 * nodes' floors) and an analyst's hourly limit. One thread; queries in
 * flight are kept in a table, so a slow node never blocks another analyst. */
#ifndef GW_SERVE_H
#define GW_SERVE_H

#include "gw_config.h"
#include "hearth_err.h"

#include <signal.h>

/* Runs until *stop becomes non-zero or a fatal error. Refuses to start when
 * the authentication handler cannot run or the gateway's database
 * (cfg->database: privacy budgets, the record of released tables) cannot be
 * opened. Logs one line per event to
 * standard error; never a count, token or value from the data. */
hearth_err_t gw_serve_run(const gw_config_t *cfg, volatile sig_atomic_t *stop, char **cause)
    __attribute__((warn_unused_result));

#endif
