#include "gw_policy.h"

#include <stdio.h>
#include <string.h>

/* The least common multiple of two roundings (a of 0 counts as 1): the
 * coarsest of the two that is still a multiple of both. */
static uint32_t lcm(uint32_t a, uint32_t b)
{
    if (a == 0)
        a = 1;
    uint32_t x = a, y = b;
    while (y != 0) {
        uint32_t t = x % y;
        x = y;
        y = t;
    }
    return (uint32_t)((uint64_t)a / x * b);
}

hearth_err_t gw_policy_resolve(const gw_config_t *cfg, const char *project_name,
                               const gw_project_policy_t *project, const uint32_t *node_floors,
                               size_t nfloors, gw_policy_t *out, char **cause)
{
    (void)cause;
    memset(out, 0, sizeof *out);
    if (project_name != NULL)
        snprintf(out->project, sizeof out->project, "%s", project_name);
    if (project != NULL) {
        /* gw_project refused anything looser than [disclosure] when the
         * project was added, but [disclosure] may have been made stricter
         * since: a project's stored rules never make a query looser than
         * the gateway's rules of today, so each is raised to them. */
        out->sdc = project->disclosure;
        out->dominance = project->dominance;
        const gw_sdc_policy_t *base = &cfg->disclosure;
        if (base->rounding > 0 && (out->sdc.rounding < base->rounding ||
                                   out->sdc.rounding % base->rounding != 0))
            out->sdc.rounding = lcm(out->sdc.rounding, base->rounding);
        if (out->sdc.protection < base->protection)
            out->sdc.protection = base->protection;
        out->sdc.zeros_disclosive = out->sdc.zeros_disclosive || base->zeros_disclosive;
        if (!gw_config_dominance_at_least(&out->dominance, &cfg->dominance))
            out->dominance = cfg->dominance;
        snprintf(out->dp_epsilon, sizeof out->dp_epsilon, "%s", project->dp_epsilon);
        snprintf(out->dp_budget, sizeof out->dp_budget, "%s", project->dp_budget);
    } else {
        out->sdc = cfg->disclosure;
        out->dominance = cfg->dominance;
    }
    if (out->sdc.threshold < cfg->disclosure.threshold)
        out->sdc.threshold = cfg->disclosure.threshold;
    for (size_t i = 0; i < nfloors; i++)
        if (node_floors[i] > out->sdc.threshold)
            out->sdc.threshold = node_floors[i];
    return HEARTH_OK;
}

bool gw_policy_dominated(const gw_policy_t *policy, double cell_abs_sum, const double *top,
                         size_t ntop)
{
    const gw_dominance_t *d = &policy->dominance;
    double t1 = ntop > 0 ? top[0] : 0, t2 = ntop > 1 ? top[1] : 0;
    switch (d->kind) {
    case GW_DOMINANCE_OFF:
        return false;
    case GW_DOMINANCE_P:
        /* What the second-largest contributor learns of the largest: the
         * rest of the cell must hide it to within p%. */
        return 100.0 * (cell_abs_sum - t1 - t2) < (double)d->p * t1;
    case GW_DOMINANCE_NK: {
        double sum_n = 0;
        for (size_t i = 0; i < d->n && i < ntop; i++)
            sum_n += top[i];
        return 100.0 * sum_n > (double)d->k * cell_abs_sum;
    }
    }
    return false;
}

void gw_policy_describe_dominance(const gw_policy_t *policy,
                                  char out[GW_POLICY_DOMINANCE_TEXT_MAX])
{
    const gw_dominance_t *d = &policy->dominance;
    switch (d->kind) {
    case GW_DOMINANCE_P:
        snprintf(out, GW_POLICY_DOMINANCE_TEXT_MAX, "p%% %u", d->p);
        return;
    case GW_DOMINANCE_NK:
        snprintf(out, GW_POLICY_DOMINANCE_TEXT_MAX, "n,k %u %u", d->n, d->k);
        return;
    case GW_DOMINANCE_OFF:
        break;
    }
    out[0] = '\0';
}
