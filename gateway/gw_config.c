#include "gw_config.h"
#include "gw_dp.h"
#include "hearth_file.h"
#include "hearth_ini.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

/* The file is read twice. Pass 1 takes only the valid [disclosure] values,
 * silently, so that pass 2 can check each [project NAME] setting against
 * the gateway's final rules at the setting's own line, wherever in the file
 * [disclosure] is; pass 2 checks and takes everything else, and re-checks
 * [disclosure] (so that the first bad line is the one reported) without
 * changing what pass 1 took. */
typedef struct {
    gw_config_t *cfg;
    const char *dir;
    int pass;                   /* 1 or 2 */
    unsigned *project_set;      /* owned: per project, the SET_* it gave */
} load_ctx_t;

enum {
    SET_THRESHOLD = 1u << 0, SET_ROUNDING = 1u << 1, SET_ZEROS = 1u << 2,
    SET_PROTECTION = 1u << 3, SET_DOMINANCE = 1u << 4, SET_EPSILON = 1u << 5,
    SET_BUDGET = 1u << 6
};

#define DOMINANCE_FORMS "off, p%% P (P 1..100) or n,k N K (N 1..3, K 1..99)"

static bool parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > GW_NAME_MAX || !(s[0] >= 'a' && s[0] <= 'z'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-' || s[i] == '.'))
            return false;
    return true;
}

/* "off", "p% P" or "n,k N K", the parts separated by spaces or tabs. */
static bool parse_dominance(const char *s, gw_dominance_t *out)
{
    char buf[64];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    char *save = NULL;
    char *kind = strtok_r(buf, " \t", &save);
    char *a = kind ? strtok_r(NULL, " \t", &save) : NULL;
    char *b = a ? strtok_r(NULL, " \t", &save) : NULL;
    char *extra = b ? strtok_r(NULL, " \t", &save) : NULL;
    uint64_t x, y;
    if (kind == NULL || extra != NULL)
        return false;
    gw_dominance_t d = {.kind = GW_DOMINANCE_OFF};
    if (strcmp(kind, "off") == 0 && a == NULL) {
        /* d is already off */
    } else if (strcmp(kind, "p%") == 0 && a && !b && parse_uint(a, 1, 100, &x)) {
        d.kind = GW_DOMINANCE_P;
        d.p = (uint32_t)x;
    } else if (strcmp(kind, "n,k") == 0 && a && b && parse_uint(a, 1, GW_DOMINANCE_MAX_N, &x) &&
               parse_uint(b, 1, 99, &y)) {
        d.kind = GW_DOMINANCE_NK;
        d.n = (uint32_t)x;
        d.k = (uint32_t)y;
    } else {
        return false;
    }
    *out = d;
    return true;
}

/* True when d hides at least every cell base hides. Rules of different
 * kinds are not comparable, so neither is stricter than the other. */
static bool dominance_at_least(const gw_dominance_t *d, const gw_dominance_t *base)
{
    switch (base->kind) {
    case GW_DOMINANCE_OFF:
        return true;
    case GW_DOMINANCE_P:
        /* A larger p hides every cell a smaller one does. */
        return d->kind == GW_DOMINANCE_P && d->p >= base->p;
    case GW_DOMINANCE_NK:
        /* The n largest grow with n, and k% of the sum shrinks with k. */
        return d->kind == GW_DOMINANCE_NK && d->n >= base->n && d->k <= base->k;
    }
    return false;
}

/* dp_epsilon and dp_budget are parsed exactly as the gateway will use
 * them (gw_dp), so a value a query could not use stops the gateway at
 * start rather than failing every question of the project. A budget must
 * be above zero. */
static bool dp_text_valid(const char *s, bool epsilon)
{
    if (strlen(s) > GW_CONFIG_DP_TEXT_MAX)
        return false;
    gw_dp_rational_t r;
    char *why = NULL;
    hearth_err_t rc = epsilon ? gw_dp_epsilon_parse(s, &r, &why) : gw_dp_budget_parse(s, &r, &why);
    free(why);
    return rc == HEARTH_OK && r.num > 0;
}

/* One [disclosure] setting into pol, dom and maxq (each written only when
 * the value is valid). Returns 1, or 0 with *cause set. */
static int disclosure_setting(const char *name, const char *value, gw_sdc_policy_t *pol,
                              gw_dominance_t *dom, uint32_t *maxq, char **cause)
{
    /* A deployment may be stricter than the brief's defaults, never
     * looser. */
    gw_sdc_policy_t def;
    gw_sdc_policy_default(&def);
    uint64_t v;
    if (strcmp(name, "threshold") == 0) {
        if (!parse_uint(value, def.threshold, 1000, &v)) {
            hearth_cause_set(cause, "[disclosure] threshold must be %u..1000 "
                             "(stricter than the default, never looser)", def.threshold);
            return 0;
        }
        pol->threshold = (uint32_t)v;
        return 1;
    }
    if (strcmp(name, "rounding") == 0) {
        if (!parse_uint(value, def.rounding, 1000, &v)) {
            hearth_cause_set(cause, "[disclosure] rounding must be %u..1000 "
                             "(stricter than the default, never looser)", def.rounding);
            return 0;
        }
        pol->rounding = (uint32_t)v;
        return 1;
    }
    if (strcmp(name, "zeros") == 0) {
        if (strcmp(value, "released") != 0 && strcmp(value, "disclosive") != 0) {
            hearth_cause_set(cause, "[disclosure] zeros must be released or disclosive");
            return 0;
        }
        pol->zeros_disclosive = strcmp(value, "disclosive") == 0;
        return 1;
    }
    if (strcmp(name, "protection") == 0) {
        if (!parse_uint(value, def.protection, 1000, &v)) {
            hearth_cause_set(cause, "[disclosure] protection must be %u..1000 "
                             "(stricter than the default, never looser)", def.protection);
            return 0;
        }
        pol->protection = (uint32_t)v;
        return 1;
    }
    if (strcmp(name, "dominance") == 0) {
        if (!parse_dominance(value, dom)) {
            hearth_cause_set(cause, "[disclosure] dominance must be " DOMINANCE_FORMS);
            return 0;
        }
        return 1;
    }
    if (strcmp(name, "max_queries_per_hour") == 0) {
        if (!parse_uint(value, 0, 1000000, &v)) {
            hearth_cause_set(cause, "[disclosure] max_queries_per_hour must be 0..1000000 "
                             "(0: no limit)");
            return 0;
        }
        *maxq = (uint32_t)v;
        return 1;
    }
    hearth_cause_set(cause, "unknown setting '%s' in section [disclosure]", name);
    return 0;
}

/* The project called name, added (with [disclosure]'s rules) when new. */
static gw_project_t *project_slot(load_ctx_t *ctx, const char *name, unsigned **set,
                                  char **cause)
{
    gw_config_t *cfg = ctx->cfg;
    for (size_t i = 0; i < cfg->nprojects; i++) {
        if (strcmp(cfg->projects[i].name, name) == 0) {
            *set = &ctx->project_set[i];
            return &cfg->projects[i];
        }
    }
    if (!name_valid(name)) {
        hearth_cause_set(cause, "[project %s]: names are 1-63 of a-z, 0-9, _ - and ., "
                         "starting with a letter", name);
        return NULL;
    }
    if (cfg->nprojects >= GW_MAX_PROJECTS) {
        hearth_cause_set(cause, "more than %d project sections", GW_MAX_PROJECTS);
        return NULL;
    }
    cfg->projects = hearth_reallocarray(cfg->projects, cfg->nprojects + 1,
                                        sizeof *cfg->projects);
    ctx->project_set = hearth_reallocarray(ctx->project_set, cfg->nprojects + 1,
                                           sizeof *ctx->project_set);
    gw_project_t *p = &cfg->projects[cfg->nprojects];
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    p->disclosure = cfg->disclosure;
    p->dominance = cfg->dominance;
    ctx->project_set[cfg->nprojects] = 0;
    *set = &ctx->project_set[cfg->nprojects];
    cfg->nprojects++;
    return p;
}

/* One [project NAME] setting: only as strict as [disclosure] or stricter. */
static int project_setting(load_ctx_t *ctx, const char *pname, const char *name,
                           const char *value, char **cause)
{
    const gw_config_t *cfg = ctx->cfg;
    const gw_sdc_policy_t *base = &cfg->disclosure;
    unsigned *set = NULL;
    gw_project_t *p = project_slot(ctx, pname, &set, cause);
    if (p == NULL)
        return 0;
    static const struct {
        const char *name;
        unsigned bit;
    } keys[] = {
        {"threshold", SET_THRESHOLD}, {"rounding", SET_ROUNDING}, {"zeros", SET_ZEROS},
        {"protection", SET_PROTECTION}, {"dominance", SET_DOMINANCE},
        {"dp_epsilon", SET_EPSILON}, {"dp_budget", SET_BUDGET},
    };
    unsigned bit = 0;
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
        if (strcmp(name, keys[i].name) == 0)
            bit = keys[i].bit;
    if (bit == 0) {
        hearth_cause_set(cause, "unknown setting '%s' in section [project %s]", name, pname);
        return 0;
    }
    /* Two values for one setting would leave the reader guessing which
     * applies; a project's rules should read once. */
    if (*set & bit) {
        hearth_cause_set(cause, "[project %s] %s is set twice", pname, name);
        return 0;
    }
    *set |= bit;
    uint64_t v;
    switch (bit) {
    case SET_THRESHOLD:
        if (!parse_uint(value, base->threshold, 1000, &v)) {
            hearth_cause_set(cause, "[project %s] threshold must be %u..1000 (at least "
                             "[disclosure]'s, never looser)", pname, base->threshold);
            return 0;
        }
        p->disclosure.threshold = (uint32_t)v;
        return 1;
    case SET_ROUNDING:
        /* A multiple, so that every count the project releases is also a
         * multiple of the gateway's base. */
        if (!parse_uint(value, base->rounding, 1000, &v) || v % base->rounding != 0) {
            hearth_cause_set(cause, "[project %s] rounding must be a multiple of %u from %u "
                             "to 1000 ([disclosure]'s or coarser, never looser)", pname,
                             base->rounding, base->rounding);
            return 0;
        }
        p->disclosure.rounding = (uint32_t)v;
        return 1;
    case SET_ZEROS:
        if (strcmp(value, "released") != 0 && strcmp(value, "disclosive") != 0) {
            hearth_cause_set(cause, "[project %s] zeros must be released or disclosive", pname);
            return 0;
        }
        if (base->zeros_disclosive && strcmp(value, "released") == 0) {
            hearth_cause_set(cause, "[project %s] zeros must be disclosive, as [disclosure] "
                             "says (never looser)", pname);
            return 0;
        }
        p->disclosure.zeros_disclosive = strcmp(value, "disclosive") == 0;
        return 1;
    case SET_PROTECTION:
        if (!parse_uint(value, base->protection, 1000, &v)) {
            hearth_cause_set(cause, "[project %s] protection must be %u..1000 (at least "
                             "[disclosure]'s, never looser)", pname, base->protection);
            return 0;
        }
        p->disclosure.protection = (uint32_t)v;
        return 1;
    case SET_DOMINANCE: {
        gw_dominance_t d;
        if (!parse_dominance(value, &d)) {
            hearth_cause_set(cause, "[project %s] dominance must be " DOMINANCE_FORMS, pname);
            return 0;
        }
        if (!dominance_at_least(&d, &cfg->dominance)) {
            if (cfg->dominance.kind == GW_DOMINANCE_P)
                hearth_cause_set(cause, "[project %s] dominance must be p%% %u or stricter "
                                 "(p%% with a higher p), never looser than [disclosure]",
                                 pname, cfg->dominance.p);
            else
                hearth_cause_set(cause, "[project %s] dominance must be n,k %u %u or stricter "
                                 "(n,k with n at least %u and k at most %u), never looser "
                                 "than [disclosure]", pname, cfg->dominance.n,
                                 cfg->dominance.k, cfg->dominance.n, cfg->dominance.k);
            return 0;
        }
        p->dominance = d;
        return 1;
    }
    case SET_EPSILON:
    case SET_BUDGET:
        if (!dp_text_valid(value, bit == SET_EPSILON)) {
            hearth_cause_set(cause, "[project %s] %s must be a positive number: a whole "
                             "number, a fraction such as 1/2 or a decimal such as 0.5 with "
                             "at most 6 places; epsilon at most 10, a budget at most 100",
                             pname, name);
            return 0;
        }
        strcpy(bit == SET_EPSILON ? p->dp_epsilon : p->dp_budget, value);
        return 1;
    default:
        break;
    }
    hearth_cause_set(cause, "unknown setting '%s' in section [project %s]", name, pname);
    return 0;
}

static int add_peer(load_ctx_t *ctx, gw_peer_t **list, size_t *n, const char *name,
                    const char *key_path, const char *kind, char **cause)
{
    /* Node names appear in queries (node.dataset), so they follow the
     * stricter rule every node's own config does. */
    bool is_node = strcmp(kind, "node") == 0;
    if (is_node ? !hearth_name_valid(name) : !name_valid(name)) {
        hearth_cause_set(cause, is_node ? "[%s %s]: node names are 1-63 of a-z, 0-9 and _, "
                                          "starting with a letter"
                                        : "[%s %s]: names are 1-63 of a-z, 0-9, _ - and ., "
                                          "starting with a letter", kind, name);
        return 0;
    }
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i].name, name) == 0) {
            hearth_cause_set(cause, "[%s %s] appears twice", kind, name);
            return 0;
        }
    }
    if (*n >= GW_MAX_PEERS) {
        hearth_cause_set(cause, "more than %d %s sections", GW_MAX_PEERS, kind);
        return 0;
    }
    char *path = hearth_path_resolve(ctx->dir, key_path);
    char z85[41];
    char *why = NULL;
    hearth_err_t rc = keys_curve_load_public(path, z85, &why);
    free(path);
    if (rc != HEARTH_OK) {
        hearth_cause_set(cause, "[%s %s] public_key: %s", kind, name, why);
        free(why);
        return 0;
    }
    *list = hearth_reallocarray(*list, *n + 1, sizeof **list);
    gw_peer_t *p = &(*list)[(*n)++];
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    zmq_z85_decode(p->key, z85);
    return 1;
}

static int on_setting(void *user, const char *section, const char *name, const char *value,
                      char **cause)
{
    load_ctx_t *ctx = user;
    gw_config_t *cfg = ctx->cfg;
    uint64_t v;
    if (ctx->pass == 1) {
        /* Take what is valid; pass 2 reports what is not, in line order. */
        if (strcmp(section, "disclosure") == 0)
            (void)disclosure_setting(name, value, &cfg->disclosure, &cfg->dominance,
                                     &cfg->max_queries_per_hour, NULL);
        return 1;
    }
    if (strcmp(name, "linkage_key") == 0) {
        hearth_cause_set(cause, "the gateway must never hold the linkage key: remove "
                         "the linkage_key setting (only nodes have it)");
        return 0;
    }
    if (strcmp(section, "gateway") == 0) {
        char **slot = strcmp(name, "curve_key") == 0 ? &cfg->curve_key
                    : strcmp(name, "ready_file") == 0 ? &cfg->ready_file
                    : strcmp(name, "database") == 0 ? &cfg->database : NULL;
        if (slot) {
            free(*slot);
            *slot = hearth_path_resolve(ctx->dir, value);
            return 1;
        }
        slot = strcmp(name, "node_endpoint") == 0 ? &cfg->node_endpoint
             : strcmp(name, "analyst_endpoint") == 0 ? &cfg->analyst_endpoint : NULL;
        if (slot) {
            free(*slot);
            *slot = hearth_strdup(value);
            return 1;
        }
        if (strcmp(name, "node_timeout_ms") == 0) {
            if (!parse_uint(value, 100, 3600000, &v)) {
                hearth_cause_set(cause, "node_timeout_ms must be 100..3600000");
                return 0;
            }
            cfg->node_timeout_ms = (uint32_t)v;
            return 1;
        }
    } else if (strcmp(section, "disclosure") == 0) {
        /* Checked again for the line number; pass 1 already took the
         * values, and a later line may have replaced this one. */
        gw_sdc_policy_t pol;
        gw_dominance_t dom;
        uint32_t maxq;
        return disclosure_setting(name, value, &pol, &dom, &maxq, cause);
    } else if (strncmp(section, "project ", 8) == 0) {
        return project_setting(ctx, section + 8, name, value, cause);
    } else if (strcmp(section, "limits") == 0) {
        size_t *slot = strcmp(name, "max_query_length") == 0 ? &cfg->max_query_length
                     : strcmp(name, "max_in_list") == 0 ? &cfg->max_in_list
                     : strcmp(name, "max_cells") == 0 ? &cfg->max_cells : NULL;
        if (slot) {
            if (!parse_uint(value, 1, 1000000, &v)) {
                hearth_cause_set(cause, "[limits] %s must be 1..1000000", name);
                return 0;
            }
            *slot = (size_t)v;
            return 1;
        }
    } else if (strncmp(section, "node ", 5) == 0 && strcmp(name, "public_key") == 0) {
        return add_peer(ctx, &cfg->nodes, &cfg->nnodes, section + 5, value, "node", cause);
    } else if (strncmp(section, "analyst ", 8) == 0 && strcmp(name, "public_key") == 0) {
        return add_peer(ctx, &cfg->analysts, &cfg->nanalysts, section + 8, value, "analyst", cause);
    }
    hearth_cause_set(cause, "unknown setting '%s' in section [%s]", name, section);
    return 0;
}

/* What no single line shows: a protection range wider than the threshold
 * (a hidden cell's attacker interval holds at most threshold values of
 * 1..threshold, so no table could ever be released), and a project with
 * only one of dp_epsilon and dp_budget. */
static hearth_err_t check_rules(const gw_config_t *cfg, const unsigned *project_set,
                                const char *path, char **cause)
{
    if (cfg->disclosure.protection > cfg->disclosure.threshold) {
        hearth_cause_set(cause, "%s: [disclosure] protection %u is more than the threshold %u "
                         "(a hidden cell's range can hold at most threshold values)", path,
                         cfg->disclosure.protection, cfg->disclosure.threshold);
        return HEARTH_ERR_CONFIG;
    }
    for (size_t i = 0; i < cfg->nprojects; i++) {
        const gw_project_t *p = &cfg->projects[i];
        if (p->disclosure.protection > p->disclosure.threshold) {
            hearth_cause_set(cause, "%s: [project %s] protection %u is more than the threshold "
                             "%u (a hidden cell's range can hold at most threshold values)",
                             path, p->name, p->disclosure.protection, p->disclosure.threshold);
            return HEARTH_ERR_CONFIG;
        }
        bool eps = project_set[i] & SET_EPSILON, budget = project_set[i] & SET_BUDGET;
        if (eps != budget) {
            hearth_cause_set(cause, "%s: [project %s] sets %s without %s (set both, or neither)",
                             path, p->name, eps ? "dp_epsilon" : "dp_budget",
                             eps ? "dp_budget" : "dp_epsilon");
            return HEARTH_ERR_CONFIG;
        }
    }
    return HEARTH_OK;
}

hearth_err_t gw_config_load(const char *path, gw_config_t **out, char **cause)
{
    *out = NULL;
    gw_config_t *cfg = hearth_calloc(1, sizeof *cfg);
    cfg->node_timeout_ms = 10000;
    gw_sdc_policy_default(&cfg->disclosure);
    cfg->max_query_length = 16384;
    cfg->max_in_list = 1000;
    cfg->max_cells = 10000;
    char *dir = hearth_path_dirname(path);
    load_ctx_t ctx = {.cfg = cfg, .dir = dir, .pass = 1};
    char *why = NULL;
    hearth_err_t rc = hearth_ini_load(path, on_setting, &ctx, &why);
    /* A syntax error is left for pass 2 to report, so that the first bad
     * line of any kind is the one named. */
    if (rc == HEARTH_ERR_NOT_FOUND)
        hearth_cause_set(cause, "%s", why);
    free(why);
    if (rc == HEARTH_ERR_NOT_FOUND)
        goto fail;
    ctx.pass = 2;
    if ((rc = hearth_ini_load(path, on_setting, &ctx, cause)) != HEARTH_OK)
        goto fail;
    const char *missing = !cfg->curve_key ? "[gateway] curve_key"
                        : !cfg->node_endpoint ? "[gateway] node_endpoint"
                        : !cfg->analyst_endpoint ? "[gateway] analyst_endpoint" : NULL;
    if (missing) {
        hearth_cause_set(cause, "%s: missing setting %s", path, missing);
        rc = HEARTH_ERR_CONFIG;
        goto fail;
    }
    if (cfg->database == NULL)
        cfg->database = hearth_path_resolve(dir, "gateway.db");
    if ((rc = check_rules(cfg, ctx.project_set, path, cause)) != HEARTH_OK)
        goto fail;
    free(ctx.project_set);
    free(dir);
    *out = cfg;
    return HEARTH_OK;
fail:
    free(ctx.project_set);
    free(dir);
    gw_config_destroy(&cfg);
    return rc;
}

const gw_project_t *gw_config_project(const gw_config_t *cfg, const char *name)
{
    if (cfg == NULL || name == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->nprojects; i++)
        if (strcmp(cfg->projects[i].name, name) == 0)
            return &cfg->projects[i];
    return NULL;
}

void gw_config_destroy(gw_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_config_t *self = *self_p;
    free(self->curve_key);
    free(self->node_endpoint);
    free(self->analyst_endpoint);
    free(self->ready_file);
    free(self->database);
    free(self->nodes);
    free(self->analysts);
    free(self->projects);
    free(self);
    *self_p = NULL;
}
