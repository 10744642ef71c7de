#include "gw_lp.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hearth_mem.h"

/* A reduced cost smaller than this is zero (the variable cannot improve the
 * objective); a pivot element smaller than this is never divided by. */
#define OPT_TOL 1e-9
#define PIVOT_TOL 1e-9
/* Consecutive pivots without progress before pricing turns to Bland's rule,
 * which is slower but cannot cycle. */
#define STALL_PIVOTS 32
/* Basic values are recomputed from the non-basic ones this often, so the
 * small errors of updating them step by step never build up. */
#define REFRESH_PIVOTS 64
#define NONE SIZE_MAX

/* Variables 0..n-1 are the columns; n+i is row i's slack, s_i = (A x)_i,
 * written as the constraint A x - s = 0, so the slacks' columns are -I. */
struct gw_lp {
    size_t n, m;
    /* Entries as added, compressed by column at the next start. */
    size_t nent, capent;
    size_t *ent_row, *ent_col;
    double *ent_val;
    bool dirty;
    size_t *cstart; /* n + 1 */
    size_t *crow;
    double *cval;
    double *lo, *hi; /* n + m */
    double *z;       /* n + m: the current point */
    size_t *head;    /* m: the variable in each basis position */
    size_t *pos;     /* n + m: basis position, or NONE */
    bool started;
    /* B^-1 = E_k ... E_1 (-I); eta k pivots on row eta_r[k] with element
     * eta_piv[k] and the other entries eta_idx/val[eta_at[k]..eta_at[k+1]). */
    size_t neta, capeta;
    size_t *eta_r;
    double *eta_piv;
    size_t *eta_at; /* capeta + 1 */
    size_t nev, capev;
    size_t *eta_idx;
    double *eta_val;
    double *work_y, *work_a, *work_c; /* m each */
    double *saved;  /* n + m: the point gw_lp_start last made, for gw_lp_restart */
    size_t *costed; /* n: the columns with a non-zero cost in this solve */
    size_t iterations;
};

gw_lp_t *gw_lp_new(size_t ncols, size_t nrows)
{
    if (ncols > GW_LP_MAX_COLS || nrows > GW_LP_MAX_ROWS)
        return NULL;
    gw_lp_t *self = hearth_calloc(1, sizeof *self);
    size_t nv = ncols + nrows;
    self->n = ncols;
    self->m = nrows;
    self->cstart = hearth_calloc(ncols + 1, sizeof *self->cstart);
    self->lo = hearth_calloc(nv ? nv : 1, sizeof *self->lo);
    self->hi = hearth_calloc(nv ? nv : 1, sizeof *self->hi);
    self->z = hearth_calloc(nv ? nv : 1, sizeof *self->z);
    self->pos = hearth_calloc(nv ? nv : 1, sizeof *self->pos);
    self->head = hearth_calloc(nrows ? nrows : 1, sizeof *self->head);
    self->work_y = hearth_calloc(nrows ? nrows : 1, sizeof *self->work_y);
    self->work_a = hearth_calloc(nrows ? nrows : 1, sizeof *self->work_a);
    self->work_c = hearth_calloc(nrows ? nrows : 1, sizeof *self->work_c);
    self->eta_at = hearth_calloc(1, sizeof *self->eta_at);
    self->saved = hearth_calloc(nv ? nv : 1, sizeof *self->saved);
    self->costed = hearth_calloc(ncols ? ncols : 1, sizeof *self->costed);
    for (size_t v = 0; v < nv; v++) {
        self->lo[v] = -INFINITY;
        self->hi[v] = INFINITY;
    }
    return self;
}

void gw_lp_destroy(gw_lp_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    gw_lp_t *self = *self_p;
    free(self->ent_row);
    free(self->ent_col);
    free(self->ent_val);
    free(self->cstart);
    free(self->crow);
    free(self->cval);
    free(self->lo);
    free(self->hi);
    free(self->z);
    free(self->head);
    free(self->pos);
    free(self->eta_r);
    free(self->eta_piv);
    free(self->eta_at);
    free(self->eta_idx);
    free(self->eta_val);
    free(self->work_y);
    free(self->work_a);
    free(self->work_c);
    free(self->saved);
    free(self->costed);
    free(self);
    *self_p = NULL;
}

void gw_lp_entry(gw_lp_t *self, size_t row, size_t col, double value)
{
    if (row >= self->m || col >= self->n)
        return;
    if (self->nent == self->capent) {
        self->capent = self->capent ? self->capent * 2 : 64;
        self->ent_row = hearth_reallocarray(self->ent_row, self->capent, sizeof *self->ent_row);
        self->ent_col = hearth_reallocarray(self->ent_col, self->capent, sizeof *self->ent_col);
        self->ent_val = hearth_reallocarray(self->ent_val, self->capent, sizeof *self->ent_val);
    }
    self->ent_row[self->nent] = row;
    self->ent_col[self->nent] = col;
    self->ent_val[self->nent] = value;
    self->nent++;
    self->dirty = true;
}

void gw_lp_col_bounds(gw_lp_t *self, size_t col, double lo, double hi)
{
    if (col >= self->n)
        return;
    self->lo[col] = lo;
    self->hi[col] = hi;
}

void gw_lp_row_bounds(gw_lp_t *self, size_t row, double lo, double hi)
{
    if (row >= self->m)
        return;
    self->lo[self->n + row] = lo;
    self->hi[self->n + row] = hi;
}

/* Entries by column (counting sort), in the order they were added, so the
 * arithmetic — and with it every answer — is the same on every run. */
static void compress(gw_lp_t *self)
{
    free(self->crow);
    free(self->cval);
    self->crow = hearth_calloc(self->nent ? self->nent : 1, sizeof *self->crow);
    self->cval = hearth_calloc(self->nent ? self->nent : 1, sizeof *self->cval);
    memset(self->cstart, 0, (self->n + 1) * sizeof *self->cstart);
    for (size_t e = 0; e < self->nent; e++)
        self->cstart[self->ent_col[e] + 1]++;
    for (size_t j = 0; j < self->n; j++)
        self->cstart[j + 1] += self->cstart[j];
    size_t *fill = hearth_calloc(self->n ? self->n : 1, sizeof *fill);
    for (size_t e = 0; e < self->nent; e++) {
        size_t j = self->ent_col[e];
        size_t at = self->cstart[j] + fill[j]++;
        self->crow[at] = self->ent_row[e];
        self->cval[at] = self->ent_val[e];
    }
    free(fill);
    self->dirty = false;
}

static double clamp(double v, double lo, double hi)
{
    if (v < lo)
        return lo;
    if (v > hi)
        return hi;
    return v;
}

/* v := B^-1 v (forward transformation). */
static void ftran(const gw_lp_t *self, double *v)
{
    for (size_t i = 0; i < self->m; i++)
        v[i] = -v[i];
    for (size_t k = 0; k < self->neta; k++) {
        size_t r = self->eta_r[k];
        double vr = v[r] / self->eta_piv[k];
        v[r] = vr;
        if (vr == 0.0)
            continue;
        for (size_t e = self->eta_at[k]; e < self->eta_at[k + 1]; e++)
            v[self->eta_idx[e]] -= self->eta_val[e] * vr;
    }
}

/* u' := u' B^-1 (backward transformation). */
static void btran(const gw_lp_t *self, double *u)
{
    for (size_t k = self->neta; k-- > 0;) {
        size_t r = self->eta_r[k];
        double s = u[r];
        for (size_t e = self->eta_at[k]; e < self->eta_at[k + 1]; e++)
            s -= self->eta_val[e] * u[self->eta_idx[e]];
        u[r] = s / self->eta_piv[k];
    }
    for (size_t i = 0; i < self->m; i++)
        u[i] = -u[i];
}

/* Records the pivot on row r of column alpha = B^-1 a_q. */
static void eta_push(gw_lp_t *self, size_t r, const double *alpha)
{
    if (self->neta == self->capeta) {
        self->capeta = self->capeta ? self->capeta * 2 : 32;
        self->eta_r = hearth_reallocarray(self->eta_r, self->capeta, sizeof *self->eta_r);
        self->eta_piv = hearth_reallocarray(self->eta_piv, self->capeta, sizeof *self->eta_piv);
        self->eta_at = hearth_reallocarray(self->eta_at, self->capeta + 1, sizeof *self->eta_at);
    }
    for (size_t i = 0; i < self->m; i++) {
        if (i == r || fabs(alpha[i]) <= 1e-13)
            continue;
        if (self->nev == self->capev) {
            self->capev = self->capev ? self->capev * 2 : 256;
            self->eta_idx = hearth_reallocarray(self->eta_idx, self->capev, sizeof *self->eta_idx);
            self->eta_val = hearth_reallocarray(self->eta_val, self->capev, sizeof *self->eta_val);
        }
        self->eta_idx[self->nev] = i;
        self->eta_val[self->nev] = alpha[i];
        self->nev++;
    }
    self->eta_r[self->neta] = r;
    self->eta_piv[self->neta] = alpha[r];
    self->neta++;
    self->eta_at[self->neta] = self->nev;
}

/* The basic values from the non-basic ones: B z_B = -N z_N. */
static void refresh(gw_lp_t *self)
{
    double *v = self->work_c;
    memset(v, 0, self->m * sizeof *v);
    for (size_t j = 0; j < self->n; j++) {
        if (self->pos[j] != NONE || self->z[j] == 0.0)
            continue;
        for (size_t e = self->cstart[j]; e < self->cstart[j + 1]; e++)
            v[self->crow[e]] -= self->cval[e] * self->z[j];
    }
    for (size_t i = 0; i < self->m; i++)
        if (self->pos[self->n + i] == NONE)
            v[i] += self->z[self->n + i];
    ftran(self, v);
    for (size_t k = 0; k < self->m; k++)
        self->z[self->head[k]] = v[k];
}

/* The slack basis: B = -I, no etas. */
static void basis_reset(gw_lp_t *self)
{
    for (size_t j = 0; j < self->n; j++)
        self->pos[j] = NONE;
    for (size_t i = 0; i < self->m; i++) {
        self->head[i] = self->n + i;
        self->pos[self->n + i] = i;
    }
    self->neta = 0;
    self->nev = 0;
    self->eta_at[0] = 0;
}

void gw_lp_start(gw_lp_t *self, const double *x)
{
    if (self->dirty || !self->started)
        compress(self);
    for (size_t j = 0; j < self->n; j++) {
        double v = x ? x[j] : clamp(0.0, self->lo[j], self->hi[j]);
        self->z[j] = clamp(v, self->lo[j], self->hi[j]);
    }
    basis_reset(self);
    self->started = true;
    refresh(self);
    memcpy(self->saved, self->z, (self->n + self->m) * sizeof *self->z);
}

void gw_lp_restart(gw_lp_t *self)
{
    if (!self->started || self->dirty) {
        gw_lp_start(self, NULL);
        return;
    }
    basis_reset(self);
    memcpy(self->z, self->saved, (self->n + self->m) * sizeof *self->z);
}

/* a_j . y for variable j's column of [A | -I]. */
static double column_dot(const gw_lp_t *self, size_t j, const double *y)
{
    if (j >= self->n)
        return -y[j - self->n];
    double s = 0.0;
    for (size_t e = self->cstart[j]; e < self->cstart[j + 1]; e++)
        s += self->cval[e] * y[self->crow[e]];
    return s;
}

/* out := a_j (dense). */
static void column_load(const gw_lp_t *self, size_t j, double *out)
{
    memset(out, 0, self->m * sizeof *out);
    if (j >= self->n) {
        out[j - self->n] = -1.0;
        return;
    }
    for (size_t e = self->cstart[j]; e < self->cstart[j + 1]; e++)
        out[self->crow[e]] += self->cval[e];
}

static double objective(const gw_lp_t *self, const double *cost, size_t ncosted)
{
    double s = 0.0;
    for (size_t k = 0; k < ncosted; k++)
        s += cost[self->costed[k]] * self->z[self->costed[k]];
    return s;
}

static bool below(const gw_lp_t *self, size_t v)
{
    return self->z[v] < self->lo[v] - GW_LP_FEAS_TOL;
}

static bool above(const gw_lp_t *self, size_t v)
{
    return self->z[v] > self->hi[v] + GW_LP_FEAS_TOL;
}

gw_lp_status_t gw_lp_solve(gw_lp_t *self, const double *cost, bool maximise, double stop_at,
                           double *value)
{
    if (!self->started || self->dirty)
        gw_lp_start(self, NULL);
    /* Bounds may have moved since the last solve: non-basic variables go
     * back inside theirs (basic ones are phase 1's business). */
    bool moved = false;
    for (size_t v = 0; v < self->n + self->m; v++) {
        if (self->pos[v] != NONE)
            continue;
        double c = clamp(self->z[v], self->lo[v], self->hi[v]);
        moved |= c != self->z[v];
        self->z[v] = c;
    }
    if (moved)
        refresh(self);
    size_t ncosted = 0;
    for (size_t j = 0; j < self->n; j++)
        if (cost[j] != 0.0)
            self->costed[ncosted++] = j;

    /* Internally the objective is always minimised: sign * cost. */
    double sign = maximise ? -1.0 : 1.0;
    size_t limit = 20 * (self->n + self->m) + 1000;
    size_t stalled = 0;
    bool bland = false;
    double *y = self->work_y;
    double *alpha = self->work_a;
    for (size_t iter = 0;; iter++) {
        if (iter > 0 && iter % REFRESH_PIVOTS == 0)
            refresh(self);
        bool phase1 = false;
        for (size_t k = 0; k < self->m && !phase1; k++)
            phase1 = below(self, self->head[k]) || above(self, self->head[k]);
        double obj = objective(self, cost, ncosted);
        *value = obj;
        if (!phase1 && (maximise ? obj >= stop_at : obj <= stop_at))
            return GW_LP_REACHED;
        if (iter >= limit)
            return GW_LP_STALLED;

        for (size_t k = 0; k < self->m; k++) {
            size_t v = self->head[k];
            if (phase1)
                y[k] = below(self, v) ? -1.0 : above(self, v) ? 1.0 : 0.0;
            else
                y[k] = v < self->n ? sign * cost[v] : 0.0;
        }
        btran(self, y);

        /* Pricing: the non-basic variable whose move improves the
         * objective fastest (or, under Bland, the first that improves it). */
        size_t q = NONE;
        double dir = 0.0, best = 0.0;
        for (size_t j = 0; j < self->n + self->m; j++) {
            if (self->pos[j] != NONE || self->lo[j] == self->hi[j])
                continue;
            double cj = (!phase1 && j < self->n) ? sign * cost[j] : 0.0;
            double d = cj - column_dot(self, j, y);
            double move = 0.0;
            if (d < -OPT_TOL && self->z[j] < self->hi[j] - GW_LP_FEAS_TOL)
                move = 1.0;
            else if (d > OPT_TOL && self->z[j] > self->lo[j] + GW_LP_FEAS_TOL)
                move = -1.0;
            if (move == 0.0)
                continue;
            if (q == NONE || (!bland && fabs(d) > best)) {
                q = j;
                dir = move;
                best = fabs(d);
                if (bland)
                    break;
            }
        }
        if (q == NONE)
            return phase1 ? GW_LP_INFEASIBLE : GW_LP_OPTIMAL;

        column_load(self, q, alpha);
        ftran(self, alpha);

        /* Ratio test: how far q can move before it or a basic variable
         * reaches a bound. In phase 1 an infeasible basic variable blocks
         * where it becomes feasible, and never while it moves away. */
        double theta = dir > 0 ? self->hi[q] - self->z[q] : self->z[q] - self->lo[q];
        size_t leave = NONE;
        double leave_at = 0.0, leave_alpha = 0.0;
        for (size_t k = 0; k < self->m; k++) {
            if (fabs(alpha[k]) <= PIVOT_TOL)
                continue;
            size_t v = self->head[k];
            double rho = -alpha[k] * dir; /* change of z_v per unit step */
            double lim, bound;
            if (rho > 0) {
                if (below(self, v))
                    bound = self->lo[v];
                else if (above(self, v))
                    continue;
                else
                    bound = self->hi[v];
                if (isinf(bound))
                    continue;
                lim = (bound - self->z[v]) / rho;
            } else {
                if (above(self, v))
                    bound = self->hi[v];
                else if (below(self, v))
                    continue;
                else
                    bound = self->lo[v];
                if (isinf(bound))
                    continue;
                lim = (bound - self->z[v]) / rho;
            }
            if (lim < 0)
                lim = 0;
            bool take;
            if (leave == NONE)
                take = lim < theta;
            else if (lim < theta - 1e-12)
                take = true;
            else if (lim > theta + 1e-12)
                take = false;
            else if (bland)
                take = v < self->head[leave];
            else
                take = fabs(alpha[k]) > fabs(leave_alpha);
            if (take) {
                theta = lim < theta ? lim : theta;
                leave = k;
                leave_at = bound;
                leave_alpha = alpha[k];
            }
        }
        if (isinf(theta))
            return phase1 ? GW_LP_INFEASIBLE : GW_LP_UNBOUNDED;

        self->iterations++;
        if (theta <= 1e-12) {
            if (++stalled >= STALL_PIVOTS)
                bland = true;
        } else {
            stalled = 0;
        }
        self->z[q] += dir * theta;
        for (size_t k = 0; k < self->m; k++)
            if (alpha[k] != 0.0)
                self->z[self->head[k]] -= alpha[k] * dir * theta;
        if (leave == NONE) {
            /* q reached its own bound: a bound flip, the basis stays. */
            self->z[q] = dir > 0 ? self->hi[q] : self->lo[q];
            continue;
        }
        size_t out = self->head[leave];
        self->z[out] = leave_at;
        self->pos[out] = NONE;
        self->head[leave] = q;
        self->pos[q] = leave;
        eta_push(self, leave, alpha);
    }
}

double gw_lp_col_value(const gw_lp_t *self, size_t col)
{
    return col < self->n ? self->z[col] : 0.0;
}

double gw_lp_row_value(const gw_lp_t *self, size_t row)
{
    return row < self->m ? self->z[self->n + row] : 0.0;
}

bool gw_lp_integral(const gw_lp_t *self, double tol)
{
    for (size_t j = 0; j < self->n; j++)
        if (fabs(self->z[j] - nearbyint(self->z[j])) > tol)
            return false;
    return true;
}

size_t gw_lp_iterations(const gw_lp_t *self)
{
    return self->iterations;
}
