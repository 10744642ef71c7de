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
    /* The project whose last line ended in a comma: its list goes on in
     * the next (indented) line, which inih hands over under the same name. */
    node_config_project_t *open;
} load_ctx_t;

bool node_config_name_valid(const char *s)
{
    return hearth_name_valid(s);
}

bool node_config_project_valid(const char *s)
{
    size_t n = s ? strnlen(s, NODE_CONFIG_PROJECT_MAX + 1) : 0;
    if (n == 0 || n > NODE_CONFIG_PROJECT_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return false;
    }
    return true;
}

static node_config_project_t *find_project(const node_config_t *cfg, const char *id)
{
    for (size_t i = 0; i < cfg->nprojects; i++)
        if (strcmp(cfg->projects[i].id, id) == 0)
            return &cfg->projects[i];
    return NULL;
}

static bool project_has(const node_config_project_t *p, const char *dataset)
{
    for (size_t i = 0; i < p->ndatasets; i++)
        if (strcmp(p->datasets[i], dataset) == 0)
            return true;
    return false;
}

/* Adds the comma-separated datasets of one line to p. A line ending in a
 * comma leaves the list open for the next one. */
static int add_datasets(load_ctx_t *ctx, node_config_project_t *p, const char *value,
                        char **cause)
{
    ctx->open = NULL;
    const char *s = value;
    for (;;) {
        while (*s == ' ' || *s == '\t')
            s++;
        size_t len = strcspn(s, ",");
        size_t end = len;
        while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
            end--;
        bool last = s[len] == '\0';
        if (end == 0) {
            /* Only the end of a line may be empty: after a final comma. */
            if (last && s != value && p->ndatasets > 0 && !p->all) {
                ctx->open = p;
                return 1;
            }
            hearth_cause_set(cause, "[projects] project '%s': an empty dataset name (list "
                             "dataset names separated by commas, or *)", p->id);
            return 0;
        }
        char name[NODE_NAME_MAX + 2];
        if (end <= NODE_NAME_MAX) {
            memcpy(name, s, end);
            name[end] = '\0';
        } else {
            name[0] = '\0';
        }
        if (strcmp(name, "*") == 0) {
            if (p->ndatasets > 0 || p->all || !last || s != value) {
                hearth_cause_set(cause, "[projects] project '%s': * (every dataset) must "
                                 "stand alone", p->id);
                return 0;
            }
            p->all = true;
            return 1;
        }
        if (p->all) {
            hearth_cause_set(cause, "[projects] project '%s': * (every dataset) must stand "
                             "alone", p->id);
            return 0;
        }
        if (!node_config_name_valid(name)) {
            hearth_cause_set(cause, "[projects] project '%s': a dataset name must be 1-63 of "
                             "a-z, 0-9 and _, starting with a letter (this node's own "
                             "dataset names, without the node's)", p->id);
            return 0;
        }
        if (project_has(p, name)) {
            hearth_cause_set(cause, "[projects] project '%s' lists dataset '%s' twice", p->id,
                             name);
            return 0;
        }
        if (p->ndatasets == NODE_CONFIG_MAX_DATASETS) {
            hearth_cause_set(cause, "[projects] project '%s' lists more than %d datasets",
                             p->id, NODE_CONFIG_MAX_DATASETS);
            return 0;
        }
        p->datasets = hearth_reallocarray(p->datasets, p->ndatasets + 1, sizeof *p->datasets);
        p->datasets[p->ndatasets++] = hearth_strdup(name);
        if (last)
            return 1;
        s += len + 1;
    }
}

static int on_project(load_ctx_t *ctx, const char *name, const char *value, char **cause)
{
    node_config_t *cfg = ctx->cfg;
    if (ctx->open && strcmp(ctx->open->id, name) == 0)
        return add_datasets(ctx, ctx->open, value, cause);
    if (ctx->open) {
        hearth_cause_set(cause, "[projects] project '%s': its list of datasets ends with a "
                         "comma", ctx->open->id);
        return 0;
    }
    if (!node_config_project_valid(name)) {
        hearth_cause_set(cause, "[projects] a project id must be 1-63 of a-z, 0-9, '_', '.' "
                         "and '-'");
        return 0;
    }
    if (find_project(cfg, name)) {
        hearth_cause_set(cause, "[projects] project '%s' is listed twice", name);
        return 0;
    }
    if (cfg->nprojects == NODE_CONFIG_MAX_PROJECTS) {
        hearth_cause_set(cause, "[projects] more than %d projects", NODE_CONFIG_MAX_PROJECTS);
        return 0;
    }
    cfg->projects = hearth_reallocarray(cfg->projects, cfg->nprojects + 1,
                                        sizeof *cfg->projects);
    node_config_project_t *p = &cfg->projects[cfg->nprojects++];
    memset(p, 0, sizeof *p);
    strcpy(p->id, name);
    return add_datasets(ctx, p, value, cause);
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
    if (strcmp(section, "projects") == 0)
        return on_project(ctx, name, value, cause);
    if (ctx->open) {
        hearth_cause_set(cause, "[projects] project '%s': its list of datasets ends with a "
                         "comma", ctx->open->id);
        return 0;
    }
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
        if (strcmp(name, "signing_key") == 0)
            return set_path(ctx, &cfg->signing_key, value), 1;
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
        if (strcmp(name, "audit_key") == 0)
            return set_path(ctx, &cfg->audit_key, value), 1;
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
                        : !ctx.cfg->signing_key ? "[node] signing_key"
                        : !ctx.cfg->gateway_endpoint ? "[gateway] endpoint"
                        : !ctx.cfg->gateway_public ? "[gateway] public_key"
                        : !ctx.cfg->audit_key ? "[gateway] audit_key" : NULL;
    if (ctx.open) {
        /* The file ended in the middle of a list. */
        hearth_cause_set(cause, "%s: [projects] project '%s': its list of datasets ends with "
                         "a comma", path, ctx.open->id);
        rc = HEARTH_ERR_CONFIG;
        goto fail;
    }
    if (missing) {
        hearth_cause_set(cause, "%s: missing setting %s", path, missing);
        rc = HEARTH_ERR_CONFIG;
        goto fail;
    }
    char *why = NULL;
    if ((rc = tlog_verifier_load(ctx.cfg->audit_key, &ctx.cfg->audit, &why)) != HEARTH_OK) {
        hearth_cause_set(cause, "%s: [gateway] audit_key: %s", path,
                         why ? why : hearth_strerror(rc));
        free(why);
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
    free(self->signing_key);
    free(self->audit_key);
    for (size_t i = 0; i < self->nprojects; i++) {
        for (size_t k = 0; k < self->projects[i].ndatasets; k++)
            free(self->projects[i].datasets[k]);
        free(self->projects[i].datasets);
    }
    free(self->projects);
    free(self);
    *self_p = NULL;
}

bool node_config_approves(const node_config_t *self, const char *project, const char *dataset,
                          char **cause)
{
    /* Ids and names come from the gateway: quoted only when plain. */
    if (!node_config_project_valid(project)) {
        hearth_cause_set(cause, "a malformed project id is not approved by this node");
        return false;
    }
    const node_config_project_t *p = find_project(self, project);
    if (p == NULL) {
        hearth_cause_set(cause, "project '%s' is not approved by this node", project);
        return false;
    }
    if (dataset == NULL || !node_config_name_valid(dataset)) {
        hearth_cause_set(cause, "a malformed dataset name is not approved for project '%s' "
                         "by this node", project);
        return false;
    }
    if (!p->all && !project_has(p, dataset)) {
        hearth_cause_set(cause, "dataset '%s' is not approved for project '%s' by this node",
                         dataset, project);
        return false;
    }
    return true;
}
