#include "gw_config.h"
#include "hearth_file.h"
#include "hearth_ini.h"
#include "hearth_mem.h"
#include "hearth_util.h"
#include "keys_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

typedef struct {
    gw_config_t *cfg;
    const char *dir;
} load_ctx_t;

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
    if (strcmp(name, "linkage_key") == 0) {
        hearth_cause_set(cause, "the gateway must never hold the linkage key: remove "
                         "the linkage_key setting (only nodes have it)");
        return 0;
    }
    if (strcmp(section, "gateway") == 0) {
        char **slot = strcmp(name, "curve_key") == 0 ? &cfg->curve_key
                    : strcmp(name, "ready_file") == 0 ? &cfg->ready_file : NULL;
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
        /* A deployment may be stricter than the brief's defaults, never
         * looser. */
        if (strcmp(name, "threshold") == 0) {
            if (!parse_uint(value, GW_SDC_DEFAULT_THRESHOLD, 1000, &v)) {
                hearth_cause_set(cause, "[disclosure] threshold must be %d..1000 "
                                 "(stricter than the default, never looser)",
                                 GW_SDC_DEFAULT_THRESHOLD);
                return 0;
            }
            cfg->disclosure.threshold = (uint32_t)v;
            return 1;
        }
        if (strcmp(name, "rounding") == 0) {
            if (!parse_uint(value, GW_SDC_DEFAULT_ROUNDING, 1000, &v)) {
                hearth_cause_set(cause, "[disclosure] rounding must be %d..1000 "
                                 "(stricter than the default, never looser)",
                                 GW_SDC_DEFAULT_ROUNDING);
                return 0;
            }
            cfg->disclosure.rounding = (uint32_t)v;
            return 1;
        }
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
    hearth_err_t rc;
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
    free(dir);
    *out = cfg;
    return HEARTH_OK;
fail:
    free(dir);
    gw_config_destroy(&cfg);
    return rc;
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
    free(self->nodes);
    free(self->analysts);
    free(self);
    *self_p = NULL;
}
