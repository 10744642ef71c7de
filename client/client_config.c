#include "client_config.h"
#include "hearth_file.h"
#include "hearth_ini.h"
#include "hearth_mem.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    client_config_t *cfg;
    const char *dir;
} load_ctx_t;

static int on_setting(void *user, const char *section, const char *name, const char *value,
                      char **cause)
{
    load_ctx_t *ctx = user;
    client_config_t *cfg = ctx->cfg;
    if (strcmp(section, "client") == 0) {
        char **path = strcmp(name, "gateway_public_key") == 0 ? &cfg->gateway_public
                    : strcmp(name, "curve_key") == 0 ? &cfg->curve_key
                    : strcmp(name, "audit_key") == 0 ? &cfg->audit_key
                    : strcmp(name, "audit_state") == 0 ? &cfg->audit_state : NULL;
        if (path) {
            free(*path);
            *path = hearth_path_resolve(ctx->dir, value);
            return 1;
        }
        char **text = strcmp(name, "gateway") == 0 ? &cfg->gateway
                    : strcmp(name, "project") == 0 ? &cfg->project : NULL;
        if (text) {
            free(*text);
            *text = hearth_strdup(value);
            return 1;
        }
        if (strcmp(name, "timeout_ms") == 0) {
            char *end = NULL;
            errno = 0;
            unsigned long v = strtoul(value, &end, 10);
            if (errno || *end || v < 100 || v > 3600000) {
                hearth_cause_set(cause, "timeout_ms must be 100..3600000");
                return 0;
            }
            cfg->timeout_ms = (uint32_t)v;
            return 1;
        }
    }
    hearth_cause_set(cause, "unknown setting '%s' in section [%s]", name, section);
    return 0;
}

hearth_err_t client_config_load(const char *path, client_config_t **out, char **cause)
{
    *out = NULL;
    client_config_t *cfg = hearth_calloc(1, sizeof *cfg);
    cfg->timeout_ms = 60000;
    char *dir = hearth_path_dirname(path);
    load_ctx_t ctx = {.cfg = cfg, .dir = dir};
    hearth_err_t rc;
    if ((rc = hearth_ini_load(path, on_setting, &ctx, cause)) != HEARTH_OK)
        goto fail;
    const char *missing = !cfg->gateway ? "gateway"
                        : !cfg->gateway_public ? "gateway_public_key"
                        : !cfg->curve_key ? "curve_key" : NULL;
    if (missing) {
        hearth_cause_set(cause, "%s: missing setting [client] %s", path, missing);
        rc = HEARTH_ERR_CONFIG;
        goto fail;
    }
    if (cfg->audit_state == NULL)
        cfg->audit_state = hearth_asprintf("%s.checkpoint", path);
    free(dir);
    *out = cfg;
    return HEARTH_OK;
fail:
    free(dir);
    client_config_destroy(&cfg);
    return rc;
}

void client_config_destroy(client_config_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    client_config_t *self = *self_p;
    free(self->gateway);
    free(self->gateway_public);
    free(self->curve_key);
    free(self->project);
    free(self->audit_key);
    free(self->audit_state);
    free(self);
    *self_p = NULL;
}
