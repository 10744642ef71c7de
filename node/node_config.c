#include "node_config.h"
#include "hearth_file.h"
#include "hearth_ini.h"
#include "hearth_mem.h"
#include "hearth_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    node_config_t *cfg;
    const char *dir;
} load_ctx_t;

bool node_config_name_valid(const char *s)
{
    return hearth_name_valid(s);
}

/* A whole number from lo to hi in plain decimal digits only: no sign,
 * blanks, hex or exponent. */
static bool parse_whole(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

static void set_path(load_ctx_t *ctx, char **slot, const char *value)
{
    free(*slot);
    *slot = hearth_path_resolve(ctx->dir, value);
}

static int on_setting(void *user, const char *section, const char *name, const char *value,
                      char **cause)
{
    load_ctx_t *ctx = user;
    node_config_t *cfg = ctx->cfg;
    if (strcmp(section, "node") == 0) {
        if (strcmp(name, "name") == 0) {
            if (!node_config_name_valid(value)) {
                hearth_cause_set(cause, "[node] name must be 1-63 of a-z, 0-9 "
                                 "and _, starting with a letter");
                return 0;
            }
            strcpy(cfg->name, value);
            return 1;
        }
        if (strcmp(name, "database") == 0)
            return set_path(ctx, &cfg->database, value), 1;
        if (strcmp(name, "linkage_key") == 0)
            return set_path(ctx, &cfg->linkage_key, value), 1;
        if (strcmp(name, "curve_key") == 0)
            return set_path(ctx, &cfg->curve_key, value), 1;
        if (strcmp(name, "ledger") == 0)
            return set_path(ctx, &cfg->ledger, value), 1;
        if (strcmp(name, "min_cohort") == 0) {
            /* Only raised: a partner may protect its people more than the
             * partnership's floor, never less. */
            if (!parse_whole(value, NODE_CONFIG_MIN_COHORT_DEFAULT, NODE_CONFIG_MIN_COHORT_MAX,
                             &cfg->min_cohort)) {
                hearth_cause_set(cause, "[node] min_cohort must be a whole number from %d "
                                 "to %d", NODE_CONFIG_MIN_COHORT_DEFAULT,
                                 NODE_CONFIG_MIN_COHORT_MAX);
                return 0;
            }
            return 1;
        }
        if (strcmp(name, "min_cell") == 0) {
            if (!parse_whole(value, 0, NODE_CONFIG_MIN_CELL_MAX, &cfg->min_cell)) {
                hearth_cause_set(cause, "[node] min_cell must be a whole number from 0 "
                                 "to %d (0: no floor of this node's own)",
                                 NODE_CONFIG_MIN_CELL_MAX);
                return 0;
            }
            return 1;
        }
    } else if (strcmp(section, "gateway") == 0) {
        if (strcmp(name, "endpoint") == 0) {
            free(cfg->gateway_endpoint);
            cfg->gateway_endpoint = hearth_strdup(value);
            return 1;
        }
        if (strcmp(name, "public_key") == 0)
            return set_path(ctx, &cfg->gateway_public, value), 1;
    }
    hearth_cause_set(cause, "unknown setting '%s' in section [%s]", name, section);
    return 0;
}

hearth_err_t node_config_load(const char *path, node_config_t **out, char **cause)
{
    *out = NULL;
    load_ctx_t ctx = {.cfg = hearth_calloc(1, sizeof(node_config_t))};
    ctx.cfg->min_cohort = NODE_CONFIG_MIN_COHORT_DEFAULT;
    char *dir = hearth_path_dirname(path);
    ctx.dir = dir;
    hearth_err_t rc = HEARTH_OK;
    if ((rc = hearth_ini_load(path, on_setting, &ctx, cause)) != HEARTH_OK)
        goto fail;
    const char *missing = ctx.cfg->name[0] == '\0' ? "[node] name"
                        : !ctx.cfg->database ? "[node] database"
                        : !ctx.cfg->linkage_key ? "[node] linkage_key"
                        : !ctx.cfg->curve_key ? "[node] curve_key"
                        : !ctx.cfg->gateway_endpoint ? "[gateway] endpoint"
                        : !ctx.cfg->gateway_public ? "[gateway] public_key" : NULL;
    if (missing) {
        hearth_cause_set(cause, "%s: missing setting %s", path, missing);
        rc = HEARTH_ERR_CONFIG;
        goto fail;
    }
    if (ctx.cfg->ledger == NULL)
        ctx.cfg->ledger = hearth_asprintf("%s.ledger", ctx.cfg->database);
    free(dir);
    *out = ctx.cfg;
    return HEARTH_OK;
fail:
    free(dir);
    node_config_destroy(&ctx.cfg);
    return rc;
}

void node_config_destroy(node_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    node_config_t *self = *self_p;
    free(self->database);
    free(self->linkage_key);
    free(self->curve_key);
    free(self->ledger);
    free(self->gateway_endpoint);
    free(self->gateway_public);
    free(self);
    *self_p = NULL;
}
