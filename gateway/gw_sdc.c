#include "gw_sdc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gw_lp.h"
#include "hearth_mem.h"

/* An upper bound that nothing the analyst holds imposes. */
#define UNBOUNDED UINT64_MAX
#define NONE SIZE_MAX
/* A value the LP puts within this of an integer is that integer. */
#define SNAP_TOL 1e-6

void gw_sdc_policy_default(gw_sdc_policy_t *p)
{
    p->threshold = GW_SDC_DEFAULT_THRESHOLD;
    p->rounding = GW_SDC_DEFAULT_ROUNDING;
    p->zeros_disclosive = false;
    p->protection = GW_SDC_DEFAULT_PROTECTION;
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

/* ---- the analyst's knowledge ------------------------------------------- */

/* The policy as the check uses it. */
typedef struct {
    uint64_t threshold;
    uint32_t base;
    uint64_t protection; /* 0 (default) resolved and capped at threshold */
    bool zeros_disclosive;
} rules_t;

static rules_t rules_of(const gw_sdc_policy_t *policy)
{
    rules_t r = {.threshold = policy->threshold,
                 .base = policy->rounding,
                 .protection = policy->protection ? policy->protection : GW_SDC_DEFAULT_PROTECTION,
                 .zeros_disclosive = policy->zeros_disclosive};
    if (r.protection > r.threshold)
        r.protection = r.threshold;
    return r;
}

/* Hidden by primary suppression: a small count, or a zero when zeros are
 * disclosive. Margins follow the same rule (their own query's). */
static bool is_primary(const rules_t *r, uint64_t count)
{
    if (count == 0)
        return r->zeros_disclosive;
    return count <= r->threshold;
}

/* What the analyst knows of one count: lo <= x <= hi. */
typedef struct {
    uint64_t lo, hi;
} box_t;

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A released count: the values that round to what was released, of those
 * the policy releases (above threshold, or 0 when zeros are released). The
 * hull of that set, so a released 0 under a base large enough for counts
 * above threshold to round to 0 stands for the whole range. A count the
 * policy would have hidden (only in a caller's deliberately weak pattern)
 * gets its rounding interval alone. */
static box_t box_released(const rules_t *r, uint64_t count)
{
    uint64_t rel = gw_sdc_round(count, r->base);
    box_t round = {rel, rel};
    if (r->base > 1) {
        uint64_t down = r->base / 2, up = r->base - r->base / 2 - 1;
        round.lo = rel > down ? rel - down : 0;
        round.hi = sat_add(rel, up);
    }
    bool zero = !r->zeros_disclosive && round.lo == 0;
    uint64_t big_lo = round.lo > r->threshold ? round.lo : r->threshold + 1;
    bool big = r->threshold < UINT64_MAX && big_lo <= round.hi;
    box_t b;
    if (zero && big)
        b = (box_t){0, round.hi};
    else if (zero)
        b = (box_t){0, 0};
    else if (big)
        b = (box_t){big_lo, round.hi};
    else
        return round;
    if (count < b.lo || count > b.hi)
        return round;
    return b;
}

/* A hidden cell: never zero (secondary suppression picks non-zero cells)
 * unless zeros are disclosive — or the caller's pattern hides a zero. */
static box_t box_hidden(const rules_t *r, uint64_t count)
{
    return (box_t){(r->zeros_disclosive || count == 0) ? 0 : 1, UNBOUNDED};
}

/* How many values of 1..threshold [lo, hi] holds. */
static uint64_t protection_of(const rules_t *r, uint64_t lo, uint64_t hi)
{
    uint64_t a = lo > 1 ? lo : 1;
    uint64_t b = hi < r->threshold ? hi : r->threshold;
    return a <= b ? b - a + 1 : 0;
}

/* ---- the table as the analyst sees it ---------------------------------- */

enum { M_RELEASED, M_PRIMARY, M_SECONDARY };

/* GW_SDC_BRANCH_NODES bounds each branch and bound (see interval_end):
 * integer feasibility of a three-way table with given two-way margins is
 * NP-complete in general (Irving and Jerrum, 1994), so some budget is
 * needed; most searches end in one node. */
#define BRANCH_NODES GW_SDC_BRANCH_NODES
/* Witness values kept for the minimality pass, at most (see secondary). */
#define MAX_WITNESS_VALUES ((size_t)1 << 21)

/* The grid with its size-1 dimensions dropped (a margin over such a
 * dimension is the table itself), and every margin: for each set K of the
 * d kept dimensions other than all of them, one margin per combination of
 * K's values, summing the cells that share it. Margins are numbered lines
 * first (|K| = d - 1), then planes, and the grand total (K empty) last. */
typedef struct {
    rules_t rules;
    const gw_sdc_table_t *t; /* the table: counts and suppressed flags */
    gw_sdc_table_t *out;     /* the same table when partners may be marked, else NULL */
    size_t ncells;
    size_t d;
    size_t size[3], stride[3]; /* of the kept dimensions */
    size_t nmargins, per;      /* per: margins each cell is in, 2^d - 1 */
    size_t *member;            /* ncells x per margin numbers */
    uint64_t *msum;
    unsigned char *mstate;
    box_t *cbox;  /* per cell, for the current pattern */
    box_t *mbox;  /* per margin */
    bool stale;   /* the pattern changed since the boxes were made */
    uint64_t sum_lo, sum_hi; /* one dimension: the cells' boxes added up, */
    size_t open;             /* leaving out the unbounded ones */
    gw_lp_t *lp;  /* two or more kept dimensions */
    double *cost, *start;
    double *clo, *chi; /* the LP's column bounds as they stand */
    /* Witnesses: when wdst is set, the values at wpos[0..wn) of the points
     * proving each end of an interval go to wdst[0..wn) (lo) and
     * wdst[wn..2wn) (hi); wok says whether they could be had. Position
     * ncells stands for the grand total. */
    const size_t *wpos;
    size_t wn;
    double *wdst;
    bool wok;
    bool inexact; /* a branch and bound ran out of nodes */
} model_t;

static size_t grid_cells(const gw_sdc_table_t *t, bool *too_big)
{
    size_t n = 1;
    *too_big = t->ndims > 3;
    for (size_t k = 0; k < t->ndims && k < 3; k++) {
        if (t->size[k] == 0)
            return 0;
        if (n > GW_SDC_MAX_GRID / t->size[k]) {
            *too_big = true;
            return 0;
        }
        n *= t->size[k];
    }
    if (n > GW_SDC_MAX_GRID)
        *too_big = true;
    return n;
}

static size_t coord(const model_t *m, size_t g, size_t k)
{
    return g / m->stride[k] % m->size[k];
}

/* In how many kept dimensions cells a and b differ. */
static size_t distance(const model_t *m, size_t a, size_t b)
{
    size_t differ = 0;
    for (size_t k = 0; k < m->d; k++)
        differ += coord(m, a, k) != coord(m, b, k);
    return differ;
}

static size_t bits_set(size_t mask)
{
    size_t n = 0;
    for (; mask; mask >>= 1)
        n += mask & 1;
    return n;
}

static void model_init(model_t *m, const rules_t *rules, const gw_sdc_table_t *t,
                       gw_sdc_table_t *out, size_t ncells)
{
    memset(m, 0, sizeof *m);
    m->rules = *rules;
    m->t = t;
    m->out = out;
    m->ncells = ncells;
    m->stale = true;
    /* Strides over the full grid, last dimension fastest; only dimensions
     * with two or more values are kept (in table order). */
    size_t stride = 1, nkept = 0;
    size_t rsize[3], rstride[3];
    for (size_t k = t->ndims; ncells && k-- > 0;) {
        if (t->size[k] >= 2) {
            rsize[nkept] = t->size[k];
            rstride[nkept] = stride;
            nkept++;
        }
        stride *= t->size[k];
    }
    for (size_t a = 0; a < nkept; a++) {
        m->size[a] = rsize[nkept - 1 - a];
        m->stride[a] = rstride[nkept - 1 - a];
    }
    m->d = nkept;
    m->per = ((size_t)1 << m->d) - 1;

    /* Margin groups: every set of kept dimensions but all of them, the
     * largest sets first. */
    size_t full = ((size_t)1 << m->d) - 1;
    size_t masks[8], nmasks = 0, offset[8];
    for (size_t bits = m->d; bits-- > 0;)
        for (size_t mask = 0; mask < full; mask++)
            if (bits_set(mask) == bits)
                masks[nmasks++] = mask;
    for (size_t a = 0; a < nmasks; a++) {
        offset[a] = m->nmargins;
        size_t count = 1;
        for (size_t k = 0; k < m->d; k++)
            if (masks[a] & ((size_t)1 << k))
                count *= m->size[k];
        m->nmargins += count;
    }
    m->member = hearth_calloc(ncells * m->per + 1, sizeof *m->member);
    m->msum = hearth_calloc(m->nmargins + 1, sizeof *m->msum);
    m->mstate = hearth_calloc(m->nmargins + 1, sizeof *m->mstate);
    m->mbox = hearth_calloc(m->nmargins + 1, sizeof *m->mbox);
    m->cbox = hearth_calloc(ncells + 1, sizeof *m->cbox);
    for (size_t g = 0; g < ncells; g++) {
        for (size_t a = 0; a < nmasks; a++) {
            size_t idx = 0;
            for (size_t k = 0; k < m->d; k++)
                if (masks[a] & ((size_t)1 << k))
                    idx = idx * m->size[k] + coord(m, g, k);
            size_t mg = offset[a] + idx;
            m->member[g * m->per + a] = mg;
            m->msum[mg] = sat_add(m->msum[mg], t->cells[g].count);
        }
    }
    for (size_t mg = 0; mg < m->nmargins; mg++)
        m->mstate[mg] = is_primary(rules, m->msum[mg]) ? M_PRIMARY : M_RELEASED;
    /* The grand total is the one margin this table itself releases. */
    if (m->nmargins && m->mstate[m->nmargins - 1] == M_RELEASED && t->total.suppressed)
        m->mstate[m->nmargins - 1] = M_SECONDARY;

    if (m->d >= 2) {
        /* At most GW_SDC_MAX_GRID columns and fewer margins than 3 per cell:
         * well inside gw_lp's bounds, so gw_lp_new cannot refuse. */
        m->lp = gw_lp_new(ncells, m->nmargins);
        for (size_t g = 0; g < ncells; g++)
            for (size_t a = 0; a < m->per; a++)
                gw_lp_entry(m->lp, m->member[g * m->per + a], g, 1.0);
        m->cost = hearth_calloc(ncells, sizeof *m->cost);
        m->start = hearth_calloc(ncells, sizeof *m->start);
        m->clo = hearth_calloc(ncells, sizeof *m->clo);
        m->chi = hearth_calloc(ncells, sizeof *m->chi);
        for (size_t g = 0; g < ncells; g++)
            m->start[g] = (double)t->cells[g].count;
        gw_lp_start(m->lp, m->start);
    }
}

static void model_free(model_t *m)
{
    free(m->member);
    free(m->msum);
    free(m->mstate);
    free(m->mbox);
    free(m->cbox);
    gw_lp_destroy(&m->lp);
    free(m->cost);
    free(m->start);
    free(m->clo);
    free(m->chi);
}

static double as_double(uint64_t v)
{
    return v == UNBOUNDED ? INFINITY : (double)v;
}

/* A margin's box for its state. */
static box_t margin_box(const rules_t *r, unsigned char state, uint64_t sum)
{
    uint64_t low = (r->zeros_disclosive || sum == 0) ? 0 : 1;
    switch (state) {
    case M_PRIMARY:
        return (box_t){low, r->threshold};
    case M_SECONDARY:
        return (box_t){low, UNBOUNDED};
    default:
        return box_released(r, sum);
    }
}

/* Boxes for the current pattern (and the LP's bounds, or the one-dimension
 * sums, from them). */
static void model_boxes(model_t *m)
{
    if (!m->stale)
        return;
    const rules_t *r = &m->rules;
    m->sum_lo = m->sum_hi = 0;
    m->open = 0;
    for (size_t g = 0; g < m->ncells; g++) {
        const gw_sdc_cell_t *c = &m->t->cells[g];
        box_t b = c->suppressed ? box_hidden(r, c->count) : box_released(r, c->count);
        m->cbox[g] = b;
        m->sum_lo = sat_add(m->sum_lo, b.lo);
        if (b.hi == UNBOUNDED)
            m->open++;
        else
            m->sum_hi = sat_add(m->sum_hi, b.hi);
    }
    for (size_t mg = 0; mg < m->nmargins; mg++)
        m->mbox[mg] = margin_box(r, m->mstate[mg], m->msum[mg]);
    if (m->lp) {
        for (size_t g = 0; g < m->ncells; g++) {
            m->clo[g] = as_double(m->cbox[g].lo);
            m->chi[g] = as_double(m->cbox[g].hi);
            gw_lp_col_bounds(m->lp, g, m->clo[g], m->chi[g]);
        }
        for (size_t mg = 0; mg < m->nmargins; mg++)
            gw_lp_row_bounds(m->lp, mg, as_double(m->mbox[mg].lo), as_double(m->mbox[mg].hi));
    }
    m->stale = false;
}

/* One group column: a single constraint, sum of cells = total, so each
 * cell's range is its box cut by the total's box less the others' boxes —
 * exact. (Sums saturate; counts anywhere near 2^64 are not people.) */
static void interval_1d(const model_t *m, size_t i, uint64_t *lo, uint64_t *hi)
{
    box_t own = m->cbox[i], total = m->mbox[0];
    uint64_t others_lo = m->sum_lo - own.lo;
    bool open = m->open > (own.hi == UNBOUNDED ? 1u : 0u);
    uint64_t others_hi = own.hi == UNBOUNDED ? m->sum_hi : m->sum_hi - own.hi;
    uint64_t a = own.lo, b = own.hi;
    if (!open && total.lo > others_hi && total.lo - others_hi > a)
        a = total.lo - others_hi;
    if (total.hi != UNBOUNDED) {
        uint64_t cap = total.hi >= others_lo ? total.hi - others_lo : 0;
        if (cap < b)
            b = cap;
    }
    *lo = a;
    *hi = b;
}

/* Witness values of the LP's current point (or, from_true, of the true
 * table) into dst. */
static void capture(const model_t *m, double *dst, bool from_true)
{
    if (!dst)
        return;
    for (size_t k = 0; k < m->wn; k++) {
        size_t p = m->wpos[k];
        if (p < m->ncells)
            dst[k] = from_true ? m->start[p] : gw_lp_col_value(m->lp, p);
        else
            dst[k] = from_true ? (double)m->msum[m->nmargins - 1]
                               : gw_lp_row_value(m->lp, m->nmargins - 1);
    }
}

static double snap(double v, bool down)
{
    double r = nearbyint(v);
    if (fabs(v - r) <= SNAP_TOL)
        return r;
    return down ? floor(v) : ceil(v);
}

/* The integer optimum of cell i in one direction, by depth-first branch and
 * bound over the LP, stopping once `enough` is reached. *best starts at the
 * true count (the true table is an integer point) and only improves; dst
 * gets the witness of the point reaching it. *root is set to the LP bound
 * at the root. Returns false if the node budget ran out, leaving *best a
 * value some integer point reaches. The LP's column bounds are as they were
 * on return. */
static bool branch(model_t *m, size_t i, bool maximise, double enough, double *best,
                   double *root, size_t *budget, double *dst)
{
    if (maximise ? *best >= enough : *best <= enough)
        return true;
    if (*budget == 0)
        return false;
    bool at_root = *budget == BRANCH_NODES;
    (*budget)--;
    double v;
    gw_lp_status_t st = gw_lp_solve(m->lp, m->cost, maximise, enough, &v);
    bool whole = st != GW_LP_INFEASIBLE && gw_lp_integral(m->lp, SNAP_TOL);
    if (st == GW_LP_INFEASIBLE)
        return true;
    if (st == GW_LP_UNBOUNDED) {
        /* Integer data: an unbounded ray carries integer points too. */
        *best = maximise ? INFINITY : -INFINITY;
        if (at_root)
            *root = *best;
        return true;
    }
    if (st != GW_LP_OPTIMAL && st != GW_LP_REACHED)
        return false;
    if (at_root)
        *root = v;
    if (whole) {
        double r = nearbyint(v);
        if (maximise ? r > *best : r < *best) {
            *best = r;
            capture(m, dst, false);
        }
        return true;
    }
    /* A fractional optimum that cannot beat the best table: done. (A
     * fractional point past `enough` is worth diving into as it is.) */
    double bound = snap(v, maximise);
    if (st == GW_LP_OPTIMAL && (maximise ? bound <= *best : bound >= *best))
        return true;
    /* Branch on the fractional column nearest a whole number, its nearer
     * side first: a dive that usually ends at a table in a few nodes. */
    size_t j = NONE;
    double gap = 1.0;
    for (size_t g = 0; g < m->ncells; g++) {
        double x = gw_lp_col_value(m->lp, g);
        double off = fabs(x - nearbyint(x));
        if (off > SNAP_TOL && off < gap) {
            gap = off;
            j = g;
        }
    }
    if (j == NONE)
        return true;
    double f = gw_lp_col_value(m->lp, j);
    double old_lo = m->clo[j], old_hi = m->chi[j];
    bool ok = true;
    for (int side = 0; side < 2 && ok; side++) {
        bool up = (side == 0) == (f - floor(f) >= 0.5);
        m->clo[j] = up ? ceil(f) : old_lo;
        m->chi[j] = up ? old_hi : floor(f);
        gw_lp_col_bounds(m->lp, j, m->clo[j], m->chi[j]);
        ok = branch(m, i, maximise, enough, best, root, budget, dst);
        m->clo[j] = old_lo;
        m->chi[j] = old_hi;
        gw_lp_col_bounds(m->lp, j, old_lo, old_hi);
        if (maximise ? *best >= enough : *best <= enough)
            break;
    }
    return ok;
}

/* One end of cell i's interval over the LP, stopping once `enough` is
 * reached; dst gets the witness. Two dimensions: the margins of a two-way
 * table form two laminar families, so the constraint matrix is totally
 * unimodular and the LP's optimum is the integer optimum. Three: not so; an
 * integral optimal point is still exact (it is a table), otherwise a small
 * branch and bound finds the integer optimum. Only if that runs out of nodes
 * is the design note's fallback used: the LP bound rounded inwards and
 * narrowed by one more (never past a table already found), a heuristic, not
 * a proof. Each end starts from the true counts (always feasible), so a
 * cell's answer does not depend on the cells evaluated before it. */
static uint64_t interval_end(model_t *m, size_t i, bool maximise, double enough, double *dst)
{
    uint64_t count = m->t->cells[i].count;
    double v, root = 0;
    gw_lp_restart(m->lp);
    if (m->d == 2) {
        gw_lp_status_t st = gw_lp_solve(m->lp, m->cost, maximise, enough, &v);
        if (st == GW_LP_UNBOUNDED) {
            m->wok = false;
            return maximise ? UNBOUNDED : 0;
        }
        if (st != GW_LP_OPTIMAL && st != GW_LP_REACHED) {
            m->wok = false; /* numerical trouble: the analyst knows it */
            return count;
        }
        capture(m, dst, false);
        double f = snap(v, maximise);
        if (f >= 9007199254740992.0)
            return UNBOUNDED;
        return f <= 0 ? 0 : (uint64_t)f;
    }
    double best = (double)count;
    size_t budget = BRANCH_NODES;
    capture(m, dst, true);
    if (branch(m, i, maximise, enough, &best, &root, &budget, dst)) {
        if (isinf(best)) {
            m->wok = false;
            return maximise ? UNBOUNDED : 0;
        }
        return best <= 0 ? 0 : (uint64_t)best;
    }
    /* Out of nodes: the LP's own optimum (the search may have stopped
     * short of it at `enough`), rounded inwards and narrowed by one. */
    m->inexact = true;
    m->wok = false;
    gw_lp_restart(m->lp);
    gw_lp_status_t st = gw_lp_solve(m->lp, m->cost, maximise, maximise ? INFINITY : -INFINITY, &v);
    if (st == GW_LP_UNBOUNDED)
        return maximise ? UNBOUNDED : 0;
    if (st == GW_LP_OPTIMAL)
        root = v;
    if (isinf(root))
        return maximise ? UNBOUNDED : 0;
    double f = snap(root, maximise) + (maximise ? -1 : 1);
    if (maximise ? f <= best : f >= best)
        return (uint64_t)best;
    return f <= 0 ? 0 : (uint64_t)f;
}

/* Two or three group columns.
 *
 * cap 0: the exact interval, each end solved to its optimum.
 *
 * cap > 0: the caller only needs the count of 1..threshold values up to cap,
 * so each end stops as soon as that is settled. The minimisation first goes
 * only as low as threshold - cap + 1 (often the true count is there
 * already, and nothing need be solved); the maximisation then only as high
 * as max(lo, 1) + cap - 1. Only when hi falls short of that, and lo stopped
 * early, is lo pushed down further, to hi - cap + 1. Whenever an end stops
 * early the count is cap whatever the end's optimum, so a capped count
 * equals the exact one wherever that is below cap. */
static void interval_lp(model_t *m, size_t i, uint64_t cap, uint64_t *lo, uint64_t *hi)
{
    uint64_t count = m->t->cells[i].count;
    uint64_t threshold = m->rules.threshold;
    uint64_t floor_i = m->cbox[i].lo; /* nothing is lower */
    double *wlo = m->wdst, *whi = m->wdst ? m->wdst + m->wn : NULL;
    m->wok = m->wdst != NULL;
    m->cost[i] = 1.0;

    uint64_t a, b;
    if (!cap) {
        a = interval_end(m, i, false, (double)floor_i, wlo);
        b = interval_end(m, i, true, INFINITY, whi);
    } else {
        uint64_t lo_goal = threshold - cap + 1; /* cap <= threshold */
        if (lo_goal < floor_i)
            lo_goal = floor_i;
        a = interval_end(m, i, false, (double)lo_goal, wlo);
        if (a > count)
            a = count;
        uint64_t from = a > 1 ? a : 1;
        uint64_t hi_goal = from <= threshold && cap - 1 <= threshold - from ? from + cap - 1
                                                                           : threshold;
        if (hi_goal < from)
            hi_goal = from;
        b = interval_end(m, i, true, (double)hi_goal, whi);
        if (b < hi_goal && a <= lo_goal && a > floor_i) {
            uint64_t again = b >= cap && b - cap + 1 > floor_i ? b - cap + 1 : floor_i;
            if (again < a)
                a = interval_end(m, i, false, (double)again, wlo);
        }
    }
    if (a > count)
        a = count;
    if (b < count)
        b = count;
    m->cost[i] = 0.0;
    *lo = a;
    *hi = b;
}

/* Cell i's interval; cap as for interval_lp (0: exact). */
static void model_interval(model_t *m, size_t i, uint64_t cap, uint64_t *lo, uint64_t *hi)
{
    model_boxes(m);
    if (m->d == 0) {
        *lo = m->cbox[i].lo;
        *hi = m->cbox[i].hi;
        m->wok = false;
    } else if (m->d == 1) {
        interval_1d(m, i, lo, hi);
        m->wok = false;
    } else {
        interval_lp(m, i, cap, lo, hi);
    }
}

/* How many values of 1..threshold cell i's interval holds, counted up to
 * the protection asked for (exact below it). */
static uint64_t model_protection(model_t *m, size_t i)
{
    uint64_t lo, hi, need = m->rules.protection;
    model_interval(m, i, need, &lo, &hi);
    uint64_t p = protection_of(&m->rules, lo, hi);
    return p < need ? p : need;
}

/* ---- secondary suppression --------------------------------------------- */

/* A cell the check protects: hidden by primary suppression (a small count,
 * or a zero when zeros are disclosive). A partner is hidden only so that
 * these stay uncertain; the analyst learning that a partner is large
 * discloses nothing. */
static bool needs_protection(const model_t *m, size_t g)
{
    const gw_sdc_cell_t *c = &m->t->cells[g];
    return c->suppressed && !c->secondary;
}

/* The partner for cell w: the released non-zero cell with the smallest
 * true count (lowest index on ties) among those sharing a line with w;
 * failing that a plane; failing that the whole table. NONE if none. */
static size_t pick_partner(const model_t *m, size_t w)
{
    for (size_t reach = 1; reach <= m->d; reach++) {
        size_t best = NONE;
        for (size_t g = 0; g < m->ncells; g++) {
            const gw_sdc_cell_t *c = &m->t->cells[g];
            if (c->suppressed || c->count == 0 || distance(m, g, w) > reach)
                continue;
            if (best == NONE || c->count < m->t->cells[best].count)
                best = g;
        }
        if (best != NONE)
            return best;
    }
    return NONE;
}

/* The cheapest rectangle (two dimensions) or 2 x 2 x 2 cube (three) with w
 * at one corner: for every choice of another value in each kept dimension,
 * the corners other than w. A corner must be hidden already or released and
 * non-zero (a released zero is exact and cannot move), and at least one must
 * be released; the cost is the sum of the released corners' true counts.
 * Ties go to the first choice in grid order. This is the smallest structure
 * that can leave w uncertain when every line through it is released: a lone
 * partner in w's row is pinned by its own column, and the corner that frees
 * it shares no line with w, so cell-by-cell choice from w's lines would hide
 * most of its row and column before reaching it. Writes the released corners
 * to corners[] in grid order and returns how many (0: no usable one). */
static size_t pick_hypercube(const model_t *m, size_t w, size_t corners[7])
{
    size_t d = m->d, nother = 1, cw[3];
    for (size_t k = 0; k < d; k++) {
        cw[k] = coord(m, w, k);
        nother *= m->size[k] - 1;
    }
    uint64_t best_cost = 0;
    size_t best = NONE;
    for (size_t o = 0; o < nother; o++) {
        /* The o-th choice of other values, last dimension fastest. */
        size_t other[3], rest = o;
        for (size_t k = d; k-- > 0;) {
            size_t v = rest % (m->size[k] - 1);
            rest /= m->size[k] - 1;
            other[k] = v >= cw[k] ? v + 1 : v;
        }
        uint64_t cost = 0;
        bool usable = true, fresh = false;
        for (size_t mask = 1; mask < ((size_t)1 << d) && usable; mask++) {
            size_t g = w;
            for (size_t k = 0; k < d; k++)
                if (mask & ((size_t)1 << k))
                    g = g - cw[k] * m->stride[k] + other[k] * m->stride[k];
            const gw_sdc_cell_t *c = &m->t->cells[g];
            if (c->suppressed)
                continue;
            if (c->count == 0)
                usable = false;
            cost = sat_add(cost, c->count);
            fresh = true;
        }
        if (usable && fresh && (best == NONE || cost < best_cost)) {
            best = o;
            best_cost = cost;
        }
    }
    if (best == NONE)
        return 0;
    size_t other[3], rest = best, n = 0;
    for (size_t k = d; k-- > 0;) {
        size_t v = rest % (m->size[k] - 1);
        rest /= m->size[k] - 1;
        other[k] = v >= cw[k] ? v + 1 : v;
    }
    for (size_t mask = 1; mask < ((size_t)1 << d); mask++) {
        size_t g = w;
        for (size_t k = 0; k < d; k++)
            if (mask & ((size_t)1 << k))
                g = g - cw[k] * m->stride[k] + other[k] * m->stride[k];
        if (!m->t->cells[g].suppressed)
            corners[n++] = g;
    }
    /* Grid order, so the minimality pass tries the last corner first. */
    for (size_t a = 1; a < n; a++)
        for (size_t b = a; b > 0 && corners[b - 1] > corners[b]; b--) {
            size_t tmp = corners[b];
            corners[b] = corners[b - 1];
            corners[b - 1] = tmp;
        }
    return n;
}

/* Hides (hide true) or releases again one secondary choice: a cell, or the
 * grand total when which is ncells. */
static void set_secondary(model_t *m, size_t which, bool hide)
{
    if (which < m->ncells) {
        m->out->cells[which].suppressed = hide;
        m->out->cells[which].secondary = hide;
    } else {
        m->out->total.suppressed = hide;
        m->out->total.secondary = hide;
        m->mstate[m->nmargins - 1] = hide ? M_SECONDARY : M_RELEASED;
    }
    m->stale = true;
}

/* Whether hiding every released non-zero cell and the grand total would
 * protect cell w. If not, its exposure comes from margins this table does
 * not release (other queries do), and no partner here can help: hiding more
 * only widens what the analyst must allow, so this is the most any pattern
 * can give it. The table is left as it was. */
static bool protectable(model_t *m, size_t w)
{
    size_t n = m->ncells;
    bool *hid = hearth_calloc(n, sizeof *hid);
    for (size_t g = 0; g < n; g++) {
        const gw_sdc_cell_t *c = &m->t->cells[g];
        hid[g] = !c->suppressed && c->count != 0;
        if (hid[g])
            set_secondary(m, g, true);
    }
    bool total = m->mstate[m->nmargins - 1] == M_RELEASED;
    if (total)
        set_secondary(m, n, true);
    bool ok = model_protection(m, w) >= m->rules.protection;
    for (size_t g = 0; g < n; g++)
        if (hid[g])
            set_secondary(m, g, false);
    if (total)
        set_secondary(m, n, false);
    free(hid);
    return ok;
}

/* The minimality pass's memory. Each primary cell keeps the witness values
 * (at the partners' positions) of the two points that prove its count: while
 * both points still fit every released partner's box they are still
 * feasible, so the count cannot have dropped and the cell need not be
 * solved again. */
typedef struct {
    size_t *pos;    /* the partners in the order chosen (ncells: the total) */
    bool *released; /* per partner: released again */
    box_t *rbox;    /* per partner: its box when released */
    double *w;      /* per cell: 2 x npos witness values, or NULL */
    bool *wok;      /* per cell: its witnesses are usable */
    size_t npos;
} pass_t;

static bool witness_holds(const pass_t *ps, size_t g)
{
    if (!ps->w || !ps->wok[g])
        return false;
    const double *w = ps->w + g * 2 * ps->npos;
    for (size_t k = 0; k < ps->npos; k++) {
        if (!ps->released[k])
            continue;
        double lo = as_double(ps->rbox[k].lo) - SNAP_TOL, hi = as_double(ps->rbox[k].hi) + SNAP_TOL;
        if (w[k] < lo || w[k] > hi || w[ps->npos + k] < lo || w[ps->npos + k] > hi)
            return false;
    }
    return true;
}

/* Evaluates cell g, keeping its witnesses when the pass has room for them. */
static uint64_t evaluate(model_t *m, pass_t *ps, size_t g)
{
    if (ps && ps->w) {
        m->wpos = ps->pos;
        m->wn = ps->npos;
        m->wdst = ps->w + g * 2 * ps->npos;
    }
    uint64_t p = model_protection(m, g);
    if (ps && ps->w)
        ps->wok[g] = m->wok;
    m->wdst = NULL;
    m->wn = 0;
    return p;
}

/* The pattern is acceptable: every primary cell protected, and each one the
 * check gave up on no worse off than floor_of[g]. Cells near `near` (the
 * partner just released) are checked first, being the likeliest to fail. */
static bool pattern_holds(model_t *m, pass_t *ps, size_t near, const bool *gave_up,
                          uint64_t *prot, const uint64_t *floor_of)
{
    for (size_t reach = 0; reach <= m->d; reach++) {
        for (size_t g = 0; g < m->ncells; g++) {
            if (!needs_protection(m, g))
                continue;
            size_t dist = near < m->ncells ? distance(m, g, near) : m->d;
            if (dist != reach)
                continue;
            uint64_t want = gave_up[g] ? floor_of[g] : m->rules.protection;
            if (prot[g] >= want && witness_holds(ps, g))
                continue;
            prot[g] = evaluate(m, ps, g);
            if (prot[g] < want)
                return false;
        }
    }
    return true;
}

static void secondary(model_t *m)
{
    size_t n = m->ncells;
    uint64_t need = m->rules.protection;
    if (n == 0 || m->d == 0 || need == 0)
        return;
    uint64_t *prot = hearth_calloc(n, sizeof *prot);
    bool *gave_up = hearth_calloc(n, sizeof *gave_up);
    bool *stale = hearth_calloc(n, sizeof *stale);
    unsigned char *can = hearth_calloc(n, sizeof *can); /* 0 unknown, 1 yes, 2 no */
    size_t *order = hearth_calloc(n + 1, sizeof *order);
    size_t norder = 0;

    for (size_t g = 0; g < n; g++)
        if (needs_protection(m, g))
            prot[g] = model_protection(m, g);
    bool hid_since_check = false;
    for (;;) {
        /* The worst cell: fewest values, lowest index on ties. Hiding more
         * only widens what the analyst must allow, so a count made before
         * the last partner was hidden is a lower bound: refresh the smallest
         * until the smallest is fresh, and the rest need not be evaluated. */
        size_t worst;
        for (;;) {
            worst = NONE;
            for (size_t g = 0; g < n; g++)
                if (needs_protection(m, g) && !gave_up[g] && prot[g] < need &&
                    (worst == NONE || prot[g] < prot[worst]))
                    worst = g;
            if (worst == NONE || !stale[worst])
                break;
            prot[worst] = model_protection(m, worst);
            stale[worst] = false;
        }
        if (worst == NONE) {
            /* Where a bound was a heuristic the growth above is not
             * guaranteed: check every cell once more before stopping. */
            if (!m->inexact || !hid_since_check)
                break;
            for (size_t g = 0; g < n; g++)
                if (needs_protection(m, g) && !gave_up[g])
                    prot[g] = model_protection(m, g);
            hid_since_check = false;
            continue;
        }
        /* Partners: a rectangle or cube through the worst cell; failing
         * that the smallest non-zero cell sharing a line (a plane, the
         * table) with it; failing that the grand total. */
        size_t pick[7];
        size_t npick = m->d >= 2 ? pick_hypercube(m, worst, pick) : 0;
        if (!npick) {
            pick[0] = pick_partner(m, worst);
            npick = pick[0] != NONE;
        }
        if (!npick && m->mstate[m->nmargins - 1] == M_RELEASED) {
            pick[0] = n;
            npick = 1;
        }
        /* The most-hidden pattern is the same throughout: one answer per
         * cell will do. */
        if (npick && !can[worst])
            can[worst] = protectable(m, worst) ? 1 : 2;
        if (!npick || can[worst] == 2) {
            gave_up[worst] = true;
            continue;
        }
        for (size_t k = 0; k < npick; k++) {
            set_secondary(m, pick[k], true);
            order[norder++] = pick[k];
        }
        hid_since_check = true;
        for (size_t g = 0; g < n; g++)
            stale[g] = true;
    }

    /* Minimality: a partner chosen early may be redundant once later ones
     * are hidden; release each again, last chosen first, if it can go.
     * Hiding less only narrows intervals, so one pass leaves no partner that
     * could go — unless a bound was a heuristic, when the pass repeats until
     * nothing changes. Every primary cell is evaluated afresh first (the
     * counts the loop kept may be stale lower bounds), with witnesses. */
    pass_t ps = {.pos = order, .npos = norder};
    if (norder) {
        ps.released = hearth_calloc(norder, sizeof *ps.released);
        ps.rbox = hearth_calloc(norder, sizeof *ps.rbox);
        for (size_t k = 0; k < norder; k++)
            ps.rbox[k] = order[k] < n ? box_released(&m->rules, m->t->cells[order[k]].count)
                                      : box_released(&m->rules, m->msum[m->nmargins - 1]);
        if (m->lp && n <= MAX_WITNESS_VALUES / (2 * norder)) {
            ps.w = hearth_calloc(n * 2 * norder, sizeof *ps.w);
            ps.wok = hearth_calloc(n, sizeof *ps.wok);
        }
    }
    uint64_t *floor_of = hearth_calloc(n, sizeof *floor_of);
    for (size_t g = 0; norder && g < n; g++)
        if (needs_protection(m, g))
            floor_of[g] = prot[g] = evaluate(m, &ps, g);
    for (bool again = norder > 0; again;) {
        again = false;
        for (size_t k = norder; k-- > 0;) {
            if (ps.released[k])
                continue;
            set_secondary(m, order[k], false);
            ps.released[k] = true;
            if (!pattern_holds(m, &ps, order[k], gave_up, prot, floor_of)) {
                set_secondary(m, order[k], true);
                ps.released[k] = false;
                continue;
            }
            again = m->inexact;
        }
    }
    for (size_t g = 0; g < n; g++)
        if (gave_up[g])
            m->out->unprotected++;
    free(ps.released);
    free(ps.rbox);
    free(ps.w);
    free(ps.wok);
    free(floor_of);
    free(prot);
    free(gave_up);
    free(stale);
    free(can);
    free(order);
}

/* ---- the rules --------------------------------------------------------- */

static void cell_reset(gw_sdc_cell_t *cell)
{
    cell->suppressed = false;
    cell->secondary = false;
    cell->released = 0;
}

/* A table past GW_SDC_MAX_GRID: nothing is released unchecked. */
static size_t hide_everything(gw_sdc_table_t *t)
{
    size_t hidden = 1;
    t->total.suppressed = true;
    size_t all = 1;
    bool fits = t->cells && t->ndims <= 3;
    for (size_t k = 0; fits && k < t->ndims; k++) {
        if (t->size[k] && all > SIZE_MAX / t->size[k])
            fits = false;
        else
            all *= t->size[k];
    }
    for (size_t g = 0; fits && g < all; g++, hidden++) {
        cell_reset(&t->cells[g]);
        t->cells[g].suppressed = true;
    }
    return hidden;
}

size_t gw_sdc_apply_table(const gw_sdc_policy_t *policy, gw_sdc_table_t *t)
{
    rules_t rules = rules_of(policy);
    bool too_big;
    size_t n = grid_cells(t, &too_big);
    t->unprotected = 0;
    cell_reset(&t->total);
    if (too_big)
        return hide_everything(t);
    for (size_t g = 0; g < n; g++) {
        cell_reset(&t->cells[g]);
        t->cells[g].suppressed = is_primary(&rules, t->cells[g].count);
    }
    t->total.suppressed = is_primary(&rules, t->total.count);

    model_t m;
    model_init(&m, &rules, t, t, n);
    secondary(&m);
    model_free(&m);

    size_t suppressed = 0;
    for (size_t g = 0; g < n; g++) {
        gw_sdc_cell_t *c = &t->cells[g];
        if (c->suppressed)
            suppressed++;
        else
            c->released = gw_sdc_round(c->count, policy->rounding);
    }
    if (t->total.suppressed)
        suppressed++;
    else
        t->total.released = gw_sdc_round(t->total.count, policy->rounding);
    return suppressed;
}

size_t gw_sdc_apply(const gw_sdc_policy_t *policy, gw_sdc_cell_t *cells, size_t n,
                    gw_sdc_cell_t *total)
{
    gw_sdc_table_t t = {.ndims = 1, .size = {n}, .cells = cells, .total = *total};
    size_t suppressed = gw_sdc_apply_table(policy, &t);
    *total = t.total;
    return suppressed;
}

void gw_sdc_attacker_interval(const gw_sdc_policy_t *policy, const gw_sdc_table_t *t, size_t i,
                              uint64_t *lo, uint64_t *hi)
{
    rules_t rules = rules_of(policy);
    bool too_big;
    size_t n = grid_cells(t, &too_big);
    if (too_big || i >= n) {
        *lo = *hi = (!too_big && i < n) ? t->cells[i].count : 0;
        return;
    }
    model_t m;
    model_init(&m, &rules, t, NULL, n);
    model_interval(&m, i, 0, lo, hi);
    model_free(&m);
}
