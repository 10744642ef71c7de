/* gw_rate — [disclosure] max_queries_per_hour: how many questions each
 * analyst has had answered in the last hour, kept in memory (a restart
 * forgets it; see docs/threat-model.md). */
#ifndef GW_RATE_H
#define GW_RATE_H

#include "gw_config.h"

#include <stdbool.h>
#include <stdint.h>

/* The window of max_queries_per_hour. */
#define GW_RATE_WINDOW_MS ((uint64_t)60 * 60 * 1000)

typedef struct gw_rate_t gw_rate_t;

/* A limiter for cfg's analysts and limit (cfg borrowed; it outlives the
 * limiter). Free with gw_rate_destroy. */
gw_rate_t *gw_rate_new(const gw_config_t *cfg);
void gw_rate_destroy(gw_rate_t **self_p);

/* Whether the analyst called name may ask another question at now (ms on
 * any monotonic clock). Always true without a limit. */
bool gw_rate_allows(gw_rate_t *self, const char *name, uint64_t now);

/* Counts a question of name's accepted at now. Called only after
 * gw_rate_allows said yes, in the same turn, so no ring outgrows the
 * limit. */
void gw_rate_record(gw_rate_t *self, const char *name, uint64_t now);

#endif
