#include "hearth_ini.h"

#include <ini.h>
#include <stdlib.h>

typedef struct {
    hearth_ini_handler_t handler;
    void *user;
    char *cause;
} trampoline_t;

static int on_setting(void *user, const char *section, const char *name, const char *value)
{
    trampoline_t *t = user;
    /* inih carries on past a refused line and reports the first one; keep
     * that line's reason, not the last. */
    char *cause = NULL;
    int ok = t->handler(t->user, section, name, value, &cause);
    if (!ok && t->cause == NULL)
        t->cause = cause;
    else
        free(cause);
    return ok;
}

hearth_err_t hearth_ini_load(const char *path, hearth_ini_handler_t handler, void *user,
                             char **cause)
{
    trampoline_t t = {handler, user, NULL};
    int line = ini_parse(path, on_setting, &t);
    hearth_err_t rc = HEARTH_OK;
    if (line < 0) {
        hearth_cause_set(cause, "cannot read config '%s'", path);
        rc = HEARTH_ERR_NOT_FOUND;
    } else if (line > 0) {
        hearth_cause_set(cause, "%s:%d: %s", path, line, t.cause ? t.cause : "syntax error");
        rc = HEARTH_ERR_CONFIG;
    }
    free(t.cause);
    return rc;
}
