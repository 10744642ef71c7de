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

/* One pass over the file. Peers' settings may come in any order within
 * their section, so which ones each peer has given is tracked beside the
 * list and the required ones are checked at the end. */
typedef struct {
    gw_config_t *cfg;
    const char *dir;
    unsigned *node_set;         /* owned: per node, the PEER_* it gave */
    unsigned *analyst_set;      /* owned: per analyst, likewise */
} load_ctx_t;

enum {
    PEER_PUBLIC_KEY = 1u << 0, PEER_RECEIPT_KEY = 1u << 1, PEER_DISPLAY_NAME = 1u << 2,
    PEER_ORGANISATION = 1u << 3, PEER_ROLES = 1u << 4
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

bool gw_config_dominance_at_least(const gw_dominance_t *d, const gw_dominance_t *base)
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

bool gw_config_text_printable(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        size_t n;
        if (p[0] < 0x80) {
            cp = p[0];
            n = 1;
        } else if ((p[0] & 0xe0) == 0xc0) {
            cp = p[0] & 0x1fu;
            n = 2;
        } else if ((p[0] & 0xf0) == 0xe0) {
            cp = p[0] & 0x0fu;
            n = 3;
        } else if ((p[0] & 0xf8) == 0xf0) {
            cp = p[0] & 0x07u;
            n = 4;
        } else {
            return false;
        }
        for (size_t i = 1; i < n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3fu);
        }
        /* Overlong forms, surrogates and values past Unicode are not
         * UTF-8; control characters (C0, DEL, C1) and the bidirectional
         * embeddings, overrides and isolates could rearrange what a
         * terminal or report shows, so they are refused too. */
        static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
            cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
            (cp >= 0x2066 && cp <= 0x2069))
            return false;
        p += n;
    }
    return true;
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

void gw_config_policy_default(const gw_config_t *cfg, gw_project_policy_t *out)
{
    memset(out, 0, sizeof *out);
    out->disclosure = cfg->disclosure;
    out->dominance = cfg->dominance;
}

#define DP_FORMS "a positive number: a whole number, a fraction such as 1/2 or a decimal " \
                 "such as 0.5 with at most 6 places; epsilon at most 10, a budget at most 100"

hearth_err_t gw_config_policy_set(gw_project_policy_t *p, const char *name, const char *value,
                                  char **cause)
{
    uint64_t v;
    if (strcmp(name, "threshold") == 0 || strcmp(name, "rounding") == 0 ||
        strcmp(name, "protection") == 0) {
        if (!parse_uint(value, 1, 1000, &v)) {
            hearth_cause_set(cause, "%s must be a whole number from 1 to 1000", name);
            return HEARTH_ERR_USAGE;
        }
        uint32_t *slot = name[0] == 't' ? &p->disclosure.threshold
                       : name[0] == 'r' ? &p->disclosure.rounding : &p->disclosure.protection;
        *slot = (uint32_t)v;
        return HEARTH_OK;
    }
    if (strcmp(name, "zeros") == 0) {
        if (strcmp(value, "released") != 0 && strcmp(value, "disclosive") != 0) {
            hearth_cause_set(cause, "zeros must be released or disclosive");
            return HEARTH_ERR_USAGE;
        }
        p->disclosure.zeros_disclosive = strcmp(value, "disclosive") == 0;
        return HEARTH_OK;
    }
    if (strcmp(name, "dominance") == 0) {
        if (!parse_dominance(value, &p->dominance)) {
            hearth_cause_set(cause, "dominance must be " DOMINANCE_FORMS);
            return HEARTH_ERR_USAGE;
        }
        return HEARTH_OK;
    }
    if (strcmp(name, "dp_epsilon") == 0 || strcmp(name, "dp_budget") == 0) {
        bool epsilon = strcmp(name, "dp_epsilon") == 0;
        if (!dp_text_valid(value, epsilon)) {
            hearth_cause_set(cause, "%s must be " DP_FORMS, name);
            return HEARTH_ERR_USAGE;
        }
        strcpy(epsilon ? p->dp_epsilon : p->dp_budget, value);
        return HEARTH_OK;
    }
    hearth_cause_set(cause, "unknown disclosure setting '%s'", name);
    return HEARTH_ERR_USAGE;
}

hearth_err_t gw_config_policy_check(const gw_config_t *cfg, const gw_project_policy_t *p,
                                    char **cause)
{
    const gw_sdc_policy_t *base = &cfg->disclosure;
    const gw_sdc_policy_t *d = &p->disclosure;
    if (d->threshold < base->threshold || d->threshold > 1000) {
        hearth_cause_set(cause, "threshold must be %u..1000 (at least [disclosure]'s, never "
                         "looser)", base->threshold);
        return HEARTH_ERR_CONFIG;
    }
    /* A multiple, so that every count the project releases is also a
     * multiple of the gateway's base. */
    if (d->rounding < base->rounding || d->rounding > 1000 || base->rounding == 0 ||
        d->rounding % base->rounding != 0) {
        hearth_cause_set(cause, "rounding must be a multiple of %u from %u to 1000 "
                         "([disclosure]'s or coarser, never looser)", base->rounding,
                         base->rounding);
        return HEARTH_ERR_CONFIG;
    }
    if (base->zeros_disclosive && !d->zeros_disclosive) {
        hearth_cause_set(cause, "zeros must be disclosive, as [disclosure] says (never looser)");
        return HEARTH_ERR_CONFIG;
    }
    if (d->protection < base->protection || d->protection > 1000) {
        hearth_cause_set(cause, "protection must be %u..1000 (at least [disclosure]'s, never "
                         "looser)", base->protection);
        return HEARTH_ERR_CONFIG;
    }
    if (!gw_config_dominance_at_least(&p->dominance, &cfg->dominance)) {
        if (cfg->dominance.kind == GW_DOMINANCE_P)
            hearth_cause_set(cause, "dominance must be p%% %u or stricter (p%% with a higher "
                             "p), never looser than [disclosure]", cfg->dominance.p);
        else
            hearth_cause_set(cause, "dominance must be n,k %u %u or stricter (n,k with n at "
                             "least %u and k at most %u), never looser than [disclosure]",
                             cfg->dominance.n, cfg->dominance.k, cfg->dominance.n,
                             cfg->dominance.k);
        return HEARTH_ERR_CONFIG;
    }
    /* A hidden cell's attacker interval holds at most threshold values of
     * 1..threshold, so a wider protection range could never be met. */
    if (d->protection > d->threshold) {
        hearth_cause_set(cause, "protection %u is more than the threshold %u (a hidden cell's "
                         "range can hold at most threshold values)", d->protection,
                         d->threshold);
        return HEARTH_ERR_CONFIG;
    }
    bool eps = p->dp_epsilon[0] != '\0', budget = p->dp_budget[0] != '\0';
    if (eps != budget) {
        hearth_cause_set(cause, "sets %s without %s (set both, or neither)",
                         eps ? "dp_epsilon" : "dp_budget", eps ? "dp_budget" : "dp_epsilon");
        return HEARTH_ERR_CONFIG;
    }
    if (eps && (!memchr(p->dp_epsilon, '\0', sizeof p->dp_epsilon) ||
                !dp_text_valid(p->dp_epsilon, true))) {
        hearth_cause_set(cause, "dp_epsilon must be " DP_FORMS);
        return HEARTH_ERR_CONFIG;
    }
    if (budget && (!memchr(p->dp_budget, '\0', sizeof p->dp_budget) ||
                   !dp_text_valid(p->dp_budget, false))) {
        hearth_cause_set(cause, "dp_budget must be " DP_FORMS);
        return HEARTH_ERR_CONFIG;
    }
    return HEARTH_OK;
}

/* The peer called name in *list, added (zeroed, with its PEER_* set
 * tracked in *set) when new. */
static gw_peer_t *peer_slot(gw_peer_t **list, size_t *n, unsigned **set, const char *name,
                            const char *kind, unsigned **peer_set, char **cause)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp((*list)[i].name, name) == 0) {
            *peer_set = &(*set)[i];
            return &(*list)[i];
        }
    }
    /* Node names appear in queries (node.dataset), so they follow the
     * stricter rule every node's own config does. */
    bool is_node = strcmp(kind, "node") == 0;
    if (is_node ? !hearth_name_valid(name) : !name_valid(name)) {
        hearth_cause_set(cause, is_node ? "[%s %s]: node names are 1-63 of a-z, 0-9 and _, "
                                          "starting with a letter"
                                        : "[%s %s]: names are 1-63 of a-z, 0-9, _ - and ., "
                                          "starting with a letter", kind, name);
        return NULL;
    }
    if (*n >= GW_MAX_PEERS) {
        hearth_cause_set(cause, "more than %d %s sections", GW_MAX_PEERS, kind);
        return NULL;
    }
    *list = hearth_reallocarray(*list, *n + 1, sizeof **list);
    *set = hearth_reallocarray(*set, *n + 1, sizeof **set);
    gw_peer_t *p = &(*list)[*n];
    memset(p, 0, sizeof *p);
    strcpy(p->name, name);
    if (!is_node)
        p->roles = GW_ROLE_ANALYST;
    (*set)[*n] = 0;
    *peer_set = &(*set)[*n];
    (*n)++;
    return p;
}

/* "analyst, auditor": a comma list of role names, spaces around each
 * allowed, none empty. */
static bool parse_roles(const char *s, unsigned *out)
{
    char buf[128];
    if (strlen(s) >= sizeof buf)
        return false;
    strcpy(buf, s);
    unsigned roles = 0;
    char *p = buf;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            p[--len] = '\0';
        if (strcmp(p, "analyst") == 0)
            roles |= GW_ROLE_ANALYST;
        else if (strcmp(p, "auditor") == 0)
            roles |= GW_ROLE_AUDITOR;
        else if (strcmp(p, "admin") == 0)
            roles |= GW_ROLE_ADMIN;
        else
            return false;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *out = roles;
    return true;
}

/* One setting of a [node NAME] or [analyst NAME] section. */
static int peer_setting(load_ctx_t *ctx, bool is_node, const char *pname, const char *name,
                        const char *value, char **cause)
{
    gw_config_t *cfg = ctx->cfg;
    const char *kind = is_node ? "node" : "analyst";
    unsigned bit = strcmp(name, "public_key") == 0 ? PEER_PUBLIC_KEY
                 : is_node && strcmp(name, "receipt_key") == 0 ? PEER_RECEIPT_KEY
                 : !is_node && strcmp(name, "display_name") == 0 ? PEER_DISPLAY_NAME
                 : !is_node && strcmp(name, "organisation") == 0 ? PEER_ORGANISATION
                 : !is_node && strcmp(name, "roles") == 0 ? PEER_ROLES : 0;
    if (bit == 0) {
        hearth_cause_set(cause, "unknown setting '%s' in section [%s %s]", name, kind, pname);
        return 0;
    }
    unsigned *set = NULL;
    gw_peer_t *p = is_node ? peer_slot(&cfg->nodes, &cfg->nnodes, &ctx->node_set, pname, kind,
                                       &set, cause)
                           : peer_slot(&cfg->analysts, &cfg->nanalysts, &ctx->analyst_set,
                                       pname, kind, &set, cause);
    if (p == NULL)
        return 0;
    /* A setting given twice is most often the same section written twice:
     * either way the reader could not tell which value applies. */
    if (*set & bit) {
        hearth_cause_set(cause, "[%s %s] appears twice (%s is set twice)", kind, pname, name);
        return 0;
    }
    *set |= bit;
    switch (bit) {
    case PEER_PUBLIC_KEY: {
        char *path = hearth_path_resolve(ctx->dir, value);
        char z85[41];
        char *why = NULL;
        hearth_err_t rc = keys_curve_load_public(path, z85, &why);
        free(path);
        if (rc != HEARTH_OK) {
            hearth_cause_set(cause, "[%s %s] public_key: %s", kind, pname, why);
            free(why);
            return 0;
        }
        zmq_z85_decode(p->key, z85);
        return 1;
    }
    case PEER_RECEIPT_KEY: {
        char *path = hearth_path_resolve(ctx->dir, value);
        char *why = NULL;
        hearth_err_t rc = tlog_verifier_load(path, &p->receipt_key, &why);
        free(path);
        if (rc != HEARTH_OK) {
            hearth_cause_set(cause, "[node %s] receipt_key: %s", pname, why);
            free(why);
            return 0;
        }
        return 1;
    }
    case PEER_DISPLAY_NAME:
    case PEER_ORGANISATION:
        if (strlen(value) > GW_PEER_TEXT_MAX || !gw_config_text_printable(value)) {
            hearth_cause_set(cause, "[analyst %s] %s must be at most %d bytes of printable "
                             "UTF-8", pname, name, GW_PEER_TEXT_MAX);
            return 0;
        }
        strcpy(bit == PEER_DISPLAY_NAME ? p->display_name : p->organisation, value);
        return 1;
    case PEER_ROLES:
        if (!parse_roles(value, &p->roles)) {
            hearth_cause_set(cause, "[analyst %s] roles must be a comma-separated list of "
                             "analyst, auditor and admin", pname);
            return 0;
        }
        return 1;
    default:
        break;
    }
    return 0;
}

static int on_setting(void *user, const char *section, const char *name, const char *value,
                      char **cause)
{
    load_ctx_t *ctx = user;
    gw_config_t *cfg = ctx->cfg;
    uint64_t v;
    if (strcmp(name, "linkage_key") == 0) {
        hearth_cause_set(cause, "the gateway must never hold the linkage key: remove "
                         "the linkage_key setting (only nodes have it)");
        return 0;
    }
    if (strcmp(section, "gateway") == 0) {
        char **slot = strcmp(name, "curve_key") == 0 ? &cfg->curve_key
                    : strcmp(name, "audit_key") == 0 ? &cfg->audit_key
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
        return disclosure_setting(name, value, &cfg->disclosure, &cfg->dominance,
                                  &cfg->max_queries_per_hour, cause);
    } else if (strcmp(section, "project") == 0 || strncmp(section, "project ", 8) == 0) {
        /* Projects moved to the gateway database so that every change to
         * one is an audit event; a section here would be silently ignored
         * rules, which is worse than a refusal. */
        hearth_cause_set(cause, "projects are managed with `hearth-gateway project add` "
                         "(docs/ig-officer.md), not in the config");
        return 0;
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
    } else if (strncmp(section, "node ", 5) == 0) {
        return peer_setting(ctx, true, section + 5, name, value, cause);
    } else if (strncmp(section, "analyst ", 8) == 0) {
        return peer_setting(ctx, false, section + 8, name, value, cause);
    }
    hearth_cause_set(cause, "unknown setting '%s' in section [%s]", name, section);
    return 0;
}

/* What no single line shows: a setting a section needs but never gave,
 * and a protection range wider than the threshold (a hidden cell's
 * attacker interval holds at most threshold values of 1..threshold, so no
 * table could ever be released). */
static hearth_err_t check_rules(const load_ctx_t *ctx, const char *path, char **cause)
{
    const gw_config_t *cfg = ctx->cfg;
    const char *missing = !cfg->curve_key ? "[gateway] curve_key"
                        : !cfg->audit_key ? "[gateway] audit_key"
                        : !cfg->node_endpoint ? "[gateway] node_endpoint"
                        : !cfg->analyst_endpoint ? "[gateway] analyst_endpoint" : NULL;
    if (missing) {
        hearth_cause_set(cause, "%s: missing setting %s", path, missing);
        return HEARTH_ERR_CONFIG;
    }
    for (size_t i = 0; i < cfg->nnodes; i++) {
        unsigned set = ctx->node_set[i];
        if ((set & PEER_PUBLIC_KEY) && (set & PEER_RECEIPT_KEY))
            continue;
        hearth_cause_set(cause, "%s: missing setting [node %s] %s", path, cfg->nodes[i].name,
                         (set & PEER_PUBLIC_KEY) ? "receipt_key" : "public_key");
        return HEARTH_ERR_CONFIG;
    }
    for (size_t i = 0; i < cfg->nanalysts; i++) {
        if (ctx->analyst_set[i] & PEER_PUBLIC_KEY)
            continue;
        hearth_cause_set(cause, "%s: missing setting [analyst %s] public_key", path,
                         cfg->analysts[i].name);
        return HEARTH_ERR_CONFIG;
    }
    if (cfg->disclosure.protection > cfg->disclosure.threshold) {
        hearth_cause_set(cause, "%s: [disclosure] protection %u is more than the threshold %u "
                         "(a hidden cell's range can hold at most threshold values)", path,
                         cfg->disclosure.protection, cfg->disclosure.threshold);
        return HEARTH_ERR_CONFIG;
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
    load_ctx_t ctx = {.cfg = cfg, .dir = dir};
    hearth_err_t rc = hearth_ini_load(path, on_setting, &ctx, cause);
    if (rc != HEARTH_OK)
        goto fail;
    if ((rc = check_rules(&ctx, path, cause)) != HEARTH_OK)
        goto fail;
    if (cfg->database == NULL)
        cfg->database = hearth_path_resolve(dir, "gateway.db");
    free(ctx.node_set);
    free(ctx.analyst_set);
    free(dir);
    *out = cfg;
    return HEARTH_OK;
fail:
    free(ctx.node_set);
    free(ctx.analyst_set);
    free(dir);
    gw_config_destroy(&cfg);
    return rc;
}

static const gw_peer_t *find_peer(const gw_peer_t *list, size_t n, const char *name)
{
    if (name == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (strcmp(list[i].name, name) == 0)
            return &list[i];
    return NULL;
}

const gw_peer_t *gw_config_node(const gw_config_t *cfg, const char *name)
{
    return cfg ? find_peer(cfg->nodes, cfg->nnodes, name) : NULL;
}

const gw_peer_t *gw_config_analyst(const gw_config_t *cfg, const char *name)
{
    return cfg ? find_peer(cfg->analysts, cfg->nanalysts, name) : NULL;
}

void gw_config_destroy(gw_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    gw_config_t *self = *self_p;
    free(self->curve_key);
    free(self->audit_key);
    free(self->node_endpoint);
    free(self->analyst_endpoint);
    free(self->ready_file);
    free(self->database);
    free(self->nodes);
    free(self->analysts);
    free(self);
    *self_p = NULL;
}
