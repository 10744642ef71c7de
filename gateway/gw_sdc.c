#include "gw_sdc.h"

void gw_sdc_policy_default(gw_sdc_policy_t *p)
{
    p->threshold = GW_SDC_DEFAULT_THRESHOLD;
    p->rounding = GW_SDC_DEFAULT_ROUNDING;
}

uint64_t gw_sdc_round(uint64_t count, uint32_t base)
{
    if (base <= 1)
        return count;
    uint64_t down = count - count % base;
    uint64_t rem = count % base;
    /* rem < base <= UINT32_MAX, so doubling it cannot overflow. */
    if (rem * 2 < base)
        return down;
    if (down > UINT64_MAX - base)
        return down;
    return down + base;
}

static void cell_reset(gw_sdc_cell_t *cell)
{
    cell->suppressed = false;
    cell->secondary = false;
    cell->released = 0;
}

static bool is_small(const gw_sdc_policy_t *policy, const gw_sdc_cell_t *cell)
{
    return cell->count >= 1 && cell->count <= policy->threshold;
}

/* Rule 1: hide every small count, the total included. */
static void rule_primary(const gw_sdc_policy_t *policy, gw_sdc_cell_t *cells, size_t n,
                         gw_sdc_cell_t *total)
{
    for (size_t i = 0; i < n; i++)
        cells[i].suppressed = is_small(policy, &cells[i]);
    total->suppressed = is_small(policy, total);
}

/* Rule 2: a lone hidden cell beside a released total is the total minus the
 * rest, so hide one more cell — the smallest that still carries information
 * (a zero is released exactly and hiding it protects nothing) — or, if none
 * exists, the total. Two or more hidden cells already protect one another
 * against the total alone; margins over several dimensions are the concern
 * of the interval-based check that will replace this rule. */
static void rule_secondary(gw_sdc_cell_t *cells, size_t n, gw_sdc_cell_t *total)
{
    if (total->suppressed)
        return;
    size_t hidden = 0;
    for (size_t i = 0; i < n; i++)
        if (cells[i].suppressed)
            hidden++;
    if (hidden != 1)
        return;

    size_t pick = n;
    for (size_t i = 0; i < n; i++) {
        if (cells[i].suppressed || cells[i].count == 0)
            continue;
        /* Strictly smaller only, so a tie keeps the lowest index. */
        if (pick == n || cells[i].count < cells[pick].count)
            pick = i;
    }
    gw_sdc_cell_t *victim = pick < n ? &cells[pick] : total;
    victim->suppressed = true;
    victim->secondary = true;
}

/* Rule 3: round whatever is still released. */
static void rule_rounding(const gw_sdc_policy_t *policy, gw_sdc_cell_t *cells, size_t n,
                          gw_sdc_cell_t *total)
{
    for (size_t i = 0; i < n; i++)
        if (!cells[i].suppressed)
            cells[i].released = gw_sdc_round(cells[i].count, policy->rounding);
    if (!total->suppressed)
        total->released = gw_sdc_round(total->count, policy->rounding);
}

size_t gw_sdc_apply(const gw_sdc_policy_t *policy, gw_sdc_cell_t *cells, size_t n,
                    gw_sdc_cell_t *total)
{
    for (size_t i = 0; i < n; i++)
        cell_reset(&cells[i]);
    cell_reset(total);

    rule_primary(policy, cells, n, total);
    rule_secondary(cells, n, total);
    rule_rounding(policy, cells, n, total);

    size_t suppressed = total->suppressed ? 1 : 0;
    for (size_t i = 0; i < n; i++)
        if (cells[i].suppressed)
            suppressed++;
    return suppressed;
}
