/* gw_policy — the disclosure rules that apply to one query.
 *
 * The gateway's [disclosure] rules, a project's (which gw_project checked
 * were only stricter when the project was added), and the floors of the nodes the query touches
 * are combined here into one value, so that every later step (gw_sdc, the
 * dominance rule, differencing, DP, the JSON `disclosure` section) reads the
 * same rules: the threshold is the highest of the three; every other setting
 * comes from the project when there is one, else from the gateway. */
#ifndef GW_POLICY_H
#define GW_POLICY_H

#include "gw_config.h"
#include "gw_sdc.h"
#include "hearth_err.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Room for gw_policy_describe_dominance's text, NUL included ("n,k 3 99"). */
#define GW_POLICY_DOMINANCE_TEXT_MAX 32

/* The rules for one query; a plain value, owning nothing. */
typedef struct {
    gw_sdc_policy_t sdc;          /* threshold, rounding, zeros, protection */
    gw_dominance_t dominance;     /* for SUM and MEAN cells */
    char project[GW_NAME_MAX + 1];   /* "" when the query names no project */
    /* The project's DP settings as written when it was added ("1/2"), for
     * gw_dp to parse; both "" when no noise is added. */
    char dp_epsilon[GW_CONFIG_DP_TEXT_MAX + 1];
    char dp_budget[GW_CONFIG_DP_TEXT_MAX + 1];
} gw_policy_t;

/* Fills *out with the rules for a query of project_name (borrowed; NULL or
 * "" for none; copied into out->project, cut to GW_NAME_MAX bytes) under
 * the project's rules project (borrowed; NULL: the gateway's own
 * [disclosure] rules, no DP), touching nodes whose floors are
 * node_floors[0..nfloors) (borrowed; may be NULL when nfloors is 0; a
 * floor of 0 sets none). The threshold is the highest of the gateway's,
 * the project's and every floor; the rest is the project's, or the
 * gateway's when project is NULL. A project's rules never come out looser
 * than [disclosure] as it is now (it may have been made stricter since the
 * project was added): rounding becomes the least common multiple of the
 * two, protection the higher, zeros disclosive when either says so, and a
 * dominance rule not at least [disclosure]'s is replaced by it. Whether the project exists and may be
 * asked is gw_project's business, decided before this. Returns HEARTH_OK
 * (cause is kept for future refusals and is not set today). */
hearth_err_t gw_policy_resolve(const gw_config_t *cfg, const char *project_name,
                               const gw_project_policy_t *project, const uint32_t *node_floors,
                               size_t nfloors, gw_policy_t *out, char **cause)
    __attribute__((warn_unused_result));

/* True when policy's dominance rule hides a SUM or MEAN cell whose
 * per-person contributions have absolute values summing to cell_abs_sum,
 * the largest of them being top[0..ntop) in descending order (borrowed; a
 * missing one counts as 0):
 *   p%:    cell_abs_sum - top[0] - top[1] < p/100 * top[0];
 *   (n,k): top[0] + .. + top[n-1] > k/100 * cell_abs_sum;
 *   off:   never.
 * The comparisons are made as 100 * left against p * right (or k * ...), so
 * integral inputs are compared exactly. */
bool gw_policy_dominated(const gw_policy_t *policy, double cell_abs_sum, const double *top,
                         size_t ntop);

/* Writes policy's dominance rule for the JSON `disclosure` section into
 * out: "" (off), "p% 10" or "n,k 2 85". */
void gw_policy_describe_dominance(const gw_policy_t *policy,
                                  char out[GW_POLICY_DOMINANCE_TEXT_MAX]);

#endif
