#include "gw_policy.h"

#include <stdio.h>
#include <string.h>

/* The name as it may be shown: an analyst typed it, so anything outside the
 * config's name alphabet becomes '?' (no control characters or bidi
 * overrides reach a terminal or log), cut to GW_NAME_MAX bytes. */
static void sanitise_name(const char *name, char out[GW_NAME_MAX + 1])
{
    size_t i = 0;
    for (; name[i] && i < GW_NAME_MAX; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                  c == '.';
        out[i] = ok ? c : '?';
    }
    out[i] = '\0';
}

hearth_err_t gw_policy_resolve(const gw_config_t *cfg, const char *project,
                               const uint32_t *node_floors, size_t nfloors, gw_policy_t *out,
                               char **cause)
{
    memset(out, 0, sizeof *out);
    if (project != NULL && *project != '\0') {
        const gw_project_t *p = gw_config_project(cfg, project);
        if (p == NULL) {
            char shown[GW_NAME_MAX + 1];
            sanitise_name(project, shown);
            hearth_cause_set(cause, "no such project '%s'", shown);
            return HEARTH_ERR_REFUSED;
        }
        /* gw_config filled the project's fields from [disclosure] where the
         * section is silent, and refused anything looser. */
        out->sdc = p->disclosure;
        out->dominance = p->dominance;
        strcpy(out->project, p->name);
        strcpy(out->dp_epsilon, p->dp_epsilon);
        strcpy(out->dp_budget, p->dp_budget);
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
